//! Redis's LFU access counter (evict.c's `LFU*` functions): an 8-bit logarithmic counter
//! and 16 bits of minutes since its last decrement, kept in an entry's 24-bit `lru` field
//! under an `allkeys-lfu` / `volatile-lfu` policy. Shared by the db (every read touches the
//! key) and eviction (which ranks keys by it); it knows neither.

/// Redis's `LFU_INIT_VAL`: the counter of a new key.
pub const LFU_INIT_VAL: u8 = 5;

/// The LFU parameters a db needs to touch keys (copied from `evict::EvictConfig`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LfuParams {
    pub log_factor: u32,
    pub decay_time: u32,
}

/// Redis's `LFUGetTimeInMinutes`: 16 bits of Unix minutes.
#[inline]
pub fn lfu_minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) as u64 & 0xffff) as u32
}

/// Redis's `LFUTimeElapsed`: minutes since `ldt`, wrapping once.
#[inline]
fn lfu_elapsed(ldt: u32, now_ms: i64) -> u32 {
    let now = lfu_minutes(now_ms);
    if now >= ldt {
        now - ldt
    } else {
        65535 - ldt + now
    }
}

/// Redis's `LFUDecrAndReturn`: the counter of `lru` after the decay periods elapsed since
/// its last decrement time (the field itself is not changed).
#[inline]
pub fn lfu_decr_and_return(lru: u32, now_ms: i64, decay_time: u32) -> u8 {
    let ldt = lru >> 8;
    let counter = lru & 255;
    let periods = lfu_elapsed(ldt, now_ms)
        .checked_div(decay_time)
        .unwrap_or(0);
    counter.saturating_sub(periods) as u8
}

/// Redis's `LFULogIncr` with the random draw `r` in [0, 1].
#[inline]
pub fn lfu_log_incr(counter: u8, log_factor: u32, r: f64) -> u8 {
    if counter == 255 {
        return 255;
    }
    let base = (counter as f64 - LFU_INIT_VAL as f64).max(0.0);
    let p = 1.0 / (base * log_factor as f64 + 1.0);
    if r < p { counter + 1 } else { counter }
}

/// Redis's `updateLFU`: decay, log-increment, stamp the current minute.
#[inline]
pub fn lfu_touch(lru: u32, now_ms: i64, p: LfuParams, r: f64) -> u32 {
    let c = lfu_decr_and_return(lru, now_ms, p.decay_time);
    let c = lfu_log_incr(c, p.log_factor, r);
    (lfu_minutes(now_ms) << 8) | c as u32
}

/// The `lru` field of a new key under LFU.
#[inline]
pub fn lfu_new(now_ms: i64) -> u32 {
    (lfu_minutes(now_ms) << 8) | LFU_INIT_VAL as u32
}
