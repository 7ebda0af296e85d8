//! The RDB reader: a whole RDB file image (versions 1 to 10) or a DUMP payload into engine
//! values, following Redis 7.0.15's `rdbLoadRioWithLoadingCtx` and `rdbLoadObject`.
//!
//! Every encoding Redis 7.0 reads is read here, converted as Redis converts it on load: old
//! ziplists and zipmaps become listpacks, and a value over the configured limits
//! (`EngineConfig`) gets the larger encoding. Streams are read by `load_stream.rs`. Module
//! values are refused with an error naming the type.
//!
//! Invariants: the input is untrusted. Nothing here panics on any input; every blob is fully
//! validated before the engine adopts it (whatever `deep_sanitize` says, since the engine's
//! invariants depend on it); no allocation is sized by a length field beyond the bytes left
//! in the input. Errors carry the byte offset where the bad item starts.

use super::codec::{self, op, ty};
use super::{ziplist, zipmap};
use engine::EngineConfig;
use engine::dict::{Dict, Key};
use engine::object::{HashValue, ListValue, SetValue, Str, Value, ZSetValue};
use engine::types::intset::IntSet;
use engine::types::listpack::Listpack;
use engine::types::quicklist::Quicklist;
use engine::types::skiplist::ZSet;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

/// Why a file or payload could not be loaded, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RdbError {
    /// Byte offset (from the start of the image) of the item that failed.
    pub offset: u64,
    /// What went wrong, in Redis's words where Redis has some.
    pub kind: String,
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind, self.offset)
    }
}

impl std::error::Error for RdbError {}

/// One item of an RDB file, in file order.
#[derive(Debug)]
pub enum Item {
    /// An `AUX` field (`redis-ver`, `ctime`, `repl-id`, `lua`, …).
    Aux { key: Vec<u8>, value: Vec<u8> },
    /// `RESIZEDB` for the database selected at that point.
    ResizeDb { db: usize, size: u64, expires: u64 },
    /// A key. `expire_ms` is absolute Unix time in milliseconds: the loader does not drop keys
    /// already expired (Redis's master drops them unless loading an AOF preamble; that is the
    /// caller's decision, with its clock). Empty aggregates are never reported (skipped, as
    /// Redis 7.0 skips them).
    Entry {
        db: usize,
        key: Vec<u8>,
        value: Value,
        expire_ms: Option<i64>,
        idle_secs: Option<u64>,
        freq: Option<u8>,
    },
    /// A `FUNCTION2` library: its source code.
    Function { code: Vec<u8> },
    /// Module auxiliary data, skipped.
    ModuleAux,
}

/// What the loader needs from the configuration.
#[derive(Clone, Copy, Debug)]
pub struct LoadOptions<'a> {
    /// Encoding limits and the number of databases.
    pub config: &'a EngineConfig,
    /// `sanitize-dump-payload yes`: also check that a listpack sorted set is in
    /// `(score, member)` order with valid scores. (Structure and duplicates are always
    /// checked.)
    pub deep_sanitize: bool,
}

/// Why a RESTORE payload was refused: the two replies Redis gives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpError {
    /// `ERR DUMP payload version or checksum are wrong`
    VersionOrChecksum,
    /// `ERR Bad data format`
    BadData,
}

type Result<T> = std::result::Result<T, RdbError>;

/// Module value opcodes (`RDB_MODULE_OPCODE_*`), to skip module aux data.
const MODULE_SINT: u64 = 1;
const MODULE_UINT: u64 = 2;
const MODULE_FLOAT: u64 = 3;
const MODULE_DOUBLE: u64 = 4;
const MODULE_STRING: u64 = 5;

/// One RDB string (raw, integer-encoded or LZF) at `buf[*pos..]`, for payloads that embed
/// them outside an image (FUNCTION RESTORE's); `*pos` moves past it.
pub fn read_string(buf: &[u8], pos: &mut usize) -> Result<Vec<u8>> {
    let mut r = Reader { buf, pos: *pos };
    let s = r.string()?.into_owned();
    *pos = r.pos;
    Ok(s)
}

