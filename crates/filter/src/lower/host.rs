//! Addresses and ports: `host`, `net`, `ether host`, `port`, `portrange`,
//! `gateway`, broadcast and multicast, and the dispatch of a qualified id
//! to them (libpcap's `gen_scode`, `gen_ncode`, `gen_mcode`, `gen_mcode6`,
//! `gen_ecode`).

use std::net::{IpAddr, Ipv6Addr};

use sluice_wire::LinkType;

use super::link::{ETHERTYPE_ARP, ETHERTYPE_IP, ETHERTYPE_IPV6, ETHERTYPE_REVARP};
use super::{Frag, Lower, NOT_SET, Rel};
use crate::ast::{AddrKind, Dir, IdValue, Proto, Qual};
use crate::error::{ErrorKind, Result};
use crate::ir::{Cond, Size, Src};
use crate::names::PortProto;

const IPPROTO_TCP: u32 = 6;
const IPPROTO_UDP: u32 = 17;
const IPPROTO_SCTP: u32 = 132;

/// Whether the id was an address or a network, for messages.
fn typestr(kind: AddrKind) -> &'static str {
    if kind == AddrKind::Net { "net" } else { "host" }
}

/// libpcap's `__pcap_atoin`: a dotted quad or prefix, and its length in
/// bits. Digits are read the way libpcap reads them (a component over 255
/// is an error).
fn atoin(s: &str) -> Option<(u32, u32)> {
    let mut addr: u32 = 0;
    let mut len = 0;
    for part in s.split('.') {
        let mut n: u32 = 0;
        for c in part.bytes() {
            if n > 25 {
                return None;
            }
            n = n
                .wrapping_mul(10)
                .wrapping_add(u32::from(c).wrapping_sub(u32::from(b'0')));
        }
        if n > 255 {
            return None;
        }
        addr = (addr << 8) | (n & 0xff);
        len += 8;
    }
    Some((addr, len))
}

/// `v << (32 - len)` without overflow for len 0.
fn shl_to_top(v: u32, len: u32) -> u32 {
    v.checked_shl(32 - len.min(32)).unwrap_or(0)
}

