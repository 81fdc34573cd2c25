//! The API's listeners: the TCP address (`[daemon] listen`) and the control socket
//! (`[daemon] socket`), started with the daemon, changed on reload, stopped with it.
//!
//! A TCP address that cannot be bound (a member may hold the port before the daemon
//! starts) does not stop the daemon: it says so loudly, keeps checking, and tries to
//! bind again every [`RETRY`]. The CLI does not use TCP, so a squatter cannot feed it a
//! fake status or receive its writes. The control socket's directory is made by the
//! daemon and must belong to it (or root) and be writable by nobody else, so no member
//! can put a socket of their own in its place.

use crate::http::{serve_tcp, serve_unix, Api, Slots};
use anyhow::{bail, Context, Result};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How often a TCP address that could not be bound is tried again.
pub const RETRY: Duration = Duration::from_secs(10);

/// A running server task and its stop switch.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// The API's listeners.
pub struct Listeners {
    api: Api,
    listen: String,
    tcp: Running,
    socket: Option<(PathBuf, Running)>,
    tcp_slots: Arc<Slots>,
}

/// Makes the control socket's directory (mode 0755) if needed, checks that nobody but
/// this process's user or root can write it, clears a stale socket and binds. The socket
/// itself is open to every local user (mode 0666): who may do what is decided by the
/// peer's uid, not by file modes. `owner`: the user the daemon is about to become, who
/// may own the directory too.
pub fn bind_control_socket(
    path: &Path,
    owner: Option<u32>,
) -> Result<std::os::unix::net::UnixListener> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    check_private_dir(dir, owner)?;
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                bail!(
                    "another process answers on {} (is another daemon running?)",
                    path.display()
                );
            }
            std::fs::remove_file(path)
                .with_context(|| format!("cannot remove the stale {}", path.display()))?;
        }
        Ok(_) => bail!("{} exists and is not a socket", path.display()),
        Err(_) => {}
    }
    let listener = std::os::unix::net::UnixListener::bind(path)
        .with_context(|| format!("cannot bind {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666))
        .with_context(|| format!("cannot chmod {}", path.display()))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// A directory only this process's user, `owner` or root may change: a real directory
/// (not a symbolic link), owned by one of them, not writable by group or others.
pub fn check_private_dir(dir: &Path, owner: Option<u32>) -> Result<()> {
    let m =
        std::fs::symlink_metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if !m.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if m.uid() != 0 && m.uid() != me && Some(m.uid()) != owner {
        bail!(
            "{} belongs to uid {}, not to root or to this daemon's user",
            dir.display(),
            m.uid()
        );
    }
    if m.mode() & 0o022 != 0 {
        bail!(
            "{} is writable by other users (mode {:04o})",
            dir.display(),
            m.mode() & 0o7777
        );
    }
    Ok(())
}

/// Shows a TCP listener that cannot bind as the self-check service `listener` of host
/// `hcoop-monitor` (None: it is bound again).
fn listener_problem(core: &crate::daemon::Shared, problem: Option<String>) {
    use hcoop_plugins::plugin::State;
    let (state, text) = match problem {
        Some(p) => (
            State::Critical,
            format!("LISTENER CRITICAL - {p}: the status API and page over TCP are unavailable\n"),
        ),
        None => (
            State::Ok,
            "LISTENER OK - the status API is listening\n".to_string(),
        ),
    };
    core.lock()
        .expect("core lock")
        .set_self_check(LISTENER_CHECK, state, &text);
}

/// The self-check service that shows a TCP listener that cannot bind.
pub const LISTENER_CHECK: &str = "listener";

/// Serves TCP on `listen`, binding again every [`RETRY`] until it can.
fn start_tcp(api: Api, listen: String, slots: Arc<Slots>) -> Running {
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let mut failures = 0u32;
        let listener = loop {
            match tokio::net::TcpListener::bind(&listen).await {
                Ok(l) => break l,
                Err(e) => {
                    failures += 1;
                    tracing::error!(
                        "cannot listen on {listen}: {e}: the status API and page over TCP are unavailable \
                         (does another process hold the port?); checks go on, the control socket answers, \
                         trying again every {}s (attempt {failures})",
                        RETRY.as_secs()
                    );
                    listener_problem(&api.core, Some(format!("cannot listen on {listen}: {e}")));
                    tokio::select! {
                        _ = &mut stopped => return,
                        _ = tokio::time::sleep(RETRY) => {}
                    }
                }
            }
        };
        if failures > 0 {
            listener_problem(&api.core, None);
        }
        match listener.local_addr() {
            Ok(a) => tracing::info!("status on http://{a}"),
            Err(_) => tracing::info!("status on http://{listen}"),
        }
        serve_tcp(listener, crate::web::app(api), slots, async {
            let _ = stopped.await;
        })
        .await;
    });
    Running { stop, task }
}

