//! check_log: watches log files (or the systemd journal) for regular expressions, in
//! the manner of Logsurfer: critical and warning patterns, an exception list for each,
//! ok patterns that clear what was seen before them, thresholds on match counts, the
//! last matching lines shown.
//!
//! Only new lines are read at each run: the position reached in each file is kept per
//! (file, search) in the state directory. A rotation (the inode changes, or the file
//! shrinks, or its first bytes change) is detected, and the rest of the rotated file —
//! `FILE.1` or `FILE.1.gz` by default, or the configured names, found by its first
//! bytes — is read before the new file, so no line written before the rotation is
//! missed. A partial last line is left for the next run.

pub mod oldlog;

use crate::host::statefile;
use crate::host::subprocess;
use crate::plugin::args::RangeArgs;
use crate::plugin::regular_file;
use crate::plugin::{judge, Observed};
use crate::plugin::{
    shown, Check, CheckResult, CommonArgs, PerfData, Range, State, Thresholds, UsageError, Work,
};
use clap::Parser;
use regex::Regex;
use serde::Deserialize;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How many leading bytes identify a file across a rotation.
const HEAD_BYTES: u64 = 512;

/// Command line of check_log.
#[derive(Parser, Debug)]
#[command(
    mut_arg("warning", |a| a.help("Range on the number of warning matches (default 0: any match warns)")),
    mut_arg("critical", |a| a.help("Range on the number of critical matches (default 0: any match is critical)")),
    name = "check_log",
    version,
    about = "Watches log files or the systemd journal for patterns, reading only the lines added since the last run (rotations included).\n\nA search is given by the options below, or several by --config FILE (TOML, [[search]] tables with the same keys: file, journal, unit, critical, warning, critical_exceptions, warning_exceptions, ok, rotated, warning_count, critical_count, missing, from_start).\n\nmonitoring-plugins' form is accepted too: -F LOG -O OLDLOG -q QUERY [--exclude REGEX] [-e|-p] [-a]. OLDLOG is a copy of the log made at each run; the lines not in it are searched, a match is CRITICAL. Where it differs on purpose: the new lines are those after the copy when the log grew, else those the copy does not hold (monitoring-plugins runs diff, whose hunk headers can match a query); -p is Rust's regular expression syntax; the copy is never written through a symbolic link; a log over 256 MiB is UNKNOWN.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, unreadable file or state, internal error). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Log file to watch
    #[arg(
        short = 'F',
        long = "logfile",
        visible_alias = "filename",
        value_name = "FILE"
    )]
    pub logfile: Option<PathBuf>,

    /// monitoring-plugins' form: a copy of the log as it was at the last run (made at
    /// the first run, which is OK). The new lines are searched for -q; a match is
    /// CRITICAL, printed as "(COUNT) LAST MATCHING LINE". The copy is never followed
    /// through a symbolic link
    #[arg(short = 'O', long = "oldlog", value_name = "FILE")]
    pub oldlog: Option<PathBuf>,

    /// With -O: the regular expression searched for (grep's basic syntax; -e, -p)
    #[arg(short = 'q', long = "query", value_name = "REGEX")]
    pub query: Option<String>,

    /// With -O: matching lines that also match this are not counted
    #[arg(long = "exclude", value_name = "REGEX")]
    pub exclude: Option<String>,

    /// With -O: -q and --exclude are POSIX extended expressions (grep -E)
    #[arg(short = 'e', long = "extended-regex")]
    pub extended_regex: bool,

    /// With -O: -q and --exclude are Perl-style (Rust syntax: no look-around or
    /// back-references, which are refused)
    #[arg(short = 'p', long = "perl-regex")]
    pub perl_regex: bool,

    /// With -O: show every matching line, not only the last
    #[arg(short = 'a', long = "all")]
    pub all: bool,

    /// With -O: accepted as monitoring-plugins accepts it, and ignored as it ignores it
    /// (matches are CRITICAL)
    #[arg(short = 'x', long = "exitstatus", value_name = "STATE", hide = true)]
    pub exitstatus: Option<String>,

    /// Watch the systemd journal instead of a file
    #[arg(long = "journal", conflicts_with = "logfile")]
    pub journal: bool,

    /// Only this unit's journal entries (journalctl -u UNIT)
    #[arg(long = "unit", value_name = "UNIT", requires = "journal")]
    pub unit: Option<String>,

    /// Read this journal directory (journalctl -D DIR) instead of the system journal
    #[arg(long = "journal-dir", value_name = "DIR", requires = "journal")]
    pub journal_dir: Option<PathBuf>,

    /// A line matching this regular expression is a critical match (repeatable)
    #[arg(long = "critical-pattern", value_name = "REGEX")]
    pub critical_patterns: Vec<String>,

    /// A line matching this regular expression is a warning match (repeatable)
    #[arg(long = "warning-pattern", value_name = "REGEX")]
    pub warning_patterns: Vec<String>,

    /// A critical match that also matches this is ignored (repeatable)
    #[arg(long = "critical-exception", value_name = "REGEX")]
    pub critical_exceptions: Vec<String>,

    /// A warning match that also matches this is ignored (repeatable)
    #[arg(long = "warning-exception", value_name = "REGEX")]
    pub warning_exceptions: Vec<String>,

    /// A line matching this clears the matches seen before it (repeatable)
    #[arg(long = "ok-pattern", value_name = "REGEX")]
    pub ok_patterns: Vec<String>,

    #[command(flatten)]
    pub levels: RangeArgs,

    /// Where the rotated file goes (repeatable; globs allowed; default FILE.1 and FILE.1.gz)
    #[arg(long = "rotated", value_name = "PATH")]
    pub rotated: Vec<String>,

    /// State when the log file does not exist
    #[arg(long = "missing", value_name = "STATE", default_value = "unknown")]
    pub missing: State,

    /// On the first run, read the lines already in the file (default: start at its end)
    #[arg(long = "from-start")]
    pub from_start: bool,

    /// How many of the last matching lines to show
    #[arg(long = "lines", value_name = "N", default_value_t = 5)]
    pub lines: usize,

    /// Several searches from a TOML file (instead of the search options)
    #[arg(long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory for the positions reached (created if missing)
    #[arg(long = "state-dir", value_name = "DIR", default_value = statefile::DEFAULT_STATE_DIR)]
    pub state_dir: PathBuf,

    /// The journalctl binary
    #[arg(long = "journalctl", value_name = "PATH", default_value = "journalctl")]
    pub journalctl: String,
}

