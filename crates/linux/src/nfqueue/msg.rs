//! Netlink messages of host mode, as pure functions over bytes: the
//! netlink header walk, attributes, the netfilter-queue packet and the
//! NFLOG packet, link events of rtnetlink, errors and acks — and the
//! builder for what we send (queue and log configuration, verdicts,
//! batch verdicts).
//!
//! Nothing here touches the kernel, so every function is unit-tested,
//! property-tested and fuzzed (`nfq_msg`) without privileges. The panic
//! contract: no input makes a parser panic; every slice handed out lies
//! inside the input; an error says what was wrong and at which byte
//! offset of the buffer given to [`messages`].
//!
//! Layouts (all from the kernel's UAPI headers): a netlink message is a
//! 16-byte header (`len` u32, `type` u16, `flags` u16, `seq` u32, `pid`
//! u32, host order) and a body padded to 4 bytes. Netfilter bodies start
//! with a 4-byte `nfgenmsg` (family, version, resource id in network
//! order — the queue number or log group), followed by attributes: a
//! 4-byte header (`len` u16 including the header, `type` u16 whose two top
//! bits are the nested / byte-order flags) and data padded to 4 bytes.
//! Attribute values of netfilter are in network byte order.

use std::fmt;

/// Numbers from the kernel's netlink and netfilter headers.
pub mod consts {
    /// `NETLINK_ROUTE`.
    pub const NETLINK_ROUTE: i32 = 0;
    /// `NETLINK_NETFILTER`.
    pub const NETLINK_NETFILTER: i32 = 12;

    /// `NLMSG_NOOP`.
    pub const NLMSG_NOOP: u16 = 1;
    /// `NLMSG_ERROR` (also the ack, with error 0).
    pub const NLMSG_ERROR: u16 = 2;
    /// `NLMSG_DONE`: the end of a multi-part batch.
    pub const NLMSG_DONE: u16 = 3;
    /// `NLMSG_OVERRUN`.
    pub const NLMSG_OVERRUN: u16 = 4;

    /// `NLM_F_REQUEST`.
    pub const NLM_F_REQUEST: u16 = 1;
    /// `NLM_F_MULTI`.
    pub const NLM_F_MULTI: u16 = 2;
    /// `NLM_F_ACK`.
    pub const NLM_F_ACK: u16 = 4;

    /// `NFNETLINK_V0`.
    pub const NFNETLINK_V0: u8 = 0;
    /// `NFNL_SUBSYS_QUEUE`.
    pub const NFNL_SUBSYS_QUEUE: u8 = 3;
    /// `NFNL_SUBSYS_ULOG` (NFLOG).
    pub const NFNL_SUBSYS_ULOG: u8 = 4;

    /// `NFQNL_MSG_PACKET`.
    pub const NFQNL_MSG_PACKET: u8 = 0;
    /// `NFQNL_MSG_VERDICT`.
    pub const NFQNL_MSG_VERDICT: u8 = 1;
    /// `NFQNL_MSG_CONFIG`.
    pub const NFQNL_MSG_CONFIG: u8 = 2;
    /// `NFQNL_MSG_VERDICT_BATCH`.
    pub const NFQNL_MSG_VERDICT_BATCH: u8 = 3;

    /// `NFQA_PACKET_HDR`.
    pub const NFQA_PACKET_HDR: u16 = 1;
    /// `NFQA_VERDICT_HDR`.
    pub const NFQA_VERDICT_HDR: u16 = 2;
    /// `NFQA_MARK`.
    pub const NFQA_MARK: u16 = 3;
    /// `NFQA_TIMESTAMP`.
    pub const NFQA_TIMESTAMP: u16 = 4;
    /// `NFQA_IFINDEX_INDEV`.
    pub const NFQA_IFINDEX_INDEV: u16 = 5;
    /// `NFQA_IFINDEX_OUTDEV`.
    pub const NFQA_IFINDEX_OUTDEV: u16 = 6;
    /// `NFQA_IFINDEX_PHYSINDEV`.
    pub const NFQA_IFINDEX_PHYSINDEV: u16 = 7;
    /// `NFQA_IFINDEX_PHYSOUTDEV`.
    pub const NFQA_IFINDEX_PHYSOUTDEV: u16 = 8;
    /// `NFQA_HWADDR`.
    pub const NFQA_HWADDR: u16 = 9;
    /// `NFQA_PAYLOAD`.
    pub const NFQA_PAYLOAD: u16 = 10;
    /// `NFQA_CAP_LEN`: the packet's length when the copy was cut.
    pub const NFQA_CAP_LEN: u16 = 13;
    /// `NFQA_SKB_INFO`.
    pub const NFQA_SKB_INFO: u16 = 14;
    /// `NFQA_UID`.
    pub const NFQA_UID: u16 = 16;
    /// `NFQA_GID`.
    pub const NFQA_GID: u16 = 17;
    /// `NFQA_VLAN` (nested).
    pub const NFQA_VLAN: u16 = 19;
    /// `NFQA_L2HDR`.
    pub const NFQA_L2HDR: u16 = 20;
    /// `NFQA_PRIORITY`.
    pub const NFQA_PRIORITY: u16 = 21;
    /// `NFQA_VLAN_PROTO` inside `NFQA_VLAN`.
    pub const NFQA_VLAN_PROTO: u16 = 1;
    /// `NFQA_VLAN_TCI` inside `NFQA_VLAN`.
    pub const NFQA_VLAN_TCI: u16 = 2;

    /// `NFQA_SKB_CSUMNOTREADY`: the transport checksum is partial.
    pub const NFQA_SKB_CSUMNOTREADY: u32 = 1;
    /// `NFQA_SKB_GSO`: a GSO packet, larger than the MTU.
    pub const NFQA_SKB_GSO: u32 = 2;
    /// `NFQA_SKB_CSUM_NOTVERIFIED`.
    pub const NFQA_SKB_CSUM_NOTVERIFIED: u32 = 4;

    /// `NFQA_CFG_CMD`.
    pub const NFQA_CFG_CMD: u16 = 1;
    /// `NFQA_CFG_PARAMS`.
    pub const NFQA_CFG_PARAMS: u16 = 2;
    /// `NFQA_CFG_QUEUE_MAXLEN`.
    pub const NFQA_CFG_QUEUE_MAXLEN: u16 = 3;
    /// `NFQA_CFG_MASK`.
    pub const NFQA_CFG_MASK: u16 = 4;
    /// `NFQA_CFG_FLAGS`.
    pub const NFQA_CFG_FLAGS: u16 = 5;

    /// `NFQNL_CFG_CMD_BIND`.
    pub const NFQNL_CFG_CMD_BIND: u8 = 1;
    /// `NFQNL_CFG_CMD_UNBIND`.
    pub const NFQNL_CFG_CMD_UNBIND: u8 = 2;
    /// `NFQNL_COPY_PACKET`.
    pub const NFQNL_COPY_PACKET: u8 = 2;

    /// `NFQA_CFG_F_FAIL_OPEN`.
    pub const NFQA_CFG_F_FAIL_OPEN: u32 = 1;
    /// `NFQA_CFG_F_CONNTRACK`.
    pub const NFQA_CFG_F_CONNTRACK: u32 = 2;
    /// `NFQA_CFG_F_GSO`.
    pub const NFQA_CFG_F_GSO: u32 = 4;

