//! Passive results: every check result the daemon produces is handed to each
//! configured sink (a peer such as Nagios's external command file) through a bounded
//! queue of its own, so a slow or absent peer never stalls the scheduler.
//!
//! # Layout
//! - this file: the `[forward]` configuration ([`Forward`], with the settings every
//!   sink shares in [`SinkSettings`]), the forwarded result ([`Passive`]: summary,
//!   long output and perfdata as the executor gave them, each peer writing its own
//!   text), the [`Sink`] trait a peer implements, and the [`Forwarder`]: one queue and
//!   one task per sink, counters for the metrics.
//! - [`nagios`]: `[forward.nagios]`, Nagios's external command file.
//! - [`icinga2`]: `[forward.icinga2]`, the Icinga 2 REST API.
//!
//! # Queues and failures
//! [`Forwarder::submit`] never waits: when a sink's queue is full the result is
//! dropped for that sink, counted, and logged (a warning when dropping starts, the
//! count when the queue has room again). A sink's task delivers one result at a time;
//! a peer that is absent or unreachable ([`Failure::Retry`]) keeps the result and is
//! tried again every `retry_interval` (one warning per outage, one line when it is
//! back); a result the peer refuses ([`Failure::Reject`]) is counted and logged, and
//! the next one goes.
//!
//! # Adding a peer
//! A module with its settings struct (which flattens [`SinkSettings`] and implements
//! [`SinkConfig`]) and its [`Sink`]; an `Option` field in [`Forward`]; one line in
//! [`Forward::validate`] and one in [`Forwarder::reconfigure`].

pub mod icinga2;
pub mod nagios;

pub use crate::config::sections::{Forward, SinkSettings};
use crate::config::Config;
use crate::exec::Outcome;
use crate::state::HostState;
use hcoop_plugins::plugin::PerfData;
use std::any::Any;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::mpsc;

/// Results a sink's queue holds unless `queue_size` says otherwise.
pub const DEFAULT_QUEUE_SIZE: usize = 4096;
/// How long an absent peer is left alone before the next attempt, by default.
pub const DEFAULT_RETRY_INTERVAL: Duration = Duration::from_secs(5);

impl Forward {
    /// Every problem of the forwarding settings against the configuration they
    /// forward (names a peer cannot take, bad patterns), one message each.
    pub fn validate(&self, config: &Config) -> Vec<String> {
        let mut errors = Vec::new();
        validate_sink(self.nagios.as_ref(), config, &mut errors);
        validate_sink(self.icinga2.as_ref(), config, &mut errors);
        errors
    }
}

impl SinkSettings {
    /// The queue size, default applied.
    pub fn queue_size(&self) -> usize {
        self.queue_size.unwrap_or(DEFAULT_QUEUE_SIZE)
    }

    /// The retry interval, default applied.
    pub fn retry_interval(&self) -> Duration {
        self.retry_interval.unwrap_or(DEFAULT_RETRY_INTERVAL)
    }

    /// The compiled service patterns.
    fn patterns(&self) -> Result<Vec<glob::Pattern>, String> {
        self.services
            .iter()
            .map(|p| glob::Pattern::new(p).map_err(|e| format!("services: '{p}': {e}")))
            .collect()
    }

    /// Problems of the shared settings.
    fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Err(e) = self.patterns() {
            out.push(e);
        }
        if self.queue_size == Some(0) {
            out.push("queue_size must be at least 1".into());
        }
        if self.retry_interval.is_some_and(|d| d.is_zero()) {
            out.push("retry_interval must be longer than 0s".into());
        }
        out
    }
}

/// Whether a service passes a sink's patterns (none: every service).
fn matches(patterns: &[glob::Pattern], host: &str, service: &str) -> bool {
    patterns.is_empty()
        || patterns.iter().any(|p| {
            if p.as_str().contains('/') {
                p.matches(&format!("{host}/{service}"))
            } else {
                p.matches(service)
            }
        })
}

