//! A real OpenLDAP slapd for check_ldap: a temporary directory with a slapd.conf (an
//! MDB database under `dc=hcoop,dc=test`, its manager `cn=admin,dc=hcoop,dc=test`), data
//! loaded by slapadd, and slapd in the foreground listening on two loopback ports, one
//! plain LDAP (STARTTLS offered) and one LDAPS, with a certificate of the test CA.

use crate::testca::TestCa;
use crate::{free_port, require, spawn_listening, Guard};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The directory's suffix.
pub const SUFFIX: &str = "dc=hcoop,dc=test";
/// The manager's DN (the rootdn).
pub const ADMIN_DN: &str = "cn=admin,dc=hcoop,dc=test";
/// The manager's password.
pub const ADMIN_PASSWORD: &str = "s3cret-admin";
/// A user who may bind: `uid=alice,ou=people,dc=hcoop,dc=test`.
pub const ALICE_DN: &str = "uid=alice,ou=people,dc=hcoop,dc=test";
/// Alice's password.
pub const ALICE_PASSWORD: &str = "alice-pw";
/// How many people `ou=people` holds (alice and the numbered others).
pub const PEOPLE: u64 = 12;
/// How many entries the whole tree holds: the suffix, `ou=people`, the people.
pub const ENTRIES: u64 = PEOPLE + 2;

/// One running slapd.
pub struct Slapd {
    pub dir: tempfile::TempDir,
    /// The plain LDAP port (STARTTLS offered).
    pub port: u16,
    /// The LDAPS port.
    pub ldaps_port: u16,
    /// The CA that signed the server's certificate (`localhost`, `127.0.0.1`).
    pub ca: PathBuf,
    _guard: Guard,
}

fn ldif() -> String {
    let mut s = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: hcoop\no: hcoop test\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: {ALICE_DN}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: Example\nuserPassword: {ALICE_PASSWORD}\n\n"
    );
    for i in 1..PEOPLE {
        let _ = write!(
            s,
            "dn: uid=user{i},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: user{i}\ncn: User {i}\nsn: Number{i}\n\n"
        );
    }
    s
}

fn conf(dir: &Path, cert: &Path, key: &Path) -> String {
    let d = dir.display();
    format!(
        "include /etc/ldap/schema/core.schema\n\
         include /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/inetorgperson.schema\n\
         pidfile {d}/slapd.pid\n\
         modulepath /usr/lib/ldap\n\
         moduleload back_mdb\n\
         TLSCertificateFile {}\n\
         TLSCertificateKeyFile {}\n\
         access to attrs=userPassword by self write by anonymous auth by * none\n\
         access to * by * read\n\
         database mdb\n\
         maxsize 16777216\n\
         suffix \"{SUFFIX}\"\n\
         rootdn \"{ADMIN_DN}\"\n\
         rootpw {ADMIN_PASSWORD}\n\
         directory {d}/db\n",
        cert.display(),
        key.display()
    )
}

impl Slapd {
    /// Starts slapd on two free loopback ports; waits until both accept connections.
    pub fn start() -> Slapd {
        let slapd = require("/usr/sbin/slapd", "slapd");
        let slapadd = require("/usr/sbin/slapadd", "slapd");
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = TestCa::new(dir.path(), "ca", "test CA");
        let (cert, key) = ca.issue(
            "server",
            "localhost",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
        );
        std::fs::create_dir(dir.path().join("db")).expect("db dir");
        let conf_path = dir.path().join("slapd.conf");
        std::fs::write(&conf_path, conf(dir.path(), &cert, &key)).expect("slapd.conf");
        let ldif_path = dir.path().join("data.ldif");
        std::fs::write(&ldif_path, ldif()).expect("data.ldif");
        let out = Command::new(slapadd)
            .arg("-f")
            .arg(&conf_path)
            .arg("-l")
            .arg(&ldif_path)
            .output()
            .expect("run slapadd");
        assert!(
            out.status.success(),
            "slapadd: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (port, ldaps_port) = (free_port(), free_port());
        let urls = format!("ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{ldaps_port}/");
        let log = dir.path().join("slapd.log");
        let guard = spawn_listening(
            Command::new(slapd)
                .arg("-d")
                .arg("0")
                .arg("-f")
                .arg(&conf_path)
                .arg("-h")
                .arg(&urls),
            ("127.0.0.1", port),
            15.0,
            || std::fs::read_to_string(&log).unwrap_or_default(),
        );
        assert!(
            crate::wait_until(5.0, || std::net::TcpStream::connect((
                "127.0.0.1",
                ldaps_port
            ))
            .is_ok()),
            "slapd does not listen on its LDAPS port {ldaps_port}"
        );
        Slapd {
            ca: ca.cert(),
            dir,
            port,
            ldaps_port,
            _guard: guard,
        }
    }
}
