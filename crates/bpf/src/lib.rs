//! Classic BPF programs: instructions, a validated [`Program`], an
//! interpreter with the kernel's and libpcap's semantics, and an assembler
//! and disassembler for the textual forms of `tcpdump -d`, `-dd` and `-ddd`.
//!
//! This crate stands apart from the filter compiler so that the capture
//! rings, the bridge and the offline VM can use programs without pulling in
//! the compiler.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod insn;

pub use insn::Insn;
