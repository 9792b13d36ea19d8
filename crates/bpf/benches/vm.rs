//! The interpreter's cost per packet against libpcap's `bpf_filter`, on
//! the programs tcpdump compiles for five typical expressions
//! (tests/data/tcpdump) over the same mix of 256 frames.
//!
//! libpcap runs inside the C peer of the differential tests
//! (tests/shim), which times its own loop; `iter_custom` reports that
//! time, so both sides are measured over the same packets and the same
//! number of passes, without pipe or process overhead.
//!
//!     cargo bench -p sluice-bpf --bench vm
//!
//! Criterion reports the time per pass over the 256 frames and the
//! throughput in packets per second. Before each group the bench also
//! prints the best of 300 short runs of each side in ns per packet, a
//! figure that holds up on a loaded machine where medians do not.

// criterion_group! defines undocumented public functions.
#![allow(missing_docs)]

#[path = "../tests/shim/mod.rs"]
mod shim;

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use shim::Libpcap;
use sluice_bpf::{Meta, Program, Semantics, asm};

const PROGRAMS: [(&str, &str); 5] = [
    ("tcp_port_80", "tcp port 80"),
    ("host", "host 10.77.0.1"),
    ("tcp_syn", "tcp[tcpflags] & tcp-syn != 0"),
    ("vlan_100", "vlan 100"),
    ("or20", "20 hosts or-ed"),
];

fn program(name: &str) -> Program {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tcpdump")
        .join(format!("{name}.ddd"));
    let text = std::fs::read_to_string(&path).expect("tcpdump program");
    Program::with_semantics(asm(&text).expect("assembles"), Semantics::Libpcap).expect("valid")
}

/// A deterministic mix: IPv4 TCP/UDP/ICMP between 10.77.0.0/24 hosts,
/// IPv6, ARP, some frames tagged with VLAN 100 or 200, sizes 60 to 1514.
fn frames() -> Vec<(Vec<u8>, u32)> {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    (0..256)
        .map(|i| {
            let r = next();
            let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2];
            if i % 8 == 3 {
                f.extend([0x81, 0x00, 0x00, if r & 1 == 0 { 100 } else { 200 }]);
            }
            let kind = (r >> 8) % 10;
            match kind {
                0 => {
                    // ARP request
                    f.extend([0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1]);
                    f.extend([0; 18]);
                }
                1 => {
                    // IPv6 TCP
                    f.extend([0x86, 0xdd, 0x60, 0, 0, 0, 0, 20, 6, 64]);
                    f.extend([0xfd, 0x77].iter().chain([0u8; 14].iter()));
                    f.extend([0xfd, 0x77].iter().chain([1u8; 14].iter()));
                    f.extend([
                        0xc0, 0x00, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff,
                    ]);
                    f.extend([0; 4]);
                }
                _ => {
                    let proto = match kind {
                        2 => 17,
                        3 => 1,
                        _ => 6,
                    };
                    let src = ((r >> 16) % 40) as u8;
                    let dst = ((r >> 24) % 40) as u8;
                    f.extend([0x08, 0x00, 0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, proto, 0, 0]);
                    f.extend([10, 77, 0, src, 10, 77, 0, dst]);
                    let dport: u16 = [80, 443, 53, 22, 8080][((r >> 32) % 5) as usize];
                    f.extend(40000u16.to_be_bytes());
                    f.extend(dport.to_be_bytes());
                    f.extend([0, 0, 0, 1, 0, 0, 0, 0, 0x50]);
                    f.push(if (r >> 40) % 4 == 0 { 0x02 } else { 0x10 });
                    f.extend([0xff, 0xff, 0, 0, 0, 0]);
                }
            }
            let wire = 60.max(f.len()) + ((r >> 48) % 1400) as usize;
            f.resize(f.len().max(60), 0);
            // A snap length of 96 bytes, as a header-only capture keeps.
            f.truncate(96);
            (f, wire as u32)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let frames = frames();
    let meta = Meta::default();
    let mut pcap = Libpcap::start(env!("CARGO_TARGET_TMPDIR"));
    pcap.set_bench_packets(&frames);
    for (name, what) in PROGRAMS {
        let prog = program(name);
        assert!(pcap.set_program(prog.insns()));
        // Same verdicts first.
        let ours: u64 = frames
            .iter()
            .map(|(f, w)| u64::from(prog.matches(f, *w, &meta)))
            .sum();
        let (_, theirs) = pcap.bench(1);
        assert_eq!(ours, theirs, "{name}: accepted counts differ");

        let (ours_best, theirs_best) = best_of(&prog, &frames, &mut pcap);
        println!(
            "{name}: best of 300: sluice {ours_best:.2} ns/packet, libpcap {theirs_best:.2} \
             ns/packet, {:.2}x",
            theirs_best / ours_best
        );

        let mut group = c.benchmark_group(format!("{name} ({what}, {ours}/256 accepted)"));
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        group.sample_size(30);
        group.bench_function("sluice", |b| {
            b.iter(|| {
                let mut accepted = 0u32;
                for (f, w) in &frames {
                    accepted += u32::from(prog.run(black_box(f), *w, &meta) != 0);
                }
                accepted
            })
        });
        group.bench_function("libpcap", |b| {
            b.iter_custom(|iters| Duration::from_nanos(pcap.bench(iters).0))
        });
        group.finish();
    }
}

/// The best of 300 runs of 20 passes over the frames, for each side, in
/// ns per packet.
fn best_of(prog: &Program, frames: &[(Vec<u8>, u32)], pcap: &mut Libpcap) -> (f64, f64) {
    let meta = Meta::default();
    let per_packet = |d: Duration| d.as_nanos() as f64 / (20 * frames.len()) as f64;
    let (mut ours, mut theirs) = (f64::MAX, f64::MAX);
    for _ in 0..300 {
        let start = Instant::now();
        let mut accepted = 0u32;
        for _ in 0..20 {
            for (f, w) in frames {
                accepted += u32::from(prog.run(black_box(f), *w, &meta) != 0);
            }
        }
        black_box(accepted);
        ours = ours.min(per_packet(start.elapsed()));
        theirs = theirs.min(per_packet(Duration::from_nanos(pcap.bench(20).0)));
    }
    (ours, theirs)
}

criterion_group!(benches, bench);
criterion_main!(benches);
