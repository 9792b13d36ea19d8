//! Live tests: real sockets in lab namespaces. They need root (CI runs as
//! root); without it they fail with the reason, never skip.
//!
//! Every loop is bounded in count and time; every lab is removed on drop,
//! also when a test panics.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_bpf::{Insn, Program};
use sluice_linux::block::{FramingKind, PacketType};
use sluice_linux::capture::{Capture, CaptureConfig, Fanout, FanoutMode, Next, wait_any};
use sluice_linux::frames::{UdpFlow, UdpFrames};
use sluice_linux::iface::Interface;
use sluice_linux::lab::{Lab, LabOptions, Ns};
use sluice_linux::tx::{TxConfig, TxRingConfig, TxRingVersion, TxSocket};
use sluice_linux::{ErrorKind, Interrupt, RingConfig};
use sluice_wire::LinkType;

/// Reader threads (one per fanout member) own their capture; senders move
/// too.
#[test]
fn sockets_can_move_to_other_threads() {
    fn is_send<T: Send>() {}
    is_send::<Capture>();
    is_send::<TxSocket>();
    is_send::<Lab>();
    fn is_sync<T: Sync + Send>() {}
    is_sync::<Interrupt>();
}

fn require_root() {
    if let Err(e) = sluice_linux::lab::require_root("the live tests") {
        panic!("{e}: run them as root");
    }
}

fn lab(opts: LabOptions) -> Lab {
    require_root();
    let _ = Lab::cleanup_stale();
    Lab::up(&opts).unwrap_or_else(|e| panic!("cannot build the lab: {e}"))
}

fn quiet_lab() -> Lab {
    let mut o = LabOptions::new();
    o.kbridge = true;
    o.offloads = Some(false);
    lab(o)
}

/// A frame as the file would keep it, plus its metadata.
#[derive(Clone, Debug)]
struct Got {
    bytes: Vec<u8>,
    origlen: u32,
    pkttype: PacketType,
    raw: Vec<u8>,
    vlan: Option<(u16, u16)>,
    ifindex: i32,
    protocol: u16,
}

/// Reads blocks until `done` says so or `limit` passes; at most 100k frames.
fn collect(cap: &mut Capture, limit: Duration, mut done: impl FnMut(&[Got]) -> bool) -> Vec<Got> {
    let end = Instant::now() + limit;
    let mut out = Vec::new();
    while Instant::now() < end && out.len() < 100_000 && !done(&out) {
        match cap
            .next_block(Some(Duration::from_millis(20)))
            .expect("waiting for frames")
        {
            Next::Block(b) => {
                let framing = b.framing();
                for f in b.frames().expect("block descriptor") {
                    let f = f.expect("frame in block");
                    out.push(Got {
                        bytes: f.parts(framing).to_vec(),
                        origlen: f.parts(framing).origlen(),
                        pkttype: f.sll.pkttype,
                        raw: f.data.to_vec(),
                        vlan: f.vlan.map(|v| (v.tci, v.tpid)),
                        ifindex: f.sll.ifindex,
                        protocol: f.sll.protocol,
                    });
                }
            }
            Next::Timeout | Next::Interrupted => {}
        }
    }
    out
}

fn small_ring() -> RingConfig {
    RingConfig {
        block_size: 1 << 16,
        block_count: 8,
        frame_size: 2048,
        block_timeout: Duration::from_millis(5),
    }
}

fn open_in(lab: &Lab, ns: Ns, cfg: CaptureConfig) -> Capture {
    lab.run_in(ns, move || Capture::open(&cfg))
        .unwrap()
        .unwrap_or_else(|e| panic!("opening a capture: {e}"))
}

fn udp_payload_of(frame: &[u8]) -> Option<(u16, &[u8])> {
    // Ethernet + IPv4 (no options) + UDP only.
    if frame.len() < 42 || frame[12..14] != [0x08, 0x00] || frame[23] != 17 {
        return None;
    }
    let ihl = usize::from(frame[14] & 0xf) * 4;
    let udp = 14 + ihl;
    let dport = u16::from_be_bytes([frame[udp + 2], frame[udp + 3]]);
    Some((dport, &frame[udp + 8..]))
}

