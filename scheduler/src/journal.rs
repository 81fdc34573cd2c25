//! The state journal: every change of a record is appended as one JSON line by a writer
//! thread, off the core lock. Check results are written and fsynced in groups (every
//! [`BATCH_WINDOW`] or [`BATCH_MAX`] lines); an admin change (ack, downtime, ...) is
//! written and fsynced before [`Journal::append`] returns, together with whatever is
//! pending (group commit). When the journal outgrows the last snapshot, a compaction
//! writes a new snapshot on a blocking thread while the writer goes on in a fresh
//! journal:
//!
//! 1. under the core lock: sequence S is taken and the writer is told to rotate after
//!    the lines up to S;
//! 2. the writer fsyncs, renames the journal to `.journal.old`, starts a new one;
//! 3. the records are serialized into a temporary snapshot file a chunk at a time
//!    (each chunk under the lock for a moment, written out off it: the state is never
//!    copied whole), which is fsynced and renamed over the snapshot (covering S), then
//!    `.journal.old` removed.
//!
//! A crash at any step leaves files that load to the same state (see
//! [`crate::retention::load`], which replays `.journal.old` then `.journal`, skipping
//! lines the snapshot covers).
//!
//! The health of all this is the `hcoop-monitor/retention` self-check service.

use crate::retention::{self, LineOut, Saved, SnapshotWriter, StateDir};
use crate::state::{HostState, Record, Time};
use hcoop_plugins::plugin::State;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a check result may wait before it is written and fsynced.
pub const BATCH_WINDOW: Duration = Duration::from_millis(100);
/// How many lines are written at most before an fsync.
pub const BATCH_MAX: usize = 1000;
/// How long an admin change waits for its fsync before it is reported unsaved.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(10);
/// The journal is compacted once larger than the last snapshot, and this.
pub const COMPACT_MIN_BYTES: u64 = 64 * 1024;
/// How long after a failed compaction [`Journal::due`] waits before another.
pub const COMPACT_BACKOFF: Duration = Duration::from_secs(5);
/// How long a start with a corrupt state file stays CRITICAL when nobody acknowledges it.
pub const CORRUPT_ALERT: u64 = 24 * 3600;

/// When a change must be on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// With the next group commit (within [`BATCH_WINDOW`]): check results, downtimes
    /// starting and ending.
    Batched,
    /// Before the call returns: acknowledgements, downtimes added or cancelled,
    /// comments, every admin action.
    Sync,
}

/// What the writer, the compactions and the metrics share.
#[derive(Debug, Default)]
pub struct Status {
    /// Failed writes (journal batches, snapshots).
    pub failures: AtomicU64,
    pub compactions: AtomicU64,
    /// Bytes in the current journal.
    pub journal_bytes: AtomicU64,
    /// Bytes of the last snapshot.
    pub snapshot_bytes: AtomicU64,
    /// Milliseconds the last compaction took (its records serialized and written).
    pub compaction_ms: AtomicU64,
    compacting: AtomicBool,
    /// Lines were lost by a failed write: the next compaction must not wait.
    need_compaction: AtomicBool,
    problems: Mutex<Problems>,
}

#[derive(Debug, Default)]
struct Problems {
    /// The directory was refused or could not be opened: nothing is saved.
    refused: Option<String>,
    /// The last write failed.
    write_error: Option<String>,
    /// Files found damaged at start, and when.
    corrupt: Option<(String, Time)>,
    /// When the last compaction failed (no new one for [`COMPACT_BACKOFF`]).
    compaction_failed: Option<Instant>,
}

impl Status {
    fn problems(&self) -> std::sync::MutexGuard<'_, Problems> {
        self.problems.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn failed(&self, e: String) {
        self.failures.fetch_add(1, Ordering::Relaxed);
        let mut p = self.problems();
        if p.write_error.as_ref() != Some(&e) {
            tracing::error!("cannot write state: {e}");
        }
        p.write_error = Some(e);
    }

    fn succeeded(&self) {
        let mut p = self.problems();
        if p.write_error.take().is_some() {
            tracing::info!("state written again");
        }
    }
}

