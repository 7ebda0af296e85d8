//! The shape of a directive row: its typed value (bool, number with bounds and units, enum,
//! string, special), the apply codes a change needs, and the parsing and printing every
//! row shares (Redis's numeric formats, memory units, enum names).

use std::borrow::Cow;

use super::*;

/// Row flags (Redis's `*_CONFIG` flags that matter here).
pub mod flags {
    /// Only settable at startup (`can't set immutable config`).
    pub const IMMUTABLE: u8 = 1 << 0;
    /// The value is a secret (redacted from logs/slowlog by the caller).
    pub const SENSITIVE: u8 = 1 << 1;
    /// The value is several words (`save 900 1`, `bind a b`).
    pub const MULTI_ARG: u8 = 1 << 2;
    /// Not listed by patterns in CONFIG GET; an exact name still works.
    pub const HIDDEN: u8 = 1 << 3;
    /// Settable at runtime only if `enable-protected-configs` allows it.
    pub const PROTECTED: u8 = 1 << 4;
}

/// Effects on the live server a changed directive needs (Redis's apply functions). Each
/// distinct code is applied once per CONFIG SET, after all values are set; if applying
/// fails, every value is restored and the codes are applied again with the old values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Apply {
    /// Listen on the new `port`.
    Port,
    /// Rebind to `bind`.
    Bind,
    /// Resize for `maxclients` (fail with Redis's text if the fd limit cannot follow).
    Maxclients,
    /// `hz` changed (already clamped): active expiry / cron frequency.
    Hz,
    /// `proto-max-bulk-len`: copy into the parser limits and `EngineConfig`.
    ProtoMaxBulkLen,
    /// `client-query-buffer-limit`.
    ClientQueryBufferLimit,
    /// `maxmemory` / `maxmemory-policy` / `maxmemory-samples` / the tenacity and LFU
    /// parameters: the engine's eviction settings.
    Maxmemory,
    /// `maxmemory-clients`: the clients' memory limit (acts from the loop's next turn).
    MaxmemoryClients,
    /// `jemalloc-bg-thread`: jemalloc's background purging thread on or off.
    JemallocBgThread,
    /// `timeout`: idle client timeout.
    Timeout,
    /// `loglevel`.
    Loglevel,
    /// `dir`: chdir.
    Dir,
    /// `requirepass`.
    Requirepass,
    /// `appendonly`.
    Appendonly,
    /// `save` parameters.
    Save,
    /// `notify-keyspace-events`.
    NotifyKeyspaceEvents,
    /// `tcp-keepalive` (for newly accepted sockets).
    TcpKeepalive,
    /// `client-output-buffer-limit`.
    ClientOutputBufferLimit,
    /// `oom-score-adj` / `oom-score-adj-values`: the process's OOM score.
    OomScoreAdj,
}

/// A set of [`Apply`] codes: what a CONFIG SET changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Applied(u32);

#[allow(
    dead_code,
    reason = "API for the loop; not every caller needs every query"
)]
impl Applied {
    #[inline]
    pub fn contains(self, a: Apply) -> bool {
        self.0 & (1 << a as u8) != 0
    }
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    #[inline]
    pub(super) fn insert(&mut self, a: Apply) -> bool {
        let had = self.contains(a);
        self.0 |= 1 << a as u8;
        !had
    }
    /// The codes in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Apply> {
        ALL_APPLY.iter().copied().filter(move |a| self.contains(*a))
    }
}

const ALL_APPLY: [Apply; 19] = [
    Apply::Port,
    Apply::Bind,
    Apply::Maxclients,
    Apply::Hz,
    Apply::ProtoMaxBulkLen,
    Apply::ClientQueryBufferLimit,
    Apply::Maxmemory,
    Apply::MaxmemoryClients,
    Apply::JemallocBgThread,
    Apply::Timeout,
    Apply::Loglevel,
    Apply::Dir,
    Apply::Requirepass,
    Apply::Appendonly,
    Apply::Save,
    Apply::NotifyKeyspaceEvents,
    Apply::TcpKeepalive,
    Apply::ClientOutputBufferLimit,
    Apply::OomScoreAdj,
];

/// An error text from a setter (Redis's `const char **err`), without any prefix.
pub type SetErr = Cow<'static, str>;

/// A row's extra validation of a parsed value (Redis's `is_valid_fn`).
pub type Validator<T> = Option<fn(T) -> Result<(), &'static str>>;

