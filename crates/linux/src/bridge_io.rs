//! Sockets for a bump in the wire: a TPACKET_V2 receive ring whose slots
//! are lent (mutably) in batches, a sender that writes a `virtio_net_hdr`
//! in front of each frame, a `timerfd`, a small poll set, and what the
//! forwarding thread asks of the scheduler (a short slice, or the
//! real-time class).
//!
//! # Why TPACKET_V2 here
//!
//! A TPACKET_V3 ring hands frames over a block at a time: a block is
//! given to user space when it is full or when its timeout (at least 1 ms)
//! expires, so on a quiet link every frame waits for the timeout. A bridge
//! is judged by the delay it adds, so its receive ring is TPACKET_V2: each
//! slot is handed over (and the reader woken) as soon as the kernel has
//! written it. The measurements behind this choice are in the wire mode
//! documentation of `sluice-redirect`.
//!
//! # Frames larger than a slot
//!
//! With offloads on, veth and many NICs hand over GSO/GRO frames of up to
//! 64 KiB. Slots are sized for the MTU; a larger frame is cut to the slot,
//! and with `PACKET_COPY_THRESH` the kernel also queues the whole frame on
//! the socket and marks the slot `TP_STATUS_COPY`. [`RxPort::recv_full`]
//! (or [`FullReader::recv_full_parts`], which scatters it straight where
//! the caller wants it) reads it, in ring order, so order is kept and
//! nothing is cut. A frame
//! the kernel could not queue (socket buffer full) is reported as
//! truncated ([`SlotInfo::truncated`]), never passed off as whole.
//!
//! # Offload metadata
//!
//! With `PACKET_VNET_HDR` each received frame is preceded by a
//! `virtio_net_hdr` (GSO type and size, partial checksum offsets), and each
//! frame sent must be. [`VnetTx::send`] takes (header, frame) pairs and
//! hands them to `sendmmsg` as two pieces, so a GSO frame goes out whole
//! with its segmentation left to the kernel or the device.
//!
//! # Memory ordering
//!
//! As for the V3 ring (see the crate documentation): a slot's `tp_status`
//! word is loaded with Acquire before the slot is read, and stored
//! `TP_STATUS_KERNEL` with Release when the batch that lent it is dropped.
//! The slices lent cover the slot *after* its header, so no slice ever
//! aliases a status word.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::block::{PacketType, VNET_HDR_LEN, Vlan, VnetHdr, status};
use crate::capture::{ETH_P_ALL, MAX_SNAPLEN, Stats, effective_program, interface_error};
use crate::error::{Error, ErrorKind, Result, needs_net_raw};
use crate::iface;
use crate::sys::{self, Mmap};
use crate::tx::SendReport;

const TPACKET_V2: libc::c_int = 1;

/// Layout of a TPACKET_V2 slot header (`struct tpacket2_hdr`) and the
/// `sockaddr_ll` after it.
pub mod v2 {
    /// `tp_status`.
    pub const STATUS: usize = 0;
    /// `tp_len`: length on the wire.
    pub const LEN: usize = 4;
    /// `tp_snaplen`: bytes in the slot.
    pub const SNAPLEN: usize = 8;
    /// `tp_mac` (u16): from the slot start to the link-layer header.
    pub const MAC: usize = 12;
    /// `tp_net` (u16): from the slot start to the network header.
    pub const NET: usize = 14;
    /// `tp_sec`.
    pub const SEC: usize = 16;
    /// `tp_nsec`.
    pub const NSEC: usize = 20;
    /// `tp_vlan_tci` (u16).
    pub const VLAN_TCI: usize = 24;
    /// `tp_vlan_tpid` (u16).
    pub const VLAN_TPID: usize = 26;
    /// Where the `sockaddr_ll` starts.
    pub const SLL: usize = 32;
    /// `TPACKET2_HDRLEN`: header plus address. The area lent to user space
    /// starts here.
    pub const HDRLEN: usize = SLL + 20;
}

/// `TP_STATUS_COPY`: the frame did not fit the slot; the whole frame is
/// queued on the socket.
const STATUS_COPY: u32 = status::COPY;

/// What was wrong with a slot the kernel handed over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotError {
    /// `tp_mac` points into the header (or leaves no room for the
    /// `virtio_net_hdr`) or past the slot.
    BadMac(u16),
    /// `tp_net` points before `tp_mac` or past the slot.
    BadNet(u16),
    /// `tp_mac + tp_snaplen` runs past the slot.
    BadSnaplen(u32),
}

impl std::fmt::Display for SlotError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SlotError::BadMac(v) => write!(f, "ring slot tp_mac {v} outside the slot"),
            SlotError::BadNet(v) => write!(f, "ring slot tp_net {v} outside the frame"),
            SlotError::BadSnaplen(v) => write!(f, "ring slot tp_snaplen {v} runs past the slot"),
        }
    }
}

impl std::error::Error for SlotError {}

/// One received frame as its slot describes it. Offsets are into the
/// *area* of the slot: the bytes after the slot header, as
/// [`RxBatch::area`] lends them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlotInfo {
    /// Timestamp, ns since the epoch.
    pub ts_ns: u64,
    /// Length of the frame as it was (`tp_len`).
    pub len: u32,
    /// Bytes of it in the slot (`tp_snaplen`).
    pub snaplen: u32,
    /// Where the frame starts in the area.
    pub data: usize,
    /// Offset of the network header from the frame start.
    pub net_offset: u16,
    /// The VLAN tag the kernel took out of the frame.
    pub vlan: Option<Vlan>,
    /// `tp_status`.
    pub status: u32,
    /// Direction and addressing.
    pub pkttype: PacketType,
    /// Interface index.
    pub ifindex: u32,
    /// EtherType (host order) as the kernel saw it (after the VLAN tag).
    pub protocol: u16,
    /// Device type (`ARPHRD_*`).
    pub hatype: u16,
    /// The `virtio_net_hdr` before the frame (with `PACKET_VNET_HDR`).
    pub vnet: Option<VnetHdr>,
}

