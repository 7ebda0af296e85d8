//! The engine's half of blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): how a handler asks
//! to block, and which keys clients wait on so that writes can mark them ready.
//!
//! # How a blocking command uses it
//! 1. Parse the timeout with [`parse_timeout`] (before looking at keys: Redis validates it
//!    first) into an absolute deadline in ms (0 = forever).
//! 2. Try to serve from the keys, in order. If one can be served, reply and return as the
//!    non-blocking form would (and rewrite the propagated command, e.g. BLPOP → LPOP).
//! 3. If none can: when `ctx.session.no_block` is set (inside MULTI/EXEC or a script), reply
//!    the timeout reply at once; otherwise set `ctx.engine.block = Some(BlockRequest{..})`
//!    and return `Ok(())` **without writing anything**. The server parks the client.
//! 4. Writers call `ctx.signal_ready(key)` when a list/zset gets elements. If someone waits on
//!    the key it is queued in [`Blocking::ready`]; after the writing command, the server
//!    re-runs each waiting client's original command (same args, same handler) in FIFO order
//!    per key, while the key still holds a value of the [`BlockKind`] the client waits for.
//!    So the handler's serving path is the only serving code.
//!
//! Invariants: `waiting[db]` maps a key to the server's ids (slab keys) of the clients
//! blocked on it, oldest first, and holds no empty queue; `total` counts queue entries, so a
//! write with nobody blocked costs one comparison.

use crate::error::CmdError;
use std::collections::{HashMap, VecDeque};

/// What a timed-out (or CLIENT UNBLOCK ... TIMEOUT) blocked client gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeoutReply {
    /// `*-1` (RESP3 `_`): every list and zset waiter in Redis 7.0 (BLMOVE included).
    NullArray,
    /// `$-1` (RESP3 `_`).
    NullBulk,
}

/// The value type that can serve a waiting client (a ready key holding another type, or
/// nothing, leaves it blocked, as Redis 7.0's `handleClientsBlockedOnKeys`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    List,
    ZSet,
    /// XREAD / XREADGROUP: see [`StreamWait`] and [`stream_wait_state`].
    Stream,
}

/// What a stream reader waits for, per key in the request's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamWait {
    /// XREAD: entries after these IDs (`$` resolved at block time). XREADGROUP: `MAX`
    /// (`>`, the group's last delivered ID decides).
    pub ids: Vec<crate::types::stream::StreamId>,
    /// XREADGROUP's group.
    pub group: Option<Vec<u8>>,
}

/// What a ready key means for a stream waiter (Redis 7.0's
/// `serveClientsBlockedOnStreamKey` and the deleted-key unblocking).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamWaitState {
    /// Nothing new for it: it stays blocked.
    Wait,
    /// Re-run its command: it finds entries.
    Serve,
    /// XREADGROUP whose group was destroyed: `-NOGROUP ...`.
    NoGroup,
    /// XREADGROUP whose key was deleted (or now holds another type): `-UNBLOCKED ...`.
    Deleted,
}

/// Decides what `value` (the key's value now, if any) means for a waiter on the key at
/// position `idx` of its request.
pub fn stream_wait_state(
    value: Option<&crate::object::Value>,
    wait: &StreamWait,
    idx: usize,
) -> StreamWaitState {
    let st = match value {
        Some(crate::object::Value::Stream(st)) => st,
        _ if wait.group.is_some() => return StreamWaitState::Deleted,
        _ => return StreamWaitState::Wait,
    };
    let gt = match &wait.group {
        Some(g) => match st.group(g) {
            None => return StreamWaitState::NoGroup,
            Some(g) => g.last_id,
        },
        None => wait.ids.get(idx).copied().unwrap_or_default(),
    };
    if st.last_id > gt {
        StreamWaitState::Serve
    } else {
        StreamWaitState::Wait
    }
}

/// Set by a handler that wants its client parked (see the module doc).
#[derive(Clone, Debug)]
pub struct BlockRequest {
    /// Keys waited on, in the command's order.
    pub keys: Vec<Vec<u8>>,
    /// Absolute deadline in Unix ms; 0 = wait forever.
    pub timeout_at_ms: i64,
    pub timeout_reply: TimeoutReply,
    pub kind: BlockKind,
    /// Stream readers: what each key must get.
    pub stream: Option<StreamWait>,
    /// The command line to re-run when served, if not the original (XREAD's `$` resolved).
    pub argv: Option<Vec<Vec<u8>>>,
}

