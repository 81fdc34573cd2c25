//! check_ntp_peer: the health of an NTP server from its own point of view, read with
//! ntpd's control queries (mode 6) as monitoring-plugins' check_ntp_peer: whether it has
//! a synchronization source, its offset to it (`-w`/`-c`, seconds), that peer's stratum
//! (`-W`/`-C`) and jitter (`-j`/`-k`), and the number of truechimers (`-m`/`-n`).
//! Text and perfdata (`offset=Ns;w;c;`, `jitter=N;w;c;0`, `stratum=N;w;c;0;16`,
//! `truechimers=N;w;c;0;`) follow the peer; the last three only when their option is
//! given.
//!
//! Without a synchronization source the candidates (selection "included" or better)
//! are read instead and the state is at least WARNING; the peer with the smallest
//! absolute offset gives the offset, stratum and jitter.

use crate::plugin::ntp_args::{NtpServerArgs, OffsetArgs};
use crate::plugin::{
    CheckResult, CommonArgs, Family, PerfData, Range, State, Thresholds, Uom, UsageError, Work,
    EXIT_CODES,
};
use crate::proto::ntp::{self, fmt_g10, resolve, NtpError, LI_ALARM, OP_READSTAT, OP_READVAR};
use clap::Parser;
use std::time::Duration;

/// Command line of check_ntp_peer (the peer's options).
#[derive(Parser, Debug)]
#[command(
    name = "check_ntp_peer",
    version,
    about = "Checks the health of an NTP server (its synchronization source, offset, stratum, jitter and truechimers) through NTP control queries.",
    after_help = format!("To check this host's clock against a server, use check_ntp_time. Where ours differs from Debian's: a threshold that is not a range is refused (exit 3), and a server that answers no control query is CRITICAL \"No response from NTP server\" before the timeout.\n\n{EXIT_CODES}")
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub server: NtpServerArgs,

    /// UNKNOWN instead of CRITICAL (or WARNING) when there is no synchronization source
    #[arg(short = 'q', long = "quiet")]
    pub quiet: bool,

    #[command(flatten)]
    pub offset: OffsetArgs,

    /// Stratum range for WARNING
    #[arg(
        short = 'W',
        long = "swarn",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub swarn: Option<Range>,

    /// Stratum range for CRITICAL
    #[arg(
        short = 'C',
        long = "scrit",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub scrit: Option<Range>,

    /// Jitter (ms) for WARNING
    #[arg(
        short = 'j',
        long = "jwarn",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub jwarn: Option<Range>,

    /// Jitter (ms) for CRITICAL
    #[arg(
        short = 'k',
        long = "jcrit",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub jcrit: Option<Range>,

    /// Number of usable peers (truechimers) for WARNING
    #[arg(
        short = 'm',
        long = "twarn",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub twarn: Option<Range>,

    /// Number of usable peers (truechimers) for CRITICAL
    #[arg(
        short = 'n',
        long = "tcrit",
        value_name = "THRESHOLD",
        allow_hyphen_values = true
    )]
    pub tcrit: Option<Range>,
}

/// The validated check.
#[derive(Debug)]
pub struct NtpPeerCheck {
    pub host: String,
    pub port: u16,
    pub family: Family,
    pub quiet: bool,
    pub offset: Thresholds,
    /// Present when their options were given.
    pub stratum: Option<Thresholds>,
    pub jitter: Option<Thresholds>,
    pub truechimers: Option<Thresholds>,
}

/// What the server said about itself.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Peers {
    pub leap_alarm: bool,
    pub sync_source: bool,
    pub truechimers: u32,
    /// Of the peer with the smallest absolute offset (seconds), when one had an offset.
    pub offset: Option<f64>,
    pub jitter: Option<f64>,
    pub stratum: Option<i64>,
}

/// The facts: the peers, or why they could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum Facts {
    Resolve(String),
    NoResponse,
    Invalid,
    Peers(Peers),
}

/// A pair of optional ranges, or the defaults when neither is given; `None` when the
/// check is not asked for.
fn pair(w: Option<Range>, c: Option<Range>, dw: &str, dc: &str) -> Option<Thresholds> {
    if w.is_none() && c.is_none() {
        return None;
    }
    let parse = |t: &str| t.parse::<Range>().expect("a valid default range");
    Some(Thresholds::new(
        Some(w.unwrap_or_else(|| parse(dw))),
        Some(c.unwrap_or_else(|| parse(dc))),
    ))
}

