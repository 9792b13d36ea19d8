//! The TPACKET_V3 block walker: a pure function from the bytes of one ring
//! block to the frames in it.
//!
//! The kernel fills a block with a block descriptor (`struct
//! tpacket_block_desc`) followed by `num_pkts` frames, each a `struct
//! tpacket3_hdr`, a `struct sockaddr_ll` and the packet bytes, chained by
//! `tp_next_offset`. Every offset and length the kernel wrote is checked
//! against the block before a slice is made, so a corrupt block yields a
//! [`WalkError`] saying what was wrong and where, never a panic or a read
//! outside the block. No system call happens here: the walker is
//! unit-tested with synthetic blocks and fuzzed (`ring_block_walk`).
//!
//! [`RingFrame::parts`] turns a frame into what a capture file must hold:
//! the VLAN tag the kernel stripped put back (as a zero-copy list of byte
//! pieces for `writev`), a synthesised `LINUX_SLL2` header for cooked
//! captures, and the snap length applied.

use core::fmt;
use std::io::IoSlice;

/// Layout of the block descriptor (`struct tpacket_block_desc` with
/// `struct tpacket_hdr_v1`).
pub mod desc {
    /// `version`.
    pub const VERSION: usize = 0;
    /// `offset_to_priv`.
    pub const OFFSET_TO_PRIV: usize = 4;
    /// `hdr.bh1.block_status`: the word user space and kernel hand over.
    pub const BLOCK_STATUS: usize = 8;
    /// `hdr.bh1.num_pkts`.
    pub const NUM_PKTS: usize = 12;
    /// `hdr.bh1.offset_to_first_pkt`.
    pub const OFFSET_TO_FIRST_PKT: usize = 16;
    /// `hdr.bh1.blk_len`: bytes of the block in use.
    pub const BLK_LEN: usize = 20;
    /// `hdr.bh1.seq_num` (u64).
    pub const SEQ_NUM: usize = 24;
    /// `hdr.bh1.ts_first_pkt` (sec u32, nsec u32).
    pub const TS_FIRST: usize = 32;
    /// `hdr.bh1.ts_last_pkt` (sec u32, nsec u32).
    pub const TS_LAST: usize = 40;
    /// Size of the descriptor.
    pub const LEN: usize = 48;
}

/// Layout of a frame header (`struct tpacket3_hdr`).
pub mod hdr {
    /// `tp_next_offset`: from this header to the next, 0 for the last.
    pub const NEXT_OFFSET: usize = 0;
    /// `tp_sec`.
    pub const SEC: usize = 4;
    /// `tp_nsec`.
    pub const NSEC: usize = 8;
    /// `tp_snaplen`: bytes of the packet in the block.
    pub const SNAPLEN: usize = 12;
    /// `tp_len`: length of the packet on the wire.
    pub const LEN: usize = 16;
    /// `tp_status`.
    pub const STATUS: usize = 20;
    /// `tp_mac` (u16): from this header to the link-layer header.
    pub const MAC: usize = 24;
    /// `tp_net` (u16): from this header to the network header.
    pub const NET: usize = 26;
    /// `hv1.tp_rxhash`.
    pub const RXHASH: usize = 28;
    /// `hv1.tp_vlan_tci` (u32).
    pub const VLAN_TCI: usize = 32;
    /// `hv1.tp_vlan_tpid` (u16).
    pub const VLAN_TPID: usize = 36;
    /// `TPACKET_ALIGN(sizeof(struct tpacket3_hdr))`: where the
    /// `sockaddr_ll` starts.
    pub const SLL: usize = 48;
    /// Size of `struct sockaddr_ll`.
    pub const SLL_LEN: usize = 20;
    /// `TPACKET3_HDRLEN`: header plus address; packet data starts no
    /// earlier than this.
    pub const HDRLEN: usize = SLL + SLL_LEN;
}

/// `tp_status` bits of a received frame (`TP_STATUS_*`).
pub mod status {
    /// Owned by the kernel (block status).
    pub const KERNEL: u32 = 0;
    /// Owned by user space (block status).
    pub const USER: u32 = 1;
    /// Frame was truncated by the ring (V1/V2 only).
    pub const COPY: u32 = 1 << 1;
    /// Frames were dropped before this one.
    pub const LOSING: u32 = 1 << 2;
    /// Checksum not yet computed (offloaded, partial checksum).
    pub const CSUMNOTREADY: u32 = 1 << 3;
    /// `tp_vlan_tci` is valid.
    pub const VLAN_VALID: u32 = 1 << 4;
    /// The block was retired by its timeout (block status).
    pub const BLK_TMO: u32 = 1 << 5;
    /// `tp_vlan_tpid` is valid.
    pub const VLAN_TPID_VALID: u32 = 1 << 6;
    /// Checksum verified by the device.
    pub const CSUM_VALID: u32 = 1 << 7;
    /// GSO TCP frame (newer kernels).
    pub const GSO_TCP: u32 = 1 << 8;
    /// Software timestamp.
    pub const TS_SOFTWARE: u32 = 1 << 29;
    /// Raw hardware timestamp from the NIC.
    pub const TS_RAW_HARDWARE: u32 = 1 << 31;
}

/// Size of `struct virtio_net_hdr`, which precedes the link-layer header
/// when `PACKET_VNET_HDR` is on.
pub const VNET_HDR_LEN: usize = 10;

/// What was wrong with a block.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkErrorKind {
    /// The block is shorter than its descriptor.
    BlockTooShort,
    /// `blk_len` is larger than the block or smaller than the descriptor.
    BadBlockLen,
    /// `offset_to_first_pkt` points outside the used part of the block.
    BadFirstOffset,
    /// `tp_next_offset` is zero, too small, or leads outside the block
    /// while frames remain.
    BadNextOffset,
    /// A frame header or its `sockaddr_ll` runs past the block.
    HeaderOutOfBounds,
    /// `tp_mac` points into the header or past the block.
    BadMacOffset,
    /// `tp_net` points before `tp_mac`.
    BadNetOffset,
    /// `tp_mac + tp_snaplen` runs past the block.
    DataOutOfBounds,
    /// `PACKET_VNET_HDR` is on but there is no room for it before `tp_mac`.
    BadVnetHeader,
}

