//! Hash commands, as Redis 7.0.15's t_hash.c: HSET HMSET HSETNX HGET HMGET HDEL HLEN
//! HSTRLEN HEXISTS HKEYS HVALS HGETALL HINCRBY HINCRBYFLOAT HRANDFIELD, and HSCAN.
//!
//! Invariants:
//! - A handler that fails has written nothing: argument parsing, WRONGTYPE and value checks
//!   all come before the first reply byte, in Redis's order (e.g. HINCRBY parses its
//!   increment before looking at the key; HSCAN looks the key up before parsing options).
//! - No empty hash is ever stored: writes to a missing key build the hash aside and store it
//!   only once it has a field; HDEL deletes the key with its last field.
//! - Encoding decisions live in [`HashValue`] (`hashTypeTryConversion` / `hashTypeSet`), with
//!   the thresholds read from the live `EngineConfig` at each write.
//! - Effects: `dirty` grows as `server.dirty`, WATCH/keyspace hooks fire where Redis calls
//!   `signalModifiedKey`/`notifyKeyspaceEvent`, and HINCRBYFLOAT propagates as `HSET`.

use super::keys::{insert_scan_head, parse_scan_opts};
use super::{CmdFn, Ctx, bulk_lp};
use crate::engine::Engine;
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::ldouble::{self, LongDouble};
use crate::notify;
use crate::object::hash::Pair;
use crate::object::{HashValue, Value};
use crate::types::listpack::LpValue;
use crate::util::{eq_ic, parse_i64, parse_i64_in, parse_scan_cursor};
use resp::Reply;
use resp::num::fmt_i64;

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("hset", hset),
    ("hmset", hmset),
    ("hsetnx", hsetnx),
    ("hget", hget),
    ("hmget", hmget),
    ("hdel", hdel),
    ("hlen", hlen),
    ("hstrlen", hstrlen),
    ("hexists", hexists),
    ("hkeys", hkeys),
    ("hvals", hvals),
    ("hgetall", hgetall),
    ("hincrby", hincrby),
    ("hincrbyfloat", hincrbyfloat),
    ("hrandfield", hrandfield),
    ("hscan", hscan),
];

const HASH_NOT_INT: CmdError = CmdError::Static("ERR hash value is not an integer");
const HASH_NOT_FLOAT: CmdError = CmdError::Static("ERR hash value is not a float");
const INCR_NAN_OR_INF: CmdError = CmdError::Static("ERR value is NaN or Infinity");
/// HRANDFIELD's WITHVALUES count limit (Redis's bare "value is out of range").
const OUT_OF_RANGE: CmdError = CmdError::Static("ERR value is out of range");

// ---------------------------------------------------------------------------------------
// Lookups and replies

/// `lookupKeyRead` + `checkType(OBJ_HASH)`: `Ok(None)` when missing.
fn read_hash<'e>(
    engine: &'e mut Engine,
    db: usize,
    key: &[u8],
) -> Result<Option<&'e HashValue>, CmdError> {
    let now = engine.now_ms();
    match engine.dbs[db].lookup_read(key, now) {
        None => Ok(None),
        Some(e) => match &e.value {
            Value::Hash(h) => Ok(Some(h)),
            _ => Err(CmdError::WrongType),
        },
    }
}

/// `hashTypeLookupWriteOrCreate` then `f` on the hash. A missing key gets a fresh hash that
/// is stored only if `f` succeeds and leaves it non-empty (Redis adds the empty hash first,
/// but no path can then fail or leave it empty, so the outcome is the same).
fn with_hash_or_create<R>(
    ctx: &mut Ctx<'_>,
    key: &[u8],
    f: impl FnOnce(&mut HashValue) -> Result<R, CmdError>,
) -> Result<R, CmdError> {
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    match db.lookup_write(key, now) {
        Some(e) => match &mut e.value {
            Value::Hash(h) => f(h),
            _ => Err(CmdError::WrongType),
        },
        None => {
            let mut h = HashValue::new();
            let r = f(&mut h)?;
            if !h.is_empty() {
                db.set(key, Value::Hash(h), false);
            }
            Ok(r)
        }
    }
}

/// One HRANDFIELD item: the field, or in WITHVALUES the pair (a nested array of 2 in RESP3).
#[inline]
fn reply_pair(out: &mut Reply<'_>, (f, v): Pair<'_>, withvalues: bool) {
    if withvalues && out.resp3() {
        out.array(2);
    }
    bulk_lp(out, f);
    if withvalues {
        bulk_lp(out, v);
    }
}

// ---------------------------------------------------------------------------------------
// Writes

/// # Format
/// `HSET key field value [field value ...]`
/// # Returns
/// The number of fields created (updates do not count).
fn hset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, args, false)
}

