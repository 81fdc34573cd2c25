//! The TLS client every TLS check shares (HTTP, SMTP, IMAP, FTP, XMPP): rustls with the
//! ring provider, the Mozilla roots (or `--ca-cert FILE`), verification on unless
//! `--insecure`. The handshake records the server's chain and the verification error
//! even when verification fails, so a certificate's expiry date can be reported when it
//! has already expired or names another host. Works on a fresh connection or on one
//! upgraded with STARTTLS.

use crate::plugin::{State, UsageError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;

/// TLS options shared by the TLS checks.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsArgs {
    /// Do not verify the server's certificate chain and name
    #[arg(long = "insecure")]
    pub insecure: bool,

    /// Trust the CA certificates in FILE (PEM) instead of the built-in Mozilla roots
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Option<std::path::PathBuf>,
}

/// Days left on the certificate that make the result WARNING and CRITICAL:
/// `WARN[,CRIT]` (CRIT defaults to 0: only an expired certificate is CRITICAL).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CertDays {
    pub warn: u32,
    pub crit: u32,
}

impl FromStr for CertDays {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let num = |t: &str| {
            t.trim()
                .parse::<u32>()
                .map_err(|_| format!("'{t}' is not a number of days"))
        };
        let (warn, crit) = match s.split_once(',') {
            Some((w, c)) => (num(w)?, num(c)?),
            None => (num(s)?, 0),
        };
        // CRIT above WARN is accepted as monitoring-plugins does: fewer than CRIT days
        // left is CRITICAL whatever WARN says
        Ok(CertDays { warn, crit })
    }
}

/// What the verifier saw: the chain, and why verification failed.
#[derive(Debug, Default)]
struct Seen {
    chain: Vec<CertificateDer<'static>>,
    error: Option<String>,
}

/// What a server certificate is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Its chain to a trusted root, and the host name (the default).
    ChainAndName,
    /// Its chain only; a name mismatch is accepted (check_nrpe's `-A`: `-H` is often an
    /// address the certificate does not name).
    ChainOnly,
    /// Nothing (`--insecure`, check_nrpe without `-A`, libpq's sslmode prefer/require):
    /// only the handshake signatures are checked.
    Nothing,
}

/// The one server certificate verifier of every TLS client here: webpki against a
/// root store (shared, see [`mozilla_verifier`]), checking what [`Verify`] says, and
/// recording the chain and the reason verification failed when asked to
/// ([`Verifier::recording`]).
#[derive(Debug)]
pub struct Verifier {
    mode: Verify,
    webpki: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
    seen: Option<Arc<Mutex<Seen>>>,
}

impl Verifier {
    /// A verifier of `mode` against `roots` (not used with [`Verify::Nothing`]).
    pub fn new(mode: Verify, roots: Option<Arc<WebPkiServerVerifier>>) -> Self {
        Verifier {
            webpki: if mode == Verify::Nothing { None } else { roots },
            mode,
            provider: provider(),
            seen: None,
        }
    }

    /// Accepts any certificate (the handshake signatures are still checked).
    pub fn accept_any() -> Self {
        Self::new(Verify::Nothing, None)
    }

    /// Records the chain and the verification error in `seen`.
    fn recording(mut self, seen: Arc<Mutex<Seen>>) -> Self {
        self.seen = Some(seen);
        self
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut seen = self
            .seen
            .as_ref()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()));
        if let Some(seen) = seen.as_mut() {
            seen.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
        }
        let r = match (self.mode, &self.webpki) {
            (Verify::Nothing, _) => Ok(ServerCertVerified::assertion()),
            // a verifying mode without roots trusts nothing
            (_, None) => Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            )),
            (mode, Some(w)) => match w.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ) {
                Err(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::NotValidForName
                    | rustls::CertificateError::NotValidForNameContext { .. },
                )) if mode == Verify::ChainOnly => Ok(ServerCertVerified::assertion()),
                other => other,
            },
        };
        if let (Err(e), Some(seen)) = (&r, seen.as_mut()) {
            seen.error = Some(describe_error(e));
        }
        r
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The ring crypto provider, built once per process.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}

