//! The state files: a snapshot (`state.json`, every record and the journal sequence it
//! covers) and an append-only journal (`state.json.journal`, one JSON line per change),
//! in a state directory that only the daemon's user (or root) may write.
//!
//! Every file is opened relative to the directory's descriptor with `O_NOFOLLOW`, new
//! files with `O_EXCL` and mode 0600, so neither a symlink planted in the directory nor a
//! directory swapped in its place redirects a write (the CVE-2016-9566 class). A
//! directory writable by group or others, or owned by another user, is refused.
//!
//! Loading never fails: a snapshot or journal that cannot be read or parsed is renamed
//! to `NAME.corrupt-TIMESTAMP` and reported; a torn last journal line (the daemon killed
//! mid-write) is ignored. The writer thread, group commit and compaction are in
//! [`crate::journal`].

use crate::state::{HostState, Record};
use hcoop_plugins::plugin::State;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// The snapshot format's version.
pub const VERSION: u32 = 1;

/// Everything saved in a snapshot.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    /// Unix seconds.
    pub saved_at: u64,
    pub next_downtime_id: u64,
    /// The last journal sequence number this snapshot includes (journal lines up to it
    /// are skipped when loading). 0 in files written before the journal existed.
    #[serde(default)]
    pub journal_seq: u64,
    /// Host records by host name.
    pub hosts: HashMap<String, Record<HostState>>,
    /// Service records by "host/service".
    pub services: HashMap<String, Record<State>>,
}

/// One journal line: the full record of one host or service after a change (the last
/// line of a key wins), or the next downtime id.
#[derive(Debug, Serialize, Deserialize)]
pub struct Line<K, H, S> {
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<(K, H)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<(K, S)>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_downtime_id: Option<u64>,
}

/// A journal line as written (borrowing the record).
pub type LineOut<'a> = Line<&'a str, &'a Record<HostState>, &'a Record<State>>;
/// A journal line as read.
pub type LineIn = Line<String, Record<HostState>, Record<State>>;

/// The file names next to the state file.
#[derive(Debug, Clone)]
pub struct Names {
    /// "state.json"
    pub snapshot: String,
    /// "state.json.journal"
    pub journal: String,
    /// "state.json.journal.old": the journal being folded into a new snapshot.
    pub old_journal: String,
    /// ".state.json.tmp": the snapshot being written.
    pub temp: String,
}

impl Names {
    fn new(file_name: &str) -> Names {
        Names {
            snapshot: file_name.to_string(),
            journal: format!("{file_name}.journal"),
            old_journal: format!("{file_name}.journal.old"),
            temp: format!(".{file_name}.tmp"),
        }
    }
}

/// The state directory, held open: every file operation is relative to it.
#[derive(Debug)]
pub struct StateDir {
    fd: OwnedFd,
    /// The directory's path (for messages).
    pub path: PathBuf,
    pub names: Names,
}

