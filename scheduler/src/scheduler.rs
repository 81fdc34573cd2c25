//! The running daemon: the scheduler loop (a heap of due checks, a concurrency gate,
//! results applied to the [`Core`]), reload, periodic saving, and the edges it starts
//! and stops (the status API's listeners, the NRPE agent, notifications).
//!
//! [`run`] takes everything from outside: the configuration as data (and how to read
//! it again on reload), where the API listens, a shutdown future, and the [`Clock`].
//! Its time is tokio's, so a test drives it with `tokio::time::pause`; the process's
//! own signals are wired in [`run_with_signals`]. The loop is one `select!` whose
//! branches each call one named handler of [`Daemon`].

use crate::clock::Clock;
use crate::config::{Config, Daemon as DaemonSection};
use crate::daemon::{
    compact, compact_at_stop, Core, Entry, Shared, Target, NO_HOST_CHECK, NRPE_CHECK,
};
use crate::exec::{Limits, Outcome};
use crate::http::{Access, Api, ReloadOutcome, ReloadRequest};
use crate::journal::Journal;
use crate::listeners::Listeners;
use crate::notify::Notifier;
use crate::nrpe::Served;
use crate::state::{Condition, Next, StateType, Time};
use hcoop_plugins::plugin::State;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::{mpsc, Semaphore};
use tokio::time::Instant;

/// Reads the configuration again (on reload).
pub type Loader = Arc<dyn Fn() -> anyhow::Result<Config> + Send + Sync>;

/// The loader of a configuration file or directory (`None`: the embedded default).
pub fn loader(path: Option<PathBuf>) -> Loader {
    Arc::new(move || match &path {
        Some(p) => Config::load(p),
        None => Config::embedded(),
    })
}

/// How the daemon starts: its configuration, how to read it again, and where reloads
/// without an answer (SIGHUP) come from.
pub struct Setup {
    pub config: Config,
    pub loader: Loader,
    /// Each message asks for a reload (nobody waits for its answer).
    pub hangups: mpsc::Receiver<()>,
}

/// Where the status API listens.
pub enum Listener {
    /// No API (tests, tools).
    None,
    /// The API on `[daemon] listen` and on the control socket; `Some` when the socket
    /// was bound already (before the daemon left root), else it is bound at start.
    Api {
        socket: Option<std::os::unix::net::UnixListener>,
    },
}

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

/// The first due time of an object: spread over its interval, or from its restored
/// last check.
fn first_due<C: Condition>(
    e: &Entry<C>,
    spread: &mut Spread,
    now: Instant,
    now_unix: Time,
) -> Instant {
    let r = &e.record;
    let next = if r.state_type == StateType::Soft && !r.state.is_good() {
        Next::Retry
    } else {
        Next::Normal
    };
    let interval = match next {
        Next::Normal => e.schedule.check_interval,
        Next::Retry => e.schedule.retry_interval,
    };
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

/// `[daemon]` settings a reload cannot apply, as notes for its answer and log.
fn restart_notes(running: &DaemonSection, new: &DaemonSection) -> Vec<String> {
    let mut notes = Vec::new();
    if (&running.command_file, &running.command_group) != (&new.command_file, &new.command_group) {
        notes.push("command_file, command_group: take effect at the next restart".into());
    }
    if running.state_file != new.state_file {
        notes.push(format!(
            "state_file: {} takes effect at the next restart; states are still written to {}",
            new.state_file.display(),
            running.state_file.display()
        ));
    }
    notes
}

/// When checks are due, and the gate that bounds how many run at once.
struct Schedule {
    heap: BinaryHeap<Reverse<(Instant, Target)>>,
    spread: Spread,
    /// Bumped by every reload: results of checks started before it are dropped.
    generation: u64,
    gate: Arc<Semaphore>,
    /// Every permit is taken: nothing starts until a check ends.
    saturated: bool,
    done: mpsc::UnboundedSender<Done>,
    /// Checks asked for now ([`Core::request_check`]): run when due whatever their
    /// check period and switches say.
    forced: HashSet<Target>,
}

impl Schedule {
    /// Every host with a check and every service, due over their intervals (or after
    /// their restored last check).
    fn all(&mut self, core: &Core, now: Instant, now_unix: Time) {
        self.heap.clear();
        self.forced.clear();
        for (i, e) in core.hosts.iter().enumerate() {
            if e.runnable.is_some() {
                let due = first_due(e, &mut self.spread, now, now_unix);
                self.heap.push(Reverse((due, Target::Host(i))));
            }
        }
        for (i, e) in core.services.iter().enumerate() {
            // the daemon's own checks are set, not run
            if e.runnable.is_some() {
                let due = first_due(e, &mut self.spread, now, now_unix);
                self.heap.push(Reverse((due, Target::Service(i))));
            }
        }
    }

    /// When the next check is due, unless every permit is taken.
    fn next_due(&self) -> Option<Instant> {
        if self.saturated {
            return None;
        }
        self.heap.peek().map(|Reverse((t, _))| *t)
    }
}

/// The running daemon: its core, its schedule and its edges.
pub struct Daemon {
    shared: Shared,
    schedule: Schedule,
    clock: Clock,
    loader: Loader,
    limits: Limits,
    /// The `[daemon]` section it started with (what a reload cannot change).
    started_with: DaemonSection,
    retention_every: Duration,
    save_timer: tokio::time::Interval,
    notifier: Notifier,
    notifier_task: tokio::task::JoinHandle<()>,
    notices: mpsc::UnboundedSender<crate::notify::Notice>,
    access: Arc<RwLock<Access>>,
    listeners: Option<Listeners>,
    nrpe: Option<Served>,
    command_file: Option<crate::cmdfile::CommandFile>,
    state_dir: PathBuf,
    done_rx: mpsc::UnboundedReceiver<Done>,
    reload_tx: mpsc::Sender<ReloadRequest>,
    reload_rx: mpsc::Receiver<ReloadRequest>,
    hangups: mpsc::Receiver<()>,
    /// Told when checks are asked for now (the core's `requested`).
    wake: Arc<tokio::sync::Notify>,
}

/// Runs the daemon until `shutdown` completes: schedules checks, applies results,
/// serves the status API on `listener`, saves states, reloads when asked.
pub async fn run(
    setup: Setup,
    listener: Listener,
    shutdown: impl Future<Output = ()>,
    clock: Clock,
) -> anyhow::Result<()> {
    Daemon::start(setup, listener, clock)
        .await?
        .run(shutdown)
        .await
}

/// Runs the daemon until SIGTERM or SIGINT, reloading on SIGHUP: the process's own
/// signals around [`run`].
pub async fn run_with_signals(
    config_path: Option<PathBuf>,
    config: Config,
    socket: Option<std::os::unix::net::UnixListener>,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (hangups_tx, hangups) = mpsc::channel(4);
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            if hangups_tx.send(()).await.is_err() {
                break;
            }
        }
    });
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    };
    let setup = Setup {
        config,
        loader: loader(config_path),
        hangups,
    };
    run(setup, Listener::Api { socket }, shutdown, Clock::system()).await
}

