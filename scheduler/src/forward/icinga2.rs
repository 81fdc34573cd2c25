//! `[forward.icinga2]`: every result becomes a passive check result posted to the
//! Icinga 2 REST API (`POST /v1/actions/process-check-result`, HTTPS, port 5665).
//!
//! ```toml
//! [forward.icinga2]
//! host = "icinga.example.org"
//! server_name = "icinga-master"        # optional: the name in Icinga's certificate
//! ca_file = "/var/lib/icinga2/certs/ca.crt"
//! username = "hcoop-monitor"           # an ApiUser with actions/process-check-result
//! password_file = "/etc/hcoop-monitor/icinga2.password"
//! # or: client_cert = "...crt", client_key = "...key" (an ApiUser with client_cn)
//! ttl = "10m"                          # optional: UNKNOWN in Icinga without a newer result
//! ```
//!
//! The server is verified against `ca_file` (Icinga's own CA by default) under
//! `server_name`, because Icinga names its certificates after the node rather than
//! the address it listens on. The sink authenticates with basic auth (the password
//! read from a file, never from the main configuration) or a client certificate. One
//! TLS connection is kept open and reused for every result (HTTP/1.1 keep-alive), so
//! a steady stream of results costs no handshake each; a kept connection Icinga
//! closed while idle (after 10 s) is replaced once, transparently.
//!
//! Host and service names go to Icinga as `filter_vars`, never spliced into the
//! filter expression, so a name with quotes or operators cannot change the filter.
//! The object must exist in Icinga (with passive checks accepted).
//!
//! Failures: an unreachable Icinga, a failed handshake, no answer within `timeout`,
//! a refused login (401, 403) and 503 keep the result for a later attempt (the
//! credentials and certificates are read again before it, so a corrected password
//! file is picked up); any other reply that is not a 2xx with every object processed
//! (an unknown host or service, a result Icinga rejects) drops that result. Every
//! failure quotes Icinga's reply.

