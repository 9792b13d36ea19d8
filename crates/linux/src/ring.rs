//! The mapped TPACKET_V3 receive ring and the blocks it lends.
//!
//! The ring is `block_count` blocks of `block_size` bytes shared with the
//! kernel. Ownership of each block is handed back and forth through its
//! `block_status` word: the kernel fills a block, then stores
//! `TP_STATUS_USER` (after a write barrier); user space reads the word with
//! an **Acquire** load, so every byte the kernel wrote before that store is
//! visible, then lends the block out as a [`Block`]. When the `Block` is
//! dropped, the word is set back to `TP_STATUS_KERNEL` with a **Release**
//! store, so no read of the block can move after the hand-back. Blocks are
//! consumed in ring order, which is the order the kernel fills them.

use std::time::Duration;

use crate::block::{self, BlockHeader, Frames, Framing, WalkError, WalkOptions, desc, status};
use crate::sys::Mmap;

/// Geometry of a TPACKET_V3 ring.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RingConfig {
    /// Bytes per block: a multiple of the page size, and a power of two.
    pub block_size: usize,
    /// Number of blocks.
    pub block_count: usize,
    /// The kernel's frame size (a multiple of 16). TPACKET_V3 packs frames
    /// of any size into blocks, so this only has to be consistent; frames
    /// larger than a block are cut to the block.
    pub frame_size: usize,
    /// How long the kernel keeps a partly filled block before handing it
    /// over: the latency/wake-up trade-off ("delayed write").
    pub block_timeout: Duration,
}

impl RingConfig {
    /// The default geometry, chosen by measurement: 1 MiB blocks, 32 of
    /// them (32 MiB), 10 ms block timeout.
    ///
    /// Measured with `examples/ringcount.rs` on a lab veth (the middle's
    /// `up0`), 60-byte UDP frames from `trafgen -P 1` for 10 s, the
    /// receiver only counting (`--touch` reads every byte), 2 shared cores:
    ///
    /// | blocks × size | timeout | frames = iface rx | drops | blocks | CPU ns/frame |
    /// |---|---|---|---|---|---|
    /// | 32 × 1 MiB | 10 ms | 1 377 536 | 0 | 960 | 58 |
    /// | 512 × 64 KiB | 10 ms | 1 156 096 | 0 | 3 100 | 277 |
    /// | 128 × 256 KiB | 10 ms | 1 292 544 | 0 | 1 108 | 39 |
    /// | 8 × 4 MiB | 10 ms | 1 005 056 | 0 | 872 | 40 |
    /// | 32 × 1 MiB | 1 ms | 928 768 | 0 | 3 231 | 97 |
    /// | 32 × 1 MiB | 100 ms | 1 402 624 | 0 | 236 | 14 |
    /// | 2 × 1 MiB (tcpdump's 2 MiB) | 10 ms | 1 675 481 of 1 678 080 | 2 599 | 955 | 12 |
    /// | 32 × 1 MiB, `--touch` | 10 ms | 1 207 040 | 0 | 914 | 91 |
    ///
    /// The sender set the pace in every run (no drops from 8 MiB up); small
    /// blocks cost wake-ups (64 KiB: 5× the CPU per frame), the timeout
    /// trades latency for wake-ups (1 ms: 7× the CPU of 100 ms). 10 ms keeps
    /// the added latency of a quiet link low while a busy link fills blocks
    /// long before the timeout; 32 MiB absorbs a 200 ms stall of the reader
    /// at 1 Mpps of small frames.
    pub const DEFAULT: RingConfig = RingConfig {
        block_size: 1 << 20,
        block_count: 32,
        frame_size: 2048,
        block_timeout: Duration::from_millis(10),
    };

    /// A ring of about `total` bytes in blocks of the default size (at
    /// least 2 blocks; smaller blocks for rings under 2 MiB).
    pub fn with_total_size(total: usize) -> RingConfig {
        let mut c = RingConfig::DEFAULT;
        if total < 2 * c.block_size {
            c.block_size = (total / 2).next_power_of_two().max(crate::sys::page_size());
        }
        c.block_count = (total / c.block_size).max(2);
        c
    }

    /// Total bytes of the ring.
    pub fn total_size(&self) -> usize {
        self.block_size * self.block_count
    }

    /// Checks the geometry against the kernel's rules; `Err` says which.
    pub fn validate(&self) -> Result<(), String> {
        let page = crate::sys::page_size();
        if self.block_size == 0
            || !self.block_size.is_multiple_of(page)
            || !self.block_size.is_power_of_two()
        {
            return Err(format!(
                "block size {} is not a power of two multiple of the page size {page}",
                self.block_size
            ));
        }
        if self.block_count == 0 || u32::try_from(self.block_count).is_err() {
            return Err(format!("block count {} is out of range", self.block_count));
        }
        if self.frame_size < block::hdr::HDRLEN + 16
            || !self.frame_size.is_multiple_of(16)
            || self.frame_size > self.block_size
        {
            return Err(format!(
                "frame size {} must be a multiple of 16 between {} and the block size",
                self.frame_size,
                block::hdr::HDRLEN + 16
            ));
        }
        if self.total_size() / self.frame_size > u32::MAX as usize {
            return Err("ring has too many frames".into());
        }
        let ms = self.block_timeout.as_millis();
        if ms == 0 || ms > u32::MAX as u128 {
            return Err(format!(
                "block timeout {:?} must be at least 1 ms",
                self.block_timeout
            ));
        }
        Ok(())
    }

