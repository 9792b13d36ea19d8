//! The AF_PACKET capture socket: TPACKET_V3 ring, kernel filter, fanout,
//! promiscuous mode, statistics, timestamps and an interruptible wait.
//!
//! [`Capture::open`] builds the socket in an order that lets no unfiltered
//! frame in: the socket is created with protocol 0 (the kernel delivers
//! nothing to it), the ring is mapped and the filter attached, and only then
//! is it bound with `ETH_P_ALL`. Changing the filter of a running capture
//! ([`Capture::set_filter`]) uses libpcap's trick: a reject-all filter
//! first, the ring drained of what the old filter let in (counted), then the
//! new program.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_bpf::Insn;
use sluice_bpf::insn as bpf;
use sluice_wire::LinkType;

use crate::block::{Framing, FramingKind, WalkOptions};
use crate::error::{Error, ErrorKind, Result, needs_net_raw};
use crate::iface::{self, LinkMapping};
use crate::interrupt::Interrupt;
use crate::ring::{Block, RingConfig, RxRing};
use crate::sys::{self, Mmap};

/// `ETH_P_ALL`: every protocol.
pub const ETH_P_ALL: u16 = 0x0003;
/// The largest snap length (as tcpdump's default).
pub const MAX_SNAPLEN: u32 = 262_144;
const TPACKET_V3: libc::c_int = 2;
const SOF_TIMESTAMPING_RAW_HARDWARE: libc::c_int = 1 << 6;

/// How a fanout group spreads frames over its members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanoutMode {
    /// By flow hash: a flow always reaches the same member.
    Hash,
    /// Round robin.
    LoadBalance,
    /// By the CPU that received the frame.
    Cpu,
    /// Fill one member until its ring is full, then the next.
    Rollover,
    /// At random.
    Random,
    /// By the NIC's receive queue.
    QueueMapping,
}

impl FanoutMode {
    fn raw(self) -> u16 {
        match self {
            FanoutMode::Hash => 0,
            FanoutMode::LoadBalance => 1,
            FanoutMode::Cpu => 2,
            FanoutMode::Rollover => 3,
            FanoutMode::Random => 4,
            FanoutMode::QueueMapping => 5,
        }
    }

    /// Every mode, for probing.
    pub const ALL: [FanoutMode; 6] = [
        FanoutMode::Hash,
        FanoutMode::LoadBalance,
        FanoutMode::Cpu,
        FanoutMode::Rollover,
        FanoutMode::Random,
        FanoutMode::QueueMapping,
    ];
}

/// Membership of a `PACKET_FANOUT` group: sockets bound to the same
/// interface with the same group id share its frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fanout {
    /// Group id (per network namespace).
    pub group: u16,
    /// How frames are spread.
    pub mode: FanoutMode,
    /// Reassemble IP fragments before hashing (`PACKET_FANOUT_FLAG_DEFRAG`).
    pub defrag: bool,
    /// Move to another member when this one's ring is full
    /// (`PACKET_FANOUT_FLAG_ROLLOVER`).
    pub rollover: bool,
}

impl Fanout {
    /// A group with `mode` and no flags.
    pub fn new(group: u16, mode: FanoutMode) -> Fanout {
        Fanout {
            group,
            mode,
            defrag: false,
            rollover: false,
        }
    }

    pub(crate) fn arg(self) -> u32 {
        let mut type_flags = self.mode.raw();
        if self.defrag {
            type_flags |= 0x8000;
        }
        if self.rollover {
            type_flags |= 0x1000;
        }
        u32::from(self.group) | (u32::from(type_flags) << 16)
    }
}

/// Where timestamps come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampMode {
    /// The kernel's clock (nanoseconds).
    #[default]
    Software,
    /// The NIC's clock where it has one; software otherwise (see
    /// [`Capture::hardware_timestamps`]).
    Hardware,
}

