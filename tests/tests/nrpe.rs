//! NRPE end to end: Debian's check_nrpe against our agent, our check_nrpe_client against
//! Debian's nrpe daemon, and refusals of bad clients while the agent keeps serving.
//! The agent starts as root (as the tests run) and becomes user nagios, as Debian's
//! nrpe does.

use hcoop_plugins::proto::nrpe::{Packet, Version};
use hcoop_tests::nrpe::{
    agent_exit, check_nrpe_at, client, client_at, client_json_at, AgentStart, Certs, Server,
    AGENT_USER,
};
use hcoop_tests::{debian_plugin, parity, wait_until, Run};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn dummy() -> String {
    debian_plugin("check_dummy").display().to_string()
}

/// A configuration with a few commands around check_dummy.
fn commands(extra: &str) -> String {
    let d = dummy();
    format!(
        "allowed_hosts=127.0.0.1\ncommand_timeout=2\nconnection_timeout=2\n\
         command[ok]={d} 0 hello\ncommand[warn]={d} 1 careful\n\
         command[arg]={d} $ARG1$ $ARG2$\ncommand[load]=builtin:check_load -w 900 -c 1000\n\
         command[big]=/usr/bin/head -c 70000 /dev/zero | tr '\\0' x\n{extra}"
    )
}

fn ours(r: &Run) -> (i32, &str) {
    (r.code, r.stdout.as_str())
}

/// An OK answer whose text starts as given (the rest varies with the machine).
fn assert_ok_starting(r: &Run, start: &str) {
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.starts_with(start), "{}", r.stdout);
}

/// What our check_nrpe_client reported (its JSON): the state and the summary; a relayed
/// answer has no detail lines and no perfdata of its own.
fn relayed(v: &Value) -> (&str, &str) {
    assert_eq!(
        (&v["details"], &v["perfdata"]),
        (&json!([]), &json!([])),
        "{v}"
    );
    (
        v["state"].as_str().unwrap_or_default(),
        v["summary"].as_str().unwrap_or_default(),
    )
}

/// Our client's failed TLS handshake: CRITICAL, its summary starting as check_nrpe's.
fn assert_handshake_failed(v: &Value) {
    let (state, summary) = relayed(v);
    assert_eq!(state, "CRITICAL", "{v}");
    assert!(
        summary
            .starts_with("CHECK_NRPE: Error - Could not complete SSL handshake with 127.0.0.1: "),
        "{v}"
    );
}

/// check_nrpe's answer when the daemon closed the connection without a reply.
fn assert_closed_unanswered(r: &Run) {
    let underflow = r.stdout.starts_with("CHECK_NRPE: Receive header underflow");
    assert!(r.code == 3 && underflow, "{r:?}");
}

#[test]
fn check_nrpe_against_agent_default_tls() {
    let a = Server::agent(&commands("dont_blame_nrpe=1\n"), false);
    let cn = |more: &[&str]| a.check_nrpe(more);
    assert_eq!(ours(&cn(&[])), (0, "NRPE v4.1.0 (hcoop-monitor 0.1.0)\n"));
    assert_eq!(ours(&cn(&["-c", "ok"])), (0, "OK: hello\n"));
    assert_eq!(ours(&cn(&["-2", "-c", "warn"])), (1, "WARNING: careful\n"));
    assert_eq!(
        ours(&cn(&["-c", "arg", "-a", "2", "down"])),
        (2, "CRITICAL: down\n")
    );
    assert_eq!(
        ours(&cn(&["-c", "nope"])),
        (3, "NRPE: Command 'nope' not defined\n")
    );
    assert_ok_starting(&cn(&["-c", "load"]), "LOAD OK - load average: ");
    // output cut at 65535 bytes (v4) and 1023 bytes (v2)
    let big = cn(&["-c", "big"]);
    assert_eq!(big.stdout.len(), 65_536);
    assert_eq!(big.stdout, format!("{}\n", "x".repeat(65_535)));
    assert_eq!(cn(&["-2", "-c", "big"]).stdout.len(), 1024);
    // a self-signed certificate was made and kept
    assert!(a.dir.path().join("state/nrpe-cert.pem").exists());
}

#[test]
fn check_nrpe_against_agent_plain() {
    let a = Server::agent(&commands(""), true);
    for v in [&["-n"][..], &["-n", "-2"]] {
        let args = [&["-c", "ok"][..], v].concat();
        assert_eq!(ours(&a.check_nrpe(&args)), (0, "OK: hello\n"));
    }
    // arguments are refused when dont_blame_nrpe is off: the connection is closed
    assert_closed_unanswered(&a.check_nrpe(&["-n", "-c", "arg", "-a", "0", "x"]));
    // and $ARGn$ is empty: check_dummy without a state is an error of check_dummy
    let r = a.check_nrpe(&["-n", "-c", "ok"]);
    assert_eq!(r.code, 0);
}

#[test]
fn command_timeout_kills_the_group() {
    let marker = format!("sleep {}", 800_000 + std::process::id() % 10_000);
    let a = Server::agent(
        &commands(&format!("command[slow]=/bin/sh -c '{marker} & {marker}'\n")),
        true,
    );
    let t = Instant::now();
    let r = a.check_nrpe(&["-n", "-c", "slow"]);
    assert_eq!(ours(&r), (3, "NRPE: Command timed out after 2 seconds\n"));
    assert!(t.elapsed() < Duration::from_secs(5));
    let gone = wait_until(2.0, || {
        std::process::Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .unwrap()
            .stdout
            .is_empty()
    });
    assert!(gone, "the command's processes survived the timeout");
}

