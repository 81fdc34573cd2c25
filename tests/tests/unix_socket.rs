//! check_tcp, the checks built on it, check_ftp and check_jabber against Unix stream
//! sockets (`-H /path`), as monitoring-plugins' connect to them: a real socket server
//! (socat forking a fixed banner or reply for each connection), a missing socket, a socket nobody listens on, and TLS
//! over a socket (socat handing the connection to a TLS listener on loopback). Each case
//! runs Debian's plugin and ours.

use hcoop_tests::free_port;
use hcoop_tests::parity::{case, differs, ours};
use hcoop_tests::require;
use hcoop_tests::web::Pki;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A socat process; killed and reaped when dropped.
struct Socat(Child);

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts socat with these two addresses; its complaints about clients that close early
/// are not wanted in the test output.
fn socat(listen: &str, serve: &str) -> Socat {
    let child = Command::new(require("socat", "socat"))
        .args([listen, serve])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start socat");
    Socat(child)
}

/// A shell command for socat's SYSTEM address that writes what `command` writes, then
/// stays half a second before it exits: socat may end a connection as soon as its child
/// exits, before it has passed on the child's last output, which made a client see no
/// data at all now and then on a loaded machine.
fn lingering(command: &str) -> String {
    format!("{command}; sleep 0.5")
}

