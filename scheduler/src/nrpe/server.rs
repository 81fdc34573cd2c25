//! Serving NRPE queries: allowed hosts, the TLS handshake, one request per connection,
//! validation as nrpe does it, running the command, the reply in the query's version.
//! Every connection is bounded: a limit on concurrent connections, the connection
//! timeout over handshake and request, the command timeout, the request size.

use super::cfg::{AllowedHost, CommandLine, NrpeConfig};
use crate::exec::{run_plugin, Limits, PluginEnd};
use hcoop_plugins::checks::builtin;
use hcoop_plugins::nrpe::{self, Kind, Packet, HELLO_COMMAND, MAX_ARGS};
use hcoop_plugins::plugin::output::render_text;
use hcoop_plugins::plugin::runner::{run_in_process, DynCheck};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::{timeout_at, Instant};

/// The largest query buffer accepted (check_nrpe sends 1024 bytes; NSClient++-style
/// payloads may be larger).
pub const MAX_REQUEST_BUFFER: usize = 16 * 1024;

/// The version text answered to `_NRPE_CHECK`.
pub fn version_text() -> String {
    format!("NRPE v4.1.0 (hcoop-monitor {})", env!("CARGO_PKG_VERSION"))
}

/// Options of the agent that nrpe.cfg does not carry.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// Plain TCP (`-n`), as `nrpe -n`.
    pub no_tls: bool,
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
    /// Where the self-signed certificate is kept.
    pub state_dir: std::path::PathBuf,
    /// Limits applied to external commands.
    pub limits: Limits,
}

/// A configured command.
enum Command {
    /// Run as an external program (with `command_prefix`).
    External(String),
    /// A built-in check run in-process (plugin name and arguments); prepared once
    /// unless it uses `$ARGn$`.
    Builtin {
        words: Vec<String>,
        prepared: Option<Arc<dyn DynCheck>>,
    },
}

/// A ready agent: the configuration resolved, commands prepared, TLS set up.
pub struct Agent {
    allowed: Option<Vec<(IpAddr, u8)>>,
    allow_arguments: bool,
    nasty: Vec<char>,
    command_timeout: Duration,
    connection_timeout: Duration,
    commands: HashMap<String, Command>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    max_connections: usize,
    limits: Limits,
}

/// Why a request gets no answer (the connection is closed, as nrpe does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    NotText,
    Empty,
    Metachars,
    ArgumentsDisabled,
    EmptyArgument,
    CommandSubstitution,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::NotText => "request is not text",
            Refusal::Empty => "request contained no query",
            Refusal::Metachars => "request contained illegal metachars",
            Refusal::ArgumentsDisabled => {
                "request contained command arguments, but dont_blame_nrpe is off"
            }
            Refusal::EmptyArgument => "request contained an empty command argument",
            Refusal::CommandSubstitution => "request contained a bash command substitution",
        })
    }
}

/// A valid request: the command name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: String,
    pub args: Vec<String>,
}

/// Validates a query as nrpe does: no nasty metacharacters (and never a CR or LF),
/// arguments only when allowed, none empty, no `$(`; arguments past the 16th are
/// dropped.
pub fn parse_request(
    text: &[u8],
    nasty: &[char],
    allow_arguments: bool,
) -> Result<Request, Refusal> {
    let text = std::str::from_utf8(text).map_err(|_| Refusal::NotText)?;
    if text.is_empty() {
        return Err(Refusal::Empty);
    }
    if text.contains(|c: char| nasty.contains(&c) || c == '\r' || c == '\n') {
        return Err(Refusal::Metachars);
    }
    let mut parts = text.split('!');
    let command = parts.next().unwrap_or_default().to_string();
    let args: Vec<String> = parts.map(str::to_string).collect();
    if !args.is_empty() && !allow_arguments {
        return Err(Refusal::ArgumentsDisabled);
    }
    if command.is_empty() {
        return Err(Refusal::Empty);
    }
    if args.iter().any(String::is_empty) {
        return Err(Refusal::EmptyArgument);
    }
    if args.iter().any(|a| a.contains("$(")) {
        return Err(Refusal::CommandSubstitution);
    }
    Ok(Request {
        command,
        args: args.into_iter().take(MAX_ARGS).collect(),
    })
}

