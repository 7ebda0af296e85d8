//! Set commands, as Redis 7.0.15's t_set.c: SADD SREM SMOVE SISMEMBER SMISMEMBER SCARD
//! SMEMBERS SPOP SRANDMEMBER SINTER SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF SDIFFSTORE
//! SSCAN.
//!
//! Invariants:
//! - A handler that fails has written nothing: lookups and type checks of every key run
//!   before the first byte of the reply (SINTER checks the types of all keys even after a
//!   missing one, as 7.0 does).
//! - Encodings follow Redis (see [`SetValue`]): a new set is an intset iff its first member is
//!   an integer; *STORE results and the temporary sets of SUNION/SDIFF start as intsets and
//!   convert exactly when Redis's would, so `OBJECT ENCODING` of a result matches, and so
//!   does reply order wherever Redis's is deterministic (intsets are sorted).
//! - Keyspace events, WATCH signals and `dirty` follow t_set.c call for call; an empty set is
//!   never left under a key (the key is deleted with a `del` event).
//! - Random commands propagate deterministically: SPOP → `SREM key member`, SPOP with a count
//!   → one SREM per member, as Redis 7.0.15 (or `DEL key` when the whole set goes).

use super::args::Args;
use super::keys::{insert_scan_head, parse_scan_opts};
use super::{CmdFn, Ctx};
use crate::db::Entry;
use crate::dict::{Dict, random_u64};
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify;
use crate::object::Value;
use crate::object::set::{Member, SetValue};
use crate::util::{parse_i64_in, parse_positive, parse_scan_cursor};
use resp::Reply;

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("sadd", sadd),
    ("srem", srem),
    ("smove", smove),
    ("sismember", sismember),
    ("smismember", smismember),
    ("scard", scard),
    ("smembers", sinter),
    ("spop", spop),
    ("srandmember", srandmember),
    ("sinter", sinter),
    ("sintercard", sintercard),
    ("sinterstore", sinterstore),
    ("sunion", sunion),
    ("sunionstore", sunionstore),
    ("sdiff", sdiff),
    ("sdiffstore", sdiffstore),
    ("sscan", sscan),
];

/// Redis's `SPOP_MOVE_STRATEGY_MUL`: SPOP with a count rebuilds the set from the survivors
/// when fewer than count/5 remain.
const SPOP_MOVE_STRATEGY_MUL: u64 = 5;
/// Redis's `SRANDMEMBER_SUB_STRATEGY_MUL`.
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;
/// Members per propagated SREM when SPOP pops many. Redis 7.0.15 propagates one SREM per
/// member (its AOF shows them so; batching came in 7.2).
const SPOP_PROPAGATE_BATCH: usize = 1;

// ---------------------------------------------------------------------------------------------
// Shared helpers

