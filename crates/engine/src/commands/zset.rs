//! Sorted-set commands, as Redis 7.0.15's t_zset.c: ZADD/ZINCRBY, removal (ZREM,
//! ZREMRANGEBY*), lookups (ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT), ranges
//! (ZRANGE and its legacy forms, ZRANGESTORE), pops (ZPOPMIN ZPOPMAX ZMPOP), ZRANDMEMBER,
//! the set algebra (ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD) and ZSCAN.
//!
//! Invariants:
//! - A handler that fails has written nothing: arguments are parsed and types checked
//!   before the first reply byte, in Redis's order (so the same error wins).
//! - No empty sorted set stays in the keyspace: a command that empties one deletes the key.
//! - Writes bump `engine.dirty` as Redis bumps `server.dirty`, call the WATCH / keyspace
//!   event / blocked-client hooks where t_zset.c does, and ZMPOP propagates as
//!   ZPOPMIN/ZPOPMAX with a count.
//! - Ranges are resolved to an interval of ascending ranks first, then walked in the asked
//!   direction, so both encodings share one emission path and the reply length is known
//!   before writing.
//!
//! Input sets of the set algebra: Redis also accepts plain sets (score 1); sets are not
//! readable from here yet, so they are WRONGTYPE for now.
//!
//! Layout: this file holds the registration list, the shared helpers, ZADD/ZINCRBY, ZREM,
//! the member lookups, pops (blocking too), ZRANDMEMBER and ZSCAN; `zset_range.rs` the
//! ZRANGE family, ZRANGESTORE, ZCOUNT/ZLEXCOUNT and ZREMRANGEBY*; `zset_setops.rs` the set
//! algebra. Score and lex bounds are parsed in `zrange_args.rs`; options go through the
//! [`Args`] cursor.

use super::args::Args;
use super::{CmdFn, Ctx};
use crate::blocking::{BlockKind, BlockRequest, TimeoutReply, parse_timeout};
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify;
use crate::object::Value;
use crate::object::zset::{AddFlags, AddOutcome, ZLimits, ZSetValue};
use crate::util::{parse_f64, parse_i64_in, parse_positive, parse_scan_cursor};

#[path = "zset_range.rs"]
mod range;
#[path = "zset_setops.rs"]
mod setops;

use range::*;
use setops::*;

pub const COMMANDS: &[(&str, CmdFn)] = &[
    ("zadd", zadd),
    ("zincrby", zincrby),
    ("zrem", zrem),
    ("zcard", zcard),
    ("zscore", zscore),
    ("zmscore", zmscore),
    ("zrank", zrank),
    ("zrevrank", zrevrank),
    ("zcount", zcount),
    ("zlexcount", zlexcount),
    ("zrange", zrange),
    ("zrangestore", zrangestore),
    ("zrevrange", zrevrange),
    ("zrangebyscore", zrangebyscore),
    ("zrevrangebyscore", zrevrangebyscore),
    ("zrangebylex", zrangebylex),
    ("zrevrangebylex", zrevrangebylex),
    ("zremrangebyrank", zremrangebyrank),
    ("zremrangebyscore", zremrangebyscore),
    ("zremrangebylex", zremrangebylex),
    ("zpopmin", zpopmin),
    ("zpopmax", zpopmax),
    ("zmpop", zmpop),
    ("bzpopmin", bzpopmin),
    ("bzpopmax", bzpopmax),
    ("bzmpop", bzmpop),
    ("zrandmember", zrandmember),
    ("zunion", zunion),
    ("zinter", zinter),
    ("zdiff", zdiff),
    ("zunionstore", zunionstore),
    ("zinterstore", zinterstore),
    ("zdiffstore", zdiffstore),
    ("zintercard", zintercard),
    ("zscan", zscan),
];

const ERR_NAN: CmdError = CmdError::Static("ERR resulting score is not a number (NaN)");

// ---------------------------------------------------------------------------------------
// Shared helpers

#[inline]
fn as_zset(v: &Value) -> Result<&ZSetValue, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(CmdError::WrongType),
    }
}

#[inline]
fn as_zset_mut(v: &mut Value) -> Result<&mut ZSetValue, CmdError> {
    match v {
        Value::ZSet(z) => Ok(z),
        _ => Err(CmdError::WrongType),
    }
}

