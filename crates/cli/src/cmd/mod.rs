//! One module per subcommand, plus what several of them share.

pub mod bridge;
pub mod capture;
pub mod compile;
pub mod convert;
pub mod debug;
pub mod divert;
pub mod docs;
pub mod echo;
pub mod expr;
pub mod filter;
pub mod r#gen;
pub mod host;
pub mod impair;
pub mod info;
pub mod inject;
pub mod lab;
pub mod print;
pub mod stats;
pub mod tunnel;

use std::path::Path;

use anyhow::Context;
use sluice_pcap::{Reader, ReaderOptions};

/// Opens a capture for reading: a file, or stdin when the path is `-`.
pub fn open_input(path: &Path) -> anyhow::Result<Reader> {
    if path.as_os_str() == "-" {
        Ok(Reader::from_read(std::io::stdin(), ReaderOptions::default()).named("stdin"))
    } else {
        Reader::open(path).with_context(|| format!("opening {}", path.display()))
    }
}

/// A path as the user wrote it, for messages.
pub fn display_name(path: &Path) -> String {
    if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    }
}
