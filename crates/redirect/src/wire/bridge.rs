//! The low-level wire mode API: two interfaces, like two handles. Frames
//! are read from either side in batches into a caller's [`RecvBuf`] and
//! written to either side with [`Bridge::send`].
//!
//! Reading a frame from upper and sending its bytes (with its
//! [`Offload`]) to lower lets it go on unchanged; that is all a
//! pass-through bridge does. Waits are blocking, non-blocking
//! (`Some(Duration::ZERO)`) or bounded, and interruptible from any thread
//! or a signal handler through [`Bridge::interrupt`]. [`Bridge::shutdown`]
//! stops intake, after which [`Bridge::recv`] hands over what the rings
//! still hold and then says [`Recv::Closed`].

use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_linux::block::VnetHdr;
use sluice_linux::bridge_io::{
    self, FullReader, Offloads, RingV2Config, RxPort, RxPortConfig, SlotInfo, VnetTx,
};
use sluice_linux::{Capture, CaptureConfig, Interrupt, RingConfig, Stats, Vlan as RingVlan};
use sluice_wire::LinkType;

use super::error::{Error, ErrorKind, Result};
use crate::counters::{Counters, SharedCounters};
use crate::frame::{FrameMeta, FrameMut, Offload, Side};

/// The receive ring of each side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RxRing {
    /// TPACKET_V2: every frame handed over as soon as the kernel wrote it
    /// (the default: lowest latency, see the module documentation).
    /// `None` sizes the slots for the interface's MTU.
    V2(Option<RingV2Config>),
    /// TPACKET_V3: frames handed over a block at a time, when the block is
    /// full or its timeout expires.
    V3(RingConfig),
}

/// Everything [`Bridge::open`] needs.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct BridgeConfig {
    /// The host-side interface.
    pub upper: String,
    /// The network-side interface.
    pub lower: String,
    /// Receive ring kind and geometry.
    pub rx: RxRing,
    /// Carry offload state (`PACKET_VNET_HDR` on receive and send): GSO
    /// frames larger than the MTU and partial checksums go through as they
    /// came. Without it such frames are refused by the sending side (and
    /// counted).
    pub vnet_hdr: bool,
    /// Send with `PACKET_QDISC_BYPASS`.
    pub qdisc_bypass: bool,
    /// How long to keep polling the rings (busy, on the CPU) after the
    /// last frame before sleeping in `poll`: trades CPU for wake-up delay.
    pub spin: Duration,
    /// Most frames taken from one side per [`Bridge::try_recv`].
    pub batch: usize,
    /// Hold both interfaces in promiscuous mode.
    pub promiscuous: bool,
    /// Receive from this side only: one direction of the bridge, for a
    /// loop per direction ([`super::PerDirection`]). Both sides can still
    /// be sent to. `None` (the default) receives from both.
    pub only: Option<Side>,
}

impl BridgeConfig {
    /// A bridge between `upper` and `lower` with the measured defaults:
    /// TPACKET_V2 rings sized for the MTU, offload state carried, qdisc
    /// bypass, 64-frame batches, no spinning.
    pub fn new(upper: impl Into<String>, lower: impl Into<String>) -> BridgeConfig {
        BridgeConfig {
            upper: upper.into(),
            lower: lower.into(),
            rx: RxRing::V2(None),
            vnet_hdr: true,
            qdisc_bypass: true,
            spin: Duration::ZERO,
            batch: 64,
            promiscuous: true,
            only: None,
        }
    }
}

/// What was found about one side when the bridge opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortInfo {
    /// Which side.
    pub side: Side,
    /// Interface name.
    pub interface: String,
    /// Interface index.
    pub ifindex: u32,
    /// MTU.
    pub mtu: u32,
    /// Hardware address.
    pub hwaddr: [u8; 6],
    /// Offload features (`None` when the driver does not say).
    pub offloads: Option<Offloads>,
}

/// The two sides as found at start, and what follows for frame sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartReport {
    /// The upper side.
    pub upper: PortInfo,
    /// The lower side.
    pub lower: PortInfo,
    /// Whether offload state is carried.
    pub vnet_hdr: bool,
}

impl StartReport {
    /// One line per finding about MTUs and offloads, for the user.
    pub fn findings(&self) -> Vec<String> {
        let mut out = Vec::new();
        let (u, l) = (&self.upper, &self.lower);
        let ol = |p: &PortInfo| match p.offloads {
            Some(o) => format!(
                "GRO {}, GSO {}, TSO {}, TX checksum {}",
                onoff(o.gro),
                onoff(o.gso),
                onoff(o.tso),
                onoff(o.tx_csum)
            ),
            None => "offloads unknown".into(),
        };
        out.push(format!(
            "upper {} (index {}): MTU {}, {}",
            u.interface,
            u.ifindex,
            u.mtu,
            ol(u)
        ));
        out.push(format!(
            "lower {} (index {}): MTU {}, {}",
            l.interface,
            l.ifindex,
            l.mtu,
            ol(l)
        ));
        if u.mtu != l.mtu {
            let (big, small) = if u.mtu > l.mtu { (u, l) } else { (l, u) };
            out.push(format!(
                "MTUs differ: frames from {} longer than {} bytes cannot leave on {} unless they carry GSO state; they are counted as oversize and as send failures",
                big.interface, small.mtu, small.interface
            ));
        } else {
            out.push(format!("MTUs match ({})", u.mtu));
        }
        let gro = [u, l]
            .iter()
            .any(|p| p.offloads.is_none_or(|o| o.gro || o.tso || o.gso));
        if gro {
            out.push(if self.vnet_hdr {
                "frames larger than the MTU may arrive (GRO/GSO): they are carried whole with their GSO state".into()
            } else {
                "frames larger than the MTU may arrive (GRO/GSO) and offload state is NOT carried: they will be refused and counted".into()
            });
        }
        out
    }
}

