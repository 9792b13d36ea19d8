//! Differential tests of the filter compiler against libpcap 1.10.
//!
//! A seeded generator writes thousands of valid expressions over the whole
//! pcap-filter language (and mutated, invalid ones); a generated packet
//! corpus for every supported linktype, plus frames of real captures,
//! exercises them. libpcap, through the `sluice-pcap-oracle` crate, is the
//! reference: its unoptimised program's verdict on each packet, its
//! rejections, and its optimised program's length.
//!
//! The seed is fixed by default; set `SLUICE_SEED` (decimal or 0x-hex) to
//! explore. Every failure message starts with the seed.
//!
//! Run with `-- --nocapture` to see the tables.

// A test binary: its items are shared between its modules, not an API.
#![allow(missing_docs)]

mod agreement;
mod conformance;
mod exprgen;
mod ours;
mod packets;
mod pcapfile;
mod refvm;
mod rng;
mod socket;
mod values;
mod witness;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::OnceLock;

use sluice_pcap_oracle as oracle;

use exprgen::{Expr, Family, Gen};
use packets::Frame;
use rng::Rng;

/// The default seed: runs are reproducible unless `SLUICE_SEED` says
/// otherwise.
const DEFAULT_SEED: u64 = 0x5111_ce00_2026;

/// The snapshot length every program is compiled with (tcpdump's default);
/// an accepting program returns it.
pub const SNAPLEN: u32 = 262_144;

/// The linktypes of the issue: `LINKTYPE_*` value and name.
pub const LINKTYPES: &[(u32, &str)] = &[
    (1, "EN10MB"),
    (101, "RAW"),
    (228, "IPV4"),
    (229, "IPV6"),
    (113, "LINUX_SLL"),
    (276, "LINUX_SLL2"),
    (0, "NULL"),
    (108, "LOOP"),
];

/// Valid expressions generated per linktype (Ethernet has the most
/// families, so the most expressions).
fn valid_count(linktype: u32) -> usize {
    if linktype == 1 { 1200 } else { 160 }
}

/// Invalid (mutated) expressions generated per linktype.
fn invalid_count(linktype: u32) -> usize {
    if linktype == 1 { 500 } else { 60 }
}

/// libpcap's answer for one expression: unoptimised and optimised.
pub struct PcapResult {
    pub o0: Result<Vec<oracle::RawInsn>, String>,
    pub o: Result<Vec<oracle::RawInsn>, String>,
}

/// libpcap's optimiser refuses an expression whose optimised program
/// rejects everything; that program is `ret #0`.
pub const REJECTS_ALL: &str = "expression rejects all packets";

impl PcapResult {
    /// The optimised program, with libpcap's "rejects all packets" error
    /// read as the one-instruction program it stands for.
    pub fn optimised(&self) -> Result<Vec<oracle::RawInsn>, &str> {
        match &self.o {
            Ok(p) => Ok(p.clone()),
            Err(e) if e == REJECTS_ALL => Ok(vec![(0x06, 0, 0, 0)]),
            Err(e) => Err(e),
        }
    }

    fn compile(text: &str, linktype: u32, netmask: Option<u32>) -> PcapResult {
        let config = |optimize| oracle::Config {
            linktype,
            snaplen: SNAPLEN,
            optimize,
            netmask,
            savefile: false,
        };
        PcapResult {
            o0: oracle::compile_with(text, &config(false)),
            o: oracle::compile_with(text, &config(true)),
        }
    }
}

/// One generated expression and libpcap's programs for it.
pub struct Case {
    pub expr: Expr,
    pub pcap: PcapResult,
}

/// Everything generated for one linktype.
pub struct LinkWorld {
    pub linktype: u32,
    pub name: &'static str,
    pub frames: Vec<Frame>,
    pub valid: Vec<Case>,
    pub invalid: Vec<Case>,
}

impl LinkWorld {
    /// The frames valid expression number `n` is run over: a seeded
    /// sample of the corpus (each expression meets a different one), so
    /// that a run stays within its time budget in a debug build.
    pub fn frames_for(&self, n: usize, seed: u64) -> Vec<&Frame> {
        let want = frames_per_expression(self.linktype);
        if want >= self.frames.len() {
            return self.frames.iter().collect();
        }
        let mut rng =
            Rng::new(seed ^ (n as u64).wrapping_mul(0x9e37_79b9) ^ u64::from(self.linktype) << 40);
        (0..want)
            .map(|_| &self.frames[rng.below(self.frames.len())])
            .collect()
    }
}

