//! Redis 7.0.15's whole command list as the ACL sees it (generated into `universe_data.rs`
//! by `scripts/gen_acl_commands.py`): a command's ACL id is its index in [`COMMANDS`].

pub use super::universe_data::COMMANDS;

/// The id of a command by full name (`get`, `config|get`), ignoring ASCII case, as Redis's
/// `ACLLookupCommand` (`lookupCommandBySdsLogic`: at most one `|`, and a subcommand only of
/// a container).
pub fn lookup(name: &[u8]) -> Option<usize> {
    if name.len() > 64 || name.iter().filter(|&&b| b == b'|').count() > 1 {
        return None;
    }
    let mut buf = [0u8; 64];
    let lower = &mut buf[..name.len()];
    lower.copy_from_slice(name);
    lower.make_ascii_lowercase();
    COMMANDS
        .binary_search_by(|c| c.name.as_bytes().cmp(lower))
        .ok()
}

/// Ids of the top-level commands, in order (their subcommands follow each in `subs`).
pub fn top_level() -> impl Iterator<Item = usize> {
    COMMANDS
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.name.contains('|'))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_complete() {
        assert!(COMMANDS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(COMMANDS.len() < super::super::user::BITS - 1);
        assert_eq!(lookup(b"GET").map(|i| COMMANDS[i].name), Some("get"));
        assert_eq!(
            lookup(b"Config|Get").map(|i| COMMANDS[i].name),
            Some("config|get")
        );
        assert_eq!(lookup(b"get|x"), None);
        // Every implemented command has an id.
        for m in engine::commands::table::all() {
            assert!(lookup(m.name.as_bytes()).is_some(), "{}", m.name);
            for s in m.subcommands {
                assert!(lookup(s.name.as_bytes()).is_some(), "{}", s.name);
            }
        }
    }
}
