//! The reader: recognises pcap or pcapng by the magic number, walks the
//! records in file order and lends each one out.
//!
//! Each step is split in two so that a frame can borrow the buffer: the
//! parse (`advance`) checks a record, updates the state and notes where the
//! record's parts lie; the view (`view`) builds the borrowed [`Record`]
//! from those notes. The parse position is explicit ([`Reader::position`])
//! and moves only past records that were accepted, so after an error it
//! still points at the bad record; [`Reader::resync_at`] continues from a
//! later offset, which is what a repair tool's scanner needs.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use sluice_wire::LinkType;

use crate::endian::Endian;
use crate::error::{Error, ErrorKind};
use crate::frame::{EpbFlags, Frame, Options};
use crate::input::{Input, MapWindow, Stream};
use crate::meta::{
    Format, Interface, InterfaceStats, Names, Record, Section, Skipped, Truncation, TsScale,
    block_name,
};
use crate::pcap::{self, Magic};
use crate::pcapng::{self, block};

/// What the reader does with damage it can step over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Leniency {
    /// Every defect is an error.
    #[default]
    Strict,
    /// A record cut short by the end of the input becomes a
    /// [`Record::Truncated`] (counted) instead of an error; a malformed
    /// option list is cut at the bad option, and an out-of-range
    /// `if_tsresol` falls back to microseconds (both counted in
    /// [`ReadCounts::bad_options`]).
    Lenient,
}

/// How to open an input.
#[derive(Clone, Debug)]
pub struct ReaderOptions {
    /// Strict or lenient.
    pub leniency: Leniency,
    /// Read regular files through a window mapped into memory instead of
    /// copying them into the buffer. On by default: it saves the kernel's
    /// copy of every byte (see the crate's evaluation notes). Files that
    /// cannot be mapped (pipes, devices, empty files) are read buffered.
    /// Another process truncating a file while it is read through a map
    /// can kill this one with SIGBUS (see the crate docs); turn this off
    /// where that matters.
    pub mmap: bool,
    /// Initial size of the read buffer.
    pub buffer_size: usize,
    /// The largest record or block accepted; the read buffer never grows
    /// beyond it. 256 MiB by default.
    pub max_record: usize,
}

impl Default for ReaderOptions {
    fn default() -> ReaderOptions {
        ReaderOptions {
            leniency: Leniency::Strict,
            mmap: true,
            buffer_size: 1 << 20,
            max_record: 256 << 20,
        }
    }
}

impl ReaderOptions {
    /// The lenient defaults.
    pub fn lenient() -> ReaderOptions {
        ReaderOptions {
            leniency: Leniency::Lenient,
            ..ReaderOptions::default()
        }
    }
}

/// Counts of what the reader met, beyond the records themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Frames handed out.
    pub frames: u64,
    /// Blocks stepped over (decryption secrets, custom, unknown).
    pub skipped_blocks: u64,
    /// Bytes in those blocks, plus bytes passed over by
    /// [`Reader::resync_at`].
    pub skipped_bytes: u64,
    /// Records with a captured length above the snapshot length, accepted
    /// because they were within the tolerance Wireshark applies.
    pub caplen_over_snaplen: u64,
    /// Records with a captured length above the original length.
    pub caplen_over_origlen: u64,
    /// Records cut short by the end of the input (lenient mode).
    pub truncated: u64,
    /// Timestamps outside 1970…2554 after resolution and offset, clamped.
    pub timestamps_clamped: u64,
    /// Frames without a timestamp (simple packet blocks).
    pub frames_without_timestamp: u64,
    /// Malformed option lists cut short and bad `if_tsresol` (lenient mode).
    pub bad_options: u64,
    /// Sections (pcapng section headers; 1 for pcap).
    pub sections: u64,
}

#[derive(Clone, Copy, Debug)]
struct PcapState {
    endian: Endian,
    nanos: bool,
    hdr_len: usize,
    modified: bool,
    snaplen: u32,
    limit: u32,
}

#[derive(Clone, Copy, Debug)]
enum Mode {
    Start,
    Pcap(PcapState),
    PcapNg(Endian),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Halt {
    Running,
    Ended,
    Failed,
}

/// Where the parts of the last parsed record lie; see the module docs.
#[derive(Clone, Copy, Debug)]
enum Current {
    None,
    Section,
    Interface(u32),
    Stats,
    Names,
    Frame(FrameAt),
    Skipped(Skipped),
    Truncated(Truncation),
}

#[derive(Clone, Copy, Debug)]
struct FrameAt {
    interface_id: u32,
    ts_ns: u64,
    origlen: u32,
    caplen: u32,
    data_at: u64,
    flags: Option<EpbFlags>,
    /// (offset, len) of the first comment.
    comment: Option<(u64, u16)>,
    opts_at: u64,
    opts_len: u32,
    endian: Endian,
    offset: u64,
}

/// Per-interface data the hot loop needs.
#[derive(Clone, Copy, Debug)]
struct IfaceFast {
    scale: TsScale,
    offset_s: i64,
    snaplen: u32,
    limit: u32,
}

/// A pcap or pcapng reader over a file, a pipe, stdin or bytes in memory.
///
/// ```
/// # use sluice_pcap::{Reader, Writer, WriterOptions, Format, Interface, Frame};
/// # use sluice_wire::LinkType;
/// # let mut w = Writer::new(Vec::new(), WriterOptions::new(Format::PcapNg))?;
/// # let id = w.add_interface(&Interface::new(LinkType::ETHERNET, 65535))?;
/// # w.write_frame(&Frame::new(id, LinkType::ETHERNET, 1_000_000_001, &[0u8; 60]))?;
/// # let bytes = w.finish()?;
/// let mut r = Reader::from_bytes(bytes, Default::default());
/// while let Some(frame) = r.next_frame() {
///     let frame = frame?;
///     assert_eq!(frame.ts_ns, 1_000_000_001);
///     assert_eq!(frame.data.len(), 60);
/// }
/// # Ok::<(), sluice_pcap::Error>(())
/// ```
pub struct Reader {
    input: Input,
    name: String,
    opts: ReaderOptions,
    pos: u64,
    mode: Mode,
    halt: Halt,
    /// Yield the pcap file's interface after its section.
    pending_interface: bool,
    section: Option<Section>,
    interfaces: Vec<Interface>,
    fast: Vec<IfaceFast>,
    stats: InterfaceStats,
    names: Names,
    current: Current,
    counts: ReadCounts,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("name", &self.name)
            .field("pos", &self.pos)
            .field("format", &self.format())
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// Opens a file, or stdin when `path` is `-`, with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Reader, Error> {
        Reader::open_with(path, ReaderOptions::default())
    }

    /// Opens a file, or stdin when `path` is `-`.
    pub fn open_with(path: impl AsRef<Path>, opts: ReaderOptions) -> Result<Reader, Error> {
        let path = path.as_ref();
        if path.as_os_str() == "-" {
            return Ok(Reader::from_read(io::stdin(), opts).named("stdin"));
        }
        let name = path.display().to_string();
        let mut file = File::open(path).map_err(|e| Error::io(format!("opening {name}"), e))?;
        if opts.mmap {
            match MapWindow::open(file) {
                Ok(map) => return Ok(Reader::with_input(Input::Mapped(map), opts).named(&name)),
                Err(f) => file = f,
            }
        }
        Ok(Reader::from_read(file, opts).named(&name))
    }

    /// Reads from any byte stream (a pipe, a socket, a decompressor)
    /// through a bounded buffer.
    pub fn from_read(r: impl Read + Send + 'static, opts: ReaderOptions) -> Reader {
        let cap = opts.buffer_size.min(opts.max_record.max(64));
        Reader::with_input(Input::Stream(Stream::new(Box::new(r), cap)), opts)
    }

    /// Reads a whole capture held in memory.
    pub fn from_bytes(bytes: impl Into<Vec<u8>>, opts: ReaderOptions) -> Reader {
        Reader::with_input(Input::Owned(bytes.into()), opts)
    }

