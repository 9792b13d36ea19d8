//! `sluice lab`: a throwaway network of three namespaces for demos, tests
//! and benchmarks (see `sluice_linux::lab` for the topology).

use std::process::Command;

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use sluice_linux::lab::{Lab, LabOptions, Ns};

use crate::live::usage;

/// `sluice lab`
#[derive(Args, Debug)]
pub struct LabArgs {
    /// What to do with the lab.
    #[command(subcommand)]
    pub action: LabAction,
}

/// The lab's subcommands.
#[derive(Subcommand, Debug)]
pub enum LabAction {
    /// Build a lab and print its names, addresses and how to use it.
    Up {
        /// Name prefix of the namespaces (1 to 12 of a-z, 0-9).
        #[arg(long, default_value = "lab")]
        prefix: String,
        /// Join up0 and lo0 with a Linux bridge in the middle (the
        /// baseline), so h and n can talk at once.
        #[arg(long)]
        kbridge: bool,
        /// Turn TSO, GSO, GRO and TX checksumming on or off on the veths.
        #[arg(long, value_enum)]
        offloads: Option<OnOff>,
        /// MTU of the veths.
        #[arg(long, value_name = "BYTES")]
        mtu: Option<u32>,
    },
    /// Remove a lab.
    Down {
        /// Name prefix of the lab.
        #[arg(long, default_value = "lab")]
        prefix: String,
        /// Also remove labs left behind by processes that died (tests that
        /// were killed).
        #[arg(long)]
        cleanup: bool,
    },
    /// Show a lab's namespaces and addresses.
    Status {
        /// Name prefix of the lab.
        #[arg(long, default_value = "lab")]
        prefix: String,
    },
    /// Run a command in one of the lab's namespaces: `sluice lab exec h --
    /// ping -c 3 10.77.X.2`.
    Exec {
        /// The namespace: h (host side), n (network side), m (middle).
        #[arg(value_enum)]
        ns: NsArg,
        /// Name prefix of the lab.
        #[arg(long, default_value = "lab")]
        prefix: String,
        /// The command and its arguments.
        #[arg(last = true, required = true, value_name = "CMD")]
        command: Vec<String>,
    },
    /// Remove labs left behind by processes that died.
    Cleanup,
}

/// `--offloads`
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// On.
    On,
    /// Off.
    Off,
}

/// A lab namespace on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum NsArg {
    /// The host side.
    #[value(alias = "host")]
    H,
    /// The network side.
    #[value(alias = "net")]
    N,
    /// The middle.
    #[value(alias = "middle")]
    M,
}

impl NsArg {
    fn ns(self) -> Ns {
        match self {
            NsArg::H => Ns::Host,
            NsArg::N => Ns::Net,
            NsArg::M => Ns::Middle,
        }
    }
}

/// Runs `sluice lab`.
pub fn run(args: LabArgs) -> anyhow::Result<()> {
    match args.action {
        LabAction::Up {
            prefix,
            kbridge,
            offloads,
            mtu,
        } => {
            let mut o = LabOptions::new();
            o.prefix = Some(prefix);
            o.kbridge = kbridge;
            o.offloads = offloads.map(|v| v == OnOff::On);
            o.mtu = mtu;
            let lab = Lab::up(&o)?;
            print!("{}", describe(&lab));
            lab.persist();
            Ok(())
        }
        LabAction::Down { prefix, cleanup } => {
            let mut removed = Lab::remove_prefix(&prefix)?;
            if cleanup {
                removed.extend(Lab::cleanup_stale()?);
            }
            if removed.is_empty() {
                println!("nothing to remove");
            } else {
                println!("removed {}", removed.join(" "));
            }
            Ok(())
        }
        LabAction::Status { prefix } => {
            print!("{}", Lab::attach(&prefix)?.status()?);
            Ok(())
        }
        LabAction::Exec {
            ns,
            prefix,
            command,
        } => {
            let lab = Lab::attach(&prefix)?;
            let words: Vec<&str> = command.iter().map(String::as_str).collect();
            if words.is_empty() {
                return Err(usage("lab exec needs a command after --"));
            }
            let mut cmd: Command = lab.command(ns.ns(), &words)?;
            let status = cmd
                .status()
                .with_context(|| format!("running {:?} in {}", command[0], lab.ns_name(ns.ns())))?;
            if status.success() {
                return Ok(());
            }
            // The command's own exit code passes through, as with `ip netns
            // exec` (128 + the signal's number when a signal ended it), so
            // that scripts can test it.
            let code = status
                .code()
                .or_else(|| std::os::unix::process::ExitStatusExt::signal(&status).map(|s| 128 + s))
                .unwrap_or(1);
            eprintln!(
                "sluice: {:?} in {} ended with {status}",
                command[0],
                lab.ns_name(ns.ns())
            );
            std::process::exit(code)
        }
        LabAction::Cleanup => {
            let removed = Lab::cleanup_stale()?;
            if removed.is_empty() {
                println!("no stale lab namespaces");
            } else {
                println!("removed {}", removed.join(" "));
            }
            Ok(())
        }
    }
}

fn mac(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// The names, addresses and a few commands to try.
fn describe(lab: &Lab) -> String {
    let p = lab.prefix();
    let (h, n, m) = (
        lab.ns_name(Ns::Host),
        lab.ns_name(Ns::Net),
        lab.ns_name(Ns::Middle),
    );
    let join = if lab.kbridge() {
        "joined by the Linux bridge br0".to_string()
    } else {
        "not joined: h and n talk once something in m joins up0 and lo0".to_string()
    };
    format!(
        "lab {p} is up
  {h:<14} host side     eth0 {:<15} {:<12} {}
  {n:<14} network side  eth0 {:<15} {:<12} {}
  {m:<14} middle        up0 (faces {h}) {}, lo0 (faces {n}) {}; {join}
try:
  sluice lab exec h --prefix {p} -- ping -c 3 {}
  sluice lab exec m --prefix {p} -- sluice capture -i up0
  sluice lab exec h --prefix {p} -- sluice gen -i eth0 --count 1000 --udp {}:4000,{}:9 --dst-mac {}
  sluice lab down --prefix {p}
",
        format!("{}/24", lab.host_ip4()),
        lab.host_ip6(),
        mac(lab.mac(Ns::Host, false)),
        format!("{}/24", lab.net_ip4()),
        lab.net_ip6(),
        mac(lab.mac(Ns::Net, false)),
        mac(lab.mac(Ns::Middle, false)),
        mac(lab.mac(Ns::Middle, true)),
        lab.net_ip4(),
        lab.host_ip4(),
        lab.net_ip4(),
        mac(lab.mac(Ns::Net, false)),
    )
}
