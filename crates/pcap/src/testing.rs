//! Checks shared by the fuzz targets and the crate's regression tests: feed
//! arbitrary bytes through every reader path and compare them.
//!
//! Not part of the stable API.

use std::io::Cursor;

use crate::meta::Record;
use crate::reader::{Leniency, Reader, ReaderOptions};

/// Records to look at per input, so that a fuzz run stays fast.
const MAX_RECORDS: usize = 100_000;

/// A compact description of one record: kind, offset, two numbers, a hash.
type Seen = (u8, u64, u64, u64, u64);

fn fnv(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn walk(mut r: Reader) -> Vec<Seen> {
    let mut seen = Vec::new();
    let mut last_pos = 0;
    while seen.len() < MAX_RECORDS {
        let Some(rec) = r.next_record() else { break };
        let s = match rec {
            Ok(Record::Frame(f)) => {
                assert!(f.data.len() <= 256 << 20, "frame larger than the limit");
                assert_eq!(f.caplen() as usize, f.data.len());
                (1, f.offset, f.ts_ns, u64::from(f.origlen), fnv(f.data))
            }
            Ok(Record::Section(s)) => (2, s.offset, u64::from(s.major), 0, 0),
            Ok(Record::Interface { id, interface }) => (
                3,
                interface.offset,
                u64::from(id),
                u64::from(interface.linktype.0),
                0,
            ),
            Ok(Record::Stats(s)) => (4, s.offset, s.ts_ns, s.ifrecv.unwrap_or(0), 0),
            Ok(Record::Names(n)) => (5, n.offset, n.entries.len() as u64, 0, 0),
            Ok(Record::Skipped(s)) => (6, s.offset, s.len, u64::from(s.block_type), 0),
            Ok(Record::Truncated(t)) => (7, t.offset, t.have, t.need, 0),
            Err(e) => (
                8,
                e.offset().unwrap_or(u64::MAX),
                0,
                0,
                fnv(e.to_string().as_bytes()),
            ),
        };
        assert!(r.position() >= last_pos, "the read position went back");
        last_pos = r.position();
        seen.push(s);
    }
    seen
}

/// Reads `data` in strict and lenient mode through the in-memory path and
/// the streaming path (with a tiny buffer so that it refills and grows),
/// checks that both see the same records, and exercises resync after
/// errors. Panics on any disagreement; must never panic otherwise.
pub fn exercise(data: &[u8]) {
    for leniency in [Leniency::Strict, Leniency::Lenient] {
        let opts = ReaderOptions {
            leniency,
            buffer_size: 64,
            ..ReaderOptions::default()
        };
        let whole = walk(Reader::from_bytes(data.to_vec(), opts.clone()));
        let stream = walk(Reader::from_read(Cursor::new(data.to_vec()), opts.clone()));
        assert_eq!(whole, stream, "whole and streamed reads differ");
        // frames-only iteration sees the same frames
        let mut r = Reader::from_bytes(data.to_vec(), opts.clone());
        let mut frames = 0;
        while let Some(Ok(_)) = r.next_frame() {
            frames += 1;
            if frames >= MAX_RECORDS {
                break;
            }
        }
        let want = whole.iter().filter(|s| s.0 == 1).count();
        assert!(
            frames == want || whole.len() >= MAX_RECORDS,
            "next_frame saw {frames} frames, next_record {want}"
        );
    }
    // Resync: after each error, move on by one byte, a bounded number of times.
    let mut r = Reader::from_read(Cursor::new(data.to_vec()), ReaderOptions::lenient());
    let mut budget = 16;
    let mut n = 0;
    while n < MAX_RECORDS {
        n += 1;
        match r.next_record() {
            Some(Ok(_)) => {}
            Some(Err(_)) if budget > 0 => {
                budget -= 1;
                let at = r.position() + 1;
                let _ = r.peek(at, 16);
                if r.resync_at(at).is_err() {
                    break;
                }
            }
            _ => break,
        }
    }
}
