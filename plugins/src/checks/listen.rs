//! check_listen: the listening TCP and UDP sockets (from /proc/net/{tcp,tcp6,udp,udp6},
//! owners found through /proc/PID/fd socket inodes) held against a policy file saying
//! which user or program may listen on which address and port. Anything else — a
//! member's daemon on a port it should not hold, a service bound to every address
//! instead of loopback — is named with its user, pid and program; expected listeners
//! that are missing are reported too.
//!
//! Policy (TOML):
//! ```toml
//! unexpected = "critical"      # state of a listener no rule allows (default critical)
//! [[allow]]                    # every given key must match; omitted keys match anything
//! proto = "tcp"                # tcp or udp
//! port = 5432                  # or ports = "1024-65535"
//! address = "loopback"         # "any" (0.0.0.0 / ::), "loopback", or one address
//! user = "postgres"
//! program = "postgres"
//! [[expect]]                   # must be listening
//! proto = "tcp"
//! port = 22
//! program = "sshd"
//! state = "critical"           # when missing (default critical)
//! ```

use crate::host::listeners::{listeners, Listener, Proto};
use crate::plugin::{
    judge, shown, Check, CheckResult, CommonArgs, Observed, PerfData, State, UsageError, Work,
};
use clap::Parser;
use serde::Deserialize;

use std::net::IpAddr;
use std::path::PathBuf;

/// Command line of check_listen.
#[derive(Parser, Debug)]
#[command(
    name = "check_listen",
    version,
    about = "Checks listening TCP and UDP sockets against a policy: who may listen on which address and port, and what must be listening.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options or policy, /proc unreadable, internal error). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The policy file (TOML; see the module documentation or the README)
    #[arg(short = 'P', long = "policy", value_name = "FILE")]
    pub policy: Option<PathBuf>,
}

/// Which local addresses a rule covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrRule {
    /// Bound to every address (0.0.0.0 or ::).
    Any,
    /// 127.0.0.0/8 or ::1.
    Loopback,
    /// Exactly this address.
    Exact(IpAddr),
}

impl AddrRule {
    fn parse(text: &str) -> Result<AddrRule, String> {
        match text {
            "any" => Ok(AddrRule::Any),
            "loopback" => Ok(AddrRule::Loopback),
            a => a
                .parse()
                .map(AddrRule::Exact)
                .map_err(|_| format!("address '{a}' is not any, loopback or an IP address")),
        }
    }

