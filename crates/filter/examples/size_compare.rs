//! Compares sluice's compiler with libpcap's on a generated corpus of
//! expressions: program sizes (shorter / equal / longer, totals) and, with
//! `--verdicts`, the verdicts of both programs on a generated packet set.
//!
//! ```text
//! cargo run -p sluice-filter --example size_compare -- [--count N] [--seed S]
//!     [--linktype NAME] [--exprs FILE] [--verdicts] [--show-longer] [--O0]
//! ```
//!
//! libpcap is called through the `sluice-pcap-oracle` development crate
//! (`pcap_compile` on a dead handle, netmask 0, and `bpf_filter`). The
//! differential tests (`tests/differential`) make the same comparison on
//! their own corpus; this is the quick look. Where libpcap's
//! optimised and unoptimised programs disagree on a packet, the
//! unoptimised one is the reference.

use std::collections::BTreeMap;

use sluice_bpf::{Insn, Meta, Semantics};
use sluice_filter::{Names, Options, compile_with_names};
use sluice_pcap_oracle as oracle;
use sluice_wire::LinkType;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    fn chance(&mut self, pct: usize) -> bool {
        self.below(100) < pct
    }
}

const HOSTS4: &[&str] = &[
    "10.0.0.1",
    "10.77.0.2",
    "192.168.1.1",
    "127.0.0.1",
    "localhost",
];
const NETS4: &[&str] = &[
    "10.0.0.0/8",
    "10.77",
    "192.168.1.0/24",
    "172.16.0.0 mask 255.240.0.0",
    "10",
    "127.0.0",
];
const HOSTS6: &[&str] = &["fd77::1", "::1", "fe80::1", "2001:db8::5"];
const NETS6: &[&str] = &["fd77::/16", "fe80::/10", "2001:db8::/32"];
const MACS: &[&str] = &[
    "00:11:22:33:44:55",
    "ff:ff:ff:ff:ff:ff",
    "00-11-22-33-44-55",
    "0011.2233.4455",
    "001122334455",
];
const PORTS: &[&str] = &[
    "80", "443", "53", "22", "http", "domain", "ssh", "6081", "0",
];
const RANGES: &[&str] = &["1-1024", "6000-6100", "80-80", "ssh-http"];
const PROTOS: &[&str] = &[
    "tcp", "udp", "icmp", "sctp", "igmp", "pim", "vrrp", "icmp6", "ah", "esp",
];

