//! The raw calls of host mode: netlink sockets (bind, name, batched
//! receive, gathered send), raw IP sockets for injection, and the UDP
//! probe that asks the kernel for a route's MTU.
//!
//! One small function per call, returning `io::Result`, with `EINTR`
//! retried through [`retry_if_interrupted`]. Generic socket options and
//! `poll` come from the crate's `sys` module.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use crate::sys::retry_if_interrupted;

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn cvt_isize(ret: isize) -> io::Result<usize> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret as usize)
    }
}

/// `socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol)`.
pub fn netlink_socket(protocol: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: socket() takes no pointers; a non-negative result is a fresh
    // descriptor owned by nobody else.
    let fd = cvt(unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            protocol,
        )
    })?;
    // SAFETY: `fd` was just returned by socket() and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn sockaddr_nl(pid: u32, groups: u32) -> libc::sockaddr_nl {
    // SAFETY: sockaddr_nl is plain data; all zeroes is a valid value.
    let mut sa: libc::sockaddr_nl = unsafe { zeroed() };
    sa.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    sa.nl_pid = pid;
    sa.nl_groups = groups;
    sa
}

/// `bind(fd, sockaddr_nl { pid: 0 (kernel assigns), groups })`.
pub fn bind_netlink(fd: BorrowedFd<'_>, groups: u32) -> io::Result<()> {
    let sa = sockaddr_nl(0, groups);
    // SAFETY: the pointer and length describe `sa`, alive for the call.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sa as *const libc::sockaddr_nl).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// The port id the kernel gave a bound netlink socket (`getsockname`).
pub fn netlink_portid(fd: BorrowedFd<'_>) -> io::Result<u32> {
    let mut sa = sockaddr_nl(0, 0);
    let mut len = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    // SAFETY: the pointer and length describe `sa`, writable for the call;
    // the kernel writes at most `len` bytes.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut sa as *mut libc::sockaddr_nl).cast(),
            &mut len,
        )
    })?;
    Ok(sa.nl_pid)
}

/// Most buffers one [`sendmsg_netlink`] gathers.
pub const MAX_IOV: usize = 64;

/// `sendmsg` of the concatenation of `parts` to the kernel (port 0).
/// Netlink sends are all-or-nothing: the count returned is the total.
pub fn sendmsg_netlink(fd: BorrowedFd<'_>, parts: &[&[u8]]) -> io::Result<usize> {
    if parts.len() > MAX_IOV {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "too many parts for one netlink send",
        ));
    }
    let sa = sockaddr_nl(0, 0);
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_IOV];
    for (slot, part) in iov.iter_mut().zip(parts) {
        *slot = libc::iovec {
            iov_base: part.as_ptr() as *mut libc::c_void,
            iov_len: part.len(),
        };
    }
    // SAFETY: msghdr is plain data; all zeroes (no name, no control) is a
    // valid value.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&sa as *const libc::sockaddr_nl).cast_mut().cast();
    msg.msg_namelen = size_of::<libc::sockaddr_nl>() as libc::socklen_t;
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = parts.len();
    retry_if_interrupted(|| {
        // SAFETY: `msg` points at `sa` and at `parts.len()` iovecs, each
        // describing a slice borrowed for the whole call; the kernel only
        // reads them.
        cvt_isize(unsafe { libc::sendmsg(fd.as_raw_fd(), &msg, 0) })
    })
}

/// Most messages one [`recvmmsg`] call takes.
pub const MAX_RECV_BATCH: usize = 256;

/// One received message: its length and `msg_flags` (`MSG_TRUNC` says the
/// buffer was too small).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Received {
    /// Bytes the kernel wrote (or, with `MSG_TRUNC`, the datagram's length).
    pub len: usize,
    /// `msg_flags` of the message.
    pub flags: libc::c_int,
}

/// `recvmmsg(fd, …, MSG_DONTWAIT | MSG_TRUNC)` into `slots` consecutive
/// buffers of `slot_len` bytes each in `buf` (at most
/// [`MAX_RECV_BATCH`]). Returns how many messages arrived (0 when none was
/// waiting) and fills `out` with their lengths and flags.
pub fn recvmmsg(
    fd: BorrowedFd<'_>,
    buf: &mut [u8],
    slot_len: usize,
    out: &mut [Received],
) -> io::Result<usize> {
    let n = (buf.len() / slot_len.max(1))
        .min(out.len())
        .min(MAX_RECV_BATCH);
    if n == 0 {
        return Ok(0);
    }
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; MAX_RECV_BATCH];
    // SAFETY: mmsghdr is plain data; all zeroes (null name, iov and
    // control) is a valid value.
    let mut msgs: [libc::mmsghdr; MAX_RECV_BATCH] = unsafe { zeroed() };
    let base = buf.as_mut_ptr();
    for k in 0..n {
        iov[k] = libc::iovec {
            // SAFETY: k * slot_len + slot_len <= buf.len() because
            // n <= buf.len() / slot_len, so the pointer stays inside `buf`.
            iov_base: unsafe { base.add(k * slot_len) }.cast(),
            iov_len: slot_len,
        };
        msgs[k].msg_hdr.msg_iov = &mut iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
    }
    let r = retry_if_interrupted(|| {
        // SAFETY: the first `n` headers each point at one iovec that
        // describes a disjoint `slot_len`-byte part of `buf`, which is
        // borrowed mutably for the whole call; the kernel writes only into
        // those parts and into the headers' `msg_len`/`msg_flags`. No
        // timeout pointer is passed.
        let r = unsafe {
            libc::recvmmsg(
                fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
                std::ptr::null_mut(),
            )
        };
        cvt(r).map(|n| n as usize)
    });
    let got = match r {
        Ok(got) => got,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(0),
        Err(e) => return Err(e),
    };
    for k in 0..got {
        out[k] = Received {
            len: msgs[k].msg_len as usize,
            flags: msgs[k].msg_hdr.msg_flags,
        };
    }
    Ok(got)
}

