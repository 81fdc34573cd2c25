//! Real Nagios 4 end to end: it runs our plugins through the command definitions of
//! dist/nagios/, runs our NRPE agent's commands through Debian's check_nrpe, and takes
//! the passive results our daemon writes into its command file; status.dat must show
//! each state, output, long output and perfdata as the plugin printed them.

use hcoop_tests::daemon::{host as daemon_host, service, Daemon};
use hcoop_tests::hostfs::Tmpfs;
use hcoop_tests::nagios::{
    active_service, checked, dist_commands, expected, host, passive_service, shape_of, shown,
    Nagios,
};
use hcoop_tests::nrpe::{check_nrpe, Server};
use hcoop_tests::procs::Procs;
use hcoop_tests::{debian_plugin, free_port, plugin, wait_until};
use std::net::TcpListener;

/// A 4 MiB tmpfs holding a 3.5 MB file: 16% free, WARNING at 20%, OK at 5%.
fn nearly_full_tmpfs() -> Tmpfs {
    let fs = Tmpfs::mount("4m");
    std::fs::write(fs.path.join("fill"), vec![0u8; 3_500_000]).unwrap();
    fs
}

/// Waits for a service's first result; what status.dat shows of it.
fn fresh(n: &Nagios, host: &str, service: &str) -> (String, String, String, String) {
    shown(&n.wait_service(host, service, 30.0, checked))
}

#[test]
fn nagios_runs_our_plugins_from_the_dist_command_definitions() {
    let disk = nearly_full_tmpfs();
    let mut procs = Procs::new();
    procs.sleepers(2);
    let open = TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port().to_string();
    let closed_port = free_port().to_string();
    let age_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(age_file.path(), "backup").unwrap();
    let age_path = age_file.path().display().to_string();
    let disk_path = disk.path.display().to_string();
    let services = [
        (
            "load",
            "hcoop_check_load!900,900,900!1000,1000,1000".to_string(),
        ),
        ("disk", format!("hcoop_check_disk!20%!5%!{disk_path}")),
        ("tcp open", format!("hcoop_check_tcp!{open_port}")),
        ("tcp closed", format!("hcoop_check_tcp!{closed_port}")),
        (
            "procs",
            format!("hcoop_check_procs_command!2:2!1:!{}", procs.comm),
        ),
        (
            "procs warn",
            format!("hcoop_check_procs_command!1:1!1:!{}", procs.comm),
        ),
        (
            "backup age",
            format!("hcoop_check_file_age!{age_path}!3600!7200"),
        ),
    ];
    let mut objects = dist_commands();
    objects.push_str(&host("web"));
    for (name, command) in &services {
        objects.push_str(&active_service("web", name, command));
    }
    let n = Nagios::start_with(&objects);

    // deterministic results, exactly
    let closed = fresh(&n, "web", "tcp closed");
    assert_eq!(
        closed,
        (
            "2".into(),
            format!("TCP CRITICAL - connect to address 127.0.0.1 and port {closed_port}: Connection refused"),
            String::new(),
            String::new()
        )
    );
    let procs_ok = fresh(&n, "web", "procs");
    assert_eq!(
        procs_ok,
        (
            "0".into(),
            format!("PROCS OK - 2 processes with command name '{}'", procs.comm),
            String::new(),
            "procs=2;2:2;1:;0".into()
        )
    );
    assert_eq!(
        fresh(&n, "web", "procs warn"),
        (
            "1".into(),
            format!(
                "PROCS WARNING - 2 processes with command name '{}'",
                procs.comm
            ),
            String::new(),
            "procs=2;1:1;1:;0".into()
        )
    );
    let disk_shown = fresh(&n, "web", "disk");
    assert_eq!(
        disk_shown,
        (
            "1".into(),
            format!("DISK WARNING - {disk_path} 16% free (676 KiB), inodes 99% free"),
            format!("[WARNING] {disk_path} 16% free (676 KiB), inodes 99% free: 3.3 MiB of 4.0 MiB used, 0 MiB free"),
            format!("{disk_path}=3502080B;3355443;3984588;0;4194304")
        )
    );

    // every service as the same plugin prints it when run directly with the same
    // arguments: exactly where the result is fixed, numbers aside where it moves
    let direct = |name: &str, args: &[&str]| {
        let r = plugin(name, args);
        expected(r.code, &r.stdout)
    };
    let disk_args = ["-w", "20%", "-c", "5%", "-e", "-p", &disk_path];
    assert_eq!(disk_shown, direct("check_disk", &disk_args));
    let procs_args = ["-w", "2:2", "-c", "1:", "-C", &procs.comm];
    assert_eq!(procs_ok, direct("check_procs", &procs_args));
    let closed_args = ["-H", "127.0.0.1", "-p", &closed_port];
    assert_eq!(closed, direct("check_tcp", &closed_args));
    let moving: [(&str, &str, Vec<&str>); 3] = [
        (
            "load",
            "check_load",
            vec!["-w", "900,900,900", "-c", "1000,1000,1000"],
        ),
        (
            "tcp open",
            "check_tcp",
            vec!["-H", "127.0.0.1", "-p", &open_port],
        ),
        (
            "backup age",
            "check_file_age",
            vec!["-f", &age_path, "-w", "3600", "-c", "7200"],
        ),
    ];
    for (service, name, args) in &moving {
        let got = fresh(&n, "web", service);
        let want = direct(name, args);
        assert_eq!(got.0, "0", "{service}: {got:?}");
        assert_eq!(shape_of(&got), shape_of(&want), "{service}");
        assert!(!got.3.is_empty(), "{service}: no perfdata in {got:?}");
    }
    // Nagios keeps running them: a later result replaces the first
    let first = n.find_service("web", "load").unwrap()["last_check"].clone();
    n.wait_service("web", "load", 10.0, |b| b["last_check"] != first);
    drop(open);
}

