//! check_icmp and check_ping against Debian's, on loopback and in network namespaces the
//! test creates: a client namespace joined by veth pairs to a server namespace (the
//! kernel answers echo; nftables drops every request to a silent address and exactly 2 of
//! every 10 to a lossy one) and to a namespace whose kernel echo is off, where a responder
//! of this test answers echo requests 250 ms late. As root (Debian's and ours side by
//! side, through `parity`) and as nobody (ours, over unprivileged ICMP sockets).
//!
//! The peer's cases are those of plugins/t/check_ping.t and plugins-root/t/check_icmp.t
//! (v2.3.3); their "nonresponsive host" is the silent address, their -t 15 waits are
//! shortened (the verdict is the same, 100% loss, CRITICAL).

use hcoop_tests::parity::{self, Outcome};
use hcoop_tests::{bin, is_root, require, Run};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The responder's delay.
const DELAY: Duration = Duration::from_millis(250);

/// Three namespaces: the client (10.91.0.1, fd91::1; 10.91.1.1), the server (10.91.0.2
/// answering, .4 silent, .5/.6/.7 lossy, fd91::2), and the slow one (10.91.1.2, kernel
/// echo off). 10.91.0.3 and fd91::3 are on the link but nobody has them. Deleted on drop.
struct Lab {
    base: String,
}

const LOSSY: [&str; 3] = ["10.91.0.5", "10.91.0.6", "10.91.0.7"];

impl Lab {
    fn new() -> Lab {
        assert!(is_root(), "network namespaces need root");
        require("ip", "iproute2");
        require("nft", "nftables");
        require("setpriv", "util-linux");
        let lab = Lab {
            base: format!("hcicmp{}", std::process::id()),
        };
        for n in [lab.client(), lab.server(), lab.slow()] {
            let _ = Command::new("ip")
                .args(["netns", "del", &n])
                .stderr(std::process::Stdio::null())
                .status();
            lab.sh(None, &format!("ip netns add {n}"));
            lab.sh(Some(&n), "ip link set lo up");
            // no duplicate address detection: addresses are usable at once
            lab.sh(Some(&n), "sysctl -qw net.ipv6.conf.all.accept_dad=0");
            lab.sh(Some(&n), "sysctl -qw net.ipv6.conf.default.accept_dad=0");
        }
        let (c, s, d) = (lab.client(), lab.server(), lab.slow());
        lab.sh(
            Some(&c),
            &format!("ip link add c0 type veth peer name s0 netns {s}"),
        );
        lab.sh(
            Some(&c),
            &format!("ip link add c1 type veth peer name d1 netns {d}"),
        );
        let setup: [(&str, &[&str]); 3] = [
            (
                &c,
                &[
                    "ip addr add 10.91.0.1/24 dev c0",
                    "ip addr add fd91::1/64 dev c0 nodad",
                    "ip link set c0 up",
                    "ip addr add 10.91.1.1/24 dev c1",
                    "ip link set c1 up",
                ],
            ),
            (
                &s,
                &[
                    "ip addr add 10.91.0.2/24 dev s0",
                    "ip addr add 10.91.0.4/24 dev s0",
                    "ip addr add 10.91.0.5/24 dev s0",
                    "ip addr add 10.91.0.6/24 dev s0",
                    "ip addr add 10.91.0.7/24 dev s0",
                    "ip addr add fd91::2/64 dev s0 nodad",
                    "ip link set s0 up",
                ],
            ),
            (
                &d,
                &[
                    "ip addr add 10.91.1.2/24 dev d1",
                    "ip link set d1 up",
                    "sysctl -qw net.ipv4.icmp_echo_ignore_all=1",
                ],
            ),
        ];
        for (ns, cmds) in setup {
            for cmd in cmds {
                lab.sh(Some(ns), cmd);
            }
        }
        // each lossy address has its own counter: any 10 requests in a row lose exactly 2
        let mut rules = String::from(
            "table inet hcoop {\n chain input {\n  type filter hook input priority 0; policy accept;\n  ip daddr 10.91.0.4 drop\n",
        );
        for a in LOSSY {
            rules.push_str(&format!(
                "  ip daddr {a} icmp type echo-request numgen inc mod 10 < 2 drop\n"
            ));
        }
        rules.push_str(" }\n}\n");
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), rules).unwrap();
        lab.sh(Some(&s), &format!("nft -f {}", f.path().display()));
        // the first requests would otherwise wait for neighbour discovery
        for addr in ["10.91.0.2", "fd91::2"] {
            let r = lab.in_client(move || run_plain("ping", &["-c1", "-W3", addr]));
            assert_eq!(r.code, 0, "the server namespace answers: {}", r.stdout);
        }
        lab
    }

    fn client(&self) -> String {
        format!("{}c", self.base)
    }
    fn server(&self) -> String {
        format!("{}s", self.base)
    }
    fn slow(&self) -> String {
        format!("{}d", self.base)
    }

    /// Runs a command line (words split on spaces) in namespace `ns` (None: here).
    fn sh(&self, ns: Option<&str>, cmd: &str) {
        let mut words: Vec<&str> = Vec::new();
        if let Some(ns) = ns {
            words.extend(["netns", "exec", ns]);
        }
        words.extend(cmd.split(' '));
        let (prog, args) = if ns.is_some() {
            ("ip", &words[..])
        } else {
            (words[0], &words[1..])
        };
        let o = Command::new(prog).args(args).output().expect("run ip");
        assert!(
            o.status.success(),
            "{cmd} in {ns:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    }

    /// Runs `f` on a thread inside namespace `ns`: the programs it starts run there.
    fn in_ns<T: Send + 'static>(&self, ns: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{ns}");
        std::thread::spawn(move || {
            enter(&path);
            f()
        })
        .join()
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
    }

    fn in_client<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        self.in_ns(&self.client(), f)
    }

    /// Runs the jobs at once, each on a thread inside the client namespace; a job's
    /// panic fails the test once all have ended.
    fn together(&self, jobs: Vec<Box<dyn FnOnce() + Send>>) {
        let path = format!("/run/netns/{}", self.client());
        let threads: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let path = path.clone();
                std::thread::spawn(move || {
                    enter(&path);
                    job()
                })
            })
            .collect();
        let mut failed = None;
        for t in threads {
            if let Err(p) = t.join() {
                failed.get_or_insert(p);
            }
        }
        if let Some(p) = failed {
            std::panic::resume_unwind(p);
        }
    }

    /// Sets the client namespace's net.ipv4.ping_group_range.
    fn ping_groups(&self, range: &str) {
        let o = Command::new("ip")
            .args(["netns", "exec", &self.client(), "sysctl", "-qw"])
            .arg(format!("net.ipv4.ping_group_range={range}"))
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for n in [self.client(), self.server(), self.slow()] {
            let _ = Command::new("ip").args(["netns", "del", &n]).status();
        }
    }
}

