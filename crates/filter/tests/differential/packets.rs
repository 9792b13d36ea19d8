//! The generated packet corpus: plain byte-vector builders for every header
//! the filter language can test, and one corpus per linktype that mixes
//! well-formed packets, odd ones (options, fragments, extension headers,
//! stacked tags) and broken ones (truncated at every layer, random bytes).
//!
//! The builders are deliberately independent of the wire crate: the corpus
//! must be able to say things a typed builder refuses to say.

use crate::rng::Rng;
use crate::values::*;

/// One test packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// What it is, for reports (`eth/vlan10/ipv4/tcp 22>80 S`).
    pub label: String,
    /// The captured bytes.
    pub bytes: Vec<u8>,
    /// The original length on the wire (≥ the captured length).
    pub wire_len: u32,
}

impl Frame {
    fn new(label: impl Into<String>, bytes: Vec<u8>) -> Frame {
        let wire_len = bytes.len() as u32;
        Frame {
            label: label.into(),
            bytes,
            wire_len,
        }
    }

    /// This frame captured only up to `caplen` bytes.
    pub fn truncated(&self, caplen: usize) -> Frame {
        Frame {
            label: format!("{} cut@{caplen}", self.label),
            bytes: self.bytes[..caplen.min(self.bytes.len())].to_vec(),
            wire_len: self.wire_len,
        }
    }
}

// ---------------------------------------------------------------------
// Network and transport layers.

/// An IPv4 header description.
#[derive(Clone, Debug)]
pub struct V4 {
    pub src: [u8; 4],
    pub dst: [u8; 4],
    pub proto: u8,
    /// Option bytes (padded to a multiple of 4 here).
    pub options: Vec<u8>,
    /// Fragment offset in 8-byte units.
    pub frag_off: u16,
    pub more_frags: bool,
    pub dont_frag: bool,
    pub ttl: u8,
}

impl V4 {
    pub fn new(src: [u8; 4], dst: [u8; 4], proto: u8) -> V4 {
        V4 {
            src,
            dst,
            proto,
            options: Vec::new(),
            frag_off: 0,
            more_frags: false,
            dont_frag: true,
            ttl: 64,
        }
    }

    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut opts = self.options.clone();
        while !opts.len().is_multiple_of(4) {
            opts.push(0);
        }
        let ihl = 5 + opts.len() / 4;
        let total = ihl * 4 + payload.len();
        let mut flags_frag = self.frag_off & 0x1fff;
        if self.more_frags {
            flags_frag |= 0x2000;
        }
        if self.dont_frag {
            flags_frag |= 0x4000;
        }
        let mut b = vec![0x40 | ihl as u8, 0];
        b.extend_from_slice(&(total as u16).to_be_bytes());
        b.extend_from_slice(&[0x12, 0x34]);
        b.extend_from_slice(&flags_frag.to_be_bytes());
        b.extend_from_slice(&[self.ttl, self.proto, 0, 0]);
        b.extend_from_slice(&self.src);
        b.extend_from_slice(&self.dst);
        b.extend_from_slice(&opts);
        let sum = checksum(&b);
        b[10..12].copy_from_slice(&sum.to_be_bytes());
        b.extend_from_slice(payload);
        b
    }
}

/// The Internet checksum of `data`.
fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for pair in data.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv6 extension header: its type and body (without the next-header
/// byte, which the chain fills in).
#[derive(Clone, Debug)]
pub enum Ext {
    HopByHop(usize),
    Routing,
    Fragment { offset: u16, more: bool },
    DestOpts(usize),
    Ah,
}

impl Ext {
    fn kind(&self) -> u8 {
        match self {
            Ext::HopByHop(_) => 0,
            Ext::Routing => 43,
            Ext::Fragment { .. } => 44,
            Ext::DestOpts(_) => 60,
            Ext::Ah => 51,
        }
    }

    fn emit(&self, next: u8) -> Vec<u8> {
        match *self {
            // `units` is the length in 8-byte units beyond the first 8.
            Ext::HopByHop(units) | Ext::DestOpts(units) => {
                let mut b = vec![next, units as u8];
                // PadN filling the rest of the header.
                let rest = 6 + units * 8;
                b.push(1);
                b.push((rest - 2) as u8);
                b.resize(8 + units * 8, 0);
                b
            }
            Ext::Routing => vec![next, 0, 0, 0, 0, 0, 0, 0],
            Ext::Fragment { offset, more } => {
                let word = (offset << 3) | u16::from(more);
                let mut b = vec![next, 0];
                b.extend_from_slice(&word.to_be_bytes());
                b.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
                b
            }
            Ext::Ah => {
                // Payload length in 4-byte units minus 2: 24 bytes → 4.
                let mut b = vec![next, 4, 0, 0];
                b.extend_from_slice(&[0, 0, 0x10, 0x01]);
                b.extend_from_slice(&[0, 0, 0, 1]);
                b.extend_from_slice(&[0xa5; 12]);
                b
            }
        }
    }
}

/// An IPv6 packet with an extension-header chain before `proto`'s payload.
pub fn ipv6(src: [u8; 16], dst: [u8; 16], chain: &[Ext], proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, ext) in chain.iter().enumerate() {
        let next = chain.get(i + 1).map_or(proto, Ext::kind);
        body.extend(ext.emit(next));
    }
    body.extend_from_slice(payload);
    let first = chain.first().map_or(proto, Ext::kind);
    let mut b = vec![0x60, 0, 0, 0];
    b.extend_from_slice(&(body.len() as u16).to_be_bytes());
    b.extend_from_slice(&[first, 64]);
    b.extend_from_slice(&src);
    b.extend_from_slice(&dst);
    b.extend(body);
    b
}

