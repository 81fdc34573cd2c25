//! Real OpenAFS servers for check_afs. Ubik refuses loopback addresses, so each [`Cell`]
//! lives in a network namespace of its own holding a veth pair with [`SERVER`] and
//! [`PEER`] (traffic never leaves the namespace). The database servers (`vlserver`,
//! `ptserver`) run from a temp dir; a bosserver with a file server instance runs with
//! Debian's fixed paths (`/etc/openafs`, `/var/lib/openafs`, `/var/log/openafs`,
//! `/vicepa`) bind-mounted from the temp dir in its own mount namespace. Dropping the
//! cell kills every process in the namespace and deletes it, also when a test fails.

use crate::{bin, require, run, wait_until, Guard, Run};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The address the servers run on.
pub const SERVER: &str = "10.77.0.1";
/// The other end of the veth pair (another address of the same namespace).
pub const PEER: &str = "10.77.0.2";
/// Rx ports of the servers.
pub const FILESERVER_PORT: u16 = 7000;
pub const PTSERVER_PORT: u16 = 7002;
pub const VLSERVER_PORT: u16 = 7003;
pub const VOLSERVER_PORT: u16 = 7005;
pub const BOSSERVER_PORT: u16 = 7007;
/// The cell's name.
pub const CELL: &str = "hcoop.test";

const DB_PACKAGE: &str = "openafs-dbserver";
const CLIENT_PACKAGE: &str = "openafs-client";
const FS_PACKAGE: &str = "openafs-fileserver";
const LIBEXEC: &str = "/usr/lib/openafs";

/// Runs `ip ARGS`; it must succeed.
fn ip(args: &[&str]) {
    let r = run(&require("ip", "iproute2"), args);
    assert_eq!(r.code, 0, "ip {args:?}: {}", r.stderr);
}

/// A network namespace of our own with a veth pair carrying [`SERVER`] and [`PEER`].
struct Netns {
    name: String,
}

impl Netns {
    fn create() -> Netns {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "hcoop-afs-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        let (server, peer) = (format!("{SERVER}/24"), format!("{PEER}/24"));
        let steps: [&[&str]; 6] = [
            &["link", "add", "va", "type", "veth", "peer", "name", "vb"],
            &["addr", "add", &server, "dev", "va"],
            &["addr", "add", &peer, "dev", "vb"],
            &["link", "set", "lo", "up"],
            &["link", "set", "va", "up"],
            &["link", "set", "vb", "up"],
        ];
        for step in steps {
            let mut all = vec!["-n", ns.name.as_str()];
            all.extend(step);
            ip(&all);
        }
        ns
    }

    /// Pids of the processes in the namespace.
    fn pids(&self) -> Vec<i32> {
        run(Path::new("ip"), &["netns", "pids", &self.name])
            .stdout
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // what is left: a bosserver's children (file server, volserver)
        let gone = wait_until(10.0, || {
            let pids = self.pids();
            for &pid in &pids {
                // SAFETY: kill has no memory preconditions; the pid is in our namespace.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            pids.is_empty()
        });
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
        if !gone && !std::thread::panicking() {
            panic!("processes left in network namespace {}", self.name);
        }
    }
}

/// `/vicepa` made as the file server partition's mount point; removed when dropped.
struct VicepDir(PathBuf);

impl Drop for VicepDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A bosserver with a file server instance.
struct Bosserver {
    guard: Guard,
}

/// An AFS cell in a network namespace: database servers, optionally a file server.
/// Fields drop in order: servers first, then every leftover process and the namespace.
pub struct Cell {
    servers: Vec<(&'static str, Guard)>,
    bos: Option<Bosserver>,
    ns: Netns,
    _vicepa: Option<VicepDir>,
    /// Configuration, databases and logs.
    pub dir: tempfile::TempDir,
}

impl Cell {
    /// Creates the namespace and starts `vlserver` and `ptserver` on [`SERVER`] with a
    /// CellServDB listing `db_servers` (which must start with [`SERVER`]; the others are
    /// database servers that never run, e.g. for a set without quorum).
    pub fn start(db_servers: &[&str]) -> Cell {
        assert_eq!(db_servers.first(), Some(&SERVER));
        require("ip", "iproute2");
        let dir = tempfile::tempdir().expect("tempdir");
        let mut csdb = format!(">{CELL} #test cell\n");
        for (i, s) in db_servers.iter().enumerate() {
            csdb.push_str(&format!("{s} #db{}\n", i + 1));
        }
        for (name, text) in [
            ("CellServDB", csdb.as_str()),
            ("ThisCell", CELL),
            ("NetInfo", SERVER),
        ] {
            std::fs::write(dir.path().join(name), format!("{text}\n")).expect("write config");
        }
        let mut cell = Cell {
            servers: Vec::new(),
            bos: None,
            ns: Netns::create(),
            _vicepa: None,
            dir,
        };
        cell.start_db("vlserver", VLSERVER_PORT, &["-noauth"]);
        cell.start_db("ptserver", PTSERVER_PORT, &[]);
        cell
    }

