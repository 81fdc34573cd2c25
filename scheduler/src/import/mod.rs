//! `hcoop-monitor import nagios NAGIOS.CFG [--out DIR]`: a Nagios 4 configuration read
//! as Nagios reads it and written as our TOML, with a report of every object and
//! directive not carried over, by file and line.
//!
//! - [`parse`]: the main file (`cfg_file`, `cfg_dir`, `resource_file`), object files
//!   and `$USERn$` resources, every object and directive with its place.
//! - [`resolve`]: templates (`use` lists, left wins, `+` additive values, `null`,
//!   `register 0`).
//! - [`command`]: `check_command NAME!ARG…` into a command line (`$ARGn$`, `$USERn$`,
//!   the object's fixed macros), and whether it runs one of our built-in checks.
//! - [`convert`]: the objects into `[[timeperiod]]`, `[[contact]]`, `[[host]]`,
//!   `[[service]]` (one per host), groups, dependencies and escalations (one per pair),
//!   and the report.

pub mod command;
pub mod convert;
pub mod parse;
pub mod resolve;
mod toml_out;

pub use convert::Imported;
use std::path::Path;

/// The files an import writes into its directory (a later import removes those it
/// does not write again).
pub const FILES: &[&str] = &[
    "defaults.toml",
    "daemon.toml",
    "timeperiods.toml",
    "contacts.toml",
    "hosts.toml",
    "services.toml",
    "groups.toml",
    "dependencies.toml",
    "escalations.toml",
];

/// The report's file in the output directory.
pub const REPORT: &str = "import-report.txt";

/// How the report starts.
const REPORT_HEADER: &str = "# What `hcoop-monitor import nagios` did not carry over from";

/// Reads the Nagios configuration whose main file is `main` and converts it. An error
/// (one line, with the file and line) where the configuration cannot be read or Nagios
/// itself would refuse it.
pub fn import(main: &Path) -> Result<Imported, String> {
    let nagios = parse::read(main)?;
    let resolved = resolve::resolve(&nagios.objects)?;
    convert::convert(
        &nagios,
        &nagios.objects,
        &resolved,
        &main.display().to_string(),
    )
}

/// The report as a file: a header, then one line per item.
pub fn report_text(main: &Path, imported: &Imported) -> String {
    let mut text = format!(
        "{REPORT_HEADER} {} ({} items):\n",
        main.display().to_string().replace(['\n', '\r'], " "),
        imported.report.len()
    );
    for line in &imported.report {
        text.push_str(line);
        text.push('\n');
    }
    text
}

/// Writes the files and the report into `dir` (made when missing), each readable by
/// its owner only (they may hold `$USERn$` secrets); files of an earlier import that
/// this one does not write are removed.
pub fn write(dir: &Path, main: &Path, imported: &Imported) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot make {}: {e}", dir.display()))?;
    // an import replaces or removes only what an import wrote: a directory holding the
    // admin's own daemon.toml is refused before anything is written
    for name in FILES.iter().chain([&REPORT]) {
        let path = dir.join(name);
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let ours = meta.is_file()
            && std::fs::read_to_string(&path)
                .is_ok_and(|t| t.starts_with(toml_out::HEADER) || t.starts_with(REPORT_HEADER));
        if !ours {
            return Err(format!(
                "{} exists and was not written by an import: give --out a directory of its own",
                path.display()
            ));
        }
    }
    // the commands may hold $USERn$ values (passwords of resource.cfg): readable by
    // their owner only, as a resource file should be
    let put = |name: &str, text: &str| -> Result<(), String> {
        use std::io::Write as _;
        use std::os::unix::fs::OpenOptionsExt as _;
        let path = dir.join(name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let _ = std::fs::remove_file(&tmp);
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    };
    for (name, text) in &imported.files {
        put(name, text)?;
    }
    for name in FILES {
        if !imported.files.iter().any(|(n, _)| n == name) {
            let path = dir.join(name);
            if path.exists() {
                std::fs::remove_file(&path)
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
            }
        }
    }
    put(REPORT, &report_text(main, imported))
}

