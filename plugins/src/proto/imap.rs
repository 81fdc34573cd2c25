//! The IMAP session shared by check_imap and check_mail_roundtrip: connect, greeting,
//! CAPABILITY, STARTTLS (or IMAPS) with the certificate, LOGIN, tagged commands, opening
//! a mailbox and reading its counts, LOGOUT; each step timed. No levels here: the
//! checks judge what the session found.

use crate::plugin::secrets::read_secret_file;
use crate::plugin::{shown, UsageError};
use crate::proto::mail::{imap_quote, ImapResponse, Session, Step, Steps, Target, TlsMode};
use crate::proto::net;
use crate::proto::tls::{CertFacts, TlsSettings};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The options of an IMAP login, shared by check_imap and check_mail_roundtrip.
#[derive(Debug, Clone, clap::Args)]
pub struct ImapLoginArgs {
    /// User to log in as
    #[arg(short = 'U', long = "user", value_name = "USER")]
    pub user: Option<String>,

    /// Read the password from the first line of FILE
    #[arg(long = "password-file", value_name = "FILE")]
    pub password_file: Option<PathBuf>,

    /// Read the password from the environment variable VAR
    #[arg(
        long = "password-env",
        value_name = "VAR",
        conflicts_with = "password_file"
    )]
    pub password_env: Option<String>,
}

impl ImapLoginArgs {
    /// The user and password, when a user is given; a user without a password is a
    /// usage error.
    pub fn credentials(&self) -> Result<Option<(String, String)>, UsageError> {
        let password = match &self.password_env {
            Some(var) => Some(std::env::var(var).map_err(|_| {
                UsageError(format!("--password-env: the variable {var} is not set"))
            })?),
            None => read_secret_file(self.password_file.as_deref(), "--password-file")?,
        };
        match (&self.user, password) {
            (None, None) => Ok(None),
            (Some(u), Some(p)) => {
                imap_quote(u).map_err(|e| UsageError(format!("-U: {e}")))?;
                imap_quote(&p).map_err(|e| UsageError(format!("the password: {e}")))?;
                Ok(Some((u.clone(), p)))
            }
            (Some(_), None) => Err(UsageError::new(
                "-U needs a password (--password-file or --password-env)",
            )),
            (None, Some(_)) => Err(UsageError::new("a password needs a user (-U)")),
        }
    }
}

/// The resolved IMAP session: how to connect, upgrade and log in.
#[derive(Debug, Clone)]
pub struct ImapDialogue {
    pub tls: TlsMode,
    pub settings: TlsSettings,
    pub sni: String,
    pub login: Option<(String, String)>,
    /// How long reads may wait in all.
    pub budget: Duration,
    pub timeout: Duration,
}

/// The step that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImapStage {
    Connect,
    Tls,
    Greeting,
    Capability,
    NoStartTls,
    StartTls,
    Login,
    Mailbox,
    Command,
    Logout,
}

/// The counts of an opened mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Counts {
    pub messages: u64,
    pub recent: u64,
    pub unseen: Option<u64>,
}

/// What the IMAP session found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImapFacts {
    pub addr: Option<SocketAddr>,
    pub steps: Vec<Step>,
    pub greeting: Option<String>,
    pub capabilities: Vec<String>,
    pub cert: Option<CertFacts>,
    pub counts: Option<Counts>,
    /// What the server sent back to a raw string (check_imap `-s`).
    pub reply: Option<String>,
    pub failure: Option<(ImapStage, String)>,
    /// The failure is the time running out (no reply before the budget was spent).
    pub timed_out: bool,
    pub total: Duration,
    /// When the session started, in seconds since the epoch (for the certificate's
    /// days left).
    pub now: i64,
}

/// An open IMAP connection with its tag counter.
pub struct Imap {
    pub session: Session,
    tag: u32,
}

impl Imap {
    /// Runs one tagged command.
    pub async fn command(&mut self, command: &str, what: &str) -> Result<ImapResponse, String> {
        self.tag += 1;
        let tag = format!("h{}", self.tag);
        self.session.imap_command(&tag, command, what).await
    }

