//! The NRPE agent: `hcoop-monitor nrpe -c /etc/nagios/nrpe.cfg` serves an existing
//! nrpe.cfg unchanged to Nagios's or Icinga's check_nrpe, in place of nrpe.
//!
//! - [`cfg`]: reading nrpe.cfg (commands, allowed_hosts, includes, ssl_* keys).
//! - [`tls`]: the rustls server configuration, with a self-signed certificate made at
//!   first start and kept when the file names none.
//! - [`server`]: validation, command execution and replies; [`serve`] is the entry
//!   point for a caller with its own listener and shutdown signal.
//!
//! Protocol versions 2, 3 and 4 are answered in the query's version. Arguments
//! (`$ARGn$`) are used only with `dont_blame_nrpe=1`; a query with a nasty
//! metacharacter, a character of a fixed floor (`$`, quotes, parentheses, control
//! characters, ...) or an empty argument gets the connection closed, as in nrpe; how
//! arguments reach a command without a shell interpreting them is told in [`server`].
//!
//! # Running as root
//! Started as root, `hcoop-monitor nrpe` reads its configuration, its certificate and
//! key (making the self-signed one if needed) and binds its port, then becomes
//! `nrpe_user` (with `nrpe_group` as its group if set, and the user's supplementary
//! groups) for good before it serves anything; commands run as that user. Without
//! `nrpe_user`, or with one that is root, it refuses to start unless given
//! `--allow-root`. Started as another user, it stays that user (a different
//! `nrpe_user` is a warning). Besides external command lines, a command may name a built-in check, run
//! in-process without a fork: `command[load]=builtin:check_load -w 5,4,3 -c 10,8,6`
//! (the words after the name are its arguments; `$ARGn$` works there too;
//! `command_prefix` does not apply).

pub mod cfg;
pub mod section;
pub mod server;
pub mod tls;

pub use cfg::NrpeConfig;
pub use section::NrpeSection;
pub use server::{serve, Agent, AgentOptions};

use crate::exec::Limits;
use anyhow::{bail, Context, Result};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// Options of `hcoop-monitor nrpe` (the nrpe.cfg file is the global `-c`).
#[derive(Debug, Clone, clap::Args)]
pub struct NrpeArgs {
    /// Plain TCP instead of TLS (for check_nrpe -n), as nrpe -n
    #[arg(short = 'n', long = "no-ssl")]
    pub no_ssl: bool,

    /// Connections served at once; further ones are closed at once
    #[arg(long, default_value_t = 256)]
    pub max_connections: usize,

    /// Connections served at once from one peer address; further ones are closed at once
    #[arg(long, default_value_t = server::DEFAULT_MAX_CONNECTIONS_PER_PEER,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_connections_per_peer: usize,

    /// Seconds for the TLS handshake and the request after a connection opens (capped
    /// by connection_timeout)
    #[arg(long, default_value_t = server::DEFAULT_REQUEST_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub request_timeout: u64,

    /// Run commands as root when started as root without nrpe_user (or with an
    /// nrpe_user that is root); without it, that is refused
    #[arg(long)]
    pub allow_root: bool,

    /// Directory that keeps the self-signed certificate made when nrpe.cfg names none
    #[arg(long, default_value = "/var/lib/hcoop-monitor")]
    pub state_dir: PathBuf,

    /// Only read the configuration, report problems and exit
    #[arg(long)]
    pub check_config: bool,
}

