//! NRPE peers for the end-to-end tests: our agent (`hcoop-monitor nrpe`) and Debian's
//! nrpe daemon, each with its own nrpe.cfg in a temp dir on a loopback port; Debian's
//! check_nrpe; a test CA with server and client certificates made by openssl.
//!
//! Like Debian's nrpe, our agent started as root becomes `nrpe_user`: [`Server::agent`]
//! runs it as user nagios (from nagios-nrpe-server).

use crate::testca::TestCa;
use crate::{bin, free_port, require, run, wait_until, Guard, Run};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Debian's nrpe daemon.
pub fn debian_nrpe() -> PathBuf {
    require("/usr/sbin/nrpe", "nagios-nrpe-server")
}

/// Runs Debian's check_nrpe.
pub fn check_nrpe(args: &[&str]) -> Run {
    run(&crate::debian_plugin("check_nrpe"), args)
}

/// Runs our check_nrpe_client.
pub fn client(args: &[&str]) -> Run {
    crate::plugin("check_nrpe_client", args)
}

/// `-H 127.0.0.1 -p PORT` followed by `more`.
fn at<'a>(port: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["-H", "127.0.0.1", "-p", port];
    args.extend(more);
    args
}

/// Debian's check_nrpe against 127.0.0.1:`port` with `more` arguments.
pub fn check_nrpe_at(port: u16, more: &[&str]) -> Run {
    check_nrpe(&at(&port.to_string(), more))
}

/// Our check_nrpe_client against 127.0.0.1:`port` with `more` arguments.
pub fn client_at(port: u16, more: &[&str]) -> Run {
    client(&at(&port.to_string(), more))
}

/// [`client_at`] with `--output-format json` (given before `more`, whose `-a` takes
/// every argument after it): the result as JSON, its exit code checked.
pub fn client_json_at(port: u16, more: &[&str]) -> serde_json::Value {
    let p = port.to_string();
    let args = [&["--output-format", "json"][..], &at(&p, more)].concat();
    crate::json_of("check_nrpe_client", &args, &client(&args))
}

/// A CA, a server certificate (for 127.0.0.1 and localhost) and a client certificate
/// signed by it, as PEM files.
pub struct Certs {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A client certificate from another CA.
    pub stranger_cert: PathBuf,
    pub stranger_key: PathBuf,
}

impl Certs {
    /// Makes the certificates in `dir` with openssl.
    pub fn make(dir: &Path) -> Certs {
        let ca = TestCa::new(dir, "ca", "ca");
        let other = TestCa::new(dir, "otherca", "otherca");
        let server_ext = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n";
        let client_ext = "extendedKeyUsage=clientAuth\n";
        let (server_cert, server_key) = ca.issue("server", "server", server_ext);
        let (client_cert, client_key) = ca.issue("client", "client", client_ext);
        let (stranger_cert, stranger_key) = other.issue("stranger", "stranger", client_ext);
        // the nagios user must read them when Debian's nrpe drops privileges
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            let _ =
                std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o644));
        }
        Certs {
            ca: ca.cert(),
            server_cert,
            server_key,
            client_cert,
            client_key,
            stranger_cert,
            stranger_key,
        }
    }

    /// nrpe.cfg lines serving the server certificate and requiring a client certificate
    /// signed by the CA.
    pub fn nrpe_cfg(&self) -> String {
        format!(
            "ssl_cert_file={}\nssl_privatekey_file={}\nssl_cacert_file={}\nssl_client_certs=2\n",
            self.server_cert.display(),
            self.server_key.display(),
            self.ca.display()
        )
    }

    /// check_nrpe's `-A CA -C CERT -K KEY` with the client certificate.
    pub fn client_args(&self) -> [&str; 6] {
        fn s(p: &Path) -> &str {
            p.to_str().expect("UTF-8 path")
        }
        [
            "-A",
            s(&self.ca),
            "-C",
            s(&self.client_cert),
            "-K",
            s(&self.client_key),
        ]
    }
}

/// Waits until something accepts connections on 127.0.0.1:port.
pub fn wait_listening(port: u16) {
    assert!(
        wait_until(10.0, || TcpStream::connect(("127.0.0.1", port)).is_ok()),
        "nothing listens on 127.0.0.1:{port}"
    );
}

/// A running NRPE server (ours or Debian's) with its temp dir and port.
pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    child: Guard,
}

/// How to start our agent besides its nrpe.cfg body.
#[derive(Default)]
pub struct AgentStart<'a> {
    /// `-n`: plain TCP.
    pub plain: bool,
    /// More arguments of `hcoop-monitor nrpe`.
    pub args: &'a [&'a str],
    /// Variables added to the agent's environment.
    pub env: &'a [(&'a str, &'a str)],
    /// The agent's working directory (default: the test's).
    pub cwd: Option<&'a Path>,
    /// Start the agent as this user instead of root (through setpriv).
    pub as_user: Option<&'a str>,
}

