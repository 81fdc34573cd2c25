//! check_swap: free swap space, a drop-in for monitoring-plugins' check_swap (2.3).
//!
//! Semantics kept from monitoring-plugins 2.3: free swap is SwapFree + SwapCached (pages
//! in swap that are also in RAM); `-w`/`-c` are either bytes free (alert when free swap
//! is at or below the level) or whole percent free (alert when the whole percent *used*,
//! rounded down, reaches 100 - level); a warning level below the critical one of the same
//! kind is a usage error; no swap at all gives the `-n` state (CRITICAL by default).
//! Differences: free bytes are exact (monitoring-plugins rounds down to whole MiB first),
//! `-w` also takes a unit (`512M`), and `-a` reads /proc/swaps (monitoring-plugins
//! ignores it on Linux) to check each device as well as the total.

use crate::host::memory::{read_meminfo, read_swaps, SwapDevice};
use crate::plugin::units::human_bytes;
use crate::plugin::{
    judge, parse_level, shown, Check, CheckResult, CommonArgs, Observed, PerfData, Range, State,
    Unit, Uom, UsageError, Work,
};
use clap::Parser;
use std::path::PathBuf;
use std::str::FromStr;

/// A free-swap level: bytes (`100000000`, `512M`) or whole percent (`20%`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwapLevel {
    Bytes(u64),
    Percent(u8),
}

impl FromStr for SwapLevel {
    type Err = String;

    /// Read by the contract's checked parser (sizes with K, M, G, T; a percentage from 0
    /// to 100), then held to one number: a whole percent, or bytes.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let l = parse_level(s, &[Unit::Bytes, Unit::Percent])?;
        let r = l.range;
        let plain = !r.is_inside() && r.start() == Some(0.0);
        let Some(v) = r.end().filter(|_| plain) else {
            return Err(format!(
                "'{}': give one amount of free swap (512M) or percentage (20%), not a range",
                shown(s)
            ));
        };
        match l.unit {
            Unit::Percent if v.fract() == 0.0 => Ok(SwapLevel::Percent(v as u8)),
            Unit::Percent => Err(format!(
                "'{}': a percentage must be a whole number from 0 to 100",
                shown(s)
            )),
            _ => Ok(SwapLevel::Bytes(v.round() as u64)),
        }
    }
}

impl SwapLevel {
    /// True when `free` of `total` bytes is at or below this level.
    pub fn alerts(self, free: u64, total: u64) -> bool {
        match self {
            SwapLevel::Bytes(b) => free <= b,
            SwapLevel::Percent(p) => total > 0 && used_percent(free, total) >= 100 - u64::from(p),
        }
    }

    /// The level in bytes of free swap, for perfdata.
    pub fn bytes(self, total: u64) -> u64 {
        match self {
            SwapLevel::Bytes(b) => b,
            SwapLevel::Percent(p) => (total as u128 * u128::from(p) / 100) as u64,
        }
    }
}

/// Whole percent used, rounded down (monitoring-plugins' `usage_percentage`).
pub fn used_percent(free: u64, total: u64) -> u64 {
    if total == 0 {
        return 0;
    }
    (u128::from(total.saturating_sub(free)) * 100 / u128::from(total)) as u64
}

/// Command line of check_swap.
#[derive(Parser, Debug)]
#[command(
    name = "check_swap",
    version,
    about = "Checks free swap space (SwapFree + SwapCached from /proc/meminfo).\n\nLevels are bytes free (100000000, 512M: alert at or below) or whole percent free (20%). Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, unreadable files). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// WARNING when free swap is at or below BYTES, or PERCENT% of the total
    #[arg(short = 'w', long = "warning", value_name = "BYTES|PERCENT%")]
    pub warning: Option<SwapLevel>,

    /// CRITICAL when free swap is at or below BYTES, or PERCENT% of the total
    #[arg(short = 'c', long = "critical", value_name = "BYTES|PERCENT%")]
    pub critical: Option<SwapLevel>,

    /// Also check each swap device of /proc/swaps, one by one
    #[arg(short = 'a', long = "allswaps")]
    pub all_swaps: bool,

    /// State when there is no swap, whatever the levels
    #[arg(
        short = 'n',
        long = "no-swap",
        value_name = "ok|warning|critical|unknown",
        default_value = "critical"
    )]
    pub no_swap: State,
}

/// The validated check.
#[derive(Debug)]
pub struct SwapCheck {
    pub warning: Option<SwapLevel>,
    pub critical: Option<SwapLevel>,
    pub all_swaps: bool,
    pub no_swap: State,
    /// Where /proc is (a fixture directory in tests).
    pub proc_root: PathBuf,
}

/// What was read from the machine, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapFacts {
    pub total: u64,
    pub free: u64,
    /// Each device (read only with `-a`).
    pub devices: Vec<SwapDevice>,
}

