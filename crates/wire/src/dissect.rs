//! The dissector: which layers a frame holds, where each starts, and why
//! the walk stopped.
//!
//! [`dissect`] (or [`dissect_captured`] for frames cut by a snapshot
//! length) walks a frame from its link-layer header down through VLAN
//! tags, MPLS labels, PPPoE, LLC/SNAP, IPv4/IPv6 (with extension headers
//! and IP-in-IP tunnels) to TCP, UDP, SCTP, ICMP or ARP, and returns a
//! [`Dissection`]: the stack of [`Layer`]s found (protocol, offset, header
//! length, end), what follows the last one ([`Rest`]), the protocol mix as
//! a bit set ([`Classes`]), and — if it stopped early — an [`Error`] naming
//! the layer, the byte offset and why.
//!
//! # Cut by the snapshot length is not malformed
//!
//! Captures are often made with a snapshot length: the frame holds the
//! first `caplen` bytes of `origlen`. A header that ends past `caplen` but
//! within `origlen` was cut by the capture and yields an error of kind
//! [`ErrorKind::Truncated`]; a length field that points past `caplen` but
//! within `origlen` is no error at all. Only what does not fit the frame as
//! it was on the wire is malformed ([`ErrorKind::Malformed`] or
//! [`ErrorKind::BadLength`]). [`dissect`] takes the frame as complete.
//!
//! # Cost
//!
//! No allocation: the layers live in a fixed array of [`MAX_LAYERS`]
//! inside the `Dissection`. A caller that dissects many frames can reuse
//! one `Dissection` with [`dissect_into`]; [`classify`] returns just the
//! protocol mix. The walk reads only header bytes and never panics, on any
//! input.

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, sat32};
use crate::ethertype::EtherType;
use crate::ip_protocol::IpProtocol;
use crate::linktype::LinkType;
use crate::{
    arp, ethernet, icmpv4, icmpv6, ipv4, ipv6, ipv6_ext, llc, loopback, mpls, pppoe, sctp, sll,
    sll2, tcp, udp, vlan,
};

/// How many layers a [`Dissection`] holds at most; a frame with more stops
/// with an [`ErrorKind::Unsupported`] error.
pub const MAX_LAYERS: usize = 16;

/// One layer found in a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layer {
    /// Which protocol.
    pub protocol: Protocol,
    /// Offset of its header in the frame.
    pub offset: u32,
    /// Length of its header (options and extension data included).
    pub header_len: u32,
    /// Offset just past the data this layer covers, as its own length
    /// field (or the enclosing layer's) says. It may lie beyond the
    /// captured bytes when the capture was cut.
    pub end: u32,
}

impl Layer {
    const EMPTY: Layer = Layer {
        protocol: Protocol::Ethernet,
        offset: 0,
        header_len: 0,
        end: 0,
    };

    /// Offset of the first byte after the header.
    pub fn payload_offset(&self) -> usize {
        self.offset as usize + self.header_len as usize
    }

    /// Payload length on the wire (from `end`).
    pub fn payload_len(&self) -> usize {
        (self.end as usize).saturating_sub(self.payload_offset())
    }
}

/// A protocol number that named what follows the last layer, when sluice
/// does not dissect it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Next {
    /// A link type sluice does not dissect.
    LinkType(LinkType),
    /// An EtherType (or an invalid type/length value 1501..1535).
    EtherType(u16),
    /// An IP protocol / next header.
    Ip(IpProtocol),
    /// LLC service access points (without SNAP, or SNAP with a non-zero
    /// OUI).
    Llc {
        /// Destination SAP.
        dsap: u8,
        /// Source SAP.
        ssap: u8,
    },
    /// A PPP protocol (PPPoE session).
    Ppp(u16),
    /// A BSD address family (NULL / LOOP).
    Family(u32),
    /// A Linux cooked-header protocol value that is not an EtherType.
    Sll(u16),
    /// The payload after an MPLS label stack, when it is not IP.
    Mpls,
}

/// What follows the last layer of a [`Dissection`] that ended without an
/// error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Rest {
    /// Application data or a message body (TCP, UDP, SCTP, ICMP, ARP,
    /// PPPoE discovery): the walk is complete.
    Data,
    /// A protocol sluice does not dissect.
    Unknown(Next),
    /// A fragment other than the first: the upper-layer header is in
    /// another packet.
    Fragment(IpProtocol),
    /// ESP: the rest is encrypted.
    Encrypted,
    /// IPv6 "no next header".
    NoNextHeader,
    /// The walk stopped with an error (see [`Dissection::error`]).
    Stopped,
}

/// The protocol mix of a frame as a bit set: cheap to compute, to count,
/// and to OR over many frames.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Classes(u32);

impl Classes {
    /// Nothing.
    pub const NONE: Classes = Classes(0);
    /// An Ethernet header.
    pub const ETHERNET: Classes = Classes(1 << 0);
    /// At least one 802.1Q or 802.1ad tag.
    pub const VLAN: Classes = Classes(1 << 1);
    /// ARP or RARP.
    pub const ARP: Classes = Classes(1 << 2);
    /// IPv4.
    pub const IPV4: Classes = Classes(1 << 3);
    /// IPv6.
    pub const IPV6: Classes = Classes(1 << 4);
    /// TCP.
    pub const TCP: Classes = Classes(1 << 5);
    /// UDP.
    pub const UDP: Classes = Classes(1 << 6);
    /// ICMP for IPv4.
    pub const ICMP: Classes = Classes(1 << 7);
    /// ICMPv6.
    pub const ICMPV6: Classes = Classes(1 << 8);
    /// SCTP.
    pub const SCTP: Classes = Classes(1 << 9);
    /// Something sluice does not dissect (unknown link type, EtherType, IP
    /// protocol, …), or a frame too deep to follow.
    pub const OTHER: Classes = Classes(1 << 10);
    /// The frame is malformed (an error other than a snapshot cut).
    pub const MALFORMED: Classes = Classes(1 << 11);
    /// A header was cut by the snapshot length.
    pub const TRUNCATED: Classes = Classes(1 << 12);
    /// An IP fragment other than the first.
    pub const FRAGMENT: Classes = Classes(1 << 13);
    /// MPLS labels.
    pub const MPLS: Classes = Classes(1 << 14);
    /// PPPoE.
    pub const PPPOE: Classes = Classes(1 << 15);
    /// 802.2 LLC.
    pub const LLC: Classes = Classes(1 << 16);
    /// A Linux cooked header (SLL or SLL2).
    pub const SLL: Classes = Classes(1 << 17);
    /// A BSD loopback header (NULL or LOOP).
    pub const LOOPBACK: Classes = Classes(1 << 18);
    /// IP inside IP (4in4, 6in4, 4in6, 6in6).
    pub const TUNNEL: Classes = Classes(1 << 19);
    /// IPsec (AH or ESP).
    pub const IPSEC: Classes = Classes(1 << 20);

