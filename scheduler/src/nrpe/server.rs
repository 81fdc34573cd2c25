//! Serving NRPE queries: allowed hosts, the TLS handshake, one request per connection,
//! validation as nrpe does it, running the command, the reply in the query's version.
//!
//! Every connection is bounded: a limit on concurrent connections and a smaller one per
//! peer address (so one peer cannot hold every slot), the request timeout over the
//! handshake and the request (default 10 s; never more than nrpe's connection_timeout),
//! the command timeout, the same short timeout for writing the reply, the request size.
//!
//! # Arguments (`dont_blame_nrpe=1`)
//! A query is refused (the connection closed unanswered) when it holds any character of
//! nasty_metachars or of a fixed floor that no configuration can lift: ``|`&><'\[]{};``,
//! `$`, `"`, `(`, `)` and every control character (newline, tab, DEL, ...). An argument
//! value is therefore free of everything the shell treats as syntax, quoting or
//! expansion, except glob characters (`*?~`) and white space. It then reaches the
//! command as words, never as shell text:
//! - a command line that needs no shell (Nagios's rule, the `$ARGn$` macros aside) runs
//!   without one: the substituted line is split at white space into the argv, so
//!   `-a '-w 5 -c 10'` gives four words as nrpe users expect, and nothing is expanded;
//! - a command line that needs a shell gets each `$ARGn$` quoted where it stands:
//!   outside quotes, every white-space separated word of the value becomes a word in
//!   single quotes (`a b*` gives `'a' 'b*'`: the same words as without a shell, no glob
//!   expansion); inside the line's own single or double quotes the value goes in as it
//!   is, where none of its characters is special.

use super::cfg::{AllowedHost, CommandLine, NrpeConfig};
pub use crate::config::sections::DEFAULT_MAX_CONNECTIONS_PER_PEER;
use crate::exec::{needs_shell, run_argv, run_builtin, Limits, PluginEnd, COMMAND_GROUPS};
use hcoop_plugins::plugin::runner::DynCheck;
use hcoop_plugins::proto::nrpe::{self, Kind, Packet, HELLO_COMMAND, MAX_ARGS};
use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

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
    /// Time for the TLS handshake and the request (capped by connection_timeout).
    pub request_timeout: Duration,
    /// Connections served at once from one peer address; more are closed at once.
    pub max_connections_per_peer: usize,
}

/// The default of [`AgentOptions::request_timeout`].
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A configured command.
enum Command {
    /// Run as an external program (with `command_prefix`); `shell` when the line needs
    /// a shell once its `$ARGn$` macros are left aside.
    External { line: String, shell: bool },
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
    commands: HashMap<String, Command>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    max_connections: usize,
    max_per_peer: usize,
    request_timeout: Duration,
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
        })
    }
}

/// A valid request: the command name and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub command: String,
    pub args: Vec<String>,
}

/// Characters refused in every query, whatever nasty_metachars says (control
/// characters are refused too): nrpe's default set, and what would let an argument
/// expand or quote in a shell.
pub const ALWAYS_REFUSED: &str = "|`&><'\\[]{};$\"()";

/// Whether a character is refused in a query.
fn refused(c: char, nasty: &[char]) -> bool {
    c.is_control() || ALWAYS_REFUSED.contains(c) || nasty.contains(&c)
}

/// Validates a query as nrpe does, stricter: no nasty metacharacter, no character of
/// [`ALWAYS_REFUSED`], no control character, arguments only when allowed, none empty;
/// arguments past the 16th are dropped.
pub fn parse_request(
    text: &[u8],
    nasty: &[char],
    allow_arguments: bool,
) -> Result<Request, Refusal> {
    let text = std::str::from_utf8(text).map_err(|_| Refusal::NotText)?;
    if text.is_empty() {
        return Err(Refusal::Empty);
    }
    if text.contains(|c: char| refused(c, nasty)) {
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
    Ok(Request {
        command,
        args: args.into_iter().take(MAX_ARGS).collect(),
    })
}

/// Replaces `$ARG1$`..`$ARG16$` with the arguments (empty when missing) and `$$` with
/// `$`; any other `$` stays as it is (nrpe's rules).
pub fn substitute(line: &str, args: &[String]) -> String {
    substitute_with(line, args, |out, value, _| out.push_str(value))
}

/// Where a `$ARGn$` stands in a shell command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quoting {
    None,
    Single,
    Double,
}