    fn start_db(&mut self, name: &'static str, port: u16, extra: &[&str]) {
        let program = require(&format!("{LIBEXEC}/{name}"), DB_PACKAGE);
        let d = self.dir.path();
        let mut cmd = self.command(&program);
        cmd.args(extra)
            .arg("-config")
            .arg(d)
            .arg("-database")
            .arg(d.join(format!("{name}.db")))
            .arg("-logfile")
            .arg(d.join(format!("{name}.log")))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.servers.push((name, Guard::spawn(&mut cmd)));
        self.wait_for_port(name, port);
    }

    /// Waits until something in the namespace has bound UDP `port`.
    fn wait_for_port(&self, name: &str, port: u16) {
        let filter = format!("sport = :{port}");
        assert!(
            wait_until(10.0, || !self
                .run(&require("ss", "iproute2"), &["-Hunl", &filter])
                .stdout
                .trim()
                .is_empty()),
            "{name} did not bind UDP port {port}; its log: {}",
            self.log(name)
        );
    }

    /// The log of a database server started by [`Cell::start`] or, for a bosserver
    /// instance, its log under /var/log/openafs (`FileLog`, `VolserLog`, `BosLog`).
    pub fn log(&self, name: &str) -> String {
        let d = self.dir.path();
        std::fs::read_to_string(d.join(format!("{name}.log")))
            .or_else(|_| std::fs::read_to_string(d.join("fs/log").join(name)))
            .unwrap_or_default()
    }

    /// A command run inside the cell: in the namespace, and, once a file server runs, in
    /// the bosserver's mount namespace too (where the AFS paths are the cell's own).
    pub fn command(&self, program: &Path) -> Command {
        match &self.bos {
            Some(b) => {
                let mut c = Command::new(require("nsenter", "util-linux"));
                c.args(["-t", &b.guard.pid().to_string(), "-m", "-n"])
                    .arg(program);
                c
            }
            None => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", &self.ns.name]).arg(program);
                c
            }
        }
    }

    /// Runs a program inside the cell and waits for it.
    pub fn run(&self, program: &Path, args: &[&str]) -> Run {
        self.command(program)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
            .into()
    }

    /// Runs one of the OpenAFS client tools (`rxdebug`, `udebug`, `vos`, `bos`) inside
    /// the cell; it must succeed. Returns its standard output.
    pub fn tool(&self, program: &str, args: &[&str]) -> String {
        let r = self.run(&require(program, CLIENT_PACKAGE), args);
        assert_eq!(r.code, 0, "{program} {args:?}: {}{}", r.stdout, r.stderr);
        r.stdout
    }

    /// Runs our check_afs inside the cell with `--output-format json` and returns the
    /// object; the exit code must agree with the reported state.
    pub fn check_afs(&self, args: &[&str]) -> serde_json::Value {
        let mut all = args.to_vec();
        all.extend(["--output-format", "json"]);
        let r = self.run(&bin("check_afs"), &all);
        let v: serde_json::Value = serde_json::from_str(r.stdout.trim())
            .unwrap_or_else(|e| panic!("check_afs {args:?}: not JSON ({e}): {r:?}"));
        assert_eq!(
            v["exit_code"], r.code,
            "check_afs {args:?}: exit code vs JSON: {v}"
        );
        v
    }

    /// Stops a database server started by [`Cell::start`] (it no longer answers).
    pub fn stop(&mut self, name: &str) {
        let before = self.servers.len();
        self.servers.retain(|(n, _)| *n != name);
        assert!(self.servers.len() < before, "no server {name} to stop");
    }

    /// Stops a database server with SIGSTOP: it still holds its port but is silent.
    pub fn pause(&self, name: &str) {
        let (_, g) = self
            .servers
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("no server {name} to pause"));
        // SAFETY: kill has no memory preconditions; the pid is our own child's.
        unsafe { libc::kill(g.pid() as i32, libc::SIGSTOP) };
    }

