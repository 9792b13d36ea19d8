//! Every packet view on arbitrary bytes: byte 0 picks the view; the rest
//! goes through `new_checked`, every accessor, `Display`, and a
//! `Repr::parse` → `emit` → `parse` round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sluice_wire::fuzzing::exercise_views(data);
});
