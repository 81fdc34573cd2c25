//! Icinga 2 end to end: the real `icinga2` (Debian's icinga2-bin) accepts every
//! CheckCommand of `dist/icinga2`, runs our plugins through them and parses their
//! perfdata, and takes the passive results our daemon forwards through its REST API.

use hcoop_tests::icinga2::{dist_files, dist_includes, Icinga, Prefix};
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
    let ours: usize = dist_files()
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .matches("object CheckCommand ")
                .count()
        })
        .sum();
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
    let closed = free_port();
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
    let ours: usize = dist_files()
        .iter()
        .map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .matches("object CheckCommand ")
                .count()
        })
        .sum();
    assert_eq!(commands.len(), ours, "{commands:?}");
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
            Value::Null,
            json!(8388608),
            json!(0),
            json!(10485760)
        )]),
        "{disk}"
    );

    let load = icinga.wait_result("localhost", "load", 30.0, |_| true);
    assert_eq!(load["state"], 0.0, "{load}");
    let parsed = icinga.parsed_perfdata("localhost", "load");
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
