//! The high-level wire mode engine: a [`Handler`] run over a [`Bridge`].
//!
//! One event loop owns both directions ([`super::PerDirection`] splits the
//! bridge in two halves with a handler each, on one thread or two). Each turn it takes a batch from
//! each side in turn, runs the redirect filter on every frame (frames it
//! does not select take the fast path: no handler call), calls the handler
//! on the rest, sends what passed to the other side in one batch per
//! direction, then carries out the handler's injections and due timers.
//! Frames of one direction leave in the order they arrived, always.
//!
//! # Where frames are handled
//!
//! With TPACKET_V2 rings (the default) a frame is handled where the kernel
//! wrote it, in its ring slot, and sent from there
//! ([`Bridge::forward_turn`]): no copy in user space. Only frames larger
//! than a slot (GSO) are read into the receive buffer, straight from the
//! socket. Monitor mode and TPACKET_V3 rings copy each batch into the
//! buffer first ([`Bridge::try_recv`]).
//!
//! # Waking up
//!
//! The loop sleeps in `poll` when both rings are empty. On a busy machine
//! the cost of a frame is mostly the wait for the CPU after that wake-up,
//! so the loop asks the fair scheduler for short time slices
//! ([`WireConfig::slice`]): on Linux 6.12 and later it then preempts a
//! task with the default slice as soon as a frame wakes it, without the
//! real-time class ([`WireConfig::realtime`]) and without spinning.
//!
//! # Queues and what is dropped
//!
//! - The receive rings are bounded; when one is full the kernel drops the
//!   newest frames. Read from the kernel once a second and at the end:
//!   [`Counters::dropped_kernel`].
//! - A transient refusal to send (`ENOBUFS`, `EAGAIN`) is retried a
//!   bounded number of times; then the frame counts as a send failure
//!   ([`Counters::send_failures`]). Frames the kernel refuses outright
//!   (too long without GSO state) are send failures too, and oversize.
//! - Injections are queued per batch, at most
//!   [`WireConfig::max_injections`]; beyond that a handler's injections
//!   are dropped, newest first ([`Counters::dropped_queue`]).
//! - Timers: at most [`WireConfig::max_timers`] pending; beyond that
//!   [`Context::after`] returns false ([`TimerStats::refused`]).
//! - The `--write` tap drops whole batches when its writer falls behind
//!   ([`TapSummary::dropped`]).
//!
//! Malformed frames (runts, bad lengths) are forwarded as they are unless
//! the handler decides otherwise, and counted ([`Counters::malformed`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_bpf::Program;
use sluice_linux::Interrupt;
use sluice_linux::bridge_io::{self, PollSet, Timer};
use sluice_wire::LinkType;

use super::bridge::{Bridge, BridgeConfig, OutFrame, RecvBuf, StartReport};
use super::error::{Error, ErrorKind, Result};
use super::tap::{Tap, TapConfig, TapFrame, TapSummary};
use crate::counters::{Counters, SharedCounters};
use crate::frame::Side;
use crate::handler::{Context, Handler, Injection, Verdict};
use crate::timer::TimerQueue;

/// Everything [`WireRedirector::open`] needs.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct WireConfig {
    /// The two interfaces and how to read and write them.
    pub bridge: BridgeConfig,
    /// The redirect filter (pcap-filter syntax): only frames it matches
    /// reach the handler; `None` sends every frame to the handler.
    pub filter: Option<String>,
    /// Monitor mode: the handler sees copies after the frames have gone
    /// on; its verdicts and changes have no effect, injection is refused.
    pub monitor: bool,
    /// Save what passes to pcapng.
    pub tap: Option<TapConfig>,
    /// Most injections queued per batch.
    pub max_injections: usize,
    /// Most timers pending.
    pub max_timers: usize,
    /// Bytes of the receive buffer: frames larger than a ring slot (GSO),
    /// and every frame in monitor mode or with TPACKET_V3 rings. Small
    /// enough to stay in the CPU's cache between the copy in and the send.
    pub buffer: usize,
    /// Bytes a handler may grow each frame by.
    pub tailroom: usize,
    /// How long before a timer's deadline the loop wakes, to finish the
    /// wait on the CPU: wake-ups are late by tens of microseconds or more
    /// on a busy machine, spinning the last stretch is not.
    pub timer_lead: Duration,
    /// Run the loop in the real-time `SCHED_FIFO` class at this priority
    /// (needs CAP_SYS_NICE): on a loaded machine, wake-ups (frames,
    /// timers) are then served at once. `None` keeps the thread's class.
    pub realtime: Option<i32>,
    /// Outside the real-time class: the time slice to ask the fair
    /// scheduler for ([`bridge_io::set_fair_slice`]). A short slice lets
    /// the loop in as soon as frames wake it instead of at the end of
    /// another task's slice (Linux 6.12 and later; ignored before).
    /// `None` leaves the thread's slice alone.
    pub slice: Option<Duration>,
}