impl crate::plugin::Check for NtpPeerCheck {
    type Args = Args;
    type Facts = Facts;
    const LABEL: &'static str = "NTP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        Ok(NtpPeerCheck {
            family: args.server.family(),
            host: args.server.hostname,
            port: args.server.port,
            quiet: args.quiet,
            offset: args.offset.thresholds(),
            stratum: pair(args.swarn, args.scrit, "-1:16", "-1:16"),
            jitter: pair(args.jwarn, args.jcrit, "-1:5000", "-1:10000"),
            truechimers: pair(args.twarn, args.tcrit, "0:", "0:"),
        })
    }

    fn fetch(&self) -> Work<'_, Facts> {
        Work::remote(async move {
            let addr = match resolve(&self.host, self.port, self.family).await {
                Ok(a) => a[0],
                Err(e) => return Facts::Resolve(e),
            };
            match read_peers(addr).await {
                Ok(p) => Facts::Peers(p),
                Err(NtpError::Invalid) => Facts::Invalid,
                Err(_) => Facts::NoResponse,
            }
        })
    }

    fn evaluate(&self, facts: &Facts) -> CheckResult {
        let p = match facts {
            Facts::Resolve(e) => return CheckResult::unknown(e.clone()),
            Facts::NoResponse => {
                return CheckResult::new(State::Critical, "No response from NTP server")
            }
            Facts::Invalid => {
                return CheckResult::new(State::Critical, "Invalid packet received from NTP server")
            }
            Facts::Peers(p) => p,
        };
        // the peer's order of states: CRITICAL, WARNING, UNKNOWN, OK
        let alt = |a: State, b: State| {
            let rank = |s: State| match s {
                State::Ok => 0,
                State::Unknown => 1,
                State::Warning => 2,
                State::Critical => 3,
            };
            if rank(b) > rank(a) {
                b
            } else {
                a
            }
        };
        let mut state = if p.sync_source && !p.leap_alarm {
            State::Ok
        } else {
            State::Warning
        };
        let offset = p.offset.unwrap_or(0.0);
        match p.offset {
            None => {
                state = if self.quiet {
                    State::Unknown
                } else {
                    State::Critical
                }
            }
            Some(o) => {
                if self.quiet && state == State::Warning {
                    state = State::Unknown;
                }
                state = alt(state, self.offset.state(o.abs()));
            }
        }
        let offset_state = state;
        let mut text = String::new();
        if !p.sync_source {
            text.push_str("Server not synchronized, ");
        } else if p.leap_alarm {
            text.push_str("Server has the LI_ALARM bit set, ");
        }
        let mark = |s: State| match s {
            State::Warning => " (WARNING)",
            State::Critical => " (CRITICAL)",
            _ => "",
        };
        if p.offset.is_none() {
            text.push_str("Offset unknown");
        } else {
            text.push_str(&format!(
                "Offset {} secs{}",
                fmt_g10(offset),
                mark(offset_state)
            ));
        }
        let mut perf = vec![PerfData::new("offset", offset)
            .uom(Uom::Seconds)
            .thresholds(&self.offset)];
        if let Some(t) = &self.jitter {
            let j = p.jitter.unwrap_or(-1.0);
            let s = t.state(j);
            state = alt(state, s);
            text.push_str(&format!(", jitter={j:.6}{}", mark(s)));
            perf.push(PerfData::new("jitter", j).thresholds(t).min(0));
        }
        if let Some(t) = &self.stratum {
            let v = p.stratum.unwrap_or(-1);
            let s = t.state(v as f64);
            state = alt(state, s);
            text.push_str(&format!(", stratum={v}{}", mark(s)));
            perf.push(PerfData::new("stratum", v).thresholds(t).min(0).max(16));
        }
        if let Some(t) = &self.truechimers {
            let v = p.truechimers;
            let s = t.state(f64::from(v));
            state = alt(state, s);
            text.push_str(&format!(", truechimers={v}{}", mark(s)));
            perf.push(PerfData::new("truechimers", v).thresholds(t).min(0));
        }
        let mut r = CheckResult::new(state, text);
        for x in perf {
            r.push_perf(x);
        }
        r
    }
}

