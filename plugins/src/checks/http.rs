//! check_http: one HTTP(S) request to a name-based virtual host, or one request to each
//! of hundreds of virtual hosts at once (`--vhosts-from`, `--apache-config`), with the
//! status, content, headers, size, redirects, response time and TLS certificate
//! checked. Options follow monitoring-plugins' check_http and check_curl.
//!
//! Redirects (`-f`): `sticky` and `stickyport` follow a redirect to any name by
//! connecting again to the address the check started from (and, for stickyport, its
//! port), sending the new Host and path, as monitoring-plugins does; they never resolve
//! the new name. `follow` resolves the new name once, checks every address against the
//! allow-list (`--redirect-networks`, else the process-wide default the daemon sets,
//! else none: anywhere) and connects only to those checked addresses. Every mode stops
//! after `--max-redirs` redirects (WARNING, as monitoring-plugins). Replies are read
//! within the bounds of [`httpclient`]'s module doc; the body kept for `-s`/`-r` is
//! [`MATCH_BODY`] bytes at most.

use super::vhosts::{self, Target};
use crate::plugin::{
    Check, CheckResult, CommonArgs, PerfData, Range, State, Thresholds, Uom, UsageError, Work,
};
use crate::proto::http::{self, ExchangeTimes, Request, Response};
use crate::proto::net::{self, Conn, Family};
use crate::proto::tls::{self, CertDays, CertFacts, TlsArgs, TlsSettings};
use base64::Engine;
use clap::Parser;
use futures_util::stream::{FuturesUnordered, StreamExt};
use regex::bytes::{Regex, RegexBuilder};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Command line of check_http.
#[derive(Parser, Debug)]
#[command(
    name = "check_http",
    version,
    about = "Checks an HTTP(S) virtual host, or hundreds of them at once.",
    long_about = "Sends one HTTP/1.1 request to a virtual host (-H, connecting to -I when given, \
with the virtual host's name kept for the Host header and TLS SNI) and checks the status, \
body, headers, size, redirects, response time and TLS certificate.\n\n\
Without -e, 2xx and 3xx are OK (3xx as -f says), 4xx WARNING and 5xx CRITICAL. TLS \
certificates are verified (--insecure skips that; --ca-cert trusts a private CA); a \
certificate that fails verification is CRITICAL with its expiry date and the reason.\n\n\
With --vhosts-from FILE or --apache-config PATH every virtual host is checked, --concurrency \
at a time, each with the options given here; the first line counts the results, the long \
output names each failing virtual host and why, and -w/-c then apply to the number (N) or \
percentage (N%) of failing virtual hosts (default: the worst virtual host's state).\n\n\
FILE has one virtual host a line: NAME [ADDRESS[:PORT]] [/URI] [STATUS[,STATUS...]], where \
NAME may be a URL (https://NAME:PORT/URI); # starts a comment.\n\n\
Redirects: -f sticky follows a redirect to any name by connecting to the address the check \
started from again (the new name goes in the Host header), stickyport keeps the port too; \
-f follow connects to the new name's addresses, only when each is inside \
--redirect-networks (the starting address is always allowed; a refusal is CRITICAL). \
Without --redirect-networks a stand-alone check_http follows redirects anywhere, as \
monitoring-plugins does; inside the hcoop-monitor daemon the default is its [daemon] \
redirect_networks (global unicast addresses: never loopback, private, link-local or cloud \
metadata addresses). More than --max-redirs redirects is WARNING.\n\n\
Replies are bounded: headers 64 KiB and 256 lines, a Location 8 KiB, the body read up to \
16 MiB (its size then taken from Content-Length), -s/-r/-R match its first 1 MiB.\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and \
--version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Virtual host name (Host header and TLS SNI)
    #[arg(short = 'H', long = "hostname", value_name = "VHOST")]
    pub hostname: Option<String>,

    /// Address to connect to (default: the virtual host name)
    #[arg(short = 'I', long = "IP-address", value_name = "ADDRESS")]
    pub address: Option<String>,

    /// Port (default 80, or 443 with -S)
    #[arg(short = 'p', long = "port", value_name = "PORT")]
    pub port: Option<u16>,

    /// Use IPv4 only
    #[arg(short = '4', long = "use-ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Use IPv6 only
    #[arg(short = '6', long = "use-ipv6")]
    pub ipv6: bool,

    /// Use TLS; VERSION pins it: 1.2, 1.3, or 1.2+ for 1.2 and later
    #[arg(short = 'S', long = "ssl", value_name = "VERSION", num_args = 0..=1, require_equals = true, default_missing_value = "auto")]
    pub ssl: Option<String>,

    /// Send the virtual host name in TLS SNI (always done; accepted for compatibility)
    #[arg(long = "sni")]
    pub sni: bool,

    /// Check the days left on the certificate: WARNING below WARN, CRITICAL below CRIT
    #[arg(short = 'C', long = "certificate", value_name = "WARN[,CRIT]")]
    pub certificate: Option<CertDays>,

    /// With -C, go on to check the page too (otherwise only the certificate is checked)
    #[arg(long = "continue-after-certificate")]
    pub continue_after_certificate: bool,

    #[command(flatten)]
    pub tls: TlsArgs,

    /// Path and query to request
    #[arg(short = 'u', long = "url", value_name = "PATH", default_value = "/")]
    pub url: String,

    /// Expected status: codes (200,301) or strings found in the status line
    #[arg(short = 'e', long = "expect", value_name = "STATUS[,STATUS...]")]
    pub expect: Option<String>,

    /// String the body must contain
    #[arg(short = 's', long = "string", value_name = "STRING")]
    pub string: Option<String>,

    /// Regular expression the body must match
    #[arg(
        short = 'r',
        long = "regex",
        visible_alias = "ereg",
        value_name = "REGEX"
    )]
    pub regex: Option<String>,

    /// Case-insensitive regular expression the body must match
    #[arg(
        short = 'R',
        long = "eregi",
        value_name = "REGEX",
        conflicts_with = "regex"
    )]
    pub eregi: Option<String>,

    /// CRITICAL when the regular expression matches (instead of when it does not)
    #[arg(long = "invert-regex")]
    pub invert_regex: bool,

    /// String the response headers must contain
    #[arg(short = 'd', long = "header-string", value_name = "STRING")]
    pub header_string: Option<String>,

    /// What a redirect means: ok, warning, critical, follow, sticky (follow, but connect to
    /// the same address), stickyport (same address and port)
    #[arg(
        short = 'f',
        long = "onredirect",
        value_name = "WHAT",
        default_value = "ok"
    )]
    pub onredirect: String,

    /// At most this many redirects are followed; one more is WARNING
    #[arg(long = "max-redirs", value_name = "N", default_value_t = 15)]
    pub max_redirs: u32,

    /// With -f follow, connect only to addresses in these networks (ADDRESS/PREFIX, an
    /// address, or "global" for global unicast); the starting address is always allowed.
    /// Default: anywhere (in the daemon: its [daemon] redirect_networks)
    #[arg(long = "redirect-networks", value_name = "CIDR[,CIDR...]")]
    pub redirect_networks: Option<String>,

    /// Request method
    #[arg(short = 'j', long = "method", value_name = "METHOD")]
    pub method: Option<String>,

    /// Request body (makes the method POST unless -j says otherwise)
    #[arg(short = 'P', long = "post", value_name = "BODY")]
    pub post: Option<String>,

    /// Content-Type of the request body
    #[arg(
        short = 'T',
        long = "content-type",
        value_name = "TYPE",
        default_value = "application/x-www-form-urlencoded"
    )]
    pub content_type: String,

    /// Extra request header (repeatable)
    #[arg(short = 'k', long = "header", value_name = "NAME: VALUE")]
    pub header: Vec<String>,

    /// Basic authentication, USER:PASSWORD (or USER with --password-file)
    #[arg(short = 'a', long = "authorization", value_name = "USER[:PASSWORD]")]
    pub authorization: Option<String>,

    /// Read the basic authentication password from the first line of FILE
    #[arg(
        long = "password-file",
        value_name = "FILE",
        requires = "authorization"
    )]
    pub password_file: Option<PathBuf>,

    /// User-Agent header
    #[arg(short = 'A', long = "useragent", value_name = "STRING")]
    pub useragent: Option<String>,

    /// Do not read the body beyond what the checks need (the body is not checked)
    #[arg(short = 'N', long = "no-body")]
    pub no_body: bool,

    /// Response time in seconds for WARNING (multi-vhost mode: failing vhosts, N or N%)
    #[arg(short = 'w', long = "warning", value_name = "SECONDS|N|N%")]
    pub warning: Option<String>,

    /// Response time in seconds for CRITICAL (multi-vhost mode: failing vhosts, N or N%)
    #[arg(short = 'c', long = "critical", value_name = "SECONDS|N|N%")]
    pub critical: Option<String>,

    /// Page size in bytes: at least MIN, and at most MAX
    #[arg(short = 'm', long = "pagesize", value_name = "MIN[:MAX]")]
    pub pagesize: Option<String>,

    /// Perfdata for each phase: connect, TLS, headers, first byte, transfer
    #[arg(short = 'E', long = "extended-perfdata")]
    pub extended: bool,

    /// Check every virtual host listed in FILE
    #[arg(long = "vhosts-from", value_name = "FILE", conflicts_with_all = ["hostname", "apache_config"])]
    pub vhosts_from: Option<PathBuf>,

    /// Check every <VirtualHost> of an Apache configuration (a file or a directory)
    #[arg(
        long = "apache-config",
        value_name = "PATH",
        conflicts_with = "hostname"
    )]
    pub apache_config: Option<PathBuf>,

    /// With --apache-config, check each ServerAlias too
    #[arg(long = "with-aliases", requires = "apache_config")]
    pub with_aliases: bool,

    /// Virtual hosts checked at the same time in multi-vhost mode
    #[arg(long = "concurrency", value_name = "N", default_value_t = 32)]
    pub concurrency: usize,

    /// Seconds one virtual host may take in multi-vhost mode (default: 80% of -t)
    #[arg(long = "vhost-timeout", value_name = "SECONDS")]
    pub vhost_timeout: Option<f64>,
}

