//! Command lines as Nagios makes them: `check_command NAME!ARG1!ARG2` (a `\!` is a `!`
//! in an argument) gives the command's `command_line` with `$ARGn$`, `$USERn$` and the
//! object's own fixed macros put in; what the line runs is then either one of our
//! built-in checks (a plugin directory's `check_*` that the built-in accepts with
//! these arguments) or the same command line, run as Nagios runs it.

use std::collections::{BTreeMap, HashMap};

/// The macros the daemon expands itself in a check's command line or arguments.
pub const DAEMON_MACROS: &[&str] = &["HOSTADDRESS", "HOSTNAME"];

/// Where Nagios installs find their plugins (besides `$USER1$`'s value).
pub const PLUGIN_DIRS: &[&str] = &[
    "/usr/lib/nagios/plugins",
    "/usr/lib64/nagios/plugins",
    "/usr/local/nagios/libexec",
    "/usr/lib/monitoring-plugins",
    "/usr/lib/hcoop-monitor/plugins",
];

/// The most `$ARGn$` Nagios passes.
pub const MAX_ARGS: usize = 32;

/// `NAME!ARG1!ARG2…`: the command name and its arguments (`\!` read as `!`).
pub fn split_call(text: &str) -> (String, Vec<String>) {
    let mut parts = vec![String::new()];
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'!') => {
                parts.last_mut().expect("one part").push('!');
                chars.next();
            }
            '!' => parts.push(String::new()),
            c => parts.last_mut().expect("one part").push(c),
        }
    }
    let name = parts.remove(0).trim().to_string();
    (name, parts)
}

/// The command line with `$ARGn$` (missing ones empty, as Nagios), `$USERn$` and the
/// `fixed` macros (`NAME` → value) put in; `$$` is a `$`. Returns the line and the
/// macros left in it that are neither expanded here nor by the daemon.
pub fn substitute(
    line: &str,
    args: &[String],
    users: &BTreeMap<u32, String>,
    fixed: &HashMap<String, String>,
    keep: &[&str],
) -> (String, Vec<String>) {
    let mut out = String::with_capacity(line.len());
    let mut left = Vec::new();
    let mut rest = line;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('$') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        rest = &after[end + 1..];
        if name.is_empty() {
            out.push('$');
            continue;
        }
        let value = if let Some(n) = name
            .strip_prefix("ARG")
            .and_then(|n| n.parse::<usize>().ok())
        {
            // arguments may hold macros of their own (Nagios expands them too)
            let arg = n
                .checked_sub(1)
                .and_then(|k| args.get(k))
                .cloned()
                .unwrap_or_default();
            let (arg, more) = substitute(&arg, &[], users, fixed, keep);
            left.extend(more);
            Some(arg)
        } else if let Some(n) = name
            .strip_prefix("USER")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Some(users.get(&n).cloned().unwrap_or_default())
        } else {
            fixed.get(name).cloned()
        };
        match value {
            Some(v) => out.push_str(&v),
            None => {
                if !keep.contains(&name) && !left.iter().any(|l| l == name) {
                    left.push(name.to_string());
                }
                out.push('$');
                out.push_str(name);
                out.push('$');
            }
        }
    }
    out.push_str(rest);
    (out, left)
}

/// A command line split into words as `/bin/sh` would, when it is a plain command:
/// quotes and backslashes removed; `None` when it uses the shell beyond that (pipes,
/// redirections, several commands, variables, substitutions, globs).
pub fn shell_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => words.extend(word.take()),
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        c => w.push(c),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => match chars.next()? {
                            c @ ('"' | '\\' | '$' | '`') => w.push(c),
                            '\n' => {}
                            c => {
                                w.push('\\');
                                w.push(c);
                            }
                        },
                        '$' | '`' => return None,
                        c => w.push(c),
                    }
                }
            }
            '\\' => {
                let c = chars.next()?;
                if c != '\n' {
                    word.get_or_insert_with(String::new).push(c);
                }
            }
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '`' | '$' | '*' | '?' | '[' => return None,
            '~' | '#' if word.is_none() => return None,
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Some(words)
}

/// How a command line runs here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Check {
    /// One of our built-in checks, with its arguments.
    Builtin { name: String, args: Vec<String> },
    /// The command line as an external program; `why`: why not a built-in one (when
    /// it runs a program of a name we have built in).
    External {
        command: String,
        why: Option<String>,
    },
}

