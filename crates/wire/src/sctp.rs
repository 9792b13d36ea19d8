//! SCTP common header (RFC 9260 §3.1) and its chunk list.
//!
//! The checksum is CRC32c over the whole packet with the checksum field
//! taken as zero, stored little-endian-in-network-order as the RFC says.

use core::fmt;

use crate::error::{Error, ErrorKind, Protocol, Reason, Result};
use crate::{be, set_be};

mod field {
    use crate::Field;
    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const VERIFICATION_TAG: Field = 4..8;
    pub const CHECKSUM: Field = 8..12;
}

/// Length of the SCTP common header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

crate::enum_with_unknown! {
    /// SCTP chunk type.
    pub enum ChunkType(u8) {
        /// Payload data.
        Data = 0,
        /// Initiation.
        Init = 1,
        /// Initiation acknowledgement.
        InitAck = 2,
        /// Selective acknowledgement.
        Sack = 3,
        /// Heartbeat request.
        Heartbeat = 4,
        /// Heartbeat acknowledgement.
        HeartbeatAck = 5,
        /// Abort.
        Abort = 6,
        /// Shutdown.
        Shutdown = 7,
        /// Shutdown acknowledgement.
        ShutdownAck = 8,
        /// Operation error.
        Error = 9,
        /// State cookie.
        CookieEcho = 10,
        /// Cookie acknowledgement.
        CookieAck = 11,
        /// Shutdown complete.
        ShutdownComplete = 14,
    }
}

impl ChunkType {
    /// tcpdump's bracketed name (`DATA`, `INIT ACK`, …).
    pub fn name(self) -> &'static str {
        match self {
            ChunkType::Data => "DATA",
            ChunkType::Init => "INIT",
            ChunkType::InitAck => "INIT ACK",
            ChunkType::Sack => "SACK",
            ChunkType::Heartbeat => "HB REQ",
            ChunkType::HeartbeatAck => "HB ACK",
            ChunkType::Abort => "ABORT",
            ChunkType::Shutdown => "SHUTDOWN",
            ChunkType::ShutdownAck => "SHUTDOWN ACK",
            ChunkType::Error => "OP ERR",
            ChunkType::CookieEcho => "COOKIE ECHO",
            ChunkType::CookieAck => "COOKIE ACK",
            ChunkType::ShutdownComplete => "SHUTDOWN COMPLETE",
            ChunkType::Unknown(_) => "Unknown chunk type",
        }
    }
}

/// One chunk: type, flags and the value bytes (without padding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Chunk type.
    pub kind: ChunkType,
    /// Chunk flags.
    pub flags: u8,
    /// Value (length field − 4 bytes).
    pub value: &'a [u8],
}

/// Iterates over the chunks after the common header; a chunk length below
/// 4 or past the end ends the walk with an error (offset from the start of
/// the SCTP header).
#[derive(Clone, Debug)]
pub struct ChunkIter<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for ChunkIter<'a> {
    type Item = Result<Chunk<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos + 4 > self.data.len() {
            return None;
        }
        let at = self.pos;
        let len = usize::from(be::u16(&self.data[at + 2..at + 4]));
        let fail = |reason| {
            Some(Err(Error::new(
                ErrorKind::Malformed,
                Protocol::Sctp,
                reason,
            )
            .shifted(HEADER_LEN + at)))
        };
        if len < 4 {
            self.done = true;
            return fail(Reason::Below {
                field: "chunk length",
                value: len as u32,
                min: 4,
            });
        }
        if at + len > self.data.len() {
            self.done = true;
            return fail(Reason::Exceeds {
                field: "chunk length",
                value: len as u32,
                available: (self.data.len() - at) as u32,
            });
        }
        self.pos = at + len.div_ceil(4) * 4;
        Some(Ok(Chunk {
            kind: ChunkType::from(self.data[at]),
            flags: self.data[at + 1],
            value: &self.data[at + 4..at + len],
        }))
    }
}

