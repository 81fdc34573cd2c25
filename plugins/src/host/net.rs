//! Network interfaces: the counters of /proc/net/dev and what /sys/class/net says of
//! each interface (index, link speed).

use std::collections::BTreeMap;
use std::path::Path;

/// Parses /proc/net/dev into (interface, rx bytes, rx errs, rx drop, tx bytes, tx errs,
/// tx drop).
pub fn parse_proc_net_dev(text: &str) -> Result<BTreeMap<String, [u64; 6]>, String> {
    let mut out = BTreeMap::new();
    for line in text.lines().skip(2) {
        let Some((name, rest)) = line.split_once(':') else {
            return Err(format!("cannot read /proc/net/dev line '{line}'"));
        };
        let n: Vec<u64> = rest
            .split_whitespace()
            .map(str::parse)
            .collect::<Result<_, _>>()
            .map_err(|_| format!("cannot read /proc/net/dev line '{line}'"))?;
        if n.len() < 12 {
            return Err(format!("cannot read /proc/net/dev line '{line}'"));
        }
        out.insert(
            name.trim().to_string(),
            [n[0], n[2], n[3], n[8], n[10], n[11]],
        );
    }
    Ok(out)
}

/// Reads and parses `<proc_root>/net/dev`.
pub fn read_net_dev(proc_root: &Path) -> Result<BTreeMap<String, [u64; 6]>, String> {
    let path = proc_root.join("net/dev");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_proc_net_dev(&text)
}

/// What /sys says of one interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Link {
    /// The interface index (0 when unreadable).
    pub ifindex: u64,
    /// Link speed in bits per second, when the driver reports one.
    pub speed: Option<u64>,
}

/// Reads `<sys_root>/class/net/NAME/{ifindex,speed}`.
pub fn read_link(sys_root: &Path, name: &str) -> Link {
    let sys = sys_root.join("class/net").join(name);
    let read_num = |f: &str| -> Option<i64> {
        std::fs::read_to_string(sys.join(f))
            .ok()
            .and_then(|t| t.trim().parse().ok())
    };
    Link {
        ifindex: read_num("ifindex").unwrap_or(0).max(0) as u64,
        speed: read_num("speed")
            .filter(|s| *s > 0)
            .map(|s| (s as u64).saturating_mul(1_000_000)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sys_class_net() {
        let d = tempfile::tempdir().unwrap();
        let eth = d.path().join("class/net/eth0");
        std::fs::create_dir_all(&eth).unwrap();
        std::fs::write(eth.join("ifindex"), "2\n").unwrap();
        std::fs::write(eth.join("speed"), "1000\n").unwrap();
        assert_eq!(
            read_link(d.path(), "eth0"),
            Link {
                ifindex: 2,
                speed: Some(1_000_000_000)
            }
        );
        // a virtual interface says -1, or nothing at all
        std::fs::write(eth.join("speed"), "-1\n").unwrap();
        assert_eq!(read_link(d.path(), "eth0").speed, None);
        assert_eq!(read_link(d.path(), "nope"), Link::default());
    }
}
