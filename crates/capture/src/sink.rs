//! Where captured blocks go: the [`Sink`] trait, and [`FileSink`], which
//! writes pcap or pcapng files (rotated or not) from ring blocks.
//!
//! # The vectored write
//!
//! For every frame of a ring block, [`FileSink`] encodes the record header
//! (and, for pcapng, the padding, the `epb_flags` option and the trailing
//! length) into a scratch buffer, and lists the pieces of the record in
//! file order: header bytes from the scratch buffer, packet bytes, a VLAN
//! tag put back (scratch), the rest of the packet, the record's tail. A
//! record's tail and the next record's header are adjacent in the scratch
//! buffer and go out as one piece. The whole block is then handed to
//! `writev` (1024 pieces per call) and returned to the kernel.
//!
//! Frames of at least [`FileSink::COPY_BREAK`] bytes (jumbo frames, GSO
//! super-frames) are written straight from the ring block, never copied in
//! user space. Smaller frames are copied next to their headers, so that a
//! block of them becomes one contiguous write: the kernel's cost per
//! `writev` piece (and per call: 1024 pieces at most) is higher than a
//! `memcpy` of a small frame. Measured with `examples/sinkbench.rs` (1 MiB
//! blocks written 600 times to an ext4 file, CPU time of the process,
//! three runs each, 2 shared cores):
//!
//! | frame | every frame from the ring | frames copied |
//! |---|---|---|
//! | 60 bytes | 112–122 ns/frame | 38–51 ns/frame |
//! | 1500 bytes | 560–585 ns/frame | 484–534 ns/frame |
//!
//! and within the clock's resolution of each other from 4000 bytes up.
//!
//! With rotation (`-C`, `-G`, `-W`), the pieces gathered so far are written
//! to the current file before a record that belongs to the next one, so
//! files split exactly at record boundaries, as tcpdump's do.

use std::io::IoSlice;
use std::path::{Path, PathBuf};

use sluice_linux::block::{FrameParts, Frames, RingFrame, WalkError};
use sluice_linux::{Block, Framing, FramingKind};
use sluice_pcap::{
    Format, Interface, InterfaceStats, RotatingWriter, Rotation, Writer, WriterOptions,
};

use crate::error::{Error, Result};
use crate::record::RecordEncoder;

/// What a sink did with (part of) a block.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    /// Frames taken.
    pub frames: u64,
    /// Bytes of those frames as kept (captured length, tags put back).
    pub bytes: u64,
    /// Frames lost because the block broke the kernel's layout rules (the
    /// walk stops at the first bad frame of a block; never expected).
    pub malformed: u64,
    /// The sink wants no more frames (a rotation limit was reached).
    pub stop: bool,
}

/// A consumer of ring blocks. The capture engine calls it from its reader
/// threads, one call at a time (the sink sits behind a lock), with the
/// source (interface) number the frames came from.
pub trait Sink: Send {
    /// Takes at most `limit` frames of `block`, in order.
    fn write_block(&mut self, source: u32, block: &Block<'_>, limit: u64) -> Result<Written>;
}

/// Calls `f` for each frame of `block` (at most `limit`), counting frames
/// lost to a malformed block. Stops early when `f` says so.
pub fn for_each_frame(
    block: &Block<'_>,
    limit: u64,
    mut f: impl FnMut(&RingFrame<'_>) -> Result<bool>,
) -> Result<Written> {
    let mut w = Written::default();
    let frames = match block.frames() {
        Ok(frames) => frames,
        Err(_) => {
            w.malformed = block.header().map_or(0, |h| u64::from(h.num_pkts));
            return Ok(w);
        }
    };
    let total = u64::from(frames.remaining());
    for frame in frames {
        if w.frames >= limit {
            break;
        }
        match frame {
            Ok(frame) => {
                w.frames += 1;
                w.bytes += frame.parts(block.framing()).caplen() as u64;
                if !f(&frame)? {
                    break;
                }
            }
            Err(_) => {
                w.malformed = total - w.frames;
                break;
            }
        }
    }
    Ok(w)
}

/// The output of a [`FileSink`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileOptions {
    /// pcap or pcapng.
    pub format: Format,
    /// Rotation (`-C`, `-G`, `-W`); `None` writes one file (or stdout for
    /// `-`).
    pub rotation: Option<Rotation>,
}

enum Out {
    Single(Writer<sluice_pcap::Output>),
    Rotating(Box<RotatingWriter>),
}

/// A piece of a record: bytes of the scratch buffer, or of the ring block.
#[derive(Clone, Copy)]
enum Piece<'b> {
    Scratch(usize, usize),
    Ring(&'b [u8]),
}

/// Writes blocks to a pcap or pcapng file, or a rotating series of files,
/// with one vectored write per block (see the module documentation).
pub struct FileSink {
    out: Out,
    path: PathBuf,
    scratch: Vec<u8>,
    closed: Vec<PathBuf>,
    bytes_out: u64,
    copy_break: usize,
    encoder: RecordEncoder,
    interfaces: u32,
}

impl std::fmt::Debug for FileSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSink")
            .field("path", &self.path)
            .field("bytes_out", &self.bytes_out)
            .finish_non_exhaustive()
    }
}

