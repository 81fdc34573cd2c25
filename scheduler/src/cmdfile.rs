//! The external command file (`[daemon] command_file`): a FIFO, as Nagios' own, that
//! scripts write command lines to (`printf '[%d] PROCESS_SERVICE_CHECK_RESULT;...\n'
//! "$(date +%s)" > FILE`), read by the daemon and carried out on the core
//! ([`crate::external`]).
//!
//! Who may write it is who may submit results, acknowledge and schedule downtimes:
//! the FIFO is made owned by the daemon's user with mode 0620 (`rw--w----`) and group
//! `command_group`, so root, the daemon's user and that group's members may write it
//! and nobody else may read or write it. The daemon refuses to use a path that exists
//! and is not a FIFO of its own (a file, a symlink, someone else's FIFO), or whose
//! directory others may write (someone could replace it); it says why in the log and
//! runs on without it. A daemon started as root makes the FIFO before it leaves root
//! (and the directory, when missing, its user's); one started as its user must be a
//! member of `command_group` to give the FIFO that group.
//!
//! Input is bounded: a line longer than [`MAX_LINE`] is dropped whole, at most
//! [`RATE`] lines are taken a second (a writer beyond that waits on the full pipe),
//! and each line is one clear log line when refused, nothing applied.

use crate::daemon::Shared;
use crate::external::{self, MAX_LINE};
use std::fs::File;
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;

/// The command file's mode: the owner reads and writes, the group writes.
pub const MODE: u32 = 0o620;

/// Lines taken a second at most.
pub const RATE: u32 = 1000;

/// Makes (or takes again) the FIFO at `path`, owned by `owner` with mode [`MODE`] and
/// group `gid` (`None`: left as made). Root makes it for the daemon's user before
/// leaving root (the user need not be a member of the group then); [`open`] does it
/// again as the daemon's user.
pub fn prepare(path: &Path, owner: u32, gid: Option<u32>) -> Result<(), String> {
    let shown = path.display();
    let dir = path
        .parent()
        .ok_or_else(|| format!("{shown}: no directory"))?;
    let d = std::fs::metadata(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    if d.mode() & 0o002 != 0 {
        return Err(format!(
            "{}: others may write this directory: the command file could be replaced",
            dir.display()
        ));
    }
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_fifo() => {
            return Err(format!("{shown}: exists and is not a FIFO"))
        }
        Ok(m) if m.uid() != owner => {
            return Err(format!(
                "{shown}: a FIFO of uid {}, not of the daemon's user",
                m.uid()
            ))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes())
                .map_err(|_| format!("{shown}: a NUL in the path"))?;
            // made without any permission, given its mode once its group is set
            if unsafe { libc::mkfifo(c.as_ptr(), 0) } != 0 {
                return Err(format!(
                    "{shown}: cannot make the FIFO: {}",
                    std::io::Error::last_os_error()
                ));
            }
        }
        Err(e) => return Err(format!("{shown}: {e}")),
    }
    std::os::unix::fs::lchown(path, Some(owner), gid).map_err(|e| {
        format!(
            "{shown}: cannot give it to uid {owner}, group {gid:?}: {e} (the daemon's user \
             must be a member of command_group when the daemon does not start as root)"
        )
    })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(MODE))
        .map_err(|e| format!("{shown}: cannot set its mode: {e}"))
}

/// Makes or takes again the FIFO at `path` ([`prepare`], for this process's user) and
/// opens it for reading (and writing, so that it never reads an end of file when
/// writers come and go).
pub fn open(path: &Path, gid: Option<u32>) -> Result<File, String> {
    let shown = path.display();
    let euid = unsafe { libc::geteuid() };
    prepare(path, euid, gid)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| format!("{shown}: cannot open: {e}"))?;
    // what was opened, not what the path said a moment before
    let m = file.metadata().map_err(|e| format!("{shown}: {e}"))?;
    if !m.file_type().is_fifo() || m.uid() != euid {
        return Err(format!("{shown}: not a FIFO of the daemon's user"));
    }
    if m.mode() & 0o7777 != MODE || gid.is_some_and(|g| g != m.gid()) {
        return Err(format!(
            "{shown}: its mode or group changed while it was opened"
        ));
    }
    Ok(file)
}

/// The running command file: its reader, and where it is (removed at stop, as
/// Nagios does, so that writers find none rather than wait for a reader).
pub struct CommandFile {
    path: std::path::PathBuf,
    task: tokio::task::JoinHandle<()>,
}

impl CommandFile {
    /// Opens the `[daemon] command_file`, if one is set, and starts reading it; a
    /// file that cannot be used is logged and the daemon runs on without it.
    pub fn start(daemon: &crate::config::Daemon, shared: &Shared) -> Option<CommandFile> {
        let path = daemon.command_file.clone()?;
        let gid = daemon
            .command_group
            .as_deref()
            .and_then(crate::auth::group_id);
        match open(&path, gid) {
            Ok(file) => {
                tracing::info!(
                    "command_file: reading external commands from {}",
                    path.display()
                );
                let task = tokio::spawn(serve(file, shared.clone()));
                Some(CommandFile { path, task })
            }
            Err(e) => {
                tracing::error!("command_file: not used: {e}");
                None
            }
        }
    }

