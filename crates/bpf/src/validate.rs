//! Static checks on a classic BPF program: the rules of the Linux kernel
//! (`bpf_check_classic` and `check_load_and_stores` in
//! `net/core/filter.c`), which every [`Program`](crate::Program) passes, and
//! libpcap's laxer `bpf_validate`, for comparison.
//!
//! Both checkers walk the program in order and report the first problem
//! they meet, so the error names the same instruction the kernel would
//! have stopped at.

use std::fmt;

use crate::insn::{self, Insn, ancillary};

/// Why a program was rejected, and at which instruction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidateError {
    index: Option<usize>,
    kind: ValidateErrorKind,
}

impl ValidateError {
    fn at(index: usize, kind: ValidateErrorKind) -> ValidateError {
        ValidateError {
            index: Some(index),
            kind,
        }
    }

    fn whole(kind: ValidateErrorKind) -> ValidateError {
        ValidateError { index: None, kind }
    }

    /// The index of the offending instruction, or `None` when the problem
    /// is with the program as a whole (its length).
    pub fn index(&self) -> Option<usize> {
        self.index
    }

    /// What was wrong.
    pub fn kind(&self) -> ValidateErrorKind {
        self.kind
    }
}

impl fmt::Display for ValidateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.index {
            Some(i) => write!(f, "instruction {i}: {}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
}

impl std::error::Error for ValidateError {}

/// The kinds of [`ValidateError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ValidateErrorKind {
    /// The program has no instructions.
    Empty,
    /// The program has more than [`MAXINSNS`](crate::insn::MAXINSNS)
    /// instructions.
    TooLong {
        /// Its length.
        len: usize,
    },
    /// The opcode is not one the checker accepts.
    UnknownOpcode {
        /// The opcode.
        code: u16,
    },
    /// A jump leads past the last instruction (or, for `ja`, wraps around).
    JumpOutOfRange {
        /// The absolute index it leads to (index + 1 + offset).
        target: u64,
        /// The program's length.
        len: usize,
    },
    /// Division or modulo by the constant 0.
    DivisionByZero,
    /// A shift by a constant of 32 or more.
    ShiftTooLarge {
        /// The shift count.
        k: u32,
    },
    /// A scratch memory index of 16 or more.
    MemoryIndex {
        /// The index.
        k: u32,
    },
    /// An absolute load from the ancillary area at an offset the kernel
    /// does not know.
    UnknownAncillary {
        /// The offset.
        k: u32,
    },
    /// The last instruction is not a return.
    NoFinalReturn,
    /// A scratch memory word may be read before anything was stored to it
    /// on some path.
    UninitializedMemory {
        /// The scratch memory index.
        k: u32,
    },
}

impl fmt::Display for ValidateErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ValidateErrorKind::Empty => write!(f, "the program is empty"),
            ValidateErrorKind::TooLong { len } => write!(
                f,
                "the program has {len} instructions, more than the {} allowed",
                insn::MAXINSNS
            ),
            ValidateErrorKind::UnknownOpcode { code } => {
                write!(f, "unknown opcode {code:#04x}")
            }
            ValidateErrorKind::JumpOutOfRange { target, len } => write!(
                f,
                "jump to instruction {target}, past the end of the program (length {len})"
            ),
            ValidateErrorKind::DivisionByZero => write!(f, "division or modulo by the constant 0"),
            ValidateErrorKind::ShiftTooLarge { k } => {
                write!(f, "shift by {k}: the count must be below 32")
            }
            ValidateErrorKind::MemoryIndex { k } => write!(
                f,
                "scratch memory index {k} is out of range (0..{})",
                insn::MEMWORDS
            ),
            ValidateErrorKind::UnknownAncillary { k } => write!(
                f,
                "unknown ancillary load at offset {:#x} (SKF_AD_OFF + {})",
                k,
                k.wrapping_sub(ancillary::OFF)
            ),
            ValidateErrorKind::NoFinalReturn => {
                write!(f, "the last instruction is not a return")
            }
            ValidateErrorKind::UninitializedMemory { k } => {
                write!(f, "M[{k}] may be read before anything is stored to it")
            }
        }
    }
}

