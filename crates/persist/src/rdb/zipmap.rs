//! Zipmap: the small-hash encoding of Redis 2.x (`src/zipmap.c`), read only to load RDB
//! files of that era (`RDB_TYPE_HASH_ZIPMAP`); Redis 7.0 converts it to a listpack on load.
//!
//! Layout: `<zmlen: u8> (<len> field <len> <free: u8> value <free bytes>)* 0xFF`, where a
//! `<len>` is one byte below 254, else 0xFE (or 0xFF) and a u32 in host (little-endian)
//! order. `zmlen` is the pair count, or 254 when it is too large to say.
//!
//! [`walk`] is `zipmapValidateIntegrity` with `deep` set: every length and payload inside
//! the blob, at least one pair, and the count agreeing with `zmlen` unless that is 254.

const BIGLEN: u8 = 254;
const END: u8 = 0xFF;

/// Reads a `<len>` at `p`: (length, bytes it took), or `None` past `last`.
fn len_at(zm: &[u8], p: usize, last: usize) -> Option<(usize, usize)> {
    if zm[p] < BIGLEN {
        return Some((zm[p] as usize, 1));
    }
    if p + 5 > last {
        return None;
    }
    let n = u32::from_le_bytes([zm[p + 1], zm[p + 2], zm[p + 3], zm[p + 4]]);
    Some((n as usize, 5))
}

/// Validates the zipmap and calls `f(field, value)` for each pair in order; false if it is
/// invalid or `f` returns false. Never panics.
pub fn walk<'a>(zm: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8]) -> bool) -> bool {
    if zm.len() < 2 || zm[zm.len() - 1] != END {
        return false;
    }
    let last = zm.len() - 1;
    let mut p = 1usize;
    let mut count = 0usize;
    while zm[p] != END {
        let Some((klen, s)) = len_at(zm, p, last) else {
            return false;
        };
        let key_start = p + s;
        p = match key_start.checked_add(klen) {
            Some(e) if e <= last => e,
            _ => return false,
        };
        let Some((vlen, s)) = len_at(zm, p, last) else {
            return false;
        };
        p += s;
        if p >= last {
            return false;
        }
        let free = zm[p] as usize;
        let val_start = p + 1;
        let val_end = match val_start.checked_add(vlen) {
            Some(e) if e <= last => e,
            _ => return false,
        };
        p = val_end + free;
        if p > last {
            return false;
        }
        count += 1;
        if !f(&zm[key_start..key_start + klen], &zm[val_start..val_end]) {
            return false;
        }
    }
    count != 0 && (zm[0] == BIGLEN || zm[0] as usize == count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(zm: &[u8]) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut v = Vec::new();
        walk(zm, |f, x| {
            v.push((f.to_vec(), x.to_vec()));
            true
        })
        .then_some(v)
    }

    #[test]
    fn reads_redis_2_bytes() {
        // From hash-zipmap.rdb: f1 → v1, f2 → v2, no free space.
        let zm = b"\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";
        assert_eq!(
            pairs(zm).unwrap(),
            [
                (b"f1".to_vec(), b"v1".to_vec()),
                (b"f2".to_vec(), b"v2".to_vec())
            ]
        );
        // Free bytes after a value are skipped; a big length; zmlen 254 means "count it".
        let mut zm = vec![BIGLEN, 1, b'a', 1, 2, b'x', 0, 0, 0xFE];
        zm.extend_from_slice(&300u32.to_le_bytes());
        zm.extend_from_slice(&[b'k'; 300]);
        zm.extend_from_slice(&[0, 0]);
        zm.push(END);
        let p = pairs(&zm).unwrap();
        assert_eq!(p[0], (b"a".to_vec(), b"x".to_vec()));
        assert_eq!((p[1].0.len(), p[1].1.len()), (300, 0));
    }

    #[test]
    fn rejects_corruption_without_panicking() {
        let zm = b"\x02\x02f1\x02\x00v1\x02f2\x02\x00v2\xff";
        assert!(pairs(b"\x00\xff").is_none(), "empty");
        assert!(
            pairs(b"\x03\x02f1\x02\x00v1\x02f2\x02\x00v2\xff").is_none(),
            "count"
        );
        for i in 0..zm.len() {
            for b in [0u8, 1, 0x20, 0xFD, 0xFE, 0xFF] {
                let mut c = zm.to_vec();
                c[i] = b;
                let _ = pairs(&c);
            }
            let _ = pairs(&zm[..i]);
        }
    }
}
