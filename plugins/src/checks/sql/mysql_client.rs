//! What check_mysql and check_mysql_query share: the connection options with
//! monitoring-plugins' letters (`-H` a host or a socket path, `-P`, `-s`, `-d`, `-u`,
//! `-f` an options file, `-g` its group), the client options file read as the MySQL
//! client library reads it (`[client]` and the named group; `~/.my.cnf` when no file is
//! given), the user running the check as the default login, and the driver's errors
//! and values as text.

use super::{Failure, Password};
use crate::plugin::{parse_host, parse_port};
use mysql_async::{OptsBuilder, Row, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The socket when neither `-H` nor `-s` (nor the options file) names one.
pub const DEFAULT_SOCKET: &str = "/run/mysqld/mysqld.sock";

/// The most of an options file that is read.
const MAX_OPTIONS_FILE: u64 = 64 * 1024;

/// A host name or address, or an absolute path (a unix socket), as Debian's `-H` takes.
pub fn parse_mysql_host(text: &str) -> Result<String, String> {
    if text.starts_with('/') {
        if text.len() > 4096 || text.chars().any(char::is_control) {
            return Err(format!(
                "invalid socket path '{}'",
                crate::plugin::shown(text)
            ));
        }
        return Ok(text.to_string());
    }
    parse_host(text)
}

/// Where and as whom to connect (monitoring-plugins' check_mysql letters).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ConnArgs {
    /// Host name or address; an absolute path is a unix socket; without -H (or with
    /// localhost) the unix socket of -s is used
    #[arg(short = 'H', long = "hostname", value_name = "HOST", value_parser = parse_mysql_host)]
    pub host: Option<String>,

    /// Port number (default: 3306)
    #[arg(short = 'P', long = "port", value_parser = parse_port)]
    pub port: Option<u16>,

    /// Unix socket (used when -H is not given; default /run/mysqld/mysqld.sock)
    #[arg(short = 's', long = "socket", value_name = "PATH")]
    pub socket: Option<String>,

    /// Database to connect to
    #[arg(short = 'd', long = "database", value_name = "NAME")]
    pub database: Option<String>,

    /// User name (default: the options file's, else the user running the check)
    #[arg(short = 'u', long = "username", value_name = "USER")]
    pub user: Option<String>,

    /// Read the [client] group (and -g's) of this client options file instead of
    /// ~/.my.cnf
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// Read this group of the options file too (after [client])
    #[arg(short = 'g', long = "group", value_name = "GROUP")]
    pub group: Option<String>,
}

/// The options of `groups` in a client options file's text: `key = value` lines of the
/// named `[group]` sections, later ones winning; `#` and `;` start comments; `-` and `_`
/// are the same in keys; quotes around a value are removed.
pub fn option_groups(text: &str, groups: &[&str]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut on = false;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            on = groups.iter().any(|g| g.eq_ignore_ascii_case(name.trim()));
            continue;
        }
        if !on {
            continue;
        }
        let (key, value) = match line.split_once('=') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line, ""),
        };
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        out.insert(
            key.replace('-', "_").to_ascii_lowercase(),
            value.to_string(),
        );
    }
    out
}

/// Reads an options file (at most 64 KiB). `-f`'s file (`named`) must be readable; the
/// default `~/.my.cnf` is skipped, as the MySQL client library skips it, when it does
/// not exist or cannot be opened (a daemon that left root may not read it), and its
/// other errors say `~/.my.cnf`, not `-f`.
fn read_options_file(path: &Path, named: bool) -> Result<Option<String>, String> {
    use std::io::Read;
    let label = |e: std::io::Error| match named {
        true => format!("-f {}: {e}", path.display()),
        false => format!("~/.my.cnf: {e}"),
    };
    // a FIFO or device must not hang the check: regular files only
    match crate::host::files::open_regular(path, false) {
        Ok(f) => {
            let mut text = String::new();
            f.take(MAX_OPTIONS_FILE)
                .read_to_string(&mut text)
                .map_err(label)?;
            Ok(Some(text))
        }
        Err(e) if !named && default_file_absent(&e) => Ok(None),
        Err(e) => Err(label(e)),
    }
}

