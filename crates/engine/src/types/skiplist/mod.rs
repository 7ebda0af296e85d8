//! The sorted-set skiplist (Redis's `zskiplist`, `OBJECT ENCODING skiplist`) and [`ZSet`],
//! its pairing with a member → node hash index. Results are identical to Redis 7.0.15's
//! `t_zset.c`; the layout is not a node-per-allocation skiplist.
//!
//! Rooms:
//! - `arena`: [`NodeId`], the 48-byte node and the dense chunked arena of nodes;
//! - `list`: [`SkipList`], the levels, spans and every ordered operation (insert, delete,
//!   score update, rank, element by rank, first/last in range, range deletions, iteration);
//! - `range`: [`ScoreRange`] and [`LexRange`], the intervals and their comparisons (parsing
//!   them from arguments is in `commands::zrange_args`);
//! - `index`: the member → node index, intrusive (links in the nodes), on the sizing
//!   policy, rehash loop and SCAN cursor of `crate::dict`;
//! - `zset`: [`ZSet`] = skiplist + index;
//! - `check`: the invariants below, verified (tests).
//!
//! Invariants (checked after every operation in the tests by [`SkipList::check`] and
//! [`ZSet::check`]):
//! - the arena holds the header and exactly `len` linked nodes, ids `1..=len`;
//! - at every level the forward chain is strictly increasing, each span equals the rank
//!   difference it covers, and nodes appear at exactly the levels below their height;
//! - backward links mirror level 0; `tail` is the last node (NIL when empty);
//! - every pool block is owned by the node whose `upper` names it;
//! - in a [`ZSet`], each node is in exactly one hash chain, and the members are distinct.
//!
//! Capacity: at most [`MAX_LEN`] (2^32 − 2) members, about 200 GB of sorted set; inserting
//! beyond that aborts like an allocation failure. Scores must never be NaN: the commands
//! reject NaN before reaching here (as Redis does), and the order is undefined with one.

mod arena;
mod check;
mod index;
mod list;
mod range;
mod zset;

pub use arena::{MAX_LEN, NodeId};
pub use list::{Iter, MAX_LEVEL, SkipList};
pub use range::{LexBound, LexRange, ScoreRange};
pub use zset::ZSet;

#[cfg(test)]
mod tests;
