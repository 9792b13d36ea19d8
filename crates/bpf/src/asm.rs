//! An assembler for the textual forms of a program: what `tcpdump -d`,
//! `-dd` and `-ddd` print, and the comma-joined form of iptables
//! `-m bpf --bytecode`. The form is detected from the first line.
//!
//! In the `-d` form the `(nnn)` prefix is optional, but when present it
//! must be the instruction's index; jump targets are absolute, as tcpdump
//! prints them. Conditional jumps must lead ahead; a `ja` to an earlier
//! index assembles to the wrapped offset libpcap uses for `protochain`
//! (and which [`Program::new`](crate::Program::new) rejects). Numbers are decimal (negative allowed,
//! as `%d` prints values of 2³¹ and above) or hexadecimal with `0x`.
//! Besides tcpdump's own text, `ldx #pktlen` and `ret a` are accepted.
//!
//! Errors give the line and column and draw a caret under the spot.

use std::fmt;

use crate::insn::{self, Insn, ancillary};

/// Where and why a text could not be assembled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsmError {
    line: usize,
    column: usize,
    source_line: String,
    kind: AsmErrorKind,
}

impl AsmError {
    /// The 1-based line number.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column (in characters).
    pub fn column(&self) -> usize {
        self.column
    }

    /// What was wrong.
    pub fn kind(&self) -> &AsmErrorKind {
        &self.kind
    }
}

impl fmt::Display for AsmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.kind
        )?;
        writeln!(f, "  {}", self.source_line)?;
        // Keep tabs so that the caret lines up under the same character.
        let pad: String = self
            .source_line
            .chars()
            .take(self.column.saturating_sub(1))
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "  {pad}^")
    }
}

impl std::error::Error for AsmError {}

/// The kinds of [`AsmError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsmErrorKind {
    /// The text holds no instructions.
    Empty,
    /// Something else was found where `expected` should be.
    Expected {
        /// What should have been there.
        expected: String,
        /// What was there (empty at the end of a line).
        found: String,
    },
    /// A number does not fit its field.
    OutOfRange {
        /// The field (`jt`, `code`, …).
        field: &'static str,
        /// The number as written.
        value: String,
    },
    /// A mnemonic that is not classic BPF.
    UnknownMnemonic(String),
    /// A `-d` line whose `(nnn)` prefix is not its index.
    WrongIndex {
        /// The index the line has.
        expected: usize,
        /// The index written.
        found: String,
    },
    /// A conditional jump target that is not ahead of the jump.
    JumpBackward {
        /// The target written.
        target: i64,
        /// The index of the jump.
        index: usize,
    },
    /// A conditional jump target more than 256 instructions ahead.
    JumpTooFar {
        /// The target written.
        target: i64,
        /// The index of the jump.
        index: usize,
    },
    /// The count on the first line differs from the instructions that
    /// follow.
    CountMismatch {
        /// The count written.
        declared: usize,
        /// The instructions found.
        found: usize,
    },
}

impl fmt::Display for AsmErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AsmErrorKind::Empty => write!(f, "no instructions"),
            AsmErrorKind::Expected { expected, found } if found.is_empty() => {
                write!(f, "expected {expected}, found the end of the line")
            }
            AsmErrorKind::Expected { expected, found } => {
                write!(f, "expected {expected}, found `{found}`")
            }
            AsmErrorKind::OutOfRange { field, value } => {
                write!(f, "{value} does not fit in {field}")
            }
            AsmErrorKind::UnknownMnemonic(m) => write!(f, "unknown instruction `{m}`"),
            AsmErrorKind::WrongIndex { expected, found } => write!(
                f,
                "this is instruction {expected}, but the line is numbered ({found})"
            ),
            AsmErrorKind::JumpBackward { target, index } => write!(
                f,
                "jump from {index} to {target}: classic BPF jumps only go forward"
            ),
            AsmErrorKind::JumpTooFar { target, index } => write!(
                f,
                "jump from {index} to {target}: a conditional jump reaches at most 256 \
                 instructions ahead (use `ja` for longer jumps)"
            ),
            AsmErrorKind::CountMismatch { declared, found } => write!(
                f,
                "the count says {declared} instructions, but {found} follow"
            ),
        }
    }
}

