//! TCP header (RFC 9293) with its options: MSS, window scale,
//! SACK-permitted, SACK blocks, timestamps, and any other option kept raw.
//!
//! [`OptionIter`] walks the option bytes and reports a malformed option
//! (a length below 2, past the end, or wrong for its kind) as an error
//! rather than guessing. The checksum covers a pseudo-header, so computing
//! or verifying it needs the IP addresses.

use core::fmt;
use core::net::IpAddr;

use crate::checksum;
use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::ip_protocol::IpProtocol;
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    pub const FLAGS: Field = 12..14;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
}

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

/// Largest TCP header (data offset 15).
pub const MAX_HEADER_LEN: usize = 60;

/// The TCP flag bits (the low 9 bits of the offset/flags word).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u16);

impl Flags {
    /// No more data from sender.
    pub const FIN: Flags = Flags(0x001);
    /// Synchronise sequence numbers.
    pub const SYN: Flags = Flags(0x002);
    /// Reset the connection.
    pub const RST: Flags = Flags(0x004);
    /// Push.
    pub const PSH: Flags = Flags(0x008);
    /// Acknowledgment field is significant.
    pub const ACK: Flags = Flags(0x010);
    /// Urgent pointer is significant.
    pub const URG: Flags = Flags(0x020);
    /// ECN echo.
    pub const ECE: Flags = Flags(0x040);
    /// Congestion window reduced.
    pub const CWR: Flags = Flags(0x080);
    /// Accurate ECN (formerly NS).
    pub const AE: Flags = Flags(0x100);

    /// True if every bit of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// True if any bit of `other` is set.
    pub fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }
}

impl core::ops::BitOr for Flags {
    type Output = Flags;
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl fmt::Display for Flags {
    /// tcpdump's letters, in its order: `S`, `S.`, `P.`, `FP.`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const LETTERS: [(u16, char); 9] = [
            (0x001, 'F'),
            (0x002, 'S'),
            (0x004, 'R'),
            (0x008, 'P'),
            (0x010, '.'),
            (0x020, 'U'),
            (0x040, 'E'),
            (0x080, 'W'),
            (0x100, 'e'),
        ];
        if self.0 & 0x1ff == 0 {
            return f.write_str("none");
        }
        for (bit, c) in LETTERS {
            if self.0 & bit != 0 {
                fmt::Write::write_char(f, c)?;
            }
        }
        Ok(())
    }
}

