//! The classic pcap format: the 24-byte file header and the 16-byte (or,
//! in the modified variant, 24-byte) record header, parsed and encoded.

use sluice_wire::LinkType;

use crate::endian::Endian;
use crate::error::ErrorKind;
use crate::meta::{Format, Interface, Section, TsResolution};

/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub const RECORD_HEADER_LEN: usize = 16;
/// Length of a record header in the modified ("Kuznetzov") variant.
pub const MODIFIED_RECORD_HEADER_LEN: usize = 24;

/// Microsecond magic, as written in the file's byte order.
pub const MAGIC_MICRO: u32 = 0xa1b2_c3d4;
/// Nanosecond magic.
pub const MAGIC_NANO: u32 = 0xa1b2_3c4d;
/// Modified ("Kuznetzov") magic: microseconds, 24-byte record headers.
pub const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// Linktype field bit: an FCS length is given in the top four bits.
const FCS_PRESENT: u32 = 0x0400_0000;
/// Linktype field: the linktype proper.
pub(crate) const LINKTYPE_MASK: u32 = 0x03ff_ffff;

/// What the first four bytes of a file say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Magic {
    Pcap {
        endian: Endian,
        nanos: bool,
        modified: bool,
    },
    PcapNg,
}

/// Recognises the magic number in the first four bytes.
pub(crate) fn recognise(first4: [u8; 4]) -> Result<Magic, ErrorKind> {
    let le = u32::from_le_bytes(first4);
    let be = u32::from_be_bytes(first4);
    for (v, endian) in [(le, Endian::Little), (be, Endian::Big)] {
        let (nanos, modified) = match v {
            MAGIC_MICRO => (false, false),
            MAGIC_NANO => (true, false),
            MAGIC_MODIFIED => (false, true),
            _ => continue,
        };
        return Ok(Magic::Pcap {
            endian,
            nanos,
            modified,
        });
    }
    if le == 0x0a0d_0d0a {
        return Ok(Magic::PcapNg);
    }
    let name = match le {
        0x1c00_01ac | 0xac01_001c => Some("IXIA hardware capture (lcap)"),
        0x1c00_01ab | 0xab01_001c => Some("IXIA software capture (lcap)"),
        _ if first4[..2] == [0x1f, 0x8b] => Some("gzip-compressed data: decompress it first"),
        0xfd2f_b528 => Some("zstandard-compressed data: decompress it first"),
        0x6f6f_6e73 => Some("Sun snoop"),
        0x5542_4d47 => Some("Microsoft Network Monitor 2"),
        0x5846_5352 => Some("Microsoft Network Monitor 1"),
        _ if &first4 == b"XCP\0" => Some("NetXRay / Sniffer for Windows"),
        _ => None,
    };
    Err(match name {
        Some(name) => ErrorKind::UnsupportedFormat { magic: le, name },
        None => ErrorKind::UnknownMagic { magic: le },
    })
}

/// Parses a file header (24 bytes) into its section and its one interface.
pub(crate) fn parse_file_header(
    h: &[u8],
    endian: Endian,
    nanos: bool,
    modified: bool,
) -> Result<(Section, Interface), ErrorKind> {
    let major = endian.u16(h, 4);
    let minor = endian.u16(h, 6);
    if major != 2 {
        return Err(ErrorKind::UnsupportedVersion {
            format: "pcap",
            major,
            minor,
        });
    }
    let snaplen = endian.u32(h, 16);
    let raw_lt = endian.u32(h, 20);
    let mut section = Section::new(Format::Pcap);
    section.endian = endian;
    section.major = major;
    section.minor = minor;
    section.nanosecond = nanos;
    section.modified = modified;
    let mut iface = Interface::new(LinkType(raw_lt & LINKTYPE_MASK), snaplen);
    iface.tsresol = if nanos {
        TsResolution::NANO
    } else {
        TsResolution::MICRO
    };
    if raw_lt & FCS_PRESENT != 0 {
        // The top four bits count 16-bit words of FCS.
        iface.fcs_len = Some(((raw_lt >> 28) as u8) * 2);
    }
    Ok((section, iface))
}

/// The linktype field for a file header: linktype plus FCS bits.
pub(crate) fn linktype_field(iface: &Interface) -> u32 {
    let mut v = iface.linktype.0 & LINKTYPE_MASK;
    if let Some(n) = iface.fcs_len {
        v |= FCS_PRESENT | (u32::from((n / 2) & 0xf) << 28);
    }
    v
}

