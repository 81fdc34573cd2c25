//! Runs a check: as a plugin process ([`main`]) or in-process for the scheduler
//! ([`prepare`] then [`run_in_process`]). The one place that maps results, usage
//! errors, timeouts and panics to output and exit codes.

use super::options::{CommonArgs, OutputFormat, TimeoutSpec};
use super::output::{render_json, render_mp_test_json, render_multi_line, render_text};
use super::result::CheckResult;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

/// A problem with the command line or thresholds: reported as UNKNOWN, exit 3, before
/// any I/O.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl UsageError {
    /// A usage error with a message.
    pub fn new(msg: impl Into<String>) -> Self {
        UsageError(msg.into())
    }
}

/// The work a check does once its arguments are validated: fetching its facts, or
/// fetching and evaluating them (`Work<'_>`, the whole run).
pub enum Work<'a, T = CheckResult> {
    /// Reads local files or calls (`/proc`, `statvfs`): runs without an async runtime.
    Local(Box<dyn FnOnce() -> T + Send + 'a>),
    /// Talks to the network: run on a current-thread tokio runtime.
    Remote(Pin<Box<dyn Future<Output = T> + Send + 'a>>),
}

impl<'a, T: 'a> Work<'a, T> {
    /// Local work from a closure.
    pub fn local(f: impl FnOnce() -> T + Send + 'a) -> Self {
        Work::Local(Box::new(f))
    }

    /// Remote work from a future.
    pub fn remote(fut: impl Future<Output = T> + Send + 'a) -> Self {
        Work::Remote(Box::pin(fut))
    }

    /// The same work, its outcome passed through `then` (of the same kind: local stays
    /// local).
    pub fn map<U>(self, then: impl FnOnce(T) -> U + Send + 'a) -> Work<'a, U> {
        match self {
            Work::Local(f) => Work::Local(Box::new(move || then(f()))),
            Work::Remote(fut) => Work::Remote(Box::pin(async move { then(fut.await) })),
        }
    }
}

/// A check, in the one shape every check has: its command line (`Args`), validated
/// without I/O into the check (`new`); `fetch`, which does all the I/O and returns the
/// facts; and `evaluate`, the pure verdict on them, tested with hand-made facts.
pub trait Check: Sized + Send + Sync + 'static {
    /// The command line as the user typed it (a clap parser).
    type Args: clap::Parser + Send;
    /// What `fetch` observed: everything `evaluate` needs, including the time of the
    /// observation where the verdict depends on it, and failures to observe.
    type Facts: Send;
    /// The label that starts the output line (`LOAD`, `DISK`, ...).
    const LABEL: &'static str;
    /// The shared options inside `Args`.
    fn common(args: &Self::Args) -> &CommonArgs;
    /// Validates the arguments into the check's resolved configuration, without I/O.
    fn new(args: Self::Args) -> Result<Self, UsageError>;
    /// All the check's I/O, through `proto` and `host`.
    fn fetch(&self) -> Work<'_, Self::Facts>;
    /// The verdict on the facts: pure (no I/O, no clock).
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult;
    /// Fetches, then evaluates.
    fn run(&self) -> Work<'_> {
        self.fetch().map(move |facts| self.evaluate(&facts))
    }
}

/// What a finished plugin prints and its exit code.
pub fn render(label: &str, result: &CheckResult, format: OutputFormat) -> String {
    match format {
        OutputFormat::Nagios => render_text(label, result),
        OutputFormat::Json => render_json(label, result),
        OutputFormat::MultiLine => render_multi_line(result),
        OutputFormat::MpTestJson => render_mp_test_json(result),
    }
}

/// The result reported when a check runs out of time.
pub fn timeout_result(spec: &TimeoutSpec) -> CheckResult {
    CheckResult::timed_out(format!("check timed out after {}", humanize(spec.duration)))
        .with_timeout_state(spec.state)
}

fn humanize(d: std::time::Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0}s")
    } else {
        format!("{s}s")
    }
}

/// Writes straight to fd 1 (async-signal-safe, and free of the stdout lock).
fn write_stdout_raw(bytes: &[u8]) {
    let mut off = 0;
    while off < bytes.len() {
        // SAFETY: writing an owned byte buffer to fd 1.
        let n = unsafe { libc::write(1, bytes[off..].as_ptr().cast(), bytes.len() - off) };
        if n <= 0 {
            break;
        }
        off += n as usize;
    }
}

/// The label, output format and timeout text a dying plugin needs.
struct Exit {
    label: &'static str,
    format: OutputFormat,
    timeout_text: Vec<u8>,
    timeout_code: i32,
}

