//! End-to-end tests of the `sluice` binary on capture files: exit codes,
//! interoperation with real peers (tshark, capinfos, tcpdump, editcap), and
//! robustness over tcpdump's corpus of odd and malformed captures.
//!
//! The peers are Debian packages that CI installs; a test that needs one
//! fails with the reason when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use sluice::pcap::{Format, Interface, RecordMeta, Writer, WriterOptions};
use sluice::process::synth::{Synth, SynthOptions};
use sluice::wire::LinkType;

fn sluice() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sluice"))
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().expect("running a command")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails the test with a clear reason when a peer tool is missing.
fn need(tool: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "this test needs `{tool}` (Debian: tshark / tcpdump / wireshark-common); .ci/run installs it"
    );
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "sluice-test-{tag}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::create_dir_all(&dir).expect("creating a temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `count` synthetic frames; returns (timestamps, frames).
fn synth_capture(path: &Path, format: Format, nanos: bool, count: usize) -> Vec<(u64, Vec<u8>)> {
    let mut w = Writer::create(path, WriterOptions::new(format).nanos(nanos)).unwrap();
    w.add_interface(&Interface::new(LinkType::ETHERNET, 262_144))
        .unwrap();
    let mut synth = Synth::new(SynthOptions::default());
    let mut frames = Vec::new();
    for _ in 0..count {
        let (ts, f) = synth.next_frame();
        let meta = RecordMeta {
            interface_id: 0,
            ts_ns: ts,
            origlen: f.len() as u32,
            ..RecordMeta::default()
        };
        w.write_packet(&meta, f).unwrap();
        frames.push((ts, f.to_vec()));
    }
    w.finish().unwrap();
    frames
}

/// (epoch time as tshark prints it with nanoseconds, frame length, bytes)
fn tshark_frames(path: &Path) -> Vec<(String, usize, String)> {
    need("tshark");
    let o = run(Command::new("tshark").args(["-r"]).arg(path).args([
        "-T",
        "fields",
        "-e",
        "frame.time_epoch",
        "-e",
        "frame.cap_len",
        "-e",
        "frame.len",
    ]));
    assert!(o.status.success(), "tshark failed: {}", stderr(&o));
    let hex = run(Command::new("tshark").args(["-r"]).arg(path).args([
        "-n",
        "-o",
        "tcp.desegment_tcp_streams:FALSE",
        "-x",
    ]));
    assert!(hex.status.success(), "tshark -x failed: {}", stderr(&hex));
    let bytes = frames_from_hexdump(&stdout(&hex));
    stdout(&o)
        .lines()
        .zip(bytes)
        .map(|(line, b)| {
            let mut f = line.split('\t');
            let t = f.next().unwrap_or_default().to_string();
            let cap: usize = f.next().unwrap_or_default().parse().unwrap_or(0);
            (t, cap, b)
        })
        .collect()
}

/// Parses `tshark -x` hex dumps into one hex string per frame.
fn frames_from_hexdump(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            continue;
        }
        // "0000  ff ff ff ff ff ff 02 77 ...   ascii"
        let Some((offset, rest)) = line.split_once("  ") else {
            continue;
        };
        if offset.len() != 4 || !offset.chars().all(|c| c.is_ascii_hexdigit()) {
            continue;
        }
        for tok in rest.split(' ').take(16) {
            if tok.len() == 2 && tok.chars().all(|c| c.is_ascii_hexdigit()) {
                cur.push_str(tok);
            } else {
                break;
            }
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn epoch(ts: u64, nanos: bool) -> String {
    if nanos {
        format!("{}.{:09}", ts / 1_000_000_000, ts % 1_000_000_000)
    } else {
        format!("{}.{:06}000", ts / 1_000_000_000, ts % 1_000_000_000 / 1000)
    }
}

#[test]
fn usage_errors_exit_2_and_read_errors_exit_1() {
    let o = run(sluice().arg("print"));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let o = run(sluice().args(["no-such-command"]));
    assert_eq!(o.status.code(), Some(2));
    let o = run(sluice().args(["info", "/nonexistent/file.pcap"]));
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("/nonexistent/file.pcap"),
        "{}",
        stderr(&o)
    );
    let o = run(sluice().arg("--help"));
    assert_eq!(o.status.code(), Some(0));
}

