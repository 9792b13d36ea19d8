//! `sluice_bpf::Program::new` on arbitrary instructions; for every program
//! that passes, `run` under both semantics on an arbitrary packet and
//! metadata, compared with the naive reference interpreter, and the three
//! textual forms assembled back. Must never panic.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sluice_bpf::insn::Insn;
use sluice_bpf::validate::kernel_knows_opcode;
use sluice_bpf::{Form, Meta, Program, Semantics, asm, disasm};

#[path = "../../crates/bpf/tests/reference/mod.rs"]
mod reference;

#[derive(Arbitrary, Debug)]
struct Input {
    /// Low bit: make the program likely valid (known opcodes, jumps in
    /// range, a final return) instead of feeding it raw.
    mode: u8,
    insns: Vec<(u16, u8, u8, u32)>,
    packet: Vec<u8>,
    extra_wire: u16,
    protocol: u16,
    pkttype: u8,
    ifindex: u32,
    mark: u32,
    vlan: Option<(u16, u16)>,
    pay_offset: u32,
    random: u32,
    net_offset: Option<u8>,
}

fuzz_target!(|input: Input| {
    let known: Vec<u16> = (0..=0xffu16).filter(|&c| kernel_knows_opcode(c)).collect();
    let len = input.insns.len();
    let mut insns: Vec<Insn> = input
        .insns
        .iter()
        .enumerate()
        .map(|(i, &(code, jt, jf, k))| {
            if input.mode & 1 == 0 {
                return Insn { code, jt, jf, k };
            }
            let code = known[usize::from(code) % known.len()];
            let room = (len - 1 - i) as u32;
            let mut ins = Insn { code, jt, jf, k };
            if room > 0 && ins.is_conditional_jump() {
                ins.jt = (u32::from(jt) % room.min(256)) as u8;
                ins.jf = (u32::from(jf) % room.min(256)) as u8;
            } else if room > 0 && code == 0x05 {
                ins.k = k % room;
            }
            ins
        })
        .collect();
    if input.mode & 1 == 1 {
        insns.push(Insn::stmt(0x16, 0));
    }

    // Text round trips hold for any instructions (an empty -dd text is
    // no program at all, an error).
    if insns.is_empty() {
        return;
    }
    for form in [Form::DD, Form::DDD] {
        assert_eq!(asm(&disasm(&insns, form)).as_ref(), Ok(&insns));
    }
    let canonical: Vec<Insn> = insns.iter().map(|i| i.canonical()).collect();
    if canonical.iter().all(|i| kernel_knows_opcode(i.code)) {
        assert_eq!(asm(&disasm(&insns, Form::D)), Ok(canonical));
    }

    let Ok(kernel) = Program::new(insns.clone()) else {
        return;
    };
    let meta = Meta {
        protocol: input.protocol,
        pkttype: input.pkttype,
        ifindex: input.ifindex,
        mark: input.mark,
        queue: input.protocol ^ 0x5555,
        hatype: 1,
        rxhash: input.mark.rotate_left(7),
        cpu: u32::from(input.pkttype),
        vlan_tci: input.vlan.map(|v| v.0),
        vlan_tpid: input.vlan.map_or(0, |v| v.1),
        pay_offset: input.pay_offset,
        random: input.random,
        net_offset: input.net_offset.map(u32::from),
    };
    let wire = (input.packet.len() as u32).saturating_add(u32::from(input.extra_wire));
    for prog in [kernel.clone(), kernel.to_semantics(Semantics::Libpcap)] {
        let ours = prog.run(&input.packet, wire, &meta);
        let want = reference::run(&insns, prog.semantics(), &input.packet, wire, &meta);
        assert_eq!(ours, want, "{:?}\n{}", prog.semantics(), disasm(&insns, Form::D));
    }
});