/// Files of a test CA, and an nrpe.cfg serving a certificate it signed and requiring
/// client certificates of it.
fn certificate_config() -> (tempfile::TempDir, Certs, String) {
    let dir = tempfile::tempdir().unwrap();
    let c = Certs::make(dir.path());
    let cfg = commands(&c.nrpe_cfg());
    (dir, c, cfg)
}

#[test]
fn client_certificates_required() {
    let (_dir, c, cfg) = certificate_config();
    let a = Server::agent(&cfg, false);
    let with_cert = [&c.client_args()[..], &["-c", "ok"]].concat();
    assert_eq!(ours(&a.check_nrpe(&with_cert)), (0, "OK: hello\n"));
    // our client with the same files
    assert_eq!(relayed(&a.client_json(&with_cert)), ("OK", "OK: hello"));
    // no client certificate, or one from another CA: no answer
    let r = a.check_nrpe(&["-c", "ok"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    let (sc, sk) = (
        c.stranger_cert.to_str().unwrap(),
        c.stranger_key.to_str().unwrap(),
    );
    let r = a.check_nrpe(&["-C", sc, "-K", sk, "-c", "ok"]);
    assert_ne!(r.code, 0, "{}", r.stdout);
    assert_handshake_failed(&a.client_json(&["-d", "0", "-c", "ok"]));
    // a server certificate from another CA fails -A
    let [_, _, client_cert @ ..] = c.client_args();
    let r = a.check_nrpe(&[&["-A", sc][..], &client_cert, &["-c", "ok"]].concat());
    assert_ne!(r.code, 0);
}

#[test]
fn client_against_debian_nrpe_plain() {
    let n = Server::debian(&commands(""), true);
    assert_eq!(relayed(&n.client_json(&["-n"])), ("OK", "NRPE v4.1.0"));
    let cases: [(&[&str], _); 3] = [
        (&["-n", "-c", "warn"], ("WARNING", "WARNING: careful")),
        (&["-n", "-2", "-c", "ok"], ("OK", "OK: hello")),
        (
            &["-n", "-c", "nope"],
            ("UNKNOWN", "NRPE: Command 'nope' not defined"),
        ),
    ];
    for (args, want) in cases {
        assert_eq!(relayed(&n.client_json(args)), want, "{args:?}");
    }
    // Debian's nrpe has no command arguments: it closes, v4 then v2
    assert_eq!(
        relayed(&n.client_json(&["-n", "-c", "ok", "-a", "x"])),
        (
            "UNKNOWN",
            "CHECK_NRPE: Received 0 bytes from daemon.  Check the remote server logs for error messages."
        )
    );
}

#[test]
fn client_against_debian_nrpe_certificates() {
    let (_dir, c, cfg) = certificate_config();
    let n = Server::debian(&cfg, false);
    for adh in ["0", "1"] {
        let args = [&["-d", adh][..], &c.client_args(), &["-c", "ok"]].concat();
        assert_eq!(
            relayed(&n.client_json(&args)),
            ("OK", "OK: hello"),
            "-d {adh}"
        );
    }
}

/// Debian's nrpe without a certificate speaks only anonymous DH, which our client
/// reaches through OpenSSL by default.
#[test]
fn client_against_debian_nrpe_default_adh() {
    let n = Server::debian(&commands(""), false);
    assert_eq!(relayed(&n.client_json(&["-c", "ok"])), ("OK", "OK: hello"));
    let v = n.client_json(&["-d", "2", "-2", "-c", "warn"]);
    assert_eq!(relayed(&v), ("WARNING", "WARNING: careful"));
    // -d 0 and -A ask for a certificate the server does not have: refused
    assert_handshake_failed(&n.client_json(&["-d", "0", "-c", "ok"]));
}

/// Debian's check_nrpe and ours, the same command line: the same exit code (and the
/// same output, a relayed plugin's or check_nrpe's own line, unless `same_text` is off).
fn nrpe_case(args: &[&str], code: i32, same_text: bool) {
    let d = parity::debian("check_nrpe", args);
    let o = parity::ours("check_nrpe_client", args);
    let why = parity::shown("check_nrpe", args, &d, &o);
    assert_eq!((d.code, o.code), (code, code), "{why}");
    if same_text {
        assert_eq!(o.stdout, d.stdout, "{why}");
    }
}

/// [`nrpe_case`] against 127.0.0.1:`port`.
fn nrpe_case_at(port: u16, more: &[&str], code: i32, same_text: bool) {
    let p = port.to_string();
    nrpe_case(
        &[&["-H", "127.0.0.1", "-p", &p][..], more].concat(),
        code,
        same_text,
    );
}

/// Parity with check_nrpe against a stock nrpe in Debian's default configuration shape
/// (no certificate: anonymous DH), the same plain, and one with certificates.
#[test]
fn parity_with_check_nrpe_against_debian_nrpe() {
    let slow = "command[slow]=/bin/sleep 5\n";
    let adh = Server::debian(&commands(slow), false);
    for (cmd, code) in [("ok", 0), ("warn", 1), ("nope", 3)] {
        nrpe_case_at(adh.port, &["-c", cmd], code, true);
        nrpe_case_at(adh.port, &["-2", "-c", cmd], code, true);
    }
    nrpe_case_at(adh.port, &[], 0, true);
    // the version query, and Debian's nrpe refusing arguments (built without them)
    nrpe_case_at(adh.port, &["-c", "arg", "-a", "2", "down"], 3, false);
    // -t 1 against a command that sleeps; -u makes it UNKNOWN
    nrpe_case_at(adh.port, &["-t", "1", "-c", "slow"], 2, true);
    nrpe_case_at(adh.port, &["-u", "-t", "1", "-c", "slow"], 3, true);
    nrpe_case_at(adh.port, &["-t", "1:WARNING", "-c", "slow"], 1, true);
    // plain against a plain server
    let plain = Server::debian(&commands(""), true);
    nrpe_case_at(plain.port, &["-n", "-c", "ok"], 0, true);
    nrpe_case_at(plain.port, &["-n", "-2", "-c", "warn"], 1, true);
    // -3 to a daemon without v3: asked again in v2 (Debian's prints an underflow line first)
    nrpe_case_at(plain.port, &["-n", "-3", "-c", "ok"], 0, false);
    // check_nrpe's file of options
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("check_nrpe.cfg");
    std::fs::write(&f, format!("-p {}\n-n\n", plain.port)).unwrap();
    nrpe_case(
        &["-H", "127.0.0.1", "-f", f.to_str().unwrap(), "-c", "warn"],
        1,
        true,
    );
    // -D and -E change nothing
    nrpe_case_at(plain.port, &["-n", "-D", "-E", "-c", "ok"], 0, true);
    // with certificates: verified TLS (rustls) for ours
    let (_dir, c, cfg) = certificate_config();
    let certified = Server::debian(&cfg, false);
    let with_cert = [&c.client_args()[..], &["-c", "warn"]].concat();
    nrpe_case_at(certified.port, &with_cert, 1, true);
    let tls12 = [&["-S", "TLSv1.2+"][..], &with_cert].concat();
    nrpe_case_at(certified.port, &tls12, 1, true);
}

/// Arguments (`-a`) reach the command when dont_blame_nrpe is on and are refused when
/// it is off, the same through check_nrpe and ours (against our agent: Debian's nrpe is
/// built without arguments).
#[test]
fn parity_with_check_nrpe_arguments() {
    let on = Server::agent(&commands("dont_blame_nrpe=1\n"), true);
    nrpe_case_at(on.port, &["-n", "-c", "arg", "-a", "2", "down"], 2, true);
    nrpe_case_at(
        on.port,
        &["-n", "-2", "-c", "arg", "-a", "1", "two words"],
        1,
        true,
    );
    let off = Server::agent(&commands(""), true);
    nrpe_case_at(off.port, &["-n", "-c", "arg", "-a", "2", "down"], 3, false);
}

/// Connection problems: the same exit codes and check_nrpe's phrase.
#[test]
fn parity_with_check_nrpe_unreachable() {
    let port = hcoop_tests::free_port();
    nrpe_case_at(port, &["-c", "ok"], 2, false);
    nrpe_case_at(port, &["-u", "-c", "ok"], 3, false);
    let o = parity::ours(
        "check_nrpe_client",
        &["-H", "127.0.0.1", "-p", &port.to_string()],
    );
    assert!(o.stdout.contains("Connection refused"), "{}", o.stdout);
}

/// The one test of check_nrpe_client's exact text (the rest compare its JSON).
#[test]
fn client_errors() {
    let port = hcoop_tests::free_port();
    let r = client_at(port, &["-c", "ok"]);
    assert_eq!(
        ours(&r),
        (
            2,
            format!("connect to address 127.0.0.1 port {port}: Connection refused\n").as_str()
        )
    );
    assert_eq!(client_json_at(port, &["-u"])["state"], "UNKNOWN");
    // a server that accepts and never answers
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let p = l.local_addr().unwrap().port();
    let t = Instant::now();
    let v = client_json_at(p, &["-n", "-t", "1"]);
    assert_eq!(
        relayed(&v),
        (
            "CRITICAL",
            "CHECK_NRPE STATE CRITICAL: Socket timeout after 1 seconds."
        )
    );
    assert!(t.elapsed() < Duration::from_secs(3));
    assert_eq!(
        client_json_at(p, &["-n", "-t", "1:UNKNOWN"])["state"],
        "UNKNOWN"
    );
    assert_eq!(ours(&client(&["-H", "h", "-C", "/x"])).0, 3);
}

/// Sends raw bytes on a plain connection; returns what came back before the close.
fn raw(port: u16, bytes: &[u8]) -> Vec<u8> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = s.write_all(bytes);
    let _ = s.shutdown(std::net::Shutdown::Write);
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    out
}

#[test]
fn refusals_while_serving_others() {
    let a = Server::agent(&commands("dont_blame_nrpe=1\n"), true);
    let port = a.port;
    let good = || assert_eq!(ours(&a.check_nrpe(&["-n", "-c", "ok"])), (0, "OK: hello\n"));
    // idle clients hold connections open; the agent serves others meanwhile
    let idle: Vec<TcpStream> = (0..5)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    good();
    // a well-formed raw query works
    let reply = raw(port, &Packet::query(Version::V4, "ok").encode());
    let reply = hcoop_plugins::proto::nrpe::decode(&reply).unwrap();
    assert_eq!(reply.text, b"OK: hello");
    // bad CRC, truncated, oversized, garbage, metachars, newline: closed unanswered
    let mut bad_crc = Packet::query(Version::V2, "ok").encode();
    bad_crc[100] ^= 0x20;
    let full = Packet::query(Version::V4, "ok").encode();
    let mut oversized = full.clone();
    oversized[12..16].copy_from_slice(&70_000i32.to_be_bytes());
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bad CRC", bad_crc),
        ("truncated", full[..full.len() - 2].to_vec()),
        ("oversized", oversized),
        ("garbage", b"GET / HTTP/1.0\r\n\r\n".to_vec()),
        (
            "metachars",
            Packet::query(Version::V4, "arg!0!a;reboot").encode(),
        ),
        ("newline", Packet::query(Version::V2, "arg!0!a\nb").encode()),
        (
            "substitution",
            Packet::query(Version::V4, "arg!0!$(id)").encode(),
        ),
        (
            "empty argument",
            Packet::query(Version::V4, "arg!!x").encode(),
        ),
    ];
    for (what, bytes) in cases {
        assert_eq!(raw(port, &bytes), b"", "{what} was answered");
        good();
    }
    // arguments and metachars through check_nrpe
    assert_closed_unanswered(&a.check_nrpe(&["-n", "-c", "arg", "-a", "1", "x|y"]));
    good();
    // idle clients are closed after connection_timeout (2 s)
    let t = Instant::now();
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(6))).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(s.read(&mut buf).unwrap_or(0), 0);
    }
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
    good();
}