    /// `NFULNL_MSG_PACKET`.
    pub const NFULNL_MSG_PACKET: u8 = 0;
    /// `NFULNL_MSG_CONFIG`.
    pub const NFULNL_MSG_CONFIG: u8 = 1;
    /// `NFULA_PACKET_HDR`.
    pub const NFULA_PACKET_HDR: u16 = 1;
    /// `NFULA_MARK`.
    pub const NFULA_MARK: u16 = 2;
    /// `NFULA_TIMESTAMP`.
    pub const NFULA_TIMESTAMP: u16 = 3;
    /// `NFULA_IFINDEX_INDEV`.
    pub const NFULA_IFINDEX_INDEV: u16 = 4;
    /// `NFULA_IFINDEX_OUTDEV`.
    pub const NFULA_IFINDEX_OUTDEV: u16 = 5;
    /// `NFULA_PAYLOAD`.
    pub const NFULA_PAYLOAD: u16 = 9;
    /// `NFULA_PREFIX`.
    pub const NFULA_PREFIX: u16 = 10;
    /// `NFULA_SEQ`: the instance-local sequence number.
    pub const NFULA_SEQ: u16 = 12;
    /// `NFULA_CFG_CMD`.
    pub const NFULA_CFG_CMD: u16 = 1;
    /// `NFULA_CFG_MODE`.
    pub const NFULA_CFG_MODE: u16 = 2;
    /// `NFULA_CFG_NLBUFSIZ`.
    pub const NFULA_CFG_NLBUFSIZ: u16 = 3;
    /// `NFULA_CFG_TIMEOUT` (1/100 s).
    pub const NFULA_CFG_TIMEOUT: u16 = 4;
    /// `NFULA_CFG_QTHRESH`.
    pub const NFULA_CFG_QTHRESH: u16 = 5;
    /// `NFULA_CFG_FLAGS` (u16).
    pub const NFULA_CFG_FLAGS: u16 = 6;
    /// `NFULNL_CFG_CMD_BIND`.
    pub const NFULNL_CFG_CMD_BIND: u8 = 1;
    /// `NFULNL_CFG_CMD_UNBIND`.
    pub const NFULNL_CFG_CMD_UNBIND: u8 = 2;
    /// `NFULNL_COPY_PACKET`.
    pub const NFULNL_COPY_PACKET: u8 = 2;
    /// `NFULNL_CFG_F_SEQ`.
    pub const NFULNL_CFG_F_SEQ: u16 = 1;

    /// `RTM_NEWLINK`.
    pub const RTM_NEWLINK: u16 = 16;
    /// `RTM_DELLINK`.
    pub const RTM_DELLINK: u16 = 17;
    /// `RTMGRP_LINK`.
    pub const RTMGRP_LINK: u32 = 1;
    /// `IFLA_IFNAME`.
    pub const IFLA_IFNAME: u16 = 3;

    /// `NF_DROP`.
    pub const NF_DROP: u32 = 0;
    /// `NF_ACCEPT`.
    pub const NF_ACCEPT: u32 = 1;
    /// `NF_REPEAT`.
    pub const NF_REPEAT: u32 = 4;

    /// Netfilter hooks (`NF_INET_*`).
    pub const NF_INET_PRE_ROUTING: u8 = 0;
    /// `NF_INET_LOCAL_IN`.
    pub const NF_INET_LOCAL_IN: u8 = 1;
    /// `NF_INET_FORWARD`.
    pub const NF_INET_FORWARD: u8 = 2;
    /// `NF_INET_LOCAL_OUT`.
    pub const NF_INET_LOCAL_OUT: u8 = 3;
    /// `NF_INET_POST_ROUTING`.
    pub const NF_INET_POST_ROUTING: u8 = 4;

    /// The largest payload the kernel copies into one queue message
    /// (`0xffff` minus an attribute header).
    pub const MAX_COPY_RANGE: u32 = 0xffff - 4;
}

use consts::*;

/// Length of the netlink message header.
pub const NLMSG_HDRLEN: usize = 16;
/// Length of `nfgenmsg`.
pub const NFGENMSG_LEN: usize = 4;
/// Length of an attribute header.
pub const NLA_HDRLEN: usize = 4;
const NLA_TYPE_MASK: u16 = 0x3fff;
const NLA_F_NESTED: u16 = 0x8000;

/// Rounds up to the netlink alignment of 4 bytes.
pub const fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// What was wrong with a message.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MsgErrorKind {
    /// The bytes end before a header or a length says.
    Truncated,
    /// A length field is smaller than its own header, or too large to
    /// encode.
    BadLength,
    /// A field has the wrong size or an impossible value.
    Malformed,
    /// A required attribute is absent.
    Missing,
}

/// A malformed message: the kind, what was being read, and where.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MsgError {
    /// What was wrong.
    pub kind: MsgErrorKind,
    /// What was being read ("netlink header", "NFQA_PACKET_HDR", …).
    pub what: &'static str,
    /// Byte offset in the buffer given to [`messages`] (or to the
    /// builder).
    pub offset: usize,
}

impl MsgError {
    fn new(kind: MsgErrorKind, what: &'static str, offset: usize) -> MsgError {
        MsgError { kind, what, offset }
    }
}

impl fmt::Display for MsgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            MsgErrorKind::Truncated => "truncated",
            MsgErrorKind::BadLength => "bad length in",
            MsgErrorKind::Malformed => "malformed",
            MsgErrorKind::Missing => "missing",
        };
        write!(f, "{kind} {} at byte {}", self.what, self.offset)
    }
}

impl std::error::Error for MsgError {}

fn u16_ne(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_ne(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u16_be(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn u32_be(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_be(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_be_bytes(a)
}

/// One netlink message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message<'a> {
    /// `nlmsg_type`.
    pub kind: u16,
    /// `nlmsg_flags`.
    pub flags: u16,
    /// `nlmsg_seq`.
    pub seq: u32,
    /// `nlmsg_pid`.
    pub portid: u32,
    /// The body (after the 16-byte header, without trailing padding).
    pub body: &'a [u8],
    /// Offset of the message's header in the buffer.
    pub offset: usize,
}

impl Message<'_> {
    /// The netfilter subsystem (high byte of the type).
    pub fn subsys(&self) -> u8 {
        (self.kind >> 8) as u8
    }

    /// The netfilter message type (low byte of the type).
    pub fn nf_type(&self) -> u8 {
        self.kind as u8
    }

    /// Offset of the body in the buffer.
    pub fn body_offset(&self) -> usize {
        self.offset + NLMSG_HDRLEN
    }
}

/// Walks the netlink messages in a buffer (one `recv`'s worth). Stops
/// after the first error.
pub fn messages(buf: &[u8]) -> Messages<'_> {
    Messages {
        buf,
        pos: 0,
        done: false,
    }
}

/// Iterator of [`messages`].
#[derive(Clone, Debug)]
pub struct Messages<'a> {
    buf: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<Message<'a>, MsgError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let fail = |s: &mut Self, e: MsgError| {
            s.done = true;
            Some(Err(e))
        };
        if rest.len() < NLMSG_HDRLEN {
            return fail(
                self,
                MsgError::new(MsgErrorKind::Truncated, "netlink header", self.pos),
            );
        }
        let len = u32_ne(rest, 0) as usize;
        if len < NLMSG_HDRLEN {
            return fail(
                self,
                MsgError::new(MsgErrorKind::BadLength, "netlink header", self.pos),
            );
        }
        if len > rest.len() {
            return fail(
                self,
                MsgError::new(MsgErrorKind::Truncated, "netlink message", self.pos),
            );
        }
        let msg = Message {
            kind: u16_ne(rest, 4),
            flags: u16_ne(rest, 6),
            seq: u32_ne(rest, 8),
            portid: u32_ne(rest, 12),
            body: &rest[NLMSG_HDRLEN..len],
            offset: self.pos,
        };
        self.pos += align4(len).min(rest.len());
        Some(Ok(msg))
    }
}

