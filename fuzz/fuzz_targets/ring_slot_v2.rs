//! Feeds arbitrary bytes to the TPACKET_V2 slot reader of the bridge as
//! one ring slot: nothing may panic, and every frame it accepts must lie
//! inside the slot's area.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_linux::bridge_io::{parse_slot, v2};

fuzz_target!(|data: &[u8]| {
    let Some((opts, slot)) = data.split_first() else {
        return;
    };
    if let Ok(info) = parse_slot(slot, opts & 1 != 0) {
        let area = slot.len() - v2::HDRLEN;
        assert!(info.data + info.snaplen as usize <= area);
        assert!(info.data + usize::from(info.net_offset) <= area);
        let _ = (info.copied(), info.truncated());
    }
});
