//! A netlink socket (netfilter or route): bind, buffer sizing,
//! `NETLINK_NO_ENOBUFS`, request/ack, gathered sends and batched receives.

use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::time::{Duration, Instant};

use crate::error::{Error, ErrorKind, Result};
use crate::nfqueue::msg::{self, Event};
use crate::nfqueue::sys as nsys;
use crate::sys;

const SOL_NETLINK: libc::c_int = 270;

/// A bound netlink socket.
#[derive(Debug)]
pub struct NetlinkSocket {
    fd: OwnedFd,
    portid: u32,
    seq: u32,
}

/// How long a configuration request waits for the kernel's answer.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

impl NetlinkSocket {
    /// Opens and binds a netlink socket of `protocol`
    /// ([`msg::consts::NETLINK_NETFILTER`], …) joined to multicast
    /// `groups`.
    pub fn open(protocol: libc::c_int, groups: u32) -> Result<NetlinkSocket> {
        let fd = nsys::netlink_socket(protocol).map_err(|e| {
            if e.raw_os_error() == Some(libc::EPROTONOSUPPORT) {
                Error::with_kind(
                    ErrorKind::Unsupported,
                    format!("netlink protocol {protocol} is not available in this kernel"),
                    e,
                )
            } else {
                Error::io("opening a netlink socket", e)
            }
        })?;
        nsys::bind_netlink(fd.as_fd(), groups)
            .map_err(|e| Error::io("binding a netlink socket", e))?;
        let portid = nsys::netlink_portid(fd.as_fd())
            .map_err(|e| Error::io("reading a netlink socket's port id", e))?;
        Ok(NetlinkSocket { fd, portid, seq: 1 })
    }

    /// The port id the kernel assigned (the `portid` column of
    /// `/proc/net/netfilter/nfnetlink_queue`).
    pub fn portid(&self) -> u32 {
        self.portid
    }

