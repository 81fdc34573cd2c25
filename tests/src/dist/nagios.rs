//! Nagios `define command` blocks in the style of Debian's
//! `/etc/nagios-plugins/config/*.cfg`: for each check the variants its common uses need,
//! named `hcoop_check_X[_VARIANT]`, with `$ARGn$` for what a service sets. The variants
//! are data ([`VARIANTS`]); each one's sample values ([`Variant::samples`]) are what
//! the test substitutes to prove the command line is accepted by the check's own
//! parser and validation.

use super::{help_line, PLUGIN_DIR};
use hcoop_plugins::checks::BUILTINS;
use std::fmt::Write;

/// One command definition of a check.
#[derive(Debug, Clone, Copy)]
pub struct Variant {
    /// The plugin, `check_disk`.
    pub check: &'static str,
    /// Appended to the command name (`hcoop_check_disk_all`); empty for the main one.
    pub suffix: &'static str,
    /// The arguments, with `$HOSTADDRESS$` and `$ARGn$` macros.
    pub args: &'static str,
    /// A typical value of each `$ARGn$` in order (shown in the file as an example
    /// `check_command`, and substituted by the test).
    pub samples: &'static [&'static str],
}

const fn v(
    check: &'static str,
    suffix: &'static str,
    args: &'static str,
    samples: &'static [&'static str],
) -> Variant {
    Variant {
        check,
        suffix,
        args,
        samples,
    }
}

