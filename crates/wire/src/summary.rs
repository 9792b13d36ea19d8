//! One-line text summaries of dissected frames, in the style of
//! `tcpdump -n` (for `sluice print`).
//!
//! [`Summary`] is a `Display` wrapper over a frame and its
//! [`Dissection`]; [`write_summary`] writes the same text into any
//! [`fmt::Write`]. Nothing is allocated: the text goes straight into the
//! caller's buffer.
//!
//! The wording follows tcpdump for the common cases (Ethernet, 802.1Q,
//! ARP, IPv4, IPv6 and its extension headers, TCP with options, UDP, ICMP,
//! ICMPv6, SCTP, MPLS, PPPoE, Linux cooked and BSD loopback headers),
//! with these differences, all deliberate:
//!
//! - TCP sequence numbers are absolute (as `tcpdump -S`): a summary sees one
//!   frame, not the connection.
//! - Application protocols (DNS, HTTP, …) are not decoded: UDP prints
//!   `UDP, length N` whatever the port.
//! - A frame cut by the snapshot length ends in `[|proto]` as in tcpdump;
//!   a malformed one ends in `[malformed: <why>]`, naming the layer, the
//!   byte offset and the reason.
//! - An SLL2 interface index is not resolved to a name (it belongs to the
//!   capturing host); it prints as `?` as tcpdump does when it cannot.

use core::fmt::{self, Write as _};
use core::net::IpAddr;

use crate::dissect::{Dissection, Layer, Next, Rest};
use crate::error::{ErrorKind, Protocol};
use crate::ethertype::EtherType;
use crate::ip_protocol::IpProtocol;
use crate::tcp::{Flags, TcpOption};
use crate::{
    ah, arp, esp, ethernet, icmpv4, icmpv6, ipv4, ipv6, ipv6_ext, ipv6_fragment, llc, loopback,
    mpls, pppoe, sctp, sll, sll2, tcp, udp, vlan,
};

/// What to print, as tcpdump's flags.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SummaryOptions {
    /// Print the link-level header (`-e`).
    pub link_header: bool,
    /// Print IP header details and checksum checks (`-v`).
    pub verbose: bool,
}

/// A `Display` wrapper that prints a frame's one-line summary.
///
/// ```
/// use sluice_wire::{dissect::dissect, summary::{Summary, SummaryOptions}, LinkType};
/// // An ARP request (tcpdump's 802.1ad_QinQ.pcap, without its tags).
/// let frame = [
///     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f, 0x08, 0x06,
///     0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f,
///     0xac, 0x15, 0x4f, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xac, 0x15, 0x4f, 0x64,
/// ];
/// let d = dissect(LinkType::ETHERNET, &frame);
/// let text = Summary::new(&frame, &d, SummaryOptions::default()).to_string();
/// assert_eq!(text, "ARP, Request who-has 172.21.79.100 tell 172.21.79.97, length 28");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Summary<'a> {
    frame: &'a [u8],
    dissection: &'a Dissection,
    options: SummaryOptions,
}

impl<'a> Summary<'a> {
    /// A summary of `frame`, which must be the bytes `dissection` was made
    /// from (if it is not, the text is wrong but nothing panics).
    pub fn new(frame: &'a [u8], dissection: &'a Dissection, options: SummaryOptions) -> Self {
        Summary {
            frame,
            dissection,
            options,
        }
    }
}

impl fmt::Display for Summary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Printer {
            frame: self.frame,
            d: self.dissection,
            o: self.options,
            out: Track {
                inner: f,
                last: None,
            },
            addrs: None,
        }
        .run()
    }
}

/// Writes the summary of `frame` into `out`.
pub fn write_summary<W: fmt::Write + ?Sized>(
    out: &mut W,
    frame: &[u8],
    dissection: &Dissection,
    options: SummaryOptions,
) -> fmt::Result {
    let mut adapter = Adapter(out);
    Printer {
        frame,
        d: dissection,
        o: options,
        out: Track {
            inner: &mut adapter,
            last: None,
        },
        addrs: None,
    }
    .run()
}

struct Adapter<'w, W: fmt::Write + ?Sized>(&'w mut W);

impl<W: fmt::Write + ?Sized> fmt::Write for Adapter<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write_str(s)
    }
}

/// Forwards to the caller's writer and remembers the last character, so
/// that the closing note can be separated by exactly one space.
struct Track<'o> {
    inner: &'o mut dyn fmt::Write,
    last: Option<char>,
}

impl fmt::Write for Track<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(c) = s.chars().next_back() {
            self.last = Some(c);
        }
        self.inner.write_str(s)
    }
}

struct Printer<'a, 'o> {
    frame: &'a [u8],
    d: &'a Dissection,
    o: SummaryOptions,
    out: Track<'o>,
    /// Addresses of the innermost IP header printed, for ports.
    addrs: Option<(IpAddr, IpAddr)>,
}

/// tcpdump's short token for a protocol, as in `[|tcp]`.
fn token(p: Protocol) -> &'static str {
    match p {
        Protocol::Null => "null",
        Protocol::Loop => "loop",
        Protocol::LinuxSll => "sll",
        Protocol::LinuxSll2 => "sll2",
        Protocol::Ethernet => "ether",
        Protocol::Vlan | Protocol::QinQ => "vlan",
        Protocol::Llc => "llc",
        Protocol::Mpls => "mpls",
        Protocol::Pppoe | Protocol::PppoeDiscovery => "pppoe",
        Protocol::Arp => "arp",
        Protocol::Ip | Protocol::Ipv4 => "ip",
        Protocol::Ipv6 => "ip6",
        Protocol::Ipv6HopByHop => "hbhopt",
        Protocol::Ipv6Routing => "srcrt",
        Protocol::Ipv6Fragment => "frag",
        Protocol::Ipv6DestOpts => "dstopt",
        Protocol::Ah => "ah",
        Protocol::Esp => "esp",
        Protocol::Icmpv4 => "icmp",
        Protocol::Icmpv6 => "icmp6",
        Protocol::Tcp => "tcp",
        Protocol::Udp => "udp",
        Protocol::Sctp => "sctp",
        Protocol::Gre => "gre",
    }
}

