//! `sluice convert IN OUT`: rewrite a capture as pcap or pcapng, with
//! microsecond or nanosecond timestamps.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use anyhow::Context;
use sluice_pcap::{Format, Writer, WriterOptions};
use sluice_process::convert::convert;

use crate::cmd::{display_name, open_input};
use crate::progress::Progress;

/// Runs `sluice convert`.
pub fn run(args: ConvertArgs) -> anyhow::Result<()> {
    let in_name = display_name(&args.input);
    let out_name = display_name(&args.output);
    let mut reader = open_input(&args.input)?;
    let format = match args.format {
        Some(FormatArg::Pcap) => Format::Pcap,
        Some(FormatArg::Pcapng) => Format::PcapNg,
        None => Format::from_path(&args.output).unwrap_or(Format::PcapNg),
    };
    // The input's first header decides the default resolution of a pcap
    // output: a nanosecond pcap stays nanosecond, anything else (a
    // microsecond pcap, or pcapng, whose interfaces each have their own
    // resolution) becomes a microsecond pcap, as editcap does. pcapng output
    // keeps nanoseconds unless told otherwise.
    let nanos = match args.ts {
        Some(TsArg::Ns) => true,
        Some(TsArg::Us) => false,
        None => match format {
            Format::PcapNg => true,
            Format::Pcap => reader
                .sniff()
                .with_context(|| format!("reading {in_name}"))?
                .is_some_and(|s| s.format == Format::Pcap && s.nanosecond),
        },
    };
    let mut writer = Writer::create(
        &args.output,
        WriterOptions::new(format)
            .nanos(nanos)
            .keep_cache(args.keep_cache),
    )
    .with_context(|| format!("creating {out_name}"))?;
    let progress = Progress::bytes(&in_name, reader.input_len());
    let result = convert(&mut reader, &mut writer, nanos, &mut |p| progress.set(p));
    progress.finish();
    // Whatever happened, finish the output so that it holds every frame
    // written so far and is a valid file.
    let finished = writer
        .finish()
        .with_context(|| format!("writing {out_name}"));
    let report = result.with_context(|| format!("converting {in_name} to {out_name}"))?;
    finished?;
    if report.dropped_metadata > 0 {
        eprintln!(
            "sluice: {} statistics/name blocks have no place in a pcap file and were left out",
            report.dropped_metadata
        );
    }
    if report.skipped_blocks > 0 {
        eprintln!(
            "sluice: {} unknown or custom blocks of the input were skipped",
            report.skipped_blocks
        );
    }
    if report.rounded_timestamps > 0 {
        eprintln!(
            "sluice: {} timestamps lost their nanoseconds (microsecond output)",
            report.rounded_timestamps
        );
    }
    Ok(())
}

/// Output capture format.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    /// Classic libpcap format.
    Pcap,
    /// pcap next generation.
    Pcapng,
}

/// Timestamp resolution of the output.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsArg {
    /// Nanoseconds.
    Ns,
    /// Microseconds.
    Us,
}

/// `sluice convert`
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input capture (`-` for stdin).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Output capture (`-` for stdout).
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// Output format; by default taken from OUT's extension
    /// (.pcap, .cap → pcap; .pcapng, .ntar → pcapng), else pcapng.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Timestamp resolution of the output (default: nanoseconds for pcapng;
    /// for pcap, the input's resolution).
    #[arg(long, value_enum)]
    pub ts: Option<TsArg>,
    /// Keep the written file in the page cache. By default its pages go to
    /// disk and leave the cache a few MiB behind the writer, so that a large
    /// output does not push everything else out of memory.
    #[arg(long)]
    pub keep_cache: bool,
}
