//! Echoing input safely: whatever a user or a server gave is shown on one line, with
//! control characters escaped, and cut to a length a notification can carry.

/// How many characters of an echoed value are shown.
pub const SHOWN_CHARS: usize = 200;

/// `text` made safe to echo in plugin output: control characters escaped (`\n`, `\t`,
/// `\x1b`), `|` (the perfdata separator) kept out, and cut after [`SHOWN_CHARS`]
/// characters with a note of the full length.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(SHOWN_CHARS + 16));
    for (n, c) in text.chars().enumerate() {
        if n == SHOWN_CHARS {
            out.push_str(&format!("... ({} bytes)", text.len()));
            return out;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '|' => out.push('¦'),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_and_bounded() {
        assert_eq!(shown("a\nb\r\tc\x1b"), "a\\nb\\r\\tc\\x1b");
        assert_eq!(shown("x|y=1"), "x¦y=1");
        assert_eq!(shown("héllo"), "héllo");
        let long = "é".repeat(100_000);
        let s = shown(&long);
        assert!(s.starts_with(&"é".repeat(SHOWN_CHARS)));
        assert!(s.ends_with("... (200000 bytes)"), "{s}");
        assert!(s.chars().count() < SHOWN_CHARS + 30);
    }
}
