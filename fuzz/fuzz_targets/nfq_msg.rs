//! Netlink messages of host mode through the parser and the builder:
//! byte 0 picks a receive buffer to walk (every slice must stay inside
//! it), a queue packet to build and parse back, or verdicts to build and
//! walk (`sluice_linux::nfqueue::msg::fuzz_one`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_linux::nfqueue::msg::fuzz_one(data);
});
