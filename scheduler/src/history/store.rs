//! The history store: one SQLite file (WAL) in a directory only the daemon's user may
//! write, written by one thread of its own and read by any number of read-only
//! connections.
//!
//! - [`History::record`] queues an [`Event`]; the writer commits what is queued at once
//!   in one transaction (group commit, `synchronous=FULL`) and resolves each event's
//!   [`Ticket`] after the commit, so the caller can wait until the event is durable
//!   before acting on it. Queuing never blocks (the core records under its lock).
//! - [`History::perfdata`] queues a result's perfdata ([`QUEUE`] batches at most, more
//!   are dropped and counted); the writer hands it to the [`perf::Consolidator`] in a
//!   transaction committed at least every second.
//! - The writer writes a heartbeat (`meta.alive_at`) every 10 s. A daemon killed without
//!   a chance to record its `Stop` gets one at the next [`History::open`], at its last
//!   heartbeat, with the comment `not stopped cleanly`; then the new `Start` is recorded.
//!   So the runs of the daemon ([`runs`]) are known even across crashes.
//! - A store that cannot be opened, is not a database or fails `PRAGMA quick_check` is
//!   renamed `NAME.corrupt-UNIXTIME` (with its `-wal` and `-shm`, renamed alike), a new
//!   one is made and [`History::problem`] says so until the daemon restarts or reloads.
//!   Write errors are counted and logged, never fatal.
//! - Events older than `keep_events` are deleted every hour, 5,000 at a time
//!   between the commits of what is queued; texts are cut to bounded
//!   sizes ([`OUTPUT_MAX`], [`TEXT_MAX`]) on a character boundary.
//!
//! Files: the store and its `-wal` and `-shm` are mode 0600, in a directory opened
//! without following symlinks and refused when another user could write to it (the
//! state directory's rules, [`crate::retention::StateDir`]); a symlink in the place of
//! one of the files is moved aside, never followed.

use super::perf::{self, Archive, Consolidator};
use super::{Event, Kind, Time};
use hcoop_plugins::plugin::PerfData;
use rusqlite::{
    params, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, SyncSender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

/// The longest plugin output kept (bytes).
pub const OUTPUT_MAX: usize = 8 * 1024;
/// The longest other text kept (bytes): names, comments, authors, results.
pub const TEXT_MAX: usize = 1024;
/// How often the writer writes its heartbeat.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How long perfdata may wait in the writer before it is committed.
pub const PERF_FLUSH: Duration = Duration::from_secs(1);
/// How often the consolidator's upkeep runs when no perfdata comes.
pub const MAINTAIN_EVERY: Duration = Duration::from_secs(60);
/// How often events older than `keep_events` are deleted.
pub const EXPIRE_EVERY: Duration = Duration::from_secs(3600);
/// How many perfdata batches may wait for the writer: beyond it they are dropped (and
/// counted). Events are never dropped and never make their caller wait: their queue
/// is unbounded (the core records them under its lock).
pub const QUEUE: usize = 8192;
/// The comment of a `Stop` written for a run that ended without one.
pub const NOT_STOPPED: &str = "not stopped cleanly";
/// Read-only connections kept open for [`History::read`].
const READERS_KEPT: usize = 4;
/// Perfdata items the writer gathers before it commits them, whatever the time.
const PERF_BATCH: usize = 100_000;
/// Events deleted per transaction when expiring (the writer stays responsive).
const EXPIRE_CHUNK: usize = 5_000;

/// The `[history]` settings, resolved (see the configuration's documentation; the
/// configuration re-exports this as `config::HistorySettings`).
#[derive(Debug, Clone, PartialEq)]
pub struct HistorySettings {
    /// false: no store at all.
    pub enabled: bool,
    /// The store's file (default: `history.db` beside the state file).
    pub path: PathBuf,
    /// Whether perfdata is consolidated.
    pub perfdata: bool,
    /// The perfdata archives, finest first.
    pub archives: Vec<Archive>,
    /// Events older than this are deleted.
    pub keep_events: Duration,
}

/// `keep_events` unless set: four years (`"4y"`, years of 365.25 days).
pub const DEFAULT_KEEP_EVENTS: Duration = Duration::from_secs(4 * 31_557_600);

impl Default for HistorySettings {
    fn default() -> Self {
        HistorySettings {
            enabled: true,
            path: PathBuf::from("/var/lib/hcoop-monitor/history.db"),
            perfdata: true,
            archives: perf::default_archives(),
            keep_events: DEFAULT_KEEP_EVENTS,
        }
    }
}

/// The store, shared by the core, the API and the pages (a handle: cloning it is cheap).
#[derive(Clone)]
pub struct History {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "History({})", self.shared.path.display())
    }
}

struct Shared {
    /// The queue to the writer; `None` once closed.
    tx: Mutex<Option<Sender<Msg>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The store's path (for messages and the read connections).
    path: PathBuf,
    /// Kept open so the directory checked is the one written to for the store's life.
    _dir: crate::retention::StateDir,
    readers: Mutex<Vec<Connection>>,
    health: Arc<Health>,
}

impl Drop for Shared {
    /// The last handle gone without a close (no Stop recorded, as after a crash): the
    /// writer commits what it holds and ends before the store is let go.
    fn drop(&mut self) {
        drop(lock(&self.tx).take());
        if let Some(thread) = lock(&self.writer).take() {
            let _ = thread.join();
        }
    }
}

/// What went wrong, for [`History::problem`].
#[derive(Default)]
struct Health {
    /// Said at open (a store moved aside), kept until the problems are reset.
    opened: Mutex<Option<String>>,
    write_errors: AtomicU64,
    last_write_error: Mutex<Option<String>>,
    perf_dropped: AtomicU64,
    /// Perfdata batches sent and not yet taken by the writer (bounded by [`QUEUE`]).
    perf_queued: AtomicUsize,
    closed: AtomicBool,
}

impl Health {
    fn write_error(&self, what: &str, e: &dyn std::fmt::Display) {
        let n = self.write_errors.fetch_add(1, Ordering::Relaxed) + 1;
        let text = format!("{what}: {e}");
        tracing::error!("history store: {text} ({n} write errors so far)");
        *lock(&self.last_write_error) = Some(text);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

enum Msg {
    Event(Box<Event>, Promise),
    Perf(Box<PerfBatch>),
    Import(Vec<Event>, SyncSender<Result<usize, String>>),
    Close(String, Promise),
}

struct PerfBatch {
    host: String,
    service: Option<String>,
    at: Time,
    items: Vec<PerfData>,
}

// ---- tickets

#[derive(Default)]
struct TicketState {
    result: Option<bool>,
    wakers: Vec<Waker>,
}

#[derive(Default)]
struct TicketInner {
    state: Mutex<TicketState>,
    cv: Condvar,
}

/// An event on its way to the store: resolves to true once it is committed and synced,
/// false when it could not be written (or the store is closed).
#[derive(Clone, Default)]
pub struct Ticket(Arc<TicketInner>);

impl std::fmt::Debug for Ticket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ticket({:?})", lock(&self.0.state).result)
    }
}

impl Ticket {
    fn resolved(ok: bool) -> Ticket {
        let t = Ticket::default();
        t.resolve(ok);
        t
    }

    fn resolve(&self, ok: bool) {
        let mut s = lock(&self.0.state);
        if s.result.is_none() {
            s.result = Some(ok);
        }
        for w in s.wakers.drain(..) {
            w.wake();
        }
        drop(s);
        self.0.cv.notify_all();
    }

    /// Whether it is already resolved, and how.
    pub fn peek(&self) -> Option<bool> {
        lock(&self.0.state).result
    }

    /// Waits (blocking) at most `timeout`: true once committed; false when the write
    /// failed or the time ran out.
    pub fn wait(self, timeout: Duration) -> bool {
        let s = lock(&self.0.state);
        let (s, _) = self
            .0
            .cv
            .wait_timeout_while(s, timeout, |s| s.result.is_none())
            .unwrap_or_else(|e| e.into_inner());
        s.result.unwrap_or(false)
    }

