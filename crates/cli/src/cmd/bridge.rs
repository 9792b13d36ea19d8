//! `sluice bridge`: the pass-through loop between two interfaces (every
//! frame through user space and back), with live counters on a terminal
//! and a summary at the end. Also the wire-mode runner that `echo`,
//! `impair` and `tunnel` share.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::{Args, ValueEnum};
use sluice_linux::RingConfig;
use sluice_pcap::Rotation;
use sluice_redirect::Handler;
use sluice_redirect::SharedCounters;
use sluice_redirect::samples::PassThru;
use sluice_redirect::wire::{
    PerDirection, RxRing, StartReport, Summary, TapConfig, WireConfig, WireRedirector,
};

use crate::live::{StatusLine, Stopper, parse_duration, si, usage};

/// Which receive ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Ring {
    /// TPACKET_V2: each frame handed over at once (lowest latency).
    V2,
    /// TPACKET_V3: frames handed over a block at a time (block timeout).
    V3,
}

/// The interfaces and engine settings every wire-mode command takes.
#[derive(Args, Debug, Clone)]
pub struct WireArgs {
    /// The host-side interface (frames read here are ones the host sends).
    #[arg(long, value_name = "IF")]
    pub upper: String,
    /// The network-side interface.
    #[arg(long, value_name = "IF")]
    pub lower: String,
    /// Save what passes to this pcapng file (a strftime template with -G).
    #[arg(short = 'w', long = "write", value_name = "FILE")]
    pub write: Option<PathBuf>,
    /// With --write: also save the frames the handler dropped (on their
    /// own interfaces in the file).
    #[arg(long, requires = "write")]
    pub write_dropped: bool,
    /// With --write: start a new file when the current one exceeds this
    /// many million bytes.
    #[arg(short = 'C', value_name = "MB", requires = "write")]
    pub file_size: Option<u64>,
    /// With --write: start a new file every SECS seconds.
    #[arg(short = 'G', value_name = "SECS", requires = "write")]
    pub rotate_secs: Option<u64>,
    /// With -C: a ring of N files; with -G alone: stop after N files.
    #[arg(short = 'W', value_name = "N", requires = "write")]
    pub file_count: Option<u32>,
    /// Receive ring kind.
    #[arg(long, value_enum, default_value = "v2")]
    pub ring: Ring,
    /// With --ring v3: the block timeout.
    #[arg(long, value_parser = parse_duration, default_value = "1ms")]
    pub block_timeout: Duration,
    /// Most frames read from one side per turn.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Keep polling (busy, on the CPU) this long after the last frame
    /// before sleeping: less wake-up delay, more CPU.
    #[arg(long, value_parser = parse_spin, default_value = "0")]
    pub spin: Duration,
    /// Do not carry offload state (GSO frames larger than the MTU will be
    /// refused and counted).
    #[arg(long)]
    pub no_offload_state: bool,
    /// Run the forwarding loop in the real-time SCHED_FIFO class at this
    /// priority (1-99): on a busy machine frames and timers are served as
    /// soon as they are due. Use with care: the loop can then take a whole
    /// core from ordinary tasks under load.
    #[arg(long, value_name = "PRIO", value_parser = clap::value_parser!(i32).range(1..=99))]
    pub realtime: Option<i32>,
    /// Without --realtime: the time slice the forwarding loop asks the
    /// scheduler for (Linux 6.12 and later). A short one lets the loop in
    /// as soon as frames wake it on a busy machine; 0 keeps the system's
    /// default.
    #[arg(long, value_parser = parse_spin, default_value = "100us")]
    pub slice: Duration,
    /// Stop after this long (e.g. 30s).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// No findings at start, no status line; the summary still goes to
    /// stderr.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_spin(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(s)
}

/// `sluice bridge` flags.
#[derive(Args, Debug)]
pub struct BridgeArgs {
    #[command(flatten)]
    pub wire: WireArgs,
    /// Redirect filter (pcap-filter syntax): only matching frames reach
    /// the handler; the rest take the fast path.
    #[arg(long, value_name = "EXPR")]
    pub filter: Option<String>,
    /// Monitor mode: the handler sees copies and cannot affect traffic.
    #[arg(long)]
    pub monitor: bool,
    /// One loop for both directions. By default a second thread takes one
    /// direction while traffic keeps the first busy, unless --monitor or
    /// --write needs both directions in one order.
    #[arg(long)]
    pub one_loop: bool,
}

