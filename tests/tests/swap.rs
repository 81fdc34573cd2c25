//! check_swap end to end: on this machine as it is, and against Debian's monitoring-plugins
//! check_swap on the same synthetic /proc/meminfo (bind-mounted in a private mount
//! namespace), for a table of levels in bytes and percent.

use hcoop_tests::parity::case_over;
use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{bin, debian_plugin, json_of, plugin, plugin_json, run, run_with_files};
use serde_json::{json, Value};
use std::io::Write;
use std::path::Path;

/// Our check_swap's JSON result with fixture files bind-mounted over /proc's.
fn swap_json(binds: &[(&Path, &str)], args: &[&str]) -> Value {
    let all = [args, &["--output-format", "json"]].concat();
    json_of(
        "check_swap",
        args,
        &run_with_files(binds, &bin("check_swap"), &all),
    )
}

/// A /proc/meminfo with the given swap numbers (KiB) and this machine's other lines.
fn meminfo(total_kib: u64, free_kib: u64, cached_kib: u64) -> tempfile::NamedTempFile {
    let real = std::fs::read_to_string("/proc/meminfo").unwrap();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    for line in real.lines().filter(|l| !l.starts_with("Swap")) {
        writeln!(f, "{line}").unwrap();
    }
    writeln!(f, "SwapCached:     {cached_kib} kB").unwrap();
    writeln!(f, "SwapTotal:      {total_kib} kB").unwrap();
    writeln!(f, "SwapFree:       {free_kib} kB").unwrap();
    f
}

const GIB_KIB: u64 = 1 << 20;

/// Whole MiB amounts, so that monitoring-plugins' rounding down to MiB changes nothing
/// and equal edges can be compared too.
#[test]
fn same_state_as_monitoring_plugins() {
    let theirs = debian_plugin("check_swap");
    let ours = bin("check_swap");
    // ((total, free, cached) in KiB, args, expected state)
    type Row = ((u64, u64, u64), &'static [&'static str], i32);
    let table: &[Row] = &[
        ((2 * GIB_KIB, GIB_KIB, 0), &["-w", "50%", "-c", "10%"], 1),
        ((2 * GIB_KIB, GIB_KIB, 0), &["-w", "49%", "-c", "10%"], 0),
        ((2 * GIB_KIB, GIB_KIB, 0), &["-w", "60%", "-c", "50%"], 2),
        (
            (2 * GIB_KIB, GIB_KIB, 0),
            &["-w", "1073741824", "-c", "1"],
            1,
        ),
        (
            (2 * GIB_KIB, GIB_KIB, 0),
            &["-w", "1073741823", "-c", "1"],
            0,
        ),
        (
            (2 * GIB_KIB, GIB_KIB, 0),
            &["-w", "1073741825", "-c", "10%"],
            1,
        ),
        (
            (2 * GIB_KIB, GIB_KIB, 0),
            &["-w", "2000000000", "-c", "1073741824"],
            2,
        ),
        (
            (2 * GIB_KIB, GIB_KIB, 0),
            &["-w", "20%", "-c", "1073741824"],
            2,
        ),
        // SwapCached counts as free: 512 MiB free + 512 MiB cached
        (
            (2 * GIB_KIB, GIB_KIB / 2, GIB_KIB / 2),
            &["-w", "50%", "-c", "10%"],
            1,
        ),
        (
            (2 * GIB_KIB, GIB_KIB / 2, GIB_KIB / 2),
            &["-w", "30%", "-c", "10%"],
            0,
        ),
        (
            (2 * GIB_KIB, GIB_KIB / 2, GIB_KIB / 2),
            &["-w", "1073741823", "-c", "536870912"],
            0,
        ),
        ((GIB_KIB, 0, 0), &["-w", "10%", "-c", "5%"], 2),
        ((GIB_KIB, 0, 0), &["-w", "10%", "-c", "0"], 2),
        ((GIB_KIB, 102_400, 0), &["-w", "10%", "-c", "5%"], 1),
        ((GIB_KIB, 105_472, 0), &["-w", "10%", "-c", "5%"], 0),
        (
            (4 * GIB_KIB, 4 * GIB_KIB, 0),
            &["-w", "99%", "-c", "98%"],
            0,
        ),
        (
            (4 * GIB_KIB, 4 * GIB_KIB, 0),
            &["-w", "100%", "-c", "99%"],
            1,
        ),
        ((4 * GIB_KIB, 4 * GIB_KIB, 0), &["-w", "100000000"], 0),
        ((0, 0, 0), &["-w", "10%", "-c", "5%"], 2),
        ((0, 0, 0), &["-w", "10%", "-c", "5%", "-n", "ok"], 0),
        ((0, 0, 0), &["-w", "10%", "-n", "warning"], 1),
        ((0, 0, 0), &["-w", "10%", "--no-swap=unknown"], 3),
    ];
    let mut differ = Vec::new();
    for ((total, free, cached), args, want) in table {
        let f = meminfo(*total, *free, *cached);
        let binds = [(f.path(), "/proc/meminfo")];
        let a = run_with_files(&binds, &ours, args);
        let b = run_with_files(&binds, &theirs, args);
        assert_eq!(
            a.code, *want,
            "ours, swap {total}/{free}/{cached} KiB {args:?}: {}",
            a.stdout
        );
        if a.code != b.code {
            differ.push(format!(
                "swap {total}/{free}/{cached} KiB {args:?}\n  ours:   {}  theirs: {}",
                a.stdout, b.stdout
            ));
        }
    }
    assert!(differ.is_empty(), "states differ:\n{}", differ.join("\n"));
}

