//! The pass-through handler of `sluice bridge`: every frame it sees goes
//! on unchanged; it counts what it saw per side.

use crate::frame::{FrameMut, Side};
use crate::handler::{Context, Handler, Verdict};

/// Frames and bytes a [`PassThru`] saw from one side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Seen {
    /// Frames.
    pub frames: u64,
    /// Bytes.
    pub bytes: u64,
    /// Frames that arrived as one GSO frame larger than the MTU.
    pub gso: u64,
}

/// Passes every frame, counting them.
#[derive(Clone, Debug, Default)]
pub struct PassThru {
    /// From upper (the host sending).
    pub upper: Seen,
    /// From lower (arriving from the network).
    pub lower: Seen,
}

impl Handler for PassThru {
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        let s = match frame.side() {
            Side::Upper => &mut self.upper,
            Side::Lower => &mut self.lower,
        };
        s.frames += 1;
        s.bytes += frame.len() as u64;
        if frame.meta().offload.gso_type != 0 {
            s.gso += 1;
        }
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{FrameMeta, Offload};
    use crate::timer::TimerQueue;
    use sluice_wire::LinkType;

    #[test]
    fn passes_and_counts() {
        let mut h = PassThru::default();
        let mut buf = [0u8; 60];
        let meta = FrameMeta {
            side: Side::Lower,
            ts_ns: 0,
            wire_len: 60,
            linktype: LinkType::ETHERNET,
            ifindex: 0,
            vlan: None,
            offload: Offload::default(),
            mark: 0,
        };
        let mut f = FrameMut::new(&mut buf, 60, meta);
        let (mut inj, mut t) = (Vec::new(), TimerQueue::default());
        let v = h.on_frame(&mut f, &mut Context::new(0, false, &mut inj, &mut t));
        assert_eq!(v, Verdict::Pass);
        assert_eq!(h.lower.frames, 1);
        assert_eq!(h.lower.bytes, 60);
        assert_eq!(h.upper, Seen::default());
    }
}
