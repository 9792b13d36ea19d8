//! Raw calls of the bridge I/O (`crate::bridge_io`): messages made of two
//! pieces (a `virtio_net_hdr` and a frame) for `sendmmsg`, full-frame
//! `recv` for frames too large for a ring slot, `timerfd`, the timer slack,
//! and the legacy ethtool offload queries. Same rules as the parent
//! module: one small function per call, `io::Result`, owned descriptors.

use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use super::{Pod, cvt, cvt_isize, retry_if_interrupted};

// SAFETY: repr(C) struct of two u32 (libc's definition of the kernel ABI).
unsafe impl Pod for libc::tpacket_stats {}

/// `struct ethtool_value`: a command and one 32-bit value.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EthtoolValue {
    /// `ETHTOOL_G*` command.
    pub cmd: u32,
    /// The value the kernel fills in.
    pub data: u32,
}

// SAFETY: repr(C) struct of two u32; every bit pattern is valid.
unsafe impl Pod for EthtoolValue {}

/// Most messages handed to one [`sendmmsg_parts`].
pub const PARTS_BATCH: usize = 64;

/// `sendmmsg(fd, msgs, MSG_DONTWAIT)` where each message is the
/// concatenation of two pieces (`head` may be empty): a `virtio_net_hdr`
/// and a frame, without copying them together. At most [`PARTS_BATCH`]
/// messages; returns how many went out.
pub fn sendmmsg_parts(fd: BorrowedFd<'_>, msgs: &[(&[u8], &[u8])]) -> io::Result<usize> {
    let n = msgs.len().min(PARTS_BATCH);
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; 2 * PARTS_BATCH];
    // SAFETY: mmsghdr is plain data; all zeroes (null name, iov, control)
    // is a valid value.
    let mut hdrs: [libc::mmsghdr; PARTS_BATCH] = unsafe { zeroed() };
    for (k, (head, data)) in msgs.iter().take(n).enumerate() {
        let mut used = 0;
        for piece in [head, data] {
            if !piece.is_empty() {
                iov[2 * k + used] = libc::iovec {
                    iov_base: piece.as_ptr() as *mut libc::c_void,
                    iov_len: piece.len(),
                };
                used += 1;
            }
        }
        hdrs[k].msg_hdr.msg_iov = &mut iov[2 * k];
        hdrs[k].msg_hdr.msg_iovlen = used;
    }
    retry_if_interrupted(|| {
        // SAFETY: the first `n` headers each point at `msg_iovlen` iovecs in
        // `iov`, which point into slices borrowed for the whole call; the
        // kernel only reads them and writes `msg_len`.
        let r = unsafe {
            libc::sendmmsg(
                fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        cvt(r).map(|n| n as usize)
    })
}

/// `recv(fd, buf, MSG_DONTWAIT | MSG_TRUNC)`: the next queued packet into
/// `buf`. Returns (bytes copied, full length of the packet); a full length
/// above `buf.len()` means the packet was cut.
pub fn recv_trunc(fd: BorrowedFd<'_>, buf: &mut [u8]) -> io::Result<(usize, usize)> {
    let full = retry_if_interrupted(|| {
        // SAFETY: `buf` is writable for `buf.len()` bytes for the call.
        cvt_isize(unsafe {
            libc::recv(
                fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        })
    })?;
    Ok((full.min(buf.len()), full))
}

/// `timerfd_create(clock, TFD_CLOEXEC | TFD_NONBLOCK)`.
pub fn timerfd_create(clock: libc::clockid_t) -> io::Result<OwnedFd> {
    // SAFETY: no pointers; the result is a fresh descriptor.
    let fd = cvt(unsafe { libc::timerfd_create(clock, libc::TFD_CLOEXEC | libc::TFD_NONBLOCK) })?;
    // SAFETY: `fd` was just returned by timerfd_create and is owned by no
    // one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `timerfd_settime(fd, TFD_TIMER_ABSTIME, {0, deadline})`: one expiry at
/// the absolute time `deadline_ns` of the timer's clock; 0 disarms it.
pub fn timerfd_set_abs(fd: BorrowedFd<'_>, deadline_ns: u64) -> io::Result<()> {
    // SAFETY: itimerspec is plain data; all zeroes is valid.
    let mut spec: libc::itimerspec = unsafe { zeroed() };
    spec.it_value.tv_sec = (deadline_ns / 1_000_000_000) as libc::time_t;
    spec.it_value.tv_nsec = (deadline_ns % 1_000_000_000) as libc::c_long;
    let flags = if deadline_ns == 0 {
        0
    } else {
        libc::TFD_TIMER_ABSTIME
    };
    // SAFETY: `spec` is a valid itimerspec alive for the call; the old
    // value pointer is null (not wanted).
    cvt(unsafe { libc::timerfd_settime(fd.as_raw_fd(), flags, &spec, std::ptr::null_mut()) })?;
    Ok(())
}

/// Reads a timerfd's expiry count; `Ok(0)` when it has not expired.
pub fn timerfd_take(fd: BorrowedFd<'_>) -> io::Result<u64> {
    let mut v: u64 = 0;
    // SAFETY: reads 8 bytes into a local.
    let r = unsafe {
        libc::read(
            fd.as_raw_fd(),
            (&mut v as *mut u64).cast(),
            size_of::<u64>(),
        )
    };
    match cvt_isize(r) {
        Ok(_) => Ok(v),
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
        Err(e) => Err(e),
    }
}

/// `prctl(PR_SET_TIMERSLACK, ns)` for the calling thread: how late the
/// kernel may fire its timed waits (50 µs by default).
pub fn set_timer_slack(ns: u64) -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe {
        libc::prctl(
            libc::PR_SET_TIMERSLACK,
            ns.max(1) as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}

/// `clock_gettime(clock)` in nanoseconds.
pub fn clock_ns(clock: libc::clockid_t) -> u64 {
    // SAFETY: timespec is plain data; all zeroes is valid.
    let mut ts: libc::timespec = unsafe { zeroed() };
    // SAFETY: `ts` is a writable timespec; the clocks used here always
    // exist, so the call cannot fail.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    (ts.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(ts.tv_nsec as u64)
}

/// `sched_setscheduler(0, SCHED_FIFO, priority)` for the calling thread.
pub fn set_fifo(priority: i32) -> io::Result<()> {
    let p = libc::sched_param {
        sched_priority: priority,
    };
    // SAFETY: `p` is a valid sched_param alive for the call; pid 0 is the
    // calling thread.
    cvt(unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &p) })?;
    Ok(())
}
