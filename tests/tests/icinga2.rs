//! Icinga 2 end to end: the real `icinga2` (Debian's icinga2-bin) accepts every
//! CheckCommand of `dist/icinga2`, runs our plugins through them and parses their
//! perfdata, and takes the passive results our daemon forwards through its REST API.

use hcoop_tests::daemon;
use hcoop_tests::icinga2::{dist_files, dist_includes, ClosedPort, Icinga, Prefix};
use hcoop_tests::{free_port, target_dir};
use serde_json::{json, Value};

/// The number in Icinga's `Instantiated N CheckCommands.` line.
fn instantiated_commands(log: &str) -> usize {
    log.lines()
        .find_map(|l| {
            l.split("Instantiated ")
                .nth(1)?
                .strip_suffix(" CheckCommands.")?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no CheckCommand count in:\n{log}"))
}

/// How many CheckCommands the files of dist/icinga2 define.
fn dist_command_count() -> usize {
    dist_files()
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .matches("object CheckCommand ")
                .count()
        })
        .sum()
}

#[test]
fn daemon_validation_accepts_every_dist_check_command() {
    let prefix = Prefix::new();
    let itl_only = prefix.validate("");
    assert_eq!(itl_only.code, 0, "{}", itl_only.stdout);
    let with_dist = prefix.validate(&dist_includes());
    assert_eq!(with_dist.code, 0, "{}", with_dist.stdout);
    for line in with_dist.stdout.lines() {
        assert!(
            !line.contains("warning/") && !line.contains("critical/"),
            "icinga2 daemon -C complained: {line}"
        );
    }
    let ours = dist_command_count();
    assert!(ours > 0, "no CheckCommand in {:?}", dist_files());
    assert_eq!(
        instantiated_commands(&with_dist.stdout) - instantiated_commands(&itl_only.stdout),
        ours,
        "{}",
        with_dist.stdout
    );
}

/// A service of host `localhost` run every second through one of our CheckCommands.
fn active_service(name: &str, command: &str, vars: &[(&str, Value)]) -> String {
    let vars: String = vars
        .iter()
        .map(|(k, v)| format!("  vars.{k} = {v}\n"))
        .collect();
    format!(
        "object Service \"{name}\" {{\n  host_name = \"localhost\"\n  check_command = \"{command}\"\n  \
         check_interval = 1s\n  retry_interval = 1s\n{vars}}}\n"
    )
}

/// The fields of one parsed perfdata item Icinga reports.
fn perf(
    label: &str,
    value: Value,
    unit: &str,
    warn: Value,
    crit: Value,
    min: Value,
    max: Value,
) -> Value {
    json!({
        "type": "PerfdataValue",
        "label": label,
        "value": value,
        "unit": unit,
        "warn": warn,
        "crit": crit,
        "min": min,
        "max": max,
        "counter": false,
    })
}

