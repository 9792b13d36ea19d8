//! Classic BPF programs: instructions, a validated [`Program`], an
//! interpreter with the kernel's and libpcap's semantics, and an assembler
//! and disassembler for the textual forms of `tcpdump -d`, `-dd` and `-ddd`.
//!
//! This crate stands apart from the filter compiler so that the capture
//! rings, the bridge and the offline VM can use programs without pulling in
//! the compiler. It has no `unsafe` code and no dependencies.
//!
//! # Using it
//!
//! ```
//! use sluice_bpf::{Form, Meta, Program, Semantics, asm, disasm};
//!
//! // `tcpdump -ddd 'ip proto 6'`, as iptables takes it.
//! let insns = asm("6,40 0 0 12,21 0 3 2048,48 0 0 23,21 0 1 6,6 0 0 262144,6 0 0 0")?;
//! let prog = Program::new(insns)?;
//! let mut frame = [0u8; 34];
//! frame[12] = 0x08; // EtherType IPv4
//! frame[23] = 6; // protocol TCP
//! assert_eq!(prog.run(&frame, 60, &Meta::default()), 262144);
//! assert!(disasm(prog.insns(), Form::D).starts_with("(000) ldh      [12]\n"));
//!
//! // To agree with tcpdump on a capture file, run with libpcap's semantics.
//! let offline = prog.to_semantics(Semantics::Libpcap);
//! assert!(offline.matches(&frame, 60, &Meta::default()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Validation
//!
//! [`Program::new`] always applies the Linux kernel's rules
//! (`bpf_check_classic` and `check_load_and_stores` in
//! `net/core/filter.c`), so that every `Program` can be attached to a
//! socket as it is:
//!
//! - 1 to 4096 instructions, only the opcodes the kernel knows;
//! - jumps go forward and land inside the program (`ja` included);
//! - the last instruction is `ret #k` or `ret a` — with forward-only jumps
//!   this means every path ends in a return;
//! - no division or modulo by the constant 0, no shift by a constant of 32
//!   or more;
//! - scratch memory indices below 16, and no load from a scratch word
//!   before a store to it, by the kernel's own one-pass flow check (a load
//!   is rejected when some jump into its block comes from a path without
//!   the store);
//! - absolute loads at `SKF_AD_OFF` (0xfffff000) and above only at the 16
//!   ancillary offsets the kernel knows.
//!
//! The error ([`ValidateError`]) names the first offending instruction, the
//! one the kernel stops at. [`validate_libpcap`] applies libpcap's laxer
//! `bpf_validate` instead, for comparison; its documentation lists the
//! differences (no length limit, opcodes checked by class only, no
//! ancillary or shift or scratch-flow check, wrapping `ja` offsets).
//!
//! # Semantics
//!
//! A program starts with A = X = 0 and the scratch memory zeroed. Loads are
//! big-endian. A load that does not fit inside the captured bytes, and a
//! division or modulo by an X of 0, end the program with 0 (reject).
//! `ld #pktlen` loads the wire length given to [`Program::run`] and
//! `ldxb 4*([k]&0xf)` loads four times the low nibble of byte k. The
//! return value is the number of bytes to keep; 0 rejects.
//!
//! Where the kernel and libpcap differ, the [`Semantics`] chosen at
//! construction decides ([`Program::new`] picks the kernel's):
//!
//! | case | kernel | libpcap `bpf_filter` |
//! |---|---|---|
//! | `ld [proto]`, `ldb [vlanp]`, … | the [`Meta`] value, full width whatever the load size | out of the packet: returns 0 |
//! | loads at `SKF_LL_OFF + n` / `SKF_NET_OFF + n` | link-layer / network header + n | returns 0 |
//! | `[x + k]` with `X + k` ≥ 2³² | offset wraps modulo 2³² | returns 0 |
//! | `lsh x` / `rsh x` with X ≥ 32 | shift by `X & 31` | 0 |
//!
//! For the shift, the kernel converts classic BPF to eBPF, whose 32-bit
//! shifts by a register are undefined in C for counts of 32 and more; the
//! x86-64 and arm64 JITs (and the interpreter, compiled for those) use the
//! low five bits, which is what we do. Shifts by a constant of 32 or more
//! never reach the interpreter: the kernel rejects them.
//!
//! The ancillary loads read [`Meta`]: `proto` is the EtherType in host
//! order (the kernel's `ntohs(skb->protocol)`), `type` the packet type (low
//! three bits), `vlan_tci` the whole 16-bit TCI, as current kernels
//! return it (older kernels kept their `VLAN_TAG_PRESENT` flag in bit 12
//! and cleared it from the result; 0 when no tag was stripped), `vlanp` 1 when a tag was stripped, `xor_x` computes A ^ X,
//! and `nla` / `nlan` search the netlink attributes in the packet bytes
//! exactly as the kernel's `nla_find` does (host byte order). `poff`,
//! `rxhash`, `random` and `cpu` are what the caller puts in [`Meta`]; the
//! interpreter does not run the kernel's flow dissector.
//!
//! # Performance
//!
//! [`Program::new`] decodes the instructions once into a compact 16-byte
//! enum with absolute jump targets and the semantics resolved, and adds
//! superinstructions: a packet load or a mask fused with the `jeq`/`jset`
//! after it, and runs of `jeq` that fall through to one another (the
//! or-chains of `host a or host b …`) walked in a tight loop whose next
//! address never waits on the comparison. Conditional jumps are branches,
//! not conditional moves, so the next instruction is fetched on the
//! predicted path. Fused instructions replace only the first of their
//! pair, so jumps into the middle keep working. [`Program::run`]
//! allocates nothing; every packet access is a bounds-checked slice read.
//! The bench `vm` compares it with libpcap's `bpf_filter` on the programs
//! tcpdump compiles for five typical expressions; it is faster on each,
//! most on long or-chains.

//! # Text
//!
//! [`disasm()`] prints a program exactly as `tcpdump -d`, `-dd` and `-ddd`
//! (libpcap 1.10's `bpf_image` and `bpf_dump`) do, ancillary names
//! included; [`asm()`] reads any of the three forms back, and the
//! comma-joined form of iptables `-m bpf --bytecode`. The `-dd` and `-ddd`
//! forms keep every field, so `asm(&disasm(p, form)) == p` for any
//! instructions; the `-d` text drops fields an instruction does not read
//! (libpcap leaves stray values there, `tax` with a k), so there the round
//! trip gives each instruction's [`Insn::canonical`] form.
//!
//! # Panics
//!
//! Nothing in this crate panics on any input: any instruction vector, any
//! packet, any metadata, any text. The fuzz targets `bpf_vm` and `bpf_asm`
//! check this.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod asm;
pub mod disasm;
pub mod insn;
pub mod meta;
pub mod program;
pub mod validate;

pub use asm::{AsmError, AsmErrorKind, asm};
pub use disasm::{Form, disasm, iptables};
pub use insn::Insn;
pub use meta::Meta;
pub use program::{Program, Semantics};
pub use validate::{ValidateError, ValidateErrorKind, validate, validate_libpcap};
