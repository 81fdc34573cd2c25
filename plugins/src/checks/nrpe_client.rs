//! check_nrpe_client: asks an NRPE daemon (Debian's nrpe or `hcoop-monitor nrpe`) to run
//! a command and relays the remote plugin's output and state unchanged. Options and error
//! texts follow nrpe's own `check_nrpe`, so existing Nagios command definitions keep
//! working; the binary has another name so both can be installed side by side.
//!
//! TLS works as in `check_nrpe`: on by default (`-n` for plain TCP), the server is not
//! verified unless `-A CA_FILE` is given (then its chain is verified, not its name, as
//! `check_nrpe` does), `-C`/`-K` present a client certificate. A stock nrpe daemon
//! without a certificate only speaks anonymous Diffie-Hellman, which rustls cannot: the
//! connection is made through OpenSSL with `check_nrpe`'s cipher list unless the server
//! must present a certificate (`-A`, or `-d 0`), where rustls verifies it. With `-A`
//! anonymous ciphers are never offered (check_nrpe offers them, so a server without a
//! certificate would skip its `-A` verification).
//!
//! A reply that is no NRPE packet (an HTTP server, a banner, garbage) is the state of
//! connection problems (CRITICAL unless `-u` or `-t N:STATE`), as a failed handshake
//! is; Debian's check_nrpe 4.1.0 says UNKNOWN there. A close without a byte stays
//! UNKNOWN, with check_nrpe's text: that is how an NRPE daemon refuses a query.
//!
//! Version 4 packets are sent first; when the daemon closes the connection or answers
//! garbage, the query is sent again as version 2 (`-2` sends version 2 at once, `-3`
//! version 3 first, then version 2 as check_nrpe does).

use crate::plugin::{
    parse_host, parse_port, Check, CheckResult, CommonArgs, Family, State, UsageError, Work,
};
pub use crate::proto::nrpe::client::{
    connect, exchange, exchange_with, load_certs, load_key, openssl_connector, resolve,
    rustls_config, Conn, ExchangeError, ExchangeOptions, ProtocolRange, TlsOptions, Transport,
};
use crate::proto::nrpe::{self, Packet, ReadError, Version};
use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