#[test]
fn ping_udp_and_tcp_are_captured_byte_for_byte_on_both_sides() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    let mut on_h = open_in(&lab, Ns::Host, cfg.clone());
    let mut on_n = open_in(&lab, Ns::Net, cfg);
    assert_eq!(on_h.linktype(), LinkType::ETHERNET);
    assert_eq!(
        on_n.framing().kind,
        FramingKind::Raw {
            vlan_offset: Some(12)
        }
    );

    // UDP with known payloads, h → n.
    let dst = SocketAddr::from((lab.net_ip4(), 7777));
    let payloads: Vec<Vec<u8>> = (0..20u8)
        .map(|i| {
            (0..(10 + usize::from(i) * 50))
                .map(|j| (j as u8) ^ i)
                .collect()
        })
        .collect();
    let rx = lab
        .run_in(Ns::Net, move || UdpSocket::bind(dst))
        .unwrap()
        .unwrap();
    let pl = payloads.clone();
    lab.run_in(Ns::Host, move || {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        for p in &pl {
            s.send_to(p, dst).unwrap();
        }
    })
    .unwrap();
    rx.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    let mut buf = [0u8; 2048];
    for p in &payloads {
        let n = rx.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], &p[..]);
    }
    // TCP: a small exchange.
    let taddr = SocketAddr::from((lab.net_ip4(), 8888));
    let listener = lab
        .run_in(Ns::Net, move || TcpListener::bind(taddr))
        .unwrap()
        .unwrap();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        c.read_to_end(&mut got).unwrap();
        got
    });
    let message: Vec<u8> = (0..20_000u32).map(|i| (i * 7) as u8).collect();
    let m2 = message.clone();
    lab.run_in(Ns::Host, move || {
        let mut c = TcpStream::connect_timeout(&taddr, Duration::from_secs(2)).unwrap();
        c.write_all(&m2).unwrap();
    })
    .unwrap();
    assert_eq!(server.join().unwrap(), message);
    // Ping.
    lab.exec(
        Ns::Host,
        &[
            "ping",
            "-c",
            "3",
            "-i",
            "0.05",
            "-W",
            "1",
            &lab.net_ip4().to_string(),
        ],
    )
    .unwrap();

    let want_udp = payloads.len();
    let is_ours = |g: &Got| udp_payload_of(&g.bytes).is_some_and(|(p, _)| p == 7777);
    let is_icmp = |g: &Got| g.bytes.len() > 34 && g.bytes[12..14] == [8, 0] && g.bytes[23] == 1;
    let enough = |v: &[Got]| {
        v.iter().filter(|g| is_ours(g)).count() >= want_udp
            && v.iter().filter(|g| is_icmp(g)).count() >= 6
    };
    let h = collect(&mut on_h, Duration::from_secs(3), enough);
    let n = collect(&mut on_n, Duration::from_secs(3), enough);
    // Every UDP payload appears, in order, on both sides.
    for side in [&h, &n] {
        let got: Vec<&[u8]> = side
            .iter()
            .filter_map(|g| udp_payload_of(&g.bytes))
            .filter(|(p, _)| *p == 7777)
            .map(|(_, d)| d)
            .collect();
        assert_eq!(got.len(), payloads.len());
        for (g, p) in got.iter().zip(&payloads) {
            assert_eq!(g, &&p[..]);
        }
    }
    // The frames h sent are the frames n received, byte for byte: every
    // IPv4 frame h sent appears unchanged at n.
    let sent: Vec<&Got> = h
        .iter()
        .filter(|g| g.pkttype == PacketType::Outgoing && g.bytes[12..14] == [8, 0])
        .collect();
    assert!(
        sent.len() >= want_udp + 3 + 5,
        "h sent only {} IPv4 frames",
        sent.len()
    );
    let mut at = 0;
    for s in &sent {
        let pos = n[at..]
            .iter()
            .position(|g| g.bytes == s.bytes)
            .unwrap_or_else(|| panic!("frame of {} bytes sent by h not seen at n", s.bytes.len()));
        at += pos + 1;
        assert_eq!(s.origlen as usize, s.bytes.len());
    }
    // ICMP echo requests and replies were seen.
    assert!(n.iter().filter(|g| is_icmp(g)).count() >= 6);
    // TCP payload bytes all crossed (offloads are off: no segment > MTU).
    let tcp_payload: usize = n
        .iter()
        .filter(|g| {
            g.bytes.len() > 54
                && g.bytes[12..14] == [8, 0]
                && g.bytes[23] == 6
                && g.pkttype != PacketType::Outgoing
        })
        .map(|g| {
            let ihl = usize::from(g.bytes[14] & 0xf) * 4;
            let doff = usize::from(g.bytes[14 + ihl + 12] >> 4) * 4;
            let tot = usize::from(u16::from_be_bytes([g.bytes[16], g.bytes[17]]));
            tot - ihl - doff
        })
        .sum();
    assert!(
        tcp_payload >= message.len(),
        "captured {tcp_payload} TCP payload bytes of {}",
        message.len()
    );
    assert!(n.iter().all(|g| g.bytes.len() <= 1514));
}

