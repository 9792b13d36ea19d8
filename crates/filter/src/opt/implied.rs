//! Tests whose outcome does not change where the program goes: in
//! `if A == 0x6003 goto T else F` where F is `if A > 0x5dc goto T …`, the
//! first test is not needed, since F sends every A equal to 0x6003 to T
//! anyway. The test becomes a jump to F.
//!
//! In general, a test goes when the path from one of its targets, run
//! with the test's outcome that leads to the other target as a known fact,
//! reaches that other target: through tests the facts decide and
//! statements that cannot reject the packet, arriving with the registers
//! and scratch words the target reads unchanged. The verdict is then the
//! same whichever way the test would have gone.

use super::{
    A, Analysis, AnalysisCache, NATOMS, branch_fact, can_abort, decide, operand, proves_len, step,
};
use crate::ir::{BlockId, Ir, Term};

/// How many blocks the path from one target to the other may cross.
const MAX_CHAIN: usize = 64;

/// At most this many tests go per run (each needs a fresh analysis).
const MAX_CHANGES: usize = 256;

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let mut changed = false;
    // A test that goes takes its fact away from the blocks after it, so
    // the analysis is redone after each change; the blocks before it in
    // topological order keep their facts and need no second look.
    let mut done = vec![false; ir.blocks.len()];
    'changes: for _ in 0..MAX_CHANGES {
        let an = cache.get(ir);
        for &b in &an.order.clone() {
            if done[b] {
                continue;
            }
            done[b] = true;
            let Term::Branch { cond, src, jt, jf } = ir.blocks[b].term else {
                continue;
            };
            // From jf, knowing the test true, do we reach jt? From jt,
            // knowing it false, do we reach jf?
            for (from, to, outcome) in [(jf, jt, true), (jt, jf, false)] {
                let fact = branch_fact(&an.exit[b], cond, src, outcome);
                if reaches(ir, an, b, from, to, fact) {
                    ir.blocks[b].term = Term::Goto(from);
                    changed = true;
                    continue 'changes;
                }
            }
        }
        break;
    }
    changed
}

/// Whether running from `from`, with the state at `b`'s exit and its facts
/// plus `fact`, arrives at `to` without rejecting and with what `to` reads
/// unchanged.
fn reaches(
    ir: &Ir,
    an: &mut Analysis,
    b: BlockId,
    from: BlockId,
    to: BlockId,
    fact: super::Fact,
) -> bool {
    let mut facts = an.facts_out[b].clone();
    facts.push(fact);
    let start = an.exit[b];
    let mut st = start;
    let mut proven = an.len_out[b];
    let mut avail = an.avail_out[b].clone();
    let mut cur = from;
    for _ in 0..MAX_CHAIN {
        if cur == to {
            let live = an.live_in[to];
            return (0..NATOMS).all(|i| live & (1 << i) == 0 || st[i] == start[i]);
        }
        let blk = &ir.blocks[cur];
        for s in &blk.stmts {
            if can_abort(&an.vals, &st, *s, proven, &avail) {
                return false;
            }
            step(&mut an.vals, &mut st, *s);
            super::note_load(&st, *s, &mut avail);
            proven = proven.max(proves_len(*s));
        }
        cur = match blk.term {
            Term::Goto(t) => t,
            Term::Branch { cond, src, jt, jf } => {
                match decide(&an.vals, &facts, st[A], cond, operand(&st, src)) {
                    Some(true) => jt,
                    Some(false) => jf,
                    None => return false,
                }
            }
            Term::Ret(_) => return false,
        };
    }
    false
}
