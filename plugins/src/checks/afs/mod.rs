//! check_afs: OpenAFS servers. Modes:
//! - `rx`: the Rx VERSION probe (`rxdebug -version`), natively, with the round-trip time;
//! - `rxstats`: Rx statistics (`rxdebug -noconn`): calls waiting for a thread, idle threads;
//! - `ubik`: the Ubik state of a set of database servers (`udebug`), natively;
//! - `quota`: volumes near or over their quota (`vos listvol`/`vos examine -format`);
//! - `space`: partitions per file server (`vos partinfo`);
//! - `bos`: every bosserver instance running normally (`bos status -long`).
//!
//! Layout: [`rx`] the Rx codec and exchanges, [`ubik`] the Ubik debug RPC, [`tools`]
//! the readers of `vos`/`bos` output; this file holds the modes and their evaluation.

pub mod tools;

use crate::plugin::units::human_bytes;
use crate::plugin::{
    Check, CheckResult, CommonArgs, PerfData, Range, State, Thresholds, Uom, UsageError, Work,
};
use crate::proto::rx;
use crate::proto::ubik::{self, UbikDebug};
use clap::{Parser, Subcommand};
use regex::Regex;
use std::net::SocketAddr;
use std::time::Duration;
use tools::{BosStatus, Partition, ToolError, Volume};

/// Command line of check_afs.
#[derive(Parser, Debug)]
#[command(
    name = "check_afs",
    version,
    about = "Checks OpenAFS servers: Rx liveness and load, Ubik quorum, volume quotas, partitions, bosserver instances.",
    after_help = "Ports: 7000 fileserver, 7002 ptserver, 7003 vlserver, 7005 volserver, 7007 bosserver.\n\
rx, rxstats and ubik speak Rx themselves; quota and space run vos, bos runs bos (Debian package \
openafs-client), unauthenticated (-noauth) unless --localauth.\n\n\
Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, missing tool, internal error). \
--help and --version exit 0."
)]
pub struct Args {
    #[command(subcommand)]
    pub mode: Mode,
}

/// The modes of check_afs.
#[derive(Subcommand, Debug)]
pub enum Mode {
    /// Rx VERSION probe of each server and port (rxdebug -version); -w/-c on the round-trip time in seconds
    Rx(RxArgs),
    /// Rx statistics (rxdebug -noconn); -w/-c on the calls waiting for a thread
    Rxstats(RxArgs),
    /// Ubik state of the whole set of database servers (udebug): one sync site all agree on, recovered, same database version
    Ubik(UbikArgs),
    /// Volumes near or over quota; -w/-c in percent of the quota used (default 85, 95)
    Quota(QuotaArgs),
    /// Partitions of file servers; -w/-c in percent used (default 90, 95)
    Space(SpaceArgs),
    /// Every bosserver instance running normally, no core files, no salvager running
    Bos(BosArgs),
}

/// Servers and ports for the Rx probes.
#[derive(clap::Args, Debug)]
pub struct RxArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Servers to ask (comma-separated or repeated)
    #[arg(
        short = 'H',
        long = "hostname",
        value_name = "HOST",
        value_delimiter = ',',
        required = true
    )]
    pub hosts: Vec<String>,
    /// Ports to ask on each server (comma-separated or repeated; default 7000)
    #[arg(short = 'p', long = "port", value_name = "PORT", value_delimiter = ',')]
    pub ports: Vec<u16>,
    /// Warning range (seconds for rx, waiting calls for rxstats)
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub warning: Option<Range>,
    /// Critical range (seconds for rx, waiting calls for rxstats)
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub critical: Option<Range>,
}

/// The database servers of one Ubik service.
#[derive(clap::Args, Debug)]
pub struct UbikArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    /// Every database server of the set (comma-separated or repeated)
    #[arg(
        short = 'H',
        long = "hostname",
        value_name = "HOST",
        value_delimiter = ',',
        required = true
    )]
    pub hosts: Vec<String>,
    /// The database service's port: 7003 vlserver, 7002 ptserver
    #[arg(
        short = 'p',
        long = "port",
        value_name = "PORT",
        default_value_t = 7003
    )]
    pub port: u16,
}