#[test]
fn nagios_runs_our_nrpe_agent_through_debians_check_nrpe() {
    let disk = nearly_full_tmpfs();
    let closed = free_port();
    let dummy = debian_plugin("check_dummy").display().to_string();
    let agent = Server::agent(
        &format!(
            "allowed_hosts=127.0.0.1\n\
             command[load]=builtin:check_load -w 900 -c 1000\n\
             command[disk]=builtin:check_disk -w 20% -c 5% -p {}\n\
             command[tcp]=builtin:check_tcp -H 127.0.0.1 -p {closed}\n\
             command[careful]={dummy} 1 careful\n",
            disk.path.display()
        ),
        false,
    );
    let port = agent.port_arg();
    let check_nrpe_path = debian_plugin("check_nrpe").display().to_string();
    let mut objects = format!(
        "define command {{\n command_name debian_check_nrpe\n command_line {check_nrpe_path} -H $HOSTADDRESS$ -p {port} -c $ARG1$\n}}\n"
    );
    objects.push_str(&host("shell"));
    let commands = ["load", "disk", "tcp", "careful"];
    for c in commands {
        objects.push_str(&active_service(
            "shell",
            c,
            &format!("debian_check_nrpe!{c}"),
        ));
    }
    let n = Nagios::start_with(&objects);
    let direct = |c: &str| {
        let r = check_nrpe(&["-H", "127.0.0.1", "-p", &port, "-c", c]);
        expected(r.code, &r.stdout)
    };
    let disk_path = disk.path.display();
    let fixed = [
        (
            "disk",
            (
                "1".to_string(),
                format!("DISK WARNING - {disk_path} 16% free (676 KiB), inodes 99% free"),
                format!("[WARNING] {disk_path} 16% free (676 KiB), inodes 99% free: 3.3 MiB of 4.0 MiB used, 0 MiB free"),
                format!("{disk_path}=3502080B;3355443;3984588;0;4194304"),
            ),
        ),
        (
            "tcp",
            (
                "2".to_string(),
                format!("TCP CRITICAL - connect to address 127.0.0.1 and port {closed}: Connection refused"),
                String::new(),
                String::new(),
            ),
        ),
        (
            "careful",
            ("1".to_string(), "WARNING: careful".to_string(), String::new(), String::new()),
        ),
    ];
    for (c, want) in &fixed {
        let got = fresh(&n, "shell", c);
        assert_eq!(&got, want, "{c}");
        assert_eq!(&direct(c), want, "{c} run by hand");
    }
    let load = fresh(&n, "shell", "load");
    assert_eq!(load.0, "0", "{load:?}");
    assert!(load.1.starts_with("LOAD OK - load average: "), "{load:?}");
    assert_eq!(shape_of(&load), shape_of(&direct("load")));
    assert_eq!(
        shape_of(&load).3,
        "load1=#;#;#;# load5=#;#;#;# load15=#;#;#;#"
    );
}