/// How many frames of the corpus each expression is run over.
fn frames_per_expression(linktype: u32) -> usize {
    if linktype == 1 { 400 } else { 250 }
}

/// The generated expressions and corpora of one run.
pub struct World {
    pub seed: u64,
    pub links: Vec<LinkWorld>,
    /// Number of frames taken from real capture files, and from how many.
    pub real_frames: (usize, usize),
}

/// The seed of this run.
pub fn seed() -> u64 {
    match std::env::var("SLUICE_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("SLUICE_SEED={s:?} is not a number"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

/// Generates the expressions for `linktype` from `rng`.
fn expressions(rng: &mut Rng, linktype: u32) -> (Vec<Expr>, Vec<Expr>) {
    let mut generator = Gen::new(rng.fork(), linktype);
    let valid: Vec<Expr> = (0..valid_count(linktype))
        .map(|_| generator.valid())
        .collect();
    let invalid = (0..invalid_count(linktype))
        .map(|i| {
            let base = &valid[i % valid.len()];
            Expr {
                text: generator.invalid(&base.text),
                families: base.families.clone(),
                netmask: base.netmask,
            }
        })
        .collect();
    (valid, invalid)
}

/// The world of this run, built once and shared by every test.
pub fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let seed = seed();
        let mut rng = Rng::new(seed);
        let mut links = Vec::new();
        let mut real_frames = (0, 0);
        for &(linktype, name) in LINKTYPES {
            let mut corpus_rng = rng.fork();
            let mut frames = packets::for_linktype(&mut corpus_rng, linktype);
            if linktype == 1 {
                let (real, files) = pcapfile::ethernet_frames(2, 500);
                real_frames = (real.len(), files);
                frames.extend(real);
            }
            let (valid, invalid) = expressions(&mut rng, linktype);
            let compile = |exprs: Vec<Expr>| -> Vec<Case> {
                exprs
                    .into_iter()
                    .map(|expr| {
                        let pcap = PcapResult::compile(&expr.text, linktype, expr.netmask);
                        Case { expr, pcap }
                    })
                    .collect()
            };
            links.push(LinkWorld {
                linktype,
                name,
                frames,
                valid: compile(valid),
                invalid: compile(invalid),
            });
        }
        World {
            seed,
            links,
            real_frames,
        }
    })
}

/// The bytes of a frame in hex, 32 bytes a line.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = String::new();
    for (i, chunk) in bytes.chunks(32).enumerate() {
        let _ = write!(out, "  {:04x}:", i * 32);
        for b in chunk {
            let _ = write!(out, " {b:02x}");
        }
        out.push('\n');
    }
    if bytes.is_empty() {
        out.push_str("  (empty)\n");
    }
    out
}

/// How a candidate program's verdict on one frame compares with the
/// reference program's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Judgement {
    /// The reference read only captured bytes and both gave this verdict.
    Agree,
    /// The reference ran off the captured bytes (so returned 0); the
    /// candidate returned 0 too, or a verdict that the reference gives on
    /// every completion of the packet, and agrees on those completions.
    AgreeTruncated,
    /// The reference ran off even the completed packets: nothing to
    /// compare the candidate's non-zero verdict with.
    Indeterminate,
    /// The reference read scratch memory it had not written: libpcap's
    /// verdict is undefined (a libpcap bug; the kernel refuses such code).
    ReferenceUndefined,
    /// A real disagreement, on `frame` (the packet itself or one of its
    /// completions).
    Disagree {
        frame: Frame,
        reference: u32,
        candidate: u32,
    },
}

