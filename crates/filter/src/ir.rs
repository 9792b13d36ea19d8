//! The intermediate representation: a control-flow graph of basic blocks.
//!
//! Each [`Block`] is a run of straight-line [`Stmt`]s (loads, stores,
//! arithmetic, register moves) ending in a [`Term`]: a conditional branch
//! on the accumulator, an unconditional jump, or a return. Edges only go
//! forward — the graph is acyclic, as classic BPF demands — and every path
//! ends in a return.
//!
//! [`Ir::new`] checks these invariants; the optimiser passes keep them by
//! only redirecting edges to blocks that come later in topological order.
//! [`Ir::run`] interprets the graph with the semantics of the BPF machine
//! (A = X = 0 and zeroed scratch memory at the start, big-endian loads, an
//! out-of-bounds load or a division by zero rejects), which is how the
//! optimiser's passes are checked against each other.

use core::fmt;

use sluice_bpf::insn;

use crate::error::{CompileError, ErrorKind, Result};

/// Index of a block in [`Ir::blocks`].
pub type BlockId = usize;

/// Size of a packet load.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Size {
    /// One byte.
    B,
    /// Two bytes, big-endian.
    H,
    /// Four bytes, big-endian.
    W,
}

impl Size {
    /// The number of bytes.
    pub fn bytes(self) -> u32 {
        match self {
            Size::B => 1,
            Size::H => 2,
            Size::W => 4,
        }
    }

    /// The BPF size bits.
    pub fn code(self) -> u16 {
        match self {
            Size::B => insn::B,
            Size::H => insn::H,
            Size::W => insn::W,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Size::B => "b",
            Size::H => "h",
            Size::W => "",
        }
    }
}

/// An ALU operation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum AluOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Lsh,
    Rsh,
}

impl AluOp {
    /// The BPF operation bits.
    pub fn code(self) -> u16 {
        match self {
            AluOp::Add => insn::ADD,
            AluOp::Sub => insn::SUB,
            AluOp::Mul => insn::MUL,
            AluOp::Div => insn::DIV,
            AluOp::Mod => insn::MOD,
            AluOp::And => insn::AND,
            AluOp::Or => insn::OR,
            AluOp::Xor => insn::XOR,
            AluOp::Lsh => insn::LSH,
            AluOp::Rsh => insn::RSH,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AluOp::Add => "add",
            AluOp::Sub => "sub",
            AluOp::Mul => "mul",
            AluOp::Div => "div",
            AluOp::Mod => "mod",
            AluOp::And => "and",
            AluOp::Or => "or",
            AluOp::Xor => "xor",
            AluOp::Lsh => "lsh",
            AluOp::Rsh => "rsh",
        }
    }

    /// `a op b` as the BPF machine computes it; `None` for a division or
    /// modulo by zero (which ends the program with 0).
    pub fn apply(self, a: u32, b: u32) -> Option<u32> {
        Some(match self {
            AluOp::Add => a.wrapping_add(b),
            AluOp::Sub => a.wrapping_sub(b),
            AluOp::Mul => a.wrapping_mul(b),
            AluOp::Div => a.checked_div(b)?,
            AluOp::Mod => a.checked_rem(b)?,
            AluOp::And => a & b,
            AluOp::Or => a | b,
            AluOp::Xor => a ^ b,
            // libpcap's bpf_filter and the kernel agree for counts below
            // 32; larger constant counts never reach a program.
            AluOp::Lsh => a.checked_shl(b).unwrap_or(0),
            AluOp::Rsh => a.checked_shr(b).unwrap_or(0),
        })
    }
}

/// The second operand of an ALU operation or a comparison.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Src {
    /// A constant.
    K(u32),
    /// The X register.
    X,
}

/// A straight-line statement.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
#[allow(missing_docs)]
pub enum Stmt {
    /// A = k.
    LdImm(u32),
    /// A = `P[k : size]`.
    LdAbs(Size, u32),
    /// A = `P[X + k : size]`.
    LdInd(Size, u32),
    /// A = `M[k]`.
    LdMem(u32),
    /// A = wire length.
    LdLen,
    /// X = k.
    LdxImm(u32),
    /// X = `M[k]`.
    LdxMem(u32),
    /// X = wire length.
    LdxLen,
    /// X = 4 * (`P[k]` & 0xf).
    LdxMsh(u32),
    /// `M[k]` = A.
    St(u32),
    /// `M[k]` = X.
    Stx(u32),
    /// A = A op src.
    Alu(AluOp, Src),
    /// A = -A.
    Neg,
    /// X = A.
    Tax,
    /// A = X.
    Txa,
}

