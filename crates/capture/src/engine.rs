//! The capture engine: opens one ring per interface (or per fanout member),
//! runs one reader thread per ring, and hands every block to a [`Sink`].
//!
//! # Lifecycle
//!
//! [`Engine::open`] opens every socket, attaches the filter and joins the
//! fanout groups; nothing is read yet, so the caller can now drop
//! privileges (`-Z`) and create its output. [`Engine::start`] spawns the
//! readers and returns a [`Running`] capture, which the caller watches
//! ([`Running::snapshot`] for a status line) until it ends: by the shared
//! [`Interrupt`] (a signal, [`Running::stop`]), by the frame limit (`-c`),
//! by the sink (a rotation limit), or by an error (an interface went away).
//! [`Running::join`] returns the [`Report`] and the sink, for the caller to
//! finish with the kernel's counters.
//!
//! # Stopping without loss
//!
//! On a stop by interrupt, each reader attaches a reject-all filter
//! ([`Capture::stop_intake`]), then reads every block the kernel still
//! holds, waiting for the block being filled to be handed over by its
//! timeout. So when a capture ends, every frame the kernel accepted is in
//! the file or counted as dropped by the kernel: nothing is left behind in
//! the ring. (With a locked filter the blocks ready at the stop are read,
//! and what remains is reported in [`Report::left_in_ring`].)
//!
//! # Fanout
//!
//! With `fanout.members = N`, each interface gets N sockets in one
//! `PACKET_FANOUT` group (flow hash by default, so every flow stays with
//! one reader and keeps its order) and N reader threads. All readers write
//! to the one sink through a lock held for one block at a time: blocks of
//! different readers interleave in the file, frames of one flow keep their
//! order. One file rather than one per member: the file stays one capture
//! (no merge afterwards), and the lock is held only for one block's write.
//! Measured on a lab veth with 2 shared cores, 60-byte frames from
//! `trafgen -P 2` to a file for 6 s, three runs each: no kernel drops with
//! one reader or two; CPU per frame 132–186 ns with one reader, 157–270 ns
//! with two. Fanout pays where there are cores to spare, so one reader per
//! interface is the default.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sluice_linux::capture::{Capture, CaptureConfig, Fanout, FanoutMode, Next, TimestampMode};
use sluice_linux::iface;
use sluice_linux::{Block, Interrupt, RingConfig, Stats};
use sluice_pcap::{Interface, InterfaceStats, TsResolution};
use sluice_wire::LinkType;

use crate::error::{Error, Result};
use crate::filter::{FilterSpec, kernel_program};
use crate::sink::Sink;

/// Fanout settings: how many readers per interface and how frames are
/// spread over them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FanoutOptions {
    /// Sockets (and reader threads) per interface, 1 to 64.
    pub members: u16,
    /// How the kernel spreads frames.
    pub mode: FanoutMode,
}

/// Everything [`Engine::open`] needs.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct CaptureOptions {
    /// Interfaces to capture on (`any` for all); one file interface each.
    pub interfaces: Vec<String>,
    /// Longest frame kept.
    pub snaplen: u32,
    /// Ring geometry per socket.
    pub ring: RingConfig,
    /// Promiscuous mode (for the sockets' lifetime).
    pub promiscuous: bool,
    /// Do not see frames this host sends.
    pub ignore_outgoing: bool,
    /// A pcap-filter expression run by the kernel.
    pub filter: Option<String>,
    /// Optimise the filter.
    pub optimize: bool,
    /// Forbid later changes of the filter (`SO_LOCK_FILTER`).
    pub lock_filter: bool,
    /// Several readers per interface.
    pub fanout: Option<FanoutOptions>,
    /// Software or hardware timestamps.
    pub timestamps: TimestampMode,
}

