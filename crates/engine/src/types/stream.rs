//! Streams in Redis 7.0's layout (t_stream.c / stream.h), so RDB and DUMP carry the nodes
//! as the very listpacks Redis writes (RDB type 19, `STREAM_LISTPACKS_2`).
//!
//! Entries live in nodes: each node is one listpack keyed, in an ordered index, by its
//! *master ID* (the ID of the first entry ever inserted into it). Redis keys a radix tree by
//! the 16-byte big-endian master ID; a `BTreeMap<StreamId, _>` gives the same order and
//! costs about as little per node (a node holds up to `stream-node-max-entries` entries).
//!
//! A node's listpack, exactly as Redis writes it:
//! ```text
//! master entry:  count  deleted  num-fields  field_1 … field_N  0
//! each entry:    flags  ms-diff  seq-diff  [num-fields  field_1 value_1 …]  lp-count
//!                (with SAMEFIELDS in flags only the values follow: value_1 … value_N)
//! ```
//! `count` is the number of live entries, `deleted` the number flagged DELETED; ms/seq
//! diffs are relative to the master ID; `lp-count` is the number of listpack elements of
//! the entry before it (so the node can be walked backwards). Flags: 1 DELETED, 2
//! SAMEFIELDS.
//!
//! Consumer groups keep Redis's bookkeeping: a group's last delivered ID and entries-read
//! counter, its pending entries list (PEL: ID → delivery time, count, owning consumer), and
//! its consumers, each with a seen time and its own PEL (the IDs it owns).

use std::collections::{BTreeMap, BTreeSet};

use super::listpack::{Listpack, LpValue};

/// An entry's field/value pairs as a node stores them.
pub type Fields<'a> = [(LpValue<'a>, LpValue<'a>)];

/// A stream entry ID, `ms-seq`. Ordered as Redis orders them (ms, then seq).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StreamId {
    pub ms: u64,
    pub seq: u64,
}

impl StreamId {
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    pub const fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The 16-byte big-endian form Redis uses as a radix-tree key (and RDB writes as the
    /// node key).
    pub fn to_be_bytes(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&self.ms.to_be_bytes());
        b[8..].copy_from_slice(&self.seq.to_be_bytes());
        b
    }

    pub fn from_be_bytes(b: &[u8; 16]) -> Self {
        let mut ms = [0u8; 8];
        let mut seq = [0u8; 8];
        ms.copy_from_slice(&b[..8]);
        seq.copy_from_slice(&b[8..]);
        StreamId {
            ms: u64::from_be_bytes(ms),
            seq: u64::from_be_bytes(seq),
        }
    }
}

/// A stream value (Redis's `stream`).
#[derive(Clone, Debug, Default)]
pub struct Stream {
    /// The nodes, keyed by master ID; each listpack in the layout above.
    pub nodes: BTreeMap<StreamId, Listpack>,
    /// Live entries.
    pub length: u64,
    /// The greatest ID ever added (or set by XSETID); 0-0 while nothing was.
    pub last_id: StreamId,
    /// The first live entry's ID, 0-0 when empty.
    pub first_id: StreamId,
    /// The greatest ID ever deleted (XDEL, trimming).
    pub max_deleted_entry_id: StreamId,
    /// All-time count of entries added.
    pub entries_added: u64,
    /// Consumer groups by name, in name order (as Redis's rax lists them). `None` until the
    /// first group is created: most streams have none.
    pub groups: Option<Box<BTreeMap<Box<[u8]>, ConsumerGroup>>>,
}

/// A consumer group (Redis's `streamCG`).
#[derive(Clone, Debug, Default)]
pub struct ConsumerGroup {
    /// Last ID delivered to a consumer of the group (`>` reads after it).
    pub last_id: StreamId,
    /// Entries read so far (7.0's lag bookkeeping); `-1` (`SCG_INVALID_ENTRIES_READ`) when
    /// unknown.
    pub entries_read: i64,
    /// Pending entries: delivered, not yet acknowledged.
    pub pel: BTreeMap<StreamId, PendingEntry>,
    /// Consumers by name, in name order.
    pub consumers: BTreeMap<Box<[u8]>, Consumer>,
}

