//! Host and service dependencies: `[[servicedependency]]` and `[[hostdependency]]` as
//! written, resolved at load to indices (per dependent object, the list of its masters
//! with their failure criteria), refused when they name what does not exist or form a
//! cycle; and the question the core asks of them: does a dependency of this object fail
//! now, and which.
//!
//! As in Nagios 4, a dependency with both kinds of criteria is two dependencies, one of
//! execution and one of notification; a kind whose criteria are `n` does not exist (it
//! never fails and takes no part in the cycle check). A dependency fails when the
//! state of its master matches one of its letters (`p`: never checked), inside its
//! `dependency_period` only, or, with `inherits_parent`, when a dependency of the same
//! kind of its master fails (and so on up). The master's state is its last hard state
//! while it is in a soft state, unless `[daemon] soft_state_dependencies`.

use crate::clock::Time;
use crate::state::{Condition, HostState, Record, StateType};
use hcoop_plugins::plugin::State;
use serde::Deserialize;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use toml::Spanned;

use super::{Config, Periods};

/// The criterion bit of a master never checked (`p`).
pub const PENDING: u8 = 1 << 4;

fn never() -> String {
    "n".into()
}

/// A `[[servicedependency]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceDependencyFile {
    /// The master's host (Nagios' `host_name`).
    pub host: Spanned<String>,
    /// The master service (`service_description`).
    pub service: String,
    /// The dependent's host; unset: the master's.
    pub dependent_host: Option<String>,
    pub dependent_service: String,
    #[serde(default = "never")]
    pub execution_failure_criteria: String,
    #[serde(default = "never")]
    pub notification_failure_criteria: String,
    #[serde(default)]
    pub inherits_parent: bool,
    pub dependency_period: Option<String>,
}

/// A `[[hostdependency]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostDependencyFile {
    /// The master host (Nagios' `host_name`).
    pub host: Spanned<String>,
    pub dependent_host: String,
    #[serde(default = "never")]
    pub execution_failure_criteria: String,
    #[serde(default = "never")]
    pub notification_failure_criteria: String,
    #[serde(default)]
    pub inherits_parent: bool,
    pub dependency_period: Option<String>,
}

/// Execution (a failure holds the dependent's checks) or notification (a failure holds
/// back its problem and recovery notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Execution,
    Notification,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Execution => "execution",
            Kind::Notification => "notification",
        }
    }
}

/// A state as a failure criterion: its letter's bit.
pub trait Criterion: Condition {
    /// The letters a dependency of this kind of object takes, with their bits.
    const LETTERS: &'static [(char, u8)];
    /// The bit of this state.
    fn bit(self) -> u8;
}

impl Criterion for State {
    const LETTERS: &'static [(char, u8)] = &[
        ('o', 1),
        ('w', 1 << 1),
        ('u', 1 << 3),
        ('c', 1 << 2),
        ('p', PENDING),
    ];
    fn bit(self) -> u8 {
        match self {
            State::Ok => 1,
            State::Warning => 1 << 1,
            State::Critical => 1 << 2,
            State::Unknown => 1 << 3,
        }
    }
}

impl Criterion for HostState {
    const LETTERS: &'static [(char, u8)] =
        &[('o', 1), ('d', 1 << 1), ('u', 1 << 2), ('p', PENDING)];
    fn bit(self) -> u8 {
        match self {
            HostState::Up => 1,
            HostState::Down => 1 << 1,
            HostState::Unreachable => 1 << 2,
        }
    }
}

/// What a master's record says to its dependencies: the bits its state matches and the
/// state's name. Its last hard state while it is soft (unless `soft`, Nagios'
/// `soft_state_dependencies`); never checked: pending, and its initial state (OK or UP,
/// which `o` matches, as in Nagios).
pub fn observed<C: Criterion>(r: &Record<C>, soft: bool) -> (u8, &'static str) {
    if !r.checked {
        return (PENDING | r.state.bit(), "PENDING");
    }
    let state = if r.state_type == StateType::Soft && !soft {
        r.last_hard_state
    } else {
        r.state
    };
    (state.bit(), state.name())
}

