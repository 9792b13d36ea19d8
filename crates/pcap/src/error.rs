//! Errors of the readers and writers: what was wrong and at which byte
//! offset of the input.

use std::io;

use sluice_wire::LinkType;
use thiserror::Error;

/// An error while reading or writing a capture file.
///
/// Format errors carry the byte offset (from the start of the input) of the
/// record or block at fault and a [`ErrorKind`] that says what was expected.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O error, with what was being done.
    #[error("{context}: {source}")]
    Io {
        /// What was being done ("reading day.pcap at offset 4096").
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The bytes of the input do not form a valid capture file.
    #[error("at offset {offset}: {kind}")]
    Format {
        /// Byte offset of the record, block or field at fault.
        offset: u64,
        /// What was wrong.
        kind: ErrorKind,
    },
    /// A request to the writer that the chosen format cannot honour.
    #[error("{0}")]
    Write(ErrorKind),
}

impl Error {
    pub(crate) fn format(offset: u64, kind: ErrorKind) -> Error {
        Error::Format { offset, kind }
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The byte offset of a format error.
    pub fn offset(&self) -> Option<u64> {
        match self {
            Error::Format { offset, .. } => Some(*offset),
            _ => None,
        }
    }

    /// What was wrong, for format and writer errors.
    pub fn kind(&self) -> Option<&ErrorKind> {
        match self {
            Error::Format { kind, .. } | Error::Write(kind) => Some(kind),
            Error::Io { .. } => None,
        }
    }

    /// True when the input simply ended inside a header or a record.
    pub fn is_truncation(&self) -> bool {
        matches!(self.kind(), Some(ErrorKind::Truncated { .. }))
    }
}

/// What was wrong with a capture file, or with a request to the writer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The first four bytes are no pcap or pcapng magic number.
    #[error("not a pcap or pcapng file: unknown magic number 0x{magic:08x}")]
    UnknownMagic {
        /// The first four bytes, read little-endian.
        magic: u32,
    },
    /// A magic number of a pcap variant that sluice recognises but does not read.
    #[error("unsupported capture format: {name} (magic 0x{magic:08x})")]
    UnsupportedFormat {
        /// The magic number as found.
        magic: u32,
        /// What the variant is.
        name: &'static str,
    },
    /// A file or section header with a version this reader does not know.
    #[error("unsupported {format} version {major}.{minor}")]
    UnsupportedVersion {
        /// "pcap" or "pcapng".
        format: &'static str,
        /// Major version.
        major: u16,
        /// Minor version.
        minor: u16,
    },
    /// The input ended inside a header, record or block.
    #[error("truncated {what}: {have} of {need} bytes")]
    Truncated {
        /// What was being read ("record header", "enhanced packet block", …).
        what: &'static str,
        /// Bytes present.
        have: u64,
        /// Bytes needed.
        need: u64,
    },
    /// A pcapng byte-order magic that is neither 0x1a2b3c4d nor its swap.
    #[error("bad section byte-order magic 0x{magic:08x}")]
    BadByteOrderMagic {
        /// The value found.
        magic: u32,
    },
    /// A pcapng block whose length is not a multiple of 4.
    #[error("block length {len} is not a multiple of 4")]
    BlockLengthUnaligned {
        /// The block's total length field.
        len: u32,
    },
    /// A pcapng block too short for its type.
    #[error("block length {len} of a {block} is below its minimum of {min}")]
    BlockTooShort {
        /// Block name.
        block: &'static str,
        /// The block's total length field.
        len: u32,
        /// The least length a block of this type can have.
        min: u32,
    },
    /// The trailing length of a pcapng block differs from the leading one.
    #[error("block length {leading} does not match its trailing copy {trailing}")]
    BlockLengthMismatch {
        /// The leading total length.
        leading: u32,
        /// The trailing total length.
        trailing: u32,
    },
    /// A record or block larger than the reader's hard limit.
    #[error("{what} of {len} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// "record" or "block".
        what: &'static str,
        /// Its length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A captured length above both the snapshot length and the tolerance.
    #[error(
        "captured length {caplen} exceeds snaplen {snaplen} and the {limit}-byte maximum for {linktype}"
    )]
    CaplenTooLarge {
        /// The record's captured length.
        caplen: u32,
        /// The interface's snapshot length.
        snaplen: u32,
        /// The most sluice (like Wireshark) accepts for this linktype.
        limit: u32,
        /// The interface's linktype.
        linktype: LinkType,
    },
    /// A packet's captured length does not fit in its block.
    #[error("captured length {caplen} does not fit in a {block} of {len} bytes")]
    CaplenBeyondBlock {
        /// Block name.
        block: &'static str,
        /// The captured length field.
        caplen: u32,
        /// The block's total length.
        len: u32,
    },
    /// A packet refers to an interface the section has not described.
    #[error("{block} refers to interface {id} but the section has {count}")]
    UnknownInterface {
        /// Block name.
        block: &'static str,
        /// The interface id.
        id: u32,
        /// How many interfaces the section has.
        count: u32,
    },
    /// A pcapng option whose length overruns its block.
    #[error("option {code} of length {len} overruns its {block}")]
    BadOption {
        /// Block name.
        block: &'static str,
        /// Option code.
        code: u16,
        /// Option length.
        len: u16,
    },
    /// An `if_tsresol` value this reader cannot scale to nanoseconds.
    #[error("if_tsresol 0x{0:02x} is out of range")]
    BadTsResolution(u8),
    /// A pcapng file that does not start with a section header block.
    #[error("pcapng data before the first section header block")]
    NoSection,
    /// A timestamp the output format cannot hold.
    #[error("timestamp {ts_ns} ns does not fit a {format} record")]
    TimestampOutOfRange {
        /// The timestamp in nanoseconds since the epoch.
        ts_ns: u64,
        /// "pcap" or "pcapng".
        format: &'static str,
    },
    /// A frame for an interface the writer was not told about.
    #[error("frame for interface {id}, but the writer has {count} interfaces")]
    WriterUnknownInterface {
        /// The interface id.
        id: u32,
        /// How many interfaces were added.
        count: u32,
    },
    /// A pcap file holds one linktype; a second interface differs.
    #[error("a pcap file holds one linktype: interface has {linktype}, file has {file}")]
    LinkTypeMismatch {
        /// The new interface's linktype.
        linktype: LinkType,
        /// The file's linktype.
        file: LinkType,
    },
    /// A frame longer than a record can describe.
    #[error("frame of {len} bytes is too long for one record")]
    FrameTooLong {
        /// The frame's length.
        len: usize,
    },
    /// The writer was used after an error or after it was finished.
    #[error("the writer is closed after an earlier error")]
    WriterClosed,
    /// A rotating writer with a period and a file limit wrote its last file.
    #[error("the rotation limit of {files} files is reached")]
    RotationLimit {
        /// The limit.
        files: u32,
    },
    /// The writer's format could not be told from a file name.
    #[error("cannot tell the capture format from the name {0:?}: give it explicitly")]
    UnknownExtension(String),
}
