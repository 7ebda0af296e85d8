//! SORT and SORT_RO, as Redis 7.0.15's sort.c: sort a list, set or sorted set numerically or
//! (ALPHA) by bytes, by the element itself or by external keys/hash fields (`BY pattern`),
//! with LIMIT, ASC/DESC, `GET pattern` (`#` = the element) and STORE into a list.
//!
//! Invariants:
//! - Options are parsed and the key's type checked before any reply byte; a score that is
//!   not a double fails the whole command (nothing stored) with Redis's text.
//! - `BY` without `*` means "don't sort": lists and sorted sets keep their order (and LIMIT
//!   picks a range directly), a set is still sorted (ALPHA) when storing, as Redis does so
//!   that the stored result does not depend on hash order.
//! - A listpack sorted set is converted to skiplist first, as Redis's `zsetConvert` in SORT
//!   (observable with OBJECT ENCODING).
//! - Equal numeric scores tie-break by the element bytes; the sort is stable like glibc's
//!   merge-sort `qsort`. ALPHA compares bytes (Redis's `strcoll` in the C locale).

use super::args::Args;
use super::{CmdFn, Ctx};
use crate::db::Db;
use crate::error::{CmdError, CmdResult};
use crate::notify;
use crate::object::{ListValue, Value};
use std::cmp::Ordering;

pub const COMMANDS: &[(&str, CmdFn)] = &[("sort", sort), ("sort_ro", sort_ro)];

/// # Format
/// `SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]
/// [STORE destination]`
fn sort(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, args, false)
}

/// # Format
/// `SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA]`
fn sort_ro(ctx: &mut Ctx<'_>, args: &[&[u8]]) -> CmdResult {
    sort_generic(ctx, args, true)
}

