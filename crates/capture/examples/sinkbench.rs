//! Measures the file sink alone: synthetic ring blocks of small frames
//! written to a file, for choosing the copy break.
//!
//! `sinkbench FILE [--frame BYTES] [--blocks N] [--copy-break BYTES]
//!  [--format pcap|pcapng]`; prints CPU nanoseconds per frame.
use std::path::Path;

use sluice_capture::{FileOptions, FileSink};
use sluice_linux::block::synth::{SynthFrame, block};
use sluice_linux::block::{WalkOptions, walk};
use sluice_linux::{Framing, FramingKind};
use sluice_pcap::{Format, Interface};
use sluice_wire::LinkType;

fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<u64> = rest
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    (f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0)) as f64 / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: sinkbench FILE [options]")?;
    let (mut frame, mut blocks, mut copy_break, mut format) =
        (60usize, 2000usize, FileSink::COPY_BREAK, Format::PcapNg);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--frame" => frame = val()?.parse()?,
            "--blocks" => blocks = val()?.parse()?,
            "--copy-break" => copy_break = val()?.parse()?,
            "--format" => {
                format = match val()?.as_str() {
                    "pcap" => Format::Pcap,
                    _ => Format::PcapNg,
                }
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let per_block =
        ((1 << 20) - 64) / (sluice_linux::block::synth::MAC_OFFSET + frame).next_multiple_of(16);
    let frames: Vec<SynthFrame> = (0..per_block)
        .map(|i| SynthFrame {
            data: vec![i as u8; frame],
            sec: 1_700_000_000,
            nsec: i as u32,
            ..SynthFrame::default()
        })
        .collect();
    let b = block(1 << 20, &frames).ok_or("frames do not fit")?;
    let framing = Framing {
        kind: FramingKind::Raw {
            vlan_offset: Some(12),
        },
        snaplen: 262_144,
    };
    let opts = FileOptions {
        format,
        rotation: None,
    };
    let mut sink = FileSink::create(
        Path::new(&path),
        &opts,
        &[Interface::new(LinkType::ETHERNET, 262_144)],
    )?;
    sink.set_copy_break(copy_break);
    let cpu0 = cpu_seconds();
    let t0 = std::time::Instant::now();
    let mut n = 0u64;
    for _ in 0..blocks {
        let w = sink.write_frames(
            0,
            framing,
            walk(&b, WalkOptions::default()),
            per_block as u64,
            u64::MAX,
        )?;
        n += w.frames;
    }
    sink.finish(Vec::new())?;
    let cpu = cpu_seconds() - cpu0;
    println!(
        "frame={frame} copy_break={copy_break} frames={n} cpu_ns_per_frame={:.1} wall_ns_per_frame={:.1}",
        cpu * 1e9 / n as f64,
        t0.elapsed().as_secs_f64() * 1e9 / n as f64
    );
    Ok(())
}
