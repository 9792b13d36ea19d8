//! Compiling a pcap-filter expression for the kernel of a capture socket.
//!
//! The expression is compiled by `sluice-filter` for the Linux socket
//! target (VLAN tags and direction read with ancillary loads) and the link
//! type of the interface. For cooked captures (the `any` device) the
//! program is written for `LINUX_SLL2` frames as files hold them and then
//! moved to what the kernel sees ([`sluice_linux::cooked`]).

use sluice_bpf::Insn;
use sluice_filter::{Options, Target};
use sluice_wire::LinkType;

use crate::error::{Error, Result};

/// How to compile a capture filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterSpec {
    /// The link type of the frames (as files hold them).
    pub linktype: LinkType,
    /// The socket is cooked (`SOCK_DGRAM`): the kernel sees no link header.
    pub cooked: bool,
    /// What an accepting program returns.
    pub snaplen: u32,
    /// Run the optimiser (`false` is `-O0`).
    pub optimize: bool,
}

/// Compiles `expr` into the program to attach to a socket described by
/// `spec`. A syntax or semantic error comes back as [`Error::Filter`] with
/// a caret under the offending part of the expression.
pub fn kernel_program(expr: &str, spec: &FilterSpec) -> Result<Vec<Insn>> {
    let opts = Options {
        linktype: spec.linktype,
        snaplen: spec.snaplen,
        optimize: spec.optimize,
        target: Target::LinuxSocket,
        netmask: None,
    };
    let prog = sluice_filter::compile(expr, &opts).map_err(|e| filter_error(expr, e))?;
    let insns = prog.insns().to_vec();
    if spec.cooked {
        Ok(sluice_linux::cooked::cooked_program(&insns)?)
    } else {
        Ok(insns)
    }
}

/// The compiler's error, drawn under the expression.
pub fn filter_error(expr: &str, e: sluice_filter::CompileError) -> Error {
    let rendered = e.render(expr);
    let rendered = match rendered.strip_prefix("error: ") {
        Some(rest) => format!("bad filter expression: {rest}"),
        None => rendered,
    };
    Error::Filter { rendered, error: e }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(linktype: LinkType, cooked: bool) -> FilterSpec {
        FilterSpec {
            linktype,
            cooked,
            snaplen: 262_144,
            optimize: true,
        }
    }

    #[test]
    fn compiles_for_ethernet_and_cooked() {
        let p = kernel_program("udp port 53", &spec(LinkType::ETHERNET, false)).unwrap();
        assert!(p.len() > 4);
        let c = kernel_program("udp port 53", &spec(LinkType::LINUX_SLL2, true)).unwrap();
        // The cooked program reads nothing of the 20-byte header but
        // ancillary fields.
        assert!(c.iter().all(|i| {
            let ld_abs = i.code & 0x07 == 0 && i.code & 0xe0 == 0x20;
            !ld_abs || i.k >= sluice_bpf::insn::ancillary::LL_OFF || i.k < 0x1000
        }));
    }

    #[test]
    fn syntax_errors_point_at_the_expression() {
        let e = kernel_program("udp port", &spec(LinkType::ETHERNET, false)).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("bad filter expression: "), "{text}");
        assert!(text.contains("\n  udp port\n"), "{text}");
        assert!(text.contains('^'), "{text}");
    }
}
