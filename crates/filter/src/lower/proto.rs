//! Protocol tests: a protocol keyword alone (`tcp`, `ip6`, `l1`), `proto N`
//! and `protochain N`.

use sluice_wire::LinkType;

use super::link::{
    ETHERTYPE_AARP, ETHERTYPE_ARP, ETHERTYPE_ATALK, ETHERTYPE_DN, ETHERTYPE_IP, ETHERTYPE_IPV6,
    ETHERTYPE_REVARP, LLCSAP_8021D, LLCSAP_IPX, LLCSAP_ISONS, LLCSAP_NETBEUI,
};
use super::{Exit, Frag, HOLE, Lower, Rel};
use crate::ast::{Dir, Proto};
use crate::error::Result;
use crate::ir::{AluOp, Cond, Size, Src, Stmt, Term};

const ISO8473_CLNP: u32 = 0x81;
const ISO9542_ESIS: u32 = 0x82;
const ISO10589_ISIS: u32 = 0x83;
const ISIS_L1_LAN_IIH: u32 = 15;
const ISIS_L2_LAN_IIH: u32 = 16;
const ISIS_PTP_IIH: u32 = 17;
const ISIS_L1_LSP: u32 = 18;
const ISIS_L2_LSP: u32 = 20;
const ISIS_L1_CSNP: u32 = 24;
const ISIS_L2_CSNP: u32 = 25;
const ISIS_L1_PSNP: u32 = 26;
const ISIS_L2_PSNP: u32 = 27;

/// How many headers `protochain` walks before it gives up (see the crate
/// documentation: libpcap loops with a backward jump, which the kernel
/// refuses, so the walk is unrolled).
pub const PROTOCHAIN_DEPTH: usize = 4;

