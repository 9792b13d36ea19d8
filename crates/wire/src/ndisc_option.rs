//! Neighbor discovery options (RFC 4861 §4.6): the TLVs that follow router
//! and neighbor solicitations and advertisements and redirects.
//!
//! Each option is a type byte, a length byte in units of 8 octets (zero is
//! invalid), and data. [`OptionIter`] walks a list of them; a zero or
//! overlong length ends the walk with an error, as RFC 4861 says such a
//! packet must be discarded.

use core::fmt;
use core::net::Ipv6Addr;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const TYPE: usize = 0;
    pub const LENGTH: usize = 1;
    pub const DATA: Field = 2..8;
    // Prefix information (type 3), offsets from the option's start.
    pub const PREFIX_LEN: usize = 2;
    pub const PREFIX_FLAGS: usize = 3;
    pub const VALID_LIFETIME: Field = 4..8;
    pub const PREFERRED_LIFETIME: Field = 8..12;
    pub const PREFIX: Field = 16..32;
    // MTU (type 5).
    pub const MTU: Field = 4..8;
}

/// Length of the smallest option (one 8-octet unit).
pub const HEADER_LEN: usize = field::DATA.end;

crate::enum_with_unknown! {
    /// Neighbor discovery option type.
    pub enum OptionType(u8) {
        /// Source link-layer address.
        SourceLinkLayerAddr = 1,
        /// Target link-layer address.
        TargetLinkLayerAddr = 2,
        /// Prefix information.
        PrefixInformation = 3,
        /// Redirected header.
        RedirectedHeader = 4,
        /// MTU.
        Mtu = 5,
        /// Nonce (RFC 3971).
        Nonce = 14,
        /// Recursive DNS server (RFC 8106).
        Rdnss = 25,
    }
}

/// A read/write view of one option.
#[derive(Debug, Clone)]
pub struct NdiscOption<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> NdiscOption<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> NdiscOption<T> {
        NdiscOption { buffer }
    }

    /// Wraps a buffer and checks the option's length.
    pub fn new_checked(buffer: T) -> Result<NdiscOption<T>> {
        let o = Self::new_unchecked(buffer);
        o.check_len()?;
        Ok(o)
    }

    /// Checks that the type and length bytes are there, that the length is
    /// not zero, that the whole option fits, and that the fixed fields of
    /// prefix information and MTU options fit in it.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < 2 {
            return Err(Error::short(Protocol::Icmpv6, 2, len));
        }
        let ol = self.option_len();
        if ol == 0 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Icmpv6,
                Reason::Invalid {
                    field: "option length",
                    value: 0,
                },
            ));
        }
        if len < ol {
            return Err(Error::short(Protocol::Icmpv6, ol, len));
        }
        let need = match self.option_type() {
            OptionType::PrefixInformation => field::PREFIX.end,
            OptionType::Mtu => field::MTU.end,
            _ => 0,
        };
        if ol < need {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Icmpv6,
                Reason::Below {
                    field: "option length",
                    value: ol as u32,
                    min: need as u32,
                },
            ));
        }
        Ok(())
    }

    /// Option type.
    pub fn option_type(&self) -> OptionType {
        OptionType::from(self.buffer.as_ref()[field::TYPE])
    }

    /// Option length in bytes (the length field × 8).
    pub fn option_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::LENGTH]) * 8
    }

    /// The option's data (after the type and length bytes).
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[field::DATA.start..self.option_len()]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> NdiscOption<T> {
    /// Sets the option type.
    pub fn set_option_type(&mut self, t: OptionType) {
        self.buffer.as_mut()[field::TYPE] = t.into();
    }

    /// Sets the length field (in 8-octet units).
    pub fn set_len_units(&mut self, units: u8) {
        self.buffer.as_mut()[field::LENGTH] = units;
    }

    /// The option's data, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        let l = self.option_len();
        &mut self.buffer.as_mut()[field::DATA.start..l]
    }
}

