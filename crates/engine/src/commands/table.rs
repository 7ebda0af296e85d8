//! Command metadata (name, arity, flags, key positions, ACL categories, docs) and the table
//! that joins it with handlers. The metadata is data generated from Redis 7.0.15's own
//! command descriptions (see scripts/), so COMMAND INFO/DOCS match Redis.

use super::args::is_kw;
use resp::Reply;
use std::collections::HashMap;

/// Static description of one command or subcommand (one generated row).
#[derive(Debug)]
pub struct CommandMeta {
    /// Lowercase name; subcommands are `container|sub`.
    pub name: &'static str,
    /// Redis arity: positive = exact argc, negative = at least -arity.
    pub arity: i32,
    /// Bitset of `flags::*`.
    pub flags: u64,
    /// Legacy key range (COMMAND INFO's first key, last key, step).
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    /// Bitset of `acl::*`.
    pub acl_categories: u64,
    /// COMMAND DOCS fields (empty when Redis gives none).
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub doc_flags: &'static [&'static str],
    /// Command tips (`nondeterministic_output`, `request_policy:...`).
    pub tips: &'static [&'static str],
    /// Redis 7 key specifications, in Redis's order (COMMAND GETKEYS walks them).
    pub key_specs: &'static [KeySpec],
    /// The subcommands we implement, in Redis's COMMAND INFO order.
    pub subcommands: &'static [CommandMeta],
    /// This command's COMMAND INFO entry, exactly as Redis sends it.
    pub info: Doc,
    /// This command's COMMAND DOCS value (the map after the name), exactly as Redis sends it.
    pub docs: Doc,
}

/// A key specification: where the keys start and how to find the rest.
#[derive(Debug)]
pub struct KeySpec {
    /// Redis's flag names (`RO`, `access`, ...), as GETKEYSANDFLAGS reports them.
    pub flags: &'static [&'static str],
    pub begin: BeginSearch,
    pub find: FindKeys,
}

#[derive(Debug)]
pub enum BeginSearch {
    /// The first key is at this argument index.
    Index(i32),
    /// The first key follows `keyword`, searched from `startfrom` (negative: from the end,
    /// backwards).
    Keyword {
        keyword: &'static str,
        startfrom: i32,
    },
    Unknown,
}

#[derive(Debug)]
pub enum FindKeys {
    /// Keys run to `lastkey` relative to the first (negative: from the end; with `limit`,
    /// a fraction of the remaining arguments), every `keystep`.
    Range {
        lastkey: i32,
        keystep: i32,
        limit: i32,
    },
    /// The key count is at `keynumidx` (relative to the begin index); keys start
    /// `firstkey` after that, every `keystep`.
    Keynum {
        keynumidx: i32,
        firstkey: i32,
        keystep: i32,
    },
    Unknown,
}

