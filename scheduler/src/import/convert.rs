//! Nagios objects (templates applied) into our TOML sections, and the report of
//! everything not carried over.

use super::command::{self, Check};
use super::parse::{Nagios, Object, Place};
use super::resolve::{split_list, Resolved, TIMING};
use super::toml_out::Toml;
use crate::timeperiod;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::Duration;

/// What an import produced: TOML files by name, and the report lines.
#[derive(Debug, Default)]
pub struct Imported {
    /// `(file name, text)`, in the order they are written.
    pub files: Vec<(String, String)>,
    /// One line per thing not carried over, by place.
    pub report: Vec<String>,
    /// How many entries of each section were written, in the order of the files.
    pub counts: Vec<(&'static str, usize)>,
}

/// The report, one line per item, in file and line order, each said once.
#[derive(Default)]
struct Report(BTreeSet<(Place, String)>);

impl Report {
    fn add(&mut self, place: &Place, text: String) {
        self.0.insert((place.clone(), text));
    }
}

/// The macros of a notification the daemon gives its commands (as `NAGIOS_*`
/// environment variables).
const NOTIFICATION_ENV: &[&str] = &[
    "NOTIFICATIONTYPE",
    "NOTIFICATIONNUMBER",
    "HOSTNAME",
    "HOSTADDRESS",
    "CONTACTNAME",
    "CONTACTEMAIL",
    "TIMET",
    "SERVICEDESC",
    "SERVICESTATE",
    "SERVICEOUTPUT",
    "HOSTSTATE",
    "HOSTOUTPUT",
];

/// Directives read for every object type (and the template machinery).
const COMMON: &[&str] = &["name", "use", "register"];

/// Directives whose value, when it is this one, is what hcoop-monitor does anyway.
const SAME_AS_OURS: &[(&str, &str)] = &[
    ("obsess_over_service", "0"),
    ("obsess_over_host", "0"),
    ("obsess", "0"),
    ("is_volatile", "0"),
    ("retain_status_information", "1"),
    ("retain_nonstatus_information", "1"),
    ("parallelize_check", "1"),
    ("stalking_options", "n"),
    ("initial_state", "o"),
    ("can_submit_commands", "1"),
    ("failure_prediction_enabled", "0"),
    ("flap_detection_options", "a"),
];

/// Whether an options directive names every option (as no such directive does).
fn all_options(kind: &str, name: &str, value: &str) -> bool {
    let every: &[&str] = match (kind, name) {
        ("host", "notification_options") => &["d", "u", "r", "f", "s"],
        ("service", "notification_options") => &["w", "u", "c", "r", "f", "s"],
        ("host", "flap_detection_options") => &["o", "d", "u"],
        ("service", "flap_detection_options") => &["o", "w", "c", "u"],
        _ => return false,
    };
    let given = split_list(value);
    given.iter().any(|o| o == "a") || every.iter().all(|o| given.iter().any(|g| g == o))
}

/// Why a directive with no counterpart is not carried over.
fn why_not(name: &str) -> &'static str {
    match name {
        "notes" | "notes_url" | "action_url" | "icon_image" | "icon_image_alt"
        | "vrml_image" | "statusmap_image" | "2d_coords" | "3d_coords" => {
            "display only (Nagios' web pages): no counterpart"
        }
        "obsess_over_service" | "obsess_over_host" | "obsess" => {
            "obsessive compulsive processing (ocsp/ochp commands): no counterpart"
        }
        "process_perf_data" => {
            "performance data files and commands: no counterpart (hcoop-monitor keeps each result's performance data in its API and metrics)"
        }
        "stalking_options" => "stalking (logging unchanged output): no counterpart",
        "is_volatile" => "volatile services: no counterpart",
        "initial_state" => "initial states: hcoop-monitor starts objects as not yet checked",
        "retain_status_information" | "retain_nonstatus_information" => {
            "hcoop-monitor always retains state across restarts"
        }
        "notification_options" => {
            "per-object notification options: no counterpart (each contact's options filter its notifications)"
        }
        "flap_detection_options" => "flap detection per state: no counterpart",
        "low_flap_threshold" | "high_flap_threshold" => {
            "per-object flapping thresholds: no counterpart (one pair in [defaults])"
        }
        "parents" => "service parents: no counterpart (use a servicedependency)",
        "display_name" => "display names: no counterpart",
        "hourly_value" | "importance" | "minimum_importance" => {
            "notification importance: no counterpart"
        }
        "parallelize_check" | "failure_prediction_enabled" => {
            "not used by Nagios 4 either"
        }
        "can_submit_commands" => {
            "who may submit commands is [daemon] admin_users and admin_groups"
        }
        "pager" | "address1" | "address2" | "address3" | "address4" | "address5"
        | "address6" => "kept only where a notification command names it",
        "email" => "kept only where a notification command names it ($CONTACTEMAIL$)",
        _ if name.starts_with('_') => {
            "custom variable: kept only where this object's commands name it"
        }
        _ => "not a directive hcoop-monitor knows for this object type",
    }
}

/// Our settings of hosts and services, as Nagios names them, besides their
/// [`TIMING`].
const SCHEDULE: &[&str] = &[
    "contacts",
    "contact_groups",
    "notifications_enabled",
    "flap_detection_enabled",
    "check_period",
    "notification_period",
    "event_handler",
    "event_handler_enabled",
    "active_checks_enabled",
    "passive_checks_enabled",
    "check_freshness",
    "freshness_threshold",
    "check_command",
    "alias",
];

struct Ctx<'a> {
    nagios: &'a Nagios,
    objects: &'a [Object],
    report: Report,
    interval: u64,
    commands: HashMap<String, (String, Place)>,
    user1: Option<String>,
}

impl Ctx<'_> {
    /// How a report names the definition a directive was written in.
    fn owner(&self, r: &Resolved, from: usize, me: &str) -> String {
        if from == r.index {
            me.to_string()
        } else {
            let o = &self.objects[from];
            format!("{} template '{}'", o.kind, o.get("name").unwrap_or("?"))
        }
    }

    /// Reports every directive of `r` not in `handled`.
    fn leftovers(&mut self, r: &Resolved, me: &str, handled: &[&str]) {
        for (name, v) in &r.vars {
            if handled.contains(&name.as_str()) || COMMON.contains(&name.as_str()) {
                continue;
            }
            let Some(value) = v.value.as_deref() else {
                continue;
            };
            if SAME_AS_OURS.contains(&(name.as_str(), value.trim()))
                || all_options(&r.kind, name, value)
            {
                continue;
            }
            let owner = self.owner(r, v.from, me);
            self.report.add(
                &v.place,
                format!("{owner}: {name} {}: {}", shown(value), why_not(name)),
            );
        }
    }

    fn seconds(&self, r: &Resolved, name: &str) -> Result<Option<Duration>, String> {
        self.number(r, name)
            .map(|n| n.map(|n| Duration::from_secs((n * self.interval as f64).round() as u64)))
    }

    fn number(&self, r: &Resolved, name: &str) -> Result<Option<f64>, String> {
        let Some((v, place)) = r.var(name) else {
            return Ok(None);
        };
        match v.trim().parse::<f64>() {
            Ok(n) if n.is_finite() && (0.0..=1e9).contains(&n) => Ok(Some(n)),
            _ => Err(format!("{place}: {name} '{v}': expected a number")),
        }
    }

    fn boolean(&self, r: &Resolved, name: &str) -> Result<Option<bool>, String> {
        let Some((v, place)) = r.var(name) else {
            return Ok(None);
        };
        match v.trim() {
            "0" => Ok(Some(false)),
            "1" => Ok(Some(true)),
            _ => Err(format!("{place}: {name} '{v}': expected 0 or 1")),
        }
    }

    /// A command call (`NAME!ARG…`) as its command line, macros put in; `None` (and an
    /// error) when the command is not defined.
    fn call(
        &mut self,
        call: &str,
        place: &Place,
        fixed: &HashMap<String, String>,
        keep: &[&str],
    ) -> Result<(String, Vec<String>), String> {
        let (name, args) = command::split_call(call);
        let Some((line, _)) = self.commands.get(&name) else {
            return Err(format!("{place}: the command '{name}' is not defined"));
        };
        Ok(command::substitute(
            line,
            &args,
            &self.nagios.users,
            fixed,
            keep,
        ))
    }
}