/// Whether the program a command line runs is one of our built-in checks accepting its
/// arguments (`$HOSTADDRESS$` and `$HOSTNAME$` taken as `address` and `host` to
/// validate, kept in the arguments for the daemon to expand).
pub fn classify(line: &str, user1: Option<&str>, host: &str, address: &str) -> Check {
    let external = |why: Option<String>| Check::External {
        command: line.trim().to_string(),
        why,
    };
    let Some(words) = shell_words_with_macros(line) else {
        let first = line.split_whitespace().next().unwrap_or("");
        return external(builtin_name(first, user1).map(|name| {
            format!("the command line uses the shell, so it does not run the built-in {name}")
        }));
    };
    let Some((program, args)) = words.split_first() else {
        return external(None);
    };
    let Some(name) = builtin_name(program, user1) else {
        return external(None);
    };
    let expanded: Vec<String> = args
        .iter()
        .map(|a| {
            a.replace("$HOSTADDRESS$", address)
                .replace("$HOSTNAME$", host)
        })
        .collect();
    match crate::registry::build(&name, &expanded) {
        Ok(_) => Check::Builtin {
            name,
            args: args.to_vec(),
        },
        Err(e) => external(Some(format!(
            "the built-in {name} refuses its arguments: {e}"
        ))),
    }
}

/// [`shell_words`], with macros (`$HOSTADDRESS$`, `$SERVICESTATE$`, ...) taken as
/// plain text wherever they stand: they are expanded after the line is split.
pub fn shell_words_with_macros(line: &str) -> Option<Vec<String>> {
    // each macro is replaced by a placeholder without shell meaning, then put back
    const MARK: char = '\u{1}';
    if line.contains(MARK) {
        return None;
    }
    let text = macro_pattern().replace_all(line, |c: &regex::Captures<'_>| {
        format!("{MARK}{}{MARK}", &c[1])
    });
    static BACK: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let back =
        BACK.get_or_init(|| regex::Regex::new("\u{1}([A-Z0-9_]+)\u{1}").expect("a valid pattern"));
    let words = shell_words(&text)?;
    Some(
        words
            .into_iter()
            .map(|w| back.replace_all(&w, "$$$1$$").into_owned())
            .collect(),
    )
}

/// A Nagios macro: `$NAME$` (compiled once).
fn macro_pattern() -> &'static regex::Regex {
    static PATTERN: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    PATTERN.get_or_init(|| regex::Regex::new(r"\$([A-Z][A-Z0-9_]*)\$").expect("a valid pattern"))
}

/// An event handler's line as the daemon takes it (a program and arguments separated
/// by blanks, no shell, macros inside arguments): the same words with the quotes
/// gone; `None` when the line needs a shell or an argument holds a blank or a
/// character the shell would read.
pub fn handler_line(line: &str) -> Option<String> {
    const SHELL: &[char] = &[
        '!', '$', '^', '&', '*', '(', ')', '~', '[', ']', '\\', '|', '{', '}', ';', '<', '>', '?',
        '`', '"', '\'',
    ];
    let words = shell_words_with_macros(line)?;
    let re = macro_pattern();
    let plain = |w: &String| {
        let rest = re.replace_all(w, "");
        !w.is_empty() && !w.contains(char::is_whitespace) && !rest.contains(SHELL)
    };
    (!words.is_empty() && words.iter().all(plain)).then(|| words.join(" "))
}

