//! The optimiser: semantics-preserving passes over the [`Ir`].
//!
//! Each pass lives in its own module and can be switched off alone
//! ([`Passes`]). They share one analysis (`Analysis`), recomputed before
//! each pass:
//!
//! - **value numbering**: every value the program computes gets a number,
//!   hash-consed (`ldh [12]` anywhere is the same value; `A + 1` of the
//!   same A too), and constants fold as numbers are made. Each block's
//!   entry state (the value of A, X and the 16 scratch words) is the
//!   values its predecessors agree on;
//! - **facts**: what the tests on the way to a block or an edge have
//!   established (`ldh [12] == 0x800` is true, `ldb [23] == 6` is false),
//!   kept on every edge and intersected where paths meet — libpcap's edge
//!   dominators;
//! - **guaranteed length**: how many packet bytes the loads before a point
//!   have already shown to exist, on every path. A load that may fall off
//!   the packet rejects it, so a pass may only drop or skip a load that is
//!   covered; this keeps the optimised program's verdicts equal to the
//!   unoptimised ones even on truncated packets (libpcap's optimiser does
//!   not take this care);
//! - **liveness** of A, X and the scratch words.
//!
//! A value a test found equal to a constant is known on the paths the
//! test leads to, and so is arithmetic on it (`ld [28] == 0xfe800000`
//! decides `ld [28] & 0xffff0000 == 0xff020000`).
//!
//! Passes run in a loop until none changes anything (bounded); guards
//! move last, once the blocks that share them have merged, and masked
//! loads narrow after them. Some passes trade sharing for speed (a
//! threaded edge or a hoisted test may part blocks that were one), so
//! [`optimize`] also runs a few other choices of passes and keeps the
//! shortest program.

mod deadstore;
mod fold;
mod guard;
mod implied;
mod merge;
mod narrow;
mod peephole;
mod pullup;
mod redundant;
mod thread;
mod unreachable;

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::ir::{AluOp, BlockId, Cond, Ir, Size, Src, Stmt, Term};

/// Which passes run (all by default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Passes {
    /// Constant folding and propagation, and removal of statements that
    /// recompute a value already in place (common loads reused).
    pub fold: bool,
    /// Peephole rewrites (`and #k; jeq #0` → `jset #k`, `sub x; jeq #0` →
    /// `jeq x`, …).
    pub peephole: bool,
    /// Dead-store elimination.
    pub dead_stores: bool,
    /// Tests whose outcome the tests before them decide on every path
    /// (dominating facts) become jumps.
    pub redundant_tests: bool,
    /// Jump threading along edges: an edge on which a test's outcome is
    /// known goes straight to that outcome.
    pub threading: bool,
    /// Tests whose outcome does not change where the program goes (one
    /// target leads to the other when the test would have gone there)
    /// become jumps.
    pub implied_tests: bool,
    /// Identical blocks merged, jumps to jumps shortened.
    pub merge: bool,
    /// Tests hoisted in `or` and `and` chains, with a guard that keeps
    /// the loads they jump over where needed.
    pub pullup: bool,
    /// Hoists also above a chain's first block where other ways lead
    /// into it (when those ways know the hoisted tests go on).
    pub pullup_shared: bool,
    /// Loads kept only for the length they prove move up to where they
    /// save a block.
    pub guards: bool,
    /// A masked test of one byte or two of a wider load loads just those
    /// bytes (`ld [k]; and #0xff000000; jeq #v` → `ldb [k]; jeq #v>>24`)
    /// where the wider load's length is shown anyway.
    pub narrow: bool,
}

impl Default for Passes {
    fn default() -> Passes {
        Passes {
            fold: true,
            peephole: true,
            dead_stores: true,
            redundant_tests: true,
            threading: true,
            implied_tests: true,
            merge: true,
            pullup: true,
            pullup_shared: true,
            guards: true,
            narrow: true,
        }
    }
}

/// Runs every pass until nothing changes, and keeps the shortest program
/// of a few choices of passes whose gains depend on the program (see
/// [`ALTERNATIVES`]).
pub fn optimize(ir: &mut Ir) {
    let start = (ir.blocks.len() <= ALTERNATIVES_UP_TO).then(|| ir.clone());
    optimize_with(ir, Passes::default());
    let Some(start) = start else { return };
    let mut best = crate::codegen::codegen(ir).len();
    for alt in ALTERNATIVES {
        let mut other = start.clone();
        optimize_with(&mut other, alt(Passes::default()));
        let len = crate::codegen::codegen(&other).len();
        if len < best {
            best = len;
            *ir = other;
        }
    }
}

/// Choices of passes tried besides the default one: each is right (every
/// pass keeps every verdict) and each sometimes gives the shorter program,
/// where a hoist or a threaded edge parts blocks that would otherwise have
/// been shared.
pub const ALTERNATIVES: &[fn(Passes) -> Passes] = &[
    |p| Passes {
        pullup_shared: false,
        ..p
    },
    |p| Passes { pullup: false, ..p },
    |p| Passes {
        threading: false,
        ..p
    },
    |p| Passes {
        implied_tests: false,
        ..p
    },
];

/// Graphs up to this many blocks are optimised more than one way.
const ALTERNATIVES_UP_TO: usize = 2_000;

/// Graphs larger than this get only the linear-time passes.
const BIG: usize = 8_000;