/// Moves the calling thread into the network namespace at `path`.
fn enter(path: &str) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    // SAFETY: setns on an open namespace file, for this thread only.
    let r = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(r, 0, "setns {path}: {}", std::io::Error::last_os_error());
}

fn run_plain(program: &str, args: &[&str]) -> Run {
    Command::new(program)
        .args(args)
        .env("LC_ALL", "C")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"))
        .into()
}

/// Our plugin run as nobody:nogroup with no capabilities.
fn ours_as_nobody(plugin: &str, args: &[&str]) -> Run {
    let b = bin(plugin);
    let mut all = vec![
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        b.to_str().unwrap(),
    ];
    all.extend_from_slice(args);
    run_plain("setpriv", &all)
}

/// The value of perfdata item `label` of an outcome, as a number.
fn value(o: &Outcome, label: &str) -> f64 {
    let p = o
        .item(label)
        .unwrap_or_else(|| panic!("no {label} in {}", o.stdout));
    let v = p.raw.split_once('=').unwrap().1.split(';').next().unwrap();
    v.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%')
        .parse()
        .unwrap_or_else(|_| panic!("{label} in {}", o.stdout))
}

fn perf_of(stdout: &str, label: &str) -> f64 {
    let o = Outcome {
        code: 0,
        stdout: stdout.to_string(),
        perf: parity::perfdata(stdout),
    };
    value(&o, label)
}

fn assert_like(text: &str, pattern: &str) {
    let re = regex::Regex::new(pattern).unwrap();
    assert!(re.is_match(text), "{pattern:?} does not match {text:?}");
}