fn vlan_frame(lab: &Lab, tpid: u16, tci: u16, seq: u8) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&lab.mac(Ns::Net, false));
    f.extend_from_slice(&lab.mac(Ns::Host, false));
    f.extend_from_slice(&tpid.to_be_bytes());
    f.extend_from_slice(&tci.to_be_bytes());
    f.extend_from_slice(&[0x88, 0xb5]); // local experimental EtherType
    f.extend((0..60u8).map(|i| i ^ seq));
    f
}

#[test]
fn vlan_tagged_frames_keep_their_tag() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    let mut cap = open_in(&lab, Ns::Net, cfg);
    let mut tx = lab
        .run_in(Ns::Host, || TxSocket::open(&TxConfig::new("eth0")))
        .unwrap()
        .unwrap();
    let frames: Vec<Vec<u8>> = (0..10u8)
        .map(|i| {
            if i % 2 == 0 {
                vlan_frame(&lab, 0x8100, 100 + u16::from(i), i)
            } else {
                vlan_frame(&lab, 0x88a8, 0x2000 | u16::from(i), i)
            }
        })
        .collect();
    let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
    let r = tx.send_batch(&refs).unwrap();
    assert_eq!((r.sent, r.failed), (10, 0));
    let got = collect(&mut cap, Duration::from_secs(3), |v| {
        v.iter().filter(|g| g.bytes.len() == 78).count() >= 10
    });
    let tagged: Vec<&Got> = got.iter().filter(|g| g.vlan.is_some()).collect();
    assert_eq!(tagged.len(), 10, "frames: {got:?}");
    for (g, f) in tagged.iter().zip(&frames) {
        assert_eq!(&g.bytes, f, "tag reinserted byte for byte");
        assert_eq!(g.raw.len(), f.len() - 4, "the kernel stripped the tag");
        assert_eq!(g.origlen as usize, f.len());
    }
}

/// `tcpdump -dd 'udp dst port 7777'`
fn udp_7777() -> Vec<Insn> {
    [
        (0x28, 0, 0, 0x0000000c),
        (0x15, 0, 4, 0x000086dd),
        (0x30, 0, 0, 0x00000014),
        (0x15, 0, 11, 0x00000011),
        (0x28, 0, 0, 0x00000038),
        (0x15, 8, 9, 0x00001e61),
        (0x15, 0, 8, 0x00000800),
        (0x30, 0, 0, 0x00000017),
        (0x15, 0, 6, 0x00000011),
        (0x28, 0, 0, 0x00000014),
        (0x45, 4, 0, 0x00001fff),
        (0xb1, 0, 0, 0x0000000e),
        (0x48, 0, 0, 0x00000010),
        (0x15, 0, 1, 0x00001e61),
        (0x6, 0, 0, 0x00040000),
        (0x6, 0, 0, 0x00000000),
    ]
    .into_iter()
    .map(|(code, jt, jf, k)| Insn { code, jt, jf, k })
    .collect()
}