/// Everything [`Capture::open`] needs.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct CaptureConfig {
    /// Interface name, or `"any"` for all interfaces (cooked, `LINUX_SLL2`).
    pub interface: String,
    /// Ring geometry and block timeout.
    pub ring: RingConfig,
    /// Longest frame kept; longer ones are cut (their length is kept).
    pub snaplen: u32,
    /// Put the interface in promiscuous mode for the socket's lifetime
    /// (`PACKET_ADD_MEMBERSHIP`; the kernel undoes it when the socket
    /// closes, however the process ends). Ignored for `any`.
    pub promiscuous: bool,
    /// Do not see frames this host sends (`PACKET_IGNORE_OUTGOING`, or an
    /// equivalent filter prefix on kernels without it).
    pub ignore_outgoing: bool,
    /// Capture cooked (`SOCK_DGRAM`, `LINUX_SLL2`) even where the device's
    /// link header is known.
    pub cooked: bool,
    /// A classic BPF program run by the kernel on every frame.
    pub filter: Option<Vec<Insn>>,
    /// Forbid changing the filter later (`SO_LOCK_FILTER`).
    pub lock_filter: bool,
    /// Join a fanout group after binding.
    pub fanout: Option<Fanout>,
    /// Software or hardware timestamps.
    pub timestamps: TimestampMode,
    /// Ask for the `virtio_net_hdr` in front of each frame
    /// (`PACKET_VNET_HDR`; GSO metadata).
    pub vnet_hdr: bool,
    /// EtherType to capture (host order); `ETH_P_ALL` for everything.
    pub protocol: u16,
}

impl CaptureConfig {
    /// A capture on `interface` with the defaults: default ring, full
    /// frames, promiscuous, no filter.
    pub fn new(interface: impl Into<String>) -> CaptureConfig {
        CaptureConfig {
            interface: interface.into(),
            ring: RingConfig::DEFAULT,
            snaplen: MAX_SNAPLEN,
            promiscuous: true,
            ignore_outgoing: false,
            cooked: false,
            filter: None,
            lock_filter: false,
            fanout: None,
            timestamps: TimestampMode::Software,
            vnet_hdr: false,
            protocol: ETH_P_ALL,
        }
    }
}

/// Kernel counters of a capture socket, accumulated (the kernel resets
/// them on every read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames that passed the filter (received + dropped).
    pub packets: u64,
    /// Frames dropped for lack of room in the ring.
    pub drops: u64,
    /// Times the ring was frozen because it was full (`tp_freeze_q_cnt`).
    pub freeze_q_cnt: u64,
}

impl Stats {
    /// Frames that reached the ring.
    pub fn received(&self) -> u64 {
        self.packets.saturating_sub(self.drops)
    }
}

/// What a wait for the next block ended with.
#[derive(Debug)]
pub enum Next<'a> {
    /// A block of frames, handed back on drop.
    Block(Block<'a>),
    /// The timeout expired.
    Timeout,
    /// The interrupt was triggered (it stays triggered until cleared).
    Interrupted,
}

/// The outcome of [`Capture::set_filter`] on a running capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FilterChange {
    /// Frames the old filter let in that were discarded while draining.
    pub discarded: u64,
}

/// An open AF_PACKET capture with its RX ring.
#[derive(Debug)]
pub struct Capture {
    ring: RxRing,
    fd: OwnedFd,
    interface: String,
    ifindex: u32,
    mapping: LinkMapping,
    block_timeout: Duration,
    snaplen: u32,
    promiscuous: bool,
    hardware_ts: bool,
    ignore_outgoing_in_filter: bool,
    filter_len: usize,
    stats: Stats,
    interrupt: Option<Arc<Interrupt>>,
}

/// Converts instructions to the kernel's `struct sock_filter`.
fn to_sock_filter(prog: &[Insn]) -> Vec<libc::sock_filter> {
    prog.iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect()
}