/// One attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attr<'a> {
    /// The type, without the nested and byte-order flags.
    pub kind: u16,
    /// The nested flag was set.
    pub nested: bool,
    /// The value (without padding).
    pub data: &'a [u8],
    /// Offset of the attribute's header in the buffer.
    pub offset: usize,
}

impl Attr<'_> {
    fn exact(&self, len: usize, what: &'static str) -> Result<(), MsgError> {
        if self.data.len() < len {
            Err(MsgError::new(MsgErrorKind::Malformed, what, self.offset))
        } else {
            Ok(())
        }
    }

    /// The value as a big-endian u32 (at least 4 bytes).
    pub fn be32(&self, what: &'static str) -> Result<u32, MsgError> {
        self.exact(4, what)?;
        Ok(u32_be(self.data, 0))
    }

    /// The value as a big-endian u16 (at least 2 bytes).
    pub fn be16(&self, what: &'static str) -> Result<u16, MsgError> {
        self.exact(2, what)?;
        Ok(u16_be(self.data, 0))
    }
}

/// Walks the attributes in `buf`, which starts at byte `base` of the
/// message buffer (for error offsets). Stops after the first error.
pub fn attrs(buf: &[u8], base: usize) -> Attrs<'_> {
    Attrs {
        buf,
        pos: 0,
        base,
        done: false,
    }
}

/// Iterator of [`attrs`].
#[derive(Clone, Debug)]
pub struct Attrs<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
    done: bool,
}

impl<'a> Iterator for Attrs<'a> {
    type Item = Result<Attr<'a>, MsgError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.buf.len() {
            return None;
        }
        let rest = &self.buf[self.pos..];
        let at = self.base + self.pos;
        if rest.len() < NLA_HDRLEN {
            self.done = true;
            return Some(Err(MsgError::new(
                MsgErrorKind::Truncated,
                "attribute header",
                at,
            )));
        }
        let len = usize::from(u16_ne(rest, 0));
        let kind = u16_ne(rest, 2);
        if len < NLA_HDRLEN {
            self.done = true;
            return Some(Err(MsgError::new(
                MsgErrorKind::BadLength,
                "attribute header",
                at,
            )));
        }
        if len > rest.len() {
            self.done = true;
            return Some(Err(MsgError::new(MsgErrorKind::Truncated, "attribute", at)));
        }
        let attr = Attr {
            kind: kind & NLA_TYPE_MASK,
            nested: kind & NLA_F_NESTED != 0,
            data: &rest[NLA_HDRLEN..len],
            offset: at,
        };
        self.pos += align4(len).min(rest.len());
        Some(Ok(attr))
    }
}

/// The `nfgenmsg` at the start of a netfilter body: (family, resource id).
fn nfgen(msg: &Message<'_>) -> Result<(u8, u16), MsgError> {
    if msg.body.len() < NFGENMSG_LEN {
        return Err(MsgError::new(
            MsgErrorKind::Truncated,
            "nfgenmsg",
            msg.body_offset(),
        ));
    }
    Ok((msg.body[0], u16_be(msg.body, 2)))
}

/// A packet from a netfilter queue (`NFQNL_MSG_PACKET`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueuePacket<'a> {
    /// Protocol family (`NFPROTO_IPV4` 2, `NFPROTO_IPV6` 10).
    pub family: u8,
    /// The queue it came from.
    pub queue: u16,
    /// The packet id to give the verdict for.
    pub id: u32,
    /// The link-layer protocol (EtherType), host order.
    pub hw_protocol: u16,
    /// The netfilter hook (`NF_INET_LOCAL_IN`, …).
    pub hook: u8,
    /// The packet's mark (absent means 0).
    pub mark: u32,
    /// Arrival time (seconds, microseconds), when the packet had one.
    pub timestamp: Option<(u64, u64)>,
    /// Input interface index.
    pub indev: Option<u32>,
    /// Output interface index.
    pub outdev: Option<u32>,
    /// The packet's bytes from the network header (possibly cut at the
    /// copy range).
    pub payload: Option<&'a [u8]>,
    /// The packet's full length when the copy was cut (`NFQA_CAP_LEN`).
    pub cap_len: Option<u32>,
    /// `NFQA_SKB_INFO` flags (`NFQA_SKB_GSO`, `NFQA_SKB_CSUMNOTREADY`, …).
    pub skb_info: u32,
    /// The link-layer source address, when the kernel gave one.
    pub hwaddr: Option<&'a [u8]>,
    /// Owner of the sending socket (uid, gid), when asked for.
    pub uid_gid: (Option<u32>, Option<u32>),
    /// VLAN (protocol, TCI), bridge family only.
    pub vlan: Option<(u16, u16)>,
    /// `skb->priority`.
    pub priority: Option<u32>,
}

impl QueuePacket<'_> {
    /// The packet's length on the wire: the cut length when the copy was
    /// cut, else the copy's.
    pub fn wire_len(&self) -> u32 {
        let copied = self.payload.map_or(0, |p| p.len() as u32);
        self.cap_len.map_or(copied, |c| c.max(copied))
    }

    /// True when the copy holds less than the packet.
    pub fn truncated(&self) -> bool {
        self.wire_len() > self.payload.map_or(0, |p| p.len() as u32)
    }

    /// True when the packet is a GSO packet (larger than the MTU).
    pub fn is_gso(&self) -> bool {
        self.skb_info & NFQA_SKB_GSO != 0
    }

    /// True when its transport checksum is partial.
    pub fn csum_partial(&self) -> bool {
        self.skb_info & NFQA_SKB_CSUMNOTREADY != 0
    }
}

fn timestamp(a: &Attr<'_>, what: &'static str) -> Result<(u64, u64), MsgError> {
    a.exact(16, what)?;
    Ok((u64_be(a.data, 0), u64_be(a.data, 8)))
}

fn hwaddr<'a>(a: &Attr<'a>, what: &'static str) -> Result<&'a [u8], MsgError> {
    a.exact(12, what)?;
    let n = usize::from(u16_be(a.data, 0)).min(8);
    Ok(&a.data[4..4 + n])
}