/// How vos and bos are run.
#[derive(clap::Args, Debug, Clone)]
pub struct ToolArgs {
    /// Use the server key (-localauth, as root on a server) instead of -noauth
    #[arg(long = "localauth")]
    pub localauth: bool,
    /// The cell (default: the client's ThisCell)
    #[arg(long = "cell", value_name = "CELL")]
    pub cell: Option<String>,
}

impl ToolArgs {
    fn flags(&self) -> Vec<String> {
        let mut v = vec![if self.localauth {
            "-localauth"
        } else {
            "-noauth"
        }
        .to_string()];
        if let Some(c) = &self.cell {
            v.extend(["-cell".to_string(), c.clone()]);
        }
        v
    }
}

/// Which volumes the quota mode looks at.
#[derive(clap::Args, Debug)]
pub struct QuotaArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub tool: ToolArgs,
    /// One volume (vos examine)
    #[arg(long = "volume", value_name = "NAME", conflicts_with_all = ["hosts", "partition"])]
    pub volume: Option<String>,
    /// File servers whose volumes are looked at (vos listvol)
    #[arg(
        short = 'H',
        long = "hostname",
        value_name = "HOST",
        value_delimiter = ','
    )]
    pub hosts: Vec<String>,
    /// Only this partition of the servers (a, vicepa or /vicepa)
    #[arg(long = "partition", value_name = "PART")]
    pub partition: Option<String>,
    /// Only volumes whose name matches this regular expression
    #[arg(long = "regex", value_name = "REGEX")]
    pub regex: Option<String>,
    /// Percent of the quota used that makes a volume WARNING
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "PERCENT",
        default_value_t = 85.0
    )]
    pub warning: f64,
    /// Percent of the quota used that makes a volume CRITICAL
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "PERCENT",
        default_value_t = 95.0
    )]
    pub critical: f64,
}

/// Which partitions the space mode looks at.
#[derive(clap::Args, Debug)]
pub struct SpaceArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub tool: ToolArgs,
    /// File servers (comma-separated or repeated)
    #[arg(
        short = 'H',
        long = "hostname",
        value_name = "HOST",
        value_delimiter = ',',
        required = true
    )]
    pub hosts: Vec<String>,
    /// Only this partition
    #[arg(long = "partition", value_name = "PART")]
    pub partition: Option<String>,
    /// Percent used that makes a partition WARNING
    #[arg(
        short = 'w',
        long = "warning",
        value_name = "PERCENT",
        default_value_t = 90.0
    )]
    pub warning: f64,
    /// Percent used that makes a partition CRITICAL
    #[arg(
        short = 'c',
        long = "critical",
        value_name = "PERCENT",
        default_value_t = 95.0
    )]
    pub critical: f64,
}

/// The bosservers to ask.
#[derive(clap::Args, Debug)]
pub struct BosArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub tool: ToolArgs,
    /// Servers running a bosserver (comma-separated or repeated)
    #[arg(
        short = 'H',
        long = "hostname",
        value_name = "HOST",
        value_delimiter = ',',
        required = true
    )]
    pub hosts: Vec<String>,
}

/// Where the quota mode finds volumes.
#[derive(Debug, Clone, PartialEq)]
pub enum VolumeSource {
    /// One volume by name.
    One(String),
    /// Every RW volume on these servers (and partition).
    Servers(Vec<String>, Option<String>),
}

/// The validated mode.
#[derive(Debug)]
pub enum Config {
    Rx {
        targets: Vec<(String, u16)>,
        thresholds: Thresholds,
    },
    RxStats {
        targets: Vec<(String, u16)>,
        thresholds: Thresholds,
    },
    Ubik {
        targets: Vec<(String, u16)>,
    },
    Quota {
        tool: ToolArgs,
        source: VolumeSource,
        regex: Option<Regex>,
        percent: Thresholds,
    },
    Space {
        tool: ToolArgs,
        hosts: Vec<String>,
        partition: Option<String>,
        percent: Thresholds,
    },
    Bos {
        tool: ToolArgs,
        hosts: Vec<String>,
    },
}

/// The validated check.
#[derive(Debug)]
pub struct AfsCheck {
    pub config: Config,
    /// Time for the network exchanges: a little less than the timeout, so a silent server
    /// is named in the result.
    pub budget: Duration,
}

