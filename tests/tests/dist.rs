//! The generated files of dist/: committed files current, every Nagios command line
//! accepted by its check, every binary listed, the Icinga 2 commands accepted by
//! icinga2, man pages and completions written for every binary.

use hcoop_plugins::checks::BUILTINS;
use hcoop_tests::dist::{self, icinga2, nagios, PLUGIN_DIR, REFRESH_COMMAND};
use hcoop_tests::run;
use std::collections::BTreeSet;

#[test]
fn committed_files_are_what_the_generator_writes() {
    let root = dist::workspace_root();
    let mut stale = Vec::new();
    for (path, text) in dist::text_files() {
        let committed = std::fs::read_to_string(root.join(&path)).unwrap_or_default();
        if committed != text {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "{} differ from what the generator writes: run `{REFRESH_COMMAND}`",
        stale.join(", ")
    );
}

#[test]
fn every_binary_is_a_builtin_of_the_same_check() {
    let root = dist::workspace_root();
    let registry = std::fs::read_to_string(root.join("plugins/src/checks/mod.rs")).unwrap();
    let mut bins = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("plugins/src/bin")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let source = std::fs::read_to_string(&path).unwrap();
        let check = source
            .split("hcoop_plugins::checks::")
            .nth(1)
            .and_then(|rest| rest.split(['>', ')']).next())
            .unwrap_or_else(|| panic!("{} does not name its check", path.display()));
        assert!(
            registry.contains(&format!("entry::<{check}>(\"{name}\")")),
            "{name} runs {check}, which BUILTINS in plugins/src/checks/mod.rs does not list as {name}"
        );
        bins.insert(name);
    }
    let builtins: BTreeSet<String> = BUILTINS.iter().map(|b| b.name.to_string()).collect();
    assert_eq!(bins, builtins, "plugins/src/bin and BUILTINS differ");
    for b in BUILTINS {
        let cmd = (b.command)();
        assert_eq!(
            cmd.get_name(),
            b.name,
            "the clap command name of {}",
            b.name
        );
        cmd.debug_assert();
    }
}

#[test]
fn every_nagios_command_line_is_accepted_by_its_check() {
    for b in BUILTINS {
        assert!(
            nagios::VARIANTS.iter().any(|v| v.check == b.name),
            "{} has no Nagios command definition",
            b.name
        );
    }
    let mut names = BTreeSet::new();
    for v in nagios::VARIANTS {
        let name = v.command_name();
        assert!(names.insert(name.clone()), "{name} is defined twice");
        assert_eq!(
            v.samples.len(),
            v.arg_count(),
            "{name}: one sample per $ARGn$"
        );
        let line = v.sample_command_line();
        assert!(!line.contains('$'), "{name}: a macro is left in {line}");
        let words = nagios::split_words(&line).unwrap();
        assert_eq!(words[0], format!("{PLUGIN_DIR}/{}", v.check), "{name}");
        let check = BUILTINS.iter().find(|b| b.name == v.check).unwrap();
        if let Err(e) = (check.command)().try_get_matches_from(&words) {
            panic!("{name}: {line}:\n{e}");
        }
        // validation may read a file a sample names; such a file is missing here
        if let Err(e) = (check.build)(&words[1..]) {
            let missing_sample = v.samples.iter().any(|s| {
                s.starts_with('/') && e.0.contains(s) && !std::path::Path::new(s).exists()
            });
            assert!(missing_sample, "{name}: {line}: {e}");
        }
    }
}

#[test]
fn the_nagios_file_defines_every_variant() {
    let text = nagios::render();
    for v in nagios::VARIANTS {
        let block = format!(
            "\tcommand_name\t{}\n\tcommand_line\t{}\n",
            v.command_name(),
            v.command_line()
        );
        assert!(text.contains(&block), "missing: {block}");
    }
    assert_eq!(
        text.matches("define command{").count(),
        nagios::VARIANTS.len()
    );
}

#[test]
fn split_words_follows_the_shell_quotes() {
    assert_eq!(
        nagios::split_words("a -w '1 2' -c \"x'y\" 'b'c").unwrap(),
        ["a", "-w", "1 2", "-c", "x'y", "bc"]
    );
    assert!(nagios::split_words("a 'b").is_err());
}

#[test]
fn icinga2_accepts_every_check_command() {
    let commands = dist::workspace_root().join("dist/icinga2/hcoop-monitor-commands.conf");
    let text = std::fs::read_to_string(&commands).unwrap();
    let names: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("object CheckCommand \""))
        .filter_map(|l| l.split('"').next())
        .collect();
    let expected: usize = BUILTINS
        .iter()
        .map(|b| {
            let cmd = (b.command)();
            let modes = cmd
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .count();
            modes.max(1)
        })
        .sum();
    assert_eq!(
        names.len(),
        expected,
        "a CheckCommand per check, or per mode of a check with modes (check_afs)"
    );
    // a host, and a service using each command, so that every one is resolved
    let mut conf = format!(
        "include <itl>\ninclude <plugins>\ninclude \"{}\"\n\
         object Host \"h\" {{\n\tcheck_command = \"hcoop-load\"\n\taddress = \"127.0.0.1\"\n}}\n",
        commands.display()
    );
    for n in &names {
        conf += &format!(
            "object Service \"{n}\" {{\n\thost_name = \"h\"\n\tcheck_command = \"{n}\"\n}}\n"
        );
    }
    let r = icinga2::validate(&conf);
    assert_eq!(
        r.code, 0,
        "icinga2 rejects the commands:\n{}{}",
        r.stdout, r.stderr
    );
    assert!(
        !r.stdout.contains("warning/"),
        "icinga2 warns:\n{}",
        r.stdout
    );
    // HcoopPluginDir defined before the file is included is kept
    let r = icinga2::validate(&format!("const HcoopPluginDir = \"/opt/hcoop\"\n{conf}"));
    assert_eq!(
        r.code, 0,
        "with HcoopPluginDir set:\n{}{}",
        r.stdout, r.stderr
    );
}

