//! Live tests of `sluice capture`, `stats`, `inject` and `gen`: the built
//! binary runs in lab namespaces against real traffic, and what it writes
//! is checked byte for byte, against sluice-bpf's VM, and with tshark and
//! capinfos.
//!
//! They need root (CI runs them as root); without it they fail with the
//! reason, never skip. Every lab is removed on drop, also when a test
//! panics, and every process a test starts is killed on drop. Every wait
//! is bounded in time.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sluice_bpf::Meta;
use sluice_filter::{Options, Target};
use sluice_linux::frames::{UdpFlow, UdpFrames};
use sluice_linux::lab::{Lab, LabOptions, Ns};
use sluice_linux::tx::{TxConfig, TxSocket};
use sluice_pcap::{Direction, Format, Interface, Reader, Record, Writer, WriterOptions};
use sluice_wire::LinkType;

const SLUICE: &str = env!("CARGO_BIN_EXE_sluice");

fn tool(name: &str) {
    if let Err(e) = sluice_linux::lab::require_tools(&[name]) {
        panic!("this test needs it: {e} (see .ci/run)");
    }
}

/// A lab whose h and n share one segment through a Linux bridge, with
/// offloads off so that frames cross unchanged.
fn lab() -> Lab {
    let _ = Lab::cleanup_stale();
    let mut o = LabOptions::new();
    o.kbridge = true;
    o.offloads = Some(false);
    Lab::up(&o).unwrap_or_else(|e| panic!("cannot build the lab: {e}"))
}

/// A process started by a test: killed on drop; stderr collected by a
/// thread, stdout optionally too.
struct Proc {
    child: Option<Child>,
    what: String,
    stderr: Arc<Mutex<Vec<String>>>,
    stdout: Arc<Mutex<Vec<String>>>,
}

fn collect_lines(r: impl Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    });
}

impl Proc {
    fn start(lab: &Lab, ns: Ns, args: &[&str]) -> Proc {
        let mut words = vec![SLUICE];
        words.extend_from_slice(args);
        Proc::start_cmd(lab.command(ns, &words).unwrap(), &args.join(" "))
    }

