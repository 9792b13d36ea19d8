//! Timestamps as tcpdump prints them: local time of day, epoch seconds,
//! deltas, date and time; microseconds or nanoseconds.

use std::fmt::Write;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::cmd::print::TimeFormat;

/// Formats frame timestamps in one style, remembering what the deltas need.
pub struct TimeFormatter {
    style: TimeFormat,
    nanos: bool,
    tz: TimeZone,
    /// Cached UTC offset (seconds) for a 15-minute window of time, so that
    /// most frames need no time-zone lookup.
    offset_cache: Option<(i64, i64)>,
    prev: Option<u64>,
    first: Option<u64>,
}

const WINDOW: i64 = 900;

impl TimeFormatter {
    /// A formatter for `style`, in the system's time zone.
    pub fn new(style: TimeFormat, nanos: bool) -> TimeFormatter {
        TimeFormatter::with_zone(style, nanos, TimeZone::system())
    }

    /// A formatter for `style` in a given time zone.
    pub fn with_zone(style: TimeFormat, nanos: bool, tz: TimeZone) -> TimeFormatter {
        TimeFormatter {
            style,
            nanos,
            tz,
            offset_cache: None,
            prev: None,
            first: None,
        }
    }

    /// Appends the timestamp of a frame at `ts_ns` (ns since the epoch) and a
    /// trailing space to `out`; nothing for [`TimeFormat::None`].
    pub fn write(&mut self, out: &mut String, ts_ns: u64) {
        let first = *self.first.get_or_insert(ts_ns);
        let prev = self.prev.replace(ts_ns).unwrap_or(ts_ns);
        match self.style {
            TimeFormat::None => {}
            TimeFormat::Epoch => {
                let _ = write!(out, "{}.", ts_ns / 1_000_000_000);
                self.fraction(out, ts_ns % 1_000_000_000);
                out.push(' ');
            }
            TimeFormat::Clock => {
                let local = self.local_seconds(ts_ns);
                self.clock(out, local.rem_euclid(86_400), ts_ns % 1_000_000_000);
                out.push(' ');
            }
            TimeFormat::DateTime => {
                let local = self.local_seconds(ts_ns);
                let days = local.div_euclid(86_400);
                let (y, m, d) = civil_from_days(days);
                let _ = write!(out, "{y:04}-{m:02}-{d:02} ");
                self.clock(out, local.rem_euclid(86_400), ts_ns % 1_000_000_000);
                out.push(' ');
            }
            // tcpdump starts delta times with a space.
            TimeFormat::Delta => {
                out.push(' ');
                self.delta(out, ts_ns as i128 - prev as i128);
                out.push(' ');
            }
            TimeFormat::SinceFirst => {
                out.push(' ');
                self.delta(out, ts_ns as i128 - first as i128);
                out.push(' ');
            }
        }
    }

    fn fraction(&self, out: &mut String, nanos: u64) {
        if self.nanos {
            let _ = write!(out, "{nanos:09}");
        } else {
            let _ = write!(out, "{:06}", nanos / 1000);
        }
    }

    fn clock(&self, out: &mut String, secs_of_day: i64, nanos: u64) {
        let h = secs_of_day / 3600;
        let m = secs_of_day / 60 % 60;
        let s = secs_of_day % 60;
        let _ = write!(out, "{h:02}:{m:02}:{s:02}.");
        self.fraction(out, nanos);
    }

    /// tcpdump's delta form: `HH:MM:SS.ffffff`, with a minus sign when
    /// time went backwards.
    fn delta(&self, out: &mut String, d: i128) {
        if d < 0 {
            out.push('-');
        }
        let d = d.unsigned_abs();
        let secs = (d / 1_000_000_000) as u64;
        let nanos = (d % 1_000_000_000) as u64;
        let _ = write!(
            out,
            "{:02}:{:02}:{:02}.",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        );
        self.fraction(out, nanos);
    }

    /// Seconds since the epoch shifted into local time.
    fn local_seconds(&mut self, ts_ns: u64) -> i64 {
        let secs = (ts_ns / 1_000_000_000) as i64;
        let window = secs.div_euclid(WINDOW);
        let offset = match self.offset_cache {
            Some((w, off)) if w == window => off,
            _ => {
                let off = Timestamp::from_second(secs)
                    .map(|t| i64::from(self.tz.to_offset(t).seconds()))
                    .unwrap_or(0);
                self.offset_cache = Some((window, off));
                off
            }
        };
        secs + offset
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A timestamp as `YYYY-MM-DD HH:MM:SS.fffffffff ZONE` in the system's time
/// zone, for summaries.
pub fn full(ts_ns: u64) -> String {
    let ts = Timestamp::from_nanosecond(i128::from(ts_ns)).unwrap_or(Timestamp::UNIX_EPOCH);
    let z = ts.to_zoned(TimeZone::system());
    format!(
        "{}.{:09} {}",
        z.strftime("%Y-%m-%d %H:%M:%S"),
        ts_ns % 1_000_000_000,
        z.strftime("%Z")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(style: TimeFormat, nanos: bool, stamps: &[u64]) -> Vec<String> {
        let mut f = TimeFormatter::with_zone(style, nanos, TimeZone::UTC);
        stamps
            .iter()
            .map(|&t| {
                let mut s = String::new();
                f.write(&mut s, t);
                s
            })
            .collect()
    }

    #[test]
    fn styles_match_tcpdump() {
        // 2009-02-13 23:31:30.123456789 UTC
        let t = 1_234_567_890_123_456_789;
        assert_eq!(fmt(TimeFormat::Clock, false, &[t]), ["23:31:30.123456 "]);
        assert_eq!(fmt(TimeFormat::Clock, true, &[t]), ["23:31:30.123456789 "]);
        assert_eq!(fmt(TimeFormat::Epoch, false, &[t]), ["1234567890.123456 "]);
        assert_eq!(
            fmt(TimeFormat::DateTime, false, &[t]),
            ["2009-02-13 23:31:30.123456 "]
        );
        assert_eq!(fmt(TimeFormat::None, false, &[t]), [""]);
        assert_eq!(
            fmt(TimeFormat::Delta, false, &[t, t + 1_500_000_000, t]),
            [
                " 00:00:00.000000 ",
                " 00:00:01.500000 ",
                " -00:00:01.500000 "
            ]
        );
        assert_eq!(
            fmt(TimeFormat::SinceFirst, false, &[t, t + 3_723_000_001_000]),
            [" 00:00:00.000000 ", " 01:02:03.000001 "]
        );
    }

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(20_780), (2026, 11, 23));
    }
}
