//! A client's pub/sub subscriptions (the server-wide maps and the commands are
//! `features::pubsub`'s; this is the per-connection half, as Redis keeps it in `client`).

use std::collections::HashSet;

/// One client's subscriptions.
#[derive(Debug, Default)]
pub struct Subs {
    /// Channels (Redis: a dict, so "unsubscribe from all" goes in hash order).
    pub(crate) channels: HashSet<Box<[u8]>>,
    /// Patterns in subscription order (Redis 7.0 keeps a list).
    pub(crate) patterns: Vec<Box<[u8]>>,
    /// Shard channels.
    pub(crate) shard: HashSet<Box<[u8]>>,
}

impl Subs {
    /// A client subscribed to one channel (tests elsewhere need pub/sub class clients).
    #[cfg(test)]
    pub(crate) fn subscribed_for_test() -> Subs {
        let mut s = Subs::default();
        s.channels.insert(b"ch"[..].into());
        s
    }

    /// Channels + patterns: the count in (P)SUBSCRIBE / (P)UNSUBSCRIBE replies.
    #[inline]
    pub fn count(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }

    /// In pub/sub mode (CLIENT LIST flag `P`, client type `pubsub`).
    #[inline]
    pub fn active(&self) -> bool {
        self.count() + self.shard.len() > 0
    }

    /// CLIENT LIST `sub=`, `psub=`, `ssub=`.
    pub fn counts(&self) -> (usize, usize, usize) {
        (self.channels.len(), self.patterns.len(), self.shard.len())
    }
}
