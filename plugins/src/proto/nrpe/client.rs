//! The client side of the NRPE dialogue, as nrpe's check_nrpe speaks it: plain TCP,
//! rustls (any certificate, or its chain to `-A`'s CA but not its name), or OpenSSL,
//! which also speaks the anonymous Diffie-Hellman a stock nrpe without a certificate
//! offers (rustls has no anonymous cipher suites); client certificates; one query and
//! its response per connection. Used by check_nrpe_client and by the daemon's TLS set-up
//! (`load_certs`, `load_key`).

use super::{read_packet, read_v2_sized, Packet, ReadError, Version, MAX_BUFFER_LEN};
use crate::plugin::Family;
use crate::proto::tls;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls_pki_types::pem::PemObject;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// How the connection is made.
#[derive(Clone)]
pub enum Transport {
    /// Plain TCP (`-n`).
    Plain,
    /// TLS through rustls.
    Rustls(Arc<rustls::ClientConfig>),
    /// TLS through OpenSSL, which can also do anonymous Diffie-Hellman.
    OpenSsl(Arc<openssl::ssl::SslConnector>),
}

/// TLS options shared by the transports.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub ca_cert: Option<PathBuf>,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// check_nrpe's `-d`: 0 no anonymous DH, 1 allowed, 2 only.
    pub use_adh: u8,
    /// check_nrpe's `-S`: the protocol versions allowed (default TLS 1.0 or above).
    pub versions: Option<ProtocolRange>,
    /// check_nrpe's `-L`: an OpenSSL cipher list instead of check_nrpe's default.
    pub cipher_list: Option<String>,
}

/// The cipher list check_nrpe uses by default (anonymous DH allowed).
pub const DEFAULT_CIPHERS: &str = "ALL:!MD5:@STRENGTH:@SECLEVEL=0";

/// An SSL/TLS protocol version of check_nrpe's `-S`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Protocol {
    Ssl3,
    Tls1,
    Tls1_1,
    Tls1_2,
}

/// check_nrpe's `-S`: one version (`TLSv1.2`) or that version and above (`TLSv1.2+`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtocolRange {
    pub min: Protocol,
    pub only: bool,
}

impl std::str::FromStr for ProtocolRange {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, only) = match s.strip_suffix('+') {
            Some(n) => (n, false),
            None => (s, true),
        };
        let min = match name {
            "SSLv3" => Protocol::Ssl3,
            "TLSv1" => Protocol::Tls1,
            "TLSv1.1" => Protocol::Tls1_1,
            "TLSv1.2" => Protocol::Tls1_2,
            _ => {
                return Err(format!(
                    "unknown SSL/TLS version '{s}' (SSLv3, TLSv1, TLSv1.1 or TLSv1.2, each \
                     optionally followed by +)"
                ))
            }
        };
        Ok(ProtocolRange { min, only })
    }
}

impl ProtocolRange {
    /// True when TLS 1.2 (the oldest version rustls speaks) is in the range.
    fn admits_tls12(&self) -> bool {
        !self.only || self.min == Protocol::Tls1_2
    }
}

/// What else shapes one exchange besides the transport.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExchangeOptions {
    /// check_nrpe's `-b`: the local address to connect from.
    pub bind: Option<IpAddr>,
    /// check_nrpe's `-P` (with `-2`): version 2 packets with a buffer of this many bytes
    /// instead of 1024.
    pub v2_payload: Option<usize>,
}

/// Why one exchange with the daemon failed.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeError {
    #[error("connect: {0}")]
    Connect(std::io::Error),
    #[error("handshake: {0}")]
    Handshake(String),
    #[error("send: {0}")]
    Send(std::io::Error),
    #[error("{0}")]
    Read(#[from] ReadError),
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("could not use certificate file '{}': {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "could not use certificate file '{}': no certificate in it",
            path.display()
        ));
    }
    Ok(certs)
}

/// The private key in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    PrivateKeyDer::from_pem_file(path)
        .map_err(|e| format!("could not use private key file '{}': {e}", path.display()))
}

