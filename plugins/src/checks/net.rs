//! check_net: per-interface throughput from /proc/net/dev. Rates in and out are
//! computed against the counters of the previous run, kept in the state directory; a
//! 32-bit counter wrap is undone and an interface reset (counters going back, a new
//! interface index) starts over. Thresholds are in bits per second (`100M`) or percent
//! of the link speed (`80%`, from /sys/class/net/IF/speed); errors and drops since the
//! previous run have their own thresholds.

use crate::host::net::{read_link, read_net_dev};
use crate::host::statefile;
use crate::plugin::{
    judge, parse_level, shown, Check, CheckResult, CommonArgs, Observed, PerfData, Range, State,
    Thresholds, Unit, Uom, UsageError, Work,
};
use clap::Parser;
use std::path::PathBuf;
use std::str::FromStr;

/// A rate threshold: bits per second (suffixes k, M, G, T: powers of 1000) or percent
/// of the link speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RateLevel {
    Bits(Range),
    Percent(Range),
}

impl FromStr for RateLevel {
    type Err = String;

    /// The percent and the number go through the contract's checked parser (a percent
    /// from 0 to 100); the bit-rate suffix is this check's own (powers of 1000).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        if t.ends_with('%') {
            return parse_level(t, &[Unit::Percent]).map(|l| RateLevel::Percent(l.range));
        }
        let (num, factor) = match t.chars().last() {
            Some(c) if c.is_ascii_alphabetic() => {
                let f = match c.to_ascii_lowercase() {
                    'k' => 1e3,
                    'm' => 1e6,
                    'g' => 1e9,
                    't' => 1e12,
                    _ => {
                        return Err(format!(
                            "'{}': unknown rate unit '{c}' (use k, M, G, T bits/s or %)",
                            shown(text)
                        ))
                    }
                };
                // an ASCII letter: cut before it, at a character boundary
                (t.strip_suffix(c).unwrap_or(t), f)
            }
            _ => (t, 1.0),
        };
        let l = parse_level(num, &[Unit::Count])?;
        Ok(RateLevel::Bits(l.range.scaled(factor)))
    }
}

/// Command line of check_net.
#[derive(Parser, Debug)]
#[command(
    name = "check_net",
    version,
    about = "Checks network interface throughput (bits/s in and out since the previous run), errors and drops.\n\nThe first run only records the counters. Rate thresholds: bits/s with k, M, G suffixes (powers of 1000), or a percent of the link speed (80%).\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, missing interface, unreadable state, internal error). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Interface to check (repeatable; default every interface but lo)
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interfaces: Vec<String>,

    /// Warning on the rate in or out (bits/s, or % of link speed)
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "RATE",
        allow_hyphen_values = true
    )]
    pub warning: Option<RateLevel>,

    /// Critical on the rate in or out
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "RATE",
        allow_hyphen_values = true
    )]
    pub critical: Option<RateLevel>,

    /// Warning range on errors plus drops since the previous run
    #[arg(
        long = "errors-warning",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub errors_warning: Option<Range>,

    /// Critical range on errors plus drops since the previous run
    #[arg(
        long = "errors-critical",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub errors_critical: Option<Range>,

    /// Directory for the previous run's counters (created if missing)
    #[arg(long = "state-dir", value_name = "DIR", default_value = statefile::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,
}

/// The validated check.
#[derive(Debug)]
pub struct NetCheck {
    pub interfaces: Vec<String>,
    pub warning: Option<RateLevel>,
    pub critical: Option<RateLevel>,
    pub errors: Thresholds,
    pub state_dir: PathBuf,
    pub proc_root: PathBuf,
    pub sys_root: PathBuf,
}

/// The counters of one interface at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sample {
    /// Nanoseconds since the Unix epoch.
    pub time_ns: u128,
    pub ifindex: u64,
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub errors: u64,
    pub drops: u64,
}

impl Sample {
    fn render(&self) -> String {
        format!(
            "{} {} {} {} {} {}\n",
            self.time_ns, self.ifindex, self.rx_bytes, self.tx_bytes, self.errors, self.drops
        )
    }

    fn parse(text: &str) -> Option<Sample> {
        let f: Vec<&str> = text.split_whitespace().collect();
        if f.len() != 6 {
            return None;
        }
        Some(Sample {
            time_ns: f[0].parse().ok()?,
            ifindex: f[1].parse().ok()?,
            rx_bytes: f[2].parse().ok()?,
            tx_bytes: f[3].parse().ok()?,
            errors: f[4].parse().ok()?,
            drops: f[5].parse().ok()?,
        })
    }
}