fn parse_queue_packet<'a>(msg: &Message<'a>) -> Result<QueuePacket<'a>, MsgError> {
    let (family, queue) = nfgen(msg)?;
    let mut p = QueuePacket {
        family,
        queue,
        ..QueuePacket::default()
    };
    let mut have_hdr = false;
    for a in attrs(&msg.body[NFGENMSG_LEN..], msg.body_offset() + NFGENMSG_LEN) {
        let a = a?;
        match a.kind {
            NFQA_PACKET_HDR => {
                a.exact(7, "NFQA_PACKET_HDR")?;
                p.id = u32_be(a.data, 0);
                p.hw_protocol = u16_be(a.data, 4);
                p.hook = a.data[6];
                have_hdr = true;
            }
            NFQA_MARK => p.mark = a.be32("NFQA_MARK")?,
            NFQA_TIMESTAMP => p.timestamp = Some(timestamp(&a, "NFQA_TIMESTAMP")?),
            NFQA_IFINDEX_INDEV => p.indev = Some(a.be32("NFQA_IFINDEX_INDEV")?),
            NFQA_IFINDEX_OUTDEV => p.outdev = Some(a.be32("NFQA_IFINDEX_OUTDEV")?),
            NFQA_HWADDR => p.hwaddr = Some(hwaddr(&a, "NFQA_HWADDR")?),
            NFQA_PAYLOAD => p.payload = Some(a.data),
            NFQA_CAP_LEN => p.cap_len = Some(a.be32("NFQA_CAP_LEN")?),
            NFQA_SKB_INFO => p.skb_info = a.be32("NFQA_SKB_INFO")?,
            NFQA_UID => p.uid_gid.0 = Some(a.be32("NFQA_UID")?),
            NFQA_GID => p.uid_gid.1 = Some(a.be32("NFQA_GID")?),
            NFQA_PRIORITY => p.priority = Some(a.be32("NFQA_PRIORITY")?),
            NFQA_VLAN => {
                let (mut proto, mut tci) = (None, None);
                for v in attrs(a.data, a.offset + NLA_HDRLEN) {
                    let v = v?;
                    match v.kind {
                        NFQA_VLAN_PROTO => proto = Some(v.be16("NFQA_VLAN_PROTO")?),
                        NFQA_VLAN_TCI => tci = Some(v.be16("NFQA_VLAN_TCI")?),
                        _ => {}
                    }
                }
                match (proto, tci) {
                    (Some(p2), Some(t)) => p.vlan = Some((p2, t)),
                    _ => {
                        return Err(MsgError::new(
                            MsgErrorKind::Missing,
                            "NFQA_VLAN_PROTO or NFQA_VLAN_TCI",
                            a.offset,
                        ));
                    }
                }
            }
            // Conntrack, security context, L2 header and the rest: not
            // asked for, skipped.
            _ => {}
        }
    }
    if !have_hdr {
        return Err(MsgError::new(
            MsgErrorKind::Missing,
            "NFQA_PACKET_HDR",
            msg.offset,
        ));
    }
    Ok(p)
}

/// A packet copy from NFLOG (`NFULNL_MSG_PACKET`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogPacket<'a> {
    /// Protocol family.
    pub family: u8,
    /// The log group.
    pub group: u16,
    /// The link-layer protocol (EtherType), host order.
    pub hw_protocol: u16,
    /// The netfilter hook.
    pub hook: u8,
    /// The packet's mark.
    pub mark: u32,
    /// Arrival time (seconds, microseconds).
    pub timestamp: Option<(u64, u64)>,
    /// Input interface index.
    pub indev: Option<u32>,
    /// Output interface index.
    pub outdev: Option<u32>,
    /// The packet's bytes from the network header (possibly cut).
    pub payload: Option<&'a [u8]>,
    /// The rule's log prefix, without the terminating NUL.
    pub prefix: Option<&'a [u8]>,
    /// The instance-local sequence number (`NFULNL_CFG_F_SEQ`).
    pub seq: Option<u32>,
}

fn parse_log_packet<'a>(msg: &Message<'a>) -> Result<LogPacket<'a>, MsgError> {
    let (family, group) = nfgen(msg)?;
    let mut p = LogPacket {
        family,
        group,
        ..LogPacket::default()
    };
    let mut have_hdr = false;
    for a in attrs(&msg.body[NFGENMSG_LEN..], msg.body_offset() + NFGENMSG_LEN) {
        let a = a?;
        match a.kind {
            NFULA_PACKET_HDR => {
                a.exact(3, "NFULA_PACKET_HDR")?;
                p.hw_protocol = u16_be(a.data, 0);
                p.hook = a.data[2];
                have_hdr = true;
            }
            NFULA_MARK => p.mark = a.be32("NFULA_MARK")?,
            NFULA_TIMESTAMP => p.timestamp = Some(timestamp(&a, "NFULA_TIMESTAMP")?),
            NFULA_IFINDEX_INDEV => p.indev = Some(a.be32("NFULA_IFINDEX_INDEV")?),
            NFULA_IFINDEX_OUTDEV => p.outdev = Some(a.be32("NFULA_IFINDEX_OUTDEV")?),
            NFULA_PAYLOAD => p.payload = Some(a.data),
            NFULA_PREFIX => {
                let end = a.data.iter().position(|&b| b == 0).unwrap_or(a.data.len());
                p.prefix = Some(&a.data[..end]);
            }
            NFULA_SEQ => p.seq = Some(a.be32("NFULA_SEQ")?),
            _ => {}
        }
    }
    if !have_hdr {
        return Err(MsgError::new(
            MsgErrorKind::Missing,
            "NFULA_PACKET_HDR",
            msg.offset,
        ));
    }
    Ok(p)
}

/// A link appearing, changing or going away (rtnetlink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkEvent<'a> {
    /// `RTM_DELLINK`: the interface was deleted.
    pub deleted: bool,
    /// Its index.
    pub index: u32,
    /// Its `IFF_*` flags.
    pub flags: u32,
    /// Its name, when given.
    pub name: Option<&'a [u8]>,
}

fn parse_link<'a>(msg: &Message<'a>) -> Result<LinkEvent<'a>, MsgError> {
    const IFINFOMSG_LEN: usize = 16;
    if msg.body.len() < IFINFOMSG_LEN {
        return Err(MsgError::new(
            MsgErrorKind::Truncated,
            "ifinfomsg",
            msg.body_offset(),
        ));
    }
    let mut ev = LinkEvent {
        deleted: msg.kind == RTM_DELLINK,
        index: u32_ne(msg.body, 4),
        flags: u32_ne(msg.body, 8),
        name: None,
    };
    for a in attrs(
        &msg.body[IFINFOMSG_LEN..],
        msg.body_offset() + IFINFOMSG_LEN,
    ) {
        let a = a?;
        if a.kind == IFLA_IFNAME {
            let end = a.data.iter().position(|&b| b == 0).unwrap_or(a.data.len());
            ev.name = Some(&a.data[..end]);
        }
    }
    Ok(ev)
}

/// What one message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A queued packet waiting for a verdict.
    Packet(QueuePacket<'a>),
    /// A logged packet copy.
    Log(LogPacket<'a>),
    /// A link event.
    Link(LinkEvent<'a>),
    /// The kernel acknowledged request `seq`.
    Ack {
        /// The request's sequence number.
        seq: u32,
    },
    /// The kernel refused request `seq` with `errno`.
    Error {
        /// The request's sequence number.
        seq: u32,
        /// The positive errno.
        errno: i32,
        /// The refused request's message type.
        request: u16,
    },
    /// The end of a multi-part batch.
    Done,
    /// Anything else (counted, skipped).
    Other {
        /// The message type.
        kind: u16,
    },
}

/// Reads one message.
pub fn parse<'a>(msg: &Message<'a>) -> Result<Event<'a>, MsgError> {
    match msg.kind {
        NLMSG_ERROR => {
            if msg.body.len() < 4 {
                return Err(MsgError::new(
                    MsgErrorKind::Truncated,
                    "nlmsgerr",
                    msg.body_offset(),
                ));
            }
            let err = u32_ne(msg.body, 0) as i32;
            // The refused request's header follows: its type and seq.
            let (seq, request) = if msg.body.len() >= 4 + NLMSG_HDRLEN {
                (u32_ne(msg.body, 12), u16_ne(msg.body, 8))
            } else {
                (msg.seq, 0)
            };
            if err == 0 {
                Ok(Event::Ack { seq })
            } else {
                Ok(Event::Error {
                    seq,
                    errno: err.checked_neg().unwrap_or(i32::MAX),
                    request,
                })
            }
        }
        NLMSG_DONE => Ok(Event::Done),
        RTM_NEWLINK | RTM_DELLINK => parse_link(msg).map(Event::Link),
        _ if msg.subsys() == NFNL_SUBSYS_QUEUE && msg.nf_type() == NFQNL_MSG_PACKET => {
            parse_queue_packet(msg).map(Event::Packet)
        }
        _ if msg.subsys() == NFNL_SUBSYS_ULOG && msg.nf_type() == NFULNL_MSG_PACKET => {
            parse_log_packet(msg).map(Event::Log)
        }
        kind => Ok(Event::Other { kind }),
    }
}

