//! Interop with real peers: files this crate writes are read by tshark and
//! capinfos with the same packets, timestamps and bytes; files that
//! editcap and tcpdump write are read the way tshark reads them.
//!
//! These tests need tshark, capinfos, editcap and tcpdump; without them
//! they fail and say what to install.

use std::path::{Path, PathBuf};
use std::process::Command;

use sluice_pcap::{
    Endian, EpbFlags, Format, Frame, Interface, InterfaceStats, LinkType, Reader, ReaderOptions,
    Record, Writer, WriterOptions,
};

/// Runs a peer tool and returns its stdout; fails with a clear message
/// when the tool is missing or fails.
fn run(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is needed for this test ({e}): apt-get install tshark tcpdump (tshark brings capinfos and editcap)")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("tool output is UTF-8")
}

fn xorshift(s: &mut u64) -> u64 {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    *s
}

/// One frame as tshark prints it: epoch time (9 decimals), wire length,
/// captured length, and the bytes in hex.
#[derive(Debug, PartialEq, Eq, Clone)]
struct Seen {
    time: String,
    len: u32,
    cap_len: u32,
    hex: String,
}

fn epoch(ts_ns: u64) -> String {
    format!("{}.{:09}", ts_ns / 1_000_000_000, ts_ns % 1_000_000_000)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// What tshark sees, frame by frame, taking the bytes from `-x` (the hex
/// dump of the first data source, which is the frame).
fn tshark_frames(path: &Path) -> Vec<Seen> {
    let p = path.to_str().unwrap();
    let fields = run(
        "tshark",
        &[
            "-r",
            p,
            "-T",
            "fields",
            "-e",
            "frame.time_epoch",
            "-e",
            "frame.len",
            "-e",
            "frame.cap_len",
        ],
    );
    let dump = run("tshark", &["-r", p, "-x"]);
    let mut hexes = Vec::new();
    let mut cur = String::new();
    let mut in_first = true;
    for line in dump.lines() {
        if line.is_empty() {
            if in_first && !cur.is_empty() {
                hexes.push(std::mem::take(&mut cur));
            }
            // a blank line ends a frame's dump; later blocks of the same
            // frame (other data sources) are introduced by a heading
            in_first = true;
            continue;
        }
        if line.ends_with("bytes):") && !cur.is_empty() {
            // a second data source for this frame: ignore its bytes
            hexes.push(std::mem::take(&mut cur));
            in_first = false;
            continue;
        }
        if !in_first || line.len() < 6 || !line[..4].chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        for tok in line[6..].split(' ').take_while(|t| !t.is_empty()) {
            if tok.len() == 2 && tok.chars().all(|c| c.is_ascii_hexdigit()) {
                cur.push_str(tok);
            }
        }
    }
    if !cur.is_empty() {
        hexes.push(cur);
    }
    let lines: Vec<&str> = fields.lines().collect();
    // zero-length frames have no hex dump block
    let mut out = Vec::new();
    let mut h = hexes.into_iter();
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        let cap_len: u32 = f[2].parse().unwrap();
        let hex = if cap_len == 0 {
            String::new()
        } else {
            h.next().unwrap_or_default()
        };
        out.push(Seen {
            time: f[0].to_string(),
            len: f[1].parse().unwrap(),
            cap_len,
            hex,
        });
    }
    out
}

/// What this crate's reader sees, in the same shape.
fn our_frames(path: &Path) -> Vec<Seen> {
    let mut r = Reader::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = r.next_frame() {
        let f = f.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        out.push(Seen {
            time: epoch(f.ts_ns),
            len: f.origlen,
            cap_len: f.caplen(),
            hex: hex(f.data),
        });
    }
    out
}

fn capinfos_count(path: &Path) -> u64 {
    let out = run(
        "capinfos",
        &["-M", "-c", "-T", "-r", path.to_str().unwrap()],
    );
    out.trim().rsplit('\t').next().unwrap().parse().unwrap()
}

fn assert_agree(path: &Path) -> usize {
    let ours = our_frames(path);
    let theirs = tshark_frames(path);
    assert_eq!(ours.len(), theirs.len(), "{}: frame count", path.display());
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "{}: frame {}", path.display(), i + 1);
    }
    assert_eq!(
        capinfos_count(path),
        ours.len() as u64,
        "{}: capinfos count",
        path.display()
    );
    ours.len()
}