/// Judges `candidate` against `reference` on `frame`.
///
/// On a packet the reference reads only inside of, the verdicts must be
/// equal. A reference that runs off the captured bytes returns 0, but an
/// optimised program that skips a load whose value cannot matter may
/// rightly decide without it (libpcap's optimiser does that), so on such
/// a packet the candidate may return 0, or a non-zero verdict that must be
/// what the reference returns on every completion of the packet (the
/// captured bytes followed by random ones up to past the wire length); on
/// those completions the two must agree as on any packet.
///
/// `check` is libpcap's own `bpf_filter` for the reference program: the
/// reference interpreter's verdicts are checked against it on every run.
pub fn judge(
    reference: &[oracle::RawInsn],
    check: &oracle::Program,
    candidate: &dyn Fn(&[u8], u32) -> u32,
    frame: &Frame,
    salt: u64,
) -> Judgement {
    let run_ref = |bytes: &[u8]| {
        let out = refvm::run(reference, bytes, frame.wire_len);
        let lib = check.run(bytes, frame.wire_len);
        if out.uninit {
            return out;
        }
        assert_eq!(
            out.verdict,
            lib,
            "the reference interpreter disagrees with libpcap's bpf_filter on {}:\n{}{}",
            frame.label,
            oracle::image(reference),
            hex(bytes)
        );
        out
    };
    let r = run_ref(&frame.bytes);
    if r.uninit {
        return Judgement::ReferenceUndefined;
    }
    let c = candidate(&frame.bytes, frame.wire_len);
    if !r.faulted {
        return if c == r.verdict {
            Judgement::Agree
        } else {
            Judgement::Disagree {
                frame: frame.clone(),
                reference: r.verdict,
                candidate: c,
            }
        };
    }
    let mut rng = Rng::new(salt ^ frame.bytes.len() as u64 ^ u64::from(frame.wire_len) << 20);
    let mut compared = false;
    for n in 0..2 {
        let full = (frame.wire_len as usize).max(frame.bytes.len()) + 64;
        let mut bytes = frame.bytes.clone();
        let fill = if n == 0 {
            rng.bytes(full - bytes.len())
        } else {
            vec![0; full - bytes.len()]
        };
        bytes.extend(fill);
        let re = run_ref(&bytes);
        let ce = candidate(&bytes, frame.wire_len);
        if re.faulted || re.uninit {
            continue;
        }
        compared = true;
        if ce != re.verdict {
            return Judgement::Disagree {
                frame: Frame {
                    label: format!(
                        "{} completed with {} bytes",
                        frame.label,
                        bytes.len() - frame.bytes.len()
                    ),
                    bytes,
                    wire_len: frame.wire_len,
                },
                reference: re.verdict,
                candidate: ce,
            };
        }
        if c != 0 && c != re.verdict {
            // The candidate decided on the truncated packet, wrongly for
            // its completion: report the truncated packet and the verdict
            // the completion calls for.
            return Judgement::Disagree {
                frame: frame.clone(),
                reference: re.verdict,
                candidate: c,
            };
        }
    }
    if c != 0 && !compared {
        Judgement::Indeterminate
    } else {
        Judgement::AgreeTruncated
    }
}

/// Per-family counters of a verdict comparison.
#[derive(Default, Clone, Copy)]
pub struct Tally {
    pub exprs: usize,
    pub pairs: usize,
    pub accepted: usize,
    pub agree: usize,
}

/// Prints a per-family table of `tallies`.
pub fn print_table(title: &str, tallies: &BTreeMap<Family, Tally>) {
    println!("\n{title}");
    println!(
        "  {:<26} {:>7} {:>10} {:>10} {:>10} {:>8}",
        "family", "exprs", "pairs", "accepted", "agree", "agree%"
    );
    for fam in Family::ALL {
        let t = tallies.get(fam).copied().unwrap_or_default();
        let pct = if t.pairs == 0 {
            0.0
        } else {
            100.0 * t.agree as f64 / t.pairs as f64
        };
        println!(
            "  {:<26} {:>7} {:>10} {:>10} {:>10} {:>7.2}%",
            fam.to_string(),
            t.exprs,
            t.pairs,
            t.accepted,
            t.agree,
            pct
        );
    }
}

/// Runs a program over (captured bytes, wire length).
pub type Runner = Box<dyn Fn(&[u8], u32) -> u32>;

/// A program under test: how to run it, and its listing for reports.
pub struct Candidate {
    pub run: Runner,
    pub listing: String,
}

/// The result of comparing candidates with a reference over the corpus.
#[derive(Default)]
pub struct Comparison {
    pub tallies: BTreeMap<Family, Tally>,
    pub exprs: usize,
    pub pairs: usize,
    /// Pairs with equal verdicts, or where the reference read only
    /// captured bytes.
    pub strict: usize,
    /// Pairs with different verdicts that the truncation rule accepts (see
    /// [`judge`]).
    pub truncated: usize,
    pub indeterminate: usize,
    /// Pairs where the reference read uninitialised scratch memory.
    pub undefined: usize,
    /// Expressions with such pairs.
    pub undefined_exprs: BTreeSet<String>,
    /// One report per disagreeing expression.
    pub reports: Vec<String>,
    /// Disagreeing expressions per family.
    pub failing: BTreeMap<Family, usize>,
    /// Disagreeing expressions per linktype.
    pub failing_links: BTreeMap<&'static str, usize>,
}