/// A TCP header (with `options` bytes, padded) and payload.
pub fn tcp(sport: u16, dport: u16, flags: u8, options: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut opts = options.to_vec();
    while !opts.len().is_multiple_of(4) {
        opts.push(1);
    }
    let off = 5 + opts.len() / 4;
    let mut b = Vec::new();
    b.extend_from_slice(&sport.to_be_bytes());
    b.extend_from_slice(&dport.to_be_bytes());
    b.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    b.extend_from_slice(&0x0a0b_0c0du32.to_be_bytes());
    b.push((off as u8) << 4);
    b.push(flags);
    b.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
    b.extend(opts);
    b.extend_from_slice(payload);
    b
}

/// A UDP header and payload.
pub fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&sport.to_be_bytes());
    b.extend_from_slice(&dport.to_be_bytes());
    b.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(payload);
    b
}

/// An SCTP common header with one DATA chunk.
pub fn sctp(sport: u16, dport: u16) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend_from_slice(&sport.to_be_bytes());
    b.extend_from_slice(&dport.to_be_bytes());
    b.extend_from_slice(&[0, 0, 0, 7, 0, 0, 0, 0]);
    b.extend_from_slice(&[
        0, 3, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, b'h', b'i', 0, 0,
    ]);
    b
}

/// An ICMP or ICMPv6 message header with some body.
pub fn icmp(kind: u8, code: u8) -> Vec<u8> {
    vec![kind, code, 0, 0, 0, 1, 0, 2, 0xca, 0xfe, 0xba, 0xbe]
}

/// An IGMP message.
pub fn igmp(kind: u8, group: [u8; 4]) -> Vec<u8> {
    let mut b = vec![kind, 100, 0, 0];
    b.extend_from_slice(&group);
    b
}

/// An ARP (or RARP) packet for Ethernet/IPv4.
pub fn arp(op: u16, sha: [u8; 6], spa: [u8; 4], tha: [u8; 6], tpa: [u8; 4]) -> Vec<u8> {
    let mut b = vec![0, 1, 8, 0, 6, 4];
    b.extend_from_slice(&op.to_be_bytes());
    b.extend_from_slice(&sha);
    b.extend_from_slice(&spa);
    b.extend_from_slice(&tha);
    b.extend_from_slice(&tpa);
    b
}

// ---------------------------------------------------------------------
// Link layers and encapsulations.