#[test]
fn icinga_runs_our_plugins_and_parses_their_perfdata() {
    let fs = hcoop_tests::hostfs::Tmpfs::mount("10m");
    fs.write("a", 3000);
    let p = fs.arg().to_string();
    let mut procs = hcoop_tests::procs::Procs::new();
    procs.sleepers(3);
    let tag = procs.tag.clone();
    let closed_port = ClosedPort::new();
    let closed = closed_port.port;
    let objects = format!(
        "{}object Host \"localhost\" {{\n  check_command = \"dummy\"\n  enable_active_checks = false\n}}\n{}{}{}{}",
        dist_includes(),
        active_service(
            "load",
            "hcoop-load",
            &[
                ("hcoop_load_warning", json!("1000,1000,1000")),
                ("hcoop_load_critical", json!("2000,2000,2000")),
            ]
        ),
        active_service(
            "tcp-closed",
            "hcoop-tcp",
            &[
                ("hcoop_tcp_hostname", json!("127.0.0.1")),
                ("hcoop_tcp_port", json!(closed)),
            ]
        ),
        active_service(
            "disk",
            "hcoop-disk",
            &[
                ("hcoop_disk_warning", json!("50%")),
                ("hcoop_disk_critical", json!("20%")),
                ("hcoop_disk_paths", json!(p)),
            ]
        ),
        active_service(
            "procs",
            "hcoop-procs",
            &[
                ("hcoop_procs_args", json!(tag)),
                ("hcoop_procs_warning", json!("2")),
                ("hcoop_procs_critical", json!("3")),
            ]
        ),
    );
    let icinga = Icinga::start(&objects);

    // every CheckCommand of dist/ is loaded and runs one of the binaries we built
    let commands = icinga.eval(
        "get_objects(CheckCommand).filter(c => c.name.contains(\"hcoop-\")).map(c => [c.name, c.command[0]])",
    );
    let commands = commands.as_array().expect("command list");
    assert_eq!(commands.len(), dist_command_count(), "{commands:?}");
    for c in commands {
        let path = c[1].as_str().unwrap_or("");
        assert!(
            path.starts_with(&target_dir().display().to_string())
                && std::path::Path::new(path).is_file(),
            "{}: {path} is not one of our built plugins",
            c[0]
        );
    }

    let tcp = icinga.wait_result("localhost", "tcp-closed", 30.0, |_| true);
    assert_eq!(tcp["state"], 2.0, "{tcp}");
    assert_eq!(
        tcp["output"],
        format!(
            "TCP CRITICAL - connect to address 127.0.0.1 and port {closed}: Connection refused"
        )
    );
    assert_eq!(icinga.parsed_perfdata("localhost", "tcp-closed"), json!([]));

    let procs_result = icinga.wait_result("localhost", "procs", 30.0, |_| true);
    assert_eq!(procs_result["state"], 1.0, "{procs_result}");
    assert_eq!(
        procs_result["output"],
        // Icinga 2.13 keeps the space before the `|`
        format!("PROCS WARNING - 3 processes with args '{tag}' ")
    );
    assert_eq!(
        icinga.parsed_perfdata("localhost", "procs"),
        json!([perf(
            "procs",
            json!(3),
            "",
            json!(2),
            json!(3),
            json!(0),
            Value::Null
        )])
    );

    let disk = icinga.wait_result("localhost", "disk", 30.0, |_| true);
    assert_eq!(disk["state"], 0.0, "{disk}");
    assert_eq!(
        disk["output"],
        format!(
            "DISK OK - {p} 70% free (7.1 MiB), inodes 99% free \n\
             [OK] {p} 70% free (7.1 MiB), inodes 99% free: 2.9 MiB of 10.0 MiB used, 7 MiB free"
        )
    );
    assert_eq!(
        icinga.parsed_perfdata("localhost", "disk"),
        json!([perf(
            &p,
            json!(3072000),
            "bytes",
            json!(5242880),
            json!(8388608),
            json!(0),
            json!(10485760)
        )]),
        "{disk}"
    );

    let load = icinga.wait_result("localhost", "load", 30.0, |_| true);
    assert_eq!(load["state"], 0.0, "{load}");
    // the result and its parsed perfdata come from two requests: take a pair read
    // while the result stayed the same (Icinga may run the check again in between)
    let consistent = || {
        let load = icinga.wait_result("localhost", "load", 30.0, |_| true);
        let parsed = icinga.parsed_perfdata("localhost", "load");
        let after = icinga.wait_result("localhost", "load", 30.0, |_| true);
        (after["execution_end"] == load["execution_end"]).then_some((load, parsed))
    };
    let (load, parsed) = (0..10)
        .find_map(|_| consistent())
        .expect("a check result that stayed the same across two reads");
    let items = parsed.as_array().expect("load perfdata");
    let labels: Vec<&str> = items
        .iter()
        .map(|i| i["label"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(labels, ["load1", "load5", "load15"], "{parsed}");
    for i in items {
        assert_eq!(i["warn"], 1000.0, "{i}");
        assert_eq!(i["crit"], 2000.0, "{i}");
        assert_eq!(i["min"], 0.0, "{i}");
        assert_eq!(i["unit"], "", "{i}");
    }
    let values: Vec<String> = items
        .iter()
        .map(|i| format!("{:.2}", i["value"].as_f64().unwrap_or(f64::NAN)))
        .collect();
    assert_eq!(
        load["output"],
        format!("LOAD OK - load average: {} ", values.join(", "))
    );
}

/// Passive objects in Icinga for our daemon's results: host `web` and its services.
fn passive_objects(services: &[&str]) -> String {
    let mut out =
        "object Host \"web\" {\n  check_command = \"dummy\"\n  enable_active_checks = false\n}\n"
            .to_string();
    for s in services {
        out.push_str(&format!(
            "object Service \"{s}\" {{\n  host_name = \"web\"\n  check_command = \"dummy\"\n  \
             enable_active_checks = false\n}}\n"
        ));
    }
    out
}

/// The `[forward.icinga2]` table of our daemon sending to 127.0.0.1:`port` (Icinga's
/// certificate checked against `prefix`'s CA), with `more` settings.
fn forward_table(prefix: &Prefix, port: u16, more: &str) -> String {
    format!(
        "[forward.icinga2]\nhost = \"127.0.0.1\"\nport = {port}\nserver_name = \"{node}\"\n\
         ca_file = \"{ca}\"\ncheck_source = \"hcoop-test-monitor\"\nretry_interval = \"1s\"\n{more}\n",
        node = hcoop_tests::icinga2::NODE,
        ca = prefix.ca_file().display(),
    )
}

/// Our daemon's configuration: every result forwarded to `icinga` with `auth` (the
/// credential lines of `[forward.icinga2]`), host `web` checked against a closed port
/// (DOWN), services checking the tagged sleepers OK, WARNING and CRITICAL, one with
/// long output and perfdata on two lines, and one Icinga does not have.
fn forwarding_config(icinga: &Icinga, auth: &str, tag: &str, closed: u16, script: &str) -> String {
    let closed = closed.to_string();
    let mut config = format!(
        "[defaults]\ncheck_interval = \"1s\"\nretry_interval = \"1s\"\nmax_check_attempts = 1\n\n{}",
        forward_table(&icinga.prefix, icinga.port, &format!("{auth}\nttl = \"5m\"")),
    );
    config.push_str(&daemon::host(
        "web",
        Some(("check_tcp", &["-H", "127.0.0.1", "-p", &closed])),
    ));
    let procs: [(&str, &[&str]); 4] = [
        ("procs ok", &["-w", "5", "-c", "10"]),
        ("procs warn", &["-w", "2", "-c", "10"]),
        ("procs crit", &["-w", "1", "-c", "2"]),
        ("not in icinga", &[]),
    ];
    for (name, levels) in procs {
        let args = [&["-a", tag][..], levels].concat();
        config.push_str(&daemon::service("web", name, "check_procs", &args));
    }
    config.push_str(&daemon::command_service(
        "web",
        "long",
        &format!("/bin/sh {script}"),
        "",
    ));
    config
}

/// A plugin script with long output and perfdata on the first and a later line.
fn long_output_script(dir: &std::path::Path) -> String {
    let script = dir.join("long.sh");
    std::fs::write(
        &script,
        "printf 'DISK WARNING - /var nearly full | root=1MB;2;3\\n/ 10%%\\n/var 95%% | var=95%%;80;90;0;100\\nspool=2s\\n'\nexit 1\n",
    )
    .unwrap();
    script.display().to_string()
}

/// Waits for a passive result from our daemon in Icinga.
fn forwarded(icinga: &Icinga, service: &str) -> Value {
    icinga.wait_result("web", service, 30.0, |r| {
        r["check_source"] == "hcoop-test-monitor"
    })
}

#[test]
fn passive_results_from_our_daemon_appear_in_icinga() {
    let mut procs = hcoop_tests::procs::Procs::new();
    procs.sleepers(3);
    let tag = procs.tag.clone();
    let icinga = Icinga::start(&format!(
        "{}{}",
        dist_includes(),
        passive_objects(&["procs ok", "procs warn", "procs crit", "long"])
    ));
    let closed_port = ClosedPort::new();
    let closed = closed_port.port;
    let scripts = tempfile::tempdir().unwrap();
    let auth = format!(
        "username = \"{}\"\npassword_file = \"{}\"",
        hcoop_tests::icinga2::USER,
        icinga.prefix.password_file().display()
    );
    let daemon = daemon::Daemon::start(&forwarding_config(
        &icinga,
        &auth,
        &tag,
        closed,
        &long_output_script(scripts.path()),
    ));

    for (service, state, word, warn, crit) in [
        ("procs ok", 0.0, "OK", 5, 10),
        ("procs warn", 1.0, "WARNING", 2, 10),
        ("procs crit", 2.0, "CRITICAL", 1, 2),
    ] {
        let r = forwarded(&icinga, service);
        assert_eq!(r["state"], state, "{service}: {r}");
        assert_eq!(r["active"], false, "{service}: {r}");
        assert_eq!(r["ttl"], 300.0, "{service}: {r}");
        assert_eq!(
            r["output"],
            format!("PROCS {word} - 3 processes with args '{tag}'"),
            "{service}"
        );
        assert_eq!(
            r["performance_data"],
            json!([format!("procs=3;{warn};{crit};0")]),
            "{service}"
        );
        assert_eq!(
            icinga.parsed_perfdata("web", service),
            json!([perf(
                "procs",
                json!(3),
                "",
                json!(warn),
                json!(crit),
                json!(0),
                Value::Null
            )]),
            "{service}"
        );
        let attrs = icinga.object("services", &format!("web!{service}"));
        assert_eq!(attrs["state"], state, "{service}: {attrs}");
    }

    let long = forwarded(&icinga, "long");
    assert_eq!(long["state"], 1.0, "{long}");
    assert_eq!(
        long["output"],
        "DISK WARNING - /var nearly full\n/ 10%\n/var 95%"
    );
    assert_eq!(
        long["performance_data"],
        json!(["root=1MB;2;3", "var=95%;80;90;0;100", "spool=2s"])
    );
    // Icinga 2.13 counts a MB as 1000 * 1000 bytes
    assert_eq!(
        icinga.parsed_perfdata("web", "long"),
        json!([
            perf(
                "root",
                json!(1000000),
                "bytes",
                json!(2000000),
                json!(3000000),
                Value::Null,
                Value::Null
            ),
            perf(
                "var",
                json!(95),
                "percent",
                json!(80),
                json!(90),
                json!(0),
                json!(100)
            ),
            perf(
                "spool",
                json!(2),
                "seconds",
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ),
        ])
    );

    // the host check against a closed port: DOWN in Icinga
    let mut host = Value::Null;
    hcoop_tests::wait_until(30.0, || {
        host = icinga.object("hosts", "web");
        host["last_check_result"]["check_source"] == "hcoop-test-monitor"
    });
    assert_eq!(host["state"], 1.0, "{host}");
    assert_eq!(
        host["last_check_result"]["output"],
        format!(
            "TCP CRITICAL - connect to address 127.0.0.1 and port {closed}: Connection refused"
        )
    );

    // a service Icinga does not have: the result is dropped and logged with the reply
    let port = icinga.port;
    daemon.wait_log(
        10.0,
        &format!(
            "forward to icinga2: web/not in icinga refused: Icinga 2 at 127.0.0.1:{port}: \
             HTTP 500: {{\"results\":[]}}"
        ),
    );
}

/// Icinga with the passive objects and our daemon forwarding to it with `auth`.
fn forwarding_pair(
    auth: impl Fn(&Icinga) -> String,
) -> (
    Icinga,
    daemon::Daemon,
    hcoop_tests::procs::Procs,
    tempfile::TempDir,
) {
    let mut procs = hcoop_tests::procs::Procs::new();
    procs.sleepers(3);
    let icinga = Icinga::start(&format!(
        "{}{}",
        dist_includes(),
        passive_objects(&[
            "procs ok",
            "procs warn",
            "procs crit",
            "long",
            "not in icinga"
        ])
    ));
    let scripts = tempfile::tempdir().unwrap();
    let daemon = daemon::Daemon::start(&forwarding_config(
        &icinga,
        &auth(&icinga),
        &procs.tag,
        free_port(),
        &long_output_script(scripts.path()),
    ));
    (icinga, daemon, procs, scripts)
}

#[test]
fn a_wrong_password_is_logged_stalls_nothing_and_a_corrected_file_is_read_again() {
    let secrets = tempfile::tempdir().unwrap();
    let password_file = secrets.path().join("password");
    std::fs::write(&password_file, "not-the-password\n").unwrap();
    let (icinga, daemon, procs, _scripts) = forwarding_pair(|_| {
        format!(
            "username = \"{}\"\npassword_file = \"{}\"",
            hcoop_tests::icinga2::USER,
            password_file.display()
        )
    });
    let port = icinga.port;
    let refused = format!(
        "forward to icinga2: Icinga 2 at 127.0.0.1:{port}: HTTP 401: \
         {{\"error\":401,\"status\":\"Unauthorized. Please check your user credentials.\"}}; \
         trying again every 1s"
    );
    daemon.wait_log(15.0, &refused);
    // one line for the outage, not one per attempt
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(
        daemon.log().matches(&refused).count(),
        1,
        "{}",
        daemon.log()
    );
    // the checks go on
    let since = daemon.service("web/procs warn")["last_check"]
        .as_u64()
        .unwrap();
    daemon.wait_service("web/procs warn", 10.0, |v| {
        v["last_check"].as_u64().unwrap_or(0) >= since + 2
    });
    assert!(
        icinga.object("services", "web!procs warn")["last_check_result"].is_null(),
        "a result went through with a wrong password"
    );

    // the right password in the file: picked up at the next attempt
    std::fs::write(
        &password_file,
        format!("{}\n", hcoop_tests::icinga2::PASSWORD),
    )
    .unwrap();
    let r = forwarded(&icinga, "procs warn");
    assert_eq!(r["state"], 1.0, "{r}");
    assert_eq!(
        r["output"],
        format!("PROCS WARNING - 3 processes with args '{}'", procs.tag)
    );
    assert!(
        hcoop_tests::wait_until(5.0, || daemon
            .log()
            .contains("forward to icinga2: delivering again after")),
        "{}",
        daemon.log()
    );
}

#[test]
fn a_client_certificate_authenticates_the_daemon() {
    let (icinga, _daemon, procs, _scripts) = forwarding_pair(|icinga| {
        let (cert, key) = icinga.prefix.client_cert();
        format!(
            "client_cert = \"{}\"\nclient_key = \"{}\"",
            cert.display(),
            key.display()
        )
    });
    let r = forwarded(&icinga, "procs crit");
    assert_eq!(r["state"], 2.0, "{r}");
    assert_eq!(
        r["output"],
        format!("PROCS CRITICAL - 3 processes with args '{}'", procs.tag)
    );
    assert_eq!(r["performance_data"], json!(["procs=3;1;2;0"]));
}

/// Our daemon forwarding one service's results to 127.0.0.1:`port` with `timeout`.
fn daemon_forwarding_to(prefix: &Prefix, port: u16, timeout: &str) -> daemon::Daemon {
    let auth = format!(
        "username = \"{}\"\npassword_file = \"{}\"\ntimeout = \"{timeout}\"\nttl = \"2s\"",
        hcoop_tests::icinga2::USER,
        prefix.password_file().display(),
    );
    daemon::Daemon::start(&format!(
        "[defaults]\ncheck_interval = \"1s\"\nretry_interval = \"1s\"\n\n{}{}{}",
        forward_table(prefix, port, &auth),
        daemon::host("web", None),
        daemon::service("web", "procs", "check_procs", &["-C", "hcoop-nothing"]),
    ))
}

/// A fake peer for what a real Icinga does not do on demand: accepts and then, for
/// each connection, sends `reply` (nothing: hangs) and keeps it open.
fn fake_peer(reply: &'static [u8]) -> u16 {
    use std::io::Write;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for mut conn in listener.incoming().flatten() {
            let _ = conn.write_all(reply);
            held.push(conn);
        }
    });
    port
}

