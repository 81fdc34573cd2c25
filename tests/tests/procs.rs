//! check_procs end to end on real processes (tagged sleepers, a zombie, another user's
//! processes under an nproc limit), and its parity with Debian's monitoring-plugins
//! check_procs on the same processes at the same time.

use hcoop_tests::line::perf;
use hcoop_tests::procs::Procs;
use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{bin, debian_plugin, json_of, plugin_json, run};

#[test]
fn counts_tagged_sleepers_exactly() {
    let mut p = Procs::new();
    p.sleepers(3);
    let tag = p.tag.as_str();
    let v = plugin_json("check_procs", &["-a", tag, "-w", "2", "-c", "3"]);
    assert_eq!(v["state"], "WARNING");
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["summary"], format!("3 processes with args '{tag}'"));
    let procs = perf(&v, "procs");
    assert_eq!(procs["value"], 3);
    assert_eq!(procs["warn"], "2");
    assert_eq!(procs["crit"], "3");
    assert_eq!(procs["min"], 0);
    assert_eq!(
        v["text"],
        format!("PROCS WARNING - 3 processes with args '{tag}' | procs=3;2;3;0\n")
    );
    // the endpoints are inclusive
    assert_eq!(
        plugin_json("check_procs", &["-a", tag, "-w", "3", "-c", "3"])["state"],
        "OK"
    );
    assert_eq!(
        plugin_json("check_procs", &["-a", tag, "-w", "1:2", "-c", "2:"])["state"],
        "WARNING"
    );
    assert_eq!(
        plugin_json("check_procs", &["-a", tag, "-c", "@3:3"])["state"],
        "CRITICAL"
    );
    // the unique command name, the state and the user
    let comm = p.comm.as_str();
    let v = plugin_json("check_procs", &["-C", comm, "-s", "S", "-u", "root"]);
    assert_eq!(
        v["summary"],
        format!("3 processes with STATE = S, UID = 0 (root), command name '{comm}'")
    );
    assert_eq!(perf(&v, "procs")["value"], 3);
    let v = plugin_json("check_procs", &["-C", comm, "-s", "R", "-c", "1:"]);
    assert_eq!(v["state"], "CRITICAL");
    assert_eq!(perf(&v, "procs")["value"], 0);
    let v = plugin_json("check_procs", &["-a", tag, "-X", comm]);
    assert_eq!(perf(&v, "procs")["value"], 0);
    let v = plugin_json(
        "check_procs",
        &["--ereg-argument-array", &format!("^{tag} 300$"), "-k"],
    );
    assert_eq!(perf(&v, "procs")["value"], 3);
}

#[test]
fn never_counts_itself_or_its_parent() {
    let tag = hcoop_tests::procs::unique_tag();
    // our own arguments carry the tag
    let v = plugin_json("check_procs", &["-a", &tag, "-c", "0"]);
    assert_eq!(v["state"], "OK", "{v}");
    // so do those of the shell that runs us (it stays our parent: a command follows)
    let script = format!(
        "{} -a {tag} -c 0 --output-format json; exit $?",
        bin("check_procs").display()
    );
    let v = json_of(
        "check_procs",
        &["-a", &tag, "-c", "0"],
        &run(std::path::Path::new("/bin/sh"), &["-c", &script]),
    );
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(v["summary"], format!("0 processes with args '{tag}'"));
    assert_eq!(
        v["perfdata"],
        serde_json::json!([{"label": "procs", "value": 0, "uom": "", "warn": null, "crit": "0", "min": 0, "max": null}])
    );
}

#[test]
fn children_of_a_parent() {
    let mut p = Procs::new();
    let parent = p.family(4);
    let v = plugin_json(
        "check_procs",
        &["-p", &parent.to_string(), "-w", "4", "-c", "5"],
    );
    assert_eq!(v["state"], "OK");
    assert_eq!(v["summary"], format!("4 processes with PPID = {parent}"));
    assert_eq!(perf(&v, "procs")["value"], 4);
}

