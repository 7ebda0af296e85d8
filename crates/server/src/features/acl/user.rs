//! ACL users and selectors: the rules (Redis 7.0.15's `ACLSetUser` / `ACLSetSelector`), the
//! permission check of one command (`ACLCheckAllUserCommandPerm`), and the descriptions ACL
//! LIST, ACL GETUSER and ACL SAVE print (`ACLDescribeUser`, with the best-fit category
//! reconstruction of the command bitmap).
//!
//! Pure data and functions: no clients, no server. A command's ACL id is its position in
//! [`universe::COMMANDS`] (Redis's whole command list, so rules naming commands ringkv lacks
//! are accepted and described as Redis does).
//!
//! Invariants:
//! - `selectors[0]` is the root selector (flag `ROOT`), and only it.
//! - Passwords are SHA-256 digests as 64 lowercase hex characters, never clear text;
//!   comparison is constant-time ([`ct_eq`]).
//! - The `FUTURE` bit is set only by `+@all` / `allcommands` (Redis's reserved last bit): it
//!   decides whether a description starts from `+@all` or `-@all`.

use super::universe::{self, COMMANDS};
use engine::commands::args::is_kw;
use engine::commands::table::{CommandMeta, KeyRef, acl as cat};
use engine::glob::glob_match;
use sha2::{Digest, Sha256};

/// Bits in a command bitmap (Redis uses 1024; 512 holds Redis 7.0's 366 commands).
pub const BITS: usize = 512;
const WORDS: usize = BITS / 64;
/// Set only by `+@all`: the selector also allows commands added later.
const FUTURE: usize = BITS - 1;

pub type Bitmap = [u64; WORDS];

/// User flags, in the order ACL LIST / GETUSER print them.
pub mod uflag {
    pub const ENABLED: u8 = 1 << 0;
    pub const DISABLED: u8 = 1 << 1;
    pub const NOPASS: u8 = 1 << 2;
    pub const SANITIZE_SKIP: u8 = 1 << 3;
    pub const SANITIZE: u8 = 1 << 4;
    pub const NAMES: &[(&str, u8)] = &[
        ("on", ENABLED),
        ("off", DISABLED),
        ("nopass", NOPASS),
        ("skip-sanitize-payload", SANITIZE_SKIP),
        ("sanitize-payload", SANITIZE),
    ];
}

/// Selector flags.
pub mod sflag {
    pub const ROOT: u8 = 1 << 0;
    pub const ALLKEYS: u8 = 1 << 1;
    pub const ALLCHANNELS: u8 = 1 << 2;
    pub const ALLCOMMANDS: u8 = 1 << 3;
}

/// Key pattern permissions.
const KEY_READ: u8 = 1;
const KEY_WRITE: u8 = 2;
const KEY_ALL: u8 = KEY_READ | KEY_WRITE;

/// Why a rule was refused (Redis's errno codes), with Redis's texts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleError {
    /// ENOENT
    UnknownName,
    /// EINVAL
    Syntax,
    /// EEXIST
    KeyAfterAll,
    /// EISDIR
    ChannelAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    SubcommandFirstArg,
}