/// Runs the chosen passes until nothing changes.
pub fn optimize_with(ir: &mut Ir, passes: Passes) {
    unreachable::run(ir);
    if ir.blocks.len() > BIG {
        // Far beyond what a program may hold (4096 instructions): not
        // worth the optimiser's time, and refused at validation.
        return;
    }
    let mut cache = AnalysisCache::default();
    for round in 0..4 {
        main_loop(ir, passes, &mut cache);
        if !(passes.merge && merge::run_all(ir)) || round == 3 {
            break;
        }
    }
    // Guards move last, once the blocks that share them have met, and the
    // other passes then tidy up after them (without hoisting tests again,
    // which would part blocks the guards' moves have made equal).
    if passes.guards && guard::run(ir, &mut cache) {
        main_loop(
            ir,
            Passes {
                pullup: false,
                ..passes
            },
            &mut cache,
        );
        if passes.merge {
            merge::run_all(ir);
        }
    }
    // Narrow loads last: a test of a narrow load no longer meets the
    // facts about the wide one that other tests established.
    if passes.narrow && narrow::run(ir, &mut cache) && passes.merge {
        merge::run_all(ir);
    }
    unreachable::run(ir);
}

fn main_loop(ir: &mut Ir, passes: Passes, cache: &mut AnalysisCache) {
    for _ in 0..200 {
        let mut changed = false;
        if passes.fold {
            changed |= fold::run(ir, cache);
        }
        if passes.redundant_tests {
            changed |= redundant::run(ir, cache);
        }
        if passes.threading {
            changed |= thread::run(ir, cache);
        }
        if passes.implied_tests {
            changed |= implied::run(ir, cache);
        }
        if passes.pullup {
            changed |= pullup::run(ir, passes.pullup_shared, cache);
        }
        if passes.merge {
            changed |= merge::run(ir);
        }
        if passes.peephole {
            changed |= peephole::run(ir, cache);
        }
        if passes.dead_stores {
            changed |= deadstore::run(ir, cache);
            changed |= deadstore::run_anticipated(ir, cache);
        }
        changed |= unreachable::run(ir);
        if !changed {
            break;
        }
    }
}

// ---- value numbering ---------------------------------------------------

/// A value number.
pub(crate) type Val = u32;

/// What a value number stands for.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum Expr {
    Const(u32),
    Len,
    Abs(Size, u32),
    Ind(Size, u32, Val),
    Msh(u32),
    Alu(AluOp, Val, Val),
    Neg(Val),
    /// What `atom` holds when `block` starts, where the paths disagree.
    Phi(BlockId, u8),
    /// A value nobody can know (a division by zero's "result").
    Opaque(u32),
}

/// The hash-consing table.
#[derive(Default)]
pub(crate) struct Values {
    exprs: Vec<Expr>,
    index: HashMap<Expr, Val, BuildHasherDefault<FastHash>>,
}

/// A multiply-rotate hash for the value table: its keys are small
/// expressions of the compiler's own making, hashed millions of times while
/// optimising, where the standard library's DoS-resistant hash costs more
/// than the rest of the lookup.
#[derive(Default)]
pub(crate) struct FastHash(u64);

