//! The kernel's own account of a netfilter queue:
//! `/proc/net/netfilter/nfnetlink_queue` (one line per bound queue of the
//! reader's network namespace).
//!
//! The columns: queue number, the bound socket's port id, packets waiting
//! for a verdict, copy mode, copy range, packets dropped because the queue
//! was full (`queue_dropped`, only without fail-open), packets dropped
//! because the socket could not take them (`user_dropped`, only without
//! fail-open), the last packet id given out, and a constant 1.
//!
//! With fail-open, neither drop counter moves: a packet that finds the
//! queue full is accepted without a copy and counted nowhere in the
//! kernel, and a packet the socket could not take is accepted after it got
//! an id (so it shows as a gap in the ids the reader sees). The rules'
//! packet counters close the account (see `rules`).

use crate::error::{Error, Result};

/// Where the kernel lists its queues.
pub const PROC_PATH: &str = "/proc/net/netfilter/nfnetlink_queue";

/// One line of [`PROC_PATH`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProcQueue {
    /// The queue number.
    pub queue: u16,
    /// Port id of the bound socket.
    pub portid: u32,
    /// Packets waiting for a verdict.
    pub waiting: u32,
    /// Copy mode (2: whole packets).
    pub copy_mode: u8,
    /// Copy range.
    pub copy_range: u32,
    /// Dropped because the queue was full (fail-closed only).
    pub queue_dropped: u32,
    /// Dropped because the socket's buffer was full (fail-closed only).
    pub user_dropped: u32,
    /// The last packet id given out.
    pub id_sequence: u32,
}

/// Parses the text of [`PROC_PATH`]; lines that do not have the expected
/// columns are skipped and counted in the second value.
pub fn parse_proc(text: &str) -> (Vec<ProcQueue>, usize) {
    let mut out = Vec::new();
    let mut bad = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let parsed = (|| {
            if f.len() < 8 {
                return None;
            }
            Some(ProcQueue {
                queue: f[0].parse().ok()?,
                portid: f[1].parse().ok()?,
                waiting: f[2].parse().ok()?,
                copy_mode: f[3].parse().ok()?,
                copy_range: f[4].parse().ok()?,
                queue_dropped: f[5].parse().ok()?,
                user_dropped: f[6].parse().ok()?,
                id_sequence: f[7].parse().ok()?,
            })
        })();
        match parsed {
            Some(q) => out.push(q),
            None => bad += 1,
        }
    }
    (out, bad)
}

/// Reads the line of `queue`, if the queue is bound.
pub fn read_proc(queue: u16) -> Result<Option<ProcQueue>> {
    let text = std::fs::read_to_string(PROC_PATH)
        .map_err(|e| Error::io(format!("reading {PROC_PATH}"), e))?;
    Ok(parse_proc(&text).0.into_iter().find(|q| q.queue == queue))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_kernels_lines() {
        let text = "    7 3712345     0 2 65531     0     0     4242  1\n\
                    65000    12     3 2  1500    17     2        9  1\n\
                    garbage line\n";
        let (qs, bad) = parse_proc(text);
        assert_eq!(bad, 1);
        assert_eq!(
            qs[0],
            ProcQueue {
                queue: 7,
                portid: 3_712_345,
                waiting: 0,
                copy_mode: 2,
                copy_range: 65531,
                queue_dropped: 0,
                user_dropped: 0,
                id_sequence: 4242,
            }
        );
        assert_eq!(
            (qs[1].queue, qs[1].queue_dropped, qs[1].user_dropped),
            (65000, 17, 2)
        );
    }
}
