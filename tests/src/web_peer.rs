//! nginx answering the paths of monitoring-plugins' own check_http tests, so the peer's
//! cases run against Debian's check_http/check_curl and ours on the same server: over
//! HTTP, over HTTPS (a certificate for 127.0.0.1 and localhost from the test CA), over
//! HTTPS with an expired certificate, over HTTPS requiring a client certificate, and
//! over HTTP behind the PROXY protocol.
//!
//! Paths (every server): `/statuscode/200|201|203` that status and no body, `/file/root`
//! a fixed 274-byte page (with "Root" in it), `/slow` a body sent over more than a
//! second, `/method` 200 with the method as body (405 for DELETE), `/postdata`
//! `METHOD:BODY` of the request, `/redirect` 301 to `/redirect2`, `/redirect2` 200
//! `redirected`, `/redir_external` 301 to `http(s)://169.254.169.254/redirect2`,
//! `/redir_timeout` 301 to `/timeout`, `/timeout` never answered (a listener that does
//! not accept), `/header_check` a `foo` header, `/virtual_port` the Host header as body,
//! `/chunked` a chunked body `chunkedencodingtest`, `/gzip` a gzip-compressed page when
//! asked for one, `/modified` a page last modified in 2001, `/cookie` 302 to `/cookie_check` setting a
//! cookie, `/cookie_check` the cookie `peer` as body, `/` a short index page, anything else 404.

use crate::testca::{openssl, TestCa};
use crate::web::{nginx_head, run_nginx, wait_port, CertPair, Pki};
use crate::{free_port, Guard};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// The servers of the peer's paths.
pub struct PeerNginx {
    _guard: Guard,
    /// Holds `/timeout`'s upstream: connections queue, none is answered.
    _blackhole: TcpListener,
    pub http_port: u16,
    pub https_port: u16,
    pub expired_port: u16,
    pub clientcert_port: u16,
    /// HTTP behind the PROXY protocol: answers `/` with the client address it was told.
    pub haproxy_port: u16,
    /// The test CA that signed the HTTPS certificates (for our `--ca-cert`).
    pub ca_cert: PathBuf,
    /// A client certificate and key the client-certificate server accepts.
    pub client: CertPair,
    pub dir: PathBuf,
}

/// The 274 bytes of `/file/root`.
pub fn root_page() -> String {
    let mut page = String::from("Root page of the monitoring plugins test server\n");
    while page.len() < 273 {
        page.push('.');
    }
    page.push('\n');
    page
}

fn write(path: &Path, text: &[u8]) {
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).expect("create dir");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// A certificate for 127.0.0.1 and localhost, valid 200 days, from the CA of `pki`.
fn ip_cert(pki: &Pki, dir: &Path) -> CertPair {
    let pki_dir = pki.ca_cert.parent().expect("pki dir").to_path_buf();
    let (key, csr, cert) = (
        dir.join("peer-server.key"),
        dir.join("peer-server.csr"),
        dir.join("peer-server.crt"),
    );
    let s = |p: &Path| p.to_str().expect("UTF-8 path").to_string();
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=Monitoring Plugins",
            "-addext",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout",
            &s(&key),
            "-out",
            &s(&csr),
        ],
    );
    openssl(
        dir,
        &[
            "ca",
            "-batch",
            "-notext",
            "-config",
            &s(&pki_dir.join("ca.cnf")),
            "-in",
            &s(&csr),
            "-out",
            &s(&cert),
            "-days",
            "200",
        ],
    );
    CertPair { cert, key }
}

