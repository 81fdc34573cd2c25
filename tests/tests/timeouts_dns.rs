//! `-t N:STATE` in check_dns, check_dns_serial, check_krb5 and check_afs: against a
//! server that never answers (a UDP socket that reads and never replies; for TCP a
//! listener that accepts and holds), each check reports its own time running out in the
//! state `-t` names: `-t 2:UNKNOWN` exits 3 within 2.5 s, `-t 2` exits 2, with the same
//! line. check_afs's vos and bos modes are tried with a `vos`/`bos` that hangs.

use hcoop_tests::{bin, plugin, Run};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// How long a fake server lives: longer than any run against it.
const LIFE: Duration = Duration::from_secs(30);

/// A UDP socket on 127.0.0.1 that reads every datagram and never replies; its port.
fn silent_udp() -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut buf = [0u8; 65536];
        while start.elapsed() < LIFE {
            let _ = sock.recv_from(&mut buf);
        }
    });
    port
}

/// A TCP listener on 127.0.0.1 that accepts every connection and holds it open, reading
/// nothing and writing nothing; its port.
fn holding_tcp() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    l.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut held = Vec::new();
        while start.elapsed() < LIFE {
            match l.accept() {
                Ok((s, _)) => held.push(s),
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    port
}

/// Runs `run` with `-t 2:UNKNOWN`, then with `-t 2`: the first exits 3 within 2.5 s
/// printing `LABEL UNKNOWN - rest`, the second exits 2 printing `LABEL CRITICAL - rest`.
/// With `varying_perf`, the perfdata of the first line (it holds a time) is left out of
/// the comparison.
fn assert_timeout_states(label: &str, rest: &str, varying_perf: bool, run: impl Fn(&str) -> Run) {
    for (t, state, code) in [("2:UNKNOWN", "UNKNOWN", 3), ("2", "CRITICAL", 2)] {
        let start = Instant::now();
        let r = run(t);
        let took = start.elapsed();
        assert_eq!(r.code, code, "-t {t}: {r:?}");
        assert!(took < Duration::from_millis(2500), "-t {t} took {took:?}");
        let got = if varying_perf {
            let first = r.first_line().split(" | ").next().unwrap_or("");
            std::iter::once(first)
                .chain(r.stdout.lines().skip(1))
                .map(|l| format!("{l}\n"))
                .collect()
        } else {
            r.stdout.clone()
        };
        assert_eq!(got, format!("{label} {state} - {rest}"), "-t {t}");
    }
}

#[test]
fn check_dns_udp_and_tcp() {
    for (port, transport) in [(silent_udp(), None), (holding_tcp(), Some("--tcp"))] {
        let p = port.to_string();
        assert_timeout_states(
            "DNS",
            &format!("127.0.0.1:{port}: no answer within 1.8s\n"),
            false,
            |t| {
                let mut args = vec!["-H", "www.example.test", "-s", "127.0.0.1", "-p", &p];
                args.extend(transport);
                args.extend(["-t", t]);
                plugin("check_dns", &args)
            },
        );
    }
}

#[test]
fn check_dns_serial_udp_and_tcp() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().to_str().unwrap();
    for tcp in [false, true] {
        let port = if tcp { holding_tcp() } else { silent_udp() };
        let p = port.to_string();
        assert_timeout_states(
            "DNS_SERIAL",
            &format!("1 zone without an answer from the master: a.test (of 1 zone on 1 server)\na.test: master 127.0.0.1:{port}: no answer within 1.8s\n"),
            true,
            |t| {
                let mut args = vec![
                    "-m",
                    "127.0.0.1",
                    "-p",
                    &p,
                    "--state-dir",
                    dir,
                    "a.test",
                    "-t",
                    t,
                ];
                if tcp {
                    args.push("--tcp");
                }
                plugin("check_dns_serial", &args)
            },
        );
    }
}

#[test]
fn check_krb5_udp_and_tcp() {
    for (transport, port) in [("udp", silent_udp()), ("tcp", holding_tcp())] {
        let kdc = format!("127.0.0.1:{port}");
        let line = format!("{kdc} {transport}: no answer within 1.8s");
        assert_timeout_states("KRB5", &format!("{line}\n{line}\n"), false, |t| {
            plugin(
                "check_krb5",
                &[
                    "-H",
                    &kdc,
                    "-r",
                    "HCOOP.TEST",
                    "--transport",
                    transport,
                    "-t",
                    t,
                ],
            )
        });
    }
}

#[test]
fn check_afs_rx_modes() {
    let port = silent_udp();
    let p = port.to_string();
    let line = format!("127.0.0.1:{port}: no answer within 1.8s");
    for mode in ["rx", "rxstats"] {
        assert_timeout_states("AFS", &format!("{line}\n{line}\n"), false, |t| {
            plugin("check_afs", &[mode, "-H", "127.0.0.1", "-p", &p, "-t", t])
        });
    }
    assert_timeout_states("AFS", &format!(
            "no sync site, no quorum (0 of 1 servers answering) | servers_answering=0;;;0;1\n{line}\n"
        ), false, |t| plugin("check_afs", &["ubik", "-H", "127.0.0.1", "-p", &p, "-t", t]),
    );
}

/// Runs check_afs with a `PATH` that starts with `dir`.
fn afs_with_path(dir: &Path, args: &[&str]) -> Run {
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new(bin("check_afs"))
        .args(args)
        .env("PATH", path)
        .output()
        .expect("run check_afs")
        .into()
}

#[test]
fn check_afs_tool_modes_with_a_hung_tool() {
    let dir = tempfile::tempdir().unwrap();
    for tool in ["vos", "bos"] {
        let p = dir.path().join(tool);
        std::fs::write(&p, "#!/bin/sh\nexec sleep 10\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let d = dir.path();
    assert_timeout_states("AFS", "vos did not finish within 1.8s\n", false, |t| {
        afs_with_path(d, &["quota", "--volume", "user.alice", "-t", t])
    });
    let line = "fs1: vos did not finish within 1.8s";
    assert_timeout_states("AFS", &format!("{line}\n{line}\n"), false, |t| {
        afs_with_path(d, &["space", "-H", "fs1", "-t", t])
    });
    let line = "fs1: bos did not finish within 1.8s";
    assert_timeout_states("AFS", &format!("{line}\n{line}\n"), false, |t| {
        afs_with_path(d, &["bos", "-H", "fs1", "-t", t])
    });
}
