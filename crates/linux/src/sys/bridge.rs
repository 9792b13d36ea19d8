//! Raw calls of the bridge I/O (`crate::bridge_io`): messages made of two
//! pieces (a `virtio_net_hdr` and a frame) for `sendmmsg`, full-frame
//! `recvmsg` scattered over pieces for frames too large for a ring slot,
//! `timerfd`, the timer slack, and the legacy ethtool offload queries. Same rules as the parent
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

/// Most pieces handed to one [`recvmsg_parts`].
pub const RECV_PARTS: usize = 4;

/// `recvmsg(fd, MSG_DONTWAIT | MSG_TRUNC)` scattering the next queued
/// packet over `parts` in order (at most [`RECV_PARTS`]; empty pieces are
/// skipped), so a header and a frame land where they belong without a
/// second copy. Returns (bytes copied, full length of the packet); a full
/// length above the total of `parts` means the packet was cut.
pub fn recvmsg_parts(fd: BorrowedFd<'_>, parts: &mut [&mut [u8]]) -> io::Result<(usize, usize)> {
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; RECV_PARTS];
    let mut used = 0;
    let mut room = 0;
    for piece in parts.iter_mut().take(RECV_PARTS) {
        if !piece.is_empty() {
            iov[used] = libc::iovec {
                iov_base: piece.as_mut_ptr().cast(),
                iov_len: piece.len(),
            };
            room += piece.len();
            used += 1;
        }
    }
    // SAFETY: msghdr is plain data; all zeroes (no name, no control) is
    // valid.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = used;
    let full = retry_if_interrupted(|| {
        // SAFETY: `msg` points at `used` iovecs, each covering a slice
        // borrowed mutably for the whole call; no name or control buffer.
        cvt_isize(unsafe {
            libc::recvmsg(
                fd.as_raw_fd(),
                &mut msg,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        })
    })?;
    Ok((full.min(room), full))
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

/// `struct sched_attr` (the first version of the kernel ABI, 48 bytes plus
/// the utilisation clamps).
#[repr(C)]
struct SchedAttr {
    size: u32,
    sched_policy: u32,
    sched_flags: u64,
    sched_nice: i32,
    sched_priority: u32,
    sched_runtime: u64,
    sched_deadline: u64,
    sched_period: u64,
    sched_util_min: u32,
    sched_util_max: u32,
}

/// Reads the calling thread's scheduling attributes with `sched_getattr`,
/// sets `sched_runtime` to `slice_ns` and writes them back with
/// `sched_setattr`: for a thread in the fair class (EEVDF, Linux 6.12 and
/// later) that is the length of its time slices, and a shorter slice lets
/// the thread preempt a longer-sliced one when it wakes. Class, nice value
/// and everything else are kept. Older kernels accept and ignore it.
pub fn set_fair_slice(slice_ns: u64) -> io::Result<()> {
    // SAFETY: SchedAttr is plain data; all zeroes is valid.
    let mut attr: SchedAttr = unsafe { zeroed() };
    let size = size_of::<SchedAttr>() as libc::c_uint;
    // SAFETY: `attr` is writable for `size` bytes; pid 0 is the calling
    // thread; flags 0.
    cvt(unsafe {
        libc::syscall(
            libc::SYS_sched_getattr,
            0,
            &mut attr as *mut SchedAttr,
            size,
            0,
        )
    } as libc::c_int)?;
    attr.size = size;
    attr.sched_runtime = slice_ns;
    // SAFETY: `attr` is a valid sched_attr whose `size` says how much of it
    // the kernel may read; pid 0 is the calling thread; flags 0.
    let r = unsafe { libc::syscall(libc::SYS_sched_setattr, 0, &attr as *const SchedAttr, 0) };
    cvt(r as libc::c_int)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixDatagram;

    #[test]
    fn recvmsg_scatters_over_the_pieces_and_tells_the_full_length() {
        let (a, b) = UnixDatagram::pair().unwrap();
        let msg: Vec<u8> = (0..30).collect();
        a.send(&msg).unwrap();
        let (mut h, mut m, mut t) = ([0u8; 10], [0u8; 12], [0u8; 100]);
        let got = recvmsg_parts(b.as_fd(), &mut [&mut h, &mut [], &mut m, &mut t]).unwrap();
        assert_eq!(got, (30, 30));
        assert_eq!(&h, &msg[..10]);
        assert_eq!(&m, &msg[10..22]);
        assert_eq!(&t[..8], &msg[22..]);
        // Cut: the full length says so.
        a.send(&[7u8; 50]).unwrap();
        let (mut h, mut m) = ([0u8; 10], [0u8; 5]);
        assert_eq!(
            recvmsg_parts(b.as_fd(), &mut [&mut h, &mut m]).unwrap(),
            (15, 50)
        );
        // Nothing queued: would block.
        let e = recvmsg_parts(b.as_fd(), &mut [&mut h]).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn a_fair_slice_can_be_asked_for() {
        std::thread::spawn(|| set_fair_slice(100_000))
            .join()
            .unwrap()
            .expect("sched_setattr with a slice");
    }
}
