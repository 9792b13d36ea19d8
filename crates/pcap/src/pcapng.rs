//! The pcapng format: block types and option codes, parsers for the blocks
//! that describe (section, interface, statistics, names) and encoders for
//! the blocks the writer emits. Packet blocks are parsed in the reader's
//! hot loop, not here.

use std::net::{Ipv4Addr, Ipv6Addr};

use sluice_wire::LinkType;

use crate::endian::Endian;
use crate::error::ErrorKind;
use crate::frame::{OptionIter, Options, check_options, code};
use crate::meta::{
    Format, Interface, InterfaceStats, NameAddr, NameEntry, Names, OwnedOption, Section,
    TsResolution, TsScale,
};

/// Block types.
pub mod block {
    /// Section header block.
    pub const SHB: u32 = 0x0A0D_0D0A;
    /// Interface description block.
    pub const IDB: u32 = 1;
    /// Packet block (obsolete).
    pub const PB: u32 = 2;
    /// Simple packet block.
    pub const SPB: u32 = 3;
    /// Name resolution block.
    pub const NRB: u32 = 4;
    /// Interface statistics block.
    pub const ISB: u32 = 5;
    /// Enhanced packet block.
    pub const EPB: u32 = 6;
    /// Decryption secrets block.
    pub const DSB: u32 = 0x0A;
}

/// The byte-order magic of a section header.
pub const BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;

/// Fixed part of an EPB before the packet data (type, length, interface,
/// timestamp high and low, captured and original length).
pub const EPB_HEADER_LEN: usize = 28;

/// The options of a block, checked. In lenient mode a bad option list is
/// cut at the bad option and `bad` is counted instead of failing.
pub(crate) fn options_at<'a>(
    b: &'a [u8],
    start: usize,
    endian: Endian,
    block: &'static str,
    lenient: bool,
    bad: &mut u64,
) -> Result<Options<'a>, ErrorKind> {
    let end = b.len() - 4;
    let bytes = if start < end { &b[start..end] } else { &[][..] };
    match check_options(bytes, endian) {
        Ok(()) => Ok(Options::new(bytes, endian)),
        Err((at, code, len)) if lenient => {
            let _ = (code, len);
            *bad += 1;
            Ok(Options::new(&bytes[..at], endian))
        }
        Err((_, code, len)) => Err(ErrorKind::BadOption { block, code, len }),
    }
}

fn text(v: &[u8]) -> String {
    let v = match v.iter().position(|&c| c == 0) {
        Some(n) => &v[..n],
        None => v,
    };
    String::from_utf8_lossy(v).into_owned()
}

fn owned(code: u16, value: &[u8]) -> OwnedOption {
    OwnedOption {
        code,
        value: value.to_vec(),
    }
}

/// Parses a section header block (the whole block, already length-checked).
pub(crate) fn parse_shb(
    b: &[u8],
    endian: Endian,
    offset: u64,
    lenient: bool,
    bad: &mut u64,
) -> Result<Section, ErrorKind> {
    let major = endian.u16(b, 12);
    let minor = endian.u16(b, 14);
    if major != 1 || minor > 2 {
        return Err(ErrorKind::UnsupportedVersion {
            format: "pcapng",
            major,
            minor,
        });
    }
    let len = endian.u64(b, 16);
    let mut s = Section::new(Format::PcapNg);
    s.endian = endian;
    s.major = major;
    s.minor = minor;
    s.section_len = (len != u64::MAX).then_some(len);
    s.offset = offset;
    for o in options_at(b, 24, endian, "section header block", lenient, bad)? {
        match o.code {
            code::COMMENT => s.comments.push(text(o.value)),
            2 => s.hardware = Some(text(o.value)),
            3 => s.os = Some(text(o.value)),
            4 => s.userappl = Some(text(o.value)),
            c => s.other_options.push(owned(c, o.value)),
        }
    }
    Ok(s)
}

