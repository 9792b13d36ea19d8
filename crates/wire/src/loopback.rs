//! BSD loopback headers: `LINKTYPE_NULL` (a 4-byte address family in the
//! byte order of the host that captured) and `LINKTYPE_LOOP` (the same in
//! network byte order).
//!
//! A NULL header's byte order is not recorded anywhere. As tcpdump does,
//! sluice reads it little-endian and, if that leaves bits in the upper 16,
//! byte-swaps it: address families are small numbers, so exactly one of
//! the two readings is plausible.

use core::fmt;

use crate::error::{Error, Protocol, Result};

mod field {
    use crate::Field;
    pub const FAMILY: Field = 0..4;
}

/// Length of the loopback header.
pub const HEADER_LEN: usize = field::FAMILY.end;

crate::enum_with_unknown! {
    /// A BSD address family number.
    pub enum Family(u32) {
        /// IPv4.
        Inet = 2,
        /// OSI.
        Iso = 7,
        /// AppleTalk.
        AppleTalk = 16,
        /// IPX.
        Ipx = 23,
        /// IPv6 on NetBSD, OpenBSD, BSD/OS.
        Inet6Bsd = 24,
        /// IPv6 on FreeBSD and DragonFly.
        Inet6FreeBsd = 28,
        /// IPv6 on macOS.
        Inet6Darwin = 30,
    }
}

impl Family {
    /// True for the three IPv6 family numbers.
    pub fn is_ipv6(self) -> bool {
        matches!(
            self,
            Family::Inet6Bsd | Family::Inet6FreeBsd | Family::Inet6Darwin
        )
    }

    /// True for IPv4.
    pub fn is_ipv4(self) -> bool {
        self == Family::Inet
    }
}

impl fmt::Display for Family {
    /// tcpdump's form: `IPv4 (2)`, `IPv6 (30)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Family::Inet => "IPv4",
            Family::Iso => "OSI",
            Family::AppleTalk => "Appletalk",
            Family::Ipx => "IPX",
            Family::Inet6Bsd | Family::Inet6FreeBsd | Family::Inet6Darwin => "IPv6",
            Family::Unknown(_) => "Unknown",
        };
        write!(f, "{name} ({})", u32::from(*self))
    }
}

/// Byte order of the family field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ByteOrder {
    /// Little-endian (NULL from x86 and most ARM hosts).
    Little,
    /// Big-endian (LOOP always; NULL from big-endian hosts).
    Big,
}

/// A read/write view of a loopback header.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the header fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the 4-byte header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Null, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn raw(&self) -> [u8; 4] {
        let b = &self.buffer.as_ref()[field::FAMILY];
        [b[0], b[1], b[2], b[3]]
    }

    /// The family of a NULL header and the byte order it was found in.
    pub fn family_null(&self) -> (Family, ByteOrder) {
        let le = u32::from_le_bytes(self.raw());
        if le & 0xffff_0000 != 0 {
            (Family::from(le.swap_bytes()), ByteOrder::Big)
        } else {
            (Family::from(le), ByteOrder::Little)
        }
    }

    /// The family of a LOOP header (network byte order).
    pub fn family_loop(&self) -> Family {
        Family::from(u32::from_be_bytes(self.raw()))
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the family in the given byte order.
    pub fn set_family(&mut self, family: Family, order: ByteOrder) {
        let v = u32::from(family);
        let bytes = match order {
            ByteOrder::Little => v.to_le_bytes(),
            ByteOrder::Big => v.to_be_bytes(),
        };
        self.buffer.as_mut()[field::FAMILY].copy_from_slice(&bytes);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.check_len() {
            Ok(()) => write!(f, "AF {}", self.family_null().0),
            Err(e) => write!(f, "NULL ({e})"),
        }
    }
}

/// The parsed contents of a loopback header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Address family.
    pub family: Family,
    /// Byte order of the field.
    pub order: ByteOrder,
}

impl Repr {
    /// Reads a NULL header, detecting its byte order.
    pub fn parse_null<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let (family, order) = packet.family_null();
        Ok(Repr { family, order })
    }

    /// Reads a LOOP header (network byte order).
    pub fn parse_loop<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            family: packet.family_loop(),
            order: ByteOrder::Big,
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_family(self.family, self.order);
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AF {}", self.family)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn detects_both_byte_orders() {
        // tcpdump's dns-badcookie.pcap, frame 1: little-endian AF_INET.
        let le = [0x02, 0x00, 0x00, 0x00, 0x45];
        let p = Packet::new_checked(&le[..]).unwrap();
        assert_eq!(p.family_null(), (Family::Inet, ByteOrder::Little));
        assert_eq!(p.to_string(), "AF IPv4 (2)");
        // The same from a big-endian host, and macOS IPv6.
        let be = [0x00, 0x00, 0x00, 0x1e];
        let p = Packet::new_checked(&be[..]).unwrap();
        assert_eq!(p.family_null(), (Family::Inet6Darwin, ByteOrder::Big));
        assert!(p.family_null().0.is_ipv6());
        assert_eq!(p.family_loop(), Family::Inet6Darwin);
        assert!(Packet::new_checked(&be[..3]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(fam in 0u32..0x1_0000, big in any::<bool>()) {
            let repr = Repr { family: fam.into(), order: if big { ByteOrder::Big } else { ByteOrder::Little } };
            let mut buf = [0u8; HEADER_LEN];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let p = Packet::new_checked(&buf[..]).unwrap();
            let parsed = Repr::parse_null(&p).unwrap();
            prop_assert_eq!(parsed.family, repr.family);
            // Order is only recoverable when the value tells.
            if fam & 0xff != 0 && fam >> 8 == 0 || big && fam != 0 && fam < 0x100 {
                prop_assert_eq!(parsed.order, repr.order);
            }
            if big {
                prop_assert_eq!(Repr::parse_loop(&p).unwrap(), repr);
            }
        }
    }
}
