//! IEEE 802.2 LLC header and its SNAP extension: what follows an 802.3
//! length field.
//!
//! The control field is one byte for unnumbered (U-format) frames and two
//! for information and supervisory frames. When both SAPs are 0xAA and the
//! control byte is 0x03, a 5-byte SNAP header (OUI and protocol) follows;
//! with OUI 00-00-00 its protocol is an EtherType.

use core::fmt;

use crate::error::{Error, Protocol, Result};
use crate::ethertype::EtherType;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const DSAP: usize = 0;
    pub const SSAP: usize = 1;
    pub const CONTROL: usize = 2;
    pub const SNAP_OUI: Field = 3..6;
    pub const SNAP_PROTOCOL: Field = 6..8;
}

/// Length of the shortest LLC header (U-format control).
pub const HEADER_LEN: usize = field::CONTROL + 1;

/// Length of an LLC header with SNAP.
pub const SNAP_HEADER_LEN: usize = field::SNAP_PROTOCOL.end;

/// The SAP value that announces SNAP.
pub const SAP_SNAP: u8 = 0xaa;
/// The SAP of spanning tree BPDUs.
pub const SAP_STP: u8 = 0x42;

/// A read/write view of an LLC (+SNAP) header.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the whole header (with the second
    /// control byte or SNAP when present) fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the first three bytes and then the whole header length.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::short(Protocol::Llc, HEADER_LEN, len));
        }
        let hl = self.header_len();
        if len < hl {
            return Err(Error::short(Protocol::Llc, hl, len));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination service access point.
    pub fn dsap(&self) -> u8 {
        self.buffer.as_ref()[field::DSAP]
    }

    /// Source service access point.
    pub fn ssap(&self) -> u8 {
        self.buffer.as_ref()[field::SSAP]
    }

    /// First control byte.
    pub fn control(&self) -> u8 {
        self.buffer.as_ref()[field::CONTROL]
    }

    /// True if a SNAP header follows.
    pub fn is_snap(&self) -> bool {
        self.dsap() == SAP_SNAP && self.ssap() == SAP_SNAP && self.control() == 0x03
    }

    /// Header length: 3 (U-format), 4 (I/S-format) or 8 (SNAP).
    pub fn header_len(&self) -> usize {
        if self.is_snap() {
            SNAP_HEADER_LEN
        } else if self.control() & 0x03 == 0x03 {
            HEADER_LEN
        } else {
            HEADER_LEN + 1
        }
    }

    /// SNAP organisation code (needs [`Packet::is_snap`]).
    pub fn snap_oui(&self) -> u32 {
        let b = &self.buffer.as_ref()[field::SNAP_OUI];
        u32::from_be_bytes([0, b[0], b[1], b[2]])
    }

    /// SNAP protocol id (an EtherType when the OUI is 0).
    pub fn snap_protocol(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::SNAP_PROTOCOL])
    }

    /// The EtherType of the payload, for SNAP with OUI 0 (RFC 1042).
    pub fn ethertype(&self) -> Option<EtherType> {
        (self.is_snap() && self.snap_oui() == 0).then(|| EtherType::from(self.snap_protocol()))
    }

    /// The bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the SAPs.
    pub fn set_saps(&mut self, dsap: u8, ssap: u8) {
        let b = self.buffer.as_mut();
        b[field::DSAP] = dsap;
        b[field::SSAP] = ssap;
    }

    /// Sets the first control byte.
    pub fn set_control(&mut self, v: u8) {
        self.buffer.as_mut()[field::CONTROL] = v;
    }

    /// Sets the SNAP OUI (low 24 bits) and protocol.
    pub fn set_snap(&mut self, oui: u32, protocol: u16) {
        let b = self.buffer.as_mut();
        b[field::SNAP_OUI].copy_from_slice(&oui.to_be_bytes()[1..]);
        set_be::u16(&mut b[field::SNAP_PROTOCOL], protocol);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "LLC ({e})"),
        }
    }
}