/// The set in a looked-up entry, or WRONGTYPE (Redis's `checkType`).
#[inline]
fn as_set(e: Option<&mut Entry>) -> Result<Option<&mut SetValue>, CmdError> {
    match e {
        None => Ok(None),
        Some(e) => match &mut e.value {
            Value::Set(s) => Ok(Some(s)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// The set stored under a key already looked up by this command (lazy expiry done).
#[inline]
fn set_ref<'d>(db: &'d crate::db::Db, key: &[u8]) -> Option<&'d SetValue> {
    match db.get_ref(key).map(|e| &e.value) {
        Some(Value::Set(s)) => Some(s),
        _ => None,
    }
}

/// Looks every source key up as Redis's multi-key set commands do (`lookupKeyRead` then
/// `checkType`, every key even past a missing one). Returns whether any key was missing.
fn lookup_sources(ctx: &mut Ctx<'_>, keys: &[&[u8]]) -> Result<bool, CmdError> {
    let now = ctx.now_ms();
    let db = ctx.db();
    let mut missing = false;
    for k in keys {
        match db.lookup_read(k, now) {
            None => missing = true,
            Some(e) if !matches!(e.value, Value::Set(_)) => return Err(CmdError::WrongType),
            Some(_) => {}
        }
    }
    Ok(missing)
}

/// Stores a *STORE result as Redis 7.0 does: a non-empty result replaces `dst` (`setKey`,
/// dropping any TTL) with the `event` notification; an empty one deletes `dst` (`del`). Both
/// count one write; replies with the result's size.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: SetValue, event: &'static str) {
    let now = ctx.now_ms();
    let n = result.len();
    if n > 0 {
        ctx.db().set(dst, Value::Set(result), false);
        ctx.signal_modified(dst);
        ctx.out.int(n as i64);
        ctx.notify(notify::SET, event, dst);
        ctx.engine.dirty += 1;
    } else {
        ctx.out.int(0);
        if ctx.db().delete(dst, now) {
            ctx.engine.dirty += 1;
            ctx.signal_modified(dst);
            ctx.notify(notify::GENERIC, "del", dst);
        }
    }
}

/// Replies with every member of `set` as a RESP3 set (RESP2 array).
fn reply_members(out: &mut Reply<'_>, set: &SetValue) {
    out.set(set.len());
    for m in set.iter() {
        m.reply(out);
    }
}

// ---------------------------------------------------------------------------------------------
// SADD SREM SMOVE

/// # Format
/// `SADD key member [member ...]`
/// # Returns
/// The number of members that were not already in the set.
fn sadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms();
    let max = ctx.engine.config.set_max_intset_entries;
    let db = ctx.db();
    let added = match as_set(db.lookup_write(key, now))? {
        Some(s) => args[2..].iter().filter(|m| s.add(m, max)).count(),
        None => {
            let mut s = SetValue::new_for(args[2]);
            let n = args[2..].iter().filter(|m| s.add(m, max)).count();
            db.set(key, Value::Set(s), false);
            n
        }
    };
    if added > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::SET, "sadd", key);
    }
    ctx.engine.dirty += added as u64;
    ctx.out.int(added as i64);
    Ok(())
}

/// # Format
/// `SREM key member [member ...]`
/// # Returns
/// The number of members removed. The key is deleted when the set becomes empty.
fn srem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms();
    let db = ctx.db();
    let Some(s) = as_set(db.lookup_write(key, now))? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0u64;
    let mut emptied = false;
    for m in &args[2..] {
        if s.remove(m) {
            deleted += 1;
            if s.is_empty() {
                emptied = true;
                break;
            }
        }
    }
    ctx.finish_member_removal(key, deleted, emptied, notify::SET, "srem");
    Ok(())
}

