//! Arbitrary link type and bytes through the dissector and the summary
//! formatter: byte 0 picks the link type, bytes 1..3 how much longer the
//! frame was on the wire, the rest is the frame.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_wire::fuzzing::dissect_and_print(data);
});
