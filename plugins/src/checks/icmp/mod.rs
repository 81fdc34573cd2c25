//! check_icmp: round-trip average, packet loss and the extremes of ICMP echo to one or
//! more hosts, as monitoring-plugins' check_icmp (v2.3.3) reports them: the options,
//! the `-w`/`-c` `RTA,PL%` levels (a level is reached at its value: `>=`), `-m` (how many
//! hosts must be fine), the first line `HOST: rta 0.042ms, lost 0%` joined with ` :: `,
//! and the perfdata labels `rta`, `pl`, `rtmax`, `rtmin` (prefixed with the host as
//! given when there are several: `127.0.0.1rta`).
//!
//! [`host`]: the same check as check_host, the peer's host-check mode.

pub mod host;
pub use host::HostCheck;

use crate::plugin::{
    shown, Check, CheckResult, CommonArgs, PerfData, State, Uom, UsageError, Work, EXIT_CODES,
};
use crate::proto::icmp::{self, level_field, Echoes, Plan, MAX_PAYLOAD, MIN_PAYLOAD};
use clap::Parser;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// A time as check_icmp reads it: a number with an optional unit, `us`/`u`
/// (microseconds), `ms`/`m` (milliseconds, the default) or `s` (seconds).
pub fn parse_time(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (num, factor) = if let Some(n) = t.strip_suffix("us").or_else(|| t.strip_suffix('u')) {
        (n, 1e-6)
    } else if let Some(n) = t.strip_suffix("ms").or_else(|| t.strip_suffix('m')) {
        (n, 1e-3)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else {
        (t, 1e-3)
    };
    let v: f64 = num
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| {
            format!(
                "'{}' is not a time (a number, optionally followed by us, ms or s)",
                shown(text)
            )
        })?;
    // as the peer: at most 255 seconds
    Ok(Duration::from_secs_f64((v * factor).min(255.0)))
}

/// A `-w`/`-c` level: `RTA,PL%` (`200.25,60%`, `500ms,80%`, `1s,100%`); a value without
/// a comma is the round-trip average alone, a lone `PL%` the packet loss alone.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Level {
    pub rta: Option<Duration>,
    pub pl: Option<u32>,
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let pl = |t: &str| -> Result<u32, String> {
            let n = t.trim().trim_end_matches('%');
            n.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(|v| (v as u32).min(100))
                .ok_or_else(|| format!("'{}' is not a packet loss percentage", shown(t)))
        };
        match s.split_once(',') {
            Some((rta, loss)) => Ok(Level {
                rta: Some(parse_time(rta)?),
                pl: Some(pl(loss)?),
            }),
            None if s.trim().ends_with('%') => Ok(Level {
                rta: None,
                pl: Some(pl(s)?),
            }),
            None => Ok(Level {
                rta: Some(parse_time(s)?),
                pl: None,
            }),
        }
    }
}

