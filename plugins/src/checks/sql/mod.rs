//! The database checks, check_pgsql ([`pgsql`]) and check_mysql ([`mysql`]): one family,
//! one directory. This module holds what the two share: the password (option, file or
//! environment), the modes beyond "it answers" (query, replication, connections, sizes,
//! long-running queries), their thresholds, a deadline on every step, and the pure
//! evaluation of the facts each driver gathers. The wire protocols are the drivers'
//! (tokio-postgres, mysql_async).

pub mod mysql;
pub mod mysql_client;
pub mod mysql_query;
pub mod pgsql;

use crate::plugin::units::human_bytes;
use crate::plugin::{
    parse_level, CheckResult, ModeLevelArgs, PerfData, Range, State, Thresholds, Unit, Uom,
    UsageError,
};
use std::future::Future;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Options both database checks take.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(
    mut_arg("warning", |a| a.value_name("RANGE").help(
        "WARNING threshold: connection time in seconds; in a mode, the mode's value \
         (lag seconds, percent of connections, database size such as 10G, query seconds)"
    )),
    mut_arg("critical", |a| a.value_name("RANGE").help("CRITICAL threshold, as for --warning"))
)]
pub struct SqlArgs {
    /// Password (visible in `ps`: prefer --password-file or the environment variable)
    #[arg(short = 'p', long = "password", value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Read the password from the first line of FILE
    #[arg(long = "password-file", value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    #[command(flatten)]
    pub levels: ModeLevelArgs,

    /// SQL query to run; the first column of the first row must be a number
    #[arg(short = 'q', long = "query", value_name = "SQL")]
    pub query: Option<String>,

    /// A name for the query, used in the output instead of the query text
    #[arg(long = "queryname", value_name = "NAME")]
    pub queryname: Option<String>,

    /// Mode: connections in use against max_connections (-w/-c in percent)
    #[arg(long = "connections")]
    pub connections: bool,

    /// Mode: database sizes (-w/-c per database, e.g. 10G), the biggest named
    #[arg(long = "sizes")]
    pub sizes: bool,

    /// How many of the biggest databases --sizes names
    #[arg(long = "top", value_name = "N", default_value_t = 5)]
    pub top: usize,

    /// Mode: queries running longer than -w/-c seconds, named by user and database
    #[arg(long = "long-running")]
    pub long_running: bool,
}

/// Where the password comes from: `-p`, else `--password-file` (read when the check
/// runs, so validating the command line reads no file), else the environment variable
/// `env` (`PGPASSWORD`, `MYSQL_PWD`).
#[derive(Debug, Clone, PartialEq)]
pub enum Password {
    None,
    Given(String),
    File(PathBuf),
}

impl Password {
    /// The source the options name.
    pub fn from_args(args: &SqlArgs, env: &str) -> Password {
        if let Some(p) = &args.password {
            return Password::Given(p.clone());
        }
        if let Some(path) = &args.password_file {
            return Password::File(path.clone());
        }
        match crate::plugin::secrets::secret_from_env(env) {
            Some(p) => Password::Given(p),
            None => Password::None,
        }
    }

    /// The password: a file's first line; a file that cannot be read is an error
    /// naming it (the check is then UNKNOWN).
    pub fn read(&self) -> Result<Option<String>, String> {
        match self {
            Password::None => Ok(None),
            Password::Given(p) => Ok(Some(p.clone())),
            Password::File(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("--password-file {}: {e}", path.display()))?;
                let line = text.lines().next().unwrap_or("");
                Ok(Some(line.trim_end_matches('\r').to_string()))
            }
        }
    }
}

/// What the check looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Connect (and log in); `-w/-c` on the connection time.
    Connect,
    /// Run a query and compare the first column of the first row.
    Query {
        sql: String,
        name: String,
        levels: Thresholds,
    },
    /// Replication health: replicas of a primary, or this server as a replica.
    Replication { lag: Thresholds },
    /// Connections in use against the server's maximum, in percent.
    Connections { percent: Thresholds },
    /// Database sizes, each against the thresholds; the `top` biggest named.
    Sizes { bytes: Thresholds, top: usize },
    /// Statements (or transactions) running longer than the thresholds, in seconds.
    LongRunning { seconds: Thresholds },
}

