//! `sluice convert`: copy a capture into another format or timestamp
//! resolution, keeping everything the output format can hold and counting
//! what it cannot.

use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::thread::JoinHandle;

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

/// An output written behind its caller's back: bytes are gathered into
/// chunks of 1 MiB that a thread writes, so that the kernel's copy of the
/// output (into the page cache, a pipe) runs beside the work that
/// produces it instead of in its path.
///
/// Memory is bounded: at most [`WriteBehind::DEPTH`] chunks are in flight,
/// and a writer that runs ahead waits for the thread. A write error is
/// returned by the next `write` or `flush` (with its kind, so that a
/// broken pipe is still recognised as one), and every call after it fails
/// the same way. `flush` returns once the thread has written and flushed
/// everything before it. Dropping the value writes what is left and waits
/// for the thread, so nothing is lost when a caller forgets to flush; only
/// `flush` reports errors.
pub struct WriteBehind {
    chunk: Vec<u8>,
    to_thread: Option<SyncSender<Job>>,
    from_thread: Receiver<Done>,
    /// Empty chunks back from the thread.
    spare: Vec<Vec<u8>>,
    /// Chunks allocated so far (at most `DEPTH + 1`, the one filled here
    /// included).
    allocated: usize,
    failed: Option<(io::ErrorKind, String)>,
    thread: Option<JoinHandle<()>>,
}

enum Job {
    Write(Vec<u8>),
    Flush,
}

enum Done {
    /// A written chunk, to fill again.
    Spare(Vec<u8>),
    /// The answer to a [`Job::Flush`].
    Flushed(io::Result<()>),
    Failed(io::Error),
}

impl std::fmt::Debug for WriteBehind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WriteBehind")
            .field("buffered", &self.chunk.len())
            .field("allocated", &self.allocated)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl WriteBehind {
    /// Bytes per chunk handed to the thread.
    pub const CHUNK: usize = 1 << 20;
    /// Chunks the thread may hold (queued or being written).
    pub const DEPTH: usize = 3;

    /// Starts the thread that writes into `out`.
    pub fn new(out: impl Write + Send + 'static) -> io::Result<WriteBehind> {
        let (to_thread, jobs) = sync_channel(Self::DEPTH);
        let (done, from_thread) = channel();
        let thread = std::thread::Builder::new()
            .name("sluice-write-behind".into())
            .spawn(move || write_behind(out, &jobs, &done))?;
        Ok(WriteBehind {
            chunk: Vec::with_capacity(Self::CHUNK),
            to_thread: Some(to_thread),
            from_thread,
            spare: Vec::new(),
            allocated: 1,
            failed: None,
            thread: Some(thread),
        })
    }

    fn error(&self) -> Option<io::Error> {
        self.failed
            .as_ref()
            .map(|(kind, msg)| io::Error::new(*kind, msg.clone()))
    }

    /// Takes in what the thread sent back; waits for something when
    /// `block` (the thread is then known to owe an answer).
    fn collect(&mut self, block: bool) -> Option<io::Result<()>> {
        let mut first = block;
        loop {
            let done = if first {
                first = false;
                match self.from_thread.recv() {
                    Ok(d) => d,
                    Err(_) => return Some(Err(self.gone())),
                }
            } else {
                match self.from_thread.try_recv() {
                    Ok(d) => d,
                    Err(_) => return None,
                }
            };
            match done {
                Done::Spare(v) => self.spare.push(v),
                Done::Failed(e) => {
                    self.failed.get_or_insert((e.kind(), e.to_string()));
                }
                Done::Flushed(r) => return Some(r),
            }
        }
    }

    fn gone(&mut self) -> io::Error {
        let e = io::Error::other("the output thread stopped");
        self.failed.get_or_insert((e.kind(), e.to_string()));
        e
    }

    /// Hands the current chunk to the thread and starts another.
    fn send_chunk(&mut self) -> io::Result<()> {
        self.collect(false);
        if let Some(e) = self.error() {
            return Err(e);
        }
        let next = match self.spare.pop() {
            Some(v) => v,
            None if self.allocated <= Self::DEPTH => {
                self.allocated += 1;
                Vec::with_capacity(Self::CHUNK)
            }
            None => loop {
                // Every chunk is with the thread: wait for one back.
                if let Some(r) = self.collect(true) {
                    r?;
                }
                if let Some(e) = self.error() {
                    return Err(e);
                }
                if let Some(v) = self.spare.pop() {
                    break v;
                }
            },
        };
        let full = std::mem::replace(&mut self.chunk, next);
        self.chunk.clear();
        match &self.to_thread {
            Some(tx) if tx.send(Job::Write(full)).is_ok() => Ok(()),
            _ => Err(self.gone()),
        }
    }
}