/// A static reply tree, written in RESP2 or RESP3 by [`Doc::write`] with Redis's
/// downgrade rules (map → flat array, set → array, null → `$-1`).
#[derive(Clone, Copy, Debug)]
pub enum Doc {
    Bulk(&'static str),
    Status(&'static str),
    Int(i64),
    Null,
    Array(&'static [Doc]),
    Set(&'static [Doc]),
    Map(&'static [(Doc, Doc)]),
}

impl Doc {
    /// Writes the tree. Recursion depth is bounded by the generated data (a handful).
    pub fn write(&self, out: &mut Reply<'_>) {
        match *self {
            Doc::Bulk(s) => out.bulk(s.as_bytes()),
            Doc::Status(s) => out.simple(s.as_bytes()),
            Doc::Int(i) => out.int(i),
            Doc::Null => out.null(),
            Doc::Array(items) => {
                out.array(items.len());
                items.iter().for_each(|d| d.write(out));
            }
            Doc::Set(items) => {
                out.set(items.len());
                items.iter().for_each(|d| d.write(out));
            }
            Doc::Map(pairs) => {
                out.map(pairs.len());
                for (k, v) in pairs {
                    k.write(out);
                    v.write(out);
                }
            }
        }
    }
}

/// Command flags (Redis's `CMD_*`), as a bitset.
pub mod flags {
    pub const WRITE: u64 = 1 << 0;
    pub const READONLY: u64 = 1 << 1;
    pub const DENYOOM: u64 = 1 << 2;
    pub const ADMIN: u64 = 1 << 3;
    pub const PUBSUB: u64 = 1 << 4;
    pub const NOSCRIPT: u64 = 1 << 5;
    pub const BLOCKING: u64 = 1 << 6;
    pub const LOADING: u64 = 1 << 7;
    pub const STALE: u64 = 1 << 8;
    pub const SKIP_MONITOR: u64 = 1 << 9;
    pub const SKIP_SLOWLOG: u64 = 1 << 10;
    pub const FAST: u64 = 1 << 11;
    pub const NO_AUTH: u64 = 1 << 12;
    pub const MAY_REPLICATE: u64 = 1 << 13;
    pub const NO_MULTI: u64 = 1 << 14;
    pub const MOVABLE_KEYS: u64 = 1 << 15;
    pub const ALLOW_BUSY: u64 = 1 << 16;
    pub const NO_MANDATORY_KEYS: u64 = 1 << 17;
    pub const MODULE: u64 = 1 << 18;
    pub const ASKING: u64 = 1 << 19;
    pub const SENTINEL: u64 = 1 << 20;
    pub const ONLY_SENTINEL: u64 = 1 << 21;
    pub const PROTECTED: u64 = 1 << 22;
    pub const MODULE_NO_CLUSTER: u64 = 1 << 23;
    pub const NO_ASYNC_LOADING: u64 = 1 << 24;

    /// Redis's names for the bits, in COMMAND INFO's order.
    pub const NAMES: &[(&str, u64)] = &[
        ("write", WRITE),
        ("readonly", READONLY),
        ("denyoom", DENYOOM),
        ("module", MODULE),
        ("admin", ADMIN),
        ("pubsub", PUBSUB),
        ("noscript", NOSCRIPT),
        ("blocking", BLOCKING),
        ("loading", LOADING),
        ("stale", STALE),
        ("skip_monitor", SKIP_MONITOR),
        ("skip_slowlog", SKIP_SLOWLOG),
        ("asking", ASKING),
        ("fast", FAST),
        ("no_auth", NO_AUTH),
        ("may_replicate", MAY_REPLICATE),
        ("sentinel", SENTINEL),
        ("only_sentinel", ONLY_SENTINEL),
        ("no_mandatory_keys", NO_MANDATORY_KEYS),
        ("protected", PROTECTED),
        ("module_no_cluster", MODULE_NO_CLUSTER),
        ("no_async_loading", NO_ASYNC_LOADING),
        ("no_multi", NO_MULTI),
        ("movablekeys", MOVABLE_KEYS),
        ("allow_busy", ALLOW_BUSY),
    ];
}

/// ACL categories (Redis's `ACL_CATEGORY_*`), as a bitset, in Redis's order.
pub mod acl {
    pub const KEYSPACE: u64 = 1 << 0;
    pub const READ: u64 = 1 << 1;
    pub const WRITE: u64 = 1 << 2;
    pub const SET: u64 = 1 << 3;
    pub const SORTEDSET: u64 = 1 << 4;
    pub const LIST: u64 = 1 << 5;
    pub const HASH: u64 = 1 << 6;
    pub const STRING: u64 = 1 << 7;
    pub const BITMAP: u64 = 1 << 8;
    pub const HYPERLOGLOG: u64 = 1 << 9;
    pub const GEO: u64 = 1 << 10;
    pub const STREAM: u64 = 1 << 11;
    pub const PUBSUB: u64 = 1 << 12;
    pub const ADMIN: u64 = 1 << 13;
    pub const FAST: u64 = 1 << 14;
    pub const SLOW: u64 = 1 << 15;
    pub const BLOCKING: u64 = 1 << 16;
    pub const DANGEROUS: u64 = 1 << 17;
    pub const CONNECTION: u64 = 1 << 18;
    pub const TRANSACTION: u64 = 1 << 19;
    pub const SCRIPTING: u64 = 1 << 20;

    /// Category names (without `@`) and bits, in Redis's order.
    pub const NAMES: &[(&str, u64)] = &[
        ("keyspace", KEYSPACE),
        ("read", READ),
        ("write", WRITE),
        ("set", SET),
        ("sortedset", SORTEDSET),
        ("list", LIST),
        ("hash", HASH),
        ("string", STRING),
        ("bitmap", BITMAP),
        ("hyperloglog", HYPERLOGLOG),
        ("geo", GEO),
        ("stream", STREAM),
        ("pubsub", PUBSUB),
        ("admin", ADMIN),
        ("fast", FAST),
        ("slow", SLOW),
        ("blocking", BLOCKING),
        ("dangerous", DANGEROUS),
        ("connection", CONNECTION),
        ("transaction", TRANSACTION),
        ("scripting", SCRIPTING),
    ];

    /// The bit for a category name, ignoring ASCII case (`ACL CAT`, `COMMAND LIST FILTERBY`).
    pub fn by_name(name: &[u8]) -> Option<u64> {
        NAMES
            .iter()
            .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))
            .map(|&(_, b)| b)
    }
}

/// Every top-level command we implement, in the generator's order.
pub fn all() -> &'static [CommandMeta] {
    super::meta_data::COMMANDS
}

/// Metadata for a command by lowercase name (`"get"`, `"object|encoding"`).
pub fn meta(name: &str) -> Option<&'static CommandMeta> {
    let (top, sub) = match name.split_once('|') {
        Some((t, s)) => (t, Some(s)),
        None => (name, None),
    };
    let row = find(all(), top.as_bytes())?;
    match sub {
        None => Some(row),
        Some(s) => meta_sub(row, s.as_bytes()),
    }
}

/// A top-level command by name, ignoring ASCII case.
pub fn meta_ci(name: &[u8]) -> Option<&'static CommandMeta> {
    find(all(), name)
}

