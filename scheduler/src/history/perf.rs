//! Perfdata consolidated like an RRD.
//!
//! Every numeric perfdata item of every check result is a sample of the metric
//! (host, service, label). Samples are consolidated into archives ([`Archive`]: a step and
//! a span, `1m:48h`, `5m:10d`, `30m:90d`, `6h:4y` by default), each row keeping the
//! minimum, the average and the maximum of its step. The first archive is built from the
//! samples, each coarser one from the closed rows of the one before it, as RRDtool does.
//!
//! Where things are kept (tables in the history store's database):
//!
//! - `perf_metrics`: one row per metric, with its unit, warn/crit ranges as printed and
//!   min/max (the latest the plugin printed; rewritten only when they change);
//! - `perf_rows`: the rows not yet sealed (at most one chunk's worth per archive); the
//!   first archive's open row is written with every sample (with the sample's time and
//!   value, for `last`), so that a `kill -9` loses nothing committed; the coarser
//!   archives' open rows are remade at start from the finer rows;
//! - `perf_chunks`: sealed rows, a chunk of consecutive steps per (metric, archive),
//!   compressed by [`super::codec`]; chunks older than their archive's span are deleted,
//!   so the store's size is bounded by the number of metrics, not by time;
//! - `perf_archives`: the archives the rows were made with (the readers need the steps).
//!
//! In memory the consolidator keeps, per metric, only its id, the time of its newest
//! sample, a hash of its unit and levels, and per archive the open row and the start of
//! the chunk being filled (a few hundred bytes a metric).
//!
//! A row's average is the mean of the samples it holds (sum / count): a coarser row
//! merges the finer rows' sums and counts, so it is the mean of all its samples. Rows
//! are kept whatever share of the step had data (RRDtool's xff would mark a step with
//! less than half of its data unknown): a step with no sample has no row, a gap.
//! Counters (unit `c`) are stored as given, not turned into rates. A sample that is not
//! newer than the metric's newest one (the same second, or the clock set back) is
//! dropped, as RRDtool refuses an update that is not newer.

pub use hcoop_plugins::plugin::PerfData;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};

use super::codec::{self, Row};
use super::Time;

/// One consolidation level: rows of `step` seconds kept for `span` seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Archive {
    pub step: u64,
    pub span: u64,
}

impl Archive {
    /// The number of rows the archive keeps (its span over its step).
    pub fn rows(&self) -> u64 {
        self.span / self.step
    }
}

/// `1m`, `48h`, `10d`, `2w`, `4y` (a year is 365 days), or plain seconds (`90`, `90s`).
fn parse_span(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (a number then s, m, h, d, w or y)"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        "y" => 365 * 86_400,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}` (s, m, h, d, w or y)"
            ))
        }
    };
    n.checked_mul(unit)
        .filter(|&s| s > 0 && s <= 100 * 365 * 86_400)
        .ok_or_else(|| format!("`{text}` is out of range (1s to 100y)"))
}

fn format_span(secs: u64) -> String {
    for (unit, len) in [("y", 365 * 86_400), ("d", 86_400), ("h", 3600), ("m", 60)] {
        if secs % len == 0 {
            return format!("{}{unit}", secs / len);
        }
    }
    format!("{secs}s")
}

impl std::str::FromStr for Archive {
    type Err = String;

    /// `STEP:SPAN`, e.g. `1m:48h`: the span a positive multiple of the step.
    fn from_str(s: &str) -> Result<Archive, String> {
        let (step, span) = s
            .split_once(':')
            .ok_or_else(|| format!("archive `{s}` is not STEP:SPAN (e.g. 1m:48h)"))?;
        let step = parse_span(step)?;
        let span = parse_span(span)?;
        if span < step || span % step != 0 {
            return Err(format!(
                "archive `{s}`: the span must be a multiple of the step"
            ));
        }
        if span / step > 1_000_000 {
            return Err(format!("archive `{s}`: more than 1000000 rows"));
        }
        Ok(Archive { step, span })
    }
}

impl fmt::Display for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", format_span(self.step), format_span(self.span))
    }
}

impl Serialize for Archive {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// 1 min for 48 h, 5 min for 10 days, 30 min for 90 days, 6 h for 4 years (PNP4Nagios'
/// rra.cfg keeps 2880 rows of 1 min, 2880 of 5 min, 4320 of 30 min and 5840 of 6 h).
pub fn default_archives() -> Vec<Archive> {
    vec![
        Archive {
            step: 60,
            span: 48 * 3600,
        },
        Archive {
            step: 300,
            span: 10 * 86_400,
        },
        Archive {
            step: 1800,
            span: 90 * 86_400,
        },
        Archive {
            step: 21_600,
            span: 4 * 365 * 86_400,
        },
    ]
}

/// Checks a list of archives: steps increasing, each a multiple of the one before, spans
/// not decreasing. The error says which archive is wrong.
pub fn check_archives(archives: &[Archive]) -> Result<(), String> {
    if archives.is_empty() {
        return Err("at least one archive is needed".into());
    }
    if archives.len() > 8 {
        return Err("at most 8 archives".into());
    }
    for w in archives.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b.step <= a.step || b.step % a.step != 0 {
            return Err(format!(
                "archive {b}: its step must be a multiple of the previous one's ({a})"
            ));
        }
        if b.span < a.span {
            return Err(format!(
                "archive {b}: its span must not be shorter than the previous one's ({a})"
            ));
        }
    }
    Ok(())
}

