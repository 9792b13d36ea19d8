//! The writer: pcap or pcapng, into a large buffer that goes out in big
//! writes, or record by record with vectored writes straight from the
//! caller's memory (a capture ring block).
//!
//! Errors are returned by every write and by [`Writer::finish`]. Dropping a
//! writer that was not finished flushes what is buffered on a best-effort
//! basis and cannot report failure: call `finish` to know that the file is
//! complete.

use std::io::{self, IoSlice, Write};
use std::path::Path;

use sluice_wire::LinkType;

use crate::drop_behind::DropBehind;
use crate::endian::Endian;
use crate::error::{Error, ErrorKind};
use crate::frame::{EpbFlags, Frame, RecordMeta, code};
use crate::meta::{Format, Interface, InterfaceStats, NameAddr, Names, Section, TsResolution};
use crate::pcap;
use crate::pcapng::{self, block};

/// Where a writer created by [`Writer::create`] writes: a file or stdout.
pub type Output = Box<dyn Write + Send>;

/// How to write.
#[derive(Clone, Debug)]
pub struct WriterOptions {
    /// pcap or pcapng.
    pub format: Format,
    /// Nanosecond timestamps (pcap: the nanosecond magic; pcapng:
    /// `if_tsresol` 9). Microseconds otherwise.
    pub nanos: bool,
    /// Byte order of the file. Little-endian by default.
    pub endian: Endian,
    /// Size of the output buffer; writes go out in blocks of about this size.
    pub buffer_size: usize,
    /// pcapng: the first section header's options (`shb_userappl`, …).
    pub section: Option<Section>,
    /// Files made by [`Writer::create`] and [`crate::RotatingWriter`]: keep
    /// what was written in the page cache instead of dropping it behind
    /// the writer (see [`DropBehind`]). False by default.
    pub keep_cache: bool,
}

impl WriterOptions {
    /// Options for a format: nanosecond timestamps, little-endian, 1 MiB
    /// buffer.
    pub fn new(format: Format) -> WriterOptions {
        WriterOptions {
            format,
            nanos: true,
            endian: Endian::Little,
            buffer_size: 1 << 20,
            section: None,
            keep_cache: false,
        }
    }

    /// Options for the format a path's extension names (see
    /// [`Format::from_path`]); `-` (stdout) and unknown extensions are an
    /// error unless a format is given with [`WriterOptions::new`].
    pub fn for_path(path: impl AsRef<Path>) -> Result<WriterOptions, Error> {
        let p = path.as_ref();
        match Format::from_path(p) {
            Some(f) => Ok(WriterOptions::new(f)),
            None => Err(Error::Write(ErrorKind::UnknownExtension(
                p.display().to_string(),
            ))),
        }
    }

    /// Sets the timestamp resolution.
    pub fn nanos(mut self, nanos: bool) -> WriterOptions {
        self.nanos = nanos;
        self
    }

    /// Keeps written pages in the page cache (see
    /// [`WriterOptions::keep_cache`]).
    pub fn keep_cache(mut self, keep: bool) -> WriterOptions {
        self.keep_cache = keep;
        self
    }

    /// Sets the byte order.
    pub fn endian(mut self, endian: Endian) -> WriterOptions {
        self.endian = endian;
        self
    }
}

/// A record header encoded for a vectored write: write `head()`, then the
/// packet bytes, then `tail()` (pcapng padding, options and trailing
/// length; empty for pcap).
#[derive(Clone, Copy, Debug)]
pub struct RecordHeader {
    head: [u8; 28],
    head_len: u8,
    tail: [u8; 20],
    tail_len: u8,
}

impl RecordHeader {
    /// The bytes before the packet.
    pub fn head(&self) -> &[u8] {
        &self.head[..usize::from(self.head_len)]
    }

    /// The bytes after the packet.
    pub fn tail(&self) -> &[u8] {
        &self.tail[..usize::from(self.tail_len)]
    }

    /// Bytes in the whole record for a packet of `caplen` bytes.
    pub fn record_len(&self, caplen: usize) -> usize {
        usize::from(self.head_len) + caplen + usize::from(self.tail_len)
    }
}

#[derive(Clone, Copy, Debug)]
struct WIface {
    linktype: LinkType,
}

/// A pcap or pcapng writer.
pub struct Writer<W: Write> {
    out: Option<W>,
    buf: Vec<u8>,
    cap: usize,
    format: Format,
    nanos: bool,
    endian: Endian,
    /// pcap: the file's one linktype, once the header is written.
    pcap_linktype: Option<LinkType>,
    ifaces: Vec<WIface>,
    /// Bytes handed to the writer so far, buffered or not.
    written: u64,
    frames: u64,
    final_stats: Vec<InterfaceStats>,
    failed: bool,
    scratch: Vec<u8>,
}

