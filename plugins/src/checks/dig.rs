//! check_dig: one DNS question to one server, the answer section searched for the name
//! asked (or `-a`'s text), and the response time against `-w`/`-c`, with
//! monitoring-plugins' check_dig options, verdicts and perfdata (`time=…s;w;c;0`).
//!
//! Unlike the peer it does not run dig: the question goes out through our own DNS
//! client ([`crate::proto::dns`]); `-A` takes the dig options that change the question
//! (see [`DigOptions`]).

use crate::plugin::args::ResponseTimeArgs;
use crate::plugin::FamilyArgs;
use crate::plugin::{
    parse_host, parse_port, shown, CheckResult, CommonArgs, Family, PerfData, State, Thresholds,
    Uom, UsageError, Work, EXIT_CODES,
};
use crate::proto::dns::{self, query_budget, rcode_name, QueryError, Request, Transport};
use clap::Parser;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

/// Command line of check_dig.
#[derive(Parser, Debug)]
#[command(
    name = "check_dig",
    version,
    about = "Asks a DNS server one question and looks for the name asked (or -a's text) in the answer section.",
    after_help = format!("Verdicts as monitoring-plugins' check_dig: OK when an answer record holds the text (case-insensitive, the record as dig prints it: `www.example.org. 300 IN A 192.0.2.1`); WARNING `Server not found in ANSWER SECTION` when the answer has records but none holds it; CRITICAL `No ANSWER SECTION found` when the answer has no record (NXDOMAIN, NODATA, SERVFAIL); WARNING when the server cannot be reached (`dig returned an error status`, as the peer); -w/-c on the response time raise these (a missing answer stays CRITICAL when it was also slow, where Debian's reports WARNING).\n\nWhere ours differs from Debian's: dig is not run. -A takes these dig options (several separated by spaces): +tcp/+vc, +notcp/+novc, +[no]recurse, +[no]dnssec, +time=N and +tries=N/+retry=N (accepted; the whole question always stays within -t), and dig's display options (+short, +noall, +answer, +[no]cmd, +[no]comments, +[no]stats, +[no]question, +[no]additional, +[no]authority, +[no]multiline, +[no]ttlid, +[no]class), which change nothing here; any other is refused (exit 3). A question that gets no answer within -t is CRITICAL `no answer within Ns` (Debian's: `Plugin timed out`).\n\n{EXIT_CODES}"),
    mut_arg("ipv4", |a| a.help("Ask over IPv4 only")),
    mut_arg("ipv6", |a| a.help("Ask over IPv6 only"))
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The DNS server to ask, an address or a host name (default 127.0.0.1, ::1 with -6); may also be given as the first bare word
    #[arg(short = 'H', long = "hostname", value_name = "HOST", value_parser = parse_host)]
    pub hostname: Option<String>,

    /// The server's port
    #[arg(short = 'p', long = "port", value_name = "PORT", value_parser = parse_port, default_value_t = 53)]
    pub port: u16,

    /// The name to look up (required)
    #[arg(
        short = 'l',
        long = "query_address",
        visible_alias = "query-address",
        value_name = "NAME"
    )]
    pub query: Option<String>,

    /// The record type to ask for (A, AAAA, MX, PTR, TXT, NS, SOA, CNAME, SRV, ...)
    #[arg(
        short = 'T',
        long = "record_type",
        visible_alias = "record-type",
        value_name = "TYPE",
        default_value = "A"
    )]
    pub record_type: String,

    /// Text expected in an answer record (an address, a name); default: the name of -l
    #[arg(
        short = 'a',
        long = "expected_address",
        visible_alias = "expected-address",
        value_name = "TEXT"
    )]
    pub expected: Option<String>,

    /// dig options (the subset listed below)
    #[arg(
        short = 'A',
        long = "dig-arguments",
        value_name = "OPTIONS",
        allow_hyphen_values = true
    )]
    pub dig_args: Option<String>,

    #[command(flatten)]
    pub time: ResponseTimeArgs,

    #[command(flatten)]
    pub family: FamilyArgs,
}

/// What `-A` changes in the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigOptions {
    pub tcp: bool,
    pub recursion: bool,
    pub dnssec: bool,
}

