//! Unit tests of check_afs's options and evaluation (no network).

use super::*;
use crate::plugin::output::render_text;
use crate::plugin::runner::parse_args;
use std::net::Ipv4Addr;
use ubik::DbVersion;

fn check(argv: &[&str]) -> Result<AfsCheck, UsageError> {
    let args =
        parse_args::<AfsCheck>(std::iter::once("check_afs").chain(argv.iter().copied()))?.unwrap();
    AfsCheck::new(args)
}

fn probe<T>(host: &str, port: u16, outcome: Result<(T, Duration), String>) -> Probe<T> {
    Probe {
        host: host.into(),
        port,
        addr: Some(SocketAddr::new(host.parse().unwrap(), port)),
        outcome,
    }
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
    let c = check(&["rx", "-H", "a,b", "-p", "7002,7003", "-t", "5"]).unwrap();
    let Config::Rx { targets, .. } = &c.config else {
        panic!()
    };
    assert_eq!(targets.len(), 4);
    assert_eq!(c.budget, Duration::from_millis(4500));
    let c = check(&["quota", "-H", "a", "--partition", "b"]).unwrap();
    let Config::Quota { source, .. } = &c.config else {
        panic!()
    };
    assert_eq!(
        source,
        &VolumeSource::Servers(vec!["a".into()], Some("/vicepb".into()))
    );
}

#[test]
fn rx_versions_and_times() {
    let t = Thresholds::new(Some("0.5".parse().unwrap()), Some("1".parse().unwrap()));
    let facts = vec![
        probe(
            "10.77.0.1",
            7003,
            Ok(("OpenAFS 1.8.9".to_string(), Duration::from_millis(2))),
        ),
        probe(
            "10.77.0.1",
            7002,
            Ok(("OpenAFS 1.8.9".to_string(), Duration::from_millis(700))),
        ),
    ];
    let r = evaluate_rx(&facts, &t);
    assert_eq!(
        render_text("AFS", &r),
        "AFS WARNING - 10.77.0.1:7002 OpenAFS 1.8.9 in 0.700s | time_10.77.0.1_7003=0.002s;0.5;1;0 time_10.77.0.1_7002=0.7s;0.5;1;0\n[OK] 10.77.0.1:7003 OpenAFS 1.8.9 in 0.002s\n[WARNING] 10.77.0.1:7002 OpenAFS 1.8.9 in 0.700s\n"
    );
    let r = evaluate_rx(&facts[..1], &t);
    assert_eq!(r.summary, "1 of 1 server answered: OpenAFS 1.8.9");
    let silent = vec![probe::<String>(
        "10.77.0.2",
        7003,
        Err("no answer within 4.5s".into()),
    )];
    let r = evaluate_rx(&silent, &t);
    assert_eq!(r.state(), State::Critical);
    assert_eq!(r.summary, "10.77.0.2:7003: no answer within 4.5s");
}

#[test]
fn rxstats_thresholds_on_waiting_calls() {
    let t = Thresholds::new(Some("5".parse().unwrap()), Some("10".parse().unwrap()));
    let stats = |waiting| rx::DebugStats {
        waiting,
        idle_threads: 4,
        ..Default::default()
    };
    let r = evaluate_rxstats(
        &[probe("10.77.0.1", 7000, Ok((stats(0), Duration::ZERO)))],
        &t,
    );
    assert_eq!(
        render_text("AFS", &r),
        "AFS OK - 0 calls waiting for a thread, 4 threads idle | waiting_10.77.0.1_7000=0;5;10;0 idle_10.77.0.1_7000=4;;;0\n[OK] 10.77.0.1:7000 0 calls waiting for a thread, 4 threads idle\n"
    );
    let r = evaluate_rxstats(
        &[probe("10.77.0.1", 7000, Ok((stats(11), Duration::ZERO)))],
        &t,
    );
    assert_eq!(r.state(), State::Critical);
}