impl WireConfig {
    /// A pass-through configuration for `upper` and `lower` with the
    /// measured defaults.
    pub fn new(upper: impl Into<String>, lower: impl Into<String>) -> WireConfig {
        WireConfig {
            bridge: BridgeConfig::new(upper, lower),
            filter: None,
            monitor: false,
            tap: None,
            max_injections: 4096,
            max_timers: 1 << 20,
            buffer: 1 << 20,
            tailroom: 256,
            timer_lead: Duration::from_micros(100),
            realtime: None,
            slice: Some(Duration::from_micros(100)),
        }
    }
}

/// Upper bounds (µs) of the timer lateness histogram buckets; the last
/// bucket holds everything later.
pub const LATENESS_BUCKETS_US: [u64; 9] = [10, 25, 50, 100, 250, 500, 1000, 2000, 5000];

/// How precisely timers fired: lateness is the time between a timer's
/// deadline and the moment the engine called [`Handler::on_timer`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TimerStats {
    /// Timers fired.
    pub fired: u64,
    /// Timers refused because the queue was full.
    pub refused: u64,
    /// Timers still pending when the engine stopped (after
    /// [`Handler::on_stop`]).
    pub discarded: u64,
    /// Sum of lateness, ns.
    pub late_sum_ns: u64,
    /// Largest lateness, ns.
    pub late_max_ns: u64,
    /// Counts per bucket of [`LATENESS_BUCKETS_US`] (plus one for later).
    pub histogram: [u64; 10],
}

impl TimerStats {
    fn record(&mut self, late_ns: u64) {
        self.fired += 1;
        self.late_sum_ns += late_ns;
        self.late_max_ns = self.late_max_ns.max(late_ns);
        let us = late_ns / 1000;
        let b = LATENESS_BUCKETS_US
            .iter()
            .position(|&edge| us < edge)
            .unwrap_or(LATENESS_BUCKETS_US.len());
        self.histogram[b] += 1;
    }

    /// Adds the timers of another loop.
    pub fn merge(&mut self, other: &TimerStats) {
        self.fired += other.fired;
        self.refused += other.refused;
        self.discarded += other.discarded;
        self.late_sum_ns += other.late_sum_ns;
        self.late_max_ns = self.late_max_ns.max(other.late_max_ns);
        for (a, b) in self.histogram.iter_mut().zip(other.histogram) {
            *a += b;
        }
    }

    /// Mean lateness.
    pub fn mean(&self) -> Duration {
        Duration::from_nanos(self.late_sum_ns.checked_div(self.fired).unwrap_or(0))
    }

    /// An upper bound of the `p`-th percentile of lateness (the bucket's
    /// edge; `None` when no timer fired or it lies in the last bucket).
    pub fn percentile_bound(&self, p: f64) -> Option<Duration> {
        if self.fired == 0 {
            return None;
        }
        let want = ((self.fired as f64) * p / 100.0).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &n) in self.histogram.iter().enumerate() {
            seen += n;
            if seen >= want {
                return LATENESS_BUCKETS_US
                    .get(i)
                    .map(|&us| Duration::from_micros(us));
            }
        }
        None
    }
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Every counter, at the end.
    pub counters: Counters,
    /// Timer precision.
    pub timers: TimerStats,
    /// The tap, if there was one.
    pub tap: Option<TapSummary>,
    /// How long the run lasted.
    pub elapsed: Duration,
}