#[test]
fn hosts_outside_allowed_hosts_are_refused() {
    let a = Server::agent(&commands(""), true);
    // check_nrpe -b picks the source address; 127.0.0.2 is not allowed
    assert_closed_unanswered(&a.check_nrpe(&from("127.0.0.2")));
    assert_eq!(ours(&a.check_nrpe(&["-n", "-c", "ok"])), (0, "OK: hello\n"));
    // a network and a name
    let b = Server::agent(
        &commands("").replace(
            "allowed_hosts=127.0.0.1",
            "allowed_hosts=127.0.0.0/30,localhost",
        ),
        true,
    );
    for src in ["127.0.0.2", "127.0.0.3"] {
        let r = b.check_nrpe(&from(src));
        assert_eq!(ours(&r), (0, "OK: hello\n"), "from {src}");
    }
    assert_eq!(b.check_nrpe(&from("127.0.0.4")).code, 3);
}

/// check_nrpe's arguments for command `ok` in plain TCP from the source address `src`.
fn from(src: &str) -> [&str; 5] {
    ["-n", "-b", src, "-c", "ok"]
}

/// The daemon's `[nrpe]` section: built-in and external commands served next to the
/// scheduler, over TLS with a self-signed certificate kept in the state directory;
/// changed on SIGHUP without closing the port; a broken section on reload keeps the
/// agent running; the port closes when the daemon stops.
#[test]
fn daemon_serves_nrpe_from_its_config() {
    let port = hcoop_tests::free_port();
    let files = tempfile::tempdir().unwrap();
    let spaced = files.path().join("two words");
    std::fs::create_dir(&spaced).unwrap();
    std::fs::write(spaced.join("f.txt"), "x").unwrap();
    let section = |commands: &str| {
        format!(
            "[nrpe]\nserver_port = {port}\nserver_address = \"127.0.0.1\"\n\
             allowed_hosts = [\"127.0.0.1\"]\ndont_blame_nrpe = true\n{commands}"
        )
    };
    let first = format!(
        "[nrpe.command.ok]\ncommand = \"{} 0 hello\"\n\
         [nrpe.command.load]\ncheck = \"check_load\"\nargs = [\"-w\", \"900\", \"-c\", \"1000\"]\n\
         [nrpe.command.age]\ncheck = \"check_file_age\"\nargs = [\"-f\", \"$ARG1$\", \"-w\", \"600\", \"-c\", \"900\"]\n",
        dummy()
    );
    // external commands run as a plugin user when the daemon runs as root
    let mut d = hcoop_tests::daemon::Daemon::start(&format!(
        "plugin_user = \"nagios\"\n\n{}",
        section(&first)
    ));
    hcoop_tests::nrpe::wait_listening(port);
    let cn = |more: &[&str]| check_nrpe_at(port, more);
    assert_eq!(ours(&cn(&["-c", "ok"])), (0, "OK: hello\n"));
    assert_ok_starting(&cn(&["-c", "load"]), "LOAD OK - load average: ");
    // an argument with a space stays one argument of the built-in check
    let file = spaced.join("f.txt").display().to_string();
    let age = cn(&["-c", "age", "-a", &file]);
    assert_ok_starting(&age, "FILE_AGE OK - ");
    assert!(age.stdout.contains(&file), "{}", age.stdout);
    // the certificate check_nrpe's default mode needs was made beside the state file
    assert!(d.dir.path().join("nrpe-cert.pem").exists());

    // reload with other commands: the port stays open, the new set is served
    d.write_config(&format!(
        "plugin_user = \"nagios\"\n\n{}",
        section(&format!(
            "[nrpe.command.hello2]\ncommand = \"{} 1 careful\"\n",
            dummy()
        ))
    ));
    d.hup();
    assert!(
        wait_until(10.0, || cn(&["-c", "hello2"]).code == 1),
        "reload did not take: {}",
        d.log()
    );
    assert_eq!(
        ours(&cn(&["-c", "ok"])),
        (3, "NRPE: Command 'ok' not defined\n")
    );
    assert!(
        d.log().contains("nrpe: reloaded, 1 commands"),
        "{}",
        d.log()
    );

    // a broken [nrpe] section is refused and the running agent keeps serving
    d.write_config(&section(
        "[nrpe.command.bad]\ncheck = \"check_load\"\nargs = [\"-w\", \"abc\"]\n",
    ));
    let validate = hcoop_tests::run(
        &hcoop_tests::bin("hcoop-monitor"),
        &["-c", d.config_dir().to_str().unwrap(), "validate"],
    );
    assert_eq!(validate.code, 3, "{}", validate.stdout);
    assert!(
        validate.stderr.contains("[nrpe] command[bad]: "),
        "{}",
        validate.stderr
    );
    d.hup();
    d.wait_log(10.0, "keeping the running one");
    assert_eq!(ours(&cn(&["-c", "hello2"])), (1, "WARNING: careful\n"));

    // the agent stops with the daemon
    d.signal(libc::SIGTERM);
    assert!(wait_until(10.0, || !d.running()), "{}", d.log());
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

/// The account the agent becomes, from the system's database.
fn agent_account() -> hcoop_monitor::privileges::Account {
    hcoop_monitor::privileges::lookup(AGENT_USER, None)
        .unwrap_or_else(|e| panic!("{e} (the nagios user comes with nagios-nrpe-server)"))
}

/// A field of /proc/PID/status (`Uid:`, `Gid:`, `Groups:`, `CapEff:`...), its values.
fn proc_status(pid: u32, field: &str) -> Vec<String> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
        .split_whitespace()
        .map(String::from)
        .collect()
}

