//! Checksums of frames a handler has changed, aware of offloads.
//!
//! With offloads on, a frame read from the wire may carry a *partial*
//! checksum ([`Offload::csum_partial`]): the TCP or UDP checksum field
//! holds only the sum of the pseudo-header, and whoever sends the frame
//! (the kernel or the NIC) completes it over the bytes from
//! `csum_start` on. Writing a full checksum there would be wrong (the
//! completion would add the data a second time), and so would leaving a
//! stale pseudo-header sum after a handler changed an address or a
//! length. [`refresh`] does the right thing for each: it recomputes the
//! IPv4 header checksum and, for the transport layer, either the full
//! checksum or — when the frame's checksum is partial and starts at that
//! layer — the pseudo-header sum.
//!
//! A handler that changes a frame calls [`refresh`] once after its
//! changes; the cost is one pass over the segment (none for the payload
//! when the checksum is partial).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use sluice_wire::dissect::{self, Layer};
use sluice_wire::{IpProtocol, LinkType, Protocol, checksum};

use crate::frame::{FrameMut, Offload};

/// What [`refresh`] changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Refreshed {
    /// The IPv4 header checksum was rewritten.
    pub ipv4_header: bool,
    /// The transport checksum that was rewritten (TCP, UDP, ICMP,
    /// ICMPv6), if any.
    pub transport: Option<Protocol>,
    /// The transport checksum was left partial (pseudo-header sum only)
    /// for the sender to complete.
    pub partial: bool,
}

/// Recomputes the checksums of a frame after a change: see the module
/// documentation. Frames the dissector cannot walk to a transport layer
/// get what can be fixed (the IPv4 header), and a frame with no IP at all
/// is left as it is.
pub fn refresh(frame: &mut FrameMut<'_>) -> Refreshed {
    let linktype = frame.meta().linktype;
    let offload = frame.meta().offload;
    refresh_bytes(frame.data_mut(), linktype, &offload)
}

