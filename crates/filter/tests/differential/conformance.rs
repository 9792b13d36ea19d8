//! Data-driven conformance cases (expression, packet, expected verdict)
//! read from `tests/data/conformance.txt`. Each case is a block of
//! `key: value` lines; blocks are separated by blank lines and `#` starts
//! a comment. The file's header documents the keys.

use std::path::{Path, PathBuf};

use crate::{LINKTYPES, SNAPLEN};

/// One conformance case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Line of the file where the block starts.
    pub line: usize,
    /// What it checks, or what it caught.
    pub name: String,
    /// `LINKTYPE_*` value.
    pub linktype: u32,
    /// IPv4 netmask (host order), if given.
    pub netmask: Option<u32>,
    /// The filter expression.
    pub expr: String,
    /// The captured bytes.
    pub packet: Vec<u8>,
    /// The original length.
    pub wire_len: u32,
    /// The expected return value of the program.
    pub verdict: u32,
    /// Also replay our Linux socket-target program on the frame as a
    /// socket sees it (outer VLAN tag moved into metadata), expecting this
    /// verdict: libpcap's program for a live capture gives it.
    pub socket: Option<u32>,
}

/// The path of the data file.
pub fn path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/conformance.txt")
}

/// Parses the data file; a malformed file is an error naming the line.
pub fn load() -> Result<Vec<Case>, String> {
    let path = path();
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    parse(&text)
}

/// Parses conformance text.
pub fn parse(text: &str) -> Result<Vec<Case>, String> {
    let mut cases = Vec::new();
    let mut block: Vec<(usize, String, String)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim_end();
        let lineno = i + 1;
        if line.trim_start().starts_with('#') {
            continue;
        }
        if line.trim().is_empty() {
            if !block.is_empty() {
                cases.push(case(std::mem::take(&mut block))?);
            }
            continue;
        }
        if line.starts_with(' ') || line.starts_with('\t') {
            // Continuation of the previous value (long packets).
            let Some(last) = block.last_mut() else {
                return Err(format!("line {lineno}: continuation line outside a case"));
            };
            last.2.push(' ');
            last.2.push_str(line.trim());
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!(
                "line {lineno}: expected `key: value`, found {line:?}"
            ));
        };
        block.push((lineno, key.trim().to_string(), value.trim().to_string()));
    }
    if !block.is_empty() {
        cases.push(case(block)?);
    }
    Ok(cases)
}

fn case(block: Vec<(usize, String, String)>) -> Result<Case, String> {
    let line = block[0].0;
    let mut name = None;
    let mut linktype = 1;
    let mut netmask = None;
    let mut expr = None;
    let mut packet = None;
    let mut wire = None;
    let mut verdict = None;
    let mut socket = None;
    for (lineno, key, value) in block {
        let err = |what: &str| format!("line {lineno}: {what}");
        match key.as_str() {
            "case" => name = Some(value),
            "linktype" => {
                linktype = LINKTYPES
                    .iter()
                    .find(|(_, n)| n.eq_ignore_ascii_case(&value))
                    .map(|(lt, _)| *lt)
                    .ok_or_else(|| err(&format!("unknown linktype {value:?}")))?;
            }
            "netmask" => {
                let addr: std::net::Ipv4Addr = value
                    .parse()
                    .map_err(|_| err("netmask is not an IPv4 address"))?;
                netmask = Some(u32::from(addr));
            }
            "expr" => expr = Some(value),
            "packet" => {
                let digits: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                if !digits.len().is_multiple_of(2) {
                    return Err(err("packet has an odd number of hex digits"));
                }
                let bytes = (0..digits.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&digits[i..i + 2], 16))
                    .collect::<Result<Vec<u8>, _>>()
                    .map_err(|_| err("packet is not hex"))?;
                packet = Some(bytes);
            }
            "wire" => {
                wire = Some(
                    value
                        .parse::<u32>()
                        .map_err(|_| err("wire is not a number"))?,
                )
            }
            "verdict" => {
                verdict = Some(
                    parse_verdict(&value)
                        .ok_or_else(|| err("verdict is not accept, reject or a number"))?,
                )
            }
            "socket" => {
                socket =
                    match value.as_str() {
                        "no" => None,
                        // The same verdict as offline, filled in below.
                        "yes" => Some(u32::MAX),
                        v => Some(parse_verdict(v).ok_or_else(|| {
                            err("socket is not yes, no, accept, reject or a number")
                        })?),
                    }
            }
            other => return Err(err(&format!("unknown key {other:?}"))),
        }
    }
    let missing = |what: &str| format!("case at line {line}: no `{what}:`");
    let packet = packet.ok_or_else(|| missing("packet"))?;
    let wire_len = wire.unwrap_or(packet.len() as u32);
    if (wire_len as usize) < packet.len() {
        return Err(format!(
            "case at line {line}: wire length {wire_len} below the captured length"
        ));
    }
    let verdict = verdict.ok_or_else(|| missing("verdict"))?;
    Ok(Case {
        line,
        name: name.ok_or_else(|| missing("case"))?,
        linktype,
        netmask,
        expr: expr.ok_or_else(|| missing("expr"))?,
        packet,
        wire_len,
        verdict,
        socket: socket.map(|v| if v == u32::MAX { verdict } else { v }),
    })
}