impl Lower<'_> {
    /// A protocol keyword alone.
    pub(crate) fn proto_abbrev(&mut self, p: Proto) -> Result<Frag> {
        let isis = |l: &mut Self, vals: &[u32]| -> Result<Frag> {
            let mut b1 = l.proto(vals[0], Some(Proto::Isis), Dir::Default)?;
            // libpcap builds these lists pairwise: the first two, then each
            // further one in front.
            if vals.len() > 1 {
                let b0 = b1;
                b1 = l.proto(vals[1], Some(Proto::Isis), Dir::Default)?;
                b1 = l.or(b0, b1);
                for v in &vals[2..] {
                    let b0 = l.proto(*v, Some(Proto::Isis), Dir::Default)?;
                    b1 = l.or(b0, b1);
                }
            }
            Ok(b1)
        };
        match p {
            Proto::Sctp => self.proto(132, None, Dir::Default),
            Proto::Tcp => self.proto(6, None, Dir::Default),
            Proto::Udp => self.proto(17, None, Dir::Default),
            Proto::Icmp => self.proto(1, Some(Proto::Ip), Dir::Default),
            Proto::Igmp => self.proto(2, Some(Proto::Ip), Dir::Default),
            Proto::Igrp => self.proto(9, Some(Proto::Ip), Dir::Default),
            Proto::Pim => self.proto(103, None, Dir::Default),
            Proto::Vrrp | Proto::Carp => self.proto(112, Some(Proto::Ip), Dir::Default),
            Proto::Ip => self.linktype(ETHERTYPE_IP),
            Proto::Arp => self.linktype(ETHERTYPE_ARP),
            Proto::Rarp => self.linktype(ETHERTYPE_REVARP),
            Proto::Link => Err(self.invalid(
                "'ether' (or 'link') alone is not a test: add 'host', 'proto', 'broadcast' or an index",
            )),
            Proto::Atalk => self.linktype(ETHERTYPE_ATALK),
            Proto::Aarp => self.linktype(ETHERTYPE_AARP),
            Proto::Decnet => self.linktype(ETHERTYPE_DN),
            Proto::Sca => self.linktype(0x6007),
            Proto::Lat => self.linktype(0x6004),
            Proto::Mopdl => self.linktype(0x6001),
            Proto::Moprc => self.linktype(0x6002),
            Proto::Ip6 => self.linktype(ETHERTYPE_IPV6),
            Proto::Icmp6 => self.proto(58, Some(Proto::Ip6), Dir::Default),
            Proto::Ah => self.proto(51, None, Dir::Default),
            Proto::Esp => self.proto(50, None, Dir::Default),
            Proto::Iso => self.linktype(LLCSAP_ISONS),
            Proto::Esis => self.proto(ISO9542_ESIS, Some(Proto::Iso), Dir::Default),
            Proto::Isis => self.proto(ISO10589_ISIS, Some(Proto::Iso), Dir::Default),
            Proto::IsisL1 => isis(
                self,
                &[ISIS_L1_LAN_IIH, ISIS_PTP_IIH, ISIS_L1_LSP, ISIS_L1_CSNP, ISIS_L1_PSNP],
            ),
            Proto::IsisL2 => isis(
                self,
                &[ISIS_L2_LAN_IIH, ISIS_PTP_IIH, ISIS_L2_LSP, ISIS_L2_CSNP, ISIS_L2_PSNP],
            ),
            Proto::IsisIih => isis(self, &[ISIS_L1_LAN_IIH, ISIS_L2_LAN_IIH, ISIS_PTP_IIH]),
            Proto::IsisLsp => isis(self, &[ISIS_L1_LSP, ISIS_L2_LSP]),
            Proto::IsisSnp => isis(
                self,
                &[ISIS_L1_CSNP, ISIS_L2_CSNP, ISIS_L1_PSNP, ISIS_L2_PSNP],
            ),
            Proto::IsisCsnp => isis(self, &[ISIS_L1_CSNP, ISIS_L2_CSNP]),
            Proto::IsisPsnp => isis(self, &[ISIS_L1_PSNP, ISIS_L2_PSNP]),
            Proto::Clnp => self.proto(ISO8473_CLNP, Some(Proto::Iso), Dir::Default),
            Proto::Stp => self.linktype(LLCSAP_8021D),
            Proto::Ipx => self.linktype(LLCSAP_IPX),
            Proto::Netbeui => self.linktype(LLCSAP_NETBEUI),
            Proto::Radio => Err(self.unsupported(
                "'radio' needs an 802.11 radio header, which this link type does not have",
            )),
        }
    }

    /// `[proto] proto v`.
    pub(crate) fn proto(&mut self, v: u32, proto: Option<Proto>, dir: Dir) -> Result<Frag> {
        if dir != Dir::Default {
            return Err(self.invalid("a direction ('src', 'dst', …) cannot qualify 'proto'"));
        }
        match proto {
            None => {
                let b0 = self.proto(v, Some(Proto::Ip), dir)?;
                let b1 = self.proto(v, Some(Proto::Ip6), dir)?;
                Ok(self.or(b0, b1))
            }
            Some(Proto::Link) => self.linktype(v),
            Some(Proto::Ip) => {
                let b0 = self.linktype(ETHERTYPE_IP)?;
                let b1 = self.cmp(Rel::LinkPl, 9, Size::B, v)?;
                Ok(self.and(b0, b1))
            }
            Some(Proto::Ip6) => {
                let b0 = self.linktype(ETHERTYPE_IPV6)?;
                let b2 = self.cmp(Rel::LinkPl, 6, Size::B, 44)?;
                let b1 = self.cmp(Rel::LinkPl, 40, Size::B, v)?;
                let b1 = self.and(b2, b1);
                let b2 = self.cmp(Rel::LinkPl, 6, Size::B, v)?;
                let b1 = self.or(b2, b1);
                Ok(self.and(b0, b1))
            }
            Some(Proto::Iso) => {
                let b0 = self.linktype(LLCSAP_ISONS)?;
                let b1 = self.cmp(Rel::LinkPlNoSnap, 0, Size::B, v)?;
                Ok(self.and(b0, b1))
            }
            Some(Proto::Isis) => {
                let b0 = self.proto(ISO10589_ISIS, Some(Proto::Iso), Dir::Default)?;
                let b1 = self.cmp(Rel::LinkPlNoSnap, 4, Size::B, v)?;
                Ok(self.and(b0, b1))
            }
            Some(p @ (Proto::Arp | Proto::Rarp | Proto::Lat | Proto::Sca | Proto::Moprc | Proto::Mopdl)) => {
                Err(self.invalid(format!("{} does not encapsulate another protocol", p.keyword())))
            }
            Some(p @ (Proto::Atalk | Proto::Decnet)) => Err(self.invalid(format!(
                "{} encapsulation cannot be specified",
                p.keyword()
            ))),
            Some(Proto::Clnp) => Err(self.unsupported("'clnp proto' is not supported")),
            Some(p) => Err(self.invalid(format!(
                "'{} proto' is meaningless (only ether, ip, ip6, iso and isis carry a protocol number)",
                p.keyword()
            ))),
        }
    }

    /// `[ip|ip6] protochain v`: walks the IPv6 extension headers (and IPv4
    /// AH headers) looking for protocol `v`. libpcap loops with a backward
    /// jump; classic BPF as the kernel checks it has none, so the walk is
    /// unrolled [`PROTOCHAIN_DEPTH`] times.
    pub(crate) fn protochain(&mut self, v: u32, proto: Option<Proto>) -> Result<Frag> {
        let reg2 = self.alloc_reg()?;
        let v6 = match proto {
            Some(Proto::Ip) => false,
            Some(Proto::Ip6) => true,
            None => {
                // libpcap keeps this first register allocated (a leak we
                // reproduce: it decides when registers run out).
                let b0 = self.protochain(v, Some(Proto::Ip))?;
                let b = self.protochain(v, Some(Proto::Ip6))?;
                return Ok(self.or(b0, b));
            }
            Some(p) => {
                return Err(self.invalid(format!(
                    "'{} protochain' is not possible: only ip and ip6 have protocol chains",
                    p.keyword()
                )));
            }
        };
        if self.off_linkpl.variable {
            return Err(self.unsupported(
                "'protochain' is not supported after a variable-length header (such as vlan on a Linux socket, or geneve)",
            ));
        }
        self.no_optimize = true;
        let base = self.off_linkpl.constant.wrapping_add(self.off_nl);
        let b0 = self.linktype(if v6 { ETHERTYPE_IPV6 } else { ETHERTYPE_IP })?;
        let start = if v6 {
            vec![Stmt::LdAbs(Size::B, base + 6), Stmt::LdxImm(40)]
        } else {
            vec![Stmt::LdAbs(Size::B, base + 9), Stmt::LdxMsh(base)]
        };
        // The final test `A == v`, shared by every way out of the walk.
        let fin = self.block(
            vec![],
            Term::Branch {
                cond: Cond::Eq,
                src: Src::K(v),
                jt: HOLE,
                jf: HOLE,
            },
        );
        let br = |l: &mut Self, stmts: Vec<Stmt>, k: u32, jt: usize, jf: usize| {
            l.block(
                stmts,
                Term::Branch {
                    cond: Cond::Eq,
                    src: Src::K(k),
                    jt,
                    jf,
                },
            )
        };
        // Built from the last iteration back to the first.
        let mut next = fin; // where iteration i+1 starts
        for _ in 0..PROTOCHAIN_DEPTH {
            // After AH: A = its next header, X = (its length + 2) * 4, as
            // libpcap computes them (the length is read first here; a packet
            // too short for either byte is rejected either way).
            let ah_adv = self.block(
                vec![
                    Stmt::LdInd(Size::B, base + 1),
                    Stmt::Alu(AluOp::Add, Src::K(2)),
                    Stmt::Alu(AluOp::Mul, Src::K(4)),
                    Stmt::St(reg2),
                    Stmt::LdInd(Size::B, base),
                    Stmt::LdxMem(reg2),
                ],
                Term::Goto(next),
            );
            let ah = br(self, vec![], 51, ah_adv, fin);
            let after_none = if v6 {
                // Past an extension header: X += (its length + 1) * 8, A =
                // its next header.
                let adv = self.block(
                    vec![
                        Stmt::LdInd(Size::B, base + 1),
                        Stmt::Alu(AluOp::Add, Src::K(1)),
                        Stmt::Alu(AluOp::Mul, Src::K(8)),
                        Stmt::Alu(AluOp::Add, Src::X),
                        Stmt::St(reg2),
                        Stmt::LdInd(Size::B, base),
                        Stmt::LdxMem(reg2),
                    ],
                    Term::Goto(next),
                );
                let frag = br(self, vec![], 44, adv, ah);
                let routing = br(self, vec![], 43, adv, frag);
                let dst = br(self, vec![], 60, adv, routing);
                br(self, vec![], 0, adv, dst)
            } else {
                ah
            };
            let none = br(self, vec![], 59, fin, after_none);
            next = br(self, vec![], v, fin, none);
        }
        self.prepend_block(next, start);
        self.free_reg(reg2);
        let b = Frag {
            entry: next,
            t: vec![Exit::T(fin)],
            f: vec![Exit::F(fin)],
        };
        Ok(self.and(b0, b))
    }

    /// libpcap adds the link-header offset to the ancillary offset; after
    /// `pppoes` or `geneve` that is no ancillary load the kernel knows.
    fn ancillary_ok(&self, what: &str) -> Result<()> {
        if self.off_linkhdr.constant != 0 || self.off_linkhdr.variable {
            return Err(self.unsupported(format!(
                "{what} cannot be tested after 'pppoes' or 'geneve' on a Linux socket"
            )));
        }
        Ok(())
    }

    fn prepend_block(&mut self, b: usize, mut stmts: Vec<Stmt>) {
        let s = &mut self.blocks[b].stmts;
        stmts.append(s);
        *s = stmts;
    }

    /// `inbound` / `outbound`.
    pub(crate) fn inbound(&mut self, outbound: bool) -> Result<Frag> {
        match LinkType(self.linktype) {
            LinkType::LINUX_SLL => {
                let b0 = self.cmp(Rel::LinkHdr, 0, Size::H, 4)?;
                Ok(if outbound { b0 } else { Self::not(b0) })
            }
            LinkType::LINUX_SLL2 => {
                let b0 = self.cmp(Rel::LinkHdr, 10, Size::B, 4)?;
                Ok(if outbound { b0 } else { Self::not(b0) })
            }
            _ if self.live() => {
                self.ancillary_ok("inbound/outbound")?;
                let off = sluice_bpf::insn::ancillary::PKTTYPE;
                let b0 = self.cmp(Rel::LinkHdr, off, Size::H, 4)?;
                Ok(if outbound { b0 } else { Self::not(b0) })
            }
            _ => Err(self.unsupported(format!(
                "inbound/outbound cannot be tested on {} captures read from a file (the direction is not recorded); it works on LINUX_SLL, LINUX_SLL2 and the Linux socket target",
                self.linktype_name()
            ))),
        }
    }

    /// `ifindex N`.
    pub(crate) fn ifindex(&mut self, n: u32) -> Result<Frag> {
        if self.linktype == LinkType::LINUX_SLL2.0 {
            return self.cmp(Rel::LinkHdr, 4, Size::W, n);
        }
        if self.live() {
            self.ancillary_ok("ifindex")?;
            let off = sluice_bpf::insn::ancillary::IFINDEX;
            return self.cmp(Rel::LinkHdr, off, Size::W, n);
        }
        Err(self.unsupported(format!(
            "ifindex cannot be tested on {} captures read from a file; it works on LINUX_SLL2 and the Linux socket target",
            self.linktype_name()
        )))
    }
}
