//! The range commands of the sorted sets: ZCOUNT ZLEXCOUNT, ZRANGE and its legacy forms
//! (ZREVRANGE ZRANGEBYSCORE ZREVRANGEBYSCORE ZRANGEBYLEX ZREVRANGEBYLEX), ZRANGESTORE and
//! ZREMRANGEBYRANK / ZREMRANGEBYSCORE / ZREMRANGEBYLEX. The bounds are read by
//! [`zrange_args`](crate::commands::zrange_args); the invariants are the family's (`zset.rs`).

use super::{Ctx, delete_emptied, emit, limits, range_header, read_zset, store_result, write_zset};
use crate::commands::args::Args;
use crate::commands::zrange_args::{parse_lex_range, parse_score_range};
use crate::error::{CmdError, CmdResult};
use crate::notify;
use crate::object::Value;
use crate::object::zset::ZSetValue;
use crate::types::skiplist::{LexRange, ScoreRange};
use crate::util::parse_i64;

// ---------------------------------------------------------------------------------------
// ZCOUNT ZLEXCOUNT

/// # Format
/// `ZCOUNT key min max`
pub(super) fn zcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    let r = parse_score_range(args[2], args[3])?;
    let n = read_zset(ctx.engine, ctx.session.db, args[1])?
        .and_then(|z| z.score_range_ranks(&r))
        .map_or(0, |(a, b)| b - a + 1);
    ctx.out.int(n as i64);
    Ok(())
}

/// # Format
/// `ZLEXCOUNT key min max`
pub(super) fn zlexcount(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
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
    let mut a = Args::new(args, first + 3);
    while !a.is_empty() {
        if store.is_none() && a.eat("withscores") {
            withscores = true;
        } else if a.eat_with("limit", 2) {
            let off = a.int()?;
            let cnt = a.int()?;
            limit = Some((off, cnt));
        } else if rev.is_none() && a.eat("rev") {
            rev = Some(true);
        } else if rtype == RangeType::Auto && a.eat("bylex") {
            rtype = RangeType::Lex;
        } else if rtype == RangeType::Auto && a.eat("byscore") {
            rtype = RangeType::Score;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let rev = rev.unwrap_or(false);
    if rtype == RangeType::Auto {
        rtype = RangeType::Rank;
    }
    // Redis refuses LIMIT on a rank range only when its count is not -1 (the default it
    // compares against); LIMIT off -1 is accepted there and its offset ignored, so the key
    // lookup (and its WRONGTYPE) comes first.
    if matches!(limit, Some((_, cnt)) if cnt != -1) && rtype == RangeType::Rank {
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
            let iv = crate::util::rank_range(*a, *b, z.len());
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
            // Redis announces the length only for a rank range; a score or lex range starts
            // with "unknown" (-1), i.e. a listpack that converts as it fills. Observable: a
            // listpack stores -0 as the integer 0, which survives the conversion.
            let hint = if matches!(parsed, Parsed::Rank(..)) {
                sel.n
            } else {
                0
            };
            let mut result = ZSetValue::new_for(hint, 0, lim);
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

/// # Format
/// `ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]`
pub(super) fn zrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Auto, None)
}

/// # Format
/// `ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]`
pub(super) fn zrangestore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 2, Some(args[1]), RangeType::Auto, None)
}

/// # Format
/// `ZREVRANGE key start stop [WITHSCORES]`
pub(super) fn zrevrange(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Rank, Some(true))
}

/// # Format
/// `ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]`
pub(super) fn zrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Some(false))
}

/// # Format
/// `ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]`
pub(super) fn zrevrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Score, Some(true))
}

/// # Format
/// `ZRANGEBYLEX key min max [LIMIT offset count]`
pub(super) fn zrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, args, 1, None, RangeType::Lex, Some(false))
}

/// # Format
/// `ZREVRANGEBYLEX key max min [LIMIT offset count]`
pub(super) fn zrevrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
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
        Parsed::Rank(a, b) => crate::util::rank_range(*a, *b, z.len()),
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
pub(super) fn zremrangebyrank(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Rank)
}

/// # Format
/// `ZREMRANGEBYSCORE key min max`
pub(super) fn zremrangebyscore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Score)
}

/// # Format
/// `ZREMRANGEBYLEX key min max`
pub(super) fn zremrangebylex(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    zremrange_generic(ctx, args, RangeType::Lex)
}