    pub(crate) fn to_req3(self) -> libc::tpacket_req3 {
        libc::tpacket_req3 {
            tp_block_size: self.block_size as u32,
            tp_block_nr: self.block_count as u32,
            tp_frame_size: self.frame_size as u32,
            tp_frame_nr: (self.total_size() / self.frame_size) as u32,
            tp_retire_blk_tov: self.block_timeout.as_millis() as u32,
            tp_sizeof_priv: 0,
            tp_feature_req_word: 0,
        }
    }
}

impl Default for RingConfig {
    fn default() -> Self {
        RingConfig::DEFAULT
    }
}

/// A mapped RX ring: the blocks shared with the kernel and the index of the
/// next block to read.
#[derive(Debug)]
pub struct RxRing {
    map: Mmap,
    block_size: usize,
    block_count: usize,
    current: usize,
    framing: Framing,
    walk_options: WalkOptions,
    blocks: u64,
    frames: u64,
}

impl RxRing {
    /// Wraps a mapping made for `config` (the mapping must be exactly
    /// `config.total_size()` bytes).
    pub(crate) fn new(
        map: Mmap,
        config: &RingConfig,
        framing: Framing,
        walk_options: WalkOptions,
    ) -> RxRing {
        assert_eq!(
            map.len(),
            config.total_size(),
            "ring mapping of the wrong size"
        );
        RxRing {
            map,
            block_size: config.block_size,
            block_count: config.block_count,
            current: 0,
            framing,
            walk_options,
            blocks: 0,
            frames: 0,
        }
    }

    fn status_of(&self, index: usize) -> u32 {
        // SAFETY: the offset is the status word of block `index`, inside the
        // mapping and 4-byte aligned (blocks are page multiples). No `&mut`
        // borrow of ring memory is ever made for an RX ring, and this
        // process writes the word only with store_release (Block::drop).
        unsafe {
            self.map
                .load_acquire(index * self.block_size + desc::BLOCK_STATUS)
        }
    }

    /// Whether the next block belongs to user space.
    pub fn has_ready_block(&self) -> bool {
        self.status_of(self.current) & status::USER != 0
    }

    /// Lends the next block if the kernel has handed it over.
    pub fn next_block(&mut self) -> Option<Block<'_>> {
        if !self.has_ready_block() {
            return None;
        }
        let index = self.current;
        self.blocks += 1;
        let b = Block { ring: self, index };
        if let Ok(h) = b.header() {
            b.ring.frames += u64::from(h.num_pkts);
        }
        Some(b)
    }

    /// Blocks lent so far.
    pub fn blocks_read(&self) -> u64 {
        self.blocks
    }

    /// Frames in the blocks lent so far (as the kernel counted them).
    pub fn frames_read(&self) -> u64 {
        self.frames
    }

    /// How frames are presented to files.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Number of blocks.
    pub fn block_count(&self) -> usize {
        self.block_count
    }

    /// Bytes per block.
    pub fn block_size(&self) -> usize {
        self.block_size
    }
}

/// A block lent by the kernel: its frames are readable until the `Block` is
/// dropped, which hands it back.
#[derive(Debug)]
pub struct Block<'ring> {
    ring: &'ring mut RxRing,
    index: usize,
}

impl Block<'_> {
    /// The block's bytes.
    pub fn bytes(&self) -> &[u8] {
        let r = &*self.ring;
        // SAFETY: block `index` is in the mapping; its status word said
        // TP_STATUS_USER (Acquire load in RxRing::next_block), so the kernel
        // does not write it until Block::drop stores TP_STATUS_KERNEL, which
        // happens only after every borrow of `self` (and so this slice) ends.
        unsafe { r.map.slice(self.index * r.block_size, r.block_size) }
    }

    /// The block's descriptor.
    pub fn header(&self) -> Result<BlockHeader, WalkError> {
        block::block_header(self.bytes())
    }

    /// The frames in the block, each bounds-checked.
    pub fn frames(&self) -> Result<Frames<'_>, WalkError> {
        block::walk(self.bytes(), self.ring.walk_options)
    }

    /// How frames are presented to files (for [`crate::block::RingFrame::parts`]).
    pub fn framing(&self) -> Framing {
        self.ring.framing
    }

    /// Position of this block in the ring.
    pub fn index(&self) -> usize {
        self.index
    }
}

impl Drop for Block<'_> {
    fn drop(&mut self) {
        let r = &mut *self.ring;
        // SAFETY: the status word of a block this Block owns; no slice of
        // the block is alive (they borrow `self`, which is being dropped).
        // The Release store orders every read of the block before the
        // hand-back.
        unsafe {
            r.map.store_release(
                self.index * r.block_size + desc::BLOCK_STATUS,
                status::KERNEL,
            )
        };
        r.current = (r.current + 1) % r.block_count;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_geometry() {
        assert!(RingConfig::DEFAULT.validate().is_ok());
        let mut c = RingConfig::DEFAULT;
        c.block_size = 3000;
        assert!(c.validate().unwrap_err().contains("block size"));
        let mut c = RingConfig::DEFAULT;
        c.frame_size = 100;
        assert!(c.validate().unwrap_err().contains("frame size"));
        let mut c = RingConfig::DEFAULT;
        c.block_timeout = Duration::ZERO;
        assert!(c.validate().unwrap_err().contains("timeout"));
        let c = RingConfig::with_total_size(64 << 20);
        assert_eq!(c.total_size(), 64 << 20);
        let c = RingConfig::with_total_size(64 << 10);
        assert!(c.validate().is_ok(), "{c:?}");
        assert_eq!(c.block_count, 2);
    }
}