/// What a finished [`FileSink`] wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileReport {
    /// Every file written, in order (one without rotation).
    pub files: Vec<PathBuf>,
    /// Bytes of records (headers and frames) handed to the files.
    pub bytes: u64,
}

impl FileSink {
    /// Creates the output at `path` (`-` for stdout, without rotation) with
    /// an interface description for each of `interfaces`, in order: frames
    /// of source `i` are written for interface `i`. With rotation, the first
    /// file is created now, named for the current time.
    pub fn create(path: &Path, opts: &FileOptions, interfaces: &[Interface]) -> Result<FileSink> {
        let name = path.display().to_string();
        if opts.format == Format::Pcap && interfaces.len() > 1 {
            return Err(Error::Config(format!(
                "{name}: a pcap file holds one interface, not {}: write pcapng (.pcapng) to keep them apart",
                interfaces.len()
            )));
        }
        let wopts = WriterOptions::new(opts.format).nanos(true);
        let out = match opts.rotation {
            None => {
                let mut w = Writer::create(path, wopts)
                    .map_err(|e| Error::file(format!("creating {name}"), e))?;
                for i in interfaces {
                    w.add_interface(i)
                        .map_err(|e| Error::file(format!("writing {name}"), e))?;
                }
                Out::Single(w)
            }
            Some(rotation) => {
                if path.as_os_str() == "-" {
                    return Err(Error::Config(
                        "rotation (-C, -G, -W) needs a file name, not stdout".into(),
                    ));
                }
                let template = path.to_str().ok_or_else(|| {
                    Error::Config(format!("the file name {name:?} is not valid UTF-8"))
                })?;
                let mut w = RotatingWriter::new(template, rotation, wopts);
                for i in interfaces {
                    w.add_interface(i)
                        .map_err(|e| Error::file(format!("writing {name}"), e))?;
                }
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos() as u64);
                w.writer_for(now, 0)
                    .map_err(|e| Error::file(format!("creating the first file of {name}"), e))?;
                Out::Rotating(Box::new(w))
            }
        };
        Ok(FileSink {
            out,
            path: path.to_owned(),
            scratch: Vec::with_capacity(1 << 20),
            closed: Vec::new(),
            bytes_out: 0,
            copy_break: Self::COPY_BREAK,
            encoder: RecordEncoder::new(opts.format),
            interfaces: interfaces.len() as u32,
        })
    }

    /// Frames shorter than this are copied next to their record header
    /// rather than written from the ring as a piece of their own (see the
    /// module documentation for the measurement): every frame up to a
    /// standard MTU is copied, jumbo and GSO frames are not.
    pub const COPY_BREAK: usize = 2048;

    /// Sets the copy break (see [`FileSink::COPY_BREAK`]); 0 writes every
    /// frame from the ring.
    pub fn set_copy_break(&mut self, bytes: usize) {
        self.copy_break = bytes;
    }

    /// The file being written.
    pub fn current_path(&self) -> Option<&Path> {
        match &self.out {
            Out::Single(_) => Some(&self.path),
            Out::Rotating(r) => r.current_path(),
        }
    }

    /// Bytes of records handed to the files so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes_out
    }

    /// Writes `stats` as interface statistics blocks at the end of the
    /// (last) file, flushes and closes it.
    pub fn finish(mut self, stats: Vec<InterfaceStats>) -> Result<FileReport> {
        let name = self.path.display().to_string();
        let files = match self.out {
            Out::Single(mut w) => {
                w.set_final_stats(stats);
                w.finish()
                    .map_err(|e| Error::file(format!("finishing {name}"), e))?;
                vec![self.path.clone()]
            }
            Out::Rotating(mut r) => {
                r.set_final_stats(stats);
                self.closed.extend(r.take_closed());
                let last = r
                    .finish()
                    .map_err(|e| Error::file(format!("finishing {name}"), e))?;
                self.closed.extend(last);
                std::mem::take(&mut self.closed)
            }
        };
        Ok(FileReport {
            files,
            bytes: self.bytes_out,
        })
    }

    /// Writes the gathered pieces to the current file.
    ///
    /// `last_ts` is the timestamp of the last record gathered: the current
    /// file was checked to be the right one for it, so asking the rotating
    /// writer for the file of that time cannot rotate.
    fn flush_pieces(&mut self, pieces: &[Piece<'_>], frames: u64, last_ts: u64) -> Result<()> {
        if pieces.is_empty() {
            return Ok(());
        }
        let scratch = &self.scratch;
        let mut bufs: Vec<IoSlice<'_>> = pieces
            .iter()
            .map(|p| match *p {
                Piece::Scratch(a, b) => IoSlice::new(&scratch[a..b]),
                Piece::Ring(s) => IoSlice::new(s),
            })
            .collect();
        let n: u64 = bufs.iter().map(|b| b.len() as u64).sum();
        let r = match &mut self.out {
            Out::Single(w) => w.write_encoded(&mut bufs, frames),
            Out::Rotating(r) => r
                .writer_for(last_ts, 0)
                .and_then(|w| w.write_encoded(&mut bufs, frames)),
        };
        r.map_err(|e| Error::file(format!("writing {}", self.path.display()), e))?;
        self.bytes_out += n;
        Ok(())
    }
}

