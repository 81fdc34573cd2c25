//! `-t N:STATE` for check_pgsql, check_mysql, check_nrpe_client and check_http: against
//! a server that accepts and never answers, each check reports its time running out in
//! the state `-t` names: `-t 2:UNKNOWN` exits 3 within 2.5 s, `-t 2` exits 2 (CRITICAL),
//! with the same line. And against real PostgreSQL and MariaDB servers, a query that
//! runs into the check's budget is a timeout too, not a CRITICAL of the check's own.

use hcoop_tests::mysql::Mariadb;
use hcoop_tests::pgsql::Postgres;
use hcoop_tests::sql::{assert_only, slow_query_times_out};
use hcoop_tests::web::{fake_server, Fault};
use hcoop_tests::{plugin, plugin_json};
use std::time::{Duration, Instant};

/// Runs `name` with `-t 2:UNKNOWN` and with `-t 2`; asserts UNKNOWN (exit 3) within
/// 2.5 s and then CRITICAL (exit 2), the result saying only `summary(state)`.
fn times_out(name: &str, args: &[&str], summary: impl Fn(&str) -> String) {
    for (t, state) in [("2:UNKNOWN", "UNKNOWN"), ("2", "CRITICAL")] {
        let mut all = args.to_vec();
        all.extend(["-t", t]);
        let start = Instant::now();
        let v = plugin_json(name, &all);
        let took = start.elapsed();
        assert_only(&v, state, &summary(state));
        assert!(
            took < Duration::from_millis(2500),
            "{name} -t {t} took {took:?}"
        );
    }
}

fn hang() -> String {
    fake_server(Fault::Hang).to_string()
}

#[test]
fn check_pgsql_silent_server() {
    let p = hang();
    let refused = |_: &str| "cannot connect to database 'template1': connect timed out".to_string();
    times_out("check_pgsql", &["-H", "127.0.0.1", "-P", &p], refused);
    // without TLS too (no SSLRequest: the startup message goes unanswered)
    times_out(
        "check_pgsql",
        &[
            "-H",
            "127.0.0.1",
            "-P",
            &p,
            "--tls",
            "disable",
            "-q",
            "SELECT 1",
        ],
        refused,
    );
}

#[test]
fn check_mysql_silent_server() {
    let p = hang();
    times_out("check_mysql", &["-H", "127.0.0.1", "-P", &p], |_| {
        "cannot connect to server: connect timed out".to_string()
    });
}

#[test]
fn check_nrpe_client_silent_server() {
    let p = hang();
    for tls in [&[][..], &["-n"][..]] {
        let mut args = vec!["-H", "127.0.0.1", "-p", &p, "-c", "check_load"];
        args.extend(tls);
        times_out("check_nrpe_client", &args, |s| {
            format!("CHECK_NRPE STATE {s}: Socket timeout after 2 seconds.")
        });
    }
    // -u: UNKNOWN whatever -t says
    let r = plugin(
        "check_nrpe_client",
        &["-H", "127.0.0.1", "-p", &p, "-n", "-u", "-t", "2"],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            3,
            "CHECK_NRPE STATE UNKNOWN: Socket timeout after 2 seconds.\n"
        )
    );
}

#[test]
fn check_http_silent_server() {
    let p = hang();
    // monitoring-plugins' words for a server that does not answer in time
    let timed_out = |_: &str| "Socket timeout after 2 seconds".to_string();
    times_out("check_http", &["-H", "127.0.0.1", "-p", &p], timed_out);
    // a server that sends half a status line and stops
    let half = fake_server(Fault::Garbage(b"HTTP/1.1 200".to_vec())).to_string();
    times_out("check_http", &["-H", "127.0.0.1", "-p", &half], timed_out);
}

/// A real PostgreSQL: a query that sleeps past the budget is a timeout, in -t's state.
#[test]
fn check_pgsql_slow_query() {
    slow_query_times_out(&Postgres::primary(20, false).check(), "SELECT pg_sleep(10)");
}

/// A real MariaDB: the same with SELECT SLEEP.
#[test]
fn check_mysql_slow_query() {
    slow_query_times_out(&Mariadb::start(20, 1, false).check(), "SELECT SLEEP(10)");
}
