//! The `[nrpe]` section of the daemon's configuration: the daemon serves NRPE itself,
//! beside its scheduler, so a server needs no separate agent.
//!
//! ```toml
//! [nrpe]
//! server_port = 5666
//! allowed_hosts = ["127.0.0.1", "::1", "192.0.2.0/24"]
//! nrpe_cfg = "/etc/nagios/nrpe.cfg"   # optional: its commands and settings first
//!
//! [nrpe.command.check_load]           # a built-in check, run in-process
//! check = "check_load"
//! args = ["-w", "15,10,5", "-c", "30,25,20"]
//!
//! [nrpe.command.check_users]          # an external command line
//! command = "/usr/lib/nagios/plugins/check_users -w 5 -c 10"
//! ```
//!
//! The keys are nrpe.cfg's, with TOML types; a key set here wins over the nrpe.cfg
//! named by `nrpe_cfg`, and commands defined here are added to (or replace) its ones.

use super::cfg::{parse_allowed, ClientCerts, CommandLine, NrpeConfig};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

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
    #[serde(default, with = "crate::config::opt_duration")]
    pub command_timeout: Option<Duration>,
    #[serde(default, with = "crate::config::opt_duration")]
    pub connection_timeout: Option<Duration>,
    /// Time for the TLS handshake and the request, from the connection (default 10s;
    /// capped by connection_timeout).
    #[serde(default, with = "crate::config::opt_duration")]
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
    super::server::DEFAULT_MAX_CONNECTIONS_PER_PEER
}

impl NrpeCommand {
    fn line(&self, name: &str) -> Result<CommandLine, String> {
        match (&self.check, &self.command) {
            (Some(check), None) => {
                let mut words = vec![check.clone()];
                words.extend(self.args.iter().cloned());
                Ok(CommandLine::Builtin(words))
            }
            (None, Some(line)) if self.args.is_empty() => Ok(CommandLine::External(line.clone())),
            (None, Some(_)) => Err(format!(
                "command '{name}': args go with check, not with command"
            )),
            (Some(_), Some(_)) => Err(format!(
                "command '{name}': give either check or command, not both"
            )),
            (None, None) => Err(format!("command '{name}': needs check or command")),
        }
    }
}