/// Command line of check_icmp.
#[derive(Parser, Debug)]
#[command(
    name = "check_icmp",
    version,
    about = "Checks the round-trip average and packet loss of ICMP echo (ping) to one or more hosts.",
    after_help = format!("Levels: -w/-c take RTA,PL% (200.25,60% is 200.25 ms and 60% loss; the time may end in us, ms or s); a level is reached at its value, as in Debian's. A host that answers nothing is CRITICAL, and so is the check when no host answers, unless -m says how many must be fine.\n\nOutput and perfdata as Debian's check_icmp: `HOST: rta 0.042ms, lost 0%`, perfdata rta, pl, rtmax, rtmin (with the host's name before each label when there are several hosts).\n\nWhere ours differs from Debian's: an unprivileged ICMP socket is used where the kernel allows it (net.ipv4.ping_group_range), so neither setuid nor CAP_NET_RAW is needed there; otherwise a raw socket (CAP_NET_RAW). IPv4 and IPv6 hosts may be mixed. -s takes an address or an interface name (Debian's, built without SIOCGIFADDR, refuses names). -t is the limit of the whole run: what arrived by then is reported.\n\n{EXIT_CODES}")
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// A host to check (repeatable; hosts may also be given as bare words)
    #[arg(short = 'H', long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,

    /// More hosts to check
    #[arg(value_name = "HOST")]
    pub bare_hosts: Vec<String>,

    /// Warning level: round-trip average and packet loss (default 200ms,40%)
    #[arg(short = 'w', long = "warning", value_name = "RTA,PL%")]
    pub warning: Option<Level>,

    /// Critical level: round-trip average and packet loss (default 500ms,80%)
    #[arg(short = 'c', long = "critical", value_name = "RTA,PL%")]
    pub critical: Option<Level>,

    /// Number of packets to send to each host (at most 20)
    #[arg(
        short = 'n',
        long = "packets",
        visible_short_alias = 'p',
        value_name = "N",
        default_value_t = 5
    )]
    pub packets: u16,

    /// Longest wait between two rounds of packets (default 80ms)
    #[arg(short = 'i', long = "interval", value_name = "TIME", value_parser = parse_time)]
    pub interval: Option<Duration>,

    /// Longest wait between two hosts within a round (default 0)
    #[arg(short = 'I', long = "target-interval", value_name = "TIME", value_parser = parse_time)]
    pub target_interval: Option<Duration>,

    /// Number of hosts that must be fine for the check to be OK (WARNING when enough
    /// are at least WARNING)
    #[arg(short = 'm', long = "min-hosts-alive", value_name = "N")]
    pub min_hosts_alive: Option<u32>,

    /// TTL (IPv6: hop limit) of the packets sent (default 64)
    #[arg(short = 'l', long = "ttl", value_name = "TTL", value_parser = clap::value_parser!(u8).range(1..))]
    pub ttl: Option<u8>,

    /// Number of data bytes in each packet (default 68)
    #[arg(short = 'b', long = "size", value_name = "BYTES")]
    pub size: Option<usize>,

    /// Source address to send from, or a network interface whose address to use
    #[arg(short = 's', long = "source", value_name = "ADDRESS|INTERFACE")]
    pub source: Option<String>,

    /// Use IPv4 only
    #[arg(short = '4', conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6')]
    pub ipv6: bool,
}

/// `-s`: an address, or an interface whose address to send from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Address(IpAddr),
    Interface(String),
}

impl Source {
    /// An address, or a name as an interface may have (at most 15 characters of
    /// letters, digits, `.`, `-`, `_`, `@`, `:`).
    pub fn parse(text: &str) -> Result<Source, UsageError> {
        if let Ok(ip) = text.parse() {
            return Ok(Source::Address(ip));
        }
        let ok = !text.is_empty()
            && text.len() <= 15
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-@:".contains(&b));
        if ok {
            Ok(Source::Interface(text.to_string()))
        } else {
            Err(UsageError(format!(
                "-s '{}' is neither an address nor an interface name",
                shown(text)
            )))
        }
    }
}

/// The family an interface's address is wanted in: the targets' (IPv6 only when every
/// target is IPv6).
fn plan_v6(v6: Option<bool>, targets: &[IpAddr]) -> bool {
    v6.unwrap_or_else(|| !targets.is_empty() && targets.iter().all(IpAddr::is_ipv6))
}

/// The default levels.
pub const DEFAULT_WARN: (Duration, u32) = (Duration::from_millis(200), 40);
pub const DEFAULT_CRIT: (Duration, u32) = (Duration::from_millis(500), 80);

/// What the name a check runs under sets: its default levels and interval, and whether
/// it is the host check (every address of each host pinged, done at the first reply).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mode {
    pub warn: (Duration, u32),
    pub crit: (Duration, u32),
    pub interval: Duration,
    pub host_check: bool,
}

/// check_icmp's mode.
pub const ICMP_MODE: Mode = Mode {
    warn: DEFAULT_WARN,
    crit: DEFAULT_CRIT,
    interval: Duration::from_millis(80),
    host_check: false,
};

/// The validated check.
#[derive(Debug)]
pub struct IcmpCheck {
    /// The hosts as given, in order.
    pub hosts: Vec<String>,
    /// `None`: either family; `Some(true)`: IPv6 only.
    pub v6: Option<bool>,
    pub warn: (Duration, u32),
    pub crit: (Duration, u32),
    pub packets: u16,
    pub interval: Duration,
    pub target_interval: Duration,
    pub min_hosts_alive: Option<u32>,
    pub ttl: u8,
    pub size: usize,
    pub source: Option<Source>,
    pub timeout: Duration,
    /// `-v`: a line per host with its counts and socket.
    pub verbose: bool,
    /// check_host: every address of each host, and done at the first reply.
    pub host_check: bool,
}

