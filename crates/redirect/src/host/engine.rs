//! The host-mode engine: one thread that receives queued packets (or log
//! copies in monitor mode), runs the handler on them, gives verdicts,
//! injects what the handler asks for, and fires its timers.

use std::net::IpAddr;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sluice_bpf::Meta;
use sluice_linux::Interrupt;
use sluice_linux::nfqueue::msg::{self, Event, LogPacket, consts::*};
use sluice_linux::nfqueue::rules::{self, Action, RuleSpec, Rules};
use sluice_linux::nfqueue::{
    InjectError, Injector, LinkState, LinkWatch, Log, LogConfig, NfVerdict, Queue, QueueConfig,
    RecvBatch, wait_readable,
};
use sluice_wire::LinkType;

use crate::counters::{Counters, SharedCounters};
use crate::frame::{FrameMeta, FrameMut, Offload, Side};
use crate::handler::{Context, Handler, Injection, Verdict};
use crate::host::l4::{self, SegmentError};
use crate::host::select::{self, Selection};
use crate::host::{Error, HostConfig, HostStats, Plan};
use crate::timer::TimerQueue;

/// A queued packet's facts, kept while its slot is lent out.
#[derive(Clone, Copy, Debug)]
struct Queued {
    id: u32,
    hook: u8,
    hw_protocol: u16,
    mark: u32,
    timestamp: Option<(u64, u64)>,
    indev: Option<u32>,
    outdev: Option<u32>,
    skb_info: u32,
    wire_len: u32,
    truncated: bool,
    /// The payload's place in the slot.
    start: usize,
    len: usize,
}

/// Where packets come from.
enum Source {
    Queue(Queue),
    Log(Log),
}

impl Source {
    fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Source::Queue(q) => q.as_fd(),
            Source::Log(l) => l.as_fd(),
        }
    }
}

/// The largest frame a handler may make: what one verdict can carry.
const FRAME_CAPACITY: usize = MAX_COPY_RANGE as usize;

/// How much a frame may grow in place (a tunnel header, an option); a
/// handler that needs more steals the frame and injects a new one.
pub const GROW_ROOM: usize = 4096;

/// Timer callbacks fired per loop turn at most (the rest on the next).
const TIMERS_PER_TURN: usize = 4096;

/// Receives in a row before verdicts are flushed regardless of the timer.
const RECV_BUDGET: usize = 64;

/// How long [`HostRedirector::close`] waits for stragglers.
const DRAIN_QUIET: Duration = Duration::from_millis(50);
const DRAIN_MAX: Duration = Duration::from_secs(1);

