//! IPsec authentication header (RFC 4302), in IPv4 or in an IPv6
//! extension header chain.

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const NXT_HDR: usize = 0;
    pub const PAYLOAD_LEN: usize = 1;
    pub const RESERVED: Field = 2..4;
    pub const SPI: Field = 4..8;
    pub const SEQ: Field = 8..12;
}

/// Length of the fixed part of the header (before the integrity check
/// value).
pub const HEADER_LEN: usize = field::SEQ.end;

/// A read/write view of an authentication header.
#[derive(Debug, Clone)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer and checks that the whole header fits.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the fixed part fits, that the length field covers it,
    /// and that the whole header (with its ICV) fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < 2 {
            return Err(Error::short(Protocol::Ah, HEADER_LEN, len));
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ah,
                Reason::Below {
                    field: "header length",
                    value: hl as u32,
                    min: HEADER_LEN as u32,
                },
            ));
        }
        if len < hl {
            return Err(Error::short(Protocol::Ah, hl, len));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// The raw payload length field (32-bit words minus 2).
    pub fn payload_len_field(&self) -> u8 {
        self.buffer.as_ref()[field::PAYLOAD_LEN]
    }

    /// Length of the whole header in bytes.
    pub fn header_len(&self) -> usize {
        (usize::from(self.payload_len_field()) + 2) * 4
    }

    /// Security parameters index.
    pub fn spi(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::SPI])
    }

    /// Sequence number.
    pub fn sequence(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::SEQ])
    }

    /// Integrity check value.
    pub fn icv(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::NXT_HDR] = v.into();
    }

    /// Sets the raw payload length field.
    pub fn set_payload_len_field(&mut self, v: u8) {
        self.buffer.as_mut()[field::PAYLOAD_LEN] = v;
    }

    /// Sets the security parameters index.
    pub fn set_spi(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::SPI], v);
    }

    /// Sets the sequence number.
    pub fn set_sequence(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::SEQ], v);
    }

    /// The integrity check value, writable.
    pub fn icv_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Header<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.check_len() {
            Ok(()) => write!(
                f,
                "AH(spi=0x{:08x},seq=0x{:x})",
                self.spi(),
                self.sequence()
            ),
            Err(e) => write!(f, "AH ({e})"),
        }
    }
}

/// The parsed contents of an authentication header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Next header.
    pub next_header: IpProtocol,
    /// Security parameters index.
    pub spi: u32,
    /// Sequence number.
    pub sequence: u32,
    /// Integrity check value (a multiple of 4 bytes in length).
    pub icv: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads a checked header.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(header: &Header<&'a T>) -> Result<Repr<'a>> {
        header.check_len()?;
        let buf: &'a [u8] = T::as_ref(header.buffer);
        Ok(Repr {
            next_header: header.next_header(),
            spi: header.spi(),
            sequence: header.sequence(),
            icv: &buf[HEADER_LEN..header.header_len()],
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN + self.icv.len()
    }

    /// Writes the header; the ICV length must be a multiple of 4 that fits
    /// the length field.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Header<T>) -> Result<()> {
        let words = self.buffer_len() / 4;
        if !self.icv.len().is_multiple_of(4) || words - 2 > usize::from(u8::MAX) {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ah,
                Reason::Invalid {
                    field: "ICV length",
                    value: crate::error::sat32(self.icv.len()),
                },
            ));
        }
        header.set_next_header(self.next_header);
        header.set_payload_len_field((words - 2) as u8);
        set_be::u16(&mut header.buffer.as_mut()[field::RESERVED], 0);
        header.set_spi(self.spi);
        header.set_sequence(self.sequence);
        header.icv_mut().copy_from_slice(self.icv);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_fields() {
        // AH with a 12-byte ICV (HMAC-SHA1-96): payload length 4.
        let mut b = [0u8; 24];
        b[..12].copy_from_slice(&[6, 4, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 7]);
        let h = Header::new_checked(&b[..]).unwrap();
        assert_eq!(h.header_len(), 24);
        assert_eq!(h.next_header(), IpProtocol::Tcp);
        assert_eq!(h.spi(), 0x1234);
        assert_eq!(h.sequence(), 7);
        assert_eq!(h.icv().len(), 12);
        assert_eq!(h.to_string(), "AH(spi=0x00001234,seq=0x7)");
        assert_eq!(
            Header::new_checked(&b[..20]).unwrap_err().kind(),
            ErrorKind::Truncated
        );
        b[1] = 0; // 8 bytes: shorter than the fixed part
        assert_eq!(
            Header::new_checked(&b[..]).unwrap_err().kind(),
            ErrorKind::BadLength
        );
    }

    proptest! {
        #[test]
        fn round_trip(nh in any::<u8>(), spi in any::<u32>(), seq in any::<u32>(), words in 0usize..8) {
            let icv = vec![0xa5u8; words * 4];
            let repr = Repr { next_header: nh.into(), spi, sequence: seq, icv: &icv };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Header::new_unchecked(&mut buf[..])).unwrap();
            let h = Header::new_checked(&buf[..]).unwrap();
            prop_assert_eq!(Repr::parse(&h).unwrap(), repr);
        }
    }
}
