//! Code generation: an [`Ir`] graph laid out as a classic BPF instruction
//! sequence.
//!
//! Blocks are placed in a topological order that puts the target of an
//! unconditional jump right after it wherever it can (a conditional jump
//! names both its targets, so only a `goto` costs an instruction when its
//! target does not follow), and otherwise the false branch of a test
//! after it. A conditional jump reaches at most 255
//! instructions ahead; a farther target is reached through a `ja` (whose
//! offset is 32 bits): one already placed for another branch to the same
//! target when it is in reach, else a new one placed as far ahead as the
//! branch reaches, where the branches after it can share it.
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
    loop {
        let pos = positions(&ir, &items);
        // A branch whose target is too far jumps to a trampoline to it
        // within reach, shared by every branch that reaches it. Where there
        // is none, one goes as far ahead as the branch reaches (so that
        // the branches after it may share it), between two items that do
        // not fall through into each other. One at a time: each moves the
        // items after it.
        let fix = items.iter().enumerate().find_map(|(i, item)| {
            let Item::Block(b) = *item else { return None };
            let Term::Branch { jt, jf, .. } = ir.blocks[b].term else {
                return None;
            };
            [jt, jf].into_iter().find_map(|t| {
                (far(&pos, b, t) && trampoline(&items, &pos, i, pos.block_end[b], t).is_none())
                    .then_some((i, b, t))
            })
        });
        let Some((i, b, t)) = fix else { break };
        let reach = pos.block_end[b] + 1 + 255;
        let at = (i + 1..=items.len())
            .rfind(|&k| {
                let start = pos.item_start.get(k).copied().unwrap_or(pos.end);
                start <= reach && !falls_into(&ir, &items, k)
            })
            .unwrap_or(i + 1);
        items.insert(at, Item::Trampoline(t));
    }
    emit(&ir, &items)
}

/// Whether item `k - 1` goes on into item `k` without a jump (a block
/// whose `goto` target follows it, or that has no jump at all).
fn falls_into(ir: &Ir, items: &[Item], k: usize) -> bool {
    match k.checked_sub(1).map(|j| items[j]) {
        Some(Item::Block(b)) => {
            matches!(ir.blocks[b].term, Term::Goto(_)) && goto_len(ir, items, k - 1) == 0
        }
        _ => false,
    }
}

/// Whether a branch at the end of block `b` cannot reach `t` directly.
fn far(pos: &Positions, b: BlockId, t: BlockId) -> bool {
    pos.block_start[t] - (pos.block_end[b] + 1) > 255
}

/// The position of the first trampoline to `t` after item `i` (whose
/// branch is at `at`) that the branch reaches.
fn trampoline(items: &[Item], pos: &Positions, i: usize, at: usize, t: BlockId) -> Option<usize> {
    items[i + 1..]
        .iter()
        .zip(&pos.item_start[i + 1..])
        .take_while(|(_, p)| **p - (at + 1) <= 255)
        .find(|(it, _)| matches!(it, Item::Trampoline(x) if *x == t))
        .map(|(_, p)| *p)
}

struct Positions {
    block_start: Vec<usize>,
    /// Index of the block's last instruction (its branch, if any).
    block_end: Vec<usize>,
    /// Where each item starts.
    item_start: Vec<usize>,
    /// The length of the whole program.
    end: usize,
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
        item_start: Vec::with_capacity(items.len()),
        end: 0,
    };
    let mut pc = 0;
    for (i, item) in items.iter().enumerate() {
        p.item_start.push(pc);
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
    p.end = pc;
    p
}