/// A handler in the path between two interfaces (see the module
/// documentation).
#[derive(Debug)]
pub struct WireRedirector {
    bridge: Bridge,
    filter: Option<Program>,
    monitor: bool,
    tap: Option<Tap>,
    max_injections: usize,
    max_timers: usize,
    buffer: usize,
    tailroom: usize,
    timer_lead: Duration,
    realtime: Option<i32>,
    slice: Option<Duration>,
    counters: Arc<SharedCounters>,
}

/// Compiles a redirect filter for Ethernet frames as the engine sees them
/// (VLAN tags inline).
pub fn compile_filter(expr: &str) -> Result<Program> {
    let opts = sluice_filter::Options {
        linktype: LinkType::ETHERNET,
        snaplen: 262_144,
        optimize: true,
        target: sluice_filter::Target::Offline,
        netmask: None,
    };
    sluice_filter::compile(expr, &opts).map_err(|e| {
        Error::new(
            ErrorKind::Filter,
            format!("redirect filter: {}", e.render(expr)),
        )
    })
}

impl WireRedirector {
    /// Opens both interfaces, compiles the filter and starts the tap.
    pub fn open(config: WireConfig) -> Result<WireRedirector> {
        let filter = match config.filter.as_deref() {
            Some(expr) if !expr.trim().is_empty() => Some(compile_filter(expr)?),
            _ => None,
        };
        let bridge = Bridge::open(&config.bridge)?;
        let tap = match &config.tap {
            Some(t) => Some(Tap::start(
                t,
                bridge.interface(Side::Upper),
                bridge.interface(Side::Lower),
            )?),
            None => None,
        };
        let counters = bridge.counters();
        Ok(WireRedirector {
            bridge,
            filter,
            monitor: config.monitor,
            tap,
            max_injections: config.max_injections.max(1),
            max_timers: config.max_timers,
            buffer: config.buffer,
            tailroom: config.tailroom,
            timer_lead: config.timer_lead,
            realtime: config.realtime,
            slice: config.slice,
            counters,
        })
    }

    /// What was found at start (MTUs, offloads).
    pub fn report(&self) -> &StartReport {
        self.bridge.report()
    }

    /// The live counters, for a status line.
    pub fn counters(&self) -> Arc<SharedCounters> {
        Arc::clone(&self.counters)
    }

    /// Triggering this stops [`WireRedirector::run`] cleanly: intake stops,
    /// what the rings hold is handled, the handler's `on_stop` runs.
    pub fn stopper(&self) -> Arc<Interrupt> {
        self.bridge.interrupt()
    }

    /// Stops on `interrupt` instead (one that signal handlers trigger, for
    /// example). Call before [`WireRedirector::run`].
    pub fn set_stopper(&mut self, interrupt: Arc<Interrupt>) {
        self.bridge.set_interrupt(interrupt);
    }

    /// Adds to `counters` instead of counters of its own (the two loops of
    /// a [`super::PerDirection`] share theirs). Call before
    /// [`WireRedirector::run`].
    pub fn set_counters(&mut self, counters: Arc<SharedCounters>) {
        self.bridge.set_counters(Arc::clone(&counters));
        self.counters = counters;
    }

