//! check_pgsql end to end against real PostgreSQL servers: a primary with TLS and a
//! small max_connections, and a primary with a streaming standby for replication lag.

use hcoop_tests::pgsql::{Postgres, PASSWORD};
use hcoop_tests::{plugin, plugin_json, wait_until};

fn tcp(pg: &Postgres) -> Vec<String> {
    vec![
        "-H".into(),
        "127.0.0.1".into(),
        "-P".into(),
        pg.port.to_string(),
        "-l".into(),
        "postgres".into(),
        "-p".into(),
        PASSWORD.into(),
        "--tls".into(),
        "disable".into(),
    ]
}

fn check(pg: &Postgres, extra: &[&str]) -> hcoop_tests::Run {
    let mut args = tcp(pg);
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    plugin("check_pgsql", &a)
}

fn json(pg: &Postgres, extra: &[&str]) -> serde_json::Value {
    let mut args = tcp(pg);
    args.extend(extra.iter().map(|s| s.to_string()));
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    plugin_json("check_pgsql", &a)
}

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

    // healthy
    let r = check(&pg, &["-w", "5", "-c", "9"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("PGSQL OK - database 'template1' answered in "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(", server PostgreSQL 1"), "{}", r.stdout);
    assert!(r.stdout.contains("| time="), "{}", r.stdout);

    // over the unix socket, no password
    let r = plugin(
        "check_pgsql",
        &["-H", &pg.socket_dir(), "-P", &port, "-l", "postgres"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);

    // wrong password; the right one from a file and from the environment
    let r = plugin(
        "check_pgsql",
        &[
            "-H",
            "127.0.0.1",
            "-P",
            &port,
            "-l",
            "postgres",
            "-p",
            "wrong",
            "--tls",
            "disable",
        ],
    );
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
    let r = plugin(
        "check_pgsql",
        &[
            "-H",
            "127.0.0.1",
            "-P",
            &port,
            "-l",
            "postgres",
            "--password-file",
            &pwfile.to_string_lossy(),
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    let out = std::process::Command::new(hcoop_tests::bin("check_pgsql"))
        .args(["-H", "127.0.0.1", "-P", &port, "-l", "postgres"])
        .env("PGPASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // database missing
    let r = check(&pg, &["-d", "nosuch"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            2,
            "PGSQL CRITICAL - cannot connect to database 'nosuch': database \"nosuch\" does not exist\n"
        )
    );

    // a query and its ranges (postgres, template0, template1, shop, big)
    let r = check(
        &pg,
        &[
            "-q",
            "SELECT count(*) FROM pg_database",
            "--queryname",
            "databases",
            "-W",
            "3",
            "-C",
            "10",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("PGSQL WARNING - query 'databases' returned 5 | query=5;3;10 time="),
        "{}",
        r.stdout
    );
    let r = check(&pg, &["-q", "SELECT 'abc'"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        r.first_line().split(" | ").next().unwrap(),
        "PGSQL CRITICAL - query 'SELECT 'abc'': the result 'abc' is not a number"
    );

    // TLS required for tlsuser: refused without, verified with the CA, refused when the
    // chain cannot be verified
    let ca = pg.certs.as_ref().unwrap().ca.to_string_lossy().into_owned();
    let tls_user = [
        "-H",
        "127.0.0.1",
        "-P",
        &port,
        "-l",
        "tlsuser",
        "-p",
        "tlspw",
    ];
    let with = |extra: &[&str]| {
        let mut a = tls_user.to_vec();
        a.extend_from_slice(extra);
        plugin("check_pgsql", &a)
    };
    let r = with(&["--tls", "disable"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stdout.contains("no encryption"), "{}", r.stdout);
    let r = with(&["--tls", "verify-full", "--ca-cert", &ca]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = with(&["--tls", "require"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    let r = with(&["--tls", "verify-full"]);
    assert_eq!(r.code, 2, "{}", r.stdout);

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
    let r = check(&pg, &["--connections", "-w", "50", "-c", "90"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(
            "PGSQL WARNING - 6 of 10 connections in use (60%) | connections=6;;;0;10 connections_pct=60%;50;90;0;100 time="
        ),
        "{}",
        r.stdout
    );
    let v = json(&pg, &["--long-running", "-w", "1", "-c", "300"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("1 of 1 statements running too long: alice@shop "),
        "{summary}"
    );
    let detail = v["details"][0]["text"].as_str().unwrap();
    assert!(detail.ends_with("SELECT pg_sleep(60);"), "{detail}");
    let r = check(&pg, &["--long-running", "--transactions", "-c", "1"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    drop(sessions);

    // sizes: big (about 20 MiB) over 15M, the top two named
    let v = json(&pg, &["--sizes", "-w", "15M", "-c", "1G", "--top", "2"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("1 of 4 databases over the size limit: big "),
        "{summary}"
    );
    let labels: Vec<&str> = v["perfdata"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels[0..2], ["total", "big"]);
    assert_eq!(labels.len(), 4, "{labels:?}");
    let r = check(&pg, &["--sizes", "-w", "15M", "-c", "16M"]);
    assert_eq!(r.code, 2, "{}", r.stdout);

    // a primary without replicas
    let r = check(&pg, &["--replication"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.first_line()
            .starts_with("PGSQL CRITICAL - primary with no replica connected | time="),
        "{}",
        r.stdout
    );

    // server stopped
    pg.stop();
    let r = check(&pg, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("PGSQL CRITICAL - cannot connect to database 'template1': "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("refused"), "{}", r.stdout);
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
    let r = check(&primary, &["--replication", "-w", "5", "-c", "60"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("PGSQL OK - primary: standby1 lag "),
        "{}",
        r.stdout
    );
    let r = check(&standby, &["--replication", "-w", "5", "-c", "60"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(&format!(
            "PGSQL OK - replica: from 127.0.0.1:{} lag 0s, 0 B",
            primary.port
        )),
        "{}",
        r.stdout
    );

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
    let v = json(&standby, &["--replication", "-w", "2", "-c", "60"]);
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
    let v = json(&primary, &["--replication"]);
    assert!(
        v["perfdata"][1]["value"].as_f64().unwrap() > 100_000.0,
        "{v}"
    );

    // resume: caught up again
    standby.psql("SELECT pg_wal_replay_resume()");
    assert!(
        wait_until(10.0, || check(&standby, &["--replication", "-w", "2"]).code
            == 0),
        "the standby did not catch up"
    );
}

/// Bad levels, ports and hosts are one line naming the problem, exit 3, before any
/// connection.
#[test]
fn bad_arguments_are_one_line() {
    for (args, line) in [
        (
            &["--connections", "-w", "10%%"][..],
            "PGSQL UNKNOWN - --warning: invalid threshold '10%%': '%%' is not a unit (a percentage is 80%)\n",
        ),
        (
            &["--sizes", "-c", "１０G"][..],
            "PGSQL UNKNOWN - --critical: invalid threshold '１０G': '１' is not allowed (use ASCII digits)\n",
        ),
        (
            &["-H", "127.0.0.1", "-P", "0"][..],
            "PGSQL UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)\n",
        ),
        (
            &["-H", "db\nx"][..],
            "PGSQL UNKNOWN - invalid value 'db\\nx' for '--hostname <HOST>': invalid host 'db\\nx': '\\n' is not allowed in a host name\n",
        ),
        (
            &["-H", "127.0.0.1", "--password-file", "/nonexistent"][..],
            "PGSQL UNKNOWN - --password-file /nonexistent: No such file or directory (os error 2)\n",
        ),
    ] {
        let r = plugin("check_pgsql", args);
        assert_eq!((r.code, r.stdout.as_str()), (3, line), "{args:?}");
    }
}