impl SlotInfo {
    /// The frame did not fit the slot and the whole of it waits on the
    /// socket: read it with [`RxPort::recv_full`].
    pub fn copied(&self) -> bool {
        self.status & STATUS_COPY != 0
    }

    /// The slot holds less than the frame and nothing else has the rest.
    pub fn truncated(&self) -> bool {
        !self.copied() && self.snaplen < self.len
    }
}

fn rd_u16(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn rd_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Reads a TPACKET_V2 slot (header and data, the whole slot), checking
/// every offset the kernel wrote against the slot. Pure: no system call.
pub fn parse_slot(slot: &[u8], vnet_hdr: bool) -> Result<SlotInfo, SlotError> {
    if slot.len() < v2::HDRLEN {
        return Err(SlotError::BadMac(0));
    }
    let mac = rd_u16(slot, v2::MAC);
    let net = rd_u16(slot, v2::NET);
    let snaplen = rd_u32(slot, v2::SNAPLEN);
    let min_mac = v2::HDRLEN + if vnet_hdr { VNET_HDR_LEN } else { 0 };
    let m = mac as usize;
    if m < min_mac || m > slot.len() {
        return Err(SlotError::BadMac(mac));
    }
    if (net as usize) < m || net as usize > slot.len() {
        return Err(SlotError::BadNet(net));
    }
    if m.checked_add(snaplen as usize)
        .is_none_or(|end| end > slot.len())
    {
        return Err(SlotError::BadSnaplen(snaplen));
    }
    let st = rd_u32(slot, v2::STATUS);
    let tci = rd_u16(slot, v2::VLAN_TCI);
    let tpid = rd_u16(slot, v2::VLAN_TPID);
    let vlan = (st & status::VLAN_VALID != 0 || tci != 0).then_some(Vlan {
        tci,
        tpid: if st & status::VLAN_TPID_VALID != 0 || tpid != 0 {
            tpid
        } else {
            0x8100
        },
    });
    let vnet = vnet_hdr.then(|| {
        let mut v = [0u8; VNET_HDR_LEN];
        v.copy_from_slice(&slot[m - VNET_HDR_LEN..m]);
        VnetHdr::parse(&v)
    });
    let sll = v2::SLL;
    Ok(SlotInfo {
        ts_ns: u64::from(rd_u32(slot, v2::SEC)) * 1_000_000_000 + u64::from(rd_u32(slot, v2::NSEC)),
        len: rd_u32(slot, v2::LEN),
        snaplen,
        data: m - v2::HDRLEN,
        net_offset: net - mac,
        vlan,
        status: st,
        pkttype: PacketType::from_raw(slot[sll + 10]),
        ifindex: rd_u32(slot, sll + 4),
        protocol: u16::from_be_bytes([slot[sll + 2], slot[sll + 3]]),
        hatype: rd_u16(slot, sll + 8),
        vnet,
    })
}

/// Geometry of a TPACKET_V2 receive ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingV2Config {
    /// Bytes per slot: a power of two of at least 256. Frames that do not
    /// fit are read whole from the socket (see the module documentation).
    pub frame_size: usize,
    /// Number of slots (rounded up to fill whole blocks).
    pub frame_count: usize,
    /// Bytes kept free in front of each frame (`PACKET_RESERVE`), room for
    /// a handler to prepend headers (a VLAN tag put back needs 4).
    pub reserve: u32,
}

impl RingV2Config {
    /// 2 KiB slots (frames up to 1 522 bytes with 64 bytes of headroom and
    /// the offload header), 4 096 of them: 8 MiB.
    pub const DEFAULT: RingV2Config = RingV2Config {
        frame_size: 2048,
        frame_count: 4096,
        reserve: 64,
    };

    /// The default ring with slots large enough for frames of `mtu` bytes
    /// (plus link header, a VLAN tag, headroom and the slot header).
    pub fn for_mtu(mtu: u32) -> RingV2Config {
        let need = mtu as usize + 18 + 4 + 128 + RingV2Config::DEFAULT.reserve as usize;
        let frame_size = need
            .next_power_of_two()
            .max(RingV2Config::DEFAULT.frame_size);
        let total = RingV2Config::DEFAULT.frame_size * RingV2Config::DEFAULT.frame_count;
        RingV2Config {
            frame_size,
            frame_count: (total / frame_size).max(256),
            ..RingV2Config::DEFAULT
        }
    }

    fn block_size(&self) -> usize {
        self.frame_size.max(128 << 10).max(sys::page_size())
    }

    fn per_block(&self) -> usize {
        self.block_size() / self.frame_size
    }

    fn block_count(&self) -> usize {
        self.frame_count.div_ceil(self.per_block()).max(1)
    }

    /// Slots actually made (whole blocks).
    pub fn slots(&self) -> usize {
        self.block_count() * self.per_block()
    }

    /// Total bytes of the ring.
    pub fn total_size(&self) -> usize {
        self.block_count() * self.block_size()
    }

