//! Loading an RDB image into the keyspace: at start-up (`dir`/`dbfilename`), for DEBUG
//! RELOAD, and for the RDB preamble of an AOF. Logs as Redis does.

use engine::Engine;
use persist::rdb::load::{Item, LoadOptions, RdbError};

/// What a load did (INFO's `rdb_last_load_keys_*`).
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadStats {
    pub loaded: u64,
    pub expired: u64,
    /// Bytes of the image that were RDB (an AOF continues after them).
    pub consumed: usize,
    /// The `repl-stream-db` aux field: the db a master's stream continues in after this
    /// image (a replica's full sync).
    pub repl_stream_db: Option<usize>,
    /// The `repl-id` and `repl-offset` aux fields: the history this image is a point of.
    pub repl_id: Option<[u8; 40]>,
    pub repl_offset: Option<u64>,
}

/// How an image is loaded.
#[derive(Clone, Copy, Debug, Default)]
pub struct Flags {
    /// Skip keys whose TTL has passed (a master loading an RDB; not an AOF's base, whose
    /// commands may still touch them: Redis's `RDBFLAGS_AOF_PREAMBLE`).
    pub drop_expired: bool,
    /// A key already present is replaced instead of being an error (DEBUG RELOAD MERGE).
    pub merge: bool,
    /// `key-load-delay`: microseconds to wait per key (negative: nanoseconds), a testing
    /// knob that makes a load observable.
    pub key_delay: i64,
}

/// Loads `bytes` into the server: the keys (see [`load_image`]), then its function
/// libraries (replacing all of ours unless `merge`). A library that does not load fails
/// the load, as in Redis.
pub fn load_into(
    server: &mut crate::server::Server,
    bytes: &[u8],
    flags: Flags,
) -> Result<LoadStats, RdbError> {
    let mut functions = Vec::new();
    let stats = load_image(&mut server.engine, bytes, flags, &mut functions)?;
    // An image without libraries leaves ours alone unless it is the whole new state.
    if !functions.is_empty() || !flags.merge {
        crate::features::script::function::install_loaded(server, functions, !flags.merge)
            .map_err(|e| RdbError {
                offset: 0,
                kind: format!("Failed loading library: {e}"),
            })?;
    }
    Ok(stats)
}

/// Loads `bytes` into `engine` (whose dbs should be empty unless `merge`); the function
/// libraries' code goes to `functions`. A key present twice is an error, as in Redis.
pub fn load_image(
    engine: &mut Engine,
    bytes: &[u8],
    flags: Flags,
    functions: &mut Vec<Vec<u8>>,
) -> Result<LoadStats, RdbError> {
    let mut inc = Incremental::new(bytes, flags)?;
    while !inc.step(engine, bytes, usize::MAX)? {}
    *functions = std::mem::take(&mut inc.functions);
    Ok(inc.stats)
}

/// A load in steps (a replica's full sync): the loader's position, what it gathered.
pub struct Incremental {
    loader: persist::rdb::load::Loader,
    flags: Flags,
    pub stats: LoadStats,
    pub functions: Vec<Vec<u8>>,
}

impl Incremental {
    pub fn new(bytes: &[u8], flags: Flags) -> Result<Incremental, RdbError> {
        Ok(Incremental {
            loader: persist::rdb::load::Loader::new(bytes)?,
            flags,
            stats: LoadStats::default(),
            functions: Vec::new(),
        })
    }

    /// Loads up to `max_keys` more keys of `bytes` (the image given to `new`); true once
    /// the whole image is in.
    pub fn step(
        &mut self,
        engine: &mut Engine,
        bytes: &[u8],
        max_keys: usize,
    ) -> Result<bool, RdbError> {
        let now = engine.now_ms();
        let config = engine.config.clone();
        let opts = LoadOptions {
            config: &config,
            deep_sanitize: false,
        };
        let Incremental {
            loader,
            flags,
            stats,
            functions,
        } = self;
        let flags = *flags;
        let done = loader.step(
            bytes,
            &opts,
            &mut |item| load_item(engine, item, flags, now, stats, functions),
            max_keys,
        )?;
        stats.consumed = loader.pos();
        Ok(done)
    }
}

/// One item of an image into the engine (see [`load_image`]).
fn load_item(
    engine: &mut Engine,
    item: Item,
    flags: Flags,
    now: i64,
    stats: &mut LoadStats,
    functions: &mut Vec<Vec<u8>>,
) -> Result<(), RdbError> {
    match item {
        Item::Aux { key, value } => {
            let number = || std::str::from_utf8(&value).ok()?.parse::<i64>().ok();
            match &key[..] {
                b"repl-stream-db" => {
                    stats.repl_stream_db = number().and_then(|v| usize::try_from(v).ok())
                }
                b"repl-id" => stats.repl_id = value.as_slice().try_into().ok(),
                b"repl-offset" => stats.repl_offset = number().and_then(|v| u64::try_from(v).ok()),
                _ => {}
            }
            log_aux(&key, &value, now)
        }
        Item::ResizeDb { db, size, expires } => engine.dbs[db].reserve(size, expires),
        Item::Entry {
            db,
            key,
            value,
            expire_ms,
            idle_secs,
            freq,
        } => {
            if flags.key_delay != 0 {
                std::thread::sleep(delay(flags.key_delay));
            }
            if flags.drop_expired && expire_ms.is_some_and(|at| at < now) {
                stats.expired += 1;
                return Ok(());
            }
            if flags.merge {
                engine.dbs[db].delete(&key, now);
            }
            if !engine.dbs[db].insert_loaded(&key, value, expire_ms) {
                return Err(RdbError {
                    // The loader fills in where the key's item starts.
                    offset: u64::MAX,
                    kind: format!(
                        "RDB has duplicated key '{}' in DB {db}",
                        String::from_utf8_lossy(&key)
                    ),
                });
            }
            // The file's LRU idle time or LFU counter, whichever the policy uses.
            if idle_secs.is_some() || freq.is_some() {
                let d = &mut engine.dbs[db];
                d.update_clock(now);
                d.set_lru_or_lfu(&key, freq, idle_secs.map(|s| s.min(i64::MAX as u64) as i64));
            }
            stats.loaded += 1;
        }
        Item::Function { code } => functions.push(code),
        Item::ModuleAux => {}
    }
    Ok(())
}

/// Redis's `debugDelay`: positive microseconds, negative nanoseconds.
pub fn delay(v: i64) -> std::time::Duration {
    if v >= 0 {
        std::time::Duration::from_micros(v as u64)
    } else {
        std::time::Duration::from_nanos(v.unsigned_abs())
    }
}

fn log_aux(key: &[u8], value: &[u8], now_ms: i64) {
    let v = String::from_utf8_lossy(value);
    match key {
        b"redis-ver" => log::info!("Loading RDB produced by version {v}"),
        b"ctime" => {
            if let Ok(t) = v.parse::<i64>() {
                log::info!("RDB age {} seconds", (now_ms / 1000 - t).max(0));
            }
        }
        b"used-mem" => {
            if let Ok(m) = v.parse::<u64>() {
                log::info!(
                    "RDB memory usage when created {:.2} Mb",
                    m as f64 / (1024.0 * 1024.0)
                );
            }
        }
        _ => {}
    }
}