impl Default for DigOptions {
    fn default() -> Self {
        DigOptions {
            tcp: false,
            recursion: true,
            dnssec: false,
        }
    }
}

/// dig's display options: they change how dig prints, not what it asks.
const DISPLAY: &[&str] = &[
    "short",
    "all",
    "answer",
    "cmd",
    "comments",
    "stats",
    "question",
    "additional",
    "authority",
    "multiline",
    "ttlid",
    "ttlunits",
    "class",
    "rrcomments",
    "identify",
    "onesoa",
    "qr",
];

impl FromStr for DigOptions {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut o = DigOptions::default();
        for word in s.split_whitespace() {
            let Some(opt) = word.strip_prefix('+') else {
                return Err(format!(
                    "-A: '{}' is not a dig +option this check takes",
                    shown(word)
                ));
            };
            let (name, value) = match opt.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (opt, None),
            };
            let (on, bare) = match name.strip_prefix("no") {
                Some(b) => (false, b),
                None => (true, name),
            };
            let number = || {
                value
                    .and_then(|v| v.parse::<u32>().ok())
                    .filter(|n| *n <= 100)
                    .ok_or_else(|| format!("-A: '{}' needs a number (0-100)", shown(word)))
            };
            match (bare, value) {
                ("tcp" | "vc", None) => o.tcp = on,
                ("rec" | "recurse", None) => o.recursion = on,
                ("dnssec", None) => o.dnssec = on,
                ("time" | "tries" | "retry", Some(_)) if on => {
                    number()?;
                }
                (d, None) if DISPLAY.contains(&d) => {}
                _ => {
                    return Err(format!(
                        "-A: '{}' is not a dig option this check takes (see --help)",
                        shown(word)
                    ))
                }
            }
        }
        Ok(o)
    }
}

/// The validated check.
#[derive(Debug)]
pub struct DigCheck {
    pub server: String,
    pub port: u16,
    pub family: Family,
    pub name: Name,
    pub rtype: RecordType,
    /// The text looked for in the answer records, as given (matched case-insensitively).
    pub expected: String,
    pub options: DigOptions,
    pub thresholds: Thresholds,
    pub budget: Duration,
}

/// What the question got.
#[derive(Debug, Clone, PartialEq)]
pub enum DigFacts {
    /// An answer: its response code and its answer records as dig prints them.
    Answered {
        rcode: ResponseCode,
        records: Vec<String>,
        elapsed: Duration,
    },
    /// No answer within the time (the message says how long).
    TimedOut { why: String, elapsed: Duration },
    /// The server could not be asked (refused, unreachable, a name that does not
    /// resolve) or answered garbage.
    Failed { why: String, elapsed: Duration },
}

impl crate::plugin::Check for DigCheck {
    type Args = Args;
    type Facts = DigFacts;
    const LABEL: &'static str = "DNS";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let query = args.query.ok_or_else(|| {
            UsageError::new("Could not parse arguments: -l NAME (the name to look up) is missing")
        })?;
        let name = dns::parse_name(&query).map_err(|e| UsageError(format!("-l: {e}")))?;
        let rtype = RecordType::from_str(&args.record_type.trim().to_ascii_uppercase())
            .ok()
            .filter(|t| !matches!(t, RecordType::Unknown(_) | RecordType::ZERO))
            .ok_or_else(|| {
                UsageError(format!(
                    "-T: '{}' is not a DNS record type",
                    shown(&args.record_type)
                ))
            })?;
        let options = match &args.dig_args {
            Some(a) => a.parse::<DigOptions>().map_err(UsageError)?,
            None => DigOptions::default(),
        };
        let family = args.family.family();
        let server = args.hostname.unwrap_or_else(|| {
            if family == Family::V6 {
                "::1"
            } else {
                "127.0.0.1"
            }
            .to_string()
        });
        let expected = args.expected.unwrap_or(query);
        if expected.is_empty() {
            return Err(UsageError::new("-a: empty text"));
        }
        Ok(DigCheck {
            server,
            port: args.port,
            family,
            name,
            rtype,
            expected,
            options,
            thresholds: args.time.thresholds(),
            budget: query_budget(args.common.timeout.duration),
        })
    }

    fn fetch(&self) -> Work<'_, DigFacts> {
        Work::remote(self.ask())
    }

    fn evaluate(&self, facts: &DigFacts) -> CheckResult {
        evaluate(self, facts)
    }
}

