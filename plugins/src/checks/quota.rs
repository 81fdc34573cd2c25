//! check_quota: Linux disk quotas, user and group, on one or every quota-enabled file
//! system: who is over the soft limit (in grace, or with the grace run out), who is near
//! or at the hard limit (percent thresholds), for blocks and inodes; the worst offenders
//! named. Read through quotactl(2) (Q_GETINFO, then Q_GETNEXTQUOTA over the ids), or
//! from `repquota -p` output (Debian's quota package) with `--method repquota`.

use crate::host::mounts::{read_mounts, Mount};
use crate::host::processes::UserNames;
use crate::host::quota::{group_name, parse_repquota, quotactl_read, Kind, Usage};
use crate::host::subprocess;
use crate::plugin::args::RangeArgs;
use crate::plugin::{
    judge, parse_level, shown, Check, CheckResult, CommonArgs, Observed, PerfData, Range, State,
    Thresholds, Unit, UsageError, Work,
};
use clap::Parser;
use std::time::Duration;

/// How quotas are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Method {
    /// The quotactl system call.
    Quotactl,
    /// `repquota -p` output.
    Repquota,
}

/// User quotas, group quotas, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Kinds {
    User,
    Group,
    Both,
}

/// A range over percent of the hard limit (`90`, `90%`, `@50:80`), from 0 to 100.
fn parse_percent(text: &str) -> Result<Range, String> {
    parse_level(text, &[Unit::Percent]).map(|l| l.range)
}

/// The shared `-w`/`-c` range made a percent of the hard limit, with its default.
fn percent_of_hard(arg: clap::Arg, which: &str, default: &'static str) -> clap::Arg {
    arg.value_parser(parse_percent)
        .value_name("PERCENT")
        .default_value(default)
        .help(format!(
            "{which} range on the percent of the hard limit used"
        ))
}

/// Command line of check_quota.
#[derive(Parser, Debug)]
#[command(
    name = "check_quota",
    version,
    about = "Checks Linux disk quotas (user and group, blocks and inodes): over the soft limit is WARNING, the grace time run out is CRITICAL, and the percent of the hard limit is held against -w/-c.\n\nA file system without quotas is UNKNOWN.\n\nExit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, no quotas, internal error). --help and --version exit 0.",
    mut_arg("warning", |a| percent_of_hard(a, "Warning", "90")),
    mut_arg("critical", |a| percent_of_hard(a, "Critical", "99"))
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    /// Mount point to check (repeatable; default every file system with quotas on)
    #[arg(short = 'p', long = "path", value_name = "MOUNT")]
    pub paths: Vec<String>,

    /// Which quotas to read
    #[arg(long = "type", value_enum, default_value_t = Kinds::Both)]
    pub kinds: Kinds,

    #[command(flatten)]
    pub levels: RangeArgs,

    /// How many offenders to name
    #[arg(long = "offenders", value_name = "N", default_value_t = 5)]
    pub offenders: usize,

    /// How quotas are read
    #[arg(long = "method", value_enum, default_value_t = Method::Quotactl)]
    pub method: Method,

    /// The repquota binary (with --method repquota)
    #[arg(long = "repquota", value_name = "PATH", default_value = "repquota")]
    pub repquota: String,
}

/// The validated check.
#[derive(Debug)]
pub struct QuotaCheck {
    pub paths: Vec<String>,
    pub kinds: Vec<Kind>,
    pub percent: Thresholds,
    pub offenders: usize,
    pub method: Method,
    pub repquota: String,
    pub timeout: Duration,
}

/// The quotas of one kind on one file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub mount: String,
    pub kind: Kind,
    pub usages: Vec<Usage>,
}

/// What was read, and when.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct QuotaFacts {
    pub reports: Vec<Report>,
    /// Requested mount points that have no quotas (or are not mount points).
    pub without: Vec<String>,
    /// Seconds since the epoch when the quotas were read: grace times end against it.
    pub now: u64,
}

