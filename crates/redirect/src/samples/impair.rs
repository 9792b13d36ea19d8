//! A WAN emulator in user space (`sluice impair`): delay, jitter, loss,
//! duplication, reordering, corruption and a rate limit, per direction.
//!
//! Frames it impairs (those the redirect filter selects, in the chosen
//! directions) are decided one by one, in this order:
//!
//! 1. **loss**: dropped with probability `loss`;
//! 2. **corrupt**: one random bit after the link-layer header flipped, with
//!    probability `corrupt` (anywhere in a bare IP packet in host mode);
//! 3. **dup**: a second copy follows, with probability `dup`;
//! 4. **reorder**: with probability `reorder` the frame skips the delay and
//!    goes at once, overtaking those held (as netem's `reorder`);
//! 5. **delay ± jitter**: held until `now + delay + U(-jitter, +jitter)`,
//!    but never released before a frame that arrived earlier in the same
//!    direction (jitter does not reorder; use `reorder` for that);
//! 6. **rate**: then sent no faster than `rate` bits per second: each
//!    frame occupies the link for its length × 8 / rate.
//!
//! Held frames wait in a bounded queue per direction (over the bound the
//! newest frame is dropped and counted). Release times are timers of the
//! engine (a `timerfd`: precise to tens of microseconds, reported in the
//! engine's timer statistics). When the engine stops, every held frame is
//! sent at once. Randomness comes from a seeded generator, so a run can be
//! repeated exactly.

use std::collections::VecDeque;
use std::time::Duration;

use sluice_wire::LinkType;

use crate::frame::{FrameMut, Offload, Side};
use crate::handler::{Context, Handler, Verdict};

/// Which directions to impair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Upstream: frames the host sends (read from upper, going to lower).
    Up,
    /// Downstream: frames arriving from the network (lower to upper).
    Down,
    /// Both.
    Both,
}

impl Direction {
    fn covers(self, from: Side) -> bool {
        matches!(
            (self, from),
            (Direction::Both, _) | (Direction::Up, Side::Upper) | (Direction::Down, Side::Lower)
        )
    }
}

/// What to do to the frames.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ImpairConfig {
    /// Fixed delay.
    pub delay: Duration,
    /// Uniform jitter around the delay (±).
    pub jitter: Duration,
    /// Probability of loss (0 to 1).
    pub loss: f64,
    /// Probability of a duplicate.
    pub dup: f64,
    /// Probability of going at once, overtaking held frames.
    pub reorder: f64,
    /// Probability of one flipped bit.
    pub corrupt: f64,
    /// Rate limit in bits per second.
    pub rate_bps: Option<u64>,
    /// Directions impaired.
    pub direction: Direction,
    /// Seed of the random generator.
    pub seed: u64,
    /// Most frames held per direction.
    pub queue_limit: usize,
}

impl Default for ImpairConfig {
    fn default() -> Self {
        ImpairConfig {
            delay: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            dup: 0.0,
            reorder: 0.0,
            corrupt: 0.0,
            rate_bps: None,
            direction: Direction::Both,
            seed: 0x5eed,
            queue_limit: 100_000,
        }
    }
}

impl ImpairConfig {
    /// Checks the probabilities and sizes; `Err` says what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("loss", self.loss),
            ("dup", self.dup),
            ("reorder", self.reorder),
            ("corrupt", self.corrupt),
        ] {
            if !(0.0..=1.0).contains(&p) || p.is_nan() {
                return Err(format!("{name} {p} is not a probability between 0 and 1"));
            }
        }
        if self.rate_bps == Some(0) {
            return Err("a rate of 0 would hold every frame forever".into());
        }
        if self.queue_limit == 0 {
            return Err("the queue must hold at least one frame".into());
        }
        Ok(())
    }

    fn holds(&self) -> bool {
        !self.delay.is_zero() || !self.jitter.is_zero() || self.rate_bps.is_some()
    }
}

/// What the emulator did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ImpairStats {
    /// Frames it decided on.
    pub seen: u64,
    /// Frames lost on purpose.
    pub lost: u64,
    /// Frames with a bit flipped.
    pub corrupted: u64,
    /// Duplicates made.
    pub duplicated: u64,
    /// Frames sent at once, overtaking.
    pub reordered: u64,
    /// Frames held (delay, jitter, rate).
    pub delayed: u64,
    /// Frames dropped because the direction's queue was full.
    pub queue_full: u64,
    /// Frames released when the engine stopped.
    pub flushed_at_stop: u64,
    /// Largest number of frames held at once.
    pub max_held: u64,
}

