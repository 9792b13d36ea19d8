//! The parser: tokens to an [`Ast`], with libpcap's grammar.
//!
//! It accepts exactly the sentences libpcap's grammar accepts, including
//! its corners: `and` and `or` have equal precedence and group to the left;
//! a bare value inherits the qualifiers of the primitive before it
//! (`host a or b`, `tcp port 80 or 443`, `not host a and b`), but a
//! parenthesised expression hands on the qualifiers from *before* it
//! (`host a and (port 80) or b` means `… or host b`); inside parentheses
//! that follow a qualifier only bare values may appear (`host (a or b)`);
//! in arithmetic, `%` and `^` have no precedence, so they take everything
//! to their right as their right operand (`4 % 3 + 1` is `4 % (3 + 1)`).
//!
//! Boolean structure is parsed iteratively (an `or` chain of any length
//! costs no stack); parentheses nest at most [`NESTING_LIMIT`] deep.
//! Arithmetic is parsed with an explicit operator stack.

pub mod lex;

use core::ops::Range;

use crate::ast::{
    AddrKind, Arith, ArithId, Ast, BinOp, ByteOp, Dir, IdValue, Llc, Node, NodeId, Proto, Qual,
    RelOp,
};
use crate::error::{CompileError, ErrorKind, Result};
use lex::{Foreign, Kw, Tok, Token};

/// How deep parentheses may nest.
pub const NESTING_LIMIT: usize = 200;

/// Parses an expression. The empty expression (only blanks) gives an
/// [`Ast`] without a root, which matches every packet.
pub fn parse(src: &str) -> Result<Ast> {
    let toks = lex::lex(src)?;
    let close = match_parens(&toks);
    let mut p = Parser {
        src,
        toks,
        close,
        pos: 0,
        depth: 0,
        ast: Ast::default(),
    };
    if p.peek() == &Tok::End {
        return Ok(p.ast);
    }
    let (root, _) = p.chain(None, Pos::TopStart)?;
    if p.peek() != &Tok::End {
        return Err(p.unexpected("'and', 'or' or the end of the expression"));
    }
    p.ast.root = Some(root);
    Ok(p.ast)
}

/// For every `(` token, the index of its matching `)`, if any.
fn match_parens(toks: &[Token]) -> Vec<Option<usize>> {
    let mut out = vec![None; toks.len()];
    let mut open = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        match t.tok {
            Tok::Punct('(') => open.push(i),
            Tok::Punct(')') => {
                if let Some(o) = open.pop() {
                    out[o] = Some(i);
                }
            }
            _ => {}
        }
    }
    out
}

/// Where an element of a boolean chain stands, which decides what it may be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pos {
    /// First element of the whole expression: a term.
    TopStart,
    /// First element inside parentheses: a term (an expression group), a
    /// bare id or number (a group of bare values).
    GroupStart,
    /// After `and`/`or`: a term or a bare value.
    AfterOp,
    /// After qualifiers or inside a group of bare values: a bare value.
    IdOnly,
}

/// What an element turned out to be.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    /// A primitive or an expression group.
    Term,
    /// A bare value (a name, an address, `not` a bare value).
    Nid,
    /// A parenthesised group of bare values.
    ParenId,
    /// A number not yet known to be a bare value or arithmetic.
    Pnum(u32),
}

struct Elem {
    node: Option<NodeId>,
    class: Class,
    span: Range<usize>,
    /// The qualifiers a following bare value inherits (`None`: nothing to inherit).
    ctx_out: Option<Qual>,
}

struct Parser<'a> {
    src: &'a str,
    toks: Vec<Token>,
    close: Vec<Option<usize>>,
    pos: usize,
    depth: usize,
    ast: Ast,
}

fn pname(kw: Kw) -> Option<Proto> {
    Some(match kw {
        Kw::Link => Proto::Link,
        Kw::Ip => Proto::Ip,
        Kw::Arp => Proto::Arp,
        Kw::Rarp => Proto::Rarp,
        Kw::Sctp => Proto::Sctp,
        Kw::Tcp => Proto::Tcp,
        Kw::Udp => Proto::Udp,
        Kw::Icmp => Proto::Icmp,
        Kw::Igmp => Proto::Igmp,
        Kw::Igrp => Proto::Igrp,
        Kw::Pim => Proto::Pim,
        Kw::Vrrp => Proto::Vrrp,
        Kw::Carp => Proto::Carp,
        Kw::Atalk => Proto::Atalk,
        Kw::Aarp => Proto::Aarp,
        Kw::Decnet => Proto::Decnet,
        Kw::Lat => Proto::Lat,
        Kw::Sca => Proto::Sca,
        Kw::Mopdl => Proto::Mopdl,
        Kw::Moprc => Proto::Moprc,
        Kw::Ip6 => Proto::Ip6,
        Kw::Icmp6 => Proto::Icmp6,
        Kw::Ah => Proto::Ah,
        Kw::Esp => Proto::Esp,
        Kw::Iso => Proto::Iso,
        Kw::Esis => Proto::Esis,
        Kw::Isis => Proto::Isis,
        Kw::L1 => Proto::IsisL1,
        Kw::L2 => Proto::IsisL2,
        Kw::Iih => Proto::IsisIih,
        Kw::Lsp => Proto::IsisLsp,
        Kw::Snp => Proto::IsisSnp,
        Kw::Psnp => Proto::IsisPsnp,
        Kw::Csnp => Proto::IsisCsnp,
        Kw::Clnp => Proto::Clnp,
        Kw::Stp => Proto::Stp,
        Kw::Ipx => Proto::Ipx,
        Kw::Netbeui => Proto::Netbeui,
        Kw::Radio => Proto::Radio,
        _ => return None,
    })
}