    /// Runs a command that must answer OK.
    pub async fn command_ok(&mut self, command: &str, what: &str) -> Result<ImapResponse, String> {
        let r = self.command(command, what).await?;
        if !r.ok() {
            return Err(format!("{what} failed: {} {}", r.status, r.text));
        }
        Ok(r)
    }

    /// Asks for the server's CAPABILITY list.
    pub async fn capabilities(&mut self) -> Result<Vec<String>, (ImapStage, String)> {
        self.command_ok("CAPABILITY", "CAPABILITY")
            .await
            .map(|r| capabilities(&r.untagged))
            .map_err(|e| (ImapStage::Capability, e))
    }

    /// True once a read or the TLS handshake ran into the session's deadline.
    pub fn timed_out(&self) -> bool {
        self.session.timed_out()
    }

    /// LOGOUT and close; a failure says whether it was the time running out.
    pub async fn logout(mut self) -> Result<(), (String, bool)> {
        let r = self.command("LOGOUT", "LOGOUT").await;
        let timed_out = self.timed_out();
        self.session.close(b"").await;
        r.map(|_| ()).map_err(|e| (e, timed_out))
    }
}

/// The words of a CAPABILITY list (from an untagged `CAPABILITY ...` line or a
/// `[CAPABILITY ...]` response code).
pub fn capabilities(lines: &[String]) -> Vec<String> {
    for l in lines {
        let l = l
            .strip_prefix("OK [")
            .or_else(|| l.strip_prefix("PREAUTH ["))
            .unwrap_or(l);
        if let Some(rest) = l.strip_prefix("CAPABILITY ") {
            let rest = rest.split(']').next().unwrap_or(rest);
            return rest
                .split_whitespace()
                .map(str::to_ascii_uppercase)
                .collect();
        }
    }
    Vec::new()
}

/// The counts in the untagged replies to EXAMINE/SELECT (and STATUS).
pub fn parse_counts(lines: &[String]) -> Counts {
    let mut c = Counts::default();
    for l in lines {
        let mut w = l.split_whitespace();
        match (w.next(), w.next()) {
            (Some(n), Some(k)) if k.eq_ignore_ascii_case("EXISTS") => {
                c.messages = n.parse().unwrap_or(0)
            }
            (Some(n), Some(k)) if k.eq_ignore_ascii_case("RECENT") => {
                c.recent = n.parse().unwrap_or(0)
            }
            (Some(k), _) if k.eq_ignore_ascii_case("STATUS") => {
                let inner = l.rsplit('(').next().unwrap_or("").trim_end_matches(')');
                let words: Vec<&str> = inner.split_whitespace().collect();
                for pair in words.chunks(2) {
                    if let [k, v] = pair {
                        if k.eq_ignore_ascii_case("UNSEEN") {
                            c.unseen = v.parse().ok();
                        }
                    }
                }
            }
            _ => {}
        }
    }
    c
}

impl ImapDialogue {
    /// Connects, upgrades and logs in (when a login is configured), recording the steps
    /// in `facts`.
    pub async fn open(
        &self,
        target: &Target,
        facts: &mut ImapFacts,
        steps: &mut Steps,
    ) -> Result<Imap, (ImapStage, String)> {
        let (session, t) = Session::open(target, self.budget).await.map_err(|e| {
            facts.timed_out = e.timed_out;
            (ImapStage::Connect, e.text)
        })?;
        steps.steps.push(Step {
            name: "connect",
            time: t,
        });
        facts.addr = Some(session.addr);
        let mut imap = Imap { session, tag: 0 };
        let r = self.begin(&mut imap, facts, steps).await;
        facts.cert = imap.session.cert.clone();
        match r {
            Ok(()) => Ok(imap),
            Err(e) => {
                facts.timed_out = imap.session.timed_out();
                imap.session.close(b"h0 LOGOUT\r\n").await;
                Err(e)
            }
        }
    }

