//! check_log in monitoring-plugins' form: `-F LOG -O OLDLOG -q QUERY`. OLDLOG is a copy
//! of LOG as it was at the last run; the lines of LOG that are not in it are the new
//! ones, searched for QUERY (grep's basic syntax; `-e` extended, `-p` Perl-like), less
//! those matching `--exclude`. No match is OK ("Log check ok - 0 pattern matches
//! found"), matches are CRITICAL ("(COUNT) < LAST MATCHING LINE", every matching line
//! with `-a`, each after `< ` as diff(1) shows it there). The first run only makes the copy ("Log check data initialized...").
//!
//! Where monitoring-plugins compares the two files with diff(1), the new lines here are
//! the lines after the copy when the log grew (the usual case), else the lines of the
//! log that the copy does not hold (a rotated log); diff's hunk headers are never
//! searched.

use crate::host::posix_regex::PosixRegex;
use crate::plugin::regular_file;
use crate::plugin::{shown, CheckResult, State, UsageError};
use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// The largest log (and copy) read: a bigger one is UNKNOWN, never a partial answer.
pub const MAX_LOG_BYTES: u64 = 256 << 20;

/// At most this many matching lines are shown with `-a`.
const MAX_SHOWN: usize = 100;

/// The regular expression dialect of `-q` and `--exclude`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// grep's default (POSIX basic, GNU `\|` alternation).
    Basic,
    /// `-e`: grep -E.
    Extended,
    /// `-p`: grep -P; here Rust's regular expressions (no look-around, no
    /// back-references: such a query is refused).
    Perl,
}

/// A compiled query.
#[derive(Debug)]
pub enum Query {
    Posix(PosixRegex),
    Perl(regex::Regex),
}

impl Query {
    pub fn new(text: &str, dialect: Dialect, what: &str) -> Result<Query, UsageError> {
        let bad = |e: String| UsageError(format!("{what} '{}': {e}", shown(text)));
        match dialect {
            Dialect::Basic => PosixRegex::basic(text).map(Query::Posix).map_err(bad),
            Dialect::Extended => PosixRegex::new(text, false).map(Query::Posix).map_err(bad),
            Dialect::Perl => regex::Regex::new(text).map(Query::Perl).map_err(|e| {
                bad(e
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or("invalid")
                    .trim()
                    .to_string())
            }),
        }
    }

    pub fn is_match(&self, line: &str) -> bool {
        match self {
            Query::Posix(r) => r.is_match(line),
            Query::Perl(r) => r.is_match(line),
        }
    }
}

/// The validated search of this form.
#[derive(Debug)]
pub struct Oldlog {
    pub log: PathBuf,
    pub oldlog: PathBuf,
    pub query: Query,
    pub exclude: Option<Query>,
    pub all: bool,
}

/// What one run found.
#[derive(Debug, Clone, PartialEq)]
pub enum OldlogOutcome {
    /// The copy did not exist: it was made now.
    Initialized,
    /// The matching new lines (oldest first, at most [`MAX_SHOWN`] kept) and their
    /// number.
    Matched { count: u64, lines: Vec<String> },
    /// The log or the copy could not be read or written.
    Failed(String),
}

impl Oldlog {
    /// Builds the search from the options of this form.
    pub fn new(
        log: Option<PathBuf>,
        oldlog: Option<PathBuf>,
        query: Option<String>,
        exclude: Option<String>,
        extended: bool,
        perl: bool,
        all: bool,
    ) -> Result<Oldlog, UsageError> {
        if extended && perl {
            return Err(UsageError::new(
                "Can not use extended and perl regex at the same time",
            ));
        }
        let log = log.ok_or_else(|| UsageError::new("no log file: give -F LOGFILE"))?;
        let oldlog = oldlog.ok_or_else(|| UsageError::new("Oldlog parameter is needed"))?;
        let query = query.ok_or_else(|| UsageError::new("no query: give -q QUERY"))?;
        let dialect = if perl {
            Dialect::Perl
        } else if extended {
            Dialect::Extended
        } else {
            Dialect::Basic
        };
        Ok(Oldlog {
            log,
            oldlog,
            query: Query::new(&query, dialect, "-q")?,
            exclude: exclude
                .filter(|e| !e.is_empty())
                .map(|e| Query::new(&e, dialect, "--exclude"))
                .transpose()?,
            all,
        })
    }

    /// Reads the new lines, searches them, and copies the log over the old copy.
    pub fn run(&self) -> OldlogOutcome {
        match self.scan() {
            Ok(o) => o,
            Err(e) => OldlogOutcome::Failed(e),
        }
    }

