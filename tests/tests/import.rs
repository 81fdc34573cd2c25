//! `hcoop-monitor import nagios` on real Nagios configurations: Debian's nagios4 sample
//! configuration and the co-op's dist/nagios/hcoop-servers.cfg (with the Debian
//! templates, contacts and time periods it uses, our command definitions and
//! check_nrpe's). Each is first checked by Debian's nagios4 itself (`nagios4 -v`), then
//! imported; `hcoop-monitor validate` must accept the result, and the report must list
//! what was not carried over, by file and line.

use hcoop_tests::{bin, ensure_plugin_user, nagios::nagios4, require, run, Run};
use std::path::{Path, PathBuf};

/// Copies a file, replacing text.
fn copy(from: &Path, to: &Path, replace: &[(&str, &str)]) {
    let mut text = std::fs::read_to_string(from)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", from.display()));
    for (a, b) in replace {
        text = text.replace(a, b);
    }
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::write(to, text).unwrap();
}

/// Every *.cfg file of a directory.
fn cfg_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "cfg"))
        .collect();
    files.sort();
    files
}

/// Debian's nagios4 configuration copied into `root`: etc/nagios4/{nagios.cfg,
/// resource.cfg, objects/, conf.d/} and plugins-config/ (monitoring-plugins' command
/// definitions), the main file's paths pointing at the copies.
fn debian_copy(root: &Path) -> PathBuf {
    require("/etc/nagios4/nagios.cfg", "nagios4-common");
    require(
        "/etc/nagios-plugins/config/ping.cfg",
        "monitoring-plugins-common",
    );
    let etc = root.join("etc/nagios4");
    let plugins = root.join("plugins-config");
    let etc_s = etc.display().to_string();
    let plugins_s = plugins.display().to_string();
    copy(
        Path::new("/etc/nagios4/nagios.cfg"),
        &etc.join("nagios.cfg"),
        &[
            ("/etc/nagios-plugins/config", &plugins_s),
            ("/etc/nagios4", &etc_s),
        ],
    );
    copy(
        Path::new("/etc/nagios4/resource.cfg"),
        &etc.join("resource.cfg"),
        &[],
    );
    for f in cfg_files(Path::new("/etc/nagios4/objects")) {
        copy(&f, &etc.join("objects").join(f.file_name().unwrap()), &[]);
    }
    std::fs::create_dir_all(etc.join("conf.d")).unwrap();
    for f in cfg_files(Path::new("/etc/nagios-plugins/config")) {
        copy(&f, &plugins.join(f.file_name().unwrap()), &[]);
    }
    etc.join("nagios.cfg")
}

/// Nagios itself accepts the configuration.
fn nagios_accepts(cfg: &Path) {
    let r = run(&nagios4(), &["-v", cfg.to_str().unwrap()]);
    assert_eq!(r.code, 0, "nagios4 -v {}: {}", cfg.display(), r.stdout);
    assert!(r.stdout.contains("Total Errors:   0"), "{}", r.stdout);
}

/// `hcoop-monitor import nagios CFG --out DIR`.
fn import(cfg: &Path, out: &Path) -> Run {
    run(
        &bin("hcoop-monitor"),
        &[
            "import",
            "nagios",
            cfg.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    )
}

/// `hcoop-monitor -c DIR validate`.
fn validate(dir: &Path) -> Run {
    ensure_plugin_user();
    run(
        &bin("hcoop-monitor"),
        &["-c", dir.to_str().unwrap(), "validate"],
    )
}

/// The report lines with the temp dir taken out.
fn report(out: &Path, root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(out.join("import-report.txt")).unwrap();
    let root = format!("{}/", root.display());
    text.lines().skip(1).map(|l| l.replace(&root, "")).collect()
}

fn toml(out: &Path, file: &str) -> toml::Table {
    let text = std::fs::read_to_string(out.join(file))
        .unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
    text.parse()
        .unwrap_or_else(|e| panic!("{file} is not TOML: {e}\n{text}"))
}

fn entries<'a>(t: &'a toml::Table, section: &str) -> Vec<&'a toml::Table> {
    t.get(section)
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_table()).collect())
        .unwrap_or_default()
}

