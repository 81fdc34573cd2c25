//! check_http with one URL: one HTTP(S) request to a name-based virtual host, with the
//! status, content, headers, size, redirects, response time and TLS certificate
//! checked. Options follow monitoring-plugins' check_http and check_curl. The same
//! verdict is what the multi-vhost mode applies to each virtual host
//! ([`HttpCheck::judge`]).
//!
//! Redirects (`-f`): `sticky` and `stickyport` follow a redirect to any name by
//! connecting again to the address the check started from (and, for stickyport, its
//! port), sending the new Host and path, as monitoring-plugins does; they never resolve
//! the new name. `follow` resolves the new name once, checks every address against the
//! allow-list (`--redirect-networks`, else the process-wide default the daemon sets,
//! else none: anywhere) and connects only to those checked addresses. Every mode stops
//! after `--max-redirs` redirects (WARNING, as monitoring-plugins). Replies are read
//! within the bounds of [`crate::proto::http`]'s module doc; the body kept for
//! `-s`/`-r` is [`fetch::MATCH_BODY`] bytes at most.

use super::args::Args;
use crate::host::clock;
use crate::plugin::{
    Check, CheckResult, CommonArgs, PerfData, Range, State, Thresholds, Uom, UsageError, Work,
};
use crate::proto::http;
use crate::proto::http::fetch::{
    self, BasicAuth, FetchSpec, HttpFacts, HttpVersion, Password, RedirectStop, Redirects,
};
use crate::proto::http::vhosts::{parse_expect, ExpectStatus, Target};
use crate::proto::net;
use crate::proto::tls::{self, CertDays, TlsSettings};
use base64::Engine;
use regex::bytes::{Regex, RegexBuilder};
use std::time::Duration;

/// What a redirect means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnRedirect {
    State(State),
    Follow,
    Sticky,
    StickyPort,
}

/// The validated check: the request and what its reply must be.
#[derive(Debug)]
pub struct HttpCheck {
    /// The virtual host (in multi-vhost mode: the defaults of each one).
    pub target: Target,
    /// What is sent, and how redirects are followed.
    pub spec: FetchSpec,
    pub cert_days: Option<CertDays>,
    pub expect: Vec<ExpectStatus>,
    pub string: Option<String>,
    pub regex: Option<Regex>,
    pub invert_regex: bool,
    pub header_string: Option<String>,
    pub onredirect: OnRedirect,
    /// Response time thresholds (none in multi-vhost mode).
    pub time: Thresholds,
    pub size_min: Option<usize>,
    pub size_max: Option<usize>,
    pub extended: bool,
    pub timeout: Duration,
    /// The state when the regular expression fails (`--state-regex`, default CRITICAL).
    pub state_regex: State,
    /// `-M`: the most seconds old the document may be.
    pub max_age: Option<u64>,
    /// `-B`: print the body after the status line.
    pub show_body: bool,
    /// `-L`: wrap the first line in an HTML link to the URL.
    pub link: bool,
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
        // check_curl's "let curl follow": the same as follow here
        "curl" => OnRedirect::Follow,
        _ => {
            return Err(usage(format!(
                "-f '{s}': use ok, warning, critical, follow, sticky, stickyport or curl"
            )))
        }
    })
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

/// `-H NAME[:PORT]` (or `[IPV6]:PORT`): the name, and the port it names. A bare IPv6
/// address (more than one colon) names no port.
fn split_vhost(h: &str) -> Result<(String, Option<u16>), UsageError> {
    let (name, port) = if h.starts_with('[') {
        match h.find("]:") {
            Some(i) => (&h[..=i], Some(&h[i + 2..])),
            None => (h, None),
        }
    } else {
        match h.split_once(':') {
            Some((n, p)) if !p.contains(':') => (n, Some(p)),
            _ => (h, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(n) if n > 0 => Some(n),
            _ => return Err(usage(format!("-H '{h}': '{p}' is not a port"))),
        },
    };
    Ok((name.to_string(), port))
}

/// `Socket timeout after N seconds`, as monitoring-plugins says it.
fn socket_timeout(t: Duration) -> String {
    let secs = t.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("Socket timeout after {secs:.0} seconds")
    } else {
        format!("Socket timeout after {secs:.1} seconds")
    }
}

/// `--state-regex`: a state name or number.
fn parse_state(s: &str) -> Result<State, UsageError> {
    Ok(match s.to_ascii_lowercase().as_str() {
        "ok" | "0" => State::Ok,
        "warning" | "1" => State::Warning,
        "critical" | "2" => State::Critical,
        "unknown" | "3" => State::Unknown,
        _ => {
            return Err(usage(format!(
                "--state-regex '{s}': use ok, warning, critical or unknown"
            )))
        }
    })
}

/// `-M`: seconds, or a number with m (minutes), h (hours) or d (days).
fn parse_age(s: &str) -> Result<u64, UsageError> {
    let bad = || usage(format!("-M '{s}': use seconds, or a number with m, h or d"));
    let (num, unit) = match s.char_indices().last() {
        Some((i, c @ ('m' | 'h' | 'd' | 's'))) => (&s[..i], c),
        _ => (s, 's'),
    };
    let n = num.trim().parse::<u64>().map_err(|_| bad())?;
    let mult = match unit {
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => 1,
    };
    n.checked_mul(mult).ok_or_else(bad)
}

