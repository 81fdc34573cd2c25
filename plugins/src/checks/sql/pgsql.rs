//! check_pgsql: a PostgreSQL server answers (option-compatible with monitoring-plugins'
//! check_pgsql: `-H -P -d -l -p -w -c -q -W -C --queryname`), and the modes the shared
//! servers need: replication on a primary or a standby, connections against
//! max_connections, database sizes, long-running queries or transactions. TLS through
//! rustls with the ring provider.

use super::{
    self as sql, Activity, Facts, Failure, Link, ModeFacts, Replication, SqlArgs, SqlConfig,
};
use crate::plugin::{parse_host, parse_port, shown, CheckResult, CommonArgs, UsageError, Work};
use crate::proto::tls;
use clap::Parser;
use rustls::ClientConfig;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_postgres::config::SslMode;
use tokio_postgres::{Client, SimpleQueryMessage, SimpleQueryRow};

/// How TLS is used, as libpq's `sslmode` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum TlsMode {
    /// Never use TLS
    Disable,
    /// Use TLS when the server offers it, without verifying the certificate
    #[default]
    Prefer,
    /// Require TLS, without verifying the certificate
    Require,
    /// Require TLS and verify the chain and the host name
    VerifyFull,
}

/// The command line of check_pgsql.
#[derive(Debug, Parser)]
#[command(
    name = "check_pgsql",
    version,
    about = "Checks that a PostgreSQL server accepts connections and queries; with a mode, \
             its replication, connections, database sizes or long-running queries",
    after_help = "The password comes from -p (visible in ps), --password-file, or PGPASSWORD.\n\
                  Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad arguments); \
                  --help and --version exit 0."
)]
pub struct Args {
    /// Host name or address, or a unix socket directory (an absolute path)
    #[arg(short = 'H', long = "hostname", default_value = "/var/run/postgresql", value_parser = host_or_socket)]
    pub host: String,

    /// Port number
    #[arg(short = 'P', long = "port", default_value_t = 5432, value_parser = parse_port)]
    pub port: u16,

    /// Database to connect to
    #[arg(short = 'd', long = "database", default_value = "template1")]
    pub database: String,

    /// Login name (default: PGUSER, else the user running the check)
    #[arg(short = 'l', long = "logname")]
    pub user: Option<String>,

    /// Query value that results in WARNING (a range)
    #[arg(short = 'W', long = "query-warning", value_name = "RANGE")]
    pub query_warning: Option<String>,

    /// Query value that results in CRITICAL (a range)
    #[arg(short = 'C', long = "query-critical", value_name = "RANGE")]
    pub query_critical: Option<String>,

    /// Mode: on a primary, connected replicas and their replay lag; on a standby, its
    /// receiver and replay lag (-w/-c in seconds)
    #[arg(long = "replication")]
    pub replication: bool,

    /// With --long-running: time whole transactions, not statements
    #[arg(long = "transactions")]
    pub transactions: bool,

    /// TLS mode
    #[arg(long = "tls", alias = "sslmode", value_enum, default_value_t = TlsMode::Prefer)]
    pub tls: TlsMode,

