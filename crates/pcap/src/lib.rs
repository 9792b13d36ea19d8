//! Capture files: pcap and pcapng readers and writers.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod endian;
mod error;
mod frame;
mod input;
mod meta;
pub mod pcap;
pub mod pcapng;
mod reader;
pub mod rotate;
mod writer;

#[doc(hidden)]
pub mod testing;

pub use endian::Endian;
pub use error::{Error, ErrorKind};
pub use frame::{Direction, EpbFlags, Frame, OptionIter, Options, RawOption, RecordMeta, code};
pub use meta::{
    Format, Interface, InterfaceStats, NameAddr, NameEntry, Names, OwnedOption, Record, Section,
    Skipped, Truncation, TsResolution, block_name,
};
pub use reader::{Leniency, ReadCounts, Reader, ReaderOptions};
pub use rotate::{RotatingWriter, Rotation};
pub use sluice_wire::LinkType;
pub use writer::{Output, RecordHeader, Writer, WriterOptions};
