//! Test hoisting in `or` and `and` chains (libpcap's `or_pullup` and
//! `and_pullup`, made safe for truncated packets).
//!
//! In `host a or host b`, the program tests the source address against
//! a, loads the destination address and tests it, then loads the source
//! address again for b. When A still holds the source address, the test
//! against b can run first, before the destination is loaded:
//!
//! ```text
//! P:  ... A = v; if A == a goto T          P:  ... A = v; if A == a goto T
//! Q:  A = w; if A == c goto T       ==>    R2: if A == b goto G
//! R:  A = v; if A == b goto T              Q:  A = w; if A == c goto T
//!     else goto N                              else goto N
//!                                          G:  A = w; goto T
//! ```
//!
//! libpcap does this without `G`, and so accepts a packet whose source is
//! b even when it is too short to hold the destination — which its own
//! unoptimised program rejects, because it loads the destination first.
//! The guard `G` repeats Q's statements (its loads) on the way to T, so
//! that such a packet is still rejected; all the guards of a chain are
//! identical and merge into one. Q may be a chain of tests on the same
//! loaded value, all going to T when true.
//!
//! Q1 may have other ways in: the tests hoisted out of the chain are
//! then skipped on them too, which is right when the facts on each of
//! those ways decide every hoisted test to go on (`host a or b` reached
//! where the address is known to be c).
//!
//! No guard is needed when T rejects (a load that fails rejects too), nor
//! when Q's loads cannot fail where P ends (the bytes they read were
//! already loaded). A guarded hoist is made only when it saves more
//! instructions than its guard costs. `and` chains are the same with the
//! branches swapped: every test goes to T when false; there T is usually
//! the rejecting return, and the hoist needs no guard at all.

use super::{
    A, Analysis, AnalysisCache, FactSrc, NATOMS, State, branch_fact, can_abort, decide, proves_len,
    step,
};
use crate::ir::{Block, BlockId, Ir, Src, Stmt, Term};

/// Which way a chain goes: an `or` chain leaves for the common target T
/// when a test is true, an `and` chain when it is false.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Polarity {
    Or,
    And,
}

impl Polarity {
    /// (the common target, the way on) of a branch.
    fn split(self, jt: BlockId, jf: BlockId) -> (BlockId, BlockId) {
        match self {
            Polarity::Or => (jt, jf),
            Polarity::And => (jf, jt),
        }
    }

    /// The slot (0 true, 1 false) of the way on.
    fn on_slot(self) -> usize {
        match self {
            Polarity::Or => 1,
            Polarity::And => 0,
        }
    }
}

/// Hoists tests in chains; with `shared`, also above a chain's first
/// block where it has other ways in.
pub(super) fn run(ir: &mut Ir, shared: bool, cache: &mut AnalysisCache) -> bool {
    let an = cache.get(ir);
    let n = ir.blocks.len();
    let order = an.order.clone();
    let mut preds = vec![0usize; n];
    // (updated as the pass rewrites edges)
    for &b in &order {
        for s in ir.blocks[b].term.succs() {
            preds[s] += 1;
        }
    }
    // The ways into each block when the pass began (only blocks not yet
    // touched are looked up in it).
    let plist = if shared {
        ir.preds(&order)
    } else {
        vec![Vec::new(); n]
    };
    let mut touched = vec![false; n];
    let mut changed = false;
    for &p0 in &order {
        if touched[p0] {
            continue;
        }
        'slots: for slot in 0..2 {
            let q1 = match (ir.blocks[p0].term, slot) {
                (Term::Branch { jt, .. }, 0) => jt,
                (Term::Branch { jf, .. }, 1) => jf,
                (Term::Goto(t), 0) => t,
                _ => continue,
            };
            for pol in [Polarity::Or, Polarity::And] {
                let Some(plans) = plan_chain(ir, an, &preds, &plist, &touched, p0, q1, pol) else {
                    continue;
                };
                // Hoist the tests of the chain one after the other above
                // the same Q.
                let mut p = p0;
                let mut slot = slot;
                for pl in &plans {
                    let r2 = apply(ir, p, slot, q1, pl, pol);
                    changed = true;
                    // Keep the counts of ways in right: Qm now jumps past
                    // R to R's way on, and R may still be entered
                    // elsewhere.
                    preds.resize(ir.blocks.len(), 1);
                    preds[pl.on] += 1;
                    preds[pl.r] = preds[pl.r].saturating_sub(1);
                    // The new test block leaves the state as P left it.
                    let (e, l, a) = (an.exit[p], an.len_out[p], an.avail_out[p].clone());
                    while an.exit.len() < ir.blocks.len() {
                        an.exit.push(e);
                        an.len_out.push(l);
                        an.avail_out.push(a.clone());
                        an.live_in.push(u32::MAX);
                        an.facts_out.push(Vec::new());
                    }
                    touched.resize(ir.blocks.len(), false);
                    for b in [p, pl.r] {
                        touched[b] = true;
                    }
                    p = r2;
                    slot = pol.on_slot();
                }
                // The rest of the chain waits for a fresh analysis.
                let mut b = q1;
                for _ in 0..100_000 {
                    touched[b] = true;
                    let Term::Branch { jt, jf, .. } = ir.blocks[b].term else {
                        break;
                    };
                    b = pol.split(jt, jf).1;
                }
                break 'slots;
            }
        }
    }
    changed
}

