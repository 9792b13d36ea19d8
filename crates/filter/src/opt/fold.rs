//! Constant folding and propagation, and removal of statements that
//! recompute a value already in place (common loads reused).
//!
//! With the value numbers of the analysis, each statement is rewritten:
//! an operation on an X known to be constant uses the constant; a load
//! through an X known to be constant becomes an absolute load; a statement
//! that leaves its register holding the value it already held (a second
//! `ldh [12]`, a `tax` when X already equals A, a store of the value the
//! word already has) goes, unless it could reject the packet where the
//! first one could not; a computation whose result is a known constant
//! becomes an immediate load. A test on constants becomes a jump.

use super::{
    A, Analysis, AnalysisCache, NATOMS, X, can_abort, note_load, proves_len, step, use_def,
};
use crate::ir::{AluOp, Ir, Src, Stmt, Term};

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let mut changed = collapse_accepts(ir, an);
    for &b in &an.order.clone() {
        let mut st = an.entry[b];
        let mut proven = an.len_in[b];
        let mut avail = an.avail_in[b].clone();
        let old = std::mem::take(&mut ir.blocks[b].stmts);
        let mut new = Vec::with_capacity(old.len());
        // The state before each kept statement, and whether it may reject.
        let mut befores = Vec::with_capacity(old.len());
        let mut may_abort = Vec::with_capacity(old.len());
        for s in old {
            let before = st;
            let mut s2 = s;
            match s {
                Stmt::Alu(op, Src::X) => {
                    if let Some(k) = an.vals.as_const(st[X])
                        && !(matches!(op, AluOp::Div | AluOp::Mod) && k == 0)
                    {
                        s2 = Stmt::Alu(op, Src::K(k));
                    }
                }
                Stmt::LdInd(sz, k) => {
                    if let Some(x) = an.vals.as_const(st[X])
                        && let Some(o) = x.checked_add(k)
                        && o < sluice_bpf::insn::ancillary::OFF
                    {
                        s2 = Stmt::LdAbs(sz, o);
                    }
                }
                _ => {}
            }
            let aborts = can_abort(&an.vals, &before, s2, proven, &avail);
            step(&mut an.vals, &mut st, s2);
            note_load(&st, s2, &mut avail);
            let (_, def) = use_def(s2);
            let atom = def.trailing_zeros() as usize;
            if !aborts && def.count_ones() == 1 && atom < NATOMS && st[atom] == before[atom] {
                changed = true;
                continue;
            }
            if !aborts && atom == A && def.count_ones() == 1 {
                if let Some(c) = an.vals.as_const(st[A])
                    && s2 != Stmt::LdImm(c)
                {
                    s2 = Stmt::LdImm(c);
                }
            } else if !aborts
                && atom == X
                && def.count_ones() == 1
                && let Some(c) = an.vals.as_const(st[X])
                && s2 != Stmt::LdxImm(c)
            {
                s2 = Stmt::LdxImm(c);
            }
            proven = proven.max(proves_len(s2));
            if s2 != s {
                changed = true;
            }
            befores.push(before);
            may_abort.push(aborts);
            new.push(s2);
        }
        changed |= drop_recomputations(&mut new, &befores, &may_abort, &st);
        ir.blocks[b].stmts = new;
        if let Term::Branch { cond, src, jt, jf } = ir.blocks[b].term {
            let mut src2 = src;
            if src == Src::X
                && let Some(k) = an.vals.as_const(st[X])
            {
                src2 = Src::K(k);
            }
            let k = match src2 {
                Src::K(k) => Some(k),
                Src::X => None,
            };
            if let (Some(a), Some(k)) = (an.vals.as_const(st[A]), k) {
                ir.blocks[b].term = Term::Goto(if cond.eval(a, k) { jt } else { jf });
                changed = true;
            } else if src2 != src {
                ir.blocks[b].term = Term::Branch {
                    cond,
                    src: src2,
                    jt,
                    jf,
                };
                changed = true;
            }
        }
    }
    changed
}

/// Removes runs of statements that leave every register and scratch word
/// as it was before them (`ld #pktlen; sub #14` when A already holds
/// `len - 14`), when none of them can reject the packet. `befores[i]` is
/// the state before `stmts[i]`, `end` the state after the last one.
fn drop_recomputations(
    stmts: &mut Vec<Stmt>,
    befores: &[super::State],
    may_abort: &[bool],
    end: &super::State,
) -> bool {
    let n = stmts.len();
    let after = |j: usize| if j + 1 < n { &befores[j + 1] } else { end };
    let mut keep = vec![true; n];
    // Runs removed are disjoint: each leaves the state after it as it
    // was before it, so the statements after it see what they saw.
    let mut floor = 0;
    let mut j = 0;
    while j < n {
        let mut found = None;
        for i in (floor..=j).rev() {
            if may_abort[i] {
                break;
            }
            if befores[i] == *after(j) {
                found = Some(i);
            }
        }
        if let Some(i) = found {
            keep[i..=j].iter_mut().for_each(|k| *k = false);
            floor = j + 1;
        }
        j += 1;
    }
    if keep.iter().all(|k| *k) {
        return false;
    }
    let mut i = 0;
    stmts.retain(|_| {
        let k = keep[i];
        i += 1;
        k
    });
    true
}

/// A block from which every path returns the same value, with no statement
/// on the way that could reject the packet, is that return.
fn collapse_accepts(ir: &mut Ir, an: &mut Analysis) -> bool {
    let n = ir.blocks.len();
    let mut ret: Vec<Option<u32>> = vec![None; n];
    let mut changed = false;
    for &b in an.order.clone().iter().rev() {
        let blk = &ir.blocks[b];
        let after = match blk.term {
            Term::Ret(k) => Some(k),
            Term::Goto(t) => ret[t],
            Term::Branch { jt, jf, .. } => match (ret[jt], ret[jf]) {
                (Some(x), Some(y)) if x == y => Some(x),
                _ => None,
            },
        };
        let Some(k) = after else { continue };
        let mut st = an.entry[b];
        let mut proven = an.len_in[b];
        let mut avail = an.avail_in[b].clone();
        let mut clean = true;
        for s in &blk.stmts {
            if can_abort(&an.vals, &st, *s, proven, &avail) {
                clean = false;
                break;
            }
            step(&mut an.vals, &mut st, *s);
            note_load(&st, *s, &mut avail);
            proven = proven.max(proves_len(*s));
        }
        if clean {
            ret[b] = Some(k);
            if blk.term != Term::Ret(k) || !blk.stmts.is_empty() {
                ir.blocks[b].stmts.clear();
                ir.blocks[b].term = Term::Ret(k);
                changed = true;
            }
        }
    }
    changed
}