/// Host mode: the host's own IPv4/IPv6 traffic through a handler.
///
/// [`HostRedirector::open`] binds the queue (or log group), then installs
/// the rules, so no selected packet ever finds the queue unbound;
/// [`HostRedirector::run`] carries packets until
/// [`HostRedirector::stopper`] is triggered or an error occurs;
/// [`HostRedirector::close`] removes the rules, gives the packets still
/// waiting an accept verdict, and reports. Dropping it without `close`
/// removes the rules too (also during a panic).
pub struct HostRedirector {
    // Declared first: dropped (rules removed) before the queue unbinds.
    rules: Option<Rules>,
    source: Source,
    injector: Option<Injector>,
    link: Option<LinkWatch>,
    selection: Selection,
    forward_upper: Vec<u32>,
    counters: Arc<SharedCounters>,
    stop: Arc<Interrupt>,
    plan: Plan,
    cfg: HostConfig,
    stats: HostStats,
    delta: Counters,
    injections: Vec<Injection>,
    timers: TimerQueue,
    frame: Vec<u8>,
    dirty: usize,
    high_water: Vec<usize>,
    queued: Vec<Queued>,
    proc_dropped: Option<u32>,
    last_proc: Instant,
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The side a packet comes from, by its hook.
fn side_of(hook: u8, indev: Option<u32>, forward_upper: &[u32]) -> Side {
    match hook {
        NF_INET_LOCAL_OUT | NF_INET_POST_ROUTING => Side::Upper,
        NF_INET_FORWARD => match indev {
            Some(i) if forward_upper.contains(&i) => Side::Upper,
            _ => Side::Lower,
        },
        _ => Side::Lower,
    }
}

/// The offload state of a queued packet, from `NFQA_SKB_INFO`.
fn offload_of(skb_info: u32, bytes: &[u8]) -> Offload {
    let mut o = Offload::default();
    let partial = skb_info & NFQA_SKB_CSUMNOTREADY != 0;
    let gso = skb_info & NFQA_SKB_GSO != 0;
    if !partial && !gso {
        return o;
    }
    let l = l4::locate(bytes);
    if partial {
        o.csum_partial = true;
        if let Some(l) = l
            && let Some(f) = l4::checksum_field(l.protocol)
        {
            o.csum_start = u16::try_from(l.offset).unwrap_or(0);
            o.csum_offset = f as u16;
        }
    }
    if gso && let Some(l) = l {
        // VIRTIO_NET_HDR_GSO_TCPV4 / TCPV6 / UDP_L4. The queue does not
        // say the segment size; the kernel segments by the route's MTU.
        o.gso_type = match (l.src.is_ipv6(), l.protocol) {
            (false, l4::TCP) => 1,
            (true, l4::TCP) => 4,
            (_, l4::UDP) => 5,
            _ => 0,
        };
        let thl = match l.protocol {
            l4::TCP => bytes
                .get(l.offset + 12)
                .map_or(20, |b| usize::from(b >> 4) * 4),
            _ => 8,
        };
        o.hdr_len = u16::try_from(l.offset + thl).unwrap_or(0);
    }
    o
}

fn bpf_meta(hw_protocol: u16, ifindex: u32, mark: u32, side: Side) -> Meta {
    Meta {
        protocol: hw_protocol,
        // PACKET_OUTGOING for what the host sends, PACKET_HOST otherwise.
        pkttype: if side == Side::Upper { 4 } else { 0 },
        ifindex,
        mark,
        net_offset: Some(0),
        ..Meta::default()
    }
}

impl HostRedirector {
    /// Binds the queue (or, in monitor mode, the log group), opens the
    /// injection sockets, installs the rules and, with an interface,
    /// watches it — all in the calling thread's network namespace. Needs
    /// `CAP_NET_ADMIN` and `CAP_NET_RAW`.
    pub fn open(cfg: HostConfig) -> Result<HostRedirector, Error> {
        let d = cfg.directions;
        if !(d.input || d.output || d.forward) {
            return Err(Error::Config(
                "choose at least one direction (in, out, forward)".into(),
            ));
        }
        if !cfg.ipv4 && !cfg.ipv6 {
            return Err(Error::Config("choose IPv4, IPv6 or both".into()));
        }
        if cfg.batch == 0 || cfg.max_pending == 0 {
            return Err(Error::Config("batch sizes must be at least 1".into()));
        }
        let backends = if cfg.backends.is_empty() {
            rules::Backend::detect()
        } else {
            cfg.backends.clone()
        };
        let kernel_ok = cfg.kernel_filter && backends.first().is_some_and(|b| b.has_bpf_match());
        let mut selection = select::plan(cfg.filter.as_deref(), kernel_ok)?;

        let source = if cfg.monitor {
            let mut lc = LogConfig::new(cfg.queue);
            lc.rcvbuf = cfg.rcvbuf;
            lc.copy_range = cfg.copy_range.min(0xffff);
            Source::Log(Log::open(&lc)?)
        } else {
            let mut qc = QueueConfig::new(cfg.queue);
            qc.copy_range = cfg.copy_range;
            qc.max_len = cfg.queue_len;
            qc.fail_open = cfg.fail_open;
            qc.gso = cfg.gso;
            qc.rcvbuf = cfg.rcvbuf;
            qc.batch = cfg.batch;
            Source::Queue(Queue::open(&qc)?)
        };
        let injector = if cfg.monitor {
            None
        } else {
            Some(Injector::open(cfg.mark.0)?)
        };
        let link = match &cfg.interface {
            Some(i) => Some(LinkWatch::new(i)?),
            None => None,
        };
        let mut forward_upper = Vec::new();
        for name in &cfg.forward_upper {
            forward_upper.push(sluice_linux::iface::index(name)?);
        }

        let action = if cfg.monitor {
            Action::Log { group: cfg.queue }
        } else {
            Action::Queue {
                queue: cfg.queue,
                count: 1,
                bypass: cfg.fail_open,
            }
        };
        let mut spec = RuleSpec::new(
            rules::Directions {
                input: d.input,
                output: d.output,
                forward: d.forward,
            },
            action,
        );
        spec.ipv4 = cfg.ipv4;
        spec.ipv6 = cfg.ipv6;
        spec.interface = cfg.interface.clone();
        spec.skip_mark = cfg.mark;
        spec.backends = backends;
        spec.bpf = selection.kernel.as_ref().map(|p| p.insns().to_vec());
        let installed = match Rules::install(&spec) {
            Ok(r) => r,
            Err(e) if spec.bpf.is_some() => {
                // The kernel (or tool) refused the bpf match: select
                // everything in the kernel and filter in user space.
                selection = select::plan(cfg.filter.as_deref(), false)?;
                selection.reason = Some(format!("the bpf match was refused: {e}"));
                spec.bpf = None;
                Rules::install(&spec)?
            }
            Err(e) => return Err(e.into()),
        };
        let plan = Plan {
            backend: installed.backend().name().to_owned(),
            refused: installed
                .refused()
                .iter()
                .map(|(b, why)| format!("{}: {why}", b.name()))
                .collect(),
            selection: selection.describe(),
            monitor: cfg.monitor,
            queue: cfg.queue,
            fail_open: cfg.fail_open,
            gso: cfg.gso && !cfg.monitor,
            rcvbuf: match &source {
                Source::Queue(q) => q.rcvbuf(),
                Source::Log(_) => cfg.rcvbuf,
            },
        };
        Ok(HostRedirector {
            rules: Some(installed),
            source,
            injector,
            link,
            selection,
            forward_upper,
            counters: Arc::new(SharedCounters::default()),
            stop: Arc::new(Interrupt::new().map_err(Error::System)?),
            plan,
            timers: TimerQueue::with_limit(cfg.timer_limit),
            cfg,
            stats: HostStats::default(),
            delta: Counters::default(),
            injections: Vec::new(),
            frame: Vec::new(),
            dirty: 0,
            high_water: Vec::new(),
            queued: Vec::with_capacity(4),
            proc_dropped: None,
            last_proc: Instant::now(),
        })
    }

