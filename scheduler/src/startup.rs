//! What the daemon does as root before it gives root up.
//!
//! Started as root with `[daemon] user` set (the package's unit does this), the daemon
//! raises its open-file limit, makes the control socket's directory (owned by that
//! user, mode 0755), binds the socket, makes the state directory if it is missing, and
//! then drops to the user with [`crate::privileges::drop_to`], keeping only the
//! capabilities the configured checks need ([`needed_capabilities`]). All of this
//! happens while the process has one thread, before the async runtime starts.
//!
//! Started as another user, it keeps its identity and binds the socket later; started
//! as root without `[daemon] user`, it stays root and says so.

use crate::config::{CheckSpec, Config};
use crate::exec::{intern, Limits};
use crate::privileges::{self, Capability};
use anyhow::{Context, Result};
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;

/// What was prepared as root for the daemon.
#[derive(Default)]
pub struct Prepared {
    /// The control socket, bound.
    pub socket: Option<std::os::unix::net::UnixListener>,
}

/// Whether a configuration starts external programs: an external host or service
/// check, a contact's notification command, or an external `[nrpe]` command.
pub fn runs_external_programs(c: &Config) -> bool {
    let external = |spec: Option<&CheckSpec>| matches!(spec, Some(CheckSpec::External { .. }));
    c.hosts.iter().any(|h| external(h.check.as_deref()))
        || c.services.iter().any(|s| external(Some(&s.check)))
        || c.contacts.iter().any(|k| k.command.is_some())
        || c.nrpe.as_ref().is_some_and(|n| {
            n.resolve().map_or(true, |cfg| {
                cfg.commands
                    .values()
                    .any(|l| matches!(l, crate::nrpe::cfg::CommandLine::External(_)))
            })
        })
}

/// Whether this process may start programs as another user: it is root, or it kept
/// CAP_SETUID and CAP_SETGID when it left root (see [`prepare_and_drop`]).
pub fn can_switch_users() -> bool {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        return true;
    }
    privileges::holds(Capability::Setuid, true) && privileges::holds(Capability::Setgid, true)
}

impl Limits {
    /// The limits of a daemon configuration. `run_as` is the plugin user, resolved only
    /// when this process runs as root and the configuration starts external programs:
    /// a missing user is then an error, and so is one that is root itself (plugins
    /// never run as root).
    pub fn from_config(c: &Config) -> Result<Limits, String> {
        let d = &c.daemon;
        let root = can_switch_users();
        let run_as = if root && runs_external_programs(c) {
            let user = &d.plugin_user;
            let account = privileges::lookup(user, None).map_err(|e| {
                format!("[daemon] plugin_user = '{user}': {e}: external plugins need an unprivileged user to run as")
            })?;
            if account.uid == 0 {
                return Err(format!(
                    "[daemon] plugin_user = '{user}' is root: external plugins never run as root"
                ));
            }
            Some(intern(account))
        } else {
            None
        };
        Ok(Limits {
            nproc: Some(d.plugin_nproc),
            address_space: Some(d.plugin_address_space_mib * 1024 * 1024),
            cpu_seconds: Some(d.plugin_cpu_seconds),
            run_as,
        })
    }
}