/// A small, fast, seeded generator (xoshiro256**, seeded by SplitMix64):
/// impairment needs repeatable randomness, not cryptography.
#[derive(Clone, Debug)]
struct Rng([u64; 4]);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        Rng([next(), next(), next(), next()])
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let r = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        r
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }
}

#[derive(Debug)]
struct Held {
    release_ns: u64,
    bytes: Vec<u8>,
    offload: Offload,
}

#[derive(Debug, Default)]
struct Lane {
    queue: VecDeque<Held>,
    last_release_ns: u64,
    link_free_ns: u64,
}

/// The WAN emulator (see the module documentation).
#[derive(Debug)]
pub struct Impair {
    config: ImpairConfig,
    rng: Rng,
    lanes: [Lane; 2],
    /// What it did so far.
    pub stats: ImpairStats,
}

fn lane(from: Side) -> usize {
    match from {
        Side::Upper => 0,
        Side::Lower => 1,
    }
}

impl Impair {
    /// An emulator as `config` says (see [`ImpairConfig::validate`]).
    pub fn new(config: ImpairConfig) -> Result<Impair, String> {
        config.validate()?;
        Ok(Impair {
            rng: Rng::new(config.seed),
            config,
            lanes: [Lane::default(), Lane::default()],
            stats: ImpairStats::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &ImpairConfig {
        &self.config
    }

    /// Frames held now.
    pub fn held(&self) -> usize {
        self.lanes.iter().map(|l| l.queue.len()).sum()
    }

    fn jitter_ns(&mut self) -> i64 {
        let j = self.config.jitter.as_nanos().min(i64::MAX as u128 / 4) as i64;
        if j == 0 {
            return 0;
        }
        ((self.rng.unit() * 2.0 - 1.0) * j as f64) as i64
    }

    /// Holds a copy of a frame from `from` until its release time; false
    /// when the lane is full.
    fn hold(
        &mut self,
        from: Side,
        now: u64,
        bytes: Vec<u8>,
        offload: Offload,
        ctx: &mut Context<'_>,
    ) -> bool {
        let delay = self.config.delay.as_nanos().min(u64::MAX as u128) as u64;
        let jitter = self.jitter_ns();
        let rate = self.config.rate_bps;
        let limit = self.config.queue_limit;
        let l = &mut self.lanes[lane(from)];
        if l.queue.len() >= limit {
            self.stats.queue_full += 1;
            return false;
        }
        let mut release = now
            .saturating_add(delay)
            .saturating_add_signed(jitter)
            .max(now);
        // Jitter never reorders a direction.
        release = release.max(l.last_release_ns);
        if let Some(bps) = rate {
            let busy = (bytes.len() as u128 * 8 * 1_000_000_000 / u128::from(bps)) as u64;
            let start = release.max(l.link_free_ns);
            l.link_free_ns = start.saturating_add(busy);
            release = l.link_free_ns;
        }
        l.last_release_ns = release;
        l.queue.push_back(Held {
            release_ns: release,
            bytes,
            offload,
        });
        self.stats.delayed += 1;
        let held = self.held() as u64;
        self.stats.max_held = self.stats.max_held.max(held);
        ctx.at(release, lane(from) as u64);
        true
    }

    fn release_due(&mut self, which: usize, ctx: &mut Context<'_>, all: bool) {
        let now = ctx.now();
        let to = if which == 0 { Side::Lower } else { Side::Upper };
        while let Some(h) = self.lanes[which].queue.front() {
            if !all && h.release_ns > now {
                break;
            }
            let Some(h) = self.lanes[which].queue.pop_front() else {
                break;
            };
            if all {
                self.stats.flushed_at_stop += 1;
            }
            ctx.inject_with(to, h.bytes, h.offload);
        }
    }
}

/// Bytes of link-layer header before the packet: corruption leaves them
/// alone (14 for Ethernet in wire mode, none for bare IP in host mode).
fn link_header_len(linktype: LinkType) -> usize {
    if linktype == LinkType::ETHERNET {
        14
    } else {
        0
    }
}

impl Handler for Impair {
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict {
        let from = frame.side();
        if !self.config.direction.covers(from) {
            return Verdict::Pass;
        }
        self.stats.seen += 1;
        if self.rng.chance(self.config.loss) {
            self.stats.lost += 1;
            return Verdict::Drop;
        }
        let link = link_header_len(frame.meta().linktype);
        if self.rng.chance(self.config.corrupt) && frame.len() > link {
            let bits = (frame.len() - link) as u64 * 8;
            let bit = link as u64 * 8 + self.rng.next_u64() % bits;
            frame.data_mut()[(bit / 8) as usize] ^= 1 << (bit % 8);
            self.stats.corrupted += 1;
        }
        let dup = self.rng.chance(self.config.dup);
        if dup {
            self.stats.duplicated += 1;
        }
        let reorder = self.rng.chance(self.config.reorder);
        let offload = frame.meta().offload;
        if !self.config.holds() || reorder {
            if reorder && self.config.holds() {
                self.stats.reordered += 1;
            }
            if dup {
                ctx.inject_with(from.other(), frame.data().to_vec(), offload);
                // The copy follows the original (injections go out after
                // the batch the original passes with).
            }
            return Verdict::Pass;
        }
        let now = ctx.now();
        let copies = if dup { 2 } else { 1 };
        for _ in 0..copies {
            let bytes = frame.data().to_vec();
            if !self.hold(from, now, bytes, offload, ctx) {
                return Verdict::Drop;
            }
        }
        Verdict::Stolen
    }

    fn on_timer(&mut self, token: u64, ctx: &mut Context<'_>) {
        if let Ok(which) = usize::try_from(token)
            && which < 2
        {
            self.release_due(which, ctx, false);
        }
    }

    fn on_stop(&mut self, ctx: &mut Context<'_>) {
        self.release_due(0, ctx, true);
        self.release_due(1, ctx, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::FrameMeta;
    use crate::handler::Injection;
    use crate::timer::TimerQueue;

    fn meta(side: Side) -> FrameMeta {
        FrameMeta {
            side,
            ts_ns: 0,
            wire_len: 100,
            linktype: LinkType::ETHERNET,
            ifindex: 0,
            vlan: None,
            offload: Offload::default(),
            mark: 0,
        }
    }

    /// Runs `n` frames of `len` bytes from `side` through `h` at the given
    /// arrival times; returns the verdicts, injections and timers.
    fn feed(
        h: &mut Impair,
        side: Side,
        arrivals: &[u64],
        len: usize,
        timers: &mut TimerQueue,
    ) -> (Vec<Verdict>, Vec<Injection>) {
        let mut inj = Vec::new();
        let mut v = Vec::new();
        for (k, &t) in arrivals.iter().enumerate() {
            let mut buf = vec![k as u8; len];
            let mut f = FrameMut::new(&mut buf, len, meta(side));
            v.push(h.on_frame(&mut f, &mut Context::new(t, false, &mut inj, timers)));
        }
        (v, inj)
    }

    #[test]
    fn loss_rate_is_close_to_the_probability() {
        let mut h = Impair::new(ImpairConfig {
            loss: 0.1,
            ..ImpairConfig::default()
        })
        .unwrap();
        let mut t = TimerQueue::default();
        let (v, _) = feed(&mut h, Side::Upper, &vec![0; 20_000], 60, &mut t);
        let lost = v.iter().filter(|&&x| x == Verdict::Drop).count();
        assert!((1800..2200).contains(&lost), "{lost}");
        assert_eq!(h.stats.lost as usize, lost);
    }

    #[test]
    fn delay_holds_and_releases_in_order() {
        let mut h = Impair::new(ImpairConfig {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(20),
            direction: Direction::Up,
            ..ImpairConfig::default()
        })
        .unwrap();
        let mut t = TimerQueue::default();
        let arrivals: Vec<u64> = (0..100).map(|k| k * 1_000_000).collect();
        let (v, inj) = feed(&mut h, Side::Upper, &arrivals, 60, &mut t);
        assert!(v.iter().all(|&x| x == Verdict::Stolen));
        assert!(inj.is_empty());
        assert_eq!(h.held(), 100);
        // Fire the timers in deadline order, as the engine does.
        let mut out = Vec::new();
        let mut last = 0;
        while let Some(d) = t.next_deadline() {
            assert!(d >= last, "deadlines go forward");
            last = d;
            let tok = t.pop_due(d).unwrap();
            let mut ctx = Context::new(d, false, &mut out, &mut t);
            h.on_timer(tok, &mut ctx);
        }
        assert_eq!(out.len(), 100);
        let order: Vec<u8> = out.iter().map(|i| i.bytes[0]).collect();
        assert_eq!(order, (0..100).collect::<Vec<u8>>());
        assert!(out.iter().all(|i| i.towards == Side::Lower));
        // Downstream frames are not touched.
        let (v, _) = feed(&mut h, Side::Lower, &[0], 60, &mut t);
        assert_eq!(v, vec![Verdict::Pass]);
    }

    #[test]
    fn rate_spaces_frames_by_their_length() {
        let mut h = Impair::new(ImpairConfig {
            rate_bps: Some(1_000_000),
            ..ImpairConfig::default()
        })
        .unwrap();
        let mut t = TimerQueue::default();
        feed(&mut h, Side::Lower, &[0, 0, 0], 125, &mut t);
        // 125 bytes at 1 Mbit/s: 1 ms each.
        let times: Vec<u64> = h.lanes[1].queue.iter().map(|x| x.release_ns).collect();
        assert_eq!(times, vec![1_000_000, 2_000_000, 3_000_000]);
    }

    #[test]
    fn dup_corrupt_and_stop_flush() {
        let mut h = Impair::new(ImpairConfig {
            dup: 1.0,
            corrupt: 1.0,
            delay: Duration::from_secs(10),
            ..ImpairConfig::default()
        })
        .unwrap();
        let mut t = TimerQueue::default();
        feed(&mut h, Side::Upper, &[0], 100, &mut t);
        assert_eq!(h.held(), 2);
        assert_eq!(h.stats.corrupted, 1);
        let a = &h.lanes[0].queue[0].bytes;
        assert_eq!(a.iter().filter(|&&b| b != 0).count(), 1, "one bit flipped");
        let mut out = Vec::new();
        h.on_stop(&mut Context::new(1, false, &mut out, &mut t));
        assert_eq!(out.len(), 2);
        assert_eq!(h.stats.flushed_at_stop, 2);
    }

    #[test]
    fn host_mode_frames_have_no_link_header_to_spare() {
        let mut h = Impair::new(ImpairConfig {
            corrupt: 1.0,
            ..ImpairConfig::default()
        })
        .unwrap();
        let mut inj = Vec::new();
        let mut t = TimerQueue::default();
        let mut hit = [0usize; 14];
        for _ in 0..2000 {
            let mut buf = [0u8; 20];
            let mut m = meta(Side::Upper);
            m.linktype = LinkType::RAW;
            let mut f = FrameMut::new(&mut buf, 20, m);
            let v = h.on_frame(&mut f, &mut Context::new(0, false, &mut inj, &mut t));
            assert_eq!(v, Verdict::Pass);
            assert_eq!(f.data().iter().filter(|&&b| b != 0).count(), 1);
            if let Some(i) = f.data()[..14].iter().position(|&b| b != 0) {
                hit[i] += 1;
            }
        }
        // Bits of the IP header (the first 14 bytes) are fair game on
        // bare IP: each byte was hit.
        assert!(hit.iter().all(|&n| n > 0), "{hit:?}");
        // A frame of nothing but a link header is not corrupted.
        let mut buf = [0u8; 14];
        let mut f = FrameMut::new(&mut buf, 14, meta(Side::Upper));
        h.on_frame(&mut f, &mut Context::new(0, false, &mut inj, &mut t));
        assert!(f.data().iter().all(|&b| b == 0));
        assert_eq!(h.stats.corrupted, 2000);
    }

    #[test]
    fn bad_settings_are_refused() {
        for c in [
            ImpairConfig {
                loss: 1.5,
                ..ImpairConfig::default()
            },
            ImpairConfig {
                rate_bps: Some(0),
                ..ImpairConfig::default()
            },
            ImpairConfig {
                dup: f64::NAN,
                ..ImpairConfig::default()
            },
        ] {
            assert!(Impair::new(c).is_err());
        }
    }
}
