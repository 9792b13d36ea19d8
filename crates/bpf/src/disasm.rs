//! The three textual forms of a program that `tcpdump -d`, `-dd` and `-ddd`
//! print, byte for byte as libpcap 1.10's `bpf_dump` and `bpf_image` write
//! them.

use std::fmt::Write as _;

use crate::insn::{self, Insn};

/// Which of tcpdump's program dumps to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Form {
    /// `tcpdump -d`: one line of assembly per instruction,
    /// `(000) ldh      [12]`.
    D,
    /// `tcpdump -dd`: a C array initialiser, `{ 0x28, 0, 0, 0x0000000c },`.
    DD,
    /// `tcpdump -ddd`: decimal, the count on the first line, then
    /// `code jt jf k` per line (joined with commas, what iptables
    /// `-m bpf --bytecode` takes).
    DDD,
}

/// Writes `prog` in the given form, each line ending in a newline, exactly
/// as tcpdump prints it. Any instructions are accepted, valid or not
/// (unknown opcodes print as `unimp`, as in libpcap).
pub fn disasm(prog: &[Insn], form: Form) -> String {
    let mut out = String::with_capacity(prog.len() * 40 + 8);
    match form {
        Form::D => {
            for (n, ins) in prog.iter().enumerate() {
                out.push_str(&image(ins, n));
                out.push('\n');
            }
        }
        Form::DD => {
            for ins in prog {
                let _ = writeln!(
                    out,
                    "{{ 0x{:x}, {}, {}, 0x{:08x} }},",
                    ins.code, ins.jt, ins.jf, ins.k
                );
            }
        }
        Form::DDD => {
            let _ = writeln!(out, "{}", prog.len());
            for ins in prog {
                let _ = writeln!(out, "{} {} {} {}", ins.code, ins.jt, ins.jf, ins.k);
            }
        }
    }
    out
}

/// The iptables form: `-ddd` with its lines joined by commas, as
/// `iptables -m bpf --bytecode` takes it (`4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0`).
pub fn iptables(prog: &[Insn]) -> String {
    let mut out = prog.len().to_string();
    for ins in prog {
        let _ = write!(out, ",{} {} {} {}", ins.code, ins.jt, ins.jf, ins.k);
    }
    out
}

/// The mnemonic and operand of one instruction, as libpcap's `bpf_image`
/// has them (`n` is the instruction's index, for jump targets).
pub(crate) fn mnemonic(ins: &Insn, n: usize) -> (&'static str, String) {
    use insn::*;
    let k = ins.k;
    let signed = k as i32;
    let abs = || match ancillary::name(k) {
        Some(name) => format!("[{name}]"),
        None => format!("[{signed}]"),
    };
    let (op, operand): (&str, String) = match ins.code {
        c if c == RET | K => ("ret", format!("#{signed}")),
        c if c == RET | A => ("ret", String::new()),
        c if c == LD | W | ABS => ("ld", abs()),
        c if c == LD | H | ABS => ("ldh", abs()),
        c if c == LD | B | ABS => ("ldb", abs()),
        c if c == LD | W | LEN => ("ld", "#pktlen".to_owned()),
        c if c == LD | W | IND => ("ld", format!("[x + {signed}]")),
        c if c == LD | H | IND => ("ldh", format!("[x + {signed}]")),
        c if c == LD | B | IND => ("ldb", format!("[x + {signed}]")),
        c if c == LD | IMM => ("ld", format!("#0x{k:x}")),
        c if c == LDX | IMM => ("ldx", format!("#0x{k:x}")),
        c if c == LDX | MSH | B => ("ldxb", format!("4*([{signed}]&0xf)")),
        c if c == LD | MEM => ("ld", format!("M[{signed}]")),
        c if c == LDX | MEM => ("ldx", format!("M[{signed}]")),
        c if c == ST => ("st", format!("M[{signed}]")),
        c if c == STX => ("stx", format!("M[{signed}]")),
        c if c == JMP | JA => (
            "ja",
            // unsigned arithmetic, printed with %d
            format!("{}", (n as u32).wrapping_add(1).wrapping_add(k) as i32),
        ),
        c if c == JMP | JGT | K => ("jgt", format!("#0x{k:x}")),
        c if c == JMP | JGE | K => ("jge", format!("#0x{k:x}")),
        c if c == JMP | JEQ | K => ("jeq", format!("#0x{k:x}")),
        c if c == JMP | JSET | K => ("jset", format!("#0x{k:x}")),
        c if c == JMP | JGT | X => ("jgt", "x".to_owned()),
        c if c == JMP | JGE | X => ("jge", "x".to_owned()),
        c if c == JMP | JEQ | X => ("jeq", "x".to_owned()),
        c if c == JMP | JSET | X => ("jset", "x".to_owned()),
        c if c == ALU | ADD | X => ("add", "x".to_owned()),
        c if c == ALU | SUB | X => ("sub", "x".to_owned()),
        c if c == ALU | MUL | X => ("mul", "x".to_owned()),
        c if c == ALU | DIV | X => ("div", "x".to_owned()),
        c if c == ALU | MOD | X => ("mod", "x".to_owned()),
        c if c == ALU | AND | X => ("and", "x".to_owned()),
        c if c == ALU | OR | X => ("or", "x".to_owned()),
        c if c == ALU | XOR | X => ("xor", "x".to_owned()),
        c if c == ALU | LSH | X => ("lsh", "x".to_owned()),
        c if c == ALU | RSH | X => ("rsh", "x".to_owned()),
        c if c == ALU | ADD | K => ("add", format!("#{signed}")),
        c if c == ALU | SUB | K => ("sub", format!("#{signed}")),
        c if c == ALU | MUL | K => ("mul", format!("#{signed}")),
        c if c == ALU | DIV | K => ("div", format!("#{signed}")),
        c if c == ALU | MOD | K => ("mod", format!("#{signed}")),
        c if c == ALU | AND | K => ("and", format!("#0x{k:x}")),
        c if c == ALU | OR | K => ("or", format!("#0x{k:x}")),
        c if c == ALU | XOR | K => ("xor", format!("#0x{k:x}")),
        c if c == ALU | LSH | K => ("lsh", format!("#{signed}")),
        c if c == ALU | RSH | K => ("rsh", format!("#{signed}")),
        c if c == ALU | NEG => ("neg", String::new()),
        c if c == MISC | TAX => ("tax", String::new()),
        c if c == MISC | TXA => ("txa", String::new()),
        c => ("unimp", format!("0x{c:x}")),
    };
    (op, operand)
}

