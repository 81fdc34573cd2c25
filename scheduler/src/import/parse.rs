//! Reading a Nagios configuration as Nagios 4 reads it: the main file (`cfg_file`,
//! `cfg_dir`, `resource_file` and the settings), the object files (`define TYPE {` …
//! `}`, one directive a line, `#` and `;` comment lines, `;` comments after a value
//! unless written `\;`, a `\` at the end of a line continuing it), and the `$USERn$`
//! macros of the resource files. Every object and directive keeps its file and line.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The largest file read (main, resource or object file).
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// The most files read through `cfg_file`, `cfg_dir` and includes.
pub const MAX_FILES: usize = 10_000;
/// The most objects (templates included) read in all.
pub const MAX_OBJECTS: usize = 1_000_000;
/// How deep `cfg_dir` directories are followed.
pub const MAX_DEPTH: usize = 32;
/// The highest `$USERn$`.
pub const MAX_USER_MACRO: u32 = 256;

/// A file and a line in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Place {
    pub file: Arc<str>,
    pub line: u32,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One `name value` line of a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    pub name: String,
    pub value: String,
    pub line: u32,
}

/// One `define TYPE { … }` as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub kind: String,
    /// Where its `define` line is.
    pub place: Place,
    pub directives: Vec<Directive>,
}

impl Object {
    /// The value of a directive as written (the last one when written twice, as Nagios).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.directives
            .iter()
            .rev()
            .find(|d| d.name == name)
            .map(|d| d.value.as_str())
    }
}

/// One `name=value` line of the main configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub name: String,
    pub value: String,
    pub place: Place,
}

/// A whole configuration as read.
#[derive(Debug, Default)]
pub struct Nagios {
    /// The main file's settings, in order (`cfg_file`, `cfg_dir` and `resource_file`
    /// included).
    pub settings: Vec<Setting>,
    /// `$USERn$` values by n.
    pub users: BTreeMap<u32, String>,
    /// Every definition, in the order read.
    pub objects: Vec<Object>,
}

impl Nagios {
    /// The last value of a main-file setting.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().rev().find(|s| s.name == name)
    }
}

/// Reads the main configuration file and everything it names.
pub fn read(main: &Path) -> Result<Nagios, String> {
    let mut reader = Reader {
        out: Nagios::default(),
        files: 0,
        seen: HashSet::new(),
    };
    let text = reader.read_text(main, None)?;
    let base = main.parent().unwrap_or(Path::new("/")).to_path_buf();
    for (place, t) in setting_lines(main, &text) {
        let t = t.as_str();
        let Some((name, value)) = t.split_once('=') else {
            return Err(format!("{place}: expected NAME=VALUE, found '{t}'"));
        };
        let (name, value) = (name.trim().to_string(), value.trim().to_string());
        match name.as_str() {
            "cfg_file" => {
                let p = relative(&base, &value);
                reader.object_file(&p, Some(&place))?;
            }
            "cfg_dir" => {
                let p = relative(&base, &value);
                reader.object_dir(&p, &place, 0)?;
            }
            "resource_file" => {
                let p = relative(&base, &value);
                reader.resource_file(&p, &place)?;
            }
            _ => {}
        }
        reader.out.settings.push(Setting { name, value, place });
    }
    Ok(reader.out)
}

