//! Groups in the running daemon: the contacts of an object's contact groups, the
//! targets of a host or service group (for [`crate::select`]), the hosts and services
//! a group filter of the API and the page shows, and the summary of every group. The
//! groups themselves are resolved once when the configuration loads
//! ([`crate::config::groups`]); everything here looks them up.

use crate::config::groups::Group;
use crate::config::Schedule;
use crate::daemon::{Core, Target};
use crate::state::{Condition, Record};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// `?hostgroup=NAME` or `?servicegroup=NAME`: the hosts and services of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupFilter {
    pub hostgroup: Option<String>,
    pub servicegroup: Option<String>,
}

impl GroupFilter {
    /// Whether the filter names no group (everything is shown).
    pub fn is_empty(&self) -> bool {
        self.hostgroup.is_none() && self.servicegroup.is_none()
    }

    /// The query string (`?hostgroup=NAME`, percent-encoded; empty without a group).
    pub fn query(&self) -> String {
        match (&self.hostgroup, &self.servicegroup) {
            (Some(g), _) => format!("?hostgroup={}", percent_encoded(g)),
            (None, Some(g)) => format!("?servicegroup={}", percent_encoded(g)),
            (None, None) => String::new(),
        }
    }
}

/// `text` percent-encoded for a URL query value.
pub fn percent_encoded(text: &str) -> String {
    let mut q = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            q.push(b as char);
        } else {
            q.push_str(&format!("%{b:02X}"));
        }
    }
    q
}

/// What a group filter shows: indices of the core's hosts and services, in the
/// order of the configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shown {
    pub hosts: Vec<usize>,
    pub services: Vec<usize>,
}

/// One group's summary: its members and the states of what it shows (a host group:
/// its hosts and their services, as Nagios' host group summary; a service group: its
/// services and their hosts).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub name: String,
    pub alias: String,
    /// How many hosts (a host group) or services (a service group) are members.
    pub members: usize,
    /// The hosts shown, by state (UP, DOWN, UNREACHABLE, PENDING).
    pub hosts: BTreeMap<String, usize>,
    /// The services shown, by state (OK, WARNING, CRITICAL, UNKNOWN, PENDING).
    pub services: BTreeMap<String, usize>,
    /// How many of the hosts and services shown are problems (neither OK nor UP, and
    /// checked).
    pub problems: usize,
}

/// `GET /api/groups`: every host group and service group, in the order of the
/// configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSummaries {
    pub hostgroups: Vec<GroupSummary>,
    pub servicegroups: Vec<GroupSummary>,
}

/// The state a record is shown in: its state's name, or PENDING before a result.
fn shown_state<C: Condition>(r: &Record<C>) -> &'static str {
    if r.checked {
        r.state.name()
    } else {
        "PENDING"
    }
}

/// Whether a shown state is a problem (as [`crate::http::View::is_problem`]).
fn is_problem(state: &str) -> bool {
    !matches!(state, "OK" | "UP" | "PENDING")
}

impl Core {
    /// The names of the contacts a notification about an object with `schedule`
    /// goes to: its `contacts`, then the members of its `contact_groups` in order,
    /// each contact once.
    pub fn contact_names<'a>(&'a self, schedule: &'a Schedule) -> Vec<&'a str> {
        let mut seen = HashSet::new();
        let groups = schedule
            .contact_groups
            .iter()
            .filter_map(|g| self.config.contact_group_members(g))
            .flatten();
        schedule
            .contacts
            .iter()
            .chain(groups)
            .map(String::as_str)
            .filter(|n| seen.insert(*n))
            .collect()
    }

    /// The hosts of the host group `name`.
    pub fn hostgroup_targets(&self, name: &str) -> Result<Vec<Target>, String> {
        let g = self.hostgroup(name)?;
        Ok(g.members.iter().map(|&h| Target::Host(h)).collect())
    }

    /// The services of the service group `name`.
    pub fn servicegroup_targets(&self, name: &str) -> Result<Vec<Target>, String> {
        let g = self.servicegroup(name)?;
        Ok(g.members.iter().map(|&s| Target::Service(s)).collect())
    }

