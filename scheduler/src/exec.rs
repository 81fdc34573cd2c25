//! The one executor: a check runs in-process (a built-in check, built by
//! [`crate::registry`]) or as an external plugin (a child in its own process group,
//! killed with the whole group on timeout), and the daemon, `check-all` and the NRPE
//! agent's built-in commands alike get a structured [`Outcome`]. A plugin's text is
//! read once, where it comes in ([`PluginText`]); text is made only at the edges
//! ([`Outcome::text`] for the page, notifications and the NRPE reply; the forwarders
//! write their own).

use crate::config::CheckSpec;
use crate::handler::SHELL_METACHARS;
pub use crate::spawn::{intern, Limits};
use crate::spawn::{spawn, Groups};
use hcoop_plugins::plugin::output::render_text;
use hcoop_plugins::plugin::perfdata::parse_perfdata;
use hcoop_plugins::plugin::runner::{run_in_process, DynCheck};
use hcoop_plugins::plugin::{CheckResult, PerfData, State};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncReadExt;

/// Plugin output beyond this many bytes is cut (Nagios keeps less).
pub const OUTPUT_CAP: usize = 64 * 1024;

/// The outcome of one check run, the same for built-in and external checks: the plugin
/// contract's [`CheckResult`] (state, summary, long output, perfdata), the label it is
/// shown under, and when it ran. An external plugin's text is kept as it printed it
/// (a relayed result), its long output and perfdata read from it once.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The output label of a built-in check (`LOAD`); empty for printed text.
    pub label: &'static str,
    pub result: CheckResult,
    /// When the check started (wall clock) and how long it ran.
    pub start: SystemTime,
    pub duration: Duration,
}

impl Outcome {
    /// The outcome of an in-process check. A relayed result (a remote plugin's text)
    /// gets its long output and perfdata read from that text.
    pub fn new(
        label: &'static str,
        mut result: CheckResult,
        start: SystemTime,
        duration: Duration,
    ) -> Outcome {
        if let Some(mut text) = result.relayed.take() {
            if result.details.is_empty() && result.perfdata.is_empty() {
                // shown as a plugin prints it: ending in a newline
                if !text.ends_with('\n') {
                    text.push('\n');
                }
                let state = result.state();
                result = printed_result(state, text);
            } else {
                result.relayed = Some(text);
            }
        }
        Outcome {
            label,
            result,
            start,
            duration,
        }
    }

    /// The outcome of a plugin's printed text and state (an external plugin, or a
    /// result the daemon states itself): shown as printed.
    pub fn printed(
        state: State,
        text: impl Into<String>,
        start: SystemTime,
        duration: Duration,
    ) -> Outcome {
        Outcome {
            label: "",
            result: printed_result(state, text.into()),
            start,
            duration,
        }
    }

    /// A check that could not run: UNKNOWN, saying why.
    pub fn unknown(why: &str) -> Outcome {
        Outcome::printed(
            State::Unknown,
            format!("UNKNOWN - {why}\n"),
            SystemTime::now(),
            Duration::ZERO,
        )
    }

    /// The state.
    pub fn state(&self) -> State {
        self.result.state()
    }

    /// The first line without perfdata: `LABEL STATE - summary`, or the printed one.
    pub fn summary(&self) -> String {
        match self.result.relayed {
            Some(_) => self.result.summary.trim().to_string(),
            None => format!(
                "{} {} - {}",
                self.label,
                self.state(),
                one_line(&self.result.summary)
            )
            .trim()
            .to_string(),
        }
    }

    /// The long output lines (a sub-result as `[STATE] text`).
    pub fn long(&self) -> Vec<String> {
        self.result
            .details
            .iter()
            .map(|d| match d.state {
                Some(s) => format!("[{s}] {}", one_line(&d.text)),
                None => one_line(&d.text),
            })
            .collect()
    }

    /// The perfdata.
    pub fn perfdata(&self) -> &[PerfData] {
        &self.result.perfdata
    }

    /// The plugin text as a plugin prints it (`LABEL STATE - summary | perfdata`, long
    /// output), or as the external plugin printed it: for the page, the records,
    /// notifications, `check-all` and the NRPE reply.
    pub fn text(&self) -> String {
        match &self.result.relayed {
            Some(printed) => printed.clone(),
            None => render_text(self.label, &self.result),
        }
    }
}