/// The peer tests' output patterns.
const PING_SUCCESS: &str = r"PING (ok|OK) - Packet loss = +[0-9]{1,2}%, +RTA = [.0-9]+ ms";
const PING_FAILURE: &str = r"Packet loss = +[0-9]{1,2}%, +RTA = [.0-9]+ ms";
const ICMP_SUCCESS: &str = r"OK - .*?: rta (?:[\d.]+ms)|(?:nan), lost \d+%";
const ICMP_FAILURE: &str = r"(WARNING|CRITICAL) - .*?: rta [\d.]+ms, lost \d%";

/// check_ping's command line to `host`: the levels `warn` and `crit` (round trip in
/// ms, loss in %) and `packets` requests.
fn ping_args<'a>(host: &'a str, warn: &'a str, crit: &'a str, packets: &'a str) -> Vec<&'a str> {
    vec!["-H", host, "-w", warn, "-c", crit, "-p", packets]
}

/// check_ping.t's cases on a responsive host (loopback), and its usage errors.
#[test]
fn check_ping_peer_cases_on_loopback() {
    for (args, code, pattern) in [
        (
            ping_args("localhost", "10,100%", "10,100%", "1"),
            0,
            PING_SUCCESS,
        ),
        (
            ping_args("localhost", "0,0%", "10,100%", "1"),
            1,
            PING_FAILURE,
        ),
        (ping_args("localhost", "0,0%", "0,0%", "1"), 2, PING_FAILURE),
        (
            vec!["localhost", "100", "100", "1000", "1000", "-p", "1"],
            0,
            PING_SUCCESS,
        ),
        (
            vec!["localhost", "0", "0", "0", "0", "-p", "1"],
            2,
            PING_FAILURE,
        ),
        (
            ping_args("127.0.0.1", "100,20%", "500,60%", "2"),
            0,
            PING_SUCCESS,
        ),
        (ping_args("::1", "100,20%", "500,60%", "2"), 0, PING_SUCCESS),
    ] {
        let (d, o) = parity::case("check_ping", &args, code);
        assert_like(&d.stdout, pattern);
        assert_like(&o.stdout, pattern);
        assert_eq!(
            o.labels_and_units(),
            [("rta", "ms"), ("pl", "%")],
            "{}",
            o.stdout
        );
    }
    let (_, o) = parity::case(
        "check_ping",
        &[
            "nosuchhost.invalid",
            "0",
            "0",
            "0",
            "0",
            "-p",
            "1",
            "-t",
            "1",
        ],
        3,
    );
    assert_like(&o.stdout, "(?i)invalid hostname");
    let (_, o) = parity::case("check_ping", &["-w", "100,10%", "-c", "200,20%"], 3);
    assert_like(&o.stdout, "You must specify a server address or host name");
    // ours sends the requests itself: no ping(8) run, and --help says so
    let help = parity::ours("check_ping", &["--help"]);
    assert!(
        help.stdout.contains("ping(8) is not run"),
        "{}",
        help.stdout
    );
}