impl RuleError {
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelAfterAll => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::SubcommandFirstArg => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Why a command was denied, ordered as Redis's `ACL_DENIED_*` (the most relevant error
/// among selectors is the largest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Deny {
    Cmd = 1,
    Key = 2,
    Auth = 3,
    Channel = 4,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyPattern {
    pub flags: u8,
    pub pattern: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    pub flags: u8,
    pub allowed: Bitmap,
    /// Allowed first arguments of an otherwise denied command (`+select|0`), by id, in the
    /// order given.
    pub firstargs: Vec<(u16, Vec<Vec<u8>>)>,
    pub patterns: Vec<KeyPattern>,
    pub channels: Vec<Vec<u8>>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: Vec<u8>,
    pub flags: u8,
    /// SHA-256 hex digests.
    pub passwords: Vec<[u8; 64]>,
    /// `selectors[0]` is the root selector.
    pub selectors: Vec<Selector>,
}

/// Redis's `ACLStringHasSpaces`: isspace() or NUL.
pub fn has_spaces(s: &[u8]) -> bool {
    s.iter()
        .any(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r' | 0))
}

/// SHA-256 of a clear-text password as 64 lowercase hex characters.
pub fn hash_password(pass: &[u8]) -> [u8; 64] {
    let digest = Sha256::digest(pass);
    let mut out = [0u8; 64];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in digest.iter().enumerate() {
        out[2 * i] = HEX[(b >> 4) as usize];
        out[2 * i + 1] = HEX[(b & 15) as usize];
    }
    out
}

/// Constant-time equality of two digests: every byte is compared, no early exit.
pub fn ct_eq(a: &[u8; 64], b: &[u8; 64]) -> bool {
    let mut diff = 0u8;
    for i in 0..64 {
        diff |= a[i] ^ b[i];
    }
    std::hint::black_box(diff) == 0
}

fn valid_hash(h: &[u8]) -> Option<[u8; 64]> {
    if h.len() != 64 || !h.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 64];
    out.copy_from_slice(h);
    Some(out)
}

/// Redis's `strcasecmp(op, word)`: the op ends at a NUL byte, as a C string.
fn kw(op: &[u8], word: &str) -> bool {
    is_kw(op, word)
}

impl Selector {
    pub fn new(flags: u8) -> Selector {
        Selector {
            flags,
            allowed: [0; WORDS],
            firstargs: Vec::new(),
            patterns: Vec::new(),
            channels: Vec::new(),
        }
    }

    #[inline]
    pub fn bit(&self, id: usize) -> bool {
        id < BITS && self.allowed[id / 64] & (1 << (id % 64)) != 0
    }

    fn set_bit(&mut self, id: usize, on: bool) {
        if id >= BITS {
            return;
        }
        if on {
            self.allowed[id / 64] |= 1 << (id % 64);
        } else {
            self.allowed[id / 64] &= !(1 << (id % 64));
            self.flags &= !sflag::ALLCOMMANDS;
        }
    }

    /// `ACLChangeSelectorPerm`: a command and all its subcommands.
    fn change_perm(&mut self, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.retain(|(i, _)| *i as usize != id);
        for &s in COMMANDS[id].subs {
            self.set_bit(s as usize, allow);
        }
    }

    /// `ACLSetSelectorCommandBitsForCategory`.
    fn set_category(&mut self, flag: u64, allow: bool) {
        for id in universe::top_level() {
            let c = &COMMANDS[id];
            if c.categories & flag != 0 {
                self.change_perm(id, allow);
            }
            for &s in c.subs {
                if COMMANDS[s as usize].categories & flag != 0 {
                    self.change_perm(s as usize, allow);
                }
            }
        }
    }

