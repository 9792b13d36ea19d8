//! `sluice capture`: live capture to pcapng/pcap files (rotated or not), or
//! one line per frame on stdout, like tcpdump.
//!
//! The order of work follows tcpdump: open every socket (filter attached
//! before binding), then drop privileges (`-Z`), then create the output
//! files, so that every file, the first included, is created as the user
//! (tcpdump's manual: "before opening any savefiles for output"). The
//! directory must therefore be writable by that user. Writing to stdout
//! (`-w -`) needs no file.
//!
//! A first SIGINT, SIGTERM or SIGHUP stops the capture cleanly: the rings
//! are emptied into the file, the kernel's counters written as interface
//! statistics, the file closed. A second SIGINT exits at once.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use sluice_capture::{
    CaptureOptions, Engine, FanoutOptions, FileOptions, FileSink, Report, Running, Sink,
    StopReason, Written, for_each_frame,
};
use sluice_linux::capture::{FanoutMode, TimestampMode};
use sluice_linux::{Block, RingConfig};
use sluice_pcap::{Format, Rotation};
use sluice_wire::LinkType;

use crate::cmd::print::{DisplayArgs, FrameLines};
use crate::live::{StatusLine, Stopper, si, usage};

/// `sluice capture`
#[derive(Args, Debug)]
pub struct CaptureArgs {
    /// Interface to capture on; repeat for several (one pcapng interface
    /// each), or `any` for all of them (cooked, LINUX_SLL2).
    #[arg(short = 'i', long = "interface", value_name = "IF", required = true)]
    pub interfaces: Vec<String>,
    /// Write frames to FILE (`-` for stdout) instead of printing them:
    /// pcapng, or pcap when the name ends in .pcap (one link type only).
    #[arg(short = 'w', value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// Keep at most SNAPLEN bytes of each frame (0: the maximum, 262144).
    #[arg(short = 's', long = "snapshot-length", value_name = "SNAPLEN")]
    pub snaplen: Option<u32>,
    /// Stop after N frames.
    #[arg(short = 'c', value_name = "N")]
    pub count: Option<u64>,
    /// Start a new file when the current one is larger than MB million
    /// bytes (the number is appended to the name, as tcpdump does).
    #[arg(short = 'C', value_name = "MB")]
    pub file_size: Option<u64>,
    /// Start a new file every SECS seconds; the name may hold strftime
    /// fields (%Y %m %d %H %M %S, in UTC).
    #[arg(short = 'G', value_name = "SECS")]
    pub rotate_seconds: Option<u64>,
    /// With -C: keep a ring of N files, overwriting the oldest; with -G
    /// alone: stop after N files.
    #[arg(short = 'W', value_name = "N")]
    pub file_count: Option<u32>,
    /// After opening the sockets, drop to USER (and its group) for good,
    /// before creating any file.
    #[arg(short = 'Z', long = "relinquish-privileges", value_name = "USER")]
    pub user: Option<String>,
    /// Read each interface with N sockets in a PACKET_FANOUT group and N
    /// threads, all writing to one file (per-flow order kept with the
    /// hash mode).
    #[arg(long, value_name = "N")]
    pub fanout: Option<u16>,
    /// How the kernel spreads frames over the fanout members.
    #[arg(long, value_enum, default_value_t = FanoutArg::Hash, requires = "fanout")]
    pub fanout_mode: FanoutArg,
    /// Ring buffer per socket, in MiB (default 32).
    #[arg(long = "buffer", value_name = "MB")]
    pub buffer: Option<usize>,
    /// Hand frames over as soon as they arrive (1 ms block timeout instead
    /// of 10 ms: more wake-ups, less delay).
    #[arg(long)]
    pub immediate: bool,
    /// Block timeout in milliseconds (the "delayed write" knob).
    #[arg(
        long = "block-timeout",
        value_name = "MS",
        conflicts_with = "immediate"
    )]
    pub block_timeout: Option<u64>,
    /// Do not put the interfaces in promiscuous mode.
    #[arg(short = 'p', long = "no-promiscuous-mode")]
    pub no_promiscuous: bool,
    /// Do not capture frames this host sends.
    #[arg(long)]
    pub ignore_outgoing: bool,
    /// Lock the kernel filter (SO_LOCK_FILTER). A clean stop then cannot
    /// close the socket's intake: frames still arriving are counted as
    /// left in the ring.
    #[arg(long)]
    pub lock_filter: bool,
    /// Do not optimise the filter.
    #[arg(short = 'O', long = "no-optimize")]
    pub no_optimize: bool,
    /// Ask for hardware timestamps where the NIC gives them.
    #[arg(long)]
    pub hardware_timestamps: bool,
    /// File format, whatever the name says.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// No "listening on" line, no status line.
    #[arg(short = 'q')]
    pub quiet: bool,
    /// Frames shorter than this many bytes are copied next to their record
    /// header instead of being written straight from the ring (tuning).
    #[arg(long, value_name = "BYTES", hide = true)]
    pub copy_break: Option<usize>,
    /// How frames are printed without -w.
    #[command(flatten)]
    pub display: DisplayArgs,
    /// Filter expression (pcap-filter syntax), run by the kernel.
    #[arg(
        value_name = "EXPR",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub expr: Vec<String>,
}