impl Stmt {
    /// The classic BPF instruction.
    pub fn to_insn(self) -> insn::Insn {
        use insn::*;
        match self {
            Stmt::LdImm(k) => Insn::stmt(LD | W | IMM, k),
            Stmt::LdAbs(s, k) => Insn::stmt(LD | s.code() | ABS, k),
            Stmt::LdInd(s, k) => Insn::stmt(LD | s.code() | IND, k),
            Stmt::LdMem(k) => Insn::stmt(LD | MEM, k),
            Stmt::LdLen => Insn::stmt(LD | W | LEN, 0),
            Stmt::LdxImm(k) => Insn::stmt(LDX | W | IMM, k),
            Stmt::LdxMem(k) => Insn::stmt(LDX | MEM, k),
            Stmt::LdxLen => Insn::stmt(LDX | W | LEN, 0),
            Stmt::LdxMsh(k) => Insn::stmt(LDX | B | MSH, k),
            Stmt::St(k) => Insn::stmt(ST, k),
            Stmt::Stx(k) => Insn::stmt(STX, k),
            Stmt::Alu(op, Src::K(k)) => Insn::stmt(ALU | op.code() | K, k),
            Stmt::Alu(op, Src::X) => Insn::stmt(ALU | op.code() | X, 0),
            Stmt::Neg => Insn::stmt(ALU | NEG, 0),
            Stmt::Tax => Insn::stmt(MISC | TAX, 0),
            Stmt::Txa => Insn::stmt(MISC | TXA, 0),
        }
    }

    /// Whether it can end the program (an out-of-bounds packet load, or a
    /// division or modulo by X, which may be 0).
    pub fn may_abort(self) -> bool {
        matches!(
            self,
            Stmt::LdAbs(..)
                | Stmt::LdInd(..)
                | Stmt::LdxMsh(_)
                | Stmt::Alu(AluOp::Div | AluOp::Mod, Src::X)
                | Stmt::Alu(AluOp::Div | AluOp::Mod, Src::K(0))
        )
    }
}

impl fmt::Display for Stmt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Stmt::LdImm(k) => write!(f, "ld #{k:#x}"),
            Stmt::LdAbs(s, k) => write!(f, "ld{} [{k}]", s.suffix()),
            Stmt::LdInd(s, k) => write!(f, "ld{} [x + {k}]", s.suffix()),
            Stmt::LdMem(k) => write!(f, "ld M[{k}]"),
            Stmt::LdLen => write!(f, "ld #pktlen"),
            Stmt::LdxImm(k) => write!(f, "ldx #{k:#x}"),
            Stmt::LdxMem(k) => write!(f, "ldx M[{k}]"),
            Stmt::LdxLen => write!(f, "ldx #pktlen"),
            Stmt::LdxMsh(k) => write!(f, "ldxb 4*([{k}]&0xf)"),
            Stmt::St(k) => write!(f, "st M[{k}]"),
            Stmt::Stx(k) => write!(f, "stx M[{k}]"),
            Stmt::Alu(op, Src::K(k)) => write!(f, "{} #{k:#x}", op.name()),
            Stmt::Alu(op, Src::X) => write!(f, "{} x", op.name()),
            Stmt::Neg => write!(f, "neg"),
            Stmt::Tax => write!(f, "tax"),
            Stmt::Txa => write!(f, "txa"),
        }
    }
}

/// A conditional jump's comparison.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Cond {
    /// A == src.
    Eq,
    /// A > src (unsigned).
    Gt,
    /// A >= src (unsigned).
    Ge,
    /// A & src != 0.
    Set,
}

impl Cond {
    /// The BPF jump bits.
    pub fn code(self) -> u16 {
        match self {
            Cond::Eq => insn::JEQ,
            Cond::Gt => insn::JGT,
            Cond::Ge => insn::JGE,
            Cond::Set => insn::JSET,
        }
    }

    /// Evaluates the comparison.
    pub fn eval(self, a: u32, b: u32) -> bool {
        match self {
            Cond::Eq => a == b,
            Cond::Gt => a > b,
            Cond::Ge => a >= b,
            Cond::Set => a & b != 0,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Cond::Eq => "jeq",
            Cond::Gt => "jgt",
            Cond::Ge => "jge",
            Cond::Set => "jset",
        }
    }
}

/// How a block ends.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Term {
    /// `if A cond src goto jt else goto jf`.
    Branch {
        /// The comparison.
        cond: Cond,
        /// Its second operand.
        src: Src,
        /// Target when true.
        jt: BlockId,
        /// Target when false.
        jf: BlockId,
    },
    /// Go on with another block.
    Goto(BlockId),
    /// Return a constant: 0 rejects, anything else accepts that many bytes.
    Ret(u32),
}

