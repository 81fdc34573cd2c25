//! Memory facts: /proc/meminfo, /proc/swaps, a cgroup v2's memory files and the memory
//! pressure (PSI) files.

use super::mounts::unescape;
use std::path::{Path, PathBuf};

/// The /proc/meminfo fields the memory checks use, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Meminfo {
    pub mem_total: u64,
    pub mem_available: u64,
    pub swap_total: u64,
    pub swap_free: u64,
    /// Swapped-out pages also in RAM (0 when the line is absent).
    pub swap_cached: u64,
}

/// Parses /proc/meminfo text (`Key:   123 kB` lines) into bytes. `source` names the file
/// in errors.
pub fn parse_meminfo(text: &str, source: &Path) -> Result<Meminfo, String> {
    let mut found: [Option<u64>; 5] = [None; 5];
    const KEYS: [&str; 5] = [
        "MemTotal",
        "MemAvailable",
        "SwapTotal",
        "SwapFree",
        "SwapCached",
    ];
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let Some(i) = KEYS.iter().position(|k| *k == key.trim()) else {
            continue;
        };
        let mut words = rest.split_whitespace();
        let value = words.next().and_then(|v| v.parse::<u64>().ok());
        let factor = match words.next() {
            None => 1,
            Some("kB") => 1024,
            Some(_) => 0,
        };
        match value {
            Some(v) if factor > 0 => found[i] = Some(v.saturating_mul(factor)),
            _ => {
                return Err(format!(
                    "cannot read {key} in {}: '{}'",
                    source.display(),
                    line.trim()
                ))
            }
        }
    }
    let need =
        |i: usize| found[i].ok_or_else(|| format!("no {} line in {}", KEYS[i], source.display()));
    Ok(Meminfo {
        mem_total: need(0)?,
        mem_available: need(1)?,
        swap_total: need(2)?,
        swap_free: need(3)?,
        swap_cached: found[4].unwrap_or(0),
    })
}

/// Reads a file to a string; the error names the file.
pub fn read_file(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads and parses `<proc_root>/meminfo`.
pub fn read_meminfo(proc_root: &Path) -> Result<Meminfo, String> {
    let path = proc_root.join("meminfo");
    parse_meminfo(&read_file(&path)?, &path)
}

/// One line of /proc/swaps, in bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SwapDevice {
    pub name: String,
    pub size: u64,
    pub used: u64,
}

/// Parses /proc/swaps text (sizes in KiB) into devices.
pub fn parse_swaps(text: &str, source: &Path) -> Result<Vec<SwapDevice>, String> {
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let num = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok());
            match (f.first(), num(2), num(3)) {
                (Some(name), Some(size), Some(used)) => Ok(SwapDevice {
                    name: unescape(name),
                    size: size.saturating_mul(1024),
                    used: used.saturating_mul(1024),
                }),
                _ => Err(format!(
                    "cannot read {}: '{}'",
                    source.display(),
                    line.trim()
                )),
            }
        })
        .collect()
}

/// Reads and parses `<proc_root>/swaps`.
pub fn read_swaps(proc_root: &Path) -> Result<Vec<SwapDevice>, String> {
    let path = proc_root.join("swaps");
    parse_swaps(&read_file(&path)?, &path)
}

/// The memory of a cgroup v2.
#[derive(Debug, Clone, PartialEq)]
pub struct CgroupMemory {
    pub path: PathBuf,
    /// memory.current in bytes.
    pub current: u64,
    /// memory.max in bytes; `None` when it is `max` (no limit).
    pub max: Option<u64>,
    /// The oom_kill count of memory.events.
    pub oom_kills: u64,
}

/// Reads one number (or `max`, as `None`) from a cgroup file.
pub fn parse_cgroup_value(text: &str, path: &Path) -> Result<Option<u64>, String> {
    match text.trim() {
        "max" => Ok(None),
        t => t
            .parse()
            .map(Some)
            .map_err(|_| format!("cannot read a number from {}: '{t}'", path.display())),
    }
}

/// The value of `key` in a flat-keyed file such as memory.events (`oom_kill 3`).
pub fn parse_keyed(text: &str, key: &str, path: &Path) -> Result<u64, String> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .find(|(k, _)| *k == key)
        .and_then(|(_, v)| v.trim().parse().ok())
        .ok_or_else(|| format!("no {key} count in {}", path.display()))
}

/// Reads memory.current, memory.max and memory.events of the cgroup directory `dir`.
pub fn read_cgroup_memory(dir: &Path) -> Result<CgroupMemory, String> {
    let file = |name: &str| {
        let p = dir.join(name);
        read_file(&p).map(|t| (t, p))
    };
    let (t, p) = file("memory.current")?;
    let current = parse_cgroup_value(&t, &p)?
        .ok_or_else(|| format!("{} says 'max', not a number", p.display()))?;
    let (t, p) = file("memory.max")?;
    let max = parse_cgroup_value(&t, &p)?;
    let (t, p) = file("memory.events")?;
    let oom_kills = parse_keyed(&t, "oom_kill", &p)?;
    Ok(CgroupMemory {
        path: dir.to_path_buf(),
        current,
        max,
        oom_kills,
    })
}

