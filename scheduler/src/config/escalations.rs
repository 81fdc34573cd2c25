//! Notification escalations (`[[serviceescalation]]`, `[[hostescalation]]`), as
//! Nagios 4's `define serviceescalation` and `define hostescalation`: from the
//! `first_notification`-th problem notification of a problem to the
//! `last_notification`-th (0: to the end), while the `escalation_period` holds and the
//! state is one of the `escalation_options`, a notification goes to the escalations'
//! contacts instead of the object's own, and problems are re-notified at the shortest
//! `notification_interval` among the escalations then valid.
//!
//! What is written is checked and resolved here once, at load, into a list per
//! escalated host or service ([`Escalations`]); which escalations hold for one
//! notification is [`Escalations::valid`]; the core asks it for recipients and
//! intervals ([`crate::escalation`]).

use super::{opt_duration, Periods};
use crate::clock::Time;
use serde::Deserialize;
use std::collections::HashMap;
use std::time::Duration;
use toml::Spanned;

/// An escalation as written (`service` only in a `[[serviceescalation]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationFile {
    /// The host (Nagios' `host_name`).
    pub host: Spanned<String>,
    /// The service (Nagios' `service_description`).
    pub service: Option<String>,
    /// The number of the first problem notification escalated.
    pub first_notification: u32,
    /// The number of the last problem notification escalated; 0: every one from the
    /// first.
    #[serde(default)]
    pub last_notification: u32,
    /// Re-notify this often while escalated; "0s": no more problem notifications.
    /// Unset: the object's own `notification_interval` (as Nagios inherits it).
    #[serde(default, with = "opt_duration")]
    pub notification_interval: Option<Duration>,
    /// The time period the escalation holds in; unset: all time.
    pub escalation_period: Option<String>,
    /// The states escalated: `w,u,c,r` for services, `d,u,r` for hosts (`r`: the
    /// recovery), `n` for none, `a` for all, or Nagios' words for them (`warning`,
    /// `unreachable`, ...), read in order as Nagios does; unset: all.
    pub escalation_options: Option<String>,
    /// Neither `contacts` nor `contact_groups`: the object's own (as Nagios).
    #[serde(default)]
    pub contacts: Vec<String>,
    #[serde(default)]
    pub contact_groups: Vec<String>,
}

/// One escalation, checked and resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalation {
    pub first_notification: u32,
    /// 0: no end.
    pub last_notification: u32,
    /// Seconds; `None`: the object's own interval.
    pub notification_interval: Option<u64>,
    pub escalation_period: Option<String>,
    /// The option letters escalated (state letters and `r`).
    pub options: String,
    /// Indices into [`super::Config::contacts`]: the contacts and the members of the
    /// contact groups, each once, in the order written.
    pub contacts: Vec<usize>,
}

impl Escalation {
    /// Whether this escalation holds for the notification numbered `number` about a
    /// state of option letter `letter` (`r` for a recovery) at `at` (Nagios'
    /// `is_valid_escalation_for_*_notification`).
    pub fn holds(&self, number: u32, letter: char, at: Time, periods: &Periods) -> bool {
        self.first_notification <= number
            && (self.last_notification == 0 || number <= self.last_notification)
            && self.options.contains(letter)
            && self
                .escalation_period
                .as_ref()
                .is_none_or(|p| periods.contains(p, at))
    }
}

/// Every escalation, found by the host or service it escalates.
#[derive(Debug, Clone, Default)]
pub struct Escalations {
    all: Vec<Escalation>,
    /// By index of [`super::Config::hosts`]: indices into `all`, in the order written.
    hosts: HashMap<usize, Vec<usize>>,
    /// By index of [`super::Config::services`].
    services: HashMap<usize, Vec<usize>>,
}