    fn scan(&self) -> Result<OldlogOutcome, String> {
        let name = |p: &Path| shown(&p.display().to_string());
        let log_meta = std::fs::metadata(&self.log)
            .map_err(|_| format!("Log file {} does not exist!", name(&self.log)))?;
        // only a regular file, opened without waiting on a FIFO or a device
        let mut log = regular_file::open_regular(&self.log, false).map_err(|e| {
            if e.raw_os_error().is_some() {
                format!("Log file {} is not readable!", name(&self.log))
            } else {
                format!("Log file {} is not readable: {e}", name(&self.log))
            }
        })?;
        if log_meta.len() > MAX_LOG_BYTES {
            return Err(format!(
                "Log file {} is larger than {} MiB",
                name(&self.log),
                MAX_LOG_BYTES >> 20
            ));
        }
        let mut current = Vec::new();
        (&mut log)
            .take(MAX_LOG_BYTES)
            .read_to_end(&mut current)
            .map_err(|e| format!("cannot read {}: {e}", name(&self.log)))?;
        // the copy is never followed through a symbolic link (it may sit in /tmp), never
        // waited on (a FIFO), and only trusted when no other user can have made or
        // changed it: a regular file of ours with one link
        let old = match regular_file::open_regular(&self.oldlog, true) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read {}: {e}", name(&self.oldlog))),
            Ok(f) => {
                f.metadata()
                    .and_then(|m| regular_file::ours(&m))
                    .map_err(|e| format!("refusing {}: {e}", name(&self.oldlog)))?;
                match regular_file::read_limited(f, MAX_LOG_BYTES) {
                    Ok(old) => Some(old),
                    Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
                        return Err(format!(
                            "{} is larger than {} MiB",
                            name(&self.oldlog),
                            MAX_LOG_BYTES >> 20
                        ))
                    }
                    Err(e) => return Err(format!("cannot read {}: {e}", name(&self.oldlog))),
                }
            }
        };
        let outcome = match &old {
            None => OldlogOutcome::Initialized,
            Some(old) => self.search(&new_lines(old, &current)),
        };
        self.write_copy(&current)
            .map_err(|e| format!("cannot write {}: {e}", name(&self.oldlog)))?;
        Ok(outcome)
    }

    /// Replaces the copy: a new mode-0600 file in its directory renamed into place, never
    /// through a link, never over a file that is not ours.
    fn write_copy(&self, content: &[u8]) -> std::io::Result<()> {
        regular_file::replace_ours(&self.oldlog, content)
    }

    /// Counts the new lines matching the query and not the exclusion.
    pub fn search(&self, lines: &[String]) -> OldlogOutcome {
        let mut count = 0u64;
        let mut shown_lines: Vec<String> = Vec::new();
        for l in lines {
            if self.query.is_match(l) && !self.exclude.as_ref().is_some_and(|x| x.is_match(l)) {
                count += 1;
                if shown_lines.len() == MAX_SHOWN {
                    shown_lines.remove(0);
                }
                shown_lines.push(l.clone());
            }
        }
        OldlogOutcome::Matched {
            count,
            lines: shown_lines,
        }
    }
}

/// The lines of `current` that `old` does not hold: those after it when `current` grew
/// from it, else those not among its lines.
pub fn new_lines(old: &[u8], current: &[u8]) -> Vec<String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let split = |b: &[u8]| -> Vec<String> {
        BufReader::new(b)
            .split(b'\n')
            .map_while(Result::ok)
            .map(|l| text(&l))
            .collect()
    };
    if current.starts_with(old) && (old.is_empty() || old.ends_with(b"\n")) {
        return split(&current[old.len()..]);
    }
    let before: HashSet<Vec<u8>> = old.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    split(current)
        .into_iter()
        .filter(|l| !before.contains(l.as_bytes()))
        .collect()
}

