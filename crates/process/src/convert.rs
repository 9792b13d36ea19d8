//! `sluice convert`: copy a capture into another format or timestamp
//! resolution, keeping everything the output format can hold and counting
//! what it cannot.

use std::io::Write;

use sluice_pcap::{Error, Format, Frame, Interface, Reader, Record, Writer};

/// What a conversion did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConvertReport {
    /// Frames written.
    pub frames: u64,
    /// Sections read.
    pub sections: u64,
    /// Interfaces written (pcapng) or merged into the file header (pcap).
    pub interfaces: u64,
    /// Interface statistics blocks carried over (pcapng output).
    pub stats: u64,
    /// Name resolution blocks carried over (pcapng output).
    pub names: u64,
    /// Records the output format cannot hold and that were left out:
    /// statistics and name resolution blocks when writing pcap.
    pub dropped_metadata: u64,
    /// Blocks the reader stepped over (unknown, custom, decryption secrets).
    pub skipped_blocks: u64,
    /// Frames whose timestamp lost precision (nanoseconds into a
    /// microsecond file).
    pub rounded_timestamps: u64,
    /// Frames read.
    pub frames_read: u64,
}

/// Why a conversion stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertError {
    /// Reading the input failed (the output holds every frame before it).
    #[error("reading: {0}")]
    Read(#[source] Error),
    /// Writing the output failed.
    #[error("writing: {0}")]
    Write(#[source] Error),
    /// The frame selector refused a frame it could not judge.
    #[error("{0}")]
    Select(String),
    /// The input has several linktypes and the output is pcap, which holds one.
    #[error(
        "a pcap file holds one linktype, but the input has {first} and {other} \
         (interface {interface} of section {section}): write pcapng instead"
    )]
    MixedLinkTypes {
        /// The linktype of the pcap file.
        first: sluice_wire::LinkType,
        /// The conflicting one.
        other: sluice_wire::LinkType,
        /// Its interface id.
        interface: u32,
        /// Its section number, from 0.
        section: u64,
    },
}

/// Copies every record of `reader` into `writer`. Section headers,
/// interfaces (names, descriptions, filters, comments), statistics and
/// name resolution blocks are kept when the output is pcapng; a pcap output
/// keeps frames and the one linktype, and counts what it had to leave out.
///
/// `out_nanos` says whether the writer keeps nanoseconds (its
/// [`WriterOptions::nanos`](sluice_pcap::WriterOptions)), so that rounded
/// timestamps can be counted.
///
/// The writer is not finished: the caller calls [`Writer::finish`] and so
/// learns whether the output is complete.
pub fn convert<W: Write>(
    reader: &mut Reader,
    writer: &mut Writer<W>,
    out_nanos: bool,
    progress: &mut dyn FnMut(u64),
) -> Result<ConvertReport, ConvertError> {
    copy_with(reader, writer, out_nanos, |_| Ok(true), progress)
}

/// Decides whether a frame is copied; `Err` stops the copy with that
/// message.
pub type Selector<'s> = dyn FnMut(&Frame<'_>) -> Result<bool, String> + 's;

/// Like [`convert`], copying only the frames `select` keeps (everything
/// else — sections, interfaces, statistics, names — is carried as
/// `convert` carries it). [`ConvertReport::frames_read`] counts every
/// frame, [`ConvertReport::frames`] those written.
pub fn copy_selected<W: Write>(
    reader: &mut Reader,
    writer: &mut Writer<W>,
    out_nanos: bool,
    select: &mut Selector<'_>,
    progress: &mut dyn FnMut(u64),
) -> Result<ConvertReport, ConvertError> {
    copy_with(reader, writer, out_nanos, |f| select(f), progress)
}

