//! A real Icinga 2 in a temporary prefix: its data, log, cache, spool and run
//! directories overridden on the command line, a CA and node certificate made with
//! `icinga2 pki` so the REST API listens on a loopback port, an ApiUser with a
//! password, another authenticated by a client certificate, and the daemon in the
//! foreground as a child killed on drop. The API is read with curl, verifying the
//! server against the test CA.

use crate::{free_port, require, target_dir, wait_until, Guard, Run};
use serde_json::{json, Value};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// The test node's name, which its certificate carries.
pub const NODE: &str = "icinga.hcoop.test";
/// The ApiUser with every permission.
pub const USER: &str = "hcoop";
/// Its password.
pub const PASSWORD: &str = "s3cret-icinga";
/// The common name of the client certificate of the ApiUser `forwarder`.
pub const CLIENT_CN: &str = "hcoop-forwarder";

fn icinga2() -> PathBuf {
    require("icinga2", "icinga2-bin")
}

/// The workspace's `dist/icinga2` directory.
pub fn dist_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../dist/icinga2")
}

/// The `*.conf` files of `dist/icinga2`, sorted; fails when there are none.
pub fn dist_files() -> Vec<PathBuf> {
    let dir = dist_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (the Icinga 2 CheckCommands are missing)",
                dir.display()
            )
        })
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no CheckCommand file (*.conf) in {}",
        dir.display()
    );
    files
}

/// `include` lines for every file of `dist/icinga2`.
pub fn dist_includes() -> String {
    dist_files()
        .iter()
        .map(|f| format!("include \"{}\"\n", f.display()))
        .collect()
}

