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

use super::{CmdFn, Ctx};
use crate::blocking::{BlockKind, BlockRequest, TimeoutReply, parse_timeout};
use crate::error::{CmdError, CmdResult};
use crate::glob::glob_match;
use crate::notify;
use crate::object::Value;
use crate::object::zset::{AddFlags, AddOutcome, ZLimits, ZSetValue};
use crate::types::skiplist::{LexRange, ScoreRange};
use crate::util::{parse_f64, parse_f64_opt, parse_i64, parse_scan_cursor};
use std::collections::HashMap;

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

const ERR_MINMAX_FLOAT: CmdError = CmdError::Static("ERR min or max is not a float");
const ERR_MINMAX_LEX: CmdError = CmdError::Static("ERR min or max not valid string range item");
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
fn read_zset<'a>(
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

/// Compares an option as Redis's `strcasecmp` does: the C string stops at a NUL byte.
#[inline]
fn opt_is(arg: &[u8], kw: &str) -> bool {
    let end = memchr::memchr(0, arg).unwrap_or(arg.len());
    arg[..end].eq_ignore_ascii_case(kw.as_bytes())
}

/// A score as `getDoubleFromObject`: whole string, no leading space, no NaN, and — as
/// `strtod`'s ERANGE check — no overflow to infinity nor underflow to zero.
fn parse_score(s: &[u8]) -> Result<f64, CmdError> {
    let v = parse_f64(s)?;
    if v.is_infinite() && !s.iter().any(|b| b.eq_ignore_ascii_case(&b'i')) {
        return Err(CmdError::NotFloat);
    }
    if v == 0.0 && s.iter().any(|b| (b'1'..=b'9').contains(b)) && !has_zero_mantissa(s) {
        return Err(CmdError::NotFloat);
    }
    Ok(v)
}

/// Whether the digits before any exponent are all zero (`0e5` is a genuine zero, `1e-400`
/// an underflow).
fn has_zero_mantissa(s: &[u8]) -> bool {
    let end = s
        .iter()
        .position(|b| b.eq_ignore_ascii_case(&b'e'))
        .unwrap_or(s.len());
    s[..end].iter().all(|b| !(b'1'..=b'9').contains(b))
}

/// One end of a score range as `zslParseRange`'s `strtod`: leading space allowed, the empty
/// string reads 0, NaN refused.
fn parse_bound(s: &[u8]) -> Option<f64> {
    if s.is_empty() {
        return Some(0.0);
    }
    let t = match s.iter().position(|b| !b" \t\n\x0b\x0c\r".contains(b)) {
        Some(i) => &s[i..],
        None => return None,
    };
    parse_f64_opt(t)
}

/// `zslParseRange`.
fn parse_score_range(min: &[u8], max: &[u8]) -> Result<ScoreRange, CmdError> {
    let one = |s: &[u8]| -> Option<(f64, bool)> {
        match s.first() {
            Some(b'(') => parse_bound(&s[1..]).map(|v| (v, true)),
            _ => parse_bound(s).map(|v| (v, false)),
        }
    };
    let (min, minex) = one(min).ok_or(ERR_MINMAX_FLOAT)?;
    let (max, maxex) = one(max).ok_or(ERR_MINMAX_FLOAT)?;
    Ok(ScoreRange {
        min,
        max,
        minex,
        maxex,
    })
}

fn parse_lex_range<'a>(min: &'a [u8], max: &'a [u8]) -> Result<LexRange<'a>, CmdError> {
    LexRange::parse(min, max).ok_or(ERR_MINMAX_LEX)
}

/// Redis's `getPositiveLongFromObjectOrReply` with the default message.
fn parse_positive(s: &[u8]) -> Result<i64, CmdError> {
    parse_nonneg(s, "ERR value is out of range, must be positive")
}