/// Writes one netlink message into a growing buffer: header, then body
/// parts and attributes; [`Builder::finish`] fills in the length. Several
/// messages may follow each other in one buffer (one `send`).
#[derive(Debug)]
pub struct Builder<'b> {
    buf: &'b mut Vec<u8>,
    start: usize,
}

impl<'b> Builder<'b> {
    /// Starts a message of `kind` with `flags` and `seq` at the end of
    /// `buf`.
    pub fn new(buf: &'b mut Vec<u8>, kind: u16, flags: u16, seq: u32) -> Builder<'b> {
        let start = buf.len();
        buf.extend_from_slice(&0u32.to_ne_bytes());
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&seq.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes());
        Builder { buf, start }
    }

    /// A netfilter message: `(subsys << 8) | msg`, with its `nfgenmsg`.
    pub fn netfilter(
        buf: &'b mut Vec<u8>,
        subsys: u8,
        msg: u8,
        flags: u16,
        seq: u32,
        family: u8,
        res_id: u16,
    ) -> Builder<'b> {
        let b = Builder::new(
            buf,
            (u16::from(subsys) << 8) | u16::from(msg),
            flags | NLM_F_REQUEST,
            seq,
        );
        b.buf.push(family);
        b.buf.push(NFNETLINK_V0);
        b.buf.extend_from_slice(&res_id.to_be_bytes());
        b
    }

    fn pad(&mut self) {
        while !(self.buf.len() - self.start).is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    /// Appends one attribute. Fails when the value cannot be encoded in an
    /// attribute (more than 65531 bytes).
    pub fn attr(&mut self, kind: u16, data: &[u8]) -> Result<&mut Self, MsgError> {
        let len = u16::try_from(NLA_HDRLEN + data.len()).map_err(|_| {
            MsgError::new(
                MsgErrorKind::BadLength,
                "attribute value",
                self.buf.len() - self.start,
            )
        })?;
        self.pad();
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(data);
        Ok(self)
    }

    /// Appends a big-endian u32 attribute.
    pub fn attr_be32(&mut self, kind: u16, v: u32) -> &mut Self {
        self.pad();
        self.buf.extend_from_slice(&8u16.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.buf.extend_from_slice(&v.to_be_bytes());
        self
    }

    /// Appends raw body bytes (a fixed header such as `ifinfomsg`).
    pub fn raw(&mut self, data: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(data);
        self
    }

    /// Pads, writes the length, and returns the message's length. Fails
    /// when the message is longer than a u32 can say.
    pub fn finish(self) -> Result<usize, MsgError> {
        let mut b = self;
        b.pad();
        let len = b.buf.len() - b.start;
        let l = u32::try_from(len)
            .map_err(|_| MsgError::new(MsgErrorKind::BadLength, "netlink message", b.start))?;
        b.buf[b.start..b.start + 4].copy_from_slice(&l.to_ne_bytes());
        Ok(len)
    }
}

/// What a queue configuration message carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueConfigMsg {
    /// `NFQA_CFG_CMD`: (command, protocol family).
    pub cmd: Option<(u8, u16)>,
    /// `NFQA_CFG_PARAMS`: (copy range, copy mode).
    pub params: Option<(u32, u8)>,
    /// `NFQA_CFG_QUEUE_MAXLEN`.
    pub max_len: Option<u32>,
    /// `NFQA_CFG_FLAGS` and `NFQA_CFG_MASK`: (flags, mask).
    pub flags: Option<(u32, u32)>,
}

/// Appends an `NFQNL_MSG_CONFIG` for `queue` (with an ack requested).
pub fn queue_config(buf: &mut Vec<u8>, seq: u32, queue: u16, cfg: &QueueConfigMsg) -> usize {
    let mut b = Builder::netfilter(
        buf,
        NFNL_SUBSYS_QUEUE,
        NFQNL_MSG_CONFIG,
        NLM_F_ACK,
        seq,
        libc::AF_UNSPEC as u8,
        queue,
    );
    // Every value below is a few bytes: attr() cannot fail on them.
    if let Some((cmd, pf)) = cfg.cmd {
        let mut v = [cmd, 0, 0, 0];
        v[2..].copy_from_slice(&pf.to_be_bytes());
        let _ = b.attr(NFQA_CFG_CMD, &v);
    }
    if let Some((range, mode)) = cfg.params {
        let mut v = [0u8; 5];
        v[..4].copy_from_slice(&range.to_be_bytes());
        v[4] = mode;
        let _ = b.attr(NFQA_CFG_PARAMS, &v);
    }
    if let Some(n) = cfg.max_len {
        b.attr_be32(NFQA_CFG_QUEUE_MAXLEN, n);
    }
    if let Some((flags, mask)) = cfg.flags {
        b.attr_be32(NFQA_CFG_FLAGS, flags);
        b.attr_be32(NFQA_CFG_MASK, mask);
    }
    b.finish().unwrap_or(0)
}

/// Appends an `NFQNL_MSG_VERDICT` for packet `id`, with an optional new
/// mark and new bytes. Fails when `payload` is longer than an attribute
/// can hold (65531 bytes); nothing is written then.
pub fn verdict(
    buf: &mut Vec<u8>,
    seq: u32,
    queue: u16,
    id: u32,
    verdict: u32,
    mark: Option<u32>,
    payload: Option<&[u8]>,
) -> Result<usize, MsgError> {
    let len = verdict_head(buf, seq, queue, id, verdict, mark, payload.map(<[u8]>::len))?;
    if let Some(p) = payload {
        buf.extend_from_slice(p);
        buf.resize(buf.len() + (align4(p.len()) - p.len()), 0);
    }
    Ok(len)
}

/// Appends an `NFQNL_MSG_VERDICT` up to and including the header of its
/// `NFQA_PAYLOAD` attribute, with lengths that count a payload of
/// `payload_len` bytes and its padding to 4 (`align4(payload_len) -
/// payload_len` zero bytes), which the caller sends right after (as
/// further parts of one gathered send, without copying the payload).
/// Returns the whole message's length. Fails, writing nothing, when the
/// payload is longer than 65531 bytes.
pub fn verdict_head(
    buf: &mut Vec<u8>,
    seq: u32,
    queue: u16,
    id: u32,
    verdict: u32,
    mark: Option<u32>,
    payload_len: Option<usize>,
) -> Result<usize, MsgError> {
    let start = buf.len();
    let mut b = Builder::netfilter(
        buf,
        NFNL_SUBSYS_QUEUE,
        NFQNL_MSG_VERDICT,
        0,
        seq,
        libc::AF_UNSPEC as u8,
        queue,
    );
    let mut hdr = [0u8; 8];
    hdr[..4].copy_from_slice(&verdict.to_be_bytes());
    hdr[4..].copy_from_slice(&id.to_be_bytes());
    let _ = b.attr(NFQA_VERDICT_HDR, &hdr);
    if let Some(m) = mark {
        b.attr_be32(NFQA_MARK, m);
    }
    let Some(plen) = payload_len else {
        return b.finish();
    };
    let Ok(alen) = u16::try_from(NLA_HDRLEN + plen) else {
        let at = b.buf.len() - start;
        b.buf.truncate(start);
        return Err(MsgError::new(
            MsgErrorKind::BadLength,
            "attribute value",
            at,
        ));
    };
    b.pad();
    b.buf.extend_from_slice(&alen.to_ne_bytes());
    b.buf.extend_from_slice(&NFQA_PAYLOAD.to_ne_bytes());
    let total = b.buf.len() - start + align4(plen);
    let Ok(t) = u32::try_from(total) else {
        b.buf.truncate(start);
        return Err(MsgError::new(
            MsgErrorKind::BadLength,
            "netlink message",
            start,
        ));
    };
    b.buf[start..start + 4].copy_from_slice(&t.to_ne_bytes());
    Ok(total)
}

