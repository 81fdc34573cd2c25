//! A snapshot of the process table read straight from `/proc` (never `ps`), shared by
//! check_procs and check_load's top-CPU list.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

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
const PF_KTHREAD: u64 = 0x0020_0000;

impl ProcessInfo {
    /// Builds the record from the text of `/proc/PID/stat`, given the clock tick rate,
    /// the page size in bytes and the system uptime in seconds. `None` if the text is
    /// not a stat line.
    pub fn from_stat(text: &str, uid: u32, ticks: f64, page: u64, uptime: f64) -> Option<Self> {
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses
        let open = text.find(" (")?;
        let close = text.rfind(')')?;
        let pid = text[..open].parse().ok()?;
        let command = text.get(open + 2..close)?.to_string();
        // fields after the command, numbered as in proc(5) minus 3
        let f: Vec<&str> = text.get(close + 2..)?.split_ascii_whitespace().collect();
        if f.len() < 22 {
            return None;
        }
        let num = |i: usize| f[i].parse::<i64>().ok();
        let unum = |i: usize| f[i].parse::<u64>().ok();
        let start = unum(19)? as f64 / ticks;
        Some(ProcessInfo {
            pid,
            ppid: num(1)? as i32,
            uid,
            state: f[0].chars().next()?,
            command,
            args: String::new(),
            rss: unum(21)? * page,
            vsz: unum(20)?,
            cpu_seconds: (unum(11)? + unum(12)?) as f64 / ticks,
            elapsed_seconds: (uptime - start).max(0.0),
            kernel_thread: unum(6)? & PF_KTHREAD != 0,
            nice: num(16)?,
            session: num(3)? as i32,
            pgrp: num(2)? as i32,
            tpgid: num(5)? as i32,
            threads: num(17)?,
            locked: false,
        })
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
    /// `cmdline` (and `stat` for processes without arguments, when `stat` is not read
    /// anyway, so that [`ProcessInfo::ps_args`] can name them).
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
        &|_| true,
    )
}

/// Reads the chosen [`Fields`] of every process below `proc_root`, keeping those for
/// which `keep` (called once `stat` and the uid are read) returns true; `cmdline` and
/// `status` are read only for the processes kept. Processes that exit while being
/// read are skipped.
///
/// Each file is read with one `open`, usually one `read` (a read shorter than the
/// buffer is the whole of these one-record files) and one `close`; `stat` is parsed
/// by [`ProcessInfo::from_stat`].
pub fn snapshot_with(
    proc_root: &Path,
    fields: Fields,
    keep: &dyn Fn(&ProcessInfo) -> bool,
) -> std::io::Result<Vec<ProcessInfo>> {
    let ticks = procfs::ticks_per_second() as f64;
    let page = procfs::page_size();
    let mut buf = Vec::with_capacity(4096);
    let uptime = if fields.stat || fields.args {
        read_into(&proc_root.join("uptime"), &mut buf)?;
        std::str::from_utf8(&buf)
            .ok()
            .and_then(|t| t.split_whitespace().next())
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    } else {
        0.0
    };
    let mut out = Vec::new();
    let mut path = proc_root.to_path_buf();
    for entry in std::fs::read_dir(proc_root)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<i32>().ok()) else {
            continue;
        };
        path.push(&name);
        let info = read_one(&mut path, pid, fields, ticks, page, uptime, &mut buf, keep);
        path.pop();
        out.extend(info);
    }
    Ok(out)
}

/// Reads one process; `dir` is its `/proc/PID` and is left as it was given.
#[allow(clippy::too_many_arguments)]
fn read_one(
    dir: &mut PathBuf,
    pid: i32,
    fields: Fields,
    ticks: f64,
    page: u64,
    uptime: f64,
    buf: &mut Vec<u8>,
    keep: &dyn Fn(&ProcessInfo) -> bool,
) -> Option<ProcessInfo> {
    use std::os::unix::fs::MetadataExt;
    let uid = if fields.uid {
        std::fs::metadata(&*dir).ok()?.uid()
    } else {
        0
    };
    let mut info = if fields.stat {
        dir.push("stat");
        let read = read_into(dir, buf);
        dir.pop();
        read.ok()?;
        let text = std::str::from_utf8(buf).ok()?;
        ProcessInfo::from_stat(text, uid, ticks, page, uptime)?
    } else {
        ProcessInfo {
            pid,
            uid,
            ..ProcessInfo::default()
        }
    };
    if !keep(&info) {
        return None;
    }
    if fields.args {
        dir.push("cmdline");
        if read_into(dir, buf).is_ok() {
            info.args = join_args(buf);
        }
        dir.pop();
        // without arguments (kernel threads, zombies) `ps_args` shows the command name
        if info.args.is_empty() && !fields.stat {
            dir.push("stat");
            let read = read_into(dir, buf);
            dir.pop();
            let text = read.ok().and_then(|_| std::str::from_utf8(buf).ok());
            if let Some(stat) =
                text.and_then(|t| ProcessInfo::from_stat(t, uid, ticks, page, uptime))
            {
                info = stat;
            }
        }
    }
    if fields.locked {
        dir.push("status");
        if read_into(dir, buf).is_ok() {
            info.locked = status_has_locked_memory(buf);
        }
        dir.pop();
    }
    Some(info)
}

