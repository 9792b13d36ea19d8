//! Where the reader's bytes come from: a whole input in memory (a memory
//! map or an owned buffer) or a stream read through a bounded buffer.
//!
//! Both present the same interface: make `need` bytes from absolute offset
//! `pos` available (`ensure`), then borrow them (`slice`). The stream drops
//! everything before `pos` when it refills, so the reader must never ask
//! for bytes before the record it is on.

use std::io::{self, Read};

use memmap2::Mmap;

/// Bytes held whole in memory.
pub(crate) enum Whole {
    Owned(Vec<u8>),
    Mapped(Mmap),
}

impl Whole {
    fn bytes(&self) -> &[u8] {
        match self {
            Whole::Owned(v) => v,
            Whole::Mapped(m) => m,
        }
    }
}

/// A byte source for the reader.
pub(crate) enum Input {
    Whole(Whole),
    Stream(Stream),
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
    #[inline]
    pub(crate) fn ensure(&mut self, pos: u64, need: usize) -> io::Result<usize> {
        match self {
            Input::Whole(w) => {
                let len = w.bytes().len() as u64;
                Ok(len.saturating_sub(pos).min(need as u64) as usize)
            }
            Input::Stream(s) => {
                let rel = (pos - s.base) as usize;
                if s.end >= rel && s.end - rel >= need {
                    return Ok(need);
                }
                s.fill(pos, need)
            }
        }
    }

    /// The bytes `pos..pos + len`, which an `ensure` made available.
    #[inline]
    pub(crate) fn slice(&self, pos: u64, len: usize) -> &[u8] {
        match self {
            Input::Whole(w) => {
                let start = pos as usize;
                &w.bytes()[start..start + len]
            }
            Input::Stream(s) => {
                let rel = (pos - s.base) as usize;
                &s.buf[rel..rel + len]
            }
        }
    }

    /// The size of the buffer a stream holds (0 for a whole input).
    pub(crate) fn buffer_len(&self) -> usize {
        match self {
            Input::Whole(_) => 0,
            Input::Stream(s) => s.buf.len(),
        }
    }

    /// The length of a whole input.
    pub(crate) fn whole_len(&self) -> Option<u64> {
        match self {
            Input::Whole(w) => Some(w.bytes().len() as u64),
            Input::Stream(_) => None,
        }
    }
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
    fn whole_bounds() {
        let mut w = Input::Whole(Whole::Owned(vec![1, 2, 3]));
        assert_eq!(w.ensure(0, 10).unwrap(), 3);
        assert_eq!(w.ensure(5, 10).unwrap(), 0);
        assert_eq!(w.slice(1, 2), &[2, 3]);
        assert_eq!(w.whole_len(), Some(3));
    }
}
