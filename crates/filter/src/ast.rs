//! The abstract syntax tree: what the expression says, with qualifiers
//! resolved and spans kept.
//!
//! The parser applies the language's inheritance rule as it goes, so every
//! [`Node::Id`] carries the qualifiers it really has: in `tcp port 80 or 443`
//! the second id is `tcp port 443`. Nodes live in an arena ([`Ast::nodes`],
//! [`Ast::ariths`]) and refer to each other by index, so that neither
//! printing nor dropping a tree of 100,000 terms recurses.

use core::fmt;
use core::ops::Range;
use std::net::Ipv6Addr;

/// Index of a boolean node in [`Ast::nodes`].
pub type NodeId = usize;
/// Index of an arithmetic node in [`Ast::ariths`].
pub type ArithId = usize;

/// A parsed expression.
#[derive(Clone, Debug, Default)]
pub struct Ast {
    /// Boolean nodes.
    pub nodes: Vec<Spanned<Node>>,
    /// Arithmetic nodes.
    pub ariths: Vec<Spanned<Arith>>,
    /// The whole expression; `None` for the empty expression (which
    /// matches every packet).
    pub root: Option<NodeId>,
}

/// A node with the byte range of the expression it came from.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// The node.
    pub node: T,
    /// Its bytes in the expression.
    pub span: Range<usize>,
}

/// A protocol qualifier (`ether`, `ip`, `tcp`, …).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)]
pub enum Proto {
    Link,
    Ip,
    Arp,
    Rarp,
    Sctp,
    Tcp,
    Udp,
    Icmp,
    Igmp,
    Igrp,
    Pim,
    Vrrp,
    Carp,
    Atalk,
    Aarp,
    Decnet,
    Lat,
    Sca,
    Moprc,
    Mopdl,
    Ip6,
    Icmp6,
    Ah,
    Esp,
    Iso,
    Esis,
    Isis,
    IsisL1,
    IsisL2,
    IsisIih,
    IsisLsp,
    IsisSnp,
    IsisPsnp,
    IsisCsnp,
    Clnp,
    Stp,
    Ipx,
    Netbeui,
    Radio,
}

impl Proto {
    /// The keyword that names it.
    pub fn keyword(self) -> &'static str {
        match self {
            Proto::Link => "ether",
            Proto::Ip => "ip",
            Proto::Arp => "arp",
            Proto::Rarp => "rarp",
            Proto::Sctp => "sctp",
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
            Proto::Icmp => "icmp",
            Proto::Igmp => "igmp",
            Proto::Igrp => "igrp",
            Proto::Pim => "pim",
            Proto::Vrrp => "vrrp",
            Proto::Carp => "carp",
            Proto::Atalk => "atalk",
            Proto::Aarp => "aarp",
            Proto::Decnet => "decnet",
            Proto::Lat => "lat",
            Proto::Sca => "sca",
            Proto::Moprc => "moprc",
            Proto::Mopdl => "mopdl",
            Proto::Ip6 => "ip6",
            Proto::Icmp6 => "icmp6",
            Proto::Ah => "ah",
            Proto::Esp => "esp",
            Proto::Iso => "iso",
            Proto::Esis => "esis",
            Proto::Isis => "isis",
            Proto::IsisL1 => "l1",
            Proto::IsisL2 => "l2",
            Proto::IsisIih => "iih",
            Proto::IsisLsp => "lsp",
            Proto::IsisSnp => "snp",
            Proto::IsisPsnp => "psnp",
            Proto::IsisCsnp => "csnp",
            Proto::Clnp => "clnp",
            Proto::Stp => "stp",
            Proto::Ipx => "ipx",
            Proto::Netbeui => "netbeui",
            Proto::Radio => "radio",
        }
    }
}

/// A direction qualifier.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[allow(missing_docs)]
pub enum Dir {
    #[default]
    Default,
    Src,
    Dst,
    /// `src or dst`.
    Or,
    /// `src and dst`.
    And,
    Addr1,
    Addr2,
    Addr3,
    Addr4,
    Ra,
    Ta,
}

