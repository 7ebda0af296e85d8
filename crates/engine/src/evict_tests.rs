//! Eviction policies with the movable clock and a fake memory figure (100 bytes per key).

use super::*;
use crate::commands::testkit::Harness;

/// The fake memory measure: 100 bytes per key in every db.
fn per_key(e: &Engine) -> usize {
    e.dbs.iter().map(|d| d.len()).sum::<usize>() * 100
}

fn harness(policy: Policy, keys_limit: u64, samples: usize) -> Harness {
    let mut h = Harness::new();
    h.engine.config.evict = EvictConfig {
        maxmemory: keys_limit * 100,
        policy,
        samples,
        // No time limit: a slow (debug, loaded) machine must not turn Ok into Running.
        tenacity: 100,
        ..EvictConfig::default()
    };
    h.engine.refresh_policy();
    h
}

fn exists(h: &mut Harness, k: &str) -> bool {
    h.run(&["EXISTS", k]) == ":1\r\n"
}

#[test]
fn under_the_limit_nothing_happens() {
    let mut h = harness(Policy::AllkeysLru, 10, 5);
    for i in 0..10 {
        h.run(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Ok);
    assert_eq!(h.engine.dbs[0].len(), 10);
    // No limit at all.
    h.engine.config.evict.maxmemory = 0;
    assert_eq!(
        h.engine.perform_evictions(&|_| usize::MAX),
        EvictOutcome::Ok
    );
}

#[test]
fn noeviction_and_no_candidates_fail() {
    let mut h = harness(Policy::NoEviction, 5, 5);
    for i in 0..10 {
        h.run(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Fail);
    assert_eq!(h.engine.dbs[0].len(), 10);
    // An episode over the limit is timed until a call gets under it.
    assert!(h.engine.evict.exceeded_since.is_some());
    h.engine.config.evict.maxmemory = 0;
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Ok);
    assert!(h.engine.evict.exceeded_since.is_none());
    assert!(h.engine.evict.total_exceeded() > Duration::ZERO);
    h.engine.config.evict.maxmemory = 500;
    // volatile-* with no volatile key: nothing to evict.
    for p in [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
    ] {
        h.engine.config.evict.policy = p;
        h.engine.refresh_policy();
        assert_eq!(
            h.engine.perform_evictions(&per_key),
            EvictOutcome::Fail,
            "{p:?}"
        );
        assert_eq!(h.engine.dbs[0].len(), 10);
    }
}

#[test]
fn every_evicting_policy_frees_down_to_the_limit() {
    for p in [
        Policy::VolatileLru,
        Policy::VolatileLfu,
        Policy::VolatileRandom,
        Policy::VolatileTtl,
        Policy::AllkeysLru,
        Policy::AllkeysLfu,
        Policy::AllkeysRandom,
    ] {
        let mut h = harness(p, 50, 5);
        for i in 0..100 {
            h.run(&["SET", &format!("v{i}"), "x", "EX", "1000"]);
        }
        h.run(&["SELECT", "3"]);
        for i in 0..20 {
            h.run(&["SET", &format!("p{i}"), "x"]);
        }
        assert_eq!(
            h.engine.perform_evictions(&per_key),
            EvictOutcome::Ok,
            "{p:?}"
        );
        assert_eq!(per_key(&h.engine), 5000, "{p:?}");
        assert_eq!(h.engine.evict.evicted_keys, 70, "{p:?}");
        if !p.allkeys() {
            // Only keys with a TTL go.
            assert_eq!(h.engine.dbs[3].len(), 20, "{p:?}");
        }
    }
}

#[test]
fn volatile_ttl_evicts_the_shortest_ttls_first() {
    // With as many samples as keys, the pool sees every key: exactly the shortest go.
    let mut h = harness(Policy::VolatileTtl, 130, 200);
    for i in 0..100 {
        // Shuffled deadlines: key i expires in (i * 37 % 100 + 1) seconds.
        let ttl = (i * 37 % 100 + 1).to_string();
        h.run(&["SET", &format!("k{i}"), "x", "EX", &ttl]);
    }
    for i in 0..50 {
        h.run(&["SET", &format!("p{i}"), "x"]);
    }
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Ok);
    for i in 0..100 {
        let ttl = i * 37 % 100 + 1;
        assert_eq!(
            exists(&mut h, &format!("k{i}")),
            ttl > 20,
            "key with ttl {ttl}"
        );
    }
    // With Redis's default 5 samples the choice is approximate but strongly biased: the
    // evicted keys' TTLs average far below the population's (50.5).
    let mut h = harness(Policy::VolatileTtl, 80, 5);
    for i in 0..100 {
        let ttl = (i * 37 % 100 + 1).to_string();
        h.run(&["SET", &format!("k{i}"), "x", "EX", &ttl]);
    }
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Ok);
    let mut gone = Vec::new();
    for i in 0..100 {
        if !exists(&mut h, &format!("k{i}")) {
            gone.push(i * 37 % 100 + 1);
        }
    }
    assert_eq!(gone.len(), 20);
    let avg = gone.iter().sum::<i32>() as f64 / 20.0;
    assert!(avg < 30.0, "evicted TTLs {gone:?}");
}