fn emit(ir: &Ir, items: &[Item]) -> Vec<Insn> {
    let pos = positions(ir, items);
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match *item {
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
                        let target = |t: BlockId| {
                            let to = if far(&pos, b, t) {
                                // The fixing loop left one in reach.
                                trampoline(items, &pos, i, here, t).unwrap_or(here + 1)
                            } else {
                                pos.block_start[t]
                            };
                            (to - (here + 1)) as u8
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
    }
    out
}

/// The blocks in a topological order where every block that ends in a
/// `goto` is followed by its target where it can be (a conditional jump
/// names both its targets, so only a `goto` gains from what follows it).
///
/// Each target is given to one of the blocks that jump to it, which makes
/// chains: runs of blocks each of which only goes on into the next. The
/// chains are then laid out in reverse post-order (visiting the true
/// branch before the false one, so that the false branch tends to follow
/// its test, keeping jumps short). Only a chain's last block has
/// successors outside it, so ordering chains by their edges cannot make a
/// cycle where the graph has none.
fn layout_order(ir: &Ir) -> Vec<BlockId> {
    let n = ir.blocks.len();
    let Some(topo) = ir.topo_order() else {
        return Vec::new();
    };
    // next[b]: the block laid right after b; claimed[t]: t follows one.
    let mut next: Vec<Option<BlockId>> = vec![None; n];
    let mut claimed = vec![false; n];
    // The last goto into a target in topological order is the one nearest
    // to it.
    for &b in topo.iter().rev() {
        if let Term::Goto(t) = ir.blocks[b].term
            && !claimed[t]
            && t != ir.entry
        {
            claimed[t] = true;
            next[b] = Some(t);
        }
    }
    // The head of each block's chain, and each chain's last block.
    let mut head: Vec<BlockId> = (0..n).collect();
    let mut last: Vec<BlockId> = (0..n).collect();
    for &b in &topo {
        if !claimed[b] {
            let mut c = b;
            while let Some(t) = next[c] {
                head[t] = b;
                c = t;
            }
            last[b] = c;
        }
    }
    let mut seen = vec![false; n];
    let mut post = Vec::new();
    let start = head[ir.entry];
    let mut stack: Vec<(BlockId, usize)> = vec![(start, 0)];
    seen[start] = true;
    while let Some((h, i)) = stack.pop() {
        // Successors of a chain are those of its blocks outside it; only
        // the last block has any, but a block inside may be entered from
        // elsewhere, which the order of chains respects.
        let succ: Vec<BlockId> = match ir.blocks[last[h]].term {
            Term::Branch { jt, jf, .. } => vec![jt, jf],
            Term::Goto(t) => vec![t],
            Term::Ret(_) => vec![],
        };
        if i < succ.len() {
            stack.push((h, i + 1));
            let s = head[succ[i]];
            if !seen[s] {
                seen[s] = true;
                stack.push((s, 0));
            }
        } else {
            post.push(h);
        }
    }
    post.reverse();
    let mut order = Vec::with_capacity(n);
    for h in post {
        let mut c = Some(h);
        while let Some(b) = c {
            order.push(b);
            c = next[b];
        }
    }
    order
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

#[cfg(test)]
mod tests {
    use crate::ir::RunMeta;
    use crate::{Names, Options, compile, lower, opt, parse};

    /// A chain of tests whose common target is farther than a branch
    /// reaches: the branches share trampolines, and every verdict is the
    /// graph's.
    #[test]
    fn far_targets_share_trampolines() {
        let hosts: Vec<String> = (0..100)
            .map(|i| format!("host 10.0.{}.{}", i / 250, i % 250))
            .collect();
        let expr = hosts.join(" or ");
        let opts = Options::default();
        let prog = compile(&expr, &opts).unwrap();
        let ja = prog
            .insns()
            .iter()
            .filter(|i| i.code == sluice_bpf::insn::JMP | sluice_bpf::insn::JA)
            .count();
        // One per 255 instructions or so, not one per test.
        assert!(ja < 10, "{ja} jumps in {} instructions", prog.len());
        let (mut ir, _) =
            lower::lower(&parse::parse(&expr).unwrap(), &opts, Names::system()).unwrap();
        opt::optimize(&mut ir);
        for last in [0u8, 1, 50, 99, 200] {
            for (src, dst) in [(last, 0), (0, last)] {
                let mut f = [0u8; 42];
                f[12] = 0x08;
                f[14] = 0x45;
                f[26..30].copy_from_slice(&[10, 0, 0, src]);
                f[30..34].copy_from_slice(&[10, 0, 0, dst]);
                for n in [f.len(), 32, 20] {
                    let meta = RunMeta {
                        wire_len: 42,
                        ..RunMeta::default()
                    };
                    let want = ir.run(&f[..n], &meta);
                    let got = prog.run(&f[..n], 42, &sluice_bpf::Meta::default());
                    assert_eq!(got, want, "hosts .{src} > .{dst}, {n} bytes");
                }
            }
        }
    }
    /// A block that only jumps on is laid right before its target, even
    /// where a test's false branch would have gone there first.
    #[test]
    fn a_goto_falls_into_its_target() {
        use crate::ir::{Block, Cond, Ir, Size, Src, Stmt, Term};
        let branch = |jt, jf| Term::Branch {
            cond: Cond::Eq,
            src: Src::K(0x800),
            jt,
            jf,
        };
        let ir = Ir::new(
            vec![
                Block {
                    stmts: vec![Stmt::LdAbs(Size::H, 12)],
                    term: branch(2, 1),
                },
                Block {
                    stmts: vec![Stmt::LdAbs(Size::B, 27)],
                    term: Term::Goto(3),
                },
                Block {
                    stmts: vec![Stmt::LdAbs(Size::H, 16)],
                    term: branch(4, 3),
                },
                Block {
                    stmts: vec![],
                    term: Term::Ret(262_144),
                },
                Block {
                    stmts: vec![],
                    term: Term::Ret(0),
                },
            ],
            0,
        )
        .unwrap();
        let insns = super::codegen(&ir);
        let prog = sluice_bpf::Program::new(insns.clone()).unwrap();
        assert_eq!(insns.len(), 7, "{insns:?}");
        assert!(
            insns
                .iter()
                .all(|i| i.code != sluice_bpf::insn::JMP | sluice_bpf::insn::JA)
        );
        for (b12, b16, n) in [
            (8, 0, 28),
            (8, 0, 27),
            (0x86, 8, 20),
            (0x86, 0, 20),
            (0, 0, 10),
        ] {
            let mut f = [0u8; 28];
            f[12] = b12;
            f[16] = b16;
            let meta = RunMeta {
                wire_len: 28,
                ..RunMeta::default()
            };
            let want = ir.run(&f[..n], &meta);
            let got = prog.run(&f[..n], 28, &sluice_bpf::Meta::default());
            assert_eq!(got, want, "{b12:#x} {b16:#x} {n}");
        }
    }
}