/// `--http-version`: 1.0, 1.1, or 2 / 2.0 (HTTP/2 where TLS negotiates it by ALPN).
fn parse_http_version(v: &str) -> Result<HttpVersion, UsageError> {
    match v {
        "1.0" => Ok(HttpVersion::Http10),
        "1.1" => Ok(HttpVersion::Http11),
        "2" | "2.0" => Ok(HttpVersion::Http2),
        _ => Err(usage(format!("--http-version '{v}': use 1.0, 1.1 or 2.0"))),
    }
}

fn basic(pair: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

fn tls_versions(
    v: &str,
) -> Result<&'static [&'static rustls::SupportedProtocolVersion], UsageError> {
    use rustls::version::{TLS12, TLS13};
    static BOTH: [&rustls::SupportedProtocolVersion; 2] = [&TLS13, &TLS12];
    static ONLY_12: [&rustls::SupportedProtocolVersion; 1] = [&TLS12];
    static ONLY_13: [&rustls::SupportedProtocolVersion; 1] = [&TLS13];
    Ok(match v {
        "auto" | "1.2+" => &BOTH,
        "1.2" => &ONLY_12,
        "1.3" | "1.3+" => &ONLY_13,
        "1" | "1.1" | "1+" | "1.1+" | "2" | "3" => {
            return Err(usage(format!("-S {v}: only TLS 1.2 and 1.3 are offered")))
        }
        _ => return Err(usage(format!("-S '{v}': use 1.2, 1.3 or 1.2+"))),
    })
}

