//! Sending notifications: email through an SMTP relay (lettre, rustls), and commands
//! run with the facts in `NAGIOS_*` environment variables (the names Nagios gives its
//! environment macros, so existing notification scripts keep working).

use crate::config::{Contact, Smtp};
use crate::exec::{run_plugin_env, Limits, PluginEnd};
use crate::state::NotificationType;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// How long a notification command may run.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// One notification with its facts and the contacts that take it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub kind: NotificationType,
    pub host: String,
    pub address: String,
    /// `None` for a host notification.
    pub service: Option<String>,
    /// State name: OK, WARNING, ..., UP, DOWN, UNREACHABLE.
    pub state: String,
    pub output: String,
    /// Problem notifications sent for this problem so far.
    pub number: u32,
    /// Unix seconds.
    pub time: u64,
    pub contacts: Vec<Contact>,
    /// Whether an escalation holds for this notification: its contacts take it
    /// instead of the object's own (Nagios' `$NOTIFICATIONISESCALATED$`).
    pub escalated: bool,
    /// Where what came of it is recorded, and the state change it waits for.
    pub history: crate::recording::Delivery,
}

impl Notice {
    /// "host" or "host/service".
    pub fn subject_name(&self) -> String {
        match &self.service {
            Some(s) => format!("{}/{}", self.host, s),
            None => self.host.clone(),
        }
    }

    /// The email subject, as Nagios's sample commands write it.
    pub fn subject(&self) -> String {
        match &self.service {
            Some(_) => format!(
                "** {} Service Alert: {} is {} **",
                self.kind.as_str(),
                self.subject_name(),
                self.state
            ),
            None => format!(
                "** {} Host Alert: {} is {} **",
                self.kind.as_str(),
                self.host,
                self.state
            ),
        }
    }

    /// The email body.
    pub fn body(&self) -> String {
        let mut b = format!(
            "Notification Type: {}\nHost: {}\nAddress: {}\n",
            self.kind.as_str(),
            self.host,
            self.address
        );
        if let Some(s) = &self.service {
            b.push_str(&format!("Service: {s}\n"));
        }
        if self.escalated {
            b.push_str("Escalated: yes\n");
        }
        b.push_str(&format!(
            "State: {}\nDate/Time: {}\n\nInfo:\n{}\n",
            self.state,
            humantime::format_rfc3339_seconds(
                std::time::UNIX_EPOCH + Duration::from_secs(self.time)
            ),
            self.output.trim_end()
        ));
        b
    }

    /// The environment of a notification command for one contact.
    pub fn environment(&self, contact: &Contact) -> Vec<(String, String)> {
        let mut env = vec![
            ("NAGIOS_NOTIFICATIONTYPE", self.kind.as_str().to_string()),
            ("NAGIOS_NOTIFICATIONNUMBER", self.number.to_string()),
            (
                "NAGIOS_NOTIFICATIONISESCALATED",
                u8::from(self.escalated).to_string(),
            ),
            ("NAGIOS_HOSTNAME", self.host.clone()),
            ("NAGIOS_HOSTADDRESS", self.address.clone()),
            ("NAGIOS_CONTACTNAME", contact.name.clone()),
            (
                "NAGIOS_CONTACTEMAIL",
                contact.email.clone().unwrap_or_default(),
            ),
            ("NAGIOS_TIMET", self.time.to_string()),
        ];
        match &self.service {
            Some(s) => env.extend([
                ("NAGIOS_SERVICEDESC", s.clone()),
                ("NAGIOS_SERVICESTATE", self.state.clone()),
                ("NAGIOS_SERVICEOUTPUT", self.output.trim_end().to_string()),
            ]),
            None => env.extend([
                ("NAGIOS_HOSTSTATE", self.state.clone()),
                ("NAGIOS_HOSTOUTPUT", self.output.trim_end().to_string()),
            ]),
        }
        env.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
    }
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// Builds the SMTP transport of an `[smtp]` section.
pub fn transport(smtp: &Smtp) -> Result<Transport, String> {
    let builder = match smtp.tls.as_str() {
        "none" => Transport::builder_dangerous(&smtp.host),
        "tls" => Transport::relay(&smtp.host).map_err(|e| e.to_string())?,
        _ => Transport::starttls_relay(&smtp.host).map_err(|e| e.to_string())?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(smtp.timeout));
    if let (Some(u), Some(p)) = (&smtp.username, &smtp.password) {
        builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
    }
    Ok(builder.build())
}

/// Sends notices as they come; the SMTP settings can change on reload.
#[derive(Clone)]
pub struct Notifier {
    smtp: Arc<Mutex<Option<Smtp>>>,
    limits: Limits,
}

impl Notifier {
    /// A notifier with the given SMTP settings; commands run under `limits`.
    pub fn new(smtp: Option<Smtp>, limits: Limits) -> Notifier {
        Notifier {
            smtp: Arc::new(Mutex::new(smtp)),
            limits,
        }
    }

    /// Takes new SMTP settings.
    pub fn reconfigure(&self, smtp: Option<Smtp>) {
        *self.smtp.lock().expect("smtp lock") = smtp;
    }

