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

use super::listpack::{Cursor, Listpack, LpValue};

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

// ---------------------------------------------------------------------------------------
// Operations (t_stream.c's low level API)
// ---------------------------------------------------------------------------------------

/// `stream-node-max-bytes` / `stream-node-max-entries`: when XADD opens a new node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeLimits {
    /// 0 = no byte limit (Redis then uses the listpack ceiling).
    pub max_bytes: usize,
    /// 0 = no entry limit.
    pub max_entries: i64,
}

impl Default for NodeLimits {
    fn default() -> Self {
        NodeLimits {
            max_bytes: 4096,
            max_entries: 100,
        }
    }
}

/// Redis's `STREAM_LISTPACK_MAX_SIZE` (1 GiB): no node (and no entry) may pass it.
pub const LISTPACK_MAX_SIZE: usize = 1 << 30;

/// Why an append failed (XADD's two errors).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppendError {
    /// The ID is not greater than the stream's last ID (`EDOM`).
    NotGreater,
    /// The fields and values are too large for a node (`ERANGE`).
    TooLarge,
}

/// The trimming XADD/XTRIM asked for (`streamAddTrimArgs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrimStrategy {
    MaxLen(u64),
    MinId(StreamId),
}

/// One parsed entry of a node: where it is, what it is.
#[derive(Clone, Copy, Debug)]
struct EntryAt {
    /// Cursor of the entry's flags element.
    flags_at: Cursor,
    flags: i64,
    id: StreamId,
    /// Cursor of the first field (or first value with SAMEFIELDS), if any.
    body: Option<Cursor>,
    /// Number of field/value pairs.
    nfields: usize,
    /// Cursor of the lp-count element.
    lpcount_at: Cursor,
}

/// A node's master entry: where its fields are (the counters are read where needed).
#[derive(Clone, Copy, Debug)]
struct Master {
    nfields: usize,
    /// First master field (if any).
    fields_at: Option<Cursor>,
    /// First entry after the master terminator.
    first_entry: Option<Cursor>,
}

fn read_master(lp: &Listpack) -> Option<Master> {
    let c_count = lp.first()?;
    let c_del = lp.next(c_count)?;
    let c_nf = lp.next(c_del)?;
    let nfields = lp_int(lp.value(c_nf)).max(0) as usize;
    let mut c = lp.next(c_nf)?;
    let fields_at = (nfields > 0).then_some(c);
    for _ in 0..nfields {
        c = lp.next(c)?;
    }
    // `c` is the master terminator now.
    Some(Master {
        nfields,
        fields_at,
        first_entry: lp.next(c),
    })
}

/// Parses the entry whose flags are at `c`.
fn read_entry(lp: &Listpack, master_id: StreamId, m: &Master, c: Cursor) -> Option<EntryAt> {
    let flags = lp_int(lp.value(c));
    let c_ms = lp.next(c)?;
    let c_seq = lp.next(c_ms)?;
    let id = StreamId {
        ms: master_id.ms.wrapping_add(lp_int(lp.value(c_ms)) as u64),
        seq: master_id.seq.wrapping_add(lp_int(lp.value(c_seq)) as u64),
    };
    let mut p = c_seq;
    let (nfields, elems) = if flags & FLAG_SAMEFIELDS != 0 {
        (m.nfields, m.nfields)
    } else {
        p = lp.next(p)?;
        let n = lp_int(lp.value(p)).max(0) as usize;
        (n, n * 2)
    };
    let body = if elems > 0 { lp.next(p) } else { None };
    for _ in 0..elems {
        p = lp.next(p)?;
    }
    let lpcount_at = lp.next(p)?;
    Some(EntryAt {
        flags_at: c,
        flags,
        id,
        body,
        nfields,
        lpcount_at,
    })
}

/// Fills `pairs` with the entry's field/value pairs.
fn entry_pairs<'a>(
    lp: &'a Listpack,
    m: &Master,
    e: &EntryAt,
    pairs: &mut Vec<(LpValue<'a>, LpValue<'a>)>,
) {
    pairs.clear();
    let Some(body) = e.body else { return };
    let mut vals = lp.iter_from(body);
    if e.flags & FLAG_SAMEFIELDS != 0 {
        let Some(fa) = m.fields_at else { return };
        let fields = lp.iter_from(fa);
        for (f, v) in fields.zip(vals.by_ref()).take(e.nfields) {
            pairs.push((f, v));
        }
    } else {
        for _ in 0..e.nfields {
            let (Some(f), Some(v)) = (vals.next(), vals.next()) else {
                return;
            };
            pairs.push((f, v));
        }
    }
}