/// [`Validator`] for string values (any lifetime).
pub type StrValidator = Option<fn(&[u8]) -> Result<(), &'static str>>;

/// A special row's setter: the words of the value, and how a file's repeated lines combine.
pub type SpecialSet = fn(&mut Config, &[&[u8]], SetMode) -> Result<(), SetErr>;

/// A CONFIG SET apply hook: performs one [`Apply`] on the live server with the new config.
pub type ApplyFn<'a> = dyn FnMut(&Config, Apply) -> Result<(), SetErr> + 'a;

/// How a number is written and read (Redis's numeric config flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumFmt {
    /// Plain integer (`string2ll`).
    Int,
    /// Memory value with units (`1gb`), printed as plain bytes.
    Memory,
    /// Memory or `N%` (stored negative), printed back as `N%`.
    MemoryPercent,
    /// Octal (`unixsocketperm`).
    Octal,
}

/// How a `save`-style special applies several lines of a config file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetMode {
    /// CONFIG SET, or the first such line of a file: replace the value.
    Replace,
    /// A later line of the same file: add to it (`save` lines accumulate).
    Append,
}

/// The typed part of a row.
pub enum Kind {
    Bool {
        default: bool,
        get: fn(&Config) -> bool,
        set: fn(&mut Config, bool),
        valid: Validator<bool>,
    },
    Num {
        default: i64,
        /// Bounds as Redis's `long long`; for `unsigned` rows compared as `u64` (so
        /// `max: -1` is ULLONG_MAX).
        min: i64,
        max: i64,
        unsigned: bool,
        fmt: NumFmt,
        get: fn(&Config) -> i64,
        set: fn(&mut Config, i64),
        valid: Validator<i64>,
    },
    Enum {
        default: u8,
        /// Name → value; several names may share a value (the first is printed).
        values: &'static [(&'static str, u8)],
        /// Values are bit flags and several names may be given (`save now`).
        multi: bool,
        get: fn(&Config) -> u8,
        set: fn(&mut Config, u8),
        valid: Validator<u8>,
    },
    Str {
        default: &'static str,
        get: fn(&Config) -> &[u8],
        set: fn(&mut Config, &[u8]),
        valid: StrValidator,
    },
    Special {
        /// Default as it would be written in a config file (split on spaces).
        default: &'static str,
        set: SpecialSet,
        get: fn(&Config, &mut Vec<u8>),
    },
}

/// One directive.
pub struct Directive {
    pub name: &'static str,
    pub alias: Option<&'static str>,
    /// Bitset of [`flags`].
    pub flags: u8,
    pub kind: Kind,
    pub apply: Option<Apply>,
}

impl Directive {
    #[inline]
    pub fn has(&self, f: u8) -> bool {
        self.flags & f != 0
    }

    /// Appends the value as CONFIG GET prints it.
    pub fn get_into(&self, cfg: &Config, out: &mut Vec<u8>) {
        match &self.kind {
            Kind::Bool { get, .. } => out.extend_from_slice(if get(cfg) { b"yes" } else { b"no" }),
            Kind::Num { get, fmt, .. } => fmt_num(get(cfg), *fmt, out),
            Kind::Enum {
                get, values, multi, ..
            } => fmt_enum(get(cfg), values, *multi, out),
            Kind::Str { get, .. } => out.extend_from_slice(get(cfg)),
            Kind::Special { get, .. } => get(cfg, out),
        }
    }

    /// The value as CONFIG GET prints it.
    pub fn get(&self, cfg: &Config) -> Vec<u8> {
        let mut v = Vec::new();
        self.get_into(cfg, &mut v);
        v
    }

    /// Sets from already split arguments (one for single-value rows).
    pub fn set(&self, cfg: &mut Config, argv: &[&[u8]], mode: SetMode) -> Result<(), SetErr> {
        let one = || -> Result<&[u8], SetErr> {
            match argv {
                [v] => Ok(v),
                _ => Err(Cow::Borrowed("wrong number of arguments")),
            }
        };
        match &self.kind {
            Kind::Bool { set, valid, .. } => {
                let v = one()?;
                let b = if v.eq_ignore_ascii_case(b"yes") {
                    true
                } else if v.eq_ignore_ascii_case(b"no") {
                    false
                } else {
                    return Err(Cow::Borrowed("argument must be 'yes' or 'no'"));
                };
                if let Some(valid) = valid {
                    valid(b)?;
                }
                set(cfg, b);
                Ok(())
            }
            Kind::Num {
                min,
                max,
                unsigned,
                fmt,
                set,
                valid,
                ..
            } => {
                let v = parse_num(one()?, *fmt)?;
                check_bounds(v, *min, *max, *unsigned, *fmt)?;
                if let Some(valid) = valid {
                    valid(v)?;
                }
                set(cfg, v);
                Ok(())
            }
            Kind::Enum {
                values,
                multi,
                set,
                valid,
                ..
            } => {
                let v = parse_enum(argv, values, *multi)?;
                if let Some(valid) = valid {
                    valid(v)?;
                }
                set(cfg, v);
                Ok(())
            }
            Kind::Str { set, valid, .. } => {
                let v = one()?;
                if let Some(valid) = valid {
                    valid(v)?;
                }
                set(cfg, v);
                Ok(())
            }
            Kind::Special { set, .. } => set(cfg, argv, mode),
        }
    }

