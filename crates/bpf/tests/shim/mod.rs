//! The libpcap peer: builds `bpf_shim.c` (libpcap's `bpf_filter` and
//! `bpf_validate` behind a line protocol) with the system C compiler and
//! talks to it over pipes. Shared by the differential tests and the
//! benchmark.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::OnceLock;

use sluice_bpf::Insn;

/// A running `bpf_shim`.
pub struct Libpcap {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    line: String,
}

/// Builds once per process (tests run on several threads), into a name of
/// its own that is then renamed into place, so that a running copy is
/// never overwritten.
fn build(out_dir: &str) -> Result<PathBuf, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT.get_or_init(|| compile(out_dir)).clone()
}

fn compile(out_dir: &str) -> Result<PathBuf, String> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/shim/bpf_shim.c");
    let exe = PathBuf::from(out_dir).join(format!("bpf_shim.{}", std::process::id()));
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".to_owned());
    let out = Command::new(&cc)
        .args(["-O2", "-Wall", "-o"])
        .arg(&exe)
        .arg(&src)
        .arg("-lpcap")
        .output()
        .map_err(|e| format!("running the C compiler `{cc}`: {e} (install a C compiler)"))?;
    if !out.status.success() {
        return Err(format!(
            "compiling {} against libpcap failed (is libpcap-dev installed?):\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let installed = PathBuf::from(out_dir).join("bpf_shim");
    std::fs::rename(&exe, &installed).map_err(|e| format!("renaming {}: {e}", exe.display()))?;
    Ok(installed)
}

impl Libpcap {
    /// Builds the shim into `out_dir` (use `env!("CARGO_TARGET_TMPDIR")`)
    /// and starts it. Panics with the reason when it cannot: the
    /// differential tests must not pass without their peer.
    pub fn start(out_dir: &str) -> Libpcap {
        let exe = build(out_dir).unwrap_or_else(|e| panic!("libpcap peer unavailable: {e}"));
        let mut child = Command::new(&exe)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", exe.display()));
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Libpcap {
            child,
            stdin,
            stdout,
            line: String::new(),
        }
    }

    fn send(&mut self, text: &str) {
        self.stdin
            .write_all(text.as_bytes())
            .expect("writing to bpf_shim");
        self.stdin.flush().expect("writing to bpf_shim");
    }

    fn reply(&mut self, tag: &str) -> Vec<u64> {
        self.line.clear();
        self.stdout
            .read_line(&mut self.line)
            .expect("reading from bpf_shim");
        let mut words = self.line.split_whitespace();
        assert_eq!(words.next(), Some(tag), "bpf_shim replied {:?}", self.line);
        words.map(|w| w.parse().expect("a number")).collect()
    }

    /// Sets the program; returns libpcap's `bpf_validate` verdict.
    pub fn set_program(&mut self, prog: &[Insn]) -> bool {
        let mut cmd = format!("p {}", prog.len());
        for i in prog {
            let _ = write!(cmd, " {} {} {} {}", i.code, i.jt, i.jf, i.k);
        }
        cmd.push('\n');
        self.send(&cmd);
        self.reply("v")[0] == 1
    }

    /// libpcap's `bpf_filter` on each packet, with the current program
    /// (which must pass the kernel's checks).
    pub fn run_all(&mut self, packets: &[(Vec<u8>, u32)]) -> Vec<u32> {
        let mut cmd = String::new();
        for (bytes, wire_len) in packets {
            push_packet(&mut cmd, 'r', bytes, *wire_len);
        }
        self.send(&cmd);
        (0..packets.len())
            .map(|_| self.reply("r")[0] as u32)
            .collect()
    }

    /// Replaces the benchmark packet set.
    pub fn set_bench_packets(&mut self, packets: &[(Vec<u8>, u32)]) {
        let mut cmd = String::from("c\n");
        for (bytes, wire_len) in packets {
            push_packet(&mut cmd, 'a', bytes, *wire_len);
        }
        self.send(&cmd);
    }

    /// Runs the current program over the benchmark set `iters` times,
    /// timed inside the shim: (nanoseconds, packets accepted).
    pub fn bench(&mut self, iters: u64) -> (u64, u64) {
        self.send(&format!("b {iters}\n"));
        let r = self.reply("b");
        (r[0], r[1])
    }
}

fn push_packet(cmd: &mut String, tag: char, bytes: &[u8], wire_len: u32) {
    let _ = write!(cmd, "{tag} {wire_len} ");
    if bytes.is_empty() {
        cmd.push('-');
    }
    for b in bytes {
        let _ = write!(cmd, "{b:02x}");
    }
    cmd.push('\n');
}

impl Drop for Libpcap {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
