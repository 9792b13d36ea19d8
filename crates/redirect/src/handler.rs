//! The high-level API: a [`Handler`] decides a [`Verdict`] for each frame
//! and acts on the world through a [`Context`] (time, injection, timers).

use std::sync::Arc;
use std::time::Duration;

use sluice_linux::Interrupt;

use crate::frame::{FrameMut, Offload, Side};
use crate::timer::TimerQueue;

/// What a handler decides for a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Let it go on to the other side, with whatever changes the handler
    /// made to its bytes and length.
    Pass,
    /// Drop it (counted as dropped by the handler).
    Drop,
    /// The handler kept a copy and will inject it later (delay, reorder,
    /// batching): the original goes no further, and it is not counted as a
    /// drop.
    Stolen,
}

/// A frame a handler asked to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injection {
    /// The side it goes to: [`Side::Upper`] delivers it to the host,
    /// [`Side::Lower`] sends it out on the network.
    pub towards: Side,
    /// Its bytes, starting at the link-layer header in wire mode or the IP
    /// header in host mode.
    pub bytes: Vec<u8>,
    /// Offload state to send it with (a GSO frame larger than the MTU, a
    /// partial checksum); the default for an ordinary frame.
    pub offload: Offload,
}

/// What a handler can do besides deciding verdicts. An engine makes one for
/// each call, and carries out the injections and timers after the call
/// returns, in the order they were asked for.
#[derive(Debug)]
pub struct Context<'a> {
    now_ns: u64,
    monitor: bool,
    injections: &'a mut Vec<Injection>,
    timers: &'a mut TimerQueue,
}

impl<'a> Context<'a> {
    /// A context at `now_ns` collecting into the engine's queues.
    pub fn new(
        now_ns: u64,
        monitor: bool,
        injections: &'a mut Vec<Injection>,
        timers: &'a mut TimerQueue,
    ) -> Context<'a> {
        Context {
            now_ns,
            monitor,
            injections,
            timers,
        }
    }

    /// The engine's clock, ns since the epoch (`CLOCK_REALTIME` read once
    /// per batch, so all frames of a batch share it).
    pub fn now(&self) -> u64 {
        self.now_ns
    }

    /// True in monitor mode: the handler sees copies, its verdicts and
    /// changes have no effect, and injection is refused.
    pub fn is_monitor(&self) -> bool {
        self.monitor
    }

    /// Sends a new frame towards a side. Returns false, and sends nothing,
    /// in monitor mode.
    pub fn inject(&mut self, towards: Side, bytes: &[u8]) -> bool {
        if self.monitor {
            return false;
        }
        self.injections.push(Injection {
            towards,
            bytes: bytes.to_vec(),
            offload: Offload::default(),
        });
        true
    }

    /// Like [`Context::inject`], taking ownership of the bytes.
    pub fn inject_owned(&mut self, towards: Side, bytes: Vec<u8>) -> bool {
        if self.monitor {
            return false;
        }
        self.injections.push(Injection {
            towards,
            bytes,
            offload: Offload::default(),
        });
        true
    }

    /// Like [`Context::inject_owned`], with offload state: a frame that was
    /// received as one GSO frame larger than the MTU goes out the same way.
    pub fn inject_with(&mut self, towards: Side, bytes: Vec<u8>, offload: Offload) -> bool {
        if self.monitor {
            return false;
        }
        self.injections.push(Injection {
            towards,
            bytes,
            offload,
        });
        true
    }

    /// Calls the handler's [`Handler::on_timer`] with `token` once `after`
    /// has passed. Returns false when the engine's timer queue is full
    /// (counted by the engine).
    pub fn after(&mut self, after: Duration, token: u64) -> bool {
        let delay = u64::try_from(after.as_nanos()).unwrap_or(u64::MAX);
        self.timers.push(self.now_ns.saturating_add(delay), token)
    }

    /// Like [`Context::after`] with an absolute deadline.
    pub fn at(&mut self, deadline_ns: u64, token: u64) -> bool {
        self.timers.push(deadline_ns, token)
    }
}

