//! Mail servers for the mail checks: a real Exim (Debian's exim4-daemon-light) that
//! delivers into `~/Maildir` of a real system user the test creates, with STARTTLS and
//! SMTP AUTH, and a real Dovecot (dovecot-imapd) serving that Maildir over IMAP with
//! STARTTLS and IMAPS — both on loopback ports in temp dirs, with certificates from the
//! test CA of [`crate::web::Pki`].

use crate::web::CertPair;
use crate::{free_port, require, wait_until, Guard};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// check_mail_roundtrip's addresses and login, for a mailbox `box` whose password the
/// check reads from `PATH` (any set variable does where no server is reached).
pub const ROUNDTRIP_LOGIN: [&str; 8] = [
    "-f",
    "mon@coop.test",
    "-r",
    "box@coop.test",
    "-U",
    "box",
    "--password-env",
    "PATH",
];

/// check_mx for coop.test, asking the DNS server of the `bind` harness on `dns_port`
/// and talking SMTP to the exchangers on `smtp_port`, as monitor.test.
pub fn mx_args<'a>(dns_port: &'a str, smtp_port: &'a str) -> Vec<&'a str> {
    vec![
        "-d",
        "coop.test",
        "-s",
        crate::bind::MASTER_IP,
        "--dns-port",
        dns_port,
        "-p",
        smtp_port,
        "-F",
        "monitor.test",
    ]
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies a certificate pair into `dir` readable by the servers' unprivileged users.
pub(crate) fn readable_cert(pair: &CertPair, dir: &Path) -> CertPair {
    let cert = dir.join("server.crt");
    let key = dir.join("server.key");
    std::fs::copy(&pair.cert, &cert).expect("copy cert");
    std::fs::copy(&pair.key, &key).expect("copy key");
    chmod(&cert, 0o644);
    chmod(&key, 0o644);
    CertPair { cert, key }
}

/// A system user with a home directory in a temp dir (removed on drop).
pub struct MailUser {
    pub name: String,
    pub password: String,
    pub home: PathBuf,
    pub uid: u32,
    pub gid: u32,
    _dir: TempDir,
}

impl MailUser {
    /// Creates the user `name` (useradd) with `password` for IMAP and SMTP AUTH.
    pub fn create(name: &str, password: &str) -> MailUser {
        assert!(crate::is_root(), "creating a mail user needs root");
        let useradd = require("useradd", "passwd");
        let dir = tempfile::Builder::new()
            .prefix("mailuser")
            .tempdir()
            .unwrap();
        chmod(dir.path(), 0o755);
        let home = dir.path().join(name);
        let _ = Command::new("userdel").arg(name).output();
        run_ok(
            Command::new(useradd)
                .args(["-m", "-s", "/usr/sbin/nologin", "-d"])
                .arg(&home)
                .arg(name),
        );
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(&home).expect("home");
        MailUser {
            name: name.to_string(),
            password: password.to_string(),
            home,
            uid: meta.uid(),
            gid: meta.gid(),
            _dir: dir,
        }
    }

    /// The files in `~/Maildir/new` and `~/Maildir/cur`.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(rd) = std::fs::read_dir(self.home.join("Maildir").join(sub)) {
                for e in rd.flatten() {
                    out.push(std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }
}

impl Drop for MailUser {
    fn drop(&mut self) {
        let _ = Command::new("userdel").arg(&self.name).output();
    }
}

/// How an Exim is set up.
pub struct EximSpec<'a> {
    /// Loopback address to listen on.
    pub ip: &'a str,
    pub port: u16,
    pub hostname: &'a str,
    /// Certificate for STARTTLS; without one STARTTLS is not offered.
    pub cert: Option<&'a CertPair>,
    /// Accept messages but never deliver them (a stuck queue).
    pub queue_only: bool,
    /// User and password SMTP AUTH (PLAIN and LOGIN) accepts.
    pub auth: Option<(&'a str, &'a str)>,
}

/// A running Exim.
pub struct Exim {
    pub port: u16,
    pub ip: String,
    dir: TempDir,
    child: Option<Guard>,
}

impl Exim {
    /// Starts Exim in a temp dir and waits until it answers.
    pub fn start(spec: &EximSpec) -> Exim {
        let exim = require("/usr/sbin/exim4", "exim4-daemon-light");
        assert!(crate::is_root(), "Exim needs root to deliver as the user");
        let dir = tempfile::Builder::new().prefix("exim").tempdir().unwrap();
        let d = dir.path();
        chmod(d, 0o755);
        for sub in ["spool", "log"] {
            std::fs::create_dir(d.join(sub)).unwrap();
            run_ok(
                Command::new("chown")
                    .arg("Debian-exim:Debian-exim")
                    .arg(d.join(sub)),
            );
        }
        let tls = match spec.cert {
            Some(c) => {
                let c = readable_cert(c, d);
                format!(
                    "tls_advertise_hosts = *\ntls_certificate = {}\ntls_privatekey = {}\n",
                    c.cert.display(),
                    c.key.display()
                )
            }
            None => "tls_advertise_hosts =\n".to_string(),
        };
        let auth = match spec.auth {
            Some((u, p)) => format!(
                "begin authenticators\n\
                 plain:\n  driver = plaintext\n  public_name = PLAIN\n  server_prompts = :\n  \
                 server_condition = ${{if and {{{{eq{{$auth2}}{{{u}}}}}{{eq{{$auth3}}{{{p}}}}}}}}}\n\
                 login:\n  driver = plaintext\n  public_name = LOGIN\n  server_prompts = Username:: : Password::\n  \
                 server_condition = ${{if and {{{{eq{{$auth1}}{{{u}}}}}{{eq{{$auth2}}{{{p}}}}}}}}}\n"
            ),
            None => String::new(),
        };
        let conf = d.join("exim.conf");
        std::fs::write(
            &conf,
            format!(
                "primary_hostname = {host}\n\
                 domainlist local_domains = hcoop.test : coop.test\n\
                 qualify_domain = coop.test\n\
                 keep_environment =\n\
                 spool_directory = {d}/spool\n\
                 log_file_path = {d}/log/%slog\n\
                 daemon_smtp_ports = {port}\n\
                 local_interfaces = {ip}\n\
                 {queue}\
                 {tls}\
                 acl_smtp_rcpt = acl_check_rcpt\n\
                 begin acl\nacl_check_rcpt:\n  accept domains = +local_domains\n  verify = recipient\n  deny\n\
                 begin routers\n\
                 local_user:\n  driver = accept\n  domains = +local_domains\n  check_local_user\n  transport = home_maildir\n\
                 begin transports\n\
                 home_maildir:\n  driver = appendfile\n  directory = $home/Maildir\n  maildir_format\n  create_directory\n  delivery_date_add\n  envelope_to_add\n  return_path_add\n\
                 {auth}",
                host = spec.hostname,
                d = d.display(),
                port = spec.port,
                ip = spec.ip,
                queue = if spec.queue_only { "queue_only = true\n" } else { "" },
            ),
        )
        .unwrap();
        chmod(&conf, 0o644);
        crate::exim::trust_config(&conf);
        let child = Guard::spawn(
            Command::new(exim)
                .arg("-C")
                .arg(&conf)
                .arg("-bdf")
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        );
        let (ip, port) = (spec.ip.to_string(), spec.port);
        assert!(
            wait_until(10.0, || std::net::TcpStream::connect((ip.as_str(), port))
                .is_ok()),
            "exim did not start listening on {ip}:{port}"
        );
        Exim {
            port,
            ip,
            dir,
            child: Some(child),
        }
    }

    /// Stops the server (its port then refuses).
    pub fn stop(&mut self) {
        self.child = None;
    }

    /// Exim's main log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/mainlog")).unwrap_or_default()
    }
}

