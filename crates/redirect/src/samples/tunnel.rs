//! Frames re-packaged into UDP datagrams to a peer (`sluice tunnel`), WAN
//! optimisation style.
//!
//! Two tunnel endpoints each sit in a path. A frame the redirect filter
//! selects at one end is taken off its path and sent to the other end in
//! UDP datagrams (compressed with zstd if asked); the other end puts it
//! back on its own path *in the same direction*: a frame read from upper
//! (the host sending) leaves the peer towards its lower side, and a frame
//! read from lower leaves towards upper. For the selected traffic the two
//! paths become one, stitched through UDP.
//!
//! # Datagram format
//!
//! A 28-byte header, big endian, then a piece of the (possibly
//! compressed) frame:
//!
//! | bytes | field |
//! |---|---|
//! | 0..2 | magic `SL` |
//! | 2 | version 1 |
//! | 3 | flags: bit 0 the frame was read from lower, bit 1 zstd |
//! | 4..8 | frame id (per sender, increasing) |
//! | 8..10 | piece index |
//! | 10..12 | piece count |
//! | 12..16 | total length of the payload (all pieces) |
//! | 16 | GSO type (`VIRTIO_NET_HDR_GSO_*`) |
//! | 17 | bit 0: partial checksum |
//! | 18..20 | GSO size |
//! | 20..22 | header length |
//! | 22..24 | checksum start |
//! | 24..26 | checksum offset |
//! | 26..28 | reserved, 0 |
//!
//! Frames are cut into pieces of at most `chunk` bytes (so datagrams stay
//! under the path MTU) and put together again on the other side; a frame
//! whose pieces do not all arrive is dropped and counted. GSO frames keep
//! their offload state across the tunnel. Datagrams from any address
//! other than the peer, and malformed ones, are counted and ignored.
//!
//! A thread of the handler's own receives datagrams and wakes the engine
//! ([`Handler::waker`]); frames it reassembled wait in a bounded queue
//! (over the bound they are dropped and counted).

use std::collections::VecDeque;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TryRecvError, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use sluice_linux::Interrupt;

use crate::frame::{FrameMut, Offload, Side};
use crate::handler::{Context, Handler, Verdict};

/// Length of the datagram header.
pub const HEADER_LEN: usize = 28;
const MAGIC: [u8; 2] = *b"SL";
const VERSION: u8 = 1;
const FLAG_LOWER: u8 = 1;
const FLAG_ZSTD: u8 = 2;
/// Largest frame a tunnel restores (BIG TCP aside, GSO frames are 64 KiB).
pub const MAX_FRAME: usize = 256 << 10;

/// How to run a tunnel endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TunnelConfig {
    /// Local UDP address to receive on (and send from).
    pub listen: SocketAddr,
    /// The peer's address.
    pub peer: SocketAddr,
    /// zstd level to compress with (`None`: no compression).
    pub zstd: Option<i32>,
    /// Largest piece of frame per datagram (bytes after the header).
    pub chunk: usize,
    /// Frames received from the peer waiting for the engine.
    pub queue: usize,
}

impl TunnelConfig {
    /// A tunnel without compression, pieces of 1400 bytes, a queue of
    /// 8192 frames.
    pub fn new(listen: SocketAddr, peer: SocketAddr) -> TunnelConfig {
        TunnelConfig {
            listen,
            peer,
            zstd: None,
            chunk: 1400,
            queue: 8192,
        }
    }
}

/// Counters of a tunnel endpoint.
#[derive(Debug, Default)]
pub struct TunnelStats {
    /// Frames sent to the peer.
    pub frames_out: AtomicU64,
    /// Their bytes before compression.
    pub bytes_out: AtomicU64,
    /// Payload bytes sent (after compression).
    pub wire_bytes_out: AtomicU64,
    /// Datagrams sent.
    pub datagrams_out: AtomicU64,
    /// Frames that could not be sent (socket error, buffer full).
    pub send_failures: AtomicU64,
    /// Datagrams received from the peer.
    pub datagrams_in: AtomicU64,
    /// Frames restored from the peer.
    pub frames_in: AtomicU64,
    /// Their bytes.
    pub bytes_in: AtomicU64,
    /// Datagrams that were not ours (bad magic, version, lengths).
    pub malformed: AtomicU64,
    /// Datagrams from an address other than the peer.
    pub foreign: AtomicU64,
    /// Frames given up with pieces missing.
    pub incomplete: AtomicU64,
    /// Frames whose payload did not decompress.
    pub bad_payload: AtomicU64,
    /// Frames dropped because the queue to the engine was full.
    pub queue_full: AtomicU64,
}

