//! Starting external plugins quickly and within their limits.
//!
//! A plugin is started the way `posix_spawn` starts a program: a child cloned with
//! `CLONE_VM | CLONE_VFORK` shares the daemon's memory until it executes the plugin, so
//! no page tables are copied and the daemon's pages are not made copy-on-write (a
//! `fork` of a daemon running thousands of services costs far more than the plugin).
//! Unlike `posix_spawn`, the child also sets the resource limits and switches to the
//! plugin user (its supplementary groups, then its group and user ids, real, effective
//! and saved) before it executes the plugin, so the limits hold from the plugin's
//! first instruction. The child joins a new process group of its own, so a timeout or
//! shutdown kills the plugin with everything it started.
//!
//! The child runs on a stack of its own but in the daemon's memory: between the clone
//! and the exec it only makes system calls on data prepared beforehand (no allocation,
//! no locks), as `posix_spawn` does. It also clears the ambient capability set, so a
//! daemon holding capabilities never passes them on to a plugin.
//!
//! # The plugin's environment
//! A plugin sees nothing of the daemon's environment. It gets exactly:
//! - `PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin` (also the path
//!   a bare program name is looked up in);
//! - `HOME`, `USER` and `LOGNAME` of the account it runs as: the plugin user when the
//!   daemon switches users, else the daemon's own user;
//! - `LANG=C.UTF-8`: messages in the C locale, which the output parsers of Nagios and
//!   of the daemon expect, while UTF-8 text (a member's file name) stays intact;
//! - the variables the caller adds (the `NAGIOS_*` macros of a notification command),
//!   which replace any of the above with the same name.

use crate::privileges::Account;
use std::ffi::{CString, OsStr, OsString};
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tokio::io::unix::AsyncFd;

/// Resource limits applied to external plugins (setrlimit in the child), and the
/// unprivileged account they run as (RLIMIT_NPROC counts every process of the user
/// and does not bind root, so a root daemon must switch users for it to hold).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    pub nproc: Option<u64>,
    pub address_space: Option<u64>,
    pub cpu_seconds: Option<u64>,
    /// The account to switch to before running the plugin (its ids, groups, and its
    /// name and home for the plugin's environment); `None` runs it as the daemon's own
    /// user. Accounts are kept for the life of the process (see [`intern`]), so that
    /// limits stay `Copy`.
    pub run_as: Option<&'static Account>,
}

/// A looked-up account kept for the life of the process: the same account is stored
/// once, however often the configuration is reloaded.
pub fn intern(account: Account) -> &'static Account {
    static KEPT: Mutex<Vec<&'static Account>> = Mutex::new(Vec::new());
    let mut kept = KEPT.lock().expect("accounts lock");
    if let Some(a) = kept.iter().find(|a| ***a == account) {
        return a;
    }
    let a: &'static Account = Box::leak(Box::new(account));
    kept.push(a);
    a
}

/// Stack of the cloned child until it executes the plugin.
const CHILD_STACK: usize = 64 * 1024;

/// The steps of the child before the plugin runs, to name the one that failed.
const STEP_NAMES: [&str; 7] = [
    "",
    "setpgid",
    "redirecting standard streams",
    "setrlimit",
    "switching user",
    "clearing ambient capabilities",
    "exec",
];

/// The search path of plugins, and their `PATH`.
pub const PLUGIN_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The locale of plugins (`LANG`).
pub const PLUGIN_LANG: &str = "C.UTF-8";

const PR_CAP_AMBIENT: libc::c_long = 47;
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_long = 4;

/// Everything the child needs, prepared by the parent.
struct ChildPlan {
    program: CString,
    argv: Vec<*const libc::c_char>,
    envp: Vec<*const libc::c_char>,
    stdin: libc::c_int,
    stdout: libc::c_int,
    stderr: libc::c_int,
    rlimits: [(libc::__rlimit_resource_t, libc::rlim_t); 3],
    rlimit_count: usize,
    run_as: Option<(u32, u32)>,
    /// The supplementary groups set with `run_as`.
    groups: *const libc::gid_t,
    ngroups: usize,
    /// Written by the child when a step fails: (step, errno).
    failure: (libc::c_int, libc::c_int),
}

