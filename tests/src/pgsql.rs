//! Real PostgreSQL servers for the check_pgsql tests: a primary initialised in a temp
//! dir (initdb, pg_ctl as user postgres, loopback port), optionally with TLS, and a
//! streaming standby made with pg_basebackup -R. Stopped (immediate) on drop.

use crate::sql::{self, Db};
use crate::testca::TestCa;
use crate::{free_port, require, Guard};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The password of the `postgres` role over TCP.
pub const PASSWORD: &str = "s3cret";

/// A certificate authority and a server certificate for 127.0.0.1 and localhost.
pub struct Certs {
    /// The CA certificate (PEM).
    pub ca: PathBuf,
    /// The server certificate (PEM).
    pub cert: PathBuf,
    /// The server key (PEM).
    pub key: PathBuf,
}

impl Certs {
    /// Makes a CA and a server certificate signed by it in `dir` with openssl.
    pub fn make(dir: &Path) -> Certs {
        let ca = TestCa::new(dir, "ca", "test CA");
        let (cert, key) = ca.issue(
            "server",
            "localhost",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        );
        Certs {
            ca: ca.cert(),
            cert,
            key,
        }
    }
}

/// The PostgreSQL programs directory (`/usr/lib/postgresql/VERSION/bin`).
fn bindir() -> PathBuf {
    let root = Path::new("/usr/lib/postgresql");
    let mut versions: Vec<PathBuf> = std::fs::read_dir(root)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.path().join("bin"))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    let dir = versions
        .pop()
        .filter(|d| d.join("initdb").exists())
        .unwrap_or_else(|| panic!("initdb is missing: install the Debian package postgresql (tests/run.sh installs it)"));
    dir
}

/// Runs a PostgreSQL program as user postgres and returns its stdout; panics on failure.
fn as_postgres(program: &Path, args: &[&str]) -> String {
    let out = Command::new(require("runuser", "util-linux"))
        .args(["-u", "postgres", "--"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run runuser");
    assert!(
        out.status.success(),
        "{} {args:?}: {}{}",
        program.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A running PostgreSQL server.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    /// The TCP port on 127.0.0.1.
    pub port: u16,
    /// The certificates, when TLS is on.
    pub certs: Option<Certs>,
    running: bool,
}

impl Postgres {
    /// Initialises and starts a primary with `max_connections`, password
    /// authentication over TCP, and TLS when `tls` (the role `tlsuser` may then only
    /// connect with TLS).
    pub fn primary(max_connections: u32, tls: bool) -> Postgres {
        let bin = bindir();
        let dir = tempfile::Builder::new().prefix("pg").tempdir().unwrap();
        let port = free_port();
        let certs = tls.then(|| Certs::make(dir.path()));
        sql::chown_to("postgres", dir.path());
        let data = dir.path().join("data");
        as_postgres(
            &bin.join("initdb"),
            &[
                "-D",
                &data.to_string_lossy(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\n\
             local replication all trust\n\
             hostnossl all tlsuser 127.0.0.1/32 reject\n\
             host replication all 127.0.0.1/32 trust\n\
             host all all 127.0.0.1/32 scram-sha-256\n",
        )
        .unwrap();
        let mut conf = format!(
            "max_connections = {max_connections}\nsuperuser_reserved_connections = 1\n\
             fsync = off\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n\
             wal_receiver_status_interval = 1s\n"
        );
        if let Some(c) = &certs {
            conf.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                c.cert.display(),
                c.key.display()
            ));
        }
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        std::io::Write::write_all(&mut f, conf.as_bytes()).unwrap();
        sql::chown_to("postgres", dir.path());
        let key_mode = |p: &Path| {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
        };
        if let Some(c) = &certs {
            key_mode(&c.key);
        }
        let mut pg = Postgres {
            dir,
            bin,
            port,
            certs,
            running: false,
        };
        pg.start();
        pg.psql(&format!("ALTER ROLE postgres PASSWORD '{PASSWORD}'"));
        pg
    }

    /// Makes a streaming standby of `primary` (pg_basebackup -R) and starts it.
    pub fn standby(primary: &Postgres) -> Postgres {
        let dir = tempfile::Builder::new().prefix("pgs").tempdir().unwrap();
        sql::chown_to("postgres", dir.path());
        let data = dir.path().join("data");
        as_postgres(
            &primary.bin.join("pg_basebackup"),
            &[
                "-D",
                &data.to_string_lossy(),
                "-h",
                "127.0.0.1",
                "-p",
                &primary.port.to_string(),
                "-U",
                "postgres",
                "-R",
                "-X",
                "stream",
                "--no-sync",
            ],
        );
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        std::io::Write::write_all(&mut f, b"cluster_name = 'standby1'\nssl = off\n").unwrap();
        let mut pg = Postgres {
            dir,
            bin: primary.bin.clone(),
            port: free_port(),
            certs: None,
            running: false,
        };
        pg.start();
        pg
    }

    fn data(&self) -> String {
        self.dir.path().join("data").to_string_lossy().into_owned()
    }

    /// check_pgsql as `user` over TCP to this server, with `password` when given.
    pub fn check_as(&self, user: &str, password: Option<&str>) -> Db {
        sql::over_tcp("check_pgsql", self.port, "-l", user, password)
    }

    /// check_pgsql as postgres over TCP without TLS, with its password.
    pub fn check(&self) -> Db {
        let mut db = self.check_as("postgres", Some(PASSWORD));
        db.args.extend(["--tls".into(), "disable".into()]);
        db
    }

    /// The unix socket directory.
    pub fn socket_dir(&self) -> String {
        self.dir.path().to_string_lossy().into_owned()
    }

    /// Starts the server (pg_ctl -w).
    pub fn start(&mut self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.socket_dir()
        );
        let log = self.dir.path().join("log").to_string_lossy().into_owned();
        as_postgres(
            &self.bin.join("pg_ctl"),
            &["-D", &self.data(), "-o", &opts, "-l", &log, "-w", "start"],
        );
        self.running = true;
    }

    /// Stops the server at once.
    pub fn stop(&mut self) {
        if self.running {
            let _ = Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(self.bin.join("pg_ctl"))
                .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
                .output();
            self.running = false;
        }
    }

    /// Runs SQL as postgres over the socket (in `db`) and returns the unaligned output.
    pub fn psql_in(&self, db: &str, sql: &str) -> String {
        as_postgres(
            &self.bin.join("psql"),
            &[
                "-h",
                &self.socket_dir(),
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
                "-d",
                db,
                "-v",
                "ON_ERROR_STOP=1",
                "-Atc",
                sql,
            ],
        )
        .trim()
        .to_string()
    }

    /// Runs SQL as postgres in the `postgres` database.
    pub fn psql(&self, sql: &str) -> String {
        self.psql_in("postgres", sql)
    }

    /// A psql session of `user` in `db` kept open in the background: it runs `sql`
    /// (if any) and then stays idle until dropped.
    pub fn session(&self, user: &str, db: &str, sql: Option<&str>) -> Guard {
        let mut cmd = Command::new(self.bin.join("psql"));
        cmd.args([
            "-h",
            &self.socket_dir(),
            "-p",
            &self.port.to_string(),
            "-U",
            user,
            "-d",
            db,
            "-q",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        let mut g = Guard::spawn(&mut cmd);
        if let Some(sql) = sql {
            if let Some(stdin) = g.0.stdin.as_mut() {
                std::io::Write::write_all(stdin, format!("{sql};\n").as_bytes()).unwrap();
            }
        }
        g
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}
