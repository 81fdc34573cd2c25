//! A real Nagios 4 (Debian's nagios4-core) for the end-to-end tests: a temp dir with
//! nagios.cfg (seconds as the interval unit, status written every second, the external
//! command file inside the dir) and object definitions, nagios4 in the foreground as
//! user nagios, and a reader of its status.dat.

use crate::{require, target_dir, wait_until, Guard};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use tempfile::TempDir;

/// Debian's nagios4 binary.
pub fn nagios4() -> PathBuf {
    require("/usr/sbin/nagios4", "nagios4-core")
}

/// The Nagios command definitions of dist/nagios/, with the plugin directory pointing
/// at the binaries under test.
pub fn dist_commands() -> String {
    let path = crate::dist::workspace_root().join("dist/nagios/hcoop-monitor.cfg");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.replace(
        crate::dist::PLUGIN_DIR,
        target_dir().to_str().expect("UTF-8 target dir"),
    )
}

/// Definitions every configuration gets: the 24x7 time period, a contact without
/// notifications and the no-op command `none`.
const BASE_OBJECTS: &str = "define timeperiod {\n timeperiod_name 24x7\n alias 24x7\n sunday 00:00-24:00\n monday 00:00-24:00\n tuesday 00:00-24:00\n wednesday 00:00-24:00\n thursday 00:00-24:00\n friday 00:00-24:00\n saturday 00:00-24:00\n}\n\
define command {\n command_name none\n command_line /bin/true\n}\n\
define contact {\n contact_name nobody\n host_notifications_enabled 0\n service_notifications_enabled 0\n host_notification_period 24x7\n service_notification_period 24x7\n host_notification_options n\n service_notification_options n\n host_notification_commands none\n service_notification_commands none\n}\n";

/// A host on 127.0.0.1 that Nagios never checks itself: it takes passive results.
pub fn host(name: &str) -> String {
    format!(
        "define host {{\n host_name {name}\n alias {name}\n address 127.0.0.1\n check_command none\n max_check_attempts 1\n check_period 24x7\n notification_period 24x7\n contacts nobody\n active_checks_enabled 0\n passive_checks_enabled 1\n check_freshness 0\n}}\n"
    )
}

/// An actively checked service: `check_command` runs every second.
pub fn active_service(host: &str, name: &str, check_command: &str) -> String {
    format!(
        "define service {{\n host_name {host}\n service_description {name}\n check_command {check_command}\n check_interval 1\n retry_interval 1\n max_check_attempts 1\n check_period 24x7\n notification_period 24x7\n contacts nobody\n}}\n"
    )
}

/// A passive service: no active checks, results from the command file only.
pub fn passive_service(host: &str, name: &str) -> String {
    format!(
        "define service {{\n host_name {host}\n service_description {name}\n check_command none\n active_checks_enabled 0\n passive_checks_enabled 1\n check_freshness 0\n check_interval 1\n retry_interval 1\n max_check_attempts 1\n check_period 24x7\n notification_period 24x7\n contacts nobody\n}}\n"
    )
}

/// One block of status.dat (`hoststatus {`, `servicestatus {`, ...) by key.
pub type Block = BTreeMap<String, String>;

/// Parses status.dat into (block kind, fields) pairs.
pub fn parse_status(text: &str) -> Vec<(String, Block)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Block)> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(kind) = t.strip_suffix('{') {
            current = Some((kind.trim().to_string(), Block::new()));
        } else if t == "}" {
            out.extend(current.take());
        } else if let Some((_, block)) = current.as_mut() {
            if let Some((k, v)) = line.trim_start().split_once('=') {
                block.insert(k.to_string(), v.to_string());
            }
        }
    }
    out
}

/// A Nagios 4 configured in a temp dir, started with [`Nagios::start`].
pub struct Nagios {
    pub dir: TempDir,
    child: Option<Guard>,
}

impl Nagios {
    /// Writes nagios.cfg and `objects` (define blocks; the 24x7 period, the contact
    /// `nobody` and the command `none` are added) into a temp dir owned by nagios.
    pub fn configure(objects: &str) -> Nagios {
        Nagios::configure_with(objects, "")
    }

