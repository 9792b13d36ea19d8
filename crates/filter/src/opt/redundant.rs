//! Redundant-test removal using dominators: a test whose outcome the tests
//! on every path to it have already decided (the facts at its block's
//! entry, which hold because the deciding tests dominate it) becomes an
//! unconditional jump. Its statements stay.

use super::{AnalysisCache, decide};
use crate::ir::{Ir, Term};

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let mut changed = false;
    for &b in &an.order {
        let Term::Branch { cond, src, jt, jf } = ir.blocks[b].term else {
            continue;
        };
        let st = &an.exit[b];
        if let Some(o) = decide(
            &an.vals,
            &an.facts_out[b],
            st[super::A],
            cond,
            super::operand(st, src),
        ) {
            ir.blocks[b].term = Term::Goto(if o { jt } else { jf });
            changed = true;
        }
    }
    changed
}