/// tcpdump's protocol names in `proto TCP (6)` / `next-header UDP (17)`.
fn proto_name(p: IpProtocol) -> &'static str {
    match p {
        IpProtocol::HopByHop => "Options",
        IpProtocol::Icmp => "ICMP",
        IpProtocol::Igmp => "IGMP",
        IpProtocol::IpIp => "IPIP",
        IpProtocol::Tcp => "TCP",
        IpProtocol::Udp => "UDP",
        IpProtocol::Ipv6 => "IPv6",
        IpProtocol::Ipv6Route => "Routing",
        IpProtocol::Ipv6Frag => "Fragment",
        IpProtocol::Rsvp => "RSVP",
        IpProtocol::Gre => "GRE",
        IpProtocol::Esp => "ESP",
        IpProtocol::Ah => "AH",
        IpProtocol::Icmpv6 => "ICMPv6",
        IpProtocol::Ipv6NoNxt => "NONE",
        IpProtocol::Ipv6Opts => "DSTOPTS",
        IpProtocol::Eigrp => "EIGRP",
        IpProtocol::Ospf => "OSPF",
        IpProtocol::Pim => "PIM",
        IpProtocol::Vrrp => "VRRP",
        IpProtocol::Sctp => "SCTP",
        IpProtocol::Mobility => "Mobility",
        _ => "unknown",
    }
}

/// tcpdump's LLC SAP names.
fn sap_name(sap: u8) -> &'static str {
    match sap & 0xfe {
        0x00 => "Null",
        0x04 => "SNA",
        0x06 => "IP",
        0x42 => "STP",
        0x7e => "X.25",
        0x80 => "XNS",
        0x98 => "ARP",
        0xaa => "SNAP",
        0xe0 => "IPX",
        0xf0 => "NetBeui",
        0xf4 => "LANMAN",
        0xfe => "OSI",
        _ => "Unknown",
    }
}