impl DigCheck {
    /// Asks the first address of the server (as dig does with `@server`).
    pub async fn ask(&self) -> DigFacts {
        let start = tokio::time::Instant::now();
        let failed = |why: String| DigFacts::Failed {
            why,
            elapsed: start.elapsed(),
        };
        let servers = match dns::resolve_host(&self.server, self.port, self.family).await {
            Ok(s) => s,
            Err(e) => return failed(e),
        };
        let server: SocketAddr = servers[0];
        let req = Request {
            name: self.name.clone(),
            rtype: self.rtype,
            recursion: self.options.recursion,
            dnssec: self.options.dnssec,
            transport: if self.options.tcp {
                Transport::Tcp
            } else {
                Transport::UdpThenTcp
            },
            timeout: self.budget.saturating_sub(start.elapsed()),
        };
        match dns::query(server, &req).await {
            Ok(r) => DigFacts::Answered {
                rcode: r.message.response_code(),
                records: r.message.answers().iter().map(|r| r.to_string()).collect(),
                elapsed: start.elapsed(),
            },
            Err(QueryError::Timeout(_)) => DigFacts::TimedOut {
                why: format!("{server}: no answer within {}", dns::seconds(self.budget)),
                elapsed: start.elapsed(),
            },
            Err(e) => failed(format!("{server}: {e}")),
        }
    }
}

/// Record text as the peer shows it: tabs as spaces.
fn one_line(record: &str) -> String {
    record.replace(['\t', '\n', '\r'], " ")
}

