//! The older command-line forms monitoring-plugins still accepts, rewritten into the
//! forms our clap parsers take, for every check at once (plugin processes, the daemon's
//! in-process checks and the NRPE agent all parse through [`super::runner::parse_args`]):
//!
//! 1. the whole words `-wt`, `-ct`, `-to`, `-wv`, `-cv` become `-w`, `-c`, `-t`, `-w`,
//!    `-c` when the command has those short options and they take a value;
//! 2. a **bare host**: when the command has a `-H` that takes a value, declares no
//!    positional argument (and no subcommand) of its own, and `-H`/`--hostname` is not
//!    given, the first bare word that is not an option's value becomes `-H WORD`
//!    (`check_tcp localhost -p 80`, `check_http -p 80 example.org`).
//!
//! Nothing after a `--` word is rewritten. Which options take a value is read from the
//! command itself (actions and `num_args`, attached values `-p80` and `--port=80`,
//! clustered flags `-46`, optional values that need `=`), so the rewriting never takes
//! an option's value for a host (a long option may be shortened to a prefix only it has,
//! as clap is told to accept). Words it does not rewrite are left to clap, which refuses
//! what it does not know: a second bare word, or one beside `-H` (the peer ignores it
//! silently; two hosts given is a mistake worth naming).
//!
//! Before all this, a plugin program expands `--extra-opts` ([`expand_extra_opts`]):
//! the options of an ini file section go before the command line's own. The daemon and
//! the NRPE agent refuse it ([`mentions_extra_opts`]): they never read a file a check's
//! arguments name.

use clap::{Arg, Command};
use std::ffi::OsString;

/// The old two-letter option words and the short option each stands for.
const OLD_WORDS: [(&str, char); 5] = [
    ("-wt", 'w'),
    ("-ct", 'c'),
    ("-to", 't'),
    ("-wv", 'w'),
    ("-cv", 'c'),
];

/// How an option takes its values.
#[derive(Debug, Clone, Copy)]
struct Values {
    min: usize,
    max: usize,
    require_equals: bool,
}

impl Values {
    fn of(arg: &Arg) -> Values {
        let (min, max) = match arg.get_num_args() {
            Some(r) => (r.min_values(), r.max_values()),
            // an unbuilt command: clap gives a value-taking action exactly one value
            None if arg.get_action().takes_values() => (1, 1),
            None => (0, 0),
        };
        Values {
            min,
            max,
            require_equals: arg.is_require_equals_set(),
        }
    }

    fn takes_values(self) -> bool {
        self.max > 0
    }
}

/// What each word of the command line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// an option word (or a cluster of short options)
    Option,
    /// the value of the option before it
    Value,
    /// a word that is neither (a positional, for clap)
    Bare,
    /// `--` and everything after it
    Rest,
}

fn short_arg(cmd: &Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| {
        a.get_short() == Some(c) || a.get_all_short_aliases().is_some_and(|s| s.contains(&c))
    })
}

/// The argument a long option word names: its whole name or alias, or a prefix of
/// exactly one argument's (as getopt_long and [`super::runner::parse_args`] take it).
fn long_arg<'c>(cmd: &'c Command, name: &str) -> Option<&'c Arg> {
    let exact = cmd.get_arguments().find(|a| {
        a.get_long() == Some(name) || a.get_all_aliases().is_some_and(|l| l.contains(&name))
    });
    if exact.is_some() || name.is_empty() {
        return exact;
    }
    let mut prefixed = cmd.get_arguments().filter(|a| {
        a.get_long().is_some_and(|l| l.starts_with(name))
            || a.get_all_aliases()
                .is_some_and(|l| l.iter().any(|l| l.starts_with(name)))
    });
    prefixed.next().filter(|_| prefixed.next().is_none())
}

fn is_bare(word: &str) -> bool {
    // `-` alone is a bare word for clap (it commonly names stdin)
    !word.starts_with('-') || word == "-"
}