    /// Checks the geometry; `Err` says what is wrong.
    pub fn validate(&self) -> std::result::Result<(), String> {
        if !self.frame_size.is_power_of_two() || self.frame_size < 256 {
            return Err(format!(
                "slot size {} is not a power of two of at least 256",
                self.frame_size
            ));
        }
        if self.frame_count == 0 || u32::try_from(self.slots()).is_err() {
            return Err(format!("slot count {} is out of range", self.frame_count));
        }
        if self.reserve as usize + v2::HDRLEN + 64 + VNET_HDR_LEN > self.frame_size {
            return Err(format!(
                "reserve {} leaves no room in {}-byte slots",
                self.reserve, self.frame_size
            ));
        }
        Ok(())
    }
}

impl Default for RingV2Config {
    fn default() -> Self {
        RingV2Config::DEFAULT
    }
}

/// A mapped TPACKET_V2 receive ring.
#[derive(Debug)]
pub struct RxRingV2 {
    map: Mmap,
    config: RingV2Config,
    slots: usize,
    /// Bytes per block and slots per block, worked out once (the block
    /// size asks for the page size, a system call).
    block_size: usize,
    per_block: usize,
    head: usize,
    vnet_hdr: bool,
    infos: Vec<std::result::Result<SlotInfo, SlotError>>,
}

impl RxRingV2 {
    fn new(map: Mmap, config: RingV2Config, vnet_hdr: bool) -> RxRingV2 {
        assert_eq!(map.len(), config.total_size(), "V2 ring of the wrong size");
        RxRingV2 {
            map,
            config,
            slots: config.slots(),
            block_size: config.block_size(),
            per_block: config.per_block(),
            head: 0,
            vnet_hdr,
            infos: Vec::with_capacity(256),
        }
    }

    fn offset(&self, i: usize) -> usize {
        (i / self.per_block) * self.block_size + (i % self.per_block) * self.config.frame_size
    }

    fn status(&self, i: usize) -> u32 {
        // SAFETY: the status word of slot `i`: inside the mapping, 4-byte
        // aligned (slots are 16-byte multiples in page-aligned blocks).
        // Lent slices never cover a status word (they start after the slot
        // header), and this process writes the word only with
        // store_release (RxBatch::drop).
        unsafe { self.map.load_acquire(self.offset(i) + v2::STATUS) }
    }

    /// Whether the next slot belongs to user space.
    pub fn ready(&self) -> bool {
        self.status(self.head) & status::USER != 0
    }

    /// The geometry.
    pub fn config(&self) -> RingV2Config {
        self.config
    }

    /// Number of slots.
    pub fn slots(&self) -> usize {
        self.slots
    }

    /// Lends up to `max` consecutive ready slots (possibly none), in ring
    /// order. They go back to the kernel when the batch is dropped.
    pub fn batch(&mut self, max: usize) -> RxBatch<'_> {
        self.infos.clear();
        let max = max.min(self.slots);
        let mut i = self.head;
        while self.infos.len() < max && self.status(i) & status::USER != 0 {
            // SAFETY: slot `i` is inside the mapping and its status said
            // TP_STATUS_USER (Acquire load just above): the kernel does not
            // write it until RxBatch::drop hands it back after every borrow
            // of the batch has ended. This shared read of the whole slot
            // (status word included) ends before any `&mut` of the area is
            // made.
            let slot = unsafe { self.map.slice(self.offset(i), self.config.frame_size) };
            let info = parse_slot(slot, self.vnet_hdr);
            self.infos.push(info);
            i = (i + 1) % self.slots;
        }
        let count = self.infos.len();
        RxBatch { ring: self, count }
    }
}

/// Consecutive ring slots lent to user space. Each slot's *area* (the
/// bytes after the slot header) may be read and written; dropping the
/// batch hands every slot back to the kernel.
#[derive(Debug)]
pub struct RxBatch<'ring> {
    ring: &'ring mut RxRingV2,
    count: usize,
}

impl RxBatch<'_> {
    /// Number of slots lent.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when no slot was ready.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Keeps only the first `n` slots in the batch: the others are not
    /// handed back on drop and the next [`RxRingV2::batch`] lends them
    /// again (for a reader whose buffer filled up).
    pub fn truncate(&mut self, n: usize) {
        self.count = self.count.min(n);
    }

    /// What the kernel wrote about slot `i` (checked), or why it is
    /// unusable.
    pub fn info(&self, i: usize) -> std::result::Result<SlotInfo, SlotError> {
        self.ring.infos[i]
    }

    fn area_range(&self, i: usize) -> (usize, usize) {
        assert!(i < self.count, "slot {i} outside a batch of {}", self.count);
        let slot = (self.ring.head + i) % self.ring.slots;
        (
            self.ring.offset(slot) + v2::HDRLEN,
            self.ring.config.frame_size - v2::HDRLEN,
        )
    }

    /// The area of slot `i`: frame at [`SlotInfo::data`], `snaplen` bytes,
    /// the `virtio_net_hdr` just before it, headroom before that and room
    /// to grow after.
    pub fn area(&self, i: usize) -> &[u8] {
        let (off, len) = self.area_range(i);
        // SAFETY: the area of a slot this batch owns (status USER, not yet
        // handed back); it excludes the status word. The kernel does not
        // write it while the batch lives, and the returned borrow of
        // `self` keeps `area_mut` (which needs `&mut self`) away.
        unsafe { self.ring.map.slice(off, len) }
    }

    /// The area of slot `i`, to change in place.
    pub fn area_mut(&mut self, i: usize) -> &mut [u8] {
        let (off, len) = self.area_range(i);
        // SAFETY: as for `area`; in addition this is the only borrow of
        // the area (it borrows `self` mutably), and no other slice of the
        // batch is alive.
        unsafe { self.ring.map.slice_mut(off, len) }
    }
}

