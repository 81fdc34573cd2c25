//! check_net on a veth pair in a network namespace the test creates, with traffic sent
//! through it (bounded ping), counters held against the kernel's own.

use hcoop_tests::usage::assert_one_unknown_line;
use hcoop_tests::{assert_refused_json, bin, is_root, json_of, line, plugin, require, Run};
use serde_json::Value;
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

    /// check_net on va inside the namespace, its result in JSON.
    fn check_net(&self, state: &str, extra: &[&str]) -> Value {
        let b = bin("check_net").display().to_string();
        let mut args = vec![b.as_str(), "-i", "va", "--state-dir", state];
        args.extend(extra);
        args.extend(["--output-format", "json"]);
        json_of("check_net", &args, &self.exec(&args))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        for n in [self.0.clone(), self.peer()] {
            let _ = Command::new("ip").args(["netns", "del", &n]).status();
        }
    }
}

/// The value of the perfdata item `label`.
fn perf(v: &Value, label: &str) -> u64 {
    line::perf(v, label)["value"].as_u64().unwrap()
}

#[test]
fn rates_and_counters_on_a_veth_pair() {
    let ns = Netns::new();
    require("ping", "iputils-ping");
    let state = tempfile::tempdir().unwrap();
    let s = state.path().display().to_string();

    let v = ns.check_net(&s, &["-w", "1"]);
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(
        v["summary"], "va: first run, rates from the next run",
        "{v}"
    );
    assert_eq!(v["perfdata"][0]["label"], "va_in", "{v}");

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
    let v = ns.check_net(&s, &["-w", "1", "-c", "1G"]);
    let after = ns.counters();
    assert_eq!(v["state"], "WARNING", "{v}");
    assert!(v["summary"].as_str().unwrap().starts_with("va: in "), "{v}");
    // the plugin's counters are the kernel's, and the pings went through va
    assert_eq!((perf(&v, "va_in"), perf(&v, "va_out")), after);
    assert!(after.0 - before.0 >= 40 * 1042, "{before:?} {after:?}");
    assert!(after.1 - before.1 >= 40 * 1042, "{before:?} {after:?}");
    assert!(perf(&v, "va_in_bps") > 0);

    // percent of the link speed veth reports (10 Gb/s): far below 50%
    let v = ns.check_net(&s, &["-w", "50%", "-c", "90%"]);
    assert_eq!(v["state"], "OK", "{v}");
    assert!(
        v["summary"].as_str().unwrap().contains("% of 10.0 Gb/s)"),
        "{v}"
    );

    // a replaced interface (new index): no rate until the next run
    ns.exec(&["ip", "link", "del", "va"]);
    ns.veth();
    let v = ns.check_net(&s, &["-c", "1"]);
    assert_eq!(v["state"], "OK", "{v}");
    let summary = v["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("va: ") && summary.contains("reset, rates from the next run"),
        "{v}"
    );
}

/// The one test of the Nagios text; the rest compare the JSON result, but for values the
/// command line parser refuses, answered in text before any output format is known.
#[test]
fn missing_interface_and_bad_input() {
    let state = tempfile::tempdir().unwrap();
    let s = state.path().display().to_string();
    let r = plugin("check_net", &["-i", "nosuch0", "--state-dir", &s]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout, "NET UNKNOWN - no interface nosuch0\n");
    assert_one_unknown_line(
        "check_net",
        "NET",
        &[
            (
                &["-w", "10q"][..],
                "invalid value '10q' for '--warning <RATE>': '10q': unknown rate unit 'q' (use k, M, G, T bits/s or %)",
            ),
            (
                &["-c", "9:1M"],
                "invalid value '9:1M' for '--critical <RATE>': invalid range '9:1': start is greater than end",
            ),
        ],
    );
    assert_refused_json(
        "check_net",
        &["-i", "a/b"],
        "'a/b' is not an interface name",
    );
}
