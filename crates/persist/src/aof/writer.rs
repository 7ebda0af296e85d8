//! The AOF's encoding of the propagated stream (Redis's `catAppendOnlyGenericCommand` and
//! `feedAppendOnlyFile`): each command as a RESP multibulk, preceded by `SELECT db` when its
//! db differs from the one the file last selected.
//!
//! [`AofSink`] is the engine's [`Sink`]: it only appends to an in-memory buffer; the server
//! takes the buffer once per loop turn and writes it (so one turn's commands share one
//! write, and with `appendfsync always` one fsync).

use engine::propagate::{SelectTracker, Sink};
use std::any::Any;

/// Appends `*<n>\r\n` then `$<len>\r\n<arg>\r\n` per argument.
pub fn encode_command<'a>(out: &mut Vec<u8>, argv: impl ExactSizeIterator<Item = &'a [u8]>) {
    let mut nb = [0u8; 20];
    out.push(b'*');
    out.extend_from_slice(resp::num::fmt_u64(argv.len() as u64, &mut nb));
    out.extend_from_slice(b"\r\n");
    for a in argv {
        encode_bulk(out, a);
    }
}

/// `$<len>\r\n<arg>\r\n`
pub fn encode_bulk(out: &mut Vec<u8>, a: &[u8]) {
    let mut nb = [0u8; 20];
    out.push(b'$');
    out.extend_from_slice(resp::num::fmt_u64(a.len() as u64, &mut nb));
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(a);
    out.extend_from_slice(b"\r\n");
}

/// `SELECT <db>` as the AOF writes it.
pub fn encode_select(out: &mut Vec<u8>, db: usize) {
    let mut nb = [0u8; 20];
    let n = resp::num::fmt_u64(db as u64, &mut nb);
    encode_command(out, [b"SELECT".as_slice(), n].into_iter());
}

/// The engine-side half of the AOF: turns fed commands into AOF bytes in `buf`.
#[derive(Debug, Default)]
pub struct AofSink {
    select: SelectTracker,
    /// Bytes not yet taken by the server.
    pub buf: Vec<u8>,
    /// `aof-timestamp-enabled`: the current Unix second, set by the server each turn.
    clock: Option<i64>,
    /// The second of the last `#TS:` annotation written.
    last_ts: i64,
}

/// `#TS:<unix seconds>`, the annotation Redis 7's AOF carries with `aof-timestamp-enabled`
/// (`redis-check-aof --truncate-to-timestamp` cuts a file there).
pub fn encode_timestamp(out: &mut Vec<u8>, unix_secs: i64) {
    let mut nb = [0u8; 20];
    out.extend_from_slice(b"#TS:");
    out.extend_from_slice(resp::num::fmt_u64(unix_secs.max(0) as u64, &mut nb));
    out.extend_from_slice(b"\r\n");
}

impl AofSink {
    /// Takes what was fed since the last take (the caller gives the allocation back with
    /// [`AofSink::give_back`] to avoid reallocating every turn).
    pub fn take(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }

    /// Returns an emptied buffer for reuse when nothing was fed meanwhile.
    pub fn give_back(&mut self, mut v: Vec<u8>) {
        if self.buf.is_empty() {
            v.clear();
            self.buf = v;
        }
    }

    /// A new file starts: the next command writes `SELECT` again.
    pub fn reset_select(&mut self) {
        self.select.reset();
    }

    /// The db the stream has selected, if any.
    pub fn selected_db(&self) -> Option<usize> {
        self.select.selected()
    }

    /// With `Some(now)` (Unix seconds), a command fed in a later second than the last
    /// annotation is preceded by `#TS:<now>` (Redis's `genAofTimestampAnnotationIfNeeded`);
    /// `None` writes none.
    pub fn set_clock(&mut self, now_secs: Option<i64>) {
        self.clock = now_secs;
    }
}

impl Sink for AofSink {
    fn feed(&mut self, db: usize, argv: &[Vec<u8>]) {
        if let Some(now) = self.clock
            && now > self.last_ts
        {
            encode_timestamp(&mut self.buf, now);
            self.last_ts = now;
        }
        if let Some(db) = self.select.select(db) {
            encode_select(&mut self.buf, db);
        }
        encode_command(&mut self.buf, argv.iter().map(|a| a.as_slice()));
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feeds_select_when_the_db_changes() {
        let mut s = AofSink::default();
        s.feed(0, &[b"set".to_vec(), b"a".to_vec(), b"1".to_vec()]);
        s.feed(0, &[b"del".to_vec(), b"a".to_vec()]);
        s.feed(3, &[b"del".to_vec(), b"b".to_vec()]);
        assert_eq!(
            s.take(),
            b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n\
*2\r\n$3\r\ndel\r\n$1\r\na\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n*2\r\n$3\r\ndel\r\n$1\r\nb\r\n"
        );
        s.reset_select();
        s.feed(3, &[b"x".to_vec()]);
        assert!(s.take().starts_with(b"*2\r\n$6\r\nSELECT"));
    }

    #[test]
    fn annotates_each_new_second() {
        let mut s = AofSink::default();
        s.set_clock(Some(1_700_000_000));
        s.feed(0, &[b"a".to_vec()]);
        s.feed(0, &[b"b".to_vec()]);
        s.set_clock(Some(1_700_000_001));
        s.feed(0, &[b"c".to_vec()]);
        s.set_clock(None);
        s.feed(0, &[b"d".to_vec()]);
        assert_eq!(
            s.take(),
            b"#TS:1700000000\r\n*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n\
*1\r\n$1\r\nb\r\n#TS:1700000001\r\n*1\r\n$1\r\nc\r\n*1\r\n$1\r\nd\r\n"
        );
    }
}
