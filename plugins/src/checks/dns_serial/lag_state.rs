//! Since when each (zone, server) pair has been behind its master: a small text file
//! kept between runs so that a slave is only reported once it has stayed behind longer
//! than the grace period. One line per pair: `zone server since-unix-seconds`. Written
//! atomically (temporary file, fsync, rename, fsync of the directory).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// (zone, server address) → Unix time it was first seen behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LagState(pub BTreeMap<(String, String), u64>);

impl LagState {
    /// Parses the file text; malformed lines are skipped (the worst outcome is one
    /// grace period started again).
    pub fn parse(text: &str) -> LagState {
        let mut map = BTreeMap::new();
        for line in text.lines() {
            let w: Vec<&str> = line.split_whitespace().collect();
            if let [zone, server, since] = w[..] {
                if let Ok(s) = since.parse() {
                    map.insert((zone.to_string(), server.to_string()), s);
                }
            }
        }
        LagState(map)
    }

    /// The file text.
    pub fn render(&self) -> String {
        let mut s = String::from("# check_dns_serial: zone server behind-since (unix time)\n");
        for ((zone, server), since) in &self.0 {
            s.push_str(&format!("{zone} {server} {since}\n"));
        }
        s
    }

    /// Reads the state; a missing file is an empty state.
    pub fn load(path: &Path) -> Result<LagState, String> {
        match std::fs::read_to_string(path) {
            Ok(t) => Ok(LagState::parse(&t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(LagState::default()),
            Err(e) => Err(format!("cannot read {}: {e}", path.display())),
        }
    }

    /// Writes the state atomically, creating the directory if needed.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let dir = path.parent().unwrap_or(Path::new("."));
        let fail = |what: &str, e: std::io::Error| format!("cannot {what} {}: {e}", path.display());
        std::fs::create_dir_all(dir).map_err(|e| fail("create the directory of", e))?;
        let tmp: PathBuf = dir.join(format!(
            ".{}.{}.tmp",
            path.file_name().and_then(|n| n.to_str()).unwrap_or("state"),
            std::process::id()
        ));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.render().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            std::fs::File::open(dir)?.sync_all()
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            fail("write", e)
        })
    }
}

/// 64-bit FNV-1a: a hash that stays the same across builds, for state file names.
pub fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_atomic_save() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state");
        assert_eq!(LagState::load(&path).unwrap(), LagState::default());
        let mut s = LagState::default();
        s.0.insert(("a.org".into(), "127.0.0.22:53".into()), 1_700_000_000);
        s.0.insert(("b.org".into(), "[::1]:53".into()), 5);
        s.save(&path).unwrap();
        assert_eq!(LagState::load(&path).unwrap(), s);
        // no temporary file left behind
        assert_eq!(
            std::fs::read_dir(dir.path().join("sub")).unwrap().count(),
            1
        );
        assert_eq!(
            LagState::parse("junk\na.org 1.2.3.4:53 x\nb.org 1.2.3.4:53 7\n")
                .0
                .len(),
            1
        );
    }

    #[test]
    fn stable_hash() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