impl<W: Write> std::fmt::Debug for Writer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("format", &self.format)
            .field("nanos", &self.nanos)
            .field("written", &self.written)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl Writer<Output> {
    /// Creates (truncates) a file, or writes to stdout when `path` is `-`.
    /// A regular file, stdout included, is written with [`DropBehind`]
    /// unless `opts.keep_cache` is set.
    pub fn create(path: impl AsRef<Path>, opts: WriterOptions) -> Result<Writer<Output>, Error> {
        let out: Output = Box::new(DropBehind::create(path.as_ref(), opts.keep_cache)?);
        Writer::new(out, opts)
    }
}

impl<W: Write> Writer<W> {
    /// A writer into `out`. pcapng writes its section header now; pcap
    /// writes its file header with the first interface.
    pub fn new(out: W, opts: WriterOptions) -> Result<Writer<W>, Error> {
        let cap = opts.buffer_size.max(4096);
        let mut w = Writer {
            out: Some(out),
            buf: Vec::with_capacity(cap + 4096),
            cap,
            format: opts.format,
            nanos: opts.nanos,
            endian: opts.endian,
            pcap_linktype: None,
            ifaces: Vec::new(),
            written: 0,
            frames: 0,
            final_stats: Vec::new(),
            failed: false,
            scratch: Vec::new(),
        };
        if w.format == Format::PcapNg {
            let section = opts.section.unwrap_or_else(|| Section::new(Format::PcapNg));
            let mut b = Vec::new();
            pcapng::encode_shb(&mut b, w.endian, &section);
            w.put(&b)?;
        }
        Ok(w)
    }

    /// The format being written.
    pub fn format(&self) -> Format {
        self.format
    }

    /// Bytes written so far, including what is still buffered.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Number of interfaces added (in the current section).
    pub fn interface_count(&self) -> u32 {
        self.ifaces.len() as u32
    }

