//! Fetching a virtual host's page: resolve, connect, TLS, one request per hop,
//! redirects followed as asked (within the allow-list of [`super::RedirectNetworks`]),
//! and every time and fact check_http judges; many virtual hosts a few at a time. No
//! thresholds here: check_http judges what this finds.

use super::vhosts::Target;
use super::{Request, Response};
use crate::proto::net::{self, Conn, Family};
use crate::proto::tls::{CertFacts, TlsSettings};
use base64::Engine;
use futures_util::stream::{FuturesUnordered, StreamExt};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Most body bytes held for `-s`, `-r` and `-R` (the rest is read and counted only).
pub const MATCH_BODY: usize = 1024 * 1024;

/// Whether redirects are followed, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// The redirect is the answer.
    Report,
    /// Resolve the new name, connect only where the allow-list says.
    Follow,
    /// Stay on the address the check started from.
    Sticky,
    /// Stay on the address and the port the check started from.
    StickyPort,
}

/// The basic authentication password: given, or read from a file at each fetch.
#[derive(Debug, Clone, PartialEq)]
pub enum Password {
    Given(String),
    File(PathBuf),
}

/// Basic authentication.
#[derive(Debug, Clone, PartialEq)]
pub struct BasicAuth {
    pub user: String,
    pub password: Password,
}