fn cstr(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in name"))
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Why a directory's owner or mode makes it unsafe for the daemon's files, if it does.
/// `sticky_ok`: an ancestor writable by others is fine with the sticky bit (others
/// cannot rename or remove what they do not own), the state directory itself never is.
fn unsafe_dir(meta: &std::fs::Metadata, euid: u32, sticky_ok: bool) -> Option<String> {
    let mode = meta.permissions().mode();
    if meta.uid() != 0 && meta.uid() != euid {
        return Some(format!(
            "is owned by uid {} (only root or the daemon's uid {euid} may own it)",
            meta.uid()
        ));
    }
    if mode & 0o022 != 0 && !(sticky_ok && mode & 0o1000 != 0) {
        return Some(format!(
            "is writable by group or others (mode {:04o})",
            mode & 0o7777
        ));
    }
    None
}

impl StateDir {
    /// Opens (creating it, mode 0755, when missing) the directory of `state_file`;
    /// refuses one that another user could write into, or whose path another user could
    /// redirect (an ancestor writable by others without the sticky bit).
    pub fn open(state_file: &Path) -> Result<StateDir, String> {
        // SAFETY: geteuid has no preconditions.
        Self::open_for(state_file, unsafe { libc::geteuid() })
    }

    /// [`StateDir::open`] for a daemon running as `euid` (`validate` checks for the
    /// daemon's user).
    pub fn open_for(state_file: &Path, euid: u32) -> Result<StateDir, String> {
        let file_name = state_file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("state file {}: no file name", state_file.display()))?;
        let dir = state_file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .map_err(|e| format!("cannot create state directory {}: {e}", dir.display()))?;
        if let Ok(real) = std::fs::canonicalize(dir) {
            for a in real.ancestors().skip(1) {
                if let Ok(meta) = std::fs::metadata(a) {
                    if let Some(why) = unsafe_dir(&meta, euid, true) {
                        return Err(format!(
                            "state directory {}: its parent {} {why}: refused, states are not saved",
                            dir.display(),
                            a.display()
                        ));
                    }
                }
            }
        }
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(dir)
            .map_err(|e| format!("cannot open state directory {}: {e}", dir.display()))?;
        let meta = f
            .metadata()
            .map_err(|e| format!("state directory {}: {e}", dir.display()))?;
        if let Some(why) = unsafe_dir(&meta, euid, false) {
            return Err(format!(
                "state directory {} {why}: refused, states are not saved",
                dir.display()
            ));
        }
        Ok(StateDir {
            fd: f.into(),
            path: dir.to_path_buf(),
            names: Names::new(file_name),
        })
    }

    /// A file's path, for messages.
    pub fn show(&self, name: &str) -> String {
        self.path.join(name).display().to_string()
    }

    /// openat(2) with O_NOFOLLOW and O_CLOEXEC added.
    pub fn openat(&self, name: &str, flags: libc::c_int, mode: u32) -> io::Result<File> {
        let c = cstr(name)?;
        // SAFETY: a valid directory descriptor and NUL-terminated name; the returned
        // descriptor is owned by the File.
        let fd = unsafe {
            libc::openat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                flags | libc::O_NOFOLLOW | libc::O_CLOEXEC,
                mode as libc::c_uint,
            )
        };
        check(fd)?;
        // SAFETY: fd was just opened and is owned by nobody else.
        Ok(unsafe { File::from_raw_fd(fd) })
    }

    /// Creates a new file, mode 0600; fails when the name exists (even as a symlink).
    pub fn create_new(&self, name: &str) -> io::Result<File> {
        self.openat(name, libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL, 0o600)
    }

    /// Opens an existing regular file for appending.
    pub fn open_append(&self, name: &str) -> io::Result<File> {
        let f = self.openat(name, libc::O_WRONLY | libc::O_APPEND | libc::O_NONBLOCK, 0)?;
        regular(&f)?;
        Ok(f)
    }

    /// A whole regular file; `None` when it does not exist. A symlink, a FIFO or a
    /// device is an error (never followed, never blocked on).
    pub fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        let mut f = match self.openat(name, libc::O_RDONLY | libc::O_NONBLOCK, 0) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                return Err(io::Error::other("is a symbolic link"))
            }
            Err(e) => return Err(e),
        };
        regular(&f)?;
        let mut buf = Vec::new();
        f.read_to_end(&mut buf)?;
        Ok(Some(buf))
    }

    /// Whether a name exists (as anything, symlinks not followed).
    pub fn exists(&self, name: &str) -> bool {
        let Ok(c) = cstr(name) else { return false };
        // SAFETY: a valid descriptor and NUL-terminated name.
        unsafe {
            libc::faccessat(
                self.fd.as_raw_fd(),
                c.as_ptr(),
                libc::F_OK,
                libc::AT_SYMLINK_NOFOLLOW,
            ) == 0
        }
    }

    /// renameat2(2); `noreplace`: fail when `to` exists.
    pub fn rename(&self, from: &str, to: &str, noreplace: bool) -> io::Result<()> {
        let (a, b) = (cstr(from)?, cstr(to)?);
        let flags = if noreplace { libc::RENAME_NOREPLACE } else { 0 };
        // SAFETY: valid descriptors and NUL-terminated names.
        check(unsafe {
            libc::renameat2(
                self.fd.as_raw_fd(),
                a.as_ptr(),
                self.fd.as_raw_fd(),
                b.as_ptr(),
                flags,
            )
        })
    }

    /// Removes a name (a symlink itself, never its target); a missing name is fine.
    pub fn remove(&self, name: &str) -> io::Result<()> {
        let c = cstr(name)?;
        // SAFETY: a valid descriptor and NUL-terminated name.
        match check(unsafe { libc::unlinkat(self.fd.as_raw_fd(), c.as_ptr(), 0) }) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }

    /// fsync of the directory (makes creations, renames and removals durable).
    pub fn sync(&self) -> io::Result<()> {
        // SAFETY: a valid descriptor.
        check(unsafe { libc::fsync(self.fd.as_raw_fd()) })
    }

    /// Renames a damaged file to `NAME.corrupt-TIMESTAMP` (UTC); returns the new name.
    pub fn move_aside(&self, name: &str, now: u64) -> io::Result<String> {
        let stamp = humantime::format_rfc3339_seconds(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(now),
        )
        .to_string()
        .replace(':', "");
        let mut last = None;
        for n in 0..100 {
            let to = if n == 0 {
                format!("{name}.corrupt-{stamp}")
            } else {
                format!("{name}.corrupt-{stamp}.{n}")
            };
            match self.rename(name, &to, true) {
                Ok(()) => {
                    let _ = self.sync();
                    return Ok(to);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| io::Error::other("no free name")))
    }

    /// Writes a snapshot of `saved` atomically (see [`SnapshotWriter`]). Returns its
    /// size.
    pub fn write_snapshot(&self, saved: &Saved) -> io::Result<u64> {
        let mut w = self.begin_snapshot(saved.head())?;
        for (key, r) in &saved.hosts {
            w.host(key, r)?;
            w.spill_when_full()?;
        }
        for (key, r) in &saved.services {
            w.service(key, r)?;
            w.spill_when_full()?;
        }
        w.finish()
    }

    /// Starts writing a snapshot record by record: a new temporary file (O_EXCL,
    /// O_NOFOLLOW, 0600) with `head` in it.
    pub fn begin_snapshot(&self, head: Head) -> io::Result<SnapshotWriter<'_>> {
        // a temporary file left by a crash (or anything planted there) goes first
        self.remove(&self.names.temp)?;
        let file = self.create_new(&self.names.temp)?;
        let mut w = SnapshotWriter {
            dir: self,
            file,
            head,
            buf: Vec::with_capacity(SPILL_BYTES),
            section: Section::Head,
            done: false,
        };
        w.write_head();
        Ok(w)
    }
}

