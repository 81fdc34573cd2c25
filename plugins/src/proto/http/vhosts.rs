//! The virtual hosts to request: one target, or the many of a list file or of the
//! `<VirtualHost>` blocks of an Apache configuration (with `Include` and
//! `IncludeOptional` followed); and the statuses a target expects (`-e`).

use super::Url;
use std::path::{Path, PathBuf};

/// One item of `-e`.
#[derive(Debug, Clone, PartialEq)]
pub enum ExpectStatus {
    Code(u16),
    Text(String),
}

impl ExpectStatus {
    /// True when a reply's status (or status line) is this one.
    pub fn matches(&self, status: u16, status_line: &str) -> bool {
        match self {
            ExpectStatus::Code(c) => status == *c,
            ExpectStatus::Text(t) => status_line.contains(t.as_str()),
        }
    }
}

/// Parses `-e`: three-digit codes, or strings to find in the status line.
pub fn parse_expect(s: &str) -> Result<Vec<ExpectStatus>, String> {
    let items: Vec<ExpectStatus> = s
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.parse::<u16>() {
            Ok(c) if (100..600).contains(&c) && t.len() == 3 => ExpectStatus::Code(c),
            _ => ExpectStatus::Text(t.to_string()),
        })
        .collect();
    if items.is_empty() {
        return Err("-e names no status".into());
    }
    Ok(items)
}

/// One virtual host to check.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The name sent in `Host` and TLS SNI.
    pub vhost: String,
    /// The address to connect to (default: the name).
    pub address: Option<String>,
    pub port: u16,
    pub tls: bool,
    /// Path and query.
    pub uri: String,
    /// Expected status for this virtual host (default: the check's `-e`).
    pub expect: Option<Vec<ExpectStatus>>,
}

impl Target {
    /// The URL of the first request.
    pub fn url(&self) -> Url {
        Url {
            tls: self.tls,
            host: self.vhost.clone(),
            port: self.port,
            target: self.uri.clone(),
        }
    }

    /// How the virtual host is named in output: its URL without a default port.
    pub fn label(&self) -> String {
        self.url().to_string()
    }
}

/// Splits `ADDRESS[:PORT]` (IPv6 in brackets).
pub(crate) fn split_address(a: &str) -> Result<(String, Option<u16>), String> {
    if let Some(rest) = a.strip_prefix('[') {
        let (host, tail) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{a}': missing ]"))?;
        return match tail.strip_prefix(':') {
            Some(p) => Ok((host.to_string(), Some(port_of(p)?))),
            None => Ok((host.to_string(), None)),
        };
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => Ok((h.to_string(), Some(port_of(p)?))),
        _ => Ok((a.to_string(), None)),
    }
}

fn port_of(p: &str) -> Result<u16, String> {
    match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("'{p}' is not a port")),
    }
}

/// Parses one line of a vhosts file: `NAME [ADDRESS[:PORT]] [/URI] [STATUS,...]`.
pub fn parse_vhost_line(line: &str, defaults: &Target) -> Result<Option<Target>, String> {
    let line = line.split('#').next().unwrap_or("").trim();
    if line.is_empty() {
        return Ok(None);
    }
    let mut fields = line.split_whitespace();
    let first = fields.next().unwrap_or("");
    let mut t = Target {
        vhost: String::new(),
        ..defaults.clone()
    };
    let (scheme_tls, rest) = if let Some(r) = first.strip_prefix("https://") {
        (Some(true), r)
    } else if let Some(r) = first.strip_prefix("http://") {
        (Some(false), r)
    } else {
        (None, first)
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], Some(&rest[i..])),
        None => (rest, None),
    };
    let (name, port) = split_address(authority)?;
    if let Some(tls) = scheme_tls {
        t.tls = tls;
        t.port = if tls { 443 } else { 80 };
    }
    if let Some(p) = port {
        t.port = p;
    }
    if let Some(p) = path {
        t.uri = p.to_string();
    }
    if name.is_empty() {
        return Err(format!("'{first}' names no host"));
    }
    t.vhost = name;
    for f in fields {
        if f.starts_with('/') {
            t.uri = f.to_string();
        } else if f
            .split(',')
            .all(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_digit()))
        {
            t.expect = Some(parse_expect(f)?);
        } else {
            let (addr, port) = split_address(f)?;
            t.address = Some(addr);
            if let Some(p) = port {
                t.port = p;
            }
        }
    }
    Ok(Some(t))
}

