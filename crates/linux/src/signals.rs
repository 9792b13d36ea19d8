//! SIGINT, SIGTERM and SIGHUP turned into counters and a wake-up.
//!
//! [`Signals::install`] registers a handler (through `signal-hook-registry`,
//! which chains with other handlers) that only increments an atomic counter
//! and triggers an [`Interrupt`]: both async-signal-safe. The capture loop
//! sees the wake-up, reads [`Signals::total`] and decides: the CLI's policy
//! "first SIGINT stops cleanly, the second exits at once" reads
//! [`Signals::count`]. Dropping [`Signals`] unregisters the handlers.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::interrupt::Interrupt;

/// The signals handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Signal {
    /// `SIGINT` (Ctrl-C).
    Int,
    /// `SIGTERM`.
    Term,
    /// `SIGHUP`.
    Hup,
}

impl Signal {
    const ALL: [Signal; 3] = [Signal::Int, Signal::Term, Signal::Hup];

    fn raw(self) -> libc::c_int {
        match self {
            Signal::Int => libc::SIGINT,
            Signal::Term => libc::SIGTERM,
            Signal::Hup => libc::SIGHUP,
        }
    }

    fn slot(self) -> usize {
        match self {
            Signal::Int => 0,
            Signal::Term => 1,
            Signal::Hup => 2,
        }
    }
}

#[derive(Default)]
struct Counts {
    by_signal: [AtomicUsize; 3],
    total: AtomicUsize,
}

/// Installed handlers for SIGINT, SIGTERM and SIGHUP.
pub struct Signals {
    ids: Vec<signal_hook_registry::SigId>,
    counts: Arc<Counts>,
    interrupt: Arc<Interrupt>,
}

impl Signals {
    /// Installs the handlers; each delivery counts and triggers `interrupt`.
    pub fn install(interrupt: Arc<Interrupt>) -> Result<Signals> {
        let counts = Arc::new(Counts::default());
        let mut ids = Vec::new();
        for sig in Signal::ALL {
            let c = Arc::clone(&counts);
            let i = Arc::clone(&interrupt);
            let action = move || {
                c.by_signal[sig.slot()].fetch_add(1, Ordering::SeqCst);
                c.total.fetch_add(1, Ordering::SeqCst);
                i.trigger();
            };
            // SAFETY: the action is async-signal-safe: two atomic increments
            // and one write(2) to an eventfd (Interrupt::trigger); it
            // allocates nothing, takes no lock, and the Arc it holds keeps
            // the eventfd open while the action is registered.
            let id = unsafe { signal_hook_registry::register(sig.raw(), action) }
                .map_err(|e| Error::io(format!("installing a handler for {sig:?}"), e))?;
            ids.push(id);
        }
        Ok(Signals {
            ids,
            counts,
            interrupt,
        })
    }

    /// How many times `sig` arrived.
    pub fn count(&self, sig: Signal) -> usize {
        self.counts.by_signal[sig.slot()].load(Ordering::SeqCst)
    }

    /// How many handled signals arrived in all.
    pub fn total(&self) -> usize {
        self.counts.total.load(Ordering::SeqCst)
    }

    /// The interrupt the handlers trigger.
    pub fn interrupt(&self) -> &Arc<Interrupt> {
        &self.interrupt
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook_registry::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sighup_counts_and_wakes() {
        let i = Arc::new(Interrupt::new().unwrap());
        let s = Signals::install(Arc::clone(&i)).unwrap();
        // A handler for SIGHUP is installed just above, so the process
        // is not terminated.
        crate::sys::raise(libc::SIGHUP).unwrap();
        assert_eq!(s.count(Signal::Hup), 1);
        assert_eq!(s.total(), 1);
        assert!(i.is_triggered());
    }
}
