//! Host, service and contact groups (`[[hostgroup]]`, `[[servicegroup]]`,
//! `[[contactgroup]]`): read as written, then resolved once when the configuration
//! loads into [`Groups`], the members of every group and the groups of every host and
//! service, so that a filter, a selector or a notification looks them up instead of
//! working them out again.
//!
//! A group's members are the union of its `members` list, the names its `pattern`
//! matches, the objects that name the group themselves (a host's `hostgroups`, a
//! service's `servicegroups`) and the members of its nested groups
//! (`hostgroup_members`, ...). A nested cycle, a name that is not a member or a group,
//! a group defined twice, an empty name or a pattern that does not compile refuses
//! the configuration, each error at the entry's file and line.

use super::{Defaults, Overrides};
use regex::{Regex, RegexBuilder, RegexSetBuilder};
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;
use toml::Spanned;

/// The longest `pattern` taken (characters).
pub const MAX_PATTERN_LEN: usize = 1024;
/// The most memory one compiled pattern may take (the regex crate's size limits).
const PATTERN_SIZE_LIMIT: usize = 1 << 20;
/// The most memory the set of every pattern of one kind may take; a larger set is
/// not built (each pattern is then searched on its own).
const SET_SIZE_LIMIT: usize = 64 << 20;

/// A `[[hostgroup]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostGroupFile {
    pub name: Spanned<String>,
    #[serde(default)]
    pub alias: String,
    /// Host names.
    #[serde(default)]
    pub members: Vec<String>,
    /// A regular expression searched in every host name.
    pub pattern: Option<String>,
    /// Host groups whose members are members of this one.
    #[serde(default)]
    pub hostgroup_members: Vec<String>,
}

/// A `[[servicegroup]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceGroupFile {
    pub name: Spanned<String>,
    #[serde(default)]
    pub alias: String,
    /// Services as `HOST/SERVICE`.
    #[serde(default)]
    pub members: Vec<String>,
    /// A regular expression searched in every `HOST/SERVICE`.
    pub pattern: Option<String>,
    /// Service groups whose members are members of this one.
    #[serde(default)]
    pub servicegroup_members: Vec<String>,
}

/// A `[[contactgroup]]` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactGroupFile {
    pub name: Spanned<String>,
    #[serde(default)]
    pub alias: String,
    /// Contact names.
    #[serde(default)]
    pub members: Vec<String>,
    /// A regular expression searched in every contact name.
    pub pattern: Option<String>,
    /// Contact groups whose members are members of this one.
    #[serde(default)]
    pub contactgroup_members: Vec<String>,
}

/// The three kinds of group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Host,
    Service,
    Contact,
}

impl Kind {
    /// The section's name (`hostgroup`).
    fn section(self) -> &'static str {
        match self {
            Kind::Host => "hostgroup",
            Kind::Service => "servicegroup",
            Kind::Contact => "contactgroup",
        }
    }

    /// The group in words (`host group`).
    fn words(self) -> &'static str {
        match self {
            Kind::Host => "host group",
            Kind::Service => "service group",
            Kind::Contact => "contact group",
        }
    }

    /// What a member is (`host`).
    fn member(self) -> &'static str {
        match self {
            Kind::Host => "host",
            Kind::Service => "service (HOST/SERVICE)",
            Kind::Contact => "contact",
        }
    }
}

/// One group entry of any kind, as written, with its place.
#[derive(Debug)]
struct Written {
    at: String,
    name: String,
    alias: String,
    members: Vec<String>,
    pattern: Option<String>,
    nested: Vec<String>,
}

/// An object that names groups itself: where, which object (an index of the
/// configuration's hosts or services), and the names.
#[derive(Debug)]
struct Join {
    at: String,
    index: usize,
    groups: Vec<String>,
}

/// Object `index` (placed `at`) joins `groups`, if it names any.
fn join(joins: &mut Vec<Join>, at: &str, index: usize, groups: &[String]) {
    if !groups.is_empty() {
        joins.push(Join {
            at: at.to_string(),
            index,
            groups: groups.to_vec(),
        });
    }
}

/// What the configuration's files say of groups, gathered while they are read and
/// resolved by [`Pending::resolve`] once every host, service and contact is known.
#[derive(Debug, Default)]
pub struct Pending {
    hostgroups: Vec<Written>,
    servicegroups: Vec<Written>,
    contactgroups: Vec<Written>,
    host_joins: Vec<Join>,
    service_joins: Vec<Join>,
    /// The `contact_groups` hosts and services set themselves, with their place.
    contact_groups: Vec<(String, Vec<String>)>,
}