/// # Format
/// `SMOVE source destination member`
/// # Returns
/// 1 if the member was moved (or, when source and destination are the same key, is there),
/// else 0.
fn smove(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (src, dst, member) = (args[1], args[2], args[3]);
    let now = ctx.now_ms();
    let max = ctx.engine.config.set_max_intset_entries;
    let db = ctx.db();
    let src_is_set = db
        .lookup_write(src, now)
        .map(|e| matches!(e.value, Value::Set(_)));
    let dst_is_set = db
        .lookup_write(dst, now)
        .map(|e| matches!(e.value, Value::Set(_)));
    let Some(src_is_set) = src_is_set else {
        ctx.out.int(0);
        return Ok(());
    };
    if !src_is_set || dst_is_set == Some(false) {
        return Err(CmdError::WrongType);
    }
    if src == dst {
        let found = set_ref(db, src).is_some_and(|s| s.contains(member));
        ctx.out.int(i64::from(found));
        return Ok(());
    }
    let Ok(Some(s)) = as_set(db.lookup_notouch(src, now)) else {
        ctx.out.int(0);
        return Ok(());
    };
    if !s.remove(member) {
        ctx.out.int(0);
        return Ok(());
    }
    let emptied = s.is_empty();
    ctx.notify(notify::SET, "srem", src);
    if emptied {
        ctx.db().delete(src, now);
        ctx.notify(notify::GENERIC, "del", src);
    }
    let db = ctx.db();
    let added = match as_set(db.lookup_notouch(dst, now)) {
        Ok(Some(d)) => d.add(member, max),
        _ => {
            let mut d = SetValue::new_for(member);
            d.add(member, max);
            db.set(dst, Value::Set(d), false);
            true
        }
    };
    ctx.signal_modified(src);
    ctx.engine.dirty += 1;
    // The destination counts as modified only when the member was new to it: a WATCH on a
    // destination that already had it survives, as in Redis.
    if added {
        ctx.engine.dirty += 1;
        ctx.signal_modified(dst);
        ctx.notify(notify::SET, "sadd", dst);
    }
    ctx.out.int(1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SISMEMBER SMISMEMBER SCARD

/// # Format
/// `SISMEMBER key member`
/// # Returns
/// 1 if the member is in the set, else 0.
fn sismember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let found = as_set(ctx.db().lookup_read(args[1], now))?.is_some_and(|s| s.contains(args[2]));
    ctx.out.int(i64::from(found));
    Ok(())
}

/// # Format
/// `SMISMEMBER key member [member ...]`
/// # Returns
/// An array of 1/0, one per member (all 0 for a missing key).
fn smismember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let set = as_set(db.lookup_read(args[1], now))?;
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        let found = set.as_ref().is_some_and(|s| s.contains(m));
        ctx.out.int(i64::from(found));
    }
    Ok(())
}

/// # Format
/// `SCARD key`
/// # Returns
/// The number of members (0 for a missing key).
fn scard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let n = as_set(ctx.db().lookup_read(args[1], now))?.map_or(0, |s| s.len());
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SPOP SRANDMEMBER

/// # Format
/// `SPOP key [count]`
/// # Returns
/// Without a count, one random member removed from the set (null if the key is missing);
/// with a count, a set of up to `count` distinct removed members.
fn spop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    match args.len() {
        3 => return spop_count(ctx, args),
        n if n > 3 => return Err(CmdError::Syntax),
        _ => {}
    }
    let key = args[1];
    let now = ctx.now_ms();
    let db = ctx.db();
    let Some(s) = as_set(db.lookup_write(key, now))? else {
        ctx.out.null();
        return Ok(());
    };
    let mut buf = [0u8; 20];
    // Owned: the member is removed before it is replied and propagated.
    let member = match s.random() {
        Some(m) => m.as_bytes(&mut buf).to_vec(),
        None => return Err(CmdError::Static("ERR internal error: empty set")),
    };
    s.remove(&member);
    let emptied = s.is_empty();
    ctx.notify(notify::SET, "spop", key);
    ctx.engine.propagation.rewrite(&[b"SREM", key, &member]);
    ctx.out.bulk(&member);
    if emptied {
        ctx.db().delete(key, now);
        ctx.notify(notify::GENERIC, "del", key);
    }
    ctx.signal_modified(key);
    ctx.engine.dirty += 1;
    Ok(())
}

/// Collects SPOP's propagated members into `SREM key m1 m2 ...` commands of at most
/// [`SPOP_PROPAGATE_BATCH`] members.
struct SremBatches<'k> {
    /// Nothing is copied unless propagation has a listener.
    enabled: bool,
    key: &'k [u8],
    argv: Vec<Vec<u8>>,
    done: Vec<Vec<Vec<u8>>>,
}

impl<'k> SremBatches<'k> {
    fn new(key: &'k [u8], enabled: bool) -> Self {
        SremBatches {
            enabled,
            key,
            argv: Vec::new(),
            done: Vec::new(),
        }
    }

    fn push(&mut self, member: Member<'_>) {
        if !self.enabled {
            return;
        }
        if self.argv.is_empty() {
            self.argv.push(b"SREM".to_vec());
            self.argv.push(self.key.to_vec());
        }
        let mut buf = [0u8; 20];
        self.argv.push(member.as_bytes(&mut buf).to_vec());
        if self.argv.len() == 2 + SPOP_PROPAGATE_BATCH {
            self.done.push(std::mem::take(&mut self.argv));
        }
    }

