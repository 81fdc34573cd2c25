//! check_mysql end to end against real MariaDB servers: one with TLS and a small
//! max_connections, a source and its replica, and a silent fake for the timeout.

use hcoop_tests::line::{perf, perf_labels};
use hcoop_tests::mysql::{Mariadb, PASSWORD};
use hcoop_tests::sql::{self, assert_only, assert_starts, Db};
use hcoop_tests::wait_until;

#[test]
fn one_server_every_scenario() {
    let mut m = Mariadb::start(10, 1, true);
    m.sql("CREATE DATABASE shop; CREATE DATABASE big");
    m.sql(
        "SET max_recursive_iterations = 100000; CREATE TABLE big.t (v TEXT) ENGINE=InnoDB; \
         INSERT INTO big.t WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000) \
         SELECT REPEAT('x', 1000) FROM s; ANALYZE TABLE big.t",
    );
    let db = m.check();

    // healthy, over TCP and over the socket
    let v = db.json(&[]);
    assert_starts(&v, "OK", "server answered in ");
    assert!(v["summary"].as_str().unwrap().contains(", server 1"), "{v}");
    assert_eq!(perf_labels(&v), ["time"], "{v}");
    let v = Db::new(
        "check_mysql",
        &["-s", &m.socket(), "-u", "root", "-d", "shop"],
    )
    .json(&[]);
    assert_starts(&v, "OK", "database 'shop' answered in ");

    // wrong password: the whole text line; the right one from the environment
    let no_password = m.check_as("root", None);
    let r = no_password.run(&["-p", "wrong"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            2,
            "MYSQL CRITICAL - cannot connect to server: Access denied for user 'root'@'127.0.0.1' (using password: YES)\n"
        )
    );
    let v = no_password.json_with_env(&[], "MYSQL_PWD", PASSWORD);
    assert_eq!(v["state"], "OK", "{v}");

    // database missing
    assert_only(
        &db.json(&["-d", "nosuch"]),
        "CRITICAL",
        "cannot connect to database 'nosuch': Unknown database 'nosuch'",
    );

    // a query and its ranges
    let v = db.json(&[
        "-q",
        "SELECT 42",
        "--query-warning",
        "10",
        "--query-critical",
        "50",
    ]);
    sql::assert_query(&v, "WARNING", "SELECT 42", 42.0, "10", "50");

    // TLS required for tlsuser
    let ca = m.certs.as_ref().unwrap().ca.to_string_lossy().into_owned();
    let tls = m.check_as("tlsuser", Some("tlspw"));
    let v = tls.json(&[]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert!(
        v["summary"]
            .as_str()
            .unwrap()
            .contains("Access denied for user 'tlsuser'"),
        "{v}"
    );
    assert_eq!(
        tls.json(&["--tls", "verify-full", "-C", &ca])["state"],
        "OK"
    );
    assert_eq!(tls.json(&["-l"])["state"], "OK");
    assert_eq!(tls.json(&["--tls", "verify-full"])["state"], "CRITICAL");

    // four long queries by root in shop: 4 of 10 connections + ours
    let sessions: Vec<_> = (0..4)
        .map(|_| m.session("USE shop; SELECT SLEEP(60)"))
        .collect();
    assert!(
        wait_until(10.0, || {
            m.sql(
            "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP%' AND time >= 2"
        ) == "4"
        }),
        "sessions did not start"
    );
    let v = db.json(&["--connections", "-w", "40", "-c", "90"]);
    sql::assert_connections(&v, "WARNING", 5, 10, "40", "90");
    let v = db.json(&["--long-running", "-w", "1", "-c", "300"]);
    assert_starts(
        &v,
        "WARNING",
        "4 of 4 statements running too long: root@shop ",
    );
    assert!(
        v["details"][0]["text"]
            .as_str()
            .unwrap()
            .ends_with("SELECT SLEEP(60)"),
        "{v}"
    );
    drop(sessions);

    // sizes: big (about 20 MiB) over 15M
    let v = db.json(&["--sizes", "-w", "15M", "-c", "1G", "--top", "1"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("databases over the size limit: big "),
        "{summary}"
    );
    assert_eq!(v["perfdata"][1]["label"], "big", "{v}");
    assert_eq!(perf(&v, "big")["warn"], "15728640", "{v}");
    assert_eq!(db.json(&["--sizes", "-c", "15M"])["state"], "CRITICAL");

    // not a replica
    assert_starts(
        &db.json(&["-S"]),
        "CRITICAL",
        "not a replica: no replication configured",
    );

    // server stopped
    m.stop();
    let v = db.json(&[]);
    assert_starts(&v, "CRITICAL", "cannot connect to server: ");
    assert!(v["summary"].as_str().unwrap().contains("refused"), "{v}");
}

#[test]
fn replica_threads_and_lag() {
    let source = Mariadb::start(20, 1, false);
    let replica = Mariadb::replica_of(&source);
    source.sql("CREATE DATABASE app; CREATE TABLE app.t (n INT)");
    assert!(
        wait_until(15.0, || replica.sql("SHOW DATABASES LIKE 'app'") == "app"),
        "replication did not start"
    );
    let db = replica.check();
    let want = format!("replica: from 127.0.0.1:{} lag 0s", source.port);
    let v = db.json(&["-S", "-w", "5", "-c", "60"]);
    assert_starts(&v, "OK", &want);
    assert_eq!(perf(&v, "lag")["value"].as_f64(), Some(0.0), "{v}");

    // the SQL thread stopped: CRITICAL, named
    replica.sql("STOP SLAVE SQL_THREAD");
    source.sql("INSERT INTO app.t VALUES (1)");
    assert_starts(
        &db.json(&["--replication", "-w", "5", "-c", "60"]),
        "CRITICAL",
        &format!(
            "replica: from 127.0.0.1:{}: SQL thread not running",
            source.port
        ),
    );
    replica.sql("START SLAVE SQL_THREAD");
    assert!(
        wait_until(10.0, || db.json(&["-S", "-w", "5"])["state"] == "OK"),
        "the replica did not catch up"
    );
}

#[test]
fn silent_server_times_out_within_the_limit() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let start = std::time::Instant::now();
    let v = Db::new("check_mysql", &["-H", "127.0.0.1", "-P", &port]).json(&["-t", "2"]);
    let took = start.elapsed().as_secs_f64();
    assert_only(
        &v,
        "CRITICAL",
        "cannot connect to server: connect timed out",
    );
    assert!(took < 2.5, "took {took}s");
}

/// Bad levels, ports and hosts are one line naming the problem, exit 3, before any
/// connection: multibyte --sizes levels (they panicked), `10%%`, port 0, a newline in -H.
#[test]
fn bad_arguments_are_one_line() {
    sql::bad_arguments_are_one_line(
        "check_mysql",
        "MYSQL",
        &[
            (
                &["--sizes", "-w", "é"],
                "--warning: invalid threshold 'é': 'é' is not allowed (use ASCII digits)",
            ),
            (
                &["--connections", "-c", "10%%"],
                "--critical: invalid threshold '10%%': '%%' is not a unit (a percentage is 80%)",
            ),
        ],
    );
}