impl Hasher for FastHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.write_u64(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.write_u64(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.write_u64(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.write_u64(i as u64);
    }

    fn write_u64(&mut self, i: u64) {
        self.0 = (self.0.rotate_left(5) ^ i).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Values {
    pub(crate) fn get(&mut self, e: Expr) -> Val {
        let e = self.simplify(e);
        if let Some(v) = self.index.get(&e) {
            return *v;
        }
        let v = self.exprs.len() as Val;
        self.exprs.push(e);
        self.index.insert(e, v);
        v
    }

    /// The number of an expression, if it has one already.
    pub(crate) fn lookup(&self, e: Expr) -> Option<Val> {
        self.index.get(&self.simplify(e)).copied()
    }

    pub(crate) fn konst(&mut self, k: u32) -> Val {
        self.get(Expr::Const(k))
    }

    pub(crate) fn expr(&self, v: Val) -> Expr {
        self.exprs[v as usize]
    }

    pub(crate) fn as_const(&self, v: Val) -> Option<u32> {
        match self.exprs[v as usize] {
            Expr::Const(k) => Some(k),
            _ => None,
        }
    }

    /// Folds constants and the identities that cannot change a result.
    fn simplify(&self, e: Expr) -> Expr {
        match e {
            Expr::Alu(op, a, b) => {
                // Constants to the right of commutative operators.
                if matches!(
                    op,
                    AluOp::Add | AluOp::Mul | AluOp::And | AluOp::Or | AluOp::Xor
                ) && self.index_const(a).is_some()
                    && self.index_const(b).is_none()
                {
                    return self.simplify(Expr::Alu(op, b, a));
                }
                let ca = self.index_const(a);
                let cb = self.index_const(b);
                if let (Some(x), Some(y)) = (ca, cb)
                    && let Some(r) = op.apply(x, y)
                {
                    return Expr::Const(r);
                }
                if a == b && matches!(op, AluOp::Sub | AluOp::Xor) {
                    return Expr::Const(0);
                }
                match (op, cb) {
                    (
                        AluOp::Add | AluOp::Sub | AluOp::Or | AluOp::Xor | AluOp::Lsh | AluOp::Rsh,
                        Some(0),
                    ) => {
                        return self.exprs[a as usize];
                    }
                    (AluOp::Mul | AluOp::Div, Some(1)) => return self.exprs[a as usize],
                    (AluOp::And, Some(0xffff_ffff)) => return self.exprs[a as usize],
                    (AluOp::And | AluOp::Mul, Some(0)) => return Expr::Const(0),
                    _ => {}
                }
                e
            }
            Expr::Neg(a) => match self.index_const(a) {
                Some(x) => Expr::Const(x.wrapping_neg()),
                None => e,
            },
            _ => e,
        }
    }

    fn index_const(&self, v: Val) -> Option<u32> {
        self.exprs.get(v as usize).and_then(|e| match e {
            Expr::Const(k) => Some(*k),
            _ => None,
        })
    }
}

/// Atoms: A, X, then the 16 scratch words.
pub(crate) const A: usize = 0;
pub(crate) const X: usize = 1;
pub(crate) const NATOMS: usize = 18;
pub(crate) fn mem(k: u32) -> usize {
    2 + (k & 15) as usize
}

/// The value of each atom at a point.
pub(crate) type State = [Val; NATOMS];

/// Runs one statement on a state. Returns `false` if the statement always
/// ends the program (a division by a zero constant).
pub(crate) fn step(vals: &mut Values, st: &mut State, s: Stmt) {
    match s {
        Stmt::LdImm(k) => st[A] = vals.konst(k),
        Stmt::LdAbs(sz, k) => st[A] = vals.get(Expr::Abs(sz, k)),
        Stmt::LdInd(sz, k) => st[A] = ind_value(vals, sz, k, st[X]),
        Stmt::LdMem(k) => st[A] = st[mem(k)],
        Stmt::LdLen => st[A] = vals.get(Expr::Len),
        Stmt::LdxImm(k) => st[X] = vals.konst(k),
        Stmt::LdxMem(k) => st[X] = st[mem(k)],
        Stmt::LdxLen => st[X] = vals.get(Expr::Len),
        Stmt::LdxMsh(k) => st[X] = vals.get(Expr::Msh(k)),
        Stmt::St(k) => st[mem(k)] = st[A],
        Stmt::Stx(k) => st[mem(k)] = st[X],
        Stmt::Alu(op, src) => {
            let b = match src {
                Src::K(k) => vals.konst(k),
                Src::X => st[X],
            };
            if matches!(op, AluOp::Div | AluOp::Mod) && vals.as_const(b) == Some(0) {
                // The program ends here; what follows never runs.
                let n = vals.exprs.len() as u32;
                st[A] = vals.get(Expr::Opaque(n));
            } else {
                st[A] = vals.get(Expr::Alu(op, st[A], b));
            }
        }
        Stmt::Neg => st[A] = vals.get(Expr::Neg(st[A])),
        Stmt::Tax => st[X] = st[A],
        Stmt::Txa => st[A] = st[X],
    }
}

/// The value of `P[x + k]`: an absolute load when x is a constant, and
/// `P[v + (c + k)]` when x is `v + c` for a small header length v (so that
/// `[x + 14]` after `x = msh + 13` and `[x + 27]` after `x = msh` agree).
pub(crate) fn ind_value(vals: &mut Values, sz: Size, k: u32, x: Val) -> Val {
    if let Some(c) = vals.as_const(x)
        && let Some(o) = c.checked_add(k)
    {
        return vals.get(Expr::Abs(sz, o));
    }
    if let Expr::Alu(AluOp::Add, v, c) = vals.expr(x)
        && matches!(vals.expr(v), Expr::Msh(_))
        && let Some(c) = vals.as_const(c)
        && c < 0x1000_0000
        && let Some(o) = k.checked_add(c)
    {
        return vals.get(Expr::Ind(sz, o, v));
    }
    vals.get(Expr::Ind(sz, k, x))
}

// ---- facts ---------------------------------------------------------------

/// The outcome of a test, known on an edge.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) struct Fact {
    pub a: Val,
    pub cond: Cond,
    /// The operand: a constant or X's value.
    pub b: FactSrc,
    pub outcome: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub(crate) enum FactSrc {
    K(u32),
    V(Val),
}

/// Facts are kept to this many per edge (the most recent ones).
const MAX_FACTS: usize = 32;

/// Decides `a cond b` from facts and constants, if possible.
pub(crate) fn decide(
    vals: &Values,
    facts: &[Fact],
    a: Val,
    cond: Cond,
    b: FactSrc,
) -> Option<bool> {
    let bk = match b {
        FactSrc::K(k) => Some(k),
        FactSrc::V(v) => known(vals, facts, v, KNOWN_DEPTH),
    };
    if let (Some(x), Some(y)) = (known(vals, facts, a, KNOWN_DEPTH), bk) {
        return Some(cond.eval(x, y));
    }
    // The same test before.
    for f in facts {
        if f.a == a && f.cond == cond && f.b == b {
            return Some(f.outcome);
        }
    }
    let bk = bk?;
    // Knowledge about `a` from constant tests.
    let mut eq: Option<u32> = None;
    let (mut lo, mut hi) = range(vals, a, KNOWN_DEPTH);
    let (mut one, mut zero) = (0u32, 0u32);
    let mut ne: Vec<u32> = Vec::new();
    for f in facts.iter().filter(|f| f.a == a) {
        let FactSrc::K(k) = f.b else { continue };
        match (f.cond, f.outcome) {
            (Cond::Eq, true) => eq = Some(k),
            (Cond::Eq, false) => ne.push(k),
            (Cond::Gt, true) => lo = lo.max(k.saturating_add(1)),
            (Cond::Gt, false) => hi = hi.min(k),
            (Cond::Ge, true) => lo = lo.max(k),
            (Cond::Ge, false) => {
                if k == 0 {
                    return None; // impossible path
                }
                hi = hi.min(k - 1)
            }
            (Cond::Set, true) => {
                if k.count_ones() == 1 {
                    one |= k;
                }
            }
            (Cond::Set, false) => zero |= k,
        }
    }
    if let Some(e) = eq {
        return Some(cond.eval(e, bk));
    }
    if lo == hi {
        return Some(cond.eval(lo, bk));
    }
    match cond {
        Cond::Eq => {
            if ne.contains(&bk) || bk < lo || bk > hi || bk & zero != 0 || !bk & one != 0 {
                return Some(false);
            }
        }
        Cond::Gt => {
            if lo > bk {
                return Some(true);
            }
            if hi <= bk {
                return Some(false);
            }
        }
        Cond::Ge => {
            if lo >= bk {
                return Some(true);
            }
            if hi < bk {
                return Some(false);
            }
        }
        Cond::Set => {
            if bk & one != 0 {
                return Some(true);
            }
            if bk & !zero == 0 {
                return Some(false);
            }
        }
    }
    None
}

/// How deep [`known`] looks into a value's expression.
const KNOWN_DEPTH: u32 = 4;

/// The value of `v` where `facts` hold, if they pin it down: a constant,
/// a value a test found equal to a constant (`ld [28] == 0xfe800000`), or
/// arithmetic on such values (`ld [28] & 0xffff0000` is then known too).
fn known(vals: &Values, facts: &[Fact], v: Val, depth: u32) -> Option<u32> {
    if let Some(k) = vals.as_const(v) {
        return Some(k);
    }
    let pinned = facts.iter().find_map(|f| match (f.cond, f.outcome, f.b) {
        (Cond::Eq, true, FactSrc::K(k)) if f.a == v => Some(k),
        _ => None,
    });
    if pinned.is_some() || depth == 0 {
        return pinned;
    }
    match vals.expr(v) {
        Expr::Alu(op, x, y) => {
            let y = known(vals, facts, y, depth - 1)?;
            // `x & 0` and `x * 0` are 0 whatever x is.
            if y == 0 && matches!(op, AluOp::And | AluOp::Mul) {
                return Some(0);
            }
            op.apply(known(vals, facts, x, depth - 1)?, y)
        }
        Expr::Neg(x) => Some(known(vals, facts, x, depth - 1)?.wrapping_neg()),
        _ => None,
    }
}

/// The values `v` can take whatever the packet: a byte load is below 256,
/// `x & 0xf0` below 0xf1, `x % 12` below 12 (`ldb [x + 18] >= 0x9000`
/// never holds).
fn range(vals: &Values, v: Val, depth: u32) -> (u32, u32) {
    const ANY: (u32, u32) = (0, u32::MAX);
    let size = |s: Size| match s {
        Size::B => (0, 0xff),
        Size::H => (0, 0xffff),
        Size::W => ANY,
    };
    match vals.expr(v) {
        Expr::Const(k) => (k, k),
        // (An indirect load may land on an ancillary offset, which reads
        // a full word whatever the size.)
        Expr::Abs(s, k) if k < sluice_bpf::insn::ancillary::OFF => size(s),
        Expr::Msh(_) => (0, 60),
        Expr::Alu(op, x, y) if depth > 0 => {
            let (_, xhi) = range(vals, x, depth - 1);
            match (op, vals.as_const(y)) {
                (AluOp::And, Some(c)) => (0, xhi.min(c)),
                (AluOp::Rsh, Some(c)) if c < 32 => (0, xhi >> c),
                (AluOp::Mod, Some(c)) if c > 0 => (0, xhi.min(c - 1)),
                (AluOp::Div, Some(c)) if c > 0 => (0, xhi / c),
                _ => ANY,
            }
        }
        _ => ANY,
    }
}

// ---- the analysis -----------------------------------------------------

/// Per-block results of the forward and backward analyses.
pub(crate) struct Analysis {
    pub order: Vec<BlockId>,
    pub vals: Values,
    pub entry: Vec<State>,
    pub exit: Vec<State>,
    /// Facts known at block exit (before its test).
    pub facts_out: Vec<Vec<Fact>>,
    /// Packet bytes guaranteed present at block entry / exit.
    pub len_in: Vec<u64>,
    pub len_out: Vec<u64>,
    /// Values of the loads executed on every path to the block's entry /
    /// exit (sorted): such a load cannot fail when repeated.
    pub avail_in: Vec<Vec<Val>>,
    pub avail_out: Vec<Vec<Val>>,
    /// Live atoms at block exit (bit per atom).
    pub live_out: Vec<u32>,
    /// Live atoms at block entry.
    pub live_in: Vec<u32>,
    /// Packet bytes that every path from the block's entry to an accepting
    /// return shows to exist (by its loads); `u64::MAX` where no path
    /// accepts.
    pub must_in: Vec<u64>,
}

/// The bytes a statement shows to exist when it does not reject.
pub(crate) fn proves_len(s: Stmt) -> u64 {
    match s {
        Stmt::LdAbs(sz, k) if k < sluice_bpf::insn::ancillary::OFF => {
            u64::from(k) + u64::from(sz.bytes())
        }
        Stmt::LdxMsh(k) => u64::from(k) + 1,
        _ => 0,
    }
}

/// Whether a statement can end the program given the bytes already proven
/// and the current state (ancillary loads never do on the kernel, which
/// is the only place they run).
/// Records in `avail` (sorted) the value a load just produced.
pub(crate) fn note_load(st_after: &State, s: Stmt, avail: &mut Vec<Val>) {
    let v = match s {
        Stmt::LdAbs(..) | Stmt::LdInd(..) => st_after[A],
        Stmt::LdxMsh(_) => st_after[X],
        _ => return,
    };
    if let Err(i) = avail.binary_search(&v) {
        avail.insert(i, v);
    }
}

pub(crate) fn can_abort(vals: &Values, st: &State, s: Stmt, proven: u64, avail: &[Val]) -> bool {
    // A load whose value a register or scratch word already holds was
    // executed before on every path: it cannot fail now.
    let loaded = match s {
        Stmt::LdAbs(sz, k) => vals.lookup(Expr::Abs(sz, k)),
        Stmt::LdxMsh(k) => vals.lookup(Expr::Msh(k)),
        Stmt::LdInd(sz, k) => match vals.as_const(st[X]) {
            Some(x) => x.checked_add(k).and_then(|o| vals.lookup(Expr::Abs(sz, o))),
            None => {
                let direct = vals.lookup(Expr::Ind(sz, k, st[X]));
                let via = match vals.expr(st[X]) {
                    Expr::Alu(AluOp::Add, v, c) if matches!(vals.expr(v), Expr::Msh(_)) => vals
                        .as_const(c)
                        .and_then(|c| k.checked_add(c))
                        .and_then(|o| vals.lookup(Expr::Ind(sz, o, v))),
                    _ => None,
                };
                direct.or(via)
            }
        },
        _ => None,
    };
    if loaded.is_some_and(|v| st.contains(&v) || avail.binary_search(&v).is_ok()) {
        return false;
    }
    match s {
        Stmt::LdAbs(_, k) if k >= sluice_bpf::insn::ancillary::OFF => false,
        Stmt::LdAbs(..) | Stmt::LdxMsh(_) => proves_len(s) > proven,
        Stmt::LdInd(sz, k) => match vals.as_const(st[X]) {
            Some(x) => u64::from(x) + u64::from(k) + u64::from(sz.bytes()) > proven,
            None => !ind_covered(vals, st[X], sz, k, avail),
        },
        Stmt::Alu(AluOp::Div | AluOp::Mod, Src::X) => vals.as_const(st[X]).is_none_or(|x| x == 0),
        Stmt::Alu(AluOp::Div | AluOp::Mod, Src::K(0)) => true,
        _ => false,
    }
}

/// Whether an indirect load `P[x + k : sz]` (x the value `xv`) reads only
/// bytes that an indirect load from the same base, executed on every path
/// (`avail`), has shown to exist: that one reached `x + k2 + sz2` in the
/// packet, and this one ends no later (`[x + 14]` after `[x + 16]`).
fn ind_covered(vals: &Values, xv: Val, sz: Size, k: u32, avail: &[Val]) -> bool {
    let (base, k) = match vals.expr(xv) {
        Expr::Alu(AluOp::Add, v, c) if matches!(vals.expr(v), Expr::Msh(_)) => {
            match vals.as_const(c).filter(|c| *c < 0x1000_0000) {
                Some(c) => match k.checked_add(c) {
                    Some(k) => (v, k),
                    None => return false,
                },
                None => (xv, k),
            }
        }
        _ => (xv, k),
    };
    let end = u64::from(k) + u64::from(sz.bytes());
    // Only where the earlier load cannot have reached the ancillary
    // offsets, which read no packet bytes.
    let (_, hi) = range(vals, base, KNOWN_DEPTH);
    avail.iter().any(|&a| match vals.expr(a) {
        Expr::Ind(sz2, k2, b2) => {
            let end2 = u64::from(k2) + u64::from(sz2.bytes());
            b2 == base
                && end2 >= end
                && u64::from(hi) + end2 <= u64::from(sluice_bpf::insn::ancillary::OFF)
        }
        _ => false,
    })
}

/// The atoms a statement uses and defines.
pub(crate) fn use_def(s: Stmt) -> (u32, u32) {
    let a = 1u32 << A;
    let x = 1u32 << X;
    let m = |k: u32| 1u32 << mem(k);
    match s {
        Stmt::LdImm(_) | Stmt::LdAbs(..) | Stmt::LdLen => (0, a),
        Stmt::LdInd(..) => (x, a),
        Stmt::LdMem(k) => (m(k), a),
        Stmt::LdxImm(_) | Stmt::LdxLen | Stmt::LdxMsh(_) => (0, x),
        Stmt::LdxMem(k) => (m(k), x),
        Stmt::St(k) => (a, m(k)),
        Stmt::Stx(k) => (x, m(k)),
        Stmt::Alu(_, Src::K(_)) | Stmt::Neg => (a, a),
        Stmt::Alu(_, Src::X) => (a | x, a),
        Stmt::Tax => (a, x),
        Stmt::Txa => (x, a),
    }
}

fn term_uses(t: &Term) -> u32 {
    match t {
        Term::Branch { src: Src::X, .. } => (1 << A) | (1 << X),
        Term::Branch { .. } => 1 << A,
        _ => 0,
    }
}

/// The atoms live at the start of a block given those live at its end.
pub(crate) fn live_in_of(stmts: &[Stmt], term: &Term, live_out: u32) -> u32 {
    let mut live = live_out | term_uses(term);
    for s in stmts.iter().rev() {
        let (u, d) = use_def(*s);
        live = (live & !d) | u;
    }
    live
}

impl Analysis {
    pub(crate) fn new(ir: &Ir) -> Analysis {
        let order = ir.topo_order().unwrap_or_default();
        let preds = ir.preds(&order);
        let n = ir.blocks.len();
        let mut vals = Values::default();
        let zero = vals.konst(0);
        let mut entry = vec![[zero; NATOMS]; n];
        let mut exit = vec![[zero; NATOMS]; n];
        let mut facts_out: Vec<Vec<Fact>> = vec![Vec::new(); n];
        let mut len_in = vec![0u64; n];
        let mut len_out = vec![0u64; n];
        let mut avail_in: Vec<Vec<Val>> = vec![Vec::new(); n];
        let mut avail_out: Vec<Vec<Val>> = vec![Vec::new(); n];
        for &b in &order {
            if b != ir.entry && !preds[b].is_empty() {
                let mut st = exit[preds[b][0]];
                for (i, atom) in st.iter_mut().enumerate() {
                    if preds[b][1..].iter().any(|p| exit[*p][i] != *atom) {
                        *atom = vals.get(Expr::Phi(b, i as u8));
                    }
                }
                entry[b] = st;
                // Facts: intersection over in-edges.
                let mut acc: Option<Vec<Fact>> = None;
                let mut l = u64::MAX;
                for &p in &preds[b] {
                    l = l.min(len_out[p]);
                    for edge in edge_facts(ir, &exit, &facts_out, p, b)
                        .into_iter()
                        .flatten()
                    {
                        match &mut acc {
                            None => acc = Some(edge.to_vec()),
                            Some(a) => a.retain(|f| edge.contains(f)),
                        }
                    }
                }
                facts_out[b] = acc.unwrap_or_default();
                len_in[b] = l;
                let mut av = avail_out[preds[b][0]].clone();
                for p in &preds[b][1..] {
                    av.retain(|v| avail_out[*p].binary_search(v).is_ok());
                }
                avail_in[b] = av;
            }
            let mut st = entry[b];
            let mut l = len_in[b];
            let mut av = avail_in[b].clone();
            for s in &ir.blocks[b].stmts {
                step(&mut vals, &mut st, *s);
                l = l.max(proves_len(*s));
                note_load(&st, *s, &mut av);
            }
            exit[b] = st;
            len_out[b] = l;
            avail_out[b] = av;
        }
        // Liveness and anticipated lengths, backwards.
        let mut live_in = vec![0u32; n];
        let mut live_out = vec![0u32; n];
        let mut must_in = vec![u64::MAX; n];
        for &b in order.iter().rev() {
            let blk = &ir.blocks[b];
            let after = match blk.term {
                Term::Ret(0) => u64::MAX,
                Term::Ret(_) => 0,
                _ => blk.term.succs().map(|s| must_in[s]).min().unwrap_or(0),
            };
            must_in[b] = blk
                .stmts
                .iter()
                .map(|s| proves_len(*s))
                .fold(after, u64::max);
            let out = blk.term.succs().fold(0, |acc, s| acc | live_in[s]);
            live_out[b] = out;
            live_in[b] = live_in_of(&blk.stmts, &blk.term, out);
        }
        Analysis {
            order,
            vals,
            entry,
            exit,
            facts_out,
            len_in,
            len_out,
            avail_in,
            avail_out,
            live_out,
            live_in,
            must_in,
        }
    }
}

/// The analysis of the graph as it was when last asked for, kept between
/// passes and computed again only when the graph has changed since. The
/// graph's fingerprint (a hash of all of it) tells, so that no pass has to
/// report exactly what it changed: a pass that changes nothing costs no
/// new analysis.
#[derive(Default)]
pub(crate) struct AnalysisCache {
    fingerprint: u64,
    analysis: Option<Analysis>,
}

impl AnalysisCache {
    /// The analysis of `ir` as it is now.
    pub(crate) fn get(&mut self, ir: &Ir) -> &mut Analysis {
        let fp = fingerprint(ir);
        if self.fingerprint != fp {
            self.analysis = None;
        }
        self.fingerprint = fp;
        self.analysis.get_or_insert_with(|| Analysis::new(ir))
    }
}

/// A hash of the whole graph (SipHash: a 64-bit collision, which would
/// hand a pass a stale analysis, is out of reach).
fn fingerprint(ir: &Ir) -> u64 {
    use std::hash::Hash;
    let mut h = std::hash::DefaultHasher::new();
    ir.entry.hash(&mut h);
    ir.blocks.hash(&mut h);
    h.finish()
}

/// What a branch compares `A` with, in state `st`: its constant, or the
/// value `X` holds.
pub(crate) fn operand(st: &State, src: Src) -> FactSrc {
    match src {
        Src::K(k) => FactSrc::K(k),
        Src::X => FactSrc::V(st[X]),
    }
}

/// The fact a branch adds on its true or false edge.
pub(crate) fn branch_fact(st: &State, cond: Cond, src: Src, outcome: bool) -> Fact {
    Fact {
        a: st[A],
        cond,
        b: operand(st, src),
        outcome,
    }
}

/// The facts on each edge from `p` to `s` (two if both branches go there).
fn edge_facts<'a>(
    ir: &Ir,
    exit: &[State],
    facts_out: &'a [Vec<Fact>],
    p: BlockId,
    s: BlockId,
) -> [Option<EdgeFacts<'a>>; 2] {
    let base = &facts_out[p];
    match ir.blocks[p].term {
        Term::Branch { cond, src, jt, jf } => [(jt, true), (jf, false)].map(|(target, outcome)| {
            (target == s).then(|| {
                // The most recent MAX_FACTS: the branch's own and the
                // newest of those before it.
                let keep = base.len().min(MAX_FACTS - 1);
                EdgeFacts {
                    base: &base[base.len() - keep..],
                    extra: Some(branch_fact(&exit[p], cond, src, outcome)),
                }
            })
        }),
        _ => [Some(EdgeFacts { base, extra: None }), None],
    }
}

/// The facts known on one edge: those of its source block's exit and the
/// outcome of the source's test, if it branches.
struct EdgeFacts<'a> {
    base: &'a [Fact],
    extra: Option<Fact>,
}

impl EdgeFacts<'_> {
    fn to_vec(&self) -> Vec<Fact> {
        let mut v = Vec::with_capacity(self.base.len() + 1);
        v.extend_from_slice(self.base);
        v.extend(self.extra);
        v
    }

    fn contains(&self, f: &Fact) -> bool {
        self.extra == Some(*f) || self.base.contains(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileError, ErrorKind, Names, Options, codegen, lower, parse};
    use sluice_bpf::Insn;
    use sluice_wire::LinkType;

    fn lowered(expr: &str, linktype: LinkType) -> Ir {
        let opts = Options {
            linktype,
            ..Options::default()
        };
        let ast = parse::parse(expr).unwrap();
        lower::lower(&ast, &opts, Names::system()).unwrap().0
    }

    /// The program for `expr` with `passes`, after checking on every cut
    /// of `packets` that it gives the unoptimised program's verdicts.
    fn program(expr: &str, linktype: LinkType, passes: Passes, packets: &[&[u8]]) -> Vec<Insn> {
        let ir0 = lowered(expr, linktype);
        let mut ir = ir0.clone();
        optimize_with(&mut ir, passes);
        let prog = sluice_bpf::Program::new(codegen::codegen(&ir)).unwrap();
        for p in packets {
            for n in 0..=p.len() {
                let cut = &p[..n];
                let meta = crate::ir::RunMeta {
                    wire_len: p.len() as u32,
                    ..Default::default()
                };
                let want = ir0.run(cut, &meta);
                let got = prog.run(cut, p.len() as u32, &sluice_bpf::Meta::default());
                assert_eq!(got, want, "{expr:?} on {cut:02x?}");
            }
        }
        prog.insns().to_vec()
    }

    fn count(prog: &[Insn], insn: Insn) -> usize {
        prog.iter().filter(|i| **i == insn).count()
    }

    fn ld_abs(size: u16, k: u32) -> Insn {
        Insn::stmt(sluice_bpf::insn::LD | size | sluice_bpf::insn::ABS, k)
    }

    /// An Ethernet/IPv4 frame from 10.77.1.5 to 127.0.0.1 (and its RAW
    /// form from byte 14).
    fn ipv4_frame() -> Vec<u8> {
        let mut f = vec![0u8; 14 + 20 + 8];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = 17;
        f[26..30].copy_from_slice(&[10, 77, 1, 5]);
        f[30..34].copy_from_slice(&[127, 0, 0, 1]);
        f
    }

    #[test]
    fn a_test_that_changes_nothing_goes() {
        // Every EtherType equal to 0x6003 is above 1500 too.
        let expr = "ether proto 0x6003 or ether[12:2] > 1500";
        let f = ipv4_frame();
        let mut g = f.clone();
        g[12..14].copy_from_slice(&[0x60, 0x03]);
        let all = program(expr, LinkType::ETHERNET, Passes::default(), &[&f, &g]);
        let jeq = |k| Insn::jump(sluice_bpf::insn::JMP | sluice_bpf::insn::JEQ, k, 0, 0);
        let has_6003 = |p: &[Insn]| p.iter().any(|i| i.code == jeq(0).code && i.k == 0x6003);
        assert!(!has_6003(&all), "{all:?}");
        let off = Passes {
            implied_tests: false,
            ..Passes::default()
        };
        assert!(has_6003(&program(expr, LinkType::ETHERNET, off, &[&f, &g])));
    }

    #[test]
    fn a_chain_entered_twice_hoists_when_the_other_way_knows_the_test() {
        // The tests of `not (10.77.0.255 or 172.16.0.1)` on the source
        // address are reached from where the source was found to be
        // 127.0.0.1 too: there they are known false, so the hoisted test
        // of the source needs no reload of it on either way.
        let expr = "!(udp[12:1]) = 2054 or ! host localhost and 172.16.0.1 or not (10.77.0.255 or 172.16.0.1)";
        let f = ipv4_frame();
        let mut g = f.clone();
        g[26..30].copy_from_slice(&[127, 0, 0, 1]);
        g[30..34].copy_from_slice(&[172, 16, 0, 1]);
        let mut h = f.clone();
        h[26..30].copy_from_slice(&[172, 16, 0, 1]);
        let pk: [&[u8]; 3] = [&f, &g, &h];
        let all = program(expr, LinkType::ETHERNET, Passes::default(), &pk);
        assert_eq!(count(&all, ld_abs(sluice_bpf::insn::W, 26)), 3, "{all:?}");
    }

    #[test]
    fn a_hoisted_test_needs_no_guard_where_every_way_on_loads_as_far() {
        // `not 0.0.0.0` tested on the source before the destination is
        // loaded leads to blocks that all load the destination again
        // before they accept: the load skipped needs no guard.
        let expr = "not ip proto \\icmp or not host localhost or not 0.0.0.0 and not 10.77.0.255 and 127.0.0.1";
        let mut f = vec![0u8; 4 + 20 + 8];
        f[0] = 2;
        f[4] = 0x45;
        f[13] = 1;
        f[20..24].copy_from_slice(&[127, 0, 0, 1]);
        let mut g = f.clone();
        g[20..24].copy_from_slice(&[0, 0, 0, 0]);
        g[16..20].copy_from_slice(&[127, 0, 0, 1]);
        let mut h = f.clone();
        h[20..24].copy_from_slice(&[10, 77, 0, 255]);
        let pk: [&[u8]; 3] = [&f, &g, &h];
        let all = program(expr, LinkType::NULL, Passes::default(), &pk);
        assert!(all.len() <= 20, "{} instructions: {all:?}", all.len());
    }

    #[test]
    fn the_shortest_of_the_alternatives_is_kept() {
        // Threading specialises the unrolled walk's copies apart; without
        // it they stay shared.
        let expr = "ip protochain 6";
        let ir0 = lowered(expr, LinkType::ETHERNET);
        let mut one = ir0.clone();
        optimize_with(&mut one, Passes::default());
        let mut best = ir0.clone();
        optimize(&mut best);
        let (n1, nb) = (codegen::codegen(&one).len(), codegen::codegen(&best).len());
        assert!(nb < n1, "{nb} against {n1}");
        // An AH header after the IPv4 header, then TCP.
        let mut f = vec![0u8; 14 + 20 + 12 + 20];
        f[12] = 0x08;
        f[14] = 0x45;
        f[23] = 51;
        f[34] = 6;
        f[35] = 1;
        let prog = sluice_bpf::Program::new(codegen::codegen(&best)).unwrap();
        for n in 0..=f.len() {
            let meta = crate::ir::RunMeta {
                wire_len: f.len() as u32,
                ..Default::default()
            };
            let want = ir0.run(&f[..n], &meta);
            let got = prog.run(&f[..n], f.len() as u32, &sluice_bpf::Meta::default());
            assert_eq!(got, want, "{n} bytes");
        }
        assert_ne!(ir0.run(&f, &crate::ir::RunMeta::default()), 0);
    }

    #[test]
    fn an_indirect_load_covered_by_one_before_it_cannot_fail() {
        // The destination port `[x + 2]` is loaded first; the source port
        // `[x + 0]` ends before it, so the test of the destination against
        // 22 may move above the source's load without a guard, and the
        // destination is loaded once.
        let expr = "tcp dst port 123 or tcp port 22";
        let mut f = vec![0u8; 20 + 20];
        f[0] = 0x45;
        f[9] = 6;
        f[22..24].copy_from_slice(&[0, 22]);
        let mut g = f.clone();
        g[20..22].copy_from_slice(&[0, 22]);
        g[22..24].copy_from_slice(&[0, 80]);
        let pk: [&[u8]; 2] = [&f, &g];
        let all = program(expr, LinkType::RAW, Passes::default(), &pk);
        let ind = |k| {
            Insn::stmt(
                sluice_bpf::insn::LD | sluice_bpf::insn::H | sluice_bpf::insn::IND,
                k,
            )
        };
        assert_eq!(count(&all, ind(2)), 1, "{all:?}");
        assert_eq!(count(&all, ind(0)), 1, "{all:?}");
    }

    #[test]
    fn and_chains_hoist_a_test_of_the_value_in_hand() {
        // The source address is tested against the loopback net while it
        // is still in A, not reloaded after the destination.
        let expr = "src or dst host 10.77.1.5 && net loopback";
        let f = ipv4_frame();
        let raw = &f[14..];
        let mut swapped = raw.to_vec();
        swapped.copy_within(12..16, 4);
        swapped[12..16].copy_from_slice(&[127, 0, 0, 1]);
        swapped[16..20].copy_from_slice(&[10, 77, 1, 5]);
        let all = program(expr, LinkType::RAW, Passes::default(), &[raw, &swapped]);
        assert_eq!(count(&all, ld_abs(sluice_bpf::insn::W, 12)), 1, "{all:?}");
        let off = Passes {
            pullup: false,
            ..Passes::default()
        };
        let without = program(expr, LinkType::RAW, off, &[raw, &swapped]);
        assert!(without.len() > all.len());
    }

    #[test]
    fn a_value_recomputed_in_a_register_is_reused() {
        let expr = "len - 14 < 33 || (not len - 14 == 131072 && ip src net 10.77)";
        let f = ipv4_frame();
        let all = program(expr, LinkType::RAW, Passes::default(), &[&f[14..]]);
        let len = Insn::stmt(
            sluice_bpf::insn::LD | sluice_bpf::insn::W | sluice_bpf::insn::LEN,
            0,
        );
        assert_eq!(count(&all, len), 1, "{all:?}");
    }

    #[test]
    fn a_value_a_test_pinned_decides_later_tests_on_it() {
        // Each address is either fe80::1 or in ff02::/16, never both.
        let opts = Options {
            linktype: LinkType::LINUX_SLL2,
            ..Options::default()
        };
        let e: CompileError =
            crate::compile("host fe80::1 and src and dst net ff02::/16", &opts).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::RejectsAll);
    }

    #[test]
    fn a_guard_moves_up_and_its_jump_goes() {
        // Every word of both addresses is loaded before an accept; the
        // last one alone would need a block and a jump of its own.
        let expr = "pim && ip6 net ff00::/8";
        let mut f = vec![0u8; 14 + 40];
        f[12..14].copy_from_slice(&[0x86, 0xdd]);
        f[20] = 103;
        f[22] = 0xff;
        let mut g = f.clone();
        g[22] = 0xfe;
        g[38] = 0xff;
        let ja = Insn::stmt(sluice_bpf::insn::JMP | sluice_bpf::insn::JA, 0);
        let all = program(expr, LinkType::ETHERNET, Passes::default(), &[&f, &g]);
        assert!(all.iter().all(|i| i.code != ja.code), "{all:?}");
        let off = Passes {
            guards: false,
            ..Passes::default()
        };
        let without = program(expr, LinkType::ETHERNET, off, &[&f, &g]);
        assert_eq!(without.len(), all.len() + 1);
    }
}