/// The daemon's configuration: a host checked against a closed port (DOWN), and
/// services OK, WARNING and CRITICAL, one with long output, all forwarded to `cmd`
/// through a queue of 3 results, with `more` [forward.nagios] settings.
fn forwarding_daemon_config(
    cmd: &str,
    more: &str,
    comm: &str,
    closed: u16,
    disks: [&str; 2],
) -> String {
    let closed = closed.to_string();
    let tcp: &[&str] = &["-H", "127.0.0.1", "-p", &closed];
    let mut config = format!(
        r#"[defaults]
check_interval = "1s"
retry_interval = "1s"
max_check_attempts = 1

[forward.nagios]
command_file = "{cmd}"
retry_interval = "1s"
queue_size = 3
{more}"#
    );
    config.push_str(&daemon_host("web", Some(("check_tcp", tcp))));
    let services: [(&str, &str, &[&str]); 5] = [
        (
            "procs ok",
            "check_procs",
            &["-w", "2:2", "-c", "1:", "-C", comm],
        ),
        (
            "procs warn",
            "check_procs",
            &["-w", "1:1", "-c", "1:", "-C", comm],
        ),
        ("tcp closed", "check_tcp", tcp),
        (
            "disks",
            "check_disk",
            &["-w", "20%", "-c", "5%", "-p", disks[0], "-p", disks[1]],
        ),
        ("not in nagios", "check_procs", &["-C", comm]),
    ];
    for (name, check, args) in services {
        config.push_str(&service("web", name, check, args));
    }
    config
}

/// What the forwarding tests check: two sleepers, a closed port, an empty and a nearly
/// full tmpfs.
struct Checked {
    procs: Procs,
    closed: u16,
    empty: Tmpfs,
    full: Tmpfs,
}

impl Checked {
    fn new() -> Checked {
        let mut procs = Procs::new();
        procs.sleepers(2);
        Checked {
            procs,
            closed: free_port(),
            empty: Tmpfs::mount("10m"),
            full: nearly_full_tmpfs(),
        }
    }

    /// Nagios's objects: the host (named `name` in Nagios) and its passive services.
    fn objects(&self, name: &str) -> String {
        let mut objects = host(name);
        for s in ["procs ok", "procs warn", "tcp closed", "disks"] {
            objects.push_str(&passive_service(name, s));
        }
        objects
    }

    /// Our daemon forwarding to the command file of `n`, with `more` settings.
    fn daemon(&self, n: &Nagios, more: &str) -> Daemon {
        Daemon::start(&forwarding_daemon_config(
            n.command_file().to_str().unwrap(),
            more,
            &self.procs.comm,
            self.closed,
            [
                &self.empty.path.display().to_string(),
                &self.full.path.display().to_string(),
            ],
        ))
    }
}

