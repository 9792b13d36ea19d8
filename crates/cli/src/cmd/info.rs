//! `sluice info FILE...`: capinfos-like summaries, as text or JSON.

use std::path::PathBuf;

use clap::Args;

use std::io::Write;

use anyhow::Context;
use sluice_process::info::{Info, summarize};

use crate::cmd::{display_name, open_input};
use crate::progress::Progress;
use crate::timefmt;

/// Runs `sluice info`.
pub fn run(args: InfoArgs) -> anyhow::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut failures = 0usize;
    for (i, path) in args.files.iter().enumerate() {
        let name = display_name(path);
        let info = match open_input(path) {
            Ok(mut reader) => {
                let progress = Progress::bytes(&name, reader.input_len());
                let info = summarize(&mut reader, &name, !args.quick, &mut |pos| {
                    progress.set(pos)
                });
                progress.finish();
                info
            }
            Err(e) => Info {
                file: name.clone(),
                error: Some(format!("{e:#}")),
                ..Info::default()
            },
        };
        if info.error.is_some() {
            failures += 1;
        }
        if args.json {
            serde_json::to_writer(&mut out, &info.to_json()).context("writing JSON")?;
            writeln!(out)?;
        } else {
            if i > 0 {
                writeln!(out)?;
            }
            write_text(&mut out, &info)?;
        }
        out.flush()?;
        if let Some(e) = &info.error {
            eprintln!("sluice: {name}: {e}");
        }
    }
    out.flush()?;
    match failures {
        0 => Ok(()),
        n => anyhow::bail!(
            "{n} of {} file(s) could not be read to the end",
            args.files.len()
        ),
    }
}

fn write_text(out: &mut impl Write, info: &Info) -> std::io::Result<()> {
    let row = |out: &mut dyn Write, k: &str, v: &dyn std::fmt::Display| {
        writeln!(out, "{:<22}{v}", format!("{k}:"))
    };
    row(out, "File name", &info.file)?;
    let format = match (info.format, &info.encoding) {
        (Some(f), Some(e)) => format!("{f} ({e})"),
        (Some(f), None) => f.to_string(),
        _ => "unknown".to_string(),
    };
    row(out, "File format", &format)?;
    row(out, "File size", &format!("{} bytes", info.file_bytes))?;
    if info.format == Some("pcapng") {
        row(out, "Sections", &info.sections)?;
    }
    row(out, "Interfaces", &info.interfaces.len())?;
    for i in &info.interfaces {
        let mut line = format!(
            "  #{} {} ({}), snaplen {}",
            i.id,
            i.linktype_name,
            i.linktype,
            if i.snaplen == 0 {
                "none".to_string()
            } else {
                i.snaplen.to_string()
            }
        );
        if info.sections > 1 {
            line = format!("{line}, section {}", i.section);
        }
        if let Some(n) = &i.name {
            line.push_str(&format!(", name {n}"));
        }
        if let Some(d) = &i.description {
            line.push_str(&format!(", description {d:?}"));
        }
        if let Some(f) = &i.filter {
            line.push_str(&format!(", filter {f:?}"));
        }
        line.push_str(&format!(", {} packets", i.packets));
        writeln!(out, "{line}")?;
    }
    row(out, "Packets", &info.packets)?;
    row(out, "Bytes captured", &info.bytes)?;
    row(out, "Bytes on the wire", &info.bytes_on_wire)?;
    row(out, "Truncated frames", &info.truncated)?;
    if let (Some(min), Some(max)) = (info.min_caplen, info.max_caplen) {
        row(out, "Captured length", &format!("{min} min, {max} max"))?;
    }
    match (info.first_ts, info.last_ts) {
        (Some(first), Some(last)) => {
            row(out, "First packet", &timefmt::full(first))?;
            row(out, "Last packet", &timefmt::full(last))?;
        }
        _ => row(out, "First packet", &"n/a")?,
    }
    if let Some(d) = info.duration_ns() {
        row(
            out,
            "Duration",
            &format!("{}.{:09} s", d / 1_000_000_000, d % 1_000_000_000),
        )?;
    }
    if let Some(avg) = info.average_size() {
        row(out, "Average packet size", &format!("{avg:.2} bytes"))?;
    }
    if let Some(r) = info.packet_rate() {
        row(out, "Packet rate", &format!("{r:.2} packets/s"))?;
    }
    if let Some(r) = info.byte_rate() {
        row(
            out,
            "Data rate",
            &format!("{r:.2} bytes/s ({:.2} bit/s)", r * 8.0),
        )?;
    }
    row(
        out,
        "Strict time order",
        &if info.out_of_order == 0 {
            "yes".to_string()
        } else {
            format!(
                "no ({} frames earlier than the one before)",
                info.out_of_order
            )
        },
    )?;
    if info.without_timestamp > 0 {
        row(out, "Without timestamp", &info.without_timestamp)?;
    }
    for s in &info.stats {
        let opt = |v: Option<u64>| v.map_or("n/a".to_string(), |v| v.to_string());
        writeln!(
            out,
            "{:<22}interface #{}: received {}, dropped by interface {}, by OS {}, accepted by filter {}",
            "Interface stats:",
            s.interface,
            opt(s.ifrecv),
            opt(s.ifdrop),
            opt(s.osdrop),
            opt(s.filteraccept)
        )?;
    }
    if info.name_records > 0 {
        row(out, "Name records", &info.name_records)?;
    }
    if info.skipped_blocks > 0 {
        row(
            out,
            "Skipped blocks",
            &format!("{} ({} bytes)", info.skipped_blocks, info.skipped_bytes),
        )?;
    }
    if info.caplen_over_snaplen > 0 {
        row(out, "Over snaplen", &info.caplen_over_snaplen)?;
    }
    for c in &info.comments {
        row(out, "Comment", c)?;
    }
    if let (true, Some(protocols)) = (info.packets > 0, &info.protocols) {
        writeln!(out, "Protocols:")?;
        for (name, n) in protocols.entries() {
            if n > 0 {
                writeln!(
                    out,
                    "  {name:<12}{n:>12}  {:>6.2}%",
                    n as f64 * 100.0 / info.packets as f64
                )?;
            }
        }
    }
    if let Some(e) = &info.error {
        row(out, "Error", e)?;
    }
    Ok(())
}

/// `sluice info`
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Capture files to summarise (pcap or pcapng; `-` for stdin).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// One JSON object per file on stdout, one per line.
    #[arg(long)]
    pub json: bool,
    /// Read record headers only: no protocol mix, faster.
    #[arg(long, short = 'q')]
    pub quick: bool,
}
