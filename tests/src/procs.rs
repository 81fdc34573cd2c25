//! Real processes for the check_procs tests: sleepers with a unique tag in their
//! arguments and a unique command name, a parent holding an unreaped zombie, and
//! sleepers running as another user under a given nproc limit.

use crate::{is_root, require, wait_until, Guard};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A tag no other process on the machine carries: `hcoop-procs-<pid>-<n>z`.
pub fn unique_tag() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    // the closing letter keeps one tag from being a prefix of another
    format!(
        "hcoop-procs-{}-{}z",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A group of real processes, each in its own process group with its descendants;
/// the groups are killed and the processes reaped when dropped.
pub struct Procs {
    /// The tag in every process's arguments (its `argv[0]`).
    pub tag: String,
    /// A command name (`comm`) unique to this group, at most 15 bytes.
    pub comm: String,
    /// The processes started directly (their pids).
    pub guards: Vec<Guard>,
    _dir: tempfile::TempDir,
    exe: PathBuf,
}

impl Procs {
    /// An empty group with a copy of `sleep` under a unique command name.
    pub fn new() -> Procs {
        let dir = tempfile::tempdir().expect("temp dir");
        let tag = unique_tag();
        // comm is the executable's name cut to 15 bytes: make it unique and short
        let comm = format!(
            "z{}x{}",
            std::process::id() % 100_000,
            tag.rsplit('-').next().unwrap_or("0")
        );
        let exe = dir.path().join(&comm);
        std::fs::copy(require("/bin/sleep", "coreutils"), &exe).expect("copy sleep");
        // the copy must be reachable by other users too
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        Procs {
            tag,
            comm,
            guards: Vec::new(),
            _dir: dir,
            exe,
        }
    }

    /// Starts `cmd` in a new process group, without the test's stdin/stdout/stderr
    /// (a leftover descendant must not hold the test runner's pipes open).
    fn start(&mut self, cmd: &mut Command) -> u32 {
        self.start_detached(cmd.process_group(0))
    }

    /// Starts `cmd`, which leaves the test's process group by itself, without the
    /// test's stdin/stdout/stderr.
    fn start_detached(&mut self, cmd: &mut Command) -> u32 {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let g = Guard::spawn(cmd);
        let pid = g.pid();
        self.guards.push(g);
        pid
    }

    /// Starts `n` sleepers (arguments `TAG 300`, command name [`Procs::comm`]) as
    /// children of this test process.
    pub fn sleepers(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            let exe = self.exe.clone();
            let tag = self.tag.clone();
            self.start(Command::new(exe).arg0(tag).arg("300"));
        }
        self.wait_started();
        self
    }

    /// Starts `n` sleepers that each lead a session of their own (state `Ss` in
    /// `ps`), as children of this test process.
    pub fn session_leaders(&mut self, n: usize) -> &mut Self {
        for _ in 0..n {
            let mut cmd = Command::new(&self.exe);
            cmd.arg0(&self.tag).arg("300");
            // SAFETY: setsid is async-signal-safe; the new session is also a new
            // process group, which Drop kills.
            unsafe {
                cmd.pre_exec(|| {
                    if libc::setsid() < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            self.start_detached(&mut cmd);
        }
        self.wait_started();
        self
    }

    /// Starts a sleeper whose parent exits at once, so that it is reparented to init
    /// (or to the nearest subreaper). Returns its new parent's pid.
    pub fn orphan(&mut self) -> u32 {
        require("bash", "bash");
        let mut cmd = Command::new("bash");
        cmd.args([
            "-c",
            "(exec -a \"$1\" \"$2\" 300) &",
            "bash",
            &self.tag,
            self.exe.to_str().unwrap(),
        ]);
        let bash = self.start(&mut cmd);
        let mut parent = None;
        assert!(
            wait_until(5.0, || {
                parent = pids_named(&self.comm)
                    .into_iter()
                    .filter_map(stat_fields)
                    .map(|f| f[1].parse::<u32>().unwrap_or(0))
                    .find(|&ppid| ppid != bash && ppid != 0);
                parent.is_some()
            }),
            "the orphaned sleeper of bash {bash} was not reparented"
        );
        parent.unwrap()
    }

    /// Starts a bash that runs `n` sleepers in the background and waits for them; its
    /// pid is their parent. Returns the parent's pid.
    pub fn family(&mut self, n: usize) -> u32 {
        require("bash", "bash");
        let script = format!("for i in $(seq {n}); do (exec -a \"$1\" \"$2\" 300) & done; wait",);
        let mut cmd = Command::new("bash");
        cmd.args(["-c", &script, "bash", &self.tag, self.exe.to_str().unwrap()]);
        let pid = self.start(&mut cmd);
        assert!(
            wait_until(5.0, || children_named(pid, &self.comm) == n),
            "bash {pid} did not start {n} sleepers"
        );
        pid
    }

    /// Starts a process (`TAG 300`, command name [`Procs::comm`]) that never reaps its
    /// child, which has exited: a zombie. Returns the parent's pid.
    pub fn zombie_parent(&mut self) -> u32 {
        require("bash", "bash");
        let mut cmd = Command::new("bash");
        cmd.args([
            "-c",
            // the child outlives bash's own reaping: it exits after the exec
            "sleep 0.2 & exec -a \"$1\" \"$2\" 300",
            "bash",
            &self.tag,
            self.exe.to_str().unwrap(),
        ]);
        let pid = self.start(&mut cmd);
        assert!(
            wait_until(5.0, || {
                comm_of(pid).as_deref() == Some(self.comm.as_str()) && zombies_of(pid) == 1
            }),
            "no zombie under {pid}"
        );
        pid
    }

    /// Starts `n` sleepers as user `nobody` with an nproc soft and hard limit of
    /// `nproc` (set through `prlimit`, then `setpriv` drops to nobody).
    pub fn as_nobody(&mut self, n: usize, nproc: u64) -> &mut Self {
        assert!(is_root(), "starting processes as another user needs root");
        require("setpriv", "util-linux");
        require("prlimit", "util-linux");
        for _ in 0..n {
            let limit = format!("--nproc={nproc}:{nproc}");
            let mut cmd = Command::new("prlimit");
            cmd.args([
                &limit,
                "setpriv",
                "--reuid=nobody",
                "--regid=nogroup",
                "--clear-groups",
                "bash",
                "-c",
                "exec -a \"$1\" \"$2\" 300",
                "bash",
                &self.tag,
                self.exe.to_str().unwrap(),
            ]);
            self.start(&mut cmd);
        }
        self.wait_started();
        self
    }

    /// Waits until every started process runs the sleeper.
    fn wait_started(&self) {
        for g in &self.guards {
            let pid = g.pid();
            assert!(
                wait_until(5.0, || comm_of(pid).as_deref() == Some(self.comm.as_str())
                    || children_named(pid, &self.comm) > 0),
                "process {pid} did not start"
            );
        }
    }
}

impl Drop for Procs {
    fn drop(&mut self) {
        for g in &self.guards {
            // SAFETY: signals the process group this harness created for the child.
            unsafe {
                libc::kill(-(g.pid() as libc::pid_t), libc::SIGKILL);
            }
        }
    }
}

impl Default for Procs {
    fn default() -> Self {
        Procs::new()
    }
}

/// The command name of a process.
pub fn comm_of(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_string())
}

/// Fields of `/proc/PID/stat` after the command name (state is index 0, ppid 1).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    Some(rest.split_whitespace().map(str::to_string).collect())
}

/// Every process listed in `/proc`.
fn pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .collect()
}

/// Children of `parent` whose state passes `keep(state, comm)`.
fn count_children(parent: u32, keep: impl Fn(&str, &str) -> bool) -> usize {
    pids()
        .into_iter()
        .filter(|&pid| {
            stat_fields(pid).is_some_and(|f| {
                f[1] == parent.to_string() && keep(&f[0], &comm_of(pid).unwrap_or_default())
            })
        })
        .count()
}

/// Processes with command name `comm`.
pub fn pids_named(comm: &str) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|&pid| comm_of(pid).as_deref() == Some(comm))
        .collect()
}

/// Children of `parent` with command name `comm`.
pub fn children_named(parent: u32, comm: &str) -> usize {
    count_children(parent, |_, c| c == comm)
}

/// Zombie children of `parent`.
pub fn zombies_of(parent: u32) -> usize {
    count_children(parent, |state, _| state == "Z")
}
