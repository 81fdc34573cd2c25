//! check_mysql end to end against real MariaDB servers: one with TLS and a small
//! max_connections, a source and its replica, and a silent fake for the timeout.

use hcoop_tests::line::{perf, perf_labels};
use hcoop_tests::mysql::{Mariadb, PASSWORD};
use hcoop_tests::parity::case;
use hcoop_tests::sql::{self, assert_only, assert_starts, Db};
use hcoop_tests::wait_until;

/// The status variables Debian's check_mysql prints as perfdata, in MariaDB's order.
const DEBIAN_STATUS: [&str; 15] = [
    "Connections",
    "Open_files",
    "Open_tables",
    "Qcache_free_memory",
    "Qcache_hits",
    "Qcache_inserts",
    "Qcache_lowmem_prunes",
    "Qcache_not_cached",
    "Qcache_queries_in_cache",
    "Queries",
    "Questions",
    "Table_locks_waited",
    "Threads_connected",
    "Threads_running",
    "Uptime",
];

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
    // Debian's perfdata: the server's status variables
    assert_eq!(perf_labels(&v), DEBIAN_STATUS, "{v}");
    assert_eq!(perf(&v, "Connections")["uom"], "c", "{v}");
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
    let v = tls.json(&["--tls", "verify-full", "-C", &ca]);
    assert_eq!(v["state"], "OK", "{v}");
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

    // not a replica: Debian's WARNING and words
    let v = db.json(&["-S"]);
    assert_starts(&v, "WARNING", "No slaves defined");
    assert_eq!(perf_labels(&v), DEBIAN_STATUS, "{v}");

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
    assert_eq!(
        perf(&v, "seconds behind master")["value"].as_f64(),
        Some(0.0),
        "{v}"
    );

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
    peer_cases_of_check_mysql(&source, &replica);
    peer_cases_of_check_mysql_query(&source);
}

/// plugins/t/check_mysql.t of monitoring-plugins v2.3.3, Debian's check_mysql and ours
/// side by side: the server (a source, no replica) over TCP and over its socket, and
/// its replica.
fn peer_cases_of_check_mysql(source: &Mariadb, replica: &Mariadb) {
    let port = source.port.to_string();
    let login = ["-u", "root", "-p", PASSWORD];
    let tcp = |more: &[&str]| -> Vec<String> {
        ["-H", "127.0.0.1", "-P", port.as_str()]
            .iter()
            .chain(more)
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>, code: i32| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        case("check_mysql", &a, code)
    };
    // "Login okay"
    let (d, o) = run(tcp(&login), 0);
    assert_eq!(o.labels_and_units(), d.labels_and_units());
    // "Login failure" and "Expected login failure message"
    let (_, o) = run(tcp(&["-u", "dummy", "-pdummy"]), 2);
    assert!(o.stdout.contains("Access denied for user "), "{}", o.stdout);
    // "No slaves defined" and "Correct error message"
    let (_, o) = run(tcp(&[&["-S"][..], &login].concat()), 1);
    assert!(o.stdout.contains("No slaves defined"), "{}", o.stdout);

    // the same over the socket (root logs in there without a password)
    let sock = source.socket();
    let (d, o) = case("check_mysql", &["-s", &sock, "-u", "root"], 0);
    assert_eq!(o.labels_and_units(), d.labels_and_units());
    let (_, o) = case("check_mysql", &["-s", &sock, "-u", "dummy", "-pdummy"], 2);
    assert!(o.stdout.contains("Access denied for user "), "{}", o.stdout);
    let (_, o) = case("check_mysql", &["-S", "-s", &sock, "-u", "root"], 1);
    assert!(o.stdout.contains("No slaves defined"), "{}", o.stdout);

    // beyond the peer's tests, Debian's other options: -H as the socket's path, the
    // options file (-f) and its group (-g), -n for a refused login
    case("check_mysql", &["-H", &sock, "-u", "root"], 0);
    let dir = tempfile::tempdir().unwrap();
    let cnf = dir.path().join("my.cnf");
    std::fs::write(
        &cnf,
        format!("[client]\nuser=root\npassword=wrong\n[nagios]\npassword={PASSWORD}\n"),
    )
    .unwrap();
    let cnf = cnf.to_str().unwrap();
    run(tcp(&["-f", cnf]), 2);
    run(tcp(&["-f", cnf, "-g", "nagios"]), 0);
    case(
        "check_mysql_query",
        &[
            "-q",
            "SELECT 1",
            "-H",
            "127.0.0.1",
            "-P",
            &port,
            "-f",
            cnf,
            "-g",
            "nagios",
        ],
        0,
    );
    run(tcp(&["-u", "dummy", "-pdummy", "-n"]), 0);

    // the replica: "Login okay", "Slaves okay", "not > 60 seconds behind", and a
    // WARNING when less than 60 seconds behind (-w 60:)
    let rport = replica.port.to_string();
    let r = |more: &[&str]| -> Vec<String> {
        [
            "-H",
            "127.0.0.1",
            "-P",
            rport.as_str(),
            "-u",
            "root",
            "-p",
            PASSWORD,
        ]
        .iter()
        .chain(more)
        .map(|s| s.to_string())
        .collect()
    };
    run(r(&[]), 0);
    let (d, o) = run(r(&["-S"]), 0);
    assert_eq!(o.labels_and_units(), d.labels_and_units());
    run(r(&["-S", "-w", "60"]), 0);
    // Debian's line starts "SLOW_SLAVE WARNING:", ours "MYSQL WARNING - " (our first-line
    // form); the exit code and the perfdata agree
    let (d, o) = run(r(&["-S", "-w", "60:"]), 1);
    assert!(d.stdout.starts_with("SLOW_SLAVE WARNING:"), "{}", d.stdout);
    assert!(o.stdout.starts_with("MYSQL WARNING - "), "{}", o.stdout);
}

