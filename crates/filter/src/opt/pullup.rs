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
    // (updated as the pass rewrites edges)
    for &b in &order {
        for s in ir.blocks[b].term.succs() {
            preds[s] += 1;
        }
    }
    let mut touched = vec![false; n];
    let mut changed = false;
    for &p0 in &order {
        if touched[p0] {
            continue;
        }
        for slot in 0..2 {
            let q1 = match (ir.blocks[p0].term, slot) {
                (Term::Branch { jt, .. }, 0) => jt,
                (Term::Branch { jf, .. }, 1) => jf,
                (Term::Goto(t), 0) => t,
                _ => continue,
            };
            let Some(first) = plan(ir, &mut an, &preds, &touched, p0, q1) else {
                continue;
            };
            // Hoist the first test, then keep hoisting the following ones
            // of the chain above the same Q.
            let mut p = p0;
            let mut slot = slot;
            let mut next = Some(first);
            while let Some(pl) = next {
                let r2 = apply(ir, p, slot, q1, &pl);
                changed = true;
                // Keep the counts of ways in right: Qm now jumps past R to
                // R's false target, and R may still be entered elsewhere.
                preds.resize(ir.blocks.len(), 1);
                if let Term::Branch { jf: rf, .. } = ir.blocks[pl.r].term {
                    preds[rf] += 1;
                }
                preds[pl.r] = preds[pl.r].saturating_sub(1);
                // The new test block leaves the state as P left it.
                let (e, l, a) = (an.exit[p], an.len_out[p], an.avail_out[p].clone());
                while an.exit.len() < ir.blocks.len() {
                    an.exit.push(e);
                    an.len_out.push(l);
                    an.avail_out.push(a.clone());
                    an.live_in.push(u32::MAX);
                    an.facts_out.push(Vec::new());
                }
                touched.resize(ir.blocks.len(), false);
                for b in [p, pl.r] {
                    touched[b] = true;
                }
                p = r2;
                slot = 1;
                next = plan(ir, &mut an, &preds, &touched, p, q1);
            }
            // The rest of the chain waits for a fresh analysis.
            let mut b = q1;
            for _ in 0..100_000 {
                touched[b] = true;
                let Term::Branch { jf, .. } = ir.blocks[b].term else {
                    break;
                };
                b = jf;
            }
            break;
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
    if !matches!(ir.blocks[t].term, Term::Ret(_))
        || preds.get(q1) != Some(&1)
        || touched.get(q1) != Some(&false)
    {
        return None;
    }
    let mut qm = q1;
    let mut chain = 0;
    loop {
        let r = next;
        if touched.get(r) != Some(&false) || r == t {
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
        // Otherwise R may extend the Q chain: statements that change
        // nothing (a reload of the value in hand), one way in.
        let noop = ok && st == an.exit[qm];
        if !noop || preds.get(r) != Some(&1) || chain >= 4096 {
            return None;
        }
        chain += 1;
        qm = r;
        next = rf;
    }
}

fn apply(ir: &mut Ir, p: BlockId, slot: usize, q1: BlockId, plan: &Plan) -> BlockId {
    let Term::Branch {
        cond, src, jf: rf, ..
    } = ir.blocks[plan.r].term
    else {
        return p;
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
    r2
}