/// Command line of check_nrpe_client (the options of nrpe's check_nrpe).
#[derive(Parser, Debug)]
#[command(
    name = "check_nrpe_client",
    version,
    about = "Runs a command on a remote NRPE daemon and relays its output and state.\n\nTLS as check_nrpe: without certificates anonymous Diffie-Hellman is allowed (what a stock nrpe without a certificate speaks); with -A the daemon's certificate must chain to that CA and, unlike check_nrpe, anonymous ciphers are not offered. -D, -E, -e, -s and -g are accepted for check_nrpe's command lines and change nothing: this client logs nothing to syslog or files and prints everything on standard output.\n\nExit codes: the remote plugin's state; 2 (CRITICAL) when the daemon cannot be reached, when what answers is not an NRPE daemon (a reply that is no NRPE packet, a failed TLS handshake), or when it times out (-t N:STATE picks another state, -u makes these 3); 3 (UNKNOWN) for bad options and when the daemon closes without an answer (how nrpe refuses a query). --help and --version exit 0."
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The address of the host running the NRPE daemon
    #[arg(short = 'H', long = "host", value_parser = parse_host)]
    pub host: String,

    /// The port the daemon listens on
    #[arg(short = 'p', long = "port", default_value_t = nrpe::DEFAULT_PORT, value_parser = parse_port)]
    pub port: u16,

    /// The command the remote daemon should run (default: ask for its version)
    #[arg(short = 'c', long = "command")]
    pub command: Option<String>,

    /// Arguments for the command; must come last on the command line
    #[arg(short = 'a', long = "args", num_args = 1.., allow_hyphen_values = true)]
    pub args: Vec<String>,

    /// Plain TCP instead of TLS
    #[arg(short = 'n', long = "no-ssl")]
    pub no_ssl: bool,

    /// Only use version 2 packets
    #[arg(short = '2', long = "v2-packets-only", conflicts_with = "v3")]
    pub v2: bool,

    /// Only use version 3 packets, not version 4
    #[arg(short = '3', long = "v3-packets-only")]
    pub v3: bool,

    /// Connect over IPv4 only
    #[arg(short = '4', long = "ipv4", conflicts_with = "ipv6")]
    pub ipv4: bool,

    /// Connect over IPv6 only
    #[arg(short = '6', long = "ipv6")]
    pub ipv6: bool,

    /// Make connection problems and timeouts UNKNOWN instead of CRITICAL
    #[arg(short = 'u', long = "unknown-timeout")]
    pub unknown_timeout: bool,

    /// Anonymous Diffie-Hellman: 0 never, 1 allow (default; not with -A), 2 only (refused with -A)
    #[arg(short = 'd', long = "use-adh", value_name = "DHOPT", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(0..=2))]
    pub use_adh: u8,

    /// Version 2 packets with a buffer of SIZE bytes instead of 1024 (for NSClient++; needs -2)
    #[arg(short = 'P', long = "payload-size", value_name = "SIZE", requires = "v2",
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    pub payload_size: Option<u32>,

    /// SSL/TLS versions: SSLv3, TLSv1, TLSv1.1, TLSv1.2 (that one only) or with + (that one or above; default TLSv1+)
    #[arg(short = 'S', long = "ssl-version", value_name = "VERSION")]
    pub ssl_version: Option<ProtocolRange>,

    /// OpenSSL cipher list (default "ALL:!MD5:@STRENGTH:@SECLEVEL=0", as check_nrpe)
    #[arg(short = 'L', long = "cipher-list", value_name = "LIST")]
    pub cipher_list: Option<String>,

    /// Local address to connect from
    #[arg(short = 'b', long = "bind", value_name = "IPADDR")]
    pub bind: Option<std::net::IpAddr>,

    /// File of more options, as on the command line (those given on the command line win)
    #[arg(short = 'f', long = "config-file", value_name = "FILE")]
    pub config_file: Option<PathBuf>,

    /// Accepted as check_nrpe's; no effect (nothing is logged to syslog)
    #[arg(short = 'D', long = "disable-syslog")]
    pub disable_syslog: bool,

    /// Accepted as check_nrpe's; no effect (everything is printed on standard output)
    #[arg(short = 'E', long = "stderr-to-stdout")]
    pub stderr_to_stdout: bool,

    /// Accepted as check_nrpe's; no effect (nothing is logged to syslog)
    #[arg(short = 'e', hide_short_help = true)]
    pub syslog_debug: bool,

    /// Accepted as check_nrpe's; no effect (no SSL logging)
    #[arg(short = 's', long = "ssl-logging", value_name = "OPTIONS")]
    pub ssl_logging: Option<String>,

    /// Accepted as check_nrpe's; no effect (no log file is written)
    #[arg(short = 'g', long = "log-file", value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Print the version and licence (GPL-3.0-or-later) and exit
    #[arg(short = 'l', long = "license", action = clap::ArgAction::Version)]
    pub license: (),

    /// CA certificate (PEM) that the daemon's certificate must chain to
    #[arg(short = 'A', long = "ca-cert-file", value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,

    /// Client certificate (PEM) to present
    #[arg(
        short = 'C',
        long = "client-cert",
        value_name = "FILE",
        requires = "key"
    )]
    pub client_cert: Option<PathBuf>,

    /// Private key (PEM) of the client certificate
    #[arg(
        short = 'K',
        long = "key-file",
        value_name = "FILE",
        requires = "client_cert"
    )]
    pub key: Option<PathBuf>,
}

/// The validated check.
pub struct NrpeClientCheck {
    pub host: String,
    pub port: u16,
    pub query: String,
    /// Versions to try, in order.
    pub versions: Vec<Version>,
    pub transport: Transport,
    pub family: Family,
    /// The state for connection problems, replies that are not NRPE, and timeouts.
    pub trouble: State,
    /// `-u`: a timeout is UNKNOWN whatever `-t` says.
    pub unknown_timeout: bool,
    pub timeout: Duration,
    /// `-b` and `-P`.
    pub exchange: ExchangeOptions,
}

/// The longest `-f` file read.
const MAX_CONFIG_FILE: u64 = 64 * 1024;