#[test]
fn a_corrupt_file_names_the_offset() {
    let dir = TempDir::new("corrupt");
    let p = dir.path("bad.pcapng");
    // A section header block whose length is not a multiple of 4.
    let mut b = vec![
        0x0a, 0x0d, 0x0d, 0x0a, 0x1d, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a,
    ];
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&[0xff; 8]);
    b.extend_from_slice(&[0x1d, 0, 0, 0]);
    std::fs::write(&p, &b).unwrap();
    let o = run(sluice().arg("info").arg(&p));
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("offset 0"), "{err}");
    assert!(err.contains("multiple of 4"), "{err}");
}

#[test]
fn files_we_write_are_read_by_tshark_and_capinfos() {
    need("capinfos");
    let dir = TempDir::new("interop");
    for (format, nanos, name) in [
        (Format::Pcap, false, "us.pcap"),
        (Format::Pcap, true, "ns.pcap"),
        (Format::PcapNg, true, "ns.pcapng"),
        (Format::PcapNg, false, "us.pcapng"),
    ] {
        let p = dir.path(name);
        let frames = synth_capture(&p, format, nanos, 300);
        // Also through `sluice convert`, both ways.
        let converted = dir.path(&format!("conv-{name}"));
        let target = if format == Format::Pcap {
            "pcapng"
        } else {
            "pcap"
        };
        let o = run(sluice().arg("convert").arg(&p).arg(&converted).args([
            "--format",
            target,
            "--ts",
            if nanos { "ns" } else { "us" },
        ]));
        assert!(o.status.success(), "{}", stderr(&o));
        for file in [&p, &converted] {
            let o = run(Command::new("capinfos").args(["-M", "-c"]).arg(file));
            assert!(o.status.success(), "capinfos {name}: {}", stderr(&o));
            assert!(
                stdout(&o).contains(&format!("Number of packets:   {}", frames.len())),
                "{}",
                stdout(&o)
            );
            let seen = tshark_frames(file);
            assert_eq!(seen.len(), frames.len(), "{}", file.display());
            for (i, ((ts, data), (t, cap, bytes))) in frames.iter().zip(&seen).enumerate() {
                assert_eq!(*t, epoch(*ts, nanos), "frame {i} of {}", file.display());
                assert_eq!(*cap, data.len(), "frame {i}");
                assert_eq!(*bytes, hex(data), "frame {i}");
            }
        }
    }
}

#[test]
fn files_from_tcpdump_and_editcap_are_read() {
    need("editcap");
    let dir = TempDir::new("peers");
    let src = dir.path("src.pcap");
    let frames = synth_capture(&src, Format::Pcap, false, 200);
    let variants = [
        ("ng.pcapng", vec!["-F", "pcapng"]),
        ("ns.pcap", vec!["-F", "nsecpcap"]),
        ("snap.pcap", vec!["-s", "64"]),
    ];
    for (name, args) in variants {
        let out = dir.path(name);
        let o = run(Command::new("editcap").args(&args).arg(&src).arg(&out));
        assert!(o.status.success(), "editcap: {}", stderr(&o));
        let o = run(sluice().args(["info", "--json"]).arg(&out));
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        assert_eq!(v["packets"], frames.len() as u64, "{name}");
        assert_eq!(v["first_ts"], frames[0].0 / 1000 * 1000, "{name}");
        if name == "snap.pcap" {
            let truncated = frames.iter().filter(|(_, f)| f.len() > 64).count();
            assert_eq!(v["truncated"], truncated as u64);
        } else {
            let total: usize = frames.iter().map(|(_, f)| f.len()).sum();
            assert_eq!(v["bytes"], total as u64, "{name}");
        }
    }
    need("tcpdump");
    // tcpdump re-writing a file (it writes pcap with microseconds).
    let out = dir.path("tcpdump.pcap");
    let o = run(Command::new("tcpdump")
        .args(["-r"])
        .arg(&src)
        .arg("-w")
        .arg(&out)
        .arg("udp"));
    assert!(o.status.success(), "tcpdump: {}", stderr(&o));
    let expected = {
        let o = run(Command::new("tcpdump").arg("-r").arg(&out).arg("-n"));
        stdout(&o).lines().count()
    };
    let o = run(sluice().args(["print", "-r"]).arg(&out));
    assert!(o.status.success());
    assert_eq!(stdout(&o).lines().count(), expected);
}

/// The timestamp column of a tcpdump-style line, with its leading space.
fn timestamp_column(line: &str) -> String {
    let start = line.len() - line.trim_start().len();
    let end = line[start..].find(' ').map_or(line.len(), |i| start + i);
    line[..end].to_string()
}