    fn start_cmd(mut cmd: Command, what: &str) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {what}: {e}"));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let stdout = Arc::new(Mutex::new(Vec::new()));
        collect_lines(child.stderr.take().unwrap(), Arc::clone(&stderr));
        collect_lines(child.stdout.take().unwrap(), Arc::clone(&stdout));
        Proc {
            child: Some(child),
            what: what.to_owned(),
            stderr,
            stdout,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    fn stdout(&self) -> Vec<String> {
        self.stdout.lock().unwrap().clone()
    }

    /// Waits (at most `limit`) until `n` lines of stderr satisfy `pred`;
    /// fails at once if the process ends first.
    fn wait_stderr(&mut self, n: usize, limit: Duration, pred: impl Fn(&str) -> bool) {
        let end = Instant::now() + limit;
        loop {
            if self.stderr().iter().filter(|l| pred(l)).count() >= n {
                return;
            }
            if let Some(st) = self.child.as_mut().unwrap().try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(50));
                panic!(
                    "{} ended ({st}) early; stderr: {:?}",
                    self.what,
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < end,
                "{}: no such line on stderr after {limit:?}; stderr: {:?}",
                self.what,
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the "listening on" lines of `n` interfaces.
    fn ready(&mut self, n: usize) {
        self.wait_stderr(n, Duration::from_secs(10), |l| {
            l.starts_with("listening on ")
        });
    }

    fn signal(&self, sig: &str) {
        let st = Command::new("kill")
            .args([sig, &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(st.success(), "kill {sig} {}", self.pid());
    }

    /// Waits (at most `limit`) for the process to end.
    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let end = Instant::now() + limit;
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(st) = child.try_wait().unwrap() {
                // Let the reader threads take the last lines.
                std::thread::sleep(Duration::from_millis(50));
                return st;
            }
            if Instant::now() >= end {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} did not end within {limit:?}; stderr: {:?}",
                    self.what,
                    self.stderr()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then waits; the capture must end cleanly.
    fn stop(&mut self) -> ExitStatus {
        self.signal("-TERM");
        self.wait(Duration::from_secs(10))
    }

    /// The "N frames captured" count of the summary.
    fn captured(&self) -> u64 {
        self.stderr()
            .iter()
            .find_map(|l| l.split_once(" frames captured")?.0.parse().ok())
            .unwrap_or_else(|| panic!("{}: no summary; stderr: {:?}", self.what, self.stderr()))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take()
            && c.try_wait().ok().flatten().is_none()
        {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Runs sluice in `ns` to the end (bounded), returning status, stdout and
/// stderr.
fn run(
    lab: &Lab,
    ns: Ns,
    args: &[&str],
    limit: Duration,
) -> (ExitStatus, Vec<String>, Vec<String>) {
    let mut p = Proc::start(lab, ns, args);
    let st = p.wait(limit);
    (st, p.stdout(), p.stderr())
}

/// A frame read back from a file.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Got {
    data: Vec<u8>,
    origlen: u32,
    dir: Option<Direction>,
    interface: u32,
    linktype: LinkType,
}

/// `isb_ifdrop` and `isb_usrdeliv` of an interface statistics block.
type IsbCounts = (Option<u64>, Option<u64>);

/// Every frame of a capture file, and its interface statistics.
fn read_file(path: &Path) -> (Vec<Got>, Vec<IsbCounts>) {
    let mut r = Reader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut frames = Vec::new();
    let mut stats = Vec::new();
    while let Some(rec) = r.next_record() {
        match rec.unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
            Record::Frame(f) => frames.push(Got {
                data: f.data.to_vec(),
                origlen: f.origlen,
                dir: f.direction(),
                interface: f.interface_id,
                linktype: f.linktype,
            }),
            Record::Stats(s) => stats.push((s.ifdrop, s.usrdeliv)),
            _ => {}
        }
    }
    (frames, stats)
}

fn tshark_count(path: &Path) -> u64 {
    let out = Command::new("tshark")
        .args(["-r"])
        .arg(path)
        .args(["-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark cannot read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).lines().count() as u64
}

fn capinfos_count(path: &Path) -> u64 {
    let out = Command::new("capinfos")
        .args(["-c", "-M", "-T"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "capinfos cannot read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or("");
    line.split('\t')
        .nth(1)
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("capinfos output for {}: {text}", path.display()))
}

/// A temporary directory readable by everyone (for `-Z nobody`).
fn open_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    d
}

fn flow(lab: &Lab, dport: u16) -> UdpFlow {
    UdpFlow {
        src_mac: lab.mac(Ns::Host, false),
        dst_mac: lab.mac(Ns::Net, false),
        src: SocketAddr::new(lab.host_ip4().into(), 4000),
        dst: SocketAddr::new(lab.net_ip4().into(), dport),
    }
}

fn mac_text(m: [u8; 6]) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// `--udp` and MAC arguments of `sluice gen` for a flow.
fn gen_args(lab: &Lab, sport: u16, dport: u16) -> Vec<String> {
    vec![
        "--udp".into(),
        format!("{}:{sport},{}:{dport}", lab.host_ip4(), lab.net_ip4()),
        "--src-mac".into(),
        mac_text(lab.mac(Ns::Host, false)),
        "--dst-mac".into(),
        mac_text(lab.mac(Ns::Net, false)),
    ]
}

fn tx_socket(lab: &Lab) -> TxSocket {
    lab.run_in(Ns::Host, || TxSocket::open(&TxConfig::new("eth0")))
        .unwrap()
        .unwrap_or_else(|e| panic!("opening a TX socket in h: {e}"))
}

/// An 802.1Q-tagged IPv4/UDP frame from h to n.
fn vlan_frame(lab: &Lab, vid: u16, dport: u16, fill: u8) -> Vec<u8> {
    let inner = UdpFrames::new(&flow(lab, dport), 80)
        .unwrap()
        .frame(u64::from(fill));
    let mut f = inner[..12].to_vec();
    f.extend_from_slice(&[0x81, 0x00]);
    f.extend_from_slice(&((3u16 << 13) | vid).to_be_bytes());
    f.extend_from_slice(&inner[12..]);
    f
}

fn sent(stdout: &[String]) -> u64 {
    stdout
        .iter()
        .find_map(|l| {
            l.strip_prefix("sent ")?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no report in {stdout:?}"))
}

/// IPv4 (possibly tagged) between the lab's two addresses: traffic the
/// test made, not what the middle's bridge or the stacks send on their own.
fn is_ours(lab: &Lab, f: &[u8]) -> bool {
    let at = if f.len() > 16 && f[12..14] == [0x81, 0x00] {
        16
    } else {
        12
    };
    if f.len() < at + 22 || f[at..at + 2] != [0x08, 0x00] {
        return false;
    }
    let ip = at + 2;
    let (h, n) = (lab.host_ip4().octets(), lab.net_ip4().octets());
    let (src, dst) = (&f[ip + 12..ip + 16], &f[ip + 16..ip + 20]);
    (src == h && dst == n) || (src == n && dst == h)
}

/// What is sent (ping, TCP, UDP, VLAN-tagged) arrives in the files byte
/// for byte, on both sides, with the right direction.
#[test]
fn frames_are_captured_byte_for_byte() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let (hp, np) = (dir.path().join("h.pcapng"), dir.path().join("n.pcapng"));
    let mut ch = Proc::start(
        &lab,
        Ns::Host,
        &["capture", "-i", "eth0", "-w", hp.to_str().unwrap()],
    );
    let mut cn = Proc::start(
        &lab,
        Ns::Net,
        &["capture", "-i", "eth0", "-w", np.to_str().unwrap()],
    );
    ch.ready(1);
    cn.ready(1);

    // ICMP
    let out = lab
        .exec(
            Ns::Host,
            &["ping", "-c", "3", "-i", "0.2", &lab.net_ip4().to_string()],
        )
        .unwrap();
    assert!(out.status.success());
    // TCP: a small exchange with a real listener.
    let listener = lab
        .run_in(Ns::Net, || TcpListener::bind((lab.net_ip4(), 7100)))
        .unwrap()
        .unwrap();
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut buf = [0u8; 5];
        s.read_exact(&mut buf).unwrap();
        s.write_all(b"world").unwrap();
    });
    let mut c = lab
        .run_in(Ns::Host, || TcpStream::connect((lab.net_ip4(), 7100)))
        .unwrap()
        .unwrap();
    c.write_all(b"hello").unwrap();
    let mut buf = [0u8; 5];
    c.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"world");
    drop(c);
    server.join().unwrap();
    // UDP and VLAN-tagged frames with known bytes.
    let udp = UdpFrames::new(&flow(&lab, 7101), 200).unwrap();
    let mut ours: Vec<Vec<u8>> = (0..20).map(|i| udp.frame(i)).collect();
    ours.push(vlan_frame(&lab, 100, 7102, 1));
    ours.push(vlan_frame(&lab, 4000, 7102, 2));
    let mut tx = tx_socket(&lab);
    let refs: Vec<&[u8]> = ours.iter().map(|f| f.as_slice()).collect();
    let r = tx.send(&refs).unwrap();
    assert_eq!(r.sent, ours.len() as u64);
    std::thread::sleep(Duration::from_millis(300));
    assert!(ch.stop().success(), "{:?}", ch.stderr());
    assert!(cn.stop().success(), "{:?}", cn.stderr());

    let (h, hs) = read_file(&hp);
    let (n, ns) = read_file(&np);
    assert_eq!(h.len() as u64, ch.captured());
    assert_eq!(n.len() as u64, cn.captured());
    assert_eq!(hs, vec![(Some(0), Some(h.len() as u64))], "h statistics");
    assert_eq!(ns, vec![(Some(0), Some(n.len() as u64))], "n statistics");
    for f in &ours {
        let hf = h.iter().find(|g| &g.data == f);
        let nf = n.iter().find(|g| &g.data == f);
        assert_eq!(
            hf.map(|g| g.dir),
            Some(Some(Direction::Outbound)),
            "sent frame {f:02x?} on h"
        );
        assert_eq!(
            nf.map(|g| g.dir),
            Some(Some(Direction::Inbound)),
            "sent frame {f:02x?} on n"
        );
        assert_eq!(nf.unwrap().origlen as usize, f.len());
    }
    // Everything of ours that crossed is the same on both sides, in order
    // per direction.
    let crossing = |v: &[Got], d: Direction| -> Vec<Vec<u8>> {
        v.iter()
            .filter(|g| g.dir == Some(d) && is_ours(&lab, &g.data))
            .map(|g| g.data.clone())
            .collect()
    };
    assert_eq!(
        crossing(&h, Direction::Outbound),
        crossing(&n, Direction::Inbound)
    );
    assert_eq!(
        crossing(&n, Direction::Outbound),
        crossing(&h, Direction::Inbound)
    );
    let icmp = |v: &[Got], ty: u8| {
        v.iter()
            .filter(|g| g.data.len() > 34 && g.data[23] == 1 && g.data[34] == ty)
            .count()
    };
    assert_eq!(icmp(&n, 8), 3, "echo requests");
    assert_eq!(icmp(&n, 0), 3, "echo replies");
    let syn = n
        .iter()
        .any(|g| g.data.len() > 47 && g.data[23] == 6 && g.data[47] & 0x12 == 0x02);
    assert!(syn, "no TCP SYN captured");
}

/// The kernel filter keeps exactly the frames sluice-bpf's VM keeps when it
/// runs the same expression over an unfiltered capture of the same
/// traffic.
#[test]
fn kernel_filter_keeps_what_the_vm_keeps() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let exprs = [
        "udp port 7201",
        "vlan 100",
        "vlan and udp",
        "icmp or (tcp and port 7202)",
        "greater 150 and not arp",
        "ip6",
    ];
    let all = dir.path().join("all.pcapng");
    let mut all_p = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "--buffer",
            "2",
            "-w",
            all.to_str().unwrap(),
        ],
    );
    let mut procs = Vec::new();
    for (i, e) in exprs.iter().enumerate() {
        let p = dir.path().join(format!("f{i}.pcapng"));
        let proc_ = Proc::start(
            &lab,
            Ns::Net,
            &[
                "capture",
                "-i",
                "eth0",
                "--buffer",
                "2",
                "-w",
                p.to_str().unwrap(),
                e,
            ],
        );
        procs.push((p, proc_));
    }
    all_p.ready(1);
    for (_, p) in &mut procs {
        p.ready(1);
    }
    let mut tx = tx_socket(&lab);
    let mut frames = Vec::new();
    for (i, port) in [7200u16, 7201, 7202, 7203].into_iter().enumerate() {
        let u = UdpFrames::new(&flow(&lab, port), 60 + 50 * i).unwrap();
        frames.extend((0..5).map(|s| u.frame(s)));
    }
    for vid in [100u16, 200] {
        frames.extend((0..3).map(|s| vlan_frame(&lab, vid, 7201, s)));
    }
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    assert_eq!(tx.send(&refs).unwrap().sent, frames.len() as u64);
    let ip = lab.net_ip4().to_string();
    let ip6 = lab.net_ip6().to_string();
    lab.exec(Ns::Host, &["ping", "-c", "2", "-i", "0.2", &ip])
        .unwrap();
    lab.exec(Ns::Host, &["ping", "-6", "-c", "2", "-i", "0.2", &ip6])
        .unwrap();
    // TCP to a closed port: SYN and RST.
    let _ = lab.run_in(Ns::Host, || {
        TcpStream::connect_timeout(
            &SocketAddr::new(lab.net_ip4().into(), 7202),
            Duration::from_secs(1),
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    // Stop them all at once so that they see the same frames.
    all_p.signal("-TERM");
    for (_, p) in &procs {
        p.signal("-TERM");
    }
    assert!(all_p.wait(Duration::from_secs(10)).success());
    let (everything, _) = read_file(&all);
    assert!(
        everything.len() >= frames.len() + 8,
        "only {} frames",
        everything.len()
    );
    for ((path, mut p), expr) in procs.into_iter().zip(exprs) {
        assert!(
            p.wait(Duration::from_secs(10)).success(),
            "{expr}: {:?}",
            p.stderr()
        );
        let compile = |target| {
            sluice_filter::compile(
                expr,
                &Options {
                    target,
                    linktype: LinkType::ETHERNET,
                    ..Options::default()
                },
            )
            .unwrap()
        };
        // The same program in the VM, on each frame as the socket saw it.
        let socket = compile(Target::LinuxSocket);
        let want: Vec<&Vec<u8>> = everything
            .iter()
            .filter(|g| {
                let (bytes, meta) = as_socket_saw(&g.data);
                socket.run(&bytes, bytes.len() as u32, &meta) != 0
            })
            .map(|g| &g.data)
            .collect();
        let (kept, _) = read_file(&path);
        let got: Vec<&Vec<u8>> = kept.iter().map(|g| &g.data).collect();
        assert!(!want.is_empty(), "{expr}: the traffic has no frame for it");
        assert_eq!(got, want, "{expr}: kernel and VM disagree");
        // And the file's own program (tags inline) keeps the same frames
        // where the two views mean the same: untagged frames, and every
        // frame for expressions that start with `vlan`. (Elsewhere a live
        // capture follows libpcap: `udp` also matches tagged frames.)
        let offline = compile(Target::Offline);
        for g in &everything {
            let tagged =
                g.data.len() >= 18 && matches!([g.data[12], g.data[13]], [0x81, 0] | [0x88, 0xa8]);
            if tagged && !expr.starts_with("vlan") {
                continue;
            }
            let in_file = offline.run(&g.data, g.origlen, &Meta::default()) != 0;
            assert_eq!(
                in_file,
                got.contains(&&g.data),
                "{expr}: file program on {:02x?}",
                g.data
            );
        }
    }
}

/// A frame as a packet socket sees it: the outer VLAN tag moved out of the
/// bytes into the metadata.
fn as_socket_saw(b: &[u8]) -> (Vec<u8>, Meta) {
    let ethertype = |at: usize| u16::from_be_bytes([b[at], b[at + 1]]);
    let mut meta = Meta {
        hatype: 1,
        ..Meta::default()
    };
    if b.len() >= 18 && matches!(ethertype(12), 0x8100 | 0x88a8) {
        let mut bytes = b[..12].to_vec();
        bytes.extend_from_slice(&b[16..]);
        meta = meta.with_vlan(ethertype(14), ethertype(12));
        meta.protocol = ethertype(16);
        (bytes, meta)
    } else {
        meta.protocol = ethertype(12);
        (b.to_vec(), meta)
    }
}

/// The `any` device: cooked frames (LINUX_SLL2) and a filter moved to the
/// kernel's view agree with the VM on the file's view.
#[test]
fn any_device_filter_matches_the_vm() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("any.pcapng");
    let filt = dir.path().join("anyf.pcapng");
    let expr = "udp port 7301 and greater 100";
    let mut a = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "any",
            "--buffer",
            "2",
            "-w",
            all.to_str().unwrap(),
        ],
    );
    let mut f = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "any",
            "--buffer",
            "2",
            "-w",
            filt.to_str().unwrap(),
            expr,
        ],
    );
    a.ready(1);
    f.ready(1);
    let mut tx = tx_socket(&lab);
    let mut frames = Vec::new();
    // Cooked, a frame is 6 bytes longer than on Ethernet (a 20-byte SLL2
    // header for a 14-byte Ethernet one) and 14 bytes shorter in the
    // kernel's view: 100 is kept only if the length is moved right.
    let sizes = [
        (60usize, 7301u16),
        (100, 7301),
        (150, 7300),
        (90, 7301),
        (300, 7301),
        (150, 7301),
    ];
    for (size, port) in sizes {
        frames.push(UdpFrames::new(&flow(&lab, port), size).unwrap().frame(1));
    }
    let refs: Vec<&[u8]> = frames.iter().map(|f| f.as_slice()).collect();
    tx.send(&refs).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    a.signal("-TERM");
    f.signal("-TERM");
    assert!(a.wait(Duration::from_secs(10)).success());
    assert!(
        f.wait(Duration::from_secs(10)).success(),
        "{:?}",
        f.stderr()
    );
    let (everything, _) = read_file(&all);
    let (kept, _) = read_file(&filt);
    assert!(
        everything
            .iter()
            .all(|g| g.linktype == LinkType::LINUX_SLL2)
    );
    let prog = sluice_filter::compile(
        expr,
        &Options {
            target: Target::Offline,
            linktype: LinkType::LINUX_SLL2,
            ..Options::default()
        },
    )
    .unwrap();
    let want: Vec<&Vec<u8>> = everything
        .iter()
        .filter(|g| prog.run(&g.data, g.origlen, &Meta::default()) != 0)
        .map(|g| &g.data)
        .collect();
    let got: Vec<&Vec<u8>> = kept.iter().map(|g| &g.data).collect();
    // 100, 300 and 150 bytes to port 7301 (90 is 96 cooked).
    assert_eq!(want.len(), 3, "{want:02x?}");
    assert_eq!(got, want);
    // The cooked frame is the SLL2 header and the frame after its
    // Ethernet header.
    assert_eq!(&kept[0].data[20..], &frames[1][14..]);
    assert_eq!(&kept[2].data[20..], &frames[5][14..]);
    assert_eq!(&kept[0].data[..2], &[0x08, 0x00]);
}

/// -C splits at record boundaries into files tshark reads, whose counts
/// add up to the summary's; -W keeps a ring; -G names files by strftime.
#[test]
fn rotation_gives_valid_files() {
    tool("tshark");
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let size = dir.path().join("size.pcapng");
    let ring = dir.path().join("ring.pcap");
    let timed = dir.path().join("t-%Y%m%d-%H%M%S.pcapng");
    let mut cs = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-C",
            "1",
            "-w",
            size.to_str().unwrap(),
            "udp port 7401",
        ],
    );
    let mut cr = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-C",
            "1",
            "-W",
            "2",
            "-w",
            ring.to_str().unwrap(),
            "udp port 7401",
        ],
    );
    let mut ct = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-G",
            "1",
            "-w",
            timed.to_str().unwrap(),
            "udp port 7401",
        ],
    );
    for p in [&mut cs, &mut cr, &mut ct] {
        p.ready(1);
    }
    // 4500 frames of 1000 bytes over 2.25 s: about 4.6 MB of records.
    let mut args = vec![
        "gen", "-i", "eth0", "--count", "4500", "--size", "1000", "--pps", "2000",
    ];
    let g = gen_args(&lab, 4000, 7401);
    args.extend(g.iter().map(String::as_str));
    let (st, out, err) = run(&lab, Ns::Host, &args, Duration::from_secs(20));
    assert!(st.success(), "{err:?}");
    assert_eq!(sent(&out), 4500);
    std::thread::sleep(Duration::from_millis(200));
    for p in [&mut cs, &mut cr, &mut ct] {
        assert!(p.stop().success(), "{:?}", p.stderr());
        assert_eq!(p.captured(), 4500, "{:?}", p.stderr());
    }
    let files_of = |prefix: &str| {
        let mut v: Vec<PathBuf> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
            .collect();
        v.sort();
        v
    };
    let sized = files_of("size.pcapng");
    assert!(sized.len() >= 4, "{sized:?}");
    let mut total = 0;
    let mut seqs = Vec::new();
    for f in &sized {
        let len = std::fs::metadata(f).unwrap().len();
        assert!(len <= 1_000_000 + 1100, "{} is {len} bytes", f.display());
        total += tshark_count(f);
        seqs.extend(read_file(f).0.iter().map(|g| g.data[42..50].to_vec()));
    }
    assert_eq!(total, 4500);
    // The numbered files hold the frames in order: the first name is the
    // template itself, then 1, 2, …
    assert_eq!(sized[0], size);
    let mut sorted = sized.clone();
    sorted.sort_by_key(|p| {
        p.to_str()
            .unwrap()
            .trim_start_matches(size.to_str().unwrap())
            .parse::<u32>()
            .unwrap_or(0)
    });
    let ordered: Vec<Vec<u8>> = sorted
        .iter()
        .flat_map(|f| read_file(f).0)
        .map(|g| g.data[42..50].to_vec())
        .collect();
    let want: Vec<Vec<u8>> = (0..4500u64).map(|s| s.to_be_bytes().to_vec()).collect();
    assert_eq!(ordered, want);
    let _ = seqs;
    // -W 2: two files remain, both valid pcap, the newest frames last.
    let ringed = files_of("ring.pcap");
    assert_eq!(ringed.len(), 2, "{ringed:?}");
    for f in &ringed {
        assert!(tshark_count(f) > 0);
        let mut r = Reader::open(f).unwrap();
        assert_eq!(
            r.next_frame().unwrap().unwrap().linktype,
            LinkType::ETHERNET
        );
    }
    // -G 1: several files, named by the time of their period, all valid.
    let timedf = files_of("t-");
    assert!(timedf.len() >= 2, "{timedf:?}");
    let sum: u64 = timedf.iter().map(|f| tshark_count(f)).sum();
    assert_eq!(sum, 4500);
    for f in &timedf {
        let name = f.file_name().unwrap().to_str().unwrap();
        assert_eq!(name.len(), "t-20260101-000000.pcapng".len(), "{name}");
    }
}

