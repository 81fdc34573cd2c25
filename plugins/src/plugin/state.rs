//! Service states, their exit codes, and the one rule that picks the worst of several.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A Nagios service state. Exit codes 0..=3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    Ok,
    Warning,
    Critical,
    Unknown,
}

impl State {
    /// All states, in exit-code order.
    pub const ALL: [State; 4] = [State::Ok, State::Warning, State::Critical, State::Unknown];

    /// The plugin exit code: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    pub fn exit_code(self) -> i32 {
        match self {
            State::Ok => 0,
            State::Warning => 1,
            State::Critical => 2,
            State::Unknown => 3,
        }
    }

    /// The state a plugin exit code stands for; anything outside 0..=3 is UNKNOWN
    /// (as Nagios and nrpe treat it).
    pub fn from_exit_code(code: i32) -> State {
        match code {
            0 => State::Ok,
            1 => State::Warning,
            2 => State::Critical,
            _ => State::Unknown,
        }
    }

    /// Upper-case name as Nagios prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Ok => "OK",
            State::Warning => "WARNING",
            State::Critical => "CRITICAL",
            State::Unknown => "UNKNOWN",
        }
    }

    /// Severity used by [`State::worst`]: OK < WARNING < UNKNOWN < CRITICAL.
    ///
    /// UNKNOWN ranks above WARNING because a part that could not be checked may hide a
    /// critical fault; a CRITICAL that was actually measured still outranks it.
    pub fn severity(self) -> u8 {
        match self {
            State::Ok => 0,
            State::Warning => 1,
            State::Unknown => 2,
            State::Critical => 3,
        }
    }

    /// The worse of two states (see [`State::severity`]).
    pub fn worst(self, other: State) -> State {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }

    /// The worst of any number of states; OK when there are none.
    pub fn worst_of(states: impl IntoIterator<Item = State>) -> State {
        states.into_iter().fold(State::Ok, State::worst)
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;

    /// Accepts names in any case (`ok`, `Warning`, `CRITICAL`, `unknown`) and the digits
    /// 0..=3, as monitoring-plugins' `-t 10:UNKNOWN` and `--no-swap` do.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "OK" | "0" => Ok(State::Ok),
            "WARNING" | "WARN" | "1" => Ok(State::Warning),
            "CRITICAL" | "CRIT" | "2" => Ok(State::Critical),
            "UNKNOWN" | "3" => Ok(State::Unknown),
            _ => Err(format!(
                "'{}' is not a state (expected ok, warning, critical or unknown)",
                super::text::shown(s)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_round_trip() {
        for s in State::ALL {
            assert_eq!(State::from_exit_code(s.exit_code()), s);
        }
        assert_eq!(State::from_exit_code(101), State::Unknown);
        assert_eq!(State::from_exit_code(-1), State::Unknown);
    }

    #[test]
    fn worst_state_rule() {
        use State::*;
        let cases = [
            (Ok, Ok, Ok),
            (Ok, Warning, Warning),
            (Warning, Unknown, Unknown),
            (Unknown, Critical, Critical),
            (Critical, Warning, Critical),
            (Critical, Unknown, Critical),
            (Unknown, Ok, Unknown),
        ];
        for (a, b, want) in cases {
            assert_eq!(a.worst(b), want, "{a} vs {b}");
            assert_eq!(b.worst(a), want, "{b} vs {a}");
        }
        assert_eq!(State::worst_of([]), Ok);
        assert_eq!(State::worst_of([Ok, Warning, Ok]), Warning);
    }

    #[test]
    fn parses_names_and_digits() {
        assert_eq!("unknown".parse::<State>().unwrap(), State::Unknown);
        assert_eq!("Crit".parse::<State>().unwrap(), State::Critical);
        assert_eq!("0".parse::<State>().unwrap(), State::Ok);
        assert!("bad".parse::<State>().is_err());
    }
}
