//! The one result type every check returns: a state, a summary, sub-results and
//! perfdata. Only [`super::output`] turns it into text.

use super::perfdata::PerfData;
use super::state::State;
use serde::Serialize;

/// One line of long output. With a state it is a sub-result (one vhost, one slave,
/// one disk) and takes part in the overall state; without one it is plain text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Detail {
    pub state: Option<State>,
    pub text: String,
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckResult {
    /// The check's own state, before sub-results are taken into account.
    own_state: State,
    /// The first-line summary.
    pub summary: String,
    /// Long output lines and sub-results, in the order the check gave them.
    pub details: Vec<Detail>,
    /// Performance data, in order.
    pub perfdata: Vec<PerfData>,
    /// Text relayed as it is from a remote plugin (NRPE): printed instead of
    /// `LABEL STATE - summary`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relayed: Option<String>,
    /// True when the check gave up because its time (`-t`) ran out: the runner then
    /// reports the state `-t` names (CRITICAL unless given), whatever the check set.
    #[serde(skip)]
    pub timed_out: bool,
}

impl CheckResult {
    /// A result with a state and a summary.
    pub fn new(state: State, summary: impl Into<String>) -> Self {
        CheckResult {
            own_state: state,
            summary: summary.into(),
            details: Vec::new(),
            perfdata: Vec::new(),
            relayed: None,
            timed_out: false,
        }
    }

    /// A check that ran out of time (a server that never answered, a read that never
    /// ended): CRITICAL here, and the runner reports it in the state `-t N:STATE` names.
    /// Every check reports its own time running out through this, never with a state
    /// of its own choosing.
    pub fn timed_out(summary: impl Into<String>) -> Self {
        let mut r = Self::new(State::Critical, summary);
        r.timed_out = true;
        r
    }

    /// Applies the timeout state of `-t`: a result that [`CheckResult::timed_out`] takes
    /// exactly `state` as its own; sub-results keep theirs.
    pub fn with_timeout_state(mut self, state: State) -> Self {
        if self.timed_out {
            self.own_state = state;
        }
        self
    }

    /// A remote plugin's state and output, printed unchanged; the summary is its first
    /// line without perfdata.
    pub fn relayed(state: State, text: impl Into<String>) -> Self {
        let text = text.into();
        let first = text.lines().next().unwrap_or("");
        let summary = first.split('|').next().unwrap_or("").trim_end();
        let mut r = Self::new(state, summary);
        r.relayed = Some(text);
        r
    }

    /// An UNKNOWN result: the check could not determine the state.
    pub fn unknown(summary: impl Into<String>) -> Self {
        Self::new(State::Unknown, summary)
    }

    /// The overall state: the worst of the check's own state and every sub-result.
    pub fn state(&self) -> State {
        State::worst_of(
            std::iter::once(self.own_state).chain(self.details.iter().filter_map(|d| d.state)),
        )
    }

    /// Raises the check's own state to at least `state`.
    pub fn raise(&mut self, state: State) {
        self.own_state = self.own_state.worst(state);
    }

    /// Appends a sub-result.
    pub fn push_sub(&mut self, state: State, text: impl Into<String>) {
        self.details.push(Detail {
            state: Some(state),
            text: text.into(),
        });
    }

    /// Appends a plain long-output line.
    pub fn push_line(&mut self, text: impl Into<String>) {
        self.details.push(Detail {
            state: None,
            text: text.into(),
        });
    }

    /// Appends a perfdata item.
    pub fn push_perf(&mut self, p: PerfData) {
        self.perfdata.push(p);
    }

    /// Builder form of [`CheckResult::push_perf`].
    pub fn with_perf(mut self, p: PerfData) -> Self {
        self.perfdata.push(p);
        self
    }

    /// Sub-results in a given state.
    pub fn subs_in(&self, state: State) -> impl Iterator<Item = &Detail> {
        self.details.iter().filter(move |d| d.state == Some(state))
    }

    /// Sets the summary from the sub-results: the texts of those that are not OK, in
    /// order, joined with `; `; or `ok` when there is none.
    pub fn summarize_troubles(&mut self, ok: impl Into<String>) {
        let troubles: Vec<&str> = self
            .details
            .iter()
            .filter(|d| d.state.is_some_and(|s| s != State::Ok))
            .map(|d| d.text.as_str())
            .collect();
        self.summary = if troubles.is_empty() {
            ok.into()
        } else {
            troubles.join("; ")
        };
    }

    /// This result as one that ran out of time as a whole (nothing answered within the
    /// check's time): [`CheckResult::timed_out`] with the same summary and perfdata, and
    /// the sub-results kept as plain lines, their state having been the timeout's.
    pub fn into_timed_out(self) -> Self {
        let mut t = Self::timed_out(self.summary);
        t.details = self
            .details
            .into_iter()
            .map(|d| Detail {
                state: None,
                text: d.text,
            })
            .collect();
        t.perfdata = self.perfdata;
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn troubles_summary_and_timed_out_as_a_whole() {
        let mut r = CheckResult::new(State::Ok, "");
        r.push_sub(State::Ok, "a fine");
        r.summarize_troubles("all fine");
        assert_eq!(r.summary, "all fine");
        r.push_sub(State::Critical, "b: no answer within 1.8s");
        r.push_sub(State::Warning, "c slow");
        r.summarize_troubles("all fine");
        assert_eq!(r.summary, "b: no answer within 1.8s; c slow");
        let t = r.into_timed_out();
        assert!(t.timed_out);
        assert_eq!(t.summary, "b: no answer within 1.8s; c slow");
        assert!(t.details.iter().all(|d| d.state.is_none()));
        assert_eq!(t.details.len(), 3);
        assert_eq!(t.with_timeout_state(State::Unknown).state(), State::Unknown);
    }

    #[test]
    fn worst_sub_result_wins() {
        let mut r = CheckResult::new(State::Ok, "3 disks");
        r.push_sub(State::Ok, "/");
        r.push_line("plain text does not count");
        assert_eq!(r.state(), State::Ok);
        r.push_sub(State::Warning, "/var");
        assert_eq!(r.state(), State::Warning);
        r.push_sub(State::Critical, "/home");
        r.push_sub(State::Unknown, "/afs");
        assert_eq!(r.state(), State::Critical);
        assert_eq!(r.subs_in(State::Warning).count(), 1);
    }

    #[test]
    fn relayed_keeps_the_text() {
        let r = CheckResult::relayed(State::Warning, "DISK WARNING - 9% | a=1\nmore");
        assert_eq!(r.summary, "DISK WARNING - 9%");
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.relayed.as_deref(), Some("DISK WARNING - 9% | a=1\nmore"));
    }

    #[test]
    fn a_timed_out_result_takes_the_state_of_t() {
        let r = CheckResult::timed_out("no answer within 9s");
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.clone().with_timeout_state(State::Unknown).state(),
            State::Unknown
        );
        assert_eq!(r.with_timeout_state(State::Ok).state(), State::Ok);
        let plain = CheckResult::new(State::Critical, "refused");
        assert_eq!(
            plain.with_timeout_state(State::Unknown).state(),
            State::Critical
        );
    }

    #[test]
    fn own_state_counts_too() {
        let mut r = CheckResult::new(State::Ok, "x");
        r.push_sub(State::Warning, "a");
        r.raise(State::Unknown);
        assert_eq!(r.state(), State::Unknown);
        r.raise(State::Ok);
        assert_eq!(r.state(), State::Unknown);
    }
}
