//! ARP (RFC 826) and RARP.
//!
//! The view reads any hardware/protocol address sizes (the address fields
//! sit at offsets computed from `hlen` and `plen`); the [`Repr`] covers the
//! case that matters on Ethernet, IPv4 over Ethernet.

use core::fmt;
use core::net::Ipv4Addr;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ethernet::Address as EthernetAddress;
use crate::ethertype::EtherType;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const ADDRESSES: usize = OPER.end;

    pub fn sha(hlen: u8, _plen: u8) -> Field {
        ADDRESSES..ADDRESSES + hlen as usize
    }
    pub fn spa(hlen: u8, plen: u8) -> Field {
        let start = sha(hlen, plen).end;
        start..start + plen as usize
    }
    pub fn tha(hlen: u8, plen: u8) -> Field {
        let start = spa(hlen, plen).end;
        start..start + hlen as usize
    }
    pub fn tpa(hlen: u8, plen: u8) -> Field {
        let start = tha(hlen, plen).end;
        start..start + plen as usize
    }
}

/// Length of the fixed part of an ARP header (before the addresses).
pub const FIXED_LEN: usize = field::ADDRESSES;

/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = FIXED_LEN + 2 * (6 + 4);

/// ARP hardware type for Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;

/// An ARP operation code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    /// ARP request (1).
    Request,
    /// ARP reply (2).
    Reply,
    /// RARP request (3).
    RarpRequest,
    /// RARP reply (4).
    RarpReply,
    /// Inverse ARP request (8).
    InArpRequest,
    /// Inverse ARP reply (9).
    InArpReply,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for Operation {
    fn from(v: u16) -> Self {
        match v {
            1 => Operation::Request,
            2 => Operation::Reply,
            3 => Operation::RarpRequest,
            4 => Operation::RarpReply,
            8 => Operation::InArpRequest,
            9 => Operation::InArpReply,
            o => Operation::Unknown(o),
        }
    }
}

impl From<Operation> for u16 {
    fn from(v: Operation) -> Self {
        match v {
            Operation::Request => 1,
            Operation::Reply => 2,
            Operation::RarpRequest => 3,
            Operation::RarpReply => 4,
            Operation::InArpRequest => 8,
            Operation::InArpReply => 9,
            Operation::Unknown(o) => o,
        }
    }
}

/// A read/write view of an ARP packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the fixed part and the four
    /// addresses fit.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the buffer holds the fixed part and all four addresses.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < FIXED_LEN {
            return Err(Error::short(Protocol::Arp, FIXED_LEN, len));
        }
        let need = self.header_len();
        if len < need {
            return Err(Error::short(Protocol::Arp, need, len));
        }
        Ok(())
    }

    /// Length of the fixed part plus the addresses, from `hlen` and `plen`.
    pub fn header_len(&self) -> usize {
        field::tpa(self.hardware_len(), self.protocol_len()).end
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Hardware type (1 = Ethernet).
    pub fn hardware_type(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::HTYPE])
    }

    /// Protocol type (an EtherType; IPv4 for ARP over IPv4).
    pub fn protocol_type(&self) -> EtherType {
        EtherType::from(be::u16(&self.buffer.as_ref()[field::PTYPE]))
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        self.buffer.as_ref()[field::HLEN]
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        self.buffer.as_ref()[field::PLEN]
    }

    /// Operation.
    pub fn operation(&self) -> Operation {
        Operation::from(be::u16(&self.buffer.as_ref()[field::OPER]))
    }

    /// Sender hardware address bytes.
    pub fn source_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::sha(self.hardware_len(), self.protocol_len())]
    }

    /// Sender protocol address bytes.
    pub fn source_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::spa(self.hardware_len(), self.protocol_len())]
    }

    /// Target hardware address bytes.
    pub fn target_hardware_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::tha(self.hardware_len(), self.protocol_len())]
    }

    /// Target protocol address bytes.
    pub fn target_protocol_addr(&self) -> &[u8] {
        &self.buffer.as_ref()[field::tpa(self.hardware_len(), self.protocol_len())]
    }

    /// True for Ethernet hardware with 6-byte addresses and IPv4 with
    /// 4-byte addresses.
    pub fn is_ethernet_ipv4(&self) -> bool {
        self.hardware_type() == HTYPE_ETHERNET
            && self.protocol_type() == EtherType::Ipv4
            && self.hardware_len() == 6
            && self.protocol_len() == 4
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the hardware type.
    pub fn set_hardware_type(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::HTYPE], v);
    }

    /// Sets the protocol type.
    pub fn set_protocol_type(&mut self, v: EtherType) {
        set_be::u16(&mut self.buffer.as_mut()[field::PTYPE], v.into());
    }

    /// Sets the hardware address length (the address fields move with it).
    pub fn set_hardware_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::HLEN] = v;
    }

    /// Sets the protocol address length (the address fields move with it).
    pub fn set_protocol_len(&mut self, v: u8) {
        self.buffer.as_mut()[field::PLEN] = v;
    }

    /// Sets the operation.
    pub fn set_operation(&mut self, v: Operation) {
        set_be::u16(&mut self.buffer.as_mut()[field::OPER], v.into());
    }

    /// Sets the sender hardware address (`a` must be `hardware_len` bytes).
    pub fn set_source_hardware_addr(&mut self, a: &[u8]) {
        let r = field::sha(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[r].copy_from_slice(a);
    }

    /// Sets the sender protocol address (`a` must be `protocol_len` bytes).
    pub fn set_source_protocol_addr(&mut self, a: &[u8]) {
        let r = field::spa(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[r].copy_from_slice(a);
    }

    /// Sets the target hardware address (`a` must be `hardware_len` bytes).
    pub fn set_target_hardware_addr(&mut self, a: &[u8]) {
        let r = field::tha(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[r].copy_from_slice(a);
    }

    /// Sets the target protocol address (`a` must be `protocol_len` bytes).
    pub fn set_target_protocol_addr(&mut self, a: &[u8]) {
        let r = field::tpa(self.hardware_len(), self.protocol_len());
        self.buffer.as_mut()[r].copy_from_slice(a);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ARP ({e})"),
        }
    }
}

/// The parsed contents of an Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Operation.
    pub operation: Operation,
    /// Sender MAC address.
    pub source_hardware_addr: EthernetAddress,
    /// Sender IPv4 address.
    pub source_protocol_addr: Ipv4Addr,
    /// Target MAC address.
    pub target_hardware_addr: EthernetAddress,
    /// Target IPv4 address.
    pub target_protocol_addr: Ipv4Addr,
}

