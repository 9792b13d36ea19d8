//! `sluice_bpf::asm` on arbitrary text: never panics; what assembles
//! prints and assembles back to the same instructions, and every error
//! renders with its caret line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_bpf::{Form, asm, disasm};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match asm(text) {
        Ok(insns) => {
            for form in [Form::DD, Form::DDD] {
                assert_eq!(asm(&disasm(&insns, form)).as_ref(), Ok(&insns));
            }
        }
        Err(e) => {
            assert_eq!(e.to_string().lines().count(), 3, "{e}");
        }
    }
});
