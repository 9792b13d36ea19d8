//! MPLS label stack entries (RFC 3032).
//!
//! Each entry is four bytes: a 20-bit label, a 3-bit traffic class, the
//! bottom-of-stack bit and a TTL. What follows the bottom entry is not
//! named anywhere; as tcpdump does, the [`dissect`](crate::dissect) module
//! guesses IPv4 or IPv6 from the first nibble (or from the reserved labels
//! 0 and 2).

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const ENTRY: Field = 0..4;
}

/// Length of one label stack entry.
pub const HEADER_LEN: usize = field::ENTRY.end;

/// Reserved label: IPv4 explicit null.
pub const LABEL_IPV4_EXPLICIT_NULL: u32 = 0;
/// Reserved label: IPv6 explicit null.
pub const LABEL_IPV6_EXPLICIT_NULL: u32 = 2;

/// A read/write view of one label stack entry.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the entry fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the 4-byte entry fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Mpls, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    fn entry(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::ENTRY])
    }

    /// Label (20 bits).
    pub fn label(&self) -> u32 {
        self.entry() >> 12
    }

    /// Traffic class (3 bits).
    pub fn traffic_class(&self) -> u8 {
        ((self.entry() >> 9) & 7) as u8
    }

    /// Bottom of stack.
    pub fn bottom_of_stack(&self) -> bool {
        self.entry() & 0x100 != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.entry() as u8
    }

    /// The bytes after this entry.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_entry(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::ENTRY], v);
    }

    /// Sets the label (low 20 bits used).
    pub fn set_label(&mut self, v: u32) {
        let e = (self.entry() & 0xfff) | ((v & 0xf_ffff) << 12);
        self.set_entry(e);
    }

    /// Sets the traffic class (low 3 bits used).
    pub fn set_traffic_class(&mut self, v: u8) {
        let e = (self.entry() & !0xe00) | (u32::from(v & 7) << 9);
        self.set_entry(e);
    }

    /// Sets the bottom-of-stack bit.
    pub fn set_bottom_of_stack(&mut self, v: bool) {
        let e = (self.entry() & !0x100) | if v { 0x100 } else { 0 };
        self.set_entry(e);
    }

    /// Sets the TTL.
    pub fn set_ttl(&mut self, v: u8) {
        let e = (self.entry() & !0xff) | u32::from(v);
        self.set_entry(e);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "MPLS ({e})"),
        }
    }
}

/// The parsed contents of a label stack entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Label (20 bits).
    pub label: u32,
    /// Traffic class (3 bits).
    pub traffic_class: u8,
    /// Bottom of stack.
    pub bottom_of_stack: bool,
    /// TTL.
    pub ttl: u8,
}

impl Repr {
    /// Reads an entry.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            label: packet.label(),
            traffic_class: packet.traffic_class(),
            bottom_of_stack: packet.bottom_of_stack(),
            ttl: packet.ttl(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the entry; a label or class too wide for its bits is an
    /// error.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if self.label > 0xf_ffff || self.traffic_class > 7 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Mpls,
                Reason::Message("label or traffic class too wide"),
            ));
        }
        packet.set_entry(
            (self.label << 12)
                | (u32::from(self.traffic_class) << 9)
                | if self.bottom_of_stack { 0x100 } else { 0 }
                | u32::from(self.ttl),
        );
        Ok(())
    }
}

impl fmt::Display for Repr {
    /// tcpdump's form: `MPLS (label 100704, tc 0, [S], ttl 1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MPLS (label {}", self.label)?;
        match self.label {
            0 => f.write_str(" (IPv4 explicit NULL)")?,
            1 => f.write_str(" (Router Alert)")?,
            2 => f.write_str(" (IPv6 explicit NULL)")?,
            3 => f.write_str(" (Implicit NULL)")?,
            _ => {}
        }
        write!(f, ", tc {}", self.traffic_class)?;
        if self.bottom_of_stack {
            f.write_str(", [S]")?;
        }
        write!(f, ", ttl {})", self.ttl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_entry() {
        // tcpdump's mpls-traceroute.pcap, frame 1: label 100704, [S], ttl 1.
        let b = [0x18, 0x96, 0x01, 0x01];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.label(), 100_704);
        assert_eq!(p.traffic_class(), 0);
        assert!(p.bottom_of_stack());
        assert_eq!(p.ttl(), 1);
        assert_eq!(p.to_string(), "MPLS (label 100704, tc 0, [S], ttl 1)");
    }

    proptest! {
        #[test]
        fn round_trip(label in 0u32..0x10_0000, tc in 0u8..8, s in any::<bool>(), ttl in any::<u8>()) {
            let repr = Repr { label, traffic_class: tc, bottom_of_stack: s, ttl };
            let mut buf = [0u8; HEADER_LEN];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
