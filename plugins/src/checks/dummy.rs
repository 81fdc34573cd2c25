//! check_dummy: reports the state it is given, with an optional text, as
//! monitoring-plugins' check_dummy does (`check_dummy 2 "disk replaced"`): for tests of
//! notification chains, placeholders and passive services' fallbacks.
//!
//! The output is the peer's, word for word (`OK`, `CRITICAL: text`), not our
//! `LABEL STATE - text` form: scripts and notification templates match on it.

use crate::plugin::{CheckResult, CommonArgs, State, UsageError, Work, EXIT_CODES};
use clap::Parser;

/// Command line of check_dummy.
#[derive(Parser, Debug)]
#[command(
    name = "check_dummy",
    version,
    allow_negative_numbers = true,
    about = "Returns the state given as its first argument (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN), with the optional text of the second.",
    after_help = format!("Prints `STATE` or `STATE: TEXT`, as monitoring-plugins' check_dummy. A state outside 0..3 is UNKNOWN (exit 3): `UNKNOWN: Status 4 is not a supported error state`. Words after TEXT are accepted and not printed, as Debian's check_dummy does.\n\n{EXIT_CODES}")
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The state to return: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN
    #[arg(value_name = "STATE")]
    pub state: Option<String>,

    /// Text printed after the state
    #[arg(value_name = "TEXT")]
    pub text: Option<String>,

    /// Further words (ignored, as by monitoring-plugins' check_dummy)
    #[arg(value_name = "IGNORED", hide = true, num_args = 0.., trailing_var_arg = true)]
    pub rest: Vec<String>,
}

/// The validated check: the state asked for (or the number that names none) and the text.
#[derive(Debug, Clone, PartialEq)]
pub struct DummyCheck {
    /// The state number as given: 0..=3 is a state; any other is reported UNKNOWN.
    pub code: i64,
    pub text: Option<String>,
}

impl crate::plugin::Check for DummyCheck {
    type Args = Args;
    /// Nothing is observed.
    type Facts = ();
    const LABEL: &'static str = "DUMMY";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let word = args.state.ok_or_else(|| {
            UsageError::new("Could not parse arguments: the state (0, 1, 2 or 3) is missing")
        })?;
        let code = word.trim().parse::<i64>().map_err(|_| {
            UsageError::new(format!(
                "Arguments to check_dummy must be an integer, not '{}'",
                crate::plugin::shown(&word)
            ))
        })?;
        Ok(DummyCheck {
            code,
            text: args.text,
        })
    }

    fn fetch(&self) -> Work<'_, ()> {
        Work::local(|| ())
    }

    fn evaluate(&self, _: &()) -> CheckResult {
        let state = match self.code {
            0 => State::Ok,
            1 => State::Warning,
            2 => State::Critical,
            3 => State::Unknown,
            n => {
                return CheckResult::relayed(
                    State::Unknown,
                    format!("UNKNOWN: Status {n} is not a supported error state"),
                )
            }
        };
        let line = match &self.text {
            Some(t) => format!("{state}: {t}"),
            None => state.to_string(),
        };
        CheckResult::relayed(state, line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;
    use crate::plugin::Check;

    fn said(args: &[&str]) -> (State, String) {
        let c: DummyCheck = validate(args).unwrap();
        let r = c.evaluate(&());
        (r.state(), r.relayed.unwrap())
    }

    #[test]
    fn each_state_with_and_without_text() {
        assert_eq!(said(&["0"]), (State::Ok, "OK".into()));
        assert_eq!(
            said(&["0", "some random data"]),
            (State::Ok, "OK: some random data".into())
        );
        assert_eq!(said(&["1"]), (State::Warning, "WARNING".into()));
        assert_eq!(
            said(&["2", "roughly drafted"]),
            (State::Critical, "CRITICAL: roughly drafted".into())
        );
        assert_eq!(
            said(&["3", "daringfireball"]),
            (State::Unknown, "UNKNOWN: daringfireball".into())
        );
        // only the first text is printed, as the peer does
        assert_eq!(
            said(&["2", "a", "b"]),
            (State::Critical, "CRITICAL: a".into())
        );
    }

    #[test]
    fn a_number_outside_the_states_is_unknown() {
        for (arg, n) in [("4", 4), ("-1", -1), ("255", 255)] {
            assert_eq!(
                said(&[arg]),
                (
                    State::Unknown,
                    format!("UNKNOWN: Status {n} is not a supported error state")
                )
            );
        }
    }

    #[test]
    fn missing_or_non_numeric_state_is_refused() {
        let e = validate::<DummyCheck>(&[]).unwrap_err();
        assert!(e.0.starts_with("Could not parse arguments"), "{e}");
        let e = validate::<DummyCheck>(&["x"]).unwrap_err();
        assert!(
            e.0.starts_with("Arguments to check_dummy must be an integer"),
            "{e}"
        );
        assert!(validate::<DummyCheck>(&["99999999999999999999999"]).is_err());
    }
}
