//! Jump threading along edges (libpcap's `opt_j`, on edge dominators): when
//! the outcome of a block's test is known on one edge into it — from the
//! facts the tests on the way there established — that edge goes straight
//! to the outcome, past the block.
//!
//! Skipping a block is allowed only when nothing it does is needed: none of
//! its statements may reject a packet that the path has not already shown
//! to be long enough, and every register or scratch word it changes must be
//! either dead where the edge now leads or left with the value it had.

use super::{A, AnalysisCache, NATOMS, branch_fact, can_abort, decide, operand, proves_len, step};
use crate::ir::{BlockId, Ir, Term};

/// How many blocks one edge may be threaded past in one pass.
const MAX_CHAIN: usize = 64;

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let mut changed = false;
    for &p in &an.order.clone() {
        let slots: Vec<(usize, BlockId, Option<bool>)> = match ir.blocks[p].term {
            Term::Branch { jt, jf, .. } => vec![(0, jt, Some(true)), (1, jf, Some(false))],
            Term::Goto(t) => vec![(0, t, None)],
            Term::Ret(_) => continue,
        };
        for (slot, first, outcome) in slots {
            let mut facts = an.facts_out[p].clone();
            if let (Term::Branch { cond, src, .. }, Some(o)) = (ir.blocks[p].term, outcome) {
                facts.push(branch_fact(&an.exit[p], cond, src, o));
            }
            let state = an.exit[p];
            let proven0 = an.len_out[p];
            // Follow the chain of blocks whose outcome is known on this
            // edge, running their statements; the edge may go to any block
            // of the chain where the values it needs are those it has now.
            let mut target = first;
            let mut cur = first;
            let mut st = state;
            let mut proven = proven0;
            let mut avail = an.avail_out[p].clone();
            for _ in 0..MAX_CHAIN {
                let blk = &ir.blocks[cur];
                let mut ok = true;
                for s in &blk.stmts {
                    if can_abort(&an.vals, &st, *s, proven, &avail) {
                        ok = false;
                        break;
                    }
                    step(&mut an.vals, &mut st, *s);
                    super::note_load(&st, *s, &mut avail);
                    proven = proven.max(proves_len(*s));
                }
                if !ok {
                    break;
                }
                let next = match blk.term {
                    Term::Goto(t) => t,
                    Term::Branch { cond, src, jt, jf } => {
                        match decide(&an.vals, &facts, st[A], cond, operand(&st, src)) {
                            Some(true) => jt,
                            Some(false) => jf,
                            None => break,
                        }
                    }
                    Term::Ret(_) => break,
                };
                let live = an.live_in[next];
                if (0..NATOMS).all(|i| live & (1 << i) == 0 || st[i] == state[i]) {
                    target = next;
                }
                cur = next;
            }
            if target != first {
                match &mut ir.blocks[p].term {
                    Term::Branch { jt, jf, .. } => {
                        if slot == 0 {
                            *jt = target;
                        } else {
                            *jf = target;
                        }
                    }
                    Term::Goto(t) => *t = target,
                    Term::Ret(_) => {}
                }
                changed = true;
            }
        }
    }
    changed
}
