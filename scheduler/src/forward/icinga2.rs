//! The Icinga 2 sink: every result becomes a passive check result posted to the
//! Icinga 2 REST API (`POST /v1/actions/process-check-result`, HTTPS, port 5665).
//!
//! The server is verified against a configured CA (Icinga's own CA,
//! `/var/lib/icinga2/certs/ca.crt` by default) under a configurable name, because
//! Icinga names its certificates after the node rather than the address it listens on.
//! The sink authenticates with basic auth (the password read from a file, never from
//! the main configuration) or a client certificate. One TLS connection is kept open
//! and reused for every result (HTTP/1.1 keep-alive), so a steady stream of results
//! costs no handshake each; a reused connection the server has closed in the meantime
//! is replaced once, transparently.
//!
//! Host and service names go to Icinga as `filter_vars`, never spliced into the
//! filter expression, so a name with quotes or operators cannot change the filter.

use base64::Engine;
use hcoop_plugins::checks::httpclient::{exchange, Request, Response};
use hcoop_plugins::checks::netio::{connect, printable, Conn, Family};
use hcoop_plugins::checks::nrpe_client::{load_certs, load_key};
use hcoop_plugins::plugin::{PerfData, State};
use rustls_pki_types::ServerName;
use serde::Deserialize;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The Icinga 2 API port.
pub const DEFAULT_PORT: u16 = 5665;
/// Where an Icinga 2 node keeps its CA certificate.
pub const DEFAULT_CA_FILE: &str = "/var/lib/icinga2/certs/ca.crt";
/// How long one submission may take (connect, TLS, request and answer).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The API path of passive results.
pub const PATH: &str = "/v1/actions/process-check-result";
/// The most of a reply body quoted in an error message.
const BODY_QUOTE: usize = 500;
/// The most of a reply body read.
const BODY_LIMIT: usize = 64 * 1024;

fn default_port() -> u16 {
    DEFAULT_PORT
}

fn default_ca_file() -> PathBuf {
    PathBuf::from(DEFAULT_CA_FILE)
}

/// `[forward.icinga2]` as written in the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Icinga2Config {
    /// The Icinga 2 node's name or address to connect to.
    pub host: String,
    /// The API port (5665).
    #[serde(default = "default_port")]
    pub port: u16,
    /// The name the server certificate must carry (default: `host`); Icinga names a
    /// node's certificate after the node (its NodeName).
    pub server_name: Option<String>,
    /// The CA certificate(s) the server certificate must chain to (PEM).
    #[serde(default = "default_ca_file")]
    pub ca_file: PathBuf,
    /// The ApiUser for basic authentication; needs `password_file`.
    pub username: Option<String>,
    /// A file holding the ApiUser's password (its first line).
    pub password_file: Option<PathBuf>,
    /// A client certificate (PEM) for an ApiUser with `client_cn`; needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
    /// How long a result stays valid: without a newer one within the ttl, Icinga sets
    /// the object UNKNOWN. Unset: no ttl.
    #[serde(default, with = "crate::config::opt_duration")]
    pub ttl: Option<Duration>,
    /// The `check_source` Icinga shows (default: this machine's host name).
    pub check_source: Option<String>,
    /// How long one submission may take (default 10 s).
    #[serde(default, with = "crate::config::opt_duration")]
    pub timeout: Option<Duration>,
}

/// One result to submit.
#[derive(Debug, Clone, PartialEq)]
pub struct Passive<'a> {
    /// The Icinga host name.
    pub host: &'a str,
    /// The Icinga service name; `None` for a host check result.
    pub service: Option<&'a str>,
    pub state: State,
    /// The plugin text as printed (first line, long output, perfdata).
    pub output: &'a str,
    pub perfdata: &'a [PerfData],
    /// When the check started and ended.
    pub start: SystemTime,
    pub end: SystemTime,
}

/// The plugin text without its perfdata: the first line up to `|`, then the long
/// output up to the first `|` on a later line (after which everything is perfdata).
pub fn text_without_perfdata(output: &str) -> String {
    let mut lines = output.lines();
    let mut out = String::new();
    if let Some(first) = lines.next() {
        out.push_str(first.split('|').next().unwrap_or("").trim_end());
    }
    for line in lines {
        out.push('\n');
        match line.split_once('|') {
            Some((before, _)) => {
                out.push_str(before.trim_end());
                break;
            }
            None => out.push_str(line),
        }
    }
    out.trim_end().to_string()
}