#[test]
fn lru_keeps_recently_read_keys() {
    let mut h = harness(Policy::AllkeysLru, 100, 5);
    for i in 0..200 {
        h.run(&["SET", &format!("k{i}"), "x"]);
    }
    h.advance_ms(100_000);
    for i in 0..50 {
        h.run(&["GET", &format!("k{i}")]);
    }
    h.advance_ms(10_000);
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Ok);
    assert_eq!(h.engine.dbs[0].len(), 100);
    for i in 0..50 {
        assert!(
            exists(&mut h, &format!("k{i}")),
            "recently read k{i} was evicted"
        );
    }
}

#[test]
fn lfu_keeps_frequently_read_keys() {
    let mut h = harness(Policy::AllkeysLfu, 100, 5);
    for i in 0..200 {
        h.run(&["SET", &format!("k{i}"), "x"]);
    }
    for _ in 0..20 {
        for i in 0..50 {
            h.run(&["GET", &format!("k{i}")]);
        }
    }
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Ok);
    for i in 0..50 {
        assert!(exists(&mut h, &format!("k{i}")), "hot k{i} was evicted");
    }
}

#[test]
fn lfu_counter_log_increment_and_decay() {
    // The increment: certain at or below LFU_INIT_VAL, 1/((c-5)*factor+1) above, never past 255.
    assert_eq!(lfu_log_incr(0, 10, 0.999), 1);
    assert_eq!(lfu_log_incr(5, 10, 0.999), 6);
    assert_eq!(lfu_log_incr(6, 10, 0.05), 7);
    assert_eq!(lfu_log_incr(6, 10, 0.1), 6);
    assert_eq!(lfu_log_incr(15, 10, 1.0 / 101.0 - 1e-9), 16);
    assert_eq!(lfu_log_incr(15, 10, 1.0 / 101.0 + 1e-9), 15);
    assert_eq!(lfu_log_incr(255, 0, 0.0), 255);
    // The decay: one per `decay_time` minutes since the stamp, floored at 0; 0 = never.
    let t0 = 1_767_225_600_000;
    let lru = (lfu_minutes(t0) << 8) | 20;
    assert_eq!(lfu_decr_and_return(lru, t0 + 59_999, 1), 20);
    assert_eq!(lfu_decr_and_return(lru, t0 + 3 * 60_000, 1), 17);
    assert_eq!(lfu_decr_and_return(lru, t0 + 10 * 60_000, 5), 18);
    assert_eq!(lfu_decr_and_return(lru, t0 + 100 * 60_000, 1), 0);
    assert_eq!(lfu_decr_and_return(lru, t0 + 100 * 60_000, 0), 20);
    // The 16-bit minute clock wraps once.
    let old = (65530 << 8) | 20;
    let now = (lfu_minutes(t0) as i64 / 65536 * 65536 + 65536 + 4) * 60_000;
    assert_eq!(lfu_minutes(now), 4);
    assert_eq!(lfu_decr_and_return(old, now, 1), 11);
    // Many reads grow the counter logarithmically: 1000 reads at factor 10 stay far below
    // 255 (Redis's table: ~18 after 1K hits at factor 10 from the start value).
    let p = LfuParams {
        log_factor: 10,
        decay_time: 1,
    };
    let mut lru = lfu_new(t0);
    let mut x = 1u64;
    for _ in 0..1000 {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        lru = lfu_touch(lru, t0, p, (x >> 11) as f64 / (1u64 << 53) as f64);
    }
    let c = lru & 255;
    assert!((12..=25).contains(&c), "counter after 1000 hits: {c}");
}

