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

/// The objects as Nagios itself resolved them (its precached object file, written by
/// `nagios4 -vp`): (type, directives) pairs.
fn nagios_resolved(cfg: &Path) -> Vec<(String, std::collections::BTreeMap<String, String>)> {
    // nagios4 writes the file as its own user: a directory it may write
    let dir = cfg.parent().unwrap().join("precache");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let file = dir.join("objects.precache");
    let mut main = std::fs::read_to_string(cfg).unwrap();
    main.push_str(&format!("\nprecached_object_file={}\n", file.display()));
    let with = cfg.with_extension("precache.cfg");
    std::fs::write(&with, main).unwrap();
    let r = run(&nagios4(), &["-vp", with.to_str().unwrap()]);
    assert_eq!(r.code, 0, "nagios4 -vp: {}", r.stdout);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut out = Vec::new();
    let mut current: Option<(String, std::collections::BTreeMap<String, String>)> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(kind) = t.strip_prefix("define ").and_then(|k| k.strip_suffix(" {")) {
            current = Some((kind.to_string(), Default::default()));
        } else if t == "}" {
            out.extend(current.take());
        } else if let Some((_, map)) = current.as_mut() {
            if let Some((k, v)) = t.split_once('\t') {
                map.insert(k.to_string(), v.trim().to_string());
            }
        }
    }
    out
}

/// Nagios' minutes (interval_length 60) as the duration text the import writes.
fn minutes(v: &str) -> String {
    let m = v.parse::<f64>().unwrap() as u64;
    match m {
        0 => "0s".into(),
        m if m % 60 == 0 => format!("{}h", m / 60),
        m => format!("{m}m"),
    }
}