/// Where a search reads its lines.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A log file and where its rotated predecessor may be.
    File { path: PathBuf, rotated: Vec<String> },
    /// The systemd journal, optionally one unit's, optionally from a directory.
    Journal {
        unit: Option<String>,
        dir: Option<PathBuf>,
    },
}

/// The patterns of a search.
#[derive(Debug, Clone)]
pub struct Patterns {
    pub critical: Vec<Regex>,
    pub warning: Vec<Regex>,
    pub critical_exceptions: Vec<Regex>,
    pub warning_exceptions: Vec<Regex>,
    pub ok: Vec<Regex>,
}

/// One validated search.
#[derive(Debug, Clone)]
pub struct Search {
    pub name: String,
    pub source: Source,
    pub patterns: Patterns,
    pub warning: Range,
    pub critical: Range,
    pub missing: State,
    pub from_start: bool,
}

/// The validated check.
#[derive(Debug)]
pub struct LogCheck {
    /// The search of the command line (none with `--config`).
    pub searches: Vec<Search>,
    /// monitoring-plugins' `-F LOG -O OLDLOG -q QUERY` form, instead of the searches.
    pub oldlog: Option<oldlog::Oldlog>,
    /// `--config`: the searches are read from this file when the check runs
    /// (validation does no I/O).
    pub config: Option<PathBuf>,
    pub lines: usize,
    pub state_dir: PathBuf,
    pub journalctl: String,
    pub timeout: Duration,
}

/// One `[[search]]` table of the TOML configuration.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SearchConfig {
    name: Option<String>,
    file: Option<PathBuf>,
    #[serde(default)]
    journal: bool,
    unit: Option<String>,
    journal_dir: Option<PathBuf>,
    #[serde(default)]
    critical: Vec<String>,
    #[serde(default)]
    warning: Vec<String>,
    #[serde(default)]
    critical_exceptions: Vec<String>,
    #[serde(default)]
    warning_exceptions: Vec<String>,
    #[serde(default)]
    ok: Vec<String>,
    #[serde(default)]
    rotated: Vec<String>,
    warning_count: Option<String>,
    critical_count: Option<String>,
    missing: Option<String>,
    #[serde(default)]
    from_start: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    search: Vec<SearchConfig>,
}

fn regexes(list: &[String], what: &str) -> Result<Vec<Regex>, UsageError> {
    list.iter()
        .map(|p| {
            Regex::new(p).map_err(|e| {
                let first = e.to_string();
                let last = first.lines().last().unwrap_or("invalid").trim().to_string();
                UsageError(format!("bad {what} pattern '{}': {last}", shown(p)))
            })
        })
        .collect()
}

impl SearchConfig {
    fn build(self, index: usize) -> Result<Search, UsageError> {
        let source = match (self.file, self.journal) {
            (Some(_), true) => {
                return Err(UsageError::new(
                    "a search has both a file and journal = true",
                ))
            }
            (Some(path), false) => {
                for r in &self.rotated {
                    glob::Pattern::new(r)
                        .map_err(|e| UsageError(format!("bad rotated path '{}': {e}", shown(r))))?;
                }
                Source::File {
                    path,
                    rotated: self.rotated,
                }
            }
            (None, true) => Source::Journal {
                unit: self.unit,
                dir: self.journal_dir,
            },
            (None, false) => {
                return Err(UsageError::new(
                    "nothing to watch: give a log file (-F FILE) or --journal",
                ))
            }
        };
        if self.critical.is_empty() && self.warning.is_empty() {
            return Err(UsageError::new(
                "no pattern: give --critical-pattern or --warning-pattern",
            ));
        }
        let range = |t: Option<String>| -> Result<Range, UsageError> {
            t.as_deref()
                .unwrap_or("0")
                .parse()
                .map_err(|e: crate::plugin::range::RangeError| UsageError(e.to_string()))
        };
        let name = self.name.unwrap_or_else(|| match &source {
            Source::File { path, .. } => path.display().to_string(),
            Source::Journal { unit: Some(u), .. } => format!("journal:{u}"),
            Source::Journal { .. } => format!("journal#{index}"),
        });
        Ok(Search {
            name,
            source,
            patterns: Patterns {
                critical: regexes(&self.critical, "critical")?,
                warning: regexes(&self.warning, "warning")?,
                critical_exceptions: regexes(&self.critical_exceptions, "critical exception")?,
                warning_exceptions: regexes(&self.warning_exceptions, "warning exception")?,
                ok: regexes(&self.ok, "ok")?,
            },
            warning: range(self.warning_count)?,
            critical: range(self.critical_count)?,
            missing: match self.missing {
                None => State::Unknown,
                Some(m) => m.parse().map_err(UsageError)?,
            },
            from_start: self.from_start,
        })
    }
}

