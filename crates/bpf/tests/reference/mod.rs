//! A naive reference interpreter: reads the raw instructions on every
//! step, as the kernel's classic interpreter and libpcap's `bpf_filter`
//! were written, with none of the decoding, fusing or fast paths of
//! `Program::run`. Tests and the `bpf_vm` fuzz target compare the two.
#![allow(dead_code)]

use sluice_bpf::insn::{self, Insn, ancillary};
use sluice_bpf::{Meta, Semantics};

fn bytes(p: &[u8], off: u64, n: u64) -> Option<u32> {
    let end = off.checked_add(n)?;
    if end > p.len() as u64 {
        return None;
    }
    let mut v = 0u32;
    for i in off..end {
        v = (v << 8) | u32::from(p[i as usize]);
    }
    Some(v)
}

fn size_of(code: u16) -> u64 {
    match code & 0x18 {
        insn::W => 4,
        insn::H => 2,
        _ => 1,
    }
}

/// The kernel's load at a signed 32-bit offset (non-negative: packet;
/// negative: the SKF_NET_OFF / SKF_LL_OFF ranges).
fn kernel_load(p: &[u8], meta: &Meta, off: i32, n: u64) -> Option<u32> {
    if off >= 0 {
        bytes(p, off as u64, n)
    } else if off >= ancillary::NET_OFF as i32 {
        let base = u64::from(meta.net_offset?);
        bytes(
            p,
            base + (i64::from(off) - i64::from(ancillary::NET_OFF as i32)) as u64,
            n,
        )
    } else if off >= ancillary::LL_OFF as i32 {
        bytes(
            p,
            (i64::from(off) - i64::from(ancillary::LL_OFF as i32)) as u64,
            n,
        )
    } else {
        None
    }
}

fn read_ne16(p: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_ne_bytes([*p.get(off)?, *p.get(off + 1)?]))
}

/// `nla_find` as in lib/nlattr.c.
fn nla_find(p: &[u8], head: usize, len: i64, ty: u32) -> u32 {
    let mut pos = head;
    let mut rem = len;
    loop {
        if rem < 4 {
            return 0;
        }
        let (Some(l), Some(t)) = (read_ne16(p, pos), read_ne16(p, pos + 2)) else {
            return 0;
        };
        if l < 4 || i64::from(l) > rem {
            return 0;
        }
        if u32::from(t & 0x3fff) == ty {
            return pos as u32;
        }
        let total = (i64::from(l) + 3) & !3;
        rem -= total;
        pos += total as usize;
    }
}

fn anc(k: u32, a: u32, x: u32, p: &[u8], m: &Meta) -> u32 {
    let len = p.len() as u64;
    match k {
        ancillary::PROTOCOL => u32::from(m.protocol),
        ancillary::PKTTYPE => u32::from(m.pkttype) & 7,
        ancillary::IFINDEX => m.ifindex,
        ancillary::NLATTR => {
            if len < 4 || u64::from(a) > len - 4 {
                0
            } else {
                nla_find(p, a as usize, len as i64 - i64::from(a), x)
            }
        }
        ancillary::NLATTR_NEST => {
            if len < 4 || u64::from(a) > len - 4 {
                return 0;
            }
            let Some(l) = read_ne16(p, a as usize) else {
                return 0;
            };
            if u64::from(l) > len - u64::from(a) {
                return 0;
            }
            nla_find(p, a as usize + 4, i64::from(l) - 4, x)
        }
        ancillary::MARK => m.mark,
        ancillary::QUEUE => u32::from(m.queue),
        ancillary::HATYPE => u32::from(m.hatype),
        ancillary::RXHASH => m.rxhash,
        ancillary::CPU => m.cpu,
        ancillary::ALU_XOR_X => a ^ x,
        ancillary::VLAN_TAG => u32::from(m.vlan_tci.unwrap_or(0)),
        ancillary::VLAN_TAG_PRESENT => u32::from(m.vlan_tci.is_some()),
        ancillary::PAY_OFFSET => m.pay_offset,
        ancillary::RANDOM => m.random,
        ancillary::VLAN_TPID => u32::from(m.vlan_tpid),
        _ => unreachable!("validated"),
    }
}

/// Runs a program that passed the kernel's checks.
pub fn run(prog: &[Insn], sem: Semantics, p: &[u8], wire_len: u32, m: &Meta) -> u32 {
    use insn::*;
    let kernel = sem == Semantics::Kernel;
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    loop {
        let i = prog[pc];
        let k = i.k;
        pc += 1;
        let src = if i.code & X != 0 { x } else { k };
        match i.code {
            c if c & 0xe7 == LD | ABS => {
                let n = size_of(c);
                let v = if kernel && k >= ancillary::OFF {
                    Some(anc(k, a, x, p, m))
                } else if kernel {
                    kernel_load(p, m, k as i32, n)
                } else {
                    bytes(p, u64::from(k), n)
                };
                match v {
                    Some(v) => a = v,
                    None => return 0,
                }
            }
            c if c & 0xe7 == LD | IND => {
                let n = size_of(c);
                let v = if kernel {
                    kernel_load(p, m, x.wrapping_add(k) as i32, n)
                } else {
                    bytes(p, u64::from(x) + u64::from(k), n)
                        .filter(|_| u64::from(x) + u64::from(k) <= u64::from(u32::MAX))
                };
                match v {
                    Some(v) => a = v,
                    None => return 0,
                }
            }
            c if c == LDX | MSH | B => {
                let v = if kernel {
                    kernel_load(p, m, k as i32, 1)
                } else {
                    bytes(p, u64::from(k), 1)
                };
                match v {
                    Some(v) => x = 4 * (v & 0xf),
                    None => return 0,
                }
            }
            c if c == LD | W | LEN => a = wire_len,
            c if c == LDX | W | LEN => x = wire_len,
            c if c == LD | IMM => a = k,
            c if c == LDX | IMM => x = k,
            c if c == LD | MEM => a = mem[k as usize],
            c if c == LDX | MEM => x = mem[k as usize],
            c if c == ST => mem[k as usize] = a,
            c if c == STX => mem[k as usize] = x,
            c if c == ALU | NEG => a = 0u32.wrapping_sub(a),
            c if c & 0x07 == ALU => {
                a = match c & 0xf0 {
                    ADD => a.wrapping_add(src),
                    SUB => a.wrapping_sub(src),
                    MUL => a.wrapping_mul(src),
                    DIV => {
                        if src == 0 {
                            return 0;
                        }
                        a / src
                    }
                    MOD => {
                        if src == 0 {
                            return 0;
                        }
                        a % src
                    }
                    AND => a & src,
                    OR => a | src,
                    XOR => a ^ src,
                    LSH if src >= 32 => {
                        if kernel {
                            a << (src & 31)
                        } else {
                            0
                        }
                    }
                    RSH if src >= 32 => {
                        if kernel {
                            a >> (src & 31)
                        } else {
                            0
                        }
                    }
                    LSH => a << src,
                    RSH => a >> src,
                    _ => unreachable!("validated"),
                }
            }
            c if c == MISC | TAX => x = a,
            c if c == MISC | TXA => a = x,
            c if c == RET | K => return k,
            c if c == RET | A => return a,
            c if c == JMP | JA => pc += k as usize,
            c if c & 0x07 == JMP => {
                let taken = match c & 0xf0 {
                    JEQ => a == src,
                    JGT => a > src,
                    JGE => a >= src,
                    JSET => a & src != 0,
                    _ => unreachable!("validated"),
                };
                pc += usize::from(if taken { i.jt } else { i.jf });
            }
            _ => unreachable!("validated"),
        }
    }
}
