//! In-process tests of the bitmap commands: replies as Redis 7.0.15 gives them (the
//! differential script `bitmap.txt` covers the error texts and ranges against the real
//! server), dirty counting and propagation, and property tests of BITFIELD's arithmetic and
//! of the word-at-a-time counting against bit-by-bit oracles.

use super::super::testkit::Harness;
use super::*;
use proptest::prelude::*;

fn encoding(h: &mut Harness, key: &str) -> &'static str {
    h.engine.dbs[0]
        .entry_raw(key.as_bytes())
        .map(|e| e.value.encoding_name())
        .unwrap_or("missing")
}

#[test]
fn setbit_getbit_and_encodings() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["SETBIT", "b", "7", "1"]), ":0\r\n");
    assert_eq!(h.run(&["GET", "b"]), "$1\r\n\x01\r\n");
    assert_eq!(encoding(&mut h, "b"), "raw");
    assert_eq!(h.run(&["SETBIT", "b", "7", "1"]), ":1\r\n");
    assert_eq!(h.run(&["GETBIT", "b", "7"]), ":1\r\n");
    assert_eq!(h.run(&["GETBIT", "b", "6"]), ":0\r\n");
    assert_eq!(h.run(&["GETBIT", "b", "100000"]), ":0\r\n");
    assert_eq!(h.run(&["GETBIT", "nokey", "3"]), ":0\r\n");
    // An int-encoded string is read as its text and becomes raw when written.
    h.run(&["SET", "n", "1"]);
    assert_eq!(encoding(&mut h, "n"), "int");
    assert_eq!(h.run(&["GETBIT", "n", "2"]), ":1\r\n"); // '1' = 0x31 = 0b0011_0001
    assert_eq!(h.run(&["SETBIT", "n", "6", "1"]), ":0\r\n");
    assert_eq!(h.run(&["GET", "n"]), "$1\r\n3\r\n");
    assert_eq!(encoding(&mut h, "n"), "raw");
    assert_eq!(
        h.run(&["SETBIT", "b", "-1", "1"]),
        "-ERR bit offset is not an integer or out of range\r\n"
    );
    assert_eq!(
        h.run(&["SETBIT", "b", "4294967296", "1"]),
        "-ERR bit offset is not an integer or out of range\r\n"
    );
    assert_eq!(
        h.run(&["SETBIT", "b", "1", "2"]),
        "-ERR bit is not an integer or out of range\r\n"
    );
    h.run(&["LPUSH", "l", "x"]);
    assert!(h.run(&["SETBIT", "l", "1", "1"]).starts_with("-WRONGTYPE"));
}

/// Redis 7.0 counts (and propagates) SETBIT and BITFIELD only when a bit changed or the
/// string was created or grown.
#[test]
fn no_op_writes_are_not_changes() {
    let mut h = Harness::new();
    h.engine
        .set_sink(Some(Box::new(crate::propagate::RecordingSink::default())));
    h.run(&["SETBIT", "b", "3", "0"]);
    assert_eq!(h.engine.dirty, 1, "created");
    h.run(&["SETBIT", "b", "3", "0"]);
    assert_eq!(h.engine.dirty, 1, "unchanged");
    h.run(&["SETBIT", "b", "100", "0"]);
    assert_eq!(h.engine.dirty, 2, "grown");
    h.run(&[
        "BITFIELD", "b", "SET", "u8", "0", "0", "INCRBY", "u8", "0", "0",
    ]);
    assert_eq!(h.engine.dirty, 2);
    h.run(&[
        "BITFIELD", "b", "SET", "u8", "0", "1", "SET", "u8", "8", "1",
    ]);
    assert_eq!(h.engine.dirty, 4);
    assert_eq!(
        h.run(&[
            "BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u8", "2000", "1000"
        ]),
        "*1\r\n$-1\r\n"
    );
    assert_eq!(
        h.engine.dirty, 4,
        "a failed INCRBY grows the string but changes nothing"
    );
    assert_eq!(h.run(&["STRLEN", "b"]), ":251\r\n");
    assert_eq!(
        h.propagated(),
        [
            "SELECT 0",
            "SETBIT b 3 0",
            "SETBIT b 100 0",
            "BITFIELD b SET u8 0 1 SET u8 8 1"
        ]
    );
}

