//! check_file_age: the age, size and number of files matching paths or globs — backup
//! freshness, stuck spool directories. Options follow monitoring-plugins' check_file_age
//! (`-f`, `-w`/`-c` age in seconds, `-W`/`-C` minimum size, `-i`).

use crate::plugin::units::parse_size;
use crate::plugin::{
    judge, parse_level, shown, Check, CheckResult, CommonArgs, Observed, PerfData, Range, State,
    Thresholds, Unit, Uom, UsageError, Work,
};
use clap::Parser;
use std::path::PathBuf;
use std::time::SystemTime;

/// Which matched files are held against the age and size thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Select {
    /// The most recently modified file (backups: is the latest one fresh and whole?).
    Newest,
    /// The least recently modified file (spools: is anything stuck?).
    Oldest,
    /// Every file, each named when it is out of bounds.
    Every,
}

/// An age range in seconds (`240`, `30m`, `@1h:2h`).
fn parse_seconds(text: &str) -> Result<Range, String> {
    parse_level(text, &[Unit::Seconds]).map(|l| l.range)
}

/// Command line of check_file_age.
#[derive(Parser, Debug)]
#[command(
    name = "check_file_age",
    version,
    about = "Checks the age, size and number of files matching paths or globs.\n\nA bare age N alerts above N seconds; a size SIZE (units K, M, G) alerts below SIZE bytes. No matching file is CRITICAL unless -i. When one of -w, -c, -W, -C is a range (10:, 0:100, @5:9), all four are standard ranges, as in monitoring-plugins. A plain path may name a directory (its own mtime and size); a glob counts files only.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// File, or glob (`*`, `?`, `[...]`), to check; repeatable
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<String>,

    /// Warning age range in seconds (default 240; 30m, 2h and 1d work too)
    #[arg(
        short = 'w',
        long = "warning-age",
        value_name = "SECONDS",
        default_value = "240",
        allow_hyphen_values = true
    )]
    pub warning_age: String,

    /// Critical age range in seconds (default 600)
    #[arg(
        short = 'c',
        long = "critical-age",
        value_name = "SECONDS",
        default_value = "600",
        allow_hyphen_values = true
    )]
    pub critical_age: String,

    /// Warning when a file is smaller than SIZE bytes. When any of -w, -c, -W, -C is a
    /// range (10:, 0:100, @5:9, ~:20), all four are standard ranges (alert outside
    /// them), as in monitoring-plugins: -W 0:100 warns above 100 bytes
    #[arg(
        short = 'W',
        long = "warning-size",
        value_name = "SIZE",
        allow_hyphen_values = true
    )]
    pub warning_size: Option<String>,

    /// Critical when a file is smaller than SIZE bytes (or outside the range, as -W)
    #[arg(
        short = 'C',
        long = "critical-size",
        value_name = "SIZE",
        allow_hyphen_values = true
    )]
    pub critical_size: Option<String>,

    /// The file, as a bare word (monitoring-plugins' older form; same as -f)
    #[arg(value_name = "FILE")]
    pub positional: Vec<String>,

    /// OK (instead of CRITICAL) when nothing matches
    #[arg(short = 'i', long = "ignore-missing")]
    pub ignore_missing: bool,

    /// Which files the age and size thresholds apply to
    #[arg(long = "select", value_enum, default_value_t = Select::Newest)]
    pub select: Select,

    /// Warning range on the number of matching files (e.g. 100 for a spool)
    #[arg(
        long = "count-warning",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub count_warning: Option<Range>,

    /// Critical range on the number of matching files
    #[arg(
        long = "count-critical",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub count_critical: Option<Range>,
}

/// The validated check.
#[derive(Debug)]
pub struct FileAgeCheck {
    pub patterns: Vec<String>,
    pub age: Thresholds,
    /// Size thresholds over bytes (`SIZE:` ranges: alert below).
    pub size: Thresholds,
    pub ignore_missing: bool,
    pub select: Select,
    pub count: Thresholds,
    /// Globs, several paths or count levels: the `count` perfdata is shown (a single
    /// path prints monitoring-plugins' `age` and `size` only).
    pub multi: bool,
}