/// The result of one run (pure).
pub fn evaluate(outcome: &OldlogOutcome, all: bool) -> CheckResult {
    match outcome {
        OldlogOutcome::Initialized => CheckResult::new(State::Ok, "Log check data initialized..."),
        OldlogOutcome::Failed(e) => {
            CheckResult::new(State::Unknown, format!("Log check error: {e}"))
        }
        OldlogOutcome::Matched { count: 0, .. } => {
            CheckResult::new(State::Ok, "Log check ok - 0 pattern matches found")
        }
        OldlogOutcome::Matched { count, lines } => {
            let last = lines.last().map(|l| shown(l)).unwrap_or_default();
            if !all {
                return CheckResult::new(State::Critical, format!("({count}) < {last}"));
            }
            let first = lines.first().map(|l| shown(l)).unwrap_or_default();
            let mut r = CheckResult::new(State::Critical, format!("({count}) < {first}"));
            for l in lines.iter().skip(1) {
                r.push_line(format!("< {}", shown(l)));
            }
            r
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(q: &str, x: Option<&str>, d: Dialect) -> Oldlog {
        Oldlog {
            log: "/l".into(),
            oldlog: "/o".into(),
            query: Query::new(q, d, "-q").unwrap(),
            exclude: x.map(|x| Query::new(x, d, "--exclude").unwrap()),
            all: false,
        }
    }

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn new_lines_after_growth_or_rotation() {
        assert_eq!(new_lines(b"a\nb\n", b"a\nb\nc\nd\n"), lines(&["c", "d"]));
        assert_eq!(new_lines(b"", b"a\n"), lines(&["a"]));
        assert_eq!(new_lines(b"a\nb\n", b"a\nb\n"), lines(&[]));
        // rotated: the lines the copy does not hold
        assert_eq!(new_lines(b"a\nb\n", b"b\nx\n"), lines(&["x"]));
    }

    #[test]
    fn queries_in_the_three_dialects() {
        let text = lines(&["Trying", "with", "multiline", "ignore me", "a|b"]);
        let r = search(
            "Trying\\|with\\|multiline\\|ignore",
            Some("me"),
            Dialect::Basic,
        );
        assert_eq!(
            r.search(&text),
            OldlogOutcome::Matched {
                count: 3,
                lines: lines(&["Trying", "with", "multiline"])
            }
        );
        // in basic syntax a bare | is a character
        let r = search("a|b", None, Dialect::Basic);
        assert!(matches!(
            r.search(&text),
            OldlogOutcome::Matched { count: 1, .. }
        ));
        let r = search("^(with|a)", None, Dialect::Extended);
        assert!(matches!(
            r.search(&text),
            OldlogOutcome::Matched { count: 2, .. }
        ));
        let r = search(r"^\w+$", None, Dialect::Perl);
        assert!(matches!(
            r.search(&text),
            OldlogOutcome::Matched { count: 3, .. }
        ));
    }

    #[test]
    fn results_as_the_peer_words_them() {
        let m = OldlogOutcome::Matched {
            count: 3,
            lines: lines(&["one", "two\u{1b}", "three"]),
        };
        let r = evaluate(&m, false);
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Critical, "(3) < three")
        );
        let r = evaluate(&m, true);
        assert_eq!(r.summary, "(3) < one");
        assert_eq!(r.details.len(), 2);
        let ok = evaluate(
            &OldlogOutcome::Matched {
                count: 0,
                lines: vec![],
            },
            true,
        );
        assert_eq!(
            (ok.state(), ok.summary.as_str()),
            (State::Ok, "Log check ok - 0 pattern matches found")
        );
        assert_eq!(
            evaluate(&OldlogOutcome::Initialized, false).state(),
            State::Ok
        );
        let f = evaluate(
            &OldlogOutcome::Failed("Log file /x does not exist!".into()),
            false,
        );
        assert_eq!(f.state(), State::Unknown);
    }

    #[test]
    fn bad_options() {
        let e = |x: bool, p: bool, o: Option<&str>, q: Option<&str>| {
            Oldlog::new(
                Some("/l".into()),
                o.map(PathBuf::from),
                q.map(str::to_string),
                None,
                x,
                p,
                false,
            )
            .unwrap_err()
            .0
        };
        assert_eq!(
            e(true, true, Some("/o"), Some("x")),
            "Can not use extended and perl regex at the same time"
        );
        assert_eq!(
            e(false, false, None, Some("x")),
            "Oldlog parameter is needed"
        );
        assert!(e(false, false, Some("/o"), Some("\\(")).starts_with("-q '"));
    }

    #[test]
    fn the_copy_is_only_ever_a_file_of_ours() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("log");
        std::fs::write(&log, "one\nERROR two\n").unwrap();
        let copy = dir.path().join("oldlog");
        let check = |copy: &Path| Oldlog {
            log: log.clone(),
            oldlog: copy.to_path_buf(),
            ..search("ERROR", None, Dialect::Basic)
        };
        // made now: a new file of mode 0600; replaced (a new inode) at the next run
        assert!(matches!(check(&copy).run(), OldlogOutcome::Initialized));
        let meta = std::fs::metadata(&copy).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        std::fs::write(&log, "one\nERROR two\nERROR three\n").unwrap();
        assert!(matches!(
            check(&copy).run(),
            OldlogOutcome::Matched { count: 1, .. }
        ));
        assert_ne!(std::fs::metadata(&copy).unwrap().ino(), meta.ino());
        // a copy a member pre-created (mode 0666, theirs) is neither read nor rewritten
        let theirs = dir.path().join("theirs");
        std::fs::write(&theirs, "planted\n").unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o666)).unwrap();
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        match check(&theirs).run() {
            OldlogOutcome::Failed(e) => assert_eq!(
                e,
                format!(
                    "refusing {}: owned by uid 65534, not by the user running the check",
                    theirs.display()
                )
            ),
            _ => panic!("another user's copy was used"),
        }
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "planted\n");
        assert_eq!(
            evaluate(&check(&theirs).run(), false).state(),
            State::Unknown
        );
        // a hard link to another file and a FIFO are refused too (the FIFO at once)
        let hard = dir.path().join("hard");
        std::fs::hard_link(&log, &hard).unwrap();
        assert!(matches!(check(&hard).run(),
            OldlogOutcome::Failed(e) if e.ends_with(": more than one hard link")));
        let fifo = crate::plugin::regular_file::test_fifo("oldlog");
        let started = std::time::Instant::now();
        assert!(matches!(check(&fifo).run(),
            OldlogOutcome::Failed(e) if e.ends_with(": not a regular file")));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