/// What a snapshot says besides its records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Head {
    pub version: u32,
    pub saved_at: u64,
    pub next_downtime_id: u64,
    pub journal_seq: u64,
}

impl Saved {
    /// What this snapshot says besides its records.
    pub fn head(&self) -> Head {
        Head {
            version: self.version,
            saved_at: self.saved_at,
            next_downtime_id: self.next_downtime_id,
            journal_seq: self.journal_seq,
        }
    }
}

/// How many serialized bytes [`SnapshotWriter::spill_when_full`] lets gather.
const SPILL_BYTES: usize = 1 << 16;

/// Where a snapshot being written is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Section {
    Head,
    Hosts,
    Services,
}

/// A snapshot written as a stream, in the format of [`Saved`]: the records are
/// serialized one by one into a buffer ([`SnapshotWriter::host`],
/// [`SnapshotWriter::service`]: no I/O, cheap enough under the core lock), the buffer is
/// written out by [`SnapshotWriter::spill`] (off the lock), and
/// [`SnapshotWriter::finish`] fsyncs the file, renames it over the snapshot and fsyncs
/// the directory. So no second copy of the records is ever held, only one buffer's
/// worth of their text. Hosts come before services. Dropped unfinished, the temporary
/// file is removed.
pub struct SnapshotWriter<'a> {
    dir: &'a StateDir,
    file: File,
    head: Head,
    buf: Vec<u8>,
    section: Section,
    done: bool,
}