fn atom(r: &mut Rng) -> String {
    let dir = |r: &mut Rng| -> &'static str {
        const DIRS: [&str; 6] = ["", "", "src ", "dst ", "src or dst ", "src and dst "];
        DIRS[r.below(DIRS.len())]
    };
    match r.below(40) {
        0..=3 => format!(
            "{}{}host {}",
            r.pick(&["", "", "ip ", "arp ", "rarp "]),
            dir(r),
            r.pick(HOSTS4)
        ),
        4..=5 => format!("{}{}net {}", r.pick(&["", "ip "]), dir(r), r.pick(NETS4)),
        6 => format!("{}{}host {}", r.pick(&["", "ip6 "]), dir(r), r.pick(HOSTS6)),
        7 => format!("{}net {}", dir(r), r.pick(NETS6)),
        8 => format!("ether {}host {}", dir(r), r.pick(MACS)),
        9 => r
            .pick(&[
                "ether broadcast",
                "ether multicast",
                "broadcast",
                "multicast",
                "ip multicast",
                "ip6 multicast",
                "ip broadcast",
            ])
            .to_string(),
        10..=13 => format!(
            "{}{}port {}",
            r.pick(&["", "", "tcp ", "udp ", "sctp "]),
            dir(r),
            r.pick(PORTS)
        ),
        14 => format!(
            "{}{}portrange {}",
            r.pick(&["", "tcp ", "udp "]),
            dir(r),
            r.pick(RANGES)
        ),
        15..=17 => r.pick(PROTOS).to_string(),
        18 => r
            .pick(&[
                "ip", "ip6", "arp", "rarp", "atalk", "aarp", "decnet", "lat", "sca", "moprc",
                "mopdl", "iso", "stp", "ipx", "netbeui", "clnp", "esis", "isis", "l1", "l2", "iih",
                "lsp", "snp", "csnp", "psnp",
            ])
            .to_string(),
        19 => r
            .pick(&[
                "ip proto 6",
                "ip proto \\udp",
                "ip6 proto 17",
                "proto 1",
                "ip6 proto 58",
                "ether proto 0x800",
                "ether proto \\arp",
                "ether proto \\ip6",
                "proto \\tcp",
                "ip proto 47",
            ])
            .to_string(),
        20 => r
            .pick(&[
                "ip protochain 6",
                "ip6 protochain 17",
                "protochain 58",
                "ip6 protochain 44",
            ])
            .to_string(),
        21 => format!(
            "{} {}",
            r.pick(&["less", "greater"]),
            r.pick(&["60", "100", "1500", "0"])
        ),
        22..=25 => {
            let l = r.pick(&[
                "tcp[tcpflags] & tcp-syn",
                "tcp[13] & 0x12",
                "tcp[tcpflags] & (tcp-syn|tcp-ack)",
                "ip[0] & 0xf",
                "ip[2:2]",
                "udp[0:2]",
                "icmp[icmptype]",
                "icmp6[icmp6type]",
                "ether[12:2]",
                "len",
                "ip[6:2] & 0x1fff",
                "ip6[6]",
                "tcp[0:2] + tcp[2:2]",
                "ip[9] * 2 - 1",
                "link[0] & 1",
                "ip[2:2] - ((ip[0] & 0xf) << 2)",
                "arp[6:2]",
                "udp[8:4] >> 8",
                "ip[1] % 4",
                "ip[1] ^ 0xff",
                "-ip[0]",
                "igmp[0]",
                "sctp[0:2]",
            ]);
            let op = r.pick(&["=", "!=", ">", "<", ">=", "<="]);
            let v = r.pick(&[
                "0",
                "1",
                "2",
                "0x12",
                "8",
                "20",
                "64",
                "1500",
                "icmp-echo",
                "icmp6-echo",
                "tcp-syn",
                "4",
            ]);
            format!("{l} {op} {v}")
        }
        26..=27 => match r.below(3) {
            0 => "vlan".to_string(),
            _ => format!("vlan {}", r.pick(&["1", "100", "4095", "10"])),
        },
        28 => match r.below(2) {
            0 => "mpls".to_string(),
            _ => format!("mpls {}", r.pick(&["1", "100", "1048575"])),
        },
        29 => r
            .pick(&["pppoed", "pppoes", "pppoes 1", "pppoes 0x1234"])
            .to_string(),
        30 => r
            .pick(&[
                "llc", "llc i", "llc s", "llc u", "llc rr", "llc rnr", "llc ui", "llc test",
                "llc xid",
            ])
            .to_string(),
        31 => r.pick(&["geneve", "geneve 10"]).to_string(),
        32 => format!(
            "{} host {} or {}",
            r.pick(&["", "src", "dst"]),
            r.pick(HOSTS4),
            r.pick(HOSTS4)
        ),
        33 => format!("tcp port {} or {}", r.pick(PORTS), r.pick(PORTS)),
        34 => format!("not host {} and {}", r.pick(HOSTS4), r.pick(HOSTS4)),
        35 => format!("host {} and not {}", r.pick(HOSTS4), r.pick(HOSTS4)),
        36 => r
            .pick(&[
                "ip[0] = 0x45",
                "ip6[0] & 0xf0 = 0x60",
                "ether[0] & 1 = 1",
                "udp[8] = 0",
                "tcp[12] >> 4 > 5",
            ])
            .to_string(),
        37 => format!("dst port {} and (tcp or udp)", r.pick(PORTS)),
        38 => format!("net {} and not net {}", r.pick(NETS4), r.pick(NETS4)),
        _ => format!("ip src {} and dst {}", r.pick(HOSTS4), r.pick(HOSTS4)),
    }
}

