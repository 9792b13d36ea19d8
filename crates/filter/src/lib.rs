//! The pcap-filter language compiled to classic BPF.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod ast;
pub mod codegen;
pub mod error;
pub mod ir;
pub mod lower;
pub mod names;
pub mod opt;
pub mod parse;

use std::net::Ipv4Addr;

pub use error::{CompileError, ErrorKind};
pub use names::Names;
use sluice_bpf::Program;
use sluice_wire::LinkType;

/// Where the program will run; decides how VLAN tags and packet
/// direction are seen on Ethernet.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub enum Target {
    /// A capture file or any offline use: VLAN tags are inline in the
    /// frame; direction and interface are unknown.
    #[default]
    Offline,
    /// A Linux packet socket (`SO_ATTACH_FILTER`): the kernel strips the
    /// outer VLAN tag into metadata, read with ancillary loads, and the
    /// packet type gives the direction.
    LinuxSocket,
}

/// Compilation options.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Options {
    /// The link-layer type of the packets.
    pub linktype: LinkType,
    /// What an accepting program returns (tcpdump's snapshot length).
    pub snaplen: u32,
    /// Run the optimiser (`false` is `-O0`).
    pub optimize: bool,
    /// Where the program runs.
    pub target: Target,
    /// The capture network's netmask, for `ip broadcast`.
    pub netmask: Option<Ipv4Addr>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            linktype: LinkType::ETHERNET,
            snaplen: 262_144,
            optimize: true,
            target: Target::Offline,
            netmask: None,
        }
    }
}

/// Compiles an expression with the system's name databases.
pub fn compile(expr: &str, opts: &Options) -> Result<Program, CompileError> {
    compile_with_names(expr, opts, Names::system())
}

/// Compiles an expression with the given name databases.
pub fn compile_with_names(
    expr: &str,
    opts: &Options,
    names: &Names,
) -> Result<Program, CompileError> {
    let insns = compile_insns(expr, opts, names)?;
    Program::new(insns).map_err(|e| {
        CompileError::new(
            ErrorKind::Limit,
            0..expr.len(),
            format!("the compiled program is not a valid kernel program: {e}"),
        )
    })
}

/// Parses, lowers, optimises (if asked) and lays out an expression.
pub fn compile_insns(
    expr: &str,
    opts: &Options,
    names: &Names,
) -> Result<Vec<sluice_bpf::Insn>, CompileError> {
    let ast = parse::parse(expr)?;
    let (mut ir, no_optimize) = lower::lower(&ast, opts, names)?;
    if opts.optimize {
        opt::optimize(&mut ir);
        if !no_optimize && let ir::Term::Ret(0) = ir.blocks[ir.entry].term {
            return Err(CompileError::new(
                ErrorKind::RejectsAll,
                0..expr.len(),
                "the expression rejects every packet",
            ));
        }
    }
    Ok(codegen::codegen(&ir))
}
