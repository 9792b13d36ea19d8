//! Our side of the comparison: the sluice compiler and VM behind the same
//! small interface as the libpcap oracle.

use std::net::Ipv4Addr;

use sluice_bpf::{Meta, Program, Semantics};
use sluice_filter::{CompileError, Options, Target};
use sluice_pcap_oracle::RawInsn;
use sluice_wire::LinkType;

use crate::SNAPLEN;

/// Compile options for a linktype.
pub fn options(linktype: u32, optimize: bool, netmask: Option<u32>, target: Target) -> Options {
    Options {
        linktype: LinkType(linktype),
        snaplen: SNAPLEN,
        optimize,
        target,
        netmask: netmask.map(Ipv4Addr::from),
    }
}

/// Compiles `expr` with our compiler for the offline target.
pub fn compile(
    expr: &str,
    linktype: u32,
    optimize: bool,
    netmask: Option<u32>,
) -> Result<Program, CompileError> {
    sluice_filter::compile(expr, &options(linktype, optimize, netmask, Target::Offline))
}

/// The instructions of a program as raw tuples.
pub fn raw(prog: &Program) -> Vec<RawInsn> {
    prog.insns()
        .iter()
        .map(|i| (i.code, i.jt, i.jf, i.k))
        .collect()
}

/// Loads raw instructions into our VM with `semantics`, if they pass our
/// validation (libpcap's `protochain` code jumps backwards, which the
/// kernel and so our validator refuse).
pub fn load(insns: &[RawInsn], semantics: Semantics) -> Option<Program> {
    let insns = insns
        .iter()
        .map(|&(code, jt, jf, k)| sluice_bpf::Insn { code, jt, jf, k })
        .collect();
    Program::with_semantics(insns, semantics).ok()
}

/// A runner of `prog` in our VM with libpcap's semantics and no metadata,
/// as for a capture file.
pub fn offline_runner(prog: &Program) -> crate::Runner {
    let prog = prog.to_semantics(Semantics::Libpcap);
    Box::new(move |bytes, wire| prog.run(bytes, wire, &Meta::default()))
}
