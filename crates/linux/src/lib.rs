//! Every system call of sluice: AF_PACKET capture and transmit rings,
//! interfaces, privileges, signals, and the network-namespace lab.
//!
//! The layers above (`redirect`, the CLI) never call the kernel
//! themselves; they get safe types from here:
//!
//! - [`capture::Capture`] — an AF_PACKET socket with a TPACKET_V3 RX ring:
//!   kernel filter (`SO_ATTACH_FILTER`, optional `SO_LOCK_FILTER`),
//!   promiscuous mode, fanout, statistics, timestamps, direction, VLAN tags,
//!   the `any` device, an interruptible wait ([`Interrupt`]).
//! - [`block`] — the pure, bounds-checked walker over one ring block and
//!   the zero-copy [`FrameParts`] a writer hands to `writev`.
//! - [`cooked`] — filters written for `LINUX_SLL2` files rewritten for
//!   cooked sockets (the `any` device).
//! - [`tx::TxSocket`] — sending whole frames with `sendmmsg` or a TX ring.
//! - [`frames`] — fast UDP frame templates for generators and tests.
//! - [`caps::Capabilities`], [`privs`], [`signals`], [`iface`], [`lab`].
//! - [`nfqueue`] — host mode: our netfilter-queue and NFLOG client over
//!   netlink (pure, fuzzed message parser), the iptables/nft rules with
//!   the filter in the `bpf` match, raw-socket injection with a mark.
//!
//! # Privileges
//!
//! | what | needs |
//! |---|---|
//! | opening a capture or TX socket (`socket(AF_PACKET)`) | `CAP_NET_RAW` |
//! | promiscuous mode (packet membership on the socket) | the socket, so `CAP_NET_RAW` |
//! | hardware timestamps (`SIOCSHWTSTAMP`) | `CAP_NET_ADMIN` |
//! | the lab (namespaces, veth, sysctl, ethtool) | root (`CAP_SYS_ADMIN` + `CAP_NET_ADMIN`) |
//! | reading frames, statistics, changing the filter of an open socket | nothing more |
//! | binding a netfilter queue or NFLOG group, installing rules, `SO_MARK` | `CAP_NET_ADMIN` |
//! | injecting IP packets (raw sockets) | `CAP_NET_RAW` |
//!
//! A missing `CAP_NET_RAW` is reported as [`ErrorKind::Permission`] with the
//! message "capture on eth0 needs CAP_NET_RAW: run as root or grant it with
//! setcap cap_net_raw,cap_net_admin+ep". Sockets keep working after
//! [`drop_privileges`], so a capture opens everything first, then drops to
//! `-Z USER` (real, effective and saved ids, no supplementary groups, no
//! capabilities, `no_new_privs`, verified by trying `setuid(0)`).
//!
//! Promiscuous mode is a membership of the socket, not a flag on the
//! interface: the kernel drops it when the socket closes, however the
//! process ends (tested: the device's promiscuity counter returns to 0).
//!
//! # The ring's memory ordering
//!
//! The RX ring is `block_count` blocks shared with the kernel. Each block
//! starts with a `block_status` word that says who owns it. The kernel fills
//! a block, issues a write barrier and stores `TP_STATUS_USER`; user space
//! loads the word with **Acquire** ordering, so every byte of the block
//! written before that store is visible to the reads that follow. The block
//! is then lent out as a [`Block`], whose lifetime borrows the ring
//! mutably: only one block is out at a time, in ring order. Dropping the
//! `Block` stores `TP_STATUS_KERNEL` with **Release** ordering, so no read of
//! the block can be reordered after the hand-back. The TX ring uses the
//! same pair: a slot is written only after an Acquire load saw
//! `TP_STATUS_AVAILABLE`, and published with a Release store of
//! `TP_STATUS_SEND_REQUEST`. The words are accessed as `AtomicU32` over the
//! mapping; never through a `&mut`.
//!
//! # The safety story
//!
//! All `unsafe` lives in the private `sys` module (one small function per
//! system call, `EINTR` retried in one place), in the ring accessors that
//! turn a mapping into slices (`Mmap::slice`, `slice_mut`, `load_acquire`,
//! `store_release`, each with a `# Safety` contract and bounds asserted),
//! in the four places that call those accessors (RX status, RX block, TX
//! status, TX slot), in `Pod` impls for plain kernel structs, and in the
//! signal handler registration. Every block has a `// SAFETY:` comment.
//! Everything the kernel writes into a block — `offset_to_first_pkt`,
//! `blk_len`, `num_pkts`, `tp_next_offset`, `tp_mac`, `tp_net`,
//! `tp_snaplen` — is checked against the block by the pure walker before a
//! slice is made, so even a corrupt block yields a [`WalkError`], never a
//! read outside the mapping. The walker is unit-tested, property-tested and
//! fuzzed (`ring_block_walk`) without root; the live suite runs the socket
//! layer in lab namespaces.
//!
//! # Ring defaults
//!
//! [`RingConfig::DEFAULT`] — 1 MiB blocks, 32 blocks (32 MiB), 10 ms
//! block timeout — was chosen by measurement with `examples/ringcount.rs`
//! against `trafgen` on a lab veth (64-byte frames, one sender core): see
//! the table in `RingConfig::DEFAULT`'s documentation. The TX ring default
//! is TPACKET_V2 (measured against V3 and `sendmmsg` with
//! `examples/udpgen.rs`).
#![deny(missing_docs)]

pub mod block;
pub mod bridge_io;
pub mod caps;
pub mod capture;
pub mod cooked;
pub mod error;
pub mod frames;
pub mod iface;
pub mod interrupt;
pub mod lab;
pub mod nfqueue;
pub mod privs;
pub mod ring;
pub mod signals;
mod sys;
pub mod tx;

pub use block::{FrameParts, Framing, FramingKind, PacketType, RingFrame, Vlan, WalkError};
pub use caps::Capabilities;
pub use capture::{Capture, CaptureConfig, Fanout, FanoutMode, Next, Stats, TimestampMode};
pub use error::{Error, ErrorKind, Result};
pub use interrupt::Interrupt;
pub use privs::drop_privileges;
pub use ring::{Block, RingConfig};
pub use tx::{SendReport, TxConfig, TxRingConfig, TxRingVersion, TxSocket};
