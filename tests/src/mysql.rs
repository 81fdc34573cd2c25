//! Real MariaDB servers for the check_mysql tests: mariadb-install-db in a temp dir,
//! mariadbd on a loopback port (optionally requiring TLS), and a replica of it.
//! Killed on drop.

use crate::pgsql::Certs;
use crate::sql::{self, Db};
use crate::{free_port, require, wait_until, Guard};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The password of `root` over TCP.
pub const PASSWORD: &str = "s3cret";

/// A running MariaDB server.
pub struct Mariadb {
    dir: tempfile::TempDir,
    server: Option<Guard>,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// The certificates, when TLS is on.
    pub certs: Option<Certs>,
    args: Vec<String>,
}

impl Mariadb {
    /// Initialises and starts a server with `max_connections`, binary logs and
    /// `server_id`; with `tls`, the user `tlsuser` must connect with TLS.
    pub fn start(max_connections: u32, server_id: u32, tls: bool) -> Mariadb {
        let install = require("mariadb-install-db", "mariadb-server");
        require("mariadbd", "mariadb-server");
        let dir = tempfile::Builder::new().prefix("my").tempdir().unwrap();
        let certs = tls.then(|| Certs::make(dir.path()));
        sql::chown_to("mysql", dir.path());
        let data = dir.path().join("data");
        let out = Command::new(install)
            .args([
                "--user=mysql",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ])
            .arg(format!("--datadir={}", data.display()))
            .output()
            .expect("run mariadb-install-db");
        assert!(
            out.status.success(),
            "mariadb-install-db: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
        let mut args = vec![
            "--no-defaults".to_string(),
            "--user=mysql".into(),
            format!("--datadir={}", data.display()),
            format!("--port={port}"),
            "--bind-address=127.0.0.1".into(),
            format!("--socket={}", p("sock")),
            format!("--pid-file={}", p("pid")),
            format!("--log-error={}", p("err")),
            format!("--max-connections={max_connections}"),
            format!("--server-id={server_id}"),
            format!("--log-bin={}", p("binlog")),
            "--innodb-buffer-pool-size=16M".into(),
            "--skip-name-resolve".into(),
        ];
        if let Some(c) = &certs {
            args.push(format!("--ssl-cert={}", c.cert.display()));
            args.push(format!("--ssl-key={}", c.key.display()));
            args.push(format!("--ssl-ca={}", c.ca.display()));
        }
        let mut m = Mariadb {
            dir,
            server: None,
            port,
            certs,
            args,
        };
        m.run_server();
        m.sql(&format!(
            "CREATE OR REPLACE USER 'root'@'127.0.0.1' IDENTIFIED BY '{PASSWORD}'; \
             GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION; \
             CREATE OR REPLACE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'replpw'; \
             GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1'"
        ));
        if tls {
            m.sql("CREATE USER 'tlsuser'@'127.0.0.1' IDENTIFIED BY 'tlspw' REQUIRE SSL");
        }
        m
    }

    fn run_server(&mut self) {
        let mut cmd = Command::new("mariadbd");
        cmd.args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.server = Some(Guard::spawn(&mut cmd));
        let sock = self.socket();
        let ok = wait_until(30.0, || {
            Path::new(&sock).exists() && self.try_sql("SELECT 1").is_ok()
        });
        let err = std::fs::read_to_string(self.dir.path().join("err")).unwrap_or_default();
        assert!(ok, "mariadbd did not start: {err}");
    }

    /// Starts a replica of `source` replicating from its current position.
    pub fn replica_of(source: &Mariadb) -> Mariadb {
        let replica = Mariadb::start(20, 2, false);
        let status = source.sql("SHOW MASTER STATUS");
        let mut fields = status.split('\t');
        let (file, pos) = (fields.next().unwrap_or(""), fields.next().unwrap_or("4"));
        replica.sql(&format!(
            "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={}, MASTER_USER='repl', \
             MASTER_PASSWORD='replpw', MASTER_LOG_FILE='{file}', MASTER_LOG_POS={pos}, \
             MASTER_USE_GTID=no; START SLAVE",
            source.port
        ));
        replica
    }

    /// check_mysql as `user` over TCP to this server, with `password` when given.
    pub fn check_as(&self, user: &str, password: Option<&str>) -> Db {
        sql::over_tcp("check_mysql", self.port, "-u", user, password)
    }

    /// check_mysql as root over TCP, with its password.
    pub fn check(&self) -> Db {
        self.check_as("root", Some(PASSWORD))
    }

    /// The unix socket path.
    pub fn socket(&self) -> String {
        self.dir.path().join("sock").to_string_lossy().into_owned()
    }

    fn client() -> PathBuf {
        require("mariadb", "mariadb-client")
    }

    fn try_sql(&self, sql: &str) -> Result<String, String> {
        let out = Command::new(Self::client())
            .args(["--no-defaults", "-uroot", "-N", "-B"])
            .arg(format!("--socket={}", self.socket()))
            .args(["-e", sql])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// Runs SQL as root over the socket and returns the tab-separated output.
    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql)
            .unwrap_or_else(|e| panic!("mariadb -e {sql:?}: {e}"))
    }

    /// A client session running `sql` in the background (killed on drop).
    pub fn session(&self, sql: &str) -> Guard {
        let mut cmd = Command::new(Self::client());
        cmd.args(["--no-defaults", "-uroot"])
            .arg(format!("--socket={}", self.socket()))
            .args(["-e", sql])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        Guard::spawn(&mut cmd)
    }

    /// Stops the server (kills it).
    pub fn stop(&mut self) {
        self.server = None;
    }
}
