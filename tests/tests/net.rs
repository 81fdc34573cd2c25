//! check_net on a veth pair in a network namespace the test creates, with traffic sent
//! through it (bounded ping), counters held against the kernel's own.

use hcoop_tests::{bin, is_root, require, Run};
use std::process::Command;

/// Two network namespaces joined by a veth pair: va (10.89.0.1) in the first, vb
/// (10.89.0.2) in the second, so traffic between them crosses va. Deleted on drop. IPv6
/// is off inside so that no other traffic moves the counters.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        assert!(is_root(), "network namespaces need root");
        require("ip", "iproute2");
        let ns = Netns(format!("hcoopnet{}", std::process::id()));
        for n in [ns.0.clone(), ns.peer()] {
            let _ = Command::new("ip")
                .args(["netns", "del", &n])
                .stderr(std::process::Stdio::null())
                .status();
            ns.ip(&["netns", "add", &n]);
            ns.run_in(&n, &["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
            ns.run_in(
                &n,
                &["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"],
            );
        }
        ns.veth();
        ns
    }

    fn ip(&self, args: &[&str]) {
        let st = Command::new("ip").args(args).status().expect("run ip");
        assert!(st.success(), "ip {args:?} failed");
    }

    fn peer(&self) -> String {
        format!("{}b", self.0)
    }

    fn run_in(&self, ns: &str, args: &[&str]) -> Run {
        let mut all = vec!["netns", "exec", ns];
        all.extend(args);
        Command::new("ip")
            .args(&all)
            .output()
            .expect("run ip netns exec")
            .into()
    }

    fn exec(&self, args: &[&str]) -> Run {
        self.run_in(&self.0, args)
    }

    fn veth(&self) {
        let peer = self.peer();
        for cmd in [
            "ip link add va type veth peer name vb".to_string(),
            format!("ip link set vb netns {peer}"),
            "ip addr add 10.89.0.1/24 dev va".to_string(),
            "ip link set va up".to_string(),
        ] {
            let r = self.exec(&cmd.split(' ').collect::<Vec<_>>());
            assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        }
        for cmd in ["ip addr add 10.89.0.2/24 dev vb", "ip link set vb up"] {
            let r = self.run_in(&peer, &cmd.split(' ').collect::<Vec<_>>());
            assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        }
    }

    /// va's (rx bytes, tx bytes) as the kernel counts them now.
    fn counters(&self) -> (u64, u64) {
        let r = self.exec(&["cat", "/proc/net/dev"]);
        let line = r
            .stdout
            .lines()
            .find(|l| l.trim_start().starts_with("va:"))
            .unwrap();
        let f: Vec<u64> = line
            .split_once(':')
            .unwrap()
            .1
            .split_whitespace()
            .map(|x| x.parse().unwrap())
            .collect();
        (f[0], f[8])
    }

    fn check_net(&self, state: &str, extra: &[&str]) -> Run {
        let b = bin("check_net").display().to_string();
        let mut args = vec![b.as_str(), "-i", "va", "--state-dir", state];
        args.extend(extra);
        self.exec(&args)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for n in [self.0.clone(), self.peer()] {
            let _ = Command::new("ip").args(["netns", "del", &n]).status();
        }
    }
}

fn perf(out: &str, label: &str) -> u64 {
    let item = out
        .split_whitespace()
        .find(|i| i.starts_with(&format!("{label}=")))
        .unwrap_or_else(|| panic!("no {label} in {out}"));
    item[label.len() + 1..]
        .split(';')
        .next()
        .unwrap()
        .trim_end_matches('c')
        .parse()
        .unwrap()
}

#[test]
fn rates_and_counters_on_a_veth_pair() {
    let ns = Netns::new();
    require("ping", "iputils-ping");
    let state = tempfile::tempdir().unwrap();
    let s = state.path().display().to_string();

    let r = ns.check_net(&s, &["-w", "1"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout
            .starts_with("NET OK - va: first run, rates from the next run | va_in="),
        "{}",
        r.stdout
    );

    let before = ns.counters();
    let p = ns.exec(&[
        "ping",
        "-q",
        "-c",
        "40",
        "-i",
        "0.005",
        "-s",
        "1000",
        "10.89.0.2",
    ]);
    assert_eq!(p.code, 0, "ping: {}{}", p.stdout, p.stderr);
    let r = ns.check_net(&s, &["-w", "1", "-c", "1G"]);
    let after = ns.counters();
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.starts_with("NET WARNING - va: in "),
        "{}",
        r.stdout
    );
    // the plugin's counters are the kernel's, and the pings went through va
    assert_eq!((perf(&r.stdout, "va_in"), perf(&r.stdout, "va_out")), after);
    assert!(after.0 - before.0 >= 40 * 1042, "{before:?} {after:?}");
    assert!(after.1 - before.1 >= 40 * 1042, "{before:?} {after:?}");
    assert!(perf(&r.stdout, "va_in_bps") > 0);

    // percent of the link speed veth reports (10 Gb/s): far below 50%
    let r = ns.check_net(&s, &["-w", "50%", "-c", "90%"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("% of 10.0 Gb/s)"), "{}", r.stdout);

    // a replaced interface (new index): no rate until the next run
    ns.exec(&["ip", "link", "del", "va"]);
    ns.veth();
    let r = ns.check_net(&s, &["-c", "1"]);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.starts_with("NET OK - va: "), "{}", r.stdout);
    assert!(
        r.stdout.contains("reset, rates from the next run"),
        "{}",
        r.stdout
    );
}

#[test]
fn missing_interface_and_bad_input() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path().display().to_string();
    let r = hcoop_tests::plugin("check_net", &["-i", "nosuch0", "--state-dir", &s]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout, "NET UNKNOWN - no interface nosuch0\n");
    for (argv, needle) in [
        (&["-w", "10q"][..], "unknown rate unit 'q'"),
        (&["-c", "9:1M"][..], "invalid range '9:1'"),
        (&["-i", "a/b"][..], "'a/b' is not an interface name"),
    ] {
        let r = hcoop_tests::plugin("check_net", argv);
        assert_eq!(r.code, 3, "{argv:?}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        assert!(r.stdout.starts_with("NET UNKNOWN - "), "{}", r.stdout);
        assert!(r.stdout.contains(needle), "{argv:?}: {}", r.stdout);
    }
}
