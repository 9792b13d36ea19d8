//! Every raw `libc` call of the crate, one small function per call.
//!
//! Each function returns `io::Result`, retries on `EINTR` through
//! [`retry_if_interrupted`] where a retry is the right answer, and hands out
//! owned resources ([`OwnedFd`], [`Mmap`]) that release themselves on drop.
//! Nothing outside this module calls `libc` functions directly; the safe
//! types built on top (rings, sockets, the lab) never see a raw pointer that
//! did not come from here.

use std::ffi::{CStr, CString};
use std::io;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod bridge;

/// Runs `f` again as long as it fails with `EINTR`.
///
/// The one place where interrupted system calls are retried. Calls whose
/// interruption means something to the caller (`poll`, which must return so
/// that signal flags are looked at) do not go through here.
pub fn retry_if_interrupted<T>(mut f: impl FnMut() -> io::Result<T>) -> io::Result<T> {
    loop {
        match f() {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// Turns a C return value (`-1` = error in `errno`) into an `io::Result`.
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

/// Plain old data that the kernel may read from or write into byte for byte.
///
/// # Safety
///
/// Implementors must be `#[repr(C)]` (or a primitive), contain no pointers or
/// references the kernel could fill in, and every bit pattern (in particular
/// all zeroes) must be a valid value.
pub unsafe trait Pod: Copy {}

// SAFETY: primitive integers accept every bit pattern.
unsafe impl Pod for libc::c_int {}
// SAFETY: primitive integers accept every bit pattern.
unsafe impl Pod for u32 {}
// SAFETY: repr(C) structs of integers (libc's definitions of the kernel ABI).
unsafe impl Pod for libc::tpacket_req3 {}
// SAFETY: as above.
unsafe impl Pod for libc::tpacket_req {}
// SAFETY: as above.
unsafe impl Pod for libc::tpacket_stats_v3 {}
// SAFETY: as above.
unsafe impl Pod for libc::packet_mreq {}
// SAFETY: repr(C) struct of integers and a pointer the kernel only reads;
// an all-zero value (null program, length 0) is a valid value of the type.
unsafe impl Pod for libc::sock_fprog {}

/// `socket(AF_PACKET, kind | SOCK_CLOEXEC, protocol)`; `protocol` is in host
/// order and converted here.
pub fn packet_socket(kind: libc::c_int, protocol: u16) -> io::Result<OwnedFd> {
    // SAFETY: socket() takes no pointers; a non-negative return is a fresh
    // descriptor that nobody else owns.
    let fd = cvt(unsafe {
        libc::socket(
            libc::AF_PACKET,
            kind | libc::SOCK_CLOEXEC,
            libc::c_int::from(protocol.to_be()),
        )
    })?;
    // SAFETY: `fd` was just returned by socket() and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `socket(AF_INET, SOCK_DGRAM)`: a handle for interface ioctls.
pub fn inet_dgram_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket() takes no pointers; the result is a fresh descriptor.
    let fd = cvt(unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) })?;
    // SAFETY: `fd` was just returned by socket() and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `setsockopt(fd, level, name, &value, sizeof value)`.
pub fn setsockopt<T: Pod>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> io::Result<()> {
    // SAFETY: the pointer and length describe `value`, which lives across
    // the call; the kernel only reads it.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            size_of::<T>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `getsockopt(fd, level, name, &value, &len)` for a fixed-size value.
pub fn getsockopt<T: Pod>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
) -> io::Result<T> {
    // SAFETY: `T: Pod` guarantees that all zeroes is a valid `T`.
    let mut value: T = unsafe { zeroed() };
    let mut len = size_of::<T>() as libc::socklen_t;
    // SAFETY: the pointer and length describe `value`, writable for the
    // whole call; the kernel writes at most `len` bytes.
    cvt(unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&mut value as *mut T).cast(),
            &mut len,
        )
    })?;
    Ok(value)
}

/// `SO_ERROR`: the pending socket error, cleared by reading it.
pub fn take_socket_error(fd: BorrowedFd<'_>) -> io::Result<Option<io::Error>> {
    let err: libc::c_int = getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR)?;
    Ok((err != 0).then(|| io::Error::from_raw_os_error(err)))
}

