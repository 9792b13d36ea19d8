//! Peephole rewrites of a block's last statements and its test, and of
//! short statement sequences, where the registers they leave are not
//! needed afterwards:
//!
//! - `and #k; jeq #0` → `jset #k` with the targets swapped;
//! - `sub x; jeq #0` → `jeq x`; `sub #k; jeq #c` → `jeq #(c+k)`, and the
//!   same for `add` and `xor` with a constant;
//! - `ld #k; [ldxb 4*([j]&0xf);] add x; tax; ld [x + i]` →
//!   `[ldxb 4*([j]&0xf);] ld [x + i + k]` (the header-relative load idiom);
//! - `ld M[k]; tax` → `ldx M[k]`, `ld #k; tax` → `ldx #k`, and `ldx M[k];
//!   txa` → `ld M[k]`, when the register they no longer set is dead;
//! - `st M[k]; ldx M[k]` → `st M[k]; tax`;
//! - `jset #0` always goes to its false target.

use super::{A, AnalysisCache, X, use_def};
use crate::ir::{AluOp, Cond, Ir, Src, Stmt, Term};

/// Atoms live after each statement of a block (index i: after stmts[i]).
fn live_after(stmts: &[Stmt], term: &Term, live_out: u32) -> Vec<u32> {
    let mut live = super::live_in_of(&[], term, live_out);
    let mut out = vec![0; stmts.len()];
    for (i, s) in stmts.iter().enumerate().rev() {
        out[i] = live;
        let (u, d) = use_def(*s);
        live = (live & !d) | u;
    }
    out
}

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let mut changed = false;
    let a_bit = 1u32 << A;
    let x_bit = 1u32 << X;
    for &b in &an.order {
        let live_out = an.live_out[b];
        // The test and the statement before it.
        loop {
            let blk = &mut ir.blocks[b];
            let Term::Branch { cond, src, jt, jf } = blk.term else {
                break;
            };
            let Some(&last) = blk.stmts.last() else { break };
            if live_out & a_bit != 0 || cond != Cond::Eq {
                break;
            }
            let new = match (last, src) {
                (Stmt::Alu(AluOp::And, Src::K(k)), Src::K(0)) => Term::Branch {
                    cond: Cond::Set,
                    src: Src::K(k),
                    jt: jf,
                    jf: jt,
                },
                (Stmt::Alu(AluOp::Sub, Src::X), Src::K(0)) => Term::Branch {
                    cond: Cond::Eq,
                    src: Src::X,
                    jt,
                    jf,
                },
                (Stmt::Alu(AluOp::Sub, Src::K(k)), Src::K(c)) => Term::Branch {
                    cond: Cond::Eq,
                    src: Src::K(c.wrapping_add(k)),
                    jt,
                    jf,
                },
                (Stmt::Alu(AluOp::Add, Src::K(k)), Src::K(c)) => Term::Branch {
                    cond: Cond::Eq,
                    src: Src::K(c.wrapping_sub(k)),
                    jt,
                    jf,
                },
                (Stmt::Alu(AluOp::Xor, Src::K(k)), Src::K(c)) => Term::Branch {
                    cond: Cond::Eq,
                    src: Src::K(c ^ k),
                    jt,
                    jf,
                },
                _ => break,
            };
            blk.stmts.pop();
            blk.term = new;
            changed = true;
        }
        if let Term::Branch {
            cond: Cond::Set,
            src: Src::K(0),
            jf,
            ..
        } = ir.blocks[b].term
        {
            ir.blocks[b].term = Term::Goto(jf);
            changed = true;
        }
        // Statement sequences.
        let mut i = 0;
        while i + 1 < ir.blocks[b].stmts.len() {
            let blk = &ir.blocks[b];
            let after = live_after(&blk.stmts, &blk.term, live_out);
            let s = &blk.stmts;
            // ld #k; [ldxb msh]; add x; tax; ld [x + j]
            if let Stmt::LdImm(k) = s[i] {
                let mut j = i + 1;
                if matches!(s.get(j), Some(Stmt::LdxMsh(_))) {
                    j += 1;
                }
                if let (
                    Some(Stmt::Alu(AluOp::Add, Src::X)),
                    Some(Stmt::Tax),
                    Some(Stmt::LdInd(sz, off)),
                ) = (s.get(j), s.get(j + 1), s.get(j + 2))
                    && after[j + 2] & x_bit == 0
                    && let Some(o) = off.checked_add(k)
                {
                    let (sz, msh) = (*sz, (j == i + 2).then(|| s[i + 1]));
                    let blk = &mut ir.blocks[b];
                    let mut rep = Vec::new();
                    rep.extend(msh);
                    rep.push(Stmt::LdInd(sz, o));
                    blk.stmts.splice(i..j + 3, rep);
                    changed = true;
                    continue;
                }
            }
            let (x, y) = (s[i], s[i + 1]);
            let rep: Option<Vec<Stmt>> = match (x, y) {
                (Stmt::LdMem(k), Stmt::Tax) if after[i + 1] & a_bit == 0 => {
                    Some(vec![Stmt::LdxMem(k)])
                }
                (Stmt::LdImm(k), Stmt::Tax) if after[i + 1] & a_bit == 0 => {
                    Some(vec![Stmt::LdxImm(k)])
                }
                (Stmt::LdLen, Stmt::Tax) if after[i + 1] & a_bit == 0 => Some(vec![Stmt::LdxLen]),
                (Stmt::LdxMem(k), Stmt::Txa) if after[i + 1] & x_bit == 0 => {
                    Some(vec![Stmt::LdMem(k)])
                }
                (Stmt::LdxImm(k), Stmt::Txa) if after[i + 1] & x_bit == 0 => {
                    Some(vec![Stmt::LdImm(k)])
                }
                (Stmt::St(k), Stmt::LdxMem(j)) if k == j => Some(vec![Stmt::St(k), Stmt::Tax]),
                _ => None,
            };
            if let Some(r) = rep {
                ir.blocks[b].stmts.splice(i..i + 2, r);
                changed = true;
                continue;
            }
            i += 1;
        }
    }
    changed
}
