//! check_krb5 against a real MIT KDC: pre-authentication required, a keytab the KDC
//! accepts (as `kinit -k -t` does), a stale keytab, an unknown principal, a stopped KDC.

use hcoop_tests::krb5::{Kdc, REALM};
use hcoop_tests::plugin_json;

fn run(args: &[&str]) -> serde_json::Value {
    plugin_json("check_krb5", args)
}

fn summary(v: &serde_json::Value) -> &str {
    v["summary"].as_str().unwrap_or("")
}

#[test]
fn against_a_real_kdc() {
    let mut kdc = Kdc::start();
    let kt = kdc.add_principal("alice");
    let addr = kdc.addr();
    let alice = format!("alice@{REALM}");
    let kt_s = kt.to_str().unwrap();

    // alive: PREAUTH_REQUIRED over UDP and TCP
    let v = run(&["-H", &addr, "-P", &alice, "-t", "5"]);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(summary(&v), format!("1 KDC answering for {alice}"));
    assert_eq!(v["perfdata"].as_array().unwrap().len(), 2);

    // response time levels in seconds: plain numbers as before, units too
    for (w, c) in [("1.5", "3"), ("1500ms", "3s")] {
        let v = run(&[
            "-H",
            &addr,
            "-P",
            &alice,
            "--transport",
            "udp",
            "-w",
            w,
            "-c",
            c,
        ]);
        assert_eq!(v["state"], "OK", "{v}");
        let perf = &v["perfdata"][0];
        assert_eq!(perf["label"], format!("time_{addr}_udp"), "{v}");
        assert!(perf["value"].as_f64().is_some_and(|t| t < 1.5), "{v}");
        assert_eq!((&perf["warn"], &perf["crit"]), (&"1.5".into(), &"3".into()));
    }

    // the keytab's key: we and kinit agree
    assert!(kdc.kinit(&kt, "alice"));
    let v = run(&["-H", &addr, "-P", &alice, "-k", kt_s, "-t", "5"]);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(
        summary(&v),
        format!("1 KDC keytab key accepted for {alice}")
    );

    // unknown principal
    let v = run(&[
        "-H",
        &addr,
        "-P",
        &format!("nobody@{REALM}"),
        "--transport",
        "udp",
    ]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        summary(&v),
        format!("{addr} udp: principal nobody@{REALM} unknown to the KDC")
    );

    // a new random key makes the exported keytab stale: kinit and we both fail
    kdc.kadmin("cpw -randkey alice");
    assert!(!kdc.kinit(&kt, "alice"));
    let v = run(&["-H", &addr, "-P", &alice, "-k", kt_s, "--transport", "tcp"]);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(
        summary(&v),
        format!("{addr} tcp: the KDC rejects the keytab's key for {alice} (kvno 1): stale keytab?")
    );

    // a stopped KDC: no answer within the timeout, a clear CRITICAL
    kdc.stop();
    let start = std::time::Instant::now();
    let v = run(&["-H", &addr, "-P", &alice, "--transport", "udp", "-t", "2"]);
    assert!(start.elapsed().as_secs_f64() < 3.0);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(summary(&v), format!("{addr} udp: no answer within 1.8s"));
}

/// `check_krb5 ARGS` refused in JSON with the summary `message`.
fn assert_refused(args: &[&str], message: &str) {
    hcoop_tests::assert_refused_json("check_krb5", args, message);
}

#[test]
fn bad_input_is_unknown() {
    assert_refused(
        &["-H", "127.0.0.1", "-P", "alice"],
        "principal alice has no realm: give -r",
    );
    // a keytab that never ends is not read into memory whole
    let start = std::time::Instant::now();
    assert_refused(
        &["-H", "127.0.0.1", "-P", "alice@X", "-k", "/dev/zero"],
        "cannot read keytab /dev/zero: larger than 1048576 bytes",
    );
    assert!(start.elapsed().as_secs_f64() < 2.0);
}

#[test]
fn hosts_and_ports_never_echoed_raw() {
    // the rendering: the exact Nagios line
    let r = hcoop_tests::plugin("check_krb5", &["-H", "kdc\nx", "-r", REALM]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "KRB5 UNKNOWN - invalid host 'kdc\\nx': '\\n' is not allowed in a host name\n"
    );
    // a 100 KB host name was echoed in the summary, each line and the perfdata (400 KB)
    // now one line of 261 characters, the name cut at 200
    let long = "k".repeat(100_000);
    assert_refused(
        &["-H", &long, "-r", REALM],
        &format!(
            "invalid host '{}... (100000 bytes)': longer than 253 characters",
            &long[..200]
        ),
    );
    assert_refused(
        &["-H", "127.0.0.1:0", "-r", REALM],
        "bad port in '127.0.0.1:0': port 0 is out of range (1-65535)",
    );
    assert_refused(
        &["-H", "127.0.0.1", "-P", "alice\n@X"],
        "'alice\\n@X' is not a principal or realm: it holds control characters",
    );
}