#[test]
fn bitcount_and_bitpos() {
    let mut h = Harness::new();
    h.run(&["SET", "s", "foobar"]);
    assert_eq!(h.run(&["BITCOUNT", "s"]), ":26\r\n");
    assert_eq!(h.run(&["BITCOUNT", "s", "0", "0"]), ":4\r\n");
    assert_eq!(h.run(&["BITCOUNT", "s", "1", "1"]), ":6\r\n");
    assert_eq!(h.run(&["BITCOUNT", "s", "1", "1", "BYTE"]), ":6\r\n");
    assert_eq!(h.run(&["BITCOUNT", "s", "5", "30", "BIT"]), ":17\r\n");
    assert_eq!(h.run(&["BITCOUNT", "s", "-2", "-1"]), ":7\r\n");
    assert_eq!(h.run(&["BITCOUNT", "s", "-1", "-2"]), ":0\r\n");
    assert_eq!(h.run(&["BITCOUNT", "s", "0"]), "-ERR syntax error\r\n");
    h.run(&["SET", "z", "\u{0}\u{0}\u{ff}"]);
    h.run(&["SET", "e", ""]);
    assert_eq!(h.run(&["BITPOS", "e", "0"]), ":-1\r\n");
    h.run_bytes(&[b"SET", b"p", b"\xff\xf0\x00"]);
    assert_eq!(h.run(&["BITPOS", "p", "0"]), ":12\r\n");
    assert_eq!(h.run(&["BITPOS", "p", "1", "2"]), ":-1\r\n");
    h.run_bytes(&[b"SET", b"f", b"\xff\xff\xff"]);
    assert_eq!(h.run(&["BITPOS", "f", "0"]), ":24\r\n");
    assert_eq!(h.run(&["BITPOS", "f", "0", "0", "-1"]), ":-1\r\n");
    assert_eq!(h.run(&["BITPOS", "f", "0", "1"]), ":24\r\n");
    assert_eq!(h.run(&["BITPOS", "f", "0", "3", "10", "BIT"]), ":-1\r\n");
    assert_eq!(h.run(&["BITPOS", "nokey", "0"]), ":0\r\n");
    assert_eq!(h.run(&["BITPOS", "nokey", "1"]), ":-1\r\n");
    assert_eq!(
        h.run(&["BITPOS", "f", "2"]),
        "-ERR The bit argument must be 1 or 0.\r\n"
    );
}

#[test]
fn bitop() {
    let mut h = Harness::new();
    h.run_bytes(&[b"SET", b"a", b"\xf0\x0f\xaa"]);
    h.run_bytes(&[b"SET", b"b", b"\xff\x01"]);
    assert_eq!(h.run(&["BITOP", "AND", "d", "a", "b"]), ":3\r\n");
    assert_eq!(h.run_bytes(&[b"GET", b"d"]), b"$3\r\n\xf0\x01\x00\r\n");
    assert_eq!(encoding(&mut h, "d"), "raw");
    assert_eq!(h.run(&["BITOP", "OR", "d", "a", "b", "nokey"]), ":3\r\n");
    assert_eq!(h.run_bytes(&[b"GET", b"d"]), b"$3\r\n\xff\x0f\xaa\r\n");
    assert_eq!(h.run(&["BITOP", "XOR", "d", "a", "b"]), ":3\r\n");
    assert_eq!(h.run_bytes(&[b"GET", b"d"]), b"$3\r\n\x0f\x0e\xaa\r\n");
    assert_eq!(h.run(&["BITOP", "NOT", "d", "b"]), ":2\r\n");
    assert_eq!(h.run_bytes(&[b"GET", b"d"]), b"$2\r\n\x00\xfe\r\n");
    assert_eq!(
        h.run(&["BITOP", "NOT", "d", "a", "b"]),
        "-ERR BITOP NOT must be called with a single source key.\r\n"
    );
    assert_eq!(h.run(&["BITOP", "NAND", "d", "a"]), "-ERR syntax error\r\n");
    // Every source empty: the destination is deleted.
    assert_eq!(h.run(&["BITOP", "AND", "d", "nokey"]), ":0\r\n");
    assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
    // A destination's TTL is dropped.
    h.run(&["SET", "t", "x", "EX", "100"]);
    h.run(&["BITOP", "OR", "t", "a"]);
    assert_eq!(h.run(&["TTL", "t"]), ":-1\r\n");
}

#[test]
fn bitfield_basics() {
    let mut h = Harness::new();
    assert_eq!(
        h.run(&["BITFIELD", "k", "SET", "i8", "0", "100", "GET", "i8", "0"]),
        "*2\r\n:0\r\n:100\r\n"
    );
    assert_eq!(
        h.run(&["BITFIELD", "k", "INCRBY", "i8", "0", "100"]),
        "*1\r\n:-56\r\n"
    );
    assert_eq!(
        h.run(&[
            "BITFIELD", "k", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100"
        ]),
        "*1\r\n:-128\r\n"
    );
    assert_eq!(
        h.run(&["BITFIELD", "k", "SET", "u4", "#1", "15", "GET", "u4", "4"]),
        "*2\r\n:0\r\n:15\r\n"
    );
    assert_eq!(
        h.run(&["BITFIELD_RO", "k", "GET", "u8", "0"]),
        "*1\r\n:143\r\n"
    );
    assert_eq!(
        h.run(&["BITFIELD_RO", "k", "SET", "u8", "0", "1"]),
        "-ERR BITFIELD_RO only supports the GET subcommand\r\n"
    );
    assert_eq!(
        h.run(&["BITFIELD", "nokey", "GET", "u8", "0"]),
        "*1\r\n:0\r\n"
    );
    assert_eq!(h.run(&["EXISTS", "nokey"]), ":0\r\n");
    assert_eq!(h.run(&["BITFIELD", "k"]), "*0\r\n");
    assert_eq!(
        h.run(&["BITFIELD", "k", "GET", "u64", "0"]),
        "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.\r\n"
    );
    assert_eq!(
        h.run(&["BITFIELD", "k", "OVERFLOW", "xx"]),
        "-ERR Invalid OVERFLOW type specified\r\n"
    );
    assert_eq!(
        h.run(&["BITFIELD", "k", "GET", "u8"]),
        "-ERR syntax error\r\n"
    );
}