    /// `ACLSetSelector`: one rule on this selector.
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let first = op.first().copied().unwrap_or(0);
        let second = op.get(1).copied().unwrap_or(0);
        if kw(op, "allkeys") || kw(op, "~*") {
            self.flags |= sflag::ALLKEYS;
            self.patterns.clear();
        } else if kw(op, "resetkeys") {
            self.flags &= !sflag::ALLKEYS;
            self.patterns.clear();
        } else if kw(op, "allchannels") || kw(op, "&*") {
            self.flags |= sflag::ALLCHANNELS;
            self.channels.clear();
        } else if kw(op, "resetchannels") {
            self.flags &= !sflag::ALLCHANNELS;
            self.channels.clear();
        } else if kw(op, "allcommands") || kw(op, "+@all") {
            self.allowed = [u64::MAX; WORDS];
            self.flags |= sflag::ALLCOMMANDS;
            self.firstargs.clear();
        } else if kw(op, "nocommands") || kw(op, "-@all") {
            self.allowed = [0; WORDS];
            self.flags &= !sflag::ALLCOMMANDS;
            self.firstargs.clear();
        } else if first == b'~' || first == b'%' {
            if self.flags & sflag::ALLKEYS != 0 {
                return Err(RuleError::KeyAfterAll);
            }
            let mut flags = 0u8;
            let mut offset = 1;
            if first == b'%' {
                while offset < op.len() {
                    let c = op[offset];
                    if c.eq_ignore_ascii_case(&b'r') && flags & KEY_READ == 0 {
                        flags |= KEY_READ;
                    } else if c.eq_ignore_ascii_case(&b'w') && flags & KEY_WRITE == 0 {
                        flags |= KEY_WRITE;
                    } else if c == b'~' {
                        offset += 1;
                        break;
                    } else {
                        return Err(RuleError::Syntax);
                    }
                    offset += 1;
                }
                // `%` with no permission letter would print as nothing Redis can read back.
                if flags == 0 {
                    return Err(RuleError::Syntax);
                }
            } else {
                flags = KEY_ALL;
            }
            let pat = &op[offset.min(op.len())..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            match self.patterns.iter_mut().find(|p| p.pattern == pat) {
                Some(p) => p.flags |= flags,
                None => self.patterns.push(KeyPattern {
                    flags,
                    pattern: pat.to_vec(),
                }),
            }
            self.flags &= !sflag::ALLKEYS;
        } else if first == b'&' {
            if self.flags & sflag::ALLCHANNELS != 0 {
                return Err(RuleError::ChannelAfterAll);
            }
            let pat = &op[1..];
            if has_spaces(pat) {
                return Err(RuleError::Syntax);
            }
            if !self.channels.iter().any(|c| c == pat) {
                self.channels.push(pat.to_vec());
            }
            self.flags &= !sflag::ALLCHANNELS;
        } else if first == b'+' && second != b'@' {
            let name = &op[1..];
            match memchr::memrchr(b'|', name) {
                None => {
                    let id = universe::lookup(name).ok_or(RuleError::UnknownName)?;
                    self.change_perm(id, true);
                }
                Some(bar) => {
                    let (base, sub) = (&name[..bar], &name[bar + 1..]);
                    let id = universe::lookup(base).ok_or(RuleError::UnknownName)?;
                    if COMMANDS[id].name.contains('|') {
                        return Err(RuleError::SubcommandFirstArg);
                    }
                    if sub.is_empty() {
                        return Err(RuleError::Syntax);
                    }
                    if !COMMANDS[id].subs.is_empty() {
                        let sid = universe::lookup(name).ok_or(RuleError::UnknownName)?;
                        self.change_perm(sid, true);
                    } else {
                        log::warn!(
                            "Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +{})",
                            String::from_utf8_lossy(name)
                        );
                        self.add_firstarg(id as u16, sub);
                    }
                }
            }
        } else if first == b'-' && second != b'@' {
            let id = universe::lookup(&op[1..]).ok_or(RuleError::UnknownName)?;
            self.change_perm(id, false);
        } else if (first == b'+' || first == b'-') && second == b'@' {
            let flag = cat::by_name(c_str(&op[2..])).ok_or(RuleError::UnknownName)?;
            self.set_category(flag, first == b'+');
        } else {
            return Err(RuleError::Syntax);
        }
        Ok(())
    }

    fn add_firstarg(&mut self, id: u16, sub: &[u8]) {
        let list = match self.firstargs.iter_mut().find(|(i, _)| *i == id) {
            Some((_, l)) => l,
            None => {
                self.firstargs.push((id, Vec::new()));
                &mut self.firstargs.last_mut().expect("just pushed").1
            }
        };
        if !list.iter().any(|a| a.eq_ignore_ascii_case(sub)) {
            list.push(sub.to_vec());
        }
    }

    fn firstargs_of(&self, id: usize) -> Option<&[Vec<u8>]> {
        self.firstargs
            .iter()
            .find(|(i, _)| *i as usize == id)
            .map(|(_, l)| l.as_slice())
    }