#[test]
fn finds_a_zombie() {
    let mut p = Procs::new();
    let parent = p.zombie_parent().to_string();
    let v = plugin_json("check_procs", &["-s", "Z", "-p", &parent, "-c", "0"]);
    assert_eq!(v["state"], "CRITICAL");
    assert_eq!(v["exit_code"], 2);
    assert_eq!(
        v["summary"],
        format!("1 process with STATE = Z, PPID = {parent}")
    );
    // a zombie's arguments read "[comm] <defunct>", as ps shows them
    let v = plugin_json("check_procs", &["-p", &parent, "-a", "[sleep] <defunct>"]);
    assert_eq!(perf(&v, "procs")["value"], 1);
    // per user: root has one zombie among the processes of the tag's parent
    let v = plugin_json(
        "check_procs",
        &["--per-user", "-p", &parent, "--zombies-warning", "0"],
    );
    assert_eq!(v["state"], "WARNING");
    assert_eq!(
        v["summary"],
        format!("1 of 1 users over their limits (processes with PPID = {parent}): root (1 zombie)")
    );
    assert_eq!(perf(&v, "zombies")["value"], 1);
    assert_eq!(perf(&v, "offenders")["value"], 1);
}

#[test]
fn another_users_processes_against_their_enforced_nproc_limit() {
    let mut p = Procs::new();
    p.as_nobody(2, 8).sleepers(1);
    let tag = p.tag.as_str();
    let v = plugin_json("check_procs", &["-a", tag, "-u", "nobody"]);
    assert_eq!(
        v["summary"],
        format!("2 processes with UID = 65534 (nobody), args '{tag}'")
    );
    assert_eq!(
        perf(
            &plugin_json("check_procs", &["-a", tag, "-u", "65534"]),
            "procs"
        )["value"],
        2
    );
    assert_eq!(
        perf(
            &plugin_json("check_procs", &["-a", tag, "-u", "root"]),
            "procs"
        )["value"],
        1
    );
    // nobody: 2 tasks of the enforced limit 8 (from /proc/PID/limits) = 25%; root is
    // exempt from nproc
    let v = plugin_json(
        "check_procs",
        &[
            "--per-user",
            "-a",
            tag,
            "--nproc-warning",
            "20",
            "--nproc-critical",
            "30%",
        ],
    );
    assert_eq!(v["state"], "WARNING", "{v}");
    assert_eq!(
        v["summary"],
        format!(
            "1 of 2 users over their limits (processes with args '{tag}'): nobody (nproc 25.0% (2 of 8 tasks))"
        )
    );
    assert_eq!(v["details"].as_array().unwrap().len(), 1);
    assert_eq!(v["details"][0]["state"], "WARNING");
    let line = v["details"][0]["text"].as_str().unwrap();
    assert!(
        line.starts_with(
            "nobody (uid 65534): nproc 25.0% (2 of 8 tasks); 2 processes, 2 tasks, 25.0% of nproc 8, RSS "
        ),
        "{line}"
    );
    assert_eq!(perf(&v, "users")["value"], 2);
    assert_eq!(perf(&v, "offenders")["value"], 1);
    assert_eq!(perf(&v, "procs")["value"], 3);
    let pct = perf(&v, "max_nproc_percent");
    assert_eq!(pct["value"], 25.0);
    assert_eq!(pct["uom"], "%");
    assert_eq!(pct["warn"], "20");
    assert_eq!(pct["crit"], "30");
    // a given limit wins; excluded users and low uids are left out
    let per_user = ["--per-user", "-a", tag];
    for (more, state, users) in [
        (
            &[
                "--nproc-limit",
                "2",
                "--nproc-critical",
                "99",
                "--exclude-user",
                "root",
            ][..],
            "CRITICAL",
            1,
        ),
        (
            &["--min-uid", "70000", "--nproc-limit", "1", "-c", "0"],
            "OK",
            0,
        ),
    ] {
        let v = plugin_json("check_procs", &[&per_user[..], more].concat());
        assert_eq!(v["state"], state, "{more:?}: {v}");
        assert_eq!(perf(&v, "users")["value"], users, "{more:?}: {v}");
    }
    // memory and CPU time per user
    let v = plugin_json(
        "check_procs",
        &[
            "--per-user",
            "-a",
            tag,
            "-u",
            "nobody",
            "--user-rss-warning",
            "1K",
            "--user-vsz-critical",
            "10T",
            "--cputime-critical",
            "@0:0",
        ],
    );
    assert_eq!(v["state"], "CRITICAL", "{v}");
    let why = v["summary"].as_str().unwrap();
    assert!(
        why.contains("2 processes over the CPU time limit") && why.contains(", RSS "),
        "{why}"
    );
}