/// True when a pattern has glob metacharacters (a plain path names one file or
/// directory).
fn is_glob(p: &str) -> bool {
    p.contains(['*', '?', '['])
}

/// A size level in range mode: a standard range over bytes (size units allowed on the
/// ends: `1K:`, `0:2M`).
fn size_range(text: &Option<String>, which: &str) -> Result<Option<Range>, UsageError> {
    text.as_deref()
        .map(|t| {
            parse_level(t, &[Unit::Bytes])
                .map(|l| l.range)
                .map_err(|e| UsageError(format!("{which} size: {e}")))
        })
        .transpose()
}

/// One matching file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    pub path: String,
    pub mtime: SystemTime,
    pub size: u64,
}

/// What was found on disk, and when.
#[derive(Debug, Clone, PartialEq)]
pub struct FileFacts {
    /// Regular files (and symlinks to them) matching any pattern, without duplicates.
    pub files: Vec<FileInfo>,
    /// When the files were looked at: ages are counted up to it.
    pub now: SystemTime,
}

fn min_size(text: &Option<String>, which: &str) -> Result<Option<Range>, UsageError> {
    text.as_deref()
        .map(|t| {
            parse_size(t)
                .map(|b| Range::below(b as f64))
                .map_err(|e| UsageError(format!("{which} size: {e}")))
        })
        .transpose()
}

impl Check for FileAgeCheck {
    type Args = Args;
    /// The files found, or why the patterns could not be read.
    type Facts = Observed<FileFacts>;
    const LABEL: &'static str = "FILE_AGE";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let mut args = args;
        if args.files.is_empty() {
            args.files = std::mem::take(&mut args.positional);
        } else if let Some(extra) = args.positional.first() {
            return Err(UsageError(format!(
                "unexpected argument '{}' (the file is given by -f)",
                shown(extra)
            )));
        }
        if args.files.is_empty() {
            return Err(UsageError::new(
                "no file to check: give -f PATH (a path or glob)",
            ));
        }
        for p in &args.files {
            if p.is_empty() {
                return Err(UsageError::new("-f needs a path"));
            }
            glob::Pattern::new(p)
                .map_err(|e| UsageError(format!("bad glob '{}': {e}", shown(p))))?;
        }
        let age = |t: &str, which: &str| {
            parse_seconds(t).map_err(|e| UsageError(format!("--{which}-age: {e}")))
        };
        let texts = [
            Some(args.warning_age.as_str()),
            Some(args.critical_age.as_str()),
            args.warning_size.as_deref(),
            args.critical_size.as_deref(),
        ];
        let ranges = texts.iter().flatten().any(|t| t.contains([':', '@', '~']));
        let size = if ranges {
            Thresholds::new(
                size_range(&args.warning_size, "warning")?,
                size_range(&args.critical_size, "critical")?,
            )
        } else {
            Thresholds::new(
                min_size(&args.warning_size, "warning")?,
                min_size(&args.critical_size, "critical")?,
            )
        };
        let multi = args.files.len() > 1
            || args.files.iter().any(|p| is_glob(p))
            || args.select == Select::Every
            || args.count_warning.is_some()
            || args.count_critical.is_some();
        Ok(FileAgeCheck {
            patterns: args.files,
            age: Thresholds::new(
                Some(age(&args.warning_age, "warning")?),
                Some(age(&args.critical_age, "critical")?),
            ),
            size,
            multi,
            ignore_missing: args.ignore_missing,
            select: args.select,
            count: Thresholds::new(args.count_warning, args.count_critical),
        })
    }

    /// Expands the patterns and reads each file's metadata, noting the time.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let now = SystemTime::now();
            let mut files: Vec<FileInfo> = Vec::new();
            for p in &self.patterns {
                let paths = glob::glob(p).map_err(|e| format!("bad glob '{p}': {e}"))?;
                for entry in paths {
                    let path: PathBuf = entry.map_err(|e| format!("cannot read {e}"))?;
                    let meta = std::fs::metadata(&path)
                        .map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
                    // a plain path may name a directory (its own mtime and size, as
                    // monitoring-plugins checks it); a glob counts files only
                    if !(meta.is_file() || (meta.is_dir() && !is_glob(p))) {
                        continue;
                    }
                    let path = path.display().to_string();
                    if files.iter().any(|f| f.path == path) {
                        continue;
                    }
                    files.push(FileInfo {
                        path,
                        mtime: meta
                            .modified()
                            .map_err(|e| format!("no mtime for {}: {e}", p))?,
                        size: meta.len(),
                    });
                }
            }
            Ok(FileFacts { files, now })
        })
    }

    /// UNKNOWN when a pattern could not be read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |f| evaluate(f, self))
    }
}

