//! Giving up root: looking up the account to become, and becoming it for good.
//!
//! [`lookup`] reads a user (and optionally a group that replaces its primary group)
//! from the system's user database with the reentrant calls, and the user's
//! supplementary groups. [`drop_to`] then sets the supplementary groups, the real,
//! effective and saved group ids, then the real, effective and saved user ids, in that
//! order, keeps only the capabilities asked for, clears the ambient set, and verifies
//! the result: every id is the target, the groups are exactly the ones set, and going
//! back to root fails. Any failure is an error the caller treats as fatal.
//!
//! The changes are made with the C library's wrappers, which apply them to every
//! thread of the process, but [`drop_to`] refuses to run when the process has more than
//! one thread: a thread started earlier could be in the middle of something with the
//! old credentials. Call it before building an async runtime.

use std::ffi::{CStr, CString};
use std::path::PathBuf;

/// A system account, as the process will run after [`drop_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub uid: u32,
    /// The primary group: the user's, or the group given to [`lookup`].
    pub gid: u32,
    /// Every group of the process after the change: the primary group first, then the
    /// user's supplementary groups from the group database.
    pub groups: Vec<u32>,
    pub home: PathBuf,
    pub shell: PathBuf,
}

/// The capabilities the project's daemons may keep after leaving root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum Capability {
    DacReadSearch = 2,
    Kill = 5,
    Setgid = 6,
    Setuid = 7,
    NetBindService = 10,
    NetRaw = 13,
    SysPtrace = 19,
    SysAdmin = 21,
}

impl Capability {
    /// The capability's number in the kernel's sets.
    pub fn number(self) -> u32 {
        self as u32
    }
}

/// The most bytes a user or group record may take (the buffer grows up to this).
const MAX_RECORD: usize = 1 << 20;
/// The most groups a user may have.
const MAX_GROUPS: usize = 65_536;

fn cstring(what: &str, s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("{what} name '{}' contains a NUL byte", s.escape_debug()))
}

fn text(p: *const libc::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: p points into the record buffer, a NUL-terminated string.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// Calls a reentrant database lookup with a buffer that grows while it is too small.
/// `call(buf, len, &mut found)` returns the lookup's error number and copies what it
/// needs out of the buffer before returning; the result tells whether it found a record.
fn with_buffer(
    mut call: impl FnMut(*mut libc::c_char, usize, &mut bool) -> libc::c_int,
) -> Result<bool, std::io::Error> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        let mut found = false;
        match call(buf.as_mut_ptr(), buf.len(), &mut found) {
            0 => return Ok(found),
            libc::ERANGE if size < MAX_RECORD => size *= 4,
            // "not found" spellings of the C library
            libc::ENOENT | libc::ESRCH | libc::EBADF | libc::EPERM => return Ok(false),
            e => return Err(std::io::Error::from_raw_os_error(e)),
        }
    }
}

/// The passwd record of a user name, or of a uid (without supplementary groups).
fn passwd(name: Option<&CStr>, uid: u32) -> Result<Option<Account>, std::io::Error> {
    let mut account = None;
    with_buffer(|buf, len, found| {
        // SAFETY: a zeroed passwd is a valid out value (null pointers, zero ids).
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: pw, buf (len bytes) and out are valid for the call.
        let rc = unsafe {
            match name {
                Some(n) => libc::getpwnam_r(n.as_ptr(), &mut pw, buf, len, &mut out),
                None => libc::getpwuid_r(uid, &mut pw, buf, len, &mut out),
            }
        };
        *found = rc == 0 && !out.is_null();
        if *found {
            // the strings point into buf: copied before it goes
            account = Some(Account {
                name: text(pw.pw_name),
                uid: pw.pw_uid,
                gid: pw.pw_gid,
                groups: Vec::new(),
                home: text(pw.pw_dir).into(),
                shell: text(pw.pw_shell).into(),
            });
        }
        rc
    })?;
    Ok(account)
}

/// The gid of a group name.
fn group_id(name: &CStr) -> Result<Option<u32>, std::io::Error> {
    let mut gid = None;
    with_buffer(|buf, len, found| {
        // SAFETY: a zeroed group is a valid out value.
        let mut gr: libc::group = unsafe { std::mem::zeroed() };
        let mut out: *mut libc::group = std::ptr::null_mut();
        // SAFETY: gr, buf (len bytes) and out are valid for the call.
        let rc = unsafe { libc::getgrnam_r(name.as_ptr(), &mut gr, buf, len, &mut out) };
        *found = rc == 0 && !out.is_null();
        if *found {
            gid = Some(gr.gr_gid);
        }
        rc
    })?;
    Ok(gid)
}

