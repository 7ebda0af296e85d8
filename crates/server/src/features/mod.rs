//! Features: what the server offers beyond the keyspace, each as commands registered in
//! the table plus the state it keeps — pub/sub and keyspace-notification delivery
//! ([`pubsub`]), CLIENT/HELLO/AUTH/QUIT/RESET/SHUTDOWN/CONFIG/INFO ([`client_cmds`]), DEBUG
//! ([`debug`]), the configuration ([`config`]), INFO's text ([`info`]), the AOF ([`aof`])
//! RDB persistence ([`persistence`]) and the master side of replication ([`replication`]).
//!
//! Handlers here change the server's state and write replies; they never call the event
//! loop (listener changes go through `net::listener`, plain socket calls, and the loop
//! re-arms accepts when it sees `Server::listeners_changed`).

pub mod acl;
pub mod aof;
pub mod client_cmds;
pub mod config;
pub mod debug;
pub mod info;
pub mod latency;
pub mod lolwut;
pub mod memory;
pub mod module;
pub mod monitor;
pub mod pause;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod script;
pub mod slowlog;
