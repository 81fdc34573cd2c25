//! The client side of the NRPE dialogue, as nrpe's check_nrpe speaks it: plain TCP,
//! rustls (any certificate, or its chain to `-A`'s CA but not its name), or OpenSSL with
//! anonymous Diffie-Hellman in an `adh` build; client certificates; one query and its
//! response per connection. Used by check_nrpe_client and by the daemon's TLS set-up
//! (`load_certs`, `load_key`).

use super::{read_packet, Packet, ReadError, MAX_BUFFER_LEN};
use crate::plugin::Family;
use crate::proto::tls;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls_pki_types::pem::PemObject;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// How the connection is made.
#[derive(Clone)]
pub enum Transport {
    /// Plain TCP (`-n`).
    Plain,
    /// TLS through rustls.
    Rustls(Arc<rustls::ClientConfig>),
    /// TLS through OpenSSL, which can also do anonymous Diffie-Hellman.
    #[cfg(feature = "adh")]
    OpenSsl(Arc<openssl::ssl::SslConnector>),
}

/// TLS options shared by the transports.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    pub ca_cert: Option<PathBuf>,
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// check_nrpe's `-d`: 0 no anonymous DH, 1 allowed, 2 only.
    pub use_adh: u8,
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
    let builder = rustls::ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
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

/// An OpenSSL connector with check_nrpe's cipher list and verification rules.
#[cfg(feature = "adh")]
pub fn openssl_connector(opts: &TlsOptions) -> Result<openssl::ssl::SslConnector, String> {
    use openssl::ssl::{SslConnector, SslFiletype, SslMethod, SslVerifyMode, SslVersion};
    let err = |e: openssl::error::ErrorStack| e.to_string();
    let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(err)?;
    let ciphers = match opts.use_adh {
        0 => "ALL:!MD5:!aNULL:@STRENGTH:@SECLEVEL=0",
        2 => "ADH:@SECLEVEL=0",
        _ => "ALL:!MD5:@STRENGTH:@SECLEVEL=0",
    };
    b.set_cipher_list(ciphers)
        .map_err(|e| format!("could not set SSL/TLS cipher list: {e}"))?;
    if opts.use_adh == 2 {
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
    /// The transport for the options: plain, rustls, or (in an `adh` build, unless
    /// `use_adh` is 0) OpenSSL.
    pub fn new(tls: Option<&TlsOptions>) -> Result<Transport, String> {
        let Some(opts) = tls else {
            return Ok(Transport::Plain);
        };
        #[cfg(feature = "adh")]
        if opts.use_adh != 0 {
            return Ok(Transport::OpenSsl(Arc::new(openssl_connector(opts)?)));
        }
        if opts.use_adh == 2 {
            return Err(
                "-d 2 (anonymous Diffie-Hellman only) needs check_nrpe_client built with the adh feature"
                    .into(),
            );
        }
        Ok(Transport::Rustls(Arc::new(rustls_config(opts)?)))
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
    let tcp = TcpStream::connect(addr)
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
        #[cfg(feature = "adh")]
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
    let mut conn = connect(transport, host, addr).await?;
    conn.write_all(&query.encode())
        .await
        .map_err(ExchangeError::Send)?;
    conn.flush().await.map_err(ExchangeError::Send)?;
    let reply = match read_packet(&mut conn, MAX_BUFFER_LEN).await {
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
