//! check_ldap and check_ldaps side by side with Debian's against a real slapd (see
//! `hcoop_tests::ldap`): the cases of monitoring-plugins' plugins/t/check_ldap.t, then
//! binds, filters, STARTTLS and LDAPS with the test CA. One slapd for the whole binary:
//! the cases run in one test, in turn.

use hcoop_tests::ldap::{
    Slapd, ADMIN_DN, ADMIN_PASSWORD, ALICE_DN, ALICE_PASSWORD, ENTRIES, SUFFIX,
};
use hcoop_tests::parity::{self, case, case_env, differs, Outcome};

/// The entry count both found.
fn entries(d: &Outcome, o: &Outcome) -> (String, String) {
    let count = |out: &Outcome| {
        let raw = &out
            .item("entries")
            .unwrap_or_else(|| panic!("{}", out.stdout))
            .raw;
        let v = raw
            .trim_start_matches("entries=")
            .split(';')
            .next()
            .unwrap();
        format!("{}", v.parse::<f64>().unwrap())
    };
    (count(d), count(o))
}

#[test]
fn ldap_peer_cases_against_a_real_slapd() {
    let slapd = Slapd::start();
    let port = slapd.port.to_string();
    let ldaps_port = slapd.ldaps_port.to_string();
    let ca = slapd.ca.to_str().unwrap().to_string();
    let base =
        |extra: &[&str]| parity::words(&["-H", "127.0.0.1", "-p", &port, "-b", SUFFIX], extra);
    let run = |args: &[String], code: i32| parity::case_owned("check_ldap", args, code);

    // A host that accepts the connection and never answers
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_port = silent.local_addr().unwrap().port().to_string();
    let silent_at = ["-H", "127.0.0.1", "-p", &silent_port];
    let args = parity::words(
        &silent_at,
        &["-b", "ou=blah", "-t", "2", "-w", "1", "-c", "1"],
    );
    let (d, o) = run(&args, 2);
    assert_eq!(d.stdout, "CRITICAL - Socket timeout after 2 seconds\n");
    assert_eq!(o.stdout, "LDAP CRITICAL - Socket timeout after 2 seconds\n");
    drop(silent);

    // A host name that does not resolve
    let (d, o) = case(
        "check_ldap",
        &["-H", "nosuchhost.invalid", "-b", "ou=blah", "-t", "5"],
        2,
    );
    assert_eq!(d.stdout, "Could not bind to the LDAP server\n");
    assert!(
        o.stdout
            .starts_with("LDAP CRITICAL - Could not bind to the LDAP server"),
        "{}",
        o.stdout
    );

    // The base, timed
    let (d, o) = run(&base(&["-t", "5", "-w", "2", "-c", "3", "-3"]), 0);
    for out in [&d, &o] {
        assert_eq!(out.labels_and_units(), [("time", "s")], "{}", out.stdout);
    }
    let re =
        regex::Regex::new(r"^LDAP OK - \d+\.\d+ seconds response time \| time=[0-9.]+s;2;3;0$")
            .unwrap();
    assert!(re.is_match(o.stdout.trim_end()), "{}", o.stdout);

    // Entry counts: -W/-C search the whole tree
    for (extra, code) in [
        (&["-W", "10000000", "-C", "10000001"][..], 0),
        (&["-W", "10000000:", "-C", "10000001:"], 2),
        (&["-W", "0", "-C", "0"], 2),
        (&["-W", "10000000:", "-C", "10000001"], 1),
        (&["-C", "10000001"], 0),
    ] {
        let mut args = base(&["-t", "5", "-w", "2", "-c", "3", "-3"]);
        args.extend(extra.iter().map(|s| s.to_string()));
        let (d, o) = run(&args, code);
        assert_eq!(
            o.labels_and_units(),
            [("time", "s"), ("entries", "")],
            "{}",
            o.stdout
        );
        assert_eq!(entries(&d, &o), (ENTRIES.to_string(), ENTRIES.to_string()));
        let found = format!("found {ENTRIES} entries in ");
        assert!(
            o.stdout.contains(&found) && d.stdout.contains(&found),
            "{}",
            o.stdout
        );
    }

    // More than check_ldap.t: a filter, a base that does not exist, the host and base
    // as bare words
    let (d, o) = run(&base(&["-3", "-a", "(uid=alice)", "-W", "1", "-C", "1"]), 0);
    assert_eq!(entries(&d, &o), ("1".to_string(), "1".to_string()));
    let (d, o) = run(&base(&["-3", "-b", "ou=nowhere,dc=hcoop,dc=test"]), 2);
    for out in [&d, &o] {
        assert!(
            out.stdout
                .contains("Could not search/find objectclasses in ou=nowhere"),
            "{}",
            out.stdout
        );
    }
    let bare: Vec<String> = ["127.0.0.1", SUFFIX, "-p", &port, "-3"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    run(&bare, 0);

    // Binds: the manager, a user, a wrong password, the password from LDAP_PASSWORD
    run(&base(&["-3", "-D", ADMIN_DN, "-P", ADMIN_PASSWORD]), 0);
    run(&base(&["-3", "-D", ALICE_DN, "-P", ALICE_PASSWORD]), 0);
    let (d, o) = run(&base(&["-3", "-D", ALICE_DN, "-P", "wrong"]), 2);
    assert_eq!(d.stdout, "Could not bind to the LDAP server\n");
    assert!(
        o.stdout.contains("Could not bind to the LDAP server"),
        "{}",
        o.stdout
    );
    let env = [("LDAP_PASSWORD", ALICE_PASSWORD)];
    let args: Vec<String> = base(&["-3", "-D", ALICE_DN]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    case_env("check_ldap", &args, &env, &[], &env, 0);

    // STARTTLS and LDAPS with the test CA (libldap trusts it through LDAPTLS_CACERT,
    // ours through --ca-cert), and check_ldaps, STARTTLS by default
    let tls_env = [("LDAPTLS_CACERT", ca.as_str())];
    let ours_ca = ["--ca-cert", ca.as_str()];
    let starttls: Vec<String> = base(&["-3", "-T", "-w", "2", "-c", "3"]);
    let starttls: Vec<&str> = starttls.iter().map(String::as_str).collect();
    case_env("check_ldap", &starttls, &tls_env, &ours_ca, &[], 0);
    let ldaps = [
        "-H",
        "127.0.0.1",
        "-p",
        &ldaps_port,
        "-b",
        SUFFIX,
        "-3",
        "-S",
    ];
    case_env("check_ldap", &ldaps, &tls_env, &ours_ca, &[], 0);
    let plain: Vec<String> = base(&["-3"]);
    let plain: Vec<&str> = plain.iter().map(String::as_str).collect();
    case_env("check_ldaps", &plain, &tls_env, &ours_ca, &[], 0);
    case_env("check_ldaps", &ldaps, &tls_env, &ours_ca, &[], 0);

    // A certificate neither trusts: STARTTLS fails in both
    let (d, o) = case("check_ldap", &starttls, 2);
    assert_eq!(
        d.stdout,
        format!("Could not init startTLS at port {port}!\n")
    );
    assert!(
        o.stdout
            .contains(&format!("Could not init startTLS at port {port}!")),
        "{}",
        o.stdout
    );
    let (d, o) = case("check_ldap", &ldaps, 2);
    for out in [&d, &o] {
        assert!(out.stdout.contains("Could not"), "{}", out.stdout);
    }

    // Deliberately different: without -3 Debian's binds with LDAPv2, which slapd
    // refuses; ours always binds with LDAPv3
    let v2: Vec<String> = base(&["-t", "5"]);
    let v2: Vec<&str> = v2.iter().map(String::as_str).collect();
    differs("check_ldap", &v2, 2, 0);
    let mut v2_asked = v2.clone();
    v2_asked.push("-2");
    differs("check_ldap", &v2_asked, 2, 0);
}
