//! check_ldap and check_ldaps: a (simple or anonymous) bind and one search, timed, with
//! monitoring-plugins' options, verdicts and perfdata (`time=…s;w;c;0`, and with
//! `-W`/`-C` the entry count `entries=N;W;C;0`). check_ldaps is check_ldap with STARTTLS
//! unless `-S` asks for LDAPS, as the peer ships it.
//!
//! The LDAP messages are the `ldap3` crate's (its BER codec, filter parser and StartTLS
//! exchange, over our own TCP connection and our rustls settings); the verdicts are here.

use crate::plugin::args::seconds_level;
use crate::plugin::secrets::secret_from_env;
use crate::plugin::FamilyArgs;
use crate::plugin::{
    parse_host, parse_port, shown, CheckResult, CommonArgs, Family, Level, PerfData, Range, State,
    Thresholds, Uom, UsageError, Work, EXIT_CODES,
};
use crate::proto::net;
use crate::proto::tls::{provider, TlsArgs, TlsSettings};
use clap::Parser;
use std::sync::Arc;
use std::time::Duration;

/// The options check_ldap and check_ldaps share.
#[derive(clap::Args, Debug)]
pub struct LdapArgs {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The LDAP server, a name or an address; may also be given as the first bare word
    #[arg(short = 'H', long = "hostname", value_name = "HOST", value_parser = parse_host)]
    pub hostname: Option<String>,

    /// The server's port (default 389, 636 with -S)
    #[arg(short = 'p', long = "port", value_name = "PORT", value_parser = parse_port)]
    pub port: Option<u16>,

    #[command(flatten)]
    pub family: FamilyArgs,

    /// The search base (e.g. "ou=people,dc=example,dc=org"); may also be given as the bare word after the host
    #[arg(short = 'b', long = "base", value_name = "DN")]
    pub base: Option<String>,

    /// The search filter
    #[arg(
        short = 'a',
        long = "attr",
        value_name = "FILTER",
        default_value = "(objectclass=*)"
    )]
    pub filter: String,

    /// The DN to bind as (default: an anonymous bind)
    #[arg(short = 'D', long = "bind", value_name = "DN")]
    pub bind_dn: Option<String>,

    /// The bind password (visible to every local user in ps: prefer the environment variable LDAP_PASSWORD)
    #[arg(short = 'P', long = "pass", value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Upgrade the connection with STARTTLS before binding
    #[arg(short = 'T', long = "starttls", conflicts_with = "ssl")]
    pub starttls: bool,

    /// Speak TLS from the first byte (LDAPS; the port defaults to 636)
    #[arg(short = 'S', long = "ssl")]
    pub ssl: bool,

    /// LDAP protocol version 2 (accepted; ours always speaks version 3)
    #[arg(short = '2', long = "ver2", conflicts_with = "ver3")]
    pub ver2: bool,

    /// LDAP protocol version 3 (the default)
    #[arg(short = '3', long = "ver3")]
    pub ver3: bool,

    /// Response time that makes the result WARNING, in seconds
    #[arg(short = 'w', long = "warn", visible_alias = "warning", value_name = "SECONDS", value_parser = seconds_level)]
    pub warning: Option<Level>,

    /// Response time that makes the result CRITICAL, in seconds
    #[arg(short = 'c', long = "crit", visible_alias = "critical", value_name = "SECONDS", value_parser = seconds_level)]
    pub critical: Option<Level>,

    /// Entries found (in the whole subtree) that make the result WARNING (a range)
    #[arg(
        short = 'W',
        long = "warn-entries",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub warn_entries: Option<Range>,

    /// Entries found (in the whole subtree) that make the result CRITICAL (a range)
    #[arg(
        short = 'C',
        long = "crit-entries",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub crit_entries: Option<Range>,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// HOST and BASE given as bare words, as monitoring-plugins accepts them
    #[arg(value_name = "HOST [BASE]", num_args = 0..=2, hide = true)]
    pub words: Vec<String>,
}

