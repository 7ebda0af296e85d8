//! Streams in RDB (`RDB_TYPE_STREAM_LISTPACKS` 15 from Redis 5/6 and
//! `RDB_TYPE_STREAM_LISTPACKS_2` 19 from 7.0), read as Redis 7.0.15's `rdbLoadObject` reads
//! them, into `engine::types::stream::Stream`.
//!
//! Every node is validated as Redis's deep `streamValidateListpackIntegrity` does, and more
//! (the engine walks nodes trusting their shape): the master entry, each entry's flags, ID
//! deltas, field counts and `lp-count`, the node's live/deleted counters, IDs strictly
//! increasing through the stream and not below their node's master ID, and the stream's
//! length equal to its live entries. Every pending entry of a group must belong to exactly
//! one consumer.

use super::{Reader, Result};
use engine::types::listpack::{Listpack, LpValue};
use engine::types::stream::{
    Consumer, ConsumerGroup, FLAG_DELETED, FLAG_SAMEFIELDS, PendingEntry, Stream, StreamId,
};
use std::collections::BTreeMap;

/// `SCG_INVALID_ENTRIES_READ`.
const INVALID_ENTRIES_READ: i64 = -1;

fn id_pair(r: &mut Reader<'_>) -> Result<StreamId> {
    Ok(StreamId::new(r.len()?, r.len()?))
}

fn raw_id(r: &mut Reader<'_>) -> Result<StreamId> {
    Ok(StreamId::from_be_bytes(&r.array::<16>()?))
}

/// `rdbLoadMillisecondTime`: 8 bytes, little-endian.
fn ms_time(r: &mut Reader<'_>) -> Result<i64> {
    Ok(i64::from_le_bytes(r.array()?))
}

/// Reads a stream value of type `t` (15 or 19).
pub(super) fn load_stream(r: &mut Reader<'_>, t: u8) -> Result<Stream> {
    let v2 = t == super::ty::STREAM_LISTPACKS_2;
    let mut st = Stream::default();
    let nodes = r.len()?;
    let mut prev: Option<StreamId> = None;
    let mut live: u64 = 0;
    let mut first_live: Option<StreamId> = None;
    for _ in 0..nodes {
        let at = r.pos;
        let key = r.string()?;
        let Ok(key) = <&[u8; 16]>::try_from(&key[..]) else {
            return Err(r.err(at, "Stream node key entry is not the size of a stream ID"));
        };
        let master = StreamId::from_be_bytes(key);
        let at = r.pos;
        let blob = r.string()?;
        let lp = Listpack::from_bytes(blob.into_owned())
            .map_err(|_| r.err(at, "Stream listpack integrity check failed."))?;
        if lp.is_empty() {
            return Err(r.err(at, "Empty listpack inside stream"));
        }
        let node = check_node(master, &lp, &mut prev)
            .ok_or_else(|| r.err(at, "Stream listpack integrity check failed."))?;
        live += node.live;
        if first_live.is_none() {
            first_live = node.first_live;
        }
        if st.nodes.insert(master, lp).is_some() {
            return Err(r.err(at, "Listpack re-added with existing key"));
        }
    }
    let at = r.pos;
    st.length = r.len()?;
    if st.length != live {
        return Err(r.err(at, "Stream length inconsistent with rax entries"));
    }
    st.last_id = id_pair(r)?;
    if prev.is_some_and(|p| p > st.last_id) {
        return Err(r.err(at, "Stream last ID below its entries"));
    }
    if v2 {
        st.first_id = id_pair(r)?;
        st.max_deleted_entry_id = id_pair(r)?;
        let at = r.pos;
        st.entries_added = r.len()?;
        // More entries than were ever added: the lag arithmetic would wrap.
        if st.entries_added < st.length {
            return Err(r.err(at, "Stream entries added below its length"));
        }
    } else {
        // As Redis migrates an old stream: everything ever added is what is there.
        st.entries_added = st.length;
    }
    if !v2 || st.length > 0 {
        // The engine relies on first_id naming the first live entry.
        st.first_id = first_live.unwrap_or_default();
    }
    let ngroups = r.len()?;
    if ngroups == 0 {
        return Ok(st);
    }
    let mut groups: BTreeMap<Box<[u8]>, ConsumerGroup> = BTreeMap::new();
    for _ in 0..ngroups {
        let at = r.pos;
        let name: Box<[u8]> = r.string()?.into_owned().into_boxed_slice();
        let last_id = id_pair(r)?;
        let entries_read = if v2 {
            r.len()? as i64
        } else {
            st.estimate_distance(last_id)
                .unwrap_or(INVALID_ENTRIES_READ)
        };
        let mut g = ConsumerGroup {
            last_id,
            entries_read,
            ..Default::default()
        };
        let npel = r.len()?;
        for _ in 0..npel {
            let at = r.pos;
            let id = raw_id(r)?;
            let pe = PendingEntry {
                delivery_time: ms_time(r)?,
                delivery_count: r.len()?,
                consumer: Box::default(),
            };
            if g.pel.insert(id, pe).is_some() {
                return Err(r.err(
                    at,
                    "Duplicated global PEL entry loading stream consumer group",
                ));
            }
        }
        let mut owned = 0u64;
        let nconsumers = r.len()?;
        for _ in 0..nconsumers {
            let at = r.pos;
            let cname: Box<[u8]> = r.string()?.into_owned().into_boxed_slice();
            let mut c = Consumer {
                seen_time: ms_time(r)?,
                ..Default::default()
            };
            let n = r.len()?;
            for _ in 0..n {
                let at = r.pos;
                let id = raw_id(r)?;
                let Some(pe) = g.pel.get_mut(&id) else {
                    return Err(r.err(at, "Consumer entry not found in group global PEL"));
                };
                if !pe.consumer.is_empty() || !c.pel.insert(id) {
                    return Err(r.err(
                        at,
                        "Duplicated consumer PEL entry loading a stream consumer group",
                    ));
                }
                pe.consumer = cname.clone();
                owned += 1;
            }
            if g.consumers.insert(cname, c).is_some() {
                return Err(r.err(at, "Duplicate stream consumer detected."));
            }
        }
        // An empty consumer name is legal in Redis, so ownership is counted, not inferred
        // from the names.
        if owned != g.pel.len() as u64 {
            return Err(r.err(at, "Stream CG PEL entry without consumer"));
        }
        if groups.insert(name, g).is_some() {
            return Err(r.err(at, "Duplicated consumer group name"));
        }
    }
    st.groups = Some(Box::new(groups));
    Ok(st)
}