impl Pending {
    /// Takes the group entries of one file (`at`: a place from a span of it).
    pub fn add_file(
        &mut self,
        at: &dyn Fn(Range<usize>) -> String,
        hostgroups: Vec<HostGroupFile>,
        servicegroups: Vec<ServiceGroupFile>,
        contactgroups: Vec<ContactGroupFile>,
    ) {
        let written = |name: Spanned<String>, alias, members, pattern, nested| Written {
            at: at(name.span()),
            name: name.into_inner(),
            alias,
            members,
            pattern,
            nested,
        };
        self.hostgroups.extend(
            hostgroups
                .into_iter()
                .map(|g| written(g.name, g.alias, g.members, g.pattern, g.hostgroup_members)),
        );
        self.servicegroups
            .extend(servicegroups.into_iter().map(|g| {
                written(
                    g.name,
                    g.alias,
                    g.members,
                    g.pattern,
                    g.servicegroup_members,
                )
            }));
        self.contactgroups
            .extend(contactgroups.into_iter().map(|g| {
                written(
                    g.name,
                    g.alias,
                    g.members,
                    g.pattern,
                    g.contactgroup_members,
                )
            }));
    }

    /// The host `index` of the configuration (placed `at`) joins `groups` and sets
    /// its own `settings`.
    pub fn host(&mut self, at: &str, index: usize, groups: &[String], settings: &Overrides) {
        join(&mut self.host_joins, at, index, groups);
        self.own_settings(at, settings);
    }

    /// The service `index` of the configuration (placed `at`) joins `groups` and
    /// sets its own `settings`.
    pub fn service(&mut self, at: &str, index: usize, groups: &[String], settings: &Overrides) {
        join(&mut self.service_joins, at, index, groups);
        self.own_settings(at, settings);
    }

    fn own_settings(&mut self, at: &str, settings: &Overrides) {
        if let Some(g) = settings.contact_groups.as_ref().filter(|g| !g.is_empty()) {
            self.contact_groups.push((at.to_string(), g.clone()));
        }
    }

    /// Resolves every group against the configuration's `hosts` and `services` (by
    /// index, as `HOST/SERVICE` keys) and `contacts` (names); checks the
    /// `contact_groups` of the objects, the `templates` and the `defaults`. Errors are
    /// added to `errors`.
    pub fn resolve(
        self,
        hosts: &[&str],
        services: &[String],
        contacts: &[&str],
        defaults: &Defaults,
        templates: &BTreeMap<String, Overrides>,
        errors: &mut Vec<String>,
    ) -> Groups {
        let (hostgroups, host_ids) =
            resolve_kind(Kind::Host, self.hostgroups, hosts, &self.host_joins, errors);
        let services: Vec<&str> = services.iter().map(String::as_str).collect();
        let (servicegroups, service_ids) = resolve_kind(
            Kind::Service,
            self.servicegroups,
            &services,
            &self.service_joins,
            errors,
        );
        let (contactgroups, contact_ids) =
            resolve_kind(Kind::Contact, self.contactgroups, contacts, &[], errors);
        let mut unknown_contact_group = |at: &str, names: &[String]| {
            for n in names {
                if !contact_ids.contains_key(n.as_str()) {
                    errors.push(format!("{at}: no contact group named '{n}'"));
                }
            }
        };
        unknown_contact_group("[defaults] contact_groups", &defaults.contact_groups);
        for (name, t) in templates {
            if let Some(g) = &t.contact_groups {
                unknown_contact_group(&format!("[template.{name}] contact_groups"), g);
            }
        }
        for (at, g) in &self.contact_groups {
            unknown_contact_group(at, g);
        }
        let of_host = groups_of(&hostgroups, hosts.len());
        let of_service = groups_of(&servicegroups, services.len());
        Groups {
            hostgroups,
            servicegroups,
            contactgroups: contactgroups
                .into_iter()
                .map(|g| Group {
                    members: g.members.iter().map(|&i| contacts[i].to_string()).collect(),
                    name: g.name,
                    alias: g.alias,
                })
                .collect(),
            host_ids,
            service_ids,
            contact_ids,
            of_host,
            of_service,
        }
    }
}