impl HttpCheck {
    /// Validates the options of one page; with `each_vhost`, as the verdict the
    /// multi-vhost mode applies to each virtual host (no -H, no response time levels:
    /// -w/-c are that mode's). Reads no file.
    pub fn from_args(args: &Args, each_vhost: bool) -> Result<Self, UsageError> {
        // -C implies -S, as monitoring-plugins does (in multi-vhost mode each virtual
        // host says whether it uses TLS)
        let use_tls = args.ssl.is_some() || (args.certificate.is_some() && !each_vhost);
        let mut tls = TlsSettings::new(&args.tls)?;
        if let Some(v) = &args.ssl {
            tls = tls.with_versions(tls_versions(v)?);
        }
        if let Some(cert) = &args.client_cert {
            tls = tls.with_client_identity(
                tls::ClientIdentity::from_files(cert, args.private_key.as_deref())
                    .map_err(usage)?,
            );
        }
        let (hostname, virtual_port) = match &args.hostname {
            Some(h) => {
                let (n, p) = split_vhost(h)?;
                (Some(n), p)
            }
            None => (None, None),
        };
        let default_port = args
            .port
            .or(virtual_port)
            .unwrap_or(if use_tls { 443 } else { 80 });
        if default_port == 0 {
            return Err(usage("the port (-p) must be between 1 and 65535"));
        }
        // an absolute URL is sent as it is (a request through a proxy at -I)
        let absolute = ["http://", "https://"].iter().any(|p| {
            args.url.len() > p.len()
                && (args.url.get(..p.len())).is_some_and(|x| x.eq_ignore_ascii_case(p))
        });
        if !args.url.starts_with('/') && !absolute {
            return Err(usage(format!(
                "-u '{}' must start with / (or be an absolute http:// or https:// URL)",
                args.url
            )));
        }
        if args
            .url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(usage(format!("-u '{}' holds spaces or controls", args.url)));
        }
        let defaults = Target {
            vhost: String::new(),
            address: args.address.clone(),
            port: default_port,
            tls: use_tls,
            uri: args.url.clone(),
            expect: None,
        };
        let mut target = if each_vhost {
            defaults
        } else {
            let vhost = match (&hostname, &args.address) {
                (Some(h), _) => h.clone(),
                (None, Some(a)) => a.clone(),
                (None, None) => {
                    return Err(usage("a virtual host (-H) or an address (-I) is required"))
                }
            };
            if vhost.trim().is_empty() || vhost.contains(char::is_whitespace) {
                return Err(usage(format!("'{vhost}' is not a host name")));
            }
            Target { vhost, ..defaults }
        };
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
        if let Some(p) = &args.proxy_authorization {
            if !p.contains(':') {
                return Err(usage("-b needs USER:PASSWORD"));
            }
            headers.push(("Proxy-Authorization".into(), basic(p)));
        }
        if args.decompress {
            headers.push(("Accept-Encoding".into(), "gzip, deflate".into()));
        }
        let auth = match &args.authorization {
            None => None,
            Some(a) => Some(match (&args.password_file, a.split_once(':')) {
                (Some(_), Some(_)) => {
                    return Err(usage("-a USER with --password-file takes no password"))
                }
                (Some(f), None) => BasicAuth {
                    user: a.clone(),
                    password: Password::File(f.clone()),
                },
                (None, Some((user, password))) => BasicAuth {
                    user: user.to_string(),
                    password: Password::Given(password.to_string()),
                },
                (None, None) => return Err(usage("-a needs USER:PASSWORD (or --password-file)")),
            }),
        };
        let body = args
            .post
            .as_ref()
            .map(|b| (b.clone().into_bytes(), args.content_type.clone()));
        let default_method = if body.is_some() { "POST" } else { "GET" };
        let (method, connect) = match &args.method {
            Some(m)
                if m.get(..7)
                    .is_some_and(|x| x.eq_ignore_ascii_case("CONNECT")) =>
            {
                let then = match m[7..].strip_prefix(':') {
                    Some(t) => t.to_string(),
                    None if m.len() == 7 => default_method.to_string(),
                    None => return Err(usage(format!("-j '{m}' is not an HTTP method"))),
                };
                (then, true)
            }
            Some(m) => (m.clone(), false),
            None => (default_method.to_string(), false),
        };
        let mut proxy = match &args.proxy {
            Some(p) => Some(fetch::Proxy::parse(p).map_err(usage)?),
            None => None,
        };
        if connect {
            if !use_tls {
                return Err(usage("-j CONNECT needs -S (a TLS tunnel to -H)"));
            }
            let (Some(via), false) = (&args.address, each_vhost) else {
                return Err(usage("-j CONNECT needs the proxy's address (-I) and -H"));
            };
            // the tunnel leads to -H on the HTTPS port (or the one -H names)
            target.address = None;
            target.port = virtual_port.unwrap_or(443);
            proxy = Some(fetch::Proxy {
                host: via.clone(),
                port: default_port,
                tunnel: true,
                bypass: Vec::new(),
                auth: None,
            });
        }
        if let Some(p) = proxy.as_mut() {
            if let Some(list) = &args.noproxy {
                p.bypass = list
                    .split(',')
                    .map(|n| n.trim().to_string())
                    .filter(|n| !n.is_empty())
                    .collect();
            }
            p.auth = args.proxy_authorization.as_deref().map(basic);
            // the proxy gets it, never the server
            headers.retain(|(n, _)| n != "Proxy-Authorization");
        }
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(usage(format!("-j '{method}' is not an HTTP method")));
        }
        let regex = match (&args.regex, &args.eregi) {
            (Some(r), _) | (None, Some(r)) => Some(
                RegexBuilder::new(r)
                    .case_insensitive(args.eregi.is_some())
                    .multi_line(!args.linespan)
                    .dot_matches_new_line(args.linespan)
                    .build()
                    .map_err(|e| usage(format!("bad regular expression: {e}")))?,
            ),
            _ => None,
        };
        let time = if each_vhost {
            Thresholds::default()
        } else {
            Thresholds::new(
                seconds(&args.levels.warning, "warning")?,
                seconds(&args.levels.critical, "critical")?,
            )
        };
        let (size_min, size_max) = page_size(&args.pagesize)?;
        let onredirect = parse_onredirect(&args.onredirect)?;
        let cert_only = args.certificate.is_some() && !args.continue_after_certificate;
        Ok(HttpCheck {
            target,
            spec: FetchSpec {
                family: args.family.family(),
                tls,
                cert_only,
                method,
                headers,
                auth,
                body,
                redirects: match onredirect {
                    OnRedirect::State(_) => Redirects::Report,
                    OnRedirect::Follow => Redirects::Follow,
                    OnRedirect::Sticky => Redirects::Sticky,
                    OnRedirect::StickyPort => Redirects::StickyPort,
                },
                max_redirs: args.max_redirs,
                redirect_networks: match &args.redirect_networks {
                    Some(n) => Some(
                        n.parse()
                            .map_err(|e| usage(format!("--redirect-networks: {e}")))?,
                    ),
                    None => None,
                },
                no_body: args.no_body,
                virtual_port,
                version: match &args.http_version {
                    Some(v) => parse_http_version(v)?,
                    None => HttpVersion::Http11,
                },
                haproxy: args.haproxy_protocol,
                decompress: args.decompress,
                proxy,
                cookie_jar: args.cookie_jar.clone(),
            },
            cert_days: args.certificate,
            expect: match &args.expect {
                Some(e) => parse_expect(e).map_err(usage)?,
                None => Vec::new(),
            },
            string: args.string.clone(),
            regex,
            invert_regex: args.invert_regex,
            header_string: args.header_string.clone(),
            onredirect,
            time,
            size_min,
            size_max,
            extended: args.extended,
            timeout: args.common.timeout.duration,
            state_regex: match &args.state_regex {
                Some(s) => parse_state(s)?,
                None => State::Critical,
            },
            max_age: args.max_age.as_deref().map(parse_age).transpose()?,
            show_body: args.show_body,
            link: args.link,
        })
    }

    /// Requests the page (all the I/O), and notes when: the certificate's days are
    /// counted from then.
    /// A server that does not answer in time is reported before the check as a whole
    /// times out, in monitoring-plugins' words (`Socket timeout after N seconds`).
    pub async fn fetch_page(&self) -> PageFacts {
        let limit = self.timeout.mul_f64(0.9);
        let http = match tokio::time::timeout(limit, fetch::fetch(&self.spec, &self.target)).await {
            Ok(f) => f,
            Err(_) => HttpFacts {
                url: self.target.url().to_string(),
                vhost: self.target.vhost.clone(),
                error: Some(socket_timeout(self.timeout)),
                timed_out: true,
                total: limit,
                ..Default::default()
            },
        };
        PageFacts {
            http,
            now: clock::unix_now(),
        }
    }

    /// The verdict on one virtual host's facts (the multi-vhost mode judges each one
    /// with it, against that virtual host's target).
    pub fn judge(&self, facts: &HttpFacts, target: &Target, now: i64) -> CheckResult {
        evaluate(facts, self, target, now)
    }
}

