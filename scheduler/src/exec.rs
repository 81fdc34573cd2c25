//! Running one service check: built-in checks in-process, external plugins as a child
//! in its own process group, killed with the whole group on timeout.

use crate::config::CheckSpec;
use crate::forward::PluginText;
use crate::spawn::{spawn, Groups};
use hcoop_plugins::checks::builtin;
use hcoop_plugins::plugin::output::render_text;
use hcoop_plugins::plugin::perfdata::parse_perfdata;
use hcoop_plugins::plugin::runner::{run_in_process, DynCheck};
use hcoop_plugins::plugin::{PerfData, State};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Plugin output beyond this many bytes is cut (Nagios keeps less).
pub const OUTPUT_CAP: usize = 64 * 1024;

/// Characters that make a command line need a shell (Nagios's rule).
const SHELL_METACHARS: &[char] = &[
    '!', '$', '^', '&', '*', '(', ')', '~', '[', ']', '\\', '|', '{', '}', ';', '<', '>', '?', '`',
    '"', '\'',
];

/// The outcome of one check run, the same for built-in and external checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub state: State,
    /// The plugin text: first line, long output, perfdata as the plugin printed it.
    pub output: String,
    pub perfdata: Vec<PerfData>,
    pub duration: Duration,
}

impl Outcome {
    /// The first line without its perfdata.
    pub fn summary(&self) -> &str {
        let first = self.output.lines().next().unwrap_or("");
        first.split('|').next().unwrap_or("").trim_end()
    }
}

/// Resource limits applied to external plugins (setrlimit in the child), and the
/// unprivileged user and group they run as (RLIMIT_NPROC counts every process of the
/// user and does not bind root, so a root daemon must switch users for it to hold).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    pub nproc: Option<u64>,
    pub address_space: Option<u64>,
    pub cpu_seconds: Option<u64>,
    /// (uid, gid) to switch to before running the plugin.
    pub run_as: Option<(u32, u32)>,
}

impl Limits {
    /// The limits of a daemon configuration; `run_as` is resolved from the plugin
    /// user when this process runs as root.
    pub fn from_config(d: &crate::config::Daemon) -> Result<Limits, String> {
        // SAFETY: getuid has no preconditions.
        let root = unsafe { libc::getuid() } == 0;
        let run_as = if root {
            Some(lookup_user(&d.plugin_user)?)
        } else {
            None
        };
        Ok(Limits {
            nproc: Some(d.plugin_nproc),
            address_space: Some(d.plugin_address_space_mib * 1024 * 1024),
            cpu_seconds: Some(d.plugin_cpu_seconds),
            run_as,
        })
    }
}

/// The uid and primary gid of a user name.
pub fn lookup_user(name: &str) -> Result<(u32, u32), String> {
    let c = std::ffi::CString::new(name).map_err(|_| format!("bad user name '{name}'"))?;
    // SAFETY: getpwnam returns NULL or a pointer to a static record we copy at once;
    // it is called before any plugin runs.
    let pw = unsafe { libc::getpwnam(c.as_ptr()) };
    if pw.is_null() {
        return Err(format!("no user named '{name}' to run plugins as"));
    }
    // SAFETY: pw is non-null and points to a valid passwd record.
    Ok(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
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
            CheckSpec::Builtin { name, args } => {
                let build =
                    builtin(name).ok_or_else(|| format!("no built-in check named '{name}'"))?;
                build(args).map(Runnable::Builtin).map_err(|e| e.0)
            }
            CheckSpec::External { command } => Ok(Runnable::External {
                command: command.clone(),
                timeout,
                limits,
            }),
        }
    }

    /// Runs the check once.
    pub async fn run(&self) -> Outcome {
        let start = Instant::now();
        match self {
            Runnable::Builtin(check) => {
                let label = check.label();
                let result = run_in_process(check.clone()).await;
                Outcome {
                    state: result.state(),
                    output: render_text(label, &result),
                    perfdata: result.perfdata,
                    duration: start.elapsed(),
                }
            }
            Runnable::External {
                command,
                timeout,
                limits,
            } => {
                let end = run_in_group(command, &[], *timeout, *limits, &CHECK_GROUPS).await;
                let (state, output) = interpret(end, *timeout);
                let perfdata = perfdata_of(&output);
                Outcome {
                    state,
                    output,
                    perfdata,
                    duration: start.elapsed(),
                }
            }
        }
    }
}

/// Perfdata of a plugin's text: after `|` on the first line, and on every line from
/// the first `|` in the long output on (the split of [`PluginText`]).
pub fn perfdata_of(output: &str) -> Vec<PerfData> {
    PluginText::parse(output)
        .perfdata
        .iter()
        .flat_map(|t| parse_perfdata(t))
        .filter_map(Result::ok)
        .collect()
}

/// Splits a command line into argv when it needs no shell.
fn argv_of(command: &str) -> Vec<String> {
    if command.contains(SHELL_METACHARS) {
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
    let argv = argv_of(command);
    let Some(program) = argv.first() else {
        return PluginEnd::NotStarted("empty command line\n".into());
    };
    let (mut child, stdout) = match spawn(&argv, env, limits) {
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

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn no_shell_unless_needed() {
        assert_eq!(argv_of("/bin/echo a  b"), vec!["/bin/echo", "a", "b"]);
        assert_eq!(argv_of("echo a | cat")[0], "/bin/sh");
        assert_eq!(argv_of("echo 'x y'")[0], "/bin/sh");
    }

    #[test]
    fn exit_codes_and_output() {
        let rt = rt();
        let (s, out) = rt.block_on(run_external(
            "/bin/sh -c 'echo \"W - x|a=1;2;3\"; exit 1'",
            Duration::from_secs(5),
            Limits::default(),
        ));
        assert_eq!(s, State::Warning);
        assert_eq!(out, "W - x|a=1;2;3\n");
        assert_eq!(perfdata_of(&out)[0].label, "a");
        let (s, out) = rt.block_on(run_external(
            "/bin/sh -c 'exit 7'",
            Duration::from_secs(5),
            Limits::default(),
        ));
        assert_eq!(s, State::Unknown);
        assert!(out.starts_with("plugin exited with code 7"), "{out}");
        let (s, out) = rt.block_on(run_external(
            "/nonexistent/plugin",
            Duration::from_secs(5),
            Limits::default(),
        ));
        assert_eq!(s, State::Unknown);
        assert!(out.starts_with("cannot run /nonexistent/plugin"), "{out}");
    }

    #[test]
    fn timeout_kills_the_whole_group() {
        let rt = rt();
        let marker = format!("sleep {}", 900_000 + std::process::id() % 10_000);
        let cmd = format!("{marker} & {marker}");
        let t = Instant::now();
        let (s, out) = rt.block_on(run_external(
            &cmd,
            Duration::from_millis(300),
            Limits::default(),
        ));
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
        let rt = rt();
        let (s, out) = rt.block_on(run_external(
            "head -c 10000000 /dev/zero | tr '\\0' x",
            Duration::from_secs(10),
            Limits::default(),
        ));
        assert_eq!(s, State::Ok);
        assert_eq!(out.len(), OUTPUT_CAP);
    }

    #[test]
    fn long_output_perfdata() {
        let out = "OK - a | x=1\nline\nmore | y=2\nz=3\n";
        let labels: Vec<_> = perfdata_of(out).into_iter().map(|p| p.label).collect();
        assert_eq!(labels, ["x", "y", "z"]);
    }
}