impl fmt::Display for WalkErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WalkErrorKind::BlockTooShort => "block shorter than its descriptor",
            WalkErrorKind::BadBlockLen => "blk_len outside the block",
            WalkErrorKind::BadFirstOffset => "offset_to_first_pkt outside the block",
            WalkErrorKind::BadNextOffset => {
                "tp_next_offset does not lead to a frame inside the block"
            }
            WalkErrorKind::HeaderOutOfBounds => "frame header runs past the block",
            WalkErrorKind::BadMacOffset => "tp_mac outside the frame",
            WalkErrorKind::BadNetOffset => "tp_net before tp_mac",
            WalkErrorKind::DataOutOfBounds => "tp_mac + tp_snaplen runs past the block",
            WalkErrorKind::BadVnetHeader => "no room for the virtio_net_hdr before tp_mac",
        })
    }
}

/// A malformed block: what, which frame (0-based) and at which byte offset
/// of the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalkError {
    /// What was wrong.
    pub kind: WalkErrorKind,
    /// Index of the frame being read (`None` for the descriptor).
    pub frame: Option<u32>,
    /// Byte offset in the block where the bad value points or lives.
    pub offset: usize,
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.frame {
            Some(i) => write!(
                f,
                "ring block frame {i} at byte {}: {}",
                self.offset, self.kind
            ),
            None => write!(f, "ring block at byte {}: {}", self.offset, self.kind),
        }
    }
}

impl std::error::Error for WalkError {}

/// The header fields of a block, as the kernel wrote them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    /// `block_status` (`TP_STATUS_USER`, `TP_STATUS_BLK_TMO`, …).
    pub status: u32,
    /// `num_pkts`.
    pub num_pkts: u32,
    /// `offset_to_first_pkt`.
    pub offset_to_first_pkt: u32,
    /// `blk_len`.
    pub blk_len: u32,
    /// `seq_num`: increases by one per block the kernel fills.
    pub seq_num: u64,
}

impl BlockHeader {
    /// Whether the kernel retired the block because its timeout expired
    /// (rather than because it was full).
    pub fn timed_out(&self) -> bool {
        self.status & status::BLK_TMO != 0
    }
}

/// Direction and addressing of a frame (`sll_pkttype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PacketType {
    /// To this host (`PACKET_HOST`).
    Host,
    /// Link-layer broadcast.
    Broadcast,
    /// Link-layer multicast.
    Multicast,
    /// To another host, seen in promiscuous mode.
    OtherHost,
    /// Sent by this host.
    Outgoing,
    /// Any other value.
    Unknown(u8),
}

impl PacketType {
    /// From the raw `sll_pkttype`.
    pub fn from_raw(v: u8) -> PacketType {
        match v {
            0 => PacketType::Host,
            1 => PacketType::Broadcast,
            2 => PacketType::Multicast,
            3 => PacketType::OtherHost,
            4 => PacketType::Outgoing,
            other => PacketType::Unknown(other),
        }
    }

    /// The raw `sll_pkttype`.
    pub fn to_raw(self) -> u8 {
        match self {
            PacketType::Host => 0,
            PacketType::Broadcast => 1,
            PacketType::Multicast => 2,
            PacketType::OtherHost => 3,
            PacketType::Outgoing => 4,
            PacketType::Unknown(v) => v,
        }
    }

    /// Whether the frame was sent by this host.
    pub fn is_outgoing(self) -> bool {
        self == PacketType::Outgoing
    }

    /// The pcapng `epb_flags` word for this frame: bits 0–1 the direction
    /// (1 inbound, 2 outbound), bits 2–4 the reception type (1 unicast,
    /// 2 multicast, 3 broadcast, 4 promiscuous); 0 for unknown values.
    pub fn epb_flags(self) -> u32 {
        match self {
            PacketType::Host => 1 | (1 << 2),
            PacketType::Multicast => 1 | (2 << 2),
            PacketType::Broadcast => 1 | (3 << 2),
            PacketType::OtherHost => 1 | (4 << 2),
            PacketType::Outgoing => 2,
            PacketType::Unknown(_) => 0,
        }
    }
}

/// The `sockaddr_ll` the kernel stores with each frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SllInfo {
    /// Interface the frame was seen on.
    pub ifindex: i32,
    /// Direction and addressing.
    pub pkttype: PacketType,
    /// EtherType of the payload (host order).
    pub protocol: u16,
    /// Device type (`ARPHRD_*`).
    pub hatype: u16,
    /// Length of the link-layer address in `addr`.
    pub halen: u8,
    /// Link-layer source address (first `halen` bytes are meaningful).
    pub addr: [u8; 8],
}

/// A VLAN tag the kernel took out of the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vlan {
    /// Tag control information (priority, DEI, VLAN id).
    pub tci: u16,
    /// Tag protocol identifier (0x8100, 0x88a8, …).
    pub tpid: u16,
}

impl Vlan {
    /// The 4 bytes of the tag as they appear on the wire.
    pub fn to_bytes(self) -> [u8; 4] {
        let [a, b] = self.tpid.to_be_bytes();
        let [c, d] = self.tci.to_be_bytes();
        [a, b, c, d]
    }
}

