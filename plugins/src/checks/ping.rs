//! check_ping: packet loss and round-trip average of ICMP echo to a host, with the
//! options, levels, output and perfdata of monitoring-plugins' check_ping (v2.3.3): `-w`/
//! `-c` `RTA,PL%` both required (a level is reached at its value), the old positional
//! form `HOST WPL CPL WRTA CRTA [PACKETS]`, `PING OK - Packet loss = 0%, RTA = 0.05 ms`,
//! perfdata `rta` (ms) and `pl` (%). Unlike the peer it sends the echo requests itself
//! (proto::icmp) instead of running ping(8).

use crate::plugin::{
    shown, Check, CheckResult, CommonArgs, PerfData, State, Uom, UsageError, Value, Work,
    EXIT_CODES,
};
use crate::proto::icmp::{self, level_field, Echoes, Plan};
use clap::Parser;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// A `-w`/`-c` level as check_ping reads it: `RTA,PL%` (or `RTA:PL%`), a bare integer
/// (the round-trip average alone, in ms), or `PL%` (the packet loss alone).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Level {
    /// Milliseconds.
    pub rta: Option<f64>,
    pub pl: Option<u32>,
}

fn number(t: &str) -> Option<f64> {
    t.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
}

fn percent(t: &str) -> Option<u32> {
    let n = t.trim().strip_suffix('%')?;
    n.trim().parse::<u32>().ok()
}

impl FromStr for Level {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || {
            format!(
                "'{}': a threshold is RTA,PL% (milliseconds and a percentage), an integer or a percentage",
                shown(s)
            )
        };
        if let Some((rta, pl)) = s.split_once([',', ':']) {
            return Ok(Level {
                rta: Some(number(rta).ok_or_else(bad)?),
                pl: Some(percent(pl).ok_or_else(bad)?),
            });
        }
        if let Some(pl) = percent(s) {
            return Ok(Level {
                rta: None,
                pl: Some(pl),
            });
        }
        match s.trim().parse::<u64>() {
            Ok(v) => Ok(Level {
                rta: Some(v as f64),
                pl: None,
            }),
            Err(_) => Err(bad()),
        }
    }
}

/// Command line of check_ping.
#[derive(Parser, Debug)]
#[command(
    name = "check_ping",
    version,
    about = "Checks packet loss and round-trip average of ICMP echo (ping) to a host.",
    after_help = format!("THRESHOLD is <rta>,<pl>% where <rta> is the round trip average time (ms) and <pl> the percentage of packet loss that make the result WARNING or CRITICAL (reached at the value, as in Debian's); both -w and -c are required. The old form `check_ping HOST WPL CPL WRTA CRTA [PACKETS]` is accepted too. With several hosts (-H a,b) the first that answers is reported alive.\n\nWhere ours differs from Debian's: ping(8) is not run: the echo requests are sent by the plugin itself, over an unprivileged ICMP socket where the kernel allows it (net.ipv4.ping_group_range), else a raw socket (CAP_NET_RAW); the next request goes as soon as the last is answered (at most 1 s apart, as ping). -t is the limit of the whole run (Debian's raises it to fit the packets and levels). With several hosts none of which answers, ours is CRITICAL (Debian's reports the first alive). -L (HTML link) and -n are accepted and change nothing.\n\n{EXIT_CODES}")
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Host to ping (several separated by commas, or -H repeated)
    #[arg(
        short = 'H',
        long = "hostname",
        value_name = "HOST",
        value_delimiter = ','
    )]
    pub hosts: Vec<String>,

    /// Warning threshold pair RTA,PL%
    #[arg(short = 'w', long = "warning", value_name = "THRESHOLD")]
    pub warning: Option<Level>,

    /// Critical threshold pair RTA,PL%
    #[arg(short = 'c', long = "critical", value_name = "THRESHOLD")]
    pub critical: Option<Level>,

    /// Number of ICMP ECHO packets to send (default 5)
    #[arg(short = 'p', long = "packets", value_name = "INTEGER")]
    pub packets: Option<u16>,

    /// Accepted for compatibility: the peer's HTML link to a traceroute CGI
    #[arg(short = 'L', long = "link")]
    pub link: bool,

    /// Accepted for compatibility: no HTML (the default; also the old form -nohtml)
    #[arg(
        short = 'n',
        long = "nohtml",
        num_args = 0..=1,
        default_missing_value = "",
        value_name = "IGNORED"
    )]
    pub nohtml: Option<String>,

    /// Use IPv4 only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,

    /// The old form: HOST WPL CPL WRTA CRTA [PACKETS]
    #[arg(value_name = "HOST WPL CPL WRTA CRTA PACKETS", num_args = 0..=6)]
    pub old: Vec<String>,
}

