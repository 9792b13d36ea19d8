//! Injection of whole IP packets: raw sockets (`IPPROTO_RAW`, which
//! implies `IP_HDRINCL` for IPv4 and the header-included mode for IPv6)
//! with `SO_MARK` set, so that the rules recognise our packets and never
//! divert them again.
//!
//! Both directions go through the stack's routing on the destination
//! address: a packet to a local address is delivered to the host (it
//! loops through `lo`, keeping its mark, and enters the input path with
//! the route already set, so reverse-path filtering does not apply); any
//! other is routed out. That is why one mechanism serves "towards the
//! host" and "towards the network"; a TUN device would need its own
//! addresses and routes and would change the input interface.
//!
//! A packet larger than the route's MTU is refused by the kernel
//! (`EMSGSIZE`, raw sockets never fragment); [`InjectError::TooBig`] says
//! the MTU, found with a connected UDP socket (`IP_MTU`/`IPV6_MTU`), so
//! that the caller can segment and retry.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsFd, OwnedFd};

use crate::error::{Error, ErrorKind, Result};
use crate::nfqueue::sys as nsys;
use crate::sys;

/// Why a packet was not sent.
#[derive(Debug)]
#[non_exhaustive]
pub enum InjectError {
    /// Not an IPv4 or IPv6 packet, or too short for its header.
    Malformed(&'static str),
    /// Larger than the MTU of its route (the MTU is given).
    TooBig {
        /// The route's MTU.
        mtu: u32,
    },
    /// The address family has no raw socket (IPv6 disabled, …).
    NoSocket(&'static str),
    /// The kernel refused it.
    Io(io::Error),
}

impl fmt::Display for InjectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InjectError::Malformed(what) => write!(f, "cannot inject: {what}"),
            InjectError::TooBig { mtu } => {
                write!(f, "cannot inject: larger than the route's MTU of {mtu}")
            }
            InjectError::NoSocket(fam) => write!(f, "cannot inject: no raw {fam} socket"),
            InjectError::Io(e) => write!(f, "cannot inject: {e}"),
        }
    }
}

impl std::error::Error for InjectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InjectError::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// The destination of an IP packet, from its header.
pub fn destination(packet: &[u8]) -> std::result::Result<IpAddr, InjectError> {
    match packet.first().map(|b| b >> 4) {
        Some(4) => {
            let d: [u8; 4] = packet
                .get(16..20)
                .and_then(|s| s.try_into().ok())
                .ok_or(InjectError::Malformed("IPv4 header shorter than 20 bytes"))?;
            Ok(IpAddr::V4(Ipv4Addr::from(d)))
        }
        Some(6) => {
            let d: [u8; 16] = packet
                .get(24..40)
                .and_then(|s| s.try_into().ok())
                .ok_or(InjectError::Malformed("IPv6 header shorter than 40 bytes"))?;
            Ok(IpAddr::V6(Ipv6Addr::from(d)))
        }
        Some(_) => Err(InjectError::Malformed("not an IPv4 or IPv6 packet")),
        None => Err(InjectError::Malformed("empty packet")),
    }
}

/// Raw IPv4 and IPv6 sockets that send whole packets with a mark.
#[derive(Debug)]
pub struct Injector {
    v4: Option<OwnedFd>,
    v6: Option<OwnedFd>,
    mark: u32,
    mtus: HashMap<IpAddr, u32>,
}

/// Routes whose MTU is remembered at most.
const MTU_CACHE: usize = 1024;