/// The `struct virtio_net_hdr` that precedes a frame with `PACKET_VNET_HDR`
/// (GSO and checksum offload metadata, little endian).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct VnetHdr {
    /// `VIRTIO_NET_HDR_F_*`.
    pub flags: u8,
    /// `VIRTIO_NET_HDR_GSO_*`.
    pub gso_type: u8,
    /// Length of the headers to copy into each segment.
    pub hdr_len: u16,
    /// Segment size for GSO.
    pub gso_size: u16,
    /// Where the checksum starts.
    pub csum_start: u16,
    /// Where the checksum is stored, from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Parses the 10 bytes of a `virtio_net_hdr`.
    pub fn parse(b: &[u8; VNET_HDR_LEN]) -> VnetHdr {
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u16::from_le_bytes([b[2], b[3]]),
            gso_size: u16::from_le_bytes([b[4], b[5]]),
            csum_start: u16::from_le_bytes([b[6], b[7]]),
            csum_offset: u16::from_le_bytes([b[8], b[9]]),
        }
    }

    /// The 10 bytes of this header.
    pub fn to_bytes(self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_le_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_le_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_le_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_le_bytes());
        b
    }
}

/// Where a frame's timestamp came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TsSource {
    /// The kernel's clock when the frame was seen.
    Software,
    /// The NIC's clock (`TP_STATUS_TS_RAW_HARDWARE`).
    Hardware,
    /// No status bit: the frame carried no stamp, so the kernel read the
    /// system clock when it copied the frame to the ring.
    Unknown,
}

/// One frame in a ring block, borrowed from the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingFrame<'a> {
    /// The captured bytes from the link-layer header (or the network header
    /// for `SOCK_DGRAM` sockets), `tp_snaplen` of them.
    pub data: &'a [u8],
    /// Timestamp in nanoseconds since the Unix epoch.
    pub ts_ns: u64,
    /// Bytes captured (`tp_snaplen`, = `data.len()`).
    pub caplen: u32,
    /// Length of the packet as it was (`tp_len`).
    pub origlen: u32,
    /// Offset of the network header within `data` (`tp_net - tp_mac`); at
    /// or past the end of `data` when the snap length cut the frame before
    /// it.
    pub net_offset: u16,
    /// The VLAN tag the kernel stripped, if any.
    pub vlan: Option<Vlan>,
    /// `tp_status` (see [`status`]).
    pub status: u32,
    /// `tp_rxhash` (when `TP_FT_REQ_FILL_RXHASH` was requested).
    pub rxhash: u32,
    /// Interface, direction, protocol and address.
    pub sll: SllInfo,
    /// The virtio-net header, when the walk was asked to expect one.
    pub vnet: Option<VnetHdr>,
}

impl<'a> RingFrame<'a> {
    /// Where the timestamp came from.
    pub fn ts_source(&self) -> TsSource {
        if self.status & status::TS_RAW_HARDWARE != 0 {
            TsSource::Hardware
        } else if self.status & status::TS_SOFTWARE != 0 {
            TsSource::Software
        } else {
            TsSource::Unknown
        }
    }

    /// Whether the checksum is partial (to be filled in by an offload).
    pub fn csum_not_ready(&self) -> bool {
        self.status & status::CSUMNOTREADY != 0
    }

    /// The frame as a capture file must hold it, as pieces to `writev`.
    pub fn parts(&self, framing: Framing) -> FrameParts<'a> {
        FrameParts::new(self, framing)
    }
}

#[inline]
fn rd_u16(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

#[inline]
fn rd_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn rd_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_ne_bytes(w)
}

/// Reads the block descriptor. Fails only when the block is shorter than
/// the descriptor.
pub fn block_header(block: &[u8]) -> Result<BlockHeader, WalkError> {
    if block.len() < desc::LEN {
        return Err(WalkError {
            kind: WalkErrorKind::BlockTooShort,
            frame: None,
            offset: block.len(),
        });
    }
    Ok(BlockHeader {
        status: rd_u32(block, desc::BLOCK_STATUS),
        num_pkts: rd_u32(block, desc::NUM_PKTS),
        offset_to_first_pkt: rd_u32(block, desc::OFFSET_TO_FIRST_PKT),
        blk_len: rd_u32(block, desc::BLK_LEN),
        seq_num: rd_u64(block, desc::SEQ_NUM),
    })
}

/// Options of a walk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WalkOptions {
    /// The socket has `PACKET_VNET_HDR` on: a `virtio_net_hdr` precedes
    /// each frame's data.
    pub vnet_hdr: bool,
}

/// Walks the frames of one block.
///
/// Checks the descriptor first (`blk_len`, `offset_to_first_pkt`), then
/// yields `num_pkts` frames, each checked before it is made; after the
/// first error the iterator ends.
pub fn walk(block: &[u8], options: WalkOptions) -> Result<Frames<'_>, WalkError> {
    let h = block_header(block)?;
    let used = h.blk_len as usize;
    if used > block.len() || used < desc::LEN {
        return Err(WalkError {
            kind: WalkErrorKind::BadBlockLen,
            frame: None,
            offset: desc::BLK_LEN,
        });
    }
    let first = h.offset_to_first_pkt as usize;
    if h.num_pkts > 0 && (first < desc::LEN || first >= used) {
        return Err(WalkError {
            kind: WalkErrorKind::BadFirstOffset,
            frame: None,
            offset: desc::OFFSET_TO_FIRST_PKT,
        });
    }
    Ok(Frames {
        block: &block[..used],
        next: first,
        index: 0,
        remaining: h.num_pkts,
        options,
        failed: false,
        bad_link: None,
    })
}

/// Iterator over the frames of a block (see [`walk`]).
#[derive(Clone, Debug)]
pub struct Frames<'a> {
    block: &'a [u8],
    next: usize,
    index: u32,
    remaining: u32,
    options: WalkOptions,
    failed: bool,
    bad_link: Option<usize>,
}

impl<'a> Frames<'a> {
    /// Frames not yet yielded, as the kernel counted them.
    pub fn remaining(&self) -> u32 {
        if self.failed { 0 } else { self.remaining }
    }