fn ubik_state(sync: [u8; 4], am: bool, version: u32, recovery: u32) -> UbikDebug {
    UbikDebug {
        sync_host: Ipv4Addr::from(sync),
        am_sync_site: am,
        n_servers: 3,
        local_version: DbVersion {
            epoch: 1795548706,
            counter: version,
        },
        recovery_state: recovery,
        ..Default::default()
    }
}

#[test]
fn ubik_quorum_agreement_and_versions() {
    let ok = |d| Ok((d, Duration::from_millis(1)));
    let s1 = [10, 77, 0, 1];
    let healthy = vec![
        probe("10.77.0.1", 7003, ok(ubik_state(s1, true, 3, 0x1f))),
        probe("10.77.0.2", 7003, ok(ubik_state(s1, false, 3, 0))),
    ];
    let r = evaluate_ubik(&healthy);
    assert_eq!(r.state(), State::Ok);
    assert_eq!(
        r.summary,
        "sync site 10.77.0.1 with quorum, 2 of 2 servers answering, database version 1795548706.3"
    );
    assert_eq!(
        r.details[0].text,
        "10.77.0.1:7003 is the sync site (3 servers), recovery state 0x1f, database version 1795548706.3"
    );
    assert_eq!(
        r.details[1].text,
        "10.77.0.2:7003 sync site 10.77.0.1, database version 1795548706.3"
    );

    let mut behind = healthy.clone();
    behind[1] = probe("10.77.0.2", 7003, ok(ubik_state(s1, false, 2, 0)));
    let r = evaluate_ubik(&behind);
    assert_eq!(r.state(), State::Warning);
    assert_eq!(
        r.summary,
        "10.77.0.2:7003 sync site 10.77.0.1, database version 1795548706.2 (sync site has 1795548706.3)"
    );

    let mut disagree = healthy.clone();
    disagree[1] = probe(
        "10.77.0.2",
        7003,
        ok(ubik_state([10, 77, 0, 3], false, 3, 0)),
    );
    assert_eq!(evaluate_ubik(&disagree).state(), State::Critical);

    let mut recovering = healthy.clone();
    recovering[0] = probe("10.77.0.1", 7003, ok(ubik_state(s1, true, 3, 0x17)));
    let r = evaluate_ubik(&recovering);
    assert_eq!(r.state(), State::Warning);
    assert!(
        r.summary.contains("recovery state 0x17 (not recovered)"),
        "{}",
        r.summary
    );

    let mut one_down = healthy.clone();
    one_down[1] = probe("10.77.0.2", 7003, Err("no answer within 1.0s".into()));
    let r = evaluate_ubik(&one_down);
    assert_eq!(r.state(), State::Warning);
    assert_eq!(r.summary, "10.77.0.2:7003: no answer within 1.0s");

    let lost = vec![
        probe("10.77.0.1", 7003, ok(ubik_state([0; 4], false, 3, 0))),
        probe("10.77.0.2", 7003, Err("no answer within 1.0s".into())),
        probe("10.77.0.3", 7003, Err("no answer within 1.0s".into())),
    ];
    let r = evaluate_ubik(&lost);
    assert_eq!(r.state(), State::Critical);
    assert_eq!(
        r.summary,
        "no sync site, no quorum (1 of 3 servers answering)"
    );
    assert_eq!(
        r.details[0].text,
        "10.77.0.1:7003 no sync site, database version 1795548706.3"
    );

    let two = vec![
        probe("10.77.0.1", 7003, ok(ubik_state(s1, true, 3, 0x1f))),
        probe("10.77.0.2", 7003, ok(ubik_state(s1, true, 3, 0x1f))),
    ];
    assert_eq!(evaluate_ubik(&two).state(), State::Critical);
}

fn vol(name: &str, used: u64, quota: u64) -> Volume {
    Volume {
        name: name.into(),
        server: "10.77.0.1".into(),
        partition: "/vicepa".into(),
        kind: "RW".into(),
        status: "OK".into(),
        used_kb: used,
        quota_kb: quota,
    }
}