/// What a run of check_log observed: the searches made (the command line's, or those
/// read from `--config` at this run) and what each found; or why `--config` could not
/// be read.
pub type LogFacts = Observed<Searched>;

/// The searches of one run and their outcomes, in the same order.
#[derive(Debug, Clone)]
pub struct Searched {
    pub searches: Vec<Search>,
    pub outcomes: Vec<Outcome>,
    /// The outcome of the `-O` form (then `searches` is empty).
    pub oldlog: Option<oldlog::OldlogOutcome>,
}

impl Check for LogCheck {
    type Args = Args;
    type Facts = LogFacts;
    const LABEL: &'static str = "LOG";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let peer_form = args.oldlog.is_some()
            || args.query.is_some()
            || args.exclude.is_some()
            || args.extended_regex
            || args.perl_regex
            || args.all;
        if peer_form {
            let ours = !(args.critical_patterns.is_empty()
                && args.warning_patterns.is_empty()
                && args.critical_exceptions.is_empty()
                && args.warning_exceptions.is_empty()
                && args.ok_patterns.is_empty())
                || args.journal
                || args.config.is_some();
            if ours {
                return Err(UsageError::new(
                    "-O/-q (monitoring-plugins' form) cannot be combined with the pattern options, --journal or --config",
                ));
            }
            let o = oldlog::Oldlog::new(
                args.logfile,
                args.oldlog,
                args.query,
                args.exclude,
                args.extended_regex,
                args.perl_regex,
                args.all,
            )?;
            return Ok(LogCheck {
                searches: Vec::new(),
                oldlog: Some(o),
                config: None,
                lines: args.lines,
                state_dir: args.state_dir,
                journalctl: args.journalctl,
                timeout: args.common.timeout.duration,
            });
        }
        if args.config.is_some() {
            if args.logfile.is_some() || args.journal {
                return Err(UsageError::new(
                    "give either --config or a search on the command line, not both",
                ));
            }
            return Ok(LogCheck {
                searches: Vec::new(),
                oldlog: None,
                config: args.config,
                lines: args.lines,
                state_dir: args.state_dir,
                journalctl: args.journalctl,
                timeout: args.common.timeout.duration,
            });
        }
        let search = SearchConfig {
            name: None,
            file: args.logfile,
            journal: args.journal,
            unit: args.unit,
            journal_dir: args.journal_dir,
            critical: args.critical_patterns,
            warning: args.warning_patterns,
            critical_exceptions: args.critical_exceptions,
            warning_exceptions: args.warning_exceptions,
            ok: args.ok_patterns,
            rotated: args.rotated,
            warning_count: args.levels.warning.map(|r| r.to_string()),
            critical_count: args.levels.critical.map(|r| r.to_string()),
            missing: Some(args.missing.to_string()),
            from_start: args.from_start,
        }
        .build(0)?;
        Ok(LogCheck {
            searches: vec![search],
            oldlog: None,
            config: None,
            lines: args.lines,
            state_dir: args.state_dir,
            journalctl: args.journalctl,
            timeout: args.common.timeout.duration,
        })
    }

    fn fetch(&self) -> Work<'_, LogFacts> {
        Work::local(move || {
            if let Some(o) = &self.oldlog {
                return Ok(Searched {
                    searches: Vec::new(),
                    outcomes: Vec::new(),
                    oldlog: Some(o.run()),
                });
            }
            let searches = self.load_searches()?.into_owned();
            let outcomes = searches.iter().map(|s| self.scan(s)).collect();
            Ok(Searched {
                searches,
                outcomes,
                oldlog: None,
            })
        })
    }

    fn evaluate(&self, facts: &LogFacts) -> CheckResult {
        judge(facts, |f| match (&f.oldlog, &self.oldlog) {
            (Some(o), Some(form)) => oldlog::evaluate(o, form.all),
            _ => evaluate(&f.outcomes, &f.searches),
        })
    }
}

/// Reads the `[[search]]` tables of a `--config` file into searches.
fn read_config(path: &Path) -> Result<Vec<Search>, String> {
    let name = || shown(&path.display().to_string());
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", name()))?;
    let cfg: ConfigFile = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: {}",
            name(),
            e.to_string().lines().last().unwrap_or("invalid TOML")
        )
    })?;
    if cfg.search.is_empty() {
        return Err(format!("{}: no [[search]] table", name()));
    }
    cfg.search
        .into_iter()
        .enumerate()
        .map(|(i, c)| c.build(i).map_err(|e| e.0))
        .collect()
}

