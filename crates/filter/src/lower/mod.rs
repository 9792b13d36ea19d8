//! Lowering: the [`Ast`] to an [`Ir`] control-flow graph.
//!
//! This is where the language's meaning lives. It follows libpcap's code
//! generator closely, primitive by primitive, because the unoptimised
//! program is the reference semantics: the same tests in the same order,
//! so that even a truncated packet (where a load past the end rejects) gets
//! the same verdict. Stateful primitives work as in libpcap: `vlan`,
//! `mpls`, `pppoes` and `geneve` move the offsets used by everything that
//! comes after them in the text, and scratch registers are allocated and
//! freed in the same order (an expression that needs more than 16 at once
//! is refused, as libpcap refuses it).
//!
//! A boolean result under construction is a `Frag`: an entry block and
//! two lists of open exits (taken when the sub-expression is true or
//! false). `and`, `or` and `not` wire exits to entries; at the end the true
//! exits return the snapshot length and the false exits return 0.
//!
//! The tree is walked in post-order with an explicit stack, so a chain of
//! 100,000 terms costs no native stack.

mod arith;
mod encap;
mod host;
mod link;
mod proto;

pub use proto::PROTOCHAIN_DEPTH;

use core::ops::Range;

use sluice_wire::LinkType;

use crate::ast::{Ast, Node, NodeId};
use crate::error::{CompileError, ErrorKind, Result};
use crate::ir::{Block, BlockId, Cond, Ir, Size, Src, Stmt, Term};
use crate::names::Names;
use crate::{Options, Target};

const HOLE: BlockId = usize::MAX;
/// libpcap's "offset not set".
const NOT_SET: u32 = u32::MAX;

/// An exit of a fragment still to be wired: the true or the false edge of
/// a branch block.
#[derive(Clone, Copy, Debug)]
enum Exit {
    T(BlockId),
    F(BlockId),
}

/// A boolean sub-expression under construction.
#[derive(Clone, Debug)]
pub(crate) struct Frag {
    entry: BlockId,
    t: Vec<Exit>,
    f: Vec<Exit>,
}

/// An offset that may have a run-time part kept in a scratch register
/// (libpcap's `bpf_abs_offset`).
#[derive(Clone, Copy, Debug)]
struct AbsOffset {
    constant: u32,
    variable: bool,
    reg: Option<u32>,
}

impl AbsOffset {
    const fn at(constant: u32) -> AbsOffset {
        AbsOffset {
            constant,
            variable: false,
            reg: None,
        }
    }
}

/// Where a load's offset is relative to (libpcap's `e_offrel`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Rel {
    LinkHdr,
    Llc,
    PrevMplsHdr,
    LinkPl,
    LinkPlNoSnap,
    LinkType,
    TranIpv4,
    TranIpv6,
}

/// Internal link types beyond the supported capture types: after `pppoes`
/// the payload is read as PPP.
pub(crate) const DLT_PPP: u32 = 9;

/// The lowering state: the graph so far and libpcap's `compiler_state`.
pub(crate) struct Lower<'a> {
    pub(crate) blocks: Vec<Block>,
    opts: &'a Options,
    names: &'a Names,
    span: Range<usize>,

    linktype: u32,
    prev_linktype: u32,
    off_outermost_linkhdr: AbsOffset,
    off_linkhdr: AbsOffset,
    off_prev_linkhdr: AbsOffset,
    off_linkpl: AbsOffset,
    off_linktype: AbsOffset,
    off_nl: u32,
    off_nl_nosnap: u32,
    label_stack_depth: u32,
    vlan_stack_depth: u32,
    is_geneve: bool,
    is_vlan_vloffset: bool,
    /// libpcap does not optimise programs with `protochain` or `geneve`;
    /// we do, but then do not refuse a program that rejects everything.
    pub(crate) no_optimize: bool,
    regused: [bool; 16],
    curreg: u32,
}

/// Lowers a parsed expression.
pub fn lower(ast: &Ast, opts: &Options, names: &Names) -> Result<(Ir, bool)> {
    let mut l = Lower::new(opts, names)?;
    let root = match ast.root {
        None => {
            let b = l.block(vec![], Term::Ret(opts.snaplen));
            return Ok((Ir::new(l.blocks, b)?, false));
        }
        Some(r) => r,
    };
    let frag = l.walk(ast, root)?;
    l.finish(frag)
}

