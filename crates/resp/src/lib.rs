//! RESP2/RESP3 wire protocol: a zero-copy request parser and a reply encoder.
//!
//! Invariants: this crate knows nothing of the keyspace or of sockets. Parsed arguments are
//! slices of the caller's read buffer (or, for inline commands with escapes, of a caller-owned
//! bump arena); the parser never allocates on the heap for a multibulk request.

pub mod num;
pub mod parse;
pub mod reply;

pub use parse::{Limits, Parsed, ProtoError, Resume, parse_command, parse_command_resume};
pub use reply::{Proto, Reply};