fn find<'a>(t: &'a toml::Table, section: &str, host: &str, name: &str) -> &'a toml::Table {
    entries(t, section)
        .into_iter()
        .find(|e| {
            e.get("host").and_then(|v| v.as_str()) == Some(host) && e["name"].as_str() == Some(name)
        })
        .unwrap_or_else(|| panic!("no {section} {host}/{name}"))
}

fn strs(v: &toml::Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap())
        .collect()
}

fn assert_reported(lines: &[String], want: &[&str]) {
    for w in want {
        assert!(
            lines.iter().any(|l| l == w),
            "not reported: {w}\nreport:\n{}",
            lines.join("\n")
        );
    }
}

#[test]
fn debian_sample_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let cfg = debian_copy(root);
    nagios_accepts(&cfg);
    let out = root.join("out");
    let r = import(&cfg, &out);
    assert_eq!(r.code, 0, "import: {}", r.stderr);
    assert!(
        r.stderr.contains("hcoop-monitor: imported "),
        "{}",
        r.stderr
    );

    let hosts = toml(&out, "hosts.toml");
    let localhost = entries(&hosts, "host")[0];
    assert_eq!(localhost["name"].as_str(), Some("localhost"));
    assert_eq!(localhost["address"].as_str(), Some("127.0.0.1"));
    // linux-server: check-host-alive (monitoring-plugins' ping.cfg) is check_ping,
    // which we do not have built in; Nagios' host_check_timeout is the host's
    assert_eq!(
        localhost["command"].as_str(),
        Some(
            "/usr/lib/nagios/plugins/check_ping -H '$HOSTADDRESS$' -w 5000,100% -c 5000,100% -p 1"
        )
    );
    assert_eq!(localhost["timeout"].as_str(), Some("30s"));
    assert_eq!(localhost["max_check_attempts"].as_integer(), Some(10));
    assert_eq!(localhost["notification_interval"].as_str(), Some("2h"));
    assert_eq!(localhost["notification_period"].as_str(), Some("workhours"));
    assert_eq!(strs(&localhost["contact_groups"]), ["admins"]);

    let services = toml(&out, "services.toml");
    assert_eq!(entries(&services, "service").len(), 8);
    // local-service: every 5 minutes, 4 attempts; check_local_load runs our check_load
    let load = find(&services, "service", "localhost", "Current Load");
    assert_eq!(load["check"].as_str(), Some("check_load"));
    assert_eq!(
        strs(&load["args"]),
        ["-w", "5.0,4.0,3.0", "-c", "10.0,6.0,4.0"]
    );
    assert_eq!(load["check_interval"].as_str(), Some("5m"));
    assert_eq!(load["max_check_attempts"].as_integer(), Some(4));
    // a service takes its host's contact groups only when it has none of its own:
    // generic-service names admins
    assert_eq!(strs(&load["contact_groups"]), ["admins"]);
    let users = find(&services, "service", "localhost", "Current Users");
    assert_eq!(
        users["command"].as_str(),
        Some("/usr/lib/nagios/plugins/check_users -w 20 -c 50")
    );

    let contacts = toml(&out, "contacts.toml");
    let admin = entries(&contacts, "contact")[0];
    assert_eq!(admin["name"].as_str(), Some("nagiosadmin"));
    let command = admin["command"].as_str().unwrap();
    assert!(
        command.starts_with(
            "if [ -n \"${NAGIOS_SERVICEDESC}\" ]; then /usr/bin/printf \"%b\" \"***** Nagios *****"
        ),
        "{command}"
    );
    assert!(command.contains("| /usr/bin/mail -s \"** ${NAGIOS_NOTIFICATIONTYPE} Service Alert: ${NAGIOS_HOSTALIAS}/${NAGIOS_SERVICEDESC} is ${NAGIOS_SERVICESTATE} **\" nagios@localhost; else "), "{command}");
    assert_eq!(admin["service_options"].as_str(), Some("w,u,c,r,f,s"));

    let periods = toml(&out, "timeperiods.toml");
    let names: Vec<&str> = entries(&periods, "timeperiod")
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "24x7",
            "workhours",
            "none",
            "us-holidays",
            "24x7_sans_holidays"
        ]
    );

    let lines = report(&out, root);
    assert_reported(
        &lines,
        &[
            "etc/nagios4/nagios.cfg:165: command_file=/var/lib/nagios4/rw/nagios.cmd: the external command file is [daemon] command_file (and command_group): set it where scripts write",
            "etc/nagios4/objects/localhost.cfg:143: service 'SSH' on 'localhost': check_command check_ssh: the built-in check_ssh refuses its arguments: unexpected argument '127.0.0.1' found: kept as an external command",
            "etc/nagios4/objects/templates.cfg:33: contact template 'generic-contact': service_notification_commands notify-service-by-email: the macro $HOSTALIAS$ is not given to notification commands by hcoop-monitor: it is empty",
            "etc/nagios4/objects/templates.cfg:33: contact template 'generic-contact': service_notification_commands notify-service-by-email: the macro $LONGDATETIME$ is not given to notification commands by hcoop-monitor: it is empty",
            "etc/nagios4/objects/templates.cfg:55: host template 'generic-host': process_perf_data 1: performance data files and commands: no counterpart (hcoop-monitor keeps each result's performance data in its API and metrics)",
            "etc/nagios4/objects/templates.cfg:80: host template 'linux-server': notification_options d,u,r: per-object notification options: no counterpart (each contact's options filter its notifications)",
            "etc/nagios4/objects/templates.cfg:165: service template 'generic-service': obsess_over_service 1: obsessive compulsive processing (ocsp/ochp commands): no counterpart",
        ],
    );
    // the objects' lines: each said once, at the template that has it
    let objects: Vec<&String> = lines.iter().filter(|l| l.contains("/objects/")).collect();
    assert_eq!(objects.len(), 10, "{objects:#?}");
    // every line names a file and line
    for l in &lines {
        let place = l.split(": ").next().unwrap();
        let (_, line) = place
            .rsplit_once(':')
            .unwrap_or_else(|| panic!("no place: {l}"));
        assert!(line.parse::<u32>().is_ok(), "no line number: {l}");
    }

    let v = validate(&out);
    assert_eq!(v.code, 0, "validate: {}{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.trim(), "configuration OK: 1 hosts, 8 services");
}

