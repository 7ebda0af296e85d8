//! RDB: Redis's snapshot format (`src/rdb.h`, `src/rdb.c` of 7.0.15).

pub mod codec;
pub mod load;
pub mod write;
pub mod ziplist;
pub mod zipmap;
