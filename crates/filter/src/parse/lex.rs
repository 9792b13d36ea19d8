//! The lexer: expression text to tokens with byte spans.
//!
//! It follows the rules of libpcap's scanner, including its longest-match
//! behaviour: at each position every token rule is tried, the longest match
//! wins and, on a tie, the rule listed first (keywords before names). So
//! `hostx` is a name, `tcp-syn` is the number 2, `1.2.3.4` is an IPv4
//! address but `1.2.3.4.` a name, `len-1` a single name and `a:b:c:d:e:f`
//! a MAC address.

use core::ops::Range;
use std::net::Ipv6Addr;
use std::str::FromStr;

use crate::error::{CompileError, ErrorKind, Result};

/// A keyword of the language.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)]
pub enum Kw {
    Dst,
    Src,
    Link,
    Arp,
    Rarp,
    Ip,
    Sctp,
    Tcp,
    Udp,
    Icmp,
    Igmp,
    Igrp,
    Pim,
    Vrrp,
    Carp,
    Radio,
    Ip6,
    Icmp6,
    Ah,
    Esp,
    Atalk,
    Aarp,
    Decnet,
    Lat,
    Sca,
    Moprc,
    Mopdl,
    Iso,
    Esis,
    Isis,
    L1,
    L2,
    Iih,
    Lsp,
    Snp,
    Csnp,
    Psnp,
    Clnp,
    Stp,
    Ipx,
    Netbeui,
    Host,
    Net,
    Mask,
    Port,
    Portrange,
    Proto,
    Protochain,
    Gateway,
    Type,
    Subtype,
    Dir,
    Addr1,
    Addr2,
    Addr3,
    Addr4,
    Ra,
    Ta,
    Less,
    Greater,
    Byte,
    Broadcast,
    Multicast,
    Len,
    Inbound,
    Outbound,
    Ifindex,
    Vlan,
    Mpls,
    Pppoed,
    Pppoes,
    Geneve,
    Llc,
    /// A keyword of a link type sluice does not compile for (ATM, MTP2/3,
    /// PF log fields); kept so that such expressions are rejected with a
    /// clear message.
    Foreign(Foreign),
}

/// Keywords of link types other than the supported ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[allow(missing_docs)]
pub enum Foreign {
    /// ATM (SunATM): `lane`, `vpi`, `oam`, …
    Atm,
    /// SS7 MTP2/MTP3: `fisu`, `sio`, `opc`, …
    Mtp,
    /// OpenBSD pflog: `on`, `ruleset`, `reason`, …
    Pflog,
    /// `rnr`/`rulenum`: a pflog keyword that is also an LLC S-frame subtype.
    Rnr,
}