/// A read/write view of a TCP segment.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the header (with options) fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the fixed header fits, that the data offset is at least
    /// 5 words, and that the whole header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::short(Protocol::Tcp, HEADER_LEN, len));
        }
        let hl = self.header_len();
        if hl < HEADER_LEN {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Tcp,
                Reason::Below {
                    field: "header length",
                    value: hl as u32,
                    min: HEADER_LEN as u32,
                },
            ));
        }
        if len < hl {
            return Err(Error::short(Protocol::Tcp, hl, len));
        }
        Ok(())
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// Sequence number.
    pub fn seq_number(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::SEQ_NUM])
    }

    /// Acknowledgment number (meaningful when ACK is set).
    pub fn ack_number(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::ACK_NUM])
    }

    /// Header length in bytes (data offset × 4).
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::FLAGS.start] >> 4) * 4
    }

    /// The flag bits.
    pub fn flags(&self) -> Flags {
        Flags(be::u16(&self.buffer.as_ref()[field::FLAGS]) & 0x01ff)
    }

    /// Window size (unscaled).
    pub fn window_len(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::WIN_SIZE])
    }

    /// Stored checksum.
    pub fn checksum(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// Urgent pointer.
    pub fn urgent_at(&self) -> u16 {
        be::u16(&self.buffer.as_ref()[field::URGENT])
    }

    /// The option bytes.
    pub fn options(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..self.header_len()]
    }

    /// An iterator over the options.
    pub fn option_iter(&self) -> OptionIter<'_> {
        OptionIter::new(self.options())
    }

    /// The payload bytes in the buffer.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }

    /// True if the checksum over the pseudo-header and the whole buffer is
    /// right.
    pub fn verify_checksum(&self, src: IpAddr, dst: IpAddr) -> bool {
        checksum::verify_transport(src, dst, IpProtocol::Tcp, self.buffer.as_ref())
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Sets the source port.
    pub fn set_src_port(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::SRC_PORT], v);
    }

    /// Sets the destination port.
    pub fn set_dst_port(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::DST_PORT], v);
    }

    /// Sets the sequence number.
    pub fn set_seq_number(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::SEQ_NUM], v);
    }

    /// Sets the acknowledgment number.
    pub fn set_ack_number(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::ACK_NUM], v);
    }

    /// Sets the header length in bytes (rounded down to a multiple of 4,
    /// at most 60); the flags are kept.
    pub fn set_header_len(&mut self, len: usize) {
        let off = (len.min(MAX_HEADER_LEN) / 4) as u8;
        let b = &mut self.buffer.as_mut()[field::FLAGS.start];
        *b = (*b & 0x0f) | (off << 4);
    }

    /// Sets the flag bits; the data offset is kept.
    pub fn set_flags(&mut self, flags: Flags) {
        let w = (be::u16(&self.buffer.as_ref()[field::FLAGS]) & 0xf000) | (flags.0 & 0x01ff);
        set_be::u16(&mut self.buffer.as_mut()[field::FLAGS], w);
    }

    /// Sets the window size.
    pub fn set_window_len(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::WIN_SIZE], v);
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::CHECKSUM], v);
    }

    /// Sets the urgent pointer.
    pub fn set_urgent_at(&mut self, v: u16) {
        set_be::u16(&mut self.buffer.as_mut()[field::URGENT], v);
    }

    /// Sets a port and adjusts the checksum incrementally (RFC 1624), as
    /// a NAT does.
    pub fn set_src_port_update_checksum(&mut self, v: u16) {
        let c = checksum::update_u16(self.checksum(), self.src_port(), v);
        self.set_src_port(v);
        self.set_checksum(c);
    }

    /// Sets the destination port and adjusts the checksum incrementally.
    pub fn set_dst_port_update_checksum(&mut self, v: u16) {
        let c = checksum::update_u16(self.checksum(), self.dst_port(), v);
        self.set_dst_port(v);
        self.set_checksum(c);
    }

    /// Adjusts the checksum for an IPv4 address change in the
    /// pseudo-header (call after rewriting the IP header's address).
    pub fn update_checksum_for_addr(&mut self, old: IpAddr, new: IpAddr) {
        let c = update_for_addr(self.checksum(), old, new);
        self.set_checksum(c);
    }

    /// The option bytes, writable.
    pub fn options_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[HEADER_LEN..hl]
    }

    /// The payload bytes, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[hl..]
    }

    /// Computes and stores the checksum over the pseudo-header and the
    /// whole buffer.
    pub fn fill_checksum(&mut self, src: IpAddr, dst: IpAddr) {
        let c = checksum::transport(src, dst, IpProtocol::Tcp, self.buffer.as_ref(), 16);
        self.set_checksum(c);
    }
}

/// The checksum after a pseudo-header address changed from `old` to `new`
/// (both of the same family; a family change is a full recompute).
pub(crate) fn update_for_addr(c: u16, old: IpAddr, new: IpAddr) -> u16 {
    match (old, new) {
        (IpAddr::V4(o), IpAddr::V4(n)) => checksum::update_bytes(c, &o.octets(), &n.octets()),
        (IpAddr::V6(o), IpAddr::V6(n)) => checksum::update_bytes(c, &o.octets(), &n.octets()),
        _ => c,
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "TCP ({e})"),
        }
    }
}

/// A TCP option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// End of option list (kind 0).
    EndOfList,
    /// No operation (kind 1).
    NoOperation,
    /// Maximum segment size (kind 2).
    MaxSegmentSize(u16),
    /// Window scale shift (kind 3).
    WindowScale(u8),
    /// SACK permitted (kind 4).
    SackPermitted,
    /// SACK blocks (kind 5): the raw 8-byte (left, right) edges; iterate
    /// with [`sack_blocks`].
    Sack(&'a [u8]),
    /// Timestamps (kind 8).
    Timestamp {
        /// The sender's timestamp.
        tsval: u32,
        /// The echoed timestamp.
        tsecr: u32,
    },
    /// Any other option.
    Unknown {
        /// Option kind.
        kind: u8,
        /// Data after the kind and length bytes.
        data: &'a [u8],
    },
}

/// The (left edge, right edge) pairs of a SACK option's data.
pub fn sack_blocks(data: &[u8]) -> impl Iterator<Item = (u32, u32)> + '_ {
    data.chunks_exact(8)
        .map(|c| (be::u32(&c[..4]), be::u32(&c[4..])))
}