impl LogCheck {
    /// The searches: those of the command line, or those read now from `--config`.
    pub fn load_searches(&self) -> Result<std::borrow::Cow<'_, [Search]>, String> {
        match &self.config {
            Some(path) => read_config(path).map(std::borrow::Cow::Owned),
            None => Ok(std::borrow::Cow::Borrowed(&self.searches)),
        }
    }
}

/// The matches of one run of one search.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Matches {
    pub lines_read: u64,
    pub critical: u64,
    pub warning: u64,
    /// The last matching lines, oldest first, with their state.
    pub last: Vec<(State, String)>,
}

impl Matches {
    /// Feeds one line through the patterns.
    pub fn feed(&mut self, line: &str, p: &Patterns, keep: usize) {
        self.lines_read += 1;
        if p.ok.iter().any(|r| r.is_match(line)) {
            self.critical = 0;
            self.warning = 0;
            self.last.clear();
            return;
        }
        let hit = |pats: &[Regex], except: &[Regex]| {
            pats.iter().any(|r| r.is_match(line)) && !except.iter().any(|r| r.is_match(line))
        };
        let state = if hit(&p.critical, &p.critical_exceptions) {
            self.critical += 1;
            State::Critical
        } else if hit(&p.warning, &p.warning_exceptions) {
            self.warning += 1;
            State::Warning
        } else {
            return;
        };
        if keep > 0 {
            if self.last.len() == keep {
                self.last.remove(0);
            }
            self.last.push((state, line.to_string()));
        }
    }
}

/// What one search found, or why it could not look.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub result: Result<Matches, (State, String)>,
    /// Remarks about rotations (`rotated from ... (12 lines)`, a rotated file not found).
    pub notes: Vec<String>,
}

/// The position reached in a file: its inode, the offset after the last whole line,
/// and a hash of its first bytes (up to [`HEAD_BYTES`], never past the offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FilePos {
    pub inode: u64,
    pub offset: u64,
    pub head_len: u64,
    pub head_hash: u64,
}

impl FilePos {
    /// The state file text.
    pub fn render(&self) -> String {
        format!(
            "inode {}\noffset {}\nhead {} {:016x}\n",
            self.inode, self.offset, self.head_len, self.head_hash
        )
    }

    /// Reads the state file text.
    pub fn parse(text: &str) -> Option<FilePos> {
        let mut p = FilePos::default();
        let mut seen = 0;
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["inode", n] => p.inode = n.parse().ok()?,
                ["offset", n] => p.offset = n.parse().ok()?,
                ["head", n, h] => {
                    p.head_len = n.parse().ok()?;
                    p.head_hash = u64::from_str_radix(h, 16).ok()?;
                }
                _ => return None,
            }
            seen += 1;
        }
        (seen == 3).then_some(p)
    }
}

/// Hash of the first `len` bytes of a reader (fewer if it is shorter).
fn head_hash(r: impl Read, len: u64) -> std::io::Result<(u64, u64)> {
    let mut buf = Vec::with_capacity(len as usize);
    r.take(len).read_to_end(&mut buf)?;
    Ok((buf.len() as u64, statefile::stable_hash(&buf)))
}

/// Reads whole lines from `r` into `m`; returns the bytes consumed (a last line without
/// its newline is left unread).
fn read_lines(r: impl Read, m: &mut Matches, p: &Patterns, keep: usize) -> std::io::Result<u64> {
    let mut reader = BufReader::new(r);
    let mut buf = Vec::new();
    let mut used = 0;
    loop {
        buf.clear();
        let n = reader.read_until(b'\n', &mut buf)?;
        if n == 0 || buf.last() != Some(&b'\n') {
            return Ok(used);
        }
        used += n as u64;
        let text = String::from_utf8_lossy(&buf);
        m.feed(text.trim_end_matches(['\n', '\r']), p, keep);
    }
}

/// Opens a rotated candidate: gzip-compressed when its name ends in `.gz`.
fn open_maybe_gz(path: &Path) -> std::io::Result<Box<dyn Read>> {
    // a FIFO or device put where a rotated log is expected is skipped, never waited on
    let f = regular_file::open_regular(path, false)?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(flate2::read::MultiGzDecoder::new(f)))
    } else {
        Ok(Box::new(f))
    }
}

fn rotated_candidates(path: &Path, patterns: &[String]) -> Vec<PathBuf> {
    if patterns.is_empty() {
        let s = path.display().to_string();
        return vec![
            PathBuf::from(format!("{s}.1")),
            PathBuf::from(format!("{s}.1.gz")),
        ];
    }
    let mut out = Vec::new();
    for p in patterns {
        match glob::glob(p) {
            Ok(paths) => {
                let mut found: Vec<PathBuf> = paths.flatten().collect();
                found.sort();
                out.extend(found);
            }
            Err(_) => out.push(PathBuf::from(p)),
        }
    }
    out
}

