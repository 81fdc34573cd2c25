//! Servers whose greeting the banner checks read (check_pop, check_spop, check_simap,
//! check_ssmtp, check_udp): one Dovecot with POP3, POP3S, IMAPS and submission over TLS
//! listeners on loopback ports, and a UDP responder that answers every datagram.

use crate::mail::{dovecot_dir, dovecot_log, readable_cert, run_dovecot};
use crate::web::CertPair;
use crate::{free_port, require, Guard};
use std::net::UdpSocket;
use tempfile::TempDir;

/// A running Dovecot with the greeting listeners of the banner checks. It has no
/// mailboxes: the checks read the greeting and quit.
pub struct Greeters {
    pub pop3_port: u16,
    pub pop3s_port: u16,
    pub imaps_port: u16,
    /// SMTP submission with TLS from the start (what check_ssmtp reads on 465).
    pub submissions_port: u16,
    dir: TempDir,
    _child: Guard,
}

impl Greeters {
    /// Starts Dovecot on 127.0.0.1 with `cert` on its TLS listeners; waits until every
    /// listener accepts.
    pub fn start(cert: &CertPair) -> Greeters {
        require("/usr/lib/dovecot/pop3-login", "dovecot-pop3d");
        require("/usr/lib/dovecot/submission-login", "dovecot-submissiond");
        let (dovecot, dir) = dovecot_dir("greeters");
        let d = dir.path();
        let CertPair { cert: crt, key } = readable_cert(cert, d);
        std::fs::write(d.join("passwd"), "").unwrap();
        let ports = [free_port(), free_port(), free_port(), free_port()];
        let [pop3, pop3s, imaps, submissions] = ports;
        let conf = d.join("dovecot.conf");
        std::fs::write(
            &conf,
            format!(
                "protocols = imap pop3 submission\n\
                 listen = 127.0.0.1\n\
                 base_dir = {d}/run\n\
                 state_dir = {d}/state\n\
                 log_path = {d}/dovecot.log\n\
                 hostname = mail.hcoop.test\n\
                 submission_relay_host = 127.0.0.1\n\
                 ssl = yes\n\
                 ssl_cert = <{crt}\n\
                 ssl_key = <{key}\n\
                 mail_location = maildir:~/Maildir\n\
                 passdb {{\n  driver = passwd-file\n  args = scheme=PLAIN {d}/passwd\n}}\n\
                 userdb {{\n  driver = passwd-file\n  args = {d}/passwd\n}}\n\
                 service imap-login {{\n  inet_listener imap {{\n    port = 0\n  }}\n  \
                 inet_listener imaps {{\n    port = {imaps}\n    ssl = yes\n  }}\n}}\n\
                 service pop3-login {{\n  inet_listener pop3 {{\n    port = {pop3}\n  }}\n  \
                 inet_listener pop3s {{\n    port = {pop3s}\n    ssl = yes\n  }}\n}}\n\
                 service submission-login {{\n  inet_listener submission {{\n    port = 0\n  }}\n  \
                 inet_listener submissions {{\n    port = {submissions}\n    ssl = yes\n  }}\n}}\n",
                d = d.display(),
                crt = crt.display(),
                key = key.display(),
            ),
        )
        .unwrap();
        let child = run_dovecot(&dovecot, d, &ports);
        Greeters {
            pop3_port: pop3,
            pop3s_port: pop3s,
            imaps_port: imaps,
            submissions_port: submissions,
            dir,
            _child: child,
        }
    }

    /// Dovecot's log.
    pub fn log(&self) -> String {
        dovecot_log(self.dir.path())
    }
}

/// A UDP responder on 127.0.0.1 that answers every datagram (an empty one too) with
/// `reply` and a newline, as the peer's test has netcat do. It is a socket of the test's
/// own: socat's UDP fork mode lost datagrams (one in a few) under this pattern of
/// senders, and Debian's inetd services echo what they get instead.
pub struct UdpResponder {
    pub port: u16,
}

impl UdpResponder {
    /// Starts answering on a free port; lives as long as the test process.
    pub fn start(reply: &str) -> UdpResponder {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = sock.local_addr().unwrap().port();
        let answer = format!("{reply}\n").into_bytes();
        std::thread::spawn(move || {
            let mut buf = [0u8; 2048];
            while let Ok((_, from)) = sock.recv_from(&mut buf) {
                let _ = sock.send_to(&answer, from);
            }
        });
        UdpResponder { port }
    }
}

/// A UDP port on 127.0.0.1 nobody listens on (the kernel refuses datagrams to it).
pub fn free_udp_port() -> u16 {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}