/// Assembles a program from any of the textual forms (see the module
/// docs). The instructions are not validated: pass them to
/// [`Program::new`](crate::Program::new) for that.
pub fn asm(text: &str) -> Result<Vec<Insn>, AsmError> {
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let Some(&(first_no, first)) = lines.first() else {
        return Err(AsmError {
            line: 1,
            column: 1,
            source_line: text.lines().next().unwrap_or("").to_owned(),
            kind: AsmErrorKind::Empty,
        });
    };
    let start = first.trim_start().chars().next().unwrap_or(' ');
    match start {
        '{' => lines.iter().map(|&(no, l)| dd_line(no, l)).collect(),
        '0'..='9' if first.contains(',') => {
            if let Some(&(no, l)) = lines.get(1) {
                let mut c = Cursor::new(no, l);
                c.skip_ws();
                return Err(c.expected("the end of the text after the one-line comma form"));
            }
            iptables_line(first_no, first)
        }
        '0'..='9' => ddd(&lines),
        '(' | 'a'..='z' | 'A'..='Z' => lines
            .iter()
            .enumerate()
            .map(|(n, &(no, l))| d_line(n, no, l))
            .collect(),
        _ => {
            let mut c = Cursor::new(first_no, first);
            c.skip_ws();
            Err(c.expected(
                "a program: `(000) ldh [12]` lines, `{ 0x28, 0, 0, 0x0000000c },` lines, \
                 or a count followed by `code jt jf k` lines",
            ))
        }
    }
}

/// A position in one line of the source.
struct Cursor<'a> {
    line_no: usize,
    line: &'a str,
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn new(line_no: usize, line: &'a str) -> Cursor<'a> {
        Cursor {
            line_no,
            line,
            pos: 0,
        }
    }

    fn rest(&self) -> &'a str {
        &self.line[self.pos..]
    }

    fn error_at(&self, pos: usize, kind: AsmErrorKind) -> AsmError {
        AsmError {
            line: self.line_no,
            column: self.line[..pos].chars().count() + 1,
            source_line: self.line.to_owned(),
            kind,
        }
    }

    fn error(&self, kind: AsmErrorKind) -> AsmError {
        self.error_at(self.pos, kind)
    }

    /// "expected …, found <the next token>".
    fn expected(&self, what: &str) -> AsmError {
        let rest = self.rest();
        let end = rest
            .char_indices()
            .find(|&(i, c)| c.is_whitespace() || (i > 0 && ",{}[]()#".contains(c)))
            .map_or(rest.len(), |(i, _)| {
                i.max(rest.chars().next().map_or(0, char::len_utf8))
            });
        self.error(AsmErrorKind::Expected {
            expected: what.to_owned(),
            found: rest[..end].to_owned(),
        })
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, s: &str) -> bool {
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Skips white space, then `s`.
    fn expect(&mut self, s: &str) -> Result<(), AsmError> {
        self.skip_ws();
        if self.eat(s) {
            Ok(())
        } else {
            Err(self.expected(&format!("`{s}`")))
        }
    }

    fn end(&mut self) -> Result<(), AsmError> {
        self.skip_ws();
        if self.rest().is_empty() {
            Ok(())
        } else {
            Err(self.expected("the end of the line"))
        }
    }

    /// A lower-case word (mnemonic or name).
    fn word(&mut self) -> &'a str {
        self.skip_ws();
        let rest = self.rest();
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    /// A number: decimal (optionally negative) or `0x` hexadecimal.
    /// Returns the value and its start position.
    fn number(&mut self, what: &str) -> Result<(i64, usize), AsmError> {
        self.skip_ws();
        let start = self.pos;
        let rest = self.rest();
        let (neg, body) = match rest.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let (radix, digits_at) = if body.starts_with("0x") || body.starts_with("0X") {
            (16, 2)
        } else {
            (10, 0)
        };
        let digits = &body[digits_at..];
        let len = digits
            .find(|c: char| !c.is_digit(radix))
            .unwrap_or(digits.len());
        if len == 0 {
            return Err(self.expected(what));
        }
        let text = &digits[..len];
        let consumed = usize::from(neg) + digits_at + len;
        let value = i64::from_str_radix(text, radix)
            .ok()
            .filter(|v| *v <= 1 << 40);
        let Some(value) = value else {
            return Err(self.error(AsmErrorKind::OutOfRange {
                field: "32 bits",
                value: rest[..consumed].to_owned(),
            }));
        };
        self.pos += consumed;
        Ok((if neg { -value } else { value }, start))
    }

    /// A number for a field of `bits` bits: unsigned, or (for 32 bits)
    /// negative down to -2³¹ as `%d` prints.
    fn field(&mut self, what: &str, field: &'static str, bits: u32) -> Result<u32, AsmError> {
        let (v, start) = self.number(what)?;
        let min = if bits == 32 { -(1i64 << 31) } else { 0 };
        if v < min || v >= 1i64 << bits {
            return Err(self.error_at(
                start,
                AsmErrorKind::OutOfRange {
                    field,
                    value: self.line[start..self.pos].to_owned(),
                },
            ));
        }
        Ok(v as u32)
    }
}

