//! The ringkv keyspace and command implementations.
//!
//! Invariants: the engine does no I/O and knows nothing of sockets or the event loop; it is
//! owned by exactly one thread (no locks). Time comes from [`clock::Clock`], which tests move
//! by hand. Every read or write of a key goes through [`db::Db`]'s lookup functions, the one
//! place for lazy expiry and for the write hook (snapshot epoch, WATCH, notifications).

pub mod blocking;
pub mod clock;
pub mod commands;
pub mod db;
pub mod dict;
pub mod digest;
pub mod engine;
pub mod error;
pub mod evict;
pub mod glob;
pub mod ldouble;
pub mod lfu;
pub mod notify;
pub mod object;
pub mod propagate;
pub mod types;
pub mod util;
pub mod watch;

pub use clock::Clock;
pub use commands::{CmdFn, Ctx, Session};
pub use engine::{Engine, EngineConfig};
pub use error::{CmdError, CmdResult};