fn unix_secs(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The JSON body of `process-check-result` for one result.
pub fn request_body(r: &Passive<'_>, check_source: &str, ttl: Option<Duration>) -> Value {
    let (kind, filter, vars) = match r.service {
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
    let mut body = json!({
        "type": kind,
        "filter": filter,
        "filter_vars": vars,
        "exit_status": r.state.exit_code(),
        "plugin_output": text_without_perfdata(r.output),
        "performance_data": r.perfdata.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "check_source": check_source,
        "execution_start": unix_secs(r.start),
        "execution_end": unix_secs(r.end),
    });
    if let Some(ttl) = ttl {
        body["ttl"] = json!(ttl.as_secs().max(1));
    }
    body
}

/// The reply body quoted in one line for a log message.
fn quote_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    printable(text.trim().as_bytes(), BODY_QUOTE)
}

/// Whether Icinga accepted the result: a 2xx reply whose `results` are all 2xx.
/// Anything else is an error that quotes the reply body.
pub fn check_reply(status: u16, body: &[u8]) -> Result<(), String> {
    if !(200..300).contains(&status) {
        return Err(format!("HTTP {status}: {}", quote_body(body)));
    }
    let parsed: Value = serde_json::from_slice(body).map_err(|_| {
        format!(
            "HTTP {status} with a reply that is not JSON: {}",
            quote_body(body)
        )
    })?;
    let results = parsed["results"]
        .as_array()
        .ok_or_else(|| format!("HTTP {status} without results: {}", quote_body(body)))?;
    if results.is_empty() {
        return Err(format!("no objects found: {}", quote_body(body)));
    }
    for r in results {
        let code = r["code"].as_f64().unwrap_or(0.0);
        if !(200.0..300.0).contains(&code) {
            return Err(format!(
                "code {code}: {}",
                r["status"].as_str().unwrap_or("")
            ));
        }
    }
    Ok(())
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
        _ => Err("client_cert and client_key go together".into()),
    }
}

/// A ready sink: settings checked, files read, and the connection kept between
/// submissions.
pub struct Icinga2Sink {
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

impl std::fmt::Debug for Icinga2Sink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Icinga2Sink")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("server_name", &self.server_name)
            .field("connected", &self.conn.is_some())
            .finish_non_exhaustive()
    }
}