/// Every host and service the import wrote has the schedule, periods and contacts
/// Nagios resolved for it (templates, `+`, `null`, implied inheritance), what the
/// import leaves unset being the same as our defaults.
fn assert_same_as_nagios(cfg: &Path, out: &Path) {
    let hosts = toml(out, "hosts.toml");
    let services = toml(out, "services.toml");
    let groups = std::fs::read_to_string(out.join("groups.toml"))
        .map(|t| t.parse::<toml::Table>().unwrap())
        .unwrap_or_default();
    // a group's members with those of its nested groups, as Nagios lists them
    let closure = |section: &str, nested: &str, name: &str| {
        let mut all = std::collections::BTreeSet::new();
        let mut todo = vec![name.to_string()];
        let mut seen = std::collections::BTreeSet::new();
        while let Some(g) = todo.pop() {
            if !seen.insert(g.clone()) {
                continue;
            }
            let entry = entries(&groups, section)
                .into_iter()
                .find(|e| e["name"].as_str() == Some(&g))
                .unwrap_or_else(|| panic!("no {section} {g}"));
            all.extend(strs(&entry["members"]).into_iter().map(String::from));
            if let Some(n) = entry.get(nested) {
                todo.extend(strs(n).into_iter().map(String::from));
            }
        }
        all
    };
    let mut compared = 0;
    for (kind, n) in nagios_resolved(cfg) {
        let theirs = |key: &str| -> std::collections::BTreeSet<String> {
            n.get(key).map_or(Default::default(), |v| {
                v.split(',').map(|s| s.trim().to_string()).collect()
            })
        };
        if let "hostgroup" | "contactgroup" | "servicegroup" = kind.as_str() {
            let name = &n[&format!("{kind}_name")];
            // a service group lists HOST,SERVICE pairs
            let listed = if kind == "servicegroup" {
                let items: Vec<&str> = n.get("members").map_or(vec![], |m| m.split(',').collect());
                items
                    .chunks(2)
                    .map(|p| format!("{}/{}", p[0], p[1]))
                    .collect()
            } else {
                theirs("members")
            };
            assert_eq!(
                closure(&kind, &format!("{kind}_members"), name),
                listed,
                "{kind} {name}"
            );
            continue;
        }
        let ours = match kind.as_str() {
            "host" => entries(&hosts, "host")
                .into_iter()
                .find(|h| h["name"].as_str() == Some(&n["host_name"]))
                .unwrap_or_else(|| panic!("no host {}", n["host_name"])),
            "service" => find(
                &services,
                "service",
                &n["host_name"],
                &n["service_description"],
            ),
            _ => continue,
        };
        let what = format!("{kind} {:?}", ours.get("name"));
        let text = |key: &str, default: &str| {
            ours.get(key)
                .map_or(default.to_string(), |v| v.as_str().unwrap().to_string())
        };
        let list = |key: &str| -> std::collections::BTreeSet<String> {
            ours.get(key).map_or(Default::default(), |v| {
                strs(v).into_iter().map(String::from).collect()
            })
        };
        let nagios_list = |key: &str| -> std::collections::BTreeSet<String> {
            n.get(key).map_or(Default::default(), |v| {
                v.split(',').map(|s| s.trim().to_string()).collect()
            })
        };
        assert_eq!(
            text("check_interval", "5m"),
            minutes(&n["check_interval"]),
            "{what}"
        );
        assert_eq!(
            text("retry_interval", "1m"),
            minutes(&n["retry_interval"]),
            "{what}"
        );
        assert_eq!(
            text("notification_interval", "30m"),
            minutes(&n["notification_interval"]),
            "{what}"
        );
        assert_eq!(
            ours.get("max_check_attempts")
                .and_then(|v| v.as_integer())
                .unwrap_or(3)
                .to_string(),
            n["max_check_attempts"],
            "{what}"
        );
        for key in ["check_period", "notification_period"] {
            let theirs = n.get(key).map_or("24x7", String::as_str);
            assert_eq!(text(key, "24x7"), theirs, "{what} {key}");
        }
        assert_eq!(list("contacts"), nagios_list("contacts"), "{what} contacts");
        assert_eq!(
            list("contact_groups"),
            nagios_list("contact_groups"),
            "{what} contact_groups"
        );
        compared += 1;
    }
    assert!(compared > 0);
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
    // linux-server: check-host-alive (monitoring-plugins' ping.cfg) is check_ping, which
    // runs as our built-in with the same arguments; Nagios' host_check_timeout is the host's
    assert_eq!(
        localhost["check"].as_str(),
        Some("check_ping"),
        "{localhost}"
    );
    assert_eq!(
        strs(&localhost["args"]),
        [
            "-H",
            "$HOSTADDRESS$",
            "-w",
            "5000,100%",
            "-c",
            "5000,100%",
            "-p",
            "1"
        ]
    );
    assert!(localhost.get("command").is_none(), "{localhost}");
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
    assert_eq!(users["check"].as_str(), Some("check_users"), "{users}");
    assert_eq!(strs(&users["args"]), ["-w", "20", "-c", "50"]);
    // check_ssh with the host as a bare word, as monitoring-plugins takes it, runs as
    // our built-in too
    let ssh = find(&services, "service", "localhost", "SSH");
    assert_eq!(ssh["check"].as_str(), Some("check_ssh"), "{ssh}");
    assert_eq!(strs(&ssh["args"]), ["$HOSTADDRESS$"]);

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
            "etc/nagios4/objects/templates.cfg:33: contact template 'generic-contact': service_notification_commands notify-service-by-email: the macro $HOSTALIAS$ is not given to notification commands by hcoop-monitor: it is empty",
            "etc/nagios4/objects/templates.cfg:33: contact template 'generic-contact': service_notification_commands notify-service-by-email: the macro $LONGDATETIME$ is not given to notification commands by hcoop-monitor: it is empty",
            "etc/nagios4/objects/templates.cfg:55: host template 'generic-host': process_perf_data 1: performance data files and commands: no counterpart (hcoop-monitor keeps each result's performance data in its API and metrics)",
            "etc/nagios4/objects/templates.cfg:80: host template 'linux-server': notification_options d,u,r: per-object notification options: no counterpart (each contact's options filter its notifications)",
            "etc/nagios4/objects/templates.cfg:165: service template 'generic-service': obsess_over_service 1: obsessive compulsive processing (ocsp/ochp commands): no counterpart",
        ],
    );
    // the objects' lines: each said once, at the template that has it
    let objects: Vec<&String> = lines.iter().filter(|l| l.contains("/objects/")).collect();
    assert_eq!(objects.len(), 9, "{objects:#?}");
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
    assert_same_as_nagios(&cfg, &out);
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
    assert_same_as_nagios(&cfg, &out);
}

