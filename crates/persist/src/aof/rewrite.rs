//! The base of a rewrite in command form (Redis's `rewriteAppendOnlyFileRio`, used when
//! `aof-use-rdb-preamble no`): per non-empty db a `SELECT`, then per key the commands that
//! rebuild it — `SET`, or `RPUSH`/`SADD`/`ZADD`/`HMSET` with at most 64 items each
//! (AOF_REWRITE_ITEMS_PER_CMD) — and `PEXPIREAT` when it has a TTL.
//! (An RDB base is `rdb::write`'s, with the `aof-base` aux field.)

use super::writer::{encode_bulk, encode_select};
use engine::db::Db;
use engine::object::Value;
use engine::object::set::Member;
use engine::types::stream::{Stream, StreamId};
use std::io::{self, Write};

/// Redis's AOF_REWRITE_ITEMS_PER_CMD.
pub const ITEMS_PER_CMD: usize = 64;

fn header(out: &mut Vec<u8>, argc: usize, name: &[u8], key: &[u8]) {
    out.extend_from_slice(format!("*{argc}\r\n").as_bytes());
    encode_bulk(out, name);
    encode_bulk(out, key);
}

/// Appends the commands that rebuild one key.
pub fn rewrite_key(out: &mut Vec<u8>, key: &[u8], value: &Value, expire_at: Option<i64>) {
    let mut s1 = [0u8; 20];
    let mut s2 = [0u8; 20];
    match value {
        Value::Str(s) => {
            header(out, 3, b"SET", key);
            encode_bulk(out, s.as_bytes(&mut s1));
        }
        Value::List(l) => {
            let mut it = l.ql().iter();
            let total = l.len();
            let mut left = total;
            while left > 0 {
                let n = left.min(ITEMS_PER_CMD);
                header(out, 2 + n, b"RPUSH", key);
                for _ in 0..n {
                    let v = it.next().expect("list length");
                    encode_bulk(out, v.as_bytes(&mut s1));
                }
                left -= n;
            }
        }
        Value::Set(set) => {
            let mut it = set.iter();
            let mut left = set.len();
            while left > 0 {
                let n = left.min(ITEMS_PER_CMD);
                header(out, 2 + n, b"SADD", key);
                for _ in 0..n {
                    let m: Member<'_> = it.next().expect("set length");
                    encode_bulk(out, m.as_bytes(&mut s1));
                }
                left -= n;
            }
        }
        Value::ZSet(z) => {
            let mut pairs: Vec<(Vec<u8>, f64)> = Vec::with_capacity(z.len());
            z.for_each(&mut |m, s| pairs.push((m.to_vec(), s)));
            let mut fb = [0u8; 32];
            for chunk in pairs.chunks(ITEMS_PER_CMD) {
                header(out, 2 + chunk.len() * 2, b"ZADD", key);
                for (m, s) in chunk {
                    encode_bulk(out, resp::num::fmt_g17(*s, &mut fb));
                    encode_bulk(out, m);
                }
            }
        }
        Value::Hash(h) => {
            let mut it = h.iter();
            let mut left = h.len();
            while left > 0 {
                let n = left.min(ITEMS_PER_CMD);
                header(out, 2 + n * 2, b"HMSET", key);
                for _ in 0..n {
                    let (f, v) = it.next().expect("hash length");
                    encode_bulk(out, f.as_bytes(&mut s1));
                    encode_bulk(out, v.as_bytes(&mut s2));
                }
                left -= n;
            }
        }
        Value::Stream(st) => rewrite_stream(out, key, st),
    }
    if let Some(at) = expire_at {
        header(out, 3, b"PEXPIREAT", key);
        encode_bulk(out, at.to_string().as_bytes());
    }
}

fn bulk_id(out: &mut Vec<u8>, id: StreamId) {
    encode_bulk(out, format!("{}-{}", id.ms, id.seq).as_bytes());
}