/// A subcommand of `container` by its bare name (`b"ENCODING"`), ignoring ASCII case.
pub fn meta_sub(container: &'static CommandMeta, sub: &[u8]) -> Option<&'static CommandMeta> {
    container.subcommands.iter().find(|m| {
        let bare = &m.name.as_bytes()[container.name.len() + 1..];
        bare.eq_ignore_ascii_case(sub)
    })
}

/// Linear scan: the command list is small (hundreds) and hot lookups go through [`Table`];
/// this serves COMMAND and the tests.
fn find(rows: &'static [CommandMeta], name: &[u8]) -> Option<&'static CommandMeta> {
    rows.iter()
        .find(|m| m.name.as_bytes().eq_ignore_ascii_case(name))
}

impl CommandMeta {
    /// Whether `argc` (including the command name) satisfies the arity.
    #[inline]
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }
}

/// A key found in a command's arguments: its index in `args` and its key spec's flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyRef {
    pub pos: usize,
    pub flags: &'static [&'static str],
}

impl KeySpec {
    fn has_flag(&self, name: &str) -> bool {
        self.flags.contains(&name)
    }
}

impl CommandMeta {
    /// Whether the command takes keys at all (a key spec that is not `not_key`).
    pub fn has_keys(&self) -> bool {
        self.key_specs.iter().any(|s| !s.has_flag("not_key"))
    }

    /// Finds the keys in `args` (the full command, `args[0]` its name) from the key specs,
    /// as Redis's `getKeysFromCommandWithSpecs`. Appends to `out` and returns how many were
    /// found; 0 when the arguments do not fit the specs (Redis then reports a syntax error).
    ///
    /// Commands whose specs are `incomplete` or `variable_flags` fall back to a function in
    /// [`KEY_PROCS`] as in Redis (a test checks each has one).
    pub fn keys(&self, args: &[&[u8]], out: &mut Vec<KeyRef>) -> usize {
        let start = out.len();
        if self.has_keys() && !self.has_spec_flag("variable_flags") {
            if self.keys_from_specs(args, out).is_ok() {
                return out.len() - start;
            }
            out.truncate(start);
        }
        match KEY_PROCS.iter().find(|(n, _)| *n == self.name) {
            Some((_, f)) => f(args, out),
            None => 0,
        }
    }

    fn has_spec_flag(&self, flag: &str) -> bool {
        self.key_specs.iter().any(|s| s.has_flag(flag))
    }

