//! Live tests of host mode: real TCP, ping and rules in lab namespaces.
//! They need root (CI runs as root); without it they fail with the reason.
//!
//! The redirector always runs on a thread that entered the lab's `h`
//! namespace (checked before anything is opened), so the rules it
//! installs and removes are that namespace's, never the machine's. Every
//! loop is bounded in count and time; the lab (and with it every rule
//! left by a failing test) goes away on drop.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_linux::lab::{Lab, LabOptions, Ns, in_namespace};
use sluice_redirect::host::{HostConfig, HostRedirector, Summary, l4};
use sluice_redirect::{Context, FrameMut, Handler, Side, Verdict};

fn require_root() {
    if let Err(e) = sluice_linux::lab::require_root("the host-mode live tests") {
        panic!("{e}: run them as root");
    }
}

fn lab() -> Lab {
    require_root();
    let _ = Lab::cleanup_stale();
    let mut o = LabOptions::new();
    o.kbridge = true;
    Lab::up(&o).unwrap_or_else(|e| panic!("cannot build the lab: {e}"))
}

/// Fails unless the calling thread is in another network namespace than
/// the process's first thread: the guard that keeps the machine's own
/// rules untouched.
fn assert_in_lab_namespace() {
    let main = std::fs::read_link("/proc/self/ns/net").expect("reading /proc/self/ns/net");
    let here =
        std::fs::read_link("/proc/thread-self/ns/net").expect("reading /proc/thread-self/ns/net");
    assert_ne!(
        main, here,
        "refusing to install rules outside a lab namespace"
    );
}

/// Runs a redirector with `handler` in `h` on its own thread; `body`
/// runs meanwhile; then the redirector is stopped and closed. Returns
/// the summary (or the run's error) and the handler.
fn with_divert<H, T>(
    lab: &Lab,
    cfg: HostConfig,
    handler: H,
    body: impl FnOnce(&sluice_redirect::host::Plan) -> T,
) -> (Result<Summary, String>, H, T)
where
    H: Handler + Send,
{
    with_divert_in(&lab.ns_name(Ns::Host), cfg, handler, body)
}

/// [`with_divert`] in the namespace named `hname`.
fn with_divert_in<H, T>(
    hname: &str,
    cfg: HostConfig,
    handler: H,
    body: impl FnOnce(&sluice_redirect::host::Plan) -> T,
) -> (Result<Summary, String>, H, T)
where
    H: Handler + Send,
{
    let hname = hname.to_owned();
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|s| {
        let worker = s.spawn(move || {
            in_namespace(&hname, move || {
                assert_in_lab_namespace();
                let mut handler = handler;
                let mut r = match HostRedirector::open(cfg) {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Err(e.to_string()));
                        return (Err(e.to_string()), handler);
                    }
                };
                let _ = tx.send(Ok((r.stopper(), r.plan().clone())));
                let ran = r.run(&mut handler);
                let closed = r.close();
                let out = match (ran, closed) {
                    (Ok(()), Ok(s)) => Ok(s),
                    (Err(e), _) => Err(e.to_string()),
                    (_, Err(e)) => Err(e.to_string()),
                };
                (out, handler)
            })
            .expect("entering the lab namespace")
        });
        let started = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the redirector did not start within 20 s");
        let (stop, plan) = match started {
            Ok(x) => x,
            Err(e) => {
                let _ = worker.join();
                panic!("opening host mode: {e}");
            }
        };
        let out = body(&plan);
        stop.trigger();
        let (summary, handler) = worker.join().expect("the redirector thread panicked");
        (summary, handler, out)
    })
}

/// TCP ports of an IP packet (after the IP header), if it is TCP.
fn tcp_ports(p: &[u8]) -> Option<(u16, u16)> {
    let l = l4::locate(p)?;
    if l.protocol != l4::TCP {
        return None;
    }
    let t = p.get(l.offset..l.offset + 4)?;
    Some((
        u16::from_be_bytes([t[0], t[1]]),
        u16::from_be_bytes([t[2], t[3]]),
    ))
}