/// Objects using what the sample configurations do not: groups of every kind (nested,
/// by members and by the members' own lists), a service on a host group, a contact
/// group replaced by `null`, event handlers (per service and global), a passive service
/// with a freshness threshold, dependencies and escalations on lists and groups.
const EVERYTHING: &str = r#"define timeperiod {
    timeperiod_name 24x7
    alias           24x7
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define timeperiod {
    timeperiod_name nights
    alias           Nights
    monday          00:00-06:00,22:00-24:00
    exclude         holidays
}
define timeperiod {
    timeperiod_name holidays
    alias           Holidays
    december 25     00:00-24:00
}
define command {
    command_name check_tcp
    command_line $USER1$/check_tcp -H $HOSTADDRESS$ -p $ARG1$
}
define command {
    command_name check_dummy
    command_line $USER1$/check_dummy $ARG1$ "$ARG2$"
}
define command {
    command_name notify-by-script
    command_line /usr/local/bin/notify "$CONTACTEMAIL$" "$NOTIFICATIONTYPE$" "$HOSTNAME$" "$SERVICEDESC$"
}
define command {
    command_name restart-service
    command_line /usr/local/bin/restart $HOSTNAME$ $SERVICEDESC$ $SERVICESTATE$ $SERVICESTATETYPE$ $ARG1$
}
define command {
    command_name log-event
    command_line /usr/local/bin/log-event $HOSTNAME$ $HOSTSTATE$
}
define contact {
    name                          base-contact
    service_notification_period   24x7
    host_notification_period      24x7
    service_notification_options  w,u,c,r
    host_notification_options     d,u,r
    service_notification_commands notify-by-script
    host_notification_commands    notify-by-script
    register                      0
}
define contact {
    use          base-contact
    contact_name alice
    email        alice@example.org
    contactgroups admins
}
define contact {
    use          base-contact
    contact_name bob
    email        bob@example.org
}
define contact {
    use          base-contact
    contact_name boss
    email        boss@example.org
}
define contactgroup {
    contactgroup_name admins
    alias             Admins
    members           bob
}
define contactgroup {
    contactgroup_name everyone
    alias             Everyone
    members           boss
    contactgroup_members admins
}
define host {
    name                  base-host
    check_command         check_tcp!22
    max_check_attempts    3
    check_period          24x7
    notification_period   24x7
    contact_groups        admins
    register              0
}
define host {
    use       base-host
    host_name router
    alias     Router
    address   127.0.0.1
}
define host {
    use        base-host
    host_name  db1
    alias      Database
    address    127.0.0.2
    parents    router
    hostgroups databases
}
define host {
    use        base-host
    host_name  web1
    alias      Web 1
    address    127.0.0.3
    parents    router
    hostgroups web
}
define host {
    use        base-host
    host_name  web2
    alias      Web 2
    address    127.0.0.4
    parents    router
    hostgroups web
}
define hostgroup {
    hostgroup_name databases
    alias          Databases
}
define hostgroup {
    hostgroup_name web
    alias          Web servers
}
define hostgroup {
    hostgroup_name all
    alias          All
    hostgroup_members databases,web
}
define service {
    name                base-service
    max_check_attempts  3
    check_interval      5
    retry_interval      1
    check_period        24x7
    notification_period 24x7
    contact_groups      admins
    register            0
}
define service {
    use                 base-service
    host_name           db1
    service_description postgres
    check_command       check_tcp!5432
    servicegroups       data
}
define service {
    use                 base-service
    hostgroup_name      web
    service_description http
    check_command       check_tcp!80
    event_handler       restart-service!apache2
    servicegroups       frontends
}
define service {
    use                 base-service
    hostgroup_name      web
    service_description app
    check_command       check_tcp!8080
    contacts            alice
    contact_groups      null
}
define service {
    use                    base-service
    host_name              db1
    service_description    backup
    check_command          check_dummy!2!no backup for a day
    active_checks_enabled  0
    passive_checks_enabled 1
    check_freshness        1
    freshness_threshold    93600
}
define servicegroup {
    servicegroup_name data
    alias             Data
}
define servicegroup {
    servicegroup_name frontends
    alias             Front ends
    members           web1,app,web2,app
}
define servicedependency {
    host_name                     db1
    service_description           postgres
    dependent_hostgroup_name      web
    dependent_service_description app
    execution_failure_criteria    c,u
    notification_failure_criteria w,c,u
}
define hostdependency {
    host_name                     router
    dependent_host_name           db1,web1
    notification_failure_criteria d,u
}
define serviceescalation {
    host_name           db1
    service_description postgres
    first_notification  3
    last_notification   0
    notification_interval 30
    contact_groups      everyone
}
define hostescalation {
    hostgroup_name        web
    first_notification    2
    last_notification     5
    notification_interval 60
    escalation_options    d,r
    contacts              boss
}
"#;