#[test]
fn man_pages_and_completions_for_every_binary() {
    let dir = tempfile::tempdir().unwrap();
    let count = dist::docs::write_all(dir.path()).unwrap();
    let binaries = dist::binaries();
    for (name, _) in &binaries {
        let page = std::fs::read_to_string(dir.path().join(format!("man/{name}.1"))).unwrap();
        assert!(page.contains(&format!(".TH {name} 1")), "{name}.1:\n{page}");
        for file in [
            format!("completions/bash/{name}"),
            format!("completions/zsh/_{name}"),
            format!("completions/fish/{name}.fish"),
        ] {
            let text = std::fs::read_to_string(dir.path().join(&file)).unwrap();
            assert!(text.contains(*name), "{file}");
        }
        let bash = run(
            std::path::Path::new("/bin/bash"),
            &[
                "-n",
                dir.path()
                    .join(format!("completions/bash/{name}"))
                    .to_str()
                    .unwrap(),
            ],
        );
        assert_eq!(bash.code, 0, "{name}: {}", bash.stderr);
    }
    // the daemon's subcommands have pages of their own
    for sub in ["run", "validate", "check-all", "status", "nrpe"] {
        assert!(
            dir.path()
                .join(format!("man/hcoop-monitor-{sub}.1"))
                .exists(),
            "hcoop-monitor-{sub}.1"
        );
    }
    // check_afs's modes too
    assert!(dir.path().join("man/check_afs-rx.1").exists());
    assert!(count > binaries.len() * 4);
}

/// The `check_command` lines (`name!arg1!arg2`) of a Nagios object file.
fn check_commands(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("check_command"))
        .map(|rest| rest.trim().split('!').map(str::to_string).collect())
        .collect()
}

#[test]
fn the_example_servers_file_is_valid_nagios_with_commands_that_exist() {
    let root = dist::workspace_root();
    let example = root.join("dist/nagios/hcoop-servers.cfg");
    let text = std::fs::read_to_string(&example).unwrap();

    // Debian's nagios4 accepts it beside its stock objects, Debian's check_nrpe command
    // and our command definitions, without a warning
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = String::new();
    for f in ["commands", "contacts", "timeperiods", "templates"] {
        cfg += &format!("cfg_file=/etc/nagios4/objects/{f}.cfg\n");
    }
    let check_nrpe = hcoop_tests::require(
        "/etc/nagios-plugins/config/check_nrpe.cfg",
        "nagios-nrpe-plugin",
    );
    cfg += &format!(
        "cfg_file={}\ncfg_file={}\ncfg_file={}\ncheck_result_path={}\n\
         illegal_macro_output_chars=`~$&|'\"<>\n",
        check_nrpe.display(),
        root.join("dist/nagios/hcoop-monitor.cfg").display(),
        example.display(),
        dir.path().display()
    );
    std::fs::write(dir.path().join("nagios.cfg"), cfg).unwrap();
    // nagios4 -v checks that its user could write there
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let cfg_path = dir.path().join("nagios.cfg");
    let v = run(
        &hcoop_tests::nagios::nagios4(),
        &["-v", cfg_path.to_str().unwrap()],
    );
    assert_eq!(v.code, 0, "{}", v.stdout);
    assert!(v.stdout.contains("Total Warnings: 0"), "{}", v.stdout);
    assert!(v.stdout.contains("Checked 23 services."), "{}", v.stdout);

    // each hcoop_ command line, with the example's arguments, is one its check accepts;
    // each NRPE command is one the example agent serves
    let agent = hcoop_monitor::config::Config::load(&root.join("checks.d/agent.toml"))
        .unwrap()
        .nrpe
        .expect("[nrpe] in checks.d/agent.toml")
        .resolve()
        .unwrap();
    for words in check_commands(&text) {
        let (name, args) = words.split_first().unwrap();
        if name == "check_nrpe" {
            assert!(agent.commands.contains_key(&args[0]), "{words:?}");
            continue;
        }
        let variant = nagios::VARIANTS
            .iter()
            .find(|v| &v.command_name() == name)
            .unwrap_or_else(|| panic!("{name} is not an hcoop_ command"));
        let mut line = variant.command_line().replace("$HOSTADDRESS$", "192.0.2.1");
        for (i, a) in args.iter().enumerate() {
            line = line.replace(&format!("$ARG{}$", i + 1), a);
        }
        assert!(!line.contains('$'), "{words:?}: {line}");
        let words = nagios::split_words(&line).unwrap();
        let check = BUILTINS.iter().find(|b| b.name == variant.check).unwrap();
        // validation may read a file the example names (a password file): missing here
        if let Err(e) = (check.build)(&words[1..]) {
            let missing = args
                .iter()
                .any(|a| a.starts_with('/') && e.0.contains(a.as_str()));
            assert!(missing, "{name}: {line}: {e}");
        }
    }
}
