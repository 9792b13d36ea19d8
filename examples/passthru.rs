//! The smallest wire-mode program: every frame between two interfaces goes
//! through user space and back, unchanged, until Ctrl-C.
//!
//! ```text
//! sudo ip netns exec <lab>m cargo run --example passthru -- up0 lo0
//! ```
//!
//! It is `sluice bridge` without the status line: open a
//! [`WireRedirector`] on the two interfaces, stop it from a signal, run
//! the pass-through handler, print the counters.

use std::sync::Arc;

use sluice::redirect::samples::PassThru;
use sluice::redirect::wire::{WireConfig, WireRedirector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(upper), Some(lower)) = (args.next(), args.next()) else {
        eprintln!("usage: passthru UPPER LOWER [FILTER]");
        std::process::exit(2);
    };
    let mut config = WireConfig::new(upper, lower);
    config.filter = args.next();
    let mut bridge = WireRedirector::open(config)?;
    for line in bridge.report().findings() {
        eprintln!("{line}");
    }
    // SIGINT/SIGTERM trigger the bridge's stopper: it drains and returns.
    let _signals = sluice::linux::signals::Signals::install(Arc::clone(&bridge.stopper()))?;
    let summary = bridge.run(&mut PassThru::default())?;
    let c = summary.counters;
    eprintln!(
        "upper→lower {} frames, lower→upper {} frames, dropped {} (kernel {}, send failures {})",
        c.lower.frames_out,
        c.upper.frames_out,
        c.dropped(),
        c.dropped_kernel,
        c.send_failures
    );
    Ok(())
}