impl<'a> Printer<'a, '_> {
    fn bytes(&self, l: &Layer) -> &'a [u8] {
        self.frame.get(l.offset as usize..).unwrap_or(&[])
    }

    fn w(&mut self, s: &str) -> fmt::Result {
        self.out.write_str(s)
    }

    fn run(mut self) -> fmt::Result {
        let layers = self.d.layers();
        if layers.is_empty()
            && let Rest::Unknown(Next::LinkType(lt)) = self.d.rest()
        {
            return write!(
                self.out,
                "unsupported link type {lt}, length {}",
                self.d.original_len()
            );
        }
        let mut i = 0;
        while i < layers.len() {
            i = self.layer(layers, i)?;
        }
        self.tail()
    }

    /// Prints layer `i` (and any it consumes) and returns the index of the
    /// next layer to print.
    fn layer(&mut self, layers: &'a [Layer], i: usize) -> Result<usize, fmt::Error> {
        let l = layers[i];
        let next = layers.get(i + 1).map(|n| n.protocol);
        let b = self.bytes(&l);
        let e = self.o.link_header;
        match l.protocol {
            Protocol::Ethernet => {
                let Ok(f) = ethernet::Frame::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                let unknown_payload =
                    next.is_none() && matches!(self.d.rest(), Rest::Unknown(Next::EtherType(_)));
                if e || unknown_payload {
                    write!(self.out, "{} > {}, ", f.src_addr(), f.dst_addr())?;
                    if f.is_8023() {
                        write!(self.out, "802.3, length {}", f.ethertype_raw())?;
                    } else {
                        write!(
                            self.out,
                            "ethertype {}, length {}",
                            f.ethertype(),
                            self.d.original_len()
                        )?;
                    }
                    if next.is_some() || self.d.error().is_some() {
                        self.w(": ")?;
                    }
                }
            }
            Protocol::Vlan | Protocol::QinQ => {
                let Ok(t) = vlan::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                if e {
                    write!(self.out, "vlan {}, p {}, ", t.vlan_id(), t.priority())?;
                    if t.drop_eligible() {
                        self.w("DEI, ")?;
                    }
                    if EtherType::is_length(t.ethertype_raw()) {
                        self.w("802.3LLC, ")?;
                    } else {
                        write!(self.out, "ethertype {}, ", t.ethertype())?;
                    }
                }
            }
            Protocol::LinuxSll => {
                let Ok(p) = sll::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                if e {
                    write!(self.out, "{:>3} ", p.packet_type().tcpdump_name())?;
                    self.link_addr(p.addr())?;
                    self.cooked_protocol(p.protocol())?;
                }
            }
            Protocol::LinuxSll2 => {
                let Ok(p) = sll2::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                write!(
                    self.out,
                    "{:<5} {:<3} ",
                    "?",
                    p.packet_type().tcpdump_name()
                )?;
                if e {
                    write!(self.out, "ifindex {} ", p.if_index())?;
                    self.link_addr(p.addr())?;
                    self.cooked_protocol(p.protocol())?;
                }
            }
            Protocol::Null | Protocol::Loop => {
                let Ok(p) = loopback::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                let fam = if l.protocol == Protocol::Null {
                    p.family_null().0
                } else {
                    p.family_loop()
                };
                if e || next.is_none() {
                    write!(self.out, "AF {fam}, length {}", self.d.original_len())?;
                    if next.is_some() || self.d.error().is_some() {
                        self.w(": ")?;
                    }
                }
            }
            Protocol::Llc => {
                let Ok(p) = llc::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                if e || next.is_none() {
                    let (d, s) = (p.dsap(), p.ssap());
                    write!(
                        self.out,
                        "LLC, dsap {} (0x{d:02x}) {}, ssap {} (0x{s:02x}) {}, ctrl 0x{:02x}",
                        sap_name(d),
                        if d & 1 == 0 { "Individual" } else { "Group" },
                        sap_name(s),
                        if s & 1 == 0 { "Command" } else { "Response" },
                        p.control()
                    )?;
                    if p.is_snap() {
                        write!(
                            self.out,
                            ": oui 0x{:06x}, ethertype 0x{:04x}",
                            p.snap_oui(),
                            p.snap_protocol()
                        )?;
                    }
                    if next.is_some() {
                        self.w(": ")?;
                    } else {
                        write!(self.out, ", length {}", l.end.saturating_sub(l.offset))?;
                    }
                }
            }
            Protocol::Mpls => {
                let mut j = i;
                self.w("MPLS")?;
                while let Some(m) = layers.get(j).filter(|m| m.protocol == Protocol::Mpls) {
                    let Ok(r) = mpls::Repr::parse(&mpls::Packet::new_unchecked(self.bytes(m)))
                    else {
                        break;
                    };
                    write!(self.out, " (label {}", r.label)?;
                    match r.label {
                        0 => self.w(" (IPv4 explicit NULL)")?,
                        1 => self.w(" (Router Alert)")?,
                        2 => self.w(" (IPv6 explicit NULL)")?,
                        3 => self.w(" (Implicit NULL)")?,
                        _ => {}
                    }
                    write!(self.out, ", tc {}", r.traffic_class)?;
                    if r.bottom_of_stack {
                        self.w(", [S]")?;
                    }
                    write!(self.out, ", ttl {})", r.ttl)?;
                    j += 1;
                }
                if j < layers.len() || self.d.error().is_some() {
                    self.w(" ")?;
                } else if self.d.rest() == Rest::Unknown(Next::Mpls) {
                    write!(self.out, ", length {}", self.after(&layers[j - 1]))?;
                }
                return Ok(j);
            }
            Protocol::Pppoe => {
                let Ok(p) = pppoe::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                write!(self.out, "PPPoE  [ses 0x{:x}] ", p.session_id())?;
                let proto = p.ppp_protocol().unwrap_or(pppoe::PppProtocol::Unknown(0));
                let len = l.payload_len();
                let name = proto.name();
                if e && next.is_some() {
                    write!(
                        self.out,
                        "{} (0x{:04x}), length {len}: ",
                        name.unwrap_or("unknown"),
                        u16::from(proto)
                    )?;
                } else if next.is_none() {
                    match name {
                        Some(n) => write!(self.out, "{n}, length {len}")?,
                        None => write!(self.out, "PPP-#{:04x}, length {len}", u16::from(proto))?,
                    }
                }
            }
            Protocol::PppoeDiscovery => {
                let Ok(p) = pppoe::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                let code = match p.code() {
                    0x09 => "PADI",
                    0x07 => "PADO",
                    0x19 => "PADR",
                    0x65 => "PADS",
                    0xa7 => "PADT",
                    _ => "unknown code",
                };
                write!(
                    self.out,
                    "PPPoE {code} [ses 0x{:x}], length {}",
                    p.session_id(),
                    p.payload_len()
                )?;
            }
            Protocol::Arp => self.arp(&l, b)?,
            Protocol::Ipv4 => self.ipv4(&l, b, next)?,
            Protocol::Ipv6 => self.ipv6(&l, b, next)?,
            Protocol::Ipv6HopByHop | Protocol::Ipv6DestOpts | Protocol::Ipv6Routing => {
                let Ok(h) = ipv6_ext::Header::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                match l.protocol {
                    Protocol::Ipv6HopByHop => self.w("HBH ")?,
                    Protocol::Ipv6DestOpts => self.w("DSTOPT ")?,
                    _ => write!(
                        self.out,
                        "srcrt (len={}, type={}, segleft={}) ",
                        h.header_len_field(),
                        h.routing_type(),
                        h.segments_left()
                    )?,
                }
                self.after_ext(next, &l)?;
            }
            Protocol::Ipv6Fragment => {
                let Ok(h) = ipv6_fragment::Header::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                write!(
                    self.out,
                    "frag (0x{:08x}:{}|{}) ",
                    h.ident(),
                    h.frag_offset(),
                    l.payload_len()
                )?;
                if let Rest::Fragment(p) = self.d.rest()
                    && next.is_none()
                {
                    return self.fragment_rest(p, &l).map(|()| i + 1);
                }
                self.after_ext(next, &l)?;
            }
            Protocol::Ah => {
                let Ok(h) = ah::Header::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                write!(
                    self.out,
                    "AH(spi=0x{:08x},seq=0x{:x}): ",
                    h.spi(),
                    h.sequence()
                )?;
                self.after_ext(next, &l)?;
            }
            Protocol::Esp => {
                let Ok(p) = esp::Packet::new_checked(b) else {
                    return self.cut(l.protocol, layers.len());
                };
                write!(
                    self.out,
                    "ESP(spi=0x{:08x},seq=0x{:x}), length {}",
                    p.spi(),
                    p.sequence(),
                    l.end.saturating_sub(l.offset)
                )?;
            }
            Protocol::Tcp => self.tcp(&l, b)?,
            Protocol::Udp => self.udp(&l, b)?,
            Protocol::Sctp => self.sctp(&l, b)?,
            Protocol::Icmpv4 => self.icmpv4(&l, b)?,
            Protocol::Icmpv6 => self.icmpv6(&l, b)?,
            Protocol::Ip | Protocol::Gre => {}
        }
        Ok(i + 1)
    }

    /// A layer's header could not be re-read (the frame does not match the
    /// dissection): say so and stop.
    fn cut(&mut self, p: Protocol, n: usize) -> Result<usize, fmt::Error> {
        write!(self.out, "[|{}]", token(p))?;
        Ok(n + 1)
    }

    /// Bytes on the wire after a layer's header (to its end).
    fn after(&self, l: &Layer) -> usize {
        l.payload_len()
    }

    fn link_addr(&mut self, a: &[u8]) -> fmt::Result {
        if a.is_empty() {
            return Ok(());
        }
        for (i, x) in a.iter().enumerate() {
            if i > 0 {
                self.w(":")?;
            }
            write!(self.out, "{x:02x}")?;
        }
        self.w(" ")
    }

    fn cooked_protocol(&mut self, p: u16) -> fmt::Result {
        match p {
            sll::proto::ETH_P_802_2 => self.w("802.2")?,
            sll::proto::ETH_P_802_3 => self.w("802.3")?,
            p if p < 0x0600 => write!(self.out, "protocol 0x{p:04x}")?,
            p => write!(self.out, "ethertype {}", EtherType::from(p))?,
        }
        write!(self.out, ", length {}: ", self.d.original_len())
    }

    fn arp(&mut self, l: &Layer, b: &[u8]) -> fmt::Result {
        if !self.o.link_header {
            self.w("ARP, ")?;
        }
        let Ok(p) = arp::Packet::new_checked(b) else {
            return self.w("[|arp]");
        };
        let len = self.d.original_len().saturating_sub(l.offset as usize);
        match arp::Repr::parse(&p) {
            Ok(r) => {
                match r.operation {
                    arp::Operation::Request => {
                        write!(self.out, "Request who-has {}", r.target_protocol_addr)?;
                        let tha = r.target_hardware_addr;
                        if tha.0 != [0; 6] {
                            write!(self.out, " ({tha})")?;
                        }
                        write!(self.out, " tell {}", r.source_protocol_addr)?;
                    }
                    _ => write!(self.out, "{r}")?,
                }
                write!(self.out, ", length {len}")
            }
            Err(_) => {
                match p.hardware_type() {
                    arp::HTYPE_ETHERNET => self.w("Ethernet")?,
                    h => write!(self.out, "Unknown Hardware ({h})")?,
                }
                write!(self.out, " (len {}), ", p.hardware_len())?;
                let pt = p.protocol_type();
                match pt.name() {
                    Some(n) => self.w(n)?,
                    None => write!(self.out, "Unknown Protocol (0x{:04x})", u16::from(pt))?,
                }
                write!(self.out, " (len {}), length {len}", p.protocol_len())
            }
        }
    }

    fn ipv4(&mut self, l: &Layer, b: &[u8], next: Option<Protocol>) -> fmt::Result {
        if !self.o.link_header {
            self.w("IP ")?;
        }
        let Ok(p) = ipv4::Packet::new_checked(b) else {
            return self.w("[|ip]");
        };
        if self.o.verbose {
            let tos = p.tos();
            write!(self.out, "(tos 0x{tos:x}")?;
            match tos & 3 {
                1 => self.w(",ECT(1)")?,
                2 => self.w(",ECT(0)")?,
                3 => self.w(",CE")?,
                _ => {}
            }
            let mut flags = heapless_flags();
            if p.more_frags() {
                flags.push("+");
            }
            if p.dont_frag() {
                flags.push("DF");
            }
            if p.reserved_flag() {
                flags.push("rsvd");
            }
            write!(
                self.out,
                ", ttl {}, id {}, offset {}, flags [{}], proto {} ({}), length {}",
                p.ttl(),
                p.ident(),
                p.frag_offset(),
                flags,
                proto_name(p.protocol()),
                u8::from(p.protocol()),
                p.total_len()
            )?;
            if !p.verify_checksum() {
                let want = crate::checksum::ipv4_header(&b[..p.header_len()]);
                write!(self.out, ", bad cksum {:x} (->{want:x})!", p.checksum())?;
            }
            self.w(")\n    ")?;
        }
        let (s, d) = (IpAddr::V4(p.src_addr()), IpAddr::V4(p.dst_addr()));
        self.addrs = Some((s, d));
        if let (Rest::Fragment(proto), None) = (self.d.rest(), next) {
            write!(self.out, "{s} > {d}: ")?;
            return self.fragment_rest(proto, l);
        }
        if !matches!(next, Some(Protocol::Tcp | Protocol::Udp | Protocol::Sctp)) {
            write!(self.out, "{s} > {d}:")?;
            if next.is_some() || self.d.error().is_some() {
                self.w(" ")?;
            } else {
                self.unknown_ip_payload(l)?;
            }
        }
        Ok(())
    }

    fn ipv6(&mut self, l: &Layer, b: &[u8], next: Option<Protocol>) -> fmt::Result {
        if !self.o.link_header {
            self.w("IP6 ")?;
        }
        let Ok(p) = ipv6::Packet::new_checked(b) else {
            return self.w("[|ip6]");
        };
        if self.o.verbose {
            self.w("(")?;
            if p.traffic_class() != 0 {
                write!(self.out, "class 0x{:x}, ", p.traffic_class())?;
            }
            if p.flow_label() != 0 {
                write!(self.out, "flowlabel 0x{:05x}, ", p.flow_label())?;
            }
            write!(
                self.out,
                "hlim {}, next-header {} ({}) payload length: {}) ",
                p.hop_limit(),
                proto_name(p.next_header()),
                u8::from(p.next_header()),
                p.payload_len()
            )?;
        }
        let (s, d) = (IpAddr::V6(p.src_addr()), IpAddr::V6(p.dst_addr()));
        self.addrs = Some((s, d));
        if !matches!(next, Some(Protocol::Tcp | Protocol::Udp | Protocol::Sctp)) {
            write!(self.out, "{s} > {d}:")?;
            if next.is_some() || self.d.error().is_some() {
                self.w(" ")?;
            } else {
                self.unknown_ip_payload(l)?;
            }
        }
        Ok(())
    }

    /// After an extension header with nothing dissected behind it.
    fn after_ext(&mut self, next: Option<Protocol>, l: &Layer) -> fmt::Result {
        if next.is_none() && self.d.error().is_none() {
            self.unknown_ip_payload(l)?;
        }
        Ok(())
    }

    /// The text for an IP payload sluice does not dissect.
    fn unknown_ip_payload(&mut self, l: &Layer) -> fmt::Result {
        let len = l.payload_len();
        match self.d.rest() {
            Rest::Unknown(Next::Ip(p)) => write!(self.out, " ip-proto-{} {len}", u8::from(p)),
            Rest::NoNextHeader => write!(self.out, " no next header, length {len}"),
            Rest::Fragment(p) => self.fragment_rest(p, l),
            _ => Ok(()),
        }
    }

    fn fragment_rest(&mut self, p: IpProtocol, l: &Layer) -> fmt::Result {
        match p.name() {
            Some(n) => write!(self.out, "{n}"),
            None => write!(self.out, "ip-proto-{} {}", u8::from(p), l.payload_len()),
        }
    }

    fn ports(&mut self, sp: u16, dp: u16) -> fmt::Result {
        match self.addrs {
            Some((s, d)) => write!(self.out, "{s}.{sp} > {d}.{dp}: "),
            None => write!(self.out, "{sp} > {dp}: "),
        }
    }

    /// True if the whole segment from `l.offset` to `l.end` was captured.
    fn whole(&self, l: &Layer) -> Option<&'a [u8]> {
        let end = l.end as usize;
        if end <= self.frame.len() {
            self.frame.get(l.offset as usize..end)
        } else {
            None
        }
    }

    fn tcp(&mut self, l: &Layer, b: &[u8]) -> fmt::Result {
        let Ok(p) = tcp::Packet::new_checked(b) else {
            return self.w("[|tcp]");
        };
        self.ports(p.src_port(), p.dst_port())?;
        let flags = p.flags();
        write!(self.out, "Flags [{flags}], ")?;
        if self.o.verbose
            && let (Some((s, d)), Some(seg)) = (self.addrs, self.whole(l))
        {
            let want = crate::checksum::transport(s, d, IpProtocol::Tcp, seg, 16);
            if want == p.checksum() {
                write!(self.out, "cksum 0x{:04x} (correct), ", p.checksum())?;
            } else {
                write!(
                    self.out,
                    "cksum 0x{:04x} (incorrect -> 0x{want:04x}), ",
                    p.checksum()
                )?;
            }
        }
        let len = l.payload_len();
        let seq = p.seq_number();
        let mut sep = "";
        if len > 0 || flags.intersects(Flags::SYN | Flags::FIN | Flags::RST) {
            write!(self.out, "seq {seq}")?;
            if len > 0 {
                write!(self.out, ":{}", seq.wrapping_add(len as u32))?;
            }
            sep = ", ";
        }
        if flags.contains(Flags::ACK) {
            write!(self.out, "{sep}ack {}", p.ack_number())?;
            sep = ", ";
        }
        write!(self.out, "{sep}win {}", p.window_len())?;
        if flags.contains(Flags::URG) {
            write!(self.out, ", urg {}", p.urgent_at())?;
        }
        if !p.options().is_empty() {
            self.w(", options [")?;
            let mut first = true;
            for o in p.option_iter() {
                if !first {
                    self.w(",")?;
                }
                first = false;
                match o {
                    Ok(TcpOption::EndOfList) => {
                        self.w("eol")?;
                    }
                    Ok(o) => write!(self.out, "{o}")?,
                    Err(_) => {
                        self.w("[bad opt]")?;
                        break;
                    }
                }
            }
            self.w("]")?;
        }
        write!(self.out, ", length {len}")
    }

    fn udp(&mut self, l: &Layer, b: &[u8]) -> fmt::Result {
        let Ok(p) = udp::Packet::new_checked(b) else {
            // A bad length field still leaves readable ports.
            if b.len() >= udp::HEADER_LEN {
                let p = udp::Packet::new_unchecked(b);
                self.ports(p.src_port(), p.dst_port())?;
                return write!(self.out, "UDP, bad length {}", p.len());
            }
            return self.w("[|udp]");
        };
        self.ports(p.src_port(), p.dst_port())?;
        if self.o.verbose
            && let (Some((s, d)), Some(seg)) = (self.addrs, self.whole(l))
        {
            if p.checksum() == 0 && s.is_ipv4() {
                self.w("[no cksum] ")?;
            } else {
                let want = crate::checksum::udp_value(crate::checksum::transport(
                    s,
                    d,
                    IpProtocol::Udp,
                    seg,
                    6,
                ));
                if want == p.checksum() {
                    self.w("[udp sum ok] ")?;
                } else {
                    write!(
                        self.out,
                        "[bad udp cksum 0x{:04x} -> 0x{want:04x}!] ",
                        p.checksum()
                    )?;
                }
            }
        }
        write!(self.out, "UDP, length {}", l.payload_len())
    }

    fn sctp(&mut self, _l: &Layer, b: &[u8]) -> fmt::Result {
        let Ok(p) = sctp::Packet::new_checked(b) else {
            return self.w("[|sctp]");
        };
        self.ports(p.src_port(), p.dst_port())?;
        self.w("sctp")?;
        let n = p.chunks().count();
        write!(self.out, " ({n})")?;
        for c in p.chunks() {
            match c {
                Ok(c) => write!(self.out, " [{}]", c.kind.name())?,
                Err(_) => {
                    self.w(" [|sctp]")?;
                    break;
                }
            }
        }
        Ok(())
    }

    fn icmpv4(&mut self, l: &Layer, b: &[u8]) -> fmt::Result {
        let Ok(p) = icmpv4::Packet::new_checked(b) else {
            return self.w("[|icmp]");
        };
        self.w("ICMP ")?;
        let code = p.msg_code();
        let inner = p.invoking_packet().ok();
        let idst = inner.as_ref().map(|i| i.dst_addr());
        match p.msg_type() {
            icmpv4::Message::EchoRequest | icmpv4::Message::EchoReply => write!(
                self.out,
                "{}, id {}, seq {}",
                p.msg_type(),
                p.echo_ident(),
                p.echo_seq_no()
            )?,
            icmpv4::Message::DstUnreachable => {
                let Some(dst) = idst else {
                    return write!(self.out, "unreachable [|icmp]");
                };
                use icmpv4::DstUnreachable as U;
                match U::from(code) {
                    U::NetUnreachable => write!(self.out, "net {dst} unreachable")?,
                    U::HostUnreachable => write!(self.out, "host {dst} unreachable")?,
                    U::ProtoUnreachable => write!(
                        self.out,
                        "{dst} protocol {} unreachable",
                        inner.as_ref().map_or(0, |i| u8::from(i.protocol()))
                    )?,
                    U::PortUnreachable => {
                        let i = inner.as_ref();
                        let proto = i.map_or(IpProtocol::Unknown(0), |i| i.protocol());
                        let dport = i
                            .and_then(|i| i.payload().get(2..4))
                            .map(|b| u16::from_be_bytes([b[0], b[1]]));
                        match (proto, dport) {
                            (IpProtocol::Tcp | IpProtocol::Udp, Some(port)) => {
                                write!(self.out, "{dst} {} port {port} unreachable", proto)?
                            }
                            (p, Some(port)) => write!(
                                self.out,
                                "{dst} protocol {} port {port} unreachable",
                                u8::from(p)
                            )?,
                            (_, None) => write!(self.out, "{dst} port unreachable")?,
                        }
                    }
                    U::FragRequired => {
                        let mtu = p.next_hop_mtu();
                        if mtu != 0 {
                            write!(self.out, "{dst} unreachable - need to frag (mtu {mtu})")?
                        } else {
                            write!(self.out, "{dst} unreachable - need to frag")?
                        }
                    }
                    U::SrcRouteFailed => {
                        write!(self.out, "{dst} unreachable - source route failed")?
                    }
                    U::DstNetUnknown => write!(self.out, "net {dst} unreachable - unknown")?,
                    U::DstHostUnknown => write!(self.out, "host {dst} unreachable - unknown")?,
                    U::SrcHostIsolated => {
                        write!(self.out, "{dst} unreachable - source host isolated")?
                    }
                    U::NetProhibited => {
                        write!(self.out, "net {dst} unreachable - admin prohibited")?
                    }
                    U::HostProhibited => {
                        write!(self.out, "host {dst} unreachable - admin prohibited")?
                    }
                    U::NetUnreachToS => write!(self.out, "net {dst} unreachable - tos prohibited")?,
                    U::HostUnreachToS => {
                        write!(self.out, "host {dst} unreachable - tos prohibited")?
                    }
                    U::CommProhibited => {
                        write!(self.out, "host {dst} unreachable - admin prohibited filter")?
                    }
                    U::HostPrecedViol => write!(
                        self.out,
                        "host {dst} unreachable - host precedence violation"
                    )?,
                    U::PrecedCutoff => {
                        write!(self.out, "host {dst} unreachable - precedence cutoff")?
                    }
                    U::Unknown(c) => write!(self.out, "{dst} unreachable - #{c}")?,
                }
            }
            icmpv4::Message::Redirect => {
                let gw = p.gateway();
                match (code, idst) {
                    (0, Some(d)) => write!(self.out, "redirect {d} to net {gw}")?,
                    (1, Some(d)) => write!(self.out, "redirect {d} to host {gw}")?,
                    (2, Some(d)) => write!(self.out, "redirect-tos {d} to net {gw}")?,
                    (3, Some(d)) => write!(self.out, "redirect-tos {d} to host {gw}")?,
                    (c, Some(d)) => write!(self.out, "redirect-#{c} {d} to {gw}")?,
                    (_, None) => write!(self.out, "redirect to {gw}")?,
                }
            }
            icmpv4::Message::TimeExceeded => match code {
                0 => self.w("time exceeded in-transit")?,
                1 => self.w("ip reassembly time exceeded")?,
                c => write!(self.out, "time exceeded-#{c}")?,
            },
            icmpv4::Message::ParamProblem => {
                if code == 0 {
                    write!(self.out, "parameter problem - octet {}", p.pointer())?
                } else {
                    write!(self.out, "parameter problem - code {code}")?
                }
            }
            icmpv4::Message::Timestamp | icmpv4::Message::TimestampReply => write!(
                self.out,
                "{} id {} seq {}",
                p.msg_type(),
                p.echo_ident(),
                p.echo_seq_no()
            )?,
            t => write!(self.out, "{t}")?,
        }
        let len = l.end.saturating_sub(l.offset);
        write!(self.out, ", length {len}")?;
        if self.o.verbose
            && let Some(msg) = self.whole(l)
            && !crate::checksum::verify_icmpv4(msg)
        {
            let want = crate::checksum::icmpv4(msg);
            write!(
                self.out,
                " (wrong icmp cksum {:x} (->{want:x})!)",
                p.checksum()
            )?;
        }
        Ok(())
    }

    fn icmpv6(&mut self, l: &Layer, b: &[u8]) -> fmt::Result {
        let Ok(p) = icmpv6::Packet::new_checked(b) else {
            return self.w("[|icmp6]");
        };
        if self.o.verbose
            && let (Some((IpAddr::V6(s), IpAddr::V6(d))), Some(msg)) = (self.addrs, self.whole(l))
        {
            let want = crate::checksum::transport_v6(s, d, IpProtocol::Icmpv6, msg, 2);
            if want == p.checksum() {
                self.w("[icmp6 sum ok] ")?;
            } else {
                write!(
                    self.out,
                    "[bad icmp6 cksum 0x{:04x} -> 0x{want:04x}!] ",
                    p.checksum()
                )?;
            }
        }
        self.w("ICMP6, ")?;
        let code = p.msg_code();
        let t = p.msg_type();
        let header_ok = p.check_header_len().is_ok();
        match t {
            icmpv6::Message::EchoRequest | icmpv6::Message::EchoReply if header_ok => write!(
                self.out,
                "{t}, id {}, seq {}",
                p.echo_ident(),
                p.echo_seq_no()
            )?,
            icmpv6::Message::NeighborSolicit => {
                write!(self.out, "{t}, who has {}", p.target_addr())?
            }
            icmpv6::Message::NeighborAdvert => write!(self.out, "{t}, tgt is {}", p.target_addr())?,
            icmpv6::Message::Redirect => write!(
                self.out,
                "{t}, {} to {}",
                p.redirect_dst_addr(),
                p.target_addr()
            )?,
            icmpv6::Message::PktTooBig if header_ok => write!(self.out, "{t}, mtu {}", p.mtu())?,
            icmpv6::Message::TimeExceeded => match code {
                0 => self.w("time exceeded in-transit")?,
                1 => self.w("ip6 reassembly time exceeded")?,
                c => write!(self.out, "time exceeded, unknown code ({c})")?,
            },
            icmpv6::Message::DstUnreachable => {
                self.w("destination unreachable, ")?;
                let inner = ipv6::Packet::new_checked(p.data()).ok();
                let dst = inner.as_ref().map(|i| i.dst_addr());
                match (code, dst) {
                    (0, Some(d)) => write!(self.out, "unreachable route {d}")?,
                    (1, Some(d)) => write!(self.out, "unreachable prohibited {d}")?,
                    (2, Some(d)) => write!(self.out, "beyond scope {d}")?,
                    (3, Some(d)) => write!(self.out, "unreachable address {d}")?,
                    (4, Some(d)) => {
                        self.w("unreachable port")?;
                        let upper = inner.as_ref().and_then(|i| {
                            let mut w = ipv6_ext::Walk::new(i.next_header(), i.payload());
                            for h in w.by_ref() {
                                h.ok()?;
                            }
                            match w.end()? {
                                ipv6_ext::WalkEnd::Upper { protocol, offset } => {
                                    let port = i.payload().get(offset + 2..offset + 4)?;
                                    Some((protocol, u16::from_be_bytes([port[0], port[1]])))
                                }
                                ipv6_ext::WalkEnd::LaterFragment { .. } => None,
                            }
                        });
                        match upper {
                            Some((pr @ (IpProtocol::Tcp | IpProtocol::Udp), port)) => {
                                write!(self.out, ", {d} {pr} port {port}")?
                            }
                            Some((pr, port)) => write!(
                                self.out,
                                ", {d} protocol {} port {port} unreachable",
                                u8::from(pr)
                            )?,
                            None => {}
                        }
                    }
                    (c, _) => write!(self.out, "unknown unreach code ({c})")?,
                }
            }
            icmpv6::Message::ParamProblem if header_ok => {
                write!(self.out, "{t}, octet {}", p.pointer())?
            }
            t => write!(self.out, "{t}")?,
        }
        write!(self.out, ", length {}", l.end.saturating_sub(l.offset))
    }

    /// What follows the last layer, and why the walk stopped.
    fn tail(&mut self) -> fmt::Result {
        if let Some(e) = self.d.error() {
            if !matches!(self.out.last, None | Some(' ')) {
                self.w(" ")?;
            }
            return match e.kind() {
                ErrorKind::Truncated => write!(self.out, "[|{}]", token(e.layer())),
                _ => write!(self.out, "[malformed: {e}]"),
            };
        }
        let Some(last) = self.d.last() else {
            return Ok(());
        };
        match (last.protocol, self.d.rest()) {
            (Protocol::Vlan | Protocol::QinQ, Rest::Unknown(Next::EtherType(t))) => {
                if !self.o.link_header {
                    write!(self.out, "ethertype {}", EtherType::from(t))?;
                }
                write!(self.out, ", length {}", last.payload_len())
            }
            (
                Protocol::LinuxSll | Protocol::LinuxSll2,
                Rest::Unknown(Next::EtherType(t) | Next::Sll(t)),
            ) => {
                if !self.o.link_header {
                    write!(self.out, "ethertype 0x{t:04x}")?;
                }
                write!(self.out, ", length {}", last.payload_len())
            }
            _ => Ok(()),
        }
    }
}

