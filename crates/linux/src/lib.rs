//! Every system call of sluice: AF_PACKET rings, namespaces and veth for
//! the lab, privileges, signals.
#![deny(missing_docs)]

pub mod block;
pub mod caps;
pub mod capture;
pub mod error;
pub mod frames;
pub mod iface;
pub mod interrupt;
pub mod lab;
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
