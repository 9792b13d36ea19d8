//! Live tests of wire mode: a `WireRedirector` (or the low-level `Bridge`)
//! joins up0 and lo0 in the middle namespace of a lab, and real traffic
//! between h and n goes through it.
//!
//! They need root (CI runs them as root); without it they fail with the
//! reason, never skip. Labs are removed on drop, also when a test panics;
//! engines are stopped on drop; every wait and loop is bounded.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sluice_linux::Interrupt;
use sluice_linux::lab::{Lab, LabOptions, Ns};
use sluice_redirect::samples::PassThru;
use sluice_redirect::wire::{
    Bridge, BridgeConfig, PerDirection, Recv, RecvBuf, Summary, TapConfig, WireConfig,
    WireRedirector,
};
use sluice_redirect::{Context, FrameMut, Handler, Side, Verdict, checksum};

/// A lab with nothing joining up0 and lo0 (the test's bridge does).
fn lab(offloads: bool) -> Lab {
    let _ = Lab::cleanup_stale();
    let mut o = LabOptions::new();
    o.offloads = Some(offloads);
    Lab::up(&o).unwrap_or_else(|e| panic!("cannot build the lab: {e}"))
}

/// An engine running on its own thread; stopped on drop.
struct Running<H: Send + 'static> {
    stop: Arc<Interrupt>,
    thread: Option<JoinHandle<sluice_redirect::wire::Result<(Summary, H)>>>,
}

impl<H: Handler + Send + 'static> Running<H> {
    fn start(lab: &Lab, config: WireConfig, mut handler: H) -> Running<H> {
        let mut engine = lab
            .run_in(Ns::Middle, move || WireRedirector::open(config))
            .expect("entering the middle namespace")
            .unwrap_or_else(|e| panic!("opening the bridge: {e}"));
        let stop = engine.stopper();
        let thread = std::thread::spawn(move || {
            let s = engine.run(&mut handler)?;
            Ok((s, handler))
        });
        Running {
            stop,
            thread: Some(thread),
        }
    }
}

impl<H: Handler + Send + 'static> Running<[H; 2]> {
    /// A loop per direction, `handlers[0]` for the frames from upper.
    fn per_direction(lab: &Lab, config: WireConfig, handlers: [H; 2]) -> Running<[H; 2]> {
        let engine = lab
            .run_in(Ns::Middle, move || PerDirection::open(config))
            .expect("entering the middle namespace")
            .unwrap_or_else(|e| panic!("opening the bridge: {e}"));
        let stop = engine.stopper();
        let thread = std::thread::spawn(move || engine.run(handlers));
        Running {
            stop,
            thread: Some(thread),
        }
    }
}

impl<H: Send + 'static> Running<H> {
    /// Stops the engine (bounded: 10 s) and returns its summary and handler.
    fn finish(mut self) -> (Summary, H) {
        self.stop.trigger();
        let t = self.thread.take().expect("running");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !t.is_finished() {
            assert!(
                Instant::now() < deadline,
                "the engine did not stop within 10 s"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        match t.join() {
            Ok(r) => r.unwrap_or_else(|e| panic!("the engine failed: {e}")),
            Err(p) => std::panic::resume_unwind(p),
        }
    }
}

impl<H: Send + 'static> Drop for Running<H> {
    fn drop(&mut self) {
        self.stop.trigger();
        if let Some(t) = self.thread.take() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !t.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
}

fn ping(lab: &Lab, to: IpAddr, count: u32) -> bool {
    let c = count.to_string();
    let to = to.to_string();
    lab.exec_unchecked(Ns::Host, &["ping", "-c", &c, "-i", "0.05", "-W", "2", &to])
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Deterministic bytes (xorshift), so the receiver can check them.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Sends `data` from h to n over TCP and returns what n received.
fn tcp_transfer(lab: &Lab, data: Vec<u8>, port: u16) -> Vec<u8> {
    let addr = SocketAddr::new(lab.net_ip4().into(), port);
    let listener = lab
        .run_in(Ns::Net, move || TcpListener::bind(addr))
        .unwrap()
        .unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("reading the transfer");
        got
    });
    let mut c = lab
        .run_in(Ns::Host, move || {
            TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        })
        .unwrap()
        .expect("connecting through the bridge");
    c.set_write_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(&data).expect("sending the transfer");
    drop(c);
    server.join().expect("server thread")
}

