//! One classic BPF instruction (`struct sock_filter`) and the opcode
//! constants of `<linux/filter.h>` / `<pcap/bpf.h>`.

/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`
/// and libpcap's `struct bpf_insn`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Insn {
    /// Opcode: class | size | mode, or class | op | source.
    pub code: u16,
    /// Jump offset if true (conditional jumps only).
    pub jt: u8,
    /// Jump offset if false (conditional jumps only).
    pub jf: u8,
    /// Generic field: constant, offset, or jump offset for `ja`.
    pub k: u32,
}

impl Insn {
    /// A non-jump instruction.
    pub const fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// A conditional jump.
    pub const fn jump(code: u16, k: u32, jt: u8, jf: u8) -> Insn {
        Insn { code, jt, jf, k }
    }

    /// The instruction class (`code & 0x07`).
    pub const fn class(self) -> u16 {
        self.code & 0x07
    }

    /// The load size (`code & 0x18`), for loads.
    pub const fn size(self) -> u16 {
        self.code & 0x18
    }

    /// The addressing mode (`code & 0xe0`), for loads.
    pub const fn mode(self) -> u16 {
        self.code & 0xe0
    }

    /// The operation (`code & 0xf0`), for ALU and jump instructions.
    pub const fn op(self) -> u16 {
        self.code & 0xf0
    }

    /// The operand source (`code & 0x08`): [`K`] or [`X`].
    pub const fn src(self) -> u16 {
        self.code & 0x08
    }

    /// Whether the instruction reads its `k` field: false for `ret a`,
    /// `neg`, `tax`, `txa`, the length loads and the ALU and jump
    /// instructions on X. Unknown opcodes count as using it.
    pub const fn uses_k(self) -> bool {
        let c = self.code;
        !(c == RET | A
            || c == ALU | NEG
            || c == MISC | TAX
            || c == MISC | TXA
            || c == LD | W | LEN
            || c == LDX | W | LEN
            || ((c & 0x07 == ALU || (c & 0x07 == JMP && c & 0xf0 != JA)) && c & X != 0))
    }

    /// The same instruction with the fields it does not read set to 0
    /// (compilers sometimes leave values there; the `-d` text drops
    /// them). Unknown opcodes are kept as they are.
    pub const fn canonical(self) -> Insn {
        if !crate::validate::kernel_knows_opcode(self.code) {
            return self;
        }
        let k = if self.uses_k() { self.k } else { 0 };
        if self.is_conditional_jump() {
            Insn::jump(self.code, k, self.jt, self.jf)
        } else {
            Insn::stmt(self.code, k)
        }
    }

    /// Whether this is a conditional jump (`jeq`, `jgt`, `jge`, `jset`):
    /// the instructions whose `jt` and `jf` fields are used.
    pub const fn is_conditional_jump(self) -> bool {
        self.class() == JMP && self.op() != JA
    }
}

// Instruction classes.
/// Load into A.
pub const LD: u16 = 0x00;
/// Load into X.
pub const LDX: u16 = 0x01;
/// Store A into scratch memory.
pub const ST: u16 = 0x02;
/// Store X into scratch memory.
pub const STX: u16 = 0x03;
/// Arithmetic and logic on A.
pub const ALU: u16 = 0x04;
/// Jumps.
pub const JMP: u16 = 0x05;
/// Return.
pub const RET: u16 = 0x06;
/// Register transfers.
pub const MISC: u16 = 0x07;

// Load sizes.
/// 32-bit word.
pub const W: u16 = 0x00;
/// 16-bit half word.
pub const H: u16 = 0x08;
/// 8-bit byte.
pub const B: u16 = 0x10;

// Load modes.
/// Immediate constant.
pub const IMM: u16 = 0x00;
/// Absolute packet offset.
pub const ABS: u16 = 0x20;
/// Packet offset relative to X.
pub const IND: u16 = 0x40;
/// Scratch memory.
pub const MEM: u16 = 0x60;
/// Packet length.
pub const LEN: u16 = 0x80;
/// `4 * (P[k] & 0xf)`: the IPv4 header length idiom (`ldxb 4*([k]&0xf)`).
pub const MSH: u16 = 0xa0;

// ALU and jump operations.
/// A + src.
pub const ADD: u16 = 0x00;
/// A - src.
pub const SUB: u16 = 0x10;
/// A * src.
pub const MUL: u16 = 0x20;
/// A / src.
pub const DIV: u16 = 0x30;
/// A | src.
pub const OR: u16 = 0x40;
/// A & src.
pub const AND: u16 = 0x50;
/// A << src.
pub const LSH: u16 = 0x60;
/// A >> src.
pub const RSH: u16 = 0x70;
/// -A.
pub const NEG: u16 = 0x80;
/// A % src.
pub const MOD: u16 = 0x90;
/// A ^ src.
pub const XOR: u16 = 0xa0;

/// Unconditional jump by k.
pub const JA: u16 = 0x00;
/// Jump if A == src.
pub const JEQ: u16 = 0x10;
/// Jump if A > src (unsigned).
pub const JGT: u16 = 0x20;
/// Jump if A >= src (unsigned).
pub const JGE: u16 = 0x30;
/// Jump if A & src != 0.
pub const JSET: u16 = 0x40;

// Sources.
/// The constant k.
pub const K: u16 = 0x00;
/// The X register.
pub const X: u16 = 0x08;
/// Return A (for `RET`).
pub const A: u16 = 0x10;

// MISC operations.
/// X = A.
pub const TAX: u16 = 0x00;
/// A = X.
pub const TXA: u16 = 0x80;

/// Number of scratch memory words (`BPF_MEMWORDS`).
pub const MEMWORDS: u32 = 16;
/// The largest program the kernel accepts (`BPF_MAXINSNS`).
pub const MAXINSNS: usize = 4096;

/// Offsets of the Linux ancillary data loads (`SKF_AD_OFF + SKF_AD_*`).
pub mod ancillary {
    /// Base of the ancillary area (`SKF_AD_OFF`, i.e. -0x1000 as u32).
    pub const OFF: u32 = 0xffff_f000;
    /// `skb->protocol` (the EtherType, host order after ntohs).
    pub const PROTOCOL: u32 = OFF;
    /// `skb->pkt_type` (PACKET_HOST, PACKET_OUTGOING, …).
    pub const PKTTYPE: u32 = OFF + 4;
    /// `skb->dev->ifindex`.
    pub const IFINDEX: u32 = OFF + 8;
    /// Netlink attribute search.
    pub const NLATTR: u32 = OFF + 12;
    /// Nested netlink attribute search.
    pub const NLATTR_NEST: u32 = OFF + 16;
    /// `skb->mark`.
    pub const MARK: u32 = OFF + 20;
    /// `skb->queue_mapping`.
    pub const QUEUE: u32 = OFF + 24;
    /// `skb->dev->type` (ARPHRD_*).
    pub const HATYPE: u32 = OFF + 28;
    /// `skb->rxhash`.
    pub const RXHASH: u32 = OFF + 32;
    /// Current CPU.
    pub const CPU: u32 = OFF + 36;
    /// XOR of A and X.
    pub const ALU_XOR_X: u32 = OFF + 40;
    /// VLAN TCI (without the present bit).
    pub const VLAN_TAG: u32 = OFF + 44;
    /// 1 if a VLAN tag was stripped into metadata.
    pub const VLAN_TAG_PRESENT: u32 = OFF + 48;
    /// `skb->len` at the point of the payload offset.
    pub const PAY_OFFSET: u32 = OFF + 52;
    /// A random number.
    pub const RANDOM: u32 = OFF + 56;
    /// VLAN TPID.
    pub const VLAN_TPID: u32 = OFF + 60;
    /// End of the ancillary area (`SKF_AD_OFF + SKF_AD_MAX`).
    pub const END: u32 = OFF + 64;

    /// Packet loads at `LL_OFF + n` read byte `n` from the link-layer
    /// header on (`SKF_LL_OFF`, i.e. -0x200000 as u32).
    pub const LL_OFF: u32 = 0xffe0_0000;
    /// Packet loads at `NET_OFF + n` read byte `n` from the network-layer
    /// header on (`SKF_NET_OFF`, i.e. -0x100000 as u32).
    pub const NET_OFF: u32 = 0xfff0_0000;

    /// Every ancillary offset the kernel knows, with the name libpcap's
    /// disassembler prints for it (`ldb [vlanp]`).
    pub const ALL: [(u32, &str); 16] = [
        (PROTOCOL, "proto"),
        (PKTTYPE, "type"),
        (IFINDEX, "ifidx"),
        (NLATTR, "nla"),
        (NLATTR_NEST, "nlan"),
        (MARK, "mark"),
        (QUEUE, "queue"),
        (HATYPE, "hatype"),
        (RXHASH, "rxhash"),
        (CPU, "cpu"),
        (ALU_XOR_X, "xor_x"),
        (VLAN_TAG, "vlan_tci"),
        (VLAN_TAG_PRESENT, "vlanp"),
        (PAY_OFFSET, "poff"),
        (RANDOM, "random"),
        (VLAN_TPID, "vlan_tpid"),
    ];

    /// The libpcap name of a known ancillary offset (`vlan_tci` for
    /// [`VLAN_TAG`]), or `None` if `k` is not one.
    pub fn name(k: u32) -> Option<&'static str> {
        ALL.iter()
            .find(|&&(off, _)| off == k)
            .map(|&(_, name)| name)
    }

    /// The offset of an ancillary name as libpcap prints it (`vlanp`).
    pub fn from_name(name: &str) -> Option<u32> {
        ALL.iter().find(|&&(_, n)| n == name).map(|&(off, _)| off)
    }

    /// Whether `k` is an ancillary offset the kernel accepts.
    pub fn is_known(k: u32) -> bool {
        name(k).is_some()
    }
}