/// What one host answered.
#[derive(Debug, Clone, PartialEq)]
pub struct HostEchoes {
    /// The host as given.
    pub name: String,
    /// Its address, or why it has none.
    pub echoes: Result<Echoes, String>,
}

/// Everything the run observed, or why it could not run at all.
pub type IcmpFacts = Result<Vec<HostEchoes>, String>;

fn merge(level: Option<Level>, default: (Duration, u32)) -> (Duration, u32) {
    let l = level.unwrap_or_default();
    (l.rta.unwrap_or(default.0), l.pl.unwrap_or(default.1))
}

impl Check for IcmpCheck {
    type Args = Args;
    type Facts = IcmpFacts;
    const LABEL: &'static str = "ICMP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        Self::in_mode(args, ICMP_MODE)
    }

    /// Resolves the hosts, then pings them all in one run (a blocking poll loop bounded
    /// by the peer's completion time and by `-t`).
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let start = Instant::now();
            let deadline = start + icmp::time_within(self.timeout);
            // one address per host, as the peer (the host check: all of them); the same
            // address once
            let (names, targets) =
                icmp::host_addresses(&self.hosts, self.v6, true, self.host_check)
                    .map_err(|(_, e)| e)?;
            let n = targets.len() as u32;
            let crit = self.crit.0;
            let completion = (self.interval * u32::from(self.packets) + self.target_interval) * n
                + crit * (n * u32::from(self.packets))
                + crit;
            let source = match &self.source {
                None => None,
                Some(Source::Address(ip)) => Some(*ip),
                Some(Source::Interface(name)) => {
                    Some(icmp::interface_address(name, plan_v6(self.v6, &targets))?)
                }
            };
            let plan = Plan {
                targets,
                count: self.packets,
                interval: self.interval,
                target_interval: self.target_interval,
                payload: self.size,
                ttl: Some(self.ttl),
                source,
                completion,
                linger_rtts: None,
                stop_at_first_reply: self.host_check,
                deadline,
            };
            let run = icmp::ping(&plan)?;
            Ok(names
                .into_iter()
                .zip(run.echoes)
                .map(|(name, e)| HostEchoes {
                    name,
                    echoes: Ok(e),
                })
                .collect())
        })
    }

    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        match facts {
            Ok(hosts) => match self.host_check.then(|| host::alive(self, hosts)) {
                Some(Some(alive)) => alive,
                _ => evaluate(self, hosts),
            },
            Err(why) => CheckResult::unknown(why.clone()),
        }
    }
}

impl IcmpCheck {
    /// The check from its arguments, with the defaults and behaviour of `mode`.
    pub fn in_mode(args: Args, mode: Mode) -> Result<Self, UsageError> {
        let mut hosts = Vec::new();
        for h in args.hosts.iter().chain(&args.bare_hosts) {
            let h = crate::plugin::parse_host(h.trim()).map_err(UsageError)?;
            if !hosts.contains(&h) {
                hosts.push(h);
            }
        }
        if hosts.is_empty() {
            return Err(UsageError::new("No hosts to check"));
        }
        if args.packets > 20 {
            return Err(UsageError(format!("packets is > 20 ({})", args.packets)));
        }
        if args.packets == 0 {
            return Err(UsageError::new("packets must be at least 1"));
        }
        icmp::within_probes(hosts.len(), args.packets).map_err(UsageError)?;
        let size = args.size.unwrap_or(68);
        if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&size) {
            return Err(UsageError(format!(
                "ICMP data length must be between: {MIN_PAYLOAD} and {MAX_PAYLOAD}"
            )));
        }
        let warn = merge(args.warning, mode.warn);
        let crit = merge(args.critical, mode.crit);
        // as the peer: a warning level beyond the critical one is the critical one
        let warn = (warn.0.min(crit.0), warn.1.min(crit.1));
        let v6 = icmp::family_flag(args.ipv4, args.ipv6);
        let source = args.source.as_deref().map(Source::parse).transpose()?;
        if let (Some(Source::Address(src)), Some(v6)) = (&source, v6) {
            if src.is_ipv6() != v6 {
                return Err(UsageError(format!(
                    "source address {src} is not of the family of -{}",
                    if v6 { 6 } else { 4 }
                )));
            }
        }
        Ok(IcmpCheck {
            hosts,
            v6,
            warn,
            crit,
            packets: args.packets,
            interval: args.interval.unwrap_or(mode.interval),
            target_interval: args.target_interval.unwrap_or(Duration::ZERO),
            min_hosts_alive: args.min_hosts_alive,
            ttl: args.ttl.unwrap_or(64),
            size,
            source,
            timeout: args.common.timeout.duration,
            verbose: args.common.verbose > 0,
            host_check: mode.host_check,
        })
    }
}

