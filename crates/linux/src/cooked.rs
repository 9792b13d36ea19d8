//! Filters for cooked sockets: a program written for `LINUX_SLL2` frames,
//! as a capture file shows them, rewritten for what the kernel's filter
//! sees on a `SOCK_DGRAM` packet socket.
//!
//! A cooked socket (the `any` device, devices without a known link header)
//! hands the filter the packet from its network header on; the 20-byte
//! `LINUX_SLL2` header that files carry is made later, in user space, from
//! the `sockaddr_ll` (see [`crate::block::FramingKind::Sll2`]). A program
//! compiled for `LINUX_SLL2` therefore has to be moved:
//!
//! - packet loads at or past byte 20 (absolute, indexed, and the `4*([k]&0xf)`
//!   header-length load) read 20 bytes earlier;
//! - loads of the header's own fields become the kernel's ancillary loads:
//!   protocol (`ldh [0]`), interface index (`ld [4]`), device type
//!   (`ldh [8]`) and packet type (`ldb [10]`); any other read of the header
//!   (the link-layer address, a field read at another size) cannot be done
//!   in the kernel and is an error;
//! - the packet length (`ld #pktlen`) is 20 more in the file than in the
//!   kernel: an `add #20` follows it, and jumps over it are lengthened.
//!
//! Ancillary loads and the kernel's negative offsets (`SKF_NET_OFF`,
//! `SKF_LL_OFF`) are left as they are. This is the translation libpcap
//! makes for cooked captures, plus the length fix it lacks, so that the
//! kernel keeps exactly the frames the same program keeps on the file.

use sluice_bpf::Insn;
use sluice_bpf::insn as bpf;

use crate::error::{Error, ErrorKind, Result};

/// Length of the `LINUX_SLL2` header the program was written for.
pub const SLL2_LEN: u32 = 20;

/// The ancillary load that replaces a load of the `LINUX_SLL2` header at
/// `offset` of `size`, if the kernel has one.
fn header_field(offset: u32, size: u16) -> Option<u32> {
    use bpf::ancillary as anc;
    match (offset, size) {
        (0, bpf::H) => Some(anc::PROTOCOL),
        (4, bpf::W) => Some(anc::IFINDEX),
        (8, bpf::H) => Some(anc::HATYPE),
        (10, bpf::B) => Some(anc::PKTTYPE),
        _ => None,
    }
}

fn size_name(size: u16) -> &'static str {
    match size {
        bpf::W => "4 bytes",
        bpf::H => "2 bytes",
        _ => "1 byte",
    }
}

