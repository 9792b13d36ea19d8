//! Guards moved up. A guard is a load whose value nothing reads, kept only
//! because it rejects a packet too short for it, as the unoptimised
//! program does (`ld [50]` before accepting an IPv6 address match, where
//! the unoptimised program loads every word of the address). Alone in a
//! block on the way to a return, it costs the load and a jump:
//!
//! ```text
//! P:  ...; if A == k goto G else C        P:  ld [50]; ...; if A == k goto T else C
//! G:  ld [50]; goto T              ==>
//! ```
//!
//! It may move to the start of its only predecessor P when every path
//! from P to an accepting return loads at least as far into the packet:
//! a packet too short for the guard is then rejected from P on whatever
//! it holds, so rejecting it earlier changes no verdict. The register the
//! guard loads must be free there; a guard on A becomes `ldxb
//! 4*([n-1]&0xf)` when X is the free one (the same bytes shown to exist).
//! G then only jumps, and the jump goes.

use super::{A, AnalysisCache, X, proves_len};
use crate::ir::{Ir, Size, Stmt, Term};

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let preds = ir.preds(&an.order);
    let mut changed = false;
    // Each predecessor takes at most one guard per run (the analysis is
    // not updated as guards move).
    let mut took = vec![false; ir.blocks.len()];
    for &g in &an.order {
        let blk = &ir.blocks[g];
        let [guard] = blk.stmts[..] else { continue };
        let n = proves_len(guard);
        if n == 0 || !matches!(guard, Stmt::LdAbs(..) | Stmt::LdxMsh(_)) {
            continue;
        }
        // The value loaded must not be needed after it.
        let def = if matches!(guard, Stmt::LdxMsh(_)) {
            X
        } else {
            A
        };
        let live_after = super::live_in_of(&[], &blk.term, an.live_out[g]);
        if live_after & (1 << def) != 0 {
            continue;
        }
        // A guard that other paths share (now, or once identical blocks
        // merge) stays where they meet.
        let [p] = preds[g][..] else { continue };
        if an.order.iter().any(|&o| o != g && ir.blocks[o] == *blk) {
            continue;
        }
        if took[p] || p == g || an.must_in[p] < n {
            continue;
        }
        let free = !an.live_in[p];
        let moved = if free & (1 << def) != 0 {
            guard
        } else if free & (1 << X) != 0 {
            Stmt::LdxMsh((n - 1) as u32)
        } else if free & (1 << A) != 0 {
            Stmt::LdAbs(Size::B, (n - 1) as u32)
        } else {
            continue;
        };
        // Only worth it when the guard's block then goes away: it jumps on
        // to a block of its own, or it is a return another block shares.
        let vanishes = match blk.term {
            Term::Goto(_) => true,
            Term::Ret(k) => an.order.iter().any(|&o| {
                o != g && ir.blocks[o].stmts.is_empty() && ir.blocks[o].term == Term::Ret(k)
            }),
            Term::Branch { .. } => false,
        };
        if !vanishes {
            continue;
        }
        ir.blocks[g].stmts.clear();
        ir.blocks[p].stmts.insert(0, moved);
        took[p] = true;
        changed = true;
    }
    changed
}