/// A number rounded to three decimals, as the peer prints it.
fn ms3(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// One host's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Figures {
    pub pl: u32,
    pub rta: Duration,
    pub rtmax: Duration,
    pub rtmin: Duration,
    pub answered: bool,
}

/// The figures of one host's echoes (a host that answered nothing: 100% and zeros).
pub fn figures(e: &Echoes) -> Figures {
    if e.rtts.is_empty() {
        return Figures {
            pl: 100,
            rta: Duration::ZERO,
            rtmax: Duration::ZERO,
            rtmin: Duration::ZERO,
            answered: false,
        };
    }
    let sum: Duration = e.rtts.iter().sum();
    Figures {
        pl: e.loss_percent(),
        rta: sum / e.rtts.len() as u32,
        rtmax: e.rtts.iter().copied().max().unwrap_or_default(),
        rtmin: e.rtts.iter().copied().min().unwrap_or_default(),
        answered: true,
    }
}

/// The state of one host: CRITICAL when it answered nothing or reached a critical
/// level, WARNING at a warning level.
pub fn host_state(f: &Figures, warn: (Duration, u32), crit: (Duration, u32)) -> State {
    if !f.answered || f.pl >= crit.1 || f.rta >= crit.0 {
        State::Critical
    } else if f.pl >= warn.1 || f.rta >= warn.0 {
        State::Warning
    } else {
        State::Ok
    }
}