    pub(super) fn set_default(&self, cfg: &mut Config) {
        let r = match &self.kind {
            Kind::Bool { default, set, .. } => {
                set(cfg, *default);
                Ok(())
            }
            Kind::Num { default, set, .. } => {
                set(cfg, *default);
                Ok(())
            }
            Kind::Enum { default, set, .. } => {
                set(cfg, *default);
                Ok(())
            }
            Kind::Str { default, set, .. } => {
                set(cfg, default.as_bytes());
                Ok(())
            }
            Kind::Special { default, set, .. } => {
                let args = split_for_set(self, default.as_bytes());
                set(cfg, &args, SetMode::Replace)
            }
        };
        debug_assert!(r.is_ok(), "default of {} must be valid", self.name);
    }
}

fn fmt_num(v: i64, fmt: NumFmt, out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = match fmt {
        NumFmt::MemoryPercent if v < 0 => write!(out, "{}%", v.unsigned_abs()),
        // Redis prints memory values with ull2string.
        NumFmt::Memory | NumFmt::MemoryPercent => write!(out, "{}", v as u64),
        NumFmt::Octal => write!(out, "{:o}", v),
        NumFmt::Int => write!(out, "{}", v),
    };
}

fn fmt_enum(v: u8, values: &[(&str, u8)], multi: bool, out: &mut Vec<u8>) {
    if multi && v != 0 {
        let mut first = true;
        for &(name, bit) in values {
            if bit != 0 && v & bit == bit {
                if !first {
                    out.push(b' ');
                }
                first = false;
                out.extend_from_slice(name.as_bytes());
            }
        }
        return;
    }
    let name = values
        .iter()
        .find(|&&(_, x)| x == v)
        .map_or("unknown", |&(n, _)| n);
    out.extend_from_slice(name.as_bytes());
}

fn parse_enum(argv: &[&[u8]], values: &[(&str, u8)], multi: bool) -> Result<u8, SetErr> {
    let lookup = |a: &[u8]| {
        values
            .iter()
            .find(|(n, _)| a.eq_ignore_ascii_case(n.as_bytes()))
            .map(|&(_, v)| v)
    };
    let bad = || {
        let mut s = String::from("argument(s) must be one of the following: ");
        for (i, (n, _)) in values.iter().enumerate() {
            if i > 0 {
                s.push_str(", ");
            }
            s.push_str(n);
        }
        Cow::Owned(s)
    };
    if !multi && argv.len() != 1 {
        return Err(Cow::Borrowed("wrong number of arguments"));
    }
    if argv.is_empty() {
        return Err(bad());
    }
    let mut v = 0u8;
    for a in argv {
        v |= lookup(a).ok_or_else(bad)?;
    }
    Ok(v)
}

/// Redis's `memtoull`: digits with an optional unit (b, k, kb, m, mb, g, gb; any case).
/// `None` on a sign, a bad unit or overflow. Like Redis, no digits at all reads as 0 and a
/// too-large digit string saturates (strtoull) before the unit is applied.
pub fn parse_memory(s: &[u8]) -> Option<u64> {
    if s.first() == Some(&b'-') {
        return None;
    }
    let digits = s.iter().take_while(|b| b.is_ascii_digit()).count();
    let unit = &s[digits..];
    let mul: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits >= 128 {
        return None;
    }
    let mut val: u64 = 0;
    for &d in &s[..digits] {
        val = val
            .checked_mul(10)
            .and_then(|v| v.checked_add((d - b'0') as u64))
            .unwrap_or(u64::MAX);
        if val == u64::MAX {
            break;
        }
    }
    val.checked_mul(mul)
}