    /// `ACLSelectorCheckKey`: `flags` are the key spec's flag names.
    fn check_key(&self, key: &[u8], spec_flags: &[&str]) -> bool {
        if self.flags & sflag::ALLKEYS != 0 {
            return true;
        }
        let mut need = 0u8;
        for f in spec_flags {
            match *f {
                "access" => need |= KEY_READ,
                "insert" | "delete" | "update" => need |= KEY_WRITE,
                _ => {}
            }
        }
        self.patterns
            .iter()
            .any(|p| p.flags & need == need && glob_match(&p.pattern, key, false))
    }

    fn check_channel(&self, channel: &[u8], literal: bool) -> bool {
        self.channels.iter().any(|p| {
            if literal {
                c_str(p) == c_str(channel)
            } else {
                glob_match(p, channel, false)
            }
        })
    }

    /// `ACLSelectorCheckCmd`. `keys` is filled on first use and shared by the selectors.
    fn check(&self, cmd: &Cmd<'_>, keys: &mut Option<Vec<KeyRef>>) -> Result<(), (Deny, usize)> {
        use engine::commands::table::flags::NO_AUTH;
        let id = cmd.id;
        if self.flags & sflag::ALLCOMMANDS == 0 && cmd.meta.flags & NO_AUTH == 0 && !self.bit(id) {
            let idx = if cmd.meta.name.contains('|') { 2 } else { 1 };
            let allowed = match (self.firstargs_of(id), cmd.args.get(idx)) {
                (Some(list), Some(arg)) if cmd.args.len() >= 2 => {
                    list.iter().any(|a| is_kw(arg, &String::from_utf8_lossy(a)))
                }
                _ => false,
            };
            if !allowed {
                return Err((Deny::Cmd, 0));
            }
        }
        if self.flags & sflag::ALLKEYS == 0 && cmd.meta.has_keys() {
            let keys = keys.get_or_insert_with(|| {
                let mut v = Vec::new();
                cmd.meta.keys(cmd.args, &mut v);
                v
            });
            for k in keys.iter() {
                if !self.check_key(cmd.args[k.pos], k.flags) {
                    return Err((Deny::Key, k.pos));
                }
            }
        }
        if self.flags & sflag::ALLCHANNELS == 0
            && let Some((first, count, literal)) = channel_args(cmd.meta.name, cmd.args.len())
        {
            for j in first..first + count {
                if !self.check_channel(cmd.args[j], literal) {
                    return Err((Deny::Channel, j));
                }
            }
        }
        Ok(())
    }
}

/// The channel arguments of the commands whose channels the ACL checks: (first, count,
/// literal). Unsubscribing is never checked.
fn channel_args(name: &str, argc: usize) -> Option<(usize, usize, bool)> {
    let (first, count, literal) = match name {
        "publish" | "spublish" => (1, 1, false),
        "subscribe" | "ssubscribe" => (1, argc.saturating_sub(1), false),
        "psubscribe" => (1, argc.saturating_sub(1), true),
        _ => return None,
    };
    // Never past the arguments given (ACL DRYRUN checks arity first; this is the backstop).
    (first + count <= argc).then_some((first, count, literal))
}

/// A byte string up to its first NUL (C string semantics where Redis uses `strcmp`).
fn c_str(s: &[u8]) -> &[u8] {
    &s[..memchr::memchr(0, s).unwrap_or(s.len())]
}

/// A command to check: its metadata, ACL id and arguments (`args[0]` the name).
pub struct Cmd<'a> {
    pub meta: &'static CommandMeta,
    pub id: usize,
    pub args: &'a [&'a [u8]],
}

impl User {
    /// `ACLCreateUser`: disabled, no passwords, a root selector allowing nothing
    /// (channels per `acl-pubsub-default`).
    pub fn new(name: &[u8], pubsub_all: bool) -> User {
        User {
            name: name.to_vec(),
            flags: uflag::DISABLED,
            passwords: Vec::new(),
            selectors: vec![Selector::new(sflag::ROOT | pubsub_flag(pubsub_all))],
        }
    }

    /// `ACLCreateDefaultUser`.
    pub fn new_default(pubsub_all: bool) -> User {
        let mut u = User::new(b"default", pubsub_all);
        for op in ["+@all", "~*", "&*", "on", "nopass"] {
            u.apply(op.as_bytes(), pubsub_all).expect("default rules");
        }
        u
    }

