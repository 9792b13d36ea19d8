//! Test hoisting in `or` chains (libpcap's `or_pullup`, made safe for
//! truncated packets).
//!
//! In `host a or host b`, the program tests the source address against
//! a, loads the destination address and tests it, then loads the source
//! address again for b. When A still holds the source address, the test
//! against b can run first, before the destination is loaded:
//!
//! ```text
//! P:  ... A = v; if A == a goto T          P:  ... A = v; if A == a goto T
//! Q:  A = w; if A == c goto T       ==>    R2: if A == b goto G
//! R:  A = v; if A == b goto T              Q:  A = w; if A == c goto T
//!     else goto N                              else goto N
//!                                          G:  A = w; goto T
//! ```
//!
//! libpcap does this without `G`, and so accepts a packet whose source is
//! b even when it is too short to hold the destination — which its own
//! unoptimised program rejects, because it loads the destination first.
//! The guard `G` repeats Q's statements (its loads) on the way to T, so
//! that such a packet is still rejected; all the guards of a chain are
//! identical and merge into one. Q may be a chain of tests on the same
//! loaded value, all going to T when true.

use super::{A, Analysis, NATOMS, can_abort, proves_len, step};
use crate::ir::{Block, BlockId, Ir, Src, Term};

pub(super) fn run(ir: &mut Ir) -> bool {
    let mut an = Analysis::new(ir);
    let n = ir.blocks.len();
    let order = an.order.clone();
    let mut preds = vec![0usize; n];
    for &b in &order {
        for s in ir.blocks[b].term.succs() {
            preds[s] += 1;
        }
    }
    let mut touched = vec![false; n];
    let mut changed = false;
    for &p in &order {
        if touched[p] {
            continue;
        }
        for slot in 0..2 {
            let q1 = match (ir.blocks[p].term, slot) {
                (Term::Branch { jt, .. }, 0) => jt,
                (Term::Branch { jf, .. }, 1) => jf,
                (Term::Goto(t), 0) => t,
                _ => continue,
            };
            if let Some(plan) = plan(ir, &mut an, &preds, &touched, p, q1) {
                apply(ir, p, slot, q1, plan, &mut touched);
                changed = true;
                break;
            }
        }
    }
    changed
}

struct Plan {
    /// The last block of the Q chain.
    qm: BlockId,
    /// R, whose test moves up.
    r: BlockId,
    /// The common true target.
    t: BlockId,
}

fn plan(
    ir: &Ir,
    an: &mut Analysis,
    preds: &[usize],
    touched: &[bool],
    p: BlockId,
    q1: BlockId,
) -> Option<Plan> {
    let v = an.exit[p][A];
    // The Q chain: single-entry tests that all go to T when true; only the
    // first may have statements.
    let Term::Branch {
        src: Src::K(_),
        jt: t,
        jf: mut next,
        ..
    } = ir.blocks[q1].term
    else {
        return None;
    };
    if !matches!(ir.blocks[t].term, Term::Ret(_)) || preds[q1] != 1 || touched[q1] {
        return None;
    }
    let mut qm = q1;
    let mut chain = 0;
    loop {
        let r = next;
        if touched[r] || r == t {
            return None;
        }
        let rb = &ir.blocks[r];
        let Term::Branch {
            src: Src::K(_),
            jt: rt,
            jf: rf,
            ..
        } = rb.term
        else {
            return None;
        };
        if rt != t {
            return None;
        }
        // Is R a test of v again (its statements reload it)?
        let mut st = an.exit[qm];
        let mut proven = an.len_out[qm];
        let mut avail = an.avail_out[qm].clone();
        let mut ok = true;
        for s in &rb.stmts {
            if can_abort(&an.vals, &st, *s, proven, &avail) {
                ok = false;
                break;
            }
            step(&mut an.vals, &mut st, *s);
            super::note_load(&st, *s, &mut avail);
            proven = proven.max(proves_len(*s));
        }
        if ok && st[A] == v && an.exit[qm][A] != v {
            // Skipping R from Qm must leave what R's false target needs.
            let live = an.live_in[rf];
            let before = an.exit[qm];
            if (0..NATOMS).all(|i| live & (1 << i) == 0 || st[i] == before[i]) {
                return Some(Plan { qm, r, t });
            }
            return None;
        }
        // Otherwise R may extend the Q chain: no statements, one way in.
        if !rb.stmts.is_empty() || preds[r] != 1 || chain >= 64 {
            return None;
        }
        chain += 1;
        qm = r;
        next = rf;
    }
}

fn apply(ir: &mut Ir, p: BlockId, slot: usize, q1: BlockId, plan: Plan, touched: &mut [bool]) {
    let Term::Branch {
        cond, src, jf: rf, ..
    } = ir.blocks[plan.r].term
    else {
        return;
    };
    // A rejecting target needs no guard: a load that fails rejects too.
    let guard = if ir.blocks[plan.t].term == Term::Ret(0) || ir.blocks[q1].stmts.is_empty() {
        plan.t
    } else {
        ir.blocks.push(Block {
            stmts: ir.blocks[q1].stmts.clone(),
            term: Term::Goto(plan.t),
        });
        ir.blocks.len() - 1
    };
    let r2 = ir.blocks.len();
    ir.blocks.push(Block {
        stmts: Vec::new(),
        term: Term::Branch {
            cond,
            src,
            jt: guard,
            jf: q1,
        },
    });
    match &mut ir.blocks[p].term {
        Term::Branch { jt, jf, .. } => {
            if slot == 0 {
                *jt = r2;
            } else {
                *jf = r2;
            }
        }
        Term::Goto(t) => *t = r2,
        Term::Ret(_) => {}
    }
    if let Term::Branch { jf, .. } = &mut ir.blocks[plan.qm].term {
        *jf = rf;
    }
    for b in [p, q1, plan.qm, plan.r] {
        touched[b] = true;
    }
    let mut b = q1;
    while b != plan.qm {
        let Term::Branch { jf, .. } = ir.blocks[b].term else {
            break;
        };
        b = jf;
        touched[b] = true;
    }
}