/// The commands `id` (`id -u`), `groups` (`id -G`) and `env`, run through `cn`, ran as
/// `account` with its groups only and a clean environment: HOME, USER and LOGNAME of
/// that user, nothing of the server's own environment. `log` is the server's, for
/// failures.
fn assert_commands_ran_as(
    account: &hcoop_monitor::privileges::Account,
    cn: impl Fn(&str) -> Run,
    log: impl Fn() -> String,
) {
    assert_eq!(
        ours(&cn("id")),
        (0, format!("{}\n", account.uid).as_str()),
        "{}",
        log()
    );
    let groups = cn("groups");
    let mut got: Vec<u32> = groups
        .stdout
        .split_whitespace()
        .map(|g| g.parse().unwrap())
        .collect();
    got.sort_unstable();
    let mut want = account.groups.clone();
    want.sort_unstable();
    assert_eq!(got, want, "{}", groups.stdout);
    let env = cn("env");
    assert_eq!(env.code, 0, "{}", env.stdout);
    let mut got: Vec<&str> = env.stdout.lines().collect();
    got.sort_unstable();
    let mut want = vec![
        format!("HOME={}", account.home.display()),
        "LANG=C.UTF-8".to_string(),
        format!("LOGNAME={}", account.name),
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        format!("USER={}", account.name),
    ];
    want.sort();
    assert_eq!(got, want, "{}", log());
}

