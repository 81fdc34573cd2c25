//! check_mailq: the length of the mail queue, the age of its oldest message and the
//! recipient domains holding the most messages, for Exim (`exim -bp`) and Postfix
//! (`postqueue -j`). Options follow monitoring-plugins' check_mailq (`-M`, `-w`/`-c`
//! on the message count, `-W`/`-C` on the count for one domain).

use crate::host::subprocess;
use crate::plugin::args::RangeArgs;
use crate::plugin::{
    judge, level_pairs, parse_level, Check, CheckResult, CommonArgs, Observed, PerfData, Range,
    State, Thresholds, Unit, Uom, UsageError, Work,
};
use clap::Parser;
use std::collections::BTreeMap;
use std::time::Duration;

/// The mail transport whose queue is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MailServer {
    Exim,
    Postfix,
}

/// An age range in seconds (`3600`, `2h`, `1d:`).
fn parse_seconds(text: &str) -> Result<Range, String> {
    parse_level(text, &[Unit::Seconds]).map(|l| l.range)
}

level_pairs! {
    /// `--age-warning`/`--age-critical`: ranges on the age of the oldest message.
    pub struct AgeLevels {
        age_warning, age_critical, "SECONDS", parse_seconds, Range, "Warning range on the age of the oldest message, in seconds (30m, 2h, 1d work too)", "Critical range on the age of the oldest message, in seconds";
    }
}

/// Command line of check_mailq.
#[derive(Parser, Debug)]
#[command(
    name = "check_mailq",
    version,
    about = "Checks the mail queue: number of messages, age of the oldest, messages per recipient domain.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, queue not readable, internal error). --help and --version exit 0.",
    mut_arg("warning", |a| a.help("Warning range on the number of queued messages (a bare N alerts above N)")),
    mut_arg("critical", |a| a.help("Critical range on the number of queued messages")),
    mut_arg("age_warning", |a| a.allow_hyphen_values(true)),
    mut_arg("age_critical", |a| a.allow_hyphen_values(true))
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// The mail server: exim (`exim -bp`) or postfix (`postqueue -j`)
    #[arg(short = 'M', long = "mailserver", value_enum, default_value_t = MailServer::Exim)]
    pub mailserver: MailServer,

    #[command(flatten)]
    pub levels: RangeArgs,

    /// Warning range on the messages queued for any one recipient domain
    #[arg(
        short = 'W',
        long = "Warning",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub domain_warning: Option<Range>,

    /// Critical range on the messages queued for any one recipient domain
    #[arg(
        short = 'C',
        long = "Critical",
        value_name = "RANGE",
        allow_hyphen_values = true
    )]
    pub domain_critical: Option<Range>,

    #[command(flatten)]
    pub age: AgeLevels,

    /// How many of the largest recipient domains to list
    #[arg(long = "domains", value_name = "N", default_value_t = 5)]
    pub domains: usize,

    /// The Exim binary
    #[arg(long = "exim", value_name = "PATH", default_value = "exim")]
    pub exim: String,

    /// An Exim configuration file (exim -C FILE)
    #[arg(long = "exim-config", value_name = "FILE")]
    pub exim_config: Option<String>,

    /// The postqueue binary
    #[arg(long = "postqueue", value_name = "PATH", default_value = "postqueue")]
    pub postqueue: String,

    /// A Postfix configuration directory (postqueue -c DIR)
    #[arg(long = "postfix-config", value_name = "DIR")]
    pub postfix_config: Option<String>,
}

/// The validated check.
#[derive(Debug)]
pub struct MailqCheck {
    pub server: MailServer,
    pub count: Thresholds,
    pub domain: Thresholds,
    pub age: Thresholds,
    pub domains_shown: usize,
    /// The program and arguments that list the queue.
    pub command: (String, Vec<String>),
    pub timeout: Duration,
}

/// One queued message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub id: String,
    /// Seconds since it was received.
    pub age: u64,
    pub sender: String,
    /// Recipients not yet delivered.
    pub recipients: Vec<String>,
    pub frozen: bool,
}

/// What the queue held.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QueueFacts {
    pub messages: Vec<Message>,
}