    /// Trust the CA certificates in FILE (PEM) instead of the built-in Mozilla roots
    #[arg(long = "ca-cert", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    #[command(flatten)]
    pub sql: SqlArgs,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `-H`: a host name or address ([`parse_host`]), or a socket directory: an absolute
/// path without control characters.
fn host_or_socket(text: &str) -> Result<String, String> {
    if !text.starts_with('/') {
        return parse_host(text);
    }
    if text.chars().any(char::is_control) || text.len() > 4096 {
        return Err(format!("invalid socket directory '{}'", shown(text)));
    }
    Ok(text.to_string())
}

/// The validated check.
pub struct PgsqlCheck {
    config: tokio_postgres::Config,
    password: sql::Password,
    tls: Option<ClientConfig>,
    sql: SqlConfig,
    transactions: bool,
    timeout: Duration,
}

/// The login name when `-l` is not given: PGUSER, else the user running the check
/// (looked up when the check runs: validation does no I/O).
fn default_user() -> String {
    if let Some(u) = std::env::var("PGUSER").ok().filter(|u| !u.is_empty()) {
        return u;
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; the name is
    // copied out at once.
    unsafe {
        let pw = libc::getpwuid(libc::geteuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
    }
    "postgres".into()
}

impl crate::plugin::Check for PgsqlCheck {
    type Args = Args;
    type Facts = sql::Observed;
    const LABEL: &'static str = "PGSQL";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        if args.host.is_empty() {
            return Err(UsageError::new(
                "-H needs a host name or a socket directory",
            ));
        }
        if args.transactions && !args.sql.long_running {
            return Err(UsageError::new("--transactions needs --long-running"));
        }
        let target = format!("database '{}'", args.database);
        let sql = sql::resolve(
            &args.sql,
            args.replication,
            &args.query_warning,
            &args.query_critical,
            target,
        )?;
        let mut config = tokio_postgres::Config::new();
        if let Some(user) = &args.user {
            config.user(user);
        }
        if args.host.starts_with('/') {
            config.host_path(&args.host);
        } else {
            config.host(&args.host);
        }
        config
            .port(args.port)
            .dbname(&args.database)
            .application_name("check_pgsql")
            .connect_timeout(args.common.timeout.duration);
        // TLS does not apply to unix sockets
        let mode = if args.host.starts_with('/') {
            TlsMode::Disable
        } else {
            args.tls
        };
        let tls = match mode {
            TlsMode::Disable => {
                config.ssl_mode(SslMode::Disable);
                None
            }
            TlsMode::Prefer => {
                config.ssl_mode(SslMode::Prefer);
                Some(client_config(false, &args.ca_cert)?)
            }
            TlsMode::Require | TlsMode::VerifyFull => {
                config.ssl_mode(SslMode::Require);
                Some(client_config(
                    args.tls == TlsMode::VerifyFull,
                    &args.ca_cert,
                )?)
            }
        };
        Ok(PgsqlCheck {
            config,
            password: sql::Password::from_args(&args.sql, "PGPASSWORD"),
            tls,
            sql,
            transactions: args.transactions,
            timeout: args.common.timeout.duration,
        })
    }

    fn fetch(&self) -> Work<'_, sql::Observed> {
        Work::remote(async move {
            // the password file is read here, at each run, and the login name looked up
            let mut config = self.config.clone();
            if let Some(pw) = self.password.read().map_err(Failure::unusable)? {
                config.password(pw);
            }
            if config.get_user().is_none() {
                config.user(default_user());
            }
            fetch(self, &config).await
        })
    }

    fn evaluate(&self, facts: &sql::Observed) -> CheckResult {
        sql::evaluate(facts, &self.sql)
    }
}

/// The rustls configuration: verifying against `--ca-cert` (or the Mozilla roots), or
/// accepting any certificate.
fn client_config(verify: bool, ca: &Option<PathBuf>) -> Result<ClientConfig, UsageError> {
    let builder = ClientConfig::builder_with_provider(tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| UsageError(format!("TLS configuration: {e}")))?;
    let verifier = match (verify, ca) {
        (false, _) => tls::Verifier::accept_any(),
        (true, Some(path)) => tls::Verifier::new(
            tls::Verify::ChainAndName,
            Some(tls::ca_file_verifier(path).map_err(UsageError)?),
        ),
        (true, None) => {
            tls::Verifier::new(tls::Verify::ChainAndName, Some(tls::mozilla_verifier()))
        }
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth())
}

/// The reason in a driver error: the server's message, else the error and its cause.
fn reason(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db.message().to_string();
    }
    match std::error::Error::source(e) {
        Some(src) => format!("{e}: {src}"),
        None => e.to_string(),
    }
    .replace("error connecting to server: ", "")
}

async fn connect(
    check: &PgsqlCheck,
    config: &tokio_postgres::Config,
    deadline: Instant,
) -> Result<Client, Failure> {
    let fail = |e: Failure| {
        e.map(|e| {
            let e = e.strip_prefix("connect: ").unwrap_or(&e).to_string();
            format!("cannot connect to {}: {e}", check.sql.target)
        })
    };
    let connect = async {
        match &check.tls {
            None => {
                let (client, conn) = config.connect(tokio_postgres::NoTls).await?;
                tokio::spawn(conn);
                Ok(client)
            }
            Some(tls) => {
                let tls = tokio_postgres_rustls::MakeRustlsConnect::new(tls.clone());
                let (client, conn) = config.connect(tls).await?;
                tokio::spawn(conn);
                Ok(client)
            }
        }
    };
    sql::step("connect", deadline, async {
        connect.await.map_err(|e: tokio_postgres::Error| reason(&e))
    })
    .await
    .map_err(fail)
}

