//! Shared by the integration tests: a value rendered as the fixtures' `expected.json` renders
//! what Redis serves (strings as Latin-1, sets sorted, hashes as sorted maps, sorted sets as
//! `[member, score]` in rank order with `%.17g` scores), and the fixtures' directory.

#![allow(dead_code)]

use engine::object::Value;
use serde_json::{Value as Json, json};

/// `../shared/fixtures/rdb-from-redis/` beside the checkout (never copied into the repo).
pub fn fixtures_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/rdb-from-redis")
}

pub fn latin1(b: &[u8]) -> String {
    b.iter().map(|&c| c as char).collect()
}

pub fn score(s: f64) -> String {
    let mut buf = [0u8; 32];
    latin1(resp::num::fmt_g17(s, &mut buf))
}

/// (TYPE, value) of a loaded value.
pub fn render(v: &Value) -> (String, Json) {
    let mut b = [0u8; 20];
    let value = match v {
        Value::Str(s) => json!(latin1(s.as_bytes(&mut b))),
        Value::List(l) => Json::Array(l.ql().iter().map(|e| json!(latin1(&e.to_vec()))).collect()),
        Value::Set(s) => {
            let mut m: Vec<Vec<u8>> = s.iter().map(|m| m.as_bytes(&mut b).to_vec()).collect();
            m.sort();
            Json::Array(m.iter().map(|x| json!(latin1(x))).collect())
        }
        Value::Hash(h) => {
            let mut m = serde_json::Map::new();
            for (f, x) in h.iter() {
                m.insert(latin1(&f.to_vec()), json!(latin1(&x.to_vec())));
            }
            Json::Object(m)
        }
        Value::ZSet(z) => {
            let mut m = Vec::new();
            z.for_each(&mut |k, s| m.push(json!([latin1(k), score(s)])));
            Json::Array(m)
        }
        // As XRANGE serves it: `[id, [field, value, …]]` per entry.
        Value::Stream(st) => {
            let mut m = Vec::new();
            st.for_each_entry(&mut |id, fields| {
                let fv: Vec<Json> = fields
                    .iter()
                    .flat_map(|(f, x)| [json!(latin1(&f.to_vec())), json!(latin1(&x.to_vec()))])
                    .collect();
                m.push(json!([format!("{}-{}", id.ms, id.seq), fv]));
            });
            Json::Array(m)
        }
    };
    (v.type_name().to_string(), value)
}