impl FileSink {
    /// Writes the frames of one walked ring block (at most `limit`):
    /// `frames` is [`Block::frames`] (or [`sluice_linux::block::walk`] over
    /// the block's bytes), `num_pkts` what the block descriptor counts, for
    /// frames lost to a malformed block.
    pub fn write_frames<'b>(
        &mut self,
        source: u32,
        framing: Framing,
        frames: std::result::Result<Frames<'b>, WalkError>,
        num_pkts: u64,
        limit: u64,
    ) -> Result<Written> {
        if source >= self.interfaces {
            return Err(Error::Config(format!(
                "frames of source {source}, but {} has {} interfaces",
                self.path.display(),
                self.interfaces
            )));
        }
        let mut w = Written::default();
        let Ok(frames) = frames else {
            w.malformed = num_pkts;
            return Ok(w);
        };
        let enc = self.encoder;
        let max_ts = enc.max_ts_ns();
        let copy_break = self.copy_break;
        let raw = matches!(framing.kind, FramingKind::Raw { .. });
        let snaplen = framing.snaplen as usize;
        let mut pieces: Vec<Piece<'b>> = Vec::new();
        // Scratch bytes from `run` on are not yet a piece: pieces are cut
        // only where ring bytes come between.
        let mut run = 0usize;
        let mut pending_bytes = 0u64;
        let mut pending_frames = 0u64;
        let mut last_ts = 0u64;
        let mut stop = false;
        self.scratch.clear();
        let total = u64::from(frames.remaining());
        for frame in frames {
            if w.frames >= limit {
                break;
            }
            let Ok(frame) = frame else {
                w.malformed = total - w.frames;
                break;
            };
            if frame.ts_ns > max_ts {
                return Err(Error::Config(format!(
                    "a frame stamped {} ns after 1970 cannot be written to a pcap file (32-bit seconds): use pcapng",
                    frame.ts_ns
                )));
            }
            // Most frames are kept whole as the ring holds them; a VLAN
            // tag to put back, a cooked header to make or a cut go through
            // FrameParts.
            let parts: FrameParts<'b>;
            let (head, first, tag, rest, caplen, origlen): (&[u8], &'b [u8], _, &'b [u8], _, _) =
                if raw && frame.vlan.is_none() && frame.data.len() <= snaplen {
                    (&[], frame.data, None, &[], frame.data.len(), frame.origlen)
                } else {
                    parts = frame.parts(framing);
                    let split = parts.split();
                    (
                        split.head,
                        split.first,
                        split.tag,
                        split.rest,
                        parts.caplen(),
                        parts.origlen(),
                    )
                };
            let record_len = enc.record_len(caplen) as u64;
            if let Out::Rotating(r) = &self.out
                && r.would_rotate(frame.ts_ns, pending_bytes)
            {
                // Hand over what belongs to the current file first.
                close_run(&mut pieces, &mut run, self.scratch.len());
                self.flush_pieces(&pieces, pending_frames, last_ts)?;
                pieces.clear();
                self.scratch.clear();
                run = 0;
                pending_bytes = 0;
                pending_frames = 0;
                if let Out::Rotating(r) = &mut self.out {
                    match r.writer_for(frame.ts_ns, caplen) {
                        Ok(_) => {}
                        Err(e)
                            if matches!(
                                e.kind(),
                                Some(sluice_pcap::ErrorKind::RotationLimit { .. })
                            ) =>
                        {
                            stop = true;
                            break;
                        }
                        Err(e) => {
                            return Err(Error::file(
                                format!("rotating {}", self.path.display()),
                                e,
                            ));
                        }
                    }
                    self.closed.extend(r.take_closed());
                }
            }
            let scratch = &mut self.scratch;
            enc.head(scratch, source, frame.ts_ns, caplen as u32, origlen);
            scratch.extend_from_slice(head);
            if caplen < copy_break {
                // Small frames: copying is cheaper than a piece of their own.
                scratch.extend_from_slice(first);
                if let Some(tag) = tag {
                    scratch.extend_from_slice(&tag);
                }
                scratch.extend_from_slice(rest);
            } else {
                close_run(&mut pieces, &mut run, scratch.len());
                pieces.push(Piece::Ring(first));
                if let Some(tag) = tag {
                    scratch.extend_from_slice(&tag);
                    close_run(&mut pieces, &mut run, scratch.len());
                }
                if !rest.is_empty() {
                    pieces.push(Piece::Ring(rest));
                }
            }
            enc.tail(scratch, caplen, frame.sll.pkttype.epb_flags());
            pending_bytes += record_len;
            pending_frames += 1;
            last_ts = frame.ts_ns;
            w.frames += 1;
            w.bytes += caplen as u64;
        }
        close_run(&mut pieces, &mut run, self.scratch.len());
        self.flush_pieces(&pieces, pending_frames, last_ts)?;
        w.stop = stop;
        Ok(w)
    }
}