#[test]
fn per_process_metrics() {
    let mut p = Procs::new();
    p.sleepers(2);
    let tag = p.tag.as_str();
    let v = plugin_json(
        "check_procs",
        &["-a", tag, "-m", "RSS", "-w", "1", "-c", "10000000"],
    );
    assert_eq!(v["state"], "WARNING");
    assert!(
        v["summary"].as_str().unwrap().starts_with(&format!(
            "RSS: 2 warn out of 2 processes with args '{tag}'; highest "
        )),
        "{v}"
    );
    assert_eq!(perf(&v, "procs_warn")["value"], 2);
    assert_eq!(perf(&v, "procs_crit")["value"], 0);
    assert_eq!(perf(&v, "rss_max")["uom"], "KB");
    assert_eq!(v["details"].as_array().unwrap().len(), 2);
    let v = plugin_json("check_procs", &["-a", tag, "-m", "vsz", "-c", "1"]);
    assert_eq!(v["state"], "CRITICAL");
    assert_eq!(perf(&v, "procs_crit")["value"], 2);
    for metric in ["ELAPSED", "CPUTIME", "CPU"] {
        let v = plugin_json("check_procs", &["-a", tag, "-m", metric, "-w", "3600"]);
        assert_eq!(v["state"], "OK", "{metric}: {v}");
    }
    let v = plugin_json(
        "check_procs",
        &["-a", tag, "-m", "ELAPSED", "-c", "@0:3600"],
    );
    assert_eq!(v["state"], "CRITICAL");
}

#[test]
fn bad_input_is_one_line_and_unknown() {
    let cases: &[(&[&str], &str)] = &[
        (&["-w", "5:1"], "invalid range '5:1'"),
        (&["-c", "ten"], "invalid range 'ten'"),
        (&["-m", "FOO"], "invalid value 'FOO' for '--metric"),
        (&["-r", "big"], "--rss"),
        (&["-z", "-1"], "--vsz"),
        (&["-p", "x"], "--ppid"),
        (&["-P", "lots"], "--pcpu"),
        (
            &["-u", "no-such-user-here"],
            "-u/--user: user 'no-such-user-here' was not found",
        ),
        (
            &["--ereg-argument-array", "(("],
            "--ereg-argument-array: invalid regular expression",
        ),
        (&["-X", ","], "-X/--exclude-process"),
        (
            &["--nproc-warning", "80"],
            "--nproc-warning needs --per-user",
        ),
        (
            &["--per-user", "--user-rss-warning", "2Z"],
            "--user-rss-warning",
        ),
        (&["--per-user", "-m", "VSZ"], "-m VSZ"),
        (&["--user-rss-warning", "é"], "--user-rss-warning"),
        (
            &["--per-user", "--user-vsz-critical", "１G"],
            "--user-vsz-critical",
        ),
        (&["--per-user", "--nproc-warning", "é%"], "--nproc-warning"),
        (
            &["--per-user", "--nproc-critical", "200"],
            "a percentage must be from 0 to 100",
        ),
        (&["--bogus"], "--bogus"),
        (&["-t", "0"], "--timeout"),
    ];
    assert_one_unknown_line("check_procs", "PROCS", cases);
}

/// The process count in a first line: ours `PROCS OK - 3 processes ...` or
/// monitoring-plugins' `RSS OK: 3 processes ...`/`3 warn out of 3 processes`.
fn count_in(line: &str) -> u64 {
    let words: Vec<&str> = line.split_whitespace().collect();
    let at = words
        .iter()
        .position(|w| *w == "process" || *w == "processes")
        .unwrap_or_else(|| panic!("no count in {line}"));
    words[at - 1].parse().unwrap()
}

