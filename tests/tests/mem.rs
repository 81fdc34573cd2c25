//! check_mem end to end: on a synthetic /proc/meminfo (bind-mounted in a private mount
//! namespace), on this machine as it is, on a real cgroup v2 directory the test creates,
//! and on a cgroup directory of fixture files.

use hcoop_tests::hostfs::{cgroup2_root, Cgroup};
use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{bin, json_of, plugin_json, run_with_files};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

const MEMINFO: &str = "MemTotal:        8000000 kB\nMemFree:          500000 kB\nMemAvailable:    2000000 kB\nBuffers:           10000 kB\nCached:          1000000 kB\nSwapCached:         1000 kB\nSwapTotal:       1000000 kB\nSwapFree:         750000 kB\n";

fn with_meminfo(args: &[&str]) -> hcoop_tests::Run {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(MEMINFO.as_bytes()).unwrap();
    run_with_files(&[(f.path(), "/proc/meminfo")], &bin("check_mem"), args)
}

/// The JSON result of check_mem on [`MEMINFO`].
fn json_with_meminfo(args: &[&str]) -> Value {
    let all = [args, &["--output-format", "json"]].concat();
    json_of("check_mem", args, &with_meminfo(&all))
}

/// The memory and swap perfdata of [`MEMINFO`], with the levels given.
fn mem_and_swap_perf(mem: [Value; 2], swap: [Value; 2]) -> Value {
    let [mem_warn, mem_crit] = mem;
    let [swap_warn, swap_crit] = swap;
    json!([
        {"label": "mem_used", "value": 6144000000u64, "uom": "B", "warn": mem_warn, "crit": mem_crit, "min": 0, "max": 8192000000u64},
        {"label": "swap_used", "value": 256000000, "uom": "B", "warn": swap_warn, "crit": swap_crit, "min": 0, "max": 1024000000},
    ])
}

#[test]
fn levels_on_a_known_meminfo() {
    // used = 8000000 - 2000000 KiB = 75%; swap 25% used
    let r = with_meminfo(&["-w", "80%", "-c", "90%"]);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout,
        "MEM OK - memory 5.7 GiB of 7.6 GiB used (75.0%), swap 244 MiB of 977 MiB used (25.0%) | mem_used=6144000000B;6553600000;7372800000;0;8192000000 swap_used=256000000B;;;0;1024000000\n"
    );
    let v = json_with_meminfo(&["-w", "5G", "-c", "6G"]);
    assert_eq!(v["state"], "WARNING");
    assert_eq!(v["summary"], "memory 5.7 GiB of 7.6 GiB used (75.0%)");
    assert_eq!(
        v["details"],
        json!([
            {"state": "WARNING", "text": "memory 5.7 GiB of 7.6 GiB used (75.0%)"},
            {"state": "OK", "text": "swap 244 MiB of 977 MiB used (25.0%)"},
        ])
    );
    assert_eq!(
        v["perfdata"],
        mem_and_swap_perf(
            [json!("5368709120"), json!("6442450944")],
            [Value::Null, Value::Null]
        )
    );
    let v = json_with_meminfo(&[
        "-w",
        "80%",
        "--swap-warning",
        "10%",
        "--swap-critical",
        "20%",
    ]);
    assert_eq!(v["state"], "CRITICAL");
    assert_eq!(v["summary"], "swap 244 MiB of 977 MiB used (25.0%)");
    assert_eq!(
        v["perfdata"],
        mem_and_swap_perf(
            [json!("6553600000"), Value::Null],
            [json!("102400000"), json!("204800000")]
        )
    );
}