/// A plain copy of [`TunnelStats`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TunnelCounts {
    pub frames_out: u64,
    pub bytes_out: u64,
    pub wire_bytes_out: u64,
    pub datagrams_out: u64,
    pub send_failures: u64,
    pub datagrams_in: u64,
    pub frames_in: u64,
    pub bytes_in: u64,
    pub malformed: u64,
    pub foreign: u64,
    pub incomplete: u64,
    pub bad_payload: u64,
    pub queue_full: u64,
}

impl TunnelStats {
    /// The current values.
    pub fn snapshot(&self) -> TunnelCounts {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        TunnelCounts {
            frames_out: g(&self.frames_out),
            bytes_out: g(&self.bytes_out),
            wire_bytes_out: g(&self.wire_bytes_out),
            datagrams_out: g(&self.datagrams_out),
            send_failures: g(&self.send_failures),
            datagrams_in: g(&self.datagrams_in),
            frames_in: g(&self.frames_in),
            bytes_in: g(&self.bytes_in),
            malformed: g(&self.malformed),
            foreign: g(&self.foreign),
            incomplete: g(&self.incomplete),
            bad_payload: g(&self.bad_payload),
            queue_full: g(&self.queue_full),
        }
    }
}

fn bump(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

/// The header of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// The frame was read from lower.
    pub from_lower: bool,
    /// The payload is zstd-compressed.
    pub zstd: bool,
    /// Frame id.
    pub id: u32,
    /// Piece index.
    pub index: u16,
    /// Piece count.
    pub count: u16,
    /// Total payload length.
    pub total: u32,
    /// Offload state of the frame.
    pub offload: Offload,
}

impl Header {
    /// Writes the header into the first [`HEADER_LEN`] bytes of `out`.
    pub fn emit(&self, out: &mut [u8]) {
        out[0..2].copy_from_slice(&MAGIC);
        out[2] = VERSION;
        out[3] =
            if self.from_lower { FLAG_LOWER } else { 0 } | if self.zstd { FLAG_ZSTD } else { 0 };
        out[4..8].copy_from_slice(&self.id.to_be_bytes());
        out[8..10].copy_from_slice(&self.index.to_be_bytes());
        out[10..12].copy_from_slice(&self.count.to_be_bytes());
        out[12..16].copy_from_slice(&self.total.to_be_bytes());
        let o = &self.offload;
        out[16] = o.gso_type;
        out[17] = u8::from(o.csum_partial);
        out[18..20].copy_from_slice(&o.gso_size.to_be_bytes());
        out[20..22].copy_from_slice(&o.hdr_len.to_be_bytes());
        out[22..24].copy_from_slice(&o.csum_start.to_be_bytes());
        out[24..26].copy_from_slice(&o.csum_offset.to_be_bytes());
        out[26..28].fill(0);
    }

    /// Reads a datagram's header; `None` for anything that is not a
    /// well-formed piece of ours.
    pub fn parse(d: &[u8]) -> Option<Header> {
        if d.len() < HEADER_LEN || d[0..2] != MAGIC || d[2] != VERSION {
            return None;
        }
        let u16at = |i: usize| u16::from_be_bytes([d[i], d[i + 1]]);
        let h = Header {
            from_lower: d[3] & FLAG_LOWER != 0,
            zstd: d[3] & FLAG_ZSTD != 0,
            id: u32::from_be_bytes([d[4], d[5], d[6], d[7]]),
            index: u16at(8),
            count: u16at(10),
            total: u32::from_be_bytes([d[12], d[13], d[14], d[15]]),
            offload: Offload {
                gso_type: d[16],
                csum_partial: d[17] & 1 != 0,
                gso_size: u16at(18),
                hdr_len: u16at(20),
                csum_start: u16at(22),
                csum_offset: u16at(24),
            },
        };
        if h.count == 0 || h.index >= h.count || h.total as usize > MAX_FRAME {
            return None;
        }
        Some(h)
    }
}

