//! A throwaway certificate authority made with openssl (RSA 2048, valid two days) in a
//! directory, and leaf certificates it signs: `NAME.pem` and `NAME.key` beside it.

use crate::require;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `openssl ARGS` in `dir`; fails the test with openssl's stderr when it fails.
pub fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new(require("openssl", "openssl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed CA certificate and its key in a directory.
pub struct TestCa {
    dir: PathBuf,
    name: String,
}

impl TestCa {
    /// Makes the CA `name` (subject `/CN=subject`) in `dir`: `name.pem`, `name.key`.
    pub fn new(dir: &Path, name: &str, subject: &str) -> TestCa {
        let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
        let subj = format!("/CN={subject}");
        openssl(
            dir,
            &[
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", &subj,
                "-keyout", &key, "-out", &pem,
            ],
        );
        TestCa {
            dir: dir.to_path_buf(),
            name: name.to_string(),
        }
    }

    /// The CA certificate.
    pub fn cert(&self) -> PathBuf {
        self.dir.join(format!("{}.pem", self.name))
    }

    /// Issues `name` (subject `/CN=subject`) with the extension lines `ext` (which also
    /// make it a v3 certificate, as TLS libraries require); returns (certificate, key).
    pub fn issue(&self, name: &str, subject: &str, ext: &str) -> (PathBuf, PathBuf) {
        let [key, csr, pem, extfile] = ["key", "csr", "pem", "ext"].map(|e| format!("{name}.{e}"));
        std::fs::write(self.dir.join(&extfile), ext).unwrap();
        let subj = format!("/CN={subject}");
        openssl(
            &self.dir,
            &[
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", &subj, "-keyout", &key, "-out",
                &csr,
            ],
        );
        let (ca_pem, ca_key) = (format!("{}.pem", self.name), format!("{}.key", self.name));
        openssl(
            &self.dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-days",
                "2",
                "-CA",
                &ca_pem,
                "-CAkey",
                &ca_key,
                "-CAcreateserial",
                "-extfile",
                &extfile,
                "-out",
                &pem,
            ],
        );
        (self.dir.join(pem), self.dir.join(key))
    }
}