/// At most 100 characters of a value, for the report.
fn shown(v: &str) -> String {
    let v = v.trim();
    if v.chars().count() > 100 {
        format!("{}…", v.chars().take(100).collect::<String>())
    } else {
        v.to_string()
    }
}

/// The main-file settings read.
const MAIN_READ: &[&str] = &[
    "cfg_file",
    "cfg_dir",
    "resource_file",
    "interval_length",
    "service_check_timeout",
    "host_check_timeout",
    "enable_event_handlers",
    "global_host_event_handler",
    "global_service_event_handler",
    "event_handler_timeout",
    "enable_flap_detection",
    "low_service_flap_threshold",
    "high_service_flap_threshold",
];

/// Main-file settings whose value is what hcoop-monitor does anyway, or that concern
/// only Nagios' own files and processes.
const MAIN_SAME: &[(&str, &str)] = &[
    ("execute_service_checks", "1"),
    ("execute_host_checks", "1"),
    ("accept_passive_service_checks", "1"),
    ("accept_passive_host_checks", "1"),
    ("enable_notifications", "1"),
    ("retain_state_information", "1"),
    ("obsess_over_services", "0"),
    ("obsess_over_hosts", "0"),
    ("process_performance_data", "0"),
    ("check_for_orphaned_services", "1"),
    ("check_for_orphaned_hosts", "1"),
    ("check_service_freshness", "1"),
    ("check_host_freshness", "0"),
    ("low_host_flap_threshold", "5.0"),
    ("high_host_flap_threshold", "20.0"),
    ("check_for_updates", "0"),
];