/// Cuts an encoded frame into datagrams of at most `chunk` payload bytes.
pub fn encode(
    payload: &[u8],
    mut header: Header,
    chunk: usize,
    mut emit: impl FnMut(&[u8]) -> io::Result<()>,
) -> io::Result<usize> {
    let chunk = chunk.max(1);
    let count = payload.len().div_ceil(chunk).max(1);
    header.count = u16::try_from(count)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame needs too many pieces"))?;
    header.total = payload.len() as u32;
    let mut d = vec![0u8; HEADER_LEN + chunk.min(payload.len().max(1))];
    for i in 0..count {
        let piece = &payload[(i * chunk).min(payload.len())..((i + 1) * chunk).min(payload.len())];
        header.index = i as u16;
        header.emit(&mut d);
        d.truncate(HEADER_LEN);
        d.extend_from_slice(piece);
        emit(&d)?;
    }
    Ok(count)
}

/// Puts frames together from their pieces; keeps at most a few frames
/// in progress (pieces of one frame normally arrive together).
#[derive(Debug, Default)]
pub struct Reassembly {
    partial: VecDeque<Partial>,
}

#[derive(Debug)]
struct Partial {
    header: Header,
    got: Vec<bool>,
    left: usize,
    data: Vec<u8>,
    chunk: usize,
}

/// Frames in progress at once; an older one is given up (and counted).
const IN_PROGRESS: usize = 32;

impl Reassembly {
    /// Adds one datagram (header parsed); returns a whole payload when
    /// this piece completes it, and how many frames were given up.
    pub fn add(&mut self, h: Header, piece: &[u8]) -> (Option<(Header, Vec<u8>)>, u64) {
        let mut given_up = 0;
        if h.count == 1 {
            if piece.len() != h.total as usize {
                return (None, 1);
            }
            return (Some((h, piece.to_vec())), 0);
        }
        let pos = self
            .partial
            .iter()
            .position(|p| p.header.id == h.id && p.header.from_lower == h.from_lower);
        let at = match pos {
            Some(i) => i,
            None => {
                if self.partial.len() >= IN_PROGRESS {
                    self.partial.pop_front();
                    given_up += 1;
                }
                // Every piece but the last has the first piece's size.
                let chunk = if h.index + 1 < h.count {
                    piece.len()
                } else {
                    (h.total as usize - piece.len()).div_ceil((h.count - 1) as usize)
                };
                self.partial.push_back(Partial {
                    header: h,
                    got: vec![false; h.count as usize],
                    left: h.count as usize,
                    data: vec![0; h.total as usize],
                    chunk: chunk.max(1),
                });
                self.partial.len() - 1
            }
        };
        let p = &mut self.partial[at];
        let start = h.index as usize * p.chunk;
        let ok = p.header.count == h.count
            && p.header.total == h.total
            && start + piece.len() <= p.data.len()
            && (h.index + 1 == h.count || piece.len() == p.chunk)
            && (h.index + 1 < h.count || start + piece.len() == p.data.len());
        if !ok {
            self.partial.remove(at);
            return (None, given_up + 1);
        }
        if !p.got[h.index as usize] {
            p.got[h.index as usize] = true;
            p.left -= 1;
            p.data[start..start + piece.len()].copy_from_slice(piece);
        }
        if p.left == 0 {
            let p = self.partial.remove(at).map(|p| (p.header, p.data));
            return (p, given_up);
        }
        (None, given_up)
    }

    /// Frames still waiting for pieces.
    pub fn pending(&self) -> usize {
        self.partial.len()
    }
}

/// A frame restored from the peer.
#[derive(Debug)]
struct Restored {
    from: Side,
    bytes: Vec<u8>,
    offload: Offload,
}

/// A tunnel endpoint (see the module documentation).
#[derive(Debug)]
pub struct Tunnel {
    config: TunnelConfig,
    sock: UdpSocket,
    stats: Arc<TunnelStats>,
    rx: Receiver<Restored>,
    waker: Arc<Interrupt>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    next_id: u32,
    scratch: Vec<u8>,
}