/// The listening socket, bound before any thread starts or privileges are dropped:
/// server_address, or every address (IPv6 and IPv4).
fn bind_std(cfg: &NrpeConfig) -> Result<std::net::TcpListener> {
    use std::net::ToSocketAddrs;
    let port = cfg.server_port;
    let listener = match &cfg.server_address {
        Some(addr) => {
            let addrs: Vec<SocketAddr> = (addr.as_str(), port)
                .to_socket_addrs()
                .with_context(|| format!("server_address {addr}"))?
                .collect();
            let mut last = None;
            let mut bound = None;
            for a in addrs {
                match std::net::TcpListener::bind(a) {
                    Ok(l) => {
                        bound = Some(l);
                        break;
                    }
                    Err(e) => last = Some(anyhow::anyhow!("cannot listen on {a}: {e}")),
                }
            }
            match bound {
                Some(l) => l,
                None => {
                    return Err(last.unwrap_or_else(|| {
                        anyhow::anyhow!("server_address {addr} has no address")
                    }))
                }
            }
        }
        None => match std::net::TcpListener::bind(("::", port)) {
            Ok(l) => l,
            Err(_) => std::net::TcpListener::bind(("0.0.0.0", port))
                .with_context(|| format!("cannot listen on port {port}"))?,
        },
    };
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Who the agent's commands will run as: the account to become (`None`: stay as is).
/// Refuses root unless `allow_root`; warns when not root and nrpe_user is another user.
fn account_to_become(
    cfg: &NrpeConfig,
    allow_root: bool,
) -> Result<Option<crate::privileges::Account>> {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let Some(user) = &cfg.nrpe_user else {
        if euid == 0 && !allow_root {
            bail!(
                "running as root and the nrpe configuration sets no nrpe_user: commands \
                 would run as root; set nrpe_user (and nrpe_group), or pass --allow-root"
            );
        }
        return Ok(None);
    };
    let account = crate::privileges::lookup(user, cfg.nrpe_group.as_deref())
        .map_err(|e| anyhow::anyhow!("nrpe_user/nrpe_group: {e}"))?;
    if euid != 0 {
        if account.uid != euid {
            eprintln!(
                "hcoop-monitor nrpe: warning: nrpe_user={user} ignored: not running as root, \
                 commands run as uid {euid}"
            );
        }
        return Ok(None);
    }
    if account.uid == 0 {
        if !allow_root {
            bail!(
                "nrpe_user={user} is root: commands would run as root; name an unprivileged \
                 user, or pass --allow-root"
            );
        }
        return Ok(None);
    }
    Ok(Some(account))
}

/// The addresses to listen on: server_address, or every address (IPv6 and IPv4).
async fn bind(cfg: &NrpeConfig) -> Result<tokio::net::TcpListener> {
    let port = cfg.server_port;
    match &cfg.server_address {
        Some(addr) => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((addr.as_str(), port))
                .await
                .with_context(|| format!("server_address {addr}"))?
                .collect();
            let mut last = None;
            for a in addrs {
                match tokio::net::TcpListener::bind(a).await {
                    Ok(l) => return Ok(l),
                    Err(e) => last = Some(anyhow::anyhow!("cannot listen on {a}: {e}")),
                }
            }
            Err(last.unwrap_or_else(|| anyhow::anyhow!("server_address {addr} has no address")))
        }
        None => match tokio::net::TcpListener::bind(("::", port)).await {
            Ok(l) => Ok(l),
            Err(_) => tokio::net::TcpListener::bind(("0.0.0.0", port))
                .await
                .with_context(|| format!("cannot listen on port {port}")),
        },
    }
}

/// `hcoop-monitor nrpe`: reads the file, then serves until SIGTERM or SIGINT.
pub fn main(config: Option<&Path>, args: &NrpeArgs) -> Result<i32> {
    let Some(path) = config else {
        bail!("nrpe needs the nrpe.cfg file: hcoop-monitor nrpe -c /etc/nagios/nrpe.cfg");
    };
    let cfg = NrpeConfig::load(path).map_err(anyhow::Error::msg)?;
    for w in &cfg.warnings {
        eprintln!("hcoop-monitor nrpe: {w}");
    }
    let become_user = account_to_become(&cfg, args.allow_root)?;
    let opts = AgentOptions {
        no_tls: args.no_ssl,
        max_connections: args.max_connections,
        state_dir: args.state_dir.clone(),
        limits: Default::default(),
        request_timeout: std::time::Duration::from_secs(args.request_timeout),
        max_connections_per_peer: args.max_connections_per_peer,
    };
    // everything that needs root first: the certificate and key, the port
    let agent = Agent::new(&cfg, &opts).map_err(anyhow::Error::msg)?;
    // built-in check_http follows redirects only to global addresses (or its own
    // --redirect-networks), as in the daemon by default
    hcoop_plugins::proto::http::install_redirect_networks(&["global"])
        .map_err(anyhow::Error::msg)?;
    if args.check_config {
        println!(
            "nrpe configuration OK: {} commands, port {}",
            cfg.commands.len(),
            cfg.server_port
        );
        return Ok(0);
    }
    let listener = bind_std(&cfg)?;
    // then leave root for good, while this process has a single thread
    if let Some(account) = &become_user {
        crate::privileges::drop_to(account, &[]).map_err(|e| {
            anyhow::anyhow!("cannot become {} (uid {}): {e}", account.name, account.uid)
        })?;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = TcpListener::from_std(listener)?;
        let shutdown = async {
            use tokio::signal::unix::{signal, SignalKind};
            match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => std::future::pending::<()>().await,
            }
        };
        let served = serve(Arc::new(agent), &listener, shutdown).await;
        // commands still running die with their process groups, as nrpe's children do
        crate::exec::COMMAND_GROUPS.kill_all();
        served?;
        Ok(0)
    })
}

