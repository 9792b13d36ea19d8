//! Watching an interface for deletion: a route netlink socket joined to
//! the link group, so that host mode restricted to an interface stops
//! with a clear error when the interface goes away, instead of waiting for
//! packets that can no longer come.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use crate::error::{Error, ErrorKind, Result};
use crate::nfqueue::msg::{self, Event, consts::*};
use crate::nfqueue::socket::NetlinkSocket;
use crate::nfqueue::sys as nsys;

/// What happened to the watched interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    /// Still there (possibly changed).
    Present,
    /// Deleted.
    Deleted,
}

/// A watch on one interface.
#[derive(Debug)]
pub struct LinkWatch {
    sock: NetlinkSocket,
    index: u32,
    name: String,
    buf: Vec<u8>,
}

impl LinkWatch {
    /// Watches interface `name` of the calling thread's network namespace.
    pub fn new(name: &str) -> Result<LinkWatch> {
        let sock = NetlinkSocket::open(NETLINK_ROUTE, RTMGRP_LINK)?;
        // Subscribe first, then resolve: a deletion in between is seen.
        let index = crate::iface::index(name)?;
        Ok(LinkWatch {
            sock,
            index,
            name: name.to_owned(),
            buf: vec![0; 64 * 1024],
        })
    }

    /// The interface's index.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Reads the pending link events (without waiting) and says whether
    /// the interface was deleted. A lost notification (`ENOBUFS`) is
    /// answered by looking the interface up by name.
    pub fn poll(&mut self) -> Result<LinkState> {
        for _ in 0..1024 {
            let n = match nsys::recv(self.sock.as_fd(), &mut self.buf, libc::MSG_DONTWAIT) {
                Ok(n) => n.min(self.buf.len()),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(LinkState::Present),
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    return Ok(match crate::iface::index(&self.name) {
                        Ok(i) if i == self.index => LinkState::Present,
                        _ => LinkState::Deleted,
                    });
                }
                Err(e) => return Err(Error::io("reading link events", e)),
            };
            for m in msg::messages(&self.buf[..n]) {
                let Ok(m) = m else { break };
                if let Ok(Event::Link(l)) = msg::parse(&m)
                    && l.deleted
                    && l.index == self.index
                {
                    return Ok(LinkState::Deleted);
                }
            }
        }
        Ok(LinkState::Present)
    }

    /// The error to stop with once the interface is gone.
    pub fn gone_error(&self) -> Error {
        Error::new(
            ErrorKind::InterfaceGone,
            format!("interface {} was deleted", self.name),
        )
    }
}

impl AsFd for LinkWatch {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watches_loopback() {
        let mut w = LinkWatch::new("lo").unwrap();
        assert!(w.index() > 0);
        assert_eq!(w.poll().unwrap(), LinkState::Present);
        assert!(
            w.gone_error()
                .to_string()
                .contains("interface lo was deleted")
        );
        assert_eq!(
            LinkWatch::new("nosuchif0").unwrap_err().kind(),
            ErrorKind::NoSuchInterface
        );
    }
}