/// A tiny fixed list of flag names joined by ", ".
struct FlagList {
    items: [&'static str; 3],
    n: usize,
}

fn heapless_flags() -> FlagList {
    FlagList {
        items: [""; 3],
        n: 0,
    }
}

impl FlagList {
    fn push(&mut self, s: &'static str) {
        if let Some(slot) = self.items.get_mut(self.n) {
            *slot = s;
            self.n += 1;
        }
    }
}

impl fmt::Display for FlagList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.n == 0 {
            return f.write_str("none");
        }
        for (i, s) in self.items[..self.n].iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(s)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LinkType;
    use crate::dissect::{dissect, dissect_captured};
    use crate::fixtures::*;
    use core::net::{Ipv4Addr, Ipv6Addr};

    const PLAIN: SummaryOptions = SummaryOptions {
        link_header: false,
        verbose: false,
    };
    const E: SummaryOptions = SummaryOptions {
        link_header: true,
        verbose: false,
    };
    const V: SummaryOptions = SummaryOptions {
        link_header: false,
        verbose: true,
    };
    const EV: SummaryOptions = SummaryOptions {
        link_header: true,
        verbose: true,
    };

    fn text(lt: LinkType, frame: &[u8], o: SummaryOptions) -> String {
        let d = dissect(lt, frame);
        let s = Summary::new(frame, &d, o).to_string();
        let mut w = String::new();
        write_summary(&mut w, frame, &d, o).unwrap();
        assert_eq!(s, w);
        s
    }

