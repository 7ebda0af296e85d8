//! Differential tests (placeholder while the runner lands).

use crate::common::{Server, redis_or_skip};

#[test]
fn redis_answers_ping() {
    if !redis_or_skip("redis_answers_ping") {
        return;
    }
    let srv = Server::redis();
    let mut c = srv.connect();
    assert_eq!(c.cmd_raw(&["PING"]), b"+PONG\r\n");
}

#[cfg(test)]
mod resp_selftest;