impl SnapshotWriter<'_> {
    fn write_head(&mut self) {
        let h = self.head;
        let _ = write!(
            self.buf,
            "{{\"version\":{},\"saved_at\":{},\"next_downtime_id\":{},\"journal_seq\":{},",
            h.version, h.saved_at, h.next_downtime_id, h.journal_seq
        );
    }

    /// Moves on to `section`, closing the ones before it.
    fn enter(&mut self, section: Section) -> io::Result<()> {
        if self.section > section {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "snapshot: a host after the services",
            ));
        }
        while self.section < section {
            self.buf.extend_from_slice(match self.section {
                Section::Head => b"\"hosts\":{".as_slice(),
                Section::Hosts => b"},\"services\":{",
                Section::Services => unreachable!("no section after the services"),
            });
            self.section = match self.section {
                Section::Head => Section::Hosts,
                _ => Section::Services,
            };
        }
        Ok(())
    }

    fn entry<C: serde::Serialize>(&mut self, section: Section, key: &str, r: &C) -> io::Result<()> {
        let first = self.section != section;
        self.enter(section)?;
        if !first {
            self.buf.push(b',');
        }
        serde_json::to_writer(&mut self.buf, key).map_err(io::Error::other)?;
        self.buf.push(b':');
        serde_json::to_writer(&mut self.buf, r).map_err(io::Error::other)
    }

    /// Adds a host's record (to the buffer).
    pub fn host(&mut self, key: &str, r: &Record<HostState>) -> io::Result<()> {
        self.entry(Section::Hosts, key, r)
    }

    /// Adds a service's record (to the buffer).
    pub fn service(&mut self, key: &str, r: &Record<State>) -> io::Result<()> {
        self.entry(Section::Services, key, r)
    }

    /// Writes the buffer out to the file.
    pub fn spill(&mut self) -> io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Writes the buffer out once it holds [`SPILL_BYTES`].
    pub fn spill_when_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= SPILL_BYTES {
            self.spill()?;
        }
        Ok(())
    }

    /// Starts again from an empty file with the same head (the records changed
    /// wholesale: a reload).
    pub fn restart(&mut self) -> io::Result<()> {
        self.file.set_len(0)?;
        self.file.seek(io::SeekFrom::Start(0))?;
        self.buf.clear();
        self.section = Section::Head;
        self.write_head();
        Ok(())
    }

    /// Ends the snapshot: fsync, rename over the snapshot, fsync of the directory.
    /// Returns its size.
    pub fn finish(mut self) -> io::Result<u64> {
        self.enter(Section::Services)?;
        self.buf.extend_from_slice(b"}}");
        self.spill()?;
        self.file.sync_all()?;
        let size = self.file.metadata()?.len();
        let names = &self.dir.names;
        self.dir.rename(&names.temp, &names.snapshot, false)?;
        self.done = true;
        self.dir.sync()?;
        Ok(size)
    }
}

impl Drop for SnapshotWriter<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.dir.remove(&self.dir.names.temp);
        }
    }
}

fn regular(f: &File) -> io::Result<()> {
    let meta = f.metadata()?;
    if meta.file_type().is_file() {
        Ok(())
    } else {
        Err(io::Error::other("not a regular file"))
    }
}