fn hosts(list: Vec<String>) -> Result<Vec<String>, UsageError> {
    let list: Vec<String> = list.into_iter().map(|h| h.trim().to_string()).collect();
    if list.is_empty() || list.iter().any(String::is_empty) {
        return Err(UsageError::new("empty host name in -H"));
    }
    Ok(list)
}

fn targets(list: Vec<String>, ports: &[u16]) -> Result<Vec<(String, u16)>, UsageError> {
    if ports.contains(&0) {
        return Err(UsageError::new("port 0 in -p"));
    }
    let ports = if ports.is_empty() { &[7000][..] } else { ports };
    Ok(hosts(list)?
        .into_iter()
        .flat_map(|h| ports.iter().map(move |&p| (h.clone(), p)))
        .collect())
}

fn percent_levels(w: f64, c: f64) -> Result<Thresholds, UsageError> {
    for (what, v) in [("warning", w), ("critical", c)] {
        if !(0.0..=100.0).contains(&v) {
            return Err(UsageError::new(format!(
                "{what} {v} must be a percentage from 0 to 100"
            )));
        }
    }
    let level = |v: f64| {
        format!("{v}")
            .parse::<Range>()
            .map_err(|e| UsageError::new(e.to_string()))
    };
    Ok(Thresholds::new(Some(level(w)?), Some(level(c)?)))
}

fn partition_name(p: Option<String>) -> Result<Option<String>, UsageError> {
    let Some(p) = p else { return Ok(None) };
    let bare = p
        .trim()
        .trim_start_matches("/vicep")
        .trim_start_matches("vicep");
    if bare.is_empty() || bare.len() > 2 || !bare.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(UsageError::new(format!(
            "partition '{p}' is not a name such as a, vicepa or /vicepa"
        )));
    }
    Ok(Some(format!("/vicep{bare}")))
}

impl Check for AfsCheck {
    type Args = Args;
    const LABEL: &'static str = "AFS";

    fn common(args: &Args) -> &CommonArgs {
        match &args.mode {
            Mode::Rx(a) | Mode::Rxstats(a) => &a.common,
            Mode::Ubik(a) => &a.common,
            Mode::Quota(a) => &a.common,
            Mode::Space(a) => &a.common,
            Mode::Bos(a) => &a.common,
        }
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let timeout = Self::common(&args).timeout.duration;
        let config = match args.mode {
            Mode::Rx(a) => Config::Rx {
                targets: targets(a.hosts, &a.ports)?,
                thresholds: Thresholds::new(a.warning, a.critical),
            },
            Mode::Rxstats(a) => Config::RxStats {
                targets: targets(a.hosts, &a.ports)?,
                thresholds: Thresholds::new(a.warning, a.critical),
            },
            Mode::Ubik(a) => Config::Ubik {
                targets: targets(a.hosts, &[a.port])?,
            },
            Mode::Quota(a) => {
                let source = match a.volume {
                    Some(v) if v.trim().is_empty() => {
                        return Err(UsageError::new("empty volume name in --volume"))
                    }
                    Some(v) => VolumeSource::One(v.trim().to_string()),
                    None if a.hosts.is_empty() => {
                        return Err(UsageError::new(
                            "name a volume (--volume) or file servers (-H)",
                        ))
                    }
                    None => VolumeSource::Servers(hosts(a.hosts)?, partition_name(a.partition)?),
                };
                let regex = a
                    .regex
                    .map(|r| {
                        Regex::new(&r).map_err(|e| {
                            UsageError::new(format!(
                                "bad --regex: {}",
                                e.to_string().lines().last().unwrap_or("")
                            ))
                        })
                    })
                    .transpose()?;
                Config::Quota {
                    tool: a.tool,
                    source,
                    regex,
                    percent: percent_levels(a.warning, a.critical)?,
                }
            }
            Mode::Space(a) => Config::Space {
                tool: a.tool,
                hosts: hosts(a.hosts)?,
                partition: partition_name(a.partition)?,
                percent: percent_levels(a.warning, a.critical)?,
            },
            Mode::Bos(a) => Config::Bos {
                tool: a.tool,
                hosts: hosts(a.hosts)?,
            },
        };
        let margin = (timeout / 10).min(Duration::from_millis(500));
        Ok(AfsCheck {
            config,
            budget: timeout - margin,
        })
    }

