//! Sorted-set values: `listpack` up to `zset-max-listpack-entries`/`-value`, then `skiplist`.
//!
//! Job: one interface over both encodings so the commands never match on the encoding,
//! following t_zset.c's `zset*`/`zzl*` functions.
//!
//! Invariants:
//! - `Listpack`: entries are `member, score` pairs ordered by `(score, member)` (members by
//!   memcmp), scores written as Redis's `d2string` writes them (`%.17g`, integers as
//!   integers), so the bytes equal Redis's listpack (RDB can copy them). Member lookups are
//!   linear: the encoding is only used for at most `zset-max-listpack-entries` pairs.
//! - `SkipList`: a [`ZSet`] (skiplist + member index). A value never converts back to
//!   listpack except where Redis calls `zsetConvertToListpackIfNeeded` (store commands).
//! - Scores are never NaN.
//! - Ranks are 0-based ascending everywhere in this module.

use crate::types::listpack::{Cursor, Listpack, LpValue, Where};
use crate::types::skiplist::{LexRange, ScoreRange, ZSet};

/// The encoding thresholds (`zset-max-listpack-entries`, `zset-max-listpack-value`).
#[derive(Clone, Copy, Debug)]
pub struct ZLimits {
    pub max_entries: usize,
    pub max_value: usize,
}

impl Default for ZLimits {
    fn default() -> Self {
        ZLimits {
            max_entries: 128,
            max_value: 64,
        }
    }
}

#[derive(Clone, Debug)]
pub enum ZSetValue {
    Listpack(Listpack),
    SkipList(Box<ZSet>),
}

/// `zsetAdd`'s rules for a member already present with score `cur`, shared by both
/// encodings: `Ok(new score)` to store (it differs from `cur`), or `Err(reply)` when nothing
/// changes (NX, an INCR giving NaN, GT/LT refusing, or the same score).
fn update_existing(f: AddFlags, cur: f64, mut score: f64) -> Result<f64, (AddOutcome, f64)> {
    if f.nx {
        return Err((AddOutcome::Nop, cur));
    }
    if f.incr {
        score += cur;
        if score.is_nan() {
            return Err((AddOutcome::Nan, cur));
        }
    }
    if (f.lt && score >= cur) || (f.gt && score <= cur) {
        return Err((AddOutcome::Nop, cur));
    }
    if score == cur {
        return Err((AddOutcome::Same, score));
    }
    Ok(score)
}

/// ZADD's input flags (Redis's `ZADD_IN_*`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AddFlags {
    pub incr: bool,
    pub nx: bool,
    pub xx: bool,
    pub gt: bool,
    pub lt: bool,
}

/// ZADD's per-element outcome (Redis's `ZADD_OUT_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    Added,
    Updated,
    /// Nothing changed (NX/XX/GT/LT refused, or the same score).
    Nop,
    /// The element exists and the score stayed the same (processed, not updated).
    Same,
    /// INCR produced NaN; nothing changed.
    Nan,
}

/// The score of a listpack score entry (`zzlGetScore`).
#[inline]
fn lp_score(v: LpValue<'_>) -> f64 {
    match v {
        LpValue::Int(i) => i as f64,
        LpValue::Str(s) => std::str::from_utf8(s)
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0),
    }
}

/// Redis's `d2string` for the listpack score entry.
#[inline]
fn score_bytes(score: f64, buf: &mut [u8; 32]) -> &[u8] {
    // Redis stores -0 as the integer 0 in a listpack (so it reads back as 0); the skiplist
    // keeps the sign.
    if score == 0.0 {
        return b"0";
    }
    resp::num::fmt_g17(score, buf)
}

/// Compares a listpack member entry with `m` (memcmp order).
#[inline]
fn lp_member_cmp(v: LpValue<'_>, m: &[u8]) -> std::cmp::Ordering {
    let mut b = [0u8; 20];
    v.as_bytes(&mut b).cmp(m)
}

/// Iterator over a listpack's `(member, score)` pairs from a member cursor.
fn lp_pair_at(lp: &Listpack, c: Cursor) -> (LpValue<'_>, f64, Option<Cursor>) {
    let m = lp.value(c);
    let sc = lp.next(c).expect("listpack zset: member without score");
    (m, lp_score(lp.value(sc)), lp.next(sc))
}

/// `zzlFind`: the member cursor and score of `m`.
fn lp_find(lp: &Listpack, m: &[u8]) -> Option<(Cursor, f64)> {
    let mut c = lp.first();
    while let Some(mc) = c {
        let (v, s, next) = lp_pair_at(lp, mc);
        if v.eq_bytes(m) {
            return Some((mc, s));
        }
        c = next;
    }
    None
}