/// A summary or detail line as plugin text shows it (`|` is the perfdata separator and
/// line ends end lines, so neither stays).
fn one_line(text: &str) -> String {
    text.replace('|', "\u{a6}").replace(['\n', '\r'], " ")
}

/// A printed text as a result: shown as it is, its long output and perfdata read once.
fn printed_result(state: State, text: String) -> CheckResult {
    let parsed = PluginText::parse(&text);
    let long: Vec<String> = parsed.long.iter().map(|l| l.to_string()).collect();
    let perfdata: Vec<PerfData> = parsed
        .perfdata
        .iter()
        .flat_map(|t| parse_perfdata(t))
        .filter_map(Result::ok)
        .collect();
    let mut result = CheckResult::relayed(state, text);
    for line in long {
        result.push_line(line);
    }
    result.perfdata = perfdata;
    result
}

/// A plugin's text split as Nagios splits it: the first line up to `|` is the
/// summary and the rest of it perfdata; the following lines are long output up to the
/// first `|`, after which everything (the rest of that line and the lines after it)
/// is perfdata.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PluginText<'a> {
    /// The first line without its perfdata, trimmed.
    pub summary: &'a str,
    /// The long output lines.
    pub long: Vec<&'a str>,
    /// The perfdata parts as they appear (each trimmed, empty ones left out).
    pub perfdata: Vec<&'a str>,
}

impl<'a> PluginText<'a> {
    /// Splits a plugin's text.
    pub fn parse(text: &'a str) -> PluginText<'a> {
        let mut out = PluginText::default();
        let mut lines = text.lines();
        let first = lines.next().unwrap_or("");
        let (summary, perf) = first.split_once('|').unwrap_or((first, ""));
        out.summary = summary.trim();
        out.push_perf(perf);
        let mut in_perf = false;
        for line in lines {
            if in_perf {
                out.push_perf(line);
            } else if let Some((long, perf)) = line.split_once('|') {
                if !long.trim().is_empty() {
                    out.long.push(long.trim_end());
                }
                out.push_perf(perf);
                in_perf = true;
            } else {
                out.long.push(line);
            }
        }
        out
    }

    fn push_perf(&mut self, part: &'a str) {
        let part = part.trim();
        if !part.is_empty() {
            self.perfdata.push(part);
        }
    }
}

/// A service made ready to run: built-in checks are validated once.
#[derive(Clone)]
pub enum Runnable {
    Builtin(Arc<dyn DynCheck>),
    External {
        command: String,
        timeout: Duration,
        limits: Limits,
    },
}

impl Runnable {
    /// Prepares a check; a built-in check's bad arguments are an error here.
    pub fn prepare(
        check: &CheckSpec,
        timeout: Duration,
        limits: Limits,
    ) -> Result<Runnable, String> {
        match check {
            CheckSpec::Builtin { name, args } => crate::registry::build(name, args)
                .map(Runnable::Builtin)
                .map_err(String::from),
            CheckSpec::External { command } => Ok(Runnable::External {
                command: command.clone(),
                timeout,
                limits,
            }),
            CheckSpec::Passive => Err("passive results only: there is no check to run".into()),
        }
    }