    fn finish(mut self) -> Vec<Vec<Vec<u8>>> {
        if !self.argv.is_empty() {
            self.done.push(self.argv);
        }
        self.done
    }
}

fn spop_count(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let count = parse_positive(args[2])? as u64;
    let now = ctx.now_ms();
    let max = ctx.engine.config.set_max_intset_entries;
    let eng = &mut *ctx.engine;
    let db = &mut eng.dbs[ctx.session.db];
    let Some(s) = as_set(db.lookup_write(key, now))? else {
        ctx.out.set(0);
        return Ok(());
    };
    if count == 0 {
        ctx.out.set(0);
        return Ok(());
    }
    let size = s.len() as u64;
    ctx.notify(notify::SET, "spop", key);
    ctx.engine.dirty += count.min(size);

    if count >= size {
        // The whole set, replied as SUNION of it would (a fresh intset-first copy).
        let eng = &mut *ctx.engine;
        let db = &mut eng.dbs[ctx.session.db];
        if let Some(Value::Set(s)) = db.take(key, now).map(|(v, _)| v) {
            reply_as_union(&mut ctx.out, &s, max);
        }
        ctx.notify(notify::GENERIC, "del", key);
        ctx.engine.propagation.rewrite(&[b"DEL", key]);
        ctx.signal_modified(key);
        return Ok(());
    }

    let eng = &mut *ctx.engine;
    let db = &mut eng.dbs[ctx.session.db];
    let Ok(Some(s)) = as_set(db.lookup_notouch(key, now)) else {
        return Err(CmdError::Static("ERR internal error: set vanished"));
    };
    let out = &mut ctx.out;
    let mut batches = SremBatches::new(key, eng.propagation.listening);
    out.set(count as usize);
    let remaining = size - count;
    let mut buf = [0u8; 20];
    if remaining * SPOP_MOVE_STRATEGY_MUL > count {
        // Few to pop: draw and remove them one by one.
        let mut member = Vec::new();
        for _ in 0..count {
            let Some(m) = s.random() else { break };
            member.clear();
            member.extend_from_slice(m.as_bytes(&mut buf));
            out.bulk(&member);
            batches.push(Member::Bytes(&member));
            s.remove(&member);
        }
    } else {
        // Most of the set goes: draw the survivors into a new set, pop what is left.
        let mut survivors: Option<SetValue> = None;
        let mut member = Vec::new();
        for _ in 0..remaining {
            let Some(m) = s.random() else { break };
            member.clear();
            member.extend_from_slice(m.as_bytes(&mut buf));
            let new = survivors.get_or_insert_with(|| SetValue::new_for(&member));
            new.add(&member, max);
            s.remove(&member);
        }
        for m in s.iter() {
            m.reply(out);
            batches.push(m);
        }
        if let Some(new) = survivors {
            // dbOverwrite: the value changes, the TTL stays.
            db.set(key, Value::Set(new), true);
        }
    }
    let db = ctx.session.db;
    for argv in batches.finish() {
        let argv: Vec<&[u8]> = argv.iter().map(Vec::as_slice).collect();
        ctx.engine.propagation.add(db, &argv);
    }
    ctx.engine.propagation.prevent();
    ctx.signal_modified(key);
    Ok(())
}

/// Replies with `set`'s members in the order SUNION of that one set would: Redis copies
/// them into a fresh intset-first set, so an all-integer hashtable small enough to be an
/// intset comes out sorted.
fn reply_as_union(out: &mut Reply<'_>, set: &SetValue, max_intset: usize) {
    let all_ints = matches!(set, SetValue::Hash(_))
        && set.len() <= max_intset
        && set.iter().all(|m| match m {
            Member::Bytes(b) => crate::object::set::as_int(b).is_some(),
            Member::Int(_) => true,
        });
    if all_ints {
        let mut copy = SetValue::new_intset();
        for m in set.iter() {
            copy.add_member(m, max_intset);
        }
        reply_members(out, &copy);
    } else {
        reply_members(out, set);
    }
}