    fn hostgroup(&self, name: &str) -> Result<&Group<usize>, String> {
        self.config
            .groups
            .hostgroup(name)
            .ok_or_else(|| format!("no host group '{name}'"))
    }

    fn servicegroup(&self, name: &str) -> Result<&Group<usize>, String> {
        self.config
            .groups
            .servicegroup(name)
            .ok_or_else(|| format!("no service group '{name}'"))
    }

    /// What `filter` shows (`None`: no group named, everything): a host group's hosts
    /// and their services, a service group's services and their hosts. An unknown
    /// group, or both kinds at once, is an error.
    pub fn shown(&self, filter: &GroupFilter) -> Result<Option<Shown>, String> {
        match (&filter.hostgroup, &filter.servicegroup) {
            (None, None) => Ok(None),
            (Some(_), Some(_)) => Err("give one of 'hostgroup' or 'servicegroup'".into()),
            (Some(name), None) => {
                let g = self.hostgroup(name)?;
                Ok(Some(self.hostgroup_shows(g, &self.services_by_host())))
            }
            (None, Some(name)) => Ok(Some(self.servicegroup_shows(self.servicegroup(name)?))),
        }
    }

    /// The services of each host (indices, in order).
    fn services_by_host(&self) -> Vec<Vec<usize>> {
        let mut by_host = vec![Vec::new(); self.hosts.len()];
        for (i, e) in self.services.iter().enumerate() {
            by_host[e.host].push(i);
        }
        by_host
    }

    /// A host group's hosts and their services (`by_host`: [`Core::services_by_host`]).
    fn hostgroup_shows(&self, g: &Group<usize>, by_host: &[Vec<usize>]) -> Shown {
        let mut services: Vec<usize> = g
            .members
            .iter()
            .flat_map(|&h| by_host[h].iter().copied())
            .collect();
        services.sort_unstable();
        Shown {
            hosts: g.members.clone(),
            services,
        }
    }

    fn servicegroup_shows(&self, g: &Group<usize>) -> Shown {
        let mut hosts: Vec<usize> = g.members.iter().map(|&s| self.services[s].host).collect();
        hosts.sort_unstable();
        hosts.dedup();
        Shown {
            hosts,
            services: g.members.clone(),
        }
    }

    /// The summary of every host group and service group.
    pub fn group_summaries(&self) -> GroupSummaries {
        let summary = |g: &Group<usize>, shown: Shown| {
            let mut s = GroupSummary {
                name: g.name.clone(),
                alias: g.alias.clone(),
                members: g.members.len(),
                ..GroupSummary::default()
            };
            let hosts = shown
                .hosts
                .iter()
                .map(|&h| shown_state(&self.hosts[h].record));
            let services = shown
                .services
                .iter()
                .map(|&i| shown_state(&self.services[i].record));
            for (states, counts) in [
                (hosts.collect::<Vec<_>>(), &mut s.hosts),
                (services.collect::<Vec<_>>(), &mut s.services),
            ] {
                for state in states {
                    *counts.entry(state.to_string()).or_default() += 1;
                    s.problems += usize::from(is_problem(state));
                }
            }
            s
        };
        let groups = &self.config.groups;
        let by_host = self.services_by_host();
        GroupSummaries {
            hostgroups: groups
                .hostgroups
                .iter()
                .map(|g| summary(g, self.hostgroup_shows(g, &by_host)))
                .collect(),
            servicegroups: groups
                .servicegroups
                .iter()
                .map(|g| summary(g, self.servicegroup_shows(g)))
                .collect(),
        }
    }