fn expr(r: &mut Rng, depth: usize) -> String {
    if depth == 0 || r.chance(35) {
        let a = atom(r);
        return if r.chance(15) { format!("not {a}") } else { a };
    }
    let n = 2 + r.below(3);
    let mut s = String::new();
    for i in 0..n {
        if i > 0 {
            const OPS: [&str; 4] = [" and ", " or ", " && ", " || "];
            let op = OPS[r.below(OPS.len())];
            s.push_str(op);
        }
        let sub = expr(r, depth - 1);
        if r.chance(50) {
            if r.chance(15) {
                s.push_str("not ");
            }
            s.push('(');
            s.push_str(&sub);
            s.push(')');
        } else {
            s.push_str(&sub);
        }
    }
    s
}

/// A packet set: hand-built frames of every family, plus truncations and
/// random bytes.
fn packets(r: &mut Rng, linktype: LinkType) -> Vec<Vec<u8>> {
    fn ip4(r: &mut Rng, proto: u8, payload: &[u8], frag: bool) -> Vec<u8> {
        let ihl = if r.chance(20) { 6 } else { 5 };
        let mut h = vec![0x40 | ihl, 0, 0, 0, 0, 0, 0, 0, 64, proto, 0, 0];
        let total = ihl as usize * 4 + payload.len();
        h[2] = (total >> 8) as u8;
        h[3] = total as u8;
        if frag {
            h[6] = 0x00;
            h[7] = 0x10;
        }
        let srcs: [[u8; 4]; 5] = [
            [10, 0, 0, 1],
            [10, 77, 0, 2],
            [192, 168, 1, 1],
            [127, 0, 0, 1],
            [224, 0, 0, 5],
        ];
        {
            let v = *r.pick(&srcs[..]);
            h.extend_from_slice(&v);
        }
        let dsts: [[u8; 4]; 5] = [
            [10, 0, 0, 1],
            [10, 77, 0, 2],
            [192, 168, 1, 255],
            [255, 255, 255, 255],
            [172, 16, 3, 4],
        ];
        {
            let v = *r.pick(&dsts[..]);
            h.extend_from_slice(&v);
        }
        if ihl == 6 {
            h.extend_from_slice(&[1, 1, 1, 0]);
        }
        h.extend_from_slice(payload);
        h
    }
    fn ip6(r: &mut Rng, nh: u8, payload: &[u8]) -> Vec<u8> {
        let mut h = vec![
            0x60,
            0,
            0,
            0,
            (payload.len() >> 8) as u8,
            payload.len() as u8,
            nh,
            64,
        ];
        let addrs: [[u8; 16]; 4] = [
            [0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        ];
        {
            let v = *r.pick(&addrs[..]);
            h.extend_from_slice(&v);
        }
        {
            let v = *r.pick(&addrs[..]);
            h.extend_from_slice(&v);
        }
        h.extend_from_slice(payload);
        h
    }
    fn l4(r: &mut Rng, proto: u8) -> Vec<u8> {
        let ports: [u16; 7] = [80, 443, 53, 22, 6081, 6050, 1000];
        let sp = *r.pick(&ports);
        let dp = *r.pick(&ports);
        let mut p = vec![(sp >> 8) as u8, sp as u8, (dp >> 8) as u8, dp as u8];
        match proto {
            6 => {
                p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0]);
                p.push(0x50);
                p.push(*r.pick(&[0x02u8, 0x12, 0x10, 0x11, 0x04, 0x18]));
                p.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]);
            }
            17 => {
                p.extend_from_slice(&[0, 24, 0, 0]);
                // a Geneve header
                p.extend_from_slice(&[0, 0, 0x65, 0x58, 0, 0, 10, 0]);
                p.extend_from_slice(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 0]);
            }
            1 | 58 => {
                p = vec![
                    *r.pick(&[0u8, 3, 8, 11, 128, 129, 135]),
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                    0,
                ];
            }
            _ => p.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]),
        }
        p
    }
    let mut out = Vec::new();
    let macs: [[u8; 6]; 3] = [
        [0, 0x11, 0x22, 0x33, 0x44, 0x55],
        [0xff; 6],
        [0x01, 0, 0x5e, 0, 0, 1],
    ];
    for _ in 0..400 {
        let proto = *r.pick(&[6u8, 17, 1, 58, 132, 2, 103, 112, 51, 50, 47]);
        let l3: (u16, Vec<u8>) = match r.below(10) {
            0..=4 => {
                let p = l4(r, proto);
                {
                    let fr = r.chance(10);
                    (0x0800, ip4(r, proto, &p, fr))
                }
            }
            5..=7 => {
                let p = l4(r, proto);
                if r.chance(30) {
                    // extension headers
                    let mut ext = vec![proto, 0, 0, 0, 0, 0, 0, 0];
                    ext.extend_from_slice(&p);
                    let mut e2 = vec![*r.pick(&[0u8, 60, 43, 44]), 0, 0, 0, 0, 0, 0, 0];
                    e2[0] = 0;
                    let mut v = e2.clone();
                    v[0] = 60;
                    v.extend_from_slice(&ext);
                    (0x86dd, ip6(r, 0, &v))
                } else {
                    (0x86dd, ip6(r, proto, &p))
                }
            }
            8 => {
                let mut a = vec![0, 1, 8, 0, 6, 4, 0, *r.pick(&[1u8, 2])];
                a.extend_from_slice(&[0, 0x11, 0x22, 0x33, 0x44, 0x55, 10, 0, 0, 1]);
                a.extend_from_slice(&[0, 0, 0, 0, 0, 0, 10, 77, 0, 2]);
                (*r.pick(&[0x0806u16, 0x8035]), a)
            }
            _ => (
                *r.pick(&[0x6003u16, 0x809b, 0x8137, 0x6004]),
                vec![0x81, 0x06, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            ),
        };
        let mut f = Vec::new();
        match linktype {
            LinkType::ETHERNET => {
                {
                    let v = *r.pick(&macs[..]);
                    f.extend_from_slice(&v);
                }
                {
                    let v = *r.pick(&macs[..]);
                    f.extend_from_slice(&v);
                }
                let mut et = l3.0;
                let mut body = l3.1.clone();
                if r.chance(10) {
                    // MPLS
                    let mut m = vec![0, 0x06, 0x41, 64];
                    m.extend_from_slice(&body);
                    body = m;
                    et = 0x8847;
                }
                if r.chance(8) {
                    // PPPoE session
                    let mut pp = vec![
                        0x11,
                        0,
                        0x12,
                        0x34,
                        0,
                        (body.len() + 2) as u8,
                        0,
                        if et == 0x86dd { 0x57 } else { 0x21 },
                    ];
                    pp.extend_from_slice(&body);
                    body = pp;
                    et = 0x8864;
                }
                if r.chance(8) {
                    // 802.3 + LLC
                    let llc = *r.pick(&[
                        [0x42u8, 0x42, 0x03],
                        [0xaa, 0xaa, 0x03],
                        [0xe0, 0xe0, 0x03],
                        [0xfe, 0xfe, 0x03],
                        [0xf0, 0xf0, 0x01],
                        [0x06, 0x06, 0xaf],
                    ]);
                    let mut b = llc.to_vec();
                    if llc[0] == 0xaa {
                        b.extend_from_slice(&[0, 0, 0, (et >> 8) as u8, et as u8]);
                    } else if llc[0] == 0xfe {
                        b.extend_from_slice(&[
                            *r.pick(&[0x81u8, 0x82, 0x83]),
                            0,
                            0,
                            0,
                            *r.pick(&[15u8, 16, 17, 18, 20, 24, 25]),
                        ]);
                    }
                    b.extend_from_slice(&body);
                    et = b.len() as u16;
                    body = b;
                }
                let tags = r.below(4);
                for _ in 0..tags.min(2) {
                    let tpid = *r.pick(&[0x8100u16, 0x88a8, 0x9100]);
                    f.extend_from_slice(&tpid.to_be_bytes());
                    let vid = *r.pick(&[1u16, 100, 4095, 10]);
                    f.extend_from_slice(&vid.to_be_bytes());
                }
                f.extend_from_slice(&et.to_be_bytes());
                f.extend_from_slice(&body);
            }
            LinkType::LINUX_SLL => {
                f.extend_from_slice(&[0, *r.pick(&[0u8, 4]), 0, 1, 0, 6]);
                f.extend_from_slice(&[0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0]);
                f.extend_from_slice(&l3.0.to_be_bytes());
                f.extend_from_slice(&l3.1);
            }
            LinkType::LINUX_SLL2 => {
                f.extend_from_slice(&l3.0.to_be_bytes());
                f.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, *r.pick(&[0u8, 4]), 6]);
                f.extend_from_slice(&[0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0]);
                f.push(0);
                f.extend_from_slice(&l3.1);
            }
            LinkType::NULL => {
                f.extend_from_slice(&(if l3.0 == 0x86dd { 10u32 } else { 2 }).to_le_bytes());
                f.extend_from_slice(&l3.1);
            }
            LinkType::LOOP => {
                f.extend_from_slice(&(if l3.0 == 0x86dd { 24u32 } else { 2 }).to_be_bytes());
                f.extend_from_slice(&l3.1);
            }
            _ => f.extend_from_slice(&l3.1),
        }
        if r.chance(10) {
            let cut = r.below(f.len() + 1);
            f.truncate(cut);
        }
        out.push(f);
    }
    for _ in 0..40 {
        let n = r.below(80);
        out.push((0..n).map(|_| r.next() as u8).collect());
    }
    out
}