#[test]
fn same_state_and_count_as_monitoring_plugins() {
    let theirs = debian_plugin("check_procs");
    let ours = bin("check_procs");
    let mut p = Procs::new();
    p.sleepers(3).as_nobody(2, 100);
    let parent = p.family(2).to_string();
    let zparent = p.zombie_parent().to_string();
    let tag = p.tag.clone();
    let comm = p.comm.clone();
    let t = tag.as_str();
    let c = comm.as_str();
    let ereg = format!("{t} 30+$");
    let table: Vec<Vec<&str>> = vec![
        vec!["-a", t],
        vec!["-a", t, "-w", "7", "-c", "8"],
        vec!["-a", t, "-w", "6", "-c", "8"],
        vec!["-a", t, "-w", "5", "-c", "6"],
        vec!["-a", t, "-w", "10:", "-c", "20:"],
        vec!["-a", t, "-c", "@8"],
        vec!["-C", c, "-w", "2"],
        vec!["-C", c, "-c", "8:"],
        vec!["-C", c, "-u", "nobody", "-w", "1"],
        vec!["-C", c, "-u", "65534", "-c", "2"],
        vec!["-C", c, "-u", "root"],
        vec!["-C", c, "-s", "S"],
        vec!["-C", c, "-s", "R", "-c", "1:"],
        vec!["-C", c, "-s", "Z"],
        vec!["-p", &zparent, "-s", "Z", "-c", "0"],
        vec!["-p", &zparent],
        vec!["-p", &parent, "-w", "1", "-c", "2"],
        vec!["-a", t, "-r", "1"],
        vec!["-a", t, "-r", "999999999"],
        vec!["-a", t, "-z", "1000"],
        vec!["-a", t, "-P", "0"],
        vec!["-a", t, "-P", "50"],
        vec!["--ereg-argument-array", &ereg],
        vec!["-a", t, "-k"],
        vec!["-a", t, "-m", "RSS", "-w", "1", "-c", "100000000"],
        vec!["-a", t, "-m", "RSS", "-c", "1"],
        vec!["-a", t, "-m", "RSS", "-w", "100000000"],
        vec!["-a", t, "-m", "VSZ", "-w", "100", "-c", "100000000"],
        vec!["-C", c, "-m", "VSZ", "-c", "1:"],
        vec!["-a", t, "-m", "ELAPSED", "-w", "3600", "-c", "7200"],
        vec!["-a", t, "-m", "ELAPSED", "-w", "@0:3600"],
        vec!["-a", t, "-m", "CPU", "-w", "50", "-c", "90"],
    ];
    for args in &table {
        let a = run(&ours, args);
        let b = run(&theirs, args);
        assert_eq!(
            (a.code, count_in(a.first_line())),
            (b.code, count_in(b.first_line())),
            "{args:?}\nours:   {}theirs: {}",
            a.stdout,
            b.stdout
        );
    }
}

/// One line of a `ps axwwo 'stat uid pid ppid vsz rss pcpu etime comm args'` listing.
#[allow(clippy::too_many_arguments)]
fn ps_line(
    stat: &str,
    uid: u32,
    pid: u32,
    ppid: u32,
    vsz: u64,
    rss: u64,
    pcpu: &str,
    etime: &str,
    comm: &str,
    args: &str,
) -> String {
    format!("{stat:<6} {uid:>5} {pid:>7} {ppid:>7} {vsz:>8} {rss:>6} {pcpu:>4} {etime:>11} {comm:<15} {args}")
}

