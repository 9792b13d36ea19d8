//! Command-line flags, defined once with clap's derive; help text, man page
//! and completions all come from these definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

/// `sluice info`
#[derive(Args, Debug)]
pub struct InfoArgs {
    /// Capture files to summarise (pcap or pcapng; `-` for stdin).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// One JSON object per file on stdout, one per line.
    #[arg(long)]
    pub json: bool,
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

impl PrintArgs {
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

/// Output capture format.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    /// Classic libpcap format.
    Pcap,
    /// pcap next generation.
    Pcapng,
}

/// Timestamp resolution of the output.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsArg {
    /// Nanoseconds.
    Ns,
    /// Microseconds.
    Us,
}

/// `sluice convert`
#[derive(Args, Debug)]
pub struct ConvertArgs {
    /// Input capture (`-` for stdin).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Output capture (`-` for stdout).
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// Output format; by default taken from OUT's extension
    /// (.pcap, .cap → pcap; .pcapng, .ntar → pcapng), else pcapng.
    #[arg(long, value_enum)]
    pub format: Option<FormatArg>,
    /// Timestamp resolution of the output (default: nanoseconds for pcapng;
    /// for pcap, the input's resolution).
    #[arg(long, value_enum)]
    pub ts: Option<TsArg>,
}

/// A usage error found after parsing (exit code 2).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);