    /// Runs the check once.
    pub async fn run(&self) -> Outcome {
        match self {
            Runnable::Builtin(check) => run_builtin(check.clone()).await,
            Runnable::External {
                command,
                timeout,
                limits,
            } => {
                let (start, clock) = (SystemTime::now(), Instant::now());
                let end = run_in_group(command, &[], *timeout, *limits, &CHECK_GROUPS).await;
                let (state, output) = interpret(end, *timeout);
                Outcome::printed(state, output, start, clock.elapsed())
            }
        }
    }
}

/// Runs a built-in check in-process, within its own timeout.
pub async fn run_builtin(check: Arc<dyn DynCheck>) -> Outcome {
    let (start, clock) = (SystemTime::now(), Instant::now());
    let label = check.label();
    let result = run_in_process(check).await;
    Outcome::new(label, result, start, clock.elapsed())
}

/// Whether a command line needs a shell (Nagios's rule: it has a metacharacter).
pub fn needs_shell(command: &str) -> bool {
    command.contains(SHELL_METACHARS)
}

/// Splits a command line into argv when it needs no shell.
pub fn argv_of(command: &str) -> Vec<String> {
    if needs_shell(command) {
        vec!["/bin/sh".into(), "-c".into(), command.into()]
    } else {
        command.split_whitespace().map(str::to_string).collect()
    }
}

/// How an external plugin run ended, before any reading of its exit code.
#[derive(Debug, Clone, PartialEq)]
pub enum PluginEnd {
    /// It could not be started.
    NotStarted(String),
    /// It ran past the timeout; its whole process group was killed.
    TimedOut,
    /// It ended with an exit code or a signal; its output cut at [`OUTPUT_CAP`].
    Ended {
        code: Option<i32>,
        signal: Option<i32>,
        output: String,
    },
}

/// Runs an external plugin; returns its state and output (cut at [`OUTPUT_CAP`]).
pub async fn run_external(command: &str, timeout: Duration, limits: Limits) -> (State, String) {
    interpret(run_plugin(command, timeout, limits).await, timeout)
}

/// The state and output of an ended plugin run.
fn interpret(end: PluginEnd, timeout: Duration) -> (State, String) {
    match end {
        PluginEnd::NotStarted(text) => (State::Unknown, text),
        PluginEnd::TimedOut => (
            State::Critical,
            format!(
                "CRITICAL - plugin timed out after {}\n",
                humantime::format_duration(timeout)
            ),
        ),
        PluginEnd::Ended {
            code,
            signal,
            output,
        } => {
            let mut text = output;
            if text.trim().is_empty() {
                text = "(no output from plugin)\n".into();
            }
            let state = match (code, signal) {
                (Some(code), _) if (0..=3).contains(&code) => State::from_exit_code(code),
                (Some(code), _) => {
                    text = format!("plugin exited with code {code}: {text}");
                    State::Unknown
                }
                (None, Some(sig)) => {
                    text = format!("plugin killed by signal {sig}: {text}");
                    State::Unknown
                }
                _ => State::Unknown,
            };
            (state, text)
        }
    }
}

/// The process groups of running service and host checks, killed when the daemon stops.
pub static CHECK_GROUPS: Groups = Groups::new();

/// The process groups of other running commands (notifications, NRPE commands).
pub static COMMAND_GROUPS: Groups = Groups::new();

/// Runs an external plugin as a child in its own process group, the whole group killed
/// on timeout, and tells how it ended.
pub async fn run_plugin(command: &str, timeout: Duration, limits: Limits) -> PluginEnd {
    run_plugin_env(command, &[], timeout, limits).await
}

/// [`run_plugin`] with extra environment variables (notification commands).
pub async fn run_plugin_env(
    command: &str,
    env: &[(String, String)],
    timeout: Duration,
    limits: Limits,
) -> PluginEnd {
    run_in_group(command, env, timeout, limits, &COMMAND_GROUPS).await
}

/// Runs an external plugin (see [`spawn`](crate::spawn)), its process group recorded
/// in `groups` while it runs.
pub async fn run_in_group(
    command: &str,
    env: &[(String, String)],
    timeout: Duration,
    limits: Limits,
    groups: &Groups,
) -> PluginEnd {
    run_argv(&argv_of(command), env, timeout, limits, groups).await
}

/// [`run_in_group`] with the program and its arguments already split.
pub async fn run_argv(
    argv: &[String],
    env: &[(String, String)],
    timeout: Duration,
    limits: Limits,
    groups: &Groups,
) -> PluginEnd {
    let Some(program) = argv.first() else {
        return PluginEnd::NotStarted("empty command line\n".into());
    };
    let (mut child, stdout) = match spawn(argv, env, limits) {
        Ok(c) => c,
        Err(e) => return PluginEnd::NotStarted(format!("cannot run {program}: {e}\n")),
    };
    let _tracked = groups.track(&child);
    let work = async {
        let mut stdout = tokio::net::unix::pipe::Receiver::from_owned_fd_unchecked(stdout)?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 8192];
        loop {
            match stdout.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let room = OUTPUT_CAP.saturating_sub(buf.len());
                    buf.extend_from_slice(&chunk[..n.min(room)]);
                }
            }
        }
        drop(stdout);
        let status = child.wait().await?;
        Ok::<_, std::io::Error>((buf, status))
    };
    let end = tokio::time::timeout(timeout, work).await;
    // on timeout the whole group dies; after a normal end, grandchildren left behind
    // die with it
    child.kill_group();
    match end {
        Err(_) => PluginEnd::TimedOut,
        Ok(Err(e)) => PluginEnd::NotStarted(format!("cannot run {program}: {e}\n")),
        Ok(Ok((buf, status))) => PluginEnd::Ended {
            code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
            signal: libc::WIFSIGNALED(status).then(|| libc::WTERMSIG(status)),
            output: String::from_utf8_lossy(&buf).into_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spawn::tests::rt;

    /// Runs an external plugin with the default limits, to its end.
    fn external(command: &str, timeout: Duration) -> (State, String) {
        rt().block_on(run_external(command, timeout, Limits::default()))
    }

    #[test]
    fn no_shell_unless_needed() {
        assert_eq!(argv_of("/bin/echo a  b"), vec!["/bin/echo", "a", "b"]);
        assert_eq!(argv_of("echo a | cat")[0], "/bin/sh");
        assert_eq!(argv_of("echo 'x y'")[0], "/bin/sh");
    }

    #[test]
    fn exit_codes_and_output() {
        let (s, out) = external(
            "/bin/sh -c 'echo \"W - x|a=1;2;3\"; exit 1'",
            Duration::from_secs(5),
        );
        assert_eq!(s, State::Warning);
        assert_eq!(out, "W - x|a=1;2;3\n");
        let (s, out) = external("/bin/sh -c 'exit 7'", Duration::from_secs(5));
        assert_eq!(s, State::Unknown);
        assert!(out.starts_with("plugin exited with code 7"), "{out}");
        let (s, out) = external("/nonexistent/plugin", Duration::from_secs(5));
        assert_eq!(s, State::Unknown);
        assert!(out.starts_with("cannot run /nonexistent/plugin"), "{out}");
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let marker = format!("sleep {}", 900_000 + std::process::id() % 10_000);
        let cmd = format!("{marker} & {marker}");
        let t = Instant::now();
        let (s, out) = external(&cmd, Duration::from_millis(300));
        assert!(t.elapsed() < Duration::from_secs(3));
        assert_eq!(s, State::Critical);
        assert!(out.contains("timed out after 300ms"), "{out}");
        std::thread::sleep(Duration::from_millis(200));
        let ps = std::process::Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .unwrap();
        assert!(
            ps.stdout.is_empty(),
            "left behind: {}",
            String::from_utf8_lossy(&ps.stdout)
        );
    }

    #[test]
    fn output_is_capped() {
        let (s, out) = external(
            "head -c 10000000 /dev/zero | tr '\\0' x",
            Duration::from_secs(10),
        );
        assert_eq!(s, State::Ok);
        assert_eq!(out.len(), OUTPUT_CAP);
        // shown as printed, to the byte
        let o = Outcome::printed(s, out, SystemTime::UNIX_EPOCH, Duration::ZERO);
        assert_eq!(o.text().len(), OUTPUT_CAP);
    }

    #[test]
    fn plugins_get_a_clean_environment() {
        let rt = rt();
        let end = rt.block_on(run_plugin_env(
            "/usr/bin/env",
            &[("NAGIOS_HOSTNAME".into(), "web".into())],
            Duration::from_secs(5),
            Limits::default(),
        ));
        let PluginEnd::Ended { output, .. } = end else {
            panic!("{end:?}");
        };
        let me = crate::privileges::current().unwrap();
        let mut vars: Vec<&str> = output.lines().collect();
        vars.sort_unstable();
        let home = format!("HOME={}", me.home.display());
        let user = format!("USER={}", me.name);
        let logname = format!("LOGNAME={}", me.name);
        let mut want = vec![
            home.as_str(),
            "LANG=C.UTF-8",
            logname.as_str(),
            "NAGIOS_HOSTNAME=web",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            user.as_str(),
        ];
        want.sort_unstable();
        assert_eq!(vars, want);
    }

    #[test]
    fn long_output_perfdata() {
        let o = Outcome::printed(
            State::Ok,
            "OK - a | x=1\nline\nmore | y=2\nz=3\n",
            SystemTime::UNIX_EPOCH,
            Duration::ZERO,
        );
        let labels: Vec<_> = o.perfdata().iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["x", "y", "z"]);
        assert_eq!(o.summary(), "OK - a");
        assert_eq!(o.long(), ["line", "more"]);
        // shown as printed
        assert_eq!(o.text(), "OK - a | x=1\nline\nmore | y=2\nz=3\n");
    }

    #[test]
    fn text_split_as_nagios_does() {
        let t = PluginText::parse(
            "DISK OK - free | '/ root'=5MB;;;0 b=1\n/ 50%\n/var 20% | c=3\nd=4 'e f'=5\n",
        );
        assert_eq!(t.summary, "DISK OK - free");
        assert_eq!(t.long, ["/ 50%", "/var 20%"]);
        assert_eq!(t.perfdata, ["'/ root'=5MB;;;0 b=1", "c=3", "d=4 'e f'=5"]);
        let t = PluginText::parse("plain\n| a=1\n");
        assert_eq!((t.summary, t.long.len()), ("plain", 0));
        assert_eq!(t.perfdata, ["a=1"]);
        assert_eq!(PluginText::parse(""), PluginText::default());
    }

    #[test]
    fn an_in_process_result_is_structured_and_shown_as_a_plugin_prints_it() {
        use hcoop_plugins::plugin::PerfData;
        let mut r = CheckResult::new(State::Ok, "2 of 3 | fine\nnext")
            .with_perf(PerfData::new("a", 1))
            .with_perf(PerfData::new("b c", 2));
        r.push_sub(State::Warning, "/var 9% free");
        r.push_line("plain");
        let o = Outcome::new("DISK", r.clone(), SystemTime::UNIX_EPOCH, Duration::ZERO);
        assert_eq!(o.state(), State::Warning);
        assert_eq!(o.summary(), "DISK WARNING - 2 of 3 \u{a6} fine next");
        assert_eq!(o.long(), ["[WARNING] /var 9% free", "plain"]);
        assert_eq!(o.perfdata(), &r.perfdata[..]);
        assert_eq!(o.text(), render_text("DISK", &r));
        // the structure is what the text would be read back as
        let text = o.text();
        let back = PluginText::parse(&text);
        assert_eq!(back.summary, o.summary());
        assert_eq!(back.long, o.long());
        let items: Vec<String> = o.perfdata().iter().map(|p| p.to_string()).collect();
        assert_eq!(back.perfdata.join(" "), items.join(" "));
    }

    #[test]
    fn a_relayed_result_is_read_once() {
        let r = CheckResult::relayed(State::Critical, "remote | x=1\nline two");
        let o = Outcome::new("NRPE", r, SystemTime::UNIX_EPOCH, Duration::ZERO);
        assert_eq!(o.state(), State::Critical);
        assert_eq!(o.summary(), "remote");
        assert_eq!(o.long(), ["line two"]);
        assert_eq!(o.perfdata()[0].label, "x");
        assert_eq!(o.text(), "remote | x=1\nline two\n");
        let u = Outcome::unknown("no built-in check named 'x'");
        assert_eq!(
            (u.state(), u.text().as_str()),
            (State::Unknown, "UNKNOWN - no built-in check named 'x'\n")
        );
    }

    #[test]
    fn a_builtin_runs_through_the_registry() {
        let rt = rt();
        crate::registry::fake::set("exec", State::Warning, "odd");
        let spec = CheckSpec::Builtin {
            name: crate::registry::fake::NAME.into(),
            args: vec!["exec".into()],
        };
        let r = Runnable::prepare(&spec, Duration::from_secs(5), Limits::default()).unwrap();
        let o = rt.block_on(r.run());
        assert_eq!(o.text(), "FAKE WARNING - odd\n");
        let bad = CheckSpec::Builtin {
            name: "check_none".into(),
            args: vec![],
        };
        assert_eq!(
            Runnable::prepare(&bad, Duration::from_secs(5), Limits::default()).err(),
            Some("no built-in check named 'check_none'".to_string())
        );
    }
}
