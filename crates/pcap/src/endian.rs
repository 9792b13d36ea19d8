//! Byte order of a pcap file or pcapng section, and the field reads and
//! writes that depend on it.

/// The byte order a pcap file or a pcapng section was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Endian {
    /// Least significant byte first (what x86 and most ARM machines write).
    #[default]
    Little,
    /// Most significant byte first.
    Big,
}

impl Endian {
    /// The byte order of the machine this runs on.
    pub const NATIVE: Endian = if cfg!(target_endian = "big") {
        Endian::Big
    } else {
        Endian::Little
    };

    /// Reads a `u16` at `at`. The caller has checked the bounds.
    #[inline]
    pub(crate) fn u16(self, b: &[u8], at: usize) -> u16 {
        let v = [b[at], b[at + 1]];
        match self {
            Endian::Little => u16::from_le_bytes(v),
            Endian::Big => u16::from_be_bytes(v),
        }
    }

    /// Reads a `u32` at `at`. The caller has checked the bounds.
    #[inline]
    pub(crate) fn u32(self, b: &[u8], at: usize) -> u32 {
        let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        match self {
            Endian::Little => u32::from_le_bytes(v),
            Endian::Big => u32::from_be_bytes(v),
        }
    }

    /// Reads a `u64` at `at`. The caller has checked the bounds.
    #[inline]
    pub(crate) fn u64(self, b: &[u8], at: usize) -> u64 {
        let mut v = [0u8; 8];
        v.copy_from_slice(&b[at..at + 8]);
        match self {
            Endian::Little => u64::from_le_bytes(v),
            Endian::Big => u64::from_be_bytes(v),
        }
    }

    /// Encodes a `u16`.
    #[inline]
    pub(crate) fn put16(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Encodes a `u32`.
    #[inline]
    pub(crate) fn put32(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Encodes a `u64`.
    #[inline]
    pub(crate) fn put64(self, v: u64) -> [u8; 8] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_both_orders() {
        let b = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(Endian::Little.u16(&b, 0), 0x0201);
        assert_eq!(Endian::Big.u16(&b, 0), 0x0102);
        assert_eq!(Endian::Little.u32(&b, 4), 0x0807_0605);
        assert_eq!(Endian::Big.u32(&b, 4), 0x0506_0708);
        assert_eq!(Endian::Big.u64(&b, 0), 0x0102_0304_0506_0708);
        assert_eq!(Endian::Little.put32(0x0807_0605), [5, 6, 7, 8]);
        assert_eq!(Endian::Big.put16(0x0102), [1, 2]);
        assert_eq!(Endian::Big.put64(1), [0, 0, 0, 0, 0, 0, 0, 1]);
    }
}