/// A value on the walk's result stack.
enum Val {
    Bool(Frag),
}

impl<'a> Lower<'a> {
    fn new(opts: &'a Options, names: &'a Names) -> Result<Lower<'a>> {
        let lt = opts.linktype.0;
        let (off_linktype, off_linkpl, off_nl, off_nl_nosnap) = match opts.linktype {
            LinkType::ETHERNET => (12, 14, 0, 3),
            LinkType::NULL | LinkType::LOOP => (0, 4, 0, 0),
            LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => (NOT_SET, 0, 0, 0),
            LinkType::LINUX_SLL => (14, 16, 0, 0),
            LinkType::LINUX_SLL2 => (0, 20, 0, 0),
            other => {
                return Err(CompileError::new(
                    ErrorKind::Unsupported,
                    0..0,
                    format!(
                        "link-layer type {other} is not supported (sluice compiles for EN10MB, RAW, IPV4, IPV6, LINUX_SLL, LINUX_SLL2, NULL and LOOP)"
                    ),
                ));
            }
        };
        let zero = AbsOffset::at(0);
        Ok(Lower {
            blocks: Vec::new(),
            opts,
            names,
            span: 0..0,
            linktype: lt,
            prev_linktype: lt,
            off_outermost_linkhdr: zero,
            off_linkhdr: zero,
            off_prev_linkhdr: zero,
            off_linkpl: AbsOffset::at(off_linkpl),
            off_linktype: AbsOffset::at(off_linktype),
            off_nl,
            off_nl_nosnap,
            label_stack_depth: 0,
            vlan_stack_depth: 0,
            is_geneve: false,
            is_vlan_vloffset: false,
            no_optimize: false,
            regused: [false; 16],
            curreg: 0,
        })
    }

    fn live(&self) -> bool {
        self.opts.target == Target::LinuxSocket
    }

    // ---- errors ------------------------------------------------------

    fn err(&self, kind: ErrorKind, msg: impl Into<String>) -> CompileError {
        CompileError::new(kind, self.span.clone(), msg)
    }

    fn invalid(&self, msg: impl Into<String>) -> CompileError {
        self.err(ErrorKind::Invalid, msg)
    }

    fn unsupported(&self, msg: impl Into<String>) -> CompileError {
        self.err(ErrorKind::Unsupported, msg)
    }

    fn linktype_name(&self) -> String {
        if self.linktype == DLT_PPP {
            return "PPP (inside PPPoE)".to_string();
        }
        LinkType(self.linktype).to_string()
    }

    // ---- blocks and fragments ---------------------------------------------

    fn block(&mut self, stmts: Vec<Stmt>, term: Term) -> BlockId {
        self.blocks.push(Block { stmts, term });
        self.blocks.len() - 1
    }

    /// A one-block test `stmts; if A cond src`.
    fn test(&mut self, stmts: Vec<Stmt>, cond: Cond, src: Src) -> Frag {
        let b = self.block(
            stmts,
            Term::Branch {
                cond,
                src,
                jt: HOLE,
                jf: HOLE,
            },
        );
        Frag {
            entry: b,
            t: vec![Exit::T(b)],
            f: vec![Exit::F(b)],
        }
    }

    fn patch(&mut self, exits: &[Exit], target: BlockId) {
        for e in exits {
            match *e {
                Exit::T(b) => {
                    if let Term::Branch { jt, .. } = &mut self.blocks[b].term {
                        *jt = target;
                    }
                }
                Exit::F(b) => {
                    if let Term::Branch { jf, .. } = &mut self.blocks[b].term {
                        *jf = target;
                    }
                }
            }
        }
    }

    /// `a and b`: b runs when a is true.
    fn and(&mut self, a: Frag, mut b: Frag) -> Frag {
        self.patch(&a.t, b.entry);
        let mut f = a.f;
        f.append(&mut b.f);
        Frag {
            entry: a.entry,
            t: b.t,
            f,
        }
    }

    /// `a or b`: b runs when a is false.
    fn or(&mut self, a: Frag, mut b: Frag) -> Frag {
        self.patch(&a.f, b.entry);
        let mut t = a.t;
        t.append(&mut b.t);
        Frag {
            entry: a.entry,
            t,
            f: b.f,
        }
    }

    fn not(f: Frag) -> Frag {
        Frag {
            entry: f.entry,
            t: f.f,
            f: f.t,
        }
    }

    fn prepend(&mut self, frag: &Frag, mut stmts: Vec<Stmt>) {
        let b = &mut self.blocks[frag.entry].stmts;
        stmts.append(b);
        *b = stmts;
    }

    /// libpcap's `gen_true`/`gen_false`: `ld #(!value); jeq #0`.
    fn uncond(&mut self, value: bool) -> Frag {
        self.test(vec![Stmt::LdImm(u32::from(!value))], Cond::Eq, Src::K(0))
    }

    // ---- scratch registers --------------------------------------------

    fn alloc_reg(&mut self) -> Result<u32> {
        for _ in 0..16 {
            if self.regused[self.curreg as usize] {
                self.curreg = (self.curreg + 1) % 16;
            } else {
                self.regused[self.curreg as usize] = true;
                return Ok(self.curreg);
            }
        }
        Err(self.err(
            ErrorKind::Limit,
            "the expression needs more than the 16 scratch registers of classic BPF",
        ))
    }

    fn free_reg(&mut self, r: u32) {
        self.regused[(r & 15) as usize] = false;
    }

    // ---- loads ---------------------------------------------------------

    fn varpart(&mut self, which: WhichOff) -> Result<Option<Stmt>> {
        let mut off = self.off(which);
        if !off.variable {
            return Ok(None);
        }
        let reg = match off.reg {
            Some(r) => r,
            None => {
                let r = self.alloc_reg()?;
                off.reg = Some(r);
                self.set_off(which, off);
                r
            }
        };
        Ok(Some(Stmt::LdxMem(reg)))
    }

    fn off(&self, which: WhichOff) -> AbsOffset {
        match which {
            WhichOff::LinkHdr => self.off_linkhdr,
            WhichOff::LinkPl => self.off_linkpl,
            WhichOff::LinkType => self.off_linktype,
        }
    }

    fn set_off(&mut self, which: WhichOff, v: AbsOffset) {
        match which {
            WhichOff::LinkHdr => self.off_linkhdr = v,
            WhichOff::LinkPl => self.off_linkpl = v,
            WhichOff::LinkType => self.off_linktype = v,
        }
    }

    fn load_rel(&mut self, which: WhichOff, offset: u32, size: Size) -> Result<Vec<Stmt>> {
        let k = self.off(which).constant.wrapping_add(offset);
        Ok(match self.varpart(which)? {
            Some(s) => vec![s, Stmt::LdInd(size, k)],
            None => vec![Stmt::LdAbs(size, k)],
        })
    }

    /// `X = the IPv4 header length` (libpcap's `gen_loadx_iphdrlen`).
    fn loadx_iphdrlen(&mut self) -> Result<Vec<Stmt>> {
        let k = self.off_linkpl.constant.wrapping_add(self.off_nl);
        Ok(match self.varpart(WhichOff::LinkPl)? {
            Some(s) => vec![
                s,
                Stmt::LdInd(Size::B, k),
                Stmt::Alu(crate::ir::AluOp::And, Src::K(0xf)),
                Stmt::Alu(crate::ir::AluOp::Lsh, Src::K(2)),
                Stmt::Alu(crate::ir::AluOp::Add, Src::X),
                Stmt::Tax,
            ],
            None => vec![Stmt::LdxMsh(k)],
        })
    }

    fn load_a(&mut self, rel: Rel, offset: u32, size: Size) -> Result<Vec<Stmt>> {
        match rel {
            Rel::LinkHdr => self.load_rel(WhichOff::LinkHdr, offset, size),
            Rel::Llc => self.load_rel(WhichOff::LinkPl, offset, size),
            Rel::PrevMplsHdr => {
                let o = self.off_nl.wrapping_sub(4).wrapping_add(offset);
                self.load_rel(WhichOff::LinkPl, o, size)
            }
            Rel::LinkPl => {
                let o = self.off_nl.wrapping_add(offset);
                self.load_rel(WhichOff::LinkPl, o, size)
            }
            Rel::LinkPlNoSnap => {
                let o = self.off_nl_nosnap.wrapping_add(offset);
                self.load_rel(WhichOff::LinkPl, o, size)
            }
            Rel::LinkType => self.load_rel(WhichOff::LinkType, offset, size),
            Rel::TranIpv4 => {
                let mut s = self.loadx_iphdrlen()?;
                let k = self
                    .off_linkpl
                    .constant
                    .wrapping_add(self.off_nl)
                    .wrapping_add(offset);
                s.push(Stmt::LdInd(size, k));
                Ok(s)
            }
            Rel::TranIpv6 => {
                let o = self.off_nl.wrapping_add(40).wrapping_add(offset);
                self.load_rel(WhichOff::LinkPl, o, size)
            }
        }
    }

    /// libpcap's `gen_ncmp`: load, optionally mask, compare.
    #[allow(clippy::too_many_arguments)]
    fn ncmp(
        &mut self,
        rel: Rel,
        offset: u32,
        size: Size,
        mask: u32,
        cond: Cond,
        reverse: bool,
        v: u32,
    ) -> Result<Frag> {
        let mut s = self.load_a(rel, offset, size)?;
        if mask != 0xffff_ffff {
            s.push(Stmt::Alu(crate::ir::AluOp::And, Src::K(mask)));
        }
        let f = self.test(s, cond, Src::K(v));
        Ok(if reverse && matches!(cond, Cond::Gt | Cond::Ge) {
            Self::not(f)
        } else {
            f
        })
    }

    fn cmp(&mut self, rel: Rel, offset: u32, size: Size, v: u32) -> Result<Frag> {
        self.ncmp(rel, offset, size, 0xffff_ffff, Cond::Eq, false, v)
    }

    fn cmp_gt(&mut self, rel: Rel, offset: u32, size: Size, v: u32) -> Result<Frag> {
        self.ncmp(rel, offset, size, 0xffff_ffff, Cond::Gt, false, v)
    }

    fn cmp_ge(&mut self, rel: Rel, offset: u32, size: Size, v: u32) -> Result<Frag> {
        self.ncmp(rel, offset, size, 0xffff_ffff, Cond::Ge, false, v)
    }

    fn cmp_le(&mut self, rel: Rel, offset: u32, size: Size, v: u32) -> Result<Frag> {
        self.ncmp(rel, offset, size, 0xffff_ffff, Cond::Gt, true, v)
    }

    fn cmp_lt(&mut self, rel: Rel, offset: u32, size: Size, v: u32) -> Result<Frag> {
        self.ncmp(rel, offset, size, 0xffff_ffff, Cond::Ge, true, v)
    }

    fn mcmp(&mut self, rel: Rel, offset: u32, size: Size, v: u32, mask: u32) -> Result<Frag> {
        self.ncmp(rel, offset, size, mask, Cond::Eq, false, v)
    }

    /// Compares `bytes` at `offset`, four, then two, then one byte at a
    /// time from the end (libpcap's `gen_bcmp`).
    fn bcmp(&mut self, rel: Rel, offset: u32, bytes: &[u8]) -> Result<Frag> {
        let mut size = bytes.len();
        let mut acc: Option<Frag> = None;
        while size >= 4 {
            let p = &bytes[size - 4..size];
            let v = u32::from_be_bytes([p[0], p[1], p[2], p[3]]);
            let t = self.cmp(rel, offset + size as u32 - 4, Size::W, v)?;
            acc = Some(match acc {
                Some(a) => self.and(a, t),
                None => t,
            });
            size -= 4;
        }
        while size >= 2 {
            let p = &bytes[size - 2..size];
            let v = u32::from(u16::from_be_bytes([p[0], p[1]]));
            let t = self.cmp(rel, offset + size as u32 - 2, Size::H, v)?;
            acc = Some(match acc {
                Some(a) => self.and(a, t),
                None => t,
            });
            size -= 2;
        }
        if size > 0 {
            let t = self.cmp(rel, offset, Size::B, u32::from(bytes[0]))?;
            acc = Some(match acc {
                Some(a) => self.and(a, t),
                None => t,
            });
        }
        acc.ok_or_else(|| self.invalid("empty byte comparison"))
    }

    // ---- the walk ------------------------------------------------------

    fn walk(&mut self, ast: &Ast, root: NodeId) -> Result<Frag> {
        enum Step {
            Enter(NodeId),
            Exit(NodeId),
        }
        let mut stack = vec![Step::Enter(root)];
        let mut vals: Vec<Val> = Vec::new();
        while let Some(step) = stack.pop() {
            match step {
                Step::Enter(id) => match &ast.nodes[id].node {
                    Node::And(l, r) | Node::Or(l, r) => {
                        stack.push(Step::Exit(id));
                        stack.push(Step::Enter(*r));
                        stack.push(Step::Enter(*l));
                    }
                    Node::Not(x) => {
                        stack.push(Step::Exit(id));
                        stack.push(Step::Enter(*x));
                    }
                    _ => {
                        self.span = ast.nodes[id].span.clone();
                        let f = self.primitive(ast, id)?;
                        vals.push(Val::Bool(f));
                    }
                },
                Step::Exit(id) => {
                    let missing =
                        || CompileError::new(ErrorKind::Syntax, 0..0, "internal: malformed tree");
                    match &ast.nodes[id].node {
                        Node::Not(_) => {
                            let Some(Val::Bool(f)) = vals.pop() else {
                                return Err(missing());
                            };
                            vals.push(Val::Bool(Self::not(f)));
                        }
                        node => {
                            let Some(Val::Bool(b)) = vals.pop() else {
                                return Err(missing());
                            };
                            let Some(Val::Bool(a)) = vals.pop() else {
                                return Err(missing());
                            };
                            let f = if matches!(node, Node::And(..)) {
                                self.and(a, b)
                            } else {
                                self.or(a, b)
                            };
                            vals.push(Val::Bool(f));
                        }
                    }
                }
            }
        }
        match vals.pop() {
            Some(Val::Bool(f)) => Ok(f),
            None => Err(CompileError::new(
                ErrorKind::Syntax,
                0..0,
                "internal: empty tree",
            )),
        }
    }

    fn primitive(&mut self, ast: &Ast, id: NodeId) -> Result<Frag> {
        match &ast.nodes[id].node {
            Node::Id { qual, value } => self.id(*qual, value),
            Node::ProtoAbbrev(p) => self.proto_abbrev(*p),
            Node::Relation { op, lhs, rhs } => self.relation(ast, *op, *lhs, *rhs),
            Node::Broadcast(p) => self.broadcast(*p),
            Node::Multicast(p) => self.multicast(*p),
            Node::Less(n) => {
                let f = self.test(vec![Stmt::LdLen], Cond::Gt, Src::K(*n));
                Ok(Self::not(f))
            }
            Node::Greater(n) => Ok(self.test(vec![Stmt::LdLen], Cond::Ge, Src::K(*n))),
            Node::Byte { index, op, value } => self.byteop(*op, *index, *value),
            Node::Direction(out) => self.inbound(*out),
            Node::Ifindex(n) => self.ifindex(*n),
            Node::Vlan(v) => self.vlan(*v),
            Node::Mpls(v) => self.mpls(*v),
            Node::Pppoed => self.linktype(0x8863),
            Node::Pppoes(v) => self.pppoes(*v),
            Node::Geneve(v) => self.geneve(*v),
            Node::Llc(k) => self.llc(*k),
            Node::And(..) | Node::Or(..) | Node::Not(_) => Err(CompileError::new(
                ErrorKind::Syntax,
                0..0,
                "internal: boolean node as primitive",
            )),
        }
    }

    /// libpcap's `finish_parse`: the variable-offset set-up goes in front,
    /// true exits return the snapshot length, false exits 0.
    fn finish(mut self, frag: Frag) -> Result<(Ir, bool)> {
        if self.off_linkpl.reg.is_some()
            && self.off_linkhdr.variable
            && self.off_linkhdr.reg.is_none()
        {
            let r = self.alloc_reg()?;
            self.off_linkhdr.reg = Some(r);
        }
        if self.is_vlan_vloffset {
            let pl = match self.off_linkpl.reg {
                Some(r) => r,
                None => {
                    let r = self.alloc_reg()?;
                    self.off_linkpl.reg = Some(r);
                    r
                }
            };
            let lt = match self.off_linktype.reg {
                Some(r) => r,
                None => {
                    let r = self.alloc_reg()?;
                    self.off_linktype.reg = Some(r);
                    r
                }
            };
            self.prepend(&frag, vec![Stmt::LdImm(0), Stmt::St(pl), Stmt::St(lt)]);
        }
        let accept = self.block(vec![], Term::Ret(self.opts.snaplen));
        let reject = self.block(vec![], Term::Ret(0));
        self.patch(&frag.t, accept);
        self.patch(&frag.f, reject);
        let no_opt = self.no_optimize;
        Ok((Ir::new(self.blocks, frag.entry)?, no_opt))
    }
}

/// Which of the link-layer offsets.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[allow(clippy::enum_variant_names)]
enum WhichOff {
    LinkHdr,
    LinkPl,
    LinkType,
}
