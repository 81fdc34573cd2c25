//! check_disk: free space and free inodes of mounted file systems, read with statfs(2)
//! from the mount list in /proc/self/mountinfo. Options follow monitoring-plugins'
//! check_disk (2.3), and so do its state rules:
//!
//! - `-w 10%` / `-c 5%`: alert when the whole percent free is at or below the level
//!   (monitoring-plugins turns `10%` into the range `@10`; ranges such as `@5:10%` work
//!   too). Percent free is `100 - ceil(used * 100 / (used + available))`, as df rounds:
//!   used = blocks - bfree, available = bavail (space for users, without root's reserve).
//! - `-w 500` / `-c 100`: alert when the free space in units (`-u`, MiB unless `-k`,
//!   `-m` or `-u` say otherwise; kB/MB/GB are binary, as in monitoring-plugins 2.3) is at
//!   or below the level; free units are rounded down.
//! - `-W 10%` / `-K 5%`: the same rule for the whole percent of free inodes.
//!
//! Selection: every mounted file system by default; `-p` (mount point, device, or any
//! path: it stands for the file system holding it), `-r`/`-R` (regular expressions on the
//! mount point or device) and `-A` (all) select instead; `-i`/`-I`, `-x`, `-X`, `-N` and
//! `-l` narrow the selection. Levels apply to the `-p`, `-r` and `-R` that follow them
//! and `-C` clears them, as in monitoring-plugins (`-w 10% -p /tmp -C -w 5% -p /`); file
//! systems not named that way get the levels given last. Pseudo file systems ([`PSEUDO_TYPES`]) are left out unless
//! `-A`, `-N` or `-p` ask for them; file systems with no blocks are skipped. A mount point
//! mounted over several times counts once (the visible, last mount).
//!
//! Perfdata per file system, as monitoring-plugins writes it: the label is the mount
//! point (the device with `-M`), the value used bytes, warn/crit the used bytes at which
//! the levels alert, min 0, max the size (without root's reserve with `-f`). Bytes are
//! exact here, where monitoring-plugins rounds them down to whole units.

use crate::host::mounts::{fs_stats, read_mounts, FsStats, Mount};
pub use crate::host::posix_regex::PosixRegex;
use crate::plugin::units::{human_bytes, unit_factor};
use crate::plugin::{
    judge, parse_level, shown, Check, CheckResult, CommonArgs, Level, Observed, PerfData, Range,
    State, Thresholds, Unit, Uom, UsageError, Work,
};
use clap::Parser;
use std::path::PathBuf;
use std::str::FromStr;

/// File system types left out unless asked for: kernel interfaces without disk space.
pub const PSEUDO_TYPES: &[&str] = &[
    "autofs",
    "binfmt_misc",
    "bpf",
    "cgroup",
    "cgroup2",
    "configfs",
    "debugfs",
    "devpts",
    "efivarfs",
    "fusectl",
    "hugetlbfs",
    "mqueue",
    "nsfs",
    "proc",
    "pstore",
    "rootfs",
    "rpc_pipefs",
    "securityfs",
    "selinuxfs",
    "sysfs",
    "tracefs",
];

/// File system types on another machine, left out by `-l`.
pub const REMOTE_TYPES: &[&str] = &[
    "9p",
    "afs",
    "ceph",
    "cifs",
    "coda",
    "davfs",
    "fuse.glusterfs",
    "fuse.s3fs",
    "fuse.sshfs",
    "glusterfs",
    "gpfs",
    "lustre",
    "ncpfs",
    "nfs",
    "nfs4",
    "ocfs2",
    "smb3",
    "smbfs",
];

/// A free-space level: whole percent free (`10%`) or units free (`500`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SpaceLevel {
    Percent(Range),
    Units(Range),
}

/// Reads a monitoring-plugins level with the contract's checked parser: a bare `N`
/// means the range `@N` (alert from 0 to N inclusive); a text starting with `@` is taken
/// as it is. A [`Unit::Percent`] level must lie within 0..=100.
fn free_level(text: &str, unit: Unit) -> Result<Level, String> {
    let t = text.trim();
    let with_at = if t.starts_with('@') {
        t.to_string()
    } else {
        format!("@{t}")
    };
    // the range's own error first (`invalid range '@x'`), as it always read
    with_at.parse::<Range>().map_err(|e| e.to_string())?;
    if unit == Unit::Percent {
        // the bounds, echoing the level as it was written (`'200%'`)
        let plain = t.strip_prefix('@').unwrap_or(t);
        parse_level(&format!("{plain}%"), &[unit])?;
    }
    parse_level(&with_at, &[unit])
}

/// [`free_level`] of a count of units, as a range.
fn free_range(text: &str) -> Result<Range, String> {
    free_level(text, Unit::Count).map(|l| l.range)
}

impl FromStr for SpaceLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().strip_suffix('%') {
            Some(p) => free_level(p, Unit::Percent).map(|l| SpaceLevel::Percent(l.range)),
            None => free_range(s).map(SpaceLevel::Units),
        }
    }
}

/// A free-inode level: whole percent, the `%` optional.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InodeLevel(pub Range);

impl FromStr for InodeLevel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        free_level(t.strip_suffix('%').unwrap_or(t), Unit::Percent).map(|l| InodeLevel(l.range))
    }
}

/// The unit of `-u`: its factor in bytes and its display name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Units {
    pub factor: u64,
    pub name: &'static str,
}

impl FromStr for Units {
    type Err = String;

    /// `bytes`, `kB`/`KiB`, `MB`/`MiB`, `GB`/`GiB`, `TB`/`TiB`, `PB`/`PiB` (any case;
    /// all binary, as monitoring-plugins 2.3 counts them).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        let factor = match lower.as_str() {
            "bytes" => Some(1.0),
            "" => None,
            l if l.ends_with('b') => unit_factor(l),
            _ => None,
        }
        .ok_or_else(|| {
            format!("unknown unit '{s}' (use bytes, kB, MB, GB, TB or PB; KiB etc. also work)")
        })?;
        let name = match factor as u64 {
            1 => "B",
            0x400 => "KiB",
            0x10_0000 => "MiB",
            0x4000_0000 => "GiB",
            0x100_0000_0000 => "TiB",
            _ => "PiB",
        };
        Ok(Units {
            factor: factor as u64,
            name,
        })
    }
}

/// Command line of check_disk.
#[derive(Parser, Debug)]
#[command(
    name = "check_disk",
    version,
    about = "Checks free space and free inodes of mounted file systems.\n\nLevels alert at or below the value: -w 10% (percent free), -w 500 (units free, MiB unless -u/-k/-m), -W 10% (percent of inodes free). As in monitoring-plugins, -p, -r, -R and -A need a level before them, and -E and -g must come before the selections they apply to.\n\nWhere ours differs on purpose: a -g group counts a file system once when two -p paths lie on it (monitoring-plugins adds it twice); -i/-I leave out matching file systems from every selection, also those after them; perfdata holds exact used bytes (monitoring-plugins rounds them down to whole units).\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options). --help and --version exit 0."
)]
pub struct Args {
    /// First: it reads the positions before the other fields take their values out.
    #[command(flatten)]
    pub order: ArgOrder,

    #[command(flatten)]
    pub common: CommonArgs,

    /// WARNING when free space is at or below PERCENT% or UNITS (may be given twice:
    /// once in percent, once in units)
    #[arg(short = 'w', long = "warning", value_name = "PERCENT%|UNITS")]
    pub warning: Vec<SpaceLevel>,

    /// CRITICAL when free space is at or below PERCENT% or UNITS
    #[arg(short = 'c', long = "critical", value_name = "PERCENT%|UNITS")]
    pub critical: Vec<SpaceLevel>,

