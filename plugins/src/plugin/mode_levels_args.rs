//! `-w`/`-c` as the user typed them, for checks whose levels measure something
//! different in each mode: check_http (response seconds for one URL, failing virtual
//! hosts as N or N% for many), check_pgsql and check_mysql (connection seconds, lag,
//! percent of connections, database sizes, query seconds). The check parses them with
//! the contract's level parser once its mode is known, and names what they measure by
//! changing the shared help and value name with
//! `#[command(mut_arg("warning", |a| a.value_name("...").help("...")))]`.

/// `-w`/`-c`, parsed by the check for its mode.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ModeLevelArgs {
    /// Level that makes the result WARNING (its measure depends on the mode)
    #[arg(short = 'w', long = "warning", value_name = "LEVEL")]
    pub warning: Option<String>,

    /// Level that makes the result CRITICAL (its measure depends on the mode)
    #[arg(short = 'c', long = "critical", value_name = "LEVEL")]
    pub critical: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Parser, Debug)]
    #[command(mut_arg("warning", |a| a.value_name("SECONDS").help("Seconds that make the result WARNING")))]
    struct Timed {
        #[command(flatten)]
        levels: ModeLevelArgs,
    }

    #[test]
    fn levels_are_kept_as_typed_and_take_the_check_s_help() {
        let t = Timed::try_parse_from(["x", "-w", "10%", "-c", "2m"]).unwrap();
        assert_eq!(t.levels.warning.as_deref(), Some("10%"));
        assert_eq!(t.levels.critical.as_deref(), Some("2m"));
        let help = Timed::command().render_help().to_string();
        assert!(
            help.contains("-w, --warning <SECONDS>")
                && help.contains("Seconds that make the result WARNING"),
            "{help}"
        );
        assert!(help.contains("-c, --critical <LEVEL>"), "{help}");
    }
}
