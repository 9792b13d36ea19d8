//! The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//!
//! Sums here are *unfolded-then-folded one's complement sums*, not yet
//! complemented: [`data`] and [`pseudo_header_v4`] return partial sums that
//! [`combine`] adds together, and the value written into a header is the
//! complement of the total (`!combine(&[...])`). The helpers at the bottom
//! (`ipv4_header`, `tcp_udp_v4`, …) do that last step for you.
//!
//! Rewriters and anonymisers that change a few fields of a frame in place do
//! not recompute the whole sum: [`update_u16`], [`update_u32`] and
//! [`update_bytes`] adjust the stored checksum for the change (RFC 1624,
//! equation 3), which is exact, including for the ±0 corner cases.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::ip_protocol::IpProtocol;

/// Folds a 64-bit one's complement accumulator to 16 bits.
#[inline]
fn fold(mut sum: u64) -> u16 {
    sum = (sum & 0xffff_ffff) + (sum >> 32);
    sum = (sum & 0xffff_ffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum as u16
}

/// Adds with end-around carry in 64 bits.
#[inline]
fn add64(acc: u64, v: u64) -> u64 {
    let (s, carry) = acc.overflowing_add(v);
    s + u64::from(carry)
}

/// The one's complement sum of `data` taken as big-endian 16-bit words (an
/// odd last byte is padded with zero), folded to 16 bits but not
/// complemented.
///
/// Works on 32 bytes per step with four independent 64-bit accumulators;
/// the end-around carry keeps the sum exact because 2^64 − 1 is a multiple
/// of 2^16 − 1.
pub fn data(data: &[u8]) -> u16 {
    let mut acc = [0u64; 4];
    let mut chunks = data.chunks_exact(32);
    for c in &mut chunks {
        for (i, a) in acc.iter_mut().enumerate() {
            let w = u64::from_be_bytes([
                c[i * 8],
                c[i * 8 + 1],
                c[i * 8 + 2],
                c[i * 8 + 3],
                c[i * 8 + 4],
                c[i * 8 + 5],
                c[i * 8 + 6],
                c[i * 8 + 7],
            ]);
            *a = add64(*a, w);
        }
    }
    let mut sum = add64(add64(acc[0], acc[1]), add64(acc[2], acc[3]));
    let rest = chunks.remainder();
    let mut eights = rest.chunks_exact(8);
    for c in &mut eights {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        sum = add64(sum, w);
    }
    let mut pairs = eights.remainder().chunks_exact(2);
    for p in &mut pairs {
        sum = add64(sum, u64::from(u16::from_be_bytes([p[0], p[1]])));
    }
    if let [last] = pairs.remainder() {
        sum = add64(sum, u64::from(*last) << 8);
    }
    fold(sum)
}

/// Adds partial sums (from [`data`], [`pseudo_header_v4`], …) together.
pub fn combine(sums: &[u16]) -> u16 {
    let mut acc = 0u64;
    for &s in sums {
        acc += u64::from(s);
    }
    fold(acc)
}

/// The partial sum of the IPv4 pseudo-header for a transport segment of
/// `length` bytes.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: IpProtocol, length: u32) -> u16 {
    let s = src.octets();
    let d = dst.octets();
    let mut acc = 0u64;
    acc += u64::from(u16::from_be_bytes([s[0], s[1]]));
    acc += u64::from(u16::from_be_bytes([s[2], s[3]]));
    acc += u64::from(u16::from_be_bytes([d[0], d[1]]));
    acc += u64::from(u16::from_be_bytes([d[2], d[3]]));
    acc += u64::from(u8::from(protocol));
    // The IPv4 pseudo-header has a 16-bit length; longer segments cannot
    // exist over IPv4 and their length is taken modulo 2^16 as on the wire.
    acc += u64::from(length & 0xffff);
    fold(acc)
}

/// The partial sum of the IPv6 pseudo-header (RFC 8200 §8.1) for an
/// upper-layer packet of `length` bytes.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: IpProtocol, length: u32) -> u16 {
    let mut acc = 0u64;
    for seg in src.segments().iter().chain(dst.segments().iter()) {
        acc += u64::from(*seg);
    }
    acc += u64::from(length >> 16) + u64::from(length & 0xffff);
    acc += u64::from(u8::from(next_header));
    fold(acc)
}

/// The pseudo-header sum for either IP version.
///
/// Mixed families (one v4 and one v6 address) cannot occur in one packet;
/// they are summed as IPv6 with the v4 address mapped, which is only a
/// defined answer, not a meaningful one.
pub fn pseudo_header(src: IpAddr, dst: IpAddr, protocol: IpProtocol, length: u32) -> u16 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => pseudo_header_v4(s, d, protocol, length),
        (s, d) => pseudo_header_v6(to_v6(s), to_v6(d), protocol, length),
    }
}