/// The Mozilla root store, built once per process on first use.
pub fn mozilla_roots() -> Arc<RootCertStore> {
    static ROOTS: OnceLock<Arc<RootCertStore>> = OnceLock::new();
    ROOTS
        .get_or_init(|| {
            let mut roots = RootCertStore::empty();
            roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            Arc::new(roots)
        })
        .clone()
}

/// A webpki verifier over `roots` with the shared provider.
fn webpki(roots: Arc<RootCertStore>) -> Result<Arc<WebPkiServerVerifier>, String> {
    WebPkiServerVerifier::builder_with_provider(roots, provider())
        .build()
        .map_err(|e| format!("cannot build the TLS verifier: {e}"))
}

/// The webpki verifier over the Mozilla roots, built once per process on first use.
pub fn mozilla_verifier() -> Arc<WebPkiServerVerifier> {
    static VERIFIER: OnceLock<Arc<WebPkiServerVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            webpki(mozilla_roots())
                .unwrap_or_else(|e| unreachable!("the built-in roots are not empty: {e}"))
        })
        .clone()
}

/// The webpki verifier trusting the certificates of a PEM file (`--ca-cert`). Reads the
/// file; checks given the same file contents share one root store and verifier while
/// any of them holds it. Errors name the file: `--ca-cert FILE: why`.
pub fn ca_file_verifier(path: &Path) -> Result<Arc<WebPkiServerVerifier>, String> {
    type Shared = HashMap<Vec<u8>, Weak<WebPkiServerVerifier>>;
    static SHARED: OnceLock<Mutex<Shared>> = OnceLock::new();
    let bad = |e: String| format!("--ca-cert {}: {e}", path.display());
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let shared = SHARED.get_or_init(Default::default);
    if let Some(v) = shared
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&pem)
        .and_then(Weak::upgrade)
    {
        return Ok(v);
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))?;
    if certs.is_empty() {
        return Err(bad("no PEM certificate in the file".into()));
    }
    let mut roots = RootCertStore::empty();
    let (_, rejected) = roots.add_parsable_certificates(certs);
    if rejected > 0 {
        return Err(bad(format!(
            "{rejected} certificate(s) could not be parsed"
        )));
    }
    let v = webpki(Arc::new(roots))?;
    let mut map = shared.lock().unwrap_or_else(|e| e.into_inner());
    map.retain(|_, w| w.strong_count() > 0);
    map.insert(pem, Arc::downgrade(&v));
    Ok(v)
}

/// A short reason for a verification error.
fn describe_error(e: &rustls::Error) -> String {
    use rustls::CertificateError as C;
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::Expired | C::ExpiredContext { .. } => "certificate has expired".into(),
            C::NotValidYet | C::NotValidYetContext { .. } => "certificate is not valid yet".into(),
            C::NotValidForName | C::NotValidForNameContext { .. } => {
                "certificate does not match the host name".into()
            }
            C::UnknownIssuer => "certificate issuer is not trusted".into(),
            C::BadSignature => "certificate has a bad signature".into(),
            C::Revoked => "certificate is revoked".into(),
            other if format!("{other:?}").contains("CaUsedAsEndEntity") => {
                "the server's certificate is a CA certificate".into()
            }
            other => format!("invalid certificate: {other:?}"),
        },
        other => other.to_string(),
    }
}

/// Whose certificates a [`TlsSettings`] trusts.
#[derive(Debug, Clone)]
enum Trust {
    /// `--insecure`: anyone's.
    Anyone,
    /// The Mozilla roots (the process-wide verifier, taken at the first handshake).
    Mozilla,
    /// `--ca-cert`: the certificates of a file.
    CaFile(Arc<WebPkiServerVerifier>),
}