    /// WARNING when free inodes are at or below PERCENT%
    #[arg(short = 'W', long = "iwarning", value_name = "PERCENT%")]
    pub iwarning: Vec<InodeLevel>,

    /// CRITICAL when free inodes are at or below PERCENT%
    #[arg(short = 'K', long = "icritical", value_name = "PERCENT%")]
    pub icritical: Vec<InodeLevel>,

    /// Clear the levels given so far. Levels apply to the -p, -r and -R after them; a -C
    /// before any of those first selects every file system with the levels so far
    #[arg(
        short = 'C',
        long = "clear",
        action = clap::ArgAction::Append,
        num_args = 0,
        default_missing_value = "true"
    )]
    pub clear: Vec<bool>,

    /// Check the file system mounted at PATH, holding PATH, or on device PATH (repeatable)
    #[arg(
        short = 'p',
        long = "path",
        visible_alias = "partition",
        value_name = "PATH"
    )]
    pub paths: Vec<String>,

    /// Leave out this device or mount point (repeatable)
    #[arg(
        short = 'x',
        long = "exclude_device",
        visible_alias = "exclude-device",
        value_name = "PATH"
    )]
    pub exclude_device: Vec<String>,

    /// Leave out file systems of this type (repeatable)
    #[arg(short = 'X', long = "exclude-type", value_name = "TYPE")]
    pub exclude_type: Vec<String>,

    /// Check only file systems of this type (repeatable)
    #[arg(short = 'N', long = "include-type", value_name = "TYPE")]
    pub include_type: Vec<String>,

    /// Select all file systems, pseudo ones included (like -R '.*')
    #[arg(short = 'A', long = "all")]
    pub all: bool,

    /// Select mount points or devices matching this regular expression (repeatable)
    #[arg(
        short = 'r',
        long = "ereg-path",
        visible_alias = "ereg-partition",
        value_name = "REGEX"
    )]
    pub ereg: Vec<String>,

    /// Like -r, ignoring case
    #[arg(
        short = 'R',
        long = "eregi-path",
        visible_alias = "eregi-partition",
        value_name = "REGEX"
    )]
    pub eregi: Vec<String>,

    /// Leave out selected mount points or devices matching this regular expression
    #[arg(
        short = 'i',
        long = "ignore-ereg-path",
        visible_alias = "ignore-ereg-partition",
        value_name = "REGEX"
    )]
    pub ignore_ereg: Vec<String>,

    /// Like -i, ignoring case
    #[arg(
        short = 'I',
        long = "ignore-eregi-path",
        visible_alias = "ignore-eregi-partition",
        value_name = "REGEX"
    )]
    pub ignore_eregi: Vec<String>,

    /// Only local file systems (leave out NFS, CIFS, AFS, ...)
    #[arg(short = 'l', long = "local")]
    pub local: bool,

    /// Show only file systems in a problem state
    #[arg(short = 'e', long = "errors-only")]
    pub errors_only: bool,

    /// -p names must be mount points exactly
    #[arg(short = 'E', long = "exact-match")]
    pub exact_match: bool,

    /// Name file systems by device instead of mount point
    #[arg(short = 'M', long = "mountpoint")]
    pub show_device: bool,

    /// Leave root's reserved blocks out of the size in perfdata
    #[arg(short = 'f', long = "freespace-ignore-reserved")]
    pub ignore_reserved: bool,

    /// Add used inodes to the perfdata
    #[arg(short = 'P', long = "iperfdata")]
    pub inode_perfdata: bool,

    /// Units for -w/-c amounts: bytes, kB, MB, GB, TB, PB (default MB = MiB)
    #[arg(short = 'u', long = "units", value_name = "UNIT")]
    pub units: Option<Units>,

    /// Same as --units kB
    #[arg(short = 'k', long = "kilobytes", conflicts_with_all = ["units", "megabytes"])]
    pub kilobytes: bool,

    /// Same as --units MB
    #[arg(short = 'm', long = "megabytes", conflicts_with = "units")]
    pub megabytes: bool,

    /// A -p path or -r expression that matches nothing is not an error
    #[arg(long = "ignore-missing")]
    pub ignore_missing: bool,

    /// Group the file systems selected after this (-p, -r, -R, -A) into one result named
    /// NAME: the levels apply to their space added up. Give it before the selections;
    /// -C ends the group
    #[arg(short = 'g', long = "group", value_name = "NAME")]
    pub group: Vec<String>,

    /// Like -l, but still look at each remote file system (CRITICAL when it is not
    /// accessible, e.g. a stale NFS handle) without holding it to the levels
    #[arg(short = 'L', long = "stat-remote-fs")]
    pub stat_remote: bool,

    /// Same as -e (monitoring-plugins' older name)
    #[arg(short = 'q', long = "quiet", hide = true)]
    pub quiet: bool,

    /// The older form `check_disk WARN CRIT [PATH]`: WARN and CRIT are percentages of
    /// USED space (alert above them), then the path to check. `check_disk -w 10% -c 5%
    /// PATH` checks PATH with the levels given. A word after the path is refused (Debian's
    /// ignores it): give each further path with -p
    #[arg(value_name = "WARN_USED% CRIT_USED% PATH")]
    pub positional: Vec<String>,
}

/// The options whose order matters, as they stood on the command line: (position,
/// argument id, index among that argument's values).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArgOrder(pub Vec<(usize, &'static str, usize)>);

/// The ids of the ordered options (the field names of [`Args`]).
const ORDERED: [&str; 11] = [
    "all",
    "exact_match",
    "group",
    "warning",
    "critical",
    "iwarning",
    "icritical",
    "clear",
    "paths",
    "ereg",
    "eregi",
];

impl clap::FromArgMatches for ArgOrder {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut order = Vec::new();
        for id in ORDERED {
            // a default value (-A's false) has a position too: skip those
            if m.value_source(id) != Some(clap::parser::ValueSource::CommandLine) {
                continue;
            }
            if let Some(ix) = m.indices_of(id) {
                order.extend(ix.enumerate().map(|(n, i)| (i, id, n)));
            }
        }
        order.sort_unstable();
        Ok(ArgOrder(order))
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for ArgOrder {
    /// Adds no arguments: it only reads where the others stood.
    fn augment_args(cmd: clap::Command) -> clap::Command {
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        cmd
    }
}

/// The levels one file system is held to.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Levels {
    /// Whole percent of free space.
    pub percent: Thresholds,
    /// Free space in units.
    pub units: Thresholds,
    /// Whole percent of free inodes.
    pub inodes: Thresholds,
    /// Whole percent of used space (the positional `WARN CRIT` form; standard ranges).
    pub used_percent: Thresholds,
}

impl Levels {
    /// Sets a warning (`warning`) or critical space level.
    fn set_space(&mut self, warning: bool, level: SpaceLevel) {
        let (t, r) = match level {
            SpaceLevel::Percent(r) => (&mut self.percent, r),
            SpaceLevel::Units(r) => (&mut self.units, r),
        };
        if warning {
            t.warning = Some(r);
        } else {
            t.critical = Some(r);
        }
    }

    /// The state of one file system: the worst of the percent, units and inode levels.
    pub fn state(&self, u: &Usage) -> State {
        let mut s = self
            .percent
            .state(u.free_percent as f64)
            .worst(self.units.state(u.free_units as f64));
        if let Some(i) = u.free_inode_percent {
            s = s.worst(self.inodes.state(i as f64));
        }
        s.worst(self.used_percent.state((100 - u.free_percent) as f64))
    }

    /// True when any level is set (monitoring-plugins refuses a selection without one).
    fn any(&self) -> bool {
        *self != Levels::default()
    }

