//! What the commands that take a filter expression share: the expression
//! arguments (joined with spaces, as tcpdump does) and the compile options.

use clap::Args;
use sluice_filter::{CompileError, Options, Target};
use sluice_wire::LinkType;

use crate::args::UsageError;

/// Compile options and the expression, flattened into a command's flags.
#[derive(Args, Debug, Clone)]
pub struct ExprArgs {
    /// The link-layer type to compile for, by libpcap name (EN10MB, RAW,
    /// LINUX_SLL, LINUX_SLL2, NULL, LOOP, IPV4, IPV6) or number.
    #[arg(
        short = 'y',
        long = "linktype",
        value_name = "NAME",
        default_value = "EN10MB"
    )]
    pub linktype: String,
    /// Snapshot length: what an accepting program returns.
    #[arg(
        short = 's',
        long = "snaplen",
        value_name = "SNAPLEN",
        default_value_t = 262_144
    )]
    pub snaplen: u32,
    /// Optimisation level: 0 turns the optimiser off (`-O0`).
    #[arg(short = 'O', value_name = "LEVEL", default_value_t = 1)]
    pub optimize: u8,
    /// Compile for a Linux packet socket (VLAN tags and direction read from
    /// the kernel's metadata) instead of for files.
    #[arg(long)]
    pub kernel: bool,
    /// Netmask of the capture network, for `ip broadcast`.
    #[arg(long, value_name = "MASK")]
    pub netmask: Option<std::net::Ipv4Addr>,
}

impl ExprArgs {
    /// The compile options these flags say.
    pub fn options(&self) -> anyhow::Result<Options> {
        let linktype = LinkType::from_name(&self.linktype).ok_or_else(|| {
            UsageError(format!(
                "unknown linktype '{}' (try EN10MB, RAW, LINUX_SLL, LINUX_SLL2, NULL, LOOP, IPV4, IPV6 or a number)",
                self.linktype
            ))
        })?;
        Ok(Options {
            linktype,
            snaplen: self.snaplen,
            optimize: self.optimize != 0,
            target: if self.kernel {
                Target::LinuxSocket
            } else {
                Target::Offline
            },
            netmask: self.netmask,
        })
    }
}

/// The expression from the trailing arguments, joined with spaces.
pub fn join(words: &[String]) -> String {
    words.join(" ")
}

/// A compile error as an error value whose text shows the caret.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Diagnostic(pub String);

/// Wraps a compile error with its caret rendering.
pub fn diagnostic(e: &CompileError, expr: &str) -> anyhow::Error {
    anyhow::Error::new(Diagnostic(
        e.render(expr)
            .trim_start_matches("error: ")
            .trim_end()
            .to_string(),
    ))
}
