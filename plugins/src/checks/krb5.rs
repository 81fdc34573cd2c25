//! check_krb5: asks each KDC for a ticket (an AS-REQ) over UDP and TCP. Without a keytab
//! the request carries no pre-authentication: a PREAUTH_REQUIRED error or an AS-REP
//! means the KDC is up and knows the principal. With `--keytab` the request carries an
//! encrypted timestamp made with the keytab's key (RFC 4120 PA-ENC-TIMESTAMP, key
//! usage 1) and the AS-REP's encrypted part is decrypted with it (key usage 3): the KDC has
//! the key the keytab has. Optionally the kadmind port of each KDC is connected to.
//!
//! Arguments → [`Krb5Check`] → [`Krb5Check::exchange`] (the exchanges, through
//! [`crate::proto::krb`], which holds the Kerberos messages and keytab reader) →
//! [`evaluate`] (pure), as the [`Check`] trait's `fetch` and `evaluate`.

use crate::plugin::args::ResponseTimeArgs;
use crate::plugin::{
    judge, parse_host, parse_port, shown, Check, CheckResult, CommonArgs, Observed, PerfData,
    ServerSetArgs, State, Thresholds, Uom, UsageError, Work,
};
use crate::proto::krb::{self, KdcError, Key, Outcome, Principal, Transport};
use crate::proto::net;
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Command line of check_krb5.
#[derive(Parser, Debug)]
#[command(
    name = "check_krb5",
    version,
    about = "Asks Kerberos KDCs for a ticket: liveness, known principal, and with --keytab the keys.",
    after_help = "Without --keytab: KDC up = PREAUTH_REQUIRED or an AS-REP for the principal. \
With --keytab: a full AS exchange with encrypted timestamp pre-authentication, proving the \
KDC has the keytab's key (aes256-cts-hmac-sha1-96 or aes128-cts-hmac-sha1-96).\n\n\
Timeouts (-t): a KDC still silent as the time runs out is a CRITICAL sub-result while \
others answer; when nothing answered in time, the result takes the state -t names (CRITICAL \
unless given, e.g. -t 5:UNKNOWN).\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, unreadable keytab, \
internal error). --help and --version exit 0.",
    mut_arg("hosts", |a| a.help("KDCs to ask, master and slaves (comma-separated or repeated; HOST or HOST:PORT)")),
    mut_arg("port", |a| a.help("KDC port (default 88)"))
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub kdcs: ServerSetArgs,

    /// Realm (default: the principal's)
    #[arg(short = 'r', long = "realm", value_name = "REALM")]
    pub realm: Option<String>,

    /// Client principal (NAME[/INSTANCE][@REALM]); default krbtgt/REALM
    #[arg(short = 'P', long = "principal", value_name = "PRINCIPAL")]
    pub principal: Option<String>,

    /// Keytab holding the principal's key: do the full AS exchange with it
    #[arg(short = 'k', long = "keytab", value_name = "FILE")]
    pub keytab: Option<PathBuf>,

    /// Transports to use
    #[arg(long = "transport", value_enum, default_value_t = Transports::Both)]
    pub transport: Transports,

    /// Also connect to kadmind on this TCP port of each KDC (749)
    #[arg(long = "kadmin-port", value_name = "PORT", value_parser = parse_port)]
    pub kadmin_port: Option<u16>,

    #[command(flatten)]
    pub time: ResponseTimeArgs,
}

/// Which transports to ask over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Transports {
    Udp,
    Tcp,
    Both,
}

/// The validated check.
#[derive(Debug)]
pub struct Krb5Check {
    pub kdcs: Vec<(String, u16)>,
    pub principal: Principal,
    /// The keytab holding the principal's key, read when the check runs.
    pub keytab: Option<PathBuf>,
    pub transports: Vec<Transport>,
    pub kadmin_port: Option<u16>,
    pub time: Thresholds,
    pub budget: Duration,
}

/// One exchange with one KDC over one transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub kdc: String,
    pub transport: Transport,
    /// The answer (already checked against the key, when there is one) and the time.
    pub outcome: Result<(Outcome, Duration), KdcError>,
}

