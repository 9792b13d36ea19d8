//! How fast the dissector classifies frames: builds a mix of Ethernet,
//! VLAN, IPv4, IPv6, TCP, UDP and ICMP frames with the crate's own
//! builders and dissects them over and over.
//!
//!     cargo run --release -p sluice-wire --example dissect_speed

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use sluice_wire::dissect::{Classes, Dissection, dissect_into};
use sluice_wire::{EtherType, IpProtocol, LinkType, ethernet, icmpv4, ipv4, ipv6, tcp, udp, vlan};

fn frame(kind: usize, payload: usize) -> Vec<u8> {
    let (a, b) = (Ipv4Addr::new(10, 77, 0, 1), Ipv4Addr::new(10, 77, 0, 2));
    let (a6, b6) = (
        Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 1),
        Ipv6Addr::new(0xfd77, 0, 0, 0, 0, 0, 0, 2),
    );
    let tagged = kind % 5 == 4;
    let v6 = kind % 3 == 2;
    let l4 = kind % 4;
    let l4_len = match l4 {
        0 | 1 => 32 + payload,
        2 => 8 + payload,
        _ => 8 + payload.min(56),
    };
    let l3 = if v6 { 40 } else { 20 };
    let l2 = if tagged { 18 } else { 14 };
    let mut f = vec![0u8; l2 + l3 + l4_len];
    let et = if v6 { EtherType::Ipv6 } else { EtherType::Ipv4 };
    ethernet::Repr {
        src_addr: ethernet::Address([2, 0, 0, 0, 0, 1]),
        dst_addr: ethernet::Address([2, 0, 0, 0, 0, 2]),
        ethertype: if tagged { EtherType::Vlan } else { et },
    }
    .emit(&mut ethernet::Frame::new_unchecked(&mut f[..]));
    if tagged {
        vlan::Repr {
            priority: 0,
            drop_eligible: false,
            vlan_id: 100,
            ethertype: et,
        }
        .emit(&mut vlan::Packet::new_unchecked(&mut f[14..]))
        .unwrap();
    }
    let proto = match (l4, v6) {
        (0 | 1, _) => IpProtocol::Tcp,
        (2, _) => IpProtocol::Udp,
        (_, true) => IpProtocol::Udp,
        (_, false) => IpProtocol::Icmp,
    };
    let (s, d): (IpAddr, IpAddr) = if v6 {
        (a6.into(), b6.into())
    } else {
        (a.into(), b.into())
    };
    if v6 {
        ipv6::Repr {
            src_addr: a6,
            dst_addr: b6,
            next_header: proto,
            payload_len: l4_len,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
        .emit(&mut ipv6::Packet::new_unchecked(&mut f[l2..]))
        .unwrap();
    } else {
        ipv4::Repr {
            src_addr: a,
            dst_addr: b,
            protocol: proto,
            payload_len: l4_len,
            ttl: 64,
            ident: kind as u16,
            dscp: 0,
            ecn: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        }
        .emit(&mut ipv4::Packet::new_unchecked(&mut f[l2..]))
        .unwrap();
    }
    let t = &mut f[l2 + l3..];
    match proto {
        IpProtocol::Tcp => tcp::Repr {
            src_port: 40000,
            dst_port: 80,
            flags: tcp::Flags::ACK,
            timestamp: Some((1, 2)),
            payload_len: payload,
            ..Default::default()
        }
        .emit(&mut tcp::Packet::new_unchecked(t), s, d)
        .unwrap(),
        IpProtocol::Udp => udp::Repr {
            src_port: 53,
            dst_port: 5353,
            payload_len: l4_len - 8,
        }
        .emit(&mut udp::Packet::new_unchecked(t), s, d)
        .unwrap(),
        _ => icmpv4::Repr::EchoRequest {
            ident: 1,
            seq_no: 1,
            data: &vec![0u8; l4_len - 8],
        }
        .emit(&mut icmpv4::Packet::new_unchecked(t)),
    }
    f
}

fn main() {
    // A realistic size mix: many small, some mid, many full-size frames.
    let sizes = [0usize, 0, 20, 100, 500, 1400, 1400, 1400];
    let frames: Vec<Vec<u8>> = (0..240).map(|i| frame(i, sizes[i % sizes.len()])).collect();
    let total_bytes: usize = frames.iter().map(Vec::len).sum();
    let mut d = Dissection::new();
    let mut mix = Classes::NONE;
    let rounds = 40_000;
    let start = Instant::now();
    for _ in 0..rounds {
        for f in &frames {
            dissect_into(&mut d, LinkType::ETHERNET, black_box(f), f.len());
            mix |= d.classes();
        }
    }
    let el = start.elapsed();
    let n = (rounds * frames.len()) as f64;
    println!(
        "{} frames in {:.2?}: {:.1} ns/frame, {:.1} Mframes/s, {:.1} GB/s of frames (avg {} B); mix {}",
        n,
        el,
        el.as_nanos() as f64 / n,
        n / el.as_secs_f64() / 1e6,
        (rounds * total_bytes) as f64 / el.as_secs_f64() / 1e9,
        total_bytes / frames.len(),
        mix
    );
}