/// The validated configuration of a database check.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlConfig {
    /// The mode.
    pub mode: Mode,
    /// Thresholds on the connection time (connect and query modes).
    pub time: Thresholds,
    /// What to call the server in the output (`database 'x'`).
    pub target: String,
}

/// A level of `allowed` units (the first for a bare number), by the contract's checked
/// parser: `10%%`, a percentage over 100, multibyte text are usage errors naming `what`.
fn level(text: &Option<String>, what: &str, allowed: &[Unit]) -> Result<Option<Range>, UsageError> {
    text.as_deref()
        .map(|t| {
            parse_level(t, allowed)
                .map(|l| l.range)
                .map_err(|e| UsageError(format!("{what}: {e}")))
        })
        .transpose()
}

/// Seconds (`2.5`, `500ms`, `2m`).
fn seconds(text: &Option<String>, what: &str) -> Result<Option<Range>, UsageError> {
    level(text, what, &[Unit::Seconds])
}

fn size_range(text: &Option<String>, what: &str) -> Result<Option<Range>, UsageError> {
    text.as_deref()
        .map(|t| match parse_level(t, &[Unit::Bytes, Unit::Percent]) {
            Ok(l) if l.unit == Unit::Bytes => Ok(l.range),
            Ok(_) => Err(UsageError(format!(
                "{what} '{}': a database size is an amount such as 500M or 10G, not a percentage",
                crate::plugin::shown(t)
            ))),
            Err(e) => Err(UsageError(format!("{what}: {e}"))),
        })
        .transpose()
}

/// Resolves the mode from the shared options, the check's replication flag and its
/// query ranges (which take different letters in the two checks).
pub fn resolve(
    args: &SqlArgs,
    replication: bool,
    query_warning: &Option<String>,
    query_critical: &Option<String>,
    target: String,
) -> Result<SqlConfig, UsageError> {
    let chosen: Vec<&str> = [
        (args.query.is_some(), "--query"),
        (replication, "replication"),
        (args.connections, "--connections"),
        (args.sizes, "--sizes"),
        (args.long_running, "--long-running"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| *n)
    .collect();
    if chosen.len() > 1 {
        return Err(UsageError(format!(
            "choose one mode, not {}",
            chosen.join(" and ")
        )));
    }
    if args.top == 0 {
        return Err(UsageError("--top must be 1 or more".into()));
    }
    if args.queryname.is_some() && args.query.is_none() {
        return Err(UsageError("--queryname needs --query".into()));
    }
    let secs = || -> Result<Thresholds, UsageError> {
        Ok(Thresholds::new(
            seconds(&args.levels.warning, "--warning")?,
            seconds(&args.levels.critical, "--critical")?,
        ))
    };
    let mut time = Thresholds::default();
    let mode = if let Some(sql) = &args.query {
        time = secs()?;
        Mode::Query {
            sql: sql.clone(),
            name: args.queryname.clone().unwrap_or_else(|| sql.clone()),
            levels: Thresholds::new(
                level(
                    query_warning,
                    "query warning",
                    &[Unit::Count, Unit::Percent],
                )?,
                level(
                    query_critical,
                    "query critical",
                    &[Unit::Count, Unit::Percent],
                )?,
            ),
        }
    } else if replication {
        Mode::Replication { lag: secs()? }
    } else if args.connections {
        Mode::Connections {
            percent: Thresholds::new(
                level(&args.levels.warning, "--warning", &[Unit::Percent])?,
                level(&args.levels.critical, "--critical", &[Unit::Percent])?,
            ),
        }
    } else if args.sizes {
        Mode::Sizes {
            bytes: Thresholds::new(
                size_range(&args.levels.warning, "--warning")?,
                size_range(&args.levels.critical, "--critical")?,
            ),
            top: args.top,
        }
    } else if args.long_running {
        let seconds = secs()?;
        if seconds.is_empty() {
            return Err(UsageError(
                "--long-running needs -w and/or -c: the seconds a query may run".into(),
            ));
        }
        Mode::LongRunning { seconds }
    } else {
        time = secs()?;
        Mode::Connect
    };
    if !matches!(mode, Mode::Query { .. }) && (query_warning.is_some() || query_critical.is_some())
    {
        return Err(UsageError("query ranges need --query".into()));
    }
    Ok(SqlConfig { mode, time, target })
}

/// Why the dialogue (or a step of it) failed: the text, and what kind of failure it
/// is, which decides the state of the result.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub text: String,
    pub kind: FailureKind,
}