/// The validated check.
#[derive(Debug)]
pub struct PingCheck {
    pub hosts: Vec<String>,
    pub v6: Option<bool>,
    /// Warning and critical round-trip averages (ms) and packet losses (%).
    pub wrta: f64,
    pub crta: f64,
    pub wpl: u32,
    pub cpl: u32,
    pub packets: u16,
    pub timeout: Duration,
    /// `-v`: a line per host with its counts and socket.
    pub verbose: bool,
}

/// What one host answered, or why it could not be pinged.
pub type PingFacts = Result<Vec<(String, Echoes)>, String>;

/// The old form's next word fills `slot` when the options left it unset (and the word
/// after it is then the next); a set slot leaves the word to the next one.
fn fill<'a, T>(
    slot: &mut Option<T>,
    next: &mut Option<&'a String>,
    old: &mut std::slice::Iter<'a, String>,
    parse: impl FnOnce(&str) -> Result<T, UsageError>,
) -> Result<(), UsageError> {
    if slot.is_none() {
        if let Some(t) = *next {
            *slot = Some(parse(t)?);
            *next = old.next();
        }
    }
    Ok(())
}

impl Check for PingCheck {
    type Args = Args;
    type Facts = PingFacts;
    const LABEL: &'static str = "PING";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        // `-nohtml` reads as -n with the rest of the word attached
        if args
            .nohtml
            .as_deref()
            .is_some_and(|v| !v.is_empty() && v != "ohtml")
        {
            return Err(UsageError::new("-n takes no value"));
        }
        let mut hosts: Vec<String> = Vec::new();
        for h in &args.hosts {
            hosts.push(
                crate::plugin::parse_host(h.trim())
                    .map_err(|_| UsageError(format!("Invalid hostname/address - {}", shown(h))))?,
            );
        }
        let (mut wrta, mut crta) = (
            args.warning.and_then(|l| l.rta),
            args.critical.and_then(|l| l.rta),
        );
        let (mut wpl, mut cpl) = (
            args.warning.and_then(|l| l.pl),
            args.critical.and_then(|l| l.pl),
        );
        let mut packets = args.packets;
        // the old form fills in, in order, what the options left unset
        let mut old = args.old.iter();
        let mut next = old.next();
        if hosts.is_empty() {
            if let Some(h) = next {
                hosts.push(
                    crate::plugin::parse_host(h).map_err(|_| {
                        UsageError(format!("Invalid hostname/address - {}", shown(h)))
                    })?,
                );
                next = old.next();
            }
        }
        let int_percent = |what: &str, t: &str| -> Result<u32, UsageError> {
            t.trim_end_matches('%')
                .parse::<u32>()
                .ok()
                .filter(|v| *v <= 100)
                .ok_or_else(|| {
                    UsageError(format!(
                        "<{what}> ({}) must be an integer percentage",
                        shown(t)
                    ))
                })
        };
        let non_negative = |what: &str, t: &str| -> Result<f64, UsageError> {
            number(t).ok_or_else(|| {
                UsageError(format!(
                    "<{what}> ({}) must be a non-negative number",
                    shown(t)
                ))
            })
        };
        fill(&mut wpl, &mut next, &mut old, |t| int_percent("wpl", t))?;
        fill(&mut cpl, &mut next, &mut old, |t| int_percent("cpl", t))?;
        fill(&mut wrta, &mut next, &mut old, |t| non_negative("wrta", t))?;
        fill(&mut crta, &mut next, &mut old, |t| non_negative("crta", t))?;
        fill(&mut packets, &mut next, &mut old, |t| {
            t.parse().map_err(|_| {
                UsageError(format!(
                    "<max_packets> ({}) must be a non-negative number",
                    shown(t)
                ))
            })
        })?;
        if let Some(t) = next {
            return Err(UsageError(format!("unexpected argument '{}'", shown(t))));
        }
        let wrta = wrta.ok_or_else(|| UsageError::new("<wrta> was not set"))?;
        let crta = crta.ok_or_else(|| UsageError::new("<crta> was not set"))?;
        let wpl = wpl.ok_or_else(|| UsageError::new("<wpl> was not set"))?;
        let cpl = cpl.ok_or_else(|| UsageError::new("<cpl> was not set"))?;
        if wrta > crta {
            return Err(UsageError(format!(
                "<wrta> ({wrta:.6}) cannot be larger than <crta> ({crta:.6})"
            )));
        }
        if wpl > cpl {
            return Err(UsageError(format!(
                "<wpl> ({wpl}) cannot be larger than <cpl> ({cpl})"
            )));
        }
        if hosts.is_empty() {
            return Err(UsageError::new(
                "You must specify a server address or host name",
            ));
        }
        let packets = packets.unwrap_or(5);
        if packets == 0 {
            return Err(UsageError::new("<max_packets> must be at least 1"));
        }
        icmp::within_probes(hosts.len(), packets).map_err(UsageError)?;
        let v6 = icmp::family_flag(args.ipv4, args.ipv6);
        Ok(PingCheck {
            hosts,
            v6,
            wrta,
            crta,
            wpl,
            cpl,
            packets,
            timeout: args.common.timeout.duration,
            verbose: args.common.verbose > 0,
        })
    }

    /// Resolves the hosts and pings them (one address each), within `-t`.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let start = Instant::now();
            let deadline = start + icmp::time_within(self.timeout);
            let (names, targets) = icmp::host_addresses(&self.hosts, self.v6, false, false)
                .map_err(|(h, _)| format!("Invalid hostname/address - {h}"))?;
            let plan = Plan {
                targets,
                count: self.packets,
                interval: Duration::from_secs(1),
                target_interval: Duration::ZERO,
                payload: 56,
                ttl: None,
                source: None,
                completion: icmp::time_within(self.timeout),
                linger_rtts: Some(2),
                stop_at_first_reply: false,
                deadline,
            };
            let run = icmp::ping(&plan)?;
            Ok(names.into_iter().zip(run.echoes).collect())
        })
    }

    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        match facts {
            Ok(hosts) => evaluate(self, hosts),
            Err(why) => CheckResult::unknown(why.clone()),
        }
    }
}