/// One resolved group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<M> {
    pub name: String,
    pub alias: String,
    /// Host groups and service groups: indices of the configuration's hosts or
    /// services, in its order; contact groups: contact names, those of `members`
    /// first, then those the pattern matches, then those of nested groups.
    pub members: Vec<M>,
}

/// Every group resolved: the members of each, and the groups of each host and
/// service.
#[derive(Debug, Clone, Default)]
pub struct Groups {
    /// In the order of the configuration.
    pub hostgroups: Vec<Group<usize>>,
    pub servicegroups: Vec<Group<usize>>,
    pub contactgroups: Vec<Group<String>>,
    host_ids: HashMap<String, usize>,
    service_ids: HashMap<String, usize>,
    contact_ids: HashMap<String, usize>,
    /// The host groups of each host (indices of `hostgroups`).
    of_host: Vec<Vec<u32>>,
    /// The service groups of each service (indices of `servicegroups`).
    of_service: Vec<Vec<u32>>,
}

impl Groups {
    /// The host group `name`.
    pub fn hostgroup(&self, name: &str) -> Option<&Group<usize>> {
        self.host_ids.get(name).map(|&i| &self.hostgroups[i])
    }

    /// The service group `name`.
    pub fn servicegroup(&self, name: &str) -> Option<&Group<usize>> {
        self.service_ids.get(name).map(|&i| &self.servicegroups[i])
    }

    /// The contact group `name`.
    pub fn contactgroup(&self, name: &str) -> Option<&Group<String>> {
        self.contact_ids.get(name).map(|&i| &self.contactgroups[i])
    }

    /// The names of the host groups host `index` is in (none for a host the
    /// configuration does not have).
    pub fn of_host(&self, index: usize) -> impl Iterator<Item = &str> {
        names(&self.hostgroups, self.of_host.get(index))
    }

    /// The names of the service groups service `index` is in.
    pub fn of_service(&self, index: usize) -> impl Iterator<Item = &str> {
        names(&self.servicegroups, self.of_service.get(index))
    }
}

fn names<'a, M>(
    groups: &'a [Group<M>],
    ids: Option<&'a Vec<u32>>,
) -> impl Iterator<Item = &'a str> {
    ids.into_iter()
        .flatten()
        .map(|&g| groups[g as usize].name.as_str())
}

/// For each of `count` objects, the groups (indices) it is a member of.
fn groups_of(groups: &[Group<usize>], count: usize) -> Vec<Vec<u32>> {
    let mut of = vec![Vec::new(); count];
    for (g, group) in groups.iter().enumerate() {
        for &m in &group.members {
            of[m].push(g as u32);
        }
    }
    of
}

/// Compiles a group's pattern, bounded in length and in compiled size.
fn compile(pattern: &str) -> Result<Regex, String> {
    if pattern.chars().count() > MAX_PATTERN_LEN {
        return Err(format!("longer than {MAX_PATTERN_LEN} characters"));
    }
    RegexBuilder::new(pattern)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT)
        .build()
        .map_err(|e| match e {
            // the last line of the crate's picture of the error says what is wrong
            regex::Error::Syntax(s) => {
                let last = s.lines().last().unwrap_or_default().trim();
                last.strip_prefix("error: ").unwrap_or(last).to_string()
            }
            e => e.to_string(),
        })
}