/// [`substitute`] for a line the shell will read: each argument quoted where it stands
/// (see the module documentation). The arguments must have passed [`parse_request`].
pub fn substitute_for_shell(line: &str, args: &[String]) -> String {
    substitute_with(line, args, |out, value, quoting| match quoting {
        Quoting::Single | Quoting::Double => out.push_str(value),
        Quoting::None => {
            let words: Vec<String> = value.split_whitespace().map(|w| format!("'{w}'")).collect();
            out.push_str(&words.join(" "));
        }
    })
}

/// Replaces the macros of `line`, handing each argument's value to `put` with the
/// shell quoting in force where it stands.
fn substitute_with(
    line: &str,
    args: &[String],
    mut put: impl FnMut(&mut String, &str, Quoting),
) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quoting = Quoting::None;
    let mut chars = line.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match (c, quoting) {
            ('$', _) => {
                let after = &line[i + 1..];
                if after.starts_with('$') {
                    out.push('$');
                    chars.next();
                    continue;
                }
                let arg = after.find('$').and_then(|j| {
                    let n: usize = after[..j].strip_prefix("ARG")?.parse().ok()?;
                    (1..=MAX_ARGS).contains(&n).then_some((n, j))
                });
                match arg {
                    Some((n, j)) => {
                        put(
                            &mut out,
                            args.get(n - 1).map_or("", String::as_str),
                            quoting,
                        );
                        // skip "ARGn$"
                        while chars.peek().is_some_and(|&(k, _)| k <= i + 1 + j) {
                            chars.next();
                        }
                    }
                    None => out.push('$'),
                }
                continue;
            }
            ('\'', Quoting::None) => quoting = Quoting::Single,
            ('\'', Quoting::Single) => quoting = Quoting::None,
            ('"', Quoting::None) => quoting = Quoting::Double,
            ('"', Quoting::Double) => quoting = Quoting::None,
            ('\\', Quoting::None | Quoting::Double) => {
                out.push(c);
                if let Some((_, escaped)) = chars.next() {
                    out.push(escaped);
                }
                continue;
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

/// The argv of a configured external command line for a request's arguments.
pub fn command_argv(line: &str, shell: bool, args: &[String]) -> Vec<String> {
    if shell {
        vec![
            "/bin/sh".into(),
            "-c".into(),
            substitute_for_shell(line, args),
        ]
    } else {
        substitute(line, args)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    }
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
            commands,
            tls,
            max_connections: opts.max_connections.max(1),
            max_per_peer: opts.max_connections_per_peer.max(1),
            request_timeout: opts.request_timeout.min(cfg.connection_timeout),
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
            Command::External { line, shell } => {
                let argv = command_argv(line, *shell, &req.args);
                let end = run_argv(
                    &argv,
                    &[],
                    self.command_timeout,
                    self.limits,
                    &COMMAND_GROUPS,
                )
                .await;
                nrpe_result(end, self.command_timeout)
            }
            Command::Builtin { words, prepared } => {
                let check = match prepared {
                    Some(c) => Ok(c.clone()),
                    None => crate::registry::build_words(
                        &words
                            .iter()
                            .map(|w| substitute(w, &req.args))
                            .collect::<Vec<_>>(),
                    ),
                };
                match check {
                    Err(e) => (3, format!("NRPE: {e}")),
                    Ok(check) => {
                        match tokio::time::timeout(self.command_timeout, run_builtin(check)).await {
                            Ok(o) => (o.state().exit_code() as i16, o.text()),
                            Err(_) => nrpe_result(PluginEnd::TimedOut, self.command_timeout),
                        }
                    }
                }
            }
        };
        (code, reply_text(text))
    }

    /// One connection: handshake and request within the request timeout, the command
    /// within its own, the reply written within the request timeout again.
    pub async fn handle(&self, sock: TcpStream, peer: SocketAddr) {
        let _ = sock.set_nodelay(true);
        let deadline = Instant::now() + self.request_timeout;
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
            Err(_) => {
                return log(&format!(
                    "connection from {peer} timed out waiting for the request"
                ))
            }
        };
        let req = match parse_request(&query.text, &self.nasty, self.allow_arguments) {
            Ok(r) => r,
            Err(e) => return log(&format!("request from {peer} refused: {e}")),
        };
        let (code, text) = self.answer(&req).await;
        let reply = Packet::response(query.version, code, text).encode();
        let write_deadline = Instant::now() + self.request_timeout;
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
                if !crate::registry::exists(prog) {
                    return Err(format!("command[{name}]: no built-in check named '{prog}'"));
                }
                None
            } else {
                Some(
                    crate::registry::build_words(words)
                        .map_err(|e| format!("command[{name}]: {e}"))?,
                )
            };
            Command::Builtin {
                words: words.clone(),
                prepared,
            }
        }
        CommandLine::External(line) => {
            let line = match &cfg.command_prefix {
                Some(p) => format!("{p} {line}"),
                None => line.clone(),
            };
            let shell = needs_shell(&substitute(&line, &[]));
            Command::External { line, shell }
        }
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