    /// Starts a bosserver (`-noauth`) with a file server instance `fs` on [`SERVER`]
    /// and waits until its volserver lists partition /vicepa.
    pub fn start_fileserver(&mut self) {
        assert!(self.bos.is_none(), "the file server already runs");
        let bosserver = require("/usr/sbin/bosserver", FS_PACKAGE);
        for p in ["fileserver", "volserver", "salvager"] {
            require(&format!("{LIBEXEC}/{p}"), FS_PACKAGE);
        }
        require("mount", "util-linux");
        // the file server registers in the VLDB and asks the ptserver for AnyUser's
        // groups (retrying only after 30 s): wait for recovered sync sites of both
        let udebug = require("udebug", CLIENT_PACKAGE);
        for (name, port) in [("vlserver", VLSERVER_PORT), ("ptserver", PTSERVER_PORT)] {
            let port = port.to_string();
            assert!(
                wait_until(30.0, || self
                    .run(&udebug, &[SERVER, &port])
                    .stdout
                    .contains("Recovery state 1f")),
                "the {name} did not become a recovered sync site: {}",
                self.log(name)
            );
        }
        let fs = self.dir.path().join("fs");
        let binds = [
            ("etc", "/etc/openafs"),
            ("lib", "/var/lib/openafs"),
            ("log", "/var/log/openafs"),
            ("vicepa", "/vicepa"),
        ];
        for (sub, _) in binds {
            std::fs::create_dir_all(fs.join(sub)).expect("mkdir");
        }
        for sub in ["etc/server", "lib/db", "lib/local"] {
            std::fs::create_dir_all(fs.join(sub)).expect("mkdir");
        }
        // bosserver reports "inappropriate access" unless these are private
        for sub in ["lib/db", "lib/local"] {
            std::fs::set_permissions(fs.join(sub), std::fs::Permissions::from_mode(0o700))
                .expect("chmod");
        }
        for etc in ["etc", "etc/server"] {
            for name in ["CellServDB", "ThisCell"] {
                std::fs::copy(self.dir.path().join(name), fs.join(etc).join(name))
                    .expect("copy cell config");
            }
        }
        std::fs::write(fs.join("etc/server/UserList"), "").expect("UserList");
        std::fs::write(fs.join("lib/local/NetInfo"), format!("{SERVER}\n")).expect("NetInfo");
        // the partition's mount point must exist outside our mount namespace too
        let vicepa = Path::new("/vicepa");
        if !vicepa.exists() {
            std::fs::create_dir(vicepa).expect("mkdir /vicepa");
            self._vicepa = Some(VicepDir(vicepa.to_path_buf()));
        }
        let mut script = String::from("set -e; ");
        for (sub, target) in binds {
            script.push_str(&format!(
                "mount --bind '{}' {target}; ",
                fs.join(sub).display()
            ));
        }
        script.push_str("exec \"$0\" -noauth -nofork");
        let mut cmd = self.command(Path::new("sh"));
        cmd.arg("-c")
            .arg(script)
            .arg(&bosserver)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.bos = Some(Bosserver {
            guard: Guard::spawn(&mut cmd),
        });
        self.wait_for_port("BosLog", BOSSERVER_PORT);
        let cmds = ["fileserver", "volserver", "salvager"].map(|p| format!("{LIBEXEC}/{p}"));
        let mut args = vec!["create", SERVER, "fs", "fs", "-cmd"];
        args.extend(cmds.iter().map(String::as_str));
        args.push("-noauth");
        self.tool("bos", &args);
        let vos = require("vos", CLIENT_PACKAGE);
        assert!(
            wait_until(30.0, || self
                .run(&vos, &["listpart", SERVER, "-noauth"])
                .stdout
                .contains("/vicepa")),
            "the volserver did not list /vicepa; FileLog: {}\nVolserLog: {}",
            self.log("FileLog"),
            self.log("VolserLog")
        );
    }

    /// Creates a volume on /vicepa with a quota in KB (`vos create -maxquota`).
    pub fn create_volume(&self, name: &str, quota_kb: u64) {
        self.tool(
            "vos",
            &[
                "create",
                SERVER,
                "a",
                name,
                "-maxquota",
                &quota_kb.to_string(),
                "-noauth",
            ],
        );
    }
}
