//! IPv4 header (RFC 791): fields, options, fragments, header checksum.
//!
//! `check_len` asks only for the header (IHL × 4 bytes): a capture cut by
//! its snapshot length still has a readable header while `total_len` claims
//! more than was captured, and that is normal. [`Packet::payload`] gives
//! the payload bytes that are present, clipped to both the buffer and
//! `total_len` (so Ethernet padding after the datagram is excluded).

use core::fmt;
use core::net::Ipv4Addr;

use crate::checksum;
use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

/// Largest IPv4 header (IHL 15).
pub const MAX_HEADER_LEN: usize = 60;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;

/// A read/write view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the header (with its options) fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the fixed header fits, that the header length is at
    /// least 20 and that the whole header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::short(Protocol::Ipv4, HEADER_LEN, len));
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ipv4,
                Reason::Below {
                    field: "header length",
                    value: hl as u32,
                    min: HEADER_LEN as u32,
                },
            ));
        }
        if len < hl {
            return Err(Error::short(Protocol::Ipv4, hl, len));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// IP version (4 for a valid packet).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Differentiated services code point.
    pub fn dscp(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] >> 2
    }

    /// Explicit congestion notification bits.
    pub fn ecn(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN] & 0x03
    }

    /// The whole type-of-service byte (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::DSCP_ECN]
    }

    /// Total length of the datagram (header and payload) as the header
    /// claims it.
    pub fn total_len(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::IDENT])
    }

    fn flags_offset(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::FLG_OFF])
    }

    /// The reserved (must be zero) flag.
    pub fn reserved_flag(&self) -> bool {
        self.flags_offset() & FLAG_RESERVED != 0
    }

    /// Don't fragment.
    pub fn dont_frag(&self) -> bool {
        self.flags_offset() & FLAG_DF != 0
    }

    /// More fragments.
    pub fn more_frags(&self) -> bool {
        self.flags_offset() & FLAG_MF != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (self.flags_offset() & 0x1fff) << 3
    }

    /// True if this is a fragment (more fragments, or a nonzero offset).
    pub fn is_fragment(&self) -> bool {
        self.flags_offset() & (FLAG_MF | 0x1fff) != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload.
    pub fn protocol(&self) -> IpProtocol {
        IpProtocol::from(self.buffer.as_ref()[field::PROTOCOL])
    }

    /// Header checksum as stored.
    pub fn checksum(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::SRC_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        let b = &self.buffer.as_ref()[field::DST_ADDR];
        Ipv4Addr::new(b[0], b[1], b[2], b[3])
    }

    /// The option bytes (between the fixed header and the payload).
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// An iterator over the options.
    pub fn option_iter(&self) -> OptionIter<'_> {
        OptionIter::new(self.options())
    }

    /// True if the header checksum is right.
    pub fn verify_checksum(&self) -> bool {
        checksum::verify_ipv4_header(&self.buffer.as_ref()[..self.header_len()])
    }

    /// The payload bytes present: from the end of the header to
    /// `total_len` or the end of the buffer, whichever comes first.
    pub fn payload(&self) -> &[u8] {
        let data = self.buffer.as_ref();
        let start = self.header_len();
        let end = usize::from(self.total_len()).min(data.len()).max(start);
        &data[start..end]
    }

    /// True if `total_len` claims more bytes than the buffer holds.
    pub fn is_cut(&self) -> bool {
        usize::from(self.total_len()) > self.buffer.as_ref().len()
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the version nibble.
    pub fn set_version(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0x0f) | (v << 4);
    }

    /// Sets the header length in bytes (rounded down to a multiple of 4;
    /// at most 60).
    pub fn set_header_len(&mut self, len: usize) {
        let ihl = (len.min(MAX_HEADER_LEN) / 4) as u8;
        let b = &mut self.buffer.as_mut()[field::VER_IHL];
        *b = (*b & 0xf0) | ihl;
    }

    /// Sets DSCP (six bits).
    pub fn set_dscp(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & 0x03) | (v << 2);
    }

    /// Sets ECN (two bits).
    pub fn set_ecn(&mut self, v: u8) {
        let b = &mut self.buffer.as_mut()[field::DSCP_ECN];
        *b = (*b & 0xfc) | (v & 0x03);
    }

    /// Sets the total length.
    pub fn set_total_len(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::LENGTH], v);
    }

    /// Sets the identification.
    pub fn set_ident(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::IDENT], v);
    }

    fn set_flags_offset(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::FLG_OFF], v);
    }

    /// Clears the flags and the fragment offset.
    pub fn clear_flags(&mut self) {
        self.set_flags_offset(0);
    }

    /// Sets don't fragment.
    pub fn set_dont_frag(&mut self, v: bool) {
        let f = (self.flags_offset() & !FLAG_DF) | if v { FLAG_DF } else { 0 };
        self.set_flags_offset(f);
    }

    /// Sets more fragments.
    pub fn set_more_frags(&mut self, v: bool) {
        let f = (self.flags_offset() & !FLAG_MF) | if v { FLAG_MF } else { 0 };
        self.set_flags_offset(f);
    }

    /// Sets the fragment offset in bytes (rounded down to a multiple of 8).
    pub fn set_frag_offset(&mut self, bytes: u16) {
        let f = (self.flags_offset() & 0xe000) | (bytes >> 3);
        self.set_flags_offset(f);
    }

    /// Sets the time to live.
    pub fn set_ttl(&mut self, v: u8) {
        self.buffer.as_mut()[field::TTL] = v;
    }

    /// Sets the protocol.
    pub fn set_protocol(&mut self, v: IpProtocol) {
        self.buffer.as_mut()[field::PROTOCOL] = v.into();
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::CHECKSUM], v);
    }

    /// Sets the source address.
    pub fn set_src_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::SRC_ADDR].copy_from_slice(&a.octets());
    }

    /// Sets the destination address.
    pub fn set_dst_addr(&mut self, a: Ipv4Addr) {
        self.buffer.as_mut()[field::DST_ADDR].copy_from_slice(&a.octets());
    }

    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        let hl = self.header_len();
        let c = checksum::ipv4_header(&self.buffer.as_ref()[..hl]);
        self.set_checksum(c);
    }

    /// Sets the TTL and adjusts the checksum incrementally (RFC 1624), as a
    /// router decrementing the TTL does.
    pub fn set_ttl_update_checksum(&mut self, ttl: u8) {
        let old = be::u16(&self.buffer.as_ref()[field::TTL..field::PROTOCOL + 1]);
        self.set_ttl(ttl);
        let new = be::u16(&self.buffer.as_ref()[field::TTL..field::PROTOCOL + 1]);
        let c = checksum::update_u16(self.checksum(), old, new);
        self.set_checksum(c);
    }

    /// Sets the source address and adjusts the checksum incrementally.
    pub fn set_src_addr_update_checksum(&mut self, a: Ipv4Addr) {
        let c = checksum::update_u32(self.checksum(), self.src_addr().to_bits(), a.to_bits());
        self.set_src_addr(a);
        self.set_checksum(c);
    }

    /// Sets the destination address and adjusts the checksum incrementally.
    pub fn set_dst_addr_update_checksum(&mut self, a: Ipv4Addr) {
        let c = checksum::update_u32(self.checksum(), self.dst_addr().to_bits(), a.to_bits());
        self.set_dst_addr(a);
        self.set_checksum(c);
    }

    /// The option bytes, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }

    /// The payload bytes present, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let start = self.header_len();
        let total = usize::from(self.total_len());
        let data = self.buffer.as_mut();
        let end = total.min(data.len()).max(start);
        &mut data[start..end]
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "IPv4 ({e})"),
        }
    }
}