/// All the files as one TOML document.
pub fn document(imported: &Imported) -> String {
    imported
        .files
        .iter()
        .map(|(_, text)| text.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A Nagios configuration in a temp dir: nagios.cfg naming `objects.cfg` and a
    /// resource file.
    fn nagios(objects: &str) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("objects.cfg"), objects).unwrap();
        std::fs::write(
            d.path().join("resource.cfg"),
            "$USER1$=/usr/lib/nagios/plugins\n$USER2$=/opt/plugins\n$USER5$=hunter2\n",
        )
        .unwrap();
        let main = d.path().join("nagios.cfg");
        std::fs::write(
            &main,
            "cfg_file=objects.cfg\nresource_file=resource.cfg\ninterval_length=60\n",
        )
        .unwrap();
        (d, main)
    }

    /// The import's document, read back as TOML.
    fn table(objects: &str) -> (toml::Table, Vec<String>) {
        let (d, main) = nagios(objects);
        let imported = import(&main).unwrap();
        let doc = document(&imported);
        let table = doc
            .parse::<toml::Table>()
            .unwrap_or_else(|e| panic!("{e}\n{doc}"));
        // the report without the temp dir
        let dir = format!("{}/", d.path().display());
        let report = imported
            .report
            .iter()
            .map(|l| l.replace(&dir, ""))
            .collect();
        (table, report)
    }

    fn entries<'a>(t: &'a toml::Table, section: &str) -> Vec<&'a toml::Table> {
        t.get(section)
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_table()).collect())
            .unwrap_or_default()
    }

    const BASE: &str = "\
define timeperiod {
    timeperiod_name 24x7
    alias           all the time
    sunday          00:00-24:00
    monday          00:00-24:00
    tuesday         00:00-24:00
    wednesday       00:00-24:00
    thursday        00:00-24:00
    friday          00:00-24:00
    saturday        00:00-24:00
}
define timeperiod {
    timeperiod_name workhours
    monday          09:00-17:00
    2026-12-25      00:00-24:00 ; a holiday, as a date rule
    exclude         holidays
}
define timeperiod {
    timeperiod_name holidays
    december 24 - december 26  00:00-24:00
}
define command {
    command_name check_tcp
    command_line $USER1$/check_tcp -H $HOSTADDRESS$ -p $ARG1$
}
define command {
    command_name check_other
    command_line $USER2$/check_thing -H $HOSTADDRESS$ -s $USER5$ -a '$ARG1$' -d $SERVICEDESC$ -x $_SERVICEPORT$ -y $SERVICESTATE$
}
define command {
    command_name notify-by-email
    command_line /usr/bin/printf \"%b\" \"$NOTIFICATIONTYPE$ $HOSTNAME$ $LONGDATETIME$\" | /usr/bin/mail -s x $CONTACTEMAIL$
}
define command {
    command_name restart
    command_line /usr/local/bin/restart $HOSTADDRESS$ $SERVICESTATE$ $ARG1$
}
define contact {
    name                          generic-contact
    service_notification_commands notify-by-email
    host_notification_commands    notify-by-email
    service_notification_options  w,u,c,r
    host_notification_period      workhours
    register                      0
}
define contact {
    use          generic-contact
    contact_name alice
    alias        Alice A.
    email        alice@example.org
    host_notifications_enabled 0
}
define contactgroup {
    contactgroup_name admins
    members           alice
}
define host {
    name                  generic-host
    check_interval        5
    max_check_attempts    3
    contact_groups        admins
    notification_interval 120
    notes_url             http://wiki/$HOSTNAME$
    hostgroups            all-hosts
    register              0
}
define host {
    name           tcp-host
    check_command  check_tcp!22
    check_interval 10
    register       0
}
define host {
    use        tcp-host,generic-host ; tcp-host wins check_interval
    host_name  web1
    alias      Web one
    address    10.0.0.1
    hostgroups +web
}
define host {
    use        generic-host
    host_name  web2
    address    10.0.0.2
    parents    web1
    hostgroups +web
    icon_image server.png
}
define host {
    use        generic-host
    host_name  db1
    hostgroups null
}
define hostgroup {
    hostgroup_name all-hosts
}
define hostgroup {
    hostgroup_name web
    alias          Web servers
}
define service {
    name                 generic-service
    max_check_attempts   4
    check_interval       2
    retry_interval       1
    obsess_over_service  0
    process_perf_data    1
    register             0
}
define service {
    use                 generic-service
    hostgroup_name      all-hosts
    host_name           db1,!web2
    service_description ssh
    check_command       check_tcp!22
    servicegroups       logins
}
define service {
    use                 generic-service
    host_name           web2
    service_description thing
    check_command       check_other!a b!c
    _port               8080
    event_handler       restart!now
    notifications_enabled 0
}
define service {
    use                 generic-service
    host_name           web1
    service_description bad tcp
    check_command       check_tcp!22 --bogus
}
define servicegroup {
    servicegroup_name logins
    members           web2,thing
}
define servicedependency {
    host_name                     web1,db1
    service_description           ssh
    dependent_service_description *,!ssh
    execution_failure_criteria    c,u
}
define hostdependency {
    host_name                     web1
    dependent_hostgroup_name      web
    notification_failure_criteria d
    inherits_parent               1
}
define serviceescalation {
    host_name           web1
    service_description *
    first_notification  3
    last_notification   0
    contact_groups      admins
}
define hostescalation {
    hostgroup_name     web
    first_notification 2
    notification_interval 60
}
";

    #[test]
    fn a_whole_configuration() {
        let (t, report) = table(BASE);
        let periods = entries(&t, "timeperiod");
        assert_eq!(periods.len(), 3);
        assert_eq!(periods[1]["name"].as_str(), Some("workhours"));
        assert_eq!(
            periods[1]["rules"].as_array().unwrap(),
            &vec![
                toml::Value::from("monday 09:00-17:00"),
                toml::Value::from("2026-12-25 00:00-24:00")
            ]
        );
        assert_eq!(periods[1]["exclude"].as_array().unwrap().len(), 1);
        assert_eq!(
            periods[2]["rules"].as_array().unwrap()[0].as_str(),
            Some("december 24 - december 26 00:00-24:00")
        );

        let contacts = entries(&t, "contact");
        assert_eq!(contacts.len(), 1);
        let alice = contacts[0];
        assert_eq!(alice["name"].as_str(), Some("alice"));
        assert_eq!(
            alice["command"].as_str(),
            Some("/usr/bin/printf \"%b\" \"${NAGIOS_NOTIFICATIONTYPE} ${NAGIOS_HOSTNAME} ${NAGIOS_LONGDATETIME}\" | /usr/bin/mail -s x alice@example.org")
        );
        assert_eq!(alice["service_options"].as_str(), Some("w,u,c,r"));
        assert_eq!(alice["host_options"].as_str(), Some("n"));
        assert_eq!(
            alice["host_notification_period"].as_str(),
            Some("workhours")
        );
        assert!(alice.get("email").is_none());

        let hosts = entries(&t, "host");
        assert_eq!(hosts.len(), 3);
        let web1 = hosts[0];
        assert_eq!(web1["name"].as_str(), Some("web1"));
        assert_eq!(web1["check"].as_str(), Some("check_tcp"));
        assert_eq!(
            web1["args"].as_array().unwrap(),
            &vec![
                toml::Value::from("-H"),
                toml::Value::from("$HOSTADDRESS$"),
                toml::Value::from("-p"),
                toml::Value::from("22")
            ]
        );
        assert_eq!(web1["check_interval"].as_str(), Some("10m"));
        assert_eq!(web1["notification_interval"].as_str(), Some("2h"));
        assert_eq!(web1["contact_groups"].as_array().unwrap().len(), 1);
        let db1 = hosts[2];
        assert_eq!(db1["address"].as_str(), Some("db1"));
        assert!(db1.get("check").is_none() && db1.get("command").is_none());
        assert_eq!(hosts[1]["parents"].as_array().unwrap().len(), 1);

        let services = entries(&t, "service");
        let names: Vec<(String, String)> = services
            .iter()
            .map(|s| {
                (
                    s["host"].as_str().unwrap().to_string(),
                    s["name"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        // ssh on all-hosts and db1 but web2
        assert_eq!(
            names,
            [
                ("web1", "ssh"),
                ("db1", "ssh"),
                ("web2", "thing"),
                ("web1", "bad tcp")
            ]
            .map(|(h, s)| (h.to_string(), s.to_string()))
        );
        let ssh = services[0];
        assert_eq!(ssh["max_check_attempts"].as_integer(), Some(4));
        assert_eq!(ssh["check_interval"].as_str(), Some("2m"));
        // the host's contacts and interval, by Nagios' implied inheritance
        assert_eq!(ssh["notification_interval"].as_str(), Some("2h"));
        assert_eq!(
            ssh["contact_groups"].as_array().unwrap()[0].as_str(),
            Some("admins")
        );
        let thing = services[2];
        assert_eq!(
            thing["command"].as_str(),
            Some("/opt/plugins/check_thing -H $HOSTADDRESS$ -s hunter2 -a 'a b' -d thing -x 8080 -y $SERVICESTATE$")
        );
        assert_eq!(
            thing["event_handler"].as_str(),
            Some("/usr/local/bin/restart $HOSTADDRESS$ $SERVICESTATE$ now")
        );
        assert_eq!(thing["notifications_enabled"].as_bool(), Some(false));
        assert_eq!(
            services[3]["command"].as_str(),
            Some("/usr/lib/nagios/plugins/check_tcp -H $HOSTADDRESS$ -p 22 --bogus")
        );

        let hostgroups = entries(&t, "hostgroup");
        assert_eq!(hostgroups[0]["name"].as_str(), Some("all-hosts"));
        assert_eq!(
            hostgroups[0]["members"].as_array().unwrap(),
            &vec![toml::Value::from("web1"), toml::Value::from("web2")]
        );
        assert_eq!(hostgroups[1]["alias"].as_str(), Some("Web servers"));
        let sg = entries(&t, "servicegroup");
        assert_eq!(
            sg[0]["members"].as_array().unwrap(),
            &["web2/thing", "web1/ssh", "db1/ssh"]
                .map(toml::Value::from)
                .to_vec()
        );
        assert_eq!(
            entries(&t, "contactgroup")[0]["members"]
                .as_array()
                .unwrap()
                .len(),
            1
        );

        // web1/ssh and db1/ssh, each on the other services of its own host (db1 has none)
        let deps = entries(&t, "servicedependency");
        let pairs: Vec<String> = deps
            .iter()
            .map(|d| {
                format!(
                    "{}/{} <- {}/{}",
                    d["host"].as_str().unwrap(),
                    d["service"].as_str().unwrap(),
                    d["dependent_host"].as_str().unwrap(),
                    d["dependent_service"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(pairs, ["web1/ssh <- web1/bad tcp"]);
        assert_eq!(deps[0]["execution_failure_criteria"].as_str(), Some("c,u"));
        assert_eq!(deps[0]["notification_failure_criteria"].as_str(), Some("n"));
        assert_eq!(deps[0]["inherits_parent"].as_bool(), Some(false));
        let hd = entries(&t, "hostdependency");
        assert_eq!(hd.len(), 1); // web1 on itself left out
        assert_eq!(hd[0]["dependent_host"].as_str(), Some("web2"));
        assert_eq!(hd[0]["inherits_parent"].as_bool(), Some(true));

        let se = entries(&t, "serviceescalation");
        assert_eq!(se.len(), 2);
        assert_eq!(se[0]["service"].as_str(), Some("ssh"));
        assert_eq!(se[0]["first_notification"].as_integer(), Some(3));
        // implied from the service, which has it from its host
        assert_eq!(se[0]["notification_interval"].as_str(), Some("2h"));
        let he = entries(&t, "hostescalation");
        assert_eq!(he.len(), 2);
        assert_eq!(he[0]["notification_interval"].as_str(), Some("1h"));
        assert_eq!(
            he[0]["contact_groups"].as_array().unwrap()[0].as_str(),
            Some("admins")
        );

        let d = t["defaults"].as_table().unwrap();
        assert_eq!(d["check_interval"].as_str(), Some("5m"));
        assert_eq!(d["notification_interval"].as_str(), Some("30m"));

        assert_eq!(
            report,
            [
                "objects.cfg:40: contact template 'generic-contact': service_notification_commands notify-by-email: the macro $LONGDATETIME$ is not given to notification commands by hcoop-monitor: it is empty",
                "objects.cfg:41: contact template 'generic-contact': host_notification_commands notify-by-email: the macro $LONGDATETIME$ is not given to notification commands by hcoop-monitor: it is empty",
                "objects.cfg:63: host template 'generic-host': notes_url http://wiki/$HOSTNAME$: display only (Nagios' web pages): no counterpart",
                "objects.cfg:86: host 'web2': icon_image server.png: display only (Nagios' web pages): no counterpart",
                "objects.cfg:106: service template 'generic-service': process_perf_data 1: performance data files and commands: no counterpart (hcoop-monitor keeps each result's performance data in its API and metrics)",
                "objects.cfg:121: service 'thing' on 'web2': check_command check_other!a b!c: the macro $SERVICESTATE$ is not expanded by hcoop-monitor: the command sees the text as written",
                "objects.cfg:130: service 'bad tcp' on 'web1': check_command check_tcp!22 --bogus: the built-in check_tcp refuses its arguments: unexpected argument '--bogus' found: kept as an external command",
                "objects.cfg:142: hostdependency: 'web1' on itself: left out",
            ]
        );
    }

    #[test]
    fn event_handlers_without_a_shell_and_with_the_daemons_macros() {
        let objects = "\
define command {
    command_name check
    command_line /bin/true
}
define command {
    command_name fix
    command_line $USER1$/fix $HOSTNAME$ $SERVICESTATE$ $_SERVICEUNIT$ '$ARG1$'
}
define command {
    command_name dated
    command_line /bin/log $LONGDATETIME$
}
define command {
    command_name piped
    command_line /bin/log $HOSTNAME$ | logger
}
define host {
    host_name h
    alias     Host one
}
define service {
    host_name           h
    service_description a
    check_command       check
    event_handler       fix!now
    _unit               web.service
}
define service {
    host_name           h
    service_description b
    check_command       check
    event_handler       dated
}
define service {
    host_name           h
    service_description c
    check_command       check
    event_handler       piped
}
";
        let (t, report) = table(objects);
        let services = entries(&t, "service");
        assert_eq!(
            services[0]["event_handler"].as_str(),
            Some("/usr/lib/nagios/plugins/fix $HOSTNAME$ $SERVICESTATE$ web.service now")
        );
        assert!(services[1].get("event_handler").is_none());
        assert!(services[2].get("event_handler").is_none());
        assert_eq!(
            report,
            [
                "objects.cfg:32: service 'b' on 'h': event_handler dated: the macro $LONGDATETIME$ is not one hcoop-monitor gives event handlers: not carried over",
                "objects.cfg:38: service 'c' on 'h': event_handler piped: its command line needs a shell, which hcoop-monitor never uses for event handlers: not carried over",
            ]
        );
    }

    #[test]
    fn time_period_templates() {
        // as nagios4 resolves it: a weekday the period has is its own, the others and
        // the template's dates are added
        let objects = "\
define timeperiod {
    name     base
    monday   09:00-17:00
    tuesday  09:00-17:00
    december 25   00:00-24:00
    register 0
}
define timeperiod {
    use             base
    timeperiod_name work
    tuesday         10:00-12:00
    day 1           00:00-01:00
}
";
        let (t, report) = table(objects);
        let periods = entries(&t, "timeperiod");
        assert_eq!(periods.len(), 1);
        let rules: Vec<&str> = periods[0]["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap())
            .collect();
        assert_eq!(
            rules,
            [
                "tuesday 10:00-12:00",
                "day 1 00:00-01:00",
                "monday 09:00-17:00",
                "december 25 00:00-24:00"
            ]
        );
        assert!(report.is_empty(), "{report:?}");
    }

    #[test]
    fn hosts_services_periods_and_contacts_validate() {
        // the sections the configuration reads already: hosts, services, time periods
        // and contacts (the others are checked end to end)
        let (_d, main) = nagios(BASE);
        let imported = import(&main).unwrap();
        let keep = [
            "defaults.toml",
            "timeperiods.toml",
            "contacts.toml",
            "hosts.toml",
            "services.toml",
        ];
        let files: Vec<(Option<PathBuf>, String)> = imported
            .files
            .iter()
            .filter(|(n, _)| keep.contains(&n.as_str()))
            .map(|(n, text)| {
                // without the keys of sections still to come
                let text: String = text
                    .lines()
                    .filter(|l| {
                        !["contact_groups", "event_handler"]
                            .iter()
                            .any(|k| l.starts_with(k))
                    })
                    .map(|l| format!("{l}\n"))
                    .collect();
                (Some(PathBuf::from(n)), text)
            })
            .collect();
        let config = crate::config::Config::from_files(files).unwrap_or_else(|e| panic!("{e:#}"));
        assert_eq!(config.hosts.len(), 3);
        assert_eq!(config.services.len(), 4);
        assert_eq!(config.contacts.len(), 1);
        assert!(config.periods.has("workhours"));
    }

    #[test]
    fn errors_nagios_refuses_name_file_and_line() {
        let cases = [
            ("define host {\n host_name a\n check_command nope!1\n}\n", "objects.cfg:3: the command 'nope' is not defined"),
            ("define host {\n host_name a\n}\ndefine host {\n host_name a\n}\n", "objects.cfg:4: host 'a' is defined twice"),
            ("define host {\n host_name a\n parents b\n}\n", "objects.cfg:3: host 'a': parent 'b' is not a host"),
            ("define service {\n host_name a\n service_description x\n check_command c\n}\n", "objects.cfg:2: host_name: no host named 'a'"),
            ("define host {\n host_name a\n check_interval often\n}\n", "objects.cfg:3: check_interval 'often': expected a number"),
            ("define host {\n host_name a\n hostgroups g\n}\n", "objects.cfg:3: host 'a': no hostgroup named 'g'"),
            ("define host {\n host_name a\n}\ndefine servicegroup {\n servicegroup_name g\n members a\n}\n", "objects.cfg:6: servicegroup 'g': members are HOST,SERVICE pairs; one is incomplete"),
        ];
        for (text, want) in cases {
            let (_d, main) = nagios(text);
            let e = import(&main).unwrap_err();
            assert!(e.ends_with(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn files_written_and_stale_ones_removed() {
        let (d, main) = nagios(BASE);
        let out = d.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let imported = import(&main).unwrap();
        // a file an import did not write is neither replaced nor removed
        std::fs::write(out.join("daemon.toml"), "[daemon]\nuser = \"x\"\n").unwrap();
        let e = write(&out, &main, &imported).unwrap_err();
        assert_eq!(
            e,
            format!(
                "{}/daemon.toml exists and was not written by an import: give --out a directory of its own",
                out.display()
            )
        );
        assert!(!out.join("hosts.toml").exists());
        std::fs::write(
            out.join("daemon.toml"),
            toml_out::Toml::new("x", "y").finish(),
        )
        .unwrap();
        write(&out, &main, &imported).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "contacts.toml",
                "defaults.toml",
                "dependencies.toml",
                "escalations.toml",
                "groups.toml",
                "hosts.toml",
                "import-report.txt",
                "services.toml",
                "timeperiods.toml"
            ]
        );
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(out.join("services.toml"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let report = std::fs::read_to_string(out.join(REPORT)).unwrap();
        assert!(report.starts_with("# What `hcoop-monitor import nagios` did not carry over from "));
        assert_eq!(report.lines().count(), imported.report.len() + 1);
    }
}