/// Started as root with nrpe_user=nagios, the agent becomes nagios for good (real,
/// effective and saved ids, nagios's groups only, no capability) before serving, and
/// its commands run as nagios with a clean environment.
#[test]
fn agent_started_as_root_becomes_nrpe_user() {
    assert!(hcoop_tests::is_root(), "this test starts the agent as root");
    let nagios = agent_account();
    let a = Server::agent_with(
        "allowed_hosts=127.0.0.1\nnrpe_user=nagios\n\
         command[id]=/usr/bin/id -u\ncommand[groups]=/usr/bin/id -G\n\
         command[env]=/usr/bin/env\n",
        &AgentStart {
            plain: true,
            env: &[("SECRET", "hunter2"), ("HOME", "/root")],
            ..Default::default()
        },
    );
    assert_commands_ran_as(&nagios, |c| a.check_nrpe(&["-n", "-c", c]), || a.log());
    // the agent itself: every user and group id is nagios's, no capability left
    let uid = nagios.uid.to_string();
    let gid = nagios.gid.to_string();
    assert_eq!(proc_status(a.pid(), "Uid:"), [uid.as_str(); 4]);
    assert_eq!(proc_status(a.pid(), "Gid:"), [gid.as_str(); 4]);
    for caps in ["CapEff:", "CapPrm:", "CapInh:", "CapAmb:"] {
        assert_eq!(proc_status(a.pid(), caps), ["0000000000000000"], "{caps}");
    }
    // the certificate made as root before the change stays readable by root only
    let b = Server::agent(
        "allowed_hosts=127.0.0.1\ncommand[id]=/usr/bin/id -u\n",
        false,
    );
    let r = b.check_nrpe(&["-c", "id"]);
    assert_eq!(ours(&r), (0, format!("{}\n", nagios.uid).as_str()));
    let key = b.dir.path().join("state/nrpe-key.pem");
    let meta = std::fs::metadata(&key).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0);
}

/// Started as another user, the agent stays that user: an nrpe_user naming someone
/// else is a warning, and commands run as the agent's user.
#[test]
fn agent_started_unprivileged_keeps_its_user() {
    let nagios = agent_account();
    let a = Server::agent_with(
        "allowed_hosts=127.0.0.1\nnrpe_user=root\ncommand[id]=/usr/bin/id -u\n",
        &AgentStart {
            plain: true,
            as_user: Some(AGENT_USER),
            ..Default::default()
        },
    );
    let r = a.check_nrpe(&["-n", "-c", "id"]);
    assert_eq!(ours(&r), (0, format!("{}\n", nagios.uid).as_str()));
    assert_eq!(
        a.log().lines().next().unwrap_or(""),
        format!(
            "hcoop-monitor nrpe: warning: nrpe_user=root ignored: not running as root, \
             commands run as uid {}",
            nagios.uid
        )
    );
}