/// Failure criteria as written ("c,u", "n") as bits; `n` alone is none.
fn criteria(text: &str, letters: &[(char, u8)]) -> Result<u8, String> {
    let all = || {
        letters
            .iter()
            .map(|(c, _)| c.to_string())
            .chain(std::iter::once("n".into()))
            .collect::<Vec<_>>()
            .join(",")
    };
    let words: Vec<&str> = text.split(',').map(str::trim).collect();
    if words.contains(&"n") {
        return if words.len() == 1 {
            Ok(0)
        } else {
            Err("'n' (never fails) cannot be combined with other letters".into())
        };
    }
    let mut bits = 0;
    for w in words {
        let mut chars = w.chars();
        let found = match (chars.next(), chars.next()) {
            (Some(c), None) => letters.iter().find(|(l, _)| *l == c),
            _ => None,
        };
        match found {
            Some((_, b)) => bits |= b,
            None => return Err(format!("'{w}' is not one of {}", all())),
        }
    }
    Ok(bits)
}

/// One dependency of a dependent object on its master.
#[derive(Debug, Clone, PartialEq)]
pub struct Dep {
    /// The master's index (into the configuration's services, or hosts).
    pub master: usize,
    /// The bits of the master's states that fail it.
    pub criteria: u8,
    pub inherits: bool,
    /// Outside this time period the dependency does not fail.
    pub period: Option<Arc<str>>,
    /// The entry it came from (its place, for errors).
    entry: usize,
}

/// The dependencies of one kind of object (services, or hosts), by dependent index.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    execution: Vec<Vec<Dep>>,
    notification: Vec<Vec<Dep>>,
}

/// A failed dependency: the master `via` the dependent depends on directly, and the
/// master whose state failed (`via` itself, or one up the chain by `inherits_parent`)
/// with the name of that state.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub via: usize,
    pub master: usize,
    pub state: &'static str,
}

impl Failure {
    /// "execution dependency on db1/postgres (CRITICAL) failed", or with the master it
    /// was inherited from; `name` names an object by index, `what` goes before the kind
    /// ("host " for a service's host's dependencies).
    pub fn describe<'a>(&self, kind: Kind, what: &str, name: impl Fn(usize) -> &'a str) -> String {
        let kind = kind.name();
        if self.via == self.master {
            format!(
                "{what}{kind} dependency on {} ({}) failed",
                name(self.via),
                self.state
            )
        } else {
            format!(
                "{what}{kind} dependency on {} failed: inherited from {} ({})",
                name(self.via),
                name(self.master),
                self.state
            )
        }
    }
}

impl Graph {
    fn of(&self, kind: Kind) -> &[Vec<Dep>] {
        match kind {
            Kind::Execution => &self.execution,
            Kind::Notification => &self.notification,
        }
    }

    /// The dependencies of `kind` of `dependent`.
    pub fn deps(&self, kind: Kind, dependent: usize) -> &[Dep] {
        self.of(kind).get(dependent).map_or(&[], Vec::as_slice)
    }