    /// Every class with its lower-case name, in a stable order.
    pub const ALL: [(Classes, &'static str); 21] = [
        (Classes::ETHERNET, "ethernet"),
        (Classes::VLAN, "vlan"),
        (Classes::ARP, "arp"),
        (Classes::IPV4, "ipv4"),
        (Classes::IPV6, "ipv6"),
        (Classes::TCP, "tcp"),
        (Classes::UDP, "udp"),
        (Classes::ICMP, "icmp"),
        (Classes::ICMPV6, "icmpv6"),
        (Classes::SCTP, "sctp"),
        (Classes::OTHER, "other"),
        (Classes::MALFORMED, "malformed"),
        (Classes::TRUNCATED, "truncated"),
        (Classes::FRAGMENT, "fragment"),
        (Classes::MPLS, "mpls"),
        (Classes::PPPOE, "pppoe"),
        (Classes::LLC, "llc"),
        (Classes::SLL, "sll"),
        (Classes::LOOPBACK, "loopback"),
        (Classes::TUNNEL, "tunnel"),
        (Classes::IPSEC, "ipsec"),
    ];

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// From raw bits (unknown bits are kept).
    pub const fn from_bits(bits: u32) -> Classes {
        Classes(bits)
    }

    /// True if every bit of `other` is set.
    pub const fn contains(self, other: Classes) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Sets the bits of `other`.
    pub fn insert(&mut self, other: Classes) {
        self.0 |= other.0;
    }

    /// The set classes with their names.
    pub fn iter(self) -> impl Iterator<Item = (Classes, &'static str)> {
        Classes::ALL
            .into_iter()
            .filter(move |(c, _)| self.contains(*c))
    }

    fn of(p: Protocol) -> Classes {
        match p {
            Protocol::Ethernet => Classes::ETHERNET,
            Protocol::Vlan | Protocol::QinQ => Classes::VLAN,
            Protocol::Arp => Classes::ARP,
            Protocol::Ipv4 => Classes::IPV4,
            Protocol::Ipv6 => Classes::IPV6,
            Protocol::Tcp => Classes::TCP,
            Protocol::Udp => Classes::UDP,
            Protocol::Icmpv4 => Classes::ICMP,
            Protocol::Icmpv6 => Classes::ICMPV6,
            Protocol::Sctp => Classes::SCTP,
            Protocol::Mpls => Classes::MPLS,
            Protocol::Pppoe | Protocol::PppoeDiscovery => Classes::PPPOE,
            Protocol::Llc => Classes::LLC,
            Protocol::LinuxSll | Protocol::LinuxSll2 => Classes::SLL,
            Protocol::Null | Protocol::Loop => Classes::LOOPBACK,
            Protocol::Ah | Protocol::Esp => Classes::IPSEC,
            _ => Classes::NONE,
        }
    }
}

impl core::ops::BitOr for Classes {
    type Output = Classes;
    fn bitor(self, rhs: Classes) -> Classes {
        Classes(self.0 | rhs.0)
    }
}

impl core::ops::BitOrAssign for Classes {
    fn bitor_assign(&mut self, rhs: Classes) {
        self.0 |= rhs.0;
    }
}

impl fmt::Debug for Classes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(|(_, n)| n)).finish()
    }
}

impl fmt::Display for Classes {
    /// The names joined by `+` (`ethernet+ipv4+tcp`), or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (_, n) in self.iter() {
            if !first {
                f.write_str("+")?;
            }
            f.write_str(n)?;
            first = false;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

/// The result of dissecting one frame.
#[derive(Clone, Debug)]
pub struct Dissection {
    linktype: LinkType,
    layers: [Layer; MAX_LAYERS],
    depth: u8,
    classes: Classes,
    rest: Rest,
    error: Option<Error>,
    captured_len: u32,
    original_len: u32,
}

impl Default for Dissection {
    fn default() -> Self {
        Dissection::new()
    }
}

impl Dissection {
    /// An empty dissection, to be filled by [`dissect_into`].
    pub const fn new() -> Dissection {
        Dissection {
            linktype: LinkType(0),
            layers: [Layer::EMPTY; MAX_LAYERS],
            depth: 0,
            classes: Classes::NONE,
            rest: Rest::Data,
            error: None,
            captured_len: 0,
            original_len: 0,
        }
    }

    /// The link type the frame was read as.
    pub fn linktype(&self) -> LinkType {
        self.linktype
    }

    /// The layers found, outermost first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers[..usize::from(self.depth)]
    }

    /// The first layer of a protocol.
    pub fn find(&self, protocol: Protocol) -> Option<&Layer> {
        self.layers().iter().find(|l| l.protocol == protocol)
    }

    /// The last (innermost) layer.
    pub fn last(&self) -> Option<&Layer> {
        self.layers().last()
    }

    /// What follows the last layer.
    pub fn rest(&self) -> Rest {
        self.rest
    }

    /// Why the walk stopped early, if it did.
    pub fn error(&self) -> Option<Error> {
        self.error
    }

    /// The protocol mix.
    pub fn classes(&self) -> Classes {
        self.classes
    }