/// Parses an interface description block; also returns its timestamp scale.
pub(crate) fn parse_idb(
    b: &[u8],
    endian: Endian,
    offset: u64,
    lenient: bool,
    bad: &mut u64,
) -> Result<(Interface, TsScale), ErrorKind> {
    let linktype = LinkType(u32::from(endian.u16(b, 8)));
    let snaplen = endian.u32(b, 12);
    let mut i = Interface::new(linktype, snaplen);
    i.offset = offset;
    for o in options_at(b, 16, endian, "interface description block", lenient, bad)? {
        let v = o.value;
        match o.code {
            code::COMMENT => i.comments.push(text(v)),
            2 => i.name = Some(text(v)),
            3 => i.description = Some(text(v)),
            8 if v.len() == 8 => i.speed = Some(endian.u64(v, 0)),
            9 if v.len() == 1 => i.tsresol = TsResolution(v[0]),
            11 if !v.is_empty() => i.filter = Some((v[0], v[1..].to_vec())),
            12 => i.os = Some(text(v)),
            13 if v.len() == 1 => i.fcs_len = Some(v[0]),
            14 if v.len() == 8 => i.tsoffset = endian.u64(v, 0) as i64,
            15 => i.hardware = Some(text(v)),
            c => i.other_options.push(owned(c, v)),
        }
    }
    let scale = match i.tsresol.scale() {
        Some(s) => s,
        None if lenient => {
            *bad += 1;
            TsResolution::MICRO.scale().unwrap_or(TsScale::Mul(1000))
        }
        None => return Err(ErrorKind::BadTsResolution(i.tsresol.0)),
    };
    Ok((i, scale))
}

/// A timestamp made of two 32-bit halves, high first.
#[inline]
pub(crate) fn ts_units(b: &[u8], at: usize, endian: Endian) -> u64 {
    (u64::from(endian.u32(b, at)) << 32) | u64::from(endian.u32(b, at + 4))
}

/// Parses an interface statistics block. `scale` is the interface's
/// (`None` when the interface is unknown: then the block is an error).
pub(crate) fn parse_isb(
    b: &[u8],
    endian: Endian,
    offset: u64,
    scale: (TsScale, i64),
    lenient: bool,
    bad: &mut u64,
    clamped: &mut u64,
) -> Result<InterfaceStats, ErrorKind> {
    let mut to_ns = |units: u64| match scale.0.to_ns(units, scale.1) {
        Some(v) => v,
        None => {
            *clamped += 1;
            clamp_ns(scale.0, units, scale.1)
        }
    };
    let mut s = InterfaceStats {
        interface_id: endian.u32(b, 8),
        ts_ns: to_ns(ts_units(b, 12, endian)),
        offset,
        ..InterfaceStats::default()
    };
    let opts = options_at(b, 20, endian, "interface statistics block", lenient, bad)?;
    for o in opts {
        let v = o.value;
        let u64v = || (v.len() == 8).then(|| endian.u64(v, 0));
        match o.code {
            code::COMMENT => s.comments.push(text(v)),
            2 if v.len() == 8 => s.start_ns = Some(to_ns(ts_units(v, 0, endian))),
            3 if v.len() == 8 => s.end_ns = Some(to_ns(ts_units(v, 0, endian))),
            4 => s.ifrecv = u64v(),
            5 => s.ifdrop = u64v(),
            6 => s.filteraccept = u64v(),
            7 => s.osdrop = u64v(),
            8 => s.usrdeliv = u64v(),
            _ => {}
        }
    }
    Ok(s)
}

/// The nearest representable value for a timestamp that does not fit.
#[cold]
pub(crate) fn clamp_ns(scale: TsScale, units: u64, offset_s: i64) -> u64 {
    let base: i128 = match scale {
        TsScale::Mul(m) => i128::from(units) * i128::from(m),
        TsScale::Div(d) => i128::from(units / d),
        TsScale::Pow2(n) => ((u128::from(units) * 1_000_000_000) >> n) as i128,
    };
    let v = base + i128::from(offset_s) * 1_000_000_000;
    v.clamp(0, i128::from(u64::MAX)) as u64
}