const AFTER_HELP: &str = "Verdicts as monitoring-plugins' check_ldap: CRITICAL `Could not bind to the LDAP server` (no connection, or the bind refused), `Could not init startTLS at port N!`, `Could not init TLS at port N!`, `Could not search/find objectclasses in BASE`, `Socket timeout after N seconds`; otherwise the response time against -w/-c. Without -W/-C the search reads the base entry only; with them, the whole subtree, and the number of entries found is judged too.\n\nWhere ours differs from Debian's: certificates are verified against the Mozilla roots or --ca-cert (Debian's follows /etc/ldap/ldap.conf); -2 is accepted but the bind is always LDAPv3; only the entries' names are asked for when counting; STARTTLS and LDAPS need the server's name or IPv4 address (an IPv6 address with -T/-S is refused: give its host name with -6).";

/// Command line of check_ldap.
#[derive(Parser, Debug)]
#[command(
    name = "check_ldap",
    version,
    about = "Binds to an LDAP server and searches its base, timed.",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES}")
)]
pub struct Args {
    #[command(flatten)]
    pub ldap: LdapArgs,
}

/// Command line of check_ldaps.
#[derive(Parser, Debug)]
#[command(
    name = "check_ldaps",
    version,
    about = "check_ldap over TLS: STARTTLS unless -S asks for LDAPS.",
    after_help = format!("{AFTER_HELP}\n\n{EXIT_CODES}")
)]
pub struct LdapsArgs {
    #[command(flatten)]
    pub ldap: LdapArgs,
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    Plain,
    StartTls,
    Ldaps,
}

/// The validated check.
#[derive(Debug)]
pub struct LdapCheck {
    pub host: String,
    pub port: u16,
    pub family: Family,
    pub base: String,
    pub filter: String,
    pub bind_dn: String,
    pub password: String,
    pub security: Security,
    pub tls: TlsSettings,
    pub time: Thresholds,
    /// `-W`/`-C`: the entries are counted (subtree search) and judged.
    pub entries: Option<Thresholds>,
    /// The whole budget (`-t`), and its whole seconds for the peer's message.
    pub budget: Duration,
    pub timeout_secs: f64,
}

/// Where the exchange stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connect,
    StartTls,
    Tls,
    Bind,
    Search,
}

/// What the exchange found.
#[derive(Debug, Clone, PartialEq)]
pub enum LdapFacts {
    /// Bound and searched: the time it took, and the entries when they were counted.
    Done {
        elapsed: Duration,
        entries: Option<u64>,
    },
    /// It failed at `stage`, for `why`.
    Failed { stage: Stage, why: String },
    /// The time ran out.
    TimedOut,
}

impl LdapCheck {
    fn from_args(a: LdapArgs, ldaps_binary: bool) -> Result<Self, UsageError> {
        let mut words = a.words.into_iter();
        let host = match a.hostname {
            Some(h) => h,
            None => {
                let w = words
                    .next()
                    .ok_or_else(|| UsageError::new("Please specify the host name (-H HOST)"))?;
                parse_host(&w).map_err(UsageError)?
            }
        };
        let base = a
            .base
            .or_else(|| words.next())
            .ok_or_else(|| UsageError::new("Please specify the LDAP base (-b BASE)"))?;
        if let Some(extra) = words.next() {
            return Err(UsageError(format!(
                "unexpected argument '{}'",
                shown(&extra)
            )));
        }
        if ldap3::parse_filter(&a.filter).is_err() {
            return Err(UsageError(format!(
                "-a: '{}' is not an LDAP search filter",
                shown(&a.filter)
            )));
        }
        let security = if a.ssl {
            Security::Ldaps
        } else if a.starttls || ldaps_binary {
            Security::StartTls
        } else if a.port == Some(636) {
            // as the peer: the LDAPS port means LDAPS
            Security::Ldaps
        } else {
            Security::Plain
        };
        if security != Security::Plain
            && host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<std::net::Ipv6Addr>()
                .is_ok()
        {
            return Err(UsageError(format!(
                "TLS to the IPv6 address {host} is not supported: give the server's host name (-H NAME -6)"
            )));
        }
        let port = a.port.unwrap_or(if security == Security::Ldaps {
            636
        } else {
            389
        });
        let entries = (a.warn_entries.is_some() || a.crit_entries.is_some())
            .then(|| Thresholds::new(a.warn_entries, a.crit_entries));
        let password = a
            .password
            .or_else(|| secret_from_env("LDAP_PASSWORD"))
            .unwrap_or_default();
        Ok(LdapCheck {
            host,
            port,
            family: a.family.family(),
            base,
            filter: a.filter,
            bind_dn: a.bind_dn.unwrap_or_default(),
            password,
            security,
            tls: TlsSettings::new(&a.tls)?,
            time: Thresholds::new(a.warning.map(|l| l.range), a.critical.map(|l| l.range)),
            entries,
            budget: a.common.timeout.duration,
            timeout_secs: a.common.timeout.duration.as_secs_f64(),
        })
    }