/// Naive big-endian bit read, the oracle for the word-at-a-time code.
fn bit(s: &[u8], i: u64) -> bool {
    s[(i / 8) as usize] & (0x80 >> (i % 8)) != 0
}

/// What a field of `bits` bits holds after storing the mathematical `v`, per overflow mode:
/// None for FAIL out of range.
fn expected(v: i128, signed: bool, bits: u32, ow: Overflow) -> Option<i128> {
    let (min, max) = if signed {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    } else {
        (0, (1i128 << bits) - 1)
    };
    if (min..=max).contains(&v) {
        return Some(v);
    }
    match ow {
        Overflow::Fail => None,
        Overflow::Sat => Some(if v > max { max } else { min }),
        Overflow::Wrap => {
            let m = v.rem_euclid(1i128 << bits);
            Some(if signed && m > max {
                m - (1i128 << bits)
            } else {
                m
            })
        }
    }
}

fn any_overflow() -> impl Strategy<Value = Overflow> {
    prop_oneof![
        Just(Overflow::Wrap),
        Just(Overflow::Sat),
        Just(Overflow::Fail)
    ]
}

proptest! {
    /// INCRBY on a signed or unsigned field of any width wraps, saturates or fails exactly
    /// as arbitrary-precision arithmetic says, and the stored field reads back the result.
    #[test]
    fn bitfield_incrby_arithmetic(
        signed in any::<bool>(),
        bits in 1u32..=64,
        start in any::<i64>(),
        incr in any::<i64>(),
        offset in 0u64..40,
        ow in any_overflow(),
    ) {
        let bits = if signed { bits } else { bits.min(63) };
        let t = format!("{}{bits}", if signed { 'i' } else { 'u' });
        let mut h = Harness::new();
        // Store `start` wrapped into the field first.
        h.run(&["BITFIELD", "k", "SET", &t, &offset.to_string(), &start.to_string()]);
        let stored = expected(i128::from(start), signed, bits, Overflow::Wrap).unwrap();
        let got = h.run(&["BITFIELD", "k", "GET", &t, &offset.to_string()]);
        prop_assert_eq!(got, format!("*1\r\n:{stored}\r\n"));
        let owname = match ow { Overflow::Wrap => "WRAP", Overflow::Sat => "SAT", Overflow::Fail => "FAIL" };
        let got = h.run(&["BITFIELD", "k", "OVERFLOW", owname, "INCRBY", &t, &offset.to_string(), &incr.to_string()]);
        match expected(stored + i128::from(incr), signed, bits, ow) {
            Some(v) => {
                prop_assert_eq!(got, format!("*1\r\n:{v}\r\n"));
                let back = h.run(&["BITFIELD", "k", "GET", &t, &offset.to_string()]);
                prop_assert_eq!(back, format!("*1\r\n:{v}\r\n"));
            }
            None => {
                prop_assert_eq!(got, "*1\r\n$-1\r\n");
                let back = h.run(&["BITFIELD", "k", "GET", &t, &offset.to_string()]);
                prop_assert_eq!(back, format!("*1\r\n:{stored}\r\n"));
            }
        }
    }

    /// BITCOUNT and BITPOS over any range agree with bit-by-bit counting and searching.
    #[test]
    fn counting_and_searching_match_naive(
        data in proptest::collection::vec(any::<u8>(), 1..64),
        a in 0u64..512,
        b in 0u64..512,
        want in any::<bool>(),
    ) {
        let nbits = data.len() as u64 * 8;
        let (first, last) = (a.min(b) % nbits, a.max(b) % nbits);
        let (first, last) = (first.min(last), first.max(last));
        let naive = (first..=last).filter(|&i| bit(&data, i)).count() as u64;
        prop_assert_eq!(count_bits(&data, first, last), naive);
        prop_assert_eq!(popcount(&data), (0..nbits).filter(|&i| bit(&data, i)).count() as u64);
        let naive_pos = (first..=last).find(|&i| bit(&data, i) == want);
        prop_assert_eq!(find_bit(&data, want, first, last), naive_pos);
    }
}
