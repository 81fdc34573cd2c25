//! `-H` as a list of servers, comma-separated or repeated, for checks that ask every
//! server of a set at once (check_afs's modes, check_krb5's KDCs).
//!
//! A check names the servers on its own command:
//! `#[command(mut_arg("hosts", |a| a.help("...")))]` (and `.required(false)` where
//! another option can stand for them). [`ServerSetArgs`] adds the one port `-p` the
//! servers all listen on.

use super::runner::UsageError;
use super::target::{parse_host, parse_port};

/// `-H` naming several servers.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct HostListArgs {
    /// Servers to ask (comma-separated or repeated)
    #[arg(
        short = 'H',
        long = "hostname",
        value_name = "HOST",
        value_delimiter = ',',
        required = true
    )]
    pub hosts: Vec<String>,
}

impl HostListArgs {
    /// The hosts, trimmed; none may be empty, each a name or an address (never echoed
    /// raw: a newline or 100 KB is refused with the value escaped and cut).
    pub fn validated(&self) -> Result<Vec<String>, UsageError> {
        let list: Vec<&str> = self.hosts.iter().map(|h| h.trim()).collect();
        if list.is_empty() || list.iter().any(|h| h.is_empty()) {
            return Err(UsageError::new("empty host name in -H"));
        }
        list.into_iter()
            .map(|h| parse_host(h).map_err(UsageError))
            .collect()
    }
}

/// `-H` naming several servers and `-p` the port they all listen on; the check gives
/// the port's default ([`ServerSetArgs::port_or`]) and says it in `-p`'s help.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServerSetArgs {
    #[command(flatten)]
    pub hosts: HostListArgs,
    /// Port the servers listen on
    #[arg(short = 'p', long = "port", value_name = "PORT", value_parser = parse_port)]
    pub port: Option<u16>,
}

impl ServerSetArgs {
    /// The port of `-p`, or the check's `default`.
    pub fn port_or(&self, default: u16) -> u16 {
        self.port.unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser, Debug)]
    #[command(mut_arg("hosts", |a| a.help("Database servers of the set")))]
    struct Servers {
        #[command(flatten)]
        servers: HostListArgs,
    }

    #[test]
    fn lists_validate_and_take_the_check_s_help() {
        let p = Servers::try_parse_from(["x", "-H", " a ,b", "-H", "::1"]).unwrap();
        assert_eq!(p.servers.validated().unwrap(), ["a", "b", "::1"]);
        assert!(Servers::try_parse_from(["x"]).is_err());
        for (list, message) in [
            ("a,,b", "empty host name in -H"),
            (" ", "empty host name in -H"),
            (
                "a\nb",
                "invalid host 'a\\nb': '\\n' is not allowed in a host name",
            ),
        ] {
            let p = Servers::try_parse_from(["x", "-H", list]).unwrap();
            assert_eq!(p.servers.validated().unwrap_err().0, message, "{list:?}");
        }
        let help = Servers::command().render_help().to_string();
        assert!(help.contains("Database servers of the set"), "{help}");
    }

    #[derive(Parser, Debug)]
    struct Set {
        #[command(flatten)]
        set: ServerSetArgs,
    }

    #[test]
    fn a_set_has_one_port_or_the_check_s_default() {
        let p = Set::try_parse_from(["x", "-H", "a,b"]).unwrap();
        assert_eq!(p.set.port_or(88), 88);
        let p = Set::try_parse_from(["x", "-H", "a,b", "-p", "8888"]).unwrap();
        assert_eq!(p.set.port_or(88), 8888);
        let e = Set::try_parse_from(["x", "-H", "a", "-p", "0"]).unwrap_err();
        assert!(
            e.to_string().contains("port 0 is out of range (1-65535)"),
            "{e}"
        );
    }
}
