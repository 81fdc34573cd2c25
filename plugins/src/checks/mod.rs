//! One module per check. Each exposes a type implementing [`crate::plugin::Check`].

use crate::plugin::runner::{prepare, Check, DynCheck, UsageError};
use std::sync::Arc;

pub mod afs;
pub mod disk;
pub mod dns;
pub mod dns_serial;
pub mod file_age;
pub mod http;
pub use http::HttpModes;
pub mod icmp;
pub mod imap;
pub mod krb5;
pub mod listen;
pub mod load;
pub mod logwatch;
pub mod mail_roundtrip;
pub mod mailq;
pub mod mem;
pub mod mx;
pub mod net;
pub mod nrpe_client;
pub mod ping;
pub mod procs;
pub mod quota;
pub mod services;
pub mod sql;
pub use sql::mysql_query;
pub use sql::{mysql, pgsql};
pub mod sip;
pub mod smtp;
pub mod swap;
pub use services::tcp;
pub mod dig;
pub mod dummy;
pub mod ldap;
pub mod ntp_peer;
pub mod ntp_time;
pub mod users;

/// Builds a validated check from its arguments.
pub type Builder = fn(&[String]) -> Result<Arc<dyn DynCheck>, UsageError>;

/// A built-in check: its plugin name (`check_load`, also the name of its binary in
/// `src/bin`), how it is built from arguments, and its clap command line definition
/// (for man pages, completions and the Nagios and Icinga 2 command definitions).
#[derive(Clone, Copy)]
pub struct Builtin {
    /// The plugin name, `check_load`.
    pub name: &'static str,
    /// Validates arguments (without the program name) into a runnable check.
    pub build: Builder,
    /// The check's command line definition.
    pub command: fn() -> clap::Command,
}

/// The clap command of a check's arguments.
fn command<C: Check>() -> clap::Command {
    <C::Args as clap::CommandFactory>::command()
}

/// The [`Builtin`] entry of check `C` named `name`.
const fn entry<C: Check>(name: &'static str) -> Builtin {
    Builtin {
        name,
        build: prepare::<C>,
        command: command::<C>,
    }
}

/// The built-in checks by plugin name (`check_load`) for the scheduler; every binary in
/// `src/bin` is one of them.
pub const BUILTINS: &[Builtin] = &[
    entry::<load::LoadCheck>("check_load"),
    entry::<disk::DiskCheck>("check_disk"),
    entry::<mem::MemCheck>("check_mem"),
    entry::<nrpe_client::NrpeClientCheck>("check_nrpe_client"),
    entry::<swap::SwapCheck>("check_swap"),
    entry::<dns::DnsCheck>("check_dns"),
    entry::<tcp::TcpCheck>("check_tcp"),
    entry::<procs::ProcsCheck>("check_procs"),
    entry::<dns_serial::DnsSerialCheck>("check_dns_serial"),
    entry::<services::SshCheck>("check_ssh"),
    entry::<services::FtpCheck>("check_ftp"),
    entry::<services::JabberCheck>("check_jabber"),
    entry::<services::SpamdCheck>("check_spamd"),
    entry::<afs::AfsCheck>("check_afs"),
    entry::<krb5::Krb5Check>("check_krb5"),
    entry::<HttpModes>("check_http"),
    entry::<file_age::FileAgeCheck>("check_file_age"),
    entry::<mailq::MailqCheck>("check_mailq"),
    entry::<logwatch::LogCheck>("check_log"),
    entry::<net::NetCheck>("check_net"),
    entry::<pgsql::PgsqlCheck>("check_pgsql"),
    entry::<mysql::MysqlCheck>("check_mysql"),
    entry::<sip::SipCheck>("check_sip"),
    entry::<listen::ListenCheck>("check_listen"),
    entry::<smtp::SmtpCheck>("check_smtp"),
    entry::<imap::ImapCheck>("check_imap"),
    entry::<mx::MxCheck>("check_mx"),
    entry::<mail_roundtrip::RoundtripCheck>("check_mail_roundtrip"),
    entry::<quota::QuotaCheck>("check_quota"),
    entry::<dummy::DummyCheck>("check_dummy"),
    entry::<users::UsersCheck>("check_users"),
    entry::<dig::DigCheck>("check_dig"),
    entry::<ldap::LdapCheck>("check_ldap"),
    entry::<ldap::LdapsCheck>("check_ldaps"),
    entry::<tcp::UdpCheck>("check_udp"),
    entry::<tcp::PopCheck>("check_pop"),
    entry::<tcp::SpopCheck>("check_spop"),
    entry::<tcp::SimapCheck>("check_simap"),
    entry::<tcp::SsmtpCheck>("check_ssmtp"),
    entry::<http::CurlCheck>("check_curl"),
    entry::<icmp::IcmpCheck>("check_icmp"),
    entry::<icmp::HostCheck>("check_host"),
    entry::<ping::PingCheck>("check_ping"),
    entry::<mysql_query::MysqlQueryCheck>("check_mysql_query"),
    entry::<ntp_time::NtpTimeCheck>("check_ntp_time"),
    entry::<ntp_peer::NtpPeerCheck>("check_ntp_peer"),
];

/// Finds a built-in check by its plugin name, with or without the `check_` prefix.
pub fn builtin(name: &str) -> Option<Builder> {
    let name = name.rsplit('/').next().unwrap_or(name);
    BUILTINS
        .iter()
        .find(|b| b.name == name || b.name.strip_prefix("check_") == Some(name))
        .map(|b| b.build)
}