impl Drop for RxBatch<'_> {
    fn drop(&mut self) {
        let r = &mut *self.ring;
        for k in 0..self.count {
            let slot = (r.head + k) % r.slots;
            // SAFETY: the status word of a slot this batch owns; every
            // borrow of its area has ended (they borrow the batch). The
            // Release store orders all reads and writes of the slot
            // before the hand-back.
            unsafe {
                r.map
                    .store_release(r.offset(slot) + v2::STATUS, status::KERNEL)
            };
        }
        r.head = (r.head + self.count) % r.slots;
    }
}

/// How to open an [`RxPort`].
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct RxPortConfig {
    /// Interface name.
    pub interface: String,
    /// Ring geometry; `None` sizes the slots for the interface's MTU.
    pub ring: Option<RingV2Config>,
    /// Hold the interface in promiscuous mode for the socket's life.
    pub promiscuous: bool,
    /// Never see frames sent on the interface (ours included):
    /// `PACKET_IGNORE_OUTGOING`, or a filter on older kernels.
    pub ignore_outgoing: bool,
    /// Receive the `virtio_net_hdr` (GSO and checksum state) of each frame.
    pub vnet_hdr: bool,
    /// Socket receive buffer for frames larger than a slot (bytes).
    pub rcvbuf: usize,
    /// `SO_BUSY_POLL` in microseconds (0: off).
    pub busy_poll_us: u32,
}

impl RxPortConfig {
    /// Promiscuous, outgoing ignored, offload headers on, ring sized for
    /// the MTU, 32 MiB for oversized frames.
    pub fn new(interface: impl Into<String>) -> RxPortConfig {
        RxPortConfig {
            interface: interface.into(),
            ring: None,
            promiscuous: true,
            ignore_outgoing: true,
            vnet_hdr: true,
            rcvbuf: 32 << 20,
            busy_poll_us: 0,
        }
    }
}

/// A receiving AF_PACKET socket with a TPACKET_V2 ring.
#[derive(Debug)]
pub struct RxPort {
    ring: RxRingV2,
    fd: OwnedFd,
    interface: String,
    ifindex: u32,
    mtu: u32,
    vnet_hdr: bool,
    stats: Stats,
}

