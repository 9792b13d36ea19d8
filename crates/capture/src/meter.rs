//! Statistics mode (WinPcap's statistics mode, netsniff-ng's ifpps): frames,
//! bytes and rates per interval for a filter, without copying payloads.
//!
//! # Method
//!
//! The kernel runs the filter on every frame and, for those it accepts,
//! copies only the frame's metadata into the ring: the accept value of the
//! program is cut to a snap length of one byte, so a frame costs the ring
//! its `tpacket3_hdr` and one byte, whatever its size, and its full length
//! still arrives in `tp_len`. User space walks the block headers (never
//! the payloads) and adds up frames and lengths per interval, by the
//! frames' own kernel timestamps: an interval is closed once two block
//! timeouts have passed after its end, so that the block holding its last
//! frames has been handed over. Kernel drops come from `PACKET_STATISTICS`
//! read at the end of each interval.
//!
//! (A filter that rejects everything costs nothing but counts nothing:
//! the kernel counts only frames that pass. Classic BPF has no counters of
//! its own, so one byte per frame is the least a socket can be given.)

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sluice_linux::capture::{Capture, CaptureConfig, Next};
use sluice_linux::{Interrupt, RingConfig, Stats, iface};

use crate::error::{Error, Result};
use crate::filter::{FilterSpec, kernel_program};

/// Everything [`Meter::open`] needs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MeterOptions {
    /// Interface (`any` for all).
    pub interface: String,
    /// A pcap-filter expression; every frame without one.
    pub filter: Option<String>,
    /// Length of an interval (at least 10 ms).
    pub interval: Duration,
    /// Promiscuous mode.
    pub promiscuous: bool,
    /// Do not count frames this host sends.
    pub ignore_outgoing: bool,
    /// Ring geometry (blocks hold about 10 000 frames per MiB).
    pub ring: RingConfig,
}

impl MeterOptions {
    /// One-second intervals on `interface`, every frame, promiscuous.
    pub fn new(interface: impl Into<String>) -> MeterOptions {
        MeterOptions {
            interface: interface.into(),
            filter: None,
            interval: Duration::from_secs(1),
            promiscuous: true,
            ignore_outgoing: false,
            ring: RingConfig::DEFAULT,
        }
    }
}

/// Counts of one interval.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interval {
    /// Start, nanoseconds since the epoch.
    pub start_ns: u64,
    /// End (exclusive).
    pub end_ns: u64,
    /// Frames that passed the filter.
    pub frames: u64,
    /// Their bytes on the wire (link-layer header on, no FCS).
    pub bytes: u64,
    /// Frames the kernel dropped for lack of ring space in the interval
    /// (they passed the filter but are not in `frames`).
    pub drops: u64,
}

impl Interval {
    /// Length in seconds.
    pub fn seconds(&self) -> f64 {
        self.end_ns.saturating_sub(self.start_ns) as f64 / 1e9
    }

    /// Frames per second.
    pub fn fps(&self) -> f64 {
        rate(self.frames as f64, self.seconds())
    }

    /// Bits per second.
    pub fn bps(&self) -> f64 {
        rate(self.bytes as f64 * 8.0, self.seconds())
    }
}