/// The command definitions, by check in the order of [`BUILTINS`].
#[rustfmt::skip]
pub const VARIANTS: &[Variant] = &[
    v("check_load", "", "-w '$ARG1$' -c '$ARG2$'", &["15,10,5", "30,25,20"]),
    v("check_load", "percpu", "-r -w '$ARG1$' -c '$ARG2$'", &["2,1.5,1.2", "4,3,2.5"]),
    v("check_disk", "", "-w '$ARG1$' -c '$ARG2$' -e -p '$ARG3$'", &["10%", "5%", "/"]),
    v("check_disk", "all", "-w '$ARG1$' -c '$ARG2$' -e -l", &["10%", "5%"]),
    v("check_disk", "inodes", "-w '$ARG1$' -c '$ARG2$' -W '$ARG3$' -K '$ARG4$' -e -l", &["10%", "5%", "10%", "5%"]),
    v("check_mem", "", "-w '$ARG1$' -c '$ARG2$'", &["90%", "95%"]),
    v("check_mem", "cgroup", "--cgroup '$ARG1$' --cgroup-warning '$ARG2$' --cgroup-critical '$ARG3$' --oom-critical 0", &["system.slice", "90%", "95%"]),
    v("check_nrpe_client", "", "-H '$HOSTADDRESS$' -c '$ARG1$'", &["check_load"]),
    v("check_nrpe_client", "args", "-H '$HOSTADDRESS$' -c '$ARG1$' -a '$ARG2$'", &["check_disk", "/var"]),
    v("check_nrpe_client", "plain", "-H '$HOSTADDRESS$' -n -c '$ARG1$'", &["check_load"]),
    v("check_swap", "", "-w '$ARG1$' -c '$ARG2$'", &["50%", "20%"]),
    v("check_dns", "", "-H '$ARG1$' -s '$HOSTADDRESS$'", &["www.example.org"]),
    v("check_dns", "expect", "-H '$ARG1$' -s '$HOSTADDRESS$' -a '$ARG2$'", &["www.example.org", "192.0.2.10"]),
    v("check_dns", "authoritative", "-H '$ARG1$' -s '$HOSTADDRESS$' -q '$ARG2$' -A", &["example.org", "SOA"]),
    v("check_tcp", "", "-H '$HOSTADDRESS$' -p '$ARG1$'", &["5432"]),
    v("check_tcp", "tls", "-H '$HOSTADDRESS$' -p '$ARG1$' -S -D '$ARG2$'", &["443", "30,14"]),
    v("check_procs", "", "-w '$ARG1$' -c '$ARG2$'", &["250", "400"]),
    v("check_procs", "zombies", "-w '$ARG1$' -c '$ARG2$' -s Z", &["5", "10"]),
    v("check_procs", "command", "-w '$ARG1$' -c '$ARG2$' -C '$ARG3$'", &["1:", "1:", "sshd"]),
    v("check_procs", "per_user", "--per-user --min-uid '$ARG1$' --nproc-warning '$ARG2$' --nproc-critical '$ARG3$'", &["1000", "80", "95"]),
    v("check_dns_serial", "", "-m '$HOSTADDRESS$' '$ARG1$'", &["example.org"]),
    v("check_dns_serial", "named_conf", "-m '$HOSTADDRESS$' --named-conf '$ARG1$' -s '$ARG2$'", &["/etc/bind/named.conf.local", "192.0.2.53"]),
    v("check_ssh", "", "-H '$HOSTADDRESS$'", &[]),
    v("check_ssh", "port", "-H '$HOSTADDRESS$' -p '$ARG1$'", &["2222"]),
    v("check_ftp", "", "-H '$HOSTADDRESS$'", &[]),
    v("check_ftp", "starttls", "-H '$HOSTADDRESS$' --starttls -D '$ARG1$'", &["30,14"]),
    v("check_jabber", "", "-H '$HOSTADDRESS$' --domain '$ARG1$'", &["example.org"]),
    v("check_spamd", "", "-H '$HOSTADDRESS$'", &[]),
    v("check_afs", "rx", "rx -H '$HOSTADDRESS$' -p '$ARG1$'", &["7000,7003"]),
    v("check_afs", "ubik", "ubik -H '$ARG1$' -p '$ARG2$'", &["192.0.2.1,192.0.2.2", "7003"]),
    v("check_afs", "quota", "quota -H '$HOSTADDRESS$' -w '$ARG1$' -c '$ARG2$'", &["85", "95"]),
    v("check_afs", "space", "space -H '$HOSTADDRESS$' -w '$ARG1$' -c '$ARG2$'", &["90", "95"]),
    v("check_afs", "bos", "bos -H '$HOSTADDRESS$'", &[]),
    v("check_krb5", "", "-H '$HOSTADDRESS$' -r '$ARG1$'", &["EXAMPLE.ORG"]),
    v("check_krb5", "keytab", "-H '$HOSTADDRESS$' -P '$ARG1$' -k '$ARG2$'", &["host/monitor.example.org@EXAMPLE.ORG", "/etc/krb5.keytab"]),
    v("check_http", "", "-I '$HOSTADDRESS$' -H '$ARG1$'", &["www.example.org"]),
    v("check_http", "url", "-I '$HOSTADDRESS$' -H '$ARG1$' -u '$ARG2$' -e '$ARG3$'", &["www.example.org", "/status", "200"]),
    v("check_http", "tls", "-I '$HOSTADDRESS$' -H '$ARG1$' -S -C '$ARG2$' --continue-after-certificate", &["www.example.org", "30,14"]),
    v("check_http", "certificate", "-I '$HOSTADDRESS$' -H '$ARG1$' -S -C '$ARG2$'", &["www.example.org", "30,14"]),
    v("check_http", "apache", "--apache-config '$ARG1$' -w '$ARG2$' -c '$ARG3$'", &["/etc/apache2/sites-enabled", "2%", "5%"]),
    v("check_curl", "", "-I '$HOSTADDRESS$' -H '$ARG1$'", &["www.example.org"]),
    v("check_curl", "url", "-I '$HOSTADDRESS$' -H '$ARG1$' -u '$ARG2$' -e '$ARG3$'", &["www.example.org", "/status", "200"]),
    v("check_curl", "proxy", "-H '$ARG1$' -S -x '$ARG2$'", &["www.example.org", "http://proxy.example.org:3128"]),
    v("check_file_age", "", "-f '$ARG1$' -w '$ARG2$' -c '$ARG3$'", &["/var/backups/*.tar.gz", "90000", "180000"]),
    v("check_mailq", "", "-w '$ARG1$' -c '$ARG2$'", &["100", "500"]),
    v("check_mailq", "postfix", "-M postfix -w '$ARG1$' -c '$ARG2$'", &["100", "500"]),
    v("check_log", "", "-F '$ARG1$' --critical-pattern '$ARG2$'", &["/var/log/syslog", "error|fatal"]),
    v("check_log", "unit", "--journal --unit '$ARG1$' --critical-pattern '$ARG2$'", &["ssh.service", "fatal"]),
    v("check_net", "", "-i '$ARG1$' -w '$ARG2$' -c '$ARG3$'", &["eth0", "80%", "90%"]),
    v("check_pgsql", "", "-H '$HOSTADDRESS$' -d '$ARG1$' -l '$ARG2$' --password-file '$ARG3$'", &["template1", "nagios", "/etc/nagios/pgsql.pass"]),
    v("check_pgsql", "replication", "-H '$HOSTADDRESS$' -l '$ARG1$' --password-file '$ARG2$' --replication -w '$ARG3$' -c '$ARG4$'", &["nagios", "/etc/nagios/pgsql.pass", "30", "300"]),
    v("check_pgsql", "connections", "-H '$HOSTADDRESS$' -l '$ARG1$' --password-file '$ARG2$' --connections -w '$ARG3$' -c '$ARG4$'", &["nagios", "/etc/nagios/pgsql.pass", "80", "95"]),
    v("check_mysql", "", "-H '$HOSTADDRESS$' -u '$ARG1$' --password-file '$ARG2$'", &["nagios", "/etc/nagios/mysql.pass"]),
    v("check_mysql", "replica", "-H '$HOSTADDRESS$' -u '$ARG1$' --password-file '$ARG2$' -S -w '$ARG3$' -c '$ARG4$'", &["nagios", "/etc/nagios/mysql.pass", "30", "300"]),
    v("check_mysql", "connections", "-H '$HOSTADDRESS$' -u '$ARG1$' --password-file '$ARG2$' --connections -w '$ARG3$' -c '$ARG4$'", &["nagios", "/etc/nagios/mysql.pass", "80", "95"]),
    v("check_sip", "", "-H '$HOSTADDRESS$' -u '$ARG1$'", &["sip:monitor@example.org"]),
    v("check_listen", "", "-P '$ARG1$'", &["/etc/hcoop-monitor/listen.toml"]),
    v("check_smtp", "", "-H '$HOSTADDRESS$'", &[]),
    v("check_smtp", "starttls", "-H '$HOSTADDRESS$' -S -D '$ARG1$'", &["30,14"]),
    v("check_smtp", "submission", "-H '$HOSTADDRESS$' -p 587 -S -A '$ARG1$' -U '$ARG2$' --authpass-file '$ARG3$'", &["PLAIN", "monitor", "/etc/nagios/smtp.pass"]),
    v("check_imap", "", "-H '$HOSTADDRESS$'", &[]),
    v("check_imap", "imaps", "-H '$HOSTADDRESS$' -S -D '$ARG1$'", &["30,14"]),
    v("check_imap", "login", "-H '$HOSTADDRESS$' --starttls -U '$ARG1$' --password-file '$ARG2$'", &["monitor", "/etc/nagios/imap.pass"]),
    v("check_mx", "", "-d '$ARG1$'", &["example.org"]),
    v("check_mx", "min_ok", "-d '$ARG1$' --min-ok '$ARG2$'", &["example.org", "1"]),
    v("check_mail_roundtrip", "", "-H '$HOSTADDRESS$' -S -f '$ARG1$' -r '$ARG2$' -U '$ARG3$' --password-file '$ARG4$' --imap-starttls -w '$ARG5$' -c '$ARG6$'", &["monitor@example.org", "monitor@example.org", "monitor", "/etc/nagios/imap.pass", "60", "300"]),
    v("check_quota", "", "-w '$ARG1$' -c '$ARG2$'", &["90", "99"]),
    v("check_quota", "path", "-p '$ARG1$' -w '$ARG2$' -c '$ARG3$'", &["/home", "90", "99"]),
    v("check_dummy", "", "'$ARG1$' '$ARG2$'", &["0", "placeholder"]),
    v("check_users", "", "-w '$ARG1$' -c '$ARG2$'", &["5", "10"]),
    v("check_dig", "", "-H '$HOSTADDRESS$' -l '$ARG1$'", &["www.example.org"]),
    v("check_dig", "expect", "-H '$HOSTADDRESS$' -l '$ARG1$' -T '$ARG2$' -a '$ARG3$'", &["www.example.org", "A", "192.0.2.10"]),
    v("check_ldap", "", "-H '$HOSTADDRESS$' -b '$ARG1$' -3", &["dc=example,dc=org"]),
    v("check_ldap", "entries", "-H '$HOSTADDRESS$' -b '$ARG1$' -3 -W '$ARG2$' -C '$ARG3$'", &["ou=people,dc=example,dc=org", "1:", "1:"]),
    v("check_ldaps", "", "-H '$HOSTADDRESS$' -b '$ARG1$'", &["dc=example,dc=org"]),
    v("check_ldaps", "ldaps", "-H '$HOSTADDRESS$' -b '$ARG1$' -S", &["dc=example,dc=org"]),
    v("check_udp", "", "-H '$HOSTADDRESS$' -p '$ARG1$' -s '$ARG2$' -e '$ARG3$'", &["5000", "ping", "pong"]),
    v("check_pop", "", "-H '$HOSTADDRESS$'", &[]),
    v("check_spop", "", "-H '$HOSTADDRESS$' -D '$ARG1$'", &["30,14"]),
    v("check_simap", "", "-H '$HOSTADDRESS$' -D '$ARG1$'", &["30,14"]),
    v("check_ssmtp", "", "-H '$HOSTADDRESS$' -D '$ARG1$'", &["30,14"]),
    v("check_mysql_query", "", "-H '$HOSTADDRESS$' -u '$ARG1$' -q '$ARG2$' -w '$ARG3$' -c '$ARG4$'", &["nagios", "SELECT COUNT(*) FROM mysql.user", "100", "200"]),
    v("check_icmp", "", "-H '$HOSTADDRESS$' -w '$ARG1$' -c '$ARG2$'", &["200,40%", "500,80%"]),
    v("check_host", "", "-H '$HOSTADDRESS$'", &[]),
    v("check_ping", "", "-H '$HOSTADDRESS$' -w '$ARG1$' -c '$ARG2$' -p '$ARG3$'", &["100.0,20%", "500.0,60%", "5"]),
    v("check_ntp_time", "", "-H '$HOSTADDRESS$' -w '$ARG1$' -c '$ARG2$'", &["0.5", "1"]),
    v("check_ntp_peer", "", "-H '$HOSTADDRESS$' -w '$ARG1$' -c '$ARG2$' -W '$ARG3$' -C '$ARG4$'", &["0.5", "1", "3", "4"]),
];

