//! Narrower loads for masked tests: `ld [k]; and #0xff000000; jeq
//! #0x0a000000` tests one byte, and `ldb [k]; jeq #0xa` does the same in
//! one instruction less. A mask that keeps one byte or one aligned run of
//! two bytes of a word or halfword load (after libpcap's `net` and
//! `ether`-style tests) becomes a load of just those bytes, and the
//! test's constant is shifted to match:
//!
//! ```text
//! ld [k]; and #(m << s); jeq #v    ==>  ld{b,h} [k + o]; jeq #(v >> s)
//!                        jgt #v                           jgt #(v >> s)
//!                        jge #v                           jge #ceil(v / 2^s)
//!                        jset #v                          jset #(v >> s)
//! ```
//!
//! A mask that keeps the last byte or two of a load needs no test after
//! it: `ld [k]; and #0xff` is `ldb [k + 3]` wherever it stands, the same
//! value from the same last byte.
//!
//! Otherwise the narrower load reads fewer bytes, so on a packet too short for the
//! wide one it goes on where the wide one rejected. That changes no
//! verdict when the wide load cannot fail there (the loads before it
//! have shown its bytes to exist on every path), or when every path on
//! from the test to an accepting return loads at least as far into the
//! packet (the packet is rejected anyway). The two grounds are checked in
//! separate sweeps, each with a fresh analysis, so that a load narrowed
//! for a later one's sake never lets that later one be narrowed for its
//! sake. A must be dead after the test, since it now holds the narrow
//! value.

use super::{A, AnalysisCache, can_abort, proves_len, step};
use crate::ir::{AluOp, Cond, Ir, Size, Src, Stmt, Term};

pub(super) fn run(ir: &mut Ir, cache: &mut AnalysisCache) -> bool {
    let exact = last_bytes(ir);
    let before = sweep(ir, Ground::Before, cache);
    let after = sweep(ir, Ground::After, cache);
    exact | before | after
}

/// `ld [k]; and #0xff` anywhere is `ldb [k + 3]`: the same value, and the
/// same last byte read, so the same packets are too short for it.
fn last_bytes(ir: &mut Ir) -> bool {
    let mut changed = false;
    for blk in &mut ir.blocks {
        let mut i = 0;
        while i + 1 < blk.stmts.len() {
            if let (Stmt::LdAbs(size, k), Stmt::Alu(AluOp::And, Src::K(m))) =
                (blk.stmts[i], blk.stmts[i + 1])
                && let Some((load @ Stmt::LdAbs(width, off), ..)) =
                    narrowed(size, k, m, Cond::Eq, 0)
                && off + width.bytes() == k + size.bytes()
            {
                blk.stmts.splice(i..i + 2, [load]);
                changed = true;
            }
            i += 1;
        }
    }
    changed
}

/// Why the wide load may go.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ground {
    /// It cannot fail where it is.
    Before,
    /// Every accepting path after it loads as far.
    After,
}

fn sweep(ir: &mut Ir, ground: Ground, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let mut changed = false;
    for &b in &an.order.clone() {
        let blk = &ir.blocks[b];
        let n = blk.stmts.len();
        if n < 2 || an.live_out[b] & (1 << A) != 0 {
            continue;
        }
        let Term::Branch {
            cond,
            src: Src::K(v),
            jt,
            jf,
        } = blk.term
        else {
            continue;
        };
        let (Stmt::LdAbs(size, k), Stmt::Alu(AluOp::And, Src::K(m))) =
            (blk.stmts[n - 2], blk.stmts[n - 1])
        else {
            continue;
        };
        let Some((load, cond, v)) = narrowed(size, k, m, cond, v) else {
            continue;
        };
        let wide = proves_len(blk.stmts[n - 2]);
        let safe = match ground {
            Ground::Before => {
                let mut st = an.entry[b];
                let mut proven = an.len_in[b];
                let mut avail = an.avail_in[b].clone();
                for s in &blk.stmts[..n - 2] {
                    step(&mut an.vals, &mut st, *s);
                    super::note_load(&st, *s, &mut avail);
                    proven = proven.max(proves_len(*s));
                }
                !can_abort(&an.vals, &st, blk.stmts[n - 2], proven, &avail)
            }
            Ground::After => an.must_in[jt].min(an.must_in[jf]) >= wide,
        };
        if !safe {
            continue;
        }
        let blk = &mut ir.blocks[b];
        blk.stmts.truncate(n - 2);
        blk.stmts.push(load);
        blk.term = Term::Branch {
            cond,
            src: Src::K(v),
            jt,
            jf,
        };
        changed = true;
    }
    changed
}

