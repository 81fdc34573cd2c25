//! Templates as Nagios 4 resolves them: an object's own directives win; then each
//! template of its `use` list, left to right, each resolved first with its own
//! templates, gives what is still unset (the first template that has a directive wins);
//! a value starting with `+` on one of the list directives that allow it is added to
//! the template's value; `null` unsets a directive and stops its inheritance; `name`,
//! `use` and `register` are not inherited. Objects with `register 0` are templates
//! only.

use super::parse::{Object, Place};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// A directive after inheritance: its value (`None`: `null`) and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub value: Option<String>,
    pub place: Place,
    /// The index (in the objects as read) of the definition it was written in.
    pub from: usize,
}

/// An object with its templates applied.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub kind: String,
    pub place: Place,
    /// Its index in the objects as read.
    pub index: usize,
    pub vars: BTreeMap<String, Var>,
}

impl Resolved {
    /// A directive's value: `None` when unset or `null`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).and_then(|v| v.value.as_deref())
    }

    /// A directive's value and where it was written.
    pub fn var(&self, name: &str) -> Option<(&str, &Place)> {
        let v = self.vars.get(name)?;
        Some((v.value.as_deref()?, &v.place))
    }

    /// A comma list directive's items, trimmed, empty ones left out.
    pub fn list(&self, name: &str) -> Vec<String> {
        split_list(self.get(name).unwrap_or(""))
    }
}

/// The items of a Nagios comma list.
pub fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// The directives that take `+` additive values, by object type (Nagios 4).
fn additive(kind: &str, name: &str) -> bool {
    let names: &[&str] = match kind {
        "host" => &["parents", "hostgroups", "contact_groups", "contacts"],
        "service" => &[
            "parents",
            "host_name",
            "hostgroup_name",
            "servicegroups",
            "contact_groups",
            "contacts",
        ],
        "contact" => &[
            "host_notification_commands",
            "service_notification_commands",
            "contactgroups",
        ],
        "hostgroup" => &["members", "hostgroup_members"],
        "servicegroup" => &["members", "servicegroup_members"],
        "contactgroup" => &["members", "contactgroup_members"],
        "hostescalation" => &["contacts", "contact_groups", "host_name", "hostgroup_name"],
        "serviceescalation" => &[
            "contacts",
            "contact_groups",
            "host_name",
            "hostgroup_name",
            "service_description",
        ],
        "hostdependency" => &[
            "host_name",
            "hostgroup_name",
            "dependent_host_name",
            "dependent_hostgroup_name",
        ],
        "servicedependency" => &[
            "host_name",
            "hostgroup_name",
            "service_description",
            "servicegroup_name",
            "dependent_host_name",
            "dependent_hostgroup_name",
            "dependent_service_description",
            "dependent_servicegroup_name",
        ],
        _ => &[],
    };
    names.contains(&name)
}

/// The numbers timing a host's or service's checks and notifications, as Nagios names
/// them (old names too).
pub(super) const TIMING: [&str; 7] = [
    "check_interval",
    "normal_check_interval",
    "retry_interval",
    "retry_check_interval",
    "max_check_attempts",
    "notification_interval",
    "first_notification_delay",
];

/// Whether a directive is a number or a 0/1 switch (which `null` sets to 0).
fn numeric(name: &str) -> bool {
    const NUMBERS: &[&str] = &[
        "freshness_threshold",
        "low_flap_threshold",
        "high_flap_threshold",
        "first_notification",
        "last_notification",
        "check_freshness",
        "is_volatile",
        "obsess",
        "obsess_over_host",
        "obsess_over_service",
        "process_perf_data",
        "retain_status_information",
        "retain_nonstatus_information",
        "parallelize_check",
        "inherits_parent",
        "can_submit_commands",
        "hourly_value",
        "importance",
        "minimum_importance",
    ];
    TIMING.contains(&name) || NUMBERS.contains(&name) || name.ends_with("_enabled")
}

/// The directives a template does not pass on.
const NOT_INHERITED: &[&str] = &["name", "use", "register"];

/// How deep `use` chains may go.
const MAX_DEPTH: usize = 64;

