//! Pub/Sub: SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE and their UNSUBSCRIBEs, PUBLISH, SPUBLISH,
//! PUBSUB introspection and keyspace notifications; a slow subscriber is closed by the
//! output-buffer limits of its class (`crate::client::obuf`). Texts and framing are Redis 7.0.15's
//! (`pubsub.c`, `notify.c`, `networking.c`).
//!
//! Invariants:
//! - Every subscription is recorded twice: in the client ([`Subs`]) and in the server map
//!   ([`PubSub`]) from the channel / pattern to the slab keys of its subscribers, in
//!   subscription order. The two always agree; a client leaves every map when it is closed
//!   ([`forget_client`], called by `Server::close_client`), before its slab key can be
//!   reused.
//! - A client is in pub/sub mode (Redis's `CLIENT_PUBSUB`, flag `P`) exactly while it has
//!   at least one subscription of any kind.
//! - PUBLISH encodes a message once (RESP2 and RESP3 framings differ only in the first byte:
//!   `*` or `>`), then appends those bytes to each subscriber's output: no allocation per
//!   subscriber beyond the growth of its output buffer. Subscribers that got output are
//!   listed in `Server::wake` for the loop to send.
//! - A subscriber whose unsent output reaches its class's hard limit (or stays above the
//!   soft limit longer than allowed) is closed after the publish loop, never during it.

use crate::client::Conn;
use crate::client::subs::Subs;
use crate::dispatch::gate::{SrvFn, reply};
use crate::server::Server;
use engine::glob::glob_match;
use engine::util::eq_ic;
use engine::{CmdError, CmdResult};
use resp::Proto;
use slab::Slab;
use std::collections::HashMap;

/// Handlers by lowercase command name; the gate joins them with the metadata.
pub const COMMANDS: &[(&str, SrvFn)] = &[
    ("subscribe", subscribe),
    ("unsubscribe", unsubscribe),
    ("psubscribe", psubscribe),
    ("punsubscribe", punsubscribe),
    ("ssubscribe", ssubscribe),
    ("sunsubscribe", sunsubscribe),
    ("publish", publish_cmd),
    ("spublish", spublish_cmd),
    ("pubsub", pubsub_cmd),
];

/// `ERR Can't execute '<fullname>': only ... allowed in this context`.
pub fn not_allowed_text(fullname: &str) -> String {
    format!(
        "ERR Can't execute '{fullname}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
    )
}

/// Server-wide subscription maps and the scratch buffers of publishing.
#[derive(Debug, Default)]
pub struct PubSub {
    channels: HashMap<Box<[u8]>, Vec<usize>>,
    /// Pattern → subscribers (Redis 7.0: a dict, so matching patterns are visited in hash
    /// order).
    patterns: HashMap<Box<[u8]>, Vec<usize>>,
    shard: HashMap<Box<[u8]>, Vec<usize>>,
    /// The message being published, RESP2-framed; reused.
    enc: Vec<u8>,
    /// A keyspace-notification channel name being built; reused.
    chan: Vec<u8>,
    /// Subscribers over their output limit during one publish; reused.
    pub(crate) overflow: Vec<usize>,
}

impl PubSub {
    /// INFO `pubsub_channels`.
    pub fn num_channels(&self) -> usize {
        self.channels.len()
    }

    /// INFO `pubsub_patterns`, PUBSUB NUMPAT (distinct patterns, as Redis 7.0 counts).
    pub fn num_patterns(&self) -> usize {
        self.patterns.len()
    }

    /// INFO `pubsubshard_channels`.
    pub fn num_shard_channels(&self) -> usize {
        self.shard.len()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Channel,
    Pattern,
    Shard,
}

impl Kind {
    fn subscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    fn unsubscribe_word(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }

