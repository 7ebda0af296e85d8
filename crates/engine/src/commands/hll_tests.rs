//! In-process tests of the HyperLogLog commands. Byte equality with Redis (sparse, dense,
//! merged) is checked against the real server by the differential script `hll.txt`; here:
//! the estimate's error bound (property test), dirty counting and propagation, corrupt
//! values.

use super::super::testkit::Harness;
use proptest::prelude::*;

fn card(h: &mut Harness, keys: &[&str]) -> u64 {
    let mut args = vec!["PFCOUNT"];
    args.extend_from_slice(keys);
    let r = h.run(&args);
    r.trim_start_matches(':')
        .trim_end()
        .parse()
        .unwrap_or_else(|_| panic!("{r}"))
}

#[test]
fn add_count_merge() {
    let mut h = Harness::new();
    assert_eq!(h.run(&["PFADD", "h"]), ":1\r\n");
    assert_eq!(h.run(&["PFADD", "h"]), ":0\r\n");
    assert_eq!(h.run(&["PFADD", "h", "a", "b", "c"]), ":1\r\n");
    assert_eq!(h.run(&["PFADD", "h", "a", "b", "c"]), ":0\r\n");
    assert_eq!(card(&mut h, &["h"]), 3);
    assert_eq!(card(&mut h, &["nokey"]), 0);
    h.run(&["PFADD", "g", "c", "d"]);
    assert_eq!(card(&mut h, &["h", "g", "nokey"]), 4);
    assert_eq!(h.run(&["PFMERGE", "m", "h", "g"]), "+OK\r\n");
    assert_eq!(card(&mut h, &["m"]), 4);
    assert_eq!(h.run(&["PFDEBUG", "ENCODING", "m"]), "+sparse\r\n");
    assert_eq!(h.run(&["PFDEBUG", "TODENSE", "m"]), ":1\r\n");
    assert_eq!(h.run(&["PFDEBUG", "ENCODING", "m"]), "+dense\r\n");
    assert_eq!(card(&mut h, &["m"]), 4);
    // Merging a dense source makes the destination dense.
    assert_eq!(h.run(&["PFMERGE", "m2", "h", "m"]), "+OK\r\n");
    assert_eq!(h.run(&["PFDEBUG", "ENCODING", "m2"]), "+dense\r\n");
    assert_eq!(h.run(&["PFSELFTEST"]), "+OK\r\n");
}

#[test]
fn errors() {
    let mut h = Harness::new();
    h.run(&["SET", "s", "not an hll"]);
    h.run(&["SET", "i", "12345"]);
    h.run(&["LPUSH", "l", "x"]);
    let not_hll = "-WRONGTYPE Key is not a valid HyperLogLog string value.\r\n";
    assert_eq!(h.run(&["PFADD", "s", "a"]), not_hll);
    assert_eq!(h.run(&["PFCOUNT", "i"]), not_hll);
    assert!(h.run(&["PFCOUNT", "l"]).starts_with("-WRONGTYPE Operation"));
    assert_eq!(h.run(&["PFMERGE", "d", "s"]), not_hll);
    assert_eq!(h.run(&["EXISTS", "d"]), ":0\r\n");
    // A sparse HLL cut short, its cached cardinality invalid.
    h.run_bytes(&[b"SET", b"c", b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\x80\x7f"]);
    assert_eq!(
        h.run(&["PFCOUNT", "c"]),
        "-INVALIDOBJ Corrupted HLL object detected\r\n"
    );
    assert_eq!(
        h.run(&["PFADD", "c", "x"]),
        "-INVALIDOBJ Corrupted HLL object detected\r\n"
    );
    assert_eq!(
        h.run(&["PFDEBUG", "GETREG", "nokey"]),
        "-ERR The specified key does not exist\r\n"
    );
    h.run(&["PFADD", "h", "a"]);
    assert_eq!(
        h.run(&["PFDEBUG", "FOO", "h"]),
        "-ERR Unknown PFDEBUG subcommand 'FOO'\r\n"
    );
}

/// PFADD counts one change per changed register (plus one for creating the key); PFCOUNT
/// refreshing the cache is a change Redis propagates.
#[test]
fn dirty_and_propagation() {
    let mut h = Harness::new();
    h.engine
        .set_sink(Some(Box::new(crate::propagate::RecordingSink::default())));
    h.run(&["PFADD", "h", "a", "b"]);
    assert_eq!(h.engine.dirty, 3);
    h.run(&["PFADD", "h", "a"]);
    assert_eq!(h.engine.dirty, 3);
    h.run(&["PFCOUNT", "h"]);
    assert_eq!(h.engine.dirty, 4);
    h.run(&["PFCOUNT", "h"]);
    assert_eq!(h.engine.dirty, 4, "the cache is valid now");
    assert_eq!(h.propagated(), ["SELECT 0", "PFADD h a b", "PFCOUNT h"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]
    /// PFCOUNT of n distinct elements stays within 5 standard errors (1.04/sqrt(16384),
    /// about 4%) of n, sparse or dense, and the union's count bounds each part's.
    #[test]
    fn estimate_within_error_bound(n in 1usize..20_000, seed in any::<u32>()) {
        let mut h = Harness::new();
        let elements: Vec<String> = (0..n).map(|i| format!("{seed}:{i}")).collect();
        for chunk in elements.chunks(500) {
            let mut args = vec!["PFADD", "h"];
            args.extend(chunk.iter().map(String::as_str));
            h.run(&args);
        }
        let est = card(&mut h, &["h"]) as f64;
        let bound = 5.0 * 1.04 / 128.0 * n as f64 + 1.0;
        prop_assert!((est - n as f64).abs() <= bound, "n={} est={}", n, est);
    }
}