    /// Waits (async) until it resolves: true once committed, false when the write
    /// failed or the store closed.
    pub async fn done(self) -> bool {
        std::future::poll_fn(|cx| {
            let mut s = lock(&self.0.state);
            match s.result {
                Some(r) => Poll::Ready(r),
                None => {
                    if !s.wakers.iter().any(|w| w.will_wake(cx.waker())) {
                        s.wakers.push(cx.waker().clone());
                    }
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// The writer's side of a ticket: resolved false if dropped unresolved (a message
/// the writer never got to, a writer gone), so no one waits on it forever.
struct Promise(Ticket);

impl Drop for Promise {
    fn drop(&mut self) {
        self.0.resolve(false);
    }
}

// ---- opening

/// The store's schema (the perfdata tables are the consolidator's).
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    host TEXT,
    service TEXT,
    state TEXT,
    hard INTEGER,
    attempt INTEGER,
    output TEXT,
    duration_ms INTEGER,
    author TEXT,
    comment TEXT,
    notification_type TEXT,
    method TEXT,
    result TEXT,
    downtime_id INTEGER,
    until INTEGER,
    sticky INTEGER
);
CREATE INDEX IF NOT EXISTS events_object ON events (host, service, at);
CREATE INDEX IF NOT EXISTS events_at ON events (at);
CREATE INDEX IF NOT EXISTS events_kind ON events (kind, at);
-- an object's last state, its downtimes before a window (state_events)
CREATE INDEX IF NOT EXISTS events_object_kind ON events (host, service, kind, at);
CREATE TABLE IF NOT EXISTS objects (
    host TEXT NOT NULL,
    service TEXT NOT NULL,
    PRIMARY KEY (host, service)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
";

/// The names of the store's files beside each other.
fn companions(name: &str) -> [String; 3] {
    [
        name.to_string(),
        format!("{name}-wal"),
        format!("{name}-shm"),
    ]
}

/// Checks that each of the store's files present is a regular file (never followed)
/// and makes it mode 0600.
fn check_files(dir: &crate::retention::StateDir, name: &str) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    for n in companions(name) {
        if !dir.exists(&n) {
            continue;
        }
        let f = dir
            .openat(&n, libc::O_RDONLY | libc::O_NONBLOCK, 0)
            .map_err(|e| match e.raw_os_error() {
                Some(libc::ELOOP) => format!("{} is a symbolic link", dir.show(&n)),
                _ => format!("{}: {e}", dir.show(&n)),
            })?;
        let meta = f.metadata().map_err(|e| format!("{}: {e}", dir.show(&n)))?;
        if !meta.file_type().is_file() {
            return Err(format!("{} is not a regular file", dir.show(&n)));
        }
        if meta.permissions().mode() & 0o077 != 0 {
            f.set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| format!("{}: cannot make it mode 0600: {e}", dir.show(&n)))?;
        }
    }
    Ok(())
}

fn open_flags(read_only: bool) -> OpenFlags {
    let rw = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
    };
    rw | OpenFlags::SQLITE_OPEN_NOFOLLOW | OpenFlags::SQLITE_OPEN_NO_MUTEX
}

/// Opens the write connection of an existing file and checks it whole.
fn open_writer(path: &Path) -> Result<Connection, String> {
    open_checked(path).map_err(|(_, e)| e)
}

/// Whether an error opening a store says nothing against the file (another process
/// holding its lock too long, a full disk, no memory, a read-only file system): the
/// store is then not moved aside.
fn transient(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::*;
    matches!(
        e.sqlite_error_code(),
        Some(DatabaseBusy | DatabaseLocked | DiskFull | OutOfMemory | ReadOnly)
    )
}

/// [`open_writer`], its error saying whether it is [`transient`].
fn open_checked(path: &Path) -> Result<Connection, (bool, String)> {
    let err = |e: rusqlite::Error| (transient(&e), e.to_string());
    let conn = Connection::open_with_flags(path, open_flags(false)).map_err(err)?;
    conn.busy_timeout(Duration::from_secs(10)).map_err(err)?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(err)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err((false, format!("cannot use WAL mode (journal mode {mode})")));
    }
    conn.execute_batch("PRAGMA synchronous=FULL").map_err(err)?;
    let check: String = conn
        .query_row("PRAGMA quick_check", [], |r| r.get(0))
        .map_err(err)?;
    if check != "ok" {
        return Err((false, format!("quick_check: {}", cut(&check, TEXT_MAX))));
    }
    conn.execute_batch(SCHEMA).map_err(err)?;
    Ok(conn)
}

/// Moves the store's files aside as `NAME.corrupt-UNIXTIME` (`-wal`, `-shm` after it, so
/// SQLite opens the copy whole); returns the new name of the store.
fn move_aside(dir: &crate::retention::StateDir, name: &str, now: Time) -> Result<String, String> {
    for n in 0..100 {
        let to = match n {
            0 => format!("{name}.corrupt-{now}"),
            _ => format!("{name}.corrupt-{now}.{n}"),
        };
        if companions(&to).iter().any(|c| dir.exists(c)) {
            continue;
        }
        for (from, into) in companions(name).iter().zip(companions(&to)) {
            if dir.exists(from) {
                dir.rename(from, &into, true)
                    .map_err(|e| format!("cannot rename {}: {e}", dir.show(from)))?;
            }
        }
        let _ = dir.sync();
        return Ok(to);
    }
    Err(format!("no free name to move {} aside", dir.show(name)))
}

/// Creates the store's file (mode 0600) when it is missing.
fn create_file(dir: &crate::retention::StateDir, name: &str) -> Result<(), String> {
    if dir.exists(name) {
        return Ok(());
    }
    dir.create_new(name)
        .map_err(|e| format!("cannot create {}: {e}", dir.show(name)))?;
    let _ = dir.sync();
    Ok(())
}

impl History {
    /// Opens (creates) the store; a store that cannot be opened or fails `PRAGMA
    /// quick_check` is renamed `history.db.corrupt-<unix time>` (with its -wal/-shm)
    /// and a new one made; [`History::problem`] then says so. Err only when not even a
    /// new one can be made. Records the `Stop` of a previous run that did not record
    /// one (at its last heartbeat), then a `Start` at `now`.
    pub fn open(settings: &HistorySettings, now: Time) -> Result<History, String> {
        let path = &settings.path;
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("history store {}: no file name", path.display()))?
            .to_string();
        let dir = crate::retention::StateDir::open(path)
            .map_err(|e| format!("history store {}: {e}", path.display()))?;
        let full = dir.path.join(&name);
        let health = Arc::new(Health::default());
        let first = check_files(&dir, &name)
            .and_then(|()| create_file(&dir, &name))
            .and_then(|()| check_files(&dir, &name))
            .map_err(|e| (false, e))
            .and_then(|()| open_checked(&full));
        let conn = match first {
            Ok(c) => c,
            Err((true, why)) => return Err(format!("history store {}: {why}", full.display())),
            Err((false, why)) => {
                let moved = move_aside(&dir, &name, now)
                    .map_err(|e| format!("history store {}: {why}; {e}", full.display()))?;
                let said = format!(
                    "history store {} could not be used ({why}): moved aside to {}, a new one was made",
                    full.display(),
                    dir.show(&moved)
                );
                tracing::error!("{said}");
                *lock(&health.opened) = Some(said);
                create_file(&dir, &name)
                    .and_then(|()| check_files(&dir, &name))
                    .and_then(|()| open_writer(&full))
                    .map_err(|e| format!("history store {}: {e}", full.display()))?
            }
        };
        let mut writer = Writer {
            conn,
            consolidator: None,
            archives: settings.archives.clone(),
            perf_enabled: settings.perfdata,
            keep_events: settings.keep_events,
            health: health.clone(),
            perf: Vec::new(),
            perf_items: 0,
            perf_since: None,
            last_heartbeat: Instant::now(),
            last_expire: None,
            expiring: false,
            last_maintain: Instant::now(),
            offset: now as i64 - crate::clock::unix_now() as i64,
        };
        writer
            .start(now)
            .map_err(|e| format!("history store {}: {e}", full.display()))?;
        if settings.perfdata {
            match Consolidator::open(&writer.conn, &settings.archives) {
                Ok(c) => writer.consolidator = Some(c),
                Err(e) => writer
                    .health
                    .write_error("cannot open the perfdata archives", &e),
            }
        }
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("history".into())
            .spawn(move || writer.run(rx))
            .map_err(|e| format!("history store: cannot start its writer: {e}"))?;
        Ok(History {
            shared: Arc::new(Shared {
                tx: Mutex::new(Some(tx)),
                writer: Mutex::new(Some(thread)),
                path: full,
                _dir: dir,
                readers: Mutex::new(Vec::new()),
                health,
            }),
        })
    }

    /// The store's file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    fn sender(&self) -> Option<Sender<Msg>> {
        lock(&self.shared.tx).clone()
    }

