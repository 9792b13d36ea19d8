//! Entry points for the fuzz targets (`dissect`, `wire_views`), kept in
//! the crate so that `cargo test` replays every saved crasher through the
//! very same code.
//!
//! Both functions panic only when an invariant of this crate is broken
//! (that is what a fuzzer looks for); on any input that respects the
//! contracts they return normally.

use core::fmt::Write;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::dissect::{Rest, dissect_captured};
use crate::summary::{Summary, SummaryOptions};
use crate::*;

/// The link types the dissector knows, picked by the first input byte.
const LINKTYPES: [LinkType; 8] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType::LOOP,
];

/// A `fmt::Write` sink that counts and discards.
struct Sink(usize);

impl Write for Sink {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.0 += s.len();
        Ok(())
    }
}

/// Dissects `data` (byte 0 picks the link type, bytes 1..3 how much longer
/// the frame was on the wire) and prints it with every option, checking
/// the dissection's invariants.
pub fn dissect_and_print(data: &[u8]) {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let (extra, frame) = match rest {
        [a, b, frame @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), frame),
        _ => (0, rest),
    };
    let linktype = if sel & 0x80 != 0 {
        LinkType(u32::from(sel))
    } else {
        LINKTYPES[usize::from(sel) % LINKTYPES.len()]
    };
    let d = dissect_captured(linktype, frame, frame.len() + extra);
    let mut prev = 0usize;
    for l in d.layers() {
        assert!(l.offset as usize >= prev, "layers overlap: {d:?}");
        assert!(
            l.payload_offset() <= frame.len(),
            "header past the capture: {d:?}"
        );
        prev = l.payload_offset();
    }
    let r = d.payload();
    assert!(r.start <= r.end && r.end <= frame.len());
    assert_eq!(d.error().is_some(), d.rest() == Rest::Stopped);
    if let Some(e) = d.error() {
        assert!(e.offset() <= frame.len() + extra);
        let mut s = Sink(0);
        let _ = write!(s, "{e}");
    }
    for link_header in [false, true] {
        for verbose in [false, true] {
            let o = SummaryOptions {
                link_header,
                verbose,
            };
            let mut s = Sink(0);
            write!(s, "{}", Summary::new(frame, &d, o)).expect("summary never fails");
        }
    }
}

fn show<T: core::fmt::Display>(t: &T) {
    let mut s = Sink(0);
    let _ = write!(s, "{t}");
}

