//! Real BIND servers for the DNS tests: a master and a slave, each `named -g` in its own
//! temporary directory on its own loopback address, the slave taking the zones from the
//! master by AXFR. Every zone is delegated to `ns1.hcoop.test` (the master) and
//! `ns2.hcoop.test` (the slave), whose addresses the master serves in the `hcoop.test`
//! zone, so a client following the NS records finds both servers.
//!
//! The master never sends NOTIFY: after [`Named::set_serial`] the slave stays behind
//! until it is told to refresh, which is how the tests make it lag on demand.

use crate::{is_root, require, wait_until, Guard};
use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, RecordType};
use std::fmt::Write as _;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The master's loopback address (ns1.hcoop.test).
pub const MASTER_IP: &str = "127.0.0.21";
/// The slave's loopback address (ns2.hcoop.test).
pub const SLAVE_IP: &str = "127.0.0.22";
/// The zone holding the name servers' addresses.
pub const NS_ZONE: &str = "hcoop.test";

/// Gives `lo` the address `ip` (named only listens on addresses an interface carries);
/// an address already there is fine.
pub fn ensure_loopback(ip: &str) {
    assert!(
        is_root(),
        "the DNS tests must run as root (ip addr add, named)"
    );
    let ip_cmd = require("ip", "iproute2");
    let out = Command::new(ip_cmd)
        .args(["addr", "add", &format!("{ip}/32"), "dev", "lo"])
        .output()
        .expect("run ip addr add");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() || err.contains("File exists") || err.contains("already assigned"),
        "ip addr add {ip}/32 dev lo: {err}"
    );
}

/// A zone on the master.
#[derive(Debug, Clone)]
pub struct ZoneSpec {
    pub name: String,
    pub serial: u32,
    /// Records after the SOA and NS, in zone file syntax.
    pub records: String,
    /// Whether the slave carries it too.
    pub on_slave: bool,
}

impl ZoneSpec {
    /// A zone with a serial, no extra records, carried by the slave.
    pub fn new(name: &str, serial: u32) -> ZoneSpec {
        ZoneSpec {
            name: name.to_string(),
            serial,
            records: String::new(),
            on_slave: true,
        }
    }

    /// Adds records.
    pub fn records(mut self, text: &str) -> ZoneSpec {
        self.records.push_str(text);
        self
    }

    /// Keeps the zone off the slave.
    pub fn master_only(mut self) -> ZoneSpec {
        self.on_slave = false;
        self
    }
}

/// The zone file text of a zone.
pub fn zone_text(name: &str, serial: u32, records: &str) -> String {
    format!(
        "$TTL 300\n$ORIGIN {name}.\n@ IN SOA ns1.{NS_ZONE}. hostmaster.{NS_ZONE}. ( {serial} 3600 600 86400 300 )\n@ IN NS ns1.{NS_ZONE}.\n@ IN NS ns2.{NS_ZONE}.\n{records}\n"
    )
}

/// One running named.
pub struct Named {
    /// The temporary directory (configuration, zone files, log).
    pub dir: tempfile::TempDir,
    pub ip: String,
    pub port: u16,
    guard: Guard,
    zones: Vec<ZoneSpec>,
}

fn options(dir: &Path, ip: &str, port: u16, extra: &str) -> String {
    let d = dir.display();
    format!(
        "options {{\n  directory \"{d}\";\n  pid-file \"{d}/named.pid\";\n  session-keyfile \"{d}/session.key\";\n  managed-keys-directory \"{d}\";\n  listen-on port {port} {{ {ip}; }};\n  listen-on-v6 {{ none; }};\n  recursion no;\n  notify no;\n  allow-transfer {{ any; }};\n  dnssec-validation no;\n{extra}}};\ncontrols {{ }};\n"
    )
}

impl Named {
    fn start(dir: tempfile::TempDir, ip: &str, port: u16, zones: Vec<ZoneSpec>) -> Named {
        let named = require("/usr/sbin/named", "bind9");
        let log = std::fs::File::create(dir.path().join("named.log")).expect("named.log");
        let guard = Guard::spawn(
            Command::new(named)
                .arg("-g")
                .arg("-c")
                .arg(dir.path().join("named.conf"))
                .stdout(Stdio::null())
                .stderr(log),
        );
        Named {
            dir,
            ip: ip.to_string(),
            port,
            guard,
            zones,
        }
    }

