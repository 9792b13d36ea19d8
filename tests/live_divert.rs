//! End-to-end tests of `sluice divert` in lab namespaces: the command runs
//! inside the lab's `h` namespace (`ip netns exec`), so the rules it
//! installs are never the machine's. They need root (CI runs as root);
//! without it they fail with the reason. Every loop is bounded in count
//! and time; the lab goes away on drop, taking any leftover rule with it.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sluice_linux::lab::{Lab, LabOptions, Ns};

const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");

fn lab() -> Lab {
    let _ = Lab::cleanup_stale();
    let mut o = LabOptions::new();
    o.kbridge = true;
    Lab::up(&o).unwrap_or_else(|e| panic!("cannot build the lab: {e}"))
}

/// Starts `sluice divert ARGS` in `h`, stderr captured.
fn divert(lab: &Lab, args: &[&str]) -> Child {
    let mut cmd: Vec<&str> = vec![SLUICE, "divert"];
    cmd.extend_from_slice(args);
    lab.command(Ns::Host, &cmd)
        .unwrap()
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting sluice divert")
}

fn divert_output(lab: &Lab, args: &[&str]) -> Output {
    let mut cmd: Vec<&str> = vec![SLUICE, "divert"];
    cmd.extend_from_slice(args);
    lab.exec_unchecked(Ns::Host, &cmd).unwrap()
}

/// Every rule of every iptables variant and family in `h`.
fn rules_in_h(lab: &Lab) -> String {
    lab.iptables_rules(Ns::Host)
}

