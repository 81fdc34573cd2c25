//! `--input-file`: processes read from a saved `ps` listing instead of `/proc`, as
//! monitoring-plugins' check_procs reads one in its own tests. The listing has the
//! columns of `ps axwwo 'stat uid pid ppid vsz rss pcpu etime comm args'` (a header
//! line first, then one process per line).

use crate::host::processes::ProcessInfo;

/// The largest listing read.
pub const MAX_BYTES: u64 = 16 << 20;

/// `[[DD-]HH:]MM:SS` as `ps` prints the elapsed time, in seconds.
pub fn etime_seconds(text: &str) -> Option<u64> {
    let (days, rest) = match text.split_once('-') {
        Some((d, r)) => (d.parse::<u64>().ok()?, r),
        None => (0, text),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut secs = 0u64;
    for p in &parts {
        secs = secs.checked_mul(60)?.checked_add(p.parse::<u64>().ok()?)?;
    }
    days.checked_mul(86_400)?.checked_add(secs)
}

/// Splits off the first whitespace-separated word: (word, rest after the spaces).
fn word(s: &str) -> Option<(&str, &str)> {
    let s = s.trim_start();
    if s.is_empty() {
        return None;
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    Some((&s[..end], s[end..].trim_start()))
}

/// One process line, or `None` when it does not have the columns (as the peer skips
/// such lines). A zombie may lack the command and arguments.
pub fn parse_line(line: &str) -> Option<ProcessInfo> {
    let mut rest = line;
    let mut cols: Vec<&str> = Vec::with_capacity(9);
    while cols.len() < 9 {
        match word(rest) {
            Some((w, r)) => {
                cols.push(w);
                rest = r;
            }
            None => break,
        }
    }
    let stat = *cols.first()?;
    if cols.len() < 8 || (cols.len() < 9 && !stat.contains('Z')) {
        return None;
    }
    let num = |i: usize| cols[i].parse::<i64>().ok();
    let pid = i32::try_from(num(2)?).ok()?;
    let pcpu: f64 = cols[6]
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v >= 0.0)?;
    let elapsed = etime_seconds(cols[7])? as f64;
    let comm = cols.get(8).copied().unwrap_or("");
    let command = comm.rsplit('/').next().unwrap_or(comm).to_string();
    let mut state_chars = stat.chars();
    let state = state_chars.next()?;
    let flags: String = state_chars.collect();
    // the CPU time that gives back the listed %CPU (ps truncates to tenths)
    let life = elapsed.floor();
    let cpu_seconds = if life > 0.0 {
        (pcpu + 0.000_01) * life / 100.0
    } else {
        0.0
    };
    let args = rest.trim_end().to_string();
    Some(ProcessInfo {
        pid,
        ppid: i32::try_from(num(3)?).ok()?,
        uid: u32::try_from(num(1)?).unwrap_or(u32::MAX),
        state,
        command,
        args,
        rss: u64::try_from(num(5)?).ok()?.saturating_mul(1024),
        vsz: u64::try_from(num(4)?).ok()?.saturating_mul(1024),
        cpu_seconds,
        elapsed_seconds: elapsed,
        kernel_thread: false,
        nice: if flags.contains('<') {
            -1
        } else if flags.contains('N') {
            1
        } else {
            0
        },
        session: if flags.contains('s') { pid } else { -1 },
        pgrp: 0,
        tpgid: if flags.contains('+') { 0 } else { -1 },
        threads: if flags.contains('l') { 2 } else { 1 },
        locked: flags.contains('L'),
    })
}

/// Every process of a listing (its first line is the header). Kernel threads are the
/// children of the first `kthreadd`, as the peer tells them apart in a listing.
pub fn parse(text: &str) -> Vec<ProcessInfo> {
    let mut procs: Vec<ProcessInfo> = text.lines().skip(1).filter_map(parse_line).collect();
    if let Some(k) = procs
        .iter()
        .find(|p| p.command == "kthreadd")
        .map(|p| p.pid)
    {
        for p in &mut procs {
            p.kernel_thread = p.ppid == k;
        }
    }
    procs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::procs::ps_pcpu;

    #[test]
    fn elapsed_times() {
        assert_eq!(etime_seconds("00:05"), Some(5));
        assert_eq!(etime_seconds("01:00:05"), Some(3605));
        assert_eq!(etime_seconds("2-01:00:05"), Some(2 * 86400 + 3605));
        assert_eq!(etime_seconds("x"), None);
        assert_eq!(etime_seconds("1:2:3:4"), None);
    }

    #[test]
    fn lines_as_ps_prints_them() {
        let text = "STAT UID PID PPID VSZ RSS %CPU ELAPSED COMMAND COMMAND\n\
Ss 0 1 0 1000 200 0.7 10-00:00:00 /sbin/init /sbin/init splash\n\
S 0 2 0 0 0 0.0 10-00:00:00 kthreadd [kthreadd]\n\
I< 0 9 2 0 0 0.0 10-00:00:00 kworker/0:1 [kworker/0:1]\n\
Z 33 40 1 0 0 0.0 01:00\n\
Sl+ 1000 50 1 300 20 2.3 05:00 app app --serve  x\n\
garbage\n";
        let p = parse(text);
        assert_eq!(p.len(), 5);
        assert_eq!(p[0].command, "init");
        assert_eq!(p[0].args, "/sbin/init splash");
        assert_eq!(p[0].ps_stat(), "Ss");
        assert_eq!(ps_pcpu(&p[0]), 0.7);
        assert_eq!(p[0].vsz, 1000 * 1024);
        assert!(!p[1].kernel_thread && p[2].kernel_thread);
        assert_eq!(p[2].ps_stat(), "I<");
        assert_eq!(p[2].ps_args(), "[kworker/0:1]");
        assert_eq!(p[3].state, 'Z');
        assert_eq!(p[3].uid, 33);
        assert_eq!(p[4].ps_stat(), "Sl+");
        assert_eq!(ps_pcpu(&p[4]), 2.3);
        assert_eq!(p[4].elapsed_seconds, 300.0);
        assert_eq!(p[4].args, "app --serve  x");
    }
}