/// A cursor over the input. Every read checks the bytes are there.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn err(&self, at: usize, kind: impl Into<String>) -> RdbError {
        RdbError {
            offset: at as u64,
            kind: kind.into(),
        }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8]> {
        if n > self.left() as u64 {
            return Err(self.err(self.pos, "unexpected end of file"));
        }
        let s = &self.buf[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N]> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64)?);
        Ok(a)
    }

    /// `rdbLoadLenByRef`: (value, is it a special string encoding).
    fn len_enc(&mut self) -> Result<(u64, bool)> {
        let at = self.pos;
        let b = self.byte()?;
        Ok(match b >> 6 {
            0 => ((b & 0x3F) as u64, false),
            1 => ((((b & 0x3F) as u64) << 8) | self.byte()? as u64, false),
            3 => ((b & 0x3F) as u64, true),
            _ if b == codec::LEN_32BIT => (u32::from_be_bytes(self.array()?) as u64, false),
            _ if b == codec::LEN_64BIT => (u64::from_be_bytes(self.array()?), false),
            _ => {
                return Err(self.err(at, format!("Unknown length encoding {b} in rdbLoadLen()")));
            }
        })
    }

    /// A plain length (an encoded-string marker where a length is expected is corruption).
    fn len(&mut self) -> Result<u64> {
        let at = self.pos;
        match self.len_enc()? {
            (n, false) => Ok(n),
            (_, true) => {
                Err(self.err(at, "Unexpected string encoding where a length was expected"))
            }
        }
    }

    /// `rdbGenericLoadStringObject`: raw, integer-encoded or LZF-compressed bytes.
    fn string(&mut self) -> Result<Cow<'a, [u8]>> {
        let at = self.pos;
        let (n, encoded) = self.len_enc()?;
        if !encoded {
            return Ok(Cow::Borrowed(self.take(n)?));
        }
        let v = match n as u8 {
            codec::ENC_INT8 => self.byte()? as i8 as i64,
            codec::ENC_INT16 => i16::from_le_bytes(self.array()?) as i64,
            codec::ENC_INT32 => i32::from_le_bytes(self.array()?) as i64,
            codec::ENC_LZF => {
                let clen = self.len()?;
                let len = self.len()?;
                let data = self.take(clen)?;
                // LZF expands at most 264 bytes per 3 input bytes: refuse a claimed length no
                // input of this size could produce before allocating for it.
                if len > (clen.saturating_mul(88)).saturating_add(64) {
                    return Err(self.err(at, "Invalid LZF compressed string"));
                }
                return codec::lzf_decompress(data, len as usize)
                    .map(Cow::Owned)
                    .map_err(|_| self.err(at, "Invalid LZF compressed string"));
            }
            e => return Err(self.err(at, format!("Unknown RDB string encoding type {e}"))),
        };
        Ok(Cow::Owned(v.to_string().into_bytes()))
    }

    /// `rdbLoadDoubleValue`: the string form of old `ZSET` scores.
    fn string_double(&mut self) -> Result<f64> {
        let at = self.pos;
        match self.byte()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            n => {
                let s = self.take(n as u64)?;
                std::str::from_utf8(s)
                    .ok()
                    .and_then(|s| parse_c_double(s.trim_start()))
                    .ok_or_else(|| self.err(at, "Invalid double value"))
            }
        }
    }

    fn binary_double(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.array()?))
    }
}

/// `%lg` as Redis's `sscanf` reads a score: a number, `inf`/`infinity`/`nan` in any case.
fn parse_c_double(s: &str) -> Option<f64> {
    let lower = s.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        let neg = lower.starts_with('-');
        let v = if unsigned == "nan" {
            f64::NAN
        } else {
            f64::INFINITY
        };
        return Some(if neg { -v } else { v });
    }
    s.parse::<f64>().ok()
}

/// C's `atoi` over the header's four version digits.
fn atoi(b: &[u8]) -> i64 {
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    let neg = i < b.len() && b[i] == b'-';
    if i < b.len() && (b[i] == b'-' || b[i] == b'+') {
        i += 1;
    }
    let mut v = 0i64;
    while i < b.len() && b[i].is_ascii_digit() {
        v = v * 10 + (b[i] - b'0') as i64;
        i += 1;
    }
    if neg { -v } else { v }
}