/// Resolves the groups of one kind over the objects `universe` (names, by index):
/// the groups by name, and each group's members (indices of `universe`).
fn resolve_kind(
    kind: Kind,
    written: Vec<Written>,
    universe: &[&str],
    joins: &[Join],
    errors: &mut Vec<String>,
) -> (Vec<Group<usize>>, HashMap<String, usize>) {
    let what = |w: &Written| format!("{}: {} '{}'", w.at, kind.section(), w.name);
    let mut ids: HashMap<String, usize> = HashMap::with_capacity(written.len());
    let mut kept: Vec<Written> = Vec::with_capacity(written.len());
    for w in written {
        if w.name.trim().is_empty() {
            errors.push(format!("{}: [[{}]]: empty name", w.at, kind.section()));
        } else if ids.contains_key(&w.name) {
            errors.push(format!("{}: defined twice", what(&w)));
        } else {
            ids.insert(w.name.clone(), kept.len());
            kept.push(w);
        }
    }
    let index: HashMap<&str, usize> = universe.iter().enumerate().map(|(i, &n)| (n, i)).collect();
    // the members each group has of itself, and the groups nested in it
    let mut direct: Vec<Vec<usize>> = Vec::with_capacity(kept.len());
    let mut nested: Vec<Vec<usize>> = Vec::with_capacity(kept.len());
    // the patterns that compile, with their group
    let mut patterns: Vec<(usize, Regex)> = Vec::new();
    for (g, w) in kept.iter().enumerate() {
        let mut own = Vec::with_capacity(w.members.len());
        for m in &w.members {
            match index.get(m.as_str()) {
                Some(&i) => own.push(i),
                None => errors.push(format!(
                    "{}: member '{m}' is not a {}",
                    what(w),
                    kind.member()
                )),
            }
        }
        if let Some(p) = &w.pattern {
            match compile(p) {
                Ok(re) => patterns.push((g, re)),
                Err(e) => errors.push(format!("{}: pattern '{p}': {e}", what(w))),
            }
        }
        direct.push(own);
        let mut inner = Vec::with_capacity(w.nested.len());
        for n in &w.nested {
            match ids.get(n) {
                Some(&g) => inner.push(g),
                None => errors.push(format!(
                    "{}: {}_members: no {} named '{n}'",
                    what(w),
                    kind.section(),
                    kind.words()
                )),
            }
        }
        nested.push(inner);
    }
    match_patterns(&patterns, universe, &mut direct, SET_SIZE_LIMIT);
    for j in joins {
        for g in &j.groups {
            match ids.get(g) {
                Some(&g) => direct[g].push(j.index),
                None => errors.push(format!("{}: no {} named '{g}'", j.at, kind.words())),
            }
        }
    }
    if let Some(cycle) = find_cycle(&nested) {
        let path: Vec<&str> = cycle.iter().map(|&g| kept[g].name.as_str()).collect();
        errors.push(format!(
            "{}: [[{}]]: nested groups form a cycle: {}",
            kept[cycle[0]].at,
            kind.section(),
            path.join(" -> ")
        ));
        // the groups keep their own members only: nothing is built on a cycle
        nested.iter_mut().for_each(Vec::clear);
    }
    let members = close(&direct, &nested, kind != Kind::Contact);
    let groups = kept
        .into_iter()
        .zip(members)
        .map(|(w, members)| Group {
            name: w.name,
            alias: w.alias,
            members,
        })
        .collect();
    (groups, ids)
}

/// Adds to each pattern's group (in `direct`) the indices of the names of `universe`
/// it matches, in their order: through one set of every pattern, so that each name
/// is searched once rather than once per pattern (500 patterns over 10,000 names);
/// one pattern at a time when the set would take more than `set_limit`.
fn match_patterns(
    patterns: &[(usize, Regex)],
    universe: &[&str],
    direct: &mut [Vec<usize>],
    set_limit: usize,
) {
    if patterns.is_empty() {
        return;
    }
    let limit = (PATTERN_SIZE_LIMIT * patterns.len()).min(set_limit);
    let set = RegexSetBuilder::new(patterns.iter().map(|(_, re)| re.as_str()))
        .size_limit(limit)
        .dfa_size_limit(limit)
        .build();
    match set {
        Ok(set) => {
            for (i, name) in universe.iter().enumerate() {
                for p in set.matches(name).iter() {
                    direct[patterns[p].0].push(i);
                }
            }
        }
        Err(_) => {
            for (g, re) in patterns {
                let matching = universe.iter().enumerate().filter(|(_, n)| re.is_match(n));
                direct[*g].extend(matching.map(|(i, _)| i));
            }
        }
    }
}

/// The first cycle of the nesting graph, as the path from a group back to itself.
fn find_cycle(nested: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark = vec![Mark::New; nested.len()];
    for start in 0..nested.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // an explicit stack (group, next edge): deep nesting cannot overflow it
        let mut stack = vec![(start, 0)];
        mark[start] = Mark::Open;
        while let Some(&mut (g, ref mut edge)) = stack.last_mut() {
            match nested[g].get(*edge) {
                Some(&next) => {
                    *edge += 1;
                    match mark[next] {
                        Mark::New => {
                            mark[next] = Mark::Open;
                            stack.push((next, 0));
                        }
                        Mark::Open => {
                            let from = stack.iter().position(|&(s, _)| s == next)?;
                            let mut path: Vec<usize> =
                                stack[from..].iter().map(|&(s, _)| s).collect();
                            path.push(next);
                            return Some(path);
                        }
                        Mark::Done => {}
                    }
                }
                None => {
                    mark[g] = Mark::Done;
                    stack.pop();
                }
            }
        }
    }
    None
}