impl Dir {
    /// The words that name it (empty for the default).
    pub fn words(self) -> &'static str {
        match self {
            Dir::Default => "",
            Dir::Src => "src",
            Dir::Dst => "dst",
            Dir::Or => "src or dst",
            Dir::And => "src and dst",
            Dir::Addr1 => "addr1",
            Dir::Addr2 => "addr2",
            Dir::Addr3 => "addr3",
            Dir::Addr4 => "addr4",
            Dir::Ra => "ra",
            Dir::Ta => "ta",
        }
    }
}

/// An address-type qualifier.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
#[allow(missing_docs)]
pub enum AddrKind {
    #[default]
    Default,
    Host,
    Net,
    Port,
    PortRange,
    Gateway,
    Proto,
    Protochain,
}

impl AddrKind {
    /// The keyword that names it (empty for the default).
    pub fn keyword(self) -> &'static str {
        match self {
            AddrKind::Default => "",
            AddrKind::Host => "host",
            AddrKind::Net => "net",
            AddrKind::Port => "port",
            AddrKind::PortRange => "portrange",
            AddrKind::Gateway => "gateway",
            AddrKind::Proto => "proto",
            AddrKind::Protochain => "protochain",
        }
    }
}

/// The qualifiers of an id: protocol (`None` = default), direction,
/// address type.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Qual {
    /// `ether`, `ip`, `tcp`, … or none.
    pub proto: Option<Proto>,
    /// `src`, `dst`, …
    pub dir: Dir,
    /// `host`, `net`, `port`, …
    pub addr: AddrKind,
}

/// The value of an id, as written.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum IdValue {
    /// A name, looked up in the system's databases by qualifier.
    Name(String),
    /// A number.
    Num(u32),
    /// A dotted IPv4 address or prefix as written (`10.1`, `1.2.3.4`).
    Ipv4(String),
    /// `a.b.c.d/len` (the address may be shortened; the length may follow a number).
    Ipv4Cidr(String, u32),
    /// `a.b.c.d mask m.m.m.m`.
    Ipv4Mask(String, String),
    /// An IPv6 address with a prefix length (128 when none was written).
    Ipv6(Ipv6Addr, u32),
    /// A MAC address.
    Mac([u8; 6]),
    /// An ARCnet address (`$ab`).
    Arcnet(String),
}

/// A relation between two arithmetic expressions.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)]
pub enum RelOp {
    Gt,
    Ge,
    Eq,
    Le,
    Lt,
    Ne,
}

impl RelOp {
    /// Its symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            RelOp::Gt => ">",
            RelOp::Ge => ">=",
            RelOp::Eq => "=",
            RelOp::Le => "<=",
            RelOp::Lt => "<",
            RelOp::Ne => "!=",
        }
    }
}

/// A binary arithmetic operator.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Lsh,
    Rsh,
}

impl BinOp {
    /// Its symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::And => "&",
            BinOp::Or => "|",
            BinOp::Xor => "^",
            BinOp::Lsh => "<<",
            BinOp::Rsh => ">>",
        }
    }
}

/// The comparison of `byte N op V`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)]
pub enum ByteOp {
    And,
    Or,
    Lt,
    Gt,
    Eq,
}