/// # Format
/// `HMSET key field value [field value ...]` (deprecated alias of HSET)
/// # Returns
/// `+OK`.
fn hmset(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, args, true)
}

fn hset_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], ok_reply: bool) -> CmdResult {
    if args.len() % 2 == 1 {
        // Checked here, not by the gate: the table's arity (-4) allows any count.
        let name = if ok_reply { "hmset" } else { "hset" };
        return Err(CmdError::WrongArity(name.to_owned()));
    }
    let key = args[1];
    let limits = ctx.engine.config.hash_limits;
    let created = with_hash_or_create(ctx, key, |h| {
        h.try_conversion(&args[2..], limits);
        let mut created = 0i64;
        for pair in args[2..].chunks_exact(2) {
            created += h.set(pair[0], pair[1], limits) as i64;
        }
        Ok(created)
    })?;
    if ok_reply {
        ctx.out.ok();
    } else {
        ctx.out.int(created);
    }
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hset", key);
    ctx.engine.dirty += (args.len() as u64 - 2) / 2;
    Ok(())
}

/// # Format
/// `HSETNX key field value`
/// # Returns
/// 1 if the field was set, 0 if it already existed (nothing written then).
fn hsetnx(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (key, field, value) = (args[1], args[2], args[3]);
    let limits = ctx.engine.config.hash_limits;
    let set = with_hash_or_create(ctx, key, |h| {
        if h.contains(field) {
            return Ok(false);
        }
        h.try_conversion(&args[2..4], limits);
        h.set(field, value, limits);
        Ok(true)
    })?;
    ctx.out.int(set as i64);
    if set {
        ctx.signal_modified(key);
        ctx.notify(notify::HASH, "hset", key);
        ctx.engine.dirty += 1;
    }
    Ok(())
}

/// # Format
/// `HDEL key field [field ...]`
/// # Returns
/// The number of fields removed. The key goes with its last field (a `del` event follows
/// the `hdel` one, as in Redis).
fn hdel(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let Some(e) = db.lookup_write(key, now) else {
        ctx.out.int(0);
        return Ok(());
    };
    let Value::Hash(h) = &mut e.value else {
        return Err(CmdError::WrongType);
    };
    let mut deleted = 0u64;
    let mut emptied = false;
    for field in &args[2..] {
        if h.delete(field) {
            deleted += 1;
            if h.is_empty() {
                // Redis stops at the last field: later arguments are not looked at.
                emptied = true;
                break;
            }
        }
    }
    ctx.finish_member_removal(key, deleted, emptied, notify::HASH, "hdel");
    Ok(())
}

/// # Format
/// `HINCRBY key field increment`
/// # Returns
/// The new value. A missing field counts as 0; a value that is not a 64-bit integer, or a
/// sum that overflows, is an error.
fn hincrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (key, field) = (args[1], args[2]);
    let incr = parse_i64(args[3])?;
    let limits = ctx.engine.config.hash_limits;
    let value = with_hash_or_create(ctx, key, |h| {
        let old = match h.get(field) {
            Some(v) => v.as_int().ok_or(HASH_NOT_INT)?,
            None => 0,
        };
        let new = old.checked_add(incr).ok_or(CmdError::Overflow)?;
        let mut buf = [0u8; 20];
        h.set(field, fmt_i64(new, &mut buf), limits);
        Ok(new)
    })?;
    ctx.out.int(value);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hincrby", key);
    ctx.engine.dirty += 1;
    Ok(())
}

/// # Format
/// `HINCRBYFLOAT key field increment`
/// # Returns
/// The new value as text, computed in C `long double` and printed as Redis's
/// `ld2string(LD_STR_HUMAN)` (see [`crate::ldouble`]). Propagated as `HSET key field value`
/// so replicas and the AOF never redo the float arithmetic.
fn hincrbyfloat(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (key, field) = (args[1], args[2]);
    let incr = LongDouble::parse(args[3]).ok_or(CmdError::NotFloat)?;
    if !incr.is_finite() {
        return Err(INCR_NAN_OR_INF);
    }
    let limits = ctx.engine.config.hash_limits;
    let mut text = [0u8; ldouble::MAX_CHARS];
    let len = with_hash_or_create(ctx, key, |h| {
        let old = match h.get(field) {
            Some(LpValue::Int(i)) => LongDouble::from_i64(i),
            Some(LpValue::Str(s)) => LongDouble::parse(s).ok_or(HASH_NOT_FLOAT)?,
            None => LongDouble::from_i64(0),
        };
        let sum = old.add(incr);
        if !sum.is_finite() {
            return Err(CmdError::NanOrInfinity);
        }
        let new = sum.format_human(&mut text);
        h.set(field, new, limits);
        Ok(new.len())
    })?;
    let new = &text[..len];
    ctx.out.bulk(new);
    ctx.signal_modified(key);
    ctx.notify(notify::HASH, "hincrbyfloat", key);
    ctx.engine.dirty += 1;
    ctx.engine.propagation.rewrite(&[b"HSET", key, field, new]);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Reads

/// # Format
/// `HGET key field`
/// # Returns
/// The value, or null.
fn hget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    match read_hash(ctx.engine, ctx.session.db, args[1])?.and_then(|h| h.get(args[2])) {
        Some(v) => bulk_lp(&mut ctx.out, v),
        None => ctx.out.null(),
    }
    Ok(())
}