impl RxPort {
    /// Opens the socket, maps the ring, binds. Needs CAP_NET_RAW.
    pub fn open(config: &RxPortConfig) -> Result<RxPort> {
        let name = config.interface.as_str();
        let i = iface::Interface::by_name(name)?;
        if i.link_mapping().cooked || i.link_mapping().vlan_offset.is_none() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "bridging {name}: only Ethernet-like interfaces are supported (device type {})",
                    i.hatype
                ),
            ));
        }
        let ring = config.ring.unwrap_or_else(|| RingV2Config::for_mtu(i.mtu));
        ring.validate()
            .map_err(|m| Error::new(ErrorKind::InvalidConfig, format!("ring for {name}: {m}")))?;
        let fd = sys::packet_socket(libc::SOCK_RAW, 0).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => needs_net_raw(&format!("bridging {name}"), e),
            _ => Error::io(format!("opening a packet socket for {name}"), e),
        })?;
        let opt = |level, o, v: libc::c_int, what: &str| {
            sys::setsockopt(fd.as_fd(), level, o, &v)
                .map_err(|e| Error::io(format!("{what} on {name}"), e))
        };
        opt(
            libc::SOL_PACKET,
            libc::PACKET_VERSION,
            TPACKET_V2,
            "selecting TPACKET_V2",
        )?;
        if config.vnet_hdr {
            opt(
                libc::SOL_PACKET,
                libc::PACKET_VNET_HDR,
                1,
                "enabling PACKET_VNET_HDR",
            )?;
        }
        opt(
            libc::SOL_PACKET,
            libc::PACKET_RESERVE,
            ring.reserve as libc::c_int,
            "reserving headroom",
        )?;
        opt(
            libc::SOL_PACKET,
            libc::PACKET_COPY_THRESH,
            1,
            "queueing frames larger than a slot",
        )?;
        let rcvbuf = config.rcvbuf.min(i32::MAX as usize) as libc::c_int;
        if opt(
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            rcvbuf,
            "sizing the receive buffer",
        )
        .is_err()
        {
            opt(
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                rcvbuf,
                "sizing the receive buffer",
            )?;
        }
        if config.busy_poll_us > 0 {
            opt(
                libc::SOL_SOCKET,
                libc::SO_BUSY_POLL,
                config.busy_poll_us.min(i32::MAX as u32) as libc::c_int,
                "enabling SO_BUSY_POLL",
            )?;
        }
        let req = libc::tpacket_req {
            tp_block_size: ring.block_size() as u32,
            tp_block_nr: ring.block_count() as u32,
            tp_frame_size: ring.frame_size as u32,
            tp_frame_nr: ring.slots() as u32,
        };
        sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_RX_RING, &req).map_err(|e| {
            Error::io(
                format!(
                    "setting up a {} KiB TPACKET_V2 ring ({} slots of {} bytes) on {name}",
                    ring.total_size() >> 10,
                    ring.slots(),
                    ring.frame_size
                ),
                e,
            )
        })?;
        let map = Mmap::shared(fd.as_fd(), ring.total_size()).map_err(|e| {
            Error::io(
                format!("mapping a {} KiB ring on {name}", ring.total_size() >> 10),
                e,
            )
        })?;
        let port = RxPort {
            ring: RxRingV2::new(map, ring, config.vnet_hdr),
            fd,
            interface: name.to_owned(),
            ifindex: i.index,
            mtu: i.mtu,
            vnet_hdr: config.vnet_hdr,
            stats: Stats::default(),
        };
        if config.ignore_outgoing
            && sys::setsockopt(
                port.fd.as_fd(),
                libc::SOL_PACKET,
                libc::PACKET_IGNORE_OUTGOING,
                &1 as &libc::c_int,
            )
            .is_err()
            && let Some(prog) = effective_program(None, MAX_SNAPLEN, true)
        {
            port.attach(&prog)?;
        }
        sys::bind_packet(port.fd.as_fd(), i.index, ETH_P_ALL)
            .map_err(|e| Error::io(format!("binding to {name}"), e))?;
        if config.promiscuous {
            let mreq = libc::packet_mreq {
                mr_ifindex: i.index as libc::c_int,
                mr_type: libc::PACKET_MR_PROMISC as libc::c_ushort,
                mr_alen: 0,
                mr_address: [0; 8],
            };
            sys::setsockopt(
                port.fd.as_fd(),
                libc::SOL_PACKET,
                libc::PACKET_ADD_MEMBERSHIP,
                &mreq,
            )
            .map_err(|e| Error::io(format!("entering promiscuous mode on {name}"), e))?;
        }
        Ok(port)
    }

    fn attach(&self, prog: &[sluice_bpf::Insn]) -> Result<()> {
        let raw: Vec<libc::sock_filter> = prog
            .iter()
            .map(|i| libc::sock_filter {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect();
        sys::attach_filter(self.fd.as_fd(), &raw)
            .map_err(|e| Error::io(format!("attaching a filter on {}", self.interface), e))
    }

    /// Attaches a classic BPF program: the kernel drops what it rejects
    /// before the ring.
    pub fn set_filter(&self, prog: &[sluice_bpf::Insn]) -> Result<()> {
        self.attach(prog)
    }

    /// Stops new frames from entering the ring (a reject-all filter), so a
    /// reader can drain what is there and stop with nothing lost between.
    pub fn stop_intake(&self) -> Result<()> {
        self.attach(&[sluice_bpf::Insn::stmt(
            sluice_bpf::insn::RET | sluice_bpf::insn::K,
            0,
        )])
    }

    /// The ring.
    pub fn ring(&mut self) -> &mut RxRingV2 {
        &mut self.ring
    }

    /// Whether a frame is ready.
    pub fn ready(&self) -> bool {
        self.ring.ready()
    }

    /// The interface.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The interface's MTU when the port was opened.
    pub fn mtu(&self) -> u32 {
        self.mtu
    }

    /// Whether frames carry a `virtio_net_hdr`.
    pub fn vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// The ring and a reader of whole frames, borrowed together (a frame
    /// marked [`SlotInfo::copied`] is read while its batch is lent).
    pub fn split(&mut self) -> (&mut RxRingV2, FullReader<'_>) {
        (
            &mut self.ring,
            FullReader {
                fd: self.fd.as_fd(),
                interface: &self.interface,
            },
        )
    }

    /// Reads the whole of a frame that did not fit its slot
    /// ([`SlotInfo::copied`]) into `buf`: with `PACKET_VNET_HDR` the
    /// `virtio_net_hdr` comes first. Returns (bytes copied, full length);
    /// `None` when nothing is queued (the kernel could not keep a copy).
    pub fn recv_full(&self, buf: &mut [u8]) -> Result<Option<(usize, usize)>> {
        FullReader {
            fd: self.fd.as_fd(),
            interface: &self.interface,
        }
        .recv_full(buf)
    }

    /// Reads and clears the socket's pending error ("went down", "went
    /// away").
    pub fn check_error(&self) -> Result<()> {
        pending_error(self.fd.as_fd(), &self.interface, self.ifindex)
    }

    /// The kernel's counters, accumulated since open (reading resets the
    /// kernel's copy).
    pub fn stats(&mut self) -> Result<Stats> {
        let s: libc::tpacket_stats =
            sys::getsockopt(self.fd.as_fd(), libc::SOL_PACKET, libc::PACKET_STATISTICS)
                .map_err(|e| Error::io(format!("reading statistics on {}", self.interface), e))?;
        self.stats.packets += u64::from(s.tp_packets);
        self.stats.drops += u64::from(s.tp_drops);
        Ok(self.stats)
    }
}

/// Reads whole frames that did not fit their ring slot (see
/// [`RxPort::split`]).
#[derive(Debug)]
pub struct FullReader<'a> {
    fd: BorrowedFd<'a>,
    interface: &'a str,
}

impl FullReader<'_> {
    /// As [`RxPort::recv_full`].
    pub fn recv_full(&self, buf: &mut [u8]) -> Result<Option<(usize, usize)>> {
        self.recv_full_parts(&mut [buf])
    }

    /// As [`RxPort::recv_full`], the bytes scattered over `parts` in order
    /// (at most four; empty ones skipped): the `virtio_net_hdr` into a
    /// header of its own and the frame straight where it is wanted, with
    /// no second copy. Returns (bytes copied, full length), both counting
    /// the `virtio_net_hdr`.
    pub fn recv_full_parts(&self, parts: &mut [&mut [u8]]) -> Result<Option<(usize, usize)>> {
        match sys::bridge::recvmsg_parts(self.fd, parts) {
            Ok(r) => Ok(Some(r)),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(None),
            Err(e) => Err(Error::io(
                format!("reading a large frame on {}", self.interface),
                e,
            )),
        }
    }
}