    // Expected texts are tcpdump 4.99's (`tcpdump -n -S`, with -e and -v
    // as named) on the same frames.
    #[test]
    fn tcp_syn_like_tcpdump() {
        let opts = "options [mss 1460,sackOK,TS val 2044906138 ecr 0,nop,wscale 7], length 0";
        assert_eq!(
            text(LinkType::ETHERNET, SYN, PLAIN),
            format!(
                "IP 192.168.1.11.33779 > 209.87.249.18.53: Flags [S], seq 603899916, win 64240, {opts}"
            )
        );
        assert_eq!(
            text(LinkType::ETHERNET, SYN, E),
            format!(
                "00:11:22:33:44:55 > 00:11:22:33:44:66, ethertype IPv4 (0x0800), length 74: \
                 192.168.1.11.33779 > 209.87.249.18.53: Flags [S], seq 603899916, win 64240, {opts}"
            )
        );
        assert_eq!(
            text(LinkType::ETHERNET, SYN, V),
            format!(
                "IP (tos 0x0, ttl 64, id 39720, offset 0, flags [DF], proto TCP (6), length 60)\n    \
                 192.168.1.11.33779 > 209.87.249.18.53: Flags [S], cksum 0x0c41 (correct), seq 603899916, win 64240, {opts}"
            )
        );
        assert!(text(LinkType::ETHERNET, SYN, EV).starts_with(
            "00:11:22:33:44:55 > 00:11:22:33:44:66, ethertype IPv4 (0x0800), length 74: (tos 0x0, ttl 64"
        ));
    }