    /// Redis's `getKeysUsingKeySpecs` without partial results. Arithmetic is `i32` with
    /// wrapping, as Redis's `int`, so odd numkeys values behave the same.
    fn keys_from_specs(&self, args: &[&[u8]], out: &mut Vec<KeyRef>) -> Result<(), ()> {
        let argc = i32::try_from(args.len()).map_err(|_| ())?;
        for spec in self.key_specs {
            if spec.has_flag("not_key") {
                continue;
            }
            let mut first: i32 = match spec.begin {
                BeginSearch::Index(pos) => pos,
                BeginSearch::Keyword { keyword, startfrom } => {
                    // Redis stops one short of `end` (the last argument when searching
                    // forwards); kept for identical results.
                    let (begin, end) = if startfrom > 0 {
                        (startfrom, argc - 1)
                    } else {
                        (argc.wrapping_add(startfrom), 1)
                    };
                    let mut found = 0;
                    let mut i = begin;
                    while i != end {
                        if i >= argc || i < 1 {
                            break;
                        }
                        // strcasecmp, as Redis: the argument ends at a NUL byte.
                        if is_kw(args[i as usize], keyword) {
                            found = i + 1;
                            break;
                        }
                        i = if begin <= end { i + 1 } else { i - 1 };
                    }
                    if found == 0 {
                        continue; // keyword absent: this spec has no keys here
                    }
                    found
                }
                BeginSearch::Unknown => return Err(()),
            };
            let (last, step) = match spec.find {
                FindKeys::Range {
                    lastkey,
                    keystep,
                    limit,
                } => {
                    let last = if lastkey >= 0 {
                        first.wrapping_add(lastkey)
                    } else if limit == 0 {
                        argc.wrapping_add(lastkey)
                    } else {
                        first.wrapping_add((argc - first) / limit + lastkey)
                    };
                    (last, keystep)
                }
                FindKeys::Keynum {
                    keynumidx,
                    firstkey,
                    keystep,
                } => {
                    let idx = first.wrapping_add(keynumidx);
                    if idx >= argc || idx < 0 {
                        return Err(());
                    }
                    let numkeys = resp::num::parse_i64(args[idx as usize])
                        .filter(|&n| n >= 0)
                        .ok_or(())?;
                    first = first.wrapping_add(firstkey);
                    (first.wrapping_add(numkeys as i32).wrapping_sub(1), keystep)
                }
                FindKeys::Unknown => return Err(()),
            };
            if last >= argc || last < first || first >= argc || first < 0 || step <= 0 {
                return Err(());
            }
            let mut i = first;
            while i <= last {
                out.push(KeyRef {
                    pos: i as usize,
                    flags: spec.flags,
                });
                i += step;
            }
            if spec.has_flag("incomplete") {
                return Err(());
            }
        }
        Ok(())
    }
}

/// Finds keys where the key specs cannot: Redis's per-command `getkeys_proc`s, needed for
/// specs marked `incomplete` or `variable_flags`. Appends to `out`, returns the count.
pub type KeysFn = fn(&[&[u8]], &mut Vec<KeyRef>) -> usize;

///
/// Redis consults a command's procedure whenever its specs fail (an `unknown` or
/// `incomplete` spec, or a keynum spec whose count does not parse or fit), so the numkeys
/// commands have one too: it reads the count with C's `atoi` and lists the destination
/// last, which `COMMAND GETKEYS` shows (`ZUNIONSTORE d " 2" a b` answers `a b d`).
pub const KEY_PROCS: &[(&str, KeysFn)] = &[
    ("set", set_keys),
    ("sort", sort_keys),
    ("sort_ro", sort_ro_keys),
    ("bitfield", bitfield_keys),
    // `CMD numkeys key ...` (Redis's zunionInterDiffGetKeys, sintercardGetKeys,
    // lmpopGetKeys, zmpopGetKeys).
    ("zunion", |a, o| numkeys_keys(a, o, None, 1)),
    ("zinter", |a, o| numkeys_keys(a, o, None, 1)),
    ("zdiff", |a, o| numkeys_keys(a, o, None, 1)),
    ("zintercard", |a, o| numkeys_keys(a, o, None, 1)),
    ("sintercard", |a, o| numkeys_keys(a, o, None, 1)),
    ("lmpop", |a, o| numkeys_keys(a, o, None, 1)),
    ("zmpop", |a, o| numkeys_keys(a, o, None, 1)),
    // `CMD timeout numkeys key ...` (blmpopGetKeys, bzmpopGetKeys).
    ("blmpop", |a, o| numkeys_keys(a, o, None, 2)),
    ("bzmpop", |a, o| numkeys_keys(a, o, None, 2)),
    // `CMD destination numkeys key ...` (zunionInterDiffStoreGetKeys).
    ("zunionstore", |a, o| numkeys_keys(a, o, Some(1), 2)),
    ("zinterstore", |a, o| numkeys_keys(a, o, Some(1), 2)),
    ("zdiffstore", |a, o| numkeys_keys(a, o, Some(1), 2)),
];