fn is_dqual(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Kw(
            Kw::Src | Kw::Dst | Kw::Addr1 | Kw::Addr2 | Kw::Addr3 | Kw::Addr4 | Kw::Ra | Kw::Ta
        )
    )
}

fn aqual(t: &Tok) -> Option<AddrKind> {
    match t {
        Tok::Kw(Kw::Host) => Some(AddrKind::Host),
        Tok::Kw(Kw::Net) => Some(AddrKind::Net),
        Tok::Kw(Kw::Port) => Some(AddrKind::Port),
        Tok::Kw(Kw::Portrange) => Some(AddrKind::PortRange),
        _ => None,
    }
}

fn binop(t: &Tok) -> Option<BinOp> {
    Some(match t {
        Tok::Punct('+') => BinOp::Add,
        Tok::Punct('-') => BinOp::Sub,
        Tok::Punct('*') => BinOp::Mul,
        Tok::Punct('/') => BinOp::Div,
        Tok::Punct('%') => BinOp::Mod,
        Tok::Punct('&') => BinOp::And,
        Tok::Punct('|') => BinOp::Or,
        Tok::Punct('^') => BinOp::Xor,
        Tok::Lsh => BinOp::Lsh,
        Tok::Rsh => BinOp::Rsh,
        _ => return None,
    })
}

fn relop(t: &Tok) -> Option<RelOp> {
    Some(match t {
        Tok::Punct('>') => RelOp::Gt,
        Tok::Ge => RelOp::Ge,
        Tok::Punct('=') => RelOp::Eq,
        Tok::Le => RelOp::Le,
        Tok::Punct('<') => RelOp::Lt,
        Tok::Ne => RelOp::Ne,
        _ => return None,
    })
}

/// The grammar's precedence of an arithmetic operator; `%` and `^` have
/// none (so the parser always shifts over them).
fn prec(op: BinOp) -> Option<u8> {
    match op {
        BinOp::Or => Some(1),
        BinOp::And => Some(2),
        BinOp::Lsh | BinOp::Rsh => Some(3),
        BinOp::Add | BinOp::Sub => Some(4),
        BinOp::Mul | BinOp::Div => Some(5),
        BinOp::Mod | BinOp::Xor => None,
    }
}
const UMINUS: u8 = 6;

