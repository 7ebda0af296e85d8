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
}

/// Loads `bytes` into `engine` (whose dbs should be empty). Keys whose TTL has passed are
/// skipped when `drop_expired` (a master loading an RDB; not for an AOF's preamble, whose
/// commands may still touch them). A key present twice is an error, as in Redis.
pub fn load_image(
    engine: &mut Engine,
    bytes: &[u8],
    drop_expired: bool,
) -> Result<LoadStats, RdbError> {
    load_image_with(engine, bytes, drop_expired, false)
}

/// [`load_image`]; with `merge` a key already present is replaced instead of being an error
/// (DEBUG RELOAD MERGE).
pub fn load_image_with(
    engine: &mut Engine,
    bytes: &[u8],
    drop_expired: bool,
    merge: bool,
) -> Result<LoadStats, RdbError> {
    let now = engine.now_ms();
    let config = engine.config.clone();
    let opts = LoadOptions {
        config: &config,
        deep_sanitize: false,
    };
    let mut stats = LoadStats::default();
    stats.consumed = persist::rdb::load::load(bytes, &opts, &mut |item| {
        match item {
            Item::Aux { key, value } => log_aux(&key, &value, now),
            Item::ResizeDb { db, size, expires } => engine.dbs[db].reserve(size, expires),
            Item::Entry {
                db,
                key,
                value,
                expire_ms,
                ..
            } => {
                if drop_expired && expire_ms.is_some_and(|at| at < now) {
                    stats.expired += 1;
                    return Ok(());
                }
                if merge {
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
                stats.loaded += 1;
            }
            Item::Function { .. } => {
                // Scripting is a later issue: the library cannot be kept.
                log::warn!(
                    "The RDB holds a function library; functions are not supported yet, skipping it"
                );
            }
            Item::ModuleAux => {}
        }
        Ok(())
    })?;
    Ok(stats)
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