/// plugins/t/check_mysql_query.t of monitoring-plugins v2.3.3 against the source.
fn peer_cases_of_check_mysql_query(source: &Mariadb) {
    let port = source.port.to_string();
    let with = |q: &[&str]| -> Vec<String> {
        q.iter()
            .chain(&[
                "-H",
                "127.0.0.1",
                "-P",
                &port,
                "-u",
                "root",
                "-p",
                PASSWORD,
                "-d",
                "mysql",
            ])
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>, code: i32| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        case("check_mysql_query", &a, code)
    };
    // "Can run query"
    let (d, o) = run(with(&["-q", "SELECT 1+1"]), 0);
    assert_eq!(o.labels_and_units(), [("result", "")], "{}", o.stdout);
    assert_eq!(d.labels_and_units(), o.labels_and_units());
    assert!(
        o.stdout
            .starts_with("QUERY OK - 'SELECT 1+1' returned 2.000000 | result=2"),
        "{}",
        o.stdout
    );
    // "Missing query parmeter"
    let (_, o) = run(with(&[]), 3);
    assert!(
        o.stdout.contains("Must specify a SQL query to run"),
        "{}",
        o.stdout
    );
    // "Login failure"
    let (_, o) = case(
        "check_mysql_query",
        &[
            "-q",
            "SELECT 1+1",
            "-H",
            "127.0.0.1",
            "-P",
            &port,
            "-u",
            "dummy",
            "-d",
            "mysql",
        ],
        2,
    );
    assert!(o.stdout.contains("Access denied for user "), "{}", o.stdout);
    // "Got warning", "Got critical"
    run(with(&["-q", "SELECT PI()", "-w", "3", "-c", "4"]), 1);
    run(with(&["-q", "SELECT PI()*2", "-w", "3", "-c", "4"]), 2);
    // "Bad query"
    let (_, o) = run(with(&["-q", "SELECT * FROM adsf"]), 2);
    assert!(o.stdout.contains("Error with query"), "{}", o.stdout);
    // "No rows"
    let (_, o) = run(with(&["-q", "SHOW VARIABLES LIKE \"bob\""]), 1);
    assert!(o.stdout.contains("No rows returned"), "{}", o.stdout);
    // "Data not numeric"
    let (_, o) = run(with(&["-q", "SHOW VARIABLES"]), 2);
    assert!(o.stdout.contains("Is not a numeric"), "{}", o.stdout);
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
