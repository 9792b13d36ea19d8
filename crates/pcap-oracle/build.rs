//! Links the system libpcap (Debian's libpcap-dev), the oracle's only
//! dependency. The crate is used by tests alone.

fn main() {
    println!("cargo:rustc-link-lib=pcap");
    println!("cargo:rerun-if-changed=build.rs");
}
