//! Sending whole frames: `sendmmsg` batches and a TPACKET TX ring.
//!
//! A [`TxSocket`] is an AF_PACKET socket bound to one interface with
//! protocol 0, so it never receives. Frames start at the link-layer header
//! and go out as they are. Transient refusals (`ENOBUFS`, `EAGAIN`: queue or
//! socket buffer full) are retried a bounded number of times after waiting
//! for the socket to become writable; what still does not go out is counted
//! as failed, never lost silently. Frames the kernel would refuse (shorter
//! than the link header, longer than MTU + header) are counted as failed
//! before they are handed over.
//!
//! The TX ring (`PACKET_TX_RING`) is filled slot by slot: a slot whose
//! status word reads `TP_STATUS_AVAILABLE` (Acquire) is written, then
//! marked `TP_STATUS_SEND_REQUEST` (Release), and a zero-length `send`
//! asks the kernel to transmit everything marked. `PACKET_LOSS` is on, so a
//! slot the kernel refuses cannot stall the ring; the checks above keep
//! such slots from being submitted in the first place.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result, needs_net_raw};
use crate::iface::{self, LinkMapping};
use crate::sys::{self, Mmap};

const TP_STATUS_AVAILABLE: u32 = 0;
const TP_STATUS_SEND_REQUEST: u32 = 1;
const TP_STATUS_WRONG_FORMAT: u32 = 1 << 2;
const TPACKET_V2: libc::c_int = 1;
const TPACKET_V3: libc::c_int = 2;

/// Layout of a TX ring slot for one TPACKET version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TxRingVersion {
    /// `struct tpacket2_hdr` slots (status at 0, data at 32).
    V2,
    /// `struct tpacket3_hdr` slots (status at 20, data at 48).
    V3,
}

impl TxRingVersion {
    fn status_offset(self) -> usize {
        match self {
            TxRingVersion::V2 => 0,
            TxRingVersion::V3 => 20,
        }
    }

    fn len_offset(self) -> usize {
        match self {
            TxRingVersion::V2 => 4,
            TxRingVersion::V3 => 16,
        }
    }

    /// Where the frame starts in a slot (`tp_hdrlen - sizeof(sockaddr_ll)`).
    pub fn data_offset(self) -> usize {
        match self {
            TxRingVersion::V2 => 32,
            TxRingVersion::V3 => 48,
        }
    }
}

/// Geometry of a TX ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TxRingConfig {
    /// Bytes per slot: a power of two, at least the largest frame plus the
    /// slot header.
    pub frame_size: usize,
    /// Number of slots.
    pub frame_count: usize,
    /// Slot layout.
    pub version: TxRingVersion,
}

impl TxRingConfig {
    /// 2 KiB slots (frames up to 2000 bytes), 4096 of them (8 MiB),
    /// TPACKET_V2.
    ///
    /// Measured with `examples/udpgen.rs` on a lab veth, 60-byte frames for
    /// 5 s, two runs each on 2 shared cores (kpps): `sendmmsg` 148/168,
    /// with qdisc bypass 148/183; V2 ring 127/152, bypass 125/138; V3 ring
    /// 144/139, bypass 118/181; trafgen 135/191. On veth the rings are no
    /// faster than `sendmmsg` and V2 and V3 are equal within the noise, so
    /// V2 is the ring default (it works on every kernel; V3 TX needs 4.11)
    /// and [`TxConfig::new`] uses `sendmmsg`.
    pub const DEFAULT: TxRingConfig = TxRingConfig {
        frame_size: 2048,
        frame_count: 4096,
        version: TxRingVersion::V2,
    };

    fn block_size(&self) -> usize {
        self.frame_size.max(sys::page_size())
    }

    fn validate(&self) -> std::result::Result<(), String> {
        if !self.frame_size.is_power_of_two() || self.frame_size < 128 {
            return Err(format!(
                "TX slot size {} is not a power of two ≥ 128",
                self.frame_size
            ));
        }
        let per_block = self.block_size() / self.frame_size;
        if self.frame_count == 0
            || !self.frame_count.is_multiple_of(per_block)
            || u32::try_from(self.frame_count).is_err()
        {
            return Err(format!(
                "TX slot count {} must be a positive multiple of {per_block}",
                self.frame_count
            ));
        }
        Ok(())
    }
}