impl AsFd for RxPort {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A sending AF_PACKET socket (protocol 0: it never receives) that puts a
/// `virtio_net_hdr` in front of every frame when asked to, so GSO frames
/// larger than the MTU go out whole with their offload state.
#[derive(Debug)]
pub struct VnetTx {
    fd: OwnedFd,
    interface: String,
    ifindex: u32,
    vnet_hdr: bool,
    max_retries: u32,
    retry_wait: Duration,
    total: SendReport,
}

/// A socket's pending error, if any, as an error naming its interface
/// (it went down or away).
fn pending_error(fd: BorrowedFd<'_>, interface: &str, ifindex: u32) -> Result<()> {
    let err = sys::take_socket_error(fd)
        .map_err(|e| Error::io(format!("reading the socket error on {interface}"), e))?;
    match err {
        None => Ok(()),
        Some(e) => Err(interface_error(fd, interface, ifindex, e)),
    }
}

impl VnetTx {
    /// Returns the socket's pending error, if any, as an error naming the
    /// interface (it went down or away).
    pub fn check_error(&self) -> Result<()> {
        pending_error(self.fd.as_fd(), &self.interface, self.ifindex)
    }

    /// Opens a sender on `interface`: `vnet_hdr` turns on
    /// `PACKET_VNET_HDR`, `qdisc_bypass` `PACKET_QDISC_BYPASS`. Needs
    /// CAP_NET_RAW.
    pub fn open(interface: &str, vnet_hdr: bool, qdisc_bypass: bool) -> Result<VnetTx> {
        let i = iface::Interface::by_name(interface)?;
        let fd = sys::packet_socket(libc::SOCK_RAW, 0).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => {
                needs_net_raw(&format!("sending on {interface}"), e)
            }
            _ => Error::io(format!("opening a packet socket for {interface}"), e),
        })?;
        let opt = |o, what: &str| {
            sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, o, &(1 as libc::c_int))
                .map_err(|e| Error::io(format!("{what} on {interface}"), e))
        };
        if vnet_hdr {
            opt(libc::PACKET_VNET_HDR, "enabling PACKET_VNET_HDR")?;
        }
        if qdisc_bypass {
            opt(libc::PACKET_QDISC_BYPASS, "enabling PACKET_QDISC_BYPASS")?;
        }
        sys::bind_packet(fd.as_fd(), i.index, 0)
            .map_err(|e| Error::io(format!("binding to {interface}"), e))?;
        Ok(VnetTx {
            fd,
            interface: interface.to_owned(),
            ifindex: i.index,
            vnet_hdr,
            max_retries: 100,
            retry_wait: Duration::from_millis(10),
            total: SendReport::default(),
        })
    }

    /// Whether each message must start with a `virtio_net_hdr`.
    pub fn vnet_hdr(&self) -> bool {
        self.vnet_hdr
    }

    /// The interface.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// Totals since open.
    pub fn totals(&self) -> SendReport {
        self.total
    }

    fn wait_writable(&self) -> Result<()> {
        let mut fds = [libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLOUT,
            revents: 0,
        }];
        let ms = self.retry_wait.as_millis().clamp(1, 60_000) as libc::c_int;
        sys::poll(&mut fds, ms)
            .map_err(|e| Error::io(format!("waiting to send on {}", self.interface), e))?;
        Ok(())
    }

    /// Sends messages, each the concatenation of `(head, frame)`: with
    /// `PACKET_VNET_HDR` on, `head` must be the 10-byte `virtio_net_hdr`
    /// (all zeroes for a plain frame); otherwise empty. Transient refusals
    /// (`ENOBUFS`, `EAGAIN`) are retried a bounded number of times; frames
    /// the kernel refuses (`EMSGSIZE`, `EINVAL`) are counted as failed and
    /// the rest go on. An interface that went down or away is an error.
    pub fn send(&mut self, msgs: &[(&[u8], &[u8])]) -> Result<SendReport> {
        let mut report = SendReport::default();
        let mut i = 0;
        let mut retries_here = 0u32;
        while i < msgs.len() {
            let end = (i + sys::bridge::PARTS_BATCH).min(msgs.len());
            match sys::bridge::sendmmsg_parts(self.fd.as_fd(), &msgs[i..end]) {
                Ok(n) => {
                    report.sent += n as u64;
                    report.bytes += msgs[i..i + n]
                        .iter()
                        .map(|(_, d)| d.len() as u64)
                        .sum::<u64>();
                    i += n;
                    if n > 0 {
                        retries_here = 0;
                    }
                }
                Err(e) => match e.raw_os_error() {
                    Some(libc::ENOBUFS) | Some(libc::EAGAIN) => {
                        if retries_here >= self.max_retries {
                            report.failed += 1;
                            i += 1;
                            retries_here = 0;
                        } else {
                            retries_here += 1;
                            report.retries += 1;
                            self.wait_writable()?;
                        }
                    }
                    Some(libc::ENETDOWN) | Some(libc::ENXIO) | Some(libc::ENODEV) => {
                        self.add_total(&report);
                        return Err(interface_error(
                            self.fd.as_fd(),
                            &self.interface,
                            self.ifindex,
                            e,
                        ));
                    }
                    Some(libc::EPERM) | Some(libc::EACCES) => {
                        self.add_total(&report);
                        return Err(Error::io(format!("sending on {}", self.interface), e));
                    }
                    _ => {
                        report.failed += 1;
                        i += 1;
                    }
                },
            }
        }
        self.add_total(&report);
        Ok(report)
    }

    fn add_total(&mut self, r: &SendReport) {
        self.total.sent += r.sent;
        self.total.bytes += r.bytes;
        self.total.failed += r.failed;
        self.total.retries += r.retries;
    }
}

