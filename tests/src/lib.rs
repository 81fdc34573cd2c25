//! Harness for the end-to-end tests: finds our plugin binaries and Debian's peers, runs
//! them, and keeps the real servers it starts as children that die with the test.
//!
//! # Layout
//! - this file: running plugins, requiring programs (with the Debian package to
//!   install), free loopback ports, child processes killed on drop.
//! - [`procs`]: real processes (tagged sleepers, a zombie, another user's) for
//!   check_procs.
//! - [`daemon`]: a real Exim receiving notification mail, and the hcoop-monitor daemon
//!   on a temp-dir configuration (API, SIGHUP, SIGKILL, restart).
//! - [`dist`]: the generator of dist/ (Nagios and Icinga 2 commands, man pages,
//!   completions) and the installed Debian package.
//! - [`bind`]: a real BIND master and slave on loopback addresses for the DNS checks.
//! - [`nrpe`]: our NRPE agent and Debian's nrpe with their nrpe.cfg, check_nrpe, and a
//!   test CA with server and client certificates.
//! - [`icinga2`]: a real Icinga 2 in a temp prefix (certificates by `icinga2 pki`,
//!   REST API on a loopback port) with our CheckCommands, read through its API.
//! - [`nagios`]: a real Nagios 4 in a temp dir running our plugins (dist/nagios/
//!   command definitions) and taking passive results; its status.dat read back.
//! - [`hostfs`]: a size-limited tmpfs and a cgroup v2 directory for the host checks.
//! - [`afs`]: OpenAFS database servers and a file server in a network namespace of
//!   their own for check_afs.
//! - [`mail`]: a real Exim delivering into a system user's Maildir and a real Dovecot
//!   serving it (STARTTLS, IMAPS, SMTP AUTH) for the mail checks.
//! - [`exim`]: a real Exim with its own spool in a temp dir: a mail queue on demand.
//! - [`testca`]: a throwaway RSA certificate authority made with openssl, and the
//!   certificates it signs.
//! - [`differential`]: one scenario run side by side in a real Nagios 4 and in our
//!   daemon on file-driven checks, and their logs read into comparable events.
//! - [`browser`]: a real headless Chromium driven over WebDriver (chromedriver),
//!   with its console log.
//! - [`usage`]: the answer to a bad command line (one UNKNOWN line, exit 3).
//! - [`utmp`]: utmp files written by glibc, and a plugin run with one as the system's.
//! - [`ldap`]: a real OpenLDAP slapd (plain, STARTTLS and LDAPS ports) for check_ldap.
//! - [`parity`]: one command line run by Debian's monitoring-plugin and by ours, exit
//!   codes and perfdata labels and units compared (the cases of tests/PARITY.md).
//! - [`pgsql`], [`mysql`]: real PostgreSQL (primary, standby) and MariaDB (server,
//!   replica) in temp dirs on loopback ports, with TLS certificates made by openssl.
//!
//! The plugin binaries must be built first (`cargo build --workspace --bins`, which
//! `tests/run.sh` does).

pub mod afs;
pub mod banners;
pub mod bind;
pub mod browser;
pub mod daemon;
pub mod differential;
pub mod dist;
pub mod exim;
pub mod hostfs;
pub mod icinga2;
pub mod krb5;
pub mod ldap;
pub mod line;
pub mod mail;
pub mod mysql;
pub mod nagios;
pub mod nrpe;
pub mod ntp;
pub mod parity;
pub mod pgsql;
pub mod procs;
pub mod rawhttp;
pub mod scenario;
pub mod sql;
pub mod testca;
pub mod usage;
pub mod utmp;
pub mod web;
pub mod web_peer;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};

/// Where the workspace's binaries are: next to the `deps/` folder holding this test.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// Path of one of our binaries; fails with a clear message if it was not built.
pub fn bin(name: &str) -> PathBuf {
    let p = target_dir().join(name);
    assert!(
        p.exists(),
        "{} is not built: run `cargo build --workspace --bins` first (tests/run.sh does)",
        p.display()
    );
    p
}

/// Fails the test, naming the Debian package, when `program` is missing.
pub fn require(program: &str, debian_package: &str) -> PathBuf {
    let p = PathBuf::from(program);
    let found = if p.is_absolute() {
        p.exists().then_some(p)
    } else {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(program))
                .find(|c| c.exists())
        })
    };
    found.unwrap_or_else(|| {
        panic!("{program} is missing: install the Debian package {debian_package} (tests/run.sh installs it)")
    })
}

/// Path of one of Debian's monitoring-plugins.
pub fn debian_plugin(name: &str) -> PathBuf {
    let package = match name {
        "check_nrpe" => "nagios-nrpe-plugin",
        "check_dig" | "check_dns" | "check_http" | "check_curl" | "check_pgsql" | "check_mysql"
        | "check_smtp" | "check_imap" => "monitoring-plugins-standard",
        _ => "monitoring-plugins-basic",
    };
    require(&format!("/usr/lib/nagios/plugins/{name}"), package)
}

/// What a plugin run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The first output line.
    pub fn first_line(&self) -> &str {
        self.stdout.lines().next().unwrap_or("")
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs a program with arguments and waits for it.
pub fn run(program: &Path, args: &[&str]) -> Run {
    Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()))
        .into()
}

/// Runs one of our plugins.
pub fn plugin(name: &str, args: &[&str]) -> Run {
    run(&bin(name), args)
}

/// Runs one of our plugins with `--output-format json` and returns the object; the exit
/// code must agree with the reported state.
pub fn plugin_json(name: &str, args: &[&str]) -> serde_json::Value {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(["--output-format", "json"]);
    json_of(name, args, &plugin(name, &all))
}