    /// How many dependencies there are (of both kinds).
    pub fn len(&self) -> usize {
        let count = |g: &[Vec<Dep>]| g.iter().map(Vec::len).sum::<usize>();
        count(&self.execution) + count(&self.notification)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The first dependency of `kind` of `dependent` that fails at `now` (`None`: none
    /// fails). `state(master)` is what the master's record says ([`observed`]). Each
    /// master is looked at once however many paths lead to it, so the work is bounded
    /// by the number of dependencies.
    pub fn failure(
        &self,
        kind: Kind,
        dependent: usize,
        periods: &Periods,
        now: Time,
        state: impl Fn(usize) -> (u8, &'static str),
    ) -> Option<Failure> {
        let first = self.deps(kind, dependent);
        if first.is_empty() {
            return None;
        }
        let mut todo: Vec<(&[Dep], Option<usize>)> = vec![(first, None)];
        let mut seen = HashSet::new();
        while let Some((deps, via)) = todo.pop() {
            for d in deps {
                if d.period
                    .as_deref()
                    .is_some_and(|p| !periods.contains(p, now))
                {
                    continue;
                }
                let via = via.unwrap_or(d.master);
                let (bits, name) = state(d.master);
                if d.criteria & bits != 0 {
                    return Some(Failure {
                        via,
                        master: d.master,
                        state: name,
                    });
                }
                if d.inherits && seen.insert(d.master) {
                    todo.push((self.deps(kind, d.master), Some(via)));
                }
            }
        }
        None
    }
}

/// The resolved dependencies of a configuration.
#[derive(Debug, Clone, Default)]
pub struct Dependencies {
    /// Service dependencies by service index.
    pub services: Graph,
    /// Host dependencies by host index.
    pub hosts: Graph,
}

/// The names written in the files, refused objects too: a dependency naming a refused
/// object is not reported as well.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub hosts: HashSet<String>,
    pub services: HashSet<(String, String)>,
}

/// One dependency entry before resolution, either kind of object.
struct Entry {
    at: String,
    /// (host, service) of the master and of the dependent (service `None` for hosts).
    master: Name,
    dependent: Name,
    execution: String,
    notification: String,
    inherits: bool,
    period: Option<String>,
}

/// An object by name: (host, service), the service `None` for a host.
type Name = (String, Option<String>);

/// Resolves a name to an index; an empty error: written but refused.
type Find<'a> = &'a dyn Fn(&Name) -> Result<usize, String>;

fn key(o: &Name) -> String {
    match &o.1 {
        Some(s) => format!("{}/{s}", o.0),
        None => o.0.clone(),
    }
}

/// Resolves the entries (each with its place) against the configuration's hosts,
/// services and time periods; every problem goes to `errors` with its place.
pub(super) fn resolve(
    services: Vec<(String, ServiceDependencyFile)>,
    hosts: Vec<(String, HostDependencyFile)>,
    config: &Config,
    written: &Written,
    errors: &mut Vec<String>,
) -> Dependencies {
    let service_entries: Vec<Entry> = services
        .into_iter()
        .map(|(at, d)| {
            let host = d.host.into_inner();
            let dependent_host = d.dependent_host.unwrap_or_else(|| host.clone());
            Entry {
                at,
                master: (host, Some(d.service)),
                dependent: (dependent_host, Some(d.dependent_service)),
                execution: d.execution_failure_criteria,
                notification: d.notification_failure_criteria,
                inherits: d.inherits_parent,
                period: d.dependency_period,
            }
        })
        .collect();
    let host_entries: Vec<Entry> = hosts
        .into_iter()
        .map(|(at, d)| Entry {
            at,
            master: (d.host.into_inner(), None),
            dependent: (d.dependent_host, None),
            execution: d.execution_failure_criteria,
            notification: d.notification_failure_criteria,
            inherits: d.inherits_parent,
            period: d.dependency_period,
        })
        .collect();
    let host_index = config.host_indices();
    let mut service_index: HashMap<(&str, &str), usize> = HashMap::new();
    if !service_entries.is_empty() {
        service_index.reserve(config.services.len());
        for (i, s) in config.services.iter().enumerate() {
            service_index
                .entry((s.host.as_str(), s.name.as_str()))
                .or_insert(i);
        }
    }
    // an empty error: the object was written but refused (reported for itself)
    let find = |o: &Name| -> Result<usize, String> {
        let (h, s) = (&o.0, &o.1);
        let host_known = host_index.contains_key(h.as_str()) || written.hosts.contains(h);
        match s {
            None => host_index.get(h.as_str()).copied().ok_or_else(|| {
                if host_known {
                    String::new()
                } else {
                    format!("no host named '{h}'")
                }
            }),
            Some(s) => service_index
                .get(&(h.as_str(), s.as_str()))
                .copied()
                .ok_or_else(|| {
                    if written.services.contains(&(h.clone(), s.clone())) {
                        String::new()
                    } else if host_known {
                        format!("no service '{s}' on host '{h}'")
                    } else {
                        format!("no host named '{h}'")
                    }
                }),
        }
    };
    let services = graph::<State>(
        "servicedependency",
        &service_entries,
        config.services.len(),
        &find,
        &config.periods,
        errors,
    );
    let hosts = graph::<HostState>(
        "hostdependency",
        &host_entries,
        config.hosts.len(),
        &find,
        &config.periods,
        errors,
    );
    Dependencies { services, hosts }
}

/// The graph of one kind of object from its entries: `find` resolves a name to an
/// index (an empty error: the object was refused, already reported).
fn graph<C: Criterion>(
    section: &str,
    entries: &[Entry],
    objects: usize,
    find: Find<'_>,
    periods: &Periods,
    errors: &mut Vec<String>,
) -> Graph {
    let mut g = Graph::default();
    if entries.is_empty() {
        return g;
    }
    g.execution = vec![Vec::new(); objects];
    g.notification = vec![Vec::new(); objects];
    // one shared name per period
    let mut period_names: HashMap<&str, Arc<str>> = HashMap::new();
    for (n, e) in entries.iter().enumerate() {
        let at = format!(
            "{}: {section} '{}' on '{}'",
            e.at,
            key(&e.dependent),
            key(&e.master)
        );
        let before = errors.len();
        let mut ends = [find(&e.master), find(&e.dependent)].map(|r| {
            r.map_err(|why| {
                if !why.is_empty() {
                    errors.push(format!("{at}: {why}"));
                }
            })
            .ok()
        });
        let kinds = [
            ("execution_failure_criteria", &e.execution),
            ("notification_failure_criteria", &e.notification),
        ]
        .map(|(name, text)| {
            criteria(text, C::LETTERS)
                .map_err(|why| errors.push(format!("{at}: {name} '{text}': {why}")))
                .unwrap_or(0)
        });
        let period = e.period.as_deref().and_then(|p| {
            if !periods.has(p) {
                errors.push(format!("{at}: no time period named '{p}'"));
                return None;
            }
            Some(period_names.entry(p).or_insert_with(|| p.into()).clone())
        });
        if let [Some(m), Some(d)] = ends {
            if m == d {
                errors.push(format!("{at}: depends on itself"));
                ends = [None, None];
            }
        }
        let [Some(master), Some(dependent)] = ends else {
            continue;
        };
        if errors.len() > before {
            continue;
        }
        for (bits, list) in [
            (kinds[0], &mut g.execution[dependent]),
            (kinds[1], &mut g.notification[dependent]),
        ] {
            if bits == 0 {
                continue;
            }
            let dep = Dep {
                master,
                criteria: bits,
                inherits: e.inherits,
                period: period.clone(),
                entry: n,
            };
            // the same dependency twice is one (as Nagios)
            if !list.iter().any(|x| {
                Dep {
                    entry: n,
                    ..x.clone()
                } == dep
            }) {
                list.push(dep);
            }
        }
    }
    for (kind, deps) in [
        (Kind::Execution, &g.execution),
        (Kind::Notification, &g.notification),
    ] {
        for cycle in cycles(deps) {
            let (dependent, i) = cycle[0];
            let e = &entries[deps[dependent][i].entry];
            let mut names: Vec<String> = cycle
                .iter()
                .map(|&(d, _)| d)
                .chain(std::iter::once(dependent))
                .map(|d| name_of(entries, deps, d))
                .collect();
            // a long cycle by its ends: the message stays readable
            if names.len() > 2 * CYCLE_ENDS {
                let more = names.len() - 2 * CYCLE_ENDS;
                names.splice(
                    CYCLE_ENDS..names.len() - CYCLE_ENDS,
                    [format!("... {more} more")],
                );
            }
            errors.push(format!(
                "{}: {section} '{}' on '{}': circular {} dependency: {} (each depends on the next)",
                e.at,
                key(&e.dependent),
                key(&e.master),
                kind.name(),
                names.join(" -> ")
            ));
        }
    }
    g
}

/// How many objects of each end of a long cycle its error names.
const CYCLE_ENDS: usize = 16;

/// The name of object `d` as an entry writes it (it is a dependent or a master of one).
fn name_of(entries: &[Entry], deps: &[Vec<Dep>], d: usize) -> String {
    if let Some(dep) = deps[d].first() {
        return key(&entries[dep.entry].dependent);
    }
    deps.iter()
        .flatten()
        .find(|x| x.master == d)
        .map_or_else(|| d.to_string(), |x| key(&entries[x.entry].master))
}

/// The cycles of a dependency graph, each once: found by a depth-first search (without
/// recursion: chains may be long), each as the path of (object, index of the
/// dependency followed) that starts at the dependency closing it.
fn cycles(deps: &[Vec<Dep>]) -> Vec<Vec<(usize, usize)>> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut mark = vec![NEW; deps.len()];
    let mut found = Vec::new();
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for start in 0..deps.len() {
        if mark[start] != NEW || deps[start].is_empty() {
            continue;
        }
        mark[start] = OPEN;
        stack.push((start, 0));
        while let Some(top) = stack.last_mut() {
            let (node, i) = *top;
            let Some(d) = deps[node].get(i) else {
                mark[node] = DONE;
                stack.pop();
                continue;
            };
            top.1 += 1;
            match mark[d.master] {
                NEW => {
                    mark[d.master] = OPEN;
                    stack.push((d.master, 0));
                }
                OPEN => {
                    // node depends on a master still open: the path from that master
                    // down to node, and back
                    let from = stack
                        .iter()
                        .position(|&(n, _)| n == d.master)
                        .expect("an open object is on the stack");
                    let mut cycle = vec![(node, i)];
                    cycle.extend(
                        stack[from..stack.len() - 1]
                            .iter()
                            .map(|&(n, next)| (n, next - 1)),
                    );
                    found.push(cycle);
                }
                _ => {}
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::refused;
    use std::fmt::Write as _;

    /// Hosts a, b, c with services x, y, z each, then `more`.
    fn base(more: &str) -> String {
        let mut t =
            String::from("[[timeperiod]]\nname = \"nights\"\nrules = [\"monday 00:00-06:00\"]\n");
        for h in ["a", "b", "c"] {
            let _ = write!(t, "\n[[host]]\nname = \"{h}\"\naddress = \"127.0.0.1\"\n");
            for s in ["x", "y", "z"] {
                let _ = write!(
                    t,
                    "\n[[service]]\nhost = \"{h}\"\nname = \"{s}\"\ncommand = \"/bin/true\"\n"
                );
            }
        }
        t.push_str(more);
        t
    }

    fn sd(host: &str, service: &str, dependent: &str, more: &str) -> String {
        let (dh, ds) = dependent.split_once('/').unwrap();
        format!(
            "\n[[servicedependency]]\nhost = \"{host}\"\nservice = \"{service}\"\n\
             dependent_host = \"{dh}\"\ndependent_service = \"{ds}\"\n{more}"
        )
    }

    fn hd(host: &str, dependent: &str, more: &str) -> String {
        format!("\n[[hostdependency]]\nhost = \"{host}\"\ndependent_host = \"{dependent}\"\n{more}")
    }

    fn load(text: String) -> Config {
        Config::from_files(vec![(Some("d.toml".into()), text)]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn index(c: &Config, key: &str) -> usize {
        c.services
            .iter()
            .position(|s| format!("{}/{}", s.host, s.name) == key)
            .unwrap()
    }

    #[test]
    fn entries_resolve_to_indices_with_their_criteria() {
        let c = load(base(&format!(
            "{}{}{}",
            sd(
                "a",
                "x",
                "b/y",
                "execution_failure_criteria = \"c,u\"\nnotification_failure_criteria = \"w, c ,u,p\"\n\
                 inherits_parent = true\ndependency_period = \"nights\"\n"
            ),
            // the dependent's host defaults to the master's; "n" makes no dependency
            "\n[[servicedependency]]\nhost = \"a\"\nservice = \"x\"\ndependent_service = \"z\"\n\
             notification_failure_criteria = \"o\"\n",
            hd("a", "c", "execution_failure_criteria = \"d,u\"\n"),
        )));
        let (ax, by, az) = (index(&c, "a/x"), index(&c, "b/y"), index(&c, "a/z"));
        let s = &c.dependencies.services;
        let exec = s.deps(Kind::Execution, by);
        assert_eq!(exec.len(), 1);
        let d = &exec[0];
        assert_eq!(
            (d.master, d.criteria, d.inherits, d.period.as_deref()),
            (ax, 4 | 8, true, Some("nights"))
        );
        assert_eq!(
            s.deps(Kind::Notification, by)[0].criteria,
            2 | 4 | 8 | PENDING
        );
        assert!(s.deps(Kind::Execution, az).is_empty());
        assert_eq!(s.deps(Kind::Notification, az)[0].criteria, 1);
        assert_eq!(s.len(), 3);
        let h = &c.dependencies.hosts;
        assert_eq!(h.deps(Kind::Execution, 2)[0].master, 0);
        assert_eq!(h.deps(Kind::Execution, 2)[0].criteria, 2 | 4);
        assert!(h.deps(Kind::Notification, 2).is_empty());
        // none at all: nothing allocated per object
        let c = load(base(""));
        assert!(c.dependencies.services.execution.is_empty() && c.dependencies.hosts.is_empty());
    }

    #[test]
    fn each_bad_entry_is_one_error_with_its_place() {
        let (s_ay, h_ba) = (
            "servicedependency 'a/y' on 'a/x'",
            "hostdependency 'b' on 'a'",
        );
        let cases = [
            (
                sd("q", "x", "a/y", ""),
                "servicedependency 'a/y' on 'q/x'",
                "no host named 'q'",
            ),
            (
                sd("a", "q", "a/y", ""),
                "servicedependency 'a/y' on 'a/q'",
                "no service 'q' on host 'a'",
            ),
            (
                sd("a", "x", "q/y", ""),
                "servicedependency 'q/y' on 'a/x'",
                "no host named 'q'",
            ),
            (
                sd("a", "x", "b/q", ""),
                "servicedependency 'b/q' on 'a/x'",
                "no service 'q' on host 'b'",
            ),
            (
                sd("a", "x", "a/y", "execution_failure_criteria = \"c,d\"\n"),
                s_ay,
                "execution_failure_criteria 'c,d': 'd' is not one of o,w,u,c,p,n",
            ),
            (
                sd("a", "x", "a/y", "notification_failure_criteria = \"cw\"\n"),
                s_ay,
                "notification_failure_criteria 'cw': 'cw' is not one of o,w,u,c,p,n",
            ),
            (
                sd("a", "x", "a/y", "notification_failure_criteria = \"c,n\"\n"),
                s_ay,
                "notification_failure_criteria 'c,n': 'n' (never fails) cannot be combined \
                 with other letters",
            ),
            (
                sd("a", "x", "a/y", "execution_failure_criteria = \"\"\n"),
                s_ay,
                "execution_failure_criteria '': '' is not one of o,w,u,c,p,n",
            ),
            (
                sd("a", "x", "a/y", "dependency_period = \"days\"\n"),
                s_ay,
                "no time period named 'days'",
            ),
            (
                sd("a", "x", "a/x", "execution_failure_criteria = \"c\"\n"),
                "servicedependency 'a/x' on 'a/x'",
                "depends on itself",
            ),
            (
                hd("a", "b", "execution_failure_criteria = \"w\"\n"),
                h_ba,
                "execution_failure_criteria 'w': 'w' is not one of o,d,u,p,n",
            ),
            (
                hd("a", "a", ""),
                "hostdependency 'a' on 'a'",
                "depends on itself",
            ),
            (
                hd("a", "q", ""),
                "hostdependency 'q' on 'a'",
                "no host named 'q'",
            ),
        ];
        let lines = base("").lines().count();
        for (entry, what, want) in cases {
            let e = refused("d.toml", base(&entry));
            // the entry's `host` line: after the blank line and the table header
            assert_eq!(
                e,
                format!("d.toml:line {}: {what}: {want}", lines + 3),
                "{entry}"
            );
        }
        // a refused service named by a dependency is reported once, for itself
        let e = refused(
            "d.toml",
            base(&format!(
                "\n[[service]]\nhost = \"c\"\nname = \"bad\"\ncheck = \"check_nonexistent\"\n{}",
                sd("c", "bad", "c/x", "execution_failure_criteria = \"c\"\n")
            )),
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("service 'bad' on 'c': no built-in check"), "{e}");
    }

    #[test]
    fn cycles_of_each_kind_are_refused_once_with_their_path() {
        // a/x -> b/y -> c/z -> a/x for execution; notification only a/x <-> b/y
        let text = base(&format!(
            "{}{}{}",
            sd(
                "b",
                "y",
                "a/x",
                "execution_failure_criteria = \"c\"\nnotification_failure_criteria = \"c\"\n"
            ),
            sd("c", "z", "b/y", "execution_failure_criteria = \"c\"\n"),
            sd(
                "a",
                "x",
                "c/z",
                "execution_failure_criteria = \"w\"\nnotification_failure_criteria = \"n\"\n"
            ),
        ));
        let e = refused("d.toml", text.clone());
        let lines: Vec<&str> = e.lines().collect();
        assert_eq!(lines.len(), 1, "{e}");
        assert!(
            lines[0].ends_with(
                "servicedependency 'c/z' on 'a/x': circular execution dependency: \
                 c/z -> a/x -> b/y -> c/z (each depends on the next)"
            ),
            "{e}"
        );
        // a notification cycle too: each kind is reported
        let e = refused(
            "d.toml",
            format!(
                "{text}{}",
                sd("a", "x", "b/y", "notification_failure_criteria = \"u\"\n")
            ),
        );
        assert_eq!(e.lines().count(), 2, "{e}");
        assert!(
            e.contains(
                "circular notification dependency: b/y -> a/x -> b/y (each depends on the next)"
            ),
            "{e}"
        );
        // hosts: a -> b -> a for notification only; execution is a chain
        let e = refused(
            "d.toml",
            base(&format!(
                "{}{}",
                hd(
                    "a",
                    "b",
                    "notification_failure_criteria = \"d\"\nexecution_failure_criteria = \"d\"\n"
                ),
                hd("b", "a", "notification_failure_criteria = \"d,u\"\n"),
            )),
        );
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(
            e.contains(
                ": hostdependency 'b' on 'a': circular notification dependency: b -> a -> b"
            ),
            "{e}"
        );
        // the same cycle written without one of its kinds loads
        load(base(&format!(
            "{}{}",
            hd("a", "b", "notification_failure_criteria = \"d\"\n"),
            hd("b", "a", "execution_failure_criteria = \"d\"\n"),
        )));
    }

    /// `n` services on 10 hosts, each depending on the one before (a chain), closed
    /// into a cycle when `close`.
    fn chain(n: usize, close: bool) -> String {
        let mut t = String::new();
        for h in 0..10 {
            let _ = write!(t, "[[host]]\nname = \"h{h}\"\naddress = \"127.0.0.1\"\n\n");
        }
        for i in 0..n {
            let _ = write!(
                t,
                "[[service]]\nhost = \"h{}\"\nname = \"s{i}\"\ncommand = \"/bin/true\"\n\n",
                i % 10
            );
        }
        for i in 1..n + usize::from(close) {
            let _ = write!(
                t,
                "[[servicedependency]]\nhost = \"h{}\"\nservice = \"s{}\"\n\
                 dependent_host = \"h{}\"\ndependent_service = \"s{}\"\n\
                 execution_failure_criteria = \"c\"\ninherits_parent = true\n\n",
                (i - 1) % 10,
                i - 1,
                (i % n) % 10,
                i % n
            );
        }
        t
    }

    #[test]
    fn long_chains_load_and_a_long_cycle_is_one_error() {
        let n = 20_000;
        let t = std::time::Instant::now();
        let c = load(chain(n, false));
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            t.elapsed()
        );
        assert_eq!(c.dependencies.services.len(), n - 1);
        // the last one inherits the whole chain: a failure at the start is found
        let periods = &c.periods;
        let f = c
            .dependencies
            .services
            .failure(Kind::Execution, n - 1, periods, 0, |m| {
                if m == 0 {
                    (4, "CRITICAL")
                } else {
                    (1, "OK")
                }
            });
        assert_eq!(
            f,
            Some(Failure {
                via: n - 2,
                master: 0,
                state: "CRITICAL"
            })
        );
        let e = refused("d.toml", chain(n, true));
        let head = &e[..e.len().min(500)];
        assert_eq!(e.lines().count(), 1, "{head}");
        assert!(
            e.contains(
                ": servicedependency 'h1/s1' on 'h0/s0': circular execution dependency: \
                 h1/s1 -> h0/s0 -> h9/s19999 -> h8/s19998 -> "
            ),
            "{head}"
        );
        assert!(
            e.contains(" -> h6/s19986 -> ... 19969 more -> h6/s16 -> "),
            "{head}"
        );
        assert!(
            e.ends_with("h2/s2 -> h1/s1 (each depends on the next)"),
            "{head}"
        );
    }

    #[test]
    fn failures_follow_criteria_periods_and_inheritance() {
        // a/z depends on b/z (inherits), b/z on c/z (only at nights, not inherited on),
        // c/z on a/x
        let c = load(base(&format!(
            "{}{}{}",
            sd(
                "b",
                "z",
                "a/z",
                "execution_failure_criteria = \"c\"\ninherits_parent = true\n"
            ),
            sd(
                "c",
                "z",
                "b/z",
                "execution_failure_criteria = \"w,p\"\ndependency_period = \"nights\"\n"
            ),
            sd("a", "x", "c/z", "execution_failure_criteria = \"c\"\n"),
        )));
        let c = Config {
            periods: c.periods.in_zone(crate::timeperiod::Zone::Offset(0)),
            ..c
        };
        let (az, bz, cz, ax) = (
            index(&c, "a/z"),
            index(&c, "b/z"),
            index(&c, "c/z"),
            index(&c, "a/x"),
        );
        // Monday 2023-11-13 03:00 UTC (nights) and 12:00 (not)
        let (night, day) = (1_699_844_400, 1_699_844_400 + 9 * 3600);
        let g = &c.dependencies.services;
        let fail = |states: &[(usize, u8)], now| {
            g.failure(Kind::Execution, az, &c.periods, now, |m| {
                let bits = states.iter().find(|s| s.0 == m).map_or(1, |s| s.1);
                (bits, if bits == PENDING { "PENDING" } else { "X" })
            })
            .map(|f| (f.via, f.master))
        };
        assert_eq!(fail(&[], night), None);
        assert_eq!(fail(&[(bz, 4)], day), Some((bz, bz)));
        // inherited: b/z's own dependency on c/z fails at night only
        assert_eq!(fail(&[(cz, 2)], night), Some((bz, cz)));
        assert_eq!(fail(&[(cz, 2)], day), None);
        assert_eq!(fail(&[(cz, PENDING)], night), Some((bz, cz)));
        // not inherited past b/z's dependency (it does not inherit)
        assert_eq!(fail(&[(ax, 4)], night), None);
        assert_eq!(
            g.failure(Kind::Notification, az, &c.periods, night, |_| (4, "X")),
            None
        );
        let f = Failure {
            via: bz,
            master: cz,
            state: "WARNING",
        };
        let names = [
            "a/x", "a/y", "a/z", "b/x", "b/y", "b/z", "c/x", "c/y", "c/z",
        ];
        assert_eq!(
            f.describe(Kind::Execution, "", |i| names[i]),
            "execution dependency on b/z failed: inherited from c/z (WARNING)"
        );
        assert_eq!(
            Failure {
                via: bz,
                master: bz,
                state: "CRITICAL"
            }
            .describe(Kind::Notification, "host ", |i| names[i]),
            "host notification dependency on b/z (CRITICAL) failed"
        );
    }

    #[test]
    fn a_master_is_observed_by_its_hard_state_unless_soft_states_count() {
        let mut r = Record::<State>::default();
        assert_eq!(observed(&r, false), (PENDING | 1, "PENDING"));
        r.checked = true;
        r.state = State::Critical;
        r.state_type = StateType::Soft;
        assert_eq!(observed(&r, false), (1, "OK"));
        assert_eq!(observed(&r, true), (4, "CRITICAL"));
        r.state_type = StateType::Hard;
        r.last_hard_state = State::Critical;
        assert_eq!(observed(&r, false), (4, "CRITICAL"));
        let h = Record::<HostState> {
            checked: true,
            state: HostState::Unreachable,
            ..Default::default()
        };
        assert_eq!(observed(&h, false), (4, "UNREACHABLE"));
    }
}
