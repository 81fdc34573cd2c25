//! What the core keeps to feed the history store ([`crate::history::store`]) beside
//! its running objects: the commit a state change's notifications wait for
//! ([`Gate`]), the tickets an admin action's answer waits for, the downtimes the
//! store was told have started, and why the store could not be opened. The core's
//! side of the feed is [`crate::historyfeed`]; a notification carries a [`Delivery`]
//! so that the notifier records what came of it.

use crate::history::store::{History, Ticket};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How long a notification, or the answer to an admin action, waits for the history
/// store to commit what it follows; past this it goes on (and says so).
pub const COMMIT_WAIT: Duration = Duration::from_secs(10);

/// A commit that any number of notifications wait for: the state change they tell
/// of, durable in the history store before any of them is sent.
#[derive(Clone)]
pub struct Gate(Arc<tokio::sync::Mutex<Gated>>);

enum Gated {
    Pending(Ticket),
    Committed(bool),
}

impl Gate {
    pub fn new(ticket: Ticket) -> Gate {
        Gate(Arc::new(tokio::sync::Mutex::new(Gated::Pending(ticket))))
    }

    /// Waits (at most [`COMMIT_WAIT`]) until the event is committed; whether it was.
    pub async fn committed(&self) -> bool {
        let mut g = self.0.lock().await;
        if let Gated::Pending(_) = &*g {
            let Gated::Pending(ticket) = std::mem::replace(&mut *g, Gated::Committed(false)) else {
                unreachable!()
            };
            let done = tokio::time::timeout(COMMIT_WAIT, ticket.done()).await;
            *g = Gated::Committed(done.unwrap_or(false));
        }
        matches!(*g, Gated::Committed(true))
    }
}

/// What a notification carries for the history: the store its results are recorded
/// in and the commit it waits for before it is sent. Not part of what a notification
/// says: two notices compare equal whatever their deliveries.
#[derive(Clone, Default)]
pub struct Delivery {
    pub history: Option<History>,
    pub after: Option<Gate>,
}

impl Delivery {
    /// Waits for the commit the notification follows; `false` when it did not come
    /// (the notification is sent anyway: a broken store never silences the alerts).
    pub async fn ready(&self) -> bool {
        match &self.after {
            Some(g) => g.committed().await,
            None => true,
        }
    }
}

impl PartialEq for Delivery {
    fn eq(&self, _: &Delivery) -> bool {
        true
    }
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("history", &self.history.is_some())
            .field("after", &self.after.is_some())
            .finish()
    }
}

/// What the history keeps of a plugin's output: its first line without its perfdata,
/// trimmed (as Nagios' alert lines, `;` kept).
pub fn summary(output: &str) -> String {
    let first = output.lines().next().unwrap_or("");
    first
        .split_once('|')
        .map_or(first, |(s, _)| s)
        .trim()
        .to_string()
}

/// The core's feed state, carried across reloads with the store.
#[derive(Default)]
pub struct Feed {
    /// The commit of the state change being applied: its notifications wait for it.
    pub gate: Option<Gate>,
    /// The events of the admin action under way: its answer waits for them.
    pub waits: Vec<Ticket>,
    /// The downtimes (id → object key) the store has been told have started.
    pub started: HashMap<u64, String>,
    /// The objects (keys) the store has been told are acknowledged.
    pub acked: std::collections::HashSet<String>,
    /// Why the store could not be opened (`[history] enabled` but none).
    pub open_error: Option<String>,
    /// The last admin action answered without its events committed (the self-check
    /// says so until a reload); set off the core lock by the action's wait.
    pub unrecorded: Arc<std::sync::Mutex<Option<String>>>,
}

impl Feed {
    /// Takes the tickets of the admin action under way: a wait for all of them to be
    /// committed (at most [`COMMIT_WAIT`] in all). Never an error: the action is
    /// applied and journaled whatever the store does (an answer of failure would have
    /// it retried, and done twice); one not recorded is logged and noted in
    /// [`Feed::unrecorded`] for the `hcoop-monitor/history` self-check.
    pub fn take_waits(&mut self) -> Option<impl FnOnce() -> Result<(), String> + Send> {
        if self.waits.is_empty() {
            return None;
        }
        let tickets = std::mem::take(&mut self.waits);
        let unrecorded = self.unrecorded.clone();
        Some(move || {
            let until = std::time::Instant::now() + COMMIT_WAIT;
            let n = tickets.len();
            let mut missing = 0;
            for t in tickets {
                let left = until.saturating_duration_since(std::time::Instant::now());
                if !t.wait(left) {
                    missing += 1;
                }
            }
            if missing > 0 {
                let why = format!(
                    "{missing} of the {n} events of an admin action not recorded in the history store (the action was applied and saved)"
                );
                tracing::error!("{why}");
                *unrecorded.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
            }
            Ok(())
        })
    }
}