    /// The names of the groups of `target` (host groups of a host, service groups of
    /// a service).
    pub fn groups_of(&self, target: Target) -> Vec<String> {
        let groups = &self.config.groups;
        match target {
            Target::Host(h) => groups.of_host(h).map(str::to_string).collect(),
            Target::Service(s) => groups.of_service(s).map(str::to_string).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::groups::fixture::hosts_and_services;
    use crate::exec::Outcome;
    use crate::notify::Notice;
    use crate::registry::fake;
    use crate::select::Selector;
    use hcoop_plugins::plugin::State;
    use std::time::{Duration, SystemTime};
    use tokio::sync::mpsc;

    /// Hosts `www1`, `www2`, `db1` with services `http` and `disk` each (one attempt
    /// makes a problem hard), contacts alice, bob, carol (carol takes no WARNING) in
    /// groups; then `more`. Returns the core and the notices it sends.
    fn core(more: &str) -> (Core, mpsc::UnboundedReceiver<Notice>) {
        let mut text = String::from(
            "[defaults]\nmax_check_attempts = 1\n\n\
             [[contact]]\nname = \"alice\"\ncommand = \"/bin/true\"\n\n\
             [[contact]]\nname = \"bob\"\ncommand = \"/bin/true\"\n\n\
             [[contact]]\nname = \"carol\"\ncommand = \"/bin/true\"\nservice_options = \"c,r\"\n\n\
             [[contactgroup]]\nname = \"admins\"\nmembers = [\"alice\", \"carol\"]\n\n\
             [[contactgroup]]\nname = \"ops\"\nmembers = [\"bob\"]\ncontactgroup_members = [\"admins\"]\n\n\
             [[hostgroup]]\nname = \"web\"\npattern = \"^www\"\n\n\
             [[servicegroup]]\nname = \"disks\"\npattern = \"/disk$\"\n\n",
        );
        text.push_str(&hosts_and_services(|s| {
            format!("check = \"{}\"\nargs = [\"{s}\"]\n", fake::NAME)
        }));
        text.push_str(more);
        crate::daemon::tests::utc_core(text)
    }

    fn outcome(state: State) -> Outcome {
        Outcome::printed(state, "X - now\n", SystemTime::now(), Duration::ZERO)
    }

    /// The notices sent so far: (type, object, contacts).
    fn sent(rx: &mut mpsc::UnboundedReceiver<Notice>) -> Vec<(&'static str, String, Vec<String>)> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|n| {
                let who = n.contacts.iter().map(|c| c.name.clone()).collect();
                (n.kind.as_str(), n.subject_name(), who)
            })
            .collect()
    }

    #[test]
    fn contact_groups_are_notified_after_the_contacts_each_contact_once() {
        let more = format!(
            "[[host]]\nname = \"mx\"\naddress = \"127.0.0.2\"\n\n\
             [[service]]\nhost = \"mx\"\nname = \"smtp\"\ncheck = \"{}\"\nargs = [\"smtp\"]\n\
             contacts = [\"carol\"]\ncontact_groups = [\"ops\", \"admins\"]\n",
            fake::NAME
        );
        let (mut c, mut rx) = core(&more);
        let smtp = c.find("mx/smtp").unwrap();
        let now = crate::clock::unix_now();
        c.apply(smtp, &outcome(State::Critical), 0.0, now);
        assert_eq!(
            sent(&mut rx),
            [(
                "PROBLEM",
                "mx/smtp".to_string(),
                vec!["carol".to_string(), "bob".into(), "alice".into()]
            )]
        );
        // a WARNING: carol does not take it, the others do
        c.apply(smtp, &outcome(State::Warning), 0.0, now + 1);
        assert_eq!(
            sent(&mut rx),
            [(
                "PROBLEM",
                "mx/smtp".to_string(),
                vec!["bob".to_string(), "alice".into()]
            )]
        );
        // an object with neither contacts nor groups notifies nobody
        let http = c.find("www1/http").unwrap();
        c.apply(http, &outcome(State::Critical), 0.0, now);
        assert_eq!(
            sent(&mut rx),
            [("PROBLEM", "www1/http".to_string(), Vec::<String>::new())]
        );
    }

    #[test]
    fn a_host_notifies_its_contact_groups() {
        let (c, _rx) = core("");
        // the fixture's objects name none
        let http = c.find("www1/http").unwrap();
        assert!(c
            .recipients(http, crate::state::NotificationType::Problem, Some('c'), 0)
            .is_empty());
        let (c, _rx) = core(
            "[[host]]\nname = \"mx\"\naddress = \"127.0.0.2\"\ncontact_groups = [\"admins\"]\n",
        );
        let mx = c.find("mx").unwrap();
        let who: Vec<String> = c
            .recipients(mx, crate::state::NotificationType::Problem, Some('d'), 0)
            .into_iter()
            .map(|c| c.name)
            .collect();
        assert_eq!(who, ["alice", "carol"]);
    }

