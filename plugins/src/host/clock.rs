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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_agree() {
        let s = unix_now();
        assert!(s > 1_700_000_000);
        assert!(unix_now_secs() >= s as u64);
        assert!(unix_now_nanos() / 1_000_000_000 >= s as u128);
    }
}
