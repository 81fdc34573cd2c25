//! Readers of `vos` and `bos` output (`vos listvol -format`, `vos examine -format`,
//! `vos partinfo`, `bos status -long`) and the running of those tools.

use crate::host::subprocess;
use crate::plugin::{CommonArgs, HostListArgs};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The servers a mode asks through vos or bos, and how the tool is run.
#[derive(clap::Args, Debug)]
pub struct ServerArgs {
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub tool: ToolArgs,
    #[command(flatten)]
    pub hosts: HostListArgs,
}

/// How vos and bos are run.
#[derive(clap::Args, Debug, Clone)]
pub struct ToolArgs {
    /// Use the server key (-localauth, as root on a server) instead of -noauth
    #[arg(long = "localauth")]
    pub localauth: bool,
    /// The cell (default: the client's ThisCell)
    #[arg(long = "cell", value_name = "CELL")]
    pub cell: Option<String>,
}

impl ToolArgs {
    /// The authentication and cell flags of every vos and bos call.
    pub fn flags(&self) -> Vec<String> {
        let mut v = vec![if self.localauth {
            "-localauth"
        } else {
            "-noauth"
        }
        .to_string()];
        if let Some(c) = &self.cell {
            v.extend(["-cell".to_string(), c.clone()]);
        }
        v
    }
}

/// One volume as `vos ... -format` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Volume {
    pub name: String,
    pub server: String,
    pub partition: String,
    /// RW, RO or BK.
    pub kind: String,
    /// `OK` when the volume header could be read.
    pub status: String,
    pub used_kb: u64,
    /// 0 = no quota.
    pub quota_kb: u64,
}

/// Reads the `key<TAB>value` blocks of `vos listvol -format` (between BEGIN_OF_ENTRY and
/// END_OF_ENTRY) or `vos examine -format` (up to the first blank line).
pub fn parse_volumes(text: &str) -> Vec<Volume> {
    let mut out = Vec::new();
    let mut cur: Vec<(&str, &str)> = Vec::new();
    let flush = |cur: &mut Vec<(&str, &str)>, out: &mut Vec<Volume>| {
        let get = |k: &str| {
            cur.iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.split_whitespace().next().unwrap_or("").to_string())
        };
        if let Some(name) = get("name") {
            out.push(Volume {
                name,
                server: get("serv").unwrap_or_default(),
                partition: get("part").unwrap_or_default(),
                kind: get("type").unwrap_or_default(),
                status: get("status").unwrap_or_default(),
                used_kb: get("diskused").and_then(|v| v.parse().ok()).unwrap_or(0),
                quota_kb: get("maxquota").and_then(|v| v.parse().ok()).unwrap_or(0),
            });
        }
        cur.clear();
    };
    for line in text.lines() {
        let t = line.trim_end();
        if t == "BEGIN_OF_ENTRY" || t == "END_OF_ENTRY" || t.is_empty() {
            flush(&mut cur, &mut out);
            continue;
        }
        if let Some((k, v)) = t.split_once('\t') {
            if !k.contains(' ') {
                cur.push((k, v.trim()));
                continue;
            }
        }
        flush(&mut cur, &mut out);
    }
    flush(&mut cur, &mut out);
    out
}

/// One partition from `vos partinfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    pub name: String,
    pub free_kb: u64,
    pub total_kb: u64,
}

/// Reads `Free space on partition /vicepa: 62235448 K blocks out of total 95285888`.
pub fn parse_partinfo(text: &str) -> Vec<Partition> {
    text.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("Free space on partition ")?;
            let (name, rest) = rest.split_once(": ")?;
            let (free, rest) = rest.split_once(" K blocks out of total ")?;
            Some(Partition {
                name: name.to_string(),
                free_kb: free.trim().parse().ok()?,
                total_kb: rest.trim().parse().ok()?,
            })
        })
        .collect()
}

/// One instance from `bos status -long`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    pub name: String,
    /// The status words, e.g. `currently running normally`.
    pub status: String,
    pub running_normally: bool,
    pub has_core: bool,
    /// The auxiliary status (`file server running`, `salvaging file system`).
    pub auxiliary: Option<String>,
}

/// What `bos status -long` said: the instances and the lines it did not expect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BosStatus {
    pub instances: Vec<Instance>,
    pub unexpected: Vec<String>,
}

