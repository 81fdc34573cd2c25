//! A check offered under a second plugin name with help of its own (check_curl is
//! check_http, check_host is check_icmp): [`renamed_args!`] declares the argument type
//! of the second name, the first name's arguments under a renamed command.

/// Declares `struct Name(pub Inner)`: `Inner`'s command line, with the command that
/// `rename` (a `fn(clap::Command) -> clap::Command`) makes of `Inner`'s.
///
/// ```text
/// renamed_args! {
///     /// Doc of the type.
///     pub struct CurlArgs(Args), rename
/// }
/// ```
macro_rules! renamed_args {
    ($(#[$meta:meta])* $vis:vis struct $name:ident($inner:ty), $rename:path) => {
        $(#[$meta])*
        #[derive(Debug)]
        $vis struct $name(pub $inner);

        impl clap::CommandFactory for $name {
            fn command() -> clap::Command {
                $rename(<$inner as clap::CommandFactory>::command())
            }

            fn command_for_update() -> clap::Command {
                $rename(<$inner as clap::CommandFactory>::command_for_update())
            }
        }

        impl clap::FromArgMatches for $name {
            fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
                <$inner as clap::FromArgMatches>::from_arg_matches(m).map($name)
            }

            fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
                clap::FromArgMatches::update_from_arg_matches(&mut self.0, m)
            }
        }

        impl clap::Parser for $name {}
    };
}

pub(crate) use renamed_args;
