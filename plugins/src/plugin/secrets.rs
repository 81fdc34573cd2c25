//! Secrets (passwords) come from a file or the environment, so they need not be on the
//! command line where every local user can read them in `ps`.

use super::runner::UsageError;
use std::path::Path;

/// The first line of `path` (without its line end), or `None` without a path. `opt`
/// names the option in the error (`--password-file`).
pub fn read_secret_file(path: Option<&Path>, opt: &str) -> Result<Option<String>, UsageError> {
    let Some(path) = path else { return Ok(None) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| UsageError(format!("{opt} {}: {e}", path.display())))?;
    Ok(Some(text.lines().next().unwrap_or("").to_string()))
}

/// The secret in environment variable `var`, if set and not empty.
pub fn secret_from_env(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn first_line_of_a_file() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        writeln!(f, "s3cret\nsecond").unwrap();
        assert_eq!(
            read_secret_file(Some(f.path()), "--password-file").unwrap(),
            Some("s3cret".to_string())
        );
        assert_eq!(read_secret_file(None, "x").unwrap(), None);
        let e = read_secret_file(Some(Path::new("/nonexistent/x")), "--password-file").unwrap_err();
        assert!(e.0.starts_with("--password-file /nonexistent/x: "), "{e}");
    }
}
