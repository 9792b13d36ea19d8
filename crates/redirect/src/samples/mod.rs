//! Sample handlers, each a library type, an example program and a
//! command: [`PassThru`] (`sluice bridge`).
//!
//! They work in either mode: wire mode hands them Ethernet frames, host
//! mode bare IP packets ([`FrameMeta::linktype`](crate::FrameMeta) says
//! which).

pub mod passthru;

pub use passthru::PassThru;
