//! `[forward.nagios]`: results written to Nagios's external command file as
//! `[EPOCH] PROCESS_SERVICE_CHECK_RESULT;HOST;SERVICE;CODE;OUTPUT` and
//! `[EPOCH] PROCESS_HOST_CHECK_RESULT;HOST;CODE;OUTPUT` lines.
//!
//! ```toml
//! [forward.nagios]
//! command_file = "/var/lib/nagios4/rw/nagios.cmd"
//! host_name = "main"            # optional: every result under this host
//! services = ["main/*"]         # optional: only these services
//! ```
//!
//! The command file is the FIFO Nagios reads (`command_file` in nagios.cfg, with
//! `check_external_commands=1`). It is opened write-only and non-blocking: when Nagios
//! is not running the FIFO is missing (ENOENT) or has no reader (ENXIO), and the sink
//! tries again later. Each result is one `write` of one line of at most `PIPE_BUF`
//! bytes, so lines from several writers never interleave. OUTPUT is the summary, then
//! `|` and every perfdata item, then the long output lines, joined with a literal
//! `\n` (and `\` written `\\`), which Nagios turns back into lines. A longer result
//! keeps its summary, then as many perfdata items and long output lines as fit.
//! Nagios takes a result only for a host and service it has, with passive checks
//! accepted; it logs the others and drops them. It shows every `;` of a summary as
//! `:` (as for its own checks); perfdata keeps them.
//!
//! Host results are sent for hosts with a host check (the others have no result):
//! 0 UP, 1 DOWN, 2 UNREACHABLE, the state the daemon derived with its parents.

use super::{Failure, Passive, Sink, SinkConfig, SinkSettings};
pub use crate::config::sections::NagiosConfig;
use crate::config::Config;
use std::path::PathBuf;
use std::time::UNIX_EPOCH;
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;

/// The longest line written: a pipe write this size or smaller is atomic.
pub const LINE_MAX: usize = libc::PIPE_BUF;

impl SinkConfig for NagiosConfig {
    type Sink = Nagios;
    const NAME: &'static str = "nagios";

    fn settings(&self) -> &SinkSettings {
        &self.settings
    }

    fn problems(&self, config: &Config) -> Vec<String> {
        let mut out = Vec::new();
        if !self.command_file.is_absolute() {
            out.push(format!(
                "command_file = '{}': expected an absolute path",
                self.command_file.display()
            ));
        }
        for (what, name) in super::forwarded_names(&self.settings, config) {
            if let Some(c) = name.chars().find(|c| matches!(c, ';' | '\n' | '\r')) {
                out.push(format!(
                    "{what}: {:?} in a name cannot go into a Nagios command",
                    c
                ));
            }
        }
        out
    }

    fn sink(&self) -> Nagios {
        Nagios {
            command_file: self.command_file.clone(),
            pipe: None,
        }
    }
}

/// Writes results into Nagios's external command file.
pub struct Nagios {
    command_file: PathBuf,
    /// The FIFO, kept open between results.
    pipe: Option<pipe::Sender>,
}

impl Nagios {
    fn open(&self) -> Result<pipe::Sender, Failure> {
        let path = self.command_file.display();
        // never through a symbolic link a member may have planted, and only a FIFO
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&self.command_file)
            .and_then(pipe::Sender::from_file)
            .map_err(|e| {
                Failure::Retry(match e.raw_os_error() {
                    Some(libc::ENXIO) => format!("{path}: Nagios is not reading it (not running?)"),
                    Some(libc::ENOENT) => {
                        format!("{path}: no such command file (Nagios not running?)")
                    }
                    _ => format!("cannot open {path}: {e}"),
                })
            })
    }
}

