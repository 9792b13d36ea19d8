//! Where the reader's bytes come from: a capture held in memory, a window
//! mapped over a regular file, or a stream read through a bounded buffer.
//!
//! All present the same interface: make `need` bytes from absolute offset
//! `pos` available (`ensure`), then borrow them (`slice`). The stream and
//! the mapped window drop everything before `pos` when they move on, so
//! the reader must never ask for bytes before the record it is on (the
//! window maps them again if it is asked, the stream refuses).
//!
//! # Why the window touches ahead
//!
//! Walking a mapped capture is a chain of dependent loads: where a record
//! starts is known only once the previous record's length has been read.
//! Records of a few hundred bytes defeat the hardware prefetcher, so each
//! step waits for memory (about 130 ns per record on the machines
//! measured), and a plain walk over a mapping was twice as slow as
//! `read()` into a buffer, which streams. Touching one byte of every cache
//! line a few KiB ahead of the record (loads whose values nothing waits
//! for) keeps many misses in flight and turns the walk into a stream
//! again: less CPU time than `read()`, which must copy every byte.
//!
//! # Why a window
//!
//! Pages of a mapping count in the process's resident set. The window is a
//! few MiB of the file, mapped again further on when the reader reaches
//! its end, so memory stays bounded whatever the file size; a record
//! larger than the window gets a window of its size (bounded by the
//! reader's `max_record`).

use std::fs::File;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use memmap2::{Mmap, MmapOptions};

/// A byte source for the reader.
pub(crate) enum Input {
    /// A whole capture in memory.
    Owned(Vec<u8>),
    /// A regular file, through a mapped window.
    Mapped(MapWindow),
    /// Anything else, through a buffer.
    Stream(Stream),
}

/// Bytes mapped at a time.
const WINDOW: usize = 4 << 20;
/// Files longer than this many windows get a helper thread.
const AHEAD_MIN_WINDOWS: u64 = 3;
/// Windows start at a multiple of this: a multiple of every page size, and
/// of the huge page size, so that a file whose page cache holds huge folios
/// can be mapped with huge pages (no page faults to speak of, and far
/// fewer TLB misses).
const WINDOW_ALIGN: u64 = 2 << 20;
/// How far ahead of the record the window touches its lines.
const TOUCH_AHEAD: u64 = 4 << 10;
/// The stride of the touches: a cache line.
const LINE: u64 = 64;
/// The stride of the helper's touches. A fault maps the pages around the
/// one touched (64 KiB by default, `fault_around_bytes`), or a whole huge
/// page, so touching every 4 KiB page mostly paid for TLB and cache misses
/// on pages already mapped: at 16 KiB the helper took about a tenth less
/// time. Were fault-around smaller, the reader would fault in the rest
/// itself.
const FAULT_STRIDE: usize = 16 << 10;

/// A window mapped over a regular file; see the module docs.
pub(crate) struct MapWindow {
    file: File,
    /// The file's length as last seen (checked again at each new window
    /// and when the reader reaches it, so that a growing file is followed).
    len: u64,
    map: Option<Mmap>,
    /// Absolute offset of the window's first byte.
    base: u64,
    /// Absolute offset of the byte after the window's last.
    end: u64,
    /// Lines before this absolute offset have been touched.
    touched: u64,
    /// The largest window mapped, for [`Input::buffer_len`].
    largest: usize,
    /// The usual window size.
    window: usize,
    /// Windows taken from the helper so far.
    taken_ahead: u64,
    /// Records mapped on their own because they cross into the helper's
    /// next window.
    bridges: u64,
    /// The helper that maps the windows to come, when there is one.
    ahead: Option<Ahead>,
}