/// Fills the options the command line left unset from `-f`'s file, whose words are
/// options as on a command line (check_nrpe's format: `-p 5667`, `--no-ssl`, ...).
fn merge_config_file(mut args: Args) -> Result<Args, UsageError> {
    let Some(path) = args.config_file.take() else {
        return Ok(args);
    };
    // never waits on a FIFO or device: only a regular file is read
    let text = crate::host::files::read_regular(&path, MAX_CONFIG_FILE)
        .and_then(|data| {
            String::from_utf8(data).map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    "stream did not contain valid UTF-8",
                )
            })
        })
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::FileTooLarge => usage(format!(
                "config file '{}' is longer than {MAX_CONFIG_FILE} bytes",
                path.display()
            )),
            _ => usage(format!(
                "could not read config file '{}': {e}",
                path.display()
            )),
        })?;
    let words = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .flat_map(str::split_whitespace);
    // -H is required on a command line; the file need not repeat it
    let file = Args::try_parse_from(
        ["check_nrpe_client", "-H", &args.host]
            .into_iter()
            .chain(words),
    )
    .map_err(|e| usage(format!("config file '{}': {}", path.display(), e.kind())))?;
    if file.config_file.is_some() {
        return Err(usage("a config file may not name another (-f)"));
    }
    let default_port = nrpe::DEFAULT_PORT;
    args.port = if args.port == default_port {
        file.port
    } else {
        args.port
    };
    args.command = args.command.or(file.command);
    if args.args.is_empty() {
        args.args = file.args;
    }
    args.no_ssl |= file.no_ssl;
    args.v2 |= file.v2;
    args.v3 |= file.v3;
    args.ipv4 |= file.ipv4;
    args.ipv6 |= file.ipv6;
    args.unknown_timeout |= file.unknown_timeout;
    if args.use_adh == 1 {
        args.use_adh = file.use_adh;
    }
    args.payload_size = args.payload_size.or(file.payload_size);
    args.ssl_version = args.ssl_version.or(file.ssl_version);
    args.cipher_list = args.cipher_list.or(file.cipher_list);
    args.bind = args.bind.or(file.bind);
    args.ca_cert = args.ca_cert.or(file.ca_cert);
    if args.client_cert.is_none() {
        args.client_cert = file.client_cert;
        args.key = file.key;
    }
    if args.v2 && args.v3 {
        return Err(usage("-2 and -3 may not both be given"));
    }
    if args.ipv4 && args.ipv6 {
        return Err(usage("-4 and -6 may not both be given"));
    }
    if args.payload_size.is_some() && !args.v2 {
        return Err(usage(
            "if a fixed payload size is given (-P), -2 must also be",
        ));
    }
    Ok(args)
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError::new(msg)
}

/// What happened, as facts for [`Check::evaluate`].
#[derive(Debug)]
pub enum Facts {
    /// The daemon answered.
    Reply(Packet),
    /// The host name did not resolve, or had no usable address.
    Resolve(String),
    /// Every exchange failed; the last error.
    Failed(ExchangeError),
    /// Out of time.
    TimedOut,
}

/// An I/O error without Rust's `(os error N)` suffix.
fn io_text(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}

/// True when the daemon sent bytes that are not an NRPE packet (an HTTP server, a
/// banner, garbage): a real result about the port, not a failure of the check. A close
/// without a byte stays UNKNOWN: that is how an NRPE daemon refuses a query.
fn not_nrpe(e: &ReadError) -> bool {
    match e {
        ReadError::Closed { got, .. } => *got > 0,
        ReadError::Decode(_) => true,
        ReadError::Io(_) => false,
    }
}

