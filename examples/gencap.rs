//! Writes a deterministic capture of synthetic lab traffic (Ethernet with
//! VLAN and QinQ tags, ARP, IPv4, IPv6, TCP, UDP, ICMP, ICMPv6; realistic
//! sizes; nanosecond timestamps), for demos, tests and benchmarks.
//!
//!     cargo run --release --example gencap -- --count 10000 -w demo.pcapng
//!     cargo run --release --example gencap -- --size-mb 1024 -w big.pcap
//!
//! The format follows the file's extension (.pcap or .pcapng); the same
//! seed always gives the same file.

use clap::Parser;
use sluice::pcap::{Format, Interface, RecordMeta, Writer, WriterOptions};
use sluice::process::synth::{Synth, SynthOptions};
use sluice::wire::LinkType;

/// Generate a synthetic capture.
#[derive(Parser)]
struct Args {
    /// Output file (.pcap or .pcapng; `-` for stdout, written as pcapng).
    #[arg(short = 'w')]
    write: std::path::PathBuf,
    /// Number of frames.
    #[arg(long, conflicts_with = "size_mb")]
    count: Option<u64>,
    /// Stop once the file reaches this many MiB.
    #[arg(long)]
    size_mb: Option<u64>,
    /// Seed of the traffic mix.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Microsecond timestamps instead of nanoseconds.
    #[arg(long)]
    micro: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let format = Format::from_path(&args.write).unwrap_or(Format::PcapNg);
    let mut writer = Writer::create(&args.write, WriterOptions::new(format).nanos(!args.micro))?;
    let mut iface = Interface::new(LinkType::ETHERNET, 262_144);
    iface.name = Some("synth0".to_string());
    iface.description = Some("sluice synthetic lab traffic".to_string());
    writer.add_interface(&iface)?;
    let mut synth = Synth::new(SynthOptions {
        seed: args.seed,
        ..SynthOptions::default()
    });
    let max_frames = args.count.unwrap_or(if args.size_mb.is_some() {
        u64::MAX
    } else {
        10_000
    });
    let max_bytes = args.size_mb.map_or(u64::MAX, |m| m << 20);
    let mut n = 0;
    while n < max_frames && writer.bytes_written() < max_bytes {
        let (ts_ns, frame) = synth.next_frame();
        let meta = RecordMeta {
            interface_id: 0,
            ts_ns,
            origlen: frame.len() as u32,
            ..RecordMeta::default()
        };
        writer.write_packet(&meta, frame)?;
        n += 1;
    }
    writer.finish()?;
    eprintln!("wrote {n} frames to {}", args.write.display());
    Ok(())
}
