//! One module per check. Each exposes a type implementing [`crate::plugin::Check`].

use crate::plugin::runner::{prepare, DynCheck, UsageError};
use std::sync::Arc;

pub mod afs;
pub mod disk;
pub mod dns;
pub mod dns_serial;
pub mod dnsclient;
pub mod file_age;
pub mod http;
pub mod httpclient;
pub mod imap;
pub mod krb5;
pub mod listen;
pub mod load;
pub mod logwatch;
pub mod mail_roundtrip;
pub mod mailproto;
pub mod mailq;
pub mod mem;
pub mod mx;
pub mod mysql;
pub mod net;
pub mod netio;
pub mod nrpe_client;
pub mod pgsql;
pub mod processes;
pub mod procs;
pub mod quota;
pub mod services;
pub mod sip;
pub mod smtp;
pub mod sql;
pub mod statefile;
pub mod subprocess;
pub mod swap;
pub mod tcp;
pub mod tls;
pub mod vhosts;

/// Builds a validated check from its arguments.
pub type Builder = fn(&[String]) -> Result<Arc<dyn DynCheck>, UsageError>;

/// The built-in checks by plugin name (`check_load`) for the scheduler.
pub const BUILTINS: &[(&str, Builder)] = &[
    ("check_load", prepare::<load::LoadCheck>),
    ("check_disk", prepare::<disk::DiskCheck>),
    ("check_mem", prepare::<mem::MemCheck>),
    ("check_nrpe_client", prepare::<nrpe_client::NrpeClientCheck>),
    ("check_swap", prepare::<swap::SwapCheck>),
    ("check_dns", prepare::<dns::DnsCheck>),
    ("check_tcp", prepare::<tcp::TcpCheck>),
    ("check_procs", prepare::<procs::ProcsCheck>),
    ("check_dns_serial", prepare::<dns_serial::DnsSerialCheck>),
    ("check_ssh", prepare::<services::SshCheck>),
    ("check_ftp", prepare::<services::FtpCheck>),
    ("check_jabber", prepare::<services::JabberCheck>),
    ("check_spamd", prepare::<services::SpamdCheck>),
    ("check_afs", prepare::<afs::AfsCheck>),
    ("check_krb5", prepare::<krb5::Krb5Check>),
    ("check_http", prepare::<http::HttpCheck>),
    ("check_file_age", prepare::<file_age::FileAgeCheck>),
    ("check_mailq", prepare::<mailq::MailqCheck>),
    ("check_log", prepare::<logwatch::LogCheck>),
    ("check_net", prepare::<net::NetCheck>),
    ("check_pgsql", prepare::<pgsql::PgsqlCheck>),
    ("check_mysql", prepare::<mysql::MysqlCheck>),
    ("check_sip", prepare::<sip::SipCheck>),
    ("check_listen", prepare::<listen::ListenCheck>),
    ("check_smtp", prepare::<smtp::SmtpCheck>),
    ("check_imap", prepare::<imap::ImapCheck>),
    ("check_mx", prepare::<mx::MxCheck>),
    (
        "check_mail_roundtrip",
        prepare::<mail_roundtrip::RoundtripCheck>,
    ),
    ("check_quota", prepare::<quota::QuotaCheck>),
];

/// Finds a built-in check by its plugin name, with or without the `check_` prefix.
pub fn builtin(name: &str) -> Option<Builder> {
    let name = name.rsplit('/').next().unwrap_or(name);
    BUILTINS
        .iter()
        .find(|(n, _)| *n == name || n.strip_prefix("check_") == Some(name))
        .map(|(_, b)| *b)
}