/// The entry before the one whose flags are at `flags_at` (walking back with lp-count), or
/// None at the master entry.
fn prev_entry(lp: &Listpack, flags_at: Cursor) -> Option<Cursor> {
    let lpc = lp.prev(flags_at)?;
    entry_start_from_lpcount(lp, lpc)
}

/// The flags cursor of the entry whose lp-count element is at `lpc` (None when `lpc` is the
/// master terminator, whose value is 0).
fn entry_start_from_lpcount(lp: &Listpack, lpc: Cursor) -> Option<Cursor> {
    let n = lp_int(lp.value(lpc));
    if n <= 0 {
        return None;
    }
    let mut c = lpc;
    for _ in 0..n {
        c = lp.prev(c)?;
    }
    Some(c)
}

/// Calls `f(entry)` for each entry (deleted too) of a node, in order; `f` returns false
/// to stop. Returns false if stopped.
fn walk_entries(
    lp: &Listpack,
    master_id: StreamId,
    rev: bool,
    f: &mut dyn FnMut(&Master, &EntryAt) -> bool,
) -> bool {
    let Some(m) = read_master(lp) else {
        return true;
    };
    if !rev {
        let mut c = m.first_entry;
        while let Some(at) = c {
            let Some(e) = read_entry(lp, master_id, &m, at) else {
                return true;
            };
            if !f(&m, &e) {
                return false;
            }
            c = lp.next(e.lpcount_at);
        }
    } else {
        let mut c = lp.last().and_then(|l| entry_start_from_lpcount(lp, l));
        while let Some(at) = c {
            let Some(e) = read_entry(lp, master_id, &m, at) else {
                return true;
            };
            if !f(&m, &e) {
                return false;
            }
            c = prev_entry(lp, at);
        }
    }
    true
}

impl StreamId {
    /// `streamIncrID`: the next ID, or None past the last possible one.
    pub fn incr(self) -> Option<StreamId> {
        if self.seq == u64::MAX {
            if self.ms == u64::MAX {
                return None;
            }
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            Some(StreamId::new(self.ms, self.seq + 1))
        }
    }

    /// `streamDecrID`: the previous ID, or None before 0-0.
    pub fn decr(self) -> Option<StreamId> {
        if self.seq == 0 {
            if self.ms == 0 {
                return None;
            }
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            Some(StreamId::new(self.ms, self.seq - 1))
        }
    }

    pub fn is_zero(self) -> bool {
        self.ms == 0 && self.seq == 0
    }

    /// `ms-seq` into `buf` (at most 41 bytes).
    pub fn format(self, buf: &mut [u8; 48]) -> &[u8] {
        let mut a = [0u8; 20];
        let ms = resp::num::fmt_u64(self.ms, &mut a);
        let n1 = ms.len();
        buf[..n1].copy_from_slice(ms);
        buf[n1] = b'-';
        let seq = resp::num::fmt_u64(self.seq, &mut a);
        buf[n1 + 1..n1 + 1 + seq.len()].copy_from_slice(seq);
        &buf[..n1 + 1 + seq.len()]
    }

    pub fn to_vec(self) -> Vec<u8> {
        let mut b = [0u8; 48];
        self.format(&mut b).to_vec()
    }
}

impl std::fmt::Display for StreamId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// C's `strtoull` in base 10 on a whole string, as Redis's `string2ull` uses it: `string2ll`
/// first (a negative value refused), then `strtoull` (leading white space, a sign — a `-`
/// negating modulo 2^64 —, digits to the end, overflow refused).
pub fn string2ull(s: &[u8]) -> Option<u64> {
    if let Some(v) = resp::num::parse_i64(s) {
        return (v >= 0).then_some(v as u64);
    }
    let mut i = 0;
    while i < s.len() && crate::util::is_c_space(s[i]) {
        i += 1;
    }
    let mut neg = false;
    if i < s.len() && (s[i] == b'+' || s[i] == b'-') {
        neg = s[i] == b'-';
        i += 1;
    }
    let digits = &s[i..];
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
    }
    Some(if neg { v.wrapping_neg() } else { v })
}

/// A parsed ID argument (`streamGenericParseIDOrReply`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedId {
    pub id: StreamId,
    /// False for the `ms-*` form (only where allowed).
    pub seq_given: bool,
}

