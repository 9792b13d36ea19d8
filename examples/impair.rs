//! A WAN emulator on the public API: 40 ms ± 5 ms of delay and 1% loss in
//! both directions between two interfaces, until Ctrl-C.
//!
//! ```text
//! sudo ip netns exec <lab>m cargo run --example impair -- up0 lo0
//! ```

use std::time::Duration;

use sluice::redirect::samples::{Impair, ImpairConfig};
use sluice::redirect::wire::{WireConfig, WireRedirector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(upper), Some(lower)) = (args.next(), args.next()) else {
        eprintln!("usage: impair UPPER LOWER [FILTER]");
        std::process::exit(2);
    };
    let mut h = Impair::new(ImpairConfig {
        delay: Duration::from_millis(40),
        jitter: Duration::from_millis(5),
        loss: 0.01,
        ..ImpairConfig::default()
    })?;
    let mut config = WireConfig::new(upper, lower);
    config.filter = args.next();
    let mut engine = WireRedirector::open(config)?;
    let _signals = sluice::linux::signals::Signals::install(engine.stopper())?;
    let summary = engine.run(&mut h)?;
    let t = &summary.timers;
    eprintln!(
        "{:?}\ntimers: {} fired, mean lateness {:?}, max {} µs",
        h.stats,
        t.fired,
        t.mean(),
        t.late_max_ns / 1000
    );
    Ok(())
}