/// Frames of random bytes (linktype USER0, which tshark shows as plain
/// data), some cut short, some empty.
fn write_random(path: &Path, opts: WriterOptions, n: usize, seed: u64) -> Vec<(u64, Vec<u8>, u32)> {
    let mut s = seed;
    let mut w = Writer::create(path, opts).unwrap();
    let id = w
        .add_interface(&Interface::new(LinkType(147), 65535))
        .unwrap();
    let mut frames = Vec::new();
    let mut ts: u64 = 1_700_000_000_000_000_000;
    for i in 0..n {
        ts += xorshift(&mut s) % 3_000_000_000;
        let len = match i % 7 {
            0 => 0,
            1 => 1514,
            _ => (xorshift(&mut s) % 300) as usize,
        };
        let data: Vec<u8> = (0..len).map(|_| xorshift(&mut s) as u8).collect();
        let origlen = len as u32
            + if i % 3 == 0 {
                (xorshift(&mut s) % 1000) as u32
            } else {
                0
            };
        let mut f = Frame::new(id, LinkType(147), ts, &data);
        f.origlen = origlen;
        if i % 5 == 0 {
            f.flags = Some(EpbFlags(2));
        }
        w.write_frame(&f).unwrap();
        frames.push((ts, data, origlen));
    }
    w.set_final_stats(vec![InterfaceStats {
        interface_id: id,
        ts_ns: ts,
        ifrecv: Some(n as u64),
        ifdrop: Some(0),
        ..InterfaceStats::default()
    }]);
    w.finish().unwrap();
    frames
}

#[test]
fn written_files_match_tshark_and_capinfos() {
    let dir = tempfile::tempdir().unwrap();
    for format in [Format::Pcap, Format::PcapNg] {
        for nanos in [true, false] {
            for endian in [Endian::Little, Endian::Big] {
                let ext = if format == Format::Pcap {
                    "pcap"
                } else {
                    "pcapng"
                };
                let path = dir.path().join(format!("w-{nanos}-{endian:?}.{ext}"));
                let opts = WriterOptions::for_path(&path)
                    .unwrap()
                    .nanos(nanos)
                    .endian(endian);
                let written = write_random(&path, opts, 300, 7);
                let theirs = tshark_frames(&path);
                assert_eq!(theirs.len(), written.len(), "{}", path.display());
                for (i, (t, (ts, data, origlen))) in theirs.iter().zip(&written).enumerate() {
                    let ts = if nanos { *ts } else { ts / 1000 * 1000 };
                    let want = Seen {
                        time: epoch(ts),
                        len: *origlen,
                        cap_len: data.len() as u32,
                        hex: hex(data),
                    };
                    assert_eq!(t, &want, "{} frame {}", path.display(), i + 1);
                }
                assert_eq!(capinfos_count(&path), 300);
                assert_eq!(our_frames(&path), theirs);
            }
        }
    }
}

/// A frame whose contents tshark dissects without making further data
/// sources: an Ethernet frame with a local experimental EtherType, an IPv4
/// packet with an experimental protocol, an SLL2 header in front of the same.
fn typed_frame(lt: LinkType, i: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..(20 + i % 50)).map(|j| (i * 7 + j) as u8).collect();
    let ipv4 = |p: &[u8]| {
        let total = (20 + p.len()) as u16;
        let mut v = vec![
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            1,
            0,
            0,
            64,
            253,
            0,
            0,
            10,
            77,
            0,
            1,
            10,
            77,
            0,
            2,
        ];
        v.extend_from_slice(p);
        v
    };
    match lt {
        LinkType::ETHERNET => {
            let mut v = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x88, 0xb5];
            v.extend_from_slice(&payload);
            v
        }
        LinkType::RAW => ipv4(&payload),
        _ => {
            // SLL2: protocol, reserved, ifindex, hatype, pkttype, addr len, addr
            let mut v = vec![
                0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 4, 6, 2, 0, 0, 0, 0, 1, 0, 0,
            ];
            v.extend_from_slice(&ipv4(&payload));
            v
        }
    }
}

