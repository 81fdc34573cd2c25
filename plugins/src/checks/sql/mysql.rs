//! check_mysql: a MySQL or MariaDB server answers (option-compatible with
//! monitoring-plugins' check_mysql: `-H -P -s -d -u -p -f -g -n -S -w -c -l -C -a -k -D
//! -L`, the server's status counters as its perfdata), and the modes the shared servers
//! need: replication (IO and SQL threads, seconds behind), threads connected against
//! max_connections, schema sizes, long-running queries. Every step has a deadline inside
//! the check's timeout. TLS through rustls with the ring provider.

use super::mysql_client::{at, reason, server_code, ConnArgs};
use super::{
    self as sql, Activity, Facts, Failure, Link, ModeFacts, Replication, SqlArgs, SqlConfig,
};
use crate::plugin::{CheckResult, CommonArgs, PerfData, State, Uom, UsageError, Work};
use clap::Parser;
use mysql_async::prelude::Queryable;
use mysql_async::{ClientIdentity, Conn, OptsBuilder, Row, SslOpts};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The server's error for a refused login (ER_ACCESS_DENIED_ERROR).
const ACCESS_DENIED: u16 = 1045;

/// The status variables Debian's check_mysql prints as perfdata: gauges, and counters
/// (unit `c`), in the order the server lists them.
const STATUS_GAUGES: [&str; 6] = [
    "Open_files",
    "Open_tables",
    "Qcache_free_memory",
    "Qcache_queries_in_cache",
    "Threads_connected",
    "Threads_running",
];
const STATUS_COUNTERS: [&str; 9] = [
    "Connections",
    "Qcache_hits",
    "Qcache_inserts",
    "Qcache_lowmem_prunes",
    "Qcache_not_cached",
    "Queries",
    "Questions",
    "Table_locks_waited",
    "Uptime",
];

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
    after_help = "Without -H (or with -H localhost, or -H /path/to/socket) the check uses the unix socket.\n\
                  The password comes from -p (visible in ps), --password-file, the options file \
                  (-f, else ~/.my.cnf: [client] and -g's group), or MYSQL_PWD.\n\
                  -S on a server that is no replica is WARNING \"No slaves defined\", as Debian's.\n\
                  Deliberately different from Debian's: without -S, -w/-c are levels on the \
                  connection time in seconds (Debian's ignores them there); -L is accepted and \
                  has no effect (the TLS library offers only its own strong ciphers).\n\
                  Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments); \
                  --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub conn: ConnArgs,

    /// Mode: this server as a replica: IO and SQL threads running, seconds behind its
    /// source (-w/-c in seconds)
    #[arg(short = 'S', long = "check-slave", visible_alias = "replication")]
    pub replication: bool,

    /// A refused login is OK: the check is that the server answers
    #[arg(short = 'n', long = "ignore-auth")]
    pub ignore_auth: bool,

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

    /// Trust the CA certificates (PEM files) in DIR instead of the built-in roots
    #[arg(short = 'D', long = "ca-dir", value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,

    /// Client certificate (PEM) to present, with -k
    #[arg(short = 'a', long = "cert", value_name = "FILE", requires = "key")]
    pub cert: Option<PathBuf>,

    /// Private key (PEM) of the client certificate
    #[arg(short = 'k', long = "key", value_name = "FILE", requires = "cert")]
    pub key: Option<PathBuf>,

    /// Accepted for compatibility; the TLS library uses its own strong cipher suites
    #[arg(short = 'L', long = "ciphers", value_name = "LIST")]
    pub ciphers: Option<String>,

    #[command(flatten)]
    pub sql: SqlArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The validated check.
pub struct MysqlCheck {
    conn: ConnArgs,
    ssl: Option<SslOpts>,
    ca_dir: Option<PathBuf>,
    password: sql::Password,
    sql: SqlConfig,
    ignore_auth: bool,
    timeout: Duration,
}

/// What check_mysql found: the shared facts (or the failure), the server's status
/// counters, and a login refused that -n lets pass.
#[derive(Debug, Clone, PartialEq)]
pub struct MysqlFacts {
    pub observed: sql::Observed,
    /// The status variables Debian prints, in the server's order (name, value).
    pub status: Vec<(String, i64)>,
    /// The server refused the login and -n was given: its message.
    pub auth_ignored: Option<String>,
}