/// check_icmp.t's cases on a responsive host (loopback), IPv4 and IPv6.
#[test]
fn check_icmp_peer_cases_on_loopback() {
    let wide = ["-w", "10000ms,100%", "-c", "10000ms,100%"];
    for (args, code, pattern) in [
        (vec!["-H", "localhost"], 0, ICMP_SUCCESS),
        (
            vec!["-H", "localhost", "-w", "0ms,0%", "-c", "10000ms,100%"],
            1,
            ICMP_FAILURE,
        ),
        (
            vec!["-H", "localhost", "-w", "0,0%", "-c", "0,0%"],
            2,
            ICMP_FAILURE,
        ),
        (
            [
                &["-H", "localhost", "-s", "127.0.15.15", "-n", "1", "-m", "2"][..],
                &wide,
            ]
            .concat(),
            0,
            ICMP_SUCCESS,
        ),
        (vec!["-H", "localhost", "-b", "65507"], 0, ICMP_SUCCESS),
        (vec!["-H", "127.0.0.1"], 0, ICMP_SUCCESS),
        (vec!["-H", "::1"], 0, ICMP_SUCCESS),
        (
            vec!["-H", "127.0.0.1", "-H", "127.0.0.2", "-n", "3"],
            0,
            ICMP_SUCCESS,
        ),
    ] {
        let (d, o) = parity::case("check_icmp", &args, code);
        assert_like(&d.stdout, pattern);
        assert_like(&o.stdout, pattern);
    }
    let (_, o) = parity::case("check_icmp", &["-H", "127.0.0.1"], 0);
    assert_eq!(
        o.labels_and_units(),
        [("rta", "ms"), ("pl", "%"), ("rtmax", "ms"), ("rtmin", "ms")]
    );
    let (_, o) = parity::case("check_icmp", &["-H", "127.0.0.1", "-H", "127.0.0.2"], 0);
    assert_eq!(o.perf[0].label, "127.0.0.1rta");
    assert_eq!(o.perf[7].label, "127.0.0.2rtmin");
    let (_, o) = parity::case("check_icmp", &wide, 3);
    assert!(o.stdout.contains("No hosts to check"), "{}", o.stdout);
    // ours mixes IPv4 and IPv6 hosts; Debian's refuses the second family
    let (_, o) = parity::differs("check_icmp", &["-H", "127.0.0.1", "-H", "::1"], 3, 0);
    assert!(o.stdout.contains(":: ::1: rta "), "{}", o.stdout);
}

/// check_icmp.t's nonresponsive-host cases, against the silent address.
#[test]
fn check_icmp_silent_hosts_are_critical_unless_enough_others_answer() {
    let lab = Lab::new();
    const WIDE: [&str; 4] = ["-w", "10000ms,100%", "-c", "10000ms,100%"];
    const TWO: [&str; 8] = ["-H", "10.91.0.2", "-H", "10.91.0.4", "-n", "1", "-t", "2"];
    lab.together(vec![
        Box::new(|| {
            let args = [&["-H", "10.91.0.4", "-t", "2"][..], &WIDE].concat();
            let (_, o) = parity::case("check_icmp", &args, 2);
            assert!(
                o.stdout.contains("10.91.0.4: rta nan, lost 100%"),
                "{}",
                o.stdout
            );
        }),
        Box::new(|| {
            let args = [
                &["-H", "10.91.0.4", "-n", "1", "-m", "0", "-t", "2"][..],
                &WIDE,
            ]
            .concat();
            let (_, o) = parity::case("check_icmp", &args, 0);
            assert_like(&o.stdout, ICMP_SUCCESS);
        }),
        Box::new(|| {
            let (_, o) = parity::case("check_icmp", &[&TWO[..], &WIDE, &["-m", "1"]].concat(), 0);
            assert_like(&o.stdout, ICMP_SUCCESS);
        }),
        Box::new(|| {
            let (_, o) = parity::case("check_icmp", &[&TWO[..], &WIDE, &["-m", "2"]].concat(), 2);
            assert_like(&o.stdout, ICMP_FAILURE);
        }),
    ]);
}

/// check_host (Debian's: check_icmp's host-check mode): OK at the first reply, with the
/// peer's perfdata (pkt and rta, no unit); every address of a name is tried (localhost:
/// 127.0.0.1 and ::1); a silent host beside an answering one does not hold the run up;
/// a silent host alone is CRITICAL.
#[test]
fn check_host_is_ok_at_the_first_reply() {
    const ALIVE: &str = r"^ICMP OK - (127\.0\.0\.1|localhost|10\.91\.0\.2) responds to ICMP\. Packet 1, rta \d+\.\d{3}ms \| pkt=1;;;0;5 rta=\d+(\.\d+)?;1000;1000\n$";
    for host in ["127.0.0.1", "localhost"] {
        let (d, o) = parity::case("check_host", &["-H", host], 0);
        assert!(
            d.stdout
                .starts_with(&format!("OK - {host} responds to ICMP. Packet 1")),
            "{}",
            d.stdout
        );
        assert_like(&o.stdout, ALIVE);
        assert_eq!(o.labels_and_units(), [("pkt", ""), ("rta", "")]);
    }
    let lab = Lab::new();
    lab.together(vec![
        Box::new(|| {
            let args = ["-H", "10.91.0.4", "-H", "10.91.0.2", "-t", "5"];
            let started = Instant::now();
            let (_, o) = parity::case("check_host", &args, 0);
            assert_like(&o.stdout, ALIVE);
            assert!(o.stdout.contains("10.91.0.2 responds"), "{}", o.stdout);
            // both runs (Debian's first) ended at the first reply, long before -t
            assert!(started.elapsed() < Duration::from_secs(4), "{:?}", started.elapsed());
        }),
        Box::new(|| {
            let (_, o) = parity::case("check_host", &["-H", "10.91.0.4", "-t", "2"], 2);
            assert!(
                o.stdout
                    .starts_with("ICMP CRITICAL - 10.91.0.4: rta nan, lost 100% | rta=0ms;1000;1000;0 pl=100%;100;100"),
                "{}",
                o.stdout
            );
        }),
    ]);
}

