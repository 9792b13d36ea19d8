//! Live tests of the wire-mode commands: `sluice bridge`, `echo`, `impair`
//! and `tunnel` run as processes in the middle namespace of lab
//! topologies, with real traffic (ping, raw frames) between h and n.
//!
//! They need root (CI runs them as root); without it they fail with the
//! reason, never skip. Labs are removed on drop, also when a test panics;
//! every process a test starts is killed on drop; every wait is bounded.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_linux::lab::{Lab, LabOptions, Ns};

const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");

fn tool(name: &str) {
    if let Err(e) = sluice_linux::lab::require_tools(&[name]) {
        panic!("this test needs it: {e} (see .ci/run)");
    }
}

fn lab() -> Lab {
    tool("ping");
    let _ = Lab::cleanup_stale();
    let mut o = LabOptions::new();
    o.offloads = Some(false);
    Lab::up(&o).unwrap_or_else(|e| panic!("cannot build the lab: {e}"))
}

/// A sluice process in a lab namespace: stderr collected, killed on drop.
struct Proc {
    child: Option<Child>,
    what: String,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    /// Starts `sluice ARGS` in namespace `ns` and waits (at most 10 s) for
    /// its "bridging" line: the sockets are open and frames flow.
    fn start(lab: &Lab, ns: Ns, args: &[&str]) -> Proc {
        let mut words = vec![SLUICE];
        words.extend_from_slice(args);
        let mut cmd = lab.command(ns, &words).expect("a command in the lab");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting sluice");
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let err = child.stderr.take().expect("stderr");
        let into = Arc::clone(&stderr);
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                into.lock().unwrap().push(line);
            }
        });
        let p = Proc {
            child: Some(child),
            what: args.join(" "),
            stderr,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while !p.text().contains("bridging ") {
            assert!(
                Instant::now() < deadline,
                "`sluice {}` did not start within 10 s: {}",
                p.what,
                p.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        p
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    fn text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill {sig} {}", self.pid());
    }

    /// Waits (at most `secs`) for the process to end; its status and
    /// stderr.
    fn wait(mut self, secs: u64) -> (ExitStatus, String) {
        let mut child = self.child.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(secs);
        let status = loop {
            if let Some(s) = child.try_wait().expect("waiting") {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "`sluice {}` did not end within {secs} s: {}",
                    self.what,
                    self.text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // Let the reader thread take the last lines.
        std::thread::sleep(Duration::from_millis(100));
        (status, self.text())
    }

    /// SIGINT, then the status and stderr.
    fn stop(self) -> (ExitStatus, String) {
        self.signal("-INT");
        self.wait(10)
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Per-packet RTTs (ms) of `ping ARGS… TO` from h, and the number received.
fn ping(lab: &Lab, to: &str, args: &[&str]) -> (Vec<f64>, usize) {
    let mut words = vec!["ping"];
    words.extend_from_slice(args);
    words.push(to);
    let out = lab.exec_unchecked(Ns::Host, &words).expect("running ping");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let times: Vec<f64> = text
        .split("time=")
        .skip(1)
        .filter_map(|t| t.split_whitespace().next()?.parse().ok())
        .collect();
    let received = text
        .lines()
        .find_map(|l| {
            let (_, rest) = l.split_once(" transmitted, ")?;
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0);
    (times, received)
}

fn median(v: &mut [f64]) -> f64 {
    assert!(!v.is_empty(), "no RTTs");
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The number after `label` in `text` ("lost 97," → 97).
fn number_after(text: &str, label: &str) -> u64 {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in: {text}"));
    text[at + label.len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {label:?} in: {text}"))
}

#[test]
fn echo_answers_ping_for_a_node_that_does_not_exist() {
    let lab = lab();
    let x = lab.subnet();
    let (v4, v6) = (format!("10.77.{x}.99"), format!("fd77:{x:x}::99"));
    let p = Proc::start(
        &lab,
        Ns::Middle,
        &[
            "echo", "--upper", "up0", "--lower", "lo0", "--ip", &v4, "--ip", &v6,
        ],
    );
    let (_, got4) = ping(&lab, &v4, &["-c", "3", "-i", "0.1", "-W", "2"]);
    let (_, got6) = ping(&lab, &v6, &["-c", "3", "-i", "0.1", "-W", "2"]);
    let (status, text) = p.stop();
    assert_eq!((got4, got6), (3, 3), "{text}");
    assert!(status.success(), "{status}: {text}");
    assert_eq!(number_after(&text, "answered:"), 1, "one ARP reply: {text}");
    assert_eq!(number_after(&text, "ARP,"), 3, "three echo replies: {text}");
    assert!(text.contains("3 ICMPv6 echo"), "{text}");
}

#[test]
fn impair_loss_ten_percent_loses_ten_percent() {
    let lab = lab();
    let n = lab.net_ip4().to_string();
    let p = Proc::start(
        &lab,
        Ns::Middle,
        &[
            "impair", "--upper", "up0", "--lower", "lo0", "--loss", "10%", "--side", "up", "icmp",
        ],
    );
    let (_, received) = ping(&lab, &n, &["-c", "1000", "-i", "0.002", "-W", "1", "-q"]);
    let (status, text) = p.stop();
    assert!(status.success(), "{status}: {text}");
    let lost_by_us = number_after(&text, "lost");
    let lost_by_ping = 1000 - received as u64;
    // Binomial(1000, 0.1): σ ≈ 9.5; ±4σ.
    assert!(
        (62..=138).contains(&lost_by_ping),
        "ping lost {lost_by_ping} of 1000: {text}"
    );
    assert_eq!(lost_by_ping, lost_by_us, "every loss is impair's: {text}");
}

#[test]
fn impair_delay_adds_fifty_milliseconds() {
    let lab = lab();
    let n = lab.net_ip4().to_string();
    let args = ["-c", "40", "-i", "0.02", "-W", "2"];
    let base = {
        let p = Proc::start(
            &lab,
            Ns::Middle,
            &[
                "impair", "--upper", "up0", "--lower", "lo0", "--side", "up", "icmp",
            ],
        );
        let (mut t, _) = ping(&lab, &n, &args);
        let (status, text) = p.stop();
        assert!(status.success(), "{status}: {text}");
        median(&mut t)
    };
    let p = Proc::start(
        &lab,
        Ns::Middle,
        &[
            "impair", "--upper", "up0", "--lower", "lo0", "--delay", "50ms", "--side", "up", "icmp",
        ],
    );
    let (mut t, received) = ping(&lab, &n, &args);
    let (status, text) = p.stop();
    assert!(status.success(), "{status}: {text}");
    assert_eq!(received, 40, "{text}");
    let added = median(&mut t) - base;
    assert!(
        (49.0..=51.0).contains(&added),
        "added {added:.3} ms (base {base:.3} ms): {text}"
    );
    assert!(text.contains("timers: 40 fired"), "{text}");
}

/// Two labs whose middles are joined by a veth pair carrying the tunnel;
/// n of the second lab also takes an address in the first lab's subnet.
#[test]
fn tunnel_between_two_sluice_instances_carries_traffic() {
    let a = lab();
    let b = lab();
    let x = a.subnet();
    let (am, bm) = (a.ns_name(Ns::Middle), b.ns_name(Ns::Middle));
    let ip = |args: &[&str]| {
        let ok = Command::new("ip")
            .args(args)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ip {args:?}");
    };
    ip(&[
        "-n", &am, "link", "add", "t0", "type", "veth", "peer", "name", "t1", "netns", &bm,
    ]);
    let (ta, tb) = (format!("10.77.{x}.201"), format!("10.77.{x}.202"));
    ip(&["-n", &am, "addr", "add", &format!("{ta}/30"), "dev", "t0"]);
    ip(&["-n", &bm, "addr", "add", &format!("{tb}/30"), "dev", "t1"]);
    ip(&["-n", &am, "link", "set", "t0", "up"]);
    ip(&["-n", &bm, "link", "set", "t1", "up"]);
    let far = format!("10.77.{x}.3");
    b.exec(
        Ns::Net,
        &["ip", "addr", "add", &format!("{far}/24"), "dev", "eth0"],
    )
    .expect("adding the far address");
    let filter = format!("arp or host {far}");
    let (la, lb) = (format!("{ta}:7700"), format!("{tb}:7700"));
    let pa = Proc::start(
        &a,
        Ns::Middle,
        &[
            "tunnel", "--upper", "up0", "--lower", "lo0", "--listen", &la, "--peer", &lb, "--zstd",
            &filter,
        ],
    );
    let pb = Proc::start(
        &b,
        Ns::Middle,
        &[
            "tunnel", "--upper", "up0", "--lower", "lo0", "--listen", &lb, "--peer", &la, &filter,
        ],
    );
    let (_, got) = ping(&a, &far, &["-c", "5", "-i", "0.1", "-W", "2"]);
    let (sa, ta_text) = pa.stop();
    let (sb, tb_text) = pb.stop();
    assert_eq!(got, 5, "ping across the tunnel\nA: {ta_text}\nB: {tb_text}");
    assert!(sa.success() && sb.success(), "{ta_text}\n{tb_text}");
    for t in [&ta_text, &tb_text] {
        assert!(number_after(t, "tunnel out:") >= 6, "{t}");
        assert!(number_after(t, "datagrams,") >= 5, "frames restored: {t}");
        assert_eq!(number_after(t, "bytes);"), 0, "no malformed datagrams: {t}");
    }
}

fn promiscuity(lab: &Lab, dev: &str) -> u64 {
    let out = lab
        .exec(Ns::Middle, &["ip", "-d", "link", "show", "dev", dev])
        .expect("ip link show");
    number_after(&String::from_utf8_lossy(&out.stdout), "promiscuity")
}

#[test]
fn killing_the_bridge_ends_cleanly_and_leaves_nothing() {
    let lab = lab();
    let n = lab.net_ip4().to_string();
    // SIGTERM under load: drains, prints its account, exits 0.
    let p = Proc::start(
        &lab,
        Ns::Middle,
        &["bridge", "--upper", "up0", "--lower", "lo0"],
    );
    assert_eq!(promiscuity(&lab, "up0"), 1);
    let load = {
        let mut c = lab
            .command(Ns::Host, &["ping", "-c", "3000", "-i", "0.001", "-q", &n])
            .unwrap();
        c.stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    std::thread::sleep(Duration::from_millis(500));
    p.signal("-TERM");
    let (status, text) = p.wait(10);
    let mut load = load;
    let _ = load.kill();
    let _ = load.wait();
    assert!(status.success(), "{status}: {text}");
    assert!(text.contains("up0 → lo0:"), "a summary: {text}");
    assert_eq!(promiscuity(&lab, "up0"), 0, "promiscuous mode undone");
    assert_eq!(promiscuity(&lab, "lo0"), 0, "promiscuous mode undone");
    // SIGKILL: the kernel takes everything back with the sockets.
    let p = Proc::start(
        &lab,
        Ns::Middle,
        &["bridge", "--upper", "up0", "--lower", "lo0"],
    );
    let pid = p.pid();
    p.signal("-KILL");
    let (status, _) = p.wait(5);
    assert!(!status.success());
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert_eq!(promiscuity(&lab, "up0"), 0);
    assert_eq!(promiscuity(&lab, "lo0"), 0);
    // And a new bridge opens at once on the same interfaces.
    let p = Proc::start(
        &lab,
        Ns::Middle,
        &["bridge", "--upper", "up0", "--lower", "lo0"],
    );
    let (_, got) = ping(&lab, &n, &["-c", "2", "-i", "0.1", "-W", "2"]);
    let (status, text) = p.stop();
    assert_eq!(got, 2, "{text}");
    assert!(status.success(), "{text}");
}

#[test]
fn bridge_write_saves_a_pcapng_that_tshark_reads() {
    let lab = lab();
    tool("tshark");
    let n = lab.net_ip4().to_string();
    let path =
        std::env::temp_dir().join(format!("sluice-live-bridge-{}.pcapng", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let file = path.display().to_string();
    let p = Proc::start(
        &lab,
        Ns::Middle,
        &[
            "bridge", "--upper", "up0", "--lower", "lo0", "--filter", "icmp", "-w", &file,
        ],
    );
    let (_, got) = ping(&lab, &n, &["-c", "3", "-i", "0.1", "-W", "2"]);
    let (status, text) = p.stop();
    assert_eq!(got, 3, "{text}");
    assert!(status.success(), "{text}");
    let out = Command::new("tshark")
        .args([
            "-r",
            &file,
            "-Y",
            "icmp",
            "-T",
            "fields",
            "-e",
            "frame.interface_name",
            "-e",
            "icmp.type",
        ])
        .output()
        .expect("running tshark");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        lines.iter().filter(|l| *l == "up0 8").count(),
        3,
        "{lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| *l == "lo0 0").count(),
        3,
        "{lines:?}"
    );
}