    /// The count reported to the client: shard subscriptions are counted apart.
    fn count(self, s: &Subs) -> usize {
        match self {
            Kind::Shard => s.shard.len(),
            _ => s.count(),
        }
    }
}

fn server_map(ps: &mut PubSub, kind: Kind) -> &mut HashMap<Box<[u8]>, Vec<usize>> {
    match kind {
        Kind::Channel => &mut ps.channels,
        Kind::Pattern => &mut ps.patterns,
        Kind::Shard => &mut ps.shard,
    }
}

/// Adds `name` to a client's set of `kind`; false if it was there.
fn client_add(s: &mut Subs, kind: Kind, name: &[u8]) -> bool {
    match kind {
        Kind::Channel => !s.channels.contains(name) && s.channels.insert(name.into()),
        Kind::Shard => !s.shard.contains(name) && s.shard.insert(name.into()),
        Kind::Pattern => {
            if s.patterns.iter().any(|p| &**p == name) {
                return false;
            }
            s.patterns.push(name.into());
            true
        }
    }
}

fn client_remove(s: &mut Subs, kind: Kind, name: &[u8]) -> bool {
    match kind {
        Kind::Channel => s.channels.remove(name),
        Kind::Shard => s.shard.remove(name),
        Kind::Pattern => match s.patterns.iter().position(|p| &**p == name) {
            Some(i) => {
                s.patterns.remove(i);
                true
            }
            None => false,
        },
    }
}

/// Removes `key` from the subscribers of `name`, dropping the entry when it empties (so
/// abandoned channels cost nothing).
fn server_remove(ps: &mut PubSub, kind: Kind, name: &[u8], key: usize) {
    let map = server_map(ps, kind);
    if let Some(list) = map.get_mut(name) {
        // Order of the others is kept: it is the delivery order.
        if let Some(i) = list.iter().position(|&k| k == key) {
            list.remove(i);
        }
        if list.is_empty() {
            map.remove(name);
        }
    }
}

/// `*3 $<word> $<name>|nil :<count>` (a push in RESP3).
fn confirm(c: &mut Conn, word: &[u8], name: Option<&[u8]>, count: usize) {
    let mut r = resp::Reply::new(&mut c.pending, c.session.proto);
    r.push(3);
    r.bulk(word);
    match name {
        Some(n) => r.bulk(n),
        None => r.null(),
    }
    r.int(count as i64);
}

fn subscribe_generic(server: &mut Server, key: usize, args: &[&[u8]], kind: Kind) -> CmdResult {
    let Server {
        clients, pubsub, ..
    } = server;
    let c = &mut clients[key];
    for &name in &args[1..] {
        if client_add(&mut c.subs, kind, name) {
            server_map(pubsub, kind)
                .entry(name.into())
                .or_default()
                .push(key);
        }
        let n = kind.count(&c.subs);
        confirm(c, kind.subscribe_word(), Some(name), n);
    }
    Ok(())
}

fn unsubscribe_generic(server: &mut Server, key: usize, args: &[&[u8]], kind: Kind) -> CmdResult {
    let Server {
        clients, pubsub, ..
    } = server;
    let c = &mut clients[key];
    if args.len() > 1 {
        for &name in &args[1..] {
            if client_remove(&mut c.subs, kind, name) {
                server_remove(pubsub, kind, name, key);
            }
            let n = kind.count(&c.subs);
            confirm(c, kind.unsubscribe_word(), Some(name), n);
        }
        return Ok(());
    }
    if unsubscribe_all(pubsub, c, key, kind, true) == 0 {
        // Subscribed to nothing: still one reply, with a nil name.
        let n = kind.count(&c.subs);
        confirm(c, kind.unsubscribe_word(), None, n);
    }
    Ok(())
}

/// Drops every subscription of `kind`, confirming each if `notify`; returns how many.
fn unsubscribe_all(ps: &mut PubSub, c: &mut Conn, key: usize, kind: Kind, notify: bool) -> usize {
    let names: Vec<Box<[u8]>> = match kind {
        Kind::Channel => c.subs.channels.drain().collect(),
        Kind::Shard => c.subs.shard.drain().collect(),
        Kind::Pattern => std::mem::take(&mut c.subs.patterns),
    };
    let total = names.len();
    // Counts in the confirmations go down one by one, as Redis removes them one by one.
    for (i, name) in names.iter().enumerate() {
        server_remove(ps, kind, name, key);
        if notify {
            let n = kind.count(&c.subs) + (total - i - 1);
            confirm(c, kind.unsubscribe_word(), Some(name), n);
        }
    }
    total
}

/// Leaves every channel, pattern and shard channel without replying: the client is being
/// closed or RESET.
pub fn forget_client(server: &mut Server, key: usize) {
    let Server {
        clients, pubsub, ..
    } = server;
    let Some(c) = clients.get_mut(key) else {
        return;
    };
    if !c.subs.active() {
        return;
    }
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        unsubscribe_all(pubsub, c, key, kind, false);
    }
}

/// # Format
/// `SUBSCRIBE channel [channel ...]`
/// # Returns
/// One `subscribe` confirmation per channel with the client's channel + pattern count.
fn subscribe(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(server, key, args, Kind::Channel)
}

/// # Format
/// `UNSUBSCRIBE [channel ...]` (none: all)
fn unsubscribe(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(server, key, args, Kind::Channel)
}

/// # Format
/// `PSUBSCRIBE pattern [pattern ...]`
fn psubscribe(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(server, key, args, Kind::Pattern)
}

/// # Format
/// `PUNSUBSCRIBE [pattern ...]` (none: all)
fn punsubscribe(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(server, key, args, Kind::Pattern)
}