/// Reads a vhosts file.
pub fn from_file(path: &Path, defaults: &Target) -> Result<Vec<Target>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--vhosts-from {}: {e}", path.display()))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if let Some(t) = parse_vhost_line(line, defaults)
            .map_err(|e| format!("{} line {}: {e}", path.display(), i + 1))?
        {
            out.push(t);
        }
    }
    if out.is_empty() {
        return Err(format!("{} lists no virtual host", path.display()));
    }
    Ok(out)
}

/// A `<VirtualHost>` block as parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ApacheVhost {
    /// The first address of the block (`*:443`, `192.0.2.1:80`).
    pub address: String,
    pub server_name: Option<String>,
    pub aliases: Vec<String>,
    pub ssl: bool,
    /// Where it was defined, for messages.
    pub source: String,
}

/// Matches a file name against a pattern with `*` and `?`.
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            wildcard(&pattern[1..], name) || (!name.is_empty() && wildcard(pattern, &name[1..]))
        }
        (Some(b'?'), Some(_)) => wildcard(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The files an `Include` names: a file, a directory (every file in it), or a wildcard
/// in the last component; sorted, as Apache reads them.
fn expand_include(pattern: &str, root: &Path) -> Vec<PathBuf> {
    let p = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        root.join(pattern)
    };
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let mut out = Vec::new();
    if name.contains(['*', '?']) {
        let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let n = e.file_name().to_string_lossy().to_string();
                if wildcard(name.as_bytes(), n.as_bytes()) && e.path().is_file() {
                    out.push(e.path());
                }
            }
        }
    } else if p.is_dir() {
        if let Ok(rd) = std::fs::read_dir(&p) {
            for e in rd.flatten() {
                if e.path().is_file() {
                    out.push(e.path());
                } else if e.path().is_dir() {
                    out.extend(expand_include(&e.path().to_string_lossy(), root));
                }
            }
        }
    } else if p.is_file() {
        out.push(p);
    }
    out.sort();
    out
}

