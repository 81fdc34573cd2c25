//! Reads the zones a BIND server is master (primary) for from its named.conf: `zone
//! "name" [class] { type master|primary; ... };` at the top level or inside `view`
//! blocks, following `include "file";` statements. Comments in the three styles BIND
//! accepts (`//`, `#`, `/* */`) and quoted strings are handled; everything else in the
//! file is skipped without being interpreted.

use std::path::{Path, PathBuf};

/// Include statements followed at most this deep (a loop is an error, not a hang).
const MAX_INCLUDE_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Open,
    Close,
    Semi,
}

/// Splits a named.conf text into words (quoted strings unquoted), braces and semicolons.
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            c if c.is_whitespace() => {}
            '#' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let start = line;
                let mut prev = ' ';
                loop {
                    match chars.next() {
                        None => {
                            return Err(format!("comment opened on line {start} is not closed"))
                        }
                        Some('/') if prev == '*' => break,
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            prev = c;
                        }
                    }
                }
            }
            '"' => {
                let start = line;
                let mut s = String::new();
                loop {
                    match chars.next() {
                        None => return Err(format!("string opened on line {start} is not closed")),
                        Some('"') => break,
                        Some('\\') => {
                            if let Some(c) = chars.next() {
                                s.push(c);
                            }
                        }
                        Some(c) => {
                            if c == '\n' {
                                line += 1;
                            }
                            s.push(c);
                        }
                    }
                }
                out.push(Token::Word(s));
            }
            '{' => out.push(Token::Open),
            '}' => out.push(Token::Close),
            ';' => out.push(Token::Semi),
            c => {
                let mut s = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || "{};\"#".contains(n) {
                        break;
                    }
                    if n == '/' {
                        let mut ahead = chars.clone();
                        ahead.next();
                        if matches!(ahead.peek(), Some('/') | Some('*')) {
                            break;
                        }
                    }
                    s.push(n);
                    chars.next();
                }
                out.push(Token::Word(s));
            }
        }
    }
    Ok(out)
}

/// One statement: its words, then the block that follows them, if any.
#[derive(Debug, Default)]
struct Statement {
    words: Vec<String>,
    block: Option<Vec<Statement>>,
}

/// Parses statements until a closing brace (consumed) or the end.
fn parse_block(tokens: &[Token], i: &mut usize, depth: usize) -> Result<Vec<Statement>, String> {
    let mut out = Vec::new();
    loop {
        match tokens.get(*i) {
            None if depth == 0 => return Ok(out),
            None => return Err("a '{' is not closed".into()),
            Some(Token::Close) => {
                *i += 1;
                if depth == 0 {
                    return Err("unexpected '}'".into());
                }
                return Ok(out);
            }
            Some(Token::Semi) => {
                *i += 1;
                continue;
            }
            _ => {}
        }
        let mut st = Statement::default();
        loop {
            match tokens.get(*i) {
                Some(Token::Word(w)) => {
                    st.words.push(w.clone());
                    *i += 1;
                }
                Some(Token::Open) => {
                    *i += 1;
                    st.block = Some(parse_block(tokens, i, depth + 1)?);
                }
                Some(Token::Semi) => {
                    *i += 1;
                    break;
                }
                Some(Token::Close) | None => break,
            }
        }
        out.push(st);
    }
}

/// A zone name as the check uses it: lower case, no final dot (the root is `.`).
pub fn normalize_zone(name: &str) -> String {
    let n = name.trim().to_lowercase();
    match n.strip_suffix('.') {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => n,
    }
}

/// Reads files for the parser; a parameter so tests need no files.
pub trait Source {
    /// The text of `path`.
    fn read(&self, path: &Path) -> Result<String, String>;
}

/// Reads from the file system, at most [`MAX_FILE_LEN`] bytes a file.
pub struct Files;

/// The largest zone list or named.conf file read, in bytes.
pub const MAX_FILE_LEN: u64 = 16 << 20;

impl Source for Files {
    fn read(&self, path: &Path) -> Result<String, String> {
        crate::host::files::read_text_bounded(path, MAX_FILE_LEN)
    }
}

/// The master zones of `path` and the files it includes, in order, without duplicates.
/// A relative include is taken relative to the directory of the file that names it.
pub fn master_zones(path: &Path, src: &dyn Source) -> Result<Vec<String>, String> {
    let mut zones = Vec::new();
    let mut stack = Vec::new();
    read_file(path, src, &mut zones, &mut stack)?;
    Ok(zones)
}