    /// Runs `handler` until stopped (see [`WireRedirector::stopper`]) or an
    /// interface fails.
    pub fn run<H: Handler + ?Sized>(&mut self, handler: &mut H) -> Result<Summary> {
        let started = Instant::now();
        self.prepare_thread()?;
        let lead = u64::try_from(self.timer_lead.as_nanos()).unwrap_or(u64::MAX);
        let mut timer = Timer::new()?;
        let waker = handler.waker();
        let mut poll = PollSet::new();
        for fd in self.bridge.poll_fds() {
            poll.add(fd);
        }
        let timer_at = {
            use std::os::fd::AsFd;
            poll.add(timer.as_fd())
        };
        let waker_at = waker.as_ref().map(|w| {
            use std::os::fd::AsFd;
            poll.add(w.as_fd())
        });
        let stop = self.bridge.interrupt();
        let mut st = self.begin();
        let mut last_look = Instant::now();
        let result: Result<()> = (|| {
            loop {
                let n = self.step(handler, &mut st)?;
                if self.bridge.is_closed() {
                    return Ok(());
                }
                let idle = n == 0;
                // Under load the loop never sleeps: look at the interrupt
                // and the handler's waker every millisecond.
                let look = idle || last_look.elapsed() >= Duration::from_millis(1);
                if !look {
                    continue;
                }
                last_look = Instant::now();
                let mut wait = Some(Duration::ZERO);
                if idle {
                    let spin = self.bridge.spin();
                    if !spin.is_zero() {
                        let until = Instant::now() + spin;
                        while Instant::now() < until && !self.bridge.ready() && !st.timer_due() {
                            std::hint::spin_loop();
                        }
                    }
                    if self.bridge.ready() || st.timer_due() {
                        continue;
                    }
                    match st.timers.next_deadline() {
                        Some(dl) => {
                            // Close to the deadline: finish on the CPU.
                            if dl <= bridge_io::realtime_ns().saturating_add(lead) {
                                while !st.timer_due() && !self.bridge.ready() {
                                    std::hint::spin_loop();
                                }
                                continue;
                            }
                            timer.set(dl - lead)?
                        }
                        None => timer.clear()?,
                    }
                    wait = Some(if self.bridge.is_shutting_down() {
                        Duration::from_millis(1)
                    } else {
                        Duration::from_secs(1)
                    });
                }
                poll.wait(wait)?;
                // Just looked: the frames that woke the loop (and what
                // their sending brings back) are handled before the next
                // look, with no system call in between.
                last_look = Instant::now();
                for s in 0..2 {
                    if poll.failed(s) && !self.bridge.ready() {
                        self.bridge.check_errors()?;
                    }
                }
                if poll.readable(2) {
                    stop.clear();
                    self.bridge.shutdown()?;
                }
                if poll.readable(timer_at) {
                    timer.take()?;
                }
                if let (Some(at), Some(w)) = (waker_at, waker.as_ref())
                    && poll.readable(at)
                {
                    w.clear();
                    let mut ctx = Context::new(
                        bridge_io::realtime_ns(),
                        self.monitor,
                        &mut st.inj,
                        &mut st.timers,
                    );
                    handler.on_wake(&mut ctx);
                    st.bound_injections(self.max_injections);
                }
            }
        })();
        self.end(handler, st, result, started)
    }

    /// Settings of the thread that runs a loop: timed waits on time, the
    /// real-time class or the short slice.
    pub(crate) fn prepare_thread(&self) -> Result<()> {
        // Timed waits fire on time (the default slack is 50 µs).
        let _ = bridge_io::set_timer_slack(Duration::from_nanos(1));
        if let Some(p) = self.realtime {
            bridge_io::set_realtime(p)?;
        } else if let Some(slice) = self.slice {
            // Best effort: a kernel without it keeps its default slice.
            let _ = bridge_io::set_fair_slice(slice);
        }
        Ok(())
    }

    /// The state of a loop, before its first turn.
    pub(crate) fn begin(&self) -> Loop {
        Loop {
            buf: RecvBuf::new(self.buffer, self.tailroom),
            timers: TimerQueue::with_limit(self.max_timers),
            inj: Vec::new(),
            d: Counters::default(),
            tstats: TimerStats::default(),
            out: [Vec::new(), Vec::new()],
            monitor_list: Vec::new(),
        }
    }

