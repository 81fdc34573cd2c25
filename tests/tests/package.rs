//! The Debian package: built by dist/build-deb.sh (or the one it built, when newer than
//! the sources), installed with dpkg on this machine, a plugin run from its installed
//! path, the man pages found, the installed configuration validated, the daemon started
//! as the installed unit starts it and its status API read, the unit verified by
//! systemd-analyze, then removed and purged with every file gone.

use hcoop_plugins::checks::BUILTINS;
use hcoop_tests::dist::package::{self, PACKAGE};
use hcoop_tests::dist::PLUGIN_DIR;
use hcoop_tests::{is_root, require, run, wait_until, Guard};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The installed unit file.
fn unit_path() -> PathBuf {
    package::files()
        .into_iter()
        .find(|p| p.ends_with("systemd/system/hcoop-monitor.service"))
        .expect("the package installs hcoop-monitor.service")
}

#[test]
fn the_package_installs_runs_and_purges() {
    assert!(is_root(), "installing the package needs root");
    require("dpkg", "dpkg");
    let deb = package::deb();
    package::purge();

    let r = package::dpkg(&["-i", deb.to_str().unwrap()]);
    assert_eq!(
        r.code,
        0,
        "dpkg -i {}:\n{}{}",
        deb.display(),
        r.stdout,
        r.stderr
    );
    assert!(package::installed());

    let installed = package::files();
    check_files(&installed);
    run_installed_plugin();
    find_man_pages();
    icinga2_includes_the_installed_commands();
    let unit = unit_path();
    verify_unit(&unit);
    run_installed_daemon(&unit);

    // removed: the programs go, the configuration stays until purge
    let r = package::dpkg(&["-r", PACKAGE]);
    assert_eq!(r.code, 0, "dpkg -r:\n{}{}", r.stdout, r.stderr);
    assert!(!package::installed());
    for f in &installed {
        let conffile = f.starts_with("/etc");
        assert_eq!(f.exists(), conffile, "{} after dpkg -r", f.display());
    }
    let r = package::dpkg(&["--purge", PACKAGE]);
    assert_eq!(r.code, 0, "dpkg --purge:\n{}{}", r.stdout, r.stderr);
    for f in &installed {
        assert!(!f.exists(), "{} is left after purge", f.display());
    }
    for dir in ["/etc/hcoop-monitor", "/var/lib/hcoop-monitor", PLUGIN_DIR] {
        assert!(!Path::new(dir).exists(), "{dir} is left after purge");
    }
    assert!(!package::known(), "dpkg still knows {PACKAGE}");
}

/// Every check binary, the daemon, its configuration, the command definitions, man
/// pages and completions are where the package says.
fn check_files(installed: &[PathBuf]) {
    let mut expected: Vec<String> = vec![
        "/usr/bin/hcoop-monitor".into(),
        "/etc/hcoop-monitor/daemon.toml".into(),
        "/etc/hcoop-monitor/localhost.toml".into(),
        "/etc/nagios-plugins/config/hcoop-monitor.cfg".into(),
        "/usr/share/icinga2/include/plugins-contrib.d/hcoop-monitor.conf".into(),
        "/usr/share/man/man1/hcoop-monitor.1.gz".into(),
        "/usr/share/man/man1/hcoop-monitor-run.1.gz".into(),
        "/usr/share/bash-completion/completions/hcoop-monitor".into(),
        "/usr/share/zsh/vendor-completions/_hcoop-monitor".into(),
        "/usr/share/fish/vendor_completions.d/hcoop-monitor.fish".into(),
        "/usr/share/doc/hcoop-monitor/examples/agent.toml".into(),
        "/usr/share/doc/hcoop-monitor/examples/nagios-hcoop-servers.cfg".into(),
    ];
    for b in BUILTINS {
        expected.push(format!("{PLUGIN_DIR}/{}", b.name));
        expected.push(format!("/usr/share/man/man1/{}.1.gz", b.name));
        expected.push(format!("/usr/share/bash-completion/completions/{}", b.name));
    }
    for f in &expected {
        assert!(
            installed.iter().any(|p| p == Path::new(f)),
            "the package does not install {f}"
        );
    }
    let plugins = installed
        .iter()
        .filter(|p| p.starts_with(PLUGIN_DIR))
        .count();
    assert_eq!(
        plugins,
        BUILTINS.len(),
        "one binary per check in {PLUGIN_DIR}"
    );
    let conffiles = std::fs::read_to_string(format!("/var/lib/dpkg/info/{PACKAGE}.conffiles"))
        .expect("the package has conffiles");
    for c in [
        "/etc/hcoop-monitor/daemon.toml",
        "/etc/hcoop-monitor/localhost.toml",
        "/etc/nagios-plugins/config/hcoop-monitor.cfg",
    ] {
        assert!(conffiles.lines().any(|l| l == c), "{c} is not a conffile");
    }
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert!(
        passwd.lines().any(|l| l.starts_with("hcoop-monitor:")),
        "postinst creates the hcoop-monitor user"
    );
    assert!(Path::new("/var/lib/hcoop-monitor/state").is_dir());
}