/// Runs `sluice bridge`.
pub fn run(args: BridgeArgs) -> anyhow::Result<()> {
    let per_direction = !args.one_loop && !args.monitor && args.wire.write.is_none();
    let (summary, h) = if per_direction {
        let (s, [up, low]) = run_wire_per_direction(
            &args.wire,
            args.filter.clone(),
            [PassThru::default(), PassThru::default()],
        )?;
        (
            s,
            PassThru {
                upper: up.upper,
                lower: low.lower,
            },
        )
    } else {
        run_wire(
            &args.wire,
            args.filter.clone(),
            args.monitor,
            PassThru::default(),
        )?
    };
    let mut e = std::io::stderr().lock();
    print_summary(&mut e, &args.wire, &summary);
    let _ = writeln!(
        e,
        "handler saw {} frames from upper ({} GSO), {} from lower ({} GSO)",
        h.upper.frames, h.upper.gso, h.lower.frames, h.lower.gso
    );
    Ok(())
}

/// Builds the engine's configuration from the flags.
pub fn wire_config(
    args: &WireArgs,
    filter: Option<String>,
    monitor: bool,
) -> anyhow::Result<WireConfig> {
    let mut c = WireConfig::new(args.upper.clone(), args.lower.clone());
    c.filter = filter;
    c.monitor = monitor;
    if args.batch == 0 {
        return Err(usage("--batch must be at least 1"));
    }
    c.bridge.batch = args.batch;
    c.realtime = args.realtime;
    c.slice = (!args.slice.is_zero()).then_some(args.slice);
    c.bridge.spin = args.spin;
    c.bridge.vnet_hdr = !args.no_offload_state;
    c.bridge.rx = match args.ring {
        Ring::V2 => RxRing::V2(None),
        Ring::V3 => {
            let mut r = RingConfig::DEFAULT;
            r.block_size = 256 << 10;
            r.block_count = 64;
            r.block_timeout = args.block_timeout;
            RxRing::V3(r)
        }
    };
    if let Some(path) = &args.write {
        if args.file_count.is_some() && args.file_size.is_none() && args.rotate_secs.is_none() {
            return Err(usage("-W needs -C or -G"));
        }
        if args.file_size == Some(0) {
            return Err(usage("-C needs at least 1 (million bytes)"));
        }
        let mut t = TapConfig::new(path.display().to_string());
        t.dropped = args.write_dropped;
        t.rotation = Rotation {
            size_limit: args.file_size.map(|m| m.saturating_mul(1_000_000)),
            period_secs: args.rotate_secs,
            max_files: args.file_count,
        };
        c.tap = Some(t);
    }
    Ok(c)
}

/// Opens the bridge, runs `handler` on a worker thread until a signal (a
/// second SIGINT gives up at once) or `--duration`, drawing live counters
/// meanwhile; returns the summary and the handler.
pub fn run_wire<H: Handler + Send + 'static>(
    args: &WireArgs,
    filter: Option<String>,
    monitor: bool,
    mut handler: H,
) -> anyhow::Result<(Summary, H)> {
    let config = wire_config(args, filter, monitor)?;
    let mut engine = WireRedirector::open(config)
        .with_context(|| format!("opening a bridge between {} and {}", args.upper, args.lower))?;
    announce(args, engine.report(), "");
    let stopper = Stopper::install()?;
    engine.set_stopper(stopper.interrupt());
    let counters = engine.counters();
    let worker = std::thread::Builder::new()
        .name("sluice-wire".into())
        .spawn(move || {
            let r = engine.run(&mut handler);
            r.map(|s| (s, handler))
        })
        .context("starting the bridge thread")?;
    watch(args, &stopper, &counters, worker)
}

/// As [`run_wire`] with a loop per direction ([`PerDirection`]):
/// `handlers[0]` sees the frames from upper, `handlers[1]` those from
/// lower.
pub fn run_wire_per_direction<H: Handler + Send + 'static>(
    args: &WireArgs,
    filter: Option<String>,
    handlers: [H; 2],
) -> anyhow::Result<(Summary, [H; 2])> {
    let config = wire_config(args, filter, false)?;
    let mut engine = PerDirection::open(config)
        .with_context(|| format!("opening a bridge between {} and {}", args.upper, args.lower))?;
    announce(args, engine.report(), ", a thread per direction under load");
    let stopper = Stopper::install()?;
    engine.set_stopper(stopper.interrupt());
    let counters = engine.counters();
    let worker = std::thread::Builder::new()
        .name("sluice-wire".into())
        .spawn(move || engine.run(handlers))
        .context("starting the bridge thread")?;
    watch(args, &stopper, &counters, worker)
}

