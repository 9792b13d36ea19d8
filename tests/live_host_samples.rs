//! End-to-end tests of the sample commands in host mode: `sluice echo
//! --host` and `sluice impair --host` run inside a lab's `h` namespace
//! (`ip netns exec`), so the rules they install are never the machine's.
//! They need root (CI runs as root); without it they fail with the reason.
//! Every wait is bounded; a guard stops the command if a test fails, and
//! the lab goes away on drop, taking any leftover rule with it.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_linux::lab::{Lab, LabOptions, Ns, require_root, require_tools};

const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");

fn lab(kbridge: bool) -> Lab {
    if let Err(e) = require_root("the live host-mode sample tests") {
        panic!("{e}: run them as root");
    }
    if let Err(e) = require_tools(&["ip", "ping", "kill", "iptables-save"]) {
        panic!("the live host-mode sample tests cannot run: {e}");
    }
    let _ = Lab::cleanup_stale();
    let mut o = LabOptions::new();
    o.kbridge = kbridge;
    Lab::up(&o).unwrap_or_else(|e| panic!("cannot build the lab: {e}"))
}

/// A sluice command running in `h`, its stderr collected by a thread. On
/// drop (a failed test) it is killed, so it never outlives the lab.
struct Running {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Starts `sluice ARGS` in `h` and waits (at most 10 s) until it says
    /// what it diverts: its rules are in place then.
    fn start(lab: &Lab, args: &[&str]) -> Running {
        let mut cmd: Vec<&str> = vec![SLUICE];
        cmd.extend_from_slice(args);
        let mut child = lab
            .command(Ns::Host, &cmd)
            .unwrap()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {cmd:?}: {e}"));
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut pipe = child.stderr.take().expect("stderr is piped");
        let sink = Arc::clone(&stderr);
        let reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut r = Running {
            child,
            stderr,
            reader: Some(reader),
        };
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if r.text().contains("diverting ") {
                return r;
            }
            if let Ok(Some(status)) = r.child.try_wait() {
                let err = r.finish_reading();
                panic!("{cmd:?} exited early ({status}): {err}");
            }
            assert!(
                Instant::now() < end,
                "{cmd:?} did not install its rules within 10 s: {}",
                r.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn text(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    fn finish_reading(&mut self) -> String {
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
        self.text()
    }

    /// SIGINT, then waits (at most 10 s) for the exit; the status and
    /// everything it wrote to stderr.
    fn stop(mut self) -> (ExitStatus, String) {
        // `ip netns exec` runs the command in place: the child is sluice.
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill -INT");
        assert!(sent.success(), "kill -INT {pid} failed");
        let end = Instant::now() + Duration::from_secs(10);
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            assert!(
                Instant::now() < end,
                "sluice did not stop within 10 s of SIGINT: {}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        (status, self.finish_reading())
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Every rule of every iptables variant and family in `h`.
fn rules_in_h(lab: &Lab) -> String {
    lab.iptables_rules(Ns::Host)
}

/// Runs ping in `h` (every wait bounded by -W and -w); its output.
fn ping(lab: &Lab, to: IpAddr, count: u32, interval: &str) -> (bool, String) {
    let count = count.to_string();
    let to = to.to_string();
    let out = lab
        .exec_unchecked(
            Ns::Host,
            &["ping", "-n", "-c", &count, "-i", interval, "-W", "1", &to],
        )
        .expect("running ping in h");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// The rtt values (ms) of ping's reply lines.
fn rtts(out: &str) -> Vec<f64> {
    out.lines()
        .filter_map(|l| l.split("time=").nth(1))
        .filter_map(|t| t.split_whitespace().next()?.parse().ok())
        .collect()
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

/// The number after `label` in `text` ("lost 12," → 12).
fn count_after(text: &str, label: &str) -> Option<u64> {
    let rest = &text[text.find(label)? + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit())
        .find(|w| !w.is_empty())?
        .parse()
        .ok()
}

#[test]
fn echo_host_answers_ping_for_an_address_nobody_has() {
    // No bridge: the addresses are on h's subnet, so h routes them out of
    // eth0, but nothing is there to answer.
    let lab = lab(false);
    let x = lab.subnet();
    let ghost4 = IpAddr::V4(Ipv4Addr::new(10, 77, x, 99));
    let ghost6 = IpAddr::V6(Ipv6Addr::new(0xfd77, u16::from(x), 0, 0, 0, 0, 0, 0x99));
    let (g4, g6) = (ghost4.to_string(), ghost6.to_string());

    // Without sluice nobody answers.
    let (ok, out) = ping(&lab, ghost4, 1, "0.2");
    assert!(!ok, "{ghost4} answered before sluice ran:\n{out}");

    let echo = Running::start(
        &lab,
        &["echo", "--host", "--ip", &g4, "--ip", &g6, "--queue", "301"],
    );
    assert!(
        echo.text().contains("diverting sent packets"),
        "{}",
        echo.text()
    );
    for ghost in [ghost4, ghost6] {
        let (ok, out) = ping(&lab, ghost, 5, "0.2");
        assert!(ok, "ping {ghost} failed with sluice echo --host:\n{out}");
        assert_eq!(rtts(&out).len(), 5, "{out}");
        assert!(out.contains(&format!("from {ghost}")), "{out}");
    }
    let (status, err) = echo.stop();
    assert!(status.success(), "{status}: {err}");
    assert!(
        err.contains("answered: 5 ICMP echo, 5 ICMPv6 echo"),
        "{err}"
    );
    assert!(err.contains("10 injected"), "{err}");
    let left = rules_in_h(&lab);
    assert!(!left.contains("SLUICE"), "rules left behind:\n{left}");
    // And nobody answers again.
    let (ok, out) = ping(&lab, ghost4, 1, "0.2");
    assert!(!ok, "{ghost4} answered after sluice stopped:\n{out}");
}

#[test]
fn impair_host_delays_what_the_host_sends() {
    let lab = lab(true);
    let n4 = IpAddr::V4(lab.net_ip4());
    let (ok, out) = ping(&lab, n4, 5, "0.1");
    assert!(ok, "the lab does not ping:\n{out}");
    let base = median(&rtts(&out));

    // Received and sent packets are diverted (the default); only what the
    // host sends (--side up) is held.
    let imp = Running::start(
        &lab,
        &[
            "impair", "--host", "--queue", "302", "--delay", "50", "--side", "up", "icmp",
        ],
    );
    assert!(
        imp.text().contains("diverting received, sent packets"),
        "{}",
        imp.text()
    );
    let (ok, out) = ping(&lab, n4, 10, "0.1");
    let (status, err) = imp.stop();
    assert!(ok, "ping through sluice impair failed:\n{out}\n{err}");
    let r = rtts(&out);
    assert_eq!(r.len(), 10, "{out}");
    let added = median(&r) - base;
    eprintln!(
        "ping rtt: {base:.3} ms without, median {:.3} ms with --delay 50 (added {added:.3} ms); {r:?}",
        median(&r)
    );
    // Never early; late only by scheduling (a few ms on a loaded machine).
    assert!(
        r.iter().all(|&t| t >= 50.0),
        "an rtt under the 50 ms delay:\n{out}"
    );
    assert!(
        (50.0..56.0).contains(&added),
        "added {added:.3} ms for a 50 ms delay:\n{out}"
    );
    assert!(status.success(), "{status}: {err}");
    // Both directions reach the handler; it decides on the sent ones.
    assert!(err.contains("20 seen by the handler"), "{err}");
    assert_eq!(count_after(&err, "impair: "), Some(10), "{err}");
    assert!(err.contains("delayed 10 "), "{err}");
    assert!(!rules_in_h(&lab).contains("SLUICE"), "rules left behind");
}

#[test]
fn impair_host_loses_what_it_is_told_to() {
    let lab = lab(true);
    let n4 = IpAddr::V4(lab.net_ip4());
    let imp = Running::start(
        &lab,
        &[
            "impair", "--host", "--out", "--queue", "303", "--loss", "50%", "icmp",
        ],
    );
    assert!(
        imp.text().contains("diverting sent packets"),
        "{}",
        imp.text()
    );
    let (_, out) = ping(&lab, n4, 40, "0.05");
    let (status, err) = imp.stop();
    assert!(status.success(), "{status}: {err}");
    let answered = rtts(&out).len() as u64;
    let lost = count_after(&err, "lost ").expect("the account says what was lost");
    assert_eq!(count_after(&err, "impair: "), Some(40), "{err}");
    // Only the requests are impaired: each one lost is a missing reply.
    assert_eq!(answered + lost, 40, "{out}\n{err}");
    // 40 draws at 50%: 20 ± 10 is over three standard deviations.
    assert!((10..=30).contains(&lost), "lost {lost} of 40 at 50%: {err}");
}

#[test]
fn impair_host_carries_tcp_it_delays() {
    // Held packets are injected later through raw sockets: their
    // checksums (partial for the host's own) must be complete, and large
    // GSO sends must be cut to the MTU, or the transfer stalls.
    let lab = lab(true);
    let addr = SocketAddr::new(IpAddr::V4(lab.net_ip4()), 6301);
    let imp = Running::start(
        &lab,
        &["impair", "--host", "--queue", "304", "--delay", "2", "tcp"],
    );
    let listener = lab
        .run_in(Ns::Net, move || TcpListener::bind(addr))
        .unwrap()
        .expect("listening in n");
    const LEN: usize = 4 << 20;
    let data: Vec<u8> = (0..LEN).map(|i| (i * 7 + i / 251) as u8).collect();
    let receiver = std::thread::spawn(move || {
        let Ok((mut c, _)) = listener.accept() else {
            return Vec::new();
        };
        c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut got = Vec::with_capacity(LEN);
        let _ = c.read_to_end(&mut got);
        got
    });
    let mut c = lab
        .run_in(Ns::Host, move || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        })
        .unwrap()
        .expect("connecting from h through sluice impair");
    c.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    c.write_all(&data).expect("sending 4 MiB");
    drop(c);
    let got = receiver.join().expect("the receiver thread");
    let took = started.elapsed();
    let (status, err) = imp.stop();
    assert_eq!(
        got.len(),
        LEN,
        "received {} of {LEN} bytes:\n{err}",
        got.len()
    );
    assert!(got == data, "the bytes arrived changed:\n{err}");
    eprintln!("4 MiB over TCP through impair --host --delay 2 in {took:?}");
    assert!(status.success(), "{status}: {err}");
    assert!(!err.contains("injections failed"), "{err}");
}