/// check_nrpe's text for a broken reply.
fn read_error_text(e: &ReadError) -> String {
    use nrpe::DecodeError as D;
    match e {
        ReadError::Closed { got: 0, .. } => {
            "CHECK_NRPE: Received 0 bytes from daemon.  Check the remote server logs for error messages.".into()
        }
        ReadError::Closed { got, need } if *need <= nrpe::V3_HEADER_LEN => format!(
            "CHECK_NRPE: Receive header underflow - only {got} bytes received ({need} expected)."
        ),
        ReadError::Closed { got, need } => format!(
            "CHECK_NRPE: Receive underflow - only {got} bytes received ({need} expected)."
        ),
        ReadError::Io(e) => format!("CHECK_NRPE: Error receiving data from daemon: {}", io_text(e)),
        ReadError::Decode(D::BadCrc) => "CHECK_NRPE: Response packet had invalid CRC32.".into(),
        ReadError::Decode(D::BadVersion(_)) => {
            "CHECK_NRPE: Invalid packet version received from server.".into()
        }
        ReadError::Decode(D::BadType(_)) => {
            "CHECK_NRPE: Invalid packet type received from server.".into()
        }
        ReadError::Decode(D::BadLength(_)) => {
            "CHECK_NRPE: Response packet had invalid buffer size.".into()
        }
        ReadError::Decode(e) => format!("CHECK_NRPE: {e}."),
    }
}

impl NrpeClientCheck {
    /// Tries each address, then each packet version (a daemon that closes on a v4
    /// query gets the query again as v2).
    async fn ask(&self) -> Facts {
        let addrs = match resolve(&self.host, self.port, self.family).await {
            Ok(a) => a,
            Err(e) => return Facts::Resolve(e),
        };
        let mut last = None;
        for &version in &self.versions {
            for &addr in &addrs {
                let q = Packet::query(version, self.query.as_bytes());
                match exchange_with(&self.transport, &self.host, addr, &q, self.exchange).await {
                    Ok(p) => return Facts::Reply(p),
                    Err(e @ ExchangeError::Connect(_)) => last = Some(e),
                    Err(e) => {
                        last = Some(e);
                        break;
                    }
                }
            }
            if matches!(last, Some(ExchangeError::Connect(_)))
                || matches!(last, Some(ExchangeError::Handshake(_)))
            {
                break;
            }
        }
        Facts::Failed(last.expect("at least one version and one address were tried"))
    }
}