/// Parses a name resolution block.
pub(crate) fn parse_nrb(
    b: &[u8],
    endian: Endian,
    offset: u64,
    lenient: bool,
    bad: &mut u64,
) -> Result<Names, ErrorKind> {
    const BLOCK: &str = "name resolution block";
    let mut names = Names {
        offset,
        ..Names::default()
    };
    let end = b.len() - 4;
    let mut pos = 8;
    let mut ended = false;
    while end - pos >= 4 {
        let kind = endian.u16(b, pos);
        let len = endian.u16(b, pos + 2);
        pos += 4;
        if kind == 0 {
            ended = true;
            break;
        }
        let n = usize::from(len);
        if n > end - pos {
            if lenient {
                *bad += 1;
                return Ok(names);
            }
            return Err(ErrorKind::BadOption {
                block: BLOCK,
                code: kind,
                len,
            });
        }
        let v = &b[pos..pos + n];
        pos = (pos + n.next_multiple_of(4)).min(end);
        let split = |at: usize| -> Vec<String> {
            v[at.min(v.len())..]
                .split(|&c| c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect()
        };
        let entry = match kind {
            1 if n >= 4 => NameEntry {
                addr: NameAddr::V4(Ipv4Addr::new(v[0], v[1], v[2], v[3])),
                names: split(4),
            },
            2 if n >= 16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(&v[..16]);
                NameEntry {
                    addr: NameAddr::V6(Ipv6Addr::from(a)),
                    names: split(16),
                }
            }
            3 if n >= 6 => {
                let mut a = [0u8; 6];
                a.copy_from_slice(&v[..6]);
                NameEntry {
                    addr: NameAddr::Eui48(a),
                    names: split(6),
                }
            }
            4 if n >= 8 => {
                let mut a = [0u8; 8];
                a.copy_from_slice(&v[..8]);
                NameEntry {
                    addr: NameAddr::Eui64(a),
                    names: split(8),
                }
            }
            _ => NameEntry {
                addr: NameAddr::Other {
                    kind,
                    value: v.to_vec(),
                },
                names: Vec::new(),
            },
        };
        names.entries.push(entry);
    }
    if ended {
        for o in options_at(b, pos, endian, BLOCK, lenient, bad)? {
            match o.code {
                code::COMMENT => names.comments.push(text(o.value)),
                2 => names.dns_name = Some(text(o.value)),
                _ => {}
            }
        }
    }
    Ok(names)
}

/// The first `epb_flags` and `opt_comment` of an option list, in one pass.
#[inline]
pub(crate) fn flags_and_comment(
    iter: OptionIter<'_>,
    endian: Endian,
) -> (Option<u32>, Option<&[u8]>) {
    let mut flags = None;
    let mut comment = None;
    for o in iter {
        match o.code {
            code::EPB_FLAGS if o.value.len() == 4 && flags.is_none() => {
                flags = Some(endian.u32(o.value, 0));
            }
            code::COMMENT if comment.is_none() => comment = Some(o.value),
            _ => {}
        }
    }
    (flags, comment)
}

// ---- encoding ----

/// Appends an option (code, length, value, padding).
pub(crate) fn put_option(out: &mut Vec<u8>, endian: Endian, code: u16, value: &[u8]) {
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&endian.put16(code));
    out.extend_from_slice(&endian.put16(len));
    out.extend_from_slice(&value[..usize::from(len)]);
    let pad = usize::from(len).next_multiple_of(4) - usize::from(len);
    out.extend_from_slice(&[0u8; 3][..pad]);
}

/// Wraps a block body: type, total length, body, total length.
pub(crate) fn finish_block(out: &mut Vec<u8>, endian: Endian, block_type: u32, body: &[u8]) {
    let len = (12 + body.len()) as u32;
    out.extend_from_slice(&endian.put32(block_type));
    out.extend_from_slice(&endian.put32(len));
    out.extend_from_slice(body);
    out.extend_from_slice(&endian.put32(len));
}

fn put_end(body: &mut Vec<u8>, endian: Endian, any: bool) {
    if any {
        put_option(body, endian, code::END, &[]);
    }
}

/// Encodes a section header block.
pub(crate) fn encode_shb(out: &mut Vec<u8>, endian: Endian, s: &Section) {
    let mut body = Vec::new();
    body.extend_from_slice(&endian.put32(BYTE_ORDER_MAGIC));
    body.extend_from_slice(&endian.put16(1));
    body.extend_from_slice(&endian.put16(0));
    body.extend_from_slice(&endian.put64(u64::MAX));
    let start = body.len();
    for c in &s.comments {
        put_option(&mut body, endian, code::COMMENT, c.as_bytes());
    }
    for (code, v) in [(2, &s.hardware), (3, &s.os), (4, &s.userappl)] {
        if let Some(v) = v {
            put_option(&mut body, endian, code, v.as_bytes());
        }
    }
    for o in &s.other_options {
        put_option(&mut body, endian, o.code, &o.value);
    }
    let any = body.len() > start;
    put_end(&mut body, endian, any);
    finish_block(out, endian, block::SHB, &body);
}

