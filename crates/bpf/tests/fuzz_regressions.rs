//! Replays the minimised inputs that once failed a fuzz target
//! (fuzz/regressions/bpf_asm), with the target's own checks.

use std::path::PathBuf;

use sluice_bpf::{Form, asm, disasm};

#[test]
fn bpf_asm_regressions() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/bpf_asm");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions/bpf_asm") {
        let path = entry.expect("dir entry").path();
        let data = std::fs::read(&path).expect("read");
        let Ok(text) = std::str::from_utf8(&data) else {
            continue;
        };
        match asm(text) {
            Ok(insns) => {
                for form in [Form::DD, Form::DDD] {
                    assert_eq!(
                        asm(&disasm(&insns, form)).as_ref(),
                        Ok(&insns),
                        "{}",
                        path.display()
                    );
                }
            }
            Err(e) => assert_eq!(e.to_string().lines().count(), 3, "{}: {e}", path.display()),
        }
        replayed += 1;
    }
    assert!(replayed >= 1);
}