    /// Queues an event; the returned ticket resolves once it is committed and synced.
    /// Never blocks (the events' queue is unbounded; events are never dropped).
    pub fn record(&self, e: Event) -> Ticket {
        let Some(tx) = self.sender() else {
            return Ticket::resolved(false);
        };
        let t = Ticket::default();
        match tx.send(Msg::Event(Box::new(e), Promise(t.clone()))) {
            Ok(()) => t,
            Err(_) => Ticket::resolved(false),
        }
    }

    /// Queues a check's perfdata; committed within 1 s (kill -9 loses at most that
    /// second). Dropped (and counted) when the queue is full; nothing when perfdata is
    /// off or `items` is empty.
    pub fn perfdata(&self, host: &str, service: Option<&str>, at: Time, items: &[PerfData]) {
        if items.is_empty() {
            return;
        }
        let Some(tx) = self.sender() else { return };
        let batch = PerfBatch {
            host: cut(host, TEXT_MAX),
            service: service.map(|s| cut(s, TEXT_MAX)),
            at,
            items: items.to_vec(),
        };
        let health = &self.shared.health;
        let queued = health.perf_queued.fetch_add(1, Ordering::Relaxed);
        if queued < QUEUE {
            if tx.send(Msg::Perf(Box::new(batch))).is_err() {
                health.perf_queued.fetch_sub(1, Ordering::Relaxed);
            }
        } else {
            health.perf_queued.fetch_sub(1, Ordering::Relaxed);
            let n = health.perf_dropped.fetch_add(1, Ordering::Relaxed);
            if n.is_power_of_two() || n == 0 {
                tracing::warn!(
                    "history store: queue full, perfdata dropped ({} so far)",
                    n + 1
                );
            }
        }
    }

    /// Runs `f` on a read-only connection of its own (WAL: never blocks the writer).
    /// Blocking: call from spawn_blocking in async handlers.
    pub fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, String> {
        let conn = match lock(&self.shared.readers).pop() {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(&self.shared.path, open_flags(true))
                    .map_err(|e| format!("history store {}: {e}", self.shared.path.display()))?;
                c.busy_timeout(Duration::from_secs(10))
                    .map_err(|e| e.to_string())?;
                c
            }
        };
        let r = f(&conn).map_err(|e| format!("history store: {e}"));
        let mut kept = lock(&self.shared.readers);
        if kept.len() < READERS_KEPT {
            kept.push(conn);
        }
        r
    }

    /// What is wrong, for the `hcoop-monitor/history` self-check (None: healthy): a
    /// store moved aside at open, write errors, perfdata dropped, the writer gone.
    /// Kept until [`History::reset_problems`] (a reload) or a restart.
    pub fn problem(&self) -> Option<String> {
        let h = &self.shared.health;
        let mut said = Vec::new();
        if let Some(o) = lock(&h.opened).clone() {
            said.push(o);
        }
        let errors = h.write_errors.load(Ordering::Relaxed);
        if errors > 0 {
            let last = lock(&h.last_write_error).clone().unwrap_or_default();
            said.push(format!(
                "{errors} write errors in the history store, the last: {last}"
            ));
        }
        let dropped = h.perf_dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            said.push(format!(
                "perfdata of {dropped} results dropped (history store queue full)"
            ));
        }
        if !h.closed.load(Ordering::Relaxed) && self.writer_gone() {
            said.push("the history store's writer stopped".to_string());
        }
        (!said.is_empty()).then(|| said.join("; "))
    }

    fn writer_gone(&self) -> bool {
        lock(&self.shared.writer)
            .as_ref()
            .is_some_and(|t| t.is_finished())
    }

    /// Forgets the problems reported so far (on a reload: the self-check then shows
    /// only what happens from now on).
    pub fn reset_problems(&self) {
        let h = &self.shared.health;
        *lock(&h.opened) = None;
        h.write_errors.store(0, Ordering::Relaxed);
        *lock(&h.last_write_error) = None;
        h.perf_dropped.store(0, Ordering::Relaxed);
    }

    /// Records a Stop event (comment `why`), flushes and joins the writer. Later
    /// records resolve false at once; a second close does nothing.
    pub fn close(&self, why: &str) {
        let Some(tx) = lock(&self.shared.tx).take() else {
            return;
        };
        self.shared.health.closed.store(true, Ordering::Relaxed);
        let t = Ticket::default();
        let _ = tx.send(Msg::Close(cut(why, TEXT_MAX), Promise(t)));
        drop(tx);
        if let Some(thread) = lock(&self.shared.writer).take() {
            let _ = thread.join();
        }
    }

    /// Inserts already-made events in one transaction (import), returns how many were
    /// new: an event equal to one stored (same time, kind, object, state, type,
    /// attempt, output, author, comment, notification type and method) is skipped, so
    /// importing the same events twice adds nothing.
    pub fn import(&self, events: Vec<Event>) -> Result<usize, String> {
        let tx = self
            .sender()
            .ok_or_else(|| "history store closed".to_string())?;
        let (reply, answer) = mpsc::sync_channel(1);
        tx.send(Msg::Import(events, reply))
            .map_err(|_| "history store closed".to_string())?;
        answer
            .recv()
            .map_err(|_| "history store: its writer stopped".to_string())?
    }
}

// ---- the writer

struct Writer {
    conn: Connection,
    consolidator: Option<Consolidator>,
    archives: Vec<Archive>,
    perf_enabled: bool,
    keep_events: Duration,
    health: Arc<Health>,
    perf: Vec<PerfBatch>,
    perf_items: usize,
    perf_since: Option<Instant>,
    last_heartbeat: Instant,
    last_expire: Option<Instant>,
    /// An expiry under way: old events are left after its last chunk.
    expiring: bool,
    /// When the consolidator last closed its rows (with or without new perfdata).
    last_maintain: Instant,
    /// The daemon's clock (the `now` it opened the store at) less the system's: the
    /// writer's own times (heartbeat, stop, expiry, upkeep) are on the daemon's clock.
    offset: i64,
}

fn alive_at(tx: &Connection, at: Time) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('alive_at', ?1)",
        params![at as i64],
    )?;
    Ok(())
}

impl Writer {
    /// Now on the daemon's clock.
    fn now(&self) -> Time {
        (crate::clock::unix_now() as i64)
            .saturating_add(self.offset)
            .max(0) as Time
    }