/// A thread that maps the next windows of a file and faults their pages
/// in, and unmaps the windows the reader is done with, so that the page
/// table work runs beside the reader instead of in its path.
///
/// The helper maps the file in consecutive windows of `window` bytes. The
/// reader takes the next one when it reaches it; a record that crosses
/// from one window into the next is mapped on its own (a page or two,
/// once per window). Anything out of order (a jump back or forward, a read
/// past the end the helper knew) stops the helper; the reader maps a
/// window itself and starts a new helper after it.
struct Ahead {
    /// Windows ready to use, in file order; a rendezvous channel, so the
    /// helper stays one window ahead.
    ready: Receiver<io::Result<Mmap>>,
    /// Windows the reader is done with, for the helper to unmap.
    done: Sender<Mmap>,
    /// Absolute offset of the next window's first byte.
    next: u64,
    /// Where the helper stops (the file's length when it started).
    len: u64,
}

impl Ahead {
    /// Starts a helper mapping windows from `start` up to `len`.
    fn spawn(file: &File, start: u64, len: u64, window: usize) -> Option<Ahead> {
        let file = file.try_clone().ok()?;
        let (ready_tx, ready) = sync_channel(0);
        let (done, done_rx) = channel();
        std::thread::Builder::new()
            .name("sluice-map-ahead".into())
            .spawn(move || map_ahead(&file, start, len, window, ready_tx, &done_rx))
            .ok()?;
        Some(Ahead {
            ready,
            done,
            next: start,
            len,
        })
    }
}

/// The helper's loop (see [`Ahead`]).
fn map_ahead(
    file: &File,
    mut base: u64,
    len: u64,
    window: usize,
    ready: SyncSender<io::Result<Mmap>>,
    done: &Receiver<Mmap>,
) {
    while base < len {
        let map_len = (window as u64).min(len - base) as usize;
        let map = map_window(file, base, map_len);
        if let Ok(m) = &map {
            advise(m);
            fault_in(m);
        }
        let failed = map.is_err();
        if ready.send(map).is_err() || failed {
            return;
        }
        // Unmap what the reader has let go of since.
        while let Ok(old) = done.try_recv() {
            drop(old);
        }
        base += window as u64;
    }
    // No more windows: the reader maps what lies beyond (a file that grew)
    // itself. Unmap the last windows as they come back, until it hangs up.
    drop(ready);
    while let Ok(old) = done.recv() {
        drop(old);
    }
}

/// Tells the kernel how a window is read: in order (read ahead of it), and
/// with huge pages where it can. Pages the page cache does not hold yet
/// are then read in as huge folios, which later mappings of the file map
/// with one entry per 2 MiB instead of 512 (measured: mapping, touching
/// and unmapping 256 MiB of cached pages in 4 MiB windows took 2 ms that
/// way, 5 to 8 ms with the large folios of buffered writes, and 26 to
/// 32 ms with 4 KiB ones). Advice is a hint: failures are ignored.
fn advise(map: &Mmap) {
    let _ = map.advise(memmap2::Advice::Sequential);
    #[cfg(target_os = "linux")]
    let _ = map.advise(memmap2::Advice::HugePage);
}

/// Touches the window every `FAULT_STRIDE` bytes, so that the kernel maps
/// its pages now.
fn fault_in(bytes: &[u8]) {
    let mut acc = 0u8;
    for b in bytes.iter().step_by(FAULT_STRIDE) {
        acc ^= *b;
    }
    std::hint::black_box(acc);
}

impl MapWindow {
    /// A window over `file` if it is a regular file that maps; `None` for
    /// pipes, devices, empty files and mapping failures, which the caller
    /// reads through a [`Stream`] instead. The first window is mapped now.
    pub(crate) fn open(file: File) -> Result<MapWindow, File> {
        MapWindow::with_window(file, WINDOW)
    }

    fn with_window(file: File, window: usize) -> Result<MapWindow, File> {
        let len = match file.metadata() {
            Ok(m) if m.is_file() && m.len() > 0 => m.len(),
            _ => return Err(file),
        };
        let mut w = MapWindow {
            file,
            len,
            map: None,
            base: 0,
            end: 0,
            touched: 0,
            largest: 0,
            window,
            taken_ahead: 0,
            bridges: 0,
            ahead: None,
        };
        match w.remap(0, 1) {
            Ok(n) if n > 0 => Ok(w),
            _ => Err(w.file),
        }
    }