const KEYWORDS: &[(&str, Kw)] = &[
    ("dst", Kw::Dst),
    ("src", Kw::Src),
    ("link", Kw::Link),
    ("ether", Kw::Link),
    ("ppp", Kw::Link),
    ("slip", Kw::Link),
    ("fddi", Kw::Link),
    ("tr", Kw::Link),
    ("wlan", Kw::Link),
    ("arp", Kw::Arp),
    ("rarp", Kw::Rarp),
    ("ip", Kw::Ip),
    ("sctp", Kw::Sctp),
    ("tcp", Kw::Tcp),
    ("udp", Kw::Udp),
    ("icmp", Kw::Icmp),
    ("igmp", Kw::Igmp),
    ("igrp", Kw::Igrp),
    ("pim", Kw::Pim),
    ("vrrp", Kw::Vrrp),
    ("carp", Kw::Carp),
    ("radio", Kw::Radio),
    ("ip6", Kw::Ip6),
    ("icmp6", Kw::Icmp6),
    ("ah", Kw::Ah),
    ("esp", Kw::Esp),
    ("atalk", Kw::Atalk),
    ("aarp", Kw::Aarp),
    ("decnet", Kw::Decnet),
    ("lat", Kw::Lat),
    ("sca", Kw::Sca),
    ("moprc", Kw::Moprc),
    ("mopdl", Kw::Mopdl),
    ("iso", Kw::Iso),
    ("esis", Kw::Esis),
    ("es-is", Kw::Esis),
    ("isis", Kw::Isis),
    ("is-is", Kw::Isis),
    ("l1", Kw::L1),
    ("l2", Kw::L2),
    ("iih", Kw::Iih),
    ("lsp", Kw::Lsp),
    ("snp", Kw::Snp),
    ("csnp", Kw::Csnp),
    ("psnp", Kw::Psnp),
    ("clnp", Kw::Clnp),
    ("stp", Kw::Stp),
    ("ipx", Kw::Ipx),
    ("netbeui", Kw::Netbeui),
    ("host", Kw::Host),
    ("net", Kw::Net),
    ("mask", Kw::Mask),
    ("port", Kw::Port),
    ("portrange", Kw::Portrange),
    ("proto", Kw::Proto),
    ("protochain", Kw::Protochain),
    ("gateway", Kw::Gateway),
    ("type", Kw::Type),
    ("subtype", Kw::Subtype),
    ("direction", Kw::Dir),
    ("dir", Kw::Dir),
    ("address1", Kw::Addr1),
    ("addr1", Kw::Addr1),
    ("address2", Kw::Addr2),
    ("addr2", Kw::Addr2),
    ("address3", Kw::Addr3),
    ("addr3", Kw::Addr3),
    ("address4", Kw::Addr4),
    ("addr4", Kw::Addr4),
    ("ra", Kw::Ra),
    ("ta", Kw::Ta),
    ("less", Kw::Less),
    ("greater", Kw::Greater),
    ("byte", Kw::Byte),
    ("broadcast", Kw::Broadcast),
    ("multicast", Kw::Multicast),
    ("len", Kw::Len),
    ("length", Kw::Len),
    ("inbound", Kw::Inbound),
    ("outbound", Kw::Outbound),
    ("ifindex", Kw::Ifindex),
    ("vlan", Kw::Vlan),
    ("mpls", Kw::Mpls),
    ("pppoed", Kw::Pppoed),
    ("pppoes", Kw::Pppoes),
    ("geneve", Kw::Geneve),
    ("llc", Kw::Llc),
    ("lane", Kw::Foreign(Foreign::Atm)),
    ("metac", Kw::Foreign(Foreign::Atm)),
    ("bcc", Kw::Foreign(Foreign::Atm)),
    ("oam", Kw::Foreign(Foreign::Atm)),
    ("oamf4", Kw::Foreign(Foreign::Atm)),
    ("oamf4ec", Kw::Foreign(Foreign::Atm)),
    ("oamf4sc", Kw::Foreign(Foreign::Atm)),
    ("sc", Kw::Foreign(Foreign::Atm)),
    ("ilmic", Kw::Foreign(Foreign::Atm)),
    ("vpi", Kw::Foreign(Foreign::Atm)),
    ("vci", Kw::Foreign(Foreign::Atm)),
    ("connectmsg", Kw::Foreign(Foreign::Atm)),
    ("metaconnect", Kw::Foreign(Foreign::Atm)),
    ("on", Kw::Foreign(Foreign::Pflog)),
    ("ifname", Kw::Foreign(Foreign::Pflog)),
    ("rset", Kw::Foreign(Foreign::Pflog)),
    ("ruleset", Kw::Foreign(Foreign::Pflog)),
    ("rnr", Kw::Foreign(Foreign::Rnr)),
    ("rulenum", Kw::Foreign(Foreign::Rnr)),
    ("srnr", Kw::Foreign(Foreign::Pflog)),
    ("subrulenum", Kw::Foreign(Foreign::Pflog)),
    ("reason", Kw::Foreign(Foreign::Pflog)),
    ("action", Kw::Foreign(Foreign::Pflog)),
    ("fisu", Kw::Foreign(Foreign::Mtp)),
    ("lssu", Kw::Foreign(Foreign::Mtp)),
    ("lsu", Kw::Foreign(Foreign::Mtp)),
    ("msu", Kw::Foreign(Foreign::Mtp)),
    ("hfisu", Kw::Foreign(Foreign::Mtp)),
    ("hlssu", Kw::Foreign(Foreign::Mtp)),
    ("hmsu", Kw::Foreign(Foreign::Mtp)),
    ("sio", Kw::Foreign(Foreign::Mtp)),
    ("opc", Kw::Foreign(Foreign::Mtp)),
    ("dpc", Kw::Foreign(Foreign::Mtp)),
    ("sls", Kw::Foreign(Foreign::Mtp)),
    ("hsio", Kw::Foreign(Foreign::Mtp)),
    ("hopc", Kw::Foreign(Foreign::Mtp)),
    ("hdpc", Kw::Foreign(Foreign::Mtp)),
    ("hsls", Kw::Foreign(Foreign::Mtp)),
];