    fn frame_at(&self, at: usize) -> Result<(RingFrame<'a>, u32), WalkError> {
        let b = self.block;
        let err = |kind, offset| WalkError {
            kind,
            frame: Some(self.index),
            offset,
        };
        // The header and the address as one fixed-size array: every field
        // read below is then in bounds by construction.
        let h: &[u8; hdr::HDRLEN] = match at
            .checked_add(hdr::HDRLEN)
            .and_then(|e| b.get(at..e))
            .map(<&[u8; hdr::HDRLEN]>::try_from)
        {
            Some(Ok(h)) => h,
            _ => return Err(err(WalkErrorKind::HeaderOutOfBounds, at)),
        };
        let next_offset = rd_u32(h, hdr::NEXT_OFFSET);
        let snaplen = rd_u32(h, hdr::SNAPLEN);
        let len = rd_u32(h, hdr::LEN);
        let st = rd_u32(h, hdr::STATUS);
        let mac = rd_u16(h, hdr::MAC) as usize;
        let net = rd_u16(h, hdr::NET) as usize;
        if mac < hdr::HDRLEN || at + mac > b.len() {
            return Err(err(WalkErrorKind::BadMacOffset, at + hdr::MAC));
        }
        // tp_net may point past the frame's data (and past the block's
        // used length, frames being 8-byte aligned in a V3 block) when the
        // snap length cuts before the network header: it is only an offset
        // and is never used to make a slice.
        if net < mac {
            return Err(err(WalkErrorKind::BadNetOffset, at + hdr::NET));
        }
        let start = at + mac;
        let end = start
            .checked_add(snaplen as usize)
            .filter(|&e| e <= b.len())
            .ok_or_else(|| err(WalkErrorKind::DataOutOfBounds, at + hdr::SNAPLEN))?;
        let vnet = if self.options.vnet_hdr {
            if mac < hdr::HDRLEN + VNET_HDR_LEN {
                return Err(err(WalkErrorKind::BadVnetHeader, at + hdr::MAC));
            }
            let mut v = [0u8; VNET_HDR_LEN];
            v.copy_from_slice(&b[start - VNET_HDR_LEN..start]);
            Some(VnetHdr::parse(&v))
        } else {
            None
        };
        let tci = rd_u32(h, hdr::VLAN_TCI);
        let tpid = rd_u16(h, hdr::VLAN_TPID);
        // Older kernels set no VLAN_VALID bit for a tag with TCI 0 and no
        // TPID bit at all; treat a non-zero value as valid, as libpcap does.
        let vlan = (st & status::VLAN_VALID != 0 || tci != 0).then_some(Vlan {
            tci: tci as u16,
            tpid: if st & status::VLAN_TPID_VALID != 0 || tpid != 0 {
                tpid
            } else {
                0x8100
            },
        });
        let sll = hdr::SLL;
        let mut addr = [0u8; 8];
        addr.copy_from_slice(&h[sll + 12..sll + 20]);
        let sll = SllInfo {
            protocol: u16::from_be_bytes([h[sll + 2], h[sll + 3]]),
            ifindex: rd_u32(h, sll + 4) as i32,
            hatype: rd_u16(h, sll + 8),
            pkttype: PacketType::from_raw(h[sll + 10]),
            halen: h[sll + 11],
            addr,
        };
        let sec = u64::from(rd_u32(h, hdr::SEC));
        let nsec = u64::from(rd_u32(h, hdr::NSEC));
        Ok((
            RingFrame {
                data: &b[start..end],
                ts_ns: sec * 1_000_000_000 + nsec,
                caplen: snaplen,
                origlen: len,
                net_offset: (net - mac) as u16,
                vlan,
                status: st,
                rxhash: rd_u32(h, hdr::RXHASH),
                sll,
                vnet,
            },
            next_offset,
        ))
    }
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<RingFrame<'a>, WalkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.remaining == 0 {
            return None;
        }
        if let Some(offset) = self.bad_link {
            self.failed = true;
            return Some(Err(WalkError {
                kind: WalkErrorKind::BadNextOffset,
                frame: Some(self.index),
                offset,
            }));
        }
        let at = self.next;
        match self.frame_at(at) {
            Ok((frame, next_offset)) => {
                self.remaining -= 1;
                self.index += 1;
                if self.remaining > 0 {
                    // A link must step past the header (so the walk always
                    // moves forward) and stay inside the used block.
                    match at.checked_add(next_offset as usize) {
                        Some(n) if next_offset as usize >= hdr::HDRLEN && n < self.block.len() => {
                            self.next = n
                        }
                        // Reported on the next call, after this good frame.
                        _ => self.bad_link = Some(at + hdr::NEXT_OFFSET),
                    }
                }
                Some(Ok(frame))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.remaining() as usize))
    }
}

/// How a capture presents frames to a file (see [`RingFrame::parts`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    /// What goes in front of the data.
    pub kind: FramingKind,
    /// Longest frame to keep; longer ones are cut (the original length is
    /// kept).
    pub snaplen: u32,
}

/// The shape of the link-layer header in files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingKind {
    /// The data starts with the device's own link-layer header. A stripped
    /// VLAN tag is put back at `vlan_offset` (12 for Ethernet: after the two
    /// MAC addresses); `None` for link types without tags.
    Raw {
        /// Where the tag goes in the link-layer header.
        vlan_offset: Option<usize>,
    },
    /// The data starts at the network header (`SOCK_DGRAM`); a 20-byte
    /// `LINUX_SLL2` header is made from the `sockaddr_ll`. A stripped VLAN
    /// tag becomes the header's protocol plus 4 bytes after the header
    /// (TCI, original protocol), so the tag survives in the file.
    Sll2,
}

/// The pieces of a frame in file order (see [`FrameParts::split`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Split<'p, 'a> {
    /// Synthesised bytes (the `LINUX_SLL2` header), possibly empty.
    pub head: &'p [u8],
    /// The data up to the VLAN tag (all of it without one), in the ring.
    pub first: &'a [u8],
    /// The VLAN tag put back.
    pub tag: Option<[u8; 4]>,
    /// The data after the tag, in the ring.
    pub rest: &'a [u8],
}