/// Runs `text` and returns the rows of the last statement that returned any.
async fn rows(
    client: &Client,
    text: &str,
    deadline: Instant,
) -> Result<Vec<SimpleQueryRow>, Failure> {
    let msgs = sql::step("query", deadline, async {
        client.simple_query(text).await.map_err(|e| reason(&e))
    })
    .await?;
    let mut sets: Vec<Vec<SimpleQueryRow>> = vec![Vec::new()];
    for m in msgs {
        match m {
            SimpleQueryMessage::Row(r) => sets.last_mut().unwrap_or(&mut Vec::new()).push(r),
            SimpleQueryMessage::CommandComplete(_) => sets.push(Vec::new()),
            _ => {}
        }
    }
    Ok(sets
        .into_iter()
        .rev()
        .find(|s| !s.is_empty())
        .unwrap_or_default())
}

fn text(row: &SimpleQueryRow, i: usize) -> String {
    row.get(i).unwrap_or("").to_string()
}

fn number(row: &SimpleQueryRow, i: usize) -> Option<f64> {
    row.get(i).and_then(|v| v.trim().parse().ok())
}

async fn fetch(check: &PgsqlCheck, config: &tokio_postgres::Config) -> Result<Facts, Failure> {
    let deadline = sql::deadline(check.timeout);
    let start = Instant::now();
    let client = connect(check, config, deadline).await?;
    let connect_time = start.elapsed();
    let version = rows(&client, "SHOW server_version", deadline)
        .await?
        .first()
        .map(|r| text(r, 0))
        .unwrap_or_default();
    let version = format!(
        "PostgreSQL {}",
        version.split_whitespace().next().unwrap_or("")
    );
    let mode = match &check.sql.mode {
        sql::Mode::Connect => ModeFacts::None,
        sql::Mode::Query { sql, .. } => {
            ModeFacts::Query(match rows(&client, sql, deadline).await {
                Ok(r) => match r.first().and_then(|r| r.get(0)) {
                    Some(v) => v
                        .trim()
                        .parse::<f64>()
                        .map_err(|_| format!("the result '{v}' is not a number").into()),
                    None => Err("the query returned no value".into()),
                },
                Err(e) => Err(e),
            })
        }
        sql::Mode::Replication { .. } => {
            ModeFacts::Replication(replication(&client, deadline).await?)
        }
        sql::Mode::Connections { .. } => {
            let r = rows(
                &client,
                "SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), \
                 current_setting('max_connections')",
                deadline,
            )
            .await?;
            let r = r.first().ok_or("no answer about connections")?;
            ModeFacts::Connections {
                used: number(r, 0).unwrap_or(0.0) as u64,
                max: number(r, 1).unwrap_or(0.0) as u64,
            }
        }
        sql::Mode::Sizes { .. } => ModeFacts::Sizes(
            rows(
                &client,
                "SELECT datname, pg_database_size(oid) FROM pg_database WHERE datallowconn",
                deadline,
            )
            .await?
            .iter()
            .map(|r| (text(r, 0), number(r, 1).unwrap_or(0.0) as u64))
            .collect(),
        ),
        sql::Mode::LongRunning { .. } => {
            let (since, filter) = if check.transactions {
                ("xact_start", "xact_start IS NOT NULL")
            } else {
                ("query_start", "state <> 'idle' AND query_start IS NOT NULL")
            };
            let q = format!(
                "SELECT pid, coalesce(usename, ''), coalesce(datname, ''), \
                 extract(epoch FROM now() - {since}), left(regexp_replace(query, '\\s+', ' ', 'g'), 80) \
                 FROM pg_stat_activity WHERE backend_type = 'client backend' \
                 AND pid <> pg_backend_pid() AND {filter}"
            );
            ModeFacts::LongRunning(
                rows(&client, &q, deadline)
                    .await?
                    .iter()
                    .map(|r| Activity {
                        id: number(r, 0).unwrap_or(0.0) as u64,
                        user: text(r, 1),
                        database: text(r, 2),
                        seconds: number(r, 3).unwrap_or(0.0).max(0.0),
                        text: text(r, 4),
                    })
                    .collect(),
            )
        }
    };
    Ok(Facts {
        connect_time,
        version,
        mode,
    })
}