impl Sink for Nagios {
    async fn deliver(&mut self, result: &Passive) -> Result<(), Failure> {
        let line = command_line(result);
        let pipe = match &mut self.pipe {
            Some(p) => p,
            None => self.pipe.insert(self.open()?),
        };
        // at most PIPE_BUF bytes: the kernel writes all of it at once or nothing
        if let Err(e) = pipe.write_all(line.as_bytes()).await {
            // EPIPE: that Nagios stopped (a new one makes a new FIFO)
            self.pipe = None;
            return Err(Failure::Retry(format!(
                "cannot write to {}: {e}",
                self.command_file.display()
            )));
        }
        Ok(())
    }
}

/// The external command line of a result, newline included, at most [`LINE_MAX`]
/// bytes.
pub fn command_line(r: &Passive) -> String {
    let epoch = r.end.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let mut line = match &r.service {
        Some(s) => format!(
            "[{epoch}] PROCESS_SERVICE_CHECK_RESULT;{};{s};{};",
            r.host, r.code
        ),
        None => format!("[{epoch}] PROCESS_HOST_CHECK_RESULT;{};{};", r.host, r.code),
    };
    let budget = LINE_MAX.saturating_sub(line.len() + 1);
    line.push_str(&output(r, budget));
    line.push('\n');
    line
}

/// The OUTPUT field within `budget` bytes: the summary (cut if it must be), `|` and
/// the perfdata items that fit, then the long output lines that fit, in order.
pub fn output(r: &Passive, budget: usize) -> String {
    let mut out = String::new();
    let mut left = budget;
    push_escaped(&mut out, &r.summary, &mut left);
    let mut sep = "|";
    for item in r.perfdata_items() {
        let item = item.as_str();
        if escaped_len(item) + sep.len() > left {
            break;
        }
        out.push_str(sep);
        left -= sep.len();
        push_escaped(&mut out, item, &mut left);
        sep = " ";
    }
    for line in &r.long {
        if escaped_len(line) + 2 > left {
            break;
        }
        out.push_str("\\n");
        left -= 2;
        push_escaped(&mut out, line, &mut left);
    }
    out
}

/// The escaped form of one character (`\` and line ends are escaped; a carriage
/// return is dropped).
fn escape(c: char) -> Option<&'static str> {
    match c {
        '\\' => Some("\\\\"),
        '\n' => Some("\\n"),
        '\r' => Some(""),
        _ => None,
    }
}

fn escaped_len(s: &str) -> usize {
    s.chars()
        .map(|c| escape(c).map_or(c.len_utf8(), str::len))
        .sum()
}