/// Reads a whole `/proc` file into `buf` (replacing its contents).
fn read_into(path: &Path, buf: &mut Vec<u8>) -> std::io::Result<()> {
    buf.clear();
    let mut f = std::fs::File::open(path)?;
    loop {
        if buf.capacity() - buf.len() < 1024 {
            buf.reserve(buf.capacity().max(4096));
        }
        let len = buf.len();
        let room = buf.capacity() - len;
        buf.resize(len + room, 0);
        let n = f.read(&mut buf[len..])?;
        buf.truncate(len + n);
        if n < room {
            return Ok(());
        }
    }
}

/// `cmdline` text: arguments joined by spaces, invalid UTF-8 replaced, as `ps` shows
/// them.
fn join_args(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\0").unwrap_or(raw);
    String::from_utf8_lossy(raw).replace('\0', " ")
}

/// True when a `status` text shows locked memory (`VmLck:` above 0 kB).
fn status_has_locked_memory(status: &[u8]) -> bool {
    String::from_utf8_lossy(status)
        .lines()
        .find_map(|l| l.strip_prefix("VmLck:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .is_some_and(|kb| kb > 0)
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

/// The soft "Max processes" limit of process `pid` (its `/proc/PID/limits`): `Some(None)`
/// when unlimited, `None` when it cannot be read (the process is gone).
pub fn nproc_soft_limit(proc_root: &Path, pid: i32) -> Option<Option<u64>> {
    let proc = procfs::process::Process::new_with_root(proc_root.join(pid.to_string())).ok()?;
    Some(match proc.limits().ok()?.max_processes.soft_limit {
        procfs::process::LimitValue::Value(v) => Some(v),
        procfs::process::LimitValue::Unlimited => None,
    })
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

    #[test]
    fn reads_only_what_is_asked_and_kept() {
        let me = std::process::id() as i32;
        let bare = snapshot_with(Path::new("/proc"), Fields::default(), &|_| true).unwrap();
        let mine = bare.iter().find(|p| p.pid == me).unwrap();
        assert_eq!(mine.command, "");
        assert_eq!(mine.rss, 0);
        let kept = snapshot_with(
            Path::new("/proc"),
            Fields {
                stat: true,
                args: true,
                ..Fields::default()
            },
            &|p| p.pid == me,
        )
        .unwrap();
        assert_eq!(kept.len(), 1);
        assert!(kept[0].rss > 0 && !kept[0].args.is_empty());
    }

    #[test]
    fn stat_lines() {
        let line = "77 (a (b) c) R 1 77 70 34816 77 4194560 5 0 0 0 250 50 0 0 20 -5 2 0 12345 8192000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        let p = ProcessInfo::from_stat(line, 1000, 100.0, 4096, 1000.0).unwrap();
        assert_eq!(
            (
                p.pid,
                p.command.as_str(),
                p.state,
                p.ppid,
                p.pgrp,
                p.session
            ),
            (77, "a (b) c", 'R', 1, 77, 70)
        );
        assert_eq!((p.tpgid, p.nice, p.threads), (77, -5, 2));
        assert_eq!((p.rss, p.vsz, p.cpu_seconds), (300 * 4096, 8192000, 3.0));
        assert!((p.elapsed_seconds - 876.55).abs() < 1e-9);
        assert!(!p.kernel_thread);
        assert_eq!(p.ps_stat(), "R<l+");
        assert!(ProcessInfo::from_stat("garbage", 0, 100.0, 4096, 1.0).is_none());
        assert!(ProcessInfo::from_stat("1 (x) S 0 1", 0, 100.0, 4096, 1.0).is_none());
    }

    #[test]
    fn cmdline_and_status_texts() {
        assert_eq!(join_args(b"sleep\x00300\x00"), "sleep 300");
        assert_eq!(join_args(b"sshd: alice@pts/0"), "sshd: alice@pts/0");
        assert_eq!(join_args(b"a\0\0b\0"), "a  b");
        assert_eq!(join_args(b"\xffx\0"), "\u{fffd}x");
        assert!(status_has_locked_memory(b"Name:\tx\nVmLck:\t      4 kB\n"));
        assert!(!status_has_locked_memory(b"Name:\tx\nVmLck:\t      0 kB\n"));
        assert!(!status_has_locked_memory(b"Name:\tkthreadd\n"));
    }
}
