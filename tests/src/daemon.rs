//! Harness for the daemon tests: a real Exim receiving notification mail into a
//! maildir, and an `hcoop-monitor` daemon on a configuration in a temp dir, with its
//! status API, SIGHUP, SIGKILL and restarts.

use crate::{bin, free_port, require, spawn_listening, wait_until, Guard};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// The checks most daemon tests run, as a literal (for `concat!`): host `db` with the
/// service `bad`, always CRITICAL, and `good`, always OK, checked every second.
#[macro_export]
macro_rules! db_checks {
    () => {
        r#"
[defaults]
check_interval = "1s"
retry_interval = "1s"
max_check_attempts = 1

[[host]]
name = "db"
address = "127.0.0.1"

[[service]]
host = "db"
name = "bad"
command = "/bin/sh -c 'echo PG CRITICAL - down; exit 2'"

[[service]]
host = "db"
name = "good"
command = "/bin/echo PG OK"
"#
    };
}

/// [`db_checks!`] as a constant.
pub const DB_CHECKS: &str = db_checks!();

/// A TOML string (basic string, escaped).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string is JSON")
}

/// A TOML array of strings.
fn toml_args(args: &[&str]) -> String {
    serde_json::to_string(args).expect("strings are JSON")
}

/// A `[[host]]` of the daemon's configuration at 127.0.0.1; `check` is its host check (a
/// built-in check and its arguments), if any.
pub fn host(name: &str, check: Option<(&str, &[&str])>) -> String {
    let check = check.map_or(String::new(), |(check, args)| {
        format!("check = {}\nargs = {}\n", toml_str(check), toml_args(args))
    });
    format!(
        "\n[[host]]\nname = {}\naddress = \"127.0.0.1\"\n{check}",
        toml_str(name)
    )
}

/// A `[[service]]` of `host` running the built-in `check` with `args`.
pub fn service(host: &str, name: &str, check: &str, args: &[&str]) -> String {
    format!(
        "\n[[service]]\nhost = {}\nname = {}\ncheck = {}\nargs = {}\n",
        toml_str(host),
        toml_str(name),
        toml_str(check),
        toml_args(args)
    )
}

/// A `[[service]]` of `host` running the external `command` line, with `more` settings.
pub fn command_service(host: &str, name: &str, command: &str, more: &str) -> String {
    format!(
        "\n[[service]]\nhost = {}\nname = {}\ncommand = {}\n{more}",
        toml_str(host),
        toml_str(name),
        toml_str(command)
    )
}

/// A received mail: its envelope recipient and subject.
#[derive(Debug, Clone, PartialEq)]
pub struct Mail {
    pub to: String,
    pub subject: String,
}

/// Exim listening on 127.0.0.1, delivering every message to one maildir.
pub struct Exim {
    pub port: u16,
    dir: TempDir,
    _child: Guard,
}

impl Exim {
    /// Starts Exim (Debian's exim4-daemon-light) in a temp dir; waits until it answers.
    pub fn start() -> Exim {
        let exim = require("exim4", "exim4-daemon-light");
        assert!(
            crate::is_root(),
            "Exim needs root to start with its own configuration"
        );
        let dir = tempfile::Builder::new().prefix("exim").tempdir().unwrap();
        let d = dir.path();
        chmod(d, 0o755);
        for sub in ["spool", "log", "mail"] {
            std::fs::create_dir(d.join(sub)).unwrap();
            let ok = Command::new("chown")
                .arg("Debian-exim:Debian-exim")
                .arg(d.join(sub))
                .status()
                .unwrap()
                .success();
            assert!(
                ok,
                "chown Debian-exim failed (exim4-daemon-light installed?)"
            );
        }
        let port = free_port();
        let conf = d.join("exim.conf");
        std::fs::write(
            &conf,
            format!(
                "primary_hostname = monitor.test\n\
                 domainlist local_domains = *\n\
                 keep_environment =\n\
                 tls_advertise_hosts =\n\
                 spool_directory = {d}/spool\n\
                 log_file_path = {d}/log/%slog\n\
                 daemon_smtp_ports = {port}\n\
                 local_interfaces = 127.0.0.1\n\
                 acl_smtp_rcpt = acl_check_rcpt\n\
                 begin acl\nacl_check_rcpt:\n  accept\n\
                 begin routers\ncatchall:\n  driver = accept\n  transport = maildir\n\
                 begin transports\nmaildir:\n  driver = appendfile\n  directory = {d}/mail\n\
                 \x20 maildir_format\n  create_directory\n  envelope_to_add\n\
                 \x20 user = Debian-exim\n  group = Debian-exim\n",
                d = d.display()
            ),
        )
        .unwrap();
        chmod(&conf, 0o644);
        // exim keeps root (needed to deliver as Debian-exim) only for listed configs
        crate::exim::trust_config(&conf);
        let mut cmd = Command::new(exim);
        cmd.arg("-C").arg(&conf).arg("-bdf");
        let child = spawn_listening(&mut cmd, ("127.0.0.1", port), 10.0, || {
            "exim did not start listening".into()
        });
        Exim {
            port,
            dir,
            _child: child,
        }
    }