/// `--fanout-mode`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FanoutArg {
    /// By flow hash: a flow always reaches the same reader.
    Hash,
    /// Round robin (flows may be reordered).
    Lb,
    /// By the receiving CPU.
    Cpu,
    /// Fill one reader, then the next.
    Rollover,
}

/// `--format`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// pcapng (interfaces, flags, statistics).
    Pcapng,
    /// pcap (one link type, no statistics).
    Pcap,
}

/// The filter expression from the trailing arguments, if any.
pub fn expression(words: &[String]) -> Option<String> {
    let e = words.join(" ");
    (!e.trim().is_empty()).then_some(e)
}

fn rotation(args: &CaptureArgs) -> anyhow::Result<Option<Rotation>> {
    if args.file_size.is_none() && args.rotate_seconds.is_none() {
        if args.file_count.is_some() {
            return Err(usage("-W needs -C or -G"));
        }
        return Ok(None);
    }
    if args.write.is_none() {
        return Err(usage("-C and -G need -w FILE"));
    }
    if args.file_size == Some(0) {
        return Err(usage("-C needs at least 1 (million bytes)"));
    }
    if args.rotate_seconds == Some(0) {
        return Err(usage("-G needs at least 1 second"));
    }
    if args.file_count == Some(0) {
        return Err(usage("-W needs at least 1 file"));
    }
    Ok(Some(Rotation {
        size_limit: args.file_size.map(|m| m.saturating_mul(1_000_000)),
        period_secs: args.rotate_seconds,
        max_files: args.file_count,
    }))
}

fn ring(args: &CaptureArgs) -> anyhow::Result<RingConfig> {
    let mut ring = match args.buffer {
        None => RingConfig::DEFAULT,
        Some(0) => return Err(usage("--buffer needs at least 1 MiB")),
        Some(mb) => RingConfig::with_total_size(mb.saturating_mul(1 << 20)),
    };
    if args.immediate {
        ring.block_timeout = Duration::from_millis(1);
    }
    if let Some(ms) = args.block_timeout {
        if ms == 0 {
            return Err(usage("--block-timeout needs at least 1 ms"));
        }
        ring.block_timeout = Duration::from_millis(ms);
    }
    ring.validate().map_err(usage)?;
    Ok(ring)
}