/// A neighbour that never answers: the kernel's host unreachable, named with who said
/// it, and 100% loss.
#[test]
fn check_icmp_unreachable_hosts_are_named_critical() {
    let lab = Lab::new();
    let jobs = [
        (
            "10.91.0.3",
            "10.91.0.3: Host unreachable @ 10.91.0.1. rta nan, lost 100%",
        ),
        (
            "fd91::3",
            "fd91::3: Host unreachable @ fd91::1. rta nan, lost 100%",
        ),
    ]
    .map(|(host, says)| -> Box<dyn FnOnce() + Send> {
        Box::new(move || {
            let (_, o) = parity::case("check_icmp", &["-H", host], 2);
            assert!(o.stdout.contains(says), "-H {host}: {}", o.stdout);
        })
    });
    lab.together(jobs.into());
}

/// check_ping.t's nonresponsive-host cases (100% loss, CRITICAL) and an unreachable
/// host (CRITICAL `Host Unreachable`).
#[test]
fn check_ping_silent_and_unreachable_hosts_are_critical() {
    let lab = Lab::new();
    let mut jobs: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    // the levels both peers' silent-host cases give
    let silent = |host: &'static str, timeout: &'static str| {
        [
            ping_args(host, "10,100%", "10,100%", "1"),
            vec!["-t", timeout],
        ]
        .concat()
    };
    for (args, rta) in [
        (silent("10.91.0.4", "1"), "rta=U;10;10"),
        (silent("10.91.0.4", "2"), "rta=U;10;10"),
        (
            vec![
                "10.91.0.4",
                "-p",
                "1",
                "-t",
                "2",
                "100",
                "100",
                "1000",
                "10000",
            ],
            "rta=U;1000;10000",
        ),
    ] {
        jobs.push(Box::new(move || {
            // the same code and items: no round trip, so rta is undetermined (U)
            let (d, o) = parity::case("check_ping", &args, 2);
            assert!(
                d.stdout.contains("100%") && d.stdout.contains("rta=U;"),
                "{}",
                d.stdout
            );
            assert_eq!(
                o.stdout,
                format!("PING CRITICAL - Packet loss = 100% | {rta} pl=100%;100;100;0\n")
            );
        }));
    }
    jobs.push(Box::new(|| {
        let args = ping_args("10.91.0.3", "100,20%", "500,60%", "1");
        let (_, o) = parity::case("check_ping", &args, 2);
        assert!(
            o.stdout
                .starts_with("PING CRITICAL - Host Unreachable (10.91.0.3)"),
            "{}",
            o.stdout
        );
    }));
    let several = silent("10.91.0.4,10.91.0.3", "2");
    jobs.push(Box::new(move || {
        // several hosts, none answering: Debian's reports the first one alive (it ran
        // ping, and only an error message would have stopped it); ours is CRITICAL
        let (d, o) = parity::differs("check_ping", &several, 0, 2);
        assert_eq!(d.stdout, "10.91.0.4 is alive\n");
        assert!(
            o.stdout.starts_with("PING CRITICAL - Packet loss = 100%"),
            "{}",
            o.stdout
        );
    }));
    lab.together(jobs);
}