/// Converts the resolved objects; errors (with file:line) where Nagios too would
/// refuse the configuration.
pub fn convert(
    nagios: &Nagios,
    objects: &[Object],
    resolved: &[Resolved],
    source: &str,
) -> Result<Imported, String> {
    let interval = match nagios.setting("interval_length") {
        None => 60,
        Some(s) => s
            .value
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| {
                format!(
                    "{}: interval_length '{}': expected a positive number of seconds",
                    s.place, s.value
                )
            })?,
    };
    let mut cx = Ctx {
        nagios,
        objects,
        report: Report::default(),
        interval,
        commands: HashMap::new(),
        user1: nagios.users.get(&1).cloned(),
    };
    let by_kind = |k: &'static str| resolved.iter().filter(move |r| r.kind == k);

    // main-file settings
    for s in &nagios.settings {
        if MAIN_READ.contains(&s.name.as_str())
            || MAIN_SAME.contains(&(s.name.as_str(), s.value.trim()))
        {
            continue;
        }
        let why = match s.name.as_str() {
            "command_file" | "check_external_commands" => {
                "the external command file is [daemon] command_file (and command_group): set it where scripts write"
            }
            "nagios_user" | "nagios_group" => "the daemon's user is [daemon] user",
            "illegal_macro_output_chars" => {
                "not needed: hcoop-monitor never puts a check's output into a shell's command line (notification commands read it from NAGIOS_* variables, event handlers get each macro as one argument)"
            }
            "enable_notifications" | "execute_service_checks" | "execute_host_checks"
            | "accept_passive_service_checks" | "accept_passive_host_checks" => {
                "a global switch hcoop-monitor has per object only"
            }
            _ => "a setting of Nagios itself: no counterpart",
        };
        cx.report
            .add(&s.place, format!("{}={}: {why}", s.name, shown(&s.value)));
    }

    // commands
    for r in by_kind("command") {
        let me = format!("command '{}'", r.get("command_name").unwrap_or("?"));
        match (r.get("command_name"), r.var("command_line")) {
            (Some(name), Some((line, place))) => {
                if let Some((_, first)) = cx.commands.get(name.trim()) {
                    return Err(format!(
                        "{}: command '{name}' is defined twice (first at {first})",
                        r.place
                    ));
                }
                cx.commands
                    .insert(name.trim().to_string(), (line.to_string(), place.clone()));
            }
            _ => {
                return Err(format!(
                    "{}: a command needs command_name and command_line",
                    r.place
                ))
            }
        }
        cx.leftovers(r, &me, &["command_name", "command_line"]);
    }

    // time periods
    let mut periods = Toml::new(source, "time periods (define timeperiod)");
    let mut period_names = HashSet::new();
    for r in by_kind("timeperiod") {
        let Some(name) = r.get("timeperiod_name") else {
            return Err(format!("{}: a timeperiod needs timeperiod_name", r.place));
        };
        if !period_names.insert(name.to_string()) {
            return Err(format!("{}: timeperiod '{name}' is defined twice", r.place));
        }
        let me = format!("timeperiod '{name}'");
        let mut rules = Vec::new();
        let mut check = crate::timeperiod::TimePeriod::new(name, "");
        for (line, place) in period_rules(objects, r.index) {
            match check.add_rule(&line) {
                Ok(()) => rules.push(line),
                Err(e) => cx.report.add(
                    &place,
                    format!(
                        "{me}: rule '{}' not carried over: hcoop-monitor reads it as: {e}",
                        shown(&line)
                    ),
                ),
            }
        }
        periods.entry("timeperiod");
        periods.string("name", name);
        if let Some(alias) = r.get("alias") {
            periods.string("alias", alias);
        }
        periods.strings("rules", &rules);
        let exclude = r.list("exclude");
        if !exclude.is_empty() {
            periods.strings("exclude", &exclude);
        }
        *periods.count() += 1;
    }

    // contacts and their groups
    let contacts: Vec<&Resolved> = by_kind("contact").collect();
    let mut contact_names = Vec::new();
    for r in &contacts {
        let name = r
            .get("contact_name")
            .ok_or_else(|| format!("{}: a contact needs contact_name", r.place))?;
        if contact_names.contains(&name) {
            return Err(format!("{}: contact '{name}' is defined twice", r.place));
        }
        contact_names.push(name);
    }
    let mut contact_toml = Toml::new(source, "contacts (define contact)");
    for r in &contacts {
        contact(&mut cx, r, &mut contact_toml)?;
    }
    let mut groups = Toml::new(
        source,
        "host, service and contact groups (define hostgroup, servicegroup, contactgroup)",
    );
    let contact_groups = member_groups(
        &mut cx,
        by_kind("contactgroup").collect(),
        "contactgroup",
        &contacts,
        "contact_name",
        "contactgroups",
    )?;
    for g in &contact_groups {
        for m in &g.members {
            if !contact_names.contains(&m.as_str()) {
                return Err(format!(
                    "{}: contactgroup '{}': no contact named '{m}'",
                    g.place, g.name
                ));
            }
        }
    }

    // hosts
    let hosts: Vec<&Resolved> = by_kind("host").collect();
    let mut host_index: HashMap<String, usize> = HashMap::new();
    for (i, r) in hosts.iter().enumerate() {
        let name = r
            .get("host_name")
            .ok_or_else(|| format!("{}: a host needs host_name", r.place))?;
        if host_index.insert(name.to_string(), i).is_some() {
            return Err(format!("{}: host '{name}' is defined twice", r.place));
        }
    }
    let host_groups = member_groups(
        &mut cx,
        by_kind("hostgroup").collect(),
        "hostgroup",
        &hosts,
        "host_name",
        "hostgroups",
    )?;
    let host_timeout = main_seconds(nagios, "host_check_timeout")?;
    let service_timeout = main_seconds(nagios, "service_check_timeout")?;
    let mut host_toml = Toml::new(source, "hosts (define host)");
    for r in &hosts {
        host(
            &mut cx,
            r,
            &host_index,
            host_timeout.filter(|t| Some(*t) != service_timeout),
            &mut host_toml,
        )?;
    }

    // services, one per host they apply to
    let mut service_toml = Toml::new(
        source,
        "services (define service), one per host they apply to",
    );
    let mut services: Vec<(String, String, usize)> = Vec::new(); // host, description, resolved index
    let mut by_host: HashMap<String, Vec<String>> = HashMap::new();
    let mut placed: HashMap<(String, String), (bool, Place)> = HashMap::new();
    for (k, r) in resolved
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind == "service")
    {
        let Some(desc) = r.get("service_description") else {
            return Err(format!("{}: a service needs service_description", r.place));
        };
        let me = service_name(r);
        let on = expand_hosts(
            r,
            "host_name",
            "hostgroup_name",
            &host_index,
            &hosts,
            &host_groups,
        )?;
        if on.is_empty() {
            cx.report.add(
                &r.place,
                format!("{me}: applies to no host: not carried over"),
            );
            continue;
        }
        let direct = r.get("host_name").is_some();
        for h in on {
            let key = (h.clone(), desc.to_string());
            if let Some((was_direct, first)) = placed.get(&key).cloned() {
                // Nagios: one defined on the host wins over one defined on a group
                if direct && !was_direct {
                    services.retain(|(sh, sd, _)| !(sh == &key.0 && sd == &key.1));
                    cx.report.add(&first, format!(
                        "service '{desc}' on '{h}': replaced by the definition at {} (on the host itself)",
                        r.place
                    ));
                } else {
                    cx.report.add(&r.place, format!(
                        "{me}: on host '{h}' it is defined already at {first}: not carried over there"
                    ));
                    continue;
                }
            }
            placed.insert(key, (direct, r.place.clone()));
            services.push((h, desc.to_string(), k));
        }
    }
    for (h, desc, k) in &services {
        let host = hosts[host_index[h]];
        service(&mut cx, &resolved[*k], host, desc, &mut service_toml)?;
        by_host.entry(h.clone()).or_default().push(desc.clone());
    }

    // groups
    for g in &contact_groups {
        g.write(&mut groups, "contactgroup", "contactgroup_members");
    }
    for g in &host_groups {
        g.write(&mut groups, "hostgroup", "hostgroup_members");
    }
    let service_groups = service_groups(&mut cx, resolved, &services, &by_host)?;
    for g in &service_groups {
        g.write(&mut groups, "servicegroup", "servicegroup_members");
    }

    // dependencies and escalations
    let service_at: HashMap<(String, String), usize> = services
        .iter()
        .map(|(h, d, k)| ((h.clone(), d.clone()), *k))
        .collect();
    let mut deps = Toml::new(
        source,
        "service and host dependencies (define servicedependency, hostdependency), one per pair",
    );
    let mut escalations = Toml::new(
        source,
        "service and host escalations (define serviceescalation, hostescalation), one per object",
    );
    let sel = Selection {
        hosts: &hosts,
        host_index: &host_index,
        host_groups: &host_groups,
        service_groups: &service_groups,
        by_host: &by_host,
    };
    for r in resolved {
        match r.kind.as_str() {
            "servicedependency" => service_dependency(&mut cx, r, &sel, &mut deps)?,
            "hostdependency" => host_dependency(&mut cx, r, &sel, &mut deps)?,
            "serviceescalation" => {
                service_escalation(&mut cx, r, &sel, resolved, &service_at, &mut escalations)?
            }
            "hostescalation" => host_escalation(&mut cx, r, &sel, &mut escalations)?,
            "hostextinfo" | "serviceextinfo" => cx.report.add(
                &r.place,
                format!(
                    "{}: display only (Nagios' web pages): not carried over",
                    r.kind
                ),
            ),
            _ => {}
        }
    }

    // defaults (Nagios' own, in its interval unit) and the daemon's event handlers
    let mut defaults = Toml::new(
        source,
        "defaults: Nagios' own for what an object leaves unset",
    );
    defaults.table("defaults");
    defaults.duration("check_interval", Duration::from_secs(5 * interval));
    defaults.duration("retry_interval", Duration::from_secs(interval));
    defaults.duration("notification_interval", Duration::from_secs(30 * interval));
    defaults.duration(
        "timeout",
        service_timeout.unwrap_or(Duration::from_secs(60)),
    );
    if let Some(s) = nagios.setting("enable_flap_detection") {
        defaults.boolean("flap_detection", s.value.trim() != "0");
    }
    for (from, to) in [
        ("low_service_flap_threshold", "low_flap_threshold"),
        ("high_service_flap_threshold", "high_flap_threshold"),
    ] {
        if let Some(s) = nagios.setting(from) {
            let v: f64 = s
                .value
                .trim()
                .parse()
                .map_err(|_| format!("{}: {from} '{}': expected a number", s.place, s.value))?;
            defaults.float(to, v);
        }
    }
    let mut daemon = Toml::new(
        source,
        "the daemon's event handler settings ([daemon]: add the rest of your daemon settings here)",
    );
    let mut daemon_keys = 0;
    for (from, to) in [
        ("global_host_event_handler", "global_host_event_handler"),
        (
            "global_service_event_handler",
            "global_service_event_handler",
        ),
    ] {
        if let Some(s) = nagios.setting(from) {
            let line = match handler(&mut cx, &s.value, &s.place, &HashMap::new())? {
                Ok(line) => line,
                Err(why) => {
                    cx.report.add(
                        &s.place,
                        format!("{from}={}: {why}: not carried over", shown(&s.value)),
                    );
                    continue;
                }
            };
            if daemon_keys == 0 {
                daemon.table("daemon");
            }
            daemon.string(to, &line);
            daemon_keys += 1;
        }
    }
    if let Some(s) = nagios
        .setting("enable_event_handlers")
        .filter(|s| s.value.trim() == "0")
    {
        if daemon_keys == 0 {
            daemon.table("daemon");
        }
        daemon.boolean("event_handlers_enabled", false);
        daemon_keys += 1;
        let _ = s;
    }
    if let Some(s) = nagios.setting("event_handler_timeout") {
        let secs: u64 = s.value.trim().parse().map_err(|_| {
            format!(
                "{}: event_handler_timeout '{}': expected seconds",
                s.place, s.value
            )
        })?;
        if secs != 30 {
            if daemon_keys == 0 {
                daemon.table("daemon");
            }
            daemon.duration("event_handler_timeout", Duration::from_secs(secs));
            daemon_keys += 1;
        }
    }

    let mut out = Imported::default();
    for (file, toml, section) in [
        ("defaults.toml", defaults, "defaults"),
        ("daemon.toml", daemon, "daemon"),
        ("timeperiods.toml", periods, "time periods"),
        ("contacts.toml", contact_toml, "contacts"),
        ("hosts.toml", host_toml, "hosts"),
        ("services.toml", service_toml, "services"),
        ("groups.toml", groups, "groups"),
        ("dependencies.toml", deps, "dependencies"),
        ("escalations.toml", escalations, "escalations"),
    ] {
        if section == "daemon" && daemon_keys == 0 {
            continue;
        }
        if section != "defaults" && section != "daemon" {
            out.counts.push((section, toml.entries()));
        }
        if toml.entries() > 0 || section == "defaults" || section == "daemon" {
            out.files.push((file.to_string(), toml.finish()));
        }
    }
    out.report = cx
        .report
        .0
        .into_iter()
        .map(|(place, text)| format!("{place}: {text}"))
        .collect();
    Ok(out)
}