    #[inline]
    pub fn root(&self) -> &Selector {
        &self.selectors[0]
    }

    /// Root selector allows every command, key and channel: nothing to check per request.
    pub fn unrestricted(&self) -> bool {
        let all = sflag::ALLCOMMANDS | sflag::ALLKEYS | sflag::ALLCHANNELS;
        self.root().flags & all == all
    }

    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// `ACLSetUser`: one rule (`op`) on this user.
    pub fn apply(&mut self, op: &[u8], pubsub_all: bool) -> Result<(), RuleError> {
        use uflag::*;
        if op.is_empty() {
            return Ok(());
        }
        if kw(op, "on") {
            self.flags = (self.flags | ENABLED) & !DISABLED;
        } else if kw(op, "off") {
            self.flags = (self.flags | DISABLED) & !ENABLED;
        } else if kw(op, "skip-sanitize-payload") {
            self.flags = (self.flags | SANITIZE_SKIP) & !SANITIZE;
        } else if kw(op, "sanitize-payload") {
            self.flags = (self.flags | SANITIZE) & !SANITIZE_SKIP;
        } else if kw(op, "nopass") {
            self.flags |= NOPASS;
            self.passwords.clear();
        } else if kw(op, "resetpass") {
            self.flags &= !NOPASS;
            self.passwords.clear();
        } else if op[0] == b'>' || op[0] == b'#' {
            let h = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                valid_hash(&op[1..]).ok_or(RuleError::BadHash)?
            };
            if !self.passwords.contains(&h) {
                self.passwords.push(h);
            }
            self.flags &= !NOPASS;
        } else if op[0] == b'<' || op[0] == b'!' {
            let h = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                valid_hash(&op[1..]).ok_or(RuleError::BadHash)?
            };
            let at = self
                .passwords
                .iter()
                .position(|p| *p == h)
                .ok_or(RuleError::NoSuchPassword)?;
            self.passwords.remove(at);
        } else if op[0] == b'(' && op[op.len() - 1] == b')' {
            let mut s = Selector::new(pubsub_flag(pubsub_all));
            let inner = &op[1..op.len() - 1];
            for rule in resp::parse::split_args_owned(inner).unwrap_or_default() {
                s.apply(&rule)?;
            }
            self.selectors.push(s);
        } else if kw(op, "clearselectors") {
            self.selectors.truncate(1);
        } else if kw(op, "reset") {
            for r in ["resetpass", "resetkeys", "resetchannels"] {
                self.apply(r.as_bytes(), pubsub_all)?;
            }
            if pubsub_all {
                self.apply(b"allchannels", pubsub_all)?;
            }
            for r in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                self.apply(r.as_bytes(), pubsub_all)?;
            }
        } else {
            self.selectors[0].apply(op)?;
        }
        Ok(())
    }

    /// `ACLCheckUserCredentials` for an existing user: enabled, and nopass or a password
    /// whose digest matches (every stored digest is compared).
    pub fn password_ok(&self, pass: &[u8]) -> bool {
        if self.has(uflag::DISABLED) {
            return false;
        }
        if self.has(uflag::NOPASS) {
            return true;
        }
        let h = hash_password(pass);
        let mut ok = false;
        for p in &self.passwords {
            ok |= ct_eq(p, &h);
        }
        ok
    }

    /// `ACLCheckAllUserCommandPerm`: Ok, or the most relevant denial and the argument it
    /// concerns.
    pub fn check(&self, cmd: &Cmd<'_>) -> Result<(), (Deny, usize)> {
        let mut keys = None;
        let mut worst = (Deny::Cmd, 0usize);
        for s in &self.selectors {
            match s.check(cmd, &mut keys) {
                Ok(()) => return Ok(()),
                Err((d, i)) => {
                    if d > worst.0 || (d == worst.0 && i > worst.1) {
                        worst = (d, i);
                    }
                }
            }
        }
        Err(worst)
    }

    /// `ACLUserCheckCmdWithUnrestrictedKeyAccess(.., CMD_KEY_ACCESS)`: a selector lets the
    /// command run and reads every key (`allkeys`, or a `*` pattern with read permission).
    pub fn unrestricted_key_read(&self, cmd: &Cmd<'_>) -> bool {
        let mut keys = None;
        self.selectors.iter().any(|s| {
            s.check(cmd, &mut keys).is_ok()
                && (s.flags & sflag::ALLKEYS != 0
                    || s.patterns
                        .iter()
                        .any(|p| p.flags & KEY_READ != 0 && p.pattern == b"*"))
        })
    }

    /// `ACLDescribeUser`: flags, password digests, then each selector (ACL LIST, ACL SAVE).
    pub fn describe(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, f) in uflag::NAMES {
            if self.has(*f) {
                out.extend_from_slice(name.as_bytes());
                out.push(b' ');
            }
        }
        for p in &self.passwords {
            out.push(b'#');
            out.extend_from_slice(p);
            out.push(b' ');
        }
        for (i, s) in self.selectors.iter().enumerate() {
            let d = describe_selector(s);
            if i == 0 {
                out.extend_from_slice(&d);
            } else {
                out.extend_from_slice(b" (");
                out.extend_from_slice(&d);
                out.push(b')');
            }
        }
        out
    }
}