impl fmt::Display for TcpOption<'_> {
    /// tcpdump's form (`mss 1460`, `sackOK`, `TS val 1 ecr 0`, `nop`,
    /// `wscale 7`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TcpOption::EndOfList => f.write_str("eol"),
            TcpOption::NoOperation => f.write_str("nop"),
            TcpOption::MaxSegmentSize(m) => write!(f, "mss {m}"),
            TcpOption::WindowScale(s) => write!(f, "wscale {s}"),
            TcpOption::SackPermitted => f.write_str("sackOK"),
            TcpOption::Sack(d) => {
                write!(f, "sack {} ", d.len() / 8)?;
                for (l, r) in sack_blocks(d) {
                    write!(f, "{{{l}:{r}}}")?;
                }
                Ok(())
            }
            TcpOption::Timestamp { tsval, tsecr } => write!(f, "TS val {tsval} ecr {tsecr}"),
            TcpOption::Unknown { kind, data } => {
                write!(f, "unknown-{kind}")?;
                if !data.is_empty() {
                    f.write_str(" 0x")?;
                    for b in data {
                        write!(f, "{b:02x}")?;
                    }
                }
                Ok(())
            }
        }
    }
}

/// Iterates over TCP options. Stops after end-of-list; a malformed option
/// ends the walk with an error (offset relative to the TCP header).
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

    fn fail(&mut self, reason: Reason) -> Option<Result<TcpOption<'a>>> {
        self.done = true;
        Some(Err(
            Error::new(ErrorKind::Malformed, Protocol::Tcp, reason).shifted(HEADER_LEN + self.pos)
        ))
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<TcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let at = self.pos;
        let kind = self.data[at];
        match kind {
            0 => {
                self.done = true;
                return Some(Ok(TcpOption::EndOfList));
            }
            1 => {
                self.pos += 1;
                return Some(Ok(TcpOption::NoOperation));
            }
            _ => {}
        }
        let Some(&len) = self.data.get(at + 1) else {
            return self.fail(Reason::Message("option length missing"));
        };
        let len = usize::from(len);
        if len < 2 {
            return self.fail(Reason::Below {
                field: "option length",
                value: len as u32,
                min: 2,
            });
        }
        if at + len > self.data.len() {
            return self.fail(Reason::Exceeds {
                field: "option length",
                value: len as u32,
                available: (self.data.len() - at) as u32,
            });
        }
        let d = &self.data[at + 2..at + len];
        let opt = match (kind, len) {
            (2, 4) => TcpOption::MaxSegmentSize(be::u16(d)),
            (3, 3) => TcpOption::WindowScale(d[0]),
            (4, 2) => TcpOption::SackPermitted,
            (5, _) if (len - 2) % 8 == 0 && len > 2 => TcpOption::Sack(d),
            (8, 10) => TcpOption::Timestamp {
                tsval: be::u32(&d[..4]),
                tsecr: be::u32(&d[4..]),
            },
            (2..=5 | 8, _) => {
                return self.fail(Reason::Invalid {
                    field: "option length",
                    value: len as u32,
                });
            }
            _ => TcpOption::Unknown { kind, data: d },
        };
        self.pos += len;
        Some(Ok(opt))
    }
}

/// The parsed contents of a TCP header.
///
/// Options sluice knows are parsed into fields; unknown options are
/// skipped by `parse` and not written by `emit` (use the view to keep a
/// segment's exact bytes). The payload is not part of the `Repr`: `emit`
/// writes the header and a checksum over the payload bytes already in the
/// buffer, so write the payload first (or call
/// [`Packet::fill_checksum`] after).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Flags.
    pub flags: Flags,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number.
    pub ack_number: u32,
    /// Window size.
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// MSS option.
    pub max_seg_size: Option<u16>,
    /// Window scale option.
    pub window_scale: Option<u8>,
    /// SACK-permitted option.
    pub sack_permitted: bool,
    /// Up to three SACK blocks.
    pub sack_ranges: [Option<(u32, u32)>; 3],
    /// Timestamps option (tsval, tsecr).
    pub timestamp: Option<(u32, u32)>,
    /// Payload length in bytes.
    pub payload_len: usize,
}

