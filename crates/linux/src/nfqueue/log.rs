//! An NFLOG client, for monitor mode: the kernel sends *copies* of the
//! packets an `NFLOG` rule matches, and the packets themselves go on at
//! once — nothing we do (or fail to do) can delay, change or drop them.
//!
//! The kernel gathers copies into batches (one netlink datagram holds
//! several messages and ends with `NLMSG_DONE`): a batch goes out when
//! `qthresh` copies are waiting, when the next would not fit `nlbufsiz`,
//! or after `timeout`. A batch that does not fit the socket's buffer is
//! dropped whole; with `NFULNL_CFG_F_SEQ` every copy carries the group's
//! sequence number, so [`LogStats::lost`] counts the lost copies exactly.

use std::os::fd::{AsFd, BorrowedFd};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result};
use crate::nfqueue::msg::{self, LogConfigMsg, consts::*};
use crate::nfqueue::socket::{NetlinkSocket, RecvBatch};

/// How to set up a log group.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LogConfig {
    /// The group number (the rules' `--nflog-group`).
    pub group: u16,
    /// Bytes of each packet to copy (at most 65535).
    pub copy_range: u32,
    /// The kernel's batch buffer (`NFULA_CFG_NLBUFSIZ`, at most 128 KiB).
    pub nlbufsiz: u32,
    /// Longest a copy waits in a batch.
    pub timeout: Duration,
    /// Copies per batch (`NFULA_CFG_QTHRESH`).
    pub qthresh: u32,
    /// Receive buffer in bytes.
    pub rcvbuf: usize,
    /// Datagrams per batched receive.
    pub batch: usize,
}

impl LogConfig {
    /// Defaults for group `group`: whole packets (up to 65535 bytes),
    /// 128 KiB batches of up to 64 copies, 10 ms timeout, 64 MiB receive
    /// buffer.
    pub fn new(group: u16) -> LogConfig {
        LogConfig {
            group,
            copy_range: 0xffff,
            nlbufsiz: 128 * 1024,
            timeout: Duration::from_millis(10),
            qthresh: 64,
            rcvbuf: 64 << 20,
            batch: 16,
        }
    }
}

/// What a [`Log`] counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogStats {
    /// Copies received.
    pub copies: u64,
    /// Copies lost (gaps in the sequence numbers).
    pub lost: u64,
    /// Datagrams cut because they did not fit a receive slot.
    pub cut: u64,
}

/// A bound NFLOG group; unbound when dropped.
#[derive(Debug)]
pub struct Log {
    sock: NetlinkSocket,
    cfg: LogConfig,
    next_seq: Option<u32>,
    stats: LogStats,
}

impl Log {
    /// Binds log group `cfg.group` in the calling thread's network
    /// namespace. Needs `CAP_NET_ADMIN`.
    pub fn open(cfg: &LogConfig) -> Result<Log> {
        let mut sock = NetlinkSocket::open(NETLINK_NETFILTER, 0)?;
        sock.set_rcvbuf(cfg.rcvbuf)?;
        sock.set_no_enobufs(true)?;
        let g = cfg.group;
        let mut buf = Vec::with_capacity(128);
        let seq = sock.next_seq();
        msg::log_config(
            &mut buf,
            seq,
            g,
            libc::AF_UNSPEC as u8,
            &LogConfigMsg {
                cmd: Some(NFULNL_CFG_CMD_BIND),
                ..LogConfigMsg::default()
            },
        );
        sock.request(&buf, seq, &format!("binding NFLOG group {g}"))
            .map_err(|e| match e.io_error().and_then(std::io::Error::raw_os_error) {
                Some(libc::EBUSY) => Error::new(
                    ErrorKind::InvalidConfig,
                    format!("NFLOG group {g} is already bound by another program: choose another number"),
                ),
                Some(libc::EPERM) => Error::new(
                    ErrorKind::Permission,
                    format!("binding NFLOG group {g} needs CAP_NET_ADMIN: run as root"),
                ),
                _ => e,
            })?;
        buf.clear();
        let seq = sock.next_seq();
        let centis = (cfg.timeout.as_millis() / 10).clamp(1, u128::from(u32::MAX)) as u32;
        msg::log_config(
            &mut buf,
            seq,
            g,
            libc::AF_UNSPEC as u8,
            &LogConfigMsg {
                mode: Some((cfg.copy_range.min(0xffff), NFULNL_COPY_PACKET)),
                nlbufsiz: Some(cfg.nlbufsiz),
                timeout: Some(centis),
                qthresh: Some(cfg.qthresh.max(1)),
                flags: Some(NFULNL_CFG_F_SEQ),
                ..LogConfigMsg::default()
            },
        );
        sock.request(&buf, seq, &format!("configuring NFLOG group {g}"))?;
        Ok(Log {
            sock,
            cfg: cfg.clone(),
            next_seq: None,
            stats: LogStats::default(),
        })
    }

    /// A receive batch sized for this group's datagrams. The kernel
    /// allocates a batch of `nlbufsiz` (or of one copy, when larger) and
    /// may fill all of the allocation, which the allocator rounds up to
    /// the next power of two: a datagram can reach twice `nlbufsiz`.
    pub fn new_batch(&self) -> RecvBatch {
        let most = 2 * self.cfg.nlbufsiz.max(0x1_0000) as usize;
        RecvBatch::new(self.cfg.batch, most + 0x1_0000 + 4096)
    }

    /// Receives what is waiting (without blocking): the number of
    /// datagrams (each may hold several copies).
    pub fn recv(&mut self, batch: &mut RecvBatch) -> Result<usize> {
        let n = self
            .sock
            .recv_batch(batch)
            .map_err(|e| Error::io(format!("receiving from NFLOG group {}", self.cfg.group), e))?;
        for i in 0..n {
            if batch.get(i).is_some_and(|(_, cut)| cut) {
                self.stats.cut += 1;
            }
        }
        Ok(n)
    }

    /// Notes a received copy's sequence number; returns how many copies
    /// were lost before it.
    pub fn note_copy(&mut self, seq: Option<u32>) -> u32 {
        self.stats.copies += 1;
        let Some(seq) = seq else { return 0 };
        let gap = match self.next_seq {
            Some(want) => seq.wrapping_sub(want),
            None => 0,
        };
        let gap = if gap > u32::MAX / 2 { 0 } else { gap };
        self.stats.lost += u64::from(gap);
        self.next_seq = Some(seq.wrapping_add(1));
        gap
    }

    /// What was counted.
    pub fn stats(&self) -> LogStats {
        self.stats
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &LogConfig {
        &self.cfg
    }
}

impl AsFd for Log {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        let mut buf = Vec::new();
        let seq = self.sock.next_seq();
        msg::log_config(
            &mut buf,
            seq,
            self.cfg.group,
            libc::AF_UNSPEC as u8,
            &LogConfigMsg {
                cmd: Some(NFULNL_CFG_CMD_UNBIND),
                ..LogConfigMsg::default()
            },
        );
        let _ = self.sock.send(&[&buf]);
    }
}
