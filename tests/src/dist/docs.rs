//! Man pages (section 1) and bash, zsh and fish completions for every binary, written
//! into a build directory at package time (they are not committed).

use std::fs;
use std::io;
use std::path::Path;

use clap_complete::Shell;

/// The shells completions are written for, with the file name each one's package
/// directory expects (`/usr/share/bash-completion/completions/NAME`,
/// `/usr/share/zsh/vendor-completions/_NAME`, `/usr/share/fish/vendor_completions.d/NAME.fish`).
pub const SHELLS: &[(Shell, &str, &str)] = &[
    (Shell::Bash, "bash", ""),
    (Shell::Zsh, "zsh", "_"),
    (Shell::Fish, "fish", ""),
];

/// The completion file name of `bin` for a shell.
fn completion_file(shell: Shell, prefix: &str, bin: &str) -> String {
    match shell {
        Shell::Fish => format!("{prefix}{bin}.fish"),
        _ => format!("{prefix}{bin}"),
    }
}

/// Writes `OUT/man/NAME.1` (and `hcoop-monitor-SUB.1` for the daemon's subcommands) and
/// `OUT/completions/{bash,zsh,fish}/...` for every binary. Returns how many files.
pub fn write_all(out: &Path) -> io::Result<usize> {
    let man = out.join("man");
    fs::create_dir_all(&man)?;
    let mut count = 0;
    for (name, cmd) in super::binaries() {
        let cmd = cmd.name(name).bin_name(name);
        count += write_man(&man, cmd.clone())?;
        for (shell, dir, prefix) in SHELLS {
            let dir = out.join("completions").join(dir);
            fs::create_dir_all(&dir)?;
            let mut text = Vec::new();
            clap_complete::generate(*shell, &mut cmd.clone(), name, &mut text);
            fs::write(dir.join(completion_file(*shell, prefix, name)), text)?;
            count += 1;
        }
    }
    Ok(count)
}

/// Writes the page of a command and of each of its subcommands (`NAME-SUB.1`).
fn write_man(dir: &Path, cmd: clap::Command) -> io::Result<usize> {
    let mut cmd = cmd;
    cmd.build();
    let mut count = 0;
    let mut pending = vec![cmd];
    while let Some(cmd) = pending.pop() {
        let name = cmd.get_display_name().unwrap_or(cmd.get_name()).to_string();
        let mut page = Vec::new();
        clap_mangen::Man::new(cmd.clone()).render(&mut page)?;
        fs::write(dir.join(format!("{name}.1")), page)?;
        count += 1;
        pending.extend(
            cmd.get_subcommands()
                .filter(|s| s.get_name() != "help")
                .cloned(),
        );
    }
    Ok(count)
}