impl Check for QuotaCheck {
    type Args = Args;
    /// The quotas read, or why they could not be (no mount list, quotactl or repquota
    /// failing).
    type Facts = Observed<QuotaFacts>;
    const LABEL: &'static str = "QUOTA";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        for p in &args.paths {
            if !p.starts_with('/') {
                return Err(UsageError(format!(
                    "'{}' is not an absolute mount point",
                    shown(p)
                )));
            }
        }
        Ok(QuotaCheck {
            paths: args.paths,
            kinds: match args.kinds {
                Kinds::User => vec![Kind::User],
                Kinds::Group => vec![Kind::Group],
                Kinds::Both => vec![Kind::User, Kind::Group],
            },
            percent: args.levels.thresholds(),
            offenders: args.offenders,
            method: args.method,
            repquota: args.repquota,
            timeout: args.common.timeout.duration,
        })
    }

    /// Reads the quotas of the requested (or every) file system, noting the time.
    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || {
            let all = read_mounts(std::path::Path::new("/proc"))?;
            let mut facts = QuotaFacts {
                now: crate::host::clock::unix_now_secs(),
                ..QuotaFacts::default()
            };
            match self.method {
                Method::Quotactl => {
                    let mut seen = Vec::new();
                    let wanted: Vec<Mount> = if self.paths.is_empty() {
                        all.into_iter()
                            .filter(|m| m.device.starts_with('/'))
                            .collect()
                    } else {
                        let mut v = Vec::new();
                        for p in &self.paths {
                            match all.iter().rev().find(|m| &m.mount_point == p) {
                                Some(m) => v.push(m.clone()),
                                None => facts.without.push(format!("{p} is not a mount point")),
                            }
                        }
                        v
                    };
                    let mut users = UserNames::default();
                    for m in wanted {
                        if seen.contains(&m.device) {
                            continue;
                        }
                        seen.push(m.device.clone());
                        let mut any = false;
                        for &kind in &self.kinds {
                            let Some(ids) = quotactl_read(&m.device, kind)? else {
                                continue;
                            };
                            any = true;
                            let usages = ids
                                .into_iter()
                                .map(|(id, mut u)| {
                                    u.name = match kind {
                                        Kind::User => users.name(id).to_string(),
                                        Kind::Group => {
                                            group_name(id).unwrap_or_else(|| id.to_string())
                                        }
                                    };
                                    u
                                })
                                .collect();
                            facts.reports.push(Report {
                                mount: m.mount_point.clone(),
                                kind,
                                usages,
                            });
                        }
                        if !any && !self.paths.is_empty() {
                            facts.without.push(format!(
                                "{} has no {} quotas",
                                m.mount_point,
                                self.kinds_text()
                            ));
                        }
                    }
                }
                Method::Repquota => {
                    let mut args = vec!["-p".to_string()];
                    for k in &self.kinds {
                        args.push(if *k == Kind::User { "-u" } else { "-g" }.into());
                    }
                    if self.paths.is_empty() {
                        args.push("-a".into());
                    } else {
                        args.extend(self.paths.iter().cloned());
                    }
                    let out = subprocess::run(&self.repquota, &args, self.timeout)?;
                    let parsed = parse_repquota(&out.stdout)?;
                    if !out.success && parsed.is_empty() {
                        return Err(format!("{} failed: {}", self.repquota, out.complaint()));
                    }
                    for (dev, kind, usages) in parsed {
                        let mount = all
                            .iter()
                            .find(|m| m.device == dev)
                            .map_or(dev.clone(), |m| m.mount_point.clone());
                        facts.reports.push(Report {
                            mount,
                            kind,
                            usages,
                        });
                    }
                    for p in &self.paths {
                        if !facts.reports.iter().any(|r| &r.mount == p) {
                            facts
                                .without
                                .push(format!("{p} has no {} quotas", self.kinds_text()));
                        }
                    }
                }
            }
            Ok(facts)
        })
    }

    /// UNKNOWN when the quotas could not be read.
    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |f| evaluate(f, self))
    }
}

impl QuotaCheck {
    fn kinds_text(&self) -> &'static str {
        match self.kinds.as_slice() {
            [Kind::User] => "user",
            [Kind::Group] => "group",
            _ => "user or group",
        }
    }
}

/// Hours or days left (or past) for a grace time.
fn grace_text(end: u64, now: u64) -> String {
    if end <= now {
        return "grace expired".to_string();
    }
    let left = end - now;
    if left >= 86_400 {
        format!("grace {}d left", left / 86_400)
    } else {
        format!("grace {}h left", left.div_ceil(3600))
    }
}

/// The state and description of one resource (blocks or inodes) of one id.
fn judge_resource(
    what: &str,
    used: u64,
    soft: u64,
    hard: u64,
    grace: u64,
    now: u64,
    t: &Thresholds,
) -> (State, Option<String>, f64) {
    let pct = if hard > 0 {
        used as f64 * 100.0 / hard as f64
    } else {
        0.0
    };
    let hard_state = if hard > 0 { t.state(pct) } else { State::Ok };
    let mut state = hard_state;
    let mut text = Vec::new();
    if soft > 0 && used > soft {
        let expired = grace != 0 && grace <= now;
        state = state.worst(if expired {
            State::Critical
        } else {
            State::Warning
        });
        text.push(format!(
            "{what} over soft limit ({used}/{soft}, {})",
            if grace == 0 {
                "no grace set".to_string()
            } else {
                grace_text(grace, now)
            }
        ));
    }
    if hard_state != State::Ok {
        text.push(format!("{what} {pct:.0}% of hard limit {hard}"));
    }
    (state, (!text.is_empty()).then(|| text.join(", ")), pct)
}