impl Default for TxRingConfig {
    fn default() -> Self {
        TxRingConfig::DEFAULT
    }
}

/// Everything [`TxSocket::open`] needs.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct TxConfig {
    /// Interface to send on.
    pub interface: String,
    /// Hand frames straight to the driver, skipping the qdisc layer
    /// (`PACKET_QDISC_BYPASS`): faster, but no traffic shaping and no
    /// local taps of outgoing traffic on some paths.
    pub qdisc_bypass: bool,
    /// Use a TX ring (otherwise `sendmmsg`).
    pub ring: Option<TxRingConfig>,
    /// Retries of one frame after `ENOBUFS`/`EAGAIN` before it counts as
    /// failed.
    pub max_retries: u32,
    /// Longest wait for the socket to become writable before a retry.
    pub retry_wait: Duration,
}

impl TxConfig {
    /// `sendmmsg` on `interface`, qdisc kept, 100 retries of up to 10 ms.
    pub fn new(interface: impl Into<String>) -> TxConfig {
        TxConfig {
            interface: interface.into(),
            qdisc_bypass: false,
            ring: None,
            max_retries: 100,
            retry_wait: Duration::from_millis(10),
        }
    }
}

/// Counts of a send call (and, accumulated, of a socket's life).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SendReport {
    /// Frames the kernel accepted.
    pub sent: u64,
    /// Bytes in those frames.
    pub bytes: u64,
    /// Frames that did not go out (refused, too large, retries used up).
    pub failed: u64,
    /// Waits for room (`ENOBUFS`/`EAGAIN` or a full ring).
    pub retries: u64,
}

impl SendReport {
    fn add(&mut self, o: &SendReport) {
        self.sent += o.sent;
        self.bytes += o.bytes;
        self.failed += o.failed;
        self.retries += o.retries;
    }
}

struct TxRing {
    map: Mmap,
    config: TxRingConfig,
    head: usize,
    tail: usize,
    in_flight: usize,
    in_flight_bytes: Vec<u32>,
}

impl TxRing {
    fn slot_offset(&self, i: usize) -> usize {
        let c = &self.config;
        let per_block = c.block_size() / c.frame_size;
        (i / per_block) * c.block_size() + (i % per_block) * c.frame_size
    }

    fn status(&self, i: usize) -> u32 {
        // SAFETY: the status word of slot `i`, inside the mapping and 4-byte
        // aligned; this process only takes a `&mut` of a slot while its
        // status is AVAILABLE, never across this load, and writes the word
        // only with store_release.
        unsafe {
            self.map
                .load_acquire(self.slot_offset(i) + self.config.version.status_offset())
        }
    }

    /// Moves finished slots (oldest first) out of flight.
    fn reclaim(&mut self, report: &mut SendReport) {
        while self.in_flight > 0 {
            let st = self.status(self.tail);
            if st == TP_STATUS_AVAILABLE {
                report.sent += 1;
                report.bytes += u64::from(self.in_flight_bytes[self.tail]);
            } else if st & TP_STATUS_WRONG_FORMAT != 0 {
                report.failed += 1;
                // SAFETY: the kernel is done with a WRONG_FORMAT slot; no
                // borrow of it is alive.
                unsafe {
                    self.map.store_release(
                        self.slot_offset(self.tail) + self.config.version.status_offset(),
                        TP_STATUS_AVAILABLE,
                    )
                };
            } else {
                break;
            }
            self.tail = (self.tail + 1) % self.config.frame_count;
            self.in_flight -= 1;
        }
    }