/// The verdict on one host, as the peer words it.
fn one(check: &PingCheck, host: &str, e: &Echoes) -> CheckResult {
    let pl = e.loss_percent();
    let pl_perf = {
        let mut p = PerfData::new("pl", pl).uom(Uom::Percent).min(0);
        p.warn = (check.wpl > 0)
            .then(|| level_field(f64::from(check.wpl)))
            .flatten();
        p.crit = (check.cpl > 0)
            .then(|| level_field(f64::from(check.cpl)))
            .flatten();
        p
    };
    // the rta item: its levels as the peer prints them (none when 0)
    let rta_item = |value: Value| {
        let mut p = PerfData::new("rta", value);
        p.warn = (check.wrta > 0.0)
            .then(|| level_field(check.wrta))
            .flatten();
        p.crit = (check.crta > 0.0)
            .then(|| level_field(check.crta))
            .flatten();
        p
    };
    if e.rtts.is_empty() {
        let summary = match (e.error.filter(|e| e.is_fatal()), &e.send_error) {
            (Some(err), _) => format!("{} ({host})", err.ping_text()),
            (None, Some(why)) if why.contains("unreachable") => {
                format!("Network Unreachable ({host})")
            }
            _ => "Packet loss = 100%".to_string(),
        };
        // no round trip: `rta=U` (undetermined), as the peer prints it
        return CheckResult::new(State::Critical, summary)
            .with_perf(rta_item(Value::Undetermined))
            .with_perf(pl_perf);
    }
    let sum: Duration = e.rtts.iter().sum();
    let rta = sum.as_secs_f64() * 1e3 / e.rtts.len() as f64;
    let state = if pl >= check.cpl || rta >= check.crta {
        State::Critical
    } else if pl >= check.wpl || rta >= check.wrta {
        State::Warning
    } else {
        State::Ok
    };
    let dup = if e.duplicates > 0 {
        "DUPLICATES FOUND! "
    } else {
        ""
    };
    let state = if e.duplicates > 0 {
        state.worst(State::Warning)
    } else {
        state
    };
    let rta_perf = rta_item(Value::from((rta * 1e6).round() / 1e6))
        .uom(Uom::Millis)
        .min(0);
    CheckResult::new(
        state,
        format!("{dup}Packet loss = {pl}%, RTA = {rta:.2} ms"),
    )
    .with_perf(rta_perf)
    .with_perf(pl_perf)
}

