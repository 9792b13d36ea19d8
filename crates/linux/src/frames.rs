//! Building test traffic fast: Ethernet + IPv4/IPv6 + UDP frames of a given
//! size from a template, stamped with a sequence number.
//!
//! The template is built (and checksummed) once; each frame is a copy with
//! an 8-byte big-endian sequence number at the start of the UDP payload and
//! the UDP checksum updated incrementally (RFC 1624), so building a frame
//! costs one `memcpy` and a few additions. The receiver can check order and
//! loss from the sequence numbers.

use std::net::{IpAddr, SocketAddr};

use crate::error::{Error, ErrorKind, Result};

/// One UDP flow: addresses and ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpFlow {
    /// Source MAC address.
    pub src_mac: [u8; 6],
    /// Destination MAC address.
    pub dst_mac: [u8; 6],
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port (same family as `src`).
    pub dst: SocketAddr,
}

/// A frame template for one flow and size.
#[derive(Clone, Debug)]
pub struct UdpFrames {
    template: Vec<u8>,
    seq_at: usize,
    csum_at: usize,
}

fn sum16(data: &[u8]) -> u32 {
    let mut s = 0u32;
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        s += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        s += u32::from(*last) << 8;
    }
    s
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Length of Ethernet + IP + UDP headers for an address family.
pub fn header_len(ipv6: bool) -> usize {
    14 + if ipv6 { 40 } else { 20 } + 8
}