/// The narrow load and test for `ld{size} [k]; and #m; j{cond} #v`, if
/// the mask keeps one byte or one run of two bytes.
fn narrowed(size: Size, k: u32, m: u32, cond: Cond, v: u32) -> Option<(Stmt, Cond, u32)> {
    if m == 0 {
        return None;
    }
    let s = m.trailing_zeros() & !7;
    let kept = m >> s;
    let width = match kept {
        0xff => Size::B,
        0xffff => Size::H,
        _ => return None,
    };
    let total = size.bytes();
    if width.bytes() >= total || s / 8 + width.bytes() > total {
        return None;
    }
    // Big-endian: the lowest bits are the last bytes.
    let off = k.checked_add(total - s / 8 - width.bytes())?;
    if u64::from(k) + u64::from(total) > u64::from(sluice_bpf::insn::ancillary::OFF) {
        return None;
    }
    let v2 = match cond {
        Cond::Eq if v & !m != 0 => return None,
        Cond::Eq | Cond::Gt | Cond::Set => v >> s,
        Cond::Ge => {
            let q = v >> s;
            if q << s == v { q } else { q + 1 }
        }
    };
    Some((Stmt::LdAbs(width, off), cond, v2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ir::{Block, RunMeta};

    /// `ld{size} [k]; and #m; j{cond} #v ? ret 1 : ret 0` after `pre`.
    fn graph(
        pre: Vec<Stmt>,
        size: Size,
        k: u32,
        m: u32,
        cond: Cond,
        v: u32,
        tail: Vec<Stmt>,
    ) -> Ir {
        let mut stmts = pre;
        stmts.push(Stmt::LdAbs(size, k));
        stmts.push(Stmt::Alu(AluOp::And, Src::K(m)));
        Ir::new(
            vec![
                Block {
                    stmts,
                    term: Term::Branch {
                        cond,
                        src: Src::K(v),
                        jt: 1,
                        jf: 2,
                    },
                },
                Block {
                    stmts: tail,
                    term: Term::Ret(1),
                },
                Block {
                    stmts: vec![],
                    term: Term::Ret(0),
                },
            ],
            0,
        )
        .unwrap()
    }

    /// Every verdict of `a` equals `b`'s on every cut of many packets.
    fn same(a: &Ir, b: &Ir) {
        let mut seed = 0x1234_5678u32;
        for _ in 0..400 {
            let mut p = [0u8; 12];
            for x in &mut p {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                *x = (seed >> 24) as u8;
                // Many bytes equal to the constants tested.
                if seed & 0x300 == 0 {
                    *x = [0, 0xa, 0xff, 0x80][(seed >> 12) as usize & 3];
                }
            }
            for n in 0..=p.len() {
                let meta = RunMeta {
                    wire_len: 12,
                    ..RunMeta::default()
                };
                assert_eq!(
                    a.run(&p[..n], &meta),
                    b.run(&p[..n], &meta),
                    "{:02x?}\n{a}\n{b}",
                    &p[..n]
                );
            }
        }
    }

    #[test]
    fn every_mask_and_test_keeps_its_verdicts() {
        let masks = [
            (Size::W, 0xff00_0000u32),
            (Size::W, 0x00ff_0000),
            (Size::W, 0x0000_ff00),
            (Size::W, 0x0000_00ff),
            (Size::W, 0xffff_0000),
            (Size::W, 0x00ff_ff00),
            (Size::W, 0x0000_ffff),
            (Size::H, 0xff00),
            (Size::H, 0x00ff),
        ];
        let mut narrowed_some = 0;
        for (size, m) in masks {
            for cond in [Cond::Eq, Cond::Gt, Cond::Ge, Cond::Set] {
                for v in [
                    0,
                    1,
                    m,
                    m & 0x0a0a_0a0a,
                    m & 0x8080_8080,
                    m.wrapping_sub(1),
                    0x0a00_0001,
                ] {
                    // Proven by an earlier load, by a later one, or by
                    // neither (nothing may change then).
                    for (pre, tail) in [
                        (vec![Stmt::LdAbs(Size::W, 8)], vec![]),
                        (vec![], vec![Stmt::LdAbs(Size::B, 11)]),
                        (vec![], vec![]),
                    ] {
                        let ir0 = graph(pre.clone(), size, 2, m, cond, v, tail.clone());
                        let mut ir = ir0.clone();
                        let changed = run(&mut ir, &mut AnalysisCache::default());
                        let last = matches!((size, m), (Size::W, 0xff | 0xffff) | (Size::H, 0xff));
                        if pre.is_empty() && tail.is_empty() {
                            assert_eq!(changed, last, "{ir0}");
                        }
                        if changed {
                            narrowed_some += 1;
                            assert_eq!(ir.blocks[0].stmts.len(), ir0.blocks[0].stmts.len() - 1);
                        }
                        same(&ir0, &ir);
                    }
                }
            }
        }
        assert!(narrowed_some > 300, "{narrowed_some}");
    }

    #[test]
    fn the_last_byte_is_loaded_alone_anywhere() {
        // A stays live: the narrow load gives the same value.
        let mut ir0 = graph(vec![], Size::W, 2, 0xff, Cond::Eq, 0x0a, vec![]);
        ir0.blocks[0].stmts.extend([
            Stmt::Tax,
            Stmt::LdAbs(Size::B, 0),
            Stmt::Alu(AluOp::Add, Src::X),
        ]);
        let mut ir = ir0.clone();
        assert!(last_bytes(&mut ir));
        assert_eq!(ir.blocks[0].stmts[0], Stmt::LdAbs(Size::B, 5));
        assert_eq!(ir.blocks[0].stmts.len(), 4);
        same(&ir0, &ir);
    }

    #[test]
    fn a_value_still_needed_stays_wide() {
        let ir0 = graph(
            vec![Stmt::LdAbs(Size::W, 8)],
            Size::W,
            2,
            0xff00_0000,
            Cond::Eq,
            0x0a00_0000,
            vec![Stmt::St(0)],
        );
        let mut ir = ir0.clone();
        assert!(!run(&mut ir, &mut AnalysisCache::default()));
    }

    #[test]
    fn shifts_and_offsets() {
        assert_eq!(
            narrowed(Size::W, 26, 0xff00_0000, Cond::Eq, 0x0a00_0000),
            Some((Stmt::LdAbs(Size::B, 26), Cond::Eq, 0xa))
        );
        assert_eq!(
            narrowed(Size::W, 26, 0x0000_ffff, Cond::Ge, 0x1234),
            Some((Stmt::LdAbs(Size::H, 28), Cond::Ge, 0x1234))
        );
        assert_eq!(
            narrowed(Size::W, 26, 0xffff_0000, Cond::Ge, 0x1_0001),
            Some((Stmt::LdAbs(Size::H, 26), Cond::Ge, 2))
        );
        assert_eq!(
            narrowed(Size::H, 12, 0x00ff, Cond::Set, 0x10),
            Some((Stmt::LdAbs(Size::B, 13), Cond::Set, 0x10))
        );
        // Not a byte run, or a value the mask cannot give.
        assert_eq!(narrowed(Size::W, 26, 0xffc0_0000, Cond::Eq, 0), None);
        assert_eq!(narrowed(Size::W, 26, 0xff00_0000, Cond::Eq, 1), None);
        assert_eq!(narrowed(Size::B, 26, 0xff, Cond::Eq, 1), None);
    }
}