/// [`copy_selected`] with the selector known at compile time, so that the
/// per-frame path is one loop without indirect calls.
pub(crate) fn copy_with<W: Write, S>(
    reader: &mut Reader,
    writer: &mut Writer<W>,
    out_nanos: bool,
    mut select: S,
    progress: &mut dyn FnMut(u64),
) -> Result<ConvertReport, ConvertError>
where
    S: FnMut(&Frame<'_>) -> Result<bool, String>,
{
    let mut state = CopyState {
        report: ConvertReport::default(),
        out_ng: writer.format() == Format::PcapNg,
        pcap_linktype: None,
        first_section: true,
    };
    let mut since_progress = 0u32;
    // One frame: select, write, count. A macro rather than a closure, so
    // that the frame's borrow of the reader ends with it.
    macro_rules! frame {
        ($frame:expr) => {{
            let mut frame = $frame;
            state.report.frames_read += 1;
            since_progress += 1;
            if select(&frame).map_err(ConvertError::Select)? {
                if !state.out_ng {
                    frame.interface_id = 0;
                }
                if !out_nanos && frame.ts_ns % 1000 != 0 {
                    state.report.rounded_timestamps += 1;
                }
                writer.write_frame(&frame).map_err(ConvertError::Write)?;
                state.report.frames += 1;
            }
            if since_progress >= 65_536 {
                since_progress = 0;
                progress(reader.position());
            }
        }};
    }
    loop {
        // pcap frames take the reader's inlined fast path; everything else
        // (and any frame it leaves) the general one.
        if let Some(f) = reader.next_pcap_frame() {
            frame!(f);
            continue;
        }
        let Some(record) = reader.next_record() else {
            break;
        };
        match record.map_err(ConvertError::Read)? {
            Record::Frame(f) => frame!(f),
            other => state.carry(other, writer)?,
        }
    }
    progress(reader.position());
    Ok(state.report)
}

/// What [`copy_with`] keeps between records other than frames.
struct CopyState {
    report: ConvertReport,
    out_ng: bool,
    /// pcap output: every input interface maps to the file's one interface.
    pcap_linktype: Option<sluice_wire::LinkType>,
    first_section: bool,
}

impl CopyState {
    /// Carries a record other than a frame into the output, or counts why
    /// it cannot be.
    #[cold]
    fn carry<W: Write>(
        &mut self,
        record: Record<'_>,
        writer: &mut Writer<W>,
    ) -> Result<(), ConvertError> {
        let report = &mut self.report;
        match record {
            Record::Section(section) => {
                report.sections += 1;
                // The writer has written its own first section header;
                // later sections are carried over as they are.
                if self.out_ng && !self.first_section {
                    writer.new_section(section).map_err(ConvertError::Write)?;
                }
                self.first_section = false;
            }
            Record::Interface { id, interface } => {
                report.interfaces += 1;
                if self.out_ng {
                    writer
                        .add_interface(interface)
                        .map_err(ConvertError::Write)?;
                } else {
                    match self.pcap_linktype {
                        None => {
                            writer
                                .add_interface(&pcap_interface(interface))
                                .map_err(ConvertError::Write)?;
                            self.pcap_linktype = Some(interface.linktype);
                        }
                        Some(lt) if lt != interface.linktype => {
                            return Err(ConvertError::MixedLinkTypes {
                                first: lt,
                                other: interface.linktype,
                                interface: id,
                                section: report.sections.saturating_sub(1),
                            });
                        }
                        Some(_) => {}
                    }
                }
            }
            Record::Stats(stats) => {
                if self.out_ng {
                    writer.write_stats(stats).map_err(ConvertError::Write)?;
                    report.stats += 1;
                } else {
                    report.dropped_metadata += 1;
                }
            }
            Record::Names(names) => {
                if self.out_ng {
                    writer.write_names(names).map_err(ConvertError::Write)?;
                    report.names += 1;
                } else {
                    report.dropped_metadata += 1;
                }
            }
            Record::Skipped(_) => report.skipped_blocks += 1,
            Record::Truncated(_) | Record::Frame(_) => {}
        }
        Ok(())
    }
}

/// The interface a pcap file header is made from: the pcapng-only
/// descriptions do not fit in it.
fn pcap_interface(i: &Interface) -> Interface {
    let mut p = Interface::new(i.linktype, i.snaplen);
    p.fcs_len = i.fcs_len;
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_pcap::{ReaderOptions, RecordMeta, WriterOptions};
    use sluice_wire::LinkType;

    fn capture(format: Format, linktypes: &[LinkType]) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), WriterOptions::new(format)).unwrap();
        for lt in linktypes {
            let mut i = Interface::new(*lt, 65535);
            i.name = Some(format!("if{}", lt.0));
            w.add_interface(&i).unwrap();
        }
        for n in 0..10u32 {
            let meta = RecordMeta {
                interface_id: n % linktypes.len() as u32,
                ts_ns: 1_700_000_000_000_000_000 + u64::from(n) * 1_001,
                origlen: 60,
                ..RecordMeta::default()
            };
            w.write_packet(&meta, &[n as u8; 60]).unwrap();
        }
        w.finish().unwrap()
    }

    fn frames(bytes: Vec<u8>) -> Vec<(u32, u64, Vec<u8>)> {
        let mut r = Reader::from_bytes(bytes, ReaderOptions::default());
        let mut v = Vec::new();
        while let Some(f) = r.next_frame() {
            let f = f.unwrap();
            v.push((f.interface_id, f.ts_ns, f.data.to_vec()));
        }
        v
    }

    #[test]
    fn pcapng_to_pcap_and_back_keeps_frames() {
        let ng = capture(Format::PcapNg, &[LinkType::ETHERNET]);
        let mut r = Reader::from_bytes(ng.clone(), ReaderOptions::default());
        let mut w = Writer::new(Vec::new(), WriterOptions::new(Format::Pcap)).unwrap();
        let rep = convert(&mut r, &mut w, true, &mut |_| {}).unwrap();
        assert_eq!(rep.frames, 10);
        let pcap = w.finish().unwrap();
        assert_eq!(frames(pcap.clone()), frames(ng));

        let mut r = Reader::from_bytes(pcap, ReaderOptions::default());
        let mut w =
            Writer::new(Vec::new(), WriterOptions::new(Format::PcapNg).nanos(false)).unwrap();
        let rep = convert(&mut r, &mut w, false, &mut |_| {}).unwrap();
        assert_eq!(rep.rounded_timestamps, 9);
        let back = frames(w.finish().unwrap());
        assert_eq!(back.len(), 10);
        assert_eq!(back[1].1, 1_700_000_000_000_001_000);
    }

    #[test]
    fn mixed_linktypes_need_pcapng() {
        let ng = capture(Format::PcapNg, &[LinkType::ETHERNET, LinkType::RAW]);
        let mut r = Reader::from_bytes(ng.clone(), ReaderOptions::default());
        let mut w = Writer::new(Vec::new(), WriterOptions::new(Format::Pcap)).unwrap();
        let err = convert(&mut r, &mut w, true, &mut |_| {}).unwrap_err();
        assert!(err.to_string().contains("holds one linktype"), "{err}");

        let mut r = Reader::from_bytes(ng.clone(), ReaderOptions::default());
        let mut w = Writer::new(Vec::new(), WriterOptions::new(Format::PcapNg)).unwrap();
        let rep = convert(&mut r, &mut w, true, &mut |_| {}).unwrap();
        assert_eq!(rep.interfaces, 2);
        assert_eq!(frames(w.finish().unwrap()), frames(ng));
    }
}
