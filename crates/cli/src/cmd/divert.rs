//! `sluice divert`: the host's own traffic through user space (host mode),
//! passed on unchanged, with live counters on a terminal and an account
//! at exit; `--cleanup` removes the rules a killed process left.
//!
//! The first SIGINT, SIGTERM or SIGHUP stops it cleanly: the rules are
//! removed, the packets still waiting get an accept verdict, the counters
//! are printed.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use sluice_linux::nfqueue::rules::{self, Backend, CleanupScope};
use sluice_redirect::PassThrough;
use sluice_redirect::host::{Directions, HostConfig, HostRedirector};

use crate::cmd::capture::expression;
use crate::live::{StatusLine, Stopper, si, usage};

/// `sluice divert`
#[derive(Args, Debug)]
pub struct DivertArgs {
    /// Divert packets the host receives (INPUT). Without --in, --out or
    /// --forward: received and sent.
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
    /// See copies only (NFLOG): traffic is never delayed, changed or
    /// dropped.
    #[arg(long)]
    pub monitor: bool,
    /// Netfilter queue (or NFLOG group) number.
    #[arg(long, value_name = "N", default_value_t = 7700)]
    pub queue: u16,
    /// Drop packets when the queue is full or this program is gone
    /// (default: accept them).
    #[arg(long)]
    pub fail_closed: bool,
    /// Remove the rules that a killed `sluice divert` left, then exit
    /// (with --queue: only those of that number).
    #[arg(long)]
    pub cleanup: bool,
    /// With --cleanup: also the rules of running processes.
    #[arg(long, requires = "cleanup")]
    pub force: bool,
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
    /// No plan, no status line; the account at exit only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// A pcap-filter expression over the IP packets (as `-y RAW`):
    /// only matching packets go through user space.
    #[arg(value_name = "EXPR", trailing_var_arg = true)]
    pub expr: Vec<String>,
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

/// Runs `sluice divert`.
pub fn run(args: DivertArgs) -> anyhow::Result<()> {
    if args.cleanup {
        return cleanup(&args);
    }
    let mut cfg = HostConfig::new();
    let none = !(args.input || args.output || args.forward);
    cfg.directions = Directions {
        input: args.input || none,
        output: args.output || none,
        forward: args.forward,
    };
    cfg.filter = expression(&args.expr);
    cfg.monitor = args.monitor;
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
        cfg.backends = vec![backend(t)];
    }
    if args.monitor && args.fail_closed {
        return Err(usage(
            "--fail-closed has no meaning with --monitor (copies never hold traffic)",
        ));
    }

    let stopper = Stopper::install()?;
    let mut r = HostRedirector::open(cfg).context("starting host mode")?;
    r.set_stopper(stopper.interrupt());
    if !args.quiet {
        let mut e = std::io::stderr().lock();
        let dirs = [
            (args.input || none, "received"),
            (args.output || none, "sent"),
            (args.forward, "forwarded"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, w)| *w)
        .collect::<Vec<_>>()
        .join(", ");
        let _ = writeln!(e, "diverting {dirs} packets: {}", r.plan());
    }

    // The status line runs beside the engine, reading the shared counters.
    let counters = r.counters();
    let done = Arc::new(AtomicBool::new(false));
    let status = {
        let done = Arc::clone(&done);
        let wanted = !args.quiet;
        std::thread::spawn(move || {
            let mut line = StatusLine::new(wanted);
            let start = Instant::now();
            while !done.load(Ordering::Relaxed) {
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
    let result = r.run(&mut PassThrough);
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
    closed
        .map(|_| ())
        .context("closing host mode (sluice divert --cleanup removes what is left)")
}

fn backend(t: ToolArg) -> Backend {
    match t {
        ToolArg::IptablesNft => Backend::IptablesNft,
        ToolArg::IptablesLegacy => Backend::IptablesLegacy,
        ToolArg::Nft => Backend::Nft,
    }
}

/// `--cleanup`: remove what killed processes left.
fn cleanup(args: &DivertArgs) -> anyhow::Result<()> {
    let scope = if args.force {
        CleanupScope::All
    } else {
        CleanupScope::DeadOwners
    };
    let explicit_queue = std::env::args().any(|a| a == "--queue" || a.starts_with("--queue="));
    let number = explicit_queue.then_some(args.queue);
    let report = rules::cleanup(scope, number).context("removing leftover rules")?;
    let mut out = std::io::stdout().lock();
    for f in &report.removed {
        let owner = f
            .owner
            .map_or_else(|| "an unknown process".to_owned(), |p| format!("pid {p}"));
        writeln!(
            out,
            "removed {} ({}, {}), left by {owner}",
            f.name,
            f.backend.name(),
            if f.ipv6 { "IPv6" } else { "IPv4" }
        )?;
    }
    for f in &report.kept {
        writeln!(
            out,
            "kept {} ({}, {}): pid {} still runs (--force removes it)",
            f.name,
            f.backend.name(),
            if f.ipv6 { "IPv6" } else { "IPv4" },
            f.owner.unwrap_or(0)
        )?;
    }
    if report.removed.is_empty() && report.kept.is_empty() {
        writeln!(out, "no rules of sluice found")?;
    }
    Ok(())
}
