//! `sluice print -r FILE`: one line per frame, like `tcpdump -n -r`.
//!
//! [`FrameLines`] makes the lines; `sluice capture` without `-w` prints
//! live frames with it too, so both commands print alike.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use sluice_wire::LinkType;
use sluice_wire::dissect::{Dissection, dissect_into};
use sluice_wire::summary::{SummaryOptions, write_summary};

use crate::cmd::expr::{diagnostic, join};
use crate::cmd::{display_name, open_input};
use crate::timefmt::TimeFormatter;
use sluice_process::filter::FrameFilter;

/// Runs `sluice print`.
pub fn run(args: PrintArgs) -> anyhow::Result<()> {
    let name = display_name(&args.read);
    let mut reader = open_input(&args.read)?;
    let mut frame_filter = if args.expr.is_empty() {
        None
    } else {
        let expr = join(&args.expr);
        let mut opts = sluice_filter::Options::default();
        if let Some(lt) = reader
            .sniff()
            .with_context(|| format!("reading {name}"))?
            .and_then(|s| s.linktype)
        {
            opts.linktype = lt;
        }
        Some(FrameFilter::new(&expr, opts).map_err(|e| diagnostic(&e, &expr))?)
    };
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, stdout.lock());
    let mut lines = FrameLines::new(&args.display);
    let mut n = 0u64;
    let limit = args.count.unwrap_or(u64::MAX);
    while n < limit {
        let frame = match reader.next_frame() {
            None => break,
            Some(Ok(frame)) => frame,
            Some(Err(e)) => {
                out.flush()?;
                return Err(e).with_context(|| format!("reading {name} after {n} frames"));
            }
        };
        if let Some(f) = frame_filter.as_mut()
            && !f.matches(&frame).map_err(anyhow::Error::msg)?
        {
            continue;
        }
        n += 1;
        lines.write(
            &mut out,
            frame.linktype,
            frame.ts_ns,
            frame.data,
            frame.origlen,
        )?;
    }
    out.flush()?;
    Ok(())
}

/// Prints frames one line each: number, timestamp, summary.
pub struct FrameLines {
    times: TimeFormatter,
    options: SummaryOptions,
    dissection: Dissection,
    line: String,
    number: bool,
    n: u64,
}

impl FrameLines {
    /// A printer for the chosen display flags.
    pub fn new(display: &DisplayArgs) -> FrameLines {
        FrameLines {
            times: TimeFormatter::new(display.time_format(), display.nano),
            options: SummaryOptions {
                link_header: display.link,
                verbose: display.verbose > 0,
            },
            dissection: Dissection::new(),
            line: String::with_capacity(256),
            number: display.number,
            n: 0,
        }
    }

    /// Writes the line of one frame.
    pub fn write(
        &mut self,
        out: &mut impl Write,
        linktype: LinkType,
        ts_ns: u64,
        data: &[u8],
        origlen: u32,
    ) -> std::io::Result<()> {
        self.n += 1;
        self.line.clear();
        if self.number {
            self.line.push_str(&self.n.to_string());
            self.line.push_str("  ");
        }
        self.times.write(&mut self.line, ts_ns);
        dissect_into(&mut self.dissection, linktype, data, origlen as usize);
        // Writing into a String cannot fail.
        let _ = write_summary(&mut self.line, data, &self.dissection, self.options);
        self.line.push('\n');
        out.write_all(self.line.as_bytes())
    }
}

/// How `print` shows timestamps (tcpdump's `-t` family).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// Local time of day (the default).
    Clock,
    /// No timestamp (`-t`).
    None,
    /// Seconds since the epoch (`-tt`).
    Epoch,
    /// Delta from the previous frame (`-ttt`).
    Delta,
    /// Date and local time of day (`-tttt`).
    DateTime,
    /// Delta from the first frame (`-ttttt`).
    SinceFirst,
}

/// `sluice print`
#[derive(Args, Debug)]
pub struct PrintArgs {
    /// Capture file to read (`-` for stdin).
    #[arg(short = 'r', value_name = "FILE")]
    pub read: PathBuf,
    /// Stop after N frames.
    #[arg(short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// How each frame is shown.
    #[command(flatten)]
    pub display: DisplayArgs,
    /// Print only the frames this filter expression matches; several words
    /// are joined with spaces.
    #[arg(value_name = "EXPR", trailing_var_arg = true, num_args = 0..)]
    pub expr: Vec<String>,
}

/// How frames are printed (shared by `print` and `capture`).
#[derive(Args, Debug, Clone, Default)]
pub struct DisplayArgs {
    /// Print the link-level header (MAC addresses, EtherType) on each line.
    #[arg(short = 'e')]
    pub link: bool,
    /// More detail (IP TTL, id, length, options); may be repeated.
    #[arg(short = 'v', action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Timestamp style: -t none, -tt epoch seconds, -ttt delta from the
    /// previous frame, -tttt date and time, -ttttt delta from the first.
    #[arg(short = 't', action = clap::ArgAction::Count)]
    pub time: u8,
    /// Print timestamps with nanosecond precision.
    #[arg(long)]
    pub nano: bool,
    /// Accepted for tcpdump compatibility: sluice never resolves names.
    #[arg(short = 'n', action = clap::ArgAction::Count, hide = true)]
    pub numeric: u8,
    /// Print the frame number before each line.
    #[arg(short = '#', long = "number")]
    pub number: bool,
}

impl DisplayArgs {
    /// The timestamp style chosen by the `-t` count.
    pub fn time_format(&self) -> TimeFormat {
        match self.time {
            0 => TimeFormat::Clock,
            1 => TimeFormat::None,
            2 => TimeFormat::Epoch,
            3 => TimeFormat::Delta,
            4 => TimeFormat::DateTime,
            _ => TimeFormat::SinceFirst,
        }
    }
}
