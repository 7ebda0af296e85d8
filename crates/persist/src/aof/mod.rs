//! Redis 7's multi-part AOF: the files and their formats, no I/O policy.
//!
//! An AOF is a directory (`appenddirname`) holding a manifest (`manifest.rs`: which files,
//! in which order), at most one base (an RDB, `<name>.<seq>.base.rdb`, or commands,
//! `.base.aof`) and incremental command files (`<name>.<seq>.incr.aof`). Loading replays the
//! base then the incrementals; a rewrite writes a new base from the keyspace and starts a
//! new incremental, then switches the manifest atomically.
//!
//! - `manifest.rs`: parse/format as Redis 7.0, file naming.
//! - `reader.rs`: RESP command files → argv with offsets; truncated tail vs corruption.
//! - `writer.rs`: the encoding of the propagated stream and [`writer::AofSink`], the
//!   engine's sink that buffers it for the server to write.
//! - `rewrite.rs`: the keyspace as commands (a command base, `aof-use-rdb-preamble no`).
//!
//! The server (`crates/server/src/features/aof.rs`) owns the files, the fsync policy and
//! when to rewrite.

pub mod manifest;
pub mod reader;
pub mod rewrite;
pub mod writer;

pub use manifest::{AofFile, FileKind, Manifest, ManifestError};
pub use reader::{Next, Reader};
pub use writer::AofSink;