#[test]
fn quota_levels_and_the_fullest() {
    let t = percent_levels(85.0, 95.0).unwrap();
    let vols = Ok(vec![vol("user.alice", 2, 100), vol("user.bob", 45, 50)]);
    let r = evaluate_quota(&vols, None, &t);
    assert_eq!(
        render_text("AFS", &r),
        "AFS WARNING - user.bob 90.0% of quota (45.0 KiB of 50.0 KiB) | user.alice=2KB;85;95;0;100 user.bob=45KB;42.5;47.5;0;50\n[WARNING] user.bob 90.0% of quota (45.0 KiB of 50.0 KiB)\n"
    );
    let re = Regex::new("alice").unwrap();
    let r = evaluate_quota(&vols, Some(&re), &t);
    assert_eq!(
        r.summary,
        "1 volume under quota, fullest user.alice 2.0% of quota (2.0 KiB of 100 KiB)"
    );
    let over = Ok(vec![vol("user.bob", 2, 2)]);
    assert_eq!(evaluate_quota(&over, None, &t).state(), State::Critical);
    let none = Ok(vec![]);
    assert_eq!(evaluate_quota(&none, None, &t).state(), State::Unknown);
    let missing = Err(ToolError::Missing("vos not found".into()));
    assert_eq!(evaluate_quota(&missing, None, &t).state(), State::Unknown);
}

#[test]
fn space_per_partition() {
    let t = percent_levels(90.0, 95.0).unwrap();
    let facts = vec![(
        "10.77.0.1".to_string(),
        Ok(vec![Partition {
            name: "/vicepa".into(),
            free_kb: 25,
            total_kb: 100,
        }]),
    )];
    assert_eq!(
        render_text("AFS", &evaluate_space(&facts, &t)),
        "AFS OK - 1 partition below the levels | 10.77.0.1:/vicepa=75%;90;95;0;100\n[OK] 10.77.0.1 /vicepa 75.0% used (75.0 KiB of 100 KiB)\n"
    );
    let failed = vec![(
        "10.77.0.2".to_string(),
        Err(ToolError::Failed(
            "vos: Could not fetch the list of partitions".into(),
        )),
    )];
    assert_eq!(evaluate_space(&failed, &t).state(), State::Critical);
}

#[test]
fn bos_instances() {
    let text = include_str!("testdata/bos-status-long.txt");
    let facts = vec![("10.77.0.1".to_string(), Ok(tools::parse_bos_status(text)))];
    let r = evaluate_bos(&facts);
    assert_eq!(r.state(), State::Warning);
    assert_eq!(
        r.summary,
        "10.77.0.1: Bosserver reports inappropriate access on server directories"
    );
    let clean = text.replace(
        "Bosserver reports inappropriate access on server directories\n",
        "",
    );
    let facts = vec![("10.77.0.1".to_string(), Ok(tools::parse_bos_status(&clean)))];
    assert_eq!(
        render_text("AFS", &evaluate_bos(&facts)),
        "AFS OK - 3 instances running normally\n[OK] 10.77.0.1 vlserver currently running normally\n[OK] 10.77.0.1 ptserver currently running normally\n[OK] 10.77.0.1 fs currently running normally (file server running)\n"
    );
    let core = "Instance fs, (type is fs) has core file, currently running normally.\n";
    let facts = vec![("h".to_string(), Ok(tools::parse_bos_status(core)))];
    assert_eq!(evaluate_bos(&facts).state(), State::Warning);
    let down = "Instance fs, (type is fs) temporarily disabled, currently shutdown.\n";
    let facts = vec![("h".to_string(), Ok(tools::parse_bos_status(down)))];
    let r = evaluate_bos(&facts);
    assert_eq!(r.state(), State::Critical);
    assert_eq!(r.summary, "h fs temporarily disabled, currently shutdown");
}