/// Exactly 2 of every 10 requests to a lossy address are dropped: 20% loss, WARNING
/// between the levels, for both peers and ours. (The two cases run at once, each on an
/// address of its own, so that each sees its own counter.)
#[test]
fn a_known_share_of_lost_requests_is_reported_exactly() {
    let lab = Lab::new();
    lab.together(vec![
        Box::new(|| {
            let (d, o) = parity::case(
                "check_icmp",
                &["-H", LOSSY[0], "-n", "20", "-w", "20,10%", "-c", "50,30%"],
                1,
            );
            assert_eq!(value(&d, "pl"), 20.0, "{}", d.stdout);
            assert_eq!(value(&o, "pl"), 20.0, "{}", o.stdout);
            assert!(
                o.stdout
                    .starts_with(&format!("ICMP WARNING - {}: rta ", LOSSY[0])),
                "{}",
                o.stdout
            );
        }),
        Box::new(|| {
            let (_, o) = parity::case(
                "check_ping",
                &[
                    "-H", LOSSY[1], "-p", "10", "-w", "1000,10%", "-c", "1000,30%",
                ],
                1,
            );
            // ping(8) counts in its own way (it may stop sending early): Debian's loss
            // is in the WARNING band, which the exit code above holds
            assert_eq!(value(&o, "pl"), 20.0, "{}", o.stdout);
            assert!(
                o.stdout
                    .starts_with("PING WARNING - Packet loss = 20%, RTA = "),
                "{}",
                o.stdout
            );
        }),
    ]);
}

/// A responder in the slow namespace (kernel echo off) answers each echo request after
/// [`DELAY`]: the round-trip average is at least that, and the levels judge it.
#[test]
fn a_late_responder_is_timed_and_judged() {
    let lab = Lab::new();
    let stop = Arc::new(AtomicBool::new(false));
    let (ready, listening) = std::sync::mpsc::channel();
    let responder = {
        let stop = stop.clone();
        let path = format!("/run/netns/{}", lab.slow());
        std::thread::spawn(move || {
            enter(&path);
            respond_late(&stop, ready)
        })
    };
    listening
        .recv_timeout(Duration::from_secs(10))
        .expect("the responder listens");
    let delay_ms = DELAY.as_secs_f64() * 1e3;
    lab.in_client(move || {
        for (levels, code) in [
            (["-w", "100,50%", "-c", "1000,80%"], 1),
            (["-w", "100,50%", "-c", "200,80%"], 2),
        ] {
            let (d, o) = parity::case(
                "check_icmp",
                &[&["-H", "10.91.1.2", "-n", "3"][..], &levels].concat(),
                code,
            );
            for x in [&d, &o] {
                assert!(value(x, "rta") >= delay_ms, "{}", x.stdout);
                assert!(value(x, "rtmin") >= delay_ms, "{}", x.stdout);
                assert_eq!(value(x, "pl"), 0.0, "{}", x.stdout);
            }
        }
        let (d, o) = parity::case(
            "check_ping",
            &[
                "-H",
                "10.91.1.2",
                "-p",
                "2",
                "-w",
                "100,50%",
                "-c",
                "1000,80%",
            ],
            1,
        );
        for x in [&d, &o] {
            assert!(value(x, "rta") >= delay_ms, "{}", x.stdout);
        }
    });
    stop.store(true, Ordering::Relaxed);
    let answered = responder.join().unwrap();
    // 2 × 3 requests of each check_icmp, 2 of each check_ping
    assert!(answered >= 16, "the responder answered {answered} requests");
}