impl Check for NrpeClientCheck {
    type Args = Args;
    type Facts = Facts;
    const LABEL: &'static str = "NRPE";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let args = merge_config_file(args)?;
        // -d 2 offers only anonymous ciphers: no certificate, nothing for -A to verify
        if args.ca_cert.is_some() && args.use_adh == 2 {
            return Err(usage(
                "-A and -d 2 may not both be given: with only anonymous ciphers (-d 2) the daemon's certificate cannot be verified",
            ));
        }
        let command = args
            .command
            .clone()
            .unwrap_or_else(|| nrpe::HELLO_COMMAND.to_string());
        if command.is_empty() {
            return Err(usage("-c needs a command name"));
        }
        if args.args.len() > nrpe::MAX_ARGS {
            return Err(usage(format!(
                "at most {} arguments (-a), got {}",
                nrpe::MAX_ARGS,
                args.args.len()
            )));
        }
        let query = nrpe::query_text(&command, &args.args);
        if query.contains('\0') {
            return Err(usage("the command and its arguments may not contain NUL"));
        }
        let versions = if args.v2 {
            vec![Version::V2]
        } else if args.v3 {
            // as check_nrpe: a daemon that closes on a v3 query is asked again in v2
            vec![Version::V3, Version::V2]
        } else {
            vec![Version::V4, Version::V2]
        };
        let max_text = match args.payload_size {
            Some(n) => n as usize - 1,
            None => versions[0].max_text(),
        };
        if query.len() > max_text {
            return Err(usage(format!(
                "the query is {} bytes; at most {} fit in a version {} packet",
                query.len(),
                max_text,
                versions[0].number()
            )));
        }
        let tls = TlsOptions {
            ca_cert: args.ca_cert.clone(),
            client_cert: args.client_cert.clone().zip(args.key.clone()),
            use_adh: args.use_adh,
            versions: args.ssl_version,
            cipher_list: args.cipher_list.clone(),
        };
        let transport = Transport::new((!args.no_ssl).then_some(&tls)).map_err(usage)?;
        let timeout = args.common.timeout;
        Ok(NrpeClientCheck {
            host: args.host,
            port: args.port,
            query,
            versions,
            transport,
            family: Family::from_flags(args.ipv4, args.ipv6),
            unknown_timeout: args.unknown_timeout,
            trouble: if args.unknown_timeout {
                State::Unknown
            } else {
                timeout.state
            },
            timeout: timeout.duration,
            exchange: ExchangeOptions {
                bind: args.bind,
                v2_payload: args.payload_size.map(|n| n as usize),
            },
        })
    }

    /// The exchange with the daemon, ended just before the runner's own limit so the
    /// answer is check_nrpe's text.
    fn fetch(&self) -> Work<'_, Facts> {
        Work::remote(async move {
            let limit = self.timeout.saturating_sub(Duration::from_millis(50));
            tokio::time::timeout(limit, self.ask())
                .await
                .unwrap_or(Facts::TimedOut)
        })
    }

    /// check_nrpe's output and state for what happened (pure).
    fn evaluate(&self, facts: &Facts) -> CheckResult {
        let host = &self.host;
        let unknown = |t: String| CheckResult::relayed(State::Unknown, t);
        let trouble = |t: String| CheckResult::relayed(self.trouble, t);
        match facts {
            Facts::Reply(p) => {
                let state = State::from_exit_code(i32::from(p.result_code));
                if p.text.is_empty() {
                    CheckResult::relayed(state, "CHECK_NRPE: No output returned from daemon.")
                } else {
                    CheckResult::relayed(state, String::from_utf8_lossy(&p.text).into_owned())
                }
            }
            Facts::Resolve(e) => trouble(e.clone()),
            Facts::TimedOut => {
                let mut r = trouble(format!(
                    "CHECK_NRPE STATE {}: Socket timeout after {} seconds.",
                    self.trouble,
                    self.timeout.as_secs_f64()
                ));
                // the runner gives it the state of -t; -u keeps it UNKNOWN
                r.timed_out = !self.unknown_timeout;
                r
            }
            Facts::Failed(e) => match e {
                ExchangeError::Connect(e) => trouble(format!(
                    "connect to address {host} port {}: {}",
                    self.port,
                    io_text(e)
                )),
                ExchangeError::Handshake(e) => trouble(format!(
                    "CHECK_NRPE: Error - Could not complete SSL handshake with {host}: {e}"
                )),
                ExchangeError::Send(_) => {
                    unknown("CHECK_NRPE: Error sending query to host.".into())
                }
                // bytes that are no NRPE packet: the port is not an NRPE daemon
                ExchangeError::Read(r) if not_nrpe(r) => trouble(read_error_text(r)),
                ExchangeError::Read(r) => unknown(read_error_text(r)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Args::command().debug_assert();
    }

    fn check(argv: &[&str]) -> Result<NrpeClientCheck, UsageError> {
        let args =
            Args::try_parse_from(std::iter::once("check_nrpe_client").chain(argv.iter().copied()))
                .map_err(|e| usage(e.to_string()))?;
        NrpeClientCheck::new(args)
    }

    #[test]
    fn options() {
        let c = check(&["-H", "h", "-c", "load", "-a", "1", "-x", "b"]).unwrap();
        assert_eq!(c.query, "load!1!-x!b");
        assert_eq!(c.versions, [Version::V4, Version::V2]);
        assert_eq!(c.trouble, State::Critical);
        let c = check(&["-H", "h", "-2", "-u", "-t", "5:WARNING"]).unwrap();
        assert_eq!(c.query, "_NRPE_CHECK");
        assert_eq!(c.versions, [Version::V2]);
        assert_eq!(c.trouble, State::Unknown);
        let c = check(&["-H", "h", "-t", "5:WARNING", "-n"]).unwrap();
        assert_eq!(c.trouble, State::Warning);
        assert!(matches!(c.transport, Transport::Plain));
        assert!(check(&["-H", "h", "-C", "/x"]).is_err());
        assert!(check(&["-H", "h", "-2", "-3"]).is_err());
        assert!(check(&["-H", "h", "-d", "3"]).is_err());
        let e = check(&["-H", "h", "-A", "/nonexistent.pem"]).err().unwrap();
        assert!(
            e.0.contains("could not use certificate file '/nonexistent.pem'"),
            "{e}"
        );
        let many: Vec<String> = (0..17).map(|i| i.to_string()).collect();
        let mut argv = vec!["-H", "h", "-a"];
        argv.extend(many.iter().map(String::as_str));
        assert!(check(&argv)
            .err()
            .unwrap()
            .0
            .contains("at most 16 arguments"));
    }

    #[test]
    fn transports() {
        // no certificates: OpenSSL, which speaks a stock nrpe's anonymous DH
        let c = check(&["-H", "h"]).unwrap();
        assert!(matches!(c.transport, Transport::OpenSsl(_)));
        assert!(matches!(
            check(&["-H", "h", "-d", "2"]).unwrap().transport,
            Transport::OpenSsl(_)
        ));
        // -d 0: the server must present a certificate; rustls
        assert!(matches!(
            check(&["-H", "h", "-d", "0"]).unwrap().transport,
            Transport::Rustls(_)
        ));
        assert!(matches!(
            check(&["-H", "h", "-d", "0", "-S", "TLSv1.2"])
                .unwrap()
                .transport,
            Transport::Rustls(_)
        ));
        // options only OpenSSL honours
        for more in [&["-L", "HIGH"][..], &["-S", "TLSv1.1"]] {
            let argv = [&["-H", "h", "-d", "0"][..], more].concat();
            assert!(
                matches!(check(&argv).unwrap().transport, Transport::OpenSsl(_)),
                "{more:?}"
            );
        }
        assert!(check(&["-H", "h", "-S", "TLSv1.3"]).is_err());
        assert!(check(&["-H", "h", "-L", "NO-SUCH-CIPHER"]).is_err());
    }

    #[test]
    fn cipher_lists() {
        use crate::proto::nrpe::client::cipher_list;
        let o = |use_adh, ca: Option<&str>, list: Option<&str>| TlsOptions {
            use_adh,
            ca_cert: ca.map(PathBuf::from),
            cipher_list: list.map(String::from),
            ..TlsOptions::default()
        };
        assert_eq!(
            cipher_list(&o(1, None, None)),
            "ALL:!MD5:@STRENGTH:@SECLEVEL=0"
        );
        assert_eq!(
            cipher_list(&o(0, None, None)),
            "ALL:!MD5:@STRENGTH:@SECLEVEL=0:!aNULL"
        );
        assert_eq!(cipher_list(&o(1, Some("/ca"), Some("HIGH"))), "HIGH:!aNULL");
        assert_eq!(cipher_list(&o(2, None, None)), "ADH:@SECLEVEL=0");
        // a CA certificate excludes anonymous ciphers whatever use_adh says
        for use_adh in 0..=2 {
            assert_eq!(
                cipher_list(&o(use_adh, Some("/ca"), None)),
                "ALL:!MD5:@STRENGTH:@SECLEVEL=0:!aNULL",
                "-d {use_adh}"
            );
        }
    }

    #[test]
    fn ca_cert_with_only_anonymous_ciphers_is_refused() {
        let e = check(&["-H", "h", "-A", "/ca.pem", "-d", "2"])
            .err()
            .unwrap();
        assert_eq!(
            e.0,
            "-A and -d 2 may not both be given: with only anonymous ciphers (-d 2) the daemon's certificate cannot be verified"
        );
        assert!(!e.0.contains('\n'));
        // -d 2 from a -f file against the command line's -A, and the other way round
        let dir = tempfile::tempdir().unwrap();
        let adh = dir.path().join("adh.cfg");
        std::fs::write(&adh, "-d 2\n").unwrap();
        let e = check(&["-H", "h", "-A", "/ca.pem", "-f", adh.to_str().unwrap()])
            .err()
            .unwrap();
        assert!(e.0.starts_with("-A and -d 2 may not both be given"), "{e}");
        let ca = dir.path().join("ca.cfg");
        std::fs::write(&ca, "-A /ca.pem\n").unwrap();
        let e = check(&["-H", "h", "-d", "2", "-f", ca.to_str().unwrap()])
            .err()
            .unwrap();
        assert!(e.0.starts_with("-A and -d 2 may not both be given"), "{e}");
        // -d 2 alone still offers only anonymous ciphers
        assert!(check(&["-H", "h", "-d", "2"]).is_ok());
    }

    #[test]
    fn check_nrpe_options() {
        let c = check(&["-H", "h", "-2", "-P", "4096", "-b", "127.0.0.2"]).unwrap();
        assert_eq!(c.exchange.v2_payload, Some(4096));
        assert_eq!(c.exchange.bind, Some("127.0.0.2".parse().unwrap()));
        // -P needs -2, as check_nrpe says
        assert!(check(&["-H", "h", "-P", "4096"]).is_err());
        assert!(check(&["-H", "h", "-2", "-P", "0"]).is_err());
        let long: String = "x".repeat(100);
        assert!(check(&["-H", "h", "-2", "-P", "64", "-c", &long]).is_err());
        // accepted, changing nothing
        let c = check(&[
            "-H",
            "h",
            "-D",
            "-E",
            "-e",
            "-s",
            "0x2f",
            "-g",
            "/tmp/x.log",
        ])
        .unwrap();
        assert_eq!(c.query, "_NRPE_CHECK");
        assert!(check(&["-H", "h", "-b", "not-an-address"]).is_err());
    }

    #[test]
    fn config_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("check_nrpe.cfg");
        std::fs::write(&f, "# options\n-p 5667\n--no-ssl -2\n-c load\n").unwrap();
        let f = f.to_str().unwrap();
        let c = check(&["-H", "h", "-f", f]).unwrap();
        assert_eq!((c.port, c.query.as_str()), (5667, "load"));
        assert_eq!(c.versions, [Version::V2]);
        assert!(matches!(c.transport, Transport::Plain));
        // the command line wins
        let c = check(&["-H", "h", "-f", f, "-p", "6000", "-c", "disk"]).unwrap();
        assert_eq!((c.port, c.query.as_str()), (6000, "disk"));
        // a missing file, a bad option in it, -3 against its -2
        let e = check(&["-H", "h", "-f", "/dev/null"]).err().unwrap().0;
        assert!(e.contains("not a regular file"), "{e}");
        let e = check(&["-H", "h", "-f", "/nonexistent"]).err().unwrap().0;
        assert!(
            e.contains("could not read config file '/nonexistent'"),
            "{e}"
        );
        std::fs::write(dir.path().join("bad"), "--no-such-option\n").unwrap();
        let bad = dir.path().join("bad");
        assert!(check(&["-H", "h", "-f", bad.to_str().unwrap()]).is_err());
        assert!(check(&["-H", "h", "-f", f, "-3"]).is_err());
    }

    #[test]
    fn relays_output_and_state() {
        let c = check(&["-H", "h", "-n"]).unwrap();
        let r = c.evaluate(&Facts::Reply(Packet::response(
            Version::V4,
            1,
            "DISK WARNING - x | a=1\nmore",
        )));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            crate::plugin::output::render_text("NRPE", &r),
            "DISK WARNING - x | a=1\nmore\n"
        );
        let r = c.evaluate(&Facts::Reply(Packet::response(Version::V2, 7, "odd")));
        assert_eq!(r.state(), State::Unknown);
        let r = c.evaluate(&Facts::Reply(Packet::response(Version::V2, 0, "")));
        assert_eq!(
            r.relayed.as_deref(),
            Some("CHECK_NRPE: No output returned from daemon.")
        );
    }

    #[test]
    fn error_texts() {
        let c = check(&["-H", "127.0.0.1", "-p", "9", "-n", "-t", "3"]).unwrap();
        let text = |f: Facts| {
            let r = c.evaluate(&f);
            (r.state(), r.relayed.unwrap())
        };
        assert_eq!(
            text(Facts::TimedOut),
            (
                State::Critical,
                "CHECK_NRPE STATE CRITICAL: Socket timeout after 3 seconds.".into()
            )
        );
        let refused = std::io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(
            text(Facts::Failed(ExchangeError::Connect(refused))),
            (
                State::Critical,
                "connect to address 127.0.0.1 port 9: Connection refused".into()
            )
        );
        assert_eq!(
            text(Facts::Failed(ReadError::Closed { got: 0, need: 10 }.into())),
            (State::Unknown, "CHECK_NRPE: Received 0 bytes from daemon.  Check the remote server logs for error messages.".into())
        );
        assert_eq!(
            text(Facts::Failed(
                ReadError::Decode(nrpe::DecodeError::BadCrc).into()
            ))
            .1,
            "CHECK_NRPE: Response packet had invalid CRC32."
        );
        let u = check(&["-H", "h", "-u", "-t", "2"]).unwrap();
        let r = u.evaluate(&Facts::TimedOut);
        assert_eq!(r.state(), State::Unknown);
        assert_eq!(
            r.relayed.unwrap(),
            "CHECK_NRPE STATE UNKNOWN: Socket timeout after 2 seconds."
        );
    }

    #[test]
    fn replies_that_are_not_nrpe_are_the_trouble_state() {
        let c = check(&["-H", "127.0.0.1", "-n"]).unwrap();
        let state = |c: &NrpeClientCheck, e: ReadError| {
            let r = c.evaluate(&Facts::Failed(e.into()));
            (r.state(), r.relayed.unwrap())
        };
        assert_eq!(
            state(&c, ReadError::Decode(nrpe::DecodeError::BadVersion(0x4854))),
            (
                State::Critical,
                "CHECK_NRPE: Invalid packet version received from server.".into()
            )
        );
        assert_eq!(
            state(&c, ReadError::Closed { got: 5, need: 10 }),
            (
                State::Critical,
                "CHECK_NRPE: Receive header underflow - only 5 bytes received (10 expected)."
                    .into()
            )
        );
        assert_eq!(
            state(&c, ReadError::Decode(nrpe::DecodeError::BadCrc)).0,
            State::Critical
        );
        // an NRPE daemon refusing closes without a byte: still UNKNOWN, as check_nrpe
        assert_eq!(
            state(&c, ReadError::Closed { got: 0, need: 10 }).0,
            State::Unknown
        );
        // -u and -t N:STATE pick the state, as for connection problems
        let u = check(&["-H", "127.0.0.1", "-n", "-u"]).unwrap();
        assert_eq!(
            state(&u, ReadError::Closed { got: 5, need: 10 }).0,
            State::Unknown
        );
        let w = check(&["-H", "127.0.0.1", "-n", "-t", "5:WARNING"]).unwrap();
        assert_eq!(
            state(&w, ReadError::Decode(nrpe::DecodeError::BadCrc)).0,
            State::Warning
        );
    }

    #[test]
    fn timeouts_take_the_state_of_t() {
        let c = check(&["-H", "127.0.0.1", "-t", "2:UNKNOWN"]).unwrap();
        let r = c.evaluate(&Facts::TimedOut);
        assert!(r.timed_out);
        assert_eq!(r.with_timeout_state(State::Unknown).state(), State::Unknown);
        // -u: UNKNOWN whatever -t says
        let u = check(&["-H", "127.0.0.1", "-u", "-t", "2"]).unwrap();
        let r = u.evaluate(&Facts::TimedOut);
        assert!(!r.timed_out);
        assert_eq!(
            r.with_timeout_state(State::Critical).state(),
            State::Unknown
        );
    }

    #[test]
    fn hosts_ports_and_families() {
        let e = check(&["-H", "127.0.0.1", "-p", "0"]).err().unwrap().0;
        assert!(e.contains("port 0 is out of range (1-65535)"), "{e}");
        let e = check(&["-H", "a\nb"]).err().unwrap().0;
        assert!(e.contains("invalid host 'a\\nb'"), "{e}");
        assert_eq!(check(&["-H", "[::1]"]).unwrap().host, "::1");
        assert_eq!(check(&["-H", "h", "-6"]).unwrap().family, Family::V6);
        assert_eq!(check(&["-H", "h"]).unwrap().family, Family::Any);
        // check_nrpe's long names and default port
        let c = check(&["--host", "h", "--ipv4", "--port", "5667"]).unwrap();
        assert_eq!((c.host.as_str(), c.port, c.family), ("h", 5667, Family::V4));
        assert_eq!(check(&["-H", "h"]).unwrap().port, nrpe::DEFAULT_PORT);
        assert!(check(&["-H", "h", "--ipv4", "--ipv6"]).is_err());
    }
}
