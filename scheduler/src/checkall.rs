//! `hcoop-monitor check-all`: every configured check once, concurrently, as a table.

use crate::config::{CheckSpec, Config, Service};
use crate::exec::{Limits, Outcome, Runnable};
use hcoop_plugins::plugin::State;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// One row of the table.
#[derive(Debug, Clone)]
pub struct Row {
    pub host: String,
    pub service: String,
    pub outcome: Outcome,
}

/// Runs every service once, at most `concurrency` at a time; rows in config order.
pub async fn run_all(config: &Config, concurrency: usize) -> Vec<Row> {
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    // external plugins run as the daemon would run them (the plugin user under root)
    let limits = Limits::from_config(config);
    let tasks: Vec<_> = config
        .services
        .iter()
        // passive-only services have no check to run
        .filter(|s| !matches!(*s.check, CheckSpec::Passive))
        .map(|s| {
            let gate = gate.clone();
            let s: Service = s.clone();
            let limits = limits.clone();
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                let prepared = match (limits, &*s.check) {
                    (Err(e), CheckSpec::External { .. }) => Err(e),
                    (l, _) => {
                        Runnable::prepare(&s.check, s.schedule.timeout, l.unwrap_or_default())
                    }
                };
                let outcome = match prepared {
                    Ok(r) => r.run().await,
                    Err(e) => Outcome::unknown(&e),
                };
                Row {
                    host: s.host,
                    service: s.name,
                    outcome,
                }
            })
        })
        .collect();
    let mut rows = Vec::with_capacity(tasks.len());
    for t in tasks {
        if let Ok(row) = t.await {
            rows.push(row);
        }
    }
    rows
}

/// The table: host, service, state, time, summary.
pub fn render_table(rows: &[Row]) -> String {
    let head = ("HOST", "SERVICE", "STATE", "TIME");
    let w_host = rows
        .iter()
        .map(|r| r.host.len())
        .chain([head.0.len()])
        .max()
        .unwrap_or(4);
    let w_svc = rows
        .iter()
        .map(|r| r.service.len())
        .chain([head.1.len()])
        .max()
        .unwrap_or(7);
    let mut out = format!(
        "{:w_host$}  {:w_svc$}  {:8}  {:>8}  SUMMARY\n",
        head.0, head.1, head.2, head.3
    );
    for r in rows {
        out.push_str(&format!(
            "{:w_host$}  {:w_svc$}  {:8}  {:>6}ms  {}\n",
            r.host,
            r.service,
            r.outcome.state().as_str(),
            r.outcome.duration.as_millis(),
            r.outcome.summary()
        ));
    }
    out
}

/// The worst state of all rows.
pub fn worst(rows: &[Row]) -> State {
    State::worst_of(rows.iter().map(|r| r.outcome.state()))
}
