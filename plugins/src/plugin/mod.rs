//! The plugin contract: states and exit codes, threshold ranges, perfdata, the result
//! type and its rendering, the shared options, and the runner.

pub mod args;
pub mod compat;
pub mod family_args;
pub mod host_list_args;
pub mod level_pairs;
pub mod levels;
pub mod mode_levels_args;
pub mod ntp_args;
pub mod observed;
pub mod options;
pub mod output;
pub mod perfdata;
pub mod range;
pub mod regular_file;
pub mod renamed_args;
pub mod result;
pub mod runner;
pub mod secrets;
pub mod state;
pub mod target;
pub mod text;
pub mod thresholds;
pub mod units;

/// The exit codes as every check's help states them.
pub const EXIT_CODES: &str = "Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, internal error). --help and --version exit 0.";

pub use family_args::FamilyArgs;
pub use host_list_args::{HostListArgs, ServerSetArgs};
pub(crate) use level_pairs::level_pairs;
pub use levels::{parse_level, Level, Unit};
pub use mode_levels_args::ModeLevelArgs;
pub use observed::{judge, Observed};
pub use options::{CommonArgs, OutputFormat, TimeoutSpec};
pub use perfdata::{PerfData, Uom, Value};
pub use range::Range;
pub(crate) use renamed_args::renamed_args;
pub use result::{CheckResult, Detail};
pub use runner::{Check, DynCheck, UsageError, Work};
pub use state::State;
pub use target::{parse_host, parse_port, Family};
pub use text::shown;
pub use thresholds::Thresholds;
