//! `sluice echo`: a node that does not exist answers ARP and ICMP echo
//! (IPv6 neighbour solicitation and ICMPv6 echo) for its addresses, so
//! `ping ADDR` works from the host side. Wire mode between two interfaces,
//! or host mode (`--host`): the host's own echo requests to ADDR are
//! answered through a netfilter queue. Bare IP has no ARP or neighbour
//! discovery, so in host mode the host must route ADDR somewhere (an
//! on-link subnet, a route out of an interface) for its packets to reach
//! the OUTPUT hook.

use std::io::Write;
use std::net::IpAddr;

use clap::Args;
use sluice_redirect::samples::{Echo, EchoConfig};
use sluice_wire::LinkType;

use crate::cmd::bridge::{WireArgs, print_summary, run_wire};
use crate::cmd::host::{HostArgs, HostRun, WIRE_ONLY, host_or_wire, run_host};
use crate::live::{parse_mac, usage};

/// `sluice echo` flags.
#[derive(Args, Debug)]
#[command(mut_args(host_or_wire))]
pub struct EchoArgs {
    /// Host mode: answer the echo requests the host itself sends to ADDR
    /// (ICMP and ICMPv6 echo only: bare IP has no ARP or neighbour
    /// discovery). The host must route ADDR somewhere — an address in the
    /// subnet of an interface, or `ip route add ADDR dev IF` — so that
    /// its packets reach the OUTPUT hook; the reply is injected towards
    /// the host. With --forward, also those the host routes to ADDR.
    #[arg(long, conflicts_with_all = WIRE_ONLY)]
    pub host: bool,
    /// An address of the node (IPv4 or IPv6; give both with two --ip).
    #[arg(long = "ip", value_name = "ADDR", required = true)]
    pub ip: Vec<IpAddr>,
    /// The node's MAC address (default: 02:ec: and four bytes of the
    /// address). Wire mode only.
    #[arg(long, value_parser = parse_mac, conflicts_with = "host")]
    pub mac: Option<[u8; 6]>,
    #[command(flatten)]
    pub wire: WireArgs,
    #[command(flatten, next_help_heading = "Host mode (with --host)")]
    pub host_mode: HostArgs,
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
    if args.host {
        return run_host_mode(&args, node);
    }
    let filter = node.filter();
    if !args.wire.quiet {
        let m = config.mac;
        eprintln!(
            "answering for {} at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x} (redirect filter: {filter})",
            join(&args.ip),
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

/// `sluice echo --host`: the node answers the host's own echo requests.
fn run_host_mode(args: &EchoArgs, node: Echo) -> anyhow::Result<()> {
    let filter = node.filter_for(LinkType::RAW);
    let run = HostRun {
        default_directions: sluice_redirect::host::Directions {
            input: false,
            output: true,
            forward: false,
        },
        filter: Some(filter.clone()),
        quiet: args.wire.quiet,
        duration: args.wire.duration,
        ..HostRun::new()
    };
    let dirs = args.host_mode.directions(run.default_directions);
    if dirs.input && !dirs.output && !dirs.forward {
        // Packets to an address the host does not have never reach INPUT.
        return Err(usage(
            "echo --host answers packets the host sends (--out) or forwards (--forward); with --in alone it would see none",
        ));
    }
    if !args.wire.quiet {
        eprintln!(
            "answering ICMP echo for {} in host mode (no ARP or neighbour discovery on bare IP)",
            join(&args.ip)
        );
    }
    let (_, node) = run_host(&args.host_mode, &run, node)?;
    let s = node.stats;
    eprintln!(
        "answered: {} ICMP echo, {} ICMPv6 echo; {} packets for the node not answered",
        s.icmp, s.icmp6, s.ignored
    );
    Ok(())
}

fn join(addrs: &[IpAddr]) -> String {
    addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser, Debug)]
    struct T {
        #[command(flatten)]
        echo: EchoArgs,
    }

    fn parse(args: &[&str]) -> Result<EchoArgs, clap::Error> {
        T::try_parse_from(std::iter::once("echo").chain(args.iter().copied())).map(|t| t.echo)
    }

    #[test]
    fn wire_or_host_mode() {
        let a = parse(&["--upper", "u", "--lower", "l", "--ip", "10.77.0.9"]).unwrap();
        assert!(!a.host);
        assert_eq!((a.wire.upper.as_str(), a.wire.lower.as_str()), ("u", "l"));
        let a = parse(&["--host", "--ip", "10.77.0.9", "-q", "--duration", "1s"]).unwrap();
        assert!(a.host && a.wire.quiet);
        assert_eq!(a.wire.duration, Some(std::time::Duration::from_secs(1)));
        let a = parse(&["--host", "--ip", "fd77::9", "--forward", "--queue", "3"]).unwrap();
        assert!(a.host_mode.forward);
        assert_eq!(a.host_mode.queue, 3);
    }

    #[test]
    fn mixed_or_missing_modes_are_refused() {
        use clap::error::ErrorKind;
        // Neither mode.
        let e = parse(&["--ip", "10.77.0.9"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument);
        assert!(e.to_string().contains("--upper"), "{e}");
        // Wire-only flags with --host.
        for extra in [
            &["--upper", "u"][..],
            &["--lower", "l"],
            &["--mac", "02:00:00:00:00:01"],
            &["--ring", "v3"],
            &["-w", "x.pcapng"],
        ] {
            let mut v = vec!["--host", "--ip", "10.77.0.9"];
            v.extend_from_slice(extra);
            let e = parse(&v).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{extra:?}: {e}");
        }
        // Host-mode flags without --host.
        let e = parse(&["--upper", "u", "--lower", "l", "--ip", "10.77.0.9", "--out"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ArgumentConflict, "{e}");
        let e = parse(&["--ip", "10.77.0.9", "--queue", "4"]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::MissingRequiredArgument, "{e}");
        assert!(e.to_string().contains("--host"), "{e}");
        // A host-mode default is not a flag given.
        assert!(parse(&["--upper", "u", "--lower", "l", "--ip", "10.77.0.9"]).is_ok());
    }
}