/// The groups of a user: `base` first, then the supplementary groups of the database.
fn group_list(name: &CStr, base: u32) -> Result<Vec<u32>, String> {
    let mut n: libc::c_int = 32;
    loop {
        let mut groups = vec![0 as libc::gid_t; n as usize];
        let mut count = n;
        // SAFETY: groups holds count entries; name is a valid C string.
        let rc =
            unsafe { libc::getgrouplist(name.as_ptr(), base, groups.as_mut_ptr(), &mut count) };
        if rc >= 0 {
            groups.truncate(count.max(0) as usize);
            let mut out = vec![base];
            for g in groups {
                if !out.contains(&g) {
                    out.push(g);
                }
            }
            return Ok(out);
        }
        // too small: count holds the number needed
        if count as usize > MAX_GROUPS {
            return Err(format!(
                "user '{}' has more than {MAX_GROUPS} groups",
                name.to_string_lossy()
            ));
        }
        n = count.max(n.saturating_mul(2));
    }
}

/// The account of `user` (a name, or a number with no such name); `group` (a name or
/// a number) replaces the user's primary group. The supplementary groups are the
/// user's from the group database.
pub fn lookup(user: &str, group: Option<&str>) -> Result<Account, String> {
    if user.is_empty() {
        return Err("empty user name".into());
    }
    let c_user = cstring("user", user)?;
    let found = passwd(Some(&c_user), 0)
        .map_err(|e| format!("cannot look up user '{user}': {e}"))?
        .map(Ok)
        .or_else(|| {
            let uid: u32 = user.parse().ok()?;
            Some(
                passwd(None, uid)
                    .map_err(|e| format!("cannot look up uid {uid}: {e}"))
                    .and_then(|a| a.ok_or_else(|| format!("no user with uid {uid}"))),
            )
        });
    let mut account = match found {
        Some(a) => a?,
        None => return Err(format!("no user named '{user}'")),
    };
    if let Some(g) = group {
        if g.is_empty() {
            return Err("empty group name".into());
        }
        let c_group = cstring("group", g)?;
        account.gid =
            match group_id(&c_group).map_err(|e| format!("cannot look up group '{g}': {e}"))? {
                Some(gid) => gid,
                None => g
                    .parse::<u32>()
                    .map_err(|_| format!("no group named '{g}'"))?,
            };
    }
    let c_name = cstring("user", &account.name)?;
    account.groups = group_list(&c_name, account.gid)?;
    Ok(account)
}

/// The name of the user with this uid, if it has one.
pub fn user_name(uid: u32) -> Option<String> {
    passwd(None, uid).ok().flatten().map(|a| a.name)
}

/// The gid of a group name.
pub fn group_gid(name: &str) -> Option<u32> {
    let c = CString::new(name).ok()?;
    group_id(&c).ok().flatten()
}

/// The account of the process's effective user (its name and home for the
/// environment of the programs it starts), without supplementary groups.
pub fn current() -> Result<Account, String> {
    // SAFETY: geteuid and getegid have no preconditions.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    match passwd(None, uid) {
        Ok(Some(mut a)) => {
            a.gid = gid;
            a.groups = vec![gid];
            Ok(a)
        }
        Ok(None) => Err(format!("no user with uid {uid}")),
        Err(e) => Err(format!("cannot look up uid {uid}: {e}")),
    }
}

/// How many threads the process has, from /proc (None when it cannot tell).
fn thread_count() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
}

const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
const PR_CAP_AMBIENT: libc::c_int = 47;
const PR_CAP_AMBIENT_CLEAR_ALL: libc::c_ulong = 4;

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: libc::c_int,
}

#[repr(C)]
#[derive(Clone, Copy, Default, Debug, PartialEq)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// The two 32-bit words of a set of capabilities.
fn cap_words(caps: &[Capability]) -> [u32; 2] {
    let mut w = [0u32; 2];
    for c in caps {
        let n = c.number();
        w[(n / 32) as usize] |= 1 << (n % 32);
    }
    w
}