    #[test]
    fn qinq_arp_with_link_header() {
        assert_eq!(
            text(LinkType::ETHERNET, QINQ_ARP, E),
            "00:20:d2:5a:fb:3f > ff:ff:ff:ff:ff:ff, ethertype 802.1Q-QinQ (0x88a8), length 64: \
             vlan 200, p 0, ethertype 802.1Q (0x8100), vlan 2001, p 0, ethertype ARP (0x0806), \
             Request who-has 172.21.79.100 tell 172.21.79.97, length 42"
        );
        assert_eq!(
            text(LinkType::ETHERNET, QINQ_ARP, PLAIN),
            "ARP, Request who-has 172.21.79.100 tell 172.21.79.97, length 42"
        );
    }

    #[test]
    fn icmpv6_and_cooked_and_loopback() {
        assert_eq!(
            text(LinkType::ETHERNET, NS, PLAIN),
            "IP6 :: > ff02::1:ffe1:f: ICMP6, neighbor solicitation, who has fe80::546f:f7ff:fee1:f, length 32"
        );
        // tcpdump adds MLD's group record count, which sluice does not read.
        assert_eq!(
            text(LinkType::ETHERNET, MLD_HBH, PLAIN),
            "IP6 fe80::215:17ff:fecc:e546 > ff02::16: HBH ICMP6, multicast listener report v2, length 28"
        );
        assert_eq!(
            text(LinkType::LINUX_SLL2, SLL2_UDP, PLAIN),
            "?     In  IP6 ::1.56203 > ::1.9999: UDP, length 5"
        );
        assert_eq!(
            text(LinkType::LINUX_SLL2, SLL2_UDP, E),
            "?     In  ifindex 1 00:00:00:00:00:00 ethertype IPv6 (0x86dd), length 73: ::1.56203 > ::1.9999: UDP, length 5"
        );
        assert!(text(LinkType::LINUX_SLL2, SLL2_UDP, V)
            .contains("(flowlabel 0x831a3, hlim 64, next-header UDP (17) payload length: 13) ::1.56203 > ::1.9999: [bad udp cksum 0x0020 -> 0xb965!] UDP, length 5"));
        assert_eq!(
            text(LinkType::NULL, NULL_DNS, E),
            "AF IPv4 (2), length 72: 127.0.0.1.54954 > 127.0.0.1.53: UDP, length 40"
        );
        assert_eq!(
            text(LinkType::ETHERNET, ESP, PLAIN),
            "IP 192.1.2.23 > 192.1.2.45: ESP(spi=0x12345678,seq=0x1), length 116"
        );
        assert_eq!(
            text(LinkType::ETHERNET, PPPOE_LCP, PLAIN),
            "PPPoE  [ses 0x17] LCP, length 12"
        );
    }

