//! Ziplist: the compact list of Redis up to 6.2 (`src/ziplist.c`), read only to load old
//! RDB files (lists, hashes and sorted sets of RDB version 9 and earlier). Redis 7.0 converts
//! every ziplist it loads to a listpack, and so do we.
//!
//! Layout (integers little-endian):
//! ```text
//! <zlbytes: u32> <zltail: u32> <zllen: u16> <entry>* <0xFF>
//! entry = <prevlen: 1 byte < 254, or 0xFE + u32> <encoding> <data>
//! 00LLLLLL                      string shorter than 64 bytes
//! 01LLLLLL LLLLLLLL             string shorter than 16384 bytes (big-endian length)
//! 10______ + u32 (big-endian)   longer string
//! 0xC0 / 0xD0 / 0xE0            int16 / int32 / int64
//! 0xF0 / 0xFE                   int24 / int8
//! 0xF1 ..= 0xFD                 the integers 0..=12, no data
//! ```
//! [`walk`] is `ziplistValidateIntegrity` with `deep` set: every entry must lie inside the
//! blob, its `prevlen` must equal the previous entry's size, the walk must end on the last
//! byte, `zltail` must point at the last entry and `zllen` must be the count (or 65535).

use engine::types::listpack::Listpack;

const HEADER: usize = 10;
const END: u8 = 0xFF;

/// One ziplist entry's value; strings borrow from the blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry<'a> {
    Str(&'a [u8]),
    Int(i64),
}

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Decodes the entry at `p`, where `last` is the index of the terminating 0xFF: returns
/// (prevlen, value, total entry size), or `None` when any part of it lies past `last`.
fn entry_at(zl: &[u8], p: usize, last: usize) -> Option<(usize, Entry<'_>, usize)> {
    let mut q = p;
    let prevlen = if zl[q] < 0xFE {
        q += 1;
        zl[p] as usize
    } else {
        if q + 5 > last {
            return None;
        }
        q += 5;
        le(&zl[p + 1..p + 5]) as usize
    };
    if q >= last {
        return None;
    }
    let enc = zl[q];
    let (hdr, data_len, int): (usize, usize, Option<usize>) = match enc >> 6 {
        0 => (1, (enc & 0x3F) as usize, None),
        1 => {
            if q + 2 > last {
                return None;
            }
            (2, (((enc & 0x3F) as usize) << 8) | zl[q + 1] as usize, None)
        }
        2 => {
            if q + 5 > last {
                return None;
            }
            let n = u32::from_be_bytes([zl[q + 1], zl[q + 2], zl[q + 3], zl[q + 4]]);
            (5, n as usize, None)
        }
        _ => match enc {
            0xC0 => (1, 2, Some(2)),
            0xD0 => (1, 4, Some(4)),
            0xE0 => (1, 8, Some(8)),
            0xF0 => (1, 3, Some(3)),
            0xFE => (1, 1, Some(1)),
            0xF1..=0xFD => (1, 0, Some(0)),
            _ => return None,
        },
    };
    let data = q.checked_add(hdr)?;
    let end = data.checked_add(data_len)?;
    if end > last {
        return None;
    }
    let v = match int {
        None => Entry::Str(&zl[data..end]),
        Some(0) => Entry::Int((enc & 0x0F) as i64 - 1),
        Some(n) => {
            // Sign-extend an n-byte little-endian integer.
            let shift = 64 - 8 * n as u32;
            Entry::Int(((le(&zl[data..end]) << shift) as i64) >> shift)
        }
    };
    Some((prevlen, v, end - p))
}

