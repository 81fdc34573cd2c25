//! Runs a helper program (a mail queue lister, `repquota`) for a local check, killing
//! it when it outlives the check's deadline so a hung program cannot hold the check.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a helper program printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Output {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// The first non-empty line of stderr (or stdout), for an error message.
    pub fn complaint(&self) -> String {
        self.stderr
            .lines()
            .chain(self.stdout.lines())
            .map(str::trim)
            .find(|l| !l.is_empty())
            .unwrap_or("no output")
            .to_string()
    }
}

/// Runs `program args` with no stdin and waits at most `limit`; a program that is not
/// done by then is killed and reported as an error.
pub fn run(program: &str, args: &[String], limit: Duration) -> Result<Output, String> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    // read both pipes on threads so a chatty program never blocks on a full pipe
    let reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped stdout")));
    let err = reader(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break s,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "{program} did not finish within {}s",
                    limit.as_secs_f64()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("cannot wait for {program}: {e}")),
        }
    };
    Ok(Output {
        success: status.success(),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let o = run(
            "sh",
            &["-c".into(), "echo out; echo err >&2; exit 3".into()],
            Duration::from_secs(5),
        )
        .unwrap();
        assert!(!o.success);
        assert_eq!(o.stdout, "out\n");
        assert_eq!(o.complaint(), "err");
    }

    #[test]
    fn kills_a_hung_program() {
        let t = Instant::now();
        let e = run("sleep", &["30".into()], Duration::from_millis(200)).unwrap_err();
        assert_eq!(e, "sleep did not finish within 0.2s");
        assert!(t.elapsed() < Duration::from_secs(5));
        assert!(run("/nonexistent/prog", &[], Duration::from_secs(1))
            .unwrap_err()
            .starts_with("cannot run /nonexistent/prog: "));
    }
}