/// Every group's members: its own, then those of its nested groups (the graph has no
/// cycle), each once; `sorted`: in index order, else in the order found.
fn close(direct: &[Vec<usize>], nested: &[Vec<usize>], sorted: bool) -> Vec<Vec<usize>> {
    let mut done: Vec<Option<Vec<usize>>> = vec![None; direct.len()];
    for start in 0..direct.len() {
        // post-order: a group is closed once the groups nested in it are
        let mut stack = vec![start];
        while let Some(&g) = stack.last() {
            if done[g].is_some() {
                stack.pop();
                continue;
            }
            let open: Vec<usize> = nested[g]
                .iter()
                .copied()
                .filter(|&n| done[n].is_none())
                .collect();
            if !open.is_empty() {
                stack.extend(open);
                continue;
            }
            let mut all = direct[g].clone();
            for &n in &nested[g] {
                all.extend_from_slice(done[n].as_deref().unwrap_or_default());
            }
            if sorted {
                all.sort_unstable();
                all.dedup();
            } else {
                let mut seen = HashSet::with_capacity(all.len());
                all.retain(|m| seen.insert(*m));
            }
            done[g] = Some(all);
            stack.pop();
        }
    }
    done.into_iter().map(Option::unwrap_or_default).collect()
}

/// Configuration text the tests of groups share.
#[cfg(test)]
pub(crate) mod fixture {
    /// Hosts `www1`, `www2` and `db1` with services `http` and `disk` each, in that
    /// order; `check(service)`: the lines a service sets besides its host and name.
    pub(crate) fn hosts_and_services(check: impl Fn(&str) -> String) -> String {
        let mut text = String::new();
        for h in ["www1", "www2", "db1"] {
            text.push_str(&format!(
                "[[host]]\nname = \"{h}\"\naddress = \"127.0.0.1\"\n\n"
            ));
            for s in ["http", "disk"] {
                text.push_str(&format!(
                    "[[service]]\nhost = \"{h}\"\nname = \"{s}\"\n{}\n",
                    check(s)
                ));
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    /// Three hosts with two services each, two contacts, then `more`.
    fn config(more: &str) -> Result<Config, String> {
        let mut text = String::from(
            "[[contact]]\nname = \"alice\"\ncommand = \"/bin/true\"\n\n\
             [[contact]]\nname = \"bob\"\ncommand = \"/bin/true\"\n\n",
        );
        text.push_str(&super::fixture::hosts_and_services(|_| {
            "command = \"/bin/true\"\n".to_string()
        }));
        text.push_str(more);
        Config::from_files(vec![(Some("g.toml".into()), text)]).map_err(|e| e.to_string())
    }

    /// The line of the `n`th (1-based) occurrence of `needle` in the text `config` makes
    /// with `more`.
    fn line_of(more: &str, needle: &str, n: usize) -> usize {
        let base = config_text_lines();
        let at = more.match_indices(needle).nth(n - 1).unwrap().0;
        base + more[..at].matches('\n').count() + 1
    }

    /// The lines the fixed part of [`config`] takes.
    fn config_text_lines() -> usize {
        8 + 3 * (4 + 2 * 5)
    }

    fn host_members(c: &Config, group: &str) -> Vec<String> {
        let g = c.groups.hostgroup(group).unwrap();
        g.members.iter().map(|&i| c.hosts[i].name.clone()).collect()
    }

    fn service_members(c: &Config, group: &str) -> Vec<String> {
        let g = c.groups.servicegroup(group).unwrap();
        g.members
            .iter()
            .map(|&i| format!("{}/{}", c.services[i].host, c.services[i].name))
            .collect()
    }

    #[test]
    fn members_by_list_pattern_joining_and_nesting() {
        let more = r#"
[[hostgroup]]
name = "web"
alias = "Web servers"
members = ["www2"]
pattern = "^www[0-9]+$"

[[hostgroup]]
name = "db"
members = ["db1"]

[[hostgroup]]
name = "all"
hostgroup_members = ["web", "db", "empty"]

[[hostgroup]]
name = "empty"

[[servicegroup]]
name = "http"
pattern = "/http$"

[[servicegroup]]
name = "some"
members = ["db1/disk", "www1/disk"]
servicegroup_members = ["http"]

[[contactgroup]]
name = "admins"
members = ["bob"]
pattern = "^a"

[[contactgroup]]
name = "everyone"
contactgroup_members = ["admins"]
members = ["alice"]
"#;
        let c = config(more).unwrap();
        assert_eq!(host_members(&c, "web"), ["www1", "www2"]);
        assert_eq!(host_members(&c, "all"), ["www1", "www2", "db1"]);
        assert!(host_members(&c, "empty").is_empty());
        assert_eq!(c.groups.hostgroup("web").unwrap().alias, "Web servers");
        assert_eq!(
            service_members(&c, "some"),
            [
                "www1/http",
                "www1/disk",
                "www2/http",
                "db1/http",
                "db1/disk"
            ]
        );
        assert_eq!(c.contact_group_members("admins").unwrap(), ["bob", "alice"]);
        assert_eq!(
            c.contact_group_members("everyone").unwrap(),
            ["alice", "bob"]
        );
        assert_eq!(c.contact_group_members("nobody"), None);
        assert!(c.groups.hostgroup("nope").is_none());
        let of_host = |i: usize| c.groups.of_host(i).collect::<Vec<_>>();
        assert_eq!(of_host(0), ["web", "all"]);
        assert_eq!(of_host(2), ["db", "all"]);
        assert_eq!(of_host(99), Vec::<&str>::new());
        assert_eq!(c.groups.of_service(1).collect::<Vec<_>>(), ["some"]);
        assert_eq!(c.groups.of_service(3).count(), 0);
        assert_eq!(c.groups.of_service(0).collect::<Vec<_>>(), ["http", "some"]);
    }

    #[test]
    fn objects_join_groups_and_contact_groups_go_through_the_layers() {
        let more = r#"
[defaults]
contact_groups = ["admins"]

[template.paged]
contact_groups = ["oncall"]

[[contactgroup]]
name = "admins"
members = ["alice"]

[[contactgroup]]
name = "oncall"
members = ["bob"]

[[hostgroup]]
name = "edge"

[[servicegroup]]
name = "mail"

[[host]]
name = "mx"
address = "127.0.0.2"
hostgroups = ["edge"]
contact_groups = []

[[service]]
host = "mx"
name = "smtp"
command = "/bin/true"
use = "paged"
servicegroups = ["mail"]

[[service]]
host = "mx"
name = "imap"
command = "/bin/true"
servicegroups = ["mail"]
contact_groups = ["oncall", "admins"]
"#;
        let c = config(more).unwrap();
        assert_eq!(host_members(&c, "edge"), ["mx"]);
        assert_eq!(service_members(&c, "mail"), ["mx/smtp", "mx/imap"]);
        let groups_of = |host: &str, service: &str| {
            let s = c
                .services
                .iter()
                .find(|s| s.host == host && s.name == service)
                .unwrap();
            s.schedule.contact_groups.clone()
        };
        assert_eq!(groups_of("www1", "http"), ["admins"]);
        assert_eq!(groups_of("mx", "smtp"), ["oncall"]);
        assert_eq!(groups_of("mx", "imap"), ["oncall", "admins"]);
        assert!(c.host("mx").unwrap().schedule.contact_groups.is_empty());
    }

    #[test]
    fn every_error_is_refused_at_its_place() {
        let more = r#"
[[hostgroup]]
name = "web"
members = ["www1", "www9"]
hostgroup_members = ["ghosts"]

[[hostgroup]]
name = "web"

[[hostgroup]]
name = ""

[[servicegroup]]
name = "bad"
pattern = "(unclosed"
members = ["www1"]

[[contactgroup]]
name = "c"
members = ["carol"]

[[host]]
name = "h"
address = "127.0.0.1"
hostgroups = ["webz"]
contact_groups = ["nobody"]

[[service]]
host = "h"
name = "s"
command = "/bin/true"
servicegroups = ["mail"]
"#;
        let e = config(more).unwrap_err();
        let at = |needle: &str, n: usize| format!("g.toml:line {}", line_of(more, needle, n));
        let expected = [
            format!(
                "{}: hostgroup 'web': member 'www9' is not a host",
                at("name = \"web\"", 1)
            ),
            format!(
                "{}: hostgroup 'web': hostgroup_members: no host group named 'ghosts'",
                at("name = \"web\"", 1)
            ),
            format!(
                "{}: hostgroup 'web': defined twice",
                at("name = \"web\"", 2)
            ),
            format!("{}: [[hostgroup]]: empty name", at("name = \"\"", 1)),
            format!(
                "{}: host 'h': no host group named 'webz'",
                at("name = \"h\"", 1)
            ),
            format!(
                "{}: servicegroup 'bad': member 'www1' is not a service (HOST/SERVICE)",
                at("name = \"bad\"", 1)
            ),
            format!(
                "{}: servicegroup 'bad': pattern '(unclosed': unclosed group",
                at("name = \"bad\"", 1)
            ),
            format!(
                "{}: service 's' on 'h': no service group named 'mail'",
                at("name = \"s\"", 1)
            ),
            format!(
                "{}: contactgroup 'c': member 'carol' is not a contact",
                at("name = \"c\"", 1)
            ),
            format!(
                "{}: host 'h': no contact group named 'nobody'",
                at("name = \"h\"", 1)
            ),
        ];
        for x in &expected {
            assert!(e.lines().any(|l| l == x), "{x}\nnot in\n{e}");
        }
        assert_eq!(e.lines().count(), expected.len(), "{e}");
    }

    #[test]
    fn nested_cycles_and_bad_layers_are_refused() {
        let more = r#"
[defaults]
contact_groups = ["x"]

[template.t]
contact_groups = ["y"]

[[hostgroup]]
name = "a"
hostgroup_members = ["b"]

[[hostgroup]]
name = "b"
hostgroup_members = ["c"]

[[hostgroup]]
name = "c"
hostgroup_members = ["a"]

[[contactgroup]]
name = "self"
contactgroup_members = ["self"]
"#;
        let e = config(more).unwrap_err();
        let at = |needle: &str| format!("g.toml:line {}", line_of(more, needle, 1));
        let expected = [
            format!(
                "{}: [[hostgroup]]: nested groups form a cycle: a -> b -> c -> a",
                at("name = \"a\"")
            ),
            format!(
                "{}: [[contactgroup]]: nested groups form a cycle: self -> self",
                at("name = \"self\"")
            ),
            "[defaults] contact_groups: no contact group named 'x'".to_string(),
            "[template.t] contact_groups: no contact group named 'y'".to_string(),
        ];
        for x in &expected {
            assert!(e.lines().any(|l| l == x), "{x}\nnot in\n{e}");
        }
        assert_eq!(e.lines().count(), expected.len(), "{e}");
    }

    #[test]
    fn patterns_match_alike_through_the_set_and_one_by_one() {
        let names = ["www1", "www2", "db1", "mail1/smtp", "mail2/imap"];
        let patterns: Vec<(usize, regex::Regex)> = [(0, "^www"), (2, "[0-9]$"), (1, "/imap$")]
            .into_iter()
            .map(|(g, p)| (g, super::compile(p).unwrap()))
            .collect();
        let run = |limit: usize| {
            let mut direct = vec![vec![9], vec![], vec![]];
            super::match_patterns(&patterns, &names, &mut direct, limit);
            direct
        };
        let want = vec![vec![9, 0, 1], vec![4], vec![0, 1, 2]];
        assert_eq!(run(super::SET_SIZE_LIMIT), want);
        // a set too large for the limit: each pattern on its own, the same members
        assert_eq!(run(1), want);
    }

    #[test]
    fn patterns_are_bounded() {
        let long = format!(
            "[[hostgroup]]\nname = \"l\"\npattern = \"{}\"\n",
            "a".repeat(1025)
        );
        let e = config(&long).unwrap_err();
        let at = format!("g.toml:line {}", config_text_lines() + 2);
        assert_eq!(
            e,
            format!(
                "{at}: hostgroup 'l': pattern '{}': longer than 1024 characters",
                "a".repeat(1025)
            )
        );
        // small to write, too large compiled
        let big = "[[hostgroup]]\nname = \"b\"\npattern = \"\\\\w{1000}{1000}\"\n";
        let e = config(big).unwrap_err();
        assert!(
            e.contains("hostgroup 'b': pattern '\\w{1000}{1000}': "),
            "{e}"
        );
        assert!(e.contains("size limit"), "{e}");
    }
}