impl Check for SwapCheck {
    type Args = Args;
    /// The swap as read, or why it could not be read.
    type Facts = Observed<SwapFacts>;
    const LABEL: &'static str = "SWAP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let lower = match (args.warning, args.critical) {
            (Some(SwapLevel::Bytes(w)), Some(SwapLevel::Bytes(c))) => w < c,
            (Some(SwapLevel::Percent(w)), Some(SwapLevel::Percent(c))) => w < c,
            _ => false,
        };
        if lower {
            return Err(UsageError::new(
                "the warning level must be at least the critical level (both are free swap)",
            ));
        }
        Ok(SwapCheck {
            warning: args.warning,
            critical: args.critical,
            all_swaps: args.all_swaps,
            no_swap: args.no_swap,
            proc_root: PathBuf::from("/proc"),
        })
    }

    /// Reads /proc/meminfo, and /proc/swaps with `-a`.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let m = read_meminfo(&self.proc_root)?;
            let devices = if self.all_swaps {
                read_swaps(&self.proc_root)?
            } else {
                Vec::new()
            };
            Ok(SwapFacts {
                total: m.swap_total,
                free: m.swap_free.saturating_add(m.swap_cached).min(m.swap_total),
                devices,
            })
        })
    }

    /// UNKNOWN when the files could not be read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |facts| evaluate(facts, self))
    }
}

impl SwapCheck {
    /// The state of `free` of `total` bytes: critical first, then warning.
    pub fn state(&self, free: u64, total: u64) -> State {
        if total == 0 {
            self.no_swap
        } else if self.critical.is_some_and(|c| c.alerts(free, total)) {
            State::Critical
        } else if self.warning.is_some_and(|w| w.alerts(free, total)) {
            State::Warning
        } else {
            State::Ok
        }
    }

    /// A perfdata item of free bytes with the levels as lower bounds.
    fn perf(&self, label: &str, free: u64, total: u64) -> PerfData {
        let bound = |l: Option<SwapLevel>| l.map(|l| Range::below(l.bytes(total) as f64));
        let mut p = PerfData::new(label, free).uom(Uom::Bytes).min(0).max(total);
        p.warn = bound(self.warning);
        p.crit = bound(self.critical);
        p
    }
}

/// "50% free (1.0 GiB of 2.0 GiB)".
fn free_text(free: u64, total: u64) -> String {
    format!(
        "{}% free ({} of {})",
        100 - used_percent(free, total),
        human_bytes(free),
        human_bytes(total)
    )
}