/// Parses a whole RDB file image (header `REDIS00NN`, versions 1..=10), calling `on_item`
/// per item in file order (an error from `on_item` stops the load and is returned). Verifies
/// the CRC-64 footer when the version is 5 or more and the stored checksum is not 0 (Redis
/// writes 0 with `rdbchecksum no`). Returns the number of bytes consumed: an AOF with an RDB
/// preamble continues with commands right after the EOF opcode and checksum.
pub fn load(
    bytes: &[u8],
    opts: &LoadOptions<'_>,
    on_item: &mut dyn FnMut(Item) -> Result<()>,
) -> Result<usize> {
    let mut l = Loader::new(bytes)?;
    while !l.step(bytes, opts, on_item, usize::MAX)? {}
    Ok(l.pos)
}

/// A load in steps (a replica's full sync loads while the loop keeps serving): the
/// position in the image and what the items read so far left pending.
#[derive(Clone, Debug)]
pub struct Loader {
    pos: usize,
    ver: i64,
    db: usize,
    expire_ms: Option<i64>,
    idle_secs: Option<u64>,
    freq: Option<u8>,
}

impl Loader {
    /// Checks the header of `bytes`.
    pub fn new(bytes: &[u8]) -> Result<Loader> {
        let mut r = Reader { buf: bytes, pos: 0 };
        let header = r.take(9)?;
        if &header[..5] != b"REDIS" {
            return Err(r.err(0, "Wrong signature trying to load DB from file"));
        }
        let ver = atoi(&header[5..9]);
        if !(1..=codec::RDB_VERSION as i64).contains(&ver) {
            return Err(r.err(5, format!("Can't handle RDB format version {ver}")));
        }
        Ok(Loader {
            pos: r.pos,
            ver,
            db: 0,
            expire_ms: None,
            idle_secs: None,
            freq: None,
        })
    }

    /// Bytes consumed so far (all of the image's once done).
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// Reads up to `max_keys` keys (and the other items before them) of the same `bytes`
    /// given to [`Loader::new`]; true once the whole image, checksum included, is read.
    pub fn step(
        &mut self,
        bytes: &[u8],
        opts: &LoadOptions<'_>,
        on_item: &mut dyn FnMut(Item) -> Result<()>,
        max_keys: usize,
    ) -> Result<bool> {
        let mut r = Reader {
            buf: bytes,
            pos: self.pos,
        };
        let mut keys = 0usize;
        let done = loop {
            if keys >= max_keys {
                break false;
            }
            let at = r.pos;
            let t = r.byte()?;
            match t {
                op::EXPIRETIME => {
                    self.expire_ms = Some(i32::from_le_bytes(r.array()?) as i64 * 1000);
                    continue;
                }
                op::EXPIRETIME_MS => {
                    self.expire_ms = Some(i64::from_le_bytes(r.array()?));
                    continue;
                }
                op::FREQ => {
                    self.freq = Some(r.byte()?);
                    continue;
                }
                op::IDLE => {
                    self.idle_secs = Some(r.len()?);
                    continue;
                }
                op::EOF => break true,
                op::SELECTDB => {
                    let id = r.len()?;
                    if id >= opts.config.databases as u64 {
                        return Err(r.err(
                            at,
                            format!(
                                "FATAL: Data file was created with a Redis server configured to \
                                 handle more than {} databases",
                                opts.config.databases
                            ),
                        ));
                    }
                    self.db = id as usize;
                    continue;
                }
                op::RESIZEDB => {
                    let size = r.len()?;
                    let expires = r.len()?;
                    on_item(Item::ResizeDb {
                        db: self.db,
                        size,
                        expires,
                    })?;
                    continue;
                }
                op::AUX => {
                    let key = r.string()?.into_owned();
                    let value = r.string()?.into_owned();
                    on_item(Item::Aux { key, value })?;
                    continue;
                }
                op::MODULE_AUX => {
                    skip_module_aux(&mut r)?;
                    on_item(Item::ModuleAux)?;
                    continue;
                }
                op::FUNCTION_PRE_GA => {
                    return Err(r.err(at, "Pre-release function format not supported."));
                }
                op::FUNCTION2 => {
                    let code = r.string()?.into_owned();
                    on_item(Item::Function { code })?;
                    continue;
                }
                _ => {}
            }
            check_object_type(&r, at, t)?;
            let key = r.string()?.into_owned();
            if let Some(value) = load_object(&mut r, t, opts)? {
                on_item(Item::Entry {
                    db: self.db,
                    key,
                    value,
                    expire_ms: self.expire_ms,
                    idle_secs: self.idle_secs,
                    freq: self.freq,
                })
                .map_err(|mut e| {
                    // The caller's refusal (a duplicate key) points at the key's item.
                    if e.offset == u64::MAX {
                        e.offset = at as u64;
                    }
                    e
                })?;
            }
            keys += 1;
            self.expire_ms = None;
            self.idle_secs = None;
            self.freq = None;
        };
        if done && self.ver >= 5 {
            let body_end = r.pos;
            let stored = u64::from_le_bytes(r.array()?);
            let computed = codec::crc64(0, &bytes[..body_end]);
            if stored != 0 && stored != computed {
                return Err(r.err(
                    body_end,
                    format!("RDB CRC error (expected {computed:x}, file has {stored:x})"),
                ));
            }
        }
        self.pos = r.pos;
        Ok(done)
    }
}

