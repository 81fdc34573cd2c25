//! nrpe.cfg, read as nrpe reads it: `key=value` lines, `#` comments, `command[NAME]=LINE`,
//! `include=FILE` and `include_dir=DIR` (every `*.cfg` below it). `nrpe_user` and
//! `nrpe_group` name the account `hcoop-monitor nrpe` becomes when started as root.
//! Keys that only matter to nrpe's own process model (pid_file, debug, ...) are
//! accepted and have no effect; an unknown key is a warning, as in nrpe.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// nrpe's default `nasty_metachars`.
pub const DEFAULT_NASTY_METACHARS: &str = "|`&><'\\[]{};\r\n";

/// The prefix that makes a command line run a built-in check in-process:
/// `command[load]=builtin:check_load -w 5 -c 10`.
pub const BUILTIN_PREFIX: &str = "builtin:";

/// What a configured command runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// An external command line, run by the shell (with `command_prefix`).
    External(String),
    /// A built-in check run in-process: its plugin name, then its arguments, each of
    /// which may hold `$ARGn$`.
    Builtin(Vec<String>),
}

impl CommandLine {
    /// Reads a `command[]` value: `builtin:NAME ARGS...` (split on white space) or an
    /// external command line.
    pub fn parse(value: &str) -> CommandLine {
        match value.strip_prefix(BUILTIN_PREFIX) {
            Some(rest) => CommandLine::Builtin(rest.split_whitespace().map(String::from).collect()),
            None => CommandLine::External(value.to_string()),
        }
    }
}

/// `ssl_client_certs`: whether a client certificate is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientCerts {
    /// 0: not asked for.
    #[default]
    No,
    /// 1: asked for; a client without one is served, one with a bad one is refused.
    Ask,
    /// 2: required and verified against `ssl_cacert_file`.
    Require,
}

/// One `allowed_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHost {
    /// An address with a prefix length (a plain address has the full length).
    Net(IpAddr, u8),
    /// A host name, resolved when the agent starts.
    Name(String),
}

/// The settings of an nrpe.cfg that the agent uses.
#[derive(Debug, Clone, PartialEq)]
pub struct NrpeConfig {
    pub server_port: u16,
    pub server_address: Option<String>,
    /// `None` when the file has no allowed_hosts: every host may connect (as in nrpe).
    pub allowed_hosts: Option<Vec<AllowedHost>>,
    pub dont_blame_nrpe: bool,
    pub nasty_metachars: String,
    pub command_prefix: Option<String>,
    pub command_timeout: Duration,
    pub connection_timeout: Duration,
    pub commands: BTreeMap<String, CommandLine>,
    pub ssl_cert_file: Option<PathBuf>,
    pub ssl_privatekey_file: Option<PathBuf>,
    pub ssl_cacert_file: Option<PathBuf>,
    pub ssl_client_certs: ClientCerts,
    /// The user (and group) to run as when started as root.
    pub nrpe_user: Option<String>,
    pub nrpe_group: Option<String>,
    /// Unknown keys and ignored lines, as `file:line: text`.
    pub warnings: Vec<String>,
}

impl Default for NrpeConfig {
    fn default() -> Self {
        NrpeConfig {
            server_port: hcoop_plugins::proto::nrpe::DEFAULT_PORT,
            server_address: None,
            allowed_hosts: None,
            dont_blame_nrpe: false,
            nasty_metachars: DEFAULT_NASTY_METACHARS.to_string(),
            command_prefix: None,
            command_timeout: Duration::from_secs(60),
            connection_timeout: Duration::from_secs(300),
            commands: BTreeMap::new(),
            ssl_cert_file: None,
            ssl_privatekey_file: None,
            ssl_cacert_file: None,
            ssl_client_certs: ClientCerts::No,
            nrpe_user: None,
            nrpe_group: None,
            warnings: Vec::new(),
        }
    }
}

/// Keys nrpe knows that change nothing here.
const ACCEPTED_KEYS: &[&str] = &[
    "pid_file",
    "debug",
    "log_facility",
    "log_file",
    "allow_weak_random_seed",
    "allow_bash_command_substitution",
    "max_commands",
    "listen_queue_size",
    "disable_syslog",
    "keep_env_vars",
    "nasty_metachars_file",
    "ssl_version",
    "ssl_cipher_list",
    "ssl_use_adh",
    "ssl_logging",
    "server_address_family",
];

fn bool_value(v: &str) -> Result<bool, String> {
    match v.trim() {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(format!("'{v}' is not 0 or 1")),
    }
}

fn seconds(v: &str) -> Result<Duration, String> {
    match v.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(Duration::from_secs(n)),
        _ => Err(format!("'{v}' is not a positive number of seconds")),
    }
}

