//! ringkv-server: placeholder until the event loop lands.
fn main() {}