/// A parsed neighbor discovery option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Repr<'a> {
    /// Source link-layer address (for Ethernet, 6 bytes).
    SourceLinkLayerAddr(&'a [u8]),
    /// Target link-layer address.
    TargetLinkLayerAddr(&'a [u8]),
    /// Prefix information.
    PrefixInformation {
        /// Prefix length in bits.
        prefix_len: u8,
        /// Flags (on-link 0x80, autonomous 0x40).
        flags: u8,
        /// Valid lifetime in seconds.
        valid_lifetime: u32,
        /// Preferred lifetime in seconds.
        preferred_lifetime: u32,
        /// The prefix.
        prefix: Ipv6Addr,
    },
    /// MTU.
    Mtu(u32),
    /// Any other option, with its data (padding included).
    Other {
        /// Option type.
        kind: OptionType,
        /// Data after the type and length bytes.
        data: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Reads a checked option.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(opt: &NdiscOption<&'a T>) -> Result<Repr<'a>> {
        opt.check_len()?;
        let buf: &'a [u8] = T::as_ref(opt.buffer);
        let data = &buf[field::DATA.start..opt.option_len()];
        Ok(match opt.option_type() {
            // Link-layer addresses are reported without padding when they
            // are Ethernet-sized.
            OptionType::SourceLinkLayerAddr if data.len() == 6 => Repr::SourceLinkLayerAddr(data),
            OptionType::TargetLinkLayerAddr if data.len() == 6 => Repr::TargetLinkLayerAddr(data),
            OptionType::PrefixInformation if opt.option_len() == 32 => {
                let mut p = [0u8; 16];
                p.copy_from_slice(&buf[field::PREFIX]);
                Repr::PrefixInformation {
                    prefix_len: buf[field::PREFIX_LEN],
                    flags: buf[field::PREFIX_FLAGS],
                    valid_lifetime: be::u32(&buf[field::VALID_LIFETIME]),
                    preferred_lifetime: be::u32(&buf[field::PREFERRED_LIFETIME]),
                    prefix: Ipv6Addr::from(p),
                }
            }
            OptionType::Mtu if opt.option_len() == 8 => Repr::Mtu(be::u32(&buf[field::MTU])),
            kind => Repr::Other { kind, data },
        })
    }

    /// Bytes [`Repr::emit`] writes (a multiple of 8).
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::SourceLinkLayerAddr(d) | Repr::TargetLinkLayerAddr(d) => {
                (d.len() + 2).div_ceil(8) * 8
            }
            Repr::PrefixInformation { .. } => 32,
            Repr::Mtu(_) => 8,
            Repr::Other { data, .. } => (data.len() + 2).div_ceil(8) * 8,
        }
    }

    /// Writes the option, padding with zeros to a multiple of 8 bytes.
    /// Fails if it would be longer than 2040 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, opt: &mut NdiscOption<T>) -> Result<()> {
        let len = self.buffer_len();
        if len > 255 * 8 {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Icmpv6,
                Reason::Exceeds {
                    field: "option length",
                    value: crate::error::sat32(len),
                    available: 255 * 8,
                },
            ));
        }
        let (kind, data): (OptionType, &[u8]) = match *self {
            Repr::SourceLinkLayerAddr(d) => (OptionType::SourceLinkLayerAddr, d),
            Repr::TargetLinkLayerAddr(d) => (OptionType::TargetLinkLayerAddr, d),
            Repr::Other { kind, data } => (kind, data),
            Repr::PrefixInformation { .. } => (OptionType::PrefixInformation, &[]),
            Repr::Mtu(_) => (OptionType::Mtu, &[]),
        };
        opt.set_option_type(kind);
        opt.set_len_units((len / 8) as u8);
        let buf = opt.buffer.as_mut();
        buf[field::DATA.start..len].fill(0);
        buf[field::DATA.start..field::DATA.start + data.len()].copy_from_slice(data);
        match *self {
            Repr::PrefixInformation {
                prefix_len,
                flags,
                valid_lifetime,
                preferred_lifetime,
                prefix,
            } => {
                buf[field::PREFIX_LEN] = prefix_len;
                buf[field::PREFIX_FLAGS] = flags;
                set_be::u32(&mut buf[field::VALID_LIFETIME], valid_lifetime);
                set_be::u32(&mut buf[field::PREFERRED_LIFETIME], preferred_lifetime);
                buf[field::PREFIX].copy_from_slice(&prefix.octets());
            }
            Repr::Mtu(mtu) => set_be::u32(&mut buf[field::MTU], mtu),
            _ => {}
        }
        Ok(())
    }
}

