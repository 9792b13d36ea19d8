//! Code generation: an [`Ir`] graph laid out as a classic BPF instruction
//! sequence.
//!
//! Blocks are placed in a reverse post-order that puts the false branch of
//! a test (and the target of an unconditional jump) right after it, so
//! that most `goto`s cost nothing. A conditional jump reaches at most 255
//! instructions ahead; a farther target gets a `ja` placed right after the
//! branch, which jumps the rest of the way (its offset is 32 bits).
//! Scratch words that the kernel's checker cannot see stored on every path
//! before a load (it does not know the path is impossible) are stored once
//! at the start: A is 0 there, as is unwritten scratch memory, so this
//! changes nothing but lets the program pass the checker.

use sluice_bpf::Insn;
use sluice_bpf::insn;

use crate::ir::{BlockId, Ir, Src, Stmt, Term};

/// One item of the layout.
#[derive(Clone, Copy, Debug)]
enum Item {
    Block(BlockId),
    /// `ja` to a block.
    Trampoline(BlockId),
}

/// Lays the graph out as instructions.
pub fn codegen(ir: &Ir) -> Vec<Insn> {
    let mut ir = ir.clone();
    init_scratch(&mut ir);
    let order = layout_order(&ir);
    let mut items: Vec<Item> = order.iter().map(|b| Item::Block(*b)).collect();
    let mut has_tramp: std::collections::HashSet<(BlockId, BlockId)> = Default::default();
    loop {
        let pos = positions(&ir, &items);
        // Every branch whose target is too far gets trampolines (placed
        // right after it); positions move, so repeat until none is left.
        let mut fixes = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let Item::Block(b) = *item else { continue };
            if let Term::Branch { jt, jf, .. } = ir.blocks[b].term {
                let at = pos.block_end[b];
                let far = |t: BlockId| {
                    pos.block_start[t] - (at + 1) > 255 && !has_tramp.contains(&(b, t))
                };
                if far(jt) || far(jf) {
                    fixes.push((i, b, far(jt).then_some(jt), far(jf).then_some(jf)));
                }
            }
        }
        if fixes.is_empty() {
            break;
        }
        for (i, b, t, f) in fixes.into_iter().rev() {
            // New trampolines go after the ones the branch already has.
            let mut at = i + 1;
            while matches!(items.get(at), Some(Item::Trampoline(_))) {
                at += 1;
            }
            for target in [t, f].into_iter().flatten() {
                if has_tramp.insert((b, target)) {
                    items.insert(at, Item::Trampoline(target));
                    at += 1;
                }
            }
        }
    }
    emit(&ir, &items)
}

struct Positions {
    block_start: Vec<usize>,
    /// Index of the block's last instruction (its branch, if any).
    block_end: Vec<usize>,
}

fn goto_len(ir: &Ir, items: &[Item], i: usize) -> usize {
    let Item::Block(b) = items[i] else { return 1 };
    match ir.blocks[b].term {
        Term::Goto(t) => match items.get(i + 1) {
            Some(Item::Block(n)) if *n == t => 0,
            _ => 1,
        },
        _ => 1,
    }
}

fn positions(ir: &Ir, items: &[Item]) -> Positions {
    let n = ir.blocks.len();
    let mut p = Positions {
        block_start: vec![0; n],
        block_end: vec![0; n],
    };
    let mut pc = 0;
    for (i, item) in items.iter().enumerate() {
        match *item {
            Item::Block(b) => {
                p.block_start[b] = pc;
                pc += ir.blocks[b].stmts.len();
                let t = goto_len(ir, items, i);
                p.block_end[b] = pc;
                pc += t;
            }
            Item::Trampoline(_) => pc += 1,
        }
    }
    p
}