/// Most body bytes held for `-s`, `-r` and `-R` (the rest is read and counted only).
pub const MATCH_BODY: usize = 1024 * 1024;

/// What a redirect means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRedirect {
    State(State),
    Follow,
    Sticky,
    StickyPort,
}

/// One item of `-e`.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectStatus {
    Code(u16),
    Text(String),
}

/// The validated check.
#[derive(Debug)]
pub struct HttpCheck {
    /// The virtual hosts: one, or many in multi-vhost mode.
    pub targets: Vec<Target>,
    pub multi: bool,
    pub family: Family,
    pub tls: TlsSettings,
    pub cert_days: Option<CertDays>,
    pub cert_only: bool,
    pub method: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    pub expect: Vec<ExpectStatus>,
    pub string: Option<String>,
    pub regex: Option<Regex>,
    pub invert_regex: bool,
    pub header_string: Option<String>,
    pub onredirect: OnRedirect,
    pub max_redirs: u32,
    /// Where `follow` may connect (`None`: the process-wide default).
    pub redirect_networks: Option<http::RedirectNetworks>,
    pub no_body: bool,
    /// Response time thresholds (one virtual host).
    pub time: Thresholds,
    /// Thresholds on failing virtual hosts (multi mode), and whether they are percents.
    pub failing: Option<(Thresholds, bool)>,
    pub size_min: Option<usize>,
    pub size_max: Option<usize>,
    pub extended: bool,
    pub concurrency: usize,
    /// Time one virtual host may take.
    pub vhost_timeout: Duration,
    pub timeout: Duration,
    pub verbose: u8,
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

fn parse_onredirect(s: &str) -> Result<OnRedirect, UsageError> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "ok" => OnRedirect::State(State::Ok),
        "warning" => OnRedirect::State(State::Warning),
        "critical" => OnRedirect::State(State::Critical),
        "follow" => OnRedirect::Follow,
        "sticky" => OnRedirect::Sticky,
        "stickyport" => OnRedirect::StickyPort,
        _ => {
            return Err(usage(format!(
                "-f '{s}': use ok, warning, critical, follow, sticky or stickyport"
            )))
        }
    })
}