use super::{Failure, Passive, Sink, SinkConfig, SinkSettings};
pub use crate::config::sections::{Icinga2Config, DEFAULT_CA_FILE, DEFAULT_PORT};
use crate::config::Config;
use base64::Engine;
use hcoop_plugins::checks::nrpe_client::{load_certs, load_key};
use hcoop_plugins::proto::http::{exchange, Request, Response};
use hcoop_plugins::proto::net::{connect, printable, Conn, Family};
use rustls_pki_types::ServerName;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How long one delivery may take (connect, TLS, request and answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The API path of passive results.
pub const PATH: &str = "/v1/actions/process-check-result";
/// The most of a reply body quoted in a log line.
const BODY_QUOTE: usize = 500;
/// The most of a reply body read.
const BODY_LIMIT: usize = 64 * 1024;

impl SinkConfig for Icinga2Config {
    type Sink = Icinga2;
    const NAME: &'static str = "icinga2";

    fn settings(&self) -> &SinkSettings {
        &self.settings
    }

    fn problems(&self, _config: &Config) -> Vec<String> {
        // Icinga takes any name through filter_vars; what can be wrong is the
        // connection settings and the files they name
        let mut out = Vec::new();
        if self.timeout.is_some_and(|t| t.is_zero()) {
            out.push("timeout must be longer than 0s".into());
        }
        if self.ttl.is_some_and(|t| t.as_secs() == 0) {
            out.push("ttl must be at least 1s".into());
        }
        if let Err(e) = Session::new(self) {
            out.push(e);
        }
        out
    }

    fn sink(&self) -> Icinga2 {
        Icinga2 {
            config: self.clone(),
            session: None,
        }
    }
}

/// The Icinga 2 sink: the settings, and the session built from them on first use.
pub struct Icinga2 {
    config: Icinga2Config,
    session: Option<Session>,
}

impl Sink for Icinga2 {
    async fn deliver(&mut self, result: &Passive) -> Result<(), Failure> {
        let session = match &mut self.session {
            Some(s) => s,
            None => self
                .session
                .insert(Session::new(&self.config).map_err(Failure::Retry)?),
        };
        let delivered = session.deliver(result).await;
        if let Err(Failure::Retry(_)) = delivered {
            // read the password, keys and CA again before the next attempt
            self.session = None;
        }
        delivered
    }
}

/// The host or service state as Icinga's `exit_status`: a service's plugin code, and
/// for a host 0 UP and 1 DOWN (Icinga takes no other host code; it works out
/// unreachability itself from its own parents).
fn exit_status(result: &Passive) -> i32 {
    match result.service {
        Some(_) => result.code,
        None => i32::from(result.code != 0),
    }
}

fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The JSON body of `process-check-result` for one result.
pub fn request_body(r: &Passive, check_source: &str, ttl: Option<Duration>) -> Value {
    let (kind, filter, vars) = match &r.service {
        Some(service) => (
            "Service",
            "host.name == hcoop_host && service.name == hcoop_service",
            json!({ "hcoop_host": r.host, "hcoop_service": service }),
        ),
        None => (
            "Host",
            "host.name == hcoop_host",
            json!({ "hcoop_host": r.host }),
        ),
    };
    let output = std::iter::once(r.summary.as_str())
        .chain(r.long.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join("\n");
    let mut body = json!({
        "type": kind,
        "filter": filter,
        "filter_vars": vars,
        "exit_status": exit_status(r),
        "plugin_output": output,
        "performance_data": r.perfdata_items(),
        "check_source": check_source,
        "execution_start": unix_secs(r.start),
        "execution_end": unix_secs(r.end),
    });
    if let Some(ttl) = ttl {
        body["ttl"] = json!(ttl.as_secs());
    }
    body
}

/// The reply body quoted in one line for a log message.
fn quote_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    printable(text.trim().as_bytes(), BODY_QUOTE)
}

/// Whether Icinga took the result: a 2xx reply whose `results` are all 2xx. A refused
/// login (401, 403) or an Icinga not ready (503) is worth another attempt; any other
/// answer rejects this result. Errors quote the reply.
pub fn check_reply(status: u16, body: &[u8]) -> Result<(), Failure> {
    if !(200..300).contains(&status) {
        let e = format!("HTTP {status}: {}", quote_body(body));
        return Err(match status {
            401 | 403 | 503 => Failure::Retry(e),
            _ => Failure::Reject(e),
        });
    }
    let reject =
        |what: &str| Failure::Reject(format!("HTTP {status} {what}: {}", quote_body(body)));
    let parsed: Value =
        serde_json::from_slice(body).map_err(|_| reject("with a reply that is not JSON"))?;
    let results = parsed["results"]
        .as_array()
        .ok_or_else(|| reject("without results"))?;
    if results.is_empty() {
        return Err(reject("but no object found"));
    }
    for r in results {
        let code = r["code"].as_f64().unwrap_or(0.0);
        if !(200.0..300.0).contains(&code) {
            return Err(Failure::Reject(format!(
                "code {code}: {}",
                r["status"].as_str().unwrap_or("")
            )));
        }
    }
    Ok(())
}

/// The `Host` header: the host and port, an IPv6 address in brackets.
fn authority(host: &str, port: u16) -> String {
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The basic authentication header value.
fn basic_auth(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

fn read_password(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("password_file {}: {e}", path.display()))?;
    let password = text.lines().next().unwrap_or("").to_string();
    if password.is_empty() {
        return Err(format!("password_file {}: empty", path.display()));
    }
    Ok(password)
}

/// The TLS client configuration: the server verified against `ca_file`, with the
/// client certificate when one is configured.
fn tls_config(cfg: &Icinga2Config) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for c in load_certs(&cfg.ca_file)? {
        roots
            .add(c)
            .map_err(|e| format!("ca_file {}: {e}", cfg.ca_file.display()))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots);
    match (&cfg.client_cert, &cfg.client_key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|e| {
                format!(
                    "client_cert {} with client_key {}: {e}",
                    cert.display(),
                    key.display()
                )
            }),
        (None, None) => Ok(builder.with_no_client_auth()),
        (Some(_), None) => Err("client_cert needs client_key".into()),
        (None, Some(_)) => Err("client_key needs client_cert".into()),
    }
}

/// Settings checked, files read, and the connection kept between deliveries.
struct Session {
    host: String,
    port: u16,
    server_name: ServerName<'static>,
    tls: Arc<rustls::ClientConfig>,
    authorization: Option<String>,
    ttl: Option<Duration>,
    check_source: String,
    timeout: Duration,
    conn: Option<Conn>,
}

impl Session {
    /// Checks the settings and reads the password, CA and client certificate files.
    fn new(cfg: &Icinga2Config) -> Result<Session, String> {
        let authorization = match (&cfg.username, &cfg.password_file) {
            (Some(user), Some(file)) => Some(basic_auth(user, &read_password(file)?)),
            (None, None) => None,
            (Some(_), None) => return Err("username needs password_file".into()),
            (None, Some(_)) => return Err("password_file needs username".into()),
        };
        if authorization.is_none() && cfg.client_cert.is_none() {
            return Err(
                "no authentication: set username and password_file, or client_cert and client_key"
                    .into(),
            );
        }
        let name = cfg.server_name.as_deref().unwrap_or(&cfg.host);
        let server_name = ServerName::try_from(name.to_string())
            .map_err(|_| format!("'{name}' is not a valid TLS server name"))?;
        let check_source = cfg
            .check_source
            .clone()
            .unwrap_or_else(hcoop_plugins::proto::smtp::local_hostname);
        Ok(Session {
            host: cfg.host.clone(),
            port: cfg.port,
            server_name,
            tls: Arc::new(tls_config(cfg)?),
            authorization,
            ttl: cfg.ttl,
            check_source,
            timeout: cfg.timeout.unwrap_or(DEFAULT_TIMEOUT),
            conn: None,
        })
    }