/// SIGTERM in the middle of a busy capture: exit 0, a file capinfos and
/// tshark read, counts as the summary says, nothing left behind.
#[test]
fn sigterm_in_the_middle_leaves_a_valid_file() {
    tool("capinfos");
    tool("tshark");
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("busy.pcapng");
    let mut c = Proc::start(
        &lab,
        Ns::Net,
        &["capture", "-i", "eth0", "-w", path.to_str().unwrap()],
    );
    c.ready(1);
    let mut args = vec!["gen", "-i", "eth0", "--seconds", "3", "--pps", "50000"];
    let g = gen_args(&lab, 4000, 7501);
    args.extend(g.iter().map(String::as_str));
    let mut sender = Proc::start(&lab, Ns::Host, &args);
    std::thread::sleep(Duration::from_millis(1200));
    assert!(c.stop().success(), "{:?}", c.stderr());
    let n = c.captured();
    assert!(n > 1000, "only {n} frames before the stop");
    assert_eq!(capinfos_count(&path), n);
    assert_eq!(tshark_count(&path), n);
    let (frames, stats) = read_file(&path);
    assert_eq!(frames.len() as u64, n);
    assert_eq!(stats.len(), 1, "one statistics block");
    assert_eq!(stats[0].1, Some(n));
    // Every frame the kernel took is in the file or counted as a drop.
    let err = c.stderr();
    let received: u64 = err
        .iter()
        .find_map(|l| {
            l.strip_suffix(" frames received by the filter")?
                .parse()
                .ok()
        })
        .unwrap();
    let dropped: u64 = err
        .iter()
        .find_map(|l| {
            l.strip_suffix(" frames dropped by the kernel")?
                .parse()
                .ok()
        })
        .unwrap();
    assert_eq!(received, n + dropped, "{err:?}");
    assert!(
        !err.iter().any(|l| l.contains("still in the ring")),
        "{err:?}"
    );
    sender.wait(Duration::from_secs(10));
}