/// Rewrites `prog`, written for `LINUX_SLL2` frames, for a cooked packet
/// socket (see the module documentation). Fails with
/// [`ErrorKind::Unsupported`] when the program reads a part of the header
/// the kernel cannot give, or when a lengthened jump no longer fits.
pub fn cooked_program(prog: &[Insn]) -> Result<Vec<Insn>> {
    let unsupported = |i: usize, what: String| {
        Error::new(
            ErrorKind::Unsupported,
            format!(
                "the filter cannot run in the kernel on a cooked capture: instruction {i} {what}"
            ),
        )
    };
    // First pass: rewrite loads, note where an `add #20` goes.
    let mut out: Vec<Insn> = Vec::with_capacity(prog.len() + 2);
    let mut extra_after = vec![false; prog.len()];
    for (i, insn) in prog.iter().enumerate() {
        let mut n = *insn;
        let class = insn.code & 0x07;
        let mode = insn.code & 0xe0;
        let size = insn.code & 0x18;
        let packet_offset = insn.k < bpf::ancillary::LL_OFF;
        match (class, mode) {
            (bpf::LD, bpf::ABS) if packet_offset => {
                if insn.k >= SLL2_LEN {
                    n.k = insn.k - SLL2_LEN;
                } else {
                    n.k = header_field(insn.k, size).ok_or_else(|| {
                        unsupported(
                            i,
                            format!(
                                "reads {} at byte {} of the LINUX_SLL2 header",
                                size_name(size),
                                insn.k
                            ),
                        )
                    })?;
                }
            }
            (bpf::LD, bpf::IND) | (bpf::LDX, bpf::MSH) if packet_offset => {
                if insn.k < SLL2_LEN {
                    return Err(unsupported(
                        i,
                        format!(
                            "reads the LINUX_SLL2 header at a computed offset (x + {})",
                            insn.k
                        ),
                    ));
                }
                n.k = insn.k - SLL2_LEN;
            }
            (bpf::LD, bpf::LEN) => extra_after[i] = true,
            (bpf::LDX, bpf::LEN) => {
                return Err(unsupported(
                    i,
                    "loads the packet length into X, which differs by the header length".into(),
                ));
            }
            _ => {}
        }
        out.push(n);
    }
    if !extra_after.iter().any(|&e| e) {
        return Ok(out);
    }
    // Second pass: insert the additions and lengthen the jumps that cross
    // them. new_pos[i] is where old instruction i lands.
    let mut new_pos = Vec::with_capacity(prog.len() + 1);
    let mut at = 0usize;
    for &e in &extra_after {
        new_pos.push(at);
        at += 1 + usize::from(e);
    }
    new_pos.push(at);
    let mut fixed = Vec::with_capacity(at);
    for (i, insn) in out.iter().enumerate() {
        let mut n = *insn;
        if n.code & 0x07 == bpf::JMP {
            let here = new_pos[i];
            let target = |off: usize| new_pos.get(i + 1 + off).map(|&t| t - here - 1);
            if n.code & 0xf0 == bpf::JA {
                let t = target(n.k as usize)
                    .ok_or_else(|| unsupported(i, "jumps past the end of the program".into()))?;
                n.k = u32::try_from(t)
                    .map_err(|_| unsupported(i, "jumps too far after the rewrite".into()))?;
            } else {
                let fit = |off: u8| {
                    target(usize::from(off))
                        .and_then(|t| u8::try_from(t).ok())
                        .ok_or_else(|| {
                            unsupported(i, "has a conditional jump that no longer fits".into())
                        })
                };
                n.jt = fit(n.jt)?;
                n.jf = fit(n.jf)?;
            }
        }
        fixed.push(n);
        if extra_after[i] {
            fixed.push(Insn::stmt(bpf::ALU | bpf::ADD | bpf::K, SLL2_LEN));
        }
    }
    Ok(fixed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_bpf::{Meta, Program};

    fn p(v: &[(u16, u8, u8, u32)]) -> Vec<Insn> {
        v.iter()
            .map(|&(code, jt, jf, k)| Insn { code, jt, jf, k })
            .collect()
    }

    #[test]
    fn loads_move_and_header_fields_become_ancillary() {
        let prog = p(&[
            (bpf::LD | bpf::H | bpf::ABS, 0, 0, 0),
            (bpf::JMP | bpf::JEQ | bpf::K, 0, 5, 0x0800),
            (bpf::LD | bpf::B | bpf::ABS, 0, 0, 10),
            (bpf::JMP | bpf::JEQ | bpf::K, 3, 0, 4),
            (bpf::LDX | bpf::B | bpf::MSH, 0, 0, 20),
            (bpf::LD | bpf::H | bpf::IND, 0, 0, 22),
            (bpf::JMP | bpf::JEQ | bpf::K, 0, 1, 53),
            (bpf::RET | bpf::K, 0, 0, 262_144),
            (bpf::RET | bpf::K, 0, 0, 0),
        ]);
        let c = cooked_program(&prog).unwrap();
        assert_eq!(c.len(), prog.len());
        assert_eq!(c[0].k, bpf::ancillary::PROTOCOL);
        assert_eq!(c[2].k, bpf::ancillary::PKTTYPE);
        assert_eq!(c[4].k, 0);
        assert_eq!(c[5].k, 2);
        // Jumps are untouched without insertions.
        assert_eq!((c[1].jt, c[1].jf), (0, 5));
    }

    #[test]
    fn ancillary_and_negative_offsets_are_kept() {
        let prog = p(&[
            (
                bpf::LD | bpf::W | bpf::ABS,
                0,
                0,
                bpf::ancillary::VLAN_TAG_PRESENT,
            ),
            (
                bpf::LD | bpf::B | bpf::ABS,
                0,
                0,
                bpf::ancillary::NET_OFF + 9,
            ),
            (bpf::RET | bpf::A, 0, 0, 0),
        ]);
        assert_eq!(cooked_program(&prog).unwrap(), prog);
    }

    #[test]
    fn unreachable_header_fields_are_errors() {
        for (code, k) in [
            (bpf::LD | bpf::B | bpf::ABS, 12),
            (bpf::LD | bpf::W | bpf::ABS, 0),
            (bpf::LD | bpf::H | bpf::IND, 4),
            (bpf::LDX | bpf::W | bpf::LEN, 0),
        ] {
            let prog = p(&[(code, 0, 0, k), (bpf::RET | bpf::K, 0, 0, 1)]);
            let e = cooked_program(&prog).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            assert!(e.to_string().contains("instruction 0"), "{e}");
        }
    }

    /// `len >= 100` gives the same verdicts on the file view and, after the
    /// rewrite, on the kernel view (20 bytes shorter).
    #[test]
    fn packet_length_is_corrected_and_jumps_follow() {
        let prog = p(&[
            (bpf::JMP | bpf::JA, 0, 0, 1),
            (bpf::RET | bpf::K, 0, 0, 0),
            (bpf::LD | bpf::W | bpf::LEN, 0, 0, 0),
            (bpf::JMP | bpf::JGE | bpf::K, 0, 1, 100),
            (bpf::RET | bpf::K, 0, 0, 262_144),
            (bpf::RET | bpf::K, 0, 0, 0),
        ]);
        let c = cooked_program(&prog).unwrap();
        assert_eq!(c.len(), prog.len() + 1);
        let file = Program::new(prog).unwrap();
        let kernel = Program::new(c).unwrap();
        let meta = Meta::default();
        for len in [60usize, 99, 100, 101, 119, 120, 121, 200] {
            let frame = vec![0u8; len];
            let want = file.run(&frame, len as u32, &meta) != 0;
            let got = kernel.run(&frame[20..], len as u32 - 20, &meta) != 0;
            assert_eq!(want, got, "length {len}");
        }
    }
}