/// A peer's settings table: how to validate it and start its sink.
pub trait SinkConfig: Clone + PartialEq + Send + 'static {
    /// The sink that delivers to this peer.
    type Sink: Sink;
    /// The table's name under `[forward]`, also the sink's name in logs and metrics.
    const NAME: &'static str;
    /// The settings every sink shares.
    fn settings(&self) -> &SinkSettings;
    /// Problems of this peer's own settings and of the names it would be sent.
    fn problems(&self, config: &Config) -> Vec<String>;
    /// A sink for these settings (nothing is contacted yet).
    fn sink(&self) -> Self::Sink;
}

fn validate_sink<C: SinkConfig>(c: Option<&C>, config: &Config, errors: &mut Vec<String>) {
    if let Some(c) = c {
        let all = c
            .settings()
            .problems()
            .into_iter()
            .chain(c.problems(config));
        errors.extend(all.map(|e| format!("[forward.{}] {e}", C::NAME)));
    }
}

/// The host and service names a sink would be sent under this configuration, as
/// ("host" or "service 'S' on 'H'", name) pairs, for sinks that restrict characters.
pub fn forwarded_names<'a>(
    settings: &'a SinkSettings,
    config: &'a Config,
) -> Vec<(String, &'a str)> {
    let patterns = settings.patterns().unwrap_or_default();
    let mut out = Vec::new();
    match &settings.host_name {
        Some(h) => out.push(("host_name".to_string(), h.as_str())),
        None => out.extend(
            config
                .hosts
                .iter()
                .map(|h| (format!("host '{}'", h.name), h.name.as_str())),
        ),
    }
    out.extend(
        config
            .services
            .iter()
            .filter(|s| matches(&patterns, &s.host, &s.name))
            .map(|s| {
                (
                    format!("service '{}' on '{}'", s.name, s.host),
                    s.name.as_str(),
                )
            }),
    );
    out
}

/// One check result on its way to the peers.
#[derive(Debug, Clone, PartialEq)]
pub struct Passive {
    /// The host (after the sink's `host_name` override).
    pub host: String,
    /// The service; `None` for a host check result.
    pub service: Option<String>,
    /// The exit code: a service's state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), or a
    /// host's (0 UP, 1 DOWN, 2 UNREACHABLE).
    pub code: i32,
    /// The first line without perfdata.
    pub summary: String,
    /// The long output lines.
    pub long: Vec<String>,
    /// The perfdata.
    pub perfdata: Vec<PerfData>,
    /// When the check started and ended.
    pub start: SystemTime,
    pub end: SystemTime,
}

impl Passive {
    /// The result of a check that ended.
    pub fn new(host: &str, service: Option<&str>, code: i32, outcome: &Outcome) -> Passive {
        Passive {
            host: host.to_string(),
            service: service.map(str::to_string),
            code,
            summary: outcome.summary(),
            long: outcome.long(),
            perfdata: outcome.perfdata().to_vec(),
            start: outcome.start,
            end: outcome.start + outcome.duration,
        }
    }

    /// Every perfdata item as Nagios writes it (`label=value;warn;crit;min;max`).
    pub fn perfdata_items(&self) -> Vec<String> {
        self.perfdata.iter().map(PerfData::to_string).collect()
    }

