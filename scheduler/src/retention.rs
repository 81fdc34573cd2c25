//! Saving and restoring states: one JSON file written atomically (temporary file,
//! fsync, rename, fsync of the directory), so a crash leaves the old or the new file,
//! never a torn one.

use crate::state::{HostState, Record};
use anyhow::{Context, Result};
use hcoop_plugins::plugin::State;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// The file format's version.
pub const VERSION: u32 = 1;

/// Everything saved.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Saved {
    pub version: u32,
    /// Unix seconds.
    pub saved_at: u64,
    pub next_downtime_id: u64,
    /// Host records by host name.
    pub hosts: HashMap<String, Record<HostState>>,
    /// Service records by "host/service".
    pub services: HashMap<String, Record<State>>,
}

/// Reads the saved states; a missing file is an empty start, a damaged one an error.
pub fn load(path: &Path) -> Result<Saved> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Saved::default()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let saved: Saved = serde_json::from_slice(&text)
        .with_context(|| format!("{}: not a saved state file", path.display()))?;
    if saved.version != VERSION {
        anyhow::bail!(
            "{}: state file version {} (this program reads {VERSION})",
            path.display(),
            saved.version
        );
    }
    Ok(saved)
}

/// Writes the states atomically, creating the directory when needed.
pub fn save(path: &Path, saved: &Saved) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("state");
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(saved).map_err(std::io::Error::other)?)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    };
    write()
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
        .with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        assert!(load(&path).unwrap().services.is_empty());
        let mut saved = Saved {
            version: VERSION,
            next_downtime_id: 7,
            ..Saved::default()
        };
        let mut r: Record<State> = Record::default();
        r.apply(
            State::Critical,
            "CRIT - x",
            100,
            &crate::state::Policy::default(),
            true,
        );
        saved.services.insert("h/s".into(), r.clone());
        save(&path, &saved).unwrap();
        let back = load(&path).unwrap();
        assert_eq!(back.services["h/s"], r);
        assert_eq!(back.next_downtime_id, 7);
        std::fs::write(&path, "{").unwrap();
        assert!(load(&path)
            .unwrap_err()
            .to_string()
            .contains("not a saved state file"));
        // no temporary file left behind
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1
        );
    }
}