    #[test]
    fn cut_and_malformed_frames_say_so() {
        let d = dissect_captured(LinkType::ETHERNET, &SYN[..54], 74);
        assert_eq!(
            Summary::new(&SYN[..54], &d, PLAIN).to_string(),
            "IP 192.168.1.11 > 209.87.249.18: [|tcp]"
        );
        let mut f = SYN.to_vec();
        f[14] = 0x43;
        assert_eq!(
            text(LinkType::ETHERNET, &f, PLAIN),
            "[malformed: IPv4 at offset 14: header length 12 is below 20]"
        );
        // A frame that does not match its dissection prints, never panics.
        let d = dissect(LinkType::ETHERNET, SYN);
        let _ = Summary::new(&SYN[..20], &d, EV).to_string();
    }

    #[test]
    fn built_frames_read_like_tcpdump() {
        let (a, b) = (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2));
        let ip = |proto, len| ipv4::Repr {
            src_addr: a,
            dst_addr: b,
            protocol: proto,
            payload_len: len,
            ttl: 64,
            ident: 7,
            dscp: 0,
            ecn: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        };
        let seg = tcp::Repr {
            src_port: 40000,
            dst_port: 80,
            flags: Flags::SYN,
            seq_number: 1,
            window_len: 64240,
            max_seg_size: Some(1460),
            sack_permitted: true,
            timestamp: Some((1, 0)),
            window_scale: Some(7),
            ..Default::default()
        };
        let mut f = vec![0u8; 20 + seg.buffer_len()];
        ip(IpProtocol::Tcp, seg.buffer_len())
            .emit(&mut ipv4::Packet::new_unchecked(&mut f[..20]))
            .unwrap();
        seg.emit(
            &mut tcp::Packet::new_unchecked(&mut f[20..]),
            a.into(),
            b.into(),
        )
        .unwrap();
        assert_eq!(
            text(LinkType::RAW, &f, PLAIN),
            "IP 10.77.0.1.40000 > 10.77.0.2.80: Flags [S], seq 1, win 64240, \
             options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0"
        );
        assert!(text(LinkType::RAW, &f, V).contains("cksum 0x"));
        assert!(text(LinkType::RAW, &f, V).contains("(correct)"));

