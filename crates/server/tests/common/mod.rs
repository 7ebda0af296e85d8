//! Helpers shared by the integration-test binaries (`harness`, `socket`): start a real
//! `ringkv-server` or `redis-server` on a free loopback port ([`server`]), and talk to it
//! over raw TCP with a RESP2/RESP3 reader that keeps every reply's exact bytes ([`resp`]).
//!
//! Invariants: no test sleeps for a fixed time to wait for a server (we poll `connect`);
//! every spawned process is killed when its guard drops, also when a test panics; nothing is
//! written outside a per-server temporary directory.
//!
//! Use from a test binary with `mod common;` and e.g.
//! ```ignore
//! let srv = common::Server::ringkv();
//! let mut c = srv.connect();
//! assert_eq!(c.cmd_raw(&["SET", "k", "v"]), b"+OK\r\n");
//! ```

// Each test binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

pub mod aof;
pub mod resp;
pub mod server;

pub use resp::{Client, ReadError, Reply, encode_command, escape, parse_reply};
pub use server::{Kind, Server, redis_available, redis_or_skip};
