//! The wall clock, read in one place: the checks' pure evaluations take "now" as an
//! argument, and the fetching side reads it here.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch now (0 if the clock is before it).
pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Seconds since the Unix epoch now, unsigned.
pub fn unix_now_secs() -> u64 {
    unix_now().max(0) as u64
}

/// Nanoseconds since the Unix epoch now (for rates and unique tokens).
pub fn unix_now_nanos() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// A moment in UTC as calendar fields (proleptic Gregorian).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

/// The calendar date and time in UTC of Unix seconds (H. Hinnant's civil-from-days).
pub fn civil_from_unix(secs: i64) -> Civil {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    Civil {
        year: yoe + era * 400 + i64::from(month <= 2),
        month,
        day,
        hour: rem / 3600,
        minute: rem % 3600 / 60,
        second: rem % 60,
    }
}

/// Days since 1970-01-01 of a calendar date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        let c = civil_from_unix(951_782_400 + 3_723); // 2000-02-29 01:02:03
        assert_eq!(
            c,
            Civil {
                year: 2000,
                month: 2,
                day: 29,
                hour: 1,
                minute: 2,
                second: 3
            }
        );
        assert_eq!(civil_from_unix(-1).year, 1969);
        for secs in [
            -86_400 * 800_000,
            -1,
            0,
            951_782_400,
            4_102_444_800,
            253_402_300_799,
        ] {
            let c = civil_from_unix(secs);
            let back = days_from_civil(c.year, c.month, c.day) * 86_400
                + c.hour * 3600
                + c.minute * 60
                + c.second;
            assert_eq!(back, secs);
        }
    }

    #[test]
    fn readings_agree() {
        let s = unix_now();
        assert!(s > 1_700_000_000);
        assert!(unix_now_secs() >= s as u64);
        assert!(unix_now_nanos() / 1_000_000_000 >= s as u128);
    }
}
