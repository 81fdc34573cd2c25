//! POSIX regular expressions (regcomp(3)/regexec(3)): the dialects of monitoring-plugins'
//! C plugins and of grep(1), for checks that must match exactly as those do.

use std::ffi::CString;

/// A POSIX regular expression compiled by regcomp(3), as monitoring-plugins' C plugins
/// and grep(1) compile theirs, so expressions match exactly as they do there.
pub struct PosixRegex {
    /// Boxed: a compiled regex_t must not move.
    re: Box<libc::regex_t>,
    /// The expression as given.
    pub text: String,
}

// SAFETY: a compiled regex_t is only read by regexec(3), which POSIX makes thread-safe;
// regfree runs once, in Drop, with exclusive access.
unsafe impl Send for PosixRegex {}
// SAFETY: as above.
unsafe impl Sync for PosixRegex {}

impl PosixRegex {
    /// Compiles `pattern` (extended syntax; `icase` ignores case).
    pub fn new(pattern: &str, icase: bool) -> Result<Self, String> {
        Self::compile(pattern, icase, true)
    }

    /// Compiles `pattern` in the basic syntax of grep(1) without -E (glibc's, where
    /// `\|`, `\+` and `\?` work as in GNU grep).
    pub fn basic(pattern: &str) -> Result<Self, String> {
        Self::compile(pattern, false, false)
    }

    fn compile(pattern: &str, icase: bool, extended: bool) -> Result<Self, String> {
        let c = CString::new(pattern).map_err(|_| "NUL byte in expression".to_string())?;
        // SAFETY: a zeroed regex_t is a valid out-parameter for regcomp.
        let mut re: Box<libc::regex_t> = Box::new(unsafe { std::mem::zeroed() });
        let flags = if extended { libc::REG_EXTENDED } else { 0 }
            | libc::REG_NOSUB
            | if icase { libc::REG_ICASE } else { 0 };
        // SAFETY: valid pointers to the regex_t and a NUL-terminated pattern.
        let rc = unsafe { libc::regcomp(&mut *re, c.as_ptr(), flags) };
        if rc != 0 {
            let mut buf = [0u8; 256];
            // SAFETY: regerror writes at most buf.len() bytes, NUL-terminated.
            unsafe { libc::regerror(rc, &*re, buf.as_mut_ptr().cast(), buf.len()) };
            let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return Err(String::from_utf8_lossy(&buf[..end]).into_owned());
        }
        Ok(PosixRegex {
            re,
            text: pattern.to_string(),
        })
    }

    /// True when the expression matches anywhere in `s`.
    pub fn is_match(&self, s: &str) -> bool {
        let Ok(c) = CString::new(s) else {
            return false;
        };
        // SAFETY: a compiled regex and a NUL-terminated subject; no match array.
        unsafe { libc::regexec(&*self.re, c.as_ptr(), 0, std::ptr::null_mut(), 0) == 0 }
    }
}

impl Drop for PosixRegex {
    fn drop(&mut self) {
        // SAFETY: compiled by regcomp in new(), freed once.
        unsafe { libc::regfree(&mut *self.re) }
    }
}

impl std::fmt::Debug for PosixRegex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PosixRegex({:?})", self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_and_basic_syntax() {
        let e = PosixRegex::new("^/(dev|run)$", false).unwrap();
        assert!(e.is_match("/run") && !e.is_match("/srv"));
        let b = PosixRegex::basic("Trying\\|with").unwrap();
        assert!(b.is_match("with it") && b.is_match("Trying"));
        assert!(!b.is_match("nothing"));
        let literal = PosixRegex::basic("a|b").unwrap();
        assert!(literal.is_match("xa|by") && !literal.is_match("a"));
        assert!(PosixRegex::new("(", false).is_err());
        assert!(PosixRegex::new("A", true).unwrap().is_match("a"));
    }
}