enum Msg {
    Append {
        bytes: Vec<u8>,
        done: Option<mpsc::SyncSender<Result<(), String>>>,
    },
    /// Fsync what was sent, then start a new journal; answers whether it rotated.
    Rotate(mpsc::SyncSender<Result<bool, String>>),
}

/// The daemon's handle on its state files; lives in [`crate::daemon::Core`] and moves
/// to the new Core on reload.
pub struct Journal {
    tx: Option<mpsc::Sender<Msg>>,
    dir: Option<Arc<StateDir>>,
    /// The last sequence number given to a line.
    seq: u64,
    /// The next downtime id as last written.
    downtime_id: u64,
    pub status: Arc<Status>,
    writer: Option<std::thread::JoinHandle<()>>,
}

/// Opens the state directory, loads the snapshot and journals (moving damaged files
/// aside), writes a fresh snapshot at once, and starts the writer. Never fails: a
/// refused directory gives a journal that saves nothing and says so.
pub fn open(state_file: &std::path::Path, now: Time) -> (Journal, Saved) {
    let status = Arc::new(Status::default());
    let dir = match StateDir::open(state_file) {
        Ok(d) => Arc::new(d),
        Err(e) => {
            tracing::error!("{e}");
            status.problems().refused = Some(e);
            let saved = Saved {
                version: retention::VERSION,
                next_downtime_id: 1,
                ..Saved::default()
            };
            let j = Journal {
                tx: None,
                dir: None,
                seq: 0,
                downtime_id: 1,
                status,
                writer: None,
            };
            return (j, saved);
        }
    };
    let t = Instant::now();
    let loaded = retention::load(&dir, now, true);
    tracing::info!(
        "state: {} hosts, {} services from {} ({} journal lines replayed{}) in {} ms",
        loaded.saved.hosts.len(),
        loaded.saved.services.len(),
        dir.show(&dir.names.snapshot),
        loaded.replayed,
        if loaded.torn > 0 {
            ", a torn last line ignored"
        } else {
            ""
        },
        t.elapsed().as_millis()
    );
    if !loaded.corrupt.is_empty() {
        for c in &loaded.corrupt {
            tracing::error!("{c}");
        }
        status.problems().corrupt = Some((loaded.corrupt.join("; "), now));
    }
    let mut saved = loaded.saved;
    saved.journal_seq = loaded.last_seq;
    saved.saved_at = now;
    status
        .snapshot_bytes
        .store(loaded.snapshot_bytes, Ordering::Relaxed);
    // a fresh snapshot now: the file exists from the start, and the journals it covers
    // (a torn tail included) go
    let mut journal_len = loaded.journal_len;
    match dir.write_snapshot(&saved) {
        Ok(size) => {
            status.snapshot_bytes.store(size, Ordering::Relaxed);
            let names = &dir.names;
            match dir
                .remove(&names.old_journal)
                .and_then(|()| dir.remove(&names.journal))
                .and_then(|()| dir.sync())
            {
                Ok(()) => journal_len = None,
                Err(e) => status.failed(format!("{}: {e}", dir.show(&names.journal))),
            }
        }
        Err(e) => status.failed(format!("{}: {e}", dir.show(&dir.names.snapshot))),
    }
    let (tx, rx) = mpsc::channel();
    let mut w = Writer {
        dir: dir.clone(),
        file: None,
        len: 0,
        buf: Vec::new(),
        lines: 0,
        waiters: Vec::new(),
        since: None,
        status: status.clone(),
    };
    if let Some(len) = journal_len {
        // the snapshot could not be written: go on in the current journal, its torn
        // tail cut off
        match dir.open_append(&dir.names.journal).and_then(|f| {
            f.set_len(len)?;
            Ok(f)
        }) {
            Ok(f) => {
                w.file = Some(f);
                w.len = len;
            }
            Err(e) => status.failed(format!("{}: {e}", dir.show(&dir.names.journal))),
        }
    }
    status.journal_bytes.store(w.len, Ordering::Relaxed);
    let writer = std::thread::Builder::new()
        .name("state-journal".into())
        .spawn(move || w.run(rx))
        .expect("start the state journal thread");
    let j = Journal {
        tx: Some(tx),
        dir: Some(dir),
        seq: saved.journal_seq,
        downtime_id: saved.next_downtime_id,
        status,
        writer: Some(writer),
    };
    (j, saved)
}