impl Daemon {
    /// Builds the core from the configuration and the saved states, starts the
    /// forwarders, notifications, the API's listeners and the NRPE agent.
    pub async fn start(setup: Setup, listener: Listener, clock: Clock) -> anyhow::Result<Daemon> {
        let config = setup.config;
        hcoop_plugins::proto::http::install_redirect_networks(&config.daemon.redirect_networks)
            .map_err(|e| anyhow::anyhow!("[daemon] redirect_networks: {e}"))?;
        let limits = Limits::from_config(&config).map_err(anyhow::Error::msg)?;
        let state_file = config.daemon.state_file.clone();
        // never fails: damaged files are moved aside, a refused directory saves nothing,
        // and the retention self-check says so
        let (journal, saved) = crate::journal::open(&state_file, clock.unix_now());
        let (notices, notice_rx) = mpsc::unbounded_channel();
        let notifier = Notifier::new(config.smtp.clone(), limits);
        let notifier_task = tokio::spawn(notifier.clone().run(notice_rx));
        let mut core = Core::build(config, limits, notices.clone(), saved.hosts, saved.services);
        core.next_downtime_id = saved.next_downtime_id.max(1);
        core.journal = Some(journal);
        core.event_log =
            crate::eventlog::EventLog::carry(None, core.config.daemon.event_log.as_deref());
        core.seed_event_log(clock.unix_now());
        // never fails: without a store the daemon monitors on, its self-check says why
        core.open_history(clock.unix_now());
        core.tick(clock.unix_now());
        core.forward = crate::forward::Forwarder::start(&core.config.forward);
        let (hosts, services) = core.counts();
        tracing::info!(
            "starting: {hosts} hosts, {services} services, state file {}",
            state_file.display()
        );
        let concurrency = core.config.daemon.concurrency.max(1);
        let retention_every = core.config.daemon.retention_interval;
        let started_with = core.config.daemon.clone();
        let nrpe_section = core.config.nrpe.clone();
        let shared: Shared = Arc::new(Mutex::new(core));
        let (reload_tx, reload_rx) = mpsc::channel::<ReloadRequest>(4);
        let access = Arc::new(RwLock::new(Access::from_config(&started_with)));
        if let Err(e) = &access.read().expect("access lock").tokens {
            tracing::warn!("api: {e}");
        }
        let listeners = match listener {
            Listener::None => None,
            Listener::Api { socket } => {
                let api = Api {
                    core: shared.clone(),
                    access: access.clone(),
                    reload: reload_tx.clone(),
                };
                Some(Listeners::start(api, &started_with, socket))
            }
        };
        let state_dir = state_file
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default();
        let nrpe = match nrpe_section {
            Some(section) => match Served::start(&section, &state_dir, limits).await {
                Ok(served) => Some(served),
                Err(e) => {
                    // the checks go on; the agent's problem shows as the daemon's own service
                    tracing::error!("nrpe: cannot start: {e:#}; checks go on without the agent");
                    shared.lock().expect("core lock").set_self_check(
                        NRPE_CHECK,
                        State::Critical,
                        &format!("NRPE CRITICAL - the agent cannot start: {e:#}\n"),
                    );
                    None
                }
            },
            None => None,
        };
        let command_file = crate::cmdfile::CommandFile::start(&started_with, &shared);
        let (done, done_rx) = mpsc::unbounded_channel();
        let mut schedule = Schedule {
            heap: BinaryHeap::new(),
            spread: Spread::new(),
            generation: 0,
            gate: Arc::new(Semaphore::new(concurrency)),
            saturated: false,
            done,
            forced: HashSet::new(),
        };
        schedule.all(
            &shared.lock().expect("core lock"),
            clock.now(),
            clock.unix_now(),
        );
        let wake = shared.lock().expect("core lock").wake.clone();
        Ok(Daemon {
            shared,
            schedule,
            clock,
            loader: setup.loader,
            limits,
            started_with,
            retention_every,
            save_timer: save_timer(retention_every),
            notifier,
            notifier_task,
            notices,
            access,
            listeners,
            nrpe,
            command_file,
            state_dir,
            done_rx,
            reload_tx,
            reload_rx,
            hangups: setup.hangups,
            wake,
        })
    }

