//! check_mx: every mail exchanger of a domain. Resolves the MX records (the system
//! resolver's servers or `-s`), each MX host's A and AAAA addresses, and runs the SMTP
//! dialogue of [`crate::proto::smtp`] on every address: 220 banner, EHLO, STARTTLS
//! offered and a certificate valid for the MX name with its days left; the levels
//! (response time, certificate days) are this check's. `--min-ok` working MX hosts are
//! required; one line per MX host and address.

use crate::plugin::args::ResponseTimeArgs;
use crate::plugin::{
    parse_host, parse_port, shown, Check, CheckResult, CommonArgs, PerfData, State, Thresholds,
    UsageError, Work,
};
use crate::proto::dns::{
    self, parse_name, query_budget, rcode_name, show_name, QueryError, Request, Transport,
};
use crate::proto::mail::{self, Target, TlsMode};
use crate::proto::net::Family;
use crate::proto::smtp::{self, SmtpDialogue, SmtpFacts};
use crate::proto::tls::{CertDays, TlsArgs};
use clap::Parser;
use futures_util::future::join_all;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::plugin::EXIT_CODES;

/// Command line of check_mx.
#[derive(Parser, Debug)]
#[command(
    name = "check_mx",
    version,
    about = "Checks every mail exchanger of a domain: MX records, each MX host's addresses, and on each address the SMTP banner, EHLO, STARTTLS and the certificate.",
    after_help = EXIT_CODES,
    mut_arg("warning", |a| a
        .help("Response time of one address that makes it WARNING, in seconds (2.5, 500ms, a range)")),
    mut_arg("critical", |a| a
        .help("Response time of one address that makes it CRITICAL, in seconds (5, 2m, a range)")),
)]
pub struct MxArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The mail domain whose MX records are checked
    #[arg(short = 'd', long = "domain", value_name = "DOMAIN")]
    pub domain: String,

    /// DNS server to ask (default: the system resolver's servers from /etc/resolv.conf)
    #[arg(short = 's', long = "server", value_name = "HOST", value_parser = parse_host)]
    pub server: Option<String>,

    /// Port of the DNS server
    #[arg(long = "dns-port", value_name = "PORT", default_value_t = 53, value_parser = parse_port)]
    pub dns_port: u16,

    /// SMTP port of the mail exchangers
    #[arg(short = 'p', long = "port", value_name = "PORT", default_value_t = 25, value_parser = parse_port)]
    pub port: u16,

    /// MX hosts that must work (default: all of them); fewer is CRITICAL, some broken
    /// but enough working is WARNING
    #[arg(long = "min-ok", value_name = "N")]
    pub min_ok: Option<usize>,

    /// Name sent with EHLO (default: this machine's host name)
    #[arg(short = 'F', long = "fqdn", value_name = "NAME")]
    pub fqdn: Option<String>,

    /// Days the certificates must still be valid: WARNING below WARN, CRITICAL below CRIT
    #[arg(short = 'D', long = "certificate", value_name = "WARN[,CRIT]")]
    pub cert_days: Option<CertDays>,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Use IPv4 addresses only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 addresses only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,

    #[command(flatten)]
    pub time: ResponseTimeArgs,
}

/// The validated check_mx.
#[derive(Debug)]
pub struct MxCheck {
    pub domain: String,
    pub server: Option<String>,
    pub dns_port: u16,
    pub port: u16,
    pub min_ok: Option<usize>,
    pub family: Family,
    /// The SMTP dialogue; its TLS name is set to each MX host.
    pub dialogue: SmtpDialogue,
    /// Levels on each address's response time in seconds.
    pub time: Thresholds,
    pub cert_days: Option<CertDays>,
    pub timeout: Duration,
    /// The state `-t` gives a time running out, for the sub-results where it ran out.
    pub timeout_state: State,
}

/// Why a lookup gave nothing: the text, and whether it is the time running out.
#[derive(Debug, Clone, PartialEq)]
pub struct LookupError {
    pub text: String,
    pub timed_out: bool,
}

impl From<String> for LookupError {
    fn from(text: String) -> Self {
        LookupError {
            text,
            timed_out: false,
        }
    }
}

/// One address of an MX host and what its SMTP dialogue found.
#[derive(Debug, Clone, PartialEq)]
pub struct MxAddress {
    pub addr: SocketAddr,
    pub smtp: SmtpFacts,
}

