//! IPv6 fragment header (RFC 8200 §4.5).

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const NXT_HDR: usize = 0;
    pub const RESERVED: usize = 1;
    pub const FR_OF_M: Field = 2..4;
    pub const IDENT: Field = 4..8;
}

/// Length of the fragment header.
pub const HEADER_LEN: usize = field::IDENT.end;

/// A read/write view of a fragment header.
#[derive(Debug, Clone)]
pub struct Header<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Header<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Header<T> {
        Header { buffer }
    }

    /// Wraps a buffer and checks that the header fits.
    pub fn new_checked(buffer: T) -> Result<Header<T>> {
        let h = Self::new_unchecked(buffer);
        h.check_len()?;
        Ok(h)
    }

    /// Checks that the 8-byte header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Ipv6Fragment, HEADER_LEN, len))
        } else {
            Ok(())
        }
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Next header.
    pub fn next_header(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::NXT_HDR])
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::FR_OF_M]) & 0xfff8
    }

    /// More fragments.
    pub fn more_frags(&self) -> bool {
        be::u16(&self.buffer.as_ref()[field::FR_OF_M]) & 1 != 0
    }

    /// Identification.
    pub fn ident(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::IDENT])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Header<T> {
    /// Sets the next header.
    pub fn set_next_header(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::NXT_HDR] = v.into();
    }

    /// Clears the reserved byte.
    pub fn clear_reserved(&mut self) {
        self.buffer.as_mut()[field::RESERVED] = 0;
    }

    /// Sets the fragment offset in bytes (rounded down to a multiple of 8).
    pub fn set_frag_offset(&mut self, bytes: u16) {
        let w = (be::u16(&self.buffer.as_ref()[field::FR_OF_M]) & 0x0007) | (bytes & 0xfff8);
        set_be::u16(&mut self.buffer.as_mut()[field::FR_OF_M], w);
    }

    /// Sets more fragments.
    pub fn set_more_frags(&mut self, v: bool) {
        let w = (be::u16(&self.buffer.as_ref()[field::FR_OF_M]) & 0xfffe) | u16::from(v);
        set_be::u16(&mut self.buffer.as_mut()[field::FR_OF_M], w);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::IDENT], v);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Header<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "frag ({e})"),
        }
    }
}

/// The parsed contents of a fragment header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Next header.
    pub next_header: IpProtocol,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
    /// More fragments.
    pub more_frags: bool,
    /// Identification.
    pub ident: u32,
}

impl Repr {
    /// Reads a header.
    pub fn parse<T: AsRef<[u8]>>(header: &Header<T>) -> Result<Repr> {
        header.check_len()?;
        Ok(Repr {
            next_header: header.next_header(),
            frag_offset: header.frag_offset(),
            more_frags: header.more_frags(),
            ident: header.ident(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header; the offset must be a multiple of 8.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, header: &mut Header<T>) -> Result<()> {
        if !self.frag_offset.is_multiple_of(8) {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv6Fragment,
                Reason::Invalid {
                    field: "fragment offset",
                    value: self.frag_offset.into(),
                },
            ));
        }
        header.set_next_header(self.next_header);
        header.clear_reserved();
        set_be::u16(&mut header.buffer.as_mut()[field::FR_OF_M], 0);
        header.set_frag_offset(self.frag_offset);
        header.set_more_frags(self.more_frags);
        header.set_ident(self.ident);
        Ok(())
    }
}

impl fmt::Display for Repr {
    /// tcpdump's form: `frag (0x00000001:0|1232)` needs the payload length;
    /// this prints identification, offset and the more-fragments flag.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "frag (0x{:08x}:{}", self.ident, self.frag_offset)?;
        if self.more_frags {
            f.write_str("+")?;
        }
        f.write_str(")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_fields() {
        let b = [17u8, 0, 0x05, 0xa9, 0xf8, 0x8e, 0xb4, 0x66];
        let h = Header::new_checked(&b[..]).unwrap();
        assert_eq!(h.next_header(), IpProtocol::Udp);
        assert_eq!(h.frag_offset(), 1448);
        assert!(h.more_frags());
        assert_eq!(h.ident(), 0xf88e_b466);
        assert_eq!(h.to_string(), "frag (0xf88eb466:1448+)");
        assert!(Header::new_checked(&b[..7]).is_err());
    }

    proptest! {
        #[test]
        fn round_trip(nh in any::<u8>(), off in 0u16..8192, mf in any::<bool>(), id in any::<u32>()) {
            let repr = Repr { next_header: nh.into(), frag_offset: off << 3, more_frags: mf, ident: id };
            let mut buf = vec![0xffu8; repr.buffer_len()];
            repr.emit(&mut Header::new_unchecked(&mut buf[..])).unwrap();
            prop_assert_eq!(Repr::parse(&Header::new_checked(&buf[..]).unwrap()).unwrap(), repr);
        }
    }
}