/// An LLC frame test.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Llc {
    /// Any LLC frame.
    Any,
    /// Information frames.
    I,
    /// Supervisory frames.
    S,
    /// Unnumbered frames.
    U,
    /// A supervisory subtype (rr, rnr, rej) and its value.
    SSubtype(&'static str, u32),
    /// An unnumbered subtype (ui, ua, disc, dm, sabme, test, xid, frmr).
    USubtype(&'static str, u32),
}

/// A boolean node.
#[derive(Clone, Debug)]
pub enum Node {
    /// Both.
    And(NodeId, NodeId),
    /// Either.
    Or(NodeId, NodeId),
    /// Negation.
    Not(NodeId),
    /// A qualified id (`host a`, `tcp port 80`, `proto 6`); `qual` is `None`
    /// when the id follows something it cannot inherit qualifiers from
    /// (`tcp or 80`), which is an error when compiled.
    Id {
        /// The qualifiers, explicit or inherited.
        qual: Option<Qual>,
        /// The value.
        value: IdValue,
    },
    /// A protocol alone (`tcp`, `ip6`, `arp`, `l1`).
    ProtoAbbrev(Proto),
    /// A relation `lhs op rhs`.
    Relation {
        /// The operator.
        op: RelOp,
        /// Left side.
        lhs: ArithId,
        /// Right side.
        rhs: ArithId,
    },
    /// `[proto] broadcast`.
    Broadcast(Option<Proto>),
    /// `[proto] multicast`.
    Multicast(Option<Proto>),
    /// `less N`.
    Less(u32),
    /// `greater N`.
    Greater(u32),
    /// `byte N op V`.
    Byte {
        /// Byte offset.
        index: u32,
        /// Comparison.
        op: ByteOp,
        /// Value.
        value: u32,
    },
    /// `inbound` (false) / `outbound` (true).
    Direction(bool),
    /// `ifindex N`.
    Ifindex(u32),
    /// `vlan [id]`.
    Vlan(Option<u32>),
    /// `mpls [label]`.
    Mpls(Option<u32>),
    /// `pppoed`.
    Pppoed,
    /// `pppoes [session]`.
    Pppoes(Option<u32>),
    /// `geneve [vni]`.
    Geneve(Option<u32>),
    /// `llc [type]`.
    Llc(Llc),
}

/// An arithmetic node.
#[derive(Clone, Debug)]
pub enum Arith {
    /// A constant.
    Num(u32),
    /// `len`: the packet's wire length.
    Len,
    /// `proto[index : size]`.
    Load {
        /// The header the index is relative to.
        proto: Proto,
        /// The offset.
        index: ArithId,
        /// 1, 2 or 4 as written (other sizes are an error when compiled).
        size: u32,
    },
    /// `lhs op rhs`.
    Bin(BinOp, ArithId, ArithId),
    /// `-x`.
    Neg(ArithId),
}

impl Ast {
    /// Adds a boolean node.
    pub fn push(&mut self, node: Node, span: Range<usize>) -> NodeId {
        self.nodes.push(Spanned { node, span });
        self.nodes.len() - 1
    }

    /// Adds an arithmetic node.
    pub fn push_arith(&mut self, node: Arith, span: Range<usize>) -> ArithId {
        self.ariths.push(Spanned { node, span });
        self.ariths.len() - 1
    }

    fn fmt_arith(&self, root: ArithId, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Step {
            Visit(ArithId),
            Text(&'static str),
            Size(u32),
        }
        let mut stack = vec![Step::Visit(root)];
        while let Some(step) = stack.pop() {
            match step {
                Step::Text(t) => f.write_str(t)?,
                Step::Size(s) => write!(f, ":{s}]")?,
                Step::Visit(id) => match &self.ariths[id].node {
                    Arith::Num(n) => write!(f, "{n}")?,
                    Arith::Len => f.write_str("len")?,
                    Arith::Load { proto, index, size } => {
                        write!(f, "{}[", proto.keyword())?;
                        stack.push(Step::Size(*size));
                        stack.push(Step::Visit(*index));
                    }
                    Arith::Bin(op, l, r) => {
                        f.write_str("(")?;
                        stack.push(Step::Text(")"));
                        stack.push(Step::Visit(*r));
                        stack.push(Step::Text(match op {
                            BinOp::Add => " + ",
                            BinOp::Sub => " - ",
                            BinOp::Mul => " * ",
                            BinOp::Div => " / ",
                            BinOp::Mod => " % ",
                            BinOp::And => " & ",
                            BinOp::Or => " | ",
                            BinOp::Xor => " ^ ",
                            BinOp::Lsh => " << ",
                            BinOp::Rsh => " >> ",
                        }));
                        stack.push(Step::Visit(*l));
                    }
                    Arith::Neg(x) => {
                        f.write_str("-(")?;
                        stack.push(Step::Text(")"));
                        stack.push(Step::Visit(*x));
                    }
                },
            }
        }
        Ok(())
    }
}

fn fmt_qual(q: &Option<Qual>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let Some(q) = q else {
        return f.write_str("<no qualifiers> ");
    };
    if let Some(p) = q.proto {
        write!(f, "{} ", p.keyword())?;
    }
    if q.dir != Dir::Default {
        write!(f, "{} ", q.dir.words())?;
    }
    if q.addr != AddrKind::Default {
        write!(f, "{} ", q.addr.keyword())?;
    }
    Ok(())
}

impl fmt::Display for IdValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IdValue::Name(n) => write!(f, "{n}"),
            IdValue::Num(n) => write!(f, "{n}"),
            IdValue::Ipv4(s) => write!(f, "{s}"),
            IdValue::Ipv4Cidr(s, l) => write!(f, "{s}/{l}"),
            IdValue::Ipv4Mask(s, m) => write!(f, "{s} mask {m}"),
            IdValue::Ipv6(a, 128) => write!(f, "{a}"),
            IdValue::Ipv6(a, l) => write!(f, "{a}/{l}"),
            IdValue::Mac(m) => write!(
                f,
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                m[0], m[1], m[2], m[3], m[4], m[5]
            ),
            IdValue::Arcnet(a) => write!(f, "${a}"),
        }
    }
}