/// Parses Apache configuration text, following includes relative to `root`.
/// `depth` stops include loops.
fn parse_apache_text(
    text: &str,
    source: &Path,
    root: &Path,
    depth: usize,
    out: &mut Vec<ApacheVhost>,
) -> Result<(), String> {
    if depth > 16 {
        return Err(format!("{}: includes nested too deeply", source.display()));
    }
    let mut current: Option<ApacheVhost> = None;
    let mut logical = String::new();
    for (i, raw) in text.lines().enumerate() {
        // a trailing backslash continues the line
        if let Some(l) = raw.strip_suffix('\\') {
            logical.push_str(l);
            logical.push(' ');
            continue;
        }
        logical.push_str(raw);
        let line = std::mem::take(&mut logical);
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let directive = words.next().unwrap_or("").to_ascii_lowercase();
        let args: Vec<&str> = words.map(|w| w.trim_matches('"')).collect();
        match directive.as_str() {
            "<virtualhost" => {
                if current.is_some() {
                    return Err(format!(
                        "{} line {}: nested <VirtualHost>",
                        source.display(),
                        i + 1
                    ));
                }
                let addr = args
                    .first()
                    .map(|a| a.trim_end_matches('>').to_string())
                    .unwrap_or_default();
                current = Some(ApacheVhost {
                    address: addr,
                    source: format!("{}:{}", source.display(), i + 1),
                    ..Default::default()
                });
            }
            "</virtualhost>" => match current.take() {
                Some(v) => out.push(v),
                None => {
                    return Err(format!(
                        "{} line {}: </VirtualHost> without <VirtualHost>",
                        source.display(),
                        i + 1
                    ))
                }
            },
            "servername" => {
                if let (Some(v), Some(n)) = (current.as_mut(), args.first()) {
                    // ServerName may carry a scheme and port: keep the host
                    let n = n
                        .trim_start_matches("https://")
                        .trim_start_matches("http://");
                    let host = split_address(n)
                        .map(|(h, _)| h)
                        .unwrap_or_else(|_| n.to_string());
                    v.server_name = Some(host);
                }
            }
            "serveralias" => {
                if let Some(v) = current.as_mut() {
                    v.aliases.extend(args.iter().map(|a| a.to_string()));
                }
            }
            "sslengine" => {
                if let Some(v) = current.as_mut() {
                    v.ssl = args.first().is_some_and(|a| a.eq_ignore_ascii_case("on"));
                }
            }
            "include" | "includeoptional" => {
                let Some(pattern) = args.first() else {
                    continue;
                };
                let files = expand_include(pattern, root);
                if files.is_empty() && directive == "include" && !pattern.contains(['*', '?']) {
                    return Err(format!(
                        "{} line {}: Include {pattern}: no such file",
                        source.display(),
                        i + 1
                    ));
                }
                for f in files {
                    let text =
                        std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
                    parse_apache_text(&text, &f, root, depth + 1, out)?;
                }
            }
            _ => {}
        }
    }
    if let Some(v) = current {
        return Err(format!(
            "{}: <VirtualHost> at {} is not closed",
            source.display(),
            v.source
        ));
    }
    Ok(())
}

/// Reads the `<VirtualHost>` blocks of an Apache configuration: a file, or a directory
/// whose files are all read (its `apache2.conf` or `httpd.conf` alone when it has one).
pub fn parse_apache(path: &Path) -> Result<Vec<ApacheVhost>, String> {
    let (files, root) = if path.is_dir() {
        let main = ["apache2.conf", "httpd.conf"]
            .iter()
            .map(|n| path.join(n))
            .find(|p| p.is_file());
        match main {
            Some(m) => (vec![m], path.to_path_buf()),
            None => (
                expand_include(&path.to_string_lossy(), path),
                path.to_path_buf(),
            ),
        }
    } else if path.is_file() {
        (
            vec![path.to_path_buf()],
            path.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    } else {
        return Err(format!(
            "--apache-config {}: no such file or directory",
            path.display()
        ));
    };
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
        parse_apache_text(&text, &f, &root, 0, &mut out)?;
    }
    Ok(out)
}

/// The targets of an Apache configuration: each ServerName (and alias, with
/// `aliases`), connecting to the block's address when it is one and to `-I` or the
/// name otherwise.
pub fn from_apache(path: &Path, defaults: &Target, aliases: bool) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    for v in parse_apache(path)? {
        let Some(name) = v.server_name.clone() else {
            continue;
        };
        let (addr, port) = split_address(&v.address).unwrap_or((v.address.clone(), None));
        let address = match addr.as_str() {
            "*" | "_default_" | "" => defaults.address.clone(),
            a => Some(a.to_string()),
        };
        let port = port.unwrap_or(if v.ssl { 443 } else { 80 });
        let mut names = vec![name];
        if aliases {
            names.extend(
                v.aliases
                    .iter()
                    .filter(|a| !a.contains(['*', '?']))
                    .cloned(),
            );
        }
        for n in names {
            let t = Target {
                vhost: n,
                address: address.clone(),
                port,
                tls: v.ssl,
                uri: defaults.uri.clone(),
                expect: None,
            };
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    if out.is_empty() {
        return Err(format!(
            "--apache-config {}: no <VirtualHost> with a ServerName",
            path.display()
        ));
    }
    Ok(out)
}

/// Where the many virtual hosts come from: read at each check, so validating the
/// command line reads no file.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// `--vhosts-from FILE`.
    List(PathBuf),
    /// `--apache-config PATH`, with each ServerAlias too when `aliases`.
    Apache { path: PathBuf, aliases: bool },
}

