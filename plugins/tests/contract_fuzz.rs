//! Fuzzing of every parser of the plugin contract that user or server input reaches:
//! ranges, levels (sizes, percentages, durations, rates), sizes, timeouts, states,
//! perfdata, host names, ports, the echo of input, and the NRPE decoder.
//!
//! Inputs mix arbitrary Unicode, control characters, multibyte digits and the characters
//! each grammar gives meaning to. No input may panic, and what parses must keep each
//! parser's promises (round trips, bounds, one-line errors).
//!
//! In the test suite each target runs for a short time. For a long run:
//!
//! ```sh
//! FUZZ_SECONDS=600 cargo test --release -p hcoop-plugins --test contract_fuzz -- --nocapture --test-threads 1
//! ```
//!
//! which prints how many inputs each target took.

use hcoop_plugins::plugin::perfdata::parse_perfdata;
use hcoop_plugins::plugin::units::parse_size;
use hcoop_plugins::plugin::{
    parse_host, parse_level, parse_port, shown, Range, State, TimeoutSpec, Unit,
};
use hcoop_plugins::proto::nrpe::{decode, frame_len, MAX_BUFFER_LEN};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRng, TestRunner};
use std::time::{Duration, Instant};

/// How long each target runs: `FUZZ_SECONDS`, else a short run for the test suite.
fn budget() -> Duration {
    std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_millis(1500))
}

/// Text from the alphabet a grammar cares about, with hostile characters mixed in.
fn text_from(alphabet: &'static str) -> BoxedStrategy<String> {
    let chars: Vec<char> = alphabet
        .chars()
        .chain("\n\r\t\0\u{1b}\u{7f}é１\u{301}\u{202e}\u{fffd}𝟘 ".chars())
        .collect();
    prop_oneof![
        3 => proptest::collection::vec(proptest::sample::select(chars), 0..24)
            .prop_map(|v| v.into_iter().collect::<String>()),
        1 => any::<String>(),
        1 => "\\PC{0,40}",
    ]
    .boxed()
}

/// Runs `check` on values of `strategy` until the budget is spent; a panic fails the
/// test with the input that caused it. Prints the number of inputs tried.
fn fuzz<T: std::fmt::Debug>(name: &str, strategy: impl Strategy<Value = T>, check: impl Fn(&T)) {
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let until = Instant::now() + budget();
    let mut n: u64 = 0;
    while Instant::now() < until {
        for _ in 0..256 {
            let value = strategy.new_tree(&mut runner).expect("a value").current();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&value)));
            if let Err(e) = outcome {
                let msg = e
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                panic!("{name}: input {value:?} failed: {msg}");
            }
            n += 1;
        }
    }
    println!("{name}: {n} inputs, no panic");
}

/// An error message fit for one output line.
fn one_line(e: &str) {
    assert!(
        !e.contains('\n') && !e.contains('\r'),
        "multi-line error: {e:?}"
    );
    assert!(e.len() < 1024, "error of {} bytes", e.len());
}

const RANGE_CHARS: &str = "0123456789.:@~-+eE ";

#[test]
fn ranges() {
    fuzz("range", text_from(RANGE_CHARS), |t| {
        match t.parse::<Range>() {
            Ok(r) => {
                let again: Range = r.to_string().parse().expect("the canonical text parses");
                assert_eq!(again, r, "round trip of {t:?} through {r}");
            }
            Err(e) => one_line(&e.to_string()),
        }
    });
}

#[test]
fn levels() {
    let sets: [&[Unit]; 5] = [
        &[Unit::Count],
        &[Unit::Bytes, Unit::Percent],
        &[Unit::Percent],
        &[Unit::Seconds],
        &[Unit::Rate, Unit::Count],
    ];
    fuzz(
        "level",
        (
            text_from("0123456789.:@~-%kKmMgGtTpPbBiIsShHdD/ "),
            0..sets.len(),
        ),
        |(t, i)| match parse_level(t, sets[*i]) {
            Ok(l) => {
                assert!(sets[*i].contains(&l.unit), "{l:?}");
                if l.unit == Unit::Percent {
                    for end in [l.range.start(), l.range.end()].into_iter().flatten() {
                        assert!((0.0..=100.0).contains(&end), "{t:?} gave {end}%");
                    }
                }
            }
            Err(e) => one_line(&e),
        },
    );
}

#[test]
fn sizes() {
    fuzz("size", text_from("0123456789.kKmMgGtTpPbBiI -+e"), |t| {
        if let Err(e) = parse_size(t) {
            one_line(&e)
        }
    });
}

#[test]
fn timeouts_and_states() {
    fuzz(
        "timeout",
        text_from("0123456789.:-+eE okwarningcriticalunknownOKWU"),
        |t| {
            match t.parse::<TimeoutSpec>() {
                Ok(s) => assert!(s.duration > Duration::ZERO && s.duration.as_secs() <= 86_400),
                Err(e) => one_line(&e),
            }
            if let Err(e) = t.parse::<State>() {
                one_line(&e)
            }
        },
    );
}

#[test]
fn perfdata() {
    fuzz(
        "perfdata",
        text_from("abc'= ;0123456789.:@~-%sBKMGTPc,_/"),
        |t| {
            for item in parse_perfdata(t) {
                match item {
                    Ok(p) => {
                        let text = p.to_string();
                        let again = parse_perfdata(&text);
                        assert_eq!(again.len(), 1, "{text:?} from {t:?}");
                        // what prints reads back to an item that prints the same
                        let again = again[0].as_ref().map(|a| a.to_string());
                        assert_eq!(again.as_deref(), Ok(text.as_str()), "from {t:?}");
                    }
                    Err(e) => {
                        let _ = e.to_string();
                    }
                }
            }
        },
    );
}

#[test]
fn hosts_ports_and_echo() {
    fuzz("host", text_from("abcxyz019.-_:[]%"), |t| {
        match parse_host(t) {
            Ok(h) => {
                assert!(h.len() <= 253, "{} bytes", h.len());
                assert!(
                    !h.chars().any(|c| c.is_control() || c.is_whitespace()),
                    "{h:?}"
                );
            }
            Err(e) => one_line(&e),
        }
        match parse_port(t) {
            Ok(p) => assert!(p >= 1),
            Err(e) => one_line(&e),
        }
        let s = shown(t);
        assert!(!s.chars().any(|c| c.is_control()), "{s:?}");
        assert!(s.chars().count() <= 240, "{} chars", s.chars().count());
    });
}

#[test]
fn nrpe_decoder() {
    fuzz(
        "nrpe",
        proptest::collection::vec(any::<u8>(), 0..1100),
        |bytes| {
            let _ = frame_len(bytes, MAX_BUFFER_LEN);
            if let Ok(p) = decode(bytes) {
                let again = decode(&p.encode()).expect("a re-encoded packet decodes");
                assert_eq!(again, p);
            }
        },
    );
}