/// `lookupKeyRead` + `checkType`: `Ok(None)` for a missing key.
pub(super) fn read_zset<'a>(
    engine: &'a mut crate::engine::Engine,
    db: usize,
    key: &[u8],
) -> Result<Option<&'a ZSetValue>, CmdError> {
    let now = engine.now_ms();
    match engine.dbs[db].lookup_read(key, now) {
        None => Ok(None),
        Some(e) => as_zset(&e.value).map(Some),
    }
}

/// `lookupKeyWrite` + `checkType`.
fn write_zset<'a>(ctx: &'a mut Ctx<'_>, key: &[u8]) -> Result<Option<&'a mut ZSetValue>, CmdError> {
    let now = ctx.now_ms();
    match ctx.engine.dbs[ctx.session.db].lookup_write(key, now) {
        None => Ok(None),
        Some(e) => as_zset_mut(&mut e.value).map(Some),
    }
}

/// Deletes `key` (emptied by the command) and sends the generic `del` event.
fn delete_emptied(ctx: &mut Ctx<'_>, key: &[u8]) {
    let now = ctx.now_ms();
    ctx.db().delete(key, now);
    ctx.notify(notify::GENERIC, "del", key);
}

/// Writes `n` (member, score) elements as a range reply: a flat array (scores doubled in
/// RESP2), or `[member, score]` pairs in RESP3.
fn range_header(ctx: &mut Ctx<'_>, n: usize, withscores: bool) {
    if withscores && !ctx.out.resp3() {
        ctx.out.array(2 * n);
    } else {
        ctx.out.array(n);
    }
}

#[inline]
fn emit(out: &mut resp::Reply<'_>, m: &[u8], s: f64, withscores: bool) {
    if withscores && out.resp3() {
        out.array(2);
    }
    out.bulk(m);
    if withscores {
        out.double(s);
    }
}

/// The limits the engine is configured with.
#[inline]
fn limits(ctx: &Ctx<'_>) -> ZLimits {
    ctx.engine.config.zset_limits
}

/// Stores a computed sorted set at `dst` (or deletes `dst` when it is empty) and replies
/// with its length, as `zrangeResultFinalizeStore` and the store branch of
/// `zunionInterDiffGenericCommand`: one change.
pub(super) fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: ZSetValue, event: &'static str) {
    store_result_counting(ctx, dst, result, event, 1);
}

/// [`store_result`] counting `changes` when it stores (GEORADIUS ... STORE and
/// GEOSEARCHSTORE count one per member, as Redis); a delete counts one.
pub(super) fn store_result_counting(
    ctx: &mut Ctx<'_>,
    dst: &[u8],
    result: ZSetValue,
    event: &'static str,
    changes: u64,
) {
    let n = result.len();
    let now = ctx.now_ms();
    if n > 0 {
        let existed = ctx.db().lookup_write(dst, now).is_some();
        ctx.db().set(dst, Value::ZSet(result), false);
        ctx.signal_modified(dst);
        if !existed {
            ctx.signal_ready(dst);
        }
        ctx.out.int(n as i64);
        ctx.notify(notify::ZSET, event, dst);
        ctx.engine.dirty += changes;
    } else {
        ctx.out.int(0);
        if ctx.db().delete(dst, now) {
            ctx.signal_modified(dst);
            ctx.notify(notify::GENERIC, "del", dst);
            ctx.engine.dirty += 1;
        }
    }
}

// ---------------------------------------------------------------------------------------
// ZADD ZINCRBY

/// # Format
/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
/// # Returns
/// Added elements (changed ones too with CH); with INCR the new score, or null if refused.
pub(super) fn zadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, args, 2, AddFlags::default())
}

/// # Format
/// `ZINCRBY key increment member`
fn zincrby(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zadd_generic(
        ctx,
        args,
        2,
        AddFlags {
            incr: true,
            ..Default::default()
        },
    )
}

