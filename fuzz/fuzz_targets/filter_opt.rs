//! An arbitrary expression from a small grammar (built from a postfix
//! program, so that no input nests the generator's stack), compiled at
//! -O0 and optimised: both must compile or fail alike, and both programs
//! must give the same verdict on arbitrary packets.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sluice_bpf::{Meta, Program};
use sluice_filter::{ErrorKind, Options, Target, compile};
use sluice_wire::LinkType;

#[derive(Arbitrary, Debug)]
enum Op {
    Prim(u8, u16, u8),
    And,
    Or,
    Not,
}

#[derive(Arbitrary, Debug)]
struct Input {
    linktype: u8,
    live: bool,
    ops: Vec<Op>,
    packets: Vec<(Vec<u8>, u8, Option<u16>)>,
}

const DIRS: [&str; 5] = ["", "src ", "dst ", "src or dst ", "src and dst "];
const PROTOS: [&str; 12] = [
    "ip", "ip6", "tcp", "udp", "icmp", "icmp6", "arp", "sctp", "ether", "igmp", "pim", "vrrp",
];
const RELS: [&str; 6] = ["=", "!=", ">", "<", ">=", "<="];
const ARITH: [&str; 10] = ["+", "-", "*", "/", "%", "&", "|", "^", "<<", ">>"];

fn prim(k: u8, v: u16, w: u8) -> String {
    let d = DIRS[usize::from(w) % DIRS.len()];
    let p = PROTOS[usize::from(w >> 4) % PROTOS.len()];
    let b = v.to_be_bytes();
    match k % 24 {
        0 => format!("{d}host 10.{}.{}.{}", w, b[0], b[1]),
        1 => format!("{d}net 10.{}.0.0/{}", b[0], 8 + w % 25),
        2 => format!("{d}port {v}"),
        3 => format!("{p} {d}port {v}"),
        4 => format!("{d}portrange {}-{}", v % 2000, v % 3000),
        5 => format!("ip6 {d}host fd77::{v:x}"),
        6 => format!("ether {d}host 00:11:22:33:{:02x}:{:02x}", b[0], b[1]),
        7 => p.to_string(),
        8 => format!("ip proto {}", b[1]),
        9 => format!("ip6 proto {}", b[1]),
        10 => format!("{p}[{}:{}] {} {v}", w % 64, [1, 2, 4][usize::from(b[0]) % 3], RELS[usize::from(b[1]) % 6]),
        11 => format!(
            "{p}[{}] {} {} {} {}",
            w % 40,
            ARITH[usize::from(b[0]) % 10],
            1 + u32::from(b[0]) % 31,
            RELS[usize::from(b[1]) % 6],
            v % 300
        ),
        12 => format!("len {} {v}", RELS[usize::from(w) % 6]),
        13 => match w % 3 {
            0 => "vlan".to_string(),
            _ => format!("vlan {}", v % 4096),
        },
        14 => match w % 2 {
            0 => "mpls".to_string(),
            _ => format!("mpls {}", v),
        },
        15 => ["pppoed", "pppoes", "llc", "llc i", "llc s", "llc u", "stp", "ipx", "iso", "netbeui"]
            [usize::from(w) % 10]
            .to_string(),
        16 => format!("pppoes {v}"),
        17 => ["geneve", "ether broadcast", "ether multicast", "ip multicast", "ip6 multicast"]
            [usize::from(w) % 5]
            .to_string(),
        18 => format!("{} protochain {}", ["ip", "ip6", ""][usize::from(w) % 3], b[1]),
        19 => format!("tcp[tcpflags] & {} != 0", b[1]),
        20 => format!("{d}host 10.0.0.{} or {}", b[0], b[1]),
        21 => ["inbound", "outbound", "ifindex 2"][usize::from(w) % 3].to_string(),
        22 => format!("{} {v}", ["less", "greater"][usize::from(w) % 2]),
        _ => format!("ether proto {v}"),
    }
}

fn expression(ops: &[Op]) -> Option<String> {
    let mut stack: Vec<String> = Vec::new();
    for op in ops.iter().take(64) {
        match op {
            Op::Prim(k, v, w) => stack.push(prim(*k, *v, *w)),
            Op::Not => {
                let a = stack.pop()?;
                stack.push(format!("not ({a})"));
            }
            Op::And | Op::Or => {
                let b = stack.pop()?;
                let a = stack.pop()?;
                let op = if matches!(op, Op::And) { "and" } else { "or" };
                stack.push(format!("({a}) {op} ({b})"));
            }
        }
    }
    stack.pop()
}

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

fuzz_target!(|input: Input| {
    let Some(expr) = expression(&input.ops) else {
        return;
    };
    let base = Options {
        linktype: LINKTYPES[usize::from(input.linktype & 7)],
        target: if input.live { Target::LinuxSocket } else { Target::Offline },
        ..Options::default()
    };
    let o0 = compile(&expr, &Options { optimize: false, ..base });
    let o = compile(&expr, &Options { optimize: true, ..base });
    let (o0, o): (Program, Option<Program>) = match (o0, o) {
        // Both refuse (the optimised one may find first that nothing
        // matches).
        (Err(_), Err(_)) => return,
        (Ok(p), Err(e)) => {
            assert_eq!(e.kind(), ErrorKind::RejectsAll, "{expr}: only -O fails: {e}");
            (p, None)
        }
        (Err(e), Ok(_)) => panic!("{expr}: only -O0 fails: {e}"),
        (Ok(a), Ok(b)) => (a, Some(b)),
    };
    for (pkt, extra, vlan) in input.packets.iter().take(16) {
        let mut meta = Meta::default();
        if let Some(tci) = vlan {
            meta = meta.with_vlan(*tci, 0x8100);
        }
        let wire = pkt.len() as u32 + u32::from(*extra);
        let a = o0.run(pkt, wire, &meta);
        let b = o.as_ref().map_or(0, |p| p.run(pkt, wire, &meta));
        assert_eq!(a, b, "{expr}: -O0 {a}, -O {b} on {pkt:02x?}");
    }
});