/// Sends `count` numbered datagrams h→n (paced) and returns the numbers
/// n received, in arrival order.
fn udp_sequence(lab: &Lab, count: u32, port: u16) -> Vec<u32> {
    let to = SocketAddr::new(lab.net_ip4().into(), port);
    let rx = lab
        .run_in(Ns::Net, move || UdpSocket::bind(to))
        .unwrap()
        .unwrap();
    rx.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let tx = lab
        .run_in(Ns::Host, || UdpSocket::bind("0.0.0.0:0"))
        .unwrap()
        .unwrap();
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        while let Ok(n) = rx.recv(&mut buf) {
            if n >= 4 {
                got.push(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
            }
        }
        got
    });
    for i in 0..count {
        let mut d = pattern(200 + (i as usize % 900), u64::from(i));
        d[..4].copy_from_slice(&i.to_be_bytes());
        tx.send_to(&d, to).expect("sending a datagram");
        if i % 10 == 9 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    reader.join().expect("reader thread")
}

/// The UDP lines of n's /proc/net/snmp (receive buffer errors show
/// drops at the receiving socket, not in the bridge).
fn udp_snmp(lab: &Lab) -> String {
    lab.exec_unchecked(Ns::Net, &["cat", "/proc/net/snmp"])
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| l.starts_with("Udp:"))
                .collect::<Vec<_>>()
                .join(" / ")
        })
        .unwrap_or_default()
}

fn pass_through_carries_everything(offloads: bool, per_direction: bool) {
    let lab = lab(offloads);
    let config = WireConfig::new("up0", "lo0");
    let finish: Box<dyn FnOnce() -> (Summary, PassThru)> = if per_direction {
        let r = Running::per_direction(&lab, config, [PassThru::default(), PassThru::default()]);
        Box::new(move || {
            let (s, [up, low]) = r.finish();
            // Each loop saw one side only.
            assert_eq!(
                (up.lower.frames, low.upper.frames),
                (0, 0),
                "{up:?} {low:?}"
            );
            let h = PassThru {
                upper: up.upper,
                lower: low.lower,
            };
            (s, h)
        })
    } else {
        let r = Running::start(&lab, config, PassThru::default());
        Box::new(move || r.finish())
    };
    assert!(
        ping(&lab, lab.net_ip4().into(), 5),
        "ping h→n through the bridge"
    );
    assert!(
        ping(&lab, lab.net_ip6().into(), 3),
        "ping6 h→n through the bridge"
    );
    let data = pattern(8 << 20, 77);
    let got = tcp_transfer(&lab, data.clone(), 5001);
    assert_eq!(got.len(), data.len(), "TCP transfer length");
    assert!(got == data, "TCP transfer bytes differ");
    let seq = udp_sequence(&lab, 2000, 5002);
    let (s, h) = finish();
    let c = s.counters;
    if seq != (0..2000).collect::<Vec<_>>() {
        let missing: Vec<u32> = (0..2000).filter(|i| !seq.contains(i)).collect();
        panic!(
            "UDP lost or reordered: {} received, missing {missing:?}; bridge {c:?}; n's UDP counters: {}",
            seq.len(),
            udp_snmp(&lab)
        );
    }
    assert_eq!(c.dropped(), 0, "{c:?}");
    assert_eq!(c.upper.frames_in, c.lower.frames_out, "{c:?}");
    assert_eq!(c.lower.frames_in, c.upper.frames_out, "{c:?}");
    assert_eq!(c.malformed, 0, "{c:?}");
    assert_eq!(c.upper.frames_in, h.upper.frames, "{c:?} {h:?}");
    assert_eq!(c.lower.frames_in, h.lower.frames, "{c:?} {h:?}");
    if offloads {
        assert!(
            h.upper.gso > 0,
            "with offloads on, GSO frames should cross whole: {h:?}"
        );
        assert!(c.oversize > 0, "GSO frames are counted as oversize: {c:?}");
    }
}

#[test]
fn pass_through_carries_ping_tcp_udp_unchanged_offloads_off() {
    pass_through_carries_everything(false, false);
}

#[test]
fn pass_through_carries_ping_tcp_udp_unchanged_offloads_on() {
    pass_through_carries_everything(true, false);
}

#[test]
fn a_loop_per_direction_carries_ping_tcp_udp_in_order_offloads_off() {
    pass_through_carries_everything(false, true);
}

#[test]
fn a_loop_per_direction_carries_ping_tcp_udp_in_order_offloads_on() {
    pass_through_carries_everything(true, true);
}

#[test]
fn a_loop_per_direction_refuses_what_needs_one_loop() {
    let lab = lab(false);
    let mut monitor = WireConfig::new("up0", "lo0");
    monitor.monitor = true;
    let mut tap = WireConfig::new("up0", "lo0");
    tap.tap = Some(TapConfig::new("/dev/null"));
    for (what, config) in [("monitor mode", monitor), ("the tap", tap)] {
        let r = lab
            .run_in(Ns::Middle, move || PerDirection::open(config))
            .expect("entering the middle namespace");
        match r {
            Ok(_) => panic!("{what}: a loop per direction opened"),
            Err(e) => assert!(e.to_string().contains("one loop"), "{what}: {e}"),
        }
    }
}

