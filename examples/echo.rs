//! A node that does not exist, on the public API: it answers ARP and ping
//! (and IPv6 neighbour solicitation and ping6) for an address, between two
//! interfaces, until Ctrl-C.
//!
//! ```text
//! sudo ip netns exec <lab>m cargo run --example echo -- up0 lo0 10.77.X.99
//! sudo ip netns exec <lab>h ping 10.77.X.99
//! ```

use std::net::IpAddr;

use sluice::redirect::samples::{Echo, EchoConfig};
use sluice::redirect::wire::{WireConfig, WireRedirector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [upper, lower, addrs @ ..] = args.as_slice() else {
        eprintln!("usage: echo UPPER LOWER ADDR [ADDR]");
        std::process::exit(2);
    };
    let (mut v4, mut v6) = (None, None);
    for a in addrs {
        match a.parse::<IpAddr>()? {
            IpAddr::V4(a) => v4 = Some(a),
            IpAddr::V6(a) => v6 = Some(a),
        }
    }
    let mut node = Echo::new(EchoConfig::new(v4, v6));
    let mut config = WireConfig::new(upper.as_str(), lower.as_str());
    // Only what the node may answer reaches it; the rest takes the fast path.
    config.filter = Some(node.filter());
    let mut engine = WireRedirector::open(config)?;
    let _signals = sluice::linux::signals::Signals::install(engine.stopper())?;
    let summary = engine.run(&mut node)?;
    eprintln!(
        "answered {:?}; {} frames passed",
        node.stats, summary.counters.passed
    );
    Ok(())
}
