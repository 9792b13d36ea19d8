//! Record headers for the hot path of a capture: the bytes
//! `sluice_pcap::Writer::encode_record_header` produces for a little-endian,
//! nanosecond file, appended straight to a buffer.
//!
//! The writer's own encoder returns a `Result` per record (its checks cover
//! any caller); a capture has checked once per block what can fail (the
//! interface exists, the timestamp fits pcap's 32-bit seconds), so the
//! bytes are written here without a fallible call per frame. The tests
//! hold the two encoders to the same bytes.

use sluice_pcap::Format;

/// pcapng enhanced packet block type.
const EPB: u32 = 6;
/// `epb_flags` option code.
const EPB_FLAGS: u16 = 2;

/// Encodes record headers of one format (little-endian, nanoseconds,
/// pcapng records with an `epb_flags` option), as `sluice_pcap`'s writer
/// does with `WriterOptions::new(format)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RecordEncoder {
    format: Format,
}

impl RecordEncoder {
    pub(crate) fn new(format: Format) -> RecordEncoder {
        RecordEncoder { format }
    }

    /// The last timestamp a record can carry: pcap's seconds are 32 bits.
    pub(crate) fn max_ts_ns(&self) -> u64 {
        match self.format {
            Format::Pcap => (u64::from(u32::MAX) + 1) * 1_000_000_000 - 1,
            Format::PcapNg => u64::MAX,
        }
    }

    /// Bytes of a whole record for a frame of `caplen` bytes.
    #[inline]
    pub(crate) fn record_len(&self, caplen: usize) -> usize {
        match self.format {
            Format::Pcap => 16 + caplen,
            Format::PcapNg => 28 + caplen.next_multiple_of(4) + 12 + 4,
        }
    }

    /// Appends the bytes before the frame. `ts_ns` must not exceed
    /// [`RecordEncoder::max_ts_ns`].
    #[inline]
    pub(crate) fn head(
        &self,
        out: &mut Vec<u8>,
        interface: u32,
        ts_ns: u64,
        caplen: u32,
        origlen: u32,
    ) {
        match self.format {
            Format::Pcap => {
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&((ts_ns / 1_000_000_000) as u32).to_le_bytes());
                h[4..8].copy_from_slice(&((ts_ns % 1_000_000_000) as u32).to_le_bytes());
                h[8..12].copy_from_slice(&caplen.to_le_bytes());
                h[12..16].copy_from_slice(&origlen.to_le_bytes());
                out.extend_from_slice(&h);
            }
            Format::PcapNg => {
                let len = self.record_len(caplen as usize) as u32;
                let mut h = [0u8; 28];
                h[0..4].copy_from_slice(&EPB.to_le_bytes());
                h[4..8].copy_from_slice(&len.to_le_bytes());
                h[8..12].copy_from_slice(&interface.to_le_bytes());
                h[12..16].copy_from_slice(&((ts_ns >> 32) as u32).to_le_bytes());
                h[16..20].copy_from_slice(&(ts_ns as u32).to_le_bytes());
                h[20..24].copy_from_slice(&caplen.to_le_bytes());
                h[24..28].copy_from_slice(&origlen.to_le_bytes());
                out.extend_from_slice(&h);
            }
        }
    }

    /// Appends the bytes after the frame: pcapng padding, the `epb_flags`
    /// option, the end of options and the trailing length; nothing for
    /// pcap.
    #[inline]
    pub(crate) fn tail(&self, out: &mut Vec<u8>, caplen: usize, flags: u32) {
        if self.format == Format::Pcap {
            return;
        }
        let pad = caplen.next_multiple_of(4) - caplen;
        let len = self.record_len(caplen) as u32;
        let mut t = [0u8; 19];
        let at = pad;
        t[at..at + 2].copy_from_slice(&EPB_FLAGS.to_le_bytes());
        t[at + 2..at + 4].copy_from_slice(&4u16.to_le_bytes());
        t[at + 4..at + 8].copy_from_slice(&flags.to_le_bytes());
        // at + 8 .. at + 12: the end of options, zero.
        t[at + 12..at + 16].copy_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&t[..at + 16]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_pcap::{EpbFlags, Interface, RecordMeta, Writer, WriterOptions};
    use sluice_wire::LinkType;

    #[test]
    fn same_bytes_as_the_writer() {
        for format in [Format::Pcap, Format::PcapNg] {
            let mut w = Writer::new(Vec::new(), WriterOptions::new(format).nanos(true)).unwrap();
            for _ in 0..3 {
                w.add_interface(&Interface::new(LinkType::ETHERNET, 262_144))
                    .unwrap();
            }
            let enc = RecordEncoder::new(format);
            for (i, caplen) in [0usize, 1, 2, 3, 4, 5, 60, 61, 62, 63, 1514, 65_535]
                .into_iter()
                .enumerate()
            {
                let meta = RecordMeta {
                    interface_id: (i % 3) as u32,
                    ts_ns: 1_700_000_000_123_456_789 + i as u64 * 7_777_777_777,
                    origlen: caplen as u32 + i as u32,
                    flags: Some(EpbFlags(0x11 + i as u32)),
                };
                let want = w.encode_record_header(&meta, caplen).unwrap();
                let mut head = Vec::new();
                enc.head(
                    &mut head,
                    meta.interface_id,
                    meta.ts_ns,
                    caplen as u32,
                    meta.origlen,
                );
                let mut tail = Vec::new();
                enc.tail(&mut tail, caplen, meta.flags.unwrap().0);
                assert_eq!(head, want.head(), "{format:?} {caplen}");
                assert_eq!(tail, want.tail(), "{format:?} {caplen}");
                assert_eq!(enc.record_len(caplen), want.record_len(caplen));
            }
            // The last second pcap can hold, and the first it cannot.
            let ok = RecordMeta {
                interface_id: 0,
                ts_ns: enc.max_ts_ns(),
                origlen: 1,
                flags: None,
            };
            assert!(w.encode_record_header(&ok, 1).is_ok());
            if format == Format::Pcap {
                let late = RecordMeta {
                    ts_ns: enc.max_ts_ns() + 1,
                    ..ok
                };
                assert!(w.encode_record_header(&late, 1).is_err());
            }
        }
    }
}