    /// Posts one result within the timeout.
    async fn deliver(&mut self, r: &Passive) -> Result<(), Failure> {
        let body = request_body(r, &self.check_source, self.ttl).to_string();
        let outcome = match tokio::time::timeout(self.timeout, self.post(body.into_bytes())).await {
            Ok(Ok(reply)) => check_reply(reply.status, &reply.body),
            Ok(Err(e)) => Err(Failure::Retry(e)),
            Err(_) => {
                self.conn = None;
                Err(Failure::Retry(format!(
                    "no answer within {}s",
                    self.timeout.as_secs_f64()
                )))
            }
        };
        let place = format!("Icinga 2 at {}:{}", self.host, self.port);
        outcome.map_err(|f| match f {
            Failure::Retry(e) => Failure::Retry(format!("{place}: {e}")),
            Failure::Reject(e) => Failure::Reject(format!("{place}: {e}")),
        })
    }

    /// Sends the request over the kept connection, or a new one; a kept connection
    /// that fails (closed by the server while idle) is replaced once.
    async fn post(&mut self, body: Vec<u8>) -> Result<Response, String> {
        let mut headers = vec![
            ("Connection".to_string(), "keep-alive".to_string()),
            ("Accept".to_string(), "application/json".to_string()),
            ("Content-Type".to_string(), "application/json".to_string()),
            (
                "User-Agent".to_string(),
                concat!("hcoop-monitor/", env!("CARGO_PKG_VERSION")).to_string(),
            ),
        ];
        if let Some(a) = &self.authorization {
            headers.push(("Authorization".to_string(), a.clone()));
        }
        let req = Request {
            method: "POST".into(),
            host: authority(&self.host, self.port),
            target: PATH.into(),
            headers,
            body: Some(body),
            http10: false,
        };
        let reused = self.conn.is_some();
        match self.exchange(&req).await {
            Err(_) if reused => self.exchange(&req).await,
            other => other,
        }
    }

    /// One exchange on the kept connection (opened if there is none); the connection
    /// is kept only after a complete reply that does not close it.
    async fn exchange(&mut self, req: &Request) -> Result<Response, String> {
        let mut conn = match self.conn.take() {
            Some(c) => c,
            None => self.open().await?,
        };
        let (reply, _) = exchange(&mut conn, req, BODY_LIMIT).await?;
        let closing = reply
            .header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
        if !closing && !reply.truncated {
            self.conn = Some(conn);
        }
        Ok(reply)
    }

