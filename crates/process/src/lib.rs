//! Offline processing of capture files: summaries (`info`), and later
//! merging, de-duplication, repair, anonymisation and flow records.
//!
//! Every processor streams: it reads a capture once, front to back, and
//! keeps memory bounded whatever the file's size. State that would grow
//! with the data carries an explicit limit.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod convert;
pub mod filter;
pub mod info;
pub mod synth;