/// Redis's `lookupKeyByPattern`: `#` is the element itself; otherwise the first `*` is
/// replaced by the element, and a `->field` suffix after it reads a hash field. Only
/// strings (or hash fields) are returned.
fn lookup_by_pattern(db: &mut Db, now: i64, pattern: &[u8], subst: &[u8]) -> Option<Vec<u8>> {
    if pattern == b"#" {
        return Some(subst.to_vec());
    }
    let star = memchr::memchr(b'*', pattern)?;
    let rest = &pattern[star + 1..];
    let (post, field) = match memchr::memmem::find(rest, b"->") {
        Some(f) if f + 2 < rest.len() => (&rest[..f], Some(&rest[f + 2..])),
        _ => (rest, None),
    };
    let mut key = Vec::with_capacity(star + subst.len() + post.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(subst);
    key.extend_from_slice(post);
    let e = db.lookup_read(&key, now)?;
    match (field, &e.value) {
        (Some(f), Value::Hash(h)) => h.get(f).map(|v| v.to_vec()),
        (None, Value::Str(s)) => Some(s.to_vec()),
        _ => None,
    }
}

/// A sort weight as sort.c reads it: a bare `strtod` whose end must be the end of the C
/// string (so `" 1"` and `"0x10"` pass, a NUL ends the value: `"\0\xff"` is 0), refused on
/// NaN or on any `ERANGE`, an inexact subnormal included.
fn parse_weight(s: &[u8]) -> Option<f64> {
    let r = crate::util::strtod(s);
    (r.reached_c_end(s) && !r.erange && !r.value.is_nan()).then_some(r.value)
}

struct Item {
    obj: Vec<u8>,
    score: f64,
    cmp: Option<Vec<u8>>,
}

/// `sortCommandGeneric`.
fn sort_generic(ctx: &mut Ctx<'_>, args: &[&[u8]], readonly: bool) -> CmdResult {
    let key = args[1];
    let (mut desc, mut alpha, mut dontsort) = (false, false, false);
    let (mut limit_start, mut limit_count) = (0i64, -1i64);
    let mut store: Option<&[u8]> = None;
    let mut sortby: Option<&[u8]> = None;
    let mut gets: Vec<&[u8]> = Vec::new();
    let mut a = Args::new(args, 2);
    while !a.is_empty() {
        if a.eat("asc") {
            desc = false;
        } else if a.eat("desc") {
            desc = true;
        } else if a.eat("alpha") {
            alpha = true;
        } else if a.eat_with("limit", 2) {
            limit_start = a.int()?;
            limit_count = a.int()?;
        } else if !readonly && a.eat_with("store", 1) {
            store = Some(a.value()?);
        } else if a.eat_with("by", 1) {
            let pattern = a.value()?;
            sortby = Some(pattern);
            // A pattern without `*` names one key for every element: nothing to sort by.
            if memchr::memchr(b'*', pattern).is_none() {
                dontsort = true;
            } else if ctx.session.restricted_keys {
                return Err(CmdError::Static(
                    "ERR BY option of SORT denied due to insufficient ACL permissions.",
                ));
            }
        } else if a.eat_with("get", 1) {
            if ctx.session.restricted_keys {
                return Err(CmdError::Static(
                    "ERR GET option of SORT denied due to insufficient ACL permissions.",
                ));
            }
            gets.push(a.value()?);
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let now = ctx.now_ms();
    let db = ctx.session.db;
    let fill = ctx.engine.config.list_max_listpack_size;
    let dbr = &mut ctx.engine.dbs[db];
    let mut entry = dbr.lookup_read(key, now);
    if let Some(e) = &entry
        && !matches!(e.value, Value::List(_) | Value::Set(_) | Value::ZSet(_))
    {
        return Err(CmdError::WrongType);
    }
    if dontsort
        && store.is_some()
        && matches!(entry.as_deref().map(|e| &e.value), Some(Value::Set(_)))
    {
        dontsort = false;
        alpha = true;
        sortby = None;
    }
    if let Some(e) = entry.as_deref_mut()
        && let Value::ZSet(z) = &mut e.value
    {
        z.convert_to_skiplist(0);
    }
    let value = entry.map(|e| &e.value);
    let len = match value {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => s.len(),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 {
        len - 1
    } else {
        start.saturating_add(limit_count) - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    let ordered = matches!(value, Some(Value::List(_) | Value::ZSet(_)));
    let mut vlen = len;
    if ordered && dontsort && (start != 0 || end != len - 1) {
        vlen = end - start + 1;
    }
    let mut items: Vec<Item> = Vec::with_capacity(vlen.max(0) as usize);
    let mk = |obj: Vec<u8>| Item {
        obj,
        score: 0.0,
        cmp: None,
    };
    match value {
        Some(Value::List(l)) if dontsort && end >= start => {
            let ql = l.ql();
            let n = vlen.max(0) as usize;
            if desc {
                let from = (len - start - 1) as usize;
                let skip = ql.len() - 1 - from;
                for v in ql.iter().rev().skip(skip).take(n) {
                    items.push(mk(v.to_vec()));
                }
            } else {
                for v in ql.iter_from(start as usize).take(n) {
                    items.push(mk(v.to_vec()));
                }
            }
            end -= start;
            start = 0;
        }
        // An empty range of an unsorted list loads nothing.
        Some(Value::List(_)) if dontsort => {}
        Some(Value::List(l)) => {
            for v in l.ql().iter() {
                items.push(mk(v.to_vec()));
            }
        }
        Some(Value::Set(s)) => {
            let mut scratch = [0u8; 20];
            for m in s.iter() {
                items.push(mk(m.as_bytes(&mut scratch).to_vec()));
            }
        }
        Some(Value::ZSet(z)) if dontsort => {
            let n = vlen.max(0) as usize;
            if n > 0 {
                let first = if desc {
                    (len - 1 - start) as usize
                } else {
                    start as usize
                };
                z.for_ranks(first, n, desc, &mut |m, _| {
                    items.push(mk(m.to_vec()));
                    true
                });
            }
            end -= start;
            start = 0;
        }
        Some(Value::ZSet(z)) => z.for_each(&mut |m, _| items.push(mk(m.to_vec()))),
        _ => {}
    }

    let mut conversion_error = false;
    if !dontsort {
        for it in &mut items {
            let byval = match sortby {
                Some(p) => match lookup_by_pattern(&mut ctx.engine.dbs[db], now, p, &it.obj) {
                    Some(v) => v,
                    None => continue,
                },
                None => {
                    if !alpha {
                        match parse_weight(&it.obj) {
                            Some(v) => it.score = v,
                            None => conversion_error = true,
                        }
                    }
                    continue;
                }
            };
            if alpha {
                it.cmp = Some(byval);
            } else {
                match parse_weight(&byval) {
                    Some(v) => it.score = v,
                    None => conversion_error = true,
                }
            }
        }
        let bypattern = sortby.is_some();
        // ALPHA compares with strcoll (C strings: a NUL ends them; the C locale in the
        // server's environment) unless STORE, where Redis compares the bytes.
        let collate = |x: &[u8], y: &[u8]| {
            if store.is_some() {
                x.cmp(y)
            } else {
                crate::util::c_str(x).cmp(crate::util::c_str(y))
            }
        };
        items.sort_by(|a, b| {
            let c = if !alpha {
                a.score
                    .partial_cmp(&b.score)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| a.obj.cmp(&b.obj))
            } else if bypattern {
                match (&a.cmp, &b.cmp) {
                    (None, None) => Ordering::Equal,
                    (None, Some(_)) => Ordering::Less,
                    (Some(_), None) => Ordering::Greater,
                    (Some(x), Some(y)) => collate(x, y),
                }
            } else {
                collate(&a.obj, &b.obj)
            };
            if desc { c.reverse() } else { c }
        });
    }

    if conversion_error {
        return Err(CmdError::Static(
            "ERR One or more scores can't be converted into double",
        ));
    }
    let per = if gets.is_empty() {
        1
    } else {
        gets.len() as i64
    };
    let outputlen = (per * (end - start + 1)).max(0);
    // `get` keeps an inconsistent range (which the loading above never produces) from
    // panicking.
    let range: &[Item] = if end >= start {
        items.get(start as usize..=end as usize).unwrap_or(&[])
    } else {
        &[]
    };
    match store {
        None => {
            ctx.out.array(outputlen as usize);
            for it in range {
                if gets.is_empty() {
                    ctx.out.bulk(&it.obj);
                }
                for g in &gets {
                    match lookup_by_pattern(&mut ctx.engine.dbs[db], now, g, &it.obj) {
                        Some(v) => ctx.out.bulk(&v),
                        None => ctx.out.null(),
                    }
                }
            }
        }
        Some(dst) => {
            let mut list = ListValue::new(fill);
            for it in range {
                if gets.is_empty() {
                    list.ql_mut().push_back(&it.obj);
                }
                for g in &gets {
                    let v = lookup_by_pattern(&mut ctx.engine.dbs[db], now, g, &it.obj);
                    list.ql_mut().push_back(v.as_deref().unwrap_or(b""));
                }
            }
            if outputlen > 0 {
                let existed = ctx.engine.dbs[db].lookup_write(dst, now).is_some();
                ctx.engine.dbs[db].set(dst, Value::List(Box::new(list)), false);
                ctx.signal_modified(dst);
                if !existed {
                    ctx.signal_ready(dst);
                }
                ctx.notify(notify::LIST, "sortstore", dst);
                ctx.engine.dirty += outputlen as u64;
            } else if ctx.engine.dbs[db].delete(dst, now) {
                ctx.signal_modified(dst);
                ctx.notify(notify::GENERIC, "del", dst);
                ctx.engine.dirty += 1;
            }
            ctx.out.int(outputlen);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::testkit::Harness;

    #[test]
    fn numeric_alpha_by_get_store() {
        let mut h = Harness::new();
        h.run(&["RPUSH", "l", "3", "1", "2"]);
        assert_eq!(
            h.run(&["SORT", "l"]),
            "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            h.run(&["SORT", "l", "DESC", "LIMIT", "0", "1"]),
            "*1\r\n$1\r\n3\r\n"
        );
        h.run(&["SET", "w_1", "9"]);
        h.run(&["HSET", "h_2", "f", "two"]);
        assert_eq!(
            h.run(&["SORT", "l", "BY", "w_*", "GET", "#", "GET", "h_*->f"]),
            "*6\r\n$1\r\n2\r\n$3\r\ntwo\r\n$1\r\n3\r\n$-1\r\n$1\r\n1\r\n$-1\r\n"
        );
        assert_eq!(
            h.run(&["SORT", "l", "BY", "nosort", "DESC"]),
            "*3\r\n$1\r\n2\r\n$1\r\n1\r\n$1\r\n3\r\n"
        );
        h.run(&["RPUSH", "a", "b", "x"]);
        assert_eq!(
            h.run(&["SORT", "a"]),
            "-ERR One or more scores can't be converted into double\r\n"
        );
        assert_eq!(
            h.run(&["SORT", "a", "ALPHA", "DESC"]),
            "*2\r\n$1\r\nx\r\n$1\r\nb\r\n"
        );
        let before = h.engine.dirty;
        assert_eq!(h.run(&["SORT", "l", "STORE", "d"]), ":3\r\n");
        assert_eq!(h.engine.dirty - before, 3);
        assert_eq!(
            h.run(&["LRANGE", "d", "0", "-1"]),
            "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n"
        );
        assert_eq!(
            h.run(&["SORT_RO", "l", "STORE", "d"]),
            "-ERR syntax error\r\n"
        );
        assert_eq!(
            h.run(&["SORT", "l", "LIMIT", "5", "5", "STORE", "d"]),
            ":0\r\n"
        );
        assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
        h.run(&["ZADD", "z", "1", "b", "2", "a"]);
        assert_eq!(
            h.run(&["SORT", "z", "BY", "x", "DESC"]),
            "*2\r\n$1\r\na\r\n$1\r\nb\r\n"
        );
        assert_eq!(h.run(&["OBJECT", "ENCODING", "z"]), "$8\r\nskiplist\r\n");
        h.run(&["SET", "s", "v"]);
        assert_eq!(
            h.run(&["SORT", "s"]),
            "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
        );
    }
}
