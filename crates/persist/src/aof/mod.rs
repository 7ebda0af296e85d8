//! Redis 7's multi-part AOF.
