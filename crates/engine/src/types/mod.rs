//! Compact data structures behind the aggregate types, in Redis 7.0's encodings
//! (`OBJECT ENCODING` listpack / quicklist / intset / skiplist). They are standalone
//! containers of bytes: they know nothing of keys, commands or replies, and the command
//! families pick an encoding and convert between them at Redis's thresholds.

pub mod geohash;
pub mod hll;
pub mod intset;
pub mod listpack;
pub mod quicklist;
pub mod skiplist;
pub mod stream;