/// Classifies the words after the program name, and tells whether an option word names
/// the host argument.
fn classify(cmd: &Command, words: &[String], host: Option<&Arg>) -> (Vec<Kind>, bool) {
    let mut kinds = vec![Kind::Bare; words.len()];
    let mut host_given = false;
    let names_host = |arg: &Arg| host.is_some_and(|h| h.get_id() == arg.get_id());
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        if word == "--" {
            kinds[i..].fill(Kind::Rest);
            break;
        }
        if is_bare(word) {
            i += 1;
            continue;
        }
        kinds[i] = Kind::Option;
        // the values this option word still wants from the following words
        let mut wants: Option<Values> = None;
        if let Some(long) = word.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, _)) => (n, true),
                None => (long, false),
            };
            if let Some(arg) = long_arg(cmd, name) {
                host_given |= names_host(arg);
                let v = Values::of(arg);
                if v.takes_values() && !attached {
                    wants = Some(v);
                }
            }
        } else if let Some(cluster) = word.strip_prefix('-') {
            if let Some(old) = OLD_WORDS.iter().find(|(w, _)| *w == word) {
                if let Some(arg) = short_arg(cmd, old.1).filter(|a| Values::of(a).takes_values()) {
                    host_given |= names_host(arg);
                    wants = Some(Values::of(arg));
                }
            } else {
                for (at, c) in cluster.char_indices() {
                    let Some(arg) = short_arg(cmd, c) else {
                        continue;
                    };
                    host_given |= names_host(arg);
                    let v = Values::of(arg);
                    if v.takes_values() {
                        // the rest of the cluster, if any, is its value (`-p80`, `-p=80`)
                        if at + c.len_utf8() == cluster.len() {
                            wants = Some(v);
                        }
                        break;
                    }
                }
            }
        }
        i += 1;
        if let Some(v) = wants {
            if v.require_equals {
                // a value only ever comes attached with `=`
            } else if v.min == 0 {
                // an optional value: clap takes the next word unless it looks like an option
                while i < words.len() && is_bare(&words[i]) {
                    kinds[i] = Kind::Value;
                    i += 1;
                    if i >= words.len() || v.max <= 1 {
                        break;
                    }
                }
            } else if i < words.len() && words[i] != "--" {
                kinds[i] = Kind::Value;
                i += 1;
                // more values, while they do not look like options
                let mut taken = 1;
                while taken < v.max && i < words.len() && is_bare(&words[i]) {
                    kinds[i] = Kind::Value;
                    i += 1;
                    taken += 1;
                }
            }
        }
    }
    (kinds, host_given)
}

/// Rewrites the older command-line forms monitoring-plugins still accepts into the forms
/// our clap parsers take.
pub fn normalize(cmd: &Command, argv: Vec<OsString>) -> Vec<OsString> {
    let Some((program, rest)) = argv.split_first() else {
        return argv;
    };
    // words that are not text are left as they are: they can be neither options we
    // rewrite nor a host name
    let words: Vec<String> = rest
        .iter()
        .map(|w| {
            w.to_str()
                .map_or_else(|| "\u{fffd}".to_string(), str::to_string)
        })
        .collect();
    let host = short_arg(cmd, 'H').filter(|a| !a.is_positional() && Values::of(a).min >= 1);
    let (kinds, host_given) = classify(cmd, &words, host);

    let bare_host = host.is_some()
        && !host_given
        && cmd.get_positionals().next().is_none()
        && cmd.get_subcommands().next().is_none();
    let first_bare = kinds.iter().position(|k| *k == Kind::Bare);

    let mut out = Vec::with_capacity(argv.len() + 1);
    out.push(program.clone());
    for (i, (word, kind)) in rest.iter().zip(&kinds).enumerate() {
        if *kind == Kind::Option {
            if let Some((_, c)) = OLD_WORDS.iter().find(|(w, _)| *w == words[i]) {
                if short_arg(cmd, *c).is_some_and(|a| Values::of(a).takes_values()) {
                    out.push(OsString::from(format!("-{c}")));
                    continue;
                }
            }
        }
        if bare_host && Some(i) == first_bare {
            out.push(OsString::from("-H"));
        }
        out.push(word.clone());
    }
    out
}

/// The largest `--extra-opts` file read.
pub const EXTRA_OPTS_MAX_BYTES: u64 = 64 * 1024;

/// The file names looked for in each directory of `NAGIOS_CONFIG_PATH`.
const INI_NAMES: [&str; 3] = [
    "monitoring-plugins.ini",
    "plugins.ini",
    "nagios-plugins.ini",
];