struct Plan {
    /// The last block of the Q chain.
    qm: BlockId,
    /// R, whose test moves up.
    r: BlockId,
    /// Where R goes on when its test does not leave for T.
    on: BlockId,
    /// The common target.
    t: BlockId,
    /// Whether the way from the hoisted test to T repeats Q1's loads.
    guard: bool,
}

/// The hoists of one chain above Q1, in order, if they are worth making.
#[allow(clippy::too_many_arguments)]
fn plan_chain(
    ir: &Ir,
    an: &mut Analysis,
    preds: &[usize],
    plist: &[Vec<BlockId>],
    touched: &[bool],
    p: BlockId,
    q1: BlockId,
    pol: Polarity,
) -> Option<Vec<Plan>> {
    let Term::Branch {
        src: Src::K(_),
        jt,
        jf,
        ..
    } = ir.blocks[q1].term
    else {
        return None;
    };
    let (t, _) = pol.split(jt, jf);
    if touched.get(q1) != Some(&false) {
        return None;
    }
    // Other ways into Q1 go on past the tests hoisted out of the chain,
    // so each must know them to go on (checked once they are planned).
    let others: Vec<BlockId> = plist[q1].iter().copied().filter(|&o| o != p).collect();
    let p_edges = ir.blocks[p].term.succs().filter(|&s| s == q1).count();
    if p_edges != 1
        || preds.get(q1) != Some(&(1 + others.len()))
        || others.iter().any(|&o| touched[o] || o >= an.exit.len())
    {
        return None;
    }
    // The guard: Q1's statements on the way from the hoisted test to T,
    // unless T rejects, or they cannot reject where P ends, or every way
    // from T to an accepting return loads as far as they do (a packet
    // too short for them is rejected there anyway).
    let guard = ir.blocks[t].term != Term::Ret(0) && {
        let mut st = an.exit[p];
        let mut proven = an.len_out[p];
        let mut avail = an.avail_out[p].clone();
        let later = an.must_in[t];
        ir.blocks[q1].stmts.iter().any(|s| {
            let covered = matches!(s, Stmt::LdAbs(..) | Stmt::LdxMsh(_)) && proves_len(*s) <= later;
            let aborts = !covered && can_abort(&an.vals, &st, *s, proven, &avail);
            step(&mut an.vals, &mut st, *s);
            super::note_load(&st, *s, &mut avail);
            proven = proven.max(proves_len(*s));
            aborts
        })
    };
    // The state the hoisted test reaches T with.
    let at_t = if guard { an.exit[q1] } else { an.exit[p] };
    let mut preds = preds.to_vec();
    let mut hoisted: Vec<Plan> = Vec::new();
    while let Some(pl) = plan(ir, an, &preds, touched, p, q1, t, &at_t, &hoisted, pol) {
        preds[pl.on] += 1;
        preds[pl.r] = preds[pl.r].saturating_sub(1);
        hoisted.push(pl);
    }
    if hoisted.is_empty() {
        return None;
    }
    let v = an.exit[p][A];
    let on = pol == Polarity::And;
    for &o in &others {
        let base = &an.facts_out[o];
        let edges: Vec<Option<bool>> = match ir.blocks[o].term {
            Term::Branch { jt, jf, .. } => [(jt, true), (jf, false)]
                .into_iter()
                .filter(|(s, _)| *s == q1)
                .map(|(_, b)| Some(b))
                .collect(),
            _ => vec![None],
        };
        for outcome in edges {
            let mut facts = base.clone();
            if let (Term::Branch { cond, src, .. }, Some(b)) = (ir.blocks[o].term, outcome) {
                facts.push(branch_fact(&an.exit[o], cond, src, b));
            }
            for pl in &hoisted {
                let Term::Branch {
                    cond,
                    src: Src::K(k),
                    ..
                } = ir.blocks[pl.r].term
                else {
                    return None;
                };
                if decide(&an.vals, &facts, v, cond, FactSrc::K(k)) != Some(on) {
                    return None;
                }
            }
        }
    }
    for pl in &mut hoisted {
        pl.guard = guard;
    }
    if guard {
        // Each hoist saves R's statements where R goes with it; the guard
        // costs Q1's statements and a jump.
        let saved: usize = hoisted
            .iter()
            .filter(|pl| preds[pl.r] == 0)
            .map(|pl| ir.blocks[pl.r].stmts.len())
            .sum();
        if saved <= ir.blocks[q1].stmts.len() + 1 {
            return None;
        }
    }
    Some(hoisted)
}

