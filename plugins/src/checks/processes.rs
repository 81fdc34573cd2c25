//! A snapshot of the process table read straight from `/proc` (never `ps`), shared by
//! check_procs and check_load's top-CPU list.

use procfs::process::{Process, Stat};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// What the checks need to know of one process. Fields a snapshot was not asked to
/// read (see [`Fields`]) keep their default value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProcessInfo {
    pub pid: i32,
    pub ppid: i32,
    /// Effective uid: the owner of `/proc/PID`, which the kernel keeps equal to the
    /// task's euid (also for non-dumpable tasks).
    pub uid: u32,
    /// State letter as in `ps` (R, S, D, Z, T, t, I, X...).
    pub state: char,
    /// Command name (`comm`, at most 15 bytes).
    pub command: String,
    /// Full argument list joined by spaces (empty for kernel threads and zombies).
    pub args: String,
    /// Resident set in bytes.
    pub rss: u64,
    /// Virtual size in bytes.
    pub vsz: u64,
    /// User plus system CPU time in seconds.
    pub cpu_seconds: f64,
    /// Seconds since the process started.
    pub elapsed_seconds: f64,
    /// Kernel thread (the kernel's PF_KTHREAD flag: kthreadd and its children).
    pub kernel_thread: bool,
    /// Nice value (-20..19).
    pub nice: i64,
    /// Session id.
    pub session: i32,
    /// Process group id.
    pub pgrp: i32,
    /// Foreground process group of the controlling terminal (-1 without one).
    pub tpgid: i32,
    /// Number of threads (tasks) in the process.
    pub threads: i64,
    /// Has memory locked in RAM (`VmLck` > 0; read only when [`Fields::locked`]).
    pub locked: bool,
}

/// The kernel's flag for kernel threads in `/proc/PID/stat`.
const PF_KTHREAD: u32 = 0x0020_0000;

impl ProcessInfo {
    /// Builds the record from a parsed `/proc/PID/stat`, given the clock tick rate, the
    /// page size in bytes and the system uptime in seconds.
    pub fn from_stat(stat: &Stat, uid: u32, ticks: f64, page: u64, uptime: f64) -> ProcessInfo {
        let start = stat.starttime as f64 / ticks;
        ProcessInfo {
            pid: stat.pid,
            ppid: stat.ppid,
            uid,
            state: stat.state,
            command: stat.comm.clone(),
            args: String::new(),
            rss: stat.rss * page,
            vsz: stat.vsize,
            cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
            elapsed_seconds: (uptime - start).max(0.0),
            kernel_thread: stat.flags & PF_KTHREAD != 0,
            nice: stat.nice,
            session: stat.session,
            pgrp: stat.pgrp,
            tpgid: stat.tpgid,
            threads: stat.num_threads,
            locked: false,
        }
    }

    /// Lifetime CPU use in percent, as `ps` computes `%CPU`.
    pub fn pcpu(&self) -> f64 {
        if self.elapsed_seconds > 0.0 {
            100.0 * self.cpu_seconds / self.elapsed_seconds
        } else {
            0.0
        }
    }

    /// The `STAT` column of `ps`: the state letter, then `<` (high priority), `N` (low
    /// priority), `L` (locked pages), `s` (session leader), `l` (multi-threaded), `+`
    /// (in the terminal's foreground process group), in that order.
    pub fn ps_stat(&self) -> String {
        let mut s = String::with_capacity(6);
        s.push(self.state);
        if self.nice < 0 {
            s.push('<');
        }
        if self.nice > 0 {
            s.push('N');
        }
        if self.locked {
            s.push('L');
        }
        if self.session == self.pid {
            s.push('s');
        }
        if self.threads > 1 {
            s.push('l');
        }
        if self.tpgid == self.pgrp {
            s.push('+');
        }
        s
    }

    /// The `ARGS` column of `ps`: the argument list, or `[comm]` when there is none
    /// (kernel threads, zombies), with ` <defunct>` after a zombie's.
    pub fn ps_args(&self) -> std::borrow::Cow<'_, str> {
        if !self.args.is_empty() {
            return self.args.as_str().into();
        }
        let defunct = if self.state == 'Z' { " <defunct>" } else { "" };
        format!("[{}]{defunct}", self.command).into()
    }
}

/// Which files of each `/proc/PID` a snapshot reads; what is not read keeps its
/// default in [`ProcessInfo`], so a check pays only for what it uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Fields {
    /// `stat`: everything but the uid, the arguments and `locked` (without it only
    /// `pid` is set).
    pub stat: bool,
    /// The owner of the `/proc/PID` directory (one `fstat`).
    pub uid: bool,
    /// `cmdline`.
    pub args: bool,
    /// `status` (for `VmLck`).
    pub locked: bool,
}

impl Fields {
    /// Everything but `locked`: what listing processes for people needs.
    pub const LISTING: Fields = Fields {
        stat: true,
        uid: true,
        args: true,
        locked: false,
    };
}

/// Reads every process below `proc_root` (normally `/proc`), with or without the
/// arguments. Processes that exit while being read are skipped.
pub fn snapshot(proc_root: &Path, with_args: bool) -> std::io::Result<Vec<ProcessInfo>> {
    snapshot_with(
        proc_root,
        Fields {
            args: with_args,
            ..Fields::LISTING
        },
    )
}

/// Reads the chosen [`Fields`] of every process below `proc_root`. Processes that exit
/// while being read are skipped.
pub fn snapshot_with(proc_root: &Path, fields: Fields) -> std::io::Result<Vec<ProcessInfo>> {
    let ticks = procfs::ticks_per_second() as f64;
    let page = procfs::page_size();
    let uptime = if fields.stat {
        std::fs::read_to_string(proc_root.join("uptime"))?
            .split_whitespace()
            .next()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    } else {
        0.0
    };
    let all = procfs::process::all_processes_with_root(proc_root)
        .map_err(|e| std::io::Error::other(e.to_string()))?;
    let mut out = Vec::new();
    for p in all.flatten() {
        if let Some(info) = read_one(&p, fields, ticks, page, uptime) {
            out.push(info);
        }
    }
    Ok(out)
}

fn read_one(
    p: &Process,
    fields: Fields,
    ticks: f64,
    page: u64,
    uptime: f64,
) -> Option<ProcessInfo> {
    let uid = if fields.uid { p.uid().ok()? } else { 0 };
    let mut info = if fields.stat {
        ProcessInfo::from_stat(&p.stat().ok()?, uid, ticks, page, uptime)
    } else {
        ProcessInfo {
            pid: p.pid(),
            uid,
            ..ProcessInfo::default()
        }
    };
    if fields.args {
        info.args = read_cmdline(p).unwrap_or_default();
    }
    if fields.locked {
        info.locked = p
            .status()
            .ok()
            .and_then(|s| s.vmlck)
            .is_some_and(|kb| kb > 0);
    }
    Some(info)
}

/// The argument list joined by spaces, invalid UTF-8 replaced, as `ps` shows it.
fn read_cmdline(p: &Process) -> Option<String> {
    let mut raw = Vec::new();
    p.open_relative("cmdline")
        .ok()?
        .read_to_end(&mut raw)
        .ok()?;
    let text = String::from_utf8_lossy(&raw);
    Some(
        text.trim_end_matches('\0')
            .split('\0')
            .collect::<Vec<_>>()
            .join(" "),
    )
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
