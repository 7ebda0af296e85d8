//! Command implementations, one module per family, and the command table.
//!
//! A handler has the signature [`CmdFn`]: it gets the arguments (`args[0]` is the command
//! name) already checked for arity by the gate, writes its reply through `ctx.out`, or returns
//! a [`CmdError`] which the gate turns into Redis's text. A handler that returns an error must
//! not have written anything.

pub mod args;
pub mod meta_data;
pub mod table;
pub mod testkit;

pub mod bitmap;
pub mod command;
pub mod connection;
pub mod geo;
pub mod hash;
pub mod hll;
pub mod keys;
pub mod list;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod strings;
pub mod zrange_args;
pub mod zset;

use crate::db::Db;
use crate::engine::Engine;
use crate::error::CmdResult;
use resp::{Proto, Reply};

/// The per-client state the engine needs (the server keeps the rest of a client).
#[derive(Clone, Debug, Default)]
pub struct Session {
    /// Selected database.
    pub db: usize,
    /// Protocol chosen with HELLO.
    pub proto: Proto,
    /// CLIENT ID.
    pub id: u64,
    /// Blocking commands must answer at once instead of blocking (Redis's
    /// `CLIENT_DENY_BLOCKING`): set while EXEC runs the queued commands.
    pub no_block: bool,
    /// The client is in RESP2 pub/sub mode (Redis's `CLIENT_PUBSUB` with `resp == 2`):
    /// PING answers in the pub/sub form. Kept current by the server's runner.
    pub pubsub_resp2: bool,
    /// The client's ACL user may not read every key with this command (Redis's
    /// `ACLUserCheckCmdWithUnrestrictedKeyAccess` is false): SORT refuses BY and GET
    /// patterns, whose keys no key spec names. Set by the server's ACL check.
    pub restricted_keys: bool,
    /// The client replays a trusted stream (the AOF loader, later a master): XADD/XTRIM do
    /// not apply their LIMIT (Redis's `mustObeyClient`).
    pub obey: bool,
}

/// What a handler works with.
pub struct Ctx<'a> {
    pub engine: &'a mut Engine,
    pub session: &'a mut Session,
    pub out: Reply<'a>,
}

impl Ctx<'_> {
    /// The selected database.
    #[inline]
    pub fn db(&mut self) -> &mut Db {
        &mut self.engine.dbs[self.session.db]
    }

    /// The time this command sees.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        self.engine.now_ms()
    }

    /// Call after a command changed `key`'s value or existence (Redis's `signalModifiedKey`):
    /// the hook for WATCH (transactions issue).
    #[inline]
    pub fn signal_modified(&mut self, key: &[u8]) {
        self.signal_modified_in(self.session.db, key);
    }

    /// [`Ctx::signal_modified`] for a key of another db (MOVE, COPY ... DB).
    #[inline]
    pub fn signal_modified_in(&mut self, db: usize, key: &[u8]) {
        self.engine.signal_modified(db, key);
    }

    /// A keyspace event (Redis's `notifyKeyspaceEvent`), e.g.
    /// `ctx.notify(notify::STRING, "set", key)`. Queued only if `notify-keyspace-events`
    /// selects the class (transactions/pub-sub issue).
    #[inline]
    pub fn notify(&mut self, class: crate::notify::NotifyClass, event: &'static str, key: &[u8]) {
        // Keys this command's lookups expired raise their `expired` events first, as Redis
        // raises them inside the lookup.
        self.engine.flush_expired();
        self.engine.notify(self.session.db, class, event, key);
    }

    /// The common end of HDEL / SREM: deletes the emptied key, then (when anything was
    /// removed) touches WATCH, raises `event` and `del` as Redis does, counts `removed` writes
    /// and replies with the count.
    pub fn finish_member_removal(
        &mut self,
        key: &[u8],
        removed: u64,
        emptied: bool,
        class: crate::notify::NotifyClass,
        event: &'static str,
    ) {
        if emptied {
            let now = self.now_ms();
            self.db().delete(key, now);
        }
        if removed > 0 {
            self.signal_modified(key);
            self.notify(class, event, key);
            if emptied {
                self.notify(crate::notify::GENERIC, "del", key);
            }
            self.engine.dirty += removed;
        }
        self.out.int(removed as i64);
    }

    /// A list or sorted set under `key` just got elements (Redis's `signalKeyAsReady`):
    /// clients blocked on it may be served (blocking commands, data-type issue).
    #[inline]
    pub fn signal_ready(&mut self, key: &[u8]) {
        let db = self.session.db;
        self.engine.blocking.signal_ready(db, key);
    }
}

pub type CmdFn = fn(&mut Ctx<'_>, &[&[u8]]) -> CmdResult;

/// A listpack value (or table string) as a bulk string; integers print as Redis's
/// `addReplyBulkLongLong`, the same bytes as the original string.
#[inline]
pub(crate) fn bulk_lp(out: &mut Reply<'_>, v: crate::types::listpack::LpValue<'_>) {
    use crate::types::listpack::LpValue;
    match v {
        LpValue::Str(s) => out.bulk(s),
        LpValue::Int(i) => out.bulk_int(i),
    }
}

/// Every engine-implemented command: (lowercase name, handler). The server joins these with
/// its own handlers and the metadata in [`table`] into the one table.
pub fn engine_handlers() -> impl Iterator<Item = (&'static str, CmdFn)> {
    strings::COMMANDS
        .iter()
        .chain(keys::COMMANDS)
        .chain(list::COMMANDS)
        .chain(connection::COMMANDS)
        .chain(server::COMMANDS)
        .chain(command::COMMANDS)
        .chain(zset::COMMANDS)
        .chain(sort::COMMANDS)
        .chain(set::COMMANDS)
        .chain(hash::COMMANDS)
        .chain(bitmap::COMMANDS)
        .chain(hll::COMMANDS)
        .chain(geo::COMMANDS)
        .chain(stream::COMMANDS)
        .copied()
}