/// The program actually attached: `ret #k` clamped to the snap length (so
/// the kernel copies no more than needed), prefixed with an outgoing-frame
/// reject when the kernel lacks `PACKET_IGNORE_OUTGOING`.
pub(crate) fn effective_program(
    filter: Option<&[Insn]>,
    snaplen: u32,
    drop_outgoing: bool,
) -> Option<Vec<Insn>> {
    let mut out = Vec::new();
    if drop_outgoing {
        out.push(Insn::stmt(
            bpf::LD | bpf::W | bpf::ABS,
            bpf::ancillary::PKTTYPE,
        ));
        out.push(Insn::jump(bpf::JMP | bpf::JEQ | bpf::K, 4, 0, 1));
        out.push(Insn::stmt(bpf::RET | bpf::K, 0));
        // Programs may assume A = 0 at the start.
        out.push(Insn::stmt(bpf::LD | bpf::IMM, 0));
    }
    match filter {
        Some(p) => out.extend(p.iter().map(|i| {
            if i.code == bpf::RET | bpf::K && i.k > snaplen {
                Insn::stmt(i.code, snaplen)
            } else {
                *i
            }
        })),
        None if snaplen < MAX_SNAPLEN || drop_outgoing => {
            out.push(Insn::stmt(bpf::RET | bpf::K, snaplen))
        }
        None => return None,
    }
    Some(out)
}

