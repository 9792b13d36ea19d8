//! A netfilter queue client: binds a queue, receives packets in batches,
//! and gives verdicts — runs of equal verdicts as one batch verdict,
//! changed packets one by one with their new bytes.
//!
//! # Verdict order
//!
//! The kernel hands packets to the socket in id order, and
//! `NFQNL_MSG_VERDICT_BATCH` applies one verdict to *every* packet still
//! waiting whose id is at most the given one. [`Queue`] therefore keeps
//! one open *run* of equal plain verdicts; a different verdict, or a
//! verdict with a new mark or new bytes, first closes the run (one batch
//! message, or a single verdict for a run of one) and then follows it.
//! Verdicts reach the kernel in the order they were given, so packets of
//! one flow are released in their order: a changed packet never overtakes
//! the unchanged ones before it.
//!
//! Verdicts collect in a buffer until [`Queue::flush`]; a verdict with new
//! bytes flushes what is before it and goes out at once as a gathered send
//! (header, the caller's bytes, padding: the payload is not copied).
//!
//! # Losses
//!
//! Ids are consecutive per queue. A gap in the ids the socket sees is a
//! packet that got an id but could not be delivered (the socket's buffer
//! was full): with fail-open the kernel accepted it without us, otherwise
//! it dropped it (`user_dropped` in [`super::stats`]). The gaps are
//! counted in [`QueueStats::id_gaps`]. `NETLINK_NO_ENOBUFS` is set, so an
//! overrun is never a fatal `ENOBUFS`.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use crate::error::{Error, ErrorKind, Result};
use crate::nfqueue::msg::{self, MsgError, QueueConfigMsg, consts::*};
use crate::nfqueue::socket::{NetlinkSocket, RecvBatch};
use crate::nfqueue::stats::{self, ProcQueue};

/// How to set up a queue.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct QueueConfig {
    /// The queue number (the rules' `--queue-num`).
    pub queue: u16,
    /// Bytes of each packet to copy (at most 65531, the kernel's limit).
    pub copy_range: u32,
    /// Packets that may wait for a verdict (`NFQA_CFG_QUEUE_MAXLEN`).
    pub max_len: u32,
    /// `NFQA_CFG_F_FAIL_OPEN`: accept packets that find the queue (or the
    /// socket) full instead of dropping them.
    pub fail_open: bool,
    /// `NFQA_CFG_F_GSO`: hand over GSO packets whole (larger than the MTU,
    /// possibly with a partial checksum) instead of segmenting them first.
    pub gso: bool,
    /// Receive buffer in bytes (`SO_RCVBUFFORCE`).
    pub rcvbuf: usize,
    /// Messages per batched receive.
    pub batch: usize,
}

impl QueueConfig {
    /// Defaults for queue `queue`: whole packets, 4096 waiting, fail-open,
    /// GSO pass-through, 64 MiB receive buffer, batches of 64.
    pub fn new(queue: u16) -> QueueConfig {
        QueueConfig {
            queue,
            copy_range: MAX_COPY_RANGE,
            max_len: 4096,
            fail_open: true,
            gso: true,
            rcvbuf: 64 << 20,
            batch: 64,
        }
    }

    /// The receive slot size that holds any message of this queue.
    pub fn slot_len(&self) -> usize {
        // Header, nfgenmsg and every attribute but the payload come to a
        // few hundred bytes; 1 KiB leaves room.
        self.copy_range.min(MAX_COPY_RANGE) as usize + 1024
    }
}

/// What the kernel verdict for a packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NfVerdict {
    /// `NF_ACCEPT`: let it continue.
    Accept,
    /// `NF_DROP`: drop it.
    Drop,
}

impl NfVerdict {
    fn raw(self) -> u32 {
        match self {
            NfVerdict::Accept => NF_ACCEPT,
            NfVerdict::Drop => NF_DROP,
        }
    }
}

/// What a [`Queue`] counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Packet messages received.
    pub packets: u64,
    /// Ids skipped: packets that got an id but never reached the socket.
    pub id_gaps: u64,
    /// Messages cut because they did not fit a receive slot.
    pub cut: u64,
    /// Verdicts given.
    pub verdicts: u64,
    /// Netlink messages sent for them (batch verdicts count once).
    pub verdict_messages: u64,
    /// Sends (system calls) of verdicts.
    pub verdict_sends: u64,
    /// Verdicts the kernel refused (an error message came back: the packet
    /// was gone, e.g. flushed when its interface went down).
    pub verdict_errors: u64,
    /// The errno of the last refused verdict.
    pub last_verdict_errno: i32,
}

#[derive(Clone, Copy, Debug)]
struct Run {
    verdict: NfVerdict,
    last: u32,
    count: u32,
}

/// A bound netfilter queue. Unbound when dropped (closing the socket
/// would unbind it too; packets still waiting are then dropped by the
/// kernel, so flush verdicts first).
#[derive(Debug)]
pub struct Queue {
    sock: NetlinkSocket,
    cfg: QueueConfig,
    rcvbuf: usize,
    out: Vec<u8>,
    run: Option<Run>,
    pending: usize,
    last_id: Option<u32>,
    stats: QueueStats,
}

