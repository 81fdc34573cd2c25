//! check_mysql_query: runs one SQL query on a MySQL or MariaDB server and compares the
//! first column of the first row with `-w/-c` ranges, as monitoring-plugins'
//! check_mysql_query does (same options, the same perfdata `result`, its words for what
//! goes wrong: "Error with query", "No rows returned", "Is not a numeric"). The
//! connection options and the options file are check_mysql's ([`super::mysql_client`]).

use super::mysql_client::{at, reason, ConnArgs};
use super::{Failure, FailureKind, Password};
use crate::plugin::args::RangeArgs;
use crate::plugin::{CheckResult, CommonArgs, PerfData, State, Thresholds, UsageError, Work};
use clap::Parser;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, Row};
use std::path::PathBuf;
use std::time::Duration;

/// The longest query text taken.
const MAX_QUERY: usize = 64 * 1024;

/// The command line of check_mysql_query.
#[derive(Debug, Parser)]
#[command(
    name = "check_mysql_query",
    version,
    about = "Runs an SQL query on a MySQL or MariaDB server and checks the first column \
             of the first row (a number) against the -w/-c ranges",
    after_help = "Without -H (or with -H localhost, or -H /path/to/socket) the check uses the unix socket.\n\
                  The password comes from -p (visible in ps), --password-file, the options file \
                  (-f, else ~/.my.cnf: [client] and -g's group), or MYSQL_PWD.\n\
                  A query is required; its first value must be a number. No row is WARNING, \
                  a failed query or a value that is no number CRITICAL, as Debian's.\n\
                  Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments); \
                  --help and --version exit 0.",
    mut_arg("warning", |a| a.help("Range of the value that makes the result WARNING (alert outside start:end)")),
    mut_arg("critical", |a| a.help("Range of the value that makes the result CRITICAL"))
)]
pub struct Args {
    /// SQL query to run; only the first column of the first row is read
    #[arg(short = 'q', long = "query", value_name = "SQL")]
    pub query: Option<String>,

    #[command(flatten)]
    pub levels: RangeArgs,

    #[command(flatten)]
    pub conn: ConnArgs,

    /// Password (visible in `ps`: prefer --password-file, the options file or MYSQL_PWD)
    #[arg(short = 'p', long = "password", value_name = "PASSWORD")]
    pub password: Option<String>,

    /// Read the password from the first line of FILE
    #[arg(
        long = "password-file",
        value_name = "FILE",
        conflicts_with = "password"
    )]
    pub password_file: Option<PathBuf>,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// What the query gave.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The first value, a number.
    Number(f64),
    /// The query returned no row.
    NoRows,
    /// The first value is no number (`None`: NULL).
    NotNumeric(Option<String>),
    /// The server refused the query: its message.
    QueryError(String),
}

/// The validated check.
pub struct MysqlQueryCheck {
    conn: ConnArgs,
    password: Password,
    query: String,
    levels: Thresholds,
    timeout: Duration,
}

impl crate::plugin::Check for MysqlQueryCheck {
    type Args = Args;
    type Facts = Result<Answer, Failure>;
    const LABEL: &'static str = "QUERY";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let query = match args.query {
            Some(q) if !q.trim().is_empty() => q,
            _ => return Err(UsageError::new("Must specify a SQL query to run (-q)")),
        };
        if query.len() > MAX_QUERY {
            return Err(UsageError(format!(
                "-q: the query is longer than {MAX_QUERY} bytes"
            )));
        }
        let password = match (args.password, args.password_file) {
            (Some(p), _) => Password::Given(p),
            (None, Some(f)) => Password::File(f),
            (None, None) => match crate::plugin::secrets::secret_from_env("MYSQL_PWD") {
                Some(p) => Password::Given(p),
                None => Password::None,
            },
        };
        Ok(MysqlQueryCheck {
            conn: args.conn,
            password,
            query,
            levels: args.levels.thresholds(),
            timeout: args.common.timeout.duration,
        })
    }

    fn fetch(&self) -> Work<'_, Result<Answer, Failure>> {
        Work::remote(async move {
            // the options and password files are read here, at each run
            let opts = self.conn.opts(&self.password)?;
            let deadline = super::deadline(self.timeout);
            let mut conn = super::step("connect", deadline, async {
                Conn::new(opts).await.map_err(|e| reason(&e))
            })
            .await
            .map_err(|e| e.map(|t| t.strip_prefix("connect: ").unwrap_or(&t).to_string()))?;
            let answer = super::step("query", deadline, async {
                Ok::<_, String>(match conn.query::<Row, _>(self.query.as_str()).await {
                    Err(e) => Answer::QueryError(reason(&e)),
                    Ok(rows) => match rows.first() {
                        None => Answer::NoRows,
                        Some(r) => {
                            let v = at(r, 0);
                            match v.as_deref().and_then(numeric) {
                                Some(n) => Answer::Number(n),
                                None => Answer::NotNumeric(v),
                            }
                        }
                    },
                })
            })
            .await;
            // the answer is known: a slow goodbye must not turn it into a timeout
            let _ = tokio::time::timeout(Duration::from_millis(200), conn.disconnect()).await;
            answer
        })
    }

    fn evaluate(&self, facts: &Result<Answer, Failure>) -> CheckResult {
        evaluate(facts, &self.query, &self.levels)
    }
}