impl BasicAuth {
    /// The `Authorization` header value; reads the password file (its first line).
    pub fn header(&self) -> Result<String, String> {
        let password = match &self.password {
            Password::Given(p) => p.clone(),
            Password::File(f) => std::fs::read_to_string(f)
                .map_err(|e| format!("--password-file {}: {e}", f.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        };
        Ok(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{password}", self.user))
        ))
    }
}

/// What to send and how to follow: the validated request of check_http.
#[derive(Debug)]
pub struct FetchSpec {
    pub family: Family,
    pub tls: TlsSettings,
    /// Stop after the TLS handshake (only the certificate is checked).
    pub cert_only: bool,
    pub method: String,
    /// Headers in order (before the authorization and the content type).
    pub headers: Vec<(String, String)>,
    pub auth: Option<BasicAuth>,
    /// The request body and its content type.
    pub body: Option<(Vec<u8>, String)>,
    pub redirects: Redirects,
    pub max_redirs: u32,
    /// Where `follow` may connect (`None`: the process-wide default).
    pub redirect_networks: Option<super::RedirectNetworks>,
    /// Do not read the body.
    pub no_body: bool,
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
    /// The request could not be made from what the check was given (a password file
    /// that cannot be read): UNKNOWN.
    pub unusable: Option<String>,
    pub response: Option<Response>,
    pub times: super::ExchangeTimes,
    pub total: Duration,
    /// The redirects followed, as `STATUS -> URL`.
    pub redirects: Vec<String>,
    /// Following stopped (too many redirects, a refused target, a bad Location), and why.
    pub redirect_error: Option<(RedirectStop, String)>,
}

/// Why following redirects stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirectStop {
    /// More than `max_redirs` redirects.
    TooMany,
    /// A redirect without a usable Location, or to a refused address.
    Refused,
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

/// Requests the page of one virtual host, following redirects as the spec says.
pub async fn fetch(spec: &FetchSpec, target: &Target) -> HttpFacts {
    let start = Instant::now();
    let mut facts = HttpFacts {
        vhost: target.vhost.clone(),
        ..Default::default()
    };
    let mut url = target.url();
    facts.url = url.to_string();
    let mut headers = spec.headers.clone();
    if let Some(a) = &spec.auth {
        match a.header() {
            Ok(h) => headers.push(("Authorization".into(), h)),
            Err(e) => {
                facts.unusable = Some(e);
                return facts;
            }
        }
    }
    if let Some((_, content_type)) = &spec.body {
        headers.push(("Content-Type".into(), content_type.clone()));
    }
    let first = target.address.as_deref().unwrap_or(&url.host);
    // every hop connects to addresses resolved once (and checked, for follow)
    let mut addrs = match net::resolve(first, url.port, spec.family).await {
        Ok(a) => a,
        Err(e) => {
            facts.error = Some(e.to_string());
            facts.total = start.elapsed();
            return facts;
        }
    };
    let mut connect_name = first.to_string();
    let networks = spec
        .redirect_networks
        .clone()
        .or_else(super::default_redirect_networks);
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
            let hs = spec.tls.handshake(connected.stream, &url.host).await;
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
        if spec.cert_only && url.tls {
            break;
        }
        let default_port = if url.tls { 443 } else { 80 };
        let req = Request {
            method: spec.method.clone(),
            host: if url.port == default_port {
                url.host.clone()
            } else {
                format!("{}:{}", url.host, url.port)
            },
            target: url.target.clone(),
            headers: headers.clone(),
            body: spec.body.as_ref().map(|b| b.0.clone()),
        };
        let (read, keep) = if spec.no_body {
            (0, 0)
        } else {
            (super::MAX_BODY, MATCH_BODY)
        };
        let (resp, times) = match super::exchange_bounded(&mut conn, &req, read, keep).await {
            Ok(r) => r,
            Err(e) => {
                facts.error = Some(format!("{e} ({url})"));
                break;
            }
        };
        facts.times = times;
        let location = resp.header("location").map(str::to_string);
        let status = resp.status;
        let is_redirect = (300..400).contains(&status) && status != 304;
        facts.response = Some(resp);
        if spec.redirects == Redirects::Report || !is_redirect {
            break;
        }
        let Some(loc) = location else {
            facts.redirect_error =
                Some((RedirectStop::Refused, "redirect without a Location".into()));
            break;
        };
        let mut next = match super::resolve_location(&url, &loc) {
            Ok(u) => u,
            Err(e) => {
                facts.redirect_error = Some((RedirectStop::Refused, e));
                break;
            }
        };
        if spec.redirects == Redirects::StickyPort {
            next.port = url.port;
        }
        if facts.redirects.len() as u32 >= spec.max_redirs {
            facts.redirect_error = Some((
                RedirectStop::TooMany,
                format!(
                    "maximum redirection depth {} exceeded - {next}",
                    spec.max_redirs
                ),
            ));
            break;
        }
        addrs = match spec.redirects {
            // stay on the address the check started from, whatever the name
            Redirects::Sticky | Redirects::StickyPort => {
                vec![SocketAddr::new(origin_ip, next.port)]
            }
            // the same name stays on the address it was reached at
            _ if next.host.eq_ignore_ascii_case(&url.host) => {
                vec![SocketAddr::new(here, next.port)]
            }
            _ => {
                let found = match net::resolve(&next.host, next.port, spec.family).await {
                    Ok(a) => a,
                    Err(e) => {
                        facts.url = next.to_string();
                        facts.error = Some(e.to_string());
                        break;
                    }
                };
                let refused = found.iter().find_map(|a| {
                    super::redirect_allowed(networks.as_ref(), Some(origin_ip), a.ip()).err()
                });
                if let Some(why) = refused {
                    facts.redirect_error = Some((
                        RedirectStop::Refused,
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

/// One virtual host within `limit`, with its index.
async fn fetch_bounded(
    spec: &FetchSpec,
    limit: Duration,
    i: usize,
    t: &Target,
) -> (usize, HttpFacts) {
    let f = match tokio::time::timeout(limit, fetch(spec, t)).await {
        Ok(f) => f,
        Err(_) => HttpFacts::failed(
            t,
            format!(
                "no complete answer within {:.1} seconds",
                limit.as_secs_f64()
            ),
        ),
    };
    (i, f)
}

/// Every virtual host, `concurrency` at a time, each within `limit`, in the order given.
pub async fn fetch_all(
    spec: &FetchSpec,
    targets: &[Target],
    concurrency: usize,
    limit: Duration,
) -> Vec<HttpFacts> {
    let mut out: Vec<HttpFacts> = vec![HttpFacts::default(); targets.len()];
    let mut next = targets.iter().enumerate();
    let mut running = FuturesUnordered::new();
    for (i, t) in next.by_ref().take(concurrency.max(1)) {
        running.push(fetch_bounded(spec, limit, i, t));
    }
    while let Some((i, f)) = running.next().await {
        out[i] = f;
        if let Some((j, t)) = next.next() {
            running.push(fetch_bounded(spec, limit, j, t));
        }
    }
    out
}