/// Keeps the verdict buffer below the socket's send buffer.
const OUT_FLUSH_BYTES: usize = 64 * 1024;

impl Queue {
    /// Binds queue `cfg.queue` in the calling thread's network namespace.
    /// Needs `CAP_NET_ADMIN`.
    pub fn open(cfg: &QueueConfig) -> Result<Queue> {
        if cfg.copy_range == 0 || cfg.copy_range > MAX_COPY_RANGE {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "copy range {} outside 1..={MAX_COPY_RANGE} (the kernel's limit)",
                    cfg.copy_range
                ),
            ));
        }
        if cfg.max_len == 0 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "queue length must be at least 1",
            ));
        }
        let mut sock = NetlinkSocket::open(NETLINK_NETFILTER, 0)?;
        let rcvbuf = sock.set_rcvbuf(cfg.rcvbuf)?;
        sock.set_no_enobufs(true)?;
        let q = cfg.queue;
        let mut buf = Vec::with_capacity(128);
        let seq = sock.next_seq();
        msg::queue_config(
            &mut buf,
            seq,
            q,
            &QueueConfigMsg {
                cmd: Some((NFQNL_CFG_CMD_BIND, 0)),
                ..QueueConfigMsg::default()
            },
        );
        sock.request(&buf, seq, &format!("binding netfilter queue {q}"))
            .map_err(|e| bind_error(q, e))?;
        let mut flags = 0;
        if cfg.fail_open {
            flags |= NFQA_CFG_F_FAIL_OPEN;
        }
        if cfg.gso {
            flags |= NFQA_CFG_F_GSO;
        }
        buf.clear();
        let seq = sock.next_seq();
        msg::queue_config(
            &mut buf,
            seq,
            q,
            &QueueConfigMsg {
                params: Some((cfg.copy_range, NFQNL_COPY_PACKET)),
                max_len: Some(cfg.max_len),
                flags: Some((
                    flags,
                    NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO | NFQA_CFG_F_CONNTRACK,
                )),
                ..QueueConfigMsg::default()
            },
        );
        sock.request(&buf, seq, &format!("configuring netfilter queue {q}"))
            .map_err(|e| {
                if e.kind() == ErrorKind::InvalidConfig {
                    Error::new(
                        ErrorKind::Unsupported,
                        format!(
                            "configuring netfilter queue {q}: this kernel refuses the copy \
                             mode, queue length or flags (fail-open, GSO): {e}"
                        ),
                    )
                } else {
                    e
                }
            })?;
        Ok(Queue {
            sock,
            cfg: cfg.clone(),
            rcvbuf,
            out: Vec::with_capacity(OUT_FLUSH_BYTES + 1024),
            run: None,
            pending: 0,
            last_id: None,
            stats: QueueStats::default(),
        })
    }

    /// The configuration it was opened with.
    pub fn config(&self) -> &QueueConfig {
        &self.cfg
    }

    /// The receive buffer size the kernel granted.
    pub fn rcvbuf(&self) -> usize {
        self.rcvbuf
    }

    /// The socket's port id.
    pub fn portid(&self) -> u32 {
        self.sock.portid()
    }

    /// A receive batch sized for this queue.
    pub fn new_batch(&self) -> RecvBatch {
        RecvBatch::new(self.cfg.batch, self.cfg.slot_len())
    }

    /// Receives what is waiting (without blocking) into `batch`: the
    /// number of messages.
    pub fn recv(&mut self, batch: &mut RecvBatch) -> Result<usize> {
        let n = self.sock.recv_batch(batch).map_err(|e| {
            Error::io(
                format!("receiving from netfilter queue {}", self.cfg.queue),
                e,
            )
        })?;
        for i in 0..n {
            if batch.get(i).is_some_and(|(_, cut)| cut) {
                self.stats.cut += 1;
            }
        }
        Ok(n)
    }

    /// Notes a received packet id; returns how many ids were skipped
    /// before it.
    pub fn note_packet(&mut self, id: u32) -> u32 {
        self.stats.packets += 1;
        let gap = match self.last_id {
            Some(last) => id.wrapping_sub(last).wrapping_sub(1),
            None => 0,
        };
        // A gap of more than 2^31 is an id going backwards (another
        // instance of the queue): not a loss.
        let gap = if gap > u32::MAX / 2 { 0 } else { gap };
        self.stats.id_gaps += u64::from(gap);
        self.last_id = Some(id);
        gap
    }

    /// Notes a refused verdict (an error message from the kernel).
    pub fn note_verdict_error(&mut self, errno: i32) {
        self.stats.verdict_errors += 1;
        self.stats.last_verdict_errno = errno;
    }

    /// A plain verdict for packet `id`: joins the open run when it has the
    /// same verdict.
    pub fn verdict(&mut self, id: u32, v: NfVerdict) -> Result<()> {
        self.stats.verdicts += 1;
        self.pending += 1;
        match &mut self.run {
            Some(r) if r.verdict == v => {
                r.last = id;
                r.count += 1;
                Ok(())
            }
            _ => {
                self.close_run()?;
                self.run = Some(Run {
                    verdict: v,
                    last: id,
                    count: 1,
                });
                Ok(())
            }
        }
    }

    /// A verdict with a new mark and/or new bytes for packet `id`: what is
    /// before it goes out first; with new bytes it is sent at once.
    /// Fails with [`MsgError`] (nothing sent for this packet) when the
    /// bytes are longer than 65531.
    pub fn verdict_with(
        &mut self,
        id: u32,
        v: NfVerdict,
        mark: Option<u32>,
        payload: Option<&[u8]>,
    ) -> Result<std::result::Result<(), MsgError>> {
        self.close_run()?;
        let Some(p) = payload else {
            let seq = self.sock.next_seq();
            let _ = msg::verdict(&mut self.out, seq, self.cfg.queue, id, v.raw(), mark, None);
            self.stats.verdicts += 1;
            self.stats.verdict_messages += 1;
            self.pending += 1;
            return Ok(Ok(()));
        };
        let seq = self.sock.next_seq();
        if let Err(e) = msg::verdict_head(
            &mut self.out,
            seq,
            self.cfg.queue,
            id,
            v.raw(),
            mark,
            Some(p.len()),
        ) {
            return Ok(Err(e));
        }
        const PAD: [u8; 3] = [0; 3];
        let pad = &PAD[..msg::align4(p.len()) - p.len()];
        let r = self.sock.send(&[&self.out[..], p, pad]);
        self.stats.verdicts += 1;
        self.stats.verdict_messages += 1;
        self.stats.verdict_sends += 1;
        let sent_pending = self.pending;
        self.pending = 0;
        self.out.clear();
        r.map_err(|e| {
            Error::io(
                format!(
                    "sending {} verdicts to netfilter queue {}",
                    sent_pending + 1,
                    self.cfg.queue
                ),
                e,
            )
        })?;
        Ok(Ok(()))
    }

    fn close_run(&mut self) -> Result<()> {
        if let Some(r) = self.run.take() {
            let seq = self.sock.next_seq();
            if r.count == 1 {
                let _ = msg::verdict(
                    &mut self.out,
                    seq,
                    self.cfg.queue,
                    r.last,
                    r.verdict.raw(),
                    None,
                    None,
                );
            } else {
                msg::verdict_batch(
                    &mut self.out,
                    seq,
                    self.cfg.queue,
                    r.last,
                    r.verdict.raw(),
                    None,
                );
            }
            self.stats.verdict_messages += 1;
            if self.out.len() >= OUT_FLUSH_BYTES {
                self.send_out()?;
            }
        }
        Ok(())
    }

    fn send_out(&mut self) -> Result<()> {
        if self.out.is_empty() {
            return Ok(());
        }
        let r = self.sock.send(&[&self.out]);
        self.stats.verdict_sends += 1;
        let n = self.pending;
        self.pending = 0;
        self.out.clear();
        r.map(|_| ()).map_err(|e| {
            Error::io(
                format!("sending {n} verdicts to netfilter queue {}", self.cfg.queue),
                e,
            )
        })
    }

    /// Sends every verdict given so far.
    pub fn flush(&mut self) -> Result<()> {
        self.close_run()?;
        self.send_out()
    }

    /// Verdicts given but not yet sent.
    pub fn pending(&self) -> usize {
        self.pending
    }

    /// What was counted.
    pub fn stats(&self) -> QueueStats {
        self.stats
    }

    /// The kernel's line for this queue in
    /// `/proc/net/netfilter/nfnetlink_queue`.
    pub fn kernel_stats(&self) -> Result<Option<ProcQueue>> {
        stats::read_proc(self.cfg.queue)
    }
}

fn bind_error(q: u16, e: Error) -> Error {
    match e.io_error().and_then(io::Error::raw_os_error) {
        Some(libc::EBUSY) | Some(libc::EEXIST) => {
            let owner = stats::read_proc(q)
                .ok()
                .flatten()
                .map(|p| format!(" (netlink port id {})", p.portid))
                .unwrap_or_default();
            Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "netfilter queue {q} is already bound by another program{owner}: \
                     choose another queue number"
                ),
            )
        }
        Some(libc::EPERM) | Some(libc::EACCES) => Error::new(
            ErrorKind::Permission,
            format!("binding netfilter queue {q} needs CAP_NET_ADMIN: run as root"),
        ),
        _ => e,
    }
}

impl AsFd for Queue {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // Best effort: what could be sent is sent, then the queue is
        // unbound explicitly (closing the socket would do it too).
        let _ = self.flush();
        let mut buf = Vec::new();
        let seq = self.sock.next_seq();
        msg::queue_config(
            &mut buf,
            seq,
            self.cfg.queue,
            &QueueConfigMsg {
                cmd: Some((NFQNL_CFG_CMD_UNBIND, 0)),
                ..QueueConfigMsg::default()
            },
        );
        let _ = self.sock.send(&[&buf]);
    }
}