/// Refuses what is not a value type we load, naming the ones we know but do not support.
fn check_object_type(r: &Reader<'_>, at: usize, t: u8) -> Result<()> {
    match t {
        ty::MODULE | ty::MODULE_2 => Err(r.err(at, "module type not supported yet")),
        0..=5 | 9..=19 => Ok(()),
        _ => Err(r.err(at, format!("Unknown RDB encoding type {t}"))),
    }
}

/// Skips `MODULE_AUX` data (`rdbLoadCheckModuleValue`): module id, `when` (an UINT opcode
/// and its value), then opcode/value pairs up to the EOF opcode.
fn skip_module_aux(r: &mut Reader<'_>) -> Result<()> {
    let at = r.pos;
    let _module_id = r.len()?;
    if r.len()? != MODULE_UINT {
        return Err(r.err(at, "bad when_opcode"));
    }
    let _when = r.len()?;
    loop {
        let op_at = r.pos;
        match r.len()? {
            codec::MODULE_OPCODE_EOF => return Ok(()),
            MODULE_SINT | MODULE_UINT => {
                r.len()?;
            }
            MODULE_FLOAT => {
                r.take(4)?;
            }
            MODULE_DOUBLE => {
                r.take(8)?;
            }
            MODULE_STRING => {
                r.string()?;
            }
            o => return Err(r.err(op_at, format!("Unknown module opcode {o}"))),
        }
    }
}

/// `rdbLoadObject`: the value of type `t` (already checked by [`check_object_type`]);
/// `None` for an empty aggregate, which Redis skips on load and refuses in RESTORE.
fn load_object(r: &mut Reader<'_>, t: u8, opts: &LoadOptions<'_>) -> Result<Option<Value>> {
    let cfg = opts.config;
    let at = r.pos;
    let v = match t {
        ty::STRING => Value::Str(Str::from_bytes(&r.string()?)),
        ty::LIST => {
            let n = r.len()?;
            let mut ql = Quicklist::with_fill(cfg.list_max_listpack_size);
            for _ in 0..n {
                ql.push_back(&r.string()?);
            }
            list(ql)
        }
        ty::SET => load_set(r, cfg)?,
        ty::ZSET | ty::ZSET_2 => load_zset(r, t, cfg)?,
        ty::HASH => load_hash(r, cfg)?,
        ty::LIST_QUICKLIST | ty::LIST_QUICKLIST_2 => load_quicklist(r, t, cfg)?,
        // Streams may be empty: Redis keeps and loads empty streams.
        ty::STREAM_LISTPACKS | ty::STREAM_LISTPACKS_2 => {
            Value::Stream(Box::new(stream::load_stream(r, t)?))
        }
        _ => {
            let blob = r.string()?;
            load_blob(r, at, t, &blob, opts)?
        }
    };
    Ok(match &v {
        Value::Str(_) => Some(v),
        Value::List(l) if l.is_empty() => None,
        Value::Hash(h) if h.is_empty() => None,
        Value::Set(s) if s.is_empty() => None,
        Value::ZSet(z) if z.is_empty() => None,
        _ => Some(v),
    })
}