/// Whether the kernel accepts this opcode at all (`chk_code_allowed`).
pub const fn kernel_knows_opcode(code: u16) -> bool {
    use insn::{ALU, NEG, XOR};
    if code & 0xff07 == ALU {
        // Every ALU operation up to XOR, with K or X; NEG only with K.
        let op = code & 0xf0;
        return if op == NEG {
            code == ALU | NEG
        } else {
            op <= XOR
        };
    }
    matches!(
        code,
        0x20 | 0x28 | 0x30 // LD|ABS W/H/B
        | 0x80 // LD|W|LEN
        | 0x40 | 0x48 | 0x50 // LD|IND W/H/B
        | 0x00 // LD|IMM
        | 0x60 // LD|MEM
        | 0x81 // LDX|W|LEN
        | 0xb1 // LDX|B|MSH
        | 0x01 // LDX|IMM
        | 0x61 // LDX|MEM
        | 0x02 // ST
        | 0x03 // STX
        | 0x07 // MISC|TAX
        | 0x87 // MISC|TXA
        | 0x06 // RET|K
        | 0x16 // RET|A
        | 0x05 // JMP|JA
        | 0x15 | 0x1d // JEQ K/X
        | 0x25 | 0x2d // JGT K/X
        | 0x35 | 0x3d // JGE K/X
        | 0x45 | 0x4d // JSET K/X
    )
}

/// Checks `prog` with the Linux kernel's rules for classic BPF socket
/// filters (`bpf_check_classic`, then `check_load_and_stores`):
///
/// - 1 to 4096 instructions;
/// - only the opcodes the kernel knows (`chk_code_allowed`);
/// - no division or modulo by the constant 0, no shift by a constant ≥ 32;
/// - scratch memory indices below 16;
/// - `ja` and both branches of conditional jumps land inside the program
///   (classic BPF jumps only go forward);
/// - absolute loads in the ancillary area (`SKF_AD_OFF` and above) only at
///   the offsets the kernel knows;
/// - the last instruction is a return;
/// - no scratch memory word is read before a store on the path the
///   kernel's linear flow check follows.
pub fn validate(prog: &[Insn]) -> Result<(), ValidateError> {
    use insn::*;
    let len = prog.len();
    if len == 0 {
        return Err(ValidateError::whole(ValidateErrorKind::Empty));
    }
    if len > MAXINSNS {
        return Err(ValidateError::whole(ValidateErrorKind::TooLong { len }));
    }
    for (pc, &ins) in prog.iter().enumerate() {
        if !kernel_knows_opcode(ins.code) {
            return Err(ValidateError::at(
                pc,
                ValidateErrorKind::UnknownOpcode { code: ins.code },
            ));
        }
        let kind = match ins.code {
            c if c == ALU | DIV | K || c == ALU | MOD | K => {
                (ins.k == 0).then_some(ValidateErrorKind::DivisionByZero)
            }
            c if c == ALU | LSH | K || c == ALU | RSH | K => {
                (ins.k >= 32).then_some(ValidateErrorKind::ShiftTooLarge { k: ins.k })
            }
            c if c == LD | MEM || c == LDX | MEM || c == ST || c == STX => {
                (ins.k >= MEMWORDS).then_some(ValidateErrorKind::MemoryIndex { k: ins.k })
            }
            c if c == JMP | JA => {
                // The kernel: k >= flen - pc - 1 is an error.
                let room = (len - pc - 1) as u64;
                (u64::from(ins.k) >= room).then_some(ValidateErrorKind::JumpOutOfRange {
                    target: pc as u64 + 1 + u64::from(ins.k),
                    len,
                })
            }
            _ if ins.is_conditional_jump() => {
                let far = pc + 1 + usize::from(ins.jt.max(ins.jf));
                (far >= len).then_some(ValidateErrorKind::JumpOutOfRange {
                    target: far as u64,
                    len,
                })
            }
            c if c == LD | W | ABS || c == LD | H | ABS || c == LD | B | ABS => {
                (ins.k >= ancillary::OFF && !ancillary::is_known(ins.k))
                    .then_some(ValidateErrorKind::UnknownAncillary { k: ins.k })
            }
            _ => None,
        };
        if let Some(kind) = kind {
            return Err(ValidateError::at(pc, kind));
        }
    }
    let last = prog[len - 1];
    if last.code != RET | K && last.code != RET | A {
        return Err(ValidateError::at(len - 1, ValidateErrorKind::NoFinalReturn));
    }
    check_load_and_stores(prog)
}