/// A listing of 95 processes made for the peer's --input-file cases: 24 with a virtual
/// size of at least 1000000 KiB (4 above 1200000), 3 with a resident set of at least
/// 100000 KiB (5 above 70000), 88 whose state has an S, 1 zombie, 39 children of pid 1,
/// 7 at 0.71% CPU or more (8 at 0.70%, 1 above 8%), 6 named svcmgr, 10 apache2 up an
/// hour, 3 of nobody (one with `usb` in its arguments), one `mdworker ... 501`.
fn listing() -> String {
    let mut l = vec![
        "STAT   UID     PID    PPID      VSZ    RSS %CPU     ELAPSED COMMAND         COMMAND"
            .to_string(),
    ];
    let mut add = |stat: &str, uid, pid, ppid, vsz, rss, pcpu: &str, comm: &str, args: &str| {
        l.push(ps_line(
            stat,
            uid,
            pid,
            ppid,
            vsz,
            rss,
            pcpu,
            "3-02:01:00",
            comm,
            args,
        ));
    };
    add(
        "Ss",
        0,
        1,
        0,
        1_300_000,
        150_000,
        "0.0",
        "init",
        "/sbin/init splash",
    );
    add("S", 0, 2, 0, 0, 0, "0.0", "kthreadd", "[kthreadd]");
    for i in 0..5 {
        let name = format!("kworker/{i}:1");
        add("I<", 0, 3 + i, 2, 0, 0, "0.0", &name, &format!("[{name}]"));
    }
    add(
        "Ss",
        1000,
        20,
        1,
        1_400_000,
        120_000,
        "9.5",
        "compositor",
        "/usr/bin/compositor --session",
    );
    add(
        "S",
        1000,
        21,
        1,
        1_250_000,
        110_000,
        "2.0",
        "browser",
        "/usr/bin/browser",
    );
    add(
        "S",
        1000,
        22,
        1,
        1_210_000,
        90_000,
        "1.0",
        "mailer",
        "/usr/bin/mailer",
    );
    add(
        "S",
        1000,
        23,
        1,
        1_100_000,
        75_000,
        "0.9",
        "editor",
        "/usr/bin/editor notes.txt",
    );
    let cpu = ["0.8", "0.8", "0.8", "0.7"];
    for i in 0..19u32 {
        let pcpu = cpu.get(i as usize).copied().unwrap_or("0.0");
        add(
            "S",
            1000,
            30 + i,
            1,
            1_000_000 + u64::from(i) * 1000,
            5000,
            pcpu,
            "worker",
            &format!("worker --slot {i}"),
        );
    }
    for i in 0..6 {
        add(
            "Ss",
            0,
            60 + i,
            1,
            50_000,
            3000,
            "0.0",
            "svcmgr",
            &format!("/usr/sbin/svcmgr -n {i}"),
        );
    }
    for i in 0..5 {
        add(
            "Ss",
            0,
            70 + i,
            1,
            20_000,
            1000,
            "0.0",
            "agent",
            "/usr/sbin/agent",
        );
    }
    for (i, args) in ["usbmuxd --user nobody", "dnsmasq -k", "ntpd -n"]
        .iter()
        .enumerate()
    {
        let comm = args.split(' ').next().unwrap();
        add(
            "S",
            65534,
            80 + i as u32,
            1,
            10_000,
            1000,
            "0.0",
            comm,
            args,
        );
    }
    add(
        "SN",
        501,
        90,
        1,
        30_000,
        2000,
        "0.0",
        "mdworker",
        "/usr/libexec/mdworker -s mdworker -u 501",
    );
    for i in 0..38 {
        add(
            "S",
            1000,
            200 + i,
            20,
            10_000,
            1000,
            "0.0",
            "helper",
            "helper --child",
        );
    }
    for i in 0..10 {
        let ppid = if i == 0 { 1 } else { 100 };
        l.push(ps_line(
            "S",
            33,
            100 + i,
            ppid,
            200_000,
            20_000,
            "0.0",
            "01:00:00",
            "apache2",
            "/usr/sbin/apache2 -k start",
        ));
    }
    l.push(ps_line(
        "Z",
        1000,
        300,
        20,
        0,
        0,
        "0.0",
        "00:10",
        "oldchild",
        "[oldchild] <defunct>",
    ));
    l.push(ps_line(
        "R+",
        1000,
        301,
        20,
        9000,
        3000,
        "0.0",
        "00:00",
        "ps",
        "ps axwwo stat,uid,pid,ppid,vsz,rss,pcpu,etime,comm,args",
    ));
    l.join("\n") + "\n"
}

