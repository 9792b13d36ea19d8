//! A host-mode program: a one-rule firewall written as a handler. The
//! host's own TCP connections to PORT are refused (the SYN is dropped and
//! reported); everything else goes through user space and on, unchanged,
//! until Ctrl-C. Then the rules are removed and the counters printed.
//!
//! ```text
//! sudo ip netns exec <lab>h cargo run --example divert -- 80
//! ```
//!
//! Any [`Handler`] runs the same way in host mode — the samples of wire
//! mode included: frames start at the IP header (`LinkType::RAW`), upper
//! is what the host sends, lower what it receives.

use std::sync::Arc;

use sluice::redirect::host::{HostConfig, HostRedirector, l4};
use sluice::redirect::{Context, FrameMut, Handler, Side, Verdict};

/// Drops TCP SYNs the host sends to one port.
struct Refuse {
    port: u16,
    refused: u64,
}

impl Handler for Refuse {
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let p = frame.data();
        let Some(l) = l4::locate(p) else {
            return Verdict::Pass;
        };
        let Some(tcp) = p.get(l.offset..l.offset + 14) else {
            return Verdict::Pass;
        };
        let dport = u16::from_be_bytes([tcp[2], tcp[3]]);
        let syn_only = tcp[13] & 0x12 == 0x02;
        if frame.side() == Side::Upper && l.protocol == l4::TCP && dport == self.port && syn_only {
            self.refused += 1;
            eprintln!("refused a connection to {}:{dport}", l.dst);
            return Verdict::Drop;
        }
        Verdict::Pass
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::args().nth(1).map(|a| a.parse()) {
        Some(Ok(p)) => p,
        _ => {
            eprintln!("usage: divert PORT");
            std::process::exit(2);
        }
    };
    let mut config = HostConfig::new();
    // Only TCP reaches user space; the kernel's bpf match selects it.
    config.filter = Some("tcp".into());
    let mut divert = HostRedirector::open(config)?;
    eprintln!("{}", divert.plan());
    // SIGINT/SIGTERM trigger the stopper: run returns, close cleans up.
    let _signals = sluice::linux::signals::Signals::install(Arc::clone(&divert.stopper()))?;
    let mut handler = Refuse { port, refused: 0 };
    let ran = divert.run(&mut handler);
    let summary = divert.close()?;
    ran?;
    eprintln!("{summary}");
    eprintln!("{} connections refused", handler.refused);
    Ok(())
}
