//! Encapsulations that move the offsets of what follows them: `vlan`,
//! `mpls`, `pppoes` and `geneve`.

use sluice_bpf::insn::ancillary;
use sluice_wire::LinkType;

use super::link::ETHERTYPE_IPV6;
use super::{AbsOffset, DLT_PPP, Exit, Frag, HOLE, Lower, Rel};
use crate::ast::Dir;
use crate::error::Result;
use crate::ir::{AluOp, Cond, Size, Src, Stmt, Term};

const ETHERTYPE_8021Q: u32 = 0x8100;
const ETHERTYPE_8021AD: u32 = 0x88a8;
const ETHERTYPE_8021QINQ: u32 = 0x9100;
const ETHERTYPE_MPLS: u32 = 0x8847;
const ETHERTYPE_PPPOES: u32 = 0x8864;
const ETHERTYPE_TEB: u32 = 0x6558;
const GENEVE_PORT: u32 = 6081;

impl Lower<'_> {
    fn vlan_tpid_test(&mut self) -> Result<Frag> {
        let b0 = self.linktype(ETHERTYPE_8021Q)?;
        let b1 = self.linktype(ETHERTYPE_8021AD)?;
        let b1 = self.or(b0, b1);
        let b0 = b1;
        let b1 = self.linktype(ETHERTYPE_8021QINQ)?;
        Ok(self.or(b0, b1))
    }

    fn vlan_vid_test(&mut self, vid: u32) -> Result<Frag> {
        if vid > 0x0fff {
            return Err(self.invalid(format!("VLAN ID {vid} is greater than the maximum 4095")));
        }
        self.mcmp(Rel::LinkPl, 0, Size::H, vid, 0x0fff)
    }

    /// `vlan [id]`.
    pub(crate) fn vlan(&mut self, vid: Option<u32>) -> Result<Frag> {
        if self.label_stack_depth > 0 {
            return Err(
                self.invalid("'vlan' cannot follow 'mpls' (VLAN tags come before MPLS labels)")
            );
        }
        if self.linktype != LinkType::ETHERNET.0 {
            return Err(self.unsupported(format!(
                "'vlan' is not supported on {}",
                self.linktype_name()
            )));
        }
        let b0 = if self.live()
            && self.vlan_stack_depth == 0
            && !self.off_linkhdr.variable
            && self.off_linkhdr.constant == self.off_outermost_linkhdr.constant
        {
            self.vlan_bpf_extensions(vid)?
        } else {
            self.vlan_inline(vid)?
        };
        self.vlan_stack_depth += 1;
        Ok(b0)
    }

    /// Tags inline in the frame: test the TPID (and VID), then move every
    /// offset 4 bytes on.
    fn vlan_inline(&mut self, vid: Option<u32>) -> Result<Frag> {
        let mut b0 = self.vlan_tpid_test()?;
        if let Some(v) = vid {
            let b1 = self.vlan_vid_test(v)?;
            b0 = self.and(b0, b1);
        }
        self.off_linkpl.constant = self.off_linkpl.constant.wrapping_add(4);
        self.off_linktype.constant = self.off_linktype.constant.wrapping_add(4);
        Ok(b0)
    }

    fn vloffset_add(&mut self, which: super::WhichOff, stmts: &mut Vec<Stmt>) -> Result<()> {
        let mut off: AbsOffset = self.off(which);
        off.variable = true;
        let reg = match off.reg {
            Some(r) => r,
            None => self.alloc_reg()?,
        };
        off.reg = Some(reg);
        self.set_off(which, off);
        stmts.extend([
            Stmt::LdMem(reg),
            Stmt::Alu(AluOp::Add, Src::K(4)),
            Stmt::St(reg),
        ]);
        Ok(())
    }

    /// A Linux socket: the kernel strips the outer tag into metadata, read
    /// with the ancillary loads; a frame may still carry an inline tag (an
    /// inner one, or when the kernel did not strip it), and then the
    /// offsets move by 4 at run time, in scratch registers.
    fn vlan_bpf_extensions(&mut self, vid: Option<u32>) -> Result<Frag> {
        let present = self.test(
            vec![Stmt::LdAbs(Size::B, ancillary::VLAN_TAG_PRESENT)],
            Cond::Eq,
            Src::K(1),
        );
        let tpid = self.vlan_tpid_test()?;
        let vid_test = match vid {
            Some(v) => Some(self.vlan_vid_test(v)?),
            None => None,
        };
        self.is_vlan_vloffset = true;
        let mut s = Vec::new();
        self.vloffset_add(super::WhichOff::LinkPl, &mut s)?;
        self.vloffset_add(super::WhichOff::LinkType, &mut s)?;
        self.prepend(&tpid, s);
        let mut b0 = self.or(present, tpid);
        if let Some(vt) = vid_test {
            // The VID comes from the metadata when the kernel stripped the
            // tag, else from the frame: split the test's block in two paths
            // that meet at the mask and compare.
            let blk = vt.entry;
            let mut stmts = core::mem::take(&mut self.blocks[blk].stmts);
            let tail = stmts.split_off(stmts.len().saturating_sub(1));
            let term = self.blocks[blk].term;
            let meet = self.block(tail, term);
            let from_meta = self.block(
                vec![Stmt::LdAbs(Size::B, ancillary::VLAN_TAG)],
                Term::Goto(meet),
            );
            let from_frame = self.block(stmts, Term::Goto(meet));
            self.blocks[blk].stmts = vec![Stmt::LdAbs(Size::B, ancillary::VLAN_TAG_PRESENT)];
            self.blocks[blk].term = Term::Branch {
                cond: Cond::Eq,
                src: Src::K(1),
                jt: from_meta,
                jf: from_frame,
            };
            let vt = Frag {
                entry: blk,
                t: vec![Exit::T(meet)],
                f: vec![Exit::F(meet)],
            };
            b0 = self.and(b0, vt);
        }
        Ok(b0)
    }

    /// `mpls [label]`.
    pub(crate) fn mpls(&mut self, label: Option<u32>) -> Result<Frag> {
        let mut b0 = if self.label_stack_depth > 0 {
            self.mcmp(Rel::PrevMplsHdr, 2, Size::B, 0, 0x01)?
        } else if self.linktype == LinkType::ETHERNET.0 {
            self.linktype(ETHERTYPE_MPLS)?
        } else if self.linktype == DLT_PPP {
            // PPP's protocol number for unicast MPLS.
            self.linktype(0x0281)?
        } else {
            return Err(self.unsupported(format!(
                "'mpls' is not supported on {}",
                self.linktype_name()
            )));
        };
        if let Some(l) = label {
            if l > 0xfffff {
                return Err(self.invalid(format!(
                    "MPLS label {l} is greater than the maximum 1048575"
                )));
            }
            let b1 = self.mcmp(Rel::LinkPl, 0, Size::W, l << 12, 0xffff_f000)?;
            b0 = self.and(b0, b1);
        }
        self.off_nl_nosnap = self.off_nl_nosnap.wrapping_add(4);
        self.off_nl = self.off_nl.wrapping_add(4);
        self.label_stack_depth += 1;
        Ok(b0)
    }

    /// `pppoes [session]`: after it, the payload is read as PPP.
    pub(crate) fn pppoes(&mut self, sess: Option<u32>) -> Result<Frag> {
        let mut b0 = self.linktype(ETHERTYPE_PPPOES)?;
        if let Some(s) = sess {
            if s > 0xffff {
                return Err(self.invalid(format!(
                    "PPPoE session number {s} is greater than the maximum 65535"
                )));
            }
            let b1 = self.mcmp(Rel::LinkPl, 0, Size::W, s, 0x0000_ffff)?;
            b0 = self.and(b0, b1);
        }
        let new_hdr = AbsOffset {
            constant: self
                .off_linkpl
                .constant
                .wrapping_add(self.off_nl)
                .wrapping_add(6),
            variable: self.off_linkpl.variable,
            reg: self.off_linkpl.reg,
        };
        self.push_linkhdr(DLT_PPP, new_hdr);
        self.off_linktype = self.off_linkhdr;
        self.off_linkpl.constant = self.off_linkhdr.constant.wrapping_add(2);
        self.off_nl = 0;
        self.off_nl_nosnap = 0;
        Ok(b0)
    }

    fn push_linkhdr(&mut self, linktype: u32, hdr: AbsOffset) {
        self.prev_linktype = self.linktype;
        self.off_prev_linkhdr = self.off_linkhdr;
        self.linktype = linktype;
        self.off_linkhdr = hdr;
        self.is_geneve = false;
    }

    fn geneve_check(&mut self, v6: bool, vni: Option<u32>) -> Result<Frag> {
        let b0 = if v6 {
            self.port6(GENEVE_PORT, Some(17), Dir::Dst)?
        } else {
            self.port(GENEVE_PORT, Some(17), Dir::Dst)?
        };
        let rel = if v6 { Rel::TranIpv6 } else { Rel::TranIpv4 };
        let b1 = self.mcmp(rel, 8, Size::B, 0, 0xc0)?;
        let mut b0 = self.and(b0, b1);
        if let Some(v) = vni {
            if v > 0xff_ffff {
                return Err(self.invalid(format!(
                    "Geneve VNI {v} is greater than the maximum 16777215"
                )));
            }
            let b1 = self.mcmp(rel, 12, Size::W, v << 8, 0xffff_ff00)?;
            b0 = self.and(b0, b1);
        }
        Ok(b0)
    }

    /// `geneve [vni]`: after it, offsets are those of the encapsulated
    /// frame, computed at run time.
    pub(crate) fn geneve(&mut self, vni: Option<u32>) -> Result<Frag> {
        // IPv4: A = the IP header length (X), by a test that is always true.
        let b0 = self.geneve_check(false, vni)?;
        let mut s = self.loadx_iphdrlen()?;
        s.push(Stmt::Txa);
        let b1 = self.test(s, Cond::Eq, Src::X);
        let g4 = self.and(b0, b1);
        // IPv6: A = 40 (plus the variable part).
        let b0 = self.geneve_check(true, vni)?;
        let mut s = Vec::new();
        if let Some(v) = self.varpart(super::WhichOff::LinkPl)? {
            s.extend([v, Stmt::LdImm(40), Stmt::Alu(AluOp::Add, Src::X)]);
        } else {
            s.push(Stmt::LdImm(40));
        }
        s.push(Stmt::Tax);
        let b1 = self.test(s, Cond::Eq, Src::X);
        let g6 = self.and(b0, b1);
        let b0 = self.or(g4, g6);

        // The offsets of the encapsulated frame.
        let mut s = vec![
            Stmt::Alu(
                AluOp::Add,
                Src::K(
                    self.off_linkpl
                        .constant
                        .wrapping_add(self.off_nl)
                        .wrapping_add(8),
                ),
            ),
            Stmt::Tax,
            Stmt::Alu(AluOp::Add, Src::K(2)),
        ];
        let lt_reg = self.alloc_reg()?;
        self.off_linktype = AbsOffset {
            constant: 0,
            variable: true,
            reg: Some(lt_reg),
        };
        s.extend([
            Stmt::St(lt_reg),
            Stmt::LdInd(Size::B, 0),
            Stmt::Alu(AluOp::And, Src::K(0x3f)),
            Stmt::Alu(AluOp::Mul, Src::K(4)),
            Stmt::Alu(AluOp::Add, Src::K(8)),
            Stmt::Alu(AluOp::Add, Src::X),
        ]);
        let hdr_reg = self.alloc_reg()?;
        self.push_linkhdr(
            LinkType::ETHERNET.0,
            AbsOffset {
                constant: 0,
                variable: true,
                reg: Some(hdr_reg),
            },
        );
        s.extend([
            Stmt::St(hdr_reg),
            Stmt::LdInd(Size::H, 2),
            Stmt::LdxMem(hdr_reg),
        ]);
        self.no_optimize = true;
        let pl_reg = self.alloc_reg()?;
        self.off_linkpl = AbsOffset {
            constant: 0,
            variable: true,
            reg: Some(pl_reg),
        };
        self.off_nl = 0;
        // jeq TEB: an Ethernet frame inside, whose payload starts 14 bytes on.
        let tail = self.block(
            vec![Stmt::Stx(pl_reg), Stmt::LdImm(0)],
            Term::Branch {
                cond: Cond::Eq,
                src: Src::K(0),
                jt: HOLE,
                jf: HOLE,
            },
        );
        let teb = self.block(
            vec![
                Stmt::Txa,
                Stmt::Alu(AluOp::Add, Src::K(12)),
                Stmt::St(lt_reg),
                Stmt::Alu(AluOp::Add, Src::K(2)),
                Stmt::Tax,
            ],
            Term::Goto(tail),
        );
        let head = self.block(
            s,
            Term::Branch {
                cond: Cond::Eq,
                src: Src::K(ETHERTYPE_TEB),
                jt: teb,
                jf: tail,
            },
        );
        let b1 = Frag {
            entry: head,
            t: vec![Exit::T(tail)],
            f: vec![Exit::F(tail)],
        };
        let out = self.and(b0, b1);
        self.is_geneve = true;
        let _ = ETHERTYPE_IPV6;
        Ok(out)
    }
}