/// Whether an error opening the default `~/.my.cnf` means "no such file" for the check.
fn default_file_absent(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        e.kind(),
        ErrorKind::NotFound | ErrorKind::PermissionDenied | ErrorKind::NotADirectory
    )
}

/// The home directory of the effective user, from the user database (not `$HOME`,
/// which a daemon that left root may have inherited from root).
pub fn home_dir() -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc::geteuid() };
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: a zeroed passwd is a valid out value (null pointers, zero ids).
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: pw, buf (its length) and out are valid for the call.
        let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
        if rc == libc::ERANGE && size < 1 << 20 {
            size *= 4;
            continue;
        }
        if rc != 0 || out.is_null() || pw.pw_dir.is_null() {
            return None;
        }
        // SAFETY: pw_dir points into buf, a NUL-terminated string; copied before buf goes.
        let dir = unsafe { std::ffi::CStr::from_ptr(pw.pw_dir) };
        if dir.to_bytes().is_empty() {
            return None;
        }
        return Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())));
    }
}

/// The name of the user running the check, as the MySQL client library takes it.
pub fn current_user() -> String {
    // SAFETY: getpwuid returns a pointer into static storage or null; the name is
    // copied out at once.
    unsafe {
        let uid = libc::geteuid();
        if uid == 0 {
            return "root".into();
        }
        let pw = libc::getpwuid(uid);
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
    }
    std::env::var("USER").unwrap_or_else(|_| "UNKNOWN_USER".into())
}

impl ConnArgs {
    /// How the check names its server in messages (`database 'x'`, `server`).
    pub fn target(&self) -> String {
        match &self.database {
            Some(d) => format!("database '{d}'"),
            None => "server".to_string(),
        }
    }

    /// The driver's options: the options file (read now: this runs when the check
    /// runs), then the command line over it; `password` wins over the file's.
    pub fn opts(&self, password: &Password) -> Result<OptsBuilder, Failure> {
        let file = match &self.file {
            Some(f) => read_options_file(f, true).map_err(Failure::unusable)?,
            None => match home_dir() {
                Some(home) => {
                    read_options_file(&home.join(".my.cnf"), false).map_err(Failure::unusable)?
                }
                None => None,
            },
        };
        let mut groups = vec!["client"];
        if let Some(g) = &self.group {
            groups.push(g);
        }
        let o = file.map(|t| option_groups(&t, &groups)).unwrap_or_default();
        let given = password.read().map_err(Failure::unusable)?;
        let pass = given.or_else(|| o.get("password").cloned());
        let user = self
            .user
            .clone()
            .or_else(|| o.get("user").cloned())
            .unwrap_or_else(current_user);
        let db = self.database.clone().or_else(|| o.get("database").cloned());
        let port = match self.port {
            Some(p) => p,
            None => match o.get("port") {
                Some(p) => {
                    parse_port(p).map_err(|e| Failure::unusable(format!("options file: {e}")))?
                }
                None => 3306,
            },
        };
        let host = self.host.clone().or_else(|| o.get("host").cloned());
        let socket = self
            .socket
            .clone()
            .or_else(|| o.get("socket").cloned())
            .unwrap_or_else(|| DEFAULT_SOCKET.to_string());
        let opts = OptsBuilder::default()
            .user(Some(user))
            .pass(pass)
            .db_name(db)
            .prefer_socket(false)
            .stmt_cache_size(0);
        Ok(match host.as_deref() {
            None | Some("localhost") => opts.socket(Some(socket)),
            Some(path) if path.starts_with('/') => opts.socket(Some(path.to_string())),
            Some(h) => opts.ip_or_hostname(h).tcp_port(port),
        })
    }
}

/// The reason in a driver error: the server's message, else the error itself.
pub fn reason(e: &mysql_async::Error) -> String {
    match e {
        mysql_async::Error::Server(s) => s.message.clone(),
        mysql_async::Error::Io(io) => io.to_string(),
        other => other.to_string(),
    }
}

/// The server's error code, when the error is the server's.
pub fn server_code(e: &mysql_async::Error) -> Option<u16> {
    match e {
        mysql_async::Error::Server(s) => Some(s.code),
        _ => None,
    }
}

