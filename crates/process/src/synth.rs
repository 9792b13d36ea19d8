//! Deterministic synthetic traffic: a reproducible mix of Ethernet frames
//! (VLAN and QinQ tags, ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6) with a
//! realistic size mix and nanosecond timestamps, for demos, tests and
//! benchmarks. The same seed always gives the same bytes.
//!
//! Addresses are lab addresses only (10.77.0.0/16, fd77::/16, locally
//! administered MACs).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sluice_wire::ethernet::{self, Address as Mac};
use sluice_wire::ethertype::EtherType;
use sluice_wire::ip_protocol::IpProtocol;
use sluice_wire::tcp::Flags;
use sluice_wire::{arp, icmpv4, icmpv6, ipv4, ipv6, tcp, udp, vlan};

/// Settings of the generator.
#[derive(Clone, Copy, Debug)]
pub struct SynthOptions {
    /// Seed of the pseudo-random sequence.
    pub seed: u64,
    /// Timestamp of the first frame, ns since the epoch.
    pub start_ns: u64,
}

impl Default for SynthOptions {
    fn default() -> SynthOptions {
        SynthOptions {
            seed: 1,
            // 2023-11-14 22:13:20 UTC
            start_ns: 1_700_000_000_000_000_000,
        }
    }
}

/// splitmix64: small, fast, and the same on every platform and version.
#[derive(Clone, Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// A generator of frames; see the module docs.
#[derive(Clone, Debug)]
pub struct Synth {
    rng: Rng,
    ts: u64,
    buf: Vec<u8>,
    seq: u32,
}

/// Largest frame the generator makes (Ethernet, two tags, 1500-byte IP).
pub const MAX_FRAME: usize = 14 + 8 + 1500;

enum Tags {
    None,
    Vlan(u16),
    QinQ(u16, u16),
}

enum L4 {
    Tcp,
    Udp,
    Icmp,
}

impl Synth {
    /// A generator with these settings.
    pub fn new(opts: SynthOptions) -> Synth {
        Synth {
            rng: Rng(opts.seed),
            ts: opts.start_ns,
            buf: vec![0; MAX_FRAME],
            seq: 1,
        }
    }

    /// The next frame (Ethernet, linktype EN10MB) and its timestamp.
    pub fn next_frame(&mut self) -> (u64, &[u8]) {
        // Inter-arrival: mostly tens of microseconds, sometimes a pause.
        let gap = if self.rng.chance(2) {
            self.rng.below(50_000_000)
        } else {
            self.rng.below(120_000)
        };
        self.ts = self.ts.saturating_add(gap + 1);
        let len = self.fill();
        (self.ts, &self.buf[..len])
    }

    fn host_v4(&mut self) -> Ipv4Addr {
        let net = self.rng.below(20) as u8;
        let host = 1 + self.rng.below(60) as u8;
        Ipv4Addr::new(10, 77, net, host)
    }

    fn host_v6(&mut self) -> Ipv6Addr {
        let net = self.rng.below(20) as u16;
        let host = 1 + self.rng.below(60) as u16;
        Ipv6Addr::new(0xfd77, net, 0, 0, 0, 0, 0, host)
    }

    fn mac_for(&self, host: u32) -> Mac {
        let b = host.to_be_bytes();
        Mac([0x02, 0x77, b[0], b[1], b[2], b[3]])
    }

    /// IP payload length for a frame: a trimodal mix of small (ACKs,
    /// DNS), medium and full-size frames, as seen on real links.
    fn ip_len(&mut self, min: usize) -> usize {
        let l = match self.rng.below(100) {
            0..=39 => 40 + self.rng.below(40) as usize,
            40..=59 => 80 + self.rng.below(520) as usize,
            _ => 1300 + self.rng.below(201) as usize,
        };
        l.max(min)
    }