    fn matches(&self, a: IpAddr) -> bool {
        match self {
            AddrRule::Any => a.is_unspecified(),
            AddrRule::Loopback => a.is_loopback(),
            AddrRule::Exact(e) => *e == a,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RuleConfig {
    proto: Option<Proto>,
    port: Option<u16>,
    ports: Option<String>,
    address: Option<String>,
    user: Option<String>,
    program: Option<String>,
    state: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyConfig {
    unexpected: Option<String>,
    #[serde(default)]
    allow: Vec<RuleConfig>,
    #[serde(default)]
    expect: Vec<RuleConfig>,
}

/// One rule: every `Some` field must match.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub proto: Option<Proto>,
    pub ports: Option<(u16, u16)>,
    pub address: Option<AddrRule>,
    pub user: Option<String>,
    pub program: Option<String>,
    /// For an expected listener: the state when it is missing.
    pub state: State,
}

impl Rule {
    fn matches(&self, l: &Listener) -> bool {
        self.proto.is_none_or(|p| p == l.proto)
            && self.ports.is_none_or(|(a, b)| (a..=b).contains(&l.port))
            && self.address.is_none_or(|a| a.matches(l.address))
            && self.user.as_ref().is_none_or(|u| *u == l.user)
            && self
                .program
                .as_ref()
                .is_none_or(|p| l.owners.iter().any(|o| o.program == *p))
    }

    fn describe(&self) -> String {
        let mut s = self.proto.map_or("tcp/udp", Proto::as_str).to_string();
        match self.ports {
            Some((a, b)) if a == b => s.push_str(&format!(" port {a}")),
            Some((a, b)) => s.push_str(&format!(" ports {a}-{b}")),
            None => s.push_str(" any port"),
        }
        match self.address {
            Some(AddrRule::Any) => s.push_str(" on all addresses"),
            Some(AddrRule::Loopback) => s.push_str(" on loopback"),
            Some(AddrRule::Exact(a)) => s.push_str(&format!(" on {a}")),
            None => {}
        }
        if let Some(p) = &self.program {
            s.push_str(&format!(" by {p}"));
        }
        if let Some(u) = &self.user {
            s.push_str(&format!(" as {u}"));
        }
        s
    }
}

impl RuleConfig {
    fn build(self, what: &str, i: usize) -> Result<Rule, String> {
        let at = format!("{what} rule {}", i + 1);
        let ports = match (self.port, self.ports) {
            (Some(_), Some(_)) => return Err(format!("{at}: give port or ports, not both")),
            (Some(p), None) => Some((p, p)),
            (None, Some(r)) => {
                let (a, b) = r.split_once('-').unwrap_or((&r, &r));
                let a: u16 = a
                    .trim()
                    .parse()
                    .map_err(|_| format!("{at}: bad ports '{r}'"))?;
                let b: u16 = b
                    .trim()
                    .parse()
                    .map_err(|_| format!("{at}: bad ports '{r}'"))?;
                if a > b {
                    return Err(format!("{at}: ports '{r}' run backwards"));
                }
                Some((a, b))
            }
            (None, None) => None,
        };
        Ok(Rule {
            proto: self.proto,
            ports,
            address: self
                .address
                .map(|a| AddrRule::parse(&a))
                .transpose()
                .map_err(|e| format!("{at}: {e}"))?,
            user: self.user,
            program: self.program,
            state: match self.state {
                Some(s) => s.parse().map_err(|e| format!("{at}: {e}"))?,
                None => State::Critical,
            },
        })
    }
}

/// The parsed policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub unexpected: State,
    pub allow: Vec<Rule>,
    pub expect: Vec<Rule>,
}

impl Policy {
    /// Reads a policy from TOML text.
    pub fn parse(text: &str) -> Result<Policy, String> {
        let c: PolicyConfig = toml::from_str(text).map_err(|e| {
            e.to_string()
                .lines()
                .last()
                .unwrap_or("invalid TOML")
                .to_string()
        })?;
        Ok(Policy {
            unexpected: match c.unexpected {
                Some(s) => s.parse()?,
                None => State::Critical,
            },
            allow: c
                .allow
                .into_iter()
                .enumerate()
                .map(|(i, r)| r.build("allow", i))
                .collect::<Result<_, _>>()?,
            expect: c
                .expect
                .into_iter()
                .enumerate()
                .map(|(i, r)| r.build("expect", i))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// The validated check.
#[derive(Debug)]
pub struct ListenCheck {
    /// The policy file, read and parsed when the check runs (validation does no I/O).
    pub policy_file: PathBuf,
    pub proc_root: PathBuf,
}

/// What the check read: the policy, and the sockets listening.
#[derive(Debug, Clone, PartialEq)]
pub struct ListenFacts {
    pub policy: Policy,
    pub listeners: Vec<Listener>,
}

impl Check for ListenCheck {
    type Args = Args;
    /// The policy and the listeners, or why either could not be read.
    type Facts = Observed<ListenFacts>;
    const LABEL: &'static str = "LISTEN";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let policy_file = args
            .policy
            .ok_or_else(|| UsageError::new("no policy: give -P FILE"))?;
        Ok(ListenCheck {
            policy_file,
            proc_root: PathBuf::from("/proc"),
        })
    }

    /// Reads the policy file, then the listening sockets and who holds them.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let path = &self.policy_file;
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read {}: {e}", shown(&path.display().to_string())))?;
            let policy = Policy::parse(&text)
                .map_err(|e| format!("{}: {e}", shown(&path.display().to_string())))?;
            Ok(ListenFacts {
                policy,
                listeners: listeners(&self.proc_root)?,
            })
        })
    }

    /// UNKNOWN when the policy or the socket tables could not be read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |f| evaluate(&f.listeners, &f.policy))
    }
}

/// One listener in words: `tcp 127.0.0.1:22 user root pid 1 (sshd)`; the user and
/// program names are echoed escaped (a process may name itself anything).
fn describe(l: &Listener) -> String {
    let addr = match l.address {
        IpAddr::V6(a) => format!("[{a}]"),
        IpAddr::V4(a) => a.to_string(),
    };
    let owners = if l.owners.is_empty() {
        "no visible process".to_string()
    } else {
        l.owners
            .iter()
            .map(|o| format!("pid {} ({})", o.pid, shown(&o.program)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "{} {addr}:{} user {} {owners}",
        l.proto.as_str(),
        l.port,
        shown(&l.user)
    )
}

/// Holds the listeners against the policy (pure).
fn evaluate(listeners: &[Listener], policy: &Policy) -> CheckResult {
    let unexpected: Vec<&Listener> = listeners
        .iter()
        .filter(|l| !policy.allow.iter().any(|r| r.matches(l)))
        .collect();
    let missing: Vec<&Rule> = policy
        .expect
        .iter()
        .filter(|r| !listeners.iter().any(|l| r.matches(l)))
        .collect();
    let mut r = CheckResult::new(State::Ok, "");
    for l in &unexpected {
        r.push_sub(policy.unexpected, format!("not allowed: {}", describe(l)));
    }
    for m in &missing {
        r.push_sub(m.state, format!("missing: {}", m.describe()));
    }
    r.summary = if unexpected.is_empty() && missing.is_empty() {
        format!(
            "{} listening socket{} allowed, {} expected present",
            listeners.len(),
            if listeners.len() == 1 { "" } else { "s" },
            policy.expect.len()
        )
    } else {
        let mut parts = Vec::new();
        if !unexpected.is_empty() {
            parts.push(format!(
                "{} not allowed: {}",
                unexpected.len(),
                unexpected
                    .iter()
                    .map(|l| describe(l))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        if !missing.is_empty() {
            parts.push(format!(
                "{} missing: {}",
                missing.len(),
                missing
                    .iter()
                    .map(|m| m.describe())
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        parts.join("; ")
    };
    r.push_perf(PerfData::new("listeners", listeners.len()).min(0));
    r.push_perf(PerfData::new("unexpected", unexpected.len()).min(0));
    r.push_perf(PerfData::new("missing", missing.len()).min(0));
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::listeners::{parse_addr, parse_net_table, Owner};
    use crate::plugin::output::render_text;
    use crate::plugin::runner::fetched;
    use crate::plugin::runner::validate;

    /// The verdict on these listeners under this policy.
    fn judge(policy: &Policy, listeners: &[Listener]) -> CheckResult {
        let c = validate::<ListenCheck>(&["-P", "policy.toml"]).unwrap();
        c.evaluate(&Ok(ListenFacts {
            policy: policy.clone(),
            listeners: listeners.to_vec(),
        }))
    }

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 1234 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5678 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1538 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000   106        0 9999 1 0000000000000000 20 4 0 10 -1
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4321 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 8765 1 0000000000000000 100 0 0 10 0
";

    fn listener(proto: Proto, addr: &str, port: u16, user: &str, program: &str) -> Listener {
        Listener {
            proto,
            address: addr.parse().unwrap(),
            port,
            user: user.into(),
            inode: 1,
            owners: vec![Owner {
                pid: 42,
                program: program.into(),
            }],
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn parses_proc_net_tables() {
        let t = parse_net_table(TCP, Proto::Tcp);
        assert_eq!(
            t,
            [
                ("127.0.0.1".parse().unwrap(), 5432, 106, 1234),
                ("0.0.0.0".parse().unwrap(), 22, 0, 5678)
            ]
        );
        let t6 = parse_net_table(TCP6, Proto::Tcp);
        assert_eq!(t6[0].0, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(t6[0].1, 22);
        assert_eq!(t6[1].0, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(t6[1].1, 8080);
        assert_eq!(parse_addr("zz:1"), None);
    }

    const POLICY: &str = r#"
unexpected = "warning"
[[allow]]
proto = "tcp"
port = 22
program = "sshd"
[[allow]]
port = 5432
address = "loopback"
user = "postgres"
[[allow]]
ports = "30000-40000"
[[expect]]
proto = "tcp"
port = 22
[[expect]]
proto = "tcp"
port = 25
state = "warning"
"#;

    #[test]
    fn policy_against_listeners() {
        let p = Policy::parse(POLICY).unwrap();
        let ok = [
            listener(Proto::Tcp, "0.0.0.0", 22, "root", "sshd"),
            listener(Proto::Tcp, "127.0.0.1", 5432, "postgres", "postgres"),
            listener(Proto::Udp, "10.0.0.1", 31000, "alice", "game"),
        ];
        let r = judge(&p, &ok);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            render_text("LISTEN", &r),
            "LISTEN WARNING - 1 missing: tcp port 25 | listeners=3;;;0 unexpected=0;;;0 missing=1;;;0\n[WARNING] missing: tcp port 25\n"
        );
        let mut bad = ok.to_vec();
        bad.push(listener(
            Proto::Tcp,
            "0.0.0.0",
            5432,
            "postgres",
            "postgres",
        ));
        bad.push(listener(Proto::Tcp, "::", 8080, "alice", "python3"));
        bad.push(listener(Proto::Tcp, "0.0.0.0", 25, "root", "exim4"));
        let r = judge(&p, &bad);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "3 not allowed: tcp 0.0.0.0:5432 user postgres pid 42 (postgres); tcp [::]:8080 user alice pid 42 (python3); tcp 0.0.0.0:25 user root pid 42 (exim4)"
        );
        let strict = Policy::parse("[[allow]]\nport = 22\n").unwrap();
        assert_eq!(judge(&strict, &bad).state(), State::Critical);
    }

    #[test]
    fn bad_policies() {
        for (text, want) in [
            (
                "[[allow]]\nport = 1\nports = \"1-2\"\n",
                "allow rule 1: give port or ports, not both",
            ),
            (
                "[[allow]]\nports = \"9-1\"\n",
                "allow rule 1: ports '9-1' run backwards",
            ),
            (
                "[[allow]]\naddress = \"everywhere\"\n",
                "allow rule 1: address 'everywhere' is not any, loopback or an IP address",
            ),
            (
                "[[expect]]\nport = 1\nstate = \"bad\"\n",
                "expect rule 1: 'bad' is not a state (expected ok, warning, critical or unknown)",
            ),
            (
                "unexpected = \"meh\"\n",
                "'meh' is not a state (expected ok, warning, critical or unknown)",
            ),
        ] {
            assert_eq!(Policy::parse(text).unwrap_err(), want, "{text}");
        }
        assert!(Policy::parse("[[allow]]\nprot = \"tcp\"\n")
            .unwrap_err()
            .contains("unknown field"));
        assert!(Policy::parse("[[allow]]\nproto = \"sctp\"\n").is_err());
    }

    /// The policy file is read when the check runs, not while its options are
    /// validated; its errors are still one UNKNOWN line naming the file.
    #[test]
    fn the_policy_is_read_by_the_fetch() {
        let check = validate::<ListenCheck>;
        assert_eq!(check(&[]).unwrap_err().0, "no policy: give -P FILE");
        let c = check(&["-P", "/nonexistent.toml"]).unwrap();
        let unread = c.evaluate(&fetched(&c));
        assert_eq!(unread.state(), State::Unknown);
        assert!(unread
            .summary
            .starts_with("cannot read /nonexistent.toml: "));
        assert!(fetched(&c)
            .unwrap_err()
            .starts_with("cannot read /nonexistent.toml: "));
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("p.toml");
        std::fs::write(&p, "[[allow]]\nports = \"9-1\"\n").unwrap();
        let c = check(&["-P", p.to_str().unwrap()]).unwrap();
        assert_eq!(
            fetched(&c).unwrap_err(),
            format!("{}: allow rule 1: ports '9-1' run backwards", p.display())
        );
        std::fs::write(&p, "[[allow]]\nport = 22\n").unwrap();
        let facts = fetched(&c).unwrap();
        assert_eq!(
            facts.policy,
            Policy::parse("[[allow]]\nport = 22\n").unwrap()
        );
    }

    /// A process may give itself any name: the listener line stays one line.
    #[test]
    fn listeners_are_described_escaped() {
        let strict = Policy::parse("[[allow]]\nport = 22\n").unwrap();
        let l = listener(Proto::Tcp, "0.0.0.0", 4444, "mallory", "evil\nOK - fine");
        let r = judge(&strict, &[l]);
        assert_eq!(r.state(), State::Critical);
        let text = render_text("LISTEN", &r);
        assert!(
            text.contains("not allowed: tcp 0.0.0.0:4444 user mallory pid 42 (evil\\nOK - fine)"),
            "{text}"
        );
        assert!(text.lines().all(|l| !l.starts_with("OK - fine")), "{text}");
    }
}
