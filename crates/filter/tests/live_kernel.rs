//! Live: programs compiled for the Linux socket target (`--kernel`),
//! attached to AF_PACKET sockets in a lab, let through exactly the frames
//! the VM accepts, VLAN-tagged frames included; and exactly those that
//! libpcap's own program for a live capture lets through.
//!
//! The lab's host side sends the Ethernet corpus of the differential
//! tests (single tags of each TPID, QinQ stacks, MPLS, PPPoE, LLC, ARP,
//! IPv4 and IPv6 with options and extension headers, …) out of its
//! `eth0`. Two places see each frame:
//!
//! - the middle's `up0` receives it: the kernel has moved the outer
//!   0x8100/0x88a8 tag into the packet's metadata (`SKF_AD_VLAN_TAG*`),
//!   as on any real receive path;
//! - the host's `eth0` sees its own copy going out: tags are still in the
//!   bytes and the metadata says nothing, which is the path where a live
//!   program falls back to reading the tag inline.
//!
//! On each side one socket without a filter records every frame with the
//! metadata the kernel gave it; every other socket carries one program.
//! What a program's socket received must be, in order, the recorded
//! frames the VM accepts when it runs the same program on the bytes the
//! kernel filtered and a `Meta` built from the ring's VLAN tag, packet
//! type, protocol and interface. libpcap's program for the expression
//! (`tcpdump -ddd -O -i`, in the same lab) is attached too, and what its
//! socket received must be what ours did.
//!
//! Needs root (CI runs as root): without it, or without `ip` or
//! `tcpdump`, the test fails with the reason. Every loop is bounded in
//! count and time; the lab goes away on drop, also when the test panics.

// Modules shared with the differential tests: not all of their items are
// used here.
#![allow(dead_code)]

#[path = "differential/exprgen.rs"]
mod exprgen;
#[path = "differential/packets.rs"]
mod packets;
#[path = "differential/rng.rs"]
mod rng;
#[path = "differential/values.rs"]
mod values;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use sluice_bpf::{Insn, Meta, Program, Semantics};
use sluice_filter::{Options, Target};
use sluice_linux::RingConfig;
use sluice_linux::block::PacketType;
use sluice_linux::capture::{Capture, CaptureConfig, Next};
use sluice_linux::lab::{Lab, LabOptions, Ns};
use sluice_linux::tx::{TxConfig, TxSocket};

use exprgen::Gen;
use rng::Rng;

/// The seed of the expressions and frames (fixed: a failure reproduces).
const SEED: u64 = 0x5111_ce00_11fe;
/// Expressions attached.
const EXPRESSIONS: usize = 300;
/// Frames sent per batch of programs.
const FRAMES: usize = 400;
/// Programs (ours and libpcap's) attached at once per side.
const BATCH: usize = 25;
/// Threads opening and closing sockets.
const PARALLEL: usize = 16;

/// One frame as a socket received it.
#[derive(Clone, Debug)]
struct Seen {
    /// The bytes the filter ran on (an outer tag the kernel took out is
    /// not in them).
    data: Vec<u8>,
    /// The frame as sent (with its tag put back), to know it is ours.
    whole: Vec<u8>,
    /// The metadata the filter could read.
    meta: Meta,
    /// `skb->len` when the filter ran.
    len: u32,
}

/// Where frames are seen.
#[derive(Clone, Copy, Debug)]
enum Side {
    /// The middle's `up0`, receiving.
    Received,
    /// The host's `eth0`, sending.
    Sent,
}

impl Side {
    fn place(self) -> (Ns, &'static str) {
        match self {
            Side::Received => (Ns::Middle, "up0"),
            Side::Sent => (Ns::Host, "eth0"),
        }
    }
}

/// How long the kernel keeps a block before handing it over partly
/// filled. Long, so that a burst fills whole blocks (a short one splits
/// it over many small ones, and the ring runs out of blocks while the
/// sender is still going); the reader waits it out once per burst.
const BLOCK_TIMEOUT: Duration = Duration::from_millis(60);

