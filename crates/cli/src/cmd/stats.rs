//! `sluice stats`: frames, bytes and rates per interval for a filter, and
//! the kernel's drops, without copying payloads to user space (see
//! `sluice_capture::meter` for the method).

use std::io::Write;
use std::time::Duration;

use clap::Args;
use sluice_capture::{Interval, Meter, MeterOptions};

use crate::cmd::capture::expression;
use crate::live::{Stopper, parse_duration, si, usage};
use crate::timefmt::TimeFormatter;

/// `sluice stats`
#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Interface to count on (`any` for all).
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interface: String,
    /// Length of an interval (1s, 500ms, 2m).
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_duration)]
    pub interval: Duration,
    /// Stop after COUNT intervals.
    #[arg(short = 'c', value_name = "COUNT")]
    pub count: Option<u64>,
    /// Do not put the interface in promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    pub no_promiscuous: bool,
    /// Do not count frames this host sends.
    #[arg(long)]
    pub ignore_outgoing: bool,
    /// Filter expression (pcap-filter syntax), run by the kernel.
    #[arg(
        value_name = "EXPR",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub expr: Vec<String>,
}

/// Runs `sluice stats`.
pub fn run(args: StatsArgs) -> anyhow::Result<()> {
    if args.count == Some(0) {
        return Err(usage("-c needs at least 1 interval"));
    }
    let mut opts = MeterOptions::new(args.interface.clone());
    opts.filter = expression(&args.expr);
    opts.interval = args.interval;
    opts.promiscuous = !args.no_promiscuous;
    opts.ignore_outgoing = args.ignore_outgoing;
    let stopper = Stopper::install()?;
    let mut meter = Meter::open(&opts, stopper.interrupt())?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut times = TimeFormatter::new(crate::cmd::print::TimeFormat::Clock, false);
    writeln!(
        out,
        "{:<16} {:>12} {:>10} {:>14} {:>10} {:>8}",
        "interval end", "frames", "frames/s", "bytes", "bit/s", "drops"
    )?;
    out.flush()?;
    let mut n = 0u64;
    while args.count.is_none_or(|c| n < c) {
        let Some(iv) = meter.next_interval()? else {
            break;
        };
        n += 1;
        row(&mut out, &mut times, &iv)?;
    }
    let t = meter.total();
    let secs = t.seconds().max(1e-9);
    writeln!(
        out,
        "total: {} frames, {} bytes in {:.2} s ({} frames/s, {}bit/s), {} dropped by the kernel",
        t.frames,
        t.bytes,
        t.seconds(),
        si(t.frames as f64 / secs),
        si(t.bytes as f64 * 8.0 / secs),
        t.drops
    )?;
    if meter.malformed() > 0 {
        writeln!(
            out,
            "{} frames lost in malformed ring blocks",
            meter.malformed()
        )?;
    }
    out.flush()?;
    Ok(())
}

fn row(out: &mut impl Write, times: &mut TimeFormatter, iv: &Interval) -> std::io::Result<()> {
    let mut t = String::new();
    times.write(&mut t, iv.end_ns);
    writeln!(
        out,
        "{:<16} {:>12} {:>10} {:>14} {:>10} {:>8}",
        t.trim_end(),
        iv.frames,
        si(iv.fps()),
        iv.bytes,
        si(iv.bps()),
        iv.drops
    )?;
    out.flush()
}