    /// Stops reading and removes the FIFO (when it is still ours).
    pub fn stop(self) {
        self.task.abort();
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.file_type().is_fifo() && m.uid() == unsafe { libc::geteuid() });
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Reads command lines from the opened FIFO for as long as the daemon runs, each
/// carried out on the core and logged.
pub async fn serve(file: File, shared: Shared) {
    let mut pipe = match pipe::Receiver::from_file(file) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("command_file: cannot read: {e}");
            return;
        }
    };
    let mut lines = Lines::default();
    let mut buf = vec![0u8; 16 * 1024];
    let mut window = tokio::time::Instant::now();
    let mut taken = 0u32;
    loop {
        let n = match pipe.read(&mut buf).await {
            Ok(0) => {
                // cannot happen while this end also holds it for writing
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
            Ok(n) => n,
            Err(e) => {
                tracing::error!("command_file: read: {e}; no more commands are read");
                return;
            }
        };
        for line in lines.push(&buf[..n]) {
            if taken >= RATE {
                let next = window + Duration::from_secs(1);
                if tokio::time::Instant::now() < next {
                    tracing::warn!("command_file: more than {RATE} lines a second: slowed down");
                    tokio::time::sleep_until(next).await;
                }
            }
            if window.elapsed() >= Duration::from_secs(1) {
                (window, taken) = (tokio::time::Instant::now(), 0);
            }
            taken += 1;
            run_line(&line, &shared);
        }
    }
}

/// Carries out one line (as read: bytes, possibly too long or not UTF-8).
fn run_line(line: &Line, shared: &Shared) {
    let text = match line {
        Line::TooLong => {
            tracing::warn!(
                "external command refused: line longer than {MAX_LINE} bytes; nothing done"
            );
            return;
        }
        Line::Text(t) => match std::str::from_utf8(t) {
            Ok(t) => t.trim_end_matches('\r'),
            Err(_) => {
                tracing::warn!("external command refused: not UTF-8; nothing done");
                return;
            }
        },
    };
    if text.trim().is_empty() {
        return;
    }
    let shown = crate::passive::shown_line(text);
    let command = match external::parse(text) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("external command refused: {e}; nothing done: {shown}");
            return;
        }
    };
    let now = crate::clock::unix_now();
    let done = shared.lock().expect("core lock").execute(&command, now);
    match done {
        Ok(what) => tracing::info!("EXTERNAL COMMAND: {shown} ({what})"),
        Err(e) => tracing::warn!("external command refused: {e}; nothing done: {shown}"),
    }
}

/// A line read: its bytes, or that it was longer than [`MAX_LINE`].
#[derive(Debug, PartialEq, Eq)]
enum Line {
    Text(Vec<u8>),
    TooLong,
}

/// Splits bytes as they come into lines, holding at most [`MAX_LINE`] bytes of the
/// line not ended yet (a longer one is dropped up to its end).
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
    too_long: bool,
}

impl Lines {
    fn push(&mut self, mut bytes: &[u8]) -> Vec<Line> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let (part, ended) = match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => (&bytes[..i], Some(i + 1)),
                None => (bytes, None),
            };
            if !self.too_long {
                if self.partial.len() + part.len() > MAX_LINE {
                    self.too_long = true;
                    self.partial = Vec::new();
                } else {
                    self.partial.extend_from_slice(part);
                }
            }
            match ended {
                Some(rest) => {
                    out.push(if std::mem::take(&mut self.too_long) {
                        Line::TooLong
                    } else {
                        Line::Text(std::mem::take(&mut self.partial))
                    });
                    bytes = &bytes[rest..];
                }
                None => bytes = &[],
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_and_bounded() {
        let mut l = Lines::default();
        assert_eq!(l.push(b"[1] A;b"), vec![]);
        assert_eq!(
            l.push(b";c\n[2] D\n[3"),
            vec![
                Line::Text(b"[1] A;b;c".to_vec()),
                Line::Text(b"[2] D".to_vec())
            ]
        );
        let long = vec![b'x'; MAX_LINE + 1];
        assert_eq!(l.push(&long), vec![]);
        assert_eq!(l.push(&long), vec![]);
        assert_eq!(
            l.push(b"x\n[4] E\n"),
            vec![Line::TooLong, Line::Text(b"[4] E".to_vec())]
        );
        assert!(l.partial.capacity() <= MAX_LINE * 2);
    }

    #[test]
    fn the_fifo_is_made_ours_and_a_stranger_is_refused() {
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = t.path().join("nagios.cmd");
        let gid = unsafe { libc::getegid() };
        let f = open(&path, Some(gid)).unwrap();
        let m = std::fs::symlink_metadata(&path).unwrap();
        assert!(m.file_type().is_fifo());
        assert_eq!(m.mode() & 0o7777, MODE);
        assert_eq!((m.uid(), m.gid()), (unsafe { libc::geteuid() }, gid));
        drop(f);
        // taken again at the next start
        open(&path, None).unwrap();
        // a plain file, a symlink: refused, left alone
        let plain = t.path().join("plain");
        std::fs::write(&plain, "x").unwrap();
        assert_eq!(
            open(&plain, None).unwrap_err(),
            format!("{}: exists and is not a FIFO", plain.display())
        );
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert_eq!(
            open(&link, None).unwrap_err(),
            format!("{}: exists and is not a FIFO", link.display())
        );
        assert_eq!(std::fs::read_to_string(&plain).unwrap(), "x");
        // a directory others may write
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
        let e = open(&t.path().join("other.cmd"), None).unwrap_err();
        assert!(
            e.ends_with("others may write this directory: the command file could be replaced"),
            "{e}"
        );
        assert!(!t.path().join("other.cmd").exists());
    }
}