/// # Format
/// `SRANDMEMBER key [count]`
/// # Returns
/// Without a count, one random member (null if the key is missing). With a positive count,
/// an array of up to `count` distinct members; with a negative count, exactly `-count`
/// members, possibly repeated.
fn srandmember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    match args.len() {
        3 => return srandmember_count(ctx, args),
        n if n > 3 => return Err(CmdError::Syntax),
        _ => {}
    }
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    match as_set(db.lookup_read(args[1], now))?.and_then(|s| s.random()) {
        Some(m) => m.reply(&mut ctx.out),
        None => ctx.out.null(),
    }
    Ok(())
}

fn srandmember_count(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    // getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): the count is negated below.
    let l = parse_i64_in(args[2], -i64::MAX, i64::MAX, None)?;
    let (count, uniq) = (l.unsigned_abs(), l >= 0);
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let Some(s) = as_set(db.lookup_read(args[1], now))? else {
        ctx.out.array(0);
        return Ok(());
    };
    let s: &SetValue = s;
    let out = &mut ctx.out;
    let size = s.len() as u64;
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    // Repeats allowed: independent draws.
    if !uniq || count == 1 {
        out.array(count as usize);
        for _ in 0..count {
            if let Some(m) = s.random() {
                m.reply(out);
            }
        }
        return Ok(());
    }
    // The whole set.
    if count >= size {
        out.array(size as usize);
        for m in s.iter() {
            m.reply(out);
        }
        return Ok(());
    }
    out.array(count as usize);
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // Close to the whole set: start from all members and drop random ones.
        let mut all: Vec<Member<'_>> = s.iter().collect();
        while all.len() as u64 > count {
            let i = (random_u64() % all.len() as u64) as usize;
            all.swap_remove(i);
        }
        for m in all {
            m.reply(out);
        }
    } else {
        // Much smaller than the set: draw until `count` distinct members.
        let mut picked: Dict<()> = Dict::with_capacity(count as usize);
        let mut buf = [0u8; 20];
        while (picked.len() as u64) < count {
            if let Some(m) = s.random() {
                picked.get_or_insert_with(m.as_bytes(&mut buf), || ());
            }
        }
        for (m, _) in picked.iter() {
            out.bulk(m);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// SINTER SMEMBERS SINTERCARD SINTERSTORE

/// What the intersection does with its result.
enum InterMode<'a> {
    Reply,
    Card { limit: u64 },
    Store { dst: &'a [u8] },
}

/// Redis's `sinterGenericCommand`: iterate the smallest set, keep members every other set
/// has.
fn sinter_generic(ctx: &mut Ctx<'_>, keys: &[&[u8]], mode: InterMode<'_>) -> CmdResult {
    let missing = lookup_sources(ctx, keys)?;
    if missing {
        match mode {
            InterMode::Store { dst } => {
                let now = ctx.now_ms();
                if ctx.db().delete(dst, now) {
                    ctx.signal_modified(dst);
                    ctx.notify(notify::GENERIC, "del", dst);
                    ctx.engine.dirty += 1;
                }
                ctx.out.int(0);
            }
            InterMode::Card { .. } => ctx.out.int(0),
            InterMode::Reply => ctx.out.set(0),
        }
        return Ok(());
    }
    let max = ctx.engine.config.set_max_intset_entries;
    let db = &ctx.engine.dbs[ctx.session.db];
    let mut sets: Vec<&SetValue> = keys.iter().filter_map(|k| set_ref(db, k)).collect();
    // Stable, as glibc's qsort (a merge sort) is for equal sizes: which set leads decides
    // the reply order.
    sets.sort_by_key(|s| s.len());
    let (first, rest) = match sets.split_first() {
        Some(x) => x,
        None => return Err(CmdError::Static("ERR internal error: no sets")),
    };
    let in_all = |m: Member<'_>| {
        rest.iter()
            .all(|o| std::ptr::eq(*o, *first) || o.contains_member(m))
    };
    match mode {
        InterMode::Reply => {
            if rest.is_empty() {
                reply_members(&mut ctx.out, first);
                return Ok(());
            }
            let hits: Vec<Member<'_>> = first.iter().filter(|&m| in_all(m)).collect();
            ctx.out.set(hits.len());
            for m in hits {
                m.reply(&mut ctx.out);
            }
        }
        InterMode::Card { limit } => {
            let mut n = 0u64;
            for m in first.iter() {
                if in_all(m) {
                    n += 1;
                    if limit != 0 && n >= limit {
                        break;
                    }
                }
            }
            ctx.out.int(n as i64);
        }
        InterMode::Store { dst } => {
            let mut result = SetValue::new_intset();
            for m in first.iter().filter(|&m| in_all(m)) {
                result.add_member(m, max);
            }
            store_result(ctx, dst, result, "sinterstore");
        }
    }
    Ok(())
}

/// # Format
/// `SINTER key [key ...]`, `SMEMBERS key`
/// # Returns
/// The members common to all sets (a missing key is an empty set).
fn sinter(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sinter_generic(ctx, &args[1..], InterMode::Reply)
}

/// # Format
/// `SINTERSTORE destination key [key ...]`
/// # Returns
/// The size of the intersection stored at `destination` (deleted when empty).
fn sinterstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sinter_generic(ctx, &args[2..], InterMode::Store { dst: args[1] })
}