/// Answers ICMP echo requests arriving in this thread's namespace after [`DELAY`], until
/// `stop` (or 60 s); returns how many it answered.
fn respond_late(stop: &AtomicBool, ready: std::sync::mpsc::Sender<()>) -> usize {
    // SAFETY: a raw ICMP socket, owned at once.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_ICMP) };
    assert!(fd >= 0, "raw socket: {}", std::io::Error::last_os_error());
    // SAFETY: fd is a fresh descriptor.
    let sock = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    let socket = std::net::UdpSocket::from(sock);
    let raw = socket.as_raw_fd();
    ready.send(()).unwrap();
    let mut due: Vec<(Instant, Ipv4Addr, Vec<u8>)> = Vec::new();
    let mut answered = 0;
    let end = Instant::now() + Duration::from_secs(60);
    let mut buf = [0u8; 65_536];
    while !stop.load(Ordering::Relaxed) && Instant::now() < end {
        let now = Instant::now();
        let (ready, waiting): (Vec<_>, Vec<_>) = due.drain(..).partition(|(t, _, _)| *t <= now);
        due = waiting;
        for (_, to, reply) in ready {
            let dest = socket2_addr(to);
            // SAFETY: sends an owned buffer to a sockaddr_in.
            let n = unsafe {
                libc::sendto(
                    raw,
                    reply.as_ptr().cast(),
                    reply.len(),
                    0,
                    (&dest as *const libc::sockaddr_in).cast(),
                    std::mem::size_of::<libc::sockaddr_in>() as u32,
                )
            };
            assert!(n > 0, "sendto: {}", std::io::Error::last_os_error());
            answered += 1;
        }
        let wait = due
            .iter()
            .map(|(t, _, _)| t.saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::from_millis(20))
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        socket.set_read_timeout(Some(wait)).unwrap();
        let Ok((n, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        let std::net::SocketAddr::V4(from) = from else {
            continue;
        };
        let packet = &buf[..n];
        let ihl = usize::from(packet[0] & 0x0f) * 4;
        let Some(icmp) = packet.get(ihl..) else {
            continue;
        };
        if icmp.len() < 8 || icmp[0] != 8 {
            continue;
        }
        let mut reply = icmp.to_vec();
        reply[0] = 0;
        reply[2] = 0;
        reply[3] = 0;
        let sum = checksum(&reply);
        reply[2..4].copy_from_slice(&sum.to_be_bytes());
        due.push((Instant::now() + DELAY, *from.ip(), reply));
    }
    answered
}

fn socket2_addr(ip: Ipv4Addr) -> libc::sockaddr_in {
    let a = SocketAddrV4::new(ip, 0);
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.ip().octets()),
        },
        sin_zero: [0; 8],
    }
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// As nobody, with no capability: where ping_group_range holds nogroup, ours pings over
/// unprivileged ICMP sockets, IPv4 and IPv6, on the namespace's loopback and across the
/// veth, with the kernel's errors and exact loss; where it does not, ours says why.
#[test]
fn an_unprivileged_user_pings_where_the_kernel_allows_it() {
    let lab = Lab::new();
    lab.ping_groups("65534 65534");
    lab.in_client(|| {
        for host in ["127.0.0.1", "::1", "10.91.0.2", "fd91::2"] {
            let r = ours_as_nobody("check_icmp", &["-H", host]);
            assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
            assert!(
                r.stdout.starts_with(&format!("ICMP OK - {host}: rta ")),
                "{}",
                r.stdout
            );
            assert_eq!(perf_of(&r.stdout, "pl"), 0.0);
            let r = ours_as_nobody("check_ping", &ping_args(host, "100,20%", "500,60%", "2"));
            assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
            assert_like(&r.stdout, PING_SUCCESS);
        }
        let r = ours_as_nobody("check_icmp", &["-H", "10.91.0.2", "-v"]);
        assert!(
            r.stdout.contains(
                "\n10.91.0.2 (10.91.0.2): 5 sent, 5 received, over an unprivileged ICMP socket\n"
            ),
            "{}",
            r.stdout
        );
        // the kernel's host unreachable comes through the socket's error queue
        let r = ours_as_nobody("check_icmp", &["-H", "10.91.0.3"]);
        assert_eq!(r.code, 2, "{}", r.stdout);
        assert!(
            r.stdout
                .contains("10.91.0.3: Host unreachable @ 10.91.0.1. rta nan, lost 100%"),
            "{}",
            r.stdout
        );
        let r = ours_as_nobody(
            "check_icmp",
            &["-H", LOSSY[2], "-n", "20", "-w", "20,10%", "-c", "50,30%"],
        );
        assert_eq!(r.code, 1, "{}", r.stdout);
        assert_eq!(perf_of(&r.stdout, "pl"), 20.0, "{}", r.stdout);
    });
    lab.ping_groups("1 0");
    lab.in_client(|| {
        let r = ours_as_nobody("check_icmp", &["-H", "127.0.0.1"]);
        assert_eq!(r.code, 3, "{}", r.stdout);
        assert!(
            r.stdout.starts_with("ICMP UNKNOWN - cannot open an ICMP socket: unprivileged ICMP is not allowed for this user"),
            "{}",
            r.stdout
        );
        assert!(r.stdout.contains("net.ipv4.ping_group_range"), "{}", r.stdout);
    });
}
