//! A validated classic BPF [`Program`] and its interpreter.
//!
//! [`Program::new`] checks the instructions with the kernel's rules and
//! decodes them once into a compact internal form: one enum value per
//! instruction, jump targets resolved to absolute indices, the ancillary
//! loads and the semantics (kernel or libpcap) resolved. [`Program::run`]
//! is then a loop over a `match`, with bounds-checked packet reads and no
//! allocation.

use crate::insn::{self, Insn, ancillary};
use crate::meta::Meta;
use crate::validate::{ValidateError, validate};

/// Whose run-time semantics a [`Program`] follows. The two agree on every
/// packet except in the cases listed here.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Semantics {
    /// The Linux kernel's, as a socket filter attached with
    /// `SO_ATTACH_FILTER` behaves (classic BPF converted to eBPF):
    ///
    /// - absolute loads at the known ancillary offsets return the packet's
    ///   [`Meta`] data, whatever the load size;
    /// - loads at `SKF_LL_OFF + n` read from the link-layer header (the
    ///   start of the packet bytes), at `SKF_NET_OFF + n` from the network
    ///   header ([`Meta::net_offset`]);
    /// - an indirect load's offset `X + k` is computed modulo 2³², so it can
    ///   wrap to a small offset or into the negative ranges above;
    /// - a shift by X uses the low five bits of X (`A << (X & 31)`), as the
    ///   x86-64 and arm64 JITs and the interpreter on those machines do.
    #[default]
    Kernel,
    /// libpcap's `bpf_filter` (`pcap_filter`), which tcpdump uses to filter
    /// capture files:
    ///
    /// - every load outside the packet bytes returns 0 from the program,
    ///   the ancillary and negative offsets included ([`Meta`] is ignored);
    /// - an indirect load whose `X + k` overflows 32 bits returns 0;
    /// - a shift by X of 32 or more gives 0.
    Libpcap,
}