/// Parses an ID argument: `-`, `+` (unless `strict`), `ms`, `ms-seq`, and `ms-*` when
/// `allow_star_seq`. A missing seq reads as `missing_seq`. The argument is a C string (it
/// ends at its first NUL) of at most 127 bytes.
pub fn parse_id(
    arg: &[u8],
    missing_seq: u64,
    strict: bool,
    allow_star_seq: bool,
) -> Option<ParsedId> {
    if arg.len() > 127 {
        return None;
    }
    let buf = crate::util::c_str(arg);
    if buf == b"-" || buf == b"+" {
        if strict {
            return None;
        }
        let id = if buf == b"-" {
            StreamId::MIN
        } else {
            StreamId::MAX
        };
        return Some(ParsedId {
            id,
            seq_given: true,
        });
    }
    let (ms_part, seq_part) = match buf.iter().position(|&b| b == b'-') {
        Some(p) => (&buf[..p], Some(&buf[p + 1..])),
        None => (buf, None),
    };
    let ms = string2ull(ms_part)?;
    let mut seq_given = true;
    let seq = match seq_part {
        Some(b"*") if allow_star_seq => {
            seq_given = false;
            0
        }
        Some(s) => string2ull(s)?,
        None => missing_seq,
    };
    Some(ParsedId {
        id: StreamId::new(ms, seq),
        seq_given,
    })
}

impl Stream {
    pub fn new() -> Self {
        Stream::default()
    }

    /// `streamAppendItem`: appends an entry of `fields` (field, value, field, value…) with
    /// the ID `id` (must be greater than `last_id`), opening a new node under Redis's
    /// policy. Updates length, last/first ID and entries-added.
    pub fn append(
        &mut self,
        id: StreamId,
        fields: &[&[u8]],
        limits: NodeLimits,
    ) -> Result<(), AppendError> {
        if id <= self.last_id {
            return Err(AppendError::NotGreater);
        }
        let numfields = fields.len() / 2;
        let totelelen: usize = fields.iter().map(|f| f.len()).sum();
        if totelelen > LISTPACK_MAX_SIZE {
            return Err(AppendError::TooLarge);
        }
        let mut node_max_bytes = limits.max_bytes;
        if node_max_bytes == 0 || node_max_bytes > LISTPACK_MAX_SIZE {
            node_max_bytes = LISTPACK_MAX_SIZE;
        }
        let mut tail = self.nodes.last_key_value().map(|(k, _)| *k);
        if let Some(k) = tail {
            let lp = &self.nodes[&k];
            let mut new_node = lp.total_bytes() + totelelen >= node_max_bytes;
            if !new_node && limits.max_entries != 0 {
                let count = lp.get(0).map(lp_int).unwrap_or(0) + lp.get(1).map(lp_int).unwrap_or(0);
                new_node = count >= limits.max_entries;
            }
            if new_node {
                if let Some(lp) = self.nodes.get_mut(&k) {
                    lp.shrink_to_fit();
                }
                tail = None;
            }
        }
        let mut flags = 0i64;
        let master_id;
        let lp = match tail {
            None => {
                master_id = id;
                // Redis preallocates a new node (STREAM_LISTPACK_MAX_PRE_ALLOCATE) and shrinks
                // it when the next node opens: no reallocation while it fills, and the
                // shrunk-away blocks are the next node's.
                let mut prealloc = 4096;
                if limits.max_bytes > 0 && limits.max_bytes < prealloc {
                    prealloc = limits.max_bytes;
                }
                let mut lp = Listpack::with_capacity(prealloc);
                lp.push_back_int(1);
                lp.push_back_int(0);
                lp.push_back_int(numfields as i64);
                for i in 0..numfields {
                    lp.push_back(fields[i * 2]);
                }
                lp.push_back_int(0);
                flags |= FLAG_SAMEFIELDS;
                self.nodes.entry(id).or_insert(lp)
            }
            Some(k) => {
                master_id = k;
                let lp = self.nodes.get_mut(&k).expect("tail node");
                let c = lp.first().expect("master entry");
                let count = lp_int(lp.value(c));
                lp.replace_int(c, count + 1);
                let m = read_master(lp).expect("master entry");
                if m.nfields == numfields {
                    let mut same = true;
                    if let Some(fa) = m.fields_at {
                        for (i, f) in lp.iter_from(fa).take(numfields).enumerate() {
                            if !f.eq_bytes(fields[i * 2]) {
                                same = false;
                                break;
                            }
                        }
                    }
                    if same {
                        flags |= FLAG_SAMEFIELDS;
                    }
                }
                lp
            }
        };
        let same = flags & FLAG_SAMEFIELDS != 0;
        lp.push_back_int(flags);
        lp.push_back_int(id.ms.wrapping_sub(master_id.ms) as i64);
        lp.push_back_int(id.seq.wrapping_sub(master_id.seq) as i64);
        if !same {
            lp.push_back_int(numfields as i64);
        }
        for i in 0..numfields {
            if !same {
                lp.push_back(fields[i * 2]);
            }
            lp.push_back(fields[i * 2 + 1]);
        }
        let mut lp_count = numfields as i64 + 3;
        if !same {
            lp_count += numfields as i64 + 1;
        }
        lp.push_back_int(lp_count);
        self.length += 1;
        self.entries_added += 1;
        self.last_id = id;
        if self.length == 1 {
            self.first_id = id;
        }
        Ok(())
    }