/// Parses `-e`.
pub fn parse_expect(s: &str) -> Result<Vec<ExpectStatus>, UsageError> {
    let items: Vec<ExpectStatus> = s
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.parse::<u16>() {
            Ok(c) if (100..600).contains(&c) && t.len() == 3 => ExpectStatus::Code(c),
            _ => ExpectStatus::Text(t.to_string()),
        })
        .collect();
    if items.is_empty() {
        return Err(usage("-e names no status"));
    }
    Ok(items)
}

fn seconds(v: &Option<String>, what: &str) -> Result<Option<Range>, UsageError> {
    let Some(t) = v else { return Ok(None) };
    match t.parse::<f64>() {
        Ok(s) if s.is_finite() && s >= 0.0 => Ok(Some(
            format!("{s}")
                .parse::<Range>()
                .map_err(|e| usage(e.to_string()))?,
        )),
        _ => Err(usage(format!(
            "{what} time '{t}' is not a number of seconds"
        ))),
    }
}

/// Parses `-w`/`-c` in multi-vhost mode: `N` or `N%`; returns the range and the percent flag.
fn failing_level(v: &Option<String>) -> Result<Option<(Range, bool)>, UsageError> {
    let Some(t) = v else { return Ok(None) };
    let (num, pct) = match t.strip_suffix('%') {
        Some(n) => (n, true),
        None => (t.as_str(), false),
    };
    let r = num
        .parse::<Range>()
        .map_err(|e| usage(format!("failing vhosts level: {e}")))?;
    Ok(Some((r, pct)))
}

fn page_size(s: &Option<String>) -> Result<(Option<usize>, Option<usize>), UsageError> {
    let Some(t) = s else { return Ok((None, None)) };
    let num = |x: &str| {
        x.trim()
            .parse::<usize>()
            .map_err(|_| usage(format!("-m '{t}': sizes are numbers of bytes")))
    };
    let (min, max) = match t.split_once(':') {
        Some((a, b)) => (num(a)?, Some(num(b)?)),
        None => (num(t)?, None),
    };
    if max.is_some_and(|m| m < min) {
        return Err(usage(format!(
            "-m '{t}': the maximum is less than the minimum"
        )));
    }
    Ok((Some(min), max))
}

fn tls_versions(v: &str) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, UsageError> {
    Ok(match v {
        "auto" | "1.2+" => vec![&rustls::version::TLS13, &rustls::version::TLS12],
        "1.2" => vec![&rustls::version::TLS12],
        "1.3" | "1.3+" => vec![&rustls::version::TLS13],
        "1" | "1.1" | "1+" | "1.1+" | "2" | "3" => {
            return Err(usage(format!("-S {v}: only TLS 1.2 and 1.3 are offered")))
        }
        _ => return Err(usage(format!("-S '{v}': use 1.2, 1.3 or 1.2+"))),
    })
}