/// The files looked for, in order, when `--extra-opts` names none (and neither
/// `MP_CONFIG_FILE` nor `NAGIOS_CONFIG_PATH` does).
const INI_PATHS: [&str; 11] = [
    "/usr/local/etc/monitoring-plugins/monitoring-plugins.ini",
    "/usr/local/etc/monitoring-plugins.ini",
    "/etc/monitoring-plugins/monitoring-plugins.ini",
    "/etc/monitoring-plugins.ini",
    "/etc/nagios/plugins.ini",
    "/usr/local/nagios/etc/plugins.ini",
    "/usr/local/etc/nagios/plugins.ini",
    "/etc/opt/nagios/plugins.ini",
    "/etc/nagios-plugins.ini",
    "/usr/local/etc/nagios-plugins.ini",
    "/etc/opt/nagios-plugins.ini",
];

/// True when a command line (without the program name) asks for `--extra-opts`.
pub fn mentions_extra_opts(args: &[String]) -> bool {
    args.iter()
        .take_while(|w| *w != "--")
        .any(|w| w == "--extra-opts" || w.starts_with("--extra-opts="))
}

/// The default ini file: `MP_CONFIG_FILE`, else the first of the known names in a
/// directory of `NAGIOS_CONFIG_PATH`, else the first of the known paths that exists.
fn default_ini_file() -> Option<std::path::PathBuf> {
    use std::path::{Path, PathBuf};
    if let Some(f) = std::env::var_os("MP_CONFIG_FILE").filter(|f| !f.is_empty()) {
        return Some(PathBuf::from(f));
    }
    if let Some(dirs) = std::env::var_os("NAGIOS_CONFIG_PATH") {
        for dir in std::env::split_paths(&dirs).filter(|d| !d.as_os_str().is_empty()) {
            if let Some(f) = INI_NAMES.iter().map(|n| dir.join(n)).find(|f| f.exists()) {
                return Some(f);
            }
        }
    }
    INI_PATHS
        .iter()
        .map(Path::new)
        .find(|p| p.exists())
        .map(Path::to_path_buf)
}

/// The text of an ini file (`-`: standard input): a regular file the running user
/// (its real user and groups) may read, at most [`EXTRA_OPTS_MAX_BYTES`].
fn read_ini(path: &std::path::Path) -> Result<String, String> {
    use super::regular_file::{open_regular, read_limited};
    use std::os::unix::ffi::OsStrExt;
    let shown = super::text::shown(&path.to_string_lossy());
    let read = if path.as_os_str() == "-" {
        read_limited(std::io::stdin().lock(), EXTRA_OPTS_MAX_BYTES)
    } else {
        let c = std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| format!("cannot read config file '{shown}': a NUL in its name"))?;
        // SAFETY: access(2) on a NUL-terminated path; it checks the real user and groups
        if unsafe { libc::access(c.as_ptr(), libc::R_OK) } != 0 {
            let e = std::io::Error::last_os_error();
            return Err(format!("cannot read config file '{shown}': {e}"));
        }
        // a FIFO must not block the check
        open_regular(path, false).and_then(|f| read_limited(f, EXTRA_OPTS_MAX_BYTES))
    };
    let data = read.map_err(|e| match e.kind() {
        std::io::ErrorKind::FileTooLarge => {
            format!("config file '{shown}' is larger than {EXTRA_OPTS_MAX_BYTES} bytes")
        }
        _ => format!("cannot read config file '{shown}': {e}"),
    })?;
    String::from_utf8(data).map_err(|_| format!("config file '{shown}' is not UTF-8 text"))
}

/// The options of section `section` of an ini text, as command-line words: `key=value`
/// is `--key=value` (`-k=value` for a one-letter key), `key=` is `--key`; blank lines
/// and lines starting with `;` or `#` are skipped. `None` when the section is absent or
/// empty.
fn ini_section(text: &str, section: &str) -> Result<Option<Vec<String>>, String> {
    let mut inside = None;
    let mut words = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with([';', '#']) {
            continue;
        }
        if let Some(head) = line.strip_prefix('[') {
            inside = Some(head.split_once(']').map(|(name, _)| name.trim()) == Some(section));
            continue;
        }
        match inside {
            None => return Err(format!("config file error on line {}: no section", n + 1)),
            Some(false) => continue,
            Some(true) => {}
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("config file error on line {}: no '='", n + 1));
        };
        let (key, value) = (key.trim_end(), value.trim());
        if key.is_empty() {
            return Err(format!(
                "config file error on line {}: no option name",
                n + 1
            ));
        }
        let dashes = if key.chars().count() == 1 { "-" } else { "--" };
        words.push(if value.is_empty() {
            format!("{dashes}{key}")
        } else {
            format!("{dashes}{key}={value}")
        });
    }
    Ok((!words.is_empty()).then_some(words))
}