    /// The core, shared with the API.
    pub fn core(&self) -> Shared {
        self.shared.clone()
    }

    /// Where reloads with an answer are asked for (the API's `POST /api/reload`).
    pub fn reloads(&self) -> mpsc::Sender<ReloadRequest> {
        self.reload_tx.clone()
    }

    /// The loop, until `shutdown` completes; then the orderly stop.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        tokio::pin!(shutdown);
        let mut second = tokio::time::interval(Duration::from_secs(1));
        loop {
            let next_due = self.schedule.next_due();
            let sleep_to = next_due.unwrap_or_else(|| self.clock.now() + Duration::from_secs(3600));
            tokio::select! {
                biased;
                _ = &mut shutdown => break,
                Some(done) = self.done_rx.recv() => self.on_done(done),
                asked = next_reload(&mut self.hangups, &mut self.reload_rx) => {
                    let outcome = self.on_reload().await;
                    match asked {
                        Some(reply) => {
                            let _ = reply.send(outcome);
                        }
                        // one asked for through the API is recorded there, with who
                        None if outcome.is_ok() => {
                            let core = self.shared.lock().expect("core lock");
                            drop(core.history_reload(None, self.clock.unix_now()));
                        }
                        None => {}
                    }
                }
                _ = self.save_timer.tick() => self.on_save(),
                _ = second.tick() => self.on_second(),
                _ = self.wake.notified() => self.on_requested(),
                _ = tokio::time::sleep_until(sleep_to), if next_due.is_some() => self.start_due(),
            }
        }
        self.stop().await;
        Ok(())
    }

    /// A check ended: its result applied, its next check scheduled.
    fn on_done(&mut self, done: Done) {
        self.schedule.saturated = false;
        if done.generation != self.schedule.generation {
            return;
        }
        let mut core = self.shared.lock().expect("core lock");
        let interval = core.apply(
            done.target,
            &done.outcome,
            done.latency,
            self.clock.unix_now(),
        );
        let compact_now = core.journal.as_ref().is_some_and(Journal::due);
        drop(core);
        if compact_now {
            compact(&self.shared, false);
        }
        let next = self.clock.now() + self.schedule.spread.jitter(interval);
        self.schedule.heap.push(Reverse((next, done.target)));
    }

    /// Starts every check that is due, as long as the gate has room.
    ///
    /// A check due outside its `check_period` is not run then but moved to the next
    /// time the period holds, as Nagios 4 reschedules it (one that has no time within
    /// a year is looked at again a day later; Nagios then moves it a year ahead).
    fn start_due(&mut self) {
        let now = self.clock.now();
        let now_unix = self.clock.unix_now();
        let core = self.shared.lock().expect("core lock");
        let periods = &core.config.periods;
        let s = &mut self.schedule;
        while let Some(Reverse((due, target))) = s.heap.peek().copied() {
            if due > now {
                break;
            }
            let schedule = match target {
                Target::Host(i) => &core.hosts[i].schedule,
                Target::Service(i) => &core.services[i].schedule,
            };
            let forced = !s.forced.is_empty() && s.forced.contains(&target);
            if !forced && !periods.contains(&schedule.check_period, now_unix) {
                s.heap.pop();
                let wait = periods
                    .next_valid(&schedule.check_period, now_unix)
                    .map_or(86_400, |t| t.saturating_sub(now_unix).max(1));
                s.heap
                    .push(Reverse((now + Duration::from_secs(wait), target)));
                continue;
            }
            if let Some(why) = core.check_held(target, now_unix).filter(|_| !forced) {
                // not run, as Nagios: looked at again a normal interval later
                s.heap.pop();
                let key = match target {
                    Target::Host(i) => &core.hosts[i].key,
                    Target::Service(i) => &core.services[i].key,
                };
                tracing::debug!("check of {key} not run: {why}");
                s.heap
                    .push(Reverse((now + schedule.check_interval, target)));
                continue;
            }
            let Ok(permit) = s.gate.clone().try_acquire_owned() else {
                s.saturated = true;
                break;
            };
            s.heap.pop();
            if forced {
                s.forced.remove(&target);
            }
            let runnable = match target {
                Target::Host(i) => core.hosts[i].runnable.clone(),
                Target::Service(i) => core.services[i].runnable.clone(),
            };
            let tx = s.done.clone();
            let generation = s.generation;
            let latency = now.saturating_duration_since(due).as_secs_f64();
            tokio::spawn(async move {
                crate::lateness::CHECKS.record(due.elapsed());
                let outcome = match runnable {
                    Some(Ok(r)) => r.run().await,
                    Some(Err(e)) => Outcome::unknown(&e),
                    None => Outcome::printed(
                        State::Ok,
                        NO_HOST_CHECK,
                        SystemTime::now(),
                        Duration::ZERO,
                    ),
                };
                drop(permit);
                let _ = tx.send(Done {
                    generation,
                    target,
                    outcome,
                    latency,
                });
            });
        }
    }

    /// Checks were asked for now: each one waiting for its time is moved to the front
    /// and forced (a check running already is not started again; the next regular one
    /// follows an interval after it).
    fn on_requested(&mut self) {
        let asked: HashSet<Target> =
            std::mem::take(&mut self.shared.lock().expect("core lock").requested)
                .into_iter()
                .collect();
        if asked.is_empty() {
            return;
        }
        let now = self.clock.now();
        let s = &mut self.schedule;
        let mut waiting = Vec::with_capacity(asked.len());
        s.heap.retain(|Reverse((_, t))| {
            let found = asked.contains(t);
            if found {
                waiting.push(*t);
            }
            !found
        });
        tracing::debug!(
            "{} checks asked for now, {} running already or without a check",
            waiting.len(),
            asked.len() - waiting.len()
        );
        for t in waiting {
            s.forced.insert(t);
            s.heap.push(Reverse((now, t)));
        }
        self.start_due();
    }

    /// Every second: downtimes start and end, the retention self-check is refreshed.
    fn on_second(&mut self) {
        self.shared
            .lock()
            .expect("core lock")
            .tick(self.clock.unix_now());
    }

    /// Every retention interval: a compaction of the state journal if one is due.
    fn on_save(&mut self) {
        compact(&self.shared, false);
    }

    /// Reads the configuration again and applies it; a configuration that does not
    /// load (or whose plugin user does not resolve) leaves the running one in place.
    async fn on_reload(&mut self) -> ReloadOutcome {
        let loader = self.loader.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| loader())).unwrap_or_else(
                |p| {
                    Err(anyhow::anyhow!(
                        "internal error while reading the configuration: {}",
                        hcoop_plugins::plugin::runner::panic_message(p.as_ref())
                    ))
                },
            )
        })
        .await
        .unwrap_or_else(|e| {
            Err(anyhow::anyhow!(
                "internal error while reading the configuration: {e}"
            ))
        });
        let new = match loaded {
            Ok(new) => new,
            Err(e) => {
                tracing::error!("reload: configuration invalid, keeping the running one:\n{e:#}");
                return Err(format!(
                    "configuration invalid, the running one is kept:\n{e:#}"
                ));
            }
        };
        let limits = match Limits::from_config(&new) {
            Ok(l) => l,
            Err(e) => {
                tracing::error!("reload: {e}; keeping the running configuration");
                return Err(format!("{e}; the running configuration is kept"));
            }
        };
        self.limits = limits;
        let history = self.open_changed_history(&new).await;
        let (nrpe_section, new_daemon, summary) = self.replace_core(new, history);
        self.nrpe = Served::reload(
            self.nrpe.take(),
            nrpe_section.as_ref(),
            &self.state_dir,
            limits,
        )
        .await;
        self.save_timer = save_timer(self.retention_every);
        let mut notes = match &mut self.listeners {
            Some(l) => l.reconfigure(&new_daemon).await,
            None => Vec::new(),
        };
        // validated with the configuration, so this takes
        if let Err(e) =
            hcoop_plugins::proto::http::install_redirect_networks(&new_daemon.redirect_networks)
        {
            notes.push(format!("redirect_networks: {e}"));
        }
        notes.extend(restart_notes(&self.started_with, &new_daemon));
        *self.access.write().expect("access lock") = Access::from_config(&new_daemon);
        if let Err(e) = &self.access.read().expect("access lock").tokens {
            notes.push(format!("api: {e}"));
        }
        let text = std::iter::once(summary)
            .chain(notes)
            .collect::<Vec<_>>()
            .join("\n");
        tracing::info!("reloaded: {text}");
        Ok(text)
    }

    /// Opens the history store of `new` on a blocking thread, off the core lock, when
    /// the reload changes it (`[history] path` or `enabled`); `None` when it does not.
    async fn open_changed_history(&self, new: &Config) -> Option<crate::historyfeed::OpenedStore> {
        let running = self
            .shared
            .lock()
            .expect("core lock")
            .config
            .history
            .clone();
        if !crate::historyfeed::history_changes(&running, &new.history) {
            return None;
        }
        let (settings, now) = (new.history.clone(), self.clock.unix_now());
        let opening =
            tokio::task::spawn_blocking(move || crate::historyfeed::open_store(&settings, now));
        Some(opening.await.unwrap_or_else(|e| {
            Some(Err(format!(
                "internal error while opening the history store: {e}"
            )))
        }))
    }

    /// Builds the core of a new configuration, taking over every record, the
    /// counters, the forwarders, the journal and the history store (`history`: the
    /// one opened for it when it changed), and schedules it; returns what the edges
    /// need and the summary of the reload.
    fn replace_core(
        &mut self,
        new: Config,
        history: Option<crate::historyfeed::OpenedStore>,
    ) -> (Option<crate::nrpe::NrpeSection>, DaemonSection, String) {
        let mut core = self.shared.lock().expect("core lock");
        let (h, s) = core.records();
        let mut fresh = Core::build(new, self.limits, self.notices.clone(), h, s);
        fresh.next_downtime_id = core.next_downtime_id;
        fresh.checks_run = core.checks_run;
        fresh.started = core.started;
        fresh.forward = std::mem::take(&mut core.forward).reconfigure(&fresh.config.forward);
        fresh.journal = core.journal.take();
        fresh.event_log = crate::eventlog::EventLog::carry(
            core.event_log.take(),
            fresh.config.daemon.event_log.as_deref(),
        );
        fresh.wake = core.wake.clone();
        if let Some(old) = fresh.carry_history(&mut core, history, self.clock.unix_now()) {
            // another store now: the old one closed (its Stop recorded) off the lock
            drop(tokio::task::spawn_blocking(move || {
                old.close("reloaded with another history store")
            }));
        }
        self.retention_every = fresh.config.daemon.retention_interval;
        *core = fresh;
        self.schedule.generation += 1;
        self.schedule.saturated = false;
        self.schedule
            .all(&core, self.clock.now(), self.clock.unix_now());
        self.notifier.reconfigure(core.config.smtp.clone());
        let (h, s) = core.counts();
        let summary = std::iter::once(format!("{h} hosts, {s} services"))
            .chain(crate::startup::missing_capabilities(&core.config))
            .collect::<Vec<_>>()
            .join("\n");
        (
            core.config.nrpe.clone(),
            core.config.daemon.clone(),
            summary,
        )
    }

    /// The orderly stop: plugins still running die with their process groups (checks
    /// that start from now on, already handed to a task, are killed as they start),
    /// states are saved, the listeners closed, queued notifications go out for a short
    /// while.
    async fn stop(mut self) {
        if let Some(c) = self.command_file.take() {
            c.stop();
        }
        if let Some(agent) = self.nrpe.take() {
            agent.stop().await;
        }
        let killed = crate::exec::CHECK_GROUPS.kill_all();
        tracing::info!("stopping: killed {killed} running plugins, saving states");
        compact_at_stop(&self.shared).await;
        if let Some(l) = self.listeners.take() {
            l.stop().await;
        }
        drop(self.notices);
        self.shared.lock().expect("core lock").stop_notices();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.notifier_task).await;
        crate::exec::COMMAND_GROUPS.kill_all();
        // the notifications' results are in: a clean Stop closes the history
        let history = self.shared.lock().expect("core lock").history.take();
        if let Some(h) = history {
            let _ = tokio::task::spawn_blocking(move || h.close("stopped")).await;
        }
    }
}

