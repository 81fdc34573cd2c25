//! check_disk end to end on a real tmpfs mounted by the test, and its parity with
//! Debian's monitoring-plugins check_disk on the same file system at the same time.

use hcoop_tests::hostfs::Tmpfs;
use hcoop_tests::line::perf_labels;
use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{assert_refused_json, bin, debian_plugin, plugin, plugin_json, run};
use serde_json::{json, Value};

/// A 10 MiB tmpfs (2560 blocks of 4 KiB) with 3000 KiB written: 1810 blocks free, so
/// 70% free, 7 MiB (7240 KiB) free, 3072000 bytes used, inodes 99% free.
fn tmpfs_70_percent_free() -> Tmpfs {
    let fs = Tmpfs::mount("10m");
    fs.write("a", 3000);
    let s = fs.stat();
    assert_eq!(
        (s.frsize, s.blocks, s.bfree, s.bavail),
        (4096, 2560, 1810, 1810)
    );
    fs
}

/// The one test of the Nagios text (its first run).
#[test]
fn states_as_the_tmpfs_fills() {
    let fs = tmpfs_70_percent_free();
    let p = fs.arg();
    let args = ["-w", "40%", "-c", "20%", "-p", p];
    let r = plugin("check_disk", &args);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        format!(
            "DISK OK - {p} 70% free (7.1 MiB), inodes 99% free | {p}=3072000B;6291456;8388608;0;10485760\n\
             [OK] {p} 70% free (7.1 MiB), inodes 99% free: 2.9 MiB of 10.0 MiB used, 7 MiB free\n"
        )
    );
    // the rest compare the JSON result
    // 1750 blocks used: 100 - ceil(68.4) = 31% free
    fs.write("b", 4000);
    let v = disk(&args);
    assert_eq!(v["state"], "WARNING", "{v}");
    assert_eq!(
        v["summary"],
        format!("{p} 31% free (3.2 MiB), inodes 99% free")
    );
    assert_eq!(
        v["perfdata"],
        json!([{"label": p, "value": 7168000, "uom": "B", "warn": "6291456", "crit": "8388608", "min": 0, "max": 10485760}])
    );
    // 2250 blocks used: 12% free
    fs.write("c", 2000);
    let v = disk(&args);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert!(
        summary(&v).starts_with(&format!("{p} 12% free (1.2 MiB)")),
        "{v}"
    );
    // a path inside the file system stands for it; levels in units and inodes too
    let sub = fs.path.join("dir");
    std::fs::create_dir(&sub).unwrap();
    let v = disk(&[
        "-w",
        "2",
        "-c",
        "0",
        "-W",
        "50%",
        "-p",
        sub.to_str().unwrap(),
    ]);
    assert_eq!(v["state"], "WARNING", "{v}");
    assert!(summary(&v).starts_with(&format!("{p} 12% free")), "{v}");
}