/// One MX host.
#[derive(Debug, Clone, PartialEq)]
pub struct MxHost {
    pub preference: u16,
    pub name: String,
    /// The addresses, or why there are none.
    pub addresses: Result<Vec<MxAddress>, LookupError>,
}

/// What the check found: the MX hosts, or why there are none; and when (for the
/// certificates' days left).
#[derive(Debug, Clone, PartialEq)]
pub struct MxFacts {
    pub hosts: Result<Vec<MxHost>, LookupError>,
    /// Unix seconds when the dialogues ended.
    pub now: i64,
}

/// One address's verdict.
struct AddressResult {
    addr: SocketAddr,
    result: CheckResult,
}

impl Check for MxCheck {
    type Args = MxArgs;
    type Facts = MxFacts;
    const LABEL: &'static str = "MX";

    fn common(args: &MxArgs) -> &CommonArgs {
        &args.common
    }

    fn new(args: MxArgs) -> Result<Self, UsageError> {
        let name =
            parse_name(&args.domain).map_err(|e| UsageError(format!("-d: {}", shown(&e))))?;
        if args.min_ok == Some(0) {
            return Err(UsageError::new("--min-ok must be at least 1"));
        }
        let d = SmtpDialogue::new(
            args.fqdn,
            TlsMode::StartTls,
            &args.tls,
            String::new(),
            args.common.timeout.duration,
        )?;
        let time = args.time.thresholds();
        Ok(MxCheck {
            domain: show_name(&name),
            server: args.server,
            dns_port: args.dns_port,
            port: args.port,
            min_ok: args.min_ok,
            family: Family::from_flags(args.ipv4, args.ipv6),
            dialogue: d,
            time,
            cert_days: args.cert_days,
            timeout: args.common.timeout.duration,
            timeout_state: args.common.timeout.state,
        })
    }

    fn fetch(&self) -> Work<'_, MxFacts> {
        Work::remote(async move {
            let hosts = self.ask().await;
            MxFacts {
                hosts,
                now: crate::host::clock::unix_now(),
            }
        })
    }

    fn evaluate(&self, facts: &MxFacts) -> CheckResult {
        evaluate_mx(facts, self)
    }
}

impl MxCheck {
    /// Asks the servers in turn for `name`/`rtype`; the answer's records.
    async fn lookup(
        &self,
        servers: &[SocketAddr],
        name: &str,
        rtype: RecordType,
    ) -> Result<Vec<RData>, LookupError> {
        let req = Request {
            name: parse_name(name).map_err(LookupError::from)?,
            rtype,
            recursion: true,
            dnssec: false,
            transport: Transport::UdpThenTcp,
            timeout: query_budget(self.timeout) / 4,
        };
        let mut last = LookupError::from(format!("no DNS server to ask for {name}"));
        for s in servers {
            match dns::query(*s, &req).await {
                Ok(r) => {
                    let rc = r.message.response_code();
                    if rc == ResponseCode::NoError {
                        return Ok(r
                            .message
                            .answers()
                            .iter()
                            .map(|a| a.data().clone())
                            .collect());
                    }
                    last = format!("{name} {rtype}: {} from {s}", rcode_name(rc)).into();
                    if rc == ResponseCode::NXDomain {
                        break;
                    }
                }
                Err(e) => {
                    last = LookupError {
                        text: format!("{name} {rtype}: {e} from {s}"),
                        timed_out: matches!(e, QueryError::Timeout(_)),
                    }
                }
            }
        }
        Err(last)
    }

    /// Resolves and probes every MX host.
    pub async fn ask(&self) -> Result<Vec<MxHost>, LookupError> {
        // -4/-6 choose the exchangers' addresses, not the DNS servers'
        let servers = dns::servers_to_ask(self.server.as_deref(), self.dns_port, Family::Any)
            .await
            .map_err(LookupError::from)?;
        let mut mxes: Vec<(u16, String)> = self
            .lookup(&servers, &self.domain, RecordType::MX)
            .await?
            .into_iter()
            .filter_map(|d| match d {
                RData::MX(mx) => Some((mx.preference(), show_name(mx.exchange()))),
                _ => None,
            })
            .collect();
        if mxes.is_empty() {
            return Err(format!("{} has no MX record", self.domain).into());
        }
        mxes.sort();
        let hosts = mxes.into_iter().map(|(preference, name)| {
            let servers = &servers;
            async move {
                let addresses = self.probe_host(servers, &name).await;
                MxHost {
                    preference,
                    name,
                    addresses,
                }
            }
        });
        Ok(join_all(hosts).await)
    }

