//! Options every check shares: `-v`, `-t SECONDS[:STATE]`, `--output-format`.
//! (`-h`/`--help` and `-V`/`--version` come from clap and exit 0.)

use super::state::State;
use std::str::FromStr;
use std::time::Duration;

/// The `-t` value: how long the check may take and the state it reports when it does not
/// finish in time (CRITICAL unless given, as in monitoring-plugins).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeoutSpec {
    pub duration: Duration,
    pub state: State,
}

impl Default for TimeoutSpec {
    fn default() -> Self {
        TimeoutSpec {
            duration: Duration::from_secs(10),
            state: State::Critical,
        }
    }
}

impl FromStr for TimeoutSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (secs, state) = match s.split_once(':') {
            Some((secs, state)) => (secs, state.parse::<State>()?),
            None => (s, State::Critical),
        };
        let v: f64 = secs
            .trim()
            .parse()
            .map_err(|_| format!("'{}' is not a number of seconds", super::text::shown(secs)))?;
        if !(v > 0.0 && v <= 86_400.0) {
            return Err(format!(
                "timeout {} must be more than 0 and at most 86400 seconds",
                super::text::shown(secs)
            ));
        }
        Ok(TimeoutSpec {
            duration: Duration::from_secs_f64(v),
            state,
        })
    }
}

/// How the result is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// Nagios plugin text
    #[default]
    Nagios,
    /// one JSON object
    Json,
    /// as monitoring-plugins 3.0 prints it: `[STATE] - summary`, then one indented
    /// `\_[STATE] - text` line per sub-result
    MultiLine,
    /// monitoring-plugins 3.0's JSON for its tests (exits 0 whatever the state)
    MpTestJson,
}

impl OutputFormat {
    /// The format a `--output-format` value names (case-insensitive, as 3.0 reads it).
    pub fn from_name(name: &str) -> Option<OutputFormat> {
        <OutputFormat as clap::ValueEnum>::from_str(name, true).ok()
    }

    /// The exit code of a finished check in this format: its state's, except for
    /// `mp-test-json`, which exits 0 as monitoring-plugins 3.0 does (the state is in the
    /// JSON).
    pub fn exit_code(self, state: State) -> i32 {
        match self {
            OutputFormat::MpTestJson => 0,
            _ => state.exit_code(),
        }
    }
}

/// The options shared by every check; flattened into each check's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct CommonArgs {
    /// More detail in the output; repeat for debugging output on stderr
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Give up after SECONDS and report STATE (default CRITICAL)
    #[arg(
        short = 't',
        long = "timeout",
        value_name = "SECONDS[:STATE]",
        default_value = "10",
        allow_hyphen_values = true
    )]
    pub timeout: TimeoutSpec,

    /// Print the result as Nagios plugin text (nagios), one JSON object (json), or as
    /// monitoring-plugins 3.0 does (multi-line, mp-test-json)
    ///
    /// nagios: `LABEL STATE - summary | perfdata`, then the long output. json: one JSON
    /// object on one line. multi-line: monitoring-plugins 3.0's `[STATE] - summary`, one
    /// tab-indented `\_[STATE] - text` line per sub-result, then `|` and the perfdata as
    /// 3.0 writes it. mp-test-json: 3.0's JSON for its tests; it exits 0 whatever the
    /// state, as 3.0 does (bad options and timeouts still exit with their state). Unlike
    /// 3.0, whose converted plugins print multi-line unless asked, ours print nagios
    /// unless asked; a check without sub-results is one 3.0 subcheck holding its summary,
    /// and the perfdata belongs to the first subcheck.
    #[arg(
        long = "output-format",
        value_enum,
        ignore_case = true,
        default_value_t = OutputFormat::Nagios
    )]
    pub output_format: OutputFormat,

    /// Read options from an ini file section before the command line's, as
    /// monitoring-plugins does
    ///
    /// SECTION defaults to the program's name, FILE to $MP_CONFIG_FILE or
    /// monitoring-plugins' standard places (/etc/monitoring-plugins/monitoring-plugins.ini,
    /// ...); each `key=value` line is `--key=value`. Only the plugin programs read it (a
    /// regular file the user may read, at most 64 KiB); checks that the daemon or the
    /// NRPE agent run in-process refuse it.
    #[arg(
        long = "extra-opts",
        value_name = "[SECTION][@FILE]",
        num_args = 0..=1,
        require_equals = true
    )]
    pub extra_opts: Option<Option<String>>,
}

impl Default for CommonArgs {
    fn default() -> Self {
        CommonArgs {
            verbose: 0,
            timeout: TimeoutSpec::default(),
            output_format: OutputFormat::Nagios,
            extra_opts: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_forms() {
        let t: TimeoutSpec = "5".parse().unwrap();
        assert_eq!(t.duration, Duration::from_secs(5));
        assert_eq!(t.state, State::Critical);
        let t: TimeoutSpec = "2.5:UNKNOWN".parse().unwrap();
        assert_eq!(t.duration, Duration::from_millis(2500));
        assert_eq!(t.state, State::Unknown);
        let t: TimeoutSpec = "30:warning".parse().unwrap();
        assert_eq!(t.state, State::Warning);
        for bad in ["", "0", "-1", "x", "5:maybe", "1e9", "nan"] {
            assert!(bad.parse::<TimeoutSpec>().is_err(), "{bad}");
        }
    }
}