    /// The previous run's `Stop` when it has none, then this run's `Start`.
    fn start(&mut self, now: Time) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let last: Option<String> = tx
            .query_row(
                "SELECT kind FROM events WHERE kind IN ('start', 'stop') ORDER BY at DESC, id DESC LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()?;
        if last.as_deref() == Some("start") {
            let alive: Option<i64> = tx
                .query_row("SELECT value FROM meta WHERE key = 'alive_at'", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let latest: Option<i64> =
                tx.query_row("SELECT MAX(at) FROM events", [], |r| r.get(0))?;
            let at = alive.unwrap_or(0).max(latest.unwrap_or(0)).min(now as i64);
            let mut stop = Event::new(Kind::Stop, at as Time, None, None);
            stop.comment = Some(NOT_STOPPED.to_string());
            insert(&tx, &stop)?;
        }
        insert(&tx, &Event::new(Kind::Start, now, None, None))?;
        alive_at(&tx, now)?;
        tx.commit()
    }

    fn run(mut self, rx: Receiver<Msg>) {
        let mut closing = None;
        loop {
            let wait = self.next_wake();
            let mut batch = Vec::new();
            match rx.recv_timeout(wait) {
                Ok(m) => {
                    batch.push(m);
                    // group commit: whatever else is queued goes into the same one
                    while batch.len() < QUEUE {
                        match rx.try_recv() {
                            Ok(m) => batch.push(m),
                            Err(_) => break,
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush_perf();
                    self.heartbeat(self.now());
                    return;
                }
            }
            let mut events = Vec::new();
            for m in batch {
                match m {
                    Msg::Event(e, t) => events.push((e, t)),
                    Msg::Perf(p) => {
                        self.health.perf_queued.fetch_sub(1, Ordering::Relaxed);
                        if self.perf_enabled {
                            self.perf_items += p.items.len();
                            self.perf_since.get_or_insert_with(Instant::now);
                            self.perf.push(*p);
                        }
                    }
                    Msg::Import(list, reply) => {
                        self.commit_events(std::mem::take(&mut events));
                        let r = self.import(list);
                        if let Err(e) = &r {
                            self.health.write_error("import", e);
                        }
                        let _ = reply.send(r);
                    }
                    Msg::Close(why, t) => closing = Some((why, t)),
                }
            }
            if let Some((why, t)) = closing.take() {
                let mut stop = Event::new(Kind::Stop, self.now(), None, None);
                stop.comment = Some(why);
                events.push((Box::new(stop), t));
                self.flush_perf();
                self.commit_events(events);
                return;
            }
            self.commit_events(events);
            self.timers();
        }
    }

    /// How long the writer may sleep before it has something to do unasked.
    fn next_wake(&self) -> Duration {
        let mut wait = HEARTBEAT.saturating_sub(self.last_heartbeat.elapsed());
        if let Some(since) = self.perf_since {
            wait = wait.min(PERF_FLUSH.saturating_sub(since.elapsed()));
        }
        if self.expiring {
            // the next chunk once what is queued is committed
            wait = Duration::ZERO;
        }
        wait.max(Duration::from_millis(1))
    }

    fn timers(&mut self) {
        if self
            .perf_since
            .is_some_and(|s| s.elapsed() >= PERF_FLUSH || self.perf_items >= PERF_BATCH)
        {
            self.flush_perf();
        }
        if self.last_heartbeat.elapsed() >= HEARTBEAT {
            self.heartbeat(self.now());
        }
        if self.perf.is_empty() && self.last_maintain.elapsed() >= MAINTAIN_EVERY {
            // quiet metrics' rows are closed and old chunks expired all the same
            self.flush_perf();
        }
        if self.expiring || self.last_expire.is_none_or(|t| t.elapsed() >= EXPIRE_EVERY) {
            if !self.expiring {
                self.last_expire = Some(Instant::now());
            }
            self.expire(self.now());
        }
    }

    fn heartbeat(&mut self, now: Time) {
        self.last_heartbeat = Instant::now();
        let r = self
            .conn
            .execute_batch("PRAGMA synchronous=NORMAL")
            .and_then(|()| alive_at(&self.conn, now));
        if let Err(e) = r {
            self.health.write_error("heartbeat", &e);
        }
    }

    /// Commits `events` at once (synced), then resolves their tickets.
    fn commit_events(&mut self, events: Vec<(Box<Event>, Promise)>) {
        if events.is_empty() {
            return;
        }
        let r = (|| {
            self.conn.execute_batch("PRAGMA synchronous=FULL")?;
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            for (e, _) in &events {
                insert(&tx, e)?;
            }
            tx.commit()
        })();
        let ok = match r {
            Ok(()) => true,
            Err(e) => {
                self.health
                    .write_error(&format!("{} events not written", events.len()), &e);
                false
            }
        };
        for (_, t) in events {
            t.0.resolve(ok);
        }
    }

    /// Commits the perfdata gathered (and the consolidator's upkeep).
    fn flush_perf(&mut self) {
        self.perf_since = None;
        self.perf_items = 0;
        let batches = std::mem::take(&mut self.perf);
        let now = self.now();
        if batches.is_empty() && self.last_maintain.elapsed() < MAINTAIN_EVERY {
            return;
        }
        let Some(c) = self.consolidator.as_mut() else {
            return;
        };
        self.last_maintain = Instant::now();
        let conn = &mut self.conn;
        // a bug in the consolidation must not take the events' writer down with it
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            conn.execute_batch("PRAGMA synchronous=NORMAL")?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            for b in &batches {
                for item in &b.items {
                    c.add(&tx, &b.host, b.service.as_deref(), b.at, item)?;
                }
            }
            c.maintain(&tx, now)?;
            tx.commit()
        }));
        let failed = match r {
            Ok(Ok(())) => return,
            Ok(Err(e)) => e.to_string(),
            Err(panic) => format!(
                "internal error: {}",
                hcoop_plugins::plugin::runner::panic_message(&*panic)
            ),
        };
        let n: usize = batches.iter().map(|b| b.items.len()).sum();
        self.health
            .write_error(&format!("{n} perfdata values not written"), &failed);
        // the consolidator's rows in memory may now be ahead of the store's
        self.consolidator = match Consolidator::open(&self.conn, &self.archives) {
            Ok(c) => Some(c),
            Err(e) => {
                self.health
                    .write_error("cannot reopen the perfdata archives", &e);
                None
            }
        };
    }

    /// Deletes a chunk of the events older than `keep_events`; while some are left
    /// the writer comes back for the next chunk once it has committed what is queued
    /// (an expiry of millions of events never holds the events behind it).
    fn expire(&mut self, now: Time) {
        let before = now.saturating_sub(self.keep_events.as_secs()) as i64;
        self.expiring = match expire_chunk(&self.conn, before) {
            Ok(more) => more,
            Err(e) => {
                self.health.write_error("expiring old events", &e);
                false
            }
        };
    }

    fn import(&mut self, list: Vec<Event>) -> Result<usize, String> {
        import_events(&mut self.conn, &list)
    }
}

/// Deletes at most [`EXPIRE_CHUNK`] events older than `before`; whether a whole chunk
/// went (more may be left).
fn expire_chunk(conn: &Connection, before: i64) -> rusqlite::Result<bool> {
    let n = conn.execute(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE at < ?1 LIMIT ?2)",
        params![before, EXPIRE_CHUNK as i64],
    )?;
    Ok(n >= EXPIRE_CHUNK)
}

/// Inserts the events of `list` not stored yet, in one transaction (see
/// [`History::import`]); returns how many were new.
fn import_events(conn: &mut Connection, list: &[Event]) -> Result<usize, String> {
    {
        let r = (|| {
            conn.execute_batch("PRAGMA synchronous=FULL")?;
            // immediate, as every write transaction here: the write lock is taken
            // (waiting the busy timeout) before the first read, since a deferred
            // transaction that reads and then writes fails at once with "database is
            // locked" when another process (an import) committed in between
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut added = 0;
            {
                let mut same = tx.prepare_cached(
                    "SELECT 1 FROM events WHERE host IS ?1 AND service IS ?2 AND at = ?3 \
                     AND kind = ?4 AND state IS ?5 AND hard IS ?6 AND attempt IS ?7 \
                     AND output IS ?8 AND author IS ?9 AND comment IS ?10 \
                     AND notification_type IS ?11 AND method IS ?12 LIMIT 1",
                )?;
                for e in list {
                    let e = bounded(e);
                    let known = same.exists(params![
                        e.host,
                        e.service,
                        e.at as i64,
                        e.kind.name(),
                        e.state,
                        e.hard,
                        e.attempt,
                        e.output,
                        e.author,
                        e.comment,
                        e.notification_type,
                        e.method
                    ])?;
                    if !known {
                        insert(&tx, &e)?;
                        added += 1;
                    }
                }
            }
            tx.commit()?;
            Ok::<_, rusqlite::Error>(added)
        })();
        r.map_err(|e| format!("import not written: {e}"))
    }
}

/// The store opened to import into it from another process (`hcoop-monitor import
/// nagios-log`) while the daemon may be running: no writer thread, no Start or Stop
/// recorded, SQLite's lock and busy timeout ordering its transactions with the
/// daemon's. The store must exist (the daemon makes it, owned by its user); one that
/// fails its check is refused, never moved aside from here.
pub struct Importer {
    conn: Connection,
    path: PathBuf,
}