/// A main-file setting in seconds.
fn main_seconds(nagios: &Nagios, name: &str) -> Result<Option<Duration>, String> {
    nagios
        .setting(name)
        .map(|s| {
            s.value
                .trim()
                .parse::<u64>()
                .map(Duration::from_secs)
                .map_err(|_| format!("{}: {name} '{}': expected seconds", s.place, s.value))
        })
        .transpose()
}

/// The rule lines of a time period: its own, then those of its templates (a weekday a
/// template gives only when the period has no line for it).
fn period_rules(objects: &[Object], index: usize) -> Vec<(String, Place)> {
    fn walk(
        objects: &[Object],
        i: usize,
        depth: usize,
        out: &mut Vec<(String, Place)>,
        days: &mut HashSet<String>,
    ) {
        let o = &objects[i];
        let mut mine = Vec::new();
        for d in &o.directives {
            if [
                "timeperiod_name",
                "alias",
                "exclude",
                "name",
                "use",
                "register",
            ]
            .contains(&d.name.as_str())
            {
                continue;
            }
            let weekday = timeperiod::WEEKDAYS.contains(&d.name.as_str());
            if weekday && days.contains(&d.name) {
                continue;
            }
            if weekday {
                mine.push(d.name.clone());
            }
            out.push((
                format!(
                    "{} {}",
                    d.name,
                    d.value.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
                Place {
                    file: o.place.file.clone(),
                    line: d.line,
                },
            ));
        }
        days.extend(mine);
        if depth > 64 {
            return;
        }
        for t in split_list(o.get("use").unwrap_or("")) {
            if let Some(j) = objects
                .iter()
                .position(|x| x.kind == "timeperiod" && x.get("name") == Some(t.as_str()))
            {
                walk(objects, j, depth + 1, out, days);
            }
        }
    }
    let mut out = Vec::new();
    walk(objects, index, 0, &mut out, &mut HashSet::new());
    out
}

/// A group with its members resolved (`*` and `!` exclusions applied, members named by
/// the members themselves added).
struct Group {
    name: String,
    alias: Option<String>,
    members: Vec<String>,
    nested: Vec<String>,
    place: Place,
}

impl Group {
    fn write(&self, t: &mut Toml, section: &str, nested_key: &str) {
        t.entry(section);
        t.string("name", &self.name);
        if let Some(a) = &self.alias {
            t.string("alias", a);
        }
        t.strings("members", &self.members);
        if !self.nested.is_empty() {
            t.strings(nested_key, &self.nested);
        }
        *t.count() += 1;
    }
}

/// A group's name, its `{kind}_name`: an error when it has none or when `taken`.
fn group_name<'r>(
    r: &'r Resolved,
    kind: &str,
    taken: impl Fn(&str) -> bool,
) -> Result<&'r str, String> {
    let name_of = format!("{kind}_name");
    let name = r
        .get(&name_of)
        .ok_or_else(|| format!("{}: a {kind} needs {name_of}", r.place))?;
    if taken(name) {
        return Err(format!("{}: {kind} '{name}' is defined twice", r.place));
    }
    Ok(name)
}

/// A group of any kind with its `members` resolved; the directives it does not take
/// reported.
fn group(cx: &mut Ctx<'_>, r: &Resolved, kind: &str, name: &str, members: Vec<String>) -> Group {
    let me = format!("{kind} '{name}'");
    let (name_of, nested_key) = (format!("{kind}_name"), format!("{kind}_members"));
    cx.leftovers(
        r,
        &me,
        &[name_of.as_str(), "alias", "members", nested_key.as_str()],
    );
    Group {
        name: name.to_string(),
        alias: r.get("alias").map(str::to_string),
        members,
        nested: r.list(&nested_key),
        place: r.place.clone(),
    }
}

/// An error for the first group naming a nested group of its kind that does not exist.
fn nested_known(
    groups: &[Group],
    index: &HashMap<String, usize>,
    kind: &str,
) -> Result<(), String> {
    for g in groups {
        for n in &g.nested {
            if !index.contains_key(n) {
                return Err(format!(
                    "{}: {kind} '{}': no {kind} named '{n}' among its members",
                    g.place, g.name
                ));
            }
        }
    }
    Ok(())
}

/// Host or contact groups: their own `members` and the objects that name them in
/// `back` (`hostgroups`, `contactgroups`).
fn member_groups(
    cx: &mut Ctx<'_>,
    defs: Vec<&Resolved>,
    kind: &str,
    objects: &[&Resolved],
    name_key: &str,
    back: &str,
) -> Result<Vec<Group>, String> {
    let all: Vec<&str> = objects.iter().filter_map(|o| o.get(name_key)).collect();
    let known: HashSet<&str> = all.iter().copied().collect();
    let mut groups: Vec<Group> = Vec::new();
    // by name, and each group's members as a set: found by hashing, not by scans
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut sets: Vec<HashSet<String>> = Vec::new();
    for r in &defs {
        let name = group_name(r, kind, |n| index.contains_key(n))?;
        let mut listed: Vec<String> = Vec::new();
        let mut excluded: HashSet<String> = HashSet::new();
        for m in r.list("members") {
            if m == "*" {
                listed.extend(all.iter().map(|m| m.to_string()));
            } else if let Some(x) = m.strip_prefix('!') {
                excluded.insert(x.to_string());
            } else if known.contains(m.as_str()) {
                listed.push(m);
            } else {
                let place = r.var("members").map_or(&r.place, |(_, p)| p);
                return Err(format!(
                    "{place}: {kind} '{name}': no {} named '{m}'",
                    name_key.trim_end_matches("_name")
                ));
            }
        }
        let mut set = HashSet::new();
        listed.retain(|m| !excluded.contains(m) && set.insert(m.clone()));
        index.insert(name.to_string(), groups.len());
        sets.push(set);
        groups.push(group(cx, r, kind, name, listed));
    }
    for o in objects {
        let Some(member) = o.get(name_key) else {
            continue;
        };
        for g in o.list(back) {
            let Some(&i) = index.get(&g) else {
                let place = o.var(back).map_or(&o.place, |(_, p)| p);
                return Err(format!(
                    "{place}: {} '{member}': no {kind} named '{g}'",
                    name_key.trim_end_matches("_name")
                ));
            };
            if sets[i].insert(member.to_string()) {
                groups[i].members.push(member.to_string());
            }
        }
    }
    nested_known(&groups, &index, kind)?;
    Ok(groups)
}

/// Every member of a group with its nested groups' (cycles stop).
fn group_closure(groups: &[Group], name: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut todo = vec![name.to_string()];
    while let Some(n) = todo.pop() {
        if !seen.insert(n.clone()) {
            continue;
        }
        if let Some(g) = groups.iter().find(|g| g.name == n) {
            for m in &g.members {
                if !out.contains(m) {
                    out.push(m.clone());
                }
            }
            todo.extend(g.nested.iter().cloned());
        }
    }
    out
}