        let mut f = vec![0u8; 48];
        ip(IpProtocol::Udp, 28)
            .emit(&mut ipv4::Packet::new_unchecked(&mut f[..20]))
            .unwrap();
        udp::Repr {
            src_port: 53,
            dst_port: 5353,
            payload_len: 20,
        }
        .emit(
            &mut udp::Packet::new_unchecked(&mut f[20..]),
            a.into(),
            b.into(),
        )
        .unwrap();
        assert_eq!(
            text(LinkType::RAW, &f, PLAIN),
            "IP 10.77.0.1.53 > 10.77.0.2.5353: UDP, length 20"
        );
        assert!(text(LinkType::RAW, &f, V).contains("[udp sum ok] UDP, length 20"));

        let (a6, b6): (Ipv6Addr, Ipv6Addr) =
            ("fd77::1".parse().unwrap(), "fd77::2".parse().unwrap());
        let data = [0x5au8; 56];
        let echo = icmpv6::Repr::EchoRequest {
            ident: 1,
            seq_no: 1,
            data: &data,
        };
        let mut f = vec![0u8; 40 + echo.buffer_len()];
        ipv6::Repr {
            src_addr: a6,
            dst_addr: b6,
            next_header: IpProtocol::Icmpv6,
            payload_len: echo.buffer_len(),
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut ipv6::Packet::new_unchecked(&mut f[..40]))
        .unwrap();
        echo.emit(&mut icmpv6::Packet::new_unchecked(&mut f[40..]), a6, b6)
            .unwrap();
        assert_eq!(
            text(LinkType::RAW, &f, PLAIN),
            "IP6 fd77::1 > fd77::2: ICMP6, echo request, id 1, seq 1, length 64"
        );
        assert_eq!(
            text(LinkType::RAW, &f, V),
            "IP6 (hlim 64, next-header ICMPv6 (58) payload length: 64) fd77::1 > fd77::2: \
             [icmp6 sum ok] ICMP6, echo request, id 1, seq 1, length 64"
        );
    }
}