/// Reads the rest (after `pos.offset`) of the rotated file that starts with the bytes
/// `pos` remembers; `None` when no candidate does.
fn read_rotated(
    pos: &FilePos,
    candidates: &[PathBuf],
    m: &mut Matches,
    p: &Patterns,
    keep: usize,
) -> Option<(PathBuf, u64)> {
    for c in candidates {
        let Ok(r) = open_maybe_gz(c) else { continue };
        if !matches!(head_hash(r, pos.head_len), Ok((len, h)) if len == pos.head_len && h == pos.head_hash)
        {
            continue;
        }
        let Ok(mut r) = open_maybe_gz(c) else {
            continue;
        };
        if std::io::copy(&mut (&mut r).take(pos.offset), &mut std::io::sink()).ok()? != pos.offset {
            continue;
        }
        let before = m.lines_read;
        read_lines(r, m, p, keep).ok()?;
        return Some((c.clone(), m.lines_read - before));
    }
    None
}

impl LogCheck {
    fn state_path(&self, s: &Search) -> PathBuf {
        let key = match &s.source {
            Source::File { path, .. } => format!("file\0{}\0{}", path.display(), s.name),
            Source::Journal { unit, dir } => format!(
                "journal\0{}\0{}\0{}",
                unit.as_deref().unwrap_or(""),
                dir.as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default(),
                s.name
            ),
        };
        statefile::path_for(&self.state_dir, "log", &key)
    }

    /// Reads the new lines of one search and saves its new position.
    pub fn scan(&self, s: &Search) -> Outcome {
        let mut notes = Vec::new();
        let result = match &s.source {
            Source::File { path, rotated } => self.scan_file(s, path, rotated, &mut notes),
            Source::Journal { unit, dir } => self.scan_journal(s, unit, dir),
        };
        Outcome {
            name: s.name.clone(),
            result,
            notes,
        }
    }

    fn scan_file(
        &self,
        s: &Search,
        path: &Path,
        rotated: &[String],
        notes: &mut Vec<String>,
    ) -> Result<Matches, (State, String)> {
        let unknown = |e: String| (State::Unknown, e);
        let state_path = self.state_path(s);
        let saved = match statefile::read(&state_path).map_err(unknown)? {
            None => None,
            Some(t) => Some(FilePos::parse(&t).ok_or_else(|| {
                unknown(format!(
                    "state file {} is damaged; delete it to start again at the end of {}",
                    state_path.display(),
                    path.display()
                ))
            })?),
        };
        // only a regular file, opened without waiting: a FIFO or device put where the
        // log is expected is UNKNOWN at once instead of holding the check
        let mut file = match regular_file::open_regular(path, false) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err((s.missing, format!("{} does not exist", path.display())))
            }
            Err(e) => return Err(unknown(format!("cannot open {}: {e}", path.display()))),
        };
        let io = |e: std::io::Error| unknown(format!("cannot read {}: {e}", path.display()));
        let meta = file.metadata().map_err(io)?;
        let mut m = Matches::default();
        let keep = self.lines;
        let start = match saved {
            None if s.from_start => 0,
            None => {
                // first run: start at the end of the last whole line
                last_line_end(&mut file, meta.len()).map_err(io)?
            }
            Some(pos) => {
                file.seek(SeekFrom::Start(0)).map_err(io)?;
                let (len, hash) = head_hash(&mut file, pos.head_len).map_err(io)?;
                let same = pos.inode == meta.ino()
                    && meta.len() >= pos.offset
                    && len == pos.head_len
                    && hash == pos.head_hash;
                if same {
                    pos.offset
                } else {
                    let candidates = rotated_candidates(path, rotated);
                    match read_rotated(&pos, &candidates, &mut m, &s.patterns, keep) {
                        Some((from, n)) => notes.push(format!(
                            "rotated: {n} line{} read from {}",
                            if n == 1 { "" } else { "s" },
                            from.display()
                        )),
                        None if pos.inode == meta.ino() && meta.len() < pos.offset => {
                            notes.push(format!("{} was truncated", path.display()))
                        }
                        None => notes.push(format!(
                            "{} was replaced and its rotated file was not found (tried {}): lines written before the rotation may be missed",
                            path.display(),
                            candidates
                                .iter()
                                .map(|c| c.display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )),
                    }
                    0
                }
            }
        };
        file.seek(SeekFrom::Start(start)).map_err(io)?;
        let used = read_lines(&mut file, &mut m, &s.patterns, keep).map_err(io)?;
        let offset = start + used;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        let (head_len, head_hash) = head_hash(&mut file, offset.min(HEAD_BYTES)).map_err(io)?;
        let pos = FilePos {
            inode: meta.ino(),
            offset,
            head_len,
            head_hash,
        };
        statefile::write_atomic(&state_path, pos.render().as_bytes()).map_err(unknown)?;
        Ok(m)
    }

    fn scan_journal(
        &self,
        s: &Search,
        unit: &Option<String>,
        dir: &Option<PathBuf>,
    ) -> Result<Matches, (State, String)> {
        let unknown = |e: String| (State::Unknown, e);
        let state_path = self.state_path(s);
        let cursor = statefile::read(&state_path)
            .map_err(unknown)?
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        let mut args: Vec<String> = vec!["--output=json".into(), "--no-pager".into()];
        if let Some(d) = dir {
            args.push(format!("--directory={}", d.display()));
        }
        if let Some(u) = unit {
            args.push(format!("--unit={u}"));
        }
        match &cursor {
            Some(c) => args.push(format!("--after-cursor={c}")),
            None if s.from_start => {}
            None => args.push("--lines=1".into()),
        }
        let out = subprocess::run(&self.journalctl, &args, self.timeout).map_err(unknown)?;
        if !out.success {
            return Err(unknown(format!(
                "{} failed: {}",
                self.journalctl,
                out.complaint()
            )));
        }
        let entries = parse_journal_json(&out.stdout).map_err(unknown)?;
        let mut m = Matches::default();
        // on a first run without --from-start only the position is taken
        let read = cursor.is_some() || s.from_start;
        let mut last = cursor.clone();
        for (c, msg) in entries {
            if read {
                m.feed(&msg, &s.patterns, self.lines);
            }
            last = Some(c);
        }
        if let Some(c) = last.filter(|c| Some(c) != cursor.as_ref()) {
            statefile::write_atomic(&state_path, format!("{c}\n").as_bytes()).map_err(unknown)?;
        }
        Ok(m)
    }
}