impl Capture {
    /// Opens a capture as `config` says. Needs CAP_NET_RAW; a clear
    /// [`ErrorKind::Permission`] error says so when it is missing.
    pub fn open(config: &CaptureConfig) -> Result<Capture> {
        let name = config.interface.as_str();
        config
            .ring
            .validate()
            .map_err(|m| Error::new(ErrorKind::InvalidConfig, format!("ring for {name}: {m}")))?;
        if config.snaplen == 0 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "snap length must be at least 1",
            ));
        }
        let snaplen = config.snaplen.min(MAX_SNAPLEN);
        let any = name == "any";
        let (ifindex, mapping) = if any {
            (0, iface::cooked_mapping())
        } else {
            let i = iface::Interface::by_name(name)?;
            let m = if config.cooked {
                iface::cooked_mapping()
            } else {
                i.link_mapping()
            };
            (i.index, m)
        };
        let kind = if mapping.cooked {
            libc::SOCK_DGRAM
        } else {
            libc::SOCK_RAW
        };
        // Protocol 0: nothing is delivered until bind(), after the filter.
        let fd = sys::packet_socket(kind, 0).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => {
                needs_net_raw(&format!("capture on {name}"), e)
            }
            _ => Error::io(format!("opening a packet socket for {name}"), e),
        })?;
        let opt = |level, opt, v: libc::c_int, what: &str| {
            sys::setsockopt(fd.as_fd(), level, opt, &v)
                .map_err(|e| Error::io(format!("{what} on {name}"), e))
        };
        opt(
            libc::SOL_PACKET,
            libc::PACKET_VERSION,
            TPACKET_V3,
            "selecting TPACKET_V3",
        )?;
        if config.vnet_hdr {
            opt(
                libc::SOL_PACKET,
                libc::PACKET_VNET_HDR,
                1,
                "enabling PACKET_VNET_HDR",
            )?;
        }
        let mut hardware_ts = false;
        if config.timestamps == TimestampMode::Hardware && !any {
            let hw_ok = iface::timestamp_info(name)
                .map(|t| t.rx_hardware())
                .unwrap_or(false)
                && iface::enable_rx_hardware_timestamps(name).is_ok();
            if hw_ok {
                hardware_ts = opt(
                    libc::SOL_PACKET,
                    libc::PACKET_TIMESTAMP,
                    SOF_TIMESTAMPING_RAW_HARDWARE,
                    "asking for hardware timestamps",
                )
                .is_ok();
            }
        }
        let req = config.ring.to_req3();
        sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_RX_RING, &req).map_err(|e| {
            Error::io(
                format!(
                    "setting up a {} MiB RX ring ({} blocks of {} KiB) on {name}",
                    config.ring.total_size() >> 20,
                    config.ring.block_count,
                    config.ring.block_size >> 10
                ),
                e,
            )
        })?;
        let map = Mmap::shared(fd.as_fd(), config.ring.total_size()).map_err(|e| {
            Error::io(
                format!(
                    "mapping a {} MiB RX ring on {name}",
                    config.ring.total_size() >> 20
                ),
                e,
            )
        })?;
        let mut ignore_outgoing_in_filter = false;
        if config.ignore_outgoing
            && opt(
                libc::SOL_PACKET,
                libc::PACKET_IGNORE_OUTGOING,
                1,
                "ignoring outgoing frames",
            )
            .is_err()
        {
            ignore_outgoing_in_filter = true;
        }
        let framing = Framing {
            kind: if mapping.cooked {
                FramingKind::Sll2
            } else {
                FramingKind::Raw {
                    vlan_offset: mapping.vlan_offset,
                }
            },
            snaplen,
        };
        let ring = RxRing::new(
            map,
            &config.ring,
            framing,
            WalkOptions {
                vnet_hdr: config.vnet_hdr,
            },
        );
        let mut cap = Capture {
            ring,
            fd,
            interface: name.to_owned(),
            ifindex,
            mapping,
            block_timeout: config.ring.block_timeout,
            snaplen,
            promiscuous: false,
            hardware_ts,
            ignore_outgoing_in_filter,
            filter_len: 0,
            stats: Stats::default(),
            interrupt: None,
        };
        if let Some(prog) =
            effective_program(config.filter.as_deref(), snaplen, ignore_outgoing_in_filter)
        {
            cap.attach(&prog)?;
        }
        if config.lock_filter {
            cap.lock_filter()?;
        }
        sys::bind_packet(cap.fd.as_fd(), ifindex, config.protocol)
            .map_err(|e| Error::io(format!("binding to {name}"), e))?;
        if config.promiscuous && !any {
            cap.set_promiscuous()?;
        }
        if let Some(f) = config.fanout {
            cap.join_fanout(f)?;
        }
        Ok(cap)
    }

    fn attach(&mut self, prog: &[Insn]) -> Result<()> {
        if prog.is_empty() || prog.len() > bpf::MAXINSNS {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "filter of {} instructions (1 to {} allowed)",
                    prog.len(),
                    bpf::MAXINSNS
                ),
            ));
        }
        sys::attach_filter(self.fd.as_fd(), &to_sock_filter(prog)).map_err(|e| {
            Error::io(
                format!(
                    "attaching a {}-instruction filter on {}",
                    prog.len(),
                    self.interface
                ),
                e,
            )
        })?;
        self.filter_len = prog.len();
        Ok(())
    }

    fn set_promiscuous(&mut self) -> Result<()> {
        let mreq = libc::packet_mreq {
            mr_ifindex: self.ifindex as libc::c_int,
            mr_type: libc::PACKET_MR_PROMISC as u16,
            mr_alen: 0,
            mr_address: [0; 8],
        };
        sys::setsockopt(
            self.fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_ADD_MEMBERSHIP,
            &mreq,
        )
        .map_err(|e| Error::io(format!("putting {} in promiscuous mode", self.interface), e))?;
        self.promiscuous = true;
        Ok(())
    }

    /// Joins a fanout group (after open, for captures opened without one).
    pub fn join_fanout(&self, fanout: Fanout) -> Result<()> {
        sys::setsockopt(
            self.fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_FANOUT,
            &fanout.arg(),
        )
        .map_err(|e| {
            Error::io(
                format!(
                    "joining fanout group {} ({:?}) on {}",
                    fanout.group, fanout.mode, self.interface
                ),
                e,
            )
        })
    }

    /// Creates a new fanout group with an id the kernel picks, unused in
    /// this network namespace (`PACKET_FANOUT_FLAG_UNIQUEID`, kernel 4.15),
    /// joins it, and returns the id: other sockets join with
    /// `Fanout { group: id, .. }` and the same mode and flags. A fixed id
    /// could join another program's group by accident.
    pub fn create_fanout(&self, mode: FanoutMode, defrag: bool, rollover: bool) -> Result<u16> {
        let mut f = Fanout::new(0, mode);
        f.defrag = defrag;
        f.rollover = rollover;
        const UNIQUEID: u32 = 0x2000 << 16;
        sys::setsockopt(
            self.fd.as_fd(),
            libc::SOL_PACKET,
            libc::PACKET_FANOUT,
            &(f.arg() | UNIQUEID),
        )
        .map_err(|e| {
            Error::io(
                format!("creating a fanout group ({mode:?}) on {}", self.interface),
                e,
            )
        })?;
        let v: u32 = sys::getsockopt(self.fd.as_fd(), libc::SOL_PACKET, libc::PACKET_FANOUT)
            .map_err(|e| Error::io(format!("reading the fanout group on {}", self.interface), e))?;
        Ok((v & 0xffff) as u16)
    }

    /// Forbids any later change of the filter (`SO_LOCK_FILTER`).
    pub fn lock_filter(&self) -> Result<()> {
        let one: libc::c_int = 1;
        sys::setsockopt(
            self.fd.as_fd(),
            libc::SOL_SOCKET,
            libc::SO_LOCK_FILTER,
            &one,
        )
        .map_err(|e| Error::io(format!("locking the filter on {}", self.interface), e))
    }

    /// Replaces the kernel filter of a running capture. A reject-all filter
    /// goes in first; the ring is drained of the frames the old filter let
    /// in (they are discarded and counted, waiting at most two block
    /// timeouts for the block the kernel was filling); then `prog` goes in,
    /// so no frame that `prog` rejects is ever delivered.
    pub fn set_filter(&mut self, prog: &[Insn]) -> Result<FilterChange> {
        self.attach(&[Insn::stmt(bpf::RET | bpf::K, 0)])?;
        let mut change = FilterChange::default();
        let deadline = Instant::now() + 2 * self.block_timeout + Duration::from_millis(20);
        loop {
            while let Some(b) = self.ring.next_block() {
                change.discarded += b.header().map(|h| u64::from(h.num_pkts)).unwrap_or(0);
            }
            let now = Instant::now();
            if now >= deadline {
                break;
            }
            let mut fds = [libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            }];
            let left = (deadline - now).as_millis().min(1000) as libc::c_int;
            sys::poll(&mut fds, left.max(1))
                .map_err(|e| Error::io("waiting while draining the ring", e))?;
        }
        let prog = effective_program(Some(prog), self.snaplen, self.ignore_outgoing_in_filter)
            .unwrap_or_else(|| vec![Insn::stmt(bpf::RET | bpf::K, self.snaplen)]);
        self.attach(&prog)?;
        Ok(change)
    }

    /// Stops new frames from entering the ring (a reject-all filter), so
    /// that a capture can read what is left and end with nothing lost in
    /// between: frames the kernel already accepted stay in the ring, and
    /// the block being filled is handed over within one block timeout.
    /// Returns false when the filter is locked (`SO_LOCK_FILTER`): frames
    /// keep coming, and the caller stops reading when it chooses.
    pub fn stop_intake(&mut self) -> Result<bool> {
        match self.attach(&[Insn::stmt(bpf::RET | bpf::K, 0)]) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::Permission => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The block timeout of the ring.
    pub fn block_timeout(&self) -> Duration {
        self.block_timeout
    }

    /// Removes the kernel filter (every frame is delivered again).
    pub fn detach_filter(&mut self) -> Result<()> {
        let zero: libc::c_int = 0;
        sys::setsockopt(
            self.fd.as_fd(),
            libc::SOL_SOCKET,
            libc::SO_DETACH_FILTER,
            &zero,
        )
        .map_err(|e| Error::io(format!("detaching the filter on {}", self.interface), e))?;
        self.filter_len = 0;
        Ok(())
    }

    /// Registers an interrupt that ends [`Capture::next_block`] waits.
    pub fn set_interrupt(&mut self, interrupt: Arc<Interrupt>) {
        self.interrupt = Some(interrupt);
    }

    /// The link type of the frames (as [`Block::framing`] presents them).
    pub fn linktype(&self) -> LinkType {
        self.mapping.linktype
    }

    /// How frames are presented to files.
    pub fn framing(&self) -> Framing {
        self.ring.framing()
    }

    /// The interface name (`"any"` for all).
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface index (0 for `any`).
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The snap length in force.
    pub fn snaplen(&self) -> u32 {
        self.snaplen
    }

    /// Whether the socket holds the interface in promiscuous mode.
    pub fn promiscuous(&self) -> bool {
        self.promiscuous
    }

    /// Whether frames carry hardware timestamps (asked for and granted).
    pub fn hardware_timestamps(&self) -> bool {
        self.hardware_ts
    }

    /// Length of the attached filter in instructions (0 for none).
    pub fn filter_len(&self) -> usize {
        self.filter_len
    }

    /// The ring.
    pub fn ring(&self) -> &RxRing {
        &self.ring
    }

    /// Whether a block is ready without waiting.
    pub fn has_ready_block(&self) -> bool {
        self.ring.has_ready_block()
    }

    /// The next block if one is ready, without waiting.
    pub fn try_next_block(&mut self) -> Option<Block<'_>> {
        self.ring.next_block()
    }

    /// Waits up to `timeout` (forever with `None`) for the next block, the
    /// interrupt, or an error. Blocks already in the ring are delivered
    /// before an error of the interface is reported, so nothing captured is
    /// lost when an interface goes away.
    pub fn next_block(&mut self, timeout: Option<Duration>) -> Result<Next<'_>> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            if self.ring.has_ready_block() {
                break;
            }
            if self.interrupt.as_ref().is_some_and(|i| i.is_triggered()) {
                return Ok(Next::Interrupted);
            }
            let wait_ms = match deadline {
                None => -1,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Ok(Next::Timeout);
                    }
                    (d - now).as_millis().clamp(1, i32::MAX as u128) as libc::c_int
                }
            };
            let mut fds = [
                libc::pollfd {
                    fd: self.fd.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.interrupt.as_ref().map_or(-1, |i| i.raw_fd()),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            sys::poll(&mut fds, wait_ms)
                .map_err(|e| Error::io(format!("waiting for frames on {}", self.interface), e))?;
            if self.ring.has_ready_block() {
                break;
            }
            if fds[0].revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                self.check_error()?;
            }
        }
        match self.ring.next_block() {
            Some(b) => Ok(Next::Block(b)),
            None => Ok(Next::Timeout),
        }
    }

    /// Reads and clears the socket's pending error, turning "interface
    /// down" and "interface deleted" into clear errors.
    pub fn check_error(&self) -> Result<()> {
        let err = sys::take_socket_error(self.fd.as_fd())
            .map_err(|e| Error::io(format!("reading the socket error on {}", self.interface), e))?;
        let Some(e) = err else { return Ok(()) };
        Err(interface_error(
            self.fd.as_fd(),
            &self.interface,
            self.ifindex,
            e,
        ))
    }

    /// Reads the kernel's counters (which resets them) and returns the
    /// totals since open.
    pub fn stats(&mut self) -> Result<Stats> {
        let s: libc::tpacket_stats_v3 =
            sys::getsockopt(self.fd.as_fd(), libc::SOL_PACKET, libc::PACKET_STATISTICS)
                .map_err(|e| Error::io(format!("reading statistics on {}", self.interface), e))?;
        self.stats.packets += u64::from(s.tp_packets);
        self.stats.drops += u64::from(s.tp_drops);
        self.stats.freeze_q_cnt += u64::from(s.tp_freeze_q_cnt);
        Ok(self.stats)
    }
}