impl Term {
    /// The blocks it may go to.
    pub fn succs(&self) -> impl Iterator<Item = BlockId> {
        let (a, b) = match *self {
            Term::Branch { jt, jf, .. } => (Some(jt), Some(jf)),
            Term::Goto(t) => (Some(t), None),
            Term::Ret(_) => (None, None),
        };
        a.into_iter().chain(b)
    }

    /// Rewrites every successor through `f`.
    pub fn map_succs(&mut self, mut f: impl FnMut(BlockId) -> BlockId) {
        match self {
            Term::Branch { jt, jf, .. } => {
                *jt = f(*jt);
                *jf = f(*jf);
            }
            Term::Goto(t) => *t = f(*t),
            Term::Ret(_) => {}
        }
    }
}

/// A basic block.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct Block {
    /// Straight-line statements.
    pub stmts: Vec<Stmt>,
    /// How it ends.
    pub term: Term,
}

/// A control-flow graph with an entry block.
#[derive(Clone, Debug)]
pub struct Ir {
    /// The blocks; some may be unreachable from [`Ir::entry`].
    pub blocks: Vec<Block>,
    /// Where execution starts.
    pub entry: BlockId,
}

/// What [`Ir::run`] needs besides the packet: the wire length and the
/// Linux ancillary values that `ld [SKF_AD_*]` reads (only programs for
/// the Linux socket target use them).
#[derive(Clone, Copy, Debug, Default)]
pub struct RunMeta {
    /// Wire length (`len`); the packet slice may be shorter.
    pub wire_len: u32,
    /// `SKF_AD_PKTTYPE`.
    pub pkttype: u32,
    /// `SKF_AD_IFINDEX`.
    pub ifindex: u32,
    /// `SKF_AD_VLAN_TAG_PRESENT`.
    pub vlan_present: u32,
    /// `SKF_AD_VLAN_TAG`.
    pub vlan_tci: u32,
}

impl Ir {
    /// Builds a graph, checking that every target exists and that it has
    /// no cycle reachable from the entry.
    pub fn new(blocks: Vec<Block>, entry: BlockId) -> Result<Ir> {
        let ir = Ir { blocks, entry };
        ir.check()?;
        Ok(ir)
    }