#[test]
fn output_lines() {
    let f = meminfo(2 * GIB_KIB, GIB_KIB / 2, GIB_KIB / 2);
    let binds = [(f.path(), "/proc/meminfo")];
    let r = run_with_files(&binds, &bin("check_swap"), &["-w", "60%", "-c", "10%"]);
    assert_eq!(r.code, 1);
    assert_eq!(
        r.stdout,
        "SWAP WARNING - 50% free (1.0 GiB of 2.0 GiB) | swap=1073741824B;1288490188:;214748364:;0;2147483648\n"
    );
}

/// `-a` checks each device of /proc/swaps as well as the total.
#[test]
fn each_device_with_allswaps() {
    let f = meminfo(3 * GIB_KIB, 2 * GIB_KIB + 100 * 1024, 0);
    let mut swaps = tempfile::NamedTempFile::new().unwrap();
    write!(
        swaps,
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n\
         /dev/vdb2                               partition\t{}\t\t{}\t\t-2\n\
         /var/swap\\040file                       file\t\t{}\t\t0\t\t-3\n",
        GIB_KIB,
        GIB_KIB - 100 * 1024,
        2 * GIB_KIB
    )
    .unwrap();
    let binds = [(f.path(), "/proc/meminfo"), (swaps.path(), "/proc/swaps")];
    let v = swap_json(&binds, &["-a", "-w", "20%", "-c", "10%"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        v["summary"],
        "70% free (2.1 GiB of 3.0 GiB); /dev/vdb2: 10% free (100 MiB of 1.0 GiB)"
    );
    assert_eq!(
        v["perfdata"],
        json!([
            {"label": "swap", "value": 2252341248u64, "uom": "B", "warn": "644245094:", "crit": "322122547:", "min": 0, "max": 3221225472u64},
            {"label": "swap /dev/vdb2", "value": 104857600, "uom": "B", "warn": "214748364:", "crit": "107374182:", "min": 0, "max": 1073741824},
            {"label": "swap /var/swap file", "value": 2147483648u64, "uom": "B", "warn": "429496729:", "crit": "214748364:", "min": 0, "max": 2147483648u64},
        ])
    );
    assert_eq!(
        v["details"],
        json!([
            {"state": "CRITICAL", "text": "/dev/vdb2: 10% free (100 MiB of 1.0 GiB)"},
            {"state": "OK", "text": "/var/swap file: 100% free (2.0 GiB of 2.0 GiB)"},
        ])
    );
}

/// This machine as it is: the same state as Debian's plugin; with no swap, the no-swap
/// state and line.
#[test]
fn this_machine() {
    let args = ["-w", "20%", "-c", "10%"];
    let a = plugin("check_swap", &args);
    let b = run(&debian_plugin("check_swap"), &args);
    assert_eq!(a.code, b.code, "ours: {}theirs: {}", a.stdout, b.stdout);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap();
    let no_swap = meminfo
        .lines()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["SwapTotal:", "0", "kB"]);
    if no_swap {
        let v = plugin_json("check_swap", &args);
        assert_eq!(v["state"], "CRITICAL");
        assert_eq!(
            v["summary"],
            "no swap space (swap is disabled or of zero size)"
        );
        assert_eq!(
            v["perfdata"],
            json!([{"label": "swap", "value": 0, "uom": "B", "warn": "0:", "crit": "0:", "min": 0, "max": 0}])
        );
        assert_eq!(
            plugin_json("check_swap", &["-n", "ok", "-w", "20%"])["state"],
            "OK"
        );
    }
}