    fn with_input(input: Input, opts: ReaderOptions) -> Reader {
        Reader {
            input,
            name: "input".into(),
            opts,
            pos: 0,
            mode: Mode::Start,
            halt: Halt::Running,
            pending_interface: false,
            section: None,
            interfaces: Vec::new(),
            fast: Vec::new(),
            stats: InterfaceStats::default(),
            names: Names::default(),
            current: Current::None,
            counts: ReadCounts::default(),
        }
    }

    /// Names the input in I/O error messages.
    pub fn named(mut self, name: &str) -> Reader {
        self.name = name.to_string();
        self
    }

    /// The format, once the magic number has been read.
    pub fn format(&self) -> Option<Format> {
        match self.mode {
            Mode::Start => None,
            Mode::Pcap(_) => Some(Format::Pcap),
            Mode::PcapNg(_) => Some(Format::PcapNg),
        }
    }

    /// The current section (the pcap file header for pcap).
    pub fn section(&self) -> Option<&Section> {
        self.section.as_ref()
    }

    /// The interfaces of the current section, by id.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// What the reader counted so far.
    pub fn counts(&self) -> &ReadCounts {
        &self.counts
    }

    /// Byte offset of the next record to parse (after an error: of the
    /// record that failed).
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The input's length, when it is held in memory or mapped (for a
    /// mapped file: as last seen; it follows a file that grows).
    pub fn input_len(&self) -> Option<u64> {
        self.input.whole_len()
    }

    /// True when the input is memory-mapped or held in memory.
    pub fn is_whole(&self) -> bool {
        self.input.whole_len().is_some()
    }

    /// The current size of the read buffer (0 when the input is held in
    /// memory): at most the larger of the initial size and the largest
    /// record met. For a mapped file, the largest window mapped: a few MiB,
    /// or the largest record met if that is larger.
    pub fn buffer_len(&self) -> usize {
        self.input.buffer_len()
    }

    /// Up to `len` bytes of the input from `offset` (which must not lie
    /// before [`Reader::position`]), for a scanner looking for the next
    /// good record after an error. Fewer at the end of the input.
    pub fn peek(&mut self, offset: u64, len: usize) -> Result<&[u8], Error> {
        if offset < self.pos {
            return Err(Error::io(
                format!(
                    "peeking at offset {offset} before the read position {}",
                    self.pos
                ),
                io::Error::from(io::ErrorKind::InvalidInput),
            ));
        }
        let have = self
            .input
            .ensure(offset, len)
            .map_err(|e| self.io_error(offset, e))?;
        Ok(self.input.slice(offset, have))
    }

    /// Continues reading at `offset` (not before [`Reader::position`]),
    /// also after an error. The format state (byte order, interfaces) is
    /// kept; the bytes in between are counted as skipped.
    pub fn resync_at(&mut self, offset: u64) -> Result<(), Error> {
        if offset < self.pos || matches!(self.mode, Mode::Start) {
            return Err(Error::io(
                format!("resync to offset {offset} from {}", self.pos),
                io::Error::from(io::ErrorKind::InvalidInput),
            ));
        }
        self.counts.skipped_bytes += offset - self.pos;
        self.pos = offset;
        self.halt = Halt::Running;
        Ok(())
    }

    /// The next record in file order: section and interface descriptions,
    /// frames, statistics, names, skipped blocks. `None` at the end; after
    /// an error, `None` until [`Reader::resync_at`].
    #[inline(always)]
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, Error>> {
        if self.halt != Halt::Running {
            return None;
        }
        // pcap past its header: every record is a frame, and this path is
        // kept small enough to be inlined into the caller's loop.
        if let Mode::Pcap(p) = self.mode
            && !self.pending_interface
        {
            return match self.next_pcap(p) {
                Ok(Some(Current::Frame(f))) => {
                    self.current = Current::Frame(f);
                    Some(Ok(Record::Frame(self.frame_view(&f))))
                }
                other => self.settle(other),
            };
        }
        let step = self.advance();
        self.settle(step)
    }