/// The verdict, as monitoring-plugins' check_dig gives it.
pub fn evaluate(check: &DigCheck, facts: &DigFacts) -> CheckResult {
    let (elapsed, mut result) = match facts {
        DigFacts::Answered {
            rcode,
            records,
            elapsed,
        } => {
            let wanted = check.expected.to_lowercase();
            let found = records.iter().find(|r| r.to_lowercase().contains(&wanted));
            let (state, why) = match found {
                Some(r) => (State::Ok, one_line(r)),
                None if !records.is_empty() => (
                    State::Warning,
                    "Server not found in ANSWER SECTION".to_string(),
                ),
                None => (
                    State::Critical,
                    format!("No ANSWER SECTION found ({})", rcode_name(*rcode)),
                ),
            };
            (*elapsed, CheckResult::new(state, why))
        }
        DigFacts::TimedOut { why, elapsed } => (*elapsed, CheckResult::timed_out(why.clone())),
        DigFacts::Failed { why, elapsed } => (
            *elapsed,
            CheckResult::new(
                State::Warning,
                format!("dig returned an error status: {why}"),
            ),
        ),
    };
    let secs = elapsed.as_secs_f64();
    // a slow answer raises the answer's verdict (never lowers it, where the peer turns
    // a missing answer that was slow into a mere WARNING)
    result.raise(check.thresholds.state(secs));
    result.summary = format!("{secs:.3} seconds response time ({})", result.summary);
    result.with_perf(
        PerfData::new("time", secs)
            .uom(Uom::Seconds)
            .thresholds(&check.thresholds)
            .min(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;
    use crate::plugin::Check;

    fn check(args: &[&str]) -> DigCheck {
        validate(args).unwrap()
    }

    fn answered(records: &[&str], ms: u64) -> DigFacts {
        DigFacts::Answered {
            rcode: if records.is_empty() {
                ResponseCode::NXDomain
            } else {
                ResponseCode::NoError
            },
            records: records.iter().map(|r| r.to_string()).collect(),
            elapsed: Duration::from_millis(ms),
        }
    }

    fn verdict(args: &[&str], facts: &DigFacts) -> (State, String, String) {
        let r = check(args).evaluate(facts);
        (r.state(), r.summary.clone(), r.perfdata[0].to_string())
    }

    const WWW: &str = "www.example.test. 300 IN A 192.0.2.1";

    #[test]
    fn the_name_or_the_expected_text_in_the_answer_section() {
        assert_eq!(
            verdict(&["-l", "www.example.test"], &answered(&[WWW], 5)),
            (
                State::Ok,
                format!("0.005 seconds response time ({WWW})"),
                "time=0.005s;;;0".into()
            )
        );
        // case-insensitive, and -a is looked for in the whole record
        let ok = verdict(
            &["-l", "WWW.Example.test", "-a", "192.0.2.1"],
            &answered(&[WWW], 5),
        );
        assert_eq!(ok.0, State::Ok);
        let wrong = verdict(
            &["-l", "www.example.test", "-a", "10.10.10.10"],
            &answered(&[WWW], 5),
        );
        assert_eq!(
            (wrong.0, wrong.1.as_str()),
            (
                State::Warning,
                "0.005 seconds response time (Server not found in ANSWER SECTION)"
            )
        );
        let none = verdict(&["-l", "nosuchhost.example.test"], &answered(&[], 5));
        assert_eq!(
            (none.0, none.1.as_str()),
            (
                State::Critical,
                "0.005 seconds response time (No ANSWER SECTION found (NXDOMAIN))"
            )
        );
    }

    #[test]
    fn the_response_time_wins() {
        let slow = answered(&[WWW], 20);
        let args = ["-l", "www.example.test", "-w", "0.000001", "-c", "0.00001"];
        assert_eq!(verdict(&args, &slow).0, State::Critical);
        let args = ["-l", "www.example.test", "-w", "0.000001", "-c", "5"];
        let (state, _, perf) = verdict(&args, &slow);
        assert_eq!(
            (state, perf.as_str()),
            (State::Warning, "time=0.02s;0.000001;5;0")
        );
        // a critical time turns even a missing answer critical; a warning one keeps it
        let gone = answered(&[], 20);
        assert_eq!(
            verdict(&["-l", "x.test", "-w", "0.01"], &gone).0,
            State::Critical
        );
        let failed = DigFacts::Failed {
            why: "127.0.0.1:5: connection refused".into(),
            elapsed: Duration::from_millis(1),
        };
        let (state, summary, _) = verdict(&["-l", "x.test"], &failed);
        assert_eq!(state, State::Warning);
        assert!(
            summary.contains("dig returned an error status"),
            "{summary}"
        );
        assert_eq!(
            verdict(&["-l", "x.test", "-c", "0.0001"], &failed).0,
            State::Critical
        );
    }

    #[test]
    fn a_silent_server_is_a_timeout() {
        let r = check(&["-l", "x.test"]).evaluate(&DigFacts::TimedOut {
            why: "127.0.0.1:53: no answer within 9.8s".into(),
            elapsed: Duration::from_secs(9),
        });
        assert!(r.timed_out);
        assert_eq!(r.state(), State::Critical);
    }

    #[test]
    fn options_and_defaults() {
        let c = check(&["-l", "example.test"]);
        assert_eq!(
            (c.server.as_str(), c.port, c.rtype),
            ("127.0.0.1", 53, RecordType::A)
        );
        assert_eq!(c.options, DigOptions::default());
        let c = check(&["-l", "example.test", "-6", "-T", "ptr", "-p", "5353"]);
        assert_eq!(
            (c.server.as_str(), c.port, c.rtype),
            ("::1", 5353, RecordType::PTR)
        );
        let c = check(&[
            "-l",
            "x.test",
            "-A",
            "+tcp +norecurse +dnssec +time=2 +short",
        ]);
        assert_eq!(
            c.options,
            DigOptions {
                tcp: true,
                recursion: false,
                dnssec: true
            }
        );
        for bad in [
            &["-H", "127.0.0.1"][..],
            &["-l", "x.test", "-T", "NOPE"],
            &["-l", "x.test", "-A", "+trace"],
            &["-l", "x.test", "-A", "@8.8.8.8"],
            &["-l", "x.test", "-A", "+time=x"],
            &["-l", "x.test", "-w", "-1"],
            &["-l", "x y"],
        ] {
            assert!(validate::<DigCheck>(bad).is_err(), "{bad:?}");
        }
        let e = validate::<DigCheck>(&[]).unwrap_err();
        assert!(e.0.starts_with("Could not parse arguments"), "{e}");
    }
}