/// What kind of failure stopped the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The server refused, or answered wrongly: CRITICAL.
    Failed,
    /// The check's time ran out: the result takes the state of `-t`.
    TimedOut,
    /// The check could not be made from what it was given (a password file that cannot
    /// be read): UNKNOWN.
    Unusable,
}

impl Failure {
    /// A failure to make the check at all (UNKNOWN).
    pub fn unusable(text: String) -> Self {
        Failure {
            text,
            kind: FailureKind::Unusable,
        }
    }

    /// The same failure with its text changed.
    pub fn map(self, f: impl FnOnce(String) -> String) -> Self {
        Failure {
            text: f(self.text),
            kind: self.kind,
        }
    }

    /// The result for this failure, saying `text`.
    pub fn result(&self, text: String) -> CheckResult {
        match self.kind {
            FailureKind::Failed => CheckResult::new(State::Critical, text),
            FailureKind::TimedOut => CheckResult::timed_out(text),
            FailureKind::Unusable => CheckResult::unknown(text),
        }
    }
}

impl From<String> for Failure {
    fn from(text: String) -> Self {
        Failure {
            text,
            kind: FailureKind::Failed,
        }
    }
}

impl From<&str> for Failure {
    fn from(text: &str) -> Self {
        Failure::from(text.to_string())
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// Runs one step of the dialogue with a deadline: a step still running at `deadline`
/// fails with "`what` timed out", a timed-out failure.
pub async fn step<T, E: std::fmt::Display>(
    what: &str,
    deadline: Instant,
    fut: impl Future<Output = Result<T, E>>,
) -> Result<T, Failure> {
    let left = deadline.saturating_duration_since(Instant::now());
    match tokio::time::timeout(left, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(format!("{what}: {e}").into()),
        Err(_) => Err(Failure {
            text: format!("{what} timed out"),
            kind: FailureKind::TimedOut,
        }),
    }
}

/// The deadline for every step: a little before the check's own timeout, so the
/// failing step is named.
pub fn deadline(timeout: Duration) -> Instant {
    Instant::now() + timeout.mul_f64(0.95)
}

/// One replication link: a replica seen from its primary, or this server as a replica.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    /// The replica's or the channel's name.
    pub name: String,
    /// Why the link is broken (thread stopped, receiver down...): CRITICAL.
    pub problems: Vec<String>,
    /// What is worth saying without changing the state (replay paused by hand).
    pub notes: Vec<String>,
    /// Lag in seconds, when known.
    pub lag_seconds: Option<f64>,
    /// Lag in bytes of WAL, when known.
    pub lag_bytes: Option<f64>,
}

/// Replication as the server reports it.
#[derive(Debug, Clone, PartialEq)]
pub enum Replication {
    /// A primary and its connected replicas.
    Primary(Vec<Link>),
    /// This server replicates from another (one link per channel).
    Replica(Vec<Link>),
}

/// A statement or transaction that has been running for a while.
#[derive(Debug, Clone, PartialEq)]
pub struct Activity {
    /// Server process or thread id.
    pub id: u64,
    /// Who runs it.
    pub user: String,
    /// In which database.
    pub database: String,
    /// For how long.
    pub seconds: f64,
    /// The start of the statement text.
    pub text: String,
}

/// What a mode found once connected.
#[derive(Debug, Clone, PartialEq)]
pub enum ModeFacts {
    /// Nothing beyond the connection.
    None,
    /// The query's first value, or why it is not a number.
    Query(Result<f64, Failure>),
    /// Replication state.
    Replication(Replication),
    /// Connections in use and the maximum.
    Connections { used: u64, max: u64 },
    /// Database name and size in bytes.
    Sizes(Vec<(String, u64)>),
    /// Everything running (the evaluation applies the thresholds).
    LongRunning(Vec<Activity>),
}

/// What a database check found.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Time to connect and log in.
    pub connect_time: Duration,
    /// The server's version string.
    pub version: String,
    /// The mode's findings.
    pub mode: ModeFacts,
}