/// An Ethernet II frame.
pub fn ether(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = dst.to_vec();
    b.extend_from_slice(&src);
    b.extend_from_slice(&ethertype.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// VLAN tags `(tpid, tci)` inserted in front of `ethertype`: the bytes
/// that follow the MAC addresses.
pub fn tags(tags: &[(u16, u16)], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    let mut types: Vec<u16> = tags.iter().map(|t| t.0).collect();
    types.push(ethertype);
    b.extend_from_slice(&types[0].to_be_bytes());
    for (i, (_, tci)) in tags.iter().enumerate() {
        b.extend_from_slice(&tci.to_be_bytes());
        b.extend_from_slice(&types[i + 1].to_be_bytes());
    }
    b.extend_from_slice(payload);
    b
}

/// An 802.3 frame: a length field instead of an EtherType, then `llc`.
pub fn ether_802_3(dst: [u8; 6], src: [u8; 6], llc: &[u8]) -> Vec<u8> {
    ether(dst, src, llc.len() as u16, llc)
}

/// An MPLS label stack (bottom-of-stack bit on the last entry when
/// `terminate`) over `payload`.
pub fn mpls(labels: &[u32], terminate: bool, payload: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    for (i, label) in labels.iter().enumerate() {
        let bos = u32::from(terminate && i + 1 == labels.len());
        let entry = (label << 12) | (1 << 9) | (bos << 8) | 64;
        b.extend_from_slice(&entry.to_be_bytes());
    }
    b.extend_from_slice(payload);
    b
}

/// A PPPoE session packet carrying `ppp_proto`.
pub fn pppoe_session(session: u16, ppp_proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0x11, 0x00];
    b.extend_from_slice(&session.to_be_bytes());
    b.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    b.extend_from_slice(&ppp_proto.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// A PPPoE discovery packet with a Service-Name tag.
pub fn pppoe_discovery(code: u8, session: u16) -> Vec<u8> {
    let mut b = vec![0x11, code];
    b.extend_from_slice(&session.to_be_bytes());
    b.extend_from_slice(&[0, 4, 0x01, 0x01, 0, 0]);
    b
}

/// A Geneve header (`opt_words` 4-byte words of options) and payload.
pub fn geneve(vni: u32, proto: u16, opt_words: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![opt_words & 0x3f, 0];
    b.extend_from_slice(&proto.to_be_bytes());
    b.extend_from_slice(&(vni << 8).to_be_bytes());
    for w in 0..opt_words {
        b.extend_from_slice(&[0x01, 0x02, 0x80 | w, 0]);
    }
    b.extend_from_slice(payload);
    b
}

/// A Linux cooked (v1) header.
pub fn sll(pkttype: u16, proto: u16, payload: &[u8]) -> Vec<u8> {
    let mut b = pkttype.to_be_bytes().to_vec();
    b.extend_from_slice(&[0, 1, 0, 6]);
    b.extend_from_slice(&[0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0]);
    b.extend_from_slice(&proto.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

/// A Linux cooked v2 header.
pub fn sll2(proto: u16, ifindex: u32, pkttype: u8, payload: &[u8]) -> Vec<u8> {
    let mut b = proto.to_be_bytes().to_vec();
    b.extend_from_slice(&[0, 0]);
    b.extend_from_slice(&ifindex.to_be_bytes());
    b.extend_from_slice(&[0, 1, pkttype, 6]);
    b.extend_from_slice(&[0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0, 0]);
    b.extend_from_slice(payload);
    b
}

// ---------------------------------------------------------------------
// Network-layer packets, shared by every linktype.

/// A network-layer packet and the EtherType that announces it.
#[derive(Clone, Debug)]
pub struct Inner {
    pub label: String,
    pub ethertype: u16,
    pub bytes: Vec<u8>,
}

fn inner(label: impl Into<String>, ethertype: u16, bytes: Vec<u8>) -> Inner {
    Inner {
        label: label.into(),
        ethertype,
        bytes,
    }
}

fn flags_text(f: u8) -> String {
    let names = ['F', 'S', 'R', 'P', 'A', 'U', 'E', 'C'];
    (0..8)
        .filter(|i| f & (1 << i) != 0)
        .map(|i| names[i])
        .collect()
}

/// A transport payload for protocol `proto` with the pooled ports.
fn transport(rng: &mut Rng, proto: u8) -> (String, Vec<u8>) {
    let sport = rng.pick(PORTS);
    let dport = rng.pick(PORTS);
    match proto {
        6 => {
            let flags = rng.byte();
            let opts: &[u8] = if rng.chance(30) {
                &[2, 4, 5, 0xb4, 1, 3, 3, 7]
            } else {
                &[]
            };
            let payload = rng.some_bytes(0, 24);
            (
                format!("tcp {sport}>{dport} {}", flags_text(flags)),
                tcp(sport, dport, flags, opts, &payload),
            )
        }
        17 => {
            let payload = rng.some_bytes(0, 32);
            (format!("udp {sport}>{dport}"), udp(sport, dport, &payload))
        }
        132 => (format!("sctp {sport}>{dport}"), sctp(sport, dport)),
        1 | 58 => {
            let types = if proto == 1 { ICMP_TYPES } else { ICMP6_TYPES };
            let t = rng.pick(types);
            let code = if rng.chance(70) {
                0
            } else {
                rng.range(1, 5) as u8
            };
            (
                format!("icmp{} {t}/{code}", if proto == 58 { "6" } else { "" }),
                icmp(t, code),
            )
        }
        2 => {
            let t = rng.pick(&[0x11u8, 0x12, 0x16, 0x17, 0x22]);
            (format!("igmp {t:#x}"), igmp(t, rng.pick(IPV4)))
        }
        _ => (format!("proto {proto}"), rng.some_bytes(8, 24)),
    }
}

/// IPv4 packets: every protocol of the pool, options, fragments.
pub fn ipv4_packets(rng: &mut Rng) -> Vec<Inner> {
    let mut out = Vec::new();
    let protos = [
        6u8, 6, 6, 17, 17, 17, 132, 1, 1, 2, 47, 50, 103, 112, 9, 89, 255, 0, 41,
    ];
    for round in 0..3 {
        for &proto in &protos {
            let (tl, payload) = transport(rng, proto);
            let mut v4 = V4::new(rng.pick(IPV4), rng.pick(IPV4), proto);
            let mut label = String::from("ipv4");
            if round == 2 {
                // IP options: record route, timestamps, NOPs.
                let n = rng.range(1, 10) as usize * 4;
                let mut opts = vec![7, n.min(39) as u8, 4];
                opts.resize(n, 1);
                v4.options = opts;
                label.push_str(&format!("+opt{n}"));
            }
            out.push(inner(format!("{label}/{tl}"), 0x0800, v4.build(&payload)));
        }
    }
    // AH then TCP over IPv4.
    let (tl, seg) = transport(rng, 6);
    let mut ah = vec![6, 4, 0, 0, 0, 0, 0x10, 1, 0, 0, 0, 1];
    ah.extend_from_slice(&[0x5a; 12]);
    ah.extend(seg);
    out.push(inner(
        format!("ipv4/ah/{tl}"),
        0x0800,
        V4::new(IPV4[0], IPV4[1], 51).build(&ah),
    ));
    // Fragments: first (offset 0, MF), middle and last (offset ≠ 0). The
    // later ones carry bytes that look like a transport header with pooled
    // ports, so a port test that forgot the fragment check would match.
    for &proto in &[6u8, 17, 1, 132] {
        let (tl, payload) = transport(rng, proto);
        for (off, mf, name) in [
            (0u16, true, "first"),
            (185, true, "middle"),
            (370, false, "last"),
        ] {
            let mut v4 = V4::new(rng.pick(IPV4), rng.pick(IPV4), proto);
            v4.frag_off = off;
            v4.more_frags = mf;
            v4.dont_frag = false;
            out.push(inner(
                format!("ipv4 frag-{name}/{tl}"),
                0x0800,
                v4.build(&payload),
            ));
        }
    }
    // A bad version nibble and a short IHL.
    let mut bad = V4::new(IPV4[0], IPV4[1], 6).build(&tcp(80, 22, 0x12, &[], &[]));
    bad[0] = 0x65;
    out.push(inner("ipv4 version 6 ihl 5", 0x0800, bad));
    let mut short = V4::new(IPV4[1], IPV4[0], 17).build(&udp(53, 53, &[1, 2]));
    short[0] = 0x43;
    out.push(inner("ipv4 ihl 3", 0x0800, short));
    // All 256 TCP flag combinations (IPv4 and IPv6 in turn).
    for flags in 0..=255u8 {
        let sport = PORTS[usize::from(flags) % PORTS.len()];
        let dport = PORTS[(usize::from(flags) * 7 + 3) % PORTS.len()];
        let seg = tcp(sport, dport, flags, &[], &[]);
        let label = format!("tcp {sport}>{dport} {}", flags_text(flags));
        if flags % 2 == 0 {
            let v4 = V4::new(
                IPV4[usize::from(flags) % 3],
                IPV4[usize::from(flags / 3) % 3],
                6,
            );
            out.push(inner(format!("ipv4/{label}"), 0x0800, v4.build(&seg)));
        } else {
            let (s, d) = (
                IPV6[usize::from(flags) % 3],
                IPV6[usize::from(flags / 3) % 3],
            );
            out.push(inner(
                format!("ipv6/{label}"),
                0x86dd,
                ipv6(s, d, &[], 6, &seg),
            ));
        }
    }
    out
}

/// IPv6 packets: plain, and behind extension-header chains.
pub fn ipv6_packets(rng: &mut Rng) -> Vec<Inner> {
    let mut out = Vec::new();
    let chains: Vec<(&str, Vec<Ext>)> = vec![
        ("", vec![]),
        ("", vec![]),
        ("hbh", vec![Ext::HopByHop(0)]),
        (
            "hbh+rt+frag0+dst",
            vec![
                Ext::HopByHop(1),
                Ext::Routing,
                Ext::Fragment {
                    offset: 0,
                    more: true,
                },
                Ext::DestOpts(0),
            ],
        ),
        (
            "frag0",
            vec![Ext::Fragment {
                offset: 0,
                more: true,
            }],
        ),
        (
            "frag185",
            vec![Ext::Fragment {
                offset: 185,
                more: false,
            }],
        ),
        ("dst", vec![Ext::DestOpts(2)]),
        ("ah", vec![Ext::Ah]),
        ("hbh+ah", vec![Ext::HopByHop(0), Ext::Ah]),
        ("rt+dst", vec![Ext::Routing, Ext::DestOpts(0)]),
    ];
    let protos = [6u8, 17, 58, 132, 6, 17, 58, 50, 59, 103, 47];
    for (cname, chain) in &chains {
        for &proto in &protos {
            if rng.chance(35) {
                continue;
            }
            let (tl, payload) = transport(rng, proto);
            let (s, d) = (rng.pick(IPV6), rng.pick(IPV6));
            let label = if cname.is_empty() {
                format!("ipv6/{tl}")
            } else {
                format!("ipv6+{cname}/{tl}")
            };
            out.push(inner(label, 0x86dd, ipv6(s, d, chain, proto, &payload)));
        }
    }
    // Every ICMPv6 type plainly.
    for &t in ICMP6_TYPES {
        let (s, d) = (rng.pick(IPV6), rng.pick(IPV6));
        out.push(inner(
            format!("ipv6/icmp6 {t}/0"),
            0x86dd,
            ipv6(s, d, &[], 58, &icmp(t, 0)),
        ));
    }
    out
}

/// ARP and RARP requests and replies.
pub fn arp_packets(rng: &mut Rng) -> Vec<Inner> {
    let mut out = Vec::new();
    for i in 0..8 {
        let (ethertype, name, op) = match i % 4 {
            0 => (0x0806, "arp request", 1),
            1 => (0x0806, "arp reply", 2),
            2 => (0x8035, "rarp request", 3),
            _ => (0x8035, "rarp reply", 4),
        };
        let spa = rng.pick(IPV4);
        let tpa = rng.pick(IPV4);
        let bytes = arp(op, rng.pick(UNICAST_MACS), spa, [0; 6], tpa);
        out.push(inner(
            format!("{name} {}>{}", ipv4_text(spa), ipv4_text(tpa)),
            ethertype,
            bytes,
        ));
    }
    out
}

/// Packets of the other EtherTypes the language names (AppleTalk, AARP,
/// DECnet with its addresses, LAT, MOP, SCA, IPX, loopback, LLDP).
pub fn other_ethertypes(rng: &mut Rng) -> Vec<Inner> {
    let mut out = Vec::new();
    for &t in &[
        0x809bu16, 0x80f3, 0x6004, 0x6001, 0x6002, 0x6007, 0x8137, 0x9000, 0x88cc, 0x888e,
    ] {
        let len = 20 + rng.below(20);
        out.push(inner(format!("ethertype {t:#06x}"), t, rng.bytes(len)));
    }
    // DECnet routing headers in the four layouts libpcap knows (long and
    // short, with and without one byte of padding), with pooled addresses.
    for (i, &(flags, pad, long)) in [
        (0x06u8, false, true),
        (0x81, true, true),
        (0x02, false, false),
        (0x81, true, false),
    ]
    .iter()
    .enumerate()
    {
        let src = decnet_value(rng.pick(DECNET_ADDRS));
        let dst = decnet_value(DECNET_ADDRS[i % DECNET_ADDRS.len()]);
        let mut b = vec![0x20, 0x00];
        if pad {
            b.push(flags);
            b.push(if long { 0x06 } else { 0x02 });
        } else {
            b.push(flags);
        }
        if long {
            // d-area, d-subarea, d-id (6 bytes: AA-00-04-00 + addr), …
            b.extend_from_slice(&[0, 0, 0xaa, 0x00, 0x04, 0x00]);
            b.extend_from_slice(&dst.to_le_bytes());
            b.extend_from_slice(&[0, 0, 0xaa, 0x00, 0x04, 0x00]);
            b.extend_from_slice(&src.to_le_bytes());
            b.extend_from_slice(&[0, 0, 0, 0]);
        } else {
            b.extend_from_slice(&dst.to_le_bytes());
            b.extend_from_slice(&src.to_le_bytes());
            b.push(0);
        }
        b.extend(rng.bytes(6));
        out.push(inner(format!("decnet layout {i}"), 0x6003, b));
    }
    out
}

/// 802.2 LLC payloads for 802.3 frames: STP, SNAP (IPv4, AppleTalk,
/// AARP), IPX (raw and LLC), NetBEUI, ISO (CLNP, ES-IS, IS-IS PDUs) and
/// I, S and U frames of every kind the language names.
pub fn llc_payloads(rng: &mut Rng) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut bpdu = vec![0x42, 0x42, 0x03, 0, 0, 0, 0, 0];
    bpdu.extend(rng.bytes(27));
    out.push(("llc stp bpdu".to_string(), bpdu));
    let ip = V4::new(IPV4[0], IPV4[1], 17).build(&udp(53, 1024, &[1, 2, 3]));
    let mut snap = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00];
    snap.extend(&ip);
    out.push(("llc snap ipv4".to_string(), snap));
    let mut at = vec![0xaa, 0xaa, 0x03, 0x08, 0x00, 0x07, 0x80, 0x9b];
    at.extend(rng.bytes(16));
    out.push(("llc snap atalk".to_string(), at));
    let mut aarp = vec![0xaa, 0xaa, 0x03, 0, 0, 0, 0x80, 0xf3];
    aarp.extend(rng.bytes(16));
    out.push(("llc snap aarp".to_string(), aarp));
    let mut raw_ipx = vec![0xff, 0xff];
    raw_ipx.extend(rng.bytes(28));
    out.push(("802.3 raw ipx".to_string(), raw_ipx));
    let mut llc_ipx = vec![0xe0, 0xe0, 0x03, 0xff, 0xff];
    llc_ipx.extend(rng.bytes(26));
    out.push(("llc ipx".to_string(), llc_ipx));
    let mut nb = vec![0xf0, 0xf0, 0x03];
    nb.extend(rng.bytes(20));
    out.push(("llc netbeui".to_string(), nb));
    // ISO: NLPID then, for IS-IS, the PDU type at offset 4 of its header.
    for (name, nlpid, pdu) in [
        ("clnp", 0x81u8, 0x1cu8),
        ("esis", 0x82, 0x02),
        ("isis l1 iih", 0x83, 15),
        ("isis l2 iih", 0x83, 16),
        ("isis p2p iih", 0x83, 17),
        ("isis l1 lsp", 0x83, 18),
        ("isis l2 lsp", 0x83, 20),
        ("isis l1 csnp", 0x83, 24),
        ("isis l2 csnp", 0x83, 25),
        ("isis l1 psnp", 0x83, 26),
        ("isis l2 psnp", 0x83, 27),
    ] {
        let mut b = vec![0xfe, 0xfe, 0x03, nlpid, 27, 1, 0, pdu, 1, 0, 0];
        b.extend(rng.bytes(16));
        out.push((format!("llc iso {name}"), b));
    }
    // I frames (two control bytes, low bit 0), S frames (low bits 01),
    // U frames (low bits 11) with and without the poll/final bit.
    for (name, ctl) in [
        ("i", vec![0x00u8, 0x02]),
        ("i", vec![0x1e, 0x05]),
        ("rr", vec![0x01, 0x00]),
        ("rnr", vec![0x05, 0x01]),
        ("rej", vec![0x09, 0x00]),
        ("ui", vec![0x03]),
        ("ui/p", vec![0x13]),
        ("ua", vec![0x63]),
        ("ua/f", vec![0x73]),
        ("disc", vec![0x43]),
        ("dm", vec![0x0f]),
        ("sabme", vec![0x6f]),
        ("sabme/p", vec![0x7f]),
        ("test", vec![0xe3]),
        ("xid", vec![0xaf]),
        ("xid/p", vec![0xbf]),
        ("frmr", vec![0x87]),
    ] {
        let sap = rng.pick(&[0x06u8, 0x42, 0xaa, 0xe0, 0xfe, 0x04]);
        let mut b = vec![sap, sap | u8::from(rng.chance(20))];
        b.extend(ctl);
        b.extend(rng.some_bytes(10, 10));
        out.push((format!("llc {name} sap {sap:#x}"), b));
    }
    out
}

// ---------------------------------------------------------------------
// Corpora per linktype.

fn ether_frame(rng: &mut Rng, inner: &Inner) -> Frame {
    let dst = rng.pick(MACS);
    let src = rng.pick(UNICAST_MACS);
    Frame::new(
        format!("eth/{}", inner.label),
        ether(dst, src, inner.ethertype, &inner.bytes),
    )
}

fn random_tci(rng: &mut Rng) -> (u16, String) {
    let vid = rng.pick(VLAN_IDS);
    let pcp = rng.range(0, 7) as u16;
    ((pcp << 13) | vid, format!("{vid}"))
}

/// The Ethernet corpus.
pub fn ethernet(rng: &mut Rng) -> Vec<Frame> {
    let v4 = ipv4_packets(rng);
    let v6 = ipv6_packets(rng);
    let arps = arp_packets(rng);
    let others = other_ethertypes(rng);
    let all: Vec<&Inner> = v4.iter().chain(&v6).chain(&arps).chain(&others).collect();
    let ip: Vec<&Inner> = v4
        .iter()
        .chain(&v6)
        .filter(|i| !i.label.contains("tcp ") || i.label.contains('+') || i.label.contains("frag"))
        .collect();
    let mut out: Vec<Frame> = all.iter().map(|i| ether_frame(rng, i)).collect();

    // VLAN: one tag of each TPID, QinQ stacks, three deep.
    for _ in 0..90 {
        let inner = rng.pick(&all);
        let depth = rng.pick(&[1usize, 1, 1, 2, 2, 3]);
        let mut stack = Vec::new();
        let mut names = Vec::new();
        for level in 0..depth {
            let tpid = if level + 1 == depth {
                rng.pick(&[0x8100u16, 0x8100, 0x88a8, 0x9100])
            } else {
                rng.pick(&[0x88a8u16, 0x9100, 0x8100])
            };
            let (tci, name) = random_tci(rng);
            stack.push((tpid, tci));
            names.push(format!("{tpid:#x}:{name}"));
        }
        let body = tags(&stack, inner.ethertype, &inner.bytes);
        let mut b = rng.pick(MACS).to_vec();
        b.extend_from_slice(&rng.pick(UNICAST_MACS));
        b.extend(body);
        out.push(Frame::new(
            format!("eth/vlan[{}]/{}", names.join(","), inner.label),
            b,
        ));
    }
    // MPLS stacks of 1–3 labels over IPv4/IPv6, one without bottom-of-stack.
    for n in 0..40 {
        let inner = rng.pick(&ip);
        let depth = rng.range(1, 3) as usize;
        let labels: Vec<u32> = (0..depth).map(|_| rng.pick(MPLS_LABELS)).collect();
        let terminate = n % 13 != 0;
        let ethertype = if n % 5 == 0 { 0x8848 } else { 0x8847 };
        let body = mpls(&labels, terminate, &inner.bytes);
        let mut frame = ether(rng.pick(MACS), rng.pick(UNICAST_MACS), ethertype, &body);
        let mut label = format!(
            "eth/mpls{labels:?}{}/{}",
            if terminate { "" } else { "(no bos)" },
            inner.label
        );
        if n % 7 == 0 {
            // MPLS behind a VLAN tag.
            let (tci, name) = random_tci(rng);
            let mut tagged = frame[..12].to_vec();
            tagged.extend(tags(&[(0x8100, tci)], ethertype, &body));
            frame = tagged;
            label = format!("eth/vlan{name}/mpls{labels:?}/{}", inner.label);
        }
        out.push(Frame::new(label, frame));
    }
    // PPPoE discovery (every code) and sessions carrying IPv4, IPv6, LCP.
    for code in [0x09u8, 0x07, 0x19, 0x65, 0xa7] {
        let session = if code == 0x65 || code == 0xa7 {
            rng.pick(PPPOE_SESSIONS)
        } else {
            0
        };
        out.push(Frame::new(
            format!("eth/pppoed code {code:#x} session {session}"),
            ether(
                MACS[3],
                UNICAST_MACS[0],
                0x8863,
                &pppoe_discovery(code, session),
            ),
        ));
    }
    for n in 0..30 {
        let session = rng.pick(PPPOE_SESSIONS);
        let inner = rng.pick(&ip);
        let (proto, payload, name) = match (n % 6, inner.ethertype) {
            (0, _) => (0xc021u16, vec![1, 1, 0, 4], "lcp".to_string()),
            (_, 0x86dd) => (0x0057, inner.bytes.clone(), inner.label.clone()),
            _ => (0x0021, inner.bytes.clone(), inner.label.clone()),
        };
        let body = pppoe_session(session, proto, &payload);
        let frame = if n % 8 == 7 {
            let (tci, vname) = random_tci(rng);
            let mut f = ether(rng.pick(MACS), UNICAST_MACS[1], 0x8100, &tci.to_be_bytes());
            f.extend_from_slice(&0x8864u16.to_be_bytes());
            f.extend(body);
            out.push(Frame::new(
                format!("eth/vlan{vname}/pppoes {session}/{name}"),
                f,
            ));
            continue;
        } else {
            ether(rng.pick(MACS), UNICAST_MACS[1], 0x8864, &body)
        };
        out.push(Frame::new(format!("eth/pppoes {session}/{name}"), frame));
    }
    // Geneve over UDP 6081: inner Ethernet (0x6558) or bare IPv4, with and
    // without options, over IPv4 and IPv6.
    for n in 0..30 {
        let vni = rng.pick(GENEVE_VNIS);
        let inner = rng.pick(&ip);
        let opt_words = rng.pick(&[0u8, 0, 1, 2]);
        let (proto, payload) = if n % 3 == 0 && inner.ethertype == 0x0800 {
            (0x0800u16, inner.bytes.clone())
        } else {
            (
                0x6558,
                ether(
                    rng.pick(MACS),
                    rng.pick(UNICAST_MACS),
                    inner.ethertype,
                    &inner.bytes,
                ),
            )
        };
        let gnv = geneve(vni, proto, opt_words, &payload);
        let sport = rng.pick(PORTS);
        let seg = udp(sport, 6081, &gnv);
        let outer = if n % 4 == 3 {
            (0x86dd, ipv6(IPV6[0], IPV6[1], &[], 17, &seg))
        } else {
            (
                0x0800,
                V4::new(rng.pick(IPV4), rng.pick(IPV4), 17).build(&seg),
            )
        };
        out.push(Frame::new(
            format!(
                "eth/{}/udp {sport}>6081/geneve vni {vni:#x} opt {opt_words} proto {proto:#x}/{}",
                if outer.0 == 0x0800 { "ipv4" } else { "ipv6" },
                inner.label
            ),
            ether(rng.pick(MACS), rng.pick(UNICAST_MACS), outer.0, &outer.1),
        ));
    }
    // 802.3 frames with LLC.
    for (label, llc) in llc_payloads(rng) {
        let dst = if label.contains("stp") {
            MACS[6]
        } else {
            rng.pick(MACS)
        };
        out.push(Frame::new(
            format!("eth/802.3/{label}"),
            ether_802_3(dst, rng.pick(UNICAST_MACS), &llc),
        ));
        if rng.chance(25) {
            let (tci, name) = random_tci(rng);
            let mut f = ether(dst, UNICAST_MACS[0], 0x8100, &tci.to_be_bytes());
            f.extend_from_slice(&(llc.len() as u16).to_be_bytes());
            f.extend(llc);
            out.push(Frame::new(format!("eth/vlan{name}/802.3/{label}"), f));
        }
    }
    // Random bytes, some with a real EtherType so decoding goes deeper.
    for n in 0..30 {
        let len = rng.below(100);
        let mut b = rng.bytes(len);
        if n % 2 == 0 && len > 14 {
            let t = rng.pick(ETHERTYPES);
            b[12..14].copy_from_slice(&t.to_be_bytes());
        }
        out.push(Frame::new(format!("random {len} bytes"), b));
    }
    truncations(rng, &mut out, 18);
    out
}

/// Appends copies of `count` frames of `out` cut at every layer: each
/// offset from 0 to 70 in steps of 1 near headers, and one byte short of
/// the whole frame.
fn truncations(rng: &mut Rng, out: &mut Vec<Frame>, count: usize) {
    let sources: Vec<Frame> = (0..count)
        .map(|_| out[rng.below(out.len())].clone())
        .collect();
    for f in sources {
        let n = f.bytes.len();
        let mut cuts: Vec<usize> = (0..n.min(70))
            .filter(|c| c % 3 == 0 || rng.chance(20))
            .collect();
        cuts.push(n.saturating_sub(1));
        cuts.dedup();
        for c in cuts {
            out.push(f.truncated(c));
        }
    }
}

fn ip_inners(rng: &mut Rng) -> (Vec<Inner>, Vec<Inner>) {
    let v4 = ipv4_packets(rng);
    let v6 = ipv6_packets(rng);
    // Keep the corpora of the other linktypes smaller: all of IPv6 and a
    // sample of IPv4 (whose 128 even TCP flag combinations are many).
    let v4 = v4
        .into_iter()
        .filter(|i| !i.label.starts_with("ipv4/tcp") || rng.chance(30))
        .collect();
    (v4, v6)
}

/// The corpus for a linktype other than Ethernet (`LINKTYPE_*` value).
pub fn for_linktype(rng: &mut Rng, linktype: u32) -> Vec<Frame> {
    if linktype == 1 {
        return ethernet(rng);
    }
    let (v4, v6) = ip_inners(rng);
    let arps = arp_packets(rng);
    let mut out = Vec::new();
    match linktype {
        // RAW, IPV4, IPV6: the bare packets (the wrong version too).
        101 | 228 | 229 => {
            for i in v4.iter().chain(&v6) {
                out.push(Frame::new(i.label.clone(), i.bytes.clone()));
            }
        }
        113 | 276 => {
            let others = other_ethertypes(rng);
            let llc = llc_payloads(rng);
            let mut all: Vec<Inner> = v4.into_iter().chain(v6).chain(arps).chain(others).collect();
            for (label, bytes) in llc {
                all.push(inner(label, 0x0004, bytes));
            }
            // VLAN-tagged and PPPoE payloads inside cooked headers.
            let (tci, _) = random_tci(rng);
            let mut tagged = tci.to_be_bytes().to_vec();
            tagged.extend_from_slice(&0x0800u16.to_be_bytes());
            tagged.extend(V4::new(IPV4[0], IPV4[1], 6).build(&tcp(80, 443, 0x12, &[], &[])));
            all.push(inner("vlan/ipv4/tcp 80>443", 0x8100, tagged));
            let pppoe = pppoe_session(
                0x27,
                0x0021,
                &V4::new(IPV4[1], IPV4[0], 17).build(&udp(53, 53, &[])),
            );
            all.push(inner("pppoes 0x27/ipv4/udp", 0x8864, pppoe));
            for (n, i) in all.iter().enumerate() {
                let pkttype = [0u8, 1, 2, 3, 4][n % 5];
                if linktype == 113 {
                    out.push(Frame::new(
                        format!("sll pkttype {pkttype}/{}", i.label),
                        sll(u16::from(pkttype), i.ethertype, &i.bytes),
                    ));
                } else {
                    let ifindex = [1u32, 2, 3, 7][n % 4];
                    out.push(Frame::new(
                        format!("sll2 if {ifindex} pkttype {pkttype}/{}", i.label),
                        sll2(i.ethertype, ifindex, pkttype, &i.bytes),
                    ));
                }
            }
        }
        // NULL (host byte order, little-endian here) and LOOP (network
        // order): AF_INET 2 and the AF_INET6 values of the BSDs (24, 28, 30),
        // plus unknown families.
        0 | 108 => {
            for (n, i) in v4.iter().chain(&v6).enumerate() {
                let af: u32 = if i.ethertype == 0x0800 {
                    2
                } else {
                    [24u32, 28, 30, 10][n % 4]
                };
                let af = if n % 17 == 0 { 7 } else { af };
                let mut b = if linktype == 0 {
                    af.to_le_bytes()
                } else {
                    af.to_be_bytes()
                }
                .to_vec();
                b.extend_from_slice(&i.bytes);
                out.push(Frame::new(format!("af {af}/{}", i.label), b));
            }
        }
        other => panic!("no corpus for linktype {other}"),
    }
    for n in 0..15 {
        let len = rng.below(80);
        let mut b = rng.bytes(len);
        if n % 2 == 0 && !b.is_empty() && matches!(linktype, 101 | 228 | 229) {
            b[0] = if n % 4 == 0 { 0x45 } else { 0x60 };
        }
        out.push(Frame::new(format!("random {len} bytes"), b));
    }
    truncations(rng, &mut out, 8);
    out
}