impl UdpFrames {
    /// A template of exactly `frame_len` bytes (without FCS); at least the
    /// headers plus 8 bytes for the sequence number.
    pub fn new(flow: &UdpFlow, frame_len: usize) -> Result<UdpFrames> {
        let v6 = match (flow.src.ip(), flow.dst.ip()) {
            (IpAddr::V4(_), IpAddr::V4(_)) => false,
            (IpAddr::V6(_), IpAddr::V6(_)) => true,
            _ => {
                return Err(Error::new(
                    ErrorKind::InvalidConfig,
                    "UDP source and destination are of different address families",
                ));
            }
        };
        let hl = header_len(v6);
        let max = if v6 { 65_535 + 54 } else { 65_535 + 14 };
        if frame_len < hl + 8 || frame_len > max {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("UDP frame size {frame_len} outside {}..={max}", hl + 8),
            ));
        }
        let mut f = vec![0u8; frame_len];
        f[0..6].copy_from_slice(&flow.dst_mac);
        f[6..12].copy_from_slice(&flow.src_mac);
        let udp_len = frame_len - 14 - if v6 { 40 } else { 20 };
        let ip = 14;
        let udp;
        let mut pseudo = 0u32;
        match (flow.src.ip(), flow.dst.ip()) {
            (IpAddr::V4(s), IpAddr::V4(d)) => {
                f[12..14].copy_from_slice(&[0x08, 0x00]);
                let tot = (frame_len - 14) as u16;
                f[ip] = 0x45;
                f[ip + 2..ip + 4].copy_from_slice(&tot.to_be_bytes());
                f[ip + 6] = 0x40; // DF
                f[ip + 8] = 64;
                f[ip + 9] = 17;
                f[ip + 12..ip + 16].copy_from_slice(&s.octets());
                f[ip + 16..ip + 20].copy_from_slice(&d.octets());
                let c = !fold(sum16(&f[ip..ip + 20]));
                f[ip + 10..ip + 12].copy_from_slice(&c.to_be_bytes());
                pseudo += sum16(&s.octets()) + sum16(&d.octets()) + 17 + udp_len as u32;
                udp = ip + 20;
            }
            (IpAddr::V6(s), IpAddr::V6(d)) => {
                f[12..14].copy_from_slice(&[0x86, 0xdd]);
                f[ip] = 0x60;
                f[ip + 4..ip + 6].copy_from_slice(&(udp_len as u16).to_be_bytes());
                f[ip + 6] = 17;
                f[ip + 7] = 64;
                f[ip + 8..ip + 24].copy_from_slice(&s.octets());
                f[ip + 24..ip + 40].copy_from_slice(&d.octets());
                pseudo += sum16(&s.octets()) + sum16(&d.octets()) + 17 + udp_len as u32;
                udp = ip + 40;
            }
            _ => unreachable!("families checked above"),
        }
        f[udp..udp + 2].copy_from_slice(&flow.src.port().to_be_bytes());
        f[udp + 2..udp + 4].copy_from_slice(&flow.dst.port().to_be_bytes());
        f[udp + 4..udp + 6].copy_from_slice(&(udp_len as u16).to_be_bytes());
        // Payload after the sequence number: a recognisable pattern.
        for (i, b) in f[udp + 16..].iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut c = !fold(pseudo + sum16(&f[udp..]));
        if c == 0 {
            c = 0xffff;
        }
        f[udp + 6..udp + 8].copy_from_slice(&c.to_be_bytes());
        Ok(UdpFrames {
            template: f,
            seq_at: udp + 8,
            csum_at: udp + 6,
        })
    }

    /// Frame length.
    pub fn len(&self) -> usize {
        self.template.len()
    }

    /// Always false: a template has headers.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The template (sequence number 0).
    pub fn template(&self) -> &[u8] {
        &self.template
    }

    /// Writes the frame with sequence number `seq` into `out`, which must be
    /// exactly [`UdpFrames::len`] bytes.
    pub fn write(&self, seq: u64, out: &mut [u8]) {
        out.copy_from_slice(&self.template);
        out[self.seq_at..self.seq_at + 8].copy_from_slice(&seq.to_be_bytes());
        // RFC 1624: HC' = ~(~HC + m') for m = 0 words replaced by m'.
        let old =
            u16::from_be_bytes([self.template[self.csum_at], self.template[self.csum_at + 1]]);
        let s = u32::from(!old) + sum16(&seq.to_be_bytes());
        let mut c = !fold(s);
        if c == 0 {
            c = 0xffff;
        }
        out[self.csum_at..self.csum_at + 2].copy_from_slice(&c.to_be_bytes());
    }

    /// The frame with sequence number `seq`, as a new vector.
    pub fn frame(&self, seq: u64) -> Vec<u8> {
        let mut v = vec![0u8; self.len()];
        self.write(seq, &mut v);
        v
    }

    /// Reads the sequence number of a frame built from this template.
    pub fn seq_of(&self, frame: &[u8]) -> Option<u64> {
        let b = frame.get(self.seq_at..self.seq_at + 8)?;
        Some(u64::from_be_bytes(b.try_into().ok()?))
    }

    /// Fills `buf` with `count` consecutive frames starting at `first_seq`
    /// (back to back, each [`UdpFrames::len`] bytes).
    pub fn fill(&self, first_seq: u64, count: usize, buf: &mut Vec<u8>) {
        let n = self.len();
        buf.resize(n * count, 0);
        for (i, chunk) in buf.chunks_exact_mut(n).enumerate() {
            self.write(first_seq + i as u64, chunk);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(v6: bool) -> UdpFlow {
        let (s, d): (SocketAddr, SocketAddr) = if v6 {
            (
                "[fd77:1::1]:4000".parse().unwrap(),
                "[fd77:1::2]:7777".parse().unwrap(),
            )
        } else {
            (
                "10.77.1.1:4000".parse().unwrap(),
                "10.77.1.2:7777".parse().unwrap(),
            )
        };
        UdpFlow {
            src_mac: [2, 0, 0, 0, 0, 1],
            dst_mac: [2, 0, 0, 0, 0, 2],
            src: s,
            dst: d,
        }
    }

    fn udp_checksum_ok(f: &[u8], v6: bool) -> bool {
        let ip = 14;
        let (pseudo, udp) = if v6 {
            (
                sum16(&f[ip + 8..ip + 40]) + 17 + (f.len() - 54) as u32,
                ip + 40,
            )
        } else {
            (
                sum16(&f[ip + 12..ip + 20]) + 17 + (f.len() - 34) as u32,
                ip + 20,
            )
        };
        fold(pseudo + sum16(&f[udp..])) == 0xffff
    }

    #[test]
    fn frames_have_right_size_and_checksums() {
        for v6 in [false, true] {
            let g = UdpFrames::new(&flow(v6), if v6 { 70 } else { 60 }).unwrap();
            for seq in [0u64, 1, 0xffff, u64::MAX, 0x0123_4567_89ab_cdef] {
                let f = g.frame(seq);
                assert_eq!(f.len(), g.len());
                assert!(udp_checksum_ok(&f, v6), "seq {seq} v6 {v6}");
                assert_eq!(g.seq_of(&f), Some(seq));
            }
            if !v6 {
                assert_eq!(fold(sum16(&g.template()[14..34])), 0xffff);
            }
        }
    }

    #[test]
    fn sizes_are_checked() {
        assert!(UdpFrames::new(&flow(false), 49).is_err());
        assert!(UdpFrames::new(&flow(false), 50).is_ok());
        let mut f = flow(false);
        f.dst = "[fd77::1]:1".parse().unwrap();
        assert!(UdpFrames::new(&f, 100).is_err());
    }

    #[test]
    fn fill_makes_consecutive_frames() {
        let g = UdpFrames::new(&flow(false), 64).unwrap();
        let mut buf = Vec::new();
        g.fill(10, 5, &mut buf);
        for (i, c) in buf.chunks_exact(64).enumerate() {
            assert_eq!(g.seq_of(c), Some(10 + i as u64));
        }
    }
}
