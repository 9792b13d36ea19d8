//! Capture files: pcap and pcapng readers and writers.
#![deny(missing_docs)]