/// [`refresh`] over plain bytes.
pub fn refresh_bytes(bytes: &mut [u8], linktype: LinkType, offload: &Offload) -> Refreshed {
    let d = dissect::dissect(linktype, bytes);
    let mut out = Refreshed::default();
    let mut ip: Option<Layer> = None;
    let mut transport: Option<Layer> = None;
    for l in d.layers() {
        match l.protocol {
            Protocol::Ipv4 | Protocol::Ipv6 => {
                ip = Some(*l);
                transport = None;
            }
            Protocol::Tcp | Protocol::Udp | Protocol::Icmpv4 | Protocol::Icmpv6 => {
                transport = Some(*l);
            }
            _ => {}
        }
        if l.protocol == Protocol::Ipv4 {
            let start = l.offset as usize;
            let end = l.payload_offset().min(bytes.len());
            if end >= start + 20 {
                bytes[start + 10..start + 12].fill(0);
                let c = checksum::ipv4_header(&bytes[start..end]);
                bytes[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
                out.ipv4_header = true;
            }
        }
    }
    let (Some(ip), Some(t)) = (ip, transport) else {
        return out;
    };
    let start = t.offset as usize;
    let end = (t.end as usize).min(bytes.len());
    if end <= start {
        return out;
    }
    let (field, proto) = match t.protocol {
        Protocol::Tcp => (16, IpProtocol::Tcp),
        Protocol::Udp => (6, IpProtocol::Udp),
        Protocol::Icmpv4 => (2, IpProtocol::Icmp),
        _ => (2, IpProtocol::Icmpv6),
    };
    if end < start + field + 2 {
        return out;
    }
    let Some((src, dst)) = addresses(bytes, &ip) else {
        return out;
    };
    let len = t.end - t.offset;
    let old = u16::from_be_bytes([bytes[start + field], bytes[start + field + 1]]);
    let value = if offload.csum_partial
        && offload.csum_start as usize == start
        && t.protocol != Protocol::Icmpv4
    {
        out.partial = true;
        checksum::pseudo_header(src, dst, proto, len)
    } else if t.protocol == Protocol::Icmpv4 {
        checksum::icmpv4(&bytes[start..end])
    } else if t.protocol == Protocol::Udp && old == 0 && ip.protocol == Protocol::Ipv4 {
        // An IPv4 UDP checksum of 0 means "none": keep it so.
        0
    } else {
        let c = checksum::transport(src, dst, proto, &bytes[start..end], field);
        if t.protocol == Protocol::Udp {
            checksum::udp_value(c)
        } else {
            c
        }
    };
    bytes[start + field..start + field + 2].copy_from_slice(&value.to_be_bytes());
    out.transport = Some(t.protocol);
    out
}

fn addresses(bytes: &[u8], ip: &Layer) -> Option<(IpAddr, IpAddr)> {
    let o = ip.offset as usize;
    match ip.protocol {
        Protocol::Ipv4 => {
            let h = bytes.get(o..o + 20)?;
            let s = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
            let d = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
            Some((s.into(), d.into()))
        }
        _ => {
            let h = bytes.get(o..o + 40)?;
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(&h[8..24]);
            d.copy_from_slice(&h[24..40]);
            Some((Ipv6Addr::from(s).into(), Ipv6Addr::from(d).into()))
        }
    }
}

/// Whether the transport checksum of a frame is right: complete and
/// correct, or partial with the right pseudo-header sum. `None` when the
/// frame has no transport layer to check.
pub fn verify(bytes: &[u8], linktype: LinkType, offload: &Offload) -> Option<bool> {
    let mut copy = bytes.to_vec();
    let r = refresh_bytes(&mut copy, linktype, offload);
    r.transport?;
    Some(copy == bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An Ethernet + IPv4 + TCP frame with a 4-byte payload.
    fn tcp_frame() -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 20 + 4];
        f[12..14].copy_from_slice(&[0x08, 0x00]);
        let ip = &mut f[14..34];
        ip[0] = 0x45;
        ip[2..4].copy_from_slice(&44u16.to_be_bytes());
        ip[8] = 64;
        ip[9] = 6;
        ip[12..16].copy_from_slice(&[10, 77, 1, 1]);
        ip[16..20].copy_from_slice(&[10, 77, 1, 2]);
        let tcp = &mut f[34..54];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = 0x18;
        f[54..58].copy_from_slice(b"abcd");
        f
    }

    #[test]
    fn full_checksums_verify_after_a_change() {
        let mut f = tcp_frame();
        let r = refresh_bytes(&mut f, LinkType::ETHERNET, &Offload::default());
        assert!(r.ipv4_header && !r.partial);
        assert_eq!(r.transport, Some(Protocol::Tcp));
        assert!(checksum::verify_ipv4_header(&f[14..34]));
        let src = IpAddr::V4(Ipv4Addr::new(10, 77, 1, 1));
        let dst = IpAddr::V4(Ipv4Addr::new(10, 77, 1, 2));
        assert!(checksum::verify_transport(
            src,
            dst,
            IpProtocol::Tcp,
            &f[34..]
        ));
        f[55] = b'X';
        assert_eq!(
            verify(&f, LinkType::ETHERNET, &Offload::default()),
            Some(false)
        );
        refresh_bytes(&mut f, LinkType::ETHERNET, &Offload::default());
        assert!(checksum::verify_transport(
            src,
            dst,
            IpProtocol::Tcp,
            &f[34..]
        ));
    }

    #[test]
    fn partial_checksums_keep_the_pseudo_header_sum() {
        let mut f = tcp_frame();
        let off = Offload {
            csum_partial: true,
            csum_start: 34,
            csum_offset: 16,
            ..Offload::default()
        };
        let r = refresh_bytes(&mut f, LinkType::ETHERNET, &off);
        assert!(r.partial);
        let ph = checksum::pseudo_header(
            Ipv4Addr::new(10, 77, 1, 1).into(),
            Ipv4Addr::new(10, 77, 1, 2).into(),
            IpProtocol::Tcp,
            24,
        );
        assert_eq!(u16::from_be_bytes([f[50], f[51]]), ph);
        // Changing the payload does not change a partial checksum.
        f[56] = 0;
        assert_eq!(verify(&f, LinkType::ETHERNET, &off), Some(true));
    }

    #[test]
    fn frames_without_ip_are_left_alone() {
        let mut f = vec![0xffu8; 60];
        f[12..14].copy_from_slice(&[0x08, 0x06]);
        let before = f.clone();
        let r = refresh_bytes(&mut f, LinkType::ETHERNET, &Offload::default());
        assert_eq!(r, Refreshed::default());
        assert_eq!(f, before);
        let mut runt = vec![1u8, 2, 3];
        refresh_bytes(&mut runt, LinkType::ETHERNET, &Offload::default());
        assert_eq!(runt, vec![1, 2, 3]);
    }

    #[test]
    fn ipv4_udp_zero_checksum_stays_zero() {
        let mut f = tcp_frame();
        f[14 + 9] = 17;
        f[14 + 2..14 + 4].copy_from_slice(&(20u16 + 8 + 4).to_be_bytes());
        f.truncate(14 + 20 + 8 + 4);
        f[34 + 4..34 + 6].copy_from_slice(&12u16.to_be_bytes());
        f[34 + 6..34 + 8].fill(0);
        let r = refresh_bytes(&mut f, LinkType::ETHERNET, &Offload::default());
        assert_eq!(r.transport, Some(Protocol::Udp));
        assert_eq!(&f[40..42], &[0, 0]);
    }
}