    /// Walks live entries with IDs in `start..=end`, forward or backward (`rev`), calling
    /// `f(id, pairs)`; `f` returns false to stop.
    pub fn range<'a>(
        &'a self,
        start: StreamId,
        end: StreamId,
        rev: bool,
        f: &mut dyn FnMut(StreamId, &Fields<'a>) -> bool,
    ) {
        if start > end {
            return;
        }
        let mut pairs = Vec::new();
        if !rev {
            // The node holding `start` is the last one whose master ID is <= start.
            let from = self
                .nodes
                .range(..=start)
                .next_back()
                .map(|(k, _)| *k)
                .unwrap_or(start);
            for (master, lp) in self.nodes.range(from..) {
                if *master > end {
                    return;
                }
                let mut stop = false;
                walk_entries(lp, *master, false, &mut |m, e| {
                    if e.id > end {
                        stop = true;
                        return false;
                    }
                    if e.id < start || e.flags & FLAG_DELETED != 0 {
                        return true;
                    }
                    entry_pairs(lp, m, e, &mut pairs);
                    if !f(e.id, &pairs) {
                        stop = true;
                        return false;
                    }
                    true
                });
                if stop {
                    return;
                }
            }
        } else {
            for (master, lp) in self.nodes.range(..=end).rev() {
                let mut stop = false;
                walk_entries(lp, *master, true, &mut |m, e| {
                    if e.id < start {
                        stop = true;
                        return false;
                    }
                    if e.id > end || e.flags & FLAG_DELETED != 0 {
                        return true;
                    }
                    entry_pairs(lp, m, e, &mut pairs);
                    if !f(e.id, &pairs) {
                        stop = true;
                        return false;
                    }
                    true
                });
                if stop {
                    return;
                }
            }
        }
    }

    /// Whether a live entry with `id` exists.
    pub fn contains(&self, id: StreamId) -> bool {
        let mut found = false;
        self.range(id, id, false, &mut |_, _| {
            found = true;
            false
        });
        found
    }

    /// `streamGetEdgeID`: the first (or last) entry's ID, deleted ones included unless
    /// `skip_tombstones`; None when there is none.
    pub fn edge_id(&self, first: bool, skip_tombstones: bool) -> Option<StreamId> {
        let mut found = None;
        let mut visit = |master: &StreamId, lp: &Listpack| {
            walk_entries(lp, *master, !first, &mut |_, e| {
                if skip_tombstones && e.flags & FLAG_DELETED != 0 {
                    return true;
                }
                found = Some(e.id);
                false
            });
            found.is_some()
        };
        if first {
            for (master, lp) in &self.nodes {
                if visit(master, lp) {
                    break;
                }
            }
        } else {
            for (master, lp) in self.nodes.iter().rev() {
                if visit(master, lp) {
                    break;
                }
            }
        }
        found
    }

    /// `streamDeleteItem` + `streamIteratorRemoveEntry`: flags the entry deleted and
    /// updates its node's counters (dropping a node left with no live entry). Does not
    /// touch `first_id` / `max_deleted_entry_id` (the callers do, as Redis's do).
    pub fn delete(&mut self, id: StreamId) -> bool {
        let Some((&master, _)) = self.nodes.range(..=id).next_back() else {
            return false;
        };
        let lp = self.nodes.get_mut(&master).expect("node");
        let mut hit = None;
        walk_entries(lp, master, false, &mut |_, e| {
            if e.id > id {
                return false;
            }
            if e.id == id && e.flags & FLAG_DELETED == 0 {
                hit = Some((e.flags_at, e.flags));
                return false;
            }
            true
        });
        let Some((at, flags)) = hit else {
            return false;
        };
        lp.replace_int(at, flags | FLAG_DELETED);
        let c = lp.first().expect("master");
        let count = lp_int(lp.value(c));
        if count == 1 {
            self.nodes.remove(&master);
        } else {
            let c = lp.replace_int(c, count - 1);
            let c = lp.next(c).expect("deleted counter");
            let del = lp_int(lp.value(c));
            lp.replace_int(c, del + 1);
        }
        self.length -= 1;
        true
    }

