//! The setup the daemon's end-to-end scenarios share: a daemon with a directory its
//! contacts' commands write into, plugin scripts the test rewrites, a pager contact
//! with the defaults around it, a restart as another user, and the command file it
//! makes.

use crate::daemon::Daemon;
use std::fs::Metadata;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A daemon started on an empty configuration, its temp dir, and the directory `out`
/// in it, writable by all (contacts' commands run as the plugin user).
pub fn daemon_with_out() -> (Daemon, PathBuf, PathBuf) {
    let d = Daemon::start("");
    let dir = d.dir.path().to_path_buf();
    let out = dir.join("out");
    std::fs::create_dir(&out).unwrap();
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o777)).unwrap();
    (d, dir, out)
}

/// Replaces the shell script `path` (atomically: a check running it reads the old one
/// or the new one) by one printing `text` and exiting `code`.
pub fn set_script(path: &Path, code: i32, text: &str) {
    let name = path.file_name().expect("a script's file name");
    let tmp = path.with_file_name(format!(".{}", name.to_string_lossy()));
    std::fs::write(&tmp, format!("echo '{text}'\nexit {code}\n")).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

/// `[defaults]` (after an empty line) checking and retrying every second,
/// `max_check_attempts` making a problem hard; more defaults may follow.
pub fn every_second(max_check_attempts: u32) -> String {
    format!(
        "\n[defaults]\ncheck_interval = \"1s\"\nretry_interval = \"1s\"\n\
         max_check_attempts = {max_check_attempts}\n"
    )
}

/// [`every_second`] defaults, a problem notified once to `pager`, a contact whose
/// command appends a line (type, host/service, state) to `out/pager`.
pub fn pager_defaults(out: &Path, max_check_attempts: u32) -> String {
    format!(
        r#"{defaults}notification_interval = "0s"
contacts = ["pager"]

[[contact]]
name = "pager"
command = "/bin/sh -c 'echo $NAGIOS_NOTIFICATIONTYPE $NAGIOS_HOSTNAME/$NAGIOS_SERVICEDESC $NAGIOS_SERVICESTATE >> {out}/pager'"
"#,
        defaults = every_second(max_check_attempts),
        out = out.display()
    )
}

/// Starts the (stopped) daemon again as `user` (uid `uid`), its plugins run as that
/// user too, on `config` with its state file at `state`, whose directory may not exist
/// yet; the credentials file is made the user's so that it can read it.
pub fn spawn_as(d: &mut Daemon, (user, uid): (&str, u32), config: &str, state: &Path) {
    d.write_config(&format!(
        "user = \"{user}\"\nplugin_user = \"{user}\"\n{config}"
    ));
    let file = d.config_dir().join("a.toml");
    let t = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        t.replace(
            &d.state_file().display().to_string(),
            &state.display().to_string(),
        ),
    )
    .unwrap();
    std::os::unix::fs::chown(d.dir.path().join("tokens"), Some(uid), None).unwrap();
    d.spawn();
}

/// Waits until the daemon reads external commands from `fifo`; the FIFO's metadata.
pub fn wait_command_file(d: &Daemon, fifo: &Path) -> Metadata {
    d.wait_log(
        5.0,
        &format!(
            "command_file: reading external commands from {}",
            fifo.display()
        ),
    );
    let m = std::fs::symlink_metadata(fifo).unwrap();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()));
    m
}
