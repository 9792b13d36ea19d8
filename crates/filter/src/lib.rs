//! The pcap-filter language compiled to classic BPF.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod ast;
pub mod error;
pub mod parse;

pub use error::{CompileError, ErrorKind};
