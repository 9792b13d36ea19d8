//! The host-mode flags and runner that `divert`, `echo --host` and
//! `impair --host` share: which packets (received, sent, forwarded), the
//! netfilter queue and its settings, fail-open or fail-closed, the rule
//! tool; then the engine runs a handler with live counters on a terminal
//! and an account at exit.
//!
//! The first SIGINT, SIGTERM or SIGHUP (or the end of `--duration`) stops
//! it cleanly: the rules are removed, the packets still waiting get an
//! accept verdict, the handler releases what it holds, the counters are
//! printed.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use sluice_linux::nfqueue::rules::Backend;
use sluice_redirect::Handler;
use sluice_redirect::host::{Directions, HostConfig, HostRedirector, Summary};

use crate::live::{StatusLine, Stopper, si, usage};

/// The host-mode flags every host-mode command takes.
#[derive(Args, Debug, Clone)]
pub struct HostArgs {
    /// Divert packets the host receives (INPUT). Without --in, --out or
    /// --forward, each command has its default: received and sent for
    /// divert and impair, sent for echo.
    #[arg(long = "in")]
    pub input: bool,
    /// Divert packets the host sends (OUTPUT).
    #[arg(long = "out")]
    pub output: bool,
    /// Divert packets the host forwards (FORWARD).
    #[arg(long)]
    pub forward: bool,
    /// Only packets coming in on / going out of IF; stop with an error
    /// when IF is deleted.
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interface: Option<String>,
    /// Forwarded packets arriving on IF count as the upper (host) side;
    /// repeat for several.
    #[arg(long, value_name = "IF", requires = "forward")]
    pub forward_upper: Vec<String>,
    /// Netfilter queue (or NFLOG group) number.
    #[arg(long, value_name = "N", default_value_t = 7700)]
    pub queue: u16,
    /// Drop packets when the queue is full or this program is gone
    /// (default: accept them).
    #[arg(long)]
    pub fail_closed: bool,
    /// IPv4 only.
    #[arg(short = '4', conflicts_with = "ipv6_only")]
    pub ipv4_only: bool,
    /// IPv6 only.
    #[arg(short = '6')]
    pub ipv6_only: bool,
    /// Run the filter in user space even when it fits the kernel's bpf
    /// match.
    #[arg(long)]
    pub user_filter: bool,
    /// Let the kernel segment GSO packets before queueing them.
    #[arg(long)]
    pub no_gso: bool,
    /// Packets that may wait for a verdict.
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub queue_len: u32,
    /// Socket receive buffer, in MiB.
    #[arg(long = "buffer", value_name = "MB", default_value_t = 64)]
    pub buffer: usize,
    /// The rule tool to use (default: the first that works).
    #[arg(long, value_enum)]
    pub tool: Option<ToolArg>,
}

/// The ids of the wire-mode flags ([`crate::cmd::bridge::WireArgs`]) that
/// mean nothing in host mode: a command with a `--host` flag makes them
/// conflict with it.
pub const WIRE_ONLY: [&str; 13] = [
    "upper",
    "lower",
    "write",
    "write_dropped",
    "file_size",
    "rotate_secs",
    "file_count",
    "ring",
    "block_timeout",
    "batch",
    "spin",
    "no_offload_state",
    "realtime",
];

/// The ids of the host-mode flags ([`HostArgs`]): a command with a
/// `--host` flag makes them require it.
pub const HOST_ONLY: [&str; 14] = [
    "input",
    "output",
    "forward",
    "interface",
    "forward_upper",
    "queue",
    "fail_closed",
    "ipv4_only",
    "ipv6_only",
    "user_filter",
    "no_gso",
    "queue_len",
    "buffer",
    "tool",
];

/// For a command with both modes, applied to each of its flags
/// (`#[command(mut_args(host_or_wire))]`): `--upper` and `--lower` are
/// required unless `--host` is given (then they are empty); a host-mode
/// flag requires `--host` and conflicts with the interfaces of wire mode.
pub fn host_or_wire(a: clap::Arg) -> clap::Arg {
    let id = a.get_id().as_str();
    if id == "upper" || id == "lower" {
        a.required(false)
            .required_unless_present("host")
            .default_value("")
            .hide_default_value(true)
    } else if HOST_ONLY.contains(&id) {
        a.requires("host").conflicts_with_all(["upper", "lower"])
    } else {
        a
    }
}

/// Rule tools.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ToolArg {
    /// iptables over nf_tables.
    IptablesNft,
    /// Legacy iptables.
    IptablesLegacy,
    /// nft's own queue statement.
    Nft,
}

impl ToolArg {
    fn backend(self) -> Backend {
        match self {
            ToolArg::IptablesNft => Backend::IptablesNft,
            ToolArg::IptablesLegacy => Backend::IptablesLegacy,
            ToolArg::Nft => Backend::Nft,
        }
    }
}

/// What a command adds to the host flags.
#[derive(Clone, Debug)]
pub struct HostRun {
    /// The directions when none of --in, --out, --forward is given.
    pub default_directions: Directions,
    /// A pcap-filter expression over the IP packets (`-y RAW`).
    pub filter: Option<String>,
    /// Copies only (NFLOG).
    pub monitor: bool,
    /// No plan, no status line; the account at exit only.
    pub quiet: bool,
    /// Stop after this long.
    pub duration: Option<Duration>,
}

impl HostRun {
    /// Received and sent packets, all of them, until stopped, with a plan
    /// and a status line.
    pub fn new() -> HostRun {
        HostRun {
            default_directions: Directions {
                input: true,
                output: true,
                forward: false,
            },
            filter: None,
            monitor: false,
            quiet: false,
            duration: None,
        }
    }
}