/// Runs `sluice capture`.
pub fn run(args: CaptureArgs) -> anyhow::Result<()> {
    let rotation = rotation(&args)?;
    let ring = ring(&args)?;
    let mut opts = CaptureOptions::new(args.interfaces.clone());
    opts.snaplen = match args.snaplen {
        None | Some(0) => sluice_linux::capture::MAX_SNAPLEN,
        Some(s) => s,
    };
    opts.ring = ring;
    opts.promiscuous = !args.no_promiscuous;
    opts.ignore_outgoing = args.ignore_outgoing;
    opts.filter = expression(&args.expr);
    opts.optimize = !args.no_optimize;
    opts.lock_filter = args.lock_filter;
    if args.hardware_timestamps {
        opts.timestamps = TimestampMode::Hardware;
    }
    if let Some(n) = args.fanout {
        if n == 0 || n > 64 {
            return Err(usage("--fanout takes 1 to 64 readers"));
        }
        opts.fanout = Some(FanoutOptions {
            members: n,
            mode: match args.fanout_mode {
                FanoutArg::Hash => FanoutMode::Hash,
                FanoutArg::Lb => FanoutMode::LoadBalance,
                FanoutArg::Cpu => FanoutMode::Cpu,
                FanoutArg::Rollover => FanoutMode::Rollover,
            },
        });
    }
    let stopper = Stopper::install()?;
    let engine = Engine::open(&opts, stopper.interrupt())?;
    if let Some(user) = &args.user {
        sluice_linux::drop_privileges(user)?;
    }
    let quiet = args.quiet;
    match &args.write {
        Some(path) => {
            let format = match args.format {
                Some(FormatArg::Pcap) => Format::Pcap,
                Some(FormatArg::Pcapng) => Format::PcapNg,
                None => Format::from_path(path).unwrap_or(Format::PcapNg),
            };
            let fopts = FileOptions { format, rotation };
            let mut sink = FileSink::create(path, &fopts, &engine.interface_blocks())?;
            if let Some(b) = args.copy_break {
                sink.set_copy_break(b);
            }
            announce(&engine, quiet);
            let status = StatusLine::new(!quiet);
            let every = status.shown().then_some(Duration::from_millis(250));
            let running = engine.start(sink, args.count, every)?;
            let name = path.display().to_string();
            let (report, error, sink) = watch(running, &stopper, status)?;
            let stats = report.interface_stats();
            let files = sink
                .finish(stats)
                .with_context(|| format!("closing {name}"))?;
            summary(&report, &files.files);
            match error {
                Some(e) => Err(e.into()),
                None => Ok(()),
            }
        }
        None => {
            let linktypes = engine.sources().iter().map(|s| s.linktype).collect();
            let sink = PrintSink {
                out: std::io::BufWriter::with_capacity(256 * 1024, std::io::stdout()),
                lines: FrameLines::new(&args.display),
                linktypes,
                buf: Vec::new(),
            };
            announce(&engine, quiet);
            let running = engine.start(sink, args.count, None)?;
            let (report, error, mut sink) = watch(running, &stopper, StatusLine::new(false))?;
            let flushed = sink.out.flush();
            summary(&report, &[]);
            if let Some(e) = error {
                return Err(e.into());
            }
            flushed.context("writing to stdout")?;
            Ok(())
        }
    }
}

/// tcpdump's "listening on" line: interfaces, link types, snap length.
fn announce(engine: &Engine, quiet: bool) {
    if quiet {
        return;
    }
    let mut e = std::io::stderr().lock();
    for s in engine.sources() {
        let filter = match s.filter_len {
            0 => String::new(),
            n => format!(", kernel filter of {n} instructions"),
        };
        let readers = match s.members {
            1 => String::new(),
            n => format!(", {n} readers"),
        };
        let _ = writeln!(
            e,
            "listening on {}, link-type {}, snapshot length {} bytes{filter}{readers}",
            s.interface, s.linktype, s.snaplen
        );
    }
}