    /// Every mail delivered so far.
    pub fn mails(&self) -> Vec<Mail> {
        let mut out = Vec::new();
        let Ok(entries) = std::fs::read_dir(self.dir.path().join("mail/new")) else {
            return out;
        };
        for e in entries.flatten() {
            let text = std::fs::read_to_string(e.path()).unwrap_or_default();
            let header = |name: &str| {
                text.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .unwrap_or("")
                    .trim()
                    .to_string()
            };
            out.push(Mail {
                to: header("Envelope-to:"),
                subject: header("Subject:"),
            });
        }
        out.sort_by(|a, b| (&a.subject, &a.to).cmp(&(&b.subject, &b.to)));
        out
    }

    /// Waits until at least `n` mails arrived; returns them.
    pub fn wait_mails(&self, n: usize, secs: f64) -> Vec<Mail> {
        wait_until(secs, || self.mails().len() >= n);
        self.mails()
    }
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A running `hcoop-monitor` daemon on its own configuration directory.
pub struct Daemon {
    pub dir: TempDir,
    pub port: u16,
    /// The API token of the user `tester` (in the daemon's credentials file).
    pub token: String,
    child: Option<Guard>,
}

impl Daemon {
    /// Writes `config` (TOML without a `[daemon]` section: it is added, with the status
    /// port, state file, control socket and credentials file in the temp dir; settings of
    /// `[daemon]` may follow at the start of `config`) and starts the daemon.
    pub fn start(config: &str) -> Daemon {
        crate::ensure_plugin_user();
        let dir = tempfile::Builder::new().prefix("daemon").tempdir().unwrap();
        chmod(dir.path(), 0o755);
        std::fs::create_dir(dir.path().join("checks.d")).unwrap();
        let port = free_port();
        let token = hcoop_monitor::auth::add_token(&dir.path().join("tokens"), "tester").unwrap();
        let mut d = Daemon {
            dir,
            port,
            token,
            child: None,
        };
        d.write_config(config);
        d.spawn();
        d
    }

    /// Replaces the configuration (takes effect on [`Daemon::hup`]).
    pub fn write_config(&self, config: &str) {
        let daemon = format!(
            "[daemon]\nlisten = \"127.0.0.1:{}\"\nstate_file = \"{}\"\nretention_interval = \"1s\"\n\
             socket = \"{}\"\ncredentials_file = \"{}\"\n",
            self.port,
            self.state_file().display(),
            self.socket().display(),
            self.dir.path().join("tokens").display(),
        );
        std::fs::write(
            self.config_dir().join("a.toml"),
            format!("{daemon}{config}"),
        )
        .unwrap();
    }

    /// Kills the daemon (SIGKILL) and starts it again on `config` (as in [`Daemon::start`]).
    pub fn restart_with(&mut self, config: &str) {
        self.write_config(config);
        self.kill9();
        self.spawn();
    }

    /// The configuration directory.
    pub fn config_dir(&self) -> PathBuf {
        self.dir.path().join("checks.d")
    }

    /// The control socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/control.sock")
    }

    /// The saved-state file.
    pub fn state_file(&self) -> PathBuf {
        self.dir.path().join("state.json")
    }

    /// Starts (again) and waits for the status API.
    pub fn spawn(&mut self) {
        self.start_process();
        let port = self.port;
        assert!(
            wait_until(10.0, || std::net::TcpStream::connect(("127.0.0.1", port))
                .is_ok()),
            "daemon did not start: {}",
            self.log()
        );
    }

    /// Starts (again) and waits for the control socket only (the TCP port may be taken).
    pub fn spawn_without_api(&mut self) {
        self.start_process();
        let socket = self.socket();
        assert!(
            wait_until(10.0, || std::os::unix::net::UnixStream::connect(&socket)
                .is_ok()),
            "daemon did not start: {}",
            self.log()
        );
    }

