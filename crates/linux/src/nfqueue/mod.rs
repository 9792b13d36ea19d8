//! Host mode's kernel interface: netfilter queues over netlink (our own
//! client), NFLOG for monitor mode, the iptables/nft rules that select the
//! host's packets, and raw-socket injection.
//!
//! - [`msg`] — the netlink messages as pure functions over bytes: the
//!   parser (fuzzed as `nfq_msg`) and the builder of configuration and
//!   verdict messages.
//! - [`socket::NetlinkSocket`] — bind, `SO_RCVBUFFORCE`,
//!   `NETLINK_NO_ENOBUFS`, request/ack, gathered sends, batched receives
//!   (`recvmmsg` into a [`socket::RecvBatch`]).
//! - [`queue::Queue`] — bind a queue number with copy mode and range,
//!   queue length, fail-open or fail-closed, GSO pass-through and no
//!   conntrack data; verdicts with runs of equal verdicts sent as one
//!   `NFQNL_MSG_VERDICT_BATCH`, new bytes and marks one by one; losses
//!   counted from id gaps.
//! - [`log::Log`] — an NFLOG group for monitor mode (copies only; losses
//!   counted from sequence numbers).
//! - [`stats`] — the kernel's `/proc/net/netfilter/nfnetlink_queue`.
//! - [`rules`] — chains of our own hooked from INPUT/OUTPUT/FORWARD in
//!   iptables and ip6tables (nf_tables or legacy) or an nft table, with
//!   the compiled filter in the kernel through the `bpf` match; removed on
//!   drop, leftovers removed by [`rules::cleanup`].
//! - [`inject::Injector`] — raw IPv4/IPv6 sockets with a mark the rules
//!   skip.
//! - [`link::LinkWatch`] — notice when the interface a selection is
//!   restricted to is deleted.
//!
//! # Privileges
//!
//! Binding a queue or log group, installing rules and marking packets
//! need `CAP_NET_ADMIN`; raw sockets need `CAP_NET_RAW`. Everything
//! happens in the calling thread's network namespace (the rule tools run
//! as child processes and inherit it), so a test can run it inside a lab
//! namespace without touching the machine's own rules.
//!
//! # The safety story
//!
//! The raw calls are in the private `sys` submodule (netlink socket, bind,
//! port id, `sendmsg`, `recvmmsg`, `recv`, raw and UDP sockets, `sendto`,
//! `connect`), each with a `// SAFETY:` comment; `recvmmsg` points each
//! message at a disjoint slot of one buffer borrowed mutably for the call,
//! and the lengths the kernel returns are clamped to the slot before a
//! slice is made. Nothing the kernel sends is trusted: every message goes
//! through the bounds-checked parser in [`msg`].

pub mod inject;
pub mod link;
pub mod log;
pub mod msg;
pub mod queue;
pub mod rules;
pub mod socket;
pub mod stats;
mod sys;

pub use inject::{InjectError, Injector};
pub use link::{LinkState, LinkWatch};
pub use log::{Log, LogConfig, LogStats};
pub use msg::{Event, LogPacket, MsgError, MsgErrorKind, QueuePacket};
pub use queue::{NfVerdict, Queue, QueueConfig, QueueStats};
pub use rules::{Action, Backend, Directions, RuleCounters, RuleSpec, Rules};
pub use socket::{NetlinkSocket, RecvBatch, wait_readable};
pub use stats::ProcQueue;