/// Turns the facts into the result (pure).
pub fn evaluate(facts: &SwapFacts, check: &SwapCheck) -> CheckResult {
    let state = check.state(facts.free, facts.total);
    let summary = if facts.total == 0 {
        "no swap space (swap is disabled or of zero size)".to_string()
    } else {
        free_text(facts.free, facts.total)
    };
    let mut result = CheckResult::new(state, summary);
    result.push_perf(check.perf("swap", facts.free, facts.total));
    for d in &facts.devices {
        let free = d.size.saturating_sub(d.used);
        result.push_sub(
            check.state(free, d.size),
            format!("{}: {}", d.name, free_text(free, d.size)),
        );
        result.push_perf(check.perf(&format!("swap {}", d.name), free, d.size));
    }
    let bad: Vec<&str> = result
        .details
        .iter()
        .filter(|d| d.state.is_some_and(|s| s != State::Ok))
        .map(|d| d.text.as_str())
        .collect();
    if !bad.is_empty() {
        result.summary = format!("{}; {}", result.summary, bad.join(", "));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::memory::parse_swaps;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::fetched;
    use crate::plugin::runner::validate;
    use std::path::Path;

    fn check(argv: &[&str]) -> Result<SwapCheck, UsageError> {
        validate::<SwapCheck>(argv)
    }

    const GIB: u64 = 1 << 30;

    fn facts(free: u64, total: u64) -> SwapFacts {
        SwapFacts {
            total,
            free,
            devices: Vec::new(),
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn levels() {
        assert_eq!("20%".parse(), Ok(SwapLevel::Percent(20)));
        assert_eq!("100000000".parse(), Ok(SwapLevel::Bytes(100_000_000)));
        assert_eq!("512M".parse(), Ok(SwapLevel::Bytes(512 << 20)));
        assert_eq!("1.5k".parse(), Ok(SwapLevel::Bytes(1536)));
        for bad in [
            "101%", "5.5%", "-1%", "x", "%", "-5", "１０", "é", "10é%", "10%%", "@10%", "5:", "~:5",
        ] {
            assert!(bad.parse::<SwapLevel>().is_err(), "{bad}");
        }
    }

    /// The monitoring-plugins 2.3 rules, at and around each edge.
    #[test]
    fn state_table() {
        let c = check(&["-w", "50%", "-c", "1073741000"]).unwrap();
        let rows = [
            // (free, total, state)
            (GIB, 2 * GIB, State::Warning), // 50% used >= 100 - 50
            (GIB + 30_000_000, 2 * GIB, State::Ok), // 48% used
            (GIB - 1, 2 * GIB, State::Warning), // 50% used, rounded down
            (1_073_741_000, 2 * GIB, State::Critical),
            (1_073_741_001, 2 * GIB, State::Warning),
            (0, 0, State::Critical), // no swap: -n, CRITICAL by default
        ];
        for (free, total, want) in rows {
            assert_eq!(c.state(free, total), want, "{free} of {total}");
            let r = c.evaluate(&Ok(facts(free, total)));
            assert_eq!(r.state(), want, "{free} of {total}");
        }
        let ok = check(&["-w", "10%", "-n", "ok"]).unwrap();
        assert_eq!(ok.state(0, 0), State::Ok);
        assert_eq!(ok.state(GIB / 10, GIB), State::Warning, "90% used");
        assert_eq!(ok.state(GIB / 10 + 11_000_000, GIB), State::Ok, "88% used");
    }

    #[test]
    fn output() {
        let c = check(&["-w", "50%", "-c", "10%"]).unwrap();
        assert_eq!(
            render_text("SWAP", &c.evaluate(&Ok(facts(3 * GIB / 2, 2 * GIB)))),
            "SWAP OK - 75% free (1.5 GiB of 2.0 GiB) | swap=1610612736B;1073741824:;214748364:;0;2147483648\n"
        );
        assert_eq!(
            render_text("SWAP", &c.evaluate(&Ok(facts(0, 0)))),
            "SWAP CRITICAL - no swap space (swap is disabled or of zero size) | swap=0B;0:;0:;0;0\n"
        );
    }

    /// Files that could not be read: UNKNOWN, the reason as the summary.
    #[test]
    fn unreadable_is_unknown() {
        let c = check(&["-w", "10%"]).unwrap();
        let why = "cannot read /proc/meminfo: Permission denied (os error 13)";
        let r = c.evaluate(&Err(why.to_string()));
        assert_eq!(r.state(), State::Unknown);
        assert_eq!(render_text("SWAP", &r), format!("SWAP UNKNOWN - {why}\n"));
    }

    #[test]
    fn each_device_with_allswaps() {
        let swaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/vda2                               partition\t1048572\t\t1000000\t\t-2\n/var/swap\\040file                       file\t\t1048576\t\t0\t\t-3\n";
        let devices = parse_swaps(swaps, Path::new("/proc/swaps")).unwrap();
        assert_eq!(
            devices,
            vec![
                SwapDevice {
                    name: "/dev/vda2".into(),
                    size: 1048572 * 1024,
                    used: 1000000 * 1024
                },
                SwapDevice {
                    name: "/var/swap file".into(),
                    size: GIB,
                    used: 0
                },
            ]
        );
        let c = check(&["-a", "-w", "20%", "-c", "10%"]).unwrap();
        let f = SwapFacts {
            total: 1048572 * 1024 + GIB,
            free: 48572 * 1024 + GIB,
            devices,
        };
        let r = c.evaluate(&Ok(f));
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            render_text("SWAP", &r),
            "SWAP CRITICAL - 53% free (1.0 GiB of 2.0 GiB); /dev/vda2: 5% free (47.4 MiB of 1024 MiB) | swap=1123479552B;429495910:;214747955:;0;2147479552 'swap /dev/vda2'=49737728B;214747545:;107373772:;0;1073737728 'swap /var/swap file'=1073741824B;214748364:;107374182:;0;1073741824\n[CRITICAL] /dev/vda2: 5% free (47.4 MiB of 1024 MiB)\n[OK] /var/swap file: 100% free (1.0 GiB of 1.0 GiB)\n"
        );
        assert!(parse_swaps(
            "header\n/dev/x partition big 0 -2\n",
            Path::new("/proc/swaps")
        )
        .unwrap_err()
        .contains("/dev/x"));
    }

    #[test]
    fn fetch_counts_swap_cached_as_free() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("meminfo"),
            "MemTotal: 100 kB\nMemAvailable: 50 kB\nSwapCached: 524288 kB\nSwapTotal: 2097152 kB\nSwapFree: 1048576 kB\n",
        )
        .unwrap();
        let mut c = check(&["-w", "10%"]).unwrap();
        c.proc_root = dir.path().to_path_buf();
        assert_eq!(fetched(&c).unwrap(), facts(1536 << 20, 2 * GIB));
        c.all_swaps = true;
        assert_eq!(
            fetched(&c).unwrap_err(),
            format!(
                "cannot read {}: No such file or directory (os error 2)",
                dir.path().join("swaps").display()
            )
        );
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert_eq!(
            check(&["-w", "10%", "-c", "20%"]).unwrap_err().0,
            "the warning level must be at least the critical level (both are free swap)"
        );
        assert!(check(&["-w", "10", "-c", "20"]).is_err());
        assert!(check(&["-w", "10%", "-c", "20"]).is_ok(), "kinds differ");
        assert!(check(&["-w", "101%"]).unwrap_err().0.contains("'101%'"));
        assert!(check(&["-n", "maybe"]).unwrap_err().0.contains("'maybe'"));
    }
}
