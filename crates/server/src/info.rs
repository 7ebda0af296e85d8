//! INFO text in Redis 7.0.15's layout (being written).