/// Which keys clients are blocked on, and which of them became ready.
#[derive(Debug, Default)]
pub struct Blocking {
    waiting: Vec<HashMap<Vec<u8>, VecDeque<usize>>>,
    total: usize,
    /// Keys signalled ready since the server last served them: (db, key), deduplicated.
    pub ready: Vec<(usize, Vec<u8>)>,
}

impl Blocking {
    /// Queues client `client` at the back of `key`'s waiters in `db`.
    pub fn add(&mut self, db: usize, key: &[u8], client: usize) {
        if self.waiting.len() <= db {
            self.waiting.resize_with(db + 1, HashMap::new);
        }
        self.waiting[db]
            .entry(key.to_vec())
            .or_default()
            .push_back(client);
        self.total += 1;
    }

    /// Removes client `client` from `key`'s waiters in `db` (unblock, disconnect).
    pub fn remove(&mut self, db: usize, key: &[u8], client: usize) {
        let Some(map) = self.waiting.get_mut(db) else {
            return;
        };
        let Some(q) = map.get_mut(key) else {
            return;
        };
        if let Some(i) = q.iter().position(|&c| c == client) {
            q.remove(i);
            self.total -= 1;
        }
        if q.is_empty() {
            map.remove(key);
        }
    }

    /// The clients waiting on `key` in `db`, oldest first.
    pub fn waiters(&self, db: usize, key: &[u8]) -> Vec<usize> {
        self.waiting
            .get(db)
            .and_then(|m| m.get(key))
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The oldest client waiting on `key` in `db`.
    pub fn first(&self, db: usize, key: &[u8]) -> Option<usize> {
        self.waiting.get(db)?.get(key)?.front().copied()
    }

    /// Whether anyone waits on a key of `db`.
    pub fn has_waiters(&self, db: usize) -> bool {
        self.waiting.get(db).is_some_and(|m| !m.is_empty())
    }

    /// Whether anyone waits on `key` in `db`.
    #[inline]
    pub fn is_waited(&self, db: usize, key: &[u8]) -> bool {
        self.total > 0 && self.waiting.get(db).is_some_and(|m| m.contains_key(key))
    }

    /// Number of (client, key) waits.
    pub fn len(&self) -> usize {
        self.total
    }

    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Every waited key of `db` (FLUSHDB/FLUSHALL: serving decides per waiter).
    pub fn signal_all(&mut self, db: usize) {
        let Some(map) = self.waiting.get(db) else {
            return;
        };
        for k in map.keys() {
            if !self.ready.iter().any(|(d, r)| *d == db && r == k) {
                self.ready.push((db, k.clone()));
            }
        }
    }

    /// Redis's `signalKeyAsReady`: remembers `key` if someone waits on it.
    #[inline]
    pub fn signal_ready(&mut self, db: usize, key: &[u8]) {
        if !self.is_waited(db, key) {
            return;
        }
        if !self.ready.iter().any(|(d, k)| *d == db && k == key) {
            self.ready.push((db, key.to_vec()));
        }
    }
}

/// After SWAPDB (Redis's `scanDatabaseForReadyKeys` and `scanDatabaseForDeletedKeys`):
/// every waited key of `db` is signalled ready; serving decides per waiter (a list waiter
/// needs a list there, an XREADGROUP waiter whose stream or group went away gets its
/// error).
pub fn signal_swapped(engine: &mut crate::Engine, db: usize) {
    engine.blocking.signal_all(db);
}

/// Parses a blocking command's timeout in seconds (Redis's `getTimeoutFromObjectOrReply`
/// with `UNIT_SECONDS`) into an absolute deadline in ms, 0 meaning forever.
///
/// Redis reads the seconds with `strtold` (`getLongDoubleFromObject`: hex floats such as
/// `0X1P-2` pass, no leading space, no NaN), multiplies the long double by 1000 and casts
/// to `long long`: sub-millisecond parts are truncated (0.0001 blocks forever), and a value
/// whose milliseconds do not fit (inf, 1e17) becomes `LLONG_MIN` on x86, hence "timeout is
/// negative".
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<i64, CmdError> {
    let secs = crate::ldouble::LongDouble::parse(arg).ok_or(CmdError::Static(
        "ERR timeout is not a float or out of range",
    ))?;
    let ms = secs.seconds_to_ms();
    if ms < 0 {
        return Err(CmdError::Static("ERR timeout is negative"));
    }
    if ms == 0 {
        return Ok(0);
    }
    // Redis 7.0 adds without a check; the wrapped deadline, read unsigned by its timeout
    // table, is never reached: the client waits forever, as a saturated deadline does.
    Ok(now_ms.saturating_add(ms))
}

/// Parses a timeout in milliseconds (Redis's `getTimeoutFromObjectOrReply` with
/// `UNIT_MILLISECONDS`: WAIT, CLIENT PAUSE) into an absolute deadline, 0 meaning none.
pub fn parse_timeout_ms(arg: &[u8], now_ms: i64) -> Result<i64, CmdError> {
    let ms = resp::num::parse_i64(arg).ok_or(CmdError::Static(
        "ERR timeout is not an integer or out of range",
    ))?;
    if ms < 0 {
        return Err(CmdError::Static("ERR timeout is negative"));
    }
    if ms == 0 {
        return Ok(0);
    }
    now_ms
        .checked_add(ms)
        .ok_or(CmdError::Static("ERR timeout is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queues_are_fifo_and_removal_is_exact() {
        let mut b = Blocking::default();
        b.add(0, b"k", 7);
        b.add(0, b"k", 3);
        b.add(2, b"k", 9);
        assert_eq!(b.first(0, b"k"), Some(7));
        assert!(b.is_waited(2, b"k") && !b.is_waited(1, b"k"));
        b.remove(0, b"k", 7);
        assert_eq!(b.first(0, b"k"), Some(3));
        b.remove(0, b"k", 3);
        assert_eq!(b.first(0, b"k"), None);
        assert_eq!(b.len(), 1);
        b.signal_ready(0, b"k");
        assert!(b.ready.is_empty(), "nobody waits on db 0's k any more");
        b.signal_ready(2, b"k");
        b.signal_ready(2, b"k");
        assert_eq!(b.ready, vec![(2, b"k".to_vec())]);
    }

    #[test]
    fn millisecond_timeouts_parse_as_redis() {
        assert_eq!(parse_timeout_ms(b"0", 5), Ok(0));
        assert_eq!(parse_timeout_ms(b"100", 5), Ok(105));
        assert_eq!(
            parse_timeout_ms(b"-1", 5),
            Err(CmdError::Static("ERR timeout is negative"))
        );
        assert_eq!(
            parse_timeout_ms(b"1.5", 5),
            Err(CmdError::Static(
                "ERR timeout is not an integer or out of range"
            ))
        );
        assert_eq!(
            parse_timeout_ms(b"9223372036854775807", 5),
            Err(CmdError::Static("ERR timeout is out of range"))
        );
    }

    #[test]
    fn timeouts_parse_as_redis() {
        let now = 1_000_000;
        assert_eq!(parse_timeout(b"0", now), Ok(0));
        assert_eq!(parse_timeout(b"0.0001", now), Ok(0));
        assert_eq!(parse_timeout(b"-0.0001", now), Ok(0));
        assert_eq!(parse_timeout(b"0.1", now), Ok(now + 100));
        assert_eq!(parse_timeout(b"1.5", now), Ok(now + 1500));
        // strtold: hex floats; the product is truncated in long double.
        assert_eq!(parse_timeout(b"0x1", now), Ok(now + 1000));
        assert_eq!(parse_timeout(b"0X1P-2", now), Ok(now + 250));
        assert_eq!(parse_timeout(b"0.0019999999999999999", now), Ok(now + 1));
        assert_eq!(parse_timeout(b"9223372036854775", now), Ok(i64::MAX));
        let neg = Err(CmdError::Static("ERR timeout is negative"));
        for t in ["-1", "inf", "-inf", "1e17", "9223372036854775807"] {
            assert_eq!(parse_timeout(t.as_bytes(), now), neg, "{t}");
        }
        let bad = Err(CmdError::Static(
            "ERR timeout is not a float or out of range",
        ));
        for t in ["", " 1", "1 ", "nan", "abc", "0x", "1e-5000", "1\x00"] {
            assert_eq!(parse_timeout(t.as_bytes(), now), bad, "{t}");
        }
    }
}