fn start_unix(
    api: Api,
    listener: std::os::unix::net::UnixListener,
    slots: Arc<Slots>,
) -> Result<Running> {
    let listener = tokio::net::UnixListener::from_std(listener)?;
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_unix(listener, crate::web::app(api), slots, async {
        let _ = stopped.await;
    }));
    Ok(Running { stop, task })
}

impl Listeners {
    /// Starts the listeners of `[daemon]`; `socket` is the control socket when it was
    /// bound already (before dropping privileges), else it is bound here. A control
    /// socket that cannot be bound is logged; the daemon goes on without it.
    pub fn start(
        api: Api,
        daemon: &crate::config::Daemon,
        socket: Option<std::os::unix::net::UnixListener>,
    ) -> Listeners {
        let tcp_slots = Slots::new(
            daemon.api_max_connections,
            daemon.api_max_connections_per_peer,
        );
        let unix_slots = Slots::new(
            daemon.api_max_connections,
            daemon.api_max_connections_per_peer,
        );
        let tcp = start_tcp(api.clone(), daemon.listen.clone(), tcp_slots.clone());
        let bound = match socket {
            Some(s) => Ok(s),
            None => bind_control_socket(&daemon.socket, None),
        };
        let socket = match bound.and_then(|l| start_unix(api.clone(), l, unix_slots)) {
            Ok(r) => {
                tracing::info!("control socket {}", daemon.socket.display());
                Some((daemon.socket.clone(), r))
            }
            Err(e) => {
                tracing::error!(
                    "no control socket: {e:#}; hcoop-monitor status/ack/downtime cannot reach this daemon"
                );
                None
            }
        };
        Listeners {
            api,
            listen: daemon.listen.clone(),
            tcp,
            socket,
            tcp_slots,
        }
    }

    /// Applies a reloaded `[daemon]`: a new `listen` is bound (the old one closes); a
    /// new `socket` needs a restart. Returns notes for the reload's answer.
    pub async fn reconfigure(&mut self, daemon: &crate::config::Daemon) -> Vec<String> {
        let mut notes = Vec::new();
        if daemon.listen != self.listen {
            let old = std::mem::replace(
                &mut self.tcp,
                start_tcp(
                    self.api.clone(),
                    daemon.listen.clone(),
                    self.tcp_slots.clone(),
                ),
            );
            old.stop().await;
            notes.push(format!(
                "listen: now {} (was {})",
                daemon.listen, self.listen
            ));
            self.listen = daemon.listen.clone();
        }
        let current = self.socket.as_ref().map(|(p, _)| p.as_path());
        if current != Some(daemon.socket.as_path()) {
            notes.push(format!(
                "socket: {} takes effect at the next restart",
                daemon.socket.display()
            ));
        }
        notes
    }

    /// Stops both listeners and removes the control socket.
    pub async fn stop(self) {
        self.tcp.stop().await;
        if let Some((path, running)) = self.socket {
            running.stop().await;
            let _ = std::fs::remove_file(path);
        }
    }
}