/// A user-space program in the network path.
///
/// An engine calls [`Handler::on_frame`] for every frame the redirect
/// filter selects, from one thread, in arrival order per direction; a
/// handler therefore needs no locking and sees `&mut self`.
pub trait Handler {
    /// Decides what happens to a frame. The handler may change its bytes
    /// and length in place (then fix checksums: see `sluice_wire::checksum`
    /// and the frame's [`Offload`] state).
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict;

    /// A timer set with [`Context::after`] fired.
    fn on_timer(&mut self, token: u64, ctx: &mut Context<'_>) {
        let _ = (token, ctx);
    }

    /// The engine is stopping: last chance to inject what the handler holds
    /// (delayed frames). Called once.
    fn on_stop(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
    }

    /// An event source of the handler's own (a thread receiving from a
    /// socket, say): the engine waits on it with the frames and calls
    /// [`Handler::on_wake`] whenever it is triggered. Asked once, when the
    /// engine starts.
    fn waker(&self) -> Option<Arc<Interrupt>> {
        None
    }

    /// The handler's waker was triggered (the engine has cleared it).
    fn on_wake(&mut self, ctx: &mut Context<'_>) {
        let _ = ctx;
    }
}

impl<H: Handler + ?Sized> Handler for Box<H> {
    fn on_frame(&mut self, frame: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict {
        (**self).on_frame(frame, ctx)
    }

    fn on_timer(&mut self, token: u64, ctx: &mut Context<'_>) {
        (**self).on_timer(token, ctx)
    }

    fn on_stop(&mut self, ctx: &mut Context<'_>) {
        (**self).on_stop(ctx)
    }

    fn waker(&self) -> Option<Arc<Interrupt>> {
        (**self).waker()
    }

    fn on_wake(&mut self, ctx: &mut Context<'_>) {
        (**self).on_wake(ctx)
    }
}

/// The pass-through handler: every frame goes on unchanged.
#[derive(Clone, Copy, Debug, Default)]
pub struct PassThrough;

impl Handler for PassThrough {
    fn on_frame(&mut self, _frame: &mut FrameMut<'_>, _ctx: &mut Context<'_>) -> Verdict {
        Verdict::Pass
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{FrameMeta, Offload};
    use sluice_wire::LinkType;

    struct Delay;

    impl Handler for Delay {
        fn on_frame(&mut self, frame: &mut FrameMut<'_>, ctx: &mut Context<'_>) -> Verdict {
            ctx.inject(frame.side().other(), frame.data());
            ctx.after(Duration::from_millis(5), 7);
            Verdict::Stolen
        }
    }

    #[test]
    fn context_collects_injections_and_timers() {
        let mut inj = Vec::new();
        let mut timers = TimerQueue::default();
        let mut buf = [1u8, 2, 3];
        let meta = FrameMeta {
            side: Side::Upper,
            ts_ns: 0,
            wire_len: 3,
            linktype: LinkType::ETHERNET,
            ifindex: 0,
            vlan: None,
            offload: Offload::default(),
            mark: 0,
        };
        let mut f = FrameMut::new(&mut buf, 3, meta);
        let mut h: Box<dyn Handler> = Box::new(Delay);
        let v = h.on_frame(
            &mut f,
            &mut Context::new(1_000, false, &mut inj, &mut timers),
        );
        assert_eq!(v, Verdict::Stolen);
        assert_eq!(inj[0].towards, Side::Lower);
        assert_eq!(inj[0].bytes, vec![1, 2, 3]);
        assert_eq!(timers.pop_due(5_001_000), Some(7));

        let mut inj = Vec::new();
        let mut ctx = Context::new(0, true, &mut inj, &mut timers);
        assert!(!ctx.inject(Side::Lower, &[0]));
        assert!(inj.is_empty());
    }
}
