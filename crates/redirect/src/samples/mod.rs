//! Sample handlers, each a library type, an example program and a
//! command:
//!
//! - [`PassThru`] (`sluice bridge`): every frame on, counted;
//! - [`Echo`] (`sluice echo`): a node that does not exist answers ARP,
//!   ICMP echo, IPv6 neighbour solicitation and ICMPv6 echo (in host mode,
//!   where there is no link layer, the echo requests only);
//! - [`Impair`] (`sluice impair`): delay, jitter, loss, duplication,
//!   reordering, corruption and a rate limit;
//! - [`Tunnel`] (`sluice tunnel`): selected frames carried over UDP to a
//!   peer that puts them back on its path.
//!
//! They work in either mode: wire mode hands them Ethernet frames, host
//! mode bare IP packets ([`FrameMeta::linktype`](crate::FrameMeta) says
//! which).

pub mod echo;
pub mod impair;
pub mod passthru;
pub mod tunnel;

pub use echo::{Echo, EchoConfig, EchoStats};
pub use impair::{Direction, Impair, ImpairConfig, ImpairStats};
pub use passthru::PassThru;
pub use tunnel::{Tunnel, TunnelConfig, TunnelCounts, TunnelStats};
