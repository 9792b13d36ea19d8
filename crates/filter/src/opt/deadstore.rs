//! Dead-store elimination: a statement whose result nothing reads before
//! it is overwritten (or the program ends) goes — unless it could reject
//! the packet (a load past the bytes already shown to exist, a division by
//! an X that may be 0), since that is part of the program's verdict.
//!
//! A second sweep looks the other way: a dead load is also harmless when
//! every path from it to an accepting return later loads at least as far
//! into the packet (so a packet too short for it is rejected anyway). The
//! two sweeps run as separate passes, so that neither relies on a load the
//! other removes.

use super::{AnalysisCache, can_abort, proves_len, step, use_def};
use crate::ir::Ir;

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let mut changed = false;
    for &b in &an.order.clone() {
        let stmts = &ir.blocks[b].stmts;
        // Forward: may each statement reject?
        let mut st = an.entry[b];
        let mut proven = an.len_in[b];
        let mut avail = an.avail_in[b].clone();
        let mut aborts = Vec::with_capacity(stmts.len());
        for s in stmts {
            aborts.push(can_abort(&an.vals, &st, *s, proven, &avail));
            step(&mut an.vals, &mut st, *s);
            super::note_load(&st, *s, &mut avail);
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

/// Removes dead absolute loads that a later load on every accepting path
/// covers.
pub(super) fn run_anticipated(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let mut changed = false;
    for &b in &an.order {
        let blk = &ir.blocks[b];
        let mut antic = match blk.term {
            crate::ir::Term::Ret(0) => u64::MAX,
            crate::ir::Term::Ret(_) => 0,
            _ => blk.term.succs().map(|s| an.must_in[s]).min().unwrap_or(0),
        };
        let mut live = super::live_in_of(&[], &blk.term, an.live_out[b]);
        let mut keep = vec![true; blk.stmts.len()];
        for (i, s) in blk.stmts.iter().enumerate().rev() {
            let (u, d) = use_def(*s);
            let p = proves_len(*s);
            let harmless = match s {
                crate::ir::Stmt::LdAbs(..) | crate::ir::Stmt::LdxMsh(_) => p <= antic,
                _ => false,
            };
            if d & live == 0 && harmless {
                keep[i] = false;
                changed = true;
                continue;
            }
            live = (live & !d) | u;
            antic = antic.max(p);
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