#[test]
fn passive_results_from_our_daemon_appear_in_nagios() {
    let setup = Checked::new();
    let (procs, closed, empty, full) = (&setup.procs, setup.closed, &setup.empty, &setup.full);
    // the daemon starts first: Nagios is not running yet, the results wait
    let mut n = Nagios::configure(&setup.objects("web"));
    let daemon = setup.daemon(&n, "");
    daemon.wait_log(
        10.0,
        "no such command file (Nagios not running?); trying again every 1s",
    );
    // the queue fills up and further results are dropped, while the checks go on
    assert_queue_full_and_checks_go_on(&daemon, 10.0);
    assert_eq!(
        metric(&daemon, "hcoop_forward_sent_total{sink=\"nagios\"}"),
        0.0
    );
    n.start();
    let comm = &procs.comm;
    let (e, f) = (empty.path.display(), full.path.display());
    let want = [
        (
            "procs ok",
            (
                "0".to_string(),
                format!("PROCS OK - 2 processes with command name '{comm}'"),
                String::new(),
                "procs=2;2:2;1:;0".to_string(),
            ),
        ),
        (
            "procs warn",
            (
                "1".to_string(),
                format!("PROCS WARNING - 2 processes with command name '{comm}'"),
                String::new(),
                "procs=2;1:1;1:;0".to_string(),
            ),
        ),
        (
            "tcp closed",
            (
                "2".to_string(),
                format!("TCP CRITICAL - connect to address 127.0.0.1 and port {closed}: Connection refused"),
                String::new(),
                String::new(),
            ),
        ),
        (
            "disks",
            (
                "1".to_string(),
                // Nagios turns semicolons in the summary into colons
                format!("DISK WARNING - {f} 16% free (676 KiB), inodes 99% free: 1 more OK"),
                format!(
                    "[OK] {e} 100% free (10.0 MiB), inodes 99% free: 0 B of 10.0 MiB used, 10 MiB free\\n\
                     [WARNING] {f} 16% free (676 KiB), inodes 99% free: 3.3 MiB of 4.0 MiB used, 0 MiB free"
                ),
                format!("{e}=0B;8388608;9961472;0;10485760 {f}=3502080B;3355443;3984588;0;4194304"),
            ),
        ),
    ];
    for (service, expect) in &want {
        let got = shown(&n.wait_service("web", service, 30.0, checked_passive));
        assert_eq!(&got, expect, "{service}");
        // the same text the daemon shows for it
        let view = daemon.service(&format!("web/{service}"));
        let text = view["output"].as_str().unwrap();
        assert_eq!(
            &expected(expect.0.parse().unwrap(), text),
            expect,
            "{service}: {text}"
        );
    }
    // the host check's result: DOWN, as a passive host check
    let h = n.wait_host("web", 30.0, |b| checked(b) && b["current_state"] == "1");
    assert_eq!(h["check_type"], "1");
    assert_eq!(
        h["plugin_output"],
        format!(
            "TCP CRITICAL - connect to address 127.0.0.1 and port {closed}: Connection refused"
        )
    );
    // Nagios logged the result it has no service for, and took the others
    assert!(
        wait_until(10.0, || {
            n.log().contains(
            "Passive check result was received for service 'not in nagios' on host 'web', but the service could not be found!"
        )
        }),
        "{}",
        n.log()
    );
    let log = daemon.log();
    assert!(
        log.contains("forward to nagios: delivering again after"),
        "{log}"
    );
    assert!(
        log.contains("forward to nagios: queue has room again; "),
        "{log}"
    );
    assert!(metric(&daemon, "hcoop_forward_sent_total{sink=\"nagios\"}") >= 6.0);
}

/// Waits up to `secs` for the daemon's queue of results for Nagios to be full; then
/// checks go on (5 more run) and their results are dropped (counted).
fn assert_queue_full_and_checks_go_on(daemon: &Daemon, secs: f64) {
    daemon.wait_log(
        secs,
        "forward to nagios: queue full (3 results); dropping results until it takes them again",
    );
    let dropped_total = "hcoop_forward_dropped_total{sink=\"nagios\"}";
    let ran = metric(daemon, "hcoop_checks_total");
    let dropped = metric(daemon, dropped_total);
    assert!(wait_until(5.0, || metric(daemon, "hcoop_checks_total") > ran + 5.0));
    assert!(metric(daemon, dropped_total) > dropped);
}

