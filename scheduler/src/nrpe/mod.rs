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
//! metacharacter, a newline, an empty argument or `$(` gets the connection closed, as
//! in nrpe. Besides external command lines, a command may name a built-in check, run
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

    /// Directory that keeps the self-signed certificate made when nrpe.cfg names none
    #[arg(long, default_value = "/var/lib/hcoop-monitor")]
    pub state_dir: PathBuf,

    /// Only read the configuration, report problems and exit
    #[arg(long)]
    pub check_config: bool,
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
    let opts = AgentOptions {
        no_tls: args.no_ssl,
        max_connections: args.max_connections,
        state_dir: args.state_dir.clone(),
        limits: Default::default(),
    };
    let agent = Agent::new(&cfg, &opts).map_err(anyhow::Error::msg)?;
    if args.check_config {
        println!(
            "nrpe configuration OK: {} commands, port {}",
            cfg.commands.len(),
            cfg.server_port
        );
        return Ok(0);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = bind(&cfg).await?;
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
    };
    let agent = Agent::new(&cfg, &opts).map_err(|e| anyhow::anyhow!("[nrpe] {e}"))?;
    Ok((cfg, agent))
}