    /// Sends every notice received until the channel closes; each in its own task.
    pub async fn run(self, mut rx: mpsc::UnboundedReceiver<Notice>) {
        let mut tasks = tokio::task::JoinSet::new();
        while let Some(n) = rx.recv().await {
            let me = self.clone();
            tasks.spawn(async move { me.deliver(&n).await });
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
    }

    /// Delivers one notice to each of its contacts (once the state change it tells
    /// of is in the history store); failures are logged; what came of each contact
    /// and method is recorded in the history.
    pub async fn deliver(&self, n: &Notice) {
        if !n.history.ready().await {
            tracing::warn!(
                "notification {} {}: its state change is not confirmed in the history store; sent anyway",
                n.kind.as_str(),
                n.subject_name()
            );
        }
        let smtp = self.smtp.lock().expect("smtp lock").clone();
        for c in &n.contacts {
            if let Some(addr) = &c.email {
                let result = match &smtp {
                    Some(smtp) => match send_mail(smtp, addr, n).await {
                        Ok(()) => {
                            tracing::info!("mailed {} to {addr}", n.subject());
                            Ok(())
                        }
                        Err(e) => {
                            tracing::error!("cannot mail {addr}: {e}");
                            Err(e)
                        }
                    },
                    None => {
                        tracing::error!("cannot mail {addr}: no [smtp] section");
                        Err("no [smtp] section".to_string())
                    }
                };
                n.record(c, "email", result);
            }
            if let Some(cmd) = &c.command {
                let result = match run_plugin_env(
                    cmd,
                    &n.environment(c),
                    COMMAND_TIMEOUT,
                    self.limits,
                )
                .await
                {
                    PluginEnd::Ended { code: Some(0), .. } => {
                        tracing::info!("ran the notification command of {}", c.name);
                        Ok(())
                    }
                    end => {
                        tracing::error!("notification command of {} failed: {end:?}", c.name);
                        Err(ended(&end))
                    }
                };
                n.record(c, &command_name(cmd), result);
            }
        }
    }
}

/// How a command notifies, as the method of its history events and log lines: the
/// file name of its program.
pub fn command_name(cmd: &str) -> String {
    let program = cmd.split_whitespace().next().unwrap_or("");
    std::path::Path::new(program)
        .file_name()
        .map_or(program.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Why a notification command failed, in a few words.
fn ended(end: &PluginEnd) -> String {
    let said = |output: &str| match output.lines().next().map(str::trim) {
        Some(l) if !l.is_empty() => format!(": {}", l.chars().take(200).collect::<String>()),
        _ => String::new(),
    };
    match end {
        PluginEnd::NotStarted(e) => format!("not started: {e}"),
        PluginEnd::TimedOut => format!("timed out after {} s", COMMAND_TIMEOUT.as_secs()),
        PluginEnd::Ended {
            code: Some(c),
            output,
            ..
        } => format!("exit code {c}{}", said(output)),
        PluginEnd::Ended { signal, output, .. } => {
            format!("killed by signal {}{}", signal.unwrap_or(0), said(output))
        }
    }
}

impl Notice {
    /// Records what came of this notification to `contact` by `method` in the
    /// history (nothing without a store).
    fn record(&self, contact: &Contact, method: &str, result: Result<(), String>) {
        let Some(h) = &self.history.history else {
            return;
        };
        let mut e = crate::history::Event::new(
            crate::history::Kind::Notification,
            self.time,
            Some(&self.host),
            self.service.as_deref(),
        );
        e.state = Some(self.state.clone());
        e.output = Some(crate::recording::summary(&self.output));
        e.author = Some(contact.name.clone());
        e.notification_type = Some(self.kind.as_str().to_string());
        e.method = Some(method.to_string());
        e.result = Some(match result {
            Ok(()) => "sent".to_string(),
            Err(e) => format!("failed: {e}"),
        });
        // a notification is not held up by its record
        drop(h.record(e));
    }
}

async fn send_mail(smtp: &Smtp, to: &str, n: &Notice) -> Result<(), String> {
    let msg = Message::builder()
        .from(
            smtp.from
                .parse()
                .map_err(|e| format!("from '{}': {e}", smtp.from))?,
        )
        .to(to.parse().map_err(|e| format!("'{to}': {e}"))?)
        .subject(n.subject())
        .header(ContentType::TEXT_PLAIN)
        .body(n.body())
        .map_err(|e| e.to_string())?;
    transport(smtp)?
        .send(msg)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(service: Option<&str>) -> Notice {
        Notice {
            kind: NotificationType::Problem,
            host: "main".into(),
            address: "10.0.0.1".into(),
            service: service.map(String::from),
            state: "CRITICAL".into(),
            output: "DISK CRITICAL - / 99%\n".into(),
            number: 1,
            time: 0,
            contacts: Vec::new(),
            escalated: false,
            history: Default::default(),
        }
    }

    #[test]
    fn subjects_and_environment() {
        assert_eq!(
            notice(Some("disk")).subject(),
            "** PROBLEM Service Alert: main/disk is CRITICAL **"
        );
        assert_eq!(
            notice(None).subject(),
            "** PROBLEM Host Alert: main is CRITICAL **"
        );
        let c = Contact {
            name: "root".into(),
            email: None,
            command: None,
            service_options: "w".into(),
            host_options: "d".into(),
            notification_period: None,
            service_notification_period: None,
            host_notification_period: None,
        };
        let env = notice(Some("disk")).environment(&c);
        assert!(env.contains(&(
            "NAGIOS_SERVICEOUTPUT".into(),
            "DISK CRITICAL - / 99%".into()
        )));
        assert!(env.contains(&("NAGIOS_NOTIFICATIONTYPE".into(), "PROBLEM".into())));
        assert!(notice(None)
            .body()
            .contains("Date/Time: 1970-01-01T00:00:00Z"));
        let escalated = |n: &Notice| {
            let env = n.environment(&c);
            let v = env
                .iter()
                .find(|(k, _)| k == "NAGIOS_NOTIFICATIONISESCALATED");
            (
                v.map(|(_, v)| v.clone()),
                n.body().contains("\nEscalated: yes\n"),
            )
        };
        assert_eq!(escalated(&notice(None)), (Some("0".into()), false));
        let n = Notice {
            escalated: true,
            ..notice(Some("disk"))
        };
        assert_eq!(escalated(&n), (Some("1".into()), true));
    }
}