fn list(ql: Quicklist) -> Value {
    Value::List(Box::new(ListValue::Quicklist(ql)))
}

/// A capacity for `n` items each taking at least `min_bytes` of the remaining input.
fn capped(r: &Reader<'_>, n: u64, min_bytes: usize) -> usize {
    n.min((r.left() / min_bytes) as u64) as usize
}

fn load_set(r: &mut Reader<'_>, cfg: &EngineConfig) -> Result<Value> {
    let n = r.len()?;
    let max = cfg.set_max_intset_entries.min(1 << 30);
    let mut s = if n > max as u64 {
        SetValue::Hash(Box::new(Dict::with_capacity(capped(r, n, 1))))
    } else {
        SetValue::new_intset()
    };
    for _ in 0..n {
        let at = r.pos;
        let m = r.string()?;
        if !s.add(&m, max) {
            return Err(r.err(at, "Duplicate set members detected"));
        }
    }
    Ok(Value::Set(s))
}

fn load_zset(r: &mut Reader<'_>, t: u8, cfg: &EngineConfig) -> Result<Value> {
    let n = r.len()?;
    let mut z = ZSet::with_capacity(capped(r, n, 2));
    let (mut maxlen, mut total) = (0usize, 0usize);
    for _ in 0..n {
        let at = r.pos;
        let m = r.string()?;
        let score = if t == ty::ZSET_2 {
            r.binary_double()?
        } else {
            r.string_double()?
        };
        if score.is_nan() {
            return Err(r.err(at, "Zset with NAN score detected"));
        }
        maxlen = maxlen.max(m.len());
        total = total.saturating_add(m.len());
        if z.insert(&m, score).is_err() {
            return Err(r.err(at, "Duplicate zset fields detected"));
        }
    }
    let mut v = ZSetValue::SkipList(Box::new(z));
    // Sorted sets are not stored in order: the conversion comes after loading, as Redis's.
    v.convert_to_listpack_if_needed(maxlen, total, cfg.zset_limits);
    Ok(Value::ZSet(v))
}

/// A plain `HASH`: a listpack while every pair fits the limits (`hashTypeConvert` as soon as
/// one does not, or from the start past `hash-max-listpack-entries`). Pairs are appended and
/// the listpack's fields checked for duplicates once, not searched per pair: with a large
/// `hash-max-listpack-entries` a per-pair search would be quadratic.
fn load_hash(r: &mut Reader<'_>, cfg: &EngineConfig) -> Result<Value> {
    let start = r.pos;
    let n = r.len()?;
    let limits = cfg.hash_limits;
    let dup = |r: &Reader<'_>, at| Err(r.err(at, "Duplicate hash fields detected"));
    let mut lp = Listpack::new();
    let mut table: Option<Box<Dict<Key>>> = None;
    if n > limits.max_listpack_entries as u64 {
        table = Some(Box::new(Dict::with_capacity(capped(r, n, 2))));
    }
    for _ in 0..n {
        let at = r.pos;
        let f = r.string()?;
        let v = r.string()?;
        if table.is_none()
            && (f.len() > limits.max_listpack_value
                || v.len() > limits.max_listpack_value
                || !lp.safe_to_add(f.len() + v.len()))
        {
            if repeats_a_field(&lp) {
                return dup(r, start);
            }
            let mut d = Dict::with_capacity(capped(r, n, 2).max(lp.len() / 2));
            let mut it = lp.iter();
            let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
            while let (Some(x), Some(y)) = (it.next(), it.next()) {
                d.insert(x.as_bytes(&mut a), Key::new(y.as_bytes(&mut b)));
            }
            table = Some(Box::new(d));
        }
        match &mut table {
            Some(d) => {
                if d.insert(&f, Key::new(&v)).is_some() {
                    return dup(r, at);
                }
            }
            None => {
                lp.push_back(&f);
                lp.push_back(&v);
            }
        }
    }
    Ok(Value::Hash(match table {
        Some(d) => HashValue::Table(d),
        None if repeats_a_field(&lp) => return dup(r, start),
        None => HashValue::Listpack(lp),
    }))
}