    /// "host" or "host/service", for log lines.
    pub fn name(&self) -> String {
        match &self.service {
            Some(s) => format!("{}/{s}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Why a delivery failed.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The peer is absent or unreachable: keep the result, try again later.
    Retry(String),
    /// The peer refused this result: count it and go on with the next.
    Reject(String),
}

/// Delivers results to one peer, one at a time.
pub trait Sink: Send + 'static {
    /// Delivers one result.
    fn deliver(&mut self, result: &Passive) -> impl Future<Output = Result<(), Failure>> + Send;
}

/// A sink's counters, shared by the daemon and the sink's task.
#[derive(Debug, Default)]
pub struct Stats {
    /// Results the peer took.
    pub sent: AtomicU64,
    /// Results dropped because the queue was full (or the sink had stopped).
    pub dropped: AtomicU64,
    /// Results the peer refused.
    pub rejected: AtomicU64,
}

/// Picks one counter of [`Stats`].
type Counter = fn(&Stats) -> &AtomicU64;

/// One running sink.
struct Running {
    name: &'static str,
    /// The settings it runs with (a `SinkConfig`), to keep it across a reload.
    config: Box<dyn Any + Send>,
    host_name: Option<String>,
    patterns: Vec<glob::Pattern>,
    tx: mpsc::Sender<Passive>,
    stats: Arc<Stats>,
    /// Results dropped since the queue last took one (for the log).
    dropping: u64,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The running sinks: where the daemon hands every result.
#[derive(Default)]
pub struct Forwarder {
    sinks: Vec<Running>,
    /// Counters of every sink ever started, by name (kept across reloads).
    stats: Vec<(&'static str, Arc<Stats>)>,
}

impl Forwarder {
    /// Starts the sinks of a configuration (needs a tokio runtime when there are any).
    pub fn start(config: &Forward) -> Forwarder {
        Forwarder::default().reconfigure(config)
    }

    /// Applies a new configuration: a sink whose settings did not change keeps
    /// running with its queue; changed ones are restarted (their queued results are
    /// dropped and counted), removed ones stopped.
    pub fn reconfigure(mut self, config: &Forward) -> Forwarder {
        let mut next = Vec::new();
        self.carry(config.nagios.as_ref(), &mut next);
        self.carry(config.icinga2.as_ref(), &mut next);
        for old in self.sinks.drain(..) {
            old.stop("removed from the configuration");
        }
        self.sinks = next;
        self
    }

    /// Moves the running sink of `C` into `next` if its settings are unchanged, or
    /// starts a new one.
    fn carry<C: SinkConfig>(&mut self, config: Option<&C>, next: &mut Vec<Running>) {
        let Some(config) = config else {
            return;
        };
        if let Some(i) = self.sinks.iter().position(|r| r.name == C::NAME) {
            let old = self.sinks.remove(i);
            if old.config.downcast_ref::<C>() == Some(config) && !old.task.is_finished() {
                next.push(old);
                return;
            }
            old.stop("settings changed");
        }
        let stats = match self.stats.iter().find(|(n, _)| *n == C::NAME) {
            Some((_, s)) => s.clone(),
            None => {
                let s = Arc::new(Stats::default());
                self.stats.push((C::NAME, s.clone()));
                s
            }
        };
        let settings = config.settings();
        let (tx, rx) = mpsc::channel(settings.queue_size().max(1));
        let task = tokio::spawn(pump(
            C::NAME,
            config.sink(),
            rx,
            stats.clone(),
            settings.retry_interval(),
        ));
        tracing::info!("forwarding results to {}", C::NAME);
        next.push(Running {
            name: C::NAME,
            config: Box::new(config.clone()),
            host_name: settings.host_name.clone(),
            // validated with the configuration
            patterns: settings.patterns().unwrap_or_default(),
            tx,
            stats,
            dropping: 0,
            task,
        });
    }

    /// Whether no sink runs.
    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Hands a result to every sink that wants it; never waits.
    pub fn submit(&mut self, result: &Passive) {
        for s in &mut self.sinks {
            if let Some(service) = &result.service {
                if !matches(&s.patterns, &result.host, service) {
                    continue;
                }
            }
            let mut r = result.clone();
            if let Some(h) = &s.host_name {
                r.host.clone_from(h);
            }
            match s.tx.try_send(r) {
                Ok(()) => {
                    if s.dropping > 0 {
                        tracing::warn!(
                            "forward to {}: queue has room again; {} results were dropped",
                            s.name,
                            s.dropping
                        );
                        s.dropping = 0;
                    }
                }
                Err(e) => {
                    s.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    if s.dropping == 0 {
                        let why = match e {
                            mpsc::error::TrySendError::Full(_) => {
                                format!("queue full ({} results)", s.tx.max_capacity())
                            }
                            mpsc::error::TrySendError::Closed(_) => "sink stopped".into(),
                        };
                        tracing::warn!(
                            "forward to {}: {why}; dropping results until it takes them again",
                            s.name
                        );
                    }
                    s.dropping += 1;
                }
            }
        }
    }

    /// The Prometheus lines of the sinks' counters and queues.
    pub fn render_metrics(&self, out: &mut String) {
        if self.stats.is_empty() {
            return;
        }
        let counters: [(&str, &str, Counter); 3] = [
            (
                "hcoop_forward_sent_total",
                "Results a forwarding peer took.",
                |s| &s.sent,
            ),
            (
                "hcoop_forward_dropped_total",
                "Results dropped because a forwarding queue was full.",
                |s| &s.dropped,
            ),
            (
                "hcoop_forward_rejected_total",
                "Results a forwarding peer refused.",
                |s| &s.rejected,
            ),
        ];
        for (metric, help, field) in counters {
            let _ = writeln!(out, "# HELP {metric} {help}\n# TYPE {metric} counter");
            for (name, stats) in &self.stats {
                let v = field(stats).load(Ordering::Relaxed);
                let _ = writeln!(out, "{metric}{{sink=\"{name}\"}} {v}");
            }
        }
        let metric = "hcoop_forward_queued";
        let _ = writeln!(
            out,
            "# HELP {metric} Results waiting for a forwarding peer.\n# TYPE {metric} gauge"
        );
        for s in &self.sinks {
            let queued = s.tx.max_capacity() - s.tx.capacity();
            let _ = writeln!(out, "{metric}{{sink=\"{}\"}} {queued}", s.name);
        }
    }

    /// A sink's counters, by name.
    pub fn stats(&self, name: &str) -> Option<&Stats> {
        self.stats
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| s.as_ref())
    }
}

impl Running {
    /// Stops the task; what was still queued is counted as dropped.
    fn stop(self, why: &str) {
        let queued = (self.tx.max_capacity() - self.tx.capacity()) as u64;
        self.task.abort();
        if queued > 0 {
            self.stats.dropped.fetch_add(queued, Ordering::Relaxed);
        }
        tracing::info!(
            "forward to {}: stopped ({why}); {queued} queued results dropped",
            self.name
        );
    }
}

/// A sink's task: delivers each queued result, retrying an absent peer.
async fn pump<S: Sink>(
    name: &'static str,
    mut sink: S,
    mut rx: mpsc::Receiver<Passive>,
    stats: Arc<Stats>,
    retry: Duration,
) {
    while let Some(result) = rx.recv().await {
        let mut outage: Option<Instant> = None;
        loop {
            match sink.deliver(&result).await {
                Ok(()) => {
                    stats.sent.fetch_add(1, Ordering::Relaxed);
                    if let Some(since) = outage {
                        tracing::info!(
                            "forward to {name}: delivering again after {}s",
                            since.elapsed().as_secs()
                        );
                    }
                    break;
                }
                Err(Failure::Reject(e)) => {
                    stats.rejected.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!("forward to {name}: {} refused: {e}", result.name());
                    break;
                }
                Err(Failure::Retry(e)) => {
                    if outage.is_none() {
                        tracing::warn!(
                            "forward to {name}: {e}; trying again every {}",
                            humantime::format_duration(retry)
                        );
                        outage = Some(Instant::now());
                    } else {
                        tracing::debug!("forward to {name}: {e}");
                    }
                    tokio::time::sleep(retry).await;
                }
            }
        }
    }
}

/// A host state as a passive host check code (0 UP, 1 DOWN, 2 UNREACHABLE).
pub fn host_code(state: HostState) -> i32 {
    match state {
        HostState::Up => 0,
        HostState::Down => 1,
        HostState::Unreachable => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_patterns() {
        let p = |v: &[&str]| {
            SinkSettings {
                services: v.iter().map(|s| s.to_string()).collect(),
                ..SinkSettings::default()
            }
            .patterns()
            .unwrap()
        };
        assert!(matches(&p(&[]), "h", "anything"));
        assert!(matches(&p(&["disk*"]), "h", "disk /var"));
        assert!(!matches(&p(&["disk*"]), "h", "load"));
        assert!(matches(&p(&["main/*"]), "main", "load"));
        assert!(!matches(&p(&["main/*"]), "shell", "load"));
        assert!(SinkSettings {
            services: vec!["[".into()],
            ..SinkSettings::default()
        }
        .patterns()
        .is_err());
    }

    /// A sink that records what it got, absent until told otherwise.
    struct Recorder {
        got: Arc<std::sync::Mutex<Vec<String>>>,
        present: Arc<std::sync::atomic::AtomicBool>,
    }

    impl Sink for Recorder {
        async fn deliver(&mut self, r: &Passive) -> Result<(), Failure> {
            if !self.present.load(Ordering::SeqCst) {
                return Err(Failure::Retry("absent".into()));
            }
            if r.code == 3 {
                return Err(Failure::Reject("no UNKNOWN please".into()));
            }
            self.got.lock().unwrap().push(r.name());
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_reload_keeps_an_unchanged_sink_and_its_counters() {
        let nagios = |file: &str| Forward {
            nagios: Some(nagios::NagiosConfig {
                command_file: file.into(),
                settings: SinkSettings::default(),
            }),
            icinga2: None,
        };
        let f = Forwarder::start(&nagios("/nonexistent/a.cmd"));
        let first = f.sinks[0].task.id();
        f.stats("nagios").unwrap().sent.store(7, Ordering::SeqCst);
        let f = f.reconfigure(&nagios("/nonexistent/a.cmd"));
        assert_eq!(f.sinks[0].task.id(), first);
        let f = f.reconfigure(&nagios("/nonexistent/b.cmd"));
        assert_ne!(f.sinks[0].task.id(), first);
        assert_eq!(f.stats("nagios").unwrap().sent.load(Ordering::SeqCst), 7);
        let f = f.reconfigure(&Forward::default());
        assert!(f.is_empty());
        let mut m = String::new();
        f.render_metrics(&mut m);
        assert!(
            m.contains("hcoop_forward_sent_total{sink=\"nagios\"} 7\n"),
            "{m}"
        );
        assert!(!m.contains("hcoop_forward_queued{"), "{m}");
    }

    const RETRY: Duration = Duration::from_millis(30);

    fn passive(host: &str, service: &str, code: i32) -> Passive {
        Passive {
            host: host.into(),
            service: Some(service.into()),
            code,
            summary: "X OK - fine".into(),
            long: Vec::new(),
            perfdata: Vec::new(),
            start: SystemTime::UNIX_EPOCH,
            end: SystemTime::UNIX_EPOCH,
        }
    }

    #[tokio::test]
    async fn a_full_queue_drops_and_counts_an_absent_peer_is_retried() {
        let got = Arc::new(std::sync::Mutex::new(Vec::new()));
        let present = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stats = Arc::new(Stats::default());
        let (tx, rx) = mpsc::channel(2);
        let sink = Recorder {
            got: got.clone(),
            present: present.clone(),
        };
        let task = tokio::spawn(pump("test", sink, rx, stats.clone(), RETRY));
        let mut f = Forwarder {
            sinks: vec![Running {
                name: "test",
                config: Box::new(()),
                host_name: Some("central".into()),
                patterns: vec![glob::Pattern::new("h/*").unwrap()],
                tx,
                stats: stats.clone(),
                dropping: 0,
                task,
            }],
            stats: vec![("test", stats.clone())],
        };
        // the first is taken by the task (retrying), two wait, the fourth is dropped
        for i in 0..4 {
            f.submit(&passive("h", &format!("s{i}"), 0));
            tokio::task::yield_now().await;
        }
        f.submit(&passive("other", "s9", 0)); // filtered out, not dropped
        assert_eq!(stats.dropped.load(Ordering::SeqCst), 1);
        assert_eq!(f.sinks[0].dropping, 1);
        tokio::time::sleep(RETRY * 3).await;
        assert!(got.lock().unwrap().is_empty());
        present.store(true, Ordering::SeqCst);
        tokio::time::sleep(RETRY * 3).await;
        assert_eq!(
            *got.lock().unwrap(),
            ["central/s0", "central/s1", "central/s2"]
        );
        f.submit(&passive("h", "s4", 3));
        f.submit(&passive("h", "s5", 1));
        assert_eq!(f.sinks[0].dropping, 0);
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(stats.sent.load(Ordering::SeqCst), 4);
        assert_eq!(stats.rejected.load(Ordering::SeqCst), 1);
        let mut m = String::new();
        f.render_metrics(&mut m);
        assert!(
            m.contains("hcoop_forward_sent_total{sink=\"test\"} 4\n"),
            "{m}"
        );
        assert!(
            m.contains("hcoop_forward_dropped_total{sink=\"test\"} 1\n"),
            "{m}"
        );
        assert!(
            m.contains("hcoop_forward_rejected_total{sink=\"test\"} 1\n"),
            "{m}"
        );
        assert!(m.contains("hcoop_forward_queued{sink=\"test\"} 0\n"), "{m}");
    }
}