    /// The used amount (of `total`) at which a warning (0) or critical (1) level alerts,
    /// as monitoring-plugins puts it in perfdata: the lowest of the units and percent
    /// levels' upper ends.
    fn high_tide(&self, which: usize, total: u64, units_factor: u64) -> Option<u64> {
        let pick = |t: &Thresholds| if which == 0 { t.warning } else { t.critical };
        let from_units = pick(&self.units)
            .and_then(|r| r.end())
            .map(|e| total.saturating_sub((e.max(0.0) * units_factor as f64) as u64));
        let from_percent = pick(&self.percent)
            .and_then(|r| r.end())
            .map(|e| ((1.0 - e / 100.0).max(0.0) * total as f64) as u64);
        match (from_units, from_percent) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn inode_high_tide(&self, which: usize, total: u64) -> Option<u64> {
        let r = if which == 0 {
            self.inodes.warning
        } else {
            self.inodes.critical
        };
        r.and_then(|r| r.end())
            .map(|e| ((1.0 - e / 100.0).max(0.0) * total as f64) as u64)
    }
}

/// The validated check.
#[derive(Debug)]
pub struct DiskCheck {
    pub units: Units,
    /// What to check, in command-line order.
    pub selections: Vec<Selection>,
    pub ignore: Vec<PosixRegex>,
    pub all: bool,
    pub exclude_device: Vec<String>,
    pub exclude_type: Vec<String>,
    pub include_type: Vec<String>,
    pub local: bool,
    pub errors_only: bool,
    pub exact_match: bool,
    pub show_device: bool,
    pub ignore_reserved: bool,
    pub inode_perfdata: bool,
    pub ignore_missing: bool,
    /// `-L`: remote file systems left out by `-l` are still looked at.
    pub stat_remote: bool,
    /// The `-g` group of each selection (same index as `selections`).
    pub groups: Vec<Option<String>>,
    /// Where /proc is (a fixture directory in tests).
    pub proc_root: PathBuf,
}

/// A selected file system and what statvfs said about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub mount: Mount,
    pub levels: Levels,
    pub stats: Result<FsStats, String>,
    /// The `-g` group it is added up in.
    pub group: Option<String>,
}

/// A requested path or expression that could not be checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub state: State,
    pub text: String,
}

/// What was read from the machine.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DiskFacts {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

fn is_remote(m: &Mount) -> bool {
    REMOTE_TYPES.contains(&m.fs_type.as_str())
        || m.device.contains(':')
        || (m.device.starts_with("//") && m.fs_type.starts_with("smb"))
}

/// True when `path` is `mount_point` or inside it (by whole path components).
fn within(path: &str, mount_point: &str) -> bool {
    mount_point == "/"
        || path == mount_point
        || path
            .strip_prefix(mount_point)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// How a `-p` name was resolved by the fetch: the name and its canonical path.
#[derive(Debug, Clone, PartialEq)]
pub struct Requested {
    pub name: String,
    pub canonical: Result<String, String>,
}

/// One selection, in command-line order, with the levels in force where it stood.
#[derive(Debug)]
pub enum Selection {
    /// `-p NAME`.
    Path(String, Levels),
    /// `-r` or `-R`.
    Regex(PosixRegex, Levels),
    /// Every mount: `-A`, a `-C` before any other selection, or no selection at all.
    All(Levels),
}

/// A candidate: its name (the `-p` text, else the mount point), the index of its mount,
/// whether `-p` named it, its levels and its group.
type Candidate = (String, usize, bool, Levels, Option<String>);

/// Adds a candidate; a name already there takes the new mount and levels instead (as
/// monitoring-plugins overwrites the levels of a path named again).
fn add_candidate(list: &mut Vec<Candidate>, c: Candidate) {
    match list.iter_mut().find(|e| e.0 == c.0) {
        Some(e) => *e = c,
        None => list.push(c),
    }
}

/// The mount a `-p` request stands for: a device name, else the mount point holding
/// (or, with `-E`, equal to) its canonical path; or the problem to report.
fn resolve(mounts: &[Mount], r: &Requested, check: &DiskCheck) -> Result<usize, Problem> {
    if let Some(i) = mounts.iter().rposition(|m| m.device == r.name) {
        return Ok(i);
    }
    let path = r.canonical.as_ref().map_err(|e| Problem {
        state: State::Critical,
        text: format!("{} is not accessible: {e}", shown(&r.name)),
    })?;
    mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| {
            if check.exact_match {
                m.mount_point == *path
            } else {
                within(path, &m.mount_point)
            }
        })
        // longest mount point; the last mount of equals (the visible one)
        .max_by_key(|(i, m)| (m.mount_point.len(), *i))
        .map(|(i, _)| i)
        .ok_or_else(|| Problem {
            state: State::Critical,
            text: if check.exact_match {
                format!("{} is not a mount point (-E)", shown(&r.name))
            } else {
                format!("{} is on no mounted file system", shown(&r.name))
            },
        })
}

/// A file system to check: its mount, levels and `-g` group.
pub type Chosen = (Mount, Levels, Option<String>);

/// Which mounts to check with which levels, and the requests that matched none (pure).
/// `requested` holds the fetch's resolution of each `-p`, in order.
pub fn select(
    mounts: &[Mount],
    requested: &[Requested],
    check: &DiskCheck,
) -> (Vec<Chosen>, Vec<Problem>) {
    let (chosen, problems, _) = select_probing(mounts, requested, check);
    (chosen, problems)
}

/// [`select`], and the remote file systems that `-L` still looks at.
pub fn select_probing(
    mounts: &[Mount],
    requested: &[Requested],
    check: &DiskCheck,
) -> (Vec<Chosen>, Vec<Problem>, Vec<Mount>) {
    let mut problems = Vec::new();
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut requested = requested.iter();
    for (n, sel) in check.selections.iter().enumerate() {
        let group = check.groups.get(n).cloned().flatten();
        match sel {
            Selection::Path(_, levels) => {
                let Some(r) = requested.next() else { continue };
                match resolve(mounts, r, check) {
                    Ok(i) => {
                        add_candidate(&mut candidates, (r.name.clone(), i, true, *levels, group))
                    }
                    Err(_) if check.ignore_missing => {}
                    Err(p) => problems.push(p),
                }
            }
            Selection::Regex(re, levels) => {
                let mut found = false;
                for (i, m) in mounts.iter().enumerate() {
                    if re.is_match(&m.mount_point) || re.is_match(&m.device) {
                        found = true;
                        add_candidate(
                            &mut candidates,
                            (m.mount_point.clone(), i, false, *levels, group.clone()),
                        );
                    }
                }
                if !found && !check.ignore_missing {
                    problems.push(Problem {
                        state: State::Unknown,
                        text: format!(
                            "regular expression '{}' matches no mount point or device",
                            shown(&re.text)
                        ),
                    });
                }
            }
            Selection::All(levels) => {
                for (i, m) in mounts.iter().enumerate() {
                    add_candidate(
                        &mut candidates,
                        (m.mount_point.clone(), i, false, *levels, group.clone()),
                    );
                }
            }
        }
    }
    let keep = |m: &Mount, by_path: bool, grouped: bool| {
        let ty = m.fs_type.as_str();
        let ignored = check
            .ignore
            .iter()
            .any(|re| re.is_match(&m.mount_point) || re.is_match(&m.device));
        // monitoring-plugins holds a group's members to no filter but -i/-I
        if grouped {
            return !ignored;
        }
        !(check
            .ignore
            .iter()
            .any(|re| re.is_match(&m.mount_point) || re.is_match(&m.device))
            || check
                .exclude_device
                .iter()
                .any(|x| *x == m.device || *x == m.mount_point)
            || check.exclude_type.iter().any(|x| x == ty)
            || (!check.include_type.is_empty() && !check.include_type.iter().any(|x| x == ty))
            || (check.local && is_remote(m))
            || (PSEUDO_TYPES.contains(&ty)
                && !check.all
                && !by_path
                && !check.include_type.iter().any(|x| x == ty)))
    };
    // one entry per mount point: the first candidate for it (as monitoring-plugins skips
    // a mount point already seen), for the last (visible) mount there
    let mut out: Vec<Chosen> = Vec::new();
    let mut probes: Vec<Mount> = Vec::new();
    for (_, i, by_path, levels, group) in candidates {
        let m = &mounts[i];
        if out.iter().any(|o| o.0.mount_point == m.mount_point) {
            continue;
        }
        if !keep(m, by_path, group.is_some()) {
            if check.stat_remote
                && is_remote(m)
                && !probes.iter().any(|p| p.mount_point == m.mount_point)
            {
                probes.push(m.clone());
            }
            continue;
        }
        out.push((m.clone(), levels, group));
    }
    (out, problems, probes)
}

