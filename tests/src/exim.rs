//! A real Exim (Debian's exim4-daemon-light) with its own configuration, spool and log
//! in a temporary directory: messages are queued with `exim -odq` (or after a delivery
//! attempt to an unreachable host with `-odi`), so tests get a real queue on demand.

use crate::require;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// An Exim configuration and spool in a temp dir. Every remote delivery goes to
/// 127.0.0.1 port 1, where nothing listens, so messages stay in the queue.
pub struct Exim {
    dir: tempfile::TempDir,
    exim: PathBuf,
}

impl Exim {
    /// Writes the configuration and creates the spool (owned by Debian-exim). Needs root.
    pub fn new() -> Exim {
        assert!(crate::is_root(), "Exim's spool needs root");
        let exim = require("/usr/sbin/exim4", "exim4-daemon-light");
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        // Exim's delivery processes run as Debian-exim and must reach the spool
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        for sub in ["spool", "log"] {
            std::fs::create_dir(d.join(sub)).expect("mkdir");
        }
        let chown = Command::new("chown")
            .args(["-R", "Debian-exim:Debian-exim"])
            .arg(d.join("spool"))
            .arg(d.join("log"))
            .status()
            .expect("run chown");
        assert!(chown.success(), "chown of the Exim spool failed");
        let conf = format!(
            "spool_directory = {d}/spool\n\
             log_file_path = {d}/log/%slog\n\
             primary_hostname = main.test\n\
             qualify_domain = main.test\n\
             keep_environment =\n\
             begin routers\n\
             all:\n  driver = manualroute\n  route_list = * 127.0.0.1\n  transport = smtp_out\n  self = send\n\
             begin transports\n\
             smtp_out:\n  driver = smtp\n  port = 1\n\
             begin retry\n\
             * * F,1h,10m\n",
            d = d.display()
        );
        std::fs::write(d.join("exim.conf"), conf).expect("write exim.conf");
        Exim { dir, exim }
    }

    /// The Exim binary.
    pub fn binary(&self) -> &Path {
        &self.exim
    }

    /// The configuration file (for `exim -C`).
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("exim.conf")
    }

    fn exim(&self, args: &[&str]) -> Command {
        let mut c = Command::new(&self.exim);
        c.arg("-C").arg(self.config()).args(args);
        c
    }

    /// Submits a message from `sender` to `recipients`; `attempt` tries a delivery
    /// first (refused, so deferred), otherwise it is only queued. Returns its id.
    pub fn submit(&self, sender: &str, recipients: &[&str], attempt: bool) -> String {
        let before = self.ids();
        let mode = if attempt { "-odi" } else { "-odq" };
        let mut child = self
            .exim(&[mode, "-f", sender])
            .args(recipients)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run exim");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"Subject: test\n\nhello\n")
            .expect("write message");
        assert!(
            child.wait().expect("wait exim").success(),
            "exim refused the message"
        );
        self.ids()
            .into_iter()
            .find(|id| !before.contains(id))
            .expect("the new message is in the queue")
    }

    /// Freezes a queued message (`exim -Mf`).
    pub fn freeze(&self, id: &str) {
        let st = self
            .exim(&["-Mf", id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("exim -Mf");
        assert!(st.success(), "exim -Mf {id} failed");
    }

    /// The ids of the queued messages (the third field of each `exim -bp` header line).
    pub fn ids(&self) -> Vec<String> {
        let o = self
            .exim(&["-bp"])
            .stderr(Stdio::null())
            .output()
            .expect("exim -bp");
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2))
            .filter(|id| id.matches('-').count() == 2)
            .map(str::to_string)
            .collect()
    }
}

impl Default for Exim {
    fn default() -> Self {
        Exim::new()
    }
}

/// Exim's list of configuration files that keep root privileges with `-C`.
const TRUSTED_CONFIGS: &str = "/etc/exim4/trusted_configs";

/// Lets `exim -C conf` keep root (needed to deliver as a local user or as Debian-exim)
/// by listing `conf` in Exim's trusted configuration list. Entries whose files are
/// gone (temp dirs of earlier tests) are dropped as it goes: Exim reads only the first
/// 32 lines, so a list that only grew would stop trusting new configurations.
pub fn trust_config(conf: &Path) {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _held = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let list = Path::new(TRUSTED_CONFIGS);
    let listed = std::fs::read_to_string(list).unwrap_or_default();
    let line = conf.display().to_string();
    let mut kept: Vec<&str> = listed
        .lines()
        .filter(|l| *l != line && (l.trim().is_empty() || Path::new(l.trim()).exists()))
        .collect();
    kept.push(&line);
    let tmp = list.with_extension("hcoop-tests");
    std::fs::write(&tmp, kept.join("\n") + "\n").unwrap();
    std::fs::rename(&tmp, list).unwrap();
}