impl fmt::Display for Repr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Repr::SourceLinkLayerAddr(a) => {
                f.write_str("source link-address option ")?;
                hex_colons(f, a)
            }
            Repr::TargetLinkLayerAddr(a) => {
                f.write_str("destination link-address option ")?;
                hex_colons(f, a)
            }
            Repr::PrefixInformation {
                prefix_len, prefix, ..
            } => write!(f, "prefix info option {prefix}/{prefix_len}"),
            Repr::Mtu(m) => write!(f, "mtu option {m}"),
            Repr::Other { kind, data } => {
                write!(
                    f,
                    "option type {} ({} bytes)",
                    u8::from(kind),
                    data.len() + 2
                )
            }
        }
    }
}

fn hex_colons(f: &mut fmt::Formatter<'_>, b: &[u8]) -> fmt::Result {
    for (i, x) in b.iter().enumerate() {
        if i > 0 {
            f.write_str(":")?;
        }
        write!(f, "{x:02x}")?;
    }
    Ok(())
}

/// Iterates over a list of options; a bad option ends the walk with an
/// error (offset relative to the start of the list).
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> OptionIter<'a> {
    /// Iterates over `data`, the options after a message's fixed part.
    pub fn new(data: &'a [u8]) -> OptionIter<'a> {
        OptionIter {
            data,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<Repr<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let opt = NdiscOption::new_unchecked(rest);
        match Repr::parse(&opt) {
            Ok(r) => {
                self.pos += opt.option_len();
                Some(Ok(r))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e.shifted(self.pos)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's icmpv6.pcap, frame 1: the router advertisement's source
    // link-address option (b0:99:28:c8:d6:6c).
    const SLLA: [u8; 8] = [0x01, 0x01, 0xb0, 0x99, 0x28, 0xc8, 0xd6, 0x6c];

    #[test]
    fn reads_link_layer_address() {
        let mut it = OptionIter::new(&SLLA);
        let o = it.next().unwrap().unwrap();
        assert_eq!(o, Repr::SourceLinkLayerAddr(&SLLA[2..]));
        assert_eq!(
            o.to_string(),
            "source link-address option b0:99:28:c8:d6:6c"
        );
        assert!(it.next().is_none());
    }

    #[test]
    fn zero_length_is_malformed() {
        let b = [1u8, 0, 0, 0, 0, 0, 0, 0];
        let e = OptionIter::new(&b).next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        let b = [3u8, 1, 0, 0, 0, 0, 0, 0];
        let e = OptionIter::new(&b).next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadLength);
    }

    proptest! {
        #[test]
        fn round_trip(kind in 0u8..5, mac in any::<[u8; 6]>(), pl in any::<u8>(), fl in any::<u8>(),
                      v in any::<u32>(), p in any::<[u8; 16]>(), other in proptest::collection::vec(any::<u8>(), 6..30)) {
            let other_len = (other.len() + 2) / 8 * 8 - 2;
            let repr = match kind {
                0 => Repr::SourceLinkLayerAddr(&mac),
                1 => Repr::TargetLinkLayerAddr(&mac),
                2 => Repr::PrefixInformation { prefix_len: pl, flags: fl, valid_lifetime: v, preferred_lifetime: !v, prefix: p.into() },
                3 => Repr::Mtu(v),
                _ => Repr::Other { kind: OptionType::Unknown(200), data: &other[..other_len] },
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut NdiscOption::new_unchecked(&mut buf[..])).unwrap();
            let got: Vec<_> = OptionIter::new(&buf).collect::<Result<_>>().unwrap();
            prop_assert_eq!(got, vec![repr]);
        }

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            for o in OptionIter::new(&bytes) { let _ = o.map(|r| r.to_string()); }
        }
    }
}
