//! Keyspace event classes (`notify-keyspace-events`), as Redis's `NOTIFY_*` bits.
//!
//! Commands report what they did through `Ctx::notify`; the engine queues the events that
//! the configured classes select, and the server publishes them on
//! `__keyspace@<db>__:<key>` / `__keyevent@<db>__:<event>`.

/// A set of event classes.
pub type NotifyClass = u32;

pub const KEYSPACE: NotifyClass = 1 << 0; // K
pub const KEYEVENT: NotifyClass = 1 << 1; // E
pub const GENERIC: NotifyClass = 1 << 2; // g
pub const STRING: NotifyClass = 1 << 3; // $
pub const LIST: NotifyClass = 1 << 4; // l
pub const SET: NotifyClass = 1 << 5; // s
pub const HASH: NotifyClass = 1 << 6; // h
pub const ZSET: NotifyClass = 1 << 7; // z
pub const EXPIRED: NotifyClass = 1 << 8; // x
pub const EVICTED: NotifyClass = 1 << 9; // e
pub const STREAM: NotifyClass = 1 << 10; // t
pub const KEY_MISS: NotifyClass = 1 << 11; // m (excluded from 'A')
pub const LOADED: NotifyClass = 1 << 12; // module only
pub const MODULE: NotifyClass = 1 << 13; // d
pub const NEW: NotifyClass = 1 << 14; // n (excluded from 'A')
/// `A`: every class except key-miss and new.
pub const ALL: NotifyClass =
    GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

/// `K` or `E`: without one of them no channel is published to, whatever else is selected.
pub const CHANNELS: NotifyClass = KEYSPACE | KEYEVENT;

/// Parses a `notify-keyspace-events` value (Redis's `keyspaceEventsStringToFlags`): any of
/// `KEg$lshzxetmdnA`; `None` on any other byte.
pub fn parse_flags(s: &[u8]) -> Option<NotifyClass> {
    let mut f = 0;
    for &c in s {
        f |= match c {
            b'A' => ALL,
            b'g' => GENERIC,
            b'$' => STRING,
            b'l' => LIST,
            b's' => SET,
            b'h' => HASH,
            b'z' => ZSET,
            b'x' => EXPIRED,
            b'e' => EVICTED,
            b'K' => KEYSPACE,
            b'E' => KEYEVENT,
            b't' => STREAM,
            b'm' => KEY_MISS,
            b'd' => MODULE,
            b'n' => NEW,
            _ => return None,
        };
    }
    Some(f)
}

/// One queued event; its key is `keys[key.0..key.1]` of the owning [`Queue`].
#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub db: usize,
    pub event: &'static str,
    key: (usize, usize),
}

/// Keyspace events raised while a command (or the cron) ran, waiting for the server to
/// publish them, in the order they were raised.
///
/// Invariants: only events whose class the configuration selects are queued (so with
/// notifications off, the default, nothing is ever pushed and nothing allocates); keys are
/// stored back to back in one buffer, so after warm-up queuing allocates nothing either.
#[derive(Debug, Default)]
pub struct Queue {
    events: Vec<Event>,
    keys: Vec<u8>,
}

impl Queue {
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn push(&mut self, db: usize, event: &'static str, key: &[u8]) {
        let start = self.keys.len();
        self.keys.extend_from_slice(key);
        self.events.push(Event {
            db,
            event,
            key: (start, self.keys.len()),
        });
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// The `i`-th event and its key.
    pub fn get(&self, i: usize) -> (Event, &[u8]) {
        let e = self.events[i];
        (e, &self.keys[e.key.0..e.key.1])
    }

    /// Forgets every event, keeping the buffers.
    pub fn clear(&mut self) {
        self.events.clear();
        self.keys.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_like_redis() {
        assert_eq!(parse_flags(b""), Some(0));
        assert_eq!(parse_flags(b"KEA"), Some(KEYSPACE | KEYEVENT | ALL));
        assert_eq!(parse_flags(b"Ex"), Some(KEYEVENT | EXPIRED));
        assert_eq!(parse_flags(b"A").map(|f| f & (KEY_MISS | NEW)), Some(0));
        assert_eq!(parse_flags(b"Kmn"), Some(KEYSPACE | KEY_MISS | NEW));
        assert_eq!(parse_flags(b"KEQ"), None);
        assert_eq!(parse_flags(b"k"), None, "classes are case-sensitive");
    }

    #[test]
    fn engine_queues_only_selected_classes_with_a_channel() {
        use crate::{Clock, Engine, EngineConfig};
        let (clock, _) = Clock::manual(1_000);
        let mut e = Engine::new(EngineConfig::default(), clock);
        // Off (the default): nothing queued, nothing allocated.
        e.notify(0, STRING, "set", b"k");
        assert!(e.notifications.is_empty());
        assert_eq!(e.notifications.keys.capacity(), 0);
        // A class without K or E publishes nowhere, so it is not queued either.
        e.config.notify_keyspace_events = parse_flags(b"A").unwrap();
        e.notify(0, STRING, "set", b"k");
        assert!(e.notifications.is_empty());
        e.config.notify_keyspace_events = parse_flags(b"Kx").unwrap();
        e.notify(0, STRING, "set", b"k");
        e.notify(2, EXPIRED, "expired", b"gone");
        e.notify(0, KEY_MISS, "keymiss", b"k");
        assert_eq!(e.notifications.len(), 1);
        let (ev, key) = e.notifications.get(0);
        assert_eq!((ev.db, ev.event, key), (2, "expired", &b"gone"[..]));
    }

    #[test]
    fn queue_keeps_order_and_keys() {
        let mut q = Queue::default();
        q.push(0, "set", b"k1");
        q.push(3, "del", b"");
        q.push(1, "expired", b"\x00bin\xff");
        assert_eq!(q.len(), 3);
        let (e, k) = q.get(0);
        assert_eq!((e.db, e.event, k), (0, "set", &b"k1"[..]));
        let (e, k) = q.get(1);
        assert_eq!((e.db, e.event, k), (3, "del", &b""[..]));
        let (e, k) = q.get(2);
        assert_eq!((e.db, e.event, k), (1, "expired", &b"\x00bin\xff"[..]));
        q.clear();
        assert!(q.is_empty());
    }
}