/// A change handed to the journal. One made with [`Durability::Sync`] is confirmed only
/// once it is on disk: [`Saving::wait`] for its fsync after the core lock is released,
/// so that neither the scheduler nor a reader waits on the disk meanwhile.
#[must_use = "an admin change is confirmed only once it is saved"]
#[derive(Debug)]
pub struct Saving(Waiting);

#[derive(Debug)]
enum Waiting {
    Done(Result<(), String>),
    Fsync(mpsc::Receiver<Result<(), String>>),
    /// This one, then another store the change went to ([`Saving::then`]).
    Then(Box<Saving>, Then),
}

/// The wait for another store, after the journal's.
struct Then(Box<dyn FnOnce() -> Result<(), String> + Send>);

impl std::fmt::Debug for Then {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Then")
    }
}

impl Saving {
    /// Nothing to wait for: the change went with the next group commit, or failed.
    pub fn done(r: Result<(), String>) -> Saving {
        Saving(Waiting::Done(r))
    }

    /// A change also handed to another store (the history): confirmed once this one
    /// is and `then` (a blocking wait for that store) says it is there too.
    pub fn then(self, then: impl FnOnce() -> Result<(), String> + Send + 'static) -> Saving {
        Saving(Waiting::Then(Box::new(self), Then(Box::new(then))))
    }

    /// Waits (at most [`SYNC_TIMEOUT`]) until the change is written and fsynced; an
    /// error says it is in effect but not saved.
    pub fn wait(self) -> Result<(), String> {
        match self.0 {
            Waiting::Done(r) => r,
            Waiting::Then(first, then) => first.wait().and_then(|()| (then.0)()),
            Waiting::Fsync(wait) => match wait.recv_timeout(SYNC_TIMEOUT) {
                Ok(r) => r.map_err(|e| format!("not saved: {e}")),
                Err(RecvTimeoutError::Timeout) => Err(format!(
                    "not saved: the state journal did not confirm within {} s",
                    SYNC_TIMEOUT.as_secs()
                )),
                Err(RecvTimeoutError::Disconnected) => {
                    Err("not saved: the state journal stopped".into())
                }
            },
        }
    }
}

impl Journal {
    fn send(&mut self, bytes: Vec<u8>, durability: Durability) -> Saving {
        let Some(tx) = &self.tx else {
            let p = self.status.problems();
            return Saving::done(match (durability, &p.refused) {
                (Durability::Sync, Some(e)) => Err(format!("not saved: {e}")),
                _ => Ok(()),
            });
        };
        match durability {
            Durability::Batched => {
                let _ = tx.send(Msg::Append { bytes, done: None });
                Saving::done(Ok(()))
            }
            Durability::Sync => {
                let (done, wait) = mpsc::sync_channel(1);
                let sent = tx.send(Msg::Append {
                    bytes,
                    done: Some(done),
                });
                Saving(match sent {
                    Ok(()) => Waiting::Fsync(wait),
                    Err(_) => Waiting::Done(Err("not saved: the state journal stopped".into())),
                })
            }
        }
    }

    /// Appends the next downtime id when it changed since it was last written.
    pub fn note_downtime_id(&mut self, next: u64) {
        if next != self.downtime_id {
            self.downtime_id = next;
            self.seq += 1;
            let bytes = retention::line_bytes(&LineOut {
                seq: self.seq,
                host: None,
                service: None,
                next_downtime_id: Some(next),
            });
            let _ = self.send(bytes, Durability::Batched).wait();
        }
    }

    /// Appends a host's record.
    pub fn host(&mut self, key: &str, r: &Record<HostState>, durability: Durability) -> Saving {
        self.seq += 1;
        let bytes = retention::line_bytes(&LineOut {
            seq: self.seq,
            host: Some((key, r)),
            service: None,
            next_downtime_id: None,
        });
        self.send(bytes, durability)
    }