    /// The record for the outcome of a parse step (see `next_record`).
    #[inline(never)]
    fn settle(
        &mut self,
        step: Result<Option<Current>, Error>,
    ) -> Option<Result<Record<'_>, Error>> {
        match step {
            Ok(Some(c)) => {
                self.current = c;
                Some(Ok(self.view()))
            }
            Ok(None) => {
                self.halt = Halt::Ended;
                None
            }
            Err(e) => {
                self.halt = Halt::Failed;
                Some(Err(e))
            }
        }
    }

    /// The next frame, stepping over every other record (their effects,
    /// such as new interfaces, are still applied). A truncated last record
    /// in lenient mode ends the frames; [`ReadCounts::truncated`] counts it.
    #[inline]
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, Error>> {
        if self.halt != Halt::Running {
            return None;
        }
        if let Mode::Pcap(p) = self.mode
            && !self.pending_interface
        {
            // The common case, inlined.
            match self.next_pcap(p) {
                Ok(Some(Current::Frame(f))) => {
                    self.current = Current::Frame(f);
                    return Some(Ok(self.frame_view(&f)));
                }
                Ok(Some(Current::Truncated(_)) | None) => {
                    self.halt = Halt::Ended;
                    return None;
                }
                Err(e) => {
                    self.halt = Halt::Failed;
                    return Some(Err(e));
                }
                // Not a frame: step over it like the loop below does.
                Ok(Some(_)) => {}
            }
        }
        self.next_frame_slow()
    }

    /// A fast path for loops over the frames of a pcap file: the next
    /// record when it is a frame the reader has nothing to count or report
    /// about (captured length within the snapshot and original lengths,
    /// the whole record there), else `None` with nothing consumed: then
    /// [`Reader::next_record`] or [`Reader::next_frame`] takes the record,
    /// whatever it is. Always `None` for pcapng. Small enough to be
    /// inlined into the caller's loop, and without the `Result` and
    /// `Record` wrapping that the general calls return through.
    #[inline(always)]
    pub fn next_pcap_frame(&mut self) -> Option<Frame<'_>> {
        let Mode::Pcap(p) = self.mode else {
            return None;
        };
        if self.halt != Halt::Running || self.pending_interface {
            return None;
        }
        let pos = self.pos;
        let hl = p.hdr_len;
        if !matches!(self.input.ensure(pos, hl), Ok(n) if n == hl) {
            return None;
        }
        let h = self.input.slice(pos, hl);
        let [sec, frac, caplen, origlen] = record_header(h, p.endian);
        if caplen > p.snaplen || caplen > origlen {
            return None;
        }
        let flags = if p.modified {
            Some(EpbFlags(if h[22] == 4 { 2 } else { 1 }))
        } else {
            None
        };
        let total = hl + caplen as usize;
        if !matches!(self.input.ensure(pos, total), Ok(n) if n == total) {
            return None;
        }
        let ts_ns =
            u64::from(sec) * 1_000_000_000 + u64::from(frac) * if p.nanos { 1 } else { 1000 };
        self.pos = pos + total as u64;
        self.counts.frames += 1;
        Some(Frame {
            interface_id: 0,
            linktype: self.interfaces[0].linktype,
            ts_ns,
            origlen,
            data: self.input.slice(pos + hl as u64, caplen as usize),
            flags,
            comment: None,
            options: Options::EMPTY,
            offset: pos,
        })
    }

    fn next_frame_slow(&mut self) -> Option<Result<Frame<'_>, Error>> {
        loop {
            match self.advance() {
                Ok(Some(c @ Current::Frame(_))) => {
                    self.current = c;
                    break;
                }
                Ok(Some(Current::Truncated(_))) | Ok(None) => {
                    self.halt = Halt::Ended;
                    return None;
                }
                Ok(Some(_)) => {}
                Err(e) => {
                    self.halt = Halt::Failed;
                    return Some(Err(e));
                }
            }
        }
        match self.view() {
            Record::Frame(f) => Some(Ok(f)),
            _ => None,
        }
    }

    fn view(&self) -> Record<'_> {
        match self.current {
            Current::Frame(f) => Record::Frame(self.frame_view(&f)),
            Current::Section => match &self.section {
                Some(s) => Record::Section(s),
                None => unreachable_view(),
            },
            Current::Interface(id) => Record::Interface {
                id,
                interface: &self.interfaces[id as usize],
            },
            Current::Stats => Record::Stats(&self.stats),
            Current::Names => Record::Names(&self.names),
            Current::Skipped(s) => Record::Skipped(s),
            Current::Truncated(t) => Record::Truncated(t),
            Current::None => unreachable_view(),
        }
    }

    #[inline(always)]
    fn frame_view(&self, f: &FrameAt) -> Frame<'_> {
        Frame {
            interface_id: f.interface_id,
            linktype: self.interfaces[f.interface_id as usize].linktype,
            ts_ns: f.ts_ns,
            origlen: f.origlen,
            data: self.input.slice(f.data_at, f.caplen as usize),
            flags: f.flags,
            comment: f
                .comment
                .map(|(at, len)| self.input.slice(at, usize::from(len))),
            options: if f.opts_len == 0 {
                Options::EMPTY
            } else {
                Options::new(self.input.slice(f.opts_at, f.opts_len as usize), f.endian)
            },
            offset: f.offset,
        }
    }

    fn advance(&mut self) -> Result<Option<Current>, Error> {
        if self.pending_interface {
            self.pending_interface = false;
            return Ok(Some(Current::Interface(0)));
        }
        match self.mode {
            Mode::Start => self.start(),
            Mode::Pcap(p) => self.next_pcap(p),
            Mode::PcapNg(e) => self.next_block(e),
        }
    }

    #[cold]
    fn io_error(&self, offset: u64, e: io::Error) -> Error {
        Error::io(format!("reading {} at offset {offset}", self.name), e)
    }

    fn lenient(&self) -> bool {
        self.opts.leniency == Leniency::Lenient
    }

    /// A record cut short: an error, or in lenient mode the last record.
    fn truncated(
        &mut self,
        offset: u64,
        what: &'static str,
        have: usize,
        need: usize,
    ) -> Result<Option<Current>, Error> {
        let (have, need) = (have as u64, need as u64);
        if self.lenient() {
            self.counts.truncated += 1;
            self.halt = Halt::Ended;
            return Ok(Some(Current::Truncated(Truncation {
                offset,
                what,
                have,
                need,
            })));
        }
        Err(Error::format(
            offset,
            ErrorKind::Truncated { what, have, need },
        ))
    }

    fn start(&mut self) -> Result<Option<Current>, Error> {
        let have = self.input.ensure(0, 4).map_err(|e| self.io_error(0, e))?;
        if have < 4 {
            return Err(Error::format(
                0,
                ErrorKind::Truncated {
                    what: "file header",
                    have: have as u64,
                    need: 4,
                },
            ));
        }
        let mut m = [0u8; 4];
        m.copy_from_slice(self.input.slice(0, 4));
        match pcap::recognise(m).map_err(|k| Error::format(0, k))? {
            Magic::PcapNg => {
                // The section header itself is parsed as the first block;
                // its byte order decides the mode's.
                self.next_block(Endian::Little)
            }
            Magic::Pcap {
                endian,
                nanos,
                modified,
            } => {
                let n = pcap::FILE_HEADER_LEN;
                let have = self.input.ensure(0, n).map_err(|e| self.io_error(0, e))?;
                if have < n {
                    return Err(Error::format(
                        0,
                        ErrorKind::Truncated {
                            what: "file header",
                            have: have as u64,
                            need: n as u64,
                        },
                    ));
                }
                let h = self.input.slice(0, n);
                let (section, iface) = pcap::parse_file_header(h, endian, nanos, modified)
                    .map_err(|k| Error::format(0, k))?;
                let scale = iface.tsresol.scale().unwrap_or(TsScale::Mul(1000));
                let limit = pcap::max_caplen_for(iface.linktype);
                let st = PcapState {
                    endian,
                    nanos,
                    hdr_len: if modified {
                        pcap::MODIFIED_RECORD_HEADER_LEN
                    } else {
                        pcap::RECORD_HEADER_LEN
                    },
                    modified,
                    snaplen: iface.snaplen,
                    limit: limit.min(self.max_caplen()),
                };
                self.fast = vec![IfaceFast {
                    scale,
                    offset_s: 0,
                    snaplen: iface.snaplen,
                    limit: st.limit,
                }];
                self.interfaces = vec![iface];
                self.section = Some(section);
                self.counts.sections += 1;
                self.mode = Mode::Pcap(st);
                self.pos = n as u64;
                self.pending_interface = true;
                Ok(Some(Current::Section))
            }
        }
    }

    fn max_caplen(&self) -> u32 {
        u32::try_from(self.opts.max_record).unwrap_or(u32::MAX)
    }

    #[inline(always)]
    fn next_pcap(&mut self, p: PcapState) -> Result<Option<Current>, Error> {
        let pos = self.pos;
        let hl = p.hdr_len;
        let have = self
            .input
            .ensure(pos, hl)
            .map_err(|e| self.io_error(pos, e))?;
        if have < hl {
            return self.pcap_short(pos, have, hl, "record header");
        }
        let h = self.input.slice(pos, hl);
        let e = p.endian;
        let [sec, frac, caplen, origlen] = record_header(h, e);
        let flags = if p.modified {
            // pkt_type 4 is PACKET_OUTGOING; the others were received.
            Some(EpbFlags(if h[22] == 4 { 2 } else { 1 }))
        } else {
            None
        };
        if caplen > p.snaplen || caplen > origlen {
            self.pcap_odd_caplen(pos, &p, caplen, origlen)?;
        }
        let total = hl + caplen as usize;
        let have = self
            .input
            .ensure(pos, total)
            .map_err(|e| self.io_error(pos, e))?;
        if have < total {
            return self.pcap_short(pos, have, total, "record");
        }
        let ts_ns =
            u64::from(sec) * 1_000_000_000 + u64::from(frac) * if p.nanos { 1 } else { 1000 };
        self.pos = pos + total as u64;
        self.counts.frames += 1;
        Ok(Some(Current::Frame(FrameAt {
            interface_id: 0,
            ts_ns,
            origlen,
            caplen,
            data_at: pos + hl as u64,
            flags,
            comment: None,
            opts_at: 0,
            opts_len: 0,
            endian: e,
            offset: pos,
        })))
    }

    /// The end of a pcap file, or a record cut short by it.
    #[cold]
    fn pcap_short(
        &mut self,
        pos: u64,
        have: usize,
        need: usize,
        what: &'static str,
    ) -> Result<Option<Current>, Error> {
        if have == 0 && what == "record header" {
            return Ok(None);
        }
        self.truncated(pos, what, have, need)
    }

    /// A captured length above the snapshot or the original length:
    /// counted, or an error beyond the linktype's limit.
    #[cold]
    fn pcap_odd_caplen(
        &mut self,
        pos: u64,
        p: &PcapState,
        caplen: u32,
        origlen: u32,
    ) -> Result<(), Error> {
        if caplen > p.snaplen {
            if caplen > p.limit {
                return Err(Error::format(
                    pos,
                    ErrorKind::CaplenTooLarge {
                        caplen,
                        snaplen: p.snaplen,
                        limit: p.limit,
                        linktype: self.interfaces[0].linktype,
                    },
                ));
            }
            self.counts.caplen_over_snaplen += 1;
        }
        if caplen > origlen {
            self.counts.caplen_over_origlen += 1;
        }
        Ok(())
    }

    fn next_block(&mut self, section_endian: Endian) -> Result<Option<Current>, Error> {
        let pos = self.pos;
        let have = self
            .input
            .ensure(pos, 12)
            .map_err(|e| self.io_error(pos, e))?;
        if have < 12 {
            if have == 0 {
                return Ok(None);
            }
            if have < 8 {
                return self.truncated(pos, "block header", have, 8);
            }
        }
        let h = self.input.slice(pos, have);
        let raw_type = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
        let endian = if raw_type == block::SHB {
            if have < 12 {
                return self.truncated(pos, "section header block", have, 28);
            }
            let bom = u32::from_le_bytes([h[8], h[9], h[10], h[11]]);
            if bom == pcapng::BYTE_ORDER_MAGIC {
                Endian::Little
            } else if bom == pcapng::BYTE_ORDER_MAGIC.swap_bytes() {
                Endian::Big
            } else {
                return Err(Error::format(
                    pos + 8,
                    ErrorKind::BadByteOrderMagic { magic: bom },
                ));
            }
        } else {
            section_endian
        };
        let btype = endian.u32(h, 0);
        let len = endian.u32(h, 4);
        let name = block_name(btype);
        if len % 4 != 0 {
            return Err(Error::format(pos, ErrorKind::BlockLengthUnaligned { len }));
        }
        let min = match btype {
            block::SHB => 28,
            block::IDB => 20,
            block::EPB | block::PB => 32,
            block::ISB => 24,
            block::SPB => 16,
            _ => 12,
        };
        if len < min {
            return Err(Error::format(
                pos,
                ErrorKind::BlockTooShort {
                    block: name,
                    len,
                    min,
                },
            ));
        }
        if len as usize > self.opts.max_record {
            return Err(Error::format(
                pos,
                ErrorKind::TooLarge {
                    what: "block",
                    len: u64::from(len),
                    limit: self.opts.max_record as u64,
                },
            ));
        }
        let n = len as usize;
        let have = self
            .input
            .ensure(pos, n)
            .map_err(|e| self.io_error(pos, e))?;
        if have < n {
            return self.truncated(pos, name, have, n);
        }
        let b = self.input.slice(pos, n);
        let trailing = endian.u32(b, n - 4);
        if trailing != len {
            return Err(Error::format(
                pos,
                ErrorKind::BlockLengthMismatch {
                    leading: len,
                    trailing,
                },
            ));
        }
        if btype == block::EPB {
            return self.epb(pos, len, endian);
        }
        let lenient = self.lenient();
        let fail = |k| Error::format(pos, k);
        let current = match btype {
            block::SHB => {
                let s = pcapng::parse_shb(b, endian, pos, lenient, &mut self.counts.bad_options)
                    .map_err(fail)?;
                self.section = Some(s);
                self.interfaces.clear();
                self.fast.clear();
                self.counts.sections += 1;
                self.mode = Mode::PcapNg(endian);
                Current::Section
            }
            _ if matches!(self.mode, Mode::Start) => return Err(fail(ErrorKind::NoSection)),
            block::IDB => {
                let (iface, scale) =
                    pcapng::parse_idb(b, endian, pos, lenient, &mut self.counts.bad_options)
                        .map_err(fail)?;
                let limit = pcap::max_caplen_for(iface.linktype).min(self.max_caplen());
                self.fast.push(IfaceFast {
                    scale,
                    offset_s: iface.tsoffset,
                    snaplen: if iface.snaplen == 0 {
                        u32::MAX
                    } else {
                        iface.snaplen
                    },
                    limit,
                });
                self.interfaces.push(iface);
                Current::Interface(self.interfaces.len() as u32 - 1)
            }
            block::SPB => return self.spb(pos, len, endian),
            block::PB => return self.pb(pos, len, endian),
            block::ISB => {
                let id = endian.u32(b, 8);
                let f = self.iface(pos, "interface statistics block", id)?;
                let s = pcapng::parse_isb(
                    b,
                    endian,
                    pos,
                    (f.scale, f.offset_s),
                    lenient,
                    &mut self.counts.bad_options,
                    &mut self.counts.timestamps_clamped,
                )
                .map_err(fail)?;
                self.stats = s;
                Current::Stats
            }
            block::NRB => {
                self.names =
                    pcapng::parse_nrb(b, endian, pos, lenient, &mut self.counts.bad_options)
                        .map_err(fail)?;
                Current::Names
            }
            _ => {
                self.counts.skipped_blocks += 1;
                self.counts.skipped_bytes += u64::from(len);
                Current::Skipped(Skipped {
                    offset: pos,
                    len: u64::from(len),
                    block_type: btype,
                })
            }
        };
        self.pos = pos + u64::from(len);
        Ok(Some(current))
    }

    fn iface(&self, pos: u64, block: &'static str, id: u32) -> Result<IfaceFast, Error> {
        match self.fast.get(id as usize) {
            Some(f) => Ok(*f),
            None => Err(Error::format(
                pos,
                ErrorKind::UnknownInterface {
                    block,
                    id,
                    count: self.fast.len() as u32,
                },
            )),
        }
    }

    #[inline]
    fn ts(&mut self, f: &IfaceFast, units: u64) -> u64 {
        match f.scale.to_ns(units, f.offset_s) {
            Some(v) => v,
            None => {
                self.counts.timestamps_clamped += 1;
                pcapng::clamp_ns(f.scale, units, f.offset_s)
            }
        }
    }

    fn check_caplen(
        &mut self,
        pos: u64,
        f: &IfaceFast,
        id: u32,
        caplen: u32,
        origlen: u32,
    ) -> Result<(), Error> {
        if caplen > f.snaplen {
            if caplen > f.limit {
                return Err(Error::format(
                    pos,
                    ErrorKind::CaplenTooLarge {
                        caplen,
                        snaplen: f.snaplen,
                        limit: f.limit,
                        linktype: self.interfaces[id as usize].linktype,
                    },
                ));
            }
            self.counts.caplen_over_snaplen += 1;
        }
        if caplen > origlen {
            self.counts.caplen_over_origlen += 1;
        }
        Ok(())
    }

    /// Enhanced packet block (the block is whole and its lengths checked).
    #[inline]
    fn epb(&mut self, pos: u64, len: u32, e: Endian) -> Result<Option<Current>, Error> {
        self.packet(pos, len, e, false)
    }

    /// Obsolete packet block: like an EPB with a 16-bit interface id and a
    /// drop count.
    fn pb(&mut self, pos: u64, len: u32, e: Endian) -> Result<Option<Current>, Error> {
        self.packet(pos, len, e, true)
    }

    #[inline]
    fn packet(
        &mut self,
        pos: u64,
        len: u32,
        e: Endian,
        obsolete: bool,
    ) -> Result<Option<Current>, Error> {
        let b = self.input.slice(pos, len as usize);
        let (id, what) = if obsolete {
            (u32::from(e.u16(b, 8)), "packet block")
        } else {
            (e.u32(b, 8), "enhanced packet block")
        };
        let units = pcapng::ts_units(b, 12, e);
        let caplen = e.u32(b, 20);
        let origlen = e.u32(b, 24);
        if u64::from(caplen) > u64::from(len) - 32 {
            return Err(Error::format(
                pos,
                ErrorKind::CaplenBeyondBlock {
                    block: what,
                    caplen,
                    len,
                },
            ));
        }
        let opts_start = (28 + caplen as usize)
            .next_multiple_of(4)
            .min(len as usize - 4);
        let opts_len = len as usize - 4 - opts_start;
        let (mut flags, mut comment, mut olen) = (None, None, 0u32);
        if opts_len > 0 {
            let ob = &b[opts_start..len as usize - 4];
            let ok_len = match crate::frame::check_options(ob, e) {
                Ok(()) => opts_len,
                Err((at, code, l)) => {
                    if !self.lenient() {
                        return Err(Error::format(
                            pos + (opts_start + at) as u64,
                            ErrorKind::BadOption {
                                block: what,
                                code,
                                len: l,
                            },
                        ));
                    }
                    self.counts.bad_options += 1;
                    at
                }
            };
            let ob = &ob[..ok_len];
            let (fl, cm) = pcapng::flags_and_comment(Options::new(ob, e).iter(), e);
            flags = fl.map(EpbFlags);
            comment = cm.map(|c| {
                // The comment is a subslice of the block: find its offset.
                let at = c.as_ptr() as usize - b.as_ptr() as usize;
                (pos + at as u64, c.len() as u16)
            });
            olen = ok_len as u32;
        }
        let f = self.iface(pos, what, id)?;
        self.check_caplen(pos, &f, id, caplen, origlen)?;
        let ts_ns = self.ts(&f, units);
        self.pos = pos + u64::from(len);
        self.counts.frames += 1;
        Ok(Some(Current::Frame(FrameAt {
            interface_id: id,
            ts_ns,
            origlen,
            caplen,
            data_at: pos + 28,
            flags,
            comment,
            opts_at: pos + opts_start as u64,
            opts_len: olen,
            endian: e,
            offset: pos,
        })))
    }

    /// Simple packet block: interface 0, no timestamp, captured length from
    /// the original length and the interface's snapshot length.
    fn spb(&mut self, pos: u64, len: u32, e: Endian) -> Result<Option<Current>, Error> {
        let b = self.input.slice(pos, len as usize);
        let origlen = e.u32(b, 8);
        let f = self.iface(pos, "simple packet block", 0)?;
        let room = len - 16;
        let caplen = origlen.min(f.snaplen).min(room);
        self.pos = pos + u64::from(len);
        self.counts.frames += 1;
        self.counts.frames_without_timestamp += 1;
        Ok(Some(Current::Frame(FrameAt {
            interface_id: 0,
            ts_ns: 0,
            origlen,
            caplen,
            data_at: pos + 12,
            flags: None,
            comment: None,
            opts_at: 0,
            opts_len: 0,
            endian: e,
            offset: pos,
        })))
    }
}

