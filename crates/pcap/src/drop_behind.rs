//! Drop-behind for output files: what a writer has written goes to disk and
//! leaves the page cache a little behind the writer.
//!
//! A capture file is written once, from start to end, and not read again
//! soon. Left to itself the kernel keeps every written page in memory until
//! it needs the room: converting a 100 GB capture would push everything else
//! the machine caches out of memory and leave gigabytes of dirty pages to
//! write after the program has exited. [`DropBehind`] asks the kernel to
//! start writing each 8 MiB chunk as soon as it is complete and to drop the
//! chunks a few behind the writer once they are on disk
//! (`posix_fadvise(POSIX_FADV_DONTNEED)`, which only drops clean pages and
//! never waits). The page cache then holds a window of about 40 MiB of the
//! file whatever its size, and the writer keeps reusing the same recently
//! freed pages, which is also faster than taking fresh ones: on a virtual
//! machine whose free memory goes back to the host, every fresh page costs
//! a fault in the host.
//!
//! The advice is a hint: when the kernel refuses it (a pipe, a file system
//! that does not support it) the wrapper stops giving it and writes on
//! unchanged. Data is never affected.

use std::fs::File;
use std::io::{self, IoSlice, Seek, Write};
use std::num::NonZeroU64;
use std::path::Path;

use rustix::fs::{Advice, OFlags, fadvise, fcntl_getfl};

use crate::error::Error;

/// A chunk: writeback of each one starts when it is complete.
const CHUNK: u64 = 8 << 20;
/// How far behind the writer chunks are dropped from the page cache.
const WINDOW: u64 = 32 << 20;

/// A file written from start to end whose written pages are sent to disk and
/// dropped from the page cache behind the writer (see the module text).
#[derive(Debug)]
pub struct DropBehind {
    file: File,
    /// File offset of the next byte written.
    pos: u64,
    /// Writeback was asked for below this offset.
    started: u64,
    /// Pages were dropped below this offset.
    dropped: u64,
    /// Whether advice is given: a regular file, advice not refused.
    active: bool,
}

impl DropBehind {
    /// Wraps a file opened for writing. The advice is given only when `file`
    /// is a regular file and `keep_cache` is false; otherwise the wrapper
    /// only passes writes through.
    pub fn new(mut file: File, keep_cache: bool) -> DropBehind {
        let pos = match file.metadata() {
            Ok(m) if m.is_file() && !keep_cache => {
                // A file opened for appending writes at its end, wherever
                // the descriptor's position is.
                let append = fcntl_getfl(&file).is_ok_and(|f| f.contains(OFlags::APPEND));
                if append {
                    Some(m.len())
                } else {
                    file.stream_position().ok()
                }
            }
            _ => None,
        };
        DropBehind {
            file,
            pos: pos.unwrap_or(0),
            started: pos.unwrap_or(0),
            dropped: pos.unwrap_or(0),
            active: pos.is_some(),
        }
    }

    /// Creates (truncates) the file at `path`, or takes stdout for `-` (a
    /// plain descriptor: `Stdout` would split large writes at newlines),
    /// and wraps it as [`DropBehind::new`] does.
    pub fn create(path: &Path, keep_cache: bool) -> Result<DropBehind, Error> {
        let file = if path.as_os_str() == "-" {
            use std::os::fd::AsFd;
            let fd = io::stdout()
                .as_fd()
                .try_clone_to_owned()
                .map_err(|e| Error::io("duplicating stdout", e))?;
            File::from(fd)
        } else {
            File::create(path).map_err(|e| Error::io(format!("creating {}", path.display()), e))?
        };
        Ok(DropBehind::new(file, keep_cache))
    }

    /// Whether the wrapper gives advice (a regular file, not refused so far).
    pub fn is_active(&self) -> bool {
        self.active
    }

    /// The file.
    pub fn get_ref(&self) -> &File {
        &self.file
    }

    /// The file back.
    pub fn into_inner(self) -> File {
        self.file
    }

    /// Counts `n` bytes written and advises on the chunks that became
    /// complete or fell out of the window.
    fn advance(&mut self, n: usize) {
        if !self.active {
            return;
        }
        self.pos += n as u64;
        while self.active && self.pos - self.started >= CHUNK {
            // Starts writeback of the chunk just completed (its pages are
            // dirty, so none is dropped yet).
            self.advise(self.started);
            self.started += CHUNK;
        }
        while self.active && self.started - self.dropped > WINDOW {
            // By now the chunk's writeback has usually completed and its
            // pages are clean; any still being written stay.
            self.advise(self.dropped);
            self.dropped += CHUNK;
        }
    }

    fn advise(&mut self, offset: u64) {
        if fadvise(&self.file, offset, NonZeroU64::new(CHUNK), Advice::DontNeed).is_err() {
            self.active = false;
        }
    }
}

impl Write for DropBehind {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.advance(n);
        Ok(n)
    }

    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let n = self.file.write_vectored(bufs)?;
        self.advance(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Writes a file several windows long through the wrapper in odd-sized
    /// pieces and reads it back: the advice never changes the data.
    #[test]
    fn data_unchanged_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        let mut w = DropBehind::new(File::create(&path).unwrap(), false);
        assert!(w.is_active());
        let total = (WINDOW + 3 * CHUNK + 12345) as usize;
        let mut expect = Vec::with_capacity(total);
        let mut i = 0u32;
        while expect.len() < total {
            let len = (977 * (i as usize % 1500) + 1).min(total - expect.len());
            let piece: Vec<u8> = (0..len).map(|k| (k as u32 ^ i) as u8).collect();
            if i.is_multiple_of(3) {
                let (a, b) = piece.split_at(len / 2);
                let n = w
                    .write_vectored(&[IoSlice::new(a), IoSlice::new(b)])
                    .unwrap();
                expect.extend_from_slice(&piece[..n]);
            } else {
                w.write_all(&piece).unwrap();
                expect.extend_from_slice(&piece);
            }
            i += 1;
        }
        w.flush().unwrap();
        assert!(w.is_active(), "the advice was refused on a regular file");
        assert!(w.dropped > 0, "no chunk fell out of the window");
        drop(w.into_inner());
        let mut got = Vec::new();
        File::open(&path).unwrap().read_to_end(&mut got).unwrap();
        assert!(got == expect, "file differs from what was written");
    }

    /// Writing after a seek (a file opened for appending, stdout into a
    /// file) counts from the starting position.
    #[test]
    fn starts_at_current_position() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.bin");
        std::fs::write(&path, b"head").unwrap();
        let f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let mut w = DropBehind::new(f, false);
        assert_eq!(w.pos, 4);
        w.write_all(b"tail").unwrap();
        assert_eq!(w.pos, 8);
        assert_eq!(std::fs::read(&path).unwrap(), b"headtail");
    }

    /// A pipe or a kept cache gets no advice.
    #[test]
    fn inactive_when_not_wanted_or_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let w = DropBehind::new(File::create(dir.path().join("a")).unwrap(), true);
        assert!(!w.is_active());
        let (_r, tx) = io::pipe().unwrap();
        let w = DropBehind::new(File::from(std::os::fd::OwnedFd::from(tx)), false);
        assert!(!w.is_active());
    }
}