    /// Makes `map` the window, from `base`, touched from `pos`.
    fn install(&mut self, map: Mmap, base: u64, pos: u64) {
        self.base = base;
        self.end = base + map.len() as u64;
        self.touched = pos - pos % LINE;
        self.largest = self.largest.max(map.len());
        let old = self.map.replace(map);
        // The helper unmaps the old window, off the reader's path.
        if let (Some(old), Some(a)) = (old, &self.ahead) {
            let _ = a.done.send(old);
        }
    }

    /// Serves `pos..pos + need` from the helper while reading goes on in
    /// file order: takes its next window when the bytes start in it, maps
    /// a record that crosses into it on its own. `None` when the request
    /// is out of order (and the helper is stopped).
    fn serve_ahead(&mut self, pos: u64, need: usize) -> io::Result<Option<usize>> {
        let Some(a) = &self.ahead else {
            return Ok(None);
        };
        let want_end = pos.saturating_add(need as u64);
        let window = self.window as u64;
        if pos >= a.next && pos < a.next + window {
            let next = a.next;
            let map = match a.ready.try_recv() {
                Ok(m) => Ok(m),
                Err(_) => {
                    // The helper is behind: unmap the old window here
                    // while waiting for it.
                    self.map = None;
                    a.ready.recv()
                }
            };
            let Ok(Ok(map)) = map else {
                self.ahead = None;
                return Ok(None);
            };
            if let Some(a) = &mut self.ahead {
                a.next += window;
            }
            self.taken_ahead += 1;
            if want_end <= next + map.len() as u64 {
                self.install(map, next, pos);
                return Ok(Some(need));
            }
            // A record that runs on into the window after: map it alone.
            self.install(map, next, pos);
        }
        let Some(a) = &self.ahead else {
            return Ok(None);
        };
        if pos >= self.base && pos < a.next && want_end > a.next && want_end <= a.len {
            let base = pos - pos % LINE;
            let map = map_window(&self.file, base, (want_end - base) as usize)?;
            self.install(map, base, pos);
            self.bridges += 1;
            return Ok(Some(need));
        }
        self.ahead = None;
        Ok(None)
    }

    /// Maps a window that holds `pos..pos + need` (or up to the end of the
    /// file) and returns how many of those bytes it holds.
    #[cold]
    fn remap(&mut self, pos: u64, need: usize) -> io::Result<usize> {
        if let Some(n) = self.serve_ahead(pos, need)? {
            return Ok(n);
        }
        // Follow a file that grew or shrank since the last look.
        self.len = self.file.metadata()?.len();
        self.map = None;
        if pos >= self.len {
            self.base = pos;
            self.end = pos;
            self.touched = pos;
            return Ok(0);
        }
        // (Smaller windows, in tests, align to their size.)
        let base = pos - pos % WINDOW_ALIGN.min(self.window as u64);
        let want = (pos - base)
            .saturating_add(need as u64)
            .max(self.window as u64);
        let map_len = want.min(self.len - base);
        let map_len = usize::try_from(map_len).map_err(|_| io::Error::other("window too large"))?;
        let map = map_window(&self.file, base, map_len)?;
        advise(&map);
        self.install(map, base, pos);
        // A long way to go: let a helper map the windows that follow.
        let next = base + self.window as u64;
        if self.end <= next
            && self.len.saturating_sub(next) > AHEAD_MIN_WINDOWS * self.window as u64
        {
            self.ahead = Ahead::spawn(&self.file, next, self.len, self.window);
        }
        Ok((self.end - pos).min(need as u64) as usize)
    }

    #[inline]
    fn bytes(&self) -> &[u8] {
        match &self.map {
            Some(m) => m,
            None => &[],
        }
    }

