//! `sluice gen`: a traffic generator for tests and benchmarks, like
//! trafgen: Ethernet + IPv4/IPv6 + UDP frames of one size, each carrying a
//! sequence number (8 bytes at the start of the UDP payload, big-endian)
//! so that a receiver can check loss and order.

use std::net::SocketAddr;
use std::time::Duration;

use clap::{Args, ValueEnum};
use sluice_capture::{GenerateOptions, Pace, SendTotals, generate};
use sluice_linux::frames::{UdpFlow, UdpFrames};
use sluice_linux::iface::Interface;
use sluice_linux::tx::{TxConfig, TxRingConfig, TxRingVersion, TxSocket};

use crate::live::{Stopper, parse_duration, parse_mac, parse_udp_pair, usage};

/// How frames are handed to the kernel (shared by `gen` and `inject`).
#[derive(Args, Debug, Clone)]
pub struct TxArgs {
    /// Transmit path: `mmsg` (sendmmsg batches), `ring` (TPACKET_V2 TX
    /// ring) or `ring3` (TPACKET_V3 TX ring).
    #[arg(long = "tx", value_enum, default_value_t = TxPath::Mmsg)]
    pub path: TxPath,
    /// Qdisc layer: `bypass` hands frames straight to the driver
    /// (PACKET_QDISC_BYPASS: faster, no shaping, not seen by captures on
    /// the sending interface), `keep` goes through it. Default: bypass for
    /// gen (as trafgen), keep for inject (as tcpreplay).
    #[arg(long, value_enum)]
    pub qdisc: Option<Qdisc>,
    /// Frames per send call.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub batch: usize,
}

/// `--tx`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TxPath {
    /// `sendmmsg`, up to 256 frames per call.
    Mmsg,
    /// A TPACKET_V2 TX ring.
    Ring,
    /// A TPACKET_V3 TX ring (kernel 4.11).
    Ring3,
}

/// `--qdisc`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Qdisc {
    /// Skip the qdisc layer.
    Bypass,
    /// Go through it.
    Keep,
}

impl TxArgs {
    /// Applies the choices to a socket configuration (`bypass_default`
    /// when `--qdisc` is not given).
    pub fn apply_with(&self, cfg: &mut TxConfig, bypass_default: bool) {
        cfg.qdisc_bypass = match self.qdisc {
            Some(Qdisc::Bypass) => true,
            Some(Qdisc::Keep) => false,
            None => bypass_default,
        };
        cfg.ring = match self.path {
            TxPath::Mmsg => None,
            TxPath::Ring => Some(TxRingConfig::DEFAULT),
            TxPath::Ring3 => Some(TxRingConfig {
                version: TxRingVersion::V3,
                ..TxRingConfig::DEFAULT
            }),
        };
    }

    /// Applies the choices, keeping the qdisc by default (inject).
    pub fn apply(&self, cfg: &mut TxConfig) {
        self.apply_with(cfg, false);
    }
}

/// `sluice gen`
#[derive(Args, Debug)]
pub struct GenArgs {
    /// Interface to send on.
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interface: String,
    /// Frames to send (with --seconds, whichever ends first).
    #[arg(long, value_name = "N", required_unless_present = "seconds")]
    pub count: Option<u64>,
    /// Frame size in bytes, without the 4-byte FCS (60 for the smallest
    /// Ethernet frame, 64 on the wire).
    #[arg(long, value_name = "BYTES", default_value_t = 60)]
    pub size: usize,
    /// Frames per second (default: as fast as possible).
    #[arg(long, value_name = "N")]
    pub pps: Option<f64>,
    /// UDP source and destination.
    #[arg(
        long,
        value_name = "SRC:PORT,DST:PORT",
        default_value = "10.77.0.1:4000,10.77.0.2:9"
    )]
    pub udp: String,
    /// Source MAC address (default: the interface's).
    #[arg(long, value_name = "MAC")]
    pub src_mac: Option<String>,
    /// Destination MAC address (default: broadcast).
    #[arg(long, value_name = "MAC", default_value = "ff:ff:ff:ff:ff:ff")]
    pub dst_mac: String,
    /// Stop after this long (1s, 500ms, 2m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub seconds: Option<Duration>,
    /// Send from N threads (one socket each), like trafgen's -P: thread k
    /// uses source port PORT+k, so each thread's frames are one flow with
    /// its own sequence numbers; --count and --pps are shared out.
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub threads: u16,
    /// How frames are handed to the kernel.
    #[command(flatten)]
    pub tx: TxArgs,
}