fn load_quicklist(r: &mut Reader<'_>, t: u8, cfg: &EngineConfig) -> Result<Value> {
    let n = r.len()?;
    let mut ql = Quicklist::with_fill(cfg.list_max_listpack_size);
    for _ in 0..n {
        let at = r.pos;
        let container = if t == ty::LIST_QUICKLIST_2 {
            r.len()?
        } else {
            codec::QUICKLIST_PACKED
        };
        if container != codec::QUICKLIST_PACKED && container != codec::QUICKLIST_PLAIN {
            return Err(r.err(at, "Quicklist integrity check failed."));
        }
        let data = r.string()?;
        if data.is_empty() {
            return Err(r.err(at, "Empty quicklist node"));
        }
        if container == codec::QUICKLIST_PLAIN {
            ql.append_plain(data.into_owned().into_boxed_slice());
            continue;
        }
        let lp = if t == ty::LIST_QUICKLIST_2 {
            Listpack::from_bytes(data.into_owned())
                .map_err(|_| r.err(at, "Listpack integrity check failed."))?
        } else {
            ziplist::to_listpack(&data)
                .ok_or_else(|| r.err(at, "Ziplist integrity check failed."))?
        };
        // Empty nodes are skipped (an all-empty list is then an empty key).
        ql.append_listpack(lp);
    }
    Ok(list(ql))
}

/// Checks a listpack of pairs: an even count and no repeated field or member
/// (`lpPairsValidateIntegrityAndDups`, which Redis runs only when deep-sanitizing; the
/// engine's listpack hashes and sorted sets assume it, so we always do).
fn pairs_listpack(blob: &[u8]) -> Option<Listpack> {
    let mut n = 0usize;
    let lp = Listpack::from_bytes_with(blob.to_vec(), |_| {
        n += 1;
        true
    })
    .ok()?;
    (n.is_multiple_of(2) && !repeats_a_field(&lp)).then_some(lp)
}

/// Whether two fields (entries 0, 2, 4 …) of a listpack have the same bytes. Small ones
/// (most hashes and sorted sets) are compared pairwise without allocating.
fn repeats_a_field(lp: &Listpack) -> bool {
    const PAIRWISE_MAX: usize = 32;
    let fields = || lp.iter().step_by(2);
    if lp.len() / 2 <= PAIRWISE_MAX {
        let (mut a, mut b) = ([0u8; 20], [0u8; 20]);
        for (i, x) in fields().enumerate() {
            let x = x.as_bytes(&mut a);
            if fields().skip(i + 1).any(|y| y.as_bytes(&mut b) == x) {
                return true;
            }
        }
        return false;
    }
    let mut seen = HashSet::with_capacity(lp.len() / 2);
    !fields().all(|f| seen.insert(f.to_vec()))
}

/// With `sanitize-dump-payload yes`: the scores of a listpack sorted set parse and the pairs
/// are in `(score, member)` order, which the listpack zset code relies on.
fn zset_listpack_ordered(lp: &Listpack) -> bool {
    let mut prev: Option<(f64, Vec<u8>)> = None;
    let mut it = lp.iter();
    while let (Some(m), Some(s)) = (it.next(), it.next()) {
        let score = match s {
            engine::types::listpack::LpValue::Int(i) => i as f64,
            engine::types::listpack::LpValue::Str(b) => {
                match std::str::from_utf8(b).ok().and_then(parse_c_double) {
                    Some(f) if !f.is_nan() => f,
                    _ => return false,
                }
            }
        };
        let m = m.to_vec();
        if let Some((ps, pm)) = &prev
            && (score < *ps || (score == *ps && m <= *pm))
        {
            return false;
        }
        prev = Some((score, m));
    }
    true
}

