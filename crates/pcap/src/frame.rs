//! A frame as read from (or given to) a capture file: the bytes plus their
//! metadata, and the raw pcapng options that may travel with them.

use sluice_wire::LinkType;

use crate::endian::Endian;

/// One captured packet, borrowed from the reader's buffer (or the caller's).
///
/// `data` starts at the link-layer header that `linktype` names. Timestamps
/// are nanoseconds since the Unix epoch, whatever the file's resolution.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// The interface within the current section (always 0 for pcap).
    pub interface_id: u32,
    /// How to read `data`.
    pub linktype: LinkType,
    /// Nanoseconds since the epoch. A pcapng simple packet block carries no
    /// timestamp; its frames have 0 here.
    pub ts_ns: u64,
    /// Length on the wire; at least `data.len()` in a well-formed file.
    pub origlen: u32,
    /// The captured bytes (`data.len()` is the captured length).
    pub data: &'a [u8],
    /// The pcapng `epb_flags` word (direction, reception type, FCS length,
    /// link-layer errors), when the record has one.
    pub flags: Option<EpbFlags>,
    /// The first `opt_comment` of the record, as stored (normally UTF-8).
    pub comment: Option<&'a [u8]>,
    /// Every pcapng option of the record, raw (empty for pcap).
    pub options: Options<'a>,
    /// Byte offset of the record in the input (0 for frames built by hand).
    pub offset: u64,
}

impl<'a> Frame<'a> {
    /// A frame with no flags, comment or options.
    pub fn new(interface_id: u32, linktype: LinkType, ts_ns: u64, data: &'a [u8]) -> Frame<'a> {
        Frame {
            interface_id,
            linktype,
            ts_ns,
            origlen: u32::try_from(data.len()).unwrap_or(u32::MAX),
            data,
            flags: None,
            comment: None,
            options: Options::EMPTY,
            offset: 0,
        }
    }

    /// The captured length, `data.len()`.
    pub fn caplen(&self) -> u32 {
        // A record's captured length is a u32 in both formats.
        u32::try_from(self.data.len()).unwrap_or(u32::MAX)
    }

    /// True when fewer bytes were captured than were on the wire.
    pub fn is_truncated(&self) -> bool {
        (self.data.len() as u64) < u64::from(self.origlen)
    }

    /// The direction from `flags`, if known.
    pub fn direction(&self) -> Option<Direction> {
        self.flags.and_then(EpbFlags::direction)
    }

    /// The comment as text (invalid UTF-8 replaced).
    pub fn comment_lossy(&self) -> Option<std::borrow::Cow<'a, str>> {
        self.comment.map(String::from_utf8_lossy)
    }

    /// The metadata the writer needs for a record header.
    pub fn meta(&self) -> RecordMeta {
        RecordMeta {
            interface_id: self.interface_id,
            ts_ns: self.ts_ns,
            origlen: self.origlen,
            flags: self.flags,
        }
    }
}

/// What a record header says about a packet, apart from its bytes: the
/// input of [`crate::Writer::encode_record_header`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordMeta {
    /// The writer's interface id.
    pub interface_id: u32,
    /// Nanoseconds since the epoch.
    pub ts_ns: u64,
    /// Length on the wire.
    pub origlen: u32,
    /// `epb_flags` to write (pcapng only).
    pub flags: Option<EpbFlags>,
}

/// The direction a packet travelled, seen from the capturing interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received.
    Inbound,
    /// Sent.
    Outbound,
}

/// The pcapng `epb_flags` word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EpbFlags(pub u32);

impl EpbFlags {
    /// Flags that say only the direction.
    pub fn from_direction(d: Direction) -> EpbFlags {
        EpbFlags(match d {
            Direction::Inbound => 1,
            Direction::Outbound => 2,
        })
    }

    /// Bits 0–1: inbound, outbound, or not known.
    pub fn direction(self) -> Option<Direction> {
        match self.0 & 3 {
            1 => Some(Direction::Inbound),
            2 => Some(Direction::Outbound),
            _ => None,
        }
    }

    /// Bits 2–4: 0 unspecified, 1 unicast, 2 multicast, 3 broadcast,
    /// 4 promiscuous.
    pub fn reception_type(self) -> u8 {
        ((self.0 >> 2) & 7) as u8
    }

    /// Bits 5–8: length of the frame check sequence in octets, if known.
    pub fn fcs_len(self) -> Option<u8> {
        let v = ((self.0 >> 5) & 0xf) as u8;
        (v != 0).then_some(v)
    }

    /// Bits 16–31: link-layer error bits (CRC error, packet too long, …).
    pub fn link_errors(self) -> u16 {
        (self.0 >> 16) as u16
    }
}

/// pcapng option codes sluice reads or writes.
pub mod code {
    /// `opt_endofopt`: ends an option list.
    pub const END: u16 = 0;
    /// `opt_comment`: UTF-8 text.
    pub const COMMENT: u16 = 1;
    /// `epb_flags` (and `pack_flags` of the obsolete packet block).
    pub const EPB_FLAGS: u16 = 2;
    /// `epb_hash`.
    pub const EPB_HASH: u16 = 3;
    /// `epb_dropcount`.
    pub const EPB_DROPCOUNT: u16 = 4;
    /// `epb_packetid`.
    pub const EPB_PACKETID: u16 = 5;
    /// `epb_queue`.
    pub const EPB_QUEUE: u16 = 6;
    /// `epb_verdict`.
    pub const EPB_VERDICT: u16 = 7;
    /// Custom options (UTF-8 / binary, copyable or not).
    pub const CUSTOM: [u16; 4] = [2988, 2989, 19372, 19373];
}

