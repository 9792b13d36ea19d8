//! Link-layer protocol tests (libpcap's `gen_linktype` and its helpers) for
//! each supported link type, and the LLC/SNAP tests.

use sluice_wire::LinkType;

use super::{DLT_PPP, Frag, Lower, NOT_SET, Rel};
use crate::ast::Llc;
use crate::error::Result;
use crate::ir::{Cond, Size, Src, Stmt};

pub(crate) const ETHERMTU: u32 = 1500;
pub(crate) const ETHERTYPE_IP: u32 = 0x0800;
pub(crate) const ETHERTYPE_ARP: u32 = 0x0806;
pub(crate) const ETHERTYPE_REVARP: u32 = 0x8035;
pub(crate) const ETHERTYPE_IPV6: u32 = 0x86dd;
pub(crate) const ETHERTYPE_ATALK: u32 = 0x809b;
pub(crate) const ETHERTYPE_AARP: u32 = 0x80f3;
pub(crate) const ETHERTYPE_IPX: u32 = 0x8137;
pub(crate) const ETHERTYPE_DN: u32 = 0x6003;
pub(crate) const ETHERTYPE_NS: u32 = 0x0600;
pub(crate) const LLCSAP_IP: u32 = 0x06;
pub(crate) const LLCSAP_8021D: u32 = 0x42;
pub(crate) const LLCSAP_IPX: u32 = 0xe0;
pub(crate) const LLCSAP_NETBEUI: u32 = 0xf0;
pub(crate) const LLCSAP_ISONS: u32 = 0xfe;
const LLCSAP_SNAP: u8 = 0xaa;
const LINUX_SLL_P_802_3: u32 = 0x0001;
const LINUX_SLL_P_802_2: u32 = 0x0004;