/// Prints the expression fully parenthesised, every id with its resolved
/// qualifiers: `tcp port 80 or 443` prints as `(tcp port 80 or tcp port 443)`.
impl fmt::Display for Ast {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum Step {
            Visit(NodeId),
            Text(&'static str),
        }
        let Some(root) = self.root else {
            return f.write_str("<empty: matches every packet>");
        };
        let mut stack = vec![Step::Visit(root)];
        while let Some(step) = stack.pop() {
            let id = match step {
                Step::Text(t) => {
                    f.write_str(t)?;
                    continue;
                }
                Step::Visit(id) => id,
            };
            match &self.nodes[id].node {
                Node::And(l, r) | Node::Or(l, r) => {
                    let op = if matches!(self.nodes[id].node, Node::And(..)) {
                        " and "
                    } else {
                        " or "
                    };
                    f.write_str("(")?;
                    stack.push(Step::Text(")"));
                    stack.push(Step::Visit(*r));
                    stack.push(Step::Text(op));
                    stack.push(Step::Visit(*l));
                }
                Node::Not(x) => {
                    f.write_str("not ")?;
                    stack.push(Step::Visit(*x));
                }
                Node::Id { qual, value } => {
                    fmt_qual(qual, f)?;
                    write!(f, "{value}")?;
                }
                Node::ProtoAbbrev(p) => f.write_str(p.keyword())?,
                Node::Relation { op, lhs, rhs } => {
                    self.fmt_arith(*lhs, f)?;
                    write!(f, " {} ", op.symbol())?;
                    self.fmt_arith(*rhs, f)?;
                }
                Node::Broadcast(p) | Node::Multicast(p) => {
                    if let Some(p) = p {
                        write!(f, "{} ", p.keyword())?;
                    }
                    f.write_str(if matches!(self.nodes[id].node, Node::Broadcast(_)) {
                        "broadcast"
                    } else {
                        "multicast"
                    })?;
                }
                Node::Less(n) => write!(f, "less {n}")?,
                Node::Greater(n) => write!(f, "greater {n}")?,
                Node::Byte { index, op, value } => {
                    let op = match op {
                        ByteOp::And => "&",
                        ByteOp::Or => "|",
                        ByteOp::Lt => "<",
                        ByteOp::Gt => ">",
                        ByteOp::Eq => "=",
                    };
                    write!(f, "byte {index} {op} {value}")?;
                }
                Node::Direction(out) => f.write_str(if *out { "outbound" } else { "inbound" })?,
                Node::Ifindex(n) => write!(f, "ifindex {n}")?,
                Node::Vlan(v) => opt_arg(f, "vlan", *v)?,
                Node::Mpls(v) => opt_arg(f, "mpls", *v)?,
                Node::Pppoed => f.write_str("pppoed")?,
                Node::Pppoes(v) => opt_arg(f, "pppoes", *v)?,
                Node::Geneve(v) => opt_arg(f, "geneve", *v)?,
                Node::Llc(l) => match l {
                    Llc::Any => f.write_str("llc")?,
                    Llc::I => f.write_str("llc i")?,
                    Llc::S => f.write_str("llc s")?,
                    Llc::U => f.write_str("llc u")?,
                    Llc::SSubtype(n, _) | Llc::USubtype(n, _) => write!(f, "llc {n}")?,
                },
            }
        }
        Ok(())
    }
}

fn opt_arg(f: &mut fmt::Formatter<'_>, kw: &str, v: Option<u32>) -> fmt::Result {
    match v {
        Some(v) => write!(f, "{kw} {v}"),
        None => f.write_str(kw),
    }
}
