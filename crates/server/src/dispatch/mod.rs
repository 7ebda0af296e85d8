//! Dispatch: from a parsed request to a handler. [`gate`] admits a request (lookup,
//! arity, pub/sub mode, MULTI queueing), [`call`] runs it (the one runner: stats,
//! propagation, notifications, block requests), [`multi`] is MULTI/EXEC, [`blocking`] parks
//! and serves blocked clients.

pub mod blocking;
pub mod call;
pub mod gate;
pub mod multi;
#[cfg(test)]
mod propagation_tests;