    /// One turn: what is ready on each side through the filter and the
    /// handler and on, then due timers and injections. Returns the frames
    /// taken.
    pub(crate) fn step<H: Handler + ?Sized>(
        &mut self,
        handler: &mut H,
        st: &mut Loop,
    ) -> Result<usize> {
        // Frames are handled where the kernel put them and sent from
        // there, unless the handler must see them after they went on.
        let n = if !self.monitor && self.bridge.can_forward_in_place() {
            self.turn_in_place(handler, st)?
        } else {
            let n = self.bridge.try_recv(&mut st.buf)?;
            if n > 0 {
                self.process(handler, st)?;
            }
            n
        };
        self.fire_timers(handler, st)?;
        self.flush(st)?;
        Ok(n)
    }

    /// The bridge, for the loops of a [`super::PerDirection`].
    pub(crate) fn bridge_mut(&mut self) -> &mut Bridge {
        &mut self.bridge
    }

    /// The end of a run, whatever ended it: the handler's last words, the
    /// last injections and counters, the summary.
    pub(crate) fn end<H: Handler + ?Sized>(
        &mut self,
        handler: &mut H,
        mut st: Loop,
        result: Result<()>,
        started: Instant,
    ) -> Result<Summary> {
        // Last words of the handler, whatever ended the loop.
        {
            let mut ctx = Context::new(
                bridge_io::realtime_ns(),
                self.monitor,
                &mut st.inj,
                &mut st.timers,
            );
            handler.on_stop(&mut ctx);
            st.bound_injections(self.max_injections);
        }
        let flushed = self.flush(&mut st);
        st.tstats.discarded = st.timers.len() as u64;
        st.tstats.refused = st.timers.refused();
        let _ = self.bridge.refresh_stats();
        let _ = self.bridge.try_recv(&mut RecvBuf::new(0, 0)).map(|_| ());
        let tap = self.tap.take().map(|t| t.finish());
        result?;
        flushed?;
        let tap = tap.transpose()?;
        Ok(Summary {
            counters: self.counters.snapshot(),
            timers: st.tstats,
            tap,
            elapsed: started.elapsed(),
        })
    }

    fn process<H: Handler + ?Sized>(&mut self, handler: &mut H, st: &mut Loop) -> Result<()> {
        let now = bridge_io::realtime_ns();
        st.out[0].clear();
        st.out[1].clear();
        st.monitor_list.clear();
        let with_dropped = self.tap.as_ref().is_some_and(|t| t.with_dropped);
        let mut tap_batch: Vec<TapFrame> = Vec::new();
        for i in 0..st.buf.len() {
            let (side, selected) = {
                let r = st.buf.get(i);
                let selected = match &self.filter {
                    None => true,
                    Some(p) => {
                        let meta = sluice_bpf::Meta {
                            ifindex: r.meta.ifindex,
                            hatype: 1,
                            ..sluice_bpf::Meta::default()
                        };
                        p.matches(r.data, r.meta.wire_len, &meta)
                    }
                };
                (r.meta.side, selected)
            };
            let dest = side.other();
            if !selected {
                st.d.bypassed += 1;
                st.d.passed += 1;
                st.out[slot(dest)].push(i);
                continue;
            }
            if self.monitor {
                st.d.passed += 1;
                st.out[slot(dest)].push(i);
                st.monitor_list.push(i);
                continue;
            }
            st.d.handled += 1;
            let verdict = {
                let Loop {
                    buf, inj, timers, ..
                } = &mut *st;
                buf.with_frame_mut(i, |f| {
                    let mut ctx = Context::new(now, false, inj, timers);
                    handler.on_frame(f, &mut ctx)
                })
            };
            st.bound_injections(self.max_injections);
            match verdict {
                Verdict::Pass => {
                    st.d.passed += 1;
                    st.out[slot(dest)].push(i);
                }
                Verdict::Drop => {
                    st.d.dropped_handler += 1;
                    if with_dropped {
                        let r = st.buf.get(i);
                        tap_batch.push(TapFrame {
                            side,
                            dropped: true,
                            ts_ns: r.meta.ts_ns,
                            data: r.data.to_vec(),
                        });
                    }
                }
                Verdict::Stolen => {}
            }
        }
        for dest in [Side::Lower, Side::Upper] {
            let idxs = &st.out[slot(dest)];
            if idxs.is_empty() {
                continue;
            }
            let frames: Vec<OutFrame<'_>> = idxs.iter().map(|&i| st.buf.get(i).out()).collect();
            self.bridge.send(dest, &frames)?;
            if self.tap.is_some() {
                for &i in idxs {
                    let r = st.buf.get(i);
                    tap_batch.push(TapFrame {
                        side: r.meta.side,
                        dropped: false,
                        ts_ns: r.meta.ts_ns,
                        data: r.data.to_vec(),
                    });
                }
            }
        }
        if let Some(t) = self.tap.as_mut() {
            tap_batch.sort_by_key(|f| f.ts_ns);
            t.push(tap_batch);
        }
        // Monitor mode: the frames have gone on; the handler sees them now
        // and can change nothing.
        for k in 0..st.monitor_list.len() {
            let i = st.monitor_list[k];
            st.d.handled += 1;
            let Loop {
                buf, inj, timers, ..
            } = &mut *st;
            buf.with_frame_mut(i, |f| {
                let mut ctx = Context::new(now, true, inj, timers);
                handler.on_frame(f, &mut ctx)
            });
        }
        Ok(())
    }

