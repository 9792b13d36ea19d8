//! When frames go out: as fast as possible, at a frame rate, at a bit
//! rate, or at the times a capture recorded (sped up or slowed down).
//!
//! A [`Pacer`] turns each frame into the time, from the start, at which it
//! is due; senders gather frames that are due (or nearly: within
//! [`Pacer::LEAD`]) into one batch and sleep until the next one is due.
//! Rates are therefore exact on average and bursty only within the lead.

use std::time::{Duration, Instant};

/// How fast to send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Pace {
    /// As fast as the interface takes them.
    Top,
    /// At the recorded times, divided by this factor (1.0: as recorded,
    /// 2.0: twice as fast).
    Recorded(f64),
    /// Frames per second.
    Pps(f64),
    /// Megabits per second, counting frame bytes (no preamble, no FCS).
    Mbps(f64),
}

impl Pace {
    /// Checks that a rate or factor is positive and finite.
    pub fn validate(&self) -> Result<(), String> {
        let (v, what) = match *self {
            Pace::Top => return Ok(()),
            Pace::Recorded(x) => (x, "speed factor"),
            Pace::Pps(x) => (x, "frame rate"),
            Pace::Mbps(x) => (x, "bit rate"),
        };
        if v.is_finite() && v > 0.0 {
            Ok(())
        } else {
            Err(format!("{what} {v} must be a positive number"))
        }
    }
}

/// Schedules frames from a start time.
#[derive(Clone, Debug)]
pub struct Pacer {
    pace: Pace,
    start: Instant,
    frames: u64,
    bits: f64,
}

impl Pacer {
    /// Frames due within this much of now go out with the current batch.
    pub const LEAD: Duration = Duration::from_micros(200);

    /// A pacer starting now.
    pub fn new(pace: Pace) -> Pacer {
        Pacer {
            pace,
            start: Instant::now(),
            frames: 0,
            bits: 0.0,
        }
    }

    /// The pace.
    pub fn pace(&self) -> Pace {
        self.pace
    }

    /// When the next frame, recorded `recorded` after the first one, is
    /// due (from the start), without scheduling it.
    pub fn next_due(&self, recorded: Duration) -> Duration {
        match self.pace {
            Pace::Top => Duration::ZERO,
            Pace::Recorded(x) => recorded.div_f64(x),
            Pace::Pps(p) => Duration::from_secs_f64(self.frames as f64 / p),
            Pace::Mbps(m) => Duration::from_secs_f64(self.bits / (m * 1e6)),
        }
    }

    /// When the next frame, of `len` bytes and recorded `recorded` after
    /// the first one, is due (from the start); counts it as scheduled.
    pub fn schedule(&mut self, len: usize, recorded: Duration) -> Duration {
        let due = self.next_due(recorded);
        self.frames += 1;
        self.bits += len as f64 * 8.0;
        due
    }

    /// Whether a frame due at `due` should go with the batch being made.
    pub fn is_due(&self, due: Duration) -> bool {
        due <= self.start.elapsed() + Self::LEAD
    }

    /// Sleeps until `due` (from the start), waking every 100 ms to ask
    /// `stop`; returns false if `stop` said so.
    pub fn wait_until(&self, due: Duration, stop: &dyn Fn() -> bool) -> bool {
        loop {
            if stop() {
                return false;
            }
            let now = self.start.elapsed();
            if now + Self::LEAD >= due {
                return true;
            }
            let left = due - now - Self::LEAD / 2;
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
    }

    /// Time since the start.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_rates() {
        let mut p = Pacer::new(Pace::Pps(1000.0));
        assert_eq!(p.schedule(60, Duration::ZERO), Duration::ZERO);
        assert_eq!(p.schedule(60, Duration::ZERO), Duration::from_millis(1));
        let mut p = Pacer::new(Pace::Mbps(1.0));
        assert_eq!(p.schedule(125, Duration::ZERO), Duration::ZERO);
        // 1000 bits at 1 Mbit/s: 1 ms.
        assert_eq!(p.schedule(125, Duration::ZERO), Duration::from_millis(1));
        let mut p = Pacer::new(Pace::Recorded(2.0));
        assert_eq!(
            p.schedule(60, Duration::from_secs(3)),
            Duration::from_millis(1500)
        );
        let mut p = Pacer::new(Pace::Top);
        assert_eq!(p.schedule(60, Duration::from_secs(3)), Duration::ZERO);
        assert!(p.is_due(Duration::ZERO));
    }

    #[test]
    fn validates() {
        assert!(Pace::Pps(0.0).validate().is_err());
        assert!(Pace::Mbps(f64::NAN).validate().is_err());
        assert!(Pace::Recorded(-1.0).validate().is_err());
        assert!(Pace::Recorded(0.5).validate().is_ok());
    }

    #[test]
    fn waits_and_stops() {
        let p = Pacer::new(Pace::Top);
        let t = Instant::now();
        assert!(p.wait_until(Duration::from_millis(20), &|| false));
        assert!(t.elapsed() >= Duration::from_millis(19));
        assert!(!p.wait_until(Duration::from_secs(60), &|| true));
    }
}
