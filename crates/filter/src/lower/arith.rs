//! Arithmetic and relations: `proto[expr : size]`, `len`, constants, the
//! operators, comparisons, and `byte N op V`.
//!
//! As in libpcap, every intermediate value lives in a scratch register;
//! the optimiser removes the traffic. Two of libpcap's habits are kept
//! because they decide what is accepted or what a packet matches: the
//! checks for division by zero and over-wide shifts look only at the first
//! instruction of the right operand (so `len / (0 + 1)` is refused), and
//! an operator keeps only its left operand's header checks (in
//! `1 + tcp[0] > 0` the TCP check is dropped, so the load is unguarded).

use super::{Frag, Lower, WhichOff};
use crate::ast::{Arith, ArithId, Ast, BinOp, ByteOp, Proto, RelOp};
use crate::error::{ErrorKind, Result};
use crate::ir::{AluOp, Cond, Size, Src, Stmt};

/// A value under construction (libpcap's `struct arth`).
struct Arth {
    s: Vec<Stmt>,
    reg: u32,
    b: Option<Frag>,
}

fn alu(op: BinOp) -> AluOp {
    match op {
        BinOp::Add => AluOp::Add,
        BinOp::Sub => AluOp::Sub,
        BinOp::Mul => AluOp::Mul,
        BinOp::Div => AluOp::Div,
        BinOp::Mod => AluOp::Mod,
        BinOp::And => AluOp::And,
        BinOp::Or => AluOp::Or,
        BinOp::Xor => AluOp::Xor,
        BinOp::Lsh => AluOp::Lsh,
        BinOp::Rsh => AluOp::Rsh,
    }
}