/// One line of `tcpdump -d` for instruction `ins` at index `n`, without
/// the newline (libpcap's `bpf_image`).
pub fn image(ins: &Insn, n: usize) -> String {
    let (op, operand) = mnemonic(ins, n);
    if ins.is_conditional_jump() {
        format!(
            "({n:03}) {op:<8} {operand:<16} jt {}\tjf {}",
            n + 1 + usize::from(ins.jt),
            n + 1 + usize::from(ins.jf)
        )
    } else {
        format!("({n:03}) {op:<8} {operand}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::insn::*;

    #[test]
    fn lines() {
        assert_eq!(
            image(&Insn::stmt(LD | H | ABS, 12), 0),
            "(000) ldh      [12]"
        );
        assert_eq!(
            image(&Insn::jump(JMP | JEQ | K, 0x800, 0, 8), 1),
            "(001) jeq      #0x800           jt 2\tjf 10"
        );
        assert_eq!(image(&Insn::stmt(RET | A, 0), 12), "(012) ret      ");
        assert_eq!(
            image(&Insn::stmt(RET | K, 262144), 3),
            "(003) ret      #262144"
        );
        assert_eq!(
            image(&Insn::stmt(RET | K, u32::MAX), 3),
            "(003) ret      #-1"
        );
        assert_eq!(
            image(&Insn::stmt(LDX | MSH | B, 14), 5),
            "(005) ldxb     4*([14]&0xf)"
        );
        assert_eq!(image(&Insn::stmt(JMP | JA, 3), 9), "(009) ja       13");
        assert_eq!(
            image(&Insn::stmt(JMP | JA, u32::MAX), 9),
            "(009) ja       9"
        );
        assert_eq!(image(&Insn::stmt(0x81, 0), 1000), "(1000) unimp    0x81");
        assert_eq!(
            image(&Insn::stmt(LD | B | ABS, ancillary::VLAN_TAG_PRESENT), 0),
            "(000) ldb      [vlanp]"
        );
        assert_eq!(
            image(&Insn::stmt(LD | W | ABS, ancillary::OFF + 1), 0),
            "(000) ld       [-4095]"
        );
        assert_eq!(
            image(&Insn::jump(JMP | JSET | X, 0, 255, 0), 0),
            "(000) jset     x                jt 256\tjf 1"
        );
    }

    #[test]
    fn forms() {
        let prog = [
            Insn::stmt(LD | B | ABS, 9),
            Insn::jump(JMP | JEQ | K, 6, 0, 1),
            Insn::stmt(RET | K, 1),
            Insn::stmt(RET | K, 0),
        ];
        assert_eq!(
            disasm(&prog, Form::DD),
            "{ 0x30, 0, 0, 0x00000009 },\n{ 0x15, 0, 1, 0x00000006 },\n\
             { 0x6, 0, 0, 0x00000001 },\n{ 0x6, 0, 0, 0x00000000 },\n"
        );
        assert_eq!(
            disasm(&prog, Form::DDD),
            "4\n48 0 0 9\n21 0 1 6\n6 0 0 1\n6 0 0 0\n"
        );
        assert_eq!(iptables(&prog), "4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0");
        assert_eq!(
            disasm(&prog, Form::D),
            "(000) ldb      [9]\n(001) jeq      #0x6             jt 2\tjf 3\n\
             (002) ret      #1\n(003) ret      #0\n"
        );
        assert_eq!(disasm(&[], Form::DDD), "0\n");
        assert_eq!(disasm(&[], Form::D), "");
    }
}
