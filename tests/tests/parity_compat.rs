//! The command-line forms monitoring-plugins accepts on every plugin, tried on check_tcp
//! side by side with Debian's against a listener of the test's own: the host as a bare
//! word, `-wt`/`-ct`/`-to`, an option given twice, a shortened long option, and
//! `--extra-opts`.

use hcoop_tests::parity::{case, OLD_LEVELS_300_600};
use std::io::Write;
use std::net::TcpListener;

/// A port that accepts connections (and closes them) for as long as the test runs.
fn listening_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            drop(conn);
        }
    });
    port
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

#[test]
fn a_bare_host_first_or_last() {
    let port = listening_port().to_string();
    let (_, o) = case(
        "check_tcp",
        &[
            &["127.0.0.1", "-p", &port][..],
            &OLD_LEVELS_300_600,
            &["-to", "10"],
        ]
        .concat(),
        0,
    );
    assert!(o.stdout.starts_with("TCP OK - "), "{}", o.stdout);
    assert_eq!(o.labels_and_units(), [("time", "s")]);
    case("check_tcp", &["-p", &port, "127.0.0.1"], 0);
    case("check_tcp", &["localhost", "-p", &port], 0);
    let closed = closed_port().to_string();
    let (_, o) = case("check_tcp", &["127.0.0.1", "-p", &closed, "-to", "5"], 2);
    assert!(o.stdout.contains("Connection refused"), "{}", o.stdout);
}

#[test]
fn an_option_given_twice_takes_its_last_value() {
    let port = listening_port().to_string();
    // the first -c would make any answer CRITICAL; the last one is what counts
    for (first, last, code) in [("0.000001", "600", 0), ("600", "0.000001", 2)] {
        case(
            "check_tcp",
            &["-H", "127.0.0.1", "-p", &port, "-c", first, "-c", last],
            code,
        );
    }
}

#[test]
fn a_long_option_shortened_to_a_prefix_only_it_has() {
    let port = listening_port().to_string();
    let port_word = format!("--po={port}");
    case("check_tcp", &["--host", "127.0.0.1", &port_word], 0);
}

#[test]
fn extra_opts_from_an_ini_file() {
    let port = listening_port().to_string();
    let mut ini = tempfile::NamedTempFile::new().unwrap();
    write!(
        ini,
        "[check_tcp]\nhostname = 127.0.0.1\nport={port}\n\n[web]\nhostname=127.0.0.1\nport=1\n"
    )
    .unwrap();
    let path = ini.path().display().to_string();
    case("check_tcp", &[&format!("--extra-opts=@{path}")], 0);
    // the command line's own -p comes after the section's and wins
    case(
        "check_tcp",
        &[&format!("--extra-opts=web@{path}"), "-p", &port],
        0,
    );
}

/// On every check with a `-H` and no positional words of its own, a bare word after any
/// of its options is the host, and the option's value never is: the rewriting reads
/// each real command's options right (values, flags, optional values).
#[test]
fn every_option_of_every_check_keeps_its_value() {
    use hcoop_plugins::plugin::compat::normalize;
    use std::ffi::OsString;
    let mut checked = 0;
    for b in hcoop_plugins::checks::BUILTINS {
        let mut cmd = (b.command)();
        cmd.build();
        let has_host = cmd
            .get_arguments()
            .any(|a| a.get_short() == Some('H') && a.get_action().takes_values());
        if !has_host
            || cmd.get_positionals().next().is_some()
            || cmd.get_subcommands().next().is_some()
        {
            continue;
        }
        for arg in cmd.get_arguments() {
            if arg.get_short() == Some('H') || arg.is_positional() {
                continue;
            }
            let Some(word) = arg
                .get_long()
                .map(|l| format!("--{l}"))
                .or_else(|| arg.get_short().map(|s| format!("-{s}")))
            else {
                continue;
            };
            let range = arg.get_num_args().expect("a built command");
            // a flag, or an optional value that must be attached with `=`, takes no word
            let takes_a_word =
                range.takes_values() && !(range.min_values() == 0 && arg.is_require_equals_set());
            let words: Vec<&str> = if takes_a_word {
                vec![&word, "VALUE"]
            } else {
                vec![&word]
            };
            let argv: Vec<OsString> = std::iter::once(b.name)
                .chain(words.iter().copied())
                .chain(["host.example"])
                .map(OsString::from)
                .collect();
            let mut want = argv.clone();
            // an option of several values takes the bare words after it, as clap does
            if range.max_values() <= 1 || words.len() == 1 {
                want.insert(want.len() - 1, OsString::from("-H"));
            }
            assert_eq!(normalize(&cmd, argv), want, "{} {word}", b.name);
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} options checked");
}