impl Escalations {
    /// How many escalations there are.
    pub fn len(&self) -> usize {
        self.all.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The escalations of the service (`service`) or host of index `index`, in the
    /// order written.
    pub fn of(&self, index: usize, service: bool) -> impl Iterator<Item = &Escalation> {
        let list = match service {
            true => self.services.get(&index),
            false => self.hosts.get(&index),
        };
        list.into_iter().flatten().map(|&i| &self.all[i])
    }

    /// The escalations of an object (as [`Escalations::of`]) that hold for one
    /// notification ([`Escalation::holds`]).
    pub fn valid<'a>(
        &'a self,
        index: usize,
        service: bool,
        number: u32,
        letter: char,
        at: Time,
        periods: &'a Periods,
    ) -> impl Iterator<Item = &'a Escalation> {
        self.of(index, service)
            .filter(move |e| e.holds(number, letter, at, periods))
    }
}

/// The option letters of service escalations (all of them: the default).
const SERVICE_OPTIONS: &str = "wucr";
/// The option letters of host escalations.
const HOST_OPTIONS: &str = "dur";

/// The long name Nagios also takes for an option letter.
fn word(letter: char, all: &str) -> &'static str {
    match (letter, all == HOST_OPTIONS) {
        ('w', _) => "warning",
        ('u', false) => "unknown",
        ('u', true) => "unreachable",
        ('c', _) => "critical",
        ('d', _) => "down",
        ('r', _) => "recovery",
        _ => "",
    }
}

/// The options an escalation of letters `all` takes, for messages.
fn words(all: &str) -> String {
    let mut names: Vec<String> = all
        .chars()
        .map(|c| format!("{c} ({})", word(c, all)))
        .collect();
    names.extend(["n (none)".into(), "a (all)".into()]);
    names.join(", ")
}

/// The letters of `escalation_options` as written (letters or Nagios' words,
/// separated by commas or spaces, read in order as Nagios does: `n` clears what came
/// before, `a` sets all), among `all`; a bad option is the error.
fn escalation_options(written: &str, all: &str) -> Result<String, String> {
    let mut options = String::new();
    for o in written.split([',', ' ']).filter(|o| !o.is_empty()) {
        match o {
            "n" | "none" => options.clear(),
            "a" | "all" => options = all.to_string(),
            _ => {
                let letter = all
                    .chars()
                    .find(|&c| o.len() == 1 && o.starts_with(c) || o == word(c, all))
                    .ok_or_else(|| o.to_string())?;
                if !options.contains(letter) {
                    options.push(letter);
                }
            }
        }
    }
    Ok(options)
}

/// What resolving escalations needs to know of the rest of the configuration.
pub struct Names<'a> {
    /// Host index by name.
    pub hosts: &'a HashMap<&'a str, usize>,
    /// Service index by host and service name.
    pub services: &'a HashMap<(&'a str, &'a str), usize>,
    /// Contact index by name.
    pub contacts: &'a HashMap<&'a str, usize>,
    /// The contacts (indices) of a contact group; `None`: no group of this name.
    pub group: &'a dyn Fn(&str) -> Option<Vec<usize>>,
    /// The contacts (indices) a service (`true`) or host of an index notifies: its
    /// `contacts`, then its contact groups' members, each once.
    pub own: &'a dyn Fn(bool, usize) -> Vec<usize>,
    pub periods: &'a Periods,
}

