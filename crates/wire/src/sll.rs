//! Linux "cooked" capture header v1 (`LINKTYPE_LINUX_SLL`, 16 bytes): what
//! libpcap writes when capturing on the `any` device or on interfaces
//! without a usable link-layer header.

use core::fmt;

use crate::error::{Error, Protocol, Result};
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const PACKET_TYPE: Field = 0..2;
    pub const ARPHRD_TYPE: Field = 2..4;
    pub const ADDR_LEN: Field = 4..6;
    pub const ADDR: Field = 6..14;
    pub const PROTOCOL: Field = 14..16;
}

/// Length of the SLL header.
pub const HEADER_LEN: usize = field::PROTOCOL.end;

crate::enum_with_unknown! {
    /// Which way a packet went, as the kernel saw it (`PACKET_*`).
    pub enum PacketType(u16) {
        /// Addressed to this host.
        Host = 0,
        /// Link-layer broadcast.
        Broadcast = 1,
        /// Link-layer multicast.
        Multicast = 2,
        /// Addressed to another host (promiscuous).
        OtherHost = 3,
        /// Sent by this host.
        Outgoing = 4,
    }
}

impl PacketType {
    /// tcpdump's word for it (`In`, `B`, `M`, `P`, `Out`).
    pub fn tcpdump_name(self) -> &'static str {
        match self {
            PacketType::Host => "In",
            PacketType::Broadcast => "B",
            PacketType::Multicast => "M",
            PacketType::OtherHost => "P",
            PacketType::Outgoing => "Out",
            PacketType::Unknown(_) => "?",
        }
    }
}

/// `ARPHRD_*` values that change how the protocol field is read.
pub mod arphrd {
    /// Ethernet.
    pub const ETHER: u16 = 1;
    /// Loopback.
    pub const LOOPBACK: u16 = 772;
    /// GRE over IP: the protocol field is a GRE protocol type.
    pub const IPGRE: u16 = 778;
    /// Netlink: the protocol field is a netlink family.
    pub const NETLINK: u16 = 824;
}

/// Protocol values below 0x0600 that are not EtherTypes (`ETH_P_*`).
pub mod proto {
    /// Novell 802.3 frames without LLC.
    pub const ETH_P_802_3: u16 = 0x0001;
    /// 802.2 LLC frames.
    pub const ETH_P_802_2: u16 = 0x0004;
    /// CAN bus frames.
    pub const ETH_P_CAN: u16 = 0x000c;
}

/// A read/write view of an SLL header.
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

    /// Checks that the 16-byte header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::LinuxSll, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Packet type (direction).
    pub fn packet_type(&self) -> PacketType {
        PacketType::from(be::u16(&self.buffer.as_ref()[field::PACKET_TYPE]))
    }

    /// Link-layer device type (`ARPHRD_*`).
    pub fn arphrd_type(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ARPHRD_TYPE])
    }

    /// Link-layer address length as stored (may exceed 8).
    pub fn addr_len(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::ADDR_LEN])
    }

    /// The link-layer address (at most 8 bytes are kept).
    pub fn addr(&self) -> &[u8] {
        let n = usize::from(self.addr_len()).min(8);
        &self.buffer.as_ref()[field::ADDR.start..field::ADDR.start + n]
    }

    /// Protocol: usually an EtherType; see [`proto`] and [`arphrd`] for the
    /// exceptions.
    pub fn protocol(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::PROTOCOL])
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the packet type.
    pub fn set_packet_type(&mut self, v: PacketType) {
        set_be::u16(&mut self.buffer.as_mut()[field::PACKET_TYPE], v.into());
    }

    /// Sets the device type.
    pub fn set_arphrd_type(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::ARPHRD_TYPE], v);
    }

    /// Sets the address (at most 8 bytes; the rest of the field is
    /// zeroed) and its length.
    pub fn set_addr(&mut self, a: &[u8]) {
        let n = a.len().min(8);
        let b = self.buffer.as_mut();
        set_be::u16(&mut b[field::ADDR_LEN], n as u16);
        b[field::ADDR].fill(0);
        b[field::ADDR.start..field::ADDR.start + n].copy_from_slice(&a[..n]);
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::PROTOCOL], v);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "SLL ({e})"),
        }
    }
}

/// The parsed contents of an SLL header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Packet type.
    pub packet_type: PacketType,
    /// Device type.
    pub arphrd_type: u16,
    /// Address length (at most 8).
    pub addr_len: u8,
    /// Address bytes (zero past `addr_len`).
    pub addr: [u8; 8],
    /// Protocol.
    pub protocol: u16,
}

impl Repr {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let mut addr = [0u8; 8];
        let a = packet.addr();
        addr[..a.len()].copy_from_slice(a);
        Ok(Repr {
            packet_type: packet.packet_type(),
            arphrd_type: packet.arphrd_type(),
            addr_len: a.len() as u8,
            addr,
            protocol: packet.protocol(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_packet_type(self.packet_type);
        packet.set_arphrd_type(self.arphrd_type);
        let n = usize::from(self.addr_len).min(8);
        packet.set_addr(&self.addr[..n]);
        packet.set_protocol(self.protocol);
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.packet_type.tcpdump_name())?;
        write_addr(f, &self.addr[..usize::from(self.addr_len).min(8)])?;
        write!(f, " protocol 0x{:04x}", self.protocol)
    }
}

/// Writes ` aa:bb:…` (with a leading space) for a non-empty address.
pub(crate) fn write_addr(f: &mut dyn fmt::Write, a: &[u8]) -> fmt::Result {
    for (i, b) in a.iter().enumerate() {
        f.write_str(if i == 0 { " " } else { ":" })?;
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's forces1.pcap, frame 1, bytes 0..16: outgoing, loopback
    // device, no address, IPv4.
    const HEADER: [u8; 16] = [
        0x00, 0x04, 0xff, 0xfe, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00,
    ];

    #[test]
    fn reads_fields() {
        let p = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(p.packet_type(), PacketType::Outgoing);
        assert_eq!(p.arphrd_type(), 0xfffe);
        assert_eq!(p.addr(), &[] as &[u8]);
        assert_eq!(p.protocol(), 0x0800);
        assert_eq!(p.to_string(), "Out protocol 0x0800");
        assert!(Packet::new_checked(&HEADER[..15]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(pt in any::<u16>(), hw in any::<u16>(), n in 0u8..=8, a in any::<[u8; 8]>(), proto in any::<u16>()) {
            let mut addr = [0u8; 8];
            addr[..usize::from(n)].copy_from_slice(&a[..usize::from(n)]);
            let repr = Repr { packet_type: pt.into(), arphrd_type: hw, addr_len: n, addr, protocol: proto };
            let mut buf = [0xffu8; HEADER_LEN];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