    /// A fresh sequence number.
    pub fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1).max(1);
        self.seq
    }

    /// Sets the receive buffer to `bytes`: `SO_RCVBUFFORCE` (beyond
    /// `rmem_max`, needs `CAP_NET_ADMIN`), else `SO_RCVBUF` (capped by
    /// `net.core.rmem_max`). Returns the size the kernel reports (it
    /// doubles the request for bookkeeping).
    pub fn set_rcvbuf(&self, bytes: usize) -> Result<usize> {
        let v = libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX);
        if sys::setsockopt(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &v).is_err() {
            sys::setsockopt(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF, &v)
                .map_err(|e| Error::io("setting a netlink receive buffer", e))?;
        }
        let got: libc::c_int = sys::getsockopt(self.fd.as_fd(), libc::SOL_SOCKET, libc::SO_RCVBUF)
            .map_err(|e| Error::io("reading a netlink receive buffer size", e))?;
        Ok(got.max(0) as usize)
    }

    /// `NETLINK_NO_ENOBUFS`: an overrun no longer fails the next `recv`
    /// with `ENOBUFS`; the caller counts losses itself (packet id gaps,
    /// sequence numbers, kernel statistics).
    pub fn set_no_enobufs(&self, on: bool) -> Result<()> {
        let v: libc::c_int = on.into();
        sys::setsockopt(self.fd.as_fd(), SOL_NETLINK, libc::NETLINK_NO_ENOBUFS, &v)
            .map_err(|e| Error::io("setting NETLINK_NO_ENOBUFS", e))
    }

    /// Sends the concatenation of `parts` (one or more whole messages).
    pub fn send(&self, parts: &[&[u8]]) -> io::Result<usize> {
        nsys::sendmsg_netlink(self.fd.as_fd(), parts)
    }

    /// Sends one request built with an ack flag and waits for its ack (or
    /// error), skipping anything else that arrives meanwhile. `what` says
    /// what the request does, for the error.
    pub fn request(&mut self, request: &[u8], seq: u32, what: &str) -> Result<()> {
        self.send(&[request])
            .map_err(|e| Error::io(format!("{what}: sending the request"), e))?;
        let deadline = Instant::now() + REQUEST_TIMEOUT;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("{what}: no answer from the kernel within {REQUEST_TIMEOUT:?}"),
                ));
            }
            if !self.wait_readable(left)? {
                continue;
            }
            let n = match nsys::recv(self.fd.as_fd(), &mut buf, libc::MSG_DONTWAIT) {
                Ok(n) => n.min(buf.len()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(Error::io(format!("{what}: reading the answer"), e)),
            };
            for m in msg::messages(&buf[..n]) {
                let Ok(m) = m else { break };
                match msg::parse(&m) {
                    Ok(Event::Ack { seq: s }) if s == seq => return Ok(()),
                    Ok(Event::Error { seq: s, errno, .. }) if s == seq => {
                        return Err(Error::io(
                            what.to_owned(),
                            io::Error::from_raw_os_error(errno),
                        ));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Waits up to `timeout` for something to read; false on timeout or
    /// an interrupted wait.
    pub fn wait_readable(&self, timeout: Duration) -> Result<bool> {
        let mut fds = [libc::pollfd {
            fd: std::os::fd::AsRawFd::as_raw_fd(&self.fd),
            events: libc::POLLIN,
            revents: 0,
        }];
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        let n = sys::poll(&mut fds, ms).map_err(|e| Error::io("waiting on a netlink socket", e))?;
        Ok(n > 0)
    }

    /// Receives up to `batch.slots()` messages without waiting; the count
    /// (0 when nothing is waiting).
    pub fn recv_batch(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        batch.count = 0;
        let n = nsys::recvmmsg(
            self.fd.as_fd(),
            &mut batch.buf,
            batch.slot_len,
            &mut batch.got,
        )?;
        batch.count = n;
        Ok(n)
    }
}

impl AsFd for NetlinkSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Waits until one of `fds` (at most 32) has something to read, or
/// `timeout` passes (nanosecond precision; `None` waits for ever). Returns
/// a bit mask: bit `i` set when `fds[i]` is readable (or has an error or
/// hang-up to report); 0 on timeout or an interrupted wait.
pub fn wait_readable(fds: &[BorrowedFd<'_>], timeout: Option<Duration>) -> Result<u32> {
    if fds.len() > 32 {
        return Err(Error::new(
            ErrorKind::InvalidConfig,
            "waiting on more than 32 descriptors",
        ));
    }
    let mut pfds = [libc::pollfd {
        fd: -1,
        events: 0,
        revents: 0,
    }; 32];
    for (p, fd) in pfds.iter_mut().zip(fds) {
        p.fd = std::os::fd::AsRawFd::as_raw_fd(fd);
        p.events = libc::POLLIN;
    }
    let n = nsys::ppoll(&mut pfds[..fds.len()], timeout)
        .map_err(|e| Error::io("waiting for packets", e))?;
    if n == 0 {
        return Ok(0);
    }
    let mut mask = 0;
    for (i, p) in pfds[..fds.len()].iter().enumerate() {
        if p.revents != 0 {
            mask |= 1 << i;
        }
    }
    Ok(mask)
}

/// Buffers for one batched receive: `slots` messages of at most
/// `slot_len` bytes each, in one allocation.
#[derive(Debug)]
pub struct RecvBatch {
    buf: Vec<u8>,
    slot_len: usize,
    got: Vec<nsys::Received>,
    count: usize,
}

impl RecvBatch {
    /// Room for `slots` messages (at most 256) of `slot_len` bytes.
    pub fn new(slots: usize, slot_len: usize) -> RecvBatch {
        let slots = slots.clamp(1, nsys::MAX_RECV_BATCH);
        let slot_len = msg::align4(slot_len.max(msg::NLMSG_HDRLEN));
        RecvBatch {
            buf: vec![0; slots * slot_len],
            slot_len,
            got: vec![nsys::Received::default(); slots],
            count: 0,
        }
    }

    /// Messages the batch can hold.
    pub fn slots(&self) -> usize {
        self.got.len()
    }

    /// Messages received by the last [`NetlinkSocket::recv_batch`].
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when the last receive got nothing.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The length of one slot.
    pub fn slot_len(&self) -> usize {
        self.slot_len
    }

    /// The whole slot of message `i` (its bytes, then what earlier
    /// receives or the caller left there), to change in place: a caller
    /// may lend a packet where it lies, with the rest of the slot as room.
    pub fn slot_mut(&mut self, i: usize) -> Option<&mut [u8]> {
        if i >= self.count {
            return None;
        }
        let start = i * self.slot_len;
        self.buf.get_mut(start..start + self.slot_len)
    }

    /// The bytes of message `i` and whether the kernel had to cut it
    /// (`MSG_TRUNC`: the datagram was longer than a slot).
    pub fn get(&self, i: usize) -> Option<(&[u8], bool)> {
        if i >= self.count {
            return None;
        }
        let r = self.got[i];
        let len = r.len.min(self.slot_len);
        let start = i * self.slot_len;
        let cut = r.flags & libc::MSG_TRUNC != 0 || r.len > self.slot_len;
        Some((&self.buf[start..start + len], cut))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batch_slots_are_aligned_and_bounded() {
        let b = RecvBatch::new(1000, 1001);
        assert_eq!(b.slots(), 256);
        assert_eq!(b.slot_len, 1004);
        assert!(b.get(0).is_none());
        assert!(b.is_empty());
    }

    /// A netlink route socket needs no privileges: open, bind, size.
    #[test]
    fn opens_a_route_socket() {
        let s = NetlinkSocket::open(msg::consts::NETLINK_ROUTE, 0).unwrap();
        assert_ne!(s.portid(), 0);
        assert!(s.set_rcvbuf(1 << 20).unwrap() > 0);
        s.set_no_enobufs(true).unwrap();
        let mut b = RecvBatch::new(4, 4096);
        assert_eq!(s.recv_batch(&mut b).unwrap(), 0);
    }
}
