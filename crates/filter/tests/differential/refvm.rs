//! A reference classic BPF interpreter with libpcap's `bpf_filter`
//! semantics that also says *why* a program returned: whether it ran off
//! the captured bytes.
//!
//! That distinction decides how truncated packets are judged. A program
//! that loads a byte beyond the capture returns 0 at once, so an
//! unoptimised program, which loads everything its expression names, and
//! an optimised one, which skips loads whose value cannot matter, may
//! differ on a truncated packet without either being wrong. The tests use
//! the fault flag to hold such pairs to the rule that does hold (see
//! `judge` in main.rs). Every verdict of this interpreter is checked
//! against libpcap's own `bpf_filter` as the tests run.

use sluice_pcap_oracle::RawInsn;

/// How a run ended.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Outcome {
    /// The program's return value.
    pub verdict: u32,
    /// True when the program stopped because a load went past the
    /// captured bytes (not for division by zero).
    pub faulted: bool,
    /// True when the program read a scratch memory word it had not
    /// written on this path. libpcap leaves scratch memory uninitialised,
    /// so its verdict is then undefined (the kernel refuses such
    /// programs); this interpreter reads 0.
    pub uninit: bool,
}

/// The VLAN tag a live Linux capture hands libpcap's userland filter
/// (`pcap_filter_with_aux_data`) when the kernel refused the program.
#[derive(Clone, Copy, Debug, Default)]
pub struct Aux {
    /// `TP_STATUS_VLAN_VALID`: the kernel took a tag out of the frame.
    pub vlan_tag_present: u32,
    /// Its VLAN id (`tp_vlan_tci & 0x0fff`).
    pub vlan_tag: u32,
}

/// `SKF_AD_OFF + SKF_AD_VLAN_TAG` and `+ SKF_AD_VLAN_TAG_PRESENT`.
const AD_VLAN_TAG: u32 = 0xffff_f000 + 44;
const AD_VLAN_TAG_PRESENT: u32 = 0xffff_f000 + 48;

/// Runs a program that libpcap's `bpf_validate` accepted.
pub fn run(prog: &[RawInsn], packet: &[u8], wire_len: u32) -> Outcome {
    run_with(prog, packet, wire_len, None)
}

/// Runs a program as libpcap filters a live Linux capture in user space
/// (when the kernel refuses the program: a backward jump, a scratch word
/// read before a store): byte loads at the VLAN ancillary offsets read
/// `aux`, everything else is as in [`run`].
pub fn run_live(prog: &[RawInsn], packet: &[u8], wire_len: u32, aux: Aux) -> Outcome {
    run_with(prog, packet, wire_len, Some(aux))
}

fn run_with(prog: &[RawInsn], packet: &[u8], wire_len: u32, aux: Option<Aux>) -> Outcome {
    let buflen = packet.len() as u64;
    let mut uninit = false;
    let mut written = 0u16;
    let fault = |uninit| Outcome {
        verdict: 0,
        faulted: true,
        uninit,
    };
    let end = |verdict, uninit| Outcome {
        verdict,
        faulted: false,
        uninit,
    };
    let load = |off: u64, size: u64| -> Option<u32> {
        if off + size > buflen {
            return None;
        }
        let o = off as usize;
        Some(match size {
            4 => u32::from_be_bytes([packet[o], packet[o + 1], packet[o + 2], packet[o + 3]]),
            2 => u32::from(u16::from_be_bytes([packet[o], packet[o + 1]])),
            _ => u32::from(packet[o]),
        })
    };
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    loop {
        let Some(&(code, jt, jf, k)) = prog.get(pc) else {
            return end(0, uninit);
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
                let value = match code & 0xe0 {
                    0x00 => k,
                    0x20 if code == 0x30 && matches!(k, AD_VLAN_TAG | AD_VLAN_TAG_PRESENT) => {
                        match aux {
                            Some(aux) if k == AD_VLAN_TAG => aux.vlan_tag,
                            Some(aux) => aux.vlan_tag_present,
                            None => return fault(uninit),
                        }
                    }
                    0x20 => match load(u64::from(k), size) {
                        Some(v) => v,
                        None => return fault(uninit),
                    },
                    0x40 => match load(u64::from(x) + u64::from(k), size) {
                        Some(v) => v,
                        None => return fault(uninit),
                    },
                    0x60 => {
                        uninit |= written & (1 << (k & 15)) == 0;
                        mem[(k & 15) as usize]
                    }
                    0x80 => wire_len,
                    0xa0 => match load(u64::from(k), 1) {
                        Some(v) => (v & 0xf) << 2,
                        None => return fault(uninit),
                    },
                    _ => return end(0, uninit),
                };
                if class == 0x00 {
                    a = value;
                } else {
                    x = value;
                }
            }
            0x02 | 0x03 => {
                mem[(k & 15) as usize] = if class == 0x02 { a } else { x };
                written |= 1 << (k & 15);
            }
            0x04 => {
                let src = if src_x { x } else { k };
                a = match code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 | 0x90 if src == 0 => return end(0, uninit),
                    0x30 => a / src,
                    0x90 => a % src,
                    0x40 => a | src,
                    0x50 => a & src,
                    0xa0 => a ^ src,
                    // libpcap: a shift by X of 32 or more gives 0; a
                    // constant shift is done by the machine (x86 takes the
                    // count modulo 32), and compilers never emit one ≥ 32.
                    0x60 if src_x => a.checked_shl(src).unwrap_or(0),
                    0x70 if src_x => a.checked_shr(src).unwrap_or(0),
                    0x60 => a.wrapping_shl(src),
                    0x70 => a.wrapping_shr(src),
                    0x80 => a.wrapping_neg(),
                    _ => return end(0, uninit),
                };
            }
            0x05 => {
                let op = code & 0xf0;
                if op == 0x00 {
                    // libpcap sign-extends the offset: its `protochain`
                    // code jumps backwards.
                    pc = (pc as i64 + i64::from(k as i32)) as usize;
                    continue;
                }
                let src = if src_x { x } else { k };
                let taken = match op {
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    _ => return end(0, uninit),
                };
                pc += usize::from(if taken { jt } else { jf });
            }
            0x06 => {
                let verdict = match code & 0x18 {
                    0x10 => a,
                    0x08 => x,
                    _ => k,
                };
                return end(verdict, uninit);
            }
            _ => {
                if code & 0xf8 == 0x80 {
                    a = x;
                } else {
                    x = a;
                }
            }
        }
    }
}