/// A read/write view of an SCTP packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking its length.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer and checks that the common header fits.
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the common header fits.
    pub fn check_len(&self) -> Result<()> {
        let len = self.buffer.as_ref().len();
        if len < HEADER_LEN {
            Err(Error::short(Protocol::Sctp, HEADER_LEN, len))
        } else {
            Ok(())
        }
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

    /// Verification tag.
    pub fn verification_tag(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::VERIFICATION_TAG])
    }

    /// Stored checksum (as transmitted: CRC32c bytes in little-endian
    /// order, read here as a big-endian number).
    pub fn checksum(&self) -> u32 {
        be::u32(&self.buffer.as_ref()[field::CHECKSUM])
    }

    /// The chunks after the common header.
    pub fn chunks(&self) -> ChunkIter<'_> {
        ChunkIter {
            data: &self.buffer.as_ref()[HEADER_LEN..],
            pos: 0,
            done: false,
        }
    }

    /// The CRC32c of the packet with its checksum field taken as zero,
    /// as it would be stored.
    pub fn compute_checksum(&self) -> u32 {
        let b = self.buffer.as_ref();
        let mut crc = crc32c_update(!0, &b[..field::CHECKSUM.start]);
        crc = crc32c_update(crc, &[0; 4]);
        crc = crc32c_update(crc, &b[HEADER_LEN..]);
        u32::from_be_bytes((!crc).to_le_bytes())
    }

    /// True if the CRC32c checksum is right.
    pub fn verify_checksum(&self) -> bool {
        self.compute_checksum() == self.checksum()
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

    /// Sets the verification tag.
    pub fn set_verification_tag(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::VERIFICATION_TAG], v);
    }

    /// Sets the stored checksum.
    pub fn set_checksum(&mut self, v: u32) {
        set_be::u32(&mut self.buffer.as_mut()[field::CHECKSUM], v);
    }

    /// Computes and stores the CRC32c checksum.
    pub fn fill_checksum(&mut self) {
        let c = self.compute_checksum();
        self.set_checksum(c);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for Packet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match Repr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "SCTP ({e})"),
        }
    }
}

/// The parsed contents of the SCTP common header. `emit` writes the
/// header and a CRC32c over the chunks already in the buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Repr {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Verification tag.
    pub verification_tag: u32,
}

impl Repr {
    /// Reads the common header.
    pub fn parse<T: AsRef<[u8]>>(packet: &Packet<T>) -> Result<Repr> {
        packet.check_len()?;
        Ok(Repr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            verification_tag: packet.verification_tag(),
        })
    }

    /// Bytes [`Repr::emit`] writes.
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header and the checksum over the whole buffer.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut Packet<T>) {
        packet.set_src_port(self.src_port);
        packet.set_dst_port(self.dst_port);
        packet.set_verification_tag(self.verification_tag);
        packet.fill_checksum();
    }
}

impl fmt::Display for Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SCTP {} > {}, tag 0x{:08x}",
            self.src_port, self.dst_port, self.verification_tag
        )
    }
}

const CRC32C_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0x82f6_3b78
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

fn crc32c_update(mut crc: u32, data: &[u8]) -> u32 {
    for &b in data {
        crc = CRC32C_TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    crc
}

/// CRC32c (Castagnoli) of `data`.
pub fn crc32c(data: &[u8]) -> u32 {
    !crc32c_update(!0, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32c_check_value() {
        // The standard check value for "123456789".
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    #[test]
    fn reads_init_chunk() {
        // An INIT from port 5000 to 5001, tag 0, one 20-byte chunk.
        let mut b = [0u8; 32];
        b[..8].copy_from_slice(&[0x13, 0x88, 0x13, 0x89, 0, 0, 0, 0]);
        b[12..16].copy_from_slice(&[1, 0, 0, 20]);
        let mut p = Packet::new_unchecked(&mut b[..]);
        p.fill_checksum();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        let chunks: Vec<_> = p.chunks().collect::<Result<_>>().unwrap();
        assert_eq!(chunks.len(), 1);
        assert_eq!(chunks[0].kind, ChunkType::Init);
        assert_eq!(chunks[0].kind.name(), "INIT");
        assert_eq!(chunks[0].value.len(), 16);
        let mut bad = b;
        bad[15] = 2;
        let p = Packet::new_checked(&bad[..]).unwrap();
        let e = p.chunks().next().unwrap().unwrap_err();
        assert_eq!(e.offset(), 12);
    }

    proptest! {
        #[test]
        fn round_trip(sp in any::<u16>(), dp in any::<u16>(), tag in any::<u32>(),
                      body in proptest::collection::vec(any::<u8>(), 0..40)) {
            let repr = Repr { src_port: sp, dst_port: dp, verification_tag: tag };
            let mut buf = vec![0u8; HEADER_LEN + body.len()];
            buf[HEADER_LEN..].copy_from_slice(&body);
            repr.emit(&mut Packet::new_unchecked(&mut buf[..]));
            let p = Packet::new_checked(&buf[..]).unwrap();
            prop_assert!(p.verify_checksum());
            prop_assert_eq!(Repr::parse(&p).unwrap(), repr);
            for c in p.chunks() { let _ = c; }
        }
    }
}
