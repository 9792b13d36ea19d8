//! `sluice_filter::compile` on arbitrary text, for each supported link type
//! and both targets, optimised and not: it must never panic or overflow the
//! stack, and every error must render with its caret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice_filter::{Options, Target, compile, parse};
use sluice_wire::LinkType;

const LINKTYPES: [LinkType; 8] = [
    LinkType::ETHERNET,
    LinkType::RAW,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL,
    LinkType::LINUX_SLL2,
    LinkType::NULL,
    LinkType::LOOP,
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    if let Ok(ast) = parse::parse(&text) {
        let _ = ast.to_string();
    }
    let opts = Options {
        linktype: LINKTYPES[usize::from(sel & 7)],
        optimize: sel & 8 != 0,
        target: if sel & 16 != 0 { Target::LinuxSocket } else { Target::Offline },
        netmask: (sel & 32 != 0).then_some(std::net::Ipv4Addr::new(255, 255, 255, 0)),
        ..Options::default()
    };
    match compile(&text, &opts) {
        Ok(p) => assert!(!p.insns().is_empty()),
        Err(e) => {
            let r = e.render(&text);
            assert!(r.contains('^'));
        }
    }
});