/// Validates the whole ziplist and calls `f` on each entry in order; false (after calling
/// `f` on a prefix) if the blob is not a valid ziplist or `f` returns false. Never panics.
pub fn walk<'a>(zl: &'a [u8], mut f: impl FnMut(Entry<'a>) -> bool) -> bool {
    if zl.len() < HEADER + 1 {
        return false;
    }
    let bytes = le(&zl[0..4]) as usize;
    let tail = le(&zl[4..8]) as usize;
    let header_count = le(&zl[8..10]) as usize;
    let last = zl.len() - 1;
    if bytes != zl.len() || zl[last] != END || tail > last {
        return false;
    }
    let mut p = HEADER;
    let mut prev: Option<usize> = None;
    let mut prev_size = 0usize;
    let mut count = 0usize;
    while zl[p] != END {
        let Some((prevlen, v, size)) = entry_at(zl, p, last) else {
            return false;
        };
        if prevlen != prev_size || !f(v) {
            return false;
        }
        count += 1;
        prev = Some(p);
        prev_size = size;
        p += size;
    }
    if p != last || prev.is_some_and(|t| t != tail) {
        return false;
    }
    header_count == u16::MAX as usize || header_count == count
}

/// A ziplist of list elements as one listpack node (`_ziplistEntryConvertAndValidate`).
pub fn to_listpack(zl: &[u8]) -> Option<Listpack> {
    let mut lp = Listpack::with_capacity(zl.len());
    walk(zl, |e| {
        push(&mut lp, e);
        true
    })
    .then_some(lp)
}

/// Appends an entry to a listpack as Redis's conversion does (strings that look like
/// integers become integers, as `lpAppend` stores them).
pub fn push(lp: &mut Listpack, e: Entry<'_>) {
    match e {
        Entry::Str(s) => lp.push_back(s),
        Entry::Int(i) => lp.push_back_int(i),
    }
}

/// A ziplist of field/value (or member/score) pairs as a listpack, checking that the count
/// is even and no field repeats (`ziplistPairsConvertAndValidateIntegrity`).
pub fn pairs_to_listpack(zl: &[u8]) -> Option<Listpack> {
    let mut lp = Listpack::with_capacity(zl.len());
    let mut seen = std::collections::HashSet::new();
    let mut n = 0usize;
    let ok = walk(zl, |e| {
        if n.is_multiple_of(2) {
            let key = match e {
                Entry::Str(s) => s.to_vec(),
                Entry::Int(i) => i.to_string().into_bytes(),
            };
            if !seen.insert(key) {
                return false;
            }
        }
        n += 1;
        push(&mut lp, e);
        true
    });
    (ok && n.is_multiple_of(2)).then_some(lp)
}

