//! A check that panics where it is told to, for the test that a plugin's panic ends
//! as one UNKNOWN line with exit code 3 (never Rust's 101), in validation, in local
//! work and inside the async runtime.
#![cfg_attr(not(test), no_main)]
// a test build has the harness's main and leaves the check unused
#![cfg_attr(test, allow(dead_code))]

use hcoop_plugins::plugin::options::CommonArgs;
use hcoop_plugins::plugin::runner::{Check, UsageError, Work};
use hcoop_plugins::plugin::CheckResult;

/// Where to panic.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Place {
    New,
    Local,
    Remote,
}

#[derive(clap::Parser)]
struct Args {
    /// Where to panic
    #[arg(long, value_enum)]
    panic_in: Place,
    #[command(flatten)]
    common: CommonArgs,
}

struct PanickyCheck {
    place: Place,
}

impl Check for PanickyCheck {
    type Args = Args;
    type Facts = ();
    const LABEL: &'static str = "PANICKY";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        if let Place::New = args.panic_in {
            panic!("broken while validating");
        }
        Ok(PanickyCheck {
            place: args.panic_in,
        })
    }

    fn fetch(&self) -> Work<'_, ()> {
        match self.place {
            Place::Remote => Work::remote(async {
                tokio::task::yield_now().await;
                panic!("broken in the runtime")
            }),
            _ => Work::local(|| panic!("broken locally")),
        }
    }

    fn evaluate(&self, _: &()) -> CheckResult {
        CheckResult::unknown("never reached")
    }
}

hcoop_plugins::plugin_main!(PanickyCheck);