/// A rustls client configuration with check_nrpe's verification rules.
pub fn rustls_config(opts: &TlsOptions) -> Result<rustls::ClientConfig, String> {
    let only_tls12 = opts
        .versions
        .is_some_and(|r| r.only && r.min == Protocol::Tls1_2);
    let builder = rustls::ClientConfig::builder_with_provider(tls::provider());
    let builder = if only_tls12 {
        builder.with_protocol_versions(&[&rustls::version::TLS12])
    } else {
        builder.with_safe_default_protocol_versions()
    }
    .map_err(|e| e.to_string())?;
    // without -A any certificate; with it, its chain to the CA but not its name (-H is
    // often an address the certificate does not name)
    let verifier = match &opts.ca_cert {
        None => tls::Verifier::accept_any(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in load_certs(ca)? {
                roots
                    .add(c)
                    .map_err(|e| format!("could not use CA certificate '{}': {e}", ca.display()))?;
            }
            let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(
                roots.into(),
                tls::provider(),
            )
            .build()
            .map_err(|e| e.to_string())?;
            tls::Verifier::new(tls::Verify::ChainOnly, Some(webpki))
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    match &opts.client_cert {
        None => Ok(builder.with_no_client_auth()),
        Some((cert, key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|e| {
                format!(
                    "could not use certificate file '{}' with private key file '{}': {e}",
                    cert.display(),
                    key.display()
                )
            }),
    }
}

/// The OpenSSL cipher list for the options: `-L` or check_nrpe's default, only
/// anonymous DH with `-d 2`, never anonymous DH with `-d 0` or when a CA certificate is
/// given, whatever `use_adh` says (a server that offers no certificate could otherwise
/// skip the verification).
pub fn cipher_list(opts: &TlsOptions) -> String {
    let base = opts.cipher_list.as_deref().unwrap_or(DEFAULT_CIPHERS);
    if opts.ca_cert.is_some() {
        return format!("{base}:!aNULL");
    }
    match opts.use_adh {
        2 => "ADH:@SECLEVEL=0".into(),
        0 => format!("{base}:!aNULL"),
        _ => base.into(),
    }
}

/// An OpenSSL connector with check_nrpe's cipher list and verification rules.
pub fn openssl_connector(opts: &TlsOptions) -> Result<openssl::ssl::SslConnector, String> {
    use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode, SslVersion};
    let err = |e: openssl::error::ErrorStack| e.to_string();
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(err)?;
    b.set_cipher_list(&cipher_list(opts))
        .map_err(|e| format!("could not set SSL/TLS cipher list: {e}"))?;
    let version = |p: Protocol| match p {
        Protocol::Ssl3 => SslVersion::SSL3,
        Protocol::Tls1 => SslVersion::TLS1,
        Protocol::Tls1_1 => SslVersion::TLS1_1,
        Protocol::Tls1_2 => SslVersion::TLS1_2,
    };
    let range = opts.versions.unwrap_or(ProtocolRange {
        min: Protocol::Tls1,
        only: false,
    });
    b.set_min_proto_version(Some(version(range.min)))
        .map_err(err)?;
    if range.only {
        b.set_max_proto_version(Some(version(range.min)))
            .map_err(err)?;
    } else if opts.use_adh == 2 && opts.ca_cert.is_none() {
        // anonymous ciphers exist only up to TLS 1.2
        b.set_max_proto_version(Some(SslVersion::TLS1_2))
            .map_err(err)?;
    }
    match &opts.ca_cert {
        Some(ca) => {
            b.set_ca_file(ca)
                .map_err(|e| format!("could not use CA certificate '{}': {e}", ca.display()))?;
            b.set_verify(SslVerifyMode::PEER);
        }
        None => b.set_verify(SslVerifyMode::NONE),
    }
    if let Some((cert, key)) = &opts.client_cert {
        b.set_certificate_chain_file(cert)
            .map_err(|e| format!("could not use certificate file '{}': {e}", cert.display()))?;
        b.set_private_key_file(key, SslFiletype::PEM)
            .map_err(|e| format!("could not use private key file '{}': {e}", key.display()))?;
    }
    Ok(b.build())
}

impl Transport {
    /// The transport for the options: plain; rustls when the server must present a
    /// certificate (`-A` given, or `-d 0`) and no OpenSSL-only option (`-L`, an `-S`
    /// range without TLS 1.2) is given; OpenSSL otherwise, which also speaks the
    /// anonymous Diffie-Hellman of a stock nrpe without a certificate.
    pub fn new(tls: Option<&TlsOptions>) -> Result<Transport, String> {
        let Some(opts) = tls else {
            return Ok(Transport::Plain);
        };
        let certified = opts.use_adh == 0 || opts.ca_cert.is_some();
        let rustls_can =
            opts.cipher_list.is_none() && opts.versions.is_none_or(|r| r.admits_tls12());
        if certified && rustls_can {
            return Ok(Transport::Rustls(Arc::new(rustls_config(opts)?)));
        }
        Ok(Transport::OpenSsl(Arc::new(openssl_connector(opts)?)))
    }
}

/// A byte stream to the daemon, whatever the transport.
pub trait Conn: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Conn for T {}

/// Opens a connection (and its TLS session) to one address; `host` is the name sent
/// for SNI.
pub async fn connect(
    transport: &Transport,
    host: &str,
    addr: SocketAddr,
) -> Result<Box<dyn Conn>, ExchangeError> {
    connect_from(transport, host, addr, None).await
}

/// A TCP connection to `addr`, from `bind` when given.
async fn tcp_connect(addr: SocketAddr, bind: Option<IpAddr>) -> std::io::Result<TcpStream> {
    let Some(local) = bind else {
        return TcpStream::connect(addr).await;
    };
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(SocketAddr::new(local, 0))?;
    socket.connect(addr).await
}

/// [`connect`] from a local address (check_nrpe's `-b`).
pub async fn connect_from(
    transport: &Transport,
    host: &str,
    addr: SocketAddr,
    bind: Option<IpAddr>,
) -> Result<Box<dyn Conn>, ExchangeError> {
    let tcp = tcp_connect(addr, bind)
        .await
        .map_err(ExchangeError::Connect)?;
    let _ = tcp.set_nodelay(true);
    match transport {
        Transport::Plain => Ok(Box::new(tcp)),
        Transport::Rustls(config) => {
            let name = ServerName::try_from(host.to_string())
                .unwrap_or_else(|_| ServerName::from(addr.ip()));
            let tls = tokio_rustls::TlsConnector::from(config.clone())
                .connect(name, tcp)
                .await
                .map_err(|e| ExchangeError::Handshake(e.to_string()))?;
            Ok(Box::new(tls))
        }
        Transport::OpenSsl(connector) => {
            let ssl = connector
                .configure()
                .and_then(|c| {
                    c.verify_hostname(false)
                        .use_server_name_indication(false)
                        .into_ssl(host)
                })
                .map_err(|e| ExchangeError::Handshake(e.to_string()))?;
            let mut s = tokio_openssl::SslStream::new(ssl, tcp)
                .map_err(|e| ExchangeError::Handshake(e.to_string()))?;
            std::pin::Pin::new(&mut s)
                .connect()
                .await
                .map_err(|e| ExchangeError::Handshake(e.to_string()))?;
            Ok(Box::new(s))
        }
    }
}

/// One query and its response over a new connection.
pub async fn exchange(
    transport: &Transport,
    host: &str,
    addr: SocketAddr,
    query: &Packet,
) -> Result<Packet, ExchangeError> {
    exchange_with(transport, host, addr, query, ExchangeOptions::default()).await
}

/// [`exchange`] with check_nrpe's `-b` and `-P`.
pub async fn exchange_with(
    transport: &Transport,
    host: &str,
    addr: SocketAddr,
    query: &Packet,
    opts: ExchangeOptions,
) -> Result<Packet, ExchangeError> {
    let mut conn = connect_from(transport, host, addr, opts.bind).await?;
    let sized = opts.v2_payload.filter(|_| query.version == Version::V2);
    let bytes = match sized {
        Some(n) => query.encode_v2_sized(n),
        None => query.encode(),
    };
    conn.write_all(&bytes).await.map_err(ExchangeError::Send)?;
    conn.flush().await.map_err(ExchangeError::Send)?;
    let read = match sized {
        Some(n) => read_v2_sized(&mut conn, n).await,
        None => read_packet(&mut conn, MAX_BUFFER_LEN).await,
    };
    let reply = match read {
        // with TLS 1.3 a refused client certificate is only learnt when reading
        Err(ReadError::Io(e)) if e.get_ref().is_some_and(|i| i.is::<rustls::Error>()) => {
            return Err(ExchangeError::Handshake(e.to_string()))
        }
        r => r?,
    };
    let _ = conn.shutdown().await;
    Ok(reply)
}

/// Resolves the host to socket addresses, restricted to a family.
pub async fn resolve(host: &str, port: u16, family: Family) -> Result<Vec<SocketAddr>, String> {
    let addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| format!("connect to host {host} port {port}: {e}"))?;
    let addrs: Vec<_> = addrs.filter(|a| family.admits(a)).collect();
    if addrs.is_empty() {
        return Err(format!(
            "connect to host {host} port {port}: no address of the requested family"
        ));
    }
    Ok(addrs)
}