/// The `some avg10` percentage of a PSI file (/proc/pressure/memory, memory.pressure).
pub fn parse_psi_some_avg10(text: &str, path: &Path) -> Result<f64, String> {
    text.lines()
        .find_map(|l| l.strip_prefix("some "))
        .and_then(|rest| {
            rest.split_whitespace()
                .find_map(|kv| kv.strip_prefix("avg10="))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .ok_or_else(|| format!("no 'some avg10=' value in {}", path.display()))
}

/// Reads the memory pressure `some avg10` of the cgroup directory `cgroup` (its
/// memory.pressure), else of the whole machine (`<proc_root>/pressure/memory`).
pub fn read_memory_pressure(proc_root: &Path, cgroup: Option<&Path>) -> Result<f64, String> {
    let p = match cgroup {
        Some(d) => d.join("memory.pressure"),
        None => proc_root.join("pressure/memory"),
    };
    parse_psi_some_avg10(&read_file(&p)?, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_meminfo() {
        let text = "MemTotal:        8000000 kB\nMemFree:          500000 kB\nMemAvailable:    2000000 kB\nSwapCached:         1000 kB\nSwapTotal:       1000000 kB\nSwapFree:         750000 kB\nHugePages_Total:       0\n";
        assert_eq!(
            parse_meminfo(text, Path::new("/proc/meminfo")).unwrap(),
            Meminfo {
                mem_total: 8_000_000 * 1024,
                mem_available: 2_000_000 * 1024,
                swap_total: 1_000_000 * 1024,
                swap_free: 750_000 * 1024,
                swap_cached: 1000 * 1024,
            }
        );
        let e = parse_meminfo("MemTotal: 5 kB\n", Path::new("/x/meminfo")).unwrap_err();
        assert_eq!(e, "no MemAvailable line in /x/meminfo");
        let e = parse_meminfo("MemTotal: five kB\n", Path::new("/x/meminfo")).unwrap_err();
        assert_eq!(e, "cannot read MemTotal in /x/meminfo: 'MemTotal: five kB'");
        let e = parse_meminfo("MemTotal: 5 MB\n", Path::new("/x/meminfo")).unwrap_err();
        assert_eq!(e, "cannot read MemTotal in /x/meminfo: 'MemTotal: 5 MB'");
    }

    #[test]
    fn parses_swaps() {
        let swaps = "Filename\tType\tSize\tUsed\tPriority\n/var/swap\\040file file 1048576 10 -3\n";
        assert_eq!(
            parse_swaps(swaps, Path::new("/proc/swaps")).unwrap(),
            vec![SwapDevice {
                name: "/var/swap file".into(),
                size: 1 << 30,
                used: 10240
            }]
        );
        assert_eq!(
            parse_swaps("h\n/dev/x partition big 0 -2\n", Path::new("/proc/swaps")).unwrap_err(),
            "cannot read /proc/swaps: '/dev/x partition big 0 -2'"
        );
    }

    #[test]
    fn parses_psi_and_cgroup_files() {
        let p = Path::new("/proc/pressure/memory");
        assert_eq!(
            parse_psi_some_avg10(
                "some avg10=1.25 avg60=0.00 avg300=0.00 total=12\nfull avg10=0.50 avg60=0.00 avg300=0.00 total=3\n",
                p
            ),
            Ok(1.25)
        );
        assert_eq!(
            parse_psi_some_avg10("full avg10=1.00\n", p),
            Err("no 'some avg10=' value in /proc/pressure/memory".into())
        );
        let q = Path::new("memory.max");
        assert_eq!(parse_cgroup_value("max\n", q), Ok(None));
        assert_eq!(parse_cgroup_value("1048576\n", q), Ok(Some(1048576)));
        assert!(parse_cgroup_value("lots\n", q).is_err());
        let e = Path::new("memory.events");
        let events = "low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(parse_keyed(events, "oom_kill", e), Ok(1));
        assert_eq!(
            parse_keyed("oom 2\n", "oom_kill", e),
            Err("no oom_kill count in memory.events".into())
        );
    }

    #[test]
    fn reads_a_cgroup_directory() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("memory.current"), "4096\n").unwrap();
        std::fs::write(d.join("memory.max"), "8192\n").unwrap();
        std::fs::write(d.join("memory.events"), "oom 0\noom_kill 3\n").unwrap();
        std::fs::write(d.join("memory.pressure"), "some avg10=0.25 avg60=0\n").unwrap();
        assert_eq!(
            read_cgroup_memory(d).unwrap(),
            CgroupMemory {
                path: d.to_path_buf(),
                current: 4096,
                max: Some(8192),
                oom_kills: 3
            }
        );
        assert_eq!(
            read_memory_pressure(Path::new("/nowhere"), Some(d)),
            Ok(0.25)
        );
        std::fs::write(d.join("memory.current"), "max\n").unwrap();
        assert!(read_cgroup_memory(d)
            .unwrap_err()
            .ends_with("memory.current says 'max', not a number"));
    }
}