/// One value of the daemon's Prometheus metrics (a name with its labels), 0 if absent.
fn metric(daemon: &Daemon, name: &str) -> f64 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(daemon.api()).expect("connect to the daemon");
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[test]
fn a_stopped_nagios_never_holds_up_the_checks() {
    let setup = Checked::new();
    let n = Nagios::start_with(&setup.objects("web"));
    n.shrink_command_pipe();
    n.signal(libc::SIGSTOP);
    let daemon = setup.daemon(&n, "");
    // the pipe fills, then the queue; results are dropped and counted, checks go on
    assert_queue_full_and_checks_go_on(&daemon, 20.0);
    let view = daemon.service("web/tcp closed");
    assert_eq!(view["state"], "CRITICAL", "{view}");
    // resumed, Nagios reads what waited and the newer results
    n.signal(libc::SIGCONT);
    let got = shown(&n.wait_service("web", "tcp closed", 30.0, checked_passive));
    assert_eq!(got.0, "2");
    assert!(
        wait_until(10.0, || daemon
            .log()
            .contains("forward to nagios: queue has room again; ")),
        "{}",
        daemon.log()
    );
}

#[test]
fn passive_results_go_on_across_nagios_reloads_and_restarts() {
    let setup = Checked::new();
    let mut n = Nagios::start_with(&setup.objects("web"));
    let daemon = setup.daemon(&n, "");
    // the check time of the latest passive result Nagios shows
    let last = |n: &Nagios| {
        n.find_service("web", "procs ok")
            .filter(checked_passive)
            .map_or(0, |b| b["last_check"].parse::<u64>().unwrap())
    };
    let now = || hcoop_monitor::clock::unix_now();
    assert!(wait_until(30.0, || last(&n) > 0), "{}", n.log());
    n.reload();
    let t = now();
    assert!(wait_until(30.0, || last(&n) > t + 1), "{}", n.log());
    // stopped, its command file has no reader until it runs again
    n.stop();
    let outage = |log: &str| {
        log.contains("forward to nagios: cannot write to")
            || log.contains("Nagios is not reading it (not running?); trying again every 1s")
    };
    assert!(
        wait_until(10.0, || outage(&daemon.log())),
        "{}",
        daemon.log()
    );
    n.start();
    let t = now();
    assert!(wait_until(30.0, || last(&n) > t + 1), "{}", n.log());
    assert_eq!(
        shown(&n.find_service("web", "tcp closed").unwrap()).0,
        "2",
        "{}",
        n.log()
    );
    assert!(
        daemon
            .log()
            .contains("forward to nagios: delivering again after"),
        "{}",
        daemon.log()
    );
}

#[test]
fn passive_results_under_another_host_name_and_only_the_services_asked_for() {
    let setup = Checked::new();
    let n = Nagios::start_with(&setup.objects("central"));
    let daemon = setup.daemon(&n, "host_name = \"central\"\nservices = [\"web/procs*\"]\n");
    let ok = shown(&n.wait_service("central", "procs ok", 30.0, checked_passive));
    assert_eq!(ok.0, "0", "{ok:?}");
    let warn = shown(&n.wait_service("central", "procs warn", 30.0, checked_passive));
    assert_eq!(warn.0, "1", "{warn:?}");
    // host results are always sent, under the other name too
    n.wait_host("central", 30.0, |b| {
        checked_passive(b) && b["current_state"] == "1"
    });
    // the daemon checks the other services, Nagios never hears of them
    let runs = |v: &serde_json::Value| v["checked"] == true;
    daemon.wait_service("web/tcp closed", 10.0, runs);
    daemon.wait_service("web/disks", 10.0, runs);
    std::thread::sleep(std::time::Duration::from_secs(2));
    for s in ["tcp closed", "disks"] {
        let b = n.find_service("central", s).unwrap();
        assert!(!checked(&b), "{s}: {b:#?}");
    }
    assert!(!n.log().contains("not in nagios"), "{}", n.log());
}

/// Whether a status block holds a passive result.
fn checked_passive(b: &hcoop_tests::nagios::Block) -> bool {
    checked(b) && b["check_type"] == "1"
}
