//! check_mailq against a real Exim queue.

use hcoop_tests::exim::Exim;
use hcoop_tests::{plugin, plugin_json};

fn args<'a>(e: &'a [String], more: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&str> = e.iter().map(String::as_str).collect();
    v.extend(more);
    v
}

#[test]
fn counts_a_real_exim_queue() {
    let exim = Exim::new();
    let base = vec![
        "--exim".to_string(),
        exim.binary().display().to_string(),
        "--exim-config".to_string(),
        exim.config().display().to_string(),
    ];
    let r = plugin("check_mailq", &args(&base, &["-w", "2", "-c", "4"]));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "MAILQ OK - mail queue is empty | unsent=0;2;4;0 oldest=0s;;;0 frozen=0;;;0 largest_domain=0;;;0\n"
    );

    exim.submit(
        "alice@main.test",
        &["bob@remote.example", "carol@other.example"],
        false,
    );
    exim.submit("alice@main.test", &["dave@remote.example"], true);
    let frozen = exim.submit("<>", &["eve@remote.example"], false);
    exim.freeze(&frozen);

    let r = plugin(
        "check_mailq",
        &args(&base, &["-w", "2", "-c", "4", "-W", "2"]),
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert_eq!(
        r.stdout,
        "MAILQ WARNING - 3 messages in queue, oldest 0s, 1 frozen | unsent=3;2;4;0 oldest=0s;;;0 frozen=1;;;0 largest_domain=3;2;;0\n[WARNING] remote.example: 3 messages\n[OK] other.example: 1 message\n"
    );
    let v = plugin_json("check_mailq", &args(&base, &["-c", "2"]));
    assert_eq!(v["state"], "CRITICAL");
    assert_eq!(v["perfdata"][0]["value"], 3);
}

#[test]
fn unreadable_queue_is_unknown() {
    let r = plugin("check_mailq", &["--exim", "/nonexistent/exim"]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "MAILQ UNKNOWN - cannot run /nonexistent/exim: No such file or directory (os error 2)\n"
    );
    let r = plugin("check_mailq", &["--exim", "false"]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout, "MAILQ UNKNOWN - false failed: no output\n");
}

#[test]
fn bad_input_is_one_line_and_exit_3() {
    for (argv, needle) in [
        (
            &["-w", "5:1"][..],
            "invalid range '5:1': start is greater than end",
        ),
        (&["-M", "qmail"][..], "invalid value 'qmail'"),
        (&["--domains", "x"][..], "invalid value 'x'"),
    ] {
        let r = plugin("check_mailq", argv);
        assert_eq!(r.code, 3, "{argv:?}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        assert!(r.stdout.starts_with("MAILQ UNKNOWN - "), "{}", r.stdout);
        assert!(r.stdout.contains(needle), "{argv:?}: {}", r.stdout);
    }
}
