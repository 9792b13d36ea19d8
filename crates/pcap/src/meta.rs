//! What a capture file says besides its frames: sections, interfaces,
//! statistics, name resolution, and the records the reader hands out.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;

use sluice_wire::LinkType;

use crate::endian::Endian;
use crate::frame::Frame;

/// A capture file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// The classic libpcap format: one linktype per file.
    Pcap,
    /// pcapng: sections, several interfaces, options, statistics.
    PcapNg,
}

impl Format {
    /// The format a file name's extension implies: `.pcap`, `.cap`, `.dmp`
    /// for pcap; `.pcapng`, `.ntar` for pcapng (case-insensitive).
    pub fn from_path(path: impl AsRef<Path>) -> Option<Format> {
        let ext = path.as_ref().extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "pcap" | "cap" | "dmp" => Some(Format::Pcap),
            "pcapng" | "ntar" => Some(Format::PcapNg),
            _ => None,
        }
    }

    /// "pcap" or "pcapng".
    pub fn name(self) -> &'static str {
        match self {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        }
    }
}

/// A pcap file header or a pcapng section header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    /// Which format the section belongs to.
    pub format: Format,
    /// Byte order of the file (pcap) or section (pcapng).
    pub endian: Endian,
    /// Major version (2 for pcap, 1 for pcapng).
    pub major: u16,
    /// Minor version (4 for pcap, 0 for pcapng).
    pub minor: u16,
    /// pcap: the magic said nanoseconds. Always false for pcapng (each
    /// interface has its own resolution).
    pub nanosecond: bool,
    /// pcap: the modified ("Kuznetzov") record layout with interface index,
    /// protocol and packet type.
    pub modified: bool,
    /// pcapng: the section length, when the writer recorded it.
    pub section_len: Option<u64>,
    /// `shb_hardware`.
    pub hardware: Option<String>,
    /// `shb_os`.
    pub os: Option<String>,
    /// `shb_userappl`.
    pub userappl: Option<String>,
    /// `opt_comment`s.
    pub comments: Vec<String>,
    /// Every other option, raw.
    pub other_options: Vec<OwnedOption>,
    /// Byte offset of the header in the input.
    pub offset: u64,
}

impl Section {
    /// An empty section header of this format (little-endian, the current
    /// version), as a starting point for the writer.
    pub fn new(format: Format) -> Section {
        let (major, minor) = match format {
            Format::Pcap => (2, 4),
            Format::PcapNg => (1, 0),
        };
        Section {
            format,
            endian: Endian::Little,
            major,
            minor,
            nanosecond: false,
            modified: false,
            section_len: None,
            hardware: None,
            os: None,
            userappl: None,
            comments: Vec::new(),
            other_options: Vec::new(),
            offset: 0,
        }
    }
}

/// A pcapng option kept as bytes (in the byte order of the section it came
/// from).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnedOption {
    /// Option code.
    pub code: u16,
    /// Value without padding.
    pub value: Vec<u8>,
}

/// Timestamp resolution of an interface, as the pcapng `if_tsresol` byte:
/// bit 7 clear means 10^-n seconds, set means 2^-n seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TsResolution(pub u8);

impl Default for TsResolution {
    fn default() -> TsResolution {
        TsResolution::MICRO
    }
}

impl TsResolution {
    /// Microseconds (10^-6), the pcapng default and classic pcap.
    pub const MICRO: TsResolution = TsResolution(6);
    /// Nanoseconds (10^-9).
    pub const NANO: TsResolution = TsResolution(9);

    /// Timestamp units per second, if it fits a `u64` (10^0…10^19,
    /// 2^0…2^63).
    pub fn units_per_second(self) -> Option<u64> {
        let n = u32::from(self.0 & 0x7f);
        if self.0 & 0x80 == 0 {
            10u64.checked_pow(n)
        } else {
            1u64.checked_shl(n).filter(|_| n < 64)
        }
    }