/// Starts the servers in `dir/peer-nginx`.
pub fn start_peer_nginx(dir: &Path) -> PeerNginx {
    let dir = dir.join("peer-nginx");
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki::new(&dir);
    let server = ip_cert(&pki, &dir);
    let expired = pki.issue(
        "expired.test",
        &["localhost"],
        Some(("20080101120000Z", "20080102120000Z")),
    );
    let client_ca = TestCa::new(&dir, "clientca", "peer client CA");
    let (ccert, ckey) = client_ca.issue(
        "client",
        "peer client",
        "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n",
    );
    let blackhole = TcpListener::bind("127.0.0.1:0").expect("bind");
    let hole = blackhole.local_addr().unwrap().port();
    let www = dir.join("www");
    write(&www.join("file/root"), root_page().as_bytes());
    write(&www.join("slow"), &[b's'; 1500]);
    write(
        &www.join("chunked/index.html"),
        b"chunked<!--# echo var=\"empty\" default=\"\" -->encoding<!--# echo var=\"empty\" default=\"\" -->test\n",
    );
    write(
        &www.join("gzip"),
        b"a compressed page with the word inflated\n",
    );
    let gz = std::process::Command::new("gzip")
        .args(["-k", "-9"])
        .arg(www.join("gzip"))
        .status()
        .expect("run gzip");
    assert!(gz.success(), "gzip failed");
    write(&www.join("modified"), b"an old page\n");
    let old = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(www.join("modified"))
        .and_then(|f| f.set_modified(old))
        .expect("set mtime");
    let (hp, sp, ep, cp, pp) = (
        free_port(),
        free_port(),
        free_port(),
        free_port(),
        free_port(),
    );
    let d = dir.display();
    let paths = |scheme: &str| {
        format!(
            r#"
    root {d}/www;
    location = /statuscode/200 {{ return 200; }}
    location = /statuscode/201 {{ return 201; }}
    location = /statuscode/203 {{ return 203; }}
    location = /file/root {{ default_type text/plain; }}
    location = /slow {{ default_type text/plain; limit_rate 1000; }}
    location = /method {{ if ($request_method = DELETE) {{ return 405; }} return 200 "$request_method\n"; }}
    location = /postdata {{
      proxy_set_header X-Peer-Body "$request_method:$request_body";
      proxy_pass http://127.0.0.1:{hp}/echo_body;
    }}
    location = /echo_body {{ return 200 "$http_x_peer_body\n"; }}
    location = /redirect {{ return 301 /redirect2; }}
    location = /redirect2 {{ return 200 "redirected\n"; }}
    location = /redir_external {{ return 301 {scheme}://169.254.169.254/redirect2; }}
    location = /redir_timeout {{ return 301 /timeout; }}
    location = /timeout {{ proxy_read_timeout 300s; proxy_pass http://127.0.0.1:{hole}; }}
    location = /header_check {{ add_header foo yes; return 200; }}
    location = /virtual_port {{ return 200 "$http_host"; }}
    location /chunked/ {{ ssi on; default_type text/html; }}
    location = /gzip {{ gzip_static on; default_type text/plain; }}
    location = /modified {{ default_type text/plain; }}
    location = /cookie {{ add_header Set-Cookie "peer=yes; Path=/"; return 302 /cookie_check; }}
    location = /cookie_check {{ return 200 "cookie $cookie_peer\n"; }}
    location = / {{ return 200 "index of the monitoring plugins test server\n"; }}
    location / {{ return 404; }}
    port_in_redirect on;
    server_name_in_redirect off;
    absolute_redirect on;
"#
        )
    };
    let tls = CertPair::nginx_directives;
    let conf = format!(
        r#"{head}
  default_type text/html;
  gzip on;
  gzip_types text/plain;
  server {{ listen 127.0.0.1:{hp}; {http} }}
  server {{ listen 127.0.0.1:{sp} ssl; {ts} {https} }}
  server {{ listen 127.0.0.1:{ep} ssl; {te} {https} }}
  server {{ listen 127.0.0.1:{cp} ssl; {ts} ssl_verify_client on; ssl_client_certificate {cca}; {https} }}
  server {{ listen 127.0.0.1:{pp} proxy_protocol; location / {{ return 200 "client $proxy_protocol_addr:$proxy_protocol_port\n"; }} }}
}}
"#,
        head = nginx_head(&dir, 256),
        http = paths("http"),
        https = paths("https"),
        ts = tls(&server),
        te = tls(&expired),
        cca = client_ca.cert().display(),
    );
    let guard = run_nginx(&dir, &conf);
    assert!(
        [hp, sp, ep, cp, pp].iter().all(|p| wait_port(*p, 10.0)),
        "nginx did not start: {}",
        std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
    PeerNginx {
        _guard: guard,
        _blackhole: blackhole,
        http_port: hp,
        https_port: sp,
        expired_port: ep,
        clientcert_port: cp,
        haproxy_port: pp,
        ca_cert: pki.ca_cert.clone(),
        client: CertPair {
            cert: ccert,
            key: ckey,
        },
        dir,
    }
}
