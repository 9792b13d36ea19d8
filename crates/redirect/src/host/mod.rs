//! Host mode: the host's own IPv4 and IPv6 traffic — what it receives,
//! sends and forwards — through a [`Handler`](crate::Handler), over
//! netfilter queues.
//!
//! # How packets get here
//!
//! Rules in chains of our own (`SLUICE-Q<n>-IN/-OUT/-FWD` in iptables'
//! `mangle` table, for IPv4 and IPv6; see
//! [`sluice_linux::nfqueue::rules`]) send the selected packets of the
//! chosen directions to netfilter queue `n`. The filter expression runs in
//! the kernel through the iptables `bpf` match when its program fits (64
//! instructions); otherwise the part that fits selects in the kernel and
//! the rest runs in user space, where a packet it rejects gets an
//! immediate accept (the fast path, counted in
//! [`Counters::bypassed`](crate::Counters)). [`select`] says which, and
//! [`Plan`] reports it.
//!
//! The queue copies whole packets (up to 65531 bytes, the kernel's limit
//! for one message), with GSO pass-through (`NFQA_CFG_F_GSO`: a TCP
//! send of 64 KiB arrives as one packet, not 45) and no conntrack data.
//! Packets arrive in batches (`recvmmsg`), verdicts leave in batches:
//! runs of equal verdicts as one `NFQNL_MSG_VERDICT_BATCH`, flushed when
//! the socket has nothing more to read, when 256 are pending, or after
//! 200 µs (the flush timer) — so an idle queue never holds a verdict.
//!
//! # Frames and verdicts
//!
//! A frame is the packet from its IP header ([`LinkType::RAW`]), lent to
//! the handler where the kernel wrote it (in its receive slot: no copy);
//! it may grow by [`engine::GROW_ROOM`] bytes in place (zeroed before
//! lending), up to the 65531 bytes one verdict carries — a handler that
//! needs more steals the frame and injects a new one. Its side
//! is [`Side::Upper`] for what the host sends (OUTPUT), [`Side::Lower`]
//! for what it receives (INPUT); a forwarded packet is `Upper` when it came
//! in on one of [`HostConfig::forward_upper`] (the inside of a router),
//! `Lower` otherwise. The metadata has the input (or output) interface,
//! the mark, the arrival time when the kernel stamped the packet, and the
//! offload state: `csum_partial` with `csum_start`/`csum_offset` when the
//! transport checksum is still partial (locally sent packets, and packets
//! from a veth peer), and `gso_type`/`hdr_len` for GSO packets (the queue
//! does not say the segment size: `gso_size` is 0).
//!
//! - [`Verdict::Pass`](crate::Verdict) → `NF_ACCEPT`. A frame the
//!   handler may have changed ([`FrameMut::is_modified`](crate::FrameMut::is_modified):
//!   it asked for the bytes mutably or set the length) goes back with its
//!   bytes;
//!   since the kernel then treats its checksum as complete, a checksum
//!   still marked partial is completed first (over the bytes as the
//!   handler left them — a handler that wants a wrong checksum clears
//!   `csum_partial` and writes it itself). A changed mark goes back too.
//!   A frame whose copy was cut (longer than 65531 bytes) cannot be
//!   replaced: it goes on unchanged, counted in
//!   [`HostStats::refused_truncated`].
//! - `Drop` → `NF_DROP`; `Stolen` → `NF_DROP` too (the handler keeps a
//!   copy and injects it later).
//!
//! # Injection
//!
//! [`Context::inject`](crate::Context::inject) sends whole IP packets
//! through raw sockets carrying the injection mark, which the rules skip,
//! so injected packets are never diverted again. A packet injected with
//! a partial checksum in its offload state (a copy of a queued packet the
//! handler stole, as [`Context::inject_with`](crate::Context::inject_with)
//! carries it) gets its full TCP or UDP checksum first, since a raw socket
//! sends bytes as they are. Both sides use the
//! stack's routing: a packet to a local address is delivered to the host,
//! any other is routed out (see [`sluice_linux::nfqueue::inject`]). A
//! packet larger than its route's MTU (a GSO packet the handler stole) is
//! cut into segments in software when it is TCP ([`l4::segment_tcp`]);
//! otherwise it is counted as a send failure.
//!
//! # Monitor mode
//!
//! With [`HostConfig::monitor`], the rules use `NFLOG` instead of
//! `NFQUEUE`: the kernel sends copies and the packets go on at once, so
//! the handler cannot delay, change or drop traffic, and a slow or dead
//! reader costs nothing but copies (counted from NFLOG's sequence numbers
//! as [`Counters::dropped_kernel`](crate::Counters)). That was chosen over
//! "queue and accept at once", which still holds every packet for a round
//! trip through user space.
//!
//! # Failing open
//!
//! By default the queue is fail-open (`NFQA_CFG_F_FAIL_OPEN`) and the
//! rules say `--queue-bypass`: when the queue is full, or when the program
//! is gone (killed, crashed), the kernel accepts the packets. Those
//! packets are counted: ids the socket never saw
//! ([`HostStats::id_gaps`]) and packets the rules matched that never got
//! an id ([`HostStats::queue_full`], from the rules' counters at close).
//! With `fail_open: false` they are dropped instead, and counted in
//! [`Counters::dropped_kernel`](crate::Counters) (id gaps and the
//! kernel's `queue_dropped`).
//!
//! # Exits
//!
//! The rules are removed by [`HostRedirector::close`], when the
//! redirector is dropped (also while a panic unwinds), and — for a
//! process killed with SIGKILL — by
//! [`sluice_linux::nfqueue::rules::cleanup`] (`sluice divert --cleanup`).
//! With [`HostConfig::interface`], the interface is watched: when it is
//! deleted, [`HostRedirector::run`] returns an error saying so.

