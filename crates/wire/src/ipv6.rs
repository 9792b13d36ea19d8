//! IPv6 fixed header (RFC 8200).
//!
//! The extension headers that may follow are read by
//! [`ipv6_ext`](crate::ipv6_ext) (hop-by-hop, routing, destination options
//! and the walk over all of them), [`ipv6_fragment`](crate::ipv6_fragment)
//! and [`ah`](crate::ah). As with IPv4, `check_len` asks only for the fixed
//! header; [`Packet::payload`] gives the payload bytes present, clipped to
//! `payload_len` and to the buffer.

use core::fmt;
use core::net::Ipv6Addr;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the IPv6 fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// A read/write view of an IPv6 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn addr(b: &[u8]) -> Ipv6Addr {
    let mut a = [0u8; 16];
    a.copy_from_slice(&b[..16]);
    Ipv6Addr::from(a)
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the fixed header fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the fixed header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Ipv6, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn ver_tc_flow(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::VER_TC_FLOW])
    }

    /// IP version (6 for a valid packet).
    pub fn version(&self) -> u8 {
        (self.ver_tc_flow() >> 28) as u8
    }

    /// Traffic class.
    pub fn traffic_class(&self) -> u8 {
        (self.ver_tc_flow() >> 20) as u8
    }

    /// Flow label (20 bits).
    pub fn flow_label(&self) -> u32 {
        self.ver_tc_flow() & 0x000f_ffff
    }

    /// Payload length (everything after the fixed header) as claimed.
    pub fn payload_len(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The first next-header value (an extension header or the upper
    /// layer).
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// Hop limit.
    pub fn hop_limit(&self) -> u8 {
        self.buffer.as_ref()[field::HOP_LIMIT]
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// The payload bytes present (extension headers and upper layer),
    /// clipped to `payload_len` and the buffer.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(data.len());
        &data[HEADER_LEN..end]
    }

    /// True if `payload_len` claims more bytes than the buffer holds.
    pub fn is_cut(&self) -> bool {
        HEADER_LEN + usize::from(self.payload_len()) > self.buffer.as_ref().len()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_ver_tc_flow(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::VER_TC_FLOW], v);
    }

    /// Sets the version nibble.
    pub fn set_version(&mut self, v: u8) {
        let w = (self.ver_tc_flow() & 0x0fff_ffff) | (u32::from(v & 0x0f) << 28);
        self.set_ver_tc_flow(w);
    }

    /// Sets the traffic class.
    pub fn set_traffic_class(&mut self, v: u8) {
        let w = (self.ver_tc_flow() & 0xf00f_ffff) | (u32::from(v) << 20);
        self.set_ver_tc_flow(w);
    }

    /// Sets the flow label (low 20 bits used).
    pub fn set_flow_label(&mut self, v: u32) {
        let w = (self.ver_tc_flow() & 0xfff0_0000) | (v & 0x000f_ffff);
        self.set_ver_tc_flow(w);
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::LENGTH], v);
    }

    /// Sets the next header.
    pub fn set_next_header(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::NXT_HDR] = v.into();
    }

    /// Sets the hop limit.
    pub fn set_hop_limit(&mut self, v: u8) {
        self.buffer.as_mut()[field::HOP_LIMIT] = v;
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv6Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// The payload bytes present, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        let data = self.buffer.as_mut();
        let end = end.min(data.len());
        &mut data[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "IPv6 ({e})"),
        }
    }
}

/// The parsed contents of an IPv6 fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// First next header.
    pub next_header: IpProtocol,
    /// Payload length.
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits).
    pub flow_label: u32,
}

impl Repr {
    /// Reads a fixed header; the version must be 6.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.version() != 6 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv6,
                Reason::Invalid {
                    field: "version",
                    value: packet.version().into(),
                },
            ));
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header. Fails if the payload length or the flow
    /// label does not fit its bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let Ok(len) = u16::try_from(self.payload_len) else {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ipv6,
                Reason::Exceeds {
                    field: "payload length",
                    value: crate::error::sat32(self.payload_len),
                    available: u16::MAX.into(),
                },
            ));
        };
        if self.flow_label > 0x000f_ffff {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv6,
                Reason::Invalid {
                    field: "flow label",
                    value: self.flow_label,
                },
            ));
        }
        packet.set_ver_tc_flow(0x6000_0000);
        packet.set_traffic_class(self.traffic_class);
        packet.set_flow_label(self.flow_label);
        packet.set_payload_len(len);
        packet.set_next_header(self.next_header);
        packet.set_hop_limit(self.hop_limit);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IPv6 {} > {}: next header {}, hlim {}, payload length {}",
            self.src_addr, self.dst_addr, self.next_header, self.hop_limit, self.payload_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's icmpv6.pcap, frame 1, bytes 14..54: a router advertisement.
    const HEADER: [u8; 40] = [
        0x60, 0x00, 0x00, 0x00, 0x00, 0xb0, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0xb2, 0x99, 0x28, 0xff, 0xfe, 0xc8, 0xd6, 0x6c, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    ];

    #[test]
    fn reads_fields() {
        let p = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.payload_len(), 176);
        assert_eq!(p.next_header(), IpProtocol::Icmpv6);
        assert_eq!(p.hop_limit(), 255);
        assert_eq!(
            p.src_addr(),
            "fe80::b299:28ff:fec8:d66c".parse::<Ipv6Addr>().unwrap()
        );
        assert_eq!(p.dst_addr(), "ff02::1".parse::<Ipv6Addr>().unwrap());
        assert!(p.is_cut());
        assert!(p.payload().is_empty());
    }

    #[test]
    fn wrong_version_is_malformed() {
        let mut b = HEADER;
        b[0] = 0x40;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p).unwrap_err().kind(), ErrorKind::Malformed);
        assert_eq!(
            Packet::new_checked(&b[..39]).unwrap_err().kind(),
            ErrorKind::Truncated
        );
    }

    proptest! {
        #[test]
        fn round_trip(s in any::<[u8; 16]>(), d in any::<[u8; 16]>(), nh in any::<u8>(),
                      len in any::<u16>(), hl in any::<u8>(), tc in any::<u8>(), fl in 0u32..0x10_0000) {
            let repr = Repr {
                src_addr: s.into(), dst_addr: d.into(), next_header: nh.into(),
                payload_len: len.into(), hop_limit: hl, traffic_class: tc, flow_label: fl,
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