    /// The scale that turns timestamp units into nanoseconds, or `None` for
    /// a resolution out of range.
    pub(crate) fn scale(self) -> Option<TsScale> {
        let n = u32::from(self.0 & 0x7f);
        if self.0 & 0x80 == 0 {
            match n {
                0..=9 => Some(TsScale::Mul(10u64.pow(9 - n))),
                10..=19 => Some(TsScale::Div(10u64.pow(n - 9))),
                _ => None,
            }
        } else {
            (n < 64).then_some(TsScale::Pow2(n))
        }
    }
}

/// How to turn raw timestamp units into nanoseconds, precomputed per
/// interface so that the per-frame work is one multiply or divide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TsScale {
    /// Multiply by this many ns per unit.
    Mul(u64),
    /// Divide by this many units per ns.
    Div(u64),
    /// Units of 2^-n seconds.
    Pow2(u32),
}

impl TsScale {
    /// Raw units plus an offset in seconds to ns since the epoch; `None`
    /// when the result is below 0 or above `u64::MAX` ns.
    #[inline]
    pub(crate) fn to_ns(self, units: u64, offset_s: i64) -> Option<u64> {
        let base: u64 = match self {
            TsScale::Mul(m) => units.checked_mul(m)?,
            TsScale::Div(d) => units / d,
            TsScale::Pow2(n) => {
                let v = (u128::from(units) * 1_000_000_000) >> n;
                u64::try_from(v).ok()?
            }
        };
        if offset_s == 0 {
            return Some(base);
        }
        let v = i128::from(base) + i128::from(offset_s) * 1_000_000_000;
        u64::try_from(v).ok()
    }
}

/// An interface: a pcapng interface description block, or the one
/// interface a pcap file header describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// The linktype of its frames.
    pub linktype: LinkType,
    /// Snapshot length; 0 means no limit.
    pub snaplen: u32,
    /// Timestamp resolution (`if_tsresol`).
    pub tsresol: TsResolution,
    /// Seconds added to every timestamp (`if_tsoffset`).
    pub tsoffset: i64,
    /// Length of the frame check sequence at the end of each frame, if the
    /// file says (pcap: the FCS bits of the linktype field; pcapng: `if_fcslen`).
    pub fcs_len: Option<u8>,
    /// `if_name`.
    pub name: Option<String>,
    /// `if_description`.
    pub description: Option<String>,
    /// `if_filter`: the filter type byte and the filter (0 = libpcap text).
    pub filter: Option<(u8, Vec<u8>)>,
    /// `if_os`.
    pub os: Option<String>,
    /// `if_hardware`.
    pub hardware: Option<String>,
    /// `if_speed` in bits per second.
    pub speed: Option<u64>,
    /// `opt_comment`s.
    pub comments: Vec<String>,
    /// Every other option, raw, in the byte order of its section.
    pub other_options: Vec<OwnedOption>,
    /// Byte offset of the block in the input.
    pub offset: u64,
}

impl Interface {
    /// An interface with this linktype and snapshot length and nothing else
    /// (microsecond resolution).
    pub fn new(linktype: LinkType, snaplen: u32) -> Interface {
        Interface {
            linktype,
            snaplen,
            tsresol: TsResolution::MICRO,
            tsoffset: 0,
            fcs_len: None,
            name: None,
            description: None,
            filter: None,
            os: None,
            hardware: None,
            speed: None,
            comments: Vec::new(),
            other_options: Vec::new(),
            offset: 0,
        }
    }
}