static EXIT: OnceLock<Exit> = OnceLock::new();

/// The text of a panic's payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

/// Makes any panic print `LABEL UNKNOWN - internal error: ...` and exit 3 (never 101).
pub fn install_panic_hook(label: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let msg = panic_message(info.payload());
        let place = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let format = EXIT.get().map_or(OutputFormat::Nagios, |e| e.format);
        let r = CheckResult::unknown(format!("internal error: {msg}{place}"));
        write_stdout_raw(render(label, &r, format).as_bytes());
        // SAFETY: ends the process at once, from any thread, without unwinding.
        unsafe { libc::_exit(3) }
    }));
}

extern "C" fn on_alarm(_: libc::c_int) {
    if let Some(e) = EXIT.get() {
        write_stdout_raw(&e.timeout_text);
        // SAFETY: async-signal-safe exit.
        unsafe { libc::_exit(e.timeout_code) }
    }
    // SAFETY: as above.
    unsafe { libc::_exit(3) }
}

/// Arms SIGALRM to print the timeout result and exit after `after`: a hard limit that
/// holds even if the check blocks in a system call.
fn arm_alarm(after: std::time::Duration) {
    // SAFETY: installs a handler that only calls write(2) and _exit(2), then a one-shot
    // real-time interval timer.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_alarm as *const () as usize;
        libc::sigemptyset(&mut sa.sa_mask);
        libc::sigaction(libc::SIGALRM, &sa, std::ptr::null_mut());
        let it = libc::itimerval {
            it_interval: libc::timeval {
                tv_sec: 0,
                tv_usec: 0,
            },
            it_value: libc::timeval {
                tv_sec: after.as_secs() as libc::time_t,
                tv_usec: after.subsec_micros() as libc::suseconds_t,
            },
        };
        libc::setitimer(libc::ITIMER_REAL, &it, std::ptr::null_mut());
    }
}

fn finish(label: &str, result: &CheckResult, format: OutputFormat) -> ! {
    finish_with(label, result, format, result.state().exit_code())
}

fn finish_with(label: &str, result: &CheckResult, format: OutputFormat, code: i32) -> ! {
    let text = render(label, result, format);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
    std::process::exit(code)
}

/// The first line of a clap error, without clap's `error: ` prefix.
fn clap_error_line(e: &clap::Error) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    // a refused value is shown escaped and cut, never raw: it may hold a newline
    if e.kind() == ErrorKind::ValueValidation {
        if let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
            e.get(ContextKind::InvalidArg),
            e.get(ContextKind::InvalidValue),
        ) {
            let why = std::error::Error::source(e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            return format!(
                "invalid value '{}' for '{arg}'{why}",
                super::text::shown(value)
            );
        }
    }
    let text = e.render().to_string();
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("invalid arguments");
    line.trim_start_matches("error: ").trim().to_string()
}

/// Parses arguments from an argument list, after rewriting the older forms
/// monitoring-plugins accepts ([`super::compat::normalize`]); help and version are
/// `Ok(Err(text))`.
pub fn parse_args<C: Check>(
    argv: impl IntoIterator<Item = impl Into<std::ffi::OsString> + Clone>,
) -> Result<Result<C::Args, String>, UsageError> {
    use clap::error::ErrorKind;
    use clap::{CommandFactory, FromArgMatches};
    // as with getopt_long in monitoring-plugins: an option given again takes its last
    // value (and --extra-opts defaults are overridden by the command line), and a long
    // option may be shortened to a prefix only it has (`--host` for `--hostname`)
    let mut cmd = <C::Args as CommandFactory>::command()
        .args_override_self(true)
        .infer_long_args(true);
    cmd.build();
    let argv = super::compat::normalize(&cmd, argv.into_iter().map(Into::into).collect());
    let parsed = cmd.try_get_matches_from_mut(argv).and_then(|mut matches| {
        <C::Args as FromArgMatches>::from_arg_matches_mut(&mut matches)
            .map_err(|e| e.format(&mut cmd))
    });
    match parsed {
        Ok(a) => Ok(Ok(a)),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            Ok(Err(e.render().to_string()))
        }
        Err(e) => Err(UsageError(clap_error_line(&e))),
    }
}

/// The output format a command line asks for, read from its words as they are: a command
/// line that does not parse still gets its refusal in the format it asked for. As with
/// clap, the last `--output-format` wins; words after `--` are not options.
pub fn requested_format(argv: &[std::ffi::OsString]) -> OutputFormat {
    let mut format = OutputFormat::Nagios;
    let mut words = argv.iter().skip(1).map(|w| w.to_str().unwrap_or(""));
    while let Some(word) = words.next() {
        let value = match word {
            "--" => break,
            "--output-format" => words.next().unwrap_or(""),
            _ => match word.strip_prefix("--output-format=") {
                Some(v) => v,
                None => continue,
            },
        };
        format = OutputFormat::from_name(value).unwrap_or(OutputFormat::Nagios);
    }
    format
}

