//! The daemon: the running hosts and services with their states, the scheduler loop,
//! reload on SIGHUP, periodic saving, and shutdown (which kills the process groups of
//! the plugins still running).
//!
//! [`Core`] holds everything the status API reads and changes, behind one mutex; the
//! scheduler loop owns the timing (a heap of due checks) and a concurrency gate.

use crate::config::{CheckSpec, Config, Contact, Schedule};
use crate::exec::{Limits, Outcome, Runnable};
use crate::notify::{Notice, Notifier};
use crate::nrpe::Served;
use crate::retention;
use crate::state::{
    Ack, Condition, Downtime, HostState, Next, NotificationType, Policy, Record, Time,
};
use hcoop_plugins::plugin::{PerfData, State};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Semaphore};

/// Unix seconds now.
pub fn unix_now() -> Time {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A host or a service (by index into [`Core`]'s lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    Host(usize),
    Service(usize),
}

/// One host or service as the daemon runs it.
pub struct Entry<C> {
    /// "host" or "host/service".
    pub key: String,
    pub host: usize,
    pub record: Record<C>,
    pub check: Option<CheckSpec>,
    pub runnable: Option<Result<Arc<Runnable>, String>>,
    pub schedule: Schedule,
    pub policy: Policy,
    pub perfdata: Vec<PerfData>,
    /// Seconds the last check ran.
    pub execution_time: f64,
    /// Seconds the last check started after it was due.
    pub latency: f64,
}

impl<C: Condition> Entry<C> {
    fn new(
        key: String,
        host: usize,
        check: Option<CheckSpec>,
        schedule: &Schedule,
        limits: Limits,
    ) -> Self {
        let runnable = check
            .as_ref()
            .map(|c| Runnable::prepare(c, schedule.timeout, limits).map(Arc::new));
        Entry {
            key,
            host,
            record: Record::default(),
            check,
            runnable,
            policy: schedule.policy(),
            schedule: schedule.clone(),
            perfdata: Vec::new(),
            execution_time: 0.0,
            latency: 0.0,
        }
    }

    /// The interval to the next check after the current record.
    fn interval(&self, next: Next) -> Duration {
        match next {
            Next::Normal => self.schedule.check_interval,
            Next::Retry => self.schedule.retry_interval,
        }
    }
}

/// Everything the daemon knows, shared by the scheduler and the status API.
pub struct Core {
    pub config: Config,
    pub hosts: Vec<Entry<HostState>>,
    pub services: Vec<Entry<State>>,
    pub next_downtime_id: u64,
    /// Checks run since start (for the metrics).
    pub checks_run: u64,
    pub started: Time,
    notices: mpsc::UnboundedSender<Notice>,
    /// The sinks every result is forwarded to (none until [`run`] starts them).
    pub forward: crate::forward::Forwarder,
}

impl Core {
    /// Builds the running objects of a configuration, taking over the records of
    /// `old` (same host or host/service name).
    pub fn build(
        config: Config,
        limits: Limits,
        notices: mpsc::UnboundedSender<Notice>,
        mut hosts_old: HashMap<String, Record<HostState>>,
        mut services_old: HashMap<String, Record<State>>,
    ) -> Core {
        let hosts: Vec<Entry<HostState>> = config
            .hosts
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let mut e = Entry::new(h.name.clone(), i, h.check.clone(), &h.schedule, limits);
                if let Some(r) = hosts_old.remove(&h.name) {
                    e.record = r;
                }
                e
            })
            .collect();
        let services = config
            .services
            .iter()
            .map(|s| {
                let host = config
                    .hosts
                    .iter()
                    .position(|h| h.name == s.host)
                    .unwrap_or(0);
                let key = format!("{}/{}", s.host, s.name);
                let mut e = Entry::new(
                    key.clone(),
                    host,
                    Some(s.check.clone()),
                    &s.schedule,
                    limits,
                );
                if let Some(r) = services_old.remove(&key) {
                    e.record = r;
                }
                e
            })
            .collect();
        Core {
            config,
            hosts,
            services,
            next_downtime_id: 1,
            checks_run: 0,
            started: unix_now(),
            notices,
            forward: Default::default(),
        }
    }

    /// The records by key, for saving or for a rebuild.
    pub fn records(
        &self,
    ) -> (
        HashMap<String, Record<HostState>>,
        HashMap<String, Record<State>>,
    ) {
        (
            self.hosts
                .iter()
                .map(|e| (e.key.clone(), e.record.clone()))
                .collect(),
            self.services
                .iter()
                .map(|e| (e.key.clone(), e.record.clone()))
                .collect(),
        )
    }

    /// Finds a host or service by "HOST" or "HOST/SERVICE".
    pub fn find(&self, key: &str) -> Option<Target> {
        if key.contains('/') {
            self.services
                .iter()
                .position(|e| e.key == key)
                .map(Target::Service)
        } else {
            self.hosts
                .iter()
                .position(|e| e.key == key)
                .map(Target::Host)
        }
    }

    fn host_up(&self, host: usize) -> bool {
        self.hosts
            .get(host)
            .is_none_or(|h| h.record.state.is_good())
    }

    /// Applies a check outcome; returns the interval to the next check.
    pub fn apply(
        &mut self,
        target: Target,
        outcome: &Outcome,
        latency: f64,
        now: Time,
    ) -> Duration {
        self.checks_run += 1;
        match target {
            Target::Host(i) => {
                let parents: Vec<HostState> = self.config.hosts[i]
                    .parents
                    .iter()
                    .filter_map(|p| self.hosts.iter().find(|h| &h.key == p))
                    .map(|h| h.record.state)
                    .collect();
                let state = HostState::from_check(outcome.state, &parents);
                self.forward_result(target, Some(state), outcome);
                let e = &mut self.hosts[i];
                let tr = e.record.apply(state, &outcome.output, now, &e.policy, true);
                record_run(e, outcome, latency);
                let interval = e.interval(tr.next);
                self.send(target, &tr.notify);
                interval
            }
            Target::Service(i) => {
                self.forward_result(target, None, outcome);
                let up = self.host_up(self.services[i].host);
                let e = &mut self.services[i];
                let tr = e
                    .record
                    .apply(outcome.state, &outcome.output, now, &e.policy, up);
                record_run(e, outcome, latency);
                let interval = e.interval(tr.next);
                self.send(target, &tr.notify);
                interval
            }
        }
    }

    /// Starts and ends downtimes; sends their notifications.
    pub fn tick(&mut self, now: Time) {
        for i in 0..self.hosts.len() {
            let e = &mut self.hosts[i];
            let n = e.record.tick(now, &e.policy);
            self.send(Target::Host(i), &n);
        }
        for i in 0..self.services.len() {
            let e = &mut self.services[i];
            let n = e.record.tick(now, &e.policy);
            self.send(Target::Service(i), &n);
        }
    }

    /// Acknowledges a problem.
    pub fn acknowledge(&mut self, key: &str, ack: Ack) -> Result<(), String> {
        let target = self
            .find(key)
            .ok_or_else(|| format!("no host or service '{key}'"))?;
        let n = match target {
            Target::Host(i) => {
                let e = &mut self.hosts[i];
                e.record.acknowledge(ack, &e.policy)?
            }
            Target::Service(i) => {
                let e = &mut self.services[i];
                e.record.acknowledge(ack, &e.policy)?
            }
        };
        self.send(target, &n);
        Ok(())
    }

    /// Schedules a downtime; returns its id.
    pub fn schedule_downtime(
        &mut self,
        key: &str,
        start: Time,
        end: Time,
        author: String,
        comment: String,
    ) -> Result<u64, String> {
        let target = self
            .find(key)
            .ok_or_else(|| format!("no host or service '{key}'"))?;
        if end <= start {
            return Err("downtime ends before it starts".into());
        }
        let id = self.next_downtime_id;
        self.next_downtime_id += 1;
        let d = Downtime {
            id,
            start,
            end,
            author,
            comment,
            started: false,
        };
        match target {
            Target::Host(i) => self.hosts[i].record.add_downtime(d),
            Target::Service(i) => self.services[i].record.add_downtime(d),
        }
        self.tick(unix_now());
        Ok(id)
    }

    /// Deletes a downtime by id wherever it is.
    pub fn cancel_downtime(&mut self, id: u64) -> bool {
        self.hosts.iter_mut().any(|e| e.record.cancel_downtime(id))
            || self
                .services
                .iter_mut()
                .any(|e| e.record.cancel_downtime(id))
    }

    /// Hands notifications to the notifier, with the contacts that want them.
    fn send(&self, target: Target, types: &[NotificationType]) {
        for &t in types {
            let (schedule, host, service, state, output, number, is_service, option) = match target
            {
                Target::Host(i) => {
                    let e = &self.hosts[i];
                    let r = &e.record;
                    (
                        &e.schedule,
                        &self.config.hosts[i],
                        None,
                        r.state.name(),
                        &r.output,
                        r.notification_number,
                        false,
                        t.option(r.state),
                    )
                }
                Target::Service(i) => {
                    let e = &self.services[i];
                    let r = &e.record;
                    let s = &self.config.services[i];
                    (
                        &e.schedule,
                        &self.config.hosts[e.host],
                        Some(s.name.clone()),
                        r.state.name(),
                        &r.output,
                        r.notification_number,
                        true,
                        t.option(r.state),
                    )
                }
            };
            let contacts: Vec<Contact> = schedule
                .contacts
                .iter()
                .filter_map(|n| self.config.contacts.iter().find(|c| &c.name == n))
                .filter(|c| c.wants(is_service, option))
                .cloned()
                .collect();
            let notice = Notice {
                kind: t,
                host: host.name.clone(),
                address: host.address.clone(),
                service,
                state: state.to_string(),
                output: output.clone(),
                number,
                time: unix_now(),
                contacts,
            };
            tracing::info!(
                "notification {} {} {}: {}",
                notice.kind.as_str(),
                notice.subject_name(),
                notice.state,
                notice.output.lines().next().unwrap_or("")
            );
            let _ = self.notices.send(notice);
        }
    }
}