/// `bind(fd, sockaddr_ll { ifindex, protocol })`.
pub fn bind_packet(fd: BorrowedFd<'_>, ifindex: u32, protocol: u16) -> io::Result<()> {
    // SAFETY: sockaddr_ll is plain data; all zeroes is valid.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = protocol.to_be();
    sll.sll_ifindex = ifindex as libc::c_int;
    // SAFETY: the pointer and length describe `sll`, alive for the call.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(())
}

/// `SO_ATTACH_FILTER` with a classic BPF program given as raw
/// `struct sock_filter` words (code, jt, jf, k).
pub fn attach_filter(fd: BorrowedFd<'_>, program: &[libc::sock_filter]) -> io::Result<()> {
    let len = u16::try_from(program.len()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "BPF program longer than 65535 instructions",
        )
    })?;
    let prog = libc::sock_fprog {
        len,
        filter: program.as_ptr().cast_mut(),
    };
    // The kernel copies the program during the call and never writes
    // through the pointer; `program` outlives the call.
    setsockopt(fd, libc::SOL_SOCKET, libc::SO_ATTACH_FILTER, &prog)
}

/// A shared memory mapping of a socket's ring, unmapped on drop.
#[derive(Debug)]
pub struct Mmap {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory owned by this value alone; moving the
// owner to another thread moves nothing but the address.
unsafe impl Send for Mmap {}

impl Mmap {
    /// `mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)`: the ring
    /// set up on `fd` with `PACKET_RX_RING`/`PACKET_TX_RING`.
    pub fn shared(fd: BorrowedFd<'_>, len: usize) -> io::Result<Mmap> {
        // SAFETY: a new mapping at an address the kernel chooses; it aliases
        // no Rust object. The result is checked before use.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd.as_raw_fd(),
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let ptr = NonNull::new(ptr.cast::<u8>())
            .ok_or_else(|| io::Error::other("mmap returned a null mapping"))?;
        Ok(Mmap { ptr, len })
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    fn check_range(&self, offset: usize, len: usize) {
        assert!(
            offset.checked_add(len).is_some_and(|end| end <= self.len),
            "ring range {offset}+{len} outside a mapping of {} bytes",
            self.len
        );
    }

    /// Borrows `len` bytes at `offset` (panics when out of the mapping).
    ///
    /// # Safety
    ///
    /// Nothing may write the range while the slice lives: by the ring
    /// protocol the range belongs to user space (its status word said so
    /// with an Acquire load) until it is handed back, and the caller hands it
    /// back only after the borrow ends.
    pub unsafe fn slice(&self, offset: usize, len: usize) -> &[u8] {
        self.check_range(offset, len);
        // SAFETY: in bounds (checked above) of a live mapping; the caller
        // guarantees no concurrent writer for the slice's lifetime.
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr().add(offset), len) }
    }

    /// Borrows `len` bytes at `offset` mutably (panics when out of the
    /// mapping).
    ///
    /// # Safety
    ///
    /// As for [`Mmap::slice`], and in addition nothing else (kernel or this
    /// process) may read or write the range while the slice lives: the TX
    /// slot is `TP_STATUS_AVAILABLE`, so the kernel leaves it alone, and the
    /// caller holds no other borrow of it.
    #[allow(clippy::mut_from_ref)]
    pub unsafe fn slice_mut(&self, offset: usize, len: usize) -> &mut [u8] {
        self.check_range(offset, len);
        // SAFETY: in bounds of a live mapping; exclusivity is the caller's
        // contract above.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr().add(offset), len) }
    }