fn pubsub_flag(all: bool) -> u8 {
    if all { sflag::ALLCHANNELS } else { 0 }
}

/// `sdsCatPatternString`.
pub fn pattern_string(p: &KeyPattern, out: &mut Vec<u8>) {
    out.extend_from_slice(match p.flags {
        KEY_READ => b"%R~".as_slice(),
        KEY_WRITE => b"%W~",
        _ => b"~",
    });
    out.extend_from_slice(&p.pattern);
}

/// `ACLDescribeSelector`: keys, channels, then the command rules.
pub fn describe_selector(s: &Selector) -> Vec<u8> {
    let mut out = Vec::new();
    if s.flags & sflag::ALLKEYS != 0 {
        out.extend_from_slice(b"~* ");
    } else {
        for p in &s.patterns {
            pattern_string(p, &mut out);
            out.push(b' ');
        }
    }
    if s.flags & sflag::ALLCHANNELS != 0 {
        out.extend_from_slice(b"&* ");
    } else {
        out.extend_from_slice(b"resetchannels ");
        for c in &s.channels {
            out.push(b'&');
            out.extend_from_slice(c);
            out.push(b' ');
        }
    }
    out.extend_from_slice(&describe_commands(s));
    out
}

/// GETUSER's `keys` field.
pub fn keys_field(s: &Selector) -> Vec<u8> {
    if s.flags & sflag::ALLKEYS != 0 {
        return b"~*".to_vec();
    }
    let mut out = Vec::new();
    for (i, p) in s.patterns.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        pattern_string(p, &mut out);
    }
    out
}

/// GETUSER's `channels` field.
pub fn channels_field(s: &Selector) -> Vec<u8> {
    if s.flags & sflag::ALLCHANNELS != 0 {
        return b"&*".to_vec();
    }
    let mut out = Vec::new();
    for (i, c) in s.channels.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        out.push(b'&');
        out.extend_from_slice(c);
    }
    out
}

fn count_category(bits: &Selector, flag: u64) -> (u64, u64) {
    let (mut on, mut off) = (0, 0);
    for (id, c) in COMMANDS.iter().enumerate() {
        if c.categories & flag != 0 {
            if bits.bit(id) {
                on += 1;
            } else {
                off += 1;
            }
        }
    }
    (on, off)
}