/// The hosts a host list and a host group list name (`*`, `!` exclusions), in the
/// order the hosts are defined.
fn expand_hosts(
    r: &Resolved,
    host_key: &str,
    group_key: &str,
    host_index: &HashMap<String, usize>,
    hosts: &[&Resolved],
    groups: &[Group],
) -> Result<Vec<String>, String> {
    let mut yes = BTreeSet::new();
    let mut no = BTreeSet::new();
    for h in r.list(host_key) {
        if h == "*" {
            yes.extend(host_index.values().copied());
        } else if let Some(x) = h.strip_prefix('!') {
            no.extend(host_index.get(x).copied());
        } else {
            let i = host_index.get(&h).copied().ok_or_else(|| {
                let place = r.var(host_key).map_or(&r.place, |(_, p)| p);
                format!("{place}: {host_key}: no host named '{h}'")
            })?;
            yes.insert(i);
        }
    }
    for g in r.list(group_key) {
        let (set, g) = match g.strip_prefix('!') {
            Some(x) => (&mut no, x.to_string()),
            None => (&mut yes, g),
        };
        if g == "*" {
            for grp in groups {
                set.extend(
                    group_closure(groups, &grp.name)
                        .iter()
                        .filter_map(|m| host_index.get(m).copied()),
                );
            }
            continue;
        }
        if !groups.iter().any(|x| x.name == g) {
            let place = r.var(group_key).map_or(&r.place, |(_, p)| p);
            return Err(format!("{place}: {group_key}: no hostgroup named '{g}'"));
        }
        set.extend(
            group_closure(groups, &g)
                .iter()
                .filter_map(|m| host_index.get(m).copied()),
        );
    }
    Ok(yes
        .difference(&no)
        .map(|&i| hosts[i].get("host_name").unwrap_or_default().to_string())
        .collect())
}

fn service_name(r: &Resolved) -> String {
    let on = r
        .get("host_name")
        .map(str::to_string)
        .or_else(|| r.get("hostgroup_name").map(|g| format!("hostgroup {g}")))
        .unwrap_or_default();
    format!(
        "service '{}' on '{on}'",
        r.get("service_description").unwrap_or("?")
    )
}

/// The macros fixed by the object: its names and custom variables.
fn fixed_macros(host: &Resolved, service: Option<(&Resolved, &str)>) -> HashMap<String, String> {
    let mut m = HashMap::new();
    let hname = host.get("host_name").unwrap_or_default();
    m.insert(
        "HOSTALIAS".into(),
        host.get("alias").unwrap_or(hname).to_string(),
    );
    m.insert(
        "HOSTDISPLAYNAME".into(),
        host.get("display_name").unwrap_or(hname).to_string(),
    );
    for (k, v) in &host.vars {
        if let (Some(var), Some(value)) = (k.strip_prefix('_'), &v.value) {
            m.insert(format!("_HOST{}", var.to_uppercase()), value.clone());
        }
    }
    if let Some((s, desc)) = service {
        m.insert("SERVICEDESC".into(), desc.to_string());
        m.insert(
            "SERVICEDISPLAYNAME".into(),
            s.get("display_name").unwrap_or(desc).to_string(),
        );
        for (k, v) in &s.vars {
            if let (Some(var), Some(value)) = (k.strip_prefix('_'), &v.value) {
                m.insert(format!("_SERVICE{}", var.to_uppercase()), value.clone());
            }
        }
    }
    m
}

/// The check of a host or service: `check`+`args` or `command`, and what is reported.
fn check_of(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    me: &str,
    fixed: &HashMap<String, String>,
    host: &str,
    address: &str,
    t: &mut Toml,
) -> Result<(), String> {
    let Some((call, place)) = r.var("check_command") else {
        return Ok(());
    };
    let place = place.clone();
    let owner = cx.owner(r, r.vars["check_command"].from, me);
    let (line, left) = cx.call(call, &place, fixed, command::DAEMON_MACROS)?;
    for m in left {
        cx.report.add(&place, format!(
            "{me}: check_command {}: the macro ${m}$ is not expanded by hcoop-monitor: the command sees the text as written",
            shown(call)
        ));
    }
    match command::classify(&line, cx.user1.as_deref(), host, address) {
        Check::Builtin { name, args } => {
            t.string("check", &name);
            t.strings("args", &args);
        }
        Check::External { command, why } => {
            if let Some(why) = why {
                cx.report.add(
                    &place,
                    format!(
                        "{owner}: check_command {}: {why}: kept as an external command",
                        shown(call)
                    ),
                );
            }
            t.string("command", &command);
        }
    }
    Ok(())
}

/// The settings hosts and services share, in our names.
fn settings(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    me: &str,
    t: &mut Toml,
    implied: Option<&Resolved>,
    fixed: &HashMap<String, String>,
) -> Result<(), String> {
    // services take the host's contacts, notification interval and period when neither
    // they nor their templates set them (Nagios' implied inheritance)
    let from = |name: &str| -> Option<&Resolved> {
        if r.vars.contains_key(name) {
            Some(r)
        } else {
            implied
        }
    };
    let interval = cx
        .seconds(r, "check_interval")?
        .or(cx.seconds(r, "normal_check_interval")?);
    let mut active = cx.boolean(r, "active_checks_enabled")?;
    match interval {
        Some(d) if d.is_zero() => {
            let place = r
                .var("check_interval")
                .or(r.var("normal_check_interval"))
                .map(|(_, p)| p.clone())
                .unwrap_or(r.place.clone());
            cx.report.add(&place, format!("{me}: check_interval 0: not scheduled by Nagios: written as active_checks_enabled = false"));
            active = Some(false);
        }
        Some(d) => t.duration("check_interval", d),
        None => {}
    }
    let retry = cx
        .seconds(r, "retry_interval")?
        .or(cx.seconds(r, "retry_check_interval")?);
    if let Some(d) = retry.filter(|d| !d.is_zero()) {
        t.duration("retry_interval", d);
    }
    if let Some(n) = cx.number(r, "max_check_attempts")? {
        t.integer("max_check_attempts", (n as u64).max(1));
    }
    let notify_from = from("notification_interval");
    if let Some(src) = notify_from {
        if let Some(d) = cx.seconds(src, "notification_interval")? {
            t.duration("notification_interval", d);
        }
    }
    if let Some(d) = cx.seconds(r, "first_notification_delay")? {
        t.duration("first_notification_delay", d);
    }
    let contacts_from = if r.vars.contains_key("contacts") || r.vars.contains_key("contact_groups")
    {
        Some(r)
    } else {
        implied
    };
    if let Some(src) = contacts_from {
        let c = src.list("contacts");
        if !c.is_empty() {
            t.strings("contacts", &c);
        }
        let g = src.list("contact_groups");
        if !g.is_empty() {
            t.strings("contact_groups", &g);
        }
    }
    for (from_key, to) in [
        ("notifications_enabled", "notifications_enabled"),
        ("flap_detection_enabled", "flap_detection"),
        ("event_handler_enabled", "event_handler_enabled"),
        ("passive_checks_enabled", "passive_checks_enabled"),
        ("check_freshness", "check_freshness"),
    ] {
        if let Some(b) = cx.boolean(r, from_key)? {
            t.boolean(to, b);
        }
    }
    if let Some(b) = active {
        t.boolean("active_checks_enabled", b);
    }
    if let Some(p) = r.get("check_period") {
        t.string("check_period", p.trim());
    }
    if let Some(p) = from("notification_period").and_then(|s| s.get("notification_period")) {
        t.string("notification_period", p.trim());
    }
    if let Some((v, place)) = r.var("freshness_threshold") {
        let secs: u64 = v
            .trim()
            .parse()
            .map_err(|_| format!("{place}: freshness_threshold '{v}': expected seconds"))?;
        if secs == 0 {
            let place = place.clone();
            cx.report.add(&place, format!(
                "{me}: freshness_threshold 0 (Nagios works one out): not carried over, set one in seconds"
            ));
        } else {
            t.duration("freshness_threshold", Duration::from_secs(secs));
        }
    }
    if let Some((call, place)) = r.var("event_handler") {
        let place = place.clone();
        let call = call.to_string();
        let owner = cx.owner(r, r.vars["event_handler"].from, me);
        match handler(cx, &call, &place, fixed)? {
            Ok(line) => t.string("event_handler", &line),
            Err(why) => cx.report.add(
                &place,
                format!(
                    "{owner}: event_handler {}: {why}: not carried over",
                    shown(&call)
                ),
            ),
        }
    }
    Ok(())
}