/// The built-in check a program path names: a `check_*` we have, in a plugin directory
/// (`$USER1$`'s value or a usual one).
fn builtin_name(program: &str, user1: Option<&str>) -> Option<String> {
    let (dir, base) = program.rsplit_once('/')?;
    let dir = dir.trim_end_matches('/');
    let known = PLUGIN_DIRS.contains(&dir) || user1.is_some_and(|u| u.trim_end_matches('/') == dir);
    (known && base.starts_with("check_") && crate::registry::exists(base)).then(|| base.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> BTreeMap<u32, String> {
        BTreeMap::from([
            (1, "/usr/lib/nagios/plugins".to_string()),
            (3, "s3cret".into()),
        ])
    }

    #[test]
    fn calls_split_on_unescaped_bangs() {
        assert_eq!(split_call("check_x"), ("check_x".into(), vec![]));
        assert_eq!(
            split_call("check_x!a!b\\!c!"),
            (
                "check_x".into(),
                vec!["a".into(), "b!c".into(), String::new()]
            )
        );
    }

    #[test]
    fn macros_put_in_and_left() {
        let fixed = HashMap::from([("SERVICEDESC".to_string(), "web".to_string())]);
        let (line, left) = substitute(
            "$USER1$/check_http -H $HOSTADDRESS$ -u $ARG1$ -a $USER3$ -s '$ARG2$' $ARG3$ -d $SERVICEDESC$ $SERVICESTATE$ $$x",
            &["/index".into(), "$USER3$ ok".into()],
            &users(),
            &fixed,
            DAEMON_MACROS,
        );
        assert_eq!(
            line,
            "/usr/lib/nagios/plugins/check_http -H $HOSTADDRESS$ -u /index -a s3cret -s 's3cret ok'  -d web $SERVICESTATE$ $x"
        );
        assert_eq!(left, vec!["SERVICESTATE".to_string()]);
        let (line, left) = substitute("a $ARG1", &[], &users(), &fixed, DAEMON_MACROS);
        assert_eq!((line.as_str(), left.len()), ("a $ARG1", 0));
    }

    #[test]
    fn shell_words_as_sh() {
        let w = |s: &str| shell_words(s).map(|v| v.join("|"));
        assert_eq!(
            w("a  'b c' \"d \\\" e\" f\\ g"),
            Some("a|b c|d \" e|f g".into())
        );
        assert_eq!(w("a ''"), Some("a|".into()));
        assert_eq!(w("a | b"), None);
        assert_eq!(w("a > /tmp/x"), None);
        assert_eq!(w("a; b"), None);
        assert_eq!(w("a $HOME"), None);
        assert_eq!(w("a \"$(id)\""), None);
        assert_eq!(w("a *"), None);
        assert_eq!(w("a 'unclosed"), None);
        assert_eq!(w("a '$x|y'"), Some("a|$x|y".into()));
        assert_eq!(
            handler_line("/bin/restart '$HOSTNAME$' \"$SERVICESTATE$\" now"),
            Some("/bin/restart $HOSTNAME$ $SERVICESTATE$ now".to_string())
        );
        assert_eq!(handler_line("/bin/restart 'a b'"), None);
        assert_eq!(handler_line("/bin/restart a > /tmp/log"), None);
        assert_eq!(handler_line("/bin/restart 'a;b'"), None);
        assert_eq!(
            shell_words_with_macros("c -H $HOSTADDRESS$ -n '$HOSTNAME$'"),
            Some(vec![
                "c".into(),
                "-H".into(),
                "$HOSTADDRESS$".into(),
                "-n".into(),
                "$HOSTNAME$".into()
            ])
        );
    }

    #[test]
    fn built_in_when_accepted() {
        let user1 = Some("/usr/lib/nagios/plugins");
        assert_eq!(
            classify(
                "/usr/lib/nagios/plugins/check_tcp -H $HOSTADDRESS$ -p 22",
                user1,
                "h",
                "10.0.0.1"
            ),
            Check::Builtin {
                name: "check_tcp".into(),
                args: vec![
                    "-H".into(),
                    "$HOSTADDRESS$".into(),
                    "-p".into(),
                    "22".into()
                ]
            }
        );
        assert_eq!(
            classify(
                "/usr/lib/hcoop-monitor/plugins/check_load -r -w '2,1.5,1.2' -c '4,3,2.5'",
                None,
                "h",
                "a"
            ),
            Check::Builtin {
                name: "check_load".into(),
                args: ["-r", "-w", "2,1.5,1.2", "-c", "4,3,2.5"]
                    .map(String::from)
                    .to_vec()
            }
        );
        // a program we do not have, or elsewhere
        assert!(matches!(
            classify(
                "/usr/lib/nagios/plugins/check_snmp -H $HOSTADDRESS$",
                user1,
                "h",
                "a"
            ),
            Check::External { why: None, .. }
        ));
        assert!(matches!(
            classify("/opt/x/check_tcp -H a -p 1", user1, "h", "a"),
            Check::External { why: None, .. }
        ));
        // the command and why a line runs as an external command
        let external = |line: &str| match classify(line, user1, "h", "a") {
            Check::External { command, why } => (command, why),
            _ => panic!("not external"),
        };
        // arguments our built-in refuses
        let (command, why) =
            external("/usr/lib/nagios/plugins/check_tcp -H a -p 22 --no-such-flag");
        assert_eq!(
            command,
            "/usr/lib/nagios/plugins/check_tcp -H a -p 22 --no-such-flag"
        );
        assert!(why
            .unwrap()
            .starts_with("the built-in check_tcp refuses its arguments: "));
        // through the shell
        let (_, why) = external("/usr/lib/nagios/plugins/check_tcp -H a -p 22 | tee x");
        assert_eq!(
            why.unwrap(),
            "the command line uses the shell, so it does not run the built-in check_tcp"
        );
    }

    proptest::proptest! {
        /// Whatever a configuration's command lines and calls hold, splitting and
        /// substituting them gives a value, never a panic.
        #[test]
        fn command_text_never_panics(text in "\\PC*", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            for t in [&text, &lossy] {
                let (_, args) = split_call(t);
                let _ = substitute(t, &args, &users(), &HashMap::new(), DAEMON_MACROS);
                let _ = shell_words_with_macros(t);
                let _ = handler_line(t);
                let _ = crate::import::parse::strip_comment(t);
                let _ = crate::import::parse::logical_lines(t);
            }
        }
    }
}