impl Check for MailqCheck {
    type Args = Args;
    type Facts = Observed<QueueFacts>;
    const LABEL: &'static str = "MAILQ";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        let command = match args.mailserver {
            MailServer::Exim => {
                let mut a = Vec::new();
                if let Some(c) = args.exim_config {
                    a.extend(["-C".to_string(), c]);
                }
                a.push("-bp".into());
                (args.exim, a)
            }
            MailServer::Postfix => {
                let mut a = Vec::new();
                if let Some(c) = args.postfix_config {
                    a.extend(["-c".to_string(), c]);
                }
                a.push("-j".into());
                (args.postqueue, a)
            }
        };
        if command.0.is_empty() {
            return Err(UsageError::new("the queue lister program name is empty"));
        }
        Ok(MailqCheck {
            server: args.mailserver,
            count: args.levels.thresholds(),
            domain: Thresholds::new(args.domain_warning, args.domain_critical),
            age: Thresholds::new(args.age.age_warning, args.age.age_critical),
            domains_shown: args.domains,
            command,
            timeout: args.common.timeout.duration,
        })
    }

    /// The queue, or why it could not be read (UNKNOWN).
    fn fetch(&self) -> Work<'_, Observed<QueueFacts>> {
        Work::local(move || self.list_queue())
    }

    fn evaluate(&self, facts: &Observed<QueueFacts>) -> CheckResult {
        judge(facts, |f| evaluate(f, self))
    }
}

impl MailqCheck {
    /// Runs the queue lister and parses what it prints.
    fn list_queue(&self) -> Result<QueueFacts, String> {
        let (prog, args) = &self.command;
        let out = subprocess::run(prog, args, self.timeout)?;
        if !out.success {
            return Err(format!("{prog} failed: {}", out.complaint()));
        }
        let messages = match self.server {
            MailServer::Exim => parse_exim_bp(&out.stdout)?,
            MailServer::Postfix => {
                parse_postqueue_json(&out.stdout, crate::host::clock::unix_now_secs())?
            }
        };
        Ok(QueueFacts { messages })
    }
}

/// True for an Exim message id: `XXXXXX-XXXXXX-XX` (16 characters, before 4.97) or
/// `XXXXXX-XXXXXXXXXXX-XXXX` (23 characters, 4.97 and later), base-62 digits.
pub fn is_exim_id(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    (lens == [6, 6, 2] || lens == [6, 11, 4])
        && parts
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Exim's queue age: `25m`, `3h`, `4d` (minutes up to 90, then hours up to 72, then days).
fn exim_age(text: &str) -> Option<u64> {
    // the unit is one ASCII letter: cut before it by characters, never inside one
    let unit = text.chars().last()?;
    let n: u64 = text.strip_suffix(unit)?.parse().ok()?;
    let factor = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// Parses `exim -bp` output: a header line per message (`age size id <sender>`,
/// `*** frozen ***` after a frozen one), its recipients indented below, `D ` before the
/// ones already delivered, and a blank line after each message.
pub fn parse_exim_bp(text: &str) -> Result<Vec<Message>, String> {
    let mut out: Vec<Message> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let fields: Vec<&str> = line.split_whitespace().collect();
        let header = fields.len() >= 3 && is_exim_id(fields[2]) && exim_age(fields[0]).is_some();
        if header {
            let sender = fields.get(3).copied().unwrap_or("<>");
            out.push(Message {
                id: fields[2].to_string(),
                age: exim_age(fields[0]).unwrap_or(0),
                sender: sender.trim_matches(['<', '>']).to_string(),
                recipients: Vec::new(),
                frozen: line.contains("*** frozen ***"),
            });
        } else if indented && !out.is_empty() {
            let last = out.last_mut().expect("checked non-empty");
            match fields.as_slice() {
                ["D", ..] => {}
                [addr, ..] => last
                    .recipients
                    .push(addr.trim_matches(['<', '>']).to_string()),
                [] => {}
            }
        } else {
            return Err(format!(
                "unexpected line in exim -bp output: '{}'",
                line.trim()
            ));
        }
    }
    Ok(out)
}

/// Parses `postqueue -j` output: one JSON object per message.
pub fn parse_postqueue_json(text: &str, now: u64) -> Result<Vec<Message>, String> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            format!("postqueue -j printed something that is not JSON ({e}): '{line}'")
        })?;
        let id = v["queue_id"]
            .as_str()
            .ok_or_else(|| format!("postqueue -j: no queue_id in '{line}'"))?;
        let arrival = v["arrival_time"].as_u64().unwrap_or(now);
        let recipients = v["recipients"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r["address"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        out.push(Message {
            id: id.to_string(),
            age: now.saturating_sub(arrival),
            sender: v["sender"].as_str().unwrap_or("").to_string(),
            recipients,
            frozen: v["queue_name"].as_str() == Some("hold"),
        });
    }
    Ok(out)
}

