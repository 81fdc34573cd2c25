//! Checks prepared once per distinct check: while the daemon builds its running objects,
//! hosts and services that run the same check (the same built-in check with the same
//! arguments, or the same command line) with the same timeout share one prepared
//! [`Runnable`]. A built-in check is immutable once built (what one run learns lives in
//! that run), so sharing it changes no result; it saves building it again (its command
//! line parsed, its TLS settings made) and the memory of each copy.

use crate::config::{Built, CheckSpec};
use crate::exec::{Limits, Runnable};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A prepared check, or why its arguments are refused.
pub type Prepared = Result<Arc<Runnable>, String>;

/// The checks prepared so far (for one build: one set of limits).
pub struct Cache {
    limits: Limits,
    /// The built-in checks the configuration's validation built.
    built: Built,
    by_check: HashMap<(Arc<CheckSpec>, Duration), Prepared>,
}

impl Cache {
    pub fn new(limits: Limits, built: Built) -> Cache {
        Cache {
            limits,
            built,
            by_check: HashMap::new(),
        }
    }

    /// The check prepared for `check` run with `timeout`: built the first time (or
    /// taken as validation built it), shared after.
    pub fn get(&mut self, check: &Arc<CheckSpec>, timeout: Duration) -> Prepared {
        let (built, limits) = (&self.built, self.limits);
        self.by_check
            .entry((check.clone(), timeout))
            .or_insert_with(|| match built.0.get(check) {
                Some(built) => Ok(Arc::new(Runnable::Builtin(built.clone()))),
                None => Runnable::prepare(check, timeout, limits).map(Arc::new),
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_check_is_prepared_once() {
        let mut cache = Cache::new(Limits::default(), Built::default());
        let load = |args: &[&str]| {
            Arc::new(CheckSpec::Builtin {
                name: "check_load".into(),
                args: args.iter().map(|a| a.to_string()).collect(),
            })
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
        let cmd = Arc::new(CheckSpec::External {
            command: "/bin/true".into(),
        });
        let e = cache.get(&cmd, ten).unwrap();
        assert!(Arc::ptr_eq(&e, &cache.get(&cmd, ten).unwrap()));
    }
}