/// As root, commands run as root only when asked for with --allow-root: without
/// nrpe_user, or with an nrpe_user that is root, the agent refuses to start with one
/// line naming the problem and exit code 3.
#[test]
fn agent_refuses_root_unless_allowed() {
    assert!(hcoop_tests::is_root(), "this test starts the agent as root");
    let body = "allowed_hosts=127.0.0.1\ncommand[id]=/usr/bin/id -u\n";
    let (code, log) = agent_exit(body, &[]);
    assert_eq!(code, Some(3), "{log}");
    assert_eq!(
        log,
        "hcoop-monitor: running as root and the nrpe configuration sets no nrpe_user: \
         commands would run as root; set nrpe_user (and nrpe_group), or pass --allow-root\n"
    );
    let (code, log) = agent_exit(&format!("nrpe_user=root\n{body}"), &[]);
    assert_eq!(code, Some(3), "{log}");
    assert!(log.contains("nrpe_user=root is root"), "{log}");
    assert_eq!(log.lines().count(), 1, "{log}");
    let (code, log) = agent_exit(&format!("nrpe_user=no-such-user-here\n{body}"), &[]);
    assert_eq!(code, Some(3), "{log}");
    assert_eq!(
        log,
        "hcoop-monitor: nrpe_user/nrpe_group: no user named 'no-such-user-here'\n"
    );
    // --allow-root, documented in --help, runs commands as root
    let help = hcoop_tests::run(&hcoop_tests::bin("hcoop-monitor"), &["nrpe", "--help"]);
    assert!(help.stdout.contains("--allow-root"), "{}", help.stdout);
    let a = Server::agent_with(
        &format!("nrpe_user=\n{body}"),
        &AgentStart {
            plain: true,
            args: &["--allow-root"],
            ..Default::default()
        },
    );
    assert_eq!(ours(&a.check_nrpe(&["-n", "-c", "id"])), (0, "0\n"));
}

/// With dont_blame_nrpe=1, nothing in an argument is read by a shell: `$`, quotes,
/// parentheses and control characters are refused (the connection closed, as for
/// nrpe's metacharacters); what is allowed is split into words and never expanded,
/// with or without a shell.
#[test]
fn arguments_never_reach_a_shell() {
    // a directory the agent's user can read, where `b*` would match a file
    let cwd = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        cwd.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::write(cwd.path().join("bfile"), "").unwrap();
    let a = Server::agent_with(
        "allowed_hosts=127.0.0.1\ndont_blame_nrpe=1\n\
         command[words]=/usr/bin/printf %s, $ARG1$\n\
         command[shwords]=/usr/bin/printf %s, $ARG1$ 2>&1\n\
         command[quoted]=/usr/bin/printf %s, '$ARG1$' \"$ARG1$\" 2>&1\n",
        &AgentStart {
            plain: true,
            cwd: Some(cwd.path()),
            ..Default::default()
        },
    );
    let cn = |c: &str, arg: &str| a.check_nrpe(&["-n", "-c", c, "-a", arg]);
    // without a shell: words as nrpe users expect
    assert_eq!(ours(&cn("words", "-w 5 -c 10")), (0, "-w,5,-c,10,\n"));
    assert_eq!(ours(&cn("words", "a b*")), (0, "a,b*,\n"));
    // with a shell: the same words, no glob expansion
    assert_eq!(ours(&cn("shwords", "a b*")), (0, "a,b*,\n"));
    assert_eq!(ours(&cn("shwords", "~ ?file")), (0, "~,?file,\n"));
    assert_eq!(ours(&cn("quoted", "a  b*")), (0, "a  b*,a  b*,\n"));
    for bad in [
        "$HOME", "$$", "a\"b", "(id)", "x)", "a\u{1}b", "a\tb", "`id`", "a;b",
    ] {
        assert_closed_unanswered(&cn("shwords", bad));
    }
    assert!(
        a.log().contains("request contained illegal metachars"),
        "{}",
        a.log()
    );
    assert_eq!(ours(&cn("words", "still")), (0, "still,\n"));
}

/// Odd bytes in the argument of a built-in check's level get an UNKNOWN answer, and the
/// agent keeps serving.
#[test]
fn odd_arguments_of_builtin_checks() {
    let a = Server::agent(
        &commands("dont_blame_nrpe=1\ncommand[loadw]=builtin:check_load -w $ARG1$ -c 1000\n"),
        true,
    );
    let cn = |more: &[&str]| a.check_nrpe(&[&["-n"], more].concat());
    for odd in ["é", "9é", "1,é,3", "\u{10ffff}", "ü:é"] {
        let r = cn(&["-c", "loadw", "-a", odd]);
        assert_eq!(r.code, 3, "{odd:?}: {}", r.stdout);
        assert!(r.stdout.starts_with("NRPE: "), "{odd:?}: {}", r.stdout);
        assert_eq!(r.stdout.lines().count(), 1, "{odd:?}: {}", r.stdout);
        assert_eq!(ours(&cn(&["-c", "ok"])), (0, "OK: hello\n"));
    }
    assert_ok_starting(
        &cn(&["-c", "loadw", "-a", "900"]),
        "LOAD OK - load average: ",
    );
}