/// Redis 7.0's `rewriteStreamObject`: one XADD per entry (an empty stream is made with
/// `XADD key MAXLEN 0 0-1 x y`), XSETID with ENTRIESADDED and MAXDELETEDID, then per group
/// XGROUP CREATE … ENTRIESREAD, and per consumer either XGROUP CREATECONSUMER (nothing
/// pending) or one `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n JUSTID FORCE` per
/// pending entry.
fn rewrite_stream(out: &mut Vec<u8>, key: &[u8], st: &Stream) {
    let mut s1 = [0u8; 20];
    let mut s2 = [0u8; 20];
    if st.length > 0 {
        st.for_each_entry(&mut |id, fields| {
            header(out, 3 + fields.len() * 2, b"XADD", key);
            bulk_id(out, id);
            for (f, v) in fields {
                encode_bulk(out, f.as_bytes(&mut s1));
                encode_bulk(out, v.as_bytes(&mut s2));
            }
        });
    } else {
        header(out, 7, b"XADD", key);
        for a in [&b"MAXLEN"[..], b"0", b"0-1", b"x", b"y"] {
            encode_bulk(out, a);
        }
    }
    header(out, 7, b"XSETID", key);
    bulk_id(out, st.last_id);
    encode_bulk(out, b"ENTRIESADDED");
    encode_bulk(out, st.entries_added.to_string().as_bytes());
    encode_bulk(out, b"MAXDELETEDID");
    bulk_id(out, st.max_deleted_entry_id);
    let Some(groups) = &st.groups else { return };
    for (name, g) in groups.iter() {
        out.extend_from_slice(b"*7\r\n");
        for a in [&b"XGROUP"[..], b"CREATE", key, name] {
            encode_bulk(out, a);
        }
        bulk_id(out, g.last_id);
        encode_bulk(out, b"ENTRIESREAD");
        encode_bulk(out, g.entries_read.to_string().as_bytes());
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                out.extend_from_slice(b"*5\r\n");
                for a in [&b"XGROUP"[..], b"CREATECONSUMER", key, name, cname] {
                    encode_bulk(out, a);
                }
                continue;
            }
            for id in &c.pel {
                let Some(pe) = g.pel.get(id) else { continue };
                out.extend_from_slice(b"*12\r\n");
                for a in [&b"XCLAIM"[..], key, name, cname, b"0"] {
                    encode_bulk(out, a);
                }
                bulk_id(out, *id);
                encode_bulk(out, b"TIME");
                encode_bulk(out, pe.delivery_time.to_string().as_bytes());
                encode_bulk(out, b"RETRYCOUNT");
                encode_bulk(out, pe.delivery_count.to_string().as_bytes());
                encode_bulk(out, b"JUSTID");
                encode_bulk(out, b"FORCE");
            }
        }
    }
}

/// Writes the whole keyspace in command form to `w`, flushing every `chunk` bytes.
pub fn rewrite_dbs(dbs: &[Db], functions: &[Vec<u8>], w: &mut impl Write) -> io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let mut buf = Vec::with_capacity(CHUNK);
    // Function libraries first, as `FUNCTION LOAD` (Redis's rewriteFunctions).
    for code in functions {
        buf.extend_from_slice(b"*3\r\n");
        encode_bulk(&mut buf, b"FUNCTION");
        encode_bulk(&mut buf, b"LOAD");
        encode_bulk(&mut buf, code);
    }
    let mut err = None;
    for db in dbs {
        if db.is_empty() {
            continue;
        }
        encode_select(&mut buf, db.id);
        db.for_each(&mut |k, e| {
            if err.is_some() {
                return;
            }
            rewrite_key(&mut buf, k, &e.value, e.expire_at());
            if buf.len() >= CHUNK {
                if let Err(e) = w.write_all(&buf) {
                    err = Some(e);
                }
                buf.clear();
            }
        });
        if let Some(e) = err {
            return Err(e);
        }
    }
    w.write_all(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aof::reader::{Next, Reader};
    use engine::object::Str;

    #[test]
    fn batches_of_64_and_pexpireat() {
        let mut out = Vec::new();
        rewrite_key(
            &mut out,
            b"k",
            &Value::Str(Str::raw(b"v".to_vec())),
            Some(42),
        );
        let mut r = Reader::new(&out, 0);
        let mut lines = Vec::new();
        while let Next::Command { argv, .. } = r.next_command() {
            lines.push(
                argv.iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect::<Vec<_>>()
                    .join(" "),
            );
        }
        assert_eq!(lines, ["SET k v", "PEXPIREAT k 42"]);
    }
}