impl CaptureOptions {
    /// A capture of `interfaces` with the defaults: full frames, the
    /// default ring, promiscuous, no filter, one reader per interface.
    pub fn new(interfaces: Vec<String>) -> CaptureOptions {
        CaptureOptions {
            interfaces,
            snaplen: sluice_linux::capture::MAX_SNAPLEN,
            ring: RingConfig::DEFAULT,
            promiscuous: true,
            ignore_outgoing: false,
            filter: None,
            optimize: true,
            lock_filter: false,
            fanout: None,
            timestamps: TimestampMode::Software,
        }
    }
}

/// One interface of a capture: what its file interface description says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    /// Interface name.
    pub interface: String,
    /// Interface index (0 for `any`).
    pub ifindex: u32,
    /// Link type of the frames.
    pub linktype: LinkType,
    /// Snap length in force.
    pub snaplen: u32,
    /// The filter expression, if any.
    pub filter: Option<String>,
    /// Instructions of the attached program (0 without a filter).
    pub filter_len: usize,
    /// Frames carry hardware timestamps.
    pub hardware_timestamps: bool,
    /// Sockets reading this interface (fanout members).
    pub members: u16,
}

impl Source {
    /// The pcapng interface description for this source: name, filter,
    /// nanosecond resolution, snap length.
    pub fn interface_block(&self) -> Interface {
        let mut i = Interface::new(self.linktype, self.snaplen);
        i.tsresol = TsResolution::NANO;
        i.name = Some(self.interface.clone());
        i.filter = self.filter.as_ref().map(|f| (0, f.clone().into_bytes()));
        if self.hardware_timestamps {
            i.description = Some("hardware timestamps".into());
        }
        i
    }
}

struct Reader {
    capture: Capture,
    source: u32,
}

/// Open sockets, ready to start.
pub struct Engine {
    sources: Vec<Source>,
    readers: Vec<Reader>,
    interrupt: Arc<Interrupt>,
    counters_before: Vec<Option<iface::Counters>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("sources", &self.sources)
            .field("readers", &self.readers.len())
            .finish()
    }
}

fn config_for(opts: &CaptureOptions, interface: &str) -> CaptureConfig {
    let mut c = CaptureConfig::new(interface);
    c.ring = opts.ring;
    c.snaplen = opts.snaplen;
    c.promiscuous = opts.promiscuous;
    c.ignore_outgoing = opts.ignore_outgoing;
    c.lock_filter = opts.lock_filter;
    c.timestamps = opts.timestamps;
    c
}

fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

impl Engine {
    /// Opens every socket: for each interface, its link type is looked up,
    /// the filter compiled for it and attached before the socket is bound,
    /// and the fanout members join one group of their own. Every socket
    /// wakes up on `interrupt`. Needs CAP_NET_RAW.
    pub fn open(opts: &CaptureOptions, interrupt: Arc<Interrupt>) -> Result<Engine> {
        if opts.interfaces.is_empty() {
            return Err(Error::Config("no interface to capture on".into()));
        }
        let members = opts.fanout.map_or(1, |f| f.members);
        if !(1..=64).contains(&members) {
            return Err(Error::Config(format!(
                "fanout of {members} readers: 1 to 64 allowed"
            )));
        }
        let mut sources = Vec::new();
        let mut readers = Vec::new();
        let mut counters_before = Vec::new();
        for (n, name) in opts.interfaces.iter().enumerate() {
            if opts.interfaces[..n].contains(name) {
                return Err(Error::Config(format!("interface {name} given twice")));
            }
            let mapping = if name == "any" {
                iface::cooked_mapping()
            } else {
                iface::Interface::by_name(name)?.link_mapping()
            };
            let mut cfg = config_for(opts, name);
            if let Some(expr) = &opts.filter {
                cfg.filter = Some(kernel_program(
                    expr,
                    &FilterSpec {
                        linktype: mapping.linktype,
                        cooked: mapping.cooked,
                        snaplen: opts.snaplen,
                        optimize: opts.optimize,
                    },
                )?);
            }
            let first = Capture::open(&cfg)?;
            let source = Source {
                interface: name.clone(),
                ifindex: first.ifindex(),
                linktype: first.linktype(),
                snaplen: first.snaplen(),
                filter: opts.filter.clone(),
                filter_len: first.filter_len(),
                hardware_timestamps: first.hardware_timestamps(),
                members,
            };
            let id = sources.len() as u32;
            if let Some(f) = opts.fanout.filter(|f| f.members > 1) {
                let group = first.create_fanout(f.mode, false, false)?;
                readers.push(Reader {
                    capture: first,
                    source: id,
                });
                for _ in 1..f.members {
                    let mut c = cfg.clone();
                    c.fanout = Some(Fanout::new(group, f.mode));
                    readers.push(Reader {
                        capture: Capture::open(&c)?,
                        source: id,
                    });
                }
            } else {
                readers.push(Reader {
                    capture: first,
                    source: id,
                });
            }
            counters_before.push(iface::counters(name).ok());
            sources.push(source);
        }
        for r in &mut readers {
            r.capture.set_interrupt(Arc::clone(&interrupt));
        }
        Ok(Engine {
            sources,
            readers,
            interrupt,
            counters_before,
        })
    }

