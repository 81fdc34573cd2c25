//! `-t N:STATE` in check_dns, check_dns_serial, check_krb5 and check_afs: against a
//! server that never answers (a UDP socket that reads and never replies; for TCP a
//! listener that accepts and holds), each check reports its own time running out in the
//! state `-t` names: `-t 2:UNKNOWN` exits 3 within 2.5 s, `-t 2` exits 2, with the same
//! summary, lines and perfdata (compared in the JSON output). check_afs's vos and bos
//! modes are tried with a `vos`/`bos` that hangs.

use hcoop_tests::{bin, json_of, plugin_json, Run};
use serde_json::{json, Value};
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

/// What a run that timed out must report, the same whatever state `-t` names.
struct TimedOut<'a> {
    label: &'a str,
    summary: &'a str,
    /// The long output lines (plain lines: no state of their own).
    lines: Vec<&'a str>,
    /// The perfdata, or `None` where it holds a time that varies.
    perfdata: Option<Value>,
}

/// Runs `run` (given the `-t` value, returning the JSON object) with `-t 2:UNKNOWN`, then
/// with `-t 2`: the first is UNKNOWN (exit 3) within 2.5 s, the second CRITICAL (exit
/// 2), both with `want`'s summary, lines and perfdata.
fn assert_timeout_states(want: TimedOut, run: impl Fn(&str) -> Value) {
    for (t, state) in [("2:UNKNOWN", "UNKNOWN"), ("2", "CRITICAL")] {
        let start = Instant::now();
        let v = run(t);
        let took = start.elapsed();
        assert!(took < Duration::from_millis(2500), "-t {t} took {took:?}");
        assert_eq!(v["label"], want.label, "-t {t}: {v}");
        assert_eq!(v["state"], state, "-t {t}: {v}");
        assert_eq!(v["summary"], want.summary, "-t {t}: {v}");
        let lines: Vec<Value> = want
            .lines
            .iter()
            .map(|l| json!({"state": null, "text": l}))
            .collect();
        assert_eq!(v["details"], Value::Array(lines), "-t {t}: {v}");
        if let Some(p) = &want.perfdata {
            assert_eq!(&v["perfdata"], p, "-t {t}: {v}");
        }
    }
}

impl<'a> TimedOut<'a> {
    /// A check of one server that never answered: the server's line is the summary and
    /// the one line below it; no perfdata.
    fn one_server(label: &'a str, line: &'a str) -> Self {
        TimedOut {
            label,
            summary: line,
            lines: vec![line],
            perfdata: no_perfdata(),
        }
    }
}

/// The perfdata of a result that has none.
fn no_perfdata() -> Option<Value> {
    Some(json!([]))
}

#[test]
fn check_dns_udp_and_tcp() {
    for (port, transport) in [(silent_udp(), None), (holding_tcp(), Some("--tcp"))] {
        let p = port.to_string();
        let summary = format!("127.0.0.1:{port}: no answer within 1.8s");
        let want = TimedOut {
            label: "DNS",
            summary: &summary,
            lines: Vec::new(),
            perfdata: no_perfdata(),
        };
        assert_timeout_states(want, |t| {
            let mut args = vec!["-H", "www.example.test", "-s", "127.0.0.1", "-p", &p];
            args.extend(transport);
            args.extend(["-t", t]);
            plugin_json("check_dns", &args)
        });
    }
}

#[test]
fn check_dns_serial_udp_and_tcp() {
    let state = tempfile::tempdir().unwrap();
    let dir = state.path().to_str().unwrap();
    for tcp in [false, true] {
        let port = if tcp { holding_tcp() } else { silent_udp() };
        let p = port.to_string();
        let line = format!("a.test: master 127.0.0.1:{port}: no answer within 1.8s");
        let want = TimedOut {
            label: "DNS_SERIAL",
            summary: "1 zone without an answer from the master: a.test (of 1 zone on 1 server)",
            lines: vec![&line],
            perfdata: None,
        };
        assert_timeout_states(want, |t| {
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
            plugin_json("check_dns_serial", &args)
        });
    }
}

#[test]
fn check_krb5_udp_and_tcp() {
    for (transport, port) in [("udp", silent_udp()), ("tcp", holding_tcp())] {
        let kdc = format!("127.0.0.1:{port}");
        let line = format!("{kdc} {transport}: no answer within 1.8s");
        let want = TimedOut::one_server("KRB5", &line);
        assert_timeout_states(want, |t| {
            plugin_json(
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
        let want = TimedOut::one_server("AFS", &line);
        assert_timeout_states(want, |t| {
            plugin_json("check_afs", &[mode, "-H", "127.0.0.1", "-p", &p, "-t", t])
        });
    }
    let want = TimedOut {
        label: "AFS",
        summary: "no sync site, no quorum (0 of 1 servers answering)",
        lines: vec![&line],
        perfdata: Some(json!([{
            "label": "servers_answering", "value": 0, "uom": "",
            "warn": null, "crit": null, "min": 0, "max": 1
        }])),
    };
    assert_timeout_states(want, |t| {
        plugin_json("check_afs", &["ubik", "-H", "127.0.0.1", "-p", &p, "-t", t])
    });
}

/// Runs check_afs with a `PATH` that starts with `dir`; its JSON object.
fn afs_with_path(dir: &Path, args: &[&str]) -> Value {
    let path = format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let r: Run = Command::new(bin("check_afs"))
        .args(args)
        .args(["--output-format", "json"])
        .env("PATH", path)
        .output()
        .expect("run check_afs")
        .into();
    json_of("check_afs", args, &r)
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
    let want = TimedOut {
        label: "AFS",
        summary: "vos did not finish within 1.8s",
        lines: Vec::new(),
        perfdata: no_perfdata(),
    };
    assert_timeout_states(want, |t| {
        afs_with_path(d, &["quota", "--volume", "user.alice", "-t", t])
    });
    for (mode, tool) in [("space", "vos"), ("bos", "bos")] {
        let line = format!("fs1: {tool} did not finish within 1.8s");
        let want = TimedOut::one_server("AFS", &line);
        assert_timeout_states(want, |t| afs_with_path(d, &[mode, "-H", "fs1", "-t", t]));
    }
}