/// Deleting the interface during a capture: a clear message, exit code 1,
/// and a valid file with everything captured before.
#[test]
fn deleted_interface_ends_with_a_clear_error() {
    tool("capinfos");
    let lab = lab();
    lab.exec(
        Ns::Net,
        &[
            "ip", "link", "add", "dx0", "type", "veth", "peer", "name", "dx1",
        ],
    )
    .unwrap();
    for d in ["dx0", "dx1"] {
        lab.exec(Ns::Net, &["ip", "link", "set", d, "up"]).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gone.pcapng");
    let mut c = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "dx0",
            "-w",
            path.to_str().unwrap(),
            "udp port 7601",
        ],
    );
    c.ready(1);
    // Frames into dx0 through its peer.
    let mut args = vec!["gen", "-i", "dx1", "--count", "300"];
    let g = gen_args(&lab, 4000, 7601);
    args.extend(g.iter().map(String::as_str));
    let (st, _, err) = run(&lab, Ns::Net, &args, Duration::from_secs(10));
    assert!(st.success(), "{err:?}");
    std::thread::sleep(Duration::from_millis(200));
    lab.exec(Ns::Net, &["ip", "link", "del", "dx0"]).unwrap();
    let st = c.wait(Duration::from_secs(10));
    assert_eq!(st.code(), Some(1), "{:?}", c.stderr());
    let err = c.stderr();
    assert!(
        err.iter().any(|l| l == "sluice: interface dx0 went away"
            || l.starts_with("sluice: interface dx0 went away:")),
        "{err:?}"
    );
    assert_eq!(c.captured(), 300, "{err:?}");
    assert_eq!(capinfos_count(&path), 300);
}