    /// Loads the 32-bit status word at `offset` with Acquire ordering
    /// (panics when out of the mapping or misaligned).
    ///
    /// # Safety
    ///
    /// No `&mut` borrow of the word may be alive (shared `&[u8]` borrows are
    /// fine: two reads never race), and every write to it by this process
    /// goes through [`Mmap::store_release`].
    pub unsafe fn load_acquire(&self, offset: usize) -> u32 {
        self.check_range(offset, 4);
        assert!(
            offset.is_multiple_of(4),
            "status word at unaligned offset {offset}"
        );
        // SAFETY: in bounds, 4-byte aligned (the mapping is page aligned),
        // and only accessed atomically or by shared reads (caller's contract).
        let word = unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset).cast::<u32>()) };
        word.load(Ordering::Acquire)
    }

    /// Stores `value` into the 32-bit status word at `offset` with Release
    /// ordering (panics when out of the mapping or misaligned).
    ///
    /// # Safety
    ///
    /// No borrow (shared or exclusive) of the word may be alive: the slices
    /// lent for the block or slot must have ended.
    pub unsafe fn store_release(&self, offset: usize, value: u32) {
        self.check_range(offset, 4);
        assert!(
            offset.is_multiple_of(4),
            "status word at unaligned offset {offset}"
        );
        // SAFETY: in bounds, aligned, and unborrowed (caller's contract).
        let word = unsafe { AtomicU32::from_ptr(self.ptr.as_ptr().add(offset).cast::<u32>()) };
        word.store(value, Ordering::Release);
    }
}

impl Drop for Mmap {
    fn drop(&mut self) {
        // SAFETY: `ptr`/`len` describe exactly the mapping made in `shared`,
        // and no borrow of it outlives `self` (the ring types borrow the
        // Mmap's owner).
        unsafe {
            libc::munmap(self.ptr.as_ptr().cast(), self.len);
        }
    }
}

/// The page size.
pub fn page_size() -> usize {
    // SAFETY: sysconf takes no pointers.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if n > 0 { n as usize } else { 4096 }
}

/// `poll(fds, timeout)`. An interrupted poll returns `Ok(0)` like a timeout,
/// so that the caller looks at its signal flags before waiting again.
pub fn poll(fds: &mut [libc::pollfd], timeout_ms: libc::c_int) -> io::Result<usize> {
    // SAFETY: the pointer and count describe `fds`, writable for the call.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    match cvt(r) {
        Ok(n) => Ok(n as usize),
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(0),
        Err(e) => Err(e),
    }
}

/// `eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)`.
pub fn eventfd() -> io::Result<OwnedFd> {
    // SAFETY: eventfd() takes no pointers; the result is a fresh descriptor.
    let fd = cvt(unsafe { libc::eventfd(0, libc::EFD_CLOEXEC | libc::EFD_NONBLOCK) })?;
    // SAFETY: `fd` was just returned by eventfd() and is owned by no one else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Adds one to an eventfd counter. Async-signal-safe (one `write`, no
/// allocation, no lock), so a signal handler may call it. A full counter
/// (`EAGAIN`) already means "woken", so errors are ignored.
pub fn eventfd_add_raw(fd: RawFd) {
    let one: u64 = 1;
    // SAFETY: writes 8 bytes from a local; `fd` is an eventfd kept open by
    // its owner for as long as this can be called (see signals.rs).
    unsafe {
        libc::write(fd, (&one as *const u64).cast(), size_of::<u64>());
    }
}

/// Reads and resets an eventfd counter; `Ok(0)` when it was zero.
pub fn eventfd_take(fd: BorrowedFd<'_>) -> io::Result<u64> {
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

/// `if_nametoindex(name)`; `Ok(None)` when there is no such interface.
pub fn if_nametoindex(name: &str) -> io::Result<Option<u32>> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "interface name contains NUL"))?;
    // SAFETY: `c` is a NUL-terminated string alive for the call.
    let idx = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if idx == 0 {
        let e = io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ENODEV) || e.raw_os_error() == Some(libc::ENXIO) {
            Ok(None)
        } else {
            Err(e)
        }
    } else {
        Ok(Some(idx))
    }
}

/// `if_indextoname(index)`.
pub fn if_indextoname(index: u32) -> io::Result<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has IF_NAMESIZE bytes as the call requires.
    let p = unsafe { libc::if_indextoname(index, buf.as_mut_ptr()) };
    if p.is_null() {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: on success the buffer holds a NUL-terminated name.
    let s = unsafe { CStr::from_ptr(buf.as_ptr()) };
    Ok(s.to_string_lossy().into_owned())
}

