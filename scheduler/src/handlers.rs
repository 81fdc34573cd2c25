//! Running event handlers: the core decides after each applied result, as Nagios
//! ([`crate::eventhandlers`]), whether an object's handlers run, and hands them here to
//! a task of their own: the core lock never waits on a process.
//!
//! The global handler (`[daemon] global_host_event_handler`,
//! `global_service_event_handler`) runs first, then the object's own, one after the
//! other, each as the plugin user with the plugins' limits in a process group of its
//! own, killed with the group at `[daemon] event_handler_timeout` and when the daemon
//! stops. Each run is logged in one line (its exit and the first line of its output,
//! cut).
//!
//! A flapping service must not fork a process per result without end: at most
//! [`MAX_RUNNING`] events' handlers run at once, and at most [`MAX_WAITING`] more wait
//! for their turn (in order); an event beyond those is skipped, with a log line.

use crate::exec::{run_argv, Limits, PluginEnd, COMMAND_GROUPS};
use crate::handler::Seen;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Events whose handlers run at once.
pub const MAX_RUNNING: usize = 8;
/// Events waiting for one of the [`MAX_RUNNING`] places; more are skipped.
pub const MAX_WAITING: usize = 64;
/// The longest piece of a handler's output logged, in bytes.
const LOGGED_OUTPUT: usize = 200;

/// The places of running events (shared by every build of the core: a reload does not
/// make room for more).
static PLACES: Semaphore = Semaphore::const_new(MAX_RUNNING);
/// Events running or waiting.
static PENDING: AtomicUsize = AtomicUsize::new(0);

/// One handler run: what it runs, for which object, and what it was told.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The global handler (else the object's own).
    pub global: bool,
    pub host: String,
    /// `None`: a host's handler.
    pub service: Option<String>,
    pub seen: Seen,
    /// The command line as written.
    pub line: String,
    /// The program and its arguments, macros expanded.
    pub argv: Vec<String>,
    /// The `NAGIOS_*` environment.
    pub env: Vec<(String, String)>,
}

impl Job {
    /// "global service", "service", "global host" or "host".
    fn kind(&self) -> String {
        let what = if self.service.is_some() {
            "service"
        } else {
            "host"
        };
        if self.global {
            format!("global {what}")
        } else {
            what.to_string()
        }
    }