    /// [`Nagios::configure`] with more nagios.cfg lines, `settings` (`name=value`
    /// lines, after the harness's own: a later line wins).
    pub fn configure_with(objects: &str, settings: &str) -> Nagios {
        assert!(
            crate::is_root(),
            "nagios4 runs as user nagios: start the test as root"
        );
        let dir = tempfile::Builder::new().prefix("nagios").tempdir().unwrap();
        let d = dir.path();
        for sub in ["checkresults", "rw"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        let cfg = format!(
            "log_file={d}/nagios.log\ncfg_file={d}/objects.cfg\nobject_cache_file={d}/objects.cache\n\
             precached_object_file={d}/objects.precache\nstatus_file={d}/status.dat\n\
             temp_file={d}/nagios.tmp\ntemp_path={d}\nlock_file={d}/nagios.lock\n\
             state_retention_file={d}/retention.dat\nretain_state_information=0\n\
             command_file={d}/rw/nagios.cmd\ncheck_external_commands=1\n\
             check_result_path={d}/checkresults\nnagios_user=nagios\nnagios_group=nagios\n\
             interval_length=1\nstatus_update_interval=1\ncheck_result_reaper_frequency=1\n\
             max_service_check_spread=1\nmax_host_check_spread=1\n\
             service_inter_check_delay_method=n\nhost_inter_check_delay_method=n\n\
             accept_passive_service_checks=1\naccept_passive_host_checks=1\n\
             passive_host_checks_are_soft=0\nlog_passive_checks=1\nlog_external_commands=1\n\
             enable_flap_detection=0\nenable_notifications=0\nuse_syslog=0\n\
             check_service_freshness=0\ncheck_host_freshness=0\nmax_concurrent_checks=0\n{settings}",
            d = d.display()
        );
        std::fs::write(d.join("nagios.cfg"), cfg).unwrap();
        std::fs::write(d.join("objects.cfg"), format!("{BASE_OBJECTS}{objects}")).unwrap();
        let ok = Command::new(require("chown", "coreutils"))
            .args(["-R", "nagios:nagios"])
            .arg(d)
            .status()
            .unwrap()
            .success();
        assert!(ok, "chown nagios (is nagios4-core installed?)");
        Nagios { dir, child: None }
    }

    /// [`Nagios::configure`] and [`Nagios::start`].
    pub fn start_with(objects: &str) -> Nagios {
        let mut n = Nagios::configure(objects);
        n.start();
        n
    }

    /// Checks the configuration (`nagios4 -v`), starts nagios4 in the foreground and
    /// waits for its command file and first status.dat.
    pub fn start(&mut self) {
        let nagios = nagios4();
        let cfg = self.dir.path().join("nagios.cfg");
        let verify = Command::new(&nagios).arg("-v").arg(&cfg).output().unwrap();
        assert!(
            verify.status.success(),
            "nagios4 -v: {}",
            String::from_utf8_lossy(&verify.stdout)
        );
        self.child = Some(Guard::spawn(
            Command::new(&nagios)
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null()),
        ));
        let (cmd, status) = (self.command_file(), self.dir.path().join("status.dat"));
        assert!(
            wait_until(20.0, || cmd.exists() && status.exists()),
            "nagios4 did not start: {}",
            self.log()
        );
    }

