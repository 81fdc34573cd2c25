//! The configuration sections of the daemon's edges, as written: `[forward]` (the
//! peers results are forwarded to) and `[nrpe]` (the NRPE agent the daemon serves).
//! Plain data here; what they mean, how they are checked against the rest of the
//! configuration and run, is in [`crate::forward`] and [`crate::nrpe`], which stand on
//! the configuration (never the other way round).

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

// ---- [forward]

/// The `[forward]` section: one optional table per peer.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forward {
    /// `[forward.nagios]`: results written to Nagios's external command file.
    pub nagios: Option<NagiosConfig>,
    /// `[forward.icinga2]`: results posted to the Icinga 2 REST API.
    pub icinga2: Option<Icinga2Config>,
}

/// Settings every sink has (flattened into its table).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinkSettings {
    /// Send every result under this host name instead of the daemon's own host names
    /// (a daemon that checks one machine the peer knows by another name).
    pub host_name: Option<String>,
    /// Forward only the services matching one of these patterns (`*`, `?`, `[...]`
    /// wildcards): `HOST/SERVICE` patterns match both names, others the service name.
    /// Empty: every service. Host results are always forwarded.
    #[serde(default)]
    pub services: Vec<String>,
    /// How many results may wait for the peer; further ones are dropped (counted).
    pub queue_size: Option<usize>,
    /// How long to wait before trying an absent peer again (default 5s).
    #[serde(default, with = "super::opt_duration")]
    pub retry_interval: Option<Duration>,
}

/// `[forward.nagios]` as written in the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NagiosConfig {
    /// Nagios's external command file (a FIFO).
    pub command_file: PathBuf,
    #[serde(flatten)]
    pub settings: SinkSettings,
}

/// The Icinga 2 API port.
pub const DEFAULT_PORT: u16 = 5665;
/// Where an Icinga 2 node keeps its CA certificate.
pub const DEFAULT_CA_FILE: &str = "/var/lib/icinga2/certs/ca.crt";

fn default_port() -> u16 {
    DEFAULT_PORT
}

fn default_ca_file() -> PathBuf {
    PathBuf::from(DEFAULT_CA_FILE)
}

/// `[forward.icinga2]` as written in the configuration.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Icinga2Config {
    /// The Icinga 2 node's name or address to connect to.
    pub host: String,
    /// The API port (5665).
    #[serde(default = "default_port")]
    pub port: u16,
    /// The name the server certificate must carry (default: `host`); Icinga names a
    /// node's certificate after the node (its NodeName).
    pub server_name: Option<String>,
    /// The CA certificate(s) the server certificate must chain to (PEM).
    #[serde(default = "default_ca_file")]
    pub ca_file: PathBuf,
    /// The ApiUser for basic authentication; needs `password_file`.
    pub username: Option<String>,
    /// A file holding the ApiUser's password (its first line).
    pub password_file: Option<PathBuf>,
    /// A client certificate (PEM) for an ApiUser with `client_cn`; needs `client_key`.
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    pub client_key: Option<PathBuf>,
    /// How long a result stays valid: without a newer one within the ttl, Icinga sets
    /// the object UNKNOWN. Unset: no ttl.
    #[serde(default, with = "super::opt_duration")]
    pub ttl: Option<Duration>,
    /// The `check_source` Icinga shows (default: this machine's host name).
    pub check_source: Option<String>,
    /// How long one delivery may take (default 10 s).
    #[serde(default, with = "super::opt_duration")]
    pub timeout: Option<Duration>,
    #[serde(flatten)]
    pub settings: SinkSettings,
}

// ---- [nrpe]

/// The default of [`AgentOptions::max_connections_per_peer`].
pub const DEFAULT_MAX_CONNECTIONS_PER_PEER: usize = 16;

/// The `[nrpe]` table as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NrpeSection {
    /// An nrpe.cfg read first (with its includes).
    pub nrpe_cfg: Option<PathBuf>,
    pub server_port: Option<u16>,
    pub server_address: Option<String>,
    /// Addresses, networks (`ADDR/BITS`, `ADDR/NETMASK`) or host names.
    pub allowed_hosts: Option<Vec<String>>,
    /// Whether queries may carry arguments for `$ARGn$`.
    pub dont_blame_nrpe: Option<bool>,
    pub nasty_metachars: Option<String>,
    /// Put before every external command line.
    pub command_prefix: Option<String>,
    #[serde(default, with = "super::opt_duration")]
    pub command_timeout: Option<Duration>,
    #[serde(default, with = "super::opt_duration")]
    pub connection_timeout: Option<Duration>,
    /// Time for the TLS handshake and the request, from the connection (default 10s;
    /// capped by connection_timeout).
    #[serde(default, with = "super::opt_duration")]
    pub request_timeout: Option<Duration>,
    pub ssl_cert_file: Option<PathBuf>,
    pub ssl_privatekey_file: Option<PathBuf>,
    pub ssl_cacert_file: Option<PathBuf>,
    /// 0: no client certificate asked; 1: asked; 2: required.
    pub ssl_client_certs: Option<u8>,
    /// TLS (the default, for check_nrpe's default mode); false serves plain TCP, for
    /// `check_nrpe -n`.
    #[serde(default = "yes")]
    pub tls: bool,
    /// Connections served at once; further ones are closed at once.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Connections served at once from one peer address; further ones are closed at
    /// once.
    #[serde(default = "default_max_connections_per_peer")]
    pub max_connections_per_peer: usize,
    /// The commands by the name check_nrpe's `-c` asks for.
    #[serde(default)]
    pub command: BTreeMap<String, NrpeCommand>,
}

/// One `[nrpe.command.NAME]` table: a built-in check with its arguments, or an
/// external command line.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NrpeCommand {
    /// A built-in check by plugin name (`check_load`).
    pub check: Option<String>,
    /// The built-in check's arguments, one word each (`$ARGn$` allowed).
    #[serde(default)]
    pub args: Vec<String>,
    /// An external command line, run by the shell.
    pub command: Option<String>,
}

fn yes() -> bool {
    true
}

fn default_max_connections() -> usize {
    256
}

fn default_max_connections_per_peer() -> usize {
    DEFAULT_MAX_CONNECTIONS_PER_PEER
}
