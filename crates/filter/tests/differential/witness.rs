//! Witnesses of libpcap's optimiser dropping a load: packets that its
//! optimised program accepts and its unoptimised program rejects because
//! it runs off the captured bytes.
//!
//! The size comparison needs them: where libpcap's optimised program is
//! shorter than ours only because it forgot a load, matching its length
//! would mean changing a verdict of the reference. A corpus frame rarely
//! reaches the accepting path at the right length, so the search makes
//! packets for it, concolically: starting from a frame, it runs the
//! optimised program, and at each test it wants to go the other way it
//! rewrites the packet bits the test reads (a load, possibly masked, from
//! a known offset), keeping the bits earlier tests depended on. Each
//! accepted packet is then cut at every length and run by both programs.
//! A witness is checked with libpcap's own `bpf_filter` and the reference
//! interpreter, so the search may be clever but never wrong.

use sluice_pcap_oracle::{self as oracle, RawInsn};

use crate::packets::Frame;
use crate::refvm;

/// Program runs the search may spend on one expression.
const BUDGET: usize = 6_000;

/// Frames of the corpus the search starts from (spread over it).
const BASES: usize = 24;

/// Where the value in a register came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Prov {
    /// `P[off .. off + size] & mask`, big-endian.
    Load { off: usize, size: usize, mask: u32 },
    /// A constant.
    Const(u32),
    /// Anything else.
    Unknown,
}

/// A test the packet must keep passing the way it did: `(P[off..off +
/// size] & mask) op konst` is `goal`.
#[derive(Clone, Copy)]
struct Constraint {
    off: usize,
    size: usize,
    mask: u32,
    op: u16,
    konst: u32,
    goal: bool,
}

impl Constraint {
    fn holds(&self, d: &Draft) -> bool {
        d.value(self.off, self.size)
            .is_some_and(|v| eval(self.op, v & self.mask, self.konst) == self.goal)
    }
}

fn eval(op: u16, a: u32, b: u32) -> bool {
    match op {
        0x10 => a == b,
        0x20 => a > b,
        0x30 => a >= b,
        _ => a & b != 0,
    }
}

/// A packet under construction, and the outcomes of the tests so far.
#[derive(Clone)]
struct Draft {
    bytes: Vec<u8>,
    keep: Vec<Constraint>,
}

impl Draft {
    fn value(&self, off: usize, size: usize) -> Option<u32> {
        let b = self.bytes.get(off..off + size)?;
        Some(b.iter().fold(0u32, |acc, x| acc << 8 | u32::from(*x)))
    }

    /// The byte and bit of `P[off .. off + size]` (as a big-endian number)
    /// bit `bit`.
    fn bit_at(off: usize, size: usize, bit: u32) -> (usize, u8) {
        let byte = off + size - 1 - (bit / 8) as usize;
        (byte, 1u8 << (bit % 8))
    }

    /// Sets the bits of `mask` to those of `want`.
    fn set(&mut self, off: usize, size: usize, mask: u32, want: u32) {
        for bit in 0..(size as u32 * 8) {
            if mask & (1 << bit) != 0 {
                let (byte, m) = Self::bit_at(off, size, bit);
                if want & (1 << bit) != 0 {
                    self.bytes[byte] |= m;
                } else {
                    self.bytes[byte] &= !m;
                }
            }
        }
    }

    fn keeps(&self) -> bool {
        self.keep.iter().all(|c| c.holds(self))
    }
}

/// What one run of the optimised program along chosen decisions gave.
enum Run {
    /// It returned this value, having taken `decisions` (and the
    /// outcomes of the tests after them).
    Done(u32, Vec<bool>),
    /// The draft was changed to make a test go the wanted way: run again.
    Changed,
    /// The wanted way cannot be had.
    Infeasible,
}