/// The JSON object a run of `name` with `args` printed (`--output-format json`); its exit
/// code must agree with the reported state.
pub fn json_of(name: &str, args: &[&str], r: &Run) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("{name} {args:?}: not JSON ({e}): {}", r.stdout));
    assert_eq!(
        v["exit_code"], r.code,
        "{name} {args:?}: exit code vs JSON: {}",
        r.stdout
    );
    v
}

/// The result is `state` and its summary is `summary`.
pub fn assert_says(v: &serde_json::Value, state: &str, summary: &str) {
    assert_eq!(
        (v["state"].as_str(), v["summary"].as_str()),
        (Some(state), Some(summary)),
        "{v}"
    );
}

/// The result is `state` and says only `summary`: no long output, no perfdata (as the
/// one text line `LABEL STATE - summary` says).
pub fn assert_only(v: &serde_json::Value, state: &str, summary: &str) {
    assert_says(v, state, summary);
    assert_eq!(v["details"], serde_json::json!([]), "{v}");
    assert_eq!(v["perfdata"], serde_json::json!([]), "{v}");
}

/// Asserts that our plugin `name` refuses `args` in JSON: UNKNOWN (exit 3), the summary
/// `message`, no details and no perfdata.
pub fn assert_refused_json(name: &str, args: &[&str], message: &str) {
    assert_only(&plugin_json(name, args), "UNKNOWN", message);
}

/// A free TCP port on 127.0.0.1 (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// A child process killed (and reaped) when dropped, or killed when the test process
/// exits while it still runs: a server kept in a `static` (one per test binary) is never
/// dropped, and must not outlive its process (named listens with SO_REUSEPORT: a stale
/// one on the same address would answer the next test's queries with its own zones).
pub struct Guard(pub Child);

/// The pids of guarded children still running.
static LIVE_CHILDREN: std::sync::Mutex<Vec<u32>> = std::sync::Mutex::new(Vec::new());

/// At process exit: kills the guarded children still running.
extern "C" fn kill_live_children() {
    // never block at exit (a panic may hold the lock)
    if let Ok(pids) = LIVE_CHILDREN.try_lock() {
        for &pid in pids.iter() {
            // SAFETY: kill(2) has no memory preconditions; the pid is our child's.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
        }
    }
}

impl Guard {
    /// Starts a command as a guarded child.
    pub fn spawn(cmd: &mut Command) -> Guard {
        static AT_EXIT: std::sync::Once = std::sync::Once::new();
        // SAFETY: registers a function without captured state, run once at exit.
        AT_EXIT.call_once(|| unsafe {
            libc::atexit(kill_live_children);
        });
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        LIVE_CHILDREN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(child.id());
        Guard(child)
    }

    /// The child's pid.
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        let pid = self.0.id();
        LIVE_CHILDREN
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|&p| p != pid);
    }
}

/// Starts the server `cmd` (its output discarded) as a guarded child, then waits up to
/// `secs` until `host`:`port` accepts TCP connections; fails with `why()` otherwise.
pub fn spawn_listening(
    cmd: &mut Command,
    (host, port): (&str, u16),
    secs: f64,
    why: impl FnOnce() -> String,
) -> Guard {
    let child = Guard::spawn(
        cmd.stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null()),
    );
    let up = wait_until(secs, || std::net::TcpStream::connect((host, port)).is_ok());
    assert!(up, "nothing listens on {host}:{port}: {}", why());
    child
}

/// True when running as root (most real servers need it to start).
/// Makes the system user `hcoop-monitor` the daemon runs external plugins as by default,
/// as the package's postinst does, unless it exists.
pub fn ensure_plugin_user() {
    static DONE: std::sync::Once = std::sync::Once::new();
    DONE.call_once(|| {
        if hcoop_monitor::auth::user_ids("hcoop-monitor").is_some() {
            return;
        }
        let adduser = require("adduser", "adduser");
        let r = run(
            &adduser,
            &[
                "--system",
                "--group",
                "--quiet",
                "--home",
                "/var/lib/hcoop-monitor",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "hcoop-monitor",
            ],
        );
        assert_eq!(r.code, 0, "adduser hcoop-monitor: {}", r.stderr);
    });
}

pub fn is_root() -> bool {
    // SAFETY: getuid has no preconditions.
    unsafe { libc::getuid() == 0 }
}

/// Runs `program` in a private mount namespace in which each `(fixture, target)` file
/// is bind-mounted over `target` (e.g. a made-up `/proc/loadavg`), so our plugin and
/// Debian's read the very same numbers. Needs root and `unshare` (util-linux).
pub fn run_with_files(binds: &[(&Path, &str)], program: &Path, args: &[&str]) -> Run {
    assert!(is_root(), "bind-mounting fixture files needs root");
    require("unshare", "util-linux");
    let mut script = String::from("set -e; ");
    for (i, _) in binds.iter().enumerate() {
        script.push_str(&format!(
            "mount --bind \"${{{}}}\" \"${{{}}}\"; ",
            2 * i + 1,
            2 * i + 2
        ));
    }
    script.push_str(&format!("shift {}; exec \"$@\"", 2 * binds.len()));
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "--propagation", "private", "sh", "-c", &script, "sh"]);
    for (fixture, target) in binds {
        cmd.arg(fixture).arg(target);
    }
    cmd.arg(program).args(args);
    cmd.output().expect("run unshare").into()
}

/// Polls `f` every 20 ms until it returns true or `secs` pass.
pub fn wait_until(secs: f64, mut f: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + std::time::Duration::from_secs_f64(secs);
    while std::time::Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    f()
}
