//! Dead-store elimination: a statement whose result nothing reads before
//! it is overwritten (or the program ends) goes — unless it could reject
//! the packet (a load past the bytes already shown to exist, a division by
//! an X that may be 0), since that is part of the program's verdict.

use super::{Analysis, can_abort, proves_len, step, use_def};
use crate::ir::Ir;

pub(super) fn run(ir: &mut Ir) -> bool {
    let mut an = Analysis::new(ir);
    let mut changed = false;
    for &b in &an.order.clone() {
        let stmts = &ir.blocks[b].stmts;
        // Forward: may each statement reject?
        let mut st = an.entry[b];
        let mut proven = an.len_in[b];
        let mut aborts = Vec::with_capacity(stmts.len());
        for s in stmts {
            aborts.push(can_abort(&an.vals, &st, *s, proven));
            step(&mut an.vals, &mut st, *s);
            proven = proven.max(proves_len(*s));
        }
        // Backward: is each result used?
        let blk = &ir.blocks[b];
        let mut live = super::live_in_of(&[], &blk.term, an.live_out[b]);
        let mut keep = vec![true; stmts.len()];
        for (i, s) in stmts.iter().enumerate().rev() {
            let (u, d) = use_def(*s);
            if d & live == 0 && !aborts[i] {
                keep[i] = false;
                changed = true;
                continue;
            }
            live = (live & !d) | u;
        }
        if keep.iter().any(|k| !k) {
            let mut i = 0;
            ir.blocks[b].stmts.retain(|_| {
                let k = keep[i];
                i += 1;
                k
            });
        }
    }
    changed
}