    /// True if the frame is malformed: the walk stopped with an error that
    /// is neither a snapshot cut nor a variant sluice does not read.
    pub fn is_malformed(&self) -> bool {
        self.classes.contains(Classes::MALFORMED)
    }

    /// True if the walk stopped at a header cut by the snapshot length.
    pub fn is_truncated(&self) -> bool {
        self.classes.contains(Classes::TRUNCATED)
    }

    /// Bytes captured.
    pub fn captured_len(&self) -> usize {
        self.captured_len as usize
    }

    /// Bytes on the wire.
    pub fn original_len(&self) -> usize {
        self.original_len as usize
    }

    /// The byte range of the innermost payload that was captured (after
    /// the last header, up to its end or the end of the capture).
    pub fn payload(&self) -> core::ops::Range<usize> {
        match self.last() {
            None => 0..self.captured_len(),
            Some(l) => {
                let start = l.payload_offset().min(self.captured_len());
                let end = (l.end as usize).min(self.captured_len()).max(start);
                start..end
            }
        }
    }
}

/// Dissects a complete frame (nothing was cut by a snapshot length).
pub fn dissect(linktype: LinkType, frame: &[u8]) -> Dissection {
    dissect_captured(linktype, frame, frame.len())
}

/// Dissects a frame of which `frame` holds the first bytes of
/// `original_len` (a value below `frame.len()` is taken as `frame.len()`).
pub fn dissect_captured(linktype: LinkType, frame: &[u8], original_len: usize) -> Dissection {
    let mut d = Dissection::new();
    dissect_into(&mut d, linktype, frame, original_len);
    d
}

/// Dissects into an existing [`Dissection`], overwriting it; the cheapest
/// way to dissect many frames.
pub fn dissect_into(d: &mut Dissection, linktype: LinkType, frame: &[u8], original_len: usize) {
    let cap = frame.len();
    let orig = original_len.max(cap);
    d.linktype = linktype;
    d.depth = 0;
    d.classes = Classes::NONE;
    d.rest = Rest::Data;
    d.error = None;
    d.captured_len = sat32(cap);
    d.original_len = sat32(orig);
    let mut w = Walker {
        frame,
        orig,
        d,
        off: 0,
        limit: orig,
    };
    let start = match linktype {
        LinkType::ETHERNET => Step::Ethernet,
        LinkType::RAW => Step::RawIp,
        // Like tcpdump, trust the version nibble over the link type: files
        // labelled IPv6 that hold IPv4 (and the reverse) exist.
        LinkType::IPV4 | LinkType::IPV6 => Step::RawIp,
        LinkType::LINUX_SLL => Step::Sll,
        LinkType::LINUX_SLL2 => Step::Sll2,
        LinkType::NULL => Step::Null,
        LinkType::LOOP => Step::Loop,
        other => Step::Done(Rest::Unknown(Next::LinkType(other))),
    };
    let outcome = w.run(start);
    let d = w.d;
    match outcome {
        Ok(rest) => {
            d.rest = rest;
            if matches!(rest, Rest::Unknown(_)) {
                d.classes.insert(Classes::OTHER);
            }
            if matches!(rest, Rest::Fragment(_)) {
                d.classes.insert(Classes::FRAGMENT);
            }
        }
        Err(e) => {
            d.rest = Rest::Stopped;
            d.error = Some(e);
            d.classes.insert(match e.kind() {
                ErrorKind::Truncated => Classes::TRUNCATED,
                ErrorKind::Unsupported => Classes::OTHER,
                _ => Classes::MALFORMED,
            });
        }
    }
}

/// Just the protocol mix of a frame (see [`Dissection::classes`]).
pub fn classify(linktype: LinkType, frame: &[u8], original_len: usize) -> Classes {
    let mut d = Dissection::new();
    dissect_into(&mut d, linktype, frame, original_len);
    d.classes
}

/// What to read next.
#[derive(Clone, Copy, Debug)]
enum Step {
    Ethernet,
    /// The type/length field just read (Ethernet or a VLAN tag).
    EtherType(u16),
    Vlan(Protocol),
    Llc,
    Mpls,
    Pppoe,
    PppoeDiscovery,
    Arp,
    RawIp,
    Ipv4,
    Ipv6,
    /// An IP protocol number after an IP header; `v6` says whether IPv6
    /// extension headers are allowed here.
    IpProto(u8, bool),
    Ipv6Ext(IpProtocol),
    Ah(bool),
    Esp,
    Icmpv4,
    Icmpv6,
    Tcp,
    Udp,
    Sctp,
    Sll,
    Sll2,
    Null,
    Loop,
    Done(Rest),
}

struct Walker<'a, 'd> {
    frame: &'a [u8],
    orig: usize,
    d: &'d mut Dissection,
    /// Where the next header starts.
    off: usize,
    /// End of the current region on the wire (frame coordinates).
    limit: usize,
}

type Walk<T> = Result<T, Error>;