/// One `{ code, jt, jf, k },` line.
fn dd_line(line_no: usize, line: &str) -> Result<Insn, AsmError> {
    let mut c = Cursor::new(line_no, line);
    c.expect("{")?;
    let code = c.field("the opcode", "the 16-bit opcode", 16)? as u16;
    c.expect(",")?;
    let jt = c.field("jt", "the 8-bit jt", 8)? as u8;
    c.expect(",")?;
    let jf = c.field("jf", "the 8-bit jf", 8)? as u8;
    c.expect(",")?;
    let k = c.field("k", "the 32-bit k", 32)?;
    c.expect("}")?;
    c.skip_ws();
    c.eat(",");
    c.end()?;
    Ok(Insn { code, jt, jf, k })
}

/// `code jt jf k` in decimal (hex accepted), ending where `stop` says.
fn ddd_insn(c: &mut Cursor<'_>) -> Result<Insn, AsmError> {
    let code = c.field("the opcode", "the 16-bit opcode", 16)? as u16;
    let jt = c.field("jt", "the 8-bit jt", 8)? as u8;
    let jf = c.field("jf", "the 8-bit jf", 8)? as u8;
    let k = c.field("k", "the 32-bit k", 32)?;
    Ok(Insn { code, jt, jf, k })
}

fn count(c: &mut Cursor<'_>) -> Result<(usize, usize), AsmError> {
    let (n, start) = c.number("the instruction count")?;
    if !(0..=1 << 20).contains(&n) {
        return Err(c.error_at(
            start,
            AsmErrorKind::OutOfRange {
                field: "an instruction count",
                value: n.to_string(),
            },
        ));
    }
    Ok((n as usize, start))
}

/// The `-ddd` form: a count line, then one instruction per line.
fn ddd(lines: &[(usize, &str)]) -> Result<Vec<Insn>, AsmError> {
    let (first_no, first) = lines[0];
    let mut c = Cursor::new(first_no, first);
    let (declared, start) = count(&mut c)?;
    c.end()?;
    let mut prog = Vec::with_capacity(declared.min(insn::MAXINSNS));
    for &(no, l) in &lines[1..] {
        let mut c = Cursor::new(no, l);
        prog.push(ddd_insn(&mut c)?);
        c.end()?;
    }
    check_count(&c, start, declared, prog.len())?;
    Ok(prog)
}

fn check_count(c: &Cursor<'_>, at: usize, declared: usize, found: usize) -> Result<(), AsmError> {
    if found == 0 && declared == 0 {
        return Err(c.error_at(at, AsmErrorKind::Empty));
    }
    if declared != found {
        return Err(c.error_at(at, AsmErrorKind::CountMismatch { declared, found }));
    }
    Ok(())
}

/// The comma form: `4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0`.
fn iptables_line(line_no: usize, line: &str) -> Result<Vec<Insn>, AsmError> {
    let mut c = Cursor::new(line_no, line);
    let (declared, start) = count(&mut c)?;
    let mut prog = Vec::with_capacity(declared.min(insn::MAXINSNS));
    loop {
        c.skip_ws();
        if c.rest().is_empty() {
            break;
        }
        c.expect(",")?;
        prog.push(ddd_insn(&mut c)?);
    }
    let counter = Cursor::new(line_no, line);
    check_count(&counter, start, declared, prog.len())?;
    Ok(prog)
}