#[test]
fn three_interfaces_with_different_linktypes_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("three.pcapng");
    let lts = [LinkType::ETHERNET, LinkType::RAW, LinkType::LINUX_SLL2];
    let mut w = Writer::create(&path, WriterOptions::new(Format::PcapNg)).unwrap();
    for (k, lt) in lts.iter().enumerate() {
        let mut i = Interface::new(*lt, 262_144);
        i.name = Some(format!("if{k}"));
        i.description = Some(format!("interface {k}"));
        w.add_interface(&i).unwrap();
    }
    let mut want = Vec::new();
    for i in 0..90 {
        let id = (i % 3) as u32;
        let data = typed_frame(lts[id as usize], i);
        let ts = 1_600_000_000_000_000_000 + i as u64 * 1_000_000_007;
        w.write_frame(&Frame::new(id, lts[id as usize], ts, &data))
            .unwrap();
        want.push((id, ts, data));
    }
    for id in 0..3 {
        w.write_stats(&InterfaceStats {
            interface_id: id,
            ts_ns: 1_700_000_000_000_000_000,
            ifrecv: Some(30),
            ifdrop: Some(id as u64),
            osdrop: Some(1),
            ..InterfaceStats::default()
        })
        .unwrap();
    }
    w.finish().unwrap();

    // tshark: interface ids, names, encapsulations, bytes
    let n = assert_agree(&path);
    assert_eq!(n, 90);
    let fields = run(
        "tshark",
        &[
            "-r",
            path.to_str().unwrap(),
            "-T",
            "fields",
            "-e",
            "frame.interface_id",
            "-e",
            "frame.interface_name",
            "-e",
            "frame.encap_type",
        ],
    );
    for (line, (id, _, _)) in fields.lines().zip(&want) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f[0], id.to_string());
        assert_eq!(f[1], format!("if{id}"));
        // Wireshark's encapsulation numbers: Ethernet 1, raw IP 7, SLL2 210
        let encap = ["1", "7", "210"][*id as usize];
        assert_eq!(f[2], encap, "{line}");
    }
    let info = run("capinfos", &["-M", path.to_str().unwrap()]);
    assert!(info.contains("Number of interfaces in file: 3"), "{info}");
    assert!(info.contains("Number of packets = 30"), "{info}");

    // our reader: the same, and the statistics
    let mut r = Reader::open(&path).unwrap();
    let mut got = Vec::new();
    let mut stats = Vec::new();
    while let Some(rec) = r.next_record() {
        match rec.unwrap() {
            Record::Frame(f) => got.push((f.interface_id, f.ts_ns, f.data.to_vec())),
            Record::Stats(s) => stats.push((s.interface_id, s.ifrecv, s.ifdrop, s.osdrop)),
            _ => {}
        }
    }
    assert_eq!(got, want);
    assert_eq!(
        stats,
        vec![
            (0, Some(30), Some(0), Some(1)),
            (1, Some(30), Some(1), Some(1)),
            (2, Some(30), Some(2), Some(1))
        ]
    );
    let names: Vec<_> = r
        .interfaces()
        .iter()
        .map(|i| i.name.clone().unwrap())
        .collect();
    assert_eq!(names, ["if0", "if1", "if2"]);
}

fn base_capture(dir: &Path) -> PathBuf {
    let path = dir.join("base.pcap");
    let mut w = Writer::create(&path, WriterOptions::new(Format::Pcap).nanos(false)).unwrap();
    w.add_interface(&Interface::new(LinkType::ETHERNET, 65535))
        .unwrap();
    for i in 0..200 {
        let data = typed_frame(LinkType::ETHERNET, i);
        let ts = 1_650_000_000_000_000_000 + i as u64 * 333_333_000;
        w.write_frame(&Frame::new(0, LinkType::ETHERNET, ts, &data))
            .unwrap();
    }
    w.finish().unwrap();
    path
}