enum OpEntry {
    Bin(BinOp),
    Neg(usize),
    Paren(usize),
    Bracket(Proto, usize),
}

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.toks.len() - 1);
        &self.toks[i].tok
    }

    fn span(&self) -> Range<usize> {
        self.toks[self.pos].span.clone()
    }

    fn text(&self, i: usize) -> &'a str {
        &self.src[self.toks[i].span.clone()]
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn found(&self) -> String {
        self.peek().describe(self.text(self.pos))
    }

    fn unexpected(&self, what: &str) -> CompileError {
        CompileError::new(
            ErrorKind::Syntax,
            self.span(),
            format!("expected {what}, found {}", self.found()),
        )
    }

    fn enter(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > NESTING_LIMIT {
            return Err(CompileError::new(
                ErrorKind::Limit,
                self.span(),
                format!("expression nests deeper than {NESTING_LIMIT} levels"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A chain `elem (and|or elem)*` ending before `)` or the end.
    fn chain(&mut self, ctx: Option<Qual>, first: Pos) -> Result<(NodeId, Option<Qual>)> {
        let e = self.elem(ctx, first)?;
        let (mut acc, mut ctx) = self.as_term_start(e, first)?;
        while matches!(self.peek(), Tok::And | Tok::Or) {
            let is_and = self.peek() == &Tok::And;
            self.bump();
            let e = self.elem(ctx, Pos::AfterOp)?;
            let span = e.span.clone();
            let (n, c) = self.any_elem(e, ctx);
            ctx = c;
            let start = self.ast.nodes[acc].span.start;
            let node = if is_and {
                Node::And(acc, n)
            } else {
                Node::Or(acc, n)
            };
            acc = self.ast.push(node, start..span.end);
        }
        Ok((acc, ctx))
    }

    /// The first element of an expression must be a term.
    fn as_term_start(&mut self, e: Elem, pos: Pos) -> Result<(NodeId, Option<Qual>)> {
        match (e.class, e.node) {
            (Class::Term, Some(n)) => Ok((n, e.ctx_out)),
            _ => Err(CompileError::new(
                ErrorKind::Syntax,
                e.span,
                if pos == Pos::TopStart {
                    "a bare value cannot start an expression: say what it is, as in 'host 10.0.0.1' or 'port 80'"
                } else {
                    "a bare value here needs qualifiers to inherit"
                },
            )),
        }
    }

    /// Turns any element into a node; a number becomes a bare value with
    /// the inherited qualifiers.
    fn any_elem(&mut self, e: Elem, ctx: Option<Qual>) -> (NodeId, Option<Qual>) {
        match (e.class, e.node) {
            (Class::Pnum(v), _) => {
                let n = self.ast.push(
                    Node::Id {
                        qual: ctx,
                        value: IdValue::Num(v),
                    },
                    e.span,
                );
                (n, ctx)
            }
            (_, Some(n)) => (n, e.ctx_out),
            (_, None) => unreachable_node(&mut self.ast, e.span),
        }
    }

    /// One element of a chain at position `pos`.
    fn elem(&mut self, ctx: Option<Qual>, pos: Pos) -> Result<Elem> {
        // `not` chains are read iteratively.
        let mut nots = Vec::new();
        while self.peek() == &Tok::Not {
            nots.push(self.span().start);
            self.bump();
        }
        if nots.is_empty() {
            return self.atom(ctx, pos);
        }
        let inner_pos = match pos {
            Pos::TopStart => Pos::TopStart,
            Pos::IdOnly => Pos::IdOnly,
            Pos::GroupStart | Pos::AfterOp => Pos::AfterOp,
        };
        let e = self.atom(ctx, inner_pos)?;
        let (node, class, ctx_out) = match e.class {
            Class::Term => (e.node, Class::Term, e.ctx_out),
            _ => {
                let (n, _) = self.any_elem(
                    Elem {
                        node: e.node,
                        class: e.class,
                        span: e.span.clone(),
                        ctx_out: e.ctx_out,
                    },
                    ctx,
                );
                (Some(n), Class::Nid, ctx)
            }
        };
        if pos == Pos::TopStart && class != Class::Term {
            return Err(CompileError::new(
                ErrorKind::Syntax,
                e.span,
                "a bare value cannot start an expression: say what it is, as in 'host 10.0.0.1' or 'port 80'",
            ));
        }
        let mut node = node.unwrap_or(0);
        let end = e.span.end;
        let mut start = e.span.start;
        for s in nots.into_iter().rev() {
            start = s;
            node = self.ast.push(Node::Not(node), start..end);
        }
        Ok(Elem {
            node: Some(node),
            class,
            span: start..end,
            ctx_out,
        })
    }

    fn is_arith_continuation(t: &Tok) -> bool {
        binop(t).is_some() || relop(t).is_some()
    }

    fn atom(&mut self, ctx: Option<Qual>, pos: Pos) -> Result<Elem> {
        let start = self.span().start;
        let term_ok = pos != Pos::IdOnly;
        let tok = self.peek().clone();
        match tok {
            Tok::Punct('(') => {
                let after =
                    self.close[self.pos].map(|c| &self.toks[(c + 1).min(self.toks.len() - 1)].tok);
                if term_ok && after.is_some_and(Self::is_arith_continuation) {
                    return self.relation(start);
                }
                self.enter()?;
                self.bump();
                let e = self.group(ctx, start)?;
                self.leave();
                Ok(e)
            }
            Tok::Num(v) => {
                if term_ok && Self::is_arith_continuation(self.peek_at(1)) {
                    return self.relation(start);
                }
                let sp = self.bump().span;
                Ok(Elem {
                    node: None,
                    class: Class::Pnum(v),
                    span: sp,
                    ctx_out: ctx,
                })
            }
            Tok::Id(_) | Tok::Hid(_) | Tok::Hid6(_) | Tok::Eid(_) | Tok::Aid(_) => {
                if pos == Pos::TopStart {
                    return Err(CompileError::new(
                        ErrorKind::Syntax,
                        self.span(),
                        format!(
                            "expected a primitive such as 'host {0}' or 'port 80', found {1}",
                            self.text(self.pos),
                            self.found()
                        ),
                    ));
                }
                self.nid(ctx)
            }
            _ if !term_ok => Err(self.expected_value(ctx)),
            Tok::Punct('-') | Tok::Kw(Kw::Len) => self.relation(start),
            Tok::Kw(kw) => self.keyword_term(kw, start),
            _ => Err(self.unexpected(
                "a primitive (such as 'host 10.0.0.1', 'tcp port 80' or 'ip[0] = 0x45')",
            )),
        }
    }

    /// The error for a missing value after qualifiers.
    fn expected_value(&self, ctx: Option<Qual>) -> CompileError {
        let what = match ctx.map(|q| q.addr) {
            Some(AddrKind::Host) => "a host address or name after 'host'",
            Some(AddrKind::Net) => "a network address after 'net'",
            Some(AddrKind::Port) => "a port number or name after 'port'",
            Some(AddrKind::PortRange) => "a port range after 'portrange'",
            Some(AddrKind::Proto) => "a protocol number or name after 'proto'",
            Some(AddrKind::Protochain) => "a protocol number or name after 'protochain'",
            Some(AddrKind::Gateway) => "a host name after 'gateway'",
            _ => "an address, a number or a name",
        };
        self.unexpected(what)
    }

    /// After `(`: an expression group, a group of bare values, or a
    /// parenthesised number.
    fn group(&mut self, ctx: Option<Qual>, open: usize) -> Result<Elem> {
        let first = self.elem(ctx, Pos::GroupStart)?;
        match first.class {
            Class::Term => {
                let mut acc = first.node.unwrap_or(0);
                let mut c = first.ctx_out;
                while matches!(self.peek(), Tok::And | Tok::Or) {
                    let is_and = self.peek() == &Tok::And;
                    self.bump();
                    let e = self.elem(c, Pos::AfterOp)?;
                    let end = e.span.end;
                    let (n, c2) = self.any_elem(e, c);
                    c = c2;
                    let s = self.ast.nodes[acc].span.start;
                    acc = self.ast.push(
                        if is_and {
                            Node::And(acc, n)
                        } else {
                            Node::Or(acc, n)
                        },
                        s..end,
                    );
                }
                let close = self.expect_close(open)?;
                Ok(Elem {
                    node: Some(acc),
                    class: Class::Term,
                    span: open..close,
                    ctx_out: ctx,
                })
            }
            Class::Pnum(v) if self.peek() == &Tok::Punct(')') => {
                let close = self.expect_close(open)?;
                Ok(Elem {
                    node: None,
                    class: Class::Pnum(v),
                    span: open..close,
                    ctx_out: ctx,
                })
            }
            Class::ParenId => Err(CompileError::new(
                ErrorKind::Syntax,
                first.span,
                "a parenthesised group of bare values cannot start another group",
            )),
            Class::Nid | Class::Pnum(_) => {
                let (mut acc, _) = self.any_elem(first, ctx);
                while matches!(self.peek(), Tok::And | Tok::Or) {
                    let is_and = self.peek() == &Tok::And;
                    self.bump();
                    let e = self.elem(ctx, Pos::IdOnly)?;
                    let end = e.span.end;
                    let (n, _) = self.any_elem(e, ctx);
                    let s = self.ast.nodes[acc].span.start;
                    acc = self.ast.push(
                        if is_and {
                            Node::And(acc, n)
                        } else {
                            Node::Or(acc, n)
                        },
                        s..end,
                    );
                }
                if self.peek() != &Tok::Punct(')') {
                    return Err(self.unexpected("'and', 'or' or ')' in a group of bare values"));
                }
                let close = self.expect_close(open)?;
                Ok(Elem {
                    node: Some(acc),
                    class: Class::ParenId,
                    span: open..close,
                    ctx_out: ctx,
                })
            }
        }
    }

    fn expect_close(&mut self, open: usize) -> Result<usize> {
        if self.peek() == &Tok::Punct(')') {
            return Ok(self.bump().span.end);
        }
        if self.peek() == &Tok::End {
            return Err(CompileError::new(
                ErrorKind::Syntax,
                open..open + 1,
                "this '(' is never closed",
            ));
        }
        Err(self.unexpected("'and', 'or' or ')'"))
    }

    /// A bare value (`nid`): a name or an address, with the inherited
    /// qualifiers.
    fn nid(&mut self, ctx: Option<Qual>) -> Result<Elem> {
        let t = self.bump();
        let mut span = t.span.clone();
        let value = match t.tok {
            Tok::Id(name) => IdValue::Name(name),
            Tok::Hid(s) => {
                if self.peek() == &Tok::Punct('/') {
                    self.bump();
                    let Tok::Num(n) = *self.peek() else {
                        return Err(self.unexpected("a prefix length after '/'"));
                    };
                    span.end = self.bump().span.end;
                    IdValue::Ipv4Cidr(s, n)
                } else if self.peek() == &Tok::Kw(Kw::Mask) {
                    self.bump();
                    let Tok::Hid(m) = self.peek().clone() else {
                        return Err(self.unexpected("a dotted netmask after 'mask'"));
                    };
                    span.end = self.bump().span.end;
                    IdValue::Ipv4Mask(s, m)
                } else {
                    IdValue::Ipv4(s)
                }
            }
            Tok::Hid6(a) => {
                if self.peek() == &Tok::Punct('/') {
                    self.bump();
                    let Tok::Num(n) = *self.peek() else {
                        return Err(self.unexpected("a prefix length after '/'"));
                    };
                    span.end = self.bump().span.end;
                    IdValue::Ipv6(a, n)
                } else {
                    IdValue::Ipv6(a, 128)
                }
            }
            Tok::Eid(m) => IdValue::Mac(m),
            Tok::Aid(a) => IdValue::Arcnet(a),
            _ => return Err(self.unexpected("an address or a name")),
        };
        let n = self.ast.push(Node::Id { qual: ctx, value }, span.clone());
        Ok(Elem {
            node: Some(n),
            class: Class::Nid,
            span,
            ctx_out: ctx,
        })
    }

    fn term(&mut self, node: Node, span: Range<usize>) -> Elem {
        let n = self.ast.push(node, span.clone());
        Elem {
            node: Some(n),
            class: Class::Term,
            span,
            ctx_out: None,
        }
    }

    fn end_of_prev(&self) -> usize {
        self.toks[self.pos.saturating_sub(1)].span.end
    }

    /// A term that starts with a keyword.
    fn keyword_term(&mut self, kw: Kw, start: usize) -> Result<Elem> {
        if let Some(p) = pname(kw) {
            match self.peek_at(1) {
                Tok::Punct('[') => return self.relation(start),
                Tok::Kw(Kw::Broadcast) => {
                    self.bump();
                    self.bump();
                    return Ok(self.term(Node::Broadcast(Some(p)), start..self.end_of_prev()));
                }
                Tok::Kw(Kw::Multicast) => {
                    self.bump();
                    self.bump();
                    return Ok(self.term(Node::Multicast(Some(p)), start..self.end_of_prev()));
                }
                Tok::Kw(Kw::Type | Kw::Subtype | Kw::Dir) => {
                    return Err(self.foreign_80211(1));
                }
                t if is_dqual(t)
                    || aqual(t).is_some()
                    || matches!(t, Tok::Kw(Kw::Proto | Kw::Protochain | Kw::Gateway)) =>
                {
                    self.bump();
                    return self.head(Some(p), start);
                }
                _ => {
                    self.bump();
                    return Ok(self.term(Node::ProtoAbbrev(p), start..self.end_of_prev()));
                }
            }
        }
        let t = self.peek().clone();
        if is_dqual(&t)
            || aqual(&t).is_some()
            || matches!(kw, Kw::Proto | Kw::Protochain | Kw::Gateway)
        {
            return self.head(None, start);
        }
        match kw {
            Kw::Broadcast => {
                self.bump();
                Ok(self.term(Node::Broadcast(None), start..self.end_of_prev()))
            }
            Kw::Multicast => {
                self.bump();
                Ok(self.term(Node::Multicast(None), start..self.end_of_prev()))
            }
            Kw::Less | Kw::Greater | Kw::Ifindex => {
                let word = self.text(self.pos);
                self.bump();
                let Tok::Num(n) = *self.peek() else {
                    return Err(self.unexpected(&format!("a number after '{word}'")));
                };
                self.bump();
                let node = match kw {
                    Kw::Less => Node::Less(n),
                    Kw::Greater => Node::Greater(n),
                    _ => Node::Ifindex(n),
                };
                Ok(self.term(node, start..self.end_of_prev()))
            }
            Kw::Byte => {
                self.bump();
                let Tok::Num(index) = *self.peek() else {
                    return Err(self.unexpected("a byte offset after 'byte'"));
                };
                self.bump();
                let op = match self.peek() {
                    Tok::Punct('&') => ByteOp::And,
                    Tok::Punct('|') => ByteOp::Or,
                    Tok::Punct('<') => ByteOp::Lt,
                    Tok::Punct('>') => ByteOp::Gt,
                    Tok::Punct('=') => ByteOp::Eq,
                    _ => {
                        return Err(
                            self.unexpected("one of '&', '|', '<', '>', '=' after 'byte N'")
                        );
                    }
                };
                self.bump();
                let Tok::Num(value) = *self.peek() else {
                    return Err(self.unexpected("a number"));
                };
                self.bump();
                Ok(self.term(Node::Byte { index, op, value }, start..self.end_of_prev()))
            }
            Kw::Inbound | Kw::Outbound => {
                self.bump();
                Ok(self.term(
                    Node::Direction(kw == Kw::Outbound),
                    start..self.end_of_prev(),
                ))
            }
            Kw::Vlan | Kw::Mpls | Kw::Pppoes | Kw::Geneve => {
                self.bump();
                let v = self.opt_pnum()?;
                let node = match kw {
                    Kw::Vlan => Node::Vlan(v),
                    Kw::Mpls => Node::Mpls(v),
                    Kw::Pppoes => Node::Pppoes(v),
                    _ => Node::Geneve(v),
                };
                Ok(self.term(node, start..self.end_of_prev()))
            }
            Kw::Pppoed => {
                self.bump();
                Ok(self.term(Node::Pppoed, start..self.end_of_prev()))
            }
            Kw::Llc => {
                self.bump();
                let llc = match self.peek().clone() {
                    Tok::Kw(Kw::Foreign(Foreign::Rnr)) => {
                        self.bump();
                        Llc::SSubtype("rnr", 0x05)
                    }
                    Tok::Id(name) => {
                        let sp = self.bump().span;
                        llc_kind(&name).ok_or_else(|| {
                            CompileError::new(
                                ErrorKind::Invalid,
                                sp,
                                format!(
                                    "unknown LLC type '{name}' (expected i, s, u, rr, rnr, rej, ui, ua, disc, dm, sabme, test, xid or frmr)"
                                ),
                            )
                        })?
                    }
                    _ => Llc::Any,
                };
                Ok(self.term(Node::Llc(llc), start..self.end_of_prev()))
            }
            Kw::Type | Kw::Subtype | Kw::Dir => Err(self.foreign_80211(0)),
            Kw::Foreign(f) => {
                let word = self.text(self.pos);
                let what = match f {
                    Foreign::Atm => "an ATM (SunATM)",
                    Foreign::Mtp => "an SS7 MTP2/MTP3",
                    Foreign::Pflog | Foreign::Rnr => "an OpenBSD pflog",
                };
                Err(CompileError::new(
                    ErrorKind::Unsupported,
                    self.span(),
                    format!(
                        "'{word}' is {what} keyword; sluice compiles for Ethernet, raw IP, Linux cooked and loopback captures"
                    ),
                ))
            }
            Kw::Mask => Err(self.unexpected("a primitive ('mask' follows a network address)")),
            _ => Err(self.unexpected("a primitive")),
        }
    }

    fn foreign_80211(&self, ahead: usize) -> CompileError {
        let i = (self.pos + ahead).min(self.toks.len() - 1);
        CompileError::new(
            ErrorKind::Unsupported,
            self.toks[i].span.clone(),
            format!(
                "'{}' tests IEEE 802.11 frames, which sluice does not compile for",
                self.text(i)
            ),
        )
    }

    /// `NUM` or `( pnum )`, if present.
    fn opt_pnum(&mut self) -> Result<Option<u32>> {
        match self.peek() {
            Tok::Num(v) => {
                let v = *v;
                self.bump();
                Ok(Some(v))
            }
            Tok::Punct('(') => {
                let mut opens = Vec::new();
                while self.peek() == &Tok::Punct('(') {
                    opens.push(self.span().start);
                    self.bump();
                }
                let Tok::Num(v) = *self.peek() else {
                    return Err(self.unexpected("a number"));
                };
                self.bump();
                for o in opens {
                    self.expect_close(o)?;
                }
                Ok(Some(v))
            }
            _ => Ok(None),
        }
    }

    /// Qualifiers (after an optional protocol), then a bare value.
    fn head(&mut self, proto: Option<Proto>, start: usize) -> Result<Elem> {
        let mut q = Qual {
            proto,
            ..Qual::default()
        };
        let t = self.peek().clone();
        if is_dqual(&t) {
            q.dir = match t {
                Tok::Kw(Kw::Src) | Tok::Kw(Kw::Dst) => {
                    let first_src = t == Tok::Kw(Kw::Src);
                    self.bump();
                    if matches!(self.peek(), Tok::And | Tok::Or) {
                        let is_and = self.peek() == &Tok::And;
                        self.bump();
                        let other = if first_src { Kw::Dst } else { Kw::Src };
                        if self.peek() != &Tok::Kw(other) {
                            return Err(self.unexpected(if first_src {
                                "'dst' (to make 'src or dst' / 'src and dst')"
                            } else {
                                "'src' (to make 'dst or src' / 'dst and src')"
                            }));
                        }
                        self.bump();
                        if is_and { Dir::And } else { Dir::Or }
                    } else if first_src {
                        Dir::Src
                    } else {
                        Dir::Dst
                    }
                }
                Tok::Kw(k) => {
                    self.bump();
                    match k {
                        Kw::Addr1 => Dir::Addr1,
                        Kw::Addr2 => Dir::Addr2,
                        Kw::Addr3 => Dir::Addr3,
                        Kw::Addr4 => Dir::Addr4,
                        Kw::Ra => Dir::Ra,
                        _ => Dir::Ta,
                    }
                }
                _ => Dir::Default,
            };
            if let Some(a) = aqual(self.peek()) {
                self.bump();
                q.addr = a;
            }
        } else if let Some(a) = aqual(&t) {
            self.bump();
            q.addr = a;
        } else {
            q.addr = match t {
                Tok::Kw(Kw::Proto) => AddrKind::Proto,
                Tok::Kw(Kw::Protochain) => AddrKind::Protochain,
                _ => AddrKind::Gateway,
            };
            self.bump();
        }
        let e = self.elem(Some(q), Pos::IdOnly)?;
        let end = e.span.end;
        let (n, _) = self.any_elem(e, Some(q));
        // The id node keeps its own span; the term spans the qualifiers too.
        let _ = start;
        let _ = end;
        Ok(Elem {
            node: Some(n),
            class: Class::Term,
            span: start..end,
            ctx_out: Some(q),
        })
    }

    /// `arith relop arith`.
    fn relation(&mut self, start: usize) -> Result<Elem> {
        let lhs = self.arith()?;
        let Some(op) = relop(self.peek()) else {
            return Err(self.unexpected(
                "a comparison ('>', '<', '>=', '<=', '=', '!=') after the arithmetic expression",
            ));
        };
        self.bump();
        let rhs = self.arith()?;
        let end = self.ast.ariths[rhs].span.end;
        Ok(self.term(Node::Relation { op, lhs, rhs }, start..end))
    }

    /// An arithmetic expression, by operator precedence with explicit stacks.
    fn arith(&mut self) -> Result<ArithId> {
        let mut vals: Vec<ArithId> = Vec::new();
        let mut ops: Vec<OpEntry> = Vec::new();
        let mut expect_operand = true;
        loop {
            if expect_operand {
                let sp = self.span();
                match self.peek().clone() {
                    Tok::Punct('-') => {
                        self.bump();
                        ops.push(OpEntry::Neg(sp.start));
                    }
                    Tok::Punct('(') => {
                        self.bump();
                        ops.push(OpEntry::Paren(sp.start));
                        if ops.len() > NESTING_LIMIT * 4 {
                            return Err(CompileError::new(
                                ErrorKind::Limit,
                                sp,
                                "arithmetic expression nests too deeply",
                            ));
                        }
                    }
                    Tok::Num(v) => {
                        self.bump();
                        vals.push(self.ast.push_arith(Arith::Num(v), sp));
                        expect_operand = false;
                    }
                    Tok::Kw(Kw::Len) => {
                        self.bump();
                        vals.push(self.ast.push_arith(Arith::Len, sp));
                        expect_operand = false;
                    }
                    Tok::Kw(kw) if pname(kw).is_some() && self.peek_at(1) == &Tok::Punct('[') => {
                        self.bump();
                        self.bump();
                        ops.push(OpEntry::Bracket(pname(kw).unwrap_or(Proto::Link), sp.start));
                    }
                    Tok::Kw(kw) if pname(kw).is_some() => {
                        return Err(CompileError::new(
                            ErrorKind::Syntax,
                            sp,
                            format!(
                                "'{0}' in arithmetic must be followed by '[offset]', as in '{0}[0]'",
                                self.text(self.pos)
                            ),
                        ));
                    }
                    _ => {
                        return Err(self.unexpected(
                            "a number, 'len' or a header load such as 'ip[0]' or 'tcp[13:1]'",
                        ));
                    }
                }
                continue;
            }
            let tok = self.peek().clone();
            if let Some(op) = binop(&tok) {
                while let Some(top) = ops.last() {
                    let reduce = match top {
                        OpEntry::Bin(t) => match (prec(*t), prec(op)) {
                            (Some(a), Some(b)) => b <= a,
                            _ => false,
                        },
                        OpEntry::Neg(_) => prec(op).is_some_and(|b| b <= UMINUS),
                        _ => false,
                    };
                    if !reduce {
                        break;
                    }
                    self.reduce_top(&mut vals, &mut ops)?;
                }
                self.bump();
                ops.push(OpEntry::Bin(op));
                expect_operand = true;
                continue;
            }
            match tok {
                Tok::Punct(')') => {
                    // Only ours if an open parenthesis of this arithmetic is innermost.
                    let innermost = ops
                        .iter()
                        .rev()
                        .find(|o| matches!(o, OpEntry::Paren(_) | OpEntry::Bracket(..)));
                    if !matches!(innermost, Some(OpEntry::Paren(_))) {
                        break;
                    }
                    while !matches!(ops.last(), Some(OpEntry::Paren(_))) {
                        self.reduce_top(&mut vals, &mut ops)?;
                    }
                    ops.pop();
                    let end = self.bump().span.end;
                    // Widen the operand's span over the parentheses is not
                    // needed: the span stays on the inner expression.
                    let _ = end;
                }
                Tok::Punct(']') | Tok::Punct(':') => {
                    let innermost = ops
                        .iter()
                        .rev()
                        .find(|o| matches!(o, OpEntry::Paren(_) | OpEntry::Bracket(..)));
                    if !matches!(innermost, Some(OpEntry::Bracket(..))) {
                        return Err(self.unexpected("an arithmetic operator or a comparison"));
                    }
                    while !matches!(ops.last(), Some(OpEntry::Bracket(..))) {
                        self.reduce_top(&mut vals, &mut ops)?;
                    }
                    let Some(OpEntry::Bracket(proto, bstart)) = ops.pop() else {
                        return Err(self.unexpected("']'"));
                    };
                    let size = if tok == Tok::Punct(':') {
                        self.bump();
                        let Tok::Num(size) = *self.peek() else {
                            return Err(self.unexpected("a size (1, 2 or 4) after ':'"));
                        };
                        self.bump();
                        if self.peek() != &Tok::Punct(']') {
                            return Err(self.unexpected("']'"));
                        }
                        size
                    } else {
                        1
                    };
                    let end = self.bump().span.end;
                    let index = vals.pop().ok_or_else(|| self.unexpected("an offset"))?;
                    vals.push(
                        self.ast
                            .push_arith(Arith::Load { proto, index, size }, bstart..end),
                    );
                }
                _ => break,
            }
        }
        while let Some(top) = ops.last() {
            match top {
                OpEntry::Paren(s) => {
                    return Err(CompileError::new(
                        ErrorKind::Syntax,
                        *s..*s + 1,
                        format!("this '(' is never closed (found {} instead)", self.found()),
                    ));
                }
                OpEntry::Bracket(_, s) => {
                    return Err(CompileError::new(
                        ErrorKind::Syntax,
                        *s..self.span().start,
                        format!("this '[' is never closed (found {} instead)", self.found()),
                    ));
                }
                _ => self.reduce_top(&mut vals, &mut ops)?,
            }
        }
        match (vals.pop(), vals.is_empty()) {
            (Some(v), true) => Ok(v),
            _ => Err(self.unexpected("an arithmetic expression")),
        }
    }

    fn reduce_top(&mut self, vals: &mut Vec<ArithId>, ops: &mut Vec<OpEntry>) -> Result<()> {
        let err = || CompileError::new(ErrorKind::Syntax, 0..0, "malformed arithmetic expression");
        match ops.pop() {
            Some(OpEntry::Bin(op)) => {
                let r = vals.pop().ok_or_else(err)?;
                let l = vals.pop().ok_or_else(err)?;
                let span = self.ast.ariths[l].span.start..self.ast.ariths[r].span.end;
                vals.push(self.ast.push_arith(Arith::Bin(op, l, r), span));
            }
            Some(OpEntry::Neg(s)) => {
                let x = vals.pop().ok_or_else(err)?;
                let span = s..self.ast.ariths[x].span.end;
                vals.push(self.ast.push_arith(Arith::Neg(x), span));
            }
            _ => return Err(err()),
        }
        Ok(())
    }
}

fn unreachable_node(ast: &mut Ast, span: Range<usize>) -> (NodeId, Option<Qual>) {
    // Every non-number element carries a node; keep the tree well formed
    // even if that ever changes.
    let n = ast.push(
        Node::Id {
            qual: None,
            value: IdValue::Num(0),
        },
        span,
    );
    (n, None)
}

fn llc_kind(name: &str) -> Option<Llc> {
    let lower = name.to_ascii_lowercase();
    Some(match lower.as_str() {
        "i" => Llc::I,
        "s" => Llc::S,
        "u" => Llc::U,
        "rr" => Llc::SSubtype("rr", 0x01),
        "rnr" => Llc::SSubtype("rnr", 0x05),
        "rej" => Llc::SSubtype("rej", 0x09),
        "ui" => Llc::USubtype("ui", 0x03),
        "ua" => Llc::USubtype("ua", 0x63),
        "disc" => Llc::USubtype("disc", 0x43),
        "dm" => Llc::USubtype("dm", 0x0f),
        "sabme" => Llc::USubtype("sabme", 0x6f),
        "test" => Llc::USubtype("test", 0xe3),
        "xid" => Llc::USubtype("xid", 0xaf),
        "frmr" => Llc::USubtype("frmr", 0x87),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        match parse(s) {
            Ok(a) => a.to_string(),
            Err(e) => format!("ERR {}", e.render(s)),
        }
    }

    #[test]
    fn inheritance() {
        assert_eq!(p("host a or b"), "(host a or host b)");
        assert_eq!(p("tcp port 80 or 443"), "(tcp port 80 or tcp port 443)");
        assert_eq!(p("not host a and b"), "(not host a and host b)");
        assert_eq!(
            p("host 1.1.1.1 and (port 80) or 2.2.2.2"),
            "((host 1.1.1.1 and port 80) or host 2.2.2.2)"
        );
        assert_eq!(p("host a and (b or c)"), "(host a and (host b or host c))");
        assert_eq!(
            p("port 80 and ((22) or 23)"),
            "(port 80 and (port 22 or port 23))"
        );
        assert_eq!(p("src or dst host a"), "src or dst host a");
        assert_eq!(p("tcp and 80"), "(tcp and <no qualifiers> 80)");
    }

    #[test]
    fn grammar_corners() {
        for bad in [
            "host 1.1.1.1 and (2.2.2.2 and host 3.3.3.3)",
            "host 1.1.1.1 and ((2.2.2.2))",
            "host 1.1.1.1 and ((2.2.2.2) or 3.3.3.3)",
            "(not 2.2.2.2)",
            "not 2.2.2.2",
            "port 80 and (22 and port 443)",
            "tcp[0:(2)] = 1",
            "5-1",
            "len-1 > 3",
            "ip proto tcp",
            "host",
            "port 80 (",
            "less (10)",
        ] {
            assert!(p(bad).starts_with("ERR"), "{bad} parsed as {}", p(bad));
        }
        for good in [
            "host 1.1.1.1 and (2.2.2.2)",
            "host 1.1.1.1 and (not 2.2.2.2)",
            "port 80 and (443 or 22)",
            "port 80 and (80 = 80)",
            "(1) = 1",
            "((1)) = 1",
            "((len)) > 1",
            "(1 = 1)",
            "((1 = 1))",
            "port 80 and not not 22",
            "not not port 22",
            "port ((80))",
            "host (1.1.1.1)",
            "tcp[(0)] = 1",
            "vlan (100)",
            "",
        ] {
            assert!(!p(good).starts_with("ERR"), "{good}: {}", p(good));
        }
    }

    #[test]
    fn arithmetic_precedence() {
        assert_eq!(p("1 + 2 * 3 = 7"), "(1 + (2 * 3)) = 7");
        assert_eq!(p("4 % 3 + 1 = 0"), "(4 % (3 + 1)) = 0");
        assert_eq!(p("4 + 3 % 2 = 5"), "(4 + (3 % 2)) = 5");
        assert_eq!(p("-4 + 1 = 1"), "(-(4) + 1) = 1");
        assert_eq!(p("-4 % 3 = 1"), "-((4 % 3)) = 1");
        assert_eq!(p("1 - 2 - 3 = 0"), "((1 - 2) - 3) = 0");
        assert_eq!(p("1 | 2 & 3 << 1 = 0"), "(1 | (2 & (3 << 1))) = 0");
        assert_eq!(p("tcp[tcpflags] & tcp-syn != 0"), "(tcp[13:1] & 2) != 0");
        assert_eq!(
            p("ip[2:2] - (ip[0] & 0xf) * 4 > 0"),
            "(ip[2:2] - ((ip[0:1] & 15) * 4)) > 0"
        );
    }

    #[test]
    fn diagnostics() {
        assert_eq!(
            p("tcp port"),
            "ERR error: expected a port number or name after 'port', found end of expression\n  tcp port\n          ^"
        );
        assert_eq!(
            p("host 1.2.3.4 ant port 80"),
            "ERR error: expected 'and', 'or' or the end of the expression, found 'ant'\n  host 1.2.3.4 ant port 80\n               ^^^"
        );
        assert_eq!(
            p("(tcp or udp"),
            "ERR error: this '(' is never closed\n  (tcp or udp\n  ^"
        );
    }

    #[test]
    fn long_chains_do_not_recurse() {
        let mut s = String::from("host 10.0.0.1");
        for i in 0..100_000 {
            s.push_str(if i % 2 == 0 { " or " } else { " and " });
            s.push_str("10.0.0.2");
        }
        let ast = parse(&s).unwrap();
        assert!(ast.nodes.len() > 200_000);
        let text = ast.to_string();
        assert!(text.ends_with("host 10.0.0.2)"));
        let deep = "(".repeat(100_000) + "tcp" + &")".repeat(100_000);
        assert_eq!(parse(&deep).unwrap_err().kind(), ErrorKind::Limit);
        let nots = "not ".repeat(100_000) + "tcp";
        assert!(parse(&nots).is_ok());
        let arith = "1 % ".repeat(100_000) + "1 = 0";
        assert!(parse(&arith).unwrap().to_string().len() > 100_000);
    }
}
