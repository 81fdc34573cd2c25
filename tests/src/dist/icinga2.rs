//! Icinga 2 CheckCommand objects in the style of the Icinga Template Library: one
//! `hcoop-X` command per check whose `arguments` dictionary covers every option of the
//! check's clap definition (values from `$hcoop_X_ID$` custom variables, flags with
//! `set_if`, `required`, `repeat_key`, positionals with `skip_key`).

use super::{help_line, short_name, PLUGIN_DIR};
use clap::{Arg, ArgAction};
use hcoop_plugins::checks::BUILTINS;
use std::fmt::Write;

/// The name of a check's CheckCommand: `hcoop-load`, `hcoop-dns-serial`, and for a
/// check with subcommands, one per subcommand: `hcoop-afs-rx`.
pub fn command_name(check: &str, sub: Option<&str>) -> String {
    let mut name = format!("hcoop-{}", short_name(check).replace('_', "-"));
    if let Some(sub) = sub {
        name = format!("{name}-{sub}");
    }
    name
}

/// Letters, digits and `_`.
fn identifier(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

/// The custom variable carrying an argument's value: `hcoop_load_warning`,
/// `hcoop_afs_rx_servers`.
pub fn var_name(command: &str, arg: &Arg) -> String {
    format!(
        "{}_{}",
        identifier(command),
        identifier(arg.get_id().as_str())
    )
}

/// An Icinga 2 string literal.
fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The key an option is passed with: its short form when it has one, as in the ITL.
fn key(arg: &Arg) -> String {
    match (arg.get_short(), arg.get_long()) {
        (Some(s), _) => format!("-{s}"),
        (None, Some(l)) => format!("--{l}"),
        (None, None) => arg.get_id().to_string(),
    }
}

/// Whether an option takes no value (set by its presence).
fn is_flag(arg: &Arg) -> bool {
    matches!(
        arg.get_action(),
        ArgAction::SetTrue | ArgAction::SetFalse | ArgAction::Count
    )
}

/// The default of an argument that names the host: `-H` is the address to connect to
/// (the ITL's `$check_address$`), except for check_dns, where it is the name looked up.
fn host_default(check: &str, arg: &Arg) -> Option<&'static str> {
    if arg.get_short() != Some('H') || is_flag(arg) {
        return None;
    }
    Some(match check {
        "check_dns" => "$host.name$",
        _ => "$check_address$",
    })
}

/// The ITL variable a `-4`/`-6` flag follows by default.
fn ip_version_var(arg: &Arg) -> Option<&'static str> {
    match (arg.get_short(), is_flag(arg)) {
        (Some('4'), true) => Some("$check_ipv4$"),
        (Some('6'), true) => Some("$check_ipv6$"),
        _ => None,
    }
}

/// The arguments of a command that appear in the dictionary (all but help and version).
pub fn arguments(cmd: &clap::Command) -> Vec<&Arg> {
    cmd.get_arguments()
        .filter(|a| !matches!(a.get_action(), ArgAction::Help | ArgAction::Version))
        .collect()
}

/// The description of an argument: its help line, its value name and clap's default.
fn description(arg: &Arg) -> String {
    let mut d = help_line(arg.get_help());
    let defaults: Vec<String> = arg
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().into_owned())
        .collect();
    if !defaults.is_empty() && !is_flag(arg) && !d.contains("default") {
        let _ = write!(d, " (default: {})", defaults.join(","));
    }
    d
}

