//! The one place a check is built from its name: the daemon's services and hosts, the
//! configuration's validation, `check-all` and the NRPE agent's built-in commands all
//! call [`build`].

use hcoop_plugins::checks::builtin;
use hcoop_plugins::plugin::runner::DynCheck;
use std::fmt;
use std::sync::Arc;

/// Why a check could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildError {
    /// No built-in check has this name.
    NoSuchCheck(String),
    /// The check refused its arguments (the check's own one-line message).
    Usage(String),
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BuildError::NoSuchCheck(name) => write!(f, "no built-in check named '{name}'"),
            BuildError::Usage(e) => f.write_str(e),
        }
    }
}

impl From<BuildError> for String {
    fn from(e: BuildError) -> String {
        e.to_string()
    }
}

/// Whether a built-in check of this name exists (`check_load`, `load`, or a path
/// ending in one of them).
pub fn exists(name: &str) -> bool {
    #[cfg(test)]
    if fake::is_fake(name) {
        return true;
    }
    builtin(name).is_some()
}

/// Builds a built-in check from its name and arguments (without the program name),
/// validated: ready to run in-process.
pub fn build(name: &str, args: &[String]) -> Result<Arc<dyn DynCheck>, BuildError> {
    #[cfg(test)]
    if fake::is_fake(name) {
        return fake::build(args);
    }
    let build = builtin(name).ok_or_else(|| BuildError::NoSuchCheck(name.to_string()))?;
    build(args).map_err(|e| BuildError::Usage(e.0))
}

/// Builds a check from a command's words: the check's name, then its arguments.
pub fn build_words(words: &[String]) -> Result<Arc<dyn DynCheck>, BuildError> {
    let (name, args) = words
        .split_first()
        .ok_or_else(|| BuildError::Usage("a built-in command needs a check name".into()))?;
    build(name, args)
}

/// A test-only check, `check_fake KEY`, whose state and summary the test sets
/// ([`fake::set`]) and reads back how often it ran ([`fake::runs`]): in-process,
/// without I/O, so it runs under paused time.
#[cfg(test)]
pub mod fake {
    use super::BuildError;
    use hcoop_plugins::plugin::options::TimeoutSpec;
    use hcoop_plugins::plugin::runner::{DynCheck, Work};
    use hcoop_plugins::plugin::{CheckResult, State};
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// The fake check's name.
    pub const NAME: &str = "check_fake";

    #[derive(Default)]
    struct Slot {
        state: Option<State>,
        summary: String,
        runs: u64,
        /// How many times `check_fake KEY` was built (its arguments parsed).
        builds: u64,
        /// When each run started (tokio's time, which a test may pause).
        times: Vec<tokio::time::Instant>,
    }

    static SLOTS: Mutex<Option<HashMap<String, Slot>>> = Mutex::new(None);

    fn with<T>(key: &str, f: impl FnOnce(&mut Slot) -> T) -> T {
        let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
        f(slots
            .get_or_insert_with(HashMap::new)
            .entry(key.to_string())
            .or_default())
    }

    /// Sets what `check_fake KEY` answers from now on.
    pub fn set(key: &str, state: State, summary: &str) {
        with(key, |s| {
            s.state = Some(state);
            s.summary = summary.to_string();
        });
    }

    /// How many times `check_fake KEY` ran.
    pub fn runs(key: &str) -> u64 {
        with(key, |s| s.runs)
    }

    /// How many times `check_fake KEY` was built.
    pub fn builds(key: &str) -> u64 {
        with(key, |s| s.builds)
    }

    /// When each run of `check_fake KEY` started.
    pub fn times(key: &str) -> Vec<tokio::time::Instant> {
        with(key, |s| s.times.clone())
    }

    pub(super) fn is_fake(name: &str) -> bool {
        name == NAME
    }

    pub(super) fn build(args: &[String]) -> Result<Arc<dyn DynCheck>, BuildError> {
        match args {
            [key] => {
                with(key, |s| s.builds += 1);
                Ok(Arc::new(Fake(key.clone())))
            }
            _ => Err(BuildError::Usage("check_fake takes one key".into())),
        }
    }

    struct Fake(String);

    impl DynCheck for Fake {
        fn label(&self) -> &'static str {
            "FAKE"
        }
        fn timeout(&self) -> TimeoutSpec {
            TimeoutSpec {
                duration: Duration::from_secs(10),
                state: State::Critical,
            }
        }
        fn run(&self) -> Work<'_> {
            let (state, summary) = with(&self.0, |s| {
                s.runs += 1;
                s.times.push(tokio::time::Instant::now());
                (s.state.unwrap_or(State::Ok), s.summary.clone())
            });
            Work::Remote(Box::pin(async move { CheckResult::new(state, summary) }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_by_name_with_or_without_prefix() {
        assert!(build("check_load", &[]).is_ok());
        assert!(build("load", &["-w".into(), "5,4,3".into()]).is_ok());
        assert!(exists("/usr/lib/nagios/plugins/check_load"));
        assert_eq!(
            build("check_nothing", &[]).err(),
            Some(BuildError::NoSuchCheck("check_nothing".into()))
        );
        assert_eq!(
            build("check_nothing", &[]).err().unwrap().to_string(),
            "no built-in check named 'check_nothing'"
        );
        assert!(matches!(
            build("check_load", &["--bogus".into()]),
            Err(BuildError::Usage(_))
        ));
        assert!(matches!(build_words(&[]), Err(BuildError::Usage(_))));
    }
}