/// monitoring-plugins' plugins/tests/check_procs.t: its --input-file cases, on a
/// listing of our own in the Linux ps format Debian's plugin reads, run by both.
#[test]
fn peer_cases_of_check_procs_on_a_saved_listing() {
    use hcoop_tests::parity::{case, differs};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ps.txt");
    std::fs::write(&file, listing()).unwrap();
    let input = format!("--input-file={}", file.display());
    let with = |more: &[&str]| {
        let mut v = vec![input.clone()];
        v.extend(more.iter().map(|s| s.to_string()));
        v
    };
    let c = |more: &[&str], code: i32, count: &str| {
        let args = with(more);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (d, o) = case("check_procs", &args, code);
        for out in [&d, &o] {
            assert!(
                out.stdout.contains(count),
                "{more:?}: {count:?} in {}",
                out.stdout
            );
            assert_eq!(out.labels_and_units(), [("procs", "")], "{}", out.stdout);
        }
    };
    c(&[], 0, "95 processes");
    c(&["-w", "5"], 1, "95 processes");
    c(&["-w", "4", "-c", "44"], 2, "95 processes");
    c(&["-w", "100", "-c", "200"], 0, "95 processes");
    c(
        &["-C", "svcmgr", "-c", "5"],
        2,
        "6 processes with command name 'svcmgr'",
    );
    c(
        &["-u", "nobody", "-w", "2:2"],
        1,
        "3 processes with UID = 65534 (nobody)",
    );
    c(
        &["-u", "nobody", "-w", "3:3"],
        0,
        "3 processes with UID = 65534 (nobody)",
    );
    c(
        &["-u", "nobody", "-a", "usb"],
        0,
        "1 process with UID = 65534 (nobody), args 'usb'",
    );
    c(
        &["-u", "nobody", "-a", "UsB"],
        0,
        "0 processes with UID = 65534 (nobody), args 'UsB'",
    );
    c(
        &["--ereg-argument-array=mdworker.*501"],
        0,
        "1 process with regex args 'mdworker.*501'",
    );
    c(&["--vsz", "1000000"], 0, "24 processes with VSZ >= 1000000");
    c(&["--rss", "100000"], 0, "3 processes with RSS >= 100000");
    c(&["-s", "S"], 0, "88 processes with STATE = S");
    c(&["-s", "Z"], 0, "1 process with STATE = Z");
    c(&["-p", "1", "-c", "30"], 2, "39 processes with PPID = 1");
    c(&["-P", "0.71"], 0, "7 processes with PCPU >= 0.71");
    c(&["-P", "0.70"], 0, "8 processes with PCPU >= 0.70");
    c(
        &["--ereg-argument-array=(nosuchname|nosuch2name)"],
        0,
        "0 processes with regex args",
    );
    // a metric of each process: ours adds the highest value after the peer's three items
    for (more, code, text) in [
        (
            &["-m", "ELAPSED", "-C", "apache2", "-w", "1000", "-c", "2000"][..],
            2,
            "10 crit, 0 warn out of 10 processes",
        ),
        (
            &["--metric=CPU", "-w", "8"],
            1,
            "1 warn out of 95 processes",
        ),
        (
            &["--metric=VSZ", "-w", "1200000", "-v"],
            1,
            "4 warn out of 95 processes",
        ),
        (
            &["--metric=RSS", "-c", "70000", "-v"],
            2,
            "5 crit, 0 warn out of 95 processes",
        ),
    ] {
        let args = with(more);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (d, o) = differs("check_procs", &args, code, code);
        assert!(
            d.stdout.contains(text) && o.stdout.contains(text),
            "{more:?}\n{}\n{}",
            d.stdout,
            o.stdout
        );
        let peer = [("procs", ""), ("procs_warn", ""), ("procs_crit", "")];
        assert_eq!(d.labels_and_units(), peer);
        assert_eq!(o.labels_and_units()[..3], peer, "{}", o.stdout);
    }
}

/// monitoring-plugins' plugins/t/check_procs.t on this machine's processes.
#[test]
fn peer_cases_of_check_procs_on_this_machine() {
    use hcoop_tests::parity::case;
    let labels =
        |o: &hcoop_tests::parity::Outcome| assert_eq!(o.labels_and_units(), [("procs", "")]);
    let (d, o) = case("check_procs", &["-w", "100000", "-c", "100000"], 0);
    labels(&d);
    labels(&o);
    case(
        "check_procs",
        &["-w", "100000", "-c", "100000", "-s", "Z"],
        0,
    );
    case("check_procs", &["-w", "0", "-c", "100000"], 1);
    case("check_procs", &["-w", "0", "-c", "0"], 2);
    // upstream counts on session leaders and children of init on the machine: make
    // sure there are some (a container may have neither)
    let mut leaders = Procs::new();
    leaders.session_leaders(1);
    case("check_procs", &["-w", "0", "-c", "0", "-s", "Ss"], 2);
    let new_parent = leaders.orphan().to_string();
    case(
        "check_procs",
        &["-w", "0", "-c", "100000", "-p", &new_parent],
        1,
    );
    // a sleeper of its own: found once (its parent, this test, is not counted)
    let mut p = Procs::new();
    p.sleepers(1);
    let (d, o) = case("check_procs", &["-a", &p.tag, "-c", "1:1"], 0);
    assert!(
        d.stdout.contains("1 process") && o.stdout.contains("1 process"),
        "{}\n{}",
        d.stdout,
        o.stdout
    );
}
