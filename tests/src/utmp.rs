//! Real utmp files for check_users: login records written by glibc itself
//! (`utmpxname` + `pututxline`) into a temporary file, and a plugin run with that file as
//! the system's `/var/run/utmp` (a private mount namespace with its own `/run`), so our
//! check_users and Debian's count the very same records.

use crate::{is_root, require, Run};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

/// One login record: its type (`libc::USER_PROCESS`, `libc::LOGIN_PROCESS`, ...), user
/// and terminal.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub kind: libc::c_short,
    pub user: &'a str,
    pub line: &'a str,
}

impl<'a> Entry<'a> {
    /// A user's login session on `line`.
    pub fn session(user: &'a str, line: &'a str) -> Entry<'a> {
        Entry {
            kind: libc::USER_PROCESS,
            user,
            line,
        }
    }
}

fn copy_into(dst: &mut [libc::c_char], text: &str) {
    for (d, b) in dst.iter_mut().zip(text.bytes()) {
        *d = b as libc::c_char;
    }
}

/// Writes `entries` into the utmp file `path` (created empty first) through glibc's
/// pututxline, as login and sshd write the system's. glibc keeps one utmp cursor per
/// process: callers write their files one at a time.
pub fn write(path: &Path, entries: &[Entry]) {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    std::fs::write(path, b"").expect("create the utmp file");
    let name = CString::new(path.as_os_str().as_bytes()).expect("utmp path");
    // SAFETY: glibc's utmp functions with a valid C string and zero-initialised
    // records (plain integers and byte arrays); the lock above serialises their use.
    unsafe {
        assert_eq!(libc::utmpxname(name.as_ptr()), 0, "utmpxname");
        libc::setutxent();
        for (i, e) in entries.iter().enumerate() {
            let mut u: libc::utmpx = std::mem::zeroed();
            u.ut_type = e.kind;
            u.ut_pid = 1000 + i as libc::pid_t;
            copy_into(&mut u.ut_line, e.line);
            copy_into(&mut u.ut_id, &format!("{i}"));
            copy_into(&mut u.ut_user, e.user);
            assert!(
                !libc::pututxline(&u).is_null(),
                "pututxline into {}: {}",
                path.display(),
                std::io::Error::last_os_error()
            );
        }
        libc::endutxent();
        // back to the system's file for anything else in this process
        let system = CString::new("/var/run/utmp").expect("path");
        libc::utmpxname(system.as_ptr());
    }
}

/// Runs `program` with `utmp` as the system's login records: in a private mount
/// namespace whose `/run` (where `/var/run/utmp` lives) is an empty tmpfs holding only a
/// copy of `utmp`. Needs root and `unshare` (util-linux).
pub fn run_with(utmp: &Path, program: &Path, args: &[&str]) -> Run {
    assert!(is_root(), "a private /run needs root");
    require("unshare", "util-linux");
    let script =
        "set -e; mount -t tmpfs -o size=1m tmpfs /run; cp \"$1\" /run/utmp; shift; exec \"$@\"";
    Command::new("unshare")
        .args(["-m", "--propagation", "private", "sh", "-c", script, "sh"])
        .arg(utmp)
        .arg(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .expect("run unshare")
        .into()
}
