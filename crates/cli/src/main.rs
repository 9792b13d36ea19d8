//! The `sluice` command-line tool.
#![forbid(unsafe_code)]

fn main() {
    println!("sluice {}", env!("CARGO_PKG_VERSION"));
}
