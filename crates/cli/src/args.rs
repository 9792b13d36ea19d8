//! Command-line flags, defined once with clap's derive; help text, man page
//! and completions all come from these definitions.

use clap::{Parser, Subcommand};

use crate::cmd::{convert::ConvertArgs, info::InfoArgs, print::PrintArgs};

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
}

/// A usage error found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