/// What the KDCs and kadminds did.
#[derive(Debug, Clone, PartialEq)]
pub struct Exchanges {
    /// The key version of the keytab's key, when a keytab is used.
    pub kvno: Option<u32>,
    pub probes: Vec<Probe>,
    /// kadmind connections: host and the time or the error.
    pub kadmin: Vec<(String, Result<Duration, KdcError>)>,
}

/// What the check found: the exchanges, or why none could be made here (an unreadable
/// keytab).
pub type Facts = Observed<Exchanges>;

impl Check for Krb5Check {
    type Args = Args;
    type Facts = Facts;
    const LABEL: &'static str = "KRB5";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let kdcs = args
            .kdcs
            .hosts
            .hosts
            .iter()
            .map(|h| kdc(h, args.kdcs.port_or(88)))
            .collect::<Result<Vec<_>, _>>()?;
        let principal = match (&args.principal, &args.realm) {
            (Some(p), r) => krb::parse_principal(p, r.as_deref()),
            (None, Some(r)) => krb::parse_principal(&format!("krbtgt/{r}"), Some(r)),
            (None, None) => Err("give the realm (-r) or a principal (-P)".to_string()),
        }
        .map_err(UsageError)?;
        if args.keytab.is_some() && args.principal.is_none() {
            return Err(UsageError::new("--keytab needs the principal (-P)"));
        }
        let transports = match args.transport {
            Transports::Udp => vec![Transport::Udp],
            Transports::Tcp => vec![Transport::Tcp],
            Transports::Both => vec![Transport::Udp, Transport::Tcp],
        };
        let timeout = args.common.timeout.duration;
        Ok(Krb5Check {
            kdcs,
            principal,
            keytab: args.keytab,
            transports,
            kadmin_port: args.kadmin_port,
            time: args.time.thresholds(),
            budget: timeout - (timeout / 10).min(Duration::from_millis(500)),
        })
    }

    fn fetch(&self) -> Work<'_, Facts> {
        Work::remote(self.exchange())
    }

    fn evaluate(&self, facts: &Facts) -> CheckResult {
        // an unreadable keytab: the check cannot be made here (UNKNOWN)
        judge(facts, |exchanges| evaluate(exchanges, self))
    }
}

/// A KDC given as `HOST`, `HOST:PORT` or `[V6]:PORT`: the host validated as a name or
/// an address and the port as 1-65535, never echoed raw.
fn kdc(text: &str, default_port: u16) -> Result<(String, u16), UsageError> {
    let h = text.trim();
    let (host, port) = match h.rsplit_once(':') {
        Some((a, p)) if !a.contains(':') || a.starts_with('[') => (a, Some(p)),
        _ => (h, None),
    };
    if host.trim_matches(|c| c == '[' || c == ']').is_empty() {
        return Err(UsageError::new("empty host name in -H"));
    }
    let host = parse_host(host).map_err(UsageError)?;
    let port = match port {
        None => default_port,
        Some(p) => {
            parse_port(p).map_err(|e| UsageError(format!("bad port in '{}': {e}", shown(h))))?
        }
    };
    Ok((host, port))
}

impl Krb5Check {
    /// The keytab's key for the principal, when a keytab is given.
    pub fn key(&self) -> Result<Option<Key>, String> {
        let Some(path) = &self.keytab else {
            return Ok(None);
        };
        krb::read_keytab(path, &self.principal).map(Some)
    }

    /// Reads the keytab, asks every KDC over every transport at once, and connects to
    /// kadmind. Only an unreadable keytab is an error; what the KDCs did is in the facts.
    pub async fn exchange(&self) -> Facts {
        let key = self.key()?;
        let key = key.as_ref();
        let mut jobs = Vec::new();
        for (host, port) in &self.kdcs {
            for &t in &self.transports {
                jobs.push(async move {
                    let outcome = match net::resolve(host, *port, net::Family::Any).await {
                        Err(e) => Err(KdcError::Failed(e.to_string())),
                        Ok(addrs) => {
                            krb::as_exchange(addrs[0], t, &self.principal, key, self.budget).await
                        }
                    };
                    Probe {
                        kdc: format!("{host}:{port}"),
                        transport: t,
                        outcome,
                    }
                });
            }
        }
        let kadmin = async {
            let Some(kp) = self.kadmin_port else {
                return Vec::new();
            };
            let one = |host: String| async move {
                let r = krb::connect(&host, kp, self.budget).await;
                (format!("{host}:{kp}"), r)
            };
            futures_util::future::join_all(self.kdcs.iter().map(|(h, _)| one(h.clone()))).await
        };
        let (probes, kadmin) = tokio::join!(futures_util::future::join_all(jobs), kadmin);
        Ok(Exchanges {
            kvno: key.map(|k| k.kvno),
            probes,
            kadmin,
        })
    }
}

