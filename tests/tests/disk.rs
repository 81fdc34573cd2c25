//! check_disk end to end on a real tmpfs mounted by the test, and its parity with
//! Debian's monitoring-plugins check_disk on the same file system at the same time.

use hcoop_tests::hostfs::Tmpfs;
use hcoop_tests::line::perf_labels;
use hcoop_tests::parity::{case, Outcome};
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
            &["-w", "1", "-r", "("][..],
            "-r '(': not a regular expression: Unmatched ( or \\(",
        ),
        (
            &["-p", "/", "-w", "1"],
            "Must set a threshold value before using -p",
        ),
        (
            &["-i", "^/boot"],
            "-i/-I leave out paths from a selection: select with -p, -r, -R or -A first",
        ),
    ] {
        assert_refused_json("check_disk", args, message);
        assert_eq!(plugin("check_disk", args).stderr, "", "{args:?}");
    }
    // a word after the older form's path: Debian's checks / alone (PARITY.md)
    let older = ["100", "100", "/", "/home"];
    let (d, o) = hcoop_tests::parity::differs("check_disk", &older, 0, 3);
    assert!(d.stdout.starts_with("DISK OK"), "{}", d.stdout);
    assert_eq!(
        o.stdout,
        "DISK UNKNOWN - unexpected argument '/home' (the older form is WARN CRIT PATH)\n"
    );
}

fn disk(args: &[&str]) -> Value {
    plugin_json("check_disk", args)
}

fn summary(v: &Value) -> &str {
    v["summary"].as_str().unwrap()
}

/// Two tmpfs of 10 MiB and 1000 inodes for the peer's cases: the first 70% free (3000
/// KiB written) with inodes 99% free, the second 21% free (8000 KiB) with inodes 69%
/// free (300 empty files).
struct TwoMounts {
    more: Tmpfs,
    less: Tmpfs,
}

impl TwoMounts {
    fn new() -> TwoMounts {
        let more = Tmpfs::mount("10m,nr_inodes=1000");
        more.write("a", 3000);
        let less = Tmpfs::mount("10m,nr_inodes=1000");
        less.write("a", 8000);
        for i in 0..300 {
            less.write(&format!("e{i}"), 0);
        }
        std::fs::create_dir(more.path.join("dir")).expect("mkdir");
        let pct = |s: hcoop_tests::hostfs::Stat| {
            let used = s.blocks - s.bfree;
            let free = 100 - (used * 100).div_ceil(used + s.bavail);
            let iused = s.files - s.ffree;
            (free, 100 - (iused * 100).div_ceil(s.files))
        };
        assert_eq!(pct(more.stat()), (70, 99));
        assert_eq!(pct(less.stat()), (21, 69));
        TwoMounts { more, less }
    }
}

/// The warning and critical fields of a perfdata item.
fn levels(o: &Outcome, label: &str) -> (String, String) {
    let p = o
        .item(label)
        .unwrap_or_else(|| panic!("no {label} in {}", o.stdout));
    let f: Vec<&str> = p.raw.split(';').collect();
    (f[1].to_string(), f[2].to_string())
}

