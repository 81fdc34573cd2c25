//! Unit tests of check_afs's options and their dispatch to the modes (the modes'
//! evaluations are tested in their own modules).

use super::*;
use crate::plugin::runner::validate;

fn check(argv: &[&str]) -> Result<AfsCheck, UsageError> {
    validate::<AfsCheck>(argv)
}

#[test]
fn cli_is_well_formed() {
    use clap::CommandFactory;
    Args::command().debug_assert();
}

#[test]
fn bad_options_are_usage_errors() {
    for bad in [
        &["rx"][..],
        &["rx", "-H", ""],
        &["rx", "-H", "a", "-p", "0"],
        &["rx", "-H", "a", "-w", "5:1"],
        &["quota"],
        &["quota", "--volume", " "],
        &["quota", "-H", "a", "--regex", "("],
        &["quota", "-H", "a", "--partition", "/vicep1"],
        &["space", "-H", "a", "-w", "101"],
        &["bos"],
        &["nosuchmode"],
    ] {
        assert!(check(bad).is_err(), "{bad:?}");
    }
    for (argv, message) in [
        (
            &["rx", "-H", "a\nb"][..],
            "invalid host 'a\\nb': '\\n' is not allowed in a host name",
        ),
        (
            &["bos", "-H", "ok,a b"],
            "invalid host 'a b': ' ' is not allowed in a host name",
        ),
        (
            &["quota", "-H", "a", "--partition", "x\ny"],
            "partition 'x\\ny' is not a name such as a, vicepa or /vicepa",
        ),
    ] {
        assert_eq!(check(argv).unwrap_err().0, message, "{argv:?}");
    }
    let long = "a".repeat(100_000);
    for mode in ["rx", "rxstats", "ubik", "space", "bos", "quota"] {
        let e = check(&[mode, "-H", &long]).unwrap_err().0;
        assert!(
            e.len() < 300 && e.ends_with("longer than 253 characters"),
            "{mode}: {e}"
        );
    }
    let c = check(&["rx", "-H", "a,b", "-p", "7002,7003", "-t", "5"]).unwrap();
    let Config::Rx(rx) = &c.config else { panic!() };
    assert_eq!(rx.targets.len(), 4);
    assert_eq!(c.budget, Duration::from_millis(4500));
    let c = check(&["quota", "-H", "a", "--partition", "b"]).unwrap();
    let Config::Quota(q) = &c.config else {
        panic!()
    };
    assert_eq!(
        q.source,
        quota::VolumeSource::Servers(vec!["a".into()], Some("/vicepb".into()))
    );
}