    /// "host" or "host/service".
    fn subject(&self) -> String {
        match &self.service {
            Some(s) => format!("{}/{s}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Starts the handler runs the core decides on.
#[derive(Debug)]
pub struct Runner {
    limits: Limits,
    /// Runs kept instead of started ([`Runner::keep`]).
    kept: Option<Vec<Job>>,
}

impl Runner {
    /// Runs handlers under `limits` (the plugins').
    pub fn new(limits: Limits) -> Runner {
        Runner { limits, kept: None }
    }

    /// Keeps the runs instead of starting them, for [`Runner::take`] (tests of the
    /// decision).
    pub fn keep(&mut self) {
        self.kept = Some(Vec::new());
    }

    /// The runs kept so far.
    pub fn take(&mut self) -> Vec<Job> {
        self.kept.as_mut().map(std::mem::take).unwrap_or_default()
    }

    /// Starts the handlers of one event, in order, in a task of their own; false when
    /// they are skipped.
    pub fn start(&mut self, jobs: Vec<Job>, timeout: Duration) -> bool {
        if jobs.is_empty() {
            return false;
        }
        if let Some(kept) = &mut self.kept {
            kept.extend(jobs);
            return true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::error!(
                "event handlers of {} not run: no runtime",
                jobs[0].subject()
            );
            return false;
        };
        if PENDING.fetch_add(1, Ordering::SeqCst) >= MAX_RUNNING + MAX_WAITING {
            PENDING.fetch_sub(1, Ordering::SeqCst);
            tracing::warn!(
                "event handlers of {} ({} {} {}) skipped: {} events' handlers already \
                 running or waiting",
                jobs[0].subject(),
                jobs[0].seen.state,
                jobs[0].seen.type_name(),
                jobs[0].seen.attempt,
                MAX_RUNNING + MAX_WAITING
            );
            return false;
        }
        let limits = self.limits;
        // counted out however the task ends (dropped unpolled at exit too)
        let pending = Pending;
        runtime.spawn(async move {
            let _pending = pending;
            let Ok(_place) = PLACES.acquire().await else {
                return;
            };
            for job in jobs {
                run(&job, timeout, limits).await;
            }
        });
        true
    }
}

/// One event counted in [`PENDING`] until dropped.
struct Pending;

impl Drop for Pending {
    fn drop(&mut self) {
        PENDING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Runs one handler to its end or its timeout; logs how it ended.
async fn run(job: &Job, timeout: Duration, limits: Limits) {
    let seen = format!(
        "{} {} {}",
        job.seen.state,
        job.seen.type_name(),
        job.seen.attempt
    );
    let what = format!("{} event handler of {} ({seen})", job.kind(), job.subject());
    let program = &job.argv[0];
    let clock = Instant::now();
    let end = run_argv(&job.argv, &job.env, timeout, limits, &COMMAND_GROUPS).await;
    let took = clock.elapsed().as_secs_f64();
    match end {
        PluginEnd::Ended {
            code: Some(code),
            output,
            ..
        } => tracing::info!(
            "{what}: {program} exited with {code} after {took:.1}s: {}",
            first_line(&output)
        ),
        PluginEnd::Ended {
            signal: Some(sig),
            output,
            ..
        } => tracing::warn!(
            "{what}: {program} killed by signal {sig} after {took:.1}s: {}",
            first_line(&output)
        ),
        PluginEnd::Ended { output, .. } => {
            tracing::warn!("{what}: {program} ended: {}", first_line(&output))
        }
        PluginEnd::TimedOut => tracing::warn!(
            "{what}: {program} timed out after {}; killed with its process group",
            humantime::format_duration(timeout)
        ),
        PluginEnd::NotStarted(why) => {
            tracing::error!("{what}: not started: {}", first_line(&why))
        }
    }
}

/// The first line of a text, cut at [`LOGGED_OUTPUT`] bytes (on a character).
fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim_end();
    if line.is_empty() {
        return "(no output)".into();
    }
    let mut end = line.len().min(LOGGED_OUTPUT);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < line.len() { "..." } else { "" };
    format!("{}{cut}", line[..end].escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_logged_output_is_one_bounded_line() {
        assert_eq!(first_line("fine\nmore\n"), "fine");
        assert_eq!(first_line(""), "(no output)");
        let long = "é".repeat(300);
        let cut = first_line(&long);
        assert!(
            cut.ends_with("...") && cut.len() <= LOGGED_OUTPUT + 3,
            "{cut}"
        );
        assert_eq!(first_line("a\tb\u{1b}[31m"), "a\\tb\\u{1b}[31m");
    }

    #[test]
    fn events_beyond_the_running_and_waiting_ones_are_skipped() {
        let rt = crate::spawn::tests::rt();
        rt.block_on(async {
            let mut r = Runner::new(Limits::default());
            let job = Job {
                global: false,
                host: "h".into(),
                service: Some("s".into()),
                seen: Seen {
                    state: "CRITICAL",
                    state_type: crate::state::StateType::Soft,
                    attempt: 1,
                },
                line: "/bin/sleep 30".into(),
                argv: vec!["/bin/sleep".into(), "30".into()],
                env: Vec::new(),
            };
            let timeout = Duration::from_secs(60);
            for i in 0..MAX_RUNNING + MAX_WAITING {
                assert!(r.start(vec![job.clone()], timeout), "event {i}");
            }
            assert!(!r.start(vec![job.clone()], timeout));
            assert_eq!(PENDING.load(Ordering::SeqCst), MAX_RUNNING + MAX_WAITING);
            assert!(!r.start(Vec::new(), timeout), "nothing to run");
        });
        // the runtime gone, every event is counted out (its processes killed)
        drop(rt);
        assert_eq!(PENDING.load(Ordering::SeqCst), 0);
    }
}