    /// The exchange: connect, secure, bind, search, unbind.
    pub async fn talk(&self) -> LdapFacts {
        let start = tokio::time::Instant::now();
        // the check's own limit answers before the runner's, with the peer's words
        let limit = self
            .budget
            .saturating_sub((self.budget / 20).min(Duration::from_millis(100)));
        match tokio::time::timeout(limit, self.exchange()).await {
            Ok(Ok(entries)) => LdapFacts::Done {
                elapsed: start.elapsed(),
                entries,
            },
            Ok(Err((stage, why))) => LdapFacts::Failed { stage, why },
            Err(_) => LdapFacts::TimedOut,
        }
    }

    async fn exchange(&self) -> Result<Option<u64>, (Stage, String)> {
        use ldap3::adapters::EntriesOnly;
        use ldap3::{LdapConnAsync, LdapConnSettings, Scope, StdStream};
        let conn = net::connect(&self.host, self.port, self.family)
            .await
            .map_err(|e| (Stage::Connect, e.to_string()))?;
        let std = conn
            .stream
            .into_std()
            .map_err(|e| (Stage::Connect, e.to_string()))?;
        let mut settings = LdapConnSettings::new().set_std_stream(StdStream::Tcp(std));
        let host = self.host.trim_start_matches('[').trim_end_matches(']');
        let scheme = match self.security {
            Security::Ldaps => "ldaps",
            _ => "ldap",
        };
        if self.security != Security::Plain {
            let config = rustls::ClientConfig::builder_with_provider(provider())
                .with_protocol_versions(rustls::DEFAULT_VERSIONS)
                .map_err(|e| (Stage::Tls, e.to_string()))?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(self.tls.verifier()))
                .with_no_client_auth();
            settings = settings
                .set_config(Arc::new(config))
                .set_starttls(self.security == Security::StartTls)
                .set_no_tls_verify(!self.tls.verifies());
        }
        let url_host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        let url = url::Url::parse(&format!("{scheme}://{url_host}:{}", self.port))
            .map_err(|e| (Stage::Connect, format!("{host}: {e}")))?;
        let tls_stage = match self.security {
            Security::Plain => Stage::Connect,
            Security::StartTls => Stage::StartTls,
            Security::Ldaps => Stage::Tls,
        };
        let (conn, mut ldap) = LdapConnAsync::from_url_with_settings(settings, &url)
            .await
            .map_err(|e| (tls_stage, describe(&e)))?;
        ldap3::drive!(conn);
        ldap.simple_bind(&self.bind_dn, &self.password)
            .await
            .and_then(|r| r.success())
            .map_err(|e| (Stage::Bind, describe(&e)))?;
        let (scope, attrs) = match self.entries {
            // counting: the whole subtree, only the names
            Some(_) => (Scope::Subtree, vec!["1.1"]),
            None => (Scope::Base, vec![]),
        };
        let searched = async {
            let mut stream = ldap
                .streaming_search_with(EntriesOnly::new(), &self.base, scope, &self.filter, attrs)
                .await?;
            let mut n = 0u64;
            while stream.next().await?.is_some() {
                n += 1;
            }
            stream.finish().await.success()?;
            Ok::<u64, ldap3::LdapError>(n)
        }
        .await
        .map_err(|e| (Stage::Search, describe(&e)))?;
        let _ = ldap.unbind().await;
        Ok(self.entries.map(|_| searched))
    }
}

/// An LDAP error in one line: a server's result as its code and name (and its text
/// and matched DN when it sent them), anything else as ldap3 words it.
pub fn describe(e: &ldap3::LdapError) -> String {
    match e {
        ldap3::LdapError::LdapResult { result } => result
            .to_string()
            .replace(", dn: \"\"", "")
            .replace(", text: \"\"", ""),
        other => other.to_string(),
    }
}