fn record_run<C>(e: &mut Entry<C>, outcome: &Outcome, latency: f64) {
    e.perfdata = outcome.perfdata.clone();
    e.execution_time = outcome.duration.as_secs_f64();
    e.latency = latency;
}

/// The daemon's shared handle.
pub type Shared = Arc<Mutex<Core>>;

/// A check that finished.
struct Done {
    generation: u64,
    target: Target,
    outcome: Outcome,
    latency: f64,
}

/// A small, fast pseudo-random source for spreading checks (no cryptographic use).
struct Spread(u64);

impl Spread {
    fn new() -> Spread {
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        Spread(seed | 1)
    }

    /// A duration uniformly in [0, max).
    fn below(&mut self, max: Duration) -> Duration {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let r = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11;
        let unit = r as f64 / (1u64 << 53) as f64;
        max.mul_f64(unit)
    }

    /// An interval with up to 1% jitter either way (at most one second).
    fn jitter(&mut self, interval: Duration) -> Duration {
        let span = (interval / 50).min(Duration::from_secs(2));
        (interval + self.below(span)).saturating_sub(span / 2)
    }
}

/// How the daemon is started.
pub struct Options {
    /// Config file or directory; `None`: the embedded default.
    pub config_path: Option<PathBuf>,
    pub config: Config,
}

