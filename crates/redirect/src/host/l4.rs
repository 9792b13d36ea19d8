//! What host mode needs to know of an IP packet's layers, as pure
//! functions: where the transport header starts, completing a partial
//! checksum, and cutting a TCP packet larger than the MTU into segments
//! (software segmentation, for GSO packets a handler stole and injects
//! later, which a raw socket refuses whole).
//!
//! The bytes start at the IP header (host mode's RAW link type). Nothing
//! here panics on any input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sluice_wire::{IpProtocol, checksum};

/// TCP.
pub const TCP: u8 = 6;
/// UDP.
pub const UDP: u8 = 17;

/// Where an IP packet's transport layer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct L4 {
    /// The IP header's addresses.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// The transport protocol (after IPv6 extension headers).
    pub protocol: u8,
    /// Offset of the transport header.
    pub offset: usize,
    /// End of the IP datagram in the bytes (its length field, or the
    /// bytes' length when that is shorter or the field is 0, as in GSO
    /// packets larger than 64 KiB).
    pub end: usize,
    /// A fragment (or a first fragment): no transport checksum can be
    /// computed over it.
    pub fragment: bool,
}

/// Finds the transport layer of an IPv4 or IPv6 packet; `None` when the
/// headers are cut or are not IP.
pub fn locate(p: &[u8]) -> Option<L4> {
    match p.first()? >> 4 {
        4 => {
            let ihl = usize::from(p[0] & 0x0f) * 4;
            if ihl < 20 || p.len() < ihl {
                return None;
            }
            let total = usize::from(u16::from_be_bytes([p[2], p[3]]));
            let end = if total == 0 || total > p.len() {
                p.len()
            } else {
                total
            };
            let frag = u16::from_be_bytes([p[6], p[7]]);
            let src = Ipv4Addr::new(p[12], p[13], p[14], p[15]);
            let dst = Ipv4Addr::new(p[16], p[17], p[18], p[19]);
            Some(L4 {
                src: IpAddr::V4(src),
                dst: IpAddr::V4(dst),
                protocol: p[9],
                offset: ihl.min(end),
                end,
                fragment: frag & 0x3fff != 0,
            })
        }
        6 => {
            if p.len() < 40 {
                return None;
            }
            let plen = usize::from(u16::from_be_bytes([p[4], p[5]]));
            let end = if plen == 0 || 40 + plen > p.len() {
                p.len()
            } else {
                40 + plen
            };
            let mut a = [0u8; 16];
            a.copy_from_slice(&p[8..24]);
            let src = Ipv6Addr::from(a);
            a.copy_from_slice(&p[24..40]);
            let dst = Ipv6Addr::from(a);
            let mut next = p[6];
            let mut off = 40;
            let mut fragment = false;
            // At most eight extension headers: more is an attack, not a
            // packet.
            for _ in 0..8 {
                match next {
                    0 | 43 | 60 => {
                        let h = p.get(off..off + 2)?;
                        next = h[0];
                        off += (usize::from(h[1]) + 1) * 8;
                    }
                    51 => {
                        let h = p.get(off..off + 2)?;
                        next = h[0];
                        off += (usize::from(h[1]) + 2) * 4;
                    }
                    44 => {
                        let h = p.get(off..off + 8)?;
                        next = h[0];
                        fragment = true;
                        off += 8;
                        break;
                    }
                    _ => break,
                }
            }
            if off > end {
                return None;
            }
            Some(L4 {
                src: IpAddr::V6(src),
                dst: IpAddr::V6(dst),
                protocol: next,
                offset: off,
                end,
                fragment,
            })
        }
        _ => None,
    }
}

/// Offset of the checksum field in a TCP or UDP header.
pub fn checksum_field(protocol: u8) -> Option<usize> {
    match protocol {
        TCP => Some(16),
        UDP => Some(6),
        _ => None,
    }
}

/// Computes and stores the full TCP or UDP checksum of the packet (the
/// checksum field's old value — a partial pseudo-header sum — is
/// ignored). Returns false, changing nothing, for other protocols,
/// fragments and cut headers.
pub fn complete_checksum(p: &mut [u8]) -> bool {
    let Some(l) = locate(p) else { return false };
    let Some(field) = checksum_field(l.protocol) else {
        return false;
    };
    if l.fragment || l.offset + field + 2 > l.end {
        return false;
    }
    let seg = &p[l.offset..l.end];
    let mut c = checksum::transport(l.src, l.dst, IpProtocol::from(l.protocol), seg, field);
    if l.protocol == UDP {
        c = checksum::udp_value(c);
    }
    p[l.offset + field..l.offset + field + 2].copy_from_slice(&c.to_be_bytes());
    true
}

