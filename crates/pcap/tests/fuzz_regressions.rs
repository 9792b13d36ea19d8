//! Replays the inputs kept under `fuzz/regressions/pcap_reader` and
//! `fuzz/regressions/pcapng_reader` (minimised crashers, once fixed)
//! through the same checks the fuzz targets run, plus a few hand-made edge
//! cases of the same kind.

use std::path::Path;

use sluice_pcap::testing::exercise;

#[test]
fn replay_kept_fuzz_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut replayed = 0;
    for target in ["pcap_reader", "pcapng_reader"] {
        let dir = root.join(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for e in entries {
            let p = e.unwrap().path();
            if p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
            {
                continue;
            }
            exercise(&std::fs::read(&p).unwrap());
            replayed += 1;
        }
    }
    println!("replayed {replayed} kept fuzz inputs");
}

#[test]
fn edge_cases() {
    let le = |v: u32| v.to_le_bytes();
    // pcap header followed by a record claiming 256 MiB + 1
    let mut a = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 0x7fff_ffff, 1] {
        a.extend_from_slice(&le(v));
    }
    let header = a.clone();
    a.extend_from_slice(&[0; 8]);
    a.extend_from_slice(&le((256 << 20) + 1));
    a.extend_from_slice(&le(10));
    exercise(&a);
    // a pcapng section header only, and one with a 2^32-4 block length
    let mut b = vec![0x0a, 0x0d, 0x0d, 0x0a];
    b.extend_from_slice(&le(28));
    b.extend_from_slice(&le(0x1a2b_3c4d));
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&[0xff; 8]);
    b.extend_from_slice(&le(28));
    exercise(&b);
    let mut c = b.clone();
    c.extend_from_slice(&le(6));
    c.extend_from_slice(&le(0xffff_fffc));
    exercise(&c);
    // every prefix of a small valid file
    for n in 0..=header.len() + 20 {
        let mut d = header.clone();
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&le(4));
        d.extend_from_slice(&le(4));
        d.extend_from_slice(&[1, 2, 3, 4]);
        d.truncate(n);
        exercise(&d);
    }
}