/// The verdict: one host as the peer reports it; several, the first that answered is
/// alive (OK), and when none did, the first one's verdict.
pub fn evaluate(check: &PingCheck, hosts: &[(String, Echoes)]) -> CheckResult {
    let mut r = verdict(check, hosts);
    if check.verbose {
        for (name, e) in hosts {
            r.push_line(e.describe(name));
        }
    }
    r
}

fn verdict(check: &PingCheck, hosts: &[(String, Echoes)]) -> CheckResult {
    if hosts.len() > 1 {
        if let Some((name, e)) = hosts.iter().find(|(_, e)| !e.rtts.is_empty()) {
            let mut r = CheckResult::new(State::Ok, format!("{name} is alive"));
            r.perfdata = one(check, name, e).perfdata;
            return r;
        }
    }
    match hosts.first() {
        Some((name, e)) => one(check, name, e),
        None => CheckResult::unknown("no host was pinged"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;

    fn echoes(sent: u32, rtts_us: &[u64]) -> Echoes {
        Echoes {
            sent,
            rtts: rtts_us.iter().map(|u| Duration::from_micros(*u)).collect(),
            ..Echoes::default()
        }
    }

    fn text(check: &PingCheck, hosts: &[(String, Echoes)]) -> (State, String) {
        let r = evaluate(check, hosts);
        (
            r.state(),
            crate::plugin::output::render_text(PingCheck::LABEL, &r),
        )
    }

    #[test]
    fn levels_as_the_peer_reads_them() {
        assert_eq!(
            "100,20%".parse::<Level>().unwrap(),
            Level {
                rta: Some(100.0),
                pl: Some(20)
            }
        );
        assert_eq!("3000.5:80%".parse::<Level>().unwrap().rta, Some(3000.5));
        assert_eq!("10".parse::<Level>().unwrap().pl, None);
        assert_eq!("10%".parse::<Level>().unwrap().rta, None);
        for bad in ["x", "100,20", "1.5", "-1,2%", "a,2%"] {
            assert!(bad.parse::<Level>().is_err(), "{bad}");
        }
    }

    #[test]
    fn options_and_the_old_positional_form() {
        let c = validate::<PingCheck>(&[
            "-H",
            "localhost",
            "-w",
            "10,100%",
            "-c",
            "10,100%",
            "-p",
            "1",
        ])
        .unwrap();
        assert_eq!(
            (c.wrta, c.wpl, c.crta, c.cpl, c.packets),
            (10.0, 100, 10.0, 100, 1)
        );
        let c =
            validate::<PingCheck>(&["localhost", "100", "100", "1000", "1000", "-p", "1"]).unwrap();
        assert_eq!(c.hosts, ["localhost"]);
        assert_eq!(
            (c.wpl, c.cpl, c.wrta, c.crta, c.packets),
            (100, 100, 1000.0, 1000.0, 1)
        );
        for old in [
            &["-H", "h", "-nohtml", "-w", "1,1%", "-c", "2,2%"][..],
            &["-H", "h", "-n", "-w", "1,1%", "-c", "2,2%"],
        ] {
            assert!(validate::<PingCheck>(old).is_ok(), "{old:?}");
        }
        assert!(validate::<PingCheck>(&["-H", "h", "-nx", "-w", "1,1%", "-c", "2,2%"]).is_err());
        let c = validate::<PingCheck>(&["h", "1", "2", "3", "4", "7"]).unwrap();
        assert_eq!(c.packets, 7);
        let c = validate::<PingCheck>(&["-H", "a,b", "-w", "1,1%", "-c", "2,2%"]).unwrap();
        assert_eq!(c.hosts, ["a", "b"]);
        assert_eq!(c.packets, 5);
        for (args, message) in [
            (
                &["-w", "100,10%", "-c", "200,20%"][..],
                "You must specify a server address or host name",
            ),
            (&["-H", "h", "-c", "200,20%"], "<wrta> was not set"),
            (
                &["-H", "h", "-w", "300,10%", "-c", "200,20%"],
                "<wrta> (300.000000) cannot be larger than <crta> (200.000000)",
            ),
            (
                &["-H", "h", "-w", "100,30%", "-c", "200,20%"],
                "<wpl> (30) cannot be larger than <cpl> (20)",
            ),
            (&["h", "x"], "<wpl> (x) must be an integer percentage"),
            (
                &["-H", "a\nb", "-w", "1,1%", "-c", "1,1%"],
                "Invalid hostname/address - a\\nb",
            ),
        ] {
            assert_eq!(
                validate::<PingCheck>(args).unwrap_err().0,
                message,
                "{args:?}"
            );
        }
    }

    #[test]
    fn output_and_perfdata_as_the_peer() {
        let c = validate::<PingCheck>(&["-H", "h", "-w", "100,20%", "-c", "500,60%"]).unwrap();
        let (s, t) = text(&c, &[("h".into(), echoes(5, &[50, 50, 50, 50, 50]))]);
        assert_eq!(s, State::Ok);
        assert_eq!(
            t,
            "PING OK - Packet loss = 0%, RTA = 0.05 ms | rta=0.05ms;100;500;0 pl=0%;20;60;0\n"
        );
        // levels reached at their value
        let (s, _) = text(&c, &[("h".into(), echoes(5, &[50, 50, 50, 50]))]);
        assert_eq!(s, State::Warning);
        let (s, _) = text(&c, &[("h".into(), echoes(5, &[500_000]))]);
        assert_eq!(s, State::Critical);
        let (s, t) = text(&c, &[("h".into(), echoes(5, &[]))]);
        assert_eq!(s, State::Critical);
        assert_eq!(
            t,
            "PING CRITICAL - Packet loss = 100% | rta=U;100;500 pl=100%;20;60;0\n"
        );
        // levels of 0 are not written (as the peer)
        let c0 = validate::<PingCheck>(&["h", "0", "0", "0", "0"]).unwrap();
        let (s, t) = text(&c0, &[("h".into(), echoes(1, &[50]))]);
        assert_eq!(s, State::Critical);
        assert!(t.ends_with("| rta=0.05ms;;;0 pl=0%;;;0\n"), "{t}");
    }

    #[test]
    fn errors_and_several_hosts() {
        let c = validate::<PingCheck>(&["-H", "a,b", "-w", "100,20%", "-c", "500,60%"]).unwrap();
        let mut dead = echoes(5, &[]);
        dead.error = Some(icmp::IcmpError {
            v6: false,
            kind: 3,
            code: 1,
            from: None,
        });
        let (s, t) = text(&c, &[("a".into(), dead.clone())]);
        assert_eq!(s, State::Critical);
        assert!(
            t.starts_with("PING CRITICAL - Host Unreachable (a) |"),
            "{t}"
        );
        let (s, t) = text(
            &c,
            &[("a".into(), dead.clone()), ("b".into(), echoes(5, &[10]))],
        );
        assert_eq!(s, State::Ok);
        assert!(t.starts_with("PING OK - b is alive |"), "{t}");
        let (s, _) = text(
            &c,
            &[("a".into(), dead.clone()), ("b".into(), echoes(5, &[]))],
        );
        assert_eq!(s, State::Critical);
    }
}