/// Named numbers: offsets and values for ICMP, ICMPv6 and TCP.
const CONSTANTS: &[(&str, u32)] = &[
    ("icmptype", 0),
    ("icmpcode", 1),
    ("icmp-echoreply", 0),
    ("icmp-unreach", 3),
    ("icmp-sourcequench", 4),
    ("icmp-redirect", 5),
    ("icmp-echo", 8),
    ("icmp-routeradvert", 9),
    ("icmp-routersolicit", 10),
    ("icmp-timxceed", 11),
    ("icmp-paramprob", 12),
    ("icmp-tstamp", 13),
    ("icmp-tstampreply", 14),
    ("icmp-ireq", 15),
    ("icmp-ireqreply", 16),
    ("icmp-maskreq", 17),
    ("icmp-maskreply", 18),
    ("icmp6type", 0),
    ("icmp6code", 1),
    ("icmp6-destinationunreach", 1),
    ("icmp6-packettoobig", 2),
    ("icmp6-timeexceeded", 3),
    ("icmp6-parameterproblem", 4),
    ("icmp6-echo", 128),
    ("icmp6-echoreply", 129),
    ("icmp6-multicastlistenerquery", 130),
    ("icmp6-multicastlistenerreportv1", 131),
    ("icmp6-multicastlistenerdone", 132),
    ("icmp6-routersolicit", 133),
    ("icmp6-routeradvert", 134),
    ("icmp6-neighborsolicit", 135),
    ("icmp6-neighboradvert", 136),
    ("icmp6-redirect", 137),
    ("icmp6-routerrenum", 138),
    ("icmp6-nodeinformationquery", 139),
    ("icmp6-nodeinformationresponse", 140),
    ("icmp6-ineighbordiscoverysolicit", 141),
    ("icmp6-ineighbordiscoveryadvert", 142),
    ("icmp6-multicastlistenerreportv2", 143),
    ("icmp6-homeagentdiscoveryrequest", 144),
    ("icmp6-homeagentdiscoveryreply", 145),
    ("icmp6-mobileprefixsolicit", 146),
    ("icmp6-mobileprefixadvert", 147),
    ("icmp6-certpathsolicit", 148),
    ("icmp6-certpathadvert", 149),
    ("icmp6-multicastrouteradvert", 151),
    ("icmp6-multicastroutersolicit", 152),
    ("icmp6-multicastrouterterm", 153),
    ("tcpflags", 13),
    ("tcp-fin", 0x01),
    ("tcp-syn", 0x02),
    ("tcp-rst", 0x04),
    ("tcp-push", 0x08),
    ("tcp-ack", 0x10),
    ("tcp-urg", 0x20),
    ("tcp-ece", 0x40),
    ("tcp-cwr", 0x80),
];

/// One token.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Tok {
    /// A keyword.
    Kw(Kw),
    /// A number (decimal, `0x` hex, leading-`0` octal, or a named constant).
    Num(u32),
    /// A name (host, port, protocol, network…); `\name` escapes a keyword.
    Id(String),
    /// A dotted IPv4 address or prefix, 2 to 4 parts (`10.1`, `1.2.3.4`).
    Hid(String),
    /// A numeric IPv6 address.
    Hid6(Ipv6Addr),
    /// A MAC address in any of libpcap's notations.
    Eid([u8; 6]),
    /// An ARCnet address (`$ab`).
    Aid(String),
    /// `and`, `&&`.
    And,
    /// `or`, `||`.
    Or,
    /// `not`, `!`.
    Not,
    /// `>=`.
    Ge,
    /// `<=`.
    Le,
    /// `!=`.
    Ne,
    /// `<<`.
    Lsh,
    /// `>>`.
    Rsh,
    /// One of `+ - * / % : [ ] < > ( ) & | ^ =` (`==` is `=`).
    Punct(char),
    /// The end of the expression.
    End,
}

impl Tok {
    /// How the token reads in a message: `'tcp'`, `'('`, `end of expression`.
    pub fn describe(&self, text: &str) -> String {
        match self {
            Tok::End => "end of expression".to_string(),
            _ => format!("'{text}'"),
        }
    }
}