    fn run(&self) -> Work<'_> {
        match &self.config {
            Config::Rx {
                targets,
                thresholds,
            } => Work::Remote(Box::pin(async move {
                let facts = probe_all(targets, |a| rx::version(a, self.budget)).await;
                evaluate_rx(&facts, thresholds)
            })),
            Config::RxStats {
                targets,
                thresholds,
            } => Work::Remote(Box::pin(async move {
                let facts = probe_all(targets, |a| rx::debug_stats(a, self.budget)).await;
                evaluate_rxstats(&facts, thresholds)
            })),
            Config::Ubik { targets } => Work::Remote(Box::pin(async move {
                let facts = probe_all(targets, |a| ubik::debug(a, self.budget)).await;
                evaluate_ubik(&facts)
            })),
            Config::Quota {
                tool,
                source,
                regex,
                percent,
            } => Work::Local(Box::new(move || {
                let facts = fetch_volumes(tool, source, self.budget);
                evaluate_quota(&facts, regex.as_ref(), percent)
            })),
            Config::Space {
                tool,
                hosts,
                partition,
                percent,
            } => Work::Local(Box::new(move || {
                let facts = fetch_partitions(tool, hosts, partition.as_deref(), self.budget);
                evaluate_space(&facts, percent)
            })),
            Config::Bos { tool, hosts } => Work::Local(Box::new(move || {
                let facts: Vec<_> = hosts
                    .iter()
                    .map(|h| {
                        let mut args = vec!["status".to_string(), h.clone(), "-long".into()];
                        args.extend(tool.flags());
                        let out = tools::run_tool("bos", &args, self.budget);
                        (h.clone(), out.map(|t| tools::parse_bos_status(&t)))
                    })
                    .collect();
                evaluate_bos(&facts)
            })),
        }
    }
}

/// What one server said (or why it said nothing).
#[derive(Debug, Clone, PartialEq)]
pub struct Probe<T> {
    pub host: String,
    pub port: u16,
    /// The resolved address.
    pub addr: Option<SocketAddr>,
    pub outcome: Result<(T, Duration), String>,
}