/// A running Dovecot serving the users' `~/Maildir`.
pub struct Dovecot {
    pub imap_port: u16,
    pub imaps_port: u16,
    dir: TempDir,
    _child: Guard,
}

impl Dovecot {
    /// Starts Dovecot on 127.0.0.1 for `users`, with `cert` for STARTTLS and IMAPS;
    /// `starttls` false turns TLS off: no STARTTLS and no IMAPS listener.
    pub fn start(users: &[&MailUser], cert: &CertPair, starttls: bool) -> Dovecot {
        let (dovecot, dir) = dovecot_dir("dovecot");
        let d = dir.path();
        let c = readable_cert(cert, d);
        let passwd: String = users
            .iter()
            .map(|u| {
                format!(
                    "{}:{{PLAIN}}{}:{}:{}::{}::\n",
                    u.name,
                    u.password,
                    u.uid,
                    u.gid,
                    u.home.display()
                )
            })
            .collect();
        std::fs::write(d.join("passwd"), passwd).unwrap();
        let (imap_port, imaps_port) = (free_port(), free_port());
        let conf = d.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                "protocols = imap\n\
                 listen = 127.0.0.1\n\
                 base_dir = {d}/run\n\
                 state_dir = {d}/state\n\
                 log_path = {d}/dovecot.log\n\
                 ssl = {ssl}\n\
                 ssl_cert = <{cert}\n\
                 ssl_key = <{key}\n\
                 disable_plaintext_auth = no\n\
                 auth_mechanisms = plain login\n\
                 mail_location = maildir:~/Maildir\n\
                 first_valid_uid = 100\n\
                 passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {d}/passwd\n}}\n\
                 userdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
                 service imap-login {{\n  inet_listener imap {{\n    port = {imap_port}\n  }}\n{imaps}}}\n",
                imaps = if starttls {
                    format!("  inet_listener imaps {{\n    port = {imaps_port}\n    ssl = yes\n  }}\n")
                } else {
                    String::new()
                },
                d = d.display(),
                ssl = if starttls { "yes" } else { "no" },
                cert = c.cert.display(),
                key = c.key.display(),
            ),
        )
        .unwrap();
        let child = run_dovecot(&dovecot, d, &[imap_port]);
        Dovecot {
            imap_port,
            imaps_port,
            dir,
            _child: child,
        }
    }

    /// Dovecot's log.
    pub fn log(&self) -> String {
        dovecot_log(self.dir.path())
    }
}

/// Dovecot (required installed) and a new temp dir named `prefix`… that its processes
/// can read, for [`run_dovecot`]. Needs root.
pub(crate) fn dovecot_dir(prefix: &str) -> (PathBuf, TempDir) {
    let dovecot = require("/usr/sbin/dovecot", "dovecot-imapd");
    assert!(crate::is_root(), "Dovecot needs root");
    let dir = tempfile::Builder::new().prefix(prefix).tempdir().unwrap();
    chmod(dir.path(), 0o755);
    (dovecot, dir)
}

/// Starts Dovecot in the foreground on `dir`/dovecot.conf (logging to `dir`/dovecot.log)
/// and waits until each of `ports` on 127.0.0.1 accepts connections.
pub(crate) fn run_dovecot(dovecot: &Path, dir: &Path, ports: &[u16]) -> Guard {
    let child = Guard::spawn(
        Command::new(dovecot)
            .arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    for &port in ports {
        assert!(
            wait_until(10.0, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "dovecot did not start listening on {port}: {}",
            dovecot_log(dir)
        );
    }
    child
}

/// The log of the Dovecot run by [`run_dovecot`] on `dir`.
pub(crate) fn dovecot_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("dovecot.log")).unwrap_or_default()
}
