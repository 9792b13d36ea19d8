//! Timers for handlers that delay or batch frames: a min-heap of deadlines
//! with tokens, fired in deadline order (and in setting order for equal
//! deadlines).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Pending timers: (deadline in ns since the epoch, token).
#[derive(Debug, Default)]
pub struct TimerQueue {
    heap: BinaryHeap<Reverse<(u64, u64, u64)>>,
    seq: u64,
    limit: usize,
    refused: u64,
}

impl TimerQueue {
    /// An empty queue holding at most `limit` timers (0: no limit).
    pub fn with_limit(limit: usize) -> TimerQueue {
        TimerQueue {
            limit,
            ..TimerQueue::default()
        }
    }

    /// Sets a timer firing at `deadline_ns` with `token`. Returns false (and
    /// counts it) when the queue is full.
    pub fn push(&mut self, deadline_ns: u64, token: u64) -> bool {
        if self.limit != 0 && self.heap.len() >= self.limit {
            self.refused += 1;
            return false;
        }
        self.seq += 1;
        self.heap.push(Reverse((deadline_ns, self.seq, token)));
        true
    }

    /// The earliest deadline, if any.
    pub fn next_deadline(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((d, _, _))| *d)
    }

    /// Removes and returns the token of the earliest timer due at `now_ns`.
    pub fn pop_due(&mut self, now_ns: u64) -> Option<u64> {
        match self.heap.peek() {
            Some(Reverse((d, _, _))) if *d <= now_ns => self.heap.pop().map(|Reverse((_, _, t))| t),
            _ => None,
        }
    }

    /// Timers pending.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// True when no timer is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Timers refused because the queue was full.
    pub fn refused(&self) -> u64 {
        self.refused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_in_deadline_then_setting_order() {
        let mut q = TimerQueue::with_limit(3);
        assert!(q.push(30, 1));
        assert!(q.push(10, 2));
        assert!(q.push(10, 3));
        assert!(!q.push(5, 4));
        assert_eq!(q.refused(), 1);
        assert_eq!(q.next_deadline(), Some(10));
        assert_eq!(q.pop_due(9), None);
        assert_eq!(q.pop_due(10), Some(2));
        assert_eq!(q.pop_due(10), Some(3));
        assert_eq!(q.pop_due(29), None);
        assert_eq!(q.pop_due(100), Some(1));
        assert!(q.is_empty());
    }
}