/// Parses one `allowed_hosts` entry: `ADDR`, `ADDR/BITS`, `ADDR/NETMASK` (IPv4) or a
/// host name.
pub fn parse_allowed(entry: &str) -> Result<AllowedHost, String> {
    let (addr, mask) = match entry.split_once('/') {
        Some((a, m)) => (a, Some(m)),
        None => (entry, None),
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        if mask.is_some() || entry.is_empty() {
            return Err(format!("'{entry}' is not an address or a network"));
        }
        return Ok(AllowedHost::Name(entry.to_string()));
    };
    let full = if ip.is_ipv4() { 32 } else { 128 };
    let bits = match mask {
        None => full,
        Some(m) => match (m.parse::<u8>(), m.parse::<std::net::Ipv4Addr>()) {
            (Ok(b), _) if b <= full => b,
            (_, Ok(nm)) if ip.is_ipv4() => {
                let n = u32::from(nm);
                if n.leading_ones() + n.trailing_zeros() != 32 {
                    return Err(format!("'{m}' is not a netmask"));
                }
                n.leading_ones() as u8
            }
            _ => return Err(format!("'{m}' in '{entry}' is not a prefix length")),
        },
    };
    Ok(AllowedHost::Net(ip, bits))
}

impl NrpeConfig {
    /// Reads a file and everything it includes.
    pub fn load(path: &Path) -> Result<NrpeConfig, String> {
        let mut cfg = NrpeConfig::default();
        cfg.read_file(path, 0)?;
        Ok(cfg)
    }

    /// Parses configuration text (includes are read relative to nothing: paths as given).
    pub fn parse(text: &str, origin: &str) -> Result<NrpeConfig, String> {
        let mut cfg = NrpeConfig::default();
        cfg.read_text(text, origin, 0)?;
        Ok(cfg)
    }

    fn read_file(&mut self, path: &Path, depth: usize) -> Result<(), String> {
        if depth > 16 {
            return Err(format!("{}: includes nested too deeply", path.display()));
        }
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        self.read_text(&text, &path.display().to_string(), depth)
    }

    fn read_dir(&mut self, dir: &Path, depth: usize) -> Result<(), String> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("cannot read directory {}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                self.read_dir(&p, depth + 1)?;
            } else if p.extension().is_some_and(|e| e == "cfg") {
                self.read_file(&p, depth + 1)?;
            }
        }
        Ok(())
    }

    fn read_text(&mut self, text: &str, origin: &str, depth: usize) -> Result<(), String> {
        for (n, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{origin}:{}", n + 1);
            let Some((key, value)) = line.split_once('=') else {
                self.warnings
                    .push(format!("{at}: no '=' in '{line}', line ignored"));
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            let bad = |e: String| format!("{at}: {key}: {e}");
            if let Some(name) = key
                .strip_prefix("command[")
                .and_then(|k| k.strip_suffix(']'))
            {
                if name.is_empty() || value.is_empty() {
                    return Err(format!("{at}: empty command name or command line"));
                }
                self.commands
                    .insert(name.to_string(), CommandLine::parse(value));
                continue;
            }
            match key {
                "server_port" => {
                    self.server_port = value
                        .parse()
                        .ok()
                        .filter(|&p| p > 0)
                        .ok_or_else(|| bad(format!("'{value}' is not a port")))?
                }
                "server_address" => self.server_address = Some(value.to_string()),
                "nrpe_user" => self.nrpe_user = (!value.is_empty()).then(|| value.to_string()),
                "nrpe_group" => self.nrpe_group = (!value.is_empty()).then(|| value.to_string()),
                "allowed_hosts" => {
                    let hosts = value
                        .split([',', ' '])
                        .filter(|e| !e.is_empty())
                        .map(parse_allowed)
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(bad)?;
                    self.allowed_hosts = Some(hosts);
                }
                "dont_blame_nrpe" => self.dont_blame_nrpe = bool_value(value).map_err(bad)?,
                "nasty_metachars" => self.nasty_metachars = unescape(value),
                "command_prefix" => {
                    self.command_prefix = (!value.is_empty()).then(|| value.to_string())
                }
                "command_timeout" => self.command_timeout = seconds(value).map_err(bad)?,
                "connection_timeout" => self.connection_timeout = seconds(value).map_err(bad)?,
                "ssl_cert_file" => self.ssl_cert_file = Some(value.into()),
                "ssl_privatekey_file" => self.ssl_privatekey_file = Some(value.into()),
                "ssl_cacert_file" => self.ssl_cacert_file = Some(value.into()),
                "ssl_client_certs" => {
                    self.ssl_client_certs = match value {
                        "0" => ClientCerts::No,
                        "1" => ClientCerts::Ask,
                        "2" | "3" => ClientCerts::Require,
                        _ => return Err(bad(format!("'{value}' is not 0, 1 or 2"))),
                    }
                }
                "include" => self.read_file(Path::new(value), depth + 1)?,
                "include_dir" => self.read_dir(Path::new(value), depth + 1)?,
                k if ACCEPTED_KEYS.contains(&k) => {}
                _ => self
                    .warnings
                    .push(format!("{at}: unknown option '{key}', ignored")),
            }
        }
        Ok(())
    }

    /// Problems that make the configuration unusable, checked once everything is read.
    pub fn validate(&self) -> Result<(), String> {
        if self.ssl_cert_file.is_some() != self.ssl_privatekey_file.is_some() {
            return Err("ssl_cert_file and ssl_privatekey_file go together".into());
        }
        if self.ssl_client_certs == ClientCerts::Require && self.ssl_cacert_file.is_none() {
            return Err("ssl_client_certs=2 needs ssl_cacert_file to verify clients".into());
        }
        Ok(())
    }
}