impl Comparison {
    /// Prints the per-family table, the counts and the first `max` reports.
    pub fn print(&self, title: &str, max: usize) {
        print_table(title, &self.tallies);
        println!(
            "  {} expressions, {} pairs: {} equal or compared strictly, {} by the truncation rule, {} indeterminate, {} undefined in the reference ({} expressions); {} expressions disagree",
            self.exprs,
            self.pairs,
            self.strict,
            self.truncated,
            self.indeterminate,
            self.undefined,
            self.undefined_exprs.len(),
            self.reports.len()
        );
        if !self.failing.is_empty() {
            let list: Vec<String> = self
                .failing
                .iter()
                .map(|(f, n)| format!("{f}: {n}"))
                .collect();
            println!("  disagreeing expressions per family: {}", list.join(", "));
            let list: Vec<String> = self
                .failing_links
                .iter()
                .map(|(l, n)| format!("{l}: {n}"))
                .collect();
            println!(
                "  disagreeing expressions per linktype: {}",
                list.join(", ")
            );
        }
        for r in self.reports.iter().take(max) {
            println!("{r}");
        }
    }
}

/// Compares, for every valid expression of every linktype that libpcap
/// accepts, `candidate`'s verdicts with `reference`'s over the corpus.
/// Either side may decline an expression (`None`): it is then skipped.
pub fn compare(
    reference: &dyn Fn(&LinkWorld, &Case) -> Option<Vec<oracle::RawInsn>>,
    candidate: &dyn Fn(&LinkWorld, &Case) -> Option<Candidate>,
) -> Comparison {
    let world = world();
    let mut cmp = Comparison::default();
    for link in &world.links {
        for (n, case) in link.valid.iter().enumerate() {
            let Some(ref_prog) = reference(link, case) else {
                continue;
            };
            let Some(cand) = candidate(link, case) else {
                continue;
            };
            let check = oracle::Program::new(&ref_prog).expect("the reference program validates");
            cmp.exprs += 1;
            let mut t = Tally {
                exprs: 1,
                ..Tally::default()
            };
            let mut report = None;
            for (i, frame) in link.frames_for(n, world.seed).into_iter().enumerate() {
                t.pairs += 1;
                let lib = check.run(&frame.bytes, frame.wire_len);
                t.accepted += usize::from(lib != 0);
                // Equal verdicts need no further judgement; the reference
                // interpreter runs only where they differ (and on a sample,
                // to keep it checked against bpf_filter).
                let verdict = if (cand.run)(&frame.bytes, frame.wire_len) == lib && i % 16 != 0 {
                    Judgement::Agree
                } else {
                    judge(&ref_prog, &check, &*cand.run, frame, world.seed ^ i as u64)
                };
                match verdict {
                    Judgement::Agree => cmp.strict += 1,
                    Judgement::AgreeTruncated => cmp.truncated += 1,
                    Judgement::Indeterminate => cmp.indeterminate += 1,
                    Judgement::ReferenceUndefined => {
                        cmp.undefined += 1;
                        cmp.undefined_exprs
                            .insert(format!("[{}] {}", link.name, case.expr.text));
                    }
                    Judgement::Disagree {
                        frame: bad,
                        reference: rv,
                        candidate: cv,
                    } => {
                        if report.is_none() {
                            report = Some(format!(
                                "--- seed {:#x} [{}] expression {:?} (netmask {:?})\n  packet {} ({} bytes captured, {} on the wire): reference {rv}, candidate {cv}\n{}  reference program:\n{}  candidate program:\n{}",
                                world.seed,
                                link.name,
                                case.expr.text,
                                case.expr.netmask,
                                bad.label,
                                bad.bytes.len(),
                                bad.wire_len,
                                hex(&bad.bytes),
                                indent(&oracle::image(&ref_prog)),
                                indent(&cand.listing),
                            ));
                        }
                        continue;
                    }
                }
                t.agree += 1;
            }
            cmp.pairs += t.pairs;
            for fam in &case.expr.families {
                let e = cmp.tallies.entry(*fam).or_default();
                e.exprs += t.exprs;
                e.pairs += t.pairs;
                e.accepted += t.accepted;
                e.agree += t.agree;
            }
            if let Some(r) = report {
                for fam in &case.expr.families {
                    *cmp.failing.entry(*fam).or_default() += 1;
                }
                *cmp.failing_links.entry(link.name).or_default() += 1;
                cmp.reports.push(r);
            }
        }
    }
    cmp
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

/// libpcap's unoptimised and optimised programs run over the whole corpus.
/// This validates the harness on its own (the generator produces valid
/// expressions, the corpus makes every family both match and miss, the
/// reference interpreter agrees with `bpf_filter`), and lists where
/// libpcap's optimiser changes a verdict beyond what truncation explains:
/// those are libpcap's bugs, reported and never counted against us.
#[test]
fn libpcap_optimised_and_unoptimised_over_the_corpus() {
    let world = world();
    let seed = world.seed;
    let mut problems = Vec::new();
    for link in &world.links {
        let rejected: Vec<String> = link
            .valid
            .iter()
            .filter_map(|c| {
                c.pcap
                    .o0
                    .as_ref()
                    .err()
                    .map(|e| format!("{:?}: {e}", c.expr.text))
            })
            .collect();
        println!(
            "[{}] {} frames, {} valid expressions ({} rejected by libpcap -O0), {} invalid ({} rejected)",
            link.name,
            link.frames.len(),
            link.valid.len(),
            rejected.len(),
            link.invalid.len(),
            link.invalid.iter().filter(|c| c.pcap.o0.is_err()).count()
        );
        for r in &rejected {
            println!("    valid-generated but rejected: {r}");
        }
        // The valid generator must be sound: libpcap accepts nearly all.
        if rejected.len() * 100 > link.valid.len() * 3 {
            problems.push(format!(
                "[{}] libpcap rejects {} of {} generated valid expressions",
                link.name,
                rejected.len(),
                link.valid.len()
            ));
        }
    }
    let cmp = compare(&|_, case| case.pcap.o0.clone().ok(), &|_, case| {
        let prog = case.pcap.optimised().ok()?;
        let listing = oracle::image(&prog);
        let program = oracle::Program::new(&prog).expect("libpcap's program validates");
        Some(Candidate {
            run: Box::new(move |bytes, wire| program.run(bytes, wire)),
            listing,
        })
    });
    println!(
        "\nframes from real captures: {} from {} files",
        world.real_frames.0, world.real_frames.1
    );
    cmp.print(
        "libpcap -O (candidate) vs libpcap -O0 (reference), all linktypes",
        0,
    );
    println!(
        "\nlibpcap optimiser bugs (-O and -O0 disagree beyond truncation): {} expressions",
        cmp.reports.len()
    );
    for r in &cmp.reports {
        println!("{}", r.lines().take(2).collect::<Vec<_>>().join("\n"));
    }
    // Every family must be represented, and each must both match and miss
    // some packets: otherwise the corpus does not exercise it.
    for fam in Family::ALL {
        let t = cmp.tallies.get(fam).copied().unwrap_or_default();
        if t.exprs == 0 || t.accepted == 0 || t.accepted == t.pairs {
            problems.push(format!(
                "family {fam} is not exercised: {} expressions, {} of {} pairs accepted",
                t.exprs, t.accepted, t.pairs
            ));
        }
    }
    assert!(
        cmp.pairs >= 20_000,
        "seed {seed:#x}: only {} pairs",
        cmp.pairs
    );
    assert!(
        problems.is_empty(),
        "seed {seed:#x}:\n{}",
        problems.join("\n")
    );
}

/// The invalid generator reaches libpcap's errors; the valid one is
/// reproducible from the seed.
#[test]
fn generators_are_reproducible_and_reach_errors() {
    let world = world();
    let seed = world.seed;
    for link in &world.links {
        let rejected = link.invalid.iter().filter(|c| c.pcap.o0.is_err()).count();
        assert!(
            rejected * 2 >= link.invalid.len(),
            "seed {seed:#x} [{}]: only {rejected} of {} mutated expressions are invalid",
            link.name,
            link.invalid.len()
        );
    }
    let mut a = Rng::new(seed);
    let mut b = Rng::new(seed);
    let (va, ia) = expressions(&mut a, 1);
    let (vb, ib) = expressions(&mut b, 1);
    let ta: Vec<&str> = va.iter().chain(&ia).map(|e| e.text.as_str()).collect();
    let tb: Vec<&str> = vb.iter().chain(&ib).map(|e| e.text.as_str()).collect();
    assert_eq!(ta, tb, "seed {seed:#x}: generation is not deterministic");
    let fa = packets::ethernet(&mut Rng::new(seed));
    let fb = packets::ethernet(&mut Rng::new(seed));
    assert!(
        fa.iter().zip(&fb).all(|(x, y)| x.bytes == y.bytes) && fa.len() == fb.len(),
        "seed {seed:#x}: the corpus is not deterministic"
    );
}
