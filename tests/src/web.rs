//! Web and TCP service fixtures: a test CA made with openssl (valid, expired, wrong-name
//! and self-signed certificates), nginx with name-based virtual hosts over HTTP and
//! HTTPS, sshd, vsftpd, prosody, spamd and kamailio on loopback ports in a temp dir, nginx
//! redirecting members' pages to other addresses (a second server on 127.0.0.2 with its
//! own access log), and fake servers for the faults real servers do not make (hang,
//! garbage, trickle, reset, endless replies).

use crate::{free_port, require, wait_until, Guard};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn sh(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn write(path: &Path, text: &str) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).expect("create dir");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A certificate and its key.
#[derive(Debug, Clone)]
pub struct CertPair {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl CertPair {
    /// The nginx directives that serve this pair.
    pub fn nginx_directives(&self) -> String {
        format!(
            "ssl_certificate {}; ssl_certificate_key {};",
            self.cert.display(),
            self.key.display()
        )
    }
}

/// A test certificate authority run with `openssl ca` (which can back-date).
pub struct Pki {
    dir: PathBuf,
    /// The CA certificate, for `--ca-cert`.
    pub ca_cert: PathBuf,
}

impl Pki {
    /// Makes a CA in `dir/pki`.
    pub fn new(dir: &Path) -> Pki {
        let d = dir.join("pki");
        std::fs::create_dir_all(d.join("newcerts")).unwrap();
        write(&d.join("index.txt"), "");
        write(&d.join("serial"), "1000\n");
        write(
            &d.join("ca.cnf"),
            &format!(
                "[ca]\ndefault_ca = CA_default\n[CA_default]\ndir = {0}\ndatabase = {0}/index.txt\n\
new_certs_dir = {0}/newcerts\nserial = {0}/serial\ncertificate = {0}/ca.crt\n\
private_key = {0}/ca.key\ndefault_md = sha256\ndefault_days = 365\npolicy = policy_any\n\
copy_extensions = copy\nunique_subject = no\n[policy_any]\ncommonName = supplied\n",
                d.display()
            ),
        );
        self_signed_ec(
            &d.join("ca.key"),
            &d.join("ca.crt"),
            "3650",
            "hcoop test CA",
            &[
                "basicConstraints=critical,CA:TRUE",
                "keyUsage=critical,keyCertSign,cRLSign",
            ],
        );
        Pki {
            ca_cert: d.join("ca.crt"),
            dir: d,
        }
    }

