//! Mode `bos`: every bosserver instance running normally, without core files, no
//! salvager running (`bos status -long`).

use super::tools::{self, BosStatus, ServerArgs, ToolArgs, ToolError};
use crate::plugin::{shown, CheckResult, State, UsageError};
use std::time::{Duration, Instant};

/// The bosservers to ask.
#[derive(clap::Args, Debug)]
#[command(mut_arg("hosts", |a| a.help("Servers running a bosserver (comma-separated or repeated)")))]
pub struct BosArgs {
    #[command(flatten)]
    pub servers: ServerArgs,
}

/// What `bos status -long` said on each server, or why it said nothing.
pub type Statuses = Vec<(String, Result<BosStatus, ToolError>)>;

/// The bosservers to ask.
#[derive(Debug)]
pub struct BosConfig {
    pub tool: ToolArgs,
    pub hosts: Vec<String>,
}

impl BosConfig {
    /// Validates the arguments (no I/O).
    pub fn new(a: BosArgs) -> Result<Self, UsageError> {
        Ok(BosConfig {
            hosts: a.servers.hosts.validated()?,
            tool: a.servers.tool,
        })
    }

    /// Runs `bos status -long` on each server, all within `limit`.
    pub fn fetch(&self, limit: Duration) -> Statuses {
        let deadline = Instant::now() + limit;
        self.hosts
            .iter()
            .map(|h| {
                let mut args = vec!["status".to_string(), h.clone(), "-long".into()];
                args.extend(self.tool.flags());
                let out = tools::run_tool_until("bos", &args, deadline);
                (h.clone(), out.map(|t| tools::parse_bos_status(&t)))
            })
            .collect()
    }
}

/// Turns `bos status` per server into the result (pure).
pub fn evaluate(facts: &[(String, Result<BosStatus, ToolError>)]) -> CheckResult {
    let mut r = CheckResult::new(State::Ok, "");
    let mut count = 0;
    for (host, st) in facts {
        let st = match st {
            Err(ToolError::Missing(m)) => return CheckResult::unknown(m.clone()),
            Err(ToolError::Failed(m) | ToolError::TimedOut(m)) => {
                r.push_sub(State::Critical, format!("{host}: {m}"));
                continue;
            }
            Ok(st) => st,
        };
        if st.instances.is_empty() {
            r.push_sub(State::Critical, format!("{host}: no bos instance"));
        }
        for i in &st.instances {
            count += 1;
            let state = if !i.running_normally {
                State::Critical
            } else if i.has_core || i.auxiliary.as_deref() == Some("salvaging file system") {
                State::Warning
            } else {
                State::Ok
            };
            // what bos printed is shown escaped and cut
            let mut text = format!("{host} {} {}", shown(&i.name), shown(&i.status));
            if let Some(a) = &i.auxiliary {
                text.push_str(&format!(" ({})", shown(a)));
            }
            r.push_sub(state, text);
        }
        for line in &st.unexpected {
            r.push_sub(State::Warning, format!("{host}: {}", shown(line)));
        }
    }
    r.summarize_troubles(format!("{count} instances running normally"));
    tools::finish(r, facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::afs::{test_check, Facts};
    use crate::plugin::output::render_text;
    use crate::plugin::Check;

    /// The verdict of `check_afs bos` on `facts`.
    fn evaluate(facts: &[(String, Result<BosStatus, ToolError>)]) -> CheckResult {
        test_check(&["bos", "-H", "10.77.0.1"]).evaluate(&Facts::Bos(facts.to_vec()))
    }

    #[test]
    fn bos_instances() {
        let text = include_str!("testdata/bos-status-long.txt");
        let facts = vec![("10.77.0.1".to_string(), Ok(tools::parse_bos_status(text)))];
        let r = evaluate(&facts);
        assert_eq!(r.state(), State::Warning);
        assert_eq!(
            r.summary,
            "10.77.0.1: Bosserver reports inappropriate access on server directories"
        );
        let clean = text.replace(
            "Bosserver reports inappropriate access on server directories\n",
            "",
        );
        let facts = vec![("10.77.0.1".to_string(), Ok(tools::parse_bos_status(&clean)))];
        assert_eq!(
            render_text("AFS", &evaluate(&facts)),
            "AFS OK - 3 instances running normally\n[OK] 10.77.0.1 vlserver currently running normally\n[OK] 10.77.0.1 ptserver currently running normally\n[OK] 10.77.0.1 fs currently running normally (file server running)\n"
        );
        let core = "Instance fs, (type is fs) has core file, currently running normally.\n";
        let facts = vec![("h".to_string(), Ok(tools::parse_bos_status(core)))];
        assert_eq!(evaluate(&facts).state(), State::Warning);
        let down = "Instance fs, (type is fs) temporarily disabled, currently shutdown.\n";
        let facts = vec![("h".to_string(), Ok(tools::parse_bos_status(down)))];
        let r = evaluate(&facts);
        assert_eq!(r.state(), State::Critical);
        assert_eq!(r.summary, "h fs temporarily disabled, currently shutdown");
    }

    #[test]
    fn hung_bos_everywhere_is_a_timeout() {
        let hung = (
            "fs1".to_string(),
            Err(ToolError::TimedOut("bos did not finish within 1.8s".into())),
        );
        let r = evaluate(std::slice::from_ref(&hung));
        assert!(r.timed_out);
        assert_eq!(
            render_text("AFS", &r.with_timeout_state(State::Unknown)),
            "AFS UNKNOWN - fs1: bos did not finish within 1.8s\nfs1: bos did not finish within 1.8s\n"
        );
        let failed = (
            "fs2".to_string(),
            Err(ToolError::Failed("bos: no such host".into())),
        );
        let r = evaluate(&[hung, failed]);
        assert!(!r.timed_out);
        assert_eq!(r.state(), State::Critical);
    }

    #[test]
    fn what_bos_printed_is_shown_escaped_and_cut() {
        let odd = format!(
            "Instance fs, (type is fs) currently running normally.\n{}\n",
            "x".repeat(5000)
        );
        let facts = vec![("h".to_string(), Ok(tools::parse_bos_status(&odd)))];
        let r = evaluate(&facts);
        assert_eq!(r.state(), State::Warning);
        assert!(r.summary.len() < 300, "{}", r.summary);
        assert!(r.summary.ends_with("... (5000 bytes)"), "{}", r.summary);
    }
}