impl Variant {
    /// `hcoop_check_disk`, `hcoop_check_disk_all`.
    pub fn command_name(&self) -> String {
        if self.suffix.is_empty() {
            format!("hcoop_{}", self.check)
        } else {
            format!("hcoop_{}_{}", self.check, self.suffix)
        }
    }

    /// The `command_line` value.
    pub fn command_line(&self) -> String {
        format!("{PLUGIN_DIR}/{} {}", self.check, self.args)
    }

    /// The command line with the macros replaced by sample values (`$HOSTADDRESS$` by
    /// 127.0.0.1, `$ARGn$` by the n-th sample).
    pub fn sample_command_line(&self) -> String {
        let mut line = self.command_line().replace("$HOSTADDRESS$", "127.0.0.1");
        // from the highest so that $ARG1$ does not match the start of $ARG10$
        for (i, s) in self.samples.iter().enumerate().rev() {
            line = line.replace(&format!("$ARG{}$", i + 1), s);
        }
        line
    }

    /// How many `$ARGn$` macros the command line uses (the highest n).
    pub fn arg_count(&self) -> usize {
        (1..=32)
            .filter(|n| self.args.contains(&format!("$ARG{n}$")))
            .max()
            .unwrap_or(0)
    }
}

/// Splits a command line as a shell does for single- and double-quoted words (what
/// Nagios does with a command line holding quotes).
pub fn split_words(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' | '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some(q) if q == c => break,
                        Some(x) => w.push(x),
                        None => return Err(format!("unclosed {c} in: {line}")),
                    }
                }
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The whole `hcoop-monitor.cfg`.
pub fn render() -> String {
    let mut out = format!(
        "# Nagios command definitions for the hcoop-monitor plugins in {PLUGIN_DIR}.\n\
         # Generated from the plugins' command line definitions by\n\
         # `{}`: do not edit.\n",
        super::REFRESH_COMMAND
    );
    for b in BUILTINS {
        let about = help_line((b.command)().get_about());
        let _ = write!(out, "\n####\n# {}: {about}\n####\n", b.name);
        for variant in VARIANTS.iter().filter(|v| v.check == b.name) {
            let name = variant.command_name();
            let example: String = variant.samples.iter().map(|s| format!("!{s}")).collect();
            let _ = write!(
                out,
                "\n# '{name}' command definition\n\
                 # e.g. check_command {name}{example}\n\
                 define command{{\n\
                 \tcommand_name\t{name}\n\
                 \tcommand_line\t{}\n\
                 \t}}\n",
                variant.command_line()
            );
        }
    }
    out
}
