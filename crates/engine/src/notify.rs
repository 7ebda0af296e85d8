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
