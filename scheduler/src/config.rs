//! Configuration: TOML files in a directory (or one file), or the embedded default.
//!
//! ```toml
//! [defaults]
//! check_interval = "5m"     # humantime
//! retry_interval = "1m"
//! max_check_attempts = 3
//! timeout = "30s"           # external plugins
//!
//! [[host]]
//! name = "main"
//! address = "10.0.0.1"
//!
//! [[service]]
//! host = "main"
//! name = "load"
//! check = "check_load"                  # a built-in check, run in-process
//! args = ["-w", "5", "-c", "10"]
//!
//! [[service]]
//! host = "main"
//! name = "ntp"
//! command = "/usr/lib/nagios/plugins/check_ntp_time -H $HOSTADDRESS$"   # external plugin
//! ```

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The embedded default: the local machine.
pub const DEFAULT_CONFIG: &str = include_str!("../../checks.d/default.toml");

/// Values services inherit unless they set their own.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    #[serde(default = "default_check_interval", with = "humantime_serde_compat")]
    pub check_interval: Duration,
    #[serde(default = "default_retry_interval", with = "humantime_serde_compat")]
    pub retry_interval: Duration,
    #[serde(default = "default_attempts")]
    pub max_check_attempts: u32,
    #[serde(default = "default_timeout", with = "humantime_serde_compat")]
    pub timeout: Duration,
}

fn default_check_interval() -> Duration {
    Duration::from_secs(300)
}
fn default_retry_interval() -> Duration {
    Duration::from_secs(60)
}
fn default_attempts() -> u32 {
    3
}
fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            check_interval: default_check_interval(),
            retry_interval: default_retry_interval(),
            max_check_attempts: default_attempts(),
            timeout: default_timeout(),
        }
    }
}

/// Durations as humantime strings ("5m", "30s").
mod humantime_serde_compat {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(|e| serde::de::Error::custom(format!("'{s}': {e}")))
    }
}

/// A monitored host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    pub name: String,
    pub address: String,
    #[serde(default)]
    pub parents: Vec<String>,
}

/// One service as written in a file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceFile {
    pub host: String,
    pub name: String,
    /// A built-in check by plugin name.
    pub check: Option<String>,
    /// Arguments of the built-in check.
    #[serde(default)]
    pub args: Vec<String>,
    /// An external plugin command line.
    pub command: Option<String>,
    #[serde(default, with = "opt_duration")]
    pub check_interval: Option<Duration>,
    #[serde(default, with = "opt_duration")]
    pub retry_interval: Option<Duration>,
    pub max_check_attempts: Option<u32>,
    #[serde(default, with = "opt_duration")]
    pub timeout: Option<Duration>,
}

mod opt_duration {
    use serde::{Deserialize, Deserializer};
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        s.map(|s| {
            humantime::parse_duration(&s)
                .map_err(|e| serde::de::Error::custom(format!("'{s}': {e}")))
        })
        .transpose()
    }
}

/// One configuration file's content.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    defaults: Option<Defaults>,
    #[serde(default)]
    host: Vec<Host>,
    #[serde(default)]
    service: Vec<ServiceFile>,
}

/// How a service is checked.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckSpec {
    /// A built-in check and its arguments.
    Builtin { name: String, args: Vec<String> },
    /// An external plugin command line (macros expanded).
    External { command: String },
}

/// A service with its defaults applied and macros expanded.
#[derive(Debug, Clone)]
pub struct Service {
    pub host: String,
    pub name: String,
    pub check: CheckSpec,
    pub check_interval: Duration,
    pub retry_interval: Duration,
    pub max_check_attempts: u32,
    pub timeout: Duration,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub hosts: Vec<Host>,
    pub services: Vec<Service>,
}

/// Where a configuration came from, for error messages.
fn origin(path: Option<&Path>) -> String {
    path.map_or_else(
        || "embedded default".to_string(),
        |p| p.display().to_string(),
    )
}

fn parse_file(text: &str, path: Option<&Path>) -> Result<File> {
    toml::from_str(text).map_err(|e| {
        // toml's message already names line and column
        anyhow!("{}: {}", origin(path), e.to_string().trim_end())
    })
}

impl Config {
    /// The embedded default configuration.
    pub fn embedded() -> Result<Config> {
        Config::from_files(vec![(None, DEFAULT_CONFIG.to_string())])
    }

    /// Loads a file, or every `*.toml` file of a directory in name order.
    pub fn load(path: &Path) -> Result<Config> {
        let mut files = Vec::new();
        if path.is_dir() {
            let mut names: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                .collect();
            names.sort();
            for p in names {
                let text = std::fs::read_to_string(&p)
                    .with_context(|| format!("cannot read {}", p.display()))?;
                files.push((Some(p), text));
            }
            if files.is_empty() {
                bail!("{}: no *.toml files", path.display());
            }
        } else {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            files.push((Some(path.to_path_buf()), text));
        }
        Config::from_files(files)
    }