/// The check_ldap check (and check_ldaps: [`LdapsCheck`]).
impl crate::plugin::Check for LdapCheck {
    type Args = Args;
    type Facts = LdapFacts;
    const LABEL: &'static str = "LDAP";

    fn common(args: &Args) -> &CommonArgs {
        &args.ldap.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        LdapCheck::from_args(args.ldap, false)
    }

    fn fetch(&self) -> Work<'_, LdapFacts> {
        Work::remote(self.talk())
    }

    fn evaluate(&self, facts: &LdapFacts) -> CheckResult {
        evaluate(self, facts)
    }
}

/// check_ldaps: check_ldap with STARTTLS unless `-S`.
#[derive(Debug)]
pub struct LdapsCheck(pub LdapCheck);

impl crate::plugin::Check for LdapsCheck {
    type Args = LdapsArgs;
    type Facts = LdapFacts;
    const LABEL: &'static str = "LDAP";

    fn common(args: &LdapsArgs) -> &CommonArgs {
        &args.ldap.common
    }

    fn new(args: LdapsArgs) -> Result<Self, UsageError> {
        LdapCheck::from_args(args.ldap, true).map(LdapsCheck)
    }

    fn fetch(&self) -> Work<'_, LdapFacts> {
        Work::remote(self.0.talk())
    }

    fn evaluate(&self, facts: &LdapFacts) -> CheckResult {
        evaluate(&self.0, facts)
    }
}

