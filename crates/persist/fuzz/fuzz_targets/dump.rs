//! Fuzz target for RESTORE's payload parser.
//!
//! The first input byte picks the configuration; the rest is a payload body (type byte and
//! value) to which the target appends a valid footer (version 10, CRC-64), so mutations reach
//! the value parser instead of stopping at the checksum. The raw input is also parsed as a
//! whole payload. Checked: no panic; values are internally consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use persist::rdb::codec::crc64;
use persist::rdb::load::{LoadOptions, parse_dump_payload};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let cfg = common::config(sel);
    let opts = LoadOptions {
        config: &cfg,
        deep_sanitize: sel & 4 != 0,
    };
    if let Ok(v) = parse_dump_payload(body, &opts) {
        common::exercise(&v);
    }
    let mut p = body.to_vec();
    p.extend_from_slice(&10u16.to_le_bytes());
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    if let Ok(v) = parse_dump_payload(&p, &opts) {
        common::exercise(&v);
    }
});
