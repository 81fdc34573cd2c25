//! A real MIT KDC (`krb5kdc`) on a loopback port in a temporary directory, with a realm,
//! principals and keytabs made by `kdb5_util` and `kadmin.local`.

use crate::{free_port, require, wait_until, Guard, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The test realm.
pub const REALM: &str = "HCOOP.TEST";

/// A running KDC.
pub struct Kdc {
    /// Configuration, database, keytabs and log.
    pub dir: tempfile::TempDir,
    /// The KDC's UDP and TCP port on 127.0.0.1.
    pub port: u16,
    guard: Option<Guard>,
}

impl Kdc {
    /// Creates the realm and starts `krb5kdc -n` on a free port.
    pub fn start() -> Kdc {
        require("/usr/sbin/krb5kdc", "krb5-kdc");
        require("/usr/sbin/kdb5_util", "krb5-kdc");
        require("/usr/sbin/kadmin.local", "krb5-admin-server");
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let d = dir.path().display();
        std::fs::write(
            dir.path().join("krb5.conf"),
            format!("[libdefaults]\n default_realm = {REALM}\n dns_lookup_kdc = false\n[realms]\n {REALM} = {{\n  kdc = 127.0.0.1:{port}\n }}\n"),
        )
        .expect("krb5.conf");
        std::fs::write(
            dir.path().join("kdc.conf"),
            format!("[kdcdefaults]\n kdc_ports = {port}\n kdc_tcp_ports = {port}\n[realms]\n {REALM} = {{\n  database_name = {d}/principal\n  key_stash_file = {d}/stash\n  acl_file = {d}/kadm5.acl\n }}\n[logging]\n kdc = FILE:{d}/kdc.log\n"),
        )
        .expect("kdc.conf");
        let mut kdc = Kdc {
            dir,
            port,
            guard: None,
        };
        kdc.tool(
            "/usr/sbin/kdb5_util",
            &["create", "-s", "-r", REALM, "-P", "master-pw"],
        );
        kdc.start_server();
        kdc
    }

    fn env(&self, cmd: &mut Command) {
        cmd.env("KRB5_CONFIG", self.dir.path().join("krb5.conf"))
            .env("KRB5_KDC_PROFILE", self.dir.path().join("kdc.conf"))
            .env(
                "KRB5CCNAME",
                format!("FILE:{}/ccache", self.dir.path().display()),
            );
    }

    /// Runs a Kerberos tool with this realm's configuration; it must succeed.
    pub fn tool(&self, program: &str, args: &[&str]) -> String {
        let mut cmd = Command::new(program);
        cmd.args(args);
        self.env(&mut cmd);
        let r: Run = cmd
            .output()
            .unwrap_or_else(|e| panic!("run {program}: {e}"))
            .into();
        assert_eq!(r.code, 0, "{program} {args:?}: {}", r.stderr);
        r.stdout
    }

    /// Runs `kadmin.local -q QUERY`.
    pub fn kadmin(&self, query: &str) -> String {
        self.tool("/usr/sbin/kadmin.local", &["-q", query])
    }

    /// Adds a principal that requires pre-authentication and exports its keys.
    pub fn add_principal(&self, name: &str) -> PathBuf {
        self.kadmin(&format!("addprinc -pw pw-{name} +requires_preauth {name}"));
        let kt = self.dir.path().join(format!("{name}.keytab"));
        self.kadmin(&format!("ktadd -k {} -norandkey {name}", kt.display()));
        kt
    }

    /// Whether `kinit -k -t KEYTAB NAME` gets a ticket.
    pub fn kinit(&self, keytab: &Path, name: &str) -> bool {
        require("kinit", "krb5-user");
        let mut cmd = Command::new("kinit");
        cmd.arg("-k").arg("-t").arg(keytab).arg(name);
        self.env(&mut cmd);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        cmd.status().is_ok_and(|s| s.success())
    }

    fn start_server(&mut self) {
        let mut cmd = Command::new("/usr/sbin/krb5kdc");
        cmd.args(["-n", "-r", REALM]);
        self.env(&mut cmd);
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        self.guard = Some(Guard::spawn(&mut cmd));
        let port = self.port;
        assert!(
            wait_until(10.0, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "krb5kdc did not start listening on port {port}"
        );
    }

    /// Stops the KDC (it no longer answers).
    pub fn stop(&mut self) {
        self.guard = None;
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}