    #[inline(always)]
    fn ensure(&mut self, pos: u64, need: usize) -> io::Result<usize> {
        let end = pos.saturating_add(need as u64);
        if pos >= self.base && end <= self.end {
            if end + TOUCH_AHEAD > self.touched && self.touched < self.end {
                self.touch_ahead(end);
            }
            return Ok(need);
        }
        self.remap(pos, need)
    }

    /// Touches one byte of each line up to `TOUCH_AHEAD` past `end`.
    #[inline(never)]
    fn touch_ahead(&mut self, end: u64) {
        let to = (end + TOUCH_AHEAD).min(self.end);
        if self.touched >= to {
            return;
        }
        let bytes = self.bytes();
        let mut at = (self.touched - self.base) as usize;
        let stop = (to - self.base) as usize;
        let mut acc = 0u8;
        while at < stop {
            acc ^= bytes[at];
            at += LINE as usize;
        }
        std::hint::black_box(acc);
        self.touched = self.base + at as u64;
    }
}

/// Maps `len` bytes of `file` from `offset`, read-only.
#[allow(unsafe_code)]
fn map_window(file: &File, offset: u64, len: usize) -> io::Result<Mmap> {
    // SAFETY: `map` is unsafe because the mapped file may be changed or
    // truncated by another process while the map is alive. Changed bytes
    // appear in the slice; the reader treats every byte as untrusted and
    // checks every length before use, so that can produce errors but not
    // memory unsafety. Reading pages that a truncation removed raises
    // SIGBUS: the window is sized from a fresh look at the file's length
    // each time it moves, which narrows that to a truncation during the
    // few milliseconds one window is read, a caveat the crate docs state.
    unsafe { MmapOptions::new().offset(offset).len(len).map(file) }
}

/// A reader with a buffer that holds the current record and what was read
/// ahead of it; it grows only to the largest record asked for.
pub(crate) struct Stream {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Absolute offset of `buf[0]`.
    base: u64,
    /// Valid bytes in `buf`.
    end: usize,
    eof: bool,
}

impl Stream {
    pub(crate) fn new(inner: Box<dyn Read + Send>, capacity: usize) -> Stream {
        Stream {
            inner,
            buf: vec![0; capacity.max(64)],
            base: 0,
            end: 0,
            eof: false,
        }
    }
}

impl Input {
    /// Makes up to `need` bytes from `pos` available and returns how many
    /// are (fewer only at the end of the input).
    #[inline(always)]
    pub(crate) fn ensure(&mut self, pos: u64, need: usize) -> io::Result<usize> {
        match self {
            Input::Owned(v) => Ok((v.len() as u64).saturating_sub(pos).min(need as u64) as usize),
            Input::Mapped(m) => m.ensure(pos, need),
            Input::Stream(s) => {
                if pos < s.base {
                    return Err(behind(pos, s.base));
                }
                let rel = (pos - s.base) as usize;
                if s.end >= rel && s.end - rel >= need {
                    return Ok(need);
                }
                s.fill(pos, need)
            }
        }
    }

    /// The bytes `pos..pos + len`, which an `ensure` made available.
    #[inline(always)]
    pub(crate) fn slice(&self, pos: u64, len: usize) -> &[u8] {
        match self {
            Input::Owned(v) => {
                let start = pos as usize;
                &v[start..start + len]
            }
            Input::Mapped(m) => {
                let start = (pos - m.base) as usize;
                &m.bytes()[start..start + len]
            }
            Input::Stream(s) => {
                let rel = (pos - s.base) as usize;
                &s.buf[rel..rel + len]
            }
        }
    }

    /// The size of the buffer a stream holds, or of the largest window
    /// mapped (0 for bytes held in memory).
    pub(crate) fn buffer_len(&self) -> usize {
        match self {
            Input::Owned(_) => 0,
            Input::Mapped(m) => m.largest,
            Input::Stream(s) => s.buf.len(),
        }
    }

    /// The length of an input held in memory or mapped (as last seen).
    pub(crate) fn whole_len(&self) -> Option<u64> {
        match self {
            Input::Owned(v) => Some(v.len() as u64),
            Input::Mapped(m) => Some(m.len),
            Input::Stream(_) => None,
        }
    }
}