    /// The linktype of an added interface.
    pub fn linktype(&self, interface_id: u32) -> Option<LinkType> {
        self.ifaces.get(interface_id as usize).map(|i| i.linktype)
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> Option<&W> {
        self.out.as_ref()
    }

    /// Adds an interface and returns its id for frames.
    ///
    /// pcapng writes an interface description block (with `if_tsresol` 9
    /// for nanoseconds; timestamps are written with any `if_tsoffset`
    /// already applied, so none is written). A pcap file has one linktype:
    /// the first interface writes the file header (its snaplen and FCS
    /// length), later ones must have the same linktype and share it.
    pub fn add_interface(&mut self, iface: &Interface) -> Result<u32, Error> {
        self.check_open()?;
        match self.format {
            Format::Pcap => match self.pcap_linktype {
                None => {
                    let h = pcap::encode_file_header(self.endian, self.nanos, iface);
                    self.put(&h)?;
                    self.pcap_linktype = Some(iface.linktype);
                }
                Some(lt) if lt != iface.linktype => {
                    return Err(Error::Write(ErrorKind::LinkTypeMismatch {
                        linktype: iface.linktype,
                        file: lt,
                    }));
                }
                Some(_) => {}
            },
            Format::PcapNg => {
                let mut b = Vec::new();
                let res = if self.nanos {
                    TsResolution::NANO
                } else {
                    TsResolution::MICRO
                };
                pcapng::encode_idb(&mut b, self.endian, iface, res);
                self.put(&b)?;
            }
        }
        self.ifaces.push(WIface {
            linktype: iface.linktype,
        });
        Ok(self.ifaces.len() as u32 - 1)
    }

    /// pcapng: starts a new section (interfaces must be added again).
    /// pcap has one section: this does nothing and returns false.
    pub fn new_section(&mut self, section: &Section) -> Result<bool, Error> {
        self.check_open()?;
        if self.format == Format::Pcap {
            return Ok(false);
        }
        let mut b = Vec::new();
        pcapng::encode_shb(&mut b, self.endian, section);
        self.put(&b)?;
        self.ifaces.clear();
        Ok(true)
    }

    /// Encodes the header (and pcapng tail) of a record for a packet of
    /// `caplen` bytes, for a caller that writes header, packet and tail
    /// with one vectored write ([`Writer::write_encoded`]).
    #[inline]
    pub fn encode_record_header(
        &self,
        meta: &RecordMeta,
        caplen: usize,
    ) -> Result<RecordHeader, Error> {
        if meta.interface_id as usize >= self.ifaces.len() {
            return Err(Error::Write(ErrorKind::WriterUnknownInterface {
                id: meta.interface_id,
                count: self.ifaces.len() as u32,
            }));
        }
        let caplen32 = u32::try_from(caplen)
            .ok()
            .filter(|&c| c <= u32::MAX - 64)
            .ok_or(Error::Write(ErrorKind::FrameTooLong { len: caplen }))?;
        let mut r = RecordHeader {
            head: [0; 28],
            head_len: 0,
            tail: [0; 20],
            tail_len: 0,
        };
        let e = self.endian;
        match self.format {
            Format::Pcap => {
                let h =
                    pcap::encode_record_header(e, self.nanos, meta.ts_ns, caplen32, meta.origlen)
                        .ok_or(Error::Write(ErrorKind::TimestampOutOfRange {
                        ts_ns: meta.ts_ns,
                        format: "pcap",
                    }))?;
                r.head[..16].copy_from_slice(&h);
                r.head_len = 16;
            }
            Format::PcapNg => {
                let units = if self.nanos {
                    meta.ts_ns
                } else {
                    meta.ts_ns / 1000
                };
                let pad = caplen.next_multiple_of(4) - caplen;
                let opts = if meta.flags.is_some() { 12 } else { 0 };
                let len = (32 + caplen + pad + opts) as u32;
                r.head[0..4].copy_from_slice(&e.put32(block::EPB));
                r.head[4..8].copy_from_slice(&e.put32(len));
                r.head[8..12].copy_from_slice(&e.put32(meta.interface_id));
                r.head[12..16].copy_from_slice(&e.put32((units >> 32) as u32));
                r.head[16..20].copy_from_slice(&e.put32(units as u32));
                r.head[20..24].copy_from_slice(&e.put32(caplen32));
                r.head[24..28].copy_from_slice(&e.put32(meta.origlen));
                r.head_len = 28;
                let mut t = pad;
                if let Some(EpbFlags(f)) = meta.flags {
                    r.tail[t..t + 2].copy_from_slice(&e.put16(code::EPB_FLAGS));
                    r.tail[t + 2..t + 4].copy_from_slice(&e.put16(4));
                    r.tail[t + 4..t + 8].copy_from_slice(&e.put32(f));
                    // opt_endofopt: four zero bytes
                    t += 12;
                }
                r.tail[t..t + 4].copy_from_slice(&e.put32(len));
                r.tail_len = (t + 4) as u8;
            }
        }
        Ok(r)
    }

    /// Writes one packet: a record header for `meta` and `data`.
    #[inline]
    pub fn write_packet(&mut self, meta: &RecordMeta, data: &[u8]) -> Result<(), Error> {
        self.check_open()?;
        let h = self.encode_record_header(meta, data.len())?;
        let n = h.record_len(data.len());
        if self.buf.len() + n > self.cap {
            self.flush_buf()?;
        }
        if n > self.cap {
            let mut bufs = [
                IoSlice::new(h.head()),
                IoSlice::new(data),
                IoSlice::new(h.tail()),
            ];
            self.write_direct(&mut bufs)?;
        } else {
            self.buf.extend_from_slice(h.head());
            self.buf.extend_from_slice(data);
            self.buf.extend_from_slice(h.tail());
        }
        self.written += n as u64;
        self.frames += 1;
        Ok(())
    }

    /// Writes a frame with its flags, comment and (pcapng) options.
    ///
    /// pcapng: `flags` and `comment` are written from the frame's fields;
    /// every other option in `frame.options` (further comments, hash, drop
    /// count, packet id, queue, verdict, custom options) is copied, with
    /// numeric values converted to the output byte order. pcap keeps only
    /// the packet, timestamp and lengths.
    pub fn write_frame(&mut self, frame: &Frame<'_>) -> Result<(), Error> {
        let meta = frame.meta();
        if self.format == Format::Pcap
            || (frame.comment.is_none() && frame.options.bytes().is_empty())
        {
            return self.write_packet(&meta, frame.data);
        }
        self.check_open()?;
        // An EPB with options: assemble the options, then the block.
        let e = self.endian;
        let mut opts = std::mem::take(&mut self.scratch);
        opts.clear();
        if let Some(EpbFlags(f)) = frame.flags {
            pcapng::put_option(&mut opts, e, code::EPB_FLAGS, &e.put32(f));
        }
        if let Some(c) = frame.comment {
            pcapng::put_option(&mut opts, e, code::COMMENT, c);
        }
        let mut first_comment = frame.comment.is_some();
        let from = frame.options.endian();
        let mut tmp = [0u8; 64];
        for o in frame.options.iter() {
            if o.code == code::EPB_FLAGS {
                continue;
            }
            if o.code == code::COMMENT && first_comment {
                first_comment = false;
                continue;
            }
            if o.value.len() <= tmp.len() {
                let t = &mut tmp[..o.value.len()];
                pcapng::swap_epb_option(o.code, o.value, from, e, t);
                pcapng::put_option(&mut opts, e, o.code, t);
            } else {
                pcapng::put_option(&mut opts, e, o.code, o.value);
            }
        }
        if !opts.is_empty() {
            pcapng::put_option(&mut opts, e, code::END, &[]);
        }
        let no_flags = RecordMeta {
            flags: None,
            ..meta
        };
        let h = self.encode_record_header(&no_flags, frame.data.len());
        let h = match h {
            Ok(h) => h,
            Err(err) => {
                self.scratch = opts;
                return Err(err);
            }
        };
        // The header was encoded without options: fix the lengths.
        let len = h.record_len(frame.data.len()) + opts.len();
        let mut head = [0u8; 28];
        head.copy_from_slice(h.head());
        head[4..8].copy_from_slice(&e.put32(len as u32));
        let tail = h.tail();
        let pad = &tail[..tail.len() - 4];
        let lenb = e.put32(len as u32);
        let mut bufs = [
            IoSlice::new(&head),
            IoSlice::new(frame.data),
            IoSlice::new(pad),
            IoSlice::new(&opts),
            IoSlice::new(&lenb),
        ];
        let r = if self.buf.len() + len > self.cap && len > self.cap {
            self.flush_buf().and_then(|()| self.write_direct(&mut bufs))
        } else {
            if self.buf.len() + len > self.cap
                && let Err(err) = self.flush_buf()
            {
                self.scratch = opts;
                return Err(err);
            }
            for b in &bufs {
                self.buf.extend_from_slice(b);
            }
            Ok(())
        };
        self.scratch = opts;
        r?;
        self.written += len as u64;
        self.frames += 1;
        Ok(())
    }

    /// Writes records whose headers the caller encoded with
    /// [`Writer::encode_record_header`], as one vectored write after
    /// flushing the buffer: `bufs` alternates head, packet, tail for
    /// `frames` records. For a capture loop that writes a ring block's
    /// packets without copying them.
    pub fn write_encoded(&mut self, bufs: &mut [IoSlice<'_>], frames: u64) -> Result<(), Error> {
        self.check_open()?;
        self.flush_buf()?;
        let n: usize = bufs.iter().map(|b| b.len()).sum();
        self.write_direct(bufs)?;
        self.written += n as u64;
        self.frames += frames;
        Ok(())
    }

    /// pcapng: writes an interface statistics block now. pcap cannot hold
    /// statistics: returns false.
    pub fn write_stats(&mut self, stats: &InterfaceStats) -> Result<bool, Error> {
        self.check_open()?;
        if self.format == Format::Pcap {
            return Ok(false);
        }
        if stats.interface_id as usize >= self.ifaces.len() {
            return Err(Error::Write(ErrorKind::WriterUnknownInterface {
                id: stats.interface_id,
                count: self.ifaces.len() as u32,
            }));
        }
        let mut b = Vec::new();
        pcapng::encode_isb(&mut b, self.endian, stats, self.nanos);
        self.put(&b)?;
        Ok(true)
    }

    /// Statistics to write as interface statistics blocks when the writer
    /// is finished (pcapng; pcap ignores them).
    pub fn set_final_stats(&mut self, stats: Vec<InterfaceStats>) {
        self.final_stats = stats;
    }

    /// pcapng: writes a name resolution block. pcap: returns false.
    pub fn write_names(&mut self, names: &Names) -> Result<bool, Error> {
        self.check_open()?;
        if self.format == Format::Pcap {
            return Ok(false);
        }
        let e = self.endian;
        let mut body = Vec::new();
        for entry in &names.entries {
            let mut v = Vec::new();
            let kind: u16 = match &entry.addr {
                NameAddr::V4(a) => {
                    v.extend_from_slice(&a.octets());
                    1
                }
                NameAddr::V6(a) => {
                    v.extend_from_slice(&a.octets());
                    2
                }
                NameAddr::Eui48(a) => {
                    v.extend_from_slice(a);
                    3
                }
                NameAddr::Eui64(a) => {
                    v.extend_from_slice(a);
                    4
                }
                NameAddr::Other { kind, value } => {
                    v.extend_from_slice(value);
                    *kind
                }
            };
            for n in &entry.names {
                v.extend_from_slice(n.as_bytes());
                v.push(0);
            }
            pcapng::put_option(&mut body, e, kind, &v);
        }
        pcapng::put_option(&mut body, e, 0, &[]);
        let start = body.len();
        for c in &names.comments {
            pcapng::put_option(&mut body, e, code::COMMENT, c.as_bytes());
        }
        if let Some(d) = &names.dns_name {
            pcapng::put_option(&mut body, e, 2, d.as_bytes());
        }
        if body.len() > start {
            pcapng::put_option(&mut body, e, code::END, &[]);
        }
        let mut b = Vec::new();
        pcapng::finish_block(&mut b, e, block::NRB, &body);
        self.put(&b)?;
        Ok(true)
    }

    /// Sends the buffered bytes to the underlying writer and flushes it.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.check_open()?;
        self.flush_buf()?;
        let r = match self.out.as_mut() {
            Some(o) => o.flush(),
            None => Ok(()),
        };
        r.map_err(|e| self.fail("flushing", e))
    }

    /// Writes the final statistics, flushes, and returns the underlying
    /// writer. A pcap writer that was given no interface writes its file
    /// header now (Ethernet, snaplen 262144), so that the file is valid.
    pub fn finish(mut self) -> Result<W, Error> {
        self.check_open()?;
        if self.format == Format::Pcap && self.pcap_linktype.is_none() {
            self.add_interface(&Interface::new(LinkType::ETHERNET, 262_144))?;
        }
        for s in std::mem::take(&mut self.final_stats) {
            self.write_stats(&s)?;
        }
        self.flush()?;
        self.out.take().ok_or(Error::Write(ErrorKind::WriterClosed))
    }

    fn check_open(&self) -> Result<(), Error> {
        if self.failed || self.out.is_none() {
            return Err(Error::Write(ErrorKind::WriterClosed));
        }
        Ok(())
    }

    fn fail(&mut self, what: &str, e: io::Error) -> Error {
        self.failed = true;
        Error::io(format!("{what} capture output at byte {}", self.written), e)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.buf.len() + bytes.len() > self.cap {
            self.flush_buf()?;
        }
        if bytes.len() > self.cap {
            self.write_direct(&mut [IoSlice::new(bytes)])?;
        } else {
            self.buf.extend_from_slice(bytes);
        }
        self.written += bytes.len() as u64;
        Ok(())
    }

    fn flush_buf(&mut self) -> Result<(), Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let r = match self.out.as_mut() {
            Some(o) => o.write_all(&self.buf),
            None => Ok(()),
        };
        self.buf.clear();
        r.map_err(|e| self.fail("writing", e))
    }

