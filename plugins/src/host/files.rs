//! Reading files whose size the check does not control (lists, configurations, keys a
//! member may point at `/dev/zero`): never more than a bound.

use std::io::Read;
use std::path::Path;

pub use crate::plugin::regular_file::{
    open_regular, read_limited, read_regular, read_regular_nofollow,
};

/// The bytes of the file at `path`, refused when it holds more than `max` bytes (only
/// `max + 1` are ever read). An error is one line, `cannot read {kind}{file}: why`, the
/// file name shown escaped and cut; `kind` names what the file is, with its space
/// (`"keytab "`), or is empty.
pub fn read_bounded(path: &Path, max: u64, kind: &str) -> Result<Vec<u8>, String> {
    let name = crate::plugin::shown(&path.display().to_string());
    let mut data = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(max.saturating_add(1)).read_to_end(&mut data))
        .map_err(|e| format!("cannot read {kind}{name}: {e}"))?;
    if data.len() as u64 > max {
        return Err(format!("cannot read {kind}{name}: larger than {max} bytes"));
    }
    Ok(data)
}

/// The text of the file at `path`, as [`read_bounded`] reads it; text that is not UTF-8
/// is refused.
pub fn read_text_bounded(path: &Path, max: u64) -> Result<String, String> {
    String::from_utf8(read_bounded(path, max, "")?).map_err(|_| {
        format!(
            "cannot read {}: stream did not contain valid UTF-8",
            crate::plugin::shown(&path.display().to_string())
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_reads() {
        let dir = std::env::temp_dir().join(format!("hcoop-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("list");
        std::fs::write(&f, "a.org\n").unwrap();
        assert_eq!(read_text_bounded(&f, 6).unwrap(), "a.org\n");
        assert_eq!(
            read_text_bounded(&f, 5).unwrap_err(),
            format!("cannot read {}: larger than 5 bytes", f.display())
        );
        std::fs::write(&f, b"\xff\n").unwrap();
        assert_eq!(
            read_text_bounded(&f, 10).unwrap_err(),
            format!(
                "cannot read {}: stream did not contain valid UTF-8",
                f.display()
            )
        );
        let e = read_bounded(&dir.join("missing"), 10, "keytab ").unwrap_err();
        assert!(e.starts_with("cannot read keytab /"), "{e}");
        assert!(e.ends_with("No such file or directory (os error 2)"), "{e}");
        // a device that never ends is read only up to the bound
        assert!(read_bounded(Path::new("/dev/zero"), 1 << 20, "")
            .unwrap_err()
            .ends_with("larger than 1048576 bytes"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