/// The offset just after the last newline of a file of `len` bytes.
fn last_line_end(file: &mut std::fs::File, len: u64) -> std::io::Result<u64> {
    let mut end = len;
    let mut buf = [0u8; 4096];
    while end > 0 {
        let from = end.saturating_sub(buf.len() as u64);
        file.seek(SeekFrom::Start(from))?;
        let chunk = &mut buf[..(end - from) as usize];
        file.read_exact(chunk)?;
        if let Some(i) = chunk.iter().rposition(|b| *b == b'\n') {
            return Ok(from + i as u64 + 1);
        }
        end = from;
    }
    Ok(0)
}

/// Parses `journalctl --output=json`: one object per line; returns (cursor, message)
/// pairs. A MESSAGE that is not valid UTF-8 comes as an array of bytes.
pub fn parse_journal_json(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line)
            .map_err(|e| format!("journalctl printed something that is not JSON ({e})"))?;
        let cursor = v["__CURSOR"]
            .as_str()
            .ok_or("journalctl: an entry without __CURSOR")?
            .to_string();
        let msg = match &v["MESSAGE"] {
            serde_json::Value::String(s) => s.clone(),
            serde_json::Value::Array(bytes) => {
                let b: Vec<u8> = bytes
                    .iter()
                    .filter_map(|x| x.as_u64().map(|n| n as u8))
                    .collect();
                String::from_utf8_lossy(&b).into_owned()
            }
            _ => String::new(),
        };
        out.push((cursor, msg));
    }
    Ok(out)
}