/// An event handler call as the line the daemon runs (its macros left for it to
/// expand, the object's fixed ones it does not know put in), or why it cannot be.
fn handler(
    cx: &mut Ctx<'_>,
    call: &str,
    place: &Place,
    fixed: &HashMap<String, String>,
) -> Result<Result<String, String>, String> {
    let theirs = crate::handler::MACROS;
    let fixed: HashMap<String, String> = fixed
        .iter()
        .filter(|(k, _)| !theirs.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let (line, left) = cx.call(call, place, &fixed, theirs)?;
    if let Some(m) = left.first() {
        return Ok(Err(format!(
            "the macro ${m}$ is not one hcoop-monitor gives event handlers"
        )));
    }
    Ok(command::handler_line(&line).ok_or_else(|| {
        "its command line needs a shell, which hcoop-monitor never uses for event handlers"
            .to_string()
    }))
}

fn host(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    host_index: &HashMap<String, usize>,
    timeout: Option<Duration>,
    t: &mut Toml,
) -> Result<(), String> {
    let name = r.get("host_name").unwrap_or_default();
    let me = format!("host '{name}'");
    t.entry("host");
    if let Some(alias) = r.get("alias") {
        t.comment(&format!("alias: {alias}"));
    }
    t.string("name", name);
    let address = r.get("address").unwrap_or(name).trim().to_string();
    t.string("address", &address);
    let parents = r.list("parents");
    for p in &parents {
        if !host_index.contains_key(p) {
            let place = r.var("parents").map_or(&r.place, |(_, p)| p);
            return Err(format!("{place}: {me}: parent '{p}' is not a host"));
        }
    }
    if !parents.is_empty() {
        t.strings("parents", &parents);
    }
    let fixed = fixed_macros(r, None);
    check_of(cx, r, &me, &fixed, name, &address, t)?;
    if let Some(d) = timeout {
        t.duration("timeout", d);
    }
    settings(cx, r, &me, t, None, &fixed)?;
    scheduled_leftovers(
        cx,
        r,
        &me,
        &["host_name", "address", "parents", "hostgroups"],
    );
    *t.count() += 1;
    Ok(())
}

/// Reports what a host or service sets that is not handled: our [`TIMING`] and
/// [`SCHEDULE`], its `own` keys and the custom variables its commands name (carried in
/// them).
fn scheduled_leftovers(cx: &mut Ctx<'_>, r: &Resolved, me: &str, own: &[&str]) {
    let mut handled: Vec<&str> = TIMING.to_vec();
    handled.extend(SCHEDULE);
    handled.extend(own);
    let customs: Vec<&str> = r
        .vars
        .keys()
        .filter(|k| k.starts_with('_') && used_custom(cx, r, k))
        .map(String::as_str)
        .collect();
    handled.extend(customs);
    cx.leftovers(r, me, &handled);
}

/// Whether the object's check command or event handler names a custom variable.
fn used_custom(cx: &Ctx<'_>, r: &Resolved, var: &str) -> bool {
    let var = var.trim_start_matches('_').to_uppercase();
    ["check_command", "event_handler"].iter().any(|k| {
        r.get(k).is_some_and(|call| {
            let (name, args) = command::split_call(call);
            let line = cx.commands.get(&name).map_or("", |(l, _)| l.as_str());
            std::iter::once(line)
                .chain(args.iter().map(String::as_str))
                .any(|c| {
                    c.contains(&format!("_HOST{var}$")) || c.contains(&format!("_SERVICE{var}$"))
                })
        })
    })
}

fn service(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    host: &Resolved,
    desc: &str,
    t: &mut Toml,
) -> Result<(), String> {
    let hname = host.get("host_name").unwrap_or_default();
    let me = service_name(r);
    t.entry("service");
    t.string("host", hname);
    t.string("name", desc);
    let address = host.get("address").unwrap_or(hname).trim().to_string();
    let fixed = fixed_macros(host, Some((r, desc)));
    check_of(cx, r, &me, &fixed, hname, &address, t)?;
    if r.get("check_command").is_none() {
        return Err(format!("{}: {me}: a service needs check_command", r.place));
    }
    settings(cx, r, &me, t, Some(host), &fixed)?;
    scheduled_leftovers(
        cx,
        r,
        &me,
        &[
            "host_name",
            "hostgroup_name",
            "service_description",
            "servicegroups",
        ],
    );
    *t.count() += 1;
    Ok(())
}

fn contact(cx: &mut Ctx<'_>, r: &Resolved, t: &mut Toml) -> Result<(), String> {
    let name = r.get("contact_name").unwrap_or_default();
    let me = format!("contact '{name}'");
    let mut fixed = HashMap::new();
    fixed.insert("CONTACTNAME".to_string(), name.to_string());
    fixed.insert(
        "CONTACTALIAS".to_string(),
        r.get("alias").unwrap_or(name).to_string(),
    );
    fixed.insert(
        "CONTACTEMAIL".to_string(),
        r.get("email").unwrap_or_default().to_string(),
    );
    fixed.insert(
        "CONTACTPAGER".to_string(),
        r.get("pager").unwrap_or_default().to_string(),
    );
    for n in 1..=6 {
        fixed.insert(
            format!("CONTACTADDRESS{n}"),
            r.get(&format!("address{n}"))
                .unwrap_or_default()
                .to_string(),
        );
    }
    for (k, v) in &r.vars {
        if let (Some(var), Some(value)) = (k.strip_prefix('_'), &v.value) {
            fixed.insert(format!("_CONTACT{}", var.to_uppercase()), value.clone());
        }
    }
    let lines = |cx: &mut Ctx<'_>, key: &str| -> Result<Vec<String>, String> {
        let Some((calls, place)) = r.var(key) else {
            return Ok(Vec::new());
        };
        let place = place.clone();
        let owner = cx.owner(r, r.vars[key].from, &me);
        let mut out = Vec::new();
        for call in split_list(calls) {
            let (line, left) = cx.call(&call, &place, &fixed, &[])?;
            // what the daemon gives a notification command in its environment
            let mut env_line = line.clone();
            for m in &left {
                env_line = env_line.replace(&format!("${m}$"), &format!("${{NAGIOS_{m}}}"));
                if !NOTIFICATION_ENV.contains(&m.as_str()) {
                    cx.report.add(&place, format!(
                        "{owner}: {key} {call}: the macro ${m}$ is not given to notification commands by hcoop-monitor: it is empty"
                    ));
                }
            }
            out.push(env_line.trim().to_string());
        }
        Ok(out)
    };
    let service_cmds = lines(cx, "service_notification_commands")?;
    let host_cmds = lines(cx, "host_notification_commands")?;
    t.entry("contact");
    if let Some(alias) = r.get("alias") {
        t.comment(&format!("alias: {alias}"));
    }
    t.string("name", name);
    let join = |c: &[String]| c.join("; ");
    let command = if service_cmds == host_cmds {
        join(&service_cmds)
    } else {
        let mut s = String::from("if [ -n \"${NAGIOS_SERVICEDESC}\" ]; then ");
        let either = |c: &[String]| {
            if c.is_empty() {
                ":".to_string()
            } else {
                join(c)
            }
        };
        s.push_str(&either(&service_cmds));
        s.push_str("; else ");
        s.push_str(&either(&host_cmds));
        s.push_str("; fi");
        s
    };
    if command.is_empty() {
        cx.report.add(
            &r.place,
            format!("{me}: no notification commands: written with the command /bin/true"),
        );
        t.string("command", "/bin/true");
    } else {
        t.string("command", &command);
    }
    for (kind, enabled, options, all) in [
        (
            "service_options",
            "service_notifications_enabled",
            "service_notification_options",
            "w,u,c,r,f,s",
        ),
        (
            "host_options",
            "host_notifications_enabled",
            "host_notification_options",
            "d,u,r,f,s",
        ),
    ] {
        let on = cx.boolean(r, enabled)?.unwrap_or(true);
        let value = match (on, r.get(options)) {
            (false, _) => Some("n".to_string()),
            // 'a' (all) is Nagios' shorthand for every letter
            (true, Some(o)) if split_list(o).iter().any(|x| x == "a") => Some(all.to_string()),
            (true, Some(o)) => Some(split_list(o).join(",")),
            (true, None) => None,
        };
        if let Some(v) = value {
            t.string(kind, &v);
        }
    }
    for key in ["service_notification_period", "host_notification_period"] {
        if let Some(p) = r.get(key) {
            t.string(key, p.trim());
        }
    }
    let mut handled = vec![
        "contact_name",
        "alias",
        "contactgroups",
        "service_notification_commands",
        "host_notification_commands",
        "service_notifications_enabled",
        "host_notifications_enabled",
        "service_notification_options",
        "host_notification_options",
        "service_notification_period",
        "host_notification_period",
    ];
    // the addresses are carried where a command names them
    let mut named = String::new();
    for key in [
        "service_notification_commands",
        "host_notification_commands",
    ] {
        for call in r.list(key) {
            if let Some((line, _)) = cx.commands.get(&command::split_call(&call).0) {
                named.push_str(line);
            }
        }
    }
    for (key, m) in [("email", "$CONTACTEMAIL$"), ("pager", "$CONTACTPAGER$")] {
        if named.contains(m) {
            handled.push(key);
        }
    }
    cx.leftovers(r, &me, &handled);
    *t.count() += 1;
    Ok(())
}

