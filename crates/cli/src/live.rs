//! What the live commands (capture, stats, inject, gen) share: signal
//! handling, a status line on the terminal, and parsers and formatters for
//! durations, rates, MAC addresses and UDP endpoints.

use std::io::{IsTerminal, Write};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use sluice_linux::Interrupt;
use sluice_linux::signals::{Signal, Signals};

use crate::args::UsageError;

/// SIGINT, SIGTERM and SIGHUP wired to one interrupt that every socket of
/// the command waits on.
pub struct Stopper {
    signals: Signals,
}

impl Stopper {
    /// Installs the handlers.
    pub fn install() -> anyhow::Result<Stopper> {
        let interrupt = Arc::new(Interrupt::new().context("setting up signal handling")?);
        let signals = Signals::install(interrupt).context("setting up signal handling")?;
        Ok(Stopper { signals })
    }

    /// The interrupt the signals trigger.
    pub fn interrupt(&self) -> Arc<Interrupt> {
        Arc::clone(self.signals.interrupt())
    }

    /// Whether any handled signal has arrived.
    pub fn stopped(&self) -> bool {
        self.signals.total() > 0
    }

    /// Waits up to `timeout` for a signal, or for anything else that
    /// triggers the interrupt (a capture ending by itself); true if it was
    /// triggered.
    pub fn wait(&self, timeout: Duration) -> bool {
        self.signals.interrupt().wait(timeout)
    }

    /// Whether SIGINT came twice: the user wants out at once.
    pub fn insisted(&self) -> bool {
        self.signals.count(Signal::Int) >= 2
    }
}

/// A one-line status on stderr, redrawn in place; only when stderr is a
/// terminal.
pub struct StatusLine {
    on: bool,
    drawn: bool,
    last: Option<Instant>,
}

impl StatusLine {
    /// A status line, shown if `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> StatusLine {
        StatusLine {
            on: wanted && std::io::stderr().is_terminal(),
            drawn: false,
            last: None,
        }
    }

    /// Whether the line is shown at all.
    pub fn shown(&self) -> bool {
        self.on
    }

    /// Whether it is time to redraw (every half second).
    pub fn due(&self) -> bool {
        self.on
            && self
                .last
                .is_none_or(|t| t.elapsed() >= Duration::from_millis(500))
    }

    /// Redraws the line.
    pub fn draw(&mut self, text: &str) {
        if !self.on {
            return;
        }
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[2K{text}");
        let _ = e.flush();
        self.drawn = true;
        self.last = Some(Instant::now());
    }

    /// Removes the line.
    pub fn clear(&mut self) {
        if self.drawn {
            let mut e = std::io::stderr().lock();
            let _ = write!(e, "\r\x1b[2K");
            let _ = e.flush();
            self.drawn = false;
        }
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Parses a duration: `1s`, `500ms`, `250us`, `2m`, `1.5` (seconds).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (try 1s, 500ms, 2m)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {s:?} (use h, m, s, ms, us)"
            ));
        }
    };
    let secs = v * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 1e9 {
        return Err(format!("{s:?} is not a positive duration"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Parses a MAC address `aa:bb:cc:dd:ee:ff` (or with `-`).
pub fn parse_mac(s: &str) -> Result<[u8; 6], String> {
    let parts: Vec<&str> = s.split([':', '-']).collect();
    let bad = || format!("{s:?} is not a MAC address (like 02:00:00:00:00:01)");
    if parts.len() != 6 {
        return Err(bad());
    }
    let mut mac = [0u8; 6];
    for (m, p) in mac.iter_mut().zip(parts) {
        if p.is_empty() || p.len() > 2 {
            return Err(bad());
        }
        *m = u8::from_str_radix(p, 16).map_err(|_| bad())?;
    }
    Ok(mac)
}

/// Parses `SRC:PORT,DST:PORT` (IPv6 in brackets: `[fd77::1]:4000`).
pub fn parse_udp_pair(s: &str) -> Result<(SocketAddr, SocketAddr), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("{s:?}: expected SRC:PORT,DST:PORT"))?;
    let parse = |x: &str| {
        x.trim()
            .parse::<SocketAddr>()
            .map_err(|_| format!("{x:?} is not ADDRESS:PORT (IPv6 as [addr]:port)"))
    };
    let (src, dst) = (parse(a)?, parse(b)?);
    if src.is_ipv4() != dst.is_ipv4() {
        return Err(format!(
            "{s:?}: source and destination of different families"
        ));
    }
    Ok((src, dst))
}

/// A usage error (exit code 2).
pub fn usage(msg: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg.into()))
}

/// `1234567` as `1.23M`, for rates and sizes on a status line.
pub fn si(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if a >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if a >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("1 fortnight").is_err());
        assert!(parse_duration("s").is_err());
    }

    #[test]
    fn macs_and_endpoints() {
        assert_eq!(
            parse_mac("02:77:0a:00:00:01").unwrap(),
            [2, 0x77, 10, 0, 0, 1]
        );
        assert!(parse_mac("02:77:0a:00:00").is_err());
        assert!(parse_mac("02:77:0a:00:00:1ff").is_err());
        let (s, d) = parse_udp_pair("10.77.1.1:4000,10.77.1.2:9").unwrap();
        assert_eq!((s.port(), d.port()), (4000, 9));
        assert!(parse_udp_pair("[fd77::1]:1,[fd77::2]:2").is_ok());
        assert!(parse_udp_pair("10.77.1.1:1,[fd77::2]:2").is_err());
        assert!(parse_udp_pair("10.77.1.1:1").is_err());
    }

    #[test]
    fn si_units() {
        assert_eq!(si(999.0), "999");
        assert_eq!(si(1500.0), "1.5k");
        assert_eq!(si(2_345_678.0), "2.35M");
    }
}