/// The error for bytes a stream has already let go.
#[cold]
fn behind(pos: u64, base: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("offset {pos} lies before the buffered bytes, which start at {base}"),
    )
}

impl Stream {
    #[cold]
    fn fill(&mut self, pos: u64, need: usize) -> io::Result<usize> {
        let rel = (pos - self.base) as usize;
        if rel >= self.end {
            // Skipping forward past everything buffered (a resync).
            let mut gap = pos - self.base - self.end as u64;
            self.base = pos;
            self.end = 0;
            while gap > 0 && !self.eof {
                let chunk = gap.min(self.buf.len() as u64) as usize;
                let n = read_some(&mut *self.inner, &mut self.buf[..chunk])?;
                if n == 0 {
                    self.eof = true;
                }
                gap -= n as u64;
            }
            if gap > 0 {
                // The input ended before `pos`: nothing is available there.
                self.base = pos;
                return Ok(0);
            }
        } else if rel > 0 {
            self.buf.copy_within(rel..self.end, 0);
            self.end -= rel;
            self.base = pos;
        }
        while self.end < need && !self.eof {
            if self.end == self.buf.len() {
                // Grow only as bytes arrive, so that a corrupt length field
                // cannot make the reader allocate for data that is not
                // there: double, up to what this record needs (the reader
                // has checked that against its limit).
                let grown = (self.buf.len() * 2).min(need);
                self.buf.resize(grown, 0);
            }
            let n = read_some(&mut *self.inner, &mut self.buf[self.end..])?;
            if n == 0 {
                self.eof = true;
            }
            self.end += n;
        }
        Ok(self.end.min(need))
    }
}