#[test]
fn print_follows_tcpdump_timestamps_and_count() {
    need("tcpdump");
    let dir = TempDir::new("print");
    let p = dir.path("p.pcap");
    synth_capture(&p, Format::Pcap, false, 100);
    for flag in ["-tt", "-ttt", "-ttttt"] {
        let ours = run(sluice().args(["print", flag, "-c", "50", "-r"]).arg(&p));
        let theirs = run(Command::new("tcpdump")
            .args(["-n", flag, "-c", "50", "-r"])
            .arg(&p));
        assert!(ours.status.success() && theirs.status.success());
        let a: Vec<String> = stdout(&ours).lines().map(timestamp_column).collect();
        let b: Vec<String> = stdout(&theirs).lines().map(timestamp_column).collect();
        assert_eq!(a, b, "timestamps with {flag}");
    }
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    let dir = TempDir::new("pipe");
    let p = dir.path("p.pcap");
    synth_capture(&p, Format::Pcap, true, 20_000);
    let mut child = sluice()
        .args(["print", "-r"])
        .arg(&p)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe.
    {
        use std::io::Read;
        let mut out = child.stdout.take().unwrap();
        let mut buf = [0u8; 100];
        let _ = out.read(&mut buf).unwrap();
    }
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).is_empty(), "{}", stderr(&o));
}

#[test]
fn stdin_and_stdout() {
    let dir = TempDir::new("stdio");
    let p = dir.path("p.pcapng");
    let frames = synth_capture(&p, Format::PcapNg, true, 500);
    // convert - - | info -
    let conv = run(sluice()
        .args(["convert", "-", "-", "--format", "pcap"])
        .stdin(std::fs::File::open(&p).unwrap()));
    assert!(conv.status.success(), "{}", stderr(&conv));
    let mut info = sluice()
        .args(["info", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        info.stdin.take().unwrap().write_all(&conv.stdout).unwrap();
    }
    let o = info.wait_with_output().unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["packets"], frames.len() as u64);
    assert_eq!(v["format"], "pcap");
    // A pcapng source converted to pcap defaults to microseconds, as
    // editcap does.
    assert_eq!(v["last_ts"], frames.last().unwrap().0 / 1000 * 1000);
}

