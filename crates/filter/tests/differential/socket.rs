//! The Linux socket target on Ethernet: the kernel strips the outer VLAN
//! tag (TPID 0x8100 or 0x88a8) into metadata, and the program reads it
//! with ancillary loads. libpcap's userland `bpf_filter` cannot run those
//! loads, so the checks here are:
//!
//! - our socket program on (untagged frame + `Meta` with the tag) gives our
//!   offline program's verdict on the tagged frame, for expressions that
//!   begin with `vlan` (the ones whose meaning does not depend on where
//!   the tag is), and on every untagged frame for every expression;
//! - libpcap's own program for a live Linux socket — what `tcpdump -d`
//!   prints when it opens an Ethernet interface, here a veth in a network
//!   namespace this test creates — run in our VM with the kernel's
//!   semantics gives our socket program's verdicts.

use std::process::Command;

use sluice_bpf::{Meta, Program, Semantics};
use sluice_filter::Target;

use crate::packets::Frame;
use crate::{hex, ours, world};

/// A frame as the socket sees it: the bytes with the outer tag removed,
/// and the metadata the kernel fills in.
pub fn as_socket_sees(frame: &Frame) -> (Vec<u8>, Meta) {
    let b = &frame.bytes;
    let ethertype = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let mut meta = Meta {
        hatype: 1,
        ..Meta::default()
    };
    if b.len() >= 18 && matches!(ethertype(12), 0x8100 | 0x88a8) {
        let tpid = ethertype(12);
        let tci = ethertype(14);
        let mut bytes = b[..12].to_vec();
        bytes.extend_from_slice(&b[16..]);
        meta = meta.with_vlan(tci, tpid);
        meta.protocol = ethertype(16);
        (bytes, meta)
    } else {
        meta.protocol = if b.len() >= 14 { ethertype(12) } else { 0 };
        (b.clone(), meta)
    }
}

fn socket_program(text: &str, netmask: Option<u32>, optimize: bool) -> Option<Program> {
    sluice_filter::compile(
        text,
        &ours::options(1, optimize, netmask, Target::LinuxSocket),
    )
    .ok()
}

/// Our socket program on the stripped frame agrees with our offline
/// program on the frame as captured.
#[test]
fn socket_target_sees_vlan_tags_out_of_band() {
    let world = world();
    let link = &world.links[0];
    assert_eq!(link.linktype, 1);
    let frames: Vec<&Frame> = link
        .frames
        .iter()
        .filter(|f| f.bytes.len() as u32 == f.wire_len && f.bytes.len() >= 14)
        .collect();
    let (mut pairs, mut tagged_pairs, mut exprs) = (0usize, 0usize, 0usize);
    let mut bad = Vec::new();
    for (n, case) in link.valid.iter().enumerate() {
        if case.pcap.o0.is_err() {
            continue;
        }
        let vlan_first = case.expr.text.starts_with("vlan");
        if !vlan_first && n % 4 != 0 {
            continue;
        }
        let Ok(offline) = ours::compile(&case.expr.text, 1, true, case.expr.netmask) else {
            continue;
        };
        let Some(socket) = socket_program(&case.expr.text, case.expr.netmask, true) else {
            bad.push(format!(
                "{:?}: compiles offline but not for the socket",
                case.expr.text
            ));
            continue;
        };
        exprs += 1;
        let offline = offline.to_semantics(Semantics::Libpcap);
        let socket = socket.to_semantics(Semantics::Kernel);
        for f in &frames {
            let (bytes, meta) = as_socket_sees(f);
            let tagged = meta.vlan_tci.is_some();
            if tagged && !vlan_first {
                continue;
            }
            pairs += 1;
            tagged_pairs += usize::from(tagged);
            let want = offline.run(&f.bytes, f.wire_len, &Meta::default());
            let got = socket.run(&bytes, bytes.len() as u32, &meta);
            if want != got {
                bad.push(format!(
                    "{:?} on {}: offline {want}, socket {got} (meta {meta:?})\n{}  socket program:\n{}",
                    case.expr.text,
                    f.label,
                    hex(&f.bytes),
                    sluice_pcap_oracle::image(&ours::raw(&socket))
                ));
                break;
            }
        }
    }
    println!(
        "\nsocket target: {exprs} expressions, {pairs} pairs ({tagged_pairs} with the tag in metadata); {} disagreements",
        bad.len()
    );
    for b in bad.iter().take(10) {
        println!("{b}");
    }
    assert!(tagged_pairs > 1000, "only {tagged_pairs} tagged pairs");
    assert!(
        bad.is_empty(),
        "seed {:#x}: {} socket-target disagreements",
        world.seed,
        bad.len()
    );
}