/// The findings at start and the line saying what runs.
fn announce(args: &WireArgs, report: &StartReport, how: &str) {
    if args.quiet {
        return;
    }
    let mut e = std::io::stderr().lock();
    for line in report.findings() {
        let _ = writeln!(e, "{line}");
    }
    let _ = writeln!(
        e,
        "bridging {} (upper) and {} (lower){how}; Ctrl-C to stop",
        args.upper, args.lower
    );
}

/// Waits for `worker`, drawing the live counters, stopping it on a signal
/// or at `--duration`.
fn watch<T>(
    args: &WireArgs,
    stopper: &Stopper,
    counters: &SharedCounters,
    worker: std::thread::JoinHandle<sluice_redirect::wire::Result<T>>,
) -> anyhow::Result<T> {
    let started = Instant::now();
    let mut line = StatusLine::new(!args.quiet);
    let mut prev = (Instant::now(), counters.snapshot());
    while !worker.is_finished() {
        if stopper.insisted() {
            line.clear();
            anyhow::bail!("interrupted twice: exiting without draining the bridge");
        }
        if args.duration.is_some_and(|d| started.elapsed() >= d) {
            stopper.interrupt().trigger();
        }
        if line.due() {
            let c = counters.snapshot();
            let dt = prev.0.elapsed().as_secs_f64().max(1e-3);
            let bits = |now: u64, then: u64| si((now.saturating_sub(then) * 8) as f64 / dt);
            line.draw(&format!(
                "up→low {} fr {}bit/s  low→up {} fr {}bit/s  handled {}  dropped {}  kernel {}  sendfail {}",
                c.lower.frames_out,
                bits(c.lower.bytes_out, prev.1.lower.bytes_out),
                c.upper.frames_out,
                bits(c.upper.bytes_out, prev.1.upper.bytes_out),
                c.handled,
                c.dropped_handler + c.dropped_queue,
                c.dropped_kernel,
                c.send_failures
            ));
            prev = (Instant::now(), c);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    line.clear();
    match worker.join() {
        Ok(r) => Ok(r?),
        Err(_) => anyhow::bail!("the bridge thread panicked"),
    }
}

/// The account at the end.
pub fn print_summary(e: &mut impl Write, args: &WireArgs, s: &Summary) {
    let c = &s.counters;
    let secs = s.elapsed.as_secs_f64().max(1e-3);
    let _ = writeln!(
        e,
        "{} → {}: {} frames, {} bytes ({}bit/s)",
        args.upper,
        args.lower,
        c.lower.frames_out,
        c.lower.bytes_out,
        si(c.lower.bytes_out as f64 * 8.0 / secs)
    );
    let _ = writeln!(
        e,
        "{} → {}: {} frames, {} bytes ({}bit/s)",
        args.lower,
        args.upper,
        c.upper.frames_out,
        c.upper.bytes_out,
        si(c.upper.bytes_out as f64 * 8.0 / secs)
    );
    let _ = writeln!(
        e,
        "read {} frames from {}, {} from {}; {} took the fast path, the handler saw {}",
        c.upper.frames_in, args.upper, c.lower.frames_in, args.lower, c.bypassed, c.handled
    );
    let _ = writeln!(
        e,
        "dropped: {} by the handler, {} for lack of queue room, {} by the kernel, {} send failures; {} injected",
        c.dropped_handler, c.dropped_queue, c.dropped_kernel, c.send_failures, c.injected
    );
    if c.oversize > 0 || c.malformed > 0 {
        let _ = writeln!(
            e,
            "{} frames larger than the MTU (carried with their GSO state unless counted as send failures), {} malformed (forwarded as they were)",
            c.oversize, c.malformed
        );
    }
    if s.timers.fired > 0 || s.timers.refused > 0 {
        let t = &s.timers;
        let p50 = t
            .percentile_bound(50.0)
            .map_or("over 5 ms".to_string(), |d| {
                format!("≤ {} µs", d.as_micros())
            });
        let p99 = t
            .percentile_bound(99.0)
            .map_or("over 5 ms".to_string(), |d| {
                format!("≤ {} µs", d.as_micros())
            });
        let _ = writeln!(
            e,
            "timers: {} fired, lateness mean {} µs, p50 {p50}, p99 {p99}, max {} µs; {} refused, {} pending at the end",
            t.fired,
            t.mean().as_micros(),
            t.late_max_ns / 1000,
            t.refused,
            t.discarded
        );
    }
    if let Some(t) = &s.tap {
        let files = match t.files.as_slice() {
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
            "tap: {} frames written{files}; {} not written (writer too slow)",
            t.written, t.dropped
        );
    }
}