/// The types stored as one blob (ziplist, zipmap, intset, listpack).
fn load_blob(
    r: &Reader<'_>,
    at: usize,
    t: u8,
    blob: &[u8],
    opts: &LoadOptions<'_>,
) -> Result<Value> {
    let cfg = opts.config;
    Ok(match t {
        ty::HASH_ZIPMAP => {
            let mut lp = Listpack::new();
            let mut seen = HashSet::new();
            let mut maxlen = 0usize;
            let mut dup = false;
            let ok = zipmap::walk(blob, |f, v| {
                maxlen = maxlen.max(f.len()).max(v.len());
                if !seen.insert(f) || !lp.safe_to_add(f.len() + v.len()) {
                    dup = true;
                    return false;
                }
                lp.push_back(f);
                lp.push_back(v);
                true
            });
            if dup {
                return Err(r.err(at, "Hash zipmap with dup elements, or big length"));
            }
            if !ok {
                return Err(r.err(at, "Zipmap integrity check failed."));
            }
            let mut h = HashValue::from_listpack(lp, cfg.hash_limits);
            if maxlen > cfg.hash_limits.max_listpack_value {
                h.convert_to_table();
            }
            Value::Hash(h)
        }
        ty::LIST_ZIPLIST => {
            let mut ql = Quicklist::with_fill(cfg.list_max_listpack_size);
            let ok = ziplist::walk(blob, |e| {
                match e {
                    ziplist::Entry::Str(s) => ql.push_back(s),
                    ziplist::Entry::Int(i) => ql.push_back(i.to_string().as_bytes()),
                }
                true
            });
            if !ok {
                return Err(r.err(at, "List ziplist integrity check failed."));
            }
            list(ql)
        }
        ty::SET_INTSET => {
            let is = IntSet::from_bytes(blob)
                .ok_or_else(|| r.err(at, "Intset integrity check failed."))?;
            Value::Set(SetValue::from_intset(is, cfg.set_max_intset_entries))
        }
        ty::ZSET_ZIPLIST | ty::ZSET_LISTPACK => {
            let lp = if t == ty::ZSET_ZIPLIST {
                ziplist::pairs_to_listpack(blob)
                    .ok_or_else(|| r.err(at, "Zset ziplist integrity check failed."))?
            } else {
                pairs_listpack(blob)
                    .ok_or_else(|| r.err(at, "Zset listpack integrity check failed."))?
            };
            if opts.deep_sanitize && !zset_listpack_ordered(&lp) {
                return Err(r.err(at, "Zset listpack integrity check failed."));
            }
            Value::ZSet(ZSetValue::from_listpack(lp, cfg.zset_limits))
        }
        ty::HASH_ZIPLIST | ty::HASH_LISTPACK => {
            let lp = if t == ty::HASH_ZIPLIST {
                ziplist::pairs_to_listpack(blob)
                    .ok_or_else(|| r.err(at, "Hash ziplist integrity check failed."))?
            } else {
                pairs_listpack(blob)
                    .ok_or_else(|| r.err(at, "Hash listpack integrity check failed."))?
            };
            Value::Hash(HashValue::from_listpack(lp, cfg.hash_limits))
        }
        _ => return Err(r.err(at, format!("Unknown RDB encoding type {t}"))),
    })
}

/// RESTORE's payload: `<type byte><value><rdb version: u16 LE><crc64 LE of all before it>`.
/// Checks the version (refusing > 10) and the CRC as Redis's `verifyDumpPayload`, then
/// parses the value as RESTORE does (bytes after the value are not looked at, as in Redis;
/// an empty aggregate is bad data).
pub fn parse_dump_payload(
    payload: &[u8],
    opts: &LoadOptions<'_>,
) -> std::result::Result<Value, DumpError> {
    let len = payload.len();
    if len < 10 {
        return Err(DumpError::VersionOrChecksum);
    }
    let footer = &payload[len - 10..];
    let ver = u16::from_le_bytes([footer[0], footer[1]]);
    if ver > codec::RDB_VERSION {
        return Err(DumpError::VersionOrChecksum);
    }
    let mut crc = [0u8; 8];
    crc.copy_from_slice(&footer[2..]);
    if codec::crc64(0, &payload[..len - 8]) != u64::from_le_bytes(crc) {
        return Err(DumpError::VersionOrChecksum);
    }
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let t = r.byte().map_err(|_| DumpError::BadData)?;
    check_object_type(&r, 0, t).map_err(|_| DumpError::BadData)?;
    match load_object(&mut r, t, opts) {
        Ok(Some(v)) => Ok(v),
        _ => Err(DumpError::BadData),
    }
}

#[path = "load_stream.rs"]
mod stream;

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