/// `ACLDescribeSelectorCommandRules`: `+@all` or `-@all`, then the categories that best fit
/// the bitmap (greedily, in Redis's order), then single commands for what is left. Redis
/// walks its command dict in hash order for the single commands (so their order varies
/// between its runs); ours is by name.
pub fn describe_commands(s: &Selector) -> Vec<u8> {
    let mut rules: Vec<u8> = Vec::new();
    let mut fake = Selector::new(0);
    let additive = !s.bit(FUTURE);
    if additive {
        rules.extend_from_slice(b"-@all ");
        let _ = fake.apply(b"-@all");
    } else {
        rules.extend_from_slice(b"+@all ");
        let _ = fake.apply(b"+@all");
    }
    let mut temp = Selector::new(0);
    temp.allowed = s.allowed;
    let mut applied = [false; cat::NAMES.len()];
    loop {
        let mut best = None;
        let (mut mindiff, mut maxsame) = (i32::MAX as u64, 0u64);
        for (j, &(_, flag)) in cat::NAMES.iter().enumerate() {
            if applied[j] {
                continue;
            }
            let (on, off) = count_category(&temp, flag);
            let (diff, same) = if additive { (off, on) } else { (on, off) };
            if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                best = Some(j);
                mindiff = diff;
                maxsame = same;
            }
        }
        let Some(b) = best else { break };
        let (name, flag) = cat::NAMES[b];
        fake.set_category(flag, additive);
        temp.set_category(flag, !additive);
        rules.extend_from_slice(if additive { b"+@" } else { b"-@" });
        rules.extend_from_slice(name.as_bytes());
        rules.push(b' ');
        applied[b] = true;
    }
    for id in universe::top_level() {
        single_command(s, &mut fake, id, &mut rules);
        for &sub in COMMANDS[id].subs {
            single_command(s, &mut fake, sub as usize, &mut rules);
        }
        if !s.bit(id)
            && let Some(list) = s.firstargs_of(id)
        {
            for a in list {
                rules.push(b'+');
                rules.extend_from_slice(COMMANDS[id].name.as_bytes());
                rules.push(b'|');
                rules.extend_from_slice(a);
                rules.push(b' ');
            }
        }
    }
    rules.pop();
    debug_assert_eq!(
        fake.allowed,
        s.allowed,
        "description does not rebuild the bitmap: {}",
        String::from_utf8_lossy(&rules)
    );
    rules
}