/// A token with its byte range in the expression.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Token {
    /// The token.
    pub tok: Tok,
    /// Where it is.
    pub span: Range<usize>,
}

/// Splits `src` into tokens; the last one is always [`Tok::End`].
pub fn lex(src: &str) -> Result<Vec<Token>> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if matches!(c, b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
            continue;
        }
        let (len, tok) = next_token(src, i)?;
        out.push(Token {
            tok,
            span: i..i + len,
        });
        i += len;
    }
    out.push(Token {
        tok: Tok::End,
        span: b.len()..b.len(),
    });
    Ok(out)
}

/// Rule order of the scanner; on equal length the lower one wins.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Rule {
    Keyword,
    Op,
    Aid,
    Mac,
    Num,
    Hid,
    Hid6,
    BogusMac,
    Constant,
    Id,
    EscapedId,
}

fn next_token(src: &str, at: usize) -> Result<(usize, Tok)> {
    let s = &src.as_bytes()[at..];
    let mut best: Option<(usize, Rule)> = None;
    let mut offer = |len: usize, rule: Rule| {
        if len == 0 {
            return;
        }
        match best {
            Some((l, r)) if l > len || (l == len && r < rule) => {}
            _ => best = Some((len, rule)),
        }
    };
    let id_len = match_id(s);
    if id_len > 0 {
        let word = &src[at..at + id_len];
        if KEYWORDS.iter().any(|(k, _)| *k == word)
            || word == "and"
            || word == "or"
            || word == "not"
        {
            offer(id_len, Rule::Keyword);
        }
        if CONSTANTS.iter().any(|(k, _)| *k == word) {
            offer(id_len, Rule::Constant);
        }
        offer(id_len, Rule::Id);
    }
    offer(match_op(s), Rule::Op);
    offer(match_aid(s), Rule::Aid);
    offer(match_mac(s), Rule::Mac);
    offer(match_num(s), Rule::Num);
    offer(match_hid(s), Rule::Hid);
    offer(match_v6(s), Rule::Hid6);
    offer(match_bogus_mac(s), Rule::BogusMac);
    offer(match_escaped(s), Rule::EscapedId);

    let Some((len, rule)) = best else {
        let ch = src[at..].chars().next().unwrap_or('?');
        return Err(CompileError::new(
            ErrorKind::Lex,
            at..at + ch.len_utf8(),
            format!("unexpected character '{}'", ch.escape_default()),
        ));
    };
    let text = &src[at..at + len];
    let span = at..at + len;
    let tok = match rule {
        Rule::Keyword => match text {
            "and" => Tok::And,
            "or" => Tok::Or,
            "not" => Tok::Not,
            _ => Tok::Kw(
                KEYWORDS
                    .iter()
                    .find(|(k, _)| *k == text)
                    .map(|(_, kw)| *kw)
                    .ok_or_else(|| internal(span.clone()))?,
            ),
        },
        Rule::Constant => Tok::Num(
            CONSTANTS
                .iter()
                .find(|(k, _)| *k == text)
                .map(|(_, v)| *v)
                .ok_or_else(|| internal(span.clone()))?,
        ),
        Rule::Op => match text {
            "&&" => Tok::And,
            "||" => Tok::Or,
            "!" => Tok::Not,
            ">=" => Tok::Ge,
            "<=" => Tok::Le,
            "!=" => Tok::Ne,
            "==" => Tok::Punct('='),
            "<<" => Tok::Lsh,
            ">>" => Tok::Rsh,
            _ => Tok::Punct(text.chars().next().unwrap_or('?')),
        },
        Rule::Aid => Tok::Aid(text[1..].to_string()),
        Rule::Mac => Tok::Eid(parse_mac(text)),
        Rule::Num => Tok::Num(parse_number(text, span.clone())?),
        Rule::Hid => Tok::Hid(text.to_string()),
        Rule::Hid6 => match Ipv6Addr::from_str(text) {
            Ok(a) => Tok::Hid6(a),
            Err(_) => {
                return Err(CompileError::new(
                    ErrorKind::Lex,
                    span,
                    format!("'{text}' is not a valid IPv6 address"),
                ));
            }
        },
        Rule::BogusMac => {
            return Err(CompileError::new(
                ErrorKind::Lex,
                span,
                format!("'{text}' is not a valid MAC address (six bytes are needed)"),
            ));
        }
        Rule::Id => Tok::Id(text.to_string()),
        Rule::EscapedId => Tok::Id(text[1..].to_string()),
    };
    Ok((len, tok))
}