/// Checks and resolves the written escalations (each `(place, entry, is_service)`);
/// every problem is pushed to `errors`, naming the entry's place.
pub fn resolve(
    raw: Vec<(String, EscalationFile, bool)>,
    names: &Names,
    errors: &mut Vec<String>,
) -> Escalations {
    let mut out = Escalations::default();
    for (at, e, is_service) in raw {
        let host = e.host.get_ref();
        let (section, all) = if is_service {
            ("serviceescalation", SERVICE_OPTIONS)
        } else {
            ("hostescalation", HOST_OPTIONS)
        };
        let what = match (&e.service, is_service) {
            (Some(s), true) => format!("{at}: {section} '{host}/{s}'"),
            _ => format!("{at}: {section} '{host}'"),
        };
        let before = errors.len();
        let target = match (is_service, &e.service) {
            (true, None) => {
                errors.push(format!("{what}: expected 'service'"));
                None
            }
            (false, Some(_)) => {
                errors.push(format!("{what}: 'service' goes in a [[serviceescalation]]"));
                None
            }
            (true, Some(s)) => match names.services.get(&(host.as_str(), s.as_str())) {
                Some(&i) => Some((true, i)),
                None if names.hosts.contains_key(host.as_str()) => {
                    errors.push(format!("{what}: no service '{s}' on host '{host}'"));
                    None
                }
                None => {
                    errors.push(format!("{what}: no host named '{host}'"));
                    None
                }
            },
            (false, None) => match names.hosts.get(host.as_str()) {
                Some(&i) => Some((false, i)),
                None => {
                    errors.push(format!("{what}: no host named '{host}'"));
                    None
                }
            },
        };
        if e.last_notification != 0 && e.first_notification > e.last_notification {
            errors.push(format!(
                "{what}: first_notification {} is after last_notification {}",
                e.first_notification, e.last_notification
            ));
        }
        let options = match &e.escalation_options {
            None => all.to_string(),
            Some(written) => escalation_options(written, all).unwrap_or_else(|o| {
                errors.push(format!(
                    "{what}: escalation option '{o}' is not one of {}",
                    words(all)
                ));
                String::new()
            }),
        };
        if let Some(p) = &e.escalation_period {
            if !names.periods.has(p) {
                errors.push(format!("{what}: no time period named '{p}'"));
            }
        }
        let mut contacts = Vec::new();
        let mut add = |i: usize| {
            if !contacts.contains(&i) {
                contacts.push(i);
            }
        };
        for c in &e.contacts {
            match names.contacts.get(c.as_str()) {
                Some(&i) => add(i),
                None => errors.push(format!("{what}: no contact named '{c}'")),
            }
        }
        for g in &e.contact_groups {
            match (names.group)(g) {
                Some(members) => members.into_iter().for_each(&mut add),
                None => errors.push(format!("{what}: no contact group named '{g}'")),
            }
        }
        let Some((is_service, index)) = target else {
            continue;
        };
        if e.contacts.is_empty() && e.contact_groups.is_empty() {
            // neither: the object's own (Nagios' inheritance)
            contacts = (names.own)(is_service, index);
        }
        if errors.len() > before {
            continue;
        }
        let list = if is_service {
            &mut out.services
        } else {
            &mut out.hosts
        };
        list.entry(index).or_default().push(out.all.len());
        out.all.push(Escalation {
            first_notification: e.first_notification,
            last_notification: e.last_notification,
            notification_interval: e.notification_interval.map(|d| d.as_secs()),
            escalation_period: e.escalation_period,
            options,
            contacts,
        });
    }
    out
}