/// Idle connections from one peer cannot starve the others: a peer holds at most
/// max_connections_per_peer connections (further ones are closed at once, with a log
/// line), and a connection that sends no request is closed after request_timeout
/// (well before nrpe's connection_timeout of 300 s).
#[test]
fn idle_connections_do_not_starve_requests() {
    let a = Server::agent_with(
        &format!(
            "allowed_hosts=127.0.0.0/24\ncommand[ok]={} 0 hello\n",
            dummy()
        ),
        &AgentStart {
            plain: true,
            args: &["--max-connections", "20", "--request-timeout", "3"],
            ..Default::default()
        },
    );
    let port = a.port;
    // the harness's probe that the agent listens is gone
    assert!(wait_until(5.0, || a
        .log()
        .contains("could not read request")));
    // 40 idle connections from 127.0.0.1: 16 are held, the others closed at once
    let opened = Instant::now();
    let idle: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut closed_at_once = 0;
    for s in &idle {
        s.set_nonblocking(true).unwrap();
        let mut r: &TcpStream = s;
        if matches!(r.read(&mut [0u8; 1]), Ok(0)) {
            closed_at_once += 1;
        }
        s.set_nonblocking(false).unwrap();
    }
    assert_eq!(closed_at_once, 40 - 16, "{}", a.log());
    assert!(
        a.log()
            .contains("too many connections from 127.0.0.1 (at most 16)"),
        "{}",
        a.log()
    );
    // a real request from another address is answered at once meanwhile
    let t = Instant::now();
    let r = a.check_nrpe(&from("127.0.0.2"));
    let answered = t.elapsed();
    assert_eq!(ours(&r), (0, "OK: hello\n"));
    assert!(answered < Duration::from_secs(2), "{answered:?}");
    eprintln!("answered in {answered:?} with 16 idle connections held");
    // the held ones are closed after request_timeout (3 s)
    for mut s in idle {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 1];
        assert_eq!(s.read(&mut buf).unwrap_or(0), 0);
    }
    let after = opened.elapsed();
    assert!(
        after >= Duration::from_millis(2500) && after < Duration::from_secs(6),
        "{after:?}"
    );
    assert!(
        a.log().contains("timed out waiting for the request"),
        "{}",
        a.log()
    );
    // and the peer may connect again
    assert_eq!(ours(&a.check_nrpe(&["-n", "-c", "ok"])), (0, "OK: hello\n"));
}

/// The daemon's `[nrpe]` external commands, run by a root daemon, run as its
/// plugin_user with a clean environment: HOME, USER and LOGNAME of that user, nothing
/// of the daemon's own environment.
#[test]
fn daemon_nrpe_commands_run_as_plugin_user() {
    assert!(
        hcoop_tests::is_root(),
        "this test starts the daemon as root"
    );
    let nagios = agent_account();
    let port = hcoop_tests::free_port();
    // the daemon inherits the test's environment: a secret put there must not reach
    // the commands (the tests run one at a time)
    std::env::set_var("HCOOP_TEST_SECRET", "hunter2");
    let d = hcoop_tests::daemon::Daemon::start(&format!(
        "plugin_user = \"nagios\"\n\n[nrpe]\nserver_port = {port}\n\
         server_address = \"127.0.0.1\"\nallowed_hosts = [\"127.0.0.1\"]\ntls = false\n\
         [nrpe.command.env]\ncommand = \"/usr/bin/env\"\n\
         [nrpe.command.id]\ncommand = \"/usr/bin/id -u\"\n\
         [nrpe.command.groups]\ncommand = \"/usr/bin/id -G\"\n"
    ));
    std::env::remove_var("HCOOP_TEST_SECRET");
    hcoop_tests::nrpe::wait_listening(port);
    assert_commands_ran_as(
        &nagios,
        |c| check_nrpe_at(port, &["-n", "-c", c]),
        || d.log(),
    );
}