    /// What was set up: rule tool, where the filter runs, queue, buffers.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The selection (kernel and user-space programs).
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// The live counters (updated once per batch).
    pub fn counters(&self) -> Arc<SharedCounters> {
        Arc::clone(&self.counters)
    }

    /// Trigger it (from another thread or a signal handler) to make
    /// [`HostRedirector::run`] return.
    pub fn stopper(&self) -> Arc<Interrupt> {
        Arc::clone(&self.stop)
    }

    /// Makes `stop` the interrupt that ends [`HostRedirector::run`] (one
    /// that signal handlers trigger, say).
    pub fn set_stopper(&mut self, stop: Arc<Interrupt>) {
        self.stop = stop;
    }

    /// What host mode counted beyond [`Counters`].
    pub fn stats(&self) -> HostStats {
        let mut s = self.stats.clone();
        match &self.source {
            Source::Queue(q) => {
                let qs = q.stats();
                s.received = qs.packets;
                s.id_gaps = qs.id_gaps;
                s.cut = qs.cut;
                s.verdict_errors = qs.verdict_errors;
                s.last_verdict_errno = qs.last_verdict_errno;
                s.verdict_messages = qs.verdict_messages;
                s.verdict_sends = qs.verdict_sends;
            }
            Source::Log(l) => {
                let ls = l.stats();
                s.received = ls.copies;
                s.log_lost = ls.lost;
                s.cut = ls.cut;
            }
        }
        s.timers_refused = self.timers.refused();
        s
    }

    /// Carries packets through `handler` until stopped (then calls its
    /// [`Handler::on_stop`], sends what it injects, and returns `Ok`) or
    /// until an error (the watched interface deleted, a socket failing).
    pub fn run<H: Handler + ?Sized>(&mut self, handler: &mut H) -> Result<(), Error> {
        let mut batch = match &self.source {
            Source::Queue(q) => RecvBatch::new(q.config().batch, q.config().slot_len() + GROW_ROOM),
            Source::Log(l) => l.new_batch(),
        };
        // Every slot may hold anything until it was zeroed once.
        self.high_water = vec![batch.slot_len(); batch.slots()];
        if self.cfg.monitor && self.frame.is_empty() {
            self.frame = vec![0; FRAME_CAPACITY];
        }
        let waker = handler.waker();
        let result = self.run_loop(handler, &mut batch, waker.as_deref());
        // Last words: the handler injects what it holds.
        let now = now_ns();
        let monitor = self.cfg.monitor;
        handler.on_stop(&mut Context::new(
            now,
            monitor,
            &mut self.injections,
            &mut self.timers,
        ));
        self.send_injections();
        let flushed = match &mut self.source {
            Source::Queue(q) => q.flush().map_err(Error::System),
            Source::Log(_) => Ok(()),
        };
        self.publish();
        result.and(flushed)
    }