/// Appends `s` escaped, as much as fits in `left` bytes (whole characters).
fn push_escaped(out: &mut String, s: &str, left: &mut usize) {
    for c in s.chars() {
        let n = escape(c).map_or(c.len_utf8(), str::len);
        if n > *left {
            return;
        }
        *left -= n;
        match escape(c) {
            Some(e) => out.push_str(e),
            None => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::Forward;
    use std::time::Duration;

    fn result(service: Option<&str>, code: i32, output: &str) -> Passive {
        let outcome = crate::exec::Outcome::printed(
            hcoop_plugins::plugin::State::from_exit_code(code),
            output,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            Duration::from_millis(1_600),
        );
        Passive::new("main", service, code, &outcome)
    }

    #[test]
    fn service_line() {
        let r = result(
            Some("load"),
            1,
            "LOAD WARNING - load average: 3.10, 2.00, 1.50 | load1=3.1;3;5;0 load5=2;3;5;0\n",
        );
        assert_eq!(
            command_line(&r),
            "[1700000001] PROCESS_SERVICE_CHECK_RESULT;main;load;1;\
             LOAD WARNING - load average: 3.10, 2.00, 1.50|load1=3.1;3;5;0 load5=2;3;5;0\n"
        );
    }

    #[test]
    fn long_output_and_late_perfdata() {
        let r = result(
            Some("disk"),
            2,
            "DISK CRITICAL - /var 97% | '/'=5MB;;;0\n[OK] / 50%\n[CRITICAL] /var 97% in C:\\x\n| '/var'=97MB;;;0\nrest=1\n",
        );
        assert_eq!(
            command_line(&r),
            "[1700000001] PROCESS_SERVICE_CHECK_RESULT;main;disk;2;\
             DISK CRITICAL - /var 97%|/=5MB;;;0 /var=97MB;;;0 rest=1\
             \\n[OK] / 50%\\n[CRITICAL] /var 97% in C:\\\\x\n"
        );
    }

    #[test]
    fn host_line() {
        let r = result(None, 1, "TCP CRITICAL - connection refused\n");
        assert_eq!(
            command_line(&r),
            "[1700000001] PROCESS_HOST_CHECK_RESULT;main;1;TCP CRITICAL - connection refused\n"
        );
        assert_eq!(
            command_line(&result(None, 0, "")),
            "[1700000001] PROCESS_HOST_CHECK_RESULT;main;0;\n"
        );
    }

    #[test]
    fn long_results_fit_in_one_atomic_write() {
        let long: String = (0..200)
            .map(|i| format!("line {i:03} of the long output\n"))
            .collect();
        let perf: String = (0..300).map(|i| format!("m{i}=1 ")).collect();
        let text = format!("X OK - fine | {perf}\n{long}");
        let line = command_line(&result(Some("s"), 0, &text));
        assert!(line.len() <= LINE_MAX, "{}", line.len());
        assert!(line.len() > LINE_MAX - 40, "{}", line.len());
        assert!(line.ends_with('\n'));
        assert_eq!(line.matches('\n').count(), 1);
        // every perfdata item fits (about 1,800 bytes), then whole long lines in order
        assert!(line.contains("|m0=1 m1=1 "));
        assert!(line.contains(" m299=1\\nline 000 of the long output\\nline 001 "));
        assert!(line.ends_with(" of the long output\n"));
        // a summary alone too long is cut at a character boundary
        let huge = format!("X OK - {}\n", "é".repeat(3000));
        let line = command_line(&result(Some("s"), 0, &huge));
        assert!(line.len() <= LINE_MAX && line.len() >= LINE_MAX - 2);
        assert!(line.ends_with("é\n"));
        // an escape is never cut in half
        let text = result(Some("s"), 0, "ab\\\\");
        assert_eq!(output(&text, 5), "ab\\\\");
        assert_eq!(output(&text, 4), "ab\\\\");
        assert_eq!(output(&text, 3), "ab");
        assert_eq!(output(&result(Some("s"), 0, "a | x=1\nb"), 4), "a\\nb");
    }

    fn config(forward: &str, names: &str) -> Result<Config, String> {
        let text = format!(
            "[[host]]\nname = \"{names}\"\naddress = \"127.0.0.1\"\n\n\
             [[service]]\nhost = \"{names}\"\nname = \"s{names}\"\ncheck = \"check_load\"\n\n{forward}"
        );
        crate::config::Config::from_files(vec![(None, text)]).map_err(|e| e.to_string())
    }

    #[test]
    fn configuration() {
        let c = config(
            "[forward.nagios]\ncommand_file = \"/run/nagios.cmd\"\nhost_name = \"central\"\n\
             services = [\"h/*\"]\nqueue_size = 10\nretry_interval = \"2s\"\n",
            "h",
        )
        .unwrap();
        let n = c.forward.nagios.as_ref().unwrap();
        assert_eq!(n.command_file, PathBuf::from("/run/nagios.cmd"));
        assert_eq!(n.settings.host_name.as_deref(), Some("central"));
        assert_eq!(n.settings.services, ["h/*"]);
        assert_eq!(n.settings.queue_size(), 10);
        assert_eq!(n.settings.retry_interval(), Duration::from_secs(2));
        assert_eq!(config("", "h").unwrap().forward, Forward::default());
        let e = config(
            "[forward.nagios]\ncommand_file = \"/run/nagios.cmd\"\nqueue = 3\n",
            "h",
        )
        .unwrap_err();
        assert!(e.contains("queue"), "{e}");
        let e = config("[forward.nagios]\ncommand_file = \"nagios.cmd\"\nqueue_size = 0\nretry_interval = \"0s\"\nservices = [\"[\"]\n", "h").unwrap_err();
        assert!(
            e.contains("[forward.nagios] command_file = 'nagios.cmd': expected an absolute path"),
            "{e}"
        );
        assert!(
            e.contains("[forward.nagios] queue_size must be at least 1"),
            "{e}"
        );
        assert!(
            e.contains("[forward.nagios] retry_interval must be longer than 0s"),
            "{e}"
        );
        assert!(e.contains("[forward.nagios] services: '['"), "{e}");
    }

    #[test]
    fn names_nagios_cannot_take_are_refused_at_load() {
        let nagios = "[forward.nagios]\ncommand_file = \"/run/nagios.cmd\"\n";
        let e = config(nagios, "a;b").unwrap_err();
        assert!(
            e.contains(
                "[forward.nagios] host 'a;b': ';' in a name cannot go into a Nagios command"
            ),
            "{e}"
        );
        assert!(
            e.contains("[forward.nagios] service 'sa;b' on 'a;b': ';' in a name"),
            "{e}"
        );
        // the same names are fine without forwarding to Nagios, or when overridden
        // and filtered out
        assert!(config("", "a;b").is_ok());
        let ok = format!("{nagios}host_name = \"main\"\nservices = [\"load\"]\n");
        assert!(config(&ok, "a;b").is_ok());
        let bad = format!("{nagios}host_name = \"x\\ny\"\n");
        let e = config(&bad, "h").unwrap_err();
        assert!(
            e.contains("[forward.nagios] host_name: '\\n' in a name"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn never_writes_through_a_symlink_or_into_a_plain_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, "precious\n").unwrap();
        let link = dir.path().join("nagios.cmd");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let r = result(Some("load"), 0, "LOAD OK - fine\n");
        for path in [link, target.clone()] {
            let mut sink = NagiosConfig {
                command_file: path.clone(),
                settings: SinkSettings::default(),
            }
            .sink();
            let e = sink.deliver(&r).await.unwrap_err();
            assert!(
                matches!(&e, Failure::Retry(m) if m.starts_with(&format!("cannot open {}", path.display()))),
                "{e:?}"
            );
        }
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious\n");
    }

    #[tokio::test]
    async fn writes_lines_to_a_fifo_and_waits_for_a_reader() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("nagios.cmd");
        let cfg = NagiosConfig {
            command_file: fifo.clone(),
            settings: SinkSettings::default(),
        };
        let mut sink = cfg.sink();
        let r = result(Some("load"), 0, "LOAD OK - fine | l=1\n");
        let missing = sink.deliver(&r).await.unwrap_err();
        assert_eq!(
            missing,
            Failure::Retry(format!(
                "{}: no such command file (Nagios not running?)",
                fifo.display()
            ))
        );
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string naming a path in our temp dir.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let no_reader = sink.deliver(&r).await.unwrap_err();
        assert!(
            matches!(&no_reader, Failure::Retry(m) if m.ends_with("Nagios is not reading it (not running?)")),
            "{no_reader:?}"
        );
        let reader = pipe::OpenOptions::new().open_receiver(&fifo).unwrap();
        sink.deliver(&r).await.unwrap();
        sink.deliver(&result(None, 0, "UP\n")).await.unwrap();
        let mut got = vec![0u8; 1024];
        let mut reader = reader;
        let n = tokio::io::AsyncReadExt::read(&mut reader, &mut got)
            .await
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&got[..n]),
            "[1700000001] PROCESS_SERVICE_CHECK_RESULT;main;load;0;LOAD OK - fine|l=1\n\
             [1700000001] PROCESS_HOST_CHECK_RESULT;main;0;UP\n"
        );
        // the reader goes away: the write fails and the sink opens the FIFO again
        drop(reader);
        let gone = sink.deliver(&r).await.unwrap_err();
        assert!(
            matches!(&gone, Failure::Retry(m) if m.contains("cannot write")),
            "{gone:?}"
        );
        assert!(sink.pipe.is_none());
    }
}
