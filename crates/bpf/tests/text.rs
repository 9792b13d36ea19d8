//! The textual forms against tcpdump's own output (tests/data/tcpdump,
//! made by tests/data/gen-tcpdump.sh), and the assembler's round trip.

use std::path::PathBuf;

use proptest::prelude::*;
use sluice_bpf::insn::Insn;
use sluice_bpf::{Form, Program, ValidateErrorKind, asm, disasm, iptables};

fn data() -> Vec<(String, PathBuf)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/tcpdump");
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .expect("tests/data/tcpdump")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "expr"))
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                p.with_extension(""),
            )
        })
        .collect();
    v.sort();
    v
}

fn read(base: &std::path::Path, ext: &str) -> String {
    std::fs::read_to_string(base.with_extension(ext)).expect("a tcpdump output file")
}

#[test]
fn disassembly_is_byte_identical_to_tcpdump() {
    let files = data();
    assert!(files.len() >= 40, "{} programs", files.len());
    let mut ancillary = 0;
    for (name, base) in &files {
        let insns = asm(&read(base, "ddd")).unwrap_or_else(|e| panic!("{name}: {e}"));
        for (form, ext) in [(Form::D, "d"), (Form::DD, "dd"), (Form::DDD, "ddd")] {
            assert_eq!(disasm(&insns, form), read(base, ext), "{name}.{ext}");
        }
        ancillary += usize::from(read(base, "d").contains("[vlanp]"));
    }
    assert!(
        ancillary >= 2,
        "live programs with ancillary loads are missing"
    );
}

#[test]
fn every_tcpdump_form_assembles_to_the_same_program() {
    for (name, base) in data() {
        let insns = asm(&read(&base, "ddd")).unwrap();
        assert_eq!(asm(&read(&base, "dd")), Ok(insns.clone()), "{name}.dd");
        // libpcap leaves stray values in fields some instructions do not
        // read (`tax` with a k); the -d text drops them.
        let canonical: Vec<Insn> = insns.iter().map(|i| i.canonical()).collect();
        assert_eq!(asm(&read(&base, "d")), Ok(canonical), "{name}.d");
        assert_eq!(asm(&iptables(&insns)), Ok(insns.clone()), "{name} iptables");
        match Program::new(insns) {
            Ok(p) => assert_eq!(disasm(p.insns(), Form::D), read(&base, "d")),
            Err(e) => {
                // libpcap implements `protochain` with backward jumps, which
                // only its own interpreter runs.
                assert_eq!(name, "protochain", "{e}");
                assert!(matches!(e.kind(), ValidateErrorKind::JumpOutOfRange { .. }));
            }
        }
    }
}

/// Runs the installed tcpdump, when there is one, on a few expressions and
/// compares directly (the data files may be older than the tcpdump).
#[test]
fn disassembly_matches_the_installed_tcpdump() {
    let Ok(out) = std::process::Command::new("tcpdump")
        .arg("--version")
        .output()
    else {
        // The data files above are tcpdump's output; this test adds
        // nothing without tcpdump, and says so.
        eprintln!("tcpdump not installed: compared with tests/data only");
        return;
    };
    assert!(out.status.success());
    let dir = std::env::temp_dir().join(format!("sluice-bpf-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("en10mb.pcap");
    let mut header = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    header.extend([0; 8]);
    header.extend(262144u32.to_le_bytes());
    header.extend(1u32.to_le_bytes());
    std::fs::write(&pcap, header).unwrap();
    for expr in [
        "tcp port 80",
        "ip6 and udp",
        "ether[0] & 1 = 0 and len > 60",
    ] {
        let mut texts = Vec::new();
        for flag in ["-d", "-dd", "-ddd"] {
            let out = std::process::Command::new("tcpdump")
                .arg("-r")
                .arg(&pcap)
                .arg(flag)
                .arg(expr)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            texts.push(String::from_utf8(out.stdout).unwrap());
        }
        let insns = asm(&texts[2]).unwrap();
        assert_eq!(disasm(&insns, Form::D), texts[0], "{expr}");
        assert_eq!(disasm(&insns, Form::DD), texts[1], "{expr}");
        assert_eq!(disasm(&insns, Form::DDD), texts[2], "{expr}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// An instruction whose unused fields are zero, as compilers emit them.
fn canonical_insn() -> impl Strategy<Value = Insn> {
    let codes: Vec<u16> = (0..=0xffu16)
        .filter(|&c| sluice_bpf::validate::kernel_knows_opcode(c))
        .chain([0x08, 0x0e, 0xff, 0x1234])
        .collect();
    (
        prop::sample::select(codes),
        any::<u32>(),
        any::<u8>(),
        any::<u8>(),
    )
        .prop_map(|(code, k, jt, jf)| {
            let i = Insn { code, jt, jf, k };
            if sluice_bpf::validate::kernel_knows_opcode(code) {
                i.canonical()
            } else {
                // `unimp 0x..` keeps only the opcode.
                Insn::stmt(code, 0)
            }
        })
}

fn canonical_program() -> impl Strategy<Value = Vec<Insn>> {
    prop::collection::vec(canonical_insn(), 1..60)
}

fn any_insn() -> impl Strategy<Value = Insn> {
    (any::<u16>(), any::<u8>(), any::<u8>(), any::<u32>()).prop_map(|(code, jt, jf, k)| Insn {
        code,
        jt,
        jf,
        k,
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn d_form_round_trips(prog in canonical_program()) {
        let text = disasm(&prog, Form::D);
        prop_assert_eq!(asm(&text).map_err(|e| e.to_string()), Ok(prog), "{}", text);
    }

    #[test]
    fn numeric_forms_round_trip_anything(prog in prop::collection::vec(any_insn(), 1..40)) {
        for form in [Form::DD, Form::DDD] {
            prop_assert_eq!(asm(&disasm(&prog, form)), Ok(prog.clone()));
        }
        prop_assert_eq!(asm(&iptables(&prog)), Ok(prog.clone()));
    }

    #[test]
    fn asm_never_panics(text in "\\PC{0,200}") {
        let _ = asm(&text);
    }

    #[test]
    fn asm_never_panics_on_near_misses(
        prog in canonical_program(),
        cut in any::<prop::sample::Index>(),
        junk in "[ -~\t]{0,3}",
    ) {
        let text = disasm(&prog, Form::D);
        let at = cut.index(text.len() + 1);
        if text.is_char_boundary(at) {
            let broken = format!("{}{}{}", &text[..at], junk, &text[at..]);
            if let Err(e) = asm(&broken) {
                // Every error renders with a caret line.
                prop_assert!(e.to_string().lines().count() == 3, "{}", e);
            }
        }
    }
}