impl NrpeSection {
    /// The agent's configuration: the nrpe.cfg named by `nrpe_cfg` (if any) with this
    /// section's settings over it. Built-in commands without `$ARGn$` are built here,
    /// so bad arguments are reported with the configuration.
    pub fn resolve(&self) -> Result<NrpeConfig, String> {
        let mut cfg = match &self.nrpe_cfg {
            Some(path) => NrpeConfig::load(path)?,
            None => NrpeConfig::default(),
        };
        if let Some(p) = self.server_port {
            if p == 0 {
                return Err("server_port: 0 is not a port".into());
            }
            cfg.server_port = p;
        }
        if let Some(a) = &self.server_address {
            cfg.server_address = Some(a.clone());
        }
        if let Some(hosts) = &self.allowed_hosts {
            let parsed = hosts
                .iter()
                .map(|h| parse_allowed(h))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("allowed_hosts: {e}"))?;
            cfg.allowed_hosts = Some(parsed);
        }
        if let Some(b) = self.dont_blame_nrpe {
            cfg.dont_blame_nrpe = b;
        }
        if let Some(m) = &self.nasty_metachars {
            cfg.nasty_metachars = m.clone();
        }
        if let Some(p) = &self.command_prefix {
            cfg.command_prefix = (!p.is_empty()).then(|| p.clone());
        }
        for (key, value, slot) in [
            (
                "command_timeout",
                self.command_timeout,
                &mut cfg.command_timeout,
            ),
            (
                "connection_timeout",
                self.connection_timeout,
                &mut cfg.connection_timeout,
            ),
        ] {
            match value {
                Some(d) if d.is_zero() => return Err(format!("{key}: must be more than 0s")),
                Some(d) => *slot = d,
                None => {}
            }
        }
        for (value, slot) in [
            (&self.ssl_cert_file, &mut cfg.ssl_cert_file),
            (&self.ssl_privatekey_file, &mut cfg.ssl_privatekey_file),
            (&self.ssl_cacert_file, &mut cfg.ssl_cacert_file),
        ] {
            if value.is_some() {
                slot.clone_from(value);
            }
        }
        if let Some(n) = self.ssl_client_certs {
            cfg.ssl_client_certs = match n {
                0 => ClientCerts::No,
                1 => ClientCerts::Ask,
                2 => ClientCerts::Require,
                _ => return Err(format!("ssl_client_certs: {n} is not 0, 1 or 2")),
            };
        }
        if self.max_connections == 0 {
            return Err("max_connections: must be at least 1".into());
        }
        if self.max_connections_per_peer == 0 {
            return Err("max_connections_per_peer: must be at least 1".into());
        }
        if self.request_timeout.is_some_and(|d| d.is_zero()) {
            return Err("request_timeout: must be more than 0s".into());
        }
        for (name, cmd) in &self.command {
            if name.is_empty() || name.contains(['!', '\n', '\r']) {
                return Err(format!("command '{name}': not a usable NRPE command name"));
            }
            cfg.commands.insert(name.clone(), cmd.line(name)?);
        }
        cfg.validate()?;
        super::server::check_commands(&cfg)?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(text: &str) -> NrpeSection {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn settings_and_commands() {
        let s = section(
            r#"
            server_port = 5667
            server_address = "127.0.0.1"
            allowed_hosts = ["127.0.0.1", "10.0.0.0/8"]
            dont_blame_nrpe = true
            command_timeout = "30s"
            tls = false
            [command.load]
            check = "check_load"
            args = ["-w", "15,10,5", "-c", "30,25,20"]
            [command.procs]
            check = "check_procs"
            args = ["-a", "two words", "-w", "$ARG1$"]
            [command.users]
            command = "/usr/lib/nagios/plugins/check_users -w 5 -c 10"
            "#,
        );
        let cfg = s.resolve().unwrap();
        assert_eq!(cfg.server_port, 5667);
        assert!(cfg.dont_blame_nrpe);
        assert_eq!(cfg.command_timeout, Duration::from_secs(30));
        assert_eq!(cfg.allowed_hosts.as_ref().unwrap().len(), 2);
        assert!(!s.tls);
        assert_eq!(s.max_connections_per_peer, 16);
        assert_eq!(s.request_timeout, None);
        assert_eq!(
            cfg.commands["procs"],
            CommandLine::Builtin(
                ["check_procs", "-a", "two words", "-w", "$ARG1$"]
                    .map(String::from)
                    .to_vec()
            )
        );
        assert_eq!(
            cfg.commands["users"],
            CommandLine::External("/usr/lib/nagios/plugins/check_users -w 5 -c 10".into())
        );
    }

    #[test]
    fn nrpe_cfg_underneath() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nrpe.cfg");
        std::fs::write(
            &path,
            "server_port=5670\ncommand_timeout=9\ncommand[a]=/bin/a\ncommand[b]=/bin/b\n",
        )
        .unwrap();
        let s = section(&format!(
            "nrpe_cfg = {:?}\ncommand_timeout = \"3s\"\n[command.b]\ncommand = \"/bin/new\"\n",
            path.display().to_string()
        ));
        let cfg = s.resolve().unwrap();
        assert_eq!(cfg.server_port, 5670);
        assert_eq!(cfg.command_timeout, Duration::from_secs(3));
        assert_eq!(cfg.commands["a"], CommandLine::External("/bin/a".into()));
        assert_eq!(cfg.commands["b"], CommandLine::External("/bin/new".into()));
    }

    #[test]
    fn errors_name_the_problem() {
        for (text, want) in [
            (
                "[command.x]\ncheck = \"check_nope\"",
                "command[x]: no built-in check named 'check_nope'",
            ),
            (
                "[command.x]\ncheck = \"check_load\"\nargs = [\"-w\", \"abc\"]",
                "command[x]: ",
            ),
            (
                "[command.x]\ncheck = \"check_load\"\ncommand = \"/bin/true\"",
                "command 'x': give either check or command, not both",
            ),
            (
                "[command.x]\nargs = [\"-w\"]",
                "command 'x': needs check or command",
            ),
            ("allowed_hosts = [\"10.0.0.0/33\"]", "allowed_hosts: '33'"),
            (
                "ssl_client_certs = 2",
                "ssl_client_certs=2 needs ssl_cacert_file",
            ),
            (
                "command_timeout = \"0s\"",
                "command_timeout: must be more than 0s",
            ),
            ("max_connections = 0", "max_connections: must be at least 1"),
            (
                "max_connections_per_peer = 0",
                "max_connections_per_peer: must be at least 1",
            ),
            (
                "request_timeout = \"0s\"",
                "request_timeout: must be more than 0s",
            ),
        ] {
            let err = section(text).resolve().unwrap_err();
            assert!(err.starts_with(want), "{text}: {err}");
        }
    }
}