/// The agent the daemon serves for its `[nrpe]` section: the listener is kept across
/// reloads that leave the address alone, so check_nrpe never sees the port closed.
pub struct Served {
    section: NrpeSection,
    address: (Option<String>, u16),
    listener: Arc<TcpListener>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Served {
    /// Builds the agent of a section and starts serving it (the self-signed
    /// certificate, when one is needed, is kept in `state_dir`).
    pub async fn start(section: &NrpeSection, state_dir: &Path, limits: Limits) -> Result<Served> {
        let (cfg, agent) = build_agent(section, state_dir, limits)?;
        let listener = Arc::new(bind(&cfg).await?);
        tracing::info!(
            "nrpe: serving {} commands on {}",
            cfg.commands.len(),
            listener.local_addr()?
        );
        Ok(Served::spawn(section, &cfg, listener, agent))
    }

    fn spawn(
        section: &NrpeSection,
        cfg: &NrpeConfig,
        listener: Arc<TcpListener>,
        agent: Agent,
    ) -> Served {
        let (stop, stopped) = oneshot::channel::<()>();
        let l = listener.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = serve(Arc::new(agent), &l, async {
                let _ = stopped.await;
            })
            .await
            {
                tracing::error!("nrpe: {e}");
            }
        });
        Served {
            section: section.clone(),
            address: (cfg.server_address.clone(), cfg.server_port),
            listener,
            stop,
            task,
        }
    }

    /// Stops accepting connections (requests being answered finish on their own).
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }

    /// Applies a reloaded configuration's `[nrpe]`: unchanged keeps the running agent;
    /// a section that cannot be served keeps the old agent running and logs why.
    pub async fn reload(
        running: Option<Served>,
        section: Option<&NrpeSection>,
        state_dir: &Path,
        limits: Limits,
    ) -> Option<Served> {
        match (running, section) {
            (None, None) => None,
            (Some(old), None) => {
                old.stop().await;
                tracing::info!("nrpe: stopped (no [nrpe] section any more)");
                None
            }
            (Some(old), Some(new)) if old.section == *new => Some(old),
            (None, Some(new)) => match Served::start(new, state_dir, limits).await {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::error!("nrpe: cannot start: {e:#}");
                    None
                }
            },
            (Some(old), Some(new)) => {
                let (cfg, agent) = match build_agent(new, state_dir, limits) {
                    Ok(built) => built,
                    Err(e) => {
                        tracing::error!("nrpe: {e:#}; keeping the running agent");
                        return Some(old);
                    }
                };
                let same_address = old.address == (cfg.server_address.clone(), cfg.server_port);
                let listener = old.listener.clone();
                old.stop().await;
                let listener = if same_address {
                    listener
                } else {
                    drop(listener);
                    match bind(&cfg).await {
                        Ok(l) => Arc::new(l),
                        Err(e) => {
                            tracing::error!("nrpe: {e:#}; agent stopped");
                            return None;
                        }
                    }
                };
                tracing::info!("nrpe: reloaded, {} commands", cfg.commands.len());
                Some(Served::spawn(new, &cfg, listener, agent))
            }
        }
    }
}