fn age_secs(f: &FileInfo, now: SystemTime) -> i64 {
    match now.duration_since(f.mtime) {
        Ok(d) => d.as_secs() as i64,
        // modified in the future: a negative age, as monitoring-plugins shows it
        Err(e) => -(e.duration().as_secs() as i64),
    }
}

/// Turns the facts into the result (pure): ages count up to `facts.now`.
fn evaluate(facts: &FileFacts, check: &FileAgeCheck) -> CheckResult {
    let now = facts.now;
    let what = check.patterns.join(", ");
    let count = facts.files.len();
    let count_perf = PerfData::new("count", count)
        .thresholds(&check.count)
        .min(0);
    if facts.files.is_empty() {
        let state = if check.ignore_missing {
            State::Ok
        } else {
            State::Critical
        };
        let mut r = CheckResult::new(state, format!("{what}: no such file"));
        r.raise(check.count.state(0.0));
        return if check.multi {
            r.with_perf(count_perf)
        } else {
            r
        };
    }
    let mut sorted: Vec<&FileInfo> = facts.files.iter().collect();
    sorted.sort_by(|a, b| b.mtime.cmp(&a.mtime).then(a.path.cmp(&b.path)));
    let chosen: Vec<&FileInfo> = match check.select {
        Select::Newest => vec![sorted[0]],
        Select::Oldest => vec![sorted[sorted.len() - 1]],
        Select::Every => sorted.clone(),
    };
    let judge = |f: &FileInfo| {
        let age = age_secs(f, now);
        check
            .age
            .state(age as f64)
            .worst(check.size.state(f.size as f64))
    };
    let describe = |f: &FileInfo| {
        format!(
            "{} is {} seconds old and {} bytes",
            shown(&f.path),
            age_secs(f, now),
            f.size
        )
    };
    let count_state = check.count.state(count as f64);
    let mut r = match check.select {
        Select::Newest | Select::Oldest => {
            let f = chosen[0];
            let mut summary = describe(f);
            if count > 1 {
                let which = if check.select == Select::Newest {
                    "newest"
                } else {
                    "oldest"
                };
                summary = format!("{which} of {count} files: {summary}");
            }
            let mut r = CheckResult::new(judge(f), summary);
            r.push_perf(
                PerfData::new("age", age_secs(f, now))
                    .uom(Uom::Seconds)
                    .thresholds(&check.age),
            );
            r.push_perf(
                PerfData::new("size", f.size)
                    .uom(Uom::Bytes)
                    .thresholds(&check.size)
                    .min(0),
            );
            r
        }
        Select::Every => {
            let bad: Vec<(&FileInfo, State)> = chosen
                .iter()
                .map(|f| (*f, judge(f)))
                .filter(|(_, s)| *s != State::Ok)
                .collect();
            let summary = if bad.is_empty() {
                format!("{count} files within bounds")
            } else {
                format!("{} of {count} files out of bounds", bad.len())
            };
            let mut r = CheckResult::new(State::Ok, summary);
            let mut bad = bad;
            bad.sort_by_key(|(_, s)| std::cmp::Reverse(s.severity()));
            for (f, s) in bad {
                r.push_sub(s, describe(f));
            }
            let oldest = sorted[sorted.len() - 1];
            r.push_perf(
                PerfData::new("oldest_age", age_secs(oldest, now))
                    .uom(Uom::Seconds)
                    .thresholds(&check.age),
            );
            r
        }
    };
    if count_state != State::Ok {
        r.summary.push_str(&format!(" ({count} files)"));
    }
    r.raise(count_state);
    if check.multi {
        r.with_perf(count_perf)
    } else {
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use std::time::Duration;

    fn check(argv: &[&str]) -> Result<FileAgeCheck, UsageError> {
        validate(argv)
    }

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// The facts of `files` looked at `now` seconds after the epoch.
    fn seen(files: &[FileInfo], now: u64) -> Result<FileFacts, String> {
        Ok(FileFacts {
            files: files.to_vec(),
            now: at(now),
        })
    }

    fn file(path: &str, mtime: u64, size: u64) -> FileInfo {
        FileInfo {
            path: path.into(),
            mtime: at(mtime),
            size,
        }
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn newest_file_age_and_size() {
        let c = check(&["-f", "/b/*", "-w", "3600", "-c", "7200", "-W", "1K"]).unwrap();
        let facts = vec![file("/b/old", 1000, 5000), file("/b/new", 5000, 2000)];
        let r = c.evaluate(&seen(&facts, 8600));
        assert_eq!(
            render_text("FILE_AGE", &r),
            "FILE_AGE OK - newest of 2 files: /b/new is 3600 seconds old and 2000 bytes | age=3600s;3600;7200 size=2000B;1024:;;0 count=2;;;0\n"
        );
        assert_eq!(c.evaluate(&seen(&facts, 8601)).state(), State::Warning);
        assert_eq!(c.evaluate(&seen(&facts, 12201)).state(), State::Critical);
        let small = vec![file("/b/new", 5000, 1023)];
        assert_eq!(c.evaluate(&seen(&small, 5000)).state(), State::Warning);
    }

    /// As monitoring-plugins: when one of the four levels is a range, all four are
    /// standard ranges (a bare size then alerts above it); one plain path prints only
    /// `age` and `size`.
    #[test]
    fn range_levels_and_a_single_path() {
        let state = |argv: &[&str], size: u64| {
            let mut a = vec!["-f", "/b/f", "-c", "1000"];
            a.extend(argv);
            let c = check(&a).unwrap();
            c.evaluate(&seen(&[file("/b/f", 5000, size)], 5010)).state()
        };
        assert_eq!(state(&["-W", "100"], 100), State::Ok);
        assert_eq!(state(&["-W", "101"], 100), State::Warning);
        assert_eq!(state(&["-W", "101:"], 100), State::Warning);
        assert_eq!(state(&["-W", "0:99"], 100), State::Warning);
        assert_eq!(state(&["-W", "0:100"], 100), State::Ok);
        assert_eq!(state(&["-C", "0:99"], 100), State::Critical);
        // range mode from an age level: -W 50 is then 0..50, and 100 bytes is above it
        assert_eq!(state(&["-w", "0:900", "-W", "50"], 100), State::Warning);
        assert_eq!(state(&["-W", "50"], 100), State::Ok);
        let c = check(&["-f", "/b/f"]).unwrap();
        let r = c.evaluate(&seen(&[file("/b/f", 5000, 100)], 5010));
        let labels: Vec<&str> = r.perfdata.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["age", "size"]);
        // the file as a bare word; not both
        assert_eq!(check(&["/b/f"]).unwrap().patterns, ["/b/f"]);
        assert!(check(&["-f", "/b/f", "/b/g"]).is_err());
    }

    #[test]
    fn every_file_names_the_stuck_ones() {
        let c = check(&["-f", "/s/*", "--select", "every", "-w", "60", "-c", "600"]).unwrap();
        let facts = vec![
            file("/s/a", 990, 1),
            file("/s/b", 100, 1),
            file("/s/c", 700, 1),
        ];
        let r = c.evaluate(&seen(&facts, 1000));
        assert_eq!(
            render_text("FILE_AGE", &r),
            "FILE_AGE CRITICAL - 2 of 3 files out of bounds | oldest_age=900s;60;600 count=3;;;0\n[CRITICAL] /s/b is 900 seconds old and 1 bytes\n[WARNING] /s/c is 300 seconds old and 1 bytes\n"
        );
    }

    #[test]
    fn count_thresholds_and_missing_files() {
        let c = check(&["-f", "/s/*", "--select", "oldest", "--count-warning", "1"]).unwrap();
        let facts = vec![file("/s/a", 990, 1), file("/s/b", 995, 1)];
        let r = c.evaluate(&seen(&facts, 1000));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "oldest of 2 files: /s/a is 10 seconds old and 1 bytes (2 files)"
        );
        let none = Vec::new();
        assert_eq!(c.evaluate(&seen(&none, 0)).state(), State::Critical);
        assert_eq!(c.evaluate(&seen(&none, 0)).summary, "/s/*: no such file");
        let c = check(&["-f", "/x", "-i"]).unwrap();
        assert_eq!(c.evaluate(&seen(&none, 0)).state(), State::Ok);
        // a pattern that could not be read
        let unread = c.evaluate(&Err("cannot stat /x/y: Permission denied".into()));
        assert_eq!(
            (unread.state(), unread.summary.as_str()),
            (State::Unknown, "cannot stat /x/y: Permission denied")
        );
    }

    #[test]
    fn future_mtime_is_a_negative_age() {
        let c = check(&["-f", "/x"]).unwrap();
        let facts = vec![file("/x", 1010, 0)];
        assert_eq!(
            c.evaluate(&seen(&facts, 1000)).summary,
            "/x is -10 seconds old and 0 bytes"
        );
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert_eq!(
            check(&["-f", "/x", "-W", "12 parsecs"]).unwrap_err().0,
            "warning size: '12 parsecs': unknown size unit 'parsecs'"
        );
        assert!(check(&["-f", "/x", "-w", "10:5"])
            .unwrap_err()
            .0
            .contains("start is greater than end"));
        assert!(check(&["-f", "/x/[a"])
            .unwrap_err()
            .0
            .starts_with("bad glob '/x/[a'"));
        assert!(check(&[]).is_err());
        for bad in ["é", "5é", "１０", "10 fortnights", "10%"] {
            let e = check(&["-f", "/x", "-c", bad]).unwrap_err().0;
            assert!(
                !e.contains('\n') && e.contains("critical-age"),
                "{bad}: {e}"
            );
        }
    }

    /// A file may be named anything: its name is echoed escaped, one line.
    #[test]
    fn file_names_are_echoed_escaped() {
        let c = check(&["-f", "/spool/*"]).unwrap();
        let facts = vec![file("/spool/x\nFILE_AGE OK - y", 100, 5)];
        let r = c.evaluate(&seen(&facts, 160));
        assert_eq!(
            r.summary,
            "/spool/x\\nFILE_AGE OK - y is 60 seconds old and 5 bytes"
        );
    }

    #[test]
    fn ages_take_time_units() {
        let c = check(&["-f", "/x", "-w", "30m", "-c", "@1:24h"]).unwrap();
        assert_eq!(c.age.warning, Some("1800".parse().unwrap()));
        assert_eq!(c.age.critical, Some("@3600:86400".parse().unwrap()));
        let c = check(&["-f", "/x"]).unwrap();
        assert_eq!(c.age.warning, Some("240".parse().unwrap()));
    }
}