/// check_load from the installed path: OK with its perfdata, and a bad range is one
/// UNKNOWN line with exit 3.
fn run_installed_plugin() {
    let check_load = Path::new(PLUGIN_DIR).join("check_load");
    let r = run(
        &check_load,
        &["-w", "1000,1000,1000", "-c", "2000,2000,2000"],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let shape = regex::Regex::new(
        r"^LOAD OK - load average: [0-9.]+, [0-9.]+, [0-9.]+ \| load1=[0-9.]+;1000;2000;0 load5=[0-9.]+;1000;2000;0 load15=[0-9.]+;1000;2000;0\n$",
    )
    .unwrap();
    assert!(shape.is_match(&r.stdout), "{:?}", r.stdout);
    assert_eq!(r.stderr, "");
    let r = run(&check_load, &["-w", "5:2"]);
    assert_eq!(r.code, 3, "{}", r.stdout);
    assert!(r.stdout.starts_with("LOAD UNKNOWN - "), "{}", r.stdout);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
}

/// The Icinga 2 commands installed into the ITL's plugins-contrib.d are loaded by a
/// plain `include <plugins-contrib>`.
fn icinga2_includes_the_installed_commands() {
    let r = hcoop_tests::dist::icinga2::validate(
        "const PluginContribDir = PluginDir\nconst ManubulonPluginDir = PluginDir\n\
         include <itl>\ninclude <plugins>\ninclude <plugins-contrib>\n\
         object Host \"h\" {\n\tcheck_command = \"hcoop-load\"\n\taddress = \"127.0.0.1\"\n}\n\
         object Service \"dns serial\" {\n\thost_name = \"h\"\n\tcheck_command = \"hcoop-dns-serial\"\n}\n",
    );
    assert_eq!(
        r.code, 0,
        "icinga2 with the installed commands:\n{}{}",
        r.stdout, r.stderr
    );
}

/// `man -w` finds the installed pages.
fn find_man_pages() {
    let man = require("man", "man-db");
    for page in ["hcoop-monitor", "check_load", "check_dns_serial"] {
        let r = run(&man, &["-w", page]);
        assert_eq!(r.code, 0, "man -w {page}: {}", r.stderr);
        assert_eq!(r.stdout.trim(), format!("/usr/share/man/man1/{page}.1.gz"));
    }
}

/// systemd-analyze verify accepts the installed unit without a warning about it (the
/// units it pulls in, such as other packages' services, may have warnings of their own).
fn verify_unit(unit: &Path) {
    let analyze = require("systemd-analyze", "systemd");
    let r = run(
        &analyze,
        &["verify", "--recursive-errors=no", unit.to_str().unwrap()],
    );
    assert_eq!(
        r.code, 0,
        "systemd-analyze verify:\n{}{}",
        r.stdout, r.stderr
    );
    let output = format!("{}{}", r.stdout, r.stderr);
    let ours: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("hcoop-monitor"))
        .collect();
    assert!(ours.is_empty(), "systemd-analyze verify warns:\n{output}");
}