/// A metric's label longer than this is cut (at a character boundary).
pub const MAX_LABEL: usize = 200;
/// At most this many metrics per host or service: a plugin printing ever new labels
/// cannot fill the store.
pub const MAX_METRICS_PER_OBJECT: i64 = 100;
/// A row is closed this long after its step ended (results of the step still queued).
const GRACE: u64 = 5;
/// About this many rows go into a chunk.
const CHUNK_ROWS: u64 = 64;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS perf_archives(level INTEGER PRIMARY KEY, step INTEGER NOT NULL,
    span INTEGER NOT NULL, window INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS perf_metrics(id INTEGER PRIMARY KEY, host TEXT NOT NULL,
    service TEXT NOT NULL, label TEXT NOT NULL, unit TEXT NOT NULL DEFAULT '',
    warn TEXT, crit TEXT, min REAL, max REAL, last_at INTEGER, last REAL,
    UNIQUE(host, service, label));
CREATE TABLE IF NOT EXISTS perf_rows(metric INTEGER NOT NULL, level INTEGER NOT NULL,
    at INTEGER NOT NULL, min REAL NOT NULL, max REAL NOT NULL, sum REAL NOT NULL,
    count INTEGER NOT NULL, last_at INTEGER, last REAL,
    PRIMARY KEY(metric, level, at)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS perf_chunks(metric INTEGER NOT NULL, level INTEGER NOT NULL,
    start INTEGER NOT NULL, end INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY(metric, level, start)) WITHOUT ROWID;
";

/// One archive as the consolidator uses it: with the time a chunk covers (about
/// [`CHUNK_ROWS`] steps, a multiple of the next archive's step).
#[derive(Debug, Clone, Copy)]
struct Level {
    step: u64,
    span: u64,
    window: u64,
}

fn levels_of(archives: &[Archive]) -> Vec<Level> {
    (0..archives.len())
        .map(|i| {
            let step = archives[i].step.max(1);
            let unit = archives.get(i + 1).map_or(step, |a| a.step.max(step));
            let window = (step * CHUNK_ROWS).div_ceil(unit) * unit;
            Level {
                step,
                span: archives[i].span,
                window,
            }
        })
        .collect()
}

/// The open row and the chunk being filled of one metric in one archive.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// The open row (`count` 0: none; its `at` is then the first step it may take).
    row: Row,
    /// The start of the chunk whose rows are in `perf_rows`.
    unsealed: Option<Time>,
}

impl Open {
    fn empty(at: Time) -> Open {
        Open {
            row: Row {
                at,
                min: 0.0,
                max: 0.0,
                sum: 0.0,
                count: 0,
            },
            unsealed: None,
        }
    }
}

struct Metric {
    id: i64,
    last_at: Time,
    meta: u64,
    open: Box<[Open]>,
}

fn meta_hash(
    unit: &str,
    warn: Option<&str>,
    crit: Option<&str>,
    min: Option<f64>,
    max: Option<f64>,
) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        unit,
        warn,
        crit,
        min.map(f64::to_bits),
        max.map(f64::to_bits),
    )
        .hash(&mut h);
    h.finish()
}

fn key(host: &str, service: &str, label: &str) -> String {
    let mut k = String::with_capacity(host.len() + service.len() + label.len() + 2);
    key_into(&mut k, host, service, label);
    k
}

fn key_into(k: &mut String, host: &str, service: &str, label: &str) {
    k.clear();
    k.push_str(host);
    k.push('\u{1f}');
    k.push_str(service);
    k.push('\u{1f}');
    k.push_str(label);
}

fn cut(label: &str) -> &str {
    if label.len() <= MAX_LABEL {
        return label;
    }
    let mut end = MAX_LABEL;
    while !label.is_char_boundary(end) {
        end -= 1;
    }
    &label[..end]
}

/// The consolidation state: owned by the store's writer, fed inside its transactions.
pub struct Consolidator {
    levels: Vec<Level>,
    index: HashMap<Box<str>, u32>,
    metrics: Vec<Metric>,
    /// The next metric whose old chunks [`Consolidator::maintain`] deletes (a few per call).
    cursor: usize,
    /// Samples dropped: not newer than their metric's newest, or over the metric limit.
    pub dropped: u64,
    /// Reused for the key and the levels' text of each sample.
    scratch: String,
    /// The last first-archive step whose end [`Consolidator::maintain`] has looked at.
    scanned: Time,
}