    /// The interfaces, in order (source `i` of the sink is `sources()[i]`).
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    /// The file interface descriptions, in source order.
    pub fn interface_blocks(&self) -> Vec<Interface> {
        self.sources.iter().map(Source::interface_block).collect()
    }

    /// Starts one reader thread per socket, writing into `sink`; stops by
    /// itself after `count` frames if given. The kernel's counters are read
    /// every `stats_every` for [`Running::snapshot`] (a status line); with
    /// `None` only at the end, and an idle reader sleeps until frames come.
    pub fn start<S: Sink + 'static>(
        self,
        sink: S,
        count: Option<u64>,
        stats_every: Option<Duration>,
    ) -> Result<Running<S>> {
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            frames: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            readers: Mutex::new(vec![ReaderState::default(); self.readers.len()]),
            reason: Mutex::new(None),
            interrupt: Arc::clone(&self.interrupt),
        });
        let sink = Arc::new(Mutex::new(Guarded { sink, frames: 0 }));
        let start_ns = now_ns();
        let mut threads = Vec::new();
        for (index, reader) in self.readers.into_iter().enumerate() {
            let shared = Arc::clone(&shared);
            let sink = Arc::clone(&sink);
            let name = format!("sluice-rx{index}");
            let t = std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    let r = read_loop(reader, index, &shared, &sink, count, stats_every);
                    if r.is_err() {
                        shared.set_reason(StopReason::Error);
                        shared.request_stop();
                    }
                    r
                })
                .map_err(|e| Error::io("starting a capture thread", e))?;
            threads.push(t);
        }
        Ok(Running {
            threads,
            shared,
            sink,
            sources: self.sources,
            counters_before: self.counters_before,
            start_ns,
            started: Instant::now(),
        })
    }
}

/// Why a capture ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// The interrupt was triggered (a signal, [`Running::stop`]).
    Interrupted,
    /// The frame limit was reached.
    Count,
    /// The sink wanted no more (rotation limit).
    SinkDone,
    /// A reader failed (see [`Finished::error`]).
    Error,
}

#[derive(Clone, Copy, Debug, Default)]
struct ReaderState {
    stats: Stats,
    frames: u64,
    bytes: u64,
    malformed: u64,
    left_in_ring: u64,
}

struct Shared {
    stop: AtomicBool,
    frames: AtomicU64,
    bytes: AtomicU64,
    readers: Mutex<Vec<ReaderState>>,
    reason: Mutex<Option<StopReason>>,
    interrupt: Arc<Interrupt>,
}

impl Shared {
    fn request_stop(&self) {
        self.stop.store(true, Ordering::Release);
        self.interrupt.trigger();
    }

    fn set_reason(&self, reason: StopReason) {
        if let Ok(mut r) = self.reason.lock() {
            r.get_or_insert(reason);
        }
    }