/// A ring with room for twice `bytes` of frames.
fn ring(bytes: usize) -> RingConfig {
    let block_size = 1 << 16;
    RingConfig {
        block_size,
        block_count: 2 * bytes / block_size + 4,
        frame_size: 2048,
        block_timeout: BLOCK_TIMEOUT,
    }
}

/// Opens one capture per filter on `side` (in one visit to its
/// namespace).
fn open_all(
    lab: &Lab,
    side: Side,
    filters: Vec<Option<Vec<Insn>>>,
    ring_bytes: usize,
) -> Vec<Result<Capture, String>> {
    let (ns, dev) = side.place();
    let open = move |filter: Option<Vec<Insn>>| {
        let mut cfg = CaptureConfig::new(dev);
        cfg.ring = ring(ring_bytes);
        cfg.filter = filter;
        // A veth hands every frame to packet sockets anyway.
        cfg.promiscuous = false;
        Capture::open(&cfg).map_err(|e| e.to_string())
    };
    // Setting up a ring waits for the kernel's RCU grace period; opened
    // side by side, the sockets share the waits. Threads started in the
    // namespace are in it too.
    lab.run_in(ns, move || {
        let per = filters.len().div_ceil(PARALLEL).max(1);
        let mut chunks: Vec<Vec<Option<Vec<Insn>>>> = Vec::new();
        let mut it = filters.into_iter().peekable();
        while it.peek().is_some() {
            chunks.push(it.by_ref().take(per).collect());
        }
        std::thread::scope(|scope| {
            let handles: Vec<_> = chunks
                .into_iter()
                .map(|chunk| scope.spawn(move || chunk.into_iter().map(open).collect::<Vec<_>>()))
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().expect("a thread opening captures"))
                .collect()
        })
    })
    .unwrap_or_else(|e| panic!("entering the lab namespace: {e}"))
}

/// Closes captures side by side (each close waits for a grace period
/// too).
fn close_all(caps: Vec<Capture>) {
    let per = caps.len().div_ceil(PARALLEL).max(1);
    let mut it = caps.into_iter().peekable();
    std::thread::scope(|scope| {
        while it.peek().is_some() {
            let chunk: Vec<Capture> = it.by_ref().take(per).collect();
            scope.spawn(move || drop(chunk));
        }
    });
}

/// Everything `cap` holds of the frames `ours` lists. The frames were
/// all delivered before the caller looks (the recording socket has them
/// all, and the kernel hands a frame to every socket in turn), so what is
/// in the ring is taken without waiting; only when fewer than `want` are
/// there does it wait, up to a second, for more.
fn drain(cap: &mut Capture, side: Side, ours: &HashSet<Vec<u8>>, want: usize) -> Vec<Seen> {
    let end = Instant::now() + Duration::from_secs(1);
    let mut out = Vec::new();
    loop {
        let wait = if cap.has_ready_block() {
            Duration::ZERO
        } else if out.len() >= want || Instant::now() >= end || out.len() >= 100_000 {
            break;
        } else {
            Duration::from_millis(20)
        };
        match cap.next_block(Some(wait)).expect("waiting for frames") {
            Next::Block(b) => {
                let framing = b.framing();
                for f in b.frames().expect("block descriptor") {
                    let f = f.expect("frame in block");
                    if matches!(side, Side::Sent) && f.sll.pkttype != PacketType::Outgoing {
                        continue;
                    }
                    let whole = f.parts(framing).to_vec();
                    if !ours.contains(&whole) {
                        continue;
                    }
                    let mut meta = Meta {
                        protocol: f.sll.protocol,
                        pkttype: f.sll.pkttype.to_raw(),
                        ifindex: u32::try_from(f.sll.ifindex).unwrap_or(0),
                        hatype: f.sll.hatype,
                        ..Meta::default()
                    };
                    if let Some(v) = f.vlan {
                        meta = meta.with_vlan(v.tci, v.tpid);
                    }
                    out.push(Seen {
                        data: f.data.to_vec(),
                        whole,
                        meta,
                        len: f.origlen,
                    });
                }
            }
            Next::Timeout | Next::Interrupted => {}
        }
    }
    // A frame lost for lack of room would look like a filter's verdict.
    let stats = cap.stats().expect("reading the socket's counters");
    assert_eq!(
        stats.drops, 0,
        "a socket on {side:?} dropped frames for lack of room in its ring: {stats:?}"
    );
    out
}

