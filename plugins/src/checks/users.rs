//! check_users: the number of logged-in users (login records of type USER_PROCESS in the
//! utmp file, as monitoring-plugins' check_users counts them through getutxent) against
//! `-w`/`-c`. Options and perfdata (`users=N;w;c;0`) follow the peer.
//!
//! The utmp file is read and decoded here, record by record, rather than through glibc's
//! getutxent: that interface keeps one process-wide cursor, which checks running side by
//! side in the daemon would share.

use crate::plugin::args::RangeArgs;
use crate::plugin::{
    judge, CheckResult, CommonArgs, Observed, PerfData, Range, Thresholds, UsageError, Work,
    EXIT_CODES,
};
use clap::Parser;
use std::path::PathBuf;

/// Where glibc keeps the login records (`_PATH_UTMP`).
pub const SYSTEM_UTMP: &str = "/var/run/utmp";

/// The largest utmp file read (about 87 000 records): a bigger one is refused, not read.
pub const MAX_UTMP_BYTES: u64 = 32 << 20;

/// Command line of check_users.
#[derive(Parser, Debug)]
#[command(
    name = "check_users",
    version,
    about = "Checks the number of users currently logged in on this system (login records in utmp).",
    after_help = format!("The thresholds may also be given as the first two bare words, as monitoring-plugins accepts them: `check_users 5 10`. Where ours differs from Debian's: a threshold that is not a range is refused (exit 3), and no threshold at all only reports the count. A missing system utmp file counts as no one logged in (as Debian's does); a missing --utmp-file is UNKNOWN.\n\n{EXIT_CODES}"),
    mut_arg("warning", |a| a.value_name("USERS").help("WARNING when more than this many users are logged in (a count or a range)")),
    mut_arg("critical", |a| a.value_name("USERS").help("CRITICAL when more than this many users are logged in (a count or a range)"))
)]
pub struct Args {
    #[command(flatten)]
    pub common: CommonArgs,

    #[command(flatten)]
    pub levels: RangeArgs,

    /// The warning threshold given as a bare word (when -w is not given)
    #[arg(value_name = "WARNING")]
    pub warning_word: Option<Range>,

    /// The critical threshold given as a bare word (when -c is not given)
    #[arg(value_name = "CRITICAL")]
    pub critical_word: Option<Range>,

    /// The utmp file to read (default: the system's, /var/run/utmp); it is only read
    #[arg(long = "utmp-file", value_name = "PATH")]
    pub utmp_file: Option<PathBuf>,
}

/// The validated check.
#[derive(Debug)]
pub struct UsersCheck {
    pub thresholds: Thresholds,
    /// The file read; `explicit` when the user named it (then a missing file is UNKNOWN).
    pub utmp: PathBuf,
    pub explicit: bool,
}

impl crate::plugin::Check for UsersCheck {
    type Args = Args;
    /// The number of user sessions, or why the file could not be read.
    type Facts = Observed<u64>;
    const LABEL: &'static str = "USERS";

    fn common(args: &Args) -> &CommonArgs {
        &args.common
    }

    fn new(args: Args) -> Result<Self, UsageError> {
        // as the peer: the bare words fill what -w/-c left unset, in that order
        let mut words = [args.warning_word, args.critical_word]
            .into_iter()
            .flatten();
        let warning = args.levels.warning.or_else(|| words.next());
        let critical = args.levels.critical.or_else(|| words.next());
        for (r, what) in [(warning, "Warning"), (critical, "Critical")] {
            if r.and_then(|r| r.end()).is_some_and(|e| e < 0.0) {
                return Err(UsageError(format!(
                    "{what} threshold must be a positive integer"
                )));
            }
        }
        let explicit = args.utmp_file.is_some();
        Ok(UsersCheck {
            thresholds: Thresholds::new(warning, critical),
            utmp: args.utmp_file.unwrap_or_else(|| PathBuf::from(SYSTEM_UTMP)),
            explicit,
        })
    }

    fn fetch(&self) -> Work<'_, Self::Facts> {
        Work::local(move || read_users(&self.utmp, self.explicit))
    }

    fn evaluate(&self, facts: &Self::Facts) -> CheckResult {
        judge(facts, |&users| {
            let state = self.thresholds.state(users as f64);
            CheckResult::new(state, format!("{users} users currently logged in")).with_perf(
                PerfData::new("users", users)
                    .thresholds(&self.thresholds)
                    .min(0),
            )
        })
    }
}