/// Byte 0 picks a view; the rest goes through its `new_checked`, every
/// accessor, `Display`, `Repr::parse`, and `Repr::emit` into a buffer of
/// exactly `buffer_len()` bytes, which must parse back to the same `Repr`.
pub fn exercise_views(data: &[u8]) {
    let Some((&sel, b)) = data.split_first() else {
        return;
    };
    let v4 = (
        IpAddr::V4(Ipv4Addr::new(10, 77, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(10, 77, 0, 2)),
    );
    let a6 = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1);
    let b6 = Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2);
    match sel % 24 {
        0 => {
            if let Ok(p) = ethernet::Frame::new_checked(b) {
                let _ = (
                    p.dst_addr(),
                    p.src_addr(),
                    p.ethertype(),
                    p.is_8023(),
                    p.payload(),
                );
                show(&p);
                let r = ethernet::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut ethernet::Frame::new_unchecked(&mut out[..]));
                assert_eq!(
                    ethernet::Repr::parse(&ethernet::Frame::new_checked(&out[..]).unwrap())
                        .unwrap(),
                    r
                );
            }
        }
        1 => {
            if let Ok(p) = vlan::Packet::new_checked(b) {
                let _ = (
                    p.priority(),
                    p.drop_eligible(),
                    p.vlan_id(),
                    p.ethertype(),
                    p.payload(),
                );
                show(&p);
                let r = vlan::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut vlan::Packet::new_unchecked(&mut out[..]))
                    .unwrap();
                assert_eq!(
                    vlan::Repr::parse(&vlan::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                    r
                );
            }
        }
        2 => {
            if let Ok(p) = arp::Packet::new_checked(b) {
                let _ = (p.hardware_type(), p.protocol_type(), p.operation());
                let _ = (p.source_hardware_addr(), p.source_protocol_addr());
                let _ = (p.target_hardware_addr(), p.target_protocol_addr());
                show(&p);
                if let Ok(r) = arp::Repr::parse(&p) {
                    let mut out = vec![0; r.buffer_len()];
                    r.emit(&mut arp::Packet::new_unchecked(&mut out[..]));
                    assert_eq!(
                        arp::Repr::parse(&arp::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                        r
                    );
                }
            }
        }
        3 => {
            if let Ok(p) = ipv4::Packet::new_checked(b) {
                let _ = (p.version(), p.dscp(), p.ecn(), p.total_len(), p.ident());
                let _ = (p.dont_frag(), p.more_frags(), p.frag_offset(), p.ttl());
                let _ = (p.protocol(), p.checksum(), p.src_addr(), p.dst_addr());
                let _ = (p.options(), p.verify_checksum(), p.payload(), p.is_cut());
                for o in p.option_iter() {
                    let _ = o;
                }
                show(&p);
                if let Ok(r) = ipv4::Repr::parse(&p) {
                    let mut out = vec![0; r.buffer_len()];
                    r.emit(&mut ipv4::Packet::new_unchecked(&mut out[..]))
                        .unwrap();
                    let q = ipv4::Packet::new_checked(&out[..]).unwrap();
                    assert!(q.verify_checksum());
                    assert_eq!(ipv4::Repr::parse(&q).unwrap(), r);
                }
            }
        }
        4 => {
            if let Ok(p) = ipv6::Packet::new_checked(b) {
                let _ = (
                    p.version(),
                    p.traffic_class(),
                    p.flow_label(),
                    p.payload_len(),
                );
                let _ = (
                    p.next_header(),
                    p.hop_limit(),
                    p.src_addr(),
                    p.dst_addr(),
                    p.payload(),
                );
                show(&p);
                for h in ipv6_ext::Walk::new(p.next_header(), p.payload()) {
                    let _ = h;
                }
                if let Ok(r) = ipv6::Repr::parse(&p) {
                    let mut out = vec![0; r.buffer_len()];
                    r.emit(&mut ipv6::Packet::new_unchecked(&mut out[..]))
                        .unwrap();
                    assert_eq!(
                        ipv6::Repr::parse(&ipv6::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                        r
                    );
                }
            }
        }
        5 => {
            if let Ok(h) = ipv6_ext::Header::new_checked(b) {
                let _ = (
                    h.next_header(),
                    h.header_len(),
                    h.data(),
                    h.routing_type(),
                    h.segments_left(),
                );
                for o in h.options() {
                    let _ = o;
                }
                show(&h);
                let r = ipv6_ext::Repr::parse(&h).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut ipv6_ext::Header::new_unchecked(&mut out[..]))
                    .unwrap();
                let q = ipv6_ext::Header::new_checked(&out[..]).unwrap();
                assert_eq!(ipv6_ext::Repr::parse(&q).unwrap(), r);
            }
        }
        6 => {
            if let Ok(h) = ipv6_fragment::Header::new_checked(b) {
                show(&h);
                let r = ipv6_fragment::Repr::parse(&h).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut ipv6_fragment::Header::new_unchecked(&mut out[..]))
                    .unwrap();
                assert_eq!(
                    ipv6_fragment::Repr::parse(
                        &ipv6_fragment::Header::new_checked(&out[..]).unwrap()
                    )
                    .unwrap(),
                    r
                );
            }
        }
        7 => {
            if let Ok(h) = ah::Header::new_checked(b) {
                let _ = (h.next_header(), h.spi(), h.sequence(), h.icv());
                show(&h);
                let r = ah::Repr::parse(&h).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut ah::Header::new_unchecked(&mut out[..]))
                    .unwrap();
                let q = ah::Header::new_checked(&out[..]).unwrap();
                assert_eq!(ah::Repr::parse(&q).unwrap(), r);
            }
        }
        8 => {
            if let Ok(p) = icmpv4::Packet::new_checked(b) {
                let _ = (
                    p.msg_type(),
                    p.msg_code(),
                    p.checksum(),
                    p.echo_ident(),
                    p.echo_seq_no(),
                );
                let _ = (
                    p.pointer(),
                    p.gateway(),
                    p.next_hop_mtu(),
                    p.data(),
                    p.verify_checksum(),
                );
                let _ = p.invoking_packet().map(|i| i.payload().len());
                show(&p);
                let r = icmpv4::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut icmpv4::Packet::new_unchecked(&mut out[..]));
                let q = icmpv4::Packet::new_checked(&out[..]).unwrap();
                assert!(q.verify_checksum());
                assert_eq!(icmpv4::Repr::parse(&q).unwrap(), r);
            }
        }
        9 => {
            if let Ok(p) = icmpv6::Packet::new_checked(b) {
                let _ = (p.msg_type(), p.msg_code(), p.checksum(), p.data());
                for o in p.ndisc_options() {
                    let _ = o.map(|o| show(&o));
                }
                show(&p);
                if p.check_header_len().is_ok() {
                    let _ = (p.rest_of_header(), p.echo_ident(), p.mtu(), p.pointer());
                }
                if let Ok(r) = icmpv6::Repr::parse(&p) {
                    let mut out = vec![0; r.buffer_len()];
                    r.emit(&mut icmpv6::Packet::new_unchecked(&mut out[..]), a6, b6)
                        .unwrap();
                    let q = icmpv6::Packet::new_checked(&out[..]).unwrap();
                    assert!(q.verify_checksum(a6, b6));
                    assert_eq!(icmpv6::Repr::parse(&q).unwrap(), r);
                }
            }
        }
        10 => {
            if let Ok(p) = tcp::Packet::new_checked(b) {
                let _ = (
                    p.src_port(),
                    p.dst_port(),
                    p.seq_number(),
                    p.ack_number(),
                    p.flags(),
                );
                let _ = (p.window_len(), p.checksum(), p.urgent_at(), p.payload());
                let _ = p.verify_checksum(v4.0, v4.1);
                for o in p.option_iter() {
                    let _ = o.map(|o| show(&o));
                }
                show(&p);
                if let Ok(r) = tcp::Repr::parse(&p) {
                    let mut out = vec![0; r.buffer_len()];
                    if r.emit(&mut tcp::Packet::new_unchecked(&mut out[..]), v4.0, v4.1)
                        .is_ok()
                    {
                        let q = tcp::Packet::new_checked(&out[..]).unwrap();
                        assert!(q.verify_checksum(v4.0, v4.1));
                        assert_eq!(tcp::Repr::parse(&q).unwrap(), r);
                    }
                }
            }
        }
        11 => {
            if let Ok(p) = udp::Packet::new_checked(b) {
                let _ = (
                    p.src_port(),
                    p.dst_port(),
                    p.len(),
                    p.checksum(),
                    p.payload(),
                );
                let _ = p.verify_checksum(v4.0, v4.1);
                show(&p);
                let r = udp::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut udp::Packet::new_unchecked(&mut out[..]), v4.0, v4.1)
                    .unwrap();
                let q = udp::Packet::new_checked(&out[..]).unwrap();
                assert!(q.verify_checksum(v4.0, v4.1));
                assert_eq!(udp::Repr::parse(&q).unwrap(), r);
            }
        }
        12 => {
            if let Ok(p) = sctp::Packet::new_checked(b) {
                let _ = (
                    p.src_port(),
                    p.dst_port(),
                    p.verification_tag(),
                    p.verify_checksum(),
                );
                for c in p.chunks() {
                    let _ = c;
                }
                show(&p);
                let r = sctp::Repr::parse(&p).unwrap();
                let mut out = b.to_vec();
                r.emit(&mut sctp::Packet::new_unchecked(&mut out[..]));
                let q = sctp::Packet::new_checked(&out[..]).unwrap();
                assert!(q.verify_checksum());
                assert_eq!(sctp::Repr::parse(&q).unwrap(), r);
            }
        }
        13 => {
            if let Ok(p) = sll::Packet::new_checked(b) {
                let _ = (
                    p.packet_type(),
                    p.arphrd_type(),
                    p.addr_len(),
                    p.addr(),
                    p.protocol(),
                );
                show(&p);
                let r = sll::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut sll::Packet::new_unchecked(&mut out[..]));
                assert_eq!(
                    sll::Repr::parse(&sll::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                    r
                );
            }
        }
        14 => {
            if let Ok(p) = sll2::Packet::new_checked(b) {
                let _ = (
                    p.protocol(),
                    p.if_index(),
                    p.arphrd_type(),
                    p.packet_type(),
                    p.addr(),
                );
                show(&p);
                let r = sll2::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut sll2::Packet::new_unchecked(&mut out[..]));
                assert_eq!(
                    sll2::Repr::parse(&sll2::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                    r
                );
            }
        }
        15 => {
            if let Ok(p) = loopback::Packet::new_checked(b) {
                show(&p);
                let r = loopback::Repr::parse_null(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut loopback::Packet::new_unchecked(&mut out[..]));
                let q = loopback::Packet::new_checked(&out[..]).unwrap();
                assert_eq!(loopback::Repr::parse_null(&q).unwrap().family, r.family);
                let r = loopback::Repr::parse_loop(&p).unwrap();
                r.emit(&mut loopback::Packet::new_unchecked(&mut out[..]));
                assert_eq!(loopback::Repr::parse_loop(&q_of(&out)).unwrap(), r);
            }
        }
        16 => {
            if let Ok(p) = mpls::Packet::new_checked(b) {
                show(&p);
                let r = mpls::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut mpls::Packet::new_unchecked(&mut out[..]))
                    .unwrap();
                assert_eq!(
                    mpls::Repr::parse(&mpls::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                    r
                );
            }
        }
        17 => {
            if let Ok(p) = pppoe::Packet::new_checked(b) {
                let _ = (
                    p.version(),
                    p.ptype(),
                    p.code(),
                    p.session_id(),
                    p.ppp_protocol(),
                    p.payload(),
                );
                show(&p);
                if let Ok(r) = pppoe::Repr::parse(&p) {
                    let mut out = vec![0; r.buffer_len()];
                    r.emit(&mut pppoe::Packet::new_unchecked(&mut out[..]))
                        .unwrap();
                    assert_eq!(
                        pppoe::Repr::parse(&pppoe::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                        r
                    );
                }
            }
        }
        18 => {
            if let Ok(p) = llc::Packet::new_checked(b) {
                let _ = (p.dsap(), p.ssap(), p.control(), p.ethertype(), p.payload());
                show(&p);
                let r = llc::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut llc::Packet::new_unchecked(&mut out[..]));
                assert_eq!(
                    llc::Repr::parse(&llc::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                    r
                );
            }
        }
        19 => {
            if let Ok(p) = esp::Packet::new_checked(b) {
                show(&p);
                let r = esp::Repr::parse(&p).unwrap();
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut esp::Packet::new_unchecked(&mut out[..]));
                assert_eq!(
                    esp::Repr::parse(&esp::Packet::new_checked(&out[..]).unwrap()).unwrap(),
                    r
                );
            }
        }
        20 => {
            for o in ndisc_option::OptionIter::new(b) {
                let Ok(r) = o else { break };
                show(&r);
                let mut out = vec![0; r.buffer_len()];
                r.emit(&mut ndisc_option::NdiscOption::new_unchecked(&mut out[..]))
                    .unwrap();
                let got = ndisc_option::OptionIter::new(&out).next().unwrap().unwrap();
                assert_eq!(got, r);
            }
        }
        21 => {
            // Incremental checksum updates against a full recompute.
            if b.len() >= 24 {
                let mut buf = b.to_vec();
                buf[0] = 0;
                buf[1] = 0;
                let c0 = !checksum::data(&buf);
                buf[..2].copy_from_slice(&c0.to_be_bytes());
                let old = [buf[4], buf[5], buf[6], buf[7]];
                let new = [b[20], b[21], b[22], b[23]];
                buf[4..8].copy_from_slice(&new);
                let c1 = checksum::update_u32(c0, u32::from_be_bytes(old), u32::from_be_bytes(new));
                buf[..2].copy_from_slice(&c1.to_be_bytes());
                // All-zero data is the one case where RFC 1624's
                // equation gives the other zero (see `update_u16`).
                let all_zero = buf[2..].iter().all(|&x| x == 0);
                assert!(checksum::data(&buf) == 0xffff || all_zero);
            }
        }
        22 => {
            // TCP checksum over IPv6 and NAT-style rewrites.
            if let Ok(mut buf) = tcp::Packet::new_checked(b.to_vec()) {
                let (s, d) = (IpAddr::V6(a6), IpAddr::V6(b6));
                buf.fill_checksum(s, d);
                buf.set_src_port_update_checksum(b.len() as u16);
                buf.update_checksum_for_addr(d, v4.1);
                let _ = buf.verify_checksum(s, d);
            }
        }
        _ => {
            if let Ok(mut p) = ipv4::Packet::new_checked(b.to_vec()) {
                p.fill_checksum();
                p.set_ttl_update_checksum(p.ttl().wrapping_sub(1));
                p.set_src_addr_update_checksum(Ipv4Addr::new(10, 77, 1, 1));
                assert!(p.verify_checksum());
            }
        }
    }
}

fn q_of(b: &[u8]) -> loopback::Packet<&[u8]> {
    loopback::Packet::new_unchecked(b)
}