/// The user our agent becomes in the tests, as Debian's nrpe does.
pub const AGENT_USER: &str = "nagios";

/// Writes an nrpe.cfg of `body` (the port and address added) in a new temp dir and
/// returns the command starting our agent on it, with its log in `agent.log`.
fn agent_command(body: &str, start: &AgentStart) -> (tempfile::TempDir, u16, Command) {
    require("/usr/sbin/nrpe", "nagios-nrpe-server");
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = dir.path().join("nrpe.cfg");
    std::fs::write(
        &cfg,
        format!("server_port={port}\nserver_address=127.0.0.1\n{body}\n"),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("agent.log")).unwrap();
    let mut cmd = match start.as_user {
        None => Command::new(bin("hcoop-monitor")),
        Some(user) => {
            // the agent's user reads the configuration in the temp dir
            std::fs::set_permissions(
                dir.path(),
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
            .unwrap();
            let mut c = Command::new(require("setpriv", "util-linux"));
            c.args(["--reuid", user, "--regid", user, "--init-groups", "--"])
                .arg(bin("hcoop-monitor"));
            c
        }
    };
    cmd.arg("nrpe")
        .arg("-c")
        .arg(&cfg)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .args(start.args)
        .envs(start.env.iter().copied())
        .stdout(Stdio::null())
        .stderr(log);
    if start.plain {
        cmd.arg("-n");
    }
    if let Some(d) = start.cwd {
        cmd.current_dir(d);
    }
    (dir, port, cmd)
}

/// Runs our agent on `body` until it exits by itself (within 10 s): its exit code and
/// what it wrote on stderr.
pub fn agent_exit(body: &str, args: &[&str]) -> (Option<i32>, String) {
    let (dir, _, mut cmd) = agent_command(
        body,
        &AgentStart {
            plain: true,
            args,
            ..Default::default()
        },
    );
    let mut child = Guard::spawn(&mut cmd);
    let mut code = None;
    wait_until(10.0, || match child.0.try_wait() {
        Ok(Some(status)) => {
            code = status.code();
            true
        }
        _ => false,
    });
    let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
    (code, log)
}

impl Server {
    /// Port as text, for command lines.
    pub fn port_arg(&self) -> String {
        self.port.to_string()
    }

    /// Debian's check_nrpe against this server with `more` arguments.
    pub fn check_nrpe(&self, more: &[&str]) -> Run {
        check_nrpe_at(self.port, more)
    }

    /// Our check_nrpe_client against this server with `more` arguments.
    pub fn client(&self, more: &[&str]) -> Run {
        client_at(self.port, more)
    }

    /// [`Server::client`] as JSON ([`client_json_at`]).
    pub fn client_json(&self, more: &[&str]) -> serde_json::Value {
        client_json_at(self.port, more)
    }

    /// Our agent serving `body` (nrpe.cfg lines; the port and address are added, and
    /// `nrpe_user=nagios` when the body names no user). `plain` starts it with `-n`.
    pub fn agent(body: &str, plain: bool) -> Server {
        Server::agent_with(
            body,
            &AgentStart {
                plain,
                ..Default::default()
            },
        )
    }

    /// [`Server::agent`] with more ways to start it.
    pub fn agent_with(body: &str, start: &AgentStart) -> Server {
        let body = if body.contains("nrpe_user=") {
            body.to_string()
        } else {
            format!("nrpe_user={AGENT_USER}\n{body}")
        };
        let (dir, port, mut cmd) = agent_command(&body, start);
        let mut child = Guard::spawn(&mut cmd);
        let listening = wait_until(10.0, || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
                || matches!(child.0.try_wait(), Ok(Some(_)))
        });
        let log = || std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
        assert!(
            listening && matches!(child.0.try_wait(), Ok(None)),
            "the agent did not start: {}",
            log()
        );
        Server { port, dir, child }
    }

    /// What our agent wrote on stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("agent.log")).unwrap_or_default()
    }

    /// The server process's pid.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// Debian's nrpe serving `body`, in the foreground as user nagios; `plain` starts
    /// it with `-n`.
    pub fn debian(body: &str, plain: bool) -> Server {
        let nrpe = debian_nrpe();
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(
            dir.path(),
            std::os::unix::fs::PermissionsExt::from_mode(0o777),
        )
        .unwrap();
        let port = free_port();
        let cfg = dir.path().join("nrpe.cfg");
        std::fs::write(
            &cfg,
            format!(
                "server_port={port}\nserver_address=127.0.0.1\nnrpe_user=nagios\nnrpe_group=nagios\n\
                 pid_file={}\nallowed_hosts=127.0.0.1\n{body}\n",
                dir.path().join("nrpe.pid").display()
            ),
        )
        .unwrap();
        let mut cmd = Command::new(nrpe);
        cmd.arg("-c").arg(&cfg).arg("-f");
        if plain {
            cmd.arg("-n");
        }
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        let child = Guard::spawn(&mut cmd);
        wait_listening(port);
        Server { port, dir, child }
    }
}