/// A path as Nagios reads it: relative ones from the main file's directory.
fn relative(base: &Path, value: &str) -> PathBuf {
    let p = Path::new(value);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

struct Reader {
    out: Nagios,
    files: usize,
    /// The object files read (a file named twice is read once, as Nagios warns and
    /// skips it).
    seen: HashSet<PathBuf>,
}

impl Reader {
    fn read_text(&mut self, path: &Path, from: Option<&Place>) -> Result<String, String> {
        let at = from.map_or(String::new(), |p| format!("{p}: "));
        self.files += 1;
        if self.files > MAX_FILES {
            return Err(format!("{at}more than {MAX_FILES} files"));
        }
        let meta = std::fs::metadata(path)
            .map_err(|e| format!("{at}cannot read {}: {e}", path.display()))?;
        if !meta.is_file() {
            return Err(format!("{at}{} is not a file", path.display()));
        }
        if meta.len() > MAX_FILE_BYTES {
            return Err(format!(
                "{at}{} is larger than {} MiB",
                path.display(),
                MAX_FILE_BYTES >> 20
            ));
        }
        let bytes =
            std::fs::read(path).map_err(|e| format!("{at}cannot read {}: {e}", path.display()))?;
        // Nagios reads bytes; names and values are kept as text, odd bytes replaced
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn object_dir(&mut self, dir: &Path, from: &Place, depth: usize) -> Result<(), String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{from}: {} is nested more than {MAX_DEPTH} directories deep",
                dir.display()
            ));
        }
        let entries = std::fs::read_dir(dir)
            .map_err(|e| format!("{from}: cannot read directory {}: {e}", dir.display()))?;
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        // Nagios takes readdir's order; a stable one here
        paths.sort();
        for p in paths {
            let Ok(meta) = std::fs::metadata(&p) else {
                continue;
            };
            if meta.is_dir() {
                self.object_dir(&p, from, depth + 1)?;
            } else if meta.is_file() && p.extension().is_some_and(|x| x == "cfg") {
                self.object_file(&p, Some(from))?;
            }
        }
        Ok(())
    }

    fn resource_file(&mut self, path: &Path, from: &Place) -> Result<(), String> {
        let text = self.read_text(path, Some(from))?;
        for (place, t) in setting_lines(path, &text) {
            let t = t.as_str();
            let Some((name, value)) = t.split_once('=') else {
                return Err(format!("{place}: expected $USERn$=VALUE, found '{t}'"));
            };
            let n = name
                .trim()
                .strip_prefix("$USER")
                .and_then(|n| n.strip_suffix('$'))
                .and_then(|n| n.parse::<u32>().ok())
                .filter(|n| (1..=MAX_USER_MACRO).contains(n))
                .ok_or_else(|| {
                    format!(
                        "{place}: '{}' is not a $USERn$ macro (n from 1 to {MAX_USER_MACRO})",
                        name.trim()
                    )
                })?;
            self.out.users.insert(n, value.trim().to_string());
        }
        Ok(())
    }

    fn object_file(&mut self, path: &Path, from: Option<&Place>) -> Result<(), String> {
        let key = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !self.seen.insert(key) {
            return Ok(());
        }
        let text = self.read_text(path, from)?;
        let file: Arc<str> = path.display().to_string().into();
        let base = path.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut current: Option<Object> = None;
        for (line, raw) in logical_lines(&text) {
            let place = Place {
                file: file.clone(),
                line,
            };
            let t = strip_comment(&raw);
            if t.is_empty() {
                continue;
            }
            match current.as_mut() {
                None => {
                    if let Some(rest) = t.strip_prefix("define") {
                        let kind = rest.trim().strip_suffix('{').map(str::trim);
                        match kind {
                            Some(kind)
                                if !kind.is_empty()
                                    && (rest.starts_with(char::is_whitespace)
                                        || rest.starts_with('{')) =>
                            {
                                if !KINDS.contains(&kind) {
                                    return Err(format!(
                                        "{place}: unknown object type '{kind}'"
                                    ));
                                }
                                current = Some(Object {
                                    kind: kind.to_string(),
                                    place,
                                    directives: Vec::new(),
                                });
                            }
                            _ => {
                                return Err(format!(
                                    "{place}: expected 'define TYPE {{' with the '{{' on the same line, found '{t}'"
                                ))
                            }
                        }
                    } else if let Some(value) = t.strip_prefix("include_file=") {
                        let p = relative(&base, value.trim());
                        self.object_file(&p, Some(&place))?;
                    } else if let Some(value) = t.strip_prefix("include_dir=") {
                        let p = relative(&base, value.trim());
                        self.object_dir(&p, &place, 0)?;
                    } else {
                        return Err(format!("{place}: expected 'define TYPE {{', found '{t}'"));
                    }
                }
                Some(object) => {
                    if t == "}" {
                        if self.out.objects.len() >= MAX_OBJECTS {
                            return Err(format!("{place}: more than {MAX_OBJECTS} objects"));
                        }
                        self.out.objects.extend(current.take());
                        continue;
                    }
                    if t.starts_with("define") && t.ends_with('{') {
                        return Err(format!(
                            "{place}: a definition inside the {} definition of line {} (a '}}' missing?)",
                            object.kind, object.place.line
                        ));
                    }
                    let (name, value) = match t.split_once(char::is_whitespace) {
                        Some((n, v)) => (n, v.trim()),
                        None => (t.as_str(), ""),
                    };
                    if value.is_empty() {
                        return Err(format!("{place}: {} '{name}' has no value", object.kind));
                    }
                    object.directives.push(Directive {
                        name: name.to_string(),
                        value: value.to_string(),
                        line,
                    });
                }
            }
        }
        if let Some(object) = current {
            return Err(format!(
                "{}: the {} definition is not closed by '}}' before the end of the file",
                object.place, object.kind
            ));
        }
        Ok(())
    }
}