    /// Appends a service's record.
    pub fn service(&mut self, key: &str, r: &Record<State>, durability: Durability) -> Saving {
        self.seq += 1;
        let bytes = retention::line_bytes(&LineOut {
            seq: self.seq,
            host: None,
            service: Some((key, r)),
            next_downtime_id: None,
        });
        self.send(bytes, durability)
    }

    /// Whether a compaction is due: the journal outgrew the last snapshot (and
    /// [`COMPACT_MIN_BYTES`]), or lines were lost by a failed write.
    pub fn wants_compaction(&self) -> bool {
        let s = &self.status;
        self.tx.is_some()
            && !s.compacting.load(Ordering::Relaxed)
            && (s.need_compaction.load(Ordering::Relaxed)
                || s.journal_bytes.load(Ordering::Relaxed)
                    > s.snapshot_bytes
                        .load(Ordering::Relaxed)
                        .max(COMPACT_MIN_BYTES))
    }

    /// Whether the journal outgrew its bound and no compaction is running or failed
    /// lately: cheap (a few atomic loads), asked after every check result so that the
    /// journal stays near its bound whatever `retention_interval` is.
    pub fn due(&self) -> bool {
        let s = &self.status;
        self.tx.is_some()
            && !s.compacting.load(Ordering::Relaxed)
            && s.journal_bytes.load(Ordering::Relaxed)
                > s.snapshot_bytes
                    .load(Ordering::Relaxed)
                    .max(COMPACT_MIN_BYTES)
            && s.problems()
                .compaction_failed
                .is_none_or(|t| t.elapsed() >= COMPACT_BACKOFF)
    }

    /// Whether a compaction is running.
    pub fn compacting(&self) -> bool {
        self.status.compacting.load(Ordering::Relaxed)
    }

    /// Starts a compaction (a snapshot saying `head`; its records are written by
    /// [`Compaction::run`]): tells the writer to rotate after the lines sent so far.
    /// `None` when one is running or nothing is saved. Run the result off the lock.
    pub fn begin_compaction(&mut self, mut head: retention::Head) -> Option<Compaction> {
        let (tx, dir) = (self.tx.as_ref()?, self.dir.clone()?);
        if self.status.compacting.swap(true, Ordering::AcqRel) {
            return None;
        }
        self.status.need_compaction.store(false, Ordering::Relaxed);
        head.journal_seq = self.seq;
        head.version = retention::VERSION;
        self.downtime_id = head.next_downtime_id;
        let (done, rotated) = mpsc::sync_channel(1);
        let _ = tx.send(Msg::Rotate(done));
        Some(Compaction {
            head,
            dir,
            rotated,
            status: self.status.clone(),
        })
    }

    /// The self-check's state and output. `acknowledged`: the self-check's current
    /// problem was acknowledged, which ends a corrupt-start alert.
    pub fn health(&self, now: Time, acknowledged: bool) -> (State, String) {
        let mut p = self.status.problems();
        if let Some((_, since)) = &p.corrupt {
            if acknowledged || now >= since + CORRUPT_ALERT {
                p.corrupt = None;
            }
        }
        if let Some(e) = &p.refused {
            return (
                State::Critical,
                format!("RETENTION CRITICAL - cannot write state: {e}\n"),
            );
        }
        if let Some(e) = &p.write_error {
            return (
                State::Critical,
                format!("RETENTION CRITICAL - cannot write state: {e}\n"),
            );
        }
        if let Some((c, _)) = &p.corrupt {
            return (State::Critical, format!("RETENTION CRITICAL - {c}\n"));
        }
        let where_ = self
            .dir
            .as_ref()
            .map_or_else(String::new, |d| d.show(&d.names.snapshot));
        (
            State::Ok,
            format!("RETENTION OK - states saved in {where_} and its journal\n"),
        )
    }

