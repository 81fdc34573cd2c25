//! check_dns: asks a DNS server (or the system resolver) one question and checks the
//! answer: expected records, NXDOMAIN, the authoritative bit, DNSSEC validation by the
//! resolver, and the response time. Options follow monitoring-plugins' check_dns (and
//! check_dig's `-T`, `-4`, `-6` where check_dns has none).

use crate::plugin::args::{ResponseTimeArgs, TargetArgs};
use crate::plugin::EXIT_CODES;
use crate::plugin::{
    parse_host, shown, Check, CheckResult, CommonArgs, PerfData, State, Thresholds, UsageError,
    Work,
};
use crate::proto::dns::{
    self, query_budget, rcode_name, show_name, Family, QueryError, Request, Response, Transport,
};
use clap::Parser;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// The record types check_dns asks for.
pub const QUERY_TYPES: &[RecordType] = &[
    RecordType::A,
    RecordType::AAAA,
    RecordType::MX,
    RecordType::NS,
    RecordType::TXT,
    RecordType::SOA,
    RecordType::CNAME,
    RecordType::PTR,
    RecordType::SRV,
    RecordType::CAA,
];

/// Command line of check_dns.
#[derive(Parser, Debug)]
#[command(
    name = "check_dns",
    version,
    about = "Asks a DNS server one question and checks the answer.",
    long_about = "Asks a DNS server (-s, or the system resolver's servers from /etc/resolv.conf \
in order) one question and checks the answer: expected records (-a, -L), NXDOMAIN (-n), \
the authoritative bit (-A), DNSSEC validation (--dnssec) and the response time (-w, -c).\n\n\
The question goes over UDP with recursion desired and EDNS (payload 1232), and again over \
TCP when the answer is truncated; --tcp asks over TCP only.\n\n\
--dnssec sets the DO and AD bits in the question and requires (1) the AD bit in the answer, \
meaning the resolver validated the DNSSEC chain of trust itself, and (2) for a positive \
answer, an RRSIG record over the asked type in the answer section. The signatures are not \
checked by this plugin: ask a validating resolver you trust over a path you trust (e.g. one \
on localhost).\n\n\
When every server asked is still silent as the time (-t) runs out, the result takes the state \
-t names (CRITICAL unless given, e.g. -t 5:UNKNOWN); a server that refuses or answers \
garbage is CRITICAL.",
    after_help = EXIT_CODES,
    // -H is the name asked about, checked in new() (an internationalized name, the root)
    mut_arg("hostname", |a| a
        .value_name("NAME")
        .value_parser(clap::value_parser!(String))
        .help("The name to look up (an IP address asks for its PTR record)")),
    mut_arg("port", |a| a.default_value("53").help("Port of the DNS server")),
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// -H (the name to look up), -p (the server's port), -4, -6
    #[command(flatten)]
    pub target: TargetArgs,

    /// The DNS server to ask (address or host name); default: the system resolver
    #[arg(short = 's', long = "server", value_name = "HOST")]
    pub server: Option<String>,

    /// Record type: A, AAAA, MX, NS, TXT, SOA, CNAME, PTR, SRV or CAA
    #[arg(
        short = 'q',
        long = "querytype",
        short_alias = 'T',
        visible_alias = "record-type",
        alias = "record_type",
        value_name = "TYPE"
    )]
    pub querytype: Option<String>,

    /// An expected answer: an address or CIDR network for A/AAAA, a host name ending
    /// with a dot for a CNAME in the answer, or the record as text (`10 mx.example.org`;
    /// for MX and SRV the target name alone also matches). Repeat or separate with
    /// commas; OK when any matches (see -L)
    #[arg(
        short = 'a',
        long = "expected-address",
        alias = "expected_address",
        value_name = "ANSWER",
        value_delimiter = ','
    )]
    pub expected: Vec<String>,

    /// Expect the server to answer NXDOMAIN (the name does not exist)
    #[arg(short = 'n', long = "expect-nxdomain", conflicts_with = "expected")]
    pub expect_nxdomain: bool,

    /// Expect the server to be authoritative (AA bit) for the answer
    #[arg(short = 'A', long = "expect-authority")]
    pub expect_authority: bool,

    /// With -a: CRITICAL unless every expected answer is returned and every returned
    /// answer is expected
    #[arg(short = 'L', long = "all", requires = "expected")]
    pub all: bool,

    #[command(flatten)]
    pub time: ResponseTimeArgs,

    /// Ask over TCP only
    #[arg(long = "tcp")]
    pub tcp: bool,

    /// Require a DNSSEC-validated answer (the resolver's AD bit and an RRSIG; see --help)
    #[arg(long = "dnssec")]
    pub dnssec: bool,
}

