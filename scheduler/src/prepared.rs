//! Checks prepared once per distinct check: while the daemon builds its running objects,
//! hosts and services that run the same check (the same built-in check with the same
//! arguments, or the same command line) with the same timeout share one prepared
//! [`Runnable`]. A built-in check is immutable once built (what one run learns lives in
//! that run), so sharing it changes no result; it saves building it again (its command
//! line parsed, its TLS settings made) and the memory of each copy.

use crate::config::CheckSpec;
use crate::exec::{Limits, Runnable};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A prepared check, or why its arguments are refused.
pub type Prepared = Result<Arc<Runnable>, String>;

/// The checks prepared so far (for one build: one set of limits).
pub struct Cache {
    limits: Limits,
    by_check: HashMap<CheckSpec, HashMap<Duration, Prepared>>,
}

impl Cache {
    pub fn new(limits: Limits) -> Cache {
        Cache {
            limits,
            by_check: HashMap::new(),
        }
    }

    /// The check prepared for `check` run with `timeout`: built the first time, shared
    /// after.
    pub fn get(&mut self, check: &CheckSpec, timeout: Duration) -> Prepared {
        if let Some(p) = self.by_check.get(check).and_then(|t| t.get(&timeout)) {
            return p.clone();
        }
        let p = Runnable::prepare(check, timeout, self.limits).map(Arc::new);
        self.by_check
            .entry(check.clone())
            .or_default()
            .insert(timeout, p.clone());
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_check_is_prepared_once() {
        let mut cache = Cache::new(Limits::default());
        let load = |args: &[&str]| CheckSpec::Builtin {
            name: "check_load".into(),
            args: args.iter().map(|a| a.to_string()).collect(),
        };
        let ten = Duration::from_secs(10);
        let a = cache.get(&load(&["-w", "5"]), ten).unwrap();
        let b = cache.get(&load(&["-w", "5"]), ten).unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        // other arguments, or another timeout: another check
        let c = cache.get(&load(&["-w", "6"]), ten).unwrap();
        assert!(!Arc::ptr_eq(&a, &c));
        let d = cache
            .get(&load(&["-w", "5"]), Duration::from_secs(20))
            .unwrap();
        assert!(!Arc::ptr_eq(&a, &d));
        // a refusal is the same for every service that has it
        let bad = cache
            .get(&load(&["-w", "5:2"]), ten)
            .err()
            .expect("refused");
        assert!(bad.contains("5:2"), "{bad}");
        assert_eq!(cache.get(&load(&["-w", "5:2"]), ten).err(), Some(bad));
        let cmd = CheckSpec::External {
            command: "/bin/true".into(),
        };
        let e = cache.get(&cmd, ten).unwrap();
        assert!(Arc::ptr_eq(&e, &cache.get(&cmd, ten).unwrap()));
    }
}