fn read_some(r: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match r.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out at most 3 bytes per read, to exercise refills.
    struct Dribble(Vec<u8>, usize);
    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len() - self.1);
            buf[..n].copy_from_slice(&self.0[self.1..self.1 + n]);
            self.1 += n;
            Ok(n)
        }
    }

    #[test]
    fn stream_refills_grows_and_skips() {
        let data: Vec<u8> = (0..=255).collect();
        let mut s = Input::Stream(Stream::new(Box::new(Dribble(data.clone(), 0)), 8));
        assert_eq!(s.ensure(0, 4).unwrap(), 4);
        assert_eq!(s.slice(0, 4), &[0, 1, 2, 3]);
        assert_eq!(s.ensure(2, 20).unwrap(), 20);
        assert_eq!(s.slice(2, 20), &data[2..22]);
        assert!(s.buffer_len() >= 20);
        // jump beyond the buffered bytes
        assert_eq!(s.ensure(100, 10).unwrap(), 10);
        assert_eq!(s.slice(100, 10), &data[100..110]);
        // end of input
        assert_eq!(s.ensure(250, 10).unwrap(), 6);
        assert_eq!(s.slice(250, 6), &data[250..256]);
        assert_eq!(s.ensure(256, 10).unwrap(), 0);
        assert_eq!(s.ensure(300, 10).unwrap(), 0);
    }

    #[test]
    fn stream_refuses_bytes_it_let_go() {
        let data: Vec<u8> = (0..=255).collect();
        let mut s = Input::Stream(Stream::new(Box::new(Dribble(data, 0)), 8));
        assert_eq!(s.ensure(100, 4).unwrap(), 4);
        let e = s.ensure(10, 4).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("offset 10"), "{e}");
    }

    fn pattern(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 251) as u8).collect()
    }

    fn mapped(path: &std::path::Path, window: usize) -> MapWindow {
        let f = File::open(path).unwrap();
        MapWindow::with_window(f, window).unwrap_or_else(|_| panic!("a regular file maps"))
    }

    fn taken(m: &Input) -> (u64, u64) {
        match m {
            Input::Mapped(w) => (w.taken_ahead, w.bridges),
            _ => (0, 0),
        }
    }

    #[test]
    fn window_slides_maps_back_and_grows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data = pattern(1_000_003);
        std::fs::write(&path, &data).unwrap();
        let mut m = Input::Mapped(mapped(&path, 64 << 10));
        assert_eq!(m.whole_len(), Some(1_000_003));
        // walk in records of 700 bytes, across many windows the helper maps
        let mut pos = 0u64;
        while pos < 1_000_003 {
            let have = m.ensure(pos, 700).unwrap();
            assert_eq!(have, 700.min(1_000_003 - pos as usize));
            assert_eq!(m.slice(pos, have), &data[pos as usize..pos as usize + have]);
            pos += 700;
        }
        let (windows, bridges) = taken(&m);
        assert!(windows >= 10 && bridges >= 10, "{windows} {bridges}");
        assert_eq!(m.ensure(1_000_003, 10).unwrap(), 0);
        assert_eq!(m.ensure(2_000_000, 10).unwrap(), 0);
        // back to the start (random access), a span larger than the window
        assert_eq!(m.ensure(5, 300_000).unwrap(), 300_000);
        assert_eq!(m.slice(5, 300_000), &data[5..300_005]);
        assert!(
            m.buffer_len() >= 300_005 && m.buffer_len() < 400_000,
            "{}",
            m.buffer_len()
        );
        // records of several pages, across windows
        let mut pos = 300_005u64;
        while pos < 900_000 {
            assert_eq!(m.ensure(pos, 10_000).unwrap(), 10_000);
            assert_eq!(
                m.slice(pos, 10_000),
                &data[pos as usize..pos as usize + 10_000]
            );
            pos += 10_000;
        }
        // the file grows: the end moves with it
        let mut more = data.clone();
        more.extend(pattern(5000));
        std::fs::write(&path, &more).unwrap();
        assert_eq!(m.ensure(1_000_000, 100).unwrap(), 100);
        assert_eq!(m.slice(1_000_000, 100), &more[1_000_000..1_000_100]);
        assert_eq!(m.whole_len(), Some(1_005_003));
    }

    #[test]
    fn window_helper_covers_every_offset() {
        // Records of many lengths, at every phase against the window
        // boundaries, some longer than a window: every one is served, and
        // reading in order keeps to the helper's windows.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data = pattern(3_000_000);
        std::fs::write(&path, &data).unwrap();
        for step in [1usize, 61, 700, 4095, 4096, 4097, 8192] {
            let mut m = Input::Mapped(mapped(&path, 64 << 10));
            let mut pos = 0u64;
            let mut n = 0usize;
            while (pos as usize) < data.len() {
                let need = match n % 97 {
                    0 => 100 << 10,
                    k if k % 7 == 0 => 8 << 10,
                    _ => step,
                };
                let have = m.ensure(pos, need).unwrap();
                let want = need.min(data.len() - pos as usize);
                assert_eq!(have, want);
                let s = m.slice(pos, have);
                assert_eq!(s[0], data[pos as usize]);
                assert_eq!(s[have - 1], data[pos as usize + have - 1]);
                pos += step as u64;
                n += 1;
            }
            let (windows, _) = taken(&m);
            assert!(windows >= 20, "step {step}: {windows}");
        }
    }

    #[test]
    fn only_regular_nonempty_files_map() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("e");
        std::fs::write(&empty, b"").unwrap();
        assert!(MapWindow::open(File::open(&empty).unwrap()).is_err());
        assert!(MapWindow::open(File::open(dir.path()).unwrap()).is_err());
        if let Ok(null) = File::open("/dev/null") {
            assert!(MapWindow::open(null).is_err());
        }
    }

    #[test]
    fn owned_bounds() {
        let mut w = Input::Owned(vec![1, 2, 3]);
        assert_eq!(w.ensure(0, 10).unwrap(), 3);
        assert_eq!(w.ensure(5, 10).unwrap(), 0);
        assert_eq!(w.slice(1, 2), &[2, 3]);
        assert_eq!(w.whole_len(), Some(3));
    }
}