    /// Writes one frame into `self.buf`; returns its length.
    fn fill(&mut self) -> usize {
        let tags = match self.rng.below(100) {
            0..=5 => Tags::Vlan(if self.rng.chance(50) { 100 } else { 200 }),
            6 => Tags::QinQ(300, 100 + self.rng.below(4) as u16),
            _ => Tags::None,
        };
        let kind = self.rng.below(100);
        let src_host = self.rng.next() as u32;
        let dst_host = self.rng.next() as u32;
        let src_mac = self.mac_for(src_host);
        let mut dst_mac = self.mac_for(dst_host);
        let inner = match kind {
            0..=2 => EtherType::Arp,
            3..=14 => EtherType::Ipv6,
            _ => EtherType::Ipv4,
        };
        if inner == EtherType::Arp {
            dst_mac = Mac::BROADCAST;
        }
        // Link header and tags.
        let mut off = ethernet::HEADER_LEN;
        let first_type = match tags {
            Tags::None => inner,
            Tags::Vlan(_) => EtherType::Vlan,
            Tags::QinQ(..) => EtherType::QinQ,
        };
        let eth = ethernet::Repr {
            src_addr: src_mac,
            dst_addr: dst_mac,
            ethertype: first_type,
        };
        eth.emit(&mut ethernet::Frame::new_unchecked(&mut self.buf[..]));
        let push_tag = |buf: &mut [u8], off: &mut usize, id: u16, next: EtherType| {
            let repr = vlan::Repr {
                priority: 0,
                drop_eligible: false,
                vlan_id: id,
                ethertype: next,
            };
            // A 12-bit id and a known EtherType always fit.
            let _ = repr.emit(&mut vlan::Packet::new_unchecked(&mut buf[*off..]));
            *off += vlan::HEADER_LEN;
        };
        match tags {
            Tags::None => {}
            Tags::Vlan(id) => push_tag(&mut self.buf, &mut off, id, inner),
            Tags::QinQ(outer, id) => {
                push_tag(&mut self.buf, &mut off, outer, EtherType::Vlan);
                push_tag(&mut self.buf, &mut off, id, inner);
            }
        }
        let end = match inner {
            EtherType::Arp => self.arp(off, src_mac),
            EtherType::Ipv6 => self.ipv6(off),
            _ => self.ipv4(off),
        };
        // Pad to the Ethernet minimum as a NIC would.
        let min = 60;
        if end < min {
            self.buf[end..min].fill(0);
            min
        } else {
            end
        }
    }

    fn arp(&mut self, off: usize, src_mac: Mac) -> usize {
        let request = self.rng.chance(60);
        let a = self.host_v4();
        let b = self.host_v4();
        let repr = arp::Repr {
            operation: if request {
                arp::Operation::Request
            } else {
                arp::Operation::Reply
            },
            source_hardware_addr: src_mac,
            source_protocol_addr: a,
            target_hardware_addr: if request {
                Mac([0; 6])
            } else {
                self.mac_for(u32::from(b))
            },
            target_protocol_addr: b,
        };
        repr.emit(&mut arp::Packet::new_unchecked(&mut self.buf[off..]));
        off + 28
    }

    fn l4(&mut self) -> L4 {
        match self.rng.below(100) {
            0..=69 => L4::Tcp,
            70..=94 => L4::Udp,
            _ => L4::Icmp,
        }
    }

    fn ports(&mut self) -> (u16, u16) {
        let service = [80u16, 443, 53, 22, 123, 8080, 5353][self.rng.below(7) as usize];
        let ephemeral = 32_768 + self.rng.below(28_000) as u16;
        if self.rng.chance(50) {
            (ephemeral, service)
        } else {
            (service, ephemeral)
        }
    }

    fn ipv4(&mut self, off: usize) -> usize {
        let src = self.host_v4();
        let dst = self.host_v4();
        let l4 = self.l4();
        let min = match l4 {
            L4::Tcp => 40,
            L4::Udp => 28,
            L4::Icmp => 28,
        };
        let total = self.ip_len(min);
        let payload = total - ipv4::HEADER_LEN;
        let protocol = match l4 {
            L4::Tcp => IpProtocol::Tcp,
            L4::Udp => IpProtocol::Udp,
            L4::Icmp => IpProtocol::Icmp,
        };
        let repr = ipv4::Repr {
            src_addr: src,
            dst_addr: dst,
            protocol,
            payload_len: payload,
            ttl: 64,
            ident: self.rng.next() as u16,
            dscp: 0,
            ecn: 0,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        };
        let at = off + ipv4::HEADER_LEN;
        self.transport(at, payload, l4, IpAddr::V4(src), IpAddr::V4(dst));
        // The header goes last only because the transport writer borrows
        // the buffer; its checksum does not depend on the payload.
        let _ = repr.emit(&mut ipv4::Packet::new_unchecked(&mut self.buf[off..]));
        at + payload
    }

    fn ipv6(&mut self, off: usize) -> usize {
        let src = self.host_v6();
        let dst = self.host_v6();
        let l4 = self.l4();
        let min = match l4 {
            L4::Tcp => 60,
            L4::Udp => 48,
            L4::Icmp => 48,
        };
        let payload = self.ip_len(min) - ipv6::HEADER_LEN;
        let next_header = match l4 {
            L4::Tcp => IpProtocol::Tcp,
            L4::Udp => IpProtocol::Udp,
            L4::Icmp => IpProtocol::Icmpv6,
        };
        let repr = ipv6::Repr {
            src_addr: src,
            dst_addr: dst,
            next_header,
            payload_len: payload,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: self.rng.below(1 << 20) as u32,
        };
        let _ = repr.emit(&mut ipv6::Packet::new_unchecked(&mut self.buf[off..]));
        let at = off + ipv6::HEADER_LEN;
        self.transport(at, payload, l4, IpAddr::V6(src), IpAddr::V6(dst));
        at + payload
    }