/// A save timer whose first tick is one interval from now.
fn save_timer(every: Duration) -> tokio::time::Interval {
    tokio::time::interval_at(Instant::now() + every, every)
}

/// The next reload to do: asked by a hangup (`None`: nobody waits for the answer) or
/// through the API (the answer goes back to it).
async fn next_reload(
    hangups: &mut mpsc::Receiver<()>,
    asked: &mut mpsc::Receiver<ReloadRequest>,
) -> Option<ReloadRequest> {
    tokio::select! {
        Some(()) = hangups.recv() => None,
        Some(reply) = asked.recv() => Some(reply),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::fake;
    use crate::state::Record;
    use tokio::sync::oneshot;

    /// A daemon running on paused time with `check_fake` services, no listeners, its
    /// states in a temporary directory.
    struct Running {
        core: Shared,
        reloads: mpsc::Sender<ReloadRequest>,
        hangups: mpsc::Sender<()>,
        /// What the next reload reads (an error: a configuration that does not load).
        next: Arc<Mutex<Result<String, String>>>,
        stop: Option<oneshot::Sender<()>>,
        task: tokio::task::JoinHandle<anyhow::Result<()>>,
        start: Instant,
        _dir: tempfile::TempDir,
    }

    /// A configuration: one host `h`, services `(name, key, extra settings)`.
    fn config_text(dir: &std::path::Path, services: &[(&str, &str, &str)]) -> String {
        let mut text = format!(
            "[daemon]\nstate_file = \"{}/state/state.json\"\n\n\
             [defaults]\ncheck_interval = \"60s\"\nretry_interval = \"10s\"\nmax_check_attempts = 3\n\n\
             [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n",
            dir.display()
        );
        for (name, key, extra) in services {
            text.push_str(&format!(
                "\n[[service]]\nhost = \"h\"\nname = \"{name}\"\ncheck = \"{}\"\nargs = [\"{key}\"]\n{extra}\n",
                fake::NAME
            ));
        }
        text
    }

    /// A configuration, its time periods in UTC.
    fn parse(text: &str) -> anyhow::Result<Config> {
        let mut c = Config::from_files(vec![(None, text.to_string())])?;
        c.periods = c.periods.in_zone(crate::timeperiod::Zone::Offset(0));
        Ok(c)
    }

    async fn start(services: &[(&str, &str, &str)]) -> Running {
        let dir = tempfile::tempdir().unwrap();
        let text = config_text(dir.path(), services);
        let next = Arc::new(Mutex::new(Ok(text.clone())));
        let source = next.clone();
        let loader: Loader = Arc::new(move || {
            let text = source.lock().unwrap().clone();
            text.map_err(anyhow::Error::msg).and_then(|t| parse(&t))
        });
        let (hangups, hangups_rx) = mpsc::channel(4);
        let setup = Setup {
            config: parse(&text).unwrap(),
            loader,
            hangups: hangups_rx,
        };
        let clock = Clock::starting_at(1_700_000_000);
        let daemon = Daemon::start(setup, Listener::None, clock).await.unwrap();
        let (core, reloads) = (daemon.core(), daemon.reloads());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(daemon.run(async {
            let _ = stopped.await;
        }));
        Running {
            core,
            reloads,
            hangups,
            next,
            stop: Some(stop),
            task,
            start: Instant::now(),
            _dir: dir,
        }
    }

    impl Running {
        /// The record of service `h/NAME`.
        fn record(&self, name: &str) -> Record<State> {
            let core = self.core.lock().unwrap();
            match core.find(&format!("h/{name}")) {
                Some(Target::Service(i)) => core.services[i].record.clone(),
                other => panic!("no service h/{name}: {other:?}"),
            }
        }

        /// Waits (in tokio's paused time) until `check_fake KEY` ran `n` times and the
        /// daemon applied the last result.
        async fn runs(&self, key: &str, n: u64, service: &str) -> Vec<Duration> {
            for _ in 0..100_000 {
                if fake::runs(key) >= n && self.record(service).last_check > 0 {
                    // let the loop apply the result of the last run
                    tokio::time::sleep(Duration::from_millis(1)).await;
                    return fake::times(key)
                        .iter()
                        .map(|t| t.duration_since(self.start))
                        .collect();
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            panic!("{key} ran {} times, not {n}", fake::runs(key));
        }

        /// Waits (in tokio's paused time) until `secs` after the start.
        async fn until(&self, secs: u64) {
            tokio::time::sleep_until(self.start + Duration::from_secs(secs)).await;
        }

        async fn reload(&self) -> ReloadOutcome {
            let (tx, rx) = oneshot::channel();
            self.reloads.send(tx).await.unwrap();
            rx.await.unwrap()
        }

        async fn stop(mut self) {
            let _ = self.stop.take().unwrap().send(());
            self.task.await.unwrap().unwrap();
        }
    }

    /// Whether `gap` is `interval` give or take the scheduler's jitter (1%, at most
    /// one second) and a few milliseconds of polling.
    fn about(gap: Duration, interval: Duration) -> bool {
        let slack = (interval / 100).min(Duration::from_secs(1)) + Duration::from_millis(5);
        gap + slack >= interval && gap <= interval + slack
    }

    fn gaps(times: &[Duration]) -> Vec<Duration> {
        times.windows(2).map(|w| w[1] - w[0]).collect()
    }

    #[tokio::test(start_paused = true)]
    async fn soft_then_hard_after_max_check_attempts_then_recovery() {
        fake::set("sh", State::Critical, "down");
        let d = start(&[("s", "sh", "")]).await;
        let t = d.runs("sh", 1, "s").await;
        // the first check is spread over the check interval
        assert!(t[0] < Duration::from_secs(60), "{t:?}");
        let r = d.record("s");
        assert_eq!(
            (r.state, r.state_type, r.attempt),
            (State::Critical, StateType::Soft, 1)
        );
        assert_eq!(r.output, "FAKE CRITICAL - down\n");
        d.runs("sh", 2, "s").await;
        let r = d.record("s");
        assert_eq!((r.state_type, r.attempt), (StateType::Soft, 2));
        let t = d.runs("sh", 3, "s").await;
        let r = d.record("s");
        assert_eq!(
            (r.state, r.state_type, r.attempt),
            (State::Critical, StateType::Hard, 3)
        );
        // soft attempts come every retry_interval
        for gap in gaps(&t) {
            assert!(about(gap, Duration::from_secs(10)), "{t:?}");
        }
        // hard: back to the check interval
        let t = d.runs("sh", 4, "s").await;
        assert!(about(t[3] - t[2], Duration::from_secs(60)), "{t:?}");
        let r = d.record("s");
        assert_eq!((r.state, r.state_type), (State::Critical, StateType::Hard));
        // recovery: OK at the next check, a hard state change
        fake::set("sh", State::Ok, "up");
        let t = d.runs("sh", 5, "s").await;
        assert!(about(t[4] - t[3], Duration::from_secs(60)), "{t:?}");
        let r = d.record("s");
        assert_eq!(
            (r.state, r.state_type, r.attempt),
            (State::Ok, StateType::Hard, 1)
        );
        assert_eq!(r.output, "FAKE OK - up\n");
        d.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn each_service_keeps_its_check_interval() {
        fake::set("ka", State::Ok, "fine");
        fake::set("kb", State::Warning, "odd");
        let d = start(&[
            ("a", "ka", ""),
            (
                "b",
                "kb",
                "check_interval = \"25s\"\nmax_check_attempts = 1",
            ),
        ])
        .await;
        let a = d.runs("ka", 6, "a").await;
        let b = d.runs("kb", 12, "b").await;
        for gap in gaps(&a) {
            assert!(about(gap, Duration::from_secs(60)), "{a:?}");
        }
        for gap in gaps(&b) {
            assert!(about(gap, Duration::from_secs(25)), "{b:?}");
        }
        let r = d.record("b");
        assert_eq!((r.state, r.state_type), (State::Warning, StateType::Hard));
        // the checks ran on time: no check started late by more than the polling
        {
            let core = d.core.lock().unwrap();
            assert!(core.services.iter().all(|e| e.latency < 0.01));
            assert!(core.checks_run >= 18);
        }
        d.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_reload_to_another_history_store_opens_it_and_swaps_it_in() {
        fake::set("hs", State::Ok, "fine");
        let d = start(&[("s", "hs", "")]).await;
        let dir = d._dir.path().to_path_buf();
        let first = dir.join("state/history.db");
        let path = |d: &Running| {
            let core = d.core.lock().unwrap();
            core.history.as_ref().map(|h| h.path().to_path_buf())
        };
        assert_eq!(path(&d), Some(first.clone()));
        let other = dir.join("state/other.db");
        let text = config_text(&dir, &[("s", "hs", "")]);
        let moved = format!("{text}\n[history]\npath = \"{}\"\n", other.display());
        *d.next.lock().unwrap() = Ok(moved);
        d.reload().await.unwrap();
        assert_eq!(path(&d), Some(other.clone()));
        let opened = {
            let core = d.core.lock().unwrap();
            core.history_feed.open_error.clone()
        };
        assert_eq!(opened, None);
        // turned off: no store
        *d.next.lock().unwrap() = Ok(format!("{text}\n[history]\nenabled = false\n"));
        d.reload().await.unwrap();
        assert_eq!(path(&d), None);
        d.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_reload_replaces_the_schedule_and_keeps_the_states() {
        fake::set("rs", State::Critical, "down");
        fake::set("rn", State::Ok, "new");
        let d = start(&[("s", "rs", "")]).await;
        d.runs("rs", 1, "s").await;
        let before = d.record("s");
        assert_eq!((before.state_type, before.attempt), (StateType::Soft, 1));
        // the new configuration: s checked more often, and a new service n
        let dir = d._dir.path().to_path_buf();
        *d.next.lock().unwrap() = Ok(config_text(
            &dir,
            &[
                (
                    "s",
                    "rs",
                    "check_interval = \"20s\"\nretry_interval = \"5s\"",
                ),
                ("n", "rn", ""),
            ],
        ));
        let answer = d.reload().await.unwrap();
        assert!(answer.starts_with("1 hosts, 2 services"), "{answer}");
        // the state of s is kept
        let after = d.record("s");
        assert_eq!(
            (
                after.state,
                after.state_type,
                after.attempt,
                after.last_check
            ),
            (
                before.state,
                before.state_type,
                before.attempt,
                before.last_check
            )
        );
        // s goes on from its kept state at the new retry interval, then hard at 20s
        let t = d.runs("rs", 4, "s").await;
        assert!(about(t[2] - t[1], Duration::from_secs(5)), "{t:?}");
        assert!(about(t[3] - t[2], Duration::from_secs(20)), "{t:?}");
        let r = d.record("s");
        assert_eq!((r.state_type, r.attempt), (StateType::Hard, 3));
        // the new service is scheduled
        d.runs("rn", 1, "n").await;
        assert_eq!(d.record("n").state, State::Ok);
        // a hangup reloads too (nobody waits for the answer)
        *d.next.lock().unwrap() = Ok(config_text(&dir, &[("s", "rs", "")]));
        d.hangups.send(()).await.unwrap();
        for _ in 0..100 {
            if d.core.lock().unwrap().find("h/n").is_none() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(d.core.lock().unwrap().find("h/n"), None);
        assert_eq!(d.record("s").attempt, 3);
        d.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_bad_configuration_on_reload_keeps_the_running_one() {
        fake::set("bk", State::Ok, "fine");
        let d = start(&[("s", "bk", "")]).await;
        d.runs("bk", 1, "s").await;
        *d.next.lock().unwrap() = Err("line 3: expected a table".into());
        let e = d.reload().await.unwrap_err();
        assert!(
            e.starts_with("configuration invalid, the running one is kept"),
            "{e}"
        );
        assert!(e.contains("line 3: expected a table"), "{e}");
        // an unknown check is refused the same way
        let dir = d._dir.path().to_path_buf();
        *d.next.lock().unwrap() =
            Ok(config_text(&dir, &[("s", "bk", "")]).replace(fake::NAME, "check_nothing"));
        let e = d.reload().await.unwrap_err();
        assert!(e.contains("no built-in check named 'check_nothing'"), "{e}");
        // and so are a time period not defined and periods excluding each other
        *d.next.lock().unwrap() = Ok(config_text(
            &dir,
            &[("s", "bk", "check_period = \"nights\"")],
        ));
        let e = d.reload().await.unwrap_err();
        assert!(
            e.contains("service 's' on 'h': no time period named 'nights'"),
            "{e}"
        );
        let cycle = "check_period = \"a\"\n\
            [[timeperiod]]\nname = \"a\"\nexclude = [\"b\"]\n\
            [[timeperiod]]\nname = \"b\"\nexclude = [\"a\"]";
        *d.next.lock().unwrap() = Ok(config_text(&dir, &[("s", "bk", cycle)]));
        let e = d.reload().await.unwrap_err();
        assert!(
            e.starts_with("configuration invalid, the running one is kept"),
            "{e}"
        );
        assert!(
            e.contains("time periods exclude each other in a cycle: a -> b -> a"),
            "{e}"
        );
        // the running schedule goes on unchanged
        let t = d.runs("bk", 3, "s").await;
        for gap in gaps(&t) {
            assert!(about(gap, Duration::from_secs(60)), "{t:?}");
        }
        assert_eq!(d.core.lock().unwrap().counts(), (1, 1));
        d.stop().await;
    }

    /// Business hours on weekdays (the test clock starts on Tuesday 2023-11-14 at
    /// 22:13:20 UTC).
    const BUSINESS: &str = "\n[[timeperiod]]\nname = \"business\"\n\
        rules = [\"monday 09:00-17:00\", \"tuesday 09:00-17:00\", \"wednesday 09:00-17:00\", \
        \"thursday 09:00-17:00\", \"friday 09:00-17:00\"]\n";
    /// Wednesday 2023-11-15 09:00 and 17:00 UTC, seconds after the clock's start.
    const NINE: u64 = 38_800;
    const FIVE: u64 = NINE + 8 * 3600;

    /// Starts service `s` (check `key` answering `state`) with its own `settings` and
    /// the period `business`, and waits until a second before Wednesday 09:00.
    async fn start_by_night(key: &str, state: State, settings: &str) -> Running {
        fake::set(key, state, "answer");
        let own = format!("{settings}\n{BUSINESS}");
        let d = start(&[("s", key, &own)]).await;
        d.until(NINE - 1).await;
        d
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_outside_its_check_period_waits_for_the_period() {
        let d = start_by_night("cp", State::Ok, "check_period = \"business\"").await;
        // not run at night
        assert_eq!(fake::runs("cp"), 0);
        // run at 09:00, then every check interval until 17:00
        let t = d.runs("cp", 1, "s").await;
        assert_eq!(t[0].as_secs(), NINE, "{t:?}");
        assert_eq!(d.record("s").last_check, 1_700_000_000 + NINE);
        d.until(FIVE + 3600).await;
        let r = d.record("s");
        assert!(
            (1_700_000_000 + FIVE - 61..1_700_000_000 + FIVE).contains(&r.last_check),
            "{}",
            r.last_check
        );
        let by_five = fake::runs("cp");
        assert!((470..=481).contains(&by_five), "{by_five}");
        // next on Thursday at 09:00
        d.until(NINE + 86_400 - 1).await;
        assert_eq!(fake::runs("cp"), by_five);
        let t = d.runs("cp", by_five + 1, "s").await;
        assert_eq!(t[by_five as usize].as_secs(), NINE + 86_400, "{t:?}");
        d.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_problem_outside_the_notification_period_is_notified_when_it_opens() {
        let own = "max_check_attempts = 1\nnotification_period = \"business\"";
        let d = start_by_night("np", State::Critical, own).await;
        // hard at the first check, at night: checked every minute, nothing notified
        let r = d.record("s");
        assert_eq!((r.state, r.state_type), (State::Critical, StateType::Hard));
        assert!(fake::runs("np") >= 640, "{}", fake::runs("np"));
        assert_eq!((r.notification_number, r.last_notification), (0, None));
        // the first check from 09:00 notifies
        d.until(NINE + 61).await;
        let r = d.record("s");
        assert_eq!(r.notification_number, 1);
        let at = r.last_notification.unwrap() - 1_700_000_000;
        assert!((NINE..NINE + 61).contains(&at), "{at}");
        d.stop().await;
    }

    /// The target of service `h/NAME`.
    fn target_of(d: &Running, name: &str) -> Target {
        d.core.lock().unwrap().find(&format!("h/{name}")).unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_asked_for_runs_at_once_and_its_schedule_goes_on() {
        let d = start(&[("s", "ask", "check_interval = \"1h\"")]).await;
        fake::set("ask", State::Ok, "fine");
        let t = d.runs("ask", 1, "s").await;
        d.until(t[0].as_secs() + 600).await;
        assert_eq!(fake::runs("ask"), 1);
        // asked for: run within a second, although due in 50 minutes
        let asked = Instant::now();
        let s = target_of(&d, "s");
        d.core.lock().unwrap().request_check(&[s]);
        let t = d.runs("ask", 2, "s").await;
        assert!(
            t[1] >= asked - d.start && t[1] - (asked - d.start) < Duration::from_secs(1),
            "{t:?}"
        );
        // once, and the next regular check an interval after it
        let t = d.runs("ask", 3, "s").await;
        assert!(about(t[2] - t[1], Duration::from_secs(3600)), "{t:?}");
        // forced past the switch: run while its active checks are off
        d.core
            .lock()
            .unwrap()
            .set_checks_enabled(&[s], false)
            .wait()
            .unwrap();
        d.until((t[2] + Duration::from_secs(60)).as_secs()).await;
        d.core.lock().unwrap().request_check(&[s]);
        let t = d.runs("ask", 4, "s").await;
        assert!(t[3] - t[2] < Duration::from_secs(62), "{t:?}");
        // and not by the schedule afterwards
        d.until((t[3] + Duration::from_secs(3 * 3600)).as_secs())
            .await;
        assert_eq!(fake::runs("ask"), 4);
        d.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_switched_off_is_not_run_until_switched_on() {
        let d = start(&[("s", "off", "")]).await;
        fake::set("off", State::Critical, "down");
        d.runs("off", 1, "s").await;
        let s = target_of(&d, "s");
        d.core
            .lock()
            .unwrap()
            .set_checks_enabled(&[s], false)
            .wait()
            .unwrap();
        let before = d.record("s");
        let runs = fake::runs("off");
        // ten check intervals: not run, its record as it was
        d.until(d.start.elapsed().as_secs() + 600).await;
        assert_eq!(fake::runs("off"), runs);
        let r = d.record("s");
        assert_eq!(
            (r.last_check, r.attempt, r.state_type),
            (before.last_check, before.attempt, before.state_type)
        );
        assert_eq!(r.active_checks, Some(false));
        // on again: run within an interval
        let on = d.start.elapsed();
        d.core
            .lock()
            .unwrap()
            .set_checks_enabled(&[s], true)
            .wait()
            .unwrap();
        let t = d.runs("off", runs + 1, "s").await;
        assert!(t[runs as usize] - on <= Duration::from_secs(61), "{t:?}");
        assert!(d.record("s").last_check > before.last_check);
        d.stop().await;
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_running_already_is_not_started_again() {
        fake::set("busy", State::Ok, "fine");
        fake::set("idle", State::Ok, "fine");
        let dir = tempfile::tempdir().unwrap();
        let text = config_text(dir.path(), &[("busy", "busy", ""), ("idle", "idle", "")]);
        let (_hangups, hangups) = mpsc::channel(1);
        let setup = Setup {
            config: parse(&text).unwrap(),
            loader: loader(None),
            hangups,
        };
        let mut daemon = Daemon::start(setup, Listener::None, Clock::starting_at(1_700_000_000))
            .await
            .unwrap();
        let (busy, idle) = {
            let core = daemon.shared.lock().unwrap();
            (core.find("h/busy").unwrap(), core.find("h/idle").unwrap())
        };
        // busy is running: taken off the heap until its result comes
        daemon.schedule.heap.retain(|Reverse((_, t))| *t != busy);
        daemon
            .shared
            .lock()
            .unwrap()
            .request_check(&[busy, idle, busy]);
        daemon.on_requested();
        assert!(daemon.shared.lock().unwrap().requested.is_empty());
        // idle started at once (forced, then off the heap), busy not again
        assert_eq!(fake::runs("idle"), 0, "started in a task");
        tokio::task::yield_now().await;
        assert!(daemon.schedule.forced.is_empty());
        let waiting: Vec<Target> = daemon
            .schedule
            .heap
            .iter()
            .map(|Reverse((_, t))| *t)
            .collect();
        assert!(
            !waiting.contains(&busy) && !waiting.contains(&idle),
            "{waiting:?}"
        );
        let done = daemon.done_rx.recv().await.unwrap();
        assert_eq!(done.target, idle);
        assert_eq!(fake::runs("idle"), 1);
        assert_eq!(fake::runs("busy"), 0);
    }
}
