//! Feeds arbitrary bytes to the TPACKET_V3 block walker as one ring block,
//! and every frame it accepts to the file framing (VLAN reinsertion, SLL2
//! header, snap length). Nothing may panic or read outside the block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_linux::block::{self, Framing, FramingKind, WalkOptions};

fuzz_target!(|data: &[u8]| {
    let (opts, block) = match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => return,
    };
    let options = WalkOptions { vnet_hdr: opts & 1 != 0 };
    let snaplen = u32::from(opts >> 1) * 8 + 1;
    let kinds = [
        FramingKind::Raw { vlan_offset: Some(12) },
        FramingKind::Raw { vlan_offset: None },
        FramingKind::Sll2,
    ];
    if let Ok(frames) = block::walk(block, options) {
        for f in frames {
            let Ok(f) = f else { break };
            assert!(f.data.len() == f.caplen as usize);
            for kind in kinds {
                let p = f.parts(Framing { kind, snaplen });
                assert!(p.caplen() <= snaplen as usize);
                assert_eq!(p.io_slices().map(|s| s.len()).sum::<usize>(), p.caplen());
            }
        }
    }
});