/// Length of a `LINUX_SLL2` header.
pub const SLL2_HDR_LEN: usize = 20;

/// A frame as byte pieces in file order: `head` (synthesised bytes),
/// `first`, the optional 4-byte VLAN `tag`, `rest`. Nothing is copied from
/// the ring; a writer hands [`FrameParts::io_slices`] to `writev`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameParts<'a> {
    head: [u8; SLL2_HDR_LEN + 4],
    head_len: u8,
    first: &'a [u8],
    tag: Option<[u8; 4]>,
    rest: &'a [u8],
    origlen: u32,
}

impl<'a> FrameParts<'a> {
    fn new(f: &RingFrame<'a>, framing: Framing) -> FrameParts<'a> {
        let mut head = [0u8; SLL2_HDR_LEN + 4];
        let mut head_len = 0usize;
        let mut first = f.data;
        let mut tag = None;
        let mut rest: &[u8] = &[];
        let mut origlen = f.origlen as usize;
        match framing.kind {
            FramingKind::Raw { vlan_offset } => {
                if let (Some(v), Some(off)) = (f.vlan, vlan_offset)
                    && f.data.len() >= off
                {
                    let (a, b) = f.data.split_at(off);
                    first = a;
                    rest = b;
                    tag = Some(v.to_bytes());
                    origlen += 4;
                }
            }
            FramingKind::Sll2 => {
                let protocol = match f.vlan {
                    Some(v) => v.tpid,
                    None => f.sll.protocol,
                };
                head[0..2].copy_from_slice(&protocol.to_be_bytes());
                // 2..4 reserved
                head[4..8].copy_from_slice(&f.sll.ifindex.to_be_bytes());
                head[8..10].copy_from_slice(&f.sll.hatype.to_be_bytes());
                head[10] = f.sll.pkttype.to_raw();
                head[11] = f.sll.halen;
                head[12..20].copy_from_slice(&f.sll.addr);
                head_len = SLL2_HDR_LEN;
                origlen += SLL2_HDR_LEN;
                if let Some(v) = f.vlan {
                    head[20..22].copy_from_slice(&v.tci.to_be_bytes());
                    head[22..24].copy_from_slice(&f.sll.protocol.to_be_bytes());
                    head_len += 4;
                    origlen += 4;
                }
            }
        }
        let mut p = FrameParts {
            head,
            head_len: head_len as u8,
            first,
            tag,
            rest,
            origlen: u32::try_from(origlen).unwrap_or(u32::MAX),
        };
        p.truncate(framing.snaplen as usize);
        p
    }

    fn truncate(&mut self, max: usize) {
        let mut left = max;
        let h = (self.head_len as usize).min(left);
        self.head_len = h as u8;
        left -= h;
        let n = self.first.len().min(left);
        self.first = &self.first[..n];
        left -= n;
        if self.tag.is_some() {
            if left >= 4 {
                left -= 4;
            } else {
                // A tag cut in the middle would misreport the frame; cut
                // before it instead.
                self.tag = None;
                left = 0;
            }
        }
        let n = self.rest.len().min(left);
        self.rest = &self.rest[..n];
    }

    /// Bytes in the file record (captured length).
    pub fn caplen(&self) -> usize {
        self.head_len as usize
            + self.first.len()
            + if self.tag.is_some() { 4 } else { 0 }
            + self.rest.len()
    }

    /// Length of the frame as it was on the wire, tag and synthesised
    /// header included.
    pub fn origlen(&self) -> u32 {
        self.origlen
    }

    /// Whether the snap length cut the frame.
    pub fn is_truncated(&self) -> bool {
        (self.caplen() as u64) < u64::from(self.origlen)
    }

    /// The synthesised bytes (SLL2 header), possibly empty.
    pub fn head(&self) -> &[u8] {
        &self.head[..self.head_len as usize]
    }

    /// The pieces in order, empty ones left out; at most 4.
    pub fn io_slices(&self) -> impl Iterator<Item = IoSlice<'_>> {
        let tag: &[u8] = match &self.tag {
            Some(t) => t,
            None => &[],
        };
        [self.head(), self.first, tag, self.rest]
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(IoSlice::new)
    }

    /// The pieces as plain slices, in order (some may be empty).
    pub fn slices(&self) -> [&[u8]; 4] {
        let tag: &[u8] = match &self.tag {
            Some(t) => t,
            None => &[],
        };
        [self.head(), self.first, tag, self.rest]
    }

    /// The pieces with the ring's bytes borrowed for as long as the block
    /// (the head only as long as `self`). A writer that gathers a whole
    /// block for one `writev` copies head and tag and keeps the two ring
    /// slices.
    pub fn split(&self) -> Split<'_, 'a> {
        Split {
            head: self.head(),
            first: self.first,
            tag: self.tag,
            rest: self.rest,
        }
    }

    /// Appends the whole record to `out` (a copy, for tests and slow paths).
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for s in self.slices() {
            out.extend_from_slice(s);
        }
    }

    /// The whole record as one vector (a copy).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.caplen());
        self.write_to(&mut v);
        v
    }
}

/// Builds synthetic blocks in the kernel's layout, for tests and fuzzing
/// seeds.
pub mod synth {
    use super::{desc, hdr, status};