/// Turns the facts into the result (pure): grace times end against `facts.now`.
fn evaluate(facts: &QuotaFacts, check: &QuotaCheck) -> CheckResult {
    let now = facts.now;
    if facts.reports.is_empty() {
        let text = if facts.without.is_empty() {
            "no file system has quotas turned on".to_string()
        } else {
            facts.without.join("; ")
        };
        return CheckResult::unknown(text);
    }
    let mut offenders: Vec<(State, f64, String)> = Vec::new();
    let mut r = CheckResult::new(State::Ok, "");
    for rep in &facts.reports {
        let (mut over_soft, mut expired, mut near_hard) = (0u64, 0u64, 0u64);
        for u in &rep.usages {
            let b = judge_resource(
                "blocks",
                u.blocks,
                u.block_soft,
                u.block_hard,
                u.block_grace,
                now,
                &check.percent,
            );
            let i = judge_resource(
                "inodes",
                u.inodes,
                u.inode_soft,
                u.inode_hard,
                u.inode_grace,
                now,
                &check.percent,
            );
            let soft = (u.block_soft > 0 && u.blocks > u.block_soft)
                || (u.inode_soft > 0 && u.inodes > u.inode_soft);
            let exp = (u.block_soft > 0
                && u.blocks > u.block_soft
                && u.block_grace != 0
                && u.block_grace <= now)
                || (u.inode_soft > 0
                    && u.inodes > u.inode_soft
                    && u.inode_grace != 0
                    && u.inode_grace <= now);
            over_soft += u64::from(soft);
            expired += u64::from(exp);
            let state = b.0.worst(i.0);
            if check.percent.state(b.2.max(i.2)) != State::Ok {
                near_hard += 1;
            }
            if state != State::Ok {
                let what: Vec<String> = [b.1, i.1].into_iter().flatten().collect();
                offenders.push((
                    state,
                    b.2.max(i.2),
                    format!(
                        "{} {} on {}: {}",
                        rep.kind.as_str(),
                        u.name,
                        rep.mount,
                        what.join("; ")
                    ),
                ));
            }
        }
        let label = |what: &str| format!("{} {} {what}", rep.mount, rep.kind.as_str());
        r.push_perf(PerfData::new(label("ids"), rep.usages.len()).min(0));
        r.push_perf(PerfData::new(label("over soft"), over_soft).min(0));
        r.push_perf(PerfData::new(label("grace expired"), expired).min(0));
        r.push_perf(PerfData::new(label("near hard"), near_hard).min(0));
    }
    offenders.sort_by(|a, b| {
        b.0.severity()
            .cmp(&a.0.severity())
            .then(b.1.total_cmp(&a.1))
            .then(a.2.cmp(&b.2))
    });
    let mut mounts: Vec<&str> = facts.reports.iter().map(|r| r.mount.as_str()).collect();
    mounts.dedup();
    r.summary = if offenders.is_empty() {
        format!("no user or group over quota on {}", mounts.join(", "))
    } else {
        let names: Vec<&str> = offenders
            .iter()
            .take(check.offenders.max(1))
            .map(|o| o.2.as_str())
            .collect();
        format!(
            "{} over quota: {}{}",
            offenders.len(),
            names.join("; "),
            if offenders.len() > names.len() {
                "; ..."
            } else {
                ""
            }
        )
    };
    for (s, _, text) in offenders.iter().take(check.offenders) {
        r.push_sub(*s, text.clone());
    }
    // offenders beyond the named ones still set the state
    r.raise(State::worst_of(offenders.iter().map(|o| o.0)));
    for w in &facts.without {
        r.push_sub(State::Unknown, w.clone());
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::output::render_text;
    use crate::plugin::runner::validate;

    fn check(argv: &[&str]) -> Result<QuotaCheck, UsageError> {
        validate::<QuotaCheck>(argv)
    }

    use crate::host::quota::tests::REPQUOTA;

    fn facts() -> QuotaFacts {
        QuotaFacts {
            reports: parse_repquota(REPQUOTA)
                .unwrap()
                .into_iter()
                .map(|(_, kind, usages)| Report {
                    mount: "/home".into(),
                    kind,
                    usages,
                })
                .collect(),
            without: Vec::new(),
            now: 0,
        }
    }

    /// The facts read at `now` seconds since the epoch.
    fn seen(f: QuotaFacts, now: u64) -> Result<QuotaFacts, String> {
        Ok(QuotaFacts { now, ..f })
    }

    #[test]
    fn cli_is_well_formed() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }

    #[test]
    fn offenders_named_worst_first() {
        let c = check(&[]).unwrap();
        let r = c.evaluate(&seen(facts(), 1_700_000_000));
        assert_eq!(
            render_text("QUOTA", &r),
            "QUOTA CRITICAL - 3 over quota: user bob on /home: blocks over soft limit (120/100, grace expired); inodes over soft limit (12/10, grace 1d left); user carol on /home: blocks 95% of hard limit 200; user alice on /home: blocks over soft limit (150/100, grace 1d left) | '/home user ids'=5;;;0 '/home user over soft'=2;;;0 '/home user grace expired'=1;;;0 '/home user near hard'=1;;;0 '/home group ids'=2;;;0 '/home group over soft'=0;;;0 '/home group grace expired'=0;;;0 '/home group near hard'=0;;;0\n[CRITICAL] user bob on /home: blocks over soft limit (120/100, grace expired); inodes over soft limit (12/10, grace 1d left)\n[WARNING] user carol on /home: blocks 95% of hard limit 200\n[WARNING] user alice on /home: blocks over soft limit (150/100, grace 1d left)\n"
        );
        let c = check(&["-w", "96", "--offenders", "1"]).unwrap();
        let r = c.evaluate(&seen(facts(), 1_600_000_000));
        assert_eq!(r.state(), State::Warning);
        assert_eq!(r.details.len(), 1);
        assert!(r.summary.ends_with("; ..."), "{}", r.summary);
    }

    #[test]
    fn no_quotas_is_unknown() {
        let c = check(&["-p", "/srv"]).unwrap();
        let f = QuotaFacts {
            reports: vec![],
            without: vec!["/srv has no user or group quotas".into()],
            now: 0,
        };
        let r = c.evaluate(&seen(f, 0));
        assert_eq!(
            render_text("QUOTA", &r),
            "QUOTA UNKNOWN - /srv has no user or group quotas\n"
        );
        let r = c.evaluate(&seen(QuotaFacts::default(), 0));
        assert_eq!(r.summary, "no file system has quotas turned on");
        // quotactl or repquota failing
        let r = c.evaluate(&Err("repquota failed: exit status 1".into()));
        assert_eq!(
            (r.state(), r.summary.as_str(), r.details.len()),
            (State::Unknown, "repquota failed: exit status 1", 0)
        );
    }

    /// One hand-made id at a time: the percent of the hard limit against -w/-c (the
    /// ends inclusive), the soft limit with its grace, and no limits at all.
    #[test]
    fn state_table_of_one_id() {
        let now = 1_700_000_000;
        let one = |u: Usage| QuotaFacts {
            reports: vec![Report {
                mount: "/srv".into(),
                kind: Kind::User,
                usages: vec![Usage {
                    name: "alice".into(),
                    ..u
                }],
            }],
            without: Vec::new(),
            now: 0,
        };
        let blocks = |used, soft, hard, grace| Usage {
            blocks: used,
            block_soft: soft,
            block_hard: hard,
            block_grace: grace,
            ..Usage::default()
        };
        let c = check(&["-w", "80", "-c", "95%"]).unwrap();
        let rows = [
            (blocks(80, 0, 100, 0), State::Ok),
            (blocks(81, 0, 100, 0), State::Warning),
            (blocks(95, 0, 100, 0), State::Warning),
            (blocks(96, 0, 100, 0), State::Critical),
            (blocks(10, 0, 0, 0), State::Ok),
            (blocks(51, 50, 0, now + 3600), State::Warning),
            (blocks(51, 50, 0, now), State::Critical),
            (blocks(51, 50, 0, 0), State::Warning),
            (
                Usage {
                    inodes: 99,
                    inode_hard: 100,
                    ..Usage::default()
                },
                State::Critical,
            ),
        ];
        for (u, want) in rows {
            let r = c.evaluate(&seen(one(u.clone()), now));
            assert_eq!(r.state(), want, "{u:?}: {}", r.summary);
        }
        let r = c.evaluate(&seen(one(blocks(51, 50, 0, now + 7200)), now));
        assert_eq!(
            r.summary,
            "1 over quota: user alice on /srv: blocks over soft limit (51/50, grace 2h left)"
        );
    }

    #[test]
    fn bad_options_are_usage_errors() {
        for (argv, part) in [
            (&["-p", "home"][..], "not an absolute mount point"),
            (&["-w", "9:1"], "start is greater than end"),
            (&["-w", "101"], "a percentage must be from 0 to 100"),
            (&["-c", "200%"], "a percentage must be from 0 to 100"),
            (&["-c", "@-5:50"], "a percentage must be from 0 to 100"),
            (&["-c", "é"], "not allowed"),
            (&["--type", "project"], "invalid value 'project'"),
        ] {
            let e = check(argv).unwrap_err().0;
            assert!(e.contains(part), "{argv:?}: {e}");
        }
        let c = check(&["-w", "80%", "-c", "@0:100"]).unwrap();
        assert_eq!(c.percent.warning, Some("80".parse().unwrap()));
    }
}