/// Validates a check from its arguments (without the program name), as its binary
/// would: for the unit tests of each check.
#[cfg(test)]
pub(crate) fn validate<C: Check>(args: &[&str]) -> Result<C, UsageError> {
    let argv =
        std::iter::once(C::LABEL.to_ascii_lowercase()).chain(args.iter().map(|a| a.to_string()));
    C::new(parse_args::<C>(argv)?.expect("not --help or --version"))
}

/// Runs work to its end (for tests: local work is called, remote work runs on a
/// current-thread runtime).
#[cfg(test)]
pub(crate) fn completed<T>(work: Work<'_, T>) -> T {
    match work {
        Work::Local(f) => f(),
        Work::Remote(fut) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime")
            .block_on(fut),
    }
}

/// A check's facts, fetched to the end (for the tests of a fetch).
#[cfg(test)]
pub(crate) fn fetched<C: Check>(check: &C) -> C::Facts {
    completed(check.fetch())
}

/// Defines the C `main` of a plugin binary, which starts without std's `main`:
///
/// ```ignore
/// #![cfg_attr(not(test), no_main)]
/// hcoop_plugins::plugin_main!(hcoop_plugins::checks::load::LoadCheck);
/// ```
///
/// (A test build of the binary keeps the test harness's own `main`.)
///
/// The plugin then skips std's runtime set-up, whose main-thread stack guard costs
/// glibc a parse of /proc/self/maps: about a sixth of a short check's start-up. What
/// that set-up adds matters not to a plugin: the panic hook answers UNKNOWN before any
/// stack overflow message could, `std::process::exit` flushes stdout itself, and SIGPIPE
/// keeps its default action, as in the C plugins.
#[macro_export]
macro_rules! plugin_main {
    ($check:ty) => {
        #[cfg(not(test))]
        #[no_mangle]
        pub extern "C" fn main(_argc: i32, _argv: *const *const u8) -> i32 {
            $crate::plugin::runner::main::<$check>()
        }
    };
}

/// The whole life of a plugin process: parse, validate, run within the timeout, print,
/// exit with the state's code. `--help` and `--version` exit 0; bad usage exits 3.
pub fn main<C: Check>() -> ! {
    install_panic_hook(C::LABEL);
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let usage = |e: UsageError| -> ! {
        finish(
            C::LABEL,
            &CheckResult::unknown(e.0),
            requested_format(&argv),
        )
    };
    let expanded = super::compat::expand_extra_opts(argv.clone()).unwrap_or_else(|e| {
        usage(UsageError(e));
    });
    let args = match parse_args::<C>(expanded) {
        Ok(Ok(a)) => a,
        Ok(Err(text)) => {
            print!("{text}");
            std::process::exit(0)
        }
        Err(e) => usage(e),
    };
    let common = C::common(&args).clone();
    if common.extra_opts.is_some() {
        // only a shortened --extra-opts gets here: the whole word was read above
        usage(UsageError::new("write --extra-opts in full"));
    }
    let format = common.output_format;
    let check = match C::new(args) {
        Ok(c) => c,
        Err(e) => finish(C::LABEL, &CheckResult::unknown(e.0), format),
    };
    let spec = common.timeout;
    let _ = EXIT.set(Exit {
        label: C::LABEL,
        format,
        timeout_text: render(C::LABEL, &timeout_result(&spec), format).into_bytes(),
        timeout_code: spec.state.exit_code(),
    });
    let result = match check.run() {
        Work::Local(f) => {
            arm_alarm(spec.duration);
            f()
        }
        Work::Remote(fut) => {
            // the runtime's own timeout answers first; the alarm is the backstop for a
            // thread stuck in a blocking call
            arm_alarm(spec.duration + std::time::Duration::from_millis(500));
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => finish(
                    C::LABEL,
                    &CheckResult::unknown(format!("cannot start runtime: {e}")),
                    format,
                ),
            };
            rt.block_on(async {
                tokio::time::timeout(spec.duration, fut)
                    .await
                    .unwrap_or_else(|_| timeout_result(&spec))
            })
        }
    };
    let result = result.with_timeout_state(spec.state);
    // a finished check exits with its state's code (0 for mp-test-json, as in 3.0,
    // where only a timeout still exits with its state)
    let code = if result.timed_out {
        result.state().exit_code()
    } else {
        format.exit_code(result.state())
    };
    let label = EXIT.get().map_or(C::LABEL, |e| e.label);
    finish_with(label, &result, format, code)
}