impl Injector {
    /// Opens the sockets in the calling thread's network namespace, each
    /// marked with `mark` (`SO_MARK`, needs `CAP_NET_ADMIN`). IPv6 may be
    /// missing (disabled in the kernel); IPv4 may not.
    pub fn open(mark: u32) -> Result<Injector> {
        let open = |v6: bool| -> Result<OwnedFd> {
            let fam = if v6 { "IPv6" } else { "IPv4" };
            let fd = nsys::raw_ip_socket(v6).map_err(|e| {
                if matches!(e.raw_os_error(), Some(libc::EPERM) | Some(libc::EACCES)) {
                    crate::error::needs_net_raw(&format!("injecting {fam} packets"), e)
                } else {
                    Error::io(format!("opening a raw {fam} socket"), e)
                }
            })?;
            let m = mark as libc::c_int;
            sys::setsockopt(fd.as_fd(), libc::SOL_SOCKET, libc::SO_MARK, &m).map_err(|e| {
                Error::with_kind(
                    ErrorKind::Permission,
                    format!("marking injected {fam} packets (SO_MARK) needs CAP_NET_ADMIN"),
                    e,
                )
            })?;
            Ok(fd)
        };
        let v4 = open(false)?;
        let v6 = match open(true) {
            Ok(fd) => Some(fd),
            Err(e) if e.kind() == ErrorKind::Unsupported => None,
            Err(e) => return Err(e),
        };
        Ok(Injector {
            v4: Some(v4),
            v6,
            mark,
            mtus: HashMap::new(),
        })
    }

    /// The mark injected packets carry.
    pub fn mark(&self) -> u32 {
        self.mark
    }

    /// Sends one whole IP packet towards its destination.
    pub fn send(&mut self, packet: &[u8]) -> std::result::Result<(), InjectError> {
        let dst = destination(packet)?;
        let fd = match dst {
            IpAddr::V4(_) => self.v4.as_ref().ok_or(InjectError::NoSocket("IPv4"))?,
            IpAddr::V6(_) => self.v6.as_ref().ok_or(InjectError::NoSocket("IPv6"))?,
        };
        match nsys::sendto(fd.as_fd(), packet, dst) {
            Ok(_) => Ok(()),
            Err(e) if e.raw_os_error() == Some(libc::EMSGSIZE) => {
                let mtu = self.route_mtu(dst).map_err(InjectError::Io)?;
                Err(InjectError::TooBig { mtu })
            }
            Err(e) => Err(InjectError::Io(e)),
        }
    }

    /// The MTU of the route to `dst` (remembered per destination).
    pub fn route_mtu(&mut self, dst: IpAddr) -> io::Result<u32> {
        if let Some(&m) = self.mtus.get(&dst) {
            return Ok(m);
        }
        let v6 = dst.is_ipv6();
        let s = nsys::udp_socket(v6)?;
        nsys::connect(s.as_fd(), SocketAddr::new(dst, 9))?;
        let mtu: libc::c_int = if v6 {
            sys::getsockopt(s.as_fd(), libc::IPPROTO_IPV6, libc::IPV6_MTU)?
        } else {
            sys::getsockopt(s.as_fd(), libc::IPPROTO_IP, libc::IP_MTU)?
        };
        let mtu = mtu.max(68) as u32;
        if self.mtus.len() >= MTU_CACHE {
            self.mtus.clear();
        }
        self.mtus.insert(dst, mtu);
        Ok(mtu)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations() {
        let mut v4 = [0u8; 20];
        v4[0] = 0x45;
        v4[16..20].copy_from_slice(&[10, 77, 1, 2]);
        assert_eq!(
            destination(&v4).unwrap(),
            "10.77.1.2".parse::<IpAddr>().unwrap()
        );
        let mut v6 = [0u8; 40];
        v6[0] = 0x60;
        v6[24] = 0xfd;
        v6[25] = 0x77;
        v6[39] = 2;
        assert_eq!(
            destination(&v6).unwrap(),
            "fd77::2".parse::<IpAddr>().unwrap()
        );
        assert!(matches!(
            destination(&v4[..10]),
            Err(InjectError::Malformed(_))
        ));
        assert!(matches!(
            destination(&[0x10]),
            Err(InjectError::Malformed(_))
        ));
        assert!(matches!(destination(&[]), Err(InjectError::Malformed(_))));
    }
}
