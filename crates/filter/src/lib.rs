//! The pcap-filter language compiled to classic BPF.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