/// df's percentage: `ceil(value * 100 / total)`, 0 for a value of 0.
pub fn ceil_percent(value: u64, total: u64) -> u64 {
    if value == 0 || total == 0 {
        return 0;
    }
    let v = u128::from(value) * 100;
    let t = u128::from(total);
    (v.div_ceil(t)) as u64
}

/// The numbers of one file system that the levels look at.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    pub used_bytes: u64,
    pub free_bytes: u64,
    pub total_bytes: u64,
    pub free_percent: u64,
    pub free_units: u64,
    /// Whole percent of free inodes; `None` when the file system has no inode count.
    pub free_inode_percent: Option<u64>,
    pub inodes_used: u64,
    pub inodes_total: u64,
}

/// Computes a file system's usage from its statvfs numbers.
pub fn usage(s: &FsStats, check: &DiskCheck) -> Usage {
    let used = s.blocks.saturating_sub(s.bfree);
    let avail = s.bavail;
    let free_percent = if used.saturating_add(avail) == 0 {
        0
    } else {
        100 - ceil_percent(used, used + avail)
    };
    let total_blocks = if check.ignore_reserved {
        used.saturating_add(avail)
    } else {
        s.blocks
    };
    let bytes = |blocks: u64| blocks.saturating_mul(s.frsize);
    let inodes_used = s.files.saturating_sub(s.ffree);
    Usage {
        used_bytes: bytes(used),
        free_bytes: bytes(avail),
        total_bytes: bytes(total_blocks),
        free_percent,
        free_units: bytes(avail) / check.units.factor.max(1),
        free_inode_percent: (s.files > 0).then(|| 100 - ceil_percent(inodes_used, s.files)),
        inodes_used,
        inodes_total: s.files,
    }
}

/// An upper bound `N` (alert above N) for perfdata.
fn upper(v: Option<u64>) -> Option<Range> {
    v.and_then(|v| v.to_string().parse().ok())
}

impl Check for DiskCheck {
    type Args = Args;
    /// The selected file systems with their statvfs numbers, or why the mount list
    /// could not be read.
    type Facts = Observed<DiskFacts>;
    const LABEL: &'static str = "DISK";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let regex = |text: &String, icase: bool, opt: &str| {
            PosixRegex::new(text, icase).map_err(|e| {
                UsageError(format!(
                    "{opt} '{}': not a regular expression: {e}",
                    shown(text)
                ))
            })
        };
        // replay the ordered options: each selection takes the levels and the group in
        // force there; as in monitoring-plugins, a selection needs a level before it, and
        // -E and -g must come before the selections they apply to (-C starts over)
        let mut cur = Levels::default();
        let mut selections = Vec::new();
        let mut groups: Vec<Option<String>> = Vec::new();
        let mut group: Option<String> = None;
        let mut path_selected = false;
        let needs_level = |cur: &Levels, opt: &str| {
            if cur.any() {
                Ok(())
            } else {
                Err(UsageError(format!(
                    "Must set a threshold value before using {opt}"
                )))
            }
        };
        for &(_, id, n) in &args.order.0 {
            let before = selections.len();
            let group_here = group.clone();
            match id {
                // -C before any selection selects every mount with the levels so far
                "clear" => {
                    if !path_selected {
                        selections.push(Selection::All(cur));
                    }
                    cur = Levels::default();
                    path_selected = false;
                    group = None;
                }
                "exact_match" if path_selected => {
                    return Err(UsageError::new("Must set -E before selecting paths"))
                }
                "group" if path_selected => {
                    return Err(UsageError::new(
                        "Must set group value before selecting paths",
                    ))
                }
                "group" => {
                    let g = &args.group[n];
                    if g.is_empty() {
                        return Err(UsageError::new("-g: empty group name"));
                    }
                    group = Some(g.clone());
                }
                "all" => {
                    needs_level(&cur, "-r/-R")?;
                    selections.push(Selection::All(cur))
                }
                "warning" => cur.set_space(true, args.warning[n]),
                "critical" => cur.set_space(false, args.critical[n]),
                "iwarning" => cur.inodes.warning = Some(args.iwarning[n].0),
                "icritical" => cur.inodes.critical = Some(args.icritical[n].0),
                "paths" => {
                    needs_level(&cur, "-p")?;
                    selections.push(Selection::Path(args.paths[n].clone(), cur))
                }
                "ereg" => {
                    needs_level(&cur, "-r/-R")?;
                    selections.push(Selection::Regex(regex(&args.ereg[n], false, "-r")?, cur))
                }
                "eregi" => {
                    needs_level(&cur, "-r/-R")?;
                    selections.push(Selection::Regex(regex(&args.eregi[n], true, "-R")?, cur))
                }
                _ => {}
            }
            if selections.len() > before {
                groups.resize(before, None);
                groups.push(group_here);
                path_selected = id != "clear";
            }
        }
        // the older form: `WARN CRIT` (percent of used space) and a path, after the options
        let mut words = args.positional.iter().peekable();
        let is_count = |w: &&String| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
        for warning in [true, false] {
            if let Some(w) = words.next_if(is_count) {
                let r: Range = w.parse().map_err(|e| UsageError(format!("'{w}': {e}")))?;
                if warning {
                    cur.used_percent.warning = Some(r);
                } else {
                    cur.used_percent.critical = Some(r);
                }
            }
        }
        let positional_path = words.next().cloned();
        if let Some(extra) = words.next() {
            return Err(UsageError(format!(
                "unexpected argument '{}' (the older form is WARN CRIT PATH)",
                shown(extra)
            )));
        }
        let mut paths = args.paths.clone();
        if let Some(p) = positional_path {
            paths.push(p.clone());
            selections.push(Selection::Path(p, cur));
            groups.resize(selections.len() - 1, None);
            groups.push(group.clone());
        }
        let named =
            args.all || !(paths.is_empty() && args.ereg.is_empty() && args.eregi.is_empty());
        if selections.is_empty() {
            selections.push(Selection::All(cur));
            groups.push(group.clone());
        }
        groups.resize(selections.len(), None);
        let mut ignore = Vec::new();
        for t in &args.ignore_ereg {
            ignore.push(regex(t, false, "-i")?);
        }
        for t in &args.ignore_eregi {
            ignore.push(regex(t, true, "-I")?);
        }
        if !ignore.is_empty() && !named {
            return Err(UsageError::new(
                "-i/-I leave out paths from a selection: select with -p, -r, -R or -A first",
            ));
        }
        if let Some(p) = paths.iter().find(|p| p.is_empty()) {
            return Err(UsageError(format!("-p '{p}': empty path")));
        }
        let units = if args.kilobytes {
            "kB".parse()
        } else {
            Ok(args.units.unwrap_or(Units {
                factor: 1 << 20,
                name: "MiB",
            }))
        }
        .map_err(UsageError)?;
        Ok(DiskCheck {
            units,
            selections,
            ignore,
            all: args.all,
            exclude_device: args.exclude_device,
            exclude_type: args.exclude_type,
            include_type: args.include_type,
            local: args.local || args.stat_remote,
            errors_only: args.errors_only || args.quiet,
            exact_match: args.exact_match,
            show_device: args.show_device,
            ignore_reserved: args.ignore_reserved,
            inode_perfdata: args.inode_perfdata,
            ignore_missing: args.ignore_missing,
            stat_remote: args.stat_remote,
            groups,
            proc_root: PathBuf::from("/proc"),
        })
    }

    /// Reads the mount list, resolves `-p` names, and calls statvfs on each selected
    /// file system.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let mounts = read_mounts(&self.proc_root)?;
            let requested: Vec<Requested> = self
                .selections
                .iter()
                .filter_map(|s| match s {
                    Selection::Path(p, _) => Some(p),
                    _ => None,
                })
                .map(|p| Requested {
                    name: p.clone(),
                    canonical: std::fs::canonicalize(p)
                        .map(|c| c.to_string_lossy().into_owned())
                        .map_err(|e| {
                            let e = e.to_string();
                            e.split(" (os error").next().unwrap_or(&e).to_string()
                        }),
                })
                .collect();
            let (chosen, mut problems, probes) = select_probing(&mounts, &requested, self);
            let entries = chosen
                .into_iter()
                .map(|(m, levels, group)| Entry {
                    stats: fs_stats(&m.mount_point),
                    mount: m,
                    levels,
                    group,
                })
                .collect();
            // -L: a remote file system left out of the levels must still answer
            for m in probes {
                if let Err(e) = std::fs::metadata(&m.mount_point) {
                    let e = e.to_string();
                    problems.push(Problem {
                        state: State::Critical,
                        text: format!(
                            "{} is not accessible: {}",
                            shown(&m.mount_point),
                            e.split(" (os error").next().unwrap_or(&e)
                        ),
                    });
                }
            }
            Ok(DiskFacts { entries, problems })
        })
    }

    /// UNKNOWN when the mount list could not be read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |f| evaluate(f, self))
    }
}