pub mod engine;
pub mod l4;
pub mod select;

use std::fmt;
use std::time::Duration;

use sluice_linux::nfqueue::ProcQueue;
use sluice_linux::nfqueue::msg::consts::MAX_COPY_RANGE;
use sluice_linux::nfqueue::rules::{Backend, INJECT_MARK, RuleCounters};
#[cfg(doc)]
use sluice_wire::LinkType;

pub use engine::{HostRedirector, Summary};
pub use select::Selection;
pub use sluice_linux::nfqueue::rules::Directions;

#[cfg(doc)]
use crate::frame::Side;

/// What went wrong in host mode.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The filter expression does not compile.
    #[error("the filter does not compile:\n{rendered}")]
    Filter {
        /// The expression.
        expression: String,
        /// The compiler's message with a caret under the culprit.
        rendered: String,
    },
    /// An inconsistent configuration.
    #[error("{0}")]
    Config(String),
    /// A system call, a rule tool or the kernel failed (the kind says
    /// which: permission, interface gone, unsupported, …).
    #[error(transparent)]
    System(#[from] sluice_linux::Error),
}

impl Error {
    /// The system error's kind, for [`Error::System`].
    pub fn system_kind(&self) -> Option<sluice_linux::ErrorKind> {
        match self {
            Error::System(e) => Some(e.kind()),
            _ => None,
        }
    }
}

/// How to run host mode.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostConfig {
    /// Which packets: received (INPUT), sent (OUTPUT), forwarded.
    pub directions: Directions,
    /// A pcap-filter expression over the IP packet (`None`: all).
    pub filter: Option<String>,
    /// Copies only (NFLOG); the handler cannot affect traffic.
    pub monitor: bool,
    /// The queue (or log group) number.
    pub queue: u16,
    /// Accept packets when the queue is full or nobody reads it.
    pub fail_open: bool,
    /// Divert IPv4.
    pub ipv4: bool,
    /// Divert IPv6.
    pub ipv6: bool,
    /// Only packets in on / out of this interface; watched for deletion.
    pub interface: Option<String>,
    /// Forwarded packets arriving on these interfaces are
    /// [`Side::Upper`].
    pub forward_upper: Vec<String>,
    /// Let the kernel select with the iptables `bpf` match when the
    /// program fits (false: every packet of the directions is queued and
    /// the filter runs in user space).
    pub kernel_filter: bool,
    /// Bytes copied per packet (at most 65531).
    pub copy_range: u32,
    /// Packets that may wait for a verdict.
    pub queue_len: u32,
    /// Socket receive buffer in bytes.
    pub rcvbuf: usize,
    /// Messages per batched receive.
    pub batch: usize,
    /// Verdicts held before a flush at most.
    pub max_pending: usize,
    /// Longest a verdict is held while packets keep arriving.
    pub flush_after: Duration,
    /// GSO pass-through.
    pub gso: bool,
    /// The mark of injected packets and the mask the rules test.
    pub mark: (u32, u32),
    /// Rule tools to try in order (empty: detect).
    pub backends: Vec<Backend>,
    /// Timers a handler may have pending at most.
    pub timer_limit: usize,
}