    /// Builds the configuration from file texts; every error found is reported.
    pub fn from_files(files: Vec<(Option<PathBuf>, String)>) -> Result<Config> {
        let mut errors = Vec::new();
        let mut defaults = Defaults::default();
        let mut hosts: Vec<Host> = Vec::new();
        let mut raw = Vec::new();
        for (path, text) in &files {
            match parse_file(text, path.as_deref()) {
                Ok(f) => {
                    if let Some(d) = f.defaults {
                        defaults = d;
                    }
                    hosts.extend(f.host);
                    raw.extend(f.service.into_iter().map(|s| (path.clone(), s)));
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
        let mut services = Vec::new();
        for (path, s) in raw {
            let at = format!(
                "{}: service '{}' on '{}'",
                origin(path.as_deref()),
                s.name,
                s.host
            );
            let Some(host) = hosts.iter().find(|h| h.name == s.host) else {
                errors.push(format!("{at}: no host named '{}'", s.host));
                continue;
            };
            let check = match (&s.check, &s.command) {
                (Some(name), None) => {
                    if hcoop_plugins::checks::builtin(name).is_none() {
                        errors.push(format!("{at}: no built-in check named '{name}'"));
                        continue;
                    }
                    CheckSpec::Builtin {
                        name: name.clone(),
                        args: s.args.iter().map(|a| expand(a, host)).collect(),
                    }
                }
                (None, Some(cmd)) if s.args.is_empty() => CheckSpec::External {
                    command: expand(cmd, host),
                },
                (None, Some(_)) => {
                    errors.push(format!(
                        "{at}: 'args' goes with 'check'; put arguments into 'command'"
                    ));
                    continue;
                }
                _ => {
                    errors.push(format!(
                        "{at}: expected exactly one of 'check' or 'command'"
                    ));
                    continue;
                }
            };
            if services
                .iter()
                .any(|o: &Service| o.host == s.host && o.name == s.name)
            {
                errors.push(format!("{at}: defined twice"));
                continue;
            }
            services.push(Service {
                host: s.host,
                name: s.name,
                check,
                check_interval: s.check_interval.unwrap_or(defaults.check_interval),
                retry_interval: s.retry_interval.unwrap_or(defaults.retry_interval),
                max_check_attempts: s.max_check_attempts.unwrap_or(defaults.max_check_attempts),
                timeout: s.timeout.unwrap_or(defaults.timeout),
            });
        }
        if errors.is_empty() {
            Ok(Config { hosts, services })
        } else {
            bail!("{}", errors.join("\n"))
        }
    }
}

/// Expands `$HOSTNAME$` and `$HOSTADDRESS$`.
fn expand(text: &str, host: &Host) -> String {
    text.replace("$HOSTADDRESS$", &host.address)
        .replace("$HOSTNAME$", &host.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_is_valid() {
        let c = Config::embedded().unwrap();
        assert!(!c.services.is_empty());
        assert!(c
            .services
            .iter()
            .all(|s| matches!(s.check, CheckSpec::Builtin { .. })));
    }

    #[test]
    fn reports_every_error_with_its_place() {
        let text = r#"
[[host]]
name = "h"
address = "127.0.0.1"

[[service]]
host = "h"
name = "a"
check = "check_nonexistent"

[[service]]
host = "nohost"
name = "b"
command = "/bin/true"

[[service]]
host = "h"
name = "c"
"#;
        let e = Config::from_files(vec![(Some("x.toml".into()), text.into())])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("x.toml: service 'a' on 'h': no built-in check named 'check_nonexistent'"),
            "{e}"
        );
        assert!(
            e.contains("x.toml: service 'b' on 'nohost': no host named 'nohost'"),
            "{e}"
        );
        assert!(
            e.contains("service 'c' on 'h': expected exactly one of 'check' or 'command'"),
            "{e}"
        );
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let e = Config::from_files(vec![(
            Some("bad.toml".into()),
            "[[host]]\nname = \n".into(),
        )])
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("bad.toml: "), "{e}");
        assert!(e.contains("line 2"), "{e}");
        let e = Config::from_files(vec![(
            None,
            "[defaults]\ncheck_interval = \"5 parsecs\"\n".into(),
        )])
        .unwrap_err()
        .to_string();
        assert!(e.contains("5 parsecs"), "{e}");
    }

    #[test]
    fn defaults_and_macros_apply() {
        let text = r#"
[defaults]
check_interval = "30s"
[[host]]
name = "web"
address = "127.0.0.9"
[[service]]
host = "web"
name = "x"
command = "/bin/echo $HOSTNAME$ $HOSTADDRESS$"
retry_interval = "5s"
"#;
        let c = Config::from_files(vec![(None, text.into())]).unwrap();
        let s = &c.services[0];
        assert_eq!(s.check_interval, Duration::from_secs(30));
        assert_eq!(s.retry_interval, Duration::from_secs(5));
        assert_eq!(
            s.check,
            CheckSpec::External {
                command: "/bin/echo web 127.0.0.9".into()
            }
        );
    }
}
