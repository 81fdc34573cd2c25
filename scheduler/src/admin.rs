//! Admin actions on the running objects beyond acknowledging and scheduling (which
//! live beside the state rules in the daemon's core): removing an acknowledgement,
//! listing downtimes, comments; and the bounds every admin input is held to.

use crate::daemon::{Core, Target};
use crate::journal::{Durability, Saving};
use crate::state::{Comment, Time};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The longest comment accepted (bytes).
pub const MAX_COMMENT: usize = 1024;

/// The longest "HOST/SERVICE" accepted.
pub const MAX_TARGET: usize = 512;

/// How far ahead a downtime may start.
pub const MAX_LEAD: u64 = 366 * 86400;

/// A comment as kept: trimmed, within [`MAX_COMMENT`] bytes, without control
/// characters (it is shown on pages, in mail and in logs).
pub fn check_comment(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("the comment is empty".into());
    }
    if text.len() > MAX_COMMENT {
        return Err(format!(
            "the comment is {} bytes long, more than {MAX_COMMENT}",
            text.len()
        ));
    }
    if text.chars().any(char::is_control) {
        return Err("the comment holds control characters".into());
    }
    Ok(text.to_string())
}

/// A target name within bounds (whether it exists is the core's to say) and its
/// comment as kept ([`check_comment`]).
pub fn check_input(target: &str, comment: &str) -> Result<String, String> {
    if target.len() > MAX_TARGET {
        return Err(format!("the target name is longer than {MAX_TARGET} bytes"));
    }
    check_comment(comment)
}

/// A duration as people write it: whole days as `30d`, otherwise humantime's form.
fn span(d: Duration) -> String {
    let secs = d.as_secs();
    if secs >= 86400 && secs % 86400 == 0 && d.subsec_nanos() == 0 {
        format!("{}d", secs / 86400)
    } else {
        humantime::format_duration(d).to_string()
    }
}

/// The start and end of a downtime of `duration` from `start`: at most `max` long,
/// starting at most a year ahead, and not over before `now`.
pub fn downtime_window(
    start: Time,
    duration: Duration,
    now: Time,
    max: Duration,
) -> Result<(Time, Time), String> {
    if duration > max {
        return Err(format!(
            "a downtime of {} is longer than the longest allowed, {} (max_downtime)",
            span(duration),
            span(max)
        ));
    }
    if duration.is_zero() {
        return Err("a downtime must last longer than 0s".into());
    }
    if start > now.saturating_add(MAX_LEAD) {
        return Err("a downtime may start at most a year ahead".into());
    }
    let end = start.saturating_add(duration.as_secs());
    if end <= now {
        return Err("that downtime would be over already".into());
    }
    Ok((start, end))
}

/// A downtime with the host or service it is for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DowntimeView {
    pub target: String,
    #[serde(flatten)]
    pub downtime: crate::state::Downtime,
    pub in_effect: bool,
}

/// A comment with the host or service it is on.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommentView {
    pub target: String,
    #[serde(flatten)]
    pub comment: Comment,
}

impl Core {
    fn target(&self, key: &str) -> Result<Target, String> {
        self.find(key)
            .ok_or_else(|| format!("no host or service '{key}'"))
    }

    /// Removes the acknowledgement of a host or service (confirmed once the [`Saving`]
    /// is waited for, off the core lock).
    pub fn unacknowledge(&mut self, key: &str) -> Result<Saving, String> {
        self.unacknowledge_by(key, None)
    }

    /// [`Core::unacknowledge`] asked for by `author` (recorded in the history).
    pub fn unacknowledge_by(&mut self, key: &str, author: Option<&str>) -> Result<Saving, String> {
        let target = self.target(key)?;
        let acked = match target {
            Target::Host(i) => self.hosts[i].record.ack.take().is_some(),
            Target::Service(i) => self.services[i].record.ack.take().is_some(),
        };
        if !acked {
            return Err(format!("'{key}' is not acknowledged"));
        }
        self.history_unack(target, author, crate::clock::unix_now());
        Ok(self.persist(target, Durability::Sync))
    }

    /// Every downtime, with the name of what it is for.
    pub fn downtimes(&self) -> Vec<DowntimeView> {
        let now = crate::clock::unix_now();
        let hosts = self.hosts.iter().map(|e| (&e.key, &e.record.downtimes));
        let services = self.services.iter().map(|e| (&e.key, &e.record.downtimes));
        let mut out: Vec<DowntimeView> = hosts
            .chain(services)
            .flat_map(|(key, ds)| {
                ds.iter().map(move |d| DowntimeView {
                    target: key.clone(),
                    downtime: d.clone(),
                    in_effect: d.start <= now && now < d.end,
                })
            })
            .collect();
        out.sort_by_key(|d| d.downtime.id);
        out
    }