/// `struct ifreq` with the union as raw bytes (24 bytes on Linux).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IfReq {
    /// Interface name, NUL-terminated.
    pub name: [libc::c_char; libc::IFNAMSIZ],
    /// The union `ifr_ifru`.
    pub data: [u8; 24],
}

impl IfReq {
    /// An ifreq for `name` (truncated to 15 bytes) with a zeroed union.
    pub fn new(name: &str) -> IfReq {
        let mut r = IfReq {
            name: [0; libc::IFNAMSIZ],
            data: [0; 24],
        };
        for (d, s) in r.name.iter_mut().zip(name.bytes().take(libc::IFNAMSIZ - 1)) {
            *d = s as libc::c_char;
        }
        r
    }
}

/// `ioctl(fd, request, &mut ifreq)` for the SIOCGIF*/SIOCSIF* family.
pub fn ioctl_ifreq(fd: BorrowedFd<'_>, request: libc::c_ulong, req: &mut IfReq) -> io::Result<()> {
    // SAFETY: `req` is a full, writable struct ifreq alive for the call;
    // the requests used here read and write only within it.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request as _, req as *mut IfReq) })?;
    Ok(())
}

/// `ioctl(fd, request, &mut ifreq)` where the union holds a pointer to
/// `arg` (SIOCETHTOOL, SIOCSHWTSTAMP).
pub fn ioctl_ifreq_ptr<T: Pod>(
    fd: BorrowedFd<'_>,
    request: libc::c_ulong,
    name: &str,
    arg: &mut T,
) -> io::Result<()> {
    let mut req = IfReq::new(name);
    let p = (arg as *mut T) as usize;
    req.data[..size_of::<usize>()].copy_from_slice(&p.to_ne_bytes());
    // SAFETY: the union carries a pointer to `arg`, a writable `T` alive for
    // the call, of the type the request expects (the callers pair them).
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), request as _, &mut req as *mut IfReq) })?;
    Ok(())
}

/// Most frames handed to one `sendmmsg` (the scratch lives on the stack).
pub const SEND_BATCH: usize = 256;

/// `sendmmsg(fd, frames, MSG_DONTWAIT)` on a bound socket, one frame per
/// message (at most [`SEND_BATCH`]): how many went out.
pub fn sendmmsg_frames(fd: BorrowedFd<'_>, frames: &[&[u8]]) -> io::Result<usize> {
    let n = frames.len().min(SEND_BATCH);
    let mut iov = [libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    }; SEND_BATCH];
    // SAFETY: mmsghdr is plain data; all zeroes (null name, iov and
    // control) is a valid value.
    let mut msgs: [libc::mmsghdr; SEND_BATCH] = unsafe { zeroed() };
    for k in 0..n {
        iov[k] = libc::iovec {
            iov_base: frames[k].as_ptr() as *mut libc::c_void,
            iov_len: frames[k].len(),
        };
        msgs[k].msg_hdr.msg_iov = &mut iov[k];
        msgs[k].msg_hdr.msg_iovlen = 1;
    }
    retry_if_interrupted(|| {
        // SAFETY: the first `n` messages each point at one iovec in `iov`,
        // which points into a frame borrowed for the whole call; the kernel
        // only reads them and writes `msg_len`.
        let r = unsafe {
            libc::sendmmsg(
                fd.as_raw_fd(),
                msgs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_DONTWAIT,
            )
        };
        cvt(r).map(|n| n as usize)
    })
}

/// `send(fd, NULL, 0, flags)`: asks the kernel to transmit what is marked
/// in the TX ring.
pub fn send_kick(fd: BorrowedFd<'_>, flags: libc::c_int) -> io::Result<usize> {
    retry_if_interrupted(|| {
        // SAFETY: a zero-length send with a null buffer reads no memory.
        cvt_isize(unsafe { libc::send(fd.as_raw_fd(), std::ptr::null(), 0, flags) })
    })
}

