//! The loader over files written by real Redis versions (2.x to 7.0), compared key by key
//! with what Redis 7.0.15 served after loading them (`expected.json`).

mod common;

use common::{fixtures_dir, render};
use engine::EngineConfig;
use persist::rdb::load::{Item, LoadOptions, RdbError, load};
use serde_json::{Map, Value as Json, json};

fn read(name: &str) -> Vec<u8> {
    let p = fixtures_dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// Keys rendered as in expected.json, the number of functions, the bytes consumed.
type Loaded = (Map<String, Json>, usize, usize);

/// Loads a file; on failure, the error and how many keys were loaded before it.
fn load_file(bytes: &[u8]) -> Result<Loaded, (RdbError, usize)> {
    let cfg = EngineConfig::default();
    let opts = LoadOptions {
        config: &cfg,
        deep_sanitize: false,
    };
    let mut keys = Map::new();
    let mut functions = 0;
    let r = load(bytes, &opts, &mut |it| {
        match it {
            Item::Entry {
                db,
                key,
                value,
                expire_ms,
                ..
            } => {
                let (t, v) = render(&value);
                let name = format!("{db}:{}", common::latin1(&key));
                let prev = keys.insert(
                    name,
                    json!({"type": t, "value": v, "pttl": expire_ms.is_some()}),
                );
                assert!(prev.is_none(), "duplicate key");
            }
            Item::Function { .. } => functions += 1,
            _ => {}
        }
        Ok(())
    });
    match r {
        Ok(n) => Ok((keys, functions, n)),
        Err(e) => Err((e, keys.len())),
    }
}

#[test]
fn every_loadable_fixture_matches_what_redis_served() {
    let expected: Json = serde_json::from_slice(&read("expected.json")).unwrap();
    let files = expected.as_object().unwrap();
    assert!(files.len() >= 6);
    for (file, want) in files {
        let bytes = read(file);
        let (keys, functions, consumed) =
            load_file(&bytes).unwrap_or_else(|(e, _)| panic!("{file}: {e}"));
        assert_eq!(consumed, bytes.len(), "{file}: the whole file is read");
        assert_eq!(json!(functions), want["functions"], "{file}: functions");
        let want_keys = want["keys"].as_object().unwrap();
        for (k, v) in want_keys {
            assert_eq!(keys.get(k), Some(v), "{file}: key {k}");
        }
        assert_eq!(keys.len(), want_keys.len(), "{file}: no extra keys");
    }
}

#[test]
fn empty_keys_are_skipped_as_redis_7_skips_them() {
    // Redis 7.0.15 logs "rdbLoadObject skipping empty key" for each and loads 0 keys.
    let (keys, _, _) = load_file(&read("corrupt_empty_keys.rdb")).unwrap();
    assert!(keys.is_empty(), "{keys:?}");
}

#[test]
fn a_corrupt_ziplist_is_an_error_with_its_offset() {
    // Redis 7.0.15: "Hash ziplist integrity check failed." on the 16th key (redis-check-rdb:
    // "16 keys read", counting the key whose value fails: 'key:000000000091', type 13).
    let bytes = read("corrupt_ziplist.rdb");
    let (e, loaded) = load_file(&bytes).unwrap_err();
    assert_eq!(e.kind, "Hash ziplist integrity check failed.");
    assert_eq!(loaded, 15);
    let off = e.offset as usize;
    assert!(off > 0 && off < bytes.len());
    // The offset is the value's: the key name just before it.
    assert!(bytes[..off].ends_with(b"key:000000000091"), "{e}");
}

#[test]
fn an_aof_preamble_ends_after_the_checksum() {
    let bytes = read("rdb-preamble.aof");
    let (keys, _, consumed) = load_file(&bytes).unwrap();
    assert!(bytes[consumed..].starts_with(b"*2\r\n$6\r\nSELECT"));
    let names: Vec<&String> = keys.keys().collect();
    assert_eq!(names, ["0:k1", "0:k2"]);
    assert_eq!(keys["0:k1"]["value"], "v1");
}

#[test]
fn truncated_fixtures_fail_cleanly() {
    for file in [
        "encodings.rdb",
        "hash-zipmap.rdb",
        "list-quicklist.rdb",
        "zset-ziplist.rdb",
    ] {
        let bytes = read(file);
        for n in 0..bytes.len() {
            assert!(load_file(&bytes[..n]).is_err(), "{file} cut at {n}");
        }
    }
}