    fn transport(&mut self, at: usize, len: usize, l4: L4, src: IpAddr, dst: IpAddr) {
        let fill = self.rng.next() as u8;
        match l4 {
            L4::Tcp => {
                let (sp, dp) = self.ports();
                let flags = match self.rng.below(100) {
                    0..=2 => Flags::SYN,
                    3..=5 => Flags(Flags::SYN.0 | Flags::ACK.0),
                    6..=7 => Flags(Flags::FIN.0 | Flags::ACK.0),
                    8 => Flags::RST,
                    9..=49 => Flags::ACK,
                    _ => Flags(Flags::PSH.0 | Flags::ACK.0),
                };
                let syn = flags.0 & Flags::SYN.0 != 0;
                let mut repr = tcp::Repr {
                    src_port: sp,
                    dst_port: dp,
                    flags,
                    seq_number: self.seq,
                    ack_number: if flags.0 & Flags::ACK.0 != 0 {
                        self.rng.next() as u32
                    } else {
                        0
                    },
                    window_len: 64_240,
                    urgent_at: 0,
                    max_seg_size: syn.then_some(1460),
                    window_scale: syn.then_some(7),
                    sack_permitted: syn,
                    sack_ranges: [None; 3],
                    timestamp: Some((self.seq, self.seq.wrapping_sub(1000))),
                    payload_len: 0,
                };
                let header = repr.buffer_len();
                let header = if header > len {
                    repr.timestamp = None;
                    repr.max_seg_size = None;
                    repr.window_scale = None;
                    repr.sack_permitted = false;
                    repr.buffer_len()
                } else {
                    header
                };
                repr.payload_len = len.saturating_sub(header);
                self.seq = self.seq.wrapping_add(repr.payload_len as u32 + 1);
                self.buf[at + header..at + len].fill(fill);
                let _ = repr.emit(
                    &mut tcp::Packet::new_unchecked(&mut self.buf[at..at + len]),
                    src,
                    dst,
                );
            }
            L4::Udp => {
                let (sp, dp) = self.ports();
                let repr = udp::Repr {
                    src_port: sp,
                    dst_port: dp,
                    payload_len: len - udp::HEADER_LEN,
                };
                self.buf[at + udp::HEADER_LEN..at + len].fill(fill);
                let _ = repr.emit(
                    &mut udp::Packet::new_unchecked(&mut self.buf[at..at + len]),
                    src,
                    dst,
                );
            }
            L4::Icmp => {
                let ident = self.rng.next() as u16;
                let seq_no = self.seq as u16;
                let data = vec![fill; len - 8];
                let reply = self.rng.chance(50);
                match (src, dst) {
                    (IpAddr::V6(s), IpAddr::V6(d)) => {
                        let repr = if reply {
                            icmpv6::Repr::EchoReply {
                                ident,
                                seq_no,
                                data: &data,
                            }
                        } else {
                            icmpv6::Repr::EchoRequest {
                                ident,
                                seq_no,
                                data: &data,
                            }
                        };
                        let _ = repr.emit(
                            &mut icmpv6::Packet::new_unchecked(&mut self.buf[at..at + len]),
                            s,
                            d,
                        );
                    }
                    _ => {
                        let repr = if reply {
                            icmpv4::Repr::EchoReply {
                                ident,
                                seq_no,
                                data: &data,
                            }
                        } else {
                            icmpv4::Repr::EchoRequest {
                                ident,
                                seq_no,
                                data: &data,
                            }
                        };
                        repr.emit(&mut icmpv4::Packet::new_unchecked(
                            &mut self.buf[at..at + len],
                        ));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_wire::LinkType;
    use sluice_wire::dissect::{Classes, dissect};

    #[test]
    fn deterministic_and_well_formed() {
        let mut a = Synth::new(SynthOptions::default());
        let mut b = Synth::new(SynthOptions::default());
        let mut seen = Classes::NONE;
        let mut prev = 0;
        for _ in 0..20_000 {
            let (ts, fa) = a.next_frame();
            let fa = fa.to_vec();
            let (tb, fb) = b.next_frame();
            assert_eq!((ts, &fa[..]), (tb, fb));
            assert!(ts > prev);
            prev = ts;
            assert!(fa.len() >= 60 && fa.len() <= MAX_FRAME, "{}", fa.len());
            let d = dissect(LinkType::ETHERNET, &fa);
            assert!(d.error().is_none(), "{:?} in {:02x?}", d.error(), fa);
            seen.insert(d.classes());
        }
        for c in [
            Classes::VLAN,
            Classes::ARP,
            Classes::IPV4,
            Classes::IPV6,
            Classes::TCP,
            Classes::UDP,
            Classes::ICMP,
            Classes::ICMPV6,
        ] {
            assert!(seen.contains(c), "no {c:?} in the mix");
        }
    }

    #[test]
    fn checksums_are_right() {
        let mut s = Synth::new(SynthOptions {
            seed: 7,
            ..SynthOptions::default()
        });
        for _ in 0..2_000 {
            let (_, f) = s.next_frame();
            let d = dissect(LinkType::ETHERNET, f);
            if let Some(ip) = d.find(sluice_wire::error::Protocol::Ipv4) {
                let start = ip.offset as usize;
                assert!(sluice_wire::checksum::verify_ipv4_header(
                    &f[start..start + 20]
                ));
            }
        }
    }
}