/// Why [`segment_tcp`] could not cut a packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentError {
    /// Not a whole, unfragmented TCP packet.
    NotTcp,
    /// The MTU leaves no room for payload after the headers.
    MtuTooSmall,
}

/// Cuts a TCP packet into packets of at most `mtu` bytes, as the kernel's
/// GSO would: the headers are copied into each, the IPv4 identification
/// counts up, sequence numbers advance, FIN and PSH stay on the last
/// segment only and CWR on the first, and every length and checksum is
/// recomputed. A packet that already fits comes back as it is.
pub fn segment_tcp(p: &[u8], mtu: usize) -> Result<Vec<Vec<u8>>, SegmentError> {
    let l = locate(p).ok_or(SegmentError::NotTcp)?;
    if l.protocol != TCP || l.fragment || l.offset + 20 > l.end {
        return Err(SegmentError::NotTcp);
    }
    let p = &p[..l.end];
    if p.len() <= mtu {
        return Ok(vec![p.to_vec()]);
    }
    let thl = usize::from(p[l.offset + 12] >> 4) * 4;
    let hdr = l.offset + thl;
    if thl < 20 || hdr > p.len() {
        return Err(SegmentError::NotTcp);
    }
    let mss = mtu
        .checked_sub(hdr)
        .filter(|&m| m > 0)
        .ok_or(SegmentError::MtuTooSmall)?;
    let payload = &p[hdr..];
    let seq0 = u32::from_be_bytes([
        p[l.offset + 4],
        p[l.offset + 5],
        p[l.offset + 6],
        p[l.offset + 7],
    ]);
    let flags0 = p[l.offset + 13];
    let v4 = p[0] >> 4 == 4;
    let id0 = u16::from_be_bytes([p[4], p[5]]);
    let count = payload.len().div_ceil(mss);
    let mut out = Vec::with_capacity(count);
    for (i, chunk) in payload.chunks(mss).enumerate() {
        let mut s = Vec::with_capacity(hdr + chunk.len());
        s.extend_from_slice(&p[..hdr]);
        s.extend_from_slice(chunk);
        let len = s.len();
        if v4 {
            s[2..4].copy_from_slice(&(len as u16).to_be_bytes());
            s[4..6].copy_from_slice(&id0.wrapping_add(i as u16).to_be_bytes());
            let c = checksum::ipv4_header(&s[..l.offset]);
            s[10..12].copy_from_slice(&c.to_be_bytes());
        } else {
            s[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
        }
        let seq = seq0.wrapping_add((i * mss) as u32);
        s[l.offset + 4..l.offset + 8].copy_from_slice(&seq.to_be_bytes());
        let mut flags = flags0;
        if i + 1 < count {
            flags &= !(0x01 | 0x08); // FIN, PSH
        }
        if i > 0 {
            flags &= !0x80; // CWR
        }
        s[l.offset + 13] = flags;
        complete_checksum(&mut s);
        out.push(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tcp4(payload: &[u8]) -> Vec<u8> {
        let mut p = vec![
            0x45,
            0,
            0,
            0,
            0x12,
            0x34,
            0x40,
            0,
            64,
            6,
            0,
            0,
            10,
            77,
            1,
            1,
            10,
            77,
            1,
            2,
            0x30,
            0x39,
            0,
            80,
            0,
            0,
            0x10,
            0,
            0,
            0,
            0,
            1,
            0x50,
            0x18 | 0x01 | 0x80,
            0xff,
            0xff,
            0,
            0,
            0,
            0,
        ];
        p.extend_from_slice(payload);
        let len = p.len() as u16;
        p[2..4].copy_from_slice(&len.to_be_bytes());
        let c = checksum::ipv4_header(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
        complete_checksum(&mut p);
        p
    }

    fn tcp6(payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[6] = 0; // hop-by-hop first
        p[7] = 64;
        p[8] = 0xfd;
        p[9] = 0x77;
        p[23] = 1;
        p[24] = 0xfd;
        p[25] = 0x77;
        p[39] = 2;
        p.extend_from_slice(&[6, 0, 1, 4, 0, 0, 0, 0]); // HBH, PadN
        p.extend_from_slice(&[
            0x30, 0x39, 0, 80, 0, 0, 0x10, 0, 0, 0, 0, 1, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
        ]);
        p.extend_from_slice(payload);
        let plen = (p.len() - 40) as u16;
        p[4..6].copy_from_slice(&plen.to_be_bytes());
        complete_checksum(&mut p);
        p
    }

    fn verify(p: &[u8]) -> bool {
        let l = locate(p).unwrap();
        checksum::verify_transport(
            l.src,
            l.dst,
            IpProtocol::from(l.protocol),
            &p[l.offset..l.end],
        )
    }

    #[test]
    fn locates_through_extension_headers() {
        let p = tcp6(b"hello");
        let l = locate(&p).unwrap();
        assert_eq!((l.protocol, l.offset, l.end), (TCP, 48, p.len()));
        assert!(verify(&p));
        let p = tcp4(b"hello");
        let l = locate(&p).unwrap();
        assert_eq!((l.protocol, l.offset, l.fragment), (TCP, 20, false));
        assert!(verify(&p));
        assert_eq!(locate(&[0x45, 0, 0]), None);
        assert_eq!(locate(&[0x20; 40]), None);
    }

    #[test]
    fn completes_a_partial_checksum() {
        let mut p = tcp4(b"some payload");
        let good = p.clone();
        // A partial checksum: only the pseudo-header sum is stored.
        p[36..38].copy_from_slice(&[0x12, 0x34]);
        assert!(!verify(&p));
        assert!(complete_checksum(&mut p));
        assert_eq!(p, good);
        // Not TCP/UDP: nothing changes.
        let mut icmp = tcp4(b"x");
        icmp[9] = 1;
        let before = icmp.clone();
        assert!(!complete_checksum(&mut icmp));
        assert_eq!(icmp, before);
    }

    #[test]
    fn segments_like_gso() {
        let payload: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        for p in [tcp4(&payload), tcp6(&payload)] {
            let segs = segment_tcp(&p, 1500).unwrap();
            assert_eq!(segs.len(), 3);
            let l = locate(&p).unwrap();
            let hdr = l.offset + 20;
            let mut joined = Vec::new();
            for (i, s) in segs.iter().enumerate() {
                assert!(s.len() <= 1500);
                assert!(verify(s), "segment {i} checksum");
                let sl = locate(s).unwrap();
                assert_eq!(sl.end, s.len());
                let flags = s[sl.offset + 13];
                assert_eq!(flags & 0x01 != 0, i == 2 && p[l.offset + 13] & 1 != 0);
                let seq = u32::from_be_bytes([
                    s[sl.offset + 4],
                    s[sl.offset + 5],
                    s[sl.offset + 6],
                    s[sl.offset + 7],
                ]);
                assert_eq!(seq as usize, 0x1000 + joined.len());
                if s[0] >> 4 == 4 {
                    assert!(checksum::verify_ipv4_header(&s[..20]));
                }
                joined.extend_from_slice(&s[hdr..]);
            }
            assert_eq!(joined, payload);
        }
        assert_eq!(segment_tcp(&tcp4(b"small"), 1500).unwrap().len(), 1);
        assert_eq!(
            segment_tcp(&tcp4(&payload), 40),
            Err(SegmentError::MtuTooSmall)
        );
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), mtu in 0usize..300) {
            let _ = locate(&data);
            let mut d = data.clone();
            let _ = complete_checksum(&mut d);
            if let Ok(segs) = segment_tcp(&data, mtu) {
                for s in segs {
                    prop_assert!(s.len() <= mtu.max(data.len()));
                }
            }
        }

        #[test]
        fn segments_reassemble(len in 0usize..5000, mtu in 100usize..2000, v6 in any::<bool>()) {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let p = if v6 { tcp6(&payload) } else { tcp4(&payload) };
            let hdr = locate(&p).unwrap().offset + 20;
            let segs = segment_tcp(&p, mtu).unwrap();
            let mut joined = Vec::new();
            for s in &segs {
                prop_assert!(s.len() <= mtu);
                prop_assert!(verify(s));
                joined.extend_from_slice(&s[hdr..]);
            }
            prop_assert_eq!(joined, payload);
        }
    }
}
