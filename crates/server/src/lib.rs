//! The ringkv server: everything but `main`, in layers a reader can see in the folders
//! (see docs/ARCHITECTURE.md):
//!
//! - `net` — the io_uring event loop, listeners, the provided-buffer ring;
//! - `client` — a connection, its buffers and the output-buffer limits of every class;
//! - `dispatch` — the one gate, the command runner, MULTI, blocking;
//! - `features` — pub/sub, CLIENT/HELLO/INFO/CONFIG (`client_cmds`, `info`, `config`);
//! - `server` — the state the loop owns; `start` — start-up; `sys` — process helpers.
//!
//! Dependencies point down: features and dispatch never call the loop; the loop calls
//! dispatch for each parsed request.

pub mod alloc;
pub mod client;
pub mod dispatch;
pub mod features;
pub mod fileio;
pub mod inproc;
pub mod listener;
pub mod net;
pub mod server;
pub mod start;
pub mod sys;