/// An IPv4 option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ipv4Option<'a> {
    /// End of option list (0).
    EndOfList,
    /// No operation (1).
    Nop,
    /// Any other option: its type byte and the bytes after its length byte.
    Other {
        /// The option type byte (copy flag, class, number).
        kind: u8,
        /// The option's data.
        data: &'a [u8],
    },
}

impl Ipv4Option<'_> {
    /// tcpdump's short name for an option type.
    pub fn name(kind: u8) -> Option<&'static str> {
        Some(match kind {
            0 => "EOL",
            1 => "NOP",
            7 => "RR",
            68 => "TS",
            130 => "SEC",
            131 => "LSRR",
            137 => "SSRR",
            148 => "RA",
            _ => return None,
        })
    }
}

/// Iterates over IPv4 options; a malformed option ends the walk with an
/// error (offset relative to the start of the options).
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> OptionIter<'a> {
    /// Iterates over `options` (the bytes after the fixed header).
    pub fn new(options: &'a [u8]) -> OptionIter<'a> {
        OptionIter {
            data: options,
            pos: 0,
            done: false,
        }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<Ipv4Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let at = self.pos;
        let kind = self.data[at];
        match kind {
            0 => {
                self.done = true;
                Some(Ok(Ipv4Option::EndOfList))
            }
            1 => {
                self.pos += 1;
                Some(Ok(Ipv4Option::Nop))
            }
            _ => {
                let Some(&len) = self.data.get(at + 1) else {
                    self.done = true;
                    return Some(Err(bad_option("option length missing", at)));
                };
                let len = usize::from(len);
                if len < 2 {
                    self.done = true;
                    return Some(Err(Error::new(
                        ErrorKind::Malformed,
                        Protocol::Ipv4,
                        Reason::Below {
                            field: "option length",
                            value: len as u32,
                            min: 2,
                        },
                    )
                    .shifted(HEADER_LEN + at)));
                }
                if at + len > self.data.len() {
                    self.done = true;
                    return Some(Err(Error::new(
                        ErrorKind::Malformed,
                        Protocol::Ipv4,
                        Reason::Exceeds {
                            field: "option length",
                            value: len as u32,
                            available: (self.data.len() - at) as u32,
                        },
                    )
                    .shifted(HEADER_LEN + at)));
                }
                self.pos += len;
                Some(Ok(Ipv4Option::Other {
                    kind,
                    data: &self.data[at + 2..at + len],
                }))
            }
        }
    }
}