/// Appends an `NFQNL_MSG_VERDICT_BATCH`: `verdict` for every packet still
/// queued whose id is at most `max_id`.
pub fn verdict_batch(
    buf: &mut Vec<u8>,
    seq: u32,
    queue: u16,
    max_id: u32,
    verdict: u32,
    mark: Option<u32>,
) -> usize {
    let mut b = Builder::netfilter(
        buf,
        NFNL_SUBSYS_QUEUE,
        NFQNL_MSG_VERDICT_BATCH,
        0,
        seq,
        libc::AF_UNSPEC as u8,
        queue,
    );
    let mut hdr = [0u8; 8];
    hdr[..4].copy_from_slice(&verdict.to_be_bytes());
    hdr[4..].copy_from_slice(&max_id.to_be_bytes());
    let _ = b.attr(NFQA_VERDICT_HDR, &hdr);
    if let Some(m) = mark {
        b.attr_be32(NFQA_MARK, m);
    }
    b.finish().unwrap_or(0)
}

/// What an NFLOG configuration message carries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogConfigMsg {
    /// `NFULA_CFG_CMD`.
    pub cmd: Option<u8>,
    /// `NFULA_CFG_MODE`: (copy range, copy mode).
    pub mode: Option<(u32, u8)>,
    /// `NFULA_CFG_NLBUFSIZ`.
    pub nlbufsiz: Option<u32>,
    /// `NFULA_CFG_TIMEOUT` in 1/100 s.
    pub timeout: Option<u32>,
    /// `NFULA_CFG_QTHRESH`.
    pub qthresh: Option<u32>,
    /// `NFULA_CFG_FLAGS`.
    pub flags: Option<u16>,
}

/// Appends an `NFULNL_MSG_CONFIG` for `group` (with an ack requested).
pub fn log_config(
    buf: &mut Vec<u8>,
    seq: u32,
    group: u16,
    family: u8,
    cfg: &LogConfigMsg,
) -> usize {
    let mut b = Builder::netfilter(
        buf,
        NFNL_SUBSYS_ULOG,
        NFULNL_MSG_CONFIG,
        NLM_F_ACK,
        seq,
        family,
        group,
    );
    if let Some(cmd) = cfg.cmd {
        let _ = b.attr(NFULA_CFG_CMD, &[cmd]);
    }
    if let Some((range, mode)) = cfg.mode {
        let mut v = [0u8; 6];
        v[..4].copy_from_slice(&range.to_be_bytes());
        v[4] = mode;
        let _ = b.attr(NFULA_CFG_MODE, &v);
    }
    if let Some(n) = cfg.nlbufsiz {
        b.attr_be32(NFULA_CFG_NLBUFSIZ, n);
    }
    if let Some(n) = cfg.timeout {
        b.attr_be32(NFULA_CFG_TIMEOUT, n);
    }
    if let Some(n) = cfg.qthresh {
        b.attr_be32(NFULA_CFG_QTHRESH, n);
    }
    if let Some(f) = cfg.flags {
        let _ = b.attr(NFULA_CFG_FLAGS, &f.to_be_bytes());
    }
    b.finish().unwrap_or(0)
}

/// Builds a queue packet message as the kernel would (for tests, the fuzz
/// target's round trip and examples): every field of `p` that is set
/// becomes its attribute, the payload last.
pub fn build_queue_packet(
    buf: &mut Vec<u8>,
    seq: u32,
    p: &QueuePacket<'_>,
) -> Result<usize, MsgError> {
    let start = buf.len();
    let mut b = Builder::new(
        buf,
        (u16::from(NFNL_SUBSYS_QUEUE) << 8) | u16::from(NFQNL_MSG_PACKET),
        0,
        seq,
    );
    b.raw(&[p.family, NFNETLINK_V0]).raw(&p.queue.to_be_bytes());
    let mut hdr = [0u8; 7];
    hdr[..4].copy_from_slice(&p.id.to_be_bytes());
    hdr[4..6].copy_from_slice(&p.hw_protocol.to_be_bytes());
    hdr[6] = p.hook;
    b.attr(NFQA_PACKET_HDR, &hdr)?;
    if let Some(i) = p.indev {
        b.attr_be32(NFQA_IFINDEX_INDEV, i);
    }
    if let Some(i) = p.outdev {
        b.attr_be32(NFQA_IFINDEX_OUTDEV, i);
    }
    if p.mark != 0 {
        b.attr_be32(NFQA_MARK, p.mark);
    }
    if let Some(hw) = p.hwaddr {
        let mut v = [0u8; 12];
        let n = hw.len().min(8);
        v[..2].copy_from_slice(&(n as u16).to_be_bytes());
        v[4..4 + n].copy_from_slice(&hw[..n]);
        b.attr(NFQA_HWADDR, &v)?;
    }
    if let Some((s, us)) = p.timestamp {
        let mut v = [0u8; 16];
        v[..8].copy_from_slice(&s.to_be_bytes());
        v[8..].copy_from_slice(&us.to_be_bytes());
        b.attr(NFQA_TIMESTAMP, &v)?;
    }
    if let Some(u) = p.uid_gid.0 {
        b.attr_be32(NFQA_UID, u);
    }
    if let Some(g) = p.uid_gid.1 {
        b.attr_be32(NFQA_GID, g);
    }
    if let Some(c) = p.cap_len {
        b.attr_be32(NFQA_CAP_LEN, c);
    }
    if p.skb_info != 0 {
        b.attr_be32(NFQA_SKB_INFO, p.skb_info);
    }
    if let Some(pr) = p.priority {
        b.attr_be32(NFQA_PRIORITY, pr);
    }
    if let Some(payload) = p.payload
        && let Err(e) = b.attr(NFQA_PAYLOAD, payload)
    {
        b.buf.truncate(start);
        return Err(e);
    }
    b.finish()
}

/// The fuzz target's entry point (`nfq_msg`), kept here so that `cargo
/// test` replays saved inputs through the same code. Byte 0 picks what
/// the rest is: a receive buffer to walk and parse (checking that every
/// slice lies inside it), or the fields of a packet to build, parse back
/// and compare, or of a verdict to build and walk.
pub fn fuzz_one(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    match sel % 3 {
        0 => walk_checked(rest),
        1 => packet_round_trip(rest),
        _ => verdict_round_trip(rest),
    }
}