fn build_agent(
    section: &NrpeSection,
    state_dir: &Path,
    limits: Limits,
) -> Result<(NrpeConfig, Agent)> {
    let cfg = section
        .resolve()
        .map_err(|e| anyhow::anyhow!("[nrpe] {e}"))?;
    for w in &cfg.warnings {
        tracing::warn!("nrpe: {w}");
    }
    let opts = AgentOptions {
        no_tls: !section.tls,
        max_connections: section.max_connections,
        state_dir: state_dir.to_path_buf(),
        limits,
        request_timeout: section
            .request_timeout
            .unwrap_or(server::DEFAULT_REQUEST_TIMEOUT),
        max_connections_per_peer: section.max_connections_per_peer,
    };
    let agent = Agent::new(&cfg, &opts).map_err(|e| anyhow::anyhow!("[nrpe] {e}"))?;
    Ok((cfg, agent))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fake;
    use hcoop_plugins::plugin::State;
    use hcoop_plugins::proto::nrpe::{read_packet, Packet, Version, MAX_BUFFER_LEN};
    use tokio::io::AsyncWriteExt;

    /// A free loopback port (bound, then let go).
    fn free_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }

    /// A plain-TCP `[nrpe]` section on `port` with command `fake` (a built-in check).
    fn section(port: u16, key: &str) -> NrpeSection {
        let text = format!(
            "[nrpe]\nserver_address = \"127.0.0.1\"\nserver_port = {port}\ntls = false\n\
             allowed_hosts = [\"127.0.0.1\"]\n\n[nrpe.command.fake]\ncheck = \"{}\"\nargs = [\"{key}\"]\n",
            fake::NAME
        );
        crate::config::Config::from_files(vec![(None, text)])
            .unwrap()
            .nrpe
            .unwrap()
    }

    /// Asks the agent on `port` for `command`; returns the result code and text.
    async fn ask(port: u16, command: &str) -> (i16, String) {
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        s.write_all(&Packet::query(Version::V3, command).encode())
            .await
            .unwrap();
        let p = read_packet(&mut s, MAX_BUFFER_LEN).await.unwrap();
        (p.result_code, String::from_utf8_lossy(&p.text).into_owned())
    }

    #[tokio::test]
    async fn the_served_agent_answers_reloads_and_stops() {
        fake::set("nrpe-a", State::Warning, "odd");
        fake::set("nrpe-b", State::Ok, "fine");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let a = section(port, "nrpe-a");
        let served = Served::start(&a, dir.path(), Limits::default())
            .await
            .unwrap();
        assert_eq!(ask(port, "fake").await, (1, "FAKE WARNING - odd".into()));
        // the same section: the same agent
        let listener = served.listener.clone();
        let served = Served::reload(Some(served), Some(&a), dir.path(), Limits::default())
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&listener, &served.listener));
        // another command on the same address: a new agent on the same socket
        let b = section(port, "nrpe-b");
        let served = Served::reload(Some(served), Some(&b), dir.path(), Limits::default())
            .await
            .unwrap();
        assert!(Arc::ptr_eq(&listener, &served.listener));
        drop(listener);
        assert_eq!(ask(port, "fake").await, (0, "FAKE OK - fine".into()));
        // a section that cannot be served keeps the running agent
        let mut broken = b.clone();
        broken.allowed_hosts = Some(vec!["not an address/99".into()]);
        let served = Served::reload(Some(served), Some(&broken), dir.path(), Limits::default())
            .await
            .unwrap();
        assert_eq!(ask(port, "fake").await.0, 0);
        // no section: stopped, the port closed
        assert!(
            Served::reload(Some(served), None, dir.path(), Limits::default())
                .await
                .is_none()
        );
        assert!(tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err());
    }

    #[test]
    fn the_agent_command_line() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: NrpeArgs,
        }
        let a = Cli::try_parse_from(["nrpe", "-n", "--max-connections-per-peer", "4"])
            .unwrap()
            .args;
        assert!(a.no_ssl && !a.allow_root && !a.check_config);
        assert_eq!((a.max_connections, a.max_connections_per_peer), (256, 4));
        assert_eq!(a.state_dir, PathBuf::from("/var/lib/hcoop-monitor"));
        assert!(Cli::try_parse_from(["nrpe", "--max-connections-per-peer", "0"]).is_err());
        assert!(Cli::try_parse_from(["nrpe", "--request-timeout", "0"]).is_err());
    }
}
