//! Put a user-space program into the network path.
//!
//! A *handler* sees frames travelling between two sides — *upper* (the host:
//! its stack and applications) and *lower* (the network) — and decides a
//! [`Verdict`] for each: pass it on (possibly modified in place, possibly
//! with a new length) or drop it. It may also inject new frames towards
//! either side at any time, and set timers to delay or batch frames.
//!
//! Two engines carry frames to handlers:
//!
//! - **wire mode**: a bump in the wire between two interfaces, all of layer
//!   2 (any EtherType, ARP included), over AF_PACKET rings;
//! - **host mode**: the host's own IPv4/IPv6 traffic, selected by rules in a
//!   table of our own and delivered through a netfilter queue.
//!
//! In both, a pcap-filter expression chooses which frames reach the handler;
//! the rest take a fast path with no handler call. *Monitor mode* hands the
//! handler copies: it cannot delay, change or drop traffic. Every drop —
//! by the handler, for lack of queue room, by the kernel — is counted in
//! [`Counters`]; nothing is silent.
//!
//! This module defines what every engine shares: [`FrameMut`] and its
//! metadata, the [`Handler`] trait, the [`Context`] a handler acts through,
//! timers, and counters.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod checksum;
pub mod counters;
pub mod frame;
pub mod handler;
pub mod host;
pub mod samples;
pub mod timer;
pub mod wire;

pub use counters::{Counters, SharedCounters, SideCounters};
pub use frame::{FrameMeta, FrameMut, Offload, Side, Vlan};
pub use handler::{Context, Handler, Injection, PassThrough, Verdict};
pub use timer::TimerQueue;