/// Classifies an error of a socket bound to `ifindex`: "went down" while
/// the interface still exists, "went away" once it is gone. The lookup goes
/// through the socket itself, so it happens in the socket's network
/// namespace whatever thread asks.
pub(crate) fn interface_error(
    fd: BorrowedFd<'_>,
    name: &str,
    ifindex: u32,
    e: std::io::Error,
) -> Error {
    match e.raw_os_error() {
        Some(libc::ENETDOWN) | Some(libc::ENODEV) | Some(libc::ENXIO) => {
            // Deleting an interface first takes it down (the socket hears
            // ENETDOWN), then unregisters it a moment later: give it up to
            // 200 ms to disappear before calling it merely down.
            let exists = || {
                let mut req = sys::IfReq::new("");
                req.data[..4].copy_from_slice(&(ifindex as i32).to_ne_bytes());
                match sys::ioctl_ifreq(fd, libc::SIOCGIFNAME, &mut req) {
                    Ok(()) => true,
                    Err(e) => !matches!(e.raw_os_error(), Some(libc::ENODEV) | Some(libc::ENXIO)),
                }
            };
            let deadline = Instant::now() + Duration::from_millis(200);
            let gone = loop {
                if !exists() {
                    break true;
                }
                if Instant::now() >= deadline {
                    break false;
                }
                std::thread::sleep(Duration::from_millis(5));
            };
            if gone {
                Error::with_kind(
                    ErrorKind::InterfaceGone,
                    format!("interface {name} went away"),
                    e,
                )
            } else {
                Error::with_kind(
                    ErrorKind::InterfaceDown,
                    format!("interface {name} went down"),
                    e,
                )
            }
        }
        _ => Error::io(format!("capture on {name}"), e),
    }
}