#[test]
fn kernel_filter_keeps_exactly_what_the_vm_keeps() {
    let lab = quiet_lab();
    let mut all_cfg = CaptureConfig::new("eth0");
    all_cfg.ring = small_ring();
    let mut filtered_cfg = all_cfg.clone();
    filtered_cfg.filter = Some(udp_7777());
    filtered_cfg.lock_filter = true;
    let mut all = open_in(&lab, Ns::Net, all_cfg);
    let mut filtered = open_in(&lab, Ns::Net, filtered_cfg);
    // A mix: UDP to 7777 and 7778 over IPv4 and IPv6, TCP connection
    // attempts, ping.
    let (n4, n6) = (lab.net_ip4(), lab.net_ip6());
    lab.run_in(Ns::Host, move || {
        let s4 = UdpSocket::bind("0.0.0.0:0").unwrap();
        let s6 = UdpSocket::bind("[::]:0").unwrap();
        for i in 0..30u16 {
            let port = if i % 3 == 0 { 7778 } else { 7777 };
            s4.send_to(&i.to_be_bytes(), (n4, port)).unwrap();
            s6.send_to(&i.to_be_bytes(), (n6, port)).unwrap();
        }
        let _ =
            TcpStream::connect_timeout(&SocketAddr::from((n4, 7777)), Duration::from_millis(300));
    })
    .unwrap();
    lab.exec(
        Ns::Host,
        &["ping", "-c", "2", "-i", "0.05", "-W", "1", &n4.to_string()],
    )
    .unwrap();
    let seen = collect(&mut all, Duration::from_secs(2), |v| v.len() >= 130);
    let kept = collect(&mut filtered, Duration::from_millis(500), |_| false);
    let vm = Program::new(udp_7777()).expect("valid program");
    let expected: Vec<&Vec<u8>> = seen
        .iter()
        .filter(|g| {
            let meta = sluice_bpf::Meta {
                protocol: g.protocol,
                ..Default::default()
            };
            vm.matches(&g.raw, g.origlen, &meta)
        })
        .map(|g| &g.raw)
        .collect();
    let got: Vec<&Vec<u8>> = kept.iter().map(|g| &g.raw).collect();
    assert_eq!(expected.len(), 40, "20 IPv4 + 20 IPv6 datagrams to 7777");
    assert_eq!(got, expected);
    // The locked filter cannot be replaced.
    assert!(
        filtered
            .set_filter(&[Insn {
                code: 0x6,
                jt: 0,
                jf: 0,
                k: 0xffff
            }])
            .is_err()
    );
}