    fn run_loop<H: Handler + ?Sized>(
        &mut self,
        handler: &mut H,
        batch: &mut RecvBatch,
        waker: Option<&Interrupt>,
    ) -> Result<(), Error> {
        let mut first_pending: Option<Instant> = None;
        let mut recvs = 0usize;
        let mut turns = 0u32;
        loop {
            // The idle wait watches the stop interrupt; while packets keep
            // coming, look at it every 64 turns (a system call each time).
            turns = turns.wrapping_add(1);
            if turns.is_multiple_of(64) && self.stop.is_triggered() {
                return Ok(());
            }
            self.fire_timers(handler);
            let n = match &mut self.source {
                Source::Queue(q) => q.recv(batch)?,
                Source::Log(l) => l.recv(batch)?,
            };
            if n == 0 {
                // Idle: flush verdicts, publish counters, wait.
                self.flush_verdicts()?;
                first_pending = None;
                recvs = 0;
                self.publish();
                self.check_proc();
                let timeout = self
                    .timers
                    .next_deadline()
                    .map(|d| Duration::from_nanos(d.saturating_sub(now_ns())))
                    .unwrap_or(Duration::from_millis(250))
                    .min(Duration::from_millis(250));
                let mut fds: Vec<BorrowedFd<'_>> = vec![self.source.fd(), self.stop.as_fd()];
                let link_at = self.link.as_ref().map(|l| {
                    fds.push(l.as_fd());
                    fds.len() - 1
                });
                let waker_at = waker.map(|w| {
                    fds.push(w.as_fd());
                    fds.len() - 1
                });
                let ready = wait_readable(&fds, Some(timeout))?;
                drop(fds);
                if ready & 2 != 0 {
                    return Ok(());
                }
                if let Some(i) = link_at
                    && ready & (1 << i) != 0
                    && let Some(l) = self.link.as_mut()
                    && l.poll()? == LinkState::Deleted
                {
                    return Err(Error::System(l.gone_error()));
                }
                if let (Some(i), Some(w)) = (waker_at, waker)
                    && ready & (1 << i) != 0
                {
                    w.clear();
                    let now = now_ns();
                    handler.on_wake(&mut Context::new(
                        now,
                        self.cfg.monitor,
                        &mut self.injections,
                        &mut self.timers,
                    ));
                    self.send_injections();
                }
                continue;
            }
            let now = now_ns();
            for i in 0..n {
                self.parse_slot(batch, i, handler, now);
                // Queued packets are lent where they lie, in their slot.
                for k in 0..self.queued.len() {
                    let pkt = self.queued[k];
                    if let Some(slot) = batch.slot_mut(i) {
                        self.on_queued(pkt, slot, i, handler, now)?;
                    }
                }
            }
            recvs += 1;
            let pending = match &self.source {
                Source::Queue(q) => q.pending(),
                Source::Log(_) => 0,
            };
            if pending > 0 {
                let since = *first_pending.get_or_insert_with(Instant::now);
                if pending >= self.cfg.max_pending
                    || since.elapsed() >= self.cfg.flush_after
                    || recvs >= RECV_BUDGET
                {
                    self.flush_verdicts()?;
                    first_pending = None;
                    recvs = 0;
                }
            }
            self.publish();
        }
    }

    fn malformed(&mut self, e: msg::MsgError) {
        self.delta.malformed += 1;
        self.stats.malformed_messages += 1;
        self.stats.last_malformed = Some(e.to_string());
    }

    fn flush_verdicts(&mut self) -> Result<(), Error> {
        if let Source::Queue(q) = &mut self.source {
            q.flush()?;
        }
        Ok(())
    }

    fn publish(&mut self) {
        if self.delta != Counters::default() {
            self.counters.add(&self.delta);
            self.delta = Counters::default();
        }
    }

    /// Reads the kernel's drop counter once a second; with fail-closed, a
    /// full queue drops packets and only this counter says so.
    fn check_proc(&mut self) {
        if self.cfg.monitor || self.last_proc.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last_proc = Instant::now();
        if let Source::Queue(q) = &self.source
            && let Ok(Some(k)) = q.kernel_stats()
        {
            let before = self.proc_dropped.unwrap_or(0);
            self.delta.dropped_kernel += u64::from(k.queue_dropped.wrapping_sub(before));
            self.proc_dropped = Some(k.queue_dropped);
        }
    }

    fn fire_timers<H: Handler + ?Sized>(&mut self, handler: &mut H) {
        if self.timers.is_empty() {
            return;
        }
        let now = now_ns();
        for _ in 0..TIMERS_PER_TURN {
            let Some(token) = self.timers.pop_due(now) else {
                break;
            };
            handler.on_timer(
                token,
                &mut Context::new(
                    now,
                    self.cfg.monitor,
                    &mut self.injections,
                    &mut self.timers,
                ),
            );
        }
        self.send_injections();
    }

