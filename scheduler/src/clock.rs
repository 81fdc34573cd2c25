//! Time as the daemon reads it: Unix seconds for records, and the one clock the
//! scheduler runs on.

pub use crate::state::Time;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Unix seconds of a moment (0 before 1970).
pub fn unix_secs(t: SystemTime) -> Time {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Unix seconds now, by the system's clock.
pub fn unix_now() -> Time {
    unix_secs(SystemTime::now())
}

/// The scheduler's clock: monotonic time is tokio's (so `tokio::time::pause` drives
/// it in tests), and the Unix time it reports is the system's, or, for a clock
/// [`Clock::starting_at`] a given time, that time plus tokio's elapsed time.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    base: Option<(Time, tokio::time::Instant)>,
}

impl Clock {
    /// The system's clock.
    pub fn system() -> Clock {
        Clock { base: None }
    }

    /// A clock that reads `unix` now and moves with tokio's time (which a test may
    /// pause and advance). Needs a tokio runtime.
    pub fn starting_at(unix: Time) -> Clock {
        Clock {
            base: Some((unix, tokio::time::Instant::now())),
        }
    }

    /// Monotonic now (tokio's).
    pub fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now()
    }

    /// Unix seconds now.
    pub fn unix_now(&self) -> Time {
        match self.base {
            None => unix_now(),
            Some((unix, at)) => unix + at.elapsed().as_secs(),
        }
    }

    /// Wall-clock now (moves with tokio's time for a clock started at a given time).
    pub fn system_now(&self) -> SystemTime {
        match self.base {
            None => SystemTime::now(),
            Some((unix, at)) => UNIX_EPOCH + Duration::from_secs(unix) + at.elapsed(),
        }
    }
}

impl Default for Clock {
    fn default() -> Clock {
        Clock::system()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_clock_started_at_a_time_moves_with_tokio() {
        let c = Clock::starting_at(1_000);
        assert_eq!(c.unix_now(), 1_000);
        tokio::time::sleep(Duration::from_millis(61_500)).await;
        assert_eq!(c.unix_now(), 1_061);
        assert_eq!(unix_secs(c.system_now()), 1_061);
        assert!(Clock::system().unix_now() > 1_700_000_000);
        assert_eq!(unix_secs(UNIX_EPOCH - Duration::from_secs(5)), 0);
    }
}