/// What a database check observed: the facts, or the failure that stopped it.
pub type Observed = Result<Facts, Failure>;

/// Turns the facts (or the failure that stopped the dialogue) into a result.
pub fn evaluate(facts: &Result<Facts, Failure>, cfg: &SqlConfig) -> CheckResult {
    let f = match facts {
        Ok(f) => f,
        Err(e) => return e.result(e.text.clone()),
    };
    let secs = f.connect_time.as_secs_f64();
    let time_perf = PerfData::new("time", round3(secs))
        .uom(Uom::Seconds)
        .thresholds(&cfg.time)
        .min(0);
    let mut r = match (&cfg.mode, &f.mode) {
        (Mode::Connect, _) => {
            let state = cfg.time.state(secs);
            CheckResult::new(
                state,
                format!(
                    "{} answered in {secs:.3}s, server {}",
                    cfg.target, f.version
                ),
            )
        }
        (Mode::Query { name, levels, .. }, ModeFacts::Query(v)) => match v {
            Ok(v) => {
                let mut r = CheckResult::new(
                    levels.state(*v),
                    format!("query '{name}' returned {}", num(*v)),
                );
                r.raise(cfg.time.state(secs));
                r.push_perf(PerfData::new("query", *v).thresholds(levels));
                r
            }
            Err(e) => e.result(format!("query '{name}': {e}")),
        },
        (Mode::Replication { lag }, ModeFacts::Replication(rep)) => replication(rep, lag),
        (Mode::Connections { percent }, ModeFacts::Connections { used, max }) => {
            let pct = if *max == 0 {
                100.0
            } else {
                *used as f64 * 100.0 / *max as f64
            };
            let pct = (pct * 10.0).round() / 10.0;
            CheckResult::new(
                percent.state(pct),
                format!("{used} of {max} connections in use ({}%)", num(pct)),
            )
            .with_perf(PerfData::new("connections", *used).min(0).max(*max))
            .with_perf(
                PerfData::new("connections_pct", pct)
                    .uom(Uom::Percent)
                    .thresholds(percent)
                    .min(0)
                    .max(100),
            )
        }
        (Mode::Sizes { bytes, top }, ModeFacts::Sizes(list)) => sizes(list, bytes, *top),
        (Mode::LongRunning { seconds }, ModeFacts::LongRunning(list)) => {
            long_running(list, seconds)
        }
        (_, other) => CheckResult::unknown(format!("internal error: unexpected facts {other:?}")),
    };
    r.push_perf(time_perf);
    r
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

fn num(v: f64) -> String {
    crate::plugin::range::format_number(v)
}

fn replication(rep: &Replication, lag: &Thresholds) -> CheckResult {
    let (links, role) = match rep {
        Replication::Primary(l) => (l, "primary"),
        Replication::Replica(l) => (l, "replica"),
    };
    if links.is_empty() {
        return CheckResult::new(
            State::Critical,
            match rep {
                Replication::Primary(_) => "primary with no replica connected",
                Replication::Replica(_) => "not a replica: no replication configured",
            },
        );
    }
    let mut r = CheckResult::new(State::Ok, "");
    let mut worst: Option<(State, String)> = None;
    let single = matches!(rep, Replication::Replica(_)) && links.len() == 1;
    for l in links {
        let prefix = if single {
            String::new()
        } else {
            format!("{}_", l.name)
        };
        let mut state = State::Ok;
        let mut text = l.name.clone();
        if !l.notes.is_empty() {
            text.push_str(&format!(" ({})", l.notes.join(", ")));
        }
        if !l.problems.is_empty() {
            state = State::Critical;
            text.push_str(&format!(": {}", l.problems.join(", ")));
        }
        let mut parts = Vec::new();
        if let Some(s) = l.lag_seconds {
            state = state.worst(lag.state(s));
            parts.push(format!("{}s", num((s * 10.0).round() / 10.0)));
            r.push_perf(
                PerfData::new(format!("{prefix}lag"), round3(s))
                    .uom(Uom::Seconds)
                    .thresholds(lag)
                    .min(0),
            );
        } else if l.problems.is_empty() && !lag.is_empty() {
            state = State::Unknown;
            parts.push("unknown".into());
        }
        if let Some(b) = l.lag_bytes {
            parts.push(human_bytes(b.max(0.0) as u64));
            r.push_perf(
                PerfData::new(format!("{prefix}lag_bytes"), b.max(0.0) as u64)
                    .uom(Uom::Bytes)
                    .min(0),
            );
        }
        if !parts.is_empty() {
            text.push_str(&format!(" lag {}", parts.join(", ")));
        }
        if worst
            .as_ref()
            .is_none_or(|(s, _)| state.severity() > s.severity())
        {
            worst = Some((state, text.clone()));
        }
        r.push_sub(state, text);
    }
    let (state, text) = worst.unwrap_or((State::Ok, String::new()));
    r.summary = if links.len() == 1 {
        format!("{role}: {text}")
    } else {
        format!(
            "{role} with {} {}: {} {text}",
            links.len(),
            if role == "primary" {
                "replicas"
            } else {
                "channels"
            },
            if state == State::Ok { "e.g." } else { "worst" }
        )
    };
    r
}

fn sizes(list: &[(String, u64)], bytes: &Thresholds, top: usize) -> CheckResult {
    let mut sorted: Vec<&(String, u64)> = list.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let total: u64 = list.iter().map(|(_, s)| *s).sum();
    let mut r = CheckResult::new(State::Ok, "");
    let mut over = Vec::new();
    for (name, size) in &sorted {
        let state = bytes.state(*size as f64);
        if state != State::Ok {
            over.push(format!("{name} {}", human_bytes(*size)));
            r.push_sub(state, format!("{name} is {}", human_bytes(*size)));
        }
    }
    let named: Vec<String> = sorted
        .iter()
        .take(top)
        .map(|(n, s)| format!("{n} {}", human_bytes(*s)))
        .collect();
    r.summary = if over.is_empty() {
        format!(
            "{} databases, {} in all; biggest: {}",
            list.len(),
            human_bytes(total),
            named.join(", ")
        )
    } else {
        format!(
            "{} of {} databases over the size limit: {}",
            over.len(),
            list.len(),
            over.join(", ")
        )
    };
    r.push_perf(PerfData::new("total", total).uom(Uom::Bytes).min(0));
    for (name, size) in sorted.iter().take(top) {
        r.push_perf(
            PerfData::new(name.as_str(), *size)
                .uom(Uom::Bytes)
                .thresholds(bytes)
                .min(0),
        );
    }
    r
}

fn long_running(list: &[Activity], seconds: &Thresholds) -> CheckResult {
    let mut sorted: Vec<&Activity> = list.iter().collect();
    sorted.sort_by(|a, b| b.seconds.total_cmp(&a.seconds).then(a.id.cmp(&b.id)));
    let mut r = CheckResult::new(State::Ok, "");
    let mut named = Vec::new();
    for a in &sorted {
        let state = seconds.state(a.seconds);
        if state == State::Ok {
            continue;
        }
        let who = format!("{}@{} {}s", a.user, a.database, a.seconds.floor());
        r.push_sub(state, format!("{who} (id {}): {}", a.id, a.text));
        named.push(who);
    }
    let longest = sorted.first().map_or(0.0, |a| a.seconds);
    r.summary = if named.is_empty() {
        format!(
            "{} statements running, longest {}s",
            list.len(),
            longest.floor()
        )
    } else {
        format!(
            "{} of {} statements running too long: {}",
            named.len(),
            list.len(),
            named.join(", ")
        )
    };
    r.push_perf(
        PerfData::new("longest", round3(longest))
            .uom(Uom::Seconds)
            .thresholds(seconds)
            .min(0),
    );
    r.push_perf(PerfData::new("too_long", named.len()).min(0));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(args: &[&str]) -> Result<SqlConfig, UsageError> {
        #[derive(clap::Parser)]
        struct A {
            #[command(flatten)]
            s: SqlArgs,
            #[arg(long)]
            replication: bool,
        }
        let a =
            <A as clap::Parser>::try_parse_from(std::iter::once("x").chain(args.iter().copied()))
                .map_err(|e| UsageError(e.to_string()))?;
        resolve(&a.s, a.replication, &None, &None, "database 'd'".into())
    }

    fn facts(mode: ModeFacts) -> Result<Facts, Failure> {
        Ok(Facts {
            connect_time: Duration::from_millis(12),
            version: "15.1".into(),
            mode,
        })
    }

    #[test]
    fn modes_are_exclusive_and_validated() {
        assert_eq!(
            cfg(&["--sizes", "--connections"]).unwrap_err().0,
            "choose one mode, not --connections and --sizes"
        );
        assert_eq!(
            cfg(&["--long-running"]).unwrap_err().0,
            "--long-running needs -w and/or -c: the seconds a query may run"
        );
        assert!(cfg(&["--sizes", "-w", "80%"])
            .unwrap_err()
            .0
            .contains("not a percentage"));
        assert!(cfg(&["-w", "5:2"]).is_err());
        assert_eq!(
            cfg(&["--top", "0", "--sizes"]).unwrap_err().0,
            "--top must be 1 or more"
        );
        assert_eq!(
            cfg(&["--queryname", "x"]).unwrap_err().0,
            "--queryname needs --query"
        );
    }

    #[test]
    fn connect_time_thresholds() {
        let c = cfg(&["-w", "0.01", "-c", "1"]).unwrap();
        let r = evaluate(&facts(ModeFacts::None), &c);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.summary, "database 'd' answered in 0.012s, server 15.1");
        assert_eq!(r.perfdata[0].to_string(), "time=0.012s;0.01;1;0");
        let e = evaluate(&Err("connect: refused".into()), &c);
        assert_eq!(
            (e.state(), e.summary.as_str()),
            (State::Critical, "connect: refused")
        );
    }

    #[test]
    fn connections_in_percent() {
        let c = cfg(&["--connections", "-w", "80%", "-c", "90"]).unwrap();
        let r = evaluate(&facts(ModeFacts::Connections { used: 17, max: 20 }), &c);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.summary, "17 of 20 connections in use (85%)");
        assert_eq!(r.perfdata[1].to_string(), "connections_pct=85%;80;90;0;100");
    }

    #[test]
    fn sizes_name_the_biggest_and_those_over() {
        let c = cfg(&["--sizes", "-w", "1M", "-c", "1G", "--top", "2"]).unwrap();
        let list = vec![
            ("a".to_string(), 1000),
            ("big".to_string(), 5 << 20),
            ("b".to_string(), 2000),
        ];
        let r = evaluate(&facts(ModeFacts::Sizes(list.clone())), &c);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "1 of 3 databases over the size limit: big 5.0 MiB"
        );
        let perf: Vec<String> = r.perfdata.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            perf,
            [
                "total=5245880B;;;0",
                "big=5242880B;1048576;1073741824;0",
                "b=2000B;1048576;1073741824;0",
                "time=0.012s;;;0"
            ]
        );
        let c = cfg(&["--sizes", "--top", "1"]).unwrap();
        let r = evaluate(&facts(ModeFacts::Sizes(list)), &c);
        assert_eq!(
            r.summary,
            "3 databases, 5.0 MiB in all; biggest: big 5.0 MiB"
        );
    }

    #[test]
    fn long_running_named_by_user_and_database() {
        let c = cfg(&["--long-running", "-w", "10", "-c", "60"]).unwrap();
        let act = |id, user: &str, s| Activity {
            id,
            user: user.into(),
            database: "shop".into(),
            seconds: s,
            text: "SELECT 1".into(),
        };
        let r = evaluate(
            &facts(ModeFacts::LongRunning(vec![
                act(1, "bob", 3.0),
                act(2, "alice", 75.5),
            ])),
            &c,
        );
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "1 of 2 statements running too long: alice@shop 75s"
        );
        assert_eq!(r.details[0].text, "alice@shop 75s (id 2): SELECT 1");
    }

    #[test]
    fn replication_links() {
        let c = cfg(&["--replication", "-w", "5", "-c", "30"]).unwrap();
        let link = |name: &str, problems: Vec<String>, s| Link {
            name: name.into(),
            problems,
            notes: vec![],
            lag_seconds: s,
            lag_bytes: Some(2048.0),
        };
        let r = evaluate(
            &facts(ModeFacts::Replication(Replication::Replica(vec![link(
                "standby",
                vec![],
                Some(6.0),
            )]))),
            &c,
        );
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.summary, "replica: standby lag 6s, 2.0 KiB");
        let r = evaluate(
            &facts(ModeFacts::Replication(Replication::Replica(vec![link(
                "main",
                vec!["SQL thread not running".into()],
                None,
            )]))),
            &c,
        );
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "replica: main: SQL thread not running lag 2.0 KiB"
        );
        let r = evaluate(
            &facts(ModeFacts::Replication(Replication::Primary(vec![]))),
            &c,
        );
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Critical, "primary with no replica connected")
        );
    }

    #[test]
    fn query_value_and_errors() {
        let c = cfg(&["-q", "select 1", "--queryname", "one"]).unwrap();
        let r = evaluate(&facts(ModeFacts::Query(Ok(1.0))), &c);
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Ok, "query 'one' returned 1")
        );
        let r = evaluate(
            &facts(ModeFacts::Query(Err("not a number: 'x'".into()))),
            &c,
        );
        assert_eq!(r.state(), State::Critical);
    }

    #[test]
    fn password_sources() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("pw");
        std::fs::write(&f, "s3cret\r\nignored\n").unwrap();
        let a = SqlArgs {
            password_file: Some(f.clone()),
            ..Default::default()
        };
        let p = Password::from_args(&a, "HCOOP_NO_SUCH_VAR");
        assert_eq!(p, Password::File(f));
        assert_eq!(p.read().unwrap().as_deref(), Some("s3cret"));
        let missing = dir.path().join("missing");
        let a = SqlArgs {
            password_file: Some(missing.clone()),
            ..Default::default()
        };
        // not read until the check runs
        let p = Password::from_args(&a, "X");
        assert!(p
            .read()
            .unwrap_err()
            .starts_with(&format!("--password-file {}: ", missing.display())));
        let a = SqlArgs {
            password: Some("p".into()),
            ..Default::default()
        };
        assert_eq!(
            Password::from_args(&a, "X").read().unwrap().as_deref(),
            Some("p")
        );
        assert_eq!(
            Password::from_args(&SqlArgs::default(), "HCOOP_NO_SUCH_VAR"),
            Password::None
        );
    }

    #[test]
    fn levels_through_the_checked_parser() {
        // seconds take units; a doubled % and percentages over 100 are refused
        let c = cfg(&["--replication", "-w", "2m"]).unwrap();
        assert_eq!(
            c.mode,
            Mode::Replication {
                lag: Thresholds::new(Some("120".parse().unwrap()), None)
            }
        );
        assert_eq!(
            cfg(&["--connections", "-w", "10%%"]).unwrap_err().0,
            "--warning: invalid threshold '10%%': '%%' is not a unit (a percentage is 80%)"
        );
        assert!(cfg(&["--connections", "-w", "80%", "-c", "90"]).is_ok());
        assert!(cfg(&["--connections", "-w", "180%"])
            .unwrap_err()
            .0
            .contains("a percentage must be from 0 to 100"));
        assert!(cfg(&["-w", "10%%"]).is_err());
        // multibyte size levels are a clear error, not a panic
        for bad in ["é", "１０G", "10é", "é10"] {
            let e = cfg(&["--sizes", "-c", bad]).unwrap_err().0;
            assert!(
                e.starts_with("--critical: invalid threshold '"),
                "{bad}: {e}"
            );
        }
        assert!(cfg(&["--sizes", "-w", "10G", "-c", "20G"]).is_ok());
        assert!(cfg(&["-q", "select 1", "-w", "1"]).is_ok());
    }

    /// The options both checks take are validated alike, and neither reads a file.
    fn shared_options_validated_alike<C: crate::plugin::Check>() {
        use crate::plugin::runner::validate;
        <C::Args as clap::CommandFactory>::command().debug_assert();
        let err = |args: &[&str]| validate::<C>(args).err().map(|e| e.0).unwrap_or_default();
        // the password file is read when the check runs
        assert!(validate::<C>(&["-H", "127.0.0.1", "--password-file", "/nonexistent"]).is_ok());
        assert_eq!(
            err(&["-H", "127.0.0.1", "-P", "0"]),
            "invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)"
        );
        let e = err(&["-H", "db\nx"]);
        assert!(e.contains("invalid host 'db\\nx'"), "{e}");
        assert_eq!(
            err(&["--connections", "-c", "10%%"]),
            "--critical: invalid threshold '10%%': '%%' is not a unit (a percentage is 80%)"
        );
        assert_eq!(
            err(&["--replication", "--sizes"]),
            "choose one mode, not replication and --sizes"
        );
        // --sizes levels of any text are a usage error, never a panic
        for bad in ["é", "１０G", "10é"] {
            let e = err(&["--sizes", "-w", bad]);
            assert!(
                e.starts_with("--warning: invalid threshold '"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn pgsql_and_mysql_validate_their_shared_options_alike() {
        shared_options_validated_alike::<pgsql::PgsqlCheck>();
        shared_options_validated_alike::<mysql::MysqlCheck>();
    }

    #[tokio::test]
    async fn a_step_that_runs_out_of_time_is_a_timeout() {
        let deadline = Instant::now() + Duration::from_millis(20);
        let e = step(
            "query",
            deadline,
            std::future::pending::<Result<(), String>>(),
        )
        .await
        .unwrap_err();
        assert_eq!(
            e,
            Failure {
                text: "query timed out".into(),
                kind: FailureKind::TimedOut
            }
        );
        let c = cfg(&[]).unwrap();
        let r = evaluate(&Err(e.clone()), &c);
        assert!(r.timed_out);
        assert_eq!(r.summary, "query timed out");
        let q = cfg(&["-q", "select pg_sleep(9)", "--queryname", "slow"]).unwrap();
        let r = evaluate(&facts(ModeFacts::Query(Err(e))), &q);
        assert!(r.timed_out);
        assert_eq!(r.summary, "query 'slow': query timed out");
        // any other failure is CRITICAL of its own
        let r = evaluate(&Err("connect: refused".into()), &c);
        assert!(!r.timed_out);
        assert_eq!(r.state(), State::Critical);
    }
}
