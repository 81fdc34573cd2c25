//! Real file systems and cgroups for the host-check tests: a size-limited tmpfs mounted
//! in a temporary directory, and a cgroup v2 directory, each removed on drop.

use crate::{is_root, require};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The statvfs numbers a test compares against, in the plugins' own record of them
/// (read here by statvfs(3), independently of the plugins' statfs).
pub use hcoop_plugins::host::mounts::FsStats as Stat;

/// statvfs(3) of a path.
pub fn statvfs(path: &Path) -> Stat {
    let c = std::ffi::CString::new(path.to_str().expect("UTF-8 path")).expect("no NUL");
    // SAFETY: a zeroed statvfs is a valid out-parameter; the path is NUL-terminated.
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut s) };
    assert_eq!(rc, 0, "statvfs {}", path.display());
    Stat {
        frsize: s.f_frsize as u64,
        blocks: s.f_blocks as u64,
        bfree: s.f_bfree as u64,
        bavail: s.f_bavail as u64,
        files: s.f_files as u64,
        ffree: s.f_ffree as u64,
    }
}

/// A tmpfs of a given size mounted at `path` (inside a temporary directory); unmounted
/// on drop.
pub struct Tmpfs {
    pub path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs with `-o size=SIZE` (e.g. `10m`).
    pub fn mount(size: &str) -> Tmpfs {
        assert!(is_root(), "mounting a tmpfs needs root");
        let mount = require("mount", "mount");
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("fs");
        std::fs::create_dir(&path).expect("mount point");
        let st = Command::new(mount)
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .status()
            .expect("run mount");
        assert!(st.success(), "mount -t tmpfs at {}", path.display());
        Tmpfs { path, _dir: dir }
    }

    /// Writes a file of `kib` KiB of zeros (whole pages, so tmpfs counts it exactly).
    pub fn write(&self, name: &str, kib: usize) -> PathBuf {
        let p = self.path.join(name);
        std::fs::write(&p, vec![0u8; kib * 1024]).expect("write to tmpfs");
        p
    }

    /// The path as a string, for command lines.
    pub fn arg(&self) -> &str {
        self.path.to_str().expect("UTF-8 path")
    }

    /// Its statvfs numbers now.
    pub fn stat(&self) -> Stat {
        statvfs(&self.path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

/// The mount point of the cgroup v2 hierarchy, from /proc/self/mountinfo.
pub fn cgroup2_root() -> Option<PathBuf> {
    let text = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        let sep = f.iter().position(|x| *x == "-")?;
        (f.get(sep + 1) == Some(&"cgroup2")).then(|| PathBuf::from(f[4]))
    })
}

/// A cgroup directory created for a test; removed on drop.
pub struct Cgroup {
    pub path: PathBuf,
}

impl Cgroup {
    /// Creates `<root>/<name>-<pid>`.
    pub fn create(root: &Path, name: &str) -> Cgroup {
        let path = root.join(format!("{name}-{}", std::process::id()));
        std::fs::create_dir(&path)
            .unwrap_or_else(|e| panic!("cannot create cgroup {}: {e}", path.display()));
        Cgroup { path }
    }
}

impl Drop for Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.path);
    }
}