/// What one request of the one-URL mode observed, and when (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageFacts {
    pub http: HttpFacts,
    pub now: i64,
}

impl Check for HttpCheck {
    type Args = Args;
    type Facts = PageFacts;
    const LABEL: &'static str = "HTTP";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        Self::from_args(&args, false)
    }

    fn fetch(&self) -> Work<'_, PageFacts> {
        Work::remote(self.fetch_page())
    }

    fn evaluate(&self, facts: &PageFacts) -> CheckResult {
        evaluate(&facts.http, self, &self.target, facts.now)
    }
}

/// Seconds since the epoch of an HTTP date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37
/// GMT`), RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) or asctime (`Sun Nov  6 08:49:37
/// 1994`).
pub fn parse_http_date(s: &str) -> Option<i64> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let (mut day, mut month, mut year, mut time) = (None, None, None, None);
    for t in s.split([' ', ',', '-']).filter(|t| !t.is_empty()) {
        if t.contains(':') {
            let p: Vec<i64> = t
                .split(':')
                .map(|x| x.parse().ok())
                .collect::<Option<_>>()?;
            match p[..] {
                [h, m, sec] if h < 24 && m < 60 && sec < 61 => time = Some(h * 3600 + m * 60 + sec),
                _ => return None,
            }
        } else if let Some(m) = MONTHS
            .iter()
            .position(|m| t.get(..3).is_some_and(|x| x.eq_ignore_ascii_case(m)))
            .filter(|_| !t.bytes().next().is_some_and(|b| b.is_ascii_digit()))
        {
            month = Some(m as i64 + 1);
        } else if let Ok(n) = t.parse::<i64>() {
            if t.len() > 4 {
                // no calendar arithmetic on years past 9999 (nor their overflow)
                return None;
            } else if day.is_none() && t.len() <= 2 {
                day = Some(n);
            } else {
                year = Some(match (t.len(), n) {
                    (2, n) if n < 70 => 2000 + n,
                    (2, n) => 1900 + n,
                    _ => n,
                });
            }
        }
    }
    let (d, m, y, t) = (day?, month?, year?, time?);
    if !(1..=31).contains(&d) {
        return None;
    }
    Some(clock::days_from_civil(y, m, d) * 86_400 + t)
}

/// Why a document is too old for `-M` (or its dates unusable), as monitoring-plugins
/// says; `None` when it is fresh enough.
fn document_age_problem(resp: &http::Response, now: i64, max: u64) -> Option<String> {
    let Some(server) = resp.header("date") else {
        return Some("Server date unknown".into());
    };
    let Some(modified) = resp.header("last-modified") else {
        return Some("Document modification date unknown".into());
    };
    let printable = |t: &str| net::printable(t.as_bytes(), 100);
    let Some(server_t) = parse_http_date(server) else {
        return Some(format!("Server date \"{}\" unparseable", printable(server)));
    };
    let Some(doc_t) = parse_http_date(modified) else {
        return Some(format!(
            "Document date \"{}\" unparseable",
            printable(modified)
        ));
    };
    if doc_t > server_t + 30 {
        return Some(format!(
            "Document is {} seconds in the future",
            doc_t - server_t
        ));
    }
    let age = now - doc_t;
    if age > max as i64 {
        return Some(if age > 2 * 86_400 {
            format!("Last modified {:.1} days ago", age as f64 / 86_400.0)
        } else {
            format!("Last modified {age} seconds ago")
        });
    }
    None
}

/// The verdict on one virtual host (pure): `(state, text)` pieces are collected in order
/// and the worst state wins; the summary is the first failing piece or the OK line. With
/// `-L` the first line is a link to the URL.
pub fn evaluate(facts: &HttpFacts, check: &HttpCheck, target: &Target, now: i64) -> CheckResult {
    let mut r = verdict(facts, check, target, now);
    if check.link {
        let url = facts.url.replace('"', "%22");
        r.summary = format!("<A HREF=\"{url}\" target=\"_blank\">{}</A>", r.summary);
    }
    r
}