/// nrpe reads `\r`, `\n` and `\\` escapes in nasty_metachars.
fn unescape(v: &str) -> String {
    let mut out = String::new();
    let mut it = v.chars();
    while let Some(c) = it.next() {
        if c == '\\' {
            match it.next() {
                Some('r') => out.push('\r'),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(o) => out.push(o),
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_stock_file() {
        let text = "# comment\nserver_port=5667\nserver_address=127.0.0.1\nnrpe_user=nagios\n\
                    allowed_hosts=127.0.0.1,::1, 10.0.0.0/8,192.168.1.0/255.255.255.0,monitor.example.org\n\
                    dont_blame_nrpe=1\ncommand_timeout=30\nconnection_timeout=5\n\
                    command[check_load]=/usr/lib/nagios/plugins/check_load -w 15,10,5 -c 30,25,20\n\
                    command[x]=builtin:check_load -w $ARG1$\nssl_client_certs=2\nssl_cacert_file=/ca.pem\n\
                    frobnicate=1\n";
        let c = NrpeConfig::parse(text, "t.cfg").unwrap();
        assert_eq!(c.server_port, 5667);
        assert_eq!(c.server_address.as_deref(), Some("127.0.0.1"));
        assert!(c.dont_blame_nrpe);
        assert_eq!(c.command_timeout, Duration::from_secs(30));
        assert_eq!(c.connection_timeout, Duration::from_secs(5));
        assert_eq!(c.commands.len(), 2);
        assert_eq!(c.ssl_client_certs, ClientCerts::Require);
        assert_eq!(
            c.allowed_hosts.unwrap(),
            vec![
                AllowedHost::Net("127.0.0.1".parse().unwrap(), 32),
                AllowedHost::Net("::1".parse().unwrap(), 128),
                AllowedHost::Net("10.0.0.0".parse().unwrap(), 8),
                AllowedHost::Net("192.168.1.0".parse().unwrap(), 24),
                AllowedHost::Name("monitor.example.org".into()),
            ]
        );
        assert_eq!(
            c.warnings,
            ["t.cfg:13: unknown option 'frobnicate', ignored"]
        );
        assert_eq!(c.nasty_metachars, DEFAULT_NASTY_METACHARS);
        assert_eq!(c.nrpe_user.as_deref(), Some("nagios"));
        assert_eq!(c.nrpe_group, None);
    }

    #[test]
    fn bad_values_name_the_line() {
        for (text, want) in [
            ("server_port=x", "t.cfg:1: server_port: 'x' is not a port"),
            (
                "dont_blame_nrpe=yes",
                "t.cfg:1: dont_blame_nrpe: 'yes' is not 0 or 1",
            ),
            (
                "allowed_hosts=10.0.0.0/33",
                "t.cfg:1: allowed_hosts: '33' in '10.0.0.0/33' is not a prefix length",
            ),
            (
                "command_timeout=0",
                "t.cfg:1: command_timeout: '0' is not a positive number of seconds",
            ),
            (
                "ssl_client_certs=9",
                "t.cfg:1: ssl_client_certs: '9' is not 0, 1 or 2",
            ),
        ] {
            assert_eq!(NrpeConfig::parse(text, "t.cfg").unwrap_err(), want);
        }
    }

    #[test]
    fn includes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("conf.d")).unwrap();
        std::fs::write(d.join("conf.d/a.cfg"), "command[a]=/bin/a\n").unwrap();
        std::fs::write(d.join("conf.d/skip.txt"), "command[s]=/bin/s\n").unwrap();
        std::fs::write(d.join("more.cfg"), "command[b]=/bin/b\n").unwrap();
        let main = format!(
            "include={}\ninclude_dir={}\n",
            d.join("more.cfg").display(),
            d.join("conf.d").display()
        );
        std::fs::write(d.join("nrpe.cfg"), main).unwrap();
        let c = NrpeConfig::load(&d.join("nrpe.cfg")).unwrap();
        assert_eq!(c.commands.keys().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn metachars_escapes() {
        let c = NrpeConfig::parse("nasty_metachars=|`&\\n", "t").unwrap();
        assert_eq!(c.nasty_metachars, "|`&\n");
    }
}