/// The options one `--extra-opts` locator (`[SECTION][@FILE]`, or none) stands for.
fn extra_opts_of(locator: Option<&str>, program: &str) -> Result<Vec<String>, String> {
    let locator = locator.unwrap_or("");
    let (section, file) = match locator.split_once('@') {
        Some((s, f)) => (s, Some(f)),
        None => (locator, None),
    };
    let section = if section.is_empty() { program } else { section };
    let file = match file {
        Some(f) => Some(std::path::PathBuf::from(f)),
        None => default_ini_file(),
    }
    .filter(|f| !f.as_os_str().is_empty())
    .ok_or("cannot find config file in any standard location")?;
    let text = read_ini(&file)?;
    ini_section(&text, section)?.ok_or_else(|| {
        format!(
            "invalid section '{}' in config file '{}'",
            super::text::shown(section),
            super::text::shown(&file.to_string_lossy())
        )
    })
}

/// Expands monitoring-plugins' `--extra-opts[=[SECTION][@FILE]]` (also with its value
/// as the next word): the options of the ini file's section (by default the section
/// named after the program, in the file `MP_CONFIG_FILE` or a standard place names) go
/// before the command line's own words, so those given on the command line come last.
/// Words after `--` are not looked at.
pub fn expand_extra_opts(argv: Vec<OsString>) -> Result<Vec<OsString>, String> {
    let Some(program) = argv.first() else {
        return Ok(argv);
    };
    let is_word = |w: &OsString, s: &str| w.to_str().is_some_and(|t| t == s);
    let end = argv
        .iter()
        .position(|w| is_word(w, "--"))
        .unwrap_or(argv.len());
    if !argv[1..end].iter().any(|w| {
        w.to_str()
            .is_some_and(|t| t == "--extra-opts" || t.starts_with("--extra-opts="))
    }) {
        return Ok(argv);
    }
    let name = std::path::Path::new(program)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut extra = Vec::new();
    let mut rest = Vec::new();
    let mut i = 1;
    while i < argv.len() {
        let word = &argv[i];
        let text = word.to_str().unwrap_or("");
        if i < end && text == "--extra-opts" {
            // the next word is its value unless it looks like an option
            let next = argv
                .get(i + 1)
                .filter(|_| i + 1 < end)
                .and_then(|w| w.to_str());
            match next.filter(|n| !n.starts_with('-')) {
                Some(value) => {
                    extra.extend(extra_opts_of(Some(value), &name)?);
                    i += 2;
                }
                None => {
                    extra.extend(extra_opts_of(None, &name)?);
                    i += 1;
                }
            }
            continue;
        }
        match text.strip_prefix("--extra-opts=").filter(|_| i < end) {
            Some(value) => extra.extend(extra_opts_of(Some(value), &name)?),
            None => rest.push(word.clone()),
        }
        i += 1;
    }
    let mut out = Vec::with_capacity(1 + extra.len() + rest.len());
    out.push(program.clone());
    out.extend(extra.into_iter().map(OsString::from));
    out.extend(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{ArgAction, Parser};
    use proptest::prelude::*;

    /// A network check's command line, as the shared groups declare it.
    #[derive(Debug, Parser)]
    #[command(name = "check_x")]
    struct Net {
        #[command(flatten)]
        target: crate::plugin::args::TargetArgs,
        #[command(flatten)]
        levels: crate::plugin::args::ResponseTimeArgs,
        #[command(flatten)]
        common: crate::plugin::options::CommonArgs,
        /// an optional value that needs `=` (as check_http's `-S`)
        #[arg(short = 'S', long = "ssl", num_args = 0..=1, require_equals = true)]
        ssl: Option<Option<String>>,
        /// an optional value that does not
        #[arg(short = 'E', long = "extended", num_args = 0..=1)]
        extended: Option<Option<String>>,
        /// several values
        #[arg(short = 'e', long = "expect", num_args = 1.., action = ArgAction::Append)]
        expect: Vec<String>,
    }

    /// A check with positional words of its own.
    #[derive(Debug, Parser)]
    struct Positional {
        #[arg(short = 'H')]
        host: Option<String>,
        words: Vec<String>,
    }

    /// A check without `-H`.
    #[derive(Debug, Parser)]
    struct NoHost {
        #[arg(short = 'w')]
        warning: Option<String>,
        #[arg(short = 't')]
        timeout: Option<String>,
    }

    fn norm<P: clap::CommandFactory>(words: &[&str]) -> Vec<String> {
        let mut cmd = P::command();
        cmd.build();
        let argv = std::iter::once("check_x")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect();
        normalize(&cmd, argv)
            .into_iter()
            .skip(1)
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    fn parsed(words: &[&str]) -> Net {
        let mut cmd = <Net as clap::CommandFactory>::command();
        cmd.build();
        let argv = std::iter::once("check_x")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect();
        Net::try_parse_from(normalize(&cmd, argv)).unwrap()
    }

    #[test]
    fn a_bare_host_before_or_after_the_options() {
        assert_eq!(
            norm::<Net>(&["localhost", "-p", "80"]),
            ["-H", "localhost", "-p", "80"]
        );
        assert_eq!(
            norm::<Net>(&["-p", "80", "localhost"]),
            ["-p", "80", "-H", "localhost"]
        );
        let a = parsed(&["-p", "80", "example.org", "-w", "2"]);
        assert_eq!(a.target.hostname, "example.org");
        assert_eq!(a.target.port, Some(80));
    }

    #[test]
    fn an_options_value_is_never_the_host() {
        assert_eq!(norm::<Net>(&["-p", "80"]), ["-p", "80"]);
        assert_eq!(norm::<Net>(&["-p80", "db1"]), ["-p80", "-H", "db1"]);
        assert_eq!(
            norm::<Net>(&["--port=80", "db1"]),
            ["--port=80", "-H", "db1"]
        );
        assert_eq!(
            norm::<Net>(&["--port", "80", "db1"]),
            ["--port", "80", "-H", "db1"]
        );
        assert_eq!(norm::<Net>(&["-t", "5", "db1"]), ["-t", "5", "-H", "db1"]);
        assert_eq!(norm::<Net>(&["-46", "db1"]), ["-46", "-H", "db1"]);
        assert_eq!(
            norm::<Net>(&["-4p", "80", "db1"]),
            ["-4p", "80", "-H", "db1"]
        );
        assert_eq!(norm::<Net>(&["-vvv", "db1"]), ["-vvv", "-H", "db1"]);
        // several values are taken while they do not look like options
        assert_eq!(
            norm::<Net>(&["-e", "a", "b", "-p", "1", "db1"]),
            ["-e", "a", "b", "-p", "1", "-H", "db1"]
        );
    }

    #[test]
    fn shortened_long_options() {
        // `--po` is `--port` only, and takes its value; `--e` could be three options
        assert_eq!(
            norm::<Net>(&["--po", "80", "db1"]),
            ["--po", "80", "-H", "db1"]
        );
        assert_eq!(norm::<Net>(&["--host", "a", "b"]), ["--host", "a", "b"]);
        assert_eq!(norm::<Net>(&["--e", "x", "db1"]), ["--e", "-H", "x", "db1"]);
    }

    #[test]
    fn optional_values() {
        // `-S` takes a value only with `=`: the next word is the host
        assert_eq!(norm::<Net>(&["-S", "db1"]), ["-S", "-H", "db1"]);
        assert_eq!(norm::<Net>(&["--ssl", "db1"]), ["--ssl", "-H", "db1"]);
        assert_eq!(
            norm::<Net>(&["--ssl=1.2", "db1"]),
            ["--ssl=1.2", "-H", "db1"]
        );
        assert_eq!(norm::<Net>(&["-S=1.2", "db1"]), ["-S=1.2", "-H", "db1"]);
        let a = parsed(&["-S", "db1"]);
        assert_eq!((a.ssl, a.target.hostname.as_str()), (Some(None), "db1"));
        // `-E` takes the next word unless it looks like an option, as clap does
        assert_eq!(norm::<Net>(&["-E", "x", "db1"]), ["-E", "x", "-H", "db1"]);
        assert_eq!(
            norm::<Net>(&["-E", "-p", "1", "db1"]),
            ["-E", "-p", "1", "-H", "db1"]
        );
    }

    #[test]
    fn nothing_is_rewritten_after_a_double_dash() {
        assert_eq!(
            norm::<Net>(&["-p", "80", "--", "db1"]),
            ["-p", "80", "--", "db1"]
        );
        assert_eq!(
            norm::<Net>(&["-H", "h", "--", "-wt", "1"]),
            ["-H", "h", "--", "-wt", "1"]
        );
        // a value may be `--` itself only when attached
        assert_eq!(norm::<Net>(&["-p", "--", "db1"]), ["-p", "--", "db1"]);
    }

    #[test]
    fn a_given_host_is_never_doubled() {
        assert_eq!(norm::<Net>(&["-H", "a", "b"]), ["-H", "a", "b"]);
        assert_eq!(norm::<Net>(&["b", "-H", "a"]), ["b", "-H", "a"]);
        assert_eq!(norm::<Net>(&["--hostname=a", "b"]), ["--hostname=a", "b"]);
        assert_eq!(norm::<Net>(&["-Ha", "b"]), ["-Ha", "b"]);
        assert_eq!(norm::<Net>(&["-4Ha", "b"]), ["-4Ha", "b"]);
        // only the first bare word is the host; clap refuses the others
        assert_eq!(norm::<Net>(&["a", "b"]), ["-H", "a", "b"]);
        let mut cmd = <Net as clap::CommandFactory>::command();
        cmd.build();
        let argv = ["check_x", "a", "b"].map(OsString::from).to_vec();
        assert!(Net::try_parse_from(normalize(&cmd, argv)).is_err());
    }

    #[test]
    fn a_check_with_positionals_or_without_host_is_left_alone() {
        assert_eq!(norm::<Positional>(&["a", "b"]), ["a", "b"]);
        assert_eq!(norm::<NoHost>(&["a"]), ["a"]);
        assert_eq!(
            norm::<NoHost>(&["-wt", "1", "-to", "3"]),
            ["-w", "1", "-t", "3"]
        );
    }

    #[test]
    fn old_two_letter_options() {
        assert_eq!(
            norm::<Net>(&["localhost", "-p", "80", "-wt", "5", "-ct", "9", "-to", "10"]),
            [
                "-H",
                "localhost",
                "-p",
                "80",
                "-w",
                "5",
                "-c",
                "9",
                "-t",
                "10"
            ]
        );
        assert_eq!(
            norm::<Net>(&["-wv", "5", "-cv", "9", "h"]),
            ["-w", "5", "-c", "9", "-H", "h"]
        );
        let a = parsed(&[
            "localhost",
            "-p",
            "80",
            "-wt",
            "300",
            "-ct",
            "600",
            "-to",
            "10",
        ]);
        assert_eq!(a.target.hostname, "localhost");
        assert!(a.levels.warning.is_some() && a.levels.critical.is_some());
        assert_eq!(
            a.common.timeout.duration,
            std::time::Duration::from_secs(10)
        );
        // a command without `-c` keeps `-ct` for clap to refuse
        assert_eq!(norm::<NoHost>(&["-ct", "1"]), ["-ct", "1"]);
    }

    #[test]
    fn words_that_are_not_text_are_kept() {
        use std::os::unix::ffi::OsStringExt;
        let mut cmd = <Net as clap::CommandFactory>::command();
        cmd.build();
        let odd = OsString::from_vec(vec![0xff, b'a']);
        let argv = vec!["check_x".into(), "-p".into(), "1".into(), odd.clone()];
        assert_eq!(
            normalize(&cmd, argv),
            ["check_x".into(), "-p".into(), "1".into(), "-H".into(), odd]
        );
        assert_eq!(normalize(&cmd, vec![]), Vec::<OsString>::new());
    }

    fn expand(words: &[&str]) -> Result<Vec<String>, String> {
        let argv = words.iter().map(OsString::from).collect();
        expand_extra_opts(argv).map(|v| v.into_iter().map(|w| w.into_string().unwrap()).collect())
    }

    fn ini(text: &str) -> tempfile::NamedTempFile {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(text.as_bytes()).unwrap();
        f
    }

    const INI: &str = "; shared settings\n\
                       [check_tcp]\n\
                       port = 80\n\
                       # a comment\n\
                       \n\
                       w=5\n\
                       use-ipv4=\n\
                       [ web ] ; the web servers\n\
                       hostname=www.example.org\n\
                       expect = HTTP/1.1 200 OK\n\
                       [empty]\n";

    #[test]
    fn extra_opts_read_an_ini_section_before_the_command_line() {
        let f = ini(INI);
        let at = format!("@{}", f.path().display());
        assert_eq!(
            expand(&[
                "/usr/lib/x/check_tcp",
                &format!("--extra-opts={at}"),
                "-H",
                "h"
            ])
            .unwrap(),
            [
                "/usr/lib/x/check_tcp",
                "--port=80",
                "-w=5",
                "--use-ipv4",
                "-H",
                "h"
            ]
        );
        assert_eq!(
            expand(&["check_tcp", "-p", "1", "--extra-opts", &format!("web{at}")]).unwrap(),
            [
                "check_tcp",
                "--hostname=www.example.org",
                "--expect=HTTP/1.1 200 OK",
                "-p",
                "1"
            ]
        );
        // without a value when the next word is an option
        assert_eq!(
            expand(&[
                "check_tcp",
                &format!("--extra-opts=web{at}"),
                "--extra-opts",
                "-v"
            ])
            .unwrap_err(),
            "cannot find config file in any standard location"
        );
        // nothing after `--` is looked at; without --extra-opts nothing changes
        assert_eq!(
            expand(&["check_x", "--", "--extra-opts"]).unwrap(),
            ["check_x", "--", "--extra-opts"]
        );
        assert_eq!(
            expand(&["check_x", "-w", "1"]).unwrap(),
            ["check_x", "-w", "1"]
        );
        assert!(mentions_extra_opts(&[
            "-w".into(),
            "--extra-opts=a@b".into()
        ]));
        assert!(!mentions_extra_opts(&["--".into(), "--extra-opts".into()]));
    }

    #[test]
    fn extra_opts_refuse_what_they_cannot_use() {
        let f = ini(INI);
        let path = f.path().display().to_string();
        let e = expand(&["check_tcp", &format!("--extra-opts=empty@{path}")]).unwrap_err();
        assert_eq!(
            e,
            format!("invalid section 'empty' in config file '{path}'")
        );
        let e = expand(&["check_tcp", &format!("--extra-opts=nope@{path}")]).unwrap_err();
        assert!(e.starts_with("invalid section 'nope'"), "{e}");
        let bad = ini("port=1\n[check_tcp]\n");
        let e = expand(&[
            "check_tcp",
            &format!("--extra-opts=@{}", bad.path().display()),
        ]);
        assert_eq!(e.unwrap_err(), "config file error on line 1: no section");
        let bad = ini("[check_tcp]\nport\n");
        let e = expand(&[
            "check_tcp",
            &format!("--extra-opts=@{}", bad.path().display()),
        ]);
        assert_eq!(e.unwrap_err(), "config file error on line 2: no '='");
        let bad = ini("[check_tcp]\n = 1\n");
        let e = expand(&[
            "check_tcp",
            &format!("--extra-opts=@{}", bad.path().display()),
        ]);
        assert_eq!(
            e.unwrap_err(),
            "config file error on line 2: no option name"
        );
        let e = expand(&["check_tcp", "--extra-opts=@/nonexistent/x.ini"]).unwrap_err();
        assert!(
            e.starts_with("cannot read config file '/nonexistent/x.ini': "),
            "{e}"
        );
        // a directory, a FIFO (never waited on), a file too large, bytes that are no text
        let dir = tempfile::tempdir().unwrap();
        let e = expand(&[
            "check_tcp",
            &format!("--extra-opts=@{}", dir.path().display()),
        ]);
        assert!(e.unwrap_err().ends_with("not a regular file"));
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) on a NUL-terminated path
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = expand(&["check_tcp", &format!("--extra-opts=@{}", fifo.display())]);
        assert!(e.unwrap_err().ends_with("not a regular file"));
        let big = ini(&format!("[check_tcp]\n{}", "w=1\n".repeat(20_000)));
        let e = expand(&[
            "check_tcp",
            &format!("--extra-opts=@{}", big.path().display()),
        ]);
        assert!(e.unwrap_err().ends_with("is larger than 65536 bytes"));
        let odd = ini("[check_tcp]\nw=\u{0}\u{fffd}\n");
        std::fs::write(odd.path(), b"[check_tcp]\nw=\xff\n").unwrap();
        let e = expand(&[
            "check_tcp",
            &format!("--extra-opts=@{}", odd.path().display()),
        ]);
        assert!(e.unwrap_err().ends_with("is not UTF-8 text"));
    }

    /// The shapes of real checks' command lines (the contract below the checks cannot
    /// name them): a network check, one with positional words of its own and one
    /// without `-H`, built as [`super::super::runner::parse_args`] builds them.
    fn check_shaped_commands() -> Vec<Command> {
        [
            <Net as clap::CommandFactory>::command(),
            <Positional as clap::CommandFactory>::command(),
            <NoHost as clap::CommandFactory>::command(),
        ]
        .into_iter()
        .map(|c| {
            let mut c = c.args_override_self(true).infer_long_args(true);
            c.build();
            c
        })
        .collect()
    }

    /// A command-line word: the options these commands know, `-`, `--`, `=`, empty,
    /// non-ASCII, very long, and not text at all.
    fn word() -> impl Strategy<Value = OsString> {
        use std::os::unix::ffi::OsStringExt;
        prop_oneof![
            prop::sample::select(vec![
                "-",
                "--",
                "=",
                "",
                "-H",
                "-Hh",
                "-H=",
                "--hostname",
                "--host=h",
                "--h",
                "-wt",
                "-ct",
                "-to",
                "-wv",
                "-cv",
                "-w",
                "-c",
                "-t",
                "-p",
                "-p80",
                "-46",
                "-e",
                "-E",
                "-S",
                "--ssl",
                "--ssl=1.2",
                "--expect",
                "-W",
                "-p/",
                "-x",
                "-X",
                "-u",
                "-é",
                "--é=é",
                "h",
            ])
            .prop_map(OsString::from),
            "-{0,2}[a-zA-Z0-9=-]{0,5}".prop_map(OsString::from),
            "\\PC{0,8}".prop_map(OsString::from),
            any::<String>().prop_map(OsString::from),
            (1usize..70_000, prop::sample::select(vec!["", "-", "--"]))
                .prop_map(|(n, dash)| OsString::from(format!("{dash}{}", "w".repeat(n)))),
            proptest::collection::vec(any::<u8>(), 0..6).prop_map(OsString::from_vec),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// What normalize may do, asserted here: keep the program word first, replace an
        /// old two-letter option word (`-wt`, ...) by its short option, and insert `-H`
        /// once before the bare host. So the result is the words given, in order, with
        /// those replacements and at most one `-H` more: never more than one word
        /// longer. Any words, no panic.
        #[test]
        fn normalize_only_renames_and_adds_one_host_option(
            words in proptest::collection::vec(word(), 0..12),
            which in 0usize..3,
        ) {
            let cmd = &check_shaped_commands()[which];
            let argv: Vec<OsString> =
                std::iter::once(OsString::from("check_x")).chain(words.iter().cloned()).collect();
            let out = normalize(cmd, argv.clone());
            prop_assert!(out.len() <= argv.len() + 1);
            prop_assert_eq!(&out[0], &argv[0]);
            let (mut i, mut j, mut inserted) = (1, 1, false);
            while j < out.len() {
                let renamed = argv.get(i).and_then(|w| {
                    OLD_WORDS.iter().find(|(old, _)| w == old).map(|(_, c)| format!("-{c}"))
                });
                if argv.get(i) == Some(&out[j]) || renamed.is_some_and(|r| out[j] == *r) {
                    i += 1;
                } else {
                    prop_assert!(!inserted && out[j] == "-H", "{:?} -> {:?}", argv, out);
                    inserted = true;
                }
                j += 1;
            }
            prop_assert_eq!(i, argv.len(), "{:?} -> {:?}", argv, out);
        }
    }
}