impl Tunnel {
    /// Binds the local address and starts the receiving thread.
    pub fn open(config: TunnelConfig) -> io::Result<Tunnel> {
        if config.chunk == 0 || config.chunk > 65_000 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("piece size {} outside 1..=65000", config.chunk),
            ));
        }
        let sock = UdpSocket::bind(config.listen)?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))?;
        let send = sock.try_clone()?;
        send.set_nonblocking(true)?;
        let stats = Arc::new(TunnelStats::default());
        let waker = Arc::new(Interrupt::new().map_err(io::Error::other)?);
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, rx) = sync_channel(config.queue.max(1));
        let thread = {
            let (stats, waker, stop) = (Arc::clone(&stats), Arc::clone(&waker), Arc::clone(&stop));
            std::thread::Builder::new()
                .name("sluice-tunnel".into())
                .spawn(move || receive_loop(sock, config.peer, tx, &stats, &waker, &stop))?
        };
        Ok(Tunnel {
            config,
            sock: send,
            stats,
            rx,
            waker,
            stop,
            thread: Some(thread),
            next_id: 0,
            scratch: Vec::new(),
        })
    }

    /// The local address (with the port the system chose for port 0).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.sock.local_addr()
    }

    /// The live counters.
    pub fn stats(&self) -> Arc<TunnelStats> {
        Arc::clone(&self.stats)
    }

    fn send_frame(&mut self, from: Side, bytes: &[u8], offload: Offload) {
        let payload: &[u8] = match self.config.zstd {
            Some(level) => match zstd::bulk::compress(bytes, level) {
                Ok(c) if c.len() < bytes.len() => {
                    self.scratch = c;
                    &self.scratch
                }
                _ => bytes,
            },
            None => bytes,
        };
        let zstd = self.config.zstd.is_some() && payload.len() < bytes.len();
        let header = Header {
            from_lower: from == Side::Lower,
            zstd,
            id: self.next_id,
            index: 0,
            count: 0,
            total: 0,
            offload,
        };
        self.next_id = self.next_id.wrapping_add(1);
        let (sock, peer, stats) = (&self.sock, self.config.peer, &self.stats);
        let mut sent = 0u64;
        let r = encode(payload, header, self.config.chunk, |d| {
            sock.send_to(d, peer)?;
            sent += 1;
            Ok(())
        });
        bump(&stats.datagrams_out, sent);
        match r {
            Ok(_) => {
                bump(&stats.frames_out, 1);
                bump(&stats.bytes_out, bytes.len() as u64);
                bump(&stats.wire_bytes_out, payload.len() as u64);
            }
            Err(_) => bump(&stats.send_failures, 1),
        }
    }
}

fn receive_loop(
    sock: UdpSocket,
    peer: SocketAddr,
    tx: SyncSender<Restored>,
    stats: &TunnelStats,
    waker: &Interrupt,
    stop: &AtomicBool,
) {
    let mut buf = vec![0u8; 65_536];
    let mut re = Reassembly::default();
    while !stop.load(Ordering::Relaxed) {
        let (n, from) = match sock.recv_from(&mut buf) {
            Ok(r) => r,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                continue;
            }
            // ICMP errors from an absent peer surface here; keep going.
            Err(_) => continue,
        };
        if from != peer {
            bump(&stats.foreign, 1);
            continue;
        }
        bump(&stats.datagrams_in, 1);
        let Some(h) = Header::parse(&buf[..n]) else {
            bump(&stats.malformed, 1);
            continue;
        };
        let (done, given_up) = re.add(h, &buf[HEADER_LEN..n]);
        bump(&stats.incomplete, given_up);
        let Some((h, payload)) = done else { continue };
        let bytes = if h.zstd {
            match zstd::bulk::decompress(&payload, MAX_FRAME) {
                Ok(b) => b,
                Err(_) => {
                    bump(&stats.bad_payload, 1);
                    continue;
                }
            }
        } else {
            payload
        };
        let len = bytes.len() as u64;
        let r = Restored {
            from: if h.from_lower {
                Side::Lower
            } else {
                Side::Upper
            },
            bytes,
            offload: h.offload,
        };
        match tx.try_send(r) {
            Ok(()) => {
                bump(&stats.frames_in, 1);
                bump(&stats.bytes_in, len);
                waker.trigger();
            }
            Err(TrySendError::Full(_)) => bump(&stats.queue_full, 1),
            Err(TrySendError::Disconnected(_)) => return,
        }
    }
}

/// Frames handed to the engine per wake-up (the rest wait for the next).
const PER_WAKE: usize = 1024;

impl Handler for Tunnel {
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict {
        if ctx.is_monitor() {
            return Verdict::Pass;
        }
        let offload = frame.meta().offload;
        self.send_frame(frame.side(), frame.data(), offload);
        Verdict::Stolen
    }

    fn waker(&self) -> Option<Arc<Interrupt>> {
        Some(Arc::clone(&self.waker))
    }