/// `getPositiveLongFromObjectOrReply` with a message: a non-integer and a negative value
/// both get `msg`.
fn parse_nonneg(s: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    match resp::num::parse_i64(s) {
        Some(v) if v >= 0 => Ok(v),
        _ => Err(CmdError::Static(msg)),
    }
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

// ---------------------------------------------------------------------------------------
// ZADD ZINCRBY

/// # Format
/// `ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]`
/// # Returns
/// Added elements (changed ones too with CH); with INCR the new score, or null if refused.
fn zadd(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
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
fn zadd_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], mut idx: usize, mut f: AddFlags) -> CmdResult {
    let key = args[1];
    let mut ch = false;
    // ZINCRBY has no options: its increment sits where ZADD's options would.
    if !f.incr {
        while idx < args.len() {
            let a = args[idx];
            if opt_is(a, "nx") {
                f.nx = true;
            } else if opt_is(a, "xx") {
                f.xx = true;
            } else if opt_is(a, "ch") {
                ch = true;
            } else if opt_is(a, "incr") {
                f.incr = true;
            } else if opt_is(a, "gt") {
                f.gt = true;
            } else if opt_is(a, "lt") {
                f.lt = true;
            } else {
                break;
            }
            idx += 1;
        }
    }
    let rest = &args[idx..];
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
        parse_score(pair[0])?;
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
        let s = parse_score(pair[0])?;
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
// ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZCOUNT ZLEXCOUNT

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

/// # Format
/// `ZCOUNT key min max`
fn zcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let r = parse_score_range(args[2], args[3])?;
    let n = read_zset(ctx.engine, ctx.session.db, args[1])?
        .and_then(|z| z.score_range_ranks(&r))
        .map_or(0, |(a, b)| b - a + 1);
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `ZLEXCOUNT key min max`
fn zlexcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let r = parse_lex_range(args[2], args[3])?;
    let n = read_zset(ctx.engine, ctx.session.db, args[1])?
        .and_then(|z| z.lex_range_ranks(&r))
        .map_or(0, |(a, b)| b - a + 1);
    ctx.out.int(n as i64);
    Ok(())
}

// ---------------------------------------------------------------------------------------
// ZRANGE family

#[derive(Clone, Copy, PartialEq, Eq)]
enum RangeType {
    Auto,
    Rank,
    Score,
    Lex,
}