fn status_field(pid: u32, name: &str) -> String {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix(name))
        .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
        .trim()
        .to_owned()
}

/// `-Z nobody`: once the sockets are open the process is nobody, with no
/// capability left, and still captures; the file belongs to nobody.
#[test]
fn z_drops_root_and_keeps_capturing() {
    let lab = lab();
    let dir = open_dir();
    let path = dir.path().join("z.pcapng");
    let mut c = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-Z",
            "nobody",
            "-w",
            path.to_str().unwrap(),
            "udp port 7701",
        ],
    );
    c.ready(1);
    let pid = c.pid();
    assert_eq!(
        std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .unwrap()
            .trim(),
        "sluice"
    );
    assert_eq!(
        status_field(pid, "Uid:")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["65534"; 4]
    );
    assert_eq!(
        status_field(pid, "Gid:")
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["65534"; 4]
    );
    assert_eq!(status_field(pid, "CapEff:"), "0000000000000000");
    assert_eq!(status_field(pid, "CapPrm:"), "0000000000000000");
    assert_eq!(status_field(pid, "Groups:"), "65534");
    let mut args = vec!["gen", "-i", "eth0", "--count", "100"];
    let g = gen_args(&lab, 4000, 7701);
    args.extend(g.iter().map(String::as_str));
    let (st, _, err) = run(&lab, Ns::Host, &args, Duration::from_secs(10));
    assert!(st.success(), "{err:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(c.stop().success(), "{:?}", c.stderr());
    assert_eq!(c.captured(), 100);
    assert_eq!(read_file(&path).0.len(), 100);
    assert_eq!(std::fs::metadata(&path).unwrap().uid(), 65534);
}