/// What dependencies and escalations select from.
struct Selection<'a> {
    hosts: &'a [&'a Resolved],
    host_index: &'a HashMap<String, usize>,
    host_groups: &'a [Group],
    service_groups: &'a [Group],
    by_host: &'a HashMap<String, Vec<String>>,
}

/// The keys [`Selection::services`] reads, without a prefix and with `dependent_`.
const SERVICE_SELECTION: [&str; 4] = [
    "host_name",
    "hostgroup_name",
    "servicegroup_name",
    "service_description",
];
const DEPENDENT_SERVICE_SELECTION: [&str; 4] = [
    "dependent_host_name",
    "dependent_hostgroup_name",
    "dependent_servicegroup_name",
    "dependent_service_description",
];

impl Selection<'_> {
    /// The hosts a host list and host group list name (`prefix` before their keys).
    fn hosts(&self, r: &Resolved, prefix: &str) -> Result<Vec<String>, String> {
        expand_hosts(
            r,
            &format!("{prefix}host_name"),
            &format!("{prefix}hostgroup_name"),
            self.host_index,
            self.hosts,
            self.host_groups,
        )
    }

    /// The `(host, service)` pairs a host list, host group list, service description
    /// list and service group list name.
    fn services(&self, r: &Resolved, prefix: &str) -> Result<Vec<(String, String)>, String> {
        let hosts = self.hosts(r, prefix)?;
        let desc_key = format!("{prefix}service_description");
        let descs = r.list(&desc_key);
        let mut out = Vec::new();
        for h in &hosts {
            let on = self.by_host.get(h).map_or(&[][..], Vec::as_slice);
            match pick(on, &descs) {
                Ok(picked) => out.extend(picked.into_iter().map(|s| (h.clone(), s))),
                Err(d) => {
                    let place = r.var(&desc_key).map_or(&r.place, |(_, p)| p);
                    return Err(format!(
                        "{place}: {}: host '{h}' has no service '{d}'",
                        r.kind
                    ));
                }
            }
        }
        for g in r.list(&format!("{prefix}servicegroup_name")) {
            let Some(grp) = self.service_groups.iter().find(|x| x.name == g) else {
                return Err(format!(
                    "{}: {}: no servicegroup named '{g}'",
                    r.place, r.kind
                ));
            };
            for m in group_closure(self.service_groups, &grp.name) {
                if let Some((h, s)) = m.split_once('/') {
                    out.push((h.to_string(), s.to_string()));
                }
            }
        }
        let mut seen = HashSet::new();
        out.retain(|p| seen.insert(p.clone()));
        Ok(out)
    }
}

/// The services of a host a description list names (`*` all, `!x` not x), in the
/// order listed; `Err(description)` for one the host does not have.
fn pick(on: &[String], descs: &[String]) -> Result<Vec<String>, String> {
    let excluded: Vec<&str> = descs.iter().filter_map(|d| d.strip_prefix('!')).collect();
    let mut out: Vec<String> = Vec::new();
    for d in descs.iter().filter(|d| !d.starts_with('!')) {
        if d == "*" {
            out.extend(on.iter().cloned());
        } else if on.contains(d) {
            out.push(d.clone());
        } else {
            return Err(d.clone());
        }
    }
    out.retain(|d| !excluded.contains(&d.as_str()));
    let mut seen = HashSet::new();
    out.retain(|d| seen.insert(d.clone()));
    Ok(out)
}

fn criteria(r: &Resolved, key: &str) -> String {
    r.get(key)
        .map_or("n".to_string(), |v| split_list(v).join(","))
}

/// The dependency keys both kinds share: the failure criteria (`n` when unset), whether
/// the master's own dependencies are inherited, and the period.
fn dependency_keys(cx: &mut Ctx<'_>, r: &Resolved, t: &mut Toml) -> Result<(), String> {
    t.string(
        "execution_failure_criteria",
        &criteria(r, "execution_failure_criteria"),
    );
    t.string(
        "notification_failure_criteria",
        &criteria(r, "notification_failure_criteria"),
    );
    t.boolean(
        "inherits_parent",
        cx.boolean(r, "inherits_parent")?.unwrap_or(false),
    );
    if let Some(p) = r.get("dependency_period") {
        t.string("dependency_period", p.trim());
    }
    Ok(())
}

/// The keys both dependency kinds handle besides their own selection keys.
const DEPENDENCY_KEYS: [&str; 4] = [
    "execution_failure_criteria",
    "notification_failure_criteria",
    "inherits_parent",
    "dependency_period",
];