/// Redis's `genericGetKeys`: `atoi(args[count_at])` keys right after the count, none when
/// that is below 1 or more than the arguments left; the destination (if any) comes last.
/// These procedures give no key flags.
fn numkeys_keys(
    args: &[&[u8]],
    out: &mut Vec<KeyRef>,
    store_at: Option<usize>,
    count_at: usize,
) -> usize {
    let Some(count) = args.get(count_at) else {
        return 0;
    };
    let first = count_at + 1;
    let num = crate::util::atoi(count);
    if num < 1 || num as i64 > args.len() as i64 - first as i64 {
        return 0;
    }
    let start = out.len();
    out.extend((first..first + num as usize).map(|pos| KeyRef { pos, flags: &[] }));
    out.extend(store_at.map(|pos| KeyRef { pos, flags: &[] }));
    out.len() - start
}

/// Redis's `sortROGetKeys`: the sorted key only (BY and GET patterns are not listed).
fn sort_ro_keys(args: &[&[u8]], out: &mut Vec<KeyRef>) -> usize {
    if args.len() < 2 {
        return 0;
    }
    out.push(KeyRef {
        pos: 1,
        flags: &["RO", "access"],
    });
    1
}

/// Redis's `sortGetKeys`: the sorted key, then the argument after the last `STORE`. Only
/// LIMIT (two arguments), GET and BY (one) are skipped over; any other word is looked at
/// as an option, the STORE key included.
fn sort_keys(args: &[&[u8]], out: &mut Vec<KeyRef>) -> usize {
    if sort_ro_keys(args, out) == 0 {
        return 0;
    }
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if is_kw(a, "limit") {
            i += 2;
        } else if is_kw(a, "store") && i + 1 < args.len() {
            store = Some(i + 1);
        } else if is_kw(a, "get") || is_kw(a, "by") {
            i += 1;
        }
        i += 1;
    }
    out.extend(store.map(|pos| KeyRef {
        pos,
        flags: &["OW", "update"],
    }));
    1 + usize::from(store.is_some())
}

/// SET's key is always argument 1; GET among the options makes it a read too (Redis's
/// `setGetKeys` compares `g e t \0`: a C string, like every keyword).
fn set_keys(args: &[&[u8]], out: &mut Vec<KeyRef>) -> usize {
    if args.len() < 2 {
        return 0;
    }
    let get = args.iter().skip(3).any(|a| is_kw(a, "get"));
    out.push(KeyRef {
        pos: 1,
        flags: if get {
            &["RW", "access", "update"]
        } else {
            &["OW", "update"]
        },
    });
    1
}

/// Redis's `bitfieldGetKeys`: the key is read-only while the ops seen are GETs and
/// OVERFLOWs; a SET, an INCRBY or anything unparsable makes it read-write.
fn bitfield_keys(args: &[&[u8]], out: &mut Vec<KeyRef>) -> usize {
    if args.len() < 2 {
        return 0;
    }
    let mut read_only = true;
    let mut i = 2;
    while i < args.len() {
        let rem = args.len() - i - 1;
        let a = args[i];
        if is_kw(a, "get") && rem >= 2 {
            i += 3;
        } else if is_kw(a, "overflow") && rem >= 1 {
            i += 2;
        } else {
            read_only = false;
            break;
        }
    }
    out.push(KeyRef {
        pos: 1,
        flags: if read_only {
            &["RO", "access"]
        } else {
            &["RW", "access", "update"]
        },
    });
    1
}