/// Changes one byte of any TCP payload holding `rewrite:a` to `b`, and
/// fixes the checksums.
struct Rewrite {
    done: u32,
}

impl Handler for Rewrite {
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let d = frame.data();
        let Some(at) = d.windows(9).position(|w| w == b"rewrite:a") else {
            return Verdict::Pass;
        };
        frame.data_mut()[at + 8] = b'b';
        let r = checksum::refresh(frame);
        assert!(r.transport.is_some(), "a TCP checksum to fix");
        self.done += 1;
        Verdict::Pass
    }
}

fn rewrite_is_seen(offloads: bool) {
    let lab = lab(offloads);
    let mut cfg = WireConfig::new("up0", "lo0");
    cfg.filter = Some("tcp".into());
    let r = Running::start(&lab, cfg, Rewrite { done: 0 });
    let mut msg = pattern(100_000, 5);
    msg[50_000..50_009].copy_from_slice(b"rewrite:a");
    let got = tcp_transfer(&lab, msg.clone(), 5003);
    let (s, h) = r.finish();
    assert_eq!(h.done, 1, "the handler rewrote one segment");
    assert_eq!(got.len(), msg.len());
    assert_eq!(
        &got[50_000..50_009],
        b"rewrite:b",
        "the receiver sees the change"
    );
    assert_eq!(&got[..50_000], &msg[..50_000]);
    assert_eq!(&got[50_009..], &msg[50_009..]);
    assert_eq!(s.counters.dropped(), 0, "{:?}", s.counters);
}

#[test]
fn rewritten_tcp_payload_reaches_the_receiver_offloads_off() {
    rewrite_is_seen(false);
}

#[test]
fn rewritten_tcp_payload_reaches_the_receiver_offloads_on() {
    rewrite_is_seen(true);
}

struct DropAll;

impl Handler for DropAll {
    fn on_frame(&mut self, _f: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        Verdict::Drop
    }
}

#[test]
fn filter_selected_drop_drops_exactly_what_matches() {
    let lab = lab(false);
    let mut cfg = WireConfig::new("up0", "lo0");
    cfg.filter = Some("udp dst port 7001".into());
    let r = Running::start(&lab, cfg, DropAll);
    assert!(
        ping(&lab, lab.net_ip4().into(), 2),
        "ping takes the fast path"
    );
    let n = lab.net_ip4();
    let a = lab
        .run_in(Ns::Net, move || UdpSocket::bind((n, 7001)))
        .unwrap()
        .unwrap();
    let b = lab
        .run_in(Ns::Net, move || UdpSocket::bind((n, 7002)))
        .unwrap()
        .unwrap();
    let tx = lab
        .run_in(Ns::Host, || UdpSocket::bind("0.0.0.0:0"))
        .unwrap()
        .unwrap();
    let count = |s: UdpSocket| {
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 64];
        while let Ok(k) = s.recv(&mut buf) {
            if k == 4 {
                seen.push(u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]));
            }
        }
        seen
    };
    let ra = std::thread::spawn(move || count(a));
    let rb = std::thread::spawn(move || count(b));
    for i in 0..500u32 {
        tx.send_to(&i.to_be_bytes(), (n, 7001)).unwrap();
        tx.send_to(&i.to_be_bytes(), (n, 7002)).unwrap();
        if i % 10 == 9 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let (a, b) = (ra.join().unwrap(), rb.join().unwrap());
    let (s, _) = r.finish();
    assert_eq!(a, Vec::<u32>::new(), "port 7001 must see nothing");
    assert_eq!(
        b,
        (0..500).collect::<Vec<_>>(),
        "port 7002 sees all, in order; bridge {:?}; n's UDP counters: {}",
        s.counters,
        udp_snmp(&lab)
    );
    assert_eq!(s.counters.handled, 500, "{:?}", s.counters);
    assert_eq!(s.counters.dropped_handler, 500, "{:?}", s.counters);
}