fn onoff(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

impl std::fmt::Display for StartReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for l in self.findings() {
            writeln!(f, "{l}")?;
        }
        Ok(())
    }
}

/// What a [`Bridge::recv`] ended with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Recv {
    /// This many frames are in the buffer.
    Frames(usize),
    /// The timeout expired with nothing to read.
    Timeout,
    /// The interrupt was triggered (it stays so until cleared; usually the
    /// caller then calls [`Bridge::shutdown`]).
    Interrupted,
    /// [`Bridge::shutdown`] was called and everything received before it
    /// has been handed over: no more frames.
    Closed,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    start: usize,
    len: usize,
    cap: usize,
    meta: FrameMeta,
}

/// A caller's buffer for a batch of received frames: the bytes of each
/// frame (with room after it to grow) and its metadata. Reused from batch
/// to batch; it grows only when one frame is larger than all of it.
#[derive(Debug)]
pub struct RecvBuf {
    data: Vec<u8>,
    used: usize,
    frames: Vec<Entry>,
    tailroom: usize,
}

/// A received frame in a [`RecvBuf`].
#[derive(Clone, Copy, Debug)]
pub struct Received<'a> {
    /// Its bytes, from the Ethernet header (VLAN tags inline).
    pub data: &'a [u8],
    /// Its metadata.
    pub meta: &'a FrameMeta,
}

impl<'a> Received<'a> {
    /// The frame as it goes out again: its bytes and offload state.
    pub fn out(&self) -> OutFrame<'a> {
        OutFrame {
            bytes: self.data,
            offload: self.meta.offload,
        }
    }
}

impl RecvBuf {
    /// A buffer of `bytes` bytes, keeping `tailroom` bytes free after each
    /// frame for a handler to grow it. At least 256 KiB are allocated.
    pub fn new(bytes: usize, tailroom: usize) -> RecvBuf {
        RecvBuf {
            data: vec![0; bytes.max(256 << 10)],
            used: 0,
            frames: Vec::with_capacity(256),
            tailroom,
        }
    }

    /// Frames held.
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    /// True when no frame is held.
    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    /// Forgets every frame.
    pub fn clear(&mut self) {
        self.frames.clear();
        self.used = 0;
    }

    /// Frame `i` (panics when out of range, like slice indexing).
    pub fn get(&self, i: usize) -> Received<'_> {
        let e = &self.frames[i];
        Received {
            data: &self.data[e.start..e.start + e.len],
            meta: &e.meta,
        }
    }

    /// Every frame, in the order received (per side, the wire's order).
    pub fn iter(&self) -> impl Iterator<Item = Received<'_>> {
        (0..self.len()).map(|i| self.get(i))
    }

    /// Lends frame `i` to `f` as a [`FrameMut`] (which may change its bytes,
    /// length and metadata), and keeps what `f` did.
    pub fn with_frame_mut<R>(&mut self, i: usize, f: impl FnOnce(&mut FrameMut<'_>) -> R) -> R {
        let e = self.frames[i];
        let buf = &mut self.data[e.start..e.start + e.cap];
        let mut fm = FrameMut::new(buf, e.len, e.meta);
        let r = f(&mut fm);
        let (len, meta) = (fm.len(), *fm.meta());
        let e = &mut self.frames[i];
        e.len = len;
        e.meta = meta;
        r
    }

    /// Room for a frame of `len` bytes: its start, or `None` when the
    /// buffer is full (an empty buffer grows instead).
    fn reserve(&mut self, len: usize) -> Option<usize> {
        let need = len + self.tailroom;
        if self.used + need > self.data.len() {
            if !self.frames.is_empty() {
                return None;
            }
            self.data.resize(need, 0);
        }
        Some(self.used)
    }

    fn commit(&mut self, start: usize, len: usize, meta: FrameMeta) {
        let cap = len + self.tailroom;
        // Bytes a handler may grow into read as zeroes.
        self.data[start + len..start + cap].fill(0);
        self.frames.push(Entry {
            start,
            len,
            cap,
            meta,
        });
        self.used = start + cap;
    }

    /// Copies a frame in, putting back the VLAN tag the kernel took out
    /// (so the bytes are what was on the wire) and moving the offload
    /// offsets with it. False when there is no room.
    fn push(&mut self, data: &[u8], vlan: Option<RingVlan>, mut meta: FrameMeta) -> bool {
        let extra = if vlan.is_some() && data.len() >= 12 {
            4
        } else {
            0
        };
        let Some(start) = self.reserve(data.len() + extra) else {
            return false;
        };
        let dst = &mut self.data[start..start + data.len() + extra];
        match vlan {
            Some(v) if extra == 4 => {
                dst[..12].copy_from_slice(&data[..12]);
                dst[12..16].copy_from_slice(&v.to_bytes());
                dst[16..].copy_from_slice(&data[12..]);
                tag_shift(&mut meta);
            }
            _ => dst.copy_from_slice(data),
        }
        self.commit(start, data.len() + extra, meta);
        true
    }
}

/// Where a frame lent by [`Bridge::forward_turn`] lies.
#[derive(Clone, Copy, Debug)]
enum Lent {
    /// In ring slot `slot` of the batch, at `start` of its area.
    Slot {
        slot: usize,
        start: usize,
        len: usize,
        offload: Offload,
    },
    /// Frame `j` of the spill buffer.
    Spill(usize),
}

