//! Wire mode with a thread per direction when traffic needs it.
//!
//! A frame costs the bridge more than its own work: sending it on a veth
//! (or to a local stack) runs the receiving side's network stack inside
//! the send, and the reply traffic of a TCP transfer comes back through the
//! other direction, whose send runs the sender's stack. One loop does all
//! of that on one core. [`PerDirection`] splits the bridge into two halves
//! over the same two interfaces, one receiving from upper and one from
//! lower ([`BridgeConfig::only`](super::BridgeConfig::only)), each a
//! [`WireRedirector`] with its own handler.
//!
//! A primary thread carries both halves, as one loop would: the answer to
//! a frame it has just sent on (a ping's reply) goes on from the same
//! thread without a second wake-up. When frames keep it busy for
//! half a millisecond without a pause, it engages a helper thread, which
//! takes the lower half until that direction has been quiet for
//! 20 ms; meanwhile the primary takes a turn of the lower
//! half only when it has nothing of its own and the helper is not at it.
//! Measured on two cores: the latency of one loop, and half as much again
//! TCP throughput.
//!
//! What stays the same: frames of one direction leave in the order they
//! arrived (one thread at a time carries a half, a whole batch at a
//! time); the counters are one set, shared; a stop drains both. What it
//! needs: a handler per direction (state that must see both directions
//! needs the single loop), no monitor mode and no tap (both keep both
//! directions in one order). Either half can inject to either side.
//! While the helper carries the lower half its timers fire to within a
//! millisecond.

use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

use sluice_linux::Interrupt;
use sluice_linux::bridge_io::{PollSet, Timer};

use super::bridge::StartReport;
use super::engine::{Loop, Summary, WireConfig, WireRedirector};
use super::error::{Error, ErrorKind, Result};
use crate::counters::SharedCounters;
use crate::frame::Side;
use crate::handler::Handler;

/// A bridge in two halves, one per direction, on one thread or two (see
/// the module documentation).
#[derive(Debug)]
pub struct PerDirection {
    /// Receiving from upper, then from lower.
    loops: [WireRedirector; 2],
    stop: Arc<Interrupt>,
}

impl PerDirection {
    /// Opens both loops. Refuses monitor mode and the tap, which need one
    /// loop, and a configuration that already receives from one side only.
    pub fn open(config: WireConfig) -> Result<PerDirection> {
        let refuse = |what: &str| {
            Err(Error::new(
                ErrorKind::Config,
                format!("{what} needs one loop for both directions"),
            ))
        };
        if config.monitor {
            return refuse("monitor mode");
        }
        if config.tap.is_some() {
            return refuse("the tap (--write)");
        }
        if config.bridge.only.is_some() {
            return refuse("a loop per direction receives from both sides:");
        }
        let half = |side: Side| {
            let mut c = config.clone();
            c.bridge.only = Some(side);
            WireRedirector::open(c)
        };
        let upper = half(Side::Upper)?;
        let mut lower = half(Side::Lower)?;
        lower.set_counters(upper.counters());
        Ok(PerDirection {
            loops: [upper, lower],
            stop: Arc::new(Interrupt::new()?),
        })
    }

    /// What was found at start (MTUs, offloads).
    pub fn report(&self) -> &StartReport {
        self.loops[0].report()
    }

    /// The live counters of both directions.
    pub fn counters(&self) -> Arc<SharedCounters> {
        self.loops[0].counters()
    }

    /// The interrupt that stops both loops (they drain first).
    pub fn stopper(&self) -> Arc<Interrupt> {
        Arc::clone(&self.stop)
    }

    /// Stops on `interrupt` instead. Call before [`PerDirection::run`].
    pub fn set_stopper(&mut self, interrupt: Arc<Interrupt>) {
        self.stop = interrupt;
    }