fn internal(span: Range<usize>) -> CompileError {
    CompileError::new(ErrorKind::Lex, span, "internal lexer error")
}

fn is_hex(c: u8) -> bool {
    c.is_ascii_hexdigit()
}

fn hex_run(s: &[u8], from: usize, max: usize) -> usize {
    s.iter()
        .skip(from)
        .take(max)
        .take_while(|c| is_hex(**c))
        .count()
}

/// `[A-Za-z0-9]([-_.A-Za-z0-9]*[.A-Za-z0-9])?`
fn match_id(s: &[u8]) -> usize {
    if s.is_empty() || !s[0].is_ascii_alphanumeric() {
        return 0;
    }
    let mut end = 1;
    let mut last_ok = 1;
    while end < s.len() && (s[end].is_ascii_alphanumeric() || matches!(s[end], b'-' | b'_' | b'.'))
    {
        end += 1;
        if s[end - 1].is_ascii_alphanumeric() || s[end - 1] == b'.' {
            last_ok = end;
        }
    }
    last_ok
}

fn match_op(s: &[u8]) -> usize {
    if s.len() >= 2 {
        let two = &s[..2];
        if matches!(
            two,
            b"&&" | b"||" | b">=" | b"<=" | b"!=" | b"==" | b"<<" | b">>"
        ) {
            return 2;
        }
    }
    match s.first() {
        Some(
            b'+' | b'-' | b'*' | b'/' | b'%' | b':' | b'[' | b']' | b'!' | b'<' | b'>' | b'('
            | b')' | b'&' | b'|' | b'^' | b'=',
        ) => 1,
        _ => 0,
    }
}

/// `$` followed by one or two hex digits.
fn match_aid(s: &[u8]) -> usize {
    if s.first() != Some(&b'$') {
        return 0;
    }
    let n = hex_run(s, 1, 2);
    if n == 0 { 0 } else { 1 + n }
}

/// The five MAC notations: `B:B:B:B:B:B`, `B-B-…`, `B.B.…` (B = 1 or 2 hex
/// digits), `HHHH.HHHH.HHHH` and twelve hex digits.
fn match_mac(s: &[u8]) -> usize {
    let mut best = 0;
    for sep in [b':', b'-', b'.'] {
        let mut p = 0;
        let mut ok = true;
        for g in 0..6 {
            let n = hex_run(s, p, 2);
            if n == 0 {
                ok = false;
                break;
            }
            p += n;
            if g < 5 {
                if s.get(p) != Some(&sep) {
                    ok = false;
                    break;
                }
                p += 1;
            }
        }
        if ok {
            best = best.max(p);
        }
    }
    // HHHH.HHHH.HHHH
    if s.len() >= 14
        && (0..14).all(|i| {
            if i == 4 || i == 9 {
                s[i] == b'.'
            } else {
                is_hex(s[i])
            }
        })
    {
        best = best.max(14);
    }
    if s.len() >= 12 && s[..12].iter().all(|c| is_hex(*c)) {
        best = best.max(12);
    }
    best
}

/// `{B}:+({B}:+)+`: something that looks like a MAC address but is not one.
fn match_bogus_mac(s: &[u8]) -> usize {
    let mut p = 0;
    let mut groups = 0;
    loop {
        let n = hex_run(s, p, 2);
        if n == 0 {
            break;
        }
        let mut q = p + n;
        let colons = s[q..].iter().take_while(|c| **c == b':').count();
        if colons == 0 {
            break;
        }
        q += colons;
        groups += 1;
        p = q;
    }
    if groups >= 2 { p } else { 0 }
}