impl crate::plugin::Check for MysqlCheck {
    type Args = Args;
    type Facts = MysqlFacts;
    const LABEL: &'static str = "MYSQL";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let tls = match (args.ssl, args.tls) {
            (true, TlsMode::Disable) => TlsMode::Require,
            (_, t) => t,
        };
        let tls = match (tls, args.cert.is_some()) {
            (TlsMode::Disable, true) => TlsMode::Require,
            (t, _) => t,
        };
        if tls == TlsMode::VerifyFull {
            if let Some(ca) = &args.ca_cert {
                std::fs::metadata(ca)
                    .map_err(|e| UsageError(format!("--ca-cert {}: {e}", ca.display())))?;
            }
        }
        let sql = sql::resolve(
            &args.sql,
            args.replication,
            &args.query_warning,
            &args.query_critical,
            args.conn.target(),
        )?;
        let identity = match (args.cert, args.key) {
            (Some(c), Some(k)) => Some(ClientIdentity::new(c.into(), k.into())),
            _ => None,
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
        }
        .map(|s| s.with_client_identity(identity));
        Ok(MysqlCheck {
            password: sql::Password::from_args(&args.sql, "MYSQL_PWD"),
            conn: args.conn,
            ca_dir: args.ca_dir.filter(|_| tls == TlsMode::VerifyFull),
            ssl,
            sql,
            ignore_auth: args.ignore_auth,
            timeout: args.common.timeout.duration,
        })
    }

    fn fetch(&self) -> Work<'_, MysqlFacts> {
        Work::remote(async move {
            let mut facts = MysqlFacts {
                observed: Err("not run".into()),
                status: vec![],
                auth_ignored: None,
            };
            // the options and password files are read here, at each run
            facts.observed = match self.opts() {
                Ok(opts) => fetch(self, opts, &mut facts).await,
                Err(e) => Err(e),
            };
            facts
        })
    }

    fn evaluate(&self, facts: &MysqlFacts) -> CheckResult {
        evaluate(facts, &self.sql)
    }
}

impl MysqlCheck {
    /// The driver's options, with the TLS settings (the CA directory is read here).
    fn opts(&self) -> Result<OptsBuilder, Failure> {
        let mut ssl = self.ssl.clone();
        if let (Some(dir), Some(s)) = (&self.ca_dir, ssl.clone()) {
            let mut roots: Vec<PathBuf> = Vec::new();
            let list = std::fs::read_dir(dir)
                .map_err(|e| Failure::unusable(format!("-D {}: {e}", dir.display())))?;
            for e in list.flatten().take(1000) {
                let p = e.path();
                if p.is_file() {
                    roots.push(p);
                }
            }
            let roots = roots.into_iter().map(Into::into).collect();
            ssl = Some(s.with_root_certs(roots).with_disable_built_in_roots(true));
        }
        Ok(self.conn.opts(&self.password)?.ssl_opts(ssl))
    }
}

/// The result: a refused login -n lets pass is OK; `-S` on a server that is no replica
/// is Debian's WARNING "No slaves defined"; without a mode of ours (--query,
/// --connections, --sizes, --long-running) the perfdata is Debian's: the status
/// variables, then the replica's lag as `seconds behind master`.
pub fn evaluate(facts: &MysqlFacts, cfg: &SqlConfig) -> CheckResult {
    if let Some(why) = &facts.auth_ignored {
        return CheckResult::new(
            State::Ok,
            format!(
                "{} answered; login refused, ignored by -n: {why}",
                cfg.target
            ),
        );
    }
    if let (sql::Mode::Replication { .. }, Ok(f)) = (&cfg.mode, &facts.observed) {
        if f.mode == ModeFacts::Replication(Replication::Replica(vec![])) {
            let mut r = CheckResult::new(State::Warning, "No slaves defined");
            r.perfdata = status_perfdata(&facts.status);
            return r;
        }
    }
    let mut r = sql::evaluate(&facts.observed, cfg);
    if facts.observed.is_err() {
        return r;
    }
    // our own modes keep their own perfdata
    if !matches!(cfg.mode, sql::Mode::Connect | sql::Mode::Replication { .. }) {
        return r;
    }
    let mut ours = std::mem::take(&mut r.perfdata);
    for p in &mut ours {
        // Debian's label for the replica's lag
        if p.label == "lag" {
            p.label = "seconds behind master".into();
        }
    }
    // the connection time only where levels are put on it
    if cfg.time.is_empty() {
        ours.retain(|p| p.label != "time");
    }
    r.perfdata = status_perfdata(&facts.status);
    r.perfdata.extend(ours);
    r
}

/// Debian's perfdata of the status variables.
fn status_perfdata(status: &[(String, i64)]) -> Vec<PerfData> {
    status
        .iter()
        .map(|(name, v)| {
            let p = PerfData::new(name.as_str(), *v);
            if STATUS_COUNTERS.contains(&name.as_str()) {
                p.uom(Uom::Counter)
            } else {
                p
            }
        })
        .collect()
}

