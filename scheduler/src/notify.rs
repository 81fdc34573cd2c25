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

    /// Delivers one notice to each of its contacts; failures are logged.
    pub async fn deliver(&self, n: &Notice) {
        let smtp = self.smtp.lock().expect("smtp lock").clone();
        for c in &n.contacts {
            if let Some(addr) = &c.email {
                match &smtp {
                    Some(smtp) => match send_mail(smtp, addr, n).await {
                        Ok(()) => tracing::info!("mailed {} to {addr}", n.subject()),
                        Err(e) => tracing::error!("cannot mail {addr}: {e}"),
                    },
                    None => tracing::error!("cannot mail {addr}: no [smtp] section"),
                }
            }
            if let Some(cmd) = &c.command {
                match run_plugin_env(cmd, &n.environment(c), COMMAND_TIMEOUT, self.limits).await {
                    PluginEnd::Ended { code: Some(0), .. } => {
                        tracing::info!("ran the notification command of {}", c.name)
                    }
                    end => tracing::error!("notification command of {} failed: {end:?}", c.name),
                }
            }
        }
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