    #[test]
    fn groups_select_their_members() {
        let (c, _rx) = core("");
        let names = |sel: Selector| -> Result<Vec<String>, String> {
            Ok(c.select(&sel)?
                .into_iter()
                .map(|t| match t {
                    Target::Host(h) => c.hosts[h].key.clone(),
                    Target::Service(s) => c.services[s].key.clone(),
                })
                .collect())
        };
        assert_eq!(
            names(Selector::HostGroup("web".into())).unwrap(),
            ["www1", "www2"]
        );
        assert_eq!(
            names(Selector::ServiceGroup("disks".into())).unwrap(),
            ["www1/disk", "www2/disk", "db1/disk"]
        );
        assert_eq!(
            names(Selector::HostGroup("webz".into())).unwrap_err(),
            "no host group 'webz'"
        );
        assert_eq!(
            names(Selector::ServiceGroup("web".into())).unwrap_err(),
            "no service group 'web'"
        );
    }

    #[test]
    fn filters_and_summaries_count_what_a_group_shows() {
        let (mut c, _rx) = core("");
        let now = crate::clock::unix_now();
        for (key, state) in [
            ("www1/http", State::Critical),
            ("www2/http", State::Ok),
            ("db1/disk", State::Warning),
        ] {
            let t = c.find(key).unwrap();
            c.apply(t, &outcome(state), 0.0, now);
        }
        let web = GroupFilter {
            hostgroup: Some("web".into()),
            servicegroup: None,
        };
        let shown = c.shown(&web).unwrap().unwrap();
        assert_eq!(shown.hosts, [0, 1]);
        assert_eq!(shown.services, [0, 1, 2, 3]);
        let disks = GroupFilter {
            hostgroup: None,
            servicegroup: Some("disks".into()),
        };
        let shown = c.shown(&disks).unwrap().unwrap();
        assert_eq!(
            (shown.hosts, shown.services),
            (vec![0, 1, 2], vec![1, 3, 5])
        );
        assert_eq!(c.shown(&GroupFilter::default()).unwrap(), None);
        let both = GroupFilter {
            hostgroup: Some("web".into()),
            servicegroup: Some("disks".into()),
        };
        assert_eq!(
            c.shown(&both).unwrap_err(),
            "give one of 'hostgroup' or 'servicegroup'"
        );
        let s = c.group_summaries();
        let count = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
            pairs.iter().map(|&(k, v)| (k.to_string(), v)).collect()
        };
        // hosts without a check are UP
        assert_eq!(
            s.hostgroups,
            [GroupSummary {
                name: "web".into(),
                alias: String::new(),
                members: 2,
                hosts: count(&[("UP", 2)]),
                services: count(&[("CRITICAL", 1), ("OK", 1), ("PENDING", 2)]),
                problems: 1,
            }]
        );
        assert_eq!(
            s.servicegroups,
            [GroupSummary {
                name: "disks".into(),
                alias: String::new(),
                members: 3,
                hosts: count(&[("UP", 3)]),
                services: count(&[("PENDING", 2), ("WARNING", 1)]),
                problems: 1,
            }]
        );
        assert_eq!(c.groups_of(Target::Host(0)), ["web"]);
        assert!(c.groups_of(Target::Host(2)).is_empty());
        assert_eq!(c.groups_of(Target::Service(5)), ["disks"]);
    }

    #[test]
    fn filters_go_into_a_query_percent_encoded() {
        let f = GroupFilter {
            hostgroup: Some("web & db/1".into()),
            servicegroup: None,
        };
        assert_eq!(f.query(), "?hostgroup=web%20%26%20db/1");
        let f = GroupFilter {
            hostgroup: None,
            servicegroup: Some("mail".into()),
        };
        assert_eq!(f.query(), "?servicegroup=mail");
        assert_eq!(GroupFilter::default().query(), "");
    }
}
