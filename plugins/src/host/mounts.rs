//! Mounted file systems: the mount table of `/proc/self/mountinfo` and the numbers of
//! statfs(2).

use std::path::Path;

/// One line of /proc/self/mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub device: String,
    pub mount_point: String,
    pub fs_type: String,
}

/// The statvfs numbers of one file system (blocks in `frsize` units).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FsStats {
    pub frsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
}

/// Undoes the octal escapes (`\040` for a space) the kernel writes in mount tables and
/// in /proc/swaps.
pub fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                // \400 and above do not fit a byte: wrap as the kernel never writes them
                let v = u16::from(d[0] - b'0') * 64
                    + u16::from(d[1] - b'0') * 8
                    + u16::from(d[2] - b'0');
                out.push(v as u8);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One mountinfo line: field 5 is the mount point; after the optional fields and the
/// `-` separator come the type and the device.
fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    let mut fields = line.split(' ');
    let mount_point = fields.nth(4)?;
    // the mount options (field 6) come before the separator
    let before_separator = fields.by_ref().take_while(|f| *f != "-").count();
    let fs_type = fields.next()?;
    let device = fields.next()?;
    (before_separator >= 1).then(|| Mount {
        device: unescape(device),
        mount_point: unescape(mount_point),
        fs_type: unescape(fs_type),
    })
}

/// Parses /proc/self/mountinfo text, in mount order. `source` names the file in errors.
pub fn parse_mountinfo(text: &str, source: &Path) -> Result<Vec<Mount>, String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            parse_mountinfo_line(line)
                .ok_or_else(|| format!("cannot read {}: '{line}'", source.display()))
        })
        .collect()
}

/// Reads and parses `<proc_root>/self/mountinfo`.
pub fn read_mounts(proc_root: &Path) -> Result<Vec<Mount>, String> {
    let path = proc_root.join("self/mountinfo");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    parse_mountinfo(&text, &path)
}

/// The numbers of the file system holding `path`, from statfs(2): the same as
/// statvfs(3), without glibc's scan of the mount table for the mount flags.
pub fn fs_stats(path: &str) -> Result<FsStats, String> {
    let c = std::ffi::CString::new(path).map_err(|_| format!("{path}: NUL in path"))?;
    // SAFETY: a zeroed statfs is a valid out-parameter; the path is NUL-terminated.
    let mut s: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    if unsafe { libc::statfs(c.as_ptr(), &mut s) } != 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    Ok(FsStats {
        frsize: if s.f_frsize > 0 {
            s.f_frsize as u64
        } else {
            s.f_bsize as u64
        },
        blocks: s.f_blocks as u64,
        bfree: s.f_bfree as u64,
        bavail: s.f_bavail as u64,
        files: s.f_files as u64,
        ffree: s.f_ffree as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_lines() {
        let text = "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard\n\
                    40 27 254:16 / /srv/member\\040data rw,relatime shared:7 master:2 - xfs /dev/vdb rw\n";
        let m = parse_mountinfo(text, Path::new("/m")).unwrap();
        assert_eq!(
            m[1],
            Mount {
                device: "/dev/vdb".into(),
                mount_point: "/srv/member data".into(),
                fs_type: "xfs".into()
            }
        );
        assert_eq!(
            parse_mountinfo("1 2 3\n", Path::new("/m")).unwrap_err(),
            "cannot read /m: '1 2 3'"
        );
        // no separator
        assert!(parse_mountinfo("1 2 3 4 /x rw ext4 /dev/x\n", Path::new("/m")).is_err());
    }

    #[test]
    fn unescapes_octal_and_keeps_the_rest() {
        assert_eq!(unescape("/a\\040b"), "/a b");
        assert_eq!(unescape("/a\\134b"), "/a\\b");
        assert_eq!(unescape("/a\\04"), "/a\\04", "too short");
        assert_eq!(unescape("/a\\9xx"), "/a\\9xx");
        assert_eq!(unescape("/é\\040ü"), "/é ü");
        // \777 does not fit a byte: no panic, no overflow
        assert_eq!(unescape("\\777").chars().count(), 1);
    }

    #[test]
    fn statfs_of_root_and_of_nothing() {
        let s = fs_stats("/").unwrap();
        assert!(s.frsize > 0 && s.blocks > 0);
        assert!(fs_stats("/no/such/path/here")
            .unwrap_err()
            .contains("No such file"));
        assert!(fs_stats("a\0b").unwrap_err().contains("NUL"));
    }
}
