//! PPPoE header (RFC 2516) and, for the session stage, the PPP protocol
//! field that follows it.

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const VER_TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const SESSION_ID: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const PPP_PROTOCOL: Field = 6..8;
}

/// Length of the PPPoE header (without the PPP protocol field).
pub const HEADER_LEN: usize = field::LENGTH.end;

/// Length of a session-stage header with its PPP protocol field.
pub const SESSION_HEADER_LEN: usize = field::PPP_PROTOCOL.end;

crate::enum_with_unknown! {
    /// PPP protocol numbers.
    pub enum PppProtocol(u16) {
        /// IPv4.
        Ipv4 = 0x0021,
        /// IPv6.
        Ipv6 = 0x0057,
        /// MPLS unicast.
        Mpls = 0x0281,
        /// IP control protocol.
        Ipcp = 0x8021,
        /// IPv6 control protocol.
        Ipv6cp = 0x8057,
        /// Link control protocol.
        Lcp = 0xc021,
        /// Password authentication.
        Pap = 0xc023,
        /// Challenge handshake authentication.
        Chap = 0xc223,
    }
}

impl PppProtocol {
    /// tcpdump's name for it.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            PppProtocol::Ipv4 => "IP",
            PppProtocol::Ipv6 => "IPv6",
            PppProtocol::Mpls => "MPLS",
            PppProtocol::Ipcp => "IPCP",
            PppProtocol::Ipv6cp => "IP6CP",
            PppProtocol::Lcp => "LCP",
            PppProtocol::Pap => "PAP",
            PppProtocol::Chap => "CHAP",
            PppProtocol::Unknown(_) => return None,
        })
    }
}

/// A read/write view of a PPPoE packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the 6-byte header fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the 6-byte header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Pppoe, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Version (1).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// Type (1).
    pub fn ptype(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// Code (0 in the session stage; PADI/PADO/… in discovery).
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[field::CODE]
    }

    /// Session identifier.
    pub fn session_id(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::SESSION_ID])
    }

    /// Payload length (after the 6-byte header) as claimed.
    pub fn payload_len(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The PPP protocol of a session-stage packet, if the bytes are there.
    pub fn ppp_protocol(&self) -> Option<PppProtocol> {
        self.buffer
            .as_ref()
            .get(field::PPP_PROTOCOL)
            .map(|b| PppProtocol::from(be::u16(b)))
    }

    /// The payload bytes present (clipped to the length field).
    pub fn payload(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(b.len());
        &b[HEADER_LEN..end]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets version and type.
    pub fn set_version_type(&mut self, version: u8, ptype: u8) {
        self.buffer.as_mut()[field::VER_TYPE] = (version << 4) | (ptype & 0x0f);
    }

    /// Sets the code.
    pub fn set_code(&mut self, v: u8) {
        self.buffer.as_mut()[field::CODE] = v;
    }

    /// Sets the session identifier.
    pub fn set_session_id(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::SESSION_ID], v);
    }

    /// Sets the payload length.
    pub fn set_payload_len(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::LENGTH], v);
    }

    /// Sets the PPP protocol (the buffer must hold 8 bytes).
    pub fn set_ppp_protocol(&mut self, v: PppProtocol) {
        set_be::u16(&mut self.buffer.as_mut()[field::PPP_PROTOCOL], v.into());
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.check_len() {
            Ok(()) => write!(f, "PPPoE  [ses 0x{:x}]", self.session_id()),
            Err(e) => write!(f, "PPPoE ({e})"),
        }
    }
}

/// The parsed contents of a session-stage PPPoE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Session identifier.
    pub session_id: u16,
    /// PPP protocol of the payload.
    pub protocol: PppProtocol,
    /// Length of the PPP payload after the protocol field.
    pub payload_len: usize,
}

impl Repr {
    /// Reads a session-stage header: version and type 1, code 0, and a
    /// length that covers the PPP protocol field.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.version() != 1 || packet.ptype() != 1 || packet.code() != 0 {
            return Err(Error::new(
                ErrorKind::Unsupported,
                Protocol::Pppoe,
                Reason::Message("not a PPPoE v1 session packet"),
            ));
        }
        let Some(protocol) = packet.ppp_protocol() else {
            let len = packet.buffer.as_ref().len();
            return Err(Error::short(Protocol::Pppoe, SESSION_HEADER_LEN, len));
        };
        let len = usize::from(packet.payload_len());
        if len < 2 {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Pppoe,
                Reason::Below {
                    field: "length",
                    value: len as u32,
                    min: 2,
                },
            ));
        }
        Ok(Repr {
            session_id: packet.session_id(),
            protocol,
            payload_len: len - 2,
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        SESSION_HEADER_LEN
    }

    /// Writes the header and PPP protocol field.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let Ok(len) = u16::try_from(self.payload_len + 2) else {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Pppoe,
                Reason::Exceeds {
                    field: "length",
                    value: crate::error::sat32(self.payload_len + 2),
                    available: u16::MAX.into(),
                },
            ));
        };
        packet.set_version_type(1, 1);
        packet.set_code(0);
        packet.set_session_id(self.session_id);
        packet.set_payload_len(len);
        packet.set_ppp_protocol(self.protocol);
        Ok(())
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PPPoE  [ses 0x{:x}] ", self.session_id)?;
        match self.protocol.name() {
            Some(n) => write!(f, "{n}"),
            None => write!(f, "PPP-#{:04x}", u16::from(self.protocol)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's pppoes.pcap, frame 1, bytes 14..22: session 0x17, LCP.
    const HEADER: [u8; 8] = [0x11, 0x00, 0x00, 0x17, 0x00, 0x0e, 0xc0, 0x21];

    #[test]
    fn reads_session_header() {
        let p = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(p.session_id(), 0x17);
        assert_eq!(p.payload_len(), 14);
        assert_eq!(p.ppp_protocol(), Some(PppProtocol::Lcp));
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 12);
        assert_eq!(r.to_string(), "PPPoE  [ses 0x17] LCP");
        let p = Packet::new_checked(&HEADER[..6]).unwrap();
        assert_eq!(p.ppp_protocol(), None);
        assert_eq!(Repr::parse(&p).unwrap_err().kind(), ErrorKind::Truncated);
    }

    proptest! {
        #[test]
        fn round_trip(sid in any::<u16>(), proto in any::<u16>(), len in 0usize..65534) {
            let repr = Repr { session_id: sid, protocol: proto.into(), payload_len: len };
            let mut buf = [0u8; SESSION_HEADER_LEN];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