/// Records the sides of TCP packets on `port` and drops those to or
/// from `drop_port`.
struct Recorder {
    port: u16,
    drop_port: u16,
    seen: Arc<Mutex<Vec<(Side, u16, u16)>>>,
}

impl Handler for Recorder {
    fn on_frame(&mut self, f: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let Some((sp, dp)) = tcp_ports(f.data()) else {
            return Verdict::Pass;
        };
        if sp == self.drop_port || dp == self.drop_port {
            return Verdict::Drop;
        }
        if sp == self.port || dp == self.port {
            self.seen.lock().unwrap().push((f.side(), sp, dp));
        }
        Verdict::Pass
    }
}

fn listen(lab: &Lab, ns: Ns, addr: SocketAddr) -> TcpListener {
    lab.run_in(ns, move || TcpListener::bind(addr))
        .unwrap()
        .unwrap_or_else(|e| panic!("listening on {addr}: {e}"))
}

fn connect(lab: &Lab, ns: Ns, addr: SocketAddr, timeout: Duration) -> std::io::Result<TcpStream> {
    lab.run_in(ns, move || TcpStream::connect_timeout(&addr, timeout))
        .unwrap()
}

/// Echoes one connection's bytes back (on a thread), at most 10 s.
fn echo_once(l: TcpListener) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        l.set_nonblocking(false).unwrap();
        if let Ok((mut s, _)) = l.accept() {
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = [0u8; 65536];
            let end = Instant::now() + Duration::from_secs(10);
            while Instant::now() < end {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if s.write_all(&buf[..n]).is_err() {
                            break;
                        }
                    }
                }
            }
        }
    })
}

fn round_trip(mut s: TcpStream, bytes: usize) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let data: Vec<u8> = (0..bytes).map(|i| (i % 251) as u8).collect();
    let mut got = vec![0u8; bytes];
    let mut w = s.try_clone().unwrap();
    let d = data.clone();
    let writer = std::thread::spawn(move || w.write_all(&d));
    s.read_exact(&mut got).expect("reading the echo");
    writer.join().unwrap().expect("writing");
    assert_eq!(got, data, "the echo differs from what was sent");
    got
}

#[test]
fn handler_sees_tcp_both_ways_and_drops() {
    let lab = lab();
    let mut cfg = HostConfig::new();
    cfg.queue = 101;
    cfg.filter = Some("tcp".into());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let rec = Recorder {
        port: 5001,
        drop_port: 5002,
        seen: Arc::clone(&seen),
    };
    let n4 = IpAddr::V4(lab.net_ip4());
    let n6 = IpAddr::V6(lab.net_ip6());
    let (summary, _, dropped_err) = with_divert(&lab, cfg, rec, |plan| {
        assert!(
            plan.selection.starts_with("in the kernel"),
            "{}",
            plan.selection
        );
        for ip in [n4, n6] {
            let l = listen(&lab, Ns::Net, SocketAddr::new(ip, 5001));
            let echo = echo_once(l);
            let s = connect(
                &lab,
                Ns::Host,
                SocketAddr::new(ip, 5001),
                Duration::from_secs(5),
            )
            .expect("connecting through the redirector");
            round_trip(s, 3 << 20);
            echo.join().unwrap();
        }
        let _l = listen(&lab, Ns::Net, SocketAddr::new(n4, 5002));
        connect(
            &lab,
            Ns::Host,
            SocketAddr::new(n4, 5002),
            Duration::from_millis(1500),
        )
        .err()
    });
    let summary = summary.expect("host mode");
    let seen = seen.lock().unwrap();
    let up = seen
        .iter()
        .filter(|(s, _, dp)| *s == Side::Upper && *dp == 5001)
        .count();
    let down = seen
        .iter()
        .filter(|(s, sp, _)| *s == Side::Lower && *sp == 5001)
        .count();
    assert!(up > 10 && down > 10, "up {up} down {down}: {summary}");
    let e = dropped_err.expect("a connection the handler drops must not open");
    assert!(
        matches!(
            e.kind(),
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
        ),
        "{e}"
    );
    assert!(summary.counters.dropped_handler > 0, "{summary}");
    assert_eq!(summary.stats.id_gaps, 0, "{summary}");
    assert_no_rules(&lab);
}

