//! UDP header (RFC 768).
//!
//! `check_len` asks for the 8-byte header and a length field of at least
//! 8; a length beyond the buffer is allowed (the capture may have been
//! cut) and [`Packet::payload`] gives the bytes present.

use core::fmt;
use core::net::IpAddr;

use crate::checksum;
use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

/// A read/write view of a UDP datagram.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks the header.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the header fits and that the length field covers it.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::short(Protocol::Udp, HEADER_LEN, len));
        }
        let l = usize::from(self.len());
        if l < HEADER_LEN {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Udp,
                Reason::Below {
                    field: "length",
                    value: l as u32,
                    min: HEADER_LEN as u32,
                },
            ));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// Length field (header and payload).
    pub fn len(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// True if the length field says there is no payload.
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }

    /// Stored checksum (0 means none was computed, over IPv4).
    pub fn checksum(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The payload bytes present (clipped to the length field and the
    /// buffer).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = usize::from(self.len()).min(b.len()).max(HEADER_LEN);
        &b[HEADER_LEN..end]
    }

    /// True if the checksum is right (a zero checksum over IPv4 means "not
    /// computed" and counts as right).
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        if src.is_ipv4() && self.checksum() == 0 {
            return true;
        }
        let b = self.buffer.as_ref();
        let end = usize::from(self.len()).min(b.len());
        checksum::verify_transport(src, dst, IpProtocol::Udp, &b[..end])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::SRC_PORT], v);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::DST_PORT], v);
    }

    /// Sets the length field.
    pub fn set_len(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::LENGTH], v);
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::CHECKSUM], v);
    }

    /// Sets the source port and adjusts the checksum incrementally (a
    /// zero "no checksum" stays zero).
    pub fn set_src_port_update_checksum(&mut self, v: u16) {
        let old = self.src_port();
        self.set_src_port(v);
        self.adjust(|c| checksum::update_u16(c, old, v));
    }

    /// Sets the destination port and adjusts the checksum incrementally.
    pub fn set_dst_port_update_checksum(&mut self, v: u16) {
        let old = self.dst_port();
        self.set_dst_port(v);
        self.adjust(|c| checksum::update_u16(c, old, v));
    }

    /// Adjusts the checksum for a pseudo-header address change.
    pub fn update_checksum_for_addr(&mut self, old: IpAddr, new: IpAddr) {
        self.adjust(|c| crate::tcp::update_for_addr(c, old, new));
    }

    fn adjust(&mut self, f: impl FnOnce(u16) -> u16) {
        let c = self.checksum();
        if c != 0 {
            self.set_checksum(checksum::udp_value(f(c)));
        }
    }

    /// The payload bytes present, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let l = usize::from(self.len());
        let b = self.buffer.as_mut();
        let end = l.min(b.len()).max(HEADER_LEN);
        &mut b[HEADER_LEN..end]
    }

    /// Computes and stores the checksum over the pseudo-header and the
    /// datagram (as long as the length field says).
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        let end = usize::from(self.len()).min(self.buffer.as_ref().len());
        let c = checksum::transport(src, dst, IpProtocol::Udp, &self.buffer.as_ref()[..end], 6);
        self.set_checksum(checksum::udp_value(c));
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "UDP ({e})"),
        }
    }
}

/// The parsed contents of a UDP header.
///
/// The payload is not part of the `Repr`: `emit` writes the header and a
/// checksum over the `payload_len` bytes already after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload length.
    pub payload_len: usize,
}

impl Repr {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            payload_len: usize::from(packet.len()) - HEADER_LEN,
        })
    }

    /// Bytes [`Repr::emit`] covers: header and payload.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload_len
    }

    /// Writes the header and the checksum. Fails if the length does not
    /// fit 16 bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<()> {
        let Ok(len) = u16::try_from(self.buffer_len()) else {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Udp,
                Reason::Exceeds {
                    field: "length",
                    value: crate::error::sat32(self.buffer_len()),
                    available: u16::MAX.into(),
                },
            ));
        };
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_len(len);
        packet.set_checksum(0);
        packet.fill_checksum(src, dst);
        Ok(())
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UDP {} > {}, length {}",
            self.src_port, self.dst_port, self.payload_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;
    use proptest::prelude::*;

    // tcpdump's afs.pcap, frame 29: the invoking UDP header inside the
    // ICMP error (port 7000 → 1792, length 420).
    const HEADER: [u8; 8] = [0x1b, 0x58, 0x07, 0x00, 0x01, 0xa4, 0xae, 0x1e];

    #[test]
    fn reads_fields() {
        let p = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(p.src_port(), 7000);
        assert_eq!(p.dst_port(), 1792);
        assert_eq!(p.len(), 420);
        assert!(p.payload().is_empty());
        let mut b = HEADER;
        b[4] = 0;
        b[5] = 7;
        let e = Packet::new_checked(&b[..]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadLength);
        assert_eq!(e.to_string(), "UDP at offset 0: length 7 is below 8");
    }

    #[test]
    fn zero_checksum_stays_zero_under_rewrites() {
        let mut b = [0u8; 12];
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_len(12);
        p.set_src_port_update_checksum(53);
        assert_eq!(p.checksum(), 0);
    }

    proptest! {
        #[test]
        fn round_trip(sp in any::<u16>(), dp in any::<u16>(), payload in proptest::collection::vec(any::<u8>(), 0..40),
                      new_port in any::<u16>()) {
            let repr = Repr { src_port: sp, dst_port: dp, payload_len: payload.len() };
            let (s, d): (IpAddr, IpAddr) = (Ipv4Addr::new(10, 77, 0, 1).into(), Ipv4Addr::new(10, 77, 0, 2).into());
            let mut buf = vec![0u8; repr.buffer_len()];
            buf[HEADER_LEN..].copy_from_slice(&payload);
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]), s, d).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert_ne!(p.checksum(), 0);
            prop_assert!(p.verify_checksum(s, d));
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
            let mut p = Packet::new_unchecked(&mut buf[..]);
            p.set_dst_port_update_checksum(new_port);
            prop_assert!(p.verify_checksum(s, d));
        }
    }
}