/// Without CAP_NET_RAW, the message says what is missing and how to grant
/// it.
#[test]
fn missing_cap_net_raw_is_a_clear_error() {
    tool("setpriv");
    let lab = lab();
    // A copy of the binary that nobody may run, wherever the build is.
    let dir = open_dir();
    let bin = dir.path().join("sluice");
    std::fs::copy(SLUICE, &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let cmd = lab
        .command(
            Ns::Net,
            &[
                "setpriv",
                "--reuid=65534",
                "--regid=65534",
                "--clear-groups",
                "--inh-caps=-all",
                bin.to_str().unwrap(),
                "capture",
                "-i",
                "eth0",
            ],
        )
        .unwrap();
    let mut p = Proc::start_cmd(cmd, "capture as nobody");
    let st = p.wait(Duration::from_secs(10));
    assert_eq!(st.code(), Some(1), "{:?}", p.stderr());
    let want = "capture on eth0 needs CAP_NET_RAW: run as root or grant it with setcap cap_net_raw,cap_net_admin+ep";
    assert!(
        p.stderr().iter().any(|l| l.contains(want)),
        "{:?}",
        p.stderr()
    );
}

/// `sluice stats` counts what was sent, per interval and in total.
#[test]
fn stats_counts_what_was_sent() {
    let lab = lab();
    let mut s = Proc::start(
        &lab,
        Ns::Net,
        &[
            "stats",
            "-i",
            "eth0",
            "--interval",
            "500ms",
            "-c",
            "6",
            "udp port 7801",
        ],
    );
    // The header is printed once the socket is open.
    let end = Instant::now() + Duration::from_secs(10);
    while s.stdout().is_empty() {
        assert!(
            Instant::now() < end,
            "stats printed nothing: {:?}",
            s.stderr()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut args = vec![
        "gen", "-i", "eth0", "--count", "3000", "--pps", "5000", "--size", "100",
    ];
    let g = gen_args(&lab, 4000, 7801);
    args.extend(g.iter().map(String::as_str));
    let (st, _, err) = run(&lab, Ns::Host, &args, Duration::from_secs(10));
    assert!(st.success(), "{err:?}");
    assert!(
        s.wait(Duration::from_secs(10)).success(),
        "{:?}",
        s.stderr()
    );
    let out = s.stdout();
    let rows: Vec<Vec<String>> = out[1..out.len() - 1]
        .iter()
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 6, "{out:?}");
    let frames: u64 = rows.iter().map(|r| r[1].parse::<u64>().unwrap()).sum();
    let bytes: u64 = rows.iter().map(|r| r[3].parse::<u64>().unwrap()).sum();
    assert_eq!(frames, 3000, "{out:?}");
    assert_eq!(bytes, 300_000, "{out:?}");
    let total = out.last().unwrap();
    assert!(
        total.starts_with("total: 3000 frames, 300000 bytes"),
        "{total}"
    );
    assert!(total.ends_with(", 0 dropped by the kernel"), "{total}");
}

/// `sluice inject` sends a file's frames unchanged, at top speed and paced,
/// in loops; a capture on the other side sees them all.
#[test]
fn inject_replays_a_file() {
    let lab = lab();
    let dir = open_dir();
    let file = dir.path().join("in.pcap");
    let udp = UdpFrames::new(&flow(&lab, 7901), 120).unwrap();
    let mut frames: Vec<Vec<u8>> = (0..300).map(|i| udp.frame(i)).collect();
    frames.push(vlan_frame(&lab, 7, 7901, 9));
    {
        let mut w = Writer::create(&file, WriterOptions::new(Format::Pcap)).unwrap();
        w.add_interface(&Interface::new(LinkType::ETHERNET, 65535))
            .unwrap();
        for (i, f) in frames.iter().enumerate() {
            let mut fr = sluice_pcap::Frame::new(
                0,
                LinkType::ETHERNET,
                1_700_000_000_000_000_000 + i as u64 * 100_000,
                f,
            );
            fr.origlen = f.len() as u32;
            w.write_frame(&fr).unwrap();
        }
        w.finish().unwrap();
    }
    let cap = dir.path().join("got.pcapng");
    let mut c = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-w",
            cap.to_str().unwrap(),
            "udp port 7901 or vlan",
        ],
    );
    c.ready(1);
    let f = file.to_str().unwrap();
    let (st, out, err) = run(
        &lab,
        Ns::Host,
        &["inject", "-i", "eth0", "--topspeed", f],
        Duration::from_secs(10),
    );
    assert!(st.success(), "{err:?}");
    assert_eq!(sent(&out), 301, "{out:?}");
    let (st, out, err) = run(
        &lab,
        Ns::Host,
        &["inject", "-i", "eth0", "--pps", "3000", "--loop", "2", f],
        Duration::from_secs(10),
    );
    assert!(st.success(), "{err:?}");
    assert_eq!(sent(&out), 602, "{out:?}");
    assert!(out.iter().any(|l| l == "2 passes over the file"), "{out:?}");
    // The recorded pace: 30 ms of traffic.
    let (st, out, err) = run(
        &lab,
        Ns::Host,
        &["inject", "-i", "eth0", f],
        Duration::from_secs(10),
    );
    assert!(st.success(), "{err:?}");
    assert_eq!(sent(&out), 301, "{out:?}");
    std::thread::sleep(Duration::from_millis(200));
    assert!(c.stop().success());
    let (got, _) = read_file(&cap);
    assert_eq!(got.len(), 4 * 301);
    for (i, g) in got.iter().enumerate() {
        assert_eq!(&g.data, &frames[i % 301], "frame {i}");
    }
    // A file of another link type is refused with a clear message.
    let bad = dir.path().join("raw.pcap");
    {
        let mut w = Writer::create(&bad, WriterOptions::new(Format::Pcap)).unwrap();
        w.add_interface(&Interface::new(LinkType::RAW, 65535))
            .unwrap();
        w.write_frame(&sluice_pcap::Frame::new(
            0,
            LinkType::RAW,
            0,
            &frames[0][14..],
        ))
        .unwrap();
        w.finish().unwrap();
    }
    let (st, _, err) = run(
        &lab,
        Ns::Host,
        &["inject", "-i", "eth0", bad.to_str().unwrap()],
        Duration::from_secs(10),
    );
    assert_eq!(st.code(), Some(1));
    assert!(err.iter().any(|l| l.contains("link type")), "{err:?}");
}

