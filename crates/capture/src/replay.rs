//! Sending the frames of a capture file (like tcpreplay), and generating
//! UDP test traffic (like trafgen), through a [`TxSocket`].
//!
//! Both read or build frames into one batch buffer and hand the batch to
//! [`TxSocket::send`] (`sendmmsg` or a TX ring): frames are never sent one
//! system call at a time. Pacing comes from [`Pacer`]. Every frame is
//! accounted for: sent, failed (refused by the kernel, too long for the
//! interface, retries used up), or — for replay — sent though the file
//! had cut it short (counted as truncated, sent as captured).

use std::path::Path;
use std::time::Duration;

use sluice_linux::frames::UdpFrames;
use sluice_linux::tx::{SendReport, TxSocket};
use sluice_pcap::Reader;

use crate::error::{Error, Result};
use crate::pace::{Pace, Pacer};

/// What a replay or a generator did.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SendTotals {
    /// Frames the kernel took.
    pub sent: u64,
    /// Bytes in those frames.
    pub bytes: u64,
    /// Frames that did not go out.
    pub failed: u64,
    /// Waits for room in the socket or ring.
    pub retries: u64,
    /// Replay: frames the file had cut short (sent as captured).
    pub truncated: u64,
    /// Replay: passes over the file completed.
    pub loops: u64,
    /// Time from the first frame to the last send.
    pub elapsed: Duration,
}

impl SendTotals {
    fn add(&mut self, r: &SendReport) {
        self.sent += r.sent;
        self.bytes += r.bytes;
        self.failed += r.failed;
        self.retries += r.retries;
    }

    /// Frames per second sent.
    pub fn pps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 { self.sent as f64 / s } else { 0.0 }
    }

    /// Megabits per second sent (frame bytes).
    pub fn mbps(&self) -> f64 {
        let s = self.elapsed.as_secs_f64();
        if s > 0.0 {
            self.bytes as f64 * 8.0 / s / 1e6
        } else {
            0.0
        }
    }
}

/// How to replay a file.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ReplayOptions {
    /// How fast.
    pub pace: Pace,
    /// Passes over the file; 0 repeats until stopped.
    pub loops: u64,
    /// Most frames per send call.
    pub batch: usize,
}

impl ReplayOptions {
    /// One pass at `pace`, batches of 256.
    pub fn new(pace: Pace) -> ReplayOptions {
        ReplayOptions {
            pace,
            loops: 1,
            batch: 256,
        }
    }
}

/// A batch of frames copied out of a file (or built), sent in one call.
struct Batch {
    data: Vec<u8>,
    ends: Vec<usize>,
}

impl Batch {
    fn new() -> Batch {
        Batch {
            data: Vec::with_capacity(1 << 20),
            ends: Vec::new(),
        }
    }

    fn push(&mut self, frame: &[u8]) {
        self.data.extend_from_slice(frame);
        self.ends.push(self.data.len());
    }

    fn len(&self) -> usize {
        self.ends.len()
    }

    fn send(&mut self, tx: &mut TxSocket, totals: &mut SendTotals) -> Result<()> {
        if self.ends.is_empty() {
            return Ok(());
        }
        let mut frames: Vec<&[u8]> = Vec::with_capacity(self.ends.len());
        let mut start = 0;
        for &end in &self.ends {
            frames.push(&self.data[start..end]);
            start = end;
        }
        let r = tx.send(&frames)?;
        totals.add(&r);
        self.data.clear();
        self.ends.clear();
        Ok(())
    }
}