/// Runs `prog` on the draft, following `want` for the first tests and
/// rewriting the draft where a test goes the other way.
fn run(prog: &[RawInsn], d: &mut Draft, want: &[bool]) -> Run {
    // The tests of this run say again what the packet must keep.
    d.keep.clear();
    let (mut a, mut x) = (0u32, 0u32);
    let (mut pa, mut px) = (Prov::Const(0), Prov::Const(0));
    let mut mem = [(0u32, Prov::Const(0)); 16];
    let mut taken = Vec::new();
    let mut pc = 0usize;
    for _ in 0..prog.len() + 1 {
        let Some(&(code, jt, jf, k)) = prog.get(pc) else {
            return Run::Infeasible;
        };
        pc += 1;
        let class = code & 0x07;
        let src_x = code & 0x08 != 0;
        match class {
            0x00 | 0x01 => {
                let size = match code & 0x18 {
                    0x00 => 4,
                    0x08 => 2,
                    _ => 1,
                };
                let (v, p) = match code & 0xe0 {
                    0x00 => (k, Prov::Const(k)),
                    0x20 | 0x40 => {
                        let off = if code & 0xe0 == 0x40 {
                            u64::from(x) + u64::from(k)
                        } else {
                            u64::from(k)
                        };
                        let Some(v) = usize::try_from(off).ok().and_then(|o| d.value(o, size))
                        else {
                            return Run::Done(0, taken);
                        };
                        let mask = if size == 4 {
                            u32::MAX
                        } else {
                            (1 << (size * 8)) - 1
                        };
                        (
                            v,
                            Prov::Load {
                                off: off as usize,
                                size,
                                mask,
                            },
                        )
                    }
                    0x60 => mem[(k & 15) as usize],
                    0x80 => (d.bytes.len() as u32, Prov::Unknown),
                    0xa0 => match d.value(k as usize, 1) {
                        Some(v) => {
                            // The header length decides later offsets.
                            d.keep.push(Constraint {
                                off: k as usize,
                                size: 1,
                                mask: 0x0f,
                                op: 0x10,
                                konst: v & 0x0f,
                                goal: true,
                            });
                            ((v & 0xf) << 2, Prov::Unknown)
                        }
                        None => return Run::Done(0, taken),
                    },
                    _ => return Run::Infeasible,
                };
                if class == 0x00 {
                    (a, pa) = (v, p);
                } else {
                    (x, px) = (v, p);
                }
            }
            0x02 => mem[(k & 15) as usize] = (a, pa),
            0x03 => mem[(k & 15) as usize] = (x, px),
            0x04 => {
                let src = if src_x { x } else { k };
                let op = code & 0xf0;
                a = match op {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 | 0x90 if src == 0 => return Run::Done(0, taken),
                    0x30 => a / src,
                    0x90 => a % src,
                    0x40 => a | src,
                    0x50 => a & src,
                    0xa0 => a ^ src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    _ => return Run::Infeasible,
                };
                pa = match (op, pa, src_x) {
                    (0x50, Prov::Load { off, size, mask }, false) => Prov::Load {
                        off,
                        size,
                        mask: mask & k,
                    },
                    (_, Prov::Const(_), false) => Prov::Const(a),
                    _ => Prov::Unknown,
                };
            }
            0x05 => {
                let op = code & 0xf0;
                if op == 0x00 {
                    pc = pc.wrapping_add(k as usize);
                    continue;
                }
                let (b, pb) = if src_x { (x, px) } else { (k, Prov::Const(k)) };
                let is = eval(op, a, b);
                let goal = want.get(taken.len()).copied().unwrap_or(is);
                // The side that comes from the packet, and the constant.
                let (load, konst) = match (pa, pb) {
                    (Prov::Load { .. }, Prov::Const(c)) => (pa, c),
                    // Equality is symmetric.
                    (Prov::Const(c), Prov::Load { .. }) if op == 0x10 => (pb, c),
                    _ => (Prov::Unknown, 0),
                };
                if let Prov::Load { off, size, mask } = load {
                    let c = Constraint {
                        off,
                        size,
                        mask,
                        op,
                        konst,
                        goal,
                    };
                    if goal != is {
                        return if steer(d, c) {
                            Run::Changed
                        } else {
                            Run::Infeasible
                        };
                    }
                    d.keep.push(c);
                } else if goal != is {
                    return Run::Infeasible;
                }
                taken.push(is);
                pc += usize::from(if is { jt } else { jf });
            }
            0x06 => {
                let v = match code & 0x18 {
                    0x10 => a,
                    0x08 => x,
                    _ => k,
                };
                return Run::Done(v, taken);
            }
            _ => {
                if code & 0xf8 == 0x80 {
                    (a, pa) = (x, px);
                } else {
                    (x, px) = (a, pa);
                }
            }
        }
    }
    Run::Infeasible
}

/// Rewrites the draft so that the test `c` goes its way and the tests
/// before it still go theirs.
fn steer(d: &mut Draft, c: Constraint) -> bool {
    let Constraint {
        off,
        size,
        mask,
        op,
        konst,
        goal,
    } = c;
    let old = d.bytes.clone();
    // Each try sets the bits of a mask to a value.
    let mut tries: Vec<(u32, u32)> = Vec::new();
    match (op, goal) {
        (0x10, true) => tries.push((mask, konst)),
        (0x20 | 0x30, true) => tries.push((mask, u32::MAX)),
        (0x20 | 0x30, false) => tries.push((mask, 0)),
        (0x40, false) => tries.push((mask & konst, 0)),
        // Not equal, or some bit set: one bit of the mask at a time,
        // flipped.
        _ => {
            let m = if op == 0x40 { mask & konst } else { mask };
            let now = d.value(off, size).unwrap_or(0);
            for bit in (0..32).filter(|b| m & (1 << b) != 0) {
                tries.push((1 << bit, !now));
            }
        }
    }
    for (m, v) in tries {
        d.set(off, size, m, v);
        if c.holds(d) && d.keeps() {
            d.keep.push(c);
            return true;
        }
        d.bytes.clone_from(&old);
    }
    false
}