/// No chain of ours in either family of either iptables in `h`.
fn assert_no_rules(lab: &Lab) {
    for tool in [
        "iptables-nft-save",
        "ip6tables-nft-save",
        "iptables-legacy-save",
        "ip6tables-legacy-save",
    ] {
        let out = lab.exec_unchecked(Ns::Host, &[tool]).unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains("SLUICE"), "{tool} still lists:\n{text}");
    }
}

/// Duplicates every echo request it sees by injecting a copy: the copy
/// must reach the peer (a DUP! reply) and never come back here.
struct Duplicator {
    requests: Arc<Mutex<u32>>,
}

impl Handler for Duplicator {
    fn on_frame(&mut self, f: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict {
        let p = f.data();
        if f.side() == Side::Upper
            && let Some(l) = l4::locate(p)
            && l.protocol == 1
            && p.get(l.offset) == Some(&8)
        {
            *self.requests.lock().unwrap() += 1;
            let copy = p.to_vec();
            ctx.inject(Side::Lower, &copy);
        }
        Verdict::Pass
    }
}

#[test]
fn injected_packets_are_not_diverted_again() {
    let lab = lab();
    let mut cfg = HostConfig::new();
    cfg.queue = 102;
    cfg.filter = Some("icmp".into());
    let requests = Arc::new(Mutex::new(0));
    let h = Duplicator {
        requests: Arc::clone(&requests),
    };
    let n4 = lab.net_ip4().to_string();
    let (summary, _, ping) = with_divert(&lab, cfg, h, |_| {
        lab.exec_unchecked(Ns::Host, &["ping", "-c", "5", "-i", "0.2", "-W", "2", &n4])
            .unwrap()
    });
    let summary = summary.expect("host mode");
    let out = String::from_utf8_lossy(&ping.stdout);
    assert!(out.contains("DUP!"), "no duplicate reply:\n{out}");
    assert_eq!(*requests.lock().unwrap(), 5, "{summary}");
    assert_eq!(summary.counters.injected, 5, "{summary}");
    let rules = summary.stats.rules.expect("rule counters");
    assert_eq!(rules.skipped_marked, 5, "{summary}");
}

/// Changes every 'a' to 'b' in TCP payloads from h to port 5003.
struct Rewriter;

impl Handler for Rewriter {
    fn on_frame(&mut self, f: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let Some((_, 5003)) = tcp_ports(f.data()) else {
            return Verdict::Pass;
        };
        let Some(l) = l4::locate(f.data()) else {
            return Verdict::Pass;
        };
        let thl = usize::from(f.data()[l.offset + 12] >> 4) * 4;
        let start = l.offset + thl;
        if !f.data()[start..].contains(&b'a') {
            return Verdict::Pass;
        }
        let partial = f.meta().offload.csum_partial;
        let d = f.data_mut();
        for b in &mut d[start..] {
            if *b == b'a' {
                *b = b'b';
            }
        }
        // A partial checksum is completed by the engine; a full one is
        // ours to fix.
        if !partial {
            l4::complete_checksum(d);
        }
        Verdict::Pass
    }
}

#[test]
fn changed_bytes_reach_the_peer() {
    let lab = lab();
    let mut cfg = HostConfig::new();
    cfg.queue = 103;
    cfg.filter = Some("tcp port 5003".into());
    let n4 = IpAddr::V4(lab.net_ip4());
    let data: Vec<u8> = b"abcabc".iter().cycle().take(2 << 20).copied().collect();
    let ab = data.iter().filter(|&&b| b == b'a' || b == b'b').count();
    let (summary, _, got) = with_divert(&lab, cfg, Rewriter, |_| {
        let l = listen(&lab, Ns::Net, SocketAddr::new(n4, 5003));
        let reader = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut all = Vec::new();
            let _ = s.read_to_end(&mut all);
            all
        });
        let mut s = connect(
            &lab,
            Ns::Host,
            SocketAddr::new(n4, 5003),
            Duration::from_secs(5),
        )
        .expect("connecting");
        s.write_all(&data).unwrap();
        drop(s);
        reader.join().unwrap()
    });
    let summary = summary.expect("host mode");
    assert_eq!(got.len(), 2 << 20, "{summary}");
    assert!(!got.contains(&b'a'), "an 'a' got through: {summary}");
    assert_eq!(got.iter().filter(|&&b| b == b'b').count(), ab, "{summary}");
    assert!(summary.stats.modified > 0, "{summary}");
    assert_eq!(summary.stats.refused_truncated, 0, "{summary}");
}