/// The object types of Nagios 4.
pub const KINDS: &[&str] = &[
    "command",
    "timeperiod",
    "contact",
    "contactgroup",
    "host",
    "hostgroup",
    "service",
    "servicegroup",
    "servicedependency",
    "hostdependency",
    "serviceescalation",
    "hostescalation",
    "hostextinfo",
    "serviceextinfo",
];

/// The lines of a file of `NAME=VALUE` settings (the main file, a resource file),
/// trimmed, with their places; blank lines and comments (`#`, `;`) left out.
fn setting_lines(path: &Path, text: &str) -> Vec<(Place, String)> {
    let file: Arc<str> = path.display().to_string().into();
    logical_lines(text)
        .into_iter()
        .filter_map(|(line, raw)| {
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
                return None;
            }
            let place = Place {
                file: file.clone(),
                line,
            };
            Some((place, t.to_string()))
        })
        .collect()
}

/// The lines of a text with a line ending in `\` joined to the next (as Nagios'
/// multi-line reader), each with the number of its first line.
pub fn logical_lines(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(u32, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let n = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let (start, mut acc) = pending.take().unwrap_or((n, String::new()));
        match line.strip_suffix('\\') {
            Some(head) => {
                acc.push_str(head);
                pending = Some((start, acc));
            }
            None => {
                acc.push_str(line);
                out.push((start, acc));
            }
        }
    }
    out.extend(pending);
    out
}