/// monitoring-plugins' plugins/t/check_disk.t, on two tmpfs: the mount with more free
/// space and inodes (70%, 99%) and the one with less (21%, 69%); the averages 46% free
/// space and 84% free inodes lie between them.
#[test]
fn peer_cases_of_check_disk() {
    let m = TwoMounts::new();
    let (more, less) = (m.more.arg(), m.less.arg());
    let c = |args: &[&str], code: i32| case("check_disk", args, code);
    let (d, o) = c(
        &[
            "-w", "1%", "-c", "1%", "-p", more, "-w", "1%", "-c", "1%", "-p", less,
        ],
        0,
    );
    assert_eq!(o.perf.len(), 2, "two mount points: {}", o.stdout);
    // the perfdata levels: used space at which the free levels alert
    for args in [
        &["-u", "kB", "-w", "2000", "-c", "1000", "-p", more][..],
        &["-w", "20%", "-c", "10%", "-p", more],
    ] {
        let (d, o) = c(args, 0);
        assert_eq!(levels(&o, more), levels(&d, more), "{args:?}");
    }
    // the same perfdata whatever the order of the mount points
    let (d2, o2) = c(
        &[
            "-w", "1%", "-c", "1%", "-p", less, "-w", "1%", "-c", "1%", "-p", more,
        ],
        0,
    );
    let sorted = |o: &Outcome| {
        let mut l: Vec<String> = o.perf.iter().map(|p| p.label.clone()).collect();
        l.sort();
        l
    };
    assert_eq!((sorted(&o2), sorted(&d2)), (sorted(&o), sorted(&d)));
    // free space in units and percent
    c(&["-w", "1", "-c", "1", "-p", more], 0);
    c(&["-w", "1", "-c", "1", "-p", more, "-p", less], 0);
    let (_, o) = c(&["-e", "-w", "1", "-c", "1", "-p", more], 0);
    assert_eq!(o.perf.len(), 1);
    c(&["100", "100", more], 0);
    c(&["-w", "1%", "-c", "1%", "-p", more], 0);
    c(
        &[
            "-w", "1%", "-c", "1%", "-p", more, "-w", "100%", "-c", "100%", "-p", less,
        ],
        2,
    );
    c(&["-w", "46%", "-c", "0%", "-p", less], 1);
    c(&["-w", "46%", "-c", "46%", "-p", more], 0);
    c(
        &[
            "-w", "46%", "-c", "0%", "-p", less, "-w", "46%", "-c", "46%", "-p", more,
        ],
        1,
    );
    let (_, o) = c(
        &[
            "-e", "-w", "46%", "-c", "0%", "-p", less, "-w", "46%", "-c", "46%", "-p", more,
        ],
        1,
    );
    assert!(
        o.item(more).is_some(),
        "-e keeps the OK one in perfdata: {}",
        o.stdout
    );
    assert!(!o
        .stdout
        .lines()
        .next()
        .unwrap()
        .split('|')
        .next()
        .unwrap()
        .contains(more));
    c(&["-w", "46%", "-c", "0%", "-p", more], 0);
    c(&["-w", "46%", "-c", "46%", "-p", less], 2);
    c(
        &[
            "-w", "46%", "-c", "0%", "-p", more, "-w", "46%", "-c", "46%", "-p", less,
        ],
        2,
    );
    c(
        &[
            "-w", "46%", "-c", "46%", "-p", less, "-w", "46%", "-c", "0%", "-p", more,
        ],
        2,
    );
    // inodes
    c(&["--icritical", "1%", "--iwarning", "1%", "-p", more], 0);
    c(&["-K", "100%", "-W", "100%", "-p", less], 2);
    c(
        &[
            "--iwarning",
            "1%",
            "--icritical",
            "1%",
            "-p",
            more,
            "-K",
            "100%",
            "-W",
            "100%",
            "-p",
            less,
        ],
        2,
    );
    c(&["-W", "84%", "-K", "0%", "-p", less], 1);
    c(&["-W", "84%", "-K", "84%", "-p", more], 0);
    c(
        &[
            "-W", "84%", "-K", "0%", "-p", less, "-W", "84%", "-K", "84%", "-p", more,
        ],
        1,
    );
    let (_, o) = c(
        &[
            "-e", "-W", "84%", "-K", "0%", "-p", less, "-W", "84%", "-K", "84%", "-p", more,
        ],
        1,
    );
    assert!(o.item(more).is_some(), "{}", o.stdout);
    c(&["-W", "84%", "-K", "0%", "-p", more], 0);
    c(&["-W", "84%", "-K", "84%", "-p", less], 2);
    c(
        &[
            "-W", "84%", "-K", "0%", "-p", more, "-W", "84%", "-K", "84%", "-p", less,
        ],
        2,
    );
    c(
        &[
            "-W", "84%", "-K", "84%", "-p", less, "-W", "84%", "-K", "0%", "-p", more,
        ],
        2,
    );
    // levels after -p, a bare path, huge levels
    c(&["-p", more, "-w", "10%", "-c", "15%"], 3);
    c(&["-w", "100%", "-c", "100%", more], 2);
    c(&["-w", "100000000", "-c", "100000000", more], 2);
    c(&["-w", "100", "-c", "100", "-u", "TB", more], 2);
    // the older form: WARN CRIT in percent of used space, then a path
    let (_, o) = c(&["0", "0", more], 2);
    assert_eq!(o.perf.len(), 1, "one path: {}", o.stdout);
    c(&["100", "100", more], 0);
    c(&["0", "100", more], 1);
    // the peer's TODO cases (it wants them refused; Debian checks them, and so do we)
    c(&["-w", "10%", "-c", "15%", "-p", more], 0);
    c(&["0", "200", less], 1);
    c(&["200", "200", less], 0);
    c(&["200", "0", less], 2);
    // paths: missing, inside a mount, -E
    let bob = format!("{more}/bob");
    let (_, o) = c(&["-w", "0%", "-c", "0%", "-p", &bob], 2);
    assert!(o.stdout.contains("bob is not accessible"), "{}", o.stdout);
    let dir = format!("{more}/dir");
    let (_, whole) = c(&["-w", "0%", "-c", "0%", "-p", more], 0);
    let (_, inside) = c(&["-w", "0%", "-c", "0%", "-p", &dir], 0);
    assert_eq!(inside.labels_and_units(), whole.labels_and_units());
    c(&["-w", "0%", "-c", "0%", "-E", "-p", &dir], 2);
    c(&["-w", "0%", "-c", "0%", "-p", &dir, "-E"], 3);
    c(&["-w", "0%", "-c", "0%", "-r", more, "-E"], 3);
    let (_, o) = c(&["-w", "0%", "-c", "0%", "-p", more, "-p", &bob], 2);
    assert!(
        !o.perf.iter().any(|p| p.label.contains("bob")),
        "{}",
        o.stdout
    );
    let (_, o) = c(&["-w", "0%", "-c", "0%", "-p", more, "-p", more], 0);
    assert_eq!(o.perf.len(), 1, "{}", o.stdout);
    // (-i leaves out the temporary mounts other tests make and remove meanwhile)
    let (_, o) = c(
        &[
            "-w",
            "0%",
            "-c",
            "0%",
            "-C",
            "-w",
            "0%",
            "-c",
            "0%",
            "-p",
            more,
            "-i",
            "^/(tmp|run/netns)/",
        ],
        0,
    );
    assert!(o.perf.len() > 1, "-C selects every mount: {}", o.stdout);
    // groups: 7 + 2 MiB free together
    for (levels, code) in [
        (["-w", "10", "-c", "10"], 2),
        (["-w", "10", "-c", "8"], 1),
        (["-w", "8", "-c", "8"], 0),
    ] {
        let (d, o) = c(
            &[&levels[..], &["-g", "group", "-p", more, "-p", less]].concat(),
            code,
        );
        assert_eq!(o.labels_and_units(), [("group", "B")], "{}", d.stdout);
    }
    c(
        &["-w", "8", "-c", "8", "-p", more, "-g", "group", "-p", less],
        3,
    );
    // regular expressions and -i/-I
    c(&["-w", "1", "-c", "1", "-r", "("], 3);
    let re = |p: &str| format!("^{}$", p.replace('.', "\\."));
    let (re_more, re_less) = (re(more), re(less));
    let (up_more, up_less) = (re_more.to_uppercase(), re_less.to_uppercase());
    let both = ["-w", "0%", "-c", "0%", "-p", more, "-p", less];
    c(&[&both[..], &["-i", &re_more, "-i", &re_less]].concat(), 3);
    c(&[&both[..], &["-I", &up_more, "-I", &up_less]].concat(), 3);
    c(&[&both[..], &["-i", ".*"]].concat(), 3);
    let (_, o) = c(&[&both[..], &["-i", &re_less]].concat(), 0);
    assert_eq!(o.labels_and_units(), [(more, "B")]);
    let (_, o) = c(&[&both[..], &["-i", "^barbazJodsf$"]].concat(), 0);
    assert_eq!(o.labels_and_units(), [(more, "B"), (less, "B")]);
}