/// The names of the built-in checks a configuration runs (services, hosts and the
/// `[nrpe]` agent's built-in commands).
fn builtin_checks(config: &Config) -> Vec<String> {
    let mut names: Vec<String> = config
        .hosts
        .iter()
        .filter_map(|h| h.check.as_deref())
        .chain(config.services.iter().map(|s| &*s.check))
        .filter_map(|c| match c {
            CheckSpec::Builtin { name, .. } => Some(name.clone()),
            CheckSpec::External { .. } | CheckSpec::Passive => None,
        })
        .collect();
    if let Some(Ok(cfg)) = config.nrpe.as_ref().map(|n| n.resolve()) {
        for line in cfg.commands.values() {
            if let crate::nrpe::cfg::CommandLine::Builtin(words) = line {
                names.extend(words.first().cloned());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

/// The capabilities a configuration needs once the daemon left root, each with why:
/// - `CAP_DAC_READ_SEARCH`: check_log and check_file_age read other users' files;
/// - `CAP_SYS_PTRACE`: check_procs and check_listen read other users' `/proc/PID/fd`,
///   `exe` and `io`;
/// - `CAP_SYS_ADMIN`: check_quota reads every user's quota;
/// - `CAP_NET_RAW`: check_icmp and check_ping send ICMP echo where the kernel does not
///   let the daemon's group use unprivileged ICMP sockets (net.ipv4.ping_group_range):
///   kept only when `unprivileged_ping` is false (see [`ping_group_allows`]);
/// - `CAP_NET_BIND_SERVICE`: a port below 1024 for `listen` or the `[nrpe]` agent
///   (bound again on reload);
/// - `CAP_SETUID`, `CAP_SETGID`, `CAP_KILL`: external plugins, notification and NRPE
///   commands run as `plugin_user` when that is not the daemon's own user (and are
///   killed on timeout).
pub fn needed_capabilities(
    config: &Config,
    daemon_user: &str,
    unprivileged_ping: bool,
) -> Vec<(Capability, String)> {
    let mut out = Vec::new();
    let checks = builtin_checks(config);
    let uses = |names: &[&str]| {
        checks
            .iter()
            .filter(|c| names.contains(&c.as_str()))
            .cloned()
            .collect::<Vec<_>>()
    };
    let files = uses(&["check_log", "check_file_age"]);
    if !files.is_empty() {
        out.push((Capability::DacReadSearch, files.join(", ")));
    }
    let procs = uses(&["check_procs", "check_listen"]);
    if !procs.is_empty() {
        out.push((Capability::SysPtrace, procs.join(", ")));
    }
    let quota = uses(&["check_quota"]);
    if !quota.is_empty() {
        out.push((Capability::SysAdmin, quota.join(", ")));
    }
    let icmp = uses(&["check_icmp", "check_ping"]);
    if !icmp.is_empty() && !unprivileged_ping {
        out.push((Capability::NetRaw, icmp.join(", ")));
    }
    let low_port = |port: u16| port != 0 && port < 1024;
    let listen_port = config
        .daemon
        .listen
        .parse::<std::net::SocketAddr>()
        .map_or(0, |a| a.port());
    let nrpe_port = config
        .nrpe
        .as_ref()
        .and_then(|n| n.resolve().ok())
        .map_or(0, |c| c.server_port);
    if low_port(listen_port) || low_port(nrpe_port) {
        out.push((Capability::NetBindService, "a port below 1024".into()));
    }
    if runs_external_programs(config) && config.daemon.plugin_user != daemon_user {
        let why = format!(
            "external programs run as plugin_user '{}'",
            config.daemon.plugin_user
        );
        out.push((Capability::Setuid, why.clone()));
        out.push((Capability::Setgid, why.clone()));
        out.push((Capability::Kill, why));
    }
    out
}

/// The sysctl whose range of group ids may open unprivileged ICMP sockets. On Linux it
/// governs ICMPv6 datagram sockets as well: there is no IPv6 counterpart.
const PING_GROUP_RANGE: &str = "/proc/sys/net/ipv4/ping_group_range";

/// Whether `gid` lies in the text of net.ipv4.ping_group_range (two group ids, low and
/// high, inclusive; the kernel's default `1 0` is empty). Text that is not two group
/// ids says no, so the capability is kept.
pub fn ping_group_allows(range: &str, gid: u32) -> bool {
    let mut words = range.split_ascii_whitespace().map(str::parse::<u32>);
    match (words.next(), words.next(), words.next()) {
        (Some(Ok(low)), Some(Ok(high)), None) => low <= gid && gid <= high,
        _ => false,
    }
}

/// Whether the kernel lets group `gid` open unprivileged ICMP (and ICMPv6) sockets, read
/// from [`PING_GROUP_RANGE`] (no if it cannot be read).
pub fn unprivileged_ping(gid: u32) -> bool {
    use std::io::Read;
    let mut text = String::new();
    let read =
        std::fs::File::open(PING_GROUP_RANGE).and_then(|f| f.take(256).read_to_string(&mut text));
    match read {
        Ok(_) => ping_group_allows(&text, gid),
        Err(e) => {
            tracing::warn!("{PING_GROUP_RANGE}: {e}");
            false
        }
    }
}

/// Whether this process left root for `[daemon] user` (its capabilities are then fixed
/// until a restart).
static LEFT_ROOT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The capabilities a (reloaded) configuration needs that this process gave up when it
/// left root, as notes: they take a restart. Empty for a daemon that never was root.
pub fn missing_capabilities(config: &Config) -> Vec<String> {
    if !LEFT_ROOT.load(std::sync::atomic::Ordering::Relaxed) {
        return Vec::new();
    }
    // SAFETY: geteuid has no preconditions.
    let me = crate::auth::user_name(unsafe { libc::geteuid() });
    // SAFETY: getegid has no preconditions.
    let ping = unprivileged_ping(unsafe { libc::getegid() });
    needed_capabilities(config, &me, ping)
        .into_iter()
        .filter(|(cap, _)| !privileges::holds(*cap, true))
        .map(|(cap, why)| format!("{cap:?} is needed by {why}: it takes a restart"))
        .collect()
}

/// Raises the soft limit of open files to the hard one: the listeners never take more
/// than their share, and the checks keep the rest.
pub fn raise_open_files() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: lim is a valid out pointer, then a valid in pointer.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// A directory owned by `uid:gid` with `mode`, made if missing (an existing one is left
/// as it is).
fn own_dir(dir: &Path, mode: u32, uid: u32, gid: u32) -> Result<()> {
    if std::fs::symlink_metadata(dir).is_ok() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    std::os::unix::fs::lchown(dir, Some(uid), Some(gid))
        .with_context(|| format!("cannot chown {}", dir.display()))
}

/// Prepares as root and drops to `[daemon] user`; a no-op for a daemon not started as
/// root. Must be called before any thread starts.
pub fn prepare_and_drop(config: &Config) -> Result<Prepared> {
    raise_open_files();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(Prepared::default());
    }
    let Some(user) = &config.daemon.user else {
        tracing::warn!(
            "running as root: set [daemon] user so that the daemon gives root up (see SECURITY.md)"
        );
        return Ok(Prepared::default());
    };
    let account =
        privileges::lookup(user, None).map_err(|e| anyhow::anyhow!("[daemon] user: {e}"))?;
    if account.uid == 0 {
        anyhow::bail!("[daemon] user = '{user}' is root: name an unprivileged user");
    }
    // the socket's directory belongs to the daemon's user, so it can remove the socket
    // at stop; nobody else may write it
    let socket_path = &config.daemon.socket;
    let socket = match socket_path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => {
            let made = own_dir(dir, 0o755, account.uid, account.gid);
            made.and_then(|()| {
                crate::listeners::bind_control_socket(socket_path, Some(account.uid))
            })
            .and_then(|l| {
                std::os::unix::fs::lchown(socket_path, Some(account.uid), Some(account.gid))?;
                Ok(l)
            })
        }
        _ => crate::listeners::bind_control_socket(socket_path, Some(account.uid)),
    };
    let socket = match socket {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(
                "no control socket: {e:#}; hcoop-monitor status/ack/downtime cannot reach this daemon"
            );
            None
        }
    };
    if let Some(dir) = config.daemon.state_file.parent() {
        if !dir.as_os_str().is_empty() {
            if let Err(e) = own_dir(dir, 0o750, account.uid, account.gid) {
                tracing::error!("{e:#}");
            }
        }
    }
    // the history store is opened after the drop, in a directory of the daemon's
    if let Some(dir) = config
        .history
        .path
        .parent()
        .filter(|_| config.history.enabled)
    {
        if !dir.as_os_str().is_empty() {
            if let Err(e) = own_dir(dir, 0o750, account.uid, account.gid) {
                tracing::error!("history store: {e:#}");
            }
        }
    }
    // the event log is opened after the drop: its directory, when missing, is made the
    // daemon's (an existing one is left as it is)
    if let Some(dir) = config.daemon.event_log.as_deref().and_then(Path::parent) {
        if !dir.as_os_str().is_empty() {
            if let Err(e) = own_dir(dir, 0o750, account.uid, account.gid) {
                tracing::error!("event log: {e:#}");
            }
        }
    }
    // the external command file is made as root: the daemon user's, in the group that
    // may write it (the user need not be a member); opened once the daemon has left root
    if let Some(path) = &config.daemon.command_file {
        let gid = (config.daemon.command_group.as_deref()).and_then(crate::auth::group_id);
        let made = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => {
                own_dir(dir, 0o755, account.uid, account.gid).map_err(|e| format!("{e:#}"))
            }
            _ => Ok(()),
        };
        let made = made.and_then(|()| crate::cmdfile::prepare(path, account.uid, gid));
        if let Err(e) = made {
            tracing::error!("command_file: {e}");
        }
    }
    let ping = unprivileged_ping(account.gid);
    let pings = builtin_checks(config)
        .iter()
        .any(|c| c == "check_icmp" || c == "check_ping");
    if pings && ping {
        tracing::info!(
            "check_icmp/check_ping use unprivileged ICMP sockets: gid {} is in {PING_GROUP_RANGE}, NetRaw is not kept",
            account.gid
        );
    } else if pings {
        tracing::info!(
            "check_icmp/check_ping need NetRaw: gid {} is outside {PING_GROUP_RANGE}",
            account.gid
        );
    }
    let mut keep = Vec::new();
    for (cap, why) in needed_capabilities(config, &account.name, ping) {
        if privileges::holds(cap, false) {
            keep.push(cap);
        } else {
            tracing::warn!(
                "{cap:?} is needed by {why} but was not given to the daemon (unit's CapabilityBoundingSet?)"
            );
        }
    }
    privileges::drop_to(&account, &keep)
        .map_err(|e| anyhow::anyhow!("cannot drop to '{user}': {e}"))?;
    LEFT_ROOT.store(true, std::sync::atomic::Ordering::Relaxed);
    // no process of the same user (a plugin) may read the daemon's memory or environment
    // SAFETY: prctl with PR_SET_DUMPABLE and a plain integer.
    unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    tracing::info!(
        "running as {} (uid {}) with capabilities {:?}",
        account.name,
        account.uid,
        keep
    );
    Ok(Prepared { socket })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_follow_the_checks() {
        let text = r#"
[daemon]
listen = "127.0.0.1:80"
plugin_user = "nobody"
[[host]]
name = "h"
address = "127.0.0.1"
[[service]]
host = "h"
name = "log"
check = "check_log"
args = ["-F", "/var/log/syslog", "--critical-pattern", "x"]
[[service]]
host = "h"
name = "p"
check = "check_procs"
[[service]]
host = "h"
name = "ping"
check = "check_icmp"
args = ["-H", "127.0.0.1"]
[[service]]
host = "h"
name = "ext"
command = "/bin/true"
"#;
        let c = Config::from_files(vec![(None, text.into())]).unwrap_or_else(|e| panic!("{e:#}"));
        let caps: Vec<Capability> = needed_capabilities(&c, "hcoop-monitor", false)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(
            caps,
            [
                Capability::DacReadSearch,
                Capability::SysPtrace,
                Capability::NetRaw,
                Capability::NetBindService,
                Capability::Setuid,
                Capability::Setgid,
                Capability::Kill
            ]
        );
        // plugins as the daemon's own user: no switching, no low port
        let same = text
            .replace(
                "plugin_user = \"nobody\"",
                "plugin_user = \"hcoop-monitor\"",
            )
            .replace(":80", ":9667");
        let c = Config::from_files(vec![(None, same)]).unwrap();
        let caps: Vec<Capability> = needed_capabilities(&c, "hcoop-monitor", false)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(
            caps,
            [
                Capability::DacReadSearch,
                Capability::SysPtrace,
                Capability::NetRaw
            ]
        );
        // the embedded default: check_procs only
        let d = Config::embedded().unwrap();
        let caps: Vec<Capability> = needed_capabilities(&d, "hcoop-monitor", false)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(caps, [Capability::SysPtrace]);
        // the daemon's group may open ICMP sockets: no NetRaw
        let caps: Vec<Capability> = needed_capabilities(&c, "hcoop-monitor", true)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        assert_eq!(caps, [Capability::DacReadSearch, Capability::SysPtrace]);
    }

    #[test]
    fn ping_group_range_decides_net_raw() {
        // systemd's range opens to everyone; the kernel's default to nobody
        assert!(ping_group_allows("0\t2147483647\n", 998));
        assert!(ping_group_allows("0 2147483647", 0));
        assert!(!ping_group_allows("1\t0\n", 998));
        assert!(!ping_group_allows("1\t0\n", 0));
        // bounds are inclusive
        assert!(ping_group_allows("100 200", 100));
        assert!(ping_group_allows("100 200", 200));
        assert!(!ping_group_allows("100 200", 99));
        assert!(!ping_group_allows("100 200", 201));
        // anything else keeps the capability
        for bad in ["", "100", "100 200 300", "a b", "-1 5", "0 99999999999"] {
            assert!(!ping_group_allows(bad, 5), "{bad:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// The kernel's two numbers, in any spacing, admit exactly the groups between them.
        #[test]
        fn ping_group_ranges_admit_what_they_span(
            low: u32,
            high: u32,
            gid: u32,
            sep in "[ \t]{1,3}",
            end in "[ \t\n]{0,2}",
        ) {
            let text = format!("{low}{sep}{high}{end}");
            proptest::prop_assert_eq!(ping_group_allows(&text, gid), low <= gid && gid <= high);
        }

        /// Any other text (a member cannot write the file, but it is read bounded and
        /// never trusted) admits nobody unless it is two numbers.
        #[test]
        fn other_text_admits_nobody(text in "\\PC{0,40}", gid: u32) {
            let numbers = text.split_ascii_whitespace().filter(|w| w.parse::<u32>().is_ok()).count();
            let words = text.split_ascii_whitespace().count();
            if !(numbers == 2 && words == 2) {
                proptest::prop_assert!(!ping_group_allows(&text, gid));
            }
        }
    }
}