    /// Lends the packet's bytes to the handler in the frame buffer.
    fn lend(&mut self, payload: &[u8]) -> usize {
        let len = payload.len().min(self.frame.len());
        self.frame[..len].copy_from_slice(&payload[..len]);
        if self.dirty > len {
            self.frame[len..self.dirty].fill(0);
        }
        self.dirty = len;
        len
    }

    /// Walks the messages of slot `i`: log copies go to the handler at
    /// once, queued packets are noted in `self.queued` (to be lent in
    /// place once the slot is no longer borrowed), errors are counted.
    fn parse_slot<H: Handler + ?Sized>(
        &mut self,
        batch: &RecvBatch,
        i: usize,
        handler: &mut H,
        now: u64,
    ) {
        self.queued.clear();
        let Some((bytes, _)) = batch.get(i) else {
            return;
        };
        if let Some(hw) = self.high_water.get_mut(i) {
            *hw = (*hw).max(bytes.len());
        }
        for m in msg::messages(bytes) {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    self.malformed(e);
                    break;
                }
            };
            match msg::parse(&m) {
                Ok(Event::Packet(p)) => {
                    let (start, len) = p.payload.map_or((bytes.len(), 0), |pl| {
                        (pl.as_ptr() as usize - bytes.as_ptr() as usize, pl.len())
                    });
                    self.queued.push(Queued {
                        id: p.id,
                        hook: p.hook,
                        hw_protocol: p.hw_protocol,
                        mark: p.mark,
                        timestamp: p.timestamp,
                        indev: p.indev,
                        outdev: p.outdev,
                        skb_info: p.skb_info,
                        wire_len: p.wire_len(),
                        truncated: p.truncated(),
                        start,
                        len,
                    });
                }
                Ok(Event::Log(p)) => self.on_logged(&p, handler, now),
                Ok(Event::Error { errno, .. }) => {
                    if let Source::Queue(q) = &mut self.source {
                        q.note_verdict_error(errno);
                    }
                }
                Ok(_) => {}
                Err(e) => self.malformed(e),
            }
        }
    }

    /// One queued packet: the handler sees it where it lies in its receive
    /// slot (`slot[p.start..]`, the rest of the slot as room to grow).
    fn on_queued<H: Handler + ?Sized>(
        &mut self,
        p: Queued,
        slot: &mut [u8],
        slot_index: usize,
        handler: &mut H,
        now: u64,
    ) -> Result<(), Error> {
        let Source::Queue(q) = &mut self.source else {
            return Ok(());
        };
        let gap = q.note_packet(p.id);
        if gap > 0 && !self.cfg.fail_open {
            self.delta.dropped_kernel += u64::from(gap);
        }
        let end = (p.start + p.len).min(slot.len());
        let start = p.start.min(end);
        let side = side_of(p.hook, p.indev, &self.forward_upper);
        let wire_len = p.wire_len;
        let ifindex = match side {
            Side::Upper => p.outdev.or(p.indev),
            Side::Lower => p.indev.or(p.outdev),
        }
        .unwrap_or(0);
        let sc = self.delta.side_mut(side);
        sc.frames_in += 1;
        sc.bytes_in += u64::from(wire_len);
        if p.truncated {
            self.stats.cut_copies += 1;
        }
        if p.skb_info & NFQA_SKB_GSO != 0 {
            self.delta.oversize += 1;
        }
        if let Some(prog) = &self.selection.user
            && !prog.matches(
                &slot[start..end],
                wire_len,
                &bpf_meta(p.hw_protocol, ifindex, p.mark, side),
            )
        {
            q.verdict(p.id, NfVerdict::Accept)?;
            self.delta.bypassed += 1;
            self.delta.passed += 1;
            let o = self.delta.side_mut(side.other());
            o.frames_out += 1;
            o.bytes_out += u64::from(wire_len);
            return Ok(());
        }
        // Room to grow: GROW_ROOM bytes of the slot after the packet (up to
        // what one verdict carries), zeroed where earlier messages or
        // handlers left bytes.
        let cap_end = (end + GROW_ROOM)
            .min(start + FRAME_CAPACITY)
            .min(slot.len());
        let hw = self
            .high_water
            .get(slot_index)
            .copied()
            .unwrap_or(slot.len());
        let dirty_end = hw.min(cap_end);
        if dirty_end > end {
            slot[end..dirty_end].fill(0);
        }
        let meta = FrameMeta {
            side,
            ts_ns: p.timestamp.map_or(now, |(s, us)| {
                s.saturating_mul(1_000_000_000).saturating_add(us * 1000)
            }),
            wire_len,
            linktype: LinkType::RAW,
            ifindex,
            vlan: None,
            offload: offload_of(p.skb_info, &slot[start..end]),
            mark: p.mark,
        };
        let mut frame = FrameMut::new(&mut slot[start..cap_end], end - start, meta);
        let verdict = handler.on_frame(
            &mut frame,
            &mut Context::new(now, false, &mut self.injections, &mut self.timers),
        );
        self.delta.handled += 1;
        // The bytes are changed where they lie: a frame the handler could
        // change counts as changed.
        let changed = frame.is_modified();
        let new_len = frame.len();
        let new_meta = *frame.meta();
        if let Some(h) = self.high_water.get_mut(slot_index) {
            *h = (*h).max(start + new_len);
        }
        let Source::Queue(q) = &mut self.source else {
            return Ok(());
        };
        match verdict {
            Verdict::Pass => {
                let mark = (new_meta.mark != p.mark).then_some(new_meta.mark);
                if changed && p.truncated {
                    // The copy was cut: the changed bytes cannot replace
                    // the packet. It goes on unchanged, counted.
                    self.stats.refused_truncated += 1;
                    q.verdict_with(p.id, NfVerdict::Accept, mark, None)?
                        .map_err(|e| Error::Config(e.to_string()))?;
                } else if changed {
                    let bytes = &mut slot[start..start + new_len];
                    if new_meta.offload.csum_partial {
                        // The kernel takes new bytes as complete
                        // (CHECKSUM_NONE): finish the partial checksum.
                        l4::complete_checksum(bytes);
                    }
                    self.stats.modified += 1;
                    if let Err(e) = q.verdict_with(p.id, NfVerdict::Accept, mark, Some(bytes))? {
                        // Longer than a verdict carries: cannot happen
                        // within the frame's capacity; pass it unchanged.
                        self.stats.last_malformed = Some(e.to_string());
                        q.verdict(p.id, NfVerdict::Accept)?;
                    }
                } else if mark.is_some() {
                    q.verdict_with(p.id, NfVerdict::Accept, mark, None)?
                        .map_err(|e| Error::Config(e.to_string()))?;
                } else {
                    q.verdict(p.id, NfVerdict::Accept)?;
                }
                if mark.is_some() {
                    self.stats.marked += 1;
                }
                self.delta.passed += 1;
                let o = self.delta.side_mut(side.other());
                o.frames_out += 1;
                o.bytes_out += if changed {
                    new_len as u64
                } else {
                    u64::from(wire_len)
                };
            }
            Verdict::Drop => {
                q.verdict(p.id, NfVerdict::Drop)?;
                self.delta.dropped_handler += 1;
            }
            Verdict::Stolen => {
                q.verdict(p.id, NfVerdict::Drop)?;
                self.stats.stolen += 1;
            }
        }
        self.send_injections();
        Ok(())
    }

    fn on_logged<H: Handler + ?Sized>(&mut self, p: &LogPacket<'_>, handler: &mut H, now: u64) {
        let Source::Log(l) = &mut self.source else {
            return;
        };
        let lost = l.note_copy(p.seq);
        self.delta.dropped_kernel += u64::from(lost);
        let payload = p.payload.unwrap_or(&[]);
        let side = side_of(p.hook, p.indev, &self.forward_upper);
        // NFLOG does not give the length of a cut copy: the IP header does.
        let wire_len = l4::locate(payload)
            .map_or(payload.len(), |x| x.end)
            .max(ip_total_len(payload).unwrap_or(0))
            .max(payload.len()) as u32;
        let ifindex = match side {
            Side::Upper => p.outdev.or(p.indev),
            Side::Lower => p.indev.or(p.outdev),
        }
        .unwrap_or(0);
        let sc = self.delta.side_mut(side);
        sc.frames_in += 1;
        sc.bytes_in += u64::from(wire_len);
        if let Some(prog) = &self.selection.user
            && !prog.matches(
                payload,
                wire_len,
                &bpf_meta(p.hw_protocol, ifindex, p.mark, side),
            )
        {
            self.delta.bypassed += 1;
            return;
        }
        let len = self.lend(payload);
        let meta = FrameMeta {
            side,
            ts_ns: p.timestamp.map_or(now, |(s, us)| {
                s.saturating_mul(1_000_000_000).saturating_add(us * 1000)
            }),
            wire_len,
            linktype: LinkType::RAW,
            ifindex,
            vlan: None,
            offload: Offload::default(),
            mark: p.mark,
        };
        let mut frame = FrameMut::new(&mut self.frame, len, meta);
        // Monitor mode: the verdict and any change have no effect.
        let _ = handler.on_frame(
            &mut frame,
            &mut Context::new(now, true, &mut self.injections, &mut self.timers),
        );
        self.dirty = self.dirty.max(frame.len());
        self.delta.handled += 1;
    }

    fn send_injections(&mut self) {
        if self.injections.is_empty() {
            return;
        }
        let Some(inj) = self.injector.as_mut() else {
            self.injections.clear();
            return;
        };
        for mut i in self.injections.drain(..) {
            // A raw socket sends the bytes as they are: a copy of a packet
            // whose checksum was still partial (the host's own, or one
            // from a veth peer) gets its full checksum first.
            if i.offload.csum_partial {
                l4::complete_checksum(&mut i.bytes);
            }
            let r = match inj.send(&i.bytes) {
                Err(InjectError::TooBig { mtu }) => match l4::segment_tcp(&i.bytes, mtu as usize) {
                    Ok(segs) => {
                        self.stats.segmented += 1;
                        segs.iter().try_for_each(|s| inj.send(s))
                    }
                    Err(SegmentError::NotTcp) | Err(SegmentError::MtuTooSmall) => {
                        self.delta.oversize += 1;
                        Err(InjectError::TooBig { mtu })
                    }
                },
                other => other,
            };
            match r {
                Ok(()) => {
                    self.delta.injected += 1;
                    let s = self.delta.side_mut(i.towards);
                    s.frames_out += 1;
                    s.bytes_out += i.bytes.len() as u64;
                }
                Err(e) => {
                    self.delta.send_failures += 1;
                    self.stats.last_send_error = Some(e.to_string());
                }
            }
        }
    }

    /// Removes the rules, gives the packets still waiting an accept
    /// verdict (at most a second, until 50 ms pass without one), unbinds,
    /// and returns what was counted. A failure to remove the rules is an
    /// error (after the rest was done): `sluice divert --cleanup` removes
    /// them later.
    pub fn close(mut self) -> Result<Summary, Error> {
        let mut stats_rules = None;
        let removed = match self.rules.take() {
            Some(r) => {
                stats_rules = r.counters().ok();
                r.remove()
            }
            None => Ok(()),
        };
        if let Source::Queue(q) = &mut self.source {
            let mut batch = q.new_batch();
            let start = Instant::now();
            let mut quiet = Instant::now();
            while start.elapsed() < DRAIN_MAX && quiet.elapsed() < DRAIN_QUIET {
                let n = q.recv(&mut batch)?;
                if n == 0 {
                    q.flush()?;
                    let _ = wait_readable(&[q.as_fd()], Some(Duration::from_millis(5)))?;
                    continue;
                }
                quiet = Instant::now();
                for i in 0..n {
                    let Some((bytes, _)) = batch.get(i) else {
                        continue;
                    };
                    for m in msg::messages(bytes).flatten() {
                        if let Ok(Event::Packet(p)) = msg::parse(&m) {
                            q.note_packet(p.id);
                            q.verdict(p.id, NfVerdict::Accept)?;
                            self.stats.drained += 1;
                            self.delta.passed += 1;
                        }
                    }
                }
            }
            q.flush()?;
            self.stats.kernel = q.kernel_stats().ok().flatten();
        }
        self.publish();
        let mut stats = self.stats();
        stats.rules = stats_rules;
        if let Some(rc) = stats_rules {
            // Packets the rules took that never got an id: with fail-open
            // the kernel accepted them without us (queue full).
            let seen = stats.received + stats.id_gaps;
            stats.queue_full = Some(rc.matched.saturating_sub(seen));
        }
        let summary = Summary {
            counters: self.counters.snapshot(),
            stats,
            plan: self.plan.clone(),
        };
        removed.map_err(Error::System)?;
        Ok(summary)
    }
}