/// What became of a frame read whole from the socket.
enum Spill {
    /// It is the buffer's last frame; this many bytes were read (before a
    /// VLAN tag was put back).
    Taken(usize),
    /// No room in the buffer: leave it (and the rest of the batch) for the
    /// next turn.
    Full,
    /// The whole frame could not be had (the kernel could not queue it).
    Lost,
}

/// Readies a frame for handling in place in its ring slot's `area`, where
/// it lies at `data`, `len` bytes long: a VLAN tag the kernel took out
/// goes back after the MAC addresses (moving them 4 bytes towards the
/// slot start, over the offload header already read), and the `tailroom`
/// bytes after the frame are zeroed for a handler to grow into. Returns
/// the frame's start and length in the area, or `None` (with the area
/// untouched) when the slot has not that room.
fn place_in_slot(
    area: &mut [u8],
    data: usize,
    len: usize,
    vlan: Option<RingVlan>,
    tailroom: usize,
) -> Option<(usize, usize)> {
    let tag = vlan.filter(|_| len >= 12);
    let start = match tag {
        Some(_) => data.checked_sub(4)?,
        None => data,
    };
    let flen = len + if tag.is_some() { 4 } else { 0 };
    let end = start.checked_add(flen)?.checked_add(tailroom)?;
    if end > area.len() || data.checked_add(len).is_none_or(|e| e > area.len()) {
        return None;
    }
    if let Some(v) = tag {
        area.copy_within(data..data + 12, start);
        area[start + 12..start + 16].copy_from_slice(&v.to_bytes());
    }
    area[start + flen..end].fill(0);
    Some((start, flen))
}

/// Reads a frame that did not fit its ring slot ([`SlotInfo::copied`])
/// straight into `buf`: the offload header apart, the VLAN tag's 4 bytes
/// left free after the MAC addresses.
fn spill_copied(
    reader: &FullReader<'_>,
    info: &SlotInfo,
    vnet_on: bool,
    buf: &mut RecvBuf,
    mut meta: FrameMeta,
) -> Result<Spill> {
    let need = info.len as usize + 4;
    let Some(start) = buf.reserve(need) else {
        return Ok(Spill::Full);
    };
    let mut hdr = [0u8; 10];
    let hdr_len = if vnet_on { 10 } else { 0 };
    let got = {
        let dst = &mut buf.data[start..start + need];
        let (head, rest) = dst.split_at_mut(12.min(need));
        let skip = 4.min(rest.len());
        let keep = rest.len() - skip;
        let tail = if info.vlan.is_some() {
            &mut rest[skip..]
        } else {
            &mut rest[..keep]
        };
        let mut parts: [&mut [u8]; 3] = [&mut hdr[..hdr_len], head, tail];
        reader.recv_full_parts(&mut parts)?
    };
    let Some((n, _)) = got.filter(|&(n, full)| n == full && n >= hdr_len) else {
        return Ok(Spill::Lost);
    };
    let read = n - hdr_len;
    let mut len = read;
    meta.offload = if vnet_on {
        offload_of(Some(VnetHdr::parse(&hdr)))
    } else {
        Offload::default()
    };
    meta.wire_len = len as u32;
    if let Some(v) = info.vlan
        && len >= 12
    {
        buf.data[start + 12..start + 16].copy_from_slice(&v.to_bytes());
        tag_shift(&mut meta);
        len += 4;
    }
    buf.commit(start, len, meta);
    Ok(Spill::Taken(read))
}

/// Sends `frames` out of `port` (side `to`), counting into `delta`;
/// `vnet` is scratch for the offload headers.
fn send_on(
    port: &mut Port,
    delta: &mut Counters,
    vnet: &mut Vec<[u8; 10]>,
    to: Side,
    frames: &[OutFrame<'_>],
) -> Result<SendReport> {
    let with_hdr = port.tx.vnet_hdr();
    let limit = port.info.mtu as usize + 14;
    vnet.clear();
    for f in frames {
        let tagged = f.bytes.len() >= 14
            && matches!([f.bytes[12], f.bytes[13]], [0x81, 0x00] | [0x88, 0xa8]);
        if f.bytes.len() > limit + if tagged { 4 } else { 0 } {
            delta.oversize += 1;
        }
        vnet.push(if with_hdr {
            vnet_bytes(&f.offload)
        } else {
            [0; 10]
        });
    }
    let msgs: Vec<(&[u8], &[u8])> = frames
        .iter()
        .zip(vnet.iter())
        .map(|(f, h)| (if with_hdr { &h[..] } else { &[][..] }, f.bytes))
        .collect();
    let r = port.tx.send(&msgs)?;
    let c = delta.side_mut(to);
    c.frames_out += r.sent;
    c.bytes_out += r.bytes;
    delta.send_failures += r.failed;
    Ok(r)
}

/// Moves a frame's offload offsets and length past a VLAN tag put back
/// after its MAC addresses.
fn tag_shift(meta: &mut FrameMeta) {
    let o = &mut meta.offload;
    if o.csum_partial {
        o.csum_start = o.csum_start.saturating_add(4);
    }
    if o.hdr_len != 0 {
        o.hdr_len = o.hdr_len.saturating_add(4);
    }
    meta.wire_len = meta.wire_len.saturating_add(4);
}

/// A frame to send: its bytes and the offload state to send it with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutFrame<'a> {
    /// The frame, from the Ethernet header.
    pub bytes: &'a [u8],
    /// Offload state (default: an ordinary frame with a full checksum).
    pub offload: Offload,
}

