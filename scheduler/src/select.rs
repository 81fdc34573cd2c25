//! Which hosts and services an admin action is about: one object, a host with its
//! services, or a group.

use crate::daemon::{Core, Target};

/// The objects an admin action names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// One host ("HOST") or service ("HOST/SERVICE").
    Object(String),
    /// A host and all its services ("HOST/*").
    Host(String),
    /// The members of a host group (its hosts; not their services, as Nagios'
    /// host group commands that act on hosts).
    HostGroup(String),
    /// The members of a service group.
    ServiceGroup(String),
}

impl Selector {
    /// "HOST", "HOST/SERVICE" or "HOST/*".
    pub fn parse(target: &str) -> Selector {
        match target.strip_suffix("/*") {
            Some(host) => Selector::Host(host.to_string()),
            None => Selector::Object(target.to_string()),
        }
    }
}

impl Core {
    /// The hosts and services `sel` names, in the order of the configuration; an
    /// unknown name is an error.
    pub fn select(&self, sel: &Selector) -> Result<Vec<Target>, String> {
        match sel {
            Selector::Object(key) => self
                .find(key)
                .map(|t| vec![t])
                .ok_or_else(|| format!("no host or service '{key}'")),
            Selector::Host(name) => {
                let Some(Target::Host(h)) = self.find(name) else {
                    return Err(format!("no host '{name}'"));
                };
                Ok(std::iter::once(Target::Host(h))
                    .chain(
                        self.services
                            .iter()
                            .enumerate()
                            .filter(|(_, e)| e.host == h)
                            .map(|(i, _)| Target::Service(i)),
                    )
                    .collect())
            }
            Selector::HostGroup(name) => self.hostgroup_targets(name),
            Selector::ServiceGroup(name) => self.servicegroup_targets(name),
        }
    }
}
