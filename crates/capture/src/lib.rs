//! Live traffic: capture to pcap and pcapng files, statistics mode, replay
//! of capture files and generation of test traffic.
//!
//! This crate joins the layer below it: AF_PACKET rings and TX sockets
//! from `sluice-linux`, the writers and rotation of `sluice-pcap`, and the
//! filter compiler of `sluice-filter`. It makes no system call itself.
//!
//! - [`engine`] — the capture engine: one TPACKET_V3 ring per interface
//!   (or per fanout member), one reader thread per ring, every block handed
//!   to a [`Sink`]; stops on a signal without losing what the kernel holds.
//! - [`sink`] — the [`Sink`] trait and [`FileSink`], which writes a ring
//!   block with one vectored write: large frames straight from the ring,
//!   small ones copied next to their record headers (measured cheaper),
//!   with tcpdump's rotation (`-C -G -W`).
//! - [`filter`] — pcap-filter expressions compiled for the kernel of a
//!   capture socket (and moved for cooked sockets).
//! - [`meter`] — statistics mode: counts per interval, no payload copied.
//! - [`mod@replay`] — sending a capture file (tcpreplay) or generated UDP
//!   frames (trafgen), paced by [`pace`].
//!
//! # Privileges
//!
//! Opening a capture or TX socket needs CAP_NET_RAW (see `sluice-linux`).
//! [`Engine::open`] opens every socket before anything is read, so that a
//! caller can drop privileges between `open` and [`Engine::start`].
//!
//! # Nothing silent
//!
//! A capture's [`Report`] accounts for every frame the kernel accepted:
//! written, dropped by the kernel for lack of ring space, lost to a
//! malformed block (never expected), or still in the ring at the stop (only
//! when the filter is locked and cannot be closed). A replay's
//! [`replay::SendTotals`] counts sent, failed and truncated frames.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod engine;
pub mod error;
pub mod filter;
pub mod meter;
pub mod pace;
mod record;
pub mod replay;
pub mod sink;

pub use engine::{
    CaptureOptions, Engine, FanoutOptions, Finished, Report, Running, Snapshot, Source,
    SourceReport, StopReason,
};
pub use error::{Error, Result};
pub use meter::{Interval, Meter, MeterOptions};
pub use pace::{Pace, Pacer};
pub use replay::{GenerateOptions, ReplayOptions, SendTotals, generate, replay};
pub use sink::{FileOptions, FileReport, FileSink, Sink, Written, for_each_frame};
