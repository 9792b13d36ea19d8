//! What the running kernel and process allow, probed at run time, so that
//! callers degrade gracefully instead of failing.

use std::os::fd::AsFd;

use sluice_bpf::Insn;
use sluice_bpf::insn as bpf;

use crate::capture::{ETH_P_ALL, Fanout, FanoutMode};
use crate::privs::CapSets;
use crate::sys;

/// Features found by [`Capabilities::probe`].
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// CAP_NET_RAW is effective.
    pub cap_net_raw: bool,
    /// CAP_NET_ADMIN is effective.
    pub cap_net_admin: bool,
    /// An AF_PACKET socket could be opened.
    pub packet_sockets: bool,
    /// `PACKET_VERSION = TPACKET_V3` is accepted.
    pub tpacket_v3: bool,
    /// A TPACKET_V3 TX ring is accepted (kernel ≥ 4.11).
    pub tx_ring_v3: bool,
    /// Fanout modes a socket could join.
    pub fanout_modes: Vec<FanoutMode>,
    /// `PACKET_FANOUT_FLAG_DEFRAG` is accepted.
    pub fanout_defrag: bool,
    /// `PACKET_IGNORE_OUTGOING` (kernel ≥ 4.20).
    pub ignore_outgoing: bool,
    /// `PACKET_QDISC_BYPASS`.
    pub qdisc_bypass: bool,
    /// `PACKET_VNET_HDR`.
    pub vnet_hdr: bool,
    /// A TPACKET_V3 RX ring on a socket with `PACKET_VNET_HDR`.
    pub vnet_hdr_rx_ring_v3: bool,
    /// `SO_LOCK_FILTER`.
    pub lock_filter: bool,
}

fn int_opt(fd: std::os::fd::BorrowedFd<'_>, name: libc::c_int, v: libc::c_int) -> bool {
    sys::setsockopt(fd, libc::SOL_PACKET, name, &v).is_ok()
}

fn tiny_rx_ring(fd: std::os::fd::BorrowedFd<'_>) -> bool {
    let page = sys::page_size() as u32;
    let req = libc::tpacket_req3 {
        tp_block_size: page,
        tp_block_nr: 1,
        tp_frame_size: 2048.min(page),
        tp_frame_nr: page / 2048.min(page),
        tp_retire_blk_tov: 10,
        tp_sizeof_priv: 0,
        tp_feature_req_word: 0,
    };
    sys::setsockopt(fd, libc::SOL_PACKET, libc::PACKET_RX_RING, &req).is_ok()
}

/// A socket bound to all interfaces with a reject-all filter: it receives
/// nothing but is "running", as fanout requires.
fn running_socket() -> Option<std::os::fd::OwnedFd> {
    let fd = sys::packet_socket(libc::SOCK_RAW, 0).ok()?;
    let reject = [Insn::stmt(bpf::RET | bpf::K, 0)];
    let prog: Vec<libc::sock_filter> = reject
        .iter()
        .map(|i| libc::sock_filter {
            code: i.code,
            jt: i.jt,
            jf: i.jf,
            k: i.k,
        })
        .collect();
    sys::attach_filter(fd.as_fd(), &prog).ok()?;
    sys::bind_packet(fd.as_fd(), 0, ETH_P_ALL).ok()?;
    Some(fd)
}

fn fanout_works(mode: FanoutMode, defrag: bool) -> bool {
    let Some(fd) = running_socket() else {
        return false;
    };
    // A group id of our own: the kernel's unique-id flag where it has it,
    // else one derived from the pid and the mode.
    let unique = (u32::from(mode_bits(mode)) | 0x2000 | if defrag { 0x8000 } else { 0 }) << 16;
    if sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_FANOUT, &unique).is_ok() {
        return true;
    }
    let mut f = Fanout::new(
        (std::process::id() as u16) ^ (u16::from(mode_bits(mode)) << 12) ^ 0x5a5a,
        mode,
    );
    f.defrag = defrag;
    sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_FANOUT, &f.arg()).is_ok()
}

fn mode_bits(mode: FanoutMode) -> u8 {
    (Fanout::new(0, mode).arg() >> 16) as u8
}

impl Capabilities {
    /// Probes the kernel in the calling thread's network namespace. Never
    /// fails: what does not work is reported as absent.
    pub fn probe() -> Capabilities {
        let caps = CapSets::current().unwrap_or_default();
        let mut c = Capabilities {
            cap_net_raw: caps.net_raw(),
            cap_net_admin: caps.net_admin(),
            ..Default::default()
        };
        let Ok(fd) = sys::packet_socket(libc::SOCK_RAW, 0) else {
            return c;
        };
        c.packet_sockets = true;
        c.tpacket_v3 = int_opt(fd.as_fd(), libc::PACKET_VERSION, 2);
        c.ignore_outgoing = int_opt(fd.as_fd(), libc::PACKET_IGNORE_OUTGOING, 1);
        c.qdisc_bypass = int_opt(fd.as_fd(), libc::PACKET_QDISC_BYPASS, 1);
        let one: libc::c_int = 1;
        c.lock_filter =
            sys::setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_LOCK_FILTER, &one).is_ok();
        if let Ok(fd) = sys::packet_socket(libc::SOCK_RAW, 0) {
            c.vnet_hdr = int_opt(fd.as_fd(), libc::PACKET_VNET_HDR, 1);
            c.vnet_hdr_rx_ring_v3 = c.vnet_hdr
                && int_opt(fd.as_fd(), libc::PACKET_VERSION, 2)
                && tiny_rx_ring(fd.as_fd());
        }
        if let Ok(fd) = sys::packet_socket(libc::SOCK_RAW, 0) {
            let page = sys::page_size() as u32;
            let req = libc::tpacket_req3 {
                tp_block_size: page,
                tp_block_nr: 1,
                tp_frame_size: 2048.min(page),
                tp_frame_nr: page / 2048.min(page),
                tp_retire_blk_tov: 0,
                tp_sizeof_priv: 0,
                tp_feature_req_word: 0,
            };
            c.tx_ring_v3 = int_opt(fd.as_fd(), libc::PACKET_VERSION, 2)
                && sys::setsockopt(fd.as_fd(), libc::SOL_PACKET, libc::PACKET_TX_RING, &req)
                    .is_ok();
        }
        c.fanout_modes = FanoutMode::ALL
            .into_iter()
            .filter(|&m| fanout_works(m, false))
            .collect();
        c.fanout_defrag = fanout_works(FanoutMode::Hash, true);
        c
    }

    /// Whether `mode` can be used.
    pub fn fanout(&self, mode: FanoutMode) -> bool {
        self.fanout_modes.contains(&mode)
    }
}

/// Whether `interface` can give raw hardware timestamps on receive.
pub fn hardware_timestamps(interface: &str) -> bool {
    crate::iface::timestamp_info(interface).is_ok_and(|t| t.rx_hardware())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_matches_privileges() {
        let c = Capabilities::probe();
        assert_eq!(c.packet_sockets, c.cap_net_raw, "{c:?}");
        if c.packet_sockets {
            // Every kernel this crate supports has these.
            assert!(c.tpacket_v3, "{c:?}");
            assert!(c.fanout(FanoutMode::Hash), "{c:?}");
            assert!(c.fanout(FanoutMode::LoadBalance), "{c:?}");
        }
    }
}
