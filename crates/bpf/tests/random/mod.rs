//! Seeded generators of valid programs, packets and metadata for the
//! differential tests.
#![allow(dead_code)]

use sluice_bpf::insn::{self, Insn, ancillary};
use sluice_bpf::{Meta, validate};

/// xorshift64*: small, seeded, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    pub fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }

    /// True with probability `num` in 100.
    pub fn percent(&mut self, num: u64) -> bool {
        self.below(100) < num
    }

    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The seed for this run: `SLUICE_BPF_SEED` if set, else a fixed one.
pub fn seed() -> u64 {
    std::env::var("SLUICE_BPF_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_b9f0)
}

/// Which instructions a generated program may use.
#[derive(Clone, Copy)]
pub struct Opts {
    /// Indirect loads (whose offsets may wrap in the kernel).
    pub ind: bool,
    /// Shifts by X (X ≥ 32 differs between kernel and libpcap).
    pub shift_x: bool,
    /// Ancillary loads and the negative SKF_LL_OFF / SKF_NET_OFF ranges.
    pub negative: bool,
}

impl Opts {
    pub const ALL: Opts = Opts {
        ind: true,
        shift_x: true,
        negative: true,
    };
    /// Only what the kernel and libpcap agree on for every packet.
    pub const COMMON: Opts = Opts {
        ind: false,
        shift_x: false,
        negative: false,
    };
}

fn value(rng: &mut Rng) -> u32 {
    match rng.below(6) {
        0 => rng.below(16) as u32,
        1 => rng.pick(&[0, 1, 31, 32, 33, 0x7fff_ffff, 0x8000_0000, u32::MAX]),
        2 => rng.below(256) as u32,
        3 => rng.pick(&[0x0800, 0x86dd, 0x0806, 0x8100, 6, 17, 0x45]),
        _ => rng.u32(),
    }
}

fn offset(rng: &mut Rng, opts: Opts) -> u32 {
    match rng.below(20) {
        0 if opts.negative => rng.pick(&ancillary::ALL).0,
        1 if opts.negative => ancillary::LL_OFF + rng.below(64) as u32,
        2 if opts.negative => ancillary::NET_OFF + rng.below(64) as u32,
        3 => rng.below(5000) as u32,
        4 => rng.u32() & 0x7fff_ffff,
        _ => rng.below(72) as u32,
    }
}

fn sized(rng: &mut Rng) -> u16 {
    rng.pick(&[insn::W, insn::H, insn::B])
}

/// One instruction at index `i` of a program of `len`.
fn insn(rng: &mut Rng, opts: Opts, i: usize, len: usize, stored: &mut u16) -> Insn {
    use insn::*;
    let after = (len - 1 - i) as u64; // instructions after this one
    loop {
        let ins = match rng.below(24) {
            0..=3 => Insn::stmt(LD | sized(rng) | ABS, offset(rng, opts)),
            4 if opts.ind => {
                let k = if rng.percent(20) {
                    rng.u32() | 0xffff_0000
                } else {
                    rng.below(64) as u32
                };
                Insn::stmt(LD | sized(rng) | IND, k)
            }
            5 => {
                let k = if opts.negative && rng.percent(10) {
                    ancillary::LL_OFF + rng.below(40) as u32
                } else {
                    rng.below(64) as u32
                };
                Insn::stmt(LDX | B | MSH, k)
            }
            6 => Insn::stmt(rng.pick(&[LD | W | LEN, LDX | W | LEN]), 0),
            7 | 8 => Insn::stmt(rng.pick(&[LD | IMM, LDX | IMM]), value(rng)),
            9 if *stored != 0 => {
                let k = loop {
                    let k = rng.below(16) as u32;
                    if *stored & (1 << k) != 0 {
                        break k;
                    }
                };
                Insn::stmt(rng.pick(&[LD | MEM, LDX | MEM]), k)
            }
            10 => {
                let k = rng.below(16) as u32;
                *stored |= 1 << k;
                Insn::stmt(rng.pick(&[ST, STX]), k)
            }
            11..=13 => {
                let op = rng.pick(&[ADD, SUB, MUL, DIV, MOD, AND, OR, XOR, LSH, RSH]);
                let k = match op {
                    DIV | MOD => value(rng).max(1),
                    LSH | RSH => rng.below(32) as u32,
                    _ => value(rng),
                };
                Insn::stmt(ALU | op | K, k)
            }
            14 | 15 => {
                let op = rng.pick(&[ADD, SUB, MUL, DIV, MOD, AND, OR, XOR, LSH, RSH]);
                if !opts.shift_x && (op == LSH || op == RSH) {
                    continue;
                }
                Insn::stmt(ALU | op | X, 0)
            }
            16 => Insn::stmt(rng.pick(&[ALU | NEG, MISC | TAX, MISC | TXA]), 0),
            17..=20 if after >= 1 => {
                let op = rng.pick(&[JEQ, JGT, JGE, JSET]);
                let far = after.min(256) - 1;
                let jt = rng.below(far + 1) as u8;
                let jf = rng.below(far + 1) as u8;
                if rng.percent(30) {
                    Insn::jump(JMP | op | X, 0, jt, jf)
                } else {
                    Insn::jump(JMP | op | K, value(rng), jt, jf)
                }
            }
            21 if after >= 1 => Insn::stmt(JMP | JA, rng.below(after) as u32),
            22 => {
                if rng.percent(50) {
                    Insn::stmt(RET | A, 0)
                } else {
                    Insn::stmt(RET | K, value(rng))
                }
            }
            _ => continue,
        };
        return ins;
    }
}

/// A program of 2 to 48 instructions that passes the kernel's checks.
pub fn program(rng: &mut Rng, opts: Opts) -> Vec<Insn> {
    loop {
        let len = 2 + rng.below(47) as usize;
        let mut stored = 0u16;
        let mut prog: Vec<Insn> = (0..len - 1)
            .map(|i| insn(rng, opts, i, len, &mut stored))
            .collect();
        prog.push(if rng.percent(50) {
            Insn::stmt(insn::RET | insn::A, 0)
        } else {
            Insn::stmt(insn::RET | insn::K, value(rng))
        });
        if validate(&prog).is_ok() {
            return prog;
        }
    }
}

/// A packet and its wire length: half of them Ethernet + IPv4 + TCP/UDP
/// headers with random fields, the rest random bytes; any length from 0.
pub fn packet(rng: &mut Rng) -> (Vec<u8>, u32) {
    let mut p: Vec<u8>;
    if rng.percent(50) {
        p = vec![0; 14 + 20 + 20 + rng.below(40) as usize];
        for b in p.iter_mut() {
            *b = rng.below(256) as u8;
        }
        p[12] = 0x08;
        p[13] = 0x00;
        p[14] = 0x45 + rng.below(3) as u8;
        p[20] &= if rng.percent(70) { 0 } else { 0xff };
        p[23] = rng.pick(&[6, 17, 1, 47]);
        p[26..30].copy_from_slice(&[10, 77, 0, rng.below(24) as u8]);
        let port: u16 = rng.pick(&[80, 53, 22, 443]);
        p[36..38].copy_from_slice(&port.to_be_bytes());
        let cut = rng.below(p.len() as u64 + 1) as usize;
        if rng.percent(20) {
            p.truncate(cut);
        }
    } else {
        p = (0..rng.below(96)).map(|_| rng.below(256) as u8).collect();
    }
    let wire = p.len() as u32
        + if rng.percent(30) {
            rng.below(1500) as u32
        } else {
            0
        };
    (p, wire)
}

/// Metadata with random fields.
pub fn meta(rng: &mut Rng) -> Meta {
    let other = rng.u32() as u16;
    Meta {
        protocol: rng.pick(&[0x0800, 0x86dd, 0x0806, other]),
        pkttype: rng.below(256) as u8,
        ifindex: rng.below(16) as u32,
        mark: rng.u32(),
        queue: rng.u32() as u16,
        hatype: rng.pick(&[1, 772, 65534]),
        rxhash: rng.u32(),
        cpu: rng.below(64) as u32,
        vlan_tci: rng.percent(50).then(|| rng.u32() as u16),
        vlan_tpid: rng.pick(&[0, 0x8100, 0x88a8]),
        pay_offset: rng.below(128) as u32,
        random: rng.u32(),
        net_offset: rng.percent(70).then(|| rng.below(40) as u32),
    }
}
