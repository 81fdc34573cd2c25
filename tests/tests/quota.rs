//! check_quota end to end.
//!
//! The kernels these tests run on are built without quota support for ext4 and XFS
//! (mounting with usrquota fails: "The kernel was not built with CONFIG_QUOTA and
//! CONFIG_QFMT_V2", "XFS: quota support not available"), so no file system here can
//! carry real quotas. What is tested for real: the quotactl path on this machine's file
//! systems, which have none (a clear UNKNOWN). The repquota path is tested with a
//! stand-in `repquota` printing a report in the layout of Debian's quota 4.06
//! (`repquota -p -u -g`), and the arguments it is given are checked.

use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{assert_refused_json, plugin, plugin_json};
use serde_json::json;
use std::os::unix::fs::PermissionsExt;

const REPORT: &str = "\
*** Report for user quotas on device /dev/vdz9
Block grace time: 7days; Inode grace time: 7days
                        Block limits                File limits
User            used    soft    hard  grace    used  soft  hard  grace
----------------------------------------------------------------------
root      --      20       0       0      0       2     0     0      0
alice     +-     150     100     200 4102444800       1    10    20      0
bob       +-     120     100     200 1000000000       3    10    20      0
carol     --     190       0     200      0       3     0     0      0

*** Report for group quotas on device /dev/vdz9
Block grace time: 7days; Inode grace time: 7days
                        Block limits                File limits
Group           used    soft    hard  grace    used  soft  hard  grace
----------------------------------------------------------------------
root      --      20       0       0      0       2     0     0      0
";

/// A stand-in repquota that records its arguments and prints `REPORT`.
fn fake_repquota(dir: &std::path::Path) -> String {
    let report = dir.join("report.txt");
    std::fs::write(&report, REPORT).unwrap();
    let script = dir.join("repquota");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$@\" > {}/args\ncat {}\n",
            dir.display(),
            report.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script.display().to_string()
}

#[test]
fn file_systems_without_quotas_are_unknown() {
    for (argv, message) in [
        (&[][..], "no file system has quotas turned on"),
        (&["-p", "/"], "/ has no user or group quotas"),
        (
            &["-p", "/nonexistent-mount", "--type", "user"],
            "/nonexistent-mount is not a mount point",
        ),
    ] {
        assert_refused_json("check_quota", argv, message);
    }
}

/// The one test of the Nagios text (the first run); the rest compare the JSON result.
#[test]
fn repquota_report_names_the_offenders() {
    let d = tempfile::tempdir().unwrap();
    let rq = fake_repquota(d.path());
    let r = plugin("check_quota", &["--method", "repquota", "--repquota", &rq]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert_eq!(
        std::fs::read_to_string(d.path().join("args")).unwrap(),
        "-p -u -g -a\n"
    );
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "QUOTA CRITICAL - 3 over quota: user bob on /dev/vdz9: blocks over soft limit (120/100, grace expired); user carol on /dev/vdz9: blocks 95% of hard limit 200; user alice on /dev/vdz9: blocks over soft limit (150/100, grace 13149d left) | '/dev/vdz9 user ids'=4;;;0 '/dev/vdz9 user over soft'=2;;;0 '/dev/vdz9 user grace expired'=1;;;0 '/dev/vdz9 user near hard'=1;;;0 '/dev/vdz9 group ids'=1;;;0 '/dev/vdz9 group over soft'=0;;;0 '/dev/vdz9 group grace expired'=0;;;0 '/dev/vdz9 group near hard'=0;;;0"
            .replace("13149d", &alice_days())
    );
    assert_eq!(lines.len(), 4, "{}", r.stdout);

    let v = plugin_json(
        "check_quota",
        &[
            "--method",
            "repquota",
            "--repquota",
            &rq,
            "--type",
            "user",
            "-p",
            "/home",
            "-c",
            "100",
        ],
    );
    assert_eq!(
        std::fs::read_to_string(d.path().join("args")).unwrap(),
        "-p -u /home\n"
    );
    // the unreadable mount is UNKNOWN, but the measured CRITICAL outranks it
    assert_eq!(v["state"], "CRITICAL", "{v}");
    let details = v["details"].as_array().unwrap();
    assert_eq!(
        details.last(),
        Some(&json!({"state": "UNKNOWN", "text": "/home has no user quotas"})),
        "{v}"
    );
}

/// Days from now until alice's grace ends (2100-01-01).
fn alice_days() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!("{}d", (4_102_444_800 - now) / 86_400)
}

/// Values the command line parser refuses: one UNKNOWN line, before any output format
/// is known.
#[test]
fn bad_input_is_one_line_and_exit_3() {
    assert_one_unknown_line(
        "check_quota",
        "QUOTA",
        &[
            (
                &["-w", "5:1"][..],
                "invalid value '5:1' for '--warning <PERCENT>': invalid range '5:1': start is greater than end",
            ),
            (
                &["--method", "magic"],
                "invalid value 'magic' for '--method <METHOD>'",
            ),
            (
                &["-c", "200"],
                "invalid value '200' for '--critical <PERCENT>': invalid threshold '200': a percentage must be from 0 to 100",
            ),
            (
                &["-w", "é"],
                "invalid value 'é' for '--warning <PERCENT>': invalid threshold 'é': 'é' is not allowed (use ASCII digits)",
            ),
        ],
    );
    assert_refused_json(
        "check_quota",
        &["-p", "home"],
        "'home' is not an absolute mount point",
    );
}
