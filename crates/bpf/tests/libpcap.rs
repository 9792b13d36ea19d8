//! Differential tests against libpcap 1.10's own `bpf_filter` and
//! `bpf_validate` (through the C peer in `shim/`), and against the naive
//! reference interpreter in `reference/`.
//!
//! Set `SLUICE_BPF_SEED` to explore other random programs.

mod random;
mod reference;
mod shim;

use std::path::PathBuf;

use random::{Opts, Rng};
use shim::Libpcap;
use sluice_bpf::insn::{self, Insn};
use sluice_bpf::{Form, Meta, Program, Semantics, asm, disasm, validate, validate_libpcap};

fn hex(p: &[u8]) -> String {
    p.iter().map(|b| format!("{b:02x}")).collect()
}

/// Runs `count` random programs of the given family on 24 packets each,
/// against libpcap; returns the number of comparisons.
fn against_libpcap(
    pcap: &mut Libpcap,
    rng: &mut Rng,
    opts: Opts,
    sem: Semantics,
    count: usize,
) -> usize {
    let meta = Meta::default();
    let mut compared = 0;
    for _ in 0..count {
        let insns = random::program(rng, opts);
        assert!(
            pcap.set_program(&insns),
            "libpcap's bpf_validate rejects a program the kernel accepts:\n{}",
            disasm(&insns, Form::D)
        );
        let prog =
            Program::with_semantics(insns.clone(), sem).expect("generated programs are valid");
        let packets: Vec<(Vec<u8>, u32)> = (0..24).map(|_| random::packet(rng)).collect();
        let theirs = pcap.run_all(&packets);
        for ((bytes, wire), want) in packets.iter().zip(theirs) {
            let ours = prog.run(bytes, *wire, &meta);
            assert_eq!(
                ours,
                want,
                "{sem:?} semantics differ from libpcap's bpf_filter (seed {}) on packet {} \
                 (wire length {wire}):\n{}",
                random::seed(),
                hex(bytes),
                disasm(&insns, Form::D)
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn libpcap_semantics_equal_bpf_filter_on_random_programs() {
    let mut pcap = Libpcap::start(env!("CARGO_TARGET_TMPDIR"));
    let mut rng = Rng::new(random::seed());
    let n = against_libpcap(&mut pcap, &mut rng, Opts::ALL, Semantics::Libpcap, 3000);
    assert!(n >= 60_000, "{n} comparisons");
}

#[test]
fn kernel_semantics_equal_bpf_filter_where_they_agree() {
    let mut pcap = Libpcap::start(env!("CARGO_TARGET_TMPDIR"));
    let mut rng = Rng::new(random::seed() ^ 0xa5a5);
    let n = against_libpcap(&mut pcap, &mut rng, Opts::COMMON, Semantics::Kernel, 1500);
    assert!(n >= 30_000, "{n} comparisons");
}

#[test]
fn both_semantics_equal_the_reference_interpreter() {
    let mut rng = Rng::new(random::seed() ^ 0x5a5a);
    let mut compared = 0;
    for _ in 0..3000 {
        let insns = random::program(&mut rng, Opts::ALL);
        let kernel = Program::new(insns.clone()).expect("valid");
        let libpcap = kernel.to_semantics(Semantics::Libpcap);
        for _ in 0..16 {
            let (bytes, wire) = random::packet(&mut rng);
            let meta = random::meta(&mut rng);
            for prog in [&kernel, &libpcap] {
                let want = reference::run(&insns, prog.semantics(), &bytes, wire, &meta);
                assert_eq!(
                    prog.run(&bytes, wire, &meta),
                    want,
                    "{:?} (seed {}) on {} wire {wire} meta {meta:?}:\n{}",
                    prog.semantics(),
                    random::seed(),
                    hex(&bytes),
                    disasm(&insns, Form::D)
                );
                compared += 1;
            }
        }
    }
    assert!(compared >= 90_000);
}

/// Random instruction vectors, mostly invalid: our `validate_libpcap`
/// must accept exactly what libpcap's `bpf_validate` accepts, and every
/// program the kernel's rules accept must pass both.
#[test]
fn validate_libpcap_equals_bpf_validate() {
    let mut pcap = Libpcap::start(env!("CARGO_TARGET_TMPDIR"));
    let mut rng = Rng::new(random::seed() ^ 0x1234);
    let mut accepted = 0;
    for round in 0..20_000 {
        let mut insns = if round % 2 == 0 {
            random::program(&mut rng, Opts::ALL)
        } else {
            let len = rng.below(12) as usize;
            (0..len)
                .map(|_| Insn {
                    code: if rng.percent(80) {
                        rng.below(0x100) as u16
                    } else {
                        rng.u32() as u16
                    },
                    jt: rng.below(8) as u8,
                    jf: rng.below(8) as u8,
                    k: if rng.percent(50) {
                        rng.below(20) as u32
                    } else {
                        rng.u32()
                    },
                })
                .collect()
        };
        // Perturb one field of a valid program now and then.
        if round % 4 == 2 && !insns.is_empty() {
            let i = rng.below(insns.len() as u64) as usize;
            match rng.below(3) {
                0 => insns[i].code ^= 1 << rng.below(16),
                1 => insns[i].jt = rng.u32() as u8,
                _ => insns[i].k = rng.u32(),
            }
        }
        let theirs = pcap.set_program(&insns);
        let ours = validate_libpcap(&insns);
        assert_eq!(
            ours.is_ok(),
            theirs,
            "validate_libpcap says {ours:?}, bpf_validate says {theirs}:\n{}",
            disasm(&insns, Form::DDD)
        );
        if validate(&insns).is_ok() {
            assert!(theirs, "kernel-valid but libpcap-invalid");
        }
        accepted += usize::from(theirs);
    }
    assert!(accepted > 5_000, "{accepted}");
}

/// The programs tcpdump compiled (tests/data/tcpdump), run on random and
/// structured packets: both semantics equal libpcap's `bpf_filter`.
#[test]
fn tcpdump_programs_equal_bpf_filter() {
    let mut pcap = Libpcap::start(env!("CARGO_TARGET_TMPDIR"));
    let mut rng = Rng::new(random::seed() ^ 0x7777);
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tcpdump");
    let mut programs = 0;
    for entry in std::fs::read_dir(&dir).expect("tests/data/tcpdump") {
        let path = entry.expect("dir entry").path();
        if path.extension().is_none_or(|e| e != "ddd") {
            continue;
        }
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let insns = asm(&std::fs::read_to_string(&path).expect("read")).expect("assembles");
        let Ok(kernel) = Program::new(insns.clone()) else {
            // `ip6 protochain` jumps backwards: only libpcap runs it.
            assert_eq!(name, "protochain");
            continue;
        };
        assert!(pcap.set_program(&insns));
        let libpcap = kernel.to_semantics(Semantics::Libpcap);
        let packets: Vec<(Vec<u8>, u32)> = (0..400).map(|_| random::packet(&mut rng)).collect();
        let theirs = pcap.run_all(&packets);
        for ((bytes, wire), want) in packets.iter().zip(theirs) {
            assert_eq!(
                libpcap.run(bytes, *wire, &Meta::default()),
                want,
                "{name} on {}",
                hex(bytes)
            );
            if !name.starts_with("live_") {
                assert_eq!(
                    kernel.run(bytes, *wire, &Meta::default()),
                    want,
                    "{name} on {}",
                    hex(bytes)
                );
            }
        }
        programs += 1;
    }
    assert!(programs >= 40, "{programs} programs");
}

#[test]
fn every_opcode_is_exercised_by_the_generator() {
    let mut rng = Rng::new(random::seed());
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..2000 {
        for i in random::program(&mut rng, Opts::ALL) {
            seen.insert(i.code);
        }
    }
    let all: Vec<u16> = (0..=0xffu16)
        .filter(|&c| sluice_bpf::validate::kernel_knows_opcode(c))
        .collect();
    let missing: Vec<String> = all
        .iter()
        .filter(|c| !seen.contains(c))
        .map(|&c| disasm(&[Insn::stmt(c, 0)], Form::D))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    let _ = insn::MAXINSNS;
}