impl Check for HttpCheck {
    type Args = Args;
    const LABEL: &'static str = "HTTP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let use_tls = args.ssl.is_some();
        let mut tls = TlsSettings::new(&args.tls)?;
        if let Some(v) = &args.ssl {
            tls = tls.with_versions(tls_versions(v)?);
        }
        let default_port = args.port.unwrap_or(if use_tls { 443 } else { 80 });
        if default_port == 0 {
            return Err(usage("the port (-p) must be between 1 and 65535"));
        }
        if !args.url.starts_with('/') {
            return Err(usage(format!("-u '{}' must start with /", args.url)));
        }
        let defaults = Target {
            vhost: String::new(),
            address: args.address.clone(),
            port: default_port,
            tls: use_tls,
            uri: args.url.clone(),
            expect: None,
        };
        let multi = args.vhosts_from.is_some() || args.apache_config.is_some();
        let targets = if let Some(f) = &args.vhosts_from {
            vhosts::from_file(f, &defaults).map_err(usage)?
        } else if let Some(p) = &args.apache_config {
            vhosts::from_apache(p, &defaults, args.with_aliases).map_err(usage)?
        } else {
            let vhost = match (&args.hostname, &args.address) {
                (Some(h), _) => h.clone(),
                (None, Some(a)) => a.clone(),
                (None, None) => {
                    return Err(usage("a virtual host (-H) or an address (-I) is required"))
                }
            };
            if vhost.trim().is_empty() || vhost.contains(char::is_whitespace) {
                return Err(usage(format!("'{vhost}' is not a host name")));
            }
            vec![Target { vhost, ..defaults }]
        };
        if targets.is_empty() {
            return Err(usage("no virtual host to check"));
        }
        let mut headers = Vec::new();
        headers.push((
            "User-Agent".to_string(),
            args.useragent.clone().unwrap_or_else(|| {
                format!("check_http/{} (hcoop-monitor)", env!("CARGO_PKG_VERSION"))
            }),
        ));
        for h in &args.header {
            let (n, v) = h
                .split_once(':')
                .ok_or_else(|| usage(format!("-k '{h}' is not NAME: VALUE")))?;
            if n.trim().is_empty() || n.contains(char::is_whitespace) {
                return Err(usage(format!("-k '{h}' is not NAME: VALUE")));
            }
            headers.retain(|(x, _): &(String, String)| !x.eq_ignore_ascii_case(n.trim()));
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        if let Some(a) = &args.authorization {
            let pair = match &args.password_file {
                Some(f) => {
                    let text = std::fs::read_to_string(f)
                        .map_err(|e| usage(format!("--password-file {}: {e}", f.display())))?;
                    if a.contains(':') {
                        return Err(usage("-a USER with --password-file takes no password"));
                    }
                    format!("{a}:{}", text.lines().next().unwrap_or(""))
                }
                None if a.contains(':') => a.clone(),
                None => return Err(usage("-a needs USER:PASSWORD (or --password-file)")),
            };
            headers.push((
                "Authorization".into(),
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ),
            ));
        }
        let body = args.post.as_ref().map(|b| b.clone().into_bytes());
        if body.is_some() {
            headers.push(("Content-Type".into(), args.content_type.clone()));
        }
        let method = args
            .method
            .clone()
            .unwrap_or_else(|| if body.is_some() { "POST" } else { "GET" }.into());
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(usage(format!("-j '{method}' is not an HTTP method")));
        }
        let regex = match (&args.regex, &args.eregi) {
            (Some(r), _) | (None, Some(r)) => Some(
                RegexBuilder::new(r)
                    .case_insensitive(args.eregi.is_some())
                    .multi_line(true)
                    .build()
                    .map_err(|e| usage(format!("bad regular expression: {e}")))?,
            ),
            _ => None,
        };
        let (time, failing) = if multi {
            let w = failing_level(&args.warning)?;
            let c = failing_level(&args.critical)?;
            let pct = w.is_some_and(|x| x.1) || c.is_some_and(|x| x.1);
            if w.is_some() && c.is_some() && w.map(|x| x.1) != c.map(|x| x.1) {
                return Err(usage("-w and -c must both be counts or both percents"));
            }
            let t = Thresholds::new(w.map(|x| x.0), c.map(|x| x.0));
            (Thresholds::default(), (!t.is_empty()).then_some((t, pct)))
        } else {
            (
                Thresholds::new(
                    seconds(&args.warning, "warning")?,
                    seconds(&args.critical, "critical")?,
                ),
                None,
            )
        };
        let (size_min, size_max) = page_size(&args.pagesize)?;
        if args.concurrency == 0 {
            return Err(usage("--concurrency must be at least 1"));
        }
        let timeout = args.common.timeout.duration;
        let vhost_timeout = match args.vhost_timeout {
            Some(s) if s > 0.0 && s.is_finite() => Duration::from_secs_f64(s),
            Some(s) => return Err(usage(format!("--vhost-timeout {s} must be more than 0"))),
            None => timeout.mul_f64(0.8),
        };
        if args.certificate.is_some() && !use_tls && !multi {
            return Err(usage("-C needs TLS (-S)"));
        }
        Ok(HttpCheck {
            targets,
            multi,
            family: Family::from_flags(args.ipv4, args.ipv6),
            tls,
            cert_days: args.certificate,
            cert_only: args.certificate.is_some() && !args.continue_after_certificate,
            method,
            headers,
            body,
            expect: match &args.expect {
                Some(e) => parse_expect(e)?,
                None => Vec::new(),
            },
            string: args.string,
            regex,
            invert_regex: args.invert_regex,
            header_string: args.header_string,
            onredirect: parse_onredirect(&args.onredirect)?,
            max_redirs: args.max_redirs,
            redirect_networks: match &args.redirect_networks {
                Some(n) => Some(
                    n.parse()
                        .map_err(|e| usage(format!("--redirect-networks: {e}")))?,
                ),
                None => None,
            },
            no_body: args.no_body,
            time,
            failing,
            size_min,
            size_max,
            extended: args.extended,
            concurrency: args.concurrency,
            vhost_timeout,
            timeout,
            verbose: args.common.verbose,
        })
    }

    fn run(&self) -> Work<'_> {
        Work::Remote(Box::pin(async move {
            if !self.multi {
                let facts = self.fetch(&self.targets[0]).await;
                return evaluate(&facts, self, &self.targets[0], tls::unix_now());
            }
            let start = Instant::now();
            let results = self.fetch_all().await;
            evaluate_many(&results, self, start.elapsed(), tls::unix_now())
        }))
    }
}

/// What one virtual host's request found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpFacts {
    /// The URL of the last request.
    pub url: String,
    /// The virtual host (for multi-vhost output).
    pub vhost: String,
    pub connect: Duration,
    pub tls: Option<Duration>,
    pub cert: Option<CertFacts>,
    pub tls_error: Option<String>,
    /// A failure to connect or exchange (the whole text).
    pub error: Option<String>,
    pub response: Option<Response>,
    pub times: ExchangeTimes,
    pub total: Duration,
    /// The redirects followed, as `STATUS -> URL`.
    pub redirects: Vec<String>,
    /// Following stopped (too many redirects, a refused target, a bad Location), and
    /// what that means.
    pub redirect_error: Option<(State, String)>,
}

impl HttpFacts {
    fn failed(t: &Target, error: String) -> Self {
        HttpFacts {
            url: t.url().to_string(),
            vhost: t.vhost.clone(),
            error: Some(error),
            ..Default::default()
        }
    }
}