/// The verdict, as monitoring-plugins' check_ldap gives it.
pub fn evaluate(check: &LdapCheck, facts: &LdapFacts) -> CheckResult {
    let (elapsed, entries) = match facts {
        LdapFacts::Done { elapsed, entries } => (elapsed.as_secs_f64(), *entries),
        LdapFacts::TimedOut => {
            return CheckResult::timed_out(format!(
                "Socket timeout after {} seconds",
                crate::plugin::perfdata::Value::from(check.timeout_secs)
            ))
        }
        LdapFacts::Failed { stage, why } => {
            let what = match stage {
                Stage::Connect | Stage::Bind => "Could not bind to the LDAP server".to_string(),
                Stage::StartTls => format!("Could not init startTLS at port {}!", check.port),
                Stage::Tls => format!("Could not init TLS at port {}!", check.port),
                Stage::Search => {
                    format!("Could not search/find objectclasses in {}", check.base)
                }
            };
            return CheckResult::new(State::Critical, format!("{what} ({})", shown(why)));
        }
    };
    let mut state = check.time.state(elapsed);
    let summary = match (entries, &check.entries) {
        (Some(n), Some(levels)) => {
            state = state.worst(levels.state(n as f64));
            format!("found {n} entries in {elapsed:.3} seconds")
        }
        _ => format!("{elapsed:.3} seconds response time"),
    };
    let mut r = CheckResult::new(state, summary).with_perf(
        PerfData::new("time", elapsed)
            .uom(Uom::Seconds)
            .thresholds(&check.time)
            .min(0),
    );
    if let (Some(n), Some(levels)) = (entries, &check.entries) {
        r.push_perf(PerfData::new("entries", n).thresholds(levels).min(0));
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;
    use crate::plugin::Check;

    fn check(args: &[&str]) -> LdapCheck {
        validate(args).unwrap()
    }

    fn done(ms: u64, entries: Option<u64>) -> LdapFacts {
        LdapFacts::Done {
            elapsed: Duration::from_millis(ms),
            entries,
        }
    }

    fn verdict(args: &[&str], facts: &LdapFacts) -> (State, String, Vec<String>) {
        let r = check(args).evaluate(facts);
        let perf = r.perfdata.iter().map(|p| p.to_string()).collect();
        (r.state(), r.summary.clone(), perf)
    }

    const BASE: [&str; 4] = ["-H", "localhost", "-b", "dc=example,dc=test"];

    fn with(extra: &[&'static str]) -> Vec<&'static str> {
        let mut v = BASE.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn response_time_and_entries() {
        assert_eq!(
            verdict(&with(&["-w", "2", "-c", "3"]), &done(12, None)),
            (
                State::Ok,
                "0.012 seconds response time".into(),
                vec!["time=0.012s;2;3;0".into()]
            )
        );
        assert_eq!(
            verdict(&with(&["-w", "0.01"]), &done(12, None)).0,
            State::Warning
        );
        assert_eq!(
            verdict(&with(&["-c", "0.01"]), &done(12, None)).0,
            State::Critical
        );
        let args = with(&["-W", "10000000:", "-C", "10000001"]);
        assert_eq!(
            verdict(&args, &done(12, Some(5))),
            (
                State::Warning,
                "found 5 entries in 0.012 seconds".into(),
                vec![
                    "time=0.012s;;;0".into(),
                    "entries=5;10000000:;10000001;0".into()
                ]
            )
        );
        assert_eq!(
            verdict(&with(&["-W", "0", "-C", "0"]), &done(1, Some(5))).0,
            State::Critical
        );
        assert_eq!(
            verdict(&with(&["-C", "10000001"]), &done(1, Some(5))).0,
            State::Ok
        );
        // an entry count that is fine does not hide a slow answer
        assert_eq!(
            verdict(&with(&["-c", "0.001", "-C", "10"]), &done(12, Some(5))).0,
            State::Critical
        );
    }

    #[test]
    fn failures_keep_the_peer_s_phrases() {
        let c = check(&with(&["-T", "-t", "2"]));
        let said = |stage| {
            let r = c.evaluate(&LdapFacts::Failed {
                stage,
                why: "x".into(),
            });
            assert_eq!(r.state(), State::Critical);
            r.summary
        };
        assert!(said(Stage::Connect).starts_with("Could not bind to the LDAP server"));
        assert!(said(Stage::Bind).starts_with("Could not bind to the LDAP server"));
        assert!(said(Stage::StartTls).starts_with("Could not init startTLS at port 389!"));
        assert!(said(Stage::Search)
            .starts_with("Could not search/find objectclasses in dc=example,dc=test"));
        let r = c.evaluate(&LdapFacts::TimedOut);
        assert!(r.timed_out);
        assert_eq!(r.summary, "Socket timeout after 2 seconds");
    }

    #[test]
    fn a_server_result_in_one_short_line() {
        let result = |text: &str| ldap3::LdapError::LdapResult {
            result: ldap3::LdapResult {
                rc: 32,
                matched: String::new(),
                text: text.to_string(),
                refs: vec![],
                ctrls: vec![],
            },
        };
        assert_eq!(describe(&result("")), "rc=32 (noSuchObject)");
        assert_eq!(
            describe(&result("no such base")),
            "rc=32 (noSuchObject), text: \"no such base\""
        );
    }

    #[test]
    fn options_words_and_security() {
        let c = check(&["localhost", "dc=x"]);
        assert_eq!(
            (c.host.as_str(), c.base.as_str(), c.port),
            ("localhost", "dc=x", 389)
        );
        assert_eq!(c.security, Security::Plain);
        assert_eq!(c.filter, "(objectclass=*)");
        let c = check(&with(&["-S"]));
        assert_eq!((c.security, c.port), (Security::Ldaps, 636));
        let c = check(&with(&["-p", "636"]));
        assert_eq!(c.security, Security::Ldaps);
        let c = check(&with(&["-T", "-2"]));
        assert_eq!((c.security, c.port), (Security::StartTls, 389));
        let c: LdapsCheck = validate(&BASE).unwrap();
        assert_eq!(c.0.security, Security::StartTls);
        let c: LdapsCheck = validate(&with(&["-S"])).unwrap();
        assert_eq!(c.0.security, Security::Ldaps);
        for bad in [
            &["-H", "localhost"][..],
            &["-b", "dc=x"],
            &["-H", "h", "-b", "dc=x", "-T", "-S"],
            &["-H", "h", "-b", "dc=x", "-a", "(objectclass=*"],
            &["-H", "h", "-b", "dc=x", "-W", "x"],
            &["h", "dc=x", "more"],
            &["-H", "::1", "-b", "dc=x", "-T"],
            &["-H", "[::1]", "-b", "dc=x", "-S"],
        ] {
            assert!(validate::<LdapCheck>(bad).is_err(), "{bad:?}");
        }
    }
}
