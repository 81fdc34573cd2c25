//! Facts a local check may fail to observe: its fetch reads what the verdict needs or
//! says, in one line, why it could not (a file missing, a user unknown). The verdict on
//! such a failure is always the same, UNKNOWN naming it, and is given here once.

use super::result::CheckResult;

/// What a check read, or why it could not read it.
pub type Observed<T> = Result<T, String>;

/// The verdict on observed facts: `evaluate` on what was read; UNKNOWN, with the reason
/// as the summary, when it could not be read.
pub fn judge<T>(facts: &Observed<T>, evaluate: impl FnOnce(&T) -> CheckResult) -> CheckResult {
    match facts {
        Ok(facts) => evaluate(facts),
        Err(why) => CheckResult::unknown(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::State;

    #[test]
    fn a_failure_to_observe_is_unknown_with_its_reason() {
        let ok: Observed<u32> = Ok(3);
        let r = judge(&ok, |n| {
            CheckResult::new(State::Warning, format!("{n} seen"))
        });
        assert_eq!((r.state(), r.summary.as_str()), (State::Warning, "3 seen"));
        let failed: Observed<u32> = Err("cannot read /proc/x: gone".into());
        let r = judge(&failed, |_| unreachable!("nothing was read"));
        assert_eq!(r.state(), State::Unknown);
        assert_eq!(r.summary, "cannot read /proc/x: gone");
    }
}