fn capset(keep: &[Capability]) -> Result<(), String> {
    let w = cap_words(keep);
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let data = [
        CapData {
            effective: w[0],
            permitted: w[0],
            inheritable: 0,
        },
        CapData {
            effective: w[1],
            permitted: w[1],
            inheritable: 0,
        },
    ];
    // SAFETY: header and two data structs, as version 3 of capset(2) reads them.
    let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
    if rc != 0 {
        return Err(format!("capset: {}", std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Whether this thread holds `cap`: in its effective set (`effective`), or may take it
/// (its permitted set).
pub fn holds(cap: Capability, effective: bool) -> bool {
    let Ok(data) = capget() else {
        return false;
    };
    let n = cap.number();
    let word = data[(n / 32) as usize];
    let set = if effective {
        word.effective
    } else {
        word.permitted
    };
    set & (1 << (n % 32)) != 0
}

fn capget() -> Result<[CapData; 2], String> {
    let mut header = CapHeader {
        version: LINUX_CAPABILITY_VERSION_3,
        pid: 0,
    };
    let mut data = [CapData::default(); 2];
    // SAFETY: header and room for two data structs, as version 3 of capget(2) writes.
    let rc = unsafe { libc::syscall(libc::SYS_capget, &mut header, data.as_mut_ptr()) };
    if rc != 0 {
        return Err(format!("capget: {}", std::io::Error::last_os_error()));
    }
    Ok(data)
}

/// Clears the ambient capability set; kernels without one (EINVAL) have nothing to
/// clear.
pub fn clear_ambient() -> Result<(), String> {
    // SAFETY: prctl with integer arguments.
    let rc = unsafe { libc::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) };
    if rc != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() != Some(libc::EINVAL) {
            return Err(format!("clearing ambient capabilities: {e}"));
        }
    }
    Ok(())
}

fn os_err(what: &str) -> String {
    format!("{what}: {}", std::io::Error::last_os_error())
}

/// Becomes `account` for good: supplementary groups, then group ids, then user ids
/// (real, effective and saved), keeping only the capabilities in `keep` (permitted and
/// effective; nothing inheritable; the ambient set cleared), then verifies. Must be
/// called while the process has a single thread.
pub fn drop_to(account: &Account, keep: &[Capability]) -> Result<(), String> {
    if let Some(n) = thread_count() {
        if n != 1 {
            return Err(format!(
                "cannot change user with {n} threads running (must be done before any \
                 thread starts)"
            ));
        }
    }
    let (uid, gid) = (account.uid, account.gid);
    let mut groups: Vec<libc::gid_t> = account.groups.clone();
    if groups.is_empty() {
        groups.push(gid);
    }
    // SAFETY: plain system calls on integers and a valid array of groups.
    unsafe {
        if !keep.is_empty() && libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0 {
            return Err(os_err("prctl(PR_SET_KEEPCAPS)"));
        }
        if libc::setgroups(groups.len(), groups.as_ptr()) != 0 {
            return Err(os_err(&format!("setgroups to {groups:?}")));
        }
        if libc::setresgid(gid, gid, gid) != 0 {
            return Err(os_err(&format!("setresgid to {gid}")));
        }
        if libc::setresuid(uid, uid, uid) != 0 {
            return Err(os_err(&format!("setresuid to {uid}")));
        }
        if !keep.is_empty() && libc::prctl(libc::PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0 {
            return Err(os_err("prctl(PR_SET_KEEPCAPS)"));
        }
    }
    capset(keep)?;
    clear_ambient()?;
    verify(account, &groups, keep)?;
    set_login_env(account);
    Ok(())
}

/// Sets `HOME`, `USER` and `LOGNAME` to the account's, so that what runs in the
/// process (checks reading `~/.my.cnf`, programs started later) sees the user it runs
/// as, not the one that started it. Called while the process has a single thread.
fn set_login_env(account: &Account) {
    std::env::set_var("HOME", &account.home);
    std::env::set_var("USER", &account.name);
    std::env::set_var("LOGNAME", &account.name);
}

/// Checks that the process is `account` with exactly `groups` and `keep`, and cannot
/// become root again.
fn verify(account: &Account, groups: &[u32], keep: &[Capability]) -> Result<(), String> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: valid out pointers.
    if unsafe { libc::getresuid(&mut r, &mut e, &mut s) } != 0 {
        return Err(os_err("getresuid"));
    }
    if (r, e, s) != (account.uid, account.uid, account.uid) {
        return Err(format!(
            "user ids are {r}, {e}, {s} after the change to {}",
            account.uid
        ));
    }
    // SAFETY: valid out pointers.
    if unsafe { libc::getresgid(&mut r, &mut e, &mut s) } != 0 {
        return Err(os_err("getresgid"));
    }
    if (r, e, s) != (account.gid, account.gid, account.gid) {
        return Err(format!(
            "group ids are {r}, {e}, {s} after the change to {}",
            account.gid
        ));
    }
    let mut now = vec![0 as libc::gid_t; groups.len() + 64];
    // SAFETY: now holds now.len() entries.
    let n = unsafe { libc::getgroups(now.len() as libc::c_int, now.as_mut_ptr()) };
    if n < 0 {
        return Err(os_err("getgroups"));
    }
    now.truncate(n as usize);
    let (mut want, mut have) = (groups.to_vec(), now);
    want.sort_unstable();
    want.dedup();
    have.sort_unstable();
    have.dedup();
    if want != have {
        return Err(format!("groups are {have:?} after the change to {want:?}"));
    }
    let caps = capget()?;
    let w = cap_words(keep);
    for (i, d) in caps.iter().enumerate() {
        if d.effective != w[i] || d.permitted != w[i] || d.inheritable != 0 {
            return Err(format!(
                "capabilities are {caps:?} after keeping only {keep:?}"
            ));
        }
    }
    if account.uid != 0 && !keep.contains(&Capability::Setuid) {
        // SAFETY: plain system calls; success would be the failure checked for.
        let back = unsafe { libc::setuid(0) == 0 || libc::setresuid(0, 0, 0) == 0 };
        if back {
            return Err("could become root again after the change".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_root() {
        let root = lookup("root", None).unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(root.name, "root");
        assert_eq!(root.groups[0], 0);
        assert!(root.home.is_absolute());
        // by number, and a group replacing the primary one
        assert_eq!(lookup("0", None).unwrap().name, "root");
        let g = lookup("root", Some("daemon")).unwrap();
        assert_ne!(g.gid, 0);
        assert_eq!(g.groups[0], g.gid);
        assert_eq!(lookup("root", Some("4242")).unwrap().gid, 4242);
    }

    #[test]
    fn lookup_errors_are_one_line() {
        assert_eq!(
            lookup("no-such-user-here", None).unwrap_err(),
            "no user named 'no-such-user-here'"
        );
        assert_eq!(
            lookup("root", Some("no-such-group-here")).unwrap_err(),
            "no group named 'no-such-group-here'"
        );
        assert_eq!(
            lookup("a\0b", None).unwrap_err(),
            "user name 'a\\0b' contains a NUL byte"
        );
        assert_eq!(lookup("", None).unwrap_err(), "empty user name");
        assert_eq!(lookup("root", Some("")).unwrap_err(), "empty group name");
        assert_eq!(
            lookup("4000000000", None).unwrap_err(),
            "no user with uid 4000000000"
        );
    }

    #[test]
    fn current_user() {
        let me = current().unwrap();
        // SAFETY: geteuid has no preconditions.
        assert_eq!(me.uid, unsafe { libc::geteuid() });
        assert!(!me.name.is_empty());
    }

    #[test]
    fn capability_words() {
        assert_eq!(cap_words(&[]), [0, 0]);
        assert_eq!(
            cap_words(&[Capability::Setuid, Capability::Setgid]),
            [(1 << 7) | (1 << 6), 0]
        );
        assert_eq!(cap_words(&[Capability::SysAdmin]), [1 << 21, 0]);
        assert_eq!(Capability::NetBindService.number(), 10);
        assert_eq!(Capability::DacReadSearch.number(), 2);
        assert_eq!(Capability::Kill.number(), 5);
        assert_eq!(Capability::SysPtrace.number(), 19);
    }

    #[test]
    fn privileges_set_the_login_environment() {
        // nextest runs each test in its own process: changing the environment is safe
        std::env::set_var("HOME", "/root");
        std::env::set_var("USER", "root");
        std::env::set_var("LOGNAME", "root");
        let account = Account {
            name: "monitor".into(),
            uid: 4242,
            gid: 4242,
            groups: vec![4242],
            home: "/var/lib/monitor".into(),
            shell: "/usr/sbin/nologin".into(),
        };
        set_login_env(&account);
        let var = |k| std::env::var(k).unwrap();
        assert_eq!(
            (var("HOME"), var("USER"), var("LOGNAME")),
            (
                "/var/lib/monitor".into(),
                "monitor".into(),
                "monitor".into()
            )
        );
    }

    #[test]
    fn refuses_with_threads() {
        // the test harness itself runs tests on threads
        let a = current().unwrap();
        let t = std::thread::spawn(|| std::thread::sleep(std::time::Duration::from_millis(300)));
        let err = drop_to(&a, &[]).unwrap_err();
        assert!(err.starts_with("cannot change user with "), "{err}");
        t.join().unwrap();
    }
}