    /// The retention metrics, in the Prometheus text format.
    pub fn render_metrics(&self, out: &mut String) {
        let s = &self.status;
        let mut one = |name: &str, kind: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        };
        one(
            "hcoop_retention_failures_total",
            "counter",
            "Failed writes of the state journal or snapshot.",
            s.failures.load(Ordering::Relaxed),
        );
        one(
            "hcoop_retention_journal_bytes",
            "gauge",
            "Bytes in the state journal since the last compaction.",
            s.journal_bytes.load(Ordering::Relaxed),
        );
        one(
            "hcoop_retention_snapshot_bytes",
            "gauge",
            "Bytes of the last state snapshot.",
            s.snapshot_bytes.load(Ordering::Relaxed),
        );
        one(
            "hcoop_retention_compactions_total",
            "counter",
            "State snapshots written by compaction.",
            s.compactions.load(Ordering::Relaxed),
        );
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // the writer writes what is pending, then ends
        self.tx = None;
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

/// A compaction: started under the core lock (sequence S taken, the writer told to
/// rotate), then run off the lock, where its records are serialized straight into the
/// new snapshot a chunk at a time (each chunk under the lock for a moment: a record
/// written later than S is newer, and the journal after S replays to the same final
/// state, since each line is a whole record).
pub struct Compaction {
    head: retention::Head,
    dir: Arc<StateDir>,
    rotated: mpsc::Receiver<Result<bool, String>>,
    status: Arc<Status>,
}

impl Compaction {
    /// Writes the snapshot: `fill` adds records to it (a chunk per call, under the core
    /// lock; true once all are in), each chunk is written out after it; then waits for
    /// the writer's rotation, makes the snapshot durable and removes the old journal.
    pub fn run(
        self,
        mut fill: impl FnMut(&mut SnapshotWriter<'_>) -> std::io::Result<bool>,
    ) -> Result<(), String> {
        let t = Instant::now();
        let s = &self.status;
        let names = &self.dir.names;
        let r = (|| -> Result<u64, String> {
            let failed = |e: std::io::Error| format!("{}: {e}", self.dir.show(&names.snapshot));
            let mut w = self.dir.begin_snapshot(self.head).map_err(failed)?;
            while !fill(&mut w).map_err(failed)? {
                w.spill().map_err(failed)?;
            }
            // whether or not the writer could rotate, the snapshot covers its lines
            let _ = self.rotated.recv_timeout(Duration::from_secs(60));
            let size = w.finish().map_err(failed)?;
            self.dir
                .remove(&names.old_journal)
                .and_then(|()| self.dir.sync())
                .map_err(|e| format!("{}: {e}", self.dir.show(&names.old_journal)))?;
            Ok(size)
        })();
        let r = match r {
            Ok(size) => {
                s.snapshot_bytes.store(size, Ordering::Relaxed);
                s.compactions.fetch_add(1, Ordering::Relaxed);
                s.compaction_ms
                    .store(t.elapsed().as_millis() as u64, Ordering::Relaxed);
                s.problems().compaction_failed = None;
                s.succeeded();
                tracing::debug!(
                    "state compacted: {size} bytes in {} ms",
                    t.elapsed().as_millis()
                );
                Ok(())
            }
            Err(e) => {
                s.need_compaction.store(true, Ordering::Relaxed);
                s.problems().compaction_failed = Some(Instant::now());
                s.failed(e.clone());
                Err(e)
            }
        };
        s.compacting.store(false, Ordering::Release);
        r
    }
}

/// The writer thread's state.
struct Writer {
    dir: Arc<StateDir>,
    file: Option<std::fs::File>,
    /// Bytes of the journal known good (written and fsynced).
    len: u64,
    buf: Vec<u8>,
    lines: usize,
    waiters: Vec<mpsc::SyncSender<Result<(), String>>>,
    /// When the oldest pending line came.
    since: Option<Instant>,
    status: Arc<Status>,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Msg>) {
        loop {
            let timeout = self.since.map_or(Duration::from_secs(3600), |t| {
                (t + BATCH_WINDOW).saturating_duration_since(Instant::now())
            });
            let msg = match rx.recv_timeout(timeout) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.flush();
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.flush();
                    return;
                }
            };
            self.take(msg);
            // everything queued meanwhile joins this group
            while self.lines < BATCH_MAX {
                match rx.try_recv() {
                    Ok(m) => self.take(m),
                    Err(_) => break,
                }
            }
            if !self.waiters.is_empty() || self.lines >= BATCH_MAX {
                let _ = self.flush();
            }
        }
    }

    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Append { bytes, done } => {
                self.buf.extend_from_slice(&bytes);
                self.lines += 1;
                self.since.get_or_insert_with(Instant::now);
                if let Some(d) = done {
                    self.waiters.push(d);
                }
            }
            Msg::Rotate(done) => {
                let r = self.flush().and_then(|()| self.rotate());
                let _ = done.send(r);
            }
        }
    }

    fn journal(&mut self) -> std::io::Result<&mut std::fs::File> {
        if self.file.is_none() {
            let name = &self.dir.names.journal;
            let f = match self.dir.create_new(name) {
                Ok(f) => {
                    self.dir.sync()?;
                    self.len = 0;
                    f
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let f = self.dir.open_append(name)?;
                    self.len = f.metadata()?.len();
                    f
                }
                Err(e) => return Err(e),
            };
            self.file = Some(f);
        }
        Ok(self.file.as_mut().expect("just opened"))
    }

    /// Writes and fsyncs the pending lines; answers the waiters.
    fn flush(&mut self) -> Result<(), String> {
        if self.buf.is_empty() {
            self.since = None;
            return Ok(());
        }
        let buf = std::mem::take(&mut self.buf);
        let r = (|| {
            let f = self.journal()?;
            f.write_all(&buf)?;
            f.sync_data()
        })();
        let r = match r {
            Ok(()) => {
                self.len += buf.len() as u64;
                self.status.succeeded();
                Ok(())
            }
            Err(e) => {
                // a partial line must not stay in the middle of the journal
                if let Some(f) = &self.file {
                    if f.set_len(self.len).is_err() {
                        self.file = None;
                    }
                }
                self.status.need_compaction.store(true, Ordering::Relaxed);
                let e = format!("{}: {e}", self.dir.show(&self.dir.names.journal));
                self.status.failed(e.clone());
                Err(e)
            }
        };
        self.status.journal_bytes.store(self.len, Ordering::Relaxed);
        for w in self.waiters.drain(..) {
            let _ = w.send(r.clone());
        }
        self.buf = buf;
        self.buf.clear();
        self.lines = 0;
        self.since = None;
        r
    }

    /// Renames the journal to `.journal.old` and starts a new one; when an old journal
    /// is still there (a compaction failed), keeps writing the current one.
    fn rotate(&mut self) -> Result<bool, String> {
        let names = &self.dir.names;
        if self.dir.exists(&names.old_journal) || !self.dir.exists(&names.journal) {
            return Ok(false);
        }
        let r = self
            .dir
            .rename(&names.journal, &names.old_journal, true)
            .and_then(|()| self.dir.sync());
        match r {
            Ok(()) => {
                self.file = None;
                self.len = 0;
                self.status.journal_bytes.store(0, Ordering::Relaxed);
                Ok(true)
            }
            Err(e) => Err(format!("{}: {e}", self.dir.show(&names.journal))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn setup() -> (tempfile::TempDir, std::path::PathBuf) {
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let p = t.path().join("state.json");
        (t, p)
    }

    fn rec(state: State, t: u64) -> Record<State> {
        let mut r: Record<State> = Record::default();
        r.apply(state, "x", t, &crate::state::Policy::default(), true);
        r
    }

    /// Runs a compaction whose records are those of `saved`, in chunks of 7.
    fn run_with(c: Compaction, saved: &Saved) -> Result<(), String> {
        let mut hosts = saved.hosts.iter();
        let mut services = saved.services.iter();
        c.run(|w| {
            for _ in 0..7 {
                if let Some((k, r)) = hosts.next() {
                    w.host(k, r)?;
                } else if let Some((k, r)) = services.next() {
                    w.service(k, r)?;
                } else {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    #[test]
    fn sync_lines_are_on_disk_when_append_returns() {
        let (_t, p) = setup();
        let (mut j, saved) = open(&p, 100);
        assert!(saved.services.is_empty());
        // the snapshot exists at once, mode 0600
        let meta = std::fs::metadata(&p).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        let r = rec(State::Critical, 1);
        j.service("h/a", &r, Durability::Batched).wait().unwrap();
        j.note_downtime_id(5);
        j.service("h/b", &r, Durability::Sync).wait().unwrap();
        // read while the writer still runs: a crash now loses nothing confirmed
        let dir = StateDir::open(&p).unwrap();
        let l = retention::load(&dir, 0, false);
        assert_eq!(l.saved.services.len(), 2);
        assert_eq!(l.saved.next_downtime_id, 5);
        let jmeta = std::fs::metadata(p.with_extension("json.journal")).unwrap();
        assert_eq!(jmeta.permissions().mode() & 0o777, 0o600);
        drop(j);
    }

    #[test]
    fn batched_lines_are_written_within_the_window() {
        let (_t, p) = setup();
        let (mut j, _) = open(&p, 100);
        j.service("h/a", &rec(State::Warning, 1), Durability::Batched)
            .wait()
            .unwrap();
        std::thread::sleep(BATCH_WINDOW * 3);
        let dir = StateDir::open(&p).unwrap();
        assert_eq!(retention::load(&dir, 0, false).saved.services.len(), 1);
        assert!(j.status.journal_bytes.load(Ordering::Relaxed) > 0);
    }

    #[test]
    fn compaction_rotates_and_replays_the_same_state() {
        let (_t, p) = setup();
        let (mut j, _) = open(&p, 100);
        let mut all = Saved::default();
        for i in 0..200u64 {
            let r = rec(
                if i % 2 == 0 {
                    State::Ok
                } else {
                    State::Critical
                },
                i,
            );
            let key = format!("h/s{}", i % 50);
            j.service(&key, &r, Durability::Batched).wait().unwrap();
            all.services.insert(key, r);
        }
        all.next_downtime_id = 9;
        let c = j.begin_compaction(all.head()).unwrap();
        // one at a time
        assert!(j.begin_compaction(all.head()).is_none());
        // lines after the snapshot's sequence go to the new journal
        let late = rec(State::Unknown, 999);
        j.service("h/late", &late, Durability::Batched)
            .wait()
            .unwrap();
        run_with(c, &all).unwrap();
        assert!(!j.compacting());
        j.service("h/s0", &late, Durability::Sync).wait().unwrap();
        let dir = StateDir::open(&p).unwrap();
        assert!(!dir.exists("state.json.journal.old"));
        let l = retention::load(&dir, 0, false);
        assert_eq!(l.saved.services.len(), 51);
        assert_eq!(l.saved.services["h/late"], late);
        assert_eq!(l.saved.services["h/s0"], late);
        assert_eq!(l.saved.services["h/s1"], all.services["h/s1"]);
        assert_eq!(l.saved.next_downtime_id, 9);
        assert_eq!(l.replayed, 2);
        assert_eq!(j.status.compactions.load(Ordering::Relaxed), 1);
        // and a restart on these files gives the same, with a fresh snapshot
        drop(j);
        let (j, saved) = open(&p, 200);
        assert_eq!(saved.services, l.saved.services);
        assert!(!dir.exists("state.json.journal"));
        assert_eq!(j.health(200, false).0, State::Ok);
    }

    #[test]
    fn crash_between_rotation_and_snapshot_loses_nothing() {
        let (_t, p) = setup();
        let (mut j, _) = open(&p, 100);
        let a = rec(State::Critical, 1);
        j.service("h/a", &a, Durability::Batched).wait().unwrap();
        let c = j.begin_compaction(Saved::default().head()).unwrap();
        // the writer rotates; the snapshot is never written (crash)
        let rotated = c.rotated.recv().unwrap();
        assert_eq!(rotated, Ok(true));
        let b = rec(State::Warning, 2);
        j.service("h/b", &b, Durability::Sync).wait().unwrap();
        let dir = StateDir::open(&p).unwrap();
        assert!(dir.exists("state.json.journal.old"));
        let l = retention::load(&dir, 0, false);
        assert_eq!(l.saved.services["h/a"], a);
        assert_eq!(l.saved.services["h/b"], b);
        std::mem::forget(j);
    }

    #[test]
    fn corrupt_start_is_critical_until_acknowledged() {
        let (_t, p) = setup();
        std::fs::write(&p, "{").unwrap();
        let (j, saved) = open(&p, 1000);
        assert!(saved.services.is_empty());
        let (state, out) = j.health(1000, false);
        assert_eq!(state, State::Critical);
        assert!(out.starts_with(&format!(
            "RETENTION CRITICAL - state file {} was corrupt (",
            p.display()
        )));
        assert!(out.contains("started with empty state"), "{out}");
        assert_eq!(j.health(1000 + CORRUPT_ALERT - 1, false).0, State::Critical);
        assert_eq!(j.health(1001, true).0, State::Ok);
        assert_eq!(j.health(1002, false).0, State::Ok);
    }

    /// Figures for the docs: `cargo test -p hcoop-monitor --release --lib -- --ignored
    /// journal_figures --nocapture` (HCOOP_FIGURES_SERVICES=N for another size).
    #[test]
    #[ignore]
    fn journal_figures() {
        let n: usize = std::env::var("HCOOP_FIGURES_SERVICES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        let (_t, p) = setup();
        let policy = crate::state::Policy::default();
        let mut saved = Saved::default();
        let text = format!("HTTP OK - HTTP/1.1 200 OK - {} bytes in 0.012 second response time |time=0.012s;;;0 size=5120B;;;0\n", n);
        for i in 0..n {
            let mut r: Record<State> = Record::default();
            for t in 0..25u64 {
                let s = if (i as u64 + t) % 7 == 0 {
                    State::Warning
                } else {
                    State::Ok
                };
                r.apply(s, &text, 1_700_000_000 + t * 300, &policy, true);
            }
            saved
                .services
                .insert(format!("host{}/service{i}", i % 100), r);
        }
        let (mut j, _) = open(&p, 1);
        let one = saved.services.values().next().unwrap().clone();
        let t = Instant::now();
        let appends = 20_000;
        for i in 0..appends {
            j.service(&format!("host1/service{i}"), &one, Durability::Batched)
                .wait()
                .unwrap();
        }
        let batched = t.elapsed() / appends;
        let t = Instant::now();
        let syncs = 200;
        for i in 0..syncs {
            j.service(&format!("host1/service{i}"), &one, Durability::Sync)
                .wait()
                .unwrap();
        }
        let sync = t.elapsed() / syncs;
        let line = retention::line_bytes(&LineOut {
            seq: 1,
            host: None,
            service: Some(("host1/service1", &one)),
            next_downtime_id: None,
        })
        .len();
        let t = Instant::now();
        let chunk: std::collections::HashMap<_, _> = saved
            .services
            .iter()
            .take(2000)
            .map(|(k, r)| (k.clone(), r.clone()))
            .collect();
        let chunked = t.elapsed();
        drop(chunk);
        let t = Instant::now();
        let clone = saved.clone();
        let cloned = t.elapsed();
        let c = j.begin_compaction(clone.head()).unwrap();
        let t = Instant::now();
        run_with(c, &clone).unwrap();
        let written = t.elapsed();
        println!(
            "{n} services: journal line {line} B; batched append (serialize + hand to the writer, under the core lock) {batched:?}; \
             admin append with its fsync {sync:?}; compaction: a chunk of 2000 records copied under the lock in {chunked:?} \
             (all {cloned:?}), snapshot of {} B written off the lock in {written:?}",
            j.status.snapshot_bytes.load(Ordering::Relaxed)
        );
    }

    #[test]
    fn refused_directory_saves_nothing_and_says_so() {
        let (t, _) = setup();
        let open_dir = t.path().join("open");
        std::fs::create_dir(&open_dir).unwrap();
        std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let (mut j, _) = open(&open_dir.join("state.json"), 1);
        let r = rec(State::Critical, 1);
        assert!(j.service("h/a", &r, Durability::Batched).wait().is_ok());
        let e = j.service("h/a", &r, Durability::Sync).wait().unwrap_err();
        assert!(e.contains("writable by group or others"), "{e}");
        let (state, out) = j.health(1, false);
        assert_eq!(state, State::Critical);
        assert!(out.contains("cannot write state: state directory"), "{out}");
        assert!(!open_dir.join("state.json").exists());
    }
}
