//! Identical blocks merged, and the jumps around them simplified: a test
//! whose two targets are the same becomes a jump; an edge to an empty
//! block that only jumps on goes straight to where it jumps; a block that
//! is the only way into its jump target absorbs it; blocks with the same
//! statements and the same ending become one.

use std::collections::HashMap;

use crate::ir::{Block, BlockId, Ir, Term};

/// The cheap simplifications, run in the main loop.
pub(super) fn run(ir: &mut Ir) -> bool {
    run_with(ir, false)
}

/// Everything, identical blocks included; run once threading has done its
/// work, since merged blocks lose the facts of the paths that met.
pub(super) fn run_all(ir: &mut Ir) -> bool {
    run_with(ir, true)
}

fn run_with(ir: &mut Ir, identical: bool) -> bool {
    let mut changed = false;
    let Some(order) = ir.topo_order() else {
        return false;
    };
    // A block from which every path rejects rejects: whether a load on the
    // way falls off the packet or not, the verdict is 0.
    let mut rejects = vec![false; ir.blocks.len()];
    for &b in order.iter().rev() {
        rejects[b] = match ir.blocks[b].term {
            Term::Ret(k) => k == 0,
            Term::Goto(t) => rejects[t],
            Term::Branch { jt, jf, .. } => rejects[jt] && rejects[jf],
        };
        if rejects[b] && (ir.blocks[b].term != Term::Ret(0) || !ir.blocks[b].stmts.is_empty()) {
            ir.blocks[b] = Block {
                stmts: Vec::new(),
                term: Term::Ret(0),
            };
            changed = true;
        }
    }
    // Same targets: no test needed.
    for &b in &order {
        if let Term::Branch { jt, jf, .. } = ir.blocks[b].term
            && jt == jf
        {
            ir.blocks[b].term = Term::Goto(jt);
            changed = true;
        }
    }
    // Identical blocks, from the bottom up, so that equal successors make
    // equal blocks.
    let mut rep: Vec<BlockId> = (0..ir.blocks.len()).collect();
    let mut seen: HashMap<Block, BlockId> = HashMap::new();
    for &b in order.iter().rev() {
        let mut blk = ir.blocks[b].clone();
        blk.term.map_succs(|s| rep[s]);
        // An empty block that only jumps is its target.
        if blk.stmts.is_empty()
            && let Term::Goto(t) = blk.term
        {
            rep[b] = t;
            continue;
        }
        if identical {
            match seen.get(&blk) {
                Some(&r) => rep[b] = r,
                None => {
                    seen.insert(blk.clone(), b);
                }
            }
        }
        if ir.blocks[b] != blk {
            ir.blocks[b] = blk;
            changed = true;
        }
    }
    if rep[ir.entry] != ir.entry {
        ir.entry = rep[ir.entry];
        changed = true;
    }
    for &b in &order {
        let before = ir.blocks[b].term;
        ir.blocks[b].term.map_succs(|s| rep[s]);
        if ir.blocks[b].term != before {
            changed = true;
        }
    }
    // A jump to a block that nothing else enters: one block.
    let Some(order) = ir.topo_order() else {
        return changed;
    };
    let preds = ir.preds(&order);
    let mut npreds: Vec<usize> = preds.iter().map(Vec::len).collect();
    for &b in &order {
        while let Term::Goto(t) = ir.blocks[b].term {
            if npreds[t] != 1 || t == b {
                break;
            }
            let tail = ir.blocks[t].clone();
            ir.blocks[b].stmts.extend(tail.stmts);
            ir.blocks[b].term = tail.term;
            npreds[t] = 0;
            changed = true;
        }
    }
    changed
}
