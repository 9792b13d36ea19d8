//! `sluice divert`: the host's own traffic through user space (host mode),
//! passed on unchanged, with live counters on a terminal and an account
//! at exit; `--cleanup` removes the rules a killed process left.
//!
//! The first SIGINT, SIGTERM or SIGHUP stops it cleanly: the rules are
//! removed, the packets still waiting get an accept verdict, the counters
//! are printed. The host-mode flags and the runner live in
//! [`crate::cmd::host`], shared with `echo --host` and `impair --host`.

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use sluice_linux::nfqueue::rules::{self, CleanupScope};
use sluice_redirect::PassThrough;

use crate::cmd::capture::expression;
use crate::cmd::host::{HostArgs, HostRun, run_host};
use crate::live::parse_duration;

/// `sluice divert`
#[derive(Args, Debug)]
pub struct DivertArgs {
    #[command(flatten)]
    pub host: HostArgs,
    /// See copies only (NFLOG): traffic is never delayed, changed or
    /// dropped.
    #[arg(long)]
    pub monitor: bool,
    /// Remove the rules that a killed `sluice divert` (or `echo --host`,
    /// `impair --host`) left, then exit (with --queue: only those of that
    /// number).
    #[arg(long)]
    pub cleanup: bool,
    /// With --cleanup: also the rules of running processes.
    #[arg(long, requires = "cleanup")]
    pub force: bool,
    /// Stop after this long (e.g. 30s).
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// No plan, no status line; the account at exit only.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// A pcap-filter expression over the IP packets (as `-y RAW`):
    /// only matching packets go through user space.
    #[arg(value_name = "EXPR", trailing_var_arg = true)]
    pub expr: Vec<String>,
}

/// Runs `sluice divert`.
pub fn run(args: DivertArgs) -> anyhow::Result<()> {
    if args.cleanup {
        return cleanup(&args);
    }
    let run = HostRun {
        filter: expression(&args.expr),
        monitor: args.monitor,
        quiet: args.quiet,
        duration: args.duration,
        ..HostRun::new()
    };
    run_host(&args.host, &run, PassThrough).map(|_| ())
}

/// `--cleanup`: remove what killed processes left.
fn cleanup(args: &DivertArgs) -> anyhow::Result<()> {
    let scope = if args.force {
        CleanupScope::All
    } else {
        CleanupScope::DeadOwners
    };
    let explicit_queue = std::env::args().any(|a| a == "--queue" || a.starts_with("--queue="));
    let number = explicit_queue.then_some(args.host.queue);
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