/// One decoded instruction. Jump targets are absolute indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    LdAbsW(u32),
    LdAbsH(u32),
    LdAbsB(u32),
    /// Kernel only: an absolute load at a negative offset (`SKF_LL_OFF`,
    /// `SKF_NET_OFF` ranges), `size` in bytes.
    LdNeg {
        size: u8,
        k: u32,
    },
    /// Kernel only: an ancillary load.
    LdAnc(Anc),
    LdIndW(u32),
    LdIndH(u32),
    LdIndB(u32),
    LdxMsh(u32),
    LdLen,
    LdxLen,
    LdImm(u32),
    LdxImm(u32),
    LdMem(u8),
    LdxMem(u8),
    St(u8),
    Stx(u8),
    AddK(u32),
    MulK(u32),
    DivK(u32),
    ModK(u32),
    AndK(u32),
    OrK(u32),
    XorK(u32),
    LshK(u32),
    RshK(u32),
    AddX,
    SubX,
    MulX,
    DivX,
    ModX,
    AndX,
    OrX,
    XorX,
    /// Shift by X, the kernel's way (`X & 31`).
    LshX,
    RshX,
    /// Shift by X, libpcap's way (0 when X ≥ 32).
    LshXPcap,
    RshXPcap,
    Neg,
    Tax,
    Txa,
    RetK(u32),
    RetA,
    Ja(u16),
    JeqK {
        k: u32,
        jt: u16,
        jf: u16,
    },
    JgtK {
        k: u32,
        jt: u16,
        jf: u16,
    },
    JgeK {
        k: u32,
        jt: u16,
        jf: u16,
    },
    JsetK {
        k: u32,
        jt: u16,
        jf: u16,
    },
    JeqX {
        jt: u16,
        jf: u16,
    },
    JgtX {
        jt: u16,
        jf: u16,
    },
    JgeX {
        jt: u16,
        jf: u16,
    },
    JsetX {
        jt: u16,
        jf: u16,
    },
    /// `ldh [off]` fused with the `jeq #k` that follows it. The `jeq` stays
    /// decoded at the next index for jumps that land on it.
    LdhJeq {
        off: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// `ldb [off]` fused with the `jeq #k` that follows it.
    LdbJeq {
        off: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// `ld [off]` fused with the `jeq #k` that follows it.
    LdJeq {
        off: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// `ldh [x + off]` fused with the `jeq #k` that follows it.
    LdIndHJeq {
        off: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// `ldb [x + off]` fused with the `jeq #k` that follows it.
    LdIndBJeq {
        off: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// `ldh [off]` fused with the `jset #k` that follows it.
    LdhJset {
        off: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// `ldb [x + off]` fused with the `jset #k` that follows it.
    LdIndBJset {
        off: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// `and #mask` fused with the `jeq #k` that follows it.
    AndJeq {
        mask: u32,
        k: u32,
        jt: u16,
        jf: u16,
    },
    /// The first of `len` consecutive `jeq #k` instructions each of which
    /// (but the last) has the next one as a target: an or-chain (`jf`
    /// next) or an and-chain (`jt` next). Walking it in a tight loop keeps
    /// the loads of the next constants off the comparison's critical path.
    /// The later entries stay decoded at their own indices.
    JeqChain {
        k: u32,
        jt: u16,
        jf: u16,
        len: u8,
    },
    /// The first of `len` consecutive `jeq #k` instructions that all jump
    /// to `jt` when equal and to the next one when not, the last to `jf`:
    /// a test of `A` against a set of constants (`host a or host b or …`),
    /// whose constants are `keys[start..start + len]`. Compared all at
    /// once, without a branch per constant. The later entries stay decoded
    /// at their own indices.
    JeqSet {
        start: u16,
        len: u16,
        jt: u16,
        jf: u16,
    },
}

/// The Linux ancillary data a load can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anc {
    Protocol,
    PktType,
    Ifindex,
    Nlattr,
    NlattrNest,
    Mark,
    Queue,
    Hatype,
    Rxhash,
    Cpu,
    AluXorX,
    VlanTag,
    VlanTagPresent,
    PayOffset,
    Random,
    VlanTpid,
}

impl Anc {
    fn from_k(k: u32) -> Option<Anc> {
        Some(match k {
            ancillary::PROTOCOL => Anc::Protocol,
            ancillary::PKTTYPE => Anc::PktType,
            ancillary::IFINDEX => Anc::Ifindex,
            ancillary::NLATTR => Anc::Nlattr,
            ancillary::NLATTR_NEST => Anc::NlattrNest,
            ancillary::MARK => Anc::Mark,
            ancillary::QUEUE => Anc::Queue,
            ancillary::HATYPE => Anc::Hatype,
            ancillary::RXHASH => Anc::Rxhash,
            ancillary::CPU => Anc::Cpu,
            ancillary::ALU_XOR_X => Anc::AluXorX,
            ancillary::VLAN_TAG => Anc::VlanTag,
            ancillary::VLAN_TAG_PRESENT => Anc::VlanTagPresent,
            ancillary::PAY_OFFSET => Anc::PayOffset,
            ancillary::RANDOM => Anc::Random,
            ancillary::VLAN_TPID => Anc::VlanTpid,
            _ => return None,
        })
    }
}

/// A classic BPF program that passed the kernel's checks
/// ([`validate`](crate::validate())), decoded for fast interpretation.
/// Immutable; cheap to share by reference across threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    insns: Box<[Insn]>,
    ops: Box<[Op]>,
    /// The constants of the [`Op::JeqSet`]s.
    keys: Box<[u32]>,
    semantics: Semantics,
}

impl Program {
    /// Validates `insns` with the kernel's rules and decodes them, to run
    /// with the kernel's semantics.
    pub fn new(insns: Vec<Insn>) -> Result<Program, ValidateError> {
        Program::with_semantics(insns, Semantics::Kernel)
    }

    /// Validates `insns` with the kernel's rules and decodes them, to run
    /// with the given semantics. Use [`Semantics::Libpcap`] to get exactly
    /// tcpdump's verdicts on capture files.
    pub fn with_semantics(
        insns: Vec<Insn>,
        semantics: Semantics,
    ) -> Result<Program, ValidateError> {
        validate(&insns)?;
        let (ops, keys) = decode(&insns, semantics);
        Ok(Program {
            insns: insns.into_boxed_slice(),
            ops,
            keys,
            semantics,
        })
    }

    /// The same instructions, run with other semantics.
    pub fn to_semantics(&self, semantics: Semantics) -> Program {
        let (ops, keys) = decode(&self.insns, semantics);
        Program {
            insns: self.insns.clone(),
            ops,
            keys,
            semantics,
        }
    }

    /// The instructions, as given to [`Program::new`].
    pub fn insns(&self) -> &[Insn] {
        &self.insns
    }

    /// The number of instructions (1 to 4096).
    pub fn len(&self) -> usize {
        self.insns.len()
    }

    /// Always false: a valid program has at least one instruction.
    pub fn is_empty(&self) -> bool {
        self.insns.is_empty()
    }

    /// The semantics this program runs with.
    pub fn semantics(&self) -> Semantics {
        self.semantics
    }

    /// Runs the program on one packet: `packet` holds the bytes that were
    /// captured (from the link-layer header on), `wire_len` the length the
    /// packet had on the wire (what `ld #pktlen` loads; at least
    /// `packet.len()` in a well-formed capture, but any value works).
    ///
    /// Returns 0 to reject the packet, otherwise the number of bytes to
    /// keep. A load outside `packet`, and division or modulo by an X of 0,
    /// return 0. Allocates nothing.
    pub fn run(&self, packet: &[u8], wire_len: u32, meta: &Meta) -> u32 {
        let ops: &[Op] = &self.ops;
        let mut a: u32 = 0;
        let mut x: u32 = 0;
        let mut mem = [0u32; insn::MEMWORDS as usize];
        let mut pc = 0usize;
        macro_rules! load {
            ($e:expr) => {
                match $e {
                    Some(v) => v,
                    None => return 0,
                }
            };
        }
        loop {
            // A validated program never runs off its end (the last
            // instruction returns, jumps stay inside); if it did, reject.
            let Some(op) = ops.get(pc) else { return 0 };
            pc += 1;
            match *op {
                Op::LdAbsW(k) => a = load!(load_w(packet, k as usize)),
                Op::LdAbsH(k) => a = load!(load_h(packet, k as usize)),
                Op::LdAbsB(k) => a = load!(load_b(packet, k as usize)),
                Op::LdNeg { size, k } => a = load!(load_negative(packet, meta, k, size)),
                Op::LdAnc(anc) => a = ancillary_value(anc, a, x, packet, meta),
                Op::LdIndW(k) => {
                    a = match x.checked_add(k).and_then(|o| load_w(packet, o as usize)) {
                        Some(v) => v,
                        None => load!(self.ind_slow(packet, meta, x, k, 4)),
                    }
                }
                Op::LdIndH(k) => {
                    a = match x.checked_add(k).and_then(|o| load_h(packet, o as usize)) {
                        Some(v) => v,
                        None => load!(self.ind_slow(packet, meta, x, k, 2)),
                    }
                }
                Op::LdIndB(k) => {
                    a = match x.checked_add(k).and_then(|o| load_b(packet, o as usize)) {
                        Some(v) => v,
                        None => load!(self.ind_slow(packet, meta, x, k, 1)),
                    }
                }
                Op::LdxMsh(k) => {
                    let b = match load_b(packet, k as usize) {
                        Some(v) => v,
                        None => load!(self.msh_slow(packet, meta, k)),
                    };
                    x = (b & 0xf) << 2;
                }
                Op::LdLen => a = wire_len,
                Op::LdxLen => x = wire_len,
                Op::LdImm(k) => a = k,
                Op::LdxImm(k) => x = k,
                Op::LdMem(i) => a = mem[usize::from(i & 0x0f)],
                Op::LdxMem(i) => x = mem[usize::from(i & 0x0f)],
                Op::St(i) => mem[usize::from(i & 0x0f)] = a,
                Op::Stx(i) => mem[usize::from(i & 0x0f)] = x,
                Op::AddK(k) => a = a.wrapping_add(k),
                Op::MulK(k) => a = a.wrapping_mul(k),
                Op::DivK(k) => a = a.checked_div(k).unwrap_or(0),
                Op::ModK(k) => a = a.checked_rem(k).unwrap_or(0),
                Op::AndK(k) => a &= k,
                Op::OrK(k) => a |= k,
                Op::XorK(k) => a ^= k,
                Op::LshK(k) => a = a.wrapping_shl(k),
                Op::RshK(k) => a = a.wrapping_shr(k),
                Op::AddX => a = a.wrapping_add(x),
                Op::SubX => a = a.wrapping_sub(x),
                Op::MulX => a = a.wrapping_mul(x),
                Op::DivX => match a.checked_div(x) {
                    Some(v) => a = v,
                    None => return 0,
                },
                Op::ModX => match a.checked_rem(x) {
                    Some(v) => a = v,
                    None => return 0,
                },
                Op::AndX => a &= x,
                Op::OrX => a |= x,
                Op::XorX => a ^= x,
                Op::LshX => a = a.wrapping_shl(x),
                Op::RshX => a = a.wrapping_shr(x),
                Op::LshXPcap => a = a.checked_shl(x).unwrap_or(0),
                Op::RshXPcap => a = a.checked_shr(x).unwrap_or(0),
                Op::Neg => a = a.wrapping_neg(),
                Op::Tax => x = a,
                Op::Txa => a = x,
                Op::RetK(k) => return k,
                Op::RetA => return a,
                Op::Ja(t) => pc = usize::from(t),
                Op::JeqK { k, jt, jf } => pc = branch(a == k, jt, jf),
                Op::JgtK { k, jt, jf } => pc = branch(a > k, jt, jf),
                Op::JgeK { k, jt, jf } => pc = branch(a >= k, jt, jf),
                Op::JsetK { k, jt, jf } => pc = branch(a & k != 0, jt, jf),
                Op::JeqX { jt, jf } => pc = branch(a == x, jt, jf),
                Op::JgtX { jt, jf } => pc = branch(a > x, jt, jf),
                Op::JgeX { jt, jf } => pc = branch(a >= x, jt, jf),
                Op::JsetX { jt, jf } => pc = branch(a & x != 0, jt, jf),
                Op::LdhJeq { off, k, jt, jf } => {
                    a = load!(load_h(packet, off as usize));
                    pc = branch(a == k, jt, jf);
                }
                Op::LdbJeq { off, k, jt, jf } => {
                    a = load!(load_b(packet, off as usize));
                    pc = branch(a == k, jt, jf);
                }
                Op::LdJeq { off, k, jt, jf } => {
                    a = load!(load_w(packet, off as usize));
                    pc = branch(a == k, jt, jf);
                }
                Op::LdIndHJeq { off, k, jt, jf } => {
                    a = match x.checked_add(off).and_then(|o| load_h(packet, o as usize)) {
                        Some(v) => v,
                        None => load!(self.ind_slow(packet, meta, x, off, 2)),
                    };
                    pc = branch(a == k, jt, jf);
                }
                Op::LdIndBJeq { off, k, jt, jf } => {
                    a = match x.checked_add(off).and_then(|o| load_b(packet, o as usize)) {
                        Some(v) => v,
                        None => load!(self.ind_slow(packet, meta, x, off, 1)),
                    };
                    pc = branch(a == k, jt, jf);
                }
                Op::LdhJset { off, k, jt, jf } => {
                    a = load!(load_h(packet, off as usize));
                    pc = branch(a & k != 0, jt, jf);
                }
                Op::LdIndBJset { off, k, jt, jf } => {
                    a = match x.checked_add(off).and_then(|o| load_b(packet, o as usize)) {
                        Some(v) => v,
                        None => load!(self.ind_slow(packet, meta, x, off, 1)),
                    };
                    pc = branch(a & k != 0, jt, jf);
                }
                Op::AndJeq { mask, k, jt, jf } => {
                    a &= mask;
                    pc = branch(a == k, jt, jf);
                }
                Op::JeqChain { k, jt, jf, len } => {
                    pc = jeq_chain(ops, pc - 1, usize::from(len), a, k, jt, jf);
                }
                Op::JeqSet { start, len, jt, jf } => {
                    let start = usize::from(start);
                    let keys = self.keys.get(start..start + usize::from(len));
                    pc = branch(keys.is_some_and(|k| member(k, a)), jt, jf);
                }
            }
        }
    }

    /// Whether the program accepts the packet (`run` returns non-zero).
    pub fn matches(&self, packet: &[u8], wire_len: u32, meta: &Meta) -> bool {
        self.run(packet, wire_len, meta) != 0
    }

    /// An indirect load that missed the fast path: `X + k` overflowed or
    /// fell outside the packet.
    #[cold]
    fn ind_slow(&self, packet: &[u8], meta: &Meta, x: u32, k: u32, size: u8) -> Option<u32> {
        match self.semantics {
            Semantics::Libpcap => None,
            Semantics::Kernel => {
                // The kernel adds in 64 bits and passes the sum on as an
                // int: modulo 2^32, negative offsets go to the LL/NET ranges.
                let off = x.wrapping_add(k);
                if (off as i32) < 0 {
                    load_negative(packet, meta, off, size)
                } else {
                    load_sized(packet, off as usize, size)
                }
            }
        }
    }

    /// `ldxb 4*([k]&0xf)` outside the packet: the kernel reads negative
    /// offsets like any absolute load.
    #[cold]
    fn msh_slow(&self, packet: &[u8], meta: &Meta, k: u32) -> Option<u32> {
        match self.semantics {
            Semantics::Kernel if (k as i32) < 0 => load_negative(packet, meta, k, 1),
            _ => None,
        }
    }
}

/// Walks a [`Op::JeqChain`] of `len` entries starting at `start`, whose
/// first entry is (`k`, `jt`, `jf`); returns the next `pc`.
#[inline(always)]
fn jeq_chain(ops: &[Op], start: usize, len: usize, a: u32, k: u32, jt: u16, jf: u16) -> usize {
    let end = start + len;
    let (mut k, mut jt, mut jf) = (k, jt, jf);
    let mut j = start;
    loop {
        let next = j + 1;
        let eq = a == k;
        // Whether to go on is decided without the loaded target, so that
        // the next entry's address never waits on this comparison.
        let goes_on = if eq {
            usize::from(jt) == next
        } else {
            usize::from(jf) == next
        };
        if !goes_on || next >= end {
            return usize::from(if eq { jt } else { jf });
        }
        j = next;
        match ops.get(j) {
            Some(
                &Op::JeqK {
                    k: k2,
                    jt: t2,
                    jf: f2,
                }
                | &Op::JeqChain {
                    k: k2,
                    jt: t2,
                    jf: f2,
                    ..
                },
            ) => {
                (k, jt, jf) = (k2, t2, f2);
            }
            // A set test takes over from here.
            Some(Op::JeqSet { .. }) => return j,
            // Chains are built over `jeq` entries only; an index past the
            // end ends the program like running off it would.
            _ => return usize::MAX,
        }
    }
}

/// Whether `a` is one of `keys`: every key compared, without a branch per
/// key, which the compiler turns into vector compares.
#[inline(always)]
fn member(keys: &[u32], a: u32) -> bool {
    keys.iter().fold(false, |hit, &k| hit | (k == a))
}

/// The target of a conditional jump, computed with a branch rather than a
/// conditional move: the next instruction's fetch can then start on the
/// predicted path instead of waiting for the comparison.
#[inline(always)]
fn branch(cond: bool, jt: u16, jf: u16) -> usize {
    if cond {
        usize::from(jt)
    } else {
        std::hint::cold_path();
        usize::from(jf)
    }
}

#[inline(always)]
fn load_w(p: &[u8], off: usize) -> Option<u32> {
    p.get(off..)?
        .first_chunk::<4>()
        .map(|b| u32::from_be_bytes(*b))
}

#[inline(always)]
fn load_h(p: &[u8], off: usize) -> Option<u32> {
    p.get(off..)?
        .first_chunk::<2>()
        .map(|b| u32::from(u16::from_be_bytes(*b)))
}

#[inline(always)]
fn load_b(p: &[u8], off: usize) -> Option<u32> {
    p.get(off).map(|&b| u32::from(b))
}

fn load_sized(p: &[u8], off: usize, size: u8) -> Option<u32> {
    match size {
        4 => load_w(p, off),
        2 => load_h(p, off),
        _ => load_b(p, off),
    }
}

/// The kernel's `bpf_internal_load_pointer_neg_helper`: offsets from
/// `SKF_NET_OFF` on are relative to the network header, from `SKF_LL_OFF`
/// on to the link-layer header (the start of `packet`); lower ones fail.
#[cold]
fn load_negative(packet: &[u8], meta: &Meta, k: u32, size: u8) -> Option<u32> {
    let k = k as i32;
    if k >= ancillary::NET_OFF as i32 {
        let rel = k.wrapping_sub(ancillary::NET_OFF as i32) as usize;
        let start = meta.net_offset? as usize;
        load_sized(packet, start.checked_add(rel)?, size)
    } else if k >= ancillary::LL_OFF as i32 {
        let rel = k.wrapping_sub(ancillary::LL_OFF as i32) as usize;
        load_sized(packet, rel, size)
    } else {
        None
    }
}

// Out of line: inlined, its reads of `meta` get hoisted to the start of
// every run, ancillary loads or not.
#[cold]
#[inline(never)]
fn ancillary_value(anc: Anc, a: u32, x: u32, packet: &[u8], meta: &Meta) -> u32 {
    match anc {
        Anc::Protocol => u32::from(meta.protocol),
        Anc::PktType => u32::from(meta.pkttype & 7),
        Anc::Ifindex => meta.ifindex,
        Anc::Nlattr => nlattr(packet, a, x),
        Anc::NlattrNest => nlattr_nest(packet, a, x),
        Anc::Mark => meta.mark,
        Anc::Queue => u32::from(meta.queue),
        Anc::Hatype => u32::from(meta.hatype),
        Anc::Rxhash => meta.rxhash,
        Anc::Cpu => meta.cpu,
        Anc::AluXorX => a ^ x,
        Anc::VlanTag => u32::from(meta.vlan_tci.unwrap_or(0)),
        Anc::VlanTagPresent => u32::from(meta.vlan_tci.is_some()),
        Anc::PayOffset => meta.pay_offset,
        Anc::Random => meta.random,
        Anc::VlanTpid => u32::from(meta.vlan_tpid),
    }
}

/// Netlink attribute header length (`NLA_HDRLEN`).
const NLA_HDRLEN: usize = 4;

/// The kernel's `nla_find` over `packet[start..start + len]`: the offset in
/// `packet` of the first attribute whose type is `attrtype`, or 0. Lengths
/// and types are in host byte order, as netlink has them.
fn nla_find(packet: &[u8], start: usize, len: i64, attrtype: u32) -> u32 {
    let mut pos = start;
    let mut rem = len;
    while rem >= NLA_HDRLEN as i64 {
        let Some(hdr) = packet.get(pos..).and_then(|s| s.first_chunk::<4>()) else {
            return 0;
        };
        let nla_len = u16::from_ne_bytes([hdr[0], hdr[1]]);
        let nla_type = u16::from_ne_bytes([hdr[2], hdr[3]]) & 0x3fff;
        if usize::from(nla_len) < NLA_HDRLEN || i64::from(nla_len) > rem {
            return 0;
        }
        if u32::from(nla_type) == attrtype {
            return pos as u32;
        }
        let total = (usize::from(nla_len) + 3) & !3;
        rem -= total as i64;
        pos += total;
    }
    0
}

/// `SKF_AD_NLATTR`: find attribute type X among the attributes at offset A.
fn nlattr(packet: &[u8], a: u32, x: u32) -> u32 {
    let len = packet.len();
    if len < NLA_HDRLEN || a as usize > len - NLA_HDRLEN {
        return 0;
    }
    nla_find(packet, a as usize, (len - a as usize) as i64, x)
}

/// `SKF_AD_NLATTR_NEST`: find attribute type X inside the nested attribute
/// at offset A.
fn nlattr_nest(packet: &[u8], a: u32, x: u32) -> u32 {
    let len = packet.len();
    let a = a as usize;
    if len < NLA_HDRLEN || a > len - NLA_HDRLEN {
        return 0;
    }
    let Some(hdr) = packet.get(a..).and_then(|s| s.first_chunk::<2>()) else {
        return 0;
    };
    let nla_len = usize::from(u16::from_ne_bytes(*hdr));
    if nla_len > len - a {
        return 0;
    }
    nla_find(
        packet,
        a + NLA_HDRLEN,
        nla_len as i64 - NLA_HDRLEN as i64,
        x,
    )
}

/// Decodes a validated program. Targets fit in u16 (at most 4096
/// instructions).
fn decode(insns: &[Insn], semantics: Semantics) -> (Box<[Op]>, Box<[u32]>) {
    use insn::*;
    let kernel = semantics == Semantics::Kernel;
    let target = |pc: usize, off: u32| -> u16 { (pc as u64 + 1 + u64::from(off)) as u16 };
    let mut ops: Vec<Op> = insns
        .iter()
        .enumerate()
        .map(|(pc, ins)| {
            let k = ins.k;
            let jt = target(pc, u32::from(ins.jt));
            let jf = target(pc, u32::from(ins.jf));
            match ins.code {
                c if c & 0xe7 == LD | ABS => {
                    let size = match ins.size() {
                        W => 4,
                        H => 2,
                        _ => 1,
                    };
                    if kernel && k >= ancillary::OFF {
                        // Validated: a known offset.
                        Anc::from_k(k).map_or(Op::RetK(0), Op::LdAnc)
                    } else if kernel && (k as i32) < 0 {
                        Op::LdNeg { size, k }
                    } else {
                        match size {
                            4 => Op::LdAbsW(k),
                            2 => Op::LdAbsH(k),
                            _ => Op::LdAbsB(k),
                        }
                    }
                }
                c if c == LD | W | IND => Op::LdIndW(k),
                c if c == LD | H | IND => Op::LdIndH(k),
                c if c == LD | B | IND => Op::LdIndB(k),
                c if c == LDX | B | MSH => Op::LdxMsh(k),
                c if c == LD | W | LEN => Op::LdLen,
                c if c == LDX | W | LEN => Op::LdxLen,
                c if c == LD | IMM => Op::LdImm(k),
                c if c == LDX | IMM => Op::LdxImm(k),
                c if c == LD | MEM => Op::LdMem(k as u8),
                c if c == LDX | MEM => Op::LdxMem(k as u8),
                c if c == ST => Op::St(k as u8),
                c if c == STX => Op::Stx(k as u8),
                c if c == ALU | ADD | K => Op::AddK(k),
                c if c == ALU | SUB | K => Op::AddK(k.wrapping_neg()),
                c if c == ALU | MUL | K => Op::MulK(k),
                c if c == ALU | DIV | K => Op::DivK(k),
                c if c == ALU | MOD | K => Op::ModK(k),
                c if c == ALU | AND | K => Op::AndK(k),
                c if c == ALU | OR | K => Op::OrK(k),
                c if c == ALU | XOR | K => Op::XorK(k),
                c if c == ALU | LSH | K => Op::LshK(k),
                c if c == ALU | RSH | K => Op::RshK(k),
                c if c == ALU | ADD | X => Op::AddX,
                c if c == ALU | SUB | X => Op::SubX,
                c if c == ALU | MUL | X => Op::MulX,
                c if c == ALU | DIV | X => Op::DivX,
                c if c == ALU | MOD | X => Op::ModX,
                c if c == ALU | AND | X => Op::AndX,
                c if c == ALU | OR | X => Op::OrX,
                c if c == ALU | XOR | X => Op::XorX,
                c if c == ALU | LSH | X && kernel => Op::LshX,
                c if c == ALU | RSH | X && kernel => Op::RshX,
                c if c == ALU | LSH | X => Op::LshXPcap,
                c if c == ALU | RSH | X => Op::RshXPcap,
                c if c == ALU | NEG => Op::Neg,
                c if c == MISC | TAX => Op::Tax,
                c if c == MISC | TXA => Op::Txa,
                c if c == RET | K => Op::RetK(k),
                c if c == RET | A => Op::RetA,
                c if c == JMP | JA => Op::Ja(target(pc, k)),
                c if c == JMP | JEQ | K => Op::JeqK { k, jt, jf },
                c if c == JMP | JGT | K => Op::JgtK { k, jt, jf },
                c if c == JMP | JGE | K => Op::JgeK { k, jt, jf },
                c if c == JMP | JSET | K => Op::JsetK { k, jt, jf },
                c if c == JMP | JEQ | X => Op::JeqX { jt, jf },
                c if c == JMP | JGT | X => Op::JgtX { jt, jf },
                c if c == JMP | JGE | X => Op::JgeX { jt, jf },
                c if c == JMP | JSET | X => Op::JsetX { jt, jf },
                // Validation admits nothing else; reject if it ever did.
                _ => Op::RetK(0),
            }
        })
        .collect();
    fuse(&mut ops);
    let keys = sets(&mut ops);
    (ops.into_boxed_slice(), keys.into_boxed_slice())
}

/// Or-chains of `jeq` this long or longer become an [`Op::JeqSet`].
const MIN_SET: usize = 4;

/// Replaces the first entry of each or-chain of `jeq` with one common
/// target (a set test) by an [`Op::JeqSet`]; returns the sets' constants.
/// Runs after [`fuse`]: the entries of a set are plain `jeq`s or chains.
fn sets(ops: &mut [Op]) -> Vec<u32> {
    let jeq = |op: &Op| match *op {
        Op::JeqK { k, jt, jf } | Op::JeqChain { k, jt, jf, .. } => Some((k, jt, jf)),
        _ => None,
    };
    // run[j]: entries of the set that starts at j, from the back.
    let mut run = vec![0usize; ops.len() + 1];
    for j in (0..ops.len()).rev() {
        let Some((_, jt, jf)) = jeq(&ops[j]) else {
            continue;
        };
        let next = j + 1;
        let goes_on = usize::from(jf) == next
            && ops
                .get(next)
                .and_then(jeq)
                .is_some_and(|(_, jt2, _)| jt2 == jt);
        run[j] = if goes_on { 1 + run[next] } else { 1 };
    }
    let mut keys = Vec::new();
    let mut j = 0;
    while j < ops.len() {
        let len = run[j];
        let ends = (jeq(&ops[j]), ops.get(j + len.max(1) - 1).and_then(jeq));
        let (Some((_, jt, _)), Some((_, _, jf)), MIN_SET..) = (ends.0, ends.1, len) else {
            j += 1;
            continue;
        };
        // One copy of the run's constants; each entry that still has
        // MIN_SET to go becomes the set of the rest, for jumps that land
        // inside the run. The last few stay as they were.
        let start = keys.len();
        keys.extend(
            ops[j..j + len]
                .iter()
                .filter_map(|op| jeq(op).map(|(k, ..)| k)),
        );
        for m in 0..=len - MIN_SET {
            ops[j + m] = Op::JeqSet {
                start: (start + m) as u16,
                len: (len - m) as u16,
                jt,
                jf,
            };
        }
        j += len;
    }
    keys
}

/// Superinstructions. A fused op replaces only the first of its pair; the
/// second stays decoded at its own index for jumps that land on it, so no
/// target changes.
fn fuse(ops: &mut [Op]) {
    let plain: Vec<Op> = ops.to_vec();
    // A packet load or a mask followed by the test on it: the commonest
    // pairs in compiled filters.
    for pc in 0..plain.len().saturating_sub(1) {
        let fused = match (plain[pc], plain[pc + 1]) {
            (Op::LdAbsH(off), Op::JeqK { k, jt, jf }) => Op::LdhJeq { off, k, jt, jf },
            (Op::LdAbsB(off), Op::JeqK { k, jt, jf }) => Op::LdbJeq { off, k, jt, jf },
            (Op::LdAbsW(off), Op::JeqK { k, jt, jf }) => Op::LdJeq { off, k, jt, jf },
            (Op::LdIndH(off), Op::JeqK { k, jt, jf }) => Op::LdIndHJeq { off, k, jt, jf },
            (Op::LdIndB(off), Op::JeqK { k, jt, jf }) => Op::LdIndBJeq { off, k, jt, jf },
            (Op::LdAbsH(off), Op::JsetK { k, jt, jf }) => Op::LdhJset { off, k, jt, jf },
            (Op::LdIndB(off), Op::JsetK { k, jt, jf }) => Op::LdIndBJset { off, k, jt, jf },
            (Op::AndK(mask), Op::JeqK { k, jt, jf }) => Op::AndJeq { mask, k, jt, jf },
            _ => continue,
        };
        ops[pc] = fused;
    }
    // Chains of `jeq`, from the back: run[j] entries start at j.
    let mut run = vec![0usize; plain.len() + 1];
    for j in (0..plain.len()).rev() {
        if let Op::JeqK { jt, jf, .. } = plain[j] {
            let next = j + 1;
            let links = usize::from(jt) == next || usize::from(jf) == next;
            let more = matches!(plain.get(next), Some(Op::JeqK { .. }));
            run[j] = if links && more { 1 + run[next] } else { 1 };
        }
    }
    for j in 0..plain.len() {
        if let (Op::JeqK { k, jt, jf }, 2..) = (ops[j], run[j]) {
            let len = run[j].min(usize::from(u8::MAX)) as u8;
            ops[j] = Op::JeqChain { k, jt, jf, len };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::asm::asm;
    use crate::insn::*;

    /// Runs `text` (the `-d` form) with the given semantics.
    fn run_as(sem: Semantics, text: &str, pkt: &[u8], wire_len: u32, meta: &Meta) -> u32 {
        let prog = Program::with_semantics(asm(text).expect("assembles"), sem).expect("valid");
        prog.run(pkt, wire_len, meta)
    }

    /// Runs `text` with both semantics and checks they agree.
    fn run(text: &str, pkt: &[u8]) -> u32 {
        let m = Meta::default();
        let k = run_as(Semantics::Kernel, text, pkt, pkt.len() as u32, &m);
        let p = run_as(Semantics::Libpcap, text, pkt, pkt.len() as u32, &m);
        assert_eq!(k, p, "kernel and libpcap disagree on {text:?}");
        k
    }

    const PKT: [u8; 8] = [0x01, 0x02, 0x03, 0x04, 0x85, 0x06, 0x07, 0x08];

    #[test]
    fn absolute_loads() {
        assert_eq!(run("ld [0]\nret a", &PKT), 0x0102_0304);
        assert_eq!(run("ld [4]\nret a", &PKT), 0x8506_0708);
        assert_eq!(run("ld [5]\nret a", &PKT), 0);
        assert_eq!(run("ldh [6]\nret a", &PKT), 0x0708);
        assert_eq!(run("ldh [7]\nret a", &PKT), 0);
        assert_eq!(run("ldb [7]\nret a", &PKT), 0x08);
        assert_eq!(run("ldb [8]\nret a", &PKT), 0);
        assert_eq!(run("ldb [0]\nret a", &[]), 0);
        // A failing load returns 0 even when A already held a value.
        assert_eq!(run("ld #7\nldb [100]\nret #5", &PKT), 0);
        assert_eq!(run("ld [-4097]\nret #1", &PKT), 0);
    }

    #[test]
    fn indirect_loads() {
        assert_eq!(run("ldx #2\nld [x + 2]\nret a", &PKT), 0x8506_0708);
        assert_eq!(run("ldx #2\nld [x + 3]\nret a", &PKT), 0);
        assert_eq!(run("ldx #6\nldh [x + 0]\nret a", &PKT), 0x0708);
        assert_eq!(run("ldx #7\nldh [x + 0]\nret a", &PKT), 0);
        assert_eq!(run("ldx #3\nldb [x + 4]\nret a", &PKT), 0x08);
        assert_eq!(run("ldx #4\nldb [x + 4]\nret a", &PKT), 0);
    }

    #[test]
    fn msh_len_imm_mem() {
        assert_eq!(run("ldxb 4*([4]&0xf)\ntxa\nret a", &PKT), 20);
        assert_eq!(run("ldxb 4*([8]&0xf)\nret #1", &PKT), 0);
        let m = Meta::default();
        for sem in [Semantics::Kernel, Semantics::Libpcap] {
            assert_eq!(run_as(sem, "ld #pktlen\nret a", &PKT, 1500, &m), 1500);
            assert_eq!(run_as(sem, "ldx #pktlen\ntxa\nret a", &PKT, 9000, &m), 9000);
        }
        assert_eq!(run("ld #0xdeadbeef\nret a", &PKT), 0xdead_beef);
        assert_eq!(run("ldx #77\ntxa\nret a", &PKT), 77);
        assert_eq!(
            run(
                "ld #5\nst M[15]\nldx #9\nstx M[0]\nld M[0]\nldx M[15]\nadd x\nret a",
                &PKT
            ),
            14
        );
        assert_eq!(run("ld #3\ntax\nld #0\ntxa\nret a", &PKT), 3);
    }

    #[test]
    fn alu_with_constants() {
        let cases: [(&str, u32, u32); 13] = [
            ("add #5", 7, 12),
            ("add #-1", 7, 6),
            ("sub #9", 7, u32::MAX - 1),
            ("mul #0x10000", 0x10001, 0x10000),
            ("div #2", 7, 3),
            ("mod #4", 7, 3),
            ("and #0xf0", 0xabcd, 0xc0),
            ("or #0x100", 7, 0x107),
            ("xor #5", 7, 2),
            ("lsh #31", 3, 0x8000_0000),
            ("rsh #31", 0x8000_0000, 1),
            ("lsh #0", 3, 3),
            ("neg", 1, u32::MAX),
        ];
        for (op, a, want) in cases {
            assert_eq!(run(&format!("ld #{a}\n{op}\nret a"), &PKT), want, "{op}");
        }
    }

    #[test]
    fn alu_with_x() {
        let cases: [(&str, u32, u32, u32); 11] = [
            ("add x", 7, 5, 12),
            ("sub x", 5, 7, u32::MAX - 1),
            ("mul x", 0x8000_0000, 2, 0),
            ("div x", 100, 7, 14),
            ("mod x", 100, 7, 2),
            ("and x", 0xff00, 0x0ff0, 0x0f00),
            ("or x", 0xff00, 0x0ff0, 0xfff0),
            ("xor x", 0xff00, 0x0ff0, 0xf0f0),
            ("lsh x", 1, 31, 0x8000_0000),
            ("rsh x", 0x8000_0000, 4, 0x0800_0000),
            ("rsh x", 5, 0, 5),
        ];
        for (op, a, x, want) in cases {
            let text = format!("ldx #{x}\nld #{a}\n{op}\nret a");
            assert_eq!(run(&text, &PKT), want, "{op} {a} {x}");
        }
        // Division and modulo by an X of 0 reject, whatever the return.
        assert_eq!(run("ld #5\ndiv x\nret #9", &PKT), 0);
        assert_eq!(run("ld #5\nmod x\nret #9", &PKT), 0);
    }

    #[test]
    fn shifts_by_x_of_32_and_more() {
        let m = Meta::default();
        for (text, kernel, pcap) in [
            ("ldx #32\nld #3\nlsh x\nret a", 3, 0),
            ("ldx #33\nld #3\nlsh x\nret a", 6, 0),
            ("ldx #36\nld #0x80\nrsh x\nret a", 8, 0),
            ("ldx #0xffffffff\nld #0x80000000\nrsh x\nret a", 1, 0),
        ] {
            assert_eq!(
                run_as(Semantics::Kernel, text, &PKT, 8, &m),
                kernel,
                "{text}"
            );
            assert_eq!(
                run_as(Semantics::Libpcap, text, &PKT, 8, &m),
                pcap,
                "{text}"
            );
        }
    }

    #[test]
    fn indirect_offsets_that_wrap() {
        let m = Meta::default();
        // X + k = 2^32 + 1: the kernel loads byte 1, libpcap rejects.
        let text = "ldx #0xffffffff\nldb [x + 2]\nret a";
        assert_eq!(run_as(Semantics::Kernel, text, &PKT, 8, &m), 0x02);
        assert_eq!(run_as(Semantics::Libpcap, text, &PKT, 8, &m), 0);
        let text = "ldx #0xfffffffe\nldh [x + 4]\nret a";
        assert_eq!(run_as(Semantics::Kernel, text, &PKT, 8, &m), 0x0304);
        let text = "ldx #0xfffffffc\nld [x + 4]\nret a";
        assert_eq!(run_as(Semantics::Kernel, text, &PKT, 8, &m), 0x0102_0304);
        assert_eq!(run_as(Semantics::Libpcap, text, &PKT, 8, &m), 0);
    }

    #[test]
    fn link_and_network_offsets() {
        let mut m = Meta::default();
        let ll = ancillary::LL_OFF;
        let net = ancillary::NET_OFF;
        let text = format!("ldb [{}]\nret a", ll as i32 + 4);
        assert_eq!(run_as(Semantics::Kernel, &text, &PKT, 8, &m), 0x85);
        assert_eq!(run_as(Semantics::Libpcap, &text, &PKT, 8, &m), 0);
        let text = format!("ldh [{}]\nret a", net as i32 + 1);
        // No network header known: the load fails.
        assert_eq!(run_as(Semantics::Kernel, &text, &PKT, 8, &m), 0);
        m.net_offset = Some(4);
        assert_eq!(run_as(Semantics::Kernel, &text, &PKT, 8, &m), 0x0607);
        m.net_offset = Some(7);
        assert_eq!(run_as(Semantics::Kernel, &text, &PKT, 8, &m), 0);
        m.net_offset = Some(4);
        // Indirect and `ldxb` loads reach the same ranges in the kernel.
        let text = format!("ldx #{}\nld [x + 0]\nret a", net);
        assert_eq!(run_as(Semantics::Kernel, &text, &PKT, 8, &m), 0x8506_0708);
        let text = format!("ldxb 4*([{}]&0xf)\ntxa\nret a", ll as i32 + 4);
        assert_eq!(run_as(Semantics::Kernel, &text, &PKT, 8, &m), 20);
        assert_eq!(run_as(Semantics::Libpcap, &text, &PKT, 8, &m), 0);
        // Below SKF_LL_OFF nothing is readable.
        let text = format!("ldb [{}]\nret #1", ll as i32 - 1);
        assert_eq!(run_as(Semantics::Kernel, &text, &PKT, 8, &m), 0);
    }

    #[test]
    fn ancillary_loads() {
        let m = Meta {
            protocol: 0x86dd,
            pkttype: 0xfc,
            ifindex: 7,
            mark: 0xdead_beef,
            queue: 3,
            hatype: 1,
            rxhash: 0x1234_5678,
            cpu: 2,
            vlan_tci: Some(0xf064),
            vlan_tpid: 0x88a8,
            pay_offset: 54,
            random: 42,
            net_offset: Some(14),
        };
        let k = |text: &str, meta: &Meta| run_as(Semantics::Kernel, text, &PKT, 8, meta);
        for size in ["ld", "ldh", "ldb"] {
            // The full value, whatever the load size.
            let expect = [
                ("proto", 0x86dd),
                ("type", 4),
                ("ifidx", 7),
                ("mark", 0xdead_beef),
                ("queue", 3),
                ("hatype", 1),
                ("rxhash", 0x1234_5678),
                ("cpu", 2),
                ("vlan_tci", 0xf064),
                ("vlanp", 1),
                ("poff", 54),
                ("random", 42),
                ("vlan_tpid", 0x88a8),
            ];
            for (name, want) in expect {
                let text = format!("{size} [{name}]\nret a");
                assert_eq!(k(&text, &m), want, "{text}");
                // libpcap's bpf_filter rejects every ancillary load.
                assert_eq!(run_as(Semantics::Libpcap, &text, &PKT, 8, &m), 0, "{text}");
            }
        }
        assert_eq!(k("ldb [vlanp]\nret a", &Meta::default()), 0);
        assert_eq!(k("ldb [vlan_tci]\nret a", &Meta::default()), 0);
        assert_eq!(k("ld #0xff00\nldx #0x0ff0\nld [xor_x]\nret a", &m), 0xf0f0);
    }

    #[test]
    fn netlink_attribute_search() {
        // Two attributes: type 1 (len 5, padded to 8), type 0x4002 (nested
        // flag set; len 12) holding one attribute of type 3 (len 8).
        let mut pkt = Vec::new();
        let attr = |len: u16, ty: u16| {
            let mut v = len.to_ne_bytes().to_vec();
            v.extend_from_slice(&ty.to_ne_bytes());
            v
        };
        pkt.extend(attr(5, 1));
        pkt.extend([0xaa, 0, 0, 0]);
        pkt.extend(attr(12, 0x4002));
        pkt.extend(attr(8, 3));
        pkt.extend([1, 2, 3, 4]);
        let k = |text: &str| run_as(Semantics::Kernel, text, &pkt, 20, &Meta::default());
        assert_eq!(k("ld #0\nldx #1\nld [nla]\nret a"), 0);
        assert_eq!(k("ld #0\nldx #2\nld [nla]\nret a"), 8);
        assert_eq!(k("ld #0\nldx #3\nld [nla]\nret a"), 0);
        assert_eq!(k("ld #0\nldx #9\nld [nla]\nret a"), 0);
        assert_eq!(k("ld #8\nldx #3\nld [nlan]\nret a"), 12);
        assert_eq!(k("ld #8\nldx #4\nld [nlan]\nret a"), 0);
        // A past the last header: 0.
        assert_eq!(k("ld #17\nldx #3\nld [nla]\nret a"), 0);
        assert_eq!(k("ld #0xffffffff\nldx #3\nld [nlan]\nret a"), 0);
    }

    #[test]
    fn jumps() {
        for (op, a, x, taken) in [
            ("jeq #5", 5, 0, true),
            ("jeq #5", 6, 0, false),
            ("jgt #5", 6, 0, true),
            ("jgt #5", 5, 0, false),
            ("jge #5", 5, 0, true),
            ("jge #5", 4, 0, false),
            ("jset #0x10", 0x30, 0, true),
            ("jset #0x10", 0x20, 0, false),
            ("jeq x", 9, 9, true),
            ("jeq x", 9, 8, false),
            ("jgt x", 0xffff_ffff_u32, 8, true),
            ("jgt x", 8, 8, false),
            ("jge x", 8, 8, true),
            ("jge x", 7, 8, false),
            ("jset x", 6, 2, true),
            ("jset x", 6, 1, false),
        ] {
            let text = format!("ldx #{x}\nld #{a}\n{op} jt 3 jf 4\nret #1\nret #2");
            assert_eq!(run(&text, &PKT), if taken { 1 } else { 2 }, "{op} {a} {x}");
        }
        assert_eq!(run("ja 2\nret #1\nret #2", &PKT), 2);
        assert_eq!(run("ja 1\nret #1\nret #2", &PKT), 1);
    }

    #[test]
    fn fused_pairs_keep_jump_targets() {
        // (1) is both the fall-through of a fused `ldh`+`jeq` and the
        // target of (3)'s jump.
        let text =
            "ldh [0]\njeq #0x102 jt 2 jf 3\nret #1\nldh [2]\njeq #0x304 jt 5 jf 6\nret #2\nret #3";
        assert_eq!(run(text, &PKT), 1);
        let text2 =
            "ldh [2]\njeq #0x999 jt 6 jf 2\nldh [0]\njeq #0x102 jt 4 jf 5\nret #1\nret #2\nret #3";
        assert_eq!(run(text2, &PKT), 1);
        assert_eq!(run("ldb [1]\njeq #2 jt 2 jf 3\nret #1\nret #0", &PKT), 1);
        assert_eq!(run("ldb [1]\njeq #2 jt 2 jf 3\nret #0\nret #1", &PKT), 0);
        assert_eq!(
            run("ld [0]\njeq #0x1020304 jt 2 jf 3\nret #7\nret #0", &PKT),
            7
        );
        // A fused load that fails still rejects.
        assert_eq!(run("ld [6]\njeq #0 jt 2 jf 3\nret #7\nret #8", &PKT), 0);
        let prog = Program::new(asm("ldh [0]\njeq #1 jt 2 jf 3\nret #1\nret #0").unwrap()).unwrap();
        assert!(matches!(prog.ops[0], Op::LdhJeq { .. }));
        assert!(matches!(prog.ops[1], Op::JeqK { .. }));
    }

    #[test]
    fn jeq_chains() {
        // An or-chain over ld [0] (0x01020304), entered at its head or in
        // its middle.
        let n = 300; // longer than one chain op holds
        let chain = |first: &str| {
            let mut text = format!("ld [0]\n{first}\n");
            for i in 0..n {
                // Two entries match: one early (which skips the next entry
                // and re-enters the chain), and the last (accept).
                let k = if i == 10 || i == n - 1 {
                    0x0102_0304
                } else {
                    1000 + i
                };
                let jt = if i + 256 >= n { n + 2 } else { i + 4 };
                let jf = if i == n - 1 { n + 3 } else { i + 3 };
                text.push_str(&format!("jeq #{k} jt {jt} jf {jf}\n"));
            }
            text + "ret #1\nret #2\n"
        };
        let head = chain("jeq #9 jt 200 jf 2");
        assert_eq!(run(&head, &PKT), 1);
        let middle = chain("jeq #0x1020304 jt 200 jf 2");
        assert_eq!(run(&middle, &PKT), 1);
        let miss = head.replace(
            &format!("#16909060 jt {} jf {}", n + 2, n + 3),
            "#7 jt 302 jf 303",
        );
        assert_eq!(run(&miss, &PKT), 2);
        let prog = Program::new(asm(&head).unwrap()).unwrap();
        assert!(matches!(prog.ops[2], Op::JeqChain { len: 255, .. }));
        // From the 45th entry on every entry jumps to the same accept: a
        // set, down to its last MIN_SET - 1 entries.
        assert!(matches!(prog.ops[45], Op::JeqChain { .. }));
        assert!(matches!(prog.ops[46], Op::JeqSet { len: 256, .. }));
        assert!(matches!(prog.ops[298], Op::JeqSet { len: 4, .. }));
        assert!(matches!(prog.ops[299], Op::JeqChain { len: 3, .. }));
        // An and-chain: every test must hold.
        let and = "ldb [1]\njeq #2 jt 2 jf 5\njeq #2 jt 3 jf 5\njeq #2 jt 4 jf 5\nret #1\nret #0";
        assert_eq!(run(and, &PKT), 1);
        let and = "ldb [1]\njeq #2 jt 2 jf 5\njeq #3 jt 3 jf 5\njeq #2 jt 4 jf 5\nret #1\nret #0";
        assert_eq!(run(and, &PKT), 0);
        // Mixed: the chain ends where neither target is the next entry.
        let mixed = "ld #5\njeq #1 jt 4 jf 2\njeq #5 jt 3 jf 5\njeq #5 jt 5 jf 4\nret #1\nret #2";
        assert_eq!(run(mixed, &PKT), 2);
    }

    #[test]
    fn jeq_sets() {
        // ld [0] is 0x01020304; a set of 6 constants at 1..=6, entered at
        // its head (from 0) or in its middle (from the jeq before it, when
        // that matches).
        let set = |keys: [u32; 6], pre: u32| {
            let mut text = format!("ld [0]\njeq #{pre} jt 5 jf 2\n");
            for (i, k) in keys.iter().enumerate() {
                let jf = if i == 5 { 9 } else { i + 3 };
                text.push_str(&format!("jeq #{k} jt 8 jf {jf}\n"));
            }
            text + "ret #1\nret #2\n"
        };
        let hit = 0x0102_0304;
        let cases = [
            ([hit, 2, 3, 4, 5, 6], 0, 1),
            ([1, 2, 3, 4, 5, hit], 0, 1),
            ([1, 2, 3, 4, 5, 6], 0, 2),
            // Entered at the fourth entry: the earlier ones do not count.
            ([hit, 2, 3, 4, 5, 6], hit, 2),
            ([1, 2, 3, 4, hit, 6], hit, 1),
        ];
        for (keys, pre, want) in cases {
            let text = set(keys, pre);
            assert_eq!(run(&text, &PKT), want, "{text}");
            let prog = Program::new(asm(&text).unwrap()).unwrap();
            assert!(matches!(
                prog.ops[2],
                Op::JeqSet {
                    len: 6,
                    jt: 8,
                    jf: 9,
                    ..
                }
            ));
            assert!(matches!(prog.ops[4], Op::JeqSet { len: 4, .. }));
            assert!(matches!(prog.ops[5], Op::JeqChain { len: 3, .. }));
        }
        // Targets that differ make no set.
        let text = set([1, 2, 3, 4, 5, 6], 0).replace("jeq #3 jt 8", "jeq #3 jt 9");
        let prog = Program::new(asm(&text).unwrap()).unwrap();
        assert!(prog.ops.iter().all(|op| !matches!(op, Op::JeqSet { .. })));
    }

    #[test]
    fn returns_and_api() {
        let prog = Program::new(asm("ret #-1").unwrap()).unwrap();
        assert_eq!(prog.run(&[], 0, &Meta::default()), u32::MAX);
        assert!(prog.matches(&[], 0, &Meta::default()));
        assert_eq!(prog.len(), 1);
        assert!(!prog.is_empty());
        assert_eq!(prog.insns(), &[Insn::stmt(RET | K, u32::MAX)]);
        assert_eq!(prog.semantics(), Semantics::Kernel);
        let prog = Program::new(asm("ret #0").unwrap()).unwrap();
        assert!(!prog.matches(&PKT, 8, &Meta::default()));
        assert!(Program::new(vec![]).is_err());
        let libpcap = prog.to_semantics(Semantics::Libpcap);
        assert_eq!(libpcap.semantics(), Semantics::Libpcap);
        assert_eq!(libpcap.insns(), prog.insns());
    }

    #[test]
    fn op_stays_small() {
        assert!(
            std::mem::size_of::<Op>() <= 16,
            "{}",
            std::mem::size_of::<Op>()
        );
    }
}
