//! Command-line flags, defined once with clap's derive; help text, man page
//! and completions all come from these definitions.

use clap::{Parser, Subcommand};

use crate::cmd::{
    bridge::BridgeArgs, capture::CaptureArgs, convert::ConvertArgs, r#gen::GenArgs, info::InfoArgs,
    inject::InjectArgs, lab::LabArgs, print::PrintArgs, stats::StatsArgs,
};

/// Put a user-space program into the Linux network path: capture, filter,
/// redirect, and handle the captures.
#[derive(Parser, Debug)]
#[command(name = "sluice", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Summarise capture files, like capinfos: format, interfaces, counts,
    /// times, rates and the protocol mix.
    Info(InfoArgs),
    /// Print one line per frame, like `tcpdump -n -r`.
    Print(PrintArgs),
    /// Rewrite a capture in another format or timestamp resolution.
    Convert(ConvertArgs),
    /// Keep the frames of a capture that a filter expression matches, like
    /// `tcpdump -r IN -w OUT EXPR`.
    Filter(crate::cmd::filter::FilterArgs),
    /// Compile a filter expression to classic BPF and print it, like
    /// `tcpdump -d`, `-dd`, `-ddd`.
    Compile(crate::cmd::compile::CompileArgs),
    /// Print a stage of the filter compiler: ast, ir or bpf.
    Debug(crate::cmd::debug::DebugArgs),
    /// Capture live traffic to pcapng/pcap files (rotated or not), or print
    /// one line per frame, like tcpdump.
    Capture(CaptureArgs),
    /// Count frames, bytes and rates per interval for a filter, without
    /// copying payloads (statistics mode).
    Stats(StatsArgs),
    /// Send the frames of a capture file on an interface, like tcpreplay.
    Inject(InjectArgs),
    /// Generate UDP test traffic, like trafgen.
    Gen(GenArgs),
    /// Build, inspect and remove a network-namespace lab.
    Lab(LabArgs),
    /// Bridge two interfaces through user space (wire mode pass-through),
    /// with live counters and a summary.
    Bridge(BridgeArgs),
    /// Carry selected frames over UDP to a peer sluice that puts them back on its path.
    Tunnel(crate::cmd::tunnel::TunnelArgs),
    /// Emulate a WAN between two interfaces, or on the host's own traffic
    /// (--host): delay, jitter, loss, duplication, reordering, corruption, rate.
    Impair(crate::cmd::impair::ImpairArgs),
    /// A node that does not exist answers ARP and ping for an address (wire
    /// mode), or the host's own pings to it (host mode, --host).
    Echo(crate::cmd::echo::EchoArgs),
    /// Pass the host's own traffic through user space (netfilter queue),
    /// with counters; --cleanup removes rules a killed run left.
    Divert(crate::cmd::divert::DivertArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish,
    /// powershell) generated from these flags.
    #[command(hide = true)]
    Completions(crate::cmd::docs::CompletionsArgs),
    /// Write man pages generated from these flags into a directory.
    #[command(hide = true)]
    Man(crate::cmd::docs::ManArgs),
}

/// A usage error found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