/// The trust settings of a check, shared by every connection. Cheap: without
/// `--ca-cert` it holds no root store and builds nothing until the first handshake,
/// which takes the process-wide one ([`mozilla_verifier`]).
#[derive(Debug, Clone)]
pub struct TlsSettings {
    trust: Trust,
    versions: &'static [&'static rustls::SupportedProtocolVersion],
    /// A client certificate chain and its key, offered when the server asks.
    client: Option<Arc<ClientIdentity>>,
    /// The application protocols offered by ALPN, preferred first (none by default).
    alpn: &'static [&'static [u8]],
}

/// A client certificate chain and its private key (`-J`/`-K` of check_http).
#[derive(Debug)]
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

impl ClientIdentity {
    /// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1); the
    /// key may be in the certificate file when `key` is `None`. The error names the file.
    pub fn from_files(cert: &Path, key: Option<&Path>) -> Result<Self, String> {
        let cert_pem =
            read_identity_file(cert).map_err(|e| format!("-J {}: {e}", cert.display()))?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("-J {}: {e}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!(
                "-J {}: no PEM certificate in the file",
                cert.display()
            ));
        }
        let (key_pem, key_path) = match key {
            Some(k) => (
                read_identity_file(k).map_err(|e| format!("-K {}: {e}", k.display()))?,
                k,
            ),
            None => (cert_pem, cert),
        };
        let key = rustls::pki_types::PrivateKeyDer::from_pem_slice(&key_pem)
            .map_err(|e| format!("-K {}: no usable PEM private key: {e}", key_path.display()))?;
        Ok(ClientIdentity { chain, key })
    }
}

/// The longest client certificate or key file read (`-J`, `-K`).
const MAX_IDENTITY_FILE: u64 = 1 << 20;

/// A `-J`/`-K` file: a regular file of at most [`MAX_IDENTITY_FILE`] bytes (a member's
/// `-J /dev/zero` or FIFO must neither exhaust memory nor hang the check).
fn read_identity_file(path: &Path) -> std::io::Result<Vec<u8>> {
    crate::plugin::regular_file::read_regular(path, MAX_IDENTITY_FILE)
}

impl TlsSettings {
    /// Reads `--ca-cert` (if given) and builds its verifier; a bad file is a usage
    /// error. Without `--ca-cert`, reads and builds nothing.
    pub fn new(args: &TlsArgs) -> Result<Self, UsageError> {
        let trust = if args.insecure {
            Trust::Anyone
        } else {
            match &args.ca_cert {
                Some(path) => Trust::CaFile(ca_file_verifier(path).map_err(UsageError)?),
                None => Trust::Mozilla,
            }
        };
        Ok(TlsSettings {
            trust,
            versions: rustls::DEFAULT_VERSIONS,
            client: None,
            alpn: &[],
        })
    }

    /// Offers this client certificate when the server asks for one.
    pub fn with_client_identity(mut self, id: ClientIdentity) -> Self {
        self.client = Some(Arc::new(id));
        self
    }

    /// Offers these application protocols by ALPN (the server picks one or none).
    pub fn with_alpn(mut self, protocols: &'static [&'static [u8]]) -> Self {
        self.alpn = protocols;
        self
    }

    /// Offers only these protocol versions.
    pub fn with_versions(
        mut self,
        versions: &'static [&'static rustls::SupportedProtocolVersion],
    ) -> Self {
        self.versions = versions;
        self
    }

    /// True when certificates are verified.
    pub fn verifies(&self) -> bool {
        !matches!(self.trust, Trust::Anyone)
    }

    /// The verifier of these settings (name and chain, or nothing).
    pub fn verifier(&self) -> Verifier {
        match &self.trust {
            Trust::Anyone => Verifier::accept_any(),
            Trust::Mozilla => Verifier::new(Verify::ChainAndName, Some(mozilla_verifier())),
            Trust::CaFile(v) => Verifier::new(Verify::ChainAndName, Some(v.clone())),
        }
    }

    /// Runs a TLS handshake over `stream` for the server name `sni`.
    pub async fn handshake<S>(&self, stream: S, sni: &str) -> Handshake<S>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let seen = Arc::new(Mutex::new(Seen::default()));
        let verifier = Arc::new(self.verifier().recording(seen.clone()));
        let start = Instant::now();
        let config = ClientConfig::builder_with_provider(provider())
            .with_protocol_versions(self.versions)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                let b = b.dangerous().with_custom_certificate_verifier(verifier);
                match &self.client {
                    None => Ok(b.with_no_client_auth()),
                    Some(id) => b
                        .with_client_auth_cert(id.chain.clone(), id.key.clone_key())
                        .map_err(|e| format!("client certificate: {e}")),
                }
            });
        let stream = match (config, server_name(sni)) {
            (Ok(mut config), Ok(name)) => {
                config.alpn_protocols = self.alpn.iter().map(|p| p.to_vec()).collect();
                tokio_rustls::TlsConnector::from(Arc::new(config))
                    .connect(name, stream)
                    .await
                    .map_err(|e| format!("TLS handshake failed: {}", short_io_error(&e)))
            }
            (Err(e), _) => Err(format!("TLS configuration: {e}")),
            (_, Err(e)) => Err(e),
        };
        let elapsed = start.elapsed();
        let seen = std::mem::take(&mut *seen.lock().unwrap_or_else(|e| e.into_inner()));
        Handshake {
            stream,
            chain: seen.chain,
            verify_error: seen.error,
            elapsed,
        }
    }
}

