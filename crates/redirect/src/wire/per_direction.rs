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
//! What stays the same: frames of one direction leave in the order they
//! arrived (one loop carries them all); the counters are one set, shared;
//! a stop drains both. What it needs: a handler per direction (state that
//! must see both directions needs the single loop), no monitor mode and no
//! tap (both keep both directions in one order). Either loop can inject to
//! either side.

use std::sync::Arc;
use std::time::Duration;

use sluice_linux::Interrupt;

use super::bridge::StartReport;
use super::engine::{Summary, WireConfig, WireRedirector};
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
    /// summary of both and the handlers.
    pub fn run<H: Handler + Send>(self, handlers: [H; 2]) -> Result<(Summary, [H; 2])> {
        let PerDirection { loops, stop } = self;
        let counters = loops[0].counters();
        let stoppers = [loops[0].stopper(), loops[1].stopper()];
        let [mut up, mut low] = loops;
        let [mut hu, mut hl] = handlers;
        let (ru, rl) = std::thread::scope(|s| {
            let spawn = |name: &str| std::thread::Builder::new().name(name.into());
            let tu = spawn("sluice-wire-up").spawn_scoped(s, || up.run(&mut hu));
            let tl = spawn("sluice-wire-low").spawn_scoped(s, || low.run(&mut hl));
            let (tu, tl) = match (tu, tl) {
                (Ok(tu), Ok(tl)) => (tu, tl),
                (tu, tl) => {
                    // One could not start: stop the other and say so.
                    stoppers.iter().for_each(|i| i.trigger());
                    let joined = [tu.map(|t| t.join()), tl.map(|t| t.join())];
                    let why = joined
                        .into_iter()
                        .find_map(|j| j.err())
                        .map_or_else(String::new, |e| format!(": {e}"));
                    return Err(Error::new(
                        ErrorKind::System,
                        format!("starting a loop thread{why}"),
                    ));
                }
            };
            // Relays a stop to both loops, and the end of one (an
            // interface gone) to the other.
            loop {
                if stop.wait(Duration::from_millis(20)) || tu.is_finished() || tl.is_finished() {
                    stoppers.iter().for_each(|i| i.trigger());
                    break;
                }
            }
            let join = |t: std::thread::ScopedJoinHandle<'_, Result<Summary>>| {
                t.join().unwrap_or_else(|_| {
                    Err(Error::new(ErrorKind::System, "a loop thread panicked"))
                })
            };
            Ok((join(tu), join(tl)))
        })?;
        let (su, sl) = (ru?, rl?);
        let mut timers = su.timers.clone();
        timers.merge(&sl.timers);
        let summary = Summary {
            counters: counters.snapshot(),
            timers,
            tap: None,
            elapsed: su.elapsed.max(sl.elapsed),
        };
        Ok((summary, [hu, hl]))
    }
}