/// The maximal ends of `{N}` at `p`: a decimal run, or `0x` and a hex run.
fn num_ends(s: &[u8], p: usize) -> [Option<usize>; 2] {
    let dec = s[p.min(s.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    let dec = (dec > 0).then_some(p + dec);
    let hex = if s.len() > p + 2 && s[p] == b'0' && (s[p + 1] == b'x' || s[p + 1] == b'X') {
        let n = s[p + 2..].iter().take_while(|c| is_hex(**c)).count();
        (n > 0).then_some(p + 2 + n)
    } else {
        None
    };
    [dec, hex]
}

fn match_num(s: &[u8]) -> usize {
    let [a, b] = num_ends(s, 0);
    a.unwrap_or(0).max(b.unwrap_or(0))
}

/// `{N}\.{N}` with one to three dots.
fn match_hid(s: &[u8]) -> usize {
    let mut best = 0;
    let mut frontier: Vec<usize> = num_ends(s, 0).into_iter().flatten().collect();
    for _ in 0..3 {
        let mut next = Vec::new();
        for e in frontier {
            if s.get(e) == Some(&b'.') {
                for e2 in num_ends(s, e + 1).into_iter().flatten() {
                    best = best.max(e2);
                    next.push(e2);
                }
            }
        }
        frontier = next;
    }
    best
}

/// `N.N.N.N` at `p` (the IPv4 tail of an IPv6 address): its longest end.
fn v4_tail(s: &[u8], p: usize) -> Option<usize> {
    let mut frontier: Vec<usize> = num_ends(s, p).into_iter().flatten().collect();
    for _ in 0..3 {
        let mut next = Vec::new();
        for e in frontier {
            if s.get(e) == Some(&b'.') {
                next.extend(num_ends(s, e + 1).into_iter().flatten());
            }
        }
        frontier = next;
    }
    frontier.into_iter().max()
}

/// The longest prefix that is one of the scanner's IPv6 shapes: eight
/// groups, or fewer around one `::`, optionally ending in a dotted IPv4
/// tail (six groups before it, or at most five with `::`).
fn match_v6(s: &[u8]) -> usize {
    let mut best = 0;
    let mut seen = std::collections::HashSet::new();
    // (position at the start of a group slot, groups so far, saw `::`, may the
    // slot be empty (right after `::`))
    let mut stack: Vec<(usize, usize, bool)> = Vec::new();
    if s.starts_with(b"::") {
        best = 2;
        stack.push((2, 0, true));
    } else {
        stack.push((0, 0, false));
    }
    while let Some((p, n, dc)) = stack.pop() {
        if !seen.insert((p, n, dc)) {
            continue;
        }
        // An IPv4 tail, only after a separator.
        if p > 0
            && let Some(e) = v4_tail(s, p)
            && ((!dc && n == 6) || (dc && n <= 5))
        {
            best = best.max(e);
        }
        let h = hex_run(s, p, usize::MAX);
        for k in 1..=h.min(4) {
            let e = p + k;
            let n2 = n + 1;
            if n2 > 8 {
                break;
            }
            if (!dc && n2 == 8) || (dc && n2 <= 7) {
                best = best.max(e);
            }
            if k < h {
                continue; // a hex digit follows: no separator can
            }
            if s.get(e) == Some(&b':') {
                if s.get(e + 1) == Some(&b':') {
                    if !dc && n2 <= 7 {
                        best = best.max(e + 2);
                        stack.push((e + 2, n2, true));
                    }
                } else {
                    stack.push((e + 1, n2, dc));
                }
            }
        }
    }
    best
}

/// `\` followed by anything up to a blank, `!`, `(` or `)`.
fn match_escaped(s: &[u8]) -> usize {
    if s.first() != Some(&b'\\') {
        return 0;
    }
    let n = s[1..]
        .iter()
        .take_while(|c| !matches!(c, b' ' | b'!' | b'(' | b')' | b'\n' | b'\t'))
        .count();
    if n == 0 { 0 } else { 1 + n }
}

/// Reads a MAC address in any notation (the text matched [`match_mac`]).
fn parse_mac(text: &str) -> [u8; 6] {
    let b = text.as_bytes();
    let mut out = [0u8; 6];
    let mut i = 0;
    let mut n = 0;
    while i < b.len() && n < 6 {
        if matches!(b[i], b':' | b'.' | b'-') {
            i += 1;
            continue;
        }
        let mut d = hexval(b[i]);
        i += 1;
        if i < b.len() && is_hex(b[i]) {
            d = (d << 4) | hexval(b[i]);
            i += 1;
        }
        out[n] = d;
        n += 1;
    }
    out
}

fn hexval(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        _ => c.wrapping_sub(b'A').wrapping_add(10),
    }
}

/// A number: `0x` hex, a leading `0` octal, else decimal; 32 bits at most.
pub fn parse_number(text: &str, span: Range<usize>) -> Result<u32> {
    let overflow = || {
        CompileError::new(
            ErrorKind::Lex,
            span.clone(),
            format!("number {text} does not fit in 32 bits"),
        )
    };
    let b = text.as_bytes();
    let (digits, radix) = if b.len() > 1 && b[0] == b'0' && (b[1] == b'x' || b[1] == b'X') {
        (&text[2..], 16)
    } else if b.len() > 1 && b[0] == b'0' {
        (&text[1..], 8)
    } else {
        (text, 10)
    };
    let mut n: u32 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix).ok_or_else(|| {
            CompileError::new(
                ErrorKind::Lex,
                span.clone(),
                format!("number {text} has a digit that is not octal"),
            )
        })?;
        n = n
            .checked_mul(radix)
            .and_then(|n| n.checked_add(d))
            .ok_or_else(overflow)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn keywords_names_and_constants() {
        assert_eq!(
            toks("host hostx tcp-syn len-1 es-is"),
            vec![
                Tok::Kw(Kw::Host),
                Tok::Id("hostx".into()),
                Tok::Num(2),
                Tok::Id("len-1".into()),
                Tok::Kw(Kw::Esis),
                Tok::End
            ]
        );
        assert_eq!(toks("\\tcp"), vec![Tok::Id("tcp".into()), Tok::End]);
        assert_eq!(toks("TCP"), vec![Tok::Id("TCP".into()), Tok::End]);
    }

    #[test]
    fn numbers() {
        assert_eq!(
            toks("0x1F 017 42"),
            vec![Tok::Num(31), Tok::Num(15), Tok::Num(42), Tok::End]
        );
        assert!(lex("4294967296").is_err());
        assert_eq!(toks("4294967295"), vec![Tok::Num(u32::MAX), Tok::End]);
        assert!(lex("09").is_err());
        assert_eq!(toks("0x"), vec![Tok::Id("0x".into()), Tok::End]);
    }

    #[test]
    fn addresses() {
        assert_eq!(toks("10.1"), vec![Tok::Hid("10.1".into()), Tok::End]);
        assert_eq!(toks("1.2.3.4."), vec![Tok::Id("1.2.3.4.".into()), Tok::End]);
        let mac = [0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff];
        for m in [
            "aa:bb:cc:dd:ee:ff",
            "aa-bb-cc-dd-ee-ff",
            "aabb.ccdd.eeff",
            "aabbccddeeff",
            "aa.bb.cc.dd.ee.ff",
        ] {
            assert_eq!(toks(m), vec![Tok::Eid(mac), Tok::End], "{m}");
        }
        assert_eq!(
            toks("1:2:3:4:5:6"),
            vec![Tok::Eid([1, 2, 3, 4, 5, 6]), Tok::End]
        );
        assert_eq!(
            toks("fd77::1"),
            vec![Tok::Hid6("fd77::1".parse().unwrap()), Tok::End]
        );
        assert_eq!(toks("::"), vec![Tok::Hid6(Ipv6Addr::UNSPECIFIED), Tok::End]);
        assert_eq!(
            toks("::ffff:1.2.3.4"),
            vec![Tok::Hid6("::ffff:1.2.3.4".parse().unwrap()), Tok::End]
        );
        assert_eq!(
            toks("1:2:3:4:5:6:7:8"),
            vec![Tok::Hid6("1:2:3:4:5:6:7:8".parse().unwrap()), Tok::End]
        );
        assert!(lex("1:2:3:4:5").is_err());
        assert_eq!(toks("$1f"), vec![Tok::Aid("1f".into()), Tok::End]);
    }

    #[test]
    fn operators() {
        assert_eq!(
            toks("a&&b||!c == >= <= != << >> &"),
            vec![
                Tok::Id("a".into()),
                Tok::And,
                Tok::Id("b".into()),
                Tok::Or,
                Tok::Not,
                Tok::Id("c".into()),
                Tok::Punct('='),
                Tok::Ge,
                Tok::Le,
                Tok::Ne,
                Tok::Lsh,
                Tok::Rsh,
                Tok::Punct('&'),
                Tok::End
            ]
        );
        let e = lex("port 80 # x").unwrap_err();
        assert_eq!(e.span(), 8..9);
    }
}