    fn write_direct(&mut self, bufs: &mut [IoSlice<'_>]) -> Result<(), Error> {
        let r = match self.out.as_mut() {
            Some(o) => write_all_vectored(o, bufs),
            None => Ok(()),
        };
        r.map_err(|e| self.fail("writing", e))
    }
}

/// Writes every slice, retrying short writes and interruptions.
fn write_all_vectored<W: Write>(w: &mut W, mut bufs: &mut [IoSlice<'_>]) -> io::Result<()> {
    IoSlice::advance_slices(&mut bufs, 0);
    while !bufs.is_empty() {
        match w.write_vectored(bufs) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero)),
            Ok(n) => IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl<W: Write> Drop for Writer<W> {
    /// Flushes what is buffered, best effort: errors cannot be reported
    /// here. Final statistics are not written. Call [`Writer::finish`].
    fn drop(&mut self) {
        if !self.failed && self.out.is_some() {
            let _ = self.flush_buf();
            if let Some(o) = self.out.as_mut() {
                let _ = o.flush();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::Options;
    use crate::meta::Record;
    use crate::reader::{Reader, ReaderOptions};
    use proptest::prelude::*;

    type Got = (
        u32,
        LinkType,
        u64,
        Vec<u8>,
        u32,
        Option<EpbFlags>,
        Option<Vec<u8>>,
    );

    fn read_all(bytes: Vec<u8>) -> (Vec<Got>, Reader) {
        let mut r = Reader::from_bytes(bytes, ReaderOptions::default());
        let mut out = Vec::new();
        while let Some(f) = r.next_frame() {
            let f = f.unwrap();
            out.push((
                f.interface_id,
                f.linktype,
                f.ts_ns,
                f.data.to_vec(),
                f.origlen,
                f.flags,
                f.comment.map(<[u8]>::to_vec),
            ));
        }
        (out, r)
    }

    #[derive(Debug, Clone)]
    struct Pkt {
        iface: usize,
        ts_ns: u64,
        data: Vec<u8>,
        extra: u32,
        flags: Option<u32>,
        comment: Option<String>,
    }

    fn pkt() -> impl Strategy<Value = Pkt> {
        (
            0usize..3,
            0u64..(u64::from(u32::MAX) * 1_000_000_000),
            proptest::collection::vec(any::<u8>(), 0..200),
            0u32..2000,
            proptest::option::of(any::<u32>()),
            proptest::option::of("[a-z ]{0,12}"),
        )
            .prop_map(|(iface, ts_ns, data, extra, flags, comment)| Pkt {
                iface,
                ts_ns,
                data,
                extra,
                flags,
                comment,
            })
    }

    const LINKTYPES: [LinkType; 3] = [LinkType::ETHERNET, LinkType::RAW, LinkType::LINUX_SLL2];

    proptest! {
        #[test]
        fn round_trip(
            pkts in proptest::collection::vec(pkt(), 0..40),
            ng in any::<bool>(),
            big in any::<bool>(),
            nanos in any::<bool>(),
            small_buffer in any::<bool>(),
        ) {
            let format = if ng { Format::PcapNg } else { Format::Pcap };
            let endian = if big { Endian::Big } else { Endian::Little };
            let mut opts = WriterOptions::new(format).nanos(nanos).endian(endian);
            if small_buffer {
                opts.buffer_size = 1;
            }
            let mut w = Writer::new(Vec::new(), opts).unwrap();
            let n_if = if ng { 3 } else { 1 };
            for lt in &LINKTYPES[..n_if] {
                w.add_interface(&Interface::new(*lt, 65535)).unwrap();
            }
            for p in &pkts {
                let iface = (p.iface % n_if) as u32;
                let mut f = Frame::new(iface, LINKTYPES[iface as usize], p.ts_ns, &p.data);
                f.origlen = p.data.len() as u32 + p.extra;
                f.flags = p.flags.map(EpbFlags);
                f.comment = p.comment.as_deref().map(str::as_bytes);
                w.write_frame(&f).unwrap();
            }
            prop_assert_eq!(w.frames_written(), pkts.len() as u64);
            let written = w.bytes_written();
            let bytes = w.finish().unwrap();
            prop_assert_eq!(bytes.len() as u64, written);
            let (got, r) = read_all(bytes);
            prop_assert_eq!(got.len(), pkts.len());
            prop_assert_eq!(r.section().unwrap().endian, endian);
            for (g, p) in got.iter().zip(&pkts) {
                let iface = (p.iface % n_if) as u32;
                let ts = if nanos { p.ts_ns } else { p.ts_ns / 1000 * 1000 };
                prop_assert_eq!(g.0, iface);
                prop_assert_eq!(g.1, LINKTYPES[iface as usize]);
                prop_assert_eq!(g.2, ts);
                prop_assert_eq!(&g.3, &p.data);
                prop_assert_eq!(g.4, p.data.len() as u32 + p.extra);
                if ng {
                    prop_assert_eq!(g.5, p.flags.map(EpbFlags));
                    prop_assert_eq!(g.6.clone(), p.comment.clone().map(String::into_bytes));
                } else {
                    prop_assert_eq!(g.5, None);
                }
            }
        }

        #[test]
        fn encoded_headers_match_buffered_writes(
            pkts in proptest::collection::vec(pkt(), 1..20),
            ng in any::<bool>(),
            big in any::<bool>(),
        ) {
            let format = if ng { Format::PcapNg } else { Format::Pcap };
            let endian = if big { Endian::Big } else { Endian::Little };
            let opts = WriterOptions::new(format).endian(endian);
            let mut a = Writer::new(Vec::new(), opts.clone()).unwrap();
            let mut b = Writer::new(Vec::new(), opts).unwrap();
            for w in [&mut a, &mut b] {
                w.add_interface(&Interface::new(LinkType::ETHERNET, 0)).unwrap();
            }
            let metas: Vec<RecordMeta> = pkts
                .iter()
                .map(|p| RecordMeta { interface_id: 0, ts_ns: p.ts_ns, origlen: p.data.len() as u32, flags: p.flags.map(EpbFlags) })
                .collect();
            for (m, p) in metas.iter().zip(&pkts) {
                a.write_packet(m, &p.data).unwrap();
            }
            let headers: Vec<RecordHeader> = metas
                .iter()
                .zip(&pkts)
                .map(|(m, p)| b.encode_record_header(m, p.data.len()).unwrap())
                .collect();
            let mut slices = Vec::new();
            for (h, p) in headers.iter().zip(&pkts) {
                slices.push(IoSlice::new(h.head()));
                slices.push(IoSlice::new(&p.data));
                slices.push(IoSlice::new(h.tail()));
            }
            b.write_encoded(&mut slices, pkts.len() as u64).unwrap();
            prop_assert_eq!(a.bytes_written(), b.bytes_written());
            prop_assert_eq!(a.finish().unwrap(), b.finish().unwrap());
        }
    }

    #[test]
    fn pcap_rejects_a_second_linktype_and_big_timestamps() {
        let mut w = Writer::new(Vec::new(), WriterOptions::new(Format::Pcap)).unwrap();
        assert_eq!(
            w.add_interface(&Interface::new(LinkType::ETHERNET, 100))
                .unwrap(),
            0
        );
        assert_eq!(
            w.add_interface(&Interface::new(LinkType::ETHERNET, 200))
                .unwrap(),
            1
        );
        let e = w
            .add_interface(&Interface::new(LinkType::RAW, 100))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "a pcap file holds one linktype: interface has RAW, file has EN10MB"
        );
        let e = w
            .write_frame(&Frame::new(0, LinkType::ETHERNET, 1 << 63, &[1]))
            .unwrap_err();
        assert!(e.to_string().contains("does not fit a pcap record"), "{e}");
        let e = w
            .write_frame(&Frame::new(5, LinkType::ETHERNET, 1, &[1]))
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "frame for interface 5, but the writer has 2 interfaces"
        );
        // frames for either interface land in the one header
        w.write_frame(&Frame::new(1, LinkType::ETHERNET, 1, &[1]))
            .unwrap();
        assert!(!w.write_stats(&InterfaceStats::default()).unwrap());
        let (got, _) = read_all(w.finish().unwrap());
        assert_eq!(got[0].0, 0);
    }

    #[test]
    fn empty_pcap_still_has_a_header() {
        let w = Writer::new(Vec::new(), WriterOptions::new(Format::Pcap)).unwrap();
        let b = w.finish().unwrap();
        assert_eq!(b.len(), 24);
        let mut r = Reader::from_bytes(b, ReaderOptions::default());
        assert!(matches!(r.next_record(), Some(Ok(Record::Section(_)))));
    }

    #[test]
    fn stats_names_sections_and_options_pass_through() {
        let mut section = Section::new(Format::PcapNg);
        section.userappl = Some("sluice test".into());
        let mut opts = WriterOptions::new(Format::PcapNg).nanos(false);
        opts.section = Some(section.clone());
        let mut w = Writer::new(Vec::new(), opts).unwrap();
        let mut i = Interface::new(LinkType::ETHERNET, 65535);
        i.name = Some("eth0".into());
        i.filter = Some((0, b"udp".to_vec()));
        i.comments = vec!["c".into()];
        w.add_interface(&i).unwrap();
        // a frame with options from a big-endian source: flags, a second
        // comment and a drop count are carried over, converted
        let be = Endian::Big;
        let mut raw = Vec::new();
        pcapng::put_option(&mut raw, be, code::EPB_FLAGS, &be.put32(1));
        pcapng::put_option(&mut raw, be, code::COMMENT, b"first");
        pcapng::put_option(&mut raw, be, code::COMMENT, b"second");
        pcapng::put_option(&mut raw, be, code::EPB_DROPCOUNT, &be.put64(9));
        let mut f = Frame::new(0, LinkType::ETHERNET, 3_000_000_000, &[1, 2, 3]);
        f.flags = Some(EpbFlags(1));
        f.comment = Some(b"first");
        f.options = Options::new(&raw, be);
        w.write_frame(&f).unwrap();
        let stats = InterfaceStats {
            interface_id: 0,
            ts_ns: 4_000_000_000,
            ifrecv: Some(10),
            ifdrop: Some(1),
            osdrop: Some(2),
            ..InterfaceStats::default()
        };
        assert!(w.write_stats(&stats).unwrap());
        let names = Names {
            entries: vec![crate::meta::NameEntry {
                addr: NameAddr::V4([10, 77, 0, 2].into()),
                names: vec!["b.lab".into()],
            }],
            comments: vec![],
            dns_name: Some("ns".into()),
            offset: 0,
        };
        assert!(w.write_names(&names).unwrap());
        assert!(w.new_section(&section).unwrap());
        assert_eq!(w.interface_count(), 0);
        w.add_interface(&Interface::new(LinkType::RAW, 0)).unwrap();
        w.write_frame(&Frame::new(0, LinkType::RAW, 5_000_000_000, &[0x45]))
            .unwrap();
        w.set_final_stats(vec![InterfaceStats {
            interface_id: 0,
            ts_ns: 6_000_000_000,
            ifrecv: Some(1),
            ..InterfaceStats::default()
        }]);
        let bytes = w.finish().unwrap();
        let mut r = Reader::from_bytes(bytes, ReaderOptions::default());
        let mut kinds = Vec::new();
        while let Some(rec) = r.next_record() {
            match rec.unwrap() {
                Record::Section(s) => {
                    assert_eq!(s.userappl.as_deref(), Some("sluice test"));
                    kinds.push("S");
                }
                Record::Interface { interface, .. } => {
                    if interface.linktype == LinkType::ETHERNET {
                        assert_eq!(interface.name.as_deref(), Some("eth0"));
                        assert_eq!(interface.filter, Some((0, b"udp".to_vec())));
                        assert_eq!(interface.tsresol, TsResolution::MICRO);
                    }
                    kinds.push("I");
                }
                Record::Frame(f) => {
                    if f.interface_id == 0 && f.linktype == LinkType::ETHERNET {
                        assert_eq!(f.comment, Some(&b"first"[..]));
                        assert_eq!(f.flags, Some(EpbFlags(1)));
                        assert_eq!(f.options.get_u64(code::EPB_DROPCOUNT), Some(9));
                        let comments: Vec<_> = f
                            .options
                            .iter()
                            .filter(|o| o.code == code::COMMENT)
                            .map(|o| o.value)
                            .collect();
                        assert_eq!(comments, vec![&b"first"[..], &b"second"[..]]);
                    }
                    kinds.push("F");
                }
                Record::Stats(s) => {
                    if s.ts_ns == 4_000_000_000 {
                        assert_eq!((s.ifrecv, s.ifdrop, s.osdrop), (Some(10), Some(1), Some(2)));
                    } else {
                        assert_eq!((s.ts_ns, s.ifrecv), (6_000_000_000, Some(1)));
                    }
                    kinds.push("T");
                }
                Record::Names(n) => {
                    assert_eq!(n.entries, names.entries);
                    assert_eq!(n.dns_name.as_deref(), Some("ns"));
                    kinds.push("N");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(kinds.concat(), "SIFTNSIFT");
    }

    #[test]
    fn format_from_extension() {
        assert_eq!(
            WriterOptions::for_path("a.pcap").unwrap().format,
            Format::Pcap
        );
        assert_eq!(
            WriterOptions::for_path("a.CAP").unwrap().format,
            Format::Pcap
        );
        assert_eq!(
            WriterOptions::for_path("x/a.pcapng").unwrap().format,
            Format::PcapNg
        );
        assert_eq!(
            WriterOptions::for_path("a.ntar").unwrap().format,
            Format::PcapNg
        );
        let e = WriterOptions::for_path("-").unwrap_err();
        assert!(e.to_string().contains("give it explicitly"), "{e}");
    }

    /// A sink that fails after `ok` bytes.
    #[derive(Debug)]
    struct Failing {
        ok: usize,
    }
    impl Write for Failing {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            if self.ok == 0 {
                return Err(io::Error::other("disk full"));
            }
            let n = b.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_errors_are_reported_and_close_the_writer() {
        let mut opts = WriterOptions::new(Format::Pcap);
        opts.buffer_size = 4096;
        let mut w = Writer::new(Failing { ok: 5000 }, opts).unwrap();
        w.add_interface(&Interface::new(LinkType::ETHERNET, 0))
            .unwrap();
        let data = [0u8; 1000];
        let mut err = None;
        for _ in 0..20 {
            if let Err(e) = w.write_packet(&RecordMeta::default(), &data) {
                err = Some(e);
                break;
            }
        }
        let err = err.expect("the sink fails");
        assert!(err.to_string().contains("disk full"), "{err}");
        assert!(matches!(
            w.write_packet(&RecordMeta::default(), &data),
            Err(Error::Write(ErrorKind::WriterClosed))
        ));
        assert!(w.finish().is_err());
        // and at finish
        let w = Writer::new(Failing { ok: 10 }, WriterOptions::new(Format::PcapNg)).unwrap();
        assert!(w.finish().unwrap_err().to_string().contains("disk full"));
    }

    #[test]
    fn drop_flushes_what_is_buffered() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.pcap");
        {
            let mut w = Writer::create(&p, WriterOptions::for_path(&p).unwrap()).unwrap();
            w.add_interface(&Interface::new(LinkType::ETHERNET, 0))
                .unwrap();
            w.write_packet(&RecordMeta::default(), &[1, 2, 3]).unwrap();
        }
        let (got, _) = read_all(std::fs::read(&p).unwrap());
        assert_eq!(got.len(), 1);
    }
}