/// Encodes a file header.
pub(crate) fn encode_file_header(endian: Endian, nanos: bool, iface: &Interface) -> [u8; 24] {
    let mut h = [0u8; 24];
    let magic = if nanos { MAGIC_NANO } else { MAGIC_MICRO };
    h[0..4].copy_from_slice(&endian.put32(magic));
    h[4..6].copy_from_slice(&endian.put16(2));
    h[6..8].copy_from_slice(&endian.put16(4));
    // thiszone and sigfigs stay 0
    h[16..20].copy_from_slice(&endian.put32(iface.snaplen));
    h[20..24].copy_from_slice(&endian.put32(linktype_field(iface)));
    h
}

/// Encodes a record header; `None` when the timestamp does not fit (the
/// seconds field is 32 bits: up to the year 2106).
#[inline]
pub(crate) fn encode_record_header(
    endian: Endian,
    nanos: bool,
    ts_ns: u64,
    caplen: u32,
    origlen: u32,
) -> Option<[u8; 16]> {
    let sec = u32::try_from(ts_ns / 1_000_000_000).ok()?;
    let sub = (ts_ns % 1_000_000_000) as u32;
    let frac = if nanos { sub } else { sub / 1000 };
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&endian.put32(sec));
    h[4..8].copy_from_slice(&endian.put32(frac));
    h[8..12].copy_from_slice(&endian.put32(caplen));
    h[12..16].copy_from_slice(&endian.put32(origlen));
    Some(h)
}

/// The largest captured length Wireshark accepts for a linktype whatever
/// the snapshot length says (its `wtap_max_snaplen_for_encap`, which
/// libpcap mirrors): 262144 for most, more for a few that carry big
/// messages.
pub fn max_caplen_for(linktype: LinkType) -> u32 {
    match linktype.0 {
        // D-Bus messages
        231 => 128 * 1024 * 1024,
        // USB over Linux usbmon, USBPcap
        189 | 220 | 249 => 1024 * 1024,
        // EBHSCR
        279 => 8 * 1024 * 1024,
        _ => 262_144,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magics() {
        assert_eq!(
            recognise(MAGIC_MICRO.to_le_bytes()),
            Ok(Magic::Pcap {
                endian: Endian::Little,
                nanos: false,
                modified: false
            })
        );
        assert_eq!(
            recognise(MAGIC_NANO.to_be_bytes()),
            Ok(Magic::Pcap {
                endian: Endian::Big,
                nanos: true,
                modified: false
            })
        );
        assert_eq!(
            recognise(MAGIC_MODIFIED.to_be_bytes()),
            Ok(Magic::Pcap {
                endian: Endian::Big,
                nanos: false,
                modified: true
            })
        );
        assert_eq!(recognise([0x0a, 0x0d, 0x0d, 0x0a]), Ok(Magic::PcapNg));
        assert!(matches!(
            recognise([0x1f, 0x8b, 8, 0]),
            Err(ErrorKind::UnsupportedFormat { .. })
        ));
        assert_eq!(
            recognise(*b"abcd"),
            Err(ErrorKind::UnknownMagic { magic: 0x6463_6261 })
        );
        let e = recognise(0x1c00_01acu32.to_le_bytes()).unwrap_err();
        assert!(e.to_string().contains("IXIA"), "{e}");
    }

    #[test]
    fn header_round_trip_with_fcs_bits() {
        let mut i = Interface::new(LinkType::ETHERNET, 65535);
        i.fcs_len = Some(4);
        i.tsresol = TsResolution::NANO;
        for endian in [Endian::Little, Endian::Big] {
            let h = encode_file_header(endian, true, &i);
            let (s, j) = parse_file_header(&h, endian, true, false).unwrap();
            assert_eq!(s.endian, endian);
            assert_eq!((s.major, s.minor), (2, 4));
            assert_eq!(j, i);
            assert_eq!(endian.u32(&h, 20), 0x2400_0001);
        }
    }

    #[test]
    fn record_header_limits() {
        let h = encode_record_header(Endian::Little, false, 1_500_000_123_456_789, 60, 70).unwrap();
        assert_eq!(Endian::Little.u32(&h, 0), 1_500_000);
        assert_eq!(Endian::Little.u32(&h, 4), 123_456);
        assert_eq!(Endian::Little.u32(&h, 8), 60);
        assert_eq!(Endian::Little.u32(&h, 12), 70);
        assert!(encode_record_header(Endian::Little, true, u64::MAX, 1, 1).is_none());
        let mut h = encode_file_header(Endian::Little, false, &Interface::new(LinkType(1), 1));
        h[4] = 3;
        assert!(matches!(
            parse_file_header(&h, Endian::Little, false, false),
            Err(ErrorKind::UnsupportedVersion { major: 3, .. })
        ));
    }
}
