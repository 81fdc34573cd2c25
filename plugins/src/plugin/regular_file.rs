//! Opening files a local member may name or replace (configurations, keys, state): only
//! a regular file, never waiting on a FIFO or a device, never reading more than a bound.
//! The lowest layer, so that the contract (`plugin`), the protocols and the host facts
//! share one implementation.

use std::io::Read;
use std::path::Path;

/// Opens `path` for reading when it is a regular file: never waits on a FIFO or a device
/// (`O_NONBLOCK`, then an fstat check), never passes the descriptor to a child
/// (`O_CLOEXEC`), and with `nofollow` refuses a symbolic link as the last component
/// (`O_NOFOLLOW`). Anything else is an error "not a regular file".
pub fn open_regular(path: &Path, nofollow: bool) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = libc::O_NONBLOCK | libc::O_CLOEXEC | libc::O_NOCTTY;
    if nofollow {
        flags |= libc::O_NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
        .map_err(|e| {
            if nofollow && e.raw_os_error() == Some(libc::ELOOP) {
                std::io::Error::other("a symbolic link")
            } else {
                e
            }
        })?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

/// At most `limit` bytes of `input`: `limit + 1` are read, and more than `limit` is an
/// error of kind [`std::io::ErrorKind::FileTooLarge`], "larger than {limit} bytes".
pub fn read_limited(input: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut data = Vec::new();
    input.take(limit.saturating_add(1)).read_to_end(&mut data)?;
    if data.len() as u64 > limit {
        return Err(std::io::Error::new(
            std::io::ErrorKind::FileTooLarge,
            format!("larger than {limit} bytes"),
        ));
    }
    Ok(data)
}

/// The bytes of the regular file at `path` ([`open_regular`], following links), at most
/// `limit` of them ([`read_limited`]).
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    read_limited(open_regular(path, false)?, limit)
}

/// As [`read_regular`], refusing a symbolic link as the last component of `path`.
pub fn read_regular_nofollow(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    read_limited(open_regular(path, true)?, limit)
}

/// Refuses a file another user could read or change behind the check (a cookie jar, a
/// copy of a log, a state file a member may pre-create): it must be a regular file
/// owned by the effective user with a single link (not a symbolic link: pass
/// `symlink_metadata`'s or an open file's metadata).
pub fn ours(meta: &std::fs::Metadata) -> std::io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid has no preconditions
    let euid = unsafe { libc::geteuid() };
    if meta.file_type().is_symlink() {
        Err(std::io::Error::other("a symbolic link"))
    } else if !meta.is_file() {
        Err(std::io::Error::other("not a regular file"))
    } else if meta.uid() != euid {
        Err(std::io::Error::other(format!(
            "owned by uid {}, not by the user running the check",
            meta.uid()
        )))
    } else if meta.nlink() != 1 {
        Err(std::io::Error::other("more than one hard link"))
    } else {
        Ok(())
    }
}

/// Replaces the file at `path` with `content`: written to a new temporary file (mode
/// 0600, `O_EXCL`, never through a link) in the same directory and renamed into place,
/// so another user's file is never truncated or written through; an existing file that
/// is not [`ours`] is left alone and the write refused.
pub fn replace_ours(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::symlink_metadata(path) {
        Ok(m) => ours(&m)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let mut tries = 0;
    let (tmp, mut file) = loop {
        let mut tmp_name = std::ffi::OsString::from(".");
        tmp_name.push(name);
        tmp_name.push(format!(".{}.{nanos}.{tries}.tmp", std::process::id()));
        let tmp = dir.join(tmp_name);
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && tries < 16 => tries += 1,
            Err(e) => return Err(e),
        }
    };
    let written = file
        .write_all(content)
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// A FIFO named `name` in a fresh temporary directory, for tests that a reader refuses
/// it at once. A reader that blocked on it is released after 3 seconds (the FIFO is
/// opened for writing and closed: end of file), so that such a test fails instead of
/// hanging.
#[cfg(test)]
pub(crate) fn test_fifo(name: &str) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "hcoop-fifo-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join(name);
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: mkfifo(3) on a NUL-terminated path
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let release = fifo.clone();
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        // read-write never blocks on a FIFO; closing it ends a blocked reader's wait
        let _ = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(release);
    });
    fifo
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_reads() {
        let dir = std::env::temp_dir().join(format!("hcoop-regular-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("conf");
        std::fs::write(&f, "abc").unwrap();
        assert_eq!(read_regular(&f, 3).unwrap(), b"abc");
        let e = read_regular(&f, 2).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::FileTooLarge);
        assert_eq!(e.to_string(), "larger than 2 bytes");
        // a FIFO nobody writes to is refused at once instead of blocking
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) on a NUL-terminated path
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let started = std::time::Instant::now();
        assert_eq!(
            read_regular(&fifo, 10).unwrap_err().to_string(),
            "not a regular file"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        // a device and a directory are not regular files either
        for p in ["/dev/zero", "/"] {
            assert_eq!(
                read_regular(Path::new(p), 10).unwrap_err().to_string(),
                "not a regular file"
            );
        }
        // a symbolic link is followed, unless told not to
        let link = dir.join("link");
        std::os::unix::fs::symlink(&f, &link).unwrap();
        assert_eq!(read_regular(&link, 10).unwrap(), b"abc");
        assert_eq!(
            read_regular_nofollow(&link, 10).unwrap_err().to_string(),
            "a symbolic link"
        );
        assert_eq!(read_regular_nofollow(&f, 10).unwrap(), b"abc");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