    fn on_wake(&mut self, ctx: &mut Context<'_>) {
        for _ in 0..PER_WAKE {
            match self.rx.try_recv() {
                // Same direction as on the peer: read from upper there,
                // towards lower here.
                Ok(r) => {
                    ctx.inject_with(r.from.other(), r.bytes, r.offload);
                }
                Err(TryRecvError::Empty) | Err(TryRecvError::Disconnected) => return,
            }
        }
        // More waiting: come back.
        self.waker.trigger();
    }

    fn on_stop(&mut self, ctx: &mut Context<'_>) {
        self.on_wake(ctx);
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Drop for Tunnel {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hdr() -> Header {
        Header {
            from_lower: true,
            zstd: false,
            id: 7,
            index: 0,
            count: 0,
            total: 0,
            offload: Offload {
                gso_type: 1,
                gso_size: 1448,
                hdr_len: 66,
                csum_partial: true,
                csum_start: 34,
                csum_offset: 16,
            },
        }
    }

    #[test]
    fn header_round_trips_and_rejects_junk() {
        let mut h = hdr();
        h.count = 3;
        h.index = 2;
        h.total = 5000;
        let mut b = [0u8; HEADER_LEN];
        h.emit(&mut b);
        assert_eq!(Header::parse(&b), Some(h));
        let mut bad = b;
        bad[0] = b'X';
        assert_eq!(Header::parse(&bad), None);
        let mut bad = b;
        bad[8..10].copy_from_slice(&3u16.to_be_bytes());
        assert_eq!(Header::parse(&bad), None);
        assert_eq!(Header::parse(&b[..10]), None);
    }

    #[test]
    fn frames_are_cut_and_put_together_in_any_order() {
        let payload: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        let mut pieces = Vec::new();
        let n = encode(&payload, hdr(), 1400, |d| {
            pieces.push(d.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 8);
        assert!(pieces.iter().all(|p| p.len() <= HEADER_LEN + 1400));
        pieces.reverse();
        let mut re = Reassembly::default();
        let mut out = None;
        for p in &pieces {
            let h = Header::parse(p).unwrap();
            let (done, lost) = re.add(h, &p[HEADER_LEN..]);
            assert_eq!(lost, 0);
            if done.is_some() {
                out = done;
            }
        }
        let (h, data) = out.unwrap();
        assert_eq!(data, payload);
        assert_eq!(h.offload, hdr().offload);
        assert_eq!(re.pending(), 0);
    }

    #[test]
    fn missing_pieces_are_given_up_and_counted() {
        let mut re = Reassembly::default();
        let mut lost_total = 0;
        for id in 0..(IN_PROGRESS as u32 + 5) {
            let mut h = hdr();
            h.id = id;
            let mut first = None;
            encode(&[1u8; 3000], h, 1400, |d| {
                first.get_or_insert_with(|| d.to_vec());
                Ok(())
            })
            .unwrap();
            let p = first.unwrap();
            let (done, lost) = re.add(Header::parse(&p).unwrap(), &p[HEADER_LEN..]);
            assert!(done.is_none());
            lost_total += lost;
        }
        assert_eq!(lost_total, 5);
        assert_eq!(re.pending(), IN_PROGRESS);
    }

    #[test]
    fn two_endpoints_carry_frames_over_loopback() {
        let a_addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
        // Bind both first to learn the ports, then connect them.
        let pa = UdpSocket::bind(a_addr).unwrap().local_addr().unwrap();
        let pb = UdpSocket::bind(a_addr).unwrap().local_addr().unwrap();
        let mut ca = TunnelConfig::new(pa, pb);
        ca.zstd = Some(3);
        let cb = TunnelConfig::new(pb, pa);
        let mut a = Tunnel::open(ca).unwrap();
        let b = Tunnel::open(cb).unwrap();
        let frame = vec![0x42u8; 20_000];
        a.send_frame(Side::Upper, &frame, Offload::default());
        let got = b.rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(got.bytes, frame);
        assert_eq!(got.from, Side::Upper);
        let s = a.stats.snapshot();
        assert_eq!(s.frames_out, 1);
        assert!(s.wire_bytes_out < 1000, "compressed: {s:?}");
        // The receiving thread counts a frame just after it hands it over:
        // wait (boundedly) for the count rather than race it.
        let until = std::time::Instant::now() + Duration::from_secs(5);
        while b.stats.snapshot().frames_in == 0 && std::time::Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(b.stats.snapshot().frames_in, 1);
    }
}