/// One interface: its counters now and at the previous run, and its link speed.
#[derive(Debug, Clone, PartialEq)]
pub struct IfFacts {
    pub name: String,
    pub now: Sample,
    pub previous: Option<Sample>,
    /// Link speed in bits per second, when the driver reports one.
    pub speed: Option<u64>,
}

impl Check for NetCheck {
    type Args = Args;
    /// Each interface's counters now and at the previous run (each sample with its
    /// time), or why the counters or the state could not be read or saved.
    type Facts = Observed<Vec<IfFacts>>;
    const LABEL: &'static str = "NET";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        for i in &args.interfaces {
            // the kernel's rule (dev_valid_name): 1 to 15 bytes, not . or .., no '/',
            // ':' or white space; control characters are refused too
            let bad_char = |c: char| c == '/' || c == ':' || c.is_whitespace() || c.is_control();
            if i.is_empty() || i.len() > 15 || i == "." || i == ".." || i.chars().any(bad_char) {
                return Err(UsageError(format!(
                    "'{}' is not an interface name",
                    shown(i)
                )));
            }
        }
        Ok(NetCheck {
            interfaces: args.interfaces,
            warning: args.warning,
            critical: args.critical,
            errors: Thresholds::new(args.errors_warning, args.errors_critical),
            state_dir: args.state_dir,
            proc_root: PathBuf::from("/proc"),
            sys_root: PathBuf::from("/sys"),
        })
    }

    /// Reads the counters, the previous run's counters, and saves the new ones.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let time_ns = crate::host::clock::unix_now_nanos();
            let table = read_net_dev(&self.proc_root)?;
            let names: Vec<String> = if self.interfaces.is_empty() {
                table.keys().filter(|n| *n != "lo").cloned().collect()
            } else {
                self.interfaces.clone()
            };
            let mut out = Vec::new();
            for name in names {
                let c = table
                    .get(&name)
                    .ok_or_else(|| format!("no interface {name}"))?;
                let link = read_link(&self.sys_root, &name);
                let now = Sample {
                    time_ns,
                    ifindex: link.ifindex,
                    rx_bytes: c[0],
                    tx_bytes: c[3],
                    errors: c[1].saturating_add(c[4]),
                    drops: c[2].saturating_add(c[5]),
                };
                let state = statefile::path_for(&self.state_dir, "net", &name);
                let previous = statefile::read(&state)?.and_then(|t| Sample::parse(&t));
                statefile::write_atomic(&state, now.render().as_bytes())?;
                out.push(IfFacts {
                    name,
                    now,
                    previous,
                    speed: link.speed,
                });
            }
            Ok(out)
        })
    }

    /// UNKNOWN when the counters or their state could not be read or saved.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |f| evaluate(f, self))
    }
}

/// The increase of a counter, undoing a 32-bit wrap; `None` when it went back (a reset).
pub fn counter_delta(old: u64, new: u64) -> Option<u64> {
    if new >= old {
        Some(new - old)
    } else if old <= u64::from(u32::MAX) {
        Some(new + (1u64 << 32) - old)
    } else {
        None
    }
}

fn thresholds_for(check: &NetCheck, speed: Option<u64>) -> Result<Thresholds, String> {
    let conv = |l: Option<RateLevel>| -> Result<Option<Range>, String> {
        match l {
            None => Ok(None),
            Some(RateLevel::Bits(r)) => Ok(Some(r)),
            Some(RateLevel::Percent(r)) => speed
                .map(|s| Some(r.scaled(s as f64 / 100.0)))
                .ok_or_else(|| "link speed unknown, so percent thresholds cannot apply".into()),
        }
    };
    Ok(Thresholds::new(conv(check.warning)?, conv(check.critical)?))
}

/// Bits per second for people: `12.3 Mb/s`.
pub fn human_rate(bps: f64) -> String {
    let units = ["b/s", "kb/s", "Mb/s", "Gb/s", "Tb/s"];
    let mut v = bps;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{v:.0} {}", units[i])
    } else {
        format!("{v:.1} {}", units[i])
    }
}