/// The four fields of a pcap record header: seconds, fraction, captured
/// and original length (`h` holds at least 16 bytes).
#[inline(always)]
fn record_header(h: &[u8], e: Endian) -> [u32; 4] {
    let mut f = [0u32; 4];
    if let Some(b) = h.first_chunk::<16>() {
        for (i, v) in f.iter_mut().enumerate() {
            let w = u32::from_le_bytes([b[4 * i], b[4 * i + 1], b[4 * i + 2], b[4 * i + 3]]);
            *v = if e == Endian::Little {
                w
            } else {
                w.swap_bytes()
            };
        }
    }
    f
}

#[cold]
fn unreachable_view() -> ! {
    // `current` is set from `advance` just before every view.
    unreachable!("record view without a parsed record")
}

/// What the first bytes of an input say, before any record is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// pcap or pcapng.
    pub format: Format,
    /// pcap: the nanosecond magic. pcapng: false (each interface has its
    /// own resolution).
    pub nanosecond: bool,
    /// pcap: the file's one linktype. pcapng: `None` (interfaces follow).
    pub linktype: Option<LinkType>,
}

impl Reader {
    /// Looks at the first bytes of the input without consuming them: the
    /// format, pcap's timestamp resolution and linktype. `Ok(None)` when the
    /// input does not start like a capture (reading it will say why).
    pub fn sniff(&mut self) -> Result<Option<Sniffed>, Error> {
        let head = self.peek(0, pcap::FILE_HEADER_LEN)?;
        let Some(first4) = head.get(..4).and_then(|b| <[u8; 4]>::try_from(b).ok()) else {
            return Ok(None);
        };
        Ok(match pcap::recognise(first4) {
            Ok(Magic::PcapNg) => Some(Sniffed {
                format: Format::PcapNg,
                nanosecond: false,
                linktype: None,
            }),
            Ok(Magic::Pcap { endian, nanos, .. }) => {
                let linktype = (head.len() >= pcap::FILE_HEADER_LEN)
                    .then(|| LinkType(endian.u32(head, 20) & pcap::LINKTYPE_MASK));
                Some(Sniffed {
                    format: Format::Pcap,
                    nanosecond: nanos,
                    linktype,
                })
            }
            Err(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Direction, code};
    use crate::meta::NameAddr;
    use crate::pcapng::{finish_block, put_option};
    use sluice_wire::LinkType;

    fn pcap_file(
        e: Endian,
        magic: u32,
        snaplen: u32,
        records: &[(u32, u32, &[u8], u32)],
    ) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&e.put32(magic));
        v.extend_from_slice(&e.put16(2));
        v.extend_from_slice(&e.put16(4));
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&e.put32(snaplen));
        v.extend_from_slice(&e.put32(1));
        for (sec, frac, data, origlen) in records {
            v.extend_from_slice(&e.put32(*sec));
            v.extend_from_slice(&e.put32(*frac));
            v.extend_from_slice(&e.put32(data.len() as u32));
            v.extend_from_slice(&e.put32(*origlen));
            v.extend_from_slice(data);
        }
        v
    }