fn service_dependency(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    sel: &Selection<'_>,
    t: &mut Toml,
) -> Result<(), String> {
    let me = "servicedependency".to_string();
    let masters = sel.services(r, "")?;
    let same_host = r.get("dependent_host_name").is_none()
        && r.get("dependent_hostgroup_name").is_none()
        && r.get("dependent_servicegroup_name").is_none();
    let mut pairs = Vec::new();
    if same_host {
        // dependents on each master's own host
        let descs = r.list("dependent_service_description");
        for (h, s) in &masters {
            let on = sel.by_host.get(h).map_or(&[][..], Vec::as_slice);
            match pick(on, &descs) {
                Ok(picked) => pairs.extend(
                    picked
                        .into_iter()
                        .map(|d| ((h.clone(), s.clone()), (h.clone(), d))),
                ),
                Err(d) => {
                    let place = r
                        .var("dependent_service_description")
                        .map_or(&r.place, |(_, p)| p);
                    return Err(format!(
                        "{place}: servicedependency: host '{h}' has no service '{d}'"
                    ));
                }
            }
        }
    } else {
        let dependents = sel.services(r, "dependent_")?;
        for m in &masters {
            for d in &dependents {
                pairs.push((m.clone(), d.clone()));
            }
        }
    }
    for (m, d) in pairs {
        if m == d {
            cx.report.add(
                &r.place,
                format!("{me}: '{}/{}' on itself: left out", m.0, m.1),
            );
            continue;
        }
        t.entry("servicedependency");
        t.string("host", &m.0);
        t.string("service", &m.1);
        t.string("dependent_host", &d.0);
        t.string("dependent_service", &d.1);
        dependency_keys(cx, r, t)?;
        *t.count() += 1;
    }
    cx.leftovers(
        r,
        &me,
        &[
            &SERVICE_SELECTION[..],
            &DEPENDENT_SERVICE_SELECTION[..],
            &DEPENDENCY_KEYS[..],
        ]
        .concat(),
    );
    Ok(())
}

fn host_dependency(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    sel: &Selection<'_>,
    t: &mut Toml,
) -> Result<(), String> {
    let masters = sel.hosts(r, "")?;
    let dependents = sel.hosts(r, "dependent_")?;
    for m in &masters {
        for d in &dependents {
            if m == d {
                cx.report.add(
                    &r.place,
                    format!("hostdependency: '{m}' on itself: left out"),
                );
                continue;
            }
            t.entry("hostdependency");
            t.string("host", m);
            t.string("dependent_host", d);
            dependency_keys(cx, r, t)?;
            *t.count() += 1;
        }
    }
    cx.leftovers(
        r,
        "hostdependency",
        &[
            &[
                "host_name",
                "hostgroup_name",
                "dependent_host_name",
                "dependent_hostgroup_name",
            ][..],
            &DEPENDENCY_KEYS[..],
        ]
        .concat(),
    );
    Ok(())
}

/// The keys both escalation kinds handle besides their own selection keys.
const ESCALATION_KEYS: [&str; 7] = [
    "contacts",
    "contact_groups",
    "first_notification",
    "last_notification",
    "notification_interval",
    "escalation_period",
    "escalation_options",
];

/// The escalation keys both kinds share; `of`: the object whose contacts, interval and
/// period it takes when it sets none (Nagios' implied inheritance).
fn escalation_keys(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    of: &[&Resolved],
    t: &mut Toml,
) -> Result<(), String> {
    let first = cx.number(r, "first_notification")?.unwrap_or(1.0) as u64;
    let last = cx.number(r, "last_notification")?.unwrap_or(0.0) as u64;
    t.integer("first_notification", first);
    t.integer("last_notification", last);
    // the escalation's own, else its object's (a service's own, else its host's)
    let mut interval = cx.seconds(r, "notification_interval")?;
    for o in of {
        if interval.is_none() {
            interval = cx.seconds(o, "notification_interval")?;
        }
    }
    t.duration(
        "notification_interval",
        interval.unwrap_or(Duration::from_secs(30 * cx.interval)),
    );
    let period = r
        .get("escalation_period")
        .or_else(|| of.iter().find_map(|o| o.get("notification_period")));
    if let Some(p) = period {
        t.string("escalation_period", p.trim());
    }
    if let Some(o) = r.get("escalation_options") {
        t.string("escalation_options", &split_list(o).join(","));
    }
    let sets =
        |o: &Resolved| o.vars.contains_key("contacts") || o.vars.contains_key("contact_groups");
    let src = std::iter::once(r)
        .chain(of.iter().copied())
        .find(|o| sets(o))
        .unwrap_or(r);
    t.strings("contacts", &src.list("contacts"));
    t.strings("contact_groups", &src.list("contact_groups"));
    Ok(())
}

fn service_escalation(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    sel: &Selection<'_>,
    resolved: &[Resolved],
    service_at: &HashMap<(String, String), usize>,
    t: &mut Toml,
) -> Result<(), String> {
    for (h, s) in sel.services(r, "")? {
        let Some(&k) = service_at.get(&(h.clone(), s.clone())) else {
            return Err(format!(
                "{}: serviceescalation: host '{h}' has no service '{s}'",
                r.place
            ));
        };
        let of = &resolved[k];
        t.entry("serviceescalation");
        t.string("host", &h);
        t.string("service", &s);
        let host = sel.hosts[sel.host_index[&h]];
        escalation_keys(cx, r, &[of, host], t)?;
        *t.count() += 1;
    }
    cx.leftovers(
        r,
        "serviceescalation",
        &[&SERVICE_SELECTION[..], &ESCALATION_KEYS[..]].concat(),
    );
    Ok(())
}

fn host_escalation(
    cx: &mut Ctx<'_>,
    r: &Resolved,
    sel: &Selection<'_>,
    t: &mut Toml,
) -> Result<(), String> {
    for h in sel.hosts(r, "")? {
        let of = sel.hosts[sel.host_index[&h]];
        t.entry("hostescalation");
        t.string("host", &h);
        escalation_keys(cx, r, &[of], t)?;
        *t.count() += 1;
    }
    cx.leftovers(
        r,
        "hostescalation",
        &[&["host_name", "hostgroup_name"][..], &ESCALATION_KEYS[..]].concat(),
    );
    Ok(())
}

/// Service groups: their `members` (`HOST,SERVICE` pairs) and the services that name
/// them in `servicegroups`.
fn service_groups(
    cx: &mut Ctx<'_>,
    resolved: &[Resolved],
    services: &[(String, String, usize)],
    by_host: &HashMap<String, Vec<String>>,
) -> Result<Vec<Group>, String> {
    let mut groups: Vec<Group> = Vec::new();
    for r in resolved.iter().filter(|r| r.kind == "servicegroup") {
        let name = group_name(r, "servicegroup", |n| groups.iter().any(|g| g.name == n))?;
        let items = r.list("members");
        if items.len() % 2 != 0 {
            let place = r.var("members").map_or(&r.place, |(_, p)| p);
            return Err(format!(
                "{place}: servicegroup '{name}': members are HOST,SERVICE pairs; one is incomplete"
            ));
        }
        let mut members = Vec::new();
        for pair in items.chunks(2) {
            let (h, s) = (&pair[0], &pair[1]);
            if !by_host.get(h).is_some_and(|on| on.contains(s)) {
                let place = r.var("members").map_or(&r.place, |(_, p)| p);
                return Err(format!(
                    "{place}: servicegroup '{name}': no service '{s}' on host '{h}'"
                ));
            }
            members.push(format!("{h}/{s}"));
        }
        groups.push(group(cx, r, "servicegroup", name, members));
    }
    let index: HashMap<String, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.clone(), i))
        .collect();
    let mut sets: Vec<HashSet<String>> = groups
        .iter()
        .map(|g| g.members.iter().cloned().collect())
        .collect();
    for (h, s, k) in services {
        let r = &resolved[*k];
        for g in r.list("servicegroups") {
            let Some(&i) = index.get(&g) else {
                let place = r.var("servicegroups").map_or(&r.place, |(_, p)| p);
                return Err(format!(
                    "{place}: service '{s}' on '{h}': no servicegroup named '{g}'"
                ));
            };
            let m = format!("{h}/{s}");
            if sets[i].insert(m.clone()) {
                groups[i].members.push(m);
            }
        }
    }
    nested_known(&groups, &index, "servicegroup")?;
    Ok(groups)
}