fn server_name(sni: &str) -> Result<ServerName<'static>, String> {
    let bare = sni.trim_start_matches('[').trim_end_matches(']');
    ServerName::try_from(bare.to_string()).map_err(|_| format!("'{sni}' is not a valid TLS name"))
}

/// The message of an I/O error from rustls without the error kind noise.
fn short_io_error(e: &std::io::Error) -> String {
    match e.get_ref() {
        Some(inner) => match inner.downcast_ref::<rustls::Error>() {
            Some(r) => describe_error(r),
            None => inner.to_string(),
        },
        None => e.to_string(),
    }
}

/// The outcome of a handshake: the stream (or why there is none), the server's chain
/// and the verification error, both recorded even when the handshake failed.
pub struct Handshake<S> {
    pub stream: Result<TlsStream<S>, String>,
    pub chain: Vec<CertificateDer<'static>>,
    pub verify_error: Option<String>,
    pub elapsed: Duration,
}

impl<S> Handshake<S> {
    /// The facts about the server certificate, for [`cert_state`].
    pub fn cert_facts(&self) -> CertFacts {
        CertFacts {
            leaf: self.chain.first().map(|c| cert_info(c)),
            verify_error: self.verify_error.clone(),
        }
    }
}

/// What the leaf certificate says.
#[derive(Debug, Clone, PartialEq)]
pub struct CertInfo {
    /// The subject's common name (or the whole subject when it has none).
    pub subject: String,
    pub issuer: String,
    /// The end of validity, seconds since the epoch.
    pub not_after: i64,
    /// DNS names in the subject alternative name extension.
    pub dns_names: Vec<String>,
}

/// The leaf certificate and the verification result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CertFacts {
    pub leaf: Option<Result<CertInfo, String>>,
    pub verify_error: Option<String>,
}

