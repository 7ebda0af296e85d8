//! The base of a rewrite in command form (Redis's `rewriteAppendOnlyFileRio`, used when
//! `aof-use-rdb-preamble no`): per non-empty db a `SELECT`, then per key the commands that
//! rebuild it — `SET`, or `RPUSH`/`SADD`/`ZADD`/`HMSET` with at most 64 items each
//! (AOF_REWRITE_ITEMS_PER_CMD) — and `PEXPIREAT` when it has a TTL.
//!
//! Also the smallest RDB Redis writes for an empty dataset ([`empty_rdb`]: header, aux
//! fields, EOF, CRC-64) and a reader for it ([`skip_empty_rdb`]), so a start-up base in
//! RDB form is written and read the way Redis 7.0 does without the full RDB codec.

use super::writer::{encode_bulk, encode_select};
use crate::rdb::codec::{self, op as opcode};
use engine::db::Db;
use engine::object::Value;
use engine::object::set::Member;
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
    }
    if let Some(at) = expire_at {
        header(out, 3, b"PEXPIREAT", key);
        encode_bulk(out, at.to_string().as_bytes());
    }
}

/// Writes the whole keyspace in command form to `w`, flushing every `chunk` bytes.
pub fn rewrite_dbs(dbs: &[Db], w: &mut impl Write) -> io::Result<()> {
    const CHUNK: usize = 1 << 20;
    let mut buf = Vec::with_capacity(CHUNK);
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

fn aux(out: &mut Vec<u8>, k: &[u8], v: &[u8]) {
    out.push(opcode::AUX);
    codec::put_len(out, k.len() as u64);
    out.extend_from_slice(k);
    codec::put_len(out, v.len() as u64);
    out.extend_from_slice(v);
}

/// An RDB with no keys, as Redis 7.0 writes an AOF base for an empty dataset: the header,
/// the aux fields (`aof-base 1` among them) and EOF with its checksum.
pub fn empty_rdb(redis_version: &str, ctime: i64, used_mem: u64) -> Vec<u8> {
    let mut out = format!("REDIS{:04}", codec::RDB_VERSION).into_bytes();
    aux(&mut out, b"redis-ver", redis_version.as_bytes());
    aux(&mut out, b"redis-bits", b"64");
    aux(&mut out, b"ctime", ctime.to_string().as_bytes());
    aux(&mut out, b"used-mem", used_mem.to_string().as_bytes());
    aux(&mut out, b"aof-base", b"1");
    out.push(opcode::EOF);
    let crc = codec::crc64(0, &out);
    out.extend_from_slice(&crc.to_le_bytes());
    out
}

/// Why an RDB base could not be read without the full RDB loader.
#[derive(Debug, PartialEq, Eq)]
pub enum PreambleError {
    /// The RDB holds keys (or other data) this reader does not decode.
    HasData,
    /// Not a well-formed RDB.
    Bad,
}

fn read_len(b: &[u8], p: &mut usize) -> Option<(u64, bool)> {
    let first = *b.get(*p)?;
    *p += 1;
    match first >> 6 {
        0 => Some(((first & 0x3f) as u64, false)),
        1 => {
            let second = *b.get(*p)?;
            *p += 1;
            Some(((((first & 0x3f) as u64) << 8) | second as u64, false))
        }
        2 => {
            let n = if first == codec::LEN_32BIT { 4 } else { 8 };
            let bytes = b.get(*p..*p + n)?;
            *p += n;
            let mut v = 0u64;
            for &x in bytes {
                v = (v << 8) | x as u64;
            }
            Some((v, false))
        }
        _ => Some(((first & 0x3f) as u64, true)),
    }
}

fn skip_string(b: &[u8], p: &mut usize) -> Option<()> {
    let (len, enc) = read_len(b, p)?;
    let n = if enc {
        match len as u8 {
            codec::ENC_INT8 => 1,
            codec::ENC_INT16 => 2,
            codec::ENC_INT32 => 4,
            codec::ENC_LZF => {
                let (clen, _) = read_len(b, p)?;
                read_len(b, p)?;
                clen as usize
            }
            _ => return None,
        }
    } else {
        len as usize
    };
    b.get(*p..*p + n)?;
    *p += n;
    Some(())
}

/// Reads an RDB that holds no keys (aux fields, SELECTDB/RESIZEDB only) and returns the
/// offset after its checksum; [`PreambleError::HasData`] when it holds anything else.
pub fn skip_empty_rdb(b: &[u8]) -> Result<usize, PreambleError> {
    if b.len() < 9 || &b[..5] != b"REDIS" {
        return Err(PreambleError::Bad);
    }
    let mut p = 9;
    loop {
        let Some(&op) = b.get(p) else {
            return Err(PreambleError::Bad);
        };
        p += 1;
        match op {
            opcode::AUX => {
                skip_string(b, &mut p).ok_or(PreambleError::Bad)?;
                skip_string(b, &mut p).ok_or(PreambleError::Bad)?;
            }
            opcode::SELECTDB => {
                read_len(b, &mut p).ok_or(PreambleError::Bad)?;
            }
            opcode::RESIZEDB => {
                read_len(b, &mut p).ok_or(PreambleError::Bad)?;
                read_len(b, &mut p).ok_or(PreambleError::Bad)?;
            }
            opcode::EOF => {
                let end = p + 8;
                if b.len() < end {
                    return Err(PreambleError::Bad);
                }
                let want = u64::from_le_bytes(b[p..end].try_into().expect("8 bytes"));
                if want != 0 && codec::crc64(0, &b[..p]) != want {
                    return Err(PreambleError::Bad);
                }
                return Ok(end);
            }
            _ => return Err(PreambleError::HasData),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aof::reader::{Next, Reader};
    use engine::object::Str;

    #[test]
    fn empty_rdb_reads_back() {
        let r = empty_rdb("7.0.15", 1_700_000_000, 123);
        assert!(r.starts_with(b"REDIS0010\xfa\x09redis-ver\x067.0.15"));
        assert_eq!(skip_empty_rdb(&r), Ok(r.len()));
        let mut bad = r.clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert_eq!(skip_empty_rdb(&bad), Err(PreambleError::Bad));
    }

    #[test]
    fn reads_redis_empty_base() {
        // A base Redis 7.0.15 wrote for an empty dataset (int-encoded aux values).
        let redis: &[u8] = b"REDIS0010\xfa\x09redis-ver\x067.0.15\xfa\x0aredis-bits\xc0\x40\
\xfa\x05ctime\xc2\x4d\xe3\x12\x6b\xfa\x08used-mem\xc2\xc8\x5f\x0d\x00\
\xfa\x08aof-base\xc0\x01\xff\x01\x84\x83\xe8\x58\x57\x9b\xf1";
        assert_eq!(skip_empty_rdb(redis), Ok(redis.len()));
        let mut with_key = redis[..redis.len() - 9].to_vec();
        with_key.extend_from_slice(b"\x00\x01k\x01v");
        assert_eq!(skip_empty_rdb(&with_key), Err(PreambleError::HasData));
    }

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