#[test]
fn object_freq_and_idletime_follow_the_policy() {
    let mut h = harness(Policy::AllkeysLfu, 0, 5);
    h.run(&["SET", "k", "v"]);
    assert_eq!(h.run(&["OBJECT", "FREQ", "k"]), ":5\r\n");
    h.run(&["GET", "k"]);
    assert_eq!(h.run(&["OBJECT", "FREQ", "k"]), ":6\r\n");
    h.advance_ms(2 * 60_000);
    assert_eq!(h.run(&["OBJECT", "FREQ", "k"]), ":4\r\n");
    assert!(
        h.run(&["OBJECT", "IDLETIME", "k"])
            .starts_with("-ERR An LFU maxmemory policy is selected")
    );
    // Overwriting keeps the counter under LFU.
    h.run(&["SET", "k", "w"]);
    assert_eq!(h.run(&["OBJECT", "FREQ", "k"]), ":5\r\n");
    h.engine.config.evict.policy = Policy::AllkeysLru;
    h.engine.refresh_policy();
    assert!(
        h.run(&["OBJECT", "FREQ", "k"])
            .starts_with("-ERR An LFU maxmemory policy is not selected")
    );
    h.run(&["SET", "j", "v"]);
    h.advance_ms(7_000);
    assert_eq!(h.run(&["OBJECT", "IDLETIME", "j"]), ":7\r\n");
}

#[test]
fn evictions_raise_events_touch_watchers_and_propagate_dels() {
    let mut h = harness(Policy::AllkeysRandom, 2, 5);
    h.engine.config.notify_keyspace_events = crate::notify::parse_flags(b"Ee").unwrap();
    h.engine.refresh_expire_logging();
    h.run(&["SELECT", "2"]);
    for k in ["a", "b", "c"] {
        h.run(&["SET", k, "v"]);
    }
    h.take_propagated();
    h.engine.notifications.clear();
    assert_eq!(h.engine.perform_evictions(&per_key), EvictOutcome::Ok);
    assert_eq!(h.engine.evict.evicted_keys, 1);
    let q = &h.engine.notifications;
    assert_eq!(q.len(), 1);
    let (e, key) = q.get(0);
    assert_eq!(e.event, "evicted");
    let victim = String::from_utf8_lossy(key).into_owned();
    // The SETs already selected db 2 in the stream.
    assert_eq!(h.propagated(), vec![format!("DEL {victim}")]);
    h.engine.reset_stats();
    assert_eq!(h.engine.evict.evicted_keys, 0);
}

#[test]
fn a_call_stops_at_the_time_limit_and_resumes() {
    // Tenacity 0: a zero time limit, so each call evicts one batch of 16 and reports
    // Running until memory is back under the limit.
    let mut h = harness(Policy::AllkeysRandom, 10, 5);
    h.engine.config.evict.tenacity = 0;
    h.stop_propagation();
    for i in 0..100 {
        h.run(&["SET", &format!("k{i}"), "x"]);
    }
    let mut calls = 0;
    while h.engine.perform_evictions(&per_key) == EvictOutcome::Running {
        assert!(h.engine.evict.running);
        calls += 1;
        assert_eq!(h.engine.dbs[0].len(), 100 - 16 * calls);
    }
    assert_eq!(calls, 5);
    assert!(!h.engine.evict.running);
    assert_eq!(h.engine.dbs[0].len(), 10);
    assert_eq!(time_limit(10), Some(Duration::from_micros(500)));
    assert_eq!(time_limit(100), None);
}