impl Lower<'_> {
    /// A test for link-layer protocol `ll_proto` (an EtherType, or an LLC
    /// SAP when ≤ 1500).
    pub(crate) fn linktype(&mut self, ll_proto: u32) -> Result<Frag> {
        if self.label_stack_depth > 0 {
            return self.mpls_linktype(ll_proto);
        }
        match LinkType(self.linktype) {
            LinkType::ETHERNET => {
                let b0 = if self.is_geneve {
                    None
                } else {
                    self.prevlinkhdr_check()?
                };
                let b1 = self.ether_linktype(ll_proto)?;
                Ok(match b0 {
                    Some(b0) => self.and(b0, b1),
                    None => b1,
                })
            }
            LinkType::LINUX_SLL => self.sll_linktype(ll_proto),
            LinkType::RAW => match ll_proto {
                ETHERTYPE_IP => self.mcmp(Rel::LinkHdr, 0, Size::B, 0x40, 0xf0),
                ETHERTYPE_IPV6 => self.mcmp(Rel::LinkHdr, 0, Size::B, 0x60, 0xf0),
                _ => Ok(self.uncond(false)),
            },
            LinkType::IPV4 => Ok(self.uncond(ll_proto == ETHERTYPE_IP)),
            LinkType::IPV6 => Ok(self.uncond(ll_proto == ETHERTYPE_IPV6)),
            LinkType::NULL | LinkType::LOOP => match ll_proto {
                ETHERTYPE_IP => self.loopback_linktype(2),
                // libpcap compiling for Linux (pcap_open_dead, or a live
                // capture) tests Linux's AF_INET6, 10; only reading a file
                // would make it test the BSDs' 24, 28 and 30.
                ETHERTYPE_IPV6 => self.loopback_linktype(10),
                _ => Ok(self.uncond(false)),
            },
            _ if self.linktype == DLT_PPP => {
                let v = match ll_proto {
                    ETHERTYPE_IP => 0x21,
                    ETHERTYPE_IPV6 => 0x57,
                    ETHERTYPE_DN => 0x27,
                    ETHERTYPE_ATALK => 0x29,
                    ETHERTYPE_NS => 0x3f,
                    LLCSAP_ISONS => 0x23,
                    LLCSAP_8021D => 0x31,
                    LLCSAP_IPX => 0x2b,
                    other => other,
                };
                self.cmp(Rel::LinkType, 0, Size::H, v)
            }
            _ => {
                // LINUX_SLL2 and anything else with a link-type field.
                if self.off_linktype.constant != NOT_SET {
                    self.cmp(Rel::LinkType, 0, Size::H, ll_proto)
                } else {
                    Err(self.unsupported(format!(
                        "{} link-layer type filtering is not implemented",
                        self.linktype_name()
                    )))
                }
            }
        }
    }

    /// After `geneve`, a check that the encapsulated frame is Ethernet
    /// (libpcap's `gen_prevlinkhdr_check`); nothing otherwise.
    pub(crate) fn prevlinkhdr_check(&mut self) -> Result<Option<Frag>> {
        if !self.is_geneve {
            return Ok(None);
        }
        let (Some(hdr), Some(pl)) = (self.off_linkhdr.reg, self.off_linkpl.reg) else {
            return Ok(None);
        };
        let f = self.test(vec![Stmt::LdMem(hdr), Stmt::LdxMem(pl)], Cond::Eq, Src::X);
        Ok(Some(Self::not(f)))
    }

    fn ether_linktype(&mut self, ll_proto: u32) -> Result<Frag> {
        match ll_proto {
            LLCSAP_ISONS | LLCSAP_IP | LLCSAP_NETBEUI => {
                let b0 = self.cmp_gt(Rel::LinkType, 0, Size::H, ETHERMTU)?;
                let b0 = Self::not(b0);
                let b1 = self.cmp(Rel::Llc, 0, Size::H, (ll_proto << 8) | ll_proto)?;
                Ok(self.and(b0, b1))
            }
            LLCSAP_IPX => {
                let b0 = self.cmp(Rel::Llc, 0, Size::B, LLCSAP_IPX)?;
                let b1 = self.cmp(Rel::Llc, 0, Size::H, 0xffff)?;
                let b1 = self.or(b0, b1);
                let b0 = self.snap(0x000000, ETHERTYPE_IPX)?;
                let b1 = self.or(b0, b1);
                let b0 = self.cmp_gt(Rel::LinkType, 0, Size::H, ETHERMTU)?;
                let b0 = Self::not(b0);
                let b1 = self.and(b0, b1);
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, ETHERTYPE_IPX)?;
                Ok(self.or(b0, b1))
            }
            ETHERTYPE_ATALK | ETHERTYPE_AARP => {
                let b0 = self.cmp_gt(Rel::LinkType, 0, Size::H, ETHERMTU)?;
                let b0 = Self::not(b0);
                let b1 = if ll_proto == ETHERTYPE_ATALK {
                    self.snap(0x080007, ETHERTYPE_ATALK)?
                } else {
                    self.snap(0x000000, ETHERTYPE_AARP)?
                };
                let b1 = self.and(b0, b1);
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, ll_proto)?;
                Ok(self.or(b0, b1))
            }
            _ if ll_proto <= ETHERMTU => {
                let b0 = self.cmp_gt(Rel::LinkType, 0, Size::H, ETHERMTU)?;
                let b0 = Self::not(b0);
                let b1 = self.cmp(Rel::LinkType, 2, Size::B, ll_proto)?;
                Ok(self.and(b0, b1))
            }
            _ => self.cmp(Rel::LinkType, 0, Size::H, ll_proto),
        }
    }

    fn loopback_linktype(&mut self, af: u32) -> Result<Frag> {
        let v = if self.linktype == LinkType::NULL.0 {
            // DLT_NULL's family is in the capturing host's byte order,
            // little-endian here; libpcap compares it as a network-order
            // word, so the constant is byte-swapped.
            af.swap_bytes()
        } else {
            af
        };
        self.cmp(Rel::LinkHdr, 0, Size::W, v)
    }

    fn sll_linktype(&mut self, ll_proto: u32) -> Result<Frag> {
        match ll_proto {
            LLCSAP_ISONS | LLCSAP_IP | LLCSAP_NETBEUI => {
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, LINUX_SLL_P_802_2)?;
                let b1 = self.cmp(Rel::Llc, 0, Size::H, (ll_proto << 8) | ll_proto)?;
                Ok(self.and(b0, b1))
            }
            LLCSAP_IPX => {
                let b0 = self.cmp(Rel::Llc, 0, Size::B, LLCSAP_IPX)?;
                let b1 = self.snap(0x000000, ETHERTYPE_IPX)?;
                let b1 = self.or(b0, b1);
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, LINUX_SLL_P_802_2)?;
                let b1 = self.and(b0, b1);
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, LINUX_SLL_P_802_3)?;
                let b1 = self.or(b0, b1);
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, ETHERTYPE_IPX)?;
                Ok(self.or(b0, b1))
            }
            ETHERTYPE_ATALK | ETHERTYPE_AARP => {
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, LINUX_SLL_P_802_2)?;
                let b1 = if ll_proto == ETHERTYPE_ATALK {
                    self.snap(0x080007, ETHERTYPE_ATALK)?
                } else {
                    self.snap(0x000000, ETHERTYPE_AARP)?
                };
                let b1 = self.and(b0, b1);
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, ll_proto)?;
                Ok(self.or(b0, b1))
            }
            _ if ll_proto <= ETHERMTU => {
                let b0 = self.cmp(Rel::LinkType, 0, Size::H, LINUX_SLL_P_802_2)?;
                let off = self.off_linkpl.constant;
                let b1 = self.cmp(Rel::LinkHdr, off, Size::B, ll_proto)?;
                Ok(self.and(b0, b1))
            }
            _ => self.cmp(Rel::LinkType, 0, Size::H, ll_proto),
        }
    }

    /// After `mpls`: the bottom-of-stack bit, then the IP version nibble.
    fn mpls_linktype(&mut self, ll_proto: u32) -> Result<Frag> {
        let version = match ll_proto {
            ETHERTYPE_IP => 0x40,
            ETHERTYPE_IPV6 => 0x60,
            _ => {
                return Err(self.unsupported("only IPv4 and IPv6 can be tested inside MPLS"));
            }
        };
        let b0 = self.mcmp(Rel::LinkPl, u32::MAX - 1, Size::B, 0x01, 0x01)?;
        let b1 = self.mcmp(Rel::LinkPl, 0, Size::B, version, 0xf0)?;
        Ok(self.and(b0, b1))
    }

    /// An 802.2 SNAP header with `orgcode` and `ptype`.
    pub(crate) fn snap(&mut self, orgcode: u32, ptype: u32) -> Result<Frag> {
        let block = [
            LLCSAP_SNAP,
            LLCSAP_SNAP,
            0x03,
            (orgcode >> 16) as u8,
            (orgcode >> 8) as u8,
            orgcode as u8,
            (ptype >> 8) as u8,
            ptype as u8,
        ];
        self.bcmp(Rel::Llc, 0, &block)
    }

    fn llc_internal(&mut self) -> Result<Frag> {
        if self.linktype == LinkType::ETHERNET.0 {
            let b0 = self.cmp_gt(Rel::LinkType, 0, Size::H, ETHERMTU)?;
            let b0 = Self::not(b0);
            let b1 = self.cmp(Rel::Llc, 0, Size::H, 0xffff)?;
            let b1 = Self::not(b1);
            Ok(self.and(b0, b1))
        } else {
            Err(self.unsupported(format!(
                "'llc' is not supported on {}",
                self.linktype_name()
            )))
        }
    }

    /// `llc`, `llc i|s|u`, `llc <subtype>`.
    pub(crate) fn llc(&mut self, kind: Llc) -> Result<Frag> {
        let b0 = self.llc_internal()?;
        let b1 = match kind {
            Llc::Any => return Ok(b0),
            Llc::I => {
                let s = self.load_a(Rel::Llc, 2, Size::B)?;
                let f = self.test(s, Cond::Set, Src::K(0x01));
                Self::not(f)
            }
            Llc::S => self.mcmp(Rel::Llc, 2, Size::B, 0x01, 0x03)?,
            Llc::U => self.mcmp(Rel::Llc, 2, Size::B, 0x03, 0x03)?,
            Llc::SSubtype(_, v) => self.mcmp(Rel::Llc, 2, Size::B, v, 0x0f)?,
            Llc::USubtype(_, v) => self.mcmp(Rel::Llc, 2, Size::B, v, 0xef)?,
        };
        Ok(self.and(b0, b1))
    }
}