    /// One frame to put in a synthetic block.
    #[derive(Clone, Debug, Default)]
    pub struct SynthFrame {
        /// Packet bytes.
        pub data: Vec<u8>,
        /// `tp_len` (0 = `data.len()`).
        pub origlen: u32,
        /// `tp_sec`.
        pub sec: u32,
        /// `tp_nsec`.
        pub nsec: u32,
        /// `tp_status` extra bits.
        pub status: u32,
        /// `tp_vlan_tci`.
        pub vlan_tci: u32,
        /// `tp_vlan_tpid`.
        pub vlan_tpid: u16,
        /// `sll_ifindex`.
        pub ifindex: i32,
        /// `sll_pkttype`.
        pub pkttype: u8,
        /// `sll_protocol` (host order).
        pub protocol: u16,
        /// `sll_hatype`.
        pub hatype: u16,
        /// Source address (6 bytes used).
        pub addr: [u8; 6],
    }

    fn align16(x: usize) -> usize {
        (x + 15) & !15
    }

    /// Where the kernel would put the packet data: after header, address
    /// and 16 bytes of room, aligned (`tp_mac`).
    pub const MAC_OFFSET: usize = (hdr::HDRLEN + 16 + 15) & !15;

    /// Lays `frames` out in a block of `block_size` bytes as the kernel
    /// would (status `TP_STATUS_USER`). Returns `None` when they do not fit.
    pub fn block(block_size: usize, frames: &[SynthFrame]) -> Option<Vec<u8>> {
        let mut b = vec![0u8; block_size];
        if block_size < desc::LEN {
            return None;
        }
        let first = desc::LEN;
        let mut at = first;
        let mut last = None;
        for f in frames {
            let total = align16(MAC_OFFSET + f.data.len());
            if at + total > block_size {
                return None;
            }
            let w32 =
                |b: &mut Vec<u8>, o: usize, v: u32| b[o..o + 4].copy_from_slice(&v.to_ne_bytes());
            let w16 =
                |b: &mut Vec<u8>, o: usize, v: u16| b[o..o + 2].copy_from_slice(&v.to_ne_bytes());
            w32(&mut b, at + hdr::NEXT_OFFSET, total as u32);
            w32(&mut b, at + hdr::SEC, f.sec);
            w32(&mut b, at + hdr::NSEC, f.nsec);
            w32(&mut b, at + hdr::SNAPLEN, f.data.len() as u32);
            let origlen = if f.origlen == 0 {
                f.data.len() as u32
            } else {
                f.origlen
            };
            w32(&mut b, at + hdr::LEN, origlen);
            w32(&mut b, at + hdr::STATUS, status::USER | f.status);
            w16(&mut b, at + hdr::MAC, MAC_OFFSET as u16);
            w16(
                &mut b,
                at + hdr::NET,
                (MAC_OFFSET + 14.min(f.data.len())) as u16,
            );
            w32(&mut b, at + hdr::VLAN_TCI, f.vlan_tci);
            w16(&mut b, at + hdr::VLAN_TPID, f.vlan_tpid);
            let sll = at + hdr::SLL;
            w16(&mut b, sll, libc_af_packet());
            b[sll + 2..sll + 4].copy_from_slice(&f.protocol.to_be_bytes());
            w32(&mut b, sll + 4, f.ifindex as u32);
            w16(&mut b, sll + 8, f.hatype);
            b[sll + 10] = f.pkttype;
            b[sll + 11] = 6;
            b[sll + 12..sll + 18].copy_from_slice(&f.addr);
            b[at + MAC_OFFSET..at + MAC_OFFSET + f.data.len()].copy_from_slice(&f.data);
            last = Some(at);
            at += total;
        }
        if let Some(l) = last {
            b[l..l + 4].copy_from_slice(&0u32.to_ne_bytes());
        }
        b[desc::VERSION..desc::VERSION + 4].copy_from_slice(&1u32.to_ne_bytes());
        b[desc::BLOCK_STATUS..desc::BLOCK_STATUS + 4].copy_from_slice(&status::USER.to_ne_bytes());
        b[desc::NUM_PKTS..desc::NUM_PKTS + 4].copy_from_slice(&(frames.len() as u32).to_ne_bytes());
        b[desc::OFFSET_TO_FIRST_PKT..desc::OFFSET_TO_FIRST_PKT + 4]
            .copy_from_slice(&(first as u32).to_ne_bytes());
        b[desc::BLK_LEN..desc::BLK_LEN + 4].copy_from_slice(&(at as u32).to_ne_bytes());
        Some(b)
    }

    fn libc_af_packet() -> u16 {
        17
    }
}

#[cfg(test)]
mod tests {
    use super::synth::{SynthFrame, block};
    use super::*;

