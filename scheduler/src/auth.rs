//! Who may use the daemon's API, and as whom.
//!
//! Two ways in:
//! - **The control socket** (a Unix socket, `[daemon] socket`): the peer's uid comes
//!   from the kernel (`SO_PEERCRED`), so it cannot be forged. Root, the daemon's own
//!   user and the users named in `admin_users` or belonging to `admin_groups` may read
//!   and write; everyone else is refused. The author of an action is the peer's user
//!   name. `hcoop-monitor status/ack/downtime/...` use it, without any flag.
//! - **The TCP listener** (`[daemon] listen`): reads are open unless
//!   `require_auth_for_reads`; every write needs a token from the credentials file
//!   (`[daemon] credentials_file`, lines `NAME:SHA256-HEX-OF-TOKEN`, readable only by
//!   its owner, root or the daemon's user), sent as `Authorization: Bearer TOKEN` (or
//!   HTTP basic auth with the token as password). The author is the token's NAME.
//!   `hcoop-monitor token NAME` makes a token and adds its hash to the file.
//!
//! Whatever the client writes in an `author` field is ignored.

use anyhow::{bail, Context, Result};
use ring::digest::{digest, SHA256};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// The longest user or token name accepted.
pub const MAX_NAME: usize = 64;

/// Who is asking, as established by the listener the request came through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Peer {
    /// A connection to the control socket, with the peer's credentials from the kernel.
    Local { uid: u32, pid: i32 },
    /// A TCP connection.
    Remote(std::net::SocketAddr),
}

impl std::fmt::Display for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Peer::Local { uid, pid } => write!(f, "uid {uid} (pid {pid}) on the control socket"),
            Peer::Remote(a) => write!(f, "{a}"),
        }
    }
}

/// The identity a request acts as: the author of what it changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal(pub String);

/// A token's hash, as kept in the credentials file.
type Hash = [u8; 32];

fn sha256(token: &str) -> Hash {
    let d = digest(&SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Equal in a time that does not depend on where they differ.
fn same(a: &Hash, b: &Hash) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Whether a name may stand as an author: 1..=64 characters of letters, digits and
/// `._@-`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@-".contains(c))
}

/// The tokens of a credentials file, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tokens(BTreeMap<String, Hash>);

impl Tokens {
    /// Parses `NAME:SHA256HEX` lines (`#` comments and blank lines allowed).
    pub fn parse(text: &str, origin: &str) -> Result<Tokens> {
        let mut out = BTreeMap::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = format!("{origin}:{}", n + 1);
            let Some((name, hash)) = line.split_once(':') else {
                bail!("{at}: expected NAME:SHA256-HEX");
            };
            if !valid_name(name) {
                bail!("{at}: '{name}' is not a valid name (letters, digits, ._@-, at most {MAX_NAME})");
            }
            let Some(hash) = unhex(hash.trim()) else {
                bail!("{at}: the hash of '{name}' is not 64 hexadecimal digits");
            };
            if out.insert(name.to_string(), hash).is_some() {
                bail!("{at}: '{name}' is listed twice");
            }
        }
        Ok(Tokens(out))
    }

    /// Reads a credentials file, refusing one that other users could read or change.
    pub fn load(path: &Path) -> Result<Tokens> {
        let text = read_private(path)?;
        Tokens::parse(&text, &path.display().to_string())
    }

    /// The name whose token this is.
    pub fn verify(&self, token: &str) -> Option<&str> {
        let h = sha256(token);
        // every entry is compared, so the time does not tell which one matched
        let mut found = None;
        for (name, stored) in &self.0 {
            if same(stored, &h) && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }

    /// Whether `name`'s token is still the one whose SHA-256 is `hash`: a web session
    /// signed in with a token lasts only while that token is in the file.
    pub fn holds(&self, name: &str, hash: &[u8; 32]) -> bool {
        self.0.get(name).is_some_and(|h| same(h, hash))
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Reads a file that holds secrets: it must be a regular file owned by root or by this
/// process's user, and neither group-writable nor accessible to others.
pub fn read_private(path: &Path) -> Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a regular file", path.display());
    }
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != 0 && meta.uid() != me {
        bail!(
            "{} belongs to uid {}, not to root or to this daemon's user",
            path.display(),
            meta.uid()
        );
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o027 != 0 {
        bail!(
            "{} is open to other users (mode {mode:04o}): chmod 600 it",
            path.display()
        );
    }
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// A new random token (256 bits, hexadecimal).
pub fn new_token() -> Result<String> {
    let mut bytes = [0u8; 32];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| anyhow::anyhow!("no random numbers from the system"))?;
    Ok(hex(&bytes))
}

/// Makes a token for `name`, puts its hash into the credentials file (replacing an
/// older token of that name; the file is created with mode 0600) and returns it.
pub fn add_token(path: &Path, name: &str) -> Result<String> {
    if !valid_name(name) {
        bail!("'{name}' is not a valid name (letters, digits, ._@-, at most {MAX_NAME})");
    }
    // an existing file keeps its owner, group and mode (root:hcoop-monitor 0640, so
    // the daemon can read it); a new one is 0600, its maker's
    let (old, owner, mode) = match std::fs::symlink_metadata(path) {
        Ok(m) => (
            read_private(path)?,
            Some((m.uid(), m.gid())),
            m.permissions().mode() & 0o640,
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (String::new(), None, 0o600),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Tokens::parse(&old, &path.display().to_string())?;
    let token = new_token()?;
    let mut text: String = old
        .lines()
        .filter(|l| l.trim().split_once(':').is_none_or(|(n, _)| n != name))
        .map(|l| format!("{l}\n"))
        .collect();
    if text.is_empty() {
        text.push_str(
            "# hcoop-monitor API tokens: NAME:SHA256 of the token (hcoop-monitor token NAME)\n",
        );
    }
    text.push_str(&format!("{name}:{}\n", hex(&sha256(&token))));
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.new{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("tokens"),
        std::process::id()
    ));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&tmp)?;
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::fchown(&f, Some(uid), Some(gid))?;
        }
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write()
        .inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(token)
}

/// The credentials of an HTTP request: a bearer token, or the password of basic auth.
pub fn token_of(authorization: &str) -> Option<String> {
    let (scheme, value) = authorization.trim().split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(value.trim().to_string());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        use base64::Engine;
        let raw = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        return text.split_once(':').map(|(_, pw)| pw.to_string());
    }
    None
}

