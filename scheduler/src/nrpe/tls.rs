//! The agent's TLS (rustls with the ring provider): the configured certificate, or a
//! self-signed one made at first start and kept, so that a stock check_nrpe (which does
//! not verify the server unless given `-A`) talks to the agent in its default mode.
//! Client certificates are asked for or required per `ssl_client_certs`.

use super::cfg::{ClientCerts, NrpeConfig};
use hcoop_plugins::checks::nrpe_client::{load_certs, load_key};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::sync::Arc;

/// File names of the kept self-signed certificate and key, in the state directory.
pub const SELF_SIGNED_CERT: &str = "nrpe-cert.pem";
pub const SELF_SIGNED_KEY: &str = "nrpe-key.pem";

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Loads the self-signed certificate kept in `dir`, or makes one (for this host's name
/// and `localhost`) and keeps it there, the key readable by its owner only.
pub fn self_signed(dir: &Path) -> Result<Identity, String> {
    let cert_path = dir.join(SELF_SIGNED_CERT);
    let key_path = dir.join(SELF_SIGNED_KEY);
    if cert_path.exists() && key_path.exists() {
        return Ok((load_certs(&cert_path)?, load_key(&key_path)?));
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut names = vec!["localhost".to_string()];
    if let Some(h) = host_name() {
        names.insert(0, h);
    }
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot make a certificate: {e}"))?;
    let write = |path: &Path, text: &str, mode: u32| -> Result<(), String> {
        let tmp = path.with_extension("tmp");
        // a new file, never through a symbolic link (a stale one is removed, not followed)
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()).map(|_| f))
            .map_err(|e| format!("cannot write {}: {e}", tmp.display()))?;
        f.flush().map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, path).map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    write(&key_path, &made.key_pair.serialize_pem(), 0o600)?;
    write(&cert_path, &made.cert.pem(), 0o644)?;
    Ok((
        vec![made.cert.der().clone()],
        PrivateKeyDer::Pkcs8(made.key_pair.serialize_der().into()),
    ))
}

fn host_name() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most buf.len() bytes into our buffer.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0)?;
    let name = std::str::from_utf8(&buf[..end]).ok()?.to_string();
    (!name.is_empty()).then_some(name)
}

/// The rustls server configuration for an nrpe.cfg; `state_dir` keeps the
/// self-signed certificate when the file names none.
pub fn server_config(cfg: &NrpeConfig, state_dir: &Path) -> Result<rustls::ServerConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (certs, key) = match (&cfg.ssl_cert_file, &cfg.ssl_privatekey_file) {
        (Some(c), Some(k)) => (load_certs(c)?, load_key(k)?),
        _ => self_signed(state_dir)?,
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let builder = match (cfg.ssl_client_certs, &cfg.ssl_cacert_file) {
        (ClientCerts::No, _) | (ClientCerts::Ask, None) => builder.with_no_client_auth(),
        (_, None) => return Err("ssl_client_certs=2 needs ssl_cacert_file".into()),
        (mode, Some(ca)) => {
            let mut roots = rustls::RootCertStore::empty();
            for c in load_certs(ca)? {
                roots
                    .add(c)
                    .map_err(|e| format!("could not use CA certificate '{}': {e}", ca.display()))?;
            }
            let v = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            let v = if mode == ClientCerts::Ask {
                v.allow_unauthenticated()
            } else {
                v
            };
            builder.with_client_cert_verifier(v.build().map_err(|e| e.to_string())?)
        }
    };
    builder
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and its key do not go together: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_made_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (c1, _) = self_signed(dir.path()).unwrap();
        let (c2, _) = self_signed(dir.path()).unwrap();
        assert_eq!(c1, c2);
        let mode = std::fs::metadata(dir.path().join(SELF_SIGNED_KEY))
            .unwrap()
            .permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        let cfg = NrpeConfig::default();
        server_config(&cfg, dir.path()).unwrap();
    }
}