#[test]
fn no_unfiltered_frame_leaks_at_open_and_filter_changes_drain() {
    let lab = quiet_lab();
    // Traffic flows before and while the socket is opened.
    let n4 = lab.net_ip4();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let st = Arc::clone(&stop);
    let sender = lab
        .run_in(Ns::Host, move || {
            let s = UdpSocket::bind("0.0.0.0:0").unwrap();
            std::thread::spawn(move || {
                let end = Instant::now() + Duration::from_secs(10);
                let mut i = 0u32;
                while !st.load(std::sync::atomic::Ordering::Relaxed) && Instant::now() < end {
                    let _ = s.send_to(
                        &i.to_be_bytes(),
                        (n4, if i.is_multiple_of(2) { 7777 } else { 9999 }),
                    );
                    i += 1;
                    std::thread::sleep(Duration::from_micros(200));
                }
            })
        })
        .unwrap();
    for _ in 0..5 {
        let mut cfg = CaptureConfig::new("eth0");
        cfg.ring = small_ring();
        cfg.filter = Some(udp_7777());
        let mut cap = open_in(&lab, Ns::Net, cfg);
        let got = collect(&mut cap, Duration::from_millis(100), |_| false);
        assert!(!got.is_empty());
        for g in &got {
            assert_eq!(
                udp_payload_of(&g.raw).map(|(p, _)| p),
                Some(7777),
                "a frame the filter rejects leaked"
            );
        }
        // Switch to "port 9999 only": after set_filter, no 7777 frame.
        let mut prog = udp_7777();
        prog[5].k = 9999;
        prog[13].k = 9999;
        let change = cap.set_filter(&prog).unwrap();
        let after = collect(&mut cap, Duration::from_millis(100), |_| false);
        assert!(!after.is_empty());
        for g in &after {
            assert_eq!(
                udp_payload_of(&g.raw).map(|(p, _)| p),
                Some(9999),
                "old-filter frame after set_filter ({change:?})"
            );
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
}

#[test]
fn fanout_spreads_frames_over_members() {
    let lab = quiet_lab();
    for mode in [FanoutMode::LoadBalance, FanoutMode::Hash] {
        let group = (std::process::id() as u16) ^ 0x1357 ^ (mode as u16);
        let mut members: Vec<Capture> = (0..2)
            .map(|_| {
                let mut cfg = CaptureConfig::new("eth0");
                cfg.ring = small_ring();
                cfg.filter = Some(udp_7777());
                cfg.fanout = Some(Fanout::new(group, mode));
                open_in(&lab, Ns::Net, cfg)
            })
            .collect();
        let n4 = lab.net_ip4();
        // Many flows (source ports) so hashing has something to spread.
        lab.run_in(Ns::Host, move || {
            for i in 0..200u32 {
                let s = UdpSocket::bind("0.0.0.0:0").unwrap();
                s.send_to(&i.to_be_bytes(), (n4, 7777)).unwrap();
            }
        })
        .unwrap();
        let mut counts = Vec::new();
        let mut total = 0;
        for m in &mut members {
            let got = collect(m, Duration::from_millis(400), |_| false);
            total += got.len();
            counts.push(got.len());
        }
        assert_eq!(total, 200, "{mode:?}: {counts:?}");
        assert!(
            counts.iter().all(|&c| c >= 20),
            "{mode:?} spread {counts:?}"
        );
    }
}

#[test]
fn statistics_count_drops_of_a_tiny_ring() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = RingConfig {
        block_size: 4096,
        block_count: 2,
        frame_size: 2048,
        block_timeout: Duration::from_millis(1000),
    };
    cfg.filter = Some(udp_7777());
    let mut cap = open_in(&lab, Ns::Net, cfg);
    let flow = UdpFlow {
        src_mac: lab.mac(Ns::Host, false),
        dst_mac: lab.mac(Ns::Net, false),
        src: SocketAddr::from((lab.host_ip4(), 5000)),
        dst: SocketAddr::from((lab.net_ip4(), 7777)),
    };
    let udp = UdpFrames::new(&flow, 200).unwrap();
    let frames: Vec<Vec<u8>> = (0..2000).map(|i| udp.frame(i)).collect();
    let refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
    let mut tx = lab
        .run_in(Ns::Host, || TxSocket::open(&TxConfig::new("eth0")))
        .unwrap()
        .unwrap();
    // In bursts of 100, so the receiving veth's backlog never overflows:
    // every frame sent reaches the socket, which must count it.
    let mut r = sluice_linux::SendReport::default();
    for chunk in refs.chunks(100) {
        let c = tx.send_batch(chunk).unwrap();
        r.sent += c.sent;
        r.failed += c.failed;
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!((r.sent, r.failed), (2000, 0));
    std::thread::sleep(Duration::from_millis(200));
    let first = cap.stats().unwrap();
    let got = collect(&mut cap, Duration::from_millis(1500), |_| false);
    let total = cap.stats().unwrap();
    assert!(first.drops > 0, "{first:?}");
    assert_eq!(
        total.packets, r.sent,
        "{total:?}: every frame that arrived was counted"
    );
    assert_eq!(total.received(), got.len() as u64, "{total:?}");
    assert!(
        total.drops >= first.drops && total.packets >= first.packets,
        "accumulated"
    );
}

#[test]
fn deleting_the_interface_ends_the_capture_with_a_clear_error() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    let mut cap = open_in(&lab, Ns::Host, cfg);
    let h = lab.ns_name(Ns::Host);
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        let st = std::process::Command::new("ip")
            .args(["-n", &h, "link", "del", "eth0"])
            .status()
            .unwrap();
        assert!(st.success());
    });
    let end = Instant::now() + Duration::from_secs(5);
    let err = loop {
        assert!(
            Instant::now() < end,
            "capture did not notice the interface going away"
        );
        match cap.next_block(Some(Duration::from_millis(100))) {
            Ok(_) => continue,
            Err(e) => break e,
        }
    };
    killer.join().unwrap();
    assert_eq!(err.kind(), ErrorKind::InterfaceGone, "{err}");
    assert!(
        err.to_string().starts_with("interface eth0 went away"),
        "{err}"
    );
}

#[test]
fn promiscuous_mode_is_undone_when_the_socket_closes() {
    let lab = quiet_lab();
    // Packet-socket membership raises the device's promiscuity counter
    // (SIOCGIFFLAGS only shows a user-set IFF_PROMISC).
    let promisc = || {
        let out = lab
            .exec(Ns::Net, &["ip", "-d", "link", "show", "dev", "eth0"])
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let n = text
            .split_whitespace()
            .skip_while(|w| *w != "promiscuity")
            .nth(1)
            .and_then(|v| v.parse::<u32>().ok());
        n.expect("promiscuity in ip -d link output") > 0
    };
    assert!(!promisc());
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    let cap = open_in(&lab, Ns::Net, cfg);
    assert!(cap.promiscuous());
    assert!(promisc());
    drop(cap);
    assert!(!promisc());
}

