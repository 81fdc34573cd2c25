//! check_host: check_icmp under the name monitoring-plugins gives its host-check mode
//! (Debian's check_host is a link to check_icmp). Every address of each host is pinged,
//! a request a second (`-i 1s`), and the run ends at the first reply: `HOST responds to
//! ICMP. Packet 1, rta 0.035ms`, perfdata `pkt` and `rta` (no unit, as the peer), always
//! OK — the levels (1000ms,100% unless given) are only written in the perfdata. When
//! nothing answers, the verdict is check_icmp's with those levels: CRITICAL at 100% loss.

use super::{ms3, Args, HostEchoes, IcmpCheck, IcmpFacts, Mode};
use crate::plugin::{
    renamed_args, Check, CheckResult, CommonArgs, PerfData, State, UsageError, Work, EXIT_CODES,
};
use crate::proto::icmp::level_field;
use clap::Command;
use std::time::Duration;

/// check_host's mode: both levels 1000ms,100%, a second between rounds, done at the
/// first reply.
pub const HOST_MODE: Mode = Mode {
    warn: (Duration::from_secs(1), 100),
    crit: (Duration::from_secs(1), 100),
    interval: Duration::from_secs(1),
    host_check: true,
};

renamed_args! {
    /// check_icmp's command line under check_host's name and defaults.
    pub struct HostArgs(Args), rename
}

const ABOUT: &str = "Checks that a host is alive: OK at its first ICMP echo reply \
(monitoring-plugins' check_host, the host-check mode of check_icmp).";

fn after_help() -> String {
    format!(
        "Every address of each host is pinged (-4/-6 keep one family), one request to each \
a second (-i), at most -n rounds; the check ends at the first reply from any of them and \
is OK: `HOST responds to ICMP. Packet N, rta 0.035ms`, perfdata pkt (replies; max the \
packets) and rta (ms, no unit, as Debian's) with the levels. -w/-c (default \
1000ms,100%) are written in the perfdata only, as Debian's; when no reply comes, the \
verdict is check_icmp's with them (`HOST: rta nan, lost 100%`, CRITICAL).\n\n\
Where ours differs from Debian's: the socket (an unprivileged ICMP socket where the \
kernel allows it, else a raw one), IPv4 and IPv6 hosts may be mixed, and -t bounds the \
whole run, as in our check_icmp.\n\n{EXIT_CODES}"
    )
}

fn rename(cmd: Command) -> Command {
    cmd.name("check_host")
        .bin_name("check_host")
        .about(ABOUT)
        .after_help(after_help())
        .mut_arg("warning", |a| {
            a.help("Warning level: round-trip average and packet loss, written in the perfdata (default 1000ms,100%)")
        })
        .mut_arg("critical", |a| {
            a.help("Critical level: round-trip average and packet loss, the verdict when no reply comes (default 1000ms,100%)")
        })
        .mut_arg("interval", |a| {
            a.help("Longest wait between two rounds of packets (default 1s)")
        })
}

/// The check behind check_host: check_icmp in [`HOST_MODE`].
#[derive(Debug)]
pub struct HostCheck(pub IcmpCheck);

impl Check for HostCheck {
    type Args = HostArgs;
    type Facts = IcmpFacts;
    const LABEL: &'static str = IcmpCheck::LABEL;

    fn common(args: &HostArgs) -> &CommonArgs {
        &args.0.common
    }

    fn new(args: HostArgs) -> Result<Self, UsageError> {
        IcmpCheck::in_mode(args.0, HOST_MODE).map(HostCheck)
    }

    fn fetch(&self) -> Work<'_, IcmpFacts> {
        self.0.fetch()
    }

    fn evaluate(&self, facts: &IcmpFacts) -> CheckResult {
        self.0.evaluate(facts)
    }
}