/// The verdict on all hosts, as the peer gives it.
pub fn evaluate(check: &IcmpCheck, hosts: &[HostEchoes]) -> CheckResult {
    let several = hosts.len() > 1;
    let mut texts = Vec::new();
    let mut perf = Vec::new();
    let (mut ok, mut warned) = (0u32, 0u32);
    let mut states = Vec::new();
    for h in hosts {
        let e = match &h.echoes {
            Ok(e) => e,
            Err(why) => {
                texts.push(format!("{}: {why}", h.name));
                states.push(State::Critical);
                continue;
            }
        };
        let f = figures(e);
        let state = host_state(&f, check.warn, check.crit);
        match state {
            State::Ok => ok += 1,
            State::Warning => warned += 1,
            _ => {}
        }
        states.push(state);
        texts.push(if f.answered {
            format!("{}: rta {:.3}ms, lost {}%", h.name, ms3(f.rta), f.pl)
        } else if let Some(err) = e.error.filter(|e| e.is_fatal()) {
            let from = err.from.map(|a| a.to_string()).unwrap_or_default();
            format!("{}: {} @ {from}. rta nan, lost 100%", h.name, err.text())
        } else if let Some(why) = &e.send_error {
            format!("{}: {why}. rta nan, lost 100%", h.name)
        } else {
            format!("{}: rta nan, lost 100%", h.name)
        });
        let prefix = if several { h.name.as_str() } else { "" };
        perf.push(
            PerfData::new(format!("{prefix}rta"), ms3(f.rta))
                .uom(Uom::Millis)
                .min(0),
        );
        let last = perf.len() - 1;
        perf[last].warn = level_field(ms3(check.warn.0));
        perf[last].crit = level_field(ms3(check.crit.0));
        let mut pl = PerfData::new(format!("{prefix}pl"), f.pl).uom(Uom::Percent);
        pl.warn = level_field(f64::from(check.warn.1));
        pl.crit = level_field(f64::from(check.crit.1));
        perf.push(pl);
        perf.push(PerfData::new(format!("{prefix}rtmax"), ms3(f.rtmax)).uom(Uom::Millis));
        perf.push(PerfData::new(format!("{prefix}rtmin"), ms3(f.rtmin)).uom(Uom::Millis));
    }
    let mut state = State::worst_of(states.iter().copied());
    if let Some(min) = check.min_hosts_alive {
        if ok >= min {
            state = State::Ok;
        } else if ok + warned >= min {
            state = State::Warning;
        }
    }
    let mut r = CheckResult::new(state, texts.join(" :: "));
    if check.verbose {
        for h in hosts {
            if let Ok(e) = &h.echoes {
                r.push_line(e.describe(&h.name));
            }
        }
    }
    for p in perf {
        r.push_perf(p);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;

    fn echoes(sent: u32, rtts_ms: &[u64]) -> Echoes {
        Echoes {
            sent,
            rtts: rtts_ms.iter().map(|m| Duration::from_millis(*m)).collect(),
            ..Echoes::default()
        }
    }

    fn host(name: &str, e: Echoes) -> HostEchoes {
        HostEchoes {
            name: name.into(),
            echoes: Ok(e),
        }
    }

    fn text(check: &IcmpCheck, hosts: &[HostEchoes]) -> (State, String) {
        let r = evaluate(check, hosts);
        (
            r.state(),
            crate::plugin::output::render_text(IcmpCheck::LABEL, &r),
        )
    }

    #[test]
    fn times_and_levels_read_as_the_peer_reads_them() {
        assert_eq!(parse_time("200").unwrap(), Duration::from_millis(200));
        assert_eq!(
            parse_time("200.25").unwrap(),
            Duration::from_micros(200_250)
        );
        assert_eq!(parse_time("500us").unwrap(), Duration::from_micros(500));
        assert_eq!(parse_time("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_time("10000ms").unwrap(), Duration::from_secs(10));
        assert_eq!(parse_time("999s").unwrap(), Duration::from_secs(255));
        assert!(parse_time("x").is_err());
        assert!(parse_time("-1").is_err());
        let l: Level = "10000ms,100%".parse().unwrap();
        assert_eq!(l.rta, Some(Duration::from_secs(10)));
        assert_eq!(l.pl, Some(100));
        let l: Level = "0,0%".parse().unwrap();
        assert_eq!((l.rta, l.pl), (Some(Duration::ZERO), Some(0)));
        assert_eq!("60%".parse::<Level>().unwrap().pl, Some(60));
        assert_eq!("300".parse::<Level>().unwrap().pl, None);
        assert_eq!("1,200%".parse::<Level>().unwrap().pl, Some(100));
        assert!("1,x%".parse::<Level>().is_err());
    }

    #[test]
    fn arguments_as_the_peer_takes_them() {
        let c = validate::<IcmpCheck>(&["-H", "127.0.0.1", "-w", "100,20%"]).unwrap();
        assert_eq!(c.warn, (Duration::from_millis(100), 20));
        assert_eq!(c.crit, DEFAULT_CRIT);
        assert_eq!(c.packets, 5);
        let c = validate::<IcmpCheck>(&["127.0.0.1", "::1", "-H", "127.0.0.1", "-n", "2"]).unwrap();
        assert_eq!(c.hosts, ["127.0.0.1", "::1"]);
        assert_eq!(c.packets, 2);
        // -p is -n; a warning level above the critical one is the critical one
        let c = validate::<IcmpCheck>(&["-H", "h", "-p", "3", "-w", "900,90%"]).unwrap();
        assert_eq!(c.packets, 3);
        assert_eq!(c.warn, DEFAULT_CRIT);
        for (args, message) in [
            (&["-w", "1,1%"][..], "No hosts to check"),
            (&["-H", "h", "-n", "21"], "packets is > 20 (21)"),
            (
                &["-H", "h", "-b", "8"],
                "ICMP data length must be between: 16 and 65507",
            ),
        ] {
            assert_eq!(validate::<IcmpCheck>(args).unwrap_err().0, message);
        }
        assert!(validate::<IcmpCheck>(&["-H", "a\nb"]).is_err());
        assert!(validate::<IcmpCheck>(&["-H", "h", "-l", "0"]).is_err());
        assert!(validate::<IcmpCheck>(&["-H", "h", "-6", "-s", "127.0.0.1"]).is_err());
        let c = validate::<IcmpCheck>(&["-H", "h", "-s", "lo"]).unwrap();
        assert_eq!(c.source, Some(Source::Interface("lo".into())));
        assert_eq!(
            validate::<IcmpCheck>(&["-H", "h", "-s", "a b"])
                .unwrap_err()
                .0,
            "-s 'a b' is neither an address nor an interface name"
        );
    }

    #[test]
    fn one_host_line_and_perfdata_as_the_peer() {
        let c = validate::<IcmpCheck>(&["-H", "127.0.0.1"]).unwrap();
        let (s, t) = text(&c, &[host("127.0.0.1", echoes(5, &[1, 2, 3, 2, 2]))]);
        assert_eq!(s, State::Ok);
        assert_eq!(
            t,
            "ICMP OK - 127.0.0.1: rta 2.000ms, lost 0% | rta=2ms;200;500;0 pl=0%;40;80 rtmax=3ms rtmin=1ms\n"
        );
        // a level is reached at its value
        let (s, _) = text(&c, &[host("h", echoes(5, &[200, 200, 200, 200, 200]))]);
        assert_eq!(s, State::Warning);
        let (s, t) = text(&c, &[host("h", echoes(5, &[1]))]);
        assert_eq!(s, State::Critical);
        assert!(
            t.starts_with("ICMP CRITICAL - h: rta 1.000ms, lost 80% |"),
            "{t}"
        );
        let (s, t) = text(&c, &[host("h", echoes(5, &[]))]);
        assert_eq!(s, State::Critical);
        assert_eq!(
            t,
            "ICMP CRITICAL - h: rta nan, lost 100% | rta=0ms;200;500;0 pl=100%;40;80 rtmax=0ms rtmin=0ms\n"
        );
    }

    #[test]
    fn verbose_names_the_counts_and_the_socket() {
        let c = validate::<IcmpCheck>(&["-H", "h", "-v"]).unwrap();
        let mut e = echoes(2, &[1]);
        e.address = Some("192.0.2.1".parse().unwrap());
        e.via = Some(icmp::SocketKind::Datagram);
        let (_, t) = text(&c, &[host("h", e)]);
        assert!(
            t.ends_with("\nh (192.0.2.1): 2 sent, 1 received, over an unprivileged ICMP socket\n"),
            "{t}"
        );
    }

    #[test]
    fn an_icmp_error_is_named_with_who_sent_it() {
        let c = validate::<IcmpCheck>(&["-H", "h"]).unwrap();
        let mut e = echoes(1, &[]);
        e.error = Some(icmp::IcmpError {
            v6: false,
            kind: 3,
            code: 1,
            from: Some("198.51.100.1".parse().unwrap()),
        });
        let (s, t) = text(&c, &[host("198.51.100.3", e)]);
        assert_eq!(s, State::Critical);
        assert!(
            t.starts_with("ICMP CRITICAL - 198.51.100.3: Host unreachable @ 198.51.100.1. rta nan, lost 100% |"),
            "{t}"
        );
    }

    #[test]
    fn several_hosts_their_names_on_labels_and_min_hosts_alive() {
        let c = validate::<IcmpCheck>(&["-H", "a", "-H", "b"]).unwrap();
        let hosts = [host("a", echoes(1, &[1])), host("b", echoes(1, &[]))];
        let (s, t) = text(&c, &hosts);
        assert_eq!(s, State::Critical);
        assert!(
            t.starts_with("ICMP CRITICAL - a: rta 1.000ms, lost 0% :: b: rta nan, lost 100% | arta=1ms;200;500;0 apl=0%;40;80 artmax=1ms artmin=1ms brta=0ms"),
            "{t}"
        );
        for (m, want) in [("1", State::Ok), ("2", State::Critical), ("0", State::Ok)] {
            let c = validate::<IcmpCheck>(&["-H", "a", "-H", "b", "-m", m]).unwrap();
            assert_eq!(text(&c, &hosts).0, want, "-m {m}");
        }
        let slow = [host("a", echoes(1, &[300])), host("b", echoes(1, &[]))];
        let c = validate::<IcmpCheck>(&["-H", "a", "-H", "b", "-m", "1"]).unwrap();
        assert_eq!(text(&c, &slow).0, State::Warning);
    }
}
