//! Arbitrary bytes behind a pcapng section header through every reader path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Inputs that do not start with a section header get one (byte order
    // picked by the first byte) plus an Ethernet interface, so that the
    // fuzzer spends its time on the blocks after them.
    if data.is_empty() || data.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
        sluice_pcap::testing::exercise(data);
        return;
    }
    let be = data[0] & 1 == 1;
    let put = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let put16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut f = Vec::with_capacity(data.len() + 64);
    f.extend_from_slice(&put(0x0a0d_0d0a));
    f.extend_from_slice(&put(28));
    f.extend_from_slice(&put(0x1a2b_3c4d));
    f.extend_from_slice(&put16(1));
    f.extend_from_slice(&put16(0));
    f.extend_from_slice(&[0xff; 8]);
    f.extend_from_slice(&put(28));
    // IDB: Ethernet, snaplen 0, if_tsresol from the first byte
    f.extend_from_slice(&put(1));
    f.extend_from_slice(&put(32));
    f.extend_from_slice(&put16(1));
    f.extend_from_slice(&put16(0));
    f.extend_from_slice(&put(0));
    f.extend_from_slice(&put16(9));
    f.extend_from_slice(&put16(1));
    f.extend_from_slice(&[data[0] >> 1, 0, 0, 0]);
    f.extend_from_slice(&put(32));
    f.extend_from_slice(&data[1..]);
    sluice_pcap::testing::exercise(&f);
});