    /// Checks the invariants: every target of a reachable block exists, and
    /// no cycle is reachable from the entry.
    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| CompileError::new(ErrorKind::Limit, 0..0, format!("internal: {m}"));
        let n = self.blocks.len();
        if self.entry >= n {
            return Err(bad("entry out of range"));
        }
        let mut seen = vec![false; n];
        let mut stack = vec![self.entry];
        seen[self.entry] = true;
        while let Some(b) = stack.pop() {
            for s in self.blocks[b].term.succs() {
                if s >= n {
                    return Err(bad("jump target out of range"));
                }
                if !seen[s] {
                    seen[s] = true;
                    stack.push(s);
                }
            }
        }
        self.topo_order()
            .map(|_| ())
            .ok_or_else(|| bad("cycle in the control-flow graph"))
    }

    /// The reachable blocks in a topological order (every block before its
    /// successors), or `None` if there is a cycle.
    pub fn topo_order(&self) -> Option<Vec<BlockId>> {
        // Iterative depth-first search; post-order reversed.
        let n = self.blocks.len();
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut post = Vec::with_capacity(n);
        let mut stack: Vec<(BlockId, usize)> = Vec::with_capacity(n.min(1024));
        stack.push((self.entry, 0));
        state[self.entry] = 1;
        while let Some((b, i)) = stack.pop() {
            if let Some(s) = self.blocks[b].term.succs().nth(i) {
                stack.push((b, i + 1));
                match state[s] {
                    0 => {
                        state[s] = 1;
                        stack.push((s, 0));
                    }
                    1 => return None,
                    _ => {}
                }
            } else {
                state[b] = 2;
                post.push(b);
            }
        }
        post.reverse();
        Some(post)
    }

    /// Predecessor lists of the reachable blocks.
    pub fn preds(&self, order: &[BlockId]) -> Vec<Vec<BlockId>> {
        let mut p = vec![Vec::new(); self.blocks.len()];
        for &b in order {
            for s in self.blocks[b].term.succs() {
                if !p[s].contains(&b) {
                    p[s].push(b);
                }
            }
        }
        p
    }

    /// Runs the graph on a packet: the value returned (0 rejects).
    pub fn run(&self, pkt: &[u8], meta: &RunMeta) -> u32 {
        let mut a: u32 = 0;
        let mut x: u32 = 0;
        let mut mem = [0u32; 16];
        let mut b = self.entry;
        let load = |off: u64, size: Size| -> Option<u32> {
            let anc = u64::from(insn::ancillary::OFF);
            if off >= anc {
                let k = off as u32;
                return match k {
                    insn::ancillary::PKTTYPE => Some(meta.pkttype),
                    insn::ancillary::IFINDEX => Some(meta.ifindex),
                    insn::ancillary::VLAN_TAG_PRESENT => Some(meta.vlan_present),
                    insn::ancillary::VLAN_TAG => Some(meta.vlan_tci),
                    _ => None,
                };
            }
            let n = u64::from(size.bytes());
            if off + n > pkt.len() as u64 {
                return None;
            }
            let o = off as usize;
            Some(match size {
                Size::B => u32::from(pkt[o]),
                Size::H => u32::from(u16::from_be_bytes([pkt[o], pkt[o + 1]])),
                Size::W => u32::from_be_bytes([pkt[o], pkt[o + 1], pkt[o + 2], pkt[o + 3]]),
            })
        };
        // The graph is acyclic, so this visits at most every block once.
        for _ in 0..=self.blocks.len() {
            let blk = &self.blocks[b];
            for s in &blk.stmts {
                match *s {
                    Stmt::LdImm(k) => a = k,
                    Stmt::LdAbs(sz, k) => match load(u64::from(k), sz) {
                        Some(v) => a = v,
                        None => return 0,
                    },
                    Stmt::LdInd(sz, k) => {
                        let off = u64::from(x) + u64::from(k);
                        if off > u64::from(u32::MAX) {
                            return 0;
                        }
                        match load(off, sz) {
                            Some(v) => a = v,
                            None => return 0,
                        }
                    }
                    Stmt::LdMem(k) => a = mem[(k & 15) as usize],
                    Stmt::LdLen => a = meta.wire_len,
                    Stmt::LdxImm(k) => x = k,
                    Stmt::LdxMem(k) => x = mem[(k & 15) as usize],
                    Stmt::LdxLen => x = meta.wire_len,
                    Stmt::LdxMsh(k) => match load(u64::from(k), Size::B) {
                        Some(v) => x = 4 * (v & 0xf),
                        None => return 0,
                    },
                    Stmt::St(k) => mem[(k & 15) as usize] = a,
                    Stmt::Stx(k) => mem[(k & 15) as usize] = x,
                    Stmt::Alu(op, src) => {
                        let v = match src {
                            Src::K(k) => k,
                            Src::X => x,
                        };
                        match op.apply(a, v) {
                            Some(r) => a = r,
                            None => return 0,
                        }
                    }
                    Stmt::Neg => a = a.wrapping_neg(),
                    Stmt::Tax => x = a,
                    Stmt::Txa => a = x,
                }
            }
            match blk.term {
                Term::Ret(k) => return k,
                Term::Goto(t) => b = t,
                Term::Branch { cond, src, jt, jf } => {
                    let v = match src {
                        Src::K(k) => k,
                        Src::X => x,
                    };
                    b = if cond.eval(a, v) { jt } else { jf };
                }
            }
        }
        0
    }
}

/// Prints the reachable blocks in topological order, one labelled block
/// after another.
impl fmt::Display for Ir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let order = self
            .topo_order()
            .unwrap_or_else(|| (0..self.blocks.len()).collect());
        for b in order {
            writeln!(f, "L{b}:")?;
            let blk = &self.blocks[b];
            for s in &blk.stmts {
                writeln!(f, "    {s}")?;
            }
            match blk.term {
                Term::Branch { cond, src, jt, jf } => {
                    let src = match src {
                        Src::K(k) => format!("#{k:#x}"),
                        Src::X => "x".to_string(),
                    };
                    writeln!(f, "    {} {src} ? L{jt} : L{jf}", cond.name())?;
                }
                Term::Goto(t) => writeln!(f, "    goto L{t}")?,
                Term::Ret(k) => writeln!(f, "    ret #{k}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_cycles_and_runs() {
        let blocks = vec![
            Block {
                stmts: vec![Stmt::LdAbs(Size::H, 12)],
                term: Term::Branch {
                    cond: Cond::Eq,
                    src: Src::K(0x800),
                    jt: 1,
                    jf: 2,
                },
            },
            Block {
                stmts: vec![],
                term: Term::Ret(100),
            },
            Block {
                stmts: vec![],
                term: Term::Ret(0),
            },
        ];
        let ir = Ir::new(blocks.clone(), 0).unwrap();
        let mut p = [0u8; 14];
        p[12] = 8;
        assert_eq!(ir.run(&p, &RunMeta::default()), 100);
        assert_eq!(ir.run(&p[..13], &RunMeta::default()), 0);
        let mut cyc = blocks;
        cyc[1].term = Term::Goto(0);
        assert!(Ir::new(cyc, 0).is_err());
    }
}