/// `zzlInsert`: inserts the pair keeping `(score, member)` order.
fn lp_insert(lp: &mut Listpack, m: &[u8], score: f64) {
    let mut buf = [0u8; 32];
    let sb = score_bytes(score, &mut buf);
    let mut c = lp.first();
    while let Some(mc) = c {
        let (v, s, next) = lp_pair_at(lp, mc);
        if s > score || (s == score && lp_member_cmp(v, m) == std::cmp::Ordering::Greater) {
            let at = lp.insert(mc, Where::Before, m);
            lp.insert(at, Where::After, sb);
            return;
        }
        c = next;
    }
    lp.push_back(m);
    lp.push_back(sb);
}

/// Calls `f(member, score)`; the member bytes live only for the call.
#[inline]
fn with_member<R>(v: LpValue<'_>, f: impl FnOnce(&[u8]) -> R) -> R {
    let mut b = [0u8; 20];
    f(v.as_bytes(&mut b))
}

impl ZSetValue {
    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ZSetValue::Listpack(_) => "listpack",
            ZSetValue::SkipList(_) => "skiplist",
        }
    }

    /// Redis's `zsetTypeCreate(size_hint, value_len_hint)`.
    pub fn new_for(size_hint: usize, value_len_hint: usize, lim: ZLimits) -> ZSetValue {
        if size_hint <= lim.max_entries && value_len_hint <= lim.max_value {
            ZSetValue::Listpack(Listpack::new())
        } else {
            ZSetValue::SkipList(Box::new(ZSet::with_capacity(size_hint)))
        }
    }

    /// Adopts a listpack of `member, score` pairs loaded from an RDB file or a RESTORE
    /// payload (validated by the caller: even length, no repeated member, in `(score,
    /// member)` order as Redis writes it), converting it to a skiplist when it has more than
    /// `max_entries` pairs, as Redis's loader does (the lengths are not checked).
    pub fn from_listpack(lp: Listpack, lim: ZLimits) -> ZSetValue {
        let mut z = ZSetValue::Listpack(lp);
        let n = z.len();
        if n > lim.max_entries {
            z.convert_to_skiplist(n);
        }
        z
    }

    /// An empty set in the skiplist encoding (`createZsetObject`).
    pub fn new_skiplist() -> ZSetValue {
        ZSetValue::SkipList(Box::default())
    }

    pub fn len(&self) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp.len() / 2,
            ZSetValue::SkipList(z) => z.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes held (MEMORY USAGE-style estimate).
    pub fn heap_size(&self) -> usize {
        match self {
            ZSetValue::Listpack(lp) => lp.heap_size(),
            ZSetValue::SkipList(z) => z.heap_bytes() + std::mem::size_of::<ZSet>(),
        }
    }

    /// Converts to the skiplist encoding (`zsetConvert`), sized for `hint` members.
    pub fn convert_to_skiplist(&mut self, hint: usize) {
        if let ZSetValue::Listpack(lp) = self {
            let mut z = ZSet::with_capacity(hint.max(lp.len() / 2));
            let mut c = lp.first();
            while let Some(mc) = c {
                let (v, s, next) = lp_pair_at(lp, mc);
                with_member(v, |m| {
                    let _ = z.insert(m, s);
                });
                c = next;
            }
            *self = ZSetValue::SkipList(Box::new(z));
        }
    }

    /// `zsetConvertToListpackIfNeeded`: a skiplist small enough goes back to listpack.
    pub fn convert_to_listpack_if_needed(
        &mut self,
        maxelelen: usize,
        totelelen: usize,
        lim: ZLimits,
    ) {
        if let ZSetValue::SkipList(z) = self
            && z.len() <= lim.max_entries
            && maxelelen <= lim.max_value
            && totelelen < crate::types::listpack::MAX_SAFETY_SIZE
        {
            let mut lp = Listpack::new();
            let mut buf = [0u8; 32];
            for (m, s) in z.list().iter() {
                lp.push_back(m);
                lp.push_back(score_bytes(s, &mut buf));
            }
            *self = ZSetValue::Listpack(lp);
        }
    }

    /// The score of `m` (`zsetScore`).
    pub fn score(&self, m: &[u8]) -> Option<f64> {
        match self {
            ZSetValue::Listpack(lp) => lp_find(lp, m).map(|(_, s)| s),
            ZSetValue::SkipList(z) => z.score(m),
        }
    }

    /// 0-based ascending rank and score of `m`.
    pub fn rank(&self, m: &[u8]) -> Option<(usize, f64)> {
        match self {
            ZSetValue::Listpack(lp) => {
                let mut c = lp.first();
                let mut r = 0;
                while let Some(mc) = c {
                    let (v, s, next) = lp_pair_at(lp, mc);
                    if v.eq_bytes(m) {
                        return Some((r, s));
                    }
                    r += 1;
                    c = next;
                }
                None
            }
            ZSetValue::SkipList(z) => {
                let id = z.find(m)?;
                Some((z.list().rank_of(id), z.list().score(id)))
            }
        }
    }

    /// Redis's `zsetAdd`: returns the outcome and the element's resulting score.
    pub fn add(&mut self, m: &[u8], score: f64, f: AddFlags, lim: ZLimits) -> (AddOutcome, f64) {
        if let ZSetValue::Listpack(lp) = self {
            if let Some((c, cur)) = lp_find(lp, m) {
                return match update_existing(f, cur, score) {
                    Ok(score) => {
                        lp.delete_range_at(c, 2);
                        lp_insert(lp, m, score);
                        (AddOutcome::Updated, score)
                    }
                    Err(unchanged) => unchanged,
                };
            }
            if f.xx {
                return (AddOutcome::Nop, 0.0);
            }
            if lp.len() / 2 + 1 > lim.max_entries
                || m.len() > lim.max_value
                || !lp.safe_to_add(m.len())
            {
                let n = lp.len() / 2 + 1;
                self.convert_to_skiplist(n);
            } else {
                lp_insert(lp, m, score);
                return (AddOutcome::Added, score);
            }
        }
        let ZSetValue::SkipList(z) = self else {
            unreachable!("converted above")
        };
        // XX never inserts: look up first so an absent member costs no insert + undo.
        let found = if f.xx {
            match z.find(m) {
                Some(id) => Err(id),
                None => return (AddOutcome::Nop, 0.0),
            }
        } else {
            z.insert(m, score)
        };
        match found {
            Ok(_) => (AddOutcome::Added, score),
            Err(id) => match update_existing(f, z.list().score(id), score) {
                Ok(score) => {
                    z.set_score(id, score);
                    (AddOutcome::Updated, score)
                }
                Err(unchanged) => unchanged,
            },
        }
    }

    /// Removes `m`; true if it was present (`zsetDel`).
    pub fn remove(&mut self, m: &[u8]) -> bool {
        match self {
            ZSetValue::Listpack(lp) => match lp_find(lp, m) {
                Some((c, _)) => {
                    lp.delete_range_at(c, 2);
                    true
                }
                None => false,
            },
            ZSetValue::SkipList(z) => z.remove(m).is_some(),
        }
    }

    /// Calls `f(member, score)` for `n` elements starting at ascending rank `start`, walking
    /// down the ranks when `rev`. Stops early if `f` returns false.
    pub fn for_ranks(
        &self,
        start: usize,
        n: usize,
        rev: bool,
        f: &mut dyn FnMut(&[u8], f64) -> bool,
    ) {
        if n == 0 {
            return;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let Some(mut c) = lp.seek(2 * start as i64) else {
                    return;
                };
                for i in 0..n {
                    let m = lp.value(c);
                    let Some(sc) = lp.next(c) else { return };
                    let s = lp_score(lp.value(sc));
                    if !with_member(m, |mb| f(mb, s)) {
                        return;
                    }
                    if i + 1 == n {
                        return;
                    }
                    let nc = if rev {
                        lp.prev(c).and_then(|p| lp.prev(p))
                    } else {
                        lp.next(sc)
                    };
                    match nc {
                        Some(x) => c = x,
                        None => return,
                    }
                }
            }
            ZSetValue::SkipList(z) => {
                let sl = z.list();
                let Some(id) = sl.by_rank(start) else { return };
                let it = if rev {
                    sl.iter_rev_from(id)
                } else {
                    sl.iter_from(id)
                };
                for (m, s) in it.take(n) {
                    if !f(m, s) {
                        return;
                    }
                }
            }
        }
    }

    /// Every element in ascending order.
    pub fn for_each(&self, f: &mut dyn FnMut(&[u8], f64)) {
        self.for_ranks(0, self.len(), false, &mut |m, s| {
            f(m, s);
            true
        });
    }

    /// The ascending ranks of the first and last elements whose score is in `r`.
    pub fn score_range_ranks(&self, r: &ScoreRange) -> Option<(usize, usize)> {
        if r.is_empty() {
            return None;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let mut first = None;
                let mut last = None;
                let mut c = lp.first();
                let mut i = 0;
                while let Some(mc) = c {
                    let (_, s, next) = lp_pair_at(lp, mc);
                    if !r.lte_max(s) {
                        break;
                    }
                    if r.gte_min(s) {
                        first.get_or_insert(i);
                        last = Some(i);
                    }
                    i += 1;
                    c = next;
                }
                Some((first?, last?))
            }
            ZSetValue::SkipList(z) => {
                let sl = z.list();
                let a = sl.first_in_range(r)?;
                let b = sl.last_in_range(r)?;
                Some((sl.rank_of(a), sl.rank_of(b)))
            }
        }
    }

    /// The ascending ranks of the first and last elements whose member is in `r`.
    pub fn lex_range_ranks(&self, r: &LexRange<'_>) -> Option<(usize, usize)> {
        if r.is_empty() {
            return None;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let mut first = None;
                let mut last = None;
                let mut c = lp.first();
                let mut i = 0;
                while let Some(mc) = c {
                    let (v, _, next) = lp_pair_at(lp, mc);
                    let (ge, le) = with_member(v, |m| (r.gte_min(m), r.lte_max(m)));
                    if !le {
                        break;
                    }
                    if ge {
                        first.get_or_insert(i);
                        last = Some(i);
                    }
                    i += 1;
                    c = next;
                }
                Some((first?, last?))
            }
            ZSetValue::SkipList(z) => {
                let sl = z.list();
                let a = sl.first_in_lex_range(r)?;
                let b = sl.last_in_lex_range(r)?;
                Some((sl.rank_of(a), sl.rank_of(b)))
            }
        }
    }

    /// Removes the elements of ascending ranks `start..=end`; returns how many.
    pub fn delete_ranks(&mut self, start: usize, end: usize) -> usize {
        if end < start {
            return 0;
        }
        match self {
            ZSetValue::Listpack(lp) => {
                let n = (end - start + 1).min(lp.len() / 2 - start.min(lp.len() / 2));
                lp.delete_range(2 * start as i64, 2 * n);
                n
            }
            ZSetValue::SkipList(z) => z.delete_range_by_rank(start, end),
        }
    }

    /// Removes and returns the lowest (or, `rev`, highest) element.
    pub fn pop(&mut self, rev: bool) -> Option<(Vec<u8>, f64)> {
        match self {
            ZSetValue::Listpack(lp) => {
                let n = lp.len() / 2;
                if n == 0 {
                    return None;
                }
                let i = if rev { n - 1 } else { 0 };
                let c = lp.seek(2 * i as i64)?;
                let (v, s, _) = lp_pair_at(lp, c);
                let m = v.to_vec();
                lp.delete_range_at(c, 2);
                Some((m, s))
            }
            ZSetValue::SkipList(z) => {
                let r = if rev { z.pop_last() } else { z.pop_first() };
                r.map(|(k, s)| (k.into_vec(), s))
            }
        }
    }

    /// The listpack, if that is the encoding (ZRANDMEMBER and ZSCAN walk it directly).
    pub fn as_listpack(&self) -> Option<&Listpack> {
        match self {
            ZSetValue::Listpack(lp) => Some(lp),
            ZSetValue::SkipList(_) => None,
        }
    }

    /// The skiplist set, if that is the encoding.
    pub fn as_skiplist(&self) -> Option<&ZSet> {
        match self {
            ZSetValue::Listpack(_) => None,
            ZSetValue::SkipList(z) => Some(z),
        }
    }

    /// Inserts a member known to be absent (store commands building a fresh result).
    pub fn insert_new(&mut self, m: &[u8], score: f64, lim: ZLimits) {
        let _ = self.add(m, score, AddFlags::default(), lim);
    }
}

#[cfg(test)]
mod load_tests {
    use super::*;

    #[test]
    fn from_listpack_converts_by_count() {
        let lp = Listpack::from_items([&b"a"[..], b"1", b"b", b"2.5"]);
        let lim = ZLimits {
            max_entries: 2,
            max_value: 64,
        };
        let z = ZSetValue::from_listpack(lp.clone(), lim);
        assert_eq!((z.encoding_name(), z.score(b"b")), ("listpack", Some(2.5)));
        let z = ZSetValue::from_listpack(
            lp,
            ZLimits {
                max_entries: 1,
                ..lim
            },
        );
        assert_eq!(z.encoding_name(), "skiplist");
        assert_eq!(
            (z.len(), z.score(b"a"), z.score(b"b")),
            (2, Some(1.0), Some(2.5))
        );
    }
}