    /// Writes `frame` into the head slot, which must be AVAILABLE and not in
    /// flight, and marks it for sending.
    fn push(&mut self, frame: &[u8]) {
        let off = self.slot_offset(self.head);
        let v = self.config.version;
        {
            // SAFETY: slot `head` is not in flight and its status reads
            // AVAILABLE (checked by the caller with an Acquire load), so the
            // kernel does not touch it; this is the only borrow of it, and it
            // ends before the Release store below.
            let slot = unsafe { self.map.slice_mut(off, self.config.frame_size) };
            slot[v.len_offset()..v.len_offset() + 4]
                .copy_from_slice(&(frame.len() as u32).to_ne_bytes());
            if v == TxRingVersion::V3 {
                // tp_next_offset must be 0 for TX.
                slot[0..4].copy_from_slice(&0u32.to_ne_bytes());
            }
            slot[v.data_offset()..v.data_offset() + frame.len()].copy_from_slice(frame);
        }
        // SAFETY: the slot borrow above has ended; the Release store
        // publishes the frame bytes before the kernel sees SEND_REQUEST.
        unsafe {
            self.map
                .store_release(off + v.status_offset(), TP_STATUS_SEND_REQUEST)
        };
        self.in_flight_bytes[self.head] = frame.len() as u32;
        self.head = (self.head + 1) % self.config.frame_count;
        self.in_flight += 1;
    }
}

/// A socket that sends whole frames on one interface.
pub struct TxSocket {
    ring: Option<TxRing>,
    fd: OwnedFd,
    interface: String,
    ifindex: u32,
    mapping: LinkMapping,
    max_len: usize,
    max_retries: u32,
    retry_wait: Duration,
    qdisc_bypass: bool,
    total: SendReport,
}

impl std::fmt::Debug for TxSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TxSocket")
            .field("interface", &self.interface)
            .field("ring", &self.ring.as_ref().map(|r| r.config))
            .field("total", &self.total)
            .finish()
    }
}

/// Largest batch handed to one `sendmmsg`.
const MAX_BATCH: usize = sys::SEND_BATCH;