/// A started plugin, killed with its process group if dropped before it was reaped.
pub struct Child {
    pid: libc::pid_t,
    reaped: bool,
}

/// Children killed before they were waited for, reaped on later starts.
static ORPHANS: Mutex<Vec<libc::pid_t>> = Mutex::new(Vec::new());

impl Child {
    /// The plugin's pid, which is also its process group id.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Kills the plugin's whole process group.
    pub fn kill_group(&self) {
        // SAFETY: signals the child's own process group only.
        unsafe { libc::killpg(self.pid, libc::SIGKILL) };
    }

    /// Waits for the plugin to end; returns its wait status.
    pub async fn wait(&mut self) -> io::Result<libc::c_int> {
        match pidfd_open(self.pid) {
            Ok(fd) => {
                // SAFETY: the OwnedFd is moved into the AsyncFd and stays open with it.
                let fd =
                    unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) }
                        .map_err(|e| io::Error::other(e.to_string()))?;
                loop {
                    if let Some(status) = self.try_wait()? {
                        return Ok(status);
                    }
                    fd.readable().await?.clear_ready();
                }
            }
            // kernels without pidfd_open: wait on a blocking thread
            Err(_) => {
                let pid = self.pid;
                let status = tokio::task::spawn_blocking(move || waitpid(pid, 0))
                    .await
                    .map_err(io::Error::other)??;
                self.reaped = true;
                Ok(status.unwrap_or(0))
            }
        }
    }

    fn try_wait(&mut self) -> io::Result<Option<libc::c_int>> {
        let r = waitpid(self.pid, libc::WNOHANG)?;
        if r.is_some() {
            self.reaped = true;
        }
        Ok(r)
    }
}

impl Drop for Child {
    /// A plugin given up on (its task dropped) is killed with its group and reaped.
    fn drop(&mut self) {
        if self.reaped {
            return;
        }
        self.kill_group();
        if !matches!(self.try_wait(), Ok(Some(_))) {
            ORPHANS.lock().expect("orphans lock").push(self.pid);
        }
    }
}

/// `waitpid` for one child: `Some(status)` once it ended.
fn waitpid(pid: libc::pid_t, flags: libc::c_int) -> io::Result<Option<libc::c_int>> {
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; status is a valid out pointer.
        let r = unsafe { libc::waitpid(pid, &mut status, flags) };
        if r == pid {
            return Ok(Some(status));
        }
        if r == 0 {
            return Ok(None);
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

fn pidfd_open(pid: libc::pid_t) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fd is a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as libc::c_int) })
}

fn reap_orphans() {
    let mut orphans = ORPHANS.lock().expect("orphans lock");
    orphans.retain(|&pid| matches!(waitpid(pid, libc::WNOHANG), Ok(None)));
}

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A pipe whose ends are both close-on-exec: (read, write).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: fds is a valid array of two descriptors.
    cvt(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) })?;
    // SAFETY: pipe2 returned two new descriptors we own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// /dev/null, close-on-exec.
fn dev_null() -> io::Result<OwnedFd> {
    // SAFETY: the path is a valid C string; the result is a new descriptor or -1.
    let fd = cvt(unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) })?;
    // SAFETY: fd is a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The descriptor moved above 0, 1 and 2 if it is one of them (a daemon started with
/// closed standard streams), so that the child's dup2 calls cannot overwrite it.
fn above_std(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: duplicates a descriptor we own to a new one we own.
    let new = cvt(unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) })?;
    // SAFETY: new is a new descriptor we own.
    Ok(unsafe { OwnedFd::from_raw_fd(new) })
}