fn emit(ir: &Ir, items: &[Item]) -> Vec<Insn> {
    let pos = positions(ir, items);
    // Trampoline positions, per (block, target).
    let mut out = Vec::new();
    let mut i = 0;
    while i < items.len() {
        match items[i] {
            Item::Block(b) => {
                let blk = &ir.blocks[b];
                out.extend(blk.stmts.iter().map(|s| s.to_insn()));
                let here = out.len();
                match blk.term {
                    Term::Ret(k) => out.push(Insn::stmt(insn::RET | insn::K, k)),
                    Term::Goto(t) => {
                        if goto_len(ir, items, i) == 1 {
                            let k = pos.block_start[t] - (here + 1);
                            out.push(Insn::stmt(insn::JMP | insn::JA, k as u32));
                        }
                    }
                    Term::Branch { cond, src, jt, jf } => {
                        // Trampolines for this branch follow it directly.
                        let mut tramp = Vec::new();
                        let mut j = i + 1;
                        while let Some(Item::Trampoline(t)) = items.get(j) {
                            tramp.push((*t, here + 1 + (j - i - 1)));
                            j += 1;
                        }
                        let target = |t: BlockId| {
                            let dist = pos.block_start[t] - (here + 1);
                            if dist > 255 {
                                let (_, at) = tramp
                                    .iter()
                                    .find(|(tt, _)| *tt == t)
                                    .copied()
                                    .unwrap_or((t, here + 1));
                                (at - (here + 1)) as u8
                            } else {
                                dist as u8
                            }
                        };
                        let (code, k) = match src {
                            Src::K(k) => (insn::JMP | cond.code() | insn::K, k),
                            Src::X => (insn::JMP | cond.code() | insn::X, 0),
                        };
                        out.push(Insn::jump(code, k, target(jt), target(jf)));
                    }
                }
            }
            Item::Trampoline(t) => {
                let here = out.len();
                let k = pos.block_start[t] - (here + 1);
                out.push(Insn::stmt(insn::JMP | insn::JA, k as u32));
            }
        }
        i += 1;
    }
    out
}

/// Reverse post-order, visiting the true branch before the false one so
/// that the false branch (and a goto's target) follows its block.
fn layout_order(ir: &Ir) -> Vec<BlockId> {
    let n = ir.blocks.len();
    let mut seen = vec![false; n];
    let mut post = Vec::new();
    let mut stack: Vec<(BlockId, usize)> = vec![(ir.entry, 0)];
    seen[ir.entry] = true;
    while let Some((b, i)) = stack.pop() {
        let succ: Vec<BlockId> = match ir.blocks[b].term {
            Term::Branch { jt, jf, .. } => vec![jt, jf],
            Term::Goto(t) => vec![t],
            Term::Ret(_) => vec![],
        };
        if i < succ.len() {
            stack.push((b, i + 1));
            let s = succ[i];
            if !seen[s] {
                seen[s] = true;
                stack.push((s, 0));
            }
        } else {
            post.push(b);
        }
    }
    post.reverse();
    post
}

/// Stores (of the initial A, which is 0) at the start for every scratch
/// word that is loaded somewhere without a store on every path before it.
fn init_scratch(ir: &mut Ir) {
    let Some(order) = ir.topo_order() else { return };
    let preds = ir.preds(&order);
    let n = ir.blocks.len();
    // Bit set of words definitely stored at block entry.
    let mut at_entry = vec![0u16; n];
    let mut at_exit = vec![0u16; n];
    let mut missing: u16 = 0;
    for &b in &order {
        let mut valid = if b == ir.entry {
            0
        } else {
            preds[b].iter().fold(0xffff, |acc, p| acc & at_exit[*p])
        };
        at_entry[b] = valid;
        for s in &ir.blocks[b].stmts {
            match *s {
                Stmt::St(k) | Stmt::Stx(k) => valid |= 1 << (k & 15),
                Stmt::LdMem(k) | Stmt::LdxMem(k) if valid & (1 << (k & 15)) == 0 => {
                    missing |= 1 << (k & 15);
                }
                _ => {}
            }
        }
        at_exit[b] = valid;
    }
    if missing == 0 {
        return;
    }
    let mut init: Vec<Stmt> = (0..16)
        .filter(|k| missing & (1 << k) != 0)
        .map(Stmt::St)
        .collect();
    let e = ir.entry;
    init.append(&mut ir.blocks[e].stmts);
    ir.blocks[e].stmts = init;
}