/// `recv(fd, buf, MSG_TRUNC | flags)`: one message; the length is the
/// message's own (larger than `buf` when it was cut).
pub fn recv(fd: BorrowedFd<'_>, buf: &mut [u8], flags: libc::c_int) -> io::Result<usize> {
    retry_if_interrupted(|| {
        // SAFETY: the pointer and length describe `buf`, writable for the
        // call; the kernel writes at most `buf.len()` bytes.
        cvt_isize(unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                flags | libc::MSG_TRUNC,
            )
        })
    })
}

/// `socket(family, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW)`: a raw socket
/// that sends whole IP packets (`IPPROTO_RAW` implies `IP_HDRINCL` for
/// IPv4 and the header-included mode for IPv6).
pub fn raw_ip_socket(v6: bool) -> io::Result<OwnedFd> {
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: socket() takes no pointers; the result is a fresh descriptor.
    let fd = cvt(unsafe {
        libc::socket(
            family,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        )
    })?;
    // SAFETY: `fd` was just returned by socket() and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0)`: for route MTU probes.
pub fn udp_socket(v6: bool) -> io::Result<OwnedFd> {
    let family = if v6 { libc::AF_INET6 } else { libc::AF_INET };
    // SAFETY: socket() takes no pointers; the result is a fresh descriptor.
    let fd = cvt(unsafe { libc::socket(family, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket() and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A socket address in the kernel's layout, big enough for IPv6.
struct RawAddr {
    storage: libc::sockaddr_storage,
    len: libc::socklen_t,
}

fn raw_addr(addr: SocketAddr) -> RawAddr {
    // SAFETY: sockaddr_storage is plain data; all zeroes is valid.
    let mut storage: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_in is plain data; all zeroes is valid.
            let mut sin: libc::sockaddr_in = unsafe { zeroed() };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            // SAFETY: sockaddr_storage is larger than and suitably aligned
            // for sockaddr_in; both are plain data.
            unsafe {
                std::ptr::write(
                    (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>(),
                    sin,
                )
            };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: sockaddr_in6 is plain data; all zeroes is valid.
            let mut sin6: libc::sockaddr_in6 = unsafe { zeroed() };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_scope_id = a.scope_id();
            // SAFETY: sockaddr_storage is larger than and suitably aligned
            // for sockaddr_in6; both are plain data.
            unsafe {
                std::ptr::write(
                    (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>(),
                    sin6,
                )
            };
            size_of::<libc::sockaddr_in6>()
        }
    };
    RawAddr {
        storage,
        len: len as libc::socklen_t,
    }
}

/// `sendto(fd, bytes, MSG_DONTWAIT, addr)`.
pub fn sendto(fd: BorrowedFd<'_>, bytes: &[u8], addr: IpAddr) -> io::Result<usize> {
    let a = raw_addr(SocketAddr::new(addr, 0));
    retry_if_interrupted(|| {
        // SAFETY: the buffer and the address each describe a live local or
        // borrowed value of the given length; the kernel only reads them.
        cvt_isize(unsafe {
            libc::sendto(
                fd.as_raw_fd(),
                bytes.as_ptr().cast(),
                bytes.len(),
                libc::MSG_DONTWAIT,
                (&a.storage as *const libc::sockaddr_storage).cast(),
                a.len,
            )
        })
    })
}

/// `connect(fd, addr)`.
pub fn connect(fd: BorrowedFd<'_>, addr: SocketAddr) -> io::Result<()> {
    let a = raw_addr(addr);
    retry_if_interrupted(|| {
        // SAFETY: the address describes a live local of the given length;
        // the kernel only reads it.
        cvt(unsafe {
            libc::connect(
                fd.as_raw_fd(),
                (&a.storage as *const libc::sockaddr_storage).cast(),
                a.len,
            )
        })
    })?;
    Ok(())
}

/// `ppoll(fds, timeout, NULL)`: like `poll` with a nanosecond timeout
/// (`None` waits for ever). An interrupted wait returns `Ok(0)` so that
/// the caller looks at its flags.
pub fn ppoll(fds: &mut [libc::pollfd], timeout: Option<std::time::Duration>) -> io::Result<usize> {
    let ts = timeout.map(|d| libc::timespec {
        tv_sec: d.as_secs().min(i64::MAX as u64) as libc::time_t,
        tv_nsec: libc::c_long::from(d.subsec_nanos() as i32),
    });
    let tsp = ts
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: the pointer and count describe `fds`, writable for the call;
    // `tsp` is null or points at a local timespec alive for the call; no
    // signal mask is passed.
    let r = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            tsp,
            std::ptr::null(),
        )
    };
    match cvt(r) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}