#[test]
fn reads_files_written_by_editcap_and_tcpdump() {
    let dir = tempfile::tempdir().unwrap();
    let base = base_capture(dir.path());
    let b = base.to_str().unwrap();
    let p = |name: &str| dir.path().join(name);
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let keys = p("keys.txt");
    std::fs::write(
        &keys,
        "CLIENT_RANDOM 0000000000000000000000000000000000000000000000000000000000000000 \
         000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\n",
    )
    .unwrap();
    let cases: Vec<(PathBuf, Vec<String>)> = vec![
        (p("e.pcapng"), vec!["-F".into(), "pcapng".into()]),
        (p("e.ns.pcap"), vec!["-F".into(), "nsecpcap".into()]),
        (
            p("e.snap.pcapng"),
            vec!["-F".into(), "pcapng".into(), "-s".into(), "30".into()],
        ),
        (
            p("e.user.pcap"),
            vec!["-F".into(), "pcap".into(), "-T".into(), "user0".into()],
        ),
        (
            p("e.raw.pcapng"),
            vec!["-F".into(), "pcapng".into(), "-T".into(), "rawip".into()],
        ),
        (
            p("e.shift.ns.pcap"),
            vec![
                "-F".into(),
                "nsecpcap".into(),
                "-t".into(),
                "0.000000123".into(),
            ],
        ),
        (
            p("e.comment.pcapng"),
            vec![
                "-F".into(),
                "pcapng".into(),
                "-a".into(),
                "3:a packet comment".into(),
            ],
        ),
        (
            p("e.dsb.pcapng"),
            vec![
                "--inject-secrets".into(),
                format!("tls,{}", s(&keys)),
                "-F".into(),
                "pcapng".into(),
            ],
        ),
    ];
    for (out, args) in &cases {
        let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
        a.push(b);
        let o = s(out);
        a.push(&o);
        run("editcap", &a);
        assert_eq!(assert_agree(out), 200, "{o}");
    }
    // the comment and the decryption secrets block
    let mut r = Reader::open(p("e.comment.pcapng")).unwrap();
    let mut comments = Vec::new();
    while let Some(f) = r.next_frame() {
        if let Some(c) = f.unwrap().comment_lossy() {
            comments.push(c.into_owned());
        }
    }
    assert_eq!(comments, vec!["a packet comment"]);
    let mut r = Reader::open(p("e.dsb.pcapng")).unwrap();
    while r.next_record().is_some() {}
    assert_eq!(
        r.counts().skipped_blocks,
        1,
        "the DSB is skipped and counted"
    );
    // a nanosecond pcap through editcap keeps the shift of 123 ns
    let mut r = Reader::open(p("e.shift.ns.pcap")).unwrap();
    assert_eq!(r.next_frame().unwrap().unwrap().ts_ns % 1000, 123);

    // tcpdump as a writer: micro and nano precision, and snaplen
    let t1 = p("t.pcap");
    run("tcpdump", &["-r", b, "-w", &s(&t1)]);
    assert_eq!(assert_agree(&t1), 200);
    let t2 = p("t.ns.pcap");
    run(
        "tcpdump",
        &[
            "--time-stamp-precision=nano",
            "-r",
            &s(&p("e.ns.pcap")),
            "-w",
            &s(&t2),
        ],
    );
    assert_eq!(assert_agree(&t2), 200);
    let mut r = Reader::open(&t2).unwrap();
    r.next_record();
    assert!(r.section().unwrap().nanosecond);
    let t3 = p("t.snap.pcap");
    run("tcpdump", &["-r", b, "-s", "40", "-w", &s(&t3)]);
    assert_eq!(assert_agree(&t3), 200);
    // stdin
    let mut child = Command::new("tcpdump")
        .args(["-r", b, "-w", "-"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("tcpdump is needed for this test");
    let mut r = Reader::from_read(child.stdout.take().unwrap(), ReaderOptions::default());
    let mut n = 0;
    while let Some(f) = r.next_frame() {
        f.unwrap();
        n += 1;
    }
    assert!(child.wait().unwrap().success());
    assert_eq!(n, 200);
}

#[test]
fn converted_files_match_the_original() {
    // pcap -> pcapng -> pcap through this crate, checked by tshark
    let dir = tempfile::tempdir().unwrap();
    let base = base_capture(dir.path());
    let ng = dir.path().join("c.pcapng");
    let back = dir.path().join("c.pcap");
    for (from, to) in [(&base, &ng), (&ng, &back)] {
        let mut r = Reader::open(from).unwrap();
        let mut w = Writer::create(to, WriterOptions::for_path(to).unwrap().nanos(false)).unwrap();
        while let Some(rec) = r.next_record() {
            match rec.unwrap() {
                Record::Interface { interface, .. } => {
                    w.add_interface(interface).unwrap();
                }
                Record::Frame(f) => w.write_frame(&f).unwrap(),
                _ => {}
            }
        }
        w.finish().unwrap();
    }
    let a = tshark_frames(&base);
    assert_eq!(tshark_frames(&ng), a);
    assert_eq!(tshark_frames(&back), a);
    assert_eq!(std::fs::read(&back).unwrap(), std::fs::read(&base).unwrap());
}