    /// Stops nagios4 as an admin would (SIGTERM) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut g) = self.child.take() {
            self.signal_main(&g, libc::SIGTERM);
            let exited = wait_until(20.0, || g.0.try_wait().ok().flatten().is_some());
            assert!(
                exited || std::thread::panicking(),
                "nagios4 did not stop: {}",
                self.log()
            );
        }
    }

    /// SIGHUP: nagios4 reloads its configuration.
    pub fn reload(&self) {
        self.signal_main(self.child.as_ref().expect("nagios4 started"), libc::SIGHUP);
    }

    fn signal_main(&self, g: &Guard, sig: i32) {
        // SAFETY: signals our own child.
        unsafe { libc::kill(g.pid() as i32, sig) };
    }

    /// Sends a signal to nagios4 and its workers, its children (SIGSTOP to make it
    /// hang, SIGCONT to resume it).
    pub fn signal(&self, sig: i32) {
        let pid = self.child.as_ref().expect("nagios4 started").pid();
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        let all = children
            .split_whitespace()
            .filter_map(|c| c.parse::<i32>().ok());
        for p in std::iter::once(pid as i32).chain(all) {
            // SAFETY: signals our own child and its children.
            unsafe { libc::kill(p, sig) };
        }
    }

    /// Shrinks the command file's pipe buffer to one page (a stopped Nagios then
    /// fills it within a few results instead of 64 KiB of them).
    pub fn shrink_command_pipe(&self) {
        use std::os::fd::AsRawFd;
        use std::os::unix::fs::OpenOptionsExt;
        let f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(self.command_file())
            .expect("open the command file while nagios4 reads it");
        // SAFETY: a valid pipe fd; F_SETPIPE_SZ takes the new size as an int.
        let size = unsafe { libc::fcntl(f.as_raw_fd(), libc::F_SETPIPE_SZ, 4096) };
        assert!(
            size > 0,
            "F_SETPIPE_SZ: {}",
            std::io::Error::last_os_error()
        );
    }

    /// The external command file (a FIFO while Nagios runs).
    pub fn command_file(&self) -> PathBuf {
        self.dir.path().join("rw/nagios.cmd")
    }

    /// nagios.log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nagios.log")).unwrap_or_default()
    }

    /// Every block of status.dat now.
    pub fn status(&self) -> Vec<(String, Block)> {
        parse_status(
            &std::fs::read_to_string(self.dir.path().join("status.dat")).unwrap_or_default(),
        )
    }

    /// A service's status block, if status.dat has it.
    pub fn find_service(&self, host: &str, service: &str) -> Option<Block> {
        self.find("servicestatus", |b| {
            b.get("host_name").is_some_and(|h| h == host)
                && b.get("service_description").is_some_and(|s| s == service)
        })
    }

    /// A host's status block, if status.dat has it.
    pub fn find_host(&self, host: &str) -> Option<Block> {
        self.find("hoststatus", |b| {
            b.get("host_name").is_some_and(|h| h == host)
        })
    }

    fn find(&self, kind: &str, f: impl Fn(&Block) -> bool) -> Option<Block> {
        self.status()
            .into_iter()
            .find(|(k, b)| k == kind && f(b))
            .map(|(_, b)| b)
    }

    /// Waits until a service's block satisfies `f`; returns it.
    pub fn wait_service(
        &self,
        host: &str,
        service: &str,
        secs: f64,
        f: impl Fn(&Block) -> bool,
    ) -> Block {
        let ok = wait_until(secs, || {
            self.find_service(host, service).is_some_and(|b| f(&b))
        });
        let b = self.find_service(host, service);
        assert!(
            ok,
            "{host}/{service} never got there: {b:#?}\n{}",
            self.log()
        );
        b.expect("found")
    }

    /// Waits until a host's block satisfies `f`; returns it.
    pub fn wait_host(&self, host: &str, secs: f64, f: impl Fn(&Block) -> bool) -> Block {
        let ok = wait_until(secs, || self.find_host(host).is_some_and(|b| f(&b)));
        let b = self.find_host(host);
        assert!(ok, "host {host} never got there: {b:#?}\n{}", self.log());
        b.expect("found")
    }
}

/// Whether a status block holds a check result (active or passive).
pub fn checked(b: &Block) -> bool {
    b.get("has_been_checked").is_some_and(|v| v == "1")
}

/// What status.dat shows of a result: (current_state, plugin_output,
/// long_plugin_output, performance_data).
pub fn shown(b: &Block) -> (String, String, String, String) {
    let f = |k: &str| b.get(k).cloned().unwrap_or_default();
    (
        f("current_state"),
        f("plugin_output"),
        f("long_plugin_output"),
        f("performance_data"),
    )
}

/// What Nagios makes of a plugin's text and exit code, as status.dat shows it: the
/// summary (in which Nagios turns every `;` into `:`), the long output lines joined
/// with a literal `\n`, and the perfdata parts joined with a space.
pub fn expected(code: i32, text: &str) -> (String, String, String, String) {
    let t = hcoop_monitor::exec::PluginText::parse(text);
    (
        code.to_string(),
        t.summary.replace(';', ":"),
        t.long.join("\\n"),
        t.perfdata.join(" "),
    )
}

/// A text with every number replaced by `#`, to compare outputs whose measured values
/// (load, response time, age) move between two runs.
pub fn shape(text: &str) -> String {
    let re = regex::Regex::new(r"\b\d+(?:\.\d+)?").expect("valid regex");
    re.replace_all(text, "#").into_owned()
}

/// [`shape`] of each part of a status.
pub fn shape_of(s: &(String, String, String, String)) -> (String, String, String, String) {
    (s.0.clone(), shape(&s.1), shape(&s.2), shape(&s.3))
}

impl Drop for Nagios {
    fn drop(&mut self) {
        // a clean exit (SIGTERM) stops nagios4's workers too; the guard's SIGKILL of
        // the main process would leave them running
        self.signal(libc::SIGCONT);
        self.stop();
    }
}