/// Turns the outcomes of all searches into the result (pure).
pub fn evaluate(outcomes: &[Outcome], searches: &[Search]) -> CheckResult {
    let many = outcomes.len() > 1;
    let mut parts = Vec::new();
    let mut subs: Vec<(Option<State>, String)> = Vec::new();
    let mut perf = Vec::new();
    let mut state = State::Ok;
    for (o, s) in outcomes.iter().zip(searches) {
        let prefix = if many {
            format!("{}: ", o.name)
        } else {
            String::new()
        };
        match &o.result {
            Err((st, text)) => {
                state = state.worst(*st);
                parts.push(format!("{prefix}{text}"));
            }
            Ok(m) => {
                let t_c = Thresholds::new(None, Some(s.critical));
                let t_w = Thresholds::new(Some(s.warning), None);
                let st = t_c
                    .state(m.critical as f64)
                    .worst(t_w.state(m.warning as f64));
                state = state.worst(st);
                parts.push(format!(
                    "{prefix}{} critical, {} warning match{} in {} new line{}",
                    m.critical,
                    m.warning,
                    if m.warning == 1 { "" } else { "es" },
                    m.lines_read,
                    if m.lines_read == 1 { "" } else { "s" }
                ));
                for (ls, line) in &m.last {
                    subs.push((Some(*ls), format!("{prefix}{line}")));
                }
                let label = |what: &str| {
                    if many {
                        format!("{}_{what}", o.name)
                    } else {
                        what.to_string()
                    }
                };
                perf.push(PerfData::new(label("lines"), m.lines_read).min(0));
                perf.push(
                    PerfData::new(label("critical"), m.critical)
                        .thresholds(&t_c)
                        .min(0),
                );
                perf.push(
                    PerfData::new(label("warning"), m.warning)
                        .thresholds(&t_w)
                        .min(0),
                );
            }
        }
        for n in &o.notes {
            subs.push((None, format!("{prefix}{n}")));
        }
    }
    let summary = if many {
        parts.join("; ")
    } else {
        match outcomes.first() {
            Some(o) => format!("{}: {}", o.name, parts.join("")),
            None => "no search".to_string(),
        }
    };
    let mut r = CheckResult::new(state, summary);
    for (st, text) in subs {
        match st {
            // matched lines carry their own state but must not raise the overall one
            // beyond what the count thresholds decided
            Some(s) => r.push_line(format!("[{s}] {text}")),
            None => r.push_line(text),
        }
    }
    for p in perf {
        r.push_perf(p);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use std::io::Write;

    fn check(argv: &[&str]) -> Result<LogCheck, UsageError> {
        validate::<LogCheck>(argv)
    }

    /// The check's verdict on hand-made outcomes of `searches`.
    fn verdict(c: &LogCheck, searches: &[Search], outcomes: &[Outcome]) -> CheckResult {
        c.evaluate(&Ok(Searched {
            searches: searches.to_vec(),
            outcomes: outcomes.to_vec(),
            oldlog: None,
        }))
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn patterns_exceptions_and_ok_lines() {
        let c = check(&[
            "-F",
            "/x",
            "--critical-pattern",
            "error",
            "--critical-exception",
            "harmless",
            "--warning-pattern",
            "warn|error",
            "--ok-pattern",
            "recovered",
        ])
        .unwrap();
        let p = &c.searches[0].patterns;
        let mut m = Matches::default();
        for l in [
            "error one",
            "warn two",
            "error harmless",
            "recovered",
            "error three",
        ] {
            m.feed(l, p, 2);
        }
        assert_eq!(m.lines_read, 5);
        assert_eq!((m.critical, m.warning), (1, 0));
        assert_eq!(m.last, [(State::Critical, "error three".to_string())]);
        let mut m = Matches::default();
        for l in ["error a", "error harmless", "error b", "error c"] {
            m.feed(l, p, 2);
        }
        assert_eq!((m.critical, m.warning), (3, 1));
        assert_eq!(
            m.last,
            [
                (State::Critical, "error b".to_string()),
                (State::Critical, "error c".to_string())
            ]
        );
    }

    #[test]
    fn count_thresholds_and_output() {
        let c = check(&[
            "-F",
            "/var/log/x",
            "--critical-pattern",
            "E",
            "-c",
            "1",
            "-w",
            "0",
        ])
        .unwrap();
        let o = Outcome {
            name: "/var/log/x".into(),
            result: Ok(Matches {
                lines_read: 7,
                critical: 1,
                warning: 0,
                last: vec![(State::Critical, "E here".into())],
            }),
            notes: vec!["rotated: 3 lines read from /var/log/x.1".into()],
        };
        let r = verdict(&c, &c.searches, std::slice::from_ref(&o));
        assert_eq!(
            render_text("LOG", &r),
            "LOG OK - /var/log/x: 1 critical, 0 warning matches in 7 new lines | lines=7;;;0 critical=1;;1;0 warning=0;0;;0\n[CRITICAL] E here\nrotated: 3 lines read from /var/log/x.1\n"
        );
        let mut o2 = o;
        if let Ok(m) = &mut o2.result {
            m.critical = 2;
        }
        assert_eq!(verdict(&c, &c.searches, &[o2]).state(), State::Critical);
    }

    #[test]
    fn position_round_trip() {
        let p = FilePos {
            inode: 12,
            offset: 345,
            head_len: 345,
            head_hash: 0xdead_beef,
        };
        assert_eq!(FilePos::parse(&p.render()), Some(p));
        assert_eq!(FilePos::parse("garbage"), None);
        assert_eq!(FilePos::parse("inode 1\noffset 2\n"), None);
    }

    #[test]
    fn partial_last_line_is_left_for_later() {
        let c = check(&["-F", "/x", "--critical-pattern", "E"]).unwrap();
        let mut m = Matches::default();
        let used =
            read_lines(&b"one\nE two\npart"[..], &mut m, &c.searches[0].patterns, 5).unwrap();
        assert_eq!(used, 10);
        assert_eq!(m.lines_read, 2);
        assert_eq!(m.critical, 1);
    }

    #[test]
    fn journal_json() {
        let text = "{\"__CURSOR\":\"s=1;i=1\",\"MESSAGE\":\"hello\"}\n{\"__CURSOR\":\"s=1;i=2\",\"MESSAGE\":[104,105]}\n";
        assert_eq!(
            parse_journal_json(text).unwrap(),
            [
                ("s=1;i=1".to_string(), "hello".to_string()),
                ("s=1;i=2".to_string(), "hi".to_string())
            ]
        );
        assert!(parse_journal_json("nope").is_err());
    }

    #[test]
    fn config_file_with_several_searches() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("log.toml");
        let mut f = std::fs::File::create(&cfg).unwrap();
        writeln!(
            f,
            "[[search]]\nname = \"auth\"\nfile = \"/var/log/auth.log\"\ncritical = [\"FAILED su\"]\ncritical_count = \"2\"\n\n[[search]]\njournal = true\nunit = \"ssh\"\nwarning = [\"Invalid user\"]\nmissing = \"ok\""
        )
        .unwrap();
        let c = check(&["--config", cfg.to_str().unwrap()]).unwrap();
        let searches = c.load_searches().unwrap();
        assert_eq!(searches.len(), 2);
        assert_eq!(searches[0].name, "auth");
        assert_eq!(searches[0].critical.to_string(), "2");
        assert_eq!(searches[1].name, "journal:ssh");
        assert_eq!(searches[1].missing, State::Ok);
        // the file is read when the check runs: a bad one is no usage error, and each
        // run reads it anew
        std::fs::write(&cfg, "[[search]]\nfile = \"/x\"\ncritical = [\"(\"]\n").unwrap();
        let c = check(&["--config", cfg.to_str().unwrap()]).unwrap();
        let e = c.load_searches().unwrap_err();
        assert!(e.starts_with("bad critical pattern '(': "), "{e}");
        std::fs::write(&cfg, "[[search]]\nfile = \"/x\"\nbogus = 1\n").unwrap();
        let e = c.load_searches().unwrap_err();
        assert!(e.contains("unknown field"), "{e}");
        std::fs::write(&cfg, "").unwrap();
        assert_eq!(
            c.load_searches().unwrap_err(),
            format!("{}: no [[search]] table", cfg.display())
        );
        let gone = check(&["--config", "/nonexistent.toml"]).unwrap();
        let Work::Local(run) = gone.run() else {
            panic!("check_log runs locally")
        };
        let r = run();
        assert_eq!(r.state(), State::Unknown);
        assert!(
            r.summary.starts_with("cannot read /nonexistent.toml: "),
            "{}",
            r.summary
        );
    }

    /// Several searches: each is named in the summary and its perfdata labels; one
    /// that could not look gives its own state and words; the worst state wins.
    #[test]
    fn several_searches_evaluated_together() {
        let d = tempfile::tempdir().unwrap();
        let cfg = d.path().join("log.toml");
        std::fs::write(
            &cfg,
            "[[search]]\nname = \"auth\"\nfile = \"/var/log/auth.log\"\ncritical = [\"FAILED su\"]\ncritical_count = \"2\"\n\n[[search]]\nname = \"mail\"\nfile = \"/var/log/mail.log\"\nwarning = [\"deferred\"]\n",
        )
        .unwrap();
        let check = check(&["--config", cfg.to_str().unwrap()]).unwrap();
        let c = check.load_searches().unwrap();
        let found = |critical, warning, lines| Matches {
            lines_read: lines,
            critical,
            warning,
            last: Vec::new(),
        };
        let auth = Outcome {
            name: "auth".into(),
            result: Ok(found(2, 0, 10)),
            notes: Vec::new(),
        };
        let mail = Outcome {
            name: "mail".into(),
            result: Ok(found(0, 1, 1)),
            notes: vec!["rotated file /var/log/mail.log.1 not found".into()],
        };
        let r = verdict(&check, &c, &[auth.clone(), mail.clone()]);
        assert_eq!(
            r.state(),
            State::Warning,
            "2 critical lines are within -c 2"
        );
        assert_eq!(
            render_text("LOG", &r),
            "LOG WARNING - auth: 2 critical, 0 warning matches in 10 new lines; mail: 0 critical, 1 warning match in 1 new line | auth_lines=10;;;0 auth_critical=2;;2;0 auth_warning=0;0;;0 mail_lines=1;;;0 mail_critical=0;;0;0 mail_warning=1;0;;0\nmail: rotated file /var/log/mail.log.1 not found\n"
        );
        let gone = Outcome {
            name: "mail".into(),
            result: Err((State::Critical, "/var/log/mail.log is missing".into())),
            notes: Vec::new(),
        };
        let r = verdict(&check, &c, &[auth, gone]);
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "auth: 2 critical, 0 warning matches in 10 new lines; mail: /var/log/mail.log is missing"
        );
        assert_eq!(
            r.perfdata.len(),
            3,
            "no perfdata for a search that could not look"
        );
        assert_eq!(verdict(&check, &c, &[]).summary, "no search");
        // a --config that could not be read is UNKNOWN, naming it
        let r = check.evaluate(&Err("cannot read /etc/log.toml: gone".into()));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Unknown, "cannot read /etc/log.toml: gone")
        );
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert_eq!(
            check(&["--critical-pattern", "x"]).unwrap_err().0,
            "nothing to watch: give a log file (-F FILE) or --journal"
        );
        assert_eq!(
            check(&["-F", "/x"]).unwrap_err().0,
            "no pattern: give --critical-pattern or --warning-pattern"
        );
        assert!(check(&["-F", "/x", "--warning-pattern", "a", "-w", "3:1"])
            .unwrap_err()
            .0
            .contains("start is greater than end"));
        assert!(check(&["-F", "/x", "--warning-pattern", "a", "--missing", "maybe"]).is_err());
    }

    #[test]
    fn a_fifo_as_the_log_is_unknown_at_once() {
        let state = tempfile::tempdir().unwrap();
        let fifo = crate::plugin::regular_file::test_fifo("log");
        let f = fifo.to_str().unwrap();
        let copy = state.path().join("copy");
        for argv in [
            vec![
                "-F",
                f,
                "--critical-pattern",
                "x",
                "--state-dir",
                state.path().to_str().unwrap(),
            ],
            vec!["-F", f, "-O", copy.to_str().unwrap(), "-q", "x"],
        ] {
            let c = check(&argv).unwrap();
            let started = std::time::Instant::now();
            let facts = crate::plugin::runner::fetched(&c);
            assert!(
                started.elapsed() < std::time::Duration::from_secs(2),
                "{argv:?} waited on the FIFO"
            );
            let r = c.evaluate(&facts);
            assert_eq!(r.state(), State::Unknown, "{argv:?}");
            let text = render_text("LOG", &r);
            assert!(text.contains("not a regular file"), "{text}");
        }
        // nothing was saved from it: no position, no copy
        assert!(!copy.exists());
        assert_eq!(std::fs::read_dir(state.path()).unwrap().count(), 0);
    }
}