    async fn probe_host(
        &self,
        servers: &[SocketAddr],
        name: &str,
    ) -> Result<Vec<MxAddress>, LookupError> {
        let mut ips: Vec<IpAddr> = Vec::new();
        let mut errors = Vec::new();
        let types = [RecordType::A, RecordType::AAAA];
        let answers = join_all(types.iter().map(|t| self.lookup(servers, name, *t))).await;
        for a in answers {
            match a {
                Ok(records) => ips.extend(records.iter().filter_map(dns::address)),
                Err(e) => errors.push(e),
            }
        }
        ips.retain(|ip| self.family.accepts(ip));
        if ips.is_empty() {
            return Err(if errors.is_empty() {
                "no address".to_string().into()
            } else {
                LookupError {
                    text: errors
                        .iter()
                        .map(|e: &LookupError| e.text.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                    timed_out: errors.iter().all(|e| e.timed_out),
                }
            });
        }
        let mut dialogue = self.dialogue.clone();
        dialogue.sni = name.to_string();
        let dialogue = &dialogue;
        let probes = ips.into_iter().map(|ip| async move {
            let addr = SocketAddr::new(ip, self.port);
            MxAddress {
                addr,
                smtp: dialogue.run(&Target::Addr(addr)).await,
            }
        });
        Ok(join_all(probes).await)
    }
}

impl MxCheck {
    /// One address's verdict (pure): the dialogue's own result, raised by the
    /// response-time levels and the certificate's days left.
    pub fn evaluate_address(&self, facts: &SmtpFacts, place: &str, now: i64) -> CheckResult {
        let mut r = smtp::dialogue_result(facts, &self.dialogue, place);
        if !smtp::connected(facts) {
            return r;
        }
        if facts.failure.is_none() {
            r.raise(self.time.state(facts.total.as_secs_f64()));
        }
        if let Some((s, text)) = mail::cert_verdict(facts.cert.as_ref(), self.cert_days, now) {
            r.raise(s);
            r.summary = format!("{}; {text}", r.summary);
        }
        r.perfdata = smtp::perfdata(facts, &self.time, self.dialogue.timeout);
        r
    }
}

/// True when every address of the host works (OK or WARNING).
fn host_works(addresses: &Result<Vec<AddressResult>, &LookupError>) -> bool {
    match addresses {
        Ok(a) => a
            .iter()
            .all(|r| matches!(r.result.state(), State::Ok | State::Warning)),
        Err(_) => false,
    }
}

/// check_mx's verdict (pure): what [`Check::evaluate`] does. A broken MX host is
/// CRITICAL when fewer than `--min-ok` hosts work, and WARNING when enough others do.
fn evaluate_mx(facts: &MxFacts, check: &MxCheck) -> CheckResult {
    let hosts = match &facts.hosts {
        Err(e) if e.timed_out => return CheckResult::timed_out(e.text.clone()),
        Err(e) => return CheckResult::new(State::Critical, e.text.clone()),
        Ok(h) => h,
    };
    // each address's own verdict first
    let judged: Vec<(&MxHost, Result<Vec<AddressResult>, &LookupError>)> = hosts
        .iter()
        .map(|h| {
            let addresses = h.addresses.as_ref().map(|addrs| {
                addrs
                    .iter()
                    .map(|a| AddressResult {
                        addr: a.addr,
                        result: check.evaluate_address(
                            &a.smtp,
                            &format!("{} port {}", a.addr.ip(), a.addr.port()),
                            facts.now,
                        ),
                    })
                    .collect()
            });
            (h, addresses)
        })
        .collect();
    let total = hosts.len();
    let need = check.min_ok.unwrap_or(total);
    let working = judged.iter().filter(|(_, a)| host_works(a)).count();
    let enough = working >= need;
    let cap = |s: State| {
        if enough && s != State::Ok && s != State::Warning {
            State::Warning
        } else {
            s
        }
    };
    // a time-out's state is the one -t names, in the sub-result and, when it leaves too
    // few hosts working, in the whole result
    let timed_out_state = |timed_out: bool, s: State| {
        if timed_out {
            check.timeout_state
        } else {
            s
        }
    };
    let any_timed_out = judged.iter().any(|(_, a)| match a {
        Err(e) => e.timed_out,
        Ok(a) => a.iter().any(|r| r.result.timed_out),
    });
    let mut r = if enough {
        CheckResult::new(State::Ok, String::new())
    } else if any_timed_out {
        CheckResult::timed_out(String::new())
    } else {
        CheckResult::new(State::Critical, String::new())
    };
    let mut broken = Vec::new();
    for (h, addresses) in &judged {
        let who = format!("{} (preference {})", h.name, h.preference);
        match addresses {
            Err(e) => {
                let s = timed_out_state(e.timed_out, State::Critical);
                r.push_sub(cap(s), format!("{who}: {}", e.text));
                broken.push(format!("{} ({})", h.name, e.text));
            }
            Ok(addrs) => {
                for a in addrs {
                    let s = timed_out_state(a.result.timed_out, a.result.state());
                    r.push_sub(
                        cap(s),
                        format!("{who} {}: {}", a.addr.ip(), a.result.summary),
                    );
                    if let Some(t) = a.result.perfdata.first() {
                        let mut p = t.clone();
                        p.label = format!("{} {}", h.name, a.addr.ip());
                        r.push_perf(p);
                    }
                }
                if !host_works(addresses) {
                    let bad: Vec<String> = addrs
                        .iter()
                        .filter(|a| !matches!(a.result.state(), State::Ok | State::Warning))
                        .map(|a| a.addr.ip().to_string())
                        .collect();
                    broken.push(format!("{} ({})", h.name, bad.join(", ")));
                }
            }
        }
    }
    r.summary = format!(
        "{working} of {total} MX hosts of {} work{}",
        check.domain,
        if need < total {
            format!(" ({need} needed)")
        } else {
            String::new()
        }
    );
    if broken.is_empty() {
        let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        r.summary.push_str(&format!(": {}", names.join(", ")));
    } else {
        r.summary
            .push_str(&format!("; broken: {}", broken.join(", ")));
    }
    r.perfdata.insert(
        0,
        PerfData::new("working", working)
            .thresholds(&Thresholds::new(None, format!("{need}:").parse().ok()))
            .min(0.0)
            .max(total as f64),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use crate::proto::mail::SmtpReply;
    use crate::proto::smtp::Stage;

    fn parse(argv: &[&str]) -> Result<MxCheck, UsageError> {
        validate::<MxCheck>(argv)
    }

    /// An address whose dialogue went through in 10 ms.
    fn working(ip: &str) -> MxAddress {
        MxAddress {
            addr: SocketAddr::new(ip.parse().unwrap(), 25),
            smtp: SmtpFacts {
                banner: Some(SmtpReply {
                    code: 220,
                    lines: vec!["mx ESMTP".into()],
                }),
                total: Duration::from_millis(10),
                ..Default::default()
            },
        }
    }

    /// An address whose dialogue failed at `stage`.
    fn failing(ip: &str, stage: Stage, why: &str, timed_out: bool) -> MxAddress {
        let mut a = working(ip);
        a.smtp.failure = Some((stage, why.into()));
        a.smtp.timed_out = timed_out;
        a
    }

    fn found(hosts: Vec<MxHost>) -> MxFacts {
        MxFacts {
            hosts: Ok(hosts),
            now: 0,
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        MxArgs::command().debug_assert();
    }

    #[test]
    fn options() {
        assert!(parse(&["-d", "coop.test", "-F", "m"]).is_ok());
        assert!(parse(&["-d", "a..b"]).is_err());
        assert!(parse(&["-d", "coop.test", "--min-ok", "0"]).is_err());
        assert!(parse(&["-d", "coop.test", "-s", "a b"]).is_err());
        assert!(parse(&["-d", "coop.test", "--dns-port", "0"]).is_err());
        assert!(parse(&["-d", "coop.test", "-p", "0"]).is_err());
    }

    #[test]
    fn min_ok() {
        let c = parse(&["-d", "coop.test", "-F", "m", "--min-ok", "1"]).unwrap();
        let facts = found(vec![
            MxHost {
                preference: 10,
                name: "mx1.coop.test".into(),
                addresses: Ok(vec![working("127.0.0.31")]),
            },
            MxHost {
                preference: 20,
                name: "mx2.coop.test".into(),
                addresses: Ok(vec![failing(
                    "127.0.0.32",
                    Stage::Connect,
                    "connect to address 127.0.0.32 and port 25: Connection refused",
                    false,
                )]),
            },
        ]);
        assert_eq!(
            render_text("MX", &c.evaluate(&facts)),
            "MX WARNING - 1 of 2 MX hosts of coop.test work (1 needed); broken: mx2.coop.test (127.0.0.32) | working=1;;1:;0;2 'mx1.coop.test 127.0.0.31'=0.01s;;;0;10\n\
[OK] mx1.coop.test (preference 10) 127.0.0.31: 0.010 seconds response time on 127.0.0.31 port 25 [220 mx ESMTP], STARTTLS\n\
[WARNING] mx2.coop.test (preference 20) 127.0.0.32: connect to address 127.0.0.32 and port 25: Connection refused\n"
        );
        let all = parse(&["-d", "coop.test", "-F", "m"]).unwrap();
        assert_eq!(all.evaluate(&facts).state(), State::Critical);
        // an exchanger that never answered: the state of -t, in its line and, as too few
        // hosts work, in the whole result
        let c = parse(&["-d", "coop.test", "-F", "m", "-t", "2:UNKNOWN"]).unwrap();
        let silent = failing(
            "127.0.0.31",
            Stage::Banner,
            "no banner within 1.8 seconds",
            true,
        );
        let hung = found(vec![MxHost {
            preference: 10,
            name: "mx1.coop.test".into(),
            addresses: Ok(vec![silent]),
        }]);
        let r = c.evaluate(&hung);
        assert!(r.timed_out);
        assert_eq!(
            render_text("MX", &r.with_timeout_state(State::Unknown)),
            "MX UNKNOWN - 0 of 1 MX hosts of coop.test work; broken: mx1.coop.test (127.0.0.31) | working=0;;1:;0;1 'mx1.coop.test 127.0.0.31'=0.01s;;;0;2\n\
[UNKNOWN] mx1.coop.test (preference 10) 127.0.0.31: no banner within 1.8 seconds (127.0.0.31 port 25)\n"
        );
        let dns = MxFacts {
            hosts: Err(LookupError {
                text: "coop.test MX: no answer within 0.45s from 127.0.0.1:53".into(),
                timed_out: true,
            }),
            now: 0,
        };
        assert!(c.evaluate(&dns).timed_out);
        let none = MxFacts {
            hosts: Err("coop.test has no MX record".to_string().into()),
            now: 0,
        };
        assert_eq!(
            render_text("MX", &all.evaluate(&none)),
            "MX CRITICAL - coop.test has no MX record\n"
        );
    }

    #[test]
    fn one_address() {
        use crate::proto::tls::{CertFacts, CertInfo};
        let c = parse(&["-d", "coop.test", "-F", "m", "-w", "1", "-D", "30,7"]).unwrap();
        let mut f = SmtpFacts {
            banner: Some(SmtpReply {
                code: 220,
                lines: vec!["mx1 ESMTP".into()],
            }),
            total: Duration::from_millis(1500),
            ..Default::default()
        };
        let r = c.evaluate_address(&f, "127.0.0.31 port 25", 0);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "1.500 seconds response time on 127.0.0.31 port 25 [220 mx1 ESMTP], STARTTLS"
        );
        f.total = Duration::from_millis(5);
        f.cert = Some(CertFacts {
            leaf: Some(Ok(CertInfo {
                subject: "mx1.coop.test".into(),
                issuer: "CA".into(),
                not_after: 20 * 86_400,
                dns_names: vec![],
            })),
            verify_error: None,
        });
        let r = c.evaluate_address(&f, "127.0.0.31 port 25", 25 * 86_400);
        assert_eq!(r.state(), State::Critical);
        // the whole check reads the days left at the time the facts were observed
        let host = |smtp: &SmtpFacts| MxHost {
            preference: 10,
            name: "mx1.coop.test".into(),
            addresses: Ok(vec![MxAddress {
                addr: "127.0.0.31:25".parse().unwrap(),
                smtp: smtp.clone(),
            }]),
        };
        let at = |now: i64| MxFacts {
            hosts: Ok(vec![host(&f)]),
            now,
        };
        // (20 days left at 0: WARNING under -D 30,7; expired at 25 days: CRITICAL)
        assert_eq!(c.evaluate(&at(0)).state(), State::Warning);
        assert_eq!(c.evaluate(&at(25 * 86_400)).state(), State::Critical);
        assert!(
            r.summary.ends_with(
                "STARTTLS; certificate 'mx1.coop.test' expired on 1970-01-21 00:00:00 UTC"
            ),
            "{}",
            r.summary
        );
        f.failure = Some((
            Stage::Connect,
            "connect to address 127.0.0.31 and port 25: Connection refused".into(),
        ));
        let r = c.evaluate_address(&f, "127.0.0.31 port 25", 0);
        assert_eq!(
            render_text("MX", &r),
            "MX CRITICAL - connect to address 127.0.0.31 and port 25: Connection refused\n"
        );
    }
}
