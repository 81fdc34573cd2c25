//! hcoop-monitor: runs the hcoop-plugins checks for a set of hosts and services.
//!
//! # Layers
//! Each module names (`crate::X`) only modules listed before it here (below it, or
//! before it in its own layer), never one after it; the architecture test in the
//! tests crate fails on any import loop. From the bottom:
//! 1. Data and facts: [`state`] (the Nagios state rules, pure), [`clock`], [`timeperiod`]
//!    (Nagios time periods, pure), [`privileges`],
//!    [`handler`] (event handler commands and when they run, pure),
//!    [`slots`], [`lateness`], [`registry`] (a check built from its name), [`auth`] (who
//!    may use the API), [`retention`] and [`journal`] (the state files), and
//!    [`config`] (the configuration as plain data, with the `[forward]` and `[nrpe]`
//!    sections as written in [`config::sections`]), [`history`] (the embedded history
//!    store: events, consolidated perfdata, availability; pure of the core).
//! 2. The executor: [`spawn`] (a plugin process, its limits) under [`exec`] (one check
//!    run in-process or as a process, a structured [`exec::Outcome`]).
//! 3. Outbound edges the core hands results and notices to: [`notify`], [`forward`],
//!    [`eventlog`]; [`recording`] (the commits notifications and answers wait for);
//!    [`handlers`] (event handlers run as the plugin user);
//!    and the NRPE agent, [`nrpe`].
//! 4. The core: [`daemon`] (the running objects and what changes them), with
//!    [`escalation`] (escalated recipients and re-notification intervals).
//!    [`eventhandlers`]: which event handlers run after a result.
//!    [`historyfeed`]: what the core records in the history store (beside [`alerts`]).
//! 5. Inbound edges: [`admin`] and [`actions`] (admin actions on the core), [`http`]
//!    (the API, metrics, the page), [`web`] (the web UI's pages, sessions and forms),
//!    [`listeners`], [`startup`] (what is done as root;
//!    the plugin user).
//! 6. The running daemon: [`scheduler`] (the loop, reload, saving, start and stop).
//! 7. Commands: [`checkall`], [`client`], [`import`], [`cli`] (and `main`).
//!
//! # Modules
//! - [`cli`]: the command line of `hcoop-monitor`.
//! - [`config`]: TOML configuration (a directory of files, or the embedded default).
//! - [`registry`]: the one place a check is built from its name.
//! - [`clock`]: Unix time, and the scheduler's clock (tokio's, so tests pause it).
//! - [`timeperiod`]: Nagios time period definitions: parsed, resolved with their
//!   exclusions, asked whether a time is in a period and when the next one is.
//! - [`nrpe`]: the NRPE agent (`hcoop-monitor nrpe`): serves an nrpe.cfg to
//!   Nagios's check_nrpe over TLS or plain TCP.
//! - [`exec`]: running one check, built-in in-process or as an external plugin, into
//!   a structured outcome; text only at the edges.
//! - [`spawn`]: starting an external plugin (cloned without copying the daemon's
//!   memory, limits and user set before the exec) and its process group registry.
//! - [`prepared`]: checks prepared once per distinct check while the daemon builds.
//! - [`privileges`]: looking up accounts and leaving root for good (ids, groups,
//!   capabilities kept), verified.
//! - [`checkall`]: run every configured check once, concurrently, and print a table.
//! - [`import`]: a Nagios configuration read (templates, groups, dependencies, ...)
//!   and written as our TOML, with a report of what is not carried over.
//! - [`daemon`]: the core: the running objects, results applied, downtimes,
//!   self-checks, compaction of the journal.
//! - [`groups`]: host, service and contact groups in the core (layer 4, beside
//!   [`daemon`]): a notification's contacts, a group's targets, the API's group filters
//!   and counts.
//! - [`escalation`]: notification escalations in the core: who takes an escalated
//!   notification, and the interval of the next one.
//! - [`scheduler`]: the scheduler loop (named handlers), reload, saving, shutdown;
//!   `run(setup, listener, shutdown, clock)`.
//! - [`retention`]: the state files (snapshot and journal) in a directory only the
//!   daemon may write, opened without following symlinks; loading, damaged files moved
//!   aside.
//! - [`journal`]: every change journaled by a writer thread (group commit, admin
//!   actions fsynced before they are answered), compaction into a new snapshot, the
//!   `hcoop-monitor/retention` self-check.
//! - [`lateness`]: how late checks start against their schedule (a histogram).
//! - [`notify`]: notifications by email (SMTP) and by command.
//! - [`eventlog`]: the event log in the grammar of Nagios' nagios.log (alerts,
//!   notifications, event handlers, flapping, downtimes), written by a thread of its own.
//! - [`alerts`]: what the core writes to the event log, and when (as Nagios 4 does).
//! - [`historyfeed`]: what the core records in the history store (state changes,
//!   perfdata, downtimes, acknowledgements, flapping, reloads), durable before acted on.
//! - [`recording`]: what the core keeps to feed the history store (the commits that
//!   notifications and admin answers wait for).
//! - [`forward`]: passive results handed to Nagios (external command file) and
//!   other peers through bounded queues.
//! - [`http`]: the status listener (JSON API, Prometheus metrics, status page) on TCP
//!   and on the control socket, with bounded connections.
//! - [`admin`]: admin actions (unacknowledge, downtimes, comments) and their input bounds.
//! - [`passive`]: submitted (passive) results applied as check results, and freshness.
//! - [`external`]: Nagios' external command lines, parsed (pure) and carried out.
//! - [`cmdfile`]: the external command file (a FIFO), made, checked and read.
//! - [`actions`]: admin actions on several objects or groups at once: active checks
//!   and notifications switched on and off, checks run now, acknowledgements and
//!   downtimes.
//! - [`startup`]: what the daemon does as root (control socket, open-file limit), then
//!   dropping to `[daemon] user` with only the capabilities its checks need; the
//!   limits and user of external plugins.
//! - [`listeners`]: the API on TCP (bound again while a squatter holds the port) and
//!   on the control socket (a directory only the daemon may write).
//! - [`slots`]: connection slots, a total and a share per peer, for every listener.
//! - [`auth`]: who may use the API (peer uid on the control socket, tokens over TCP).
//! - [`client`]: the `status`, `ack`, `downtime`, ... commands, talking to the API
//!   through the control socket (or over TCP with a token).
//! - [`state`]: the Nagios state rules (soft/hard, flapping, acks, downtimes,
//!   notification decisions), pure, with the clock passed in.
//! - [`handler`]: event handler commands (argv, macros, no shell) and Nagios' rule
//!   of when they run, pure.
//! - [`handlers`]: event handlers run in tasks off the core lock, bounded, as the
//!   plugin user.
//! - [`eventhandlers`]: which handlers run after a result, with their macros.

pub mod actions;
pub mod admin;
pub mod alerts;
pub mod auth;
pub mod checkall;
pub mod cli;
pub mod client;
pub mod clock;
pub mod cmdfile;
pub mod config;
pub mod daemon;
pub mod escalation;
pub mod eventhandlers;
pub mod eventlog;
pub mod events;
pub mod exec;
pub mod external;
pub mod forward;
pub mod groups;
pub mod handler;
pub mod handlers;
pub mod history;
pub mod historyfeed;
pub mod http;
pub mod import;
pub mod journal;
pub mod lateness;
pub mod listeners;
pub mod notify;
pub mod nrpe;
pub mod passive;
pub mod prepared;
pub mod privileges;
pub mod recording;
pub mod registry;
pub mod retention;
pub mod scheduler;
pub mod select;
pub mod slots;
pub mod spawn;
pub mod startup;
pub mod state;
pub mod timeperiod;
pub mod web;