/// Parses `x` or `#k`: `Ok(None)` for X, `Ok(Some(k))` for a constant.
fn src_operand(c: &mut Cursor<'_>) -> Result<Option<u32>, AsmError> {
    c.skip_ws();
    if c.eat("#") {
        return Ok(Some(c.field("a number after `#`", "32 bits", 32)?));
    }
    let save = c.pos;
    match c.word() {
        "x" | "X" => Ok(None),
        _ => {
            c.pos = save;
            Err(c.expected("`#` and a number, or `x`"))
        }
    }
}

/// A conditional jump target written as an absolute index; returns the
/// offset from `index + 1`, which must fit in 8 bits.
fn target(c: &mut Cursor<'_>, index: usize) -> Result<u8, AsmError> {
    let (t, start) = c.number("a jump target (an instruction index)")?;
    let next = index as i64 + 1;
    if t < next {
        return Err(c.error_at(start, AsmErrorKind::JumpBackward { target: t, index }));
    }
    u8::try_from(t - next)
        .map_err(|_| c.error_at(start, AsmErrorKind::JumpTooFar { target: t, index }))
}

/// A `ja` target: an absolute index, offset from `index + 1` modulo 2³²
/// as libpcap computes it. libpcap emits backward `ja` for `protochain`
/// (its own interpreter runs them), and tcpdump prints them as earlier
/// indices; they assemble, and [`Program::new`](crate::Program::new)
/// rejects them.
fn ja_target(c: &mut Cursor<'_>, index: usize) -> Result<u32, AsmError> {
    let (t, start) = c.number("a jump target (an instruction index)")?;
    let off = t - (index as i64 + 1);
    if !(-(1i64 << 32)..1i64 << 32).contains(&off) {
        return Err(c.error_at(
            start,
            AsmErrorKind::OutOfRange {
                field: "a 32-bit jump offset",
                value: t.to_string(),
            },
        ));
    }
    Ok(off as u32)
}

/// The operand of a load: `[k]`, `[x + k]`, `[name]`, `M[k]`, `#k`,
/// `#pktlen`.
enum Operand {
    Abs(u32),
    Ind(u32),
    Mem(u32),
    Imm(u32),
    Len,
}

fn load_operand(c: &mut Cursor<'_>) -> Result<Operand, AsmError> {
    c.skip_ws();
    if c.eat("#") {
        if c.eat("pktlen") {
            return Ok(Operand::Len);
        }
        return Ok(Operand::Imm(c.field(
            "a number or `pktlen` after `#`",
            "32 bits",
            32,
        )?));
    }
    if c.eat("M[") {
        let k = c.field("a scratch memory index", "32 bits", 32)?;
        c.expect("]")?;
        return Ok(Operand::Mem(k));
    }
    if !c.eat("[") {
        return Err(c.expected("`[`, `M[` or `#`"));
    }
    c.skip_ws();
    let save = c.pos;
    let word = c.word();
    let op = if word == "x" {
        c.expect("+")?;
        Operand::Ind(c.field("an offset", "32 bits", 32)?)
    } else if !word.is_empty() && !word.starts_with(|ch: char| ch.is_ascii_digit()) {
        match ancillary::from_name(word) {
            Some(k) => Operand::Abs(k),
            None => {
                c.pos = save;
                return Err(c.expected(
                    "an offset, `x + offset`, or an ancillary name (proto, type, ifidx, nla, \
                     nlan, mark, queue, hatype, rxhash, cpu, xor_x, vlan_tci, vlanp, poff, \
                     random, vlan_tpid)",
                ));
            }
        }
    } else {
        c.pos = save;
        Operand::Abs(c.field("an offset", "32 bits", 32)?)
    };
    c.expect("]")?;
    Ok(op)
}

