//! RDB loader.
