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

#[test]
fn bad_input_is_unknown() {
    let r = hcoop_tests::plugin("check_krb5", &["-H", "127.0.0.1", "-P", "alice"]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "KRB5 UNKNOWN - principal alice has no realm: give -r\n"
    );
    // a keytab that never ends is not read into memory whole
    let start = std::time::Instant::now();
    let r = hcoop_tests::plugin(
        "check_krb5",
        &["-H", "127.0.0.1", "-P", "alice@X", "-k", "/dev/zero"],
    );
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "KRB5 UNKNOWN - cannot read keytab /dev/zero: larger than 1048576 bytes\n"
    );
    assert!(start.elapsed().as_secs_f64() < 2.0);
}

#[test]
fn hosts_and_ports_never_echoed_raw() {
    let r = hcoop_tests::plugin("check_krb5", &["-H", "kdc\nx", "-r", REALM]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "KRB5 UNKNOWN - invalid host 'kdc\\nx': '\\n' is not allowed in a host name\n"
    );
    // a 100 KB host name was echoed in the summary, each line and the perfdata (400 KB)
    let long = "k".repeat(100_000);
    let r = hcoop_tests::plugin("check_krb5", &["-H", &long, "-r", REALM]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.len() < 400, "{} bytes", r.stdout.len());
    assert!(
        r.stdout.ends_with("longer than 253 characters\n"),
        "{}",
        r.stdout
    );
    let r = hcoop_tests::plugin("check_krb5", &["-H", "127.0.0.1:0", "-r", REALM]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "KRB5 UNKNOWN - bad port in '127.0.0.1:0': port 0 is out of range (1-65535)\n"
    );
    let r = hcoop_tests::plugin("check_krb5", &["-H", "127.0.0.1", "-P", "alice\n@X"]);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stdout,
        "KRB5 UNKNOWN - 'alice\\n@X' is not a principal or realm: it holds control characters\n"
    );
}