    /// Every comment, with the name of what it is on.
    pub fn comments(&self) -> Vec<CommentView> {
        let hosts = self.hosts.iter().map(|e| (&e.key, &e.record.comments));
        let services = self.services.iter().map(|e| (&e.key, &e.record.comments));
        let mut out: Vec<CommentView> = hosts
            .chain(services)
            .flat_map(|(key, cs)| {
                cs.iter().map(move |c| CommentView {
                    target: key.clone(),
                    comment: c.clone(),
                })
            })
            .collect();
        out.sort_by_key(|c| c.comment.id);
        out
    }

    /// Whether another downtime may be scheduled (`max_downtimes`).
    pub fn room_for_downtime(&self) -> Result<(), String> {
        let max = self.config.daemon.max_downtimes;
        if self.downtimes().len() >= max {
            return Err(format!(
                "there are {max} downtimes already, the most allowed (max_downtimes)"
            ));
        }
        Ok(())
    }

    /// Whether another comment may be added (`max_downtimes` applies to comments too).
    pub fn room_for_comment(&self) -> Result<(), String> {
        let max = self.config.daemon.max_downtimes;
        if self.comments().len() >= max {
            return Err(format!(
                "there are {max} comments already, the most allowed (max_downtimes)"
            ));
        }
        Ok(())
    }

    /// Adds a comment; returns its id (downtimes and comments share one sequence) and
    /// the [`Saving`] that confirms it.
    pub fn add_comment(
        &mut self,
        key: &str,
        author: String,
        text: String,
    ) -> Result<(u64, Saving), String> {
        let target = self.target(key)?;
        let id = self.next_downtime_id;
        self.next_downtime_id += 1;
        let c = Comment {
            id,
            author,
            text,
            time: crate::clock::unix_now(),
        };
        match target {
            Target::Host(i) => self.hosts[i].record.comments.push(c),
            Target::Service(i) => self.services[i].record.comments.push(c),
        }
        self.history_comment(target, id, crate::clock::unix_now());
        Ok((id, self.persist(target, Durability::Sync)))
    }

    /// Deletes a comment by id (confirmed once the [`Saving`] is waited for).
    pub fn delete_comment(&mut self, id: u64) -> Result<Saving, String> {
        let gone = |cs: &mut Vec<Comment>| {
            let before = cs.len();
            cs.retain(|c| c.id != id);
            before != cs.len()
        };
        let target = if let Some(i) = self
            .hosts
            .iter_mut()
            .position(|e| gone(&mut e.record.comments))
        {
            Target::Host(i)
        } else if let Some(i) = self
            .services
            .iter_mut()
            .position(|e| gone(&mut e.record.comments))
        {
            Target::Service(i)
        } else {
            return Err(format!("no comment {id}"));
        };
        Ok(self.persist(target, Durability::Sync))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_bounded() {
        assert_eq!(check_comment("  disk swap  ").unwrap(), "disk swap");
        assert_eq!(check_comment(" ").unwrap_err(), "the comment is empty");
        assert!(check_comment(&"x".repeat(MAX_COMMENT)).is_ok());
        assert_eq!(
            check_comment(&"x".repeat(MAX_COMMENT + 1)).unwrap_err(),
            "the comment is 1025 bytes long, more than 1024"
        );
        assert_eq!(
            check_comment("a\nb").unwrap_err(),
            "the comment holds control characters"
        );
        assert_eq!(
            check_comment("a\u{1b}[31m").unwrap_err(),
            "the comment holds control characters"
        );
        assert!(check_comment("é <b>").is_ok());
        assert!(check_input(&"h".repeat(MAX_TARGET + 1), "x").is_err());
        assert_eq!(check_input("h/s", " x ").unwrap(), "x");
    }

    #[test]
    fn downtime_windows() {
        let day = Duration::from_secs(86400);
        let max = day * 30;
        assert_eq!(downtime_window(1000, day, 1000, max), Ok((1000, 87400)));
        assert_eq!(
            downtime_window(1000, day * 31, 1000, max).unwrap_err(),
            "a downtime of 31d is longer than the longest allowed, 30d (max_downtime)"
        );
        assert!(downtime_window(
            1000,
            Duration::from_secs(99_999_999_999 * 31_557_600),
            1000,
            max
        )
        .is_err());
        assert!(downtime_window(1000, Duration::ZERO, 1000, max).is_err());
        assert_eq!(
            downtime_window(0, Duration::from_secs(10), 1000, max).unwrap_err(),
            "that downtime would be over already"
        );
        assert!(downtime_window(1000 + MAX_LEAD + 1, day, 1000, max).is_err());
        // started in the past, still running
        assert_eq!(downtime_window(500, day, 1000, max), Ok((500, 500 + 86400)));
    }
}