/// A network namespace with a veth pair, removed on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn create() -> Result<Netns, String> {
        let name = format!("sluice-filtertest-{}", std::process::id());
        run("ip", &["netns", "add", &name])?;
        let ns = Netns { name };
        run(
            "ip",
            &[
                "-n", &ns.name, "link", "add", "v0", "type", "veth", "peer", "name", "v1",
            ],
        )?;
        run("ip", &["-n", &ns.name, "link", "set", "v0", "up"])?;
        Ok(ns)
    }

    /// libpcap's unoptimised program for a live capture on the veth.
    fn live_program(&self, expr: &str) -> Result<Vec<sluice_bpf::Insn>, LiveError> {
        let out = Command::new("ip")
            .args([
                "netns", "exec", &self.name, "tcpdump", "-ddd", "-O", "-i", "v0", "--", expr,
            ])
            .output()
            .map_err(|e| LiveError::Broken(format!("running tcpdump: {e}")))?;
        if !out.status.success() {
            return Err(LiveError::Rejected(format!(
                "tcpdump -ddd -O -i v0 {expr:?}: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        self.parse_ddd(&out.stdout).map_err(LiveError::Broken)
    }

    fn parse_ddd(&self, stdout: &[u8]) -> Result<Vec<sluice_bpf::Insn>, String> {
        let text = String::from_utf8_lossy(stdout);
        let mut lines = text.lines();
        let count: usize = lines
            .next()
            .and_then(|l| l.trim().parse().ok())
            .ok_or_else(|| format!("tcpdump -ddd printed no count: {text:?}"))?;
        let insns: Vec<sluice_bpf::Insn> = lines
            .map(|l| {
                let v: Vec<u32> = l
                    .split_whitespace()
                    .filter_map(|w| w.parse().ok())
                    .collect();
                match v[..] {
                    [code, jt, jf, k] => Ok(sluice_bpf::Insn {
                        code: code as u16,
                        jt: jt as u8,
                        jf: jf as u8,
                        k,
                    }),
                    _ => Err(format!("bad -ddd line {l:?}")),
                }
            })
            .collect::<Result<_, _>>()?;
        if insns.len() != count {
            return Err(format!(
                "tcpdump announced {count} instructions, printed {}",
                insns.len()
            ));
        }
        Ok(insns)
    }
}

/// Why libpcap gave no live program.
enum LiveError {
    /// tcpdump refused the expression.
    Rejected(String),
    /// tcpdump could not run or printed something unreadable.
    Broken(String),
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn run(cmd: &str, args: &[&str]) -> Result<(), String> {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .map_err(|e| format!("running {cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// libpcap's live-capture program (from `tcpdump -ddd -O -i` on a veth in
/// a namespace of our own) and our socket program give the same verdicts
/// on the frames as the socket sees them. Needs root for the namespace;
/// without it the test fails with the reason.
#[test]
fn socket_target_matches_libpcap_live_programs() {
    let world = world();
    let link = &world.links[0];
    let ns = Netns::create().unwrap_or_else(|e| {
        panic!(
            "cannot build the namespace for libpcap's live programs (needs root, ip, tcpdump): {e}"
        )
    });
    let frames: Vec<(Vec<u8>, Meta, &Frame)> = link
        .frames
        .iter()
        .filter(|f| f.bytes.len() as u32 == f.wire_len && f.bytes.len() >= 14)
        .map(|f| {
            let (b, m) = as_socket_sees(f);
            (b, m, f)
        })
        .collect();
    let (mut exprs, mut pairs, mut refused, mut live_rejected) = (0usize, 0usize, 0usize, 0usize);
    // A trivial expression must work, or the setup is broken.
    if let Err(LiveError::Broken(e) | LiveError::Rejected(e)) = ns.live_program("ip") {
        panic!("tcpdump cannot compile for the veth: {e}");
    }
    let mut bad = Vec::new();
    let chosen = link
        .valid
        .iter()
        .filter(|c| c.pcap.o0.is_ok())
        .enumerate()
        .filter(|(n, c)| {
            c.expr.text.starts_with("vlan") || c.expr.text.contains(" vlan") || n % 25 == 0
        })
        .map(|(_, c)| c)
        .take(100);
    for case in chosen {
        // `ip broadcast` needs the interface's netmask, which the veth has
        // none of; those expressions are compared offline only.
        if case.expr.text.contains("ip broadcast") {
            continue;
        }
        let ours = socket_program(&case.expr.text, case.expr.netmask, true);
        let live = match ns.live_program(&case.expr.text) {
            Ok(p) => p,
            Err(LiveError::Rejected(e)) => {
                // libpcap refuses some expressions only for a live
                // socket (`protochain` after `vlan`: the offset is no
                // longer constant); so must we.
                live_rejected += 1;
                if ours.is_some() {
                    bad.push(format!(
                        "{:?}: libpcap rejects it for a live socket ({e}), we accept it",
                        case.expr.text
                    ));
                }
                continue;
            }
            Err(LiveError::Broken(e)) => panic!("{e}"),
        };
        let Ok(live) = Program::with_semantics(live, Semantics::Kernel) else {
            // libpcap's protochain jumps backwards: the kernel refuses it
            // (libpcap then filters in user space).
            refused += 1;
            continue;
        };
        let Some(ours) = ours else {
            bad.push(format!(
                "{:?}: we reject it for the socket target",
                case.expr.text
            ));
            continue;
        };
        let ours = ours.to_semantics(Semantics::Kernel);
        exprs += 1;
        for (bytes, meta, f) in &frames {
            pairs += 1;
            let want = live.run(bytes, bytes.len() as u32, meta);
            let got = ours.run(bytes, bytes.len() as u32, meta);
            if want != got {
                bad.push(format!(
                    "{:?} on {} as the socket sees it: libpcap live {want}, ours {got} (meta {meta:?})\n{}  libpcap live program:\n{}  ours:\n{}",
                    case.expr.text,
                    f.label,
                    hex(bytes),
                    sluice_pcap_oracle::image(&ours::raw(&live)),
                    sluice_pcap_oracle::image(&ours::raw(&ours)),
                ));
                break;
            }
        }
    }
    println!(
        "\nlibpcap live programs: {exprs} expressions, {pairs} pairs, {refused} refused by the kernel's rules (protochain), {live_rejected} rejected by libpcap for a live socket; {} disagreements",
        bad.len()
    );
    for b in bad.iter().take(10) {
        println!("{b}");
    }
    assert!(exprs >= 20, "only {exprs} expressions compared");
    assert!(
        bad.is_empty(),
        "seed {:#x}: {} disagreements with libpcap's live programs",
        world.seed,
        bad.len()
    );
}