/// A number as the peer takes one: the whole text (spaces around aside), finite.
fn numeric(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The result of the query's answer (pure).
pub fn evaluate(facts: &Result<Answer, Failure>, query: &str, levels: &Thresholds) -> CheckResult {
    let shown = crate::plugin::shown(query);
    match facts {
        Err(e) => match e.kind {
            FailureKind::TimedOut => CheckResult::timed_out(e.text.clone()),
            _ => e.result(e.text.clone()),
        },
        Ok(Answer::QueryError(e)) => {
            CheckResult::new(State::Critical, format!("Error with query - {e}"))
        }
        Ok(Answer::NoRows) => CheckResult::new(State::Warning, "No rows returned"),
        Ok(Answer::NotNumeric(v)) => CheckResult::new(
            State::Critical,
            match v {
                Some(v) => format!("Is not a numeric - '{}'", crate::plugin::shown(v)),
                None => "Is not a numeric - NULL".to_string(),
            },
        ),
        Ok(Answer::Number(v)) => {
            CheckResult::new(levels.state(*v), format!("'{shown}' returned {v:.6}"))
                .with_perf(PerfData::new("result", *v).thresholds(levels))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use crate::plugin::Check;

    fn check(args: &[&str]) -> Result<MysqlQueryCheck, UsageError> {
        validate::<MysqlQueryCheck>(args)
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn a_query_is_required() {
        let e = check(&["-H", "127.0.0.1"]).err().unwrap().0;
        assert!(e.contains("Must specify a SQL query to run"), "{e}");
        assert!(check(&["-q", " "]).is_err());
        assert!(check(&["-q", "SELECT 1", "-w", "x"]).is_err());
        assert!(check(&[
            "-q", "SELECT 1", "-w", "3", "-c", "4", "-d", "db", "-u", "u", "-p", "p", "-P", "3307",
            "-H", "db", "-s", "/s", "-f", "/f", "-g", "g"
        ])
        .is_ok());
    }

    #[test]
    fn verdicts_as_the_peer() {
        let c = check(&["-q", "SELECT PI()", "-w", "3", "-c", "4"]).unwrap();
        let pi = Ok(Answer::Number(std::f64::consts::PI));
        assert_eq!(
            render_text("QUERY", &c.evaluate(&pi)),
            "QUERY WARNING - 'SELECT PI()' returned 3.141593 | result=3.141593;3;4\n"
        );
        assert_eq!(
            c.evaluate(&Ok(Answer::Number(6.3))).state(),
            State::Critical
        );
        assert_eq!(c.evaluate(&Ok(Answer::Number(2.0))).state(), State::Ok);
        let r = c.evaluate(&Ok(Answer::NoRows));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Warning, "No rows returned")
        );
        let r = c.evaluate(&Ok(Answer::NotNumeric(Some(
            "auto_increment_increment".into(),
        ))));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (
                State::Critical,
                "Is not a numeric - 'auto_increment_increment'"
            )
        );
        let r = c.evaluate(&Ok(Answer::QueryError(
            "Table 'db.adsf' doesn't exist".into(),
        )));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (
                State::Critical,
                "Error with query - Table 'db.adsf' doesn't exist"
            )
        );
        let r = c.evaluate(&Err(
            "connect: Access denied for user 'dummy'@'localhost'".into()
        ));
        assert_eq!(r.state(), State::Critical);
        let r = c.evaluate(&Err(Failure {
            text: "query timed out".into(),
            kind: FailureKind::TimedOut,
        }));
        assert!(r.timed_out);
        assert_eq!(numeric(" 2 "), Some(2.0));
        assert_eq!(numeric("inf"), None);
        assert_eq!(numeric("1x"), None);
    }
}