/// Runs `sluice gen`.
pub fn run(args: GenArgs) -> anyhow::Result<()> {
    let (src, dst): (SocketAddr, SocketAddr) = parse_udp_pair(&args.udp).map_err(usage)?;
    let dst_mac = parse_mac(&args.dst_mac).map_err(usage)?;
    let src_mac = match &args.src_mac {
        Some(m) => parse_mac(m).map_err(usage)?,
        None => Interface::by_name(&args.interface)?.hwaddr,
    };
    if args.threads == 0 || args.threads > 64 {
        return Err(usage("--threads takes 1 to 64"));
    }
    let n = u64::from(args.threads);
    let mut flows = Vec::new();
    for k in 0..args.threads {
        let mut src = src;
        src.set_port(src.port().wrapping_add(k));
        let frames = UdpFrames::new(
            &UdpFlow {
                src_mac,
                dst_mac,
                src,
                dst,
            },
            args.size,
        )
        .map_err(|e| usage(e.to_string()))?;
        flows.push(frames);
    }
    let pace = match args.pps {
        Some(p) => Pace::Pps(p / n as f64),
        None => Pace::Top,
    };
    pace.validate().map_err(usage)?;
    let stopper = Stopper::install()?;
    let mut cfg = TxConfig::new(args.interface.clone());
    args.tx.apply_with(&mut cfg, true);
    let mut sockets = Vec::new();
    for _ in 0..n {
        sockets.push(TxSocket::open(&cfg)?);
    }
    let results: Vec<anyhow::Result<SendTotals>> = std::thread::scope(|s| {
        let handles: Vec<_> = flows
            .iter()
            .zip(sockets.iter_mut())
            .enumerate()
            .map(|(k, (frames, tx))| {
                let mut opts = GenerateOptions::new(args.count.map(|c| {
                    // Shares of the count: the first threads take the rest.
                    c / n + u64::from((k as u64) < c % n)
                }));
                opts.duration = args.seconds;
                opts.pace = pace;
                opts.batch = args.tx.batch;
                let stopper = &stopper;
                s.spawn(move || -> anyhow::Result<SendTotals> {
                    Ok(generate(frames, tx, &opts, &|| stopper.stopped())?)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("a sender thread panicked")))
            })
            .collect()
    });
    let mut totals = SendTotals::default();
    for r in results {
        let t = r?;
        totals.sent += t.sent;
        totals.bytes += t.bytes;
        totals.failed += t.failed;
        totals.retries += t.retries;
        totals.elapsed = totals.elapsed.max(t.elapsed);
    }
    report(&totals, &args.interface, false);
    Ok(())
}

/// Prints what was sent (stdout), as tcpreplay does.
pub fn report(t: &SendTotals, interface: &str, replay: bool) {
    println!(
        "sent {} frames ({} bytes) on {interface} in {:.3} s: {:.0} frames/s, {:.2} Mbit/s",
        t.sent,
        t.bytes,
        t.elapsed.as_secs_f64(),
        t.pps(),
        t.mbps()
    );
    println!("{} frames failed, {} waits for room", t.failed, t.retries);
    if replay {
        let s = if t.loops == 1 { "" } else { "es" };
        println!("{} pass{s} over the file", t.loops);
        if t.truncated > 0 {
            println!(
                "{} frames were cut short in the file and sent as captured",
                t.truncated
            );
        }
    }
}
