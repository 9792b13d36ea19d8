//! A node that does not exist, on the public API: it answers ARP and ping
//! (and IPv6 neighbour solicitation and ping6) for an address, between two
//! interfaces (wire mode), or answers the host's own pings to it (host
//! mode: ICMP and ICMPv6 echo only, since bare IP has no ARP or neighbour
//! discovery; the host must route the address out of an interface), until
//! Ctrl-C.
//!
//! ```text
//! sudo ip netns exec <lab>m cargo run --example echo -- up0 lo0 10.77.X.99
//! sudo ip netns exec <lab>h ping 10.77.X.99
//!
//! sudo ip netns exec <lab>h cargo run --example echo -- --host 10.77.X.99
//! sudo ip netns exec <lab>h ping 10.77.X.99
//! ```

use std::net::IpAddr;

use sluice::redirect::host::{Directions, HostConfig, HostRedirector};
use sluice::redirect::samples::{Echo, EchoConfig};
use sluice::redirect::wire::{WireConfig, WireRedirector};
use sluice::wire::LinkType;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, addrs) = match args.as_slice() {
        [flag, addrs @ ..] if flag == "--host" && !addrs.is_empty() => (None, addrs),
        [upper, lower, addrs @ ..] if !addrs.is_empty() => (Some((upper, lower)), addrs),
        _ => {
            eprintln!("usage: echo UPPER LOWER ADDR [ADDR] | echo --host ADDR [ADDR]");
            std::process::exit(2);
        }
    };
    let (mut v4, mut v6) = (None, None);
    for a in addrs {
        match a.parse::<IpAddr>()? {
            IpAddr::V4(a) => v4 = Some(a),
            IpAddr::V6(a) => v6 = Some(a),
        }
    }
    let mut node = Echo::new(EchoConfig::new(v4, v6));
    let passed = match host {
        Some((upper, lower)) => {
            let mut config = WireConfig::new(upper.as_str(), lower.as_str());
            // Only what the node may answer reaches it; the rest takes the
            // fast path.
            config.filter = Some(node.filter_for(LinkType::ETHERNET));
            let mut engine = WireRedirector::open(config)?;
            let _signals = sluice::linux::signals::Signals::install(engine.stopper())?;
            engine.run(&mut node)?.counters.passed
        }
        None => {
            let mut config = HostConfig::new();
            // The host's own echo requests to the node: they leave through
            // OUTPUT, selected in the kernel.
            config.directions = Directions {
                input: false,
                output: true,
                forward: false,
            };
            config.filter = Some(node.filter_for(LinkType::RAW));
            let mut engine = HostRedirector::open(config)?;
            let _signals = sluice::linux::signals::Signals::install(engine.stopper())?;
            let ran = engine.run(&mut node);
            // Closing removes the rules, whatever the run did.
            let summary = engine.close()?;
            ran?;
            summary.counters.passed
        }
    };
    eprintln!("answered {:?}; {passed} frames passed", node.stats);
    Ok(())
}
