//! check_pgsql end to end against real PostgreSQL servers: a primary with TLS and a
//! small max_connections, and a primary with a streaming standby for replication lag.

use hcoop_tests::line::{perf, perf_labels};
use hcoop_tests::pgsql::{Postgres, PASSWORD};
use hcoop_tests::sql::{self, assert_only, assert_says, assert_starts, Db};
use hcoop_tests::wait_until;
use serde_json::json;

#[test]
fn one_primary_every_scenario() {
    let mut pg = Postgres::primary(10, true);
    pg.psql("CREATE ROLE alice LOGIN; CREATE ROLE tlsuser LOGIN PASSWORD 'tlspw'");
    pg.psql("CREATE DATABASE shop OWNER alice");
    pg.psql("CREATE DATABASE big");
    pg.psql_in(
        "big",
        "CREATE TABLE t AS SELECT repeat('x', 1000) AS v FROM generate_series(1, 20000)",
    );
    let port = pg.port.to_string();
    let db = pg.check();

    // healthy
    let v = db.json(&["-w", "5", "-c", "9"]);
    assert_starts(&v, "OK", "database 'template1' answered in ");
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains(", server PostgreSQL 1"),
        "{v}"
    );
    assert_eq!(perf_labels(&v), ["time"], "{v}");
    assert_eq!(
        (&perf(&v, "time")["warn"], &perf(&v, "time")["crit"]),
        (&json!("5"), &json!("9"))
    );

    // over the unix socket, no password
    let v = Db::new(
        "check_pgsql",
        &["-H", &pg.socket_dir(), "-P", &port, "-l", "postgres"],
    )
    .json(&[]);
    assert_eq!(v["state"], "OK", "{v}");

    // wrong password: the whole text line; the right one from a file and from the
    // environment
    let no_password = pg.check_as("postgres", None);
    let r = no_password.run(&["-p", "wrong", "--tls", "disable"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            2,
            "PGSQL CRITICAL - cannot connect to database 'template1': password authentication failed for user \"postgres\"\n"
        )
    );
    let dir = tempfile::tempdir().unwrap();
    let pwfile = dir.path().join("pw");
    std::fs::write(&pwfile, format!("{PASSWORD}\n")).unwrap();
    let v = no_password.json(&["--password-file", &pwfile.to_string_lossy()]);
    assert_eq!(v["state"], "OK", "{v}");
    let v = no_password.json_with_env(&[], "PGPASSWORD", PASSWORD);
    assert_eq!(v["state"], "OK", "{v}");

    // database missing
    assert_only(
        &db.json(&["-d", "nosuch"]),
        "CRITICAL",
        "cannot connect to database 'nosuch': database \"nosuch\" does not exist",
    );

    // a query and its ranges (postgres, template0, template1, shop, big)
    let v = db.json(&[
        "-q",
        "SELECT count(*) FROM pg_database",
        "--queryname",
        "databases",
        "-W",
        "3",
        "-C",
        "10",
    ]);
    sql::assert_query(&v, "WARNING", "databases", 5.0, "3", "10");
    let v = db.json(&["-q", "SELECT 'abc'"]);
    assert_says(
        &v,
        "CRITICAL",
        "query 'SELECT 'abc'': the result 'abc' is not a number",
    );

    // TLS required for tlsuser: refused without, verified with the CA, refused when the
    // chain cannot be verified
    let ca = pg.certs.as_ref().unwrap().ca.to_string_lossy().into_owned();
    let tls = pg.check_as("tlsuser", Some("tlspw"));
    let v = tls.json(&["--tls", "disable"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert!(
        v["summary"].as_str().unwrap().contains("no encryption"),
        "{v}"
    );
    assert_eq!(
        tls.json(&["--tls", "verify-full", "--ca-cert", &ca])["state"],
        "OK"
    );
    assert_eq!(tls.json(&["--tls", "require"])["state"], "OK");
    assert_eq!(tls.json(&["--tls", "verify-full"])["state"], "CRITICAL");

    // one long query by alice in shop, four idle sessions: 5 of 10 connections + ours
    let sessions: Vec<_> =
        std::iter::once(pg.session("alice", "shop", Some("SELECT pg_sleep(60)")))
            .chain((0..4).map(|_| pg.session("postgres", "postgres", None)))
            .collect();
    assert!(
        wait_until(10.0, || pg.psql(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' \
             AND query_start < now() - interval '2 seconds' AND query LIKE '%pg_sleep(60)%'"
        ) == "1"
            && pg.psql(
                "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"
            ) == "6"),
        "sessions did not start"
    );
    let v = db.json(&["--connections", "-w", "50", "-c", "90"]);
    sql::assert_connections(&v, "WARNING", 6, 10, "50", "90");
    let v = db.json(&["--long-running", "-w", "1", "-c", "300"]);
    assert_starts(
        &v,
        "WARNING",
        "1 of 1 statements running too long: alice@shop ",
    );
    let detail = v["details"][0]["text"].as_str().unwrap();
    assert!(detail.ends_with("SELECT pg_sleep(60);"), "{detail}");
    let v = db.json(&["--long-running", "--transactions", "-c", "1"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    drop(sessions);

    // sizes: big (about 20 MiB) over 15M, the top two named
    let v = db.json(&["--sizes", "-w", "15M", "-c", "1G", "--top", "2"]);
    assert_starts(&v, "WARNING", "1 of 4 databases over the size limit: big ");
    let labels = perf_labels(&v);
    assert_eq!(labels[0..2], ["total", "big"]);
    assert_eq!(labels.len(), 4, "{labels:?}");
    assert_eq!(
        db.json(&["--sizes", "-w", "15M", "-c", "16M"])["state"],
        "CRITICAL"
    );

    // a primary without replicas
    let v = db.json(&["--replication"]);
    assert_says(&v, "CRITICAL", "primary with no replica connected");
    assert_eq!(perf_labels(&v), ["time"], "{v}");

    // server stopped
    pg.stop();
    let v = db.json(&[]);
    assert_starts(&v, "CRITICAL", "cannot connect to database 'template1': ");
    assert!(v["summary"].as_str().unwrap().contains("refused"), "{v}");
}

#[test]
fn standby_lag_when_replay_is_paused() {
    let primary = Postgres::primary(20, false);
    let standby = Postgres::standby(&primary);
    assert!(
        wait_until(15.0, || primary.psql(
            "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
        ) == "1"),
        "the standby did not start streaming"
    );
    let (on_primary, on_standby) = (primary.check(), standby.check());
    assert_starts(
        &on_primary.json(&["--replication", "-w", "5", "-c", "60"]),
        "OK",
        "primary: standby1 lag ",
    );
    let v = on_standby.json(&["--replication", "-w", "5", "-c", "60"]);
    assert_starts(
        &v,
        "OK",
        &format!("replica: from 127.0.0.1:{} lag 0s, 0 B", primary.port),
    );
    assert_eq!(perf(&v, "lag")["value"].as_f64(), Some(0.0), "{v}");
    assert_eq!(perf(&v, "lag_bytes")["value"].as_f64(), Some(0.0), "{v}");

    // a replayed transaction gives the standby a replay time to measure lag from
    primary.psql("CREATE TABLE mark (n int)");
    assert!(
        wait_until(10.0, || standby
            .psql("SELECT count(*) FROM pg_class WHERE relname = 'mark'")
            == "1"),
        "the standby did not replay"
    );
    // pause replay, write on the primary, wait: the standby falls behind
    standby.psql("SELECT pg_wal_replay_pause()");
    primary.psql("CREATE TABLE filler AS SELECT generate_series(1, 50000) AS n");
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let v = on_standby.json(&["--replication", "-w", "2", "-c", "60"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(&format!(
            "replica: from 127.0.0.1:{} (replay paused) lag ",
            primary.port
        )),
        "{summary}"
    );
    assert_eq!(v["perfdata"][0]["label"], "lag", "{v}");
    let perf = &v["perfdata"][1];
    assert!(perf["value"].as_f64().unwrap() > 100_000.0, "{v}");
    let v = on_primary.json(&["--replication"]);
    assert!(
        v["perfdata"][1]["value"].as_f64().unwrap() > 100_000.0,
        "{v}"
    );

    // resume: caught up again
    standby.psql("SELECT pg_wal_replay_resume()");
    assert!(
        wait_until(10.0, || on_standby.json(&["--replication", "-w", "2"])
            ["state"]
            == "OK"),
        "the standby did not catch up"
    );
}

/// Bad levels, ports and hosts are one line naming the problem, exit 3, before any
/// connection.
#[test]
fn bad_arguments_are_one_line() {
    sql::bad_arguments_are_one_line(
        "check_pgsql",
        "PGSQL",
        &[
            (
                &["--connections", "-w", "10%%"],
                "--warning: invalid threshold '10%%': '%%' is not a unit (a percentage is 80%)",
            ),
            (
                &["--sizes", "-c", "１０G"],
                "--critical: invalid threshold '１０G': '１' is not allowed (use ASCII digits)",
            ),
        ],
    );
}