impl Repr {
    /// Reads an Ethernet/IPv4 ARP packet; other address types are
    /// [`ErrorKind::Unsupported`].
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if !packet.is_ethernet_ipv4() {
            return Err(Error::new(
                ErrorKind::Unsupported,
                Protocol::Arp,
                Reason::Message("not Ethernet/IPv4 ARP"),
            ));
        }
        Ok(Repr {
            operation: packet.operation(),
            source_hardware_addr: EthernetAddress::from_bytes(packet.source_hardware_addr()),
            source_protocol_addr: ipv4(packet.source_protocol_addr()),
            target_hardware_addr: EthernetAddress::from_bytes(packet.target_hardware_addr()),
            target_protocol_addr: ipv4(packet.target_protocol_addr()),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        ETHERNET_IPV4_LEN
    }

    /// Writes the packet.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_hardware_type(HTYPE_ETHERNET);
        packet.set_protocol_type(EtherType::Ipv4);
        packet.set_hardware_len(6);
        packet.set_protocol_len(4);
        packet.set_operation(self.operation);
        packet.set_source_hardware_addr(&self.source_hardware_addr.0);
        packet.set_source_protocol_addr(&self.source_protocol_addr.octets());
        packet.set_target_hardware_addr(&self.target_hardware_addr.0);
        packet.set_target_protocol_addr(&self.target_protocol_addr.octets());
    }
}

fn ipv4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

impl fmt::Display for Repr {
    /// tcpdump's wording: `Request who-has A tell B`, `Reply A is-at M`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.operation {
            Operation::Request => write!(
                f,
                "Request who-has {} tell {}",
                self.target_protocol_addr, self.source_protocol_addr
            ),
            Operation::Reply => write!(
                f,
                "Reply {} is-at {}",
                self.source_protocol_addr, self.source_hardware_addr
            ),
            Operation::RarpRequest => write!(
                f,
                "Reverse Request who-is {} tell {}",
                self.target_hardware_addr, self.source_hardware_addr
            ),
            Operation::RarpReply => write!(
                f,
                "Reverse Reply {} at {}",
                self.target_hardware_addr, self.target_protocol_addr
            ),
            Operation::InArpRequest => write!(
                f,
                "Inverse Request who-is {} tell {}",
                self.target_hardware_addr, self.source_hardware_addr
            ),
            Operation::InArpReply => write!(
                f,
                "Inverse Reply {} at {}",
                self.source_hardware_addr, self.source_protocol_addr
            ),
            Operation::Unknown(op) => write!(f, "Unknown operation {op}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's 802.1ad_QinQ.pcap, frame 1, bytes 22..50.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x00, 0x20, 0xd2, 0x5a, 0xfb, 0x3f, 0xac,
        0x15, 0x4f, 0x61, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xac, 0x15, 0x4f, 0x64,
    ];

    #[test]
    fn reads_request() {
        let p = Packet::new_checked(&REQUEST[..]).unwrap();
        assert!(p.is_ethernet_ipv4());
        assert_eq!(p.header_len(), 28);
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.operation, Operation::Request);
        assert_eq!(r.source_protocol_addr, Ipv4Addr::new(172, 21, 79, 97));
        assert_eq!(r.target_protocol_addr, Ipv4Addr::new(172, 21, 79, 100));
        assert_eq!(
            r.to_string(),
            "Request who-has 172.21.79.100 tell 172.21.79.97"
        );
    }

    #[test]
    fn address_lengths_come_from_the_header() {
        let mut b = REQUEST;
        b[4] = 200; // hlen far beyond the buffer
        let e = Packet::new_checked(&b[..]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Truncated);
        assert_eq!(
            e.reason(),
            Reason::Short {
                need: 8 + 2 * 204,
                have: 28
            }
        );
        b[4] = 0;
        b[5] = 0;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.source_hardware_addr(), &[] as &[u8]);
        assert_eq!(Repr::parse(&p).unwrap_err().kind(), ErrorKind::Unsupported);
    }

    proptest! {
        #[test]
        fn round_trip(op in any::<u16>(), sha in any::<[u8; 6]>(), spa in any::<[u8; 4]>(),
                      tha in any::<[u8; 6]>(), tpa in any::<[u8; 4]>()) {
            let repr = Repr {
                operation: op.into(),
                source_hardware_addr: EthernetAddress(sha),
                source_protocol_addr: spa.into(),
                target_hardware_addr: EthernetAddress(tha),
                target_protocol_addr: tpa.into(),
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