/// "/var 12% free (1.2 GiB), inodes 97% free".
fn short_text(name: &str, u: &Usage) -> String {
    let inodes = u
        .free_inode_percent
        .map_or(String::new(), |i| format!(", inodes {i}% free"));
    format!(
        "{name} {}% free ({}){inodes}",
        u.free_percent,
        human_bytes(u.free_bytes)
    )
}

/// Two file systems' usage added up, as monitoring-plugins adds up a group: space,
/// free units and inodes summed, the percentages recomputed from the sums.
pub fn add_usage(a: &Usage, b: &Usage) -> Usage {
    let used = a.used_bytes.saturating_add(b.used_bytes);
    let free = a.free_bytes.saturating_add(b.free_bytes);
    let inodes_used = a.inodes_used.saturating_add(b.inodes_used);
    let inodes_total = a.inodes_total.saturating_add(b.inodes_total);
    Usage {
        used_bytes: used,
        free_bytes: free,
        total_bytes: a.total_bytes.saturating_add(b.total_bytes),
        free_percent: 100 - ceil_percent(used, used.saturating_add(free)),
        free_units: a.free_units.saturating_add(b.free_units),
        free_inode_percent: (inodes_total > 0)
            .then(|| 100 - ceil_percent(inodes_used, inodes_total)),
        inodes_used,
        inodes_total,
    }
}