#[test]
fn a_hanging_or_garbling_peer_is_reported_within_the_timeout_and_stalls_nothing() {
    let prefix = Prefix::new();
    for (reply, what) in [
        (&b""[..], "no answer within 1s".to_string()),
        (
            &b"HTTP/1.1 200 OK\r\n\r\n"[..],
            "TLS handshake failed: received corrupt message of type InvalidContentType".to_string(),
        ),
    ] {
        let port = fake_peer(reply);
        let daemon = daemon_forwarding_to(&prefix, port, "1s");
        let line = format!(
            "forward to icinga2: Icinga 2 at 127.0.0.1:{port}: {what}; trying again every 1s"
        );
        daemon.wait_log(10.0, &line);
        let since = daemon.service("web/procs")["last_check"].as_u64().unwrap();
        daemon.wait_service("web/procs", 10.0, |v| {
            v["last_check"].as_u64().unwrap_or(0) >= since + 2
        });
    }
}

#[test]
fn bad_forwarding_settings_are_one_line_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing-password");
    let cases = [
        (
            format!(
                "host = \"127.0.0.1\"\nusername = \"u\"\npassword_file = \"{}\"",
                missing.display()
            ),
            format!(
                "hcoop-monitor: [forward.icinga2] password_file {}: No such file or directory (os error 2)\n",
                missing.display()
            ),
        ),
        (
            "host = \"127.0.0.1\"".to_string(),
            "hcoop-monitor: [forward.icinga2] no authentication: set username and password_file, \
             or client_cert and client_key\n"
                .to_string(),
        ),
    ];
    for (table, want) in cases {
        std::fs::write(
            dir.path().join("a.toml"),
            format!("[forward.icinga2]\n{table}\n"),
        )
        .unwrap();
        let r = hcoop_tests::run(
            &hcoop_tests::bin("hcoop-monitor"),
            &["-c", dir.path().to_str().unwrap(), "validate"],
        );
        assert_eq!((r.code, r.stderr.as_str()), (3, want.as_str()), "{table}");
    }
}

/// Icinga's freshness check: a service with active checks enabled only as a fallback
/// (ITL's `passive` command, UNKNOWN) runs it when the ttl of the last passive result
/// passes without a newer one.
#[test]
fn without_a_newer_result_within_the_ttl_icinga_turns_the_service_unknown() {
    let icinga = Icinga::start(&format!(
        "{}{}object Service \"procs\" {{\n  host_name = \"web\"\n  check_command = \"passive\"\n  \
         check_interval = 1h\n}}\n",
        dist_includes(),
        passive_objects(&[])
    ));
    let mut daemon = daemon_forwarding_to(&icinga.prefix, icinga.port, "5s");
    let fresh = forwarded(&icinga, "procs");
    assert_eq!(fresh["state"], 0.0, "{fresh}");
    assert_eq!(fresh["ttl"], 2.0, "{fresh}");
    daemon.kill9();
    let stale = icinga.wait_result("web", "procs", 15.0, |r| r["active"] == true);
    assert_eq!(stale["state"], 3.0, "{stale}");
    assert_eq!(stale["output"], "No Passive Check Result Received.");
}
