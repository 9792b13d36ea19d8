//! sluice: put a user-space program into the Linux network path.
//!
//! This facade re-exports the library crates under one name, so that a
//! program can say `sluice::wire`, `sluice::pcap`, `sluice::filter::compile`, … The command-line tool
//! lives in this package's binary.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use sluice_bpf as bpf;
pub use sluice_capture as capture;
pub use sluice_filter as filter;
pub use sluice_linux as linux;
pub use sluice_pcap as pcap;
pub use sluice_process as process;
pub use sluice_redirect as redirect;
pub use sluice_wire as wire;
