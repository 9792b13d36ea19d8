//! A WAN emulator on the public API: 40 ms ± 5 ms of delay and 1% loss in
//! both directions, between two interfaces (wire mode) or on the host's
//! own traffic (host mode), until Ctrl-C.
//!
//! ```text
//! sudo ip netns exec <lab>m cargo run --example impair -- up0 lo0 [FILTER]
//! sudo ip netns exec <lab>h cargo run --example impair -- --host [FILTER]
//! ```

use std::time::Duration;

use sluice::redirect::host::{HostConfig, HostRedirector};
use sluice::redirect::samples::{Impair, ImpairConfig};
use sluice::redirect::wire::{WireConfig, WireRedirector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = match (args.next(), args.next()) {
        (Some(flag), filter) if flag == "--host" => Mode::Host { filter },
        (Some(upper), Some(lower)) => Mode::Wire {
            upper,
            lower,
            filter: args.next(),
        },
        _ => {
            eprintln!("usage: impair UPPER LOWER [FILTER] | impair --host [FILTER]");
            std::process::exit(2);
        }
    };
    let mut h = Impair::new(ImpairConfig {
        delay: Duration::from_millis(40),
        jitter: Duration::from_millis(5),
        loss: 0.01,
        ..ImpairConfig::default()
    })?;
    match mode {
        Mode::Wire {
            upper,
            lower,
            filter,
        } => {
            let mut config = WireConfig::new(upper, lower);
            config.filter = filter;
            let mut engine = WireRedirector::open(config)?;
            let _signals = sluice::linux::signals::Signals::install(engine.stopper())?;
            let summary = engine.run(&mut h)?;
            let t = &summary.timers;
            eprintln!(
                "timers: {} fired, mean lateness {:?}, max {} µs",
                t.fired,
                t.mean(),
                t.late_max_ns / 1000
            );
        }
        Mode::Host { filter } => {
            // Received and sent packets: upper is what the host sends.
            let mut config = HostConfig::new();
            config.filter = filter;
            let mut engine = HostRedirector::open(config)?;
            let _signals = sluice::linux::signals::Signals::install(engine.stopper())?;
            let ran = engine.run(&mut h);
            // Closing removes the rules, whatever the run did.
            let summary = engine.close()?;
            ran?;
            eprintln!("{summary}");
        }
    }
    eprintln!("{:?}", h.stats);
    Ok(())
}

enum Mode {
    Wire {
        upper: String,
        lower: String,
        filter: Option<String>,
    },
    Host {
        filter: Option<String>,
    },
}
