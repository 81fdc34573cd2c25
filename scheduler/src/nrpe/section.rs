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
pub use crate::config::sections::{NrpeCommand, NrpeSection};

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
    use std::time::Duration;

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