impl<'a> OutFrame<'a> {
    /// An ordinary frame.
    pub fn plain(bytes: &'a [u8]) -> OutFrame<'a> {
        OutFrame {
            bytes,
            offload: Offload::default(),
        }
    }
}

/// The `virtio_net_hdr` for a frame's offload state.
fn vnet_bytes(o: &Offload) -> [u8; 10] {
    VnetHdr {
        flags: u8::from(o.csum_partial),
        gso_type: o.gso_type,
        hdr_len: o.hdr_len,
        gso_size: o.gso_size,
        csum_start: if o.csum_partial { o.csum_start } else { 0 },
        csum_offset: if o.csum_partial { o.csum_offset } else { 0 },
    }
    .to_bytes()
}

fn offload_of(v: Option<VnetHdr>) -> Offload {
    match v {
        None => Offload::default(),
        Some(h) => Offload {
            gso_type: h.gso_type,
            gso_size: h.gso_size,
            hdr_len: h.hdr_len,
            csum_partial: h.flags & 1 != 0,
            csum_start: h.csum_start,
            csum_offset: h.csum_offset,
        },
    }
}

/// Counts of a send: as the kernel took them.
pub use sluice_linux::SendReport;

#[derive(Debug)]
enum Rx {
    V2(RxPort),
    V3(Capture),
    /// Not received from ([`BridgeConfig::only`]).
    Off,
}

impl Rx {
    fn ready(&self) -> bool {
        match self {
            Rx::V2(p) => p.ready(),
            Rx::V3(c) => c.has_ready_block(),
            Rx::Off => false,
        }
    }

    fn stop_intake(&mut self) -> Result<()> {
        match self {
            Rx::V2(p) => p.stop_intake()?,
            Rx::V3(c) => {
                c.stop_intake()?;
            }
            Rx::Off => {}
        }
        Ok(())
    }

    fn stats(&mut self) -> Result<Stats> {
        Ok(match self {
            Rx::V2(p) => p.stats()?,
            Rx::V3(c) => c.stats()?,
            Rx::Off => Stats::default(),
        })
    }

    fn check_error(&self) -> Result<()> {
        match self {
            Rx::V2(p) => p.check_error()?,
            Rx::V3(c) => c.check_error()?,
            Rx::Off => {}
        }
        Ok(())
    }
}

#[derive(Debug)]
struct Port {
    rx: Rx,
    tx: VnetTx,
    info: PortInfo,
    kernel_drops: u64,
}

impl Port {
    /// What to wait on for input: the ring, or, on a side not received
    /// from, the sending socket (it never receives, but reports the
    /// interface going away).
    fn poll_fd(&self) -> BorrowedFd<'_> {
        match &self.rx {
            Rx::V2(p) => p.as_fd(),
            Rx::V3(c) => c.as_fd(),
            Rx::Off => self.tx.as_fd(),
        }
    }