impl HttpCheck {
    /// Requests the page of one virtual host, following redirects as `-f` says.
    pub async fn fetch(&self, target: &Target) -> HttpFacts {
        let start = Instant::now();
        let mut facts = HttpFacts {
            vhost: target.vhost.clone(),
            ..Default::default()
        };
        let mut url = target.url();
        facts.url = url.to_string();
        let first = target.address.as_deref().unwrap_or(&url.host);
        // every hop connects to addresses resolved once (and checked, for follow)
        let mut addrs = match net::resolve(first, url.port, self.family).await {
            Ok(a) => a,
            Err(e) => {
                facts.error = Some(e.to_string());
                facts.total = start.elapsed();
                return facts;
            }
        };
        let mut connect_name = first.to_string();
        let networks = self
            .redirect_networks
            .clone()
            .or_else(http::default_redirect_networks);
        let mut origin: Option<IpAddr> = None;
        loop {
            facts.url = url.to_string();
            let connected = match net::connect_addrs(&addrs, &connect_name).await {
                Ok(c) => c,
                Err(e) => {
                    facts.error = Some(e.to_string());
                    break;
                }
            };
            let here = connected.addr.ip();
            let origin_ip = *origin.get_or_insert(here);
            facts.connect = connected.time;
            let mut conn = if url.tls {
                let hs = self.tls.handshake(connected.stream, &url.host).await;
                facts.tls = Some(hs.elapsed);
                facts.cert = Some(hs.cert_facts());
                match hs.stream {
                    Ok(s) => Conn::Tls(Box::new(s)),
                    Err(e) => {
                        facts.tls_error = Some(e);
                        break;
                    }
                }
            } else {
                Conn::Plain(connected.stream)
            };
            if self.cert_only && url.tls {
                break;
            }
            let default_port = if url.tls { 443 } else { 80 };
            let req = Request {
                method: self.method.clone(),
                host: if url.port == default_port {
                    url.host.clone()
                } else {
                    format!("{}:{}", url.host, url.port)
                },
                target: url.target.clone(),
                headers: self.headers.clone(),
                body: self.body.clone(),
            };
            let (read, keep) = if self.no_body {
                (0, 0)
            } else {
                (http::MAX_BODY, MATCH_BODY)
            };
            let (resp, times) = match http::exchange_bounded(&mut conn, &req, read, keep).await {
                Ok(r) => r,
                Err(e) => {
                    facts.error = Some(format!("{e} ({url})"));
                    break;
                }
            };
            facts.times = times;
            let follow = matches!(
                self.onredirect,
                OnRedirect::Follow | OnRedirect::Sticky | OnRedirect::StickyPort
            );
            let location = resp.header("location").map(str::to_string);
            let status = resp.status;
            let is_redirect = (300..400).contains(&status) && status != 304;
            facts.response = Some(resp);
            if !(follow && is_redirect) {
                break;
            }
            let Some(loc) = location else {
                facts.redirect_error =
                    Some((State::Critical, "redirect without a Location".into()));
                break;
            };
            let mut next = match http::resolve_location(&url, &loc) {
                Ok(u) => u,
                Err(e) => {
                    facts.redirect_error = Some((State::Critical, e));
                    break;
                }
            };
            if self.onredirect == OnRedirect::StickyPort {
                next.port = url.port;
            }
            if facts.redirects.len() as u32 >= self.max_redirs {
                facts.redirect_error = Some((
                    State::Warning,
                    format!(
                        "maximum redirection depth {} exceeded - {next}",
                        self.max_redirs
                    ),
                ));
                break;
            }
            addrs = match self.onredirect {
                // stay on the address the check started from, whatever the name
                OnRedirect::Sticky | OnRedirect::StickyPort => {
                    vec![SocketAddr::new(origin_ip, next.port)]
                }
                // the same name stays on the address it was reached at
                _ if next.host.eq_ignore_ascii_case(&url.host) => {
                    vec![SocketAddr::new(here, next.port)]
                }
                _ => {
                    let found = match net::resolve(&next.host, next.port, self.family).await {
                        Ok(a) => a,
                        Err(e) => {
                            facts.url = next.to_string();
                            facts.error = Some(e.to_string());
                            break;
                        }
                    };
                    let refused = found.iter().find_map(|a| {
                        http::redirect_allowed(networks.as_ref(), Some(origin_ip), a.ip()).err()
                    });
                    if let Some(why) = refused {
                        facts.redirect_error = Some((
                            State::Critical,
                            format!("redirect to {next} refused: {why}"),
                        ));
                        break;
                    }
                    found
                }
            };
            connect_name = next.host.clone();
            facts.redirects.push(format!("{status} -> {next}"));
            url = next;
        }
        facts.total = start.elapsed();
        facts
    }

    /// One virtual host within `--vhost-timeout`, with its index.
    async fn fetch_bounded(&self, i: usize, t: &Target) -> (usize, HttpFacts) {
        let f = match tokio::time::timeout(self.vhost_timeout, self.fetch(t)).await {
            Ok(f) => f,
            Err(_) => HttpFacts::failed(
                t,
                format!(
                    "no complete answer within {:.1} seconds",
                    self.vhost_timeout.as_secs_f64()
                ),
            ),
        };
        (i, f)
    }

    /// Every virtual host, `--concurrency` at a time, in the order given.
    pub async fn fetch_all(&self) -> Vec<HttpFacts> {
        let mut out: Vec<HttpFacts> = vec![HttpFacts::default(); self.targets.len()];
        let mut next = self.targets.iter().enumerate();
        let mut running = FuturesUnordered::new();
        for (i, t) in next.by_ref().take(self.concurrency) {
            running.push(self.fetch_bounded(i, t));
        }
        while let Some((i, f)) = running.next().await {
            out[i] = f;
            if let Some((j, t)) = next.next() {
                running.push(self.fetch_bounded(j, t));
            }
        }
        out
    }

    fn expect_ok(&self, resp: &Response) -> bool {
        self.expect.iter().any(|e| match e {
            ExpectStatus::Code(c) => resp.status == *c,
            ExpectStatus::Text(t) => resp.status_line.contains(t.as_str()),
        })
    }
}