impl TxSocket {
    /// Opens a sending socket on `config.interface`. Needs CAP_NET_RAW.
    pub fn open(config: &TxConfig) -> Result<TxSocket> {
        let name = config.interface.as_str();
        let i = iface::Interface::by_name(name)?;
        let mapping = i.link_mapping();
        if mapping.cooked {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "sending on {name}: its device type {} has no known link header",
                    i.hatype
                ),
            ));
        }
        let fd = sys::packet_socket(libc::SOCK_RAW, 0).map_err(|e| match e.raw_os_error() {
            Some(libc::EPERM) | Some(libc::EACCES) => {
                needs_net_raw(&format!("sending on {name}"), e)
            }
            _ => Error::io(format!("opening a packet socket for {name}"), e),
        })?;
        let opt = |o, v: libc::c_int, what: &str| {
            sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, o, &v)
                .map_err(|e| Error::io(format!("{what} on {name}"), e))
        };
        let mut qdisc_bypass = false;
        if config.qdisc_bypass {
            opt(libc::PACKET_QDISC_BYPASS, 1, "enabling PACKET_QDISC_BYPASS")?;
            qdisc_bypass = true;
        }
        let header = if i.hatype == iface::arphrd::ETHER || i.hatype == iface::arphrd::LOOPBACK {
            14
        } else {
            0
        };
        let max_len = i.mtu as usize + header;
        let ring = match config.ring {
            None => None,
            Some(rc) => {
                rc.validate().map_err(|m| {
                    Error::new(ErrorKind::InvalidConfig, format!("TX ring for {name}: {m}"))
                })?;
                let version = match rc.version {
                    TxRingVersion::V2 => TPACKET_V2,
                    TxRingVersion::V3 => TPACKET_V3,
                };
                opt(
                    libc::PACKET_VERSION,
                    version,
                    "selecting the TX ring version",
                )?;
                opt(libc::PACKET_LOSS, 1, "enabling PACKET_LOSS")?;
                let block_size = rc.block_size();
                let block_nr = rc.frame_count / (block_size / rc.frame_size);
                let total = block_size * block_nr;
                let res = match rc.version {
                    TxRingVersion::V2 => {
                        let req = libc::tpacket_req {
                            tp_block_size: block_size as u32,
                            tp_block_nr: block_nr as u32,
                            tp_frame_size: rc.frame_size as u32,
                            tp_frame_nr: rc.frame_count as u32,
                        };
                        sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_TX_RING, &req)
                    }
                    TxRingVersion::V3 => {
                        let req = libc::tpacket_req3 {
                            tp_block_size: block_size as u32,
                            tp_block_nr: block_nr as u32,
                            tp_frame_size: rc.frame_size as u32,
                            tp_frame_nr: rc.frame_count as u32,
                            tp_retire_blk_tov: 0,
                            tp_sizeof_priv: 0,
                            tp_feature_req_word: 0,
                        };
                        sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_TX_RING, &req)
                    }
                };
                res.map_err(|e| {
                    Error::io(
                        format!("setting up a {} KiB TX ring on {name}", total >> 10),
                        e,
                    )
                })?;
                let map = Mmap::shared(fd.as_fd(), total).map_err(|e| {
                    Error::io(
                        format!("mapping a {} KiB TX ring on {name}", total >> 10),
                        e,
                    )
                })?;
                Some(TxRing {
                    map,
                    config: rc,
                    head: 0,
                    tail: 0,
                    in_flight: 0,
                    in_flight_bytes: vec![0; rc.frame_count],
                })
            }
        };
        sys::bind_packet(fd.as_fd(), i.index, 0)
            .map_err(|e| Error::io(format!("binding to {name}"), e))?;
        Ok(TxSocket {
            ring,
            fd,
            interface: name.to_owned(),
            ifindex: i.index,
            mapping,
            max_len,
            max_retries: config.max_retries,
            retry_wait: config.retry_wait,
            qdisc_bypass,
            total: SendReport::default(),
        })
    }

    /// The interface.
    pub fn interface(&self) -> &str {
        &self.interface
    }

    /// The interface index.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// The link type frames must have.
    pub fn linktype(&self) -> sluice_wire::LinkType {
        self.mapping.linktype
    }

    /// Whether `PACKET_QDISC_BYPASS` is on.
    pub fn qdisc_bypass(&self) -> bool {
        self.qdisc_bypass
    }

    /// Whether frames go through a TX ring.
    pub fn uses_ring(&self) -> bool {
        self.ring.is_some()
    }

    /// Largest frame accepted (MTU plus link header; 4 more for a VLAN tag).
    pub fn max_frame_len(&self) -> usize {
        self.max_len
    }

    /// Totals since open.
    pub fn totals(&self) -> SendReport {
        self.total
    }

    fn acceptable(&self, frame: &[u8]) -> bool {
        let tagged =
            frame.len() >= 14 && matches!([frame[12], frame[13]], [0x81, 0x00] | [0x88, 0xa8]);
        let max = self.max_len + if tagged { 4 } else { 0 };
        let min = if self.mapping.vlan_offset.is_some() {
            14
        } else {
            1
        };
        frame.len() >= min && frame.len() <= max
    }

    /// Sends `frames` through the TX ring if there is one, else with
    /// `sendmmsg`.
    pub fn send(&mut self, frames: &[&[u8]]) -> Result<SendReport> {
        if self.ring.is_some() {
            self.send_ring(frames)
        } else {
            self.send_batch(frames)
        }
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
        if fds[0].revents & libc::POLLERR != 0
            && let Some(e) = sys::take_socket_error(self.fd.as_fd())
                .map_err(|e| Error::io("reading the socket error", e))?
        {
            return Err(crate::capture::interface_error(
                self.fd.as_fd(),
                &self.interface,
                self.ifindex,
                e,
            ));
        }
        Ok(())
    }

    /// Sends `frames` with `sendmmsg`, up to 256 per system call.
    pub fn send_batch(&mut self, frames: &[&[u8]]) -> Result<SendReport> {
        let mut report = SendReport::default();
        let mut i = 0;
        let mut retries_here = 0u32;
        while i < frames.len() {
            // Collect a run of acceptable frames.
            let mut end = i;
            while end < frames.len() && end - i < MAX_BATCH && self.acceptable(frames[end]) {
                end += 1;
            }
            if end == i {
                report.failed += 1;
                i += 1;
                continue;
            }
            match sys::sendmmsg_frames(self.fd.as_fd(), &frames[i..end]) {
                Ok(n) => {
                    report.sent += n as u64;
                    report.bytes += frames[i..i + n].iter().map(|f| f.len() as u64).sum::<u64>();
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
                        self.total.add(&report);
                        return Err(crate::capture::interface_error(
                            self.fd.as_fd(),
                            &self.interface,
                            self.ifindex,
                            e,
                        ));
                    }
                    Some(libc::EPERM) | Some(libc::EACCES) => {
                        self.total.add(&report);
                        return Err(Error::io(format!("sending on {}", self.interface), e));
                    }
                    // EMSGSIZE, EINVAL…: this frame is refused; go on.
                    _ => {
                        report.failed += 1;
                        i += 1;
                    }
                },
            }
        }
        self.total.add(&report);
        Ok(report)
    }

    /// Sends `frames` through the TX ring and waits (bounded) until the
    /// kernel has taken them all. Without a ring, an error.
    pub fn send_ring(&mut self, frames: &[&[u8]]) -> Result<SendReport> {
        let mut report = SendReport::default();
        let cap = match &self.ring {
            Some(r) => r.config.frame_size - r.config.version.data_offset(),
            None => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    format!("sending on {}: the socket has no TX ring", self.interface),
                ));
            }
        };
        let batch = self
            .ring
            .as_ref()
            .map_or(1, |r| (r.config.frame_count / 4).max(1));
        let mut since_kick = 0usize;
        for f in frames {
            if !self.acceptable(f) || f.len() > cap {
                report.failed += 1;
                continue;
            }
            let mut tries = 0u32;
            loop {
                let ring = self.ring.as_mut().expect("checked above");
                ring.reclaim(&mut report);
                if ring.in_flight < ring.config.frame_count
                    && ring.status(ring.head) == TP_STATUS_AVAILABLE
                {
                    ring.push(f);
                    since_kick += 1;
                    break;
                }
                if tries >= self.max_retries {
                    report.failed += 1;
                    break;
                }
                tries += 1;
                report.retries += 1;
                self.kick(&mut report, false)?;
                since_kick = 0;
                self.wait_writable()?;
            }
            if since_kick >= batch {
                self.kick(&mut report, false)?;
                since_kick = 0;
            }
        }
        self.flush_into(&mut report)?;
        self.total.add(&report);
        Ok(report)
    }

    fn kick(&mut self, report: &mut SendReport, wait: bool) -> Result<()> {
        let flags = if wait { 0 } else { libc::MSG_DONTWAIT };
        match sys::send_kick(self.fd.as_fd(), flags) {
            Ok(_) => Ok(()),
            Err(e) => match e.raw_os_error() {
                Some(libc::ENOBUFS) | Some(libc::EAGAIN) => {
                    report.retries += 1;
                    Ok(())
                }
                Some(libc::ENETDOWN) | Some(libc::ENXIO) | Some(libc::ENODEV) => {
                    Err(crate::capture::interface_error(
                        self.fd.as_fd(),
                        &self.interface,
                        self.ifindex,
                        e,
                    ))
                }
                _ => Err(Error::io(
                    format!("sending the TX ring on {}", self.interface),
                    e,
                )),
            },
        }
    }

    fn flush_into(&mut self, report: &mut SendReport) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let Some(ring) = self.ring.as_mut() else {
                return Ok(());
            };
            ring.reclaim(report);
            if ring.in_flight == 0 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                // Still queued: leave them in flight; a later call reclaims
                // and counts them. Say how many are outstanding.
                return Err(Error::new(
                    ErrorKind::Io,
                    format!(
                        "sending on {}: {} frames still queued in the TX ring after 5 s",
                        self.interface, ring.in_flight
                    ),
                ));
            }
            self.kick(report, false)?;
            self.wait_writable()?;
        }
    }

    /// Waits (at most 5 s) until the TX ring is empty and returns what it
    /// counted meanwhile.
    pub fn flush(&mut self) -> Result<SendReport> {
        let mut report = SendReport::default();
        let r = self.flush_into(&mut report);
        self.total.add(&report);
        r.map(|_| report)
    }
}

impl AsFd for TxSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_geometry_is_checked() {
        assert!(TxRingConfig::DEFAULT.validate().is_ok());
        let c = TxRingConfig {
            frame_size: 1000,
            ..TxRingConfig::DEFAULT
        };
        assert!(c.validate().is_err());
        let c = TxRingConfig {
            frame_count: 3,
            ..TxRingConfig::DEFAULT
        };
        assert!(c.validate().is_err());
    }

    #[test]
    fn missing_interface_is_a_clear_error() {
        let e = TxSocket::open(&TxConfig::new("nosuch1")).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NoSuchInterface);
    }
}