    fn eth_frame(n: usize, fill: u8) -> Vec<u8> {
        let mut v = vec![fill; n];
        v[..6].copy_from_slice(&[0xff; 6]);
        v[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        v[12..14].copy_from_slice(&[0x08, 0x00]);
        v
    }

    fn raw(off: Option<usize>) -> Framing {
        Framing {
            kind: FramingKind::Raw { vlan_offset: off },
            snaplen: 262_144,
        }
    }

    #[test]
    fn walks_frames_in_order_with_metadata() {
        let frames: Vec<SynthFrame> = (0..5)
            .map(|i| SynthFrame {
                data: eth_frame(60 + i * 7, i as u8),
                origlen: 1000 + i as u32,
                sec: 1_700_000_000 + i as u32,
                nsec: 123_456_789,
                ifindex: 3,
                pkttype: if i == 4 { 4 } else { 0 },
                protocol: 0x0800,
                hatype: 1,
                addr: [2, 0, 0, 0, 0, 1],
                status: status::TS_SOFTWARE,
                ..Default::default()
            })
            .collect();
        let b = block(4096, &frames).unwrap();
        let got: Vec<_> = walk(&b, WalkOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(got.len(), 5);
        for (i, f) in got.iter().enumerate() {
            assert_eq!(f.data, &frames[i].data[..]);
            assert_eq!(f.caplen as usize, frames[i].data.len());
            assert_eq!(f.origlen, 1000 + i as u32);
            assert_eq!(
                f.ts_ns,
                (1_700_000_000 + i as u64) * 1_000_000_000 + 123_456_789
            );
            assert_eq!(f.sll.ifindex, 3);
            assert_eq!(f.sll.protocol, 0x0800);
            assert_eq!(f.net_offset, 14);
            assert_eq!(f.vlan, None);
            assert_eq!(f.ts_source(), TsSource::Software);
        }
        assert_eq!(got[4].sll.pkttype, PacketType::Outgoing);
        assert_eq!(got[4].sll.pkttype.epb_flags(), 2);
        assert_eq!(got[0].sll.pkttype.epb_flags(), 0b101);
    }

    #[test]
    fn empty_block_yields_nothing() {
        let b = block(4096, &[]).unwrap();
        assert_eq!(walk(&b, WalkOptions::default()).unwrap().count(), 0);
    }

    #[test]
    fn vlan_tag_is_reinserted_after_the_macs() {
        let data = eth_frame(64, 0xab);
        let f = SynthFrame {
            data: data.clone(),
            status: status::VLAN_VALID | status::VLAN_TPID_VALID,
            vlan_tci: 0x2064,
            vlan_tpid: 0x88a8,
            ..Default::default()
        };
        let b = block(4096, &[f]).unwrap();
        let fr = walk(&b, WalkOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(
            fr.vlan,
            Some(Vlan {
                tci: 0x2064,
                tpid: 0x88a8
            })
        );
        let p = fr.parts(raw(Some(12)));
        let mut want = data[..12].to_vec();
        want.extend_from_slice(&[0x88, 0xa8, 0x20, 0x64]);
        want.extend_from_slice(&data[12..]);
        assert_eq!(p.to_vec(), want);
        assert_eq!(p.caplen(), 68);
        assert_eq!(p.origlen(), 68);
        assert_eq!(p.io_slices().count(), 3);
        // Without a place for the tag, the frame is kept as it is.
        assert_eq!(fr.parts(raw(None)).to_vec(), data);
    }

    #[test]
    fn tci_without_valid_bit_defaults_tpid() {
        let f = SynthFrame {
            data: eth_frame(60, 1),
            vlan_tci: 5,
            ..Default::default()
        };
        let b = block(4096, &[f]).unwrap();
        let fr = walk(&b, WalkOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(
            fr.vlan,
            Some(Vlan {
                tci: 5,
                tpid: 0x8100
            })
        );
    }

    #[test]
    fn sll2_header_is_synthesised() {
        let payload = vec![0x45u8; 40];
        let f = SynthFrame {
            data: payload.clone(),
            ifindex: 7,
            pkttype: 3,
            protocol: 0x0800,
            hatype: 1,
            addr: [1, 2, 3, 4, 5, 6],
            ..Default::default()
        };
        let b = block(4096, std::slice::from_ref(&f)).unwrap();
        let fr = walk(&b, WalkOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let p = fr.parts(Framing {
            kind: FramingKind::Sll2,
            snaplen: 1000,
        });
        let v = p.to_vec();
        assert_eq!(
            &v[..20],
            &[8, 0, 0, 0, 0, 0, 0, 7, 0, 1, 3, 6, 1, 2, 3, 4, 5, 6, 0, 0]
        );
        assert_eq!(&v[20..], &payload[..]);
        assert_eq!(p.origlen(), 60);
        // With a VLAN tag: protocol = TPID, then TCI and the inner protocol.
        let f = SynthFrame {
            vlan_tci: 0x0064,
            status: status::VLAN_VALID,
            ..f
        };
        let b = block(4096, &[f]).unwrap();
        let fr = walk(&b, WalkOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let v = fr
            .parts(Framing {
                kind: FramingKind::Sll2,
                snaplen: 1000,
            })
            .to_vec();
        assert_eq!(&v[0..2], &[0x81, 0x00]);
        assert_eq!(&v[20..24], &[0x00, 0x64, 0x08, 0x00]);
        assert_eq!(v.len(), 64);
    }

    #[test]
    fn snaplen_cuts_and_keeps_origlen() {
        let data = eth_frame(100, 9);
        let f = SynthFrame {
            data: data.clone(),
            vlan_tci: 1,
            status: status::VLAN_VALID,
            ..Default::default()
        };
        let b = block(4096, &[f]).unwrap();
        let fr = walk(&b, WalkOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        let p = fr.parts(Framing {
            kind: FramingKind::Raw {
                vlan_offset: Some(12),
            },
            snaplen: 20,
        });
        assert_eq!(p.caplen(), 20);
        assert_eq!(p.origlen(), 104);
        assert!(p.is_truncated());
        assert_eq!(&p.to_vec()[12..16], &[0x81, 0, 0, 1]);
        let p = fr.parts(Framing {
            kind: FramingKind::Raw {
                vlan_offset: Some(12),
            },
            snaplen: 14,
        });
        assert_eq!(p.caplen(), 12);
    }

    fn set32(b: &mut [u8], at: usize, v: u32) {
        b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    }

    fn two_frame_block() -> Vec<u8> {
        let f = SynthFrame {
            data: eth_frame(60, 0),
            ..Default::default()
        };
        block(4096, &[f.clone(), f]).unwrap()
    }

    #[test]
    fn rejects_bad_descriptor() {
        assert_eq!(
            walk(&[0u8; 10], WalkOptions::default()).unwrap_err().kind,
            WalkErrorKind::BlockTooShort
        );
        let mut b = two_frame_block();
        set32(&mut b, desc::BLK_LEN, 5000);
        assert_eq!(
            walk(&b, WalkOptions::default()).unwrap_err().kind,
            WalkErrorKind::BadBlockLen
        );
        let mut b = two_frame_block();
        set32(&mut b, desc::OFFSET_TO_FIRST_PKT, 4000);
        assert_eq!(
            walk(&b, WalkOptions::default()).unwrap_err().kind,
            WalkErrorKind::BadFirstOffset
        );
    }

    #[test]
    fn rejects_bad_frame_offsets() {
        let first = desc::LEN;
        let cases: [(usize, u32, WalkErrorKind); 5] = [
            (first + hdr::SNAPLEN, 4000, WalkErrorKind::DataOutOfBounds),
            (first + hdr::MAC, 10, WalkErrorKind::BadMacOffset),
            (first + hdr::MAC, 0xffff, WalkErrorKind::BadMacOffset),
            (first + hdr::NEXT_OFFSET, 0, WalkErrorKind::BadNextOffset),
            (
                first + hdr::NEXT_OFFSET,
                0xffff_fff0,
                WalkErrorKind::BadNextOffset,
            ),
        ];
        for (at, v, kind) in cases {
            let mut b = two_frame_block();
            if at == first + hdr::MAC {
                b[at..at + 2].copy_from_slice(&(v as u16).to_ne_bytes());
            } else {
                set32(&mut b, at, v);
            }
            let results: Vec<_> = walk(&b, WalkOptions::default()).unwrap().collect();
            let err = results
                .iter()
                .find_map(|r| r.err())
                .unwrap_or_else(|| panic!("no error for {kind:?}"));
            assert_eq!(err.kind, kind);
            assert!(results.len() <= 2);
        }
        // tp_net before tp_mac.
        let mut b = two_frame_block();
        b[first + hdr::NET..first + hdr::NET + 2].copy_from_slice(&10u16.to_ne_bytes());
        let e = walk(&b, WalkOptions::default())
            .unwrap()
            .next()
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind, WalkErrorKind::BadNetOffset);
        assert_eq!(e.frame, Some(0));
        assert!(e.to_string().contains("frame 0"));
        // A snap length cut before the network header: tp_net points past
        // the last frame's data and the block's used length (as the kernel
        // writes it for a 1-byte snap length); still a good frame.
        let tiny = SynthFrame {
            data: vec![0xff],
            origlen: 60,
            ..Default::default()
        };
        let mut b = block(4096, &[tiny.clone(), tiny]).unwrap();
        let used = u32::from_ne_bytes(b[desc::BLK_LEN..desc::BLK_LEN + 4].try_into().unwrap());
        let last = first + (synth::MAC_OFFSET + 1).next_multiple_of(16);
        assert_eq!(
            used as usize,
            last + (synth::MAC_OFFSET + 1).next_multiple_of(16)
        );
        let net = (used as usize - last + 8) as u16;
        b[last + hdr::NET..last + hdr::NET + 2].copy_from_slice(&net.to_ne_bytes());
        let frames: Vec<_> = walk(&b, WalkOptions::default())
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[1].data, &[0xff]);
        assert_eq!(frames[1].origlen, 60);
        // More frames claimed than present: the chain leaves the block.
        let mut b = two_frame_block();
        set32(&mut b, desc::NUM_PKTS, 3);
        let r: Vec<_> = walk(&b, WalkOptions::default()).unwrap().collect();
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].unwrap_err().kind, WalkErrorKind::BadNextOffset);
    }

    #[test]
    fn vnet_header_is_read_before_the_frame() {
        let f = SynthFrame {
            data: eth_frame(60, 0),
            ..Default::default()
        };
        let mut b = block(4096, &[f]).unwrap();
        let v = VnetHdr {
            flags: 1,
            gso_type: 1,
            hdr_len: 54,
            gso_size: 1448,
            csum_start: 34,
            csum_offset: 16,
        };
        let at = desc::LEN + synth::MAC_OFFSET;
        b[at - VNET_HDR_LEN..at].copy_from_slice(&v.to_bytes());
        let fr = walk(&b, WalkOptions { vnet_hdr: true })
            .unwrap()
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(fr.vnet, Some(v));
    }

    /// Replays the inputs kept under fuzz/regressions/ring_block_walk/
    /// exactly as the fuzz target feeds them.
    #[test]
    fn fuzz_regressions_replay() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/regressions/ring_block_walk");
        let entries = std::fs::read_dir(&dir).expect("regression directory");
        let mut n = 0;
        for e in entries {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            let Some((opts, block)) = data.split_first() else {
                continue;
            };
            let options = WalkOptions {
                vnet_hdr: opts & 1 != 0,
            };
            let snaplen = u32::from(opts >> 1) * 8 + 1;
            if let Ok(frames) = walk(block, options) {
                for f in frames.flatten() {
                    for kind in [
                        FramingKind::Raw {
                            vlan_offset: Some(12),
                        },
                        FramingKind::Sll2,
                    ] {
                        let p = f.parts(Framing { kind, snaplen });
                        assert!(p.caplen() <= snaplen as usize);
                    }
                }
            }
            n += 1;
        }
        assert!(n >= 2, "regression inputs missing in {}", dir.display());
    }

    proptest::proptest! {
        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..600)) {
            if let Ok(frames) = walk(&bytes, WalkOptions::default()) {
                for f in frames.take(1000).flatten() {
                    let _ = f.parts(Framing { kind: FramingKind::Sll2, snaplen: 50 }).to_vec();
                }
            }
        }

        #[test]
        fn mutated_real_blocks_never_panic(
            sizes in proptest::collection::vec(14usize..200, 0..8),
            pos in 0usize..2048, val in proptest::num::u32::ANY,
        ) {
            let frames: Vec<SynthFrame> = sizes.iter().map(|&n| SynthFrame { data: vec![7; n], ..Default::default() }).collect();
            if let Some(mut b) = block(2048, &frames) {
                let p = pos.min(b.len() - 4);
                b[p..p + 4].copy_from_slice(&val.to_ne_bytes());
                if let Ok(it) = walk(&b, WalkOptions { vnet_hdr: val & 1 == 1 }) {
                    let n = it.take(100).filter(|r| r.is_ok()).count();
                    proptest::prop_assert!(n <= 2048 / hdr::HDRLEN);
                }
            }
        }
    }
}
