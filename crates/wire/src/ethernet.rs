//! Ethernet II (and 802.3) MAC header: destination, source, EtherType or
//! length.

use core::fmt;

use crate::error::{Error, Protocol, Result};
use crate::ethertype::EtherType;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: usize = ETHERTYPE.end;
}

/// Length of the Ethernet header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A 48-bit MAC address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 6]);

impl Address {
    /// ff:ff:ff:ff:ff:ff.
    pub const BROADCAST: Address = Address([0xff; 6]);

    /// Reads an address from the first six bytes of `b`.
    ///
    /// # Panics
    /// If `b` is shorter than six bytes.
    pub fn from_bytes(b: &[u8]) -> Address {
        let mut a = [0u8; 6];
        a.copy_from_slice(&b[..6]);
        Address(a)
    }

    /// The six bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// True for the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True for group (multicast and broadcast) addresses.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// True for locally administered addresses.
    pub fn is_local(&self) -> bool {
        self.0[0] & 0x02 != 0
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            b[0], b[1], b[2], b[3], b[4], b[5]
        )
    }
}

/// A read/write view of an Ethernet frame.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Frame<T> {
        Frame { buffer }
    }

    /// Wraps a buffer and checks that the header fits.
    pub fn new_checked(buffer: T) -> Result<Frame<T>> {
        let f = Self::new_unchecked(buffer);
        f.check_len()?;
        Ok(f)
    }

    /// Checks that the buffer holds the whole header.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Ethernet, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Address {
        Address::from_bytes(&self.buffer.as_ref()[field::DESTINATION])
    }

    /// Source address.
    pub fn src_addr(&self) -> Address {
        Address::from_bytes(&self.buffer.as_ref()[field::SOURCE])
    }

    /// The raw type/length field.
    pub fn ethertype_raw(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ETHERTYPE])
    }

    /// The EtherType (meaningful only when [`Frame::is_8023`] is false).
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(self.ethertype_raw())
    }

    /// True if the type field is an 802.3 length (≤ 1500), so that LLC
    /// follows.
    pub fn is_8023(&self) -> bool {
        EtherType::is_length(self.ethertype_raw())
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::DESTINATION].copy_from_slice(&a.0);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Address) {
        self.buffer.as_mut()[field::SOURCE].copy_from_slice(&a.0);
    }

    /// Sets the type/length field.
    pub fn set_ethertype(&mut self, t: EtherType) {
        set_be::u16(&mut self.buffer.as_mut()[field::ETHERTYPE], t.into());
    }

    /// The bytes after the header, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Frame<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.check_len().is_err() {
            return f.write_str("Ethernet [truncated]");
        }
        write!(f, "{} > {}, ", self.src_addr(), self.dst_addr())?;
        if self.is_8023() {
            write!(f, "802.3, length {}", self.ethertype_raw())
        } else {
            write!(f, "ethertype {}", self.ethertype())
        }
    }
}

/// The parsed contents of an Ethernet header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Address,
    /// Destination address.
    pub dst_addr: Address,
    /// EtherType (or, for 802.3, the length as `Unknown(len)`).
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads the header of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Result<Repr> {
        frame.check_len()?;
        Ok(Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            ethertype: frame.ethertype(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header into the first [`HEADER_LEN`] bytes of the frame.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, frame: &mut Frame<T>) {
        frame.set_src_addr(self.src_addr);
        frame.set_dst_addr(self.dst_addr);
        frame.set_ethertype(self.ethertype);
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} > {}, ethertype {}",
            self.src_addr, self.dst_addr, self.ethertype
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // The first 16 bytes of an ARP request from a capture.
    const FRAME: [u8; 16] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x0a, 0x4d, 0x00, 0x01, 0x08, 0x06, 0x00,
        0x01,
    ];

    #[test]
    fn reads_fields() {
        let f = Frame::new_checked(&FRAME[..]).unwrap();
        assert!(f.dst_addr().is_broadcast());
        assert_eq!(f.src_addr().to_string(), "02:00:0a:4d:00:01");
        assert!(f.src_addr().is_local());
        assert_eq!(f.ethertype(), EtherType::Arp);
        assert!(!f.is_8023());
        assert_eq!(f.payload(), &[0x00, 0x01]);
        assert_eq!(
            f.to_string(),
            "02:00:0a:4d:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806)"
        );
    }

    #[test]
    fn short_buffer_is_truncated() {
        let e = Frame::new_checked(&FRAME[..13]).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Truncated);
        assert_eq!(e.layer(), Protocol::Ethernet);
    }

    #[test]
    fn set_fields_in_place() {
        let mut b = FRAME;
        let mut f = Frame::new_unchecked(&mut b[..]);
        f.set_src_addr(Address([1, 2, 3, 4, 5, 6]));
        f.set_ethertype(EtherType::Ipv6);
        f.payload_mut()[0] = 0x60;
        assert_eq!(&b[6..15], &[1, 2, 3, 4, 5, 6, 0x86, 0xdd, 0x60]);
    }

    proptest! {
        #[test]
        fn round_trip(src in any::<[u8; 6]>(), dst in any::<[u8; 6]>(), et in any::<u16>()) {
            let repr = Repr { src_addr: Address(src), dst_addr: Address(dst), ethertype: et.into() };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Frame::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Frame::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