async fn replication(client: &Client, deadline: Instant) -> Result<Replication, Failure> {
    let standby = rows(client, "SELECT pg_is_in_recovery()", deadline).await?;
    if standby.first().map(|r| text(r, 0)).as_deref() == Some("t") {
        let r = rows(
            client,
            "SELECT pg_is_wal_replay_paused(), \
             pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), \
             CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 \
                  ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END, \
             (SELECT status FROM pg_stat_wal_receiver), \
             (SELECT sender_host || ':' || sender_port FROM pg_stat_wal_receiver)",
            deadline,
        )
        .await?;
        let r = r.first().ok_or("no answer about recovery")?;
        let mut problems = Vec::new();
        match r.get(3) {
            Some("streaming") => {}
            Some(s) => problems.push(format!("WAL receiver {s}")),
            None => problems.push("WAL receiver not running".to_string()),
        }
        let notes = match r.get(0) {
            Some("t") => vec!["replay paused".to_string()],
            _ => vec![],
        };
        return Ok(Replication::Replica(vec![Link {
            name: r.get(4).map_or("standby".into(), |s| format!("from {s}")),
            problems,
            notes,
            lag_seconds: number(r, 2),
            lag_bytes: number(r, 1),
        }]));
    }
    let list = rows(
        client,
        "SELECT coalesce(nullif(application_name, ''), client_addr::text, 'local'), state, \
         pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), \
         coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication ORDER BY 1",
        deadline,
    )
    .await?;
    Ok(Replication::Primary(
        list.iter()
            .map(|r| Link {
                name: text(r, 0),
                problems: match r.get(1) {
                    Some("streaming") => vec![],
                    s => vec![format!("state {}", s.unwrap_or("unknown"))],
                },
                notes: vec![],
                lag_seconds: number(r, 3),
                lag_bytes: number(r, 2),
            })
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;
    use crate::plugin::{Check, State};

    fn check(args: &[&str]) -> Result<PgsqlCheck, UsageError> {
        validate::<PgsqlCheck>(args)
    }

    #[test]
    fn usage_errors() {
        assert_eq!(
            check(&["--transactions"]).err().unwrap().0,
            "--transactions needs --long-running"
        );
        assert_eq!(
            check(&["-W", "5"]).err().unwrap().0,
            "query ranges need --query"
        );
        assert!(check(&[
            "-H",
            "127.0.0.1",
            "--tls",
            "verify-full",
            "--ca-cert",
            "/nonexistent"
        ])
        .err()
        .unwrap()
        .0
        .starts_with("--ca-cert /nonexistent: "));
        assert!(check(&["-H", "/tmp", "-q", "select 1", "-W", "1", "-C", "2"]).is_ok());
    }

    #[test]
    fn sockets() {
        let e = check(&["-H", "/run/x\ny"]).err().unwrap().0;
        assert!(e.contains("invalid socket directory '/run/x\\ny'"), "{e}");
        assert!(check(&["-H", "/run/postgresql"]).is_ok());
        assert!(check(&["-H", "[::1]", "--tls", "disable"]).is_ok());
    }

    #[test]
    fn validation_looks_up_no_user() {
        // the login name is left to the run when -l is not given
        let c = check(&["-H", "127.0.0.1"]).unwrap();
        assert_eq!(c.config.get_user(), None);
        let c = check(&["-H", "127.0.0.1", "-l", "nagios"]).unwrap();
        assert_eq!(c.config.get_user(), Some("nagios"));
    }

    #[test]
    fn evaluates_the_server_s_answers() {
        let c = check(&[
            "-d",
            "shop",
            "-q",
            "SELECT count(*) FROM orders",
            "--queryname",
            "orders",
            "-W",
            "10",
            "-C",
            "20",
        ])
        .unwrap();
        let facts = |v| {
            Ok(sql::Facts {
                connect_time: Duration::from_millis(3),
                version: "PostgreSQL 15.8".into(),
                mode: ModeFacts::Query(v),
            })
        };
        let r = c.evaluate(&facts(Ok(12.0)));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (State::Warning, "query 'orders' returned 12")
        );
        let r = c.evaluate(&facts(Err("relation \"orders\" does not exist".into())));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (
                State::Critical,
                "query 'orders': relation \"orders\" does not exist"
            )
        );
        let r = c.evaluate(&Err("cannot connect to database 'shop': refused".into()));
        assert_eq!(
            (r.state(), r.summary.as_str()),
            (
                State::Critical,
                "cannot connect to database 'shop': refused"
            )
        );
    }
}