impl Default for HostRun {
    fn default() -> HostRun {
        HostRun::new()
    }
}

impl HostArgs {
    /// The directions the flags choose, or `default` without any.
    pub fn directions(&self, default: Directions) -> Directions {
        if self.input || self.output || self.forward {
            Directions {
                input: self.input,
                output: self.output,
                forward: self.forward,
            }
        } else {
            default
        }
    }
}

/// Builds the engine's configuration from the flags.
pub fn host_config(args: &HostArgs, run: &HostRun) -> anyhow::Result<HostConfig> {
    let mut cfg = HostConfig::new();
    cfg.directions = args.directions(run.default_directions);
    cfg.filter = run.filter.clone();
    cfg.monitor = run.monitor;
    cfg.queue = args.queue;
    cfg.fail_open = !args.fail_closed;
    cfg.ipv4 = !args.ipv6_only;
    cfg.ipv6 = !args.ipv4_only;
    cfg.interface = args.interface.clone();
    cfg.forward_upper = args.forward_upper.clone();
    cfg.kernel_filter = !args.user_filter;
    cfg.gso = !args.no_gso;
    if args.queue_len == 0 {
        return Err(usage("--queue-len must be at least 1"));
    }
    cfg.queue_len = args.queue_len;
    if args.buffer == 0 || args.buffer > 4096 {
        return Err(usage("--buffer takes 1 to 4096 MiB"));
    }
    cfg.rcvbuf = args.buffer << 20;
    if let Some(t) = args.tool {
        cfg.backends = vec![t.backend()];
    }
    if run.monitor && args.fail_closed {
        return Err(usage(
            "--fail-closed has no meaning with --monitor (copies never hold traffic)",
        ));
    }
    Ok(cfg)
}

/// Opens host mode, runs `handler` until a signal or `--duration`, drawing
/// live counters meanwhile, closes (removing the rules), prints the
/// account to stderr, and returns it with the handler.
///
/// The account is printed whatever happened; an error of the run or of
/// closing is returned after it.
pub fn run_host<H: Handler>(
    args: &HostArgs,
    run: &HostRun,
    mut handler: H,
) -> anyhow::Result<(Summary, H)> {
    let cfg = host_config(args, run)?;
    let dirs = cfg.directions;
    let stopper = Stopper::install()?;
    let mut r = HostRedirector::open(cfg).context("starting host mode")?;
    r.set_stopper(stopper.interrupt());
    if !run.quiet {
        let mut e = std::io::stderr().lock();
        let dirs = [
            (dirs.input, "received"),
            (dirs.output, "sent"),
            (dirs.forward, "forwarded"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| *w)
        .collect::<Vec<_>>()
        .join(", ");
        let _ = writeln!(e, "diverting {dirs} packets: {}", r.plan());
    }

    // The status line runs beside the engine, reading the shared counters;
    // it also ends a run with --duration.
    let counters = r.counters();
    let done = Arc::new(AtomicBool::new(false));
    let status = {
        let done = Arc::clone(&done);
        let wanted = !run.quiet;
        let duration = run.duration;
        let stop = stopper.interrupt();
        std::thread::spawn(move || {
            let mut line = StatusLine::new(wanted);
            let start = Instant::now();
            while !done.load(Ordering::Relaxed) {
                if duration.is_some_and(|d| start.elapsed() >= d) {
                    stop.trigger();
                }
                if line.due() {
                    let c = counters.snapshot();
                    let secs = start.elapsed().as_secs_f64().max(1e-3);
                    let all = c.upper.frames_in + c.lower.frames_in;
                    line.draw(&format!(
                        "{} out  {} in  {} passed  {} dropped  {} injected  {} packets/s  {}bit/s",
                        c.upper.frames_in,
                        c.lower.frames_in,
                        c.passed,
                        c.dropped(),
                        c.injected,
                        si(all as f64 / secs),
                        si((c.upper.bytes_in + c.lower.bytes_in) as f64 * 8.0 / secs)
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    let result = r.run(&mut handler);
    done.store(true, Ordering::Relaxed);
    let _ = status.join();
    let closed = r.close();
    match &closed {
        Ok(summary) => {
            let mut e = std::io::stderr().lock();
            let _ = writeln!(e, "{summary}");
        }
        Err(e) => eprintln!("sluice: closing host mode: {e}"),
    }
    result.context("host mode stopped")?;
    let summary =
        closed.context("closing host mode (sluice divert --cleanup removes what is left)")?;
    Ok((summary, handler))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        host: HostArgs,
    }

    #[test]
    fn directions_default_per_command() {
        let echo = Directions {
            input: false,
            output: true,
            forward: false,
        };
        let t = T::parse_from(["t"]);
        assert_eq!(t.host.directions(echo), echo);
        let t = T::parse_from(["t", "--in", "--forward"]);
        let d = t.host.directions(echo);
        assert!(d.input && !d.output && d.forward);
    }

    #[test]
    fn bad_settings_are_usage_errors() {
        let t = T::parse_from(["t", "--queue-len", "0"]);
        assert!(host_config(&t.host, &HostRun::new()).is_err());
        let t = T::parse_from(["t", "--buffer", "5000"]);
        assert!(host_config(&t.host, &HostRun::new()).is_err());
        let t = T::parse_from(["t", "--fail-closed"]);
        let mut run = HostRun::new();
        run.monitor = true;
        assert!(host_config(&t.host, &run).is_err());
        let t = T::parse_from(["t", "-6", "--queue", "9", "--tool", "nft"]);
        let c = host_config(&t.host, &HostRun::new()).unwrap();
        assert!(!c.ipv4 && c.ipv6 && c.queue == 9);
        assert_eq!(c.backends, vec![Backend::Nft]);
    }
}