impl AsFd for VnetTx {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A one-shot timer on `CLOCK_REALTIME` with an absolute deadline, to put
/// in a poll set: precise to the kernel's high-resolution timers (no
/// poll-timeout rounding to milliseconds, no timer slack).
#[derive(Debug)]
pub struct Timer {
    fd: OwnedFd,
    armed: u64,
}

impl Timer {
    /// A disarmed timer.
    pub fn new() -> Result<Timer> {
        Ok(Timer {
            fd: sys::bridge::timerfd_create(libc::CLOCK_REALTIME)
                .map_err(|e| Error::io("creating a timerfd", e))?,
            armed: 0,
        })
    }

    /// Arms the timer to fire at `deadline_ns` (ns since the epoch); a
    /// deadline in the past fires at once. Re-arming to the same deadline
    /// costs nothing.
    pub fn set(&mut self, deadline_ns: u64) -> Result<()> {
        let d = deadline_ns.max(1);
        if d == self.armed {
            return Ok(());
        }
        sys::bridge::timerfd_set_abs(self.fd.as_fd(), d)
            .map_err(|e| Error::io("arming a timerfd", e))?;
        self.armed = d;
        Ok(())
    }

    /// Disarms the timer.
    pub fn clear(&mut self) -> Result<()> {
        if self.armed == 0 {
            return Ok(());
        }
        sys::bridge::timerfd_set_abs(self.fd.as_fd(), 0)
            .map_err(|e| Error::io("disarming a timerfd", e))?;
        self.armed = 0;
        Ok(())
    }

    /// Consumes an expiry; true when the timer had fired.
    pub fn take(&mut self) -> Result<bool> {
        let n = sys::bridge::timerfd_take(self.fd.as_fd())
            .map_err(|e| Error::io("reading a timerfd", e))?;
        if n > 0 {
            self.armed = 0;
        }
        Ok(n > 0)
    }
}

impl AsFd for Timer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// A set of descriptors to wait on for input.
#[derive(Debug, Default)]
pub struct PollSet {
    fds: Vec<libc::pollfd>,
}

impl PollSet {
    /// An empty set.
    pub fn new() -> PollSet {
        PollSet::default()
    }

    /// Adds a descriptor (watched for input); returns its index.
    pub fn add(&mut self, fd: BorrowedFd<'_>) -> usize {
        self.add_raw(fd.as_raw_fd())
    }

    fn add_raw(&mut self, fd: RawFd) -> usize {
        self.fds.push(libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        });
        self.fds.len() - 1
    }

    /// Waits up to `timeout` (forever with `None`) for input on any;
    /// returns how many are ready (0 on timeout or a signal).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<usize> {
        let ms = match timeout {
            None => -1,
            Some(t) => {
                let ms = t.as_micros().div_ceil(1000);
                ms.min(i32::MAX as u128) as libc::c_int
            }
        };
        for f in &mut self.fds {
            f.revents = 0;
        }
        sys::poll(&mut self.fds, ms).map_err(|e| Error::io("waiting for frames", e))
    }

    /// Whether descriptor `i` has input (after [`PollSet::wait`]).
    pub fn readable(&self, i: usize) -> bool {
        self.fds[i].revents & libc::POLLIN != 0
    }

    /// Whether descriptor `i` reported an error or hang-up.
    pub fn failed(&self, i: usize) -> bool {
        self.fds[i].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0
    }
}

/// Lets the calling thread's timed waits fire within `slack` of their
/// deadline (the kernel's default is 50 µs).
pub fn set_timer_slack(slack: Duration) -> Result<()> {
    sys::bridge::set_timer_slack(slack.as_nanos().min(u64::MAX as u128) as u64)
        .map_err(|e| Error::io("setting the timer slack", e))
}

/// Moves the calling thread to the real-time `SCHED_FIFO` class at
/// `priority` (1–99): it then runs as soon as it is woken, ahead of every
/// ordinary task. Needs CAP_SYS_NICE (root).
pub fn set_realtime(priority: i32) -> Result<()> {
    sys::bridge::set_fifo(priority).map_err(|e| {
        Error::io(
            format!("switching to SCHED_FIFO priority {priority} (needs CAP_SYS_NICE)"),
            e,
        )
    })
}

/// Asks the scheduler for time slices of `slice` for the calling thread
/// (kept in its class and at its nice value). On Linux 6.12 and
/// later (EEVDF) a thread with a shorter slice than the one running is
/// let in as soon as it wakes, instead of at the end of the other's slice:
/// what a forwarding loop that sleeps between frames needs on a busy
/// machine, without the real-time class. The kernel clamps the slice to
/// 0.1–100 ms; older kernels ignore it.
pub fn set_fair_slice(slice: Duration) -> Result<()> {
    sys::bridge::set_fair_slice(slice.as_nanos().min(u64::MAX as u128) as u64)
        .map_err(|e| Error::io("asking for a short scheduler slice", e))
}

/// `CLOCK_REALTIME` in ns since the epoch (the clock of frame timestamps
/// and of [`Timer`]).
pub fn realtime_ns() -> u64 {
    sys::bridge::clock_ns(libc::CLOCK_REALTIME)
}

/// Offload features of an interface (legacy ethtool queries).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offloads {
    /// Generic receive offload: frames larger than the MTU may arrive.
    pub gro: bool,
    /// Generic segmentation offload.
    pub gso: bool,
    /// TCP segmentation offload.
    pub tso: bool,
    /// Transmit checksum offload: checksums may be left partial.
    pub tx_csum: bool,
}