impl Icinga2Sink {
    /// Checks the settings and reads the password, CA and client certificate files.
    pub fn new(cfg: &Icinga2Config) -> Result<Icinga2Sink, String> {
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
            .unwrap_or_else(hcoop_plugins::checks::smtp::local_hostname);
        Ok(Icinga2Sink {
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

    /// Posts one result; an error says what failed (quoting Icinga's reply).
    pub async fn submit(&mut self, r: &Passive<'_>) -> Result<(), String> {
        let body = request_body(r, &self.check_source, self.ttl).to_string();
        let what = match r.service {
            Some(s) => format!("{}/{s}", r.host),
            None => r.host.to_string(),
        };
        let outcome = match tokio::time::timeout(self.timeout, self.post(body.into_bytes())).await {
            Ok(Ok(reply)) => check_reply(reply.status, &reply.body),
            Ok(Err(e)) => Err(e),
            Err(_) => {
                self.conn = None;
                Err(format!(
                    "no answer from {}:{} within {}s",
                    self.host,
                    self.port,
                    self.timeout.as_secs_f64()
                ))
            }
        };
        outcome.map_err(|e| {
            format!(
                "Icinga 2 at {}:{}: result of {what} not accepted: {e}",
                self.host, self.port
            )
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
            host: format!("{}:{}", self.host, self.port),
            target: PATH.into(),
            headers,
            body: Some(body),
        };
        let reused = self.conn.is_some();
        let reply = match self.exchange(&req).await {
            Err(_) if reused => self.exchange(&req).await,
            other => other,
        };
        if reply.is_err() {
            self.conn = None;
        }
        reply
    }

    /// One exchange on the kept connection (opened if there is none); the connection
    /// is dropped after an error or when the server closes it.
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
    use hcoop_plugins::plugin::perfdata::Uom;

    #[test]
    fn perfdata_is_cut_from_the_text() {
        assert_eq!(
            text_without_perfdata("LOAD OK - load 0.1 | load1=0.1;2;4\n"),
            "LOAD OK - load 0.1"
        );
        assert_eq!(
            text_without_perfdata("DISK OK | a=1\n/ 10%\n/var 20% | b=2\nc=3\n"),
            "DISK OK\n/ 10%\n/var 20%"
        );
        assert_eq!(
            text_without_perfdata("X CRITICAL - down"),
            "X CRITICAL - down"
        );
        assert_eq!(text_without_perfdata(""), "");
    }

    fn sample<'a>(service: Option<&'a str>, perf: &'a [PerfData]) -> Passive<'a> {
        Passive {
            host: "web\"1",
            service,
            state: State::Warning,
            output: "LOAD WARNING - load average: 3.00 | load1=3;2;4;0\nline 2\n",
            perfdata: perf,
            start: UNIX_EPOCH + Duration::from_millis(1_700_000_000_250),
            end: UNIX_EPOCH + Duration::from_millis(1_700_000_001_500),
        }
    }

    #[test]
    fn service_body() {
        let perf = [
            PerfData::new("load1", 3).min(0),
            PerfData::new("a b", 5).uom(Uom::Millis),
        ];
        let body = request_body(
            &sample(Some("load && 1"), &perf),
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
                "performance_data": ["load1=3;;;0", "'a b'=5ms"],
                "check_source": "mon1",
                "execution_start": 1_700_000_000.25,
                "execution_end": 1_700_000_001.5,
                "ttl": 300,
            })
        );
    }

    #[test]
    fn host_body_without_ttl() {
        let body = request_body(&sample(None, &[]), "mon1", None);
        assert_eq!(body["type"], "Host");
        assert_eq!(body["filter"], "host.name == hcoop_host");
        assert_eq!(body["filter_vars"], json!({"hcoop_host": "web\"1"}));
        assert_eq!(body["performance_data"], json!([]));
        assert!(body.get("ttl").is_none());
    }

    #[test]
    fn replies() {
        let ok = br#"{"results":[{"code":200.0,"status":"Successfully processed check result for object 'h!s'."}]}"#;
        assert_eq!(check_reply(200, ok), Ok(()));
        assert_eq!(
            check_reply(404, br#"{"error":404,"status":"No objects found."}"#),
            Err(r#"HTTP 404: {"error":404,"status":"No objects found."}"#.into())
        );
        assert_eq!(
            check_reply(
                401,
                br#"{"error":401,"status":"Unauthorized. Please check your user credentials."}"#
            ),
            Err(
                r#"HTTP 401: {"error":401,"status":"Unauthorized. Please check your user credentials."}"#
                    .into()
            )
        );
        assert_eq!(
            check_reply(500, br#"{"results":[]}"#),
            Err(r#"HTTP 500: {"results":[]}"#.into())
        );
        assert_eq!(
            check_reply(200, br#"{"results":[]}"#),
            Err(r#"no objects found: {"results":[]}"#.into())
        );
        assert_eq!(
            check_reply(
                200,
                br#"{"results":[{"code":400,"status":"Attribute 'exit_status' must be set."}]}"#
            ),
            Err("code 400: Attribute 'exit_status' must be set.".into())
        );
        assert_eq!(
            check_reply(200, b"<html>"),
            Err("HTTP 200 with a reply that is not JSON: <html>".into())
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
        let c = config("ttl = \"5m\"\ntimeout = \"3s\"\nport = 15665").unwrap();
        assert_eq!(c.ttl, Some(Duration::from_secs(300)));
        assert_eq!(c.timeout, Some(Duration::from_secs(3)));
        assert_eq!(c.port, 15665);
        assert!(config("password = \"x\"").is_err());
    }

    #[test]
    fn bad_settings_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let err = |extra: String| Icinga2Sink::new(&config(&extra).unwrap()).unwrap_err();
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
    }

    #[test]
    fn basic_auth_header() {
        assert_eq!(basic_auth("root", "icinga"), "Basic cm9vdDppY2luZ2E=");
    }
}