/// Sends the frames of the capture at `path` (`-` for stdin, one pass
/// only) on `tx`, as `opts` says, until done or `stop` returns true. The
/// file's link type must be the interface's.
pub fn replay(
    path: &Path,
    tx: &mut TxSocket,
    opts: &ReplayOptions,
    stop: &dyn Fn() -> bool,
) -> Result<SendTotals> {
    opts.pace.validate().map_err(Error::Config)?;
    let name = path.display().to_string();
    if path.as_os_str() == "-" && opts.loops != 1 {
        return Err(Error::Config(
            "stdin can be replayed only once: give a file to loop over".into(),
        ));
    }
    let batch_max = opts.batch.clamp(1, 4096);
    let mut pacer = Pacer::new(opts.pace);
    let mut totals = SendTotals::default();
    let mut batch = Batch::new();
    // Recorded time of the first frame of the current pass, and where the
    // pass starts on the replay's own clock.
    let mut pass_base = Duration::ZERO;
    let mut read = 0u64;
    let mut stopped = false;
    let mut pass = 0u64;
    while (opts.loops == 0 || pass < opts.loops) && !stopped {
        let mut reader =
            Reader::open(path).map_err(|e| Error::file(format!("opening {name}"), e))?;
        let mut first_ts: Option<u64> = None;
        let mut last_offset = Duration::ZERO;
        let mut in_pass = 0u64;
        loop {
            let frame = match reader.next_frame() {
                None => break,
                Some(Ok(f)) => f,
                Some(Err(e)) => {
                    return Err(Error::file(
                        format!("reading {name} after {read} frames"),
                        e,
                    ));
                }
            };
            if frame.linktype != tx.linktype() {
                return Err(Error::Config(format!(
                    "{name}: frame {} has link type {}, but {} sends {} frames",
                    in_pass + 1,
                    frame.linktype,
                    tx.interface(),
                    tx.linktype()
                )));
            }
            read += 1;
            in_pass += 1;
            if frame.is_truncated() {
                totals.truncated += 1;
            }
            let first = *first_ts.get_or_insert(frame.ts_ns);
            // Time never runs backwards within a replay.
            let offset = Duration::from_nanos(frame.ts_ns.saturating_sub(first)).max(last_offset);
            last_offset = offset;
            let due = pacer.schedule(frame.data.len(), pass_base + offset);
            if !pacer.is_due(due) {
                batch.send(tx, &mut totals)?;
                if !pacer.wait_until(due, stop) {
                    stopped = true;
                    break;
                }
            }
            batch.push(frame.data);
            if batch.len() >= batch_max {
                batch.send(tx, &mut totals)?;
                if stop() {
                    stopped = true;
                    break;
                }
            }
        }
        if in_pass == 0 {
            break;
        }
        if !stopped {
            pass += 1;
        }
        // The next pass follows the last frame of this one by the mean gap.
        let gap = if in_pass > 1 {
            last_offset / (in_pass - 1).min(u64::from(u32::MAX)) as u32
        } else {
            Duration::ZERO
        };
        pass_base += last_offset + gap;
    }
    batch.send(tx, &mut totals)?;
    totals.add(&tx.flush()?);
    totals.loops = pass;
    totals.elapsed = pacer.elapsed();
    Ok(totals)
}

/// How to generate traffic.
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct GenerateOptions {
    /// Frames to send; `None` until `duration` or stopped.
    pub count: Option<u64>,
    /// Longest run.
    pub duration: Option<Duration>,
    /// How fast (`Top` or `Pps`; the others are treated by frame length).
    pub pace: Pace,
    /// Frames per send call.
    pub batch: usize,
}

impl GenerateOptions {
    /// `count` frames as fast as possible, batches of 256.
    pub fn new(count: Option<u64>) -> GenerateOptions {
        GenerateOptions {
            count,
            duration: None,
            pace: Pace::Top,
            batch: 256,
        }
    }
}

/// Sends frames built from `frames` (sequence numbers 0, 1, 2, …) on `tx`
/// until the count, the duration, or `stop`.
pub fn generate(
    frames: &UdpFrames,
    tx: &mut TxSocket,
    opts: &GenerateOptions,
    stop: &dyn Fn() -> bool,
) -> Result<SendTotals> {
    opts.pace.validate().map_err(Error::Config)?;
    if opts.count.is_none() && opts.duration.is_none() {
        return Err(Error::Config(
            "a generator needs a frame count or a duration".into(),
        ));
    }
    let batch_max = opts.batch.clamp(1, 4096) as u64;
    let limit = opts.count.unwrap_or(u64::MAX);
    let mut pacer = Pacer::new(opts.pace);
    let mut totals = SendTotals::default();
    let mut buf = Vec::new();
    let n = frames.len();
    let mut seq = 0u64;
    while seq < limit {
        if stop() || opts.duration.is_some_and(|d| pacer.elapsed() >= d) {
            break;
        }
        let room = batch_max.min(limit - seq);
        let k = if pacer.pace() == Pace::Top {
            room
        } else {
            let due = pacer.next_due(Duration::ZERO);
            if !pacer.is_due(due) && !pacer.wait_until(due, stop) {
                break;
            }
            // Everything due by now, at least the frame just waited for.
            let mut k = 0u64;
            while k < room && (k == 0 || pacer.is_due(pacer.next_due(Duration::ZERO))) {
                pacer.schedule(n, Duration::ZERO);
                k += 1;
            }
            k
        };
        frames.fill(seq, k as usize, &mut buf);
        let list: Vec<&[u8]> = buf.chunks_exact(n).collect();
        totals.add(&tx.send(&list)?);
        seq += k;
    }
    totals.add(&tx.flush()?);
    totals.elapsed = pacer.elapsed();
    Ok(totals)
}