#[test]
fn any_device_gives_sll2_frames() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("any");
    cfg.ring = small_ring();
    cfg.filter = None;
    let mut cap = open_in(&lab, Ns::Net, cfg);
    assert_eq!(cap.linktype(), LinkType::LINUX_SLL2);
    let eth0 = lab
        .run_in(Ns::Net, || Interface::by_name("eth0").unwrap().index)
        .unwrap();
    let n4 = lab.net_ip4();
    lab.run_in(Ns::Host, move || {
        let s = UdpSocket::bind("0.0.0.0:0").unwrap();
        s.send_to(b"to-any-0123456789", (n4, 7777)).unwrap();
    })
    .unwrap();
    let got = collect(&mut cap, Duration::from_secs(2), |v| {
        v.iter().any(|g| g.bytes.ends_with(b"to-any-0123456789"))
    });
    let g = got
        .iter()
        .find(|g| g.bytes.ends_with(b"to-any-0123456789"))
        .expect("datagram seen on any");
    assert_eq!(&g.bytes[0..2], &[0x08, 0x00], "SLL2 protocol");
    assert_eq!(
        u32::from_be_bytes(g.bytes[4..8].try_into().unwrap()),
        eth0,
        "SLL2 ifindex"
    );
    assert_eq!(&g.bytes[8..10], &[0, 1], "SLL2 ARPHRD_ETHER");
    assert_eq!(g.bytes[11], 6, "address length");
    assert_eq!(&g.bytes[12..18], &lab.mac(Ns::Host, false), "source MAC");
    assert_eq!(g.bytes[20] >> 4, 4, "IPv4 header follows");
    assert_eq!(g.origlen as usize, g.bytes.len());
}

#[test]
fn ignore_outgoing_hides_our_own_frames() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    cfg.ignore_outgoing = true;
    let mut cap = open_in(&lab, Ns::Host, cfg);
    lab.exec(
        Ns::Host,
        &[
            "ping",
            "-c",
            "3",
            "-i",
            "0.05",
            "-W",
            "1",
            &lab.net_ip4().to_string(),
        ],
    )
    .unwrap();
    let got = collect(&mut cap, Duration::from_millis(500), |_| false);
    assert!(
        got.iter()
            .filter(|g| g.bytes.len() > 34 && g.bytes[23] == 1)
            .count()
            >= 3,
        "replies seen"
    );
    assert!(got.iter().all(|g| g.pkttype != PacketType::Outgoing));
}

#[test]
fn interrupt_stops_a_blocked_wait() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    cfg.filter = Some(vec![Insn {
        code: 0x6,
        jt: 0,
        jf: 0,
        k: 0,
    }]);
    let mut cap = open_in(&lab, Ns::Host, cfg);
    let stop = Arc::new(Interrupt::new().unwrap());
    cap.set_interrupt(Arc::clone(&stop));
    let s2 = Arc::clone(&stop);
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        s2.trigger();
    });
    let start = Instant::now();
    assert!(matches!(
        cap.next_block(Some(Duration::from_secs(10))).unwrap(),
        Next::Interrupted
    ));
    assert!(start.elapsed() < Duration::from_secs(2));
    t.join().unwrap();
    // wait_any sees it too, and reports no ready capture.
    let r = wait_any(&[&cap], Some(&stop), Some(Duration::from_secs(5))).unwrap();
    assert!(r.interrupted && r.ready.is_empty());
    stop.clear();
    assert!(matches!(
        cap.next_block(Some(Duration::from_millis(50))).unwrap(),
        Next::Timeout
    ));
}