/// Replaces `$ARG1$`..`$ARG16$` with the arguments (empty when missing) and `$$` with
/// `$`; any other `$` stays as it is (nrpe's rules).
pub fn substitute(line: &str, args: &[String]) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
            continue;
        }
        let arg = after.find('$').and_then(|j| {
            let n: usize = after[..j].strip_prefix("ARG")?.parse().ok()?;
            (1..=MAX_ARGS).contains(&n).then_some((n, j))
        });
        match arg {
            Some((n, j)) => {
                out.push_str(args.get(n - 1).map_or("", String::as_str));
                rest = &after[j + 1..];
            }
            None => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip.to_canonical(), net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// An external command's end, as nrpe reports it.
fn nrpe_result(end: PluginEnd, timeout: Duration) -> (i16, String) {
    match end {
        PluginEnd::NotStarted(text) => (3, text),
        PluginEnd::TimedOut => (
            3,
            format!(
                "NRPE: Command timed out after {} seconds\n",
                timeout.as_secs()
            ),
        ),
        PluginEnd::Ended {
            code,
            signal,
            output,
        } => {
            let rc = match (code, signal) {
                (Some(c), _) if (0..=3).contains(&c) => c as i16,
                // a plugin killed by a signal is CRITICAL in nrpe
                (None, Some(_)) => 2,
                _ => 3,
            };
            if output.is_empty() {
                (3, "NRPE: Unable to read output\n".into())
            } else {
                (rc, output)
            }
        }
    }
}

/// Cuts the output to what a v3/v4 packet carries and drops one final newline.
fn reply_text(mut text: String) -> Vec<u8> {
    let cap = nrpe::Version::V4.max_text();
    if text.len() > cap {
        let mut end = cap;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    if text.ends_with('\n') {
        text.pop();
    }
    text.into_bytes()
}

impl Agent {
    /// Resolves allowed host names, prepares the commands and TLS.
    pub fn new(cfg: &NrpeConfig, opts: &AgentOptions) -> Result<Agent, String> {
        cfg.validate()?;
        let allowed = match &cfg.allowed_hosts {
            None => None,
            Some(list) => {
                let mut nets = Vec::new();
                for h in list {
                    match h {
                        AllowedHost::Net(ip, bits) => nets.push((*ip, *bits)),
                        AllowedHost::Name(name) => {
                            let addrs = (name.as_str(), 0).to_socket_addrs().map_err(|e| {
                                format!("allowed_hosts: cannot resolve {name}: {e}")
                            })?;
                            for a in addrs {
                                let ip = a.ip().to_canonical();
                                nets.push((ip, if ip.is_ipv4() { 32 } else { 128 }));
                            }
                        }
                    }
                }
                Some(nets)
            }
        };
        let commands = cfg
            .commands
            .iter()
            .map(|(name, line)| Ok((name.clone(), prepare_command(cfg, name, line)?)))
            .collect::<Result<HashMap<_, _>, String>>()?;
        let tls = if opts.no_tls {
            None
        } else {
            let config = super::tls::server_config(cfg, &opts.state_dir)?;
            Some(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
        };
        Ok(Agent {
            allowed,
            allow_arguments: cfg.dont_blame_nrpe,
            nasty: cfg.nasty_metachars.chars().collect(),
            command_timeout: cfg.command_timeout,
            connection_timeout: cfg.connection_timeout,
            commands,
            tls,
            max_connections: opts.max_connections.max(1),
            limits: opts.limits,
        })
    }

    /// Whether a peer may talk to the agent.
    pub fn is_allowed(&self, ip: IpAddr) -> bool {
        match &self.allowed {
            None => true,
            Some(nets) => nets.iter().any(|&(n, b)| in_net(ip, n, b)),
        }
    }

    /// The answer to a valid request: result code and text.
    pub async fn answer(&self, req: &Request) -> (i16, Vec<u8>) {
        if req.command == HELLO_COMMAND {
            return (0, version_text().into_bytes());
        }
        let Some(cmd) = self.commands.get(&req.command) else {
            return (
                3,
                format!("NRPE: Command '{}' not defined", req.command).into_bytes(),
            );
        };
        let (code, text) = match cmd {
            Command::External(line) => {
                let line = substitute(line, &req.args);
                let end = run_plugin(&line, self.command_timeout, self.limits).await;
                nrpe_result(end, self.command_timeout)
            }
            Command::Builtin { words, prepared } => {
                let check = match prepared {
                    Some(c) => Ok(c.clone()),
                    None => prepare_builtin(
                        &words
                            .iter()
                            .map(|w| substitute(w, &req.args))
                            .collect::<Vec<_>>(),
                    ),
                };
                match check {
                    Err(e) => (3, format!("NRPE: {e}")),
                    Ok(check) => {
                        let label = check.label();
                        match tokio::time::timeout(self.command_timeout, run_in_process(check))
                            .await
                        {
                            Ok(r) => (r.state().exit_code() as i16, render_text(label, &r)),
                            Err(_) => nrpe_result(PluginEnd::TimedOut, self.command_timeout),
                        }
                    }
                }
            }
        };
        (code, reply_text(text))
    }

    /// One connection: handshake, one request, one reply, all within the connection
    /// timeout (the command has its own).
    pub async fn handle(&self, sock: TcpStream, peer: SocketAddr) {
        let _ = sock.set_nodelay(true);
        let deadline = Instant::now() + self.connection_timeout;
        match &self.tls {
            None => self.converse(sock, peer, deadline).await,
            Some(acceptor) => match timeout_at(deadline, acceptor.accept(sock)).await {
                Ok(Ok(tls)) => self.converse(tls, peer, deadline).await,
                Ok(Err(e)) => log(&format!(
                    "could not complete TLS handshake with {peer}: {e}"
                )),
                Err(_) => log(&format!(
                    "connection from {peer} timed out in the handshake"
                )),
            },
        }
    }

    async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        mut s: S,
        peer: SocketAddr,
        deadline: Instant,
    ) {
        let query = match timeout_at(deadline, nrpe::read_packet(&mut s, MAX_REQUEST_BUFFER)).await
        {
            Ok(Ok(p)) if p.kind == Kind::Query => p,
            Ok(Ok(_)) => return log(&format!("request from {peer} was not a query")),
            Ok(Err(e)) => return log(&format!("could not read request from {peer}: {e}")),
            Err(_) => return log(&format!("connection from {peer} timed out")),
        };
        let req = match parse_request(&query.text, &self.nasty, self.allow_arguments) {
            Ok(r) => r,
            Err(e) => return log(&format!("request from {peer} refused: {e}")),
        };
        let (code, text) = self.answer(&req).await;
        let reply = Packet::response(query.version, code, text).encode();
        let write_deadline = Instant::now() + self.connection_timeout;
        let _ = timeout_at(write_deadline, async {
            s.write_all(&reply).await?;
            s.shutdown().await
        })
        .await;
    }
}

fn log(msg: &str) {
    eprintln!("nrpe: {msg}");
}

/// A configured command made ready: built-in checks without `$ARGn$` are built once.
fn prepare_command(cfg: &NrpeConfig, name: &str, line: &CommandLine) -> Result<Command, String> {
    Ok(match line {
        CommandLine::Builtin(words) => {
            let prepared = if words.iter().any(|w| w.contains('$')) {
                let prog = words.first().map_or("", String::as_str);
                if builtin(prog).is_none() {
                    return Err(format!("command[{name}]: no built-in check named '{prog}'"));
                }
                None
            } else {
                Some(prepare_builtin(words).map_err(|e| format!("command[{name}]: {e}"))?)
            };
            Command::Builtin {
                words: words.clone(),
                prepared,
            }
        }
        CommandLine::External(line) => Command::External(match &cfg.command_prefix {
            Some(p) => format!("{p} {line}"),
            None => line.clone(),
        }),
    })
}

/// Checks every command of a configuration as the agent would prepare it, without
/// starting anything.
pub fn check_commands(cfg: &NrpeConfig) -> Result<(), String> {
    for (name, line) in &cfg.commands {
        prepare_command(cfg, name, line)?;
    }
    Ok(())
}

/// Builds a built-in check from its plugin name and arguments.
fn prepare_builtin(words: &[String]) -> Result<Arc<dyn DynCheck>, String> {
    let (prog, args) = words
        .split_first()
        .ok_or_else(|| "a built-in command needs a check name".to_string())?;
    let build = builtin(prog).ok_or_else(|| format!("no built-in check named '{prog}'"))?;
    build(args).map_err(|e| e.0)
}

/// Serves connections from `listener` until `shutdown` completes. Hosts outside
/// allowed_hosts and connections beyond the limit are closed at once.
pub async fn serve(
    agent: Arc<Agent>,
    listener: &TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = Arc::new(Semaphore::new(agent.max_connections));
    tokio::pin!(shutdown);
    loop {
        let (sock, peer) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // out of file descriptors and the like: wait rather than spin
                    log(&format!("accept: {e}"));
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if !agent.is_allowed(peer.ip()) {
            log(&format!("host {} is not allowed to talk to us", peer.ip()));
            continue;
        }
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            log(&format!(
                "too many connections, closing the one from {peer}"
            ));
            continue;
        };
        let agent = agent.clone();
        tokio::spawn(async move {
            agent.handle(sock, peer).await;
            drop(permit);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nasty() -> Vec<char> {
        super::super::cfg::DEFAULT_NASTY_METACHARS.chars().collect()
    }

    #[test]
    fn requests() {
        let n = nasty();
        assert_eq!(
            parse_request(b"check_load", &n, false),
            Ok(Request {
                command: "check_load".into(),
                args: vec![]
            })
        );
        assert_eq!(
            parse_request(b"c!1!two", &n, true).unwrap().args,
            ["1", "two"]
        );
        assert_eq!(
            parse_request(b"c!1", &n, false),
            Err(Refusal::ArgumentsDisabled)
        );
        assert_eq!(parse_request(b"", &n, true), Err(Refusal::Empty));
        assert_eq!(parse_request(b"c!a\nb", &n, true), Err(Refusal::Metachars));
        assert_eq!(
            parse_request(b"c;reboot", &n, true),
            Err(Refusal::Metachars)
        );
        assert_eq!(parse_request(b"c!`id`", &n, true), Err(Refusal::Metachars));
        assert_eq!(
            parse_request(b"c!!x", &n, true),
            Err(Refusal::EmptyArgument)
        );
        assert_eq!(
            parse_request(b"c!$(id)", &n, true),
            Err(Refusal::CommandSubstitution)
        );
        assert_eq!(parse_request(b"c\xff", &n, true), Err(Refusal::NotText));
        // newlines are refused even when the configuration forgot them
        assert_eq!(
            parse_request(b"c!a\nb", &['|'], true),
            Err(Refusal::Metachars)
        );
        let many = format!("c{}", "!x".repeat(20));
        assert_eq!(
            parse_request(many.as_bytes(), &n, true).unwrap().args.len(),
            16
        );
    }

    #[test]
    fn macros() {
        let args = vec!["5".to_string(), "10".to_string()];
        assert_eq!(
            substitute("check -w $ARG1$ -c $ARG2$", &args),
            "check -w 5 -c 10"
        );
        assert_eq!(substitute("x $ARG3$ y", &args), "x  y");
        assert_eq!(substitute("a$$b", &args), "a$b");
        assert_eq!(
            substitute("/bin/echo $ARG1$ x$$y $FOO$ z", &[]),
            "/bin/echo  x$y $FOO$ z"
        );
        assert_eq!(substitute("$FOO$ARG1$", &args), "$FOO5");
        assert_eq!(substitute("tail $", &args), "tail $");
        assert_eq!(substitute("$ARG17$", &args), "$ARG17$");
    }

    #[test]
    fn networks() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_net(ip("127.0.0.1"), ip("127.0.0.1"), 32));
        assert!(!in_net(ip("127.0.0.2"), ip("127.0.0.1"), 32));
        assert!(in_net(ip("10.1.2.3"), ip("10.0.0.0"), 8));
        assert!(in_net(ip("::ffff:10.1.2.3"), ip("10.0.0.0"), 8));
        assert!(in_net(ip("1.2.3.4"), ip("0.0.0.0"), 0));
        assert!(in_net(ip("2001:db8::5"), ip("2001:db8::"), 32));
        assert!(!in_net(ip("2001:db9::5"), ip("2001:db8::"), 32));
        assert!(!in_net(ip("::1"), ip("127.0.0.1"), 32));
    }

    #[test]
    fn nrpe_results() {
        let t = Duration::from_secs(7);
        assert_eq!(
            nrpe_result(PluginEnd::TimedOut, t),
            (3, "NRPE: Command timed out after 7 seconds\n".into())
        );
        let ended = |code, signal, out: &str| PluginEnd::Ended {
            code,
            signal,
            output: out.into(),
        };
        assert_eq!(
            nrpe_result(ended(Some(1), None, "W\n"), t),
            (1, "W\n".into())
        );
        assert_eq!(
            nrpe_result(ended(Some(7), None, "seven\n"), t),
            (3, "seven\n".into())
        );
        assert_eq!(
            nrpe_result(ended(None, Some(9), "sig\n"), t),
            (2, "sig\n".into())
        );
        assert_eq!(
            nrpe_result(ended(Some(0), None, ""), t),
            (3, "NRPE: Unable to read output\n".into())
        );
        assert_eq!(reply_text("a\n\n".into()), b"a\n");
        assert_eq!(reply_text("x".repeat(70_000)).len(), 65_535);
    }
}