impl Lower<'_> {
    fn loadi(&mut self, stmt: Stmt) -> Result<Arth> {
        let reg = self.alloc_reg()?;
        Ok(Arth {
            s: vec![stmt, Stmt::St(reg)],
            reg,
            b: None,
        })
    }

    fn and_opt(&mut self, a: Option<Frag>, b: Frag) -> Frag {
        match a {
            Some(a) => self.and(a, b),
            None => b,
        }
    }

    fn load(&mut self, proto: Proto, mut inst: Arth, size: u32) -> Result<Arth> {
        let regno = self.alloc_reg()?;
        self.free_reg(inst.reg);
        let size = match size {
            1 => Size::B,
            2 => Size::H,
            4 => Size::W,
            _ => return Err(self.invalid(format!("a load size must be 1, 2 or 4, not {size}"))),
        };
        let x_plus_index = |l: &mut Self, which: WhichOff, inst: &Arth| -> Result<Vec<Stmt>> {
            Ok(match l.varpart(which)? {
                Some(v) => vec![
                    v,
                    Stmt::LdMem(inst.reg),
                    Stmt::Alu(AluOp::Add, Src::X),
                    Stmt::Tax,
                ],
                None => vec![Stmt::LdxMem(inst.reg)],
            })
        };
        match proto {
            Proto::Link => {
                let mut s = x_plus_index(self, WhichOff::LinkHdr, &inst)?;
                s.push(Stmt::LdInd(size, self.off_linkhdr.constant));
                inst.s.extend(s);
            }
            Proto::Ip
            | Proto::Arp
            | Proto::Rarp
            | Proto::Atalk
            | Proto::Decnet
            | Proto::Sca
            | Proto::Lat
            | Proto::Moprc
            | Proto::Mopdl
            | Proto::Ip6 => {
                let mut s = x_plus_index(self, WhichOff::LinkPl, &inst)?;
                s.push(Stmt::LdInd(
                    size,
                    self.off_linkpl.constant.wrapping_add(self.off_nl),
                ));
                inst.s.extend(s);
                let b = self.proto_abbrev(proto)?;
                let b = self.and_opt(inst.b.take(), b);
                inst.b = Some(b);
            }
            Proto::Sctp
            | Proto::Tcp
            | Proto::Udp
            | Proto::Icmp
            | Proto::Igmp
            | Proto::Igrp
            | Proto::Pim
            | Proto::Vrrp
            | Proto::Carp => {
                let mut s = self.loadx_iphdrlen()?;
                s.extend([
                    Stmt::LdMem(inst.reg),
                    Stmt::Alu(AluOp::Add, Src::X),
                    Stmt::Tax,
                    Stmt::LdInd(size, self.off_linkpl.constant.wrapping_add(self.off_nl)),
                ]);
                inst.s.extend(s);
                let p = self.proto_abbrev(proto)?;
                let frag = self.ipfrag()?;
                let b = self.and(p, frag);
                let b = self.and_opt(inst.b.take(), b);
                let ip = self.proto_abbrev(Proto::Ip)?;
                inst.b = Some(self.and(ip, b));
            }
            Proto::Icmp6 => {
                let b = self.proto_abbrev(Proto::Ip6)?;
                let b = self.and_opt(inst.b.take(), b);
                let nh = self.cmp(super::Rel::LinkPl, 6, Size::B, 58)?;
                let b = self.and(b, nh);
                inst.b = Some(b);
                let mut s = x_plus_index(self, WhichOff::LinkPl, &inst)?;
                s.push(Stmt::LdInd(
                    size,
                    self.off_linkpl
                        .constant
                        .wrapping_add(self.off_nl)
                        .wrapping_add(40),
                ));
                inst.s.extend(s);
            }
            Proto::Radio => {
                return Err(self.unsupported(
                    "'radio[...]' needs an 802.11 radio header, which this link type does not have",
                ));
            }
            p => {
                return Err(self.invalid(format!(
                    "'{}[...]' is not possible: that protocol has no header to index",
                    p.keyword()
                )));
            }
        }
        inst.reg = regno;
        inst.s.push(Stmt::St(regno));
        Ok(inst)
    }

    fn arth(&mut self, op: BinOp, mut a0: Arth, a1: Arth) -> Result<Arth> {
        let first = a1.s.first().copied();
        match (op, first) {
            (BinOp::Div, Some(Stmt::LdImm(0))) => {
                return Err(self.invalid("division by zero"));
            }
            (BinOp::Mod, Some(Stmt::LdImm(0))) => {
                return Err(self.invalid("modulo by zero"));
            }
            (BinOp::Lsh | BinOp::Rsh, Some(Stmt::LdImm(k))) if k > 31 => {
                return Err(self.invalid(format!("a shift by {k} bits is more than 31")));
            }
            _ => {}
        }
        a0.s.extend(a1.s);
        a0.s.extend([
            Stmt::LdxMem(a1.reg),
            Stmt::LdMem(a0.reg),
            Stmt::Alu(alu(op), Src::X),
        ]);
        self.free_reg(a0.reg);
        self.free_reg(a1.reg);
        let r = self.alloc_reg()?;
        a0.s.push(Stmt::St(r));
        a0.reg = r;
        // libpcap keeps only the left operand's checks.
        Ok(a0)
    }

    fn eval(&mut self, ast: &Ast, root: ArithId) -> Result<Arth> {
        enum Step {
            Enter(ArithId),
            Exit(ArithId),
        }
        let mut stack = vec![Step::Enter(root)];
        let mut vals: Vec<Arth> = Vec::new();
        let broken = || {
            crate::error::CompileError::new(
                ErrorKind::Syntax,
                0..0,
                "internal: malformed arithmetic",
            )
        };
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(id) => match &ast.ariths[id].node {
                    Arith::Num(v) => {
                        let a = self.loadi(Stmt::LdImm(*v))?;
                        vals.push(a);
                    }
                    Arith::Len => {
                        let a = self.loadi(Stmt::LdLen)?;
                        vals.push(a);
                    }
                    Arith::Load { index, .. } => {
                        stack.push(Step::Exit(id));
                        stack.push(Step::Enter(*index));
                    }
                    Arith::Bin(_, l, r) => {
                        stack.push(Step::Exit(id));
                        stack.push(Step::Enter(*r));
                        stack.push(Step::Enter(*l));
                    }
                    Arith::Neg(x) => {
                        stack.push(Step::Exit(id));
                        stack.push(Step::Enter(*x));
                    }
                },
                Step::Exit(id) => {
                    self.span = ast.ariths[id].span.clone();
                    match &ast.ariths[id].node {
                        Arith::Load { proto, size, .. } => {
                            let inst = vals.pop().ok_or_else(broken)?;
                            let a = self.load(*proto, inst, *size)?;
                            vals.push(a);
                        }
                        Arith::Bin(op, _, _) => {
                            let a1 = vals.pop().ok_or_else(broken)?;
                            let a0 = vals.pop().ok_or_else(broken)?;
                            let a = self.arth(*op, a0, a1)?;
                            vals.push(a);
                        }
                        Arith::Neg(_) => {
                            let mut a = vals.pop().ok_or_else(broken)?;
                            a.s.extend([Stmt::LdMem(a.reg), Stmt::Neg, Stmt::St(a.reg)]);
                            vals.push(a);
                        }
                        Arith::Num(_) | Arith::Len => return Err(broken()),
                    }
                }
            }
        }
        vals.pop().ok_or_else(broken)
    }

    /// `lhs op rhs`.
    pub(crate) fn relation(
        &mut self,
        ast: &Ast,
        op: RelOp,
        lhs: ArithId,
        rhs: ArithId,
    ) -> Result<Frag> {
        let outer = self.span.clone();
        let mut a0 = self.eval(ast, lhs)?;
        let a1 = self.eval(ast, rhs)?;
        self.span = outer;
        let (cond, reversed) = match op {
            RelOp::Gt => (Cond::Gt, false),
            RelOp::Ge => (Cond::Ge, false),
            RelOp::Eq => (Cond::Eq, false),
            RelOp::Le => (Cond::Gt, true),
            RelOp::Lt => (Cond::Ge, true),
            RelOp::Ne => (Cond::Eq, true),
        };
        let mut s = core::mem::take(&mut a0.s);
        s.extend(a1.s);
        s.extend([Stmt::LdxMem(a1.reg), Stmt::LdMem(a0.reg)]);
        let src = if cond == Cond::Eq {
            s.push(Stmt::Alu(AluOp::Sub, Src::X));
            Src::K(0)
        } else {
            Src::X
        };
        let b = self.test(s, cond, src);
        let b = if reversed { Self::not(b) } else { b };
        self.free_reg(a0.reg);
        self.free_reg(a1.reg);
        let tmp = match (a0.b, a1.b) {
            (Some(x), Some(y)) => Some(self.and(x, y)),
            (Some(x), None) => Some(x),
            (None, y) => y,
        };
        Ok(match tmp {
            Some(t) => self.and(t, b),
            None => b,
        })
    }

    /// `byte N op V`.
    pub(crate) fn byteop(&mut self, op: ByteOp, idx: u32, val: u32) -> Result<Frag> {
        match op {
            ByteOp::Eq => self.cmp(super::Rel::LinkHdr, idx, Size::B, val),
            ByteOp::Lt => self.cmp_lt(super::Rel::LinkHdr, idx, Size::B, val),
            ByteOp::Gt => self.cmp_gt(super::Rel::LinkHdr, idx, Size::B, val),
            // libpcap applies the operator to whatever A holds, without
            // loading the byte; kept as it is, since it is what tcpdump does.
            ByteOp::Or | ByteOp::And => {
                let aop = if op == ByteOp::Or {
                    AluOp::Or
                } else {
                    AluOp::And
                };
                let b = self.test(vec![Stmt::Alu(aop, Src::K(val))], Cond::Eq, Src::K(0));
                Ok(Self::not(b))
            }
        }
    }
}