/// A packet on which `optimised` accepts and `unoptimised` rejects by
/// running off the captured bytes: a frame of `frames` cut short, or one
/// the search makes.
pub fn dropped_load(
    optimised: &[RawInsn],
    unoptimised: &[RawInsn],
    frames: &[Frame],
) -> Option<Frame> {
    let lib_o = oracle::Program::new(optimised).ok()?;
    let found = frames.iter().find_map(|f| {
        (lib_o.run(&f.bytes, f.wire_len) != 0)
            .then(|| check_cuts(&lib_o, optimised, unoptimised, &f.bytes, f.wire_len))
            .flatten()
    });
    if found.is_some() {
        return found;
    }
    let mut runs = 0usize;
    let step = (frames.len() / BASES).max(1);
    let bases = frames
        .iter()
        .step_by(step)
        .take(BASES)
        .map(|f| f.bytes.clone())
        .chain(std::iter::once(Vec::new()));
    for mut bytes in bases {
        if bytes.len() < 160 {
            bytes.resize(160, 0);
        }
        // Depth-first over the decisions of the optimised program.
        let draft = Draft {
            bytes,
            keep: Vec::new(),
        };
        let mut stack: Vec<(Draft, Vec<bool>)> = vec![(draft, Vec::new())];
        while let Some((mut d, want)) = stack.pop() {
            runs += 1;
            if runs > BUDGET {
                return None;
            }
            match run(optimised, &mut d, &want) {
                Run::Infeasible => {}
                Run::Changed => stack.push((d, want)),
                Run::Done(v, taken) => {
                    // The other way at each test after the wanted ones.
                    for i in want.len()..taken.len() {
                        let mut w = taken[..i].to_vec();
                        w.push(!taken[i]);
                        stack.push((d.clone(), w));
                    }
                    let wire = d.bytes.len() as u32;
                    if v != 0
                        && let Some(w) = check_cuts(&lib_o, optimised, unoptimised, &d.bytes, wire)
                    {
                        return Some(w);
                    }
                }
            }
        }
    }
    None
}

/// The first cut of `bytes` that the optimised program accepts and the
/// unoptimised one rejects by running off its end.
fn check_cuts(
    lib_o: &oracle::Program,
    optimised: &[RawInsn],
    unoptimised: &[RawInsn],
    bytes: &[u8],
    wire: u32,
) -> Option<Frame> {
    let lib_o0 = oracle::Program::new(unoptimised).ok()?;
    (0..bytes.len()).rev().find_map(|n| {
        let cut = &bytes[..n];
        let o = lib_o.run(cut, wire);
        if o == 0 || refvm::run(optimised, cut, wire).verdict != o {
            return None;
        }
        // libpcap's own interpreter says the unoptimised program rejects
        // it; the reference interpreter says why.
        let u = refvm::run(unoptimised, cut, wire);
        (lib_o0.run(cut, wire) == 0 && u.faulted && !u.uninit && u.verdict == 0).then(|| Frame {
            label: format!("witness, {n} of {wire} bytes captured"),
            bytes: cut.to_vec(),
            wire_len: wire,
        })
    })
}

/// The search finds the packet libpcap's hoisting gets wrong: an ARP or
/// RARP frame whose sender is the second host, cut inside the target
/// address.
/// The unoptimised program tests the target address against the first
/// host before the sender against the second one.
#[test]
fn finds_the_load_dropped_by_libpcap_or_hoisting() {
    let expr = "ip || host 172.16.0.1 || host 10.77.0.2";
    let o = oracle::compile(expr, 1, true).expect("libpcap compiles it");
    let o0 = oracle::compile(expr, 1, false).expect("libpcap compiles it");
    let w = dropped_load(&o, &o0, &[]).expect("a witness");
    let shown = crate::hex(&w.bytes);
    assert!(
        matches!(w.bytes[12..14], [0x08, 0x06] | [0x80, 0x35]),
        "{shown}"
    );
    assert_eq!(&w.bytes[28..32], &[10, 77, 0, 2], "{shown}");
    assert!((32..42).contains(&w.bytes.len()), "{shown}");
}