impl Lower<'_> {
    /// A qualified id.
    pub(crate) fn id(&mut self, qual: Option<Qual>, value: &IdValue) -> Result<Frag> {
        let Some(q) = qual else {
            return Err(self.err(
                ErrorKind::Syntax,
                format!(
                    "'{value}' has no qualifiers to inherit: write what it is, as in 'host {value}' or 'port {value}'"
                ),
            ));
        };
        match value {
            IdValue::Name(name) => self.scode(name, q),
            IdValue::Num(v) => self.ncode(None, *v, q),
            IdValue::Ipv4(s) => {
                let what = match q.addr {
                    AddrKind::Port => Some("port"),
                    AddrKind::PortRange => Some("portrange"),
                    AddrKind::Proto => Some("proto"),
                    AddrKind::Protochain => Some("protochain"),
                    _ => None,
                };
                if let Some(w) = what {
                    return Err(self.invalid(format!(
                        "'{w}' needs a number or a name, not the IPv4 address '{s}'"
                    )));
                }
                self.ncode(Some(s), 0, q)
            }
            IdValue::Ipv4Cidr(s, len) => self.mcode(s, None, *len, q),
            IdValue::Ipv4Mask(s, m) => self.mcode(s, Some(m), 0, q),
            IdValue::Ipv6(a, len) => self.mcode6(*a, *len, q),
            IdValue::Mac(m) => self.ecode(m, q),
            IdValue::Arcnet(_) => Err(self.unsupported(format!(
                "ARCnet addresses ('{value}') are not supported on {}",
                self.linktype_name()
            ))),
        }
    }

    fn scode(&mut self, name: &str, q: Qual) -> Result<Frag> {
        match q.addr {
            AddrKind::Net => {
                let Some(mut addr) = self.names.network(name) else {
                    return Err(self.err(
                        ErrorKind::UnknownName,
                        format!("unknown network '{name}' (not in /etc/networks)"),
                    ));
                };
                let mut mask = 0xffff_ffffu32;
                while addr != 0 && addr & 0xff00_0000 == 0 {
                    addr <<= 8;
                    mask <<= 8;
                }
                self.host(addr, mask, q.proto, q.dir, q.addr)
            }
            AddrKind::Default | AddrKind::Host => {
                if q.proto == Some(Proto::Link) {
                    if self.linktype != LinkType::ETHERNET.0 {
                        return Err(self.unsupported(format!(
                            "link-level host names are only supported on Ethernet, not {}",
                            self.linktype_name()
                        )));
                    }
                    let Some(mac) = self.names.ether(name) else {
                        return Err(self.err(
                            ErrorKind::UnknownName,
                            format!("unknown ether host '{name}' (not in /etc/ethers)"),
                        ));
                    };
                    let tmp = self.prevlinkhdr_check()?;
                    let b = self.ehostop(&mac, q.dir)?;
                    return Ok(match tmp {
                        Some(t) => self.and(t, b),
                        None => b,
                    });
                }
                if q.proto == Some(Proto::Decnet) {
                    return Err(self.err(
                        ErrorKind::UnknownName,
                        format!("DECnet host names cannot be looked up ('{name}'); use area.node"),
                    ));
                }
                let addrs = self.names.host(name);
                if addrs.is_empty() {
                    return Err(self.err(
                        ErrorKind::UnknownName,
                        format!("unknown host '{name}' (not in /etc/hosts; names are never looked up in DNS)"),
                    ));
                }
                let (mut tproto, mut tproto6) = (q.proto, q.proto);
                if self.off_linktype.constant == NOT_SET && q.proto.is_none() {
                    tproto = Some(Proto::Ip);
                    tproto6 = Some(Proto::Ip6);
                }
                let mut acc: Option<Frag> = None;
                for a in addrs {
                    let tmp = match a {
                        IpAddr::V4(v4) => {
                            if tproto == Some(Proto::Ip6) {
                                continue;
                            }
                            self.host(u32::from(v4), 0xffff_ffff, tproto, q.dir, q.addr)?
                        }
                        IpAddr::V6(v6) => {
                            if tproto6 == Some(Proto::Ip) {
                                continue;
                            }
                            self.host6(v6, u128::MAX, tproto6, q.dir, q.addr)?
                        }
                    };
                    acc = Some(match acc {
                        Some(b) => self.or(b, tmp),
                        None => tmp,
                    });
                }
                acc.ok_or_else(|| {
                    self.err(
                        ErrorKind::UnknownName,
                        format!(
                            "host '{name}' has no address of the family that '{}' needs",
                            q.proto.map_or("", |p| p.keyword())
                        ),
                    )
                })
            }
            AddrKind::Port | AddrKind::PortRange => {
                let range = q.addr == AddrKind::PortRange;
                let word = q.addr.keyword();
                if !matches!(q.proto, None | Some(Proto::Udp | Proto::Tcp | Proto::Sctp)) {
                    return Err(self.invalid(format!(
                        "'{}' cannot qualify '{word}' (only tcp, udp and sctp can)",
                        q.proto.map_or("", |p| p.keyword())
                    )));
                }
                let (p1, p2, real) = if range {
                    match self.names.port_range(name) {
                        Some(r) => r,
                        None => {
                            return Err(self.err(
                                ErrorKind::UnknownName,
                                format!("unknown port in range '{name}' (expected N-M or name-name from /etc/services)"),
                            ));
                        }
                    }
                } else {
                    match self.names.port(name) {
                        Some((p, proto)) => (i64::from(p), i64::from(p), proto),
                        None => {
                            return Err(self.err(
                                ErrorKind::UnknownName,
                                format!("unknown port '{name}' (not in /etc/services)"),
                            ));
                        }
                    }
                };
                let what = if range { "port in range" } else { "port" };
                let real = match (q.proto, real) {
                    (Some(Proto::Udp), PortProto::Tcp) => {
                        return Err(self.invalid(format!("{what} '{name}' is tcp")));
                    }
                    (Some(Proto::Udp), PortProto::Sctp) => {
                        return Err(self.invalid(format!("{what} '{name}' is sctp")));
                    }
                    (Some(Proto::Tcp), PortProto::Udp) => {
                        return Err(self.invalid(format!("{what} '{name}' is udp")));
                    }
                    (Some(Proto::Tcp), PortProto::Sctp) => {
                        return Err(self.invalid(format!("{what} '{name}' is sctp")));
                    }
                    (Some(Proto::Sctp), PortProto::Udp) => {
                        return Err(self.invalid(format!("{what} '{name}' is udp")));
                    }
                    (Some(Proto::Sctp), PortProto::Tcp) => {
                        return Err(self.invalid(format!("{what} '{name}' is tcp")));
                    }
                    (Some(Proto::Udp), _) => Some(IPPROTO_UDP),
                    (Some(Proto::Tcp), _) => Some(IPPROTO_TCP),
                    (Some(Proto::Sctp), _) => Some(IPPROTO_SCTP),
                    (_, PortProto::Tcp) => Some(IPPROTO_TCP),
                    (_, PortProto::Udp) => Some(IPPROTO_UDP),
                    (_, PortProto::Sctp) => Some(IPPROTO_SCTP),
                    (_, PortProto::Any) => None,
                };
                for p in [p1, p2] {
                    if p < 0 {
                        return Err(self.invalid(format!("illegal port number {p} < 0")));
                    }
                    if p > 65535 {
                        return Err(self.invalid(format!("illegal port number {p} > 65535")));
                    }
                }
                let (p1, p2) = (p1 as u32, p2 as u32);
                if range {
                    let v4 = self.portrange(p1, p2, real, q.dir)?;
                    let v6 = self.portrange6(p1, p2, real, q.dir)?;
                    Ok(self.or(v6, v4))
                } else {
                    let v4 = self.port(p1, real, q.dir)?;
                    let v6 = self.port6(p1, real, q.dir)?;
                    Ok(self.or(v6, v4))
                }
            }
            AddrKind::Gateway => {
                if self.names.ether(name).is_none() {
                    return Err(self.err(
                        ErrorKind::UnknownName,
                        format!("unknown ether host '{name}' (not in /etc/ethers)"),
                    ));
                }
                Err(self.unsupported(
                    "'gateway' is not supported (libpcap with IPv6 support does not offer it either)",
                ))
            }
            AddrKind::Proto | AddrKind::Protochain => {
                let v = self.lookup_proto(name, q.proto)?;
                if q.addr == AddrKind::Proto {
                    self.proto(v, q.proto, q.dir)
                } else {
                    self.protochain(v, q.proto)
                }
            }
        }
    }

    fn lookup_proto(&self, name: &str, proto: Option<Proto>) -> Result<u32> {
        let unknown =
            |what: &str| self.err(ErrorKind::UnknownName, format!("unknown {what} '{name}'"));
        match proto {
            None | Some(Proto::Ip | Proto::Ip6) => self
                .names
                .protocol(name)
                .ok_or_else(|| unknown("IP protocol (not in /etc/protocols)")),
            Some(Proto::Link) => {
                let eproto = match name {
                    "aarp" => Some(0x80f3),
                    "arp" => Some(0x0806),
                    "atalk" => Some(0x809b),
                    "decnet" => Some(0x6003),
                    "ip" => Some(0x0800),
                    "ip6" => Some(0x86dd),
                    "lat" => Some(0x6004),
                    "loopback" => Some(0x9000),
                    "mopdl" => Some(0x6001),
                    "moprc" => Some(0x6002),
                    "rarp" => Some(0x8035),
                    "sca" => Some(0x6007),
                    "iso" => Some(0xfe),
                    "stp" => Some(0x42),
                    "ipx" => Some(0xe0),
                    "netbeui" => Some(0xf0),
                    _ => None,
                };
                eproto.ok_or_else(|| unknown("ether protocol"))
            }
            Some(Proto::Iso) => match name {
                "esis" => Ok(0x82),
                "isis" => Ok(0x83),
                "clnp" => Ok(0x81),
                _ => Err(unknown("OSI protocol (expected esis, isis or clnp)")),
            },
            Some(_) => Err(unknown("protocol")),
        }
    }

    fn ncode(&mut self, s: Option<&str>, v: u32, q: Qual) -> Result<Frag> {
        let (mut v, vlen) = match s {
            None => (v, 32),
            Some(s) if q.proto == Some(Proto::Decnet) => match atodn(s) {
                Some(a) => (a, 32),
                None => {
                    return Err(self.invalid(format!("malformed DECnet address '{s}'")));
                }
            },
            Some(s) => match atoin(s) {
                Some(r) => r,
                None => return Err(self.invalid(format!("invalid IPv4 address '{s}'"))),
            },
        };
        match q.addr {
            AddrKind::Default | AddrKind::Host | AddrKind::Net => {
                if q.proto == Some(Proto::Decnet) {
                    return self.host(v, 0, q.proto, q.dir, q.addr);
                }
                if q.proto == Some(Proto::Link) {
                    return Err(self.invalid(
                        "a number is not a link-layer address (write a MAC address such as aa:bb:cc:dd:ee:ff)",
                    ));
                }
                let mut mask = 0xffff_ffffu32;
                if s.is_none() && q.addr == AddrKind::Net {
                    while v != 0 && v & 0xff00_0000 == 0 {
                        v <<= 8;
                        mask <<= 8;
                    }
                } else {
                    v = shl_to_top(v, vlen);
                    mask = shl_to_top(mask, vlen);
                }
                self.host(v, mask, q.proto, q.dir, q.addr)
            }
            AddrKind::Port | AddrKind::PortRange => {
                let word = q.addr.keyword();
                let real = match q.proto {
                    Some(Proto::Udp) => Some(IPPROTO_UDP),
                    Some(Proto::Tcp) => Some(IPPROTO_TCP),
                    Some(Proto::Sctp) => Some(IPPROTO_SCTP),
                    None => None,
                    Some(p) => {
                        return Err(self.invalid(format!(
                            "'{}' cannot qualify '{word}' (only tcp, udp and sctp can)",
                            p.keyword()
                        )));
                    }
                };
                if v > 65535 {
                    return Err(self.invalid(format!("illegal port number {v} > 65535")));
                }
                if q.addr == AddrKind::Port {
                    let v4 = self.port(v, real, q.dir)?;
                    let v6 = self.port6(v, real, q.dir)?;
                    Ok(self.or(v6, v4))
                } else {
                    let v4 = self.portrange(v, v, real, q.dir)?;
                    let v6 = self.portrange6(v, v, real, q.dir)?;
                    Ok(self.or(v6, v4))
                }
            }
            AddrKind::Gateway => {
                Err(self.invalid("'gateway' requires a host name, not an address"))
            }
            AddrKind::Proto => self.proto(v, q.proto, q.dir),
            AddrKind::Protochain => self.protochain(v, q.proto),
        }
    }

    fn mcode(&mut self, s1: &str, s2: Option<&str>, masklen: u32, q: Qual) -> Result<Frag> {
        let Some((n, nlen)) = atoin(s1) else {
            return Err(self.invalid(format!("invalid IPv4 address '{s1}'")));
        };
        let n = shl_to_top(n, nlen);
        let m = if let Some(s2) = s2 {
            let Some((m, mlen)) = atoin(s2) else {
                return Err(self.invalid(format!("invalid IPv4 netmask '{s2}'")));
            };
            let m = shl_to_top(m, mlen);
            if n & !m != 0 {
                return Err(self.invalid(format!("non-network bits set in \"{s1} mask {s2}\"")));
            }
            m
        } else {
            if masklen > 32 {
                return Err(self.invalid("an IPv4 prefix length must be at most 32"));
            }
            let m = if masklen == 0 {
                0
            } else {
                u32::MAX << (32 - masklen)
            };
            if n & !m != 0 {
                return Err(self.invalid(format!("non-network bits set in \"{s1}/{masklen}\"")));
            }
            m
        };
        if q.addr != AddrKind::Net {
            return Err(self.invalid("a mask or prefix length is only for networks: write 'net'"));
        }
        self.host(n, m, q.proto, q.dir, q.addr)
    }

    fn mcode6(&mut self, addr: Ipv6Addr, masklen: u32, q: Qual) -> Result<Frag> {
        if masklen > 128 {
            return Err(self.invalid("an IPv6 prefix length must be at most 128"));
        }
        let mask: u128 = if masklen == 0 {
            0
        } else {
            u128::MAX << (128 - masklen)
        };
        let a = u128::from(addr);
        if a & !mask != 0 {
            return Err(self.invalid(format!("non-network bits set in \"{addr}/{masklen}\"")));
        }
        match q.addr {
            AddrKind::Default | AddrKind::Host | AddrKind::Net => {
                if q.addr != AddrKind::Net && masklen != 128 {
                    return Err(self.invalid("a prefix length is only for networks: write 'net'"));
                }
                self.host6(addr, mask, q.proto, q.dir, q.addr)
            }
            _ => Err(self.invalid(format!(
                "an IPv6 address cannot follow '{}'",
                q.addr.keyword()
            ))),
        }
    }

    fn ecode(&mut self, mac: &[u8; 6], q: Qual) -> Result<Frag> {
        if matches!(q.addr, AddrKind::Host | AddrKind::Default) && q.proto == Some(Proto::Link) {
            if self.linktype != LinkType::ETHERNET.0 {
                return Err(self.unsupported(format!(
                    "Ethernet addresses cannot be tested on {}",
                    self.linktype_name()
                )));
            }
            let tmp = self.prevlinkhdr_check()?;
            let b = self.ehostop(mac, q.dir)?;
            return Ok(match tmp {
                Some(t) => self.and(t, b),
                None => b,
            });
        }
        Err(self.invalid("a MAC address needs 'ether' (as in 'ether host aa:bb:cc:dd:ee:ff')"))
    }

    fn dir_not_for(&self, dir: Dir, what: &str) -> crate::error::CompileError {
        self.invalid(format!(
            "'{}' is an IEEE 802.11 qualifier and is not valid for {what}",
            dir.words()
        ))
    }

    pub(crate) fn ehostop(&mut self, mac: &[u8; 6], dir: Dir) -> Result<Frag> {
        match dir {
            Dir::Src => self.bcmp(Rel::LinkHdr, 6, mac),
            Dir::Dst => self.bcmp(Rel::LinkHdr, 0, mac),
            Dir::And => {
                let b0 = self.ehostop(mac, Dir::Src)?;
                let b1 = self.ehostop(mac, Dir::Dst)?;
                Ok(self.and(b0, b1))
            }
            Dir::Default | Dir::Or => {
                let b0 = self.ehostop(mac, Dir::Src)?;
                let b1 = self.ehostop(mac, Dir::Dst)?;
                Ok(self.or(b0, b1))
            }
            d => Err(self.dir_not_for(d, "Ethernet addresses")),
        }
    }

    fn hostop(
        &mut self,
        addr: u32,
        mask: u32,
        dir: Dir,
        ll: u32,
        src: u32,
        dst: u32,
    ) -> Result<Frag> {
        let offset = match dir {
            Dir::Src => src,
            Dir::Dst => dst,
            Dir::And | Dir::Default | Dir::Or => {
                let b0 = self.hostop(addr, mask, Dir::Src, ll, src, dst)?;
                let b1 = self.hostop(addr, mask, Dir::Dst, ll, src, dst)?;
                return Ok(if dir == Dir::And {
                    self.and(b0, b1)
                } else {
                    self.or(b0, b1)
                });
            }
            d => return Err(self.dir_not_for(d, "IP addresses")),
        };
        let b0 = self.linktype(ll)?;
        let b1 = self.mcmp(Rel::LinkPl, offset, Size::W, addr, mask)?;
        Ok(self.and(b0, b1))
    }

    fn hostop6(&mut self, addr: Ipv6Addr, mask: u128, dir: Dir) -> Result<Frag> {
        let offset = match dir {
            Dir::Src => 8,
            Dir::Dst => 24,
            Dir::And | Dir::Default | Dir::Or => {
                let b0 = self.hostop6(addr, mask, Dir::Src)?;
                let b1 = self.hostop6(addr, mask, Dir::Dst)?;
                return Ok(if dir == Dir::And {
                    self.and(b0, b1)
                } else {
                    self.or(b0, b1)
                });
            }
            d => return Err(self.dir_not_for(d, "IPv6 addresses")),
        };
        let a = u128::from(addr);
        let word = |v: u128, i: u32| (v >> (96 - 32 * i)) as u32;
        let b1 = self.mcmp(Rel::LinkPl, offset + 12, Size::W, word(a, 3), word(mask, 3))?;
        let b0 = self.mcmp(Rel::LinkPl, offset + 8, Size::W, word(a, 2), word(mask, 2))?;
        let b1 = self.and(b0, b1);
        let b0 = self.mcmp(Rel::LinkPl, offset + 4, Size::W, word(a, 1), word(mask, 1))?;
        let b1 = self.and(b0, b1);
        let b0 = self.mcmp(Rel::LinkPl, offset, Size::W, word(a, 0), word(mask, 0))?;
        let b1 = self.and(b0, b1);
        let b0 = self.linktype(ETHERTYPE_IPV6)?;
        Ok(self.and(b0, b1))
    }

    fn dnhostop(&mut self, addr: u32, dir: Dir) -> Result<Frag> {
        let (offset_sh, offset_lh) = match dir {
            Dir::Dst => (1, 7),
            Dir::Src => (3, 15),
            Dir::And | Dir::Default | Dir::Or => {
                let b0 = self.dnhostop(addr, Dir::Src)?;
                let b1 = self.dnhostop(addr, Dir::Dst)?;
                return Ok(if dir == Dir::And {
                    self.and(b0, b1)
                } else {
                    self.or(b0, b1)
                });
            }
            d => return Err(self.dir_not_for(d, "DECnet addresses")),
        };
        // DECnet addresses are little-endian on the wire.
        let a = u32::from((addr as u16).swap_bytes());
        let b0 = self.linktype(super::link::ETHERTYPE_DN)?;
        let tmp = self.mcmp(Rel::LinkPl, 2, Size::H, 0x8106, 0xff07)?;
        let b1 = self.cmp(Rel::LinkPl, 2 + 1 + offset_lh, Size::H, a)?;
        let b1 = self.and(tmp, b1);
        let tmp = self.mcmp(Rel::LinkPl, 2, Size::B, 0x06, 0x07)?;
        let b2 = self.cmp(Rel::LinkPl, 2 + offset_lh, Size::H, a)?;
        let b2 = self.and(tmp, b2);
        let b1 = self.or(b2, b1);
        let tmp = self.mcmp(Rel::LinkPl, 2, Size::H, 0x8102, 0xff07)?;
        let b2 = self.cmp(Rel::LinkPl, 2 + 1 + offset_sh, Size::H, a)?;
        let b2 = self.and(tmp, b2);
        let b1 = self.or(b2, b1);
        let tmp = self.mcmp(Rel::LinkPl, 2, Size::B, 0x02, 0x07)?;
        let b2 = self.cmp(Rel::LinkPl, 2 + offset_sh, Size::H, a)?;
        let b2 = self.and(tmp, b2);
        let b1 = self.or(b2, b1);
        Ok(self.and(b0, b1))
    }

    /// `[proto] [dir] host|net addr/mask` for IPv4 (and DECnet).
    fn host(
        &mut self,
        addr: u32,
        mask: u32,
        proto: Option<Proto>,
        dir: Dir,
        kind: AddrKind,
    ) -> Result<Frag> {
        let ts = typestr(kind);
        match proto {
            None => {
                let b0 = self.host(addr, mask, Some(Proto::Ip), dir, kind)?;
                if self.label_stack_depth == 0 {
                    let b1 = self.host(addr, mask, Some(Proto::Arp), dir, kind)?;
                    let b1 = self.or(b0, b1);
                    let b0 = self.host(addr, mask, Some(Proto::Rarp), dir, kind)?;
                    return Ok(self.or(b1, b0));
                }
                Ok(b0)
            }
            Some(Proto::Ip) => self.hostop(addr, mask, dir, ETHERTYPE_IP, 12, 16),
            Some(Proto::Rarp) => self.hostop(addr, mask, dir, ETHERTYPE_REVARP, 14, 24),
            Some(Proto::Arp) => self.hostop(addr, mask, dir, ETHERTYPE_ARP, 14, 24),
            Some(Proto::Decnet) => self.dnhostop(addr, dir),
            Some(Proto::Link) => Err(self.invalid(format!(
                "'ether' cannot qualify an IPv4 {ts} (use a MAC address)"
            ))),
            Some(Proto::Ip6) => Err(self.invalid(format!("'ip6' cannot qualify an IPv4 {ts}"))),
            Some(
                p @ (Proto::Atalk
                | Proto::Lat
                | Proto::Sca
                | Proto::Moprc
                | Proto::Mopdl
                | Proto::Aarp
                | Proto::Iso
                | Proto::Ipx),
            ) => {
                Err(self.unsupported(format!("{} {ts} filtering is not implemented", p.keyword())))
            }
            Some(p) => Err(self.invalid(format!(
                "'{}' cannot qualify a {ts} (only ip, arp, rarp and decnet can)",
                p.keyword()
            ))),
        }
    }

    /// `[ip6] [dir] host|net addr/len` for IPv6.
    fn host6(
        &mut self,
        addr: Ipv6Addr,
        mask: u128,
        proto: Option<Proto>,
        dir: Dir,
        kind: AddrKind,
    ) -> Result<Frag> {
        match proto {
            None | Some(Proto::Ip6) => self.hostop6(addr, mask, dir),
            Some(p) => Err(self.invalid(format!(
                "'{}' cannot qualify an IPv6 {} (only ip6 can)",
                p.keyword(),
                typestr(kind)
            ))),
        }
    }

    pub(crate) fn ipfrag(&mut self) -> Result<Frag> {
        let s = self.load_a(Rel::LinkPl, 6, Size::H)?;
        let f = self.test(s, Cond::Set, Src::K(0x1fff));
        Ok(Self::not(f))
    }

    fn portop(&mut self, port: u32, proto: u32, dir: Dir, range: Option<u32>) -> Result<Frag> {
        let tmp = self.cmp(Rel::LinkPl, 9, Size::B, proto)?;
        let b0 = self.ipfrag()?;
        let b0 = self.and(tmp, b0);
        let what = if range.is_some() {
            "port ranges"
        } else {
            "ports"
        };
        let b1 = match dir {
            Dir::Src => self.port_atom(Rel::TranIpv4, 0, port, range)?,
            Dir::Dst => self.port_atom(Rel::TranIpv4, 2, port, range)?,
            Dir::And | Dir::Default | Dir::Or => {
                let t = self.port_atom(Rel::TranIpv4, 0, port, range)?;
                let b1 = self.port_atom(Rel::TranIpv4, 2, port, range)?;
                if dir == Dir::And {
                    self.and(t, b1)
                } else {
                    self.or(t, b1)
                }
            }
            d => return Err(self.dir_not_for(d, what)),
        };
        Ok(self.and(b0, b1))
    }

    fn portop6(&mut self, port: u32, proto: u32, dir: Dir, range: Option<u32>) -> Result<Frag> {
        let b0 = self.cmp(Rel::LinkPl, 6, Size::B, proto)?;
        let what = if range.is_some() {
            "port ranges"
        } else {
            "ports"
        };
        let b1 = match dir {
            Dir::Src => self.port_atom(Rel::TranIpv6, 0, port, range)?,
            Dir::Dst => self.port_atom(Rel::TranIpv6, 2, port, range)?,
            Dir::And | Dir::Default | Dir::Or => {
                let t = self.port_atom(Rel::TranIpv6, 0, port, range)?;
                let b1 = self.port_atom(Rel::TranIpv6, 2, port, range)?;
                if dir == Dir::And {
                    self.and(t, b1)
                } else {
                    self.or(t, b1)
                }
            }
            d => return Err(self.dir_not_for(d, what)),
        };
        Ok(self.and(b0, b1))
    }

    fn port_atom(&mut self, rel: Rel, off: u32, v1: u32, range: Option<u32>) -> Result<Frag> {
        match range {
            None => self.cmp(rel, off, Size::H, v1),
            Some(v2) => {
                let (lo, hi) = if v1 > v2 { (v2, v1) } else { (v1, v2) };
                let b1 = self.cmp_ge(rel, off, Size::H, lo)?;
                let b2 = self.cmp_le(rel, off, Size::H, hi)?;
                Ok(self.and(b1, b2))
            }
        }
    }

    fn port_any(
        &mut self,
        v6: bool,
        port: u32,
        real: Option<u32>,
        dir: Dir,
        range: Option<u32>,
    ) -> Result<Frag> {
        let b0 = self.linktype(if v6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IP })?;
        let op = |l: &mut Self, p: u32| {
            if v6 {
                l.portop6(port, p, dir, range)
            } else {
                l.portop(port, p, dir, range)
            }
        };
        let b1 = match real {
            Some(p) => op(self, p)?,
            None => {
                let tmp = op(self, IPPROTO_TCP)?;
                let b1 = op(self, IPPROTO_UDP)?;
                let b1 = self.or(tmp, b1);
                let tmp = op(self, IPPROTO_SCTP)?;
                self.or(tmp, b1)
            }
        };
        Ok(self.and(b0, b1))
    }

    pub(crate) fn port(&mut self, port: u32, real: Option<u32>, dir: Dir) -> Result<Frag> {
        self.port_any(false, port, real, dir, None)
    }

    pub(crate) fn port6(&mut self, port: u32, real: Option<u32>, dir: Dir) -> Result<Frag> {
        self.port_any(true, port, real, dir, None)
    }

    fn portrange(&mut self, p1: u32, p2: u32, real: Option<u32>, dir: Dir) -> Result<Frag> {
        self.port_any(false, p1, real, dir, Some(p2))
    }

    fn portrange6(&mut self, p1: u32, p2: u32, real: Option<u32>, dir: Dir) -> Result<Frag> {
        self.port_any(true, p1, real, dir, Some(p2))
    }

    /// `[ether|ip] broadcast`.
    pub(crate) fn broadcast(&mut self, proto: Option<Proto>) -> Result<Frag> {
        match proto {
            None | Some(Proto::Link) => {
                if self.linktype != LinkType::ETHERNET.0 {
                    return Err(self
                        .unsupported(format!("{} is not a broadcast link", self.linktype_name())));
                }
                let b1 = self.prevlinkhdr_check()?;
                let b0 = self.ehostop(&[0xff; 6], Dir::Dst)?;
                Ok(match b1 {
                    Some(b1) => self.and(b1, b0),
                    None => b0,
                })
            }
            Some(Proto::Ip) => {
                let Some(netmask) = self.opts.netmask else {
                    return Err(self.invalid(
                        "'ip broadcast' needs the netmask of the capture network, and none was given",
                    ));
                };
                let hostmask = !u32::from(netmask);
                let b0 = self.linktype(ETHERTYPE_IP)?;
                let b1 = self.mcmp(Rel::LinkPl, 16, Size::W, 0, hostmask)?;
                let b2 = self.mcmp(Rel::LinkPl, 16, Size::W, hostmask, hostmask)?;
                let b2 = self.or(b1, b2);
                Ok(self.and(b0, b2))
            }
            Some(p) => Err(self.invalid(format!(
                "'{} broadcast' is not a thing: only 'ether broadcast' and 'ip broadcast' are",
                p.keyword()
            ))),
        }
    }

    /// `[ether|ip|ip6] multicast`.
    pub(crate) fn multicast(&mut self, proto: Option<Proto>) -> Result<Frag> {
        match proto {
            None | Some(Proto::Link) => {
                if self.linktype != LinkType::ETHERNET.0 {
                    return Err(self.unsupported(format!(
                        "link-layer multicast cannot be tested on {}",
                        self.linktype_name()
                    )));
                }
                let b1 = self.prevlinkhdr_check()?;
                let s = self.load_a(Rel::LinkHdr, 0, Size::B)?;
                let b0 = self.test(s, Cond::Set, Src::K(1));
                Ok(match b1 {
                    Some(b1) => self.and(b1, b0),
                    None => b0,
                })
            }
            Some(Proto::Ip) => {
                let b0 = self.linktype(ETHERTYPE_IP)?;
                let b1 = self.cmp_ge(Rel::LinkPl, 16, Size::B, 224)?;
                Ok(self.and(b0, b1))
            }
            Some(Proto::Ip6) => {
                let b0 = self.linktype(ETHERTYPE_IPV6)?;
                let b1 = self.cmp(Rel::LinkPl, 24, Size::B, 255)?;
                Ok(self.and(b0, b1))
            }
            Some(p) => Err(self.invalid(format!(
                "'{} multicast' is not a thing: only ether, ip and ip6 multicast are",
                p.keyword()
            ))),
        }
    }
}

/// libpcap's `__pcap_atodn`: `area.node`.
fn atodn(s: &str) -> Option<u32> {
    let (a, n) = s.split_once('.')?;
    let area: i64 = a.parse().ok()?;
    let node: i64 = n.split('.').next()?.parse().ok()?;
    Some((((area << 10) as u32) & 0o176000) | ((node as u32) & 0o1777))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoin_like_libpcap() {
        assert_eq!(atoin("10.1"), Some((0x0a01, 16)));
        assert_eq!(atoin("1.2.3.4"), Some((0x0102_0304, 32)));
        assert_eq!(atoin("1.256"), None);
        assert_eq!(atoin("0x1.2"), None);
    }
}