/// Messages per recipient domain (a message counts once per domain), largest first.
pub fn domain_counts(messages: &[Message]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for m in messages {
        let mut domains: Vec<String> = m
            .recipients
            .iter()
            .map(|r| {
                r.rsplit_once('@')
                    .map_or("(local)", |(_, d)| d)
                    .to_ascii_lowercase()
            })
            .collect();
        domains.sort();
        domains.dedup();
        for d in domains {
            *counts.entry(d).or_default() += 1;
        }
    }
    let mut v: Vec<(String, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// Seconds as `45s`, `25m`, `3h 5m`, `2d 4h`.
pub fn human_age(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        s => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Turns the facts of a queue that was read into the result (pure).
fn evaluate(facts: &QueueFacts, check: &MailqCheck) -> CheckResult {
    let n = facts.messages.len();
    let oldest = facts.messages.iter().map(|m| m.age).max().unwrap_or(0);
    let frozen = facts.messages.iter().filter(|m| m.frozen).count();
    let domains = domain_counts(&facts.messages);
    let top = domains.first().map_or(0, |d| d.1);
    let count_state = check.count.state(n as f64);
    let age_state = if n == 0 {
        State::Ok
    } else {
        check.age.state(oldest as f64)
    };
    let mut summary = if n == 0 {
        "mail queue is empty".to_string()
    } else {
        format!(
            "{n} message{} in queue, oldest {}",
            if n == 1 { "" } else { "s" },
            human_age(oldest)
        )
    };
    if frozen > 0 {
        summary.push_str(&format!(", {frozen} frozen"));
    }
    let mut r = CheckResult::new(count_state.worst(age_state), summary);
    for (d, c) in domains.iter().take(check.domains_shown) {
        let s = check.domain.state(*c as f64);
        r.push_sub(
            s,
            format!("{d}: {c} message{}", if *c == 1 { "" } else { "s" }),
        );
    }
    // a domain past the shown ones can still alert
    for (d, c) in domains.iter().skip(check.domains_shown) {
        let s = check.domain.state(*c as f64);
        if s != State::Ok {
            r.push_sub(
                s,
                format!("{d}: {c} message{}", if *c == 1 { "" } else { "s" }),
            );
        }
    }
    r.push_perf(PerfData::new("unsent", n).thresholds(&check.count).min(0));
    r.push_perf(
        PerfData::new("oldest", oldest)
            .uom(Uom::Seconds)
            .thresholds(&check.age)
            .min(0),
    );
    r.push_perf(PerfData::new("frozen", frozen).min(0));
    r.push_perf(
        PerfData::new("largest_domain", top)
            .thresholds(&check.domain)
            .min(0),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Queue lines are the MTA's text: a multibyte age or a huge number is not an age,
    /// and neither panics.
    #[test]
    fn exim_ages_of_any_text() {
        assert_eq!(exim_age("25m"), Some(1500));
        assert_eq!(exim_age("3h"), Some(10_800));
        assert_eq!(exim_age("2w"), Some(1_209_600));
        for bad in [
            "",
            "m",
            "25",
            "25é",
            "é",
            "2５m",
            "99999999999999999w",
            "-1m",
            "1.5h",
        ] {
            assert_eq!(exim_age(bad), None, "{bad:?}");
        }
        let e = parse_exim_bp("25é 1.2K 1RxAbC-000123-Ab <a@example.org>\n").unwrap_err();
        assert!(e.starts_with("unexpected line in exim -bp output"), "{e}");
        assert!(parse_exim_bp("18446744073709551615w 1.2K 1RxAbC-000124-Ab <a@b>\n").is_err());
    }
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;

    fn check(argv: &[&str]) -> Result<MailqCheck, UsageError> {
        validate::<MailqCheck>(argv)
    }

    /// `exim -bp` from Exim 4.96 (16-character ids): a delivered recipient, a bounce,
    /// a frozen message, ages in minutes, hours and days.
    const EXIM_496: &str = "\
25m  2.9K 1qZ5Cf-0000c8-00 <alice@example.com>
          bob@remote.example
        D carol@example.com
          dave@REMOTE.example

 3h   816 1qZ4xT-0000AB-Zz <> *** frozen ***
          alice@unreachable.invalid

 4d  1.2M 1qYabc-000123-4f <www-data@example.com>
          eve@other.example
          frank@remote.example

";

    /// `exim -bp` from Exim 4.97 and later (23-character ids).
    const EXIM_497: &str = "\
 0m   345 1rNsjf-00000000Obw-1lmT <root@main.example>
          admin@unreachable.invalid

95m   1.1K 1rNsjg-00000000Obz-2xYZ <>
          nobody@unreachable.invalid

";

    /// `postqueue -j` output (Postfix 3.x).
    const POSTFIX: &str = r#"{"queue_name": "deferred", "queue_id": "4F9D3A0F6C", "arrival_time": 1700000000, "message_size": 1234, "forced_expire": false, "sender": "alice@example.com", "recipients": [{"address": "bob@remote.example", "delay_reason": "connect to remote.example[192.0.2.1]:25: Connection timed out"}, {"address": "carol@remote.example"}]}
{"queue_name": "active", "queue_id": "5A1B2C3D4E", "arrival_time": 1700003000, "message_size": 512, "forced_expire": false, "sender": "", "recipients": [{"address": "dave@other.example"}]}
{"queue_name": "hold", "queue_id": "6B2C3D4E5F", "arrival_time": 1700003500, "message_size": 99, "forced_expire": false, "sender": "x@example.com", "recipients": [{"address": "eve@remote.example"}]}
"#;

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn exim_ids_old_and_new() {
        assert!(is_exim_id("1qZ5Cf-0000c8-00"));
        assert!(is_exim_id("1rNsjf-00000000Obw-1lmT"));
        assert!(!is_exim_id("1qZ5Cf-0000c8-0"));
        assert!(!is_exim_id("1qZ5Cf-0000c8-0!"));
        assert!(!is_exim_id("bob@remote.example"));
    }

    #[test]
    fn parses_exim_496() {
        let m = parse_exim_bp(EXIM_496).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].id, "1qZ5Cf-0000c8-00");
        assert_eq!(m[0].age, 25 * 60);
        assert_eq!(m[0].sender, "alice@example.com");
        assert_eq!(
            m[0].recipients,
            ["bob@remote.example", "dave@REMOTE.example"]
        );
        assert!(!m[0].frozen);
        assert_eq!(m[1].sender, "");
        assert!(m[1].frozen);
        assert_eq!(m[1].age, 3 * 3600);
        assert_eq!(m[2].age, 4 * 86_400);
    }

    #[test]
    fn parses_exim_497() {
        let m = parse_exim_bp(EXIM_497).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].id, "1rNsjf-00000000Obw-1lmT");
        assert_eq!(m[0].age, 0);
        assert_eq!(m[1].age, 95 * 60);
        assert_eq!(m[1].recipients, ["nobody@unreachable.invalid"]);
    }

    #[test]
    fn exim_garbage_is_an_error() {
        assert!(parse_exim_bp("").unwrap().is_empty());
        assert_eq!(
            parse_exim_bp("exim: permission denied\n").unwrap_err(),
            "unexpected line in exim -bp output: 'exim: permission denied'"
        );
    }

    #[test]
    fn parses_postfix_json() {
        let m = parse_postqueue_json(POSTFIX, 1_700_003_600).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].age, 3600);
        assert_eq!(
            m[0].recipients,
            ["bob@remote.example", "carol@remote.example"]
        );
        assert!(m[2].frozen);
        assert!(parse_postqueue_json("not json\n", 0)
            .unwrap_err()
            .starts_with("postqueue -j printed something that is not JSON"));
    }

    #[test]
    fn domains_count_each_message_once() {
        let m = parse_exim_bp(EXIM_496).unwrap();
        assert_eq!(
            domain_counts(&m),
            [
                ("remote.example".to_string(), 2),
                ("other.example".to_string(), 1),
                ("unreachable.invalid".to_string(), 1)
            ]
        );
    }

    #[test]
    fn output_and_thresholds() {
        let c = check(&["-w", "2", "-c", "10", "-W", "1", "--age-critical", "86400"]).unwrap();
        let facts = QueueFacts {
            messages: parse_exim_bp(EXIM_496).unwrap(),
        };
        let r = c.evaluate(&Ok(facts));
        assert_eq!(
            render_text("MAILQ", &r),
            "MAILQ CRITICAL - 3 messages in queue, oldest 4d 0h, 1 frozen | unsent=3;2;10;0 oldest=345600s;;86400;0 frozen=1;;;0 largest_domain=2;1;;0\n[WARNING] remote.example: 2 messages\n[OK] other.example: 1 message\n[OK] unreachable.invalid: 1 message\n"
        );
        let empty = c.evaluate(&Ok(QueueFacts::default()));
        assert_eq!(empty.state(), State::Ok);
        assert_eq!(empty.summary, "mail queue is empty");
        // a queue that could not be read is UNKNOWN, in the lister's words
        let unread = c.evaluate(&Err("exim failed: exit status 1: permission denied".into()));
        assert_eq!(
            render_text("MAILQ", &unread),
            "MAILQ UNKNOWN - exim failed: exit status 1: permission denied\n"
        );
    }

    fn message(id: &str, age: u64, frozen: bool, to: &[&str]) -> Message {
        Message {
            id: id.into(),
            age,
            sender: "a@example.org".into(),
            recipients: to.iter().map(|r| r.to_string()).collect(),
            frozen,
        }
    }

    /// Hand-made queues: count, age and domain levels each decide alone; the count
    /// and the age are inclusive; a domain past the listed ones still alerts.
    #[test]
    fn evaluate_state_table() {
        let q = |ages: &[u64]| QueueFacts {
            messages: ages
                .iter()
                .enumerate()
                .map(|(i, a)| message(&format!("m{i}"), *a, false, &["x@d.example"]))
                .collect(),
        };
        let rows: &[(&[&str], &[u64], State)] = &[
            (&["-w", "2"], &[1, 2], State::Ok),
            (&["-w", "2"], &[1, 2, 3], State::Warning),
            (&["-w", "2", "-c", "2"], &[1, 2, 3], State::Critical),
            (&["--age-warning", "1h"], &[3600], State::Ok),
            (&["--age-warning", "1h"], &[3601], State::Warning),
            (&["--age-critical", "1d"], &[86_401, 5], State::Critical),
            // an empty queue has no oldest message to be too old
            (&["--age-critical", "@0:10"], &[], State::Ok),
            (&["-W", "2"], &[1, 2, 3], State::Warning),
            (&["-C", "2"], &[1, 2], State::Ok),
        ];
        for (argv, ages, want) in rows {
            let r = check(argv).unwrap().evaluate(&Ok(q(ages)));
            assert_eq!(r.state(), *want, "{argv:?} {ages:?}");
        }
        // six domains, one listed: those past it still alert (and are named) when
        // their level says so
        let mut facts = QueueFacts::default();
        for (i, d) in ["a", "b", "e", "e", "e", "f"].iter().enumerate() {
            let to = format!("u@{d}.example");
            facts
                .messages
                .push(message(&format!("m{i}"), 60, i == 0, &[to.as_str()]));
        }
        let r = check(&["--domains", "1", "-W", "@1:1"])
            .unwrap()
            .evaluate(&Ok(facts));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.summary, "6 messages in queue, oldest 1m, 1 frozen");
        let lines: Vec<&str> = r.details.iter().map(|d| d.text.as_str()).collect();
        assert_eq!(
            lines,
            [
                "e.example: 3 messages",
                "a.example: 1 message",
                "b.example: 1 message",
                "f.example: 1 message"
            ]
        );
        assert_eq!(r.details[0].state, Some(State::Ok));
        assert_eq!(r.perfdata[3].to_string(), "largest_domain=3;@1:1;;0");
    }

    #[test]
    fn bad_options_are_usage_errors() {
        assert!(check(&["-w", "5:1"])
            .unwrap_err()
            .0
            .contains("start is greater than end"));
        assert!(check(&["-M", "sendmail"]).is_err());
        assert!(check(&["--age-warning", "2 fortnights"])
            .unwrap_err()
            .0
            .contains("unknown unit"));
        assert!(check(&["--exim", ""]).unwrap_err().0.contains("empty"));
    }
}