/// The plugin user is looked up only when a root daemon would start external programs:
/// the embedded default (built-in checks only) validates without it, and a missing or
/// root plugin user is one line from `validate`, exit code 3.
#[test]
fn validate_needs_the_plugin_user_only_for_external_programs() {
    assert!(
        hcoop_tests::is_root(),
        "the plugin user matters to a root daemon"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.toml");
    let validate = |daemon: &str, rest: &str| {
        std::fs::write(
            &file,
            format!(
                "[daemon]\n{daemon}\n\n[[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n{rest}"
            ),
        )
        .unwrap();
        hcoop_tests::run(
            &hcoop_tests::bin("hcoop-monitor"),
            &["-c", file.to_str().unwrap(), "validate"],
        )
    };
    let builtin = "[[service]]\nhost = \"h\"\nname = \"load\"\ncheck = \"check_load\"\n\
                   args = [\"-w\", \"900\", \"-c\", \"1000\"]\n";
    let external = "[[service]]\nhost = \"h\"\nname = \"ext\"\ncommand = \"/bin/true\"\n";
    let nrpe = "[nrpe]\nserver_port = 5666\n[nrpe.command.x]\ncommand = \"/bin/true\"\n";
    let missing = "plugin_user = \"no-such-user-here\"";
    let r = validate(missing, builtin);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for rest in [external, nrpe] {
        let r = validate(missing, rest);
        assert_eq!(r.code, 3, "{rest}: {}", r.stdout);
        assert_eq!(
            r.stderr,
            "hcoop-monitor: [daemon] plugin_user = 'no-such-user-here': no user named \
             'no-such-user-here': external plugins need an unprivileged user to run as\n"
        );
    }
    let r = validate("plugin_user = \"root\"", external);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stderr,
        "hcoop-monitor: [daemon] plugin_user = 'root' is root: external plugins never run as root\n"
    );
    let r = validate("plugin_user = \"nagios\"", external);
    assert_eq!(r.code, 0, "{}", r.stderr);
    // the embedded default configuration has only built-in checks
    let r = hcoop_tests::run(&hcoop_tests::bin("hcoop-monitor"), &["validate"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

/// In a forked child (a single thread), becomes `user` keeping `keep`, then runs
/// `check`; returns the child's exit code (0: `check` passed; the error on stderr).
fn in_dropped_child(
    user: &str,
    keep: &[hcoop_monitor::privileges::Capability],
    check: impl FnOnce() -> Result<(), String>,
) -> i32 {
    let account = hcoop_monitor::privileges::lookup(user, None).unwrap();
    // SAFETY: the child only runs the drop and the check, then _exits; the C library's
    // allocator is usable after fork.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = match hcoop_monitor::privileges::drop_to(&account, keep).and_then(|()| check()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("in the dropped child: {e}");
                1
            }
        };
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    assert!(libc::WIFEXITED(status), "child status {status}");
    libc::WEXITSTATUS(status)
}

/// Binds 127.0.0.1 on a port below 1024 (NET_BIND_SERVICE), trying a few.
fn bind_low_port() -> std::io::Result<()> {
    let mut last = None;
    for port in (700..1000).step_by(37) {
        match std::net::TcpListener::bind(("127.0.0.1", port)) {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap())
}

/// The privileges module the agent uses: after drop_to, a process keeps exactly the
/// capabilities asked for (here NET_BIND_SERVICE, for a port below 1024) and none
/// without; it can never become root again.
#[test]
fn drop_to_keeps_only_the_capabilities_asked_for() {
    use hcoop_monitor::privileges::Capability;
    assert!(hcoop_tests::is_root(), "leaving root needs root");
    let cap_eff = || {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("CapEff:"))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let code = in_dropped_child(AGENT_USER, &[Capability::NetBindService], || {
        if cap_eff() != "0000000000000400" {
            return Err(format!("CapEff is {}", cap_eff()));
        }
        bind_low_port().map_err(|e| format!("bind below 1024: {e}"))?;
        // SAFETY: plain system call; success is the failure tested for.
        if unsafe { libc::setuid(0) } == 0 {
            return Err("became root again".into());
        }
        Ok(())
    });
    assert_eq!(code, 0);
    let code = in_dropped_child(AGENT_USER, &[], || {
        if cap_eff() != "0000000000000000" {
            return Err(format!("CapEff is {}", cap_eff()));
        }
        match bind_low_port() {
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Ok(()),
            other => Err(format!("bind below 1024 without the capability: {other:?}")),
        }
    });
    assert_eq!(code, 0);
}

/// A port that is not an NRPE daemon (a real nginx, plain and over TLS, and a fake that
/// sends garbage) is CRITICAL with check_nrpe's text, as a refused connection is; -u
/// makes it UNKNOWN. (Debian's check_nrpe 4.1.0 says UNKNOWN once the connection and the
/// handshake succeeded, CRITICAL when the handshake fails.)
#[test]
fn servers_that_are_not_nrpe_are_critical() {
    let dir = tempfile::tempdir().unwrap();
    let web = hcoop_tests::web::start_nginx(dir.path());
    let (http, https) = (web.http_port, web.https_port);
    let bad_version = (
        "CRITICAL",
        "CHECK_NRPE: Invalid packet version received from server.",
    );
    assert_eq!(relayed(&client_json_at(http, &["-n"])), bad_version);
    assert_eq!(relayed(&client_json_at(https, &["-c", "ok"])), bad_version);
    assert_eq!(
        relayed(&client_json_at(http, &["-n", "-u"])),
        ("UNKNOWN", bad_version.1)
    );
    // TLS to a plain HTTP server: the handshake fails
    assert_handshake_failed(&client_json_at(http, &[]));
    let garbage = hcoop_tests::web::fake_server(hcoop_tests::web::Fault::Garbage(
        b"\x00\x07garbage\xff\xfe".to_vec(),
    ));
    assert_eq!(relayed(&client_json_at(garbage, &["-n"])), bad_version);
}

/// Port 0 and a host with a newline are one line, exit 3, the host shown escaped.
#[test]
fn bad_hosts_and_ports_are_one_line() {
    assert_eq!(
        ours(&client(&["-H", "127.0.0.1", "-p", "0"])),
        (
            3,
            "NRPE UNKNOWN - invalid value '0' for '--port <PORT>': port 0 is out of range (1-65535)\n"
        )
    );
    assert_eq!(
        ours(&client(&["-H", "a\nb", "-c", "ok"])),
        (
            3,
            "NRPE UNKNOWN - invalid value 'a\\nb' for '--host <HOST>': invalid host 'a\\nb': '\\n' is not allowed in a host name\n"
        )
    );
    let long = "x".repeat(100_000);
    let r = client(&["-H", &long]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout.lines().count(), 1);
    assert!(r.stdout.len() < 1000, "{} bytes", r.stdout.len());
}