fn to_insns(p: &[oracle::RawInsn]) -> Vec<Insn> {
    p.iter()
        .map(|&(code, jt, jf, k)| Insn { code, jt, jf, k })
        .collect()
}

/// Compiles with libpcap on a dead handle of `linktype`, netmask 0.
fn libpcap(e: &str, linktype: LinkType, optimize: bool) -> Result<Vec<oracle::RawInsn>, String> {
    oracle::compile_with(
        e,
        &oracle::Config {
            linktype: linktype.0,
            optimize,
            netmask: Some(0),
            ..oracle::Config::default()
        },
    )
}

/// libpcap's verdict (accepts or not) on a whole packet.
fn accepts(p: &[oracle::RawInsn], pkt: &[u8]) -> bool {
    oracle::run(p, pkt, pkt.len() as u32).is_ok_and(|v| v != 0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let flag = |name: &str| args.iter().any(|a| a == name);
    let count: usize = arg("--count").and_then(|s| s.parse().ok()).unwrap_or(1000);
    let seed: u64 = arg("--seed").and_then(|s| s.parse().ok()).unwrap_or(1);
    let linktype = arg("--linktype")
        .and_then(|s| LinkType::from_name(&s))
        .unwrap_or(LinkType::ETHERNET);
    let verdicts = flag("--verdicts");
    let show_longer = flag("--show-longer");
    let o0 = flag("--O0");
    let mut r = Rng(seed);
    let exprs: Vec<String> = match arg("--exprs") {
        Some(f) => std::fs::read_to_string(f)
            .expect("reading the expression file")
            .lines()
            .map(str::to_string)
            .filter(|l| !l.trim().is_empty())
            .collect(),
        None => (0..count).map(|_| expr(&mut r, 2)).collect(),
    };
    let pkts = packets(&mut r, linktype);
    let opts = Options {
        linktype,
        optimize: !o0,
        netmask: Some(std::net::Ipv4Addr::UNSPECIFIED),
        ..Options::default()
    };
    let names = Names::system();
    let (mut shorter, mut equal, mut longer) = (0usize, 0usize, 0usize);
    let (mut ours_total, mut theirs_total) = (0usize, 0usize);
    let (mut both_err, mut only_ours_err, mut only_theirs_err) = (0, 0, 0);
    let mut pairs = 0usize;
    let mut disagree = 0usize;
    let mut undefined = 0usize;
    let mut worst: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for e in &exprs {
        let ours = compile_with_names(e, &opts, names);
        let theirs = libpcap(e, linktype, !o0);
        let theirs_o0 = libpcap(e, linktype, false);
        match (&ours, &theirs) {
            (Err(_), Err(_)) => {
                both_err += 1;
                continue;
            }
            (Err(oe), Ok(_)) => {
                only_ours_err += 1;
                println!("ONLY OURS REJECT: {e}\n    {oe}");
                continue;
            }
            (Ok(_), Err(te)) => {
                only_theirs_err += 1;
                if !te.to_string().contains("rejects all") || verdicts {
                    println!("ONLY LIBPCAP REJECTS: {e}\n    {te}");
                }
                continue;
            }
            _ => {}
        }
        let (Ok(ours), Ok(theirs)) = (ours, theirs) else {
            continue;
        };
        let tins = to_insns(&theirs);
        let (a, b) = (ours.len(), tins.len());
        ours_total += a;
        theirs_total += b;
        match a.cmp(&b) {
            std::cmp::Ordering::Less => shorter += 1,
            std::cmp::Ordering::Equal => equal += 1,
            std::cmp::Ordering::Greater => {
                longer += 1;
                worst
                    .entry(a as i64 - b as i64)
                    .or_default()
                    .push(e.clone());
            }
        }
        if verdicts {
            let ours = ours.to_semantics(Semantics::Libpcap);
            let theirs_o0 = theirs_o0.ok();
            // libpcap leaves scratch memory uninitialised: a program that
            // loads a word no path stored has no defined verdict.
            if let Some(t0) = &theirs_o0
                && let Err(e) = sluice_bpf::validate(&to_insns(t0))
                && matches!(
                    e.kind(),
                    sluice_bpf::ValidateErrorKind::UninitializedMemory { .. }
                )
            {
                undefined += 1;
                continue;
            }
            let mut shown = false;
            for p in &pkts {
                pairs += 1;
                let v_ours = ours.run(p, p.len() as u32, &Meta::default()) != 0;
                let v_theirs = accepts(&theirs, p);
                let reference = match &theirs_o0 {
                    Some(t0) if accepts(t0, p) != v_theirs => accepts(t0, p),
                    _ => v_theirs,
                };
                if v_ours != reference {
                    disagree += 1;
                    if !shown {
                        shown = true;
                        let hex: String = p.iter().map(|b| format!("{b:02x}")).collect();
                        println!(
                            "DISAGREE: {e}\n    ours={v_ours} libpcap={reference} packet={hex}"
                        );
                    }
                }
            }
        }
    }
    if show_longer {
        for (d, es) in worst.iter().rev() {
            for e in es {
                println!("LONGER by {d}: {e}");
            }
        }
    }
    let compiled = shorter + equal + longer;
    println!(
        "expressions {} compiled by both {compiled}: shorter {shorter} equal {equal} longer {longer} ({:.1}% not longer)",
        exprs.len(),
        100.0 * (shorter + equal) as f64 / compiled.max(1) as f64
    );
    println!("instructions: ours {ours_total} libpcap {theirs_total}");
    println!(
        "rejected by both {both_err}, only by us {only_ours_err}, only by libpcap {only_theirs_err}"
    );
    if verdicts {
        println!(
            "verdict pairs {pairs}, disagreements {disagree} (expressions skipped: libpcap reads unset scratch memory: {undefined})"
        );
    }
}