/// Serves connections from `listener` until `shutdown` completes. Hosts outside
/// allowed_hosts, connections beyond the limit and a peer's connections beyond its own
/// limit are closed at once.
pub async fn serve(
    agent: Arc<Agent>,
    listener: &TcpListener,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let slots = crate::slots::Slots::new(agent.max_connections, agent.max_per_peer);
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
        let ip = peer.ip().to_canonical();
        let slot = match slots.take(&ip.to_string()) {
            Ok(slot) => slot,
            Err(crate::slots::Full::Peer) => {
                log(&format!(
                    "too many connections from {ip} (at most {}), closing the one from {peer}",
                    slots.per_peer()
                ));
                continue;
            }
            Err(crate::slots::Full::Total) => {
                log(&format!(
                    "too many connections, closing the one from {peer}"
                ));
                continue;
            }
        };
        let agent = agent.clone();
        tokio::spawn(async move {
            agent.handle(sock, peer).await;
            drop(slot);
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
        assert_eq!(parse_request(b"c!$(id)", &n, true), Err(Refusal::Metachars));
        assert_eq!(parse_request(b"c\xff", &n, true), Err(Refusal::NotText));
        // the floor holds even when the configuration forgot everything
        for bad in [
            "c!a\nb",
            "c!a\rb",
            "c!a\tb",
            "c!a\x01b",
            "c!a\x7fb",
            "c!a\u{85}b",
            "c!$HOME",
            "c!$$",
            "c!a\"b",
            "c!(x",
            "c!x)",
            "c!a;b",
            "c!a|b",
            "c!a`b",
            "c!a'b",
            "c!a\\b",
            "c!a&b",
            "c!a>b",
            "c!a<b",
            "c!a[b",
            "c!a]b",
            "c!a{b",
            "c!a}b",
        ] {
            assert_eq!(
                parse_request(bad.as_bytes(), &[], true),
                Err(Refusal::Metachars),
                "{bad:?}"
            );
        }
        // what stays allowed: words, spaces, globs, non-ASCII text
        assert_eq!(
            parse_request("c!-w 5 -c 10!a b*!é~?".as_bytes(), &[], true)
                .unwrap()
                .args,
            ["-w 5 -c 10", "a b*", "é~?"]
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
    fn shell_quoting() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let a = args(&["a b*", "~x"]);
        assert_eq!(
            substitute_for_shell("/bin/echo $ARG1$ | cat $ARG2$", &a),
            "/bin/echo 'a' 'b*' | cat '~x'"
        );
        // inside the line's own quotes the value goes in as it is
        assert_eq!(
            substitute_for_shell("echo '$ARG1$' \"$ARG2$\" x$$y", &a),
            "echo 'a b*' \"~x\" x$y"
        );
        // an escaped quote does not open a quoted part
        assert_eq!(
            substitute_for_shell("echo \\' $ARG1$ \"\\\"$ARG2$\"", &a),
            "echo \\' 'a' 'b*' \"\\\"~x\""
        );
        // a missing argument is no word at all, as without quoting
        assert_eq!(substitute_for_shell("x $ARG3$ y", &a), "x  y");
        assert_eq!(
            substitute_for_shell("x $FOO$ $ARG17$", &a),
            "x $FOO$ $ARG17$"
        );
        assert_eq!(substitute_for_shell("a$ARG2$b", &a), "a'~x'b");
    }

    #[test]
    fn argv_with_and_without_shell() {
        let a = vec!["-w 5 -c 10".to_string(), "b*".to_string()];
        assert_eq!(
            command_argv("/p/check -x $ARG1$ $ARG2$", false, &a),
            ["/p/check", "-x", "-w", "5", "-c", "10", "b*"]
        );
        assert_eq!(
            command_argv("/p/check $ARG2$ | cat", true, &a),
            ["/bin/sh", "-c", "/p/check 'b*' | cat"]
        );
        // the shell rule ignores the macros themselves
        assert!(!needs_shell(&substitute("/p/check -w $ARG1$", &[])));
        assert!(needs_shell(&substitute("/p/check $ARG1$ | cat", &[])));
        assert!(needs_shell(&substitute("/p/check $$HOME", &[])));
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