/// # Format
/// `HMGET key field [field ...]`
/// # Returns
/// One value or null per field (all null for a missing key).
fn hmget(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let h = read_hash(ctx.engine, ctx.session.db, args[1])?;
    ctx.out.array(args.len() - 2);
    for field in &args[2..] {
        match h.and_then(|h| h.get(field)) {
            Some(v) => bulk_lp(&mut ctx.out, v),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

/// # Format
/// `HLEN key`
/// # Returns
/// The number of fields (0 for a missing key).
fn hlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = read_hash(ctx.engine, ctx.session.db, args[1])?.map_or(0, |h| h.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `HSTRLEN key field`
/// # Returns
/// The length of the value (0 if the key or field is missing).
fn hstrlen(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = read_hash(ctx.engine, ctx.session.db, args[1])?
        .and_then(|h| h.get(args[2]))
        .map_or(0, |v| v.str_len());
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `HEXISTS key field`
/// # Returns
/// 1 if the field exists, else 0.
fn hexists(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let found =
        read_hash(ctx.engine, ctx.session.db, args[1])?.is_some_and(|h| h.contains(args[2]));
    ctx.out.int(found as i64);
    Ok(())
}

/// What `genericHgetallCommand` returns.
#[derive(Clone, Copy, PartialEq, Eq)]
enum GetAll {
    Keys,
    Values,
    Both,
}

/// `HKEYS key` → array of fields.
fn hkeys(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, args[1], GetAll::Keys)
}

/// `HVALS key` → array of values.
fn hvals(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, args[1], GetAll::Values)
}

/// `HGETALL key` → map of field → value (a flat array in RESP2).
fn hgetall(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, args[1], GetAll::Both)
}

/// Iteration order is the encoding's: insertion order for a listpack, bucket order for a
/// table (as Redis, whose order also differs from insertion order then).
fn hgetall_generic(ctx: &mut Ctx<'_>, key: &[u8], what: GetAll) -> CmdResult {
    let h = read_hash(ctx.engine, ctx.session.db, key)?;
    let out = &mut ctx.out;
    let n = h.map_or(0, |h| h.len());
    if what == GetAll::Both {
        out.map(n);
    } else {
        out.array(n);
    }
    let Some(h) = h else {
        return Ok(());
    };
    for (f, v) in h.iter() {
        if what != GetAll::Values {
            bulk_lp(out, f);
        }
        if what != GetAll::Keys {
            bulk_lp(out, v);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// HRANDFIELD

/// Redis's `HRANDFIELD_SUB_STRATEGY_MUL`: when `count * 3 > size` the hash is copied and
/// trimmed down at random; otherwise distinct fields are drawn at random.
const SUB_STRATEGY_MUL: u64 = 3;

/// # Format
/// `HRANDFIELD key [count [WITHVALUES]]`
/// # Returns
/// Without count: one random field, or null. With a positive count: up to `count` distinct
/// fields; with a negative count: exactly `-count` fields, possibly repeated. WITHVALUES adds
/// each value (RESP2: flat; RESP3: `[field, value]` pairs).
fn hrandfield(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    if args.len() >= 3 {
        // getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX): the count is negated below.
        let l = parse_i64_in(args[2], -i64::MAX, i64::MAX, None)?;
        let withvalues = match args.len() {
            3 => false,
            4 if eq_ic(args[3], "withvalues") => true,
            _ => return Err(CmdError::Syntax),
        };
        // The reply holds 2 * count items: Redis refuses counts where that would overflow.
        if withvalues && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
            return Err(OUT_OF_RANGE);
        }
        return hrandfield_with_count(ctx, args[1], l, withvalues);
    }
    match read_hash(ctx.engine, ctx.session.db, args[1])?.and_then(|h| h.random_pair()) {
        Some((f, _)) => bulk_lp(&mut ctx.out, f),
        None => ctx.out.null(),
    }
    Ok(())
}

/// `hrandfieldWithCountCommand`: the four cases of Redis, chosen the same way.
fn hrandfield_with_count(ctx: &mut Ctx<'_>, key: &[u8], l: i64, withvalues: bool) -> CmdResult {
    let Some(h) = read_hash(ctx.engine, ctx.session.db, key)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let out = &mut ctx.out;
    let size = h.len() as u64;
    let (count, uniq) = if l >= 0 {
        (l as u64, true)
    } else {
        (l.unsigned_abs(), false)
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    let flat = withvalues && !out.resp3();
    let header =
        |out: &mut Reply<'_>, n: u64| out.array(if flat { n as usize * 2 } else { n as usize });

    // Case 1: repetitions allowed (or a single field): independent draws, in draw order.
    if !uniq || count == 1 {
        header(out, count);
        if let HashValue::Listpack(_) = h {
            // Index the pairs once instead of walking the listpack per draw (Redis sorts its
            // draws for one walk; the distribution is the same).
            let pairs: Vec<Pair<'_>> = h.iter().collect();
            for _ in 0..count {
                let i = (crate::dict::random_u64() % pairs.len() as u64) as usize;
                reply_pair(out, pairs[i], withvalues);
            }
        } else {
            for _ in 0..count {
                if let Some(p) = h.random_pair() {
                    reply_pair(out, p, withvalues);
                }
            }
        }
        return Ok(());
    }

    // Case 2: asking for at least every field: the whole hash, in iteration order.
    if count >= size {
        header(out, size);
        for p in h.iter() {
            reply_pair(out, p, withvalues);
        }
        return Ok(());
    }
    header(out, count);
    let count = count as usize;

    // Case 2.5: a listpack samples `count` distinct pairs in one ordered walk.
    if h.lp_sample_unique(count, &mut |p| reply_pair(out, p, withvalues)) {
        return Ok(());
    }

    if count as u64 * SUB_STRATEGY_MUL > size {
        // Case 3: most of the hash: copy it, drop random pairs until `count` remain.
        let mut pairs: Vec<Pair<'_>> = h.iter().collect();
        while pairs.len() > count {
            let i = (crate::dict::random_u64() % pairs.len() as u64) as usize;
            pairs.swap_remove(i);
        }
        for p in pairs {
            reply_pair(out, p, withvalues);
        }
    } else {
        // Case 4: few of many: draw until `count` distinct fields were seen.
        let mut seen: std::collections::HashSet<&[u8]> =
            std::collections::HashSet::with_capacity(count);
        let Some(table) = h.as_table() else {
            return Ok(());
        };
        while seen.len() < count {
            let Some((f, v)) = table.random() else {
                break;
            };
            if seen.insert(f) {
                reply_pair(
                    out,
                    (LpValue::Str(f), LpValue::Str(v.as_bytes())),
                    withvalues,
                );
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// HSCAN

/// Redis's `shared.emptyscan`.
const EMPTY_SCAN: &[u8] = b"*2\r\n$1\r\n0\r\n*0\r\n";

/// # Format
/// `HSCAN key cursor [MATCH pattern] [COUNT count]`
/// # Returns
/// `[next cursor, [field, value, ...]]`. A listpack hash is returned whole with cursor 0
/// (COUNT ignored), as Redis. For a table, COUNT bounds the fields + values *collected*
/// before MATCH filters them (Redis counts list items: two per pair), and at most
/// `10 * COUNT` extra buckets are visited per call. MATCH applies to fields only.
fn hscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut cursor = parse_scan_cursor(args[2])?;
    let Some(h) = read_hash(ctx.engine, ctx.session.db, args[1])? else {
        ctx.out.buf.extend_from_slice(EMPTY_SCAN);
        return Ok(());
    };
    // Options are parsed only for an existing hash, as in Redis.
    let opts = parse_scan_opts(args, 3, false)?;
    let mut out = Reply::new(&mut *ctx.out.buf, ctx.out.proto);
    let start = out.buf.len();
    let mut emitted = 0usize;
    let mut emit = |out: &mut Reply<'_>, f: LpValue<'_>, v: LpValue<'_>| {
        if let Some(p) = opts.pattern {
            let mut buf = [0u8; 20];
            if !glob_match(p, f.as_bytes(&mut buf), false) {
                return;
            }
        }
        bulk_lp(out, f);
        bulk_lp(out, v);
        emitted += 2;
    };
    match h {
        HashValue::Listpack(_) => {
            for (f, v) in h.iter() {
                emit(&mut out, f, v);
            }
            cursor = 0;
        }
        HashValue::Table(d) => {
            let mut collected = 0u64;
            let mut budget = opts.count.saturating_mul(10);
            loop {
                cursor = d.scan(cursor, &mut |f, v| {
                    collected += 2;
                    emit(&mut out, LpValue::Str(f), LpValue::Str(v.as_bytes()));
                });
                if cursor == 0 || budget == 0 || collected >= opts.count {
                    break;
                }
                budget -= 1;
            }
        }
    }
    insert_scan_head(out.buf, start, cursor, emitted);
    Ok(())
}

#[cfg(test)]
#[path = "hash_tests.rs"]
mod tests;
