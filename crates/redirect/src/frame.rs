//! A frame as a handler sees it: flat bytes from the link-layer header (or
//! the IP header in host mode), with room to grow, plus metadata.

use sluice_wire::LinkType;

/// One side of a redirector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The host side: its stack and applications. A frame read from upper
    /// is one the host is sending.
    Upper,
    /// The network side: the wire. A frame read from lower is one arriving.
    Lower,
}

impl Side {
    /// The other side: where a frame from this side goes when it passes.
    pub fn other(self) -> Side {
        match self {
            Side::Upper => Side::Lower,
            Side::Lower => Side::Upper,
        }
    }

    /// `"upper"` or `"lower"`.
    pub fn name(self) -> &'static str {
        match self {
            Side::Upper => "upper",
            Side::Lower => "lower",
        }
    }
}

/// An 802.1Q tag the kernel took out of the frame into metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Vlan {
    /// Tag control information: priority, drop eligibility, VLAN id.
    pub tci: u16,
    /// Tag protocol identifier (0x8100, 0x88a8, …).
    pub tpid: u16,
}

/// What the kernel's offloads left for later: segmentation of an oversized
/// frame and a partial checksum.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Offload {
    /// `VIRTIO_NET_HDR_GSO_*` type (0: none): the frame is larger than the
    /// MTU and will be segmented on the way out.
    pub gso_type: u8,
    /// Segment size for GSO.
    pub gso_size: u16,
    /// Length of the headers copied into each segment.
    pub hdr_len: u16,
    /// The checksum is partial: only the pseudo-header sum is stored at
    /// `csum_start + csum_offset`; hardware (or the kernel) completes it.
    pub csum_partial: bool,
    /// Where the partial checksum's coverage starts.
    pub csum_start: u16,
    /// Offset of the checksum field from `csum_start`.
    pub csum_offset: u16,
}

/// Metadata of a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameMeta {
    /// The side it was read from.
    pub side: Side,
    /// Arrival time, ns since the epoch.
    pub ts_ns: u64,
    /// Length on the wire (at least the captured length).
    pub wire_len: u32,
    /// How to read the bytes: Ethernet in wire mode, RAW (bare IP) in host
    /// mode.
    pub linktype: LinkType,
    /// The interface it arrived on (0 when unknown).
    pub ifindex: u32,
    /// A VLAN tag carried out of band.
    pub vlan: Option<Vlan>,
    /// Offload state.
    pub offload: Offload,
    /// Netfilter mark (host mode) or 0.
    pub mark: u32,
}

/// A frame lent to a handler: its bytes, which it may change in place and
/// resize up to the buffer's capacity, and its metadata.
#[derive(Debug)]
pub struct FrameMut<'a> {
    buf: &'a mut [u8],
    len: usize,
    meta: FrameMeta,
    touched: bool,
}

impl<'a> FrameMut<'a> {
    /// A frame of `len` bytes at the start of `buf`; the rest of `buf` is
    /// room to grow. `len` is clamped to `buf.len()`.
    pub fn new(buf: &'a mut [u8], len: usize, meta: FrameMeta) -> FrameMut<'a> {
        let len = len.min(buf.len());
        FrameMut {
            buf,
            len,
            meta,
            touched: false,
        }
    }

    /// The frame's bytes.
    pub fn data(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// The frame's bytes, to change in place.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.touched = true;
        &mut self.buf[..self.len]
    }

    /// True once the bytes or the length may have changed: after
    /// [`FrameMut::data_mut`], [`FrameMut::set_len`] or
    /// [`FrameMut::replace`] (whether or not a byte really changed). An
    /// engine that must send changed bytes back (host mode) sends them for
    /// such frames only.
    pub fn is_modified(&self) -> bool {
        self.touched
    }

    /// Current length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True for an empty frame.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The largest length [`FrameMut::set_len`] accepts.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Changes the length. Growing exposes whatever bytes the buffer held
    /// (zeroed by the engine before lending). Returns the new length, or
    /// `Err(capacity)` when `len` exceeds the capacity.
    pub fn set_len(&mut self, len: usize) -> Result<usize, usize> {
        if len > self.buf.len() {
            return Err(self.buf.len());
        }
        self.touched = true;
        self.len = len;
        Ok(len)
    }

    /// Replaces the frame's bytes with `bytes`. `Err(capacity)` when they do
    /// not fit (the frame is then unchanged).
    pub fn replace(&mut self, bytes: &[u8]) -> Result<(), usize> {
        let Some(dst) = self.buf.get_mut(..bytes.len()) else {
            return Err(self.buf.len());
        };
        dst.copy_from_slice(bytes);
        self.touched = true;
        self.len = bytes.len();
        Ok(())
    }

    /// The metadata.
    pub fn meta(&self) -> &FrameMeta {
        &self.meta
    }

    /// The metadata, to change (a handler that rewrites a frame may clear
    /// its offload state after fixing checksums itself).
    pub fn meta_mut(&mut self) -> &mut FrameMeta {
        &mut self.meta
    }

    /// The side it was read from.
    pub fn side(&self) -> Side {
        self.meta.side
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> FrameMeta {
        FrameMeta {
            side: Side::Lower,
            ts_ns: 1,
            wire_len: 4,
            linktype: LinkType::ETHERNET,
            ifindex: 0,
            vlan: None,
            offload: Offload::default(),
            mark: 0,
        }
    }

    #[test]
    fn resize_within_capacity() {
        let mut buf = [1u8, 2, 3, 4, 0, 0];
        let mut f = FrameMut::new(&mut buf, 4, meta());
        assert_eq!(f.data(), &[1, 2, 3, 4]);
        assert!(!f.is_modified());
        f.data_mut()[0] = 9;
        assert!(f.is_modified());
        assert_eq!(f.set_len(6), Ok(6));
        assert_eq!(f.data(), &[9, 2, 3, 4, 0, 0]);
        assert_eq!(f.set_len(7), Err(6));
        assert_eq!(f.replace(&[5; 7]), Err(6));
        assert_eq!(f.replace(&[5; 2]), Ok(()));
        assert_eq!(f.data(), &[5, 5]);
        assert_eq!(f.side().other(), Side::Upper);
    }
}