    fn readers(&self) -> MutexGuard<'_, Vec<ReaderState>> {
        // A reader that panicked leaves plain counters behind: still usable.
        self.readers.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct Guarded<S> {
    sink: S,
    frames: u64,
}

/// What a reader's block handling decided.
enum After {
    More,
    Stop(StopReason),
}

fn handle_block<S: Sink>(
    block: &Block<'_>,
    source: u32,
    index: usize,
    shared: &Shared,
    sink: &Mutex<Guarded<S>>,
    count: Option<u64>,
) -> Result<After> {
    let mut g = sink
        .lock()
        .map_err(|_| Error::Thread("another capture thread panicked while writing".into()))?;
    let limit = count.map_or(u64::MAX, |c| c.saturating_sub(g.frames));
    if limit == 0 {
        return Ok(After::Stop(StopReason::Count));
    }
    let w = g.sink.write_block(source, block, limit)?;
    g.frames += w.frames;
    let total = g.frames;
    drop(g);
    shared.frames.fetch_add(w.frames, Ordering::Relaxed);
    shared.bytes.fetch_add(w.bytes, Ordering::Relaxed);
    {
        let mut rs = shared.readers();
        rs[index].frames += w.frames;
        rs[index].bytes += w.bytes;
        rs[index].malformed += w.malformed;
    }
    if w.stop {
        return Ok(After::Stop(StopReason::SinkDone));
    }
    if count.is_some_and(|c| total >= c) {
        return Ok(After::Stop(StopReason::Count));
    }
    Ok(After::More)
}

fn read_loop<S: Sink>(
    mut reader: Reader,
    index: usize,
    shared: &Shared,
    sink: &Mutex<Guarded<S>>,
    count: Option<u64>,
    stats_every: Option<Duration>,
) -> Result<()> {
    let source = reader.source;
    let cap = &mut reader.capture;
    let mut last_stats = Instant::now();
    let publish = |cap: &mut Capture| -> Result<()> {
        let s = cap.stats()?;
        shared.readers()[index].stats = s;
        Ok(())
    };
    let mut reason = None;
    let mut error = None;
    while reason.is_none() {
        if shared.stop.load(Ordering::Acquire) {
            reason = Some(StopReason::Interrupted);
            break;
        }
        match cap.next_block(stats_every) {
            Ok(Next::Block(b)) => match handle_block(&b, source, index, shared, sink, count) {
                Ok(After::More) => {}
                Ok(After::Stop(r)) => reason = Some(r),
                Err(e) => error = Some(e),
            },
            Ok(Next::Timeout) => {}
            Ok(Next::Interrupted) => reason = Some(StopReason::Interrupted),
            Err(e) => error = Some(e.into()),
        }
        if error.is_some() {
            break;
        }
        if stats_every.is_some_and(|every| last_stats.elapsed() >= every) {
            publish(cap)?;
            last_stats = Instant::now();
        }
    }
    if let Some(e) = error {
        // The counters of a socket whose interface is gone still read.
        let _ = publish(cap);
        return Err(e);
    }
    match reason {
        Some(StopReason::Interrupted) => {
            shared.set_reason(StopReason::Interrupted);
            drain(cap, source, index, shared, sink, count)?;
        }
        Some(r) => {
            shared.set_reason(r);
            shared.request_stop();
        }
        None => {}
    }
    publish(cap)
}

/// After a stop: no new frames in, then every block the kernel holds out.
fn drain<S: Sink>(
    cap: &mut Capture,
    source: u32,
    index: usize,
    shared: &Shared,
    sink: &Mutex<Guarded<S>>,
    count: Option<u64>,
) -> Result<()> {
    let closed = cap.stop_intake()?;
    // The block being filled is handed over at the latest one timeout
    // after its last frame; allow two, and a margin for the timer.
    let wait = 2 * cap.block_timeout() + Duration::from_millis(30);
    let deadline = Instant::now() + if closed { wait } else { Duration::ZERO };
    let mut done = false;
    let mut blocks = 0usize;
    let max_blocks = cap.ring().block_count() * 2 + 2;
    loop {
        while !done && blocks < max_blocks {
            let Some(b) = cap.try_next_block() else { break };
            blocks += 1;
            if let After::Stop(_) = handle_block(&b, source, index, shared, sink, count)? {
                done = true;
            }
        }
        if done || blocks >= max_blocks || Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    // What is still in ready blocks (a locked filter kept letting frames
    // in, or the frame limit was reached while draining).
    let mut left = 0u64;
    if !done {
        while let Some(b) = cap.try_next_block() {
            left += b.header().map_or(0, |h| u64::from(h.num_pkts));
            if left > 1 << 40 {
                break;
            }
        }
    }
    shared.readers()[index].left_in_ring += left;
    Ok(())
}

/// A snapshot of a running capture, for a status line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Frames handed to the sink.
    pub frames: u64,
    /// Bytes of those frames.
    pub bytes: u64,
    /// Frames that passed the kernel filter (all sockets).
    pub kernel_packets: u64,
    /// Frames the kernel dropped for lack of ring space (all sockets).
    pub kernel_drops: u64,
    /// Time since the start.
    pub elapsed: Duration,
}

/// The final account of a capture, per interface.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceReport {
    /// The interface.
    pub source: Source,
    /// The kernel's counters, summed over the fanout members.
    pub kernel: Stats,
    /// Frames written.
    pub frames: u64,
    /// Bytes written (captured lengths).
    pub bytes: u64,
    /// Frames lost to malformed ring blocks (never expected).
    pub malformed: u64,
    /// Frames left in the ring at the stop (only with a locked filter, or
    /// after the frame limit).
    pub left_in_ring: u64,
    /// The interface's own counters over the capture (rx + tx; rx only
    /// when ignoring outgoing frames is up to the caller), when readable.
    pub interface_counters: Option<iface::Counters>,
}