/// Builds a ziplist (for tests: Redis 7.0 cannot write one any more).
#[cfg(test)]
pub fn build(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev_size = 0usize;
    let mut tail = HEADER;
    for e in entries {
        let start = body.len();
        tail = HEADER + start;
        if prev_size < 254 {
            body.push(prev_size as u8);
        } else {
            body.push(0xFE);
            body.extend_from_slice(&(prev_size as u32).to_le_bytes());
        }
        match *e {
            Entry::Str(s) if s.len() < 64 => {
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            Entry::Str(s) if s.len() < 16384 => {
                body.push(0x40 | (s.len() >> 8) as u8);
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            Entry::Str(s) => {
                body.push(0x80);
                body.extend_from_slice(&(s.len() as u32).to_be_bytes());
                body.extend_from_slice(s);
            }
            Entry::Int(i) if (0..=12).contains(&i) => body.push(0xF1 + i as u8),
            Entry::Int(i) if i8::try_from(i).is_ok() => {
                body.push(0xFE);
                body.push(i as u8);
            }
            Entry::Int(i) if i16::try_from(i).is_ok() => {
                body.push(0xC0);
                body.extend_from_slice(&(i as i16).to_le_bytes());
            }
            Entry::Int(i) if (-(1 << 23)..(1 << 23)).contains(&i) => {
                body.push(0xF0);
                body.extend_from_slice(&(i as i32).to_le_bytes()[..3]);
            }
            Entry::Int(i) if i32::try_from(i).is_ok() => {
                body.push(0xD0);
                body.extend_from_slice(&(i as i32).to_le_bytes());
            }
            Entry::Int(i) => {
                body.push(0xE0);
                body.extend_from_slice(&i.to_le_bytes());
            }
        }
        prev_size = body.len() - start;
    }
    let total = HEADER + body.len() + 1;
    let mut zl = Vec::with_capacity(total);
    zl.extend_from_slice(&(total as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(entries.len().min(65535) as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(END);
    zl
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(zl: &[u8]) -> Option<Vec<Entry<'_>>> {
        let mut v = Vec::new();
        walk(zl, |e| {
            v.push(e);
            true
        })
        .then_some(v)
    }

    #[test]
    fn reads_every_encoding() {
        let long = vec![b'x'; 300];
        let huge = vec![b'y'; 20000];
        let entries = [
            Entry::Str(b""),
            Entry::Str(b"abc"),
            Entry::Str(&long),
            Entry::Str(&huge),
            Entry::Int(0),
            Entry::Int(12),
            Entry::Int(-1),
            Entry::Int(-128),
            Entry::Int(1000),
            Entry::Int(-100_000),
            Entry::Int(8_000_000),
            Entry::Int(-2_000_000_000),
            Entry::Int(i64::MIN),
            Entry::Int(i64::MAX),
        ];
        let zl = build(&entries);
        assert_eq!(all(&zl).unwrap(), entries);
        // The entry after the 20000-byte string (itself after a 303-byte entry, so with a
        // 5-byte prevlen and a 5-byte header) has a 5-byte prevlen.
        assert!(
            zl.windows(5)
                .any(|w| w[0] == 0xFE && w[1..] == 20010u32.to_le_bytes())
        );
    }

    #[test]
    fn reads_redis_6_bytes() {
        // From hash-ziplist.rdb (Redis 6.2): f1 v1 f2 v2.
        let zl =
            b"\x1b\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02f1\x04\x02v1\x04\x02f2\x04\x02v2\xff";
        let v = all(zl).unwrap();
        assert_eq!(
            v,
            [
                Entry::Str(b"f1"),
                Entry::Str(b"v1"),
                Entry::Str(b"f2"),
                Entry::Str(b"v2")
            ]
        );
        let lp = pairs_to_listpack(zl).unwrap();
        assert_eq!(lp.len(), 4);
        // Empty ziplist: 11 bytes, tail at the header's end.
        assert_eq!(
            all(b"\x0b\x00\x00\x00\x0a\x00\x00\x00\x00\x00\xff").unwrap(),
            []
        );
    }

    #[test]
    fn rejects_corruption_without_panicking() {
        let zl = build(&[Entry::Str(b"abc"), Entry::Int(300), Entry::Str(b"d")]);
        assert!(all(&zl).is_some());
        for i in 0..zl.len() {
            for b in [0u8, 1, 0x3F, 0x40, 0x80, 0xC0, 0xF0, 0xFE, 0xFF, zl[i] ^ 1] {
                let mut c = zl.clone();
                c[i] = b;
                let _ = all(&c);
            }
            let _ = all(&zl[..i]);
        }
        let mut bad_tail = zl.clone();
        bad_tail[4] += 1;
        assert!(all(&bad_tail).is_none());
        let mut bad_count = zl.clone();
        bad_count[8] = 2;
        assert!(all(&bad_count).is_none());
        let mut unknown_count = zl.clone();
        unknown_count[8..10].copy_from_slice(&[0xFF, 0xFF]);
        assert!(all(&unknown_count).is_some());
    }

    #[test]
    fn pairs_need_even_count_and_unique_fields() {
        assert!(pairs_to_listpack(&build(&[Entry::Str(b"a")])).is_none());
        let dup = build(&[
            Entry::Int(1),
            Entry::Str(b"x"),
            Entry::Str(b"1"),
            Entry::Str(b"y"),
        ]);
        assert!(pairs_to_listpack(&dup).is_none());
        let ok = build(&[
            Entry::Str(b"a"),
            Entry::Str(b"1"),
            Entry::Str(b"b"),
            Entry::Int(2),
        ]);
        let lp = pairs_to_listpack(&ok).unwrap();
        assert_eq!(
            lp.iter().map(|v| v.to_vec()).collect::<Vec<_>>(),
            [&b"a"[..], b"1", b"b", b"2"]
        );
    }
}
