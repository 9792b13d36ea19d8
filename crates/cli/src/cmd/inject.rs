//! `sluice inject`: send the frames of a capture file on an interface, like
//! tcpreplay: at the recorded pace (or faster, slower, at a frame or bit
//! rate, or as fast as possible), once or in a loop.

use std::path::PathBuf;

use clap::Args;
use sluice_capture::{Pace, ReplayOptions, replay};
use sluice_linux::tx::{TxConfig, TxSocket};

use crate::cmd::r#gen::{TxArgs, report};
use crate::live::{Stopper, usage};

/// `sluice inject`
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("pace").multiple(false))]
pub struct InjectArgs {
    /// Interface to send on.
    #[arg(short = 'i', long = "interface", value_name = "IF")]
    pub interface: String,
    /// Capture file to send (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Frames per second.
    #[arg(long, value_name = "N", group = "pace")]
    pub pps: Option<f64>,
    /// Megabits per second (frame bytes).
    #[arg(long, value_name = "N", group = "pace")]
    pub mbps: Option<f64>,
    /// The recorded pace times X (2: twice as fast).
    #[arg(long, value_name = "X", group = "pace")]
    pub speed: Option<f64>,
    /// As fast as the interface takes them.
    #[arg(long, group = "pace")]
    pub topspeed: bool,
    /// Send the file N times (0: until interrupted).
    #[arg(long = "loop", value_name = "N", default_value_t = 1)]
    pub loops: u64,
    /// How frames are handed to the kernel.
    #[command(flatten)]
    pub tx: TxArgs,
}

/// Runs `sluice inject`.
pub fn run(args: InjectArgs) -> anyhow::Result<()> {
    let pace = if args.topspeed {
        Pace::Top
    } else if let Some(p) = args.pps {
        Pace::Pps(p)
    } else if let Some(m) = args.mbps {
        Pace::Mbps(m)
    } else {
        Pace::Recorded(args.speed.unwrap_or(1.0))
    };
    pace.validate().map_err(usage)?;
    let stopper = Stopper::install()?;
    let mut cfg = TxConfig::new(args.interface.clone());
    args.tx.apply(&mut cfg);
    let mut tx = TxSocket::open(&cfg)?;
    let mut opts = ReplayOptions::new(pace);
    opts.loops = args.loops;
    opts.batch = args.tx.batch;
    let totals = replay(&args.file, &mut tx, &opts, &|| stopper.stopped())?;
    report(&totals, &args.interface, true);
    Ok(())
}