/// Every file of tcpdump's test corpus goes through `info` and `print`
/// without a panic, a hang or unbounded memory.
#[test]
fn corpus_survives_info_and_print() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/tcpdump-tests");
    if !corpus.is_dir() {
        // The corpus lives beside the project, not in it; CI has it.
        assert!(
            std::env::var_os("CI").is_none(),
            "the capture corpus is missing at {}",
            corpus.display()
        );
        eprintln!(
            "corpus not present at {}: nothing to read",
            corpus.display()
        );
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
        })
        .collect();
    files.sort();
    assert!(
        files.len() > 800,
        "only {} files in the corpus",
        files.len()
    );
    let (mut ok, mut refused) = (0, 0);
    let mut failures = Vec::new();
    for f in &files {
        for cmd in [vec!["info"], vec!["print", "-v", "-e", "-r"]] {
            let start = Instant::now();
            // 512 MiB of address space is far more than a bounded reader
            // needs; a runaway allocation fails instead of swapping.
            let mut child = Command::new("sh")
                .arg("-c")
                .arg("ulimit -v 524288; exec \"$@\"")
                .arg("sh")
                .arg(env!("CARGO_BIN_EXE_sluice"))
                .args(&cmd)
                .arg(f)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            let status = loop {
                if let Some(s) = child.try_wait().unwrap() {
                    break s;
                }
                if start.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                    failures.push(format!("{} {}: hung", cmd[0], f.display()));
                    break child.wait().unwrap();
                }
                std::thread::sleep(Duration::from_millis(2));
            };
            let mut err = String::new();
            {
                use std::io::Read;
                let _ = child.stderr.take().unwrap().read_to_string(&mut err);
            }
            match status.code() {
                Some(0) => ok += 1,
                Some(1) if !err.contains("panicked") => refused += 1,
                _ => failures.push(format!("{} {}: {status} {err}", cmd[0], f.display())),
            }
        }
    }
    eprintln!(
        "corpus: {} files, {ok} runs read to the end, {refused} refused with an error",
        files.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn compile_prints_the_three_forms_and_diagnoses_with_a_caret() {
    let o = run(sluice().args(["compile", "tcp", "port", "80"]));
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("(000) ldh      [12]\n"),
        "{}",
        stdout(&o)
    );
    assert!(stdout(&o).contains("ret      #262144"));
    let o = run(sluice().args(["compile", "-ddd", "-s", "65535", "--", "udp"]));
    let text = stdout(&o);
    let mut lines = text.lines();
    let count: usize = lines.next().unwrap().parse().unwrap();
    assert_eq!(lines.clone().count(), count);
    assert!(text.contains("6 0 0 65535"), "{text}");
    let o = run(sluice().args(["compile", "-dd", "ip"]));
    assert!(
        stdout(&o).contains("{ 0x28, 0, 0, 0x0000000c },"),
        "{}",
        stdout(&o)
    );

    let o = run(sluice().args(["compile", "tcp", "port"]));
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "sluice: expected a port number or name after 'port', found end of expression\n  tcp port\n          ^\n"
    );
    let o = run(sluice().args(["compile", "--linktype", "NOPE", "ip"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn filter_and_print_agree_with_tcpdump() {
    need("tcpdump");
    let dir = TempDir::new("filter");
    let pcap = dir.path("in.pcap");
    synth_capture(&pcap, Format::Pcap, false, 3000);
    for expr in [
        "tcp port 80",
        "host 10.77.1.7 or net 10.77.3.0/24",
        "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
        "vlan 100 and udp",
        "icmp or icmp6 or arp",
        "not ip",
    ] {
        let ours_out = dir.path("ours.pcap");
        let theirs_out = dir.path("theirs.pcap");
        let o = run(sluice()
            .args(["filter", "-r"])
            .arg(&pcap)
            .arg("-w")
            .arg(&ours_out)
            .arg(expr));
        assert!(o.status.success(), "{expr}: {}", stderr(&o));
        let t = run(Command::new("tcpdump")
            .arg("-r")
            .arg(&pcap)
            .arg("-w")
            .arg(&theirs_out)
            .arg(expr));
        assert!(t.status.success(), "tcpdump {expr}: {}", stderr(&t));
        // Byte-identical records: compare the frames tshark-free, with
        // sluice's own reader.
        let a = std::fs::read(&ours_out).unwrap();
        let b = std::fs::read(&theirs_out).unwrap();
        // Same file header but for the snapshot length field tcpdump copies.
        assert_eq!(a[24..], b[24..], "{expr}: records differ");
        let matched = stderr(&o);
        let p = run(sluice().args(["print", "-r"]).arg(&pcap).arg(expr));
        let tp = run(Command::new("tcpdump")
            .args(["-n", "-r"])
            .arg(&pcap)
            .arg(expr));
        assert_eq!(
            stdout(&p).lines().count(),
            stdout(&tp).lines().count(),
            "{expr}"
        );
        assert!(
            matched.starts_with(&format!(
                "{} of 3000 frames matched",
                stdout(&tp).lines().count()
            )),
            "{expr}: {matched}"
        );
    }
    // pcapng with several interfaces of different linktypes: the filter is
    // compiled for each, and every interface is kept.
    let ng = dir.path("multi.pcapng");
    {
        let mut w = Writer::create(&ng, WriterOptions::new(Format::PcapNg)).unwrap();
        let eth = w
            .add_interface(&Interface::new(LinkType::ETHERNET, 262_144))
            .unwrap();
        let raw = w
            .add_interface(&Interface::new(LinkType::RAW, 262_144))
            .unwrap();
        let mut synth = Synth::new(SynthOptions::default());
        for i in 0..400u32 {
            let (ts, f) = synth.next_frame();
            let (id, data) = if i % 2 == 0 || f.len() < 34 || f[12..14] != [8, 0] {
                (eth, f)
            } else {
                (raw, &f[14..])
            };
            let meta = RecordMeta {
                interface_id: id,
                ts_ns: ts,
                origlen: data.len() as u32,
                ..RecordMeta::default()
            };
            w.write_packet(&meta, data).unwrap();
        }
        w.finish().unwrap();
    }
    let out = dir.path("multi-out.pcapng");
    let o = run(sluice()
        .args(["filter", "-r"])
        .arg(&ng)
        .arg("-w")
        .arg(&out)
        .args(["tcp", "and", "dst", "port", "443"]));
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&stdout(&run(sluice().args(["info", "--json"]).arg(&out)))).unwrap();
    assert_eq!(v["interfaces"].as_array().unwrap().len(), 2);
    let matched: u64 = stderr(&o).split(' ').next().unwrap().parse().unwrap();
    assert_eq!(v["packets"], matched);
    assert!(matched > 10, "{}", stderr(&o));
}