/// A line of an object file without its comment: none when it starts with `#` or `;`;
/// otherwise cut at the first `;` not written `\;`, and `\;` read as `;` (Nagios 4).
pub fn strip_comment(line: &str) -> String {
    let t = line.trim();
    if t.starts_with('#') || t.starts_with(';') {
        return String::new();
    }
    let mut out = String::with_capacity(t.len());
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&';') => {
                out.push(';');
                chars.next();
            }
            ';' => break,
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn comments_and_continuations() {
        assert_eq!(strip_comment("  # a comment"), "");
        assert_eq!(strip_comment("; a comment"), "");
        assert_eq!(strip_comment("alias  Web ; the web"), "alias  Web");
        assert_eq!(
            strip_comment(r"command_line  a\;b ; c"),
            "command_line  a;b"
        );
        assert_eq!(strip_comment("notes  a # b"), "notes  a # b");
        assert_eq!(
            logical_lines("a \\\nb\nc\n"),
            vec![(1, "a b".to_string()), (3, "c".to_string())]
        );
    }

    #[test]
    fn main_file_objects_and_resources() {
        let d = tempfile::tempdir().unwrap();
        write(
            d.path(),
            "resource.cfg",
            "# users\n$USER1$=/usr/lib/nagios/plugins\n$USER3$=secret\n",
        );
        write(
            d.path(),
            "objects/a.cfg",
            "define host {\n  host_name  web ; comment\n  address 10.0.0.1\n}\n",
        );
        write(
            d.path(),
            "conf.d/sub/b.cfg",
            "; a comment\ndefine command{\n command_name x\n command_line $USER1$/check_x \\\n -H $HOSTADDRESS$\n}\n",
        );
        write(d.path(), "conf.d/ignored.txt", "not read");
        let main = write(
            d.path(),
            "nagios.cfg",
            "log_file=/var/log/x\ncfg_file=objects/a.cfg\ncfg_dir=conf.d\nresource_file=resource.cfg\ninterval_length=60\n",
        );
        let n = read(&main).unwrap();
        assert_eq!(n.users.get(&1).unwrap(), "/usr/lib/nagios/plugins");
        assert_eq!(n.users.get(&3).unwrap(), "secret");
        assert_eq!(n.objects.len(), 2);
        let host = &n.objects[0];
        assert_eq!(host.kind, "host");
        assert_eq!(host.place.line, 1);
        assert!(host.place.file.ends_with("objects/a.cfg"));
        assert_eq!(host.get("host_name"), Some("web"));
        assert_eq!(host.directives[1].line, 3);
        let cmd = &n.objects[1];
        assert_eq!(
            cmd.get("command_line"),
            Some("$USER1$/check_x  -H $HOSTADDRESS$")
        );
        assert_eq!(n.setting("interval_length").unwrap().value, "60");
        assert_eq!(n.setting("interval_length").unwrap().place.line, 5);
    }

    #[test]
    fn errors_name_file_and_line() {
        let d = tempfile::tempdir().unwrap();
        let cases = [
            (
                "define host {\n host_name a\n",
                "a.cfg:1: the host definition is not closed",
            ),
            ("define hots {\n}\n", "a.cfg:1: unknown object type 'hots'"),
            (
                "host_name a\n",
                "a.cfg:1: expected 'define TYPE {', found 'host_name a'",
            ),
            (
                "define host {\n host_name\n}\n",
                "a.cfg:2: host 'host_name' has no value",
            ),
            // a '}' closes a definition only on a line of its own (Nagios)
            (
                "define host {\n host_name a }\n",
                "a.cfg:1: the host definition is not closed",
            ),
            (
                "define host {\n define service {\n}\n",
                "a.cfg:2: a definition inside the host definition of line 1",
            ),
            (
                "define host\n{\n}\n",
                "a.cfg:1: expected 'define TYPE {' with the '{' on the same line",
            ),
        ];
        for (text, want) in cases {
            write(d.path(), "a.cfg", text);
            let main = write(d.path(), "nagios.cfg", "cfg_file=a.cfg\n");
            let e = read(&main).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
        }
        let main = write(d.path(), "nagios.cfg", "cfg_file=missing.cfg\n");
        let e = read(&main).unwrap_err();
        assert!(
            e.contains("nagios.cfg:1: cannot read ") && e.contains("missing.cfg"),
            "{e}"
        );
        write(d.path(), "r.cfg", "$USER0$=x\n");
        let main = write(d.path(), "nagios.cfg", "\nresource_file=r.cfg\n");
        let e = read(&main).unwrap_err();
        assert!(
            e.ends_with("r.cfg:1: '$USER0$' is not a $USERn$ macro (n from 1 to 256)"),
            "{e}"
        );
        let main = write(d.path(), "nagios.cfg", "# x\nno equals sign\n");
        let e = read(&main).unwrap_err();
        assert!(
            e.ends_with("nagios.cfg:2: expected NAME=VALUE, found 'no equals sign'"),
            "{e}"
        );
    }
}