/// Reads `bos status -long`. Lines other than instance headers and their indented
/// details (start times, commands, auxiliary status, notifier) are unexpected.
pub fn parse_bos_status(text: &str) -> BosStatus {
    let mut st = BosStatus::default();
    for line in text.lines() {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(rest) = t.strip_prefix("Instance ") {
            let (name, rest) = rest.split_once(',').unwrap_or((rest, ""));
            let rest = rest.trim();
            // "(type is simple) currently running normally." without -long drops the type
            let rest = match rest.strip_prefix('(') {
                Some(r) => r.split_once(')').map_or(r, |(_, b)| b).trim(),
                None => rest,
            };
            let has_core = rest.starts_with("has core file");
            let status = rest.trim_end_matches('.').to_string();
            st.instances.push(Instance {
                name: name.trim().to_string(),
                running_normally: status.ends_with("currently running normally"),
                status,
                has_core,
                auxiliary: None,
            });
            continue;
        }
        if let Some(aux) = t.strip_prefix("Auxiliary status is: ") {
            if let Some(i) = st.instances.last_mut() {
                i.auxiliary = Some(aux.trim_end_matches('.').to_string());
                continue;
            }
        }
        let detail = line.starts_with(' ') || line.starts_with('\t');
        let known = [
            "Process last started",
            "Last exit at",
            "Last error exit at",
            "Command ",
            "Notifier is",
        ];
        if detail && !st.instances.is_empty() && known.iter().any(|k| t.starts_with(k)) {
            continue;
        }
        st.unexpected.push(t.to_string());
    }
    st
}

/// Finds a program in `PATH` (or as given when it holds a `/`).
pub fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let p = PathBuf::from(program);
        return p.exists().then_some(p);
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(program))
        .find(|c| c.is_file())
}

/// Why a tool run gave nothing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The program is not installed (UNKNOWN: the check cannot be made here).
    Missing(String),
    /// It ran and failed (the server side is in trouble).
    Failed(String),
    /// It was still running when its time ran out, and was killed (the server side does
    /// not answer); or it was not run for lack of time.
    TimedOut(String),
}

impl ToolError {
    /// True when the time ran out.
    pub fn is_timeout(&self) -> bool {
        matches!(self, ToolError::TimedOut(_))
    }
}

/// Runs an OpenAFS client tool (from the Debian package openafs-client) and returns its
/// standard output.
pub fn run_tool(program: &str, args: &[String], limit: Duration) -> Result<String, ToolError> {
    find_program(program).ok_or_else(|| {
        ToolError::Missing(format!(
            "{program} not found: install the Debian package openafs-client"
        ))
    })?;
    run_limited(program, args, limit)
}

/// A result of the tool runs on each server, finished: when no server's run ended
/// before the time ran out, the whole result has timed out (the state is the one `-t`
/// names); otherwise each failed server is a sub-result as it stands.
pub fn finish<T>(
    r: crate::plugin::CheckResult,
    runs: &[(String, Result<T, ToolError>)],
) -> crate::plugin::CheckResult {
    let all_hung = !runs.is_empty()
        && runs
            .iter()
            .all(|(_, run)| run.as_ref().is_err_and(ToolError::is_timeout));
    if all_hung {
        r.into_timed_out()
    } else {
        r
    }
}

/// [`run_tool`] within what is left until `deadline` (the calls of one run share it).
pub fn run_tool_until(
    program: &str,
    args: &[String],
    deadline: Instant,
) -> Result<String, ToolError> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(ToolError::TimedOut(format!(
            "{program} not run: the time limit (-t) ran out first"
        )));
    }
    run_tool(program, args, left)
}

