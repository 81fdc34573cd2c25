//! What follows every applied check result, active or passive, once the state rules
//! have made their transition: [`Core::after_result`].

use crate::daemon::{Core, Target};
use crate::state::{Time, Transition};

pub use crate::state::Before;

impl Core {
    /// Called after every result applied to `target` (`before`: what it was, `tr`: what
    /// applying the result did, the record already updated).
    pub fn after_result(&mut self, target: Target, tr: &Transition, before: Before, now: Time) {
        self.log_result(target, tr, before, now);
        self.history_after_result(target, now);
        self.run_event_handlers(target, before, now);
    }
}