/// The parsed contents of an LLC header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Repr {
    /// Plain LLC with a U-format (one-byte) control field.
    Llc {
        /// Destination SAP.
        dsap: u8,
        /// Source SAP.
        ssap: u8,
        /// Control byte.
        control: u8,
    },
    /// LLC with a two-byte control field.
    LlcLong {
        /// Destination SAP.
        dsap: u8,
        /// Source SAP.
        ssap: u8,
        /// Control field.
        control: u16,
    },
    /// SNAP.
    Snap {
        /// Organisation code.
        oui: u32,
        /// Protocol id.
        protocol: u16,
    },
}

impl Repr {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(if packet.is_snap() {
            Repr::Snap {
                oui: packet.snap_oui(),
                protocol: packet.snap_protocol(),
            }
        } else if packet.header_len() == HEADER_LEN {
            Repr::Llc {
                dsap: packet.dsap(),
                ssap: packet.ssap(),
                control: packet.control(),
            }
        } else {
            Repr::LlcLong {
                dsap: packet.dsap(),
                ssap: packet.ssap(),
                control: be::u16(&packet.buffer.as_ref()[field::CONTROL..field::CONTROL + 2]),
            }
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        match self {
            Repr::Llc { .. } => HEADER_LEN,
            Repr::LlcLong { .. } => HEADER_LEN + 1,
            Repr::Snap { .. } => SNAP_HEADER_LEN,
        }
    }

    /// Writes the header. A `Llc` control byte must be U-format and a
    /// `LlcLong` control must not be (else it would read back differently);
    /// the low bits are forced accordingly.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        match *self {
            Repr::Llc {
                dsap,
                ssap,
                control,
            } => {
                packet.set_saps(dsap, ssap);
                packet.set_control(control | 0x03);
            }
            Repr::LlcLong {
                dsap,
                ssap,
                control,
            } => {
                packet.set_saps(dsap, ssap);
                let c = if control & 0x0300 == 0x0300 {
                    control & !0x0100
                } else {
                    control
                };
                set_be::u16(
                    &mut packet.buffer.as_mut()[field::CONTROL..field::CONTROL + 2],
                    c,
                );
            }
            Repr::Snap { oui, protocol } => {
                packet.set_saps(SAP_SNAP, SAP_SNAP);
                packet.set_control(0x03);
                packet.set_snap(oui, protocol);
            }
        }
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Repr::Llc {
                dsap,
                ssap,
                control,
            } => write!(
                f,
                "LLC, dsap 0x{dsap:02x}, ssap 0x{ssap:02x}, ctrl 0x{control:02x}"
            ),
            Repr::LlcLong {
                dsap,
                ssap,
                control,
            } => write!(
                f,
                "LLC, dsap 0x{dsap:02x}, ssap 0x{ssap:02x}, ctrl 0x{control:04x}"
            ),
            Repr::Snap { oui, protocol } => {
                write!(f, "SNAP, oui 0x{oui:06x}, pid 0x{protocol:04x}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_stp_and_snap() {
        // tcpdump's 802.1w_rapid_STP.pcap, frame 1, bytes 14..17.
        let stp = [0x42, 0x42, 0x03, 0x00, 0x00];
        let p = Packet::new_checked(&stp[..]).unwrap();
        assert_eq!(p.dsap(), SAP_STP);
        assert_eq!(p.header_len(), 3);
        assert!(!p.is_snap());
        assert_eq!(p.payload(), &[0, 0]);
        // RFC 1042 SNAP carrying IPv4.
        let snap = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00];
        let p = Packet::new_checked(&snap[..]).unwrap();
        assert_eq!(p.ethertype(), Some(EtherType::Ipv4));
        assert!(Packet::new_checked(&snap[..7]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(kind in 0u8..3, d in any::<u8>(), s in any::<u8>(), c in any::<u16>(), oui in 0u32..0x100_0000, p in any::<u16>()) {
            let repr = match kind {
                0 if !(d == SAP_SNAP && s == SAP_SNAP) => Repr::Llc { dsap: d, ssap: s, control: (c as u8) | 3 },
                1 if c & 0x0300 != 0x0300 => Repr::LlcLong { dsap: d, ssap: s, control: c },
                _ => Repr::Snap { oui, protocol: p },
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