    /// Runs `handlers[0]` on the frames from upper and `handlers[1]` on
    /// those from lower (on the threads the module documentation
    /// describes) until stopped or an interface fails (then both stop). Returns the
    /// summary of both and the handlers. A handler with a waker
    /// ([`Handler::waker`]) needs the single loop and is refused.
    pub fn run<H: Handler + Send>(self, handlers: [H; 2]) -> Result<(Summary, [H; 2])> {
        if handlers.iter().any(|h| h.waker().is_some()) {
            return Err(Error::new(
                ErrorKind::Config,
                "a handler with a waker needs one loop for both directions",
            ));
        }
        let PerDirection { loops, stop } = self;
        let counters = loops[0].counters();
        let started = Instant::now();
        let [up, low] = loops;
        let [hu, hl] = handlers;
        let half = |engine: WireRedirector, handler: H| {
            let st = engine.begin();
            Mutex::new(Half {
                engine,
                handler,
                st,
                shut: false,
            })
        };
        let halves = [half(up, hu), half(low, hl)];
        let shared = Shared {
            stop: Arc::clone(&stop),
            wake: Interrupt::new()?,
            engaged: AtomicBool::new(false),
        };
        let results: [Result<()>; 2] = std::thread::scope(|s| {
            let halves = &halves;
            let shared = &shared;
            let spawn = |helper: bool, name: &str| {
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn_scoped(s, move || {
                        let r = if helper {
                            helper_loop(halves, shared)
                        } else {
                            primary_loop(halves, shared)
                        };
                        if r.is_err() {
                            // The other loop stops too.
                            shared.stop.trigger();
                            shared.wake.trigger();
                        }
                        r
                    })
            };
            let threads = [spawn(false, "sluice-wire"), spawn(true, "sluice-wire-low")];
            threads.map(|t| match t {
                Ok(t) => t.join().unwrap_or_else(|_| {
                    stop.trigger();
                    Err(Error::new(ErrorKind::System, "a loop thread panicked"))
                }),
                Err(e) => {
                    stop.trigger();
                    Err(Error::new(
                        ErrorKind::System,
                        format!("starting a loop thread: {e}"),
                    ))
                }
            })
        });
        // Both halves have their last words, whatever ended either.
        let finish = |half: Mutex<Half<H>>, result| -> Result<(Summary, H)> {
            let Half {
                mut engine,
                mut handler,
                st,
                ..
            } = half
                .into_inner()
                .map_err(|_| Error::new(ErrorKind::System, "a loop thread panicked"))?;
            Ok((engine.end(&mut handler, st, result, started)?, handler))
        };
        let ([h0, h1], [r0, r1]) = (halves, results);
        let (up, low) = (finish(h0, r0), finish(h1, r1));
        let ((su, hu), (sl, hl)) = (up?, low?);
        let mut timers = su.timers;
        timers.merge(&sl.timers);
        let summary = Summary {
            counters: counters.snapshot(),
            timers,
            tap: None,
            elapsed: started.elapsed(),
        };
        Ok((summary, [hu, hl]))
    }
}

/// One direction: its loop, its handler, its loop state. Whichever thread
/// holds the lock carries the direction's frames.
struct Half<H> {
    engine: WireRedirector,
    handler: H,
    st: Loop,
    /// Shut down after the stop.
    shut: bool,
}

/// What the two threads share besides the halves.
struct Shared {
    /// Stops both (never cleared).
    stop: Arc<Interrupt>,
    /// Wakes the helper: it is engaged, or it is time to stop.
    wake: Interrupt,
    /// The helper carries the lower half.
    engaged: AtomicBool,
}

/// How long the primary loop must have had frames on every turn, without
/// sleeping, before it engages the helper: a ping or a short exchange never
/// does, a transfer does at once.
const ENGAGE_AFTER: Duration = Duration::from_micros(500);

/// How long the helper waits for frames of its direction before it hands
/// the direction back to the primary loop and sleeps.
const DISENGAGE_AFTER: Duration = Duration::from_millis(20);

fn lock<H>(halves: &[Mutex<Half<H>>; 2], i: usize) -> Result<MutexGuard<'_, Half<H>>> {
    halves[i]
        .lock()
        .map_err(|_| Error::new(ErrorKind::System, "the other loop panicked"))
}

/// One turn of a half, shutting it down first once the stop has come.
/// Returns the frames taken, and whether the half has closed.
fn turn<H: Handler>(h: &mut Half<H>, stop: &Interrupt) -> Result<(usize, bool)> {
    if !h.shut && stop.is_triggered() {
        h.engine.bridge_mut().shutdown()?;
        h.shut = true;
    }
    if h.engine.bridge_mut().is_closed() {
        return Ok((0, true));
    }
    let n = h.engine.step(&mut h.handler, &mut h.st)?;
    Ok((n, h.engine.bridge_mut().is_closed()))
}