/// What a node's walk found.
struct NodeCheck {
    live: u64,
    first_live: Option<StreamId>,
}

fn int(v: Option<LpValue<'_>>) -> Option<i64> {
    match v? {
        LpValue::Int(i) => Some(i),
        LpValue::Str(_) => None,
    }
}

/// Walks one node, checking its shape (see the module comment); `prev` is the greatest ID
/// seen so far in the stream, live or deleted.
fn check_node(master: StreamId, lp: &Listpack, prev: &mut Option<StreamId>) -> Option<NodeCheck> {
    let mut it = lp.iter();
    let count = int(it.next())?;
    let deleted = int(it.next())?;
    let nmaster = int(it.next())?;
    if count < 0 || deleted < 0 || nmaster < 0 {
        return None;
    }
    for _ in 0..nmaster {
        it.next()?;
    }
    if int(it.next())? != 0 {
        return None;
    }
    let (mut seen_live, mut seen_deleted) = (0i64, 0i64);
    let mut first_live = None;
    while let Some(flags) = it.next() {
        let flags = match flags {
            LpValue::Int(f) if (0..=3).contains(&f) => f,
            _ => return None,
        };
        let ms = int(it.next())?;
        let seq = int(it.next())?;
        // Deltas are stored as the two's-complement of u64 differences, as Redis does.
        let id = StreamId::new(
            master.ms.wrapping_add(ms as u64),
            master.seq.wrapping_add(seq as u64),
        );
        if id < master || prev.is_some_and(|p| id <= p) {
            return None;
        }
        *prev = Some(id);
        let fields = if flags & FLAG_SAMEFIELDS != 0 {
            for _ in 0..nmaster {
                it.next()?;
            }
            nmaster + 3
        } else {
            let n = int(it.next())?;
            if n < 0 {
                return None;
            }
            for _ in 0..n.checked_mul(2)? {
                it.next()?;
            }
            n * 2 + 4
        };
        if int(it.next())? != fields {
            return None;
        }
        if flags & FLAG_DELETED != 0 {
            seen_deleted += 1;
        } else {
            seen_live += 1;
            first_live.get_or_insert(id);
        }
    }
    (seen_live == count && seen_deleted == deleted).then_some(NodeCheck {
        live: count as u64,
        first_live,
    })
}