/// Turns the exchanges into the result (pure).
pub fn evaluate(facts: &Exchanges, check: &Krb5Check) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let p = &check.principal;
    for probe in &facts.probes {
        let name = format!("{} {}", probe.kdc, probe.transport);
        let (state, text) = match &probe.outcome {
            Err(e) => (State::Critical, format!("{name}: {e}")),
            Ok((outcome, rtt)) => {
                let secs = rtt.as_secs_f64();
                r.push_perf(
                    PerfData::new(
                        format!("time_{}_{}", probe.kdc, probe.transport),
                        (secs * 1e6).round() / 1e6,
                    )
                    .uom(Uom::Seconds)
                    .thresholds(&check.time)
                    .min(0.0),
                );
                let timed = check.time.state(secs);
                match outcome {
                    Outcome::Ticket if check.keytab.is_some() => (
                        timed,
                        format!(
                            "{name}: ticket for {p} with the keytab's key (kvno {}) in {secs:.3}s",
                            facts.kvno.unwrap_or(0)
                        ),
                    ),
                    Outcome::Ticket => (timed, format!("{name}: ticket for {p} without pre-authentication in {secs:.3}s")),
                    Outcome::Error { code: 25, .. } if check.keytab.is_none() => (
                        timed,
                        format!("{name}: up, {p} requires pre-authentication, in {secs:.3}s"),
                    ),
                    Outcome::Error { code: 6, .. } => {
                        (State::Critical, format!("{name}: principal {p} unknown to the KDC"))
                    }
                    Outcome::Error { code: 68, .. } => {
                        (State::Critical, format!("{name}: the KDC does not serve realm {}", p.realm))
                    }
                    Outcome::Error { code: 37, skew } => (
                        State::Critical,
                        format!(
                            "{name}: clock skew too great{}",
                            skew.map_or(String::new(), |s| format!(" (KDC clock {s:+}s from ours)"))
                        ),
                    ),
                    Outcome::Error { code: 24, .. } | Outcome::Error { code: 31, .. } => (
                        State::Critical,
                        format!(
                            "{name}: the KDC rejects the keytab's key for {p} (kvno {}): stale keytab?",
                            facts.kvno.unwrap_or(0)
                        ),
                    ),
                    Outcome::Error { code, .. } => (
                        State::Critical,
                        format!("{name}: KDC error {code} ({})", krb::error_name(*code)),
                    ),
                }
            }
        };
        r.push_sub(state, text);
    }
    for (kadmin, res) in &facts.kadmin {
        match res {
            Ok(t) => r.push_sub(
                State::Ok,
                format!(
                    "kadmind {kadmin} accepts connections in {:.3}s",
                    t.as_secs_f64()
                ),
            ),
            Err(e) => r.push_sub(State::Critical, format!("kadmind {kadmin}: {e}")),
        }
    }
    let what = if check.keytab.is_some() {
        "keytab key accepted"
    } else {
        "answering"
    };
    let n = check.kdcs.len();
    r.summarize_troubles(format!(
        "{n} KDC{} {what} for {p}",
        if n == 1 { "" } else { "s" }
    ));
    if facts.nothing_in_time() {
        r.into_timed_out()
    } else {
        r
    }
}