impl<'a> Walker<'a, '_> {
    /// The captured bytes of the current region from `off`.
    fn bytes(&self) -> &'a [u8] {
        let end = self.limit.min(self.frame.len());
        self.frame.get(self.off..end).unwrap_or(&[])
    }

    /// Turns a view's error into a frame-level one: a short header is
    /// `Truncated` only if the snapshot length explains it.
    fn lift(&self, e: Error) -> Error {
        if let (ErrorKind::Truncated, Reason::Short { need, .. }) = (e.kind(), e.reason()) {
            let need = need as usize;
            let captured = self.bytes().len();
            let on_wire = self.limit.saturating_sub(self.off);
            if need <= on_wire && self.frame.len() < self.orig {
                return Error::new(
                    ErrorKind::Truncated,
                    e.layer(),
                    Reason::Short {
                        need: sat32(need),
                        have: sat32(captured),
                    },
                )
                .shifted(self.off);
            }
            return Error::new(
                ErrorKind::Malformed,
                e.layer(),
                Reason::Short {
                    need: sat32(need),
                    have: sat32(on_wire),
                },
            )
            .shifted(self.off);
        }
        e.shifted(self.off)
    }

    fn need(&self, layer: Protocol, n: usize) -> Walk<&'a [u8]> {
        let b = self.bytes();
        if b.len() >= n {
            Ok(b)
        } else {
            Err(self.lift(Error::short(layer, n, b.len())))
        }
    }

    fn push(&mut self, protocol: Protocol, header_len: usize, end: usize) -> Walk<()> {
        let i = usize::from(self.d.depth);
        let Some(slot) = self.d.layers.get_mut(i) else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                protocol,
                Reason::Message("too many layers to follow"),
            )
            .shifted(self.off));
        };
        *slot = Layer {
            protocol,
            offset: sat32(self.off),
            header_len: sat32(header_len),
            end: sat32(end),
        };
        self.d.depth += 1;
        self.d.classes.insert(Classes::of(protocol));
        Ok(())
    }

    /// Narrows the region to `len` bytes from `off` (a length field),
    /// failing if it claims more than the region holds. The layer has been
    /// pushed; its `end` is updated.
    fn narrow(&mut self, layer: Protocol, field: &'static str, len: usize) -> Walk<()> {
        let available = self.limit.saturating_sub(self.off);
        if len > available {
            return Err(Error::new(
                ErrorKind::BadLength,
                layer,
                Reason::Exceeds {
                    field,
                    value: sat32(len),
                    available: sat32(available),
                },
            )
            .shifted(self.off));
        }
        self.limit = self.off + len;
        if let Some(l) = self
            .d
            .depth
            .checked_sub(1)
            .and_then(|i| self.d.layers.get_mut(usize::from(i)))
        {
            l.end = sat32(self.limit);
        }
        Ok(())
    }

    fn run(&mut self, mut step: Step) -> Walk<Rest> {
        loop {
            step = match step {
                Step::Done(rest) => return Ok(rest),
                Step::Ethernet => self.ethernet()?,
                Step::EtherType(t) => self.ethertype(t),
                Step::Vlan(p) => self.vlan(p)?,
                Step::Llc => self.llc()?,
                Step::Mpls => self.mpls()?,
                Step::Pppoe => self.pppoe()?,
                Step::PppoeDiscovery => {
                    self.need(Protocol::PppoeDiscovery, pppoe::HEADER_LEN)?;
                    self.push(Protocol::PppoeDiscovery, pppoe::HEADER_LEN, self.limit)?;
                    Step::Done(Rest::Data)
                }
                Step::Arp => self.arp()?,
                Step::RawIp => self.raw_ip()?,
                Step::Ipv4 => self.ipv4()?,
                Step::Ipv6 => self.ipv6()?,
                Step::IpProto(p, v6) => ip_proto(p, v6),
                Step::Ipv6Ext(p) => self.ipv6_ext(p)?,
                Step::Ah(v6) => self.ah(v6)?,
                Step::Esp => {
                    self.need(Protocol::Esp, crate::esp::HEADER_LEN)?;
                    self.push(Protocol::Esp, crate::esp::HEADER_LEN, self.limit)?;
                    Step::Done(Rest::Encrypted)
                }
                Step::Icmpv4 => {
                    self.need(Protocol::Icmpv4, icmpv4::HEADER_LEN)?;
                    self.push(Protocol::Icmpv4, icmpv4::HEADER_LEN, self.limit)?;
                    Step::Done(Rest::Data)
                }
                Step::Icmpv6 => {
                    let b = self.bytes();
                    let p = icmpv6::Packet::new_checked(b).map_err(|e| self.lift(e))?;
                    let hl = p.msg_type().fixed_len();
                    self.push(Protocol::Icmpv6, hl, self.limit)?;
                    Step::Done(Rest::Data)
                }
                Step::Tcp => {
                    let p = tcp::Packet::new_checked(self.bytes()).map_err(|e| self.lift(e))?;
                    self.push(Protocol::Tcp, p.header_len(), self.limit)?;
                    Step::Done(Rest::Data)
                }
                Step::Udp => self.udp()?,
                Step::Sctp => {
                    self.need(Protocol::Sctp, sctp::HEADER_LEN)?;
                    self.push(Protocol::Sctp, sctp::HEADER_LEN, self.limit)?;
                    Step::Done(Rest::Data)
                }
                Step::Sll => {
                    let b = self.need(Protocol::LinuxSll, sll::HEADER_LEN)?;
                    let p = sll::Packet::new_unchecked(b);
                    self.push(Protocol::LinuxSll, sll::HEADER_LEN, self.limit)?;
                    self.off += sll::HEADER_LEN;
                    sll_protocol(p.arphrd_type(), p.protocol())
                }
                Step::Sll2 => {
                    let b = self.need(Protocol::LinuxSll2, sll2::HEADER_LEN)?;
                    let p = sll2::Packet::new_unchecked(b);
                    self.push(Protocol::LinuxSll2, sll2::HEADER_LEN, self.limit)?;
                    self.off += sll2::HEADER_LEN;
                    sll_protocol(p.arphrd_type(), p.protocol())
                }
                Step::Null | Step::Loop => {
                    let layer = if matches!(step, Step::Null) {
                        Protocol::Null
                    } else {
                        Protocol::Loop
                    };
                    let b = self.need(layer, loopback::HEADER_LEN)?;
                    let p = loopback::Packet::new_unchecked(b);
                    let family = if layer == Protocol::Null {
                        p.family_null().0
                    } else {
                        p.family_loop()
                    };
                    self.push(layer, loopback::HEADER_LEN, self.limit)?;
                    self.off += loopback::HEADER_LEN;
                    if family.is_ipv4() {
                        Step::Ipv4
                    } else if family.is_ipv6() {
                        Step::Ipv6
                    } else {
                        Step::Done(Rest::Unknown(Next::Family(family.into())))
                    }
                }
            };
        }
    }

    fn ethernet(&mut self) -> Walk<Step> {
        let b = self.need(Protocol::Ethernet, ethernet::HEADER_LEN)?;
        let f = ethernet::Frame::new_unchecked(b);
        self.push(Protocol::Ethernet, ethernet::HEADER_LEN, self.limit)?;
        self.off += ethernet::HEADER_LEN;
        Ok(Step::EtherType(f.ethertype_raw()))
    }

    fn ethertype(&mut self, raw: u16) -> Step {
        if EtherType::is_length(raw) {
            // 802.3: the field is the length of the LLC frame. Frames
            // longer than they say carry padding; frames shorter are cut
            // or malformed, which the LLC header check will tell.
            let end = self.off + usize::from(raw);
            if end <= self.limit {
                self.limit = end.max(self.off);
            }
            return Step::Llc;
        }
        match EtherType::from(raw) {
            EtherType::Ipv4 => Step::Ipv4,
            EtherType::Ipv6 => Step::Ipv6,
            EtherType::Arp | EtherType::Rarp => Step::Arp,
            EtherType::Vlan => Step::Vlan(Protocol::Vlan),
            EtherType::QinQ | EtherType::QinQ9100 => Step::Vlan(Protocol::QinQ),
            EtherType::Mpls | EtherType::MplsMulticast => Step::Mpls,
            EtherType::PppoeSession => Step::Pppoe,
            EtherType::PppoeDiscovery => Step::PppoeDiscovery,
            _ => Step::Done(Rest::Unknown(Next::EtherType(raw))),
        }
    }

    fn vlan(&mut self, layer: Protocol) -> Walk<Step> {
        let b = self.need(layer, vlan::HEADER_LEN)?;
        let t = vlan::Packet::new_unchecked(b);
        self.push(layer, vlan::HEADER_LEN, self.limit)?;
        self.off += vlan::HEADER_LEN;
        Ok(Step::EtherType(t.ethertype_raw()))
    }

    fn llc(&mut self) -> Walk<Step> {
        let p = llc::Packet::new_checked(self.bytes()).map_err(|e| self.lift(e))?;
        let hl = p.header_len();
        self.push(Protocol::Llc, hl, self.limit)?;
        let next = match p.ethertype() {
            Some(t) => {
                self.off += hl;
                return Ok(Step::EtherType(u16::from(t)));
            }
            None => Next::Llc {
                dsap: p.dsap(),
                ssap: p.ssap(),
            },
        };
        self.off += hl;
        Ok(Step::Done(Rest::Unknown(next)))
    }

    fn mpls(&mut self) -> Walk<Step> {
        let b = self.need(Protocol::Mpls, mpls::HEADER_LEN)?;
        let p = mpls::Packet::new_unchecked(b);
        self.push(Protocol::Mpls, mpls::HEADER_LEN, self.limit)?;
        self.off += mpls::HEADER_LEN;
        if !p.bottom_of_stack() {
            return Ok(Step::Mpls);
        }
        Ok(match p.label() {
            mpls::LABEL_IPV4_EXPLICIT_NULL => Step::Ipv4,
            mpls::LABEL_IPV6_EXPLICIT_NULL => Step::Ipv6,
            _ => match self.bytes().first().map(|b| b >> 4) {
                Some(4) => Step::Ipv4,
                Some(6) => Step::Ipv6,
                Some(_) => Step::Done(Rest::Unknown(Next::Mpls)),
                // Nothing captured after the stack: either the capture
                // was cut (say so) or there is no payload at all.
                None if self.off < self.limit => Step::RawIp,
                None => Step::Done(Rest::Data),
            },
        })
    }

    fn pppoe(&mut self) -> Walk<Step> {
        let b = self.need(Protocol::Pppoe, pppoe::SESSION_HEADER_LEN)?;
        let p = pppoe::Packet::new_unchecked(b);
        self.push(Protocol::Pppoe, pppoe::SESSION_HEADER_LEN, self.limit)?;
        if p.version() != 1 || p.ptype() != 1 || p.code() != 0 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Pppoe,
                Reason::Invalid {
                    field: "version/type/code",
                    value: u32::from(be16(b[0], b[1])),
                },
            )
            .shifted(self.off));
        }
        self.narrow(
            Protocol::Pppoe,
            "length",
            pppoe::HEADER_LEN + usize::from(p.payload_len()),
        )?;
        self.off += pppoe::SESSION_HEADER_LEN;
        let proto = u16::from(p.ppp_protocol().unwrap_or(pppoe::PppProtocol::Unknown(0)));
        Ok(match pppoe::PppProtocol::from(proto) {
            pppoe::PppProtocol::Ipv4 => Step::Ipv4,
            pppoe::PppProtocol::Ipv6 => Step::Ipv6,
            pppoe::PppProtocol::Mpls => Step::Mpls,
            _ => Step::Done(Rest::Unknown(Next::Ppp(proto))),
        })
    }

    fn arp(&mut self) -> Walk<Step> {
        let p = arp::Packet::new_checked(self.bytes()).map_err(|e| self.lift(e))?;
        self.push(Protocol::Arp, p.header_len(), self.limit)?;
        Ok(Step::Done(Rest::Data))
    }

    fn raw_ip(&mut self) -> Walk<Step> {
        let b = self.need(Protocol::Ip, 1)?;
        match b[0] >> 4 {
            4 => Ok(Step::Ipv4),
            6 => Ok(Step::Ipv6),
            v => Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ip,
                Reason::Invalid {
                    field: "version",
                    value: v.into(),
                },
            )
            .shifted(self.off)),
        }
    }

    fn ipv4(&mut self) -> Walk<Step> {
        let inner =
            self.d.classes.contains(Classes::IPV4) || self.d.classes.contains(Classes::IPV6);
        let p = ipv4::Packet::new_checked(self.bytes()).map_err(|e| self.lift(e))?;
        if p.version() != 4 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv4,
                Reason::Invalid {
                    field: "version",
                    value: p.version().into(),
                },
            )
            .shifted(self.off));
        }
        let hl = p.header_len();
        self.push(Protocol::Ipv4, hl, self.limit)?;
        if inner {
            self.d.classes.insert(Classes::TUNNEL);
        }
        let total = usize::from(p.total_len());
        if total == 0 {
            // A TCP segmentation offload "super-packet" as Linux captures
            // it: the length is whatever the frame holds (tcpdump's rule).
        } else if total < hl {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ipv4,
                Reason::Below {
                    field: "total length",
                    value: sat32(total),
                    min: sat32(hl),
                },
            )
            .shifted(self.off));
        } else {
            self.narrow(Protocol::Ipv4, "total length", total)?;
        }
        self.off += hl;
        let proto = u8::from(p.protocol());
        if p.frag_offset() != 0 {
            return Ok(Step::Done(Rest::Fragment(proto.into())));
        }
        Ok(Step::IpProto(proto, false))
    }

    fn ipv6(&mut self) -> Walk<Step> {
        let inner =
            self.d.classes.contains(Classes::IPV4) || self.d.classes.contains(Classes::IPV6);
        let b = self.need(Protocol::Ipv6, ipv6::HEADER_LEN)?;
        let p = ipv6::Packet::new_unchecked(b);
        if p.version() != 6 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv6,
                Reason::Invalid {
                    field: "version",
                    value: p.version().into(),
                },
            )
            .shifted(self.off));
        }
        self.push(Protocol::Ipv6, ipv6::HEADER_LEN, self.limit)?;
        if inner {
            self.d.classes.insert(Classes::TUNNEL);
        }
        let pl = usize::from(p.payload_len());
        // Payload length 0 with a hop-by-hop header is a jumbogram (or a
        // BIG TCP super-packet): the length is in the option, or whatever
        // the frame holds.
        if !(pl == 0 && p.next_header() == IpProtocol::HopByHop) {
            self.narrow(Protocol::Ipv6, "payload length", ipv6::HEADER_LEN + pl)?;
        }
        self.off += ipv6::HEADER_LEN;
        Ok(Step::IpProto(p.next_header().into(), true))
    }

    fn ipv6_ext(&mut self, proto: IpProtocol) -> Walk<Step> {
        let (layer, len, next, later_fragment) =
            ipv6_ext::read_ext(proto, self.bytes()).map_err(|e| self.lift(e))?;
        self.push(layer, len, self.limit)?;
        self.off += len;
        if later_fragment {
            return Ok(Step::Done(Rest::Fragment(next)));
        }
        Ok(Step::IpProto(next.into(), true))
    }

    fn ah(&mut self, v6: bool) -> Walk<Step> {
        let h = crate::ah::Header::new_checked(self.bytes()).map_err(|e| self.lift(e))?;
        let len = h.header_len();
        self.push(Protocol::Ah, len, self.limit)?;
        self.off += len;
        Ok(Step::IpProto(h.next_header().into(), v6))
    }

    fn udp(&mut self) -> Walk<Step> {
        let b = self.need(Protocol::Udp, udp::HEADER_LEN)?;
        let p = udp::Packet::new_unchecked(b);
        self.push(Protocol::Udp, udp::HEADER_LEN, self.limit)?;
        let len = usize::from(p.len());
        if len < udp::HEADER_LEN {
            // Length 0 over IPv6 means a jumbogram; otherwise it is wrong.
            let jumbo = len == 0 && self.d.classes.contains(Classes::IPV6);
            if !jumbo {
                return Err(Error::new(
                    ErrorKind::BadLength,
                    Protocol::Udp,
                    Reason::Below {
                        field: "length",
                        value: sat32(len),
                        min: udp::HEADER_LEN as u32,
                    },
                )
                .shifted(self.off));
            }
        } else {
            self.narrow(Protocol::Udp, "length", len)?;
        }
        Ok(Step::Done(Rest::Data))
    }
}