/// Interface statistics (a pcapng interface statistics block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InterfaceStats {
    /// The interface within the section.
    pub interface_id: u32,
    /// When the statistics were taken, ns since the epoch.
    pub ts_ns: u64,
    /// `isb_starttime`, ns since the epoch.
    pub start_ns: Option<u64>,
    /// `isb_endtime`, ns since the epoch.
    pub end_ns: Option<u64>,
    /// `isb_ifrecv`: packets received by the interface.
    pub ifrecv: Option<u64>,
    /// `isb_ifdrop`: packets the interface dropped for lack of resources.
    pub ifdrop: Option<u64>,
    /// `isb_filteraccept`: packets the filter accepted.
    pub filteraccept: Option<u64>,
    /// `isb_osdrop`: packets the operating system dropped.
    pub osdrop: Option<u64>,
    /// `isb_usrdeliv`: packets delivered to the user.
    pub usrdeliv: Option<u64>,
    /// `opt_comment`s.
    pub comments: Vec<String>,
    /// Byte offset of the block in the input.
    pub offset: u64,
}

/// Name resolution records (a pcapng name resolution block).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    /// The records, in order.
    pub entries: Vec<NameEntry>,
    /// `opt_comment`s.
    pub comments: Vec<String>,
    /// `ns_dnsname`.
    pub dns_name: Option<String>,
    /// Byte offset of the block in the input.
    pub offset: u64,
}

/// An address and the names it resolves to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameEntry {
    /// The address.
    pub addr: NameAddr,
    /// Its names.
    pub names: Vec<String>,
}

/// The address of a name resolution record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NameAddr {
    /// `nrb_record_ipv4`.
    V4(Ipv4Addr),
    /// `nrb_record_ipv6`.
    V6(Ipv6Addr),
    /// `nrb_record_eui48`.
    Eui48([u8; 6]),
    /// `nrb_record_eui64`.
    Eui64([u8; 8]),
    /// A record type sluice does not know, kept raw.
    Other {
        /// Record type.
        kind: u16,
        /// Record value.
        value: Vec<u8>,
    },
}

/// A block the reader stepped over without interpreting it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Byte offset of the block.
    pub offset: u64,
    /// Its total length.
    pub len: u64,
    /// Its block type.
    pub block_type: u32,
}

impl Skipped {
    /// A name for the block type.
    pub fn kind(&self) -> &'static str {
        block_name(self.block_type)
    }
}

/// The name of a pcapng block type.
pub fn block_name(block_type: u32) -> &'static str {
    match block_type {
        0x0A0D_0D0A => "section header block",
        1 => "interface description block",
        2 => "packet block",
        3 => "simple packet block",
        4 => "name resolution block",
        5 => "interface statistics block",
        6 => "enhanced packet block",
        7 => "IRIG timestamp block",
        8 => "AFDX encapsulation block",
        9 => "systemd journal export block",
        0x0A => "decryption secrets block",
        0x101 => "Hone machine info block",
        0x102 => "Hone connection event block",
        0x201..=0x213 => "Sysdig block",
        0x0BAD | 0x4000_0BAD => "custom block",
        _ => "unknown block",
    }
}

/// A record or block cut short by the end of the input, reported (not
/// failed) in lenient mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Byte offset where the record or block starts.
    pub offset: u64,
    /// What was being read.
    pub what: &'static str,
    /// Bytes present.
    pub have: u64,
    /// Bytes needed.
    pub need: u64,
}

/// One thing the reader found, in file order.
#[derive(Clone, Copy, Debug)]
pub enum Record<'a> {
    /// A pcap file header or pcapng section header. Interfaces of earlier
    /// sections are forgotten.
    Section(&'a Section),
    /// A new interface of the current section.
    Interface {
        /// Its id within the section.
        id: u32,
        /// Its description.
        interface: &'a Interface,
    },
    /// A frame.
    Frame(Frame<'a>),
    /// Interface statistics.
    Stats(&'a InterfaceStats),
    /// Name resolution records.
    Names(&'a Names),
    /// A block stepped over (decryption secrets, custom, unknown, …).
    Skipped(Skipped),
    /// The input ended inside a record (lenient mode); nothing follows.
    Truncated(Truncation),
}