/// Waits (at most 10 s) until the rules of queue `q` are in place.
fn wait_for_rules(lab: &Lab, q: u16, child: &mut Child) {
    let chain = format!("SLUICE-Q{q}-");
    let end = Instant::now() + Duration::from_secs(10);
    while Instant::now() < end {
        if rules_in_h(lab).contains(&chain) {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let mut err = String::new();
            let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
            panic!("sluice divert exited early ({status}): {err}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("the rules of queue {q} did not appear within 10 s");
}

fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    let _ = child.stderr.take().map(|mut e| e.read_to_string(&mut err));
    err
}

/// A TCP stream from h to n: the sender writes as fast as it can, the
/// receiver counts bytes. Stops when dropped (and after 60 s at most).
struct Stream {
    received: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Stream {
    fn start(lab: &Lab, port: u16) -> Stream {
        let addr = SocketAddr::new(IpAddr::V4(lab.net_ip4()), port);
        let listener = lab
            .run_in(Ns::Net, move || TcpListener::bind(addr))
            .unwrap()
            .expect("listening in n");
        let received = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (Arc::clone(&received), Arc::clone(&stop));
        let reader = std::thread::spawn(move || {
            let Ok((mut c, _)) = listener.accept() else {
                return;
            };
            c.set_read_timeout(Some(Duration::from_millis(200)))
                .unwrap();
            let mut buf = vec![0u8; 1 << 16];
            let end = Instant::now() + Duration::from_secs(60);
            while !s.load(Ordering::Relaxed) && Instant::now() < end {
                match c.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        r.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
        });
        let mut c = lab
            .run_in(Ns::Host, move || {
                TcpStream::connect_timeout(&addr, Duration::from_secs(5))
            })
            .unwrap()
            .expect("connecting from h");
        c.set_write_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let s = Arc::clone(&stop);
        let writer = std::thread::spawn(move || {
            let buf = vec![0x5au8; 1 << 16];
            let end = Instant::now() + Duration::from_secs(60);
            while !s.load(Ordering::Relaxed) && Instant::now() < end {
                if let Err(e) = c.write(&buf)
                    && !matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    )
                {
                    break;
                }
            }
        });
        Stream {
            received,
            stop,
            threads: vec![reader, writer],
        }
    }

    fn bytes(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Waits until `more` bytes beyond `from` arrived; the time it took,
    /// or `None` after `limit`.
    fn progress(&self, from: u64, more: u64, limit: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if self.bytes() >= from + more {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

#[test]
fn kill_9_fails_open_and_cleanup_removes_the_rules() {
    let lab = lab();
    let mut child = divert(&lab, &["-q", "--queue", "201", "tcp"]);
    wait_for_rules(&lab, 201, &mut child);
    let stream = Stream::start(&lab, 6001);
    assert!(
        stream
            .progress(0, 1 << 20, Duration::from_secs(5))
            .is_some(),
        "no traffic through the redirector"
    );
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let at_kill = stream.bytes();
    let took = stream
        .progress(at_kill, 1 << 20, Duration::from_secs(3))
        .expect("traffic stopped after kill -9");
    eprintln!("traffic continued {took:?} after kill -9");
    assert!(
        took < Duration::from_secs(1),
        "traffic took {took:?} to continue after kill -9"
    );
    // The killed process could not remove its rules: they are still there
    // (failing open), until --cleanup.
    let before = rules_in_h(&lab);
    assert!(before.contains("SLUICE-Q201-OUT"), "{before}");
    let out = divert_output(&lab, &["--cleanup"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("removed SLUICE-Q201-IN"), "{text}");
    assert!(text.contains("removed SLUICE-Q201-OUT"), "{text}");
    let after = rules_in_h(&lab);
    assert!(!after.contains("SLUICE"), "{after}");
    assert!(!after.contains("NFQUEUE"), "{after}");
    // Traffic still flows once the rules are gone.
    let now = stream.bytes();
    assert!(
        stream
            .progress(now, 1 << 20, Duration::from_secs(3))
            .is_some()
    );
    let again = divert_output(&lab, &["--cleanup"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("no rules of sluice found"));
}

#[test]
fn sigint_prints_the_account_and_removes_the_rules() {
    let lab = lab();
    let mut child = divert(&lab, &["--queue", "202", "-i", "eth0"]);
    wait_for_rules(&lab, 202, &mut child);
    let stream = Stream::start(&lab, 6002);
    assert!(
        stream
            .progress(0, 4 << 20, Duration::from_secs(5))
            .is_some()
    );
    // A running owner's rules are kept by --cleanup, removed with --force
    // only: check the first half here.
    let out = divert_output(&lab, &["--cleanup"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("kept SLUICE-Q202-IN"), "{text}");
    let pid = child.id().to_string();
    // `ip netns exec` runs the command in place: the child is sluice.
    Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill -INT");
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "sluice divert did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = stderr_of(&mut child);
    assert!(status.success(), "{status}: {err}");
    assert!(err.contains("seen by the handler"), "{err}");
    assert!(err.contains("diverting received, sent packets"), "{err}");
    assert!(!rules_in_h(&lab).contains("SLUICE"));
    drop(stream);
}

#[test]
fn a_deleted_interface_is_a_clear_error() {
    let lab = lab();
    let mut child = divert(&lab, &["-q", "--queue", "203", "-i", "eth0"]);
    wait_for_rules(&lab, 203, &mut child);
    let stream = Stream::start(&lab, 6003);
    assert!(
        stream
            .progress(0, 1 << 20, Duration::from_secs(5))
            .is_some()
    );
    lab.exec(Ns::Host, &["ip", "link", "del", "eth0"]).unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < end,
            "sluice divert hangs after its interface was deleted"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let err = stderr_of(&mut child);
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("interface eth0 was deleted"), "{err}");
    assert!(!rules_in_h(&lab).contains("SLUICE"), "rules left behind");
    drop(stream);
}

#[test]
fn usage_errors() {
    let lab = lab();
    let out = divert_output(&lab, &["--monitor", "--fail-closed"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--fail-closed has no meaning"));
    let out = divert_output(&lab, &["tcp port"]);
    // Refused before anything is installed: the filter does not compile.
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains('^'), "{err}");
    assert!(!rules_in_h(&lab).contains("SLUICE"));
}

#[test]
fn fail_closed_holds_traffic_until_cleanup() {
    let lab = lab();
    let mut child = divert(&lab, &["-q", "--queue", "204", "--fail-closed", "tcp"]);
    wait_for_rules(&lab, 204, &mut child);
    let stream = Stream::start(&lab, 6004);
    assert!(
        stream
            .progress(0, 1 << 20, Duration::from_secs(5))
            .is_some()
    );
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    // Nobody reads the queue and the rules have no bypass: packets drop.
    std::thread::sleep(Duration::from_millis(300));
    let stalled = stream.bytes();
    assert!(
        stream
            .progress(stalled, 1, Duration::from_secs(1))
            .is_none(),
        "traffic went on with --fail-closed and no reader"
    );
    let out = divert_output(&lab, &["--cleanup", "--queue", "204"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed SLUICE-Q204-OUT"));
    // TCP backs off while dropped: allow its retransmission timer.
    assert!(
        stream
            .progress(stalled, 1 << 20, Duration::from_secs(10))
            .is_some(),
        "traffic did not resume after --cleanup"
    );
}