    fn start_process(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.log"))
            .unwrap();
        self.child = Some(Guard::spawn(
            Command::new(bin("hcoop-monitor"))
                .arg("-c")
                .arg(self.config_dir())
                .arg("run")
                .env("RUST_LOG", "info")
                .env("NO_COLOR", "1")
                .stdout(Stdio::null())
                .stderr(log),
        ));
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Waits up to `secs` until the log holds `text`; fails with the log otherwise.
    pub fn wait_log(&self, secs: f64, text: &str) {
        let logged = wait_until(secs, || self.log().contains(text));
        assert!(logged, "never logged: {text}\n{}", self.log());
    }

    /// The API address.
    pub fn api(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// GET a JSON API path.
    pub fn get(&self, path: &str) -> serde_json::Value {
        hcoop_monitor::client::request(&self.api(), "GET", path, None)
            .unwrap_or_else(|e| panic!("GET {path}: {e:#}\n{}", self.log()))
    }

    /// The TCP API with the tester's token.
    pub fn endpoint(&self) -> hcoop_monitor::client::Endpoint {
        hcoop_monitor::client::Endpoint::Tcp {
            addr: self.api(),
            token: Some(self.token.clone()),
        }
    }

    /// POST a JSON body with the tester's token; the answer or its error text.
    pub fn post(&self, path: &str, body: serde_json::Value) -> Result<serde_json::Value, String> {
        self.endpoint()
            .request("POST", path, Some(body.to_string()))
            .map_err(|e| e.to_string())
    }

    /// Runs `hcoop-monitor -c CONFIG ARGS` (the CLI, through the control socket).
    pub fn cli(&self, args: &[&str]) -> crate::Run {
        crate::run(
            &bin("hcoop-monitor"),
            &[&["-c", self.config_dir().to_str().unwrap()], args].concat(),
        )
    }

    /// Acknowledges the problem of `target` ("host/service") as author `t`.
    pub fn ack(
        &self,
        target: &str,
        comment: &str,
        sticky: bool,
    ) -> Result<serde_json::Value, String> {
        self.post(
            "/api/ack",
            serde_json::json!({"target": target, "author": "t", "comment": comment, "sticky": sticky}),
        )
    }

    /// Schedules a downtime of `target` for `duration` as author `t`; its id.
    pub fn downtime(&self, target: &str, duration: &str, comment: &str) -> Result<u64, String> {
        self.post(
            "/api/downtime",
            serde_json::json!({"target": target, "duration": duration, "author": "t", "comment": comment}),
        )
        .map(|v| v["id"].as_u64().expect("downtime id"))
    }

    /// One service's view ("host/service"), if the daemon has it.
    pub fn find_service(&self, name: &str) -> Option<serde_json::Value> {
        let all = self.get("/api/services");
        all.as_array()?
            .iter()
            .find(|v| {
                let host = v["host"].as_str().unwrap_or("");
                let service = v["service"].as_str().unwrap_or("");
                format!("{host}/{service}") == name
            })
            .cloned()
    }

    /// One service's view ("host/service").
    pub fn service(&self, name: &str) -> serde_json::Value {
        self.find_service(name)
            .unwrap_or_else(|| panic!("no service {name}: {}", self.get("/api/services")))
    }

    /// Waits until `f` holds for a service's view.
    pub fn wait_service(
        &self,
        name: &str,
        secs: f64,
        f: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let ok = wait_until(secs, || self.find_service(name).is_some_and(|v| f(&v)));
        let v = self.service(name);
        assert!(ok, "{name} never got there: {v}\n{}", self.log());
        v
    }

    /// The daemon's pid.
    pub fn pid(&self) -> i32 {
        self.child.as_ref().expect("running").pid() as i32
    }

    /// Sends a signal.
    pub fn signal(&self, sig: i32) {
        // SAFETY: signals our own child.
        unsafe { libc::kill(self.pid(), sig) };
    }

    /// SIGHUP: reload.
    pub fn hup(&self) {
        self.signal(libc::SIGHUP);
    }

    /// SIGKILL and reap.
    pub fn kill9(&mut self) {
        if let Some(mut g) = self.child.take() {
            g.0.kill().unwrap();
            g.0.wait().unwrap();
        }
    }

    /// Whether the daemon process still runs.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|g| g.0.try_wait().ok().flatten().is_none())
    }
}

/// State-file tests: DELETE, another state file, the metrics text.
impl Daemon {
    /// GET a JSON API path; the answer or its error text.
    pub fn try_get(&self, path: &str) -> Result<serde_json::Value, String> {
        hcoop_monitor::client::request(&self.api(), "GET", path, None).map_err(|e| e.to_string())
    }

    /// DELETE with the tester's token; the answer or its error text.
    pub fn delete(&self, path: &str) -> Result<serde_json::Value, String> {
        self.endpoint()
            .request("DELETE", path, None)
            .map_err(|e| e.to_string())
    }

    /// Points `state_file` of the configuration at `path` (takes effect at the next
    /// start).
    pub fn set_state_file(&self, path: &Path) {
        let file = self.config_dir().join("a.toml");
        let text = std::fs::read_to_string(&file).unwrap();
        let old = format!("state_file = \"{}\"", self.state_file().display());
        assert!(text.contains(&old), "{text}");
        let new = format!("state_file = \"{}\"", path.display());
        std::fs::write(&file, text.replace(&old, &new)).unwrap();
    }

    /// The value of one line of /metrics: `name` with its labels as printed (`None`
    /// when absent).
    pub fn metric(&self, name: &str) -> Option<f64> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(self.api()).ok()?;
        s.write_all(b"GET /metrics HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        text.lines().find_map(|l| {
            let (n, v) = l.rsplit_once(' ')?;
            (n == name).then(|| v.parse().ok())?
        })
    }
}