/// Drops and scribbles on everything it sees: in monitor mode nothing of
/// that may reach the traffic.
struct Vandal {
    copies: Arc<Mutex<u64>>,
}

impl Handler for Vandal {
    fn on_frame(&mut self, f: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict {
        *self.copies.lock().unwrap() += 1;
        f.data_mut().fill(0);
        assert!(!ctx.inject(Side::Lower, &[0x45; 20]));
        Verdict::Drop
    }
}

#[test]
fn monitor_mode_does_not_alter_traffic() {
    let lab = lab();
    let mut cfg = HostConfig::new();
    cfg.queue = 104;
    cfg.monitor = true;
    cfg.filter = Some("tcp port 5004".into());
    let copies = Arc::new(Mutex::new(0));
    let v = Vandal {
        copies: Arc::clone(&copies),
    };
    let n4 = IpAddr::V4(lab.net_ip4());
    let (summary, _, ()) = with_divert(&lab, cfg, v, |plan| {
        assert!(plan.monitor);
        let l = listen(&lab, Ns::Net, SocketAddr::new(n4, 5004));
        let echo = echo_once(l);
        let s = connect(
            &lab,
            Ns::Host,
            SocketAddr::new(n4, 5004),
            Duration::from_secs(5),
        )
        .expect("connecting");
        round_trip(s, 4 << 20);
        echo.join().unwrap();
        // Copies come in batches (10 ms at most): let the last one land.
        std::thread::sleep(Duration::from_millis(100));
    });
    let summary = summary.expect("host mode");
    let n = *copies.lock().unwrap();
    assert!(n > 20, "only {n} copies: {summary}");
    assert_eq!(summary.counters.handled, n);
    assert_eq!(summary.stats.log_lost, 0, "{summary}");
    assert_no_rules(&lab);
}

/// Counts TCP packets by destination port.
struct PortCounter {
    ports: Arc<Mutex<Vec<u16>>>,
}

impl Handler for PortCounter {
    fn on_frame(&mut self, f: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        if let Some((_, dp)) = tcp_ports(f.data()) {
            self.ports.lock().unwrap().push(dp);
        }
        Verdict::Pass
    }
}

#[test]
fn long_filters_finish_in_user_space() {
    let lab = lab();
    let mut cfg = HostConfig::new();
    cfg.queue = 105;
    cfg.directions.input = false;
    let hosts: Vec<String> = (1..=40).map(|i| format!("host 10.77.250.{i}")).collect();
    cfg.filter = Some(format!("tcp and (dst port 5005 or {})", hosts.join(" or ")));
    let ports = Arc::new(Mutex::new(Vec::new()));
    let h = PortCounter {
        ports: Arc::clone(&ports),
    };
    let n4 = IpAddr::V4(lab.net_ip4());
    let (summary, _, ()) = with_divert(&lab, cfg, h, |plan| {
        assert!(
            plan.selection.contains("then in user space"),
            "{}",
            plan.selection
        );
        for port in [5005, 5006] {
            let l = listen(&lab, Ns::Net, SocketAddr::new(n4, port));
            let echo = echo_once(l);
            let s = connect(
                &lab,
                Ns::Host,
                SocketAddr::new(n4, port),
                Duration::from_secs(5),
            )
            .expect("connecting");
            round_trip(s, 1 << 16);
            echo.join().unwrap();
        }
    });
    let summary = summary.expect("host mode");
    let ports = ports.lock().unwrap();
    assert!(ports.iter().all(|&p| p == 5005), "{ports:?}");
    assert!(!ports.is_empty());
    assert!(summary.counters.bypassed > 0, "{summary}");
}

#[test]
fn a_deleted_interface_stops_with_a_clear_error() {
    let lab = lab();
    let mut cfg = HostConfig::new();
    cfg.queue = 106;
    cfg.interface = Some("eth0".into());
    let n4 = lab.net_ip4().to_string();
    let started = Instant::now();
    let (summary, _, ()) = with_divert(&lab, cfg, sluice_redirect::PassThrough, |_| {
        let mut ping = lab
            .command(Ns::Host, &["ping", "-f", "-w", "5", &n4])
            .unwrap()
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        lab.exec(Ns::Host, &["ip", "link", "del", "eth0"]).unwrap();
        // The redirector must notice on its own: wait for it to end.
        let end = Instant::now() + Duration::from_secs(5);
        while Instant::now() < end {
            std::thread::sleep(Duration::from_millis(20));
            if !lab
                .exec_unchecked(Ns::Host, &["iptables-nft-save", "-t", "mangle"])
                .map(|o| String::from_utf8_lossy(&o.stdout).contains("SLUICE"))
                .unwrap_or(false)
            {
                break;
            }
        }
        let _ = ping.kill();
        let _ = ping.wait();
    });
    let e = summary.expect_err("the run must fail when its interface goes");
    assert!(e.contains("interface eth0 was deleted"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_no_rules(&lab);
}

/// The rtt values (ms) of ping's output lines.
fn rtts(out: &str) -> Vec<f64> {
    out.lines()
        .filter_map(|l| l.split("time=").nth(1))
        .filter_map(|t| t.split_whitespace().next()?.parse().ok())
        .collect()
}

#[test]
fn the_echo_sample_answers_in_host_mode() {
    use sluice_redirect::samples::{Echo, EchoConfig};
    let lab = lab();
    let x = lab.subnet();
    let ghost4 = std::net::Ipv4Addr::new(10, 77, x, 99);
    let ghost6: std::net::Ipv6Addr = format!("fd77:{x:x}::99").parse().unwrap();
    let mut cfg = HostConfig::new();
    cfg.queue = 107;
    cfg.directions.input = false;
    cfg.filter = Some("icmp or icmp6".into());
    let echo = Echo::new(EchoConfig::new(Some(ghost4), Some(ghost6)));
    let (summary, echo, (p4, p6)) = with_divert(&lab, cfg, echo, |_| {
        let p4 = lab
            .exec_unchecked(
                Ns::Host,
                &[
                    "ping",
                    "-c",
                    "3",
                    "-i",
                    "0.2",
                    "-W",
                    "2",
                    &ghost4.to_string(),
                ],
            )
            .unwrap();
        let p6 = lab
            .exec_unchecked(
                Ns::Host,
                &[
                    "ping",
                    "-6",
                    "-c",
                    "3",
                    "-i",
                    "0.2",
                    "-W",
                    "2",
                    &ghost6.to_string(),
                ],
            )
            .unwrap();
        (p4, p6)
    });
    let summary = summary.expect("host mode");
    for p in [&p4, &p6] {
        let out = String::from_utf8_lossy(&p.stdout);
        assert!(p.status.success(), "{out}\n{summary}");
        assert_eq!(rtts(&out).len(), 3, "{out}");
    }
    assert_eq!((echo.stats.icmp, echo.stats.icmp6), (3, 3), "{summary}");
    assert_eq!(summary.counters.injected, 6, "{summary}");
}

#[test]
fn the_impair_sample_delays_in_host_mode() {
    use sluice_redirect::samples::{Direction, Impair, ImpairConfig};
    let lab = lab();
    let mut cfg = HostConfig::new();
    cfg.queue = 108;
    cfg.filter = Some("icmp".into());
    let imp = Impair::new(ImpairConfig {
        delay: Duration::from_millis(50),
        direction: Direction::Up,
        ..ImpairConfig::default()
    })
    .unwrap();
    let n4 = lab.net_ip4().to_string();
    let (summary, _, out) = with_divert(&lab, cfg, imp, |_| {
        lab.exec_unchecked(Ns::Host, &["ping", "-c", "10", "-i", "0.1", "-W", "2", &n4])
            .unwrap()
    });
    let summary = summary.expect("host mode");
    let text = String::from_utf8_lossy(&out.stdout);
    let r = rtts(&text);
    assert_eq!(r.len(), 10, "{text}\n{summary}");
    // Never early; late only by scheduling, which on a shared machine
    // (tests in parallel, other loads) can be several milliseconds: the
    // bound is loose, the timer's accuracy is for the benchmarks.
    let mut sorted = r.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!(sorted[0] >= 50.0, "rtt under the 50 ms delay:\n{text}");
    assert!(
        median < 80.0,
        "median rtt {median} ms with a 50 ms delay:\n{text}"
    );
    assert_eq!(summary.stats.stolen, 10, "{summary}");
}

/// Three namespaces of the test's own, `a — r — b`, with `r` routing
/// between two /30 networks of 10.77.Z.0/29; removed on drop.
struct Routed {
    names: [String; 3],
    z: u8,
}

impl Routed {
    fn up() -> Routed {
        require_root();
        let id = std::process::id();
        let z = 200 + (id % 50) as u8;
        let names = ["a", "r", "b"].map(|n| format!("slfw{}{n}", id % 100_000));
        let r = Routed { names, z };
        let [a, rt, b] = &r.names;
        let ip = |args: &[&str]| {
            let out = std::process::Command::new("ip")
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "ip {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        for n in &r.names {
            ip(&["netns", "add", n]);
            ip(&["-n", n, "link", "set", "lo", "up"]);
        }
        ip(&[
            "-n", a, "link", "add", "eth0", "type", "veth", "peer", "name", "ra", "netns", rt,
        ]);
        ip(&[
            "-n", b, "link", "add", "eth0", "type", "veth", "peer", "name", "rb", "netns", rt,
        ]);
        let zz = z.to_string();
        let addr = |last: u8| format!("10.77.{zz}.{last}/30");
        ip(&["-n", a, "addr", "add", &addr(1), "dev", "eth0"]);
        ip(&["-n", rt, "addr", "add", &addr(2), "dev", "ra"]);
        ip(&["-n", rt, "addr", "add", &addr(5), "dev", "rb"]);
        ip(&["-n", b, "addr", "add", &addr(6), "dev", "eth0"]);
        for (n, d) in [(a, "eth0"), (rt, "ra"), (rt, "rb"), (b, "eth0")] {
            ip(&["-n", n, "link", "set", d, "up"]);
        }
        ip(&[
            "-n",
            a,
            "route",
            "add",
            "default",
            "via",
            &format!("10.77.{zz}.2"),
        ]);
        ip(&[
            "-n",
            b,
            "route",
            "add",
            "default",
            "via",
            &format!("10.77.{zz}.5"),
        ]);
        ip(&[
            "netns",
            "exec",
            rt,
            "sysctl",
            "-q",
            "-w",
            "net.ipv4.ip_forward=1",
        ]);
        r
    }

    fn ping_a_to_b(&self, count: &str) -> std::process::Output {
        std::process::Command::new("ip")
            .args([
                "netns",
                "exec",
                &self.names[0],
                "ping",
                "-c",
                count,
                "-i",
                "0.2",
                "-W",
                "2",
            ])
            .arg(format!("10.77.{}.6", self.z))
            .output()
            .unwrap()
    }
}

impl Drop for Routed {
    fn drop(&mut self) {
        for n in &self.names {
            let _ = std::process::Command::new("ip")
                .args(["netns", "del", n])
                .output();
        }
    }
}

/// Records the side of each ICMP packet.
struct Sides {
    seen: Vec<(Side, u8)>,
}

impl Handler for Sides {
    fn on_frame(&mut self, f: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        if let Some(l) = l4::locate(f.data())
            && l.protocol == 1
        {
            self.seen.push((f.side(), f.data()[l.offset]));
        }
        Verdict::Pass
    }
}

#[test]
fn forwarded_packets_take_their_side_from_the_input_interface() {
    let net = Routed::up();
    let mut cfg = HostConfig::new();
    cfg.queue = 109;
    cfg.directions.input = false;
    cfg.directions.output = false;
    cfg.directions.forward = true;
    cfg.forward_upper = vec!["ra".into()];
    cfg.filter = Some("icmp".into());
    let (summary, h, out) = with_divert_in(&net.names[1], cfg, Sides { seen: Vec::new() }, |_| {
        net.ping_a_to_b("3")
    });
    let summary = summary.expect("host mode");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // Requests come in on ra (the upper side), replies on rb.
    let req: Vec<_> = h.seen.iter().filter(|(_, t)| *t == 8).collect();
    let rep: Vec<_> = h.seen.iter().filter(|(_, t)| *t == 0).collect();
    assert_eq!(req.len(), 3, "{summary}");
    assert_eq!(rep.len(), 3, "{summary}");
    assert!(req.iter().all(|(s, _)| *s == Side::Upper));
    assert!(rep.iter().all(|(s, _)| *s == Side::Lower));
    assert_eq!(summary.counters.upper.frames_in, 3);
    assert_eq!(summary.counters.lower.frames_in, 3);
}

/// Counts what it sees.
#[derive(Default)]
struct Count(u64);

impl Handler for Count {
    fn on_frame(&mut self, _f: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        self.0 += 1;
        Verdict::Pass
    }
}

#[test]
fn every_rule_tool_works_or_says_why() {
    use sluice_linux::nfqueue::rules::Backend;
    let lab = lab();
    let n4 = lab.net_ip4().to_string();
    for (i, backend) in Backend::ALL.into_iter().enumerate() {
        if !backend.available() {
            continue;
        }
        let mut cfg = HostConfig::new();
        cfg.queue = 110 + i as u16;
        cfg.filter = Some("icmp".into());
        cfg.backends = vec![backend];
        let hname = lab.ns_name(Ns::Host);
        let opened = in_namespace(&hname, move || {
            assert_in_lab_namespace();
            HostRedirector::open(cfg).map(|r| r.plan().backend.clone())
        })
        .unwrap();
        match opened {
            // Opened and closed again (dropped): now run it for real.
            Ok(name) => {
                assert_eq!(name, backend.name());
                let mut cfg = HostConfig::new();
                cfg.queue = 120 + i as u16;
                cfg.filter = Some("icmp".into());
                cfg.backends = vec![backend];
                let (summary, count, out) = with_divert(&lab, cfg, Count::default(), |_| {
                    lab.exec_unchecked(Ns::Host, &["ping", "-c", "2", "-i", "0.2", &n4])
                        .unwrap()
                });
                let summary = summary.expect("host mode");
                assert!(out.status.success(), "{}: {summary}", backend.name());
                assert_eq!(count.0, 4, "{}: {summary}", backend.name());
                assert_eq!(summary.plan.backend, backend.name());
            }
            // A kernel without the tool's queue statement (nft here): the
            // error names the tool and what it said.
            Err(e) => {
                let msg = e.to_string();
                assert!(msg.contains(backend.name()), "{msg}");
            }
        }
        assert_no_rules(&lab);
    }
}
