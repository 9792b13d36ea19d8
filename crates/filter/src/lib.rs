//! The pcap-filter language compiled to classic BPF.
//!
//! sluice compiles the filter expressions users know from tcpdump
//! (pcap-filter(7), as libpcap 1.10 accepts them) itself, without libpcap
//! at run time, so that one program serves the kernel's socket filter, the
//! offline VM of `sluice-bpf` and the iptables `bpf` match.
//!
//! ```
//! use sluice_filter::{compile, Options};
//!
//! let prog = compile("tcp port 80 and not host 10.77.0.1", &Options::default())?;
//! assert!(prog.len() < 40);
//! # Ok::<(), sluice_filter::CompileError>(())
//! ```
//!
//! # The pipeline
//!
//! Each stage has its own module and representation, and each prints
//! itself (`sluice debug ast|ir|bpf EXPR`):
//!
//! 1. [`parse`] — the lexer follows libpcap's scanner (longest match,
//!    keywords before names: `hostx` is a name, `tcp-syn` the number 2,
//!    `len-1` one name), and the parser its grammar: `and` and `or` of
//!    equal precedence, grouping to the left; a bare value inherits the
//!    qualifiers before it (`tcp port 80 or 443`); `%` and `^` take all
//!    of their right side. The result is an [`ast::Ast`] in an arena, with
//!    every id's qualifiers resolved and every node's span kept.
//!    Parentheses nest at most [`parse::NESTING_LIMIT`] deep; chains of
//!    any length cost no stack.
//! 2. [`lower`] — the tree becomes an [`ir::Ir`]: a control-flow graph of
//!    basic blocks of BPF statements, each ending in a conditional
//!    branch, a jump or a return. Lowering follows libpcap's code
//!    generator primitive by primitive — the same tests in the same order,
//!    the same encapsulation state (`vlan`, `mpls`, `pppoes` and `geneve`
//!    move the offsets of everything after them), the same scratch
//!    registers — so that the unoptimised program means exactly what
//!    libpcap's unoptimised program means, truncated packets included.
//! 3. [`opt`] — semantics-preserving passes, one per module and each
//!    switchable ([`opt::Passes`]): constant folding and propagation with
//!    value numbering (which also reuses loads and drops recomputations),
//!    redundant-test removal from dominating facts (a test that pinned a
//!    value to a constant decides later tests on values computed from
//!    it), jump threading along edges, removal of tests whose outcome
//!    does not change where the program goes, test hoisting in `or` and
//!    `and` chains, peephole rewrites, dead-store elimination, guards
//!    (loads kept only to reject short packets) moved to where they cost
//!    no jump, masked loads narrowed to the bytes tested, unreachable
//!    blocks and identical blocks. A few choices of passes are tried and
//!    the shortest program kept. No pass drops or narrows a load that
//!    could reject a packet unless the packet is rejected anyway.
//!    `Options::optimize = false` skips them all (`-O0`).
//! 4. [`codegen`] — blocks laid out so that every `goto` it can falls
//!    into its target; a conditional jump farther than 255 instructions
//!    goes through a `ja`. The instructions become a [`sluice_bpf::Program`],
//!    validated with the kernel's rules.
//!
//! # Targets
//!
//! [`Target::Offline`] is for capture files and the VM: VLAN tags are in
//! the frame. [`Target::LinuxSocket`] is for a program attached to an
//! AF_PACKET socket, compiled as libpcap compiles for a live Linux capture:
//! the kernel has removed the outer VLAN tag and `vlan` reads it with the
//! `SKF_AD_VLAN_TAG_PRESENT` / `SKF_AD_VLAN_TAG` ancillary loads (falling
//! back to the frame when a tag is still inline, with the offsets then
//! kept in scratch registers); `inbound`, `outbound` and `ifindex` read
//! the packet type and interface the same way. So the two targets part
//! ways after a `vlan` in mid-expression, as libpcap's do: a capture
//! file's program moves the offsets for everything after `vlan` in the
//! text, a socket's only on the paths where `vlan` found no tag in the
//! metadata and looked in the bytes (`X or vlan and Y` reads Y unshifted
//! when X held). `len` on a socket is the length without the tag the
//! kernel took out. The live tests attach these programs, and libpcap's
//! own for a live capture, to sockets in a lab and check that the kernel
//! lets through what the VM accepts. Link types: EN10MB, RAW,
//! IPV4, IPV6, LINUX_SLL, LINUX_SLL2, NULL and LOOP, each with libpcap's
//! answers (and its refusals: `llc` on raw IP, `vlan` on a cooked
//! capture…).
//!
//! # Errors
//!
//! Whatever libpcap refuses is refused, with a [`CompileError`] of a
//! [`ErrorKind`] that points at the bytes concerned; [`CompileError::render`]
//! shows them:
//!
//! ```text
//! error: expected a port number or name after 'port', found end of expression
//!   tcp port
//!           ^
//! ```
//!
//! Names come from /etc/hosts, /etc/services, /etc/protocols,
//! /etc/networks and /etc/ethers ([`Names`]); nothing is ever looked up in
//! DNS, and an unknown name is an error.
//!
//! # Deliberate differences from libpcap
//!
//! - **Optimised verdicts equal unoptimised ones.** A load past the end of
//!   a truncated packet rejects it; libpcap's optimiser drops and reorders
//!   such loads, so its optimised program sometimes accepts what its own
//!   unoptimised program rejects. Ours never does: a load is dropped or
//!   skipped only when earlier loads, or later ones on every accepting
//!   path, already cover it. This costs a few instructions on some
//!   expressions (`port 80 or 443` re-reads a port where libpcap tests
//!   the one in hand first; `ip6 net fd77::/32` keeps a load of the last
//!   word of the address, which the unoptimised program reads). Over the
//!   differential tests' corpus our programs are a quarter shorter than
//!   libpcap's in total; of the expressions where ours is longer, most
//!   come with a packet that libpcap's shorter program gets wrong.
//! - **`protochain` is unrolled.** libpcap walks the header chain with a
//!   backward jump, which the kernel refuses; we follow
//!   [`lower::PROTOCHAIN_DEPTH`] extension headers, then test the
//!   protocol reached.
//! - **Scratch memory starts at zero.** After `geneve` in one branch of an
//!   `or`, libpcap's program may read scratch words no path stored (its
//!   interpreter leaves them undefined, the kernel refuses the program);
//!   ours stores zeros first.
//! - **`inbound`, `outbound` and `ifindex` offline** are refused on link
//!   types that do not record them (as libpcap refuses them when reading
//!   a file), and compile to ancillary loads for the Linux socket target.
//! - libpcap 1.10's optimiser bugs (`link[0] & 0xffffffff != 0` accepting
//!   everything) are not reproduced: the unoptimised meaning is the
//!   reference.
//! - An expression that provably rejects every packet is refused when the
//!   optimiser proves it, as libpcap refuses it; the two optimisers do
//!   not prove it for exactly the same expressions.
//! - Parentheses nest at most [`parse::NESTING_LIMIT`] deep (libpcap's
//!   parser stops at about 10,000).
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
    // Every statement, branch and return is an instruction (only jumps to
    // the next block are free): past the kernel's limit, stop here.
    let order = ir.topo_order().unwrap_or_default();
    let least: usize = order
        .iter()
        .map(|b| {
            let blk = &ir.blocks[*b];
            blk.stmts.len() + usize::from(!matches!(blk.term, ir::Term::Goto(_)))
        })
        .sum();
    if least > sluice_bpf::insn::MAXINSNS {
        return Err(CompileError::new(
            ErrorKind::Limit,
            0..expr.len(),
            format!(
                "the program needs at least {least} instructions, more than the {} the kernel accepts",
                sluice_bpf::insn::MAXINSNS
            ),
        ));
    }
    Ok(codegen::codegen(&ir))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::RunMeta;
    use proptest::prelude::*;

    fn err(expr: &str) -> String {
        match compile(expr, &Options::default()) {
            Ok(_) => panic!("{expr} compiled"),
            Err(e) => e.render(expr),
        }
    }

    #[test]
    fn diagnostics_are_exact() {
        let cases: &[(&str, &str)] = &[
            (
                "tcp port",
                "error: expected a port number or name after 'port', found end of expression\n  tcp port\n          ^",
            ),
            (
                "host 1.2.3.4 ant port 80",
                "error: expected 'and', 'or' or the end of the expression, found 'ant'\n  host 1.2.3.4 ant port 80\n               ^^^",
            ),
            (
                "port 70000",
                "error: illegal port number 70000 > 65535\n  port 70000\n       ^^^^^",
            ),
            (
                "tcp host 10.0.0.1",
                "error: 'tcp' cannot qualify a host (only ip, arp, rarp and decnet can)\n  tcp host 10.0.0.1\n           ^^^^^^^^",
            ),
            (
                "net 10.1.2.3/8",
                "error: non-network bits set in \"10.1.2.3/8\"\n  net 10.1.2.3/8\n      ^^^^^^^^^^",
            ),
            (
                "ip broadcast",
                "error: 'ip broadcast' needs the netmask of the capture network, and none was given\n  ip broadcast\n  ^^^^^^^^^^^^",
            ),
            (
                "vlan 5000",
                "error: VLAN ID 5000 is greater than the maximum 4095\n  vlan 5000\n  ^^^^^^^^^",
            ),
            (
                "len / 0 > 1",
                "error: division by zero\n  len / 0 > 1\n  ^^^^^^^",
            ),
            (
                "tcp and 80",
                "error: '80' has no qualifiers to inherit: write what it is, as in 'host 80' or 'port 80'\n  tcp and 80\n          ^^",
            ),
            (
                "ether[0:3] = 1",
                "error: a load size must be 1, 2 or 4, not 3\n  ether[0:3] = 1\n  ^^^^^^^^^^",
            ),
            (
                "(tcp or udp",
                "error: this '(' is never closed\n  (tcp or udp\n  ^",
            ),
            (
                "host 10.0.0.1 #",
                "error: unexpected character '#'\n  host 10.0.0.1 #\n                ^",
            ),
            (
                "gateway 1.2.3.4",
                "error: 'gateway' requires a host name, not an address\n  gateway 1.2.3.4\n          ^^^^^^^",
            ),
            (
                "ether host 1:2:3:4:5",
                "error: '1:2:3:4:' is not a valid MAC address (six bytes are needed)\n  ether host 1:2:3:4:5\n             ^^^^^^^^",
            ),
            (
                "ip and not ip",
                "error: the expression rejects every packet\n  ip and not ip\n  ^^^^^^^^^^^^^",
            ),
            (
                "inbound",
                "error: inbound/outbound cannot be tested on EN10MB captures read from a file (the direction is not recorded); it works on LINUX_SLL, LINUX_SLL2 and the Linux socket target\n  inbound\n  ^^^^^^^",
            ),
        ];
        for (expr, want) in cases {
            assert_eq!(&err(expr), want, "{expr}");
        }
    }

    #[test]
    fn linktype_refusals() {
        let raw = Options {
            linktype: LinkType::RAW,
            ..Options::default()
        };
        for e in [
            "llc",
            "vlan",
            "ether host 00:11:22:33:44:55",
            "ether broadcast",
            "mpls",
        ] {
            assert_eq!(
                compile(e, &raw).unwrap_err().kind(),
                ErrorKind::Unsupported,
                "{e}"
            );
        }
        let sll2 = Options {
            linktype: LinkType::LINUX_SLL2,
            ..Options::default()
        };
        assert!(compile("inbound and ifindex 3", &sll2).is_ok());
        let live = Options {
            target: Target::LinuxSocket,
            ..Options::default()
        };
        assert!(compile("outbound and vlan 10 and ifindex 2", &live).is_ok());
    }

    #[test]
    fn accepting_value_is_the_snaplen() {
        let p = compile("", &Options::default()).unwrap();
        assert_eq!(p.insns().len(), 1);
        assert_eq!(p.insns()[0].k, 262_144);
        let o = Options {
            snaplen: 96,
            ..Options::default()
        };
        let p = compile("tcp", &o).unwrap();
        assert!(p.insns().iter().any(|i| i.code == 0x06 && i.k == 96));
    }

    #[test]
    fn long_or_chain_compiles_without_recursion() {
        // 100,000 terms: too long for a program, but refused cleanly.
        let mut s = String::from("host 10.0.0.1");
        for _ in 0..100_000 {
            s.push_str(" or 10.0.0.2");
        }
        let e = compile(&s, &Options::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Limit);
    }

    /// Expressions from a small grammar, for the -O0 / -O agreement check.
    fn arb_expr() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            (0u8..4, 0u8..3).prop_map(|(d, h)| format!(
                "{}host 10.0.0.{h}",
                ["", "src ", "dst ", "src and dst "][d as usize]
            )),
            (0u16..3, 0u8..3).prop_map(|(p, q)| format!(
                "{}port {}",
                ["", "tcp ", "udp "][q as usize],
                [80, 443, 53][p as usize]
            )),
            prop::sample::select(vec![
                "tcp",
                "udp",
                "icmp",
                "ip",
                "ip6",
                "arp",
                "vlan",
                "vlan 5",
                "mpls",
                "pppoes",
                "llc",
                "stp",
                "ip multicast",
                "ether broadcast",
                "ip6 protochain 6",
                "net 10.0.0.0/24",
                "tcp[13] & 2 != 0",
                "ip[0] & 0xf > 5",
                "len > 60",
                "icmp[0] = 8",
                "ether[12:2] = 0x800",
                "ip6 host fd77::1",
                "greater 40",
            ])
            .prop_map(str::to_string),
        ];
        leaf.prop_recursive(4, 24, 3, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
                inner.prop_map(|a| format!("not ({a})")),
            ]
        })
    }

    fn frame(seed: &[u8]) -> Vec<u8> {
        // An Ethernet/IPv4/TCP or UDP frame shaped by the seed, cut short
        // by its last byte.
        let mut f = vec![0u8; 64];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = if seed.first().copied().unwrap_or(0) & 1 == 0 {
            6
        } else {
            17
        };
        f[26..30].copy_from_slice(&[10, 0, 0, seed.get(1).copied().unwrap_or(0) % 3]);
        f[30..34].copy_from_slice(&[10, 0, 0, seed.get(2).copied().unwrap_or(0) % 3]);
        f[36] = 0;
        f[37] = [80u8, 53, 187][usize::from(seed.get(3).copied().unwrap_or(0) % 3)];
        for (i, b) in seed.iter().enumerate().skip(4) {
            let at = usize::from(*b) % 64;
            f[at] = f[at].wrapping_add(i as u8);
        }
        let cut = seed.last().map_or(64, |c| 10 + usize::from(*c) % 60);
        f.truncate(cut);
        f
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        #[test]
        fn optimised_agrees_with_unoptimised(expr in arb_expr(), seeds in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 1..12)) {
            let names = Names::system();
            let base = Options::default();
            let ast = parse::parse(&expr).unwrap();
            let lowered = lower::lower(&ast, &base, names);
            prop_assume!(lowered.is_ok());
            let (ir0, _) = lowered.unwrap();
            let mut ir1 = ir0.clone();
            opt::optimize(&mut ir1);
            let p0 = compile_with_names(&expr, &Options { optimize: false, ..base }, names).unwrap();
            let p1 = compile_with_names(&expr, &base, names);
            for s in &seeds {
                let f = frame(s);
                let meta = RunMeta { wire_len: f.len() as u32, ..RunMeta::default() };
                let a = ir0.run(&f, &meta);
                let b = ir1.run(&f, &meta);
                prop_assert_eq!(a, b, "IR {} on {:02x?}", expr, f);
                let v0 = p0.run(&f, f.len() as u32, &sluice_bpf::Meta::default());
                prop_assert_eq!(a, v0, "-O0 program {}", expr);
                if let Ok(p1) = &p1 {
                    let v1 = p1.run(&f, f.len() as u32, &sluice_bpf::Meta::default());
                    prop_assert_eq!(a, v1, "-O program {}", expr);
                } else {
                    prop_assert_eq!(a, 0);
                }
            }
        }
    }

    /// Crashers the fuzz targets found, kept and replayed.
    #[test]
    fn fuzz_regressions() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
        for target in ["filter_parse", "filter_opt"] {
            let Ok(entries) = std::fs::read_dir(dir.join(target)) else {
                continue;
            };
            for e in entries.flatten() {
                let data = std::fs::read(e.path()).unwrap();
                // filter_parse: byte 0 selects the options; filter_opt
                // regressions are kept as the expression text.
                let (sel, text) = if target == "filter_parse" {
                    match data.split_first() {
                        Some((s, t)) => (*s, String::from_utf8_lossy(t).into_owned()),
                        None => continue,
                    }
                } else {
                    (8, String::from_utf8_lossy(&data).into_owned())
                };
                for optimize in [false, sel & 8 != 0] {
                    let o = Options {
                        optimize,
                        ..Options::default()
                    };
                    if let Err(err) = compile(&text, &o) {
                        assert!(err.render(&text).contains('^'));
                    }
                }
            }
        }
    }
}