/// Resolves every object's templates; returns the registered objects (those without
/// `register 0`), in the order read.
pub fn resolve(objects: &[Object]) -> Result<Vec<Resolved>, String> {
    // templates by type and name (a later definition of a name replaces an earlier one,
    // as Nagios warns and does)
    let mut names: HashMap<(&str, &str), usize> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        if let Some(name) = o.get("name") {
            names.insert((o.kind.as_str(), name), i);
        }
    }
    let mut memo: Vec<Option<Resolved>> = vec![None; objects.len()];
    let mut out = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        let resolved = resolve_one(objects, &names, &mut memo, i, &mut Vec::new())?;
        match o.get("register").map(str::trim) {
            Some("0") => {}
            Some("1") | None => out.push(resolved),
            Some(other) => {
                let line = o
                    .directives
                    .iter()
                    .rev()
                    .find(|d| d.name == "register")
                    .map_or(o.place.line, |d| d.line);
                return Err(format!(
                    "{}:{line}: register '{other}': expected 0 or 1",
                    o.place.file
                ));
            }
        }
    }
    // the '+' of an additive value no template completed is dropped
    for r in &mut out {
        for (name, v) in r.vars.iter_mut() {
            if additive(&r.kind, name) {
                if let Some(rest) = v.value.as_deref().and_then(|s| s.strip_prefix('+')) {
                    v.value = Some(rest.to_string());
                }
            }
        }
    }
    Ok(out)
}