/// A value as text (`None` for NULL).
pub fn val(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// The `i`th value of a row as text.
pub fn at(row: &Row, i: usize) -> Option<String> {
    val(row.as_ref(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_file_groups() {
        let text = "[mysqld]\nuser=mysql\n[client]\n# comment\nuser = monitor\npassword=\"p w\"\n\
                    [nagios]\npassword='s3cret'\nsocket=/tmp/s\n[other]\nuser=x\n";
        let o = option_groups(text, &["client"]);
        assert_eq!(o.get("user").map(String::as_str), Some("monitor"));
        assert_eq!(o.get("password").map(String::as_str), Some("p w"));
        let o = option_groups(text, &["client", "nagios"]);
        assert_eq!(o.get("password").map(String::as_str), Some("s3cret"));
        assert_eq!(o.get("socket").map(String::as_str), Some("/tmp/s"));
        assert_eq!(o.get("user").map(String::as_str), Some("monitor"));
    }

    #[test]
    fn host_or_socket() {
        assert_eq!(
            parse_mysql_host("/run/mysqld/mysqld.sock").unwrap(),
            "/run/mysqld/mysqld.sock"
        );
        assert!(parse_mysql_host("/a\nb").is_err());
        assert!(parse_mysql_host("db\nx").is_err());
        assert_eq!(parse_mysql_host("127.0.0.1").unwrap(), "127.0.0.1");
    }

    #[test]
    fn a_named_options_file_must_exist() {
        let c = ConnArgs {
            file: Some("/nonexistent/my.cnf".into()),
            ..Default::default()
        };
        let e = c.opts(&Password::None).unwrap_err();
        assert!(e.text.starts_with("-f /nonexistent/my.cnf: "), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("my.cnf");
        std::fs::write(&f, "[client]\nuser=u\nport=3307\nhost=127.0.0.2\n").unwrap();
        let c = ConnArgs {
            file: Some(f),
            ..Default::default()
        };
        let o = mysql_async::Opts::from(c.opts(&Password::Given("p".into())).unwrap());
        assert_eq!(
            (o.user(), o.pass(), o.ip_or_hostname(), o.tcp_port()),
            (Some("u"), Some("p"), "127.0.0.2", 3307)
        );
    }

    #[test]
    fn the_default_options_file_is_the_users_not_homes() {
        // $HOME names another user's directory (a daemon that left root inherits
        // root's): its .my.cnf must not be read
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(".my.cnf"), "[client]\nuser=from_home\n").unwrap();
        // nextest runs each test in its own process: changing the environment is safe
        std::env::set_var("HOME", dir.path());
        let home = home_dir().expect("the user has a home directory");
        assert_ne!(home, dir.path());
        let o = mysql_async::Opts::from(ConnArgs::default().opts(&Password::None).unwrap());
        assert_ne!(o.user(), Some("from_home"));
    }

    #[test]
    fn an_unreadable_default_options_file_is_absent() {
        use std::io::{Error, ErrorKind};
        assert!(default_file_absent(&Error::from(ErrorKind::NotFound)));
        assert!(default_file_absent(&Error::from(
            ErrorKind::PermissionDenied
        )));
        assert!(!default_file_absent(&Error::other("disk on fire")));
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join(".my.cnf");
        assert_eq!(read_options_file(&missing, false), Ok(None));
        // a -f file's errors are reported, labelled -f; the default one's say ~/.my.cnf
        let e = read_options_file(&missing, true).unwrap_err();
        assert_eq!(
            e,
            format!(
                "-f {}: No such file or directory (os error 2)",
                missing.display()
            )
        );
        std::fs::create_dir(&missing).unwrap();
        let e = read_options_file(&missing, false).unwrap_err();
        assert!(e.starts_with("~/.my.cnf: "), "{e}");
    }

    #[test]
    fn a_fifo_options_file_is_refused_at_once() {
        let fifo = crate::plugin::regular_file::test_fifo("my.cnf");
        let started = std::time::Instant::now();
        assert_eq!(
            read_options_file(&fifo, true).unwrap_err(),
            format!("-f {}: not a regular file", fifo.display())
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