    /// One turn without copies ([`Bridge::forward_turn`]): the filter and
    /// the handler run on each frame in its ring slot, what passes goes
    /// out from there.
    fn turn_in_place<H: Handler + ?Sized>(
        &mut self,
        handler: &mut H,
        st: &mut Loop,
    ) -> Result<usize> {
        let now = bridge_io::realtime_ns();
        let tapping = self.tap.is_some();
        let with_dropped = self.tap.as_ref().is_some_and(|t| t.with_dropped);
        let max_inj = self.max_injections;
        let filter = self.filter.as_ref();
        let mut tap_batch: Vec<TapFrame> = Vec::new();
        let Loop {
            buf,
            inj,
            timers,
            d,
            ..
        } = st;
        let n = self.bridge.forward_turn(buf, self.tailroom, |f| {
            let selected = match filter {
                None => true,
                Some(p) => {
                    let meta = sluice_bpf::Meta {
                        ifindex: f.meta().ifindex,
                        hatype: 1,
                        ..sluice_bpf::Meta::default()
                    };
                    p.matches(f.data(), f.meta().wire_len, &meta)
                }
            };
            let verdict = if selected {
                d.handled += 1;
                let mut ctx = Context::new(now, false, inj, timers);
                let v = handler.on_frame(f, &mut ctx);
                bound_injections(inj, d, max_inj);
                v
            } else {
                d.bypassed += 1;
                Verdict::Pass
            };
            let keep = match verdict {
                Verdict::Pass => {
                    d.passed += 1;
                    true
                }
                Verdict::Drop => {
                    d.dropped_handler += 1;
                    false
                }
                Verdict::Stolen => false,
            };
            let tap_it = match verdict {
                Verdict::Pass => tapping,
                Verdict::Drop => with_dropped,
                Verdict::Stolen => false,
            };
            if tap_it {
                tap_batch.push(TapFrame {
                    side: f.side(),
                    dropped: !keep,
                    ts_ns: f.meta().ts_ns,
                    data: f.data().to_vec(),
                });
            }
            keep
        })?;
        if let Some(t) = self.tap.as_mut()
            && !tap_batch.is_empty()
        {
            tap_batch.sort_by_key(|f| f.ts_ns);
            t.push(tap_batch);
        }
        Ok(n)
    }

    fn fire_timers<H: Handler + ?Sized>(&mut self, handler: &mut H, st: &mut Loop) -> Result<()> {
        let Some(first) = st.timers.next_deadline() else {
            return Ok(());
        };
        let mut now = bridge_io::realtime_ns();
        if first > now {
            return Ok(());
        }
        // Fire in deadline order; timers set by on_timer for a time already
        // passed fire in this round too (bounded by the queue's size).
        let mut rounds = 0usize;
        while let Some(dl) = st.timers.next_deadline() {
            if dl > now || rounds > self.max_timers.max(1) {
                break;
            }
            rounds += 1;
            let Some(token) = st.timers.pop_due(now) else {
                break;
            };
            st.tstats.record(now.saturating_sub(dl));
            let mut ctx = Context::new(now, self.monitor, &mut st.inj, &mut st.timers);
            handler.on_timer(token, &mut ctx);
            st.bound_injections(self.max_injections);
            now = bridge_io::realtime_ns();
        }
        Ok(())
    }

