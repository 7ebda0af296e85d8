//! Output-buffer limits for every client class (`client-output-buffer-limit normal |
//! replica | pubsub`): a client whose unsent output reaches its class's hard limit, or
//! stays over the soft limit longer than its seconds, is closed (Redis's
//! `checkClientOutputBufferLimits`). This is the check; the server enforces it
//! (`Server::check_output_limit`, `Server::cron_output_limits`) after a client's own commands
//! ran, after a publish appended to subscribers, and once a second from the clients cron.
//!
//! The event loop's backpressure (stop running a client's commands while its output is
//! over a threshold) keeps a normal client's own replies bounded even with no limit set;
//! these limits are what Redis users configure, with Redis's names and defaults.

use crate::client::Conn;

/// Redis's `checkClientOutputBufferLimits`: the hard limit closes at once; the soft limit
/// only once it has been exceeded continuously for more than its seconds. Counts the output
/// queued and not yet sent.
pub fn over_output_limit(
    c: &mut Conn,
    limits: &[crate::features::config::ObufLimit; 3],
    now_s: i64,
) -> bool {
    // Classes: normal 0, replica 1, pubsub 2.
    let class = if c.is_replica() {
        1
    } else if c.subs.active() {
        2
    } else {
        0
    };
    let l = &limits[class];
    if l.hard_bytes == 0 && l.soft_bytes == 0 {
        return false;
    }
    let used = c.output_len() as u64;
    let hard = l.hard_bytes != 0 && used >= l.hard_bytes;
    let mut soft = l.soft_bytes != 0 && used >= l.soft_bytes;
    if soft {
        if c.obuf_soft_since == 0 {
            c.obuf_soft_since = now_s.max(1);
            soft = false;
        } else if now_s - c.obuf_soft_since <= l.soft_seconds {
            soft = false;
        }
    } else {
        c.obuf_soft_since = 0;
    }
    hard || soft
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::config::ObufLimit;

    fn limits(hard: u64, soft: u64, secs: i64) -> [ObufLimit; 3] {
        let l = ObufLimit {
            hard_bytes: hard,
            soft_bytes: soft,
            soft_seconds: secs,
        };
        // Only the pubsub class is limited: a client leaves it with its last subscription.
        [ObufLimit::default(), ObufLimit::default(), l]
    }

    fn subscriber(pending: usize) -> Conn {
        let mut c = Conn::new(-1, 1, 3, 0);
        c.subs = crate::client::subs::Subs::subscribed_for_test();
        c.pending.resize(pending, b'x');
        c
    }

    #[test]
    fn hard_limit_closes_at_once_and_only_pubsub_clients() {
        let l = limits(1000, 0, 0);
        assert!(!over_output_limit(&mut subscriber(999), &l, 100));
        assert!(over_output_limit(&mut subscriber(1000), &l, 100));
        let mut normal = subscriber(5000);
        normal.subs = Default::default();
        assert!(
            !over_output_limit(&mut normal, &l, 100),
            "normal class is unlimited"
        );
        // Unsent bytes of the send in flight count too.
        let mut c = subscriber(500);
        c.sending.resize(700, b'y');
        c.send_off = 100;
        assert!(over_output_limit(&mut c, &l, 100));
    }

    #[test]
    fn soft_limit_needs_to_last_longer_than_its_seconds() {
        let l = limits(0, 100, 2);
        let mut c = subscriber(150);
        assert!(
            !over_output_limit(&mut c, &l, 1000),
            "first time over: start the clock"
        );
        assert!(
            !over_output_limit(&mut c, &l, 1002),
            "2 s is not more than 2 s"
        );
        assert!(over_output_limit(&mut c, &l, 1003));
        // Dropping under the soft limit resets the clock.
        let mut c = subscriber(150);
        assert!(!over_output_limit(&mut c, &l, 1000));
        c.pending.truncate(10);
        assert!(!over_output_limit(&mut c, &l, 1001));
        c.pending.resize(150, b'x');
        assert!(!over_output_limit(&mut c, &l, 1005));
        assert!(over_output_limit(&mut c, &l, 1008));
    }
}