fn read_file(
    path: &Path,
    src: &dyn Source,
    zones: &mut Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<(), String> {
    if stack.iter().any(|p| p == path) {
        return Err(format!("{} includes itself", path.display()));
    }
    if stack.len() >= MAX_INCLUDE_DEPTH {
        return Err(format!(
            "includes nested deeper than {MAX_INCLUDE_DEPTH} at {}",
            path.display()
        ));
    }
    let text = src.read(path)?;
    let tokens = tokenize(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut i = 0;
    let statements =
        parse_block(&tokens, &mut i, 0).map_err(|e| format!("{}: {e}", path.display()))?;
    stack.push(path.to_path_buf());
    let r = walk(&statements, path, src, zones, stack);
    stack.pop();
    r
}

fn walk(
    statements: &[Statement],
    path: &Path,
    src: &dyn Source,
    zones: &mut Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<(), String> {
    for st in statements {
        match st.words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("include") => {
                let Some(file) = st.words.get(1) else {
                    return Err(format!("{}: include without a file name", path.display()));
                };
                let mut target = PathBuf::from(file);
                if target.is_relative() {
                    if let Some(dir) = path.parent() {
                        target = dir.join(target);
                    }
                }
                read_file(&target, src, zones, stack)?;
            }
            Some("view") => {
                if let Some(block) = &st.block {
                    walk(block, path, src, zones, stack)?;
                }
            }
            Some("zone") => {
                let (Some(name), Some(block)) = (st.words.get(1), &st.block) else {
                    continue;
                };
                let is_master = block.iter().any(|s| {
                    s.words.len() >= 2
                        && s.words[0].eq_ignore_ascii_case("type")
                        && (s.words[1].eq_ignore_ascii_case("master")
                            || s.words[1].eq_ignore_ascii_case("primary"))
                });
                let name = normalize_zone(name);
                if is_master && !zones.contains(&name) {
                    zones.push(name);
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Zone names from a list file: one a line, `#` and `//` comments and blank lines
/// ignored (a second word on a line is ignored too, so `zone master-file` lists work).
pub fn zones_from_list(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("");
        let line = line.split("//").next().unwrap_or("");
        if let Some(w) = line.split_whitespace().next() {
            let z = normalize_zone(w);
            if !out.contains(&z) {
                out.push(z);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Mem(HashMap<PathBuf, String>);

    impl Source for Mem {
        fn read(&self, path: &Path) -> Result<String, String> {
            self.0
                .get(path)
                .cloned()
                .ok_or_else(|| format!("cannot read {}: not found", path.display()))
        }
    }

    fn mem(files: &[(&str, &str)]) -> Mem {
        Mem(files
            .iter()
            .map(|(p, t)| (PathBuf::from(p), t.to_string()))
            .collect())
    }

    #[test]
    fn zones_types_comments_and_includes() {
        let main = r#"
options { directory "/var/cache/bind"; allow-transfer { 10.0.0.2; }; };
// zone "commented.org" { type master; };
# zone "hashed.org" { type master; };
/* zone "block.org" {
   type master; }; */
zone "Example.ORG." IN { type master; file "/etc/bind/db.example.org"; };
zone "slave.org" { type slave; masters { 10.0.0.1; }; file "x"; };
zone "primary.net" { file "db.primary.net"; type primary; /* } tricky */ };
zone "weird;name.org" { type master; };
include "/etc/bind/named.conf.members";
include "local.conf";
view "internal" { match-clients { any; }; zone "inview.org" { type master; }; };
zone "example.org" { type master; };
"#;
        let members = "zone \"a.coop\" { type master; }; // member\nzone \"b.coop\"{type master;};";
        let local = "zone \"c.coop\" { type secondary; }; zone \"d.coop\" { type master; };";
        let src = mem(&[
            ("/etc/bind/named.conf", main),
            ("/etc/bind/named.conf.members", members),
            ("/etc/bind/local.conf", local),
        ]);
        assert_eq!(
            master_zones(Path::new("/etc/bind/named.conf"), &src).unwrap(),
            vec![
                "example.org",
                "primary.net",
                "weird;name.org",
                "a.coop",
                "b.coop",
                "d.coop",
                "inview.org"
            ]
        );
    }

    #[test]
    fn broken_files_are_errors() {
        let src = mem(&[
            ("/a.conf", "include \"/b.conf\";"),
            ("/b.conf", "include \"/a.conf\";"),
            ("/open.conf", "zone \"x\" { type master;"),
            ("/comment.conf", "/* never closed"),
            ("/string.conf", "zone \"x { type master; };"),
            ("/missing.conf", "include \"/nowhere.conf\";"),
        ]);
        let err = |p: &str| master_zones(Path::new(p), &src).unwrap_err();
        assert_eq!(err("/a.conf"), "/a.conf includes itself");
        assert_eq!(err("/open.conf"), "/open.conf: a '{' is not closed");
        assert_eq!(
            err("/comment.conf"),
            "/comment.conf: comment opened on line 1 is not closed"
        );
        assert_eq!(
            err("/string.conf"),
            "/string.conf: string opened on line 1 is not closed"
        );
        assert_eq!(err("/missing.conf"), "cannot read /nowhere.conf: not found");
    }

    #[test]
    fn list_files() {
        assert_eq!(
            zones_from_list("# members\nA.org.\n\nb.org  db.b.org\nc.org // note\na.org\n"),
            vec!["a.org", "b.org", "c.org"]
        );
        assert_eq!(normalize_zone("."), ".");
    }
}
