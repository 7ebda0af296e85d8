//! Fuzz target for the RDB file loader.
//!
//! The first input byte picks the configuration (limits, databases, deep sanitization); the
//! rest is a file image. Checked: no panic; the bytes consumed are within the input; every
//! loaded value is internally consistent (see `common::exercise`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use persist::rdb::load::{Item, LoadOptions, load};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, img)) = data.split_first() else {
        return;
    };
    let cfg = common::config(sel);
    let opts = LoadOptions {
        config: &cfg,
        deep_sanitize: sel & 4 != 0,
    };
    let r = load(img, &opts, &mut |it| {
        if let Item::Entry { value, .. } = it {
            common::exercise(&value);
        }
        Ok(())
    });
    if let Ok(n) = r {
        assert!(n <= img.len());
    }
});
