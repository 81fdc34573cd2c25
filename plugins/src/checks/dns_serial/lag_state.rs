//! Since when each (zone, server) pair has been behind its master: a small text file
//! kept between runs so that a slave is only reported once it has stayed behind longer
//! than the grace period. One line per pair: `zone server since-unix-seconds`. Read and
//! written atomically as every check's state file is (`host::statefile`).

use crate::host::statefile;
use std::collections::BTreeMap;
use std::path::Path;

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
        Ok(statefile::read(path)?
            .map(|t| LagState::parse(&t))
            .unwrap_or_default())
    }

    /// Writes the state atomically, creating the directory if needed.
    pub fn save(&self, path: &Path) -> Result<(), String> {
        statefile::write_atomic(path, self.render().as_bytes())
    }
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
    fn a_state_that_cannot_be_kept_is_one_line_naming_the_file() {
        let e = LagState::default()
            .save(Path::new("/proc/no/such/state"))
            .unwrap_err();
        assert!(
            e.starts_with("cannot write state file /proc/no/such/state: "),
            "{e}"
        );
        assert!(!e.contains('\n'), "{e}");
    }
}