    /// A certificate for `name` (and `sans`) signed by the CA; `dates` back-dates it as
    /// `(start, end)` in `YYYYMMDDHHMMSSZ`.
    pub fn issue(&self, name: &str, sans: &[&str], dates: Option<(&str, &str)>) -> CertPair {
        let openssl = require("openssl", "openssl");
        let key = self.dir.join(format!("{name}.key"));
        let csr = self.dir.join(format!("{name}.csr"));
        let cert = self.dir.join(format!("{name}.crt"));
        let san: Vec<String> = std::iter::once(name)
            .chain(sans.iter().copied())
            .map(|n| format!("DNS:{n}"))
            .collect();
        sh(Command::new(&openssl)
            .args([
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
            ])
            .args([
                "-subj",
                &format!("/CN={name}"),
                "-addext",
                &format!("subjectAltName={}", san.join(",")),
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&csr));
        let mut ca = Command::new(&openssl);
        ca.args(["ca", "-batch", "-notext", "-config"])
            .arg(self.dir.join("ca.cnf"))
            .arg("-in")
            .arg(&csr)
            .arg("-out")
            .arg(&cert);
        match dates {
            Some((start, end)) => ca.args(["-startdate", start, "-enddate", end]),
            None => ca.args(["-days", "200"]),
        };
        sh(&mut ca);
        CertPair { cert, key }
    }

    /// A self-signed certificate for `name`.
    pub fn self_signed(&self, name: &str) -> CertPair {
        let key = self.dir.join(format!("{name}.self.key"));
        let cert = self.dir.join(format!("{name}.self.crt"));
        let san = format!("subjectAltName=DNS:{name}");
        self_signed_ec(
            &key,
            &cert,
            "100",
            name,
            &[&san, "basicConstraints=critical,CA:FALSE"],
        );
        CertPair { cert, key }
    }
}

/// A self-signed P-256 certificate for `/CN=subject`, valid `days`, with the extensions
/// `ext`, written to `cert` with its key in `key`.
fn self_signed_ec(key: &Path, cert: &Path, days: &str, subject: &str, ext: &[&str]) {
    let mut cmd = Command::new(require("openssl", "openssl"));
    cmd.args([
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        days,
        "-subj",
        &format!("/CN={subject}"),
    ]);
    for e in ext {
        cmd.args(["-addext", e]);
    }
    sh(cmd.arg("-keyout").arg(key).arg("-out").arg(cert));
}

/// Waits until something accepts on 127.0.0.1:`port`.
pub fn wait_port(port: u16, secs: f64) -> bool {
    wait_until(secs, || TcpStream::connect(("127.0.0.1", port)).is_ok())
}

/// nginx serving the test virtual hosts.
pub struct Nginx {
    _guard: Guard,
    pub http_port: u16,
    pub https_port: u16,
    /// a.test over HTTPS with HTTP/2 offered by ALPN (`/protocol` answers
    /// `PROTOCOL METHOD CONTENT-LENGTH`).
    pub http2_port: u16,
    pub pki: Pki,
    pub dir: PathBuf,
}

/// The body of a.test's index page.
pub const A_INDEX: &str = "<html><body>Welcome to a.test</body></html>\n";

/// Runs nginx in the foreground with the configuration `conf`, written to
/// `dir/nginx.conf`.
pub(crate) fn run_nginx(dir: &Path, conf: &str) -> Guard {
    let nginx = require("/usr/sbin/nginx", "nginx");
    let conf_path = dir.join("nginx.conf");
    write(&conf_path, conf);
    Guard::spawn(
        Command::new(nginx)
            .arg("-c")
            .arg(&conf_path)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    )
}

/// Starts nginx in `dir` with these virtual hosts:
/// HTTP: a.test (index, /missing 404, /broken 500, /redirect1 301 -> /redirect2 302 ->
/// b.test, /loop 301 to itself, /slow/ at 1000 bytes/s, /private basic auth), b.test,
/// and v1.test ... vN.test (any `vDIGITS.test`); HTTPS: a.test (valid), expired.test,
/// wrong.test (a certificate for other.test), self.test (self-signed); TLS 1.2 only;
/// HTTPS with HTTP/2: a.test (with /large.html, 300,000 bytes, and /protocol).
pub fn start_nginx(dir: &Path) -> Nginx {
    let pki = Pki::new(dir);
    let a = pki.issue("a.test", &["www.a.test"], None);
    let expired = pki.issue(
        "expired.test",
        &[],
        Some(("20200101000000Z", "20200201000000Z")),
    );
    let wrong = pki.issue("other.test", &[], None);
    let selfs = pki.self_signed("self.test");
    let (hp, sp, h2p) = (free_port(), free_port(), free_port());
    let www = dir.join("www");
    write(&www.join("a/index.html"), A_INDEX);
    write(&www.join("a/slow/big.html"), &"x".repeat(2500));
    // more than HTTP/2's initial flow-control window (65535 bytes)
    write(&www.join("a/large.html"), &"y".repeat(300_000));
    write(&www.join("a/private/index.html"), "secret\n");
    write(&www.join("b/index.html"), "b.test here\n");
    // user:password, apr1 hash made by openssl
    let hash = Command::new(require("openssl", "openssl"))
        .args(["passwd", "-apr1", "s3cret"])
        .output()
        .expect("openssl passwd");
    write(
        &dir.join("htpasswd"),
        &format!("member:{}", String::from_utf8_lossy(&hash.stdout)),
    );
    let head = nginx_head(dir, WORKER_CONNECTIONS);
    let d = dir.display();
    let tls = CertPair::nginx_directives;
    let conf = format!(
        r#"{head}
  default_type text/html;
  keepalive_requests 100000;
  ssl_protocols TLSv1.2;
  server {{
    listen 127.0.0.1:{hp} default_server;
    server_name a.test;
    root {d}/www/a;
    add_header X-Member a;
    location = /missing {{ return 404; }}
    location = /broken {{ return 500; }}
    location = /redirect1 {{ return 301 /redirect2; }}
    location = /redirect2 {{ return 302 http://b.test:{hp}/; }}
    location = /loop {{ return 301 /loop; }}
    location /slow/ {{ limit_rate 1000; }}
    location /private/ {{ auth_basic "members"; auth_basic_user_file {d}/htpasswd; }}
  }}
  server {{ listen 127.0.0.1:{hp}; server_name b.test; root {d}/www/b; }}
  server {{ listen 127.0.0.1:{hp}; server_name ~^v\d+\.test$; location / {{ return 200 "vhost $host\n"; }} }}
  server {{ listen 127.0.0.1:{sp} ssl default_server; server_name a.test www.a.test; {ta} root {d}/www/a; }}
  server {{ listen 127.0.0.1:{sp} ssl; server_name expired.test; {te} root {d}/www/a; }}
  server {{ listen 127.0.0.1:{sp} ssl; server_name wrong.test; {tw} root {d}/www/a; }}
  server {{ listen 127.0.0.1:{sp} ssl; server_name self.test; {ts} root {d}/www/a; }}
  server {{
    listen 127.0.0.1:{h2p} ssl http2;
    server_name a.test;
    {ta}
    root {d}/www/a;
    location = /protocol {{ return 200 "$server_protocol $request_method $content_length\n"; }}
  }}
}}
"#,
        ta = tls(&a),
        te = tls(&expired),
        tw = tls(&wrong),
        ts = tls(&selfs),
    );
    let guard = run_nginx(dir, &conf);
    assert!(
        wait_port(hp, 10.0) && wait_port(sp, 10.0) && wait_port(h2p, 10.0),
        "nginx did not start: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    Nginx {
        _guard: guard,
        http_port: hp,
        https_port: sp,
        http2_port: h2p,
        pki,
        dir: dir.to_path_buf(),
    }
}

/// nginx for the redirect tests: the origin server on 127.0.0.1:`port` (where checks
/// start) and a second server on 127.0.0.2 at `port` and `other_port`, whose every
/// request is logged in `second_log`.
pub struct RedirectNginx {
    _guard: Guard,
    pub port: u16,
    pub other_port: u16,
    pub second_log: PathBuf,
}

impl RedirectNginx {
    /// The requests the second server received (its access log lines).
    pub fn second_requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.second_log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The body of the origin server's pages: `origin server, Host HOST` (the Host header as sent).
pub fn origin_page(host: &str) -> String {
    format!("origin server, Host {host}")
}

/// The body of the second server's pages.
pub const SECOND_PAGE: &str = "second server";

/// The connections nginx's worker takes in the vhost tests.
const WORKER_CONNECTIONS: u32 = 1024;

/// The start of an nginx configuration kept in `dir` (made here: pid, error log and
/// every temp path inside it), open at its `http` block.
pub(crate) fn nginx_head(dir: &Path, worker_connections: u32) -> String {
    for t in ["body", "proxy", "fastcgi", "uwsgi", "scgi"] {
        std::fs::create_dir_all(dir.join("tmp").join(t)).unwrap();
    }
    let d = dir.display();
    format!(
        "user root root;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
         error_log {d}/error.log;\nevents {{ worker_connections {worker_connections}; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/tmp/body;\n\
         \x20 proxy_temp_path {d}/tmp/proxy;\n  fastcgi_temp_path {d}/tmp/fastcgi;\n\
         \x20 uwsgi_temp_path {d}/tmp/uwsgi;\n  scgi_temp_path {d}/tmp/scgi;"
    )
}

/// Starts nginx in `dir` for the redirect tests. On the origin (127.0.0.1:`port`), any
/// Host answers `origin server, Host HOST` except these redirects: `/to-addr` 302 to
/// `http://127.0.0.2:port/`, `/to-name` 302 to `http://elsewhere.test:port/`, `/to-port`
/// 302 to `http://127.0.0.2:other_port/`, `/to-meta` 302 to
/// `http://169.254.169.254/latest/meta-data/`, `/loop` 301 to itself. The second server
/// (127.0.0.2, both ports) answers `second server` and logs each request.
pub fn start_redirect_nginx(dir: &Path) -> RedirectNginx {
    let dir = dir.join("redirect-nginx");
    let head = nginx_head(&dir, 256);
    let (p, q) = (free_port(), free_port());
    let second_log = dir.join("second-access.log");
    let conf = format!(
        r#"{head}
  default_type text/plain;
  server {{
    listen 127.0.0.1:{p} default_server;
    location = /to-addr {{ return 302 http://127.0.0.2:{p}/; }}
    location = /to-name {{ return 302 http://elsewhere.test:{p}/; }}
    location = /to-port {{ return 302 http://127.0.0.2:{q}/; }}
    location = /to-meta {{ return 302 http://169.254.169.254/latest/meta-data/; }}
    location = /loop {{ return 301 /loop; }}
    location / {{ return 200 "origin server, Host $http_host\n"; }}
  }}
  server {{
    listen 127.0.0.2:{p} default_server;
    listen 127.0.0.2:{q} default_server;
    access_log {log};
    location / {{ return 200 "second server\n"; }}
  }}
}}
"#,
        log = second_log.display(),
    );
    let guard = run_nginx(&dir, &conf);
    let up = |addr: &str, port: u16| wait_until(10.0, || TcpStream::connect((addr, port)).is_ok());
    assert!(
        up("127.0.0.1", p) && up("127.0.0.2", p) && up("127.0.0.2", q),
        "nginx did not start: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    RedirectNginx {
        _guard: guard,
        port: p,
        other_port: q,
        second_log,
    }
}

/// What a fake server does with each connection.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Accepts and never answers.
    Hang,
    /// Sends these bytes, then waits.
    Garbage(Vec<u8>),
    /// Sends one byte of this text every 300 ms.
    Trickle(Vec<u8>),
    /// Resets the connection at once.
    Reset,
    /// Sends `head`, then `unit` again and again until the client goes away.
    Endless { head: Vec<u8>, unit: Vec<u8> },
}

/// Starts a fake server on 127.0.0.1; returns its port. It lives as long as the test.
pub fn fake_server(fault: Fault) -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming().flatten() {
            let fault = fault.clone();
            match fault {
                Fault::Hang => held.push(s),
                Fault::Garbage(b) => {
                    let mut s = s;
                    let _ = s.write_all(&b);
                    held.push(s);
                }
                Fault::Trickle(b) => {
                    std::thread::spawn(move || {
                        let mut s = s;
                        for c in b.iter().cycle() {
                            if s.write_all(&[*c]).is_err() {
                                break;
                            }
                            std::thread::sleep(Duration::from_millis(300));
                        }
                    });
                }
                Fault::Reset => {
                    let _ = socket_linger_zero(&s);
                    drop(s);
                }
                Fault::Endless { head, unit } => {
                    std::thread::spawn(move || {
                        let mut s = s;
                        if s.write_all(&head).is_err() {
                            return;
                        }
                        while s.write_all(&unit).is_ok() {}
                    });
                }
            }
        }
    });
    port
}

/// SO_LINGER 0, so closing sends a reset.
fn socket_linger_zero(s: &TcpStream) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    let l = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on an owned socket with a correctly sized value.
    let r = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&l as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A started daemon and its port.
pub struct Daemon {
    _guard: Guard,
    pub port: u16,
}

/// Starts the server `cmd` and waits up to `secs` for it on 127.0.0.1:`port`.
fn serve(cmd: &mut Command, port: u16, secs: f64, why: impl FnOnce() -> String) -> Daemon {
    Daemon {
        _guard: crate::spawn_listening(cmd, ("127.0.0.1", port), secs, why),
        port,
    }
}

/// sshd on a loopback port with its own host key and configuration.
pub fn start_sshd(dir: &Path) -> Daemon {
    let sshd = require("/usr/sbin/sshd", "openssh-server");
    let keygen = require("ssh-keygen", "openssh-client");
    std::fs::create_dir_all("/run/sshd").expect("privilege separation dir");
    let key = dir.join("ssh_host_ed25519_key");
    sh(Command::new(keygen)
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&key));
    let port = free_port();
    let conf = dir.join("sshd_config");
    write(
        &conf,
        &format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nPidFile {}/sshd.pid\nUsePAM no\n",
            key.display(),
            dir.display()
        ),
    );
    serve(
        Command::new(sshd).arg("-D").arg("-f").arg(&conf),
        port,
        10.0,
        || "sshd did not start".into(),
    )
}

/// vsftpd on a loopback port, offering AUTH TLS with `cert`.
pub fn start_vsftpd(dir: &Path, cert: &CertPair) -> Daemon {
    let vsftpd = require("/usr/sbin/vsftpd", "vsftpd");
    let empty = dir.join("ftp-empty");
    std::fs::create_dir_all(&empty).unwrap();
    let port = free_port();
    let conf = dir.join("vsftpd.conf");
    write(
        &conf,
        &format!(
            "listen=YES\nlisten_address=127.0.0.1\nlisten_port={port}\nbackground=NO\n\
anonymous_enable=NO\nlocal_enable=YES\nsecure_chroot_dir={}\nftpd_banner=hcoop test FTP\n\
ssl_enable=YES\nrsa_cert_file={}\nrsa_private_key_file={}\nallow_anon_ssl=NO\n\
require_ssl_reuse=NO\nseccomp_sandbox=NO\nxferlog_enable=NO\nvsftpd_log_file={}/vsftpd.log\n",
            empty.display(),
            cert.cert.display(),
            cert.key.display(),
            dir.display()
        ),
    );
    serve(Command::new(vsftpd).arg(&conf), port, 10.0, || {
        "vsftpd did not start".into()
    })
}

/// spamd on a loopback port (loading its rules takes a few seconds).
pub fn start_spamd(dir: &Path) -> Daemon {
    let spamd = require("/usr/sbin/spamd", "spamd");
    let port = free_port();
    let mut cmd = Command::new(spamd);
    cmd.args(["--listen", &format!("127.0.0.1:{port}")])
        .args(["-u", "nobody", "--max-children", "1", "--pidfile"])
        .arg(dir.join("spamd.pid"))
        .args(["--syslog", "stderr"]);
    serve(&mut cmd, port, 60.0, || "spamd did not start".into())
}

/// prosody on a loopback port serving the XMPP domain `domain` with `cert`.
pub fn start_prosody(dir: &Path, domain: &str, cert: &CertPair) -> Daemon {
    let prosody = require("/usr/bin/prosody", "prosody");
    let data = dir.join("prosody-data");
    std::fs::create_dir_all(&data).unwrap();
    // prosody drops to its own user: it must read the key and write its data
    let port = free_port();
    let conf = dir.join("prosody.cfg.lua");
    let certs = dir.join("prosody-certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&cert.cert, certs.join(format!("{domain}.crt"))).unwrap();
    std::fs::copy(&cert.key, certs.join(format!("{domain}.key"))).unwrap();
    write(
        &conf,
        &format!(
            "data_path = \"{data}\"\npidfile = \"{d}/prosody.pid\"\ndaemonize = false\n\
run_as_root = true\nlog = {{ {{ levels = {{ min = \"error\" }}, to = \"file\", filename = \"{d}/prosody.log\" }} }}\n\
c2s_ports = {{ {port} }}\nc2s_interfaces = {{ \"127.0.0.1\" }}\ns2s_ports = {{ }}\n\
modules_enabled = {{ \"tls\", \"saslauth\", \"disco\" }}\nmodules_disabled = {{ \"s2s\", \"posix\" }}\n\
c2s_require_encryption = true\nauthentication = \"internal_hashed\"\n\
certificates = \"{certs}\"\nVirtualHost \"{domain}\"\n  ssl = {{ certificate = \"{certs}/{domain}.crt\", key = \"{certs}/{domain}.key\" }}\n",
            data = data.display(),
            d = dir.display(),
            certs = certs.display(),
        ),
    );
    let mut cmd = Command::new(prosody);
    cmd.arg("--config").arg(&conf).arg("-F");
    serve(&mut cmd, port, 15.0, || {
        let log = std::fs::read_to_string(dir.join("prosody.log")).unwrap_or_default();
        format!("prosody did not start: {log}")
    })
}

/// A process group killed as a whole when dropped (for daemons that fork workers).
pub struct GroupGuard(std::process::Child);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        // SAFETY: signals the process group this guard started.
        unsafe {
            libc::kill(-(self.0.id() as i32), libc::SIGKILL);
        }
        let _ = self.0.wait();
    }
}

/// kamailio on a loopback port (UDP and TCP) answering OPTIONS with 200 and anything
/// else with 403.
pub fn start_kamailio(dir: &Path) -> (GroupGuard, u16) {
    use std::os::unix::process::CommandExt;
    let kamailio = require("/usr/sbin/kamailio", "kamailio");
    let port = free_port();
    let conf = dir.join("kamailio.cfg");
    write(
        &conf,
        &format!(
            "#!KAMAILIO\ndebug=1\nlog_stderror=yes\nfork=yes\nchildren=1\n\
listen=udp:127.0.0.1:{port}\nlisten=tcp:127.0.0.1:{port}\n\
mpath=\"/usr/lib/x86_64-linux-gnu/kamailio/modules/\"\nloadmodule \"sl.so\"\n\
request_route {{\n  if (method==\"OPTIONS\") {{ sl_send_reply(\"200\", \"OK\"); exit; }}\n  sl_send_reply(\"403\", \"Forbidden\");\n}}\n"
        ),
    );
    let child = Command::new(kamailio)
        .arg("-f")
        .arg(&conf)
        .args(["-DD", "-E", "-w"])
        .arg(dir)
        .arg("-P")
        .arg(dir.join("kamailio.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("start kamailio");
    let guard = GroupGuard(child);
    assert!(wait_port(port, 10.0), "kamailio did not start");
    (guard, port)
}