impl<T> Probe<T> {
    fn name(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

/// Resolves each target and runs `probe` on all of them at once.
async fn probe_all<T, F, Fut>(targets: &[(String, u16)], probe: F) -> Vec<Probe<T>>
where
    F: Fn(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = Result<(T, Duration), rx::RxError>>,
{
    let one = |host: String, port: u16| {
        let probe = &probe;
        async move {
            let looked = tokio::net::lookup_host((host.as_str(), port))
                .await
                .map(|mut a| a.next());
            let addr = match looked {
                Ok(a) => a,
                Err(e) => {
                    let outcome = Err(format!("cannot resolve {host}: {e}"));
                    return Probe {
                        outcome,
                        host,
                        port,
                        addr: None,
                    };
                }
            };
            let outcome = match addr {
                Some(a) => probe(a).await.map_err(|e| e.to_string()),
                None => Err(format!("{host} has no address")),
            };
            Probe {
                host,
                port,
                addr,
                outcome,
            }
        }
    };
    futures_util::future::join_all(targets.iter().map(|(h, p)| one(h.clone(), *p))).await
}

/// Finishes a result from its sub-results: the summary names the troubles, or is `ok`.
fn conclude(mut r: CheckResult, ok: String) -> CheckResult {
    let troubles: Vec<&str> = r
        .details
        .iter()
        .filter(|d| d.state.is_some_and(|s| s != State::Ok))
        .map(|d| d.text.as_str())
        .collect();
    r.summary = if troubles.is_empty() {
        ok
    } else {
        troubles.join("; ")
    };
    r
}

/// A perfdata label safe for any host name.
fn label(parts: &[&str]) -> String {
    parts.join("_")
}

/// Turns the VERSION probes into the result (pure).
pub fn evaluate_rx(facts: &[Probe<String>], t: &Thresholds) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut versions: Vec<&str> = Vec::new();
    for p in facts {
        match &p.outcome {
            Ok((v, rtt)) => {
                let secs = rtt.as_secs_f64();
                r.push_sub(t.state(secs), format!("{} {v} in {secs:.3}s", p.name()));
                r.push_perf(
                    PerfData::new(label(&["time", &p.host, &p.port.to_string()]), round6(secs))
                        .uom(Uom::Seconds)
                        .thresholds(t)
                        .min(0.0),
                );
                if !versions.contains(&v.as_str()) {
                    versions.push(v);
                }
            }
            Err(e) => r.push_sub(State::Critical, format!("{}: {e}", p.name())),
        }
    }
    let n = facts.len();
    conclude(
        r,
        format!(
            "{n} of {n} server{} answered: {}",
            if n == 1 { "" } else { "s" },
            versions.join(", ")
        ),
    )
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Turns the Rx statistics into the result (pure): thresholds on waiting calls.
pub fn evaluate_rxstats(facts: &[Probe<rx::DebugStats>], t: &Thresholds) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut waiting = 0;
    let mut idle = 0;
    for p in facts {
        match &p.outcome {
            Ok((s, _)) => {
                waiting += s.waiting;
                idle += s.idle_threads;
                r.push_sub(
                    t.state(s.waiting as f64),
                    format!(
                        "{} {} calls waiting for a thread, {} threads idle",
                        p.name(),
                        s.waiting,
                        s.idle_threads
                    ),
                );
                let port = p.port.to_string();
                r.push_perf(
                    PerfData::new(label(&["waiting", &p.host, &port]), s.waiting)
                        .thresholds(t)
                        .min(0),
                );
                r.push_perf(PerfData::new(label(&["idle", &p.host, &port]), s.idle_threads).min(0));
            }
            Err(e) => r.push_sub(State::Critical, format!("{}: {e}", p.name())),
        }
    }
    conclude(
        r,
        format!("{waiting} calls waiting for a thread, {idle} threads idle"),
    )
}

/// Turns the Ubik states of a database server set into the result (pure): one sync site
/// that every answering server names, recovered (0x1f), and one database version.
pub fn evaluate_ubik(facts: &[Probe<UbikDebug>]) -> CheckResult {
    let answered: Vec<(&Probe<UbikDebug>, &UbikDebug)> = facts
        .iter()
        .filter_map(|p| p.outcome.as_ref().ok().map(|(d, _)| (p, d)))
        .collect();
    let total = facts.len();
    let up = answered.len();
    let mut r = CheckResult::new(State::Ok, "");
    r.push_perf(PerfData::new("servers_answering", up).min(0).max(total));
    let syncs: Vec<_> = answered.iter().filter(|(_, d)| d.am_sync_site).collect();
    let sync = match syncs.as_slice() {
        [] => {
            r.raise(State::Critical);
            let mut r = conclude(r, String::new());
            r.summary = format!("no sync site, no quorum ({up} of {total} servers answering)");
            push_ubik_lines(&mut r, facts, None);
            return r;
        }
        [one] => *one,
        many => {
            r.raise(State::Critical);
            let names: Vec<String> = many.iter().map(|(p, _)| p.name()).collect();
            r.summary = format!(
                "several servers claim to be the sync site: {}",
                names.join(", ")
            );
            push_ubik_lines(&mut r, facts, None);
            return r;
        }
    };
    let (sp, sd) = *sync;
    let sync_ip = sp.addr.map(|a| a.ip());
    for p in facts {
        let state = match &p.outcome {
            Err(_) => State::Warning,
            Ok((d, _)) if std::ptr::eq(p, sp) => {
                if d.recovery_state != ubik::RECOVERED {
                    State::Warning
                } else {
                    State::Ok
                }
            }
            Ok((d, _)) => {
                if sync_ip != Some(std::net::IpAddr::V4(d.sync_host)) {
                    State::Critical
                } else if d.local_version != sd.local_version {
                    State::Warning
                } else {
                    State::Ok
                }
            }
        };
        r.push_sub(state, ubik_line(p, Some((sp, sd))));
    }
    let ok = format!(
        "sync site {} with quorum, {up} of {total} servers answering, database version {}",
        sp.host, sd.local_version
    );
    conclude(r, ok)
}

fn push_ubik_lines(
    r: &mut CheckResult,
    facts: &[Probe<UbikDebug>],
    sync: Option<(&Probe<UbikDebug>, &UbikDebug)>,
) {
    for p in facts {
        r.push_line(ubik_line(p, sync));
    }
}

/// One server's Ubik view, in words.
fn ubik_line(p: &Probe<UbikDebug>, sync: Option<(&Probe<UbikDebug>, &UbikDebug)>) -> String {
    let (d, _) = match &p.outcome {
        Err(e) => return format!("{}: {e}", p.name()),
        Ok(x) => x,
    };
    let synced = if d.sync_host.is_unspecified() {
        "no sync site".to_string()
    } else {
        format!("sync site {}", d.sync_host)
    };
    let mut s = if d.am_sync_site {
        format!(
            "{} is the sync site ({} servers), recovery state {:#x}{}",
            p.name(),
            d.n_servers,
            d.recovery_state,
            if d.recovery_state == ubik::RECOVERED {
                ""
            } else {
                " (not recovered)"
            }
        )
    } else {
        format!("{} {synced}", p.name())
    };
    s.push_str(&format!(", database version {}", d.local_version));
    if let Some((sp, sd)) = sync {
        if !d.am_sync_site {
            if sp.addr.map(|a| a.ip()) != Some(std::net::IpAddr::V4(d.sync_host)) {
                s.push_str(&format!(" (the sync site is {})", sp.host));
            } else if d.local_version != sd.local_version {
                s.push_str(&format!(" (sync site has {})", sd.local_version));
            }
        }
    }
    s
}

/// Runs vos for the quota mode.
fn fetch_volumes(
    tool: &ToolArgs,
    source: &VolumeSource,
    limit: Duration,
) -> Result<Vec<Volume>, ToolError> {
    let calls: Vec<Vec<String>> = match source {
        VolumeSource::One(v) => vec![vec!["examine".into(), v.clone(), "-format".into()]],
        VolumeSource::Servers(hosts, part) => hosts
            .iter()
            .map(|h| {
                let mut a = vec!["listvol".to_string(), h.clone()];
                a.extend(part.iter().cloned());
                a.push("-format".into());
                a
            })
            .collect(),
    };
    let mut out = Vec::new();
    for mut args in calls {
        args.extend(tool.flags());
        let text = tools::run_tool("vos", &args, limit)?;
        out.extend(
            tools::parse_volumes(&text)
                .into_iter()
                .filter(|v| matches!(source, VolumeSource::One(_)) || v.kind == "RW"),
        );
    }
    Ok(out)
}

/// Percent of `max` that `used` is.
fn percent(used: u64, max: u64) -> f64 {
    if max == 0 {
        0.0
    } else {
        used as f64 * 100.0 / max as f64
    }
}

fn tool_failure(e: &ToolError) -> CheckResult {
    match e {
        ToolError::Missing(m) => CheckResult::unknown(m.clone()),
        ToolError::Failed(m) => CheckResult::new(State::Critical, m.clone()),
    }
}

/// Turns volumes into the quota result (pure): a sub-result for each volume at or past
/// the warning level, the fullest named, perfdata per volume in KB.
pub fn evaluate_quota(
    facts: &Result<Vec<Volume>, ToolError>,
    regex: Option<&Regex>,
    t: &Thresholds,
) -> CheckResult {
    let vols = match facts {
        Err(e) => return tool_failure(e),
        Ok(v) => v,
    };
    let vols: Vec<&Volume> = vols
        .iter()
        .filter(|v| regex.is_none_or(|re| re.is_match(&v.name)))
        .collect();
    if vols.is_empty() {
        return CheckResult::unknown("no volume matched");
    }
    let mut r = CheckResult::new(State::Ok, "");
    let mut fullest: Option<(&Volume, f64)> = None;
    for v in &vols {
        if v.status != "OK" {
            r.push_sub(State::Critical, format!("{} is {}", v.name, v.status));
            continue;
        }
        let pct = percent(v.used_kb, v.quota_kb);
        if v.quota_kb > 0 && fullest.is_none_or(|(_, f)| pct > f) {
            fullest = Some((v, pct));
        }
        let state = if v.quota_kb == 0 {
            State::Ok
        } else {
            t.state(pct)
        };
        if state != State::Ok {
            r.push_sub(state, quota_text(v, pct));
        }
        let mut p = PerfData::new(v.name.clone(), v.used_kb)
            .uom(Uom::Kilobytes)
            .min(0);
        if v.quota_kb > 0 {
            p = p
                .thresholds(&t.scaled(v.quota_kb as f64 / 100.0))
                .max(v.quota_kb);
        }
        r.push_perf(p);
    }
    let n = vols.len();
    let ok = match fullest {
        Some((v, pct)) => format!(
            "{n} volume{} under quota, fullest {}",
            if n == 1 { "" } else { "s" },
            quota_text(v, pct)
        ),
        None => format!("{n} volume{} without quota", if n == 1 { "" } else { "s" }),
    };
    conclude(r, ok)
}

fn quota_text(v: &Volume, pct: f64) -> String {
    format!(
        "{} {pct:.1}% of quota ({} of {})",
        v.name,
        human_bytes(v.used_kb * 1024),
        human_bytes(v.quota_kb * 1024)
    )
}

/// Runs `vos partinfo` on each server.
fn fetch_partitions(
    tool: &ToolArgs,
    hosts: &[String],
    partition: Option<&str>,
    limit: Duration,
) -> Vec<(String, Result<Vec<Partition>, ToolError>)> {
    hosts
        .iter()
        .map(|h| {
            let mut args = vec!["partinfo".to_string(), h.clone()];
            args.extend(partition.map(str::to_string));
            args.extend(tool.flags());
            let parts = tools::run_tool("vos", &args, limit).map(|t| tools::parse_partinfo(&t));
            (h.clone(), parts)
        })
        .collect()
}

/// Turns partitions into the space result (pure): percent used per partition.
pub fn evaluate_space(
    facts: &[(String, Result<Vec<Partition>, ToolError>)],
    t: &Thresholds,
) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut count = 0;
    for (host, parts) in facts {
        match parts {
            Err(ToolError::Missing(m)) => return CheckResult::unknown(m.clone()),
            Err(ToolError::Failed(m)) => r.push_sub(State::Critical, format!("{host}: {m}")),
            Ok(ps) if ps.is_empty() => r.push_sub(State::Critical, format!("{host}: no partition")),
            Ok(ps) => {
                for p in ps {
                    count += 1;
                    let used = p.total_kb.saturating_sub(p.free_kb);
                    let pct = percent(used, p.total_kb);
                    r.push_sub(
                        t.state(pct),
                        format!(
                            "{host} {} {pct:.1}% used ({} of {})",
                            p.name,
                            human_bytes(used * 1024),
                            human_bytes(p.total_kb * 1024)
                        ),
                    );
                    r.push_perf(
                        PerfData::new(format!("{host}:{}", p.name), round6(pct))
                            .uom(Uom::Percent)
                            .thresholds(t)
                            .min(0)
                            .max(100),
                    );
                }
            }
        }
    }
    conclude(
        r,
        format!(
            "{count} partition{} below the levels",
            if count == 1 { "" } else { "s" }
        ),
    )
}

/// Turns `bos status` per server into the result (pure).
pub fn evaluate_bos(facts: &[(String, Result<BosStatus, ToolError>)]) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut count = 0;
    for (host, st) in facts {
        let st = match st {
            Err(ToolError::Missing(m)) => return CheckResult::unknown(m.clone()),
            Err(ToolError::Failed(m)) => {
                r.push_sub(State::Critical, format!("{host}: {m}"));
                continue;
            }
            Ok(st) => st,
        };
        if st.instances.is_empty() {
            r.push_sub(State::Critical, format!("{host}: no bos instance"));
        }
        for i in &st.instances {
            count += 1;
            let state = if !i.running_normally {
                State::Critical
            } else if i.has_core || i.auxiliary.as_deref() == Some("salvaging file system") {
                State::Warning
            } else {
                State::Ok
            };
            let mut text = format!("{host} {} {}", i.name, i.status);
            if let Some(a) = &i.auxiliary {
                text.push_str(&format!(" ({a})"));
            }
            r.push_sub(state, text);
        }
        for line in &st.unexpected {
            r.push_sub(State::Warning, format!("{host}: {line}"));
        }
    }
    conclude(r, format!("{count} instances running normally"))
}

#[cfg(test)]
mod tests;