/// The final account of a capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// Per interface, in source order.
    pub sources: Vec<SourceReport>,
    /// Frames written in all.
    pub frames: u64,
    /// Bytes written in all.
    pub bytes: u64,
    /// Why the capture ended.
    pub reason: StopReason,
    /// Start, nanoseconds since the epoch.
    pub start_ns: u64,
    /// End, nanoseconds since the epoch.
    pub end_ns: u64,
}

impl Report {
    /// The kernel's counters summed over all interfaces.
    pub fn kernel(&self) -> Stats {
        let mut s = Stats::default();
        for r in &self.sources {
            s.packets += r.kernel.packets;
            s.drops += r.kernel.drops;
            s.freeze_q_cnt += r.kernel.freeze_q_cnt;
        }
        s
    }

    /// Frames left in rings at the stop, all interfaces.
    pub fn left_in_ring(&self) -> u64 {
        self.sources.iter().map(|s| s.left_in_ring).sum()
    }

    /// Frames lost to malformed blocks, all interfaces.
    pub fn malformed(&self) -> u64 {
        self.sources.iter().map(|s| s.malformed).sum()
    }

    /// Interface statistics blocks for the end of a pcapng file: start and
    /// end time, frames received by the filter (`isb_ifrecv` and
    /// `isb_filteraccept`, as dumpcap writes them), dropped by the kernel
    /// (`isb_ifdrop` and `isb_osdrop`), delivered to the file
    /// (`isb_usrdeliv`).
    pub fn interface_stats(&self) -> Vec<InterfaceStats> {
        self.sources
            .iter()
            .enumerate()
            .map(|(i, s)| InterfaceStats {
                interface_id: i as u32,
                ts_ns: self.end_ns,
                start_ns: Some(self.start_ns),
                end_ns: Some(self.end_ns),
                ifrecv: Some(s.kernel.packets),
                ifdrop: Some(s.kernel.drops),
                filteraccept: Some(s.kernel.packets),
                osdrop: Some(s.kernel.drops),
                usrdeliv: Some(s.frames),
                ..InterfaceStats::default()
            })
            .collect()
    }
}

/// A capture in progress.
pub struct Running<S> {
    threads: Vec<JoinHandle<Result<()>>>,
    shared: Arc<Shared>,
    sink: Arc<Mutex<Guarded<S>>>,
    sources: Vec<Source>,
    counters_before: Vec<Option<iface::Counters>>,
    start_ns: u64,
    started: Instant,
}