/// Waits until `cap` holds `want` of our frames (bounded), then takes
/// them all: for the recording socket.
fn record(cap: &mut Capture, side: Side, ours: &HashSet<Vec<u8>>, want: usize) -> Vec<Seen> {
    let end = Instant::now() + Duration::from_secs(10);
    let mut out = Vec::new();
    while out.len() < want && Instant::now() < end {
        out.extend(drain(cap, side, ours, want - out.len()));
    }
    // The last blocks of the other sockets retire after their timeout.
    std::thread::sleep(BLOCK_TIMEOUT * 2);
    out.extend(drain(cap, side, ours, 0));
    out
}

/// libpcap's unoptimised programs for a live capture on `dev` in `ns`,
/// from one handle opened as tcpdump opens it.
fn libpcap_live_all(
    lab: &Lab,
    ns: Ns,
    dev: &'static str,
    exprs: Vec<String>,
) -> Vec<Result<Vec<Insn>, String>> {
    lab.run_in(ns, move || {
        let handle = sluice_pcap_oracle::LiveHandle::open(dev)
            .unwrap_or_else(|e| panic!("libpcap cannot open {dev} for a live capture: {e}"));
        exprs
            .iter()
            .map(|e| {
                handle.compile(e, false).map(|p| {
                    p.into_iter()
                        .map(|(code, jt, jf, k)| Insn { code, jt, jf, k })
                        .collect()
                })
            })
            .collect()
    })
    .unwrap_or_else(|e| panic!("entering the lab namespace: {e}"))
}