/// The path of a program: as given when it has a slash, else found on PATH.
fn resolve(program: &str) -> io::Result<PathBuf> {
    if program.contains('/') {
        return Ok(PathBuf::from(program));
    }
    std::env::split_paths(PLUGIN_PATH)
        .map(|d| d.join(program))
        .find(|p| executable(p))
        .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
}

fn executable(p: &Path) -> bool {
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn cstring(s: &OsStr) -> io::Result<CString> {
    CString::new(s.as_bytes()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// The account of the daemon's own effective user, looked up once per uid.
fn own_account() -> Option<&'static Account> {
    static OWN: Mutex<Option<(u32, Option<&'static Account>)>> = Mutex::new(None);
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let mut own = OWN.lock().expect("own account lock");
    match *own {
        Some((u, a)) if u == uid => a,
        _ => {
            let a = crate::privileges::current().ok().map(intern);
            *own = Some((uid, a));
            a
        }
    }
}

/// The environment of a plugin running as `account` (see the module documentation),
/// with `extra` added or replacing.
fn environment(extra: &[(String, String)], account: Option<&Account>) -> io::Result<Vec<CString>> {
    let mut vars: Vec<(OsString, OsString)> = vec![
        ("PATH".into(), PLUGIN_PATH.into()),
        ("LANG".into(), PLUGIN_LANG.into()),
    ];
    if let Some(a) = account {
        vars.push(("HOME".into(), a.home.clone().into_os_string()));
        vars.push(("USER".into(), a.name.clone().into()));
        vars.push(("LOGNAME".into(), a.name.clone().into()));
    }
    vars.retain(|(k, _)| !extra.iter().any(|(e, _)| OsStr::new(e) == k));
    vars.extend(extra.iter().map(|(k, v)| (k.into(), v.into())));
    vars.into_iter()
        .map(|(mut k, v)| {
            k.push("=");
            k.push(v);
            CString::new(k.into_vec()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
        })
        .collect()
}

/// A limit no higher than the daemon's own hard limit (which only root may raise).
fn clamp_limit(resource: libc::__rlimit_resource_t, value: u64) -> libc::rlim_t {
    let mut cur = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: cur is a valid out pointer.
    let ok = unsafe { libc::getrlimit(resource, &mut cur) } == 0;
    // SAFETY: geteuid has no preconditions.
    if ok && unsafe { libc::geteuid() } != 0 {
        value.min(cur.rlim_max)
    } else {
        value
    }
}

/// Starts `argv` (program and arguments) with `env` added to the plugin's environment,
/// stdin and stderr on /dev/null, in a new process group, with `limits`. Returns the
/// child and the read end of its stdout (non-blocking).
pub fn spawn(
    argv: &[String],
    env: &[(String, String)],
    limits: Limits,
) -> io::Result<(Child, OwnedFd)> {
    reap_orphans();
    let Some((program, _)) = argv.split_first() else {
        return Err(io::Error::from(io::ErrorKind::InvalidInput));
    };
    let program = cstring(resolve(program)?.as_os_str())?;
    let args: Vec<CString> = argv
        .iter()
        .map(|a| cstring(OsStr::new(a)))
        .collect::<io::Result<_>>()?;
    let account = limits.run_as.or_else(own_account);
    let envs = environment(env, account)?;
    let groups: Vec<libc::gid_t> = match limits.run_as {
        Some(a) if !a.groups.is_empty() => a.groups.clone(),
        Some(a) => vec![a.gid],
        None => Vec::new(),
    };
    let null = above_std(dev_null()?)?;
    let (read, write) = pipe()?;
    let write = above_std(write)?;
    let mut rlimits = [(0, 0); 3];
    let mut rlimit_count = 0;
    for (resource, value) in [
        (libc::RLIMIT_NPROC, limits.nproc),
        (libc::RLIMIT_AS, limits.address_space),
        (libc::RLIMIT_CPU, limits.cpu_seconds),
    ] {
        if let Some(v) = value {
            rlimits[rlimit_count] = (resource, clamp_limit(resource, v));
            rlimit_count += 1;
        }
    }
    let with_null = |v: &[CString]| {
        v.iter()
            .map(|c| c.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect::<Vec<_>>()
    };
    let mut plan = ChildPlan {
        argv: with_null(&args),
        envp: with_null(&envs),
        program,
        stdin: null.as_raw_fd(),
        stdout: write.as_raw_fd(),
        stderr: null.as_raw_fd(),
        rlimits,
        rlimit_count,
        run_as: limits.run_as.map(|a| (a.uid, a.gid)),
        groups: groups.as_ptr(),
        ngroups: groups.len(),
        failure: (0, 0),
    };
    let mut stack: Vec<u8> = Vec::with_capacity(CHILD_STACK);
    // the stack grows down from its 16-byte aligned top
    let top = (stack.as_mut_ptr() as usize + CHILD_STACK) & !15;
    let pid = {
        let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
        let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
        // SAFETY: valid signal sets; no signal handler may run in the child while it
        // shares our memory, so every signal is blocked around the clone (the child
        // restores its dispositions and unblocks them itself).
        unsafe {
            libc::sigfillset(&mut all);
            libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        }
        // SAFETY: the child runs `child_main` on its own stack with a pointer to `plan`,
        // which outlives it: CLONE_VFORK suspends this thread until the child has
        // executed the plugin or exited.
        let pid = unsafe {
            libc::clone(
                child_main,
                top as *mut libc::c_void,
                libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
                (&mut plan as *mut ChildPlan).cast(),
            )
        };
        let err = io::Error::last_os_error();
        // SAFETY: restores this thread's mask saved above.
        unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        if pid < 0 {
            return Err(err);
        }
        pid
    };
    drop(stack);
    drop(write);
    let mut child = Child { pid, reaped: false };
    let (step, errno) = plan.failure;
    if step != 0 {
        let _ = child.try_wait();
        if !child.reaped {
            // it exits at once after a failed step
            let _ = waitpid(pid, 0);
            child.reaped = true;
        }
        let e = io::Error::from_raw_os_error(errno);
        return Err(if step as usize == STEP_NAMES.len() - 1 {
            e
        } else {
            io::Error::new(e.kind(), format!("{}: {e}", STEP_NAMES[step as usize]))
        });
    }
    // SAFETY: read is a pipe descriptor we own.
    cvt(unsafe { libc::fcntl(read.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) })?;
    Ok((child, read))
}

/// The cloned child: system calls only, on the data of the plan, then exec.
extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: arg is the parent's plan, alive and not touched by the parent until
    // this child has executed or exited (CLONE_VFORK).
    let plan = unsafe { &mut *arg.cast::<ChildPlan>() };
    let fail = |plan: &mut ChildPlan, step: libc::c_int| -> libc::c_int {
        // SAFETY: reads this thread's errno; _exit ends the child only.
        plan.failure = (step, unsafe { *libc::__errno_location() });
        unsafe { libc::_exit(127) }
    };
    // SAFETY: system calls on descriptors, ids and pointers prepared by the parent.
    unsafe {
        // default dispositions for every handled signal (and SIGPIPE, which the daemon
        // ignores), then no signal blocked
        for sig in 1..=libc::SIGRTMAX() {
            let mut act: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(sig, std::ptr::null(), &mut act) == 0
                && (act.sa_sigaction != libc::SIG_IGN || sig == libc::SIGPIPE)
                && act.sa_sigaction != libc::SIG_DFL
            {
                act.sa_sigaction = libc::SIG_DFL;
                act.sa_flags = 0;
                libc::sigaction(sig, &act, std::ptr::null_mut());
            }
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());
        if libc::setpgid(0, 0) != 0 {
            return fail(plan, 1);
        }
        for (from, to) in [(plan.stdin, 0), (plan.stdout, 1), (plan.stderr, 2)] {
            if libc::dup2(from, to) < 0 {
                return fail(plan, 2);
            }
        }
        let (rlimits, count) = (plan.rlimits, plan.rlimit_count);
        for &(resource, value) in &rlimits[..count] {
            let lim = libc::rlimit {
                rlim_cur: value,
                rlim_max: value,
            };
            if libc::setrlimit(resource, &lim) != 0 {
                return fail(plan, 3);
            }
        }
        if let Some((uid, gid)) = plan.run_as {
            // raw system calls: the C library's wrappers would change every thread of
            // the daemon, whose memory this child shares
            if libc::syscall(libc::SYS_setgroups, plan.ngroups, plan.groups) != 0
                || libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0
                || libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0
            {
                return fail(plan, 4);
            }
        }
        if libc::syscall(
            libc::SYS_prctl,
            PR_CAP_AMBIENT,
            PR_CAP_AMBIENT_CLEAR_ALL,
            0,
            0,
            0,
        ) != 0
            && *libc::__errno_location() != libc::EINVAL
        {
            return fail(plan, 5);
        }
        libc::execve(
            plan.program.as_ptr(),
            plan.argv.as_ptr(),
            plan.envp.as_ptr(),
        );
        fail(plan, 6)
    }
}

/// The process groups of running plugins, so that the daemon can kill them all when it
/// stops. Once closed, a plugin that starts is killed at once.
pub struct Groups {
    inner: Mutex<(bool, Vec<libc::pid_t>)>,
}

/// A plugin's place in [`Groups`], left when dropped.
pub struct Tracked<'a> {
    groups: &'a Groups,
    pgid: libc::pid_t,
}

impl Groups {
    /// No groups, open.
    pub const fn new() -> Groups {
        Groups {
            inner: Mutex::new((false, Vec::new())),
        }
    }

    /// Records a running plugin's group; kills it at once if the groups are closed.
    pub fn track(&self, child: &Child) -> Tracked<'_> {
        let mut g = self.inner.lock().expect("groups lock");
        if g.0 {
            child.kill_group();
        } else {
            g.1.push(child.pid);
        }
        Tracked {
            groups: self,
            pgid: child.pid,
        }
    }

    /// Kills every recorded group and closes: plugins started from now on are killed at
    /// once. Returns how many groups were killed.
    pub fn kill_all(&self) -> usize {
        let mut g = self.inner.lock().expect("groups lock");
        g.0 = true;
        for &pg in &g.1 {
            // SAFETY: signals the process group of a plugin we started.
            unsafe { libc::killpg(pg, libc::SIGKILL) };
        }
        g.1.len()
    }
}

impl Default for Groups {
    fn default() -> Self {
        Groups::new()
    }
}

impl Drop for Tracked<'_> {
    fn drop(&mut self) {
        let mut g = self.groups.inner.lock().expect("groups lock");
        if let Some(i) = g.1.iter().position(|&p| p == self.pgid) {
            g.1.swap_remove(i);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A runtime on the test's own thread, for the tests of running programs.
    pub(crate) fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    /// Runs `words` to the end; returns its wait status and stdout.
    fn run(words: &[&str], env: &[(String, String)], limits: Limits) -> (libc::c_int, String) {
        rt().block_on(async {
            use tokio::io::AsyncReadExt;
            let (mut child, out) = spawn(&argv(words), env, limits).unwrap();
            // read to the end as the executor does (the pipe is non-blocking)
            let mut out = tokio::net::unix::pipe::Receiver::from_owned_fd_unchecked(out).unwrap();
            let mut text = String::new();
            out.read_to_string(&mut text).await.unwrap();
            let status = child.wait().await.unwrap();
            (status, text)
        })
    }

    #[test]
    fn programs_are_found_on_the_plugin_path_only() {
        let sh = resolve("sh").unwrap();
        assert!(sh.is_absolute() && executable(&sh), "{}", sh.display());
        assert_eq!(
            resolve("no-such-plugin-anywhere")
                .unwrap_err()
                .raw_os_error(),
            Some(libc::ENOENT)
        );
        // a path is taken as it is (and fails at the exec if it is not there)
        assert_eq!(resolve("./x").unwrap(), PathBuf::from("./x"));
        assert!(spawn(&argv(&["/nonexistent/plugin"]), &[], Limits::default()).is_err());
        assert!(spawn(&[], &[], Limits::default()).is_err());
        // a NUL in an argument cannot be passed
        assert!(spawn(&argv(&["/bin/echo", "a\0b"]), &[], Limits::default()).is_err());
    }

    #[test]
    fn the_environment_is_made_not_inherited() {
        let account = Account {
            name: "alice".into(),
            uid: 1000,
            gid: 1000,
            home: "/home/alice".into(),
            groups: vec![1000],
            shell: "/bin/sh".into(),
        };
        let env = environment(&[("LANG".into(), "fr_FR.UTF-8".into())], Some(&account)).unwrap();
        let vars: Vec<String> = env
            .iter()
            .map(|c| c.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            vars,
            [
                format!("PATH={PLUGIN_PATH}"),
                "HOME=/home/alice".into(),
                "USER=alice".into(),
                "LOGNAME=alice".into(),
                "LANG=fr_FR.UTF-8".into(),
            ]
        );
        assert!(environment(&[("X".into(), "a\0b".into())], None).is_err());
    }

    #[test]
    fn limits_hold_in_the_plugin() {
        let limits = Limits {
            nproc: None,
            address_space: Some(512 * 1024 * 1024),
            cpu_seconds: Some(7),
            run_as: None,
        };
        let (status, out) = run(&["/bin/sh", "-c", "ulimit -t; ulimit -v"], &[], limits);
        assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
        assert_eq!(out, "7\n524288\n");
        // a limit never goes above the daemon's own hard limit unless it is root
        let mut cur = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: cur is a valid out pointer.
        unsafe { libc::getrlimit(libc::RLIMIT_CPU, &mut cur) };
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 && cur.rlim_max != libc::RLIM_INFINITY {
            assert_eq!(clamp_limit(libc::RLIMIT_CPU, u64::MAX), cur.rlim_max);
        } else {
            assert_eq!(clamp_limit(libc::RLIMIT_CPU, 9), 9);
        }
    }

    #[test]
    fn a_plugin_leads_its_own_process_group_and_dies_with_it() {
        rt().block_on(async {
            let (mut child, _out) = spawn(
                &argv(&["/bin/sh", "-c", "sleep 30 & sleep 30"]),
                &[],
                Limits::default(),
            )
            .unwrap();
            // SAFETY: getpgid has no preconditions.
            assert_eq!(unsafe { libc::getpgid(child.pid()) }, child.pid());
            let groups = Groups::new();
            let tracked = groups.track(&child);
            assert_eq!(groups.kill_all(), 1);
            let status = child.wait().await.unwrap();
            assert!(libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL);
            drop(tracked);
            // closed: a plugin tracked from now on is killed at once
            let (mut late, _out) =
                spawn(&argv(&["/bin/sleep", "30"]), &[], Limits::default()).unwrap();
            let _t = groups.track(&late);
            let status = late.wait().await.unwrap();
            assert!(libc::WIFSIGNALED(status));
        });
    }

    #[test]
    fn stdin_is_empty_and_stdout_is_read() {
        let (status, out) = run(
            &["/bin/sh", "-c", "cat; echo done; echo err >&2"],
            &[],
            Limits::default(),
        );
        assert_eq!(libc::WEXITSTATUS(status), 0);
        assert_eq!(out, "done\n");
    }
}