/// A name percent-encoded for a URL path.
fn escape(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'!' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A temporary Icinga 2 prefix with its certificates.
pub struct Prefix {
    pub dir: TempDir,
}

impl Prefix {
    /// Makes the directories, the CA, the node certificate and the client
    /// certificate (all with `icinga2 pki`), and the password file.
    pub fn new() -> Prefix {
        let dir = tempfile::Builder::new()
            .prefix("icinga2")
            .tempdir()
            .unwrap();
        let p = Prefix { dir };
        for sub in [
            "etc",
            "data/certs",
            "log",
            "cache",
            "spool",
            "run",
            "client",
        ] {
            std::fs::create_dir_all(p.path(sub)).unwrap();
        }
        p.pki(&["new-ca"]);
        std::fs::copy(p.path("data/ca/ca.crt"), p.ca_file()).unwrap();
        p.sign(NODE, &p.path(&format!("data/certs/{NODE}")));
        p.sign(CLIENT_CN, &p.path("client/forwarder"));
        std::fs::write(p.password_file(), format!("{PASSWORD}\n")).unwrap();
        p
    }

    /// A path inside the prefix.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The CA certificate Icinga's API certificate is signed by.
    pub fn ca_file(&self) -> PathBuf {
        self.path("data/certs/ca.crt")
    }

    /// A file holding [`PASSWORD`].
    pub fn password_file(&self) -> PathBuf {
        self.path("client/password")
    }

    /// The client certificate (common name [`CLIENT_CN`]) and its key.
    pub fn client_cert(&self) -> (PathBuf, PathBuf) {
        (
            self.path("client/forwarder.crt"),
            self.path("client/forwarder.key"),
        )
    }

    /// The `-D` options that move every Icinga path into the prefix.
    fn defines(&self) -> Vec<String> {
        let d = self.dir.path().display();
        vec![
            format!("-DDataDir={d}/data"),
            format!("-DLogDir={d}/log"),
            format!("-DCacheDir={d}/cache"),
            format!("-DSpoolDir={d}/spool"),
            format!("-DInitRunDir={d}/run"),
            "-DRunAsUser=root".into(),
            "-DRunAsGroup=root".into(),
        ]
    }

    fn pki(&self, args: &[&str]) {
        let r: Run = Command::new(icinga2())
            .arg("pki")
            .args(args)
            .args(self.defines())
            .output()
            .expect("run icinga2 pki")
            .into();
        assert_eq!(r.code, 0, "icinga2 pki {args:?}: {}{}", r.stdout, r.stderr);
    }

    /// A key and a certificate for `cn` signed by the prefix's CA, at `base`.key/.crt.
    fn sign(&self, cn: &str, base: &Path) {
        let file = |ext: &str| format!("{}.{ext}", base.display());
        self.pki(&[
            "new-cert",
            "--cn",
            cn,
            "--key",
            &file("key"),
            "--csr",
            &file("csr"),
        ]);
        self.pki(&["sign-csr", "--csr", &file("csr"), "--cert", &file("crt")]);
    }

    /// Writes the main configuration: the node, its zone and API listener on `port`,
    /// the two ApiUsers, the Icinga Template Library with its plugin commands (our
    /// CheckCommands import its `ipv4-or-ipv6` template), `HcoopPluginDir` pointed at our
    /// built plugins, then `objects` (see [`dist_includes`]).
    pub fn write_config(&self, port: u16, objects: &str) -> PathBuf {
        let text = format!(
            "const NodeName = \"{NODE}\"\n\
             const ZoneName = NodeName\n\
             const HcoopPluginDir = \"{plugins}\"\n\
             const PluginDir = \"/usr/lib/nagios/plugins\"\n\
             include <itl>\n\
             include <plugins>\n\
             object CheckerComponent \"checker\" {{ }}\n\
             object IcingaApplication \"app\" {{ }}\n\
             object Endpoint NodeName {{ }}\n\
             object Zone ZoneName {{ endpoints = [ NodeName ] }}\n\
             object ApiListener \"api\" {{\n  bind_host = \"127.0.0.1\"\n  bind_port = {port}\n}}\n\
             object ApiUser \"{USER}\" {{\n  password = \"{PASSWORD}\"\n  permissions = [ \"*\" ]\n}}\n\
             object ApiUser \"forwarder\" {{\n  client_cn = \"{CLIENT_CN}\"\n  \
             permissions = [ \"actions/process-check-result\" ]\n}}\n\
             {objects}\n",
            plugins = target_dir().display()
        );
        let file = self.path("etc/icinga2.conf");
        std::fs::write(&file, text).unwrap();
        file
    }

    /// `icinga2 daemon -C` on the configuration with `objects`.
    pub fn validate(&self, objects: &str) -> Run {
        let file = self.write_config(free_port(), objects);
        Command::new(icinga2())
            .args(["daemon", "-C", "-c"])
            .arg(file)
            .args(self.defines())
            .output()
            .expect("run icinga2 daemon -C")
            .into()
    }
}

impl Default for Prefix {
    fn default() -> Self {
        Prefix::new()
    }
}

/// A running Icinga 2 with its REST API on 127.0.0.1; its whole process group is
/// killed on drop.
pub struct Icinga {
    pub prefix: Prefix,
    pub port: u16,
    child: Guard,
}

impl Drop for Icinga {
    fn drop(&mut self) {
        // SAFETY: kill has no memory preconditions; the group is the one Icinga leads
        unsafe {
            libc::kill(-(self.child.pid() as libc::pid_t), libc::SIGKILL);
        }
    }
}

impl Icinga {
    /// Starts Icinga 2 in a new prefix with `objects` added to the configuration and
    /// waits until its API answers.
    pub fn start(objects: &str) -> Icinga {
        require("curl", "curl");
        let prefix = Prefix::new();
        let port = free_port();
        let file = prefix.write_config(port, objects);
        let log = std::fs::File::create(prefix.path("log/console.log")).unwrap();
        let child = Guard::spawn(
            Command::new(icinga2())
                .args(["daemon", "-c"])
                .arg(file)
                .args(prefix.defines())
                // Icinga forks its daemon and a process spawner: all go with the group
                .process_group(0)
                .stdin(Stdio::null())
                .stdout(log.try_clone().unwrap())
                .stderr(log),
        );
        let icinga = Icinga {
            prefix,
            port,
            child,
        };
        assert!(
            wait_until(30.0, || icinga
                .try_request("GET", "/v1/status", None)
                .is_ok()),
            "icinga2 did not start its API: {}",
            icinga.log()
        );
        icinga
    }

    /// What Icinga printed.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.prefix.path("log/console.log")).unwrap_or_default()
    }

    /// One API request as [`USER`]: the HTTP status and the JSON reply.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), String> {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "10", "-X", method])
            .arg("--cacert")
            .arg(self.prefix.ca_file())
            .arg("--resolve")
            .arg(format!("{NODE}:{}:127.0.0.1", self.port))
            .args(["-u", &format!("{USER}:{PASSWORD}")])
            .args(["-H", "Accept: application/json"])
            .args(["-w", "\n%{http_code}"]);
        if let Some(b) = body {
            cmd.args(["-d", &b.to_string()]);
        }
        cmd.arg(format!("https://{NODE}:{}{path}", self.port));
        let r: Run = cmd.output().expect("run curl").into();
        if r.code != 0 {
            return Err(format!("curl {method} {path}: {}", r.stderr.trim()));
        }
        let (text, code) = r.stdout.rsplit_once('\n').unwrap_or(("", ""));
        let code: u16 = code.trim().parse().map_err(|_| r.stdout.clone())?;
        let value = serde_json::from_str(text).map_err(|e| format!("{e}: {text}"))?;
        Ok((code, value))
    }

    /// One API request that must answer 200.
    pub fn request(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        match self.try_request(method, path, body) {
            Ok((200, v)) => v,
            Ok((code, v)) => panic!("{method} {path}: HTTP {code}: {v}"),
            Err(e) => panic!("{e}"),
        }
    }

    /// Evaluates an Icinga DSL expression in the API console and returns its value.
    pub fn eval(&self, script: &str) -> Value {
        let v = self.request(
            "POST",
            "/v1/console/execute-script",
            Some(&json!({ "command": script, "session": "hcoop-tests" })),
        );
        let r = &v["results"][0];
        assert_eq!(r["code"], 200, "{script}: {v}");
        r["result"].clone()
    }

    /// The attributes of one object (`services`, `h!s`).
    pub fn object(&self, kind: &str, name: &str) -> Value {
        let v = self.request("GET", &format!("/v1/objects/{kind}/{}", escape(name)), None);
        v["results"][0]["attrs"].clone()
    }

    /// Waits until the service's last check result satisfies `ready`, and returns it.
    pub fn wait_result(
        &self,
        host: &str,
        service: &str,
        secs: f64,
        ready: impl Fn(&Value) -> bool,
    ) -> Value {
        let name = format!("{host}!{service}");
        let mut last = Value::Null;
        wait_until(secs, || {
            last = self.object("services", &name)["last_check_result"].clone();
            !last.is_null() && ready(&last)
        });
        assert!(
            !last.is_null() && ready(&last),
            "{name}: no matching check result within {secs}s; last: {last}"
        );
        last
    }

    /// The service's perfdata as Icinga parses it (`parse_performance_data` of each
    /// item of its last check result).
    pub fn parsed_perfdata(&self, host: &str, service: &str) -> Value {
        let host = serde_json::to_string(host).unwrap();
        let service = serde_json::to_string(service).unwrap();
        self.eval(&format!(
            "get_service({host}, {service}).last_check_result.performance_data\
             .map(p => typeof(p) == String ? parse_performance_data(p) : p)"
        ))
    }
}

/// A loopback TCP port that refuses connections for as long as this lives: a socket
/// bound to it without listening, so no other server (or `free_port`) can take it.
pub struct ClosedPort {
    fd: std::os::fd::OwnedFd,
    pub port: u16,
}

impl ClosedPort {
    /// Binds 127.0.0.1:0 without listening.
    pub fn new() -> ClosedPort {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: plain socket calls on a descriptor we own; the address structs are
        // zero-initialised and sized as the calls expect.
        unsafe {
            let raw = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(raw >= 0, "socket: {}", std::io::Error::last_os_error());
            let fd = std::os::fd::OwnedFd::from_raw_fd(raw);
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            let rc = libc::bind(fd.as_raw_fd(), (&raw const addr).cast(), len);
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let mut got = len;
            let rc = libc::getsockname(fd.as_raw_fd(), (&raw mut addr).cast(), &mut got);
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            ClosedPort {
                fd,
                port: u16::from_be(addr.sin_port),
            }
        }
    }
}

impl Default for ClosedPort {
    fn default() -> Self {
        ClosedPort::new()
    }
}

impl std::fmt::Debug for ClosedPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ClosedPort({}, fd {:?})", self.port, self.fd)
    }
}