/// Watches a running capture: status line, signals; returns when it ends.
/// A second SIGINT returns an error at once, leaving the readers behind.
fn watch<S: Sink + 'static>(
    running: Running<S>,
    stopper: &Stopper,
    mut line: StatusLine,
) -> anyhow::Result<(Report, Option<sluice_capture::Error>, S)> {
    let draw = |line: &mut StatusLine| {
        if line.due() {
            let s = running.snapshot();
            let secs = s.elapsed.as_secs_f64().max(1e-3);
            line.draw(&format!(
                "{} frames  {}B  {} dropped by the kernel  {} frames/s",
                s.frames,
                si(s.bytes as f64),
                s.kernel_drops,
                si(s.frames as f64 / secs)
            ));
        }
    };
    // Until something triggers the interrupt (a signal, the readers ending
    // by themselves), sleep on it, waking only for the status line.
    let redraw = if line.shown() {
        Duration::from_millis(500)
    } else {
        Duration::from_secs(3600)
    };
    while !running.is_finished() && !stopper.wait(redraw) {
        draw(&mut line);
    }
    // Then the readers empty their rings; watch for a second SIGINT.
    while !running.is_finished() {
        if stopper.insisted() {
            line.clear();
            anyhow::bail!("interrupted twice: exiting without closing the output");
        }
        draw(&mut line);
        std::thread::sleep(Duration::from_millis(20));
    }
    line.clear();
    // The readers are done: joining does not block.
    let f = running.join()?;
    Ok((f.report, f.error, f.sink))
}

/// The account at the end, on stderr.
fn summary(report: &Report, files: &[PathBuf]) {
    let mut e = std::io::stderr().lock();
    let k = report.kernel();
    let into = match files {
        [] => String::new(),
        [one] => format!(" to {}", one.display()),
        many => format!(
            " to {} files ({} … {})",
            many.len(),
            many[0].display(),
            many[many.len() - 1].display()
        ),
    };
    let _ = writeln!(
        e,
        "{} frames captured ({} bytes){into}",
        report.frames, report.bytes
    );
    let _ = writeln!(e, "{} frames received by the filter", k.packets);
    let _ = writeln!(e, "{} frames dropped by the kernel", k.drops);
    for s in &report.sources {
        if s.source.filter.is_none() {
            continue;
        }
        if let Some(c) = s.interface_counters {
            let seen = c.rx_packets + c.tx_packets;
            let _ = writeln!(
                e,
                "{} frames rejected by the filter on {} (of about {seen} the interface counted)",
                seen.saturating_sub(s.kernel.packets),
                s.source.interface
            );
        }
    }
    let left = report.left_in_ring();
    if left > 0 {
        let _ = writeln!(
            e,
            "{left} frames were still in the ring when the capture stopped (not written)"
        );
    }
    let bad = report.malformed();
    if bad > 0 {
        let _ = writeln!(e, "{bad} frames lost in malformed ring blocks");
    }
    // What the kernel passed to the ring and is in none of the lines above
    // came after the capture decided to stop (the -c count or the -W
    // limit reached in the middle of a block): say so rather than let the
    // numbers disagree in silence.
    let unwritten = k
        .packets
        .saturating_sub(k.drops + report.frames + left + bad);
    if unwritten > 0 {
        let _ = writeln!(
            e,
            "{unwritten} frames received by the filter were not written: they came after the capture stopped"
        );
    }
    if report.reason == StopReason::SinkDone {
        let _ = writeln!(e, "stopped: the -W limit of files is reached");
    }
}

/// Prints frames as `sluice print` does.
struct PrintSink {
    out: std::io::BufWriter<std::io::Stdout>,
    lines: FrameLines,
    linktypes: Vec<LinkType>,
    buf: Vec<u8>,
}

impl Sink for PrintSink {
    fn write_block(
        &mut self,
        source: u32,
        block: &Block<'_>,
        limit: u64,
    ) -> sluice_capture::Result<Written> {
        let framing = block.framing();
        let linktype = self
            .linktypes
            .get(source as usize)
            .copied()
            .unwrap_or(LinkType::ETHERNET);
        let w = for_each_frame(block, limit, |f| {
            let parts = f.parts(framing);
            let split = parts.split();
            let data: &[u8] =
                if split.head.is_empty() && split.tag.is_none() && split.rest.is_empty() {
                    split.first
                } else {
                    self.buf.clear();
                    parts.write_to(&mut self.buf);
                    &self.buf
                };
            self.lines
                .write(&mut self.out, linktype, f.ts_ns, data, parts.origlen())
                .map_err(|e| sluice_capture::Error::io("writing to stdout", e))?;
            Ok(true)
        })?;
        self.out
            .flush()
            .map_err(|e| sluice_capture::Error::io("writing to stdout", e))?;
        Ok(w)
    }
}
