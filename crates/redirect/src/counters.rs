//! Counters for everything a redirector does, readable while it runs.

use std::sync::atomic::{AtomicU64, Ordering};

/// Frames and bytes through one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideCounters {
    /// Frames read from this side.
    pub frames_in: u64,
    /// Bytes read from this side.
    pub bytes_in: u64,
    /// Frames written to this side (passed from the other side, or
    /// injected).
    pub frames_out: u64,
    /// Bytes written to this side.
    pub bytes_out: u64,
}

/// Everything a redirector counts. A snapshot; see [`SharedCounters`] for
/// the live values.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// The upper (host) side.
    pub upper: SideCounters,
    /// The lower (network) side.
    pub lower: SideCounters,
    /// Frames the handler saw.
    pub handled: u64,
    /// Frames passed on (by the handler or the fast path).
    pub passed: u64,
    /// Frames that took the fast path (not selected by the filter).
    pub bypassed: u64,
    /// Frames the handler dropped.
    pub dropped_handler: u64,
    /// Frames dropped because a bounded queue was full.
    pub dropped_queue: u64,
    /// Frames the kernel dropped before we could read them (ring or queue
    /// overflow, as the kernel reports it).
    pub dropped_kernel: u64,
    /// Frames injected by the handler.
    pub injected: u64,
    /// Frames larger than the receiving side's MTU (carried with their
    /// offload metadata, segmented, or refused — never silently lost).
    pub oversize: u64,
    /// Frames the kernel refused to send.
    pub send_failures: u64,
    /// Frames whose bytes were malformed (runts, bad lengths), forwarded as
    /// they were unless the handler decided otherwise.
    pub malformed: u64,
}

// The atomics are laid out flat; `snapshot` and `add` map them to and from
// `Counters`.
#[derive(Debug, Default)]
struct SideAtomics {
    frames_in: AtomicU64,
    bytes_in: AtomicU64,
    frames_out: AtomicU64,
    bytes_out: AtomicU64,
}

/// The live counters of a running redirector: updated by its loop with
/// relaxed atomic adds (one batch at a time), read by anyone at any time.
#[derive(Debug, Default)]
pub struct SharedCounters {
    upper: SideAtomics,
    lower: SideAtomics,
    handled: AtomicU64,
    passed: AtomicU64,
    bypassed: AtomicU64,
    dropped_handler: AtomicU64,
    dropped_queue: AtomicU64,
    dropped_kernel: AtomicU64,
    injected: AtomicU64,
    oversize: AtomicU64,
    send_failures: AtomicU64,
    malformed: AtomicU64,
}

impl SideAtomics {
    fn add(&self, d: &SideCounters) {
        self.frames_in.fetch_add(d.frames_in, Ordering::Relaxed);
        self.bytes_in.fetch_add(d.bytes_in, Ordering::Relaxed);
        self.frames_out.fetch_add(d.frames_out, Ordering::Relaxed);
        self.bytes_out.fetch_add(d.bytes_out, Ordering::Relaxed);
    }

    fn get(&self) -> SideCounters {
        SideCounters {
            frames_in: self.frames_in.load(Ordering::Relaxed),
            bytes_in: self.bytes_in.load(Ordering::Relaxed),
            frames_out: self.frames_out.load(Ordering::Relaxed),
            bytes_out: self.bytes_out.load(Ordering::Relaxed),
        }
    }
}

impl SharedCounters {
    /// Adds a batch's worth of counts.
    pub fn add(&self, d: &Counters) {
        self.upper.add(&d.upper);
        self.lower.add(&d.lower);
        let pairs = [
            (&self.handled, d.handled),
            (&self.passed, d.passed),
            (&self.bypassed, d.bypassed),
            (&self.dropped_handler, d.dropped_handler),
            (&self.dropped_queue, d.dropped_queue),
            (&self.dropped_kernel, d.dropped_kernel),
            (&self.injected, d.injected),
            (&self.oversize, d.oversize),
            (&self.send_failures, d.send_failures),
            (&self.malformed, d.malformed),
        ];
        for (a, v) in pairs {
            if v != 0 {
                a.fetch_add(v, Ordering::Relaxed);
            }
        }
    }

    /// The current values.
    pub fn snapshot(&self) -> Counters {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Counters {
            upper: self.upper.get(),
            lower: self.lower.get(),
            handled: get(&self.handled),
            passed: get(&self.passed),
            bypassed: get(&self.bypassed),
            dropped_handler: get(&self.dropped_handler),
            dropped_queue: get(&self.dropped_queue),
            dropped_kernel: get(&self.dropped_kernel),
            injected: get(&self.injected),
            oversize: get(&self.oversize),
            send_failures: get(&self.send_failures),
            malformed: get(&self.malformed),
        }
    }
}

impl Counters {
    /// The counters of one side.
    pub fn side(&self, side: crate::Side) -> &SideCounters {
        match side {
            crate::Side::Upper => &self.upper,
            crate::Side::Lower => &self.lower,
        }
    }

    /// The counters of one side, to update.
    pub fn side_mut(&mut self, side: crate::Side) -> &mut SideCounters {
        match side {
            crate::Side::Upper => &mut self.upper,
            crate::Side::Lower => &mut self.lower,
        }
    }

    /// Every frame lost, whoever lost it.
    pub fn dropped(&self) -> u64 {
        self.dropped_handler + self.dropped_queue + self.dropped_kernel + self.send_failures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_and_snapshot() {
        let shared = SharedCounters::default();
        let mut d = Counters::default();
        d.side_mut(crate::Side::Upper).frames_in = 3;
        d.lower.bytes_out = 100;
        d.dropped_queue = 2;
        d.send_failures = 1;
        shared.add(&d);
        shared.add(&d);
        let s = shared.snapshot();
        assert_eq!(s.upper.frames_in, 6);
        assert_eq!(s.lower.bytes_out, 200);
        assert_eq!(s.dropped(), 6);
    }
}
