//! Unreachable-block elimination: only blocks reachable from the entry are
//! kept, renumbered in topological order.

use crate::ir::{Block, Ir};

pub(super) fn run(ir: &mut Ir) -> bool {
    let Some(order) = ir.topo_order() else {
        return false;
    };
    let in_order = order.iter().enumerate().all(|(i, b)| i == *b);
    if order.len() == ir.blocks.len() && in_order {
        return false;
    }
    let mut map = vec![usize::MAX; ir.blocks.len()];
    for (i, b) in order.iter().enumerate() {
        map[*b] = i;
    }
    let mut blocks: Vec<Block> = Vec::with_capacity(order.len());
    for &b in &order {
        let mut blk = std::mem::replace(
            &mut ir.blocks[b],
            Block {
                stmts: Vec::new(),
                term: crate::ir::Term::Ret(0),
            },
        );
        blk.term.map_succs(|s| map[s]);
        blocks.push(blk);
    }
    let removed = blocks.len() != ir.blocks.len();
    ir.blocks = blocks;
    ir.entry = 0;
    removed
}