/// The verdict on one virtual host (pure): `(state, text)` pieces are collected in order
/// and the worst state wins; the summary is the first failing piece or the OK line.
pub fn evaluate(facts: &HttpFacts, check: &HttpCheck, target: &Target, now: i64) -> CheckResult {
    let cert = facts
        .cert
        .as_ref()
        .map(|c| tls::cert_state(c, check.cert_days, now));
    if let Some(e) = &facts.error {
        return CheckResult::new(State::Critical, e.clone());
    }
    if let Some(e) = &facts.tls_error {
        let text = match &cert {
            Some((_, t)) if facts.cert.as_ref().is_some_and(|c| c.leaf.is_some()) => {
                format!("{e}: {t}")
            }
            _ => e.clone(),
        };
        return CheckResult::new(State::Critical, format!("{text} ({})", facts.url));
    }
    if check.cert_only {
        if let Some((s, t)) = cert {
            return CheckResult::new(s, t);
        }
    }
    let Some(resp) = &facts.response else {
        return CheckResult::unknown(format!("no response from {}", facts.url));
    };
    let secs = facts.total.as_secs_f64();
    // a body cut at the read limit counts as long as it said it was
    let body_len = match resp.content_length {
        Some(l) if resp.truncated && !check.no_body => l,
        _ => resp.body_len,
    };
    let page = (resp.header_bytes as u64 + 4).saturating_add(body_len);
    let mut problems: Vec<(State, String)> = Vec::new();
    if let Some((s, t)) = &cert {
        if check.cert_days.is_some() || *s != State::Ok {
            problems.push((*s, t.clone()));
        }
    }
    if let Some((s, e)) = &facts.redirect_error {
        problems.push((*s, e.clone()));
    }
    let expected = target.expect.as_ref().unwrap_or(&check.expect);
    let status_state = if !expected.is_empty() {
        let ok = expected.iter().any(|e| match e {
            ExpectStatus::Code(c) => resp.status == *c,
            ExpectStatus::Text(t) => resp.status_line.contains(t.as_str()),
        }) || (target.expect.is_none() && check.expect_ok(resp));
        if ok {
            State::Ok
        } else {
            State::Critical
        }
    } else {
        match resp.status {
            200..=299 => State::Ok,
            300..=399 => match check.onredirect {
                OnRedirect::State(s) => s,
                _ => State::Ok,
            },
            400..=499 => State::Warning,
            _ => State::Critical,
        }
    };
    if status_state != State::Ok {
        let what = if expected.is_empty() {
            "status"
        } else {
            "unexpected status"
        };
        problems.push((
            status_state,
            format!("{what} {} on {}", resp.status, facts.url),
        ));
    }
    let headers = resp.header_text();
    if let Some(h) = &check.header_string {
        if !headers.contains(h.as_str()) {
            problems.push((
                State::Critical,
                format!("header '{h}' not found on {}", facts.url),
            ));
        }
    }
    if !check.no_body {
        if let Some(s) = &check.string {
            if !super::tcp::contains(&resp.body, s.as_bytes()) {
                problems.push((
                    State::Critical,
                    format!("string '{s}' not found on {}", facts.url),
                ));
            }
        }
        if let Some(r) = &check.regex {
            let found = r.is_match(&resp.body);
            if found == check.invert_regex {
                problems.push((
                    State::Critical,
                    format!(
                        "pattern '{}' {} on {}",
                        r.as_str(),
                        if found { "found" } else { "not found" },
                        facts.url
                    ),
                ));
            }
        }
    }
    if check.size_min.is_some_and(|m| page < m as u64) {
        problems.push((State::Warning, format!("page size {page} too small")));
    }
    if check.size_max.is_some_and(|m| page > m as u64) {
        problems.push((State::Warning, format!("page size {page} too large")));
    }
    if resp.truncated && !check.no_body {
        let cut = http::MAX_BODY;
        if check.size_max.is_some_and(|m| page <= m as u64) && resp.content_length.is_none() {
            problems.push((
                State::Warning,
                format!("page size unknown: body longer than the {cut}-byte read limit"),
            ));
        } else {
            problems.push((State::Ok, format!("body read up to the {cut}-byte limit")));
        }
    }
    let time_state = check.time.state(secs);
    if time_state != State::Ok {
        problems.push((time_state, format!("response time {secs:.3}s")));
    }
    let state = State::worst_of(problems.iter().map(|p| p.0));
    let base = format!(
        "{} - {page} bytes in {secs:.3} second response time",
        resp.status_line
    );
    let summary = if problems.is_empty() {
        base
    } else {
        let worst: Vec<&str> = problems
            .iter()
            .filter(|p| p.0 != State::Ok)
            .map(|p| p.1.as_str())
            .chain(
                problems
                    .iter()
                    .filter(|p| p.0 == State::Ok)
                    .map(|p| p.1.as_str()),
            )
            .collect();
        format!("{} - {base}", worst.join(", "))
    };
    let mut r = CheckResult::new(state, summary);
    for hop in &facts.redirects {
        r.push_line(format!("redirect {hop}"));
    }
    r.push_perf(
        PerfData::new("time", net::secs(facts.total))
            .uom(Uom::Seconds)
            .thresholds(&check.time)
            .min(0.0)
            .max(check.timeout.as_secs_f64()),
    );
    r.push_perf(PerfData::new("size", page).uom(Uom::Bytes).min(0));
    if check.extended {
        let phases = [
            ("time_connect", facts.connect),
            ("time_ssl", facts.tls.unwrap_or_default()),
            ("time_headers", facts.times.headers),
            ("time_firstbyte", facts.times.first_byte),
            ("time_transfer", facts.times.transfer),
        ];
        for (name, d) in phases {
            r.push_perf(PerfData::new(name, net::secs(d)).uom(Uom::Seconds).min(0.0));
        }
    }
    r
}

