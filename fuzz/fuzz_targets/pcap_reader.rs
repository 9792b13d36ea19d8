//! Arbitrary bytes behind a pcap file header through every reader path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Inputs that do not start with a pcap magic get one of the four
    // headers, picked by the first byte, so that the fuzzer spends its time
    // in the record loop.
    let magic = data
        .get(..4)
        .map(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
    let known = matches!(
        magic,
        Some(0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1 | 0xa1b2_cd34 | 0x34cd_b2a1)
    );
    if known || data.is_empty() {
        sluice_pcap::testing::exercise(data);
        return;
    }
    let (m, be) = match data[0] % 6 {
        0 => (0xa1b2_c3d4u32, false),
        1 => (0xa1b2_c3d4, true),
        2 => (0xa1b2_3c4d, false),
        3 => (0xa1b2_3c4d, true),
        4 => (0xa1b2_cd34, false),
        _ => (0xa1b2_cd34, true),
    };
    let snaplen = if data[0] & 0x80 != 0 { 64u32 } else { 65535 };
    let put = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let put16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut f = Vec::with_capacity(data.len() + 24);
    f.extend_from_slice(&put(m));
    f.extend_from_slice(&put16(2));
    f.extend_from_slice(&put16(4));
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&put(snaplen));
    f.extend_from_slice(&put(1));
    f.extend_from_slice(&data[1..]);
    sluice_pcap::testing::exercise(&f);
});