impl Importer {
    pub fn open(settings: &HistorySettings) -> Result<Importer, String> {
        let path = settings.path.clone();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| format!("history store {}: no file name", path.display()))?
            .to_string();
        let dir = crate::retention::StateDir::open(&path)
            .map_err(|e| format!("history store {}: {e}", path.display()))?;
        if !dir.exists(&name) {
            return Err(format!(
                "no history store at {}: run the daemon once with [history] enabled to make it",
                path.display()
            ));
        }
        match check_files(&dir, &name).and_then(|()| open_writer(&dir.path.join(&name))) {
            Ok(conn) => Ok(Importer { conn, path }),
            Err(e) => Err(format!("history store {}: {e}", path.display())),
        }
    }

    /// As [`History::import`]: the events not stored yet, in one transaction.
    pub fn import(&mut self, events: &[Event]) -> Result<usize, String> {
        import_events(&mut self.conn, events)
    }

    /// Closes the store; as root, gives the files SQLite made beside it (`-wal`,
    /// `-shm`) to the store's owner, so the daemon can open them.
    pub fn close(self) -> Result<(), String> {
        let Importer { conn, path } = self;
        conn.close()
            .map_err(|(_, e)| format!("history store {}: {e}", path.display()))?;
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            use std::os::unix::fs::MetadataExt;
            let owner = std::fs::symlink_metadata(&path)
                .map_err(|e| format!("history store {}: {e}", path.display()))?;
            for suffix in ["-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let p = PathBuf::from(p);
                if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_file()) {
                    std::os::unix::fs::lchown(&p, Some(owner.uid()), Some(owner.gid()))
                        .map_err(|e| format!("{}: {e}", p.display()))?;
                }
            }
        }
        Ok(())
    }
}

// ---- rows

/// `s` cut to at most `max` bytes on a character boundary.
pub fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// The event with its texts cut to the stored sizes.
fn bounded(e: &Event) -> Event {
    let t = |s: &Option<String>| s.as_deref().map(|s| cut(s, TEXT_MAX));
    Event {
        output: e.output.as_deref().map(|s| cut(s, OUTPUT_MAX)),
        host: t(&e.host),
        service: t(&e.service),
        state: t(&e.state),
        author: t(&e.author),
        comment: t(&e.comment),
        notification_type: t(&e.notification_type),
        method: t(&e.method),
        result: t(&e.result),
        ..e.clone()
    }
}

fn insert(tx: &Transaction, e: &Event) -> rusqlite::Result<()> {
    let e = bounded(e);
    tx.prepare_cached(
        "INSERT INTO events (at, kind, host, service, state, hard, attempt, output, \
         duration_ms, author, comment, notification_type, method, result, downtime_id, \
         until, sticky) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, \
         ?14, ?15, ?16, ?17)",
    )?
    .execute(params![
        e.at as i64,
        e.kind.name(),
        e.host,
        e.service,
        e.state,
        e.hard,
        e.attempt,
        e.output,
        e.duration_ms.map(|d| d.min(i64::MAX as u64) as i64),
        e.author,
        e.comment,
        e.notification_type,
        e.method,
        e.result,
        e.downtime_id.map(|d| d.min(i64::MAX as u64) as i64),
        e.until.map(|d| d.min(i64::MAX as u64) as i64),
        e.sticky,
    ])?;
    if let Some(h) = &e.host {
        tx.prepare_cached("INSERT OR IGNORE INTO objects (host, service) VALUES (?1, ?2)")?
            .execute(params![h, e.service.as_deref().unwrap_or("")])?;
    }
    Ok(())
}

const COLUMNS: &str = "id, at, kind, host, service, state, hard, attempt, output, duration_ms, \
    author, comment, notification_type, method, result, downtime_id, until, sticky";

fn unsigned(v: Option<i64>) -> Option<u64> {
    v.map(|v| v.max(0) as u64)
}

/// An event of a row of [`COLUMNS`]; `None` for a kind this version does not know.
fn row_event(r: &rusqlite::Row) -> rusqlite::Result<Option<Event>> {
    let kind: String = r.get(2)?;
    let Some(kind) = Kind::parse(&kind) else {
        return Ok(None);
    };
    Ok(Some(Event {
        id: r.get(0)?,
        at: r.get::<_, i64>(1)?.max(0) as Time,
        kind,
        host: r.get(3)?,
        service: r.get(4)?,
        state: r.get(5)?,
        hard: r.get(6)?,
        attempt: r.get(7)?,
        output: r.get(8)?,
        duration_ms: unsigned(r.get(9)?),
        author: r.get(10)?,
        comment: r.get(11)?,
        notification_type: r.get(12)?,
        method: r.get(13)?,
        result: r.get(14)?,
        downtime_id: unsigned(r.get(15)?),
        until: unsigned(r.get(16)?),
        sticky: r.get(17)?,
    }))
}

fn collect(
    stmt: &mut rusqlite::Statement,
    params: impl rusqlite::Params,
    out: &mut Vec<Event>,
) -> rusqlite::Result<()> {
    let mut rows = stmt.query(params)?;
    while let Some(r) = rows.next()? {
        if let Some(e) = row_event(r)? {
            out.push(e);
        }
    }
    Ok(())
}

// ---- queries

/// Which events [`events`] returns: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventFilter {
    /// The host (its own events and its services').
    pub host: Option<String>,
    /// The service (with `host`: that host's; alone: of any host).
    pub service: Option<String>,
    /// These kinds only (empty: all).
    pub kinds: Vec<Kind>,
    /// At or after.
    pub since: Option<Time>,
    /// At or before.
    pub until: Option<Time>,
    /// Contained in the output, comment, author, contact, host or service name (case
    /// insensitive for ASCII).
    pub text: Option<String>,
    /// At most this many (0: no limit).
    pub limit: usize,
}

/// The events `f` selects, newest first.
pub fn events(conn: &Connection, f: &EventFilter) -> rusqlite::Result<Vec<Event>> {
    let mut sql = format!("SELECT {COLUMNS} FROM events WHERE 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut arg = |sql: &mut String, cond: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&cond.replace('?', &format!("?{}", args.len())));
    };
    if let Some(h) = &f.host {
        arg(&mut sql, " AND host = ?", h.clone().into());
    }
    if let Some(s) = &f.service {
        arg(&mut sql, " AND service = ?", s.clone().into());
    }
    if let Some(t) = f.since {
        arg(
            &mut sql,
            " AND at >= ?",
            (t.min(i64::MAX as u64) as i64).into(),
        );
    }
    if let Some(t) = f.until {
        arg(
            &mut sql,
            " AND at <= ?",
            (t.min(i64::MAX as u64) as i64).into(),
        );
    }
    if let Some(text) = f.text.as_deref().filter(|t| !t.is_empty()) {
        let text = text.to_ascii_lowercase();
        let n = args.len() + 1;
        args.push(text.into());
        sql.push_str(&format!(
            " AND (instr(lower(output), ?{n}) OR instr(lower(comment), ?{n}) \
             OR instr(lower(author), ?{n}) OR instr(lower(host), ?{n}) \
             OR instr(lower(service), ?{n}) OR instr(lower(result), ?{n}))"
        ));
    }
    if !f.kinds.is_empty() {
        let names: Vec<String> = f.kinds.iter().map(|k| format!("'{}'", k.name())).collect();
        sql.push_str(&format!(" AND kind IN ({})", names.join(", ")));
    }
    sql.push_str(" ORDER BY at DESC, id DESC");
    if f.limit > 0 {
        sql.push_str(&format!(" LIMIT {}", f.limit));
    }
    let mut stmt = conn.prepare(&sql)?;
    let mut out = Vec::new();
    collect(&mut stmt, rusqlite::params_from_iter(args), &mut out)?;
    Ok(out)
}

/// The kinds [`state_events`] returns.
pub const STATE_KINDS: [Kind; 4] = [
    Kind::State,
    Kind::DowntimeStart,
    Kind::DowntimeEnd,
    Kind::DowntimeCancel,
];

