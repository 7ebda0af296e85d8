//! The `harness` integration-test binary: the differential harness that replays command
//! scripts against the real Redis 7.0.15 and against `ringkv-server` and requires
//! byte-equal replies (see `diff/`), plus self-tests of the harness and of the shared test
//! helpers in `common/`.

mod common;
mod diff;
