//! Named pairs of levels, for checks that have several: check_procs' per-user limits
//! (nproc, memory, CPU time, zombies), check_mem's swap, cgroup, OOM and pressure
//! levels. [`level_pairs!`] declares them as one clap argument group, flattened into
//! the check's `Args`, from a table with one row a pair: the two fields (whose names
//! make the long options, `swap_warning` is `--swap-warning`), the value name, the
//! parser, the type, and the two helps.

/// Declares a clap argument group of level pairs:
///
/// ```text
/// level_pairs! {
///     /// Doc of the group.
///     pub struct Name {
///         name_warning, name_critical, "VALUE", parser, Type, "warning help", "critical help";
///     }
/// }
/// ```
///
/// Every field is an `Option<Type>`; `given()` names the first option given.
macro_rules! level_pairs {
    ($(#[$meta:meta])* $vis:vis struct $name:ident {
        $($warning:ident, $critical:ident, $value:literal, $parse:expr, $ty:ty, $help_w:literal, $help_c:literal;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, clap::Args)]
        $vis struct $name {
            $(
                #[arg(long, value_name = $value, value_parser = $parse, help = $help_w)]
                pub $warning: Option<$ty>,
                #[arg(long, value_name = $value, value_parser = $parse, help = $help_c)]
                pub $critical: Option<$ty>,
            )*
        }

        impl $name {
            /// The first of the options that was given, as `--name`.
            pub fn given(&self) -> Option<String> {
                [$(
                    (stringify!($warning), self.$warning.is_some()),
                    (stringify!($critical), self.$critical.is_some()),
                )*]
                .iter()
                .find(|(_, set)| *set)
                .map(|(field, _)| format!("--{}", field.replace('_', "-")))
            }
        }
    };
}

pub(crate) use level_pairs;

#[cfg(test)]
mod tests {
    use crate::plugin::{Range, State, Thresholds};
    use clap::{CommandFactory, Parser};

    super::level_pairs! {
        /// Levels on zombies and on orphans.
        struct Levels {
            zombies_warning, zombies_critical, "RANGE", clap::value_parser!(Range), Range, "Zombies that make the result WARNING", "Zombies that make the result CRITICAL";
            orphans_warning, orphans_critical, "N", clap::value_parser!(u32), u32, "Orphans that warn", "Orphans that are critical";
        }
    }

    #[derive(Parser, Debug)]
    #[command(next_help_heading = "Per-user mode")]
    struct Probe {
        #[command(flatten)]
        levels: Levels,
    }

    #[test]
    fn a_row_is_a_pair_of_options() {
        let parse = |argv: &[&str]| Probe::try_parse_from(argv).map(|p| p.levels);
        let l = parse(&["x", "--zombies-critical", "@1:", "--orphans-warning", "3"]).unwrap();
        assert_eq!((l.zombies_warning, l.orphans_warning), (None, Some(3)));
        assert_eq!(l.given().as_deref(), Some("--zombies-critical"));
        let t = Thresholds::new(l.zombies_warning, l.zombies_critical);
        assert_eq!((t.state(0.0), t.state(2.0)), (State::Ok, State::Critical));
        let l = parse(&["x", "--orphans-critical", "5"]).unwrap();
        assert_eq!(l.given().as_deref(), Some("--orphans-critical"));
        assert_eq!(parse(&["x"]).unwrap().given(), None);
        assert!(parse(&["x", "--zombies-warning", "5:1"]).is_err());
        assert!(parse(&["x", "--orphans-warning", "-1"]).is_err());
        let help = Probe::command().render_help().to_string();
        assert!(
            help.contains("Per-user mode:\n      --zombies-warning <RANGE>"),
            "{help}"
        );
        assert!(help.contains("Orphans that are critical"), "{help}");
        Probe::command().debug_assert();
    }
}