    fn check_error(&self) -> Result<()> {
        self.rx.check_error()?;
        if let Rx::Off = self.rx {
            self.tx.check_error()?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Running,
    Draining(Instant),
    Closed,
}

/// A bump in the wire between two interfaces (see the module
/// documentation).
#[derive(Debug)]
pub struct Bridge {
    ports: [Port; 2],
    interrupt: Arc<Interrupt>,
    counters: Arc<SharedCounters>,
    delta: Counters,
    state: State,
    spin: Duration,
    batch: usize,
    settle: Duration,
    report: StartReport,
    vnet: Vec<[u8; 10]>,
    lent: Vec<Lent>,
    turn: usize,
    last_stats: Instant,
}

fn idx(side: Side) -> usize {
    match side {
        Side::Upper => 0,
        Side::Lower => 1,
    }
}

const SIDES: [Side; 2] = [Side::Upper, Side::Lower];

impl Bridge {
    /// Opens both sides: a receive ring and a sender on each interface,
    /// promiscuous, our own transmissions never seen again. Needs
    /// CAP_NET_RAW.
    pub fn open(config: &BridgeConfig) -> Result<Bridge> {
        if config.upper == config.lower {
            return Err(Error::new(
                ErrorKind::Config,
                format!(
                    "upper and lower are the same interface {}: a bridge needs two",
                    config.upper
                ),
            ));
        }
        if config.batch == 0 {
            return Err(Error::new(
                ErrorKind::Config,
                "batch size must be at least 1",
            ));
        }
        let mut settle = Duration::from_millis(2);
        let open_port = |side: Side, name: &str| -> Result<Port> {
            let i = sluice_linux::iface::Interface::by_name(name)?;
            let rx = match config.rx {
                _ if config.only.is_some_and(|o| o != side) => Rx::Off,
                RxRing::V2(ring) => {
                    let mut c = RxPortConfig::new(name);
                    c.ring = ring;
                    c.promiscuous = config.promiscuous;
                    c.vnet_hdr = config.vnet_hdr;
                    Rx::V2(RxPort::open(&c)?)
                }
                RxRing::V3(ring) => {
                    let mut c = CaptureConfig::new(name);
                    c.ring = ring;
                    c.promiscuous = config.promiscuous;
                    c.ignore_outgoing = true;
                    c.vnet_hdr = config.vnet_hdr;
                    Rx::V3(Capture::open(&c)?)
                }
            };
            let tx = VnetTx::open(name, config.vnet_hdr, config.qdisc_bypass)?;
            Ok(Port {
                rx,
                tx,
                info: PortInfo {
                    side,
                    interface: name.to_owned(),
                    ifindex: i.index,
                    mtu: i.mtu,
                    hwaddr: i.hwaddr,
                    offloads: bridge_io::offloads(name).ok(),
                },
                kernel_drops: 0,
            })
        };
        let upper = open_port(Side::Upper, &config.upper)?;
        let lower = open_port(Side::Lower, &config.lower)?;
        if let RxRing::V3(r) = config.rx {
            settle = 2 * r.block_timeout + Duration::from_millis(2);
        }
        let report = StartReport {
            upper: upper.info.clone(),
            lower: lower.info.clone(),
            vnet_hdr: config.vnet_hdr,
        };
        Ok(Bridge {
            ports: [upper, lower],
            interrupt: Arc::new(Interrupt::new()?),
            counters: Arc::new(SharedCounters::default()),
            delta: Counters::default(),
            state: State::Running,
            spin: config.spin,
            batch: config.batch,
            settle,
            report,
            vnet: Vec::with_capacity(256),
            lent: Vec::with_capacity(256),
            turn: 0,
            last_stats: Instant::now(),
        })
    }

    /// What was found at start (MTUs, offloads).
    pub fn report(&self) -> &StartReport {
        &self.report
    }

    /// The interrupt that ends waits (trigger it from another thread or a
    /// signal handler).
    pub fn interrupt(&self) -> Arc<Interrupt> {
        Arc::clone(&self.interrupt)
    }

    /// Uses `interrupt` (shared with signal handlers, say) instead of the
    /// bridge's own to end waits.
    pub fn set_interrupt(&mut self, interrupt: Arc<Interrupt>) {
        self.interrupt = interrupt;
    }

    /// The live counters (frames and bytes per side, send failures,
    /// oversize, malformed, kernel drops), updated once per batch.
    pub fn counters(&self) -> Arc<SharedCounters> {
        Arc::clone(&self.counters)
    }

    /// Adds to `counters` from now on instead (the two directions of a
    /// [`super::PerDirection`] share theirs).
    pub fn set_counters(&mut self, counters: Arc<SharedCounters>) {
        self.counters = counters;
    }

    /// The descriptors to wait on for input: upper, lower, the interrupt.
    pub fn poll_fds(&self) -> [BorrowedFd<'_>; 3] {
        [
            self.ports[0].poll_fd(),
            self.ports[1].poll_fd(),
            self.interrupt.as_fd(),
        ]
    }

    /// Whether a frame waits on either side.
    pub fn ready(&self) -> bool {
        self.ports.iter().any(|p| p.rx.ready())
    }

    /// The interface of one side.
    pub fn interface(&self, side: Side) -> &str {
        &self.ports[idx(side)].info.interface
    }

    /// True once [`Bridge::shutdown`] has been called.
    pub fn is_shutting_down(&self) -> bool {
        self.state != State::Running
    }

    /// True once everything received before [`Bridge::shutdown`] has been
    /// handed over.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Stops intake on both sides (a reject-all filter in the kernel):
    /// what the rings hold is still handed over by [`Bridge::recv`] /
    /// [`Bridge::try_recv`], which then say there is no more.
    pub fn shutdown(&mut self) -> Result<()> {
        if self.state == State::Running {
            for p in &mut self.ports {
                p.rx.stop_intake()?;
            }
            self.state = State::Draining(Instant::now());
        }
        Ok(())
    }

    /// Reads what is ready on both sides into `buf` (cleared first), at most
    /// the configured batch per side, without waiting. Returns the number
    /// of frames.
    pub fn try_recv(&mut self, buf: &mut RecvBuf) -> Result<usize> {
        buf.clear();
        if self.state == State::Closed {
            return Ok(0);
        }
        let first = self.turn;
        self.turn ^= 1;
        for k in 0..2 {
            let s = (first + k) % 2;
            self.gather(s, buf)?;
        }
        self.end_turn(buf.len())?;
        Ok(buf.len())
    }

    /// Whether [`Bridge::forward_turn`] can lend frames in place (both
    /// sides on TPACKET_V2 rings).
    pub fn can_forward_in_place(&self) -> bool {
        self.ports
            .iter()
            .all(|p| matches!(p.rx, Rx::V2(_) | Rx::Off))
    }

    /// One turn of a pass-through loop without a copy: for each side in
    /// turn, lends up to the batch size of ready frames to `f` *in place in
    /// the receive ring* (as a [`FrameMut`] with `tailroom` bytes of zeroes
    /// after it), sends those for which `f` returns true out of the other
    /// side in one batch, in their order, then hands the slots back to the
    /// kernel. Frames larger than a slot (GSO) and frames a slot has no
    /// room for are read into `spill` first. Returns the number of frames
    /// taken (0 once closed, as [`Bridge::try_recv`]). Needs TPACKET_V2
    /// rings on both sides ([`Bridge::can_forward_in_place`]); with other
    /// rings it takes nothing.
    pub fn forward_turn(
        &mut self,
        spill: &mut RecvBuf,
        tailroom: usize,
        mut f: impl FnMut(&mut FrameMut<'_>) -> bool,
    ) -> Result<usize> {
        if self.state == State::Closed {
            return Ok(0);
        }
        let first = self.turn;
        self.turn ^= 1;
        let mut n = 0;
        for k in 0..2 {
            n += self.forward_side((first + k) % 2, spill, tailroom, &mut f)?;
        }
        self.end_turn(n)?;
        Ok(n)
    }

    /// What every turn ends with: the kernel's drop counters once a second,
    /// the end of a drain, the counters published.
    fn end_turn(&mut self, got: usize) -> Result<()> {
        if self.last_stats.elapsed() >= Duration::from_secs(1) {
            self.refresh_stats()?;
        }
        if got == 0
            && let State::Draining(since) = self.state
            && since.elapsed() >= self.settle
            && !self.ready()
        {
            self.refresh_stats()?;
            self.state = State::Closed;
        }
        self.flush_counters();
        Ok(())
    }

    fn forward_side(
        &mut self,
        s: usize,
        spill: &mut RecvBuf,
        tailroom: usize,
        f: &mut impl FnMut(&mut FrameMut<'_>) -> bool,
    ) -> Result<usize> {
        let side = SIDES[s];
        let max = self.batch;
        let Bridge {
            ports,
            delta,
            vnet,
            lent,
            ..
        } = self;
        let [upper, lower] = ports;
        let (src, dst) = if s == 0 {
            (upper, lower)
        } else {
            (lower, upper)
        };
        let Rx::V2(p) = &mut src.rx else {
            return Ok(0);
        };
        let vnet_on = p.vnet_hdr();
        let base = FrameMeta {
            side,
            ts_ns: 0,
            wire_len: 0,
            linktype: LinkType::ETHERNET,
            ifindex: src.info.ifindex,
            vlan: None,
            offload: Offload::default(),
            mark: 0,
        };
        let (ring, reader) = p.split();
        let mut batch = ring.batch(max);
        spill.clear();
        lent.clear();
        let (mut taken, mut bytes) = (0u64, 0u64);
        let mut i = 0;
        while i < batch.len() {
            let k = i;
            i += 1;
            let info = match batch.info(k) {
                Ok(info) => info,
                Err(_) => {
                    delta.malformed += 1;
                    continue;
                }
            };
            let mut meta = base;
            meta.ts_ns = info.ts_ns;
            meta.wire_len = info.len;
            if info.truncated() {
                delta.dropped_kernel += 1;
                delta.oversize += 1;
                continue;
            }
            let len = if info.copied() {
                info.len as usize
            } else {
                info.snaplen as usize
            };
            let placed = if info.copied() {
                None
            } else {
                place_in_slot(batch.area_mut(k), info.data, len, info.vlan, tailroom)
            };
            let Some((start, flen)) = placed else {
                let got = if info.copied() {
                    spill_copied(&reader, &info, vnet_on, spill, meta)?
                } else {
                    meta.offload = offload_of(info.vnet);
                    let area = batch.area(k);
                    let data = &area[info.data..info.data + len];
                    if spill.push(data, info.vlan, meta) {
                        Spill::Taken(len)
                    } else {
                        Spill::Full
                    }
                };
                match got {
                    Spill::Full => {
                        // Taken again next turn, in order.
                        batch.truncate(k);
                        break;
                    }
                    Spill::Lost => {
                        delta.dropped_kernel += 1;
                        delta.oversize += 1;
                    }
                    Spill::Taken(got) => {
                        taken += 1;
                        bytes += got as u64;
                        if got < 14 {
                            delta.malformed += 1;
                        }
                        let j = spill.len() - 1;
                        if spill.with_frame_mut(j, &mut *f) {
                            lent.push(Lent::Spill(j));
                        }
                    }
                }
                continue;
            };
            taken += 1;
            bytes += len as u64;
            if len < 14 {
                delta.malformed += 1;
            }
            meta.offload = offload_of(info.vnet);
            if flen != len {
                tag_shift(&mut meta);
            }
            let area = batch.area_mut(k);
            let mut fm = FrameMut::new(&mut area[start..start + flen + tailroom], flen, meta);
            if f(&mut fm) {
                lent.push(Lent::Slot {
                    slot: k,
                    start,
                    len: fm.len(),
                    offload: fm.meta().offload,
                });
            }
        }
        let c = delta.side_mut(side);
        c.frames_in += taken;
        c.bytes_in += bytes;
        if !lent.is_empty() {
            let frames: Vec<OutFrame<'_>> = lent
                .iter()
                .map(|l| match *l {
                    Lent::Slot {
                        slot,
                        start,
                        len,
                        offload,
                    } => OutFrame {
                        bytes: &batch.area(slot)[start..start + len],
                        offload,
                    },
                    Lent::Spill(j) => spill.get(j).out(),
                })
                .collect();
            send_on(dst, delta, vnet, side.other(), &frames)?;
        }
        Ok(taken as usize)
    }

    /// Reads the kernel's drop counters now (also done once a second).
    pub fn refresh_stats(&mut self) -> Result<()> {
        self.last_stats = Instant::now();
        for p in &mut self.ports {
            let s = p.rx.stats()?;
            if s.drops > p.kernel_drops {
                self.delta.dropped_kernel += s.drops - p.kernel_drops;
                p.kernel_drops = s.drops;
            }
        }
        Ok(())
    }

    fn flush_counters(&mut self) {
        if self.delta != Counters::default() {
            self.counters.add(&self.delta);
            self.delta = Counters::default();
        }
    }

    fn gather(&mut self, s: usize, buf: &mut RecvBuf) -> Result<()> {
        let side = SIDES[s];
        let max = self.batch;
        let Bridge { ports, delta, .. } = self;
        let port = &mut ports[s];
        let mut meta = FrameMeta {
            side,
            ts_ns: 0,
            wire_len: 0,
            linktype: LinkType::ETHERNET,
            ifindex: port.info.ifindex,
            vlan: None,
            offload: Offload::default(),
            mark: 0,
        };
        let vnet_on = match &port.rx {
            Rx::V2(p) => p.vnet_hdr(),
            Rx::V3(_) | Rx::Off => false,
        };
        let mut taken = 0u64;
        let mut bytes = 0u64;
        match &mut port.rx {
            Rx::V2(p) => {
                let (ring, reader) = p.split();
                let mut batch = ring.batch(max);
                for i in 0..batch.len() {
                    let info = match batch.info(i) {
                        Ok(info) => info,
                        Err(_) => {
                            delta.malformed += 1;
                            continue;
                        }
                    };
                    meta.ts_ns = info.ts_ns;
                    meta.wire_len = info.len;
                    if info.copied() {
                        match spill_copied(&reader, &info, vnet_on, buf, meta)? {
                            Spill::Full => {
                                batch.truncate(i);
                                break;
                            }
                            Spill::Lost => {
                                // The whole frame could not be had: it is
                                // lost, and said so.
                                delta.dropped_kernel += 1;
                                delta.oversize += 1;
                            }
                            Spill::Taken(len) => {
                                taken += 1;
                                bytes += len as u64;
                                if len < 14 {
                                    delta.malformed += 1;
                                }
                            }
                        }
                        continue;
                    }
                    if info.truncated() {
                        delta.dropped_kernel += 1;
                        delta.oversize += 1;
                        continue;
                    }
                    let area = batch.area(i);
                    let data = &area[info.data..info.data + info.snaplen as usize];
                    meta.offload = offload_of(info.vnet);
                    if !buf.push(data, info.vlan, meta) {
                        batch.truncate(i);
                        break;
                    }
                    taken += 1;
                    bytes += data.len() as u64;
                    if data.len() < 14 {
                        delta.malformed += 1;
                    }
                }
            }
            Rx::V3(c) => {
                if let Some(block) = c.try_next_block() {
                    let frames = block.frames().map_err(|e| {
                        Error::with_source(ErrorKind::System, "reading a ring block", e)
                    })?;
                    for f in frames {
                        let f = match f {
                            Ok(f) => f,
                            Err(_) => {
                                delta.malformed += 1;
                                break;
                            }
                        };
                        meta.ts_ns = f.ts_ns;
                        meta.wire_len = f.origlen;
                        meta.offload = offload_of(f.vnet);
                        if f.caplen < f.origlen {
                            delta.dropped_kernel += 1;
                            delta.oversize += 1;
                            continue;
                        }
                        // A block is consumed whole: the buffer grows.
                        if !buf.push(f.data, f.vlan, meta) {
                            buf.data.resize(buf.data.len() * 2 + f.data.len(), 0);
                            buf.push(f.data, f.vlan, meta);
                        }
                        taken += 1;
                        bytes += f.data.len() as u64;
                        if f.data.len() < 14 {
                            delta.malformed += 1;
                        }
                    }
                }
            }
            Rx::Off => {}
        }
        let c = delta.side_mut(side);
        c.frames_in += taken;
        c.bytes_in += bytes;
        Ok(())
    }

    /// Waits up to `timeout` (forever with `None`; `Some(ZERO)` does not
    /// wait) for frames, reads them into `buf`, and says what happened.
    pub fn recv(&mut self, buf: &mut RecvBuf, timeout: Option<Duration>) -> Result<Recv> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let n = self.try_recv(buf)?;
            if n > 0 {
                return Ok(Recv::Frames(n));
            }
            if self.state == State::Closed {
                return Ok(Recv::Closed);
            }
            if !self.spin.is_zero() {
                let until = Instant::now() + self.spin;
                while Instant::now() < until && !self.ready() {
                    std::hint::spin_loop();
                }
                if self.ready() {
                    continue;
                }
            }
            let mut wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if let State::Draining(since) = self.state {
                let left = self.settle.saturating_sub(since.elapsed()) + Duration::from_millis(1);
                wait = Some(wait.map_or(left, |w| w.min(left)));
            }
            if wait == Some(Duration::ZERO) && deadline.is_some() {
                return Ok(Recv::Timeout);
            }
            let mut set = bridge_io::PollSet::new();
            let fds = self.poll_fds();
            for fd in fds {
                set.add(fd);
            }
            set.wait(wait)?;
            for s in 0..2 {
                if set.failed(s) && !self.ports[s].rx.ready() {
                    self.ports[s].check_error()?;
                }
            }
            if set.readable(2) {
                return Ok(Recv::Interrupted);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) && !self.ready() {
                return Ok(Recv::Timeout);
            }
        }
    }

    /// Sends `frames` out of one side, in order, in batches; GSO frames go
    /// out whole with their offload state. Frames longer than the side's
    /// MTU without GSO state are refused by the kernel and counted.
    pub fn send(&mut self, to: Side, frames: &[OutFrame<'_>]) -> Result<SendReport> {
        let Bridge {
            ports, vnet, delta, ..
        } = self;
        let r = send_on(&mut ports[idx(to)], delta, vnet, to, frames);
        self.flush_counters();
        r
    }

    /// Sends one frame to upper (delivers it to the host).
    pub fn send_upper(&mut self, frame: &[u8]) -> Result<SendReport> {
        self.send(Side::Upper, &[OutFrame::plain(frame)])
    }

    /// Sends one frame to lower (puts it on the network).
    pub fn send_lower(&mut self, frame: &[u8]) -> Result<SendReport> {
        self.send(Side::Lower, &[OutFrame::plain(frame)])
    }

    /// Sends a batch of frames to upper.
    pub fn send_upper_batch(&mut self, frames: &[OutFrame<'_>]) -> Result<SendReport> {
        self.send(Side::Upper, frames)
    }

    /// Sends a batch of frames to lower.
    pub fn send_lower_batch(&mut self, frames: &[OutFrame<'_>]) -> Result<SendReport> {
        self.send(Side::Lower, frames)
    }

    /// The spin time configured.
    pub fn spin(&self) -> Duration {
        self.spin
    }

    /// Checks both sides for a pending socket error (went down, went
    /// away).
    pub fn check_errors(&self) -> Result<()> {
        for p in &self.ports {
            p.check_error()?;
        }
        Ok(())
    }

    /// The kernel's counters of each side's receive socket.
    pub fn kernel_stats(&mut self) -> Result<[Stats; 2]> {
        Ok([self.ports[0].rx.stats()?, self.ports[1].rx.stats()?])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> FrameMeta {
        FrameMeta {
            side: Side::Upper,
            ts_ns: 1,
            wire_len: 60,
            linktype: LinkType::ETHERNET,
            ifindex: 1,
            vlan: None,
            offload: Offload {
                csum_partial: true,
                csum_start: 34,
                csum_offset: 16,
                hdr_len: 54,
                ..Offload::default()
            },
            mark: 0,
        }
    }

    #[test]
    fn vlan_tags_go_back_into_the_bytes() {
        let mut b = RecvBuf::new(0, 16);
        let frame: Vec<u8> = (0..60).collect();
        assert!(b.push(
            &frame,
            Some(RingVlan {
                tci: 0x0123,
                tpid: 0x8100
            }),
            meta()
        ));
        let r = b.get(0);
        assert_eq!(r.data.len(), 64);
        assert_eq!(&r.data[..12], &frame[..12]);
        assert_eq!(&r.data[12..16], &[0x81, 0x00, 0x01, 0x23]);
        assert_eq!(&r.data[16..], &frame[12..]);
        assert_eq!(r.meta.offload.csum_start, 38);
        assert_eq!(r.meta.offload.hdr_len, 58);
        assert_eq!(r.meta.wire_len, 64);
        assert_eq!(r.meta.vlan, None);
    }

    #[test]
    fn frames_grow_into_the_tailroom_and_keep_changes() {
        let mut b = RecvBuf::new(0, 8);
        assert!(b.push(&[1, 2, 3], None, meta()));
        assert!(b.push(&[4, 5], None, meta()));
        b.with_frame_mut(0, |f| {
            assert_eq!(f.capacity(), 11);
            assert_eq!(f.data(), &[1, 2, 3]);
            f.set_len(5).unwrap();
            f.data_mut()[4] = 9;
            f.meta_mut().offload = Offload::default();
        });
        assert_eq!(b.get(0).data, &[1, 2, 3, 0, 9]);
        assert_eq!(b.get(0).meta.offload, Offload::default());
        assert_eq!(b.get(1).data, &[4, 5]);
        b.clear();
        assert!(b.is_empty());
    }

    #[test]
    fn a_full_buffer_refuses_and_an_empty_one_grows() {
        let mut b = RecvBuf::new(0, 0);
        let cap = b.data.len();
        let big = vec![7u8; cap - 10];
        assert!(b.push(&big, None, meta()));
        assert!(!b.push(&[0; 20], None, meta()));
        b.clear();
        let huge = vec![1u8; cap + 100];
        assert!(b.push(&huge, None, meta()));
        assert_eq!(b.get(0).data.len(), cap + 100);
    }

    fn area() -> Vec<u8> {
        (0..200).map(|i| i as u8).collect()
    }

    #[test]
    fn in_place_untagged_frames_stay_and_get_zeroed_tailroom() {
        let mut a = area();
        assert_eq!(place_in_slot(&mut a, 80, 60, None, 32), Some((80, 60)));
        let before = area();
        assert_eq!(&a[..140], &before[..140]);
        assert!(a[140..172].iter().all(|&b| b == 0));
        assert_eq!(&a[172..], &before[172..]);
    }

    #[test]
    fn in_place_tags_go_back_after_the_mac_addresses() {
        let mut a = area();
        let v = RingVlan {
            tci: 0x2005,
            tpid: 0x8100,
        };
        assert_eq!(place_in_slot(&mut a, 80, 60, Some(v), 16), Some((76, 64)));
        let before = area();
        assert_eq!(&a[76..88], &before[80..92], "MAC addresses moved");
        assert_eq!(&a[88..92], &[0x81, 0x00, 0x20, 0x05]);
        assert_eq!(&a[92..140], &before[92..140], "the rest stays");
        assert!(a[140..156].iter().all(|&b| b == 0));
        assert_eq!(&a[..76], &before[..76]);
        // A runt cannot hold a tag: it is left as it is.
        let mut a = area();
        assert_eq!(place_in_slot(&mut a, 80, 10, Some(v), 0), Some((80, 10)));
        assert_eq!(a, area());
    }

    #[test]
    fn in_place_refuses_slots_without_room_and_leaves_them_alone() {
        let v = RingVlan {
            tci: 1,
            tpid: 0x8100,
        };
        for (data, len, vlan, tail) in [
            (80, 100, None, 32),
            (2, 60, Some(v), 0),
            (80, 121, None, 0),
            (80, 60, None, usize::MAX),
        ] {
            let mut a = area();
            assert_eq!(place_in_slot(&mut a, data, len, vlan, tail), None);
            assert_eq!(a, area());
        }
    }

    #[test]
    fn offload_state_round_trips_through_the_vnet_header() {
        let o = Offload {
            gso_type: 1,
            gso_size: 1448,
            hdr_len: 66,
            csum_partial: true,
            csum_start: 34,
            csum_offset: 16,
        };
        let b = vnet_bytes(&o);
        assert_eq!(offload_of(Some(VnetHdr::parse(&b))), o);
        assert_eq!(vnet_bytes(&Offload::default()), [0; 10]);
    }
}