fn to_v6(a: IpAddr) -> Ipv6Addr {
    match a {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// RFC 1624 equation 3: the new checksum after one 16-bit word of the
/// checksummed data changed from `old` to `new`.
///
/// `checksum` is the value stored in the header (already complemented).
/// The word must sit at an even offset of the checksummed data. The result
/// equals a full recompute except when every other byte of the data is
/// zero, where it may give 0x0000 for 0xffff (both are "zero" in one's
/// complement; no IP, TCP or ICMP header is all zeros).
pub fn update_u16(checksum: u16, old: u16, new: u16) -> u16 {
    // HC' = ~(~HC + ~m + m')
    !combine(&[!checksum, !old, new])
}

/// The new checksum after an aligned 32-bit field (an IPv4 address, a TCP
/// sequence number) changed from `old` to `new`.
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    !combine(&[
        !checksum,
        !((old >> 16) as u16),
        !(old as u16),
        (new >> 16) as u16,
        new as u16,
    ])
}

/// The new checksum after the bytes `old` were replaced by `new` (same
/// length, starting at an even offset of the checksummed data; an odd
/// length is treated as padded with a zero byte, as the sum itself is).
///
/// Lengths that differ are a caller bug; the shorter length is used.
pub fn update_bytes(checksum: u16, old: &[u8], new: &[u8]) -> u16 {
    let n = old.len().min(new.len());
    !combine(&[!checksum, !data(&old[..n]), data(&new[..n])])
}

/// The checksum value to store for an IPv4 header (`header` with its
/// checksum field, bytes 10..12, taken as zero).
///
/// `header` must be the whole header (IHL × 4 bytes) and at least 12 bytes.
pub fn ipv4_header(header: &[u8]) -> u16 {
    !sum_skipping(header, 10)
}

/// True if an IPv4 header's checksum is right.
pub fn verify_ipv4_header(header: &[u8]) -> bool {
    data(header) == 0xffff
}

/// The checksum value to store for an ICMPv4 message (no pseudo-header);
/// the current checksum field (bytes 2..4) is taken as zero.
pub fn icmpv4(message: &[u8]) -> u16 {
    !sum_skipping(message, 2)
}

/// True if an ICMPv4 message's checksum is right.
pub fn verify_icmpv4(message: &[u8]) -> bool {
    data(message) == 0xffff
}

/// The checksum value to store for a TCP, UDP or other segment over IPv4,
/// whose checksum field sits at `checksum_at` (taken as zero).
///
/// For UDP a computed 0 must be sent as 0xffff; [`udp_value`] does that.
pub fn transport_v4(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: IpProtocol,
    segment: &[u8],
    checksum_at: usize,
) -> u16 {
    let ph = pseudo_header_v4(src, dst, protocol, len32(segment));
    !combine(&[ph, sum_skipping(segment, checksum_at)])
}

/// The checksum value to store for a segment over IPv6 (TCP, UDP, ICMPv6),
/// whose checksum field sits at `checksum_at` (taken as zero).
pub fn transport_v6(
    src: Ipv6Addr,
    dst: Ipv6Addr,
    next_header: IpProtocol,
    segment: &[u8],
    checksum_at: usize,
) -> u16 {
    let ph = pseudo_header_v6(src, dst, next_header, len32(segment));
    !combine(&[ph, sum_skipping(segment, checksum_at)])
}

/// [`transport_v4`] or [`transport_v6`] by address family.
pub fn transport(
    src: IpAddr,
    dst: IpAddr,
    protocol: IpProtocol,
    segment: &[u8],
    checksum_at: usize,
) -> u16 {
    let ph = pseudo_header(src, dst, protocol, len32(segment));
    !combine(&[ph, sum_skipping(segment, checksum_at)])
}

/// True if a segment's checksum (over the pseudo-header) is right.
pub fn verify_transport(src: IpAddr, dst: IpAddr, protocol: IpProtocol, segment: &[u8]) -> bool {
    let ph = pseudo_header(src, dst, protocol, len32(segment));
    combine(&[ph, data(segment)]) == 0xffff
}

/// The value to store in a UDP header for a computed checksum: 0 means "no
/// checksum" in UDP, so a computed 0 is sent as 0xffff (RFC 768).
pub fn udp_value(computed: u16) -> u16 {
    if computed == 0 { 0xffff } else { computed }
}

/// The sum of `b` with the 16-bit field at `at` taken as zero. `at` must
/// be even for the result to be meaningful (checksum fields always are);
/// a field past the end is simply absent.
fn sum_skipping(b: &[u8], at: usize) -> u16 {
    let at = at.min(b.len());
    let after = at.saturating_add(2).min(b.len());
    if at.is_multiple_of(2) {
        combine(&[data(&b[..at]), data(&b[after..])])
    } else {
        // A field at an odd offset straddles two words (low byte of one,
        // high byte of the next); take its share back out of the sum.
        let lo = b.get(at).copied().map_or(0, u16::from);
        let hi = b.get(at + 1).copied().map_or(0, u16::from);
        combine(&[data(b), !(lo | (hi << 8))])
    }
}

fn len32(b: &[u8]) -> u32 {
    u32::try_from(b.len()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bit-by-bit reference: 16-bit words, fold at every step.
    fn reference(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        let mut i = 0;
        while i + 1 < data.len() {
            sum += u32::from(u16::from_be_bytes([data[i], data[i + 1]]));
            sum = (sum & 0xffff) + (sum >> 16);
            i += 2;
        }
        if i < data.len() {
            sum += u32::from(data[i]) << 8;
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to 0xddf2.
        assert_eq!(
            data(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            0xddf2
        );
    }

    #[test]
    fn real_ipv4_header() {
        // An IPv4 header from a capture (tcpdump's dns_tcp.pcap, frame 1:
        // 192.168.1.11 → 209.87.249.18, TCP SYN).
        let mut h = [
            0x45, 0x00, 0x00, 0x3c, 0x9b, 0x28, 0x40, 0x00, 0x40, 0x06, 0x13, 0x76, 0xc0, 0xa8,
            0x01, 0x0b, 0xd1, 0x57, 0xf9, 0x12,
        ];
        assert!(verify_ipv4_header(&h));
        assert_eq!(ipv4_header(&h), 0x1376);
        h[10] = 0;
        h[11] = 0;
        assert_eq!(ipv4_header(&h), 0x1376);
        assert!(!verify_ipv4_header(&h));
    }

    #[test]
    fn udp_zero_is_sent_as_ffff() {
        assert_eq!(udp_value(0), 0xffff);
        assert_eq!(udp_value(0x1234), 0x1234);
    }

    #[test]
    fn update_matches_known_rfc1624_case() {
        // RFC 1624 §4: HC = 0xdd2f, m = 0x5555 → m' = 0x3285 gives 0x0000.
        assert_eq!(update_u16(0xdd2f, 0x5555, 0x3285), 0x0000);
    }

    proptest! {
        #[test]
        fn fast_sum_matches_reference(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            prop_assert_eq!(data(&bytes), reference(&bytes));
        }

        #[test]
        fn incremental_equals_full_recompute(
            mut bytes in proptest::collection::vec(any::<u8>(), 32..200),
            word_at in 0usize..10,
            new16 in any::<u16>(),
            new32 in any::<u32>(),
        ) {
            // Treat bytes[0..2] as the checksum field of the data.
            bytes[0] = 0;
            bytes[1] = 0;
            let full = |b: &[u8]| !data(b);
            let c0 = full(&bytes);
            bytes[0..2].copy_from_slice(&c0.to_be_bytes());
            prop_assert_eq!(data(&bytes), 0xffff);

            // 16-bit update at an even offset past the checksum.
            let at = 2 + 2 * word_at;
            let old = u16::from_be_bytes([bytes[at], bytes[at + 1]]);
            bytes[at..at + 2].copy_from_slice(&new16.to_be_bytes());
            let c1 = update_u16(c0, old, new16);
            bytes[0..2].copy_from_slice(&c1.to_be_bytes());
            prop_assert_eq!(data(&bytes), 0xffff);

            // 32-bit update.
            let at = 4 + 2 * word_at;
            let old = u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            bytes[at..at + 4].copy_from_slice(&new32.to_be_bytes());
            let c2 = update_u32(c1, old, new32);
            bytes[0..2].copy_from_slice(&c2.to_be_bytes());
            prop_assert_eq!(data(&bytes), 0xffff);

            // Range update.
            let old_range: Vec<u8> = bytes[6..18].to_vec();
            let new_range: Vec<u8> = old_range.iter().map(|b| b.wrapping_mul(7)).collect();
            bytes[6..18].copy_from_slice(&new_range);
            let c3 = update_bytes(c2, &old_range, &new_range);
            bytes[0..2].copy_from_slice(&c3.to_be_bytes());
            prop_assert_eq!(data(&bytes), 0xffff);
        }

        #[test]
        fn pseudo_header_matches_byte_layout(
            src in any::<[u8; 16]>(), dst in any::<[u8; 16]>(), len in any::<u32>(), nh in any::<u8>(),
            s4 in any::<[u8; 4]>(), d4 in any::<[u8; 4]>(), len4 in any::<u16>(),
        ) {
            let mut ph = Vec::new();
            ph.extend_from_slice(&src);
            ph.extend_from_slice(&dst);
            ph.extend_from_slice(&len.to_be_bytes());
            ph.extend_from_slice(&[0, 0, 0, nh]);
            prop_assert_eq!(
                pseudo_header_v6(Ipv6Addr::from(src), Ipv6Addr::from(dst), IpProtocol::from(nh), len),
                data(&ph)
            );
            let mut ph4 = Vec::new();
            ph4.extend_from_slice(&s4);
            ph4.extend_from_slice(&d4);
            ph4.extend_from_slice(&[0, nh]);
            ph4.extend_from_slice(&len4.to_be_bytes());
            prop_assert_eq!(
                pseudo_header_v4(Ipv4Addr::from(s4), Ipv4Addr::from(d4), IpProtocol::from(nh), u32::from(len4)),
                data(&ph4)
            );
        }
    }
}