#[test]
fn this_machine() {
    // used memory is never above 100% and always above 0
    let v = plugin_json("check_mem", &["-w", "100%", "-c", "100%"]);
    assert_eq!(v["state"], "OK", "{v}");
    assert!(v["summary"].as_str().unwrap().starts_with("memory "), "{v}");
    let v = plugin_json("check_mem", &["-c", "0%"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert!(v["summary"].as_str().unwrap().starts_with("memory "), "{v}");
    // memory pressure, system-wide: `@0:100` alerts on any value
    let psi = Path::new("/proc/pressure/memory");
    let v = plugin_json("check_mem", &["--pressure-warning", "@0:100"]);
    if psi.exists() {
        assert_eq!(v["state"], "WARNING", "{v}");
        assert!(
            v["summary"]
                .as_str()
                .unwrap()
                .starts_with("memory pressure: some avg10 "),
            "{v}"
        );
        let psi = &v["perfdata"][2];
        assert_eq!(psi["label"], "pressure_some_avg10", "{v}");
        assert_eq!((&psi["uom"], &psi["warn"]), (&json!("%"), &json!("@0:100")));
    } else {
        assert_eq!(v["state"], "UNKNOWN", "{v}");
        assert_eq!(
            v["summary"],
            "cannot read /proc/pressure/memory: No such file or directory (os error 2)"
        );
    }
}

/// A real cgroup made by the test. Where the cgroup v2 hierarchy has the memory
/// controller, its numbers are checked; where memory is bound to a v1 hierarchy (hybrid
/// layout), memory.current does not exist and the check says so.
#[test]
fn real_cgroup() {
    assert!(hcoop_tests::is_root(), "creating a cgroup needs root");
    let root = cgroup2_root().expect("no cgroup2 file system mounted");
    let controllers = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap();
    let has_memory = controllers.split_whitespace().any(|c| c == "memory");
    if has_memory {
        std::fs::write(root.join("cgroup.subtree_control"), "+memory").unwrap();
    }
    let cg = Cgroup::create(&root, "hcoop-check-mem");
    let abs = cg.path.to_str().unwrap().to_string();
    // relative to /sys/fs/cgroup, as --cgroup takes it
    let rel = cg
        .path
        .strip_prefix("/sys/fs/cgroup")
        .map(|p| p.to_str().unwrap().to_string());
    if has_memory {
        std::fs::write(cg.path.join("memory.max"), "67108864").unwrap();
        let v = plugin_json(
            "check_mem",
            &[
                "--cgroup",
                &abs,
                "--cgroup-warning",
                "50%",
                "--oom-critical",
                "0",
                "--pressure-warning",
                "50",
            ],
        );
        assert_eq!(v["state"], "OK", "{v}");
        let cgroup = &v["details"][2];
        assert_eq!(cgroup["state"], "OK", "{v}");
        assert!(
            cgroup["text"]
                .as_str()
                .unwrap()
                .starts_with(&format!("cgroup {abs} ")),
            "{v}"
        );
        let used = &v["perfdata"][2];
        assert_eq!(
            (&used["label"], &used["max"]),
            (&json!("cgroup_used"), &json!(67108864))
        );
        assert_eq!(
            v["perfdata"][3],
            json!({"label": "oom_kill", "value": 0, "uom": "c", "warn": null, "crit": "0", "min": 0, "max": null})
        );
    } else {
        for arg in std::iter::once(abs.clone()).chain(rel.ok()) {
            let v = plugin_json("check_mem", &["--cgroup", &arg]);
            assert_eq!(v["state"], "UNKNOWN", "{v}");
            assert_eq!(
                v["summary"],
                format!("cannot read {abs}/memory.current: No such file or directory (os error 2)")
            );
        }
    }
}

/// The whole cgroup path on fixture files (an absolute --cgroup directory).
#[test]
fn cgroup_fixture_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("memory.current"), "157286400\n").unwrap();
    std::fs::write(d.join("memory.max"), "209715200\n").unwrap();
    std::fs::write(
        d.join("memory.events"),
        "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n",
    )
    .unwrap();
    std::fs::write(
        d.join("memory.pressure"),
        "some avg10=12.50 avg60=3.00 avg300=1.00 total=123456\nfull avg10=5.00 avg60=1.00 avg300=0.50 total=2345\n",
    )
    .unwrap();
    let p = d.to_str().unwrap();
    let v = json_with_meminfo(&[
        "--cgroup",
        p,
        "--cgroup-warning",
        "70%",
        "--cgroup-critical",
        "90%",
        "--oom-warning",
        "0",
        "--oom-critical",
        "5",
        "--pressure-warning",
        "10",
        "--pressure-critical",
        "40",
    ]);
    assert_eq!(v["state"], "WARNING", "{v}");
    assert_eq!(
        v["summary"],
        format!("cgroup {p} 150 MiB of 200 MiB used (75.0%), cgroup OOM kills: 2, cgroup memory pressure: some avg10 12.50%")
    );
    let mut perf = mem_and_swap_perf([Value::Null, Value::Null], [Value::Null, Value::Null]);
    perf.as_array_mut().unwrap().extend([
        json!({"label": "cgroup_used", "value": 157286400, "uom": "B", "warn": "146800640", "crit": "188743680", "min": 0, "max": 209715200}),
        json!({"label": "oom_kill", "value": 2, "uom": "c", "warn": "0", "crit": "5", "min": 0, "max": null}),
        json!({"label": "pressure_some_avg10", "value": 12.5, "uom": "%", "warn": "10", "crit": "40", "min": 0, "max": 100}),
    ]);
    assert_eq!(v["perfdata"], perf);
    assert_eq!(
        v["details"],
        json!([
            {"state": "OK", "text": "memory 5.7 GiB of 7.6 GiB used (75.0%)"},
            {"state": "OK", "text": "swap 244 MiB of 977 MiB used (25.0%)"},
            {"state": "WARNING", "text": format!("cgroup {p} 150 MiB of 200 MiB used (75.0%)")},
            {"state": "WARNING", "text": "cgroup OOM kills: 2"},
            {"state": "WARNING", "text": "cgroup memory pressure: some avg10 12.50%"},
        ])
    );
    std::fs::remove_file(d.join("memory.pressure")).unwrap();
    let v = json_with_meminfo(&["--cgroup", p, "--pressure-warning", "10"]);
    assert_eq!(v["state"], "UNKNOWN");
    assert_eq!(
        v["summary"],
        format!("cannot read {p}/memory.pressure: No such file or directory (os error 2)")
    );
}

/// Every malformed option or level: exit 3 and one line naming it.
#[test]
fn bad_input_is_one_unknown_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["-w", "80X"], "'80X'"),
        (&["-c", "90:80%"], "start is greater than end"),
        (&["--swap-warning", "lots"], "'lots'"),
        (
            &["--oom-critical", "0"],
            "--oom-critical needs --cgroup PATH",
        ),
        (
            &["--cgroup-warning", "50%"],
            "--cgroup-warning needs --cgroup PATH",
        ),
        (&["--pressure-critical", "1:0"], "start is greater than end"),
        (&["--cgroup", ""], "--cgroup"),
        (&["-w", "é"], "'é'"),
        (&["-w", "200%"], "a percentage must be from 0 to 100"),
        (
            &["--pressure-critical", "101"],
            "a percentage must be from 0 to 100",
        ),
        (&["-c", "10é%"], "'10é%'"),
        (&["--swap-warning", "１G"], "'１G'"),
        (&["--bogus"], "--bogus"),
    ];
    assert_one_unknown_line("check_mem", "MEM", cases);
}