impl Exchanges {
    /// True when every exchange and connect ran out of time: nothing answered.
    pub fn nothing_in_time(&self) -> bool {
        let probes = self.probes.iter().map(|p| p.outcome.as_ref().err());
        let kadmin = self.kadmin.iter().map(|(_, r)| r.as_ref().err());
        let mut all = probes.chain(kadmin).peekable();
        all.peek().is_some() && all.all(|e| e.is_some_and(KdcError::is_timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::{completed, validate};

    fn check(argv: &[&str]) -> Result<Krb5Check, UsageError> {
        validate::<Krb5Check>(argv)
    }

    /// The check's verdict on exchanges that were made.
    fn evaluate(facts: &Exchanges, check: &Krb5Check) -> CheckResult {
        check.evaluate(&Ok(facts.clone()))
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert!(check(&["-H", "kdc"]).is_err());
        assert!(check(&["-H", "kdc", "-P", "alice@A", "-r", "B"]).is_err());
        assert!(check(&["-H", "kdc:0", "-r", "A"]).is_err());
        assert!(check(&["-H", "", "-r", "A"]).is_err());
        assert!(check(&["-H", "kdc", "-r", "A", "-k", "/nonexistent"]).is_err());
        assert!(check(&["-H", "kdc", "-r", "A", "-w", "3:1"]).is_err());
        let c = check(&["-H", "kdc1,kdc2:8888", "-r", "HCOOP.TEST"]).unwrap();
        assert_eq!(
            c.kdcs,
            [("kdc1".to_string(), 88), ("kdc2".to_string(), 8888)]
        );
        assert_eq!(c.principal.to_string(), "krbtgt/HCOOP.TEST@HCOOP.TEST");
        let c = check(&["-H", "[::1]:8888,::1", "-r", "A"]).unwrap();
        assert_eq!(c.kdcs, [("::1".to_string(), 8888), ("::1".to_string(), 88)]);
    }

    #[test]
    fn time_levels_keep_plain_numbers_and_take_units() {
        let time = |argv: &[&str]| {
            let argv = [&["-H", "kdc", "-r", "A"][..], argv].concat();
            check(&argv).map(|c| c.time)
        };
        let ranges =
            |w: &str, c: &str| Thresholds::new(Some(w.parse().unwrap()), Some(c.parse().unwrap()));
        assert_eq!(time(&["-w", "0.5", "-c", "1"]), Ok(ranges("0.5", "1")));
        assert_eq!(time(&["-w", "500ms", "-c", "1s"]), Ok(ranges("0.5", "1")));
        assert_eq!(time(&["-w", "@1:2", "-c", "2m"]), Ok(ranges("@1:2", "120")));
        assert_eq!(time(&[]), Ok(Thresholds::default()));
        assert_eq!(
            time(&["-w", "5%"]).unwrap_err().0,
            "invalid value '5%' for '--warning <SECONDS>': invalid threshold '5%': this option takes a duration (2.5, 500ms, 2m)"
        );
        assert_eq!(
            time(&["-c", "3:1"]).unwrap_err().0,
            "invalid value '3:1' for '--critical <SECONDS>': invalid range '3:1': start is greater than end"
        );
    }

    #[test]
    fn hosts_ports_and_principals_are_never_echoed_raw() {
        let err = |argv: &[&str]| check(argv).unwrap_err().0;
        assert_eq!(
            err(&["-H", "kdc\nx", "-r", "A"]),
            "invalid host 'kdc\\nx': '\\n' is not allowed in a host name"
        );
        let long = "k".repeat(100_000);
        let e = err(&["-H", &long, "-r", "A"]);
        assert!(
            e.len() < 300 && e.ends_with("longer than 253 characters"),
            "{e}"
        );
        let e = err(&["-H", &format!("kdc:{long}"), "-r", "A"]);
        assert!(
            e.len() < 600 && e.starts_with("bad port in 'kdc:kkk"),
            "{e}"
        );
        assert_eq!(
            err(&["-H", "kdc:0", "-r", "A"]),
            "bad port in 'kdc:0': port 0 is out of range (1-65535)"
        );
        assert!(
            err(&["-H", "kdc", "-r", "A", "-p", "0"]).ends_with("port 0 is out of range (1-65535)")
        );
        assert!(err(&["-H", "kdc", "-r", "A", "--kadmin-port", "0"])
            .ends_with("port 0 is out of range (1-65535)"));
        assert_eq!(
            err(&["-H", "kdc", "-P", "alice\n@A"]),
            "'alice\\n@A' is not a principal or realm: it holds control characters"
        );
        let e = err(&["-H", "kdc", "-r", &long]);
        assert!(
            e.len() < 300 && e.ends_with("is longer than 256 bytes"),
            "{e}"
        );
    }

    #[test]
    fn an_unreadable_keytab_is_unknown_when_the_check_runs() {
        // validation reads no file; the run does
        let c = check(&["-H", "kdc", "-P", "a@A", "-k", "/nonexistent"]).unwrap();
        let e = c.key().unwrap_err();
        assert!(e.starts_with("cannot read keytab /nonexistent: "), "{e}");
        assert!(matches!(c.run(), Work::Remote(_)));
        let r = completed(c.run());
        assert_eq!(r.state(), State::Unknown);
        assert_eq!(r.summary, e);
        assert_eq!(
            render_text("KRB5", &c.evaluate(&Err(e.clone()))),
            format!("KRB5 UNKNOWN - {e}\n")
        );
    }

    #[test]
    fn states_per_kdc() {
        let c = check(&[
            "-H",
            "kdc1,kdc2",
            "-P",
            "alice@HCOOP.TEST",
            "--transport",
            "udp",
            "-w",
            "0.5",
        ])
        .unwrap();
        let probe = |kdc: &str, outcome| Probe {
            kdc: kdc.into(),
            transport: Transport::Udp,
            outcome,
        };
        let facts = Exchanges {
            probes: vec![
                probe(
                    "kdc1:88",
                    Ok((
                        Outcome::Error {
                            code: 25,
                            skew: Some(0),
                        },
                        Duration::from_millis(2),
                    )),
                ),
                probe(
                    "kdc2:88",
                    Err(KdcError::NoAnswer(Duration::from_millis(9500))),
                ),
            ],
            kvno: None,
            kadmin: vec![],
        };
        assert_eq!(
            render_text("KRB5", &evaluate(&facts, &c)),
            "KRB5 CRITICAL - kdc2:88 udp: no answer within 9.5s | time_kdc1:88_udp=0.002s;0.5;;0\n[OK] kdc1:88 udp: up, alice@HCOOP.TEST requires pre-authentication, in 0.002s\n[CRITICAL] kdc2:88 udp: no answer within 9.5s\n"
        );
        let one = |outcome| Exchanges {
            probes: vec![probe("kdc1:88", Ok((outcome, Duration::from_millis(2))))],
            kvno: None,
            kadmin: vec![],
        };
        let r = evaluate(
            &one(Outcome::Error {
                code: 6,
                skew: None,
            }),
            &c,
        );
        assert_eq!(
            r.summary,
            "kdc1:88 udp: principal alice@HCOOP.TEST unknown to the KDC"
        );
        let r = evaluate(
            &one(Outcome::Error {
                code: 37,
                skew: Some(-600),
            }),
            &c,
        );
        assert_eq!(
            r.summary,
            "kdc1:88 udp: clock skew too great (KDC clock -600s from ours)"
        );
        let r = evaluate(&one(Outcome::Ticket), &c);
        assert_eq!(r.state(), State::Ok);
        assert_eq!(r.summary, "2 KDCs answering for alice@HCOOP.TEST");
    }

    #[test]
    fn nothing_answered_in_time_is_a_timeout() {
        let c = check(&["-H", "kdc1", "-r", "HCOOP.TEST", "--transport", "udp"]).unwrap();
        let silent = Probe {
            kdc: "kdc1:88".into(),
            transport: Transport::Udp,
            outcome: Err(KdcError::NoAnswer(Duration::from_millis(1800))),
        };
        let facts = Exchanges {
            kvno: None,
            probes: vec![silent.clone()],
            kadmin: vec![],
        };
        let r = evaluate(&facts, &c);
        assert!(r.timed_out);
        assert_eq!(
            render_text("KRB5", &r.with_timeout_state(State::Unknown)),
            "KRB5 UNKNOWN - kdc1:88 udp: no answer within 1.8s\nkdc1:88 udp: no answer within 1.8s\n"
        );
        // a refused kadmind is an answer: CRITICAL whatever -t says
        let refused = Exchanges {
            kadmin: vec![(
                "kdc1:749".into(),
                Err(KdcError::Failed("Connection refused (os error 111)".into())),
            )],
            ..facts.clone()
        };
        let r = evaluate(&refused, &c);
        assert!(!r.timed_out);
        assert_eq!(r.state(), State::Critical);
        // one KDC answers, another is silent: a CRITICAL sub-result
        let mixed = Exchanges {
            probes: vec![
                Probe {
                    kdc: "kdc2:88".into(),
                    outcome: Ok((
                        Outcome::Error {
                            code: 25,
                            skew: None,
                        },
                        Duration::from_millis(3),
                    )),
                    ..silent.clone()
                },
                silent,
            ],
            ..facts
        };
        let r = evaluate(&mixed, &c);
        assert!(!r.timed_out);
        assert_eq!(r.summary, "kdc1:88 udp: no answer within 1.8s");
        assert_eq!(r.state(), State::Critical);
    }

    #[test]
    fn keytab_tickets_kdc_errors_kadmind_and_time_levels() {
        let c = check(&[
            "-H",
            "kdc1",
            "-P",
            "alice@HCOOP.TEST",
            "-k",
            "/etc/alice.keytab",
            "--transport",
            "tcp",
            "-w",
            "0.5",
            "-c",
            "1",
        ])
        .unwrap();
        let facts = |outcome, ms| Exchanges {
            kvno: Some(3),
            probes: vec![Probe {
                kdc: "kdc1:88".into(),
                transport: Transport::Tcp,
                outcome: Ok((outcome, Duration::from_millis(ms))),
            }],
            kadmin: vec![],
        };
        let r = evaluate(&facts(Outcome::Ticket, 2), &c);
        assert_eq!(
            render_text("KRB5", &r),
            "KRB5 OK - 1 KDC keytab key accepted for alice@HCOOP.TEST | time_kdc1:88_tcp=0.002s;0.5;1;0\n[OK] kdc1:88 tcp: ticket for alice@HCOOP.TEST with the keytab's key (kvno 3) in 0.002s\n"
        );
        // slow: the time levels
        assert_eq!(
            evaluate(&facts(Outcome::Ticket, 700), &c).state(),
            State::Warning
        );
        assert_eq!(
            evaluate(&facts(Outcome::Ticket, 1500), &c).state(),
            State::Critical
        );
        let err = |code| Outcome::Error { code, skew: None };
        for (code, summary) in [
            (24, "kdc1:88 tcp: the KDC rejects the keytab's key for alice@HCOOP.TEST (kvno 3): stale keytab?"),
            (31, "kdc1:88 tcp: the KDC rejects the keytab's key for alice@HCOOP.TEST (kvno 3): stale keytab?"),
            (68, "kdc1:88 tcp: the KDC does not serve realm HCOOP.TEST"),
            (37, "kdc1:88 tcp: clock skew too great"),
            // with a keytab, PREAUTH_REQUIRED means the timestamp was not taken
            (25, "kdc1:88 tcp: KDC error 25 (KDC_ERR_PREAUTH_REQUIRED)"),
            (99, "kdc1:88 tcp: KDC error 99 (unknown error)"),
        ] {
            let r = evaluate(&facts(err(code), 2), &c);
            assert_eq!(r.state(), State::Critical, "{code}");
            assert_eq!(r.summary, summary, "{code}");
        }
        // kadmind: connected, or not
        let mut f = facts(Outcome::Ticket, 2);
        f.kadmin = vec![
            ("kdc1:749".into(), Ok(Duration::from_millis(1))),
            (
                "kdc2:749".into(),
                Err(KdcError::Failed("Connection refused (os error 111)".into())),
            ),
        ];
        assert_eq!(
            render_text("KRB5", &evaluate(&f, &c)),
            "KRB5 CRITICAL - kadmind kdc2:749: Connection refused (os error 111) | time_kdc1:88_tcp=0.002s;0.5;1;0\n[OK] kdc1:88 tcp: ticket for alice@HCOOP.TEST with the keytab's key (kvno 3) in 0.002s\n[OK] kadmind kdc1:749 accepts connections in 0.001s\n[CRITICAL] kadmind kdc2:749: Connection refused (os error 111)\n"
        );
    }
}