/// Reads the offload features of `name`.
pub fn offloads(name: &str) -> Result<Offloads> {
    const ETHTOOL_GTXCSUM: u32 = 0x16;
    const ETHTOOL_GTSO: u32 = 0x1e;
    const ETHTOOL_GGSO: u32 = 0x23;
    const ETHTOOL_GGRO: u32 = 0x2b;
    let sock = sys::inet_dgram_socket()
        .map_err(|e| Error::io(format!("opening a socket to query {name}"), e))?;
    let get = |cmd: u32, what: &str| -> Result<bool> {
        let mut v = sys::bridge::EthtoolValue { cmd, data: 0 };
        sys::ioctl_ifreq_ptr(sock.as_fd(), libc::SIOCETHTOOL, name, &mut v)
            .map_err(|e| Error::io(format!("reading the {what} setting of {name}"), e))?;
        Ok(v.data != 0)
    };
    Ok(Offloads {
        gro: get(ETHTOOL_GGRO, "GRO")?,
        gso: get(ETHTOOL_GGSO, "GSO")?,
        tso: get(ETHTOOL_GTSO, "TSO")?,
        tx_csum: get(ETHTOOL_GTXCSUM, "TX checksum")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot(mac: u16, net: u16, snaplen: u32, len: u32, st: u32) -> Vec<u8> {
        let mut s = vec![0u8; 2048];
        s[v2::STATUS..v2::STATUS + 4].copy_from_slice(&st.to_ne_bytes());
        s[v2::LEN..v2::LEN + 4].copy_from_slice(&len.to_ne_bytes());
        s[v2::SNAPLEN..v2::SNAPLEN + 4].copy_from_slice(&snaplen.to_ne_bytes());
        s[v2::MAC..v2::MAC + 2].copy_from_slice(&mac.to_ne_bytes());
        s[v2::NET..v2::NET + 2].copy_from_slice(&net.to_ne_bytes());
        s[v2::SEC..v2::SEC + 4].copy_from_slice(&7u32.to_ne_bytes());
        s[v2::NSEC..v2::NSEC + 4].copy_from_slice(&9u32.to_ne_bytes());
        s[v2::SLL + 2..v2::SLL + 4].copy_from_slice(&0x0800u16.to_be_bytes());
        s[v2::SLL + 4..v2::SLL + 8].copy_from_slice(&3u32.to_ne_bytes());
        s[v2::SLL + 10] = 3;
        s
    }

    #[test]
    fn parses_a_good_slot() {
        let mut s = slot(76, 90, 60, 60, status::USER | status::VLAN_VALID);
        s[v2::VLAN_TCI..v2::VLAN_TCI + 2].copy_from_slice(&5u16.to_ne_bytes());
        // virtio_net_hdr: NEEDS_CSUM, GSO TCPv4, hdr 54, gso 1448, csum 34+16.
        s[66..76].copy_from_slice(&[1, 1, 54, 0, 0xa8, 5, 34, 0, 16, 0]);
        let i = parse_slot(&s, true).unwrap();
        assert_eq!(i.data, 76 - v2::HDRLEN);
        assert_eq!(i.net_offset, 14);
        assert_eq!(i.ts_ns, 7_000_000_009);
        assert_eq!(
            i.vlan,
            Some(Vlan {
                tci: 5,
                tpid: 0x8100
            })
        );
        assert_eq!(i.pkttype, PacketType::OtherHost);
        assert_eq!(i.protocol, 0x0800);
        assert_eq!(i.ifindex, 3);
        let v = i.vnet.unwrap();
        assert_eq!((v.gso_type, v.gso_size, v.csum_start), (1, 1448, 34));
        assert!(!i.copied() && !i.truncated());
    }

    #[test]
    fn rejects_offsets_outside_the_slot() {
        assert_eq!(
            parse_slot(&slot(40, 90, 60, 60, 1), false),
            Err(SlotError::BadMac(40))
        );
        assert_eq!(
            parse_slot(&slot(56, 90, 60, 60, 1), true),
            Err(SlotError::BadMac(56))
        );
        assert_eq!(
            parse_slot(&slot(76, 70, 60, 60, 1), false),
            Err(SlotError::BadNet(70))
        );
        assert_eq!(
            parse_slot(&slot(76, 90, 2000, 2000, 1), false),
            Err(SlotError::BadSnaplen(2000))
        );
        assert_eq!(
            parse_slot(&slot(76, 90, u32::MAX, 1, 1), false),
            Err(SlotError::BadSnaplen(u32::MAX))
        );
        assert!(parse_slot(&[0u8; 10], false).is_err());
    }

    #[test]
    fn tells_copied_from_truncated() {
        let i = parse_slot(&slot(76, 90, 1900, 65000, 1 | STATUS_COPY), false).unwrap();
        assert!(i.copied() && !i.truncated());
        let i = parse_slot(&slot(76, 90, 1900, 65000, 1), false).unwrap();
        assert!(i.truncated());
    }

    #[test]
    fn ring_geometry() {
        assert!(RingV2Config::DEFAULT.validate().is_ok());
        assert_eq!(RingV2Config::DEFAULT.slots(), 4096);
        assert_eq!(RingV2Config::DEFAULT.total_size(), 8 << 20);
        let j = RingV2Config::for_mtu(9000);
        assert_eq!(j.frame_size, 16384);
        assert!(j.validate().is_ok());
        assert_eq!(RingV2Config::for_mtu(1500), RingV2Config::DEFAULT);
        let bad = RingV2Config {
            frame_size: 1000,
            ..RingV2Config::DEFAULT
        };
        assert!(bad.validate().is_err());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_slot(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400), vnet: bool) {
            if let Ok(i) = parse_slot(&bytes, vnet) {
                let area = &bytes[v2::HDRLEN..];
                proptest::prop_assert!(i.data + i.snaplen as usize <= area.len());
            }
        }
    }
}