fn inside(outer: &[u8], inner: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fn walk_checked(buf: &[u8]) {
    let mut last = None;
    for m in messages(buf) {
        let m = match m {
            Ok(m) => m,
            Err(e) => {
                assert!(e.offset <= buf.len(), "error offset {e} past the buffer");
                let _ = e.to_string();
                break;
            }
        };
        assert!(inside(buf, m.body));
        if let Some(prev) = last {
            assert!(m.offset > prev, "messages must advance");
        }
        last = Some(m.offset);
        match parse(&m) {
            Ok(Event::Packet(p)) => {
                for s in [p.payload, p.hwaddr].into_iter().flatten() {
                    assert!(inside(m.body, s));
                }
                let _ = (p.wire_len(), p.truncated());
            }
            Ok(Event::Log(p)) => {
                for s in [p.payload, p.prefix].into_iter().flatten() {
                    assert!(inside(m.body, s));
                }
            }
            Ok(Event::Link(l)) => {
                if let Some(n) = l.name {
                    assert!(inside(m.body, n));
                }
            }
            Ok(_) => {}
            Err(e) => {
                assert!(
                    e.offset >= m.offset && e.offset <= m.offset + NLMSG_HDRLEN + m.body.len(),
                    "error {e} outside its message at {}",
                    m.offset
                );
            }
        }
    }
}

fn take<const N: usize>(b: &mut &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = b.len().min(N);
    out[..n].copy_from_slice(&b[..n]);
    *b = &b[n..];
    out
}

fn packet_round_trip(mut b: &[u8]) {
    let flags = take::<2>(&mut b);
    let id = u32::from_be_bytes(take::<4>(&mut b));
    let hw = u16::from_be_bytes(take::<2>(&mut b));
    let small = take::<4>(&mut b);
    let word = |bytes: [u8; 4]| u32::from_be_bytes(bytes);
    let v1 = word(take::<4>(&mut b));
    let v2 = word(take::<4>(&mut b));
    let hwaddr = take::<8>(&mut b);
    let opt = |bit: u8, v: u32| (flags[0] & (1 << bit) != 0).then_some(v);
    let p = QueuePacket {
        family: small[0],
        queue: u16::from_be_bytes([small[1], small[2]]),
        id,
        hw_protocol: hw,
        hook: small[3],
        mark: if flags[0] & 1 != 0 { v1 } else { 0 },
        timestamp: (flags[0] & 2 != 0).then_some((u64::from(v1), u64::from(v2))),
        indev: opt(2, v1),
        outdev: opt(3, v2),
        payload: (flags[0] & 16 != 0).then_some(b),
        cap_len: opt(5, v2),
        skb_info: if flags[0] & 64 != 0 { v1 } else { 0 },
        hwaddr: (flags[0] & 128 != 0).then_some(&hwaddr[..usize::from(flags[1] % 9)]),
        uid_gid: (opt(0, v2).filter(|_| flags[1] & 16 != 0), None),
        vlan: None,
        priority: (flags[1] & 32 != 0).then_some(v1),
    };
    let mut buf = Vec::new();
    match build_queue_packet(&mut buf, 7, &p) {
        Ok(len) => {
            assert_eq!(len, buf.len());
            let msgs: Vec<_> = messages(&buf).collect();
            assert_eq!(msgs.len(), 1);
            let m = msgs[0].expect("a built message walks");
            match parse(&m) {
                Ok(Event::Packet(q)) => assert_eq!(q, p),
                other => panic!("a built packet parsed as {other:?}"),
            }
        }
        Err(e) => {
            assert!(buf.is_empty(), "a failed build must leave nothing");
            assert_eq!(e.kind, MsgErrorKind::BadLength);
            assert!(b.len() > MAX_COPY_RANGE as usize);
        }
    }
}

fn verdict_round_trip(mut b: &[u8]) {
    let head = take::<12>(&mut b);
    let id = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    let v = u32::from(head[4] % 5);
    let queue = u16::from_be_bytes([head[5], head[6]]);
    let mark =
        (head[7] & 1 != 0).then(|| u32::from_be_bytes([head[8], head[9], head[10], head[11]]));
    let mut buf = Vec::new();
    let n1 = verdict_batch(&mut buf, 1, queue, id, v, mark);
    let r = verdict(
        &mut buf,
        2,
        queue,
        id,
        v,
        mark,
        (head[7] & 2 != 0).then_some(b),
    );
    let count = messages(&buf).count();
    match r {
        Ok(n2) => {
            assert_eq!(n1 + n2, buf.len());
            assert_eq!(count, 2);
        }
        Err(_) => {
            assert_eq!(n1, buf.len());
            assert_eq!(count, 1);
        }
    }
    for m in messages(&buf) {
        let m = m.expect("built messages walk");
        assert_eq!(m.subsys(), NFNL_SUBSYS_QUEUE);
        let mut saw_hdr = false;
        for a in attrs(&m.body[NFGENMSG_LEN..], m.body_offset() + NFGENMSG_LEN) {
            let a = a.expect("built attributes walk");
            if a.kind == NFQA_VERDICT_HDR {
                assert_eq!(a.be32("verdict").ok(), Some(v));
                assert_eq!(
                    u32::from_be_bytes([a.data[4], a.data[5], a.data[6], a.data[7]]),
                    id
                );
                saw_hdr = true;
            }
            if a.kind == NFQA_MARK {
                assert_eq!(a.be32("mark").ok(), mark);
            }
        }
        assert!(saw_hdr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A packet message as captured from a 6.x kernel: an outbound TCP
    /// SYN on queue 7, id 1, with the partial-checksum flag.
    fn captured() -> Vec<u8> {
        let payload: Vec<u8> = vec![
            0x45, 0, 0, 0x3c, 0x12, 0x34, 0x40, 0, 0x40, 6, 0, 0, 10, 77, 1, 1, 10, 77, 1, 2, 0x9c,
            0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 2, 0xfa, 0xf0, 0, 0, 0, 0, 2, 4, 5, 0xb4, 4,
            2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let p = QueuePacket {
            family: 2,
            queue: 7,
            id: 1,
            hw_protocol: 0x0800,
            hook: NF_INET_LOCAL_OUT,
            outdev: Some(2),
            skb_info: NFQA_SKB_CSUMNOTREADY,
            payload: Some(&payload),
            ..QueuePacket::default()
        };
        let mut buf = Vec::new();
        build_queue_packet(&mut buf, 0, &p).unwrap();
        buf
    }

    #[test]
    fn parses_a_queue_packet() {
        let buf = captured();
        let msgs: Vec<_> = messages(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs.len(), 1);
        let Event::Packet(p) = parse(&msgs[0]).unwrap() else {
            panic!("not a packet")
        };
        assert_eq!((p.family, p.queue, p.id, p.hook), (2, 7, 1, 3));
        assert_eq!(p.hw_protocol, 0x0800);
        assert_eq!(p.outdev, Some(2));
        assert!(p.csum_partial() && !p.is_gso() && !p.truncated());
        assert_eq!(p.payload.unwrap().len(), 60);
        assert_eq!(p.wire_len(), 60);
    }

    #[test]
    fn errors_say_where() {
        let mut buf = captured();
        // Cut inside the payload attribute, fixing the message length so
        // that the header walk succeeds and the attribute walk fails.
        buf.truncate(buf.len() - 8);
        let len = buf.len() as u32;
        buf[..4].copy_from_slice(&len.to_ne_bytes());
        let m = messages(&buf).next().unwrap().unwrap();
        let e = parse(&m).unwrap_err();
        assert_eq!(e.kind, MsgErrorKind::Truncated);
        assert_eq!(e.what, "attribute");
        assert!(e.offset > NLMSG_HDRLEN && e.offset < buf.len());
        assert!(e.to_string().starts_with("truncated attribute at byte "));

        let e = messages(&[1, 2, 3]).next().unwrap().unwrap_err();
        assert_eq!(e.to_string(), "truncated netlink header at byte 0");
        let mut bad = vec![0u8; 16];
        bad[0] = 8;
        let e = messages(&bad).next().unwrap().unwrap_err();
        assert_eq!(e.kind, MsgErrorKind::BadLength);

        // A packet without its header attribute.
        let mut buf = Vec::new();
        let _ =
            Builder::netfilter(&mut buf, NFNL_SUBSYS_QUEUE, NFQNL_MSG_PACKET, 0, 0, 2, 1).finish();
        let m = messages(&buf).next().unwrap().unwrap();
        assert_eq!(parse(&m).unwrap_err().kind, MsgErrorKind::Missing);
    }

    #[test]
    fn acks_errors_and_batches() {
        // An NLMSG_ERROR carrying -ENOENT for request seq 9 of type 0x301.
        let mut buf = Vec::new();
        let mut b = Builder::new(&mut buf, NLMSG_ERROR, 0, 9);
        b.raw(&(-libc::ENOENT).to_ne_bytes());
        b.raw(&20u32.to_ne_bytes())
            .raw(&0x301u16.to_ne_bytes())
            .raw(&0u16.to_ne_bytes())
            .raw(&9u32.to_ne_bytes())
            .raw(&0u32.to_ne_bytes());
        b.finish().unwrap();
        let mut b = Builder::new(&mut buf, NLMSG_ERROR, 0, 10);
        b.raw(&0i32.to_ne_bytes());
        b.finish().unwrap();
        Builder::new(&mut buf, NLMSG_DONE, NLM_F_MULTI, 0)
            .finish()
            .unwrap();
        let evs: Vec<_> = messages(&buf)
            .map(|m| parse(&m.unwrap()).unwrap())
            .collect();
        assert_eq!(
            evs,
            vec![
                Event::Error {
                    seq: 9,
                    errno: libc::ENOENT,
                    request: 0x301
                },
                Event::Ack { seq: 10 },
                Event::Done
            ]
        );
    }

    #[test]
    fn verdicts_encode_as_the_kernel_reads_them() {
        let mut buf = Vec::new();
        verdict_batch(&mut buf, 1, 7, 41, NF_ACCEPT, None);
        verdict(
            &mut buf,
            2,
            7,
            42,
            NF_ACCEPT,
            Some(5),
            Some(&[0x45, 0, 0, 20]),
        )
        .unwrap();
        let msgs: Vec<_> = messages(&buf).collect::<Result<_, _>>().unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].kind, 0x303);
        assert_eq!(msgs[1].kind, 0x301);
        assert_eq!(msgs[1].flags, NLM_F_REQUEST);
        assert_eq!(&msgs[1].body[..4], &[0, 0, 0, 7]);
        let a: Vec<_> = attrs(&msgs[1].body[4..], 0)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(a[0].kind, NFQA_VERDICT_HDR);
        assert_eq!(a[0].data, &[0, 0, 0, 1, 0, 0, 0, 42]);
        assert_eq!((a[1].kind, a[1].data), (NFQA_MARK, &[0u8, 0, 0, 5][..]));
        assert_eq!(
            (a[2].kind, a[2].data),
            (NFQA_PAYLOAD, &[0x45u8, 0, 0, 20][..])
        );
        // Too long for one attribute: refused, nothing written.
        let before = buf.len();
        let big = vec![0u8; 70_000];
        let e = verdict(&mut buf, 3, 7, 43, NF_ACCEPT, None, Some(&big)).unwrap_err();
        assert_eq!(e.kind, MsgErrorKind::BadLength);
        assert_eq!(buf.len(), before);
    }

    #[test]
    fn config_messages() {
        let mut buf = Vec::new();
        queue_config(
            &mut buf,
            1,
            300,
            &QueueConfigMsg {
                cmd: Some((NFQNL_CFG_CMD_BIND, 0)),
                params: Some((0xffff, NFQNL_COPY_PACKET)),
                max_len: Some(4096),
                flags: Some((NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO, 7)),
            },
        );
        let m = messages(&buf).next().unwrap().unwrap();
        assert_eq!(m.kind, 0x302);
        assert_eq!(m.flags, NLM_F_REQUEST | NLM_F_ACK);
        let kinds: Vec<_> = attrs(&m.body[4..], 0).map(|a| a.unwrap().kind).collect();
        assert_eq!(kinds, vec![1, 2, 3, 5, 4]);
        let mut buf = Vec::new();
        log_config(
            &mut buf,
            2,
            9,
            0,
            &LogConfigMsg {
                cmd: Some(NFULNL_CFG_CMD_BIND),
                flags: Some(NFULNL_CFG_F_SEQ),
                ..LogConfigMsg::default()
            },
        );
        let m = messages(&buf).next().unwrap().unwrap();
        assert_eq!(m.kind, 0x401);
        assert_eq!(m.body.len() % 4, 0);
    }

    #[test]
    fn log_and_link_events() {
        let mut buf = Vec::new();
        let mut b = Builder::new(&mut buf, 0x400, 0, 0);
        b.raw(&[10, 0]).raw(&5u16.to_be_bytes());
        b.attr(NFULA_PACKET_HDR, &[0x86, 0xdd, 1, 0]).unwrap();
        b.attr_be32(NFULA_SEQ, 77);
        b.attr(NFULA_PREFIX, b"sluice\0").unwrap();
        b.attr(NFULA_PAYLOAD, &[0x60, 0, 0, 0]).unwrap();
        b.finish().unwrap();
        let mut b = Builder::new(&mut buf, RTM_DELLINK, 0, 0);
        b.raw(&[0, 0, 1, 0]).raw(&4u32.to_ne_bytes()).raw(&[0; 8]);
        b.attr(IFLA_IFNAME, b"eth0\0").unwrap();
        b.finish().unwrap();
        let evs: Vec<_> = messages(&buf)
            .map(|m| parse(&m.unwrap()).unwrap())
            .collect();
        let Event::Log(l) = evs[0] else { panic!() };
        assert_eq!((l.family, l.group, l.hook, l.seq), (10, 5, 1, Some(77)));
        assert_eq!(l.hw_protocol, 0x86dd);
        assert_eq!(l.prefix, Some(&b"sluice"[..]));
        assert_eq!(l.payload, Some(&[0x60u8, 0, 0, 0][..]));
        let Event::Link(k) = evs[1] else { panic!() };
        assert!(k.deleted);
        assert_eq!(k.index, 4);
        assert_eq!(k.name, Some(&b"eth0"[..]));
    }

    proptest! {
        #[test]
        fn walking_anything_is_safe(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            fuzz_one(&[0].iter().chain(&data).copied().collect::<Vec<_>>());
        }

        #[test]
        fn packets_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            fuzz_one(&[1].iter().chain(&data).copied().collect::<Vec<_>>());
        }

        #[test]
        fn verdicts_round_trip(data in proptest::collection::vec(any::<u8>(), 0..300)) {
            fuzz_one(&[2].iter().chain(&data).copied().collect::<Vec<_>>());
        }

        #[test]
        fn mutated_packets_never_escape(
            cut in 0usize..200,
            flips in proptest::collection::vec((0usize..200, any::<u8>()), 0..6),
        ) {
            let mut buf = captured();
            for (at, v) in flips {
                if at < buf.len() {
                    buf[at] ^= v;
                }
            }
            buf.truncate(buf.len().saturating_sub(cut));
            fuzz_one(&[0].iter().chain(&buf).copied().collect::<Vec<_>>());
        }
    }
}
