//! Small state files kept between runs of a check (counters, seek positions), in a
//! state directory (`--state-dir`). Written atomically: a temporary file in the same
//! directory, fsync, rename over the old file, fsync of the directory; so a crash leaves
//! either the old state or the new one, never half of either.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Where checks keep their state unless `--state-dir` says otherwise.
pub const DEFAULT_STATE_DIR: &str = "/var/lib/hcoop-monitor/state";

/// 64-bit FNV-1a: a hash that stays the same across builds and runs, for naming state
/// files after what they describe.
pub fn stable_hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The state file of one subject of one check: `DIR/CHECK-HASH.state`, where HASH is
/// the [`stable_hash`] of `key` (a file name, an interface, a search).
pub fn path_for(dir: &Path, check: &str, key: &str) -> PathBuf {
    dir.join(format!(
        "{check}-{:016x}.state",
        stable_hash(key.as_bytes())
    ))
}

/// Reads a state file; `Ok(None)` when there is none yet.
pub fn read(path: &Path) -> Result<Option<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read state file {}: {e}", path.display())),
    }
}

/// Replaces the state file at `path` with `contents` atomically, creating its directory
/// (mode 0700 for a new one) when missing.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| -> std::io::Result<()> {
        if !dir.exists() {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)?;
        }
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write state file {}: {e}", path.display())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable() {
        assert_eq!(stable_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(stable_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn writes_atomically_and_reads_back() {
        let d = tempfile::tempdir().unwrap();
        let p = path_for(&d.path().join("new/sub"), "net", "eth0");
        assert_eq!(read(&p).unwrap(), None);
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(read(&p).unwrap().as_deref(), Some("two"));
        // no temporary file left behind
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn unwritable_directory_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let file = d.path().join("plain");
        std::fs::write(&file, "x").unwrap();
        let e = write_atomic(&file.join("s.state"), b"x").unwrap_err();
        assert!(e.starts_with("cannot write state file "), "{e}");
    }
}
