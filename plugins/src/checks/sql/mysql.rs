//! check_mysql: a MySQL or MariaDB server answers (option-compatible with
//! monitoring-plugins' check_mysql: `-H -P -s -d -u -p -S -l -C`), and the modes the
//! shared servers need: replication (IO and SQL threads, seconds behind), threads
//! connected against max_connections, schema sizes, long-running queries. Every step
//! has a deadline inside the check's timeout. TLS through rustls with the ring provider.

use super::{
    self as sql, Activity, Facts, Failure, Link, ModeFacts, Replication, SqlArgs, SqlConfig,
};
use crate::plugin::{parse_host, parse_port, CheckResult, CommonArgs, UsageError, Work};
use clap::Parser;
use mysql_async::prelude::Queryable;
use mysql_async::{Conn, OptsBuilder, Row, SslOpts, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How TLS is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TlsMode {
    /// Never use TLS
    #[default]
    Disable,
    /// Require TLS, without verifying the certificate
    Require,
    /// Require TLS and verify the chain and the host name
    VerifyFull,
}

/// The command line of check_mysql.
#[derive(Debug, Parser)]
#[command(
    name = "check_mysql",
    version,
    about = "Checks that a MySQL or MariaDB server accepts connections and queries; with a \
             mode, its replication, connections, schema sizes or long-running queries",
    after_help = "Without -H (or with -H localhost) the check uses the unix socket.\n\
                  The password comes from -p (visible in ps), --password-file, or MYSQL_PWD.\n\
                  Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments); \
                  --help and --version exit 0."
)]
pub struct Args {
    /// Host name or address (localhost means the unix socket)
    #[arg(short = 'H', long = "hostname", value_parser = parse_host)]
    pub host: Option<String>,

    /// Port number
    #[arg(short = 'P', long = "port", default_value_t = 3306, value_parser = parse_port)]
    pub port: u16,

    /// Unix socket (used when -H is not given)
    #[arg(
        short = 's',
        long = "socket",
        default_value = "/run/mysqld/mysqld.sock"
    )]
    pub socket: String,

    /// Database to connect to
    #[arg(short = 'd', long = "database")]
    pub database: Option<String>,

    /// User name
    #[arg(short = 'u', long = "username", default_value = "root")]
    pub user: String,

    /// Mode: this server as a replica: IO and SQL threads running, seconds behind its
    /// source (-w/-c in seconds)
    #[arg(short = 'S', long = "check-slave", visible_alias = "replication")]
    pub replication: bool,

    /// Query value that results in WARNING (a range)
    #[arg(long = "query-warning", value_name = "RANGE")]
    pub query_warning: Option<String>,

    /// Query value that results in CRITICAL (a range)
    #[arg(long = "query-critical", value_name = "RANGE")]
    pub query_critical: Option<String>,

    /// Use TLS without verifying the certificate (same as --tls require)
    #[arg(short = 'l', long = "ssl")]
    pub ssl: bool,

    /// TLS mode
    #[arg(long = "tls", value_enum, default_value_t = TlsMode::Disable)]
    pub tls: TlsMode,

    /// Trust the CA certificates in FILE (PEM) instead of the built-in Mozilla roots
    #[arg(short = 'C', long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    #[command(flatten)]
    pub sql: SqlArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The validated check.
pub struct MysqlCheck {
    opts: OptsBuilder,
    password: sql::Password,
    sql: SqlConfig,
    timeout: Duration,
}

impl crate::plugin::Check for MysqlCheck {
    type Args = Args;
    type Facts = sql::Observed;
    const LABEL: &'static str = "MYSQL";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let tls = match (args.ssl, args.tls) {
            (true, TlsMode::Disable) => TlsMode::Require,
            (_, t) => t,
        };
        if tls == TlsMode::VerifyFull {
            if let Some(ca) = &args.ca_cert {
                std::fs::metadata(ca)
                    .map_err(|e| UsageError(format!("--ca-cert {}: {e}", ca.display())))?;
            }
        }
        let target = match &args.database {
            Some(d) => format!("database '{d}'"),
            None => "server".to_string(),
        };
        let sql = sql::resolve(
            &args.sql,
            args.replication,
            &args.query_warning,
            &args.query_critical,
            target,
        )?;
        let mut opts = OptsBuilder::default()
            .user(Some(args.user))
            .db_name(args.database)
            .prefer_socket(false)
            .stmt_cache_size(0);
        opts = match args.host.as_deref() {
            None | Some("localhost") => opts.socket(Some(args.socket)),
            Some(h) => opts.ip_or_hostname(h).tcp_port(args.port),
        };
        let ssl = match tls {
            TlsMode::Disable => None,
            TlsMode::Require => Some(
                SslOpts::default()
                    .with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            ),
            TlsMode::VerifyFull => Some(match args.ca_cert {
                Some(ca) => SslOpts::default()
                    .with_root_certs(vec![ca.into()])
                    .with_disable_built_in_roots(true),
                None => SslOpts::default(),
            }),
        };
        Ok(MysqlCheck {
            password: sql::Password::from_args(&args.sql, "MYSQL_PWD"),
            opts: opts.ssl_opts(ssl),
            sql,
            timeout: args.common.timeout.duration,
        })
    }

    fn fetch(&self) -> Work<'_, sql::Observed> {
        Work::remote(async move {
            // the password file is read here, at each run
            let pw = self.password.read().map_err(Failure::unusable)?;
            fetch(self, self.opts.clone().pass(pw)).await
        })
    }

    fn evaluate(&self, facts: &sql::Observed) -> CheckResult {
        sql::evaluate(facts, &self.sql)
    }
}

