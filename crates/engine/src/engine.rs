//! The engine: all databases, the clock, engine-level configuration and statistics.

use crate::clock::Clock;
use crate::db::Db;

/// Configuration the engine consults (the server owns the full config and copies these in).
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// `databases`
    pub databases: usize,
    /// `hz`: active expiry runs this many times a second.
    pub hz: u32,
    /// `proto-max-bulk-len`: also the largest string SETRANGE/APPEND may build.
    pub proto_max_bulk_len: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            databases: 16,
            hz: 10,
            proto_max_bulk_len: 512 * 1024 * 1024,
        }
    }
}

/// Counters for INFO stats.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    pub expired_keys: u64,
}

/// The propagation point: what a write command's effect looks like to an AOF or a replica
/// (a later issue attaches those). By default a command that made `dirty` grow is propagated
/// as it was sent; a command whose effect depends on time or randomness rewrites itself into
/// a deterministic form here (SET EX → SET PXAT, INCRBYFLOAT → SET KEEPTTL, EXPIRE →
/// PEXPIREAT), and effects that no client command caused (a lazily expired key) are added as
/// extra commands (DEL).
#[derive(Debug, Default)]
pub struct Propagation {
    /// Replaces the current command, if set.
    pub rewritten: Option<Vec<Vec<u8>>>,
    /// Commands to propagate (before the current one), in order.
    pub extra: Vec<Vec<Vec<u8>>>,
}

impl Propagation {
    pub fn rewrite(&mut self, argv: &[&[u8]]) {
        self.rewritten = Some(argv.iter().map(|a| a.to_vec()).collect());
    }

    pub fn add(&mut self, argv: &[&[u8]]) {
        self.extra.push(argv.iter().map(|a| a.to_vec()).collect());
    }

    pub fn clear(&mut self) {
        self.rewritten = None;
        self.extra.clear();
    }
}

pub struct Engine {
    pub dbs: Vec<Db>,
    pub clock: Clock,
    pub config: EngineConfig,
    pub stats: Stats,
    /// Writes since the last save (Redis's `server.dirty`); also how the propagation point
    /// (AOF/replication, a later issue) learns that a command wrote.
    pub dirty: u64,
    /// When set, every command sees this time (EXEC and scripts run at one instant).
    pub fixed_now_ms: Option<i64>,
    pub propagation: Propagation,
}

impl Engine {
    pub fn new(config: EngineConfig, clock: Clock) -> Engine {
        let dbs = (0..config.databases).map(Db::new).collect();
        Engine {
            dbs,
            clock,
            config,
            stats: Stats::default(),
            dirty: 0,
            fixed_now_ms: None,
            propagation: Propagation::default(),
        }
    }

    /// The time commands see.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        self.fixed_now_ms.unwrap_or_else(|| self.clock.now_ms())
    }
}