/// Turns the facts into the result (pure): rates over the time between the samples.
fn evaluate(facts: &[IfFacts], check: &NetCheck) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut parts = Vec::new();
    for f in facts {
        let n = &f.name;
        r.push_perf(PerfData::new(format!("{n}_in"), f.now.rx_bytes).uom(Uom::Counter));
        r.push_perf(PerfData::new(format!("{n}_out"), f.now.tx_bytes).uom(Uom::Counter));
        r.push_perf(PerfData::new(format!("{n}_errors"), f.now.errors).uom(Uom::Counter));
        r.push_perf(PerfData::new(format!("{n}_drops"), f.now.drops).uom(Uom::Counter));
        let Some(prev) = f.previous else {
            parts.push(format!("{n}: first run, rates from the next run"));
            continue;
        };
        let secs = (f.now.time_ns.saturating_sub(prev.time_ns)) as f64 / 1e9;
        let deltas = (
            counter_delta(prev.rx_bytes, f.now.rx_bytes),
            counter_delta(prev.tx_bytes, f.now.tx_bytes),
            f.now.errors.checked_sub(prev.errors),
            f.now.drops.checked_sub(prev.drops),
        );
        let (Some(rx), Some(tx), Some(err), Some(drop)) = deltas else {
            parts.push(format!("{n}: counters reset, rates from the next run"));
            continue;
        };
        if prev.ifindex != f.now.ifindex || secs <= 0.0 {
            parts.push(format!("{n}: interface reset, rates from the next run"));
            continue;
        }
        let t = match thresholds_for(check, f.speed) {
            Ok(t) => t,
            Err(e) => {
                r.push_sub(State::Unknown, format!("{n}: {e}"));
                continue;
            }
        };
        let (in_bps, out_bps) = (rx as f64 * 8.0 / secs, tx as f64 * 8.0 / secs);
        let state = t.state(in_bps).worst(t.state(out_bps));
        let err_state = check.errors.state((err + drop) as f64);
        let mut text = format!(
            "{n}: in {}, out {}",
            human_rate(in_bps),
            human_rate(out_bps)
        );
        if let Some(s) = f.speed {
            text.push_str(&format!(
                " ({:.1}%/{:.1}% of {})",
                in_bps * 100.0 / s as f64,
                out_bps * 100.0 / s as f64,
                human_rate(s as f64)
            ));
        }
        if err + drop > 0 {
            text.push_str(&format!(", {err} errors, {drop} drops"));
        }
        r.push_sub(state.worst(err_state), text.clone());
        parts.push(text);
        let rate = |label: String, v: f64| {
            let mut p = PerfData::new(label, v.round() as u64).thresholds(&t).min(0);
            if let Some(s) = f.speed {
                p = p.max(s);
            }
            p
        };
        r.push_perf(rate(format!("{n}_in_bps"), in_bps));
        r.push_perf(rate(format!("{n}_out_bps"), out_bps));
        r.push_perf(
            PerfData::new(format!("{n}_errors_delta"), err + drop)
                .thresholds(&check.errors)
                .min(0),
        );
    }
    let bad: Vec<String> = r
        .details
        .iter()
        .filter(|d| d.state.is_some_and(|s| s != State::Ok))
        .map(|d| d.text.clone())
        .collect();
    r.summary = if !bad.is_empty() {
        bad.join("; ")
    } else if facts.is_empty() {
        "no interface".to_string()
    } else {
        parts.join("; ")
    };
    // one interface: its line is the summary, no need to repeat it below
    if facts.len() == 1 && r.details.len() == 1 && r.details[0].state == Some(State::Ok) {
        r.details.clear();
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::net::parse_proc_net_dev;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;

    fn check(argv: &[&str]) -> Result<NetCheck, UsageError> {
        validate::<NetCheck>(argv)
    }

    fn sample(t: u128, rx: u64, tx: u64) -> Sample {
        Sample {
            time_ns: t * 1_000_000_000,
            ifindex: 2,
            rx_bytes: rx,
            tx_bytes: tx,
            errors: 0,
            drops: 0,
        }
    }

    const PROC: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0: 123456789  1000    2    3    0     0          0         0 987654321    2000    4    5    0     0       0          0
";

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn parses_proc_net_dev() {
        let t = parse_proc_net_dev(PROC).unwrap();
        assert_eq!(t["eth0"], [123456789, 2, 3, 987654321, 4, 5]);
        assert_eq!(t["lo"][0], 1000);
        assert!(parse_proc_net_dev("a\nb\neth0: 1 2\n").is_err());
    }

    #[test]
    fn rate_levels() {
        for (text, want) in [
            ("100M", RateLevel::Bits("100000000".parse().unwrap())),
            ("@1:2k", RateLevel::Bits("@1000:2000".parse().unwrap())),
            ("80%", RateLevel::Percent("80".parse().unwrap())),
        ] {
            assert_eq!(text.parse::<RateLevel>(), Ok(want), "{text}");
        }
        // percent of the link speed: 0 to 100; any text is one line of error, never a
        // panic
        for (bad, part) in [
            ("5x", "unknown rate unit 'x'"),
            ("9:1k", "start is greater than end"),
            ("200%", "a percentage must be from 0 to 100"),
            ("101%", "from 0 to 100"),
            ("@-1:50%", "from 0 to 100"),
            ("80%%", "is not a unit"),
            ("é", "not allowed"),
            ("5é", "not allowed"),
            ("１k", "not allowed"),
            ("é%", "not allowed"),
            ("10é%", "not allowed"),
        ] {
            let e = bad.parse::<RateLevel>().unwrap_err();
            assert!(!e.contains('\n') && e.contains(part), "{bad}: {e}");
        }
    }

    #[test]
    fn wraps_and_resets() {
        assert_eq!(counter_delta(10, 25), Some(15));
        assert_eq!(counter_delta(u64::from(u32::MAX) - 5, 10), Some(16));
        assert_eq!(counter_delta(1 << 40, 10), None);
    }

    #[test]
    fn rates_against_thresholds_in_bits_and_percent() {
        let c = check(&["-w", "50%", "-c", "900k"]).unwrap();
        let f = IfFacts {
            name: "eth0".into(),
            now: sample(110, 1_000_000 + 1_000_000, 5_000),
            previous: Some(sample(100, 1_000_000, 0)),
            speed: Some(1_000_000),
        };
        // 1 MB in 10 s = 800 kb/s in: 80% of 1 Mb/s -> WARNING (not above 900k)
        let r = c.evaluate(&Ok(vec![f.clone()]));
        assert_eq!(
            render_text("NET", &r),
            "NET WARNING - eth0: in 800.0 kb/s, out 4.0 kb/s (80.0%/0.4% of 1.0 Mb/s) | eth0_in=2000000c eth0_out=5000c eth0_errors=0c eth0_drops=0c eth0_in_bps=800000;500000;900000;0;1000000 eth0_out_bps=4000;500000;900000;0;1000000 eth0_errors_delta=0;;;0\n[WARNING] eth0: in 800.0 kb/s, out 4.0 kb/s (80.0%/0.4% of 1.0 Mb/s)\n"
        );
        let no_speed = IfFacts {
            speed: None,
            ..f.clone()
        };
        assert_eq!(c.evaluate(&Ok(vec![no_speed])).state(), State::Unknown);
        let c = check(&["-c", "700k"]).unwrap();
        assert_eq!(c.evaluate(&Ok(vec![f])).state(), State::Critical);
    }

    #[test]
    fn first_run_and_resets_are_ok() {
        let c = check(&["-c", "1"]).unwrap();
        let first = IfFacts {
            name: "eth0".into(),
            now: sample(100, 10, 10),
            previous: None,
            speed: None,
        };
        let r = c.evaluate(&Ok(vec![first.clone()]));
        assert_eq!(r.state(), State::Ok);
        assert_eq!(r.summary, "eth0: first run, rates from the next run");
        let reset = IfFacts {
            previous: Some(sample(90, 1 << 40, 0)),
            ..first.clone()
        };
        assert_eq!(
            c.evaluate(&Ok(vec![reset])).summary,
            "eth0: counters reset, rates from the next run"
        );
        let mut other = sample(90, 0, 0);
        other.ifindex = 7;
        let replaced = IfFacts {
            previous: Some(other),
            ..first
        };
        assert_eq!(
            c.evaluate(&Ok(vec![replaced])).summary,
            "eth0: interface reset, rates from the next run"
        );
    }

    #[test]
    fn a_missing_interface_or_state_is_unknown() {
        let c = check(&["-i", "eth9"]).unwrap();
        let r = c.evaluate(&Err("no interface eth9".into()));
        assert_eq!(render_text("NET", &r), "NET UNKNOWN - no interface eth9\n");
        assert_eq!(c.evaluate(&Ok(vec![])).summary, "no interface");
    }

    #[test]
    fn errors_and_drops() {
        let c = check(&["--errors-warning", "0"]).unwrap();
        let mut now = sample(110, 0, 0);
        now.errors = 2;
        now.drops = 1;
        let f = IfFacts {
            name: "eth0".into(),
            now,
            previous: Some(sample(100, 0, 0)),
            speed: None,
        };
        let r = c.evaluate(&Ok(vec![f]));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.summary, "eth0: in 0 b/s, out 0 b/s, 2 errors, 1 drops");
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for (argv, part) in [
            (&["-w", "10q"][..], "unknown rate unit"),
            (&["-i", "../etc"], "not an interface"),
            (&["--errors-critical", "5:1"], "start is greater than end"),
        ] {
            let e = check(argv).unwrap_err().0;
            assert!(e.contains(part), "{argv:?}: {e}");
        }
        // a control character is echoed escaped: the error stays one line
        let e = check(&["-i", "a\nb"]).unwrap_err().0;
        assert_eq!(e, "'a\\nb' is not an interface name");
        for bad in ["", ".", "..", "eth0:1", "a b", "sixteen-bytes-xx"] {
            assert!(check(&["-i", bad]).is_err(), "{bad:?}");
        }
        assert!(check(&["-i", "eth0", "-i", "wlp0s20f3", "-i", "br-lan.10"]).is_ok());
    }
}
