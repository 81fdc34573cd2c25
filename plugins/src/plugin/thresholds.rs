//! A warning and a critical [`Range`] applied to one value; critical is evaluated first.

use super::range::Range;
use super::runner::UsageError;
use super::state::State;

/// A response-time threshold in seconds (`-w 2.5`): alerts above the value. Negative,
/// infinite and NaN values are usage errors naming `what` (`warning`, `critical`).
pub fn seconds_threshold(v: Option<f64>, what: &str) -> Result<Option<Range>, UsageError> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(
            format!("{s}")
                .parse::<Range>()
                .map_err(|e| UsageError(e.to_string()))?,
        )),
        Some(s) => Err(UsageError(format!(
            "{what} time {s} must be a number of seconds, 0 or more"
        ))),
    }
}

/// The `-w` and `-c` pair of one metric. Either may be absent.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Thresholds {
    pub warning: Option<Range>,
    pub critical: Option<Range>,
}

impl Thresholds {
    /// Both ranges.
    pub fn new(warning: Option<Range>, critical: Option<Range>) -> Self {
        Thresholds { warning, critical }
    }

    /// CRITICAL if the critical range alerts, else WARNING if the warning range alerts,
    /// else OK.
    pub fn state(&self, value: f64) -> State {
        if self.critical.is_some_and(|c| c.alerts(value)) {
            State::Critical
        } else if self.warning.is_some_and(|w| w.alerts(value)) {
            State::Warning
        } else {
            State::Ok
        }
    }

    /// True when neither range is set.
    pub fn is_empty(&self) -> bool {
        self.warning.is_none() && self.critical.is_none()
    }

    /// Both ranges multiplied by `factor`.
    pub fn scaled(&self, factor: f64) -> Thresholds {
        Thresholds {
            warning: self.warning.map(|r| r.scaled(factor)),
            critical: self.critical.map(|r| r.scaled(factor)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn critical_is_evaluated_before_warning() {
        let t = Thresholds::new(Some("10".parse().unwrap()), Some("20".parse().unwrap()));
        assert_eq!(t.state(5.0), State::Ok);
        assert_eq!(t.state(10.0), State::Ok);
        assert_eq!(t.state(15.0), State::Warning);
        assert_eq!(t.state(20.0), State::Ok.worst(State::Warning));
        assert_eq!(t.state(25.0), State::Critical);
        // a critical range that alerts where the warning one does not
        let odd = Thresholds::new(Some("@0:5".parse().unwrap()), Some("@3:4".parse().unwrap()));
        assert_eq!(odd.state(3.5), State::Critical);
        assert_eq!(odd.state(1.0), State::Warning);
        assert_eq!(odd.state(6.0), State::Ok);
        assert_eq!(Thresholds::default().state(1e9), State::Ok);
    }
}