/// The kernel's scratch memory flow check (`check_load_and_stores`).
///
/// It walks the program once, in order, with a set of the words known to
/// be written. A jump narrows the set at each of its targets to what holds
/// on every jump there, and the instruction after a jump starts from that
/// narrowed set alone (it can only be reached by jumping). A load from a
/// word that is not in the set is an error. Falling through a return keeps
/// the set, as the kernel does: the check is conservative only along the
/// paths it follows, exactly as in the kernel.
fn check_load_and_stores(prog: &[Insn]) -> Result<(), ValidateError> {
    use insn::*;
    let mut masks = vec![u16::MAX; prog.len()];
    let mut valid: u16 = 0;
    for (pc, ins) in prog.iter().enumerate() {
        valid &= masks[pc];
        let bit = 1u16 << (ins.k & 0x0f);
        match ins.code {
            c if c == ST || c == STX => valid |= bit,
            c if (c == LD | MEM || c == LDX | MEM) && valid & bit == 0 => {
                return Err(ValidateError::at(
                    pc,
                    ValidateErrorKind::UninitializedMemory { k: ins.k },
                ));
            }
            c if c == JMP | JA => {
                // In range: checked before.
                masks[pc + 1 + ins.k as usize] &= valid;
                valid = u16::MAX;
            }
            _ if ins.is_conditional_jump() => {
                masks[pc + 1 + usize::from(ins.jt)] &= valid;
                masks[pc + 1 + usize::from(ins.jf)] &= valid;
                valid = u16::MAX;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks `prog` as libpcap 1.10's `bpf_validate` (`pcap_validate_filter`)
/// does. It is laxer than the kernel's [`validate`]:
///
/// - any length from 1 (no upper limit);
/// - opcodes are checked by class and mode/operation only, so for example
///   `0x08` (a half-word immediate load) or `0x0e` (return X) pass,
///   although libpcap's interpreter aborts on them;
/// - shifts by constants of 32 or more pass;
/// - absolute loads at any offset pass (no ancillary check);
/// - the last instruction need only be of the return class;
/// - a `ja` offset is added to the index in 32-bit unsigned arithmetic, so
///   a huge offset that wraps around to an earlier instruction passes;
/// - no scratch memory flow check: libpcap's interpreter then reads
///   uninitialised memory.
///
/// Jumps, scratch memory indices and constant division by zero are checked
/// as in the kernel.
pub fn validate_libpcap(prog: &[Insn]) -> Result<(), ValidateError> {
    use insn::*;
    let len = prog.len();
    if len == 0 {
        return Err(ValidateError::whole(ValidateErrorKind::Empty));
    }
    for (i, &ins) in prog.iter().enumerate() {
        let unknown = ValidateErrorKind::UnknownOpcode { code: ins.code };
        let kind = match ins.class() {
            LD | LDX => match ins.mode() {
                IMM | ABS | IND | MSH | LEN => None,
                MEM => (ins.k >= MEMWORDS).then_some(ValidateErrorKind::MemoryIndex { k: ins.k }),
                _ => Some(unknown),
            },
            ST | STX => (ins.k >= MEMWORDS).then_some(ValidateErrorKind::MemoryIndex { k: ins.k }),
            ALU => match ins.op() {
                ADD | SUB | MUL | OR | AND | XOR | LSH | RSH | NEG => None,
                DIV | MOD => {
                    (ins.src() == K && ins.k == 0).then_some(ValidateErrorKind::DivisionByZero)
                }
                _ => Some(unknown),
            },
            JMP => {
                let from = i as u64 + 1;
                match ins.op() {
                    JA => {
                        // libpcap adds in unsigned int, which wraps: a
                        // huge offset that wraps to a backward jump passes
                        // (its interpreter takes `ja` offsets as signed).
                        let wrapped = (from as u32).wrapping_add(ins.k);
                        (wrapped as usize >= len).then_some(ValidateErrorKind::JumpOutOfRange {
                            target: from + u64::from(ins.k),
                            len,
                        })
                    }
                    JEQ | JGT | JGE | JSET => {
                        let far = from + u64::from(ins.jt.max(ins.jf));
                        (far >= len as u64)
                            .then_some(ValidateErrorKind::JumpOutOfRange { target: far, len })
                    }
                    _ => Some(unknown),
                }
            }
            // RET and MISC: anything goes.
            _ => None,
        };
        if let Some(kind) = kind {
            return Err(ValidateError::at(i, kind));
        }
    }
    if prog[len - 1].class() != RET {
        return Err(ValidateError::at(len - 1, ValidateErrorKind::NoFinalReturn));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::*;

    fn kind(prog: &[Insn]) -> Option<(Option<usize>, ValidateErrorKind)> {
        validate(prog).err().map(|e| (e.index(), e.kind()))
    }

    #[test]
    fn accepts_a_minimal_program() {
        assert_eq!(validate(&[Insn::stmt(RET | K, 0)]), Ok(()));
        assert_eq!(validate(&[Insn::stmt(RET | A, 0)]), Ok(()));
    }

    #[test]
    fn rejects_empty_and_too_long() {
        assert_eq!(kind(&[]), Some((None, ValidateErrorKind::Empty)));
        let mut long = vec![Insn::stmt(LD | IMM, 1); MAXINSNS];
        long.push(Insn::stmt(RET | A, 0));
        assert_eq!(
            kind(&long),
            Some((None, ValidateErrorKind::TooLong { len: MAXINSNS + 1 }))
        );
        long.remove(0);
        assert_eq!(validate(&long), Ok(()));
    }

    #[test]
    fn opcode_table_is_the_kernels() {
        let known: Vec<u16> = (0..=u16::MAX).filter(|&c| kernel_knows_opcode(c)).collect();
        let expected: Vec<u16> = vec![
            0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0c, 0x14, 0x15, 0x16, 0x1c, 0x1d,
            0x20, 0x24, 0x25, 0x28, 0x2c, 0x2d, 0x30, 0x34, 0x35, 0x3c, 0x3d, 0x40, 0x44, 0x45,
            0x48, 0x4c, 0x4d, 0x50, 0x54, 0x5c, 0x60, 0x61, 0x64, 0x6c, 0x74, 0x7c, 0x80, 0x81,
            0x84, 0x87, 0x94, 0x9c, 0xa4, 0xac, 0xb1,
        ];
        assert_eq!(known, expected);
        assert_eq!(
            kind(&[Insn::stmt(0x8c, 0), Insn::stmt(RET | A, 0)]),
            Some((Some(0), ValidateErrorKind::UnknownOpcode { code: 0x8c }))
        );
    }

    #[test]
    fn constant_checks() {
        let ret = Insn::stmt(RET | A, 0);
        assert_eq!(
            kind(&[Insn::stmt(ALU | DIV | K, 0), ret]),
            Some((Some(0), ValidateErrorKind::DivisionByZero))
        );
        assert_eq!(
            kind(&[Insn::stmt(ALU | MOD | K, 0), ret]),
            Some((Some(0), ValidateErrorKind::DivisionByZero))
        );
        assert_eq!(validate(&[Insn::stmt(ALU | DIV | X, 0), ret]), Ok(()));
        assert_eq!(
            kind(&[Insn::stmt(ALU | LSH | K, 32), ret]),
            Some((Some(0), ValidateErrorKind::ShiftTooLarge { k: 32 }))
        );
        assert_eq!(validate(&[Insn::stmt(ALU | RSH | K, 31), ret]), Ok(()));
        assert_eq!(
            kind(&[Insn::stmt(ST, 16), ret]),
            Some((Some(0), ValidateErrorKind::MemoryIndex { k: 16 }))
        );
        assert_eq!(
            kind(&[Insn::stmt(LD | B | ABS, ancillary::OFF + 1), ret]),
            Some((
                Some(0),
                ValidateErrorKind::UnknownAncillary {
                    k: ancillary::OFF + 1
                }
            ))
        );
        for &(k, _) in &ancillary::ALL {
            assert_eq!(validate(&[Insn::stmt(LD | W | ABS, k), ret]), Ok(()));
        }
        // Below the ancillary area (the SKF_NET_OFF / SKF_LL_OFF ranges) is fine.
        assert_eq!(
            validate(&[Insn::stmt(LD | H | ABS, ancillary::OFF - 1), ret]),
            Ok(())
        );
    }

    #[test]
    fn jumps() {
        let ret = Insn::stmt(RET | A, 0);
        assert_eq!(
            validate(&[Insn::jump(JMP | JEQ | K, 0, 1, 0), ret, ret]),
            Ok(())
        );
        assert_eq!(
            kind(&[Insn::jump(JMP | JEQ | K, 0, 0, 2), ret, ret]),
            Some((
                Some(0),
                ValidateErrorKind::JumpOutOfRange { target: 3, len: 3 }
            ))
        );
        assert_eq!(validate(&[Insn::stmt(JMP | JA, 1), ret, ret]), Ok(()));
        assert_eq!(
            kind(&[Insn::stmt(JMP | JA, u32::MAX), ret]),
            Some((
                Some(0),
                ValidateErrorKind::JumpOutOfRange {
                    target: 1 + u64::from(u32::MAX),
                    len: 2
                }
            ))
        );
        // A jump as the last instruction is out of range before it is a
        // missing return.
        assert_eq!(
            kind(&[ret, Insn::stmt(JMP | JA, 0)]),
            Some((
                Some(1),
                ValidateErrorKind::JumpOutOfRange { target: 2, len: 2 }
            ))
        );
    }

    #[test]
    fn last_must_return() {
        assert_eq!(
            kind(&[Insn::stmt(LD | IMM, 0)]),
            Some((Some(0), ValidateErrorKind::NoFinalReturn))
        );
    }

    #[test]
    fn memory_flow() {
        let ret = Insn::stmt(RET | A, 0);
        // Load before any store.
        assert_eq!(
            kind(&[Insn::stmt(LD | MEM, 3), ret]),
            Some((Some(0), ValidateErrorKind::UninitializedMemory { k: 3 }))
        );
        // Store then load.
        assert_eq!(
            validate(&[Insn::stmt(ST, 3), Insn::stmt(LDX | MEM, 3), ret]),
            Ok(())
        );
        // Store on one branch only.
        let prog = [
            Insn::jump(JMP | JEQ | K, 0, 0, 1),
            Insn::stmt(STX, 2),
            Insn::stmt(LD | MEM, 2),
            ret,
        ];
        assert_eq!(
            kind(&prog),
            Some((Some(2), ValidateErrorKind::UninitializedMemory { k: 2 }))
        );
        // Store on both branches.
        let prog = [
            Insn::stmt(ST, 5),
            Insn::jump(JMP | JEQ | K, 0, 0, 1),
            Insn::stmt(STX, 2),
            Insn::stmt(LD | MEM, 5),
            ret,
        ];
        assert_eq!(validate(&prog), Ok(()));
        // Code after `ja` that nothing jumps to starts with everything valid,
        // as in the kernel.
        let prog = [Insn::stmt(JMP | JA, 1), Insn::stmt(LD | MEM, 0), ret];
        assert_eq!(validate(&prog), Ok(()));
        // Falling through a return keeps the set, as in the kernel.
        let prog = [Insn::stmt(RET | K, 0), Insn::stmt(LD | MEM, 0), ret];
        assert_eq!(
            kind(&prog),
            Some((Some(1), ValidateErrorKind::UninitializedMemory { k: 0 }))
        );
    }

    #[test]
    fn libpcap_is_laxer() {
        let lax = [Insn::stmt(LD | H | IMM, 0), Insn::stmt(RET | X, 0)];
        assert_eq!(validate_libpcap(&lax), Ok(()));
        assert!(validate(&lax).is_err());
        let shift = [Insn::stmt(ALU | LSH | K, 40), Insn::stmt(RET | A, 0)];
        assert_eq!(validate_libpcap(&shift), Ok(()));
        let mem = [Insn::stmt(LD | MEM, 0), Insn::stmt(RET | A, 0)];
        assert_eq!(validate_libpcap(&mem), Ok(()));
        let bad_div = [Insn::stmt(ALU | DIV | K, 0), Insn::stmt(RET | A, 0)];
        assert_eq!(
            validate_libpcap(&bad_div).map_err(|e| e.kind()),
            Err(ValidateErrorKind::DivisionByZero)
        );
        let bad_alu = [Insn::stmt(ALU | 0xb0, 0), Insn::stmt(RET | A, 0)];
        assert!(validate_libpcap(&bad_alu).is_err());
        // libpcap's unsigned wrap lets a backward `ja` through.
        let ja = [Insn::stmt(JMP | JA, u32::MAX), Insn::stmt(RET | A, 0)];
        assert_eq!(validate_libpcap(&ja), Ok(()));
        let ja = [Insn::stmt(JMP | JA, 1), Insn::stmt(RET | A, 0)];
        assert!(validate_libpcap(&ja).is_err());
        assert!(validate_libpcap(&[]).is_err());
        assert!(validate_libpcap(&[Insn::stmt(TAX | MISC, 0)]).is_err());
    }

    #[test]
    fn messages() {
        let e = validate(&[Insn::stmt(ALU | DIV | K, 0), Insn::stmt(RET | A, 0)]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "instruction 0: division or modulo by the constant 0"
        );
        let e = validate(&[]).unwrap_err();
        assert_eq!(e.to_string(), "the program is empty");
        let e = validate(&[
            Insn::stmt(LD | B | ABS, ancillary::OFF + 2),
            Insn::stmt(RET | A, 0),
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "instruction 0: unknown ancillary load at offset 0xfffff002 (SKF_AD_OFF + 2)"
        );
    }
}
