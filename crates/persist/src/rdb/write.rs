//! RDB writer (the lead writes it).