/// One pending entry of a group (Redis's `streamNACK`).
#[derive(Clone, Debug)]
pub struct PendingEntry {
    /// Unix ms of the last delivery.
    pub delivery_time: i64,
    pub delivery_count: u64,
    /// The consumer that owns it (a key of the group's `consumers`; that consumer's `pel`
    /// holds this ID).
    pub consumer: Box<[u8]>,
}

/// A consumer (Redis 7.0's `streamConsumer`).
#[derive(Clone, Debug, Default)]
pub struct Consumer {
    /// Unix ms of its last interaction (read or claim).
    pub seen_time: i64,
    /// The IDs it owns; each is also a key of the group's `pel`.
    pub pel: BTreeSet<StreamId>,
}

/// Entry flags in a node (`STREAM_ITEM_FLAG_*`).
pub const FLAG_DELETED: i64 = 1;
pub const FLAG_SAMEFIELDS: i64 = 2;

fn lp_int(v: LpValue<'_>) -> i64 {
    v.as_int().unwrap_or(0)
}

impl Stream {
    /// Heap bytes owned beyond the `Stream` header (MEMORY USAGE): the nodes' listpacks, an
    /// estimate of the index's own nodes, and the groups.
    pub fn heap_size(&self) -> usize {
        use crate::util::malloc_size;
        // A BTreeMap leaf holds up to 11 entries; count one leaf per 8 as an average.
        let per_node = std::mem::size_of::<(StreamId, Listpack)>() * 11 / 8;
        let mut n: usize = self
            .nodes
            .values()
            .map(|lp| lp.heap_size() + per_node)
            .sum();
        if let Some(groups) = &self.groups {
            n += malloc_size(std::mem::size_of_val(&**groups));
            for (name, g) in groups.iter() {
                n += malloc_size(name.len()) + std::mem::size_of::<ConsumerGroup>();
                for pe in g.pel.values() {
                    n += std::mem::size_of::<(StreamId, PendingEntry)>() + pe.consumer.len();
                }
                for (cname, c) in &g.consumers {
                    n += malloc_size(cname.len())
                        + std::mem::size_of::<Consumer>()
                        + c.pel.len() * std::mem::size_of::<StreamId>();
                }
            }
        }
        n
    }

    /// Calls `f` with each live entry in ID order: its ID and its field/value pairs. The
    /// pairs slice is reused between calls (one allocation per walk).
    pub fn for_each_entry<'a>(&'a self, f: &mut dyn FnMut(StreamId, &Fields<'a>)) {
        let mut pairs = Vec::new();
        for (master, lp) in &self.nodes {
            walk_node(*master, lp, &mut pairs, f);
        }
    }
}

/// Walks one node's live entries (see the layout in the module comment).
fn walk_node<'a>(
    master: StreamId,
    lp: &'a Listpack,
    pairs: &mut Vec<(LpValue<'a>, LpValue<'a>)>,
    f: &mut dyn FnMut(StreamId, &Fields<'a>),
) {
    let mut it = lp.iter();
    let (Some(_count), Some(_deleted), Some(nmaster)) = (it.next(), it.next(), it.next()) else {
        return;
    };
    let nmaster = lp_int(nmaster).max(0) as usize;
    let master_fields: Vec<_> = it.by_ref().take(nmaster).collect();
    it.next(); // the master entry's terminating 0
    while let Some(flags) = it.next() {
        let flags = lp_int(flags);
        let (Some(ms), Some(seq)) = (it.next(), it.next()) else {
            return;
        };
        let id = StreamId {
            ms: master.ms.wrapping_add(lp_int(ms) as u64),
            seq: master.seq.wrapping_add(lp_int(seq) as u64),
        };
        pairs.clear();
        if flags & FLAG_SAMEFIELDS != 0 {
            for fld in &master_fields {
                let Some(v) = it.next() else { return };
                pairs.push((*fld, v));
            }
        } else {
            let n = it.next().map(lp_int).unwrap_or(0).max(0) as usize;
            for _ in 0..n {
                let (Some(k), Some(v)) = (it.next(), it.next()) else {
                    return;
                };
                pairs.push((k, v));
            }
        }
        it.next(); // lp-count
        if flags & FLAG_DELETED == 0 {
            f(id, pairs);
        }
    }
}