fn parse_num(s: &[u8], fmt: NumFmt) -> Result<i64, SetErr> {
    if matches!(fmt, NumFmt::Memory | NumFmt::MemoryPercent)
        && let Some(v) = parse_memory(s)
    {
        // Redis stores memtoull's result in a long long.
        return Ok(v as i64);
    }
    if fmt == NumFmt::MemoryPercent
        && let Some(digits) = s.strip_suffix(b"%")
        && let Some(v) = resp::num::parse_i64(digits)
        && v >= 0
    {
        // Percentages are stored negative.
        return Ok(-v);
    }
    if fmt == NumFmt::Octal
        && let Some(v) = parse_octal(s)
    {
        return Ok(v);
    }
    if fmt == NumFmt::Int
        && let Some(v) = resp::num::parse_i64(s)
    {
        return Ok(v);
    }
    Err(Cow::Borrowed(match fmt {
        NumFmt::MemoryPercent => "argument must be a memory or percent value",
        NumFmt::Memory => "argument must be a memory value",
        NumFmt::Octal => "argument couldn't be parsed as an octal number",
        NumFmt::Int => "argument couldn't be parsed into an integer",
    }))
}

/// `strtoll(s, &end, 8)` over the whole string: optional leading space and sign.
fn parse_octal(s: &[u8]) -> Option<i64> {
    let s = std::str::from_utf8(s).ok()?;
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, d) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    if d.is_empty() || !d.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return None;
    }
    let v = i64::from_str_radix(d, 8).ok()?;
    Some(if neg { -v } else { v })
}

fn check_bounds(v: i64, min: i64, max: i64, unsigned: bool, fmt: NumFmt) -> Result<(), SetErr> {
    if unsigned {
        let (u, lo, hi) = (v as u64, min as u64, max as u64);
        if u > hi || u < lo {
            return Err(Cow::Owned(if fmt == NumFmt::Octal {
                format!("argument must be between {lo:o} and {hi:o} inclusive")
            } else {
                format!("argument must be between {lo} and {hi} inclusive")
            }));
        }
    } else if fmt == NumFmt::MemoryPercent && v < 0 {
        if v < min {
            return Err(Cow::Owned(format!(
                "percentage argument must be less or equal to {}",
                -(min as i128)
            )));
        }
    } else if v > max || v < min {
        return Err(Cow::Owned(format!(
            "argument must be between {min} and {max} inclusive"
        )));
    }
    Ok(())
}

/// Splits on single spaces as Redis's `sdssplitlen(value, " ")` for CONFIG SET of a
/// multi-word directive; an empty value is zero words.
pub(super) fn split_spaces(v: &[u8]) -> Vec<&[u8]> {
    if v.is_empty() {
        return Vec::new();
    }
    v.split(|&b| b == b' ').collect()
}

/// The words of a CONFIG SET value for `row`: split on spaces if it takes several.
pub(super) fn split_for_set<'v>(row: &Directive, v: &'v [u8]) -> Vec<&'v [u8]> {
    if row.has(flags::MULTI_ARG) {
        split_spaces(v)
    } else {
        vec![v]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_units() {
        assert_eq!(parse_memory(b"0"), Some(0));
        assert_eq!(parse_memory(b"1k"), Some(1000));
        assert_eq!(parse_memory(b"1KB"), Some(1024));
        assert_eq!(parse_memory(b"1kB"), Some(1024));
        assert_eq!(parse_memory(b"2m"), Some(2_000_000));
        assert_eq!(parse_memory(b"2mb"), Some(2 << 20));
        assert_eq!(parse_memory(b"3g"), Some(3_000_000_000));
        assert_eq!(parse_memory(b"3Gb"), Some(3 << 30));
        assert_eq!(parse_memory(b"7b"), Some(7));
        assert_eq!(parse_memory(b"7B"), Some(7));
        // As Redis: no digits reads 0, a huge number saturates, then the unit may overflow.
        assert_eq!(parse_memory(b"kb"), Some(0));
        assert_eq!(parse_memory(b"99999999999999999999"), Some(u64::MAX));
        assert_eq!(parse_memory(b"99999999999999999999kb"), None);
        assert_eq!(parse_memory(b"-1"), None);
        assert_eq!(parse_memory(b"+1"), None);
        assert_eq!(parse_memory(b" 1"), None);
        assert_eq!(parse_memory(b"1.5mb"), None);
        assert_eq!(parse_memory(b"0x10"), None);
        assert_eq!(parse_memory(b"1t"), None);
    }
}