/// The next hoist of the chain above Q1, after those already planned.
#[allow(clippy::too_many_arguments)]
fn plan(
    ir: &Ir,
    an: &mut Analysis,
    preds: &[usize],
    touched: &[bool],
    p: BlockId,
    q1: BlockId,
    t: BlockId,
    at_t: &State,
    hoisted: &[Plan],
    pol: Polarity,
) -> Option<Plan> {
    let v = an.exit[p][A];
    // The Q chain: single-entry tests that all go to T; only the first
    // may have statements that change anything.
    let Term::Branch { jt, jf, .. } = ir.blocks[q1].term else {
        return None;
    };
    let (_, mut next) = pol.split(jt, jf);
    let mut qm = q1;
    let mut chain = 0;
    loop {
        // A test already hoisted is no longer on the way.
        while let Some(h) = hoisted.iter().find(|h| h.r == next && h.qm == qm) {
            next = h.on;
        }
        let r = next;
        if touched.get(r) != Some(&false) || r == t {
            return None;
        }
        let rb = &ir.blocks[r];
        let Term::Branch {
            src: Src::K(_),
            jt: rt,
            jf: rf,
            ..
        } = rb.term
        else {
            return None;
        };
        let (r_t, on) = pol.split(rt, rf);
        if r_t != t {
            return None;
        }
        // Is R a test of v again (its statements reload it)?
        let mut st = an.exit[qm];
        let mut proven = an.len_out[qm];
        let mut avail = an.avail_out[qm].clone();
        let mut ok = true;
        for s in &rb.stmts {
            if can_abort(&an.vals, &st, *s, proven, &avail) {
                ok = false;
                break;
            }
            step(&mut an.vals, &mut st, *s);
            super::note_load(&st, *s, &mut avail);
            proven = proven.max(proves_len(*s));
        }
        if ok && st[A] == v && an.exit[qm][A] != v {
            // Skipping R from Qm must leave what R's way on needs, and T
            // must find what it reads as R left it.
            let before = an.exit[qm];
            let same = |live: u32, x: &State, y: &State| {
                (0..NATOMS).all(|i| live & (1 << i) == 0 || x[i] == y[i])
            };
            if same(an.live_in[on], &st, &before) && same(an.live_in[t], &st, at_t) {
                return Some(Plan {
                    qm,
                    r,
                    on,
                    t,
                    guard: false,
                });
            }
            return None;
        }
        // Otherwise R may extend the Q chain: statements that change
        // nothing (a reload of the value in hand), one way in.
        let noop = ok && st == an.exit[qm];
        if !noop || preds.get(r) != Some(&1) || chain >= 4096 {
            return None;
        }
        chain += 1;
        qm = r;
        next = on;
    }
}

fn apply(ir: &mut Ir, p: BlockId, slot: usize, q1: BlockId, plan: &Plan, pol: Polarity) -> BlockId {
    let Term::Branch { cond, src, .. } = ir.blocks[plan.r].term else {
        return p;
    };
    let guard = if plan.guard {
        ir.blocks.push(Block {
            stmts: ir.blocks[q1].stmts.clone(),
            term: Term::Goto(plan.t),
        });
        ir.blocks.len() - 1
    } else {
        plan.t
    };
    let r2 = ir.blocks.len();
    let (jt, jf) = match pol {
        Polarity::Or => (guard, q1),
        Polarity::And => (q1, guard),
    };
    ir.blocks.push(Block {
        stmts: Vec::new(),
        term: Term::Branch { cond, src, jt, jf },
    });
    match &mut ir.blocks[p].term {
        Term::Branch { jt, jf, .. } => {
            if slot == 0 {
                *jt = r2;
            } else {
                *jf = r2;
            }
        }
        Term::Goto(t) => *t = r2,
        Term::Ret(_) => {}
    }
    if let Term::Branch { jt, jf, .. } = &mut ir.blocks[plan.qm].term {
        match pol {
            Polarity::Or => *jf = plan.on,
            Polarity::And => *jt = plan.on,
        }
    }
    r2
}