impl Source {
    /// Reads the targets, with `defaults` for what a line or block does not say.
    pub fn read(&self, defaults: &Target) -> Result<Vec<Target>, String> {
        let targets = match self {
            Source::List(f) => from_file(f, defaults)?,
            Source::Apache { path, aliases } => from_apache(path, defaults, *aliases)?,
        };
        if targets.is_empty() {
            return Err("no virtual host to check".into());
        }
        Ok(targets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Target {
        Target {
            vhost: String::new(),
            address: Some("127.0.0.1".into()),
            port: 80,
            tls: false,
            uri: "/".into(),
            expect: None,
        }
    }

    #[test]
    fn vhost_lines() {
        let d = defaults();
        assert_eq!(parse_vhost_line("  # comment", &d).unwrap(), None);
        let t = parse_vhost_line("www.a.test", &d).unwrap().unwrap();
        assert_eq!(t.label(), "http://www.a.test/");
        assert_eq!(t.address.as_deref(), Some("127.0.0.1"));
        let t = parse_vhost_line("https://b.test:8443/x 127.0.0.2 404,410", &d)
            .unwrap()
            .unwrap();
        assert_eq!(t.label(), "https://b.test:8443/x");
        assert_eq!(t.address.as_deref(), Some("127.0.0.2"));
        assert_eq!(
            t.expect,
            Some(vec![ExpectStatus::Code(404), ExpectStatus::Code(410)])
        );
        let t = parse_vhost_line("c.test [::1]:81 /health", &d)
            .unwrap()
            .unwrap();
        assert_eq!(
            (t.address.as_deref(), t.port, t.uri.as_str()),
            (Some("::1"), 81, "/health")
        );
        assert!(parse_vhost_line("c.test 1.2.3.4:99999", &d).is_err());
    }

    #[test]
    fn wildcards() {
        assert!(wildcard(b"*.conf", b"a.conf"));
        assert!(!wildcard(b"*.conf", b"a.conf.bak"));
        assert!(wildcard(b"site?", b"site1"));
    }

    #[test]
    fn apache_config() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("sites-enabled")).unwrap();
        std::fs::write(
            root.join("apache2.conf"),
            "ServerRoot /etc/apache2\nIncludeOptional sites-enabled/*.conf\nIncludeOptional conf-enabled/*.conf\n",
        )
        .unwrap();
        std::fs::write(
            root.join("sites-enabled/a.conf"),
            "<VirtualHost *:80>\n  ServerName a.test\n  ServerAlias www.a.test *.a.test\n</VirtualHost>\n\
<VirtualHost 127.0.0.5:443>\n  ServerName https://a.test:443\n  SSLEngine on\n</VirtualHost>\n",
        )
        .unwrap();
        std::fs::write(
            root.join("sites-enabled/b.conf"),
            "<VirtualHost *:8080>\n\tServerName b.test\n\tInclude sites-enabled/b.inc\n</VirtualHost>\n",
        )
        .unwrap();
        std::fs::write(root.join("sites-enabled/b.inc"), "# nothing\n").unwrap();
        let v = parse_apache(root).unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].aliases, vec!["www.a.test", "*.a.test"]);
        let t = from_apache(root, &defaults(), true).unwrap();
        let labels: Vec<String> = t.iter().map(Target::label).collect();
        assert_eq!(
            labels,
            [
                "http://a.test/",
                "http://www.a.test/",
                "https://a.test/",
                "http://b.test:8080/"
            ]
        );
        assert_eq!(t[2].address.as_deref(), Some("127.0.0.5"));
        assert_eq!(t[0].address.as_deref(), Some("127.0.0.1"));
        std::fs::write(
            root.join("sites-enabled/c.conf"),
            "<VirtualHost *:80>\nServerName c\n",
        )
        .unwrap();
        assert!(parse_apache(root).unwrap_err().contains("is not closed"));
    }
}
