//! DEBUG DIGEST and DIGEST-VALUE: a SHA-1 based fingerprint of a dataset or of one value,
//! equal to Redis 7.0's for the same contents (tests compare two servers' keyspaces with
//! it, whatever the encodings or iteration orders).
//!
//! Redis's construction: `xor(d, data)` xors SHA1(data) into `d` (order-insensitive, for
//! sets, hashes, zsets and the keys of a db); `mix(d, data)` is `d = SHA1(d xor
//! SHA1(data))` (order-sensitive, for list elements and a key's parts). A key's digest
//! mixes the key, the type number (big-endian u32), the value, and xors `!!expire!!` when it
//! has a TTL; a db's keys are xored together after mixing the db number into the total.
//! Zset scores are hashed as `%.17g` text, integers as their decimal text.

use crate::db::{Db, Entry};
use crate::object::Value;
use sha1::{Digest as _, Sha1};

/// A 20-byte digest.
pub type Digest = [u8; 20];

fn sha1(data: &[u8]) -> Digest {
    Sha1::digest(data).into()
}

/// `d ^= SHA1(data)`.
fn xor(d: &mut Digest, data: &[u8]) {
    for (a, b) in d.iter_mut().zip(sha1(data)) {
        *a ^= b;
    }
}

/// `d = SHA1(d ^ SHA1(data))`.
fn mix(d: &mut Digest, data: &[u8]) {
    xor(d, data);
    *d = sha1(d);
}

/// Redis's type numbers (`OBJ_STRING`…), which the digest hashes.
fn type_number(v: &Value) -> u32 {
    match v {
        Value::Str(_) => 0,
        Value::List(_) => 1,
        Value::Set(_) => 2,
        Value::ZSet(_) => 3,
        Value::Hash(_) => 4,
        Value::Stream(_) => 6,
    }
}

/// Mixes one value (its type, contents and whether it expires) into `d`: Redis's
/// `xorObjectDigest`.
pub fn value_into(d: &mut Digest, entry: &Entry) {
    let value = &entry.value;
    mix(d, &type_number(value).to_be_bytes());
    let mut s1 = [0u8; 20];
    let mut s2 = [0u8; 20];
    match value {
        Value::Str(s) => mix(d, s.as_bytes(&mut s1)),
        Value::List(l) => {
            for e in l.ql().iter() {
                mix(d, e.as_bytes(&mut s1));
            }
        }
        Value::Set(s) => {
            for m in s.iter() {
                xor(d, m.as_bytes(&mut s1));
            }
        }
        Value::ZSet(z) => {
            let mut fb = [0u8; 32];
            z.for_each(&mut |m, score| {
                let mut e = [0u8; 20];
                mix(&mut e, m);
                mix(&mut e, resp::num::fmt_g17(score, &mut fb));
                xor(d, &e);
            });
        }
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                let mut e = [0u8; 20];
                mix(&mut e, f.as_bytes(&mut s1));
                mix(&mut e, v.as_bytes(&mut s2));
                xor(d, &e);
            }
        }
        // Redis mixes each entry's `ms.seq` ID, then its fields and values, in order;
        // consumer groups are not part of the digest.
        Value::Stream(st) => st.for_each_entry(&mut |id, fields| {
            let mut idbuf = Vec::with_capacity(42);
            idbuf.extend_from_slice(id.ms.to_string().as_bytes());
            idbuf.push(b'.');
            idbuf.extend_from_slice(id.seq.to_string().as_bytes());
            mix(d, &idbuf);
            for (f, v) in fields {
                mix(d, f.as_bytes(&mut s1));
                mix(d, v.as_bytes(&mut s2));
            }
        }),
    }
    if entry.expire_at().is_some() {
        xor(d, b"!!expire!!");
    }
}

/// DEBUG DIGEST-VALUE of one key: zeros when the key does not exist (logically expired keys
/// still count, as Redis reads the dict directly).
pub fn value_digest(entry: Option<&Entry>) -> Digest {
    let mut d = [0u8; 20];
    if let Some(e) = entry {
        value_into(&mut d, e);
    }
    d
}

/// DEBUG DIGEST: every db's keys and values; zeros for an empty dataset.
pub fn dataset_digest(dbs: &[Db]) -> Digest {
    let mut total = [0u8; 20];
    for (id, db) in dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        mix(&mut total, &(id as u32).to_be_bytes());
        db.for_each(&mut |key, entry| {
            let mut d = [0u8; 20];
            mix(&mut d, key);
            value_into(&mut d, entry);
            xor(&mut total, &d);
        });
    }
    total
}

/// Lower-case hex, as Redis prints a digest.
pub fn hex(d: &Digest) -> String {
    use std::fmt::Write;
    d.iter().fold(String::with_capacity(40), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::testkit::Harness;

    fn digest_of(h: &mut Harness, key: &str) -> String {
        hex(&value_digest(h.engine.dbs[0].entry_raw(key.as_bytes())))
    }

    /// Figures from Redis 7.0.15 (`DEBUG DIGEST-VALUE`), for the same commands.
    #[test]
    fn values_digest_as_redis() {
        let mut h = Harness::new();
        h.run(&["SET", "s", "v"]);
        assert_eq!(
            digest_of(&mut h, "s"),
            "d79ee9fe5d5ad902d7f6620efc3b07b75ddd742f"
        );
        h.run(&["ZADD", "z", "0.1", "a", "1.5", "b", "3", "c"]);
        assert_eq!(
            digest_of(&mut h, "z"),
            "7ff3f958101e8015f3a85e52c2a23357a700d643"
        );
        assert_eq!(digest_of(&mut h, "missing"), "0".repeat(40));
    }
}