fn parse_verdict(value: &str) -> Option<u32> {
    match value {
        "accept" => Some(SNAPLEN),
        "reject" => Some(0),
        n => n.parse().ok(),
    }
}

/// The expectations of the file are libpcap's: its unoptimised program
/// gives each expected verdict. (The optimised one may not: some cases
/// record libpcap optimiser bugs; those are listed, not failed.)
#[test]
fn conformance_cases_hold_for_libpcap() {
    let cases = load().unwrap_or_else(|e| panic!("{e}"));
    assert!(cases.len() >= 10, "only {} conformance cases", cases.len());
    let mut wrong = Vec::new();
    for c in &cases {
        let config = |optimize| sluice_pcap_oracle::Config {
            linktype: c.linktype,
            snaplen: SNAPLEN,
            optimize,
            netmask: c.netmask,
            savefile: false,
        };
        let prog = sluice_pcap_oracle::compile_with(&c.expr, &config(false))
            .unwrap_or_else(|e| panic!("line {}: libpcap rejects {:?}: {e}", c.line, c.expr));
        let got = sluice_pcap_oracle::run(&prog, &c.packet, c.wire_len)
            .expect("libpcap's program validates");
        if got != c.verdict {
            wrong.push(format!(
                "line {} ({}): {:?} gives {got}, file says {}",
                c.line, c.name, c.expr, c.verdict
            ));
        }
        if let Ok(opt) = sluice_pcap_oracle::compile_with(&c.expr, &config(true)) {
            let o = sluice_pcap_oracle::run(&opt, &c.packet, c.wire_len).expect("validates");
            if o != got {
                println!(
                    "libpcap optimiser bug kept as a case: line {}: {:?} -O {o}, -O0 {got}",
                    c.line, c.expr
                );
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn conformance_parser_names_bad_lines() {
    let err = parse("case: x\nexpr: ip\npacket: 0g\nverdict: accept\n").unwrap_err();
    assert_eq!(err, "line 3: packet is not hex");
    let err = parse("case: x\nexpr: ip\npacket: 00\n").unwrap_err();
    assert_eq!(err, "case at line 1: no `verdict:`");
    let ok = parse("# c\ncase: x\nlinktype: RAW\nexpr: ip\npacket: 45 00\n  00 14\nwire: 20\nverdict: reject\n").unwrap();
    assert_eq!(ok[0].packet, vec![0x45, 0, 0, 0x14]);
    assert_eq!(
        (ok[0].linktype, ok[0].wire_len, ok[0].verdict, ok[0].socket),
        (101, 20, 0, None)
    );
    let both = parse("case: x\nexpr: ip\npacket: 00\nverdict: reject\nsocket: yes\n\ncase: y\nexpr: ip\npacket: 00\nverdict: reject\nsocket: accept\n").unwrap();
    assert_eq!((both[0].socket, both[1].socket), (Some(0), Some(SNAPLEN)));
    let err = parse("case: x\nexpr: ip\npacket: 00\nverdict: reject\nsocket: maybe\n").unwrap_err();
    assert_eq!(
        err,
        "line 5: socket is not yes, no, accept, reject or a number"
    );
}