/// Resolves a full command line (`["OBJECT", "ENCODING", "k"]`) to its metadata as Redis's
/// `lookupCommand`: a container with arguments resolves to its subcommand.
pub fn lookup_argv(args: &[&[u8]]) -> Option<&'static CommandMeta> {
    let base = meta_ci(args.first()?)?;
    if args.len() == 1 || base.subcommands.is_empty() {
        Some(base)
    } else {
        meta_sub(base, args[1])
    }
}

/// Resolves a full name (`b"OBJECT|encoding"`) as Redis's `lookupCommandBySds`.
pub fn lookup_full_name(name: &[u8]) -> Option<&'static CommandMeta> {
    let mut parts = name.splitn(3, |&b| b == b'|');
    let base = meta_ci(parts.next()?)?;
    match (parts.next(), parts.next()) {
        (None, _) => Some(base),
        (Some(sub), None) => meta_sub(base, sub),
        (Some(_), Some(_)) => None,
    }
}

/// docs/COMMANDS.md, generated from the metadata (a test keeps the checked-in file current).
pub fn commands_markdown() -> String {
    use std::fmt::Write as _;
    let mut groups: Vec<&str> = Vec::new();
    for m in all() {
        if !groups.contains(&m.group) {
            groups.push(m.group);
        }
    }
    let total: usize = all().iter().map(|m| 1 + m.subcommands.len()).sum();
    let mut md = String::new();
    md.push_str("# Commands\n\n");
    md.push_str(
        "<!-- @generated from crates/engine/src/commands/meta_data.rs by \
         `UPDATE_DOCS=1 cargo test -p engine commands_md` — do not edit -->\n\n",
    );
    let _ = writeln!(
        md,
        "ringkv implements {} commands ({total} counting subcommands), with the metadata of \
         Redis 7.0.15: `COMMAND INFO` and `COMMAND DOCS` return the same replies as Redis. To \
         add a command, list it in `scripts/gen_commands.py` and rerun the script.\n",
        all().len()
    );
    md.push_str(
        "Arity: `N` means exactly N arguments counting the command name; `-N` at least N. \
         Keys: first, last and step of the key arguments (a negative last counts from the \
         end; `-` when the command takes no keys).\n",
    );
    for group in groups {
        let _ = writeln!(
            md,
            "\n## {}\n",
            if group.is_empty() { "other" } else { group }
        );
        md.push_str("| Command | Arity | Keys | Flags | ACL categories | Since | Summary |\n");
        md.push_str("|---|---|---|---|---|---|---|\n");
        for m in all().iter().filter(|m| m.group == group) {
            for row in std::iter::once(m).chain(m.subcommands) {
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} | {} | {} | {} | {}{} |",
                    row.name.replace('|', " ").to_ascii_uppercase(),
                    row.arity,
                    if row.first_key == 0 {
                        "-".to_owned()
                    } else {
                        format!("{}, {}, {}", row.first_key, row.last_key, row.step)
                    },
                    bit_names(row.flags, flags::NAMES),
                    bit_names(row.acl_categories, acl::NAMES),
                    row.since,
                    row.summary.replace('|', "\\|"),
                    if row.doc_flags.contains(&"deprecated") {
                        " *(deprecated)*"
                    } else {
                        ""
                    },
                );
            }
        }
    }
    md
}

fn bit_names(bits: u64, names: &[(&str, u64)]) -> String {
    let v: Vec<&str> = names
        .iter()
        .filter(|(_, b)| bits & b != 0)
        .map(|&(n, _)| n)
        .collect();
    if v.is_empty() {
        "-".to_owned()
    } else {
        v.join(", ")
    }
}

/// A row: metadata plus a handler of the owner's choosing (the engine's test harness uses
/// [`super::CmdFn`]; the server an enum of engine and server handlers).
pub struct Row<H> {
    pub meta: &'static CommandMeta,
    pub handler: H,
}

/// The command table: case-insensitive lookup without allocation.
pub struct Table<H> {
    rows: Vec<Row<H>>,
    by_name: HashMap<&'static [u8], usize>,
}

impl<H> Default for Table<H> {
    fn default() -> Self {
        Table {
            rows: Vec::new(),
            by_name: HashMap::new(),
        }
    }
}

impl<H> Table<H> {
    pub fn insert(&mut self, meta: &'static CommandMeta, handler: H) {
        let i = self.rows.len();
        self.rows.push(Row { meta, handler });
        self.by_name.insert(meta.name.as_bytes(), i);
    }