#[test]
fn groups_dependencies_escalations_handlers_and_passive_checks() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("objects.cfg"), EVERYTHING).unwrap();
    std::fs::write(
        root.join("resource.cfg"),
        "$USER1$=/usr/lib/nagios/plugins\n",
    )
    .unwrap();
    let cfg = root.join("nagios.cfg");
    std::fs::write(
        &cfg,
        "cfg_file=objects.cfg\nresource_file=resource.cfg\ninterval_length=60\nglobal_host_event_handler=log-event\nenable_event_handlers=1\nillegal_macro_output_chars=`~$&|'\"<>\n",
    )
    .unwrap();
    nagios_accepts(&cfg);
    let out = root.join("out");
    let r = import(&cfg, &out);
    assert_eq!(r.code, 0, "import: {}", r.stderr);
    assert_eq!(
        report(&out, root),
        ["nagios.cfg:6: illegal_macro_output_chars=`~$&|'\"<>: not needed: hcoop-monitor never puts a check's output into a shell's command line (notification commands read it from NAGIOS_* variables, event handlers get each macro as one argument)"]
    );

    let groups = toml(&out, "groups.toml");
    let members = |section: &str, name: &str| -> Vec<String> {
        let g = entries(&groups, section)
            .into_iter()
            .find(|g| g["name"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("no {section} {name}"));
        strs(&g["members"]).into_iter().map(String::from).collect()
    };
    assert_eq!(members("contactgroup", "admins"), ["bob", "alice"]);
    assert_eq!(members("hostgroup", "web"), ["web1", "web2"]);
    assert_eq!(
        members("servicegroup", "frontends"),
        ["web1/app", "web2/app", "web1/http", "web2/http"]
    );
    let all = entries(&groups, "hostgroup")
        .into_iter()
        .find(|g| g["name"].as_str() == Some("all"))
        .unwrap();
    assert_eq!(strs(&all["hostgroup_members"]), ["databases", "web"]);

    let services = toml(&out, "services.toml");
    let http = find(&services, "service", "web2", "http");
    assert_eq!(
        http["event_handler"].as_str(),
        Some("/usr/local/bin/restart $HOSTNAME$ $SERVICEDESC$ $SERVICESTATE$ $SERVICESTATETYPE$ apache2")
    );
    let app = find(&services, "service", "web1", "app");
    assert_eq!(strs(&app["contacts"]), ["alice"]);
    assert!(app.get("contact_groups").is_none(), "null: none");
    let backup = find(&services, "service", "db1", "backup");
    assert_eq!(backup["active_checks_enabled"].as_bool(), Some(false));
    assert_eq!(backup["passive_checks_enabled"].as_bool(), Some(true));
    assert_eq!(backup["check_freshness"].as_bool(), Some(true));
    assert_eq!(backup["freshness_threshold"].as_str(), Some("1day 2h"));
    assert_eq!(backup["check"].as_str(), Some("check_dummy"), "{backup}");
    assert_eq!(strs(&backup["args"]), ["2", "no backup for a day"]);
    let daemon = toml(&out, "daemon.toml");
    assert_eq!(
        daemon["daemon"]["global_host_event_handler"].as_str(),
        Some("/usr/local/bin/log-event $HOSTNAME$ $HOSTSTATE$")
    );

    let deps = toml(&out, "dependencies.toml");
    let pairs: Vec<String> = entries(&deps, "servicedependency")
        .iter()
        .map(|d| {
            format!(
                "{}/{} <- {}/{} {} {}",
                d["host"].as_str().unwrap(),
                d["service"].as_str().unwrap(),
                d["dependent_host"].as_str().unwrap(),
                d["dependent_service"].as_str().unwrap(),
                d["execution_failure_criteria"].as_str().unwrap(),
                d["notification_failure_criteria"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        pairs,
        [
            "db1/postgres <- web1/app c,u w,c,u",
            "db1/postgres <- web2/app c,u w,c,u"
        ]
    );
    let hosts: Vec<&str> = entries(&deps, "hostdependency")
        .iter()
        .map(|d| d["dependent_host"].as_str().unwrap())
        .collect();
    assert_eq!(hosts, ["db1", "web1"]);

    let esc = toml(&out, "escalations.toml");
    let se = entries(&esc, "serviceescalation");
    assert_eq!(se.len(), 1);
    assert_eq!(se[0]["first_notification"].as_integer(), Some(3));
    assert_eq!(se[0]["notification_interval"].as_str(), Some("30m"));
    assert_eq!(strs(&se[0]["contact_groups"]), ["everyone"]);
    let he = entries(&esc, "hostescalation");
    let escalated: Vec<&str> = he.iter().map(|e| e["host"].as_str().unwrap()).collect();
    assert_eq!(escalated, ["web1", "web2"]);
    assert_eq!(he[0]["last_notification"].as_integer(), Some(5));
    assert_eq!(he[0]["escalation_options"].as_str(), Some("d,r"));
    assert_eq!(strs(&he[0]["contacts"]), ["boss"]);

    let v = validate(&out);
    assert_eq!(v.code, 0, "validate: {}{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.trim(), "configuration OK: 4 hosts, 6 services");

    assert_same_as_nagios(&cfg, &out);

    // without --out: the same as one document on stdout, the report on stderr
    let r = run(
        &bin("hcoop-monitor"),
        &["import", "nagios", cfg.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "import: {}", r.stderr);
    assert!(
        r.stderr.contains(": illegal_macro_output_chars="),
        "{}",
        r.stderr
    );
    let one = root.join("one");
    std::fs::create_dir(&one).unwrap();
    std::fs::write(one.join("imported.toml"), &r.stdout).unwrap();
    let v = validate(&one);
    assert_eq!(v.code, 0, "validate: {}{}", v.stdout, v.stderr);
    assert_eq!(v.stdout.trim(), "configuration OK: 4 hosts, 6 services");
}

/// Templates as Nagios resolves them: a `use` list (the first template wins, each
/// resolved with its own first), `+` on a list, `null` on a number (0) and on a list.
const INHERITANCE: &str = r#"define timeperiod {
 timeperiod_name always
 alias always
 sunday 00:00-24:00
}
define timeperiod {
 timeperiod_name other
 alias other
 monday 00:00-24:00
}
define command {
 command_name x
 command_line /bin/true $ARG1$
}
define contact {
 contact_name c1
 name c1t
 host_notifications_enabled 0
 service_notifications_enabled 0
 host_notification_period always
 service_notification_period always
 host_notification_commands x
 service_notification_commands x
}
define contact {
 contact_name c2
 use c1t
}
define contactgroup {
 contactgroup_name g1
 members c1
}
define contactgroup {
 contactgroup_name g2
 members c2
}
define hostgroup {
 hostgroup_name hg1
}
define hostgroup {
 hostgroup_name hg2
}
define host {
 name a
 check_interval 1
 notification_interval 11
 hostgroups hg1
 register 0
}
define host {
 name b
 check_interval 2
 retry_interval 2
 max_check_attempts 4
 contact_groups g2
 notification_period other
 register 0
}
define host {
 name c
 use b
 retry_interval 3
 register 0
}
define host {
 host_name h
 use a,c
 hostgroups +hg2
 check_command x
 notification_interval null
}
define service {
 host_name h
 service_description s
 check_command x!1
 max_check_attempts 2
 check_interval 5
 retry_interval 1
}
"#;

#[test]
fn templates_resolve_as_in_nagios() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("objects.cfg"), INHERITANCE).unwrap();
    let cfg = root.join("nagios.cfg");
    std::fs::write(&cfg, "cfg_file=objects.cfg\n").unwrap();
    nagios_accepts(&cfg);
    let out = root.join("out");
    let r = import(&cfg, &out);
    assert_eq!(r.code, 0, "import: {}", r.stderr);
    let hosts = toml(&out, "hosts.toml");
    let h = entries(&hosts, "host")[0];
    assert_eq!(h["check_interval"].as_str(), Some("1m")); // a, before c and b
    assert_eq!(h["retry_interval"].as_str(), Some("3m")); // c, before b
    assert_eq!(h["max_check_attempts"].as_integer(), Some(4)); // b, through c
    assert_eq!(h["notification_interval"].as_str(), Some("0s")); // null: 0
    let services = toml(&out, "services.toml");
    let s = find(&services, "service", "h", "s");
    assert_eq!(s["notification_interval"].as_str(), Some("0s")); // its host's
    assert_eq!(strs(&s["contact_groups"]), ["g2"]);
    assert_same_as_nagios(&cfg, &out);
    let v = validate(&out);
    assert_eq!(v.code, 0, "validate: {}{}", v.stdout, v.stderr);
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