    fn all(r: &mut Reader) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(rec) = r.next_record() {
            out.push(match rec {
                Ok(Record::Section(s)) => format!("section {:?} {:?}", s.format, s.endian),
                Ok(Record::Interface { id, interface }) => {
                    format!("if{id} {} snap {}", interface.linktype, interface.snaplen)
                }
                Ok(Record::Frame(f)) => format!(
                    "frame if{} {} {}/{} {:?} {:?}",
                    f.interface_id,
                    f.ts_ns,
                    f.data.len(),
                    f.origlen,
                    f.direction(),
                    f.comment_lossy()
                ),
                Ok(Record::Stats(s)) => format!(
                    "stats if{} recv {:?} drop {:?}",
                    s.interface_id, s.ifrecv, s.ifdrop
                ),
                Ok(Record::Names(n)) => format!("names {}", n.entries.len()),
                Ok(Record::Skipped(s)) => format!("skipped {} {}", s.kind(), s.len),
                Ok(Record::Truncated(t)) => format!("truncated {} {}/{}", t.what, t.have, t.need),
                Err(e) => format!("error {e}"),
            });
        }
        out
    }

    /// Reads the bytes both whole and streamed (tiny buffer) and checks
    /// that both agree.
    fn read_both(bytes: &[u8], opts: ReaderOptions) -> Vec<String> {
        let a = all(&mut Reader::from_bytes(bytes.to_vec(), opts.clone()));
        let small = ReaderOptions {
            buffer_size: 16,
            ..opts
        };
        let b = all(&mut Reader::from_read(
            std::io::Cursor::new(bytes.to_vec()),
            small,
        ));
        assert_eq!(a, b);
        a
    }

    #[test]
    fn pcap_little_endian_micro() {
        let f = pcap_file(
            Endian::Little,
            pcap::MAGIC_MICRO,
            65535,
            &[
                (1_700_000_000, 123_456, &[1; 60], 60),
                (1_700_000_001, 7, &[2; 40], 1500),
            ],
        );
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(
            got,
            vec![
                "section Pcap Little",
                "if0 EN10MB snap 65535",
                "frame if0 1700000000123456000 60/60 None None",
                "frame if0 1700000001000007000 40/1500 None None",
            ]
        );
        let mut r = Reader::from_bytes(f, ReaderOptions::default());
        let fr = r.next_frame().unwrap().unwrap();
        assert_eq!(fr.offset, 24);
        assert_eq!(fr.linktype, LinkType::ETHERNET);
        let fr = r.next_frame().unwrap().unwrap();
        assert!(fr.is_truncated());
        assert!(r.next_frame().is_none());
        assert_eq!(r.counts().frames, 2);
        assert_eq!(r.format(), Some(Format::Pcap));
    }

    #[test]
    fn pcap_big_endian_nano() {
        let f = pcap_file(
            Endian::Big,
            pcap::MAGIC_NANO,
            96,
            &[(5, 999_999_999, &[3; 96], 1514)],
        );
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(got[0], "section Pcap Big");
        assert_eq!(got[2], "frame if0 5999999999 96/1514 None None");
        let r = Reader::from_bytes(f, ReaderOptions::default());
        assert!(r.section().is_none());
    }

    #[test]
    fn pcap_modified_records_carry_direction() {
        let e = Endian::Little;
        let mut f = pcap_file(e, pcap::MAGIC_MODIFIED, 65535, &[]);
        for pkt_type in [0u8, 4] {
            f.extend_from_slice(&e.put32(10));
            f.extend_from_slice(&e.put32(0));
            f.extend_from_slice(&e.put32(4));
            f.extend_from_slice(&e.put32(4));
            f.extend_from_slice(&e.put32(2)); // ifindex
            f.extend_from_slice(&e.put16(0x0800)); // protocol
            f.extend_from_slice(&[pkt_type, 0]);
            f.extend_from_slice(&[9; 4]);
        }
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(got[2], "frame if0 10000000000 4/4 Some(Inbound) None");
        assert_eq!(got[3], "frame if0 10000000000 4/4 Some(Outbound) None");
    }

    #[test]
    fn pcap_truncation_strict_and_lenient() {
        let mut f = pcap_file(
            Endian::Little,
            pcap::MAGIC_MICRO,
            65535,
            &[(1, 0, &[0; 10], 10)],
        );
        f.extend_from_slice(&[1, 2, 3, 4, 5]);
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            "error at offset 50: truncated record header: 5 of 16 bytes"
        );
        let got = read_both(&f, ReaderOptions::lenient());
        assert_eq!(got.last().unwrap(), "truncated record header 5/16");
        let mut r = Reader::from_bytes(f, ReaderOptions::lenient());
        while r.next_record().is_some() {}
        assert_eq!(r.counts().truncated, 1);
        // a record body cut short
        let mut f = pcap_file(
            Endian::Little,
            pcap::MAGIC_MICRO,
            65535,
            &[(1, 0, &[0; 10], 10)],
        );
        f.truncate(f.len() - 3);
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            "error at offset 24: truncated record: 23 of 26 bytes"
        );
        let err = Reader::from_bytes(f, ReaderOptions::default())
            .next_frame()
            .unwrap()
            .unwrap_err();
        assert!(err.is_truncation());
        assert_eq!(err.offset(), Some(24));
    }

    #[test]
    fn caplen_over_snaplen_is_tolerated_then_refused() {
        let big = vec![0u8; 70_000];
        let f = pcap_file(
            Endian::Little,
            pcap::MAGIC_MICRO,
            65535,
            &[(1, 0, &big, 70_000)],
        );
        let mut r = Reader::from_bytes(f, ReaderOptions::default());
        assert_eq!(r.next_frame().unwrap().unwrap().data.len(), 70_000);
        assert_eq!(r.counts().caplen_over_snaplen, 1);
        let huge = vec![0u8; 300_000];
        let f = pcap_file(
            Endian::Little,
            pcap::MAGIC_MICRO,
            65535,
            &[(1, 0, &huge, 300_000)],
        );
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            "error at offset 24: captured length 300000 exceeds snaplen 65535 and the 262144-byte maximum for EN10MB"
        );
    }

    #[test]
    fn unknown_and_exotic_magic_and_empty() {
        let got = read_both(b"GIF89a..", ReaderOptions::default());
        assert_eq!(
            got,
            vec!["error at offset 0: not a pcap or pcapng file: unknown magic number 0x38464947"]
        );
        let got = read_both(&[0x1f, 0x8b, 8, 0, 0, 0], ReaderOptions::default());
        assert!(got[0].contains("gzip"), "{got:?}");
        let got = read_both(&[], ReaderOptions::lenient());
        assert_eq!(
            got,
            vec!["error at offset 0: truncated file header: 0 of 4 bytes"]
        );
        let got = read_both(&pcap::MAGIC_MICRO.to_le_bytes(), ReaderOptions::default());
        assert_eq!(
            got,
            vec!["error at offset 0: truncated file header: 4 of 24 bytes"]
        );
    }

    // ---- pcapng ----

    fn shb(e: Endian) -> Vec<u8> {
        let mut s = crate::meta::Section::new(Format::PcapNg);
        s.userappl = Some("test".into());
        let mut v = Vec::new();
        pcapng::encode_shb(&mut v, e, &s);
        v
    }

    fn idb(e: Endian, lt: u16, snaplen: u32, opts: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&e.put16(lt));
        body.extend_from_slice(&[0, 0]);
        body.extend_from_slice(&e.put32(snaplen));
        for (c, v) in opts {
            put_option(&mut body, e, *c, v);
        }
        let mut v = Vec::new();
        finish_block(&mut v, e, block::IDB, &body);
        v
    }

    fn epb(
        e: Endian,
        id: u32,
        units: u64,
        data: &[u8],
        origlen: u32,
        opts: &[(u16, Vec<u8>)],
    ) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&e.put32(id));
        body.extend_from_slice(&e.put32((units >> 32) as u32));
        body.extend_from_slice(&e.put32(units as u32));
        body.extend_from_slice(&e.put32(data.len() as u32));
        body.extend_from_slice(&e.put32(origlen));
        body.extend_from_slice(data);
        body.resize(body.len().next_multiple_of(4), 0);
        for (c, v) in opts {
            put_option(&mut body, e, *c, v);
        }
        let mut v = Vec::new();
        finish_block(&mut v, e, block::EPB, &body);
        v
    }

    fn raw_block(e: Endian, t: u32, body: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        finish_block(&mut v, e, t, body);
        v
    }

    fn everything(e: Endian) -> Vec<u8> {
        let mut f = shb(e);
        // if0: Ethernet, microseconds, offset +10 s, name, description
        f.extend(idb(
            e,
            1,
            65535,
            &[
                (2, b"eth0".to_vec()),
                (3, b"uplink".to_vec()),
                (14, e.put64(10).to_vec()),
                (11, b"\0tcp".to_vec()),
                (12, b"Linux".to_vec()),
                (1, b"if comment".to_vec()),
            ],
        ));
        // if1: raw IP, 2^-10 s resolution, snaplen 8
        f.extend(idb(e, 101, 8, &[(9, vec![0x80 | 10])]));
        // if2: SLL2, 10^-3
        f.extend(idb(e, 276, 0, &[(9, vec![3])]));
        f.extend(epb(
            e,
            0,
            1_000_000,
            &[0xaa; 14],
            14,
            &[
                (code::EPB_FLAGS, e.put32(2).to_vec()),
                (code::COMMENT, b"hello".to_vec()),
                (code::EPB_DROPCOUNT, e.put64(3).to_vec()),
            ],
        ));
        f.extend(epb(e, 1, 2048, &[0x45; 8], 100, &[]));
        f.extend(epb(e, 2, 1500, &[0; 3], 3, &[]));
        // SPB for if0 (snaplen 65535): 5 bytes of 7 on the wire? no: origlen 5
        let mut spb = e.put32(5).to_vec();
        spb.extend_from_slice(&[1, 2, 3, 4, 5, 0, 0, 0]);
        f.extend(raw_block(e, block::SPB, &spb));
        // obsolete PB on if1
        let mut pb = Vec::new();
        pb.extend_from_slice(&e.put16(1));
        pb.extend_from_slice(&e.put16(0));
        pb.extend_from_slice(&e.put32(0));
        pb.extend_from_slice(&e.put32(1024));
        pb.extend_from_slice(&e.put32(4));
        pb.extend_from_slice(&e.put32(4));
        pb.extend_from_slice(&[7; 4]);
        put_option(&mut pb, e, code::EPB_FLAGS, &e.put32(1));
        f.extend(raw_block(e, block::PB, &pb));
        // NRB with one IPv4 record
        let mut nrb = Vec::new();
        put_option(&mut nrb, e, 1, b"\x0a\x4d\0\x01h\0");
        put_option(&mut nrb, e, 0, &[]);
        f.extend(raw_block(e, block::NRB, &nrb));
        // DSB and a custom block: skipped
        f.extend(raw_block(e, block::DSB, &[0; 8]));
        f.extend(raw_block(e, 0x0BAD, &[0; 4]));
        // ISB for if0
        let mut isb = Vec::new();
        isb.extend_from_slice(&e.put32(0));
        isb.extend_from_slice(&e.put32(0));
        isb.extend_from_slice(&e.put32(5_000_000));
        put_option(&mut isb, e, 4, &e.put64(100));
        put_option(&mut isb, e, 5, &e.put64(2));
        put_option(&mut isb, e, 0, &[]);
        f.extend(raw_block(e, block::ISB, &isb));
        f
    }

    #[test]
    fn pcapng_every_block_both_orders() {
        for e in [Endian::Little, Endian::Big] {
            let got = read_both(&everything(e), ReaderOptions::default());
            assert_eq!(
                got,
                vec![
                    format!("section PcapNg {e:?}"),
                    "if0 EN10MB snap 65535".to_string(),
                    "if1 RAW snap 8".into(),
                    "if2 LINUX_SLL2 snap 0".into(),
                    "frame if0 11000000000 14/14 Some(Outbound) Some(\"hello\")".into(),
                    "frame if1 2000000000 8/100 None None".into(),
                    "frame if2 1500000000 3/3 None None".into(),
                    "frame if0 0 5/5 None None".into(),
                    "frame if1 1000000000 4/4 Some(Inbound) None".into(),
                    "names 1".into(),
                    "skipped decryption secrets block 20".into(),
                    "skipped custom block 16".into(),
                    "stats if0 recv Some(100) drop Some(2)".into(),
                ]
            );
        }
        let mut r = Reader::from_bytes(everything(Endian::Big), ReaderOptions::default());
        let mut saw_names = false;
        while let Some(rec) = r.next_record() {
            match rec.unwrap() {
                Record::Frame(f) if f.comment.is_some() => {
                    assert_eq!(f.options.get_u64(code::EPB_DROPCOUNT), Some(3));
                    assert_eq!(f.flags, Some(EpbFlags(2)));
                }
                Record::Names(n) => {
                    assert_eq!(n.entries[0].addr, NameAddr::V4([10, 77, 0, 1].into()));
                    assert_eq!(n.entries[0].names, vec!["h"]);
                    saw_names = true;
                }
                _ => {}
            }
        }
        assert!(saw_names);
        let i = &r.interfaces()[0];
        assert_eq!(i.name.as_deref(), Some("eth0"));
        assert_eq!(i.description.as_deref(), Some("uplink"));
        assert_eq!(i.tsoffset, 10);
        assert_eq!(i.filter, Some((0, b"tcp".to_vec())));
        assert_eq!(i.os.as_deref(), Some("Linux"));
        assert_eq!(i.comments, vec!["if comment"]);
        let c = r.counts();
        assert_eq!(
            (
                c.frames,
                c.skipped_blocks,
                c.skipped_bytes,
                c.frames_without_timestamp
            ),
            (5, 2, 36, 1)
        );
        assert_eq!(r.section().unwrap().userappl.as_deref(), Some("test"));
        // the raw-IP frame of 8 bytes is within if1's snaplen of 8
        assert_eq!(c.caplen_over_snaplen, 0);
    }

    #[test]
    fn sections_reset_interfaces() {
        let mut f = everything(Endian::Little);
        f.extend(shb(Endian::Big));
        f.extend(idb(Endian::Big, 228, 100, &[]));
        f.extend(epb(Endian::Big, 0, 7, &[0x45; 20], 20, &[]));
        f.extend(epb(Endian::Big, 1, 7, &[0x45; 20], 20, &[]));
        let got = read_both(&f, ReaderOptions::default());
        let n = got.len();
        assert_eq!(got[n - 4], "section PcapNg Big");
        assert_eq!(got[n - 3], "if0 IPV4 snap 100");
        assert_eq!(got[n - 2], "frame if0 7000 20/20 None None");
        let off = f.len() - 52;
        assert_eq!(
            got[n - 1],
            format!(
                "error at offset {off}: enhanced packet block refers to interface 1 but the section has 1"
            )
        );
    }

    #[test]
    fn block_length_errors() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        let at = f.len();
        let mut bad = epb(e, 0, 0, &[1; 4], 4, &[]);
        bad[4] = 7;
        f.extend(&bad);
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            &format!("error at offset {at}: block length 7 is not a multiple of 4")
        );
        let mut g = f[..at].to_vec();
        let mut bad = epb(e, 0, 0, &[1; 4], 4, &[]);
        let n = bad.len();
        bad[n - 4] = 0;
        g.extend(&bad);
        let got = read_both(&g, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            &format!("error at offset {at}: block length 36 does not match its trailing copy 0")
        );
        // caplen beyond the block
        let mut g = f[..at].to_vec();
        let mut bad = epb(e, 0, 0, &[1; 4], 4, &[]);
        bad[20..24].copy_from_slice(&e.put32(40));
        g.extend(&bad);
        let got = read_both(&g, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            &format!(
                "error at offset {at}: captured length 40 does not fit in a enhanced packet block of 36 bytes"
            )
        );
        // too short, and a truncated final block (lenient: reported)
        let mut g = f[..at].to_vec();
        g.extend(raw_block(e, block::EPB, &[0; 4]));
        let got = read_both(&g, ReaderOptions::default());
        assert!(
            got.last().unwrap().contains("below its minimum of 32"),
            "{got:?}"
        );
        let mut g = f[..at].to_vec();
        g.extend(&epb(e, 0, 0, &[1; 4], 4, &[])[..20]);
        assert_eq!(
            read_both(&g, ReaderOptions::lenient()).last().unwrap(),
            "truncated enhanced packet block 20/36"
        );
        assert_eq!(
            read_both(&g, ReaderOptions::default()).last().unwrap(),
            &format!("error at offset {at}: truncated enhanced packet block: 20 of 36 bytes")
        );
    }

    #[test]
    fn packet_before_interface_and_bad_options() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(epb(e, 0, 0, &[1; 4], 4, &[]));
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            "error at offset 40: enhanced packet block refers to interface 0 but the section has 0"
        );
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        let at = f.len();
        let mut b = epb(e, 0, 0, &[1; 4], 4, &[(code::COMMENT, b"abcd".to_vec())]);
        // make the comment claim 200 bytes
        b[34..36].copy_from_slice(&e.put16(200));
        f.extend(&b);
        let got = read_both(&f, ReaderOptions::default());
        assert_eq!(
            got.last().unwrap(),
            &format!(
                "error at offset {}: option 1 of length 200 overruns its enhanced packet block",
                at + 32
            )
        );
        let got = read_both(&f, ReaderOptions::lenient());
        assert_eq!(got.last().unwrap(), "frame if0 0 4/4 None None");
    }

    #[test]
    fn resync_after_a_bad_block() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(e, 1, 0, &[]));
        let at = f.len();
        f.extend([0xde, 0xad, 0xbe, 0xef, 9, 0, 0, 0, 0, 0, 0, 0]);
        let good = f.len();
        f.extend(epb(e, 0, 5, &[1; 4], 4, &[]));
        let mut r = Reader::from_read(std::io::Cursor::new(f), ReaderOptions::default());
        let err = loop {
            match r.next_record().unwrap() {
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        assert_eq!(err.offset(), Some(at as u64));
        assert!(r.next_record().is_none(), "halted after an error");
        assert_eq!(r.position(), at as u64);
        assert_eq!(r.peek(good as u64, 4).unwrap(), &e.put32(6));
        assert!(r.resync_at(at as u64 - 1).is_err());
        r.resync_at(good as u64).unwrap();
        let fr = r.next_frame().unwrap().unwrap();
        assert_eq!(fr.ts_ns, 5000);
        assert_eq!(r.counts().skipped_bytes, 12);
        assert!(r.next_record().is_none());
    }

    #[test]
    fn timestamps_overflow_clamped_and_counted() {
        let e = Endian::Little;
        let mut f = shb(e);
        f.extend(idb(
            e,
            1,
            0,
            &[(9, vec![0]), (14, e.put64((-5i64) as u64).to_vec())],
        ));
        f.extend(epb(e, 0, u64::MAX, &[1; 4], 4, &[]));
        f.extend(epb(e, 0, 1, &[1; 4], 4, &[]));
        let mut r = Reader::from_bytes(f, ReaderOptions::default());
        assert_eq!(r.next_frame().unwrap().unwrap().ts_ns, u64::MAX);
        assert_eq!(r.next_frame().unwrap().unwrap().ts_ns, 0);
        assert_eq!(r.counts().timestamps_clamped, 2);
        let _ = Direction::Inbound;
    }

    #[test]
    fn streaming_buffer_stays_bounded() {
        // 2000 records of 1000 bytes through a 4 KiB buffer: the buffer
        // never grows past one record plus what was buffered.
        let recs: Vec<(u32, u32, &[u8], u32)> =
            (0..2000).map(|i| (i, 0, &[0u8; 1000][..], 1000)).collect();
        let f = pcap_file(Endian::Little, pcap::MAGIC_MICRO, 65535, &recs);
        let opts = ReaderOptions {
            buffer_size: 4096,
            ..ReaderOptions::default()
        };
        let mut r = Reader::from_read(std::io::Cursor::new(f), opts);
        let mut n = 0;
        while let Some(fr) = r.next_frame() {
            fr.unwrap();
            n += 1;
        }
        assert_eq!(n, 2000);
        assert_eq!(r.buffer_len(), 4096);
        // one 100 kB record grows it to just that
        let big = vec![0u8; 100_000];
        let f = pcap_file(
            Endian::Little,
            pcap::MAGIC_MICRO,
            262144,
            &[(1, 0, &big, 100_000)],
        );
        let opts = ReaderOptions {
            buffer_size: 4096,
            ..ReaderOptions::default()
        };
        let mut r = Reader::from_read(std::io::Cursor::new(f), opts);
        r.next_frame().unwrap().unwrap();
        assert!(
            r.buffer_len() >= 100_016 && r.buffer_len() <= 2 * 100_016,
            "{}",
            r.buffer_len()
        );
        // a record that claims more than is there allocates nothing for it
        let mut f = pcap_file(Endian::Little, pcap::MAGIC_MICRO, 262144, &[]);
        f.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0, 4, 0, 1, 2]);
        let opts = ReaderOptions {
            buffer_size: 64,
            ..ReaderOptions::lenient()
        };
        let mut r = Reader::from_read(std::io::Cursor::new(f), opts);
        let got = all(&mut r);
        assert_eq!(got.last().unwrap(), "truncated record 18/262160");
        assert!(r.buffer_len() <= 128);
    }

    #[test]
    fn a_large_mapped_file_reads_like_a_stream() {
        // Large enough for the mapping helper and many windows; record
        // sizes vary so that records cross window boundaries at every
        // phase.
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut payload = vec![0u8; 1600];
        let mut recs = Vec::new();
        let mut total = 0usize;
        let mut i = 0u32;
        while total < 24 << 20 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let len = 40 + (seed % 1475) as usize;
            recs.push((i, (seed >> 20) as u32 % 1_000_000, len));
            total += 16 + len;
            i += 1;
        }
        for (k, b) in payload.iter_mut().enumerate() {
            *b = (k * 7) as u8;
        }
        let records: Vec<(u32, u32, &[u8], u32)> = recs
            .iter()
            .map(|&(s, f, len)| (s, f, &payload[..len], len as u32))
            .collect();
        let file = pcap_file(Endian::Little, pcap::MAGIC_MICRO, 65535, &records);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("big.pcap");
        std::fs::write(&p, &file).unwrap();
        let digest = |r: &mut Reader| {
            let mut n = 0u64;
            let mut h = 0u64;
            while let Some(f) = r.next_frame() {
                let f = f.unwrap();
                n += 1;
                h = h.wrapping_mul(31).wrapping_add(f.ts_ns ^ f.offset);
                h = h
                    .wrapping_mul(31)
                    .wrapping_add(u64::from(f.data[f.data.len() - 1]));
                h = h.wrapping_add(f.data.len() as u64);
            }
            (n, h)
        };
        let mut m = Reader::open(&p).unwrap();
        assert!(m.is_whole());
        let mut s = Reader::from_read(std::io::Cursor::new(file), ReaderOptions::default());
        let (a, b) = (digest(&mut m), digest(&mut s));
        assert_eq!(a, b);

        assert_eq!(a.0, recs.len() as u64);
        assert!(m.buffer_len() <= 8 << 20, "{}", m.buffer_len());
    }

    #[test]
    fn open_file_mmap_and_buffered_agree() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.pcapng");
        std::fs::write(&p, everything(Endian::Little)).unwrap();
        let mut b = Reader::open_with(
            &p,
            ReaderOptions {
                mmap: false,
                ..ReaderOptions::default()
            },
        )
        .unwrap();
        assert!(!b.is_whole());
        let a = all(&mut b);
        // mapping is the default for regular files
        let mut m = Reader::open(&p).unwrap();
        assert!(m.is_whole());
        assert_eq!(m.input_len(), Some(std::fs::metadata(&p).unwrap().len()));
        assert_eq!(all(&mut m), a);
        // an empty file cannot be mapped: it is read buffered
        let e = dir.path().join("empty.pcap");
        std::fs::write(&e, b"").unwrap();
        let mut r = Reader::open_with(
            &e,
            ReaderOptions {
                mmap: true,
                ..ReaderOptions::default()
            },
        )
        .unwrap();
        assert!(!r.is_whole());
        assert!(r.next_record().unwrap().is_err());
        let err = Reader::open(dir.path().join("missing.pcap")).unwrap_err();
        assert!(err.to_string().starts_with("opening "), "{err}");
    }

    /// What a loop sees: every record through `next_record`, or pcap
    /// frames through the fast path first and the rest through
    /// `next_record`; then the counts.
    fn seen(r: &mut Reader, fast: bool) -> (Vec<String>, ReadCounts) {
        let mut out = Vec::new();
        loop {
            if fast && let Some(f) = r.next_pcap_frame() {
                out.push(format!(
                    "frame {} {} {} {:?} {:?}",
                    f.offset, f.ts_ns, f.origlen, f.data, f.flags
                ));
                continue;
            }
            match r.next_record() {
                None => break,
                Some(Ok(Record::Frame(f))) => out.push(format!(
                    "frame {} {} {} {:?} {:?}",
                    f.offset, f.ts_ns, f.origlen, f.data, f.flags
                )),
                Some(Ok(other)) => out.push(format!("{other:?}")),
                Some(Err(e)) => out.push(format!("error {e}")),
            }
        }
        (out, r.counts().clone())
    }

    proptest::proptest! {
        #[test]
        fn the_pcap_fast_path_sees_what_next_record_sees(
            magic in proptest::sample::select(vec![
                pcap::MAGIC_MICRO, pcap::MAGIC_NANO, 0xa1b2_cd34,
            ]),
            big in proptest::bool::ANY,
            snaplen in 1u32..300,
            recs in proptest::collection::vec((0u32..400, 0u32..400, proptest::num::u8::ANY), 0..40),
            cut in 0usize..64,
            lenient in proptest::bool::ANY,
        ) {
            let e = if big { Endian::Big } else { Endian::Little };
            let modified = magic == 0xa1b2_cd34;
            let mut f = Vec::new();
            f.extend_from_slice(&e.put32(magic));
            f.extend_from_slice(&e.put16(2));
            f.extend_from_slice(&e.put16(4));
            f.extend_from_slice(&[0; 8]);
            f.extend_from_slice(&e.put32(snaplen));
            f.extend_from_slice(&e.put32(1));
            for (i, &(caplen, origlen, fill)) in recs.iter().enumerate() {
                f.extend_from_slice(&e.put32(i as u32));
                f.extend_from_slice(&e.put32(7));
                f.extend_from_slice(&e.put32(caplen));
                f.extend_from_slice(&e.put32(origlen));
                if modified {
                    f.extend_from_slice(&[0, 0, 0, 0, 0, 0, fill % 5, 0]);
                }
                f.extend(std::iter::repeat_n(fill, caplen as usize));
            }
            f.truncate(f.len().saturating_sub(cut));
            let opts = ReaderOptions {
                leniency: if lenient { Leniency::Lenient } else { Leniency::Strict },
                buffer_size: 64,
                ..ReaderOptions::default()
            };
            let want = seen(&mut Reader::from_bytes(f.clone(), opts.clone()), false);
            let fast = seen(&mut Reader::from_bytes(f.clone(), opts.clone()), true);
            proptest::prop_assert_eq!(&fast, &want);
            let stream = seen(
                &mut Reader::from_read(std::io::Cursor::new(f), opts),
                true,
            );
            proptest::prop_assert_eq!(&stream, &want);
        }
    }
}