    /// Starts a master for `zones` (plus `hcoop.test`) on `MASTER_IP:port` and waits
    /// until it answers.
    pub fn master(port: u16, zones: &[ZoneSpec]) -> Named {
        ensure_loopback(MASTER_IP);
        let dir = tempfile::tempdir().expect("tempdir");
        let mut all = vec![ZoneSpec::new(NS_ZONE, 1)
            .records(&format!("ns1 IN A {MASTER_IP}\nns2 IN A {SLAVE_IP}\n"))];
        all.extend(zones.iter().cloned());
        // many slaves' transfers at once (500 zones start together)
        let mut conf = options(
            dir.path(),
            MASTER_IP,
            port,
            "  transfers-out 1000;\n  tcp-clients 1000;\n",
        );
        for z in &all {
            let file = dir.path().join(format!("{}.db", z.name));
            std::fs::write(&file, zone_text(&z.name, z.serial, &z.records)).expect("zone file");
            writeln!(
                conf,
                "zone \"{}\" {{ type master; file \"{}\"; }};",
                z.name,
                file.display()
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("named.conf"), conf).expect("named.conf");
        let n = Named::start(dir, MASTER_IP, port, all);
        n.wait_ready();
        n
    }

    /// Starts a slave of `master` on `SLAVE_IP` (same port) for the zones the master
    /// lets it carry, and waits until it has transferred every one of them.
    pub fn slave(master: &Named) -> Named {
        ensure_loopback(SLAVE_IP);
        let dir = tempfile::tempdir().expect("tempdir");
        let zones: Vec<ZoneSpec> = master
            .zones
            .iter()
            .filter(|z| z.on_slave)
            .cloned()
            .collect();
        let mut conf = options(
            dir.path(),
            SLAVE_IP,
            master.port,
            "  serial-query-rate 1000;\n  transfers-in 200;\n  transfers-per-ns 200;\n",
        );
        for z in &zones {
            writeln!(
                conf,
                "zone \"{}\" {{ type slave; masters {{ {} port {}; }}; file \"{}/{}.db\"; }};",
                z.name,
                master.ip,
                master.port,
                dir.path().display(),
                z.name
            )
            .unwrap();
        }
        std::fs::write(dir.path().join("named.conf"), conf).expect("named.conf");
        let n = Named::start(dir, SLAVE_IP, master.port, zones);
        n.wait_ready();
        n
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        format!("{}:{}", self.ip, self.port).parse().expect("addr")
    }

    /// The configuration file.
    pub fn conf(&self) -> PathBuf {
        self.dir.path().join("named.conf")
    }

    /// The log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("named.log")).unwrap_or_default()
    }

    /// Waits until every zone answers with its serial (30 s at most).
    fn wait_ready(&self) {
        let ok = wait_until(30.0, || {
            self.zones
                .iter()
                .all(|z| self.serial(&z.name) == Some(z.serial))
        });
        assert!(
            ok,
            "named on {} did not serve its zones:\n{}",
            self.addr(),
            self.log()
        );
    }

    /// The serial this server gives for `zone` (authoritative answers only).
    pub fn serial(&self, zone: &str) -> Option<u32> {
        soa_serial(self.addr(), zone)
    }

    /// Rewrites the zone on this (master) server with a new serial and reloads it.
    pub fn set_serial(&mut self, zone: &str, serial: u32) {
        let z = self
            .zones
            .iter_mut()
            .find(|z| z.name == zone)
            .expect("zone of this server");
        z.serial = serial;
        let file = self.dir.path().join(format!("{zone}.db"));
        std::fs::write(&file, zone_text(zone, serial, &z.records)).expect("zone file");
        self.signal(libc::SIGHUP);
        let ok = wait_until(10.0, || self.serial(zone) == Some(serial));
        assert!(
            ok,
            "{zone} was not reloaded with serial {serial}:\n{}",
            self.log()
        );
    }

    /// Sends a signal to named.
    pub fn signal(&self, sig: libc::c_int) {
        // SAFETY: signalling our own child.
        unsafe { libc::kill(self.guard.pid() as libc::pid_t, sig) };
    }

    /// Freezes the server (SIGSTOP): it stops answering.
    pub fn freeze(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Lets a frozen server run again.
    pub fn thaw(&self) {
        self.signal(libc::SIGCONT);
    }
}

/// A master on a fresh port with `zones`, and a slave that has transferred them.
pub fn master_and_slave(zones: &[ZoneSpec]) -> (Named, Named) {
    let port = crate::free_port();
    let master = Named::master(port, zones);
    let slave = Named::slave(&master);
    (master, slave)
}

/// Asks `server` (RD=0) for the SOA of `zone`; the serial of an authoritative answer.
pub fn soa_serial(server: SocketAddr, zone: &str) -> Option<u32> {
    let name = Name::from_ascii(format!("{zone}.")).ok()?;
    let mut m = Message::new();
    m.set_id(4242)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(false);
    m.add_query(Query::query(name, RecordType::SOA));
    let sock = UdpSocket::bind("127.0.0.1:0").ok()?;
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .ok()?;
    sock.send_to(&m.to_vec().ok()?, server).ok()?;
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).ok()?;
    let r = Message::from_vec(&buf[..n]).ok()?;
    if !r.authoritative() {
        return None;
    }
    r.answers().iter().find_map(|rec| match rec.data() {
        RData::SOA(soa) => Some(soa.serial()),
        _ => None,
    })
}