fn ip_total_len(p: &[u8]) -> Option<usize> {
    match p.first()? >> 4 {
        4 => Some(usize::from(u16::from_be_bytes([*p.get(2)?, *p.get(3)?]))),
        6 => Some(40 + usize::from(u16::from_be_bytes([*p.get(4)?, *p.get(5)?]))),
        _ => None,
    }
}

/// Everything a finished run counted.
#[derive(Clone, Debug)]
pub struct Summary {
    /// The shared counters.
    pub counters: Counters,
    /// Host mode's own.
    pub stats: HostStats,
    /// What was set up.
    pub plan: Plan,
}

/// The destination of an injected packet, for callers that want to
/// check it before injecting.
pub fn destination(packet: &[u8]) -> Option<IpAddr> {
    sluice_linux::nfqueue::inject::destination(packet).ok()
}

impl std::fmt::Display for Summary {
    /// The account printed at exit, one fact per line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = &self.counters;
        let s = &self.stats;
        writeln!(
            f,
            "{} packets sent by the host ({} bytes), {} received or forwarded ({} bytes)",
            c.upper.frames_in, c.upper.bytes_in, c.lower.frames_in, c.lower.bytes_in
        )?;
        if self.plan.monitor {
            write!(
                f,
                "{} copies seen by the handler, {} lost by NFLOG",
                c.handled, s.log_lost
            )?;
            if c.bypassed > 0 {
                write!(f, ", {} not selected by the filter", c.bypassed)?;
            }
            return Ok(());
        }
        writeln!(
            f,
            "{} seen by the handler: {} passed ({} changed, {} with a new mark), {} dropped, {} stolen; {} injected",
            c.handled,
            c.passed.saturating_sub(c.bypassed + s.drained),
            s.modified,
            s.marked,
            c.dropped_handler,
            s.stolen,
            c.injected
        )?;
        if c.bypassed > 0 {
            writeln!(
                f,
                "{} not selected by the user-space filter (accepted at once)",
                c.bypassed
            )?;
        }
        if c.oversize > 0 {
            writeln!(
                f,
                "{} GSO packets larger than the MTU carried whole",
                c.oversize
            )?;
        }
        let verb = if self.plan.fail_open {
            "accepted by the kernel without us"
        } else {
            "dropped by the kernel"
        };
        writeln!(
            f,
            "{} never reached our socket (its buffer was full): {verb}",
            s.id_gaps
        )?;
        match s.queue_full {
            Some(n) => writeln!(f, "{n} found the queue full: {verb}")?,
            None => writeln!(
                f,
                "packets that found the queue full: unknown (rule counters unreadable)"
            )?,
        }
        if !self.plan.fail_open {
            writeln!(f, "{} dropped by the kernel in all", c.dropped_kernel)?;
        }
        if c.send_failures > 0 {
            writeln!(
                f,
                "{} injections failed (last: {})",
                c.send_failures,
                s.last_send_error.as_deref().unwrap_or("?")
            )?;
        }
        if s.refused_truncated > 0 {
            writeln!(
                f,
                "{} changed packets passed unchanged: their copy was cut at 65531 bytes",
                s.refused_truncated
            )?;
        }
        if s.verdict_errors > 0 {
            writeln!(
                f,
                "{} verdicts refused by the kernel (last errno {}: the packet was gone)",
                s.verdict_errors, s.last_verdict_errno
            )?;
        }
        if s.malformed_messages > 0 {
            writeln!(
                f,
                "{} malformed messages from the kernel (last: {})",
                s.malformed_messages,
                s.last_malformed.as_deref().unwrap_or("?")
            )?;
        }
        if s.drained > 0 {
            writeln!(f, "{} accepted while closing", s.drained)?;
        }
        write!(
            f,
            "{} verdicts in {} messages and {} sends",
            s.received, s.verdict_messages, s.verdict_sends
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sides_by_hook() {
        assert_eq!(side_of(NF_INET_LOCAL_OUT, None, &[]), Side::Upper);
        assert_eq!(side_of(NF_INET_LOCAL_IN, Some(2), &[]), Side::Lower);
        assert_eq!(side_of(NF_INET_FORWARD, Some(2), &[]), Side::Lower);
        assert_eq!(side_of(NF_INET_FORWARD, Some(2), &[2]), Side::Upper);
    }

    #[test]
    fn offload_from_skb_info() {
        let mut p = vec![
            0x45, 0, 0, 60, 0, 0, 0, 0, 64, 6, 0, 0, 10, 77, 0, 1, 10, 77, 0, 2,
        ];
        p.extend_from_slice(&[0; 12]);
        p.push(0x80); // data offset 8 words
        p.extend_from_slice(&[0; 27]);
        let o = offload_of(NFQA_SKB_CSUMNOTREADY | NFQA_SKB_GSO, &p);
        assert!(o.csum_partial);
        assert_eq!((o.csum_start, o.csum_offset), (20, 16));
        assert_eq!((o.gso_type, o.hdr_len), (1, 52));
        assert_eq!(offload_of(0, &p), Offload::default());
        assert_eq!(ip_total_len(&p), Some(60));
    }
}
