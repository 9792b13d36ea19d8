//! The Linux socket target on Ethernet: the kernel strips the outer VLAN
//! tag (TPID 0x8100 or 0x88a8) into metadata, and the program reads it
//! with ancillary loads. libpcap's userland `bpf_filter` cannot run those
//! loads, so the checks here are:
//!
//! - our socket program on (untagged frame + `Meta` with the tag) gives our
//!   offline program's verdict on the tagged frame, for expressions that
//!   begin with `vlan` and do not read the length (which the socket sees
//!   4 bytes shorter), and on untagged frames for every expression
//!   without `vlan` or beginning with it. (After a `vlan` in
//!   mid-expression the two targets part ways by design, as libpcap's do:
//!   a capture file's program moves the offsets for everything after
//!   `vlan` in the text, a live program only on the paths where `vlan`
//!   looked for a tag in the bytes.)
//! - libpcap's own program for a live Linux socket — what `tcpdump -d`
//!   prints when it opens an Ethernet interface, here a veth in a network
//!   namespace this test creates — gives our socket program's verdicts:
//!   run in our VM with the kernel's semantics where the kernel takes the
//!   program, and as libpcap's userland filter runs it where the kernel
//!   refuses it (a backward jump, a scratch word read before a store).
//!   `live_kernel.rs` checks the VM against the kernel itself.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

use sluice_bpf::{Meta, Program, Semantics};
use sluice_filter::{ErrorKind, Target};

use crate::exprgen::Family;
use crate::packets::Frame;
use crate::refvm::{self, Aux};
use crate::{conformance, hex, ours, world};

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

/// What libpcap's userland filter is handed for a frame with `meta`.
fn aux_of(meta: &Meta) -> Aux {
    match meta.vlan_tci {
        Some(tci) => Aux {
            vlan_tag_present: 1,
            vlan_tag: u32::from(tci & 0x0fff),
        },
        None => Aux::default(),
    }
}