impl AsFd for Capture {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Which of several captures have a block ready.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ready {
    /// Indices (into the slice given to [`wait_any`]) with a block ready.
    pub ready: Vec<usize>,
    /// The interrupt was triggered.
    pub interrupted: bool,
}

/// Waits up to `timeout` until one of `captures` has a block ready or the
/// interrupt is triggered; for several interfaces at once (one socket
/// each). Errors of an interface (went down, went away) are reported once
/// its ring is empty.
pub fn wait_any(
    captures: &[&Capture],
    interrupt: Option<&Interrupt>,
    timeout: Option<Duration>,
) -> Result<Ready> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut fds: Vec<libc::pollfd> = Vec::with_capacity(captures.len() + 1);
    loop {
        let ready: Vec<usize> = (0..captures.len())
            .filter(|&i| captures[i].has_ready_block())
            .collect();
        let interrupted = interrupt.is_some_and(|i| i.is_triggered());
        if !ready.is_empty() || interrupted {
            return Ok(Ready { ready, interrupted });
        }
        let wait_ms = match deadline {
            None => -1,
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(Ready::default());
                }
                (d - now).as_millis().clamp(1, i32::MAX as u128) as libc::c_int
            }
        };
        fds.clear();
        fds.extend(captures.iter().map(|c| libc::pollfd {
            fd: c.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }));
        fds.push(libc::pollfd {
            fd: interrupt.map_or(-1, |i| i.raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        });
        sys::poll(&mut fds, wait_ms).map_err(|e| Error::io("waiting for frames", e))?;
        for (i, c) in captures.iter().enumerate() {
            if fds[i].revents & libc::POLLERR != 0 && !c.has_ready_block() {
                c.check_error()?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fanout_argument_packs_group_mode_and_flags() {
        let f = Fanout {
            group: 0x1234,
            mode: FanoutMode::Cpu,
            defrag: true,
            rollover: true,
        };
        assert_eq!(f.arg(), 0x1234 | ((2 | 0x8000 | 0x1000) << 16));
        assert_eq!(Fanout::new(7, FanoutMode::Hash).arg(), 7);
    }

    #[test]
    fn program_is_clamped_and_prefixed() {
        let prog = [
            Insn::stmt(bpf::LD | bpf::H | bpf::ABS, 12),
            Insn::jump(bpf::JMP | bpf::JEQ | bpf::K, 0x800, 0, 1),
            Insn::stmt(bpf::RET | bpf::K, 262_144),
            Insn::stmt(bpf::RET | bpf::K, 0),
        ];
        let p = effective_program(Some(&prog), 96, false).unwrap();
        assert_eq!(p[2].k, 96);
        assert_eq!(p[3].k, 0);
        let p = effective_program(Some(&prog), 96, true).unwrap();
        assert_eq!(p.len(), 8);
        assert_eq!(p[0].k, bpf::ancillary::PKTTYPE);
        assert_eq!(p[6].k, 96);
        assert_eq!(effective_program(None, MAX_SNAPLEN, false), None);
        assert_eq!(
            effective_program(None, 64, false).unwrap(),
            vec![Insn::stmt(bpf::RET | bpf::K, 64)]
        );
    }

    #[test]
    fn missing_interface_is_a_clear_error() {
        let e = Capture::open(&CaptureConfig::new("nosuch0")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoSuchInterface);
        assert!(e.to_string().contains("nosuch0"));
    }
}