/// Loads the configuration named by `path` (or the embedded default).
pub fn load_config(path: &Option<PathBuf>) -> anyhow::Result<Config> {
    match path {
        Some(p) => Config::load(p),
        None => Config::embedded(),
    }
}

/// The first due time of an object: spread over its interval, or from its restored
/// last check.
fn first_due<C: Condition>(
    e: &Entry<C>,
    spread: &mut Spread,
    now: Instant,
    now_unix: Time,
) -> Instant {
    let r = &e.record;
    let next = if r.state_type == crate::state::StateType::Soft && !r.state.is_good() {
        Next::Retry
    } else {
        Next::Normal
    };
    let interval = e.interval(next);
    if r.checked {
        let due_unix = r.last_check + interval.as_secs();
        if due_unix > now_unix {
            return now
                + Duration::from_secs(due_unix - now_unix)
                + spread.below(Duration::from_secs(1));
        }
        return now + spread.below(interval.min(Duration::from_secs(10)));
    }
    now + spread.below(interval)
}

/// Runs the daemon until SIGTERM or SIGINT: schedules checks, applies results, serves
/// the status API, saves states, reloads on SIGHUP.
pub async fn run(opts: Options) -> anyhow::Result<()> {
    let config = opts.config;
    let limits = Limits::from_config(&config).map_err(anyhow::Error::msg)?;
    let state_file = config.daemon.state_file.clone();
    let saved = retention::load(&state_file)?;
    let (notice_tx, notice_rx) = mpsc::unbounded_channel();
    let notifier = Notifier::new(config.smtp.clone(), limits);
    let notifier_task = tokio::spawn(notifier.clone().run(notice_rx));
    let mut core = Core::build(
        config,
        limits,
        notice_tx.clone(),
        saved.hosts,
        saved.services,
    );
    core.next_downtime_id = saved.next_downtime_id.max(1);
    core.forward = crate::forward::Forwarder::start(&core.config.forward);
    tracing::info!(
        "starting: {} hosts, {} services, state file {}",
        core.hosts.len(),
        core.services.len(),
        state_file.display()
    );
    let listen = core.config.daemon.listen.clone();
    let concurrency = core.config.daemon.concurrency.max(1);
    let mut retention_every = core.config.daemon.retention_interval;
    let shared: Shared = Arc::new(Mutex::new(core));
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!("status on http://{}", listener.local_addr()?);
    let http = tokio::spawn(crate::http::serve(listener, shared.clone()));
    let state_dir = state_file
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let nrpe_section = shared.lock().expect("core lock").config.nrpe.clone();
    let mut nrpe = match nrpe_section {
        Some(section) => Some(Served::start(&section, &state_dir, limits).await?),
        None => None,
    };

    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<Done>();
    let gate = Arc::new(Semaphore::new(concurrency));
    let mut spread = Spread::new();
    let mut generation = 0u64;
    let mut heap: BinaryHeap<Reverse<(Instant, Target)>> = BinaryHeap::new();
    let schedule_all =
        |core: &Core, heap: &mut BinaryHeap<Reverse<(Instant, Target)>>, spread: &mut Spread| {
            heap.clear();
            let (now, now_unix) = (Instant::now(), unix_now());
            for (i, e) in core.hosts.iter().enumerate() {
                if e.runnable.is_some() {
                    heap.push(Reverse((
                        first_due(e, spread, now, now_unix),
                        Target::Host(i),
                    )));
                }
            }
            for (i, e) in core.services.iter().enumerate() {
                heap.push(Reverse((
                    first_due(e, spread, now, now_unix),
                    Target::Service(i),
                )));
            }
        };
    schedule_all(&shared.lock().expect("core lock"), &mut heap, &mut spread);
    let mut save_timer = tokio::time::interval(retention_every);
    save_timer.tick().await;
    let mut second = tokio::time::interval(Duration::from_secs(1));
    let mut saturated = false;
    loop {
        let next_due = heap.peek().map(|Reverse((t, _))| *t);
        let sleep_to = next_due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            biased;
            _ = term.recv() => break,
            _ = int.recv() => break,
            Some(done) = done_rx.recv() => {
                saturated = false;
                if done.generation != generation {
                    continue;
                }
                let now_unix = unix_now();
                let mut core = shared.lock().expect("core lock");
                let interval = core.apply(done.target, &done.outcome, done.latency, now_unix);
                drop(core);
                heap.push(Reverse((Instant::now() + spread.jitter(interval), done.target)));
            }
            _ = hup.recv() => {
                let path = opts.config_path.clone();
                match tokio::task::spawn_blocking(move || load_config(&path)).await? {
                    Err(e) => tracing::error!("reload: configuration invalid, keeping the running one:\n{e:#}"),
                    Ok(new) => match Limits::from_config(&new) {
                        Err(e) => tracing::error!("reload: {e}; keeping the running configuration"),
                        Ok(new_limits) => {
                            let nrpe_section = {
                            let mut core = shared.lock().expect("core lock");
                            let (h, s) = core.records();
                            let next_id = core.next_downtime_id;
                            let mut fresh = Core::build(new, new_limits, notice_tx.clone(), h, s);
                            fresh.next_downtime_id = next_id;
                            fresh.checks_run = core.checks_run;
                            fresh.started = core.started;
                            fresh.forward = std::mem::take(&mut core.forward).reconfigure(&fresh.config.forward);
                            retention_every = fresh.config.daemon.retention_interval;
                            *core = fresh;
                            generation += 1;
                            schedule_all(&core, &mut heap, &mut spread);
                            notifier.reconfigure(core.config.smtp.clone());
                            tracing::info!("reloaded: {} hosts, {} services", core.hosts.len(), core.services.len());
                            core.config.nrpe.clone()
                            };
                            nrpe = Served::reload(nrpe.take(), nrpe_section.as_ref(), &state_dir, new_limits).await;
                            save_timer = tokio::time::interval_at(
                                tokio::time::Instant::now() + retention_every,
                                retention_every,
                            );
                        }
                    },
                }
            }
            _ = save_timer.tick() => {
                save(&shared, &state_file).await;
            }
            _ = second.tick() => {
                shared.lock().expect("core lock").tick(unix_now());
            }
            _ = tokio::time::sleep_until(sleep_to.into()), if !saturated && next_due.is_some() => {
                let now = Instant::now();
                let core = shared.lock().expect("core lock");
                while let Some(Reverse((due, target))) = heap.peek().copied() {
                    if due > now {
                        break;
                    }
                    let Ok(permit) = gate.clone().try_acquire_owned() else {
                        saturated = true;
                        break;
                    };
                    heap.pop();
                    let runnable = match target {
                        Target::Host(i) => core.hosts[i].runnable.clone(),
                        Target::Service(i) => core.services[i].runnable.clone(),
                    };
                    let tx = done_tx.clone();
                    let latency = now.saturating_duration_since(due).as_secs_f64();
                    tokio::spawn(async move {
                        let outcome = match runnable {
                            Some(Ok(r)) => r.run().await,
                            Some(Err(e)) => Outcome {
                                state: State::Unknown,
                                output: format!("UNKNOWN - {e}\n"),
                                perfdata: Vec::new(),
                                duration: Duration::ZERO,
                            },
                            None => Outcome {
                                state: State::Ok,
                                output: "no host check: assumed UP\n".into(),
                                perfdata: Vec::new(),
                                duration: Duration::ZERO,
                            },
                        };
                        drop(permit);
                        let _ = tx.send(Done { generation, target, outcome, latency });
                    });
                }
            }
        }
    }
    // plugins still running die with their process groups; checks that start from
    // now on (already handed to a task) are killed as they start
    if let Some(agent) = nrpe.take() {
        agent.stop().await;
    }
    let killed = crate::exec::CHECK_GROUPS.kill_all();
    tracing::info!("stopping: killed {killed} running plugins, saving states");
    save(&shared, &state_file).await;
    http.abort();
    drop(notice_tx);
    shared.lock().expect("core lock").notices = mpsc::unbounded_channel().0;
    // let queued notifications go out, for a short while
    let _ = tokio::time::timeout(Duration::from_secs(10), notifier_task).await;
    crate::exec::COMMAND_GROUPS.kill_all();
    Ok(())
}

/// Saves every record (atomically); a failure is logged and retried next period.
async fn save(shared: &Shared, path: &std::path::Path) {
    let snapshot = {
        let core = shared.lock().expect("core lock");
        let (hosts, services) = core.records();
        retention::Saved {
            version: retention::VERSION,
            saved_at: unix_now(),
            next_downtime_id: core.next_downtime_id,
            hosts,
            services,
        }
    };
    let path = path.to_path_buf();
    match tokio::task::spawn_blocking(move || retention::save(&path, &snapshot)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!("cannot save states: {e:#}"),
        Err(e) => tracing::error!("cannot save states: {e}"),
    }
}