async fn rows(conn: &mut Conn, text: &str, deadline: Instant) -> Result<Vec<Row>, Failure> {
    sql::step("query", deadline, async {
        conn.query::<Row, _>(text).await.map_err(|e| reason(&e))
    })
    .await
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

async fn fetch(
    check: &MysqlCheck,
    opts: OptsBuilder,
    out: &mut MysqlFacts,
) -> Result<Facts, Failure> {
    let deadline = sql::deadline(check.timeout);
    let start = Instant::now();
    let target = &check.sql.target;
    let connected = sql::step("connect", deadline, async {
        Conn::new(opts).await.map_err(|e| {
            if check.ignore_auth && server_code(&e) == Some(ACCESS_DENIED) {
                out.auth_ignored = Some(reason(&e));
            }
            reason(&e)
        })
    })
    .await;
    let mut conn = connected.map_err(|e| {
        e.map(|e| {
            let e = e.strip_prefix("connect: ").unwrap_or(&e).to_string();
            format!("cannot connect to {target}: {e}")
        })
    })?;
    let connect_time = start.elapsed();
    let (a, b, c) = conn.server_version();
    let version = format!("{a}.{b}.{c}");
    let debian_mode = matches!(
        check.sql.mode,
        sql::Mode::Connect | sql::Mode::Replication { .. }
    );
    let mode = match mode_facts(&mut conn, &check.sql.mode, deadline).await {
        Ok(m) if !debian_mode => Ok(m),
        Ok(m) => match status(&mut conn, deadline).await {
            Ok(s) => {
                out.status = s;
                Ok(m)
            }
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    // the answer is known: a slow goodbye must not turn it into a timeout
    let _ = tokio::time::timeout(Duration::from_millis(200), conn.disconnect()).await;
    Ok(Facts {
        connect_time,
        version,
        mode: mode?,
    })
}

/// Debian's status variables, in the server's order.
async fn status(conn: &mut Conn, deadline: Instant) -> Result<Vec<(String, i64)>, Failure> {
    Ok(rows(conn, "SHOW GLOBAL STATUS", deadline)
        .await?
        .iter()
        .filter_map(|r| {
            let name = at(r, 0)?;
            let wanted =
                STATUS_GAUGES.contains(&name.as_str()) || STATUS_COUNTERS.contains(&name.as_str());
            // as Debian's atol: a value that is no number counts 0
            let v = at(r, 1).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
            wanted.then_some((name, v))
        })
        .collect())
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

    fn with(observed: sql::Observed) -> MysqlFacts {
        MysqlFacts {
            observed,
            status: vec![("Connections".into(), 12), ("Open_files".into(), 3)],
            auth_ignored: None,
        }
    }

    #[test]
    fn debian_options() {
        let c = check(&[
            "-H",
            "/run/x.sock",
            "-u",
            "u",
            "-f",
            "/etc/my.cnf",
            "-g",
            "nagios",
            "-n",
            "-L",
            "HIGH",
            "-l",
            "-a",
            "/c.pem",
            "-k",
            "/k.pem",
            "-D",
            "/etc/ssl/certs",
        ])
        .unwrap();
        assert!(c.ignore_auth && c.ssl.is_some());
        // a certificate without its key is refused
        assert!(check(&["-a", "/c.pem"]).is_err());
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
            with(Ok(Facts {
                connect_time: Duration::from_millis(2),
                version: "10.11.6".into(),
                mode: ModeFacts::Replication(Replication::Replica(vec![link(behind)])),
            }))
        };
        let r = c.evaluate(&facts(45.0));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Warning, "replica: from db1:3306 lag 45s")
        );
        // Debian's labels: the status variables, then the lag
        let perf: Vec<String> = r.perfdata.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            perf,
            [
                "Connections=12c",
                "Open_files=3",
                "'seconds behind master'=45s;30;60;0"
            ]
        );
        assert_eq!(c.evaluate(&facts(61.0)).state(), State::Critical);
        // no replica: Debian's WARNING and words
        let none = with(Ok(Facts {
            connect_time: Duration::from_millis(2),
            version: "10.11.6".into(),
            mode: ModeFacts::Replication(Replication::Replica(vec![])),
        }));
        let r = c.evaluate(&none);
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Warning, "No slaves defined")
        );
        let r = c.evaluate(&with(Err(Failure::unusable(
            "--password-file /x: No such file or directory (os error 2)".into(),
        ))));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (
                State::Unknown,
                "--password-file /x: No such file or directory (os error 2)"
            )
        );
        // a refused login with -n
        let n = check(&["-n"]).unwrap();
        let mut f = with(Err("cannot connect to server: Access denied".into()));
        f.auth_ignored = Some("Access denied for user 'x'@'localhost'".into());
        assert_eq!(n.evaluate(&f).state(), State::Ok);
        // the connection time is perfdata only where levels are put on it
        let plain = check(&[]).unwrap();
        let ok = with(Ok(Facts {
            connect_time: Duration::from_millis(2),
            version: "10.11.6".into(),
            mode: ModeFacts::None,
        }));
        let labels = |r: CheckResult| {
            r.perfdata
                .iter()
                .map(|p| p.label.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(labels(plain.evaluate(&ok)), ["Connections", "Open_files"]);
        let timed = check(&["-w", "1"]).unwrap();
        assert_eq!(
            labels(timed.evaluate(&ok)),
            ["Connections", "Open_files", "time"]
        );
    }
}