fn socket_compile(
    text: &str,
    netmask: Option<u32>,
    optimize: bool,
) -> Result<Program, sluice_filter::CompileError> {
    sluice_filter::compile(
        text,
        &ours::options(1, optimize, netmask, Target::LinuxSocket),
    )
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
    let mut refused = Vec::new();
    let mut bad = Vec::new();
    for (n, case) in link.valid.iter().enumerate() {
        if case.pcap.o0.is_err() {
            continue;
        }
        let vlan_first = case.expr.text.starts_with("vlan");
        let words: Vec<&str> = case
            .expr
            .text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .collect();
        let has_vlan = case.expr.families.contains(&Family::Vlan) || words.contains(&"vlan");
        // The socket sees a tagged frame 4 bytes shorter (`len`, `less`,
        // `greater` read that length), as libpcap's live programs do.
        let reads_len = words
            .iter()
            .any(|w| matches!(*w, "len" | "less" | "greater"));
        if !vlan_first && n % 4 != 0 {
            continue;
        }
        if has_vlan && !vlan_first {
            // The targets differ by design here; the comparison with
            // libpcap's live programs covers these expressions.
            continue;
        }
        let Ok(offline) = ours::compile(&case.expr.text, 1, true, case.expr.netmask) else {
            continue;
        };
        let socket = match socket_compile(&case.expr.text, case.expr.netmask, true) {
            Ok(p) => p,
            // What libpcap refuses only for a live socket (`protochain`
            // after `vlan`) we refuse too; whether libpcap does is checked
            // against tcpdump below.
            Err(e) if e.kind() == ErrorKind::Unsupported => {
                refused.push(case.expr.text.clone());
                continue;
            }
            Err(e) => {
                bad.push(format!(
                    "{:?}: compiles offline but not for the socket:\n{}",
                    case.expr.text,
                    e.render(&case.expr.text)
                ));
                continue;
            }
        };
        exprs += 1;
        let offline = offline.to_semantics(Semantics::Libpcap);
        let socket = socket.to_semantics(Semantics::Kernel);
        for f in &frames {
            let (bytes, meta) = as_socket_sees(f);
            let tagged = meta.vlan_tci.is_some();
            if tagged && (!vlan_first || reads_len) {
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
        "\nsocket target: {exprs} expressions, {pairs} pairs ({tagged_pairs} with the tag in metadata), {} refused for the socket only; {} disagreements",
        refused.len(),
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
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "sluice-filtertest-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
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

    /// Creates the namespace, or fails the test with the reason.
    fn create_or_fail() -> Netns {
        let ns = Netns::create().unwrap_or_else(|e| {
            panic!(
                "cannot build the namespace for libpcap's live programs (needs root, ip, tcpdump): {e}"
            )
        });
        // A trivial expression must work, or the setup is broken.
        if let Err(LiveError::Broken(e) | LiveError::Rejected(e)) = ns.live_program("ip") {
            panic!("tcpdump cannot compile for the veth: {e}");
        }
        ns
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
        parse_ddd(&out.stdout).map_err(LiveError::Broken)
    }
}

/// Reads tcpdump's `-ddd` output.
fn parse_ddd(stdout: &[u8]) -> Result<Vec<sluice_bpf::Insn>, String> {
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

/// libpcap's live program as a live capture runs it: in the kernel when
/// the kernel takes it (our VM with the kernel's semantics stands in; the
/// live kernel test checks the two agree), else in libpcap's userland
/// filter.
enum LiveRef {
    Kernel(Program),
    Userland(Vec<sluice_pcap_oracle::RawInsn>),
}

/// The verdict of a live reference, `None` where libpcap's userland filter
/// reads a scratch word no path stored (its verdict is then undefined).
impl LiveRef {
    fn new(live: Vec<sluice_bpf::Insn>) -> LiveRef {
        let raw = live.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect();
        match Program::with_semantics(live, Semantics::Kernel) {
            Ok(p) => LiveRef::Kernel(p),
            Err(_) => LiveRef::Userland(raw),
        }
    }

    fn run(&self, bytes: &[u8], meta: &Meta) -> Option<u32> {
        match self {
            LiveRef::Kernel(p) => Some(p.run(bytes, bytes.len() as u32, meta)),
            LiveRef::Userland(raw) => {
                let out = refvm::run_live(raw, bytes, bytes.len() as u32, aux_of(meta));
                (!out.uninit).then_some(out.verdict)
            }
        }
    }

    fn listing(&self) -> String {
        match self {
            LiveRef::Kernel(p) => sluice_pcap_oracle::image(&ours::raw(p)),
            LiveRef::Userland(raw) => sluice_pcap_oracle::image(raw),
        }
    }
}

/// libpcap's live-capture program (from `tcpdump -ddd -O -i` on a veth in
/// a namespace of our own) and our socket program give the same verdicts
/// on the frames as the socket sees them; where we prove that an
/// expression rejects every packet, libpcap's program accepts none of
/// them; what libpcap refuses for a live capture we refuse. Needs root
/// for the namespace; without it the test fails with the reason.
#[test]
fn socket_target_matches_libpcap_live_programs() {
    let world = world();
    let link = &world.links[0];
    let ns = Netns::create_or_fail();
    let frames: Vec<(Vec<u8>, Meta, &Frame)> = link
        .frames
        .iter()
        .filter(|f| f.bytes.len() as u32 == f.wire_len && f.bytes.len() >= 14)
        .map(|f| {
            let (b, m) = as_socket_sees(f);
            (b, m, f)
        })
        .collect();
    let (mut exprs, mut pairs, mut userland, mut undefined) = (0usize, 0usize, 0usize, 0usize);
    let (mut live_rejected, mut rejects_all) = (0usize, 0usize);
    let mut bad = Vec::new();
    let offline_ok =
        |c: &&crate::Case| ours::compile(&c.expr.text, 1, true, c.expr.netmask).is_ok();
    let chosen: Vec<&crate::Case> = link
        .valid
        .iter()
        .filter(|c| c.pcap.o0.is_ok())
        .enumerate()
        .filter(|(n, c)| {
            c.expr.text.starts_with("vlan") || c.expr.text.contains(" vlan") || n % 25 == 0
        })
        .map(|(_, c)| c)
        .take(100)
        // Every expression we refuse for the socket only, to hold the
        // refusals to libpcap's.
        .chain(link.valid.iter().filter(|c| {
            c.pcap.o0.is_ok()
                && offline_ok(c)
                && socket_compile(&c.expr.text, c.expr.netmask, false).is_err()
        }))
        .collect();
    for case in chosen {
        // `ip broadcast` needs the interface's netmask, which the veth has
        // none of; those expressions are compared offline only.
        if case.expr.text.contains("ip broadcast") {
            continue;
        }
        let text = &case.expr.text;
        let ours = socket_compile(text, case.expr.netmask, true);
        let live = match ns.live_program(text) {
            Ok(p) => LiveRef::new(p),
            Err(LiveError::Rejected(e)) => {
                // libpcap refuses some expressions only for a live
                // socket (`protochain` after `vlan`: the offset is no
                // longer constant); so must we.
                live_rejected += 1;
                if ours.is_ok() {
                    bad.push(format!(
                        "{text:?}: libpcap rejects it for a live socket ({e}), we accept it"
                    ));
                }
                continue;
            }
            Err(LiveError::Broken(e)) => panic!("{e}"),
        };
        userland += usize::from(matches!(live, LiveRef::Userland(_)));
        let ours = match ours {
            Ok(p) => p.to_semantics(Semantics::Kernel),
            Err(e) if e.kind() == ErrorKind::RejectsAll => {
                // Our optimiser proved what libpcap's did not: its
                // program must accept none of the frames.
                rejects_all += 1;
                if let Some((_, _, f)) = frames
                    .iter()
                    .find(|(b, m, _)| live.run(b, m).is_some_and(|v| v != 0))
                {
                    bad.push(format!(
                        "{text:?}: we prove it rejects every packet; libpcap's live program accepts {}\n{}",
                        f.label,
                        live.listing()
                    ));
                }
                continue;
            }
            Err(e) => {
                bad.push(format!(
                    "{text:?}: we reject it for the socket target, libpcap does not:\n{}",
                    e.render(text)
                ));
                continue;
            }
        };
        exprs += 1;
        for (bytes, meta, f) in &frames {
            pairs += 1;
            let Some(want) = live.run(bytes, meta) else {
                undefined += 1;
                continue;
            };
            let got = ours.run(bytes, bytes.len() as u32, meta);
            if want != got {
                bad.push(format!(
                    "{text:?} on {} as the socket sees it: libpcap live {want}, ours {got} (meta {meta:?})\n{}  libpcap live program:\n{}  ours:\n{}",
                    f.label,
                    hex(bytes),
                    live.listing(),
                    sluice_pcap_oracle::image(&ours::raw(&ours)),
                ));
                break;
            }
        }
    }
    println!(
        "\nlibpcap live programs: {exprs} expressions, {pairs} pairs ({undefined} where libpcap's program reads a scratch word no path stored); {userland} programs the kernel refuses (compared as libpcap's userland filter runs them); {live_rejected} rejected by libpcap for a live socket; {rejects_all} that only our optimiser proves reject everything; {} disagreements",
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

/// The socket verdicts of the conformance file are libpcap's: its live
/// program gives each on the frame as the socket sees it.
#[test]
fn conformance_socket_cases_hold_for_libpcap_live() {
    let cases = conformance::load().unwrap_or_else(|e| panic!("{e}"));
    let ns = Netns::create_or_fail();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for c in cases.iter().filter(|c| c.linktype == 1) {
        let Some(want) = c.socket else { continue };
        let live = match ns.live_program(&c.expr) {
            Ok(p) => LiveRef::new(p),
            Err(LiveError::Rejected(e) | LiveError::Broken(e)) => {
                wrong.push(format!("line {}: {e}", c.line));
                continue;
            }
        };
        let frame = Frame {
            label: c.name.clone(),
            bytes: c.packet.clone(),
            wire_len: c.wire_len,
        };
        let (bytes, meta) = as_socket_sees(&frame);
        checked += 1;
        match live.run(&bytes, &meta) {
            Some(v) if v == want => {}
            got => wrong.push(format!(
                "line {} ({}): libpcap's live program gives {got:?}, the file says {want}\n{}",
                c.line,
                c.name,
                live.listing()
            )),
        }
    }
    assert!(checked >= 3, "only {checked} socket cases");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