/// `zaddGenericCommand`.
fn zadd_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], idx: usize, mut f: AddFlags) -> CmdResult {
    let key = args[1];
    let mut ch = false;
    // ZINCRBY parses ZADD's options too (Redis runs both through zaddGenericCommand):
    // `ZINCRBY k NX m` leaves one argument after the options, a syntax error, not a bad float.
    let mut a = Args::new(args, idx);
    loop {
        if a.eat("nx") {
            f.nx = true;
        } else if a.eat("xx") {
            f.xx = true;
        } else if a.eat("ch") {
            ch = true;
        } else if a.eat("incr") {
            f.incr = true;
        } else if a.eat("gt") {
            f.gt = true;
        } else if a.eat("lt") {
            f.lt = true;
        } else {
            break;
        }
    }
    let rest = &args[a.pos()..];
    if rest.is_empty() || !rest.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let elements = rest.len() / 2;
    if f.nx && f.xx {
        return Err(CmdError::Static(
            "ERR XX and NX options at the same time are not compatible",
        ));
    }
    if (f.nx && (f.gt || f.lt)) || (f.gt && f.lt) {
        return Err(CmdError::Static(
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if f.incr && elements > 1 {
        return Err(CmdError::Static(
            "ERR INCR option supports a single increment-element pair",
        ));
    }
    // Every score is checked before anything changes.
    for pair in rest.chunks_exact(2) {
        parse_f64(pair[0])?;
    }
    let lim = limits(ctx);
    let now = ctx.now_ms();
    let db = ctx.session.db;
    let mut created = false;
    let exists = match ctx.engine.dbs[db].lookup_write(key, now) {
        Some(e) => {
            as_zset(&e.value)?;
            true
        }
        None => false,
    };
    if !exists {
        if f.xx {
            if f.incr {
                ctx.out.null();
            } else {
                ctx.out.int(0);
            }
            return Ok(());
        }
        // Redis 7.0 picks the encoding from the first member alone.
        let z = if lim.max_entries == 0 || lim.max_value < rest[1].len() {
            ZSetValue::new_skiplist()
        } else {
            ZSetValue::new_for(0, 0, lim)
        };
        ctx.engine.dbs[db].set(key, Value::ZSet(z), false);
        created = true;
    }
    let Some(Value::ZSet(z)) = ctx.engine.dbs[db]
        .lookup_write(key, now)
        .map(|e| &mut e.value)
    else {
        unreachable!("zset just checked or created")
    };
    let (mut added, mut updated, mut processed) = (0i64, 0i64, 0i64);
    let mut score = 0.0;
    let mut nan = false;
    for pair in rest.chunks_exact(2) {
        let s = parse_f64(pair[0])?;
        let (out, new) = z.add(pair[1], s, f, lim);
        match out {
            AddOutcome::Nan => {
                nan = true;
                break;
            }
            AddOutcome::Added => added += 1,
            AddOutcome::Updated => updated += 1,
            AddOutcome::Same | AddOutcome::Nop => {}
        }
        if out != AddOutcome::Nop {
            processed += 1;
        }
        score = new;
    }
    ctx.engine.dirty += (added + updated) as u64;
    if created {
        ctx.signal_ready(key);
    }
    if added + updated > 0 {
        ctx.signal_modified(key);
        ctx.notify(notify::ZSET, if f.incr { "zincr" } else { "zadd" }, key);
    }
    if nan {
        return Err(ERR_NAN);
    }
    if f.incr {
        if processed > 0 {
            ctx.out.double(score);
        } else {
            ctx.out.null();
        }
    } else {
        ctx.out.int(if ch { added + updated } else { added });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK

/// # Format
/// `ZREM key member [member ...]`
fn zrem(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let key = args[1];
    let Some(z) = write_zset(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let mut deleted = 0u64;
    let mut emptied = false;
    for m in &args[2..] {
        if z.remove(m) {
            deleted += 1;
        }
        if z.is_empty() {
            emptied = true;
            break;
        }
    }
    if deleted > 0 {
        ctx.notify(notify::ZSET, "zrem", key);
        if emptied {
            delete_emptied(ctx, key);
        }
        ctx.signal_modified(key);
        ctx.engine.dirty += deleted;
    }
    ctx.out.int(deleted as i64);
    Ok(())
}

/// # Format
/// `ZCARD key`
fn zcard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = read_zset(ctx.engine, ctx.session.db, args[1])?.map_or(0, |z| z.len());
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `ZSCORE key member`
fn zscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    match read_zset(ctx.engine, ctx.session.db, args[1])?.and_then(|z| z.score(args[2])) {
        Some(s) => ctx.out.double(s),
        None => ctx.out.null(),
    }
    Ok(())
}

/// # Format
/// `ZMSCORE key member [member ...]`
fn zmscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms();
    let db = &mut ctx.engine.dbs[ctx.session.db];
    let z = match db.lookup_read(args[1], now) {
        None => None,
        Some(e) => Some(as_zset(&e.value)?),
    };
    ctx.out.array(args.len() - 2);
    for m in &args[2..] {
        match z.and_then(|z| z.score(m)) {
            Some(s) => ctx.out.double(s),
            None => ctx.out.null(),
        }
    }
    Ok(())
}

fn rank_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], rev: bool) -> CmdResult {
    let r = match read_zset(ctx.engine, ctx.session.db, args[1])? {
        None => None,
        Some(z) => z
            .rank(args[2])
            .map(|(r, _)| if rev { z.len() - 1 - r } else { r }),
    };
    match r {
        Some(r) => ctx.out.int(r as i64),
        None => ctx.out.null(),
    }
    Ok(())
}

/// # Format
/// `ZRANK key member`
fn zrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, args, false)
}

