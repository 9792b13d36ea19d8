//! Zero-copy typed views and builders for packet headers, and checksums.
//!
//! This is the bottom layer of sluice: it knows nothing of files, sockets or
//! Linux. Every protocol lives in its own module with the same shape (after
//! smoltcp's `wire`): a `Packet<T: AsRef<[u8]>>` view with `new_unchecked`,
//! `new_checked`, getters and (for `T: AsMut<[u8]>`) setters, and a `Repr`
//! that can `parse`, report its `buffer_len` and `emit`.
//!
//! # Panic contract
//!
//! Untrusted bytes always go through `new_checked`. Once `check_len()` has
//! returned `Ok`, no accessor of that view panics. `Repr::emit` never panics
//! on a buffer of exactly `buffer_len()` bytes.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod linktype;

pub use linktype::LinkType;