/// Waits until `ready` holds (a socket file exists, a port accepts).
fn wait_for(what: &str, ready: impl Fn() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{what} never came up"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A Unix socket at `dir/name` whose server writes `banner` and a newline to each client.
fn banner_socket(dir: &Path, name: &str, banner: &str) -> (Socat, String) {
    let path = dir.join(name);
    let s = socat(
        &format!("UNIX-LISTEN:{},fork", path.display()),
        &format!("SYSTEM:{}", lingering(&format!("echo {banner}"))),
    );
    wait_for("the socket server", || path.exists());
    (s, path.to_str().unwrap().to_string())
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("unix-socket")
        .tempdir()
        .unwrap()
}

#[test]
fn a_server_on_a_unix_socket_answers() {
    let dir = tempdir();
    let (_server, path) = banner_socket(dir.path(), "s", "hello");
    let p = path.as_str();
    let (d, o) = case("check_tcp", &["-H", p, "-e", "hello"], 0);
    let said = format!("second response time on socket {p} [hello]");
    assert!(d.stdout.contains(&said), "{}", d.stdout);
    assert!(o.stdout.starts_with("TCP OK - "), "{}", o.stdout);
    assert!(o.stdout.contains(&said), "{}", o.stdout);
    assert_eq!(o.perf[0].label, "time");
    // no -p needed; the path may be the bare word; -p, -4 and -6 do not apply to it
    case("check_tcp", &["-H", p], 0);
    case("check_tcp", &[p, "-e", "hello"], 0);
    case("check_tcp", &["-H", p, "-p", "80", "-4", "-e", "hello"], 0);
    let (d, o) = case("check_tcp", &["-H", p, "-j", "-e", "hello"], 0);
    assert!(!d.stdout.contains("[hello]") && !o.stdout.contains("[hello]"));
    // a reply without the expected string: WARNING, as any other reply
    let (d, o) = case("check_tcp", &["-H", p, "-e", "nope"], 1);
    assert!(d
        .stdout
        .contains("Unexpected response from host/socket: hello"));
    assert!(
        o.stdout.starts_with(&format!(
            "TCP WARNING - unexpected response from socket {p}: hello"
        )),
        "{}",
        o.stdout
    );
}

#[test]
fn the_checks_built_on_check_tcp_take_a_socket_too() {
    let dir = tempdir();
    let (_server, path) = banner_socket(dir.path(), "pop", "+OK ready");
    let (_, o) = case("check_pop", &["-H", &path], 0);
    assert!(o.stdout.starts_with("POP OK - "), "{}", o.stdout);
    assert!(o.stdout.contains(&format!("socket {path} [+OK ready]")));
    let (_, o) = case("check_pop", &["-H", &path, "-e", "BYE"], 1);
    assert!(o.stdout.starts_with("POP WARNING - "), "{}", o.stdout);
}

/// A Unix socket at `dir/name` whose server writes the file `dir/name.reply` to each
/// client (a reply socat's address syntax could not hold inline).
fn reply_socket(dir: &Path, name: &str, reply: &str) -> (Socat, String) {
    let file = dir.join(format!("{name}.reply"));
    std::fs::write(&file, reply).unwrap();
    let path = dir.join(name);
    let s = socat(
        &format!("UNIX-LISTEN:{},fork", path.display()),
        &format!("SYSTEM:{}", lingering(&format!("cat {}", file.display()))),
    );
    wait_for("the socket server", || path.exists());
    (s, path.to_str().unwrap().to_string())
}

#[test]
fn check_ftp_takes_a_socket() {
    let dir = tempdir();
    let (_server, path) = banner_socket(dir.path(), "ftp", "220 ready");
    let p = path.as_str();
    let said = format!("second response time on socket {p} [220 ready]");
    let (d, o) = case("check_ftp", &["-H", p], 0);
    assert!(d.stdout.contains(&said), "{}", d.stdout);
    assert!(o.stdout.starts_with("FTP OK - "), "{}", o.stdout);
    assert!(o.stdout.contains(&said), "{}", o.stdout);
    // -p, -4 and -6 do not apply to a socket
    case("check_ftp", &["-H", p, "-p", "99", "-4"], 0);
    // a reply that is not the greeting: WARNING in both
    let (_, o) = case("check_ftp", &["-H", p, "-e", "230"], 1);
    assert!(o.stdout.starts_with("FTP WARNING - "), "{}", o.stdout);
    // TLS over a socket needs the certificate's name
    assert_tls_needs_sni("check_ftp", "FTP", &["-H", p, "--starttls"]);
}

/// Ours refuses TLS over a Unix socket without `--sni`: exit 3, naming the option.
fn assert_tls_needs_sni(plugin: &str, label: &str, args: &[&str]) {
    let o = ours(plugin, args);
    assert_eq!(o.code, 3, "{}", o.stdout);
    assert_eq!(
        o.stdout.trim_end(),
        format!("{label} UNKNOWN - TLS over a Unix socket needs the name on the server's certificate: --sni NAME")
    );
}

#[test]
fn check_jabber_takes_a_socket() {
    let dir = tempdir();
    // Debian's expects the XML declaration, ours the stream features with STARTTLS
    let (_server, path) = reply_socket(
        dir.path(),
        "xmpp",
        "<?xml version='1.0'?><stream:stream from='localhost' xmlns='jabber:client' \
xmlns:stream='http://etherx.jabber.org/streams' version='1.0'><stream:features>\
<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>\n",
    );
    let p = path.as_str();
    let (d, o) = case("check_jabber", &["-H", p], 0);
    assert!(
        d.stdout.starts_with("JABBER OK - ")
            && d.stdout.contains(&format!("response time on socket {p}|")),
        "{}",
        d.stdout
    );
    assert!(
        o.stdout.starts_with("JABBER OK - ")
            && o.stdout.contains(&format!(
                "response time on socket {p}, domain localhost, STARTTLS offered"
            )),
        "{}",
        o.stdout
    );
    case("check_jabber", &["-H", p, "-p", "99", "-6"], 0);
    let o = ours("check_jabber", &["-H", p, "--domain", "example.org"]);
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(o.stdout.contains("domain example.org"), "{}", o.stdout);
    assert_tls_needs_sni("check_jabber", "JABBER", &["-H", p, "-S"]);
}

#[test]
fn a_missing_socket_is_critical() {
    let dir = tempdir();
    let missing = dir.path().join("missing");
    let p = missing.to_str().unwrap();
    let (d, o) = case("check_tcp", &["-H", p], 2);
    let said = format!("connect to file socket {p}: No such file or directory");
    assert!(d.stdout.contains(&said), "{}", d.stdout);
    assert_eq!(o.stdout.trim_end(), format!("TCP CRITICAL - {said}"));
    for (plugin, label) in [("check_ftp", "FTP"), ("check_jabber", "JABBER")] {
        let (d, o) = case(plugin, &["-H", p], 2);
        assert!(d.stdout.contains(&said), "{}", d.stdout);
        assert_eq!(o.stdout.trim_end(), format!("{label} CRITICAL - {said}"));
    }
    // only the plugins' connects happened: nothing was created
    assert!(!missing.exists());
}

#[test]
fn a_socket_nobody_listens_on_is_refused() {
    let dir = tempdir();
    let path: PathBuf = dir.path().join("gone");
    // the socket file stays, its listener is gone
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let p = path.to_str().unwrap();
    let said = format!("connect to file socket {p}: Connection refused");
    let (d, o) = case("check_tcp", &["-H", p], 2);
    assert!(d.stdout.contains(&said), "{}", d.stdout);
    assert_eq!(o.stdout.trim_end(), format!("TCP CRITICAL - {said}"));
    let (_, o) = case("check_tcp", &["-H", p, "-r", "ok"], 0);
    assert_eq!(o.stdout.trim_end(), format!("TCP OK - {said}"));
    let (_, o) = case("check_tcp", &["-H", p, "-r", "warn"], 1);
    assert_eq!(o.stdout.trim_end(), format!("TCP WARNING - {said}"));
    // the plugin never removes a socket
    assert!(path.exists());
}

#[test]
fn tls_over_a_unix_socket() {
    let dir = tempdir();
    let pki = Pki::new(dir.path());
    let cert = pki.issue("sock.test", &[], None);
    let port = free_port();
    let _tls = socat(
        &format!(
            "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,verify=0,cert={},key={}",
            cert.cert.display(),
            cert.key.display()
        ),
        &format!("SYSTEM:{}", lingering("echo hello")),
    );
    wait_for("the TLS listener", || {
        std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
    });
    let path = dir.path().join("tls");
    let _forward = socat(
        &format!("UNIX-LISTEN:{},fork", path.display()),
        &format!("TCP:127.0.0.1:{port}"),
    );
    wait_for("the socket server", || path.exists());
    let p = path.to_str().unwrap();
    let ca = pki.ca_cert.to_str().unwrap();
    // ours verifies the certificate, so it is given the name on it and the CA
    let o = ours(
        "check_tcp",
        &[
            "-H",
            p,
            "-S",
            "--sni",
            "sock.test",
            "--ca-cert",
            ca,
            "-D",
            "30",
            "-e",
            "hello",
        ],
    );
    assert_eq!(o.code, 0, "{}", o.stdout);
    assert!(
        o.stdout
            .contains(&format!("on socket {p} [hello]; certificate 'sock.test'")),
        "{}",
        o.stdout
    );
    // Debian's does not verify the certificate, nor need a name for it
    let (d, o) = differs("check_tcp", &["-H", p, "-S", "-e", "hello"], 0, 3);
    assert!(
        d.stdout.contains(&format!("on socket {p} [hello]")),
        "{}",
        d.stdout
    );
    assert_eq!(
        o.stdout.trim_end(),
        "TCP UNKNOWN - TLS over a Unix socket needs the name on the server's certificate: --sni NAME"
    );
}