/// The CheckCommand objects of a check: one, or one per subcommand.
fn render_check(check: &str, cmd: &clap::Command) -> String {
    let subs: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    if subs.is_empty() {
        return render_command(check, None, cmd);
    }
    subs.iter()
        .map(|s| render_command(check, Some(s.get_name()), s))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Options whose place on the command line matters: check_disk's levels apply to the
/// `-p`, `-r`, `-R` and `-A` that follow them, so those come after every other option
/// (Icinga otherwise orders arguments by key, which would put `-p` before `-w`).
const SELECTIONS_AFTER_LEVELS: &[(&str, &[&str])] =
    &[("check_disk", &["paths", "ereg", "eregi", "all"])];

fn selects_after_levels(check: &str, arg: &clap::Arg) -> bool {
    SELECTIONS_AFTER_LEVELS
        .iter()
        .any(|(c, ids)| *c == check && ids.contains(&arg.get_id().as_str()))
}

/// One CheckCommand object, running `check` (with subcommand `sub`).
fn render_command(check: &str, sub: Option<&str>, cmd: &clap::Command) -> String {
    let name = command_name(check, sub);
    let mut out = String::new();
    let title = sub.map_or(check.to_string(), |s| format!("{check} {s}"));
    let _ = writeln!(out, "/* {title}: {} */", help_line(cmd.get_about()));
    let _ = writeln!(out, "object CheckCommand {} {{", quote(&name));
    let args = arguments(cmd);
    // the ITL template that resolves $check_address$, $check_ipv4$ and $check_ipv6$
    let network = args.iter().any(|a| host_default(check, a).is_some());
    if network {
        let _ = writeln!(out, "\timport \"ipv4-or-ipv6\"\n");
    }
    let mut command = vec![format!("HcoopPluginDir + {}", quote(&format!("/{check}")))];
    command.extend(sub.map(quote));
    let _ = writeln!(out, "\tcommand = [ {} ]\n", command.join(", "));
    let _ = writeln!(out, "\targuments = {{");
    let mut defaults = Vec::new();
    let mut position = 0;
    for arg in &args {
        let var = var_name(&name, arg);
        let mut fields = Vec::new();
        if is_flag(arg) {
            fields.push(format!("set_if = {}", quote(&format!("${var}$"))));
        } else {
            fields.push(format!("value = {}", quote(&format!("${var}$"))));
        }
        fields.push(format!("description = {}", quote(&description(arg))));
        if arg.is_required_set() {
            fields.push("required = true".into());
        }
        if matches!(arg.get_action(), ArgAction::Append) {
            fields.push("repeat_key = true".into());
        }
        let name = if arg.is_positional() {
            position += 1;
            fields.push("skip_key = true".into());
            fields.push(format!("order = {position}"));
            arg.get_id().to_string()
        } else {
            if selects_after_levels(check, arg) {
                fields.push("order = 1".into());
            }
            key(arg)
        };
        let _ = writeln!(out, "\t\t{} = {{", quote(&name));
        for f in fields {
            let _ = writeln!(out, "\t\t\t{f}");
        }
        let _ = writeln!(out, "\t\t}}");
        if let Some(v) = host_default(check, arg) {
            defaults.push((var, v));
        } else if let Some(v) = ip_version_var(arg).filter(|_| network) {
            defaults.push((var, v));
        }
    }
    let _ = writeln!(out, "\t}}");
    if !defaults.is_empty() {
        out.push('\n');
    }
    for (var, value) in defaults {
        let _ = writeln!(out, "\tvars.{var} = {}", quote(value));
    }
    let _ = writeln!(out, "}}");
    out
}

/// The whole `hcoop-monitor-commands.conf`.
pub fn render() -> String {
    let mut out = format!(
        "/* Icinga 2 CheckCommands for the hcoop-monitor plugins: one hcoop-X per check,\n \
         * every option in its arguments dictionary, values from hcoop_X_* custom variables.\n \
         * Generated from the plugins' command line definitions by\n \
         * `{}`: do not edit.\n \
         * Define HcoopPluginDir in constants.conf to run the plugins from elsewhere.\n \
         */\n\n\
         if (!globals.contains(\"HcoopPluginDir\")) {{\n\
         \tconst HcoopPluginDir = {}\n\
         }}\n",
        super::REFRESH_COMMAND,
        quote(PLUGIN_DIR)
    );
    for b in BUILTINS {
        out.push('\n');
        out.push_str(&render_check(b.name, &(b.command)()));
    }
    out
}

/// Runs `icinga2 daemon -C` on a configuration (the text after the constants every
/// configuration needs: PluginDir, NodeName, ZoneName) in a temp dir of its own.
pub fn validate(config: &str) -> crate::Run {
    let icinga2 = crate::require("icinga2", "icinga2-bin");
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let conf = d.join("icinga2.conf");
    let text = format!(
        "const PluginDir = \"/usr/lib/nagios/plugins\"\n\
         const NodeName = \"localhost\"\nconst ZoneName = \"localhost\"\n{config}"
    );
    std::fs::write(&conf, text).expect("write icinga2.conf");
    let mut args = vec![
        "daemon".to_string(),
        "-C".into(),
        "-c".into(),
        conf.display().to_string(),
    ];
    for (var, sub) in [
        ("DataDir", "data"),
        ("LogDir", "log"),
        ("CacheDir", "cache"),
        ("SpoolDir", "spool"),
        ("InitRunDir", "run"),
    ] {
        std::fs::create_dir_all(d.join(sub)).expect("icinga2 directory");
        args.push(format!("-D{var}={}", d.join(sub).display()));
    }
    args.push("-DRunAsUser=root".into());
    args.push("-DRunAsGroup=root".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    crate::run(&icinga2, &args)
}
