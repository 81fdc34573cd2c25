//! Unit tests of check_afs's options and their dispatch to the modes (the modes'
//! evaluations are tested in their own modules).

use super::*;
use crate::plugin::runner::validate;
use crate::plugin::Thresholds;

fn check(argv: &[&str]) -> Result<AfsCheck, UsageError> {
    validate::<AfsCheck>(argv)
}

#[test]
fn bad_options_are_usage_errors() {
    for bad in [
        &["rx"][..],
        &["rx", "-H", ""],
        &["rx", "-H", "a", "-p", "0"],
        &["rx", "-H", "a", "-w", "5:1"],
        &["quota"],
        &["quota", "--volume", " "],
        &["quota", "--volume", "v", "-H", "a"],
        &["quota", "-H", "a", "--regex", "("],
        &["quota", "-H", "a", "--partition", "/vicep1"],
        &["space", "-H", "a", "-w", "101"],
        &["bos"],
        &["nosuchmode"],
    ] {
        assert!(check(bad).is_err(), "{bad:?}");
    }
    for (argv, message) in [
        (
            &["rx", "-H", "a\nb"][..],
            "invalid host 'a\\nb': '\\n' is not allowed in a host name",
        ),
        (
            &["bos", "-H", "ok,a b"],
            "invalid host 'a b': ' ' is not allowed in a host name",
        ),
        (
            &["quota", "-H", "a", "--partition", "x\ny"],
            "partition 'x\\ny' is not a name such as a, vicepa or /vicepa",
        ),
    ] {
        assert_eq!(check(argv).unwrap_err().0, message, "{argv:?}");
    }
    let long = "a".repeat(100_000);
    for mode in ["rx", "rxstats", "ubik", "space", "bos", "quota"] {
        let e = check(&[mode, "-H", &long]).unwrap_err().0;
        assert!(
            e.len() < 300 && e.ends_with("longer than 253 characters"),
            "{mode}: {e}"
        );
    }
    let c = check(&["rx", "-H", "a,b", "-p", "7002,7003", "-t", "5"]).unwrap();
    let Config::Rx(rx) = &c.config else { panic!() };
    assert_eq!(rx.targets.len(), 4);
    assert_eq!(c.budget, Duration::from_millis(4500));
    let c = check(&["quota", "-H", "a", "--partition", "b"]).unwrap();
    let Config::Quota(q) = &c.config else {
        panic!()
    };
    assert_eq!(
        q.source,
        quota::VolumeSource::Servers(vec!["a".into()], Some("/vicepb".into()))
    );
}

/// The levels the mode `argv` names resolve to.
fn levels(argv: &[&str]) -> Thresholds {
    match check(argv).unwrap().config {
        Config::Rx(c) | Config::RxStats(c) => c.thresholds,
        Config::Quota(c) => c.percent,
        Config::Space(c) => c.percent,
        Config::Ubik(_) | Config::Bos(_) => panic!("{argv:?} has no levels"),
    }
}

#[test]
fn levels_keep_plain_numbers_and_take_units() {
    // the option values, and the ranges they must give
    for (argv, w, c) in [
        // rx: seconds, as before, and now 500ms or 1s
        (
            &["rx", "-H", "a", "-w", "0.5", "-c", "1"][..],
            Some("0.5"),
            Some("1"),
        ),
        (
            &["rx", "-H", "a", "-w", "500ms", "-c", "1s"],
            Some("0.5"),
            Some("1"),
        ),
        (&["rx", "-H", "a", "-w", "@0.1:0.2"], Some("@0.1:0.2"), None),
        // rxstats: calls waiting, a count
        (
            &["rxstats", "-H", "a", "-w", "5", "-c", "10:"],
            Some("5"),
            Some("10:"),
        ),
        // quota and space: percent, their defaults as before, now also 80% or a range
        (&["quota", "-H", "a"], Some("85"), Some("95")),
        (&["space", "-H", "a"], Some("90"), Some("95")),
        (
            &["quota", "--volume", "v", "-w", "80%", "-c", "@90:100"],
            Some("80"),
            Some("@90:100"),
        ),
        (
            &["space", "-H", "a", "-w", "0", "-c", "100"],
            Some("0"),
            Some("100"),
        ),
    ] {
        let range = |r: &str| r.parse().unwrap();
        let want = Thresholds::new(w.map(range), c.map(range));
        assert_eq!(levels(argv), want, "{argv:?}");
    }
    assert!(check(&["rxstats", "-H", "a", "-w", "500ms"]).is_err());
    for (argv, message) in [
        (
            &["space", "-H", "a", "-c", "120"][..],
            "invalid value '120' for '--critical <PERCENT>': invalid threshold '120': a percentage must be from 0 to 100",
        ),
        (
            &["quota", "-H", "a", "-w", "2G"],
            "invalid value '2G' for '--warning <PERCENT>': invalid threshold '2G': unknown unit 'G'",
        ),
        (
            &["rx", "-H", "a", "-c", "5%"],
            "invalid value '5%' for '--critical <SECONDS>': invalid threshold '5%': this option takes a duration (2.5, 500ms, 2m)",
        ),
    ] {
        assert_eq!(check(argv).unwrap_err().0, message, "{argv:?}");
    }
}

#[test]
fn the_command_is_well_formed_and_each_mode_names_its_servers_and_levels() {
    use clap::CommandFactory;
    Args::command().debug_assert();
    let mut cmd = Args::command();
    let mut help = |mode: &str| {
        cmd.find_subcommand_mut(mode)
            .unwrap()
            .render_long_help()
            .to_string()
    };
    let quota = help("quota");
    for part in [
        "File servers whose volumes are looked at (vos listvol)",
        "Percent of the quota used that makes a volume WARNING",
        "[default: 85]",
        "[default: 95]",
    ] {
        assert!(quota.contains(part), "{part}: {quota}");
    }
    assert!(help("space").contains("Percent used that makes a partition CRITICAL"));
    assert!(help("bos").contains("Servers running a bosserver (comma-separated or repeated)"));
    assert!(help("ubik").contains("Every database server of the set"));
    assert!(help("rxstats").contains("Calls waiting for a thread that make the result WARNING"));
    assert!(help("rx").contains("Response time that makes the result WARNING, in seconds"));
}

#[test]
fn facts_of_another_mode_are_an_internal_error_not_a_verdict() {
    use crate::plugin::{Check, State};
    let c = check(&["bos", "-H", "a"]).unwrap();
    let r = c.evaluate(&Facts::Rx(vec![]));
    assert_eq!(r.state(), State::Unknown);
    assert_eq!(r.summary, "internal error: facts of another mode");
    assert_eq!(
        c.evaluate(&Facts::Bos(vec![])).summary,
        "0 instances running normally"
    );
}