/// One `-d` line at instruction index `n`.
fn d_line(n: usize, line_no: usize, line: &str) -> Result<Insn, AsmError> {
    use insn::*;
    let mut c = Cursor::new(line_no, line);
    c.skip_ws();
    if c.eat("(") {
        c.skip_ws();
        let start = c.pos;
        let (idx, _) = c.number("the instruction index")?;
        if idx != n as i64 {
            return Err(c.error_at(
                start,
                AsmErrorKind::WrongIndex {
                    expected: n,
                    found: line[start..c.pos].to_owned(),
                },
            ));
        }
        c.expect(")")?;
    }
    c.skip_ws();
    let mnemonic_at = c.pos;
    let mnemonic = c.word();
    let stmt = |code, k| Ok(Insn::stmt(code, k));
    let bad_operand = |c: &Cursor<'_>, at: usize, what: &str| {
        Err::<Insn, _>(c.error_at(
            at,
            AsmErrorKind::Expected {
                expected: what.to_owned(),
                found: line[at..c.pos].to_owned(),
            },
        ))
    };
    let ins = match mnemonic {
        "ld" | "ldh" | "ldb" => {
            let size = match mnemonic {
                "ld" => W,
                "ldh" => H,
                _ => B,
            };
            c.skip_ws();
            let at = c.pos;
            match load_operand(&mut c)? {
                Operand::Abs(k) => stmt(LD | size | ABS, k),
                Operand::Ind(k) => stmt(LD | size | IND, k),
                Operand::Mem(k) if size == W => stmt(LD | MEM, k),
                Operand::Imm(k) if size == W => stmt(LD | IMM, k),
                Operand::Len if size == W => stmt(LD | W | LEN, 0),
                _ => bad_operand(&c, at, &format!("`[k]` or `[x + k]` after `{mnemonic}`")),
            }
        }
        "ldx" => {
            c.skip_ws();
            let at = c.pos;
            match load_operand(&mut c)? {
                Operand::Mem(k) => stmt(LDX | MEM, k),
                Operand::Imm(k) => stmt(LDX | IMM, k),
                Operand::Len => stmt(LDX | W | LEN, 0),
                _ => bad_operand(&c, at, "`#k`, `M[k]` or `#pktlen` after `ldx`"),
            }
        }
        "ldxb" => {
            c.expect("4*([")?;
            let k = c.field("an offset", "32 bits", 32)?;
            c.expect("]&0xf)")?;
            stmt(LDX | MSH | B, k)
        }
        "st" | "stx" => {
            c.expect("M[")?;
            let k = c.field("a scratch memory index", "32 bits", 32)?;
            c.expect("]")?;
            stmt(if mnemonic == "st" { ST } else { STX }, k)
        }
        "ja" => {
            let k = ja_target(&mut c, n)?;
            stmt(JMP | JA, k)
        }
        "jeq" | "jgt" | "jge" | "jset" => {
            let op = match mnemonic {
                "jeq" => JEQ,
                "jgt" => JGT,
                "jge" => JGE,
                _ => JSET,
            };
            let src = src_operand(&mut c)?;
            c.expect("jt")?;
            let jt = target(&mut c, n)?;
            c.expect("jf")?;
            let jf = target(&mut c, n)?;
            Ok(match src {
                Some(k) => Insn::jump(JMP | op | K, k, jt, jf),
                None => Insn::jump(JMP | op | X, 0, jt, jf),
            })
        }
        "add" | "sub" | "mul" | "div" | "mod" | "and" | "or" | "xor" | "lsh" | "rsh" => {
            let op = match mnemonic {
                "add" => ADD,
                "sub" => SUB,
                "mul" => MUL,
                "div" => DIV,
                "mod" => MOD,
                "and" => AND,
                "or" => OR,
                "xor" => XOR,
                "lsh" => LSH,
                _ => RSH,
            };
            match src_operand(&mut c)? {
                Some(k) => stmt(ALU | op | K, k),
                None => stmt(ALU | op | X, 0),
            }
        }
        "neg" => stmt(ALU | NEG, 0),
        "tax" => stmt(MISC | TAX, 0),
        "txa" => stmt(MISC | TXA, 0),
        "ret" => {
            c.skip_ws();
            if c.eat("#") {
                stmt(RET | K, c.field("a number after `#`", "32 bits", 32)?)
            } else if c.rest().is_empty() || c.word() == "a" {
                stmt(RET | A, 0)
            } else {
                return Err(c.expected("`#` and a number, or nothing (return A)"));
            }
        }
        "unimp" => {
            let code = c.field("an opcode", "the 16-bit opcode", 16)?;
            stmt(code as u16, 0)
        }
        "" => Err(c.expected("an instruction")),
        other => Err(c.error_at(mnemonic_at, AsmErrorKind::UnknownMnemonic(other.to_owned()))),
    }?;
    c.end()?;
    Ok(ins)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disasm::{Form, disasm};
    use crate::insn::*;

    fn sample() -> Vec<Insn> {
        vec![
            Insn::stmt(LD | H | ABS, 12),
            Insn::jump(JMP | JEQ | K, 0x800, 0, 3),
            Insn::stmt(LD | B | ABS, 23),
            Insn::jump(JMP | JEQ | K, 6, 0, 1),
            Insn::stmt(RET | K, 262144),
            Insn::stmt(RET | K, 0),
        ]
    }

    #[test]
    fn all_forms_round_trip() {
        let p = sample();
        for form in [Form::D, Form::DD, Form::DDD] {
            assert_eq!(asm(&disasm(&p, form)), Ok(p.clone()), "{form:?}");
        }
        assert_eq!(asm(&crate::disasm::iptables(&p)), Ok(p.clone()));
        assert_eq!(
            asm("4,48 0 0 9,21 0 1 6,6 0 0 1,6 0 0 0\n"),
            Ok(vec![
                Insn::stmt(0x30, 9),
                Insn::jump(0x15, 6, 0, 1),
                Insn::stmt(6, 1),
                Insn::stmt(6, 0)
            ])
        );
    }

    #[test]
    fn d_form_without_indices_and_extensions() {
        let p = asm("ldh [12]\n  jeq #2048 jt 2 jf 3\nret #-1\nret a\n").unwrap();
        assert_eq!(
            p,
            vec![
                Insn::stmt(LD | H | ABS, 12),
                Insn::jump(JMP | JEQ | K, 2048, 0, 1),
                Insn::stmt(RET | K, u32::MAX),
                Insn::stmt(RET | A, 0),
            ]
        );
        assert_eq!(
            asm("ldx #pktlen\nldb [vlanp]\nld [x + 4]\nldxb 4*([14]&0xf)\nret").unwrap(),
            vec![
                Insn::stmt(LDX | W | LEN, 0),
                Insn::stmt(LD | B | ABS, ancillary::VLAN_TAG_PRESENT),
                Insn::stmt(LD | W | IND, 4),
                Insn::stmt(LDX | MSH | B, 14),
                Insn::stmt(RET | A, 0),
            ]
        );
    }

    #[test]
    fn errors_point_at_the_spot() {
        let e = asm("(000) ldh      [12]\n(001) jeq      #0x800 jt 0 jf 3\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 2, column 26: jump from 1 to 0: classic BPF jumps only go forward\n\
             \x20 (001) jeq      #0x800 jt 0 jf 3\n\
             \x20                          ^"
        );
        let e = asm("(000) ldh [12]\n(005) ret #0\n").unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 2));
        assert!(matches!(
            e.kind(),
            AsmErrorKind::WrongIndex { expected: 1, .. }
        ));
        let e = asm("ldq [12]").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1, column 1: unknown instruction `ldq`\n  ldq [12]\n  ^"
        );
        let e = asm("ldh [foo]").unwrap_err();
        assert_eq!((e.line(), e.column()), (1, 6));
        let e = asm("{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 300, 0x800 },").unwrap_err();
        assert_eq!((e.line(), e.column()), (2, 12));
        assert!(matches!(e.kind(), AsmErrorKind::OutOfRange { .. }));
        let e = asm("3\n6 0 0 1\n6 0 0 0\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1, column 1: the count says 3 instructions, but 2 follow\n  3\n  ^"
        );
        let e = asm("2,6 0 0 1;6 0 0 0").unwrap_err();
        assert_eq!((e.line(), e.column()), (1, 10));
        assert_eq!(asm("  \n\n").unwrap_err().kind(), &AsmErrorKind::Empty);
        assert_eq!(asm("\x0c 00").unwrap_err().kind(), &AsmErrorKind::Empty);
        assert_eq!(
            asm("0,").unwrap_err().kind(),
            &AsmErrorKind::Expected {
                expected: "the opcode".to_owned(),
                found: String::new(),
            }
        );
        let e = asm("(000) jeq #1 jt 300 jf 1").unwrap_err();
        assert!(matches!(e.kind(), AsmErrorKind::JumpTooFar { .. }));
        let e = asm("\tret\t#zz").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 1, column 7: expected a number after `#`, found `zz`\n  \tret\t#zz\n  \t   \t ^"
        );
        let e = asm("ld #99999999999").unwrap_err();
        assert!(matches!(e.kind(), AsmErrorKind::OutOfRange { .. }));
        let e = asm("ret #0 extra").unwrap_err();
        assert_eq!((e.line(), e.column()), (1, 8));
    }
}