    /// Looks a command up by name, ignoring ASCII case.
    #[inline]
    pub fn lookup(&self, name: &[u8]) -> Option<&Row<H>> {
        let mut buf = [0u8; 32];
        if name.len() > buf.len() {
            return None;
        }
        let lower = &mut buf[..name.len()];
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        self.by_name.get(&*lower).map(|&i| &self.rows[i])
    }

    pub fn rows(&self) -> &[Row<H>] {
        &self.rows
    }

    /// The position of `row` (one of this table's) in [`Table::rows`]: a plain number to
    /// keep where a reference would tie a lower layer to the handler type (MULTI's queue).
    pub fn index_of(&self, row: &Row<H>) -> usize {
        let base = self.rows.as_ptr() as usize;
        let at = row as *const Row<H> as usize;
        debug_assert!(at >= base && at < base + self.rows.len() * size_of::<Row<H>>());
        (at - base) / size_of::<Row<H>>().max(1)
    }

    /// `rename-command old new`: the command answers to `new` instead of `old` (an empty
    /// `new` disables it). Only the lookup key changes; the row keeps Redis's name for error
    /// texts and statistics, as Redis keeps `cmd->fullname`. False if `old` is unknown.
    pub fn rename(&mut self, old: &[u8], new: &[u8]) -> bool {
        let old = old.to_ascii_lowercase();
        let Some(i) = self.by_name.remove(old.as_slice()) else {
            return false;
        };
        if !new.is_empty() {
            let new: &'static [u8] = Box::leak(new.to_ascii_lowercase().into_boxed_slice());
            self.by_name.insert(new, i);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_by_name_and_subcommand() {
        let get = meta("get").expect("get");
        assert_eq!(
            (get.arity, get.first_key, get.last_key, get.step),
            (2, 1, 1, 1)
        );
        assert_eq!(get.flags, flags::READONLY | flags::FAST);
        assert_eq!(get.acl_categories, acl::READ | acl::STRING | acl::FAST);
        let enc = meta("object|encoding").expect("object|encoding");
        assert_eq!(enc.arity, 3);
        assert_eq!(enc.first_key, 2);
        let object = meta_ci(b"OBJECT").expect("object");
        assert_eq!(object.arity, -2);
        assert!(std::ptr::eq(meta_sub(object, b"EnCoDiNg").unwrap(), enc));
        assert!(meta_sub(object, b"nosuch").is_none());
        assert!(meta("object|nosuch").is_none());
        assert!(meta("nosuch").is_none());
        let set = meta("set").unwrap();
        assert!(set.flags & flags::WRITE != 0 && set.flags & flags::DENYOOM != 0);
        assert_eq!(set.arity, -3);
    }

    #[test]
    fn every_subcommand_is_named_container_pipe_sub() {
        for top in all() {
            assert!(!top.name.contains('|'), "{}", top.name);
            for sub in top.subcommands {
                assert!(
                    sub.name.starts_with(top.name) && sub.name[top.name.len()..].starts_with('|'),
                    "{} is not a subcommand of {}",
                    sub.name,
                    top.name
                );
                assert!(sub.subcommands.is_empty());
            }
        }
    }

    /// Keeps docs/COMMANDS.md in step with the table.
    #[test]
    fn commands_md_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/COMMANDS.md");
        let want = commands_markdown();
        if std::env::var_os("UPDATE_DOCS").is_some() {
            std::fs::write(path, &want).expect("write docs/COMMANDS.md");
            return;
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            have == want,
            "docs/COMMANDS.md is out of date with the command table; regenerate it with\n    \
             UPDATE_DOCS=1 cargo test -p engine commands_md"
        );
    }

    #[test]
    fn commands_needing_a_key_proc_have_one() {
        for m in all()
            .iter()
            .flat_map(|m| std::iter::once(m).chain(m.subcommands))
        {
            let unknown = m.key_specs.iter().any(|s| {
                matches!(s.begin, BeginSearch::Unknown) || matches!(s.find, FindKeys::Unknown)
            });
            let needs =
                unknown || m.has_spec_flag("incomplete") || m.has_spec_flag("variable_flags");
            let has = KEY_PROCS.iter().any(|(n, _)| *n == m.name);
            assert!(
                !needs || has,
                "{}: key specs marked incomplete/variable_flags or unknown need an entry in \
                 KEY_PROCS (Redis's getkeys_proc for it)",
                m.name
            );
        }
    }

    #[test]
    fn keys_from_specs() {
        fn keys(args: &[&str]) -> Vec<(usize, &'static [&'static str])> {
            let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
            let mut out = Vec::new();
            let n = lookup_argv(&a).unwrap().keys(&a, &mut out);
            assert_eq!(n, out.len());
            out.into_iter().map(|k| (k.pos, k.flags)).collect()
        }
        assert_eq!(keys(&["set", "k", "v"]), [(1, &["OW", "update"][..])]);
        assert_eq!(
            keys(&["SET", "k", "v", "Get"]),
            [(1, &["RW", "access", "update"][..])]
        );
        assert_eq!(keys(&["mset", "a", "1", "b", "2"]).len(), 2);
        assert_eq!(
            keys(&["mget", "a", "b", "c"])
                .iter()
                .map(|k| k.0)
                .collect::<Vec<_>>(),
            [1, 2, 3]
        );
        assert_eq!(
            keys(&["copy", "a", "b", "db", "1"])
                .iter()
                .map(|k| k.0)
                .collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(
            keys(&["object", "freq", "k"])
                .iter()
                .map(|k| k.0)
                .collect::<Vec<_>>(),
            [2]
        );
        assert!(keys(&["ping"]).is_empty());
    }

    #[test]
    fn keyword_and_keynum_specs_follow_redis() {
        // Shapes used by commands still to come (ZUNIONSTORE, XREAD-like keywords).
        static KEYNUM: CommandMeta = CommandMeta {
            name: "t",
            arity: -3,
            flags: 0,
            first_key: 0,
            last_key: 0,
            step: 0,
            acl_categories: 0,
            group: "",
            since: "",
            summary: "",
            complexity: "",
            doc_flags: &[],
            tips: &[],
            key_specs: &[
                KeySpec {
                    flags: &["OW"],
                    begin: BeginSearch::Index(1),
                    find: FindKeys::Range {
                        lastkey: 0,
                        keystep: 1,
                        limit: 0,
                    },
                },
                KeySpec {
                    flags: &["RO"],
                    begin: BeginSearch::Index(2),
                    find: FindKeys::Keynum {
                        keynumidx: 0,
                        firstkey: 1,
                        keystep: 1,
                    },
                },
                KeySpec {
                    flags: &["RO"],
                    begin: BeginSearch::Keyword {
                        keyword: "STREAMS",
                        startfrom: 1,
                    },
                    find: FindKeys::Range {
                        lastkey: -1,
                        keystep: 1,
                        limit: 2,
                    },
                },
            ],
            subcommands: &[],
            info: Doc::Null,
            docs: Doc::Null,
        };
        let pos = |args: &[&str]| {
            let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
            let mut out = Vec::new();
            KEYNUM.keys(&a, &mut out);
            out.iter().map(|k| k.pos).collect::<Vec<_>>()
        };
        assert_eq!(pos(&["t", "d", "2", "a", "b"]), [1, 3, 4]);
        assert_eq!(
            pos(&["t", "d", "3", "a", "b"]),
            [] as [usize; 0],
            "numkeys past the end"
        );
        assert_eq!(pos(&["t", "d", "-1", "a"]), [] as [usize; 0]);
        assert_eq!(pos(&["t", "d", "x", "a"]), [] as [usize; 0]);
        assert_eq!(pos(&["t", "d", "0", "a"]), [] as [usize; 0], "last < first");
        assert_eq!(
            pos(&["t", "d", "1", "a", "streams", "s1", "s2", "0", "0"]),
            [1, 3, 5, 6]
        );
        // The keyword compares as strcasecmp on a C string.
        assert_eq!(
            pos(&["t", "d", "1", "a", "Streams\0x", "s1", "s2", "0", "0"]),
            [1, 3, 5, 6]
        );
    }

    #[test]
    fn acl_names() {
        assert_eq!(acl::by_name(b"Connection"), Some(acl::CONNECTION));
        assert_eq!(acl::by_name(b"nope"), None);
    }
}
