//! `sluice filter`: copy the frames of a capture that a pcap-filter
//! expression matches, keeping interfaces, linktypes and metadata.

use std::io::Write;

use sluice_bpf::{Meta, Program, Semantics};
use sluice_filter::{Options, Target};
use sluice_pcap::{Frame, Reader, Writer};
use sluice_wire::LinkType;

use crate::convert::{ConvertError, ConvertReport, copy_with};

/// One expression compiled for every linktype met so far (a pcapng file
/// may mix them); compiled on first use of each linktype, and run with
/// libpcap's semantics so that verdicts on files are tcpdump's.
#[derive(Debug)]
pub struct FrameFilter {
    expr: String,
    opts: Options,
    programs: Vec<(LinkType, Program)>,
    last: usize,
    /// Files carry no socket metadata: libpcap's semantics ignore it.
    meta: Meta,
}

impl FrameFilter {
    /// A filter for `expr`, compiled for files (VLAN tags inline) with
    /// these options; the linktype in `opts` is replaced by each frame's.
    /// The expression is checked now against `opts.linktype`, so a syntax
    /// error is reported before any file is touched.
    pub fn new(expr: &str, opts: Options) -> Result<FrameFilter, sluice_filter::CompileError> {
        let opts = Options {
            target: Target::Offline,
            ..opts
        };
        let first = sluice_filter::compile(expr, &opts)?.to_semantics(Semantics::Libpcap);
        Ok(FrameFilter {
            expr: expr.to_string(),
            opts,
            programs: vec![(opts.linktype, first)],
            last: 0,
            meta: Meta::default(),
        })
    }

    /// The expression.
    pub fn expr(&self) -> &str {
        &self.expr
    }

    /// The program for a linktype, compiling it on first use.
    pub fn program(&mut self, linktype: LinkType) -> Result<&Program, String> {
        if self.programs[self.last].0 != linktype {
            match self.programs.iter().position(|(lt, _)| *lt == linktype) {
                Some(i) => self.last = i,
                None => {
                    let opts = Options {
                        linktype,
                        ..self.opts
                    };
                    let prog = sluice_filter::compile(&self.expr, &opts).map_err(|e| {
                        format!(
                            "the filter cannot be used on {linktype} frames: {}",
                            e.render(&self.expr)
                        )
                    })?;
                    self.programs
                        .push((linktype, prog.to_semantics(Semantics::Libpcap)));
                    self.last = self.programs.len() - 1;
                }
            }
        }
        Ok(&self.programs[self.last].1)
    }

    /// True when the frame matches.
    #[inline]
    pub fn matches(&mut self, frame: &Frame<'_>) -> Result<bool, String> {
        if self.programs[self.last].0 == frame.linktype {
            let prog = &self.programs[self.last].1;
            return Ok(prog.matches(frame.data, frame.origlen, &self.meta));
        }
        let prog = self.program(frame.linktype)?;
        Ok(prog.matches(frame.data, frame.origlen, &Meta::default()))
    }
}

/// Copies the frames of `reader` that `filter` matches into `writer`
/// (see [`copy_selected`](crate::convert::copy_selected)).
pub fn filter<W: Write>(
    reader: &mut Reader,
    writer: &mut Writer<W>,
    out_nanos: bool,
    filter: &mut FrameFilter,
    progress: &mut dyn FnMut(u64),
) -> Result<ConvertReport, ConvertError> {
    copy_with(reader, writer, out_nanos, |f| filter.matches(f), progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{Synth, SynthOptions};
    use sluice_pcap::{Format, Interface, ReaderOptions, RecordMeta, WriterOptions};

    #[test]
    fn keeps_exactly_the_matching_frames() {
        let mut w = Writer::new(Vec::new(), WriterOptions::new(Format::PcapNg)).unwrap();
        w.add_interface(&Interface::new(LinkType::ETHERNET, 65535))
            .unwrap();
        let mut synth = Synth::new(SynthOptions::default());
        let mut udp = 0;
        for _ in 0..2000 {
            let (ts, f) = synth.next_frame();
            let d = sluice_wire::dissect::dissect(LinkType::ETHERNET, f);
            if d.classes().contains(sluice_wire::dissect::Classes::UDP)
                && !d.classes().contains(sluice_wire::dissect::Classes::VLAN)
            {
                udp += 1;
            }
            let meta = RecordMeta {
                interface_id: 0,
                ts_ns: ts,
                origlen: f.len() as u32,
                ..RecordMeta::default()
            };
            w.write_packet(&meta, f).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = Reader::from_bytes(bytes, ReaderOptions::default());
        let mut out = Writer::new(Vec::new(), WriterOptions::new(Format::PcapNg)).unwrap();
        let mut f = FrameFilter::new("udp", Options::default()).unwrap();
        let rep = filter(&mut r, &mut out, true, &mut f, &mut |_| {}).unwrap();
        assert_eq!(rep.frames_read, 2000);
        assert_eq!(rep.frames, udp);
        assert!(udp > 100);
    }

    #[test]
    fn a_bad_expression_is_refused_up_front() {
        let e = FrameFilter::new("tcp port", Options::default()).unwrap_err();
        assert!(e.render("tcp port").contains('^'));
    }
}