/// Makes the scratch bytes from `run` to `end` a piece.
fn close_run(pieces: &mut Vec<Piece<'_>>, run: &mut usize, end: usize) {
    if end > *run {
        pieces.push(Piece::Scratch(*run, end));
        *run = end;
    }
}

impl Sink for FileSink {
    fn write_block(&mut self, source: u32, block: &Block<'_>, limit: u64) -> Result<Written> {
        let num_pkts = block.header().map_or(0, |h| u64::from(h.num_pkts));
        self.write_frames(source, block.framing(), block.frames(), num_pkts, limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_linux::block::synth::{SynthFrame, block};
    use sluice_linux::block::{WalkOptions, status, walk};
    use sluice_pcap::{Direction, Reader, Record};
    use sluice_wire::LinkType;

    fn eth(n: usize, seq: u32) -> Vec<u8> {
        let mut v: Vec<u8> = (0..n).map(|i| (i as u8).wrapping_mul(7)).collect();
        v[..6].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
        v[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        v[12..14].copy_from_slice(&[0x08, 0x00]);
        v[20..24].copy_from_slice(&seq.to_be_bytes());
        v
    }

    fn frame(seq: u32, len: usize) -> SynthFrame {
        SynthFrame {
            data: eth(len, seq),
            sec: 1_700_000_000 + seq / 4,
            nsec: seq * 1000,
            status: status::TS_SOFTWARE,
            ifindex: 2,
            protocol: 0x0800,
            hatype: 1,
            pkttype: if seq.is_multiple_of(2) { 0 } else { 4 },
            ..SynthFrame::default()
        }
    }

    fn raw() -> Framing {
        Framing {
            kind: FramingKind::Raw {
                vlan_offset: Some(12),
            },
            snaplen: 262_144,
        }
    }

    fn iface() -> Interface {
        let mut i = Interface::new(LinkType::ETHERNET, 262_144);
        i.name = Some("eth7".into());
        i.filter = Some((0, b"udp".to_vec()));
        i
    }

    fn write(sink: &mut FileSink, framing: Framing, frames: &[SynthFrame], limit: u64) -> Written {
        let b = block(1 << 16, frames).unwrap();
        sink.write_frames(
            0,
            framing,
            walk(&b, WalkOptions::default()),
            frames.len() as u64,
            limit,
        )
        .unwrap()
    }

    /// (bytes, origlen, direction) of every frame, and the ISB counters.
    type Read = (Vec<(Vec<u8>, u32, Option<Direction>)>, Vec<Option<u64>>);

    fn read(path: &Path) -> Read {
        let mut r = Reader::open(path).unwrap();
        let mut frames = Vec::new();
        let mut drops = Vec::new();
        while let Some(rec) = r.next_record() {
            match rec.unwrap() {
                Record::Frame(f) => frames.push((f.data.to_vec(), f.origlen, f.direction())),
                Record::Stats(s) => drops.push(s.ifdrop),
                Record::Interface { interface, .. } => {
                    assert_eq!(interface.name.as_deref(), Some("eth7"));
                    assert_eq!(interface.filter, Some((0, b"udp".to_vec())));
                }
                _ => {}
            }
        }
        (frames, drops)
    }

    #[test]
    fn writes_records_with_flags_tags_and_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pcapng");
        let opts = FileOptions {
            format: Format::PcapNg,
            rotation: None,
        };
        let mut sink = FileSink::create(&path, &opts, &[iface()]).unwrap();
        let mut frames: Vec<SynthFrame> = (0..10).map(|i| frame(i, 60 + i as usize)).collect();
        frames[3].vlan_tci = 0x2064;
        frames[3].status |= status::VLAN_VALID;
        let w = write(&mut sink, raw(), &frames, u64::MAX);
        assert_eq!(w.frames, 10);
        assert_eq!(w.malformed, 0);
        // The limit is honoured.
        let w = write(&mut sink, raw(), &frames[..4], 2);
        assert_eq!(w.frames, 2);
        let stats = InterfaceStats {
            interface_id: 0,
            ifdrop: Some(7),
            ..InterfaceStats::default()
        };
        let report = sink.finish(vec![stats]).unwrap();
        assert_eq!(report.files, vec![path.clone()]);
        // Records of 60 to 73 bytes (one tagged), 44 bytes of block around
        // each: all of it, and less than the whole file.
        let records: u64 = (0..10u64)
            .chain(0..2)
            .map(|i| (60 + i).next_multiple_of(4) + 44)
            .sum();
        assert_eq!(report.bytes, records + 4);
        assert!(report.bytes < std::fs::metadata(&path).unwrap().len());
        let (got, drops) = read(&path);
        assert_eq!(got.len(), 12);
        for (i, (bytes, origlen, dir)) in got.iter().take(10).enumerate() {
            let want = &frames[i].data;
            if i == 3 {
                assert_eq!(bytes.len(), want.len() + 4);
                assert_eq!(&bytes[..12], &want[..12]);
                assert_eq!(&bytes[12..16], &[0x81, 0x00, 0x20, 0x64]);
                assert_eq!(&bytes[16..], &want[12..]);
            } else {
                assert_eq!(bytes, want, "frame {i}");
            }
            assert_eq!(*origlen as usize, bytes.len());
            let d = if i.is_multiple_of(2) {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            assert_eq!(*dir, Some(d));
        }
        assert_eq!(drops, vec![Some(7)]);
    }

    #[test]
    fn pcap_files_and_cooked_frames() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.pcap");
        let opts = FileOptions {
            format: Format::Pcap,
            rotation: None,
        };
        let mut i = Interface::new(LinkType::LINUX_SLL2, 262_144);
        i.name = Some("eth7".into());
        i.filter = Some((0, b"udp".to_vec()));
        let mut sink = FileSink::create(&path, &opts, &[i]).unwrap();
        let frames: Vec<SynthFrame> = (0..3)
            .map(|i| {
                let mut f = frame(i, 50);
                f.data.drain(..14);
                f
            })
            .collect();
        let cooked = Framing {
            kind: FramingKind::Sll2,
            snaplen: 30,
        };
        let w = write(&mut sink, cooked, &frames, u64::MAX);
        assert_eq!((w.frames, w.bytes), (3, 90));
        sink.finish(Vec::new()).unwrap();
        let mut r = Reader::open(&path).unwrap();
        let mut n = 0;
        while let Some(f) = r.next_frame() {
            let f = f.unwrap();
            assert_eq!(f.linktype, LinkType::LINUX_SLL2);
            assert_eq!(f.data.len(), 30);
            assert_eq!(f.origlen, 36 + 20);
            // protocol, then the interface index
            assert_eq!(&f.data[..2], &[0x08, 0x00]);
            assert_eq!(&f.data[4..8], &2u32.to_be_bytes());
            assert_eq!(&f.data[20..30], &frames[n].data[..10]);
            n += 1;
        }
        assert_eq!(n, 3);
    }

    #[test]
    fn rotation_splits_at_record_boundaries() {
        let dir = tempfile::tempdir().unwrap();
        let template = dir.path().join("r.pcapng");
        let opts = FileOptions {
            format: Format::PcapNg,
            rotation: Some(Rotation {
                size_limit: Some(2000),
                ..Rotation::default()
            }),
        };
        let mut sink = FileSink::create(&template, &opts, &[iface()]).unwrap();
        let mut seq = 0u32;
        for _ in 0..5 {
            let frames: Vec<SynthFrame> = (0..12)
                .map(|_| {
                    seq += 1;
                    frame(seq, 100)
                })
                .collect();
            let w = write(&mut sink, raw(), &frames, u64::MAX);
            assert_eq!(w.frames, 12);
        }
        let report = sink.finish(Vec::new()).unwrap();
        assert!(report.files.len() >= 3, "{:?}", report.files);
        let mut all = Vec::new();
        for f in &report.files {
            let len = std::fs::metadata(f).unwrap().len();
            // A file is closed before the record that would take it past
            // the limit: never more than the limit plus one record.
            assert!(len <= 2000 + 100 + 48, "{} is {len} bytes", f.display());
            all.extend(read(f).0);
        }
        assert_eq!(all.len(), 60);
        for (i, (bytes, ..)) in all.iter().enumerate() {
            assert_eq!(&bytes[20..24], &(i as u32 + 1).to_be_bytes());
        }
        let total: u64 = report
            .files
            .iter()
            .map(|f| std::fs::metadata(f).unwrap().len())
            .sum();
        assert!(total >= report.bytes);
    }

    #[test]
    fn malformed_blocks_are_counted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.pcapng");
        let opts = FileOptions {
            format: Format::PcapNg,
            rotation: None,
        };
        let mut sink = FileSink::create(&path, &opts, &[iface()]).unwrap();
        let frames: Vec<SynthFrame> = (0..4).map(|i| frame(i, 60)).collect();
        let mut b = block(1 << 16, &frames).unwrap();
        // Break the second frame's link to the third.
        let first = sluice_linux::block::desc::LEN;
        let next = u32::from_ne_bytes(b[first..first + 4].try_into().unwrap()) as usize;
        b[first + next..first + next + 4].copy_from_slice(&1u32.to_ne_bytes());
        let w = sink
            .write_frames(0, raw(), walk(&b, WalkOptions::default()), 4, u64::MAX)
            .unwrap();
        assert_eq!((w.frames, w.malformed), (2, 2));
        sink.finish(Vec::new()).unwrap();
        assert_eq!(read(&path).0.len(), 2);
    }

    #[test]
    fn pcap_holds_one_interface() {
        let dir = tempfile::tempdir().unwrap();
        let opts = FileOptions {
            format: Format::Pcap,
            rotation: None,
        };
        let e =
            FileSink::create(&dir.path().join("two.pcap"), &opts, &[iface(), iface()]).unwrap_err();
        assert!(e.to_string().contains("pcapng"), "{e}");
    }

    #[test]
    fn stdout_cannot_rotate() {
        let opts = FileOptions {
            format: Format::PcapNg,
            rotation: Some(Rotation::default()),
        };
        let e = FileSink::create(Path::new("-"), &opts, &[iface()]).unwrap_err();
        assert!(e.to_string().contains("stdout"), "{e}");
    }
}