/// Every malformed option or level: exit 3 and one line naming it.
#[test]
fn bad_input_is_one_unknown_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["-w", "101%"], "'101%'"),
        (&["-w", "5.5%"], "'5.5%'"),
        (&["-c", "lots"], "'lots'"),
        (
            &["-w", "10%", "-c", "20%"],
            "warning level must be at least",
        ),
        (
            &["-w", "100", "-c", "200"],
            "warning level must be at least",
        ),
        (&["-n", "maybe"], "'maybe'"),
        // multibyte text (a full-width "10") is refused, never sliced inside a character
        (&["-w", "１０"], "'１０'"),
        (&["-c", "5é%"], "'5é%'"),
        (&["--bogus"], "--bogus"),
    ];
    assert_one_unknown_line("check_swap", "SWAP", cases);
}

// The cases of monitoring-plugins' plugins/t/check_swap.t (v2.3.3), Debian's plugin and
// ours side by side on the same /proc/meminfo: 2 GiB of swap, half of it free (the
// peer's test reads the machine's own swap, which the test machines may not have). Both
// say "50% free"; the sizes after it are the peer's "(1024MB out of 2048MB)" and our
// "(1.0 GiB of 2.0 GiB)" (tests/PARITY.md).

/// Runs one peer case on 2 GiB of swap, 1 GiB free: both exit `code`, both print
/// `STATE - 50% free` and their own sizes, and the same perfdata label and unit.
fn peer_swap_case(args: &[&str], code: i32, state: &str) {
    let f = meminfo(2 * GIB_KIB, GIB_KIB, 0);
    let binds = [(f.path(), "/proc/meminfo")];
    let (d, o) = case_over(&binds, "check_swap", args, code);
    assert!(
        d.stdout
            .starts_with(&format!("SWAP {state} - 50% free (1024MB out of 2048MB)")),
        "{}",
        d.stdout
    );
    assert!(
        o.stdout
            .starts_with(&format!("SWAP {state} - 50% free (1.0 GiB of 2.0 GiB)")),
        "{}",
        o.stdout
    );
    assert_eq!(o.labels_and_units(), [("swap", "B")], "{}", o.stdout);
}

#[test]
fn peer_at_least_1mb_free_is_ok() {
    peer_swap_case(&["-w", "1048576", "-c", "1048576"], 0, "OK");
}

#[test]
fn peer_at_least_1_percent_free_is_ok() {
    peer_swap_case(&["-w", "1%", "-c", "1%"], 0, "OK");
}

#[test]
fn peer_less_than_100_percent_free_is_critical() {
    peer_swap_case(&["-w", "100%", "-c", "100%"], 2, "CRITICAL");
}

#[test]
fn peer_less_than_100_percent_free_is_a_warning() {
    peer_swap_case(&["-w", "100%", "-c", "1%"], 1, "WARNING");
}