impl Repr {
    /// Reads a header; malformed options are an error.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        let mut r = Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            flags: packet.flags(),
            seq_number: packet.seq_number(),
            ack_number: packet.ack_number(),
            window_len: packet.window_len(),
            urgent_at: packet.urgent_at(),
            payload_len: packet.payload().len(),
            ..Repr::default()
        };
        for opt in packet.option_iter() {
            match opt? {
                TcpOption::MaxSegmentSize(m) => r.max_seg_size = Some(m),
                TcpOption::WindowScale(s) => r.window_scale = Some(s),
                TcpOption::SackPermitted => r.sack_permitted = true,
                TcpOption::Sack(d) => {
                    for (slot, b) in r.sack_ranges.iter_mut().zip(sack_blocks(d)) {
                        *slot = Some(b);
                    }
                }
                TcpOption::Timestamp { tsval, tsecr } => r.timestamp = Some((tsval, tsecr)),
                _ => {}
            }
        }
        Ok(r)
    }

    fn sack_count(&self) -> usize {
        self.sack_ranges.iter().flatten().count()
    }

    /// Length of the options `emit` writes (a multiple of 4).
    pub fn options_len(&self) -> usize {
        let mut n = 0;
        if self.max_seg_size.is_some() {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4; // nop + 3
        }
        n += match (self.sack_permitted, self.timestamp.is_some()) {
            (true, true) | (false, true) => 12,
            (true, false) => 4,
            (false, false) => 0,
        };
        if self.sack_count() > 0 {
            n += 4 + 8 * self.sack_count();
        }
        n
    }

    /// Header length `emit` writes.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }

    /// Bytes [`Repr::emit`] covers: header and payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload_len
    }

    /// Writes the header and options (in Linux's order: mss, sackOK and
    /// timestamps, window scale, SACK) and the checksum over the
    /// pseudo-header, header and the `payload_len` bytes after it. Fails if
    /// the options do not fit in 40 bytes.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(
        &self,
        packet: &mut Packet<T>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<()> {
        let hl = self.header_len();
        if hl > MAX_HEADER_LEN {
            return Err(Error::new(
                ErrorKind::BadLength,
                Protocol::Tcp,
                Reason::Exceeds {
                    field: "options length",
                    value: self.options_len() as u32,
                    available: 40,
                },
            ));
        }
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_seq_number(self.seq_number);
        packet.set_ack_number(self.ack_number);
        packet.buffer.as_mut()[field::FLAGS.start] = 0;
        packet.set_header_len(hl);
        packet.set_flags(self.flags);
        packet.set_window_len(self.window_len);
        packet.set_urgent_at(self.urgent_at);
        let opts = &mut packet.buffer.as_mut()[HEADER_LEN..hl];
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            opts[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(m) = self.max_seg_size {
            let m = m.to_be_bytes();
            put(&[2, 4, m[0], m[1]]);
        }
        match (self.sack_permitted, self.timestamp) {
            (sp, Some((v, e))) => {
                put(if sp { &[4, 2] } else { &[1, 1] });
                put(&[8, 10]);
                put(&v.to_be_bytes());
                put(&e.to_be_bytes());
            }
            (true, None) => put(&[1, 1, 4, 2]),
            (false, None) => {}
        }
        if let Some(s) = self.window_scale {
            put(&[1, 3, 3, s]);
        }
        let n = self.sack_count();
        if n > 0 {
            put(&[1, 1, 5, (2 + 8 * n) as u8]);
            for (l, r) in self.sack_ranges.iter().flatten() {
                put(&l.to_be_bytes());
                put(&r.to_be_bytes());
            }
        }
        packet.set_checksum(0);
        let n = self.buffer_len();
        let c = checksum::transport(src, dst, IpProtocol::Tcp, &packet.buffer.as_ref()[..n], 16);
        packet.set_checksum(c);
        Ok(())
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TCP {} > {}: Flags [{}], seq {}",
            self.src_port, self.dst_port, self.flags, self.seq_number
        )?;
        if self.flags.contains(Flags::ACK) {
            write!(f, ", ack {}", self.ack_number)?;
        }
        write!(f, ", win {}, length {}", self.window_len, self.payload_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::net::Ipv4Addr;
    use proptest::prelude::*;

    // tcpdump's dns_tcp.pcap, frame 1, bytes 34..74: a SYN from
    // 192.168.1.11.33779 to 209.87.249.18.53 with mss, sackOK, TS, nop,
    // wscale.
    const SYN: [u8; 40] = [
        0x83, 0xf3, 0x00, 0x35, 0x23, 0xfe, 0xc8, 0x0c, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa,
        0xf0, 0x0c, 0x41, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x79, 0xe2,
        0xca, 0x9a, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
    ];

    fn addrs() -> (IpAddr, IpAddr) {
        (
            Ipv4Addr::new(192, 168, 1, 11).into(),
            Ipv4Addr::new(209, 87, 249, 18).into(),
        )
    }

    #[test]
    fn reads_syn_and_options() {
        let p = Packet::new_checked(&SYN[..]).unwrap();
        assert_eq!(p.src_port(), 33779);
        assert_eq!(p.dst_port(), 53);
        assert_eq!(p.seq_number(), 603_899_916);
        assert_eq!(p.flags(), Flags::SYN);
        assert_eq!(p.flags().to_string(), "S");
        assert_eq!(p.window_len(), 64240);
        assert_eq!(p.header_len(), 40);
        let (s, d) = addrs();
        assert!(p.verify_checksum(s, d));
        let text: Vec<String> = p.option_iter().map(|o| o.unwrap().to_string()).collect();
        assert_eq!(
            text.join(","),
            "mss 1460,sackOK,TS val 2044906138 ecr 0,nop,wscale 7"
        );
    }

    #[test]
    fn emit_reproduces_the_captured_syn() {
        let r = Repr::parse(&Packet::new_checked(&SYN[..]).unwrap()).unwrap();
        let mut buf = [0u8; 40];
        let (s, d) = addrs();
        r.emit(&mut Packet::new_unchecked(&mut buf[..]), s, d)
            .unwrap();
        assert_eq!(buf, SYN);
    }

    #[test]
    fn malformed_options_are_errors() {
        let mut b = SYN;
        b[21] = 3; // mss with length 3
        let p = Packet::new_checked(&b[..]).unwrap();
        let e = p.option_iter().next().unwrap().unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Malformed);
        assert_eq!(e.offset(), 20);
        b[21] = 1; // length 1
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.option_iter().next().unwrap().is_err());
        b[21] = 40; // past the end
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(Repr::parse(&p).is_err());
    }

    #[test]
    fn unknown_and_sack_options() {
        let opts = [30u8, 4, 0xab, 0xcd, 5, 10, 0, 0, 0, 1, 0, 0, 0, 9, 0, 0];
        let got: Vec<_> = OptionIter::new(&opts).collect::<Result<_>>().unwrap();
        assert_eq!(got[0].to_string(), "unknown-30 0xabcd");
        assert_eq!(got[1].to_string(), "sack 1 {1:9}");
        assert_eq!(got[2], TcpOption::EndOfList);
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn incremental_port_and_address_rewrite() {
        let mut b = SYN;
        let (s, d) = addrs();
        let new_src: IpAddr = Ipv4Addr::new(10, 77, 0, 1).into();
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.set_src_port_update_checksum(40000);
        p.update_checksum_for_addr(s, new_src);
        assert!(p.verify_checksum(new_src, d));
    }

    proptest! {
        #[test]
        fn round_trip(sp in any::<u16>(), dp in any::<u16>(), flags in 0u16..0x200, seq in any::<u32>(),
                      ack in any::<u32>(), win in any::<u16>(), urg in any::<u16>(),
                      mss in any::<Option<u16>>(), ws in any::<Option<u8>>(), sackp in any::<bool>(),
                      nsack in 0usize..3, ts in any::<Option<(u32, u32)>>(),
                      payload in proptest::collection::vec(any::<u8>(), 0..30), v6 in any::<bool>()) {
            let mut sack_ranges = [None; 3];
            for (i, slot) in sack_ranges.iter_mut().take(nsack).enumerate() {
                *slot = Some((seq.wrapping_add(i as u32), ack.wrapping_add(i as u32)));
            }
            let repr = Repr {
                src_port: sp, dst_port: dp, flags: Flags(flags), seq_number: seq, ack_number: ack,
                window_len: win, urgent_at: urg, max_seg_size: mss, window_scale: ws,
                sack_permitted: sackp, sack_ranges, timestamp: ts, payload_len: payload.len(),
            };
            let (s, d): (IpAddr, IpAddr) = if v6 {
                ("fd77::1".parse::<core::net::Ipv6Addr>().unwrap().into(), "fd77::2".parse::<core::net::Ipv6Addr>().unwrap().into())
            } else {
                addrs()
            };
            let mut buf = vec![0u8; repr.buffer_len()];
            let hl = repr.header_len();
            buf[hl..].copy_from_slice(&payload);
            let r = repr.emit(&mut Packet::new_unchecked(&mut buf[..]), s, d);
            if hl > MAX_HEADER_LEN {
                prop_assert!(r.is_err());
            } else {
                r.unwrap();
                let p = Packet::new_checked(&buf[..]).unwrap();
                prop_assert!(p.verify_checksum(s, d));
                prop_assert_eq!(p.payload(), &payload[..]);
                prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
            }
        }

        #[test]
        fn accessors_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..70)) {
            if let Ok(p) = Packet::new_checked(&bytes[..]) {
                let _ = (p.payload(), p.options(), p.to_string());
                for o in p.option_iter() { let _ = o.map(|o| o.to_string()); }
            }
        }
    }
}
