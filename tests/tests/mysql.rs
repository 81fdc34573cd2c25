//! check_mysql end to end against real MariaDB servers: one with TLS and a small
//! max_connections, a source and its replica, and a silent fake for the timeout.

use hcoop_tests::mysql::{Mariadb, PASSWORD};
use hcoop_tests::{plugin, plugin_json, wait_until};

fn args(m: &Mariadb, extra: &[&str]) -> Vec<String> {
    [
        "-H",
        "127.0.0.1",
        "-P",
        &m.port.to_string(),
        "-u",
        "root",
        "-p",
        PASSWORD,
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect()
}

fn check(m: &Mariadb, extra: &[&str]) -> hcoop_tests::Run {
    let a = args(m, extra);
    plugin(
        "check_mysql",
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

fn json(m: &Mariadb, extra: &[&str]) -> serde_json::Value {
    let a = args(m, extra);
    plugin_json(
        "check_mysql",
        &a.iter().map(String::as_str).collect::<Vec<_>>(),
    )
}

#[test]
fn one_server_every_scenario() {
    let mut m = Mariadb::start(10, 1, true);
    m.sql("CREATE DATABASE shop; CREATE DATABASE big");
    m.sql(
        "SET max_recursive_iterations = 100000; CREATE TABLE big.t (v TEXT) ENGINE=InnoDB; \
         INSERT INTO big.t WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 20000) \
         SELECT REPEAT('x', 1000) FROM s; ANALYZE TABLE big.t",
    );
    let port = m.port.to_string();

    // healthy, over TCP and over the socket
    let r = check(&m, &[]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("MYSQL OK - server answered in "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(", server 1"), "{}", r.stdout);
    let r = plugin(
        "check_mysql",
        &["-s", &m.socket(), "-u", "root", "-d", "shop"],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("MYSQL OK - database 'shop' answered in "),
        "{}",
        r.stdout
    );

    // wrong password; the right one from the environment
    let r = plugin(
        "check_mysql",
        &["-H", "127.0.0.1", "-P", &port, "-u", "root", "-p", "wrong"],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            2,
            "MYSQL CRITICAL - cannot connect to server: Access denied for user 'root'@'127.0.0.1' (using password: YES)\n"
        )
    );
    let out = std::process::Command::new(hcoop_tests::bin("check_mysql"))
        .args(["-H", "127.0.0.1", "-P", &port, "-u", "root"])
        .env("MYSQL_PWD", PASSWORD)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // database missing
    let r = check(&m, &["-d", "nosuch"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            2,
            "MYSQL CRITICAL - cannot connect to database 'nosuch': Unknown database 'nosuch'\n"
        )
    );

    // a query and its ranges
    let r = check(
        &m,
        &[
            "-q",
            "SELECT 42",
            "--query-warning",
            "10",
            "--query-critical",
            "50",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("MYSQL WARNING - query 'SELECT 42' returned 42 | query=42;10;50 time="),
        "{}",
        r.stdout
    );

    // TLS required for tlsuser
    let ca = m.certs.as_ref().unwrap().ca.to_string_lossy().into_owned();
    let tls = |extra: &[&str]| {
        let mut a = vec![
            "-H",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "tlsuser",
            "-p",
            "tlspw",
        ];
        a.extend_from_slice(extra);
        plugin("check_mysql", &a)
    };
    let r = tls(&[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("Access denied for user 'tlsuser'"),
        "{}",
        r.stdout
    );
    assert_eq!(tls(&["--tls", "verify-full", "-C", &ca]).code, 0);
    assert_eq!(tls(&["-l"]).code, 0);
    let r = tls(&["--tls", "verify-full"]);
    assert_eq!(r.code, 2, "{}", r.stdout);

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
    let r = check(&m, &["--connections", "-w", "40", "-c", "90"]);
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(
            "MYSQL WARNING - 5 of 10 connections in use (50%) | connections=5;;;0;10 connections_pct=50%;40;90;0;100 time="
        ),
        "{}",
        r.stdout
    );
    let v = json(&m, &["--long-running", "-w", "1", "-c", "300"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("4 of 4 statements running too long: root@shop "),
        "{summary}"
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
    let v = json(&m, &["--sizes", "-w", "15M", "-c", "1G", "--top", "1"]);
    assert_eq!(v["state"], "WARNING", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.contains("databases over the size limit: big "),
        "{summary}"
    );
    assert_eq!(v["perfdata"][1]["label"], "big", "{v}");
    assert_eq!(check(&m, &["--sizes", "-c", "15M"]).code, 2);

    // not a replica
    let r = check(&m, &["-S"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("MYSQL CRITICAL - not a replica: no replication configured"),
        "{}",
        r.stdout
    );

    // server stopped
    m.stop();
    let r = check(&m, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("MYSQL CRITICAL - cannot connect to server: "),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("refused"), "{}", r.stdout);
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
    let want = format!("MYSQL OK - replica: from 127.0.0.1:{} lag 0s", source.port);
    let r = check(&replica, &["-S", "-w", "5", "-c", "60"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.starts_with(&want), "{}", r.stdout);

    // the SQL thread stopped: CRITICAL, named
    replica.sql("STOP SLAVE SQL_THREAD");
    source.sql("INSERT INTO app.t VALUES (1)");
    let r = check(&replica, &["--replication", "-w", "5", "-c", "60"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.starts_with(&format!(
            "MYSQL CRITICAL - replica: from 127.0.0.1:{}: SQL thread not running",
            source.port
        )),
        "{}",
        r.stdout
    );
    replica.sql("START SLAVE SQL_THREAD");
    assert!(
        wait_until(10.0, || check(&replica, &["-S", "-w", "5"]).code == 0),
        "the replica did not catch up"
    );
}

#[test]
fn silent_server_times_out_within_the_limit() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let start = std::time::Instant::now();
    let r = plugin("check_mysql", &["-H", "127.0.0.1", "-P", &port, "-t", "2"]);
    let took = start.elapsed().as_secs_f64();
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (
            2,
            "MYSQL CRITICAL - cannot connect to server: connect timed out\n"
        )
    );
    assert!(took < 2.5, "took {took}s");
}

/// Bad levels, ports and hosts are one line naming the problem, exit 3, before any
/// connection: multibyte --sizes levels (they panicked), `10%%`, port 0, a newline in -H.
#[test]
fn bad_arguments_are_one_line() {
    for (args, line) in [
        (
            &["--sizes", "-w", "é"][..],
            "MYSQL UNKNOWN - --warning: invalid threshold 'é': 'é' is not allowed (use ASCII digits)\n",
        ),
        (
            &["--connections", "-c", "10%%"][..],
            "MYSQL UNKNOWN - --critical: invalid threshold '10%%': '%%' is not a unit (a percentage is 80%)\n",
        ),
        (
            &["-H", "127.0.0.1", "-P", "0"][..],
            "MYSQL UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)\n",
        ),
        (
            &["-H", "db\nx"][..],
            "MYSQL UNKNOWN - invalid value 'db\\nx' for '--hostname <HOST>': invalid host 'db\\nx': '\\n' is not allowed in a host name\n",
        ),
        (
            &["-H", "127.0.0.1", "--password-file", "/nonexistent"][..],
            "MYSQL UNKNOWN - --password-file /nonexistent: No such file or directory (os error 2)\n",
        ),
    ] {
        let r = plugin("check_mysql", args);
        assert_eq!((r.code, r.stdout.as_str()), (3, line), "{args:?}");
    }
}