impl Write for WriteBehind {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(e) = self.error() {
            return Err(e);
        }
        let room = Self::CHUNK - self.chunk.len();
        let n = buf.len().min(room);
        self.chunk.extend_from_slice(&buf[..n]);
        if self.chunk.len() >= Self::CHUNK {
            self.send_chunk()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.chunk.is_empty() {
            self.send_chunk()?;
        }
        match &self.to_thread {
            Some(tx) if tx.send(Job::Flush).is_ok() => {}
            _ => return Err(self.gone()),
        }
        loop {
            if let Some(r) = self.collect(true) {
                r?;
                break;
            }
        }
        match self.error() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

impl Drop for WriteBehind {
    fn drop(&mut self) {
        if !self.chunk.is_empty() && self.failed.is_none() {
            let _ = self.send_chunk();
        }
        // Closing the channel ends the thread once it has written the rest.
        self.to_thread = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The thread of a [`WriteBehind`]: writes chunks in order until the first
/// error, then only hands chunks back.
fn write_behind(mut out: impl Write, jobs: &Receiver<Job>, done: &std::sync::mpsc::Sender<Done>) {
    let mut failed: Option<(io::ErrorKind, String)> = None;
    for job in jobs {
        match job {
            Job::Write(v) => {
                if failed.is_none()
                    && let Err(e) = out.write_all(&v)
                {
                    failed = Some((e.kind(), e.to_string()));
                    let _ = done.send(Done::Failed(e));
                }
                let _ = done.send(Done::Spare(v));
            }
            Job::Flush => {
                let r = match &failed {
                    Some((kind, msg)) => Err(io::Error::new(*kind, msg.clone())),
                    None => out.flush(),
                };
                let _ = done.send(Done::Flushed(r));
            }
        }
    }
    let _ = out.flush();
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

    /// Records writes, and fails from the `fail_at`-th on.
    #[derive(Clone)]
    struct Sink {
        got: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
        writes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
        fail_at: usize,
    }

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let n = self
                .writes
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if n >= self.fail_at {
                return Err(io::Error::new(io::ErrorKind::BrokenPipe, "pipe closed"));
            }
            let k = buf.len().min(100_000);
            self.got.lock().unwrap().extend_from_slice(&buf[..k]);
            Ok(k)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn sink(fail_at: usize) -> Sink {
        Sink {
            got: Default::default(),
            writes: Default::default(),
            fail_at,
        }
    }

    #[test]
    fn write_behind_keeps_order_and_bytes() {
        let s = sink(usize::MAX);
        let mut w = WriteBehind::new(s.clone()).unwrap();
        let mut want = Vec::new();
        for i in 0..20_000u32 {
            let rec: Vec<u8> = (0..(i % 700)).map(|b| (b ^ i) as u8).collect();
            w.write_all(&rec).unwrap();
            want.extend_from_slice(&rec);
        }
        w.flush().unwrap();
        assert_eq!(s.got.lock().unwrap().len(), want.len());
        assert!(*s.got.lock().unwrap() == want);
        assert!(w.allocated <= WriteBehind::DEPTH + 1);
        // dropping without a flush still writes the rest
        w.write_all(b"tail").unwrap();
        drop(w);
        assert!(s.got.lock().unwrap().ends_with(b"tail"));
    }

    #[test]
    fn write_behind_reports_the_first_error_with_its_kind() {
        let s = sink(3);
        let mut w = WriteBehind::new(s).unwrap();
        let block = vec![7u8; WriteBehind::CHUNK];
        let mut err = None;
        for _ in 0..50 {
            if let Err(e) = w.write_all(&block) {
                err = Some(e);
                break;
            }
        }
        let err = match err {
            Some(e) => e,
            None => w.flush().unwrap_err(),
        };
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
        assert!(err.to_string().contains("pipe closed"), "{err}");
        assert_eq!(w.write(b"x").unwrap_err().kind(), io::ErrorKind::BrokenPipe);
        assert_eq!(w.flush().unwrap_err().kind(), io::ErrorKind::BrokenPipe);
    }

    #[test]
    fn write_behind_under_a_capture_writer() {
        let ng = capture(Format::PcapNg, &[LinkType::ETHERNET]);
        let s = sink(usize::MAX);
        let mut r = Reader::from_bytes(ng.clone(), ReaderOptions::default());
        let mut w = Writer::new(
            WriteBehind::new(s.clone()).unwrap(),
            WriterOptions::new(Format::PcapNg),
        )
        .unwrap();
        convert(&mut r, &mut w, true, &mut |_| {}).unwrap();
        drop(w.finish().unwrap());
        assert_eq!(frames(s.got.lock().unwrap().clone()), frames(ng));
    }
}
