//! `sluice echo`: a node that does not exist answers ARP and ICMP echo
//! (IPv6 neighbour solicitation and ICMPv6 echo) for its addresses, so
//! `ping ADDR` works from the host side. Wire mode.

use std::io::Write;
use std::net::IpAddr;

use clap::Args;
use sluice_redirect::samples::{Echo, EchoConfig};

use crate::cmd::bridge::{WireArgs, print_summary, run_wire};
use crate::live::{parse_mac, usage};

/// `sluice echo` flags.
#[derive(Args, Debug)]
pub struct EchoArgs {
    #[command(flatten)]
    pub wire: WireArgs,
    /// An address of the node (IPv4 or IPv6; give both with two --ip).
    #[arg(long = "ip", value_name = "ADDR", required = true)]
    pub ip: Vec<IpAddr>,
    /// The node's MAC address (default: 02:ec: and four bytes of the
    /// address).
    #[arg(long, value_parser = parse_mac)]
    pub mac: Option<[u8; 6]>,
}

/// Runs `sluice echo`.
pub fn run(args: EchoArgs) -> anyhow::Result<()> {
    let v4: Vec<_> = args
        .ip
        .iter()
        .filter_map(|a| match a {
            IpAddr::V4(a) => Some(*a),
            _ => None,
        })
        .collect();
    let v6: Vec<_> = args
        .ip
        .iter()
        .filter_map(|a| match a {
            IpAddr::V6(a) => Some(*a),
            _ => None,
        })
        .collect();
    if v4.len() > 1 || v6.len() > 1 {
        return Err(usage("at most one IPv4 and one IPv6 address"));
    }
    let mut config = EchoConfig::new(v4.first().copied(), v6.first().copied());
    if let Some(mac) = args.mac {
        config.mac = mac;
    }
    let node = Echo::new(config);
    let filter = node.filter();
    if !args.wire.quiet {
        let m = config.mac;
        eprintln!(
            "answering for {} at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} (redirect filter: {filter})",
            args.ip
                .iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            m[0],
            m[1],
            m[2],
            m[3],
            m[4],
            m[5]
        );
    }
    let (summary, node) = run_wire(&args.wire, Some(filter), false, node)?;
    let mut e = std::io::stderr().lock();
    print_summary(&mut e, &args.wire, &summary);
    let s = node.stats;
    let _ = writeln!(
        e,
        "answered: {} ARP, {} ICMP echo, {} neighbour solicitations, {} ICMPv6 echo; {} requests for the node not answered",
        s.arp, s.icmp, s.ndp, s.icmp6, s.ignored
    );
    Ok(())
}