/// What loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub saved: Saved,
    /// The highest sequence number seen (the next journal line gets the one after).
    pub last_seq: u64,
    /// Size of the snapshot read.
    pub snapshot_bytes: u64,
    /// Valid length of the current journal (a torn last line excluded), when it exists.
    pub journal_len: Option<u64>,
    /// Damaged files, each as one sentence for the log and the self-check.
    pub corrupt: Vec<String>,
    /// Lines ignored as torn (the last line of a journal, cut by a crash).
    pub torn: usize,
    /// Journal lines replayed.
    pub replayed: usize,
}

/// One journal's lines after `after`; the valid length, or the line that is damaged.
struct Replay {
    lines: Vec<LineIn>,
    valid_len: u64,
    torn: bool,
    /// (line number, error) of a damaged line followed by others.
    damaged: Option<(usize, String)>,
}

/// Parses a journal. The last line may be torn (no newline, or not JSON): it is left out
/// of the valid length. A bad line followed by others is damage: the lines before it
/// are kept.
fn parse_journal(text: &[u8]) -> Replay {
    let mut r = Replay {
        lines: Vec::new(),
        valid_len: 0,
        torn: false,
        damaged: None,
    };
    let mut pos = 0usize;
    let mut n = 0usize;
    while pos < text.len() {
        n += 1;
        let (line, end, complete) = match text[pos..].iter().position(|&b| b == b'\n') {
            Some(i) => (&text[pos..pos + i], pos + i + 1, true),
            None => (&text[pos..], text.len(), false),
        };
        let last = end >= text.len();
        match serde_json::from_slice::<LineIn>(line) {
            Ok(l) if complete => {
                r.lines.push(l);
                r.valid_len = end as u64;
            }
            Ok(_) => {
                // complete JSON but no newline: the write was cut before it
                r.torn = true;
                break;
            }
            Err(_) if last => {
                r.torn = true;
                break;
            }
            Err(e) => {
                r.damaged = Some((n, e.to_string()));
                break;
            }
        }
        pos = end;
    }
    r
}

fn apply_line(saved: &mut Saved, l: LineIn) {
    if let Some((k, rec)) = l.host {
        saved.hosts.insert(k, rec);
    }
    if let Some((k, rec)) = l.service {
        saved.services.insert(k, rec);
    }
    if let Some(id) = l.next_downtime_id {
        saved.next_downtime_id = saved.next_downtime_id.max(id);
    }
}

/// Reads the snapshot and replays the journals after it. `fix`: move damaged files
/// aside (the daemon); without it nothing is changed (`validate`). Never fails: what
/// cannot be read is reported in [`Loaded::corrupt`].
pub fn load(dir: &StateDir, now: u64, fix: bool) -> Loaded {
    let names = &dir.names;
    let mut out = Loaded::default();
    let moved = |name: &str| -> String {
        if !fix {
            return "`run` will move it aside".into();
        }
        match dir.move_aside(name, now) {
            Ok(to) => format!("moved to {}", dir.show(&to)),
            Err(e) => format!("could not move it aside ({e})"),
        }
    };
    match dir.read(&names.snapshot).and_then(|t| match t {
        None => Ok(None),
        Some(t) => {
            let size = t.len() as u64;
            let saved: Saved = serde_json::from_slice(&t).map_err(io::Error::other)?;
            if saved.version != VERSION {
                return Err(io::Error::other(format!(
                    "format version {} (this program reads {VERSION})",
                    saved.version
                )));
            }
            Ok(Some((saved, size)))
        }
    }) {
        Ok(Some((saved, size))) => {
            out.saved = saved;
            out.snapshot_bytes = size;
        }
        Ok(None) => out.saved.version = VERSION,
        Err(e) => {
            out.saved.version = VERSION;
            let how = moved(&names.snapshot);
            out.corrupt.push(format!(
                "state file {} was corrupt ({e}): {how}, started with empty state",
                dir.show(&names.snapshot)
            ));
        }
    }
    let covered = out.saved.journal_seq;
    out.last_seq = covered;
    for name in [&names.old_journal, &names.journal] {
        let text = match dir.read(name) {
            Ok(None) => continue,
            Ok(Some(t)) => t,
            Err(e) => {
                let how = moved(name);
                out.corrupt.push(format!(
                    "state journal {} was corrupt ({e}): {how}, its changes were lost",
                    dir.show(name)
                ));
                continue;
            }
        };
        let r = parse_journal(&text);
        out.torn += usize::from(r.torn);
        for l in r.lines {
            out.last_seq = out.last_seq.max(l.seq);
            if l.seq > covered {
                out.replayed += 1;
                apply_line(&mut out.saved, l);
            }
        }
        if let Some((n, e)) = r.damaged {
            let how = moved(name);
            out.corrupt.push(format!(
                "state journal {} was corrupt (line {n}: {e}): {how}, started with the changes before that line",
                dir.show(name)
            ));
        } else if *name == names.journal {
            out.journal_len = Some(r.valid_len);
        }
    }
    // ids in use (downtimes and comments share them) stay unique even if the id line
    // was lost
    let h = out.saved.hosts.values();
    let s = out.saved.services.values();
    let max_id = h
        .clone()
        .flat_map(|r| r.downtimes.iter().map(|d| d.id))
        .chain(h.flat_map(|r| r.comments.iter().map(|c| c.id)))
        .chain(s.clone().flat_map(|r| r.downtimes.iter().map(|d| d.id)))
        .chain(s.flat_map(|r| r.comments.iter().map(|c| c.id)))
        .max()
        .unwrap_or(0);
    out.saved.next_downtime_id = out.saved.next_downtime_id.max(max_id + 1).max(1);
    out
}

