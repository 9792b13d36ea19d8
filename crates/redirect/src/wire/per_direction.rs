//! Wire mode with one loop per direction, each on a thread of its own.
//!
//! A frame costs the bridge more than its own work: sending it on a veth
//! (or to a local stack) runs the receiving side's network stack inside
//! the send, and the reply traffic of a TCP transfer comes back through the
//! other direction, whose send runs the sender's stack. One loop does all
//! of that on one core. [`PerDirection`] runs two [`WireRedirector`]s over
//! the same two interfaces, one receiving from upper and one from lower
//! ([`BridgeConfig::only`](super::BridgeConfig::only)), each with its own
//! handler, so the two directions use two cores.
//!
//! A loop with nothing of its own to do takes a turn of the other
//! direction when that loop is not at it (asleep, waiting to be woken):
//! the reply to a frame one loop has just sent on is then forwarded at
//! once by that loop, as a single loop would, instead of waiting for the
//! other loop to wake up. Under load each loop keeps to its own direction.
//!
//! What stays the same: frames of one direction leave in the order they
//! arrived (one loop at a time carries them, a whole batch at a time); the counters are one set, shared;
//! a stop drains both. What it needs: a handler per direction (state that
//! must see both directions needs the single loop), no monitor mode and no
//! tap (both keep both directions in one order). Either loop can inject to
//! either side.

use std::os::fd::AsFd;
use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant};

use sluice_linux::Interrupt;
use sluice_linux::bridge_io::{PollSet, Timer};

use super::bridge::StartReport;
use super::engine::{Loop, Summary, TimerStats, WireConfig, WireRedirector};
use super::error::{Error, ErrorKind, Result};
use crate::counters::SharedCounters;
use crate::frame::Side;
use crate::handler::Handler;

/// Two loops, one per direction (see the module documentation).
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
    /// those from lower, each loop on its own thread, until stopped or an
    /// interface fails (then the other loop stops too). Returns the
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
            })
        };
        let halves = [half(up, hu), half(low, hl)];
        let results: [Result<()>; 2] = std::thread::scope(|s| {
            let halves = &halves;
            let stop = &stop;
            let spawn = |me: usize, name: &str| {
                std::thread::Builder::new()
                    .name(name.into())
                    .spawn_scoped(s, move || {
                        let r = worker(halves, me, stop);
                        if r.is_err() {
                            // The other loop stops too.
                            stop.trigger();
                        }
                        r
                    })
            };
            let threads = [spawn(0, "sluice-wire-up"), spawn(1, "sluice-wire-low")];
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
        let mut summaries = Vec::with_capacity(2);
        let mut handlers = Vec::with_capacity(2);
        for (half, result) in halves.into_iter().zip(results) {
            let Half {
                mut engine,
                mut handler,
                st,
            } = half
                .into_inner()
                .map_err(|_| Error::new(ErrorKind::System, "a loop thread panicked"))?;
            summaries.push(engine.end(&mut handler, st, result, started));
            handlers.push(handler);
        }
        let mut timers = TimerStats::default();
        for s in summaries {
            timers.merge(&s?.timers);
        }
        let summary = Summary {
            counters: counters.snapshot(),
            timers,
            tap: None,
            elapsed: started.elapsed(),
        };
        let [hu, hl]: [H; 2] = match handlers.try_into() {
            Ok(h) => h,
            Err(_) => unreachable!("two halves, two handlers"),
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
}

/// The loop of direction `me`: turns of its own; when one finds nothing, a
/// turn of the other direction if nobody is at it; when that finds nothing
/// either, a wait for its own frames, its timers or the stop.
fn worker<H: Handler>(halves: &[Mutex<Half<H>>; 2], me: usize, stop: &Interrupt) -> Result<()> {
    let lock = |i: usize| {
        halves[i]
            .lock()
            .map_err(|_| Error::new(ErrorKind::System, "the other loop panicked"))
    };
    let mut poll = PollSet::new();
    let mut timer = Timer::new()?;
    {
        let mut h = lock(me)?;
        h.engine.prepare_thread()?;
        // The ring's descriptor stays open as long as the bridge, which
        // outlives this loop.
        poll.add(h.engine.bridge_mut().poll_fds()[me]);
    }
    poll.add(stop.as_fd());
    let timer_at = poll.add(timer.as_fd());
    let other = 1 - me;
    let mut shut = false;
    loop {
        let (mine, deadline) = {
            let mut g = lock(me)?;
            let h = &mut *g;
            if !shut && stop.is_triggered() {
                h.engine.bridge_mut().shutdown()?;
                shut = true;
            }
            let n = h.engine.step(&mut h.handler, &mut h.st)?;
            if h.engine.bridge_mut().is_closed() {
                return Ok(());
            }
            (n, h.st.next_deadline())
        };
        if mine > 0 {
            continue;
        }
        // Idle: the other direction, if its loop is not at it.
        let theirs = match halves[other].try_lock() {
            Ok(mut g) => {
                let h = &mut *g;
                if h.engine.bridge_mut().is_closed() {
                    0
                } else {
                    h.engine.step(&mut h.handler, &mut h.st)?
                }
            }
            Err(TryLockError::WouldBlock) => 0,
            Err(TryLockError::Poisoned(_)) => {
                return Err(Error::new(ErrorKind::System, "the other loop panicked"));
            }
        };
        if theirs > 0 {
            continue;
        }
        let wait = if shut {
            // Draining: the stop stays triggered; look again soon.
            Duration::from_millis(1)
        } else {
            match deadline {
                Some(dl) => {
                    timer.set(dl)?;
                    Duration::from_secs(1)
                }
                None => {
                    timer.clear()?;
                    Duration::from_secs(1)
                }
            }
        };
        poll.wait(Some(wait))?;
        if poll.readable(timer_at) {
            timer.take()?;
        }
    }
}