/// `sluice gen` sends exactly the count, in order, through each TX path;
/// `capture -c` stops by itself after that many frames.
#[test]
fn gen_sends_the_count_in_order() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    for (i, path) in ["mmsg", "ring"].into_iter().enumerate() {
        let port = 8001 + i as u16;
        let file = dir.path().join(format!("{path}.pcapng"));
        let filter = format!("udp port {port}");
        let mut c = Proc::start(
            &lab,
            Ns::Net,
            &[
                "capture",
                "-i",
                "eth0",
                "-c",
                "5000",
                "-w",
                file.to_str().unwrap(),
                &filter,
            ],
        );
        c.ready(1);
        let mut args = vec!["gen", "-i", "eth0", "--count", "5000", "--tx", path];
        let g = gen_args(&lab, 4000, port);
        args.extend(g.iter().map(String::as_str));
        let (st, out, err) = run(&lab, Ns::Host, &args, Duration::from_secs(20));
        assert!(st.success(), "{err:?}");
        assert_eq!(sent(&out), 5000);
        // -c 5000: the capture ends by itself.
        assert!(
            c.wait(Duration::from_secs(10)).success(),
            "{:?}",
            c.stderr()
        );
        assert_eq!(c.captured(), 5000);
        let u = UdpFrames::new(&flow(&lab, port), 60).unwrap();
        let (got, _) = read_file(&file);
        assert_eq!(got.len(), 5000);
        for (s, g) in got.iter().enumerate() {
            assert_eq!(g.data, u.frame(s as u64), "{path}: frame {s}");
        }
    }
}

