//! The set algebra of the sorted sets: ZUNION ZINTER ZDIFF, their STORE forms and
//! ZINTERCARD (`zunionInterDiffGenericCommand`). The invariants are the family's
//! (`zset.rs`).

use super::{Ctx, emit, limits, range_header, store_result};
use crate::commands::args::{Args, is_kw};
use crate::error::{CmdError, CmdResult};
use crate::object::Value;
use crate::object::zset::ZSetValue;
use crate::util::parse_i64;
use std::collections::HashMap;

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
    let weighted = op != SetOp::Diff && !card_only;
    let mut a = Args::new(args, numkeys_idx + 1 + setnum);
    while !a.is_empty() {
        if weighted && a.eat_with("weights", setnum) {
            for w in weights.iter_mut() {
                *w = a
                    .float()
                    .map_err(|_| CmdError::Static("ERR weight value is not a float"))?;
            }
        } else if weighted && a.eat_with("aggregate", 1) {
            let v = a.value()?;
            agg = if is_kw(v, "sum") {
                Aggregate::Sum
            } else if is_kw(v, "min") {
                Aggregate::Min
            } else if is_kw(v, "max") {
                Aggregate::Max
            } else {
                return Err(CmdError::Syntax);
            };
        } else if dst.is_none() && !card_only && a.eat("withscores") {
            withscores = true;
        } else if card_only && a.eat_with("limit", 1) {
            limit = a.int_in(0, i64::MAX, Some("ERR LIMIT can't be negative"))?;
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
pub(super) fn zunion(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Union, false)
}

/// # Format
/// `ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]`
pub(super) fn zinter(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Inter, false)
}

/// # Format
/// `ZDIFF numkeys key [key ...] [WITHSCORES]`
pub(super) fn zdiff(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Diff, false)
}

/// # Format
/// `ZUNIONSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`
pub(super) fn zunionstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, Some(args[1]), 2, SetOp::Union, false)
}

/// # Format
/// `ZINTERSTORE dst numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]`
pub(super) fn zinterstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, Some(args[1]), 2, SetOp::Inter, false)
}

/// # Format
/// `ZDIFFSTORE dst numkeys key [key ...]`
pub(super) fn zdiffstore(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, Some(args[1]), 2, SetOp::Diff, false)
}

/// # Format
/// `ZINTERCARD numkeys key [key ...] [LIMIT limit]`
pub(super) fn zintercard(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    setop_generic(ctx, args, None, 1, SetOp::Inter, true)
}
