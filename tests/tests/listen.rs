//! check_listen against listeners the test opens, as root and as nobody, inside a
//! network namespace of its own (so only they are listening there).

use hcoop_tests::{assert_refused_json, bin, is_root, json_of, require, Guard, Run};
use serde_json::{json, Value};
use std::process::Command;

struct Netns(String);

impl Netns {
    fn new() -> Netns {
        assert!(is_root(), "network namespaces and setpriv need root");
        require("ip", "iproute2");
        let ns = Netns(format!("hcooplisten{}", std::process::id()));
        let _ = Command::new("ip")
            .args(["netns", "del", &ns.0])
            .stderr(std::process::Stdio::null())
            .status();
        let st = Command::new("ip")
            .args(["netns", "add", &ns.0])
            .status()
            .unwrap();
        assert!(st.success());
        ns.run(&["ip", "link", "set", "lo", "up"]);
        ns
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.0]).args(args);
        c
    }

    fn run(&self, args: &[&str]) -> Run {
        self.cmd(args).output().unwrap().into()
    }

    /// A python listener (as `user`, or root) on `addr:port`, `proto` tcp or udp.
    fn listen(&self, user: Option<&str>, proto: &str, addr: &str, port: u16) -> Guard {
        let py = require("/usr/bin/python3", "python3");
        let script = format!(
            "import socket,sys,time\n\
             s=socket.socket(socket.AF_INET6 if ':' in '{addr}' else socket.AF_INET, socket.SOCK_{})\n\
             s.bind(('{addr}',{port}))\n\
             {}\nprint('ready',flush=True)\ntime.sleep(120)\n",
            if proto == "tcp" { "STREAM" } else { "DGRAM" },
            if proto == "tcp" { "s.listen()" } else { "pass" }
        );
        let mut args: Vec<String> = Vec::new();
        if let Some(u) = user {
            args.extend(
                [
                    "setpriv",
                    &format!("--reuid={u}"),
                    "--regid=nogroup",
                    "--clear-groups",
                ]
                .map(String::from),
            );
        }
        args.extend([py.display().to_string(), "-c".into(), script]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut g = Guard::spawn(self.cmd(&a).stdout(std::process::Stdio::piped()));
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(g.0.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line, "ready\n",
            "listener {proto} {addr}:{port} did not start"
        );
        g
    }

    fn check(&self, policy: &str, extra: &[&str]) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("policy.toml");
        std::fs::write(&p, policy).unwrap();
        let b = bin("check_listen").display().to_string();
        let mut args = vec![b.as_str(), "-P", p.to_str().unwrap()];
        args.extend(extra);
        self.run(&args)
    }

    /// check_listen under `policy`, its result in JSON.
    fn check_json(&self, policy: &str) -> Value {
        let json = ["--output-format", "json"];
        json_of("check_listen", &json, &self.check(policy, &json))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn listeners_against_a_policy() {
    require("setpriv", "util-linux");
    let ns = Netns::new();
    let root_tcp = ns.listen(None, "tcp", "127.0.0.1", 5432);
    let _root_udp = ns.listen(None, "udp", "127.0.0.1", 53);
    let member = ns.listen(Some("nobody"), "tcp", "0.0.0.0", 8080);
    let policy = "\
[[allow]]
proto = \"tcp\"
port = 5432
address = \"loopback\"
user = \"root\"
[[allow]]
proto = \"udp\"
port = 53
program = \"python3\"
[[expect]]
proto = \"tcp\"
port = 5432
[[expect]]
proto = \"tcp\"
port = 22
state = \"warning\"
";
    // the one test of the Nagios text; the rest compare the JSON result
    let r = ns.check(policy, &[]);
    assert_eq!(r.code, 2, "{}", r.stdout);
    let want_member = format!(
        "tcp 0.0.0.0:8080 user nobody pid {} (python3)",
        member.pid()
    );
    assert_eq!(
        r.stdout,
        format!(
            "LISTEN CRITICAL - 1 not allowed: {want_member}; 1 missing: tcp port 22 | listeners=3;;;0 unexpected=1;;;0 missing=1;;;0\n[CRITICAL] not allowed: {want_member}\n[WARNING] missing: tcp port 22\n"
        )
    );

    // members may use high ports on loopback only: the member's 0.0.0.0 is still wrong
    let policy2 = format!(
        "unexpected = \"warning\"\n{policy}[[allow]]\nports = \"1024-65535\"\naddress = \"loopback\"\n"
    );
    assert_eq!(ns.check_json(&policy2)["state"], "WARNING");
    drop(member);
    let v = ns.check_json(&policy2.replace("port = 22\nstate", "port = 5432\nstate"));
    assert_eq!(v["state"], "OK", "{v}");
    assert_eq!(
        v["summary"],
        "2 listening sockets allowed, 2 expected present"
    );
    assert_eq!(v["details"], json!([]));
    assert_eq!(v["perfdata"], counts(2, 0, 0));
    // the expected listener goes away
    drop(root_tcp);
    let v = ns.check_json(policy);
    assert_eq!(v["state"], "CRITICAL", "{v}");
    assert_eq!(v["summary"], "2 missing: tcp port 5432; tcp port 22");
    assert_eq!(v["perfdata"], counts(1, 0, 2));
}

/// The perfdata of check_listen: listeners, unexpected ones, missing ones.
fn counts(listeners: u64, unexpected: u64, missing: u64) -> Value {
    let item = |label: &str, value: u64| json!({"label": label, "value": value, "uom": "", "warn": null, "crit": null, "min": 0, "max": null});
    json!([
        item("listeners", listeners),
        item("unexpected", unexpected),
        item("missing", missing)
    ])
}

#[test]
fn bad_input_is_unknown() {
    let d = tempfile::tempdir().unwrap();
    let bad = d.path().join("bad.toml");
    std::fs::write(&bad, "[[allow]]\nports = \"9-1\"\n").unwrap();
    let b = bad.display().to_string();
    for (argv, message) in [
        (vec![], "no policy: give -P FILE".to_string()),
        (
            vec!["-P", "/nonexistent.toml"],
            "cannot read /nonexistent.toml: No such file or directory (os error 2)".to_string(),
        ),
        (
            vec!["-P", b.as_str()],
            format!("{b}: allow rule 1: ports '9-1' run backwards"),
        ),
    ] {
        assert_refused_json("check_listen", &argv, &message);
    }
}