/// State events and downtime starts, ends and cancellations of every host and service
/// in [from, to], plus, per object, its last State event before `from` and its
/// downtimes that started before `from` and had not ended by then (their last event
/// before `from` is a `DowntimeStart`); oldest first.
pub fn state_events(conn: &Connection, from: Time, to: Time) -> rusqlite::Result<Vec<Event>> {
    let (from, to) = (
        from.min(i64::MAX as u64) as i64,
        to.min(i64::MAX as u64) as i64,
    );
    let mut out = Vec::new();
    let objects: Vec<(String, String)> = conn
        .prepare("SELECT host, service FROM objects")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut last_state = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM events WHERE host = ?1 AND service IS ?2 AND at < ?3 \
         AND kind = 'state' ORDER BY at DESC, id DESC LIMIT 1"
    ))?;
    let mut open_downtimes = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM events WHERE id IN (SELECT id FROM (SELECT id, kind, \
         downtime_id, MAX(at * 4294967296 + id) FROM events WHERE host = ?1 AND service IS ?2 \
         AND at < ?3 AND kind IN ('downtime_start', 'downtime_end', 'downtime_cancel') \
         GROUP BY downtime_id) WHERE kind = 'downtime_start')"
    ))?;
    for (host, service) in &objects {
        let service = (!service.is_empty()).then_some(service.as_str());
        collect(&mut last_state, params![host, service, from], &mut out)?;
        collect(&mut open_downtimes, params![host, service, from], &mut out)?;
    }
    let mut within = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM events WHERE kind = ?1 AND at >= ?2 AND at <= ?3"
    ))?;
    for k in STATE_KINDS {
        collect(&mut within, params![k.name(), from, to], &mut out)?;
    }
    out.retain(|e| e.host.is_some());
    out.sort_by_key(|e| (e.at, e.id));
    Ok(out)
}

