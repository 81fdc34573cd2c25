//! A real NTP server for the tests: ntpsec's ntpd in a network namespace of its own
//! (it serves port 123 only), synchronized to its undisciplined local clock, with its
//! configuration, drift file and log in a temp dir.
//!
//! The host's clock is never touched: ntpd runs without CAP_SYS_TIME in its bounding
//! set (setpriv), so every clock adjustment it tries fails with EPERM (it logs them and
//! keeps serving).
//!
//! The test thread joins the namespace ([`NtpServer::enter`]) so that the plugins it
//! runs, Debian's and ours, reach the server on 127.0.0.1.

use crate::{require, run, wait_until, Guard};
use std::path::Path;
use std::process::{Command, Stdio};

/// A running ntpd and its namespace.
pub struct NtpServer {
    pub netns: String,
    pub dir: tempfile::TempDir,
    child: Option<Guard>,
}

fn ip(args: &[&str]) {
    let r = run(Path::new("ip"), args);
    assert_eq!(r.code, 0, "ip {}: {}", args.join(" "), r.stdout);
}

impl NtpServer {
    /// Starts ntpd in a new namespace and waits (up to 20 s) until it has selected its
    /// local clock, so it answers as a synchronized stratum 3 server.
    pub fn start() -> NtpServer {
        Self::start_with(
            "refclock local stratum 3 minpoll 0 maxpoll 0 prefer\n\
             tos maxdist 16 minclock 1 minsane 1\n",
            true,
        )
    }

    /// Starts ntpd in a new namespace with no time source at all: it answers as an
    /// unsynchronized server (leap indicator 3, stratum 16) once it listens.
    pub fn start_unsynchronized() -> NtpServer {
        Self::start_with("", false)
    }

    /// ntpd with `sources` (configuration lines) in a new namespace; when `synced`,
    /// waits until it is synchronized, else until it answers.
    fn start_with(sources: &str, synced: bool) -> NtpServer {
        let ntpd = require("/usr/sbin/ntpd", "ntpsec");
        require("setpriv", "util-linux");
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let netns = format!("hcoop-ntp-{}-{n}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "delete", &netns])
            .stderr(Stdio::null())
            .status();
        ip(&["netns", "add", &netns]);
        ip(&["-n", &netns, "link", "set", "lo", "up"]);
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("ntp.conf");
        std::fs::write(
            &conf,
            format!(
                "{sources}driftfile {}\n\
                 restrict default kod limited nomodify noquery\n\
                 restrict 127.0.0.1\nrestrict ::1\n",
                dir.path().join("drift").display()
            ),
        )
        .unwrap();
        let log = dir.path().join("ntpd.log");
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &netns, "setpriv"])
            .args([
                "--bounding-set",
                "-sys_time",
                "--inh-caps",
                "-sys_time",
                "--",
            ])
            .arg(&ntpd)
            .arg("-n")
            .arg("-c")
            .arg(&conf)
            .arg("-l")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let server = NtpServer {
            netns,
            child: Some(Guard::spawn(&mut cmd)),
            dir,
        };
        let ready = wait_until(20.0, || {
            let r = run(
                Path::new("ip"),
                &[
                    "netns",
                    "exec",
                    &server.netns,
                    "ntpq",
                    "-c",
                    "rv 0 leap",
                    "127.0.0.1",
                ],
            );
            if synced {
                r.stdout.contains("leap=00")
            } else {
                r.stdout.contains("leap=")
            }
        });
        assert!(
            ready,
            "ntpd did not answer as expected (synchronized: {synced}): {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        server
    }

    /// Moves the calling thread (and what it starts from now on) into the server's
    /// network namespace.
    pub fn enter(&self) {
        let f = std::fs::File::open(format!("/var/run/netns/{}", self.netns))
            .expect("the namespace's file");
        use std::os::fd::AsRawFd;
        // SAFETY: setns on an open namespace file; it changes only this thread's namespace.
        let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
    }
}

impl Drop for NtpServer {
    fn drop(&mut self) {
        drop(self.child.take());
        // ntpd is the namespace's only process; kill what `ip netns exec` left
        let pids = run(Path::new("ip"), &["netns", "pids", &self.netns]).stdout;
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            // SAFETY: kill has no memory preconditions; the pid is in our namespace.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.netns])
            .status();
    }
}