    async fn begin(
        &self,
        imap: &mut Imap,
        facts: &mut ImapFacts,
        steps: &mut Steps,
    ) -> Result<(), (ImapStage, String)> {
        let mut t = Instant::now();
        if self.tls == TlsMode::Implicit {
            imap.session
                .start_tls(&self.settings, &self.sni)
                .await
                .map_err(|e| (ImapStage::Tls, e))?;
            t = steps.done("tls", t);
        }
        let greeting = imap
            .session
            .imap_greeting()
            .await
            .map_err(|e| (ImapStage::Greeting, e))?;
        t = steps.done("greeting", t);
        facts.greeting = Some(greeting.clone());
        let word = greeting.split_whitespace().next().unwrap_or("");
        if !word.eq_ignore_ascii_case("OK") && !word.eq_ignore_ascii_case("PREAUTH") {
            return Err((
                ImapStage::Greeting,
                format!(
                    "the server refuses: '* {}'",
                    net::printable(greeting.as_bytes(), 200)
                ),
            ));
        }
        facts.capabilities = imap.capabilities().await?;
        t = steps.done("capability", t);
        if self.tls == TlsMode::StartTls {
            if !facts.capabilities.iter().any(|c| c == "STARTTLS") {
                return Err((ImapStage::NoStartTls, "STARTTLS not offered".into()));
            }
            imap.command_ok("STARTTLS", "STARTTLS")
                .await
                .map_err(|e| (ImapStage::StartTls, e))?;
            imap.session
                .start_tls(&self.settings, &self.sni)
                .await
                .map_err(|e| (ImapStage::Tls, e))?;
            t = steps.done("starttls", t);
            facts.capabilities = imap.capabilities().await?;
            t = steps.done("capability_tls", t);
        }
        if let Some((user, password)) = &self.login {
            if facts.capabilities.iter().any(|c| c == "LOGINDISABLED") {
                return Err((
                    ImapStage::Login,
                    "the server refuses LOGIN on this connection (LOGINDISABLED)".into(),
                ));
            }
            let cmd = format!(
                "LOGIN {} {}",
                imap_quote(user).map_err(|e| (ImapStage::Login, e))?,
                imap_quote(password).map_err(|e| (ImapStage::Login, e))?
            );
            let r = imap
                .command(&cmd, "LOGIN")
                .await
                .map_err(|e| (ImapStage::Login, e))?;
            if !r.ok() {
                return Err((
                    ImapStage::Login,
                    format!("login as {} failed: {} {}", shown(user), r.status, r.text),
                ));
            }
            steps.done("login", t);
        }
        Ok(())
    }

    /// Opens `mailbox` (SELECT or EXAMINE) and reads its counts.
    pub async fn open_mailbox(
        imap: &mut Imap,
        mailbox: &str,
        select: bool,
    ) -> Result<Counts, (ImapStage, String)> {
        let name = imap_quote(mailbox).map_err(|e| (ImapStage::Mailbox, e))?;
        let verb = if select { "SELECT" } else { "EXAMINE" };
        let r = imap
            .command_ok(
                &format!("{verb} {name}"),
                &format!("{verb} {}", shown(mailbox)),
            )
            .await
            .map_err(|e| (ImapStage::Mailbox, e))?;
        let mut counts = parse_counts(&r.untagged);
        let s = imap
            .command_ok(&format!("STATUS {name} (UNSEEN)"), "STATUS")
            .await
            .map_err(|e| (ImapStage::Mailbox, e))?;
        counts.unseen = parse_counts(&s.untagged).unseen;
        Ok(counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            capabilities(&l(&["CAPABILITY IMAP4rev1 SASL-IR STARTTLS LOGINDISABLED"])),
            vec!["IMAP4REV1", "SASL-IR", "STARTTLS", "LOGINDISABLED"]
        );
        assert_eq!(
            capabilities(&l(&["OK [CAPABILITY IMAP4rev1 STARTTLS] Dovecot ready."])),
            vec!["IMAP4REV1", "STARTTLS"]
        );
        let c = parse_counts(&l(&[
            "FLAGS (\\Seen)",
            "12 EXISTS",
            "2 RECENT",
            "STATUS \"INBOX\" (UNSEEN 5)",
        ]));
        assert_eq!(
            c,
            Counts {
                messages: 12,
                recent: 2,
                unseen: Some(5)
            }
        );
    }
}
