//! One end of a UDP tunnel on the public API: frames matching a filter
//! between two interfaces travel to a peer instead, compressed with zstd;
//! the peer's frames come back the same way.
//!
//! ```text
//! sudo ip netns exec A cargo run --example tunnel -- up0 lo0 10.77.9.1:7000 10.77.9.2:7000 icmp
//! sudo ip netns exec B cargo run --example tunnel -- up0 lo0 10.77.9.2:7000 10.77.9.1:7000 icmp
//! ```

use sluice::redirect::samples::{Tunnel, TunnelConfig};
use sluice::redirect::wire::{WireConfig, WireRedirector};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [upper, lower, listen, peer, filter @ ..] = args.as_slice() else {
        eprintln!("usage: tunnel UPPER LOWER LISTEN:PORT PEER:PORT [FILTER]");
        std::process::exit(2);
    };
    let mut c = TunnelConfig::new(listen.parse()?, peer.parse()?);
    c.zstd = Some(3);
    let mut tunnel = Tunnel::open(c)?;
    let stats = tunnel.stats();
    let mut config = WireConfig::new(upper.as_str(), lower.as_str());
    config.filter = (!filter.is_empty()).then(|| filter.join(" "));
    let mut engine = WireRedirector::open(config)?;
    let _signals = sluice::linux::signals::Signals::install(engine.stopper())?;
    engine.run(&mut tunnel)?;
    eprintln!("{:?}", stats.snapshot());
    Ok(())
}