/// Parses the parts of a certificate the checks report.
pub fn cert_info(der: &[u8]) -> Result<CertInfo, String> {
    use x509_parser::prelude::*;
    let (_, cert) =
        X509Certificate::from_der(der).map_err(|e| format!("cannot parse certificate: {e}"))?;
    let cn = |name: &X509Name| {
        name.iter_common_name()
            .next()
            .and_then(|a| a.as_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| name.to_string())
    };
    let dns_names = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|g| match g {
                    GeneralName::DNSName(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(CertInfo {
        subject: cn(cert.subject()),
        issuer: cn(cert.issuer()),
        not_after: cert.validity().not_after.timestamp(),
        dns_names,
    })
}

/// `YYYY-MM-DD HH:MM:SS UTC` for seconds since the epoch.
pub fn format_utc(secs: i64) -> String {
    let c = crate::host::clock::civil_from_unix(secs);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// The state and text for a server certificate: CRITICAL when verification failed
/// (with the expiry date and the reason), or by the days left against `days`.
pub fn cert_state(facts: &CertFacts, days: Option<CertDays>, now: i64) -> (State, String) {
    let info = match &facts.leaf {
        None => {
            return (
                State::Critical,
                "the server sent no certificate".to_string(),
            )
        }
        Some(Err(e)) => return (State::Critical, e.clone()),
        Some(Ok(i)) => i,
    };
    let left = info.not_after - now;
    let days_left = left.div_euclid(86_400);
    let when = format_utc(info.not_after);
    if left < 0 {
        return (
            State::Critical,
            format!("certificate '{}' expired on {when}", info.subject),
        );
    }
    if let Some(e) = &facts.verify_error {
        return (
            State::Critical,
            format!(
                "certificate '{}' (expires {when}) failed verification: {e}",
                info.subject
            ),
        );
    }
    let state = match days {
        Some(d) if days_left < i64::from(d.crit) => State::Critical,
        Some(d) if days_left < i64::from(d.warn) => State::Warning,
        _ => State::Ok,
    };
    (
        state,
        format!(
            "certificate '{}' will expire on {when} ({days_left} days)",
            info.subject
        ),
    )
}

pub use crate::host::clock::unix_now;

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(not_after: i64, err: Option<&str>) -> CertFacts {
        CertFacts {
            leaf: Some(Ok(CertInfo {
                subject: "www.example.org".into(),
                issuer: "Test CA".into(),
                not_after,
                dns_names: vec![],
            })),
            verify_error: err.map(str::to_string),
        }
    }

    #[test]
    fn dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_700_000_000), "2023-11-14 22:13:20 UTC");
    }

    #[test]
    fn cert_days_parse() {
        assert_eq!(
            "30,7".parse::<CertDays>().unwrap(),
            CertDays { warn: 30, crit: 7 }
        );
        assert_eq!(
            "14".parse::<CertDays>().unwrap(),
            CertDays { warn: 14, crit: 0 }
        );
        // CRIT above WARN, as monitoring-plugins takes it: below 30 days is CRITICAL
        assert_eq!(
            "7,30".parse::<CertDays>().unwrap(),
            CertDays { warn: 7, crit: 30 }
        );
        assert!("x".parse::<CertDays>().is_err());
    }

    #[test]
    fn states() {
        let now = 1_700_000_000;
        let d = Some(CertDays { warn: 30, crit: 7 });
        let (s, t) = cert_state(&facts(now + 40 * 86_400, None), d, now);
        assert_eq!(s, State::Ok);
        assert_eq!(
            t,
            "certificate 'www.example.org' will expire on 2023-12-24 22:13:20 UTC (40 days)"
        );
        assert_eq!(
            cert_state(&facts(now + 20 * 86_400, None), d, now).0,
            State::Warning
        );
        assert_eq!(
            cert_state(&facts(now + 3 * 86_400, None), d, now).0,
            State::Critical
        );
        let (s, t) = cert_state(
            &facts(now - 86_400, Some("certificate has expired")),
            d,
            now,
        );
        assert_eq!(s, State::Critical);
        assert_eq!(
            t,
            "certificate 'www.example.org' expired on 2023-11-13 22:13:20 UTC"
        );
        let (s, t) = cert_state(
            &facts(
                now + 40 * 86_400,
                Some("certificate does not match the host name"),
            ),
            None,
            now,
        );
        assert_eq!(s, State::Critical);
        assert_eq!(t, "certificate 'www.example.org' (expires 2023-12-24 22:13:20 UTC) failed verification: certificate does not match the host name");
    }

    #[test]
    fn shared_things_are_built_once() {
        assert!(Arc::ptr_eq(&mozilla_roots(), &mozilla_roots()));
        assert!(Arc::ptr_eq(&mozilla_verifier(), &mozilla_verifier()));
        assert!(Arc::ptr_eq(&provider(), &provider()));
        // a check's settings without --ca-cert hold no root store: two words, two static
        // slices (versions, ALPN) and an optional shared client identity, whatever the
        // number of checks
        let t = TlsSettings::new(&TlsArgs::default()).unwrap();
        assert!(t.verifies());
        assert!(matches!(t.trust, Trust::Mozilla));
        assert!(t.client.is_none());
        assert!(std::mem::size_of::<TlsSettings>() <= 56);
        let insecure = TlsSettings::new(&TlsArgs {
            insecure: true,
            ca_cert: None,
        })
        .unwrap();
        assert!(!insecure.verifies());
    }

    /// A self-signed CA certificate (P-256, valid to 2126).
    const TEST_CA: &str = "-----BEGIN CERTIFICATE-----\nMIIBeTCCAR+gAwIBAgIUH32vy93FOW3UHjBqVElPkp7X84swCgYIKoZIzj0EAwIw\nETEPMA0GA1UEAwwGVGVzdENBMCAXDTI2MTIwNjA3MjAxMVoYDzIxMjYxMTEyMDcy\nMDExWjARMQ8wDQYDVQQDDAZUZXN0Q0EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC\nAAQO4OJ/+JDNBLF9iUqemX/G5xQSAt7R7CG249rqR+oHkPlZuQySDnUY/BhAG5Wv\nnoFbUyxRGkzgIasD1CGDSiEQo1MwUTAdBgNVHQ4EFgQUWhEZ4K2/dSAE1tA5hKYO\nC5RllhEwHwYDVR0jBBgwFoAUWhEZ4K2/dSAE1tA5hKYOC5RllhEwDwYDVR0TAQH/\nBAUwAwEB/zAKBggqhkjOPQQDAgNIADBFAiBerueRckZZ4d/t5rkooHr0uW8ZnGVz\nDYlaJFIf9fizkQIhAPY5lU9DOeIYk4iWi+Siy4dmclHbf7x+MbHQMJ+tK6dL\n-----END CERTIFICATE-----\n";

    #[test]
    fn ca_files_are_read_once_per_contents() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, empty) = (
            dir.path().join("a.pem"),
            dir.path().join("b.pem"),
            dir.path().join("empty.pem"),
        );
        std::fs::write(&a, TEST_CA).unwrap();
        std::fs::write(&b, TEST_CA).unwrap();
        let va = ca_file_verifier(&a).unwrap();
        // the same contents share one verifier while a check holds it
        assert!(Arc::ptr_eq(&va, &ca_file_verifier(&b).unwrap()));
        assert!(!Arc::ptr_eq(&va, &mozilla_verifier()));
        std::fs::write(&empty, "no certificate here\n").unwrap();
        assert_eq!(
            ca_file_verifier(&empty).unwrap_err(),
            format!(
                "--ca-cert {}: no PEM certificate in the file",
                empty.display()
            )
        );
        assert!(ca_file_verifier(Path::new("/nonexistent"))
            .unwrap_err()
            .starts_with("--ca-cert /nonexistent: "));
        let settings = TlsSettings::new(&TlsArgs {
            insecure: false,
            ca_cert: Some(a),
        })
        .unwrap();
        assert!(matches!(&settings.trust, Trust::CaFile(v) if Arc::ptr_eq(v, &va)));
    }

    #[test]
    fn client_identity_files_are_bounded_regular_files() {
        // a FIFO is refused at once instead of hanging the check
        let fifo = crate::plugin::regular_file::test_fifo("cert.pem");
        let started = std::time::Instant::now();
        assert_eq!(
            ClientIdentity::from_files(&fifo, None).unwrap_err(),
            format!("-J {}: not a regular file", fifo.display())
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // a file larger than 1 MiB is refused after reading 1 MiB + 1 byte
        let big = fifo.with_file_name("big.pem");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(64 << 20)
            .unwrap();
        assert_eq!(
            ClientIdentity::from_files(&big, None).unwrap_err(),
            format!("-J {}: larger than 1048576 bytes", big.display())
        );
        assert_eq!(
            ClientIdentity::from_files(&big, Some(&fifo)).unwrap_err(),
            format!("-J {}: larger than 1048576 bytes", big.display())
        );
        std::fs::remove_dir_all(fifo.parent().unwrap()).unwrap();
    }
}