/// # Format
/// `SINTERCARD numkeys key [key ...] [LIMIT limit]`
/// # Returns
/// The size of the intersection, counting stopped at `limit` when it is not 0.
fn sintercard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let numkeys = parse_i64_in(
        args[1],
        1,
        i64::MAX,
        Some("ERR numkeys should be greater than 0"),
    )? as u64;
    if numkeys > args.len() as u64 - 2 {
        return Err(CmdError::Static(
            "ERR Number of keys can't be greater than number of args",
        ));
    }
    let numkeys = numkeys as usize;
    let mut limit = 0u64;
    let mut opts = Args::new(args, 2 + numkeys);
    while !opts.is_empty() {
        if opts.eat_with("limit", 1) {
            limit = opts.int_in(0, i64::MAX, Some("ERR LIMIT can't be negative"))? as u64;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    sinter_generic(ctx, &args[2..2 + numkeys], InterMode::Card { limit })
}

// ---------------------------------------------------------------------------------------------
// SUNION SDIFF and their STORE forms

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// Redis's `sunionDiffGenericCommand`: builds the result in a temporary intset-first set,
/// then replies with it or stores it.
fn sunion_diff_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    dst: Option<&[u8]>,
    op: SetOp,
) -> CmdResult {
    lookup_sources(ctx, keys)?;
    let max = ctx.engine.config.set_max_intset_entries;
    let db = &ctx.engine.dbs[ctx.session.db];
    let sets: Vec<Option<&SetValue>> = keys.iter().map(|k| set_ref(db, k)).collect();
    let mut result = SetValue::new_intset();
    match op {
        SetOp::Union => {
            for s in sets.iter().flatten() {
                for m in s.iter() {
                    result.add_member(m, max);
                }
            }
        }
        SetOp::Diff => {
            // A key repeated after the first one empties the result.
            let same = keys[1..].iter().any(|k| *k == keys[0]);
            if let (Some(first), false) = (sets[0], same) {
                diff_into(&mut result, first, &sets[1..], max);
            }
        }
    }
    match dst {
        None => reply_members(&mut ctx.out, &result),
        Some(dst) => {
            let event = if op == SetOp::Union {
                "sunionstore"
            } else {
                "sdiffstore"
            };
            store_result(ctx, dst, result, event);
        }
    }
    Ok(())
}