/// `setns(fd, CLONE_NEWNET)`: moves the calling thread into a network
/// namespace.
pub fn setns_net(fd: BorrowedFd<'_>) -> io::Result<()> {
    // SAFETY: setns takes no pointers; it affects the calling thread only.
    cvt(unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) })?;
    Ok(())
}

/// A user's uid, gid and home from the password database.
pub struct Passwd {
    /// User id.
    pub uid: libc::uid_t,
    /// Primary group id.
    pub gid: libc::gid_t,
}

/// `getpwnam_r(name)`; `Ok(None)` when there is no such user.
pub fn getpwnam(name: &str) -> io::Result<Option<Passwd>> {
    let c = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "user name contains NUL"))?;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: passwd is plain data (pointers into `buf` are filled in by
    // getpwnam_r); all zeroes is a valid starting value.
    let mut pw: libc::passwd = unsafe { zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is to a live local of the right type; `buf` and
    // its length describe a writable buffer.
    let r = unsafe {
        libc::getpwnam_r(
            c.as_ptr(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut result,
        )
    };
    if r != 0 {
        return Err(io::Error::from_raw_os_error(r));
    }
    if result.is_null() {
        return Ok(None);
    }
    Ok(Some(Passwd {
        uid: pw.pw_uid,
        gid: pw.pw_gid,
    }))
}

/// `setgroups(groups)`.
pub fn setgroups(groups: &[libc::gid_t]) -> io::Result<()> {
    // SAFETY: pointer and count describe `groups`, read-only for the call.
    cvt(unsafe { libc::setgroups(groups.len(), groups.as_ptr()) })?;
    Ok(())
}

/// `setresgid(gid, gid, gid)` (glibc applies it to every thread).
pub fn setresgid(gid: libc::gid_t) -> io::Result<()> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::setresgid(gid, gid, gid) })?;
    Ok(())
}

/// `setresuid(uid, uid, uid)` (glibc applies it to every thread).
pub fn setresuid(uid: libc::uid_t) -> io::Result<()> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::setresuid(uid, uid, uid) })?;
    Ok(())
}

/// `setuid(uid)`: used only to check that root cannot be regained.
pub fn setuid(uid: libc::uid_t) -> io::Result<()> {
    // SAFETY: no pointers.
    cvt(unsafe { libc::setuid(uid) })?;
    Ok(())
}

/// `getresuid()`: (real, effective, saved).
pub fn getresuid() -> io::Result<(libc::uid_t, libc::uid_t, libc::uid_t)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three writable locals.
    cvt(unsafe { libc::getresuid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

/// `getresgid()`: (real, effective, saved).
pub fn getresgid() -> io::Result<(libc::gid_t, libc::gid_t, libc::gid_t)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: three writable locals.
    cvt(unsafe { libc::getresgid(&mut r, &mut e, &mut s) })?;
    Ok((r, e, s))
}

/// `getgroups()`.
pub fn getgroups() -> io::Result<Vec<libc::gid_t>> {
    let mut groups = vec![0 as libc::gid_t; 256];
    // SAFETY: pointer and count describe `groups`, writable for the call.
    let n = cvt(unsafe { libc::getgroups(groups.len() as libc::c_int, groups.as_mut_ptr()) })?;
    groups.truncate(n as usize);
    Ok(groups)
}

/// `prctl(PR_SET_NO_NEW_PRIVS, 1)`: exec can never grant privileges again.
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe {
        libc::prctl(
            libc::PR_SET_NO_NEW_PRIVS,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}

/// `prctl(PR_SET_KEEPCAPS, 0)`: capabilities are cleared on the switch away
/// from uid 0.
pub fn clear_keepcaps() -> io::Result<()> {
    // SAFETY: integer arguments only.
    cvt(unsafe {
        libc::prctl(
            libc::PR_SET_KEEPCAPS,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    })?;
    Ok(())
}

#[cfg(test)]
/// `raise(sig)`: sends a signal to the calling thread (tests of handlers).
pub fn raise(sig: libc::c_int) -> io::Result<()> {
    // SAFETY: no pointers; the caller has a handler (or wants the default).
    cvt(unsafe { libc::raise(sig) })?;
    Ok(())
}