/// Runs a program with no stdin through the shared runner, killing it if it is not done
/// within `limit`; its stdout, or the first line it complained with.
fn run_limited(program: &str, args: &[String], limit: Duration) -> Result<String, ToolError> {
    let start = Instant::now();
    let out = subprocess::run(program, args, limit).map_err(|e| {
        // the runner fails at once when it cannot start the program; an error after
        // the whole limit is the program killed for taking too long
        if start.elapsed() >= limit {
            ToolError::TimedOut(format!(
                "{program} did not finish within {:.1}s",
                limit.as_secs_f64()
            ))
        } else {
            ToolError::Failed(e)
        }
    })?;
    if !out.success {
        let name = Path::new(program)
            .file_name()
            .map_or_else(|| program.into(), |n| n.to_string_lossy());
        return Err(ToolError::Failed(format!(
            "{name}: {}",
            crate::plugin::shown(&out.complaint())
        )));
    }
    Ok(out.stdout)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTVOL: &str = include_str!("testdata/listvol-format.txt");
    const BOS: &str = include_str!("testdata/bos-status-long.txt");
    const PARTINFO: &str = include_str!("testdata/partinfo.txt");

    #[test]
    fn listvol_format_from_a_real_volserver() {
        let v = parse_volumes(LISTVOL);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].name, "user.alice");
        assert_eq!(v[0].server, "10.77.0.1");
        assert_eq!(v[0].partition, "/vicepa");
        assert_eq!(v[0].kind, "RW");
        assert_eq!(v[0].status, "OK");
        assert_eq!((v[0].used_kb, v[0].quota_kb), (2, 100));
        assert_eq!((v[1].name.as_str(), v[1].quota_kb), ("user.bob", 50));
    }

    #[test]
    fn examine_format_stops_at_the_vldb_part() {
        let text = "name\t\tuser.bob\nid\t\t536870915\nserv\t\t10.77.0.1\t10.77.0.1\npart\t\t/vicepa\nstatus\t\tOK\ntype\t\tRW\ndiskused\t2\nmaxquota\t50\nminquota\t0\t(Optional)\n\nuser.bob \n    RWrite: 536870915 \n    number of sites -> 1\n       server 10.77.0.1 partition /vicepa RW Site \n";
        let v = parse_volumes(text);
        assert_eq!(v.len(), 1);
        assert_eq!((v[0].used_kb, v[0].quota_kb), (2, 50));
    }

    #[test]
    fn partinfo_from_a_real_volserver() {
        assert_eq!(
            parse_partinfo(PARTINFO),
            vec![Partition {
                name: "/vicepa".into(),
                free_kb: 62235448,
                total_kb: 95285888
            }]
        );
    }

    #[test]
    fn bos_status_from_a_real_bosserver() {
        let st = parse_bos_status(BOS);
        let names: Vec<_> = st.instances.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(names, ["vlserver", "ptserver", "fs"]);
        assert!(st
            .instances
            .iter()
            .all(|i| i.running_normally && !i.has_core));
        assert_eq!(
            st.instances[2].auxiliary.as_deref(),
            Some("file server running")
        );
        assert_eq!(
            st.unexpected,
            ["Bosserver reports inappropriate access on server directories"]
        );
    }

    #[test]
    fn bos_status_troubles() {
        let text = "Instance fs, (type is fs) has core file, currently running normally.\n    Auxiliary status is: salvaging file system.\nInstance ptserver, (type is simple) temporarily disabled, currently shutdown.\nInstance vlserver, (type is simple) disabled, currently shutdown.\nsomething odd\n";
        let st = parse_bos_status(text);
        assert!(st.instances[0].has_core && st.instances[0].running_normally);
        assert_eq!(
            st.instances[0].auxiliary.as_deref(),
            Some("salvaging file system")
        );
        assert_eq!(
            st.instances[1].status,
            "temporarily disabled, currently shutdown"
        );
        assert!(!st.instances[1].running_normally);
        assert_eq!(st.unexpected, ["something odd"]);
    }

    #[test]
    fn tool_failures() {
        let sh = |script: &str, limit| run_limited("/bin/sh", &["-c".into(), script.into()], limit);
        assert_eq!(sh("echo out", Duration::from_secs(5)), Ok("out\n".into()));
        assert_eq!(
            sh(
                "echo 'VLDB: no such entry' >&2; exit 255",
                Duration::from_secs(5)
            ),
            Err(ToolError::Failed("sh: VLDB: no such entry".into()))
        );
        assert_eq!(
            sh("sleep 5", Duration::from_millis(100)),
            Err(ToolError::TimedOut(
                "/bin/sh did not finish within 0.1s".into()
            ))
        );
    }

    #[test]
    fn missing_tool_names_the_package() {
        assert_eq!(
            run_tool("no-such-vos-here", &[], Duration::from_secs(1)),
            Err(ToolError::Missing(
                "no-such-vos-here not found: install the Debian package openafs-client".into()
            ))
        );
    }
}