/// # Format
/// `SSUBSCRIBE shardchannel [shardchannel ...]` (single node: every slot is ours)
fn ssubscribe(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(server, key, args, Kind::Shard)
}

/// # Format
/// `SUNSUBSCRIBE [shardchannel ...]` (none: all)
fn sunsubscribe(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(server, key, args, Kind::Shard)
}

/// # Format
/// `PUBLISH channel message`
/// # Returns
/// The number of deliveries (channel subscribers plus matching pattern subscriptions).
fn publish_cmd(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let n = publish(server, args[1], args[2], false, None);
    reply(server, key).int(n as i64);
    Ok(())
}

/// # Format
/// `SPUBLISH shardchannel message`
fn spublish_cmd(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let n = publish(server, args[1], args[2], true, None);
    reply(server, key).int(n as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Prints this help.",
];

/// # Format
/// `PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT | SHARDCHANNELS [pattern] |
/// SHARDNUMSUB [channel ...] | HELP` (arity per subcommand checked by the gate)
fn pubsub_cmd(server: &mut Server, key: usize, args: &[&[u8]]) -> CmdResult {
    let sub = args[1];
    let Server {
        clients, pubsub, ..
    } = server;
    let c = &mut clients[key];
    let mut r = resp::Reply::new(&mut c.pending, c.session.proto);
    if eq_ic(sub, "help") {
        r.array(PUBSUB_HELP.len() + 1);
        r.simple(b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        for line in PUBSUB_HELP {
            r.simple(line.as_bytes());
        }
    } else if eq_ic(sub, "channels") || eq_ic(sub, "shardchannels") {
        if args.len() > 3 {
            // The metadata allows any count; Redis checks in the handler.
            return Err(CmdError::Owned(format!(
                "ERR unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
                engine::util::lossy_trunc(sub, 128)
            )));
        }
        let map = if eq_ic(sub, "channels") {
            &pubsub.channels
        } else {
            &pubsub.shard
        };
        let pat = args.get(2).copied();
        let matching = |ch: &&[u8]| pat.is_none_or(|p| glob_match(p, ch, false));
        let names = || map.keys().map(|k| &**k).filter(matching);
        r.array(names().count());
        for ch in names() {
            r.bulk(ch);
        }
    } else if eq_ic(sub, "numsub") || eq_ic(sub, "shardnumsub") {
        let map = if eq_ic(sub, "numsub") {
            &pubsub.channels
        } else {
            &pubsub.shard
        };
        // Redis 7.0 replies a flat channel/count array in RESP3 too (a map only from 7.2).
        r.array((args.len() - 2) * 2);
        for &ch in &args[2..] {
            r.bulk(ch);
            r.int(map.get(ch).map_or(0, |l| l.len()) as i64);
        }
    } else if eq_ic(sub, "numpat") {
        r.int(pubsub.patterns.len() as i64);
    } else {
        // The gate resolved the subcommand; nothing else reaches here.
        return Err(CmdError::unknown_subcommand("pubsub", sub));
    }
    Ok(())
}

/// Where the calling client's own notifications go: in front of the reply its command
/// wrote from `mark` on, as Redis emits them while the command runs, before its reply.
pub struct Splice {
    pub key: usize,
    pub mark: usize,
}

/// Publishes `msg` on `channel` (shard channels when `shard`: no patterns); returns the
/// number of deliveries. With `splice`, that client's deliveries are inserted at its mark.
pub fn publish(
    server: &mut Server,
    channel: &[u8],
    msg: &[u8],
    shard: bool,
    mut splice: Option<&mut Splice>,
) -> usize {
    let Server {
        clients,
        pubsub,
        wake,
        settings,
        engine,
        ..
    } = server;
    let now_s = engine.clock.now_ms() / 1000;
    let limits = &settings.client_obuf_limits;
    let ps = pubsub;
    let mut receivers = 0;
    let map = if shard { &ps.shard } else { &ps.channels };
    if let Some(list) = map.get(channel) {
        let enc = &mut ps.enc;
        enc.clear();
        let mut r = resp::Reply::new(enc, Proto::Resp2);
        r.array(3);
        r.bulk(if shard { b"smessage" } else { b"message" });
        r.bulk(channel);
        r.bulk(msg);
        for &k in list {
            deliver(
                clients,
                k,
                enc,
                &mut splice,
                wake,
                limits,
                now_s,
                &mut ps.overflow,
            );
            receivers += 1;
        }
    }
    if !shard {
        for (pat, list) in &ps.patterns {
            if !glob_match(pat, channel, false) {
                continue;
            }
            let enc = &mut ps.enc;
            enc.clear();
            let mut r = resp::Reply::new(enc, Proto::Resp2);
            r.array(4);
            r.bulk(b"pmessage");
            r.bulk(pat);
            r.bulk(channel);
            r.bulk(msg);
            for &k in list {
                deliver(
                    clients,
                    k,
                    enc,
                    &mut splice,
                    wake,
                    limits,
                    now_s,
                    &mut ps.overflow,
                );
                receivers += 1;
            }
        }
    }
    if !server.pubsub.overflow.is_empty() {
        let over = std::mem::take(&mut server.pubsub.overflow);
        for &k in &over {
            server.close_for_output_limit(k);
        }
        server.pubsub.overflow = over;
        server.pubsub.overflow.clear();
    }
    receivers
}

/// Appends one encoded message (RESP2 framing in `enc`) to subscriber `k`.
#[allow(clippy::too_many_arguments)]
#[inline]
fn deliver(
    clients: &mut Slab<Conn>,
    k: usize,
    enc: &[u8],
    splice: &mut Option<&mut Splice>,
    wake: &mut Vec<usize>,
    limits: &[crate::features::config::ObufLimit; 3],
    now_s: i64,
    overflow: &mut Vec<usize>,
) {
    let Some(c) = clients.get_mut(k) else {
        return;
    };
    if c.state == crate::client::ConnState::Closing {
        return;
    }
    // RESP3 differs only in the aggregate's type byte: `>` (push) for `*`.
    let first = if c.session.proto == Proto::Resp3 {
        b'>'
    } else {
        b'*'
    };
    match splice {
        Some(s) if s.key == k => {
            let at = s.mark.min(c.pending.len());
            c.pending.splice(
                at..at,
                std::iter::once(first).chain(enc[1..].iter().copied()),
            );
            s.mark = at + enc.len();
        }
        _ => {
            c.pending.reserve(enc.len());
            c.pending.push(first);
            c.pending.extend_from_slice(&enc[1..]);
            wake.push(k);
        }
    }
    if crate::client::obuf::over_output_limit(c, limits, now_s) {
        overflow.push(k);
    }
}

/// Publishes the keyspace events the engine queued (Redis's `notifyKeyspaceEvent`, which
/// Redis runs inline): `__keyspace@<db>__:<key>` → event, then `__keyevent@<db>__:<event>`
/// → key, as `notify-keyspace-events` selects. `caller` is the client whose command raised
/// them, if any (see [`Splice`]).
pub fn drain_notifications(server: &mut Server, mut caller: Option<Splice>) {
    if server.engine.notifications.is_empty() {
        return;
    }
    let queue = std::mem::take(&mut server.engine.notifications);
    let flags = server.engine.config.notify_keyspace_events;
    let mut chan = std::mem::take(&mut server.pubsub.chan);
    for i in 0..queue.len() {
        let (ev, key) = queue.get(i);
        let mut db = [0u8; 20];
        let db = resp::num::fmt_i64(ev.db as i64, &mut db);
        if flags & engine::notify::KEYSPACE != 0 {
            chan.clear();
            chan.extend_from_slice(b"__keyspace@");
            chan.extend_from_slice(db);
            chan.extend_from_slice(b"__:");
            chan.extend_from_slice(key);
            publish(server, &chan, ev.event.as_bytes(), false, caller.as_mut());
        }
        if flags & engine::notify::KEYEVENT != 0 {
            chan.clear();
            chan.extend_from_slice(b"__keyevent@");
            chan.extend_from_slice(db);
            chan.extend_from_slice(b"__:");
            chan.extend_from_slice(ev.event.as_bytes());
            publish(server, &chan, key, false, caller.as_mut());
        }
    }
    server.pubsub.chan = chan;
    let mut queue = queue;
    queue.clear();
    // Keep the buffers for the next command (unless events were raised while publishing,
    // which cannot happen: publishing touches no key).
    if server.engine.notifications.is_empty() {
        server.engine.notifications = queue;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_follow_redis() {
        let mut s = Subs::default();
        assert!(client_add(&mut s, Kind::Channel, b"a"));
        assert!(!client_add(&mut s, Kind::Channel, b"a"));
        assert!(client_add(&mut s, Kind::Pattern, b"p*"));
        assert!(client_add(&mut s, Kind::Shard, b"s"));
        assert_eq!(Kind::Channel.count(&s), 2, "channels + patterns");
        assert_eq!(Kind::Pattern.count(&s), 2);
        assert_eq!(Kind::Shard.count(&s), 1, "shard channels counted apart");
        assert_eq!(s.counts(), (1, 1, 1));
        assert!(client_remove(&mut s, Kind::Pattern, b"p*"));
        assert!(!client_remove(&mut s, Kind::Pattern, b"p*"));
        assert!(s.active());
    }
}