/// The installed configuration validates; the daemon started with the unit's
/// ExecStart serves the installed checks on its status API, and saves its state when
/// stopped.
fn run_installed_daemon(unit: &Path) {
    let daemon = Path::new("/usr/bin/hcoop-monitor");
    let r = run(daemon, &["-c", "/etc/hcoop-monitor", "validate"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.stdout, "configuration OK: 1 hosts, 7 services\n");

    let text = std::fs::read_to_string(unit).unwrap();
    let argv = package::exec_start(&text);
    assert_eq!(argv[0], "/usr/bin/hcoop-monitor", "{argv:?}");
    let log = tempfile::NamedTempFile::new().unwrap();
    let guard = Guard::spawn(
        Command::new(&argv[0])
            .args(&argv[1..])
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap()),
    );
    let api = "127.0.0.1:9667";
    let services = || hcoop_monitor::client::request(api, "GET", "/api/services", None).ok();
    let log_text = || std::fs::read_to_string(log.path()).unwrap_or_default();
    // the first checks are spread over the check interval (one minute in the default
    // configuration), so within it every service has run once: wait for two results
    let started = wait_until(70.0, || {
        services().is_some_and(|v| {
            v.as_array()
                .is_some_and(|a| a.iter().filter(|s| s["checked"] == true).count() >= 2)
        })
    });
    let views = services().unwrap_or_default();
    assert!(started, "{views}\n{}", log_text());
    let views = views.as_array().unwrap();
    let mut names: Vec<String> = views
        .iter()
        .filter(|s| s["host"] != "hcoop-monitor")
        .map(|s| {
            format!(
                "{}/{}",
                s["host"].as_str().unwrap(),
                s["service"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "localhost/disk",
            "localhost/load",
            "localhost/member processes",
            "localhost/memory",
            "localhost/processes",
            "localhost/swap",
            "localhost/zombies",
        ]
    );
    let label =
        regex::Regex::new(r"^(LOAD|MEM|SWAP|DISK|PROCS) (OK|WARNING|CRITICAL|UNKNOWN) - ").unwrap();
    for s in views
        .iter()
        .filter(|s| s["checked"] == true && s["host"] != "hcoop-monitor")
    {
        let output = s["output"].as_str().unwrap();
        assert!(label.is_match(output), "{s}");
    }
    // its own retention check is OK: it can write its state directory
    let own = views
        .iter()
        .find(|s| s["host"] == "hcoop-monitor" && s["service"] == "retention");
    assert!(
        own.is_some_and(|s| s["state"] == "OK"),
        "{own:?}\n{}",
        log_text()
    );
    // it left root for its own user, keeping only what check_procs needs
    let status = std::fs::read_to_string(format!("/proc/{}/status", guard.pid())).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string()
    };
    let (uid, _) = hcoop_monitor::auth::user_ids("hcoop-monitor").expect("the package's user");
    assert_eq!(field("Uid:"), uid.to_string(), "{status}");
    // CAP_SYS_PTRACE (19) only
    assert_eq!(field("CapEff:"), "0000000000080000", "{status}");
    // root's CLI reaches it through the control socket
    let r = run(daemon, &["-c", "/etc/hcoop-monitor", "status"]);
    assert!(
        r.stdout.lines().any(|l| l.starts_with("localhost/load")),
        "{}{}",
        r.stdout,
        r.stderr
    );
    // SIGTERM, as systemctl stop sends it: a clean exit with the state saved
    let mut guard = guard;
    // SAFETY: signalling the daemon this test started.
    unsafe { libc::kill(guard.pid() as i32, libc::SIGTERM) };
    let mut status = None;
    wait_until(10.0, || {
        status = guard.0.try_wait().expect("wait for the daemon");
        status.is_some()
    });
    let status = status.unwrap_or_else(|| panic!("the daemon ignores SIGTERM:\n{}", log_text()));
    assert!(status.success(), "{status}:\n{}", log_text());
    assert!(
        Path::new("/var/lib/hcoop-monitor/state.json").is_file(),
        "no state saved:\n{}",
        log_text()
    );
}
