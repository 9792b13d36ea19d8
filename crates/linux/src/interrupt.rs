//! A wake-up for blocked capture loops: an `eventfd` that sits in every poll
//! set, so another thread or a signal handler can stop a wait at once.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};

use crate::error::{Error, Result};
use crate::sys;

/// A wake-up shared between a capture loop and whoever wants to stop it
/// (usually inside an `Arc`). Triggering is async-signal-safe.
#[derive(Debug)]
pub struct Interrupt {
    fd: OwnedFd,
}

impl Interrupt {
    /// A new, untriggered interrupt.
    pub fn new() -> Result<Interrupt> {
        Ok(Interrupt {
            fd: sys::eventfd().map_err(|e| Error::io("creating an eventfd", e))?,
        })
    }

    /// Wakes every wait that has this interrupt in its poll set, now and
    /// until [`Interrupt::clear`]. Safe to call from a signal handler.
    pub fn trigger(&self) {
        sys::eventfd_add_raw(self.fd.as_raw_fd());
    }

    /// Resets the interrupt; returns how many triggers were pending.
    pub fn clear(&self) -> u64 {
        sys::eventfd_take(self.fd.as_fd()).unwrap_or(0)
    }

    /// Whether a trigger is pending (without clearing it).
    pub fn is_triggered(&self) -> bool {
        let mut fds = [libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        matches!(sys::poll(&mut fds, 0), Ok(n) if n > 0)
    }

    /// Waits up to `timeout` for a trigger (without clearing it); true if
    /// triggered.
    pub fn wait(&self, timeout: std::time::Duration) -> bool {
        let mut fds = [libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        matches!(sys::poll(&mut fds, ms), Ok(n) if n > 0)
    }

    pub(crate) fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for Interrupt {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_and_clear() {
        let i = Interrupt::new().unwrap();
        assert!(!i.is_triggered());
        i.trigger();
        i.trigger();
        assert!(i.is_triggered());
        assert_eq!(i.clear(), 2);
        assert!(!i.is_triggered());
        assert_eq!(i.clear(), 0);
        let t = std::time::Instant::now();
        assert!(!i.wait(std::time::Duration::from_millis(20)));
        assert!(t.elapsed() >= std::time::Duration::from_millis(19));
        i.trigger();
        assert!(i.wait(std::time::Duration::from_secs(10)));
    }
}