/// The intervals the daemon was running in [from, to] (Start .. Stop pairs, cut to
/// the window; a crash's Stop is written at the next start, at the last heartbeat; the
/// run going on now lasts until `to`), oldest first. A Start after a Start without a
/// Stop between (imported logs) ends the earlier run there.
pub fn runs(conn: &Connection, from: Time, to: Time) -> rusqlite::Result<Vec<(Time, Time)>> {
    let (f, t) = (
        from.min(i64::MAX as u64) as i64,
        to.min(i64::MAX as u64) as i64,
    );
    let mut marks: Vec<(i64, i64, bool)> = Vec::new();
    let mut read = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<()> {
        let mut stmt = conn.prepare(sql)?;
        let rows = stmt.query_map(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)? == "start",
            ))
        })?;
        for row in rows {
            marks.push(row?);
        }
        Ok(())
    };
    read(
        "SELECT at, id, kind FROM events WHERE kind IN ('start', 'stop') AND at < ?1 \
         ORDER BY at DESC, id DESC LIMIT 1",
        &[&f],
    )?;
    read(
        "SELECT at, id, kind FROM events WHERE kind IN ('start', 'stop') AND at >= ?1 \
         AND at <= ?2 ORDER BY at, id",
        &[&f, &t],
    )?;
    marks.sort();
    let mut out: Vec<(Time, Time)> = Vec::new();
    let mut push = |a: i64, b: i64| {
        let (a, b) = (a.max(f), b.min(t));
        if b > a {
            match out.last_mut() {
                Some(last) if last.1 >= a as Time => last.1 = last.1.max(b as Time),
                _ => out.push((a as Time, b as Time)),
            }
        }
    };
    let mut open: Option<i64> = None;
    for (at, _, start) in marks {
        if let Some(s) = open.take() {
            push(s, at);
        }
        if start {
            open = Some(at);
        }
    }
    if let Some(s) = open {
        push(s, t);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    const WAIT: Duration = Duration::from_secs(10);

    fn settings(dir: &Path) -> HistorySettings {
        HistorySettings {
            path: dir.join("history.db"),
            // the tests' events are from 1970: not expired
            keep_events: Duration::from_secs(100 * 31_557_600),
            ..HistorySettings::default()
        }
    }

    fn temp() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
        t
    }

    fn state(at: Time, host: &str, service: Option<&str>, state: &str, output: &str) -> Event {
        Event {
            state: Some(state.into()),
            hard: Some(true),
            attempt: Some(1),
            output: Some(output.into()),
            ..Event::new(Kind::State, at, Some(host), service)
        }
    }

    fn all(h: &History) -> Vec<Event> {
        h.read(|c| events(c, &EventFilter::default())).unwrap()
    }

    #[test]
    fn events_round_trip_through_the_filters() {
        let t = temp();
        let h = History::open(&settings(t.path()), 1_000).unwrap();
        let mut ack = Event::new(Kind::Ack, 1_020, Some("web"), Some("http"));
        ack.author = Some("alice".into());
        ack.comment = Some("Looking into it".into());
        ack.sticky = Some(true);
        ack.until = Some(2_000);
        let mut note = Event::new(Kind::Notification, 1_015, Some("web"), Some("http"));
        note.state = Some("CRITICAL".into());
        note.author = Some("oncall".into());
        note.notification_type = Some("PROBLEM".into());
        note.method = Some("email".into());
        note.result = Some("sent".into());
        note.output = Some("HTTP CRITICAL: 503".into());
        let list = [
            state(1_010, "web", Some("http"), "CRITICAL", "HTTP CRITICAL: 503"),
            note.clone(),
            ack.clone(),
            state(1_030, "web", None, "DOWN", "PING CRITICAL"),
            state(1_040, "db", Some("pgsql"), "OK", "connected"),
        ];
        let tickets: Vec<Ticket> = list.iter().map(|e| h.record(e.clone())).collect();
        assert!(tickets.into_iter().all(|t| t.wait(WAIT)));

        let got = all(&h);
        // newest first, the open's Start last
        let kinds: Vec<Kind> = got.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::State,
                Kind::State,
                Kind::Ack,
                Kind::Notification,
                Kind::State,
                Kind::Start
            ]
        );
        assert!(got
            .windows(2)
            .all(|w| w[0].id != w[1].id && w[0].at >= w[1].at));
        let stored_ack = got.iter().find(|e| e.kind == Kind::Ack).unwrap();
        assert!(stored_ack.id > 0);
        assert_eq!(
            Event {
                id: 0,
                ..stored_ack.clone()
            },
            ack
        );
        let stored_note = got.iter().find(|e| e.kind == Kind::Notification).unwrap();
        assert_eq!(
            Event {
                id: 0,
                ..stored_note.clone()
            },
            note
        );

        let filter = |f: EventFilter| -> Vec<(Time, String)> {
            h.read(|c| events(c, &f))
                .unwrap()
                .into_iter()
                .map(|e| (e.at, e.object()))
                .collect()
        };
        let web = EventFilter {
            host: Some("web".into()),
            ..Default::default()
        };
        assert_eq!(
            filter(web.clone()),
            [
                (1_030, "web".to_string()),
                (1_020, "web/http".into()),
                (1_015, "web/http".into()),
                (1_010, "web/http".into())
            ]
        );
        assert_eq!(
            filter(EventFilter {
                service: Some("http".into()),
                kinds: vec![Kind::State, Kind::Ack],
                ..web.clone()
            }),
            [(1_020, "web/http".to_string()), (1_010, "web/http".into())]
        );
        assert_eq!(
            filter(EventFilter {
                since: Some(1_015),
                until: Some(1_030),
                limit: 2,
                ..Default::default()
            }),
            [(1_030, "web".to_string()), (1_020, "web/http".into())]
        );
        // text: in the output, the comment or the contact, ASCII case ignored
        assert_eq!(
            filter(EventFilter {
                text: Some("looking".into()),
                ..Default::default()
            }),
            [(1_020, "web/http".to_string())]
        );
        assert_eq!(
            filter(EventFilter {
                text: Some("503".into()),
                ..Default::default()
            }),
            [(1_015, "web/http".to_string()), (1_010, "web/http".into())]
        );
        assert_eq!(
            filter(EventFilter {
                kinds: vec![Kind::Start],
                ..Default::default()
            }),
            [(1_000, String::new())]
        );
        h.close("test over");
    }

    #[test]
    fn a_ticket_resolves_only_after_the_commit() {
        let t = temp();
        let h = History::open(&settings(t.path()), 1_000).unwrap();
        // another connection holds the write lock: the writer cannot commit
        let blocker = Connection::open(t.path().join("history.db")).unwrap();
        blocker.execute_batch("BEGIN IMMEDIATE").unwrap();
        let ticket = h.record(state(1_001, "a", None, "DOWN", "down"));
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(ticket.peek(), None, "resolved before its commit");
        let seen = |h: &History| {
            h.read(|c| {
                events(
                    c,
                    &EventFilter {
                        kinds: vec![Kind::State],
                        ..Default::default()
                    },
                )
            })
            .unwrap()
            .len()
        };
        assert_eq!(seen(&h), 0);
        blocker.execute_batch("COMMIT").unwrap();
        assert!(ticket.clone().wait(WAIT));
        assert_eq!(ticket.peek(), Some(true));
        assert_eq!(seen(&h), 1);
        // the async side
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let t2 = h.record(state(1_002, "a", None, "UP", "up"));
        assert!(rt.block_on(t2.done()));
        h.close("test over");
        // closed: at once, false
        assert!(!h.record(state(1_003, "a", None, "UP", "up")).wait(WAIT));
    }

    #[test]
    fn a_run_without_stop_gets_one_at_its_last_heartbeat() {
        let t = temp();
        let s = settings(t.path());
        let now = crate::clock::unix_now();
        let h = History::open(&s, now - 3_600).unwrap();
        assert!(h
            .record(state(now - 3_500, "a", None, "DOWN", "down"))
            .wait(WAIT));
        // the daemon dies: no close, its writer goes with the last handle; its last
        // heartbeat was at now - 3000
        drop(h);
        Connection::open(&s.path)
            .unwrap()
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'alive_at'",
                [now as i64 - 3_000],
            )
            .unwrap();
        let h = History::open(&s, now).unwrap();
        let got = all(&h);
        let kinds: Vec<Kind> = got.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [Kind::Start, Kind::Stop, Kind::State, Kind::Start]);
        assert_eq!(got[1].at, now - 3_000);
        assert_eq!(got[1].comment.as_deref(), Some(NOT_STOPPED));
        assert_eq!(got[0].at, now);
        let ran = h.read(|c| runs(c, now - 4_000, now + 10)).unwrap();
        assert_eq!(ran, [(now - 3_600, now - 3_000), (now, now + 10)]);
        h.close("stopped by test");
        // a clean stop: no crash stop written at the next start
        let h = History::open(&s, crate::clock::unix_now()).unwrap();
        let got = all(&h);
        let kinds: Vec<Kind> = got.iter().take(3).map(|e| e.kind).collect();
        assert_eq!(kinds, [Kind::Start, Kind::Stop, Kind::Start]);
        assert_eq!(got[1].comment.as_deref(), Some("stopped by test"));
        assert_eq!(h.problem(), None);
        h.close("test over");
    }

    #[test]
    fn a_garbage_store_is_moved_aside_and_a_new_one_works() {
        let t = temp();
        let s = settings(t.path());
        let garbage = "this is not a database\n".repeat(300);
        std::fs::write(&s.path, &garbage).unwrap();
        let h = History::open(&s, 1_700_000_000).unwrap();
        let p = h.problem().expect("a problem reported");
        assert!(p.contains("moved aside"), "{p}");
        let moved = t.path().join("history.db.corrupt-1700000000");
        assert!(p.contains(&moved.display().to_string()), "{p}");
        assert_eq!(std::fs::read_to_string(&moved).unwrap(), garbage);
        assert!(h
            .record(state(1_700_000_001, "a", None, "UP", "up"))
            .wait(WAIT));
        assert_eq!(all(&h).len(), 2);
        // it stays said until a reload
        assert!(h.problem().is_some());
        h.reset_problems();
        assert_eq!(h.problem(), None);
        h.close("test over");
    }

    #[test]
    fn a_store_moves_aside_with_its_wal_and_shm() {
        let t = temp();
        let dir = crate::retention::StateDir::open(&t.path().join("h.db")).unwrap();
        for n in ["h.db", "h.db-wal", "h.db-shm"] {
            std::fs::write(t.path().join(n), n).unwrap();
        }
        std::fs::write(t.path().join("h.db.corrupt-5"), "taken").unwrap();
        assert_eq!(move_aside(&dir, "h.db", 5).unwrap(), "h.db.corrupt-5.1");
        let mut names: Vec<String> = std::fs::read_dir(t.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "h.db.corrupt-5",
                "h.db.corrupt-5.1",
                "h.db.corrupt-5.1-shm",
                "h.db.corrupt-5.1-wal"
            ]
        );
        assert_eq!(
            std::fs::read_to_string(t.path().join("h.db.corrupt-5.1-wal")).unwrap(),
            "h.db-wal"
        );
    }

    #[test]
    fn the_files_are_private_and_symlinks_are_not_followed() {
        let t = temp();
        let s = settings(t.path());
        let target = t.path().join("elsewhere");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, &s.path).unwrap();
        let h = History::open(&s, 1_000).unwrap();
        assert!(h.problem().unwrap().contains("symbolic link"));
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
        assert!(h.record(state(1_001, "a", None, "UP", "up")).wait(WAIT));
        for name in ["history.db", "history.db-wal", "history.db-shm"] {
            let meta = std::fs::symlink_metadata(t.path().join(name)).unwrap();
            assert!(meta.file_type().is_file(), "{name}");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name}");
        }
        h.close("test over");
        // a directory others may write is refused
        let open = temp();
        std::fs::set_permissions(open.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
        assert!(History::open(&settings(open.path()), 1_000).is_err());
    }

    #[test]
    fn importing_twice_adds_nothing() {
        let t = temp();
        let h = History::open(&settings(t.path()), 10_000).unwrap();
        let list = vec![
            state(100, "a", Some("disk"), "WARNING", "DISK WARNING"),
            state(200, "a", Some("disk"), "OK", "DISK OK"),
            Event::new(Kind::Start, 50, None, None),
            state(100, "b", None, "DOWN", "PING CRITICAL"),
        ];
        assert_eq!(h.import(list.clone()), Ok(4));
        assert_eq!(h.import(list.clone()), Ok(0));
        let mut more = list;
        more.push(state(300, "a", Some("disk"), "CRITICAL", "DISK CRITICAL"));
        assert_eq!(h.import(more), Ok(1));
        assert_eq!(all(&h).len(), 6);
        h.close("test over");
        assert!(h.import(vec![state(1, "a", None, "UP", "up")]).is_err());
    }

    #[test]
    fn runs_pair_starts_and_stops() {
        let t = temp();
        let h = History::open(&settings(t.path()), 100_000).unwrap();
        let at = |kind, at, comment: Option<&str>| Event {
            comment: comment.map(str::to_string),
            ..Event::new(kind, at, None, None)
        };
        h.import(vec![
            at(Kind::Start, 100, None),
            at(Kind::Stop, 200, Some("stopped")),
            at(Kind::Start, 300, None),
            at(Kind::Stop, 350, Some(NOT_STOPPED)),
            at(Kind::Start, 400, None),
            // a second start without a stop between (an imported log)
            at(Kind::Start, 500, None),
            at(Kind::Stop, 600, Some("stopped")),
        ])
        .unwrap();
        let r = |from, to| h.read(|c| runs(c, from, to)).unwrap();
        assert_eq!(r(0, 1_000), [(100, 200), (300, 350), (400, 600)]);
        assert_eq!(r(150, 320), [(150, 200), (300, 320)]);
        assert_eq!(r(210, 290), []);
        assert_eq!(r(450, 550), [(450, 550)]);
        // the run going on now (the open's Start at 100000) lasts until `to`
        assert_eq!(r(99_000, 100_500), [(100_000, 100_500)]);
        h.close("test over");
    }

    #[test]
    fn state_events_start_with_the_state_before_the_window() {
        let t = temp();
        let h = History::open(&settings(t.path()), 100_000).unwrap();
        let mut dt_start = Event::new(Kind::DowntimeStart, 150, Some("a"), Some("disk"));
        dt_start.downtime_id = Some(7);
        let mut dt_ended = Event::new(Kind::DowntimeStart, 120, Some("a"), Some("disk"));
        dt_ended.downtime_id = Some(6);
        let mut dt_end = Event::new(Kind::DowntimeEnd, 130, Some("a"), Some("disk"));
        dt_end.downtime_id = Some(6);
        let mut ack = Event::new(Kind::Ack, 250, Some("a"), Some("disk"));
        ack.author = Some("x".into());
        h.import(vec![
            state(100, "a", Some("disk"), "WARNING", "w"),
            state(180, "a", Some("disk"), "CRITICAL", "c"),
            dt_ended,
            dt_end,
            dt_start,
            state(190, "b", None, "DOWN", "d"),
            state(250, "a", Some("disk"), "OK", "o"),
            ack,
            state(400, "a", Some("disk"), "WARNING", "later"),
        ])
        .unwrap();
        let got: Vec<(Time, Kind, String, Option<String>)> = h
            .read(|c| state_events(c, 200, 300))
            .unwrap()
            .into_iter()
            .map(|e| (e.at, e.kind, e.object(), e.state))
            .collect();
        assert_eq!(
            got,
            [
                (150, Kind::DowntimeStart, "a/disk".into(), None),
                (180, Kind::State, "a/disk".into(), Some("CRITICAL".into())),
                (190, Kind::State, "b".into(), Some("DOWN".into())),
                (250, Kind::State, "a/disk".into(), Some("OK".into())),
            ]
        );
        h.close("test over");
    }

    #[test]
    fn perfdata_is_committed_within_a_second() {
        let t = temp();
        let now = crate::clock::unix_now();
        let h = History::open(&settings(t.path()), now).unwrap();
        let items = [PerfData::new("load1", 1.5), PerfData::new("load5", 0.75)];
        h.perfdata("web", Some("load"), now, &items);
        h.perfdata("web", Some("load"), now, &[]);
        // no close: what a kill -9 would leave
        let start = Instant::now();
        let metrics = loop {
            let m = h.read(|c| perf::metrics(c, "web", Some("load"))).unwrap();
            if m.len() == 2 || start.elapsed() > Duration::from_secs(10) {
                break m;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut got: Vec<(String, f64, Time)> = metrics
            .iter()
            .map(|m| (m.label.clone(), m.last, m.last_at))
            .collect();
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            [
                ("load1".to_string(), 1.5, now),
                ("load5".to_string(), 0.75, now)
            ]
        );
        let load1 = metrics.iter().find(|m| m.label == "load1").unwrap();
        let series = h
            .read(|c| perf::series(c, load1.id, now - 3_600, now + 60))
            .unwrap();
        assert!(
            series.points.iter().any(|p| p.avg == 1.5),
            "{:?}",
            series.points
        );
        assert_eq!(h.problem(), None);
        h.close("test over");
    }

    /// Ingest rates through the writer on this machine (not a check: prints them).
    /// `cargo nextest run -p hcoop-monitor --run-ignored only ingest_rates --no-capture`
    #[test]
    #[ignore]
    fn ingest_rates() {
        let t = temp();
        let h = History::open(&settings(t.path()), crate::clock::unix_now()).unwrap();
        let n = 50_000u64;
        let start = Instant::now();
        let mut last = None;
        for i in 0..n {
            let host = format!("host{}", i % 500);
            last = Some(h.record(state(
                1_000 + i,
                &host,
                Some("load"),
                "WARNING",
                "LOAD WARNING - load average: 5.01, 4.2, 3.9",
            )));
        }
        assert!(last.unwrap().wait(Duration::from_secs(120)));
        let s = start.elapsed().as_secs_f64();
        println!(
            "events, queued back to back: {n} in {s:.2} s = {:.0}/s",
            n as f64 / s
        );
        let start = Instant::now();
        let got = h
            .read(|c| state_events(c, 1_000 + n / 2, 1_000 + n))
            .unwrap();
        println!(
            "state_events over 500 objects, {n} events: {} in {:.3} s",
            got.len(),
            start.elapsed().as_secs_f64()
        );
        let plan: Vec<String> = h
            .read(|c| {
                c.prepare(
                    "EXPLAIN QUERY PLAN SELECT id FROM events WHERE host = 'a' AND service IS 'b' \
                     AND at < 5 AND kind = 'state' ORDER BY at DESC, id DESC LIMIT 1",
                )?
                .query_map([], |r| r.get::<_, String>(3))?
                .collect()
            })
            .unwrap();
        println!("last state's plan: {plan:?}");
        let m = 300u64;
        let start = Instant::now();
        for i in 0..m {
            assert!(h
                .record(state(2_000_000 + i, "one", None, "DOWN", "x"))
                .wait(WAIT));
        }
        let s = start.elapsed().as_secs_f64();
        println!(
            "events, each waited for (one commit and fsync each): {m} in {s:.2} s = {:.0}/s",
            m as f64 / s
        );
        let results = 20_000u64;
        let items: Vec<PerfData> = (0..10)
            .map(|k| PerfData::new(format!("m{k}"), 1.5 * k as f64))
            .collect();
        let now = crate::clock::unix_now();
        let start = Instant::now();
        for i in 0..results {
            let host = format!("host{}", i % 1_000);
            h.perfdata(&host, Some("load"), now - results + i, &items);
        }
        h.close("bench over");
        let s = start.elapsed().as_secs_f64();
        let dropped = h.shared.health.perf_dropped.load(Ordering::Relaxed);
        let points = (results - dropped) * items.len() as u64;
        println!(
            "perfdata: {points} points committed in {s:.2} s = {:.0} points/s \
             ({dropped} of {results} results dropped, queue full)",
            points as f64 / s
        );
    }

    #[test]
    fn events_older_than_keep_events_are_deleted() {
        let t = temp();
        let now = crate::clock::unix_now();
        let s = HistorySettings {
            keep_events: Duration::from_secs(86_400),
            ..settings(t.path())
        };
        let h = History::open(&s, now).unwrap();
        h.import(vec![
            state(now - 2 * 86_400, "a", None, "DOWN", "old"),
            state(now - 3_600, "a", None, "UP", "recent"),
        ])
        .unwrap();
        // the writer expires after its first commits
        let start = Instant::now();
        let outputs = loop {
            let outputs: Vec<Option<String>> = all(&h).into_iter().map(|e| e.output).collect();
            if outputs.len() == 2 || start.elapsed() > Duration::from_secs(10) {
                break outputs;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(outputs, [None, Some("recent".to_string())]);
        h.close("test over");
    }

    #[test]
    fn events_are_queued_without_waiting_while_the_writer_is_held_up_and_perfdata_is_bounded() {
        let t = temp();
        let h = History::open(&settings(t.path()), 1_000).unwrap();
        // another writer holds the file: the store's writer waits on its lock
        let other = open_writer(h.path()).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let first = h.record(state(1_001, "a", None, "DOWN", "first"));
        assert!(!first.wait(Duration::from_millis(200)), "held up");
        let start = Instant::now();
        let tickets: Vec<Ticket> = (0..QUEUE as u64 + 100)
            .map(|i| h.record(state(1_002 + i, "a", None, "DOWN", "x")))
            .collect();
        let items = [PerfData::new("load".to_string(), 1.0)];
        for i in 0..QUEUE as u64 + 10 {
            h.perfdata("a", None, 1_002 + i, &items);
        }
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(h.shared.health.perf_dropped.load(Ordering::Relaxed), 10);
        other.execute_batch("COMMIT").unwrap();
        let last = tickets.into_iter().next_back().unwrap();
        assert!(
            last.wait(Duration::from_secs(30)),
            "all committed once let go"
        );
        h.close("test over");
    }

    #[test]
    fn old_events_are_deleted_a_chunk_at_a_time() {
        let t = temp();
        let now = crate::clock::unix_now();
        let h = History::open(&settings(t.path()), now).unwrap();
        let old: Vec<Event> = (0..EXPIRE_CHUNK as u64 + 10)
            .map(|i| state(1_000 + i, "a", None, "DOWN", "old"))
            .collect();
        h.import(old).unwrap();
        let conn = open_writer(h.path()).unwrap();
        let count = |c: &Connection| -> i64 {
            let q = "SELECT COUNT(*) FROM events WHERE at < 100000";
            c.query_row(q, [], |r| r.get(0)).unwrap()
        };
        assert!(expire_chunk(&conn, 100_000).unwrap(), "a whole chunk");
        assert_eq!(count(&conn), 10);
        assert!(!expire_chunk(&conn, 100_000).unwrap(), "the last of them");
        assert_eq!(count(&conn), 0);
        h.close("test over");
    }

    #[test]
    fn texts_are_cut_on_a_character_boundary() {
        assert_eq!(cut("abc", 2), "ab");
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("aé", 3), "aé");
        let t = temp();
        let h = History::open(&settings(t.path()), 1_000).unwrap();
        let mut e = state(1_001, &"h".repeat(5_000), None, "DOWN", &"é".repeat(10_000));
        e.comment = Some("c".repeat(2_000));
        assert!(h.record(e).wait(WAIT));
        let got = &all(&h)[0];
        assert_eq!(got.host.as_ref().unwrap().len(), TEXT_MAX);
        assert_eq!(got.output.as_ref().unwrap().len(), OUTPUT_MAX);
        assert_eq!(got.comment.as_ref().unwrap().len(), TEXT_MAX);
        h.close("test over");
    }
}