impl HostConfig {
    /// Received and sent packets, all of them, queue 7700, fail-open,
    /// both families, kernel filtering, whole packets, 4096 waiting, 64
    /// MiB buffer, batches of 64, verdict flushes at 256 or 200 µs, GSO
    /// pass-through, [`INJECT_MARK`].
    pub fn new() -> HostConfig {
        HostConfig {
            directions: Directions {
                input: true,
                output: true,
                forward: false,
            },
            filter: None,
            monitor: false,
            queue: 7700,
            fail_open: true,
            ipv4: true,
            ipv6: true,
            interface: None,
            forward_upper: Vec::new(),
            kernel_filter: true,
            copy_range: MAX_COPY_RANGE,
            queue_len: 4096,
            rcvbuf: 64 << 20,
            batch: 64,
            max_pending: 256,
            flush_after: Duration::from_micros(200),
            gso: true,
            mark: INJECT_MARK,
            backends: Vec::new(),
            timer_limit: 1 << 20,
        }
    }
}

impl Default for HostConfig {
    fn default() -> HostConfig {
        HostConfig::new()
    }
}

/// What was set up, for reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The rule tool used.
    pub backend: String,
    /// Tools tried before it, and why they failed.
    pub refused: Vec<String>,
    /// Where the filter runs.
    pub selection: String,
    /// NFLOG copies rather than a queue.
    pub monitor: bool,
    /// Queue (or log group) number.
    pub queue: u16,
    /// Fail-open.
    pub fail_open: bool,
    /// GSO pass-through.
    pub gso: bool,
    /// Receive buffer the kernel granted.
    pub rcvbuf: usize,
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.monitor {
            write!(
                f,
                "monitor mode: copies through NFLOG group {} (rules by {})",
                self.queue, self.backend
            )?;
        } else {
            write!(
                f,
                "netfilter queue {} (rules by {}), {}, {}",
                self.queue,
                self.backend,
                if self.fail_open {
                    "fail-open"
                } else {
                    "fail-closed"
                },
                if self.gso {
                    "GSO pass-through"
                } else {
                    "GSO segmented by the kernel"
                }
            )?;
        }
        write!(
            f,
            ", receive buffer {} KiB\nfilter: {}",
            self.rcvbuf / 1024,
            self.selection
        )?;
        for r in &self.refused {
            write!(f, "\nnot used: {r}")?;
        }
        Ok(())
    }
}

/// Host mode's counts beyond [`Counters`](crate::Counters).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    /// Packets (or copies) received.
    pub received: u64,
    /// Ids the socket never saw: packets that found the socket's buffer
    /// full (fail-open: accepted without us; fail-closed: dropped).
    pub id_gaps: u64,
    /// Packets the rules matched that never got an id (the queue was
    /// full; fail-open accepted them), known at close from the rules'
    /// counters.
    pub queue_full: Option<u64>,
    /// Messages cut because they did not fit a receive slot.
    pub cut: u64,
    /// Packets whose copy was cut at the copy range.
    pub cut_copies: u64,
    /// Changed frames whose copy was cut: passed unchanged.
    pub refused_truncated: u64,
    /// Frames passed with new bytes.
    pub modified: u64,
    /// Frames passed with a new mark.
    pub marked: u64,
    /// Frames the handler stole.
    pub stolen: u64,
    /// Injected packets cut into segments.
    pub segmented: u64,
    /// Packets accepted while closing.
    pub drained: u64,
    /// Verdict messages sent.
    pub verdict_messages: u64,
    /// Verdict sends (system calls).
    pub verdict_sends: u64,
    /// Verdicts the kernel refused.
    pub verdict_errors: u64,
    /// The errno of the last refused verdict.
    pub last_verdict_errno: i32,
    /// Copies NFLOG lost (monitor mode).
    pub log_lost: u64,
    /// Malformed messages from the kernel.
    pub malformed_messages: u64,
    /// The last one's error.
    pub last_malformed: Option<String>,
    /// The last injection failure.
    pub last_send_error: Option<String>,
    /// Timers refused (queue full).
    pub timers_refused: u64,
    /// The kernel's line for the queue, read at close.
    pub kernel: Option<ProcQueue>,
    /// The rules' packet counters, read at close.
    pub rules: Option<RuleCounters>,
}