/// One expected answer, as given with `-a`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    /// An address: equal addresses match.
    Ip(IpAddr),
    /// A network: addresses inside it match.
    Net(IpAddr, u8),
    /// Anything else: compared with the record's text (see [`normalize`]).
    Text(String),
}

impl FromStr for Expected {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("empty expected answer".into());
        }
        if let Ok(ip) = s.parse() {
            return Ok(Expected::Ip(ip));
        }
        if let Some((ip, bits)) = s.split_once('/') {
            if let Ok(ip) = ip.parse::<IpAddr>() {
                let max = if ip.is_ipv4() { 32 } else { 128 };
                return match bits.parse::<u8>() {
                    Ok(b) if b <= max => Ok(Expected::Net(ip, b)),
                    _ => Err(format!(
                        "invalid network '{}': prefix must be 0 to {max}",
                        shown(s)
                    )),
                };
            }
        }
        Ok(Expected::Text(normalize(s)))
    }
}

/// Record text for comparison: each word without a final dot, lower case.
pub fn normalize(text: &str) -> String {
    text.split_whitespace()
        .map(|w| {
            let w = w.strip_suffix('.').filter(|t| !t.is_empty()).unwrap_or(w);
            w.to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn in_network(ip: &IpAddr, net: &IpAddr, bits: u8) -> bool {
    let (a, n, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u32::from(*a) as u128, u32::from(*n) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(*a), u128::from(*n), 128),
        _ => return false,
    };
    let shift = width - u32::from(bits);
    bits == 0 || (a >> shift) == (n >> shift)
}

/// One record of the answer: its text, and its address for A and AAAA.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub rtype: RecordType,
    /// Presentation form (names end with a dot).
    pub text: String,
    pub ip: Option<IpAddr>,
    /// For MX and SRV, the target name.
    pub target: Option<String>,
}

impl Expected {
    /// True when this expectation matches `answer`.
    pub fn matches(&self, answer: &Answer) -> bool {
        match self {
            Expected::Ip(ip) => answer.ip == Some(*ip),
            Expected::Net(net, bits) => answer.ip.is_some_and(|a| in_network(&a, net, *bits)),
            Expected::Text(t) => {
                if answer.rtype == RecordType::TXT {
                    // TXT data is case-sensitive: compare as given (words re-spaced)
                    answer.text.split_whitespace().collect::<Vec<_>>().join(" ") == *t
                        || normalize(&answer.text) == *t
                } else {
                    normalize(&answer.text) == *t
                        || answer.target.as_deref().map(normalize).as_deref() == Some(t)
                }
            }
        }
    }

    fn show(&self) -> String {
        match self {
            Expected::Ip(ip) => ip.to_string(),
            Expected::Net(ip, b) => format!("{ip}/{b}"),
            Expected::Text(t) => t.clone(),
        }
    }
}

/// The validated check.
#[derive(Debug)]
pub struct DnsCheck {
    pub name: Name,
    pub rtype: RecordType,
    pub server: Option<String>,
    pub port: u16,
    pub expected: Vec<Expected>,
    pub all: bool,
    pub expect_nxdomain: bool,
    pub expect_authority: bool,
    pub thresholds: Thresholds,
    pub transport: Transport,
    pub family: Family,
    pub dnssec: bool,
    /// How long the questions may take in all.
    pub budget: Duration,
}

/// What the server said, as far as the check cares.
#[derive(Debug, Clone, PartialEq)]
pub struct Answered {
    pub server: SocketAddr,
    pub rcode: ResponseCode,
    pub authoritative: bool,
    /// The AD bit.
    pub authentic: bool,
    /// An RRSIG over the asked type is in the answer section.
    pub signed: bool,
    pub tcp: bool,
    pub elapsed: Duration,
    pub answers: Vec<Answer>,
}

/// What was found: an answer, or why none came.
#[derive(Debug, Clone, PartialEq)]
pub enum DnsFacts {
    Answered(Answered),
    /// No answer: the servers failed (at least one otherwise than by timing out).
    Failed(String),
    /// No answer: every server asked was still silent when the time ran out.
    TimedOut(String),
}

impl Check for DnsCheck {
    type Args = Args;
    type Facts = DnsFacts;
    const LABEL: &'static str = "DNS";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let host = args.target.hostname.trim();
        // a name or an address (or the root, `.`), never echoed raw (newlines, 100 KB)
        if host != "." {
            // an internationalized name (bücher.example) is checked in its shape, each
            // non-ASCII letter standing for a letter; the DNS name parser then asks for
            // its ASCII (punycode) form
            let shape: String = host
                .chars()
                .map(|c| {
                    if c.is_alphabetic() && !c.is_ascii() {
                        'x'
                    } else {
                        c
                    }
                })
                .collect();
            parse_host(&shape).map_err(|e| UsageError(e.replace(&shown(&shape), &shown(host))))?;
        }
        let as_ip = host.parse::<IpAddr>().ok();
        let rtype = match &args.querytype {
            None if as_ip.is_some() => RecordType::PTR,
            None => RecordType::A,
            Some(t) => {
                let t = t.trim().to_ascii_uppercase();
                RecordType::from_str(&t)
                    .ok()
                    .filter(|r| QUERY_TYPES.contains(r))
                    .ok_or_else(|| {
                        UsageError(format!(
                            "unknown query type '{}': use one of {}",
                            shown(&t),
                            QUERY_TYPES
                                .iter()
                                .map(|r| r.to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    })?
            }
        };
        let name = match as_ip {
            Some(ip) if rtype == RecordType::PTR => Name::from(ip),
            _ => dns::parse_name(host).map_err(UsageError)?,
        };
        let expected = args
            .expected
            .iter()
            .map(|e| e.parse::<Expected>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(UsageError)?;
        if let Some(s) = &args.server {
            if s.trim().is_empty() {
                return Err(UsageError::new("empty server name (-s)"));
            }
            parse_host(s.trim()).map_err(|e| UsageError(format!("-s: {e}")))?;
        }
        Ok(DnsCheck {
            name,
            rtype,
            server: args.server.map(|s| s.trim().to_string()),
            port: args.target.port.unwrap_or(53),
            expected,
            all: args.all,
            expect_nxdomain: args.expect_nxdomain,
            expect_authority: args.expect_authority,
            thresholds: args.time.thresholds(),
            transport: if args.tcp {
                Transport::Tcp
            } else {
                Transport::UdpThenTcp
            },
            family: args.target.family(),
            dnssec: args.dnssec,
            budget: query_budget(args.common.timeout.duration),
        })
    }

    fn fetch(&self) -> Work<'_, DnsFacts> {
        Work::remote(self.ask())
    }

    fn evaluate(&self, facts: &DnsFacts) -> CheckResult {
        evaluate(facts, self)
    }
}

/// The RDATA of a record: its text, address and target.
fn answer_of(rtype: RecordType, data: &RData) -> Answer {
    let target = match data {
        RData::MX(mx) => Some(mx.exchange().to_string()),
        RData::SRV(srv) => Some(srv.target().to_string()),
        _ => None,
    };
    Answer {
        rtype,
        text: data.to_string(),
        ip: dns::address(data),
        target,
    }
}

/// Reads the parts of a response the check uses.
pub fn read_response(server: SocketAddr, rtype: RecordType, r: &Response) -> Answered {
    let m = &r.message;
    let mut answers = Vec::new();
    let mut signed = false;
    for rec in m.answers() {
        let t = rec.record_type();
        if t == rtype {
            answers.push(answer_of(t, rec.data()));
        } else if t == RecordType::CNAME {
            // as check_dns does, a CNAME on the way counts as an answer (`-a host.`)
            answers.push(answer_of(t, rec.data()));
        } else if t == RecordType::RRSIG {
            if let RData::Unknown { rdata, .. } = rec.data() {
                let covered = rdata.anything();
                signed |= covered.len() >= 2
                    && RecordType::from(u16::from_be_bytes([covered[0], covered[1]])) == rtype;
            }
        }
    }
    Answered {
        server,
        rcode: m.response_code(),
        authoritative: m.authoritative(),
        authentic: m.authentic_data(),
        signed,
        tcp: r.tcp,
        elapsed: r.elapsed,
        answers,
    }
}

impl DnsCheck {
    /// Asks the servers in turn, sharing the time budget, until one answers.
    pub async fn ask(&self) -> DnsFacts {
        let start = tokio::time::Instant::now();
        let servers =
            match dns::servers_to_ask(self.server.as_deref(), self.port, self.family).await {
                Ok(s) => s,
                Err(e) => return DnsFacts::Failed(e),
            };
        let mut errors = Vec::new();
        for (i, server) in servers.iter().enumerate() {
            let left = self.budget.saturating_sub(start.elapsed());
            let share = left / (servers.len() - i) as u32;
            let req = Request {
                name: self.name.clone(),
                rtype: self.rtype,
                recursion: true,
                dnssec: self.dnssec,
                transport: self.transport,
                timeout: share,
            };
            match dns::query(*server, &req).await {
                Ok(r) => return DnsFacts::Answered(read_response(*server, self.rtype, &r)),
                Err(e) => errors.push((server, e)),
            }
        }
        let text = errors
            .iter()
            .map(|(s, e)| format!("{s}: {e}"))
            .collect::<Vec<_>>()
            .join("; ");
        if errors
            .iter()
            .all(|(_, e)| matches!(e, QueryError::Timeout(_)))
        {
            DnsFacts::TimedOut(text)
        } else {
            DnsFacts::Failed(text)
        }
    }
}

/// The answers as one text, `a, b, c`.
fn show_answers(answers: &[Answer]) -> String {
    answers
        .iter()
        .map(|a| a.text.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

/// check_dns's rule: without -L, OK when any expected answer matches any returned one;
/// with -L, every expected answer must match one returned and every returned one must
/// be matched.
pub fn expectations_met(expected: &[Expected], answers: &[Answer], all: bool) -> bool {
    let any = expected
        .iter()
        .any(|e| answers.iter().any(|a| e.matches(a)));
    if !all {
        return any;
    }
    expected
        .iter()
        .all(|e| answers.iter().any(|a| e.matches(a)))
        && answers
            .iter()
            .all(|a| expected.iter().any(|e| e.matches(a)))
}

/// Turns the facts into the result (pure): what [`Check::evaluate`] does.
fn evaluate(facts: &DnsFacts, check: &DnsCheck) -> CheckResult {
    let name = show_name(&check.name);
    let rtype = check.rtype;
    let a = match facts {
        DnsFacts::Failed(e) => return CheckResult::new(State::Critical, e.clone()),
        DnsFacts::TimedOut(e) => return CheckResult::timed_out(e.clone()),
        DnsFacts::Answered(a) => a,
    };
    let secs = a.elapsed.as_secs_f64();
    let perf = PerfData::new("time", (secs * 1e6).round() / 1e6)
        .uom(crate::plugin::Uom::Seconds)
        .thresholds(&check.thresholds)
        .min(0);
    let fail = |text: String| CheckResult::new(State::Critical, text).with_perf(perf.clone());
    let server = a.server;
    let validated = |what: &str| -> Option<CheckResult> {
        (check.dnssec && !a.authentic).then(|| {
            fail(format!(
                "{what} from {server} is not DNSSEC-validated (no AD bit)"
            ))
        })
    };
    match a.rcode {
        ResponseCode::NXDomain if check.expect_nxdomain => {
            if let Some(r) = validated(&format!("NXDOMAIN for {name}")) {
                return r;
            }
        }
        ResponseCode::NXDomain => {
            return fail(format!(
                "domain '{name}' was not found by {server} (NXDOMAIN)"
            ))
        }
        ResponseCode::NoError => {}
        rc => {
            return fail(format!(
                "{server} answered {} for {name} {rtype}",
                rcode_name(rc)
            ))
        }
    }
    if check.expect_authority && !a.authoritative {
        return fail(format!("{server} is not authoritative for {name}"));
    }
    if check.expect_nxdomain && a.rcode == ResponseCode::NoError {
        let what = if a.answers.is_empty() {
            format!("no {rtype} record")
        } else {
            show_answers(&a.answers)
        };
        // the peer's phrase, which scripts grep for
        return fail(format!(
            "Domain '{name}' was found by the server: '{what}' (NXDOMAIN was expected)"
        ));
    }
    let state = check.thresholds.state(secs);
    let via = if a.tcp { " over TCP" } else { "" };
    if a.rcode == ResponseCode::NXDomain {
        return CheckResult::new(
            state,
            format!(
                "{secs:.3}s response time, {name} does not exist (NXDOMAIN from {server}{via}), as expected"
            ),
        )
        .with_perf(perf);
    }
    if !a.answers.iter().any(|x| x.rtype == rtype) {
        return fail(format!("no {rtype} record for {name} at {server}"));
    }
    if let Some(r) = validated(&format!("the answer for {name} {rtype}")) {
        return r;
    }
    if check.dnssec && !a.signed {
        return fail(format!(
            "the answer for {name} {rtype} from {server} carries no RRSIG"
        ));
    }
    let got = show_answers(&a.answers);
    if !check.expected.is_empty() && !expectations_met(&check.expected, &a.answers, check.all) {
        let want = check
            .expected
            .iter()
            .map(Expected::show)
            .collect::<Vec<_>>()
            .join("; ");
        return fail(format!(
            "expected '{want}' but got '{got}' for {name} {rtype}"
        ));
    }
    let mut flags = Vec::new();
    if a.authoritative {
        flags.push("authoritative");
    }
    if check.dnssec {
        flags.push("DNSSEC-validated");
    }
    let flags = if flags.is_empty() {
        String::new()
    } else {
        format!(", {}", flags.join(", "))
    };
    CheckResult::new(
        state,
        format!(
            "{secs:.3}s response time, {name} {rtype} returns {got} (from {server}{via}{flags})"
        ),
    )
    .with_perf(perf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;

    #[test]
    fn an_internationalized_name_is_asked_in_its_ascii_form() {
        let c = check(&["-H", "bücher.example"]).unwrap();
        assert_eq!(c.name.to_ascii(), "xn--bcher-kva.example.");
        let e = check(&["-H", "bü\ncher.example"]).unwrap_err();
        assert_eq!(
            e.0,
            "invalid host 'bü\\ncher.example': '\\n' is not allowed in a host name"
        );
    }

    fn check(argv: &[&str]) -> Result<DnsCheck, UsageError> {
        validate::<DnsCheck>(argv)
    }

    fn a(ip: &str) -> Answer {
        let ip: IpAddr = ip.parse().unwrap();
        Answer {
            rtype: if ip.is_ipv4() {
                RecordType::A
            } else {
                RecordType::AAAA
            },
            text: ip.to_string(),
            ip: Some(ip),
            target: None,
        }
    }

    fn answered(rcode: ResponseCode, answers: Vec<Answer>) -> DnsFacts {
        DnsFacts::Answered(Answered {
            server: "127.0.0.1:53".parse().unwrap(),
            rcode,
            authoritative: false,
            authentic: false,
            signed: false,
            tcp: false,
            elapsed: Duration::from_millis(12),
            answers,
        })
    }

    fn text(f: &DnsFacts, c: &DnsCheck) -> String {
        render_text("DNS", &c.evaluate(f))
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn usage_errors() {
        assert!(check(&["-H", "x.org", "-q", "BOGUS"])
            .unwrap_err()
            .0
            .starts_with("unknown query type 'BOGUS': use one of A, AAAA, MX"));
        assert_eq!(
            check(&["-H", "a..b"]).unwrap_err().0,
            "invalid host 'a..b': empty label"
        );
        assert_eq!(check(&["-H", "."]).unwrap().name.to_string(), ".");
        // a newline or a 100 KB name: one line, escaped and cut
        assert_eq!(
            check(&["-H", "a\nb"]).unwrap_err().0,
            "invalid host 'a\\nb': '\\n' is not allowed in a host name"
        );
        let e = check(&["-H", &"a".repeat(100_000)]).unwrap_err().0;
        assert!(
            e.len() < 300 && e.ends_with("longer than 253 characters"),
            "{e}"
        );
        assert_eq!(
            check(&["-H", "x.org", "-s", "a b"]).unwrap_err().0,
            "-s: invalid host 'a b': ' ' is not allowed in a host name"
        );
        assert!(check(&["-H", "x.org", "-p", "0"])
            .unwrap_err()
            .0
            .ends_with("port 0 is out of range (1-65535)"));
        assert!(check(&["-H", "x.org", "-a", "10.0.0.0/33"])
            .unwrap_err()
            .0
            .contains("prefix must be 0 to 32"));
        assert!(check(&["-H", "x.org", "-n", "-a", "1.2.3.4"]).is_err());
        assert!(check(&["-H", "x.org", "-L"]).is_err());
        assert!(check(&["-H", "x.org", "-w", "2:1"]).is_err());
        assert!(check(&["-H", "x.org", "-4", "-6"]).is_err());
        assert!(check(&["-H", "x.org", "-s", " "]).is_err());
    }

    #[test]
    fn types_and_reverse_names() {
        let c = check(&["-H", "192.0.2.7"]).unwrap();
        assert_eq!(c.rtype, RecordType::PTR);
        assert_eq!(c.name.to_string(), "7.2.0.192.in-addr.arpa.");
        let c = check(&["-H", "x.org", "-T", "mx"]).unwrap();
        assert_eq!(c.rtype, RecordType::MX);
        let c = check(&["-H", "x.org", "--record_type", "AAAA"]).unwrap();
        assert_eq!(c.rtype, RecordType::AAAA);
        assert_eq!(check(&["-H", "x.org"]).unwrap().rtype, RecordType::A);
    }

    #[test]
    fn expected_any_and_all() {
        let got = vec![a("192.0.2.1"), a("192.0.2.2")];
        let e = |v: &[&str]| {
            v.iter()
                .map(|s| s.parse().unwrap())
                .collect::<Vec<Expected>>()
        };
        assert!(expectations_met(&e(&["192.0.2.1"]), &got, false));
        assert!(!expectations_met(&e(&["192.0.2.1"]), &got, true));
        assert!(expectations_met(
            &e(&["192.0.2.2", "192.0.2.1"]),
            &got,
            true
        ));
        assert!(!expectations_met(
            &e(&["192.0.2.1", "192.0.2.3"]),
            &got,
            true
        ));
        assert!(expectations_met(
            &e(&["192.0.2.1", "192.0.2.3"]),
            &got,
            false
        ));
        assert!(expectations_met(&e(&["192.0.2.0/30"]), &got, true));
        assert!(!expectations_met(&e(&["198.51.100.0/24"]), &got, false));
        let v6 = vec![a("2001:db8::1")];
        assert!(expectations_met(&e(&["2001:db8:0::1"]), &v6, true));
        assert!(expectations_met(&e(&["2001:db8::/32"]), &v6, true));
        assert!(!expectations_met(&e(&["192.0.2.0/24"]), &v6, false));
    }

    #[test]
    fn expected_text_records() {
        let mx = Answer {
            rtype: RecordType::MX,
            text: "10 Mail.Example.org.".into(),
            ip: None,
            target: Some("Mail.Example.org.".into()),
        };
        for ok in [
            "10 mail.example.org",
            "10 mail.example.org.",
            "mail.example.org.",
        ] {
            assert!(ok.parse::<Expected>().unwrap().matches(&mx), "{ok}");
        }
        assert!(!"20 mail.example.org"
            .parse::<Expected>()
            .unwrap()
            .matches(&mx));
        let txt = Answer {
            rtype: RecordType::TXT,
            text: "v=spf1 -all".into(),
            ip: None,
            target: None,
        };
        assert!("v=spf1 -all".parse::<Expected>().unwrap().matches(&txt));
    }

    #[test]
    fn ok_answer_with_time_thresholds() {
        let f = answered(ResponseCode::NoError, vec![a("192.0.2.1")]);
        // plain seconds, and the same levels with units: 10ms is 0.01, 1s is 1
        for (w, c) in [("0.01", "1"), ("10ms", "1s")] {
            let args = ["-H", "www.example.org", "-a", "192.0.2.1", "-w", w, "-c", c];
            assert_eq!(
                text(&f, &check(&args).unwrap()),
                "DNS WARNING - 0.012s response time, www.example.org A returns 192.0.2.1 (from 127.0.0.1:53) | time=0.012s;0.01;1;0\n",
                "-w {w} -c {c}"
            );
        }
        let c = check(&["-H", "www.example.org", "-c", "0.1"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Ok);
        let c = check(&["-H", "www.example.org", "-c", "@5:20ms"]).unwrap();
        assert_eq!(c.evaluate(&f).state(), State::Critical);
    }

    #[test]
    fn unexpected_answer_is_critical() {
        let c = check(&["-H", "www.example.org", "-a", "192.0.2.9,192.0.2.8"]).unwrap();
        let f = answered(ResponseCode::NoError, vec![a("192.0.2.1")]);
        assert_eq!(
            text(&f, &c),
            "DNS CRITICAL - expected '192.0.2.9; 192.0.2.8' but got '192.0.2.1' for www.example.org A | time=0.012s;;;0\n"
        );
    }

    #[test]
    fn nxdomain_expected_or_not() {
        let f = answered(ResponseCode::NXDomain, vec![]);
        let c = check(&["-H", "nope.example.org"]).unwrap();
        assert_eq!(
            c.evaluate(&f).summary,
            "domain 'nope.example.org' was not found by 127.0.0.1:53 (NXDOMAIN)"
        );
        assert_eq!(c.evaluate(&f).state(), State::Critical);
        let c = check(&["-H", "nope.example.org", "-n"]).unwrap();
        let r = c.evaluate(&f);
        assert_eq!(r.state(), State::Ok);
        assert_eq!(
            r.summary,
            "0.012s response time, nope.example.org does not exist (NXDOMAIN from 127.0.0.1:53), as expected"
        );
        let exists = answered(ResponseCode::NoError, vec![a("192.0.2.1")]);
        assert_eq!(
            c.evaluate(&exists).summary,
            "Domain 'nope.example.org' was found by the server: '192.0.2.1' (NXDOMAIN was expected)"
        );
        let nodata = answered(ResponseCode::NoError, vec![]);
        assert_eq!(
            c.evaluate(&nodata).summary,
            "Domain 'nope.example.org' was found by the server: 'no A record' (NXDOMAIN was expected)"
        );
    }

    #[test]
    fn errors_authority_and_dnssec() {
        let c = check(&["-H", "x.example.org", "-A"]).unwrap();
        let f = answered(ResponseCode::NoError, vec![a("192.0.2.1")]);
        assert_eq!(
            c.evaluate(&f).summary,
            "127.0.0.1:53 is not authoritative for x.example.org"
        );
        let refused = answered(ResponseCode::Refused, vec![]);
        assert_eq!(
            c.evaluate(&refused).summary,
            "127.0.0.1:53 answered REFUSED for x.example.org A"
        );
        let empty = answered(ResponseCode::NoError, vec![]);
        let plain = check(&["-H", "x.example.org"]).unwrap();
        assert_eq!(
            plain.evaluate(&empty).summary,
            "no A record for x.example.org at 127.0.0.1:53"
        );
        let sec = check(&["-H", "x.example.org", "--dnssec"]).unwrap();
        assert_eq!(
            sec.evaluate(&f).summary,
            "the answer for x.example.org A from 127.0.0.1:53 is not DNSSEC-validated (no AD bit)"
        );
        let DnsFacts::Answered(mut ad) = f.clone() else {
            unreachable!()
        };
        ad.authentic = true;
        assert_eq!(
            sec.evaluate(&DnsFacts::Answered(ad.clone())).summary,
            "the answer for x.example.org A from 127.0.0.1:53 carries no RRSIG"
        );
        ad.signed = true;
        let r = sec.evaluate(&DnsFacts::Answered(ad));
        assert_eq!(r.state(), State::Ok);
        assert!(r.summary.ends_with("(from 127.0.0.1:53, DNSSEC-validated)"));
        let failed = DnsFacts::Failed("127.0.0.1:53: tcp connect: connection refused".into());
        let r = plain.evaluate(&failed);
        assert!(!r.timed_out);
        assert_eq!(
            render_text("DNS", &r),
            "DNS CRITICAL - 127.0.0.1:53: tcp connect: connection refused\n"
        );
        // silence until the time ran out: the state is the one -t names
        let silent = DnsFacts::TimedOut("127.0.0.1:53: no answer within 2s".into());
        let r = plain.evaluate(&silent);
        assert!(r.timed_out);
        assert_eq!(
            text(&silent, &plain),
            "DNS CRITICAL - 127.0.0.1:53: no answer within 2s\n"
        );
        assert_eq!(
            render_text("DNS", &r.with_timeout_state(State::Unknown)),
            "DNS UNKNOWN - 127.0.0.1:53: no answer within 2s\n"
        );
    }
}
