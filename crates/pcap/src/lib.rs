//! Capture files: pcap and pcapng readers and writers, and file rotation.
//!
//! # Formats
//!
//! - **pcap**, both byte orders, with the microsecond magic `0xa1b2c3d4`,
//!   the nanosecond magic `0xa1b23c4d`, and the modified ("Kuznetzov")
//!   magic `0xa1b2cd34` whose 24-byte record headers carry the packet type
//!   (read as the frame's direction). Any linktype passes through; the FCS
//!   bits of the header's linktype field become [`Interface::fcs_len`] and
//!   are written back. Other pcap variants (IXIA, compressed files, snoop,
//!   NetMon, …) are recognised by their magic and refused with their name.
//! - **pcapng**, sections in either byte order and any number of them per
//!   file (each section forgets the interfaces of the one before); interface
//!   description blocks with `if_tsresol` (decimal and power-of-two),
//!   `if_tsoffset`, `if_name`, `if_description`, `if_filter`, `if_os`,
//!   `if_fcslen`, `if_speed`, `if_hardware` and comments; enhanced packet
//!   blocks with `epb_flags` (direction, reception type, FCS length, link
//!   errors) and every other option kept raw; simple packet blocks (captured
//!   length from the interface's snapshot length, no timestamp); the
//!   obsolete packet block; name resolution and interface statistics blocks.
//!   Decryption secrets, custom and unknown blocks are stepped over and
//!   counted ([`Record::Skipped`], [`ReadCounts`]).
//!
//! Timestamps are nanoseconds since the Unix epoch in a `u64` (1970 to
//! 2554). Resolution and offset are applied with overflow checks: a value
//! outside that range is clamped and counted
//! ([`ReadCounts::timestamps_clamped`]), never a panic.
//!
//! # Reading
//!
//! [`Reader`] recognises the format by its magic number and hands out
//! [`Record`]s in file order ([`Reader::next_record`]): sections, interfaces,
//! frames, statistics, names, skipped blocks; [`Reader::next_frame`] gives
//! the frames alone. A [`Frame`] borrows the reader's buffer: no copy.
//!
//! Memory is bounded. A file, pipe or stdin (`-`) is read through a buffer
//! of [`ReaderOptions::buffer_size`] (1 MiB) that grows only to the largest
//! record met, and only as its bytes actually arrive, up to
//! [`ReaderOptions::max_record`] (256 MiB): a larger record or block is an
//! error. Captured lengths above the snapshot length are accepted, and
//! counted, up to the per-linktype maximum Wireshark and libpcap apply
//! ([`pcap::max_caplen_for`], 262144 bytes for most); above it they are an
//! error.
//!
//! Errors say what was wrong and where: "at offset 1048576: block length 7
//! is not a multiple of 4". The parse position is explicit
//! ([`Reader::position`]) and stays on a bad record, so that a repair tool
//! can [`Reader::peek`] ahead and [`Reader::resync_at`] a later offset. In
//! [`Leniency::Lenient`] mode a record cut short by the end of the input is
//! reported as [`Record::Truncated`] and counted instead of failing.
//!
//! ## Memory maps
//!
//! With [`ReaderOptions::mmap`] a regular file is mapped instead of read;
//! files that cannot be mapped (pipes, devices, empty files) are read
//! through the buffer. This is the one `unsafe` call of the crate. A mapped
//! file that another process truncates while it is being read makes the
//! reader touch pages that no longer exist, and the process gets SIGBUS;
//! bytes changed underneath are seen as they are, and like all input are
//! checked before use. Mapping is off by default: on the machines measured
//! it was also about half as fast as buffered reads, the page faults
//! costing more than the copy.
//!
//! # Writing
//!
//! [`Writer`] writes pcap (one linktype per file, microsecond or nanosecond
//! magic) or pcapng (interfaces with `if_tsresol` 9 for nanoseconds or the
//! default 6, flags, comments and other options carried over, statistics
//! and names), chosen by [`WriterOptions`] or a file's extension
//! ([`Format::from_path`]), to a file or stdout (`-`). It fills a buffer of
//! 1 MiB and writes it in one call. For live capture,
//! [`Writer::encode_record_header`] encodes just the header (and pcapng
//! trailer) of a record, so that a caller can write header and packet
//! straight from a ring block with one vectored write
//! ([`Writer::write_encoded`]). [`RotatingWriter`] spreads a capture over
//! files by size, time and count, named like tcpdump's.
//!
//! Every write returns its error, and after an error the writer refuses
//! further use. [`Writer::finish`] writes final statistics, flushes and
//! returns the first error. Dropping a writer without `finish` flushes what
//! is buffered but can report nothing and writes no final statistics: call
//! `finish` to know the file is complete.
#![deny(missing_docs)]
#![deny(unsafe_code)]

mod drop_behind;
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

pub use drop_behind::DropBehind;
pub use endian::Endian;
pub use error::{Error, ErrorKind};
pub use frame::{Direction, EpbFlags, Frame, OptionIter, Options, RawOption, RecordMeta, code};
pub use meta::{
    Format, Interface, InterfaceStats, NameAddr, NameEntry, Names, OwnedOption, Record, Section,
    Skipped, Truncation, TsResolution, block_name,
};
pub use reader::{Leniency, ReadCounts, Reader, ReaderOptions, Sniffed};
pub use rotate::{RotatingWriter, Rotation};
pub use sluice_wire::LinkType;
pub use writer::{Output, RecordHeader, Writer, WriterOptions};