    fn flush(&mut self, st: &mut Loop) -> Result<()> {
        if !st.d.is_zero() {
            self.counters.add(&st.d);
            st.d = Counters::default();
        }
        if st.inj.is_empty() {
            return Ok(());
        }
        let inj = std::mem::take(&mut st.inj);
        let mut k = 0;
        let mut tap_batch = Vec::new();
        while k < inj.len() {
            let to = inj[k].towards;
            let end = inj[k..]
                .iter()
                .position(|j| j.towards != to)
                .map_or(inj.len(), |p| k + p);
            let frames: Vec<OutFrame<'_>> = inj[k..end]
                .iter()
                .map(|j: &Injection| OutFrame {
                    bytes: &j.bytes,
                    offload: j.offload,
                })
                .collect();
            let r = self.bridge.send(to, &frames)?;
            let mut d = Counters::default();
            d.injected += r.sent;
            self.counters.add(&d);
            if self.tap.is_some() {
                let now = bridge_io::realtime_ns();
                tap_batch.extend(inj[k..end].iter().map(|j| TapFrame {
                    side: to.other(),
                    dropped: false,
                    ts_ns: now,
                    data: j.bytes.clone(),
                }));
            }
            k = end;
        }
        if let Some(t) = self.tap.as_mut() {
            t.push(tap_batch);
        }
        st.inj = inj;
        st.inj.clear();
        Ok(())
    }
}

fn slot(side: Side) -> usize {
    match side {
        Side::Upper => 0,
        Side::Lower => 1,
    }
}

/// The loop's working state.
pub(crate) struct Loop {
    buf: RecvBuf,
    timers: TimerQueue,
    inj: Vec<Injection>,
    d: Counters,
    tstats: TimerStats,
    out: [Vec<usize>; 2],
    monitor_list: Vec<usize>,
}

impl Loop {
    /// When the next timer is due (ns since the epoch).
    pub(crate) fn next_deadline(&self) -> Option<u64> {
        self.timers.next_deadline()
    }

    fn timer_due(&self) -> bool {
        self.timers
            .next_deadline()
            .is_some_and(|d| d <= bridge_io::realtime_ns())
    }

    fn bound_injections(&mut self, max: usize) {
        bound_injections(&mut self.inj, &mut self.d, max);
    }
}

/// Drops a handler's injections beyond `max`, newest first, counted.
fn bound_injections(inj: &mut Vec<Injection>, d: &mut Counters, max: usize) {
    if inj.len() > max {
        d.dropped_queue += (inj.len() - max) as u64;
        inj.truncate(max);
    }
}

trait IsZero {
    fn is_zero(&self) -> bool;
}

impl IsZero for Counters {
    fn is_zero(&self) -> bool {
        *self == Counters::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lateness_histogram_and_percentiles() {
        let mut t = TimerStats::default();
        for us in [5, 7, 20, 40, 60, 300] {
            t.record(us * 1000);
        }
        assert_eq!(t.fired, 6);
        assert_eq!(t.late_max_ns, 300_000);
        assert_eq!(t.histogram[0], 2);
        assert_eq!(t.percentile_bound(50.0), Some(Duration::from_micros(25)));
        assert_eq!(t.percentile_bound(100.0), Some(Duration::from_micros(500)));
        assert_eq!(t.mean(), Duration::from_nanos(72_000));
        t.record(10_000_000);
        assert_eq!(t.percentile_bound(100.0), None);
        assert_eq!(TimerStats::default().percentile_bound(50.0), None);
    }

    #[test]
    fn bad_filters_say_where() {
        let e = compile_filter("tcp port").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Filter);
        assert!(e.to_string().contains("tcp port\n"), "{e}");
        assert!(compile_filter("arp or icmp").is_ok());
    }
}
