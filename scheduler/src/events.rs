//! What follows every applied check result, active or passive, once the state rules
//! have made their transition: [`Core::after_result`].

use crate::daemon::{Core, Target};
use crate::state::{Condition, Record, StateType, Time, Transition};

/// What a host or service was before a result was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Before {
    /// Its state's name (`OK`, `DOWN`, ...).
    pub state: &'static str,
    pub state_type: StateType,
    pub attempt: u32,
    /// Whether it had been checked before.
    pub checked: bool,
    /// Whether it was flapping.
    pub flapping: bool,
}

impl Before {
    /// What `record` says now, before a result is applied to it.
    pub fn of<C: Condition>(record: &Record<C>) -> Before {
        Before {
            state: record.state.name(),
            state_type: record.state_type,
            attempt: record.attempt,
            checked: record.checked,
            flapping: record.flapping,
        }
    }
}

impl Core {
    /// Called after every result applied to `target` (`before`: what it was, `tr`: what
    /// applying the result did, the record already updated).
    pub fn after_result(&mut self, target: Target, tr: &Transition, before: Before, now: Time) {
        self.log_result(target, tr, before, now);
        self.run_event_handlers(target, before, now);
    }
}
