//! Linux "cooked" capture header v2 (`LINKTYPE_LINUX_SLL2`, 20 bytes):
//! like v1 with the protocol first and the interface index added.

use core::fmt;

use crate::error::{Error, Protocol, Result};
use crate::sll::PacketType;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const PROTOCOL: Field = 0..2;
    pub const RESERVED: Field = 2..4;
    pub const IF_INDEX: Field = 4..8;
    pub const ARPHRD_TYPE: Field = 8..10;
    pub const PACKET_TYPE: usize = 10;
    pub const ADDR_LEN: usize = 11;
    pub const ADDR: Field = 12..20;
}

/// Length of the SLL2 header.
pub const HEADER_LEN: usize = field::ADDR.end;

/// A read/write view of an SLL2 header.
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

    /// Checks that the 20-byte header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::LinuxSll2, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Protocol (usually an EtherType, as in SLL v1).
    pub fn protocol(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Interface index.
    pub fn if_index(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::IF_INDEX])
    }

    /// Link-layer device type (`ARPHRD_*`).
    pub fn arphrd_type(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ARPHRD_TYPE])
    }

    /// Packet type (direction).
    pub fn packet_type(&self) -> PacketType {
        PacketType::from(u16::from(self.buffer.as_ref()[field::PACKET_TYPE]))
    }

    /// Address length as stored (may exceed 8).
    pub fn addr_len(&self) -> u8 {
        self.buffer.as_ref()[field::ADDR_LEN]
    }

    /// The link-layer address (at most 8 bytes are kept).
    pub fn addr(&self) -> &[u8] {
        let n = usize::from(self.addr_len()).min(8);
        &self.buffer.as_ref()[field::ADDR.start..field::ADDR.start + n]
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the protocol and clears the reserved field.
    pub fn set_protocol(&mut self, v: u16) {
        let b = self.buffer.as_mut();
        set_be::u16(&mut b[field::PROTOCOL], v);
        set_be::u16(&mut b[field::RESERVED], 0);
    }

    /// Sets the interface index.
    pub fn set_if_index(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::IF_INDEX], v);
    }

    /// Sets the device type.
    pub fn set_arphrd_type(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::ARPHRD_TYPE], v);
    }

    /// Sets the packet type (values above 255 are truncated to 8 bits).
    pub fn set_packet_type(&mut self, v: PacketType) {
        self.buffer.as_mut()[field::PACKET_TYPE] = u16::from(v) as u8;
    }

    /// Sets the address (at most 8 bytes) and its length.
    pub fn set_addr(&mut self, a: &[u8]) {
        let n = a.len().min(8);
        let b = self.buffer.as_mut();
        b[field::ADDR_LEN] = n as u8;
        b[field::ADDR].fill(0);
        b[field::ADDR.start..field::ADDR.start + n].copy_from_slice(&a[..n]);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "SLL2 ({e})"),
        }
    }
}

/// The parsed contents of an SLL2 header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Protocol.
    pub protocol: u16,
    /// Interface index.
    pub if_index: u32,
    /// Device type.
    pub arphrd_type: u16,
    /// Packet type (8 bits on the wire).
    pub packet_type: PacketType,
    /// Address length (at most 8).
    pub addr_len: u8,
    /// Address bytes (zero past `addr_len`).
    pub addr: [u8; 8],
}

impl Repr {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let mut addr = [0u8; 8];
        let a = packet.addr();
        addr[..a.len()].copy_from_slice(a);
        Ok(Repr {
            protocol: packet.protocol(),
            if_index: packet.if_index(),
            arphrd_type: packet.arphrd_type(),
            packet_type: packet.packet_type(),
            addr_len: a.len() as u8,
            addr,
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_protocol(self.protocol);
        packet.set_if_index(self.if_index);
        packet.set_arphrd_type(self.arphrd_type);
        packet.set_packet_type(self.packet_type);
        let n = usize::from(self.addr_len).min(8);
        packet.set_addr(&self.addr[..n]);
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ifindex {} {}",
            self.if_index,
            self.packet_type.tcpdump_name()
        )?;
        crate::sll::write_addr(f, &self.addr[..usize::from(self.addr_len).min(8)])?;
        write!(f, " protocol 0x{:04x}", self.protocol)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // Captured with `tcpdump -i any -y LINUX_SLL2` in a namespace: IPv6 on
    // ifindex 1 (lo), ARPHRD_LOOPBACK, incoming, 6-byte zero address.
    const HEADER: [u8; 20] = [
        0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x04, 0x00, 0x06, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn reads_fields() {
        let p = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(p.protocol(), 0x86dd);
        assert_eq!(p.if_index(), 1);
        assert_eq!(p.arphrd_type(), crate::sll::arphrd::LOOPBACK);
        assert_eq!(p.packet_type(), PacketType::Host);
        assert_eq!(p.addr(), &[0u8; 6]);
        assert_eq!(
            p.to_string(),
            "ifindex 1 In 00:00:00:00:00:00 protocol 0x86dd"
        );
        assert!(Packet::new_checked(&HEADER[..19]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(proto in any::<u16>(), ifx in any::<u32>(), hw in any::<u16>(), pt in any::<u8>(),
                      n in 0u8..=8, a in any::<[u8; 8]>()) {
            let mut addr = [0u8; 8];
            addr[..usize::from(n)].copy_from_slice(&a[..usize::from(n)]);
            let repr = Repr { protocol: proto, if_index: ifx, arphrd_type: hw, packet_type: u16::from(pt).into(), addr_len: n, addr };
            let mut buf = [0xffu8; HEADER_LEN];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