    /// `streamTrim`: removes entries from the head by `strategy`; with `approx` only whole
    /// nodes; `limit` (0 = none) bounds the entries removed (whole nodes only). Returns the
    /// number removed and updates `first_id`.
    pub fn trim(&mut self, strategy: TrimStrategy, approx: bool, limit: i64) -> i64 {
        let mut deleted: i64 = 0;
        loop {
            if let TrimStrategy::MaxLen(maxlen) = strategy
                && self.length <= maxlen
            {
                break;
            }
            let Some((&master, lp)) = self.nodes.first_key_value() else {
                break;
            };
            let entries = lp.get(0).map(lp_int).unwrap_or(0);
            if limit != 0 && deleted + entries > limit {
                break;
            }
            let remove_node = match strategy {
                TrimStrategy::MaxLen(maxlen) => self.length - entries as u64 >= maxlen,
                TrimStrategy::MinId(minid) => {
                    // The node's last entry, deleted or not (`lpGetEdgeStreamID`).
                    let mut last = master;
                    walk_entries(lp, master, true, &mut |_, e| {
                        last = e.id;
                        false
                    });
                    last < minid
                }
            };
            if remove_node {
                self.nodes.remove(&master);
                self.length -= entries as u64;
                deleted += entries;
                continue;
            }
            if approx {
                break;
            }
            // Flag entries inside this node.
            let lp = self.nodes.get_mut(&master).expect("node");
            let mut to_flag: Vec<(Cursor, i64)> = Vec::new();
            let mut length = self.length;
            walk_entries(lp, master, false, &mut |_, e| {
                let stop = match strategy {
                    TrimStrategy::MaxLen(maxlen) => length <= maxlen,
                    TrimStrategy::MinId(minid) => e.id >= minid,
                };
                if stop {
                    return false;
                }
                if e.flags & FLAG_DELETED == 0 {
                    to_flag.push((e.flags_at, e.flags | FLAG_DELETED));
                    length -= 1;
                }
                true
            });
            // Same-size replacements (flags stay one byte): cursors remain valid.
            for &(at, fl) in &to_flag {
                lp.replace_int(at, fl);
            }
            let n = to_flag.len() as i64;
            self.length = length;
            deleted += n;
            let c = lp.first().expect("master");
            let c = lp.replace_int(c, entries - n);
            let c = lp.next(c).expect("deleted counter");
            let del = lp_int(lp.value(c));
            lp.replace_int(c, del + n);
            break;
        }
        if deleted > 0 {
            self.first_id = if self.length == 0 {
                StreamId::MIN
            } else {
                self.edge_id(true, true).unwrap_or(StreamId::MIN)
            };
        }
        deleted
    }

    /// `streamRangeHasTombstones`.
    pub fn range_has_tombstones(&self, start: StreamId, end: StreamId) -> bool {
        if self.length == 0 || self.max_deleted_entry_id.is_zero() {
            return false;
        }
        if self.first_id > self.max_deleted_entry_id {
            return false;
        }
        start <= self.max_deleted_entry_id && self.max_deleted_entry_id <= end
    }

    /// `streamEstimateDistanceFromFirstEverEntry`: the entries-read counter of `id`, or
    /// None when it cannot be known.
    pub fn estimate_distance(&self, id: StreamId) -> Option<i64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.length == 0 && id <= self.last_id {
            return Some(self.entries_added as i64);
        }
        if id == self.last_id {
            return Some(self.entries_added as i64);
        } else if id > self.last_id {
            return None;
        }
        if self.max_deleted_entry_id.is_zero() || self.max_deleted_entry_id < self.first_id {
            if id < self.first_id {
                return Some((self.entries_added - self.length) as i64);
            } else if id == self.first_id {
                return Some((self.entries_added - self.length + 1) as i64);
            }
        }
        None
    }

    /// The group `name`, if any.
    pub fn group(&self, name: &[u8]) -> Option<&ConsumerGroup> {
        self.groups.as_ref()?.get(name)
    }

    pub fn group_mut(&mut self, name: &[u8]) -> Option<&mut ConsumerGroup> {
        self.groups.as_mut()?.get_mut(name)
    }

    /// Number of consumer groups.
    pub fn group_count(&self) -> usize {
        self.groups.as_ref().map_or(0, |g| g.len())
    }
}

/// `SCG_INVALID_ENTRIES_READ`.
pub const INVALID_ENTRIES_READ: i64 = -1;

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: i64) -> Self {
        ConsumerGroup {
            last_id,
            entries_read,
            pel: BTreeMap::new(),
            consumers: BTreeMap::new(),
        }
    }
}