#[test]
fn hcoop_servers_with_our_commands() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let _debian = debian_copy(root);
    let etc = root.join("etc/nagios4");
    let repo = hcoop_tests::dist::workspace_root();
    for f in ["hcoop-monitor.cfg", "hcoop-servers.cfg"] {
        copy(&repo.join("dist/nagios").join(f), &root.join(f), &[]);
    }
    let cfg = root.join("nagios.cfg");
    let mut main = String::new();
    for f in [
        "commands.cfg",
        "contacts.cfg",
        "timeperiods.cfg",
        "templates.cfg",
    ] {
        main.push_str(&format!(
            "cfg_file={}\n",
            etc.join("objects").join(f).display()
        ));
    }
    main.push_str(&format!(
        "cfg_file={}\ncfg_file=hcoop-monitor.cfg\ncfg_file=hcoop-servers.cfg\nresource_file={}\n",
        root.join("plugins-config/check_nrpe.cfg").display(),
        etc.join("resource.cfg").display()
    ));
    std::fs::write(&cfg, main).unwrap();
    nagios_accepts(&cfg);
    let out = root.join("out");
    let r = import(&cfg, &out);
    assert_eq!(r.code, 0, "import: {}", r.stderr);

    let hosts = toml(&out, "hosts.toml");
    let names: Vec<&str> = entries(&hosts, "host")
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["main", "dynamic", "shell"]);
    let dynamic = entries(&hosts, "host")[1];
    assert_eq!(strs(&dynamic["parents"]), ["main"]);
    assert_eq!(dynamic["address"].as_str(), Some("dynamic.hcoop.net"));
    assert_eq!(dynamic["check"].as_str(), Some("check_tcp"));
    assert_eq!(strs(&dynamic["args"]), ["-H", "$HOSTADDRESS$", "-p", "22"]);
    assert_eq!(dynamic["max_check_attempts"].as_integer(), Some(2));

    let services = toml(&out, "services.toml");
    assert_eq!(entries(&services, "service").len(), 23);
    let load = find(&services, "service", "main", "load");
    assert_eq!(load["check"].as_str(), Some("check_load"));
    assert_eq!(
        strs(&load["args"]),
        ["-r", "-w", "2,1.5,1.2", "-c", "4,3,2.5"]
    );
    let disk = find(&services, "service", "main", "disk /var");
    assert_eq!(disk["check"].as_str(), Some("check_disk"));
    assert_eq!(
        strs(&disk["args"]),
        ["-w", "10%", "-c", "5%", "-e", "-p", "/var"]
    );
    // check_nrpe is Debian's: an external command with the same command line
    let nrpe = find(&services, "service", "shell", "zombies");
    assert_eq!(
        nrpe["command"].as_str(),
        Some("/usr/lib/nagios/plugins/check_nrpe -H $HOSTADDRESS$ -c check_zombies")
    );
    assert_eq!(nrpe["check_interval"].as_str(), Some("10m"));
    assert_eq!(nrpe["retry_interval"].as_str(), Some("2m"));
    assert_eq!(strs(&nrpe["contact_groups"]), ["admins"]);

    let groups = toml(&out, "groups.toml");
    let hg = entries(&groups, "hostgroup");
    assert_eq!(hg.len(), 1);
    assert_eq!(hg[0]["name"].as_str(), Some("hcoop-servers"));
    assert_eq!(strs(&hg[0]["members"]), ["main", "dynamic", "shell"]);
    let cg = entries(&groups, "contactgroup");
    assert_eq!(strs(&cg[0]["members"]), ["nagiosadmin"]);

    let lines = report(&out, root);
    // each check our built-in refuses is named with its reason (none expected but
    // those listed here)
    let refused: Vec<&String> = lines
        .iter()
        .filter(|l| l.contains("refuses its arguments"))
        .collect();
    assert!(refused.is_empty(), "{refused:#?}");
    assert_eq!(lines.len(), 7, "{lines:#?}");
    assert_reported(
        &lines,
        &["etc/nagios4/objects/templates.cfg:179: service template 'generic-service': notification_options w,u,c,r: per-object notification options: no counterpart (each contact's options filter its notifications)"],
    );

    let v = validate(&out);
    assert_eq!(v.code, 0, "validate: {}{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.trim(), "configuration OK: 3 hosts, 23 services");
}

#[test]
fn a_configuration_nagios_refuses_is_refused_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("nagios.cfg");
    std::fs::write(&cfg, "cfg_file=objects.cfg\n").unwrap();
    std::fs::write(
        dir.path().join("objects.cfg"),
        "define host {\n    host_name a\n    check_command nope\n}\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let r = import(&cfg, &out);
    assert_eq!(r.code, 3);
    assert_eq!(
        r.stderr.trim(),
        format!(
            "hcoop-monitor: {}:3: the command 'nope' is not defined",
            dir.path().join("objects.cfg").display()
        )
    );
    assert!(!out.exists(), "nothing is written");
    let r = run(
        &bin("hcoop-monitor"),
        &["import", "nagios", "/nonexistent/nagios.cfg"],
    );
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains("cannot read /nonexistent/nagios.cfg"),
        "{}",
        r.stderr
    );
}