/// The verdict on many virtual hosts (pure): counts on the first line, each failing
/// virtual host in the long output.
pub fn evaluate_many(
    facts: &[HttpFacts],
    check: &HttpCheck,
    elapsed: Duration,
    now: i64,
) -> CheckResult {
    let mut counts = [0usize; 4];
    let mut lines = Vec::new();
    let mut slowest = 0.0f64;
    for (f, t) in facts.iter().zip(&check.targets) {
        let r = evaluate(f, check, t, now);
        let s = r.state();
        counts[match s {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }] += 1;
        slowest = slowest.max(f.total.as_secs_f64());
        if s != State::Ok || check.verbose > 0 {
            lines.push((s, t.vhost.clone(), format!("{}: {}", t.label(), r.summary)));
        }
    }
    let total = facts.len();
    let failing = total - counts[0];
    let mut summary = format!(
        "{total} vhosts checked in {:.3}s: {} OK, {} WARNING, {} CRITICAL, {} UNKNOWN",
        elapsed.as_secs_f64(),
        counts[0],
        counts[1],
        counts[2],
        counts[3]
    );
    let failing_names: Vec<String> = lines
        .iter()
        .filter(|l| l.0 != State::Ok)
        .take(5)
        .map(|l| l.1.clone())
        .collect();
    if !failing_names.is_empty() {
        summary.push_str(&format!(
            "; failing: {}{}",
            failing_names.join(", "),
            if failing > failing_names.len() {
                ", ..."
            } else {
                ""
            }
        ));
    }
    let mut r;
    match &check.failing {
        Some((t, pct)) => {
            let value = if *pct {
                failing as f64 * 100.0 / total.max(1) as f64
            } else {
                failing as f64
            };
            r = CheckResult::new(t.state(value), summary);
            for (s, _, text) in lines {
                r.push_line(format!("[{s}] {text}"));
            }
        }
        None => {
            r = CheckResult::new(State::Ok, summary);
            for (s, _, text) in lines {
                r.push_sub(s, text);
            }
        }
    }
    let failing_perf = PerfData::new("failing", failing).min(0).max(total);
    let failing_perf = match &check.failing {
        Some((t, false)) => failing_perf.thresholds(t),
        _ => failing_perf,
    };
    r.push_perf(PerfData::new("vhosts", total).min(0));
    r.push_perf(failing_perf);
    r.push_perf(PerfData::new("ok", counts[0]).min(0).max(total));
    r.push_perf(PerfData::new("warning", counts[1]).min(0).max(total));
    r.push_perf(PerfData::new("critical", counts[2]).min(0).max(total));
    r.push_perf(PerfData::new("unknown", counts[3]).min(0).max(total));
    r.push_perf(
        PerfData::new("time", net::secs(elapsed))
            .uom(Uom::Seconds)
            .min(0.0),
    );
    r.push_perf(
        PerfData::new("time_max", (slowest * 1e6).round() / 1e6)
            .uom(Uom::Seconds)
            .min(0.0),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::parse_args;

    fn check(argv: &[&str]) -> Result<HttpCheck, UsageError> {
        let args =
            parse_args::<HttpCheck>(std::iter::once("check_http").chain(argv.iter().copied()))?
                .unwrap();
        HttpCheck::new(args)
    }

    fn page(status_line: &str, body: &str, ms: u64) -> HttpFacts {
        let head = format!("{status_line}\r\nServer: nginx\r\nContent-Type: text/html");
        let mut resp = http::parse_head(head.as_bytes()).unwrap();
        resp.body = body.as_bytes().to_vec();
        resp.body_len = body.len() as u64;
        HttpFacts {
            url: "http://www.test/".into(),
            vhost: "www.test".into(),
            response: Some(resp),
            total: Duration::from_millis(ms),
            ..Default::default()
        }
    }

    fn eval(f: &HttpFacts, c: &HttpCheck) -> String {
        render_text("HTTP", &evaluate(f, c, &c.targets[0], 0))
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn status_classes() {
        let c = check(&["-H", "www.test"]).unwrap();
        assert_eq!(
            eval(&page("HTTP/1.1 200 OK", "hello", 2), &c),
            "HTTP OK - HTTP/1.1 200 OK - 64 bytes in 0.002 second response time | time=0.002s;;;0;10 size=64B;;;0\n"
        );
        assert_eq!(
            eval(&page("HTTP/1.1 404 Not Found", "", 2), &c),
            "HTTP WARNING - status 404 on http://www.test/ - HTTP/1.1 404 Not Found - 66 bytes in 0.002 second response time | time=0.002s;;;0;10 size=66B;;;0\n"
        );
        let f = page("HTTP/1.1 502 Bad Gateway", "", 2);
        assert_eq!(evaluate(&f, &c, &c.targets[0], 0).state(), State::Critical);
        let f = page("HTTP/1.1 301 Moved", "", 2);
        assert_eq!(evaluate(&f, &c, &c.targets[0], 0).state(), State::Ok);
        let c = check(&["-H", "www.test", "-f", "warning"]).unwrap();
        assert_eq!(evaluate(&f, &c, &c.targets[0], 0).state(), State::Warning);
        let c = check(&["-H", "www.test", "-e", "301,302"]).unwrap();
        assert_eq!(evaluate(&f, &c, &c.targets[0], 0).state(), State::Ok);
        let c = check(&["-H", "www.test", "-e", "200"]).unwrap();
        assert_eq!(evaluate(&f, &c, &c.targets[0], 0).state(), State::Critical);
    }

    #[test]
    fn content_checks() {
        let f = page("HTTP/1.1 200 OK", "Welcome home", 2);
        let state = |argv: &[&str]| {
            let mut a = vec!["-H", "www.test"];
            a.extend_from_slice(argv);
            let c = check(&a).unwrap();
            evaluate(&f, &c, &c.targets[0], 0).state()
        };
        assert_eq!(state(&["-s", "Welcome"]), State::Ok);
        assert_eq!(state(&["-s", "Goodbye"]), State::Critical);
        assert_eq!(state(&["-r", "W.lcome"]), State::Ok);
        assert_eq!(state(&["-r", "welcome"]), State::Critical);
        assert_eq!(state(&["-R", "welcome"]), State::Ok);
        assert_eq!(state(&["-r", "Welcome", "--invert-regex"]), State::Critical);
        assert_eq!(state(&["-d", "Server: nginx"]), State::Ok);
        assert_eq!(state(&["-d", "X-Nope"]), State::Critical);
        assert_eq!(state(&["-m", "1000"]), State::Warning);
        assert_eq!(state(&["-m", "10:20"]), State::Warning);
        assert_eq!(state(&["-m", "10:2000"]), State::Ok);
        assert_eq!(state(&["-w", "0.001", "-c", "1"]), State::Warning);
        let c = check(&["-H", "www.test", "-s", "Goodbye"]).unwrap();
        assert_eq!(
            evaluate(&f, &c, &c.targets[0], 0).summary,
            "string 'Goodbye' not found on http://www.test/ - HTTP/1.1 200 OK - 71 bytes in 0.002 second response time"
        );
    }

    #[test]
    fn failures() {
        let c = check(&["-H", "www.test", "-S"]).unwrap();
        let f = HttpFacts {
            url: "https://www.test/".into(),
            tls_error: Some("TLS handshake failed: certificate has expired".into()),
            cert: Some(CertFacts {
                leaf: Some(Ok(tls::CertInfo {
                    subject: "www.test".into(),
                    issuer: "CA".into(),
                    not_after: 86_400,
                    dns_names: vec![],
                })),
                verify_error: Some("certificate has expired".into()),
            }),
            ..Default::default()
        };
        assert_eq!(
            evaluate(&f, &c, &c.targets[0], 2 * 86_400).summary,
            "TLS handshake failed: certificate has expired: certificate 'www.test' expired on 1970-01-02 00:00:00 UTC (https://www.test/)"
        );
        let f = HttpFacts {
            error: Some("connect to address 127.0.0.1 and port 80: Connection refused".into()),
            ..Default::default()
        };
        assert_eq!(evaluate(&f, &c, &c.targets[0], 0).state(), State::Critical);
    }

    #[test]
    fn many() {
        let dir = tempfile::tempdir().unwrap();
        let list = dir.path().join("vhosts");
        std::fs::write(&list, "a.test\nb.test\nc.test 127.0.0.1 /x 404\n").unwrap();
        let c = check(&["--vhosts-from", list.to_str().unwrap(), "-I", "127.0.0.1"]).unwrap();
        let mut facts = vec![
            page("HTTP/1.1 200 OK", "", 1),
            page("HTTP/1.1 500 Oops", "", 2),
            page("HTTP/1.1 404 Not Found", "", 3),
        ];
        facts[1].url = "http://b.test/".into();
        let r = evaluate_many(&facts, &c, Duration::from_millis(5), 0);
        assert_eq!(
            render_text("HTTP", &r),
            "HTTP CRITICAL - 3 vhosts checked in 0.005s: 2 OK, 0 WARNING, 1 CRITICAL, 0 UNKNOWN; failing: b.test | vhosts=3;;;0 failing=1;;;0;3 ok=2;;;0;3 warning=0;;;0;3 critical=1;;;0;3 unknown=0;;;0;3 time=0.005s;;;0 time_max=0.003s;;;0\n[CRITICAL] http://b.test/: status 500 on http://b.test/ - HTTP/1.1 500 Oops - 61 bytes in 0.002 second response time\n"
        );
        let c = check(&[
            "--vhosts-from",
            list.to_str().unwrap(),
            "-w",
            "50%",
            "-c",
            "90%",
        ])
        .unwrap();
        assert_eq!(
            evaluate_many(&facts, &c, Duration::ZERO, 0).state(),
            State::Ok
        );
        let c = check(&[
            "--vhosts-from",
            list.to_str().unwrap(),
            "-w",
            "0",
            "-c",
            "5",
        ])
        .unwrap();
        assert_eq!(
            evaluate_many(&facts, &c, Duration::ZERO, 0).state(),
            State::Warning
        );
    }

    #[test]
    fn redirect_results_and_bounded_bodies() {
        let c = check(&["-H", "www.test", "-f", "follow"]).unwrap();
        assert_eq!(c.max_redirs, 15);
        assert_eq!(c.redirect_networks, None);
        let mut f = page("HTTP/1.1 301 Moved Permanently", "", 2);
        f.redirect_error = Some((
            State::Warning,
            "maximum redirection depth 15 exceeded - http://www.test/loop".into(),
        ));
        assert_eq!(
            eval(&f, &c),
            "HTTP WARNING - maximum redirection depth 15 exceeded - http://www.test/loop - HTTP/1.1 301 Moved Permanently - 74 bytes in 0.002 second response time | time=0.002s;;;0;10 size=74B;;;0\n"
        );
        f.redirect_error = Some((
            State::Critical,
            "redirect to http://169.254.169.254/ refused: 169.254.169.254 is outside the allowed networks (cloud metadata)".into(),
        ));
        assert_eq!(evaluate(&f, &c, &c.targets[0], 0).state(), State::Critical);
        let c = check(&[
            "-H",
            "www.test",
            "--redirect-networks",
            "global,192.0.2.0/24",
        ])
        .unwrap();
        assert_eq!(
            c.redirect_networks,
            Some("global,192.0.2.0/24".parse().unwrap())
        );
        // a body cut at the read limit is as long as its Content-Length said
        let c = check(&["-H", "www.test", "-m", "10:1000000"]).unwrap();
        let mut f = page("HTTP/1.1 200 OK", "x", 2);
        let resp = f.response.as_mut().unwrap();
        resp.truncated = true;
        resp.content_length = Some(1 << 30);
        assert_eq!(
            evaluate(&f, &c, &c.targets[0], 0).summary,
            "page size 1073741883 too large, body read up to the 16777216-byte limit - HTTP/1.1 200 OK - 1073741883 bytes in 0.002 second response time"
        );
        let resp = f.response.as_mut().unwrap();
        resp.content_length = None;
        assert_eq!(
            evaluate(&f, &c, &c.targets[0], 0).summary,
            "page size unknown: body longer than the 16777216-byte read limit - HTTP/1.1 200 OK - 60 bytes in 0.002 second response time"
        );
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert_eq!(
            check(&[]).unwrap_err().0,
            "a virtual host (-H) or an address (-I) is required"
        );
        assert!(check(&["-H", "x", "-u", "nopath"]).is_err());
        assert!(check(&["-H", "x", "-f", "sideways"]).is_err());
        assert_eq!(
            check(&["-H", "x", "--redirect-networks", "10.0.0.0/33"])
                .unwrap_err()
                .0,
            "--redirect-networks: '10.0.0.0/33' is not a network (ADDRESS/PREFIX, e.g. 192.0.2.0/24)"
        );
        assert!(check(&["-H", "x", "-r", "("]).is_err());
        assert!(check(&["-H", "x", "-m", "10:5"]).is_err());
        assert!(check(&["-H", "x", "-a", "user"]).is_err());
        assert!(check(&["-H", "x", "-k", "nocolon"]).is_err());
        assert!(check(&["-H", "x", "-C", "30"]).is_err());
        assert!(check(&["-H", "x", "--ssl=1.1"]).is_err());
        assert!(check(&["-H", "x", "-w", "fast"]).is_err());
        assert!(check(&["--vhosts-from", "/nonexistent"]).is_err());
        assert!(check(&["-H", "x", "-S", "--ca-cert", "/nonexistent"]).is_err());
    }
}