/// Encodes an interface description block with the given resolution.
pub(crate) fn encode_idb(out: &mut Vec<u8>, endian: Endian, i: &Interface, tsresol: TsResolution) {
    let mut body = Vec::new();
    body.extend_from_slice(&endian.put16(i.linktype.0 as u16));
    body.extend_from_slice(&endian.put16(0));
    body.extend_from_slice(&endian.put32(i.snaplen));
    let start = body.len();
    for c in &i.comments {
        put_option(&mut body, endian, code::COMMENT, c.as_bytes());
    }
    for (code, v) in [(2, &i.name), (3, &i.description)] {
        if let Some(v) = v {
            put_option(&mut body, endian, code, v.as_bytes());
        }
    }
    if let Some(s) = i.speed {
        put_option(&mut body, endian, 8, &endian.put64(s));
    }
    if tsresol != TsResolution::MICRO {
        put_option(&mut body, endian, 9, &[tsresol.0]);
    }
    if let Some((kind, f)) = &i.filter {
        let mut v = vec![*kind];
        v.extend_from_slice(f);
        put_option(&mut body, endian, 11, &v);
    }
    if let Some(os) = &i.os {
        put_option(&mut body, endian, 12, os.as_bytes());
    }
    if let Some(n) = i.fcs_len {
        put_option(&mut body, endian, 13, &[n]);
    }
    // Timestamps are written already offset: no if_tsoffset.
    if let Some(h) = &i.hardware {
        put_option(&mut body, endian, 15, h.as_bytes());
    }
    for o in &i.other_options {
        put_option(&mut body, endian, o.code, &o.value);
    }
    let any = body.len() > start;
    put_end(&mut body, endian, any);
    finish_block(out, endian, block::IDB, &body);
}

/// Encodes an interface statistics block (timestamps in ns, as the
/// writer's interfaces use `if_tsresol` 9 or 6).
pub(crate) fn encode_isb(out: &mut Vec<u8>, endian: Endian, s: &InterfaceStats, nanos: bool) {
    let units = |ns: u64| if nanos { ns } else { ns / 1000 };
    let ts = |v: u64| {
        let mut b = [0u8; 8];
        b[..4].copy_from_slice(&endian.put32((v >> 32) as u32));
        b[4..].copy_from_slice(&endian.put32(v as u32));
        b
    };
    let mut body = Vec::new();
    body.extend_from_slice(&endian.put32(s.interface_id));
    body.extend_from_slice(&ts(units(s.ts_ns)));
    let start = body.len();
    for c in &s.comments {
        put_option(&mut body, endian, code::COMMENT, c.as_bytes());
    }
    if let Some(v) = s.start_ns {
        put_option(&mut body, endian, 2, &ts(units(v)));
    }
    if let Some(v) = s.end_ns {
        put_option(&mut body, endian, 3, &ts(units(v)));
    }
    for (code, v) in [
        (4, s.ifrecv),
        (5, s.ifdrop),
        (6, s.filteraccept),
        (7, s.osdrop),
        (8, s.usrdeliv),
    ] {
        if let Some(v) = v {
            put_option(&mut body, endian, code, &endian.put64(v));
        }
    }
    let any = body.len() > start;
    put_end(&mut body, endian, any);
    finish_block(out, endian, block::ISB, &body);
}