/// A user's name from its uid (`uid N` when it has none).
pub fn user_name(uid: u32) -> String {
    crate::privileges::user_name(uid).unwrap_or_else(|| format!("uid {uid}"))
}

/// A user's uid and primary gid from its name.
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    crate::privileges::lookup(name, None)
        .ok()
        .map(|a| (a.uid, a.gid))
}

/// A group's gid from its name.
pub fn group_id(name: &str) -> Option<u32> {
    crate::privileges::group_gid(name)
}

/// Who may use the control socket besides root and the daemon's own user.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Admins {
    pub users: Vec<String>,
    pub groups: Vec<String>,
}

impl Admins {
    /// Whether the peer with this uid may use the control socket.
    pub fn allows(&self, uid: u32) -> bool {
        // SAFETY: geteuid has no preconditions.
        if uid == 0 || uid == unsafe { libc::geteuid() } {
            return true;
        }
        let name = user_name(uid);
        if self.users.contains(&name) {
            return true;
        }
        if self.groups.is_empty() {
            return false;
        }
        let Ok(account) = crate::privileges::lookup(&name, None) else {
            return false;
        };
        let mine = account.groups;
        self.groups
            .iter()
            .filter_map(|g| group_id(g))
            .any(|g| mine.contains(&g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_verify_and_refuse() {
        let t = Tokens::parse(&format!("# c\n\nalice:{}\n", hex(&sha256("secret"))), "f").unwrap();
        assert_eq!(t.verify("secret"), Some("alice"));
        assert_eq!(t.verify("secreT"), None);
        assert_eq!(t.verify(""), None);
        for (text, want) in [
            ("bob", "f:1: expected NAME:SHA256-HEX"),
            ("b b:00", "f:1: 'b b' is not a valid name"),
            (
                "bob:xyz",
                "f:1: the hash of 'bob' is not 64 hexadecimal digits",
            ),
        ] {
            let e = Tokens::parse(text, "f").unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}");
        }
        let line = format!("a:{}", hex(&sha256("x")));
        let e = Tokens::parse(&format!("{line}\n{line}\n"), "f")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "f:2: 'a' is listed twice");
    }

    #[test]
    fn tokens_are_added_privately_and_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens");
        let t1 = add_token(&path, "alice").unwrap();
        let t2 = add_token(&path, "bob").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // an existing file keeps its group-readable mode
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let t3 = add_token(&path, "alice").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        assert_eq!(t1.len(), 64);
        let tokens = Tokens::load(&path).unwrap();
        assert_eq!(tokens.len(), 2);
        assert_eq!(tokens.verify(&t1), None);
        assert_eq!(tokens.verify(&t2), Some("bob"));
        assert_eq!(tokens.verify(&t3), Some("alice"));
        assert!(add_token(&path, "no way").is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Tokens::load(&path).unwrap_err().to_string();
        assert!(e.contains("is open to other users (mode 0644)"), "{e}");
    }

    proptest::proptest! {
        /// Whatever bytes a credentials file, an Authorization header or an admin's
        /// input holds, the answer is a value or an error, never a panic.
        #[test]
        fn outside_input_never_panics(text in "\\PC*", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let lossy = String::from_utf8_lossy(&bytes).into_owned();
            for t in [&text, &lossy] {
                let _ = Tokens::parse(t, "f");
                let _ = token_of(t);
                let _ = valid_name(t);
            }
        }
    }

    #[test]
    fn authorization_headers() {
        assert_eq!(token_of("Bearer abc"), Some("abc".into()));
        assert_eq!(token_of("bearer  abc "), Some("abc".into()));
        // basic auth: alice:pw
        assert_eq!(token_of("Basic YWxpY2U6cHc="), Some("pw".into()));
        assert_eq!(token_of("Basic !!"), None);
        assert_eq!(token_of("Digest x"), None);
        assert_eq!(token_of("abc"), None);
    }

    #[test]
    fn names() {
        assert!(valid_name("alice.b-c@x_1"));
        assert!(!valid_name(""));
        assert!(!valid_name("a b"));
        assert!(!valid_name("é"));
        assert!(!valid_name(&"a".repeat(65)));
        assert_eq!(user_name(0), "root");
        assert_eq!(user_ids("root"), Some((0, 0)));
        assert!(Admins::default().allows(0));
        assert!(!Admins::default().allows(65534));
        let admins = Admins {
            users: vec!["nobody".into()],
            groups: vec![],
        };
        assert!(admins.allows(65534));
    }
}