/// # Format
/// `ZREVRANK key member`
fn zrevrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    rank_generic(ctx, args, true)
}

// ---------------------------------------------------------------------------------------
// ZPOPMIN ZPOPMAX ZMPOP

/// The reply shapes of `genericZpopCommand`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PopShape {
    /// ZPOPMIN/ZPOPMAX: flat `[member, score, ...]` (pairs in RESP3 with a count).
    Plain,
    /// BZPOPMIN/BZPOPMAX: `[key, member, score]`.
    KeyFlat,
    /// ZMPOP/BZMPOP: `[key, [[member, score] ...]]`.
    KeyNested,
}

/// `genericZpopCommand`. `count` is None for the plain single pop; `nil_when_empty` selects
/// ZMPOP's null reply. The propagated form is ZPOPMIN/ZPOPMAX (with the count when given)
/// for every form but the plain one, which propagates as sent.
fn zpop_generic(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    rev: bool,
    count: Option<i64>,
    shape: PopShape,
    nil_when_empty: bool,
) -> CmdResult {
    let emitkey = shape != PopShape::Plain;
    let now = ctx.now_ms();
    let db = ctx.session.db;
    let mut found = None;
    for &k in keys {
        if !ctx.engine.serves(k) {
            continue;
        }
        if let Some(e) = ctx.engine.dbs[db].lookup_write(k, now) {
            as_zset(&e.value)?;
            found = Some(k);
            break;
        }
    }
    let Some(key) = found else {
        if nil_when_empty {
            ctx.out.null_array();
        } else {
            ctx.out.array(0);
        }
        return Ok(());
    };
    if count == Some(0) {
        ctx.out.array(0);
        return Ok(());
    }
    let nested = shape == PopShape::KeyNested || (ctx.out.resp3() && count.is_some());
    let want = count.unwrap_or(1) as usize;
    let Some(Value::ZSet(z)) = ctx.engine.dbs[db]
        .lookup_notouch(key, now)
        .map(|e| &mut e.value)
    else {
        unreachable!("zset found above")
    };
    let n = want.min(z.len());
    if shape == PopShape::KeyNested {
        ctx.out.array(2);
        ctx.out.bulk(key);
        ctx.out.array(n);
    } else if shape == PopShape::KeyFlat {
        ctx.out.array(2 * n + 1);
        ctx.out.bulk(key);
    } else if nested {
        ctx.out.array(n);
    } else {
        ctx.out.array(2 * n);
    }
    for _ in 0..n {
        let Some((m, s)) = z.pop(rev) else { break };
        if nested {
            ctx.out.array(2);
        }
        ctx.out.bulk(&m);
        ctx.out.double(s);
    }
    let emptied = z.is_empty();
    ctx.engine.dirty += n as u64;
    ctx.notify(notify::ZSET, if rev { "zpopmax" } else { "zpopmin" }, key);
    ctx.signal_modified(key);
    if emptied {
        delete_emptied(ctx, key);
    }
    if emitkey {
        let mut b = [0u8; 20];
        let c = resp::num::fmt_i64(n as i64, &mut b);
        let name: &[u8] = if rev { b"ZPOPMAX" } else { b"ZPOPMIN" };
        if count.is_some() {
            ctx.engine.propagation.rewrite(&[name, key, c]);
        } else {
            ctx.engine.propagation.rewrite(&[name, key]);
        }
    }
    Ok(())
}

fn zpop_cmd(ctx: &mut Ctx<'_>, args: &[&[u8]], rev: bool) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.get(2) {
        Some(c) => Some(parse_positive(c)?),
        None => None,
    };
    zpop_generic(ctx, &args[1..2], rev, count, PopShape::Plain, false)
}