/// Counts the user sessions in a utmp file; a missing file that was not named counts 0
/// (glibc's getutxent finds no record then either).
pub fn read_users(path: &std::path::Path, explicit: bool) -> Observed<u64> {
    // a FIFO or device named by --utmp-file must not hang the check: regular files only
    let bytes = match crate::host::files::read_regular(path, MAX_UTMP_BYTES) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !explicit => return Ok(0),
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => {
            return Err(format!(
                "{} is larger than {} MiB: not a utmp file",
                path.display(),
                MAX_UTMP_BYTES >> 20
            ))
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    Ok(count_user_sessions(&bytes))
}

/// The number of USER_PROCESS records in utmp file contents (glibc's `struct utmpx`
/// layout; a cut last record is not read, as getutxent does not return it).
pub fn count_user_sessions(bytes: &[u8]) -> u64 {
    let size = std::mem::size_of::<libc::utmpx>();
    bytes
        .chunks_exact(size)
        .filter(|rec| {
            // SAFETY: a `utmpx` is plain integers and byte arrays, valid for any bytes;
            // the record is exactly its size and read unaligned.
            let u: libc::utmpx = unsafe { std::ptr::read_unaligned(rec.as_ptr().cast()) };
            u.ut_type == libc::USER_PROCESS
        })
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::runner::validate;
    use crate::plugin::{Check, State};

    /// A utmp record of `kind` as glibc writes it.
    fn record(kind: libc::c_short, user: &str) -> Vec<u8> {
        // SAFETY: all-zero bytes are a valid utmpx.
        let mut u: libc::utmpx = unsafe { std::mem::zeroed() };
        u.ut_type = kind;
        for (d, s) in u.ut_user.iter_mut().zip(user.bytes()) {
            *d = s as libc::c_char;
        }
        let size = std::mem::size_of::<libc::utmpx>();
        // SAFETY: reading the bytes of a plain struct.
        unsafe { std::slice::from_raw_parts((&u as *const libc::utmpx).cast::<u8>(), size) }
            .to_vec()
    }

    #[test]
    fn only_user_sessions_count_and_a_cut_record_is_not_read() {
        let mut file = record(libc::BOOT_TIME, "reboot");
        file.extend(record(libc::USER_PROCESS, "alice"));
        file.extend(record(libc::LOGIN_PROCESS, "LOGIN"));
        file.extend(record(libc::USER_PROCESS, "bob"));
        file.extend(record(libc::DEAD_PROCESS, ""));
        assert_eq!(count_user_sessions(&file), 2);
        let cut = record(libc::USER_PROCESS, "carol");
        file.extend(&cut[..100]);
        assert_eq!(count_user_sessions(&file), 2);
        assert_eq!(count_user_sessions(&[]), 0);
    }

    fn verdict(args: &[&str], users: u64) -> (State, String, String) {
        let c: UsersCheck = validate(args).unwrap();
        let r = c.evaluate(&Ok(users));
        (r.state(), r.summary.clone(), r.perfdata[0].to_string())
    }

    #[test]
    fn thresholds_from_options_or_bare_words() {
        assert_eq!(
            verdict(&["-w", "5", "-c", "10"], 3),
            (
                State::Ok,
                "3 users currently logged in".into(),
                "users=3;5;10;0".into()
            )
        );
        assert_eq!(verdict(&["5", "10"], 6).0, State::Warning);
        assert_eq!(verdict(&["5", "10"], 11).0, State::Critical);
        assert_eq!(verdict(&["0", "0"], 1).0, State::Critical);
        assert_eq!(verdict(&["-w", "0:0", "-c", "0:0"], 1).0, State::Critical);
        assert_eq!(verdict(&["-w", "0:1000", "-c", "0:1000"], 1).0, State::Ok);
        // -w given: the one bare word is the critical threshold
        assert_eq!(verdict(&["-w", "5", "2"], 3).0, State::Critical);
        assert_eq!(verdict(&[], 300).0, State::Ok);
    }

    #[test]
    fn bad_thresholds_are_refused() {
        assert!(validate::<UsersCheck>(&["-w", "x"]).is_err());
        assert!(validate::<UsersCheck>(&["-w", "-5"]).is_err());
        let e = validate::<UsersCheck>(&["-w", "-10:-5"]).unwrap_err();
        assert_eq!(e.0, "Warning threshold must be a positive integer");
        let e = validate::<UsersCheck>(&["-c", "-10:-5"]).unwrap_err();
        assert_eq!(e.0, "Critical threshold must be a positive integer");
        assert!(validate::<UsersCheck>(&["1", "2", "3"]).is_err());
    }

    #[test]
    fn a_missing_file_is_nobody_unless_named() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("utmp");
        assert_eq!(read_users(&gone, false), Ok(0));
        assert!(read_users(&gone, true).unwrap_err().contains("cannot read"));
        let mut bytes = record(libc::USER_PROCESS, "alice");
        bytes.extend(record(libc::USER_PROCESS, "bob"));
        std::fs::write(&gone, bytes).unwrap();
        assert_eq!(read_users(&gone, true), Ok(2));
        let c: UsersCheck =
            validate(&["--utmp-file", gone.to_str().unwrap(), "-w", "1", "-c", "5"]).unwrap();
        let r = c.evaluate(&crate::plugin::runner::fetched(&c));
        assert_eq!(r.state(), State::Warning);
    }

    #[test]
    fn a_fifo_utmp_file_is_refused_at_once() {
        let fifo = crate::plugin::regular_file::test_fifo("utmp");
        let started = std::time::Instant::now();
        assert_eq!(
            read_users(&fifo, true).unwrap_err(),
            format!("cannot read {}: not a regular file", fifo.display())
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
