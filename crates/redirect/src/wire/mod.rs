//! Wire mode: a bump in the wire between two interfaces.
//!
//! A frame read from *upper* (the host side) is one the host is sending;
//! written to *lower* it goes on to the network, and the mirror way round.
//! Everything on layer 2 goes through: any EtherType, ARP, VLAN tags (the
//! kernel takes the outer tag out of the frame; it is put back before
//! anyone sees the bytes, so they are what was on the wire).
//!
//! Two levels:
//!
//! - [`Bridge`] — the low-level API, like two handles: [`Bridge::recv`] a
//!   batch of frames from either side into a caller's [`RecvBuf`] (bytes
//!   plus [`FrameMeta`](crate::FrameMeta): side, timestamp, length,
//!   offload state), [`Bridge::send`] / [`Bridge::send_upper`] /
//!   [`Bridge::send_lower`] to write; blocking, non-blocking and
//!   interruptible; [`Bridge::shutdown`] drains, then `recv` says
//!   [`Recv::Closed`]. [`Bridge::forward_turn`] is the pass-through turn
//!   without a copy: frames lent in place in the ring, sent from there.
//! - [`WireRedirector`] — runs a [`Handler`](crate::Handler) over a
//!   bridge: the redirect filter, monitor mode, injection, timers,
//!   counters, the `--write` tap.
//!
//! # How frames travel
//!
//! Each side has an AF_PACKET socket with a TPACKET_V2 receive ring
//! (promiscuous, `PACKET_IGNORE_OUTGOING` so our own transmissions are
//! never seen again — a bridge can never become an infinite duplicator)
//! and a sending socket with `PACKET_QDISC_BYPASS` that takes batches
//! through `sendmmsg`. The engine handles a frame in its ring slot (a
//! handler may change it and grow it into zeroed room after it there) and
//! hands it to the kernel again by `sendmmsg` straight from the slot; the
//! slot goes back to the ring once the batch has been sent. Frames larger
//! than a slot are read from the socket into the receive buffer; the
//! low-level [`Bridge::recv`] copies every frame into the caller's
//! [`RecvBuf`].
//!
//! # Offloads and MTU
//!
//! With offloads on, veth and many NICs hand over GSO/GRO frames of up to
//! 64 KiB. With [`BridgeConfig::vnet_hdr`] (the default) each frame comes
//! with its `virtio_net_hdr` (GSO type and size, partial checksum) and
//! goes out with it: the frame is carried whole and segmented, if at all,
//! by the sending device. A frame larger than a ring slot is read whole
//! from the socket (the ring marks it), so nothing is ever cut; if the
//! kernel could not keep it, it is counted as dropped by the kernel and
//! oversize. The MTUs and offloads of both sides are read at start and
//! reported ([`StartReport::findings`]). A frame larger than the sending
//! side's MTU without GSO state is refused by the kernel and counted
//! (oversize, send failure).
//!
//! Handlers that change frames fix checksums with
//! [`checksum::refresh`](crate::checksum::refresh), which knows about
//! partial checksums.
#![doc = include_str!("MEASUREMENTS.md")]

pub mod bridge;
pub mod engine;
pub mod error;
pub mod per_direction;
pub mod tap;

pub use bridge::{
    Bridge, BridgeConfig, OutFrame, PortInfo, Received, Recv, RecvBuf, RxRing, SendReport,
    StartReport,
};
pub use engine::{Summary, TimerStats, WireConfig, WireRedirector, compile_filter};
pub use error::{Error, ErrorKind, Result};
pub use per_direction::PerDirection;
pub use tap::{TapConfig, TapSummary};
