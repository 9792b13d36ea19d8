//! IEEE 802.1Q VLAN tags and 802.1ad service tags (QinQ).
//!
//! In a frame, a tag follows the tag protocol identifier (0x8100 for 802.1Q,
//! 0x88a8 for 802.1ad) that took the place of the EtherType. This view
//! covers the four bytes after that identifier: the tag control information
//! (priority, drop-eligible bit, VLAN id) and the EtherType of what follows,
//! which may be another tag. Stacked tags are read one view at a time; the
//! [`dissect`](crate::dissect) module walks the stack.

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ethertype::EtherType;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
    pub const PAYLOAD: usize = ETHERTYPE.end;
}

/// Length of a tag (after its tag protocol identifier).
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A read/write view of a VLAN tag.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the tag fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the buffer holds the whole tag.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Vlan, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole tag control information field.
    pub fn tci(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::TCI])
    }

    /// Priority code point (0–7).
    pub fn priority(&self) -> u8 {
        (self.tci() >> 13) as u8
    }

    /// Drop eligible indicator (formerly CFI).
    pub fn drop_eligible(&self) -> bool {
        self.tci() & 0x1000 != 0
    }

    /// VLAN identifier (0–4095).
    pub fn vlan_id(&self) -> u16 {
        self.tci() & 0x0fff
    }

    /// The raw type/length field after the tag.
    pub fn ethertype_raw(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ETHERTYPE])
    }

    /// EtherType of what follows the tag.
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(self.ethertype_raw())
    }

    /// The bytes after the tag.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the whole tag control information field.
    pub fn set_tci(&mut self, tci: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::TCI], tci);
    }

    /// Sets the priority (only the low three bits are used).
    pub fn set_priority(&mut self, pcp: u8) {
        let tci = (self.tci() & 0x1fff) | (u16::from(pcp & 7) << 13);
        self.set_tci(tci);
    }

    /// Sets the drop eligible indicator.
    pub fn set_drop_eligible(&mut self, dei: bool) {
        let tci = (self.tci() & !0x1000) | if dei { 0x1000 } else { 0 };
        self.set_tci(tci);
    }

    /// Sets the VLAN id (only the low twelve bits are used).
    pub fn set_vlan_id(&mut self, vid: u16) {
        let tci = (self.tci() & 0xf000) | (vid & 0x0fff);
        self.set_tci(tci);
    }

    /// Sets the EtherType of what follows.
    pub fn set_ethertype(&mut self, t: EtherType) {
        set_be::u16(&mut self.buffer.as_mut()[field::ETHERTYPE], t.into());
    }

    /// The bytes after the tag, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(_) => f.write_str("vlan [truncated]"),
        }
    }
}

/// The parsed contents of a VLAN tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Priority code point (0–7).
    pub priority: u8,
    /// Drop eligible indicator.
    pub drop_eligible: bool,
    /// VLAN id (0–4095).
    pub vlan_id: u16,
    /// EtherType of what follows.
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads a tag.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            priority: packet.priority(),
            drop_eligible: packet.drop_eligible(),
            vlan_id: packet.vlan_id(),
            ethertype: packet.ethertype(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the tag. Out-of-range priority or VLAN id are an error rather
    /// than silently masked.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        if self.priority > 7 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Vlan,
                Reason::Invalid {
                    field: "priority",
                    value: self.priority.into(),
                },
            ));
        }
        if self.vlan_id > 0x0fff {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Vlan,
                Reason::Invalid {
                    field: "vlan id",
                    value: self.vlan_id.into(),
                },
            ));
        }
        let tci = (u16::from(self.priority) << 13)
            | if self.drop_eligible { 0x1000 } else { 0 }
            | self.vlan_id;
        packet.set_tci(tci);
        packet.set_ethertype(self.ethertype);
        Ok(())
    }
}

impl fmt::Display for Repr {
    /// tcpdump's form: `vlan 100, p 0, ethertype IPv4 (0x0800)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "vlan {}, p {}", self.vlan_id, self.priority)?;
        if self.drop_eligible {
            f.write_str(", DEI")?;
        }
        write!(f, ", ethertype {}", self.ethertype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's 802.1ad_QinQ.pcap, frame 1, bytes 14..22: the outer tag
    // (vlan 200, inner TPID 0x8100) and the inner tag (vlan 2001, ARP).
    const TAGS: [u8; 8] = [0x00, 0xc8, 0x81, 0x00, 0x07, 0xd1, 0x08, 0x06];

    #[test]
    fn reads_stacked_tags() {
        let outer = Packet::new_checked(&TAGS[..]).unwrap();
        assert_eq!(outer.vlan_id(), 200);
        assert_eq!(outer.priority(), 0);
        assert_eq!(outer.ethertype(), EtherType::Vlan);
        let inner = Packet::new_checked(outer.payload()).unwrap();
        assert_eq!(inner.vlan_id(), 2001);
        assert_eq!(inner.ethertype(), EtherType::Arp);
        assert_eq!(inner.to_string(), "vlan 2001, p 0, ethertype ARP (0x0806)");
    }

    #[test]
    fn setters_keep_other_bits() {
        let mut b = TAGS;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_priority(5);
        p.set_drop_eligible(true);
        p.set_vlan_id(4095);
        assert_eq!(p.priority(), 5);
        assert!(p.drop_eligible());
        assert_eq!(p.vlan_id(), 4095);
        p.set_vlan_id(7);
        assert_eq!(p.priority(), 5);
        assert!(p.drop_eligible());
    }

    #[test]
    fn emit_rejects_out_of_range() {
        let r = Repr {
            priority: 8,
            drop_eligible: false,
            vlan_id: 1,
            ethertype: EtherType::Ipv4,
        };
        let mut b = [0u8; 4];
        assert!(r.emit(&mut Packet::new_unchecked(&mut b[..])).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(pcp in 0u8..8, dei in any::<bool>(), vid in 0u16..4096, et in any::<u16>()) {
            let repr = Repr { priority: pcp, drop_eligible: dei, vlan_id: vid, ethertype: et.into() };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