/// Clamps Redis's rank arguments to an ascending interval (`start < 0` counts from the end).
fn rank_interval(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 { llen + start } else { start };
    let mut end = if end < 0 { llen + end } else { end };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

/// What a range query selected: `n` elements from ascending rank `first`, walked down when
/// `rev`.
#[derive(Clone, Copy, Debug, Default)]
struct Selection {
    first: usize,
    n: usize,
    rev: bool,
}

/// Applies direction, LIMIT offset (negative: nothing) and count (negative: all) to the
/// ascending interval `[lo, hi]`.
fn select(iv: Option<(usize, usize)>, rev: bool, offset: i64, count: i64) -> Selection {
    let Some((lo, hi)) = iv else {
        return Selection::default();
    };
    let total = hi - lo + 1;
    if offset < 0 || offset as u64 >= total as u64 {
        return Selection::default();
    }
    let offset = offset as usize;
    let avail = total - offset;
    let n = if count < 0 {
        avail
    } else {
        avail.min(count as usize)
    };
    let first = if rev { hi - offset } else { lo + offset };
    Selection { first, n, rev }
}

/// `zrangeGenericCommand`. `first` is the index of the source key; `store` is ZRANGESTORE's
/// destination.
fn zrange_generic(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    first: usize,
    store: Option<&[u8]>,
    mut rtype: RangeType,
    mut rev: Option<bool>,
) -> CmdResult {
    let key = args[first];
    let (mut minidx, mut maxidx) = (first + 1, first + 2);
    let mut withscores = false;
    let mut limit: Option<(i64, i64)> = None;
    let mut j = first + 3;
    while j < args.len() {
        let a = args[j];
        let left = args.len() - j - 1;
        if store.is_none() && opt_is(a, "withscores") {
            withscores = true;
        } else if opt_is(a, "limit") && left >= 2 {
            let off = parse_i64(args[j + 1])?;
            let cnt = parse_i64(args[j + 2])?;
            limit = Some((off, cnt));
            j += 2;
        } else if rev.is_none() && opt_is(a, "rev") {
            rev = Some(true);
        } else if rtype == RangeType::Auto && opt_is(a, "bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && opt_is(a, "byscore") {
            rtype = RangeType::Score;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 1;
    }
    let rev = rev.unwrap_or(false);
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    if limit.is_some() && rtype == RangeType::Rank {
        return Err(CmdError::Static(
            "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && rtype == RangeType::Lex {
        return Err(CmdError::Static(
            "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    if rev && rtype != RangeType::Rank {
        std::mem::swap(&mut minidx, &mut maxidx);
    }
    enum Parsed<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let parsed = match rtype {
        RangeType::Score => Parsed::Score(parse_score_range(args[minidx], args[maxidx])?),
        RangeType::Lex => Parsed::Lex(parse_lex_range(args[minidx], args[maxidx])?),
        _ => Parsed::Rank(parse_i64(args[minidx])?, parse_i64(args[maxidx])?),
    };
    let (offset, count) = limit.unwrap_or((0, -1));
    let sel = read_zset(ctx.engine, ctx.session.db, key)?.map(|z| match &parsed {
        Parsed::Rank(a, b) => {
            let iv = rank_interval(*a, *b, z.len());
            // Reverse ranks count from the highest element.
            let iv = if rev {
                iv.map(|(a, b)| (z.len() - 1 - b, z.len() - 1 - a))
            } else {
                iv
            };
            select(iv, rev, 0, -1)
        }
        Parsed::Score(r) => select(z.score_range_ranks(r), rev, offset, count),
        Parsed::Lex(r) => select(z.lex_range_ranks(r), rev, offset, count),
    });
    match store {
        None => {
            let Some(sel) = sel else {
                ctx.out.array(0);
                return Ok(());
            };
            range_header(ctx, sel.n, withscores);
            let now = ctx.now_ms();
            let Some(Value::ZSet(z)) = ctx.engine.dbs[ctx.session.db]
                .lookup_notouch(key, now)
                .map(|e| &e.value)
            else {
                unreachable!("zset looked up above")
            };
            let out = &mut ctx.out;
            z.for_ranks(sel.first, sel.n, sel.rev, &mut |m, s| {
                emit(out, m, s, withscores);
                true
            });
        }
        Some(dst) => {
            let sel = sel.unwrap_or_default();
            let lim = limits(ctx);
            let mut result = ZSetValue::new_for(sel.n, 0, lim);
            if sel.n > 0 {
                let now = ctx.now_ms();
                if let Some(Value::ZSet(z)) = ctx.engine.dbs[ctx.session.db]
                    .lookup_notouch(key, now)
                    .map(|e| &e.value)
                {
                    z.for_ranks(sel.first, sel.n, sel.rev, &mut |m, s| {
                        result.insert_new(m, s, lim);
                        true
                    });
                }
            }
            store_result(ctx, dst, result, "zrangestore");
        }
    }
    Ok(())
}

/// Stores a computed sorted set at `dst` (or deletes `dst` when it is empty) and replies
/// with its length, as `zrangeResultFinalizeStore` and the store branch of
/// `zunionInterDiffGenericCommand`.
fn store_result(ctx: &mut Ctx<'_>, dst: &[u8], result: ZSetValue, event: &'static str) {
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
        ctx.engine.dirty += 1;
    } else {
        ctx.out.int(0);
        if ctx.db().delete(dst, now) {
            ctx.signal_modified(dst);
            ctx.notify(notify::GENERIC, "del", dst);
            ctx.engine.dirty += 1;
        }
    }
}

/// # Format
/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
fn zrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Auto, None)
}

/// # Format
/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`
fn zrangestore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 2, Some(args[1]), RangeType::Auto, None)
}

/// # Format
/// `ZREVRANGE key start stop [WITHSCORES]`
fn zrevrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Rank, Some(true))
}

/// # Format
/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Some(false))
}

/// # Format
/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Some(true))
}

/// # Format
/// `ZRANGEBYLEX key min max [LIMIT offset count]`
fn zrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Some(false))
}

/// # Format
/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Some(true))
}

// ---------------------------------------------------------------------------------------
// ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX

/// `zremrangeGenericCommand`.
fn zremrange_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], rtype: RangeType) -> CmdResult {
    let key = args[1];
    enum Parsed<'a> {
        Rank(i64, i64),
        Score(ScoreRange),
        Lex(LexRange<'a>),
    }
    let parsed = match rtype {
        RangeType::Score => Parsed::Score(parse_score_range(args[2], args[3])?),
        RangeType::Lex => Parsed::Lex(parse_lex_range(args[2], args[3])?),
        _ => Parsed::Rank(parse_i64(args[2])?, parse_i64(args[3])?),
    };
    let Some(z) = write_zset(ctx, key)? else {
        ctx.out.int(0);
        return Ok(());
    };
    let iv = match &parsed {
        Parsed::Rank(a, b) => rank_interval(*a, *b, z.len()),
        Parsed::Score(r) => z.score_range_ranks(r),
        Parsed::Lex(r) => z.lex_range_ranks(r),
    };
    let deleted = iv.map_or(0, |(a, b)| z.delete_ranks(a, b));
    let emptied = z.is_empty();
    if deleted > 0 {
        let event = match rtype {
            RangeType::Score => "zremrangebyscore",
            RangeType::Lex => "zremrangebylex",
            _ => "zremrangebyrank",
        };
        ctx.signal_modified(key);
        ctx.notify(notify::ZSET, event, key);
        if emptied {
            delete_emptied(ctx, key);
        }
    }
    ctx.engine.dirty += deleted as u64;
    ctx.out.int(deleted as i64);
    Ok(())
}

/// # Format
/// `ZREMRANGEBYRANK key start stop`
fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Rank)
}

/// # Format
/// `ZREMRANGEBYSCORE key min max`
fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Score)
}

/// # Format
/// `ZREMRANGEBYLEX key min max`
fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Lex)
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
        let c = resp::num::fmt_i64(want as i64, &mut b);
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

/// `getRangeLongFromObjectOrReply(o, 1, LONG_MAX, msg)`.
fn parse_at_least_one(s: &[u8], msg: &'static str) -> Result<i64, CmdError> {
    // With a message, Redis reports a non-integer with it too.
    match resp::num::parse_i64(s) {
        Some(v) if v >= 1 => Ok(v),
        _ => Err(CmdError::Static(msg)),
    }
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
    let numkeys = parse_at_least_one(args[numkeys_idx], "ERR numkeys should be greater than 0")?;
    let where_idx = (numkeys as u64).saturating_add(numkeys_idx as u64 + 1);
    if where_idx >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let where_idx = where_idx as usize;
    let rev = if opt_is(args[where_idx], "min") {
        false
    } else if opt_is(args[where_idx], "max") {
        true
    } else {
        return Err(CmdError::Syntax);
    };
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && opt_is(args[j], "count") && j + 1 < args.len() {
            count = Some(parse_at_least_one(
                args[j + 1],
                "ERR count should be greater than 0",
            )?);
            j += 2;
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
    if args.len() >= 3 {
        let l = parse_i64(args[2])?;
        if l == i64::MIN {
            return Err(CmdError::ValueOutOfRange {
                min: -i64::MAX,
                max: i64::MAX,
            });
        }
        let withscores = if args.len() > 4 || (args.len() == 4 && !opt_is(args[3], "withscores")) {
            return Err(CmdError::Syntax);
        } else if args.len() == 4 {
            if !(-i64::MAX / 2..=i64::MAX / 2).contains(&l) {
                return Err(CmdError::Static("ERR value is out of range"));
            }
            true
        } else {
            false
        };
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
// ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD

#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Inter,
    Diff,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

/// `zunionInterAggregate`.
#[inline]
fn aggregate(target: &mut f64, val: f64, agg: Aggregate) {
    match agg {
        Aggregate::Sum => {
            *target += val;
            // inf + -inf: Redis's rule is 0, not NaN.
            if target.is_nan() {
                *target = 0.0;
            }
        }
        Aggregate::Min => {
            if val < *target {
                *target = val;
            }
        }
        Aggregate::Max => {
            if val > *target {
                *target = val;
            }
        }
    }
}

/// An input of the set algebra: a sorted set, or a plain set whose members score 1.
#[derive(Clone, Copy)]
enum Src<'a> {
    Z(&'a ZSetValue),
    S(&'a crate::object::SetValue),
}

impl Src<'_> {
    fn len(&self) -> usize {
        match self {
            Src::Z(z) => z.len(),
            Src::S(s) => s.len(),
        }
    }

    fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            Src::Z(z) => z.score(m),
            Src::S(s) => s.contains(m).then_some(1.0),
        }
    }

    /// Every element; a set in its own order (as Redis's `zuiNext`).
    fn for_each(&self, f: &mut dyn FnMut(&[u8], f64)) {
        match self {
            Src::Z(z) => z.for_each(f),
            Src::S(s) => {
                let mut scratch = [0u8; 20];
                for m in s.iter() {
                    f(m.as_bytes(&mut scratch), 1.0);
                }
            }
        }
    }
}

/// `zunionInterDiffGenericCommand`.
fn setop_generic(
    ctx: &mut Ctx<'_>,
    args: &[&[u8]],
    dst: Option<&[u8]>,
    numkeys_idx: usize,
    op: SetOp,
    card_only: bool,
) -> CmdResult {
    let setnum = parse_i64(args[numkeys_idx])?;
    if setnum < 1 {
        return Err(CmdError::Owned(format!(
            "ERR at least 1 input key is needed for '{}' command",
            String::from_utf8_lossy(args[0]).to_ascii_lowercase()
        )));
    }
    if setnum as u64 > (args.len() - numkeys_idx - 1) as u64 {
        return Err(CmdError::Syntax);
    }
    let setnum = setnum as usize;
    let keys = &args[numkeys_idx + 1..numkeys_idx + 1 + setnum];
    let now = ctx.now_ms();
    let db = ctx.session.db;
    // Type checks first, as Redis looks every key up before parsing the options.
    let mut present = Vec::with_capacity(setnum);
    for &k in keys {
        match ctx.engine.dbs[db].lookup_read(k, now) {
            Some(e) => {
                if !matches!(e.value, Value::ZSet(_) | Value::Set(_)) {
                    return Err(CmdError::WrongType);
                }
                present.push(true);
            }
            None => present.push(false),
        }
    }
    let mut weights = vec![1.0f64; setnum];
    let mut agg = Aggregate::Sum;
    let mut withscores = false;
    let mut limit = 0i64;
    let mut j = numkeys_idx + 1 + setnum;
    while j < args.len() {
        let remaining = args.len() - j;
        let a = args[j];
        if op != SetOp::Diff && !card_only && remaining > setnum && opt_is(a, "weights") {
            for (i, w) in weights.iter_mut().enumerate() {
                *w = parse_f64(args[j + 1 + i])
                    .map_err(|_| CmdError::Static("ERR weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != SetOp::Diff && !card_only && remaining >= 2 && opt_is(a, "aggregate") {
            let v = args[j + 1];
            agg = if opt_is(v, "sum") {
                Aggregate::Sum
            } else if opt_is(v, "min") {
                Aggregate::Min
            } else if opt_is(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
            j += 2;
        } else if dst.is_none() && !card_only && opt_is(a, "withscores") {
            withscores = true;
            j += 1;
        } else if card_only && remaining >= 2 && opt_is(a, "limit") {
            limit = parse_nonneg(args[j + 1], "ERR LIMIT can't be negative")?;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }

    // The inputs, in the order Redis visits them: by ascending size (a stable sort, as
    // glibc's qsort is a merge sort), except DIFF whose first set is the minuend.
    let dbr = &ctx.engine.dbs[db];
    let mut src: Vec<(Option<Src<'_>>, f64)> = keys
        .iter()
        .zip(&present)
        .zip(&weights)
        .map(|((k, &p), &w)| {
            let z = if p {
                dbr.dict.get(k).and_then(|e| match &e.value {
                    Value::ZSet(z) => Some(Src::Z(z)),
                    Value::Set(s) => Some(Src::S(s)),
                    _ => None,
                })
            } else {
                None
            };
            (z, w)
        })
        .collect();
    let len_of = |s: &(Option<Src<'_>>, f64)| s.0.map_or(0, |z| z.len());
    if op != SetOp::Diff {
        src.sort_by_key(len_of);
    }

    let mut result: Vec<(Vec<u8>, f64)> = Vec::new();
    let mut card = 0i64;
    match op {
        SetOp::Inter => {
            if let Some(first) = src[0].0 {
                let w0 = src[0].1;
                first.for_each(&mut |m, s| {
                    if card_only && limit > 0 && card >= limit {
                        return;
                    }
                    let mut score = w0 * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    for (z, w) in &src[1..] {
                        match z.and_then(|z| z.score(m)) {
                            Some(v) => aggregate(&mut score, v * w, agg),
                            None => return,
                        }
                    }
                    if card_only {
                        card += 1;
                    } else {
                        result.push((m.to_vec(), score));
                    }
                });
            }
        }
        SetOp::Union => {
            let mut acc: HashMap<Vec<u8>, f64> =
                HashMap::with_capacity(src.last().map_or(0, len_of));
            for (z, w) in &src {
                let Some(z) = z else { continue };
                z.for_each(&mut |m, s| {
                    let mut score = w * s;
                    if score.is_nan() {
                        score = 0.0;
                    }
                    match acc.get_mut(m) {
                        Some(t) => aggregate(t, score, agg),
                        None => {
                            acc.insert(m.to_vec(), score);
                        }
                    }
                });
            }
            result = acc.into_iter().collect();
        }
        SetOp::Diff => {
            if let Some(first) = src[0].0 {
                first.for_each(&mut |m, s| {
                    if src[1..]
                        .iter()
                        .all(|(z, _)| z.is_none_or(|z| z.score(m).is_none()))
                    {
                        result.push((m.to_vec(), s));
                    }
                });
            }
        }
    }
    if card_only {
        ctx.out.int(card);
        return Ok(());
    }
    result.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    // -0.0 and 0.0 tie in Redis's order (the member decides); total_cmp separates them.
    result.sort_by(|a, b| {
        a.1.partial_cmp(&b.1)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.0.cmp(&b.0))
    });
    match dst {
        Some(dst) => {
            let lim = limits(ctx);
            let maxelelen = result.iter().map(|(m, _)| m.len()).max().unwrap_or(0);
            let mut z = ZSetValue::new_skiplist();
            for (m, s) in &result {
                z.insert_new(m, *s, lim);
            }
            let tot: usize = result.iter().map(|(m, _)| m.len()).sum();
            z.convert_to_listpack_if_needed(maxelelen, tot, lim);
            let event = match op {
                SetOp::Union => "zunionstore",
                SetOp::Inter => "zinterstore",
                SetOp::Diff => "zdiffstore",
            };
            store_result(ctx, dst, z, event);
        }
        None => {
            range_header(ctx, result.len(), withscores);
            for (m, s) in &result {
                emit(&mut ctx.out, m, *s, withscores);
            }
        }
    }
    Ok(())
}

/// # Format
/// `ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
fn zunion(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Union, false)
}

/// # Format
/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
fn zinter(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Inter, false)
}

/// # Format
/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
fn zdiff(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Diff, false)
}

/// # Format
/// `ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`
fn zunionstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, Some(args[1]), 2, SetOp::Union, false)
}

/// # Format
/// `ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`
fn zinterstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, Some(args[1]), 2, SetOp::Inter, false)
}

/// # Format
/// `ZDIFFSTORE dst numkeys key [key ...]`
fn zdiffstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, Some(args[1]), 2, SetOp::Diff, false)
}

/// # Format
/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
fn zintercard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Inter, true)
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
    ctx.out.bulk(fmt_u64(cursor, &mut b));
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

/// Decimal digits of an unsigned cursor.
fn fmt_u64(mut v: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &buf[i..]
}