fn bad_option(msg: &'static str, at: usize) -> Error {
    Error::new(ErrorKind::Malformed, Protocol::Ipv4, Reason::Message(msg)).shifted(HEADER_LEN + at)
}

/// The parsed contents of an IPv4 header.
///
/// Options are not represented: `parse` skips them and `emit` writes a
/// 20-byte header. Checksums are neither checked by `parse` (captures from
/// hosts with checksum offload carry wrong ones; use
/// [`Packet::verify_checksum`]) nor taken from the `Repr`: `emit` computes
/// the right one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol of the payload.
    pub protocol: IpProtocol,
    /// Payload length in bytes (total length less the header).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Identification.
    pub ident: u16,
    /// DSCP (six bits).
    pub dscp: u8,
    /// ECN (two bits).
    pub ecn: u8,
    /// Don't fragment.
    pub dont_frag: bool,
    /// More fragments.
    pub more_frags: bool,
    /// Fragment offset in bytes (a multiple of 8).
    pub frag_offset: u16,
}

impl Repr {
    /// Reads a header: the version must be 4 and the total length must
    /// cover the header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        if packet.version() != 4 {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv4,
                Reason::Invalid {
                    field: "version",
                    value: packet.version().into(),
                },
            ));
        }
        let total = usize::from(packet.total_len());
        let hl = packet.header_len();
        if total < hl {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ipv4,
                Reason::Below {
                    field: "total length",
                    value: total as u32,
                    min: hl as u32,
                },
            ));
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: total - hl,
            ttl: packet.ttl(),
            ident: packet.ident(),
            dscp: packet.dscp(),
            ecn: packet.ecn(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
        })
    }

    /// Bytes [`Repr::emit`] writes (the header only).
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes a 20-byte header with a correct checksum. Fails if the
    /// payload length or a field does not fit its bits.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) -> Result<()> {
        let total = self.payload_len.saturating_add(HEADER_LEN);
        let Ok(total) = u16::try_from(total) else {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Ipv4,
                Reason::Exceeds {
                    field: "total length",
                    value: crate::error::sat32(total),
                    available: u16::MAX.into(),
                },
            ));
        };
        if self.dscp > 63 || self.ecn > 3 || !self.frag_offset.is_multiple_of(8) {
            return Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Ipv4,
                Reason::Message("dscp, ecn or fragment offset out of range"),
            ));
        }
        packet.set_version(4);
        packet.set_header_len(HEADER_LEN);
        packet.set_dscp(self.dscp);
        packet.set_ecn(self.ecn);
        packet.set_total_len(total);
        packet.set_ident(self.ident);
        packet.clear_flags();
        packet.set_dont_frag(self.dont_frag);
        packet.set_more_frags(self.more_frags);
        packet.set_frag_offset(self.frag_offset);
        packet.set_ttl(self.ttl);
        packet.set_protocol(self.protocol);
        packet.set_src_addr(self.src_addr);
        packet.set_dst_addr(self.dst_addr);
        packet.set_checksum(0);
        packet.fill_checksum();
        Ok(())
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IPv4 {} > {}: {}, ttl {}, id {}, length {}",
            self.src_addr,
            self.dst_addr,
            self.protocol,
            self.ttl,
            self.ident,
            self.payload_len + HEADER_LEN
        )?;
        if self.dont_frag {
            f.write_str(", DF")?;
        }
        if self.more_frags || self.frag_offset != 0 {
            write!(f, ", offset {}", self.frag_offset)?;
            if self.more_frags {
                f.write_str("+")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // tcpdump's dns_tcp.pcap, frame 1, bytes 14..34 (TCP SYN, DF).
    const HEADER: [u8; 20] = [
        0x45, 0x00, 0x00, 0x3c, 0x9b, 0x28, 0x40, 0x00, 0x40, 0x06, 0x13, 0x76, 0xc0, 0xa8, 0x01,
        0x0b, 0xd1, 0x57, 0xf9, 0x12,
    ];

    #[test]
    fn reads_fields() {
        let p = Packet::new_checked(&HEADER[..]).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 60);
        assert_eq!(p.ident(), 0x9b28);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert!(!p.is_fragment());
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), IpProtocol::Tcp);
        assert_eq!(p.src_addr(), Ipv4Addr::new(192, 168, 1, 11));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(209, 87, 249, 18));
        assert!(p.verify_checksum());
        // Cut by the snapshot length: the header is all there is.
        assert!(p.is_cut());
        assert!(p.payload().is_empty());
        let r = Repr::parse(&p).unwrap();
        assert_eq!(r.payload_len, 40);
        assert_eq!(
            r.to_string(),
            "IPv4 192.168.1.11 > 209.87.249.18: tcp, ttl 64, id 39720, length 60, DF"
        );
    }

    #[test]
    fn header_length_below_20_is_bad_length() {
        let mut b = HEADER;
        b[0] = 0x43;
        let e = Packet::new_checked(&b[..]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::BadLength);
        assert_eq!(
            e.shifted(14).to_string(),
            "IPv4 at offset 14: header length 12 is below 20"
        );
    }

    #[test]
    fn options_are_iterated() {
        // IHL 7: RA option (4 bytes), NOP, EOL, padding.
        let mut b = [0u8; 28];
        b[..20].copy_from_slice(&HEADER);
        b[0] = 0x47;
        b[20..28].copy_from_slice(&[148, 4, 0, 0, 1, 0, 0, 0]);
        let p = Packet::new_checked(&b[..]).unwrap();
        let opts: Vec<_> = p.option_iter().collect::<Result<_>>().unwrap();
        assert_eq!(
            opts,
            [
                Ipv4Option::Other {
                    kind: 148,
                    data: &[0, 0]
                },
                Ipv4Option::Nop,
                Ipv4Option::EndOfList
            ]
        );
        b[21] = 9; // length past the options
        let p = Packet::new_checked(&b[..]).unwrap();
        let e = p.option_iter().next().unwrap().unwrap_err();
        assert_eq!(e.offset(), 20);
        assert_eq!(e.kind(), ErrorKind::Malformed);
    }

    #[test]
    fn incremental_updates_keep_checksum_valid() {
        let mut b = HEADER;
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_ttl_update_checksum(63);
        p.set_src_addr_update_checksum(Ipv4Addr::new(10, 77, 0, 1));
        p.set_dst_addr_update_checksum(Ipv4Addr::new(10, 77, 0, 2));
        assert!(p.verify_checksum());
        let incremental = p.checksum();
        p.fill_checksum();
        assert_eq!(p.checksum(), incremental);
    }

    #[test]
    fn payload_excludes_padding() {
        let mut b = [0u8; 46];
        b[..20].copy_from_slice(&HEADER);
        b[2..4].copy_from_slice(&28u16.to_be_bytes());
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload().len(), 8);
    }

    fn arb_repr() -> impl Strategy<Value = Repr> {
        (
            any::<[u8; 4]>(),
            any::<[u8; 4]>(),
            any::<u8>(),
            0usize..=65515,
            any::<u8>(),
            any::<u16>(),
            0u8..64,
            0u8..4,
            any::<bool>(),
            any::<bool>(),
            0u16..8192,
        )
            .prop_map(|(s, d, p, len, ttl, id, dscp, ecn, df, mf, off)| Repr {
                src_addr: s.into(),
                dst_addr: d.into(),
                protocol: p.into(),
                payload_len: len,
                ttl,
                ident: id,
                dscp,
                ecn,
                dont_frag: df,
                more_frags: mf,
                frag_offset: off << 3,
            })
    }

    proptest! {
        #[test]
        fn round_trip(repr in arb_repr()) {
            let mut buf = vec![0u8; repr.buffer_len()];
            repr.emit(&mut Packet::new_unchecked(&mut buf[..])).unwrap();
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
        }

        #[test]
        fn accessors_never_panic_after_check(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = (p.payload(), p.options(), p.verify_checksum(), p.to_string());
                for o in p.option_iter() { let _ = o; }
            }
        }
    }
}