    async fn open(&self) -> Result<Conn, String> {
        let tcp = connect(&self.host, self.port, Family::Any)
            .await
            .map_err(|e| e.to_string())?;
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(self.server_name.clone(), tcp.stream)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        Ok(Conn::Tls(Box::new(tls)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn sample(service: Option<&str>, code: i32) -> Passive {
        let outcome = crate::exec::Outcome::printed(
            hcoop_plugins::plugin::State::from_exit_code(code),
            "LOAD WARNING - load average: 3.00 | load1=3;2;4;0 'a b'=5ms\nline 2\n",
            UNIX_EPOCH + Duration::from_millis(1_700_000_000_250),
            Duration::from_millis(1_250),
        );
        Passive::new("web\"1", service, code, &outcome)
    }

    #[test]
    fn service_body() {
        let body = request_body(
            &sample(Some("load && 1"), 1),
            "mon1",
            Some(Duration::from_secs(300)),
        );
        assert_eq!(
            body,
            json!({
                "type": "Service",
                "filter": "host.name == hcoop_host && service.name == hcoop_service",
                "filter_vars": {"hcoop_host": "web\"1", "hcoop_service": "load && 1"},
                "exit_status": 1,
                "plugin_output": "LOAD WARNING - load average: 3.00\nline 2",
                "performance_data": ["load1=3;2;4;0", "'a b'=5ms"],
                "check_source": "mon1",
                "execution_start": 1_700_000_000.25,
                "execution_end": 1_700_000_001.5,
                "ttl": 300,
            })
        );
    }

    #[test]
    fn host_body_without_ttl() {
        let body = request_body(&sample(None, 0), "mon1", None);
        assert_eq!(body["type"], "Host");
        assert_eq!(body["filter"], "host.name == hcoop_host");
        assert_eq!(body["filter_vars"], json!({"hcoop_host": "web\"1"}));
        assert_eq!(body["exit_status"], 0);
        assert!(body.get("ttl").is_none());
        // DOWN and UNREACHABLE are both DOWN to Icinga
        assert_eq!(request_body(&sample(None, 1), "m", None)["exit_status"], 1);
        assert_eq!(request_body(&sample(None, 2), "m", None)["exit_status"], 1);
        // a service keeps its code
        assert_eq!(
            request_body(&sample(Some("s"), 3), "m", None)["exit_status"],
            3
        );
    }

    #[test]
    fn replies() {
        let ok = br#"{"results":[{"code":200.0,"status":"Successfully processed check result for object 'h!s'."}]}"#;
        assert_eq!(check_reply(200, ok), Ok(()));
        assert_eq!(
            check_reply(404, br#"{"error":404,"status":"No objects found."}"#),
            Err(Failure::Reject(
                r#"HTTP 404: {"error":404,"status":"No objects found."}"#.into()
            ))
        );
        assert_eq!(
            check_reply(
                401,
                br#"{"error":401,"status":"Unauthorized. Please check your user credentials."}"#
            ),
            Err(Failure::Retry(
                r#"HTTP 401: {"error":401,"status":"Unauthorized. Please check your user credentials."}"#
                    .into()
            ))
        );
        assert!(matches!(check_reply(403, b"{}"), Err(Failure::Retry(_))));
        assert!(matches!(check_reply(503, b""), Err(Failure::Retry(_))));
        // Icinga 2.13 answers a filter matching nothing this way
        assert_eq!(
            check_reply(500, br#"{"results":[]}"#),
            Err(Failure::Reject(r#"HTTP 500: {"results":[]}"#.into()))
        );
        assert_eq!(
            check_reply(200, br#"{"results":[]}"#),
            Err(Failure::Reject(
                r#"HTTP 200 but no object found: {"results":[]}"#.into()
            ))
        );
        assert_eq!(
            check_reply(
                200,
                br#"{"results":[{"code":400,"status":"Attribute 'exit_status' must be set."}]}"#
            ),
            Err(Failure::Reject(
                "code 400: Attribute 'exit_status' must be set.".into()
            ))
        );
        assert_eq!(
            check_reply(200, b"<html>"),
            Err(Failure::Reject(
                "HTTP 200 with a reply that is not JSON: <html>".into()
            ))
        );
    }

    fn config(extra: &str) -> Result<Icinga2Config, toml::de::Error> {
        toml::from_str(&format!("host = \"icinga.test\"\n{extra}"))
    }

    #[test]
    fn settings() {
        let c = config("").unwrap();
        assert_eq!(c.port, 5665);
        assert_eq!(c.ca_file, PathBuf::from(DEFAULT_CA_FILE));
        assert_eq!(c.ttl, None);
        let c = config("ttl = \"5m\"\ntimeout = \"3s\"\nport = 15665\nqueue_size = 10").unwrap();
        assert_eq!(c.ttl, Some(Duration::from_secs(300)));
        assert_eq!(c.timeout, Some(Duration::from_secs(3)));
        assert_eq!(c.port, 15665);
        assert_eq!(c.settings.queue_size, Some(10));
        assert!(config("password = \"x\"").is_err());
    }

    #[test]
    fn bad_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let err = |extra: String| Session::new(&config(&extra).unwrap()).err().unwrap();
        assert_eq!(
            err(String::new()),
            "no authentication: set username and password_file, or client_cert and client_key"
        );
        assert_eq!(
            err("username = \"u\"".into()),
            "username needs password_file"
        );
        assert_eq!(
            err(format!(
                "username = \"u\"\npassword_file = \"{}\"",
                empty.display()
            )),
            format!("password_file {}: empty", empty.display())
        );
        let missing = dir.path().join("missing");
        assert!(err(format!(
            "username = \"u\"\npassword_file = \"{}\"",
            missing.display()
        ))
        .starts_with(&format!("password_file {}: ", missing.display())));
        assert_eq!(
            err(format!(
                "username = \"u\"\npassword_file = \"{}\"\nclient_key = \"{}\"",
                missing.display(),
                missing.display()
            )),
            format!(
                "password_file {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
    }

    #[test]
    fn host_header() {
        assert_eq!(authority("icinga.test", 5665), "icinga.test:5665");
        assert_eq!(authority("127.0.0.1", 15665), "127.0.0.1:15665");
        assert_eq!(authority("::1", 5665), "[::1]:5665");
    }

    #[test]
    fn basic_auth_header() {
        assert_eq!(basic_auth("root", "icinga"), "Basic cm9vdDppY2luZ2E=");
    }
}