impl Consolidator {
    /// Creates the tables (if missing) in `conn` and reloads the rows still open. When the
    /// archives' steps differ from those the store was made with, the rows of the archives
    /// that changed (and of those after them) are deleted: they cannot be converted.
    pub fn open(conn: &Connection, archives: &[Archive]) -> rusqlite::Result<Consolidator> {
        let archives = if check_archives(archives).is_ok() {
            archives.to_vec()
        } else {
            default_archives()
        };
        let levels = levels_of(&archives);
        conn.set_prepared_statement_cache_capacity(64);
        conn.execute_batch(SCHEMA)?;
        // a store made before the newest sample was kept with the rows
        for table in ["perf_metrics", "perf_rows"] {
            let has: bool = conn
                .prepare(&format!(
                    "SELECT 1 FROM pragma_table_info('{table}') WHERE name = 'last_at'"
                ))?
                .exists([])?;
            if !has {
                conn.execute_batch(&format!("ALTER TABLE {table} ADD COLUMN last_at INTEGER; ALTER TABLE {table} ADD COLUMN last REAL;"))?;
            }
        }
        conn.execute_batch("DROP TABLE IF EXISTS perf_samples")?;
        let stored: Vec<(u64, u64)> = conn
            .prepare("SELECT step, window FROM perf_archives ORDER BY level")?
            .query_map([], |r| Ok((uint(r, 0)?, uint(r, 1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let same = stored
            .iter()
            .zip(&levels)
            .take_while(|(s, l)| s.0 == l.step && s.1 == l.window)
            .count();
        conn.execute("DELETE FROM perf_rows WHERE level >= ?1", [same as i64])?;
        conn.execute("DELETE FROM perf_chunks WHERE level >= ?1", [same as i64])?;
        conn.execute("DELETE FROM perf_archives", [])?;
        for (i, l) in levels.iter().enumerate() {
            conn.execute(
                "INSERT INTO perf_archives(level, step, span, window) VALUES (?1, ?2, ?3, ?4)",
                params![i as i64, l.step as i64, l.span as i64, l.window as i64],
            )?;
        }
        let mut me = Consolidator {
            levels,
            index: HashMap::new(),
            metrics: Vec::new(),
            cursor: 0,
            dropped: 0,
            scratch: String::new(),
            scanned: Time::MAX,
        };
        let mut stmt = conn.prepare(
            "SELECT id, host, service, label, unit, warn, crit, min, max FROM perf_metrics",
        )?;
        let rows = stmt.query_map([], |r| {
            let (id, host, service, label): (i64, String, String, String) =
                (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
            let (unit, warn, crit): (String, Option<String>, Option<String>) =
                (r.get(4)?, r.get(5)?, r.get(6)?);
            let (min, max): (Option<f64>, Option<f64>) = (r.get(7)?, r.get(8)?);
            Ok((
                id,
                key(&host, &service, &label),
                meta_hash(&unit, warn.as_deref(), crit.as_deref(), min, max),
            ))
        })?;
        for row in rows {
            let (id, k, meta) = row?;
            let metric = me.reload(conn, id, meta)?;
            me.index.insert(k.into_boxed_str(), me.metrics.len() as u32);
            me.metrics.push(metric);
        }
        Ok(me)
    }

    /// A metric's state as its tables say. The first archive's newest row is open
    /// unless the next archive has a row for its step (it was closed and merged); each
    /// coarser archive's open row is the finer archive's closed rows after its own newest.
    fn reload(&self, conn: &Connection, id: i64, meta: u64) -> rusqlite::Result<Metric> {
        let mut closed_end = Vec::with_capacity(self.levels.len());
        let mut oldest = Vec::with_capacity(self.levels.len());
        for (i, l) in self.levels.iter().enumerate() {
            let (newest_row, oldest_row): (Option<i64>, Option<i64>) = conn
                .prepare_cached(
                    "SELECT max(at), min(at) FROM perf_rows WHERE metric = ?1 AND level = ?2",
                )?
                .query_row(params![id, i as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let newest_chunk: Option<i64> = conn
                .prepare_cached(
                    "SELECT end FROM perf_chunks WHERE metric = ?1 AND level = ?2 ORDER BY start DESC LIMIT 1",
                )?
                .query_row(params![id, i as i64], |r| r.get(0))
                .optional()?;
            let end = newest_row
                .map(|t| t as u64 + l.step)
                .max(newest_chunk.map(|t| t as u64))
                .unwrap_or(0);
            closed_end.push(end);
            oldest.push(oldest_row.map(|t| t as u64 - t as u64 % l.window));
        }
        let newest: Option<(Row, Time)> = conn
            .prepare_cached(
                "SELECT at, min, max, sum, count, last_at FROM perf_rows WHERE metric = ?1 AND level = 0
                 ORDER BY at DESC LIMIT 1",
            )?
            .query_row([id], |r| Ok((row_of(r)?, uint(r, 5)?)))
            .optional()?;
        let last_at: Option<i64> = conn
            .prepare_cached("SELECT last_at FROM perf_metrics WHERE id = ?1")?
            .query_row([id], |r| r.get(0))?;
        let mut last_at = last_at.map_or(0, |t| t.max(0) as u64);
        let mut open = Vec::with_capacity(self.levels.len());
        let mut first_open = None;
        for (i, l) in self.levels.iter().enumerate() {
            let mut o = Open::empty(if i == 0 { closed_end[0] } else { closed_end[i] });
            o.unsealed = oldest[i];
            if i == 0 {
                if let Some((row, at)) = newest {
                    last_at = last_at.max(at);
                    let merged = self.levels.get(1).is_some_and(|_| closed_end[1] > row.at);
                    if merged {
                        o.row.at = row.at + l.step;
                    } else {
                        o.row = row;
                        first_open = Some(row.at);
                    }
                }
            } else {
                let finer: Vec<Row> = stored_rows(
                    conn,
                    id,
                    i - 1,
                    self.levels[i - 1],
                    closed_end[i],
                    Time::MAX,
                )?
                .into_iter()
                .filter(|r| i > 1 || Some(r.at) != first_open)
                .collect();
                if let Some(last) = finer.last() {
                    let bucket = last.at - last.at % l.step;
                    o.row.at = bucket;
                    for f in finer.iter().filter(|f| f.at >= bucket) {
                        o.row.merge(f);
                    }
                }
            }
            open.push(o);
        }
        Ok(Metric {
            id,
            last_at,
            meta,
            open: open.into_boxed_slice(),
        })
    }

    /// How many metrics there are.
    pub fn len(&self) -> usize {
        self.metrics.len()
    }

    /// Whether there is no metric.
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// Adds one perfdata item of a check result taken at `at`. Non-numeric and NaN
    /// values are skipped.
    pub fn add(
        &mut self,
        tx: &Transaction,
        host: &str,
        service: Option<&str>,
        at: Time,
        item: &PerfData,
    ) -> rusqlite::Result<()> {
        let value = item.value.as_f64();
        if !value.is_finite() {
            return Ok(());
        }
        let service = service.unwrap_or("");
        let label = cut(&item.label);
        let unit = item.uom.as_str();
        let (min, max) = (item.min.map(|v| v.as_f64()), item.max.map(|v| v.as_f64()));
        // what the levels are, without printing them (after a start the first sample
        // of each metric writes them once: the hash of their text differs)
        let meta = {
            let range = |r: &Option<hcoop_plugins::plugin::Range>| {
                r.map(|r| {
                    (
                        r.start().map(f64::to_bits),
                        r.end().map(f64::to_bits),
                        r.is_inside(),
                    )
                })
            };
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (
                unit,
                range(&item.warn),
                range(&item.crit),
                min.map(f64::to_bits),
                max.map(f64::to_bits),
            )
                .hash(&mut h);
            h.finish()
        };
        let warn = || item.warn.as_ref().map(|r| r.to_string());
        let crit = || item.crit.as_ref().map(|r| r.to_string());
        key_into(&mut self.scratch, host, service, label);
        let idx = match self.index.get(self.scratch.as_str()) {
            Some(&i) => i as usize,
            None => {
                let count: i64 = tx
                    .prepare_cached(
                        "SELECT count(*) FROM perf_metrics WHERE host = ?1 AND service = ?2",
                    )?
                    .query_row(params![host, service], |r| r.get(0))?;
                if count >= MAX_METRICS_PER_OBJECT {
                    self.dropped += 1;
                    return Ok(());
                }
                tx.prepare_cached(
                    "INSERT INTO perf_metrics(host, service, label, unit, warn, crit, min, max)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?
                .execute(params![
                    host,
                    service,
                    label,
                    unit,
                    warn(),
                    crit(),
                    min,
                    max
                ])?;
                let id = tx.last_insert_rowid();
                let open = self.levels.iter().map(|_| Open::empty(0)).collect();
                self.index
                    .insert(self.scratch.as_str().into(), self.metrics.len() as u32);
                self.metrics.push(Metric {
                    id,
                    last_at: 0,
                    meta,
                    open,
                });
                self.metrics.len() - 1
            }
        };
        let levels = &self.levels;
        let m = &mut self.metrics[idx];
        if m.meta != meta {
            tx.prepare_cached("UPDATE perf_metrics SET unit = ?2, warn = ?3, crit = ?4, min = ?5, max = ?6 WHERE id = ?1")?
                .execute(params![m.id, unit, warn(), crit(), min, max])?;
            m.meta = meta;
        }
        let bucket = at - at % levels[0].step;
        if at <= m.last_at || bucket < m.open[0].row.at {
            self.dropped += 1;
            return Ok(());
        }
        if m.open[0].row.count > 0 && m.open[0].row.at != bucket {
            close(tx, levels, m, 0)?;
        }
        let open = &mut m.open[0].row;
        if open.count == 0 {
            *open = Row::one(bucket, value);
        } else {
            open.merge(&Row::one(bucket, value));
        }
        let o = *open;
        tx.prepare_cached(
            "INSERT OR REPLACE INTO perf_rows(metric, level, at, min, max, sum, count, last_at, last)
             VALUES (?1, 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![m.id, o.at as i64, o.min, o.max, o.sum, o.count as i64, at as i64, value])?;
        m.last_at = at;
        Ok(())
    }

    /// Closes the rows whose step has passed, seals the chunks whose time has passed,
    /// deletes the chunks older than their archive's span (a few metrics a call, every
    /// metric about every hour when called every second) and the metrics that
    /// have had no sample for the longest span.
    pub fn maintain(&mut self, tx: &Transaction, now: Time) -> rusqlite::Result<()> {
        let levels = &self.levels;
        // every row and chunk ends at a multiple of the first step: nothing new is due
        // until the next one has passed (with its grace)
        let turn = now.saturating_sub(GRACE) / levels[0].step;
        let scan = turn != self.scanned;
        self.scanned = turn;
        for m in self.metrics.iter_mut().filter(|_| scan) {
            for (i, l) in levels.iter().enumerate() {
                let o = m.open[i];
                if o.row.count > 0 && now >= o.row.at + l.step + GRACE {
                    close(tx, levels, m, i)?;
                }
                if let Some(start) = m.open[i].unsealed {
                    if now >= start + l.window + GRACE {
                        seal(tx, levels, m.id, i, start)?;
                        m.open[i].unsealed = None;
                    }
                }
            }
        }
        if self.metrics.is_empty() {
            return Ok(());
        }
        let longest = levels.iter().map(|l| l.span + l.window).max().unwrap_or(0);
        let per_call = self.metrics.len().div_ceil(3600);
        let mut dead = Vec::new();
        for _ in 0..per_call.min(self.metrics.len()) {
            self.cursor = (self.cursor + 1) % self.metrics.len();
            let m = &self.metrics[self.cursor];
            for (i, l) in levels.iter().enumerate() {
                if let Some(limit) = now.checked_sub(l.span + l.window) {
                    tx.prepare_cached(
                        "DELETE FROM perf_chunks WHERE metric = ?1 AND level = ?2 AND start <= ?3",
                    )?
                    .execute(params![m.id, i as i64, limit as i64])?;
                }
            }
            if m.last_at + longest < now {
                for sql in [
                    "DELETE FROM perf_chunks WHERE metric = ?1",
                    "DELETE FROM perf_rows WHERE metric = ?1",
                    "DELETE FROM perf_metrics WHERE id = ?1",
                ] {
                    tx.prepare_cached(sql)?.execute([m.id])?;
                }
                dead.push(self.cursor);
            }
        }
        if !dead.is_empty() {
            let mut keep = vec![true; self.metrics.len()];
            dead.iter().for_each(|&i| keep[i] = false);
            let mut new_index = vec![u32::MAX; self.metrics.len()];
            let mut n = 0u32;
            for (i, k) in keep.iter().enumerate() {
                if *k {
                    new_index[i] = n;
                    n += 1;
                }
            }
            self.index.retain(|_, i| keep[*i as usize]);
            self.index
                .values_mut()
                .for_each(|i| *i = new_index[*i as usize]);
            let mut i = 0;
            self.metrics.retain(|_| {
                i += 1;
                keep[i - 1]
            });
            self.cursor = 0;
        }
        Ok(())
    }
}

/// Closes metric `m`'s open row of archive `i`: stores it, feeds it to the next archive
/// (closing that one's open row first when this row belongs to a later step), seals the
/// previous chunk when this row begins a new one.
fn close(tx: &Transaction, levels: &[Level], m: &mut Metric, i: usize) -> rusqlite::Result<()> {
    let l = levels[i];
    let row = m.open[i].row;
    if row.count == 0 {
        return Ok(());
    }
    if i > 0 {
        // (the first archive's open row is written with each sample)
        tx.prepare_cached(
            "INSERT OR REPLACE INTO perf_rows(metric, level, at, min, max, sum, count) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(params![m.id, i as i64, row.at as i64, row.min, row.max, row.sum, row.count as i64])?;
    }
    m.open[i].row = Row {
        at: row.at + l.step,
        min: 0.0,
        max: 0.0,
        sum: 0.0,
        count: 0,
    };
    let chunk = row.at - row.at % l.window;
    match m.open[i].unsealed {
        Some(start) if start != chunk => {
            seal(tx, levels, m.id, i, start)?;
            m.open[i].unsealed = Some(chunk);
        }
        Some(_) => {}
        None => m.open[i].unsealed = Some(chunk),
    }
    if let Some(next) = levels.get(i + 1) {
        let bucket = row.at - row.at % next.step;
        if m.open[i + 1].row.count > 0 && m.open[i + 1].row.at != bucket {
            close(tx, levels, m, i + 1)?;
        }
        let o = &mut m.open[i + 1].row;
        if o.count == 0 {
            *o = Row { at: bucket, ..row };
        } else {
            o.merge(&row);
        }
    }
    Ok(())
}

/// Moves metric `id`'s closed rows of archive `i` in the chunk beginning at `start` into
/// a compressed chunk (merged with one already there, which only a clock set back makes).
fn seal(
    tx: &Transaction,
    levels: &[Level],
    id: i64,
    i: usize,
    start: Time,
) -> rusqlite::Result<()> {
    let l = levels[i];
    let end = start + l.window;
    let mut rows: Vec<Row> = tx
        .prepare_cached(
            "SELECT at, min, max, sum, count FROM perf_rows WHERE metric = ?1 AND level = ?2 AND at >= ?3 AND at < ?4
             ORDER BY at",
        )?
        .query_map(params![id, i as i64, start as i64, end as i64], row_of)?
        .collect::<rusqlite::Result<_>>()?;
    let old: Option<Vec<u8>> = tx
        .prepare_cached(
            "SELECT data FROM perf_chunks WHERE metric = ?1 AND level = ?2 AND start = ?3",
        )?
        .query_row(params![id, i as i64, start as i64], |r| r.get(0))
        .optional()?;
    if let Some(old) = old.and_then(|d| codec::decode(l.step, &d).ok()) {
        // the rows just closed win over those of the same step in the old chunk
        rows.extend(old);
        rows.sort_by_key(|r| r.at);
        rows.dedup_by_key(|r| r.at);
    }
    if let Some(last) = rows.last() {
        tx.prepare_cached("INSERT OR REPLACE INTO perf_chunks(metric, level, start, end, data) VALUES (?1, ?2, ?3, ?4, ?5)")?
            .execute(params![id, i as i64, start as i64, (last.at + l.step) as i64, codec::encode(l.step, &rows)])?;
    }
    if i == 0 {
        // the newest sample of the rows sealed stays known (for a metric no longer fed)
        tx.prepare_cached(
            "UPDATE perf_metrics SET last_at = r.last_at, last = r.last
             FROM (SELECT last_at, last FROM perf_rows WHERE metric = ?1 AND level = 0 AND at >= ?2 AND at < ?3
                   AND last_at IS NOT NULL ORDER BY at DESC LIMIT 1) AS r
             WHERE id = ?1 AND coalesce(perf_metrics.last_at, -1) < r.last_at",
        )?
        .execute(params![id, start as i64, end as i64])?;
    }
    tx.prepare_cached(
        "DELETE FROM perf_rows WHERE metric = ?1 AND level = ?2 AND at >= ?3 AND at < ?4",
    )?
    .execute(params![id, i as i64, start as i64, end as i64])?;
    Ok(())
}

/// A non-negative integer column (times, counts; SQLite's integers are signed).
fn uint(r: &rusqlite::Row, i: usize) -> rusqlite::Result<u64> {
    Ok(r.get::<_, i64>(i)?.max(0) as u64)
}

fn row_of(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        at: uint(r, 0)?,
        min: r.get(1)?,
        max: r.get(2)?,
        sum: r.get(3)?,
        count: uint(r, 4)?,
    })
}

/// A metric's closed rows of archive `i` beginning in [from, to], sealed or not, by time.
fn stored_rows(
    conn: &Connection,
    id: i64,
    i: usize,
    l: Level,
    from: Time,
    to: Time,
) -> rusqlite::Result<Vec<Row>> {
    let to = to.min(i64::MAX as u64) as i64;
    let mut rows = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM perf_chunks WHERE metric = ?1 AND level = ?2 AND start <= ?3 AND end > ?4 ORDER BY start",
    )?;
    let chunks = stmt.query_map(params![id, i as i64, to, from as i64], |r| {
        r.get::<_, Vec<u8>>(0)
    })?;
    for data in chunks {
        // a chunk that does not decode is left out (the rest of the series still shows)
        if let Ok(decoded) = codec::decode(l.step, &data?) {
            rows.extend(
                decoded
                    .into_iter()
                    .filter(|r| r.at >= from && r.at as i64 <= to),
            );
        }
    }
    let open: Vec<Row> = conn
        .prepare_cached(
            "SELECT at, min, max, sum, count FROM perf_rows WHERE metric = ?1 AND level = ?2 AND at >= ?3 AND at <= ?4
             ORDER BY at",
        )?
        .query_map(params![id, i as i64, from as i64, to], row_of)?
        .collect::<rusqlite::Result<_>>()?;
    rows.extend(open);
    rows.sort_by_key(|r| r.at);
    rows.dedup_by_key(|r| r.at);
    Ok(rows)
}

/// A metric's rows of archive `i` beginning in [from, to], with those not consolidated
/// yet made from the finer archives' rows and the samples.
fn level_rows(
    conn: &Connection,
    id: i64,
    levels: &[Level],
    i: usize,
    from: Time,
    to: Time,
) -> rusqlite::Result<Vec<Row>> {
    let l = levels[i];
    let from = from - from % l.step;
    let mut rows = stored_rows(conn, id, i, l, from, to)?;
    let next = rows.last().map_or(from, |r| r.at + l.step);
    if next > to {
        return Ok(rows);
    }
    if i == 0 {
        // (the first archive's open row is stored with each sample)
        return Ok(rows);
    }
    let finer = level_rows(conn, id, levels, i - 1, next, to)?;
    for f in finer {
        let bucket = f.at - f.at % l.step;
        if bucket < next {
            continue;
        }
        match rows.last_mut() {
            Some(r) if r.at == bucket => r.merge(&f),
            _ => rows.push(Row { at: bucket, ..f }),
        }
    }
    Ok(rows)
}

/// What is known about one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricInfo {
    pub id: i64,
    pub host: String,
    pub service: Option<String>,
    pub label: String,
    /// The unit as printed (`s`, `%`, `B`, `c`, ... or empty).
    pub unit: String,
    /// The warning and critical ranges as printed (latest).
    pub warn: Option<String>,
    pub crit: Option<String>,
    /// The minimum and maximum the plugin printed (latest).
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// The newest sample (0 and NaN before the first).
    pub last_at: Time,
    pub last: f64,
}

const METRIC_COLUMNS: &str =
    "SELECT id, host, service, label, unit, warn, crit, min, max, last_at, last FROM perf_metrics";

fn info(conn: &Connection, r: &rusqlite::Row) -> rusqlite::Result<MetricInfo> {
    let id: i64 = r.get(0)?;
    let service: String = r.get(2)?;
    // the newest sample: in the first archive's newest row, or (when that was sealed)
    // kept with the metric
    let newest: Option<(Time, f64)> = conn
        .prepare_cached(
            "SELECT last_at, last FROM perf_rows WHERE metric = ?1 AND level = 0 AND last_at IS NOT NULL
             ORDER BY at DESC LIMIT 1",
        )?
        .query_row([id], |r| Ok((uint(r, 0)?, r.get(1)?)))
        .optional()?;
    let kept: Option<(Time, f64)> =
        match (r.get::<_, Option<i64>>(9)?, r.get::<_, Option<f64>>(10)?) {
            (Some(at), Some(v)) => Some((at.max(0) as u64, v)),
            _ => None,
        };
    let (last_at, last) = match (newest, kept) {
        (Some(n), Some(k)) => {
            if n.0 >= k.0 {
                n
            } else {
                k
            }
        }
        (n, k) => n.or(k).unwrap_or((0, f64::NAN)),
    };
    Ok(MetricInfo {
        id,
        host: r.get(1)?,
        service: (!service.is_empty()).then_some(service),
        label: r.get(3)?,
        unit: r.get(4)?,
        warn: r.get(5)?,
        crit: r.get(6)?,
        min: r.get(7)?,
        max: r.get(8)?,
        last_at,
        last,
    })
}

/// The metrics of a host (`service` None) or a service, by label.
pub fn metrics(
    conn: &Connection,
    host: &str,
    service: Option<&str>,
) -> rusqlite::Result<Vec<MetricInfo>> {
    if !has_tables(conn)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(&format!(
        "{METRIC_COLUMNS} WHERE host = ?1 AND service = ?2 ORDER BY label"
    ))?;
    let mut rows = stmt.query(params![host, service.unwrap_or("")])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(info(conn, r)?);
    }
    Ok(out)
}

/// One metric by id.
pub fn metric(conn: &Connection, id: i64) -> rusqlite::Result<Option<MetricInfo>> {
    if !has_tables(conn)? {
        return Ok(None);
    }
    let mut stmt = conn.prepare_cached(&format!("{METRIC_COLUMNS} WHERE id = ?1"))?;
    let mut rows = stmt.query([id])?;
    match rows.next()? {
        Some(r) => info(conn, r).map(Some),
        None => Ok(None),
    }
}

/// Whether the consolidator made its tables (a store without perfdata has none).
fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'perf_metrics'",
    )?
    .exists([])
}

/// One consolidated row: the step beginning at `at`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub at: Time,
    pub min: f64,
    pub avg: f64,
    pub max: f64,
}

/// A metric's points over a time range, `step` seconds apart (gaps where nothing was
/// measured).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub metric: MetricInfo,
    pub step: u64,
    pub points: Vec<Point>,
}

/// The finest archive that still covers `from`; includes the rows not yet sealed and the
/// samples not yet consolidated, so a point taken a second ago is in it. An unknown
/// metric is `QueryReturnedNoRows`.
pub fn series(conn: &Connection, metric_id: i64, from: Time, to: Time) -> rusqlite::Result<Series> {
    series_at(conn, metric_id, from, to, crate::clock::unix_now())
}

/// [`series`] as of `now` (the archives cover `now - span` on).
pub fn series_at(
    conn: &Connection,
    metric_id: i64,
    from: Time,
    to: Time,
    now: Time,
) -> rusqlite::Result<Series> {
    let metric = metric(conn, metric_id)?.ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let levels: Vec<Level> = conn
        .prepare_cached("SELECT step, span, window FROM perf_archives ORDER BY level")?
        .query_map([], |r| {
            Ok(Level {
                step: uint(r, 0)?.max(1),
                span: uint(r, 1)?,
                window: uint(r, 2)?.max(1),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    if levels.is_empty() || from > to {
        return Ok(Series {
            metric,
            step: levels.first().map_or(60, |l| l.step),
            points: Vec::new(),
        });
    }
    let i = levels
        .iter()
        .position(|l| from >= now.saturating_sub(l.span))
        .unwrap_or(levels.len() - 1);
    let points = level_rows(conn, metric_id, &levels, i, from, to)?
        .into_iter()
        .filter(|r| r.count > 0)
        .map(|r| Point {
            at: r.at,
            min: r.min,
            avg: r.avg(),
            max: r.max,
        })
        .collect();
    Ok(Series {
        metric,
        step: levels[i].step,
        points,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcoop_plugins::plugin::perfdata::parse_perfdata;

    fn item(text: &str) -> PerfData {
        parse_perfdata(text).remove(0).unwrap()
    }

    fn archives(list: &[&str]) -> Vec<Archive> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    struct Store {
        conn: Connection,
        c: Consolidator,
    }

    impl Store {
        fn new(list: &[&str]) -> Store {
            let conn = Connection::open_in_memory().unwrap();
            let c = Consolidator::open(&conn, &archives(list)).unwrap();
            Store { conn, c }
        }

        /// One committed transaction: the samples, then maintenance at `now`.
        fn feed(&mut self, now: Time, items: &[(&str, Option<&str>, Time, &str)]) {
            let tx = self.conn.transaction().unwrap();
            for (host, service, at, text) in items {
                self.c.add(&tx, host, *service, *at, &item(text)).unwrap();
            }
            self.c.maintain(&tx, now).unwrap();
            tx.commit().unwrap();
        }

        fn one(&mut self, at: Time, value: f64) {
            self.feed(at, &[("h", Some("s"), at, &format!("v={value}"))]);
        }

        fn count(&self, table: &str) -> i64 {
            self.conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .unwrap()
        }

        /// The rows of archive `level`, sealed or not.
        fn stored(&self, level: usize) -> i64 {
            let l = self.c.levels[level];
            let mut stmt = self
                .conn
                .prepare("SELECT data FROM perf_chunks WHERE level = ?1")
                .unwrap();
            let sealed: usize = stmt
                .query_map([level as i64], |r| r.get::<_, Vec<u8>>(0))
                .unwrap()
                .map(|d| codec::decode(l.step, &d.unwrap()).unwrap().len())
                .sum();
            let open: i64 = self
                .conn
                .query_row(
                    "SELECT count(*) FROM perf_rows WHERE level = ?1",
                    [level as i64],
                    |r| r.get(0),
                )
                .unwrap();
            sealed as i64 + open
        }

        fn points(&self, from: Time, to: Time, now: Time) -> (u64, Vec<(Time, f64, f64, f64)>) {
            let s = series_at(&self.conn, 1, from, to, now).unwrap();
            (
                s.step,
                s.points
                    .iter()
                    .map(|p| (p.at, p.min, p.avg, p.max))
                    .collect(),
            )
        }
    }

    #[test]
    fn archives_parse_print_and_check() {
        assert_eq!(
            "1m:48h".parse::<Archive>().unwrap(),
            Archive {
                step: 60,
                span: 172_800
            }
        );
        assert_eq!(
            "6h:4y".parse::<Archive>().unwrap(),
            Archive {
                step: 21_600,
                span: 4 * 365 * 86_400
            }
        );
        assert_eq!(
            "90:3h".parse::<Archive>().unwrap(),
            Archive {
                step: 90,
                span: 10_800
            }
        );
        let shown: Vec<String> = default_archives().iter().map(|a| a.to_string()).collect();
        assert_eq!(shown, ["1m:2d", "5m:10d", "30m:90d", "6h:4y"]);
        assert_eq!(
            default_archives()
                .iter()
                .map(Archive::rows)
                .collect::<Vec<_>>(),
            [2880, 2880, 4320, 5840]
        );
        for (bad, why) in [
            ("1m", "is not STEP:SPAN"),
            ("1x:2h", "unknown unit `x`"),
            ("7m:10m", "a multiple of the step"),
            ("0m:1h", "out of range"),
            ("m:1h", "is not a duration"),
            ("1s:1y", "more than 1000000 rows"),
        ] {
            let e = bad.parse::<Archive>().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(check_archives(&default_archives()).is_ok());
        let e = check_archives(&archives(&["5m:1d", "7m:7d"])).unwrap_err();
        assert!(
            e.contains("archive 7m:7d: its step must be a multiple"),
            "{e}"
        );
        let e = check_archives(&archives(&["1m:1d", "5m:1h"])).unwrap_err();
        assert!(e.contains("must not be shorter"), "{e}");
        assert!(check_archives(&[]).is_err());
    }

    #[test]
    fn rows_hold_min_avg_max_across_level_boundaries() {
        let mut s = Store::new(&["1m:10m", "5m:1h", "15m:3h"]);
        // two samples a minute for 20 minutes: k at 30 k seconds
        for k in 0..40u64 {
            s.one(1_000_020 - 1_000_020 % 900 + k * 30, k as f64);
        }
        let t0 = 1_000_020 - 1_000_020 % 900; // a 15-minute boundary
        let now = t0 + 20 * 60 + 10;
        s.feed(now, &[]);
        // 1-minute rows: (2m, 2m + 0.5, 2m + 1)
        let (step, points) = s.points(t0 + 660, now, now);
        assert_eq!(step, 60);
        assert_eq!(points.len(), 9);
        assert_eq!(points[0], (t0 + 660, 22.0, 22.5, 23.0));
        assert_eq!(points[8], (t0 + 1140, 38.0, 38.5, 39.0));
        // 5-minute rows: samples 10 k .. 10 k + 9
        let (step, points) = s.points(t0, now, now);
        assert_eq!(step, 300);
        assert_eq!(
            points,
            [
                (t0, 0.0, 4.5, 9.0),
                (t0 + 300, 10.0, 14.5, 19.0),
                (t0 + 600, 20.0, 24.5, 29.0),
                (t0 + 900, 30.0, 34.5, 39.0)
            ]
        );
        // 15-minute rows, made from the 5-minute ones; the second not closed yet (its step
        // ends at t0 + 1800) but shown from the finer rows
        let (step, points) = s.points(now - 2 * 3600, now, now);
        assert_eq!(step, 900);
        assert_eq!(
            points,
            [(t0, 0.0, 14.5, 29.0), (t0 + 900, 30.0, 34.5, 39.0)]
        );
        let stored: i64 = s
            .conn
            .query_row("SELECT count(*) FROM perf_rows WHERE level = 2", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(stored, 1);
    }

    #[test]
    fn the_newest_sample_is_in_the_series_at_once() {
        let mut s = Store::new(&["1m:1h", "5m:1d"]);
        s.one(96000, 1.5);
        s.one(96030, 2.5);
        let (step, points) = s.points(95000, 97000, 96031);
        assert_eq!(step, 60);
        assert_eq!(points, [(96000, 1.5, 2.0, 2.5)]);
        // a day back: the 5-minute archive, the open row made of the samples
        let (step, points) = s.points(96031 - 86_000, 97000, 96031);
        assert_eq!(step, 300);
        assert_eq!(points, [(96000, 1.5, 2.0, 2.5)]);
        let m = metric(&s.conn, 1).unwrap().unwrap();
        assert_eq!((m.last_at, m.last), (96030, 2.5));
    }

    #[test]
    fn series_takes_the_finest_archive_covering_from() {
        let mut s = Store::new(&["1m:2h", "10m:1d", "1h:30d"]);
        let start = 3_600_000;
        for k in 0..(3 * 86_400 / 60) {
            s.one(start + k * 60, (k % 100) as f64);
        }
        let now = start + 3 * 86_400;
        for (back, step) in [
            (3600, 60),
            (7200, 60),
            (7260, 600),
            (86_400, 600),
            (86_460, 3600),
            (40 * 86_400, 3600),
        ] {
            let (got, points) = s.points(now - back, now, now);
            assert_eq!(got, step, "{back} s back");
            let first = points.first().unwrap().0;
            if back < 2 * 86_400 {
                assert!(
                    first + step > now - back && first <= now - back,
                    "{back}: first point at {first}"
                );
            }
            let last = points.last().unwrap().0;
            assert_eq!(
                last,
                now - 60 - (now - 60) % step,
                "{back} s back: the newest row"
            );
        }
    }

    /// The per-metric numbers a reader sees, then stored sizes, over many simulated days.
    #[test]
    fn expiry_keeps_the_store_bounded() {
        let mut s = Store::new(&["1m:1h", "10m:6h", "1h:2d"]);
        let start = 7_200_000;
        let mut sizes = Vec::new();
        for day in 0..8u64 {
            for k in 0..(86_400 / 60) {
                let at = start + day * 86_400 + k * 60;
                s.feed(
                    at,
                    &[
                        ("h", Some("s"), at, &format!("v={}", k % 7)),
                        ("h", None, at, "rta=0.5ms"),
                    ],
                );
            }
            sizes.push([0, 1, 2].map(|level| s.stored(level)));
        }
        // per metric and archive at most span + a chunk's window (+ the open row), and
        // at least the span: the same from the third day (the longest span + window) on
        let bound = [60 + 70 + 1, 36 + 66 + 1, 48 + 64 + 1].map(|n| 2 * n);
        for day in &sizes[2..] {
            for level in 0..3 {
                assert!(day[level] <= bound[level], "{sizes:?}");
                assert!(day[level] >= [120, 72, 96][level], "{sizes:?}");
            }
        }
        let now = start + 8 * 86_400;
        let (step, points) = s.points(now - 2 * 86_400, now, now);
        assert_eq!(step, 3600);
        assert_eq!(points.len(), 48);
        assert!(points
            .iter()
            .all(|&(_, min, avg, max)| min == 0.0 && max == 6.0 && (2.9..=3.1).contains(&avg)));
    }

    #[test]
    fn a_restart_goes_on_where_the_last_commit_left() {
        let list = ["1m:1h", "5m:1d", "1h:30d"];
        let mut whole = Store::new(&list);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("h.db");
        let conn = Connection::open(&path).unwrap();
        let c = Consolidator::open(&conn, &archives(&list)).unwrap();
        let mut cut = Store { conn, c };
        let start = 10_800_000;
        for k in 0..(5 * 3600 / 45) {
            let at = start + k * 45;
            let v = ((k * 37) % 101) as f64 / 10.0;
            whole.one(at, v);
            cut.one(at, v);
            if k % 97 == 13 {
                // killed: the consolidator's memory is gone, the committed tables stay
                cut.conn = Connection::open(&path).unwrap();
                cut.c = Consolidator::open(&cut.conn, &archives(&list)).unwrap();
            }
        }
        let now = start + 5 * 3600;
        for back in [1800, 6 * 3600, 10 * 86_400] {
            let a = whole.points(now - back, now, now);
            let b = cut.points(now - back, now, now);
            assert!(!a.1.is_empty());
            assert_eq!(a, b, "{back} s back");
        }
    }

    #[test]
    fn metrics_keep_unit_levels_and_the_newest_value() {
        let mut s = Store::new(&["1m:1h"]);
        s.feed(
            100,
            &[
                ("web", Some("HTTP"), 100, "time=0.012s;0.5;1;0;"),
                ("web", Some("HTTP"), 100, "size=512B;;;0"),
            ],
        );
        s.feed(
            160,
            &[("web", Some("HTTP"), 160, "time=0.02s;@1:2;~:3;0;10")],
        );
        s.feed(170, &[("web", None, 170, "pl=0%;20;60")]);
        let list = metrics(&s.conn, "web", Some("HTTP")).unwrap();
        let labels: Vec<&str> = list.iter().map(|m| m.label.as_str()).collect();
        assert_eq!(labels, ["size", "time"]);
        let t = &list[1];
        assert_eq!(
            (t.unit.as_str(), t.warn.as_deref(), t.crit.as_deref()),
            ("s", Some("@1:2"), Some("~:3"))
        );
        assert_eq!(
            (t.min, t.max, t.last_at, t.last),
            (Some(0.0), Some(10.0), 160, 0.02)
        );
        let host = metrics(&s.conn, "web", None).unwrap();
        assert_eq!(
            (
                host.len(),
                host[0].unit.as_str(),
                host[0].service.as_deref()
            ),
            (1, "%", None)
        );
        assert_eq!(metric(&s.conn, host[0].id).unwrap().unwrap(), host[0]);
        assert_eq!(metric(&s.conn, 99).unwrap(), None);
        assert!(matches!(
            series(&s.conn, 99, 0, 10),
            Err(rusqlite::Error::QueryReturnedNoRows)
        ));
        // a store made without perfdata has no tables: nothing, not an error
        let empty = Connection::open_in_memory().unwrap();
        assert_eq!(metrics(&empty, "web", None).unwrap(), vec![]);
    }

    #[test]
    fn bad_and_late_samples_are_dropped() {
        let mut s = Store::new(&["1m:1h"]);
        s.one(120, 1.0);
        let tx = s.conn.transaction().unwrap();
        s.c.add(&tx, "h", Some("s"), 125, &PerfData::new("v", f64::NAN))
            .unwrap();
        s.c.add(&tx, "h", Some("s"), 126, &PerfData::new("v", f64::INFINITY))
            .unwrap();
        tx.commit().unwrap();
        s.one(120, 2.0); // not newer
        s.one(60, 3.0); // clock set back
        let (_, points) = s.points(0, 200, 200);
        assert_eq!(points, [(120, 1.0, 1.0, 1.0)]);
        assert_eq!(s.c.dropped, 2);
        // ever new labels: at most MAX_METRICS_PER_OBJECT of them
        for k in 0..(MAX_METRICS_PER_OBJECT + 5) {
            s.feed(200, &[("h", Some("t"), 200, &format!("l{k}=1"))]);
        }
        assert_eq!(
            metrics(&s.conn, "h", Some("t")).unwrap().len() as i64,
            MAX_METRICS_PER_OBJECT
        );
        let long = format!("'{}'=1", "é".repeat(150));
        s.feed(200, &[("h", Some("u"), 200, &long)]);
        let m = metrics(&s.conn, "h", Some("u")).unwrap();
        assert_eq!(m[0].label.len(), MAX_LABEL);
    }

    #[test]
    fn metrics_without_samples_go_after_the_longest_span() {
        let mut s = Store::new(&["1m:1h", "5m:2h"]);
        s.one(60_000, 1.0);
        for k in 1..=2000 {
            s.feed(60_000 + 2 * 3600 + k * 20, &[]);
        }
        assert_eq!(
            (
                s.count("perf_metrics"),
                s.count("perf_chunks"),
                s.count("perf_rows")
            ),
            (0, 0, 0)
        );
        assert!(s.c.is_empty());
        s.one(100_000, 2.0);
        assert_eq!(metrics(&s.conn, "h", Some("s")).unwrap()[0].last, 2.0);
    }

    #[test]
    fn changed_steps_drop_the_rows_they_made() {
        let conn = Connection::open_in_memory().unwrap();
        let mut c = Consolidator::open(&conn, &archives(&["1m:1h", "5m:1d"])).unwrap();
        let tx = conn.unchecked_transaction().unwrap();
        for k in 0..30 {
            c.add(&tx, "h", None, 600 + k * 60, &item("v=1")).unwrap();
        }
        c.maintain(&tx, 3000).unwrap();
        tx.commit().unwrap();
        let level1 = |conn: &Connection| -> i64 {
            conn.query_row("SELECT (SELECT count(*) FROM perf_rows WHERE level = 1) + (SELECT count(*) FROM perf_chunks WHERE level = 1)", [], |r| r.get(0)).unwrap()
        };
        assert!(level1(&conn) > 0);
        Consolidator::open(&conn, &archives(&["1m:2h", "5m:1d"])).unwrap();
        assert!(level1(&conn) > 0, "a longer span keeps the rows");
        Consolidator::open(&conn, &archives(&["1m:2h", "10m:1d"])).unwrap();
        assert_eq!(level1(&conn), 0);
    }
}
