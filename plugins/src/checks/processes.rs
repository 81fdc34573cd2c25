//! A snapshot of the process table read straight from `/proc` (never `ps`), shared by
//! check_procs and check_load's top-CPU list.

use procfs::process::Process;
use std::collections::HashMap;
use std::path::Path;

/// What the checks need to know of one process.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    pub uid: u32,
    /// State letter as in `ps` (R, S, D, Z, T, t, I, X...).
    pub state: char,
    /// Command name (`comm`, at most 15 bytes).
    pub command: String,
    /// Full argument list joined by spaces (empty for kernel threads).
    pub args: String,
    /// Resident set in bytes.
    pub rss: u64,
    /// Virtual size in bytes.
    pub vsz: u64,
    /// User plus system CPU time in seconds.
    pub cpu_seconds: f64,
    /// Seconds since the process started.
    pub elapsed_seconds: f64,
    /// Kernel thread (child of kthreadd, or pid 2 itself).
    pub kernel_thread: bool,
}

impl ProcessInfo {
    /// Lifetime CPU use in percent, as `ps` computes `%CPU`.
    pub fn pcpu(&self) -> f64 {
        if self.elapsed_seconds > 0.0 {
            100.0 * self.cpu_seconds / self.elapsed_seconds
        } else {
            0.0
        }
    }
}

/// Reads every process below `proc_root` (normally `/proc`). Processes that exit while
/// being read are skipped.
pub fn snapshot(proc_root: &Path, with_args: bool) -> std::io::Result<Vec<ProcessInfo>> {
    let ticks = procfs::ticks_per_second() as f64;
    let page = procfs::page_size();
    let uptime = std::fs::read_to_string(proc_root.join("uptime"))?
        .split_whitespace()
        .next()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(0.0);
    let all = procfs::process::all_processes_with_root(proc_root)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = Vec::new();
    for p in all.flatten() {
        if let Some(info) = read_one(&p, ticks, page, uptime, with_args) {
            out.push(info);
        }
    }
    Ok(out)
}

fn read_one(
    p: &Process,
    ticks: f64,
    page: u64,
    uptime: f64,
    with_args: bool,
) -> Option<ProcessInfo> {
    let stat = p.stat().ok()?;
    let uid = p.uid().ok()?;
    let args = if with_args {
        p.cmdline().map(|a| a.join(" ")).unwrap_or_default()
    } else {
        String::new()
    };
    let start = stat.starttime as f64 / ticks;
    Some(ProcessInfo {
        pid: stat.pid,
        ppid: stat.ppid,
        uid,
        state: stat.state,
        command: stat.comm,
        args,
        rss: stat.rss * page,
        vsz: stat.vsize,
        cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
        elapsed_seconds: (uptime - start).max(0.0),
        kernel_thread: stat.pid == 2 || stat.ppid == 2,
    })
}

/// User names by uid, looked up once each through the system's user database.
#[derive(Default)]
pub struct UserNames(HashMap<u32, String>);

impl UserNames {
    /// The name of `uid`, or the number as text when it has none.
    pub fn name(&mut self, uid: u32) -> &str {
        self.0
            .entry(uid)
            .or_insert_with(|| lookup_user(uid).unwrap_or_else(|| uid.to_string()))
    }
}

/// The user name for a uid (getpwuid_r).
pub fn lookup_user(uid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: getpwuid_r writes into our passwd and buffer; we read pw_name only when
    // it reports success.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut res);
        if rc != 0 || res.is_null() {
            return None;
        }
        Some(
            std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned(),
        )
    }
}

/// The uid for a user name or a number (getpwnam_r).
pub fn lookup_uid(name: &str) -> Option<u32> {
    if let Ok(n) = name.parse() {
        return Some(n);
    }
    let cname = std::ffi::CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; 4096];
    // SAFETY: as in lookup_user.
    unsafe {
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut res: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwnam_r(
            cname.as_ptr(),
            &mut pwd,
            buf.as_mut_ptr(),
            buf.len(),
            &mut res,
        );
        if rc != 0 || res.is_null() {
            return None;
        }
        Some(pwd.pw_uid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_itself() {
        let all = snapshot(Path::new("/proc"), true).unwrap();
        let me = all
            .iter()
            .find(|p| p.pid == std::process::id() as i32)
            .unwrap();
        assert!(me.rss > 0);
        assert!(!me.args.is_empty());
        assert!(!me.kernel_thread);
        assert_eq!(lookup_user(0).as_deref(), Some("root"));
        assert_eq!(lookup_uid("root"), Some(0));
        assert_eq!(lookup_uid("1234"), Some(1234));
        assert_eq!(lookup_uid("no-such-user-here"), None);
    }
}