/// `--fanout 2`: two readers, one file, every flow complete and in order.
#[test]
fn fanout_keeps_every_flow_in_order() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fan.pcapng");
    let mut c = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "--fanout",
            "2",
            "-w",
            file.to_str().unwrap(),
            "udp dst port 8101",
        ],
    );
    c.ready(1);
    assert!(
        c.stderr().iter().any(|l| l.ends_with(", 2 readers")),
        "{:?}",
        c.stderr()
    );
    let mut senders = Vec::new();
    for sport in 5000..5006u16 {
        let mut args: Vec<String> = ["gen", "-i", "eth0", "--count", "2000"]
            .map(String::from)
            .to_vec();
        args.extend(gen_args(&lab, sport, 8101));
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        senders.push(Proc::start(&lab, Ns::Host, &a));
    }
    for mut s in senders {
        assert!(s.wait(Duration::from_secs(20)).success());
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(c.stop().success());
    let (got, _) = read_file(&file);
    assert_eq!(got.len(), 12_000);
    let mut flows: BTreeMap<u16, Vec<u64>> = BTreeMap::new();
    for g in &got {
        let sport = u16::from_be_bytes([g.data[34], g.data[35]]);
        let seq = u64::from_be_bytes(g.data[42..50].try_into().unwrap());
        flows.entry(sport).or_default().push(seq);
    }
    assert_eq!(flows.len(), 6);
    for (sport, seqs) in flows {
        assert_eq!(
            seqs,
            (0..2000).collect::<Vec<_>>(),
            "flow from port {sport}"
        );
    }
}

/// Without -w, frames are printed as `sluice print` prints the same frames
/// from a file.
#[test]
fn printed_lines_match_print() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.pcapng");
    // Each socket stamps a frame with its own reading of the clock (a
    // microsecond or two apart): lines are compared without timestamps.
    let mut printer = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-c",
            "40",
            "-t",
            "-e",
            "-v",
            "udp port 8201 or icmp",
        ],
    );
    let mut writer = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-c",
            "40",
            "-w",
            file.to_str().unwrap(),
            "udp port 8201 or icmp",
        ],
    );
    printer.ready(1);
    writer.ready(1);
    let mut args = vec!["gen", "-i", "eth0", "--count", "36"];
    let g = gen_args(&lab, 4000, 8201);
    args.extend(g.iter().map(String::as_str));
    let (st, _, _) = run(&lab, Ns::Host, &args, Duration::from_secs(10));
    assert!(st.success());
    lab.exec(
        Ns::Host,
        &["ping", "-c", "2", "-i", "0.2", &lab.net_ip4().to_string()],
    )
    .unwrap();
    assert!(
        printer.wait(Duration::from_secs(10)).success(),
        "{:?}",
        printer.stderr()
    );
    assert!(writer.wait(Duration::from_secs(10)).success());
    let (st, printed, _) = run(
        &lab,
        Ns::Net,
        &["print", "-t", "-e", "-v", "-r", file.to_str().unwrap()],
        Duration::from_secs(10),
    );
    assert!(st.success());
    // -v prints a second line for IP frames.
    assert!(printed.len() >= 40, "{printed:?}");
    assert_eq!(printer.stdout(), printed);
}

/// A second SIGINT ends the process at once even while the output is stuck
/// (a FIFO nobody reads).
#[test]
fn second_sigint_exits_at_once() {
    let lab = lab();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("stuck");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Holds the FIFO open for reading, never reads.
    let holder = Proc::start_cmd(
        {
            let mut c = Command::new("sh");
            c.args(["-c", "exec 3<\"$0\"; sleep 30", fifo.to_str().unwrap()]);
            c
        },
        "fifo holder",
    );
    let mut c = Proc::start(
        &lab,
        Ns::Net,
        &[
            "capture",
            "-i",
            "eth0",
            "-w",
            fifo.to_str().unwrap(),
            "udp port 8301",
        ],
    );
    c.ready(1);
    let mut args = vec!["gen", "-i", "eth0", "--count", "5000", "--size", "500"];
    let g = gen_args(&lab, 4000, 8301);
    args.extend(g.iter().map(String::as_str));
    let (st, _, _) = run(&lab, Ns::Host, &args, Duration::from_secs(10));
    assert!(st.success());
    std::thread::sleep(Duration::from_millis(200));
    c.signal("-INT");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        c.child.as_mut().unwrap().try_wait().unwrap().is_none(),
        "the first SIGINT cannot finish: the output is stuck"
    );
    let t = Instant::now();
    c.signal("-INT");
    let st = c.wait(Duration::from_secs(5));
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(st.code(), Some(1), "{:?}", c.stderr());
    assert!(
        c.stderr().iter().any(|l| l.contains("interrupted twice")),
        "{:?}",
        c.stderr()
    );
    drop(holder);
}