/// `first` minus `others` into `result`, with the algorithm Redis would pick: the choice
/// is visible in the result's encoding (algorithm 2 adds all of `first` before removing, so a
/// large all-integer `first` leaves a hashtable even when little survives).
fn diff_into(result: &mut SetValue, first: &SetValue, others: &[Option<&SetValue>], max: usize) {
    let present = || others.iter().flatten();
    let algo_one_work = (first.len() * (1 + present().count())) / 2;
    let algo_two_work = first.len() + present().map(|s| s.len()).sum::<usize>();
    if algo_one_work <= algo_two_work {
        // Algorithm 1: keep members of `first` no other set has; check the biggest sets
        // first, where a duplicate is likeliest.
        let mut others: Vec<&SetValue> = present().copied().collect();
        others.sort_by_key(|s| std::cmp::Reverse(s.len()));
        for m in first.iter() {
            if !others.iter().any(|o| o.contains_member(m)) {
                result.add_member(m, max);
            }
        }
    } else {
        // Algorithm 2: add `first`, remove everything else, stop once empty.
        for m in first.iter() {
            result.add_member(m, max);
        }
        for o in present() {
            if result.is_empty() {
                break;
            }
            for m in o.iter() {
                result.remove_member(m);
            }
        }
    }
}

/// # Format
/// `SUNION key [key ...]`
/// # Returns
/// The members of any of the sets.
fn sunion(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_diff_generic(ctx, &args[1..], None, SetOp::Union)
}

/// # Format
/// `SUNIONSTORE destination key [key ...]`
/// # Returns
/// The size of the union stored at `destination` (deleted when empty).
fn sunionstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_diff_generic(ctx, &args[2..], Some(args[1]), SetOp::Union)
}

/// # Format
/// `SDIFF key [key ...]`
/// # Returns
/// The members of the first set that no other set has.
fn sdiff(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_diff_generic(ctx, &args[1..], None, SetOp::Diff)
}

/// # Format
/// `SDIFFSTORE destination key [key ...]`
/// # Returns
/// The size of the difference stored at `destination` (deleted when empty).
fn sdiffstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sunion_diff_generic(ctx, &args[2..], Some(args[1]), SetOp::Diff)
}

// ---------------------------------------------------------------------------------------------
// SSCAN

/// # Format
/// `SSCAN key cursor [MATCH pattern] [COUNT count]`
/// # Returns
/// `[next cursor, [members...]]`. An intset is returned whole with cursor 0; a hashtable is
/// walked with the dict's reverse-binary cursor, COUNT bounding the members visited (before
/// MATCH filters them) and at most `10 * COUNT` buckets per call, as Redis.
fn sscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut cursor = parse_scan_cursor(args[2])?;
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let Some(s) = as_set(db.lookup_read(args[1], now))? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    let s: &SetValue = s;
    // Options are parsed only for an existing set, as in Redis.
    let opts = parse_scan_opts(args, 3, false)?;
    let pattern = opts.pattern;
    let mut out = Reply::new(&mut *ctx.out.buf, ctx.out.proto);
    let start = out.buf.len();
    let mut n = 0usize;
    let mut emit = |m: &[u8]| {
        if pattern.is_none_or(|p| glob_match(p, m, false)) {
            out.bulk(m);
            n += 1;
        }
    };
    match s.as_dict() {
        None => {
            let mut buf = [0u8; 20];
            for m in s.iter() {
                emit(m.as_bytes(&mut buf));
            }
            cursor = 0;
        }
        Some(d) => {
            let mut visited = 0u64;
            let mut budget = opts.count.saturating_mul(10);
            loop {
                cursor = d.scan(cursor, &mut |k, _| {
                    visited += 1;
                    emit(k);
                });
                if cursor == 0 || budget == 0 || visited >= opts.count {
                    break;
                }
                budget -= 1;
            }
        }
    }
    insert_scan_head(out.buf, start, cursor, n);
    Ok(())
}

#[cfg(test)]
#[path = "set_tests.rs"]
mod tests;