/// # Format
/// `ZPOPMIN key [count]`
fn zpopmin(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zpop_cmd(ctx, args, false)
}

/// # Format
/// `ZPOPMAX key [count]`
fn zpopmax(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zpop_cmd(ctx, args, true)
}

/// # Format
/// `ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]`
fn zmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (keys, rev, count) = parse_zmpop(args, 1)?;
    zpop_generic(ctx, keys, rev, Some(count), PopShape::KeyNested, true)
}

/// `zmpopGenericCommand`'s parsing from the numkeys argument at `numkeys_idx`: the keys,
/// MAX?, and the count (1 when absent).
fn parse_zmpop<'a, 'b>(
    args: &'a [&'b [u8]],
    numkeys_idx: usize,
) -> Result<(&'a [&'b [u8]], bool, i64), CmdError> {
    let numkeys = parse_i64_in(
        args[numkeys_idx],
        1,
        i64::MAX,
        Some("ERR numkeys should be greater than 0"),
    )?;
    let where_idx = (numkeys as u64).saturating_add(numkeys_idx as u64 + 1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let mut a = Args::new(args, where_idx);
    let rev = if a.eat("min") {
        false
    } else if a.eat("max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    while !a.is_empty() {
        if count.is_none() && a.eat_with("count", 1) {
            count = Some(a.int_in(1, i64::MAX, Some("ERR count should be greater than 0"))?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok((&args[numkeys_idx + 1..where_idx], rev, count.unwrap_or(1)))
}

/// `blockingGenericZpopCommand`: serve from the first non-empty key like the non-blocking
/// form, else answer null at once (no blocking allowed) or ask the server to park the client.
fn blocking_zpop(
    ctx: &mut Ctx<'_>,
    keys: &[&[u8]],
    timeout: &[u8],
    rev: bool,
    count: Option<i64>,
) -> CmdResult {
    let deadline = parse_timeout(timeout, ctx.engine.now_ms())?;
    let now = ctx.now_ms();
    let db = ctx.session.db;
    for &k in keys {
        if !ctx.engine.serves(k) {
            continue;
        }
        if let Some(e) = ctx.engine.dbs[db].lookup_write(k, now) {
            as_zset(&e.value)?;
            let shape = if count.is_some() {
                PopShape::KeyNested
            } else {
                PopShape::KeyFlat
            };
            return zpop_generic(ctx, &[k], rev, count, shape, true);
        }
    }
    if ctx.session.no_block {
        ctx.out.null_array();
        return Ok(());
    }
    ctx.engine.block = Some(BlockRequest {
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        timeout_at_ms: deadline,
        timeout_reply: TimeoutReply::NullArray,
        kind: BlockKind::ZSet,
        stream: None,
        argv: None,
    });
    Ok(())
}

/// # Format
/// `BZPOPMIN key [key ...] timeout`
/// # Returns
/// `[key, member, score]`, or a null array on timeout.
fn bzpopmin(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = args.len();
    blocking_zpop(ctx, &args[1..n - 1], args[n - 1], false, None)
}

/// # Format
/// `BZPOPMAX key [key ...] timeout`
fn bzpopmax(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let n = args.len();
    blocking_zpop(ctx, &args[1..n - 1], args[n - 1], true, None)
}

/// # Format
/// `BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]`
fn bzmpop(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let (keys, rev, count) = parse_zmpop(args, 2)?;
    blocking_zpop(ctx, keys, args[1], rev, Some(count))
}

// ---------------------------------------------------------------------------------------
// ZRANDMEMBER

/// A random index below `n` (n > 0).
#[inline]
fn rand_below(n: usize) -> usize {
    (crate::dict::random_u64() % n as u64) as usize
}

/// # Format
/// `ZRANDMEMBER key [count [WITHSCORES]]`
fn zrandmember(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut a = Args::new(args, 2);
    if !a.is_empty() {
        let l = a.int()?;
        if l == i64::MIN {
            return Err(CmdError::ValueOutOfRange {
                min: -i64::MAX,
                max: i64::MAX,
            });
        }
        let withscores = a.eat("withscores");
        if !a.is_empty() {
            return Err(CmdError::Syntax);
        }
        if withscores && !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
            return Err(CmdError::Static("ERR value is out of range"));
        }
        return zrandmember_count(ctx, args[1], l, withscores);
    }
    let Some(z) = read_zset(ctx.engine, ctx.session.db, args[1])? else {
        ctx.out.null();
        return Ok(());
    };
    let r = rand_below(z.len());
    let out = &mut ctx.out;
    z.for_ranks(r, 1, false, &mut |m, _| {
        out.bulk(m);
        false
    });
    Ok(())
}

/// `zrandmemberWithCountCommand`.
fn zrandmember_count(ctx: &mut Ctx<'_>, key: &[u8], count: i64, withscores: bool) -> CmdResult {
    let Some(z) = read_zset(ctx.engine, ctx.session.db, key)? else {
        ctx.out.array(0);
        return Ok(());
    };
    let size = z.len();
    let resp3 = ctx.out.resp3();
    let out = &mut ctx.out;
    let head = |out: &mut resp::Reply<'_>, n: usize| {
        if withscores && !resp3 {
            out.array(2 * n);
        } else {
            out.array(n);
        }
    };
    if count == 0 {
        out.array(0);
        return Ok(());
    }
    if count < 0 {
        // Repetitions allowed: independent draws.
        let n = count.unsigned_abs() as usize;
        head(out, n);
        for _ in 0..n {
            z.for_ranks(rand_below(size), 1, false, &mut |m, s| {
                emit(out, m, s, withscores);
                false
            });
        }
        return Ok(());
    }
    let count = count as usize;
    if count >= size {
        head(out, size);
        z.for_ranks(0, size, false, &mut |m, s| {
            emit(out, m, s, withscores);
            true
        });
        return Ok(());
    }
    // Distinct ranks: a partial Fisher-Yates over the rank space when the count is a large
    // share of the set, random probing otherwise (both as Redis's cases 3 and 4).
    let mut ranks: Vec<usize> = if count * 3 > size {
        let mut all: Vec<usize> = (0..size).collect();
        for i in 0..count {
            let j = i + rand_below(size - i);
            all.swap(i, j);
        }
        all.truncate(count);
        all
    } else {
        let mut seen = std::collections::HashSet::with_capacity(count);
        let mut v = Vec::with_capacity(count);
        while v.len() < count {
            let r = rand_below(size);
            if seen.insert(r) {
                v.push(r);
            }
        }
        v
    };
    head(out, ranks.len());
    for r in ranks.drain(..) {
        z.for_ranks(r, 1, false, &mut |m, s| {
            emit(out, m, s, withscores);
            false
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZSCAN

/// # Format
/// `ZSCAN key cursor [MATCH pattern] [COUNT count]`
/// # Returns
/// `[next cursor, [member, score, ...]]`, scores as bulk strings in `%.17g`. A listpack is
/// returned whole with cursor 0, as Redis does.
fn zscan(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let mut cursor = parse_scan_cursor(args[2])?;
    let Some(z) = read_zset(ctx.engine, ctx.session.db, args[1])? else {
        ctx.out.array(2);
        ctx.out.bulk(b"0");
        ctx.out.array(0);
        return Ok(());
    };
    // Options are parsed only for an existing sorted set, as in Redis (a missing key
    // answers the empty scan whatever follows the cursor).
    let opts = super::keys::parse_scan_opts(args, 3, false)?;
    let mut items: Vec<(Vec<u8>, f64)> = Vec::new();
    match z.as_skiplist() {
        None => {
            z.for_each(&mut |m, s| items.push((m.to_vec(), s)));
            cursor = 0;
        }
        Some(zs) => {
            // COUNT bounds the collected list, which holds members and scores (2 per
            // element), at most 10 × COUNT buckets per call.
            let mut budget = opts.count.saturating_mul(10);
            loop {
                cursor = zs.scan(cursor, &mut |m, s| items.push((m.to_vec(), s)));
                if cursor == 0 || budget == 0 || (items.len() as u64) * 2 >= opts.count {
                    break;
                }
                budget -= 1;
            }
        }
    }
    if let Some(p) = opts.pattern {
        items.retain(|(m, _)| glob_match(p, m, false));
    }
    ctx.out.array(2);
    let mut b = [0u8; 20];
    ctx.out.bulk(resp::num::fmt_u64(cursor, &mut b));
    ctx.out.array(items.len() * 2);
    let mut fb = [0u8; 32];
    for (m, s) in &items {
        ctx.out.bulk(m);
        ctx.out.bulk(resp::num::fmt_g17(*s, &mut fb));
    }
    Ok(())
}

#[cfg(test)]
#[path = "zset_tests.rs"]
mod tests;