fn resolve_one(
    objects: &[Object],
    names: &HashMap<(&str, &str), usize>,
    memo: &mut Vec<Option<Resolved>>,
    i: usize,
    stack: &mut Vec<usize>,
) -> Result<Resolved, String> {
    if let Some(r) = &memo[i] {
        return Ok(r.clone());
    }
    let o = &objects[i];
    if stack.contains(&i) || stack.len() > MAX_DEPTH {
        let mut chain = String::new();
        for &j in stack.iter().chain(std::iter::once(&i)) {
            let name = objects[j].get("name").unwrap_or("?");
            let _ = write!(
                chain,
                "{}{name}",
                if chain.is_empty() { "" } else { " -> " }
            );
        }
        return Err(format!(
            "{}: {} templates use each other in a loop (or more than {MAX_DEPTH} deep): {chain}",
            o.place, o.kind
        ));
    }
    let mut vars: BTreeMap<String, Var> = BTreeMap::new();
    for d in &o.directives {
        // Nagios reads a number or a switch written `null` as 0; other directives are
        // unset by it
        let value = match d.value.as_str() {
            "null" if numeric(&d.name) => Some("0".to_string()),
            "null" => None,
            v => Some(v.to_string()),
        };
        vars.insert(
            d.name.clone(),
            Var {
                value,
                place: Place {
                    file: o.place.file.clone(),
                    line: d.line,
                },
                from: i,
            },
        );
    }
    if let Some(used) = o.get("use") {
        let line = o
            .directives
            .iter()
            .rev()
            .find(|d| d.name == "use")
            .map_or(o.place.line, |d| d.line);
        stack.push(i);
        for t in super::resolve::split_list(used) {
            let Some(&j) = names.get(&(o.kind.as_str(), t.as_str())) else {
                stack.pop();
                return Err(format!(
                    "{}:{line}: {} uses the template '{t}', which is not defined",
                    o.place.file, o.kind
                ));
            };
            let template = resolve_one(objects, names, memo, j, stack)?;
            for (name, tv) in template.vars {
                if NOT_INHERITED.contains(&name.as_str()) {
                    continue;
                }
                match vars.get_mut(&name) {
                    None => {
                        vars.insert(name, tv);
                    }
                    Some(own) => {
                        let own_add = own.value.as_deref().and_then(|s| s.strip_prefix('+'));
                        if let (Some(rest), Some(base), true) =
                            (own_add, tv.value.as_deref(), additive(&o.kind, &name))
                        {
                            own.value = Some(format!("{base},{rest}"));
                        }
                    }
                }
            }
        }
        stack.pop();
    }
    let r = Resolved {
        kind: o.kind.clone(),
        place: o.place.clone(),
        index: i,
        vars,
    };
    memo[i] = Some(r.clone());
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::parse::Directive;
    use std::sync::Arc;

    fn object(kind: &str, line: u32, directives: &[(&str, &str)]) -> Object {
        Object {
            kind: kind.into(),
            place: Place {
                file: Arc::from("o.cfg"),
                line,
            },
            directives: directives
                .iter()
                .enumerate()
                .map(|(k, (n, v))| Directive {
                    name: n.to_string(),
                    value: v.to_string(),
                    line: line + 1 + k as u32,
                })
                .collect(),
        }
    }

    #[test]
    fn multiple_inheritance_left_wins_depth_first() {
        let objects = vec![
            object(
                "host",
                1,
                &[("name", "a"), ("register", "0"), ("check_interval", "1")],
            ),
            object(
                "host",
                10,
                &[
                    ("name", "b"),
                    ("register", "0"),
                    ("check_interval", "2"),
                    ("retry_interval", "2"),
                ],
            ),
            object(
                "host",
                20,
                &[
                    ("name", "c"),
                    ("use", "b"),
                    ("register", "0"),
                    ("max_check_attempts", "7"),
                ],
            ),
            object(
                "host",
                30,
                &[("host_name", "h"), ("use", "a,c"), ("retry_interval", "9")],
            ),
        ];
        let r = resolve(&objects).unwrap();
        assert_eq!(r.len(), 1);
        let h = &r[0];
        assert_eq!(h.get("check_interval"), Some("1")); // a before c (and b under c)
        assert_eq!(h.get("retry_interval"), Some("9")); // own wins
        assert_eq!(h.get("max_check_attempts"), Some("7")); // from c
        assert_eq!(h.var("max_check_attempts").unwrap().1.line, 24);
        assert_eq!(h.vars["max_check_attempts"].from, 2);
        assert_eq!(h.get("register"), None); // not inherited
        assert_eq!(h.get("name"), None);
    }

    #[test]
    fn additive_values_and_null() {
        let objects = vec![
            object(
                "host",
                1,
                &[
                    ("name", "t"),
                    ("register", "0"),
                    ("hostgroups", "all"),
                    ("notes", "n"),
                    ("parents", "p"),
                ],
            ),
            object(
                "host",
                10,
                &[
                    ("host_name", "h"),
                    ("use", "t"),
                    ("hostgroups", "+web"),
                    ("notes", "null"),
                    ("contacts", "+x"),
                    ("notification_interval", "null"),
                    ("notifications_enabled", "null"),
                ],
            ),
            // '+' is additive only on list directives
            object(
                "host",
                20,
                &[
                    ("host_name", "i"),
                    ("use", "t"),
                    ("alias", "+x"),
                    ("parents", "null"),
                ],
            ),
        ];
        let r = resolve(&objects).unwrap();
        assert_eq!(r[0].get("hostgroups"), Some("all,web"));
        assert_eq!(r[0].get("notes"), None);
        assert!(r[0].vars.contains_key("notes"));
        assert_eq!(r[0].get("contacts"), Some("x")); // nothing to add to
        assert_eq!(r[0].get("parents"), Some("p"));
        // a number or switch written null is 0, as Nagios reads it
        assert_eq!(r[0].get("notification_interval"), Some("0"));
        assert_eq!(r[0].get("notifications_enabled"), Some("0"));
        assert_eq!(r[1].get("alias"), Some("+x"));
        assert_eq!(r[1].get("parents"), None);
        assert_eq!(r[1].get("hostgroups"), Some("all"));
    }

    #[test]
    fn additive_through_a_chain() {
        let objects = vec![
            object(
                "service",
                1,
                &[("name", "a"), ("register", "0"), ("servicegroups", "g1")],
            ),
            object(
                "service",
                10,
                &[
                    ("name", "b"),
                    ("use", "a"),
                    ("register", "0"),
                    ("servicegroups", "+g2"),
                ],
            ),
            object(
                "service",
                20,
                &[("use", "b"), ("host_name", "h"), ("servicegroups", "+g3")],
            ),
        ];
        let r = resolve(&objects).unwrap();
        assert_eq!(r[0].get("servicegroups"), Some("g1,g2,g3"));
    }

    #[test]
    fn errors_name_the_place() {
        let e = resolve(&[object("host", 5, &[("use", "nope")])]).unwrap_err();
        assert_eq!(
            e,
            "o.cfg:6: host uses the template 'nope', which is not defined"
        );
        let e = resolve(&[
            object("host", 1, &[("name", "a"), ("use", "b")]),
            object("host", 10, &[("name", "b"), ("use", "a")]),
        ])
        .unwrap_err();
        assert!(
            e.starts_with("o.cfg:1: host templates use each other in a loop"),
            "{e}"
        );
        assert!(e.ends_with("a -> b -> a"), "{e}");
        let e = resolve(&[object("host", 1, &[("register", "2")])]).unwrap_err();
        assert_eq!(e, "o.cfg:2: register '2': expected 0 or 1");
        // a template of another type is not found
        let e = resolve(&[
            object("service", 1, &[("name", "a"), ("register", "0")]),
            object("host", 10, &[("use", "a")]),
        ])
        .unwrap_err();
        assert!(e.contains("'a', which is not defined"), "{e}");
    }
}