#[test]
fn selection_by_expression_and_type() {
    let fs = tmpfs_70_percent_free();
    let p = fs.arg();
    let exact = format!("^{}$", p.replace('.', "\\."));
    let v = disk(&["-w", "80%", "-r", &exact]);
    assert_eq!(v["state"], "WARNING", "{v}");
    assert_eq!(perf_labels(&v), [p], "only the tmpfs");
    assert_eq!(v["details"].as_array().unwrap().len(), 1, "{v}");
    // every tmpfs but ours: ours is left out by -x
    let v = disk(&["-w", "1%", "-N", "tmpfs", "-x", p, "-e"]);
    assert!(
        !perf_labels(&v).iter().any(|l| l == p) && !summary(&v).contains(p),
        "{v}"
    );
    let details = v["details"].as_array().unwrap();
    assert!(
        details
            .iter()
            .all(|d| !d["text"].as_str().unwrap().contains(p)),
        "{v}"
    );
    // errors only: the OK file system has no line, but keeps its perfdata
    let v = disk(&["-w", "50%", "-e", "-p", p]);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(v["details"], json!([]));
    assert_eq!(perf_labels(&v), [p]);
    assert_eq!(v["perfdata"][0]["value"], 3072000);
    assert_eq!(v["perfdata"][0]["uom"], "B");
    let v = disk(&["-w", "50%", "-E", "-p", &format!("{p}/a")]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(v["summary"], format!("{p}/a is not a mount point (-E)"));
    let v = disk(&["-w", "50%", "-p", "/nonexistent/x"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        v["summary"],
        "/nonexistent/x is not accessible: No such file or directory"
    );
    let v = disk(&[
        "-w",
        "50%",
        "--ignore-missing",
        "-p",
        "/nonexistent/x",
        "-p",
        p,
    ]);
    assert_eq!(v["state"], "OK", "{v}");
}

/// Same state as Debian's check_disk, for a table of levels around the tmpfs's actual
/// free space (70%, 7 MiB, 7240 KiB, 7413760 bytes, inodes 99%), equal edges included:
/// both alert at or below a level.
#[test]
fn same_state_as_monitoring_plugins() {
    let theirs = debian_plugin("check_disk");
    let ours = bin("check_disk");
    let fs = tmpfs_70_percent_free();
    let p = fs.arg().to_string();
    let sub = format!("{p}/a");
    let missing = format!("{p}/missing");
    let exact = format!("^{}$", p.replace('.', "\\."));
    let exact_upper = exact.to_uppercase();
    // thresholds first: monitoring-plugins wants them before -p and -r
    let table: Vec<(Vec<&str>, i32)> = vec![
        (vec!["-w", "60%", "-c", "50%", "-p", &p], 0),
        (vec!["-w", "70%", "-c", "50%", "-p", &p], 1),
        (vec!["-w", "71%", "-c", "69%", "-p", &p], 1),
        (vec!["-w", "80%", "-c", "70%", "-p", &p], 2),
        (vec!["-w", "90%", "-c", "75%", "-p", &p], 2),
        (vec!["-w", "8", "-c", "5", "-p", &p], 1),
        (vec!["-w", "7", "-c", "5", "-p", &p], 1),
        (vec!["-w", "6", "-c", "3", "-p", &p], 0),
        (vec!["-w", "10", "-c", "7", "-p", &p], 2),
        (vec!["-u", "kB", "-w", "7241", "-c", "7239", "-p", &p], 1),
        (vec!["-u", "kB", "-w", "7000", "-c", "6000", "-p", &p], 0),
        (vec!["-k", "-w", "7300", "-c", "7240", "-p", &p], 2),
        (vec!["-m", "-w", "6", "-c", "5", "-p", &p], 0),
        (
            vec!["-u", "bytes", "-w", "7413760", "-c", "1000", "-p", &p],
            1,
        ),
        (
            vec!["-u", "bytes", "-w", "7413759", "-c", "1000", "-p", &p],
            0,
        ),
        (vec!["-u", "GB", "-w", "1", "-c", "0", "-p", &p], 2),
        (vec!["-W", "99%", "-K", "50%", "-p", &p], 1),
        (vec!["-W", "98%", "-K", "50%", "-p", &p], 0),
        (vec!["-W", "100", "-K", "99", "-p", &p], 2),
        (vec!["-w", "10%", "-w", "8", "-c", "5%", "-p", &p], 1),
        (vec!["-w", "@50:60%", "-c", "@0:10%", "-p", &p], 0),
        (vec!["-w", "@65:75%", "-p", &p], 1),
        (vec!["-f", "-w", "70%", "-p", &p], 1),
        (vec!["-M", "-w", "71%", "-c", "10%", "-p", &p], 1),
        (vec!["-w", "71%", "-c", "10%", "-p", &sub], 1),
        (vec!["-w", "69%", "-c", "10%", "-p", &sub], 0),
        (vec!["-w", "10%", "-E", "-p", &sub], 2),
        (vec!["-w", "10%", "-p", &missing], 2),
        (vec!["-w", "71%", "-c", "10%", "-r", &exact], 1),
        // levels apply to the selections after them; -C clears them; a -C before any
        // selection selects every mount (here with no levels, so they are all OK)
        (vec!["-C", "-w", "80%", "-c", "70%", "-p", &p], 2),
        (vec!["-C", "-w", "80%", "-c", "70%", "-p", &sub], 0),
        (vec!["-w", "80%", "-C", "-w", "10", "-c", "7", "-p", &p], 2),
        (vec!["-w", "60%", "-p", &p, "-C", "-w", "80%", "-p", &p], 1),
        (
            // the first selection of a mount point keeps it
            vec!["-w", "80%", "-p", &p, "-C", "-w", "60%", "-p", &sub],
            1,
        ),
        (vec!["-w", "75%", "-c", "70%", "-R", &exact_upper], 2),
    ];
    let mut differ = Vec::new();
    for (args, want) in &table {
        let a = run(&ours, args);
        let b = run(&theirs, args);
        assert_eq!(a.code, *want, "ours {args:?}: {}", a.stdout);
        if a.code != b.code {
            differ.push(format!(
                "{args:?}\n  ours:   {}  theirs: {}",
                a.stdout, b.stdout
            ));
        }
    }
    assert!(differ.is_empty(), "states differ:\n{}", differ.join("\n"));
}

/// Every malformed option or level the command line parser refuses: exit 3 and one
/// line naming it (in text: the output format is not known yet).
#[test]
fn bad_input_is_one_unknown_line() {
    let cases: &[(&[&str], &str)] = &[
        (&["-w", "x%"], "'@x'"),
        (&["-c", "20:10%"], "start is greater than end"),
        (&["-u", "parsecs"], "unknown unit 'parsecs'"),
        (&["-W", "ten"], "'@ten'"),
        (&["--bogus"], "--bogus"),
        (&["-t", "0"], "timeout"),
        (&["-k", "-u", "GB"], "--units"),
        // percentages lie within 0..=100 (200% was taken and alerted on every file system)
        (&["-w", "200%"], "a percentage must be from 0 to 100"),
        (&["-c", "101%"], "a percentage must be from 0 to 100"),
        (&["--warning=@-5:10%"], "a percentage must be from 0 to 100"),
        (&["-W", "200%"], "a percentage must be from 0 to 100"),
        (&["-K", "150"], "a percentage must be from 0 to 100"),
        (&["-w", "é%"], "DISK UNKNOWN - "),
    ];
    assert_one_unknown_line("check_disk", "DISK", cases);
}

/// Options the check's validation refuses: one UNKNOWN result, nothing on stderr.
#[test]
fn refused_selections_are_unknown() {
    for (args, message) in [
        (
            &["-r", "("][..],
            "-r '(': not a regular expression: Unmatched ( or \\(",
        ),
        (
            &["-i", "^/boot"],
            "-i/-I leave out paths from a selection: select with -p, -r, -R or -A first",
        ),
    ] {
        assert_refused_json("check_disk", args, message);
        assert_eq!(plugin("check_disk", args).stderr, "", "{args:?}");
    }
}

fn disk(args: &[&str]) -> Value {
    plugin_json("check_disk", args)
}

fn summary(v: &Value) -> &str {
    v["summary"].as_str().unwrap()
}