/// A pcapng option list, raw: the bytes after a block's fixed fields up to
/// the block's trailing length, in the section's byte order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Options<'a> {
    bytes: &'a [u8],
    endian: Endian,
}

impl<'a> Options<'a> {
    /// No options.
    pub const EMPTY: Options<'static> = Options {
        bytes: &[],
        endian: Endian::Little,
    };

    /// Options over raw bytes in the given byte order. The iterator stops at
    /// `opt_endofopt` or at an option that would overrun the bytes.
    pub fn new(bytes: &'a [u8], endian: Endian) -> Options<'a> {
        Options { bytes, endian }
    }

    /// The raw bytes.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The byte order of numeric option values.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// True when there are no options.
    pub fn is_empty(&self) -> bool {
        self.iter().next().is_none()
    }

    /// The options in order.
    pub fn iter(&self) -> OptionIter<'a> {
        OptionIter {
            bytes: self.bytes,
            pos: 0,
            endian: self.endian,
        }
    }

    /// The value of the first option with this code.
    pub fn get(&self, code: u16) -> Option<&'a [u8]> {
        self.iter().find(|o| o.code == code).map(|o| o.value)
    }

    /// The first option with this code read as a `u32` (4-byte values only).
    pub fn get_u32(&self, code: u16) -> Option<u32> {
        self.get(code)
            .filter(|v| v.len() == 4)
            .map(|v| self.endian.u32(v, 0))
    }

    /// The first option with this code read as a `u64` (8-byte values only).
    pub fn get_u64(&self, code: u16) -> Option<u64> {
        self.get(code)
            .filter(|v| v.len() == 8)
            .map(|v| self.endian.u64(v, 0))
    }
}

impl<'a> IntoIterator for Options<'a> {
    type Item = RawOption<'a>;
    type IntoIter = OptionIter<'a>;
    fn into_iter(self) -> OptionIter<'a> {
        self.iter()
    }
}

/// One pcapng option: its code and unpadded value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawOption<'a> {
    /// The option code.
    pub code: u16,
    /// The value without padding.
    pub value: &'a [u8],
}

/// Iterator over an option list; see [`Options`].
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    bytes: &'a [u8],
    pos: usize,
    endian: Endian,
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = RawOption<'a>;
    fn next(&mut self) -> Option<RawOption<'a>> {
        let rest = self.bytes.get(self.pos..)?;
        if rest.len() < 4 {
            return None;
        }
        let code = self.endian.u16(rest, 0);
        let len = usize::from(self.endian.u16(rest, 2));
        if code == code::END || 4 + len > rest.len() {
            self.pos = self.bytes.len();
            return None;
        }
        let value = &rest[4..4 + len];
        self.pos += 4 + len.next_multiple_of(4);
        Some(RawOption { code, value })
    }
}

/// Checks that an option list is well formed: every option fits, and the
/// list ends at the end of the bytes or with `opt_endofopt`. Returns the
/// offset within `bytes` and the (code, length) of the first bad option.
pub(crate) fn check_options(bytes: &[u8], endian: Endian) -> Result<(), (usize, u16, u16)> {
    let mut pos = 0;
    while bytes.len() - pos >= 4 {
        let code = endian.u16(bytes, pos);
        let len = endian.u16(bytes, pos + 2);
        if code == code::END {
            return Ok(());
        }
        let padded = usize::from(len).next_multiple_of(4);
        // The last option's padding may be missing in files from some writers.
        if usize::from(len) > bytes.len() - pos - 4 {
            return Err((pos, code, len));
        }
        pos = (pos + 4 + padded).min(bytes.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_fields() {
        let f = EpbFlags(2 | (3 << 2) | (4 << 5) | (0x8000 << 16));
        assert_eq!(f.direction(), Some(Direction::Outbound));
        assert_eq!(f.reception_type(), 3);
        assert_eq!(f.fcs_len(), Some(4));
        assert_eq!(f.link_errors(), 0x8000);
        assert_eq!(EpbFlags(0).direction(), None);
        assert_eq!(EpbFlags(3).direction(), None);
        assert_eq!(
            EpbFlags::from_direction(Direction::Inbound).direction(),
            Some(Direction::Inbound)
        );
    }

    #[test]
    fn option_iteration() {
        // comment "hi" (padded), flags 1 (BE), end
        let b = [
            0, 1, 0, 2, b'h', b'i', 0, 0, 0, 2, 0, 4, 0, 0, 0, 1, 0, 0, 0, 0,
        ];
        let o = Options::new(&b, Endian::Big);
        let v: Vec<_> = o.iter().collect();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].value, b"hi");
        assert_eq!(o.get_u32(code::EPB_FLAGS), Some(1));
        assert_eq!(o.get(9), None);
        assert!(check_options(&b, Endian::Big).is_ok());
        // overrun
        let bad = [0, 1, 0, 9, b'h', b'i', 0, 0];
        assert_eq!(check_options(&bad, Endian::Big), Err((0, 1, 9)));
        assert_eq!(Options::new(&bad, Endian::Big).iter().count(), 0);
        assert!(Options::EMPTY.is_empty());
    }
}