/// The host check's verdict once anything answered: OK, naming the host of the first
/// reply, the replies so far and that reply's round trip; `None` when nothing answered.
pub fn alive(check: &IcmpCheck, hosts: &[HostEchoes]) -> Option<CheckResult> {
    let answered = || {
        hosts
            .iter()
            .filter_map(|h| Some((h, h.echoes.as_ref().ok()?)))
    };
    let (name, first) = answered().find_map(|(h, e)| Some((&h.name, *e.rtts.first()?)))?;
    let replies: usize = answered().map(|(_, e)| e.rtts.len()).sum();
    let rta = ms3(first);
    let mut rta_item = PerfData::new("rta", rta);
    rta_item.warn = level_field(ms3(check.warn.0));
    rta_item.crit = level_field(ms3(check.crit.0));
    Some(
        CheckResult::new(
            State::Ok,
            format!("{name} responds to ICMP. Packet {replies}, rta {rta:.3}ms"),
        )
        .with_perf(
            PerfData::new("pkt", replies)
                .min(0)
                .max(u32::from(check.packets)),
        )
        .with_perf(rta_item),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::{parse_args, validate};
    use crate::proto::icmp::Echoes;
    use clap::CommandFactory;

    fn host(name: &str, rtts_us: &[u64]) -> HostEchoes {
        HostEchoes {
            name: name.into(),
            echoes: Ok(Echoes {
                sent: 1,
                rtts: rtts_us.iter().map(|u| Duration::from_micros(*u)).collect(),
                ..Echoes::default()
            }),
        }
    }

    fn text(check: &HostCheck, hosts: &[HostEchoes]) -> (State, String) {
        let r = check.evaluate(&Ok(hosts.to_vec()));
        (
            r.state(),
            crate::plugin::output::render_text(HostCheck::LABEL, &r),
        )
    }

    #[test]
    fn the_first_reply_is_ok_with_the_peers_perfdata() {
        let c = validate::<HostCheck>(&["-H", "a.test", "-H", "b.test"]).unwrap();
        assert!(c.0.host_check);
        assert_eq!(
            (c.0.warn, c.0.crit, c.0.interval),
            (HOST_MODE.warn, HOST_MODE.crit, Duration::from_secs(1))
        );
        let (s, t) = text(&c, &[host("a.test", &[]), host("b.test", &[35])]);
        assert_eq!(s, State::Ok);
        assert_eq!(
            t,
            "ICMP OK - b.test responds to ICMP. Packet 1, rta 0.035ms | pkt=1;;;0;5 rta=0.035;1000;1000\n"
        );
        // the levels given are written, and change nothing once a reply came
        let c =
            validate::<HostCheck>(&["-H", "a.test", "-w", "0.01,10%", "-c", "0.02,20%"]).unwrap();
        let (s, t) = text(&c, &[host("a.test", &[35])]);
        assert_eq!(s, State::Ok);
        assert!(t.ends_with("| pkt=1;;;0;5 rta=0.035;0.01;0.02\n"), "{t}");
    }

    #[test]
    fn no_reply_is_check_icmps_verdict() {
        let c = validate::<HostCheck>(&["-H", "a.test"]).unwrap();
        let (s, t) = text(&c, &[host("a.test", &[])]);
        assert_eq!(s, State::Critical);
        assert!(
            t.starts_with(
                "ICMP CRITICAL - a.test: rta nan, lost 100% | rta=0ms;1000;1000;0 pl=100%;100;100"
            ),
            "{t}"
        );
    }

    #[test]
    fn named_check_host_with_its_defaults_in_the_help() {
        assert_eq!(HostArgs::command().get_name(), "check_host");
        let help = match parse_args::<HostCheck>(["check_host", "--help"]).unwrap() {
            Err(text) => text,
            Ok(_) => panic!("--help parsed as a run"),
        };
        assert!(help.contains("check_host"), "{help}");
        assert!(help.contains("default 1000ms,100%"), "{help}");
        assert!(help.contains("(default 1s)"), "{help}");
        assert!(!help.contains("200ms,40%"), "{help}");
        // check_icmp keeps its own
        let icmp = match parse_args::<IcmpCheck>(["check_icmp", "--help"]).unwrap() {
            Err(text) => text,
            Ok(_) => panic!("--help parsed as a run"),
        };
        assert!(icmp.contains("default 200ms,40%"), "{icmp}");
    }
}