/// The reason in a driver error: the server's message, else the error itself.
fn reason(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => s.message.clone(),
        mysql_async::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

async fn rows(conn: &mut Conn, text: &str, deadline: Instant) -> Result<Vec<Row>, Failure> {
    sql::step("query", deadline, async {
        conn.query::<Row, _>(text).await.map_err(|e| reason(&e))
    })
    .await
}

/// A value as text (`None` for NULL).
fn val(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

fn at(row: &Row, i: usize) -> Option<String> {
    val(row.as_ref(i))
}

/// The first of `names` that the row has, as text.
fn col(row: &Row, names: &[&str]) -> Option<String> {
    let cols = row.columns_ref();
    names.iter().find_map(|n| {
        cols.iter()
            .position(|c| c.name_str().eq_ignore_ascii_case(n))
            .and_then(|i| at(row, i))
    })
}

fn num(s: Option<String>) -> Option<f64> {
    s.and_then(|v| v.trim().parse().ok())
}

async fn fetch(check: &MysqlCheck, opts: OptsBuilder) -> Result<Facts, Failure> {
    let deadline = sql::deadline(check.timeout);
    let start = Instant::now();
    let mut conn = sql::step("connect", deadline, async {
        Conn::new(opts).await.map_err(|e| reason(&e))
    })
    .await
    .map_err(|e| {
        e.map(|e| {
            let e = e.strip_prefix("connect: ").unwrap_or(&e).to_string();
            format!("cannot connect to {}: {e}", check.sql.target)
        })
    })?;
    let connect_time = start.elapsed();
    let (a, b, c) = conn.server_version();
    let version = format!("{a}.{b}.{c}");
    let mode = mode_facts(&mut conn, &check.sql.mode, deadline).await;
    // the answer is known: a slow goodbye must not turn it into a timeout
    let _ = tokio::time::timeout(Duration::from_millis(200), conn.disconnect()).await;
    Ok(Facts {
        connect_time,
        version,
        mode: mode?,
    })
}

async fn mode_facts(
    conn: &mut Conn,
    mode: &sql::Mode,
    deadline: Instant,
) -> Result<ModeFacts, Failure> {
    Ok(match mode {
        sql::Mode::Connect => ModeFacts::None,
        sql::Mode::Query { sql, .. } => ModeFacts::Query(match rows(conn, sql, deadline).await {
            Ok(r) => match r.first().map(|r| at(r, 0)) {
                Some(Some(v)) => v
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("the result '{v}' is not a number").into()),
                Some(None) => Err("the result is NULL".into()),
                None => Err("the query returned no value".into()),
            },
            Err(e) => Err(e),
        }),
        sql::Mode::Replication { .. } => {
            let list = match rows(conn, "SHOW REPLICA STATUS", deadline).await {
                Ok(r) => r,
                Err(_) => rows(conn, "SHOW SLAVE STATUS", deadline).await?,
            };
            ModeFacts::Replication(Replication::Replica(list.iter().map(link).collect()))
        }
        sql::Mode::Connections { .. } => {
            let max = rows(conn, "SELECT @@max_connections", deadline).await?;
            let used = rows(conn, "SHOW GLOBAL STATUS LIKE 'Threads_connected'", deadline).await?;
            ModeFacts::Connections {
                used: num(used.first().and_then(|r| at(r, 1))).unwrap_or(0.0) as u64,
                max: num(max.first().and_then(|r| at(r, 0))).unwrap_or(0.0) as u64,
            }
        }
        sql::Mode::Sizes { .. } => ModeFacts::Sizes(
            rows(
                conn,
                "SELECT s.schema_name, CAST(COALESCE(SUM(t.data_length + t.index_length), 0) AS UNSIGNED) \
                 FROM information_schema.schemata s LEFT JOIN information_schema.tables t \
                 ON t.table_schema = s.schema_name \
                 WHERE s.schema_name NOT IN ('information_schema', 'performance_schema') \
                 GROUP BY s.schema_name",
                deadline,
            )
            .await?
            .iter()
            .map(|r| (at(r, 0).unwrap_or_default(), num(at(r, 1)).unwrap_or(0.0) as u64))
            .collect(),
        ),
        sql::Mode::LongRunning { .. } => ModeFacts::LongRunning(
            rows(
                conn,
                "SELECT id, user, COALESCE(db, ''), time, \
                 LEFT(REPLACE(REPLACE(COALESCE(info, ''), '\\n', ' '), '\\r', ' '), 80) \
                 FROM information_schema.processlist \
                 WHERE command NOT IN ('Sleep', 'Daemon', 'Binlog Dump', 'Binlog Dump GTID', \
                 'Slave_IO', 'Slave_SQL', 'Slave_worker') \
                 AND user <> 'system user' AND id <> CONNECTION_ID()",
                deadline,
            )
            .await?
            .iter()
            .map(|r| Activity {
                id: num(at(r, 0)).unwrap_or(0.0) as u64,
                user: at(r, 1).unwrap_or_default(),
                database: at(r, 2).unwrap_or_default(),
                seconds: num(at(r, 3)).unwrap_or(0.0),
                text: at(r, 4).unwrap_or_default(),
            })
            .collect(),
        ),
    })
}

/// One row of `SHOW REPLICA STATUS` (MySQL 8 or MariaDB names, or the older ones).
fn link(r: &Row) -> Link {
    let mut problems = Vec::new();
    for (thread, names, error) in [
        (
            "IO",
            ["Replica_IO_Running", "Slave_IO_Running"],
            "Last_IO_Error",
        ),
        (
            "SQL",
            ["Replica_SQL_Running", "Slave_SQL_Running"],
            "Last_SQL_Error",
        ),
    ] {
        let running = col(r, &names).unwrap_or_default();
        if !running.eq_ignore_ascii_case("yes") {
            let why = col(r, &[error]).filter(|e| !e.is_empty());
            problems.push(match why {
                Some(e) => format!("{thread} thread not running ({e})"),
                None => format!("{thread} thread not running"),
            });
        }
    }
    let host = col(r, &["Source_Host", "Master_Host"]).unwrap_or_default();
    let port = col(r, &["Source_Port", "Master_Port"]).unwrap_or_default();
    let name = col(r, &["Connection_name", "Channel_Name"])
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("from {host}:{port}"));
    Link {
        name,
        problems,
        notes: vec![],
        lag_seconds: num(col(r, &["Seconds_Behind_Source", "Seconds_Behind_Master"])),
        lag_bytes: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;
    use crate::plugin::{Check, State};

    fn check(args: &[&str]) -> Result<MysqlCheck, UsageError> {
        validate::<MysqlCheck>(args)
    }

    #[test]
    fn usage_errors() {
        assert_eq!(
            check(&["-S", "--connections"]).err().unwrap().0,
            "choose one mode, not replication and --connections"
        );
        assert_eq!(
            check(&["--query-warning", "5"]).err().unwrap().0,
            "query ranges need --query"
        );
        assert!(check(&["--tls", "verify-full", "-C", "/nonexistent"])
            .err()
            .unwrap()
            .0
            .starts_with("--ca-cert /nonexistent: "));
        assert!(check(&["-H", "127.0.0.1", "-S", "-w", "30", "-c", "60"]).is_ok());
        assert!(check(&["-H", "localhost"]).is_ok());
    }

    #[test]
    fn evaluates_the_server_s_answers() {
        let c = check(&["-S", "-w", "30", "-c", "60"]).unwrap();
        let link = |behind: f64| Link {
            name: "from db1:3306".into(),
            problems: vec![],
            notes: vec![],
            lag_seconds: Some(behind),
            lag_bytes: None,
        };
        let facts = |behind| {
            Ok(Facts {
                connect_time: Duration::from_millis(2),
                version: "10.11.6".into(),
                mode: ModeFacts::Replication(Replication::Replica(vec![link(behind)])),
            })
        };
        let r = c.evaluate(&facts(45.0));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Warning, "replica: from db1:3306 lag 45s")
        );
        assert_eq!(c.evaluate(&facts(61.0)).state(), State::Critical);
        let r = c.evaluate(&Err(Failure::unusable(
            "--password-file /x: No such file or directory (os error 2)".into(),
        )));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (
                State::Unknown,
                "--password-file /x: No such file or directory (os error 2)"
            )
        );
    }
}