fn be16(a: u8, b: u8) -> u16 {
    u16::from_be_bytes([a, b])
}

fn ip_proto(p: u8, v6: bool) -> Step {
    match IpProtocol::from(p) {
        IpProtocol::Tcp => Step::Tcp,
        IpProtocol::Udp => Step::Udp,
        IpProtocol::Icmp if !v6 => Step::Icmpv4,
        IpProtocol::Icmpv6 if v6 => Step::Icmpv6,
        IpProtocol::Sctp => Step::Sctp,
        IpProtocol::IpIp => Step::Ipv4,
        IpProtocol::Ipv6 => Step::Ipv6,
        IpProtocol::Ah => Step::Ah(v6),
        IpProtocol::Esp => Step::Esp,
        IpProtocol::Ipv6NoNxt if v6 => Step::Done(Rest::NoNextHeader),
        e @ (IpProtocol::HopByHop
        | IpProtocol::Ipv6Route
        | IpProtocol::Ipv6Frag
        | IpProtocol::Ipv6Opts)
            if v6 =>
        {
            Step::Ipv6Ext(e)
        }
        other => Step::Done(Rest::Unknown(Next::Ip(other))),
    }
}

fn sll_protocol(arphrd: u16, protocol: u16) -> Step {
    if arphrd == sll::arphrd::NETLINK {
        return Step::Done(Rest::Unknown(Next::Sll(protocol)));
    }
    match protocol {
        sll::proto::ETH_P_802_2 => Step::Llc,
        p if p < 0x0600 => Step::Done(Rest::Unknown(Next::Sll(p))),
        p => Step::EtherType(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::*;
    use proptest::prelude::*;

    fn stack(d: &Dissection) -> Vec<(Protocol, u32, u32)> {
        d.layers()
            .iter()
            .map(|l| (l.protocol, l.offset, l.header_len))
            .collect()
    }

    #[test]
    fn ethernet_ipv4_tcp() {
        let d = dissect(LinkType::ETHERNET, SYN);
        assert_eq!(
            stack(&d),
            [
                (Protocol::Ethernet, 0, 14),
                (Protocol::Ipv4, 14, 20),
                (Protocol::Tcp, 34, 40)
            ]
        );
        assert_eq!(d.error(), None);
        assert_eq!(d.rest(), Rest::Data);
        assert_eq!(
            d.classes(),
            Classes::ETHERNET | Classes::IPV4 | Classes::TCP
        );
        assert_eq!(d.classes().to_string(), "ethernet+ipv4+tcp");
        assert_eq!(d.payload(), 74..74);
        assert_eq!(d.find(Protocol::Tcp).unwrap().payload_len(), 0);
    }

    #[test]
    fn qinq_stack_to_arp() {
        let d = dissect(LinkType::ETHERNET, QINQ_ARP);
        assert_eq!(
            stack(&d),
            [
                (Protocol::Ethernet, 0, 14),
                (Protocol::QinQ, 14, 4),
                (Protocol::Vlan, 18, 4),
                (Protocol::Arp, 22, 28)
            ]
        );
        assert_eq!(
            d.classes(),
            Classes::ETHERNET | Classes::VLAN | Classes::ARP
        );
    }

    #[test]
    fn ipv6_hop_by_hop_to_icmpv6() {
        let d = dissect(LinkType::ETHERNET, MLD_HBH);
        assert_eq!(
            stack(&d),
            [
                (Protocol::Ethernet, 0, 14),
                (Protocol::Ipv6, 14, 40),
                (Protocol::Ipv6HopByHop, 54, 8),
                (Protocol::Icmpv6, 62, 8)
            ]
        );
        assert!(d.classes().contains(Classes::ICMPV6 | Classes::IPV6));
        let d = dissect(LinkType::ETHERNET, NS);
        assert_eq!(d.last().unwrap().protocol, Protocol::Icmpv6);
        assert_eq!(d.last().unwrap().header_len, 24);
    }

    #[test]
    fn vlan_ipv4_gre_is_other() {
        let d = dissect(LinkType::ETHERNET, VLAN_IP);
        assert_eq!(
            stack(&d),
            [
                (Protocol::Ethernet, 0, 14),
                (Protocol::Vlan, 14, 4),
                (Protocol::Ipv4, 18, 20)
            ]
        );
        assert_eq!(d.rest(), Rest::Unknown(Next::Ip(IpProtocol::Gre)));
        assert!(d.classes().contains(Classes::OTHER | Classes::VLAN));
        assert!(!d.is_malformed());
    }

    #[test]
    fn other_link_types() {
        let d = dissect(LinkType::NULL, NULL_DNS);
        assert_eq!(
            stack(&d)[..2],
            [(Protocol::Null, 0, 4), (Protocol::Ipv4, 4, 20)]
        );
        assert_eq!(d.last().unwrap().protocol, Protocol::Udp);
        let d = dissect(LinkType::LINUX_SLL2, SLL2_UDP);
        assert_eq!(
            stack(&d),
            [
                (Protocol::LinuxSll2, 0, 20),
                (Protocol::Ipv6, 20, 40),
                (Protocol::Udp, 60, 8)
            ]
        );
        assert_eq!(d.find(Protocol::Udp).unwrap().payload_len(), 5);
        // The same IPv6 packet as raw IP and as LINKTYPE_IPV6.
        let ip = &SLL2_UDP[20..];
        for lt in [LinkType::RAW, LinkType::IPV6] {
            let d = dissect(lt, ip);
            assert_eq!(d.layers()[0].protocol, Protocol::Ipv6);
            assert_eq!(d.error(), None);
        }
        // And behind an SLL v1 header.
        let mut sll = vec![0, 0, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd];
        sll.extend_from_slice(ip);
        let d = dissect(LinkType::LINUX_SLL, &sll);
        assert_eq!(d.layers()[0].protocol, Protocol::LinuxSll);
        assert_eq!(d.last().unwrap().protocol, Protocol::Udp);
        // LOOP is network order.
        let mut lo = vec![0, 0, 0, 2];
        lo.extend_from_slice(&NULL_DNS[4..]);
        assert_eq!(
            dissect(LinkType::LOOP, &lo).last().unwrap().protocol,
            Protocol::Udp
        );
        // A link type sluice does not dissect.
        let d = dissect(LinkType(147), SYN);
        assert!(d.layers().is_empty());
        assert_eq!(d.rest(), Rest::Unknown(Next::LinkType(LinkType(147))));
        assert_eq!(d.classes(), Classes::OTHER);
    }

    #[test]
    fn pppoe_llc_and_esp() {
        let d = dissect(LinkType::ETHERNET, PPPOE_LCP);
        assert_eq!(stack(&d)[1], (Protocol::Pppoe, 14, 8));
        assert_eq!(d.rest(), Rest::Unknown(Next::Ppp(0xc021)));
        let d = dissect(LinkType::ETHERNET, STP);
        assert_eq!(stack(&d)[1], (Protocol::Llc, 14, 3));
        assert_eq!(
            d.rest(),
            Rest::Unknown(Next::Llc {
                dsap: 0x42,
                ssap: 0x42
            })
        );
        assert_eq!(d.layers()[1].end, 14 + 39);
        let d = dissect(LinkType::ETHERNET, ESP);
        assert_eq!(d.last().unwrap().protocol, Protocol::Esp);
        assert_eq!(d.rest(), Rest::Encrypted);
        assert!(d.classes().contains(Classes::IPSEC));
    }

    #[test]
    fn snapshot_cut_is_truncated_not_malformed() {
        // Cut inside the TCP options of a 74-byte SYN.
        let d = dissect_captured(LinkType::ETHERNET, &SYN[..54], 74);
        let e = d.error().unwrap();
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert_eq!(e.layer(), Protocol::Tcp);
        assert_eq!(e.offset(), 34);
        assert_eq!(
            e.to_string(),
            "TCP at offset 34: header needs 40 bytes, only 20 present"
        );
        assert!(d.is_truncated());
        assert!(!d.is_malformed());
        // The IPv4 total length points past the capture: no error at all.
        let d = dissect_captured(LinkType::ETHERNET, &SYN[..74], 1514);
        assert_eq!(d.error(), None);
        // The same cut with the frame taken as complete is malformed.
        let d = dissect(LinkType::ETHERNET, &SYN[..54]);
        let e = d.error().unwrap();
        assert_eq!(e.kind(), ErrorKind::BadLength);
        assert_eq!(e.layer(), Protocol::Ipv4);
        assert!(d.is_malformed());
        let d = dissect(LinkType::ETHERNET, &SYN[..10]);
        assert_eq!(d.error().unwrap().kind(), ErrorKind::Malformed);
        assert!(d.layers().is_empty());
    }

    #[test]
    fn malformed_headers_name_layer_offset_and_why() {
        let mut f = SYN.to_vec();
        f[14] = 0x43;
        let d = dissect(LinkType::ETHERNET, &f);
        assert_eq!(
            d.error().unwrap().to_string(),
            "IPv4 at offset 14: header length 12 is below 20"
        );
        assert_eq!(d.layers().len(), 1);
        let mut f = SYN.to_vec();
        f[16..18].copy_from_slice(&100u16.to_be_bytes());
        let d = dissect(LinkType::ETHERNET, &f);
        assert_eq!(
            d.error().unwrap().to_string(),
            "IPv4 at offset 14: total length 100 exceeds the 60 bytes available"
        );
        let mut f = NULL_DNS.to_vec();
        f[28..30].copy_from_slice(&3u16.to_be_bytes());
        let d = dissect(LinkType::NULL, &f);
        assert_eq!(
            d.error().unwrap().to_string(),
            "UDP at offset 24: length 3 is below 8"
        );
        let d = dissect(LinkType::RAW, &[0x50; 30]);
        assert_eq!(
            d.error().unwrap().to_string(),
            "IP at offset 0: version 5 is not valid"
        );
    }

    #[test]
    fn tunnels_and_fragments() {
        // IPv6 in IPv4: an IPv4 header (protocol 41) before the SLL2 frame's
        // IPv6/UDP packet.
        let inner = &SLL2_UDP[20..];
        let outer = ipv4::Repr {
            src_addr: [10, 77, 0, 1].into(),
            dst_addr: [10, 77, 0, 2].into(),
            protocol: IpProtocol::Ipv6,
            payload_len: inner.len(),
            ttl: 64,
            ident: 1,
            dscp: 0,
            ecn: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        };
        let mut f = vec![0u8; 20];
        outer
            .emit(&mut ipv4::Packet::new_unchecked(&mut f[..]))
            .unwrap();
        f.extend_from_slice(inner);
        let d = dissect(LinkType::RAW, &f);
        assert_eq!(
            stack(&d),
            [
                (Protocol::Ipv4, 0, 20),
                (Protocol::Ipv6, 20, 40),
                (Protocol::Udp, 60, 8)
            ]
        );
        assert!(
            d.classes()
                .contains(Classes::TUNNEL | Classes::IPV4 | Classes::IPV6)
        );
        // A later fragment stops at the IP layer.
        f[6] = 0x00;
        f[7] = 0x10;
        f[10] = 0;
        f[11] = 0;
        let d = dissect(LinkType::RAW, &f);
        assert_eq!(d.rest(), Rest::Fragment(IpProtocol::Ipv6));
        assert!(d.classes().contains(Classes::FRAGMENT));
    }

    #[test]
    fn deep_vlan_stacks_stop_cleanly() {
        let mut f = vec![0u8; 12];
        for _ in 0..40 {
            f.extend_from_slice(&[0x81, 0x00, 0x00, 0x01]);
        }
        f.extend_from_slice(&[0x08, 0x00]);
        let d = dissect(LinkType::ETHERNET, &f);
        assert_eq!(d.layers().len(), MAX_LAYERS);
        assert_eq!(d.error().unwrap().kind(), ErrorKind::Unsupported);
        assert!(d.classes().contains(Classes::OTHER));
        assert!(!d.is_malformed());
    }

    #[test]
    fn reused_dissection_is_reset() {
        let mut d = Dissection::new();
        dissect_into(&mut d, LinkType::ETHERNET, &SYN[..20], 20);
        assert!(d.error().is_some());
        dissect_into(&mut d, LinkType::ETHERNET, SYN, 74);
        assert_eq!(d.error(), None);
        assert_eq!(d.layers().len(), 3);
        assert_eq!(classify(LinkType::ETHERNET, SYN, 74), d.classes());
    }

    proptest! {
        #[test]
        fn never_panics_and_layers_are_in_bounds(
            lt in prop_oneof![Just(0u32), Just(1), Just(101), Just(108), Just(113), Just(228), Just(229), Just(276), any::<u32>()],
            bytes in proptest::collection::vec(any::<u8>(), 0..200),
            extra in 0usize..100,
        ) {
            let d = dissect_captured(LinkType(lt), &bytes, bytes.len() + extra);
            let mut prev_end = 0;
            for l in d.layers() {
                prop_assert!(l.offset as usize >= prev_end);
                prop_assert!(l.payload_offset() <= bytes.len());
                prev_end = l.payload_offset();
            }
            let r = d.payload();
            prop_assert!(r.start <= r.end && r.end <= bytes.len());
            prop_assert_eq!(d.error().is_some(), d.rest() == Rest::Stopped);
        }

        #[test]
        fn mutated_real_frames_never_panic(i in 0usize..10, at in 0usize..200, v in any::<u8>(), cut in 0usize..200) {
            let frames: [(u32, &[u8]); 10] = [
                (1, SYN), (1, QINQ_ARP), (1, MLD_HBH), (1, NS), (1, VLAN_IP),
                (0, NULL_DNS), (276, SLL2_UDP), (1, PPPOE_LCP), (1, STP), (1, ESP),
            ];
            let (lt, f) = frames[i];
            let mut f = f.to_vec();
            if let Some(b) = f.get_mut(at) { *b = v; }
            let n = f.len();
            f.truncate(cut.min(n));
            let _ = dissect_captured(LinkType(lt), &f, n);
        }
    }
}