/// Problems `validate` reports about the state files (nothing is changed), for a
/// daemon that will run as `euid`.
pub fn check_files(state_file: &Path, euid: u32) -> Vec<String> {
    let parent = state_file
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.exists() {
        return Vec::new();
    }
    let dir = match StateDir::open_for(state_file, euid) {
        Ok(d) => d,
        Err(e) => return vec![e],
    };
    load(&dir, 0, false).corrupt
}

/// Serializes one journal line (with its newline).
pub fn line_bytes(line: &LineOut<'_>) -> Vec<u8> {
    let mut v = Vec::with_capacity(512);
    // a record always serializes
    let _ = serde_json::to_writer(&mut v, line);
    v.push(b'\n');
    v
}

/// Appends raw bytes to a file (tests and tools).
#[doc(hidden)]
pub fn append_raw(dir: &StateDir, name: &str, bytes: &[u8]) -> io::Result<()> {
    let mut f = match dir.open_append(name) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => dir.create_new(name)?,
        r => r?,
    };
    f.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(state: State, t: u64) -> Record<State> {
        let mut r: Record<State> = Record::default();
        r.apply(state, "x", t, &crate::state::Policy::default(), true);
        r
    }

    fn line(seq: u64, key: &str, r: &Record<State>) -> Vec<u8> {
        line_bytes(&LineOut {
            seq,
            host: None,
            service: Some((key, r)),
            next_downtime_id: None,
        })
    }

    fn dir() -> (tempfile::TempDir, StateDir) {
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let d = StateDir::open(&t.path().join("sub/state.json")).unwrap();
        (t, d)
    }

    #[test]
    fn snapshot_round_trip_and_missing_file() {
        let (_t, d) = dir();
        let l = load(&d, 0, true);
        assert!(l.saved.services.is_empty() && l.corrupt.is_empty());
        let mut saved = Saved {
            version: VERSION,
            next_downtime_id: 7,
            journal_seq: 3,
            ..Saved::default()
        };
        let r = rec(State::Critical, 100);
        saved.services.insert("h/s".into(), r.clone());
        let size = d.write_snapshot(&saved).unwrap();
        let back = load(&d, 0, true);
        assert_eq!(back.saved.services["h/s"], r);
        assert_eq!(back.saved.next_downtime_id, 7);
        assert_eq!((back.last_seq, back.snapshot_bytes), (3, size));
        let meta = std::fs::metadata(d.path.join("state.json")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        // no temporary file left behind
        assert_eq!(std::fs::read_dir(&d.path).unwrap().count(), 1);
    }

    #[test]
    fn a_snapshot_written_as_a_stream_loads_as_written() {
        let (_t, d) = dir();
        let head = Head {
            version: VERSION,
            saved_at: 5,
            next_downtime_id: 7,
            journal_seq: 3,
        };
        let (a, b) = (rec(State::Critical, 100), rec(State::Ok, 101));
        let host: Record<HostState> = Record::default();
        let mut w = d.begin_snapshot(head).unwrap();
        w.service("h/gone", &a).unwrap();
        w.spill().unwrap();
        // a reload meanwhile: everything again from an empty file
        w.restart().unwrap();
        w.host("h\"q", &host).unwrap();
        w.spill().unwrap();
        w.service("h/a", &a).unwrap();
        w.service("h/b", &b).unwrap();
        // hosts come first
        assert!(w.host("late", &host).is_err());
        let size = w.finish().unwrap();
        let l = load(&d, 0, true);
        assert_eq!(l.saved.head(), head);
        assert_eq!(l.saved.hosts.len(), 1);
        assert_eq!(l.saved.hosts["h\"q"], host);
        assert_eq!(l.saved.services.len(), 2);
        assert_eq!(
            (&l.saved.services["h/a"], &l.saved.services["h/b"]),
            (&a, &b)
        );
        assert_eq!((l.last_seq, l.snapshot_bytes), (3, size));
        // no records at all, and a writer dropped unfinished leaves the snapshot alone
        d.begin_snapshot(head).unwrap().finish().unwrap();
        assert!(load(&d, 0, true).saved.services.is_empty());
        let mut w = d.begin_snapshot(head).unwrap();
        w.service("h/a", &a).unwrap();
        w.spill().unwrap();
        drop(w);
        assert!(!d.exists(".state.json.tmp"));
        assert!(load(&d, 0, true).saved.services.is_empty());
    }

    #[test]
    fn replay_skips_covered_lines_and_last_one_wins() {
        let (_t, d) = dir();
        let (a, b, c) = (
            rec(State::Ok, 1),
            rec(State::Warning, 2),
            rec(State::Critical, 3),
        );
        let mut saved = Saved {
            version: VERSION,
            journal_seq: 2,
            ..Saved::default()
        };
        saved.services.insert("h/s".into(), b.clone());
        d.write_snapshot(&saved).unwrap();
        let mut j = line(1, "h/s", &a);
        j.extend(line(2, "h/t", &a)); // covered by the snapshot: skipped
        j.extend(line(3, "h/s", &c));
        j.extend(line(4, "h/u", &a));
        j.extend(line(5, "h/u", &b));
        j.extend(line_bytes(&LineOut {
            seq: 6,
            host: None,
            service: None,
            next_downtime_id: Some(40),
        }));
        append_raw(&d, "state.json.journal", &j).unwrap();
        let l = load(&d, 0, true);
        assert_eq!(l.saved.services["h/s"], c);
        assert_eq!(l.saved.services["h/u"], b);
        assert!(!l.saved.services.contains_key("h/t"));
        assert_eq!(l.saved.next_downtime_id, 40);
        assert_eq!((l.last_seq, l.replayed, l.torn), (6, 4, 0));
        assert_eq!(l.journal_len, Some(j.len() as u64));
        assert!(l.corrupt.is_empty());
    }

    #[test]
    fn torn_last_line_is_ignored() {
        let (_t, d) = dir();
        let a = rec(State::Critical, 1);
        let full = line(1, "h/s", &a);
        let second = line(2, "h/t", &a);
        for cut in [1, second.len() / 2, second.len() - 1] {
            let _ = d.remove("state.json.journal");
            let mut j = full.clone();
            j.extend(&second[..cut]);
            append_raw(&d, "state.json.journal", &j).unwrap();
            let l = load(&d, 0, true);
            assert!(l.corrupt.is_empty(), "{:?}", l.corrupt);
            assert_eq!(l.torn, 1);
            assert_eq!(l.saved.services.len(), 1);
            assert_eq!(l.journal_len, Some(full.len() as u64));
        }
        // zeros at the end (a crash after the size was updated) are torn too
        let _ = d.remove("state.json.journal");
        let mut j = full.clone();
        j.extend([0u8; 64]);
        append_raw(&d, "state.json.journal", &j).unwrap();
        let l = load(&d, 0, true);
        assert!(l.corrupt.is_empty());
        assert_eq!(l.torn, 1);
    }

    #[test]
    fn damage_moves_files_aside() {
        let (_t, d) = dir();
        let a = rec(State::Critical, 1);
        std::fs::write(d.path.join("state.json"), "{").unwrap();
        let mut j = line(1, "h/s", &a);
        j.extend(b"garbage\n");
        j.extend(line(2, "h/t", &a));
        append_raw(&d, "state.json.journal", &j).unwrap();
        // validate: reported, nothing moved
        let l = load(&d, 1_800_000_000, false);
        assert_eq!(l.corrupt.len(), 2, "{:?}", l.corrupt);
        assert!(l.corrupt[0].contains("`run` will move it aside"));
        assert!(d.exists("state.json"));
        let l = load(&d, 1_800_000_000, true);
        assert!(
            l.corrupt[0].starts_with(&format!(
                "state file {} was corrupt (",
                d.show("state.json")
            )),
            "{:?}",
            l.corrupt
        );
        assert!(l.corrupt[0].ends_with(&format!(
            "moved to {}, started with empty state",
            d.show("state.json.corrupt-2027-01-15T080000Z")
        )));
        assert!(l.corrupt[1].contains("line 2"), "{:?}", l.corrupt);
        // the line before the damage is kept
        assert_eq!(l.saved.services.len(), 1);
        assert!(!d.exists("state.json") && !d.exists("state.json.journal"));
        assert!(d.exists("state.json.corrupt-2027-01-15T080000Z"));
        assert!(d.exists("state.json.journal.corrupt-2027-01-15T080000Z"));
    }

    #[test]
    fn symlinks_are_not_followed() {
        let (t, d) = dir();
        let outside = t.path().join("outside");
        std::fs::write(&outside, "precious").unwrap();
        std::os::unix::fs::symlink(&outside, d.path.join(".state.json.tmp")).unwrap();
        std::os::unix::fs::symlink(&outside, d.path.join("state.json.journal")).unwrap();
        assert!(d.read("state.json.journal").is_err());
        assert!(d.open_append("state.json.journal").is_err());
        assert!(d.create_new("state.json.journal").is_err());
        d.write_snapshot(&Saved::default()).unwrap();
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(d.path.join("state.json"))
            .unwrap()
            .file_type()
            .is_file());
    }

    #[test]
    fn unsafe_directories_are_refused() {
        let t = tempfile::tempdir().unwrap();
        let open = t.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = StateDir::open(&open.join("state.json")).unwrap_err();
        assert!(e.contains("writable by group or others (mode 0777)"), "{e}");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        assert!(StateDir::open(&open.join("state.json")).is_err());
        // sticky is fine for a parent
        std::fs::create_dir(open.join("mine")).unwrap();
        std::fs::set_permissions(open.join("mine"), std::fs::Permissions::from_mode(0o700))
            .unwrap();
        StateDir::open(&open.join("mine/state.json")).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = StateDir::open(&open.join("mine/state.json")).unwrap_err();
        assert!(e.contains("its parent"), "{e}");
        // a symlink as the directory itself
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::os::unix::fs::symlink(open.join("mine"), t.path().join("link")).unwrap();
        assert!(StateDir::open(&t.path().join("link/state.json")).is_err());
    }
}