/// Reads the association list, then the variables of the sync source (or of every
/// candidate when there is none).
pub async fn read_peers(addr: std::net::SocketAddr) -> Result<Peers, NtpError> {
    let sock = ntp::connect(addr).await?;
    let (leap, data) = tokio::time::timeout(
        Duration::from_secs(5),
        ntp::control(&sock, OP_READSTAT, 1, 0, b""),
    )
    .await
    .map_err(|_| NtpError::NoResponse)??;
    let assocs = ntp::associations(&data);
    let mut p = Peers {
        leap_alarm: leap == LI_ALARM,
        ..Peers::default()
    };
    let mut candidates = 0;
    for a in &assocs {
        let sel = a.selection();
        if sel >= ntp::SEL_TRUECHIMER {
            p.truechimers += 1;
            if sel >= ntp::SEL_INCLUDED {
                candidates += 1;
                if sel >= ntp::SEL_SYNCSOURCE {
                    p.sync_source = true;
                }
            }
        }
    }
    let min_sel = if p.sync_source {
        ntp::SEL_SYNCSOURCE
    } else {
        ntp::SEL_INCLUDED
    };
    let _ = candidates;
    let mut seq = 2u16;
    for a in assocs.iter().filter(|a| a.selection() >= min_sel).take(64) {
        let mut text = None;
        for vars in ["stratum,offset,jitter", "stratum,offset,dispersion", ""] {
            seq = seq.wrapping_add(1);
            let asked = tokio::time::timeout(
                Duration::from_secs(5),
                ntp::control(&sock, OP_READVAR, seq, a.id, vars.as_bytes()),
            )
            .await
            .map_err(|_| NtpError::NoResponse)?;
            match asked {
                Ok((_, d)) => {
                    text = Some((String::from_utf8_lossy(&d).into_owned(), vars));
                    break;
                }
                Err(NtpError::Refused) => continue,
                Err(e) => return Err(e),
            }
        }
        let Some((text, vars)) = text else { continue };
        let Some(offset) = ntp::variable(&text, "offset").and_then(|v| v.parse::<f64>().ok())
        else {
            continue;
        };
        let offset = offset / 1000.0;
        if p.offset.is_some_and(|o| offset.abs() >= o.abs()) {
            continue;
        }
        p.offset = Some(offset);
        let jitter_name = if vars.contains("dispersion") {
            "dispersion"
        } else {
            "jitter"
        };
        p.jitter = ntp::variable(&text, jitter_name).and_then(|v| v.parse().ok());
        p.stratum = ntp::variable(&text, "stratum").and_then(|v| v.parse().ok());
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::Check;

    fn check(argv: &[&str]) -> NtpPeerCheck {
        crate::plugin::runner::validate::<NtpPeerCheck>(argv).unwrap()
    }

    fn synced() -> Peers {
        Peers {
            leap_alarm: false,
            sync_source: true,
            truechimers: 1,
            offset: Some(0.0),
            jitter: Some(0.0),
            stratum: Some(3),
        }
    }

    fn line(c: &NtpPeerCheck, p: Peers) -> (State, String) {
        let r = c.evaluate(&Facts::Peers(p));
        let text = crate::plugin::output::render_text("NTP", &r);
        (r.state(), text.lines().next().unwrap().to_string())
    }

    #[test]
    fn as_the_peer_prints() {
        let c = check(&["-H", "h"]);
        assert_eq!(
            line(&c, synced()),
            (
                State::Ok,
                "NTP OK - Offset 0 secs | offset=0s;60;120".into()
            )
        );
        let c = check(&[
            "-H", "h", "-w", "1", "-c", "2", "-W", "2", "-C", "4", "-j", "1", "-k", "2", "-m", "1",
            "-n", "0",
        ]);
        let (s, l) = line(&c, synced());
        assert_eq!(s, State::Critical);
        assert!(
            l.starts_with("NTP CRITICAL - Offset 0 secs, jitter=0.000000, stratum=3 (WARNING), truechimers=1 (CRITICAL) | offset=0s;1;2 jitter=0;1;2;0 stratum=3;2;4;0;16 truechimers=1;1;0;0"),
            "{l}"
        );
        let c = check(&["-H", "h", "-W", "1", "-C", "5"]);
        assert_eq!(line(&c, synced()).0, State::Warning);
        let c = check(&["-H", "h", "-w", "1000:", "-c", "2000"]);
        let (s, l) = line(&c, synced());
        assert_eq!(s, State::Warning);
        assert!(l.contains("Offset 0 secs (WARNING)"), "{l}");
    }

    #[test]
    fn unsynchronized() {
        let c = check(&["-H", "h"]);
        let none = Peers::default();
        let (s, l) = line(&c, none.clone());
        assert_eq!(s, State::Critical);
        assert!(
            l.starts_with("NTP CRITICAL - Server not synchronized, Offset unknown"),
            "{l}"
        );
        assert_eq!(line(&check(&["-H", "h", "-q"]), none).0, State::Unknown);
        // candidates but no sync source: WARNING (UNKNOWN with -q)
        let cand = Peers {
            sync_source: false,
            ..synced()
        };
        assert_eq!(line(&c, cand.clone()).0, State::Warning);
        assert_eq!(line(&check(&["-H", "h", "-q"]), cand).0, State::Unknown);
        let alarm = Peers {
            leap_alarm: true,
            ..synced()
        };
        let (s, l) = line(&c, alarm);
        assert_eq!(s, State::Warning);
        assert!(l.contains("Server has the LI_ALARM bit set, "), "{l}");
        let r = c.evaluate(&Facts::NoResponse);
        assert_eq!(r.state(), State::Critical);
        assert!(crate::plugin::runner::validate::<NtpPeerCheck>(&["-H", "h", "-j", "x"]).is_err());
    }
}
