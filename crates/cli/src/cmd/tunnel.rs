//! `sluice tunnel`: frames the filter selects are carried in UDP datagrams
//! to a peer sluice, which puts them back on its own path (wire mode).

use std::io::Write;
use std::net::SocketAddr;

use anyhow::Context as _;
use clap::Args;
use sluice_redirect::samples::{Tunnel, TunnelConfig};

use crate::cmd::bridge::{WireArgs, print_summary, run_wire};
use crate::live::usage;

/// `sluice tunnel` flags.
#[derive(Args, Debug)]
pub struct TunnelArgs {
    #[command(flatten)]
    pub wire: WireArgs,
    /// Local UDP address to receive on and send from.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: SocketAddr,
    /// The peer tunnel's address.
    #[arg(long, value_name = "ADDR:PORT")]
    pub peer: SocketAddr,
    /// Compress frames with zstd.
    #[arg(long)]
    pub zstd: bool,
    /// zstd level (1 to 19).
    #[arg(long, default_value_t = 3, requires = "zstd")]
    pub zstd_level: i32,
    /// Largest piece of a frame per datagram (bytes).
    #[arg(long, default_value_t = 1400)]
    pub chunk: usize,
    /// Which frames go through the tunnel (pcap-filter syntax); the rest
    /// pass locally. Default: every frame.
    #[arg(value_name = "EXPR", num_args = 0.., trailing_var_arg = true)]
    pub expr: Vec<String>,
}

/// Runs `sluice tunnel`.
pub fn run(args: TunnelArgs) -> anyhow::Result<()> {
    if !(1..=19).contains(&args.zstd_level) {
        return Err(usage("--zstd level must be between 1 and 19"));
    }
    let mut c = TunnelConfig::new(args.listen, args.peer);
    c.zstd = args.zstd.then_some(args.zstd_level);
    c.chunk = args.chunk;
    let t = Tunnel::open(c).with_context(|| format!("opening the tunnel on {}", args.listen))?;
    let stats = t.stats();
    let expr = args.expr.join(" ");
    let filter = (!expr.trim().is_empty()).then_some(expr);
    if !args.wire.quiet {
        eprintln!(
            "tunnel {} ⇄ {}{}; carrying {}",
            args.listen,
            args.peer,
            if args.zstd { " (zstd)" } else { "" },
            filter.as_deref().unwrap_or("every frame")
        );
    }
    let (summary, t) = run_wire(&args.wire, filter, false, t)?;
    drop(t);
    let s = stats.snapshot();
    let mut e = std::io::stderr().lock();
    print_summary(&mut e, &args.wire, &summary);
    let _ = writeln!(
        e,
        "tunnel out: {} frames, {} bytes ({} on the wire) in {} datagrams; {} not sent",
        s.frames_out, s.bytes_out, s.wire_bytes_out, s.datagrams_out, s.send_failures
    );
    let _ = writeln!(
        e,
        "tunnel in: {} datagrams, {} frames restored ({} bytes); {} malformed, {} from other addresses, {} incomplete, {} undecodable, {} dropped for a full queue",
        s.datagrams_in,
        s.frames_in,
        s.bytes_in,
        s.malformed,
        s.foreign,
        s.incomplete,
        s.bad_payload,
        s.queue_full
    );
    Ok(())
}
