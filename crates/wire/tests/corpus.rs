//! Runs the dissector and the summary formatter over every capture in
//! tcpdump's test corpus (`../shared/corpus/tcpdump-tests` beside the
//! repository), which is full of odd and malformed frames. Nothing may
//! panic; every frame must be dissected and printed.
//!
//! The capture files are read with a small reader of our own (pcap and
//! pcapng, enough for this test), so this crate does not depend on the
//! capture-file crate above it.

use std::path::{Path, PathBuf};

use sluice_wire::LinkType;
use sluice_wire::dissect::{Classes, dissect_captured};
use sluice_wire::summary::{Summary, SummaryOptions};

/// One frame: link type, captured bytes, original length.
struct Frame<'a> {
    linktype: u32,
    data: &'a [u8],
    orig_len: usize,
}

fn u16_at(b: &[u8], at: usize, le: bool) -> Option<u16> {
    let s = b.get(at..at + 2)?;
    let a = [s[0], s[1]];
    Some(if le {
        u16::from_le_bytes(a)
    } else {
        u16::from_be_bytes(a)
    })
}

fn u32_at(b: &[u8], at: usize, le: bool) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    let a = [s[0], s[1], s[2], s[3]];
    Some(if le {
        u32::from_le_bytes(a)
    } else {
        u32::from_be_bytes(a)
    })
}

/// Reads the frames of a pcap or pcapng file, stopping quietly at the
/// first structural problem (the file reader proper is tested elsewhere).
fn frames(file: &[u8]) -> Vec<Frame<'_>> {
    let mut out = Vec::new();
    let Some(magic) = file.get(..4) else {
        return out;
    };
    match magic {
        [0xd4, 0xc3, 0xb2, 0xa1] | [0x4d, 0x3c, 0xb2, 0xa1] => pcap(file, true, &mut out),
        [0xa1, 0xb2, 0xc3, 0xd4] | [0xa1, 0xb2, 0x3c, 0x4d] => pcap(file, false, &mut out),
        [0x0a, 0x0d, 0x0d, 0x0a] => pcapng(file, &mut out),
        _ => {}
    }
    out
}

fn pcap<'a>(file: &'a [u8], le: bool, out: &mut Vec<Frame<'a>>) {
    let Some(linktype) = u32_at(file, 20, le) else {
        return;
    };
    let mut off = 24;
    while let (Some(cap), Some(orig)) = (u32_at(file, off + 8, le), u32_at(file, off + 12, le)) {
        let start = off + 16;
        let Some(data) = file.get(start..start + cap as usize) else {
            return;
        };
        out.push(Frame {
            linktype: linktype & 0x0fff_ffff,
            data,
            orig_len: orig as usize,
        });
        off = start + cap as usize;
    }
}

fn pcapng<'a>(file: &'a [u8], out: &mut Vec<Frame<'a>>) {
    let mut off = 0;
    let mut le = true;
    let mut ifaces: Vec<u32> = Vec::new();
    loop {
        let Some(kind) = u32_at(file, off, le) else {
            return;
        };
        if kind == 0x0a0d_0d0a {
            match file.get(off + 8..off + 12) {
                Some([0x4d, 0x3c, 0x2b, 0x1a]) => le = true,
                Some([0x1a, 0x2b, 0x3c, 0x4d]) => le = false,
                _ => return,
            }
            ifaces.clear();
        }
        let Some(len) = u32_at(file, off + 4, le).map(|l| l as usize) else {
            return;
        };
        if len < 12 || off + len > file.len() {
            return;
        }
        let body = &file[off + 8..off + len - 4];
        match kind {
            1 => ifaces.push(u16_at(body, 0, le).map_or(0, u32::from)),
            6 => {
                let (Some(ifc), Some(cap), Some(orig)) = (
                    u32_at(body, 0, le),
                    u32_at(body, 12, le),
                    u32_at(body, 16, le),
                ) else {
                    return;
                };
                let Some(data) = body.get(20..20 + cap as usize) else {
                    return;
                };
                let linktype = ifaces.get(ifc as usize).copied().unwrap_or(1);
                out.push(Frame {
                    linktype,
                    data,
                    orig_len: orig as usize,
                });
            }
            3 => {
                let Some(orig) = u32_at(body, 0, le) else {
                    return;
                };
                let data = &body[4..body.len().min(4 + orig as usize)];
                let linktype = ifaces.first().copied().unwrap_or(1);
                out.push(Frame {
                    linktype,
                    data,
                    orig_len: orig as usize,
                });
            }
            _ => {}
        }
        off += len;
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/tcpdump-tests")
}

#[test]
fn every_corpus_frame_dissects_and_prints_without_panic() {
    let dir = corpus_dir();
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) => panic!(
            "the tcpdump test corpus is needed at {}: {e}",
            dir.display()
        ),
    };
    let (mut files, mut total, mut malformed, mut truncated) = (0, 0, 0, 0);
    let mut text = String::new();
    let options = [
        SummaryOptions::default(),
        SummaryOptions {
            link_header: true,
            verbose: true,
        },
    ];
    for entry in entries {
        let path = entry.unwrap().path();
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        files += 1;
        for f in frames(&bytes) {
            total += 1;
            let d = dissect_captured(LinkType(f.linktype), f.data, f.orig_len);
            malformed += usize::from(d.classes().contains(Classes::MALFORMED));
            truncated += usize::from(d.classes().contains(Classes::TRUNCATED));
            for o in options {
                text.clear();
                use std::fmt::Write;
                write!(text, "{}", Summary::new(f.data, &d, o)).unwrap();
                assert!(!text.is_empty() || d.layers().is_empty());
            }
        }
        // The raw file bytes as one Ethernet "frame", and chunked, too.
        for chunk in bytes.chunks(1514) {
            let d = dissect_captured(LinkType::ETHERNET, chunk, 1514);
            let _ = Summary::new(chunk, &d, options[1]).to_string();
        }
    }
    println!(
        "corpus: {files} files, {total} frames, {malformed} malformed, {truncated} cut by snaplen"
    );
    assert!(files > 800, "only {files} files in {}", dir.display());
    assert!(total > 10_000, "only {total} frames read");
}
