//! check_mem end to end: on a synthetic /proc/meminfo (bind-mounted in a private mount
//! namespace), on this machine as it is, on a real cgroup v2 directory the test creates,
//! and on a cgroup directory of fixture files.

use hcoop_tests::hostfs::{cgroup2_root, Cgroup};
use hcoop_tests::{bin, plugin, run_with_files};
use std::io::Write;
use std::path::Path;

const MEMINFO: &str = "MemTotal:        8000000 kB\nMemFree:          500000 kB\nMemAvailable:    2000000 kB\nBuffers:           10000 kB\nCached:          1000000 kB\nSwapCached:         1000 kB\nSwapTotal:       1000000 kB\nSwapFree:         750000 kB\n";

fn with_meminfo(args: &[&str]) -> hcoop_tests::Run {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(MEMINFO.as_bytes()).unwrap();
    run_with_files(&[(f.path(), "/proc/meminfo")], &bin("check_mem"), args)
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
    let r = with_meminfo(&["-w", "5G", "-c", "6G"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "MEM WARNING - memory 5.7 GiB of 7.6 GiB used (75.0%) | mem_used=6144000000B;5368709120;6442450944;0;8192000000 swap_used=256000000B;;;0;1024000000\n\
         [WARNING] memory 5.7 GiB of 7.6 GiB used (75.0%)\n\
         [OK] swap 244 MiB of 977 MiB used (25.0%)\n"
    );
    let r = with_meminfo(&[
        "-w",
        "80%",
        "--swap-warning",
        "10%",
        "--swap-critical",
        "20%",
    ]);
    assert_eq!(r.code, 2);
    assert_eq!(
        r.first_line(),
        "MEM CRITICAL - swap 244 MiB of 977 MiB used (25.0%) | mem_used=6144000000B;6553600000;;0;8192000000 swap_used=256000000B;102400000;204800000;0;1024000000"
    );
}

#[test]
fn this_machine() {
    // used memory is never above 100% and always above 0
    let r = plugin("check_mem", &["-w", "100%", "-c", "100%"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.starts_with("MEM OK - memory "), "{}", r.stdout);
    let r = plugin("check_mem", &["-c", "0%"]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("MEM CRITICAL - memory "),
        "{}",
        r.stdout
    );
    // memory pressure, system-wide: `@0:100` alerts on any value
    let psi = Path::new("/proc/pressure/memory");
    let r = plugin("check_mem", &["--pressure-warning", "@0:100"]);
    if psi.exists() {
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert!(
            r.stdout
                .starts_with("MEM WARNING - memory pressure: some avg10 "),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains(" pressure_some_avg10="), "{}", r.stdout);
    } else {
        assert_eq!(r.code, 3, "{}", r.stdout);
        assert_eq!(
            r.stdout,
            "MEM UNKNOWN - cannot read /proc/pressure/memory: No such file or directory (os error 2)\n"
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
        let r = plugin(
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
        assert_eq!(r.code, 0, "{}", r.stdout);
        assert!(
            r.stdout.contains(&format!("[OK] cgroup {abs} ")),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains(" oom_kill=0c;;0;0 "), "{}", r.stdout);
        assert!(r.stdout.contains(";0;67108864 "), "{}", r.stdout);
    } else {
        for arg in std::iter::once(abs.clone()).chain(rel.ok()) {
            let r = plugin("check_mem", &["--cgroup", &arg]);
            assert_eq!(r.code, 3, "{}", r.stdout);
            assert_eq!(
                r.stdout,
                format!(
                    "MEM UNKNOWN - cannot read {abs}/memory.current: No such file or directory (os error 2)\n"
                )
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
    let r = with_meminfo(&[
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
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        format!(
            "MEM WARNING - cgroup {p} 150 MiB of 200 MiB used (75.0%), cgroup OOM kills: 2, cgroup memory pressure: some avg10 12.50% | mem_used=6144000000B;;;0;8192000000 swap_used=256000000B;;;0;1024000000 cgroup_used=157286400B;146800640;188743680;0;209715200 oom_kill=2c;0;5;0 pressure_some_avg10=12.5%;10;40;0;100\n\
             [OK] memory 5.7 GiB of 7.6 GiB used (75.0%)\n\
             [OK] swap 244 MiB of 977 MiB used (25.0%)\n\
             [WARNING] cgroup {p} 150 MiB of 200 MiB used (75.0%)\n\
             [WARNING] cgroup OOM kills: 2\n\
             [WARNING] cgroup memory pressure: some avg10 12.50%\n"
        )
    );
    std::fs::remove_file(d.join("memory.pressure")).unwrap();
    let r = with_meminfo(&["--cgroup", p, "--pressure-warning", "10"]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        format!("MEM UNKNOWN - cannot read {p}/memory.pressure: No such file or directory (os error 2)\n")
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
    for (args, needle) in cases {
        let r = plugin("check_mem", args);
        assert_eq!(r.code, 3, "{args:?}: {}", r.stdout);
        // a panic is also one UNKNOWN line: make sure this is not one
        assert!(
            !r.stdout.contains("internal error"),
            "{args:?}: {}",
            r.stdout
        );
        assert_eq!(r.stdout.lines().count(), 1, "{args:?}: {}", r.stdout);
        assert!(
            r.stdout.starts_with("MEM UNKNOWN - ") && r.stdout.contains(needle),
            "{args:?}: {}",
            r.stdout
        );
    }
}
