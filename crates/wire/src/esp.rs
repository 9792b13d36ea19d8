//! IPsec encapsulating security payload (RFC 4303): the cleartext security
//! parameters index and sequence number. Everything after them is
//! encrypted, so a dissection ends here.

use core::fmt;

use crate::error::{Error, Protocol, Result};
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const SPI: Field = 0..4;
    pub const SEQ: Field = 4..8;
}

/// Length of the cleartext part of the header.
pub const HEADER_LEN: usize = field::SEQ.end;

/// A read/write view of an ESP header.
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

    /// Checks that the 8-byte header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Esp, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Security parameters index.
    pub fn spi(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::SPI])
    }

    /// Sequence number.
    pub fn sequence(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::SEQ])
    }

    /// The encrypted bytes after the header.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the security parameters index.
    pub fn set_spi(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::SPI], v);
    }

    /// Sets the sequence number.
    pub fn set_sequence(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::SEQ], v);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "ESP ({e})"),
        }
    }
}

/// The parsed cleartext of an ESP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Security parameters index.
    pub spi: u32,
    /// Sequence number.
    pub sequence: u32,
}

impl Repr {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            spi: packet.spi(),
            sequence: packet.sequence(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_spi(self.spi);
        packet.set_sequence(self.sequence);
    }
}

impl fmt::Display for Repr {
    /// tcpdump's form: `ESP(spi=0x12345678,seq=0x1)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ESP(spi=0x{:08x},seq=0x{:x})", self.spi, self.sequence)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_fields() {
        // tcpdump's 02-sunrise-sunset-esp.pcap, frame 1, bytes 34..42.
        let b = [0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x01, 0xaa];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.spi(), 0x1234_5678);
        assert_eq!(p.sequence(), 1);
        assert_eq!(p.payload(), &[0xaa]);
        assert_eq!(p.to_string(), "ESP(spi=0x12345678,seq=0x1)");
        assert!(Packet::new_checked(&b[..7]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(spi in any::<u32>(), seq in any::<u32>()) {
            let repr = Repr { spi, sequence: seq };
            let mut buf = [0u8; HEADER_LEN];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            prop_assert_eq!(Repr::parse(&Packet::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