impl super::Config {
    /// Checks and resolves the written escalations against this configuration's
    /// hosts, services, contacts, contact groups and time periods.
    pub(super) fn resolve_escalations(
        &self,
        raw: Vec<(String, EscalationFile, bool)>,
        errors: &mut Vec<String>,
    ) -> Escalations {
        let hosts = self.host_indices();
        let mut services = HashMap::with_capacity(self.services.len());
        for (i, s) in self.services.iter().enumerate() {
            services
                .entry((s.host.as_str(), s.name.as_str()))
                .or_insert(i);
        }
        let mut contacts = HashMap::with_capacity(self.contacts.len());
        for (i, c) in self.contacts.iter().enumerate() {
            contacts.entry(c.name.as_str()).or_insert(i);
        }
        let group = |name: &str| -> Option<Vec<usize>> {
            let members = self.contact_group_members(name)?;
            Some(
                members
                    .iter()
                    .filter_map(|m| contacts.get(m.as_str()).copied())
                    .collect(),
            )
        };
        let own = |service: bool, index: usize| -> Vec<usize> {
            let schedule = match service {
                true => &self.services[index].schedule,
                false => &self.hosts[index].schedule,
            };
            let mut own = Vec::new();
            let groups = schedule.contact_groups.iter().filter_map(|g| group(g));
            let named = schedule
                .contacts
                .iter()
                .filter_map(|c| contacts.get(c.as_str()));
            for i in named.copied().chain(groups.flatten()) {
                if !own.contains(&i) {
                    own.push(i);
                }
            }
            own
        };
        let names = Names {
            hosts: &hosts,
            services: &services,
            contacts: &contacts,
            group: &group,
            own: &own,
            periods: &self.periods,
        };
        resolve(raw, &names, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escalation(first: u32, last: u32, options: &str, period: Option<&str>) -> Escalation {
        Escalation {
            first_notification: first,
            last_notification: last,
            notification_interval: None,
            escalation_period: period.map(String::from),
            options: options.into(),
            contacts: vec![0],
        }
    }

    #[test]
    fn an_escalation_holds_from_its_first_to_its_last_notification_in_its_states() {
        let periods = Periods::default();
        let e = escalation(3, 4, "wcr", None);
        let held: Vec<u32> = (0..7).filter(|&n| e.holds(n, 'c', 0, &periods)).collect();
        assert_eq!(held, [3, 4]);
        assert!(!e.holds(3, 'u', 0, &periods));
        assert!(e.holds(4, 'r', 0, &periods));
        let open = escalation(2, 0, "c", None);
        assert!(open.holds(2, 'c', 0, &periods) && open.holds(1000, 'c', 0, &periods));
        assert!(!open.holds(1, 'c', 0, &periods));
        // a period that does not exist holds all time (the configuration refuses one)
        assert!(escalation(1, 0, "c", Some("nowhere")).holds(1, 'c', 0, &periods));
    }

    #[test]
    fn options_are_letters_or_nagios_words_read_in_order() {
        let service = |w: &str| escalation_options(w, SERVICE_OPTIONS);
        let host = |w: &str| escalation_options(w, HOST_OPTIONS);
        assert_eq!(service("w,u,c,r"), Ok("wucr".into()));
        assert_eq!(service("critical, recovery"), Ok("cr".into()));
        assert_eq!(service("c r c"), Ok("cr".into()));
        assert_eq!(service("w,n,c"), Ok("c".into()));
        assert_eq!(service("c,n"), Ok("".into()));
        assert_eq!(service("all"), Ok("wucr".into()));
        assert_eq!(host("d,unreachable,r"), Ok("dur".into()));
        assert_eq!(host("a"), Ok("dur".into()));
        assert_eq!(host("unknown"), Err("unknown".into()));
        assert_eq!(service("down"), Err("down".into()));
        assert_eq!(service("wc"), Err("wc".into()));
    }

    const BASE: &str = "[[timeperiod]]\nname = \"night\"\nrules = [\"monday 00:00-06:00\"]\n\n\
        [[contact]]\nname = \"ops\"\ncommand = \"/bin/true\"\n\n\
        [[contact]]\nname = \"boss\"\ncommand = \"/bin/true\"\n\n\
        [[host]]\nname = \"h\"\naddress = \"127.0.0.1\"\n\n\
        [[service]]\nhost = \"h\"\nname = \"s\"\ncommand = \"/bin/true\"\n\n";

    /// The configuration of [`BASE`] and `more`.
    fn config(more: &str) -> Result<super::super::Config, String> {
        super::super::Config::from_files(vec![(Some("e.toml".into()), format!("{BASE}{more}"))])
            .map_err(|e| e.to_string())
    }

    /// The line of `[[...]]` entry `n` (1-based) of `more` in the file, and its host line.
    fn host_line(more: &str, n: usize) -> usize {
        let start = format!("{BASE}{more}");
        let mut seen = 0;
        for (i, line) in start.lines().enumerate() {
            if line.starts_with("host = ") && i > BASE.lines().count() - 1 {
                seen += 1;
                if seen == n {
                    return i + 1;
                }
            }
        }
        panic!("no entry {n}")
    }

    #[test]
    fn escalations_are_resolved_per_object() {
        let more = "[[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 3\n\
            last_notification = 5\nnotification_interval = \"10m\"\nescalation_period = \"night\"\n\
            escalation_options = \"c, r\"\ncontacts = [\"boss\", \"ops\", \"boss\"]\n\n\
            [[hostescalation]]\nhost = \"h\"\nfirst_notification = 2\ncontacts = [\"ops\"]\n";
        let c = config(more).unwrap();
        assert_eq!(c.escalations.len(), 2);
        let service: Vec<&Escalation> = c.escalations.of(0, true).collect();
        assert_eq!(
            service,
            [&Escalation {
                first_notification: 3,
                last_notification: 5,
                notification_interval: Some(600),
                escalation_period: Some("night".into()),
                options: "cr".into(),
                contacts: vec![1, 0],
            }]
        );
        let host: Vec<&Escalation> = c.escalations.of(0, false).collect();
        assert_eq!(
            host,
            [&Escalation {
                first_notification: 2,
                last_notification: 0,
                notification_interval: None,
                escalation_period: None,
                options: "dur".into(),
                contacts: vec![0],
            }]
        );
        assert_eq!(c.escalations.of(1, true).count(), 0);
        // a contact group's members, after the contacts, each once
        let groups = more.replace(
            "contacts = [\"ops\"]\n",
            "contacts = [\"ops\"]\ncontact_groups = [\"all\"]\n",
        ) + "\n[[contactgroup]]\nname = \"all\"\nmembers = [\"boss\", \"ops\"]\n";
        let c = config(&groups).unwrap();
        let host: Vec<&Vec<usize>> = c.escalations.of(0, false).map(|e| &e.contacts).collect();
        assert_eq!(host, [&vec![0, 1]]);
        let only_groups = groups.replace("contacts = [\"ops\"]\ncontact_groups", "contact_groups");
        let c = config(&only_groups).unwrap();
        let host: Vec<&Vec<usize>> = c.escalations.of(0, false).map(|e| &e.contacts).collect();
        assert_eq!(host, [&vec![1, 0]]);
        // neither contacts nor contact groups: the object's own, as Nagios inherits them
        // (the keys first in `more` are the service's of BASE)
        let inherit = "contacts = [\"boss\"]\ncontact_groups = [\"all\"]\n\n\
            [[contactgroup]]\nname = \"all\"\nmembers = [\"boss\", \"ops\"]\n\n\
            [[serviceescalation]]\nhost = \"h\"\nservice = \"s\"\nfirst_notification = 2\n";
        let c = config(inherit).unwrap();
        let service: Vec<&Vec<usize>> = c.escalations.of(0, true).map(|e| &e.contacts).collect();
        assert_eq!(service, [&vec![1, 0]]);
        // none: nothing is made
        assert!(config("").unwrap().escalations.is_empty());
    }

    #[test]
    fn escalations_of_ten_thousand_services_load_in_little_time() {
        use std::fmt::Write as _;
        let n = 10_000;
        let mut text = String::from(
            "[[contact]]\nname = \"ops\"\ncommand = \"/bin/true\"\n\n\
             [[contact]]\nname = \"boss\"\ncommand = \"/bin/true\"\n\n",
        );
        for h in 0..10 {
            let _ = writeln!(text, "[[host]]\nname = \"h{h}\"\naddress = \"127.0.0.1\"\n");
        }
        for i in 0..n {
            let _ = writeln!(
                text,
                "[[service]]\nhost = \"h{}\"\nname = \"s{i}\"\ncommand = \"/bin/true\"\n",
                i % 10
            );
        }
        let load = |text: String| {
            let t = std::time::Instant::now();
            let c = super::super::Config::from_files(vec![(None, text)]).unwrap();
            (c, t.elapsed())
        };
        let (_, without) = load(text.clone());
        // every service escalated twice, every host once
        for i in 0..n {
            for first in [3, 5] {
                let _ = writeln!(
                    text,
                    "[[serviceescalation]]\nhost = \"h{}\"\nservice = \"s{i}\"\n\
                     first_notification = {first}\ncontacts = [\"boss\"]\n",
                    i % 10
                );
            }
        }
        for h in 0..10 {
            let _ = writeln!(
                text,
                "[[hostescalation]]\nhost = \"h{h}\"\nfirst_notification = 2\ncontacts = [\"boss\"]\n"
            );
        }
        let (c, with) = load(text);
        assert_eq!(c.escalations.len(), 2 * n + 10);
        assert_eq!(c.escalations.of(n - 1, true).count(), 2);
        eprintln!(
            "{n} services: loaded in {without:?}; with {} escalations in {with:?}",
            c.escalations.len()
        );
        // generous for an unoptimised build on a busy machine
        assert!(with < std::time::Duration::from_secs(30), "{with:?}");
    }

    #[test]
    fn each_bad_escalation_is_refused_with_its_place() {
        let entry = |section: &str, body: &str| {
            format!("[[{section}]]\nhost = \"h\"\n{body}\ncontacts = [\"boss\"]\n\n")
        };
        let cases = [
            (
                entry(
                    "serviceescalation",
                    "service = \"t\"\nfirst_notification = 1",
                ),
                "serviceescalation 'h/t': no service 't' on host 'h'",
            ),
            (
                entry(
                    "serviceescalation",
                    "service = \"s\"\nfirst_notification = 1",
                )
                .replace("\"h\"", "\"x\""),
                "serviceescalation 'x/s': no host named 'x'",
            ),
            (
                entry("hostescalation", "first_notification = 1").replace("\"h\"", "\"x\""),
                "hostescalation 'x': no host named 'x'",
            ),
            (
                entry("serviceescalation", "first_notification = 1"),
                "serviceescalation 'h': expected 'service'",
            ),
            (
                entry("hostescalation", "service = \"s\"\nfirst_notification = 1"),
                "hostescalation 'h': 'service' goes in a [[serviceescalation]]",
            ),
            (
                entry(
                    "serviceescalation",
                    "service = \"s\"\nfirst_notification = 4\nlast_notification = 3",
                ),
                "serviceescalation 'h/s': first_notification 4 is after last_notification 3",
            ),
            (
                entry(
                    "serviceescalation",
                    "service = \"s\"\nfirst_notification = 1\nescalation_options = \"w,d\"",
                ),
                "serviceescalation 'h/s': escalation option 'd' is not one of w (warning), \
                 u (unknown), c (critical), r (recovery), n (none), a (all)",
            ),
            (
                entry(
                    "hostescalation",
                    "first_notification = 1\nescalation_options = \"d,c\"",
                ),
                "hostescalation 'h': escalation option 'c' is not one of d (down), \
                 u (unreachable), r (recovery), n (none), a (all)",
            ),
            (
                entry(
                    "serviceescalation",
                    "service = \"s\"\nfirst_notification = 1\nescalation_period = \"day\"",
                ),
                "serviceescalation 'h/s': no time period named 'day'",
            ),
            (
                entry("hostescalation", "first_notification = 1").replace("\"boss\"", "\"nobody\""),
                "hostescalation 'h': no contact named 'nobody'",
            ),
            (
                entry("hostescalation", "first_notification = 1")
                    .replace("contacts = [\"boss\"]", "contact_groups = [\"nobody\"]"),
                "hostescalation 'h': no contact group named 'nobody'",
            ),
        ];
        for (more, want) in cases {
            let e = config(&more).unwrap_err();
            let want = format!("e.toml:line {}: {want}", host_line(&more, 1));
            assert_eq!(e, want, "{more}");
        }
        // a key not known, and a value of the wrong type, name the line
        let more = entry(
            "hostescalation",
            "first_notification = 1\nfirst_notifcation = 2",
        );
        let e = config(&more).unwrap_err();
        assert!(e.contains("first_notifcation"), "{e}");
        let e = config(&entry("hostescalation", "first_notification = -1")).unwrap_err();
        assert!(e.starts_with("e.toml: ") && e.contains("line"), "{e}");
        // every error at once, each escalation with its own line
        let two = format!(
            "{}{}",
            entry("hostescalation", "first_notification = 1").replace("\"h\"", "\"x\""),
            entry("hostescalation", "first_notification = 1").replace("\"boss\"", "\"y\"")
        );
        let e = config(&two).unwrap_err();
        assert_eq!(
            e,
            format!(
                "e.toml:line {}: hostescalation 'x': no host named 'x'\n\
                 e.toml:line {}: hostescalation 'h': no contact named 'y'",
                host_line(&two, 1),
                host_line(&two, 2)
            )
        );
    }
}