/// A capture that has ended: the account, the first error if it ended by
/// one, and the sink to finish.
pub struct Finished<S> {
    /// The account.
    pub report: Report,
    /// The error that ended the capture, if any. The sink is intact: the
    /// caller finishes it (the file stays valid) and then reports this.
    pub error: Option<Error>,
    /// The sink, to finish.
    pub sink: S,
}

impl<S: Sink> Running<S> {
    /// Counters so far (the kernel's as of the last periodic read, see
    /// [`Engine::start`]).
    pub fn snapshot(&self) -> Snapshot {
        let rs = self.shared.readers();
        Snapshot {
            frames: self.shared.frames.load(Ordering::Relaxed),
            bytes: self.shared.bytes.load(Ordering::Relaxed),
            kernel_packets: rs.iter().map(|r| r.stats.packets).sum(),
            kernel_drops: rs.iter().map(|r| r.stats.drops).sum(),
            elapsed: self.started.elapsed(),
        }
    }

    /// Asks every reader to stop (as a signal would): they stop taking
    /// frames in, write what the kernel holds, and end.
    pub fn stop(&self) {
        self.shared.request_stop();
    }

    /// Whether every reader has ended.
    pub fn is_finished(&self) -> bool {
        self.threads.iter().all(|t| t.is_finished())
    }

    /// Runs `f` on the sink (for example to read how far the file has
    /// grown); waits while a reader is writing.
    pub fn with_sink<T>(&self, f: impl FnOnce(&S) -> T) -> Option<T> {
        self.sink.lock().ok().map(|g| f(&g.sink))
    }

    /// Waits for every reader and returns the account and the sink.
    pub fn join(self) -> Result<Finished<S>> {
        let mut error = None;
        for t in self.threads {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    error.get_or_insert(e);
                }
                Err(p) => {
                    let msg = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_else(|| "panic".into());
                    error.get_or_insert(Error::Thread(msg));
                }
            }
        }
        let end_ns = now_ns();
        let states = self.shared.readers().clone();
        let reason = self
            .shared
            .reason
            .lock()
            .ok()
            .and_then(|r| *r)
            .unwrap_or(StopReason::Interrupted);
        let reason = if error.is_some() {
            StopReason::Error
        } else {
            reason
        };
        let mut sources: Vec<SourceReport> = self
            .sources
            .into_iter()
            .zip(&self.counters_before)
            .map(|(source, before)| {
                let after = iface::counters(&source.interface).ok();
                SourceReport {
                    interface_counters: match (before, after) {
                        (Some(b), Some(a)) => Some(a.since(b)),
                        _ => None,
                    },
                    source,
                    kernel: Stats::default(),
                    frames: 0,
                    bytes: 0,
                    malformed: 0,
                    left_in_ring: 0,
                }
            })
            .collect();
        // Reader i belongs to the source whose members come i-th: sources
        // are laid out member after member.
        let mut i = 0usize;
        for s in &mut sources {
            for _ in 0..s.source.members {
                if let Some(st) = states.get(i) {
                    s.kernel.packets += st.stats.packets;
                    s.kernel.drops += st.stats.drops;
                    s.kernel.freeze_q_cnt += st.stats.freeze_q_cnt;
                    s.frames += st.frames;
                    s.bytes += st.bytes;
                    s.malformed += st.malformed;
                    s.left_in_ring += st.left_in_ring;
                }
                i += 1;
            }
        }
        let sink = match Arc::try_unwrap(self.sink) {
            Ok(m) => m.into_inner().unwrap_or_else(|p| p.into_inner()).sink,
            Err(_) => {
                return Err(Error::Thread(
                    "the sink is still shared after every reader ended".into(),
                ));
            }
        };
        let report = Report {
            frames: sources.iter().map(|s| s.frames).sum(),
            bytes: sources.iter().map(|s| s.bytes).sum(),
            sources,
            reason,
            start_ns: self.start_ns,
            end_ns,
        };
        Ok(Finished {
            report,
            error,
            sink,
        })
    }
}
