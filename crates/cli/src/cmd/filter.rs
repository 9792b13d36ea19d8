//! `sluice filter -r IN -w OUT EXPR`: keep the frames an expression
//! matches, like `tcpdump -r IN -w OUT EXPR`, for pcap and pcapng.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use sluice_pcap::{DropBehind, Format, Writer, WriterOptions};
use sluice_process::convert::WriteBehind;
use sluice_process::filter::{FrameFilter, filter};

use crate::cmd::convert::FormatArg;
use crate::cmd::expr::{ExprArgs, diagnostic, join};
use crate::cmd::{display_name, open_input};
use crate::progress::Progress;

/// `sluice filter`
#[derive(Args, Debug)]
pub struct FilterArgs {
    /// Capture to read (`-` for stdin).
    #[arg(short = 'r', value_name = "IN")]
    pub read: PathBuf,
    /// Capture to write (`-` for stdout).
    #[arg(short = 'w', value_name = "OUT")]
    pub write: PathBuf,
    /// Output format; by default the input's (or OUT's extension).
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Keep the written file in the page cache. By default its pages go to
    /// disk and leave the cache a few MiB behind the writer, so that a large
    /// output does not push everything else out of memory.
    #[arg(long)]
    pub keep_cache: bool,
    /// Compile options.
    #[command(flatten)]
    pub opts: ExprArgs,
    /// The filter expression; several words are joined with spaces.
    #[arg(value_name = "EXPR", trailing_var_arg = true, num_args = 0..)]
    pub expr: Vec<String>,
}

/// Runs `sluice filter`.
pub fn run(args: FilterArgs) -> anyhow::Result<()> {
    let expr = join(&args.expr);
    let mut opts = args.opts.options()?;
    let in_name = display_name(&args.read);
    let out_name = display_name(&args.write);
    let mut reader = open_input(&args.read)?;
    // Check the expression before creating the output, against the
    // input's linktype when its header says it (pcap).
    let sniffed = reader
        .sniff()
        .with_context(|| format!("reading {in_name}"))?;
    if let Some(lt) = sniffed.and_then(|s| s.linktype) {
        opts.linktype = lt;
    }
    let in_format = sniffed.map_or(Format::PcapNg, |s| s.format);
    let in_nanos = sniffed.is_none_or(|s| s.nanosecond || s.format == Format::PcapNg);
    let mut frame_filter = FrameFilter::new(&expr, opts).map_err(|e| diagnostic(&e, &expr))?;
    let format = match args.format {
        Some(FormatArg::Pcap) => Format::Pcap,
        Some(FormatArg::Pcapng) => Format::PcapNg,
        None => Format::from_path(&args.write).unwrap_or(in_format),
    };
    let nanos = in_nanos || format == Format::PcapNg;
    let out = create_output(&args.write, args.keep_cache)
        .with_context(|| format!("creating {out_name}"))?;
    let mut writer = Writer::new(out, WriterOptions::new(format).nanos(nanos))
        .with_context(|| format!("writing {out_name}"))?;
    let progress = Progress::bytes(&in_name, reader.input_len());
    let result = filter(
        &mut reader,
        &mut writer,
        nanos,
        &mut frame_filter,
        &mut |p| progress.set(p),
    );
    progress.finish();
    let finished = writer
        .finish()
        .with_context(|| format!("writing {out_name}"));
    let report = result.with_context(|| format!("filtering {in_name}"))?;
    finished?;
    eprintln!("{} of {} frames matched", report.frames, report.frames_read);
    Ok(())
}

/// The output file (stdout for `-`), written by a thread of its own so
/// that the kernel's copy of the output does not hold up the filtering.
fn create_output(path: &Path, keep_cache: bool) -> anyhow::Result<WriteBehind> {
    Ok(WriteBehind::new(DropBehind::create(path, keep_cache)?)?)
}