#[test]
fn tx_sendmmsg_and_rings_deliver_every_frame_in_order() {
    let lab = quiet_lab();
    let flow = UdpFlow {
        src_mac: lab.mac(Ns::Host, false),
        dst_mac: lab.mac(Ns::Net, false),
        src: SocketAddr::from((lab.host_ip4(), 5000)),
        dst: SocketAddr::from((lab.net_ip4(), 7777)),
    };
    let udp = UdpFrames::new(&flow, 64).unwrap();
    let rings = [
        None,
        Some(TxRingConfig {
            frame_size: 2048,
            frame_count: 64,
            version: TxRingVersion::V2,
        }),
        Some(TxRingConfig {
            frame_size: 2048,
            frame_count: 64,
            version: TxRingVersion::V3,
        }),
    ];
    for (round, ring) in rings.into_iter().enumerate() {
        let mut cfg = CaptureConfig::new("eth0");
        cfg.ring = small_ring();
        cfg.filter = Some(udp_7777());
        let mut cap = open_in(&lab, Ns::Net, cfg);
        let mut tcfg = TxConfig::new("eth0");
        tcfg.ring = ring;
        tcfg.qdisc_bypass = round == 2;
        let mut tx = lab
            .run_in(Ns::Host, move || TxSocket::open(&tcfg))
            .unwrap()
            .unwrap();
        let base = round as u64 * 1000;
        let frames: Vec<Vec<u8>> = (0..500).map(|i| udp.frame(base + i)).collect();
        let mut refs: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
        let too_big = vec![0u8; 3000];
        refs.push(&too_big);
        let r = tx.send(&refs).unwrap();
        assert_eq!((r.sent, r.failed), (500, 1), "round {round}: {r:?}");
        assert_eq!(r.bytes, 500 * 64);
        let got = collect(&mut cap, Duration::from_secs(3), |v| v.len() >= 500);
        assert_eq!(got.len(), 500, "round {round}");
        for (i, g) in got.iter().enumerate() {
            assert_eq!(g.bytes, frames[i], "round {round} frame {i}");
        }
    }
}

#[test]
fn several_interfaces_at_once() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("up0");
    cfg.ring = small_ring();
    let mut up = open_in(&lab, Ns::Middle, cfg.clone());
    cfg.interface = "lo0".into();
    let mut lo = open_in(&lab, Ns::Middle, cfg);
    lab.exec(
        Ns::Host,
        &[
            "ping",
            "-c",
            "2",
            "-i",
            "0.05",
            "-W",
            "1",
            &lab.net_ip4().to_string(),
        ],
    )
    .unwrap();
    let r = wait_any(&[&up, &lo], None, Some(Duration::from_secs(2))).unwrap();
    assert!(!r.ready.is_empty());
    let a = collect(&mut up, Duration::from_millis(300), |_| false);
    let b = collect(&mut lo, Duration::from_millis(300), |_| false);
    assert!(a.iter().any(|g| g.bytes.len() > 34 && g.bytes[23] == 1));
    assert!(b.iter().any(|g| g.bytes.len() > 34 && g.bytes[23] == 1));
    assert!(a.iter().all(|g| g.ifindex == up.ifindex() as i32));
    assert!(b.iter().all(|g| g.ifindex == lo.ifindex() as i32));
}

#[test]
fn lab_is_removed_on_drop_and_on_panic() {
    require_root();
    let mut o = LabOptions::new();
    o.mtu = Some(9000);
    let l = Lab::up(&o).unwrap();
    for ns in [Ns::Host, Ns::Net] {
        assert_eq!(
            l.run_in(ns, || Interface::by_name("eth0").unwrap().mtu)
                .unwrap(),
            9000
        );
    }
    assert_eq!(
        l.run_in(Ns::Middle, || sluice_linux::iface::mtu("up0").unwrap())
            .unwrap(),
        9000
    );
    let names: Vec<String> = [Ns::Host, Ns::Net, Ns::Middle]
        .iter()
        .map(|&n| l.ns_name(n))
        .collect();
    assert!(
        l.status()
            .unwrap()
            .contains(&format!("10.77.{}.1/24", l.subnet()))
    );
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _l = l;
        panic!("test panic");
    }));
    assert!(r.is_err());
    let list = String::from_utf8(
        std::process::Command::new("ip")
            .args(["netns", "list"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    for n in names {
        assert!(
            !list
                .lines()
                .any(|l| l.split_whitespace().next() == Some(&n)),
            "{n} left behind"
        );
    }
}

#[test]
fn drop_privileges_to_nobody_leaves_no_root() {
    require_root();
    if std::env::var_os("SLUICE_DROP_CHILD").is_some() {
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "privilege_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("SLUICE_DROP_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("CHILD-OK"), "{text}");
}

/// Runs only as the child of `drop_privileges_to_nobody_leaves_no_root`.
#[test]
fn privilege_child() {
    if std::env::var_os("SLUICE_DROP_CHILD").is_none() {
        return;
    }
    // A socket opened before the drop keeps working after it.
    let before = UdpSocket::bind("127.0.0.1:0").unwrap();
    let d = sluice_linux::drop_privileges("nobody").unwrap();
    assert_ne!(d.uid, 0);
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        uid_line.split_whitespace().skip(1).all(|v| v != "0"),
        "{uid_line}"
    );
    let caps = sluice_linux::privs::CapSets::current().unwrap();
    assert_eq!((caps.effective, caps.permitted), (0, 0));
    let e = Capture::open(&CaptureConfig::new("lo")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permission, "{e}");
    assert!(e.to_string().contains("needs CAP_NET_RAW"), "{e}");
    before.send_to(b"x", before.local_addr().unwrap()).unwrap();
    println!("CHILD-OK");
}

#[test]
fn interface_going_down_is_a_clear_error() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    let mut cap = open_in(&lab, Ns::Net, cfg);
    lab.exec(Ns::Net, &["ip", "link", "set", "dev", "eth0", "down"])
        .unwrap();
    let end = Instant::now() + Duration::from_secs(5);
    let err = loop {
        assert!(
            Instant::now() < end,
            "capture did not notice the interface going down"
        );
        if let Err(e) = cap.next_block(Some(Duration::from_millis(100))) {
            break e;
        }
    };
    assert_eq!(err.kind(), ErrorKind::InterfaceDown, "{err}");
    assert!(
        err.to_string().starts_with("interface eth0 went down"),
        "{err}"
    );
}