#[test]
fn monitor_mode_cannot_drop_and_tap_writes_pcapng() {
    let lab = lab(false);
    let path = std::env::temp_dir().join(format!("sluice-wire-tap-{}.pcapng", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let mut cfg = WireConfig::new("up0", "lo0");
    cfg.monitor = true;
    cfg.filter = Some("icmp".into());
    cfg.tap = Some(TapConfig::new(path.display().to_string()));
    let r = Running::start(&lab, cfg, DropAll);
    assert!(
        ping(&lab, lab.net_ip4().into(), 4),
        "monitor mode cannot drop"
    );
    let (s, _) = r.finish();
    assert!(s.counters.handled >= 8, "{:?}", s.counters);
    assert_eq!(s.counters.dropped_handler, 0, "{:?}", s.counters);
    let tap = s.tap.expect("tap summary");
    assert_eq!(tap.dropped, 0);
    // The file: four interfaces; echo requests read from upper are
    // outbound, replies from lower inbound.
    let mut reader = sluice_pcap::Reader::open(&path).expect("reading the tap file");
    let (mut requests, mut replies) = (0, 0);
    while let Some(f) = reader.next_frame() {
        let f = f.expect("a valid record");
        {
            let icmp_type = f.data.get(34).copied();
            let dir = f.direction();
            match (f.interface_id, icmp_type, dir) {
                (0, Some(8), Some(sluice_pcap::Direction::Outbound)) => requests += 1,
                (1, Some(0), Some(sluice_pcap::Direction::Inbound)) => replies += 1,
                _ => {}
            }
        }
    }
    assert_eq!((requests, replies), (4, 4));
    let _ = std::fs::remove_file(&path);
}

#[test]
fn vlan_tagged_frames_keep_their_tag() {
    // Tagged frames are made by hand (the lab's kernel may lack 802.1Q
    // interfaces): sent raw from h, captured at n, where the kernel
    // takes the tag out into metadata again.
    let lab = lab(false);
    let r = Running::start(&lab, WireConfig::new("up0", "lo0"), PassThru::default());
    let (hmac, nmac) = (lab.mac(Ns::Host, false), lab.mac(Ns::Net, false));
    let mut cap = lab
        .run_in(Ns::Net, || {
            sluice_linux::Capture::open(&sluice_linux::CaptureConfig::new("eth0"))
        })
        .unwrap()
        .expect("capturing on n");
    let mut tx = lab
        .run_in(Ns::Host, || {
            sluice_linux::TxSocket::open(&sluice_linux::TxConfig::new("eth0"))
        })
        .unwrap()
        .expect("a raw socket on h");
    let frames: Vec<Vec<u8>> = (0..10u8)
        .map(|i| {
            let mut f = nmac.to_vec();
            f.extend_from_slice(&hmac);
            f.extend_from_slice(&[0x81, 0x00, 0x20, 0x05, 0x88, 0xb5]);
            f.extend_from_slice(b"sluice vlan test ");
            f.push(i);
            f.resize(64, i);
            f
        })
        .collect();
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    assert_eq!(tx.send(&refs).unwrap().sent, 10);
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while seen.len() < 10 && Instant::now() < deadline {
        if let sluice_linux::Next::Block(b) =
            cap.next_block(Some(Duration::from_millis(100))).unwrap()
        {
            for f in b.frames().unwrap().flatten() {
                if f.data.len() >= 31 && &f.data[14..31] == b"sluice vlan test " {
                    seen.push((f.vlan.map(|v| (v.tci, v.tpid)), f.data[31], f.data.len()));
                }
            }
        }
    }
    let (s, _) = r.finish();
    let want: Vec<_> = (0..10u8).map(|i| (Some((0x2005, 0x8100)), i, 60)).collect();
    assert_eq!(
        seen, want,
        "tag, order and bytes kept; bridge {:?}",
        s.counters
    );
}

#[test]
fn low_level_bridge_forwards_and_shuts_down_cleanly() {
    let lab = lab(false);
    let mut bridge = lab
        .run_in(Ns::Middle, || {
            Bridge::open(&BridgeConfig::new("up0", "lo0"))
        })
        .unwrap()
        .unwrap_or_else(|e| panic!("opening the bridge: {e}"));
    let stop = bridge.interrupt();
    let worker = std::thread::spawn(move || {
        let mut buf = RecvBuf::new(1 << 20, 0);
        let mut forwarded = 0u64;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            assert!(Instant::now() < deadline, "the loop did not end in 30 s");
            match bridge
                .recv(&mut buf, Some(Duration::from_millis(200)))
                .unwrap()
            {
                Recv::Frames(_) => {
                    for side in [Side::Upper, Side::Lower] {
                        let out: Vec<_> = buf
                            .iter()
                            .filter(|r| r.meta.side == side)
                            .map(|r| r.out())
                            .collect();
                        forwarded += bridge.send(side.other(), &out).unwrap().sent;
                    }
                }
                Recv::Timeout => {}
                Recv::Interrupted => {
                    stop_clear(&bridge);
                    bridge.shutdown().unwrap();
                }
                Recv::Closed => return forwarded,
            }
        }
    });
    assert!(
        ping(&lab, lab.net_ip4().into(), 3),
        "ping through the low-level loop"
    );
    stop.trigger();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !worker.is_finished() {
        assert!(
            Instant::now() < deadline,
            "recv did not say Closed after shutdown"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let forwarded = worker.join().unwrap();
    assert!(forwarded >= 6, "forwarded {forwarded}");
    assert!(
        !ping(&lab, lab.net_ip4().into(), 1),
        "nothing bridges after shutdown"
    );
}

fn stop_clear(b: &Bridge) {
    b.interrupt().clear();
}