/// Turns the facts into the result (pure).
fn evaluate(facts: &DiskFacts, check: &DiskCheck) -> CheckResult {
    let mut result = CheckResult::new(State::Ok, "");
    // (state, free percent, short text) for the summary
    let mut seen: Vec<(State, u64, String)> = Vec::new();
    for p in &facts.problems {
        result.push_sub(p.state, &p.text);
        seen.push((p.state, 0, p.text.clone()));
    }
    // (name, levels, usage) of each file system; a -g group's members added up in one
    // item, named after the group, where its first member stands
    let mut items: Vec<(String, Levels, Usage)> = Vec::new();
    let mut group_at: Vec<(&str, usize)> = Vec::new();
    for e in &facts.entries {
        // mount points and devices are echoed escaped (a user's FUSE mount may be
        // named anything)
        let name = shown(if check.show_device {
            &e.mount.device
        } else {
            &e.mount.mount_point
        });
        let s = match &e.stats {
            Err(err) => {
                let text = format!("{name} is not accessible: {err}");
                result.push_sub(State::Critical, &text);
                seen.push((State::Critical, 0, text));
                continue;
            }
            Ok(s) if s.blocks == 0 => continue,
            Ok(s) => s,
        };
        let u = usage(s, check);
        match e.group.as_deref() {
            None => items.push((name, e.levels, u)),
            Some(g) => match group_at.iter().find(|x| x.0 == g) {
                Some(&(_, i)) => items[i].2 = add_usage(&items[i].2, &u),
                None => {
                    group_at.push((g, items.len()));
                    items.push((shown(g), e.levels, u));
                }
            },
        }
    }
    for (name, levels, u) in &items {
        let (name, u) = (name.as_str(), *u);
        let state = levels.state(&u);
        let short = short_text(name, &u);
        if !(check.errors_only && state == State::Ok) {
            result.push_sub(
                state,
                format!(
                    "{short}: {} of {} used, {} {} free",
                    human_bytes(u.used_bytes),
                    human_bytes(u.total_bytes),
                    u.free_units,
                    check.units.name
                ),
            );
        }
        seen.push((state, u.free_percent, short));
        result.push_perf(
            PerfData::new(name, u.used_bytes)
                .uom(Uom::Bytes)
                .thresholds(&Thresholds::new(
                    upper(levels.high_tide(0, u.total_bytes, check.units.factor)),
                    upper(levels.high_tide(1, u.total_bytes, check.units.factor)),
                ))
                .min(0)
                .max(u.total_bytes),
        );
        if check.inode_perfdata {
            result.push_perf(
                PerfData::new(format!("{name} (inodes)"), u.inodes_used)
                    .thresholds(&Thresholds::new(
                        upper(levels.inode_high_tide(0, u.inodes_total)),
                        upper(levels.inode_high_tide(1, u.inodes_total)),
                    ))
                    .min(0)
                    .max(u.inodes_total),
            );
        }
    }
    // worst first, then least free
    seen.sort_by(|a, b| b.0.severity().cmp(&a.0.severity()).then(a.1.cmp(&b.1)));
    let bad: Vec<&str> = seen
        .iter()
        .filter(|s| s.0 != State::Ok)
        .map(|s| s.2.as_str())
        .collect();
    let ok = seen.len() - bad.len();
    result.summary = if seen.is_empty() {
        result.raise(if check.ignore_missing {
            State::Ok
        } else {
            State::Unknown
        });
        "no file system to check (none selected, all left out, or none with blocks)".into()
    } else if bad.is_empty() && ok == 1 {
        seen[0].2.clone()
    } else if bad.is_empty() {
        format!("{ok} file systems OK; least free: {}", seen[0].2)
    } else if ok > 0 {
        format!("{}; {ok} more OK", bad.join(", "))
    } else {
        bad.join(", ")
    };
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::mounts::parse_mountinfo;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;
    use std::path::Path;

    const MOUNTINFO: &str = "\
22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334460k,mode=755
25 24 0:23 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=24684084k
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
30 24 0:27 / /dev/shm rw,relatime - tmpfs shm2 rw,size=1024k
31 23 0:28 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw
40 27 254:16 / /srv/member\\040data rw,relatime shared:7 master:2 - xfs /dev/vdb rw
41 27 0:40 / /afs rw,relatime - afs AFS rw
42 27 0:41 / /mnt/backup rw,relatime - nfs4 backup.example.org:/vol rw
";

    fn mounts() -> Vec<Mount> {
        parse_mountinfo(MOUNTINFO, Path::new("/proc/self/mountinfo")).unwrap()
    }

    fn check(argv: &[&str]) -> Result<DiskCheck, UsageError> {
        validate::<DiskCheck>(argv)
    }

    /// The levels of the last selection (those of file systems not named).
    fn levels_of(c: &DiskCheck) -> Levels {
        match c.selections.last() {
            Some(Selection::All(l) | Selection::Path(_, l) | Selection::Regex(_, l)) => *l,
            None => Levels::default(),
        }
    }

    /// The mount points selected by `argv` plus a `-p` for each request.
    fn names(argv: &[&str], requested: &[(&str, Result<&str, &str>)]) -> Vec<String> {
        // a level first: monitoring-plugins refuses a selection without one
        let mut all: Vec<&str> = vec!["-w", "0%"];
        all.extend(argv);
        for (n, _) in requested {
            all.extend(["-p", n]);
        }
        let c = check(&all).unwrap();
        let req: Vec<Requested> = requested
            .iter()
            .map(|(n, r)| Requested {
                name: n.to_string(),
                canonical: r.map(str::to_string).map_err(str::to_string),
            })
            .collect();
        let (m, p) = select(&mounts(), &req, &c);
        assert!(p.is_empty(), "{p:?}");
        m.into_iter().map(|m| m.0.mount_point).collect()
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn parses_mountinfo() {
        let m = mounts();
        assert_eq!(m.len(), 10);
        assert_eq!(
            m[7],
            Mount {
                device: "/dev/vdb".into(),
                mount_point: "/srv/member data".into(),
                fs_type: "xfs".into()
            }
        );
        assert!(parse_mountinfo("1 2 3\n", Path::new("/m"))
            .unwrap_err()
            .contains("cannot read /m"));
    }

    #[test]
    fn default_selection_leaves_out_pseudo_and_repeats() {
        assert_eq!(
            names(&["-w", "10%"], &[]),
            [
                "/dev",
                "/dev/shm",
                "/",
                "/srv/member data",
                "/afs",
                "/mnt/backup"
            ]
        );
        let c = check(&[]).unwrap();
        let (m, _) = select(&mounts(), &[], &c);
        assert_eq!(m[1].0.device, "shm2", "the visible mount of /dev/shm");
        assert_eq!(
            names(&["-l"], &[]),
            ["/dev", "/dev/shm", "/", "/srv/member data"]
        );
        assert_eq!(
            names(&["-A"], &[]),
            [
                "/proc",
                "/sys",
                "/dev",
                "/dev/shm",
                "/",
                "/sys/fs/cgroup",
                "/srv/member data",
                "/afs",
                "/mnt/backup"
            ]
        );
        assert_eq!(
            names(&["-X", "tmpfs", "-X", "devtmpfs", "-l"], &[]),
            ["/", "/srv/member data"]
        );
        assert_eq!(
            names(&["-N", "xfs", "-N", "cgroup2"], &[]),
            ["/sys/fs/cgroup", "/srv/member data"]
        );
        assert_eq!(
            names(&["-x", "/dev/vdb", "-x", "/afs", "-l", "-x", "/dev"], &[]),
            ["/dev/shm", "/"]
        );
    }

    #[test]
    fn regular_expressions() {
        // the device counts too: /dev/vda and /dev/vdb match
        assert_eq!(
            names(&["-r", "^/dev"], &[]),
            ["/dev", "/dev/shm", "/", "/srv/member data"]
        );
        assert_eq!(names(&["-r", "^/dev(/shm)?$"], &[]), ["/dev", "/dev/shm"]);
        assert_eq!(names(&["-R", "^/DEV/vd"], &[]), ["/", "/srv/member data"]);
        assert_eq!(
            names(&["-A", "-i", "^/(proc|sys)", "-I", "AFS|backup"], &[]),
            ["/dev", "/dev/shm", "/", "/srv/member data"]
        );
        let c = check(&["-w", "0%", "-r", "^/DEV/vd"]).unwrap();
        assert_eq!(
            select(&mounts(), &[], &c).1[0].state,
            State::Unknown,
            "-r keeps case"
        );
        let c = check(&["-w", "0%", "-r", "^/nowhere"]).unwrap();
        let (_, p) = select(&mounts(), &[], &c);
        assert_eq!(
            p,
            vec![Problem {
                state: State::Unknown,
                text: "regular expression '^/nowhere' matches no mount point or device".into()
            }]
        );
        let c = check(&["-w", "0%", "-r", "^/nowhere", "--ignore-missing"]).unwrap();
        assert!(select(&mounts(), &[], &c).1.is_empty());
    }

    #[test]
    fn paths_resolve_to_their_file_system() {
        let req = [
            ("/srv/member data/alice", Ok("/srv/member data/alice")),
            ("/devious", Ok("/devious")),
            ("/dev/vdb", Err("No such file or directory")),
            ("/proc", Ok("/proc")),
        ];
        assert_eq!(names(&[], &req), ["/srv/member data", "/", "/proc"]);
        let c = check(&["-w", "0%", "-E", "-p", "/srv/member data/alice"]).unwrap();
        let req = [Requested {
            name: "/srv/member data/alice".into(),
            canonical: Ok("/srv/member data/alice".into()),
        }];
        assert_eq!(
            select(&mounts(), &req, &c).1,
            vec![Problem {
                state: State::Critical,
                text: "/srv/member data/alice is not a mount point (-E)".into()
            }]
        );
        let req = [Requested {
            name: "/gone".into(),
            canonical: Err("No such file or directory".into()),
        }];
        let c = check(&["-w", "0%", "-p", "/gone"]).unwrap();
        assert_eq!(
            select(&mounts(), &req, &c).1[0].text,
            "/gone is not accessible: No such file or directory"
        );
        let c = check(&["-w", "0%", "--ignore-missing", "-p", "/gone"]).unwrap();
        assert!(select(&mounts(), &req, &c).1.is_empty());
    }

    fn stats(blocks: u64, bfree: u64, bavail: u64) -> FsStats {
        FsStats {
            frsize: 4096,
            blocks,
            bfree,
            bavail,
            files: 1000,
            ffree: 900,
        }
    }

    fn facts(s: FsStats, c: &DiskCheck) -> DiskFacts {
        DiskFacts {
            entries: vec![Entry {
                mount: mounts()[4].clone(),
                levels: levels_of(c),
                stats: Ok(s),
                group: None,
            }],
            problems: Vec::new(),
        }
    }

    #[test]
    fn df_percentages() {
        assert_eq!(ceil_percent(0, 10), 0);
        assert_eq!(ceil_percent(1, 1000), 1);
        assert_eq!(ceil_percent(300, 1000), 30);
        assert_eq!(ceil_percent(3001, 10000), 31);
        let c = check(&[]).unwrap();
        // the numbers of a 10 MiB tmpfs with 3000 KiB written
        let u = usage(&stats(2560, 1810, 1810), &c);
        assert_eq!(u.free_percent, 70);
        assert_eq!(u.free_units, 7);
        assert_eq!(u.used_bytes, 3_072_000);
        assert_eq!(u.free_inode_percent, Some(90));
        // root's reserve: percent over used + available; size with or without it
        let s = FsStats {
            frsize: 4096,
            blocks: 66053021,
            bfree: 62951880,
            bavail: 20720331,
            files: 0,
            ffree: 0,
        };
        let u = usage(&s, &c);
        assert_eq!(u.free_percent, 86);
        assert_eq!(u.free_inode_percent, None);
        assert_eq!(u.total_bytes, 66053021 * 4096);
        let f = check(&["-f"]).unwrap();
        assert_eq!(usage(&s, &f).total_bytes, (3101141 + 20720331) * 4096);
    }

    /// Levels alert at or below the value, as monitoring-plugins' `@N` ranges do.
    #[test]
    fn state_table() {
        let s = stats(2560, 1810, 1810); // 70% free, 7 MiB, 7240 KiB, inodes 90%
        let rows: &[(&[&str], State)] = &[
            (&["-w", "69%"], State::Ok),
            (&["-w", "70%"], State::Warning),
            (&["-w", "80%", "-c", "70%"], State::Critical),
            (&["-w", "8"], State::Warning),
            (&["-w", "6"], State::Ok),
            (&["-w", "7"], State::Warning),
            (&["-w", "7239", "-k"], State::Ok),
            (&["-w", "7240", "-u", "KiB"], State::Warning),
            (&["-w", "7413760", "-u", "bytes"], State::Warning),
            (&["-c", "7413759", "-u", "bytes"], State::Ok),
            (&["-w", "10%", "-w", "8"], State::Warning),
            (&["-W", "89"], State::Ok),
            (&["-W", "90%"], State::Warning),
            (&["-K", "95%", "-w", "10%"], State::Critical),
            (&["-w", "@50:60%"], State::Ok),
            (&["-w", "@65:75%"], State::Warning),
        ];
        for (argv, want) in rows {
            let c = check(argv).unwrap();
            assert_eq!(c.evaluate(&Ok(facts(s, &c))).state(), *want, "{argv:?}");
        }
    }

    #[test]
    fn output_and_perfdata() {
        let c = check(&["-w", "10%", "-c", "5%", "-w", "500"]).unwrap();
        let s = stats(2560, 1810, 1810);
        assert_eq!(
            render_text("DISK", &c.evaluate(&Ok(facts(s, &c)))),
            "DISK WARNING - / 70% free (7.1 MiB), inodes 90% free | /=3072000B;0;9961472;0;10485760\n[WARNING] / 70% free (7.1 MiB), inodes 90% free: 2.9 MiB of 10.0 MiB used, 7 MiB free\n"
        );
        let c = check(&["-w", "70%", "-c", "50%", "-W", "20", "-P", "-M"]).unwrap();
        assert_eq!(
            render_text("DISK", &c.evaluate(&Ok(facts(s, &c)))),
            "DISK WARNING - /dev/vda 70% free (7.1 MiB), inodes 90% free | /dev/vda=3072000B;3145728;5242880;0;10485760 '/dev/vda (inodes)'=100;800;;0;1000\n[WARNING] /dev/vda 70% free (7.1 MiB), inodes 90% free: 2.9 MiB of 10.0 MiB used, 7 MiB free\n"
        );
    }

    #[test]
    fn summary_names_the_worst() {
        let c = check(&["-w", "20%", "-c", "10%", "-e"]).unwrap();
        let m = mounts();
        let entry = |i: usize, s: Result<FsStats, String>| Entry {
            mount: m[i].clone(),
            levels: levels_of(&c),
            stats: s,
            group: None,
        };
        let f = DiskFacts {
            entries: vec![
                entry(2, Ok(stats(1000, 150, 150))), // 15% free
                entry(3, Ok(stats(1000, 500, 500))), // 50%
                entry(4, Ok(stats(1000, 50, 50))),   // 5%
                entry(0, Ok(stats(0, 0, 0))),        // no blocks: skipped
                entry(8, Err("Stale file handle".into())),
                entry(7, Ok(stats(1000, 180, 180))), // 18%
            ],
            problems: vec![],
        };
        let r = c.evaluate(&Ok(f.clone()));
        assert_eq!(r.state(), State::Critical);
        assert_eq!(
            r.summary,
            "/afs is not accessible: Stale file handle, / 5% free (200 KiB), inodes 90% free, /dev 15% free (600 KiB), inodes 90% free, /srv/member data 18% free (720 KiB), inodes 90% free; 1 more OK"
        );
        assert_eq!(r.details.len(), 4, "errors only: no line for the OK one");
        assert_eq!(r.perfdata.len(), 4);
        let all_ok = check(&["-w", "1%"]).unwrap();
        let r = all_ok.evaluate(&Ok(f.clone()));
        assert_eq!(r.state(), State::Critical, "the stale mount");
        let empty = all_ok.evaluate(&Ok(DiskFacts::default()));
        assert_eq!(empty.state(), State::Unknown);
        let unread = all_ok.evaluate(&Err("cannot read /proc/self/mountinfo: gone".into()));
        assert_eq!(
            render_text("DISK", &unread),
            "DISK UNKNOWN - cannot read /proc/self/mountinfo: gone\n"
        );
        let f2 = DiskFacts {
            entries: f.entries[..2]
                .iter()
                .map(|e| Entry {
                    levels: levels_of(&all_ok),
                    ..e.clone()
                })
                .collect(),
            problems: vec![],
        };
        assert_eq!(
            all_ok.evaluate(&Ok(f2)).summary,
            "2 file systems OK; least free: /dev 15% free (600 KiB), inodes 90% free"
        );
    }

    /// Levels apply to the -p, -r and -R after them; -C clears them; the last ones
    /// apply to file systems not named.
    #[test]
    fn levels_follow_the_command_line_order() {
        let c = check(&[
            "-w", "100", "-c", "50", "-C", "-w", "1000", "-c", "500", "-p", "/foo", "-C", "-w",
            "5%", "-c", "3%", "-p", "/bar", "-r", "^/srv", "-W", "20",
        ])
        .unwrap();
        let units = |w: &str, c: &str| Levels {
            units: Thresholds::new(free_range(w).ok(), free_range(c).ok()),
            ..Levels::default()
        };
        let pct = Levels {
            percent: Thresholds::new(free_range("5").ok(), free_range("3").ok()),
            ..Levels::default()
        };
        let shown: Vec<String> = c
            .selections
            .iter()
            .map(|s| match s {
                Selection::All(l) => format!("all {l:?}"),
                Selection::Path(p, l) => format!("{p} {l:?}"),
                Selection::Regex(r, l) => format!("{} {l:?}", r.text),
            })
            .collect();
        assert_eq!(
            shown,
            [
                format!("all {:?}", units("100", "50")),
                format!("/foo {:?}", units("1000", "500")),
                format!("/bar {pct:?}"),
                format!("^/srv {pct:?}"),
            ]
        );
        // -W after the last selection applies to none
        assert_eq!(levels_of(&c), pct);
        // without -C, levels add up
        let c = check(&["-w", "10%", "-p", "/a", "-w", "100", "-p", "/b"]).unwrap();
        let Selection::Path(_, b) = &c.selections[1] else {
            panic!("{:?}", c.selections)
        };
        assert_eq!(b.percent.warning, free_range("10").ok());
        assert_eq!(b.units.warning, free_range("100").ok());
        // -C before any selection selects every mount with the levels so far; a mount
        // point named again by -p gets the new levels, a path inside it does not
        let req = |n: &str| Requested {
            name: n.into(),
            canonical: Ok(n.into()),
        };
        let c = check(&[
            "-w",
            "50%",
            "-C",
            "-w",
            "10%",
            "-p",
            "/dev",
            "-p",
            "/srv/member data/x",
        ])
        .unwrap();
        let (m, _) = select(&mounts(), &[req("/dev"), req("/srv/member data/x")], &c);
        let w = |i: usize| m[i].1.percent.warning.unwrap().to_string();
        assert_eq!(m[0].0.mount_point, "/dev");
        assert_eq!(w(0), "@0:10");
        assert_eq!(m[3].0.mount_point, "/srv/member data");
        assert_eq!(w(3), "@0:50");
    }

    #[test]
    fn units() {
        assert_eq!("kB".parse::<Units>().unwrap().factor, 1024);
        assert_eq!("MB".parse::<Units>().unwrap().name, "MiB");
        assert_eq!("GiB".parse::<Units>().unwrap().factor, 1 << 30);
        assert_eq!("Bytes".parse::<Units>().unwrap().factor, 1);
        assert!("xx".parse::<Units>().is_err());
        assert!("k".parse::<Units>().is_err());
        assert_eq!(check(&["-m"]).unwrap().units.factor, 1 << 20);
        assert_eq!(check(&[]).unwrap().units.name, "MiB");
    }

    /// The forms README.md's upgrading note names: a selection before any level is a
    /// usage error, the levels first are accepted.
    #[test]
    fn levels_come_before_selections() {
        let err = |argv: &[&str]| check(argv).unwrap_err().0;
        let need_p = "Must set a threshold value before using -p";
        let need_r = "Must set a threshold value before using -r/-R";
        assert_eq!(err(&["-p", "/"]), need_p);
        assert_eq!(err(&["-p", "/", "-w", "10%", "-c", "5%"]), need_p);
        assert_eq!(err(&["-r", "^/$"]), need_r);
        assert_eq!(err(&["-R", "^/$"]), need_r);
        assert_eq!(err(&["-A"]), need_r);
        assert!(check(&["-w", "10%", "-c", "5%", "-p", "/"]).is_ok());
        assert!(check(&["-W", "10%", "-p", "/"]).is_ok());
        assert!(check(&["-K", "5%", "-A"]).is_ok());
    }

    #[test]
    fn bad_options_are_usage_errors() {
        let err = |argv: &[&str]| check(argv).unwrap_err().0;
        assert!(err(&["-w", "x%"]).contains("invalid range '@x'"));
        assert!(err(&["-c", "20:10"]).contains("start is greater than end"));
        assert!(err(&["-u", "parsecs"]).contains("unknown unit 'parsecs'"));
        assert!(err(&["-w", "1", "-r", "("]).starts_with("-r '(': not a regular expression"));
        assert_eq!(
            err(&["-r", "/"]),
            "Must set a threshold value before using -r/-R"
        );
        assert_eq!(
            err(&["-p", "/", "-w", "1"]),
            "Must set a threshold value before using -p"
        );
        assert_eq!(
            err(&["-w", "1", "-p", "/", "-E"]),
            "Must set -E before selecting paths"
        );
        assert_eq!(
            err(&["-w", "1", "-p", "/", "-g", "g"]),
            "Must set group value before selecting paths"
        );
        assert!(
            check(&["-w", "1", "-p", "/", "-C", "-E", "-g", "g", "-w", "2", "-p", "/"]).is_ok()
        );
        assert!(err(&["-W", "ten"]).contains("'@ten'"));
        assert_eq!(
            err(&["-i", "^/boot"]),
            "-i/-I leave out paths from a selection: select with -p, -r, -R or -A first"
        );
        assert!(err(&["-k", "-u", "GB"]).contains("cannot be used with"));
        let e = err(&["-w", "1", "-r", "(\n"]);
        assert!(e.starts_with("-r '(\\n': not a regular expression"), "{e}");
    }

    /// Mount points and -p names are echoed escaped: one line whatever their name.
    #[test]
    fn names_are_echoed_escaped() {
        let c = check(&["-w", "10%"]).unwrap();
        let mut m = mounts()[4].clone();
        m.mount_point = "/home/u/x\nDISK OK".into();
        let f = DiskFacts {
            entries: vec![Entry {
                mount: m,
                levels: levels_of(&c),
                stats: Ok(stats(2560, 1810, 1810)),
                group: None,
            }],
            problems: Vec::new(),
        };
        let text = render_text("DISK", &c.evaluate(&Ok(f)));
        assert!(
            text.starts_with("DISK OK - /home/u/x\\nDISK OK 70% free"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 2, "{text}");
        let req = [Requested {
            name: "/gone\n".into(),
            canonical: Err("No such file or directory".into()),
        }];
        let c = check(&["-w", "0%", "-p", "/gone\n"]).unwrap();
        assert_eq!(
            select(&mounts(), &req, &c).1[0].text,
            "/gone\\n is not accessible: No such file or directory"
        );
    }

    /// A percentage over 100 or below 0 is refused, in every percent level.
    #[test]
    fn percentages_outside_0_to_100_are_usage_errors() {
        let err = |argv: &[&str]| check(argv).unwrap_err().0;
        for argv in [
            &["-w", "200%"][..],
            &["-c", "101%"],
            &["-w", "@-5:10%"],
            &["-c", "@50:150%"],
            &["-W", "200"],
            &["-K", "101%"],
            &["-W", "~:120%"],
        ] {
            let e = err(argv);
            assert!(
                e.contains("a percentage must be from 0 to 100"),
                "{argv:?}: {e}"
            );
            assert!(!e.contains('\n'), "{argv:?}: {e}");
        }
        // the ends themselves are fine, and units are no percentage
        assert!(check(&["-w", "100%", "-c", "0%", "-W", "@0:100", "-w", "200"]).is_ok());
    }

    /// -g adds up its members into one result named after the group; the members are
    /// held to no filter but -i/-I; -C ends the group.
    #[test]
    fn groups_add_up_their_members() {
        let c = check(&[
            "-w", "50%", "-g", "data", "-r", "^/srv", "-p", "/", "-C", "-w", "1%", "-p", "/dev",
        ])
        .unwrap();
        assert_eq!(
            c.groups,
            [Some("data".to_string()), Some("data".to_string()), None]
        );
        let req = |n: &str| Requested {
            name: n.into(),
            canonical: Ok(n.into()),
        };
        let (m, _) = select(&mounts(), &[req("/"), req("/dev")], &c);
        let groups: Vec<Option<&str>> = m.iter().map(|x| x.2.as_deref()).collect();
        assert_eq!(groups, [Some("data"), Some("data"), None]);
        // 1000 blocks each: 15% and 50% free: 650 of 2000 free together, 32%
        let entry = |mount: Mount, s: FsStats, g: Option<&str>| Entry {
            mount,
            levels: levels_of(&check(&["-w", "50%"]).unwrap()),
            stats: Ok(s),
            group: g.map(str::to_string),
        };
        let f = DiskFacts {
            entries: vec![
                entry(m[0].0.clone(), stats(1000, 150, 150), Some("data")),
                entry(m[1].0.clone(), stats(1000, 500, 500), Some("data")),
            ],
            problems: vec![],
        };
        let r = c.evaluate(&Ok(f));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.perfdata.len(), 1);
        assert_eq!(
            render_text("DISK", &r).lines().next().unwrap(),
            "DISK WARNING - data 32% free (2.5 MiB), inodes 90% free | data=5529600B;4096000;;0;8192000"
        );
    }

    /// The older form: WARN and CRIT in percent of used space (standard ranges), then
    /// a path with the levels in force.
    #[test]
    fn the_older_positional_form() {
        let c = check(&["100", "90", "/srv"]).unwrap();
        let Some(Selection::Path(p, l)) = c.selections.first() else {
            panic!("{:?}", c.selections)
        };
        assert_eq!(p, "/srv");
        assert_eq!(l.used_percent.warning, "100".parse().ok());
        assert_eq!(l.used_percent.critical, "90".parse().ok());
        let s = stats(1000, 150, 150); // 85% used
        let state = |argv: &[&str]| {
            let c = check(argv).unwrap();
            c.evaluate(&Ok(facts(s, &c))).state()
        };
        assert_eq!(state(&["90", "95"]), State::Ok);
        assert_eq!(state(&["80", "95"]), State::Warning);
        assert_eq!(state(&["0", "0"]), State::Critical);
        // a bare path after levels given as options
        let c = check(&["-w", "10%", "/srv"]).unwrap();
        assert!(matches!(&c.selections[0], Selection::Path(p, _) if p == "/srv"));
        assert!(check(&["1", "2", "/a", "/b"])
            .unwrap_err()
            .0
            .starts_with("unexpected argument '/b'"));
    }
}