#[test]
fn timestamps_are_nanoseconds_and_hardware_degrades_to_software() {
    let lab = quiet_lab();
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    cfg.timestamps = sluice_linux::TimestampMode::Hardware;
    let mut cap = open_in(&lab, Ns::Net, cfg);
    // veth has no hardware clock: the capture says so and goes on.
    assert!(!cap.hardware_timestamps());
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    lab.exec(
        Ns::Host,
        &[
            "ping",
            "-c",
            "2",
            "-i",
            "0.05",
            "-W",
            "1",
            &lab.net_ip4().to_string(),
        ],
    )
    .unwrap();
    let after = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut stamps = Vec::new();
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end && stamps.len() < 4 {
        if let Next::Block(b) = cap.next_block(Some(Duration::from_millis(20))).unwrap() {
            for f in b.frames().unwrap() {
                let f = f.unwrap();
                assert_ne!(f.ts_source(), sluice_linux::block::TsSource::Hardware);
                stamps.push(f.ts_ns);
            }
        }
    }
    assert!(stamps.len() >= 4);
    assert!(
        stamps.iter().all(|&t| t >= before && t <= after),
        "{stamps:?} not in {before}..{after}"
    );
    assert!(
        stamps.iter().any(|t| t % 1000 != 0),
        "nanosecond resolution: {stamps:?}"
    );
    assert!(stamps.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn vnet_header_carries_gso_metadata_of_offloaded_frames() {
    let mut o = LabOptions::new();
    o.kbridge = true;
    o.offloads = Some(true);
    let lab = lab(o);
    let mut cfg = CaptureConfig::new("eth0");
    cfg.ring = small_ring();
    cfg.vnet_hdr = true;
    let mut cap = open_in(&lab, Ns::Host, cfg);
    let taddr = SocketAddr::from((lab.net_ip4(), 8889));
    let listener = lab
        .run_in(Ns::Net, move || TcpListener::bind(taddr))
        .unwrap()
        .unwrap();
    let server = std::thread::spawn(move || {
        let (mut c, _) = listener.accept().unwrap();
        let mut n = 0usize;
        let mut buf = [0u8; 65536];
        loop {
            match c.read(&mut buf).unwrap() {
                0 => break n,
                k => n += k,
            }
        }
    });
    lab.run_in(Ns::Host, move || {
        let mut c = TcpStream::connect_timeout(&taddr, Duration::from_secs(2)).unwrap();
        c.write_all(&vec![0x5a; 2_000_000]).unwrap();
    })
    .unwrap();
    assert_eq!(server.join().unwrap(), 2_000_000);
    let mut big = 0;
    let end = Instant::now() + Duration::from_secs(2);
    while Instant::now() < end && big == 0 {
        if let Next::Block(b) = cap.next_block(Some(Duration::from_millis(20))).unwrap() {
            for f in b.frames().unwrap() {
                let f = f.unwrap();
                let v = f.vnet.expect("every frame has a vnet header");
                if f.origlen > 1514 {
                    assert_ne!(v.gso_type, 0, "an over-MTU frame is a GSO frame: {v:?}");
                    assert!(v.gso_size > 0 && v.gso_size <= 1500, "{v:?}");
                    big += 1;
                }
            }
        }
    }
    assert!(big > 0, "no GSO frame seen with offloads on");
}
