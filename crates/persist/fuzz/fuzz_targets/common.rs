//! Shared by the persist fuzz targets: configurations picked by the first input byte, and a
//! walk over a loaded value that touches every element through the engine's own accessors,
//! so a blob adopted without enough validation shows up as a panic here.

use engine::EngineConfig;
use engine::object::Value;

/// Default limits, or tiny ones so conversions on load happen on small inputs.
pub fn config(selector: u8) -> EngineConfig {
    let mut c = EngineConfig::default();
    if selector & 1 != 0 {
        c.hash_limits.max_listpack_entries = 2;
        c.hash_limits.max_listpack_value = 4;
        c.zset_limits.max_entries = 2;
        c.zset_limits.max_value = 4;
        c.set_max_intset_entries = 2;
        c.list_max_listpack_size = 2;
    }
    if selector & 2 != 0 {
        c.databases = 1;
    }
    c
}

/// Reads every element and runs the lookups the commands use.
pub fn exercise(v: &Value) {
    let mut b = [0u8; 20];
    match v {
        Value::Str(s) => {
            let _ = s.as_bytes(&mut b).len();
        }
        Value::List(l) => {
            let n = l.ql().iter().count();
            assert_eq!(n, l.len());
            assert_eq!(l.ql().iter().rev().count(), n);
            if n > 0 {
                assert!(l.ql().get(-1).is_some() && l.ql().get(0).is_some());
            }
            l.ql().assert_invariants();
        }
        Value::Set(s) => {
            let members: Vec<Vec<u8>> = s.iter().map(|m| m.as_bytes(&mut b).to_vec()).collect();
            assert_eq!(members.len(), s.len());
            for m in members.iter().take(16) {
                assert!(s.contains(m));
            }
        }
        Value::Hash(h) => {
            let pairs: Vec<(Vec<u8>, Vec<u8>)> =
                h.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect();
            assert_eq!(pairs.len(), h.len());
            for (f, _) in pairs.iter().take(16) {
                assert!(h.get(f).is_some());
            }
            let mut c = h.clone();
            c.convert_to_table();
            assert_eq!(c.len(), h.len());
        }
        Value::ZSet(z) => {
            let mut members = Vec::new();
            z.for_each(&mut |m, s| {
                assert!(!s.is_nan());
                members.push(m.to_vec());
            });
            assert_eq!(members.len(), z.len());
            for m in members.iter().take(16) {
                assert!(z.score(m).is_some());
                let _ = z.rank(m);
            }
            let mut c = z.clone();
            c.convert_to_skiplist(0);
            assert_eq!(c.len(), z.len());
        }
        Value::Stream(st) => {
            let mut n = 0u64;
            st.for_each_entry(&mut |_, _| n += 1);
            assert_eq!(n, st.length);
            let mut back = 0u64;
            let (lo, hi) = (
                engine::types::stream::StreamId::MIN,
                engine::types::stream::StreamId::MAX,
            );
            st.range(lo, hi, true, &mut |_, _| {
                back += 1;
                true
            });
            assert_eq!(back, n);
            let mut c = (**st).clone();
            if let Some(first) = c.edge_id(true, true) {
                assert!(c.delete(first));
                assert_eq!(c.length + 1, st.length);
            }
        }
    }
}