/// tcpdump's unoptimised program for a live capture on `dev` in `ns`.
fn tcpdump_live(lab: &Lab, ns: Ns, dev: &str, expr: &str) -> Result<Vec<Insn>, String> {
    let out = lab
        .exec_unchecked(ns, &["tcpdump", "-ddd", "-O", "-i", dev, "--", expr])
        .map_err(|e| format!("running tcpdump: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let count: usize = lines
        .next()
        .and_then(|l| l.trim().parse().ok())
        .ok_or_else(|| format!("tcpdump -ddd printed no count: {text:?}"))?;
    let insns = lines
        .map(|l| {
            let v: Vec<u32> = l
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            match v[..] {
                [code, jt, jf, k] => Ok(Insn {
                    code: code as u16,
                    jt: jt as u8,
                    jf: jf as u8,
                    k,
                }),
                _ => Err(format!("bad -ddd line {l:?}")),
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if insns.len() != count {
        return Err(format!(
            "tcpdump announced {count} instructions, printed {}",
            insns.len()
        ));
    }
    Ok(insns)
}

/// One expression under test.
struct Case {
    text: String,
    ours: Program,
    /// libpcap's live program, when tcpdump compiles the expression.
    libpcap: Option<Vec<Insn>>,
}

fn hex(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn kernel_accepts_what_the_vm_accepts() {
    let lab = Lab::up(&LabOptions::new()).unwrap_or_else(|e| {
        panic!("the live kernel test cannot build its lab (it needs root and iproute2): {e}")
    });
    // The expressions: generated as the differential tests do, kept when
    // they compile for the socket target.
    let mut rng = Rng::new(SEED);
    let mut generator = Gen::new(rng.fork(), 1);
    let socket = Options {
        target: Target::LinuxSocket,
        ..Options::default()
    };
    let mut chosen = Vec::new();
    for _ in 0..EXPRESSIONS * 20 {
        if chosen.len() == EXPRESSIONS {
            break;
        }
        let e = generator.valid();
        if e.netmask.is_some() {
            continue;
        }
        if let Ok(ours) = sluice_filter::compile(&e.text, &socket) {
            chosen.push((e.text, ours));
        }
    }
    assert_eq!(
        chosen.len(),
        EXPRESSIONS,
        "too few expressions compile for the socket"
    );
    let texts: Vec<String> = chosen.iter().map(|(t, _)| t.clone()).collect();
    let live = libpcap_live_all(&lab, Ns::Middle, "up0", texts);
    // The handle compiles what tcpdump does (a few checked).
    for ((text, _), lib) in chosen.iter().zip(&live).take(8) {
        let td = tcpdump_live(&lab, Ns::Middle, "up0", text);
        assert_eq!(
            td.as_ref().ok(),
            lib.as_ref().ok(),
            "libpcap's live handle and tcpdump -i compile {text:?} differently"
        );
    }
    let mut libpcap_refused = 0usize;
    let cases: Vec<Case> = chosen
        .into_iter()
        .zip(live)
        .map(|((text, ours), lib)| {
            libpcap_refused += usize::from(lib.is_err());
            Case {
                text,
                ours,
                libpcap: lib.ok(),
            }
        })
        .collect();
    // The frames: complete ones of the corpus that fit the link.
    let corpus: Vec<Vec<u8>> = packets::ethernet(&mut rng)
        .into_iter()
        .filter(|f| f.bytes.len() as u32 == f.wire_len && (14..=1514).contains(&f.bytes.len()))
        .map(|f| f.bytes)
        .collect();
    let step = (corpus.len() / FRAMES).max(1);
    let mut frames: Vec<Vec<u8>> = corpus.iter().step_by(step).take(FRAMES).cloned().collect();
    // Every tagged frame goes in (they are the point).
    frames.extend(
        corpus
            .iter()
            .filter(|f| matches!([f[12], f[13]], [0x81, 0x00] | [0x88, 0xa8] | [0x91, 0x00]))
            .cloned(),
    );
    let mut seen_once = HashSet::new();
    frames.retain(|f| seen_once.insert(f.clone()));
    let ours_set: HashSet<Vec<u8>> = frames.iter().cloned().collect();
    // Each frame takes its bytes, a header and padding in a block.
    let ring_bytes: usize = frames.iter().map(|f| f.len() + 96).sum();

    let mut tx = lab
        .run_in(Ns::Host, || TxSocket::open(&TxConfig::new("eth0")))
        .expect("entering the host namespace")
        .unwrap_or_else(|e| panic!("opening the sending socket: {e}"));

    let (mut pairs, mut accepted, mut tagged_meta, mut tagged_inline) = (0usize, 0, 0, 0);
    let (mut kernel_refused_libpcap, mut libpcap_compared) = (0usize, 0usize);
    let mut bad = Vec::new();
    for side in [Side::Received, Side::Sent] {
        for batch in cases.chunks(BATCH) {
            // The recording socket, ours, then libpcap's.
            let mut filters: Vec<Option<Vec<Insn>>> = vec![None];
            filters.extend(batch.iter().map(|c| Some(c.ours.insns().to_vec())));
            filters.extend(batch.iter().map(|c| c.libpcap.clone()));
            let mut caps = open_all(&lab, side, filters, ring_bytes).into_iter();
            let mut reference = caps
                .next()
                .and_then(Result::ok)
                .unwrap_or_else(|| panic!("opening the recording socket on {side:?}"));
            let mut mine = Vec::new();
            for c in batch {
                let cap = caps.next().expect("one capture per program");
                mine.push(
                    cap.unwrap_or_else(|e| panic!("attaching our program for {:?}: {e}", c.text)),
                );
            }
            let mut theirs = Vec::new();
            for c in batch {
                let cap = caps.next().expect("one capture per program");
                // The kernel refuses libpcap's backward jumps (protochain)
                // and scratch words read before a store.
                let cap = c.libpcap.as_ref().and_then(|_| cap.ok());
                kernel_refused_libpcap += usize::from(c.libpcap.is_some() && cap.is_none());
                theirs.push(cap);
            }
            let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
            let report = tx.send_batch(&refs).expect("sending the frames");
            assert_eq!(
                report.failed, 0,
                "frames the kernel would not send: {report:?}"
            );
            let all = record(&mut reference, side, &ours_set, frames.len());
            assert!(
                all.len() >= frames.len(),
                "{side:?}: the recording socket saw {} of the {} frames sent",
                all.len(),
                frames.len()
            );
            for s in &all {
                match (s.meta.vlan_tci, s.data.get(12..14)) {
                    (Some(_), _) => tagged_meta += 1,
                    (None, Some([0x81, 0x00] | [0x88, 0xa8] | [0x91, 0x00])) => tagged_inline += 1,
                    _ => {}
                }
            }
            for ((c, cap), lib) in batch.iter().zip(&mut mine).zip(&mut theirs) {
                let vm = c.ours.to_semantics(Semantics::Kernel);
                let want: Vec<&Seen> = all
                    .iter()
                    .filter(|s| vm.run(&s.data, s.len, &s.meta) != 0)
                    .collect();
                pairs += all.len();
                accepted += want.len();
                let got = drain(cap, side, &ours_set, want.len());
                let same = got.len() == want.len()
                    && got.iter().zip(&want).all(|(g, w)| g.whole == w.whole);
                if !same {
                    let first = got
                        .iter()
                        .map(|g| &g.whole)
                        .zip(want.iter().map(|w| &w.whole))
                        .position(|(g, w)| g != w)
                        .unwrap_or(got.len().min(want.len()));
                    let odd = want
                        .get(first)
                        .map(|w| (*w, "the VM accepts, the kernel did not"));
                    let odd = odd.or_else(|| {
                        got.get(first).and_then(|g| {
                            all.iter()
                                .find(|s| s.whole == g.whole)
                                .map(|s| (s, "the kernel accepted, the VM does not"))
                        })
                    });
                    bad.push(format!(
                        "{side:?} {:?}: the kernel let {} frames through, the VM accepts {}; {}",
                        c.text,
                        got.len(),
                        want.len(),
                        odd.map_or(String::new(), |(s, why)| format!(
                            "{why}: {} (meta {:?})",
                            hex(&s.data),
                            s.meta
                        ))
                    ));
                }
                if let Some(lib) = lib {
                    libpcap_compared += 1;
                    let theirs = drain(lib, side, &ours_set, want.len());
                    let same = theirs.len() == got.len()
                        && theirs.iter().zip(&got).all(|(a, b)| a.whole == b.whole);
                    if !same {
                        let ours_set: HashSet<&Vec<u8>> = got.iter().map(|g| &g.whole).collect();
                        let lib_set: HashSet<&Vec<u8>> = theirs.iter().map(|g| &g.whole).collect();
                        let only_lib = theirs.iter().find(|t| !ours_set.contains(&t.whole));
                        let only_ours = got.iter().find(|g| !lib_set.contains(&g.whole));
                        bad.push(format!(
                            "{side:?} {:?}: libpcap's live program let {} frames through, ours {}; only libpcap's: {:?}; only ours: {:?}",
                            c.text,
                            theirs.len(),
                            got.len(),
                            only_lib.map(|s| (hex(&s.data), s.meta)),
                            only_ours.map(|s| (hex(&s.data), s.meta)),
                        ));
                    }
                }
            }
            let mut done = vec![reference];
            done.extend(mine);
            done.extend(theirs.into_iter().flatten());
            close_all(done);
        }
    }
    println!(
        "live kernel: {} expressions ({libpcap_refused} that libpcap refuses live), {} frames per side; {pairs} (program, frame) pairs, {accepted} accepted; {tagged_meta} deliveries with the tag in metadata, {tagged_inline} with it inline; libpcap's live program attached {libpcap_compared} times ({kernel_refused_libpcap} refused by the kernel); {} disagreements",
        cases.len(),
        frames.len(),
        bad.len()
    );
    for b in bad.iter().take(20) {
        println!("{b}");
    }
    assert!(
        tagged_meta >= 50 && tagged_inline >= 50,
        "too few tagged frames: {tagged_meta} with the tag in metadata, {tagged_inline} inline"
    );
    assert!(
        accepted > 1000 && accepted < pairs,
        "{accepted} of {pairs} accepted: the corpus does not exercise the programs"
    );
    assert!(
        libpcap_compared >= EXPRESSIONS,
        "libpcap's program attached only {libpcap_compared} times"
    );
    assert!(bad.is_empty(), "{} disagreements", bad.len());
}
