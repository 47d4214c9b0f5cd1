//! The replication backlog (Redis's repl_backlog): the last bytes of the replication
//! stream, for partial resyncs and for replicas still sending what they were fed.
//!
//! Offsets are stream positions: the byte at position `p` is the `p+1`th byte ever fed,
//! so `end()` is master_repl_offset and a `PSYNC <replid> <o>` wants position `o-1` on.

/// The stream's tail, kept for `size` bytes and while a replica still needs it.
pub struct Backlog {
    buf: Vec<u8>,
    /// Position of `buf[0]`.
    start: u64,
    /// repl-backlog-size.
    pub size: usize,
    /// The lowest position an attached replica has yet to send; kept past `size`.
    pub hold: u64,
}

impl Backlog {
    /// An empty backlog continuing a stream at `offset` (master_repl_offset).
    pub fn new(size: usize, offset: u64) -> Backlog {
        Backlog {
            buf: Vec::with_capacity(size.min(1 << 20)),
            start: offset,
            size: size.max(1),
            hold: u64::MAX,
        }
    }

    /// master_repl_offset: bytes ever fed.
    pub fn end(&self) -> u64 {
        self.start + self.buf.len() as u64
    }

    /// repl_backlog_first_byte_offset (Redis counts from 1).
    pub fn first_byte_offset(&self) -> u64 {
        self.end() - self.histlen() + 1
    }

    /// repl_backlog_histlen: the bytes a partial resync can be served from, at most `size`.
    pub fn histlen(&self) -> u64 {
        (self.buf.len() as u64).min(self.size as u64)
    }

    /// The buffer being appended to (the propagation encoder writes here directly).
    pub fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// True if a partial resync can continue from position `pos`.
    pub fn can_serve(&self, pos: u64) -> bool {
        let first = self.end() - self.histlen();
        pos >= first.max(self.start) && pos <= self.end()
    }

    /// Up to `max` bytes from position `pos`; None if they were trimmed away.
    pub fn read_from(&self, pos: u64, max: usize) -> Option<&[u8]> {
        if pos < self.start || pos > self.end() {
            return None;
        }
        let from = (pos - self.start) as usize;
        let to = self.buf.len().min(from + max);
        Some(&self.buf[from..to])
    }

    /// Drops bytes no longer needed: older than `size` and already sent to every replica.
    /// Amortised: only when the buffer holds twice what it must keep.
    pub fn trim(&mut self) {
        let keep_from = self.end().saturating_sub(self.size as u64).min(self.hold);
        let drop = keep_from.saturating_sub(self.start) as usize;
        if drop > 0 && drop >= self.buf.len() / 2 {
            self.buf.drain(..drop);
            self.start += drop as u64;
        }
    }

    /// Replaces the stream (a replica after a full sync continues at the master's offset).
    pub fn reset(&mut self, offset: u64) {
        self.buf.clear();
        self.start = offset;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_size_bytes_and_what_replicas_hold() {
        let mut b = Backlog::new(10, 100);
        b.feed(&[1; 30]);
        assert_eq!(b.end(), 130);
        b.hold = 105;
        b.trim();
        // Kept for the replica still sending, but not offered to a partial resync.
        assert_eq!(b.read_from(105, 3), Some(&[1u8, 1, 1][..]));
        assert!(!b.can_serve(105));
        b.hold = u64::MAX;
        b.trim();
        assert_eq!(b.read_from(105, 3), None);
        assert!(b.can_serve(120) && b.can_serve(130) && !b.can_serve(131));
        assert_eq!(b.histlen(), 10);
        assert_eq!(b.first_byte_offset(), 121);
    }
}