fn single_command(s: &Selector, fake: &mut Selector, id: usize, rules: &mut Vec<u8>) {
    let user = s.bit(id);
    if user != fake.bit(id) {
        rules.push(if user { b'+' } else { b'-' });
        rules.extend_from_slice(COMMANDS[id].name.as_bytes());
        rules.push(b' ');
        fake.change_perm(id, user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(rules: &[&str]) -> User {
        let mut u = User::new(b"u", false);
        for r in rules {
            u.apply(r.as_bytes(), false).unwrap();
        }
        u
    }

    fn descr(u: &User) -> String {
        String::from_utf8(u.describe()).unwrap()
    }

    // Expected strings captured from Redis 7.0.15.
    #[test]
    fn descriptions_match_redis() {
        let d = User::new_default(false);
        assert_eq!(descr(&d), "on nopass ~* &* +@all");
        assert_eq!(
            descr(&user(&["-@all", "+@read", "-get"])),
            "off resetchannels -@all +@read -get"
        );
        assert_eq!(
            descr(&user(&["+@all", "-@dangerous"])),
            "off resetchannels +@all -@dangerous"
        );
        assert_eq!(
            descr(&user(&["+select|0"])),
            "off resetchannels -@all +select|0"
        );
        assert_eq!(
            descr(&user(&["reset"])),
            "off sanitize-payload resetchannels -@all"
        );
        assert_eq!(
            descr(&user(&["%RW~k", "%R~r", "%W~w", "%R~k2", "%W~k2"])),
            "off ~k %R~r %W~w ~k2 resetchannels -@all"
        );
        assert_eq!(
            descr(&user(&["(~a +get)", "(%R~b +set)"])),
            "off resetchannels -@all (~a resetchannels -@all +get) (%R~b resetchannels -@all +set)"
        );
        assert_eq!(
            descr(&user(&["on", ">p1", "~key:*", "&ch*", "+get"])),
            "on #f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a ~key:* resetchannels &ch* -@all +get"
        );
    }

    #[test]
    fn rule_errors() {
        let mut u = User::new(b"u", false);
        for (op, e) in [
            ("bogus", RuleError::Syntax),
            ("+nosuch", RuleError::UnknownName),
            ("-select|0", RuleError::UnknownName),
            ("+config|get|x", RuleError::SubcommandFirstArg),
            ("<nope", RuleError::NoSuchPassword),
            ("#abc", RuleError::BadHash),
            ("%RX~z", RuleError::Syntax),
            ("+@nosuch", RuleError::UnknownName),
            ("~a b", RuleError::Syntax),
        ] {
            assert_eq!(u.apply(op.as_bytes(), false), Err(e), "{op}");
        }
        u.apply(b"~*", false).unwrap();
        assert_eq!(u.apply(b"~x", false), Err(RuleError::KeyAfterAll));
        u.apply(b"&*", false).unwrap();
        assert_eq!(u.apply(b"&x", false), Err(RuleError::ChannelAfterAll));
    }

    #[test]
    fn passwords_hash_and_compare() {
        let mut u = user(&["on", ">secret"]);
        assert!(u.password_ok(b"secret"));
        assert!(!u.password_ok(b"secreT"));
        u.apply(b"<secret", false).unwrap();
        assert!(!u.password_ok(b"secret"));
        u.apply(b"nopass", false).unwrap();
        assert!(u.password_ok(b"anything"));
        u.apply(b"off", false).unwrap();
        assert!(!u.password_ok(b"anything"));
        assert_eq!(
            &hash_password(b"p1"),
            b"f64551fcd6f07823cb87971cfb91446425da18286b3ab1ef935e0cbd7a69f68a"
        );
    }

    fn run(u: &User, args: &[&str]) -> Result<(), (Deny, usize)> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        let meta = engine::commands::table::lookup_argv(&a).unwrap();
        let id = universe::lookup(meta.name.as_bytes()).unwrap();
        u.check(&Cmd { meta, id, args: &a })
    }

    #[test]
    fn checks_commands_keys_channels() {
        let u = user(&[
            "on",
            "~key:*",
            "+get",
            "+set",
            "&ch*",
            "+publish",
            "+psubscribe",
            "(+del ~x*)",
        ]);
        assert_eq!(run(&u, &["get", "key:1"]), Ok(()));
        assert_eq!(run(&u, &["get", "zz"]), Err((Deny::Key, 1)));
        assert_eq!(run(&u, &["incr", "key:1"]), Err((Deny::Cmd, 0)));
        // Root denies the command, the selector the key: the key is more relevant.
        assert_eq!(run(&u, &["del", "key:1"]), Err((Deny::Key, 1)));
        assert_eq!(run(&u, &["del", "x1"]), Ok(()));
        assert_eq!(run(&u, &["publish", "chan", "m"]), Ok(()));
        assert_eq!(run(&u, &["publish", "other", "m"]), Err((Deny::Channel, 1)));
        // Patterns are compared literally with the allowed channel patterns.
        assert_eq!(run(&u, &["psubscribe", "ch*"]), Ok(()));
        assert_eq!(run(&u, &["psubscribe", "chx"]), Err((Deny::Channel, 1)));
        let r = user(&["on", "%R~r*", "+@all"]);
        assert_eq!(run(&r, &["get", "r1"]), Ok(()));
        assert_eq!(run(&r, &["set", "r1", "v"]), Err((Deny::Key, 1)));
        let s = user(&["on", "allkeys", "-@all", "+select|0", "+config|get"]);
        assert_eq!(run(&s, &["select", "0"]), Ok(()));
        assert_eq!(run(&s, &["select", "1"]), Err((Deny::Cmd, 0)));
        assert_eq!(run(&s, &["config", "get", "x"]), Ok(()));
        assert_eq!(run(&s, &["config", "set", "x", "y"]), Err((Deny::Cmd, 0)));
        // No-auth commands are never denied by the command rules.
        assert_eq!(run(&s, &["auth", "x"]), Ok(()));
    }
}