/// Re-encodes option values whose byte order matters when copying options
/// from a section of another byte order. Unknown codes are copied as is.
pub(crate) fn swap_epb_option(code: u16, value: &[u8], from: Endian, to: Endian, out: &mut [u8]) {
    out.copy_from_slice(value);
    if from == to {
        return;
    }
    match (code, value.len()) {
        (code::EPB_FLAGS | code::EPB_QUEUE, 4) => {
            out.copy_from_slice(&to.put32(from.u32(value, 0)))
        }
        (code::EPB_DROPCOUNT | code::EPB_PACKETID, 8) => {
            out.copy_from_slice(&to.put64(from.u64(value, 0)));
        }
        (19372 | 19373 | 2988 | 2989, n) if n >= 4 => {
            // custom options start with a private enterprise number
            out[..4].copy_from_slice(&to.put32(from.u32(value, 0)));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(endian: Endian, t: u32, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        finish_block(&mut v, endian, t, body);
        v
    }

    #[test]
    fn idb_round_trip_both_orders() {
        let mut i = Interface::new(LinkType::LINUX_SLL2, 262144);
        i.name = Some("eth0".into());
        i.description = Some("uplink".into());
        i.filter = Some((0, b"tcp port 80".to_vec()));
        i.os = Some("Linux".into());
        i.comments = vec!["first".into(), "second".into()];
        i.speed = Some(10_000_000_000);
        i.fcs_len = Some(4);
        i.hardware = Some("nic".into());
        i.other_options = vec![OwnedOption {
            code: 4,
            value: vec![10, 77, 0, 1, 255, 255, 0, 0],
        }];
        for e in [Endian::Little, Endian::Big] {
            let mut v = Vec::new();
            encode_idb(&mut v, e, &i, TsResolution::NANO);
            let mut bad = 0;
            let (j, scale) = parse_idb(&v, e, 0, false, &mut bad).unwrap();
            let mut want = i.clone();
            want.tsresol = TsResolution::NANO;
            assert_eq!(j, want);
            assert_eq!(scale, TsScale::Mul(1));
            assert_eq!(bad, 0);
        }
    }

    #[test]
    fn tsresol_variants() {
        assert_eq!(TsResolution(6).scale(), Some(TsScale::Mul(1000)));
        assert_eq!(TsResolution(12).scale(), Some(TsScale::Div(1000)));
        assert_eq!(TsResolution(0x80 | 20).scale(), Some(TsScale::Pow2(20)));
        assert_eq!(TsResolution(20).scale(), None);
        assert_eq!(TsResolution(0x80 | 64).scale(), None);
        assert_eq!(TsResolution(0x80 | 10).units_per_second(), Some(1024));
        // 2^-10 s units: 1024 units = 1 s
        assert_eq!(TsScale::Pow2(10).to_ns(1024, 0), Some(1_000_000_000));
        assert_eq!(TsScale::Pow2(10).to_ns(1, 0), Some(976_562));
        assert_eq!(TsScale::Mul(1000).to_ns(5, -1), None);
        assert_eq!(TsScale::Mul(1000).to_ns(500_000, -1), None);
        assert_eq!(TsScale::Mul(1000).to_ns(5_000_000, -1), Some(4_000_000_000));
        assert_eq!(TsScale::Mul(1000).to_ns(2_000_000, -1), Some(1_000_000_000));
        assert_eq!(TsScale::Mul(1_000_000_000).to_ns(u64::MAX, 0), None);
        assert_eq!(clamp_ns(TsScale::Mul(1_000_000_000), u64::MAX, 0), u64::MAX);
        assert_eq!(clamp_ns(TsScale::Mul(1), 5, -1), 0);
        assert_eq!(clamp_ns(TsScale::Mul(1), 5, i64::MIN), 0);
        assert_eq!(clamp_ns(TsScale::Pow2(0), u64::MAX, i64::MAX), u64::MAX);
    }

    #[test]
    fn bad_tsresol_is_reported_or_counted() {
        let mut body = vec![1, 0, 0, 0, 0xff, 0xff, 0, 0];
        let mut opts = Vec::new();
        put_option(&mut opts, Endian::Little, 9, &[99]);
        body.extend_from_slice(&opts);
        let v = block(Endian::Little, block::IDB, &body);
        let mut bad = 0;
        assert_eq!(
            parse_idb(&v, Endian::Little, 0, false, &mut bad).unwrap_err(),
            ErrorKind::BadTsResolution(99)
        );
        let (_, s) = parse_idb(&v, Endian::Little, 0, true, &mut bad).unwrap();
        assert_eq!((s, bad), (TsScale::Mul(1000), 1));
    }

    #[test]
    fn isb_round_trip() {
        let s = InterfaceStats {
            interface_id: 2,
            ts_ns: 1_700_000_000_123_456_789,
            start_ns: Some(1_700_000_000_000_000_000),
            end_ns: Some(1_700_000_001_000_000_000),
            ifrecv: Some(100),
            ifdrop: Some(1),
            filteraccept: Some(90),
            osdrop: Some(2),
            usrdeliv: Some(88),
            comments: vec!["stats".into()],
            offset: 0,
        };
        for e in [Endian::Little, Endian::Big] {
            let mut v = Vec::new();
            encode_isb(&mut v, e, &s, true);
            let (mut bad, mut cl) = (0, 0);
            let got = parse_isb(&v, e, 0, (TsScale::Mul(1), 0), false, &mut bad, &mut cl).unwrap();
            assert_eq!(got, s);
        }
    }

    #[test]
    fn nrb_records_and_options() {
        let e = Endian::Big;
        let mut body = Vec::new();
        let mut rec = |kind: u16, v: &[u8]| {
            body.extend_from_slice(&e.put16(kind));
            body.extend_from_slice(&e.put16(v.len() as u16));
            body.extend_from_slice(v);
            body.extend(std::iter::repeat_n(
                0,
                v.len().next_multiple_of(4) - v.len(),
            ));
        };
        rec(1, b"\x0a\x4d\x00\x01host.lab\0alias\0");
        let mut v6 = [0u8; 16].to_vec();
        v6[0] = 0xfd;
        v6[1] = 0x77;
        v6.extend_from_slice(b"six\0");
        rec(2, &v6);
        rec(3, b"\x02\x00\x00\x00\x00\x01mac\0");
        rec(9, b"xyz");
        rec(0, b"");
        put_option(&mut body, e, 2, b"ns.lab");
        put_option(&mut body, e, 1, b"note");
        let v = block(e, block::NRB, &body);
        let mut bad = 0;
        let n = parse_nrb(&v, e, 7, false, &mut bad).unwrap();
        assert_eq!(n.entries.len(), 4);
        assert_eq!(n.entries[0].addr, NameAddr::V4(Ipv4Addr::new(10, 77, 0, 1)));
        assert_eq!(n.entries[0].names, vec!["host.lab", "alias"]);
        assert_eq!(n.entries[1].names, vec!["six"]);
        assert!(matches!(n.entries[2].addr, NameAddr::Eui48(_)));
        assert!(matches!(n.entries[3].addr, NameAddr::Other { kind: 9, .. }));
        assert_eq!(n.dns_name.as_deref(), Some("ns.lab"));
        assert_eq!(n.comments, vec!["note"]);
        assert_eq!(n.offset, 7);
        // a record that overruns the block
        let v = block(e, block::NRB, &[0, 1, 0, 40, 1, 2, 3, 4]);
        assert!(matches!(
            parse_nrb(&v, e, 0, false, &mut bad),
            Err(ErrorKind::BadOption {
                code: 1,
                len: 40,
                ..
            })
        ));
        assert!(
            parse_nrb(&v, e, 0, true, &mut bad)
                .unwrap()
                .entries
                .is_empty()
        );
    }

    #[test]
    fn shb_round_trip_and_version() {
        let mut s = Section::new(Format::PcapNg);
        s.hardware = Some("x86_64".into());
        s.os = Some("Linux".into());
        s.userappl = Some("sluice".into());
        s.comments = vec!["hello".into()];
        for e in [Endian::Little, Endian::Big] {
            let mut v = Vec::new();
            encode_shb(&mut v, e, &s);
            let mut bad = 0;
            let mut want = s.clone();
            want.endian = e;
            assert_eq!(parse_shb(&v, e, 0, false, &mut bad).unwrap(), want);
            v[12..14].copy_from_slice(&e.put16(2));
            assert!(matches!(
                parse_shb(&v, e, 0, false, &mut bad),
                Err(ErrorKind::UnsupportedVersion { major: 2, .. })
            ));
        }
    }

    #[test]
    fn option_swap() {
        let mut out = [0u8; 4];
        swap_epb_option(
            code::EPB_FLAGS,
            &[0, 0, 0, 1],
            Endian::Big,
            Endian::Little,
            &mut out,
        );
        assert_eq!(out, [1, 0, 0, 0]);
        let mut out = [0u8; 3];
        swap_epb_option(code::COMMENT, b"abc", Endian::Big, Endian::Little, &mut out);
        assert_eq!(&out, b"abc");
    }
}
