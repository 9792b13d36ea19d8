//! A minimal reader for classic pcap files (both byte orders, micro- and
//! nanosecond magic), enough to take frames from the shared capture corpus.
//! It stops at the first damaged record: the corpus is full of deliberately
//! broken files, and a few good frames from each are all the tests need.

use std::path::{Path, PathBuf};

use crate::packets::Frame;

/// The frames of one file: its linktype and up to `max` records.
pub fn read(path: &Path, max: usize) -> Option<(u32, Vec<Frame>)> {
    let data = std::fs::read(path).ok()?;
    if data.len() < 24 {
        return None;
    }
    let magic = [data[0], data[1], data[2], data[3]];
    let big = match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => false,
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => true,
        _ => return None,
    };
    let u32_at = |off: usize| -> Option<u32> {
        let b: [u8; 4] = data.get(off..off + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    };
    let linktype = u32_at(20)? & 0x0fff_ffff;
    let name = path.file_name()?.to_string_lossy().into_owned();
    let mut frames = Vec::new();
    let mut off = 24;
    while frames.len() < max {
        let (Some(caplen), Some(wirelen)) = (u32_at(off + 8), u32_at(off + 12)) else {
            break;
        };
        let start = off + 16;
        let end = start + caplen as usize;
        if caplen > 262_144 || end > data.len() {
            break;
        }
        frames.push(Frame {
            label: format!("{name}#{}", frames.len() + 1),
            bytes: data[start..end].to_vec(),
            wire_len: wirelen.max(caplen),
        });
        off = end;
    }
    Some((linktype, frames))
}

/// The shared capture corpus (`../shared/corpus/tcpdump-tests` from the
/// repository root).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/tcpdump-tests")
}

/// Up to `per_file` frames from every Ethernet file of the shared corpus,
/// `total` at most, in file-name order. Returns the frames and the number
/// of files they came from.
pub fn ethernet_frames(per_file: usize, total: usize) -> (Vec<Frame>, usize) {
    let dir = corpus_dir();
    let mut names: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("the capture corpus {} is missing: {e}", dir.display()),
    };
    names.sort();
    let mut out = Vec::new();
    let mut files = 0;
    for path in names {
        if out.len() >= total {
            break;
        }
        if let Some((1, frames)) = read(&path, per_file) {
            if !frames.is_empty() {
                files += 1;
            }
            out.extend(frames.into_iter().take(total - out.len()));
        }
    }
    (out, files)
}