fn rate(v: f64, secs: f64) -> f64 {
    if secs > 0.0 { v / secs } else { 0.0 }
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

#[derive(Clone, Copy, Debug, Default)]
struct Acc {
    frames: u64,
    bytes: u64,
}

/// A statistics-mode socket and its running intervals.
#[derive(Debug)]
pub struct Meter {
    cap: Capture,
    interval_ns: u64,
    end_ns: u64,
    grace: Duration,
    cur: Acc,
    carry: Acc,
    last: Stats,
    total: Interval,
    malformed: u64,
}

impl Meter {
    /// Opens the socket; the first interval starts now. Needs CAP_NET_RAW.
    pub fn open(opts: &MeterOptions, interrupt: Arc<Interrupt>) -> Result<Meter> {
        if opts.interval < Duration::from_millis(10) {
            return Err(Error::Config(format!(
                "interval {:?} is shorter than 10 ms",
                opts.interval
            )));
        }
        let mapping = if opts.interface == "any" {
            iface::cooked_mapping()
        } else {
            iface::Interface::by_name(&opts.interface)?.link_mapping()
        };
        let mut cfg = CaptureConfig::new(opts.interface.clone());
        cfg.ring = opts.ring;
        cfg.snaplen = 1;
        cfg.promiscuous = opts.promiscuous;
        cfg.ignore_outgoing = opts.ignore_outgoing;
        if let Some(expr) = &opts.filter {
            cfg.filter = Some(kernel_program(
                expr,
                &FilterSpec {
                    linktype: mapping.linktype,
                    cooked: mapping.cooked,
                    snaplen: 1,
                    optimize: true,
                },
            )?);
        }
        let mut cap = Capture::open(&cfg)?;
        cap.set_interrupt(interrupt);
        let start = now_ns();
        let interval_ns = opts.interval.as_nanos() as u64;
        Ok(Meter {
            grace: 2 * cap.block_timeout() + Duration::from_millis(20),
            cap,
            interval_ns,
            end_ns: start + interval_ns,
            cur: Acc::default(),
            carry: Acc::default(),
            last: Stats::default(),
            total: Interval {
                start_ns: start,
                end_ns: start,
                ..Interval::default()
            },
            malformed: 0,
        })
    }

    /// Totals since the start, up to the last frame read.
    pub fn total(&self) -> Interval {
        self.total
    }

    /// Frames lost to malformed ring blocks (never expected).
    pub fn malformed(&self) -> u64 {
        self.malformed
    }

    /// Waits for the current interval to end and returns its counts;
    /// `None` once the interrupt is triggered (the frames of the interval
    /// cut short are in [`Meter::total`]).
    pub fn next_interval(&mut self) -> Result<Option<Interval>> {
        let close_at = self.end_ns + self.grace.as_nanos() as u64;
        loop {
            let now = now_ns();
            if now >= close_at {
                break;
            }
            let end = self.end_ns;
            let counted = match self
                .cap
                .next_block(Some(Duration::from_nanos(close_at - now)))?
            {
                // The block borrows the socket: count it and hand it back
                // before adding up.
                Next::Block(b) => {
                    let mut c = Counting::new(end);
                    c.read(&b);
                    Some(Ok(c))
                }
                Next::Timeout => None,
                Next::Interrupted => Some(Err(())),
            };
            match counted {
                Some(Ok(c)) => self.add(&c),
                Some(Err(())) => {
                    let s = self.cap.stats()?;
                    self.total.drops = s.drops;
                    self.total.end_ns = self.total.end_ns.max(now_ns());
                    return Ok(None);
                }
                None => {}
            }
        }
        let s = self.cap.stats()?;
        let iv = Interval {
            start_ns: self.end_ns - self.interval_ns,
            end_ns: self.end_ns,
            frames: self.cur.frames,
            bytes: self.cur.bytes,
            drops: s.drops - self.last.drops,
        };
        self.last = s;
        self.total.drops = s.drops;
        self.total.end_ns = self.total.end_ns.max(self.end_ns);
        self.cur = self.carry;
        self.carry = Acc::default();
        self.end_ns += self.interval_ns;
        Ok(Some(iv))
    }

    fn add(&mut self, c: &Counting) {
        self.cur.frames += c.cur.frames;
        self.cur.bytes += c.cur.bytes;
        self.carry.frames += c.carry.frames;
        self.carry.bytes += c.carry.bytes;
        self.total.frames += c.total.frames;
        self.total.bytes += c.total.bytes;
        self.total.end_ns = self.total.end_ns.max(c.last_ts);
        self.malformed += c.malformed;
    }
}

/// Counts of one block, split at an interval's end.
struct Counting {
    end: u64,
    cur: Acc,
    carry: Acc,
    total: Acc,
    last_ts: u64,
    malformed: u64,
}

impl Counting {
    fn new(end: u64) -> Counting {
        Counting {
            end,
            cur: Acc::default(),
            carry: Acc::default(),
            total: Acc::default(),
            last_ts: 0,
            malformed: 0,
        }
    }

    fn read(&mut self, block: &sluice_linux::Block<'_>) {
        let total = block.header().map_or(0, |h| u64::from(h.num_pkts));
        let mut seen = 0u64;
        if let Ok(frames) = block.frames() {
            for f in frames {
                let Ok(f) = f else { break };
                seen += 1;
                let len = u64::from(f.origlen);
                let slot = if f.ts_ns < self.end {
                    &mut self.cur
                } else {
                    &mut self.carry
                };
                slot.frames += 1;
                slot.bytes += len;
                self.total.frames += 1;
                self.total.bytes += len;
                self.last_ts = self.last_ts.max(f.ts_ns);
            }
        }
        self.malformed += total.saturating_sub(seen);
    }
}