/// A validated check held by the scheduler, independent of its concrete type.
pub trait DynCheck: Send + Sync {
    /// The output label.
    fn label(&self) -> &'static str;
    /// The timeout and its state.
    fn timeout(&self) -> TimeoutSpec;
    /// The check's work.
    fn run(&self) -> Work<'_>;
}

struct Prepared<C: Check> {
    check: C,
    timeout: TimeoutSpec,
}

impl<C: Check> DynCheck for Prepared<C> {
    fn label(&self) -> &'static str {
        C::LABEL
    }
    fn timeout(&self) -> TimeoutSpec {
        self.timeout
    }
    fn run(&self) -> Work<'_> {
        self.check.run()
    }
}

/// Validates a check's arguments (without the program name) for in-process runs. A
/// panic while validating is a usage error naming it, never a panic of the caller (the
/// daemon and the NRPE agent validate arguments that came from a file or a query).
pub fn prepare<C: Check>(args: &[String]) -> Result<Arc<dyn DynCheck>, UsageError> {
    let validate = || {
        if super::compat::mentions_extra_opts(args) {
            return Err(UsageError::new(
                "--extra-opts is read only by the plugin programs: give the options here",
            ));
        }
        let argv = std::iter::once(C::LABEL.to_ascii_lowercase()).chain(args.iter().cloned());
        let parsed = match parse_args::<C>(argv)? {
            Ok(a) => a,
            Err(_) => return Err(UsageError::new("--help and --version do not run a check")),
        };
        if C::common(&parsed).extra_opts.is_some() {
            return Err(UsageError::new(
                "--extra-opts is read only by the plugin programs: give the options here",
            ));
        }
        let timeout = C::common(&parsed).timeout;
        Ok(Arc::new(Prepared {
            check: C::new(parsed)?,
            timeout,
        }) as Arc<dyn DynCheck>)
    };
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(validate)).unwrap_or_else(|payload| {
        Err(UsageError(format!(
            "internal error in argument validation: {}",
            panic_message(payload.as_ref())
        )))
    })
}

/// Runs a prepared check inside a tokio runtime, within its timeout. Local work runs on
/// the blocking pool so it never stalls other checks; a panic becomes UNKNOWN.
pub async fn run_in_process(check: Arc<dyn DynCheck>) -> CheckResult {
    let spec = check.timeout();
    let mut task = tokio::spawn(async move {
        let local = match check.run() {
            Work::Remote(fut) => return fut.await,
            Work::Local(_) => check.clone(),
        };
        tokio::task::spawn_blocking(move || match local.run() {
            Work::Local(f) => f(),
            Work::Remote(_) => CheckResult::unknown("check changed its kind of work"),
        })
        .await
        .unwrap_or_else(|e| CheckResult::unknown(format!("internal error: {e}")))
    });
    match tokio::time::timeout(spec.duration, &mut task).await {
        Ok(Ok(r)) => r.with_timeout_state(spec.state),
        Ok(Err(e)) => CheckResult::unknown(format!("internal error: {e}")),
        Err(_) => {
            task.abort();
            timeout_result(&spec)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format_of(words: &[&str]) -> OutputFormat {
        let argv: Vec<std::ffi::OsString> = words.iter().map(Into::into).collect();
        requested_format(&argv)
    }

    #[test]
    fn a_refused_command_line_keeps_the_format_it_asked_for() {
        assert_eq!(format_of(&["check_x", "-w", "é"]), OutputFormat::Nagios);
        assert_eq!(
            format_of(&["check_x", "--output-format", "json", "-w", "é"]),
            OutputFormat::Json
        );
        assert_eq!(
            format_of(&["check_x", "--output-format=json"]),
            OutputFormat::Json
        );
        // the last one wins, as with clap; words after `--` are not options
        assert_eq!(
            format_of(&[
                "check_x",
                "--output-format=json",
                "--output-format",
                "nagios"
            ]),
            OutputFormat::Nagios
        );
        assert_eq!(
            format_of(&["check_x", "--", "--output-format", "json"]),
            OutputFormat::Nagios
        );
        assert_eq!(
            format_of(&["check_x", "--output-format"]),
            OutputFormat::Nagios
        );
        assert_eq!(
            format_of(&["check_x", "--output-format", "multi-line", "-w", "é"]),
            OutputFormat::MultiLine
        );
        assert_eq!(
            format_of(&["check_x", "--output-format=MP-TEST-JSON"]),
            OutputFormat::MpTestJson
        );
    }
}