fn verdict(facts: &HttpFacts, check: &HttpCheck, target: &Target, now: i64) -> CheckResult {
    let cert = facts
        .cert
        .as_ref()
        .map(|c| tls::cert_state(c, check.cert_days, now));
    if let Some(e) = &facts.unusable {
        return CheckResult::unknown(e.clone());
    }
    if let Some(e) = &facts.error {
        if facts.timed_out {
            return CheckResult::timed_out(e.clone());
        }
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
    if check.spec.cert_only {
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
        Some(l) if resp.truncated && !check.spec.no_body => l,
        _ => resp.body_len,
    };
    let page = (resp.header_bytes as u64 + 4).saturating_add(body_len);
    let mut problems: Vec<(State, String)> = Vec::new();
    if let Some((s, t)) = &cert {
        if check.cert_days.is_some() || *s != State::Ok {
            problems.push((*s, t.clone()));
        }
    }
    if let Some((why, e)) = &facts.redirect_error {
        let s = match why {
            RedirectStop::TooMany => State::Warning,
            RedirectStop::Refused => State::Critical,
        };
        problems.push((s, e.clone()));
    }
    let expected = target.expect.as_ref().unwrap_or(&check.expect);
    let status_state = if !expected.is_empty() {
        let ok = expected
            .iter()
            .any(|e| e.matches(resp.status, &resp.status_line));
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
    if !check.spec.no_body {
        if let Some(s) = &check.string {
            if !net::contains(&resp.body, s.as_bytes()) {
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
                    check.state_regex,
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
    if resp.truncated && !check.spec.no_body {
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
    if let Some(max) = check.max_age {
        if let Some(why) = document_age_problem(resp, now, max) {
            problems.push((State::Critical, why));
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
    if check.show_body && !resp.body.is_empty() {
        for line in String::from_utf8_lossy(&resp.body).lines() {
            r.push_line(line.replace('|', "/"));
        }
    }
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
            // time_ssl only over TLS, as monitoring-plugins
            if name == "time_ssl" && facts.tls.is_none() {
                continue;
            }
            r.push_perf(PerfData::new(name, net::secs(d)).uom(Uom::Seconds).min(0.0));
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;

    fn check(argv: &[&str]) -> Result<HttpCheck, UsageError> {
        validate::<HttpCheck>(argv)
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

    /// The check's verdict on hand-made facts observed at `now`.
    fn verdict(f: &HttpFacts, c: &HttpCheck, now: i64) -> CheckResult {
        c.evaluate(&PageFacts {
            http: f.clone(),
            now,
        })
    }

    fn eval(f: &HttpFacts, c: &HttpCheck) -> String {
        render_text("HTTP", &verdict(f, c, 0))
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
        assert_eq!(verdict(&f, &c, 0).state(), State::Critical);
        let f = page("HTTP/1.1 301 Moved", "", 2);
        assert_eq!(verdict(&f, &c, 0).state(), State::Ok);
        let c = check(&["-H", "www.test", "-f", "warning"]).unwrap();
        assert_eq!(verdict(&f, &c, 0).state(), State::Warning);
        let c = check(&["-H", "www.test", "-e", "301,302"]).unwrap();
        assert_eq!(verdict(&f, &c, 0).state(), State::Ok);
        let c = check(&["-H", "www.test", "-e", "200"]).unwrap();
        assert_eq!(verdict(&f, &c, 0).state(), State::Critical);
    }

    #[test]
    fn content_checks() {
        let f = page("HTTP/1.1 200 OK", "Welcome home", 2);
        let state = |argv: &[&str]| {
            let mut a = vec!["-H", "www.test"];
            a.extend_from_slice(argv);
            let c = check(&a).unwrap();
            verdict(&f, &c, 0).state()
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
            verdict(&f, &c, 0).summary,
            "string 'Goodbye' not found on http://www.test/ - HTTP/1.1 200 OK - 71 bytes in 0.002 second response time"
        );
    }

    #[test]
    fn failures() {
        let c = check(&["-H", "www.test", "-S"]).unwrap();
        let f = HttpFacts {
            url: "https://www.test/".into(),
            tls_error: Some("TLS handshake failed: certificate has expired".into()),
            cert: Some(tls::CertFacts {
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
            verdict(&f, &c, 2 * 86_400).summary,
            "TLS handshake failed: certificate has expired: certificate 'www.test' expired on 1970-01-02 00:00:00 UTC (https://www.test/)"
        );
        let f = HttpFacts {
            error: Some("connect to address 127.0.0.1 and port 80: Connection refused".into()),
            ..Default::default()
        };
        assert_eq!(verdict(&f, &c, 0).state(), State::Critical);
    }

    #[test]
    fn redirect_results_and_bounded_bodies() {
        let c = check(&["-H", "www.test", "-f", "follow"]).unwrap();
        assert_eq!(c.spec.max_redirs, 15);
        assert_eq!(c.spec.redirect_networks, None);
        let mut f = page("HTTP/1.1 301 Moved Permanently", "", 2);
        f.redirect_error = Some((
            RedirectStop::TooMany,
            "maximum redirection depth 15 exceeded - http://www.test/loop".into(),
        ));
        assert_eq!(
            eval(&f, &c),
            "HTTP WARNING - maximum redirection depth 15 exceeded - http://www.test/loop - HTTP/1.1 301 Moved Permanently - 74 bytes in 0.002 second response time | time=0.002s;;;0;10 size=74B;;;0\n"
        );
        f.redirect_error = Some((
            RedirectStop::Refused,
            "redirect to http://169.254.169.254/ refused: 169.254.169.254 is outside the allowed networks (cloud metadata)".into(),
        ));
        assert_eq!(verdict(&f, &c, 0).state(), State::Critical);
        let c = check(&[
            "-H",
            "www.test",
            "--redirect-networks",
            "global,192.0.2.0/24",
        ])
        .unwrap();
        assert_eq!(
            c.spec.redirect_networks,
            Some("global,192.0.2.0/24".parse().unwrap())
        );
        // a body cut at the read limit is as long as its Content-Length said
        let c = check(&["-H", "www.test", "-m", "10:1000000"]).unwrap();
        let mut f = page("HTTP/1.1 200 OK", "x", 2);
        let resp = f.response.as_mut().unwrap();
        resp.truncated = true;
        resp.content_length = Some(1 << 30);
        assert_eq!(
            verdict(&f, &c, 0).summary,
            "page size 1073741883 too large, body read up to the 16777216-byte limit - HTTP/1.1 200 OK - 1073741883 bytes in 0.002 second response time"
        );
        let resp = f.response.as_mut().unwrap();
        resp.content_length = None;
        assert_eq!(
            verdict(&f, &c, 0).summary,
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
        // -C implies TLS, as monitoring-plugins does
        assert!(check(&["-H", "x", "-C", "30"]).unwrap().target.tls);
        assert!(check(&["-H", "x:0"]).is_err());
        assert!(check(&["-H", "x:http"]).is_err());
        assert!(check(&["-H", "x", "-M", "3w"]).is_err());
        assert!(check(&["-H", "x", "--state-regex", "bad"]).is_err());
        assert!(check(&["-H", "x", "-j", "CONNECT"]).is_err());
        assert!(check(&["-H", "x", "-S", "-j", "CONNECT"]).is_err());
        assert!(check(&["-H", "x", "-J", "/nonexistent"]).is_err());
        assert!(check(&["-H", "x", "-u", "http://a b/"]).is_err());
        assert!(check(&["-H", "x", "--ssl=1.1"]).is_err());
        assert!(check(&["-H", "x", "-w", "fast"]).is_err());
        assert!(check(&["-H", "x", "-S", "--ca-cert", "/nonexistent"]).is_err());
        // non-ASCII arguments are checked, not sliced through a character
        assert_eq!(
            check(&["-H", "x", "-u", "/abcdeñ"]).unwrap().target.uri,
            "/abcdeñ"
        );
        assert!(check(&["-H", "x", "-u", "http:/ñ"]).is_err());
        assert!(check(&["-H", "x", "-u", "ñttps://x/"]).is_err());
        for m in ["CONNECñ", "CONNEñ", "ñ", "CONNECTñ"] {
            assert_eq!(
                check(&["-H", "x", "-S", "-j", m]).unwrap_err().0,
                format!("-j '{m}' is not an HTTP method")
            );
        }
        assert_eq!(
            check(&["-H", "x", "-S", "-j", "CONNECT:ñ"]).unwrap_err().0,
            "-j CONNECT needs the proxy's address (-I) and -H"
        );
    }

    #[test]
    fn validation_reads_no_file() {
        // the password file is read by the request, at each run: UNKNOWN naming it
        let c = check(&["-H", "x", "-a", "member", "--password-file", "/nonexistent"]).unwrap();
        let f = HttpFacts {
            unusable: Some(c.spec.auth.as_ref().unwrap().header().unwrap_err()),
            ..Default::default()
        };
        assert_eq!(
            eval(&f, &c),
            "HTTP UNKNOWN - --password-file /nonexistent: No such file or directory (os error 2)\n"
        );
        assert_eq!(
            check(&[
                "-H",
                "x",
                "-a",
                "member:pw",
                "--password-file",
                "/nonexistent"
            ])
            .unwrap_err()
            .0,
            "-a USER with --password-file takes no password"
        );
    }

    #[test]
    fn basic_auth_header() {
        let dir = tempfile::tempdir().unwrap();
        let pw = dir.path().join("pw");
        std::fs::write(&pw, "s3cret\nignored\n").unwrap();
        let c = check(&[
            "-H",
            "x",
            "-a",
            "member",
            "--password-file",
            pw.to_str().unwrap(),
        ])
        .unwrap();
        let given = check(&["-H", "x", "-a", "member:s3cret"]).unwrap();
        assert_eq!(
            c.spec.auth.as_ref().unwrap().header(),
            given.spec.auth.as_ref().unwrap().header()
        );
        assert_eq!(
            given.spec.auth.as_ref().unwrap().header().unwrap(),
            "Basic bWVtYmVyOnMzY3JldA=="
        );
    }

    fn cert(not_after: i64) -> tls::CertFacts {
        tls::CertFacts {
            leaf: Some(Ok(tls::CertInfo {
                subject: "www.test".into(),
                issuer: "CA".into(),
                not_after,
                dns_names: vec!["www.test".into()],
            })),
            verify_error: None,
        }
    }

    #[test]
    fn certificate_days() {
        let day = 86_400;
        // -C alone checks only the certificate
        let c = check(&["-H", "www.test", "-S", "-C", "30,7"]).unwrap();
        assert!(c.spec.cert_only);
        let f = HttpFacts {
            url: "https://www.test/".into(),
            cert: Some(cert(20 * day)),
            ..Default::default()
        };
        assert_eq!(
            eval(&f, &c),
            "HTTP WARNING - certificate 'www.test' will expire on 1970-01-21 00:00:00 UTC (20 days)\n"
        );
        let f = HttpFacts {
            cert: Some(cert(3 * day)),
            ..f
        };
        assert_eq!(verdict(&f, &c, 0).state(), State::Critical);
        // with --continue-after-certificate the page is checked too, the days first
        let c = check(&[
            "-H",
            "www.test",
            "-S",
            "-C",
            "30,7",
            "--continue-after-certificate",
        ])
        .unwrap();
        let mut f = page("HTTP/1.1 200 OK", "hello", 2);
        f.cert = Some(cert(20 * day));
        assert_eq!(
            verdict(&f, &c, 0).summary,
            "certificate 'www.test' will expire on 1970-01-21 00:00:00 UTC (20 days) - HTTP/1.1 200 OK - 64 bytes in 0.002 second response time"
        );
        f.cert = Some(cert(40 * day));
        let r = verdict(&f, &c, 0);
        assert_eq!(r.state(), State::Ok);
        assert!(r.summary.starts_with("certificate 'www.test' will expire"));
    }

    #[test]
    fn virtual_host_ports() {
        // -H NAME:PORT sets the port unless -p is given; the Host header names it
        let c = check(&["-H", "localhost:8080"]).unwrap();
        assert_eq!(
            (c.target.vhost.as_str(), c.target.port),
            ("localhost", 8080)
        );
        assert_eq!(c.spec.virtual_port, Some(8080));
        let c = check(&["-H", "127.0.0.1:80", "-p", "8081"]).unwrap();
        assert_eq!(
            (c.target.vhost.as_str(), c.target.port),
            ("127.0.0.1", 8081)
        );
        assert_eq!(c.spec.virtual_port, Some(80));
        let c = check(&["-H", "[::1]:8443", "-S"]).unwrap();
        assert_eq!((c.target.vhost.as_str(), c.target.port), ("[::1]", 8443));
        // a bare IPv6 address names no port
        let c = check(&["-H", "::1"]).unwrap();
        assert_eq!((c.target.vhost.as_str(), c.target.port), ("::1", 80));
        // -j CONNECT: -I:-p is the proxy, the tunnel leads to -H on 443 (or its port)
        let c = check(&[
            "-I",
            "proxy.test",
            "-p",
            "3128",
            "-H",
            "www.test",
            "-S",
            "-j",
            "CONNECT:HEAD",
        ])
        .unwrap();
        assert_eq!(c.spec.method, "HEAD");
        let p = c.spec.proxy.as_ref().unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.tunnel),
            ("proxy.test", 3128, true)
        );
        assert_eq!((c.target.address.as_deref(), c.target.port), (None, 443));
        // -b goes to the proxy only when there is one
        let c = check(&["-H", "x", "-b", "u:p"]).unwrap();
        assert!(c
            .spec
            .headers
            .iter()
            .any(|(n, v)| n == "Proxy-Authorization" && v == "Basic dTpw"));
        let c = check(&["-H", "x", "-b", "u:p", "-x", "proxy.test"]).unwrap();
        assert!(!c
            .spec
            .headers
            .iter()
            .any(|(n, _)| n == "Proxy-Authorization"));
        assert_eq!(
            c.spec.proxy.as_ref().unwrap().auth.as_deref(),
            Some("Basic dTpw")
        );
        assert_eq!(c.spec.proxy.as_ref().unwrap().port, 1080);
    }

    #[test]
    fn document_age() {
        assert_eq!(
            parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sun Nov  6 08:49:37 1994"),
            Some(784_111_777)
        );
        assert_eq!(parse_http_date("yesterday"), None);
        // servers' non-ASCII text is unparseable, not a panic
        assert_eq!(parse_http_date("Sun, 06 Noñ 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("Sun, 06 ñov 1994 08:49:37 GMT"), None);
        assert_eq!(parse_http_date("ñ"), None);
        // a weekday is not read: a non-ASCII one is ignored like any other
        assert_eq!(
            parse_http_date("Suñday, 06 Nov 1994 08:49:37 GMT"),
            Some(784_111_777)
        );
        assert_eq!(
            parse_http_date("Sun, 06 Nov 99999999999999999 08:49:37 GMT"),
            None
        );
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"), None);
        assert_eq!(parse_age("90").unwrap(), 90);
        assert_eq!(parse_age("2m").unwrap(), 120);
        assert_eq!(parse_age("1d").unwrap(), 86_400);
        let c = check(&["-H", "www.test", "-M", "1h"]).unwrap();
        let dated = |date: &str, modified: Option<&str>| {
            let mut head = format!("HTTP/1.1 200 OK\r\nDate: {date}");
            if let Some(m) = modified {
                head.push_str(&format!("\r\nLast-Modified: {m}"));
            }
            HttpFacts {
                url: "http://www.test/".into(),
                response: Some(http::parse_head(head.as_bytes()).unwrap()),
                ..Default::default()
            }
        };
        let now = 784_111_777;
        let date = "Sun, 06 Nov 1994 08:49:37 GMT";
        let f = dated(date, Some("Sun, 06 Nov 1994 08:00:00 GMT"));
        assert_eq!(verdict(&f, &c, now).state(), State::Ok);
        let f = dated(date, Some("Sun, 06 Nov 1994 07:00:00 GMT"));
        let r = verdict(&f, &c, now);
        assert_eq!(
            (
                r.state(),
                r.summary.starts_with("Last modified 6577 seconds ago")
            ),
            (State::Critical, true),
            "{}",
            r.summary
        );
        let f = dated(date, Some("Sun, 01 Nov 1994 07:00:00 GMT"));
        assert!(verdict(&f, &c, now)
            .summary
            .starts_with("Last modified 5.1 days ago"));
        let f = dated(date, Some("Sun, 06 Nov 1994 10:00:00 GMT"));
        assert!(verdict(&f, &c, now)
            .summary
            .starts_with("Document is 4223 seconds in the future"));
        let f = dated(date, None);
        assert!(verdict(&f, &c, now)
            .summary
            .starts_with("Document modification date unknown"));
        let f = dated("garbage", Some(date));
        assert!(verdict(&f, &c, now)
            .summary
            .starts_with("Server date \"garbage\" unparseable"));
    }

    #[test]
    fn link_body_and_regex_state() {
        let f = page("HTTP/1.1 200 OK", "Welcome\nhome", 2);
        let c = check(&["-H", "www.test", "-L", "-B"]).unwrap();
        assert_eq!(
            eval(&f, &c),
            "HTTP OK - <A HREF=\"http://www.test/\" target=\"_blank\">HTTP/1.1 200 OK - 71 bytes in 0.002 second response time</A> | time=0.002s;;;0;10 size=71B;;;0\nWelcome\nhome\n"
        );
        let c = check(&[
            "-H",
            "www.test",
            "-r",
            "nothere",
            "--state-regex",
            "warning",
        ])
        .unwrap();
        assert_eq!(verdict(&f, &c, 0).state(), State::Warning);
        let c = check(&["-H", "www.test", "-r", "Welcome.home"]).unwrap();
        assert_eq!(verdict(&f, &c, 0).state(), State::Critical);
        let c = check(&["-H", "www.test", "-r", "Welcome.home", "-l"]).unwrap();
        assert_eq!(verdict(&f, &c, 0).state(), State::Ok);
        let c = check(&["-H", "www.test", "-r", "^home$"]).unwrap();
        assert_eq!(verdict(&f, &c, 0).state(), State::Ok);
    }

    #[test]
    fn extended_perfdata_and_no_response() {
        let c = check(&["-H", "www.test", "-E", "-w", "1", "-c", "2"]).unwrap();
        let mut f = page("HTTP/1.1 200 OK", "hello", 1500);
        f.connect = Duration::from_millis(3);
        f.times = http::ExchangeTimes {
            first_byte: Duration::from_millis(7),
            transfer: Duration::from_millis(1),
            headers: Duration::from_millis(8),
        };
        assert_eq!(
            eval(&f, &c),
            "HTTP WARNING - response time 1.500s - HTTP/1.1 200 OK - 64 bytes in 1.500 second response time | time=1.5s;1;2;0;10 size=64B;;;0 time_connect=0.003s;;;0 time_headers=0.008s;;;0 time_firstbyte=0.007s;;;0 time_transfer=0.001s;;;0\n"
        );
        // a silent server: the peer's words, the state of -t
        let f = HttpFacts {
            error: Some(socket_timeout(Duration::from_secs(3))),
            timed_out: true,
            ..Default::default()
        };
        let r = verdict(&f, &c, 0);
        assert!(r.timed_out);
        assert_eq!(
            render_text("HTTP", &r.with_timeout_state(State::Unknown)),
            "HTTP UNKNOWN - Socket timeout after 3 seconds\n"
        );
        assert_eq!(
            socket_timeout(Duration::from_millis(2500)),
            "Socket timeout after 2.5 seconds"
        );
        // a fetch that stopped before any reply and without an error is UNKNOWN
        let f = HttpFacts {
            url: "http://www.test/".into(),
            ..Default::default()
        };
        assert_eq!(
            eval(&f, &c),
            "HTTP UNKNOWN - no response from http://www.test/\n"
        );
    }
}