/// The primary loop: the upper half always; the lower half too while the
/// helper is not engaged, and otherwise when it has nothing of its own to
/// do and the helper is not at it. It engages the helper when frames keep
/// it busy; it waits on both rings, its timers and the stop.
fn primary_loop<H: Handler>(halves: &[Mutex<Half<H>>; 2], shared: &Shared) -> Result<()> {
    let mut poll = PollSet::new();
    let mut timer = Timer::new()?;
    for i in 0..2 {
        let mut h = lock(halves, i)?;
        if i == 0 {
            h.engine.prepare_thread()?;
        }
        // The rings stay open as long as the bridges, which outlive the
        // loops.
        poll.add(h.engine.bridge_mut().poll_fds()[i]);
    }
    poll.add(shared.stop.as_fd());
    let timer_at = poll.add(timer.as_fd());
    let mut busy_since: Option<Instant> = None;
    loop {
        let stopping = shared.stop.is_triggered();
        if stopping && shared.engaged.swap(false, Ordering::AcqRel) {
            // The primary drains both halves.
            shared.wake.trigger();
        }
        let (n0, closed0, dl0) = {
            let mut g = lock(halves, 0)?;
            let (n, closed) = turn(&mut g, &shared.stop)?;
            (n, closed, g.st.next_deadline())
        };
        let engaged = shared.engaged.load(Ordering::Acquire);
        let (n1, closed1, dl1) = if !engaged {
            let mut g = lock(halves, 1)?;
            let (n, closed) = turn(&mut g, &shared.stop)?;
            (n, closed, g.st.next_deadline())
        } else if n0 == 0 {
            match halves[1].try_lock() {
                Ok(mut g) => {
                    let (n, closed) = turn(&mut g, &shared.stop)?;
                    (n, closed, g.st.next_deadline())
                }
                Err(TryLockError::WouldBlock) => (0, false, None),
                Err(TryLockError::Poisoned(_)) => {
                    return Err(Error::new(ErrorKind::System, "the helper loop panicked"));
                }
            }
        } else {
            (0, false, None)
        };
        // Once stopping, the helper is disengaged and both halves are
        // taken here: done when both have drained.
        if stopping && closed0 && closed1 {
            return Ok(());
        }
        if n0 + n1 > 0 {
            let since = *busy_since.get_or_insert_with(Instant::now);
            if !engaged && !stopping && since.elapsed() >= ENGAGE_AFTER {
                shared.engaged.store(true, Ordering::Release);
                shared.wake.trigger();
            }
            continue;
        }
        busy_since = None;
        let wait = if stopping {
            // Draining: the stop stays triggered; look again soon.
            Duration::from_millis(1)
        } else {
            match [dl0, dl1].into_iter().flatten().min() {
                Some(dl) => timer.set(dl)?,
                None => timer.clear()?,
            }
            Duration::from_secs(1)
        };
        poll.wait(Some(wait))?;
        if poll.readable(timer_at) {
            timer.take()?;
        }
    }
}

/// The helper: asleep until engaged; then the lower half, until it has had
/// no frames for [`DISENGAGE_AFTER`] or the stop comes.
fn helper_loop<H: Handler>(halves: &[Mutex<Half<H>>; 2], shared: &Shared) -> Result<()> {
    let mut poll = PollSet::new();
    {
        let mut h = lock(halves, 1)?;
        h.engine.prepare_thread()?;
        poll.add(h.engine.bridge_mut().poll_fds()[1]);
    }
    poll.add(shared.stop.as_fd());
    let mut idle_since = Instant::now();
    loop {
        if shared.stop.is_triggered() {
            return Ok(());
        }
        if !shared.engaged.load(Ordering::Acquire) {
            shared.wake.wait(Duration::from_secs(1));
            shared.wake.clear();
            idle_since = Instant::now();
            continue;
        }
        let n = {
            let mut g = lock(halves, 1)?;
            turn(&mut g, &shared.stop)?.0
        };
        if n > 0 {
            idle_since = Instant::now();
            continue;
        }
        if idle_since.elapsed() >= DISENGAGE_AFTER {
            shared.engaged.store(false, Ordering::Release);
            continue;
        }
        poll.wait(Some(Duration::from_millis(1)))?;
    }
}
