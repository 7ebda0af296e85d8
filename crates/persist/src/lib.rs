//! Persistence: the files are the compatibility contract with Redis 7.0.
//!
//! - [`rdb`]: RDB version 10 as Redis 7.0 writes it (and older versions on load), the
//!   DUMP/RESTORE payload format, CRC64 and LZF.
//! - [`aof`]: Redis 7's multi-part append-only file (manifest, base, incrementals).
//!
//! This crate does no socket I/O and knows nothing of clients: the server drives it.

pub mod aof;
pub mod rdb;
pub mod snapshot;

/// The Redis version written in the `redis-ver` AUX field (INFO's `redis_version`): tools and
/// a real Redis reading our files see the version whose formats we write.
pub const REDIS_VERSION: &str = "7.0.15";
