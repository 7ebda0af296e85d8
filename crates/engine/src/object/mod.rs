//! Values and their encodings. Encodings are internal but observable through
//! `OBJECT ENCODING`, and follow Redis's rules for when each is chosen.

/// Longest string stored as `embstr` (Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`).
pub const EMBSTR_MAX: usize = 44;

pub mod hash;
pub mod list;
pub mod set;
pub mod zset;

pub use hash::HashValue;
pub use list::ListValue;
pub use set::SetValue;
pub use zset::ZSetValue;

/// A value stored under a key. Each aggregate type lives in its own module with its
/// encodings.
#[derive(Clone, Debug)]
pub enum Value {
    Str(Str),
    List(ListValue),
    Hash(HashValue),
    Set(SetValue),
    ZSet(ZSetValue),
}

/// A string value in one of Redis's three encodings.
#[derive(Clone, Debug, PartialEq)]
pub enum Str {
    /// `int`: a canonical decimal i64.
    Int(i64),
    /// `embstr`: created by SET-like commands for strings of at most 44 bytes.
    Emb(Box<[u8]>),
    /// `raw`: longer strings, and any string modified in place (APPEND, SETRANGE).
    Raw(Vec<u8>),
}

impl Str {
    /// The encoding Redis's `createStringObject` + `tryObjectEncoding` chooses for a new value.
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20 {
            if let Some(i) = resp::num::parse_i64(b) {
                return Str::Int(i);
            }
        }
        if b.len() <= EMBSTR_MAX {
            Str::Emb(b.into())
        } else {
            Str::Raw(b.to_vec())
        }
    }

    /// The bytes of the value; integers are formatted into `scratch`.
    #[inline]
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut [u8; 20]) -> &'a [u8] {
        match self {
            Str::Int(i) => resp::num::fmt_i64(*i, scratch),
            Str::Emb(b) => b,
            Str::Raw(v) => v,
        }
    }

    pub fn to_vec(&self) -> Vec<u8> {
        let mut s = [0u8; 20];
        self.as_bytes(&mut s).to_vec()
    }

    pub fn len(&self) -> usize {
        match self {
            Str::Int(i) => {
                let mut s = [0u8; 20];
                resp::num::fmt_i64(*i, &mut s).len()
            }
            Str::Emb(b) => b.len(),
            Str::Raw(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A mutable byte buffer for in-place edits (APPEND, SETRANGE); converts to `raw` as Redis
    /// does.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        if !matches!(self, Str::Raw(_)) {
            *self = Str::Raw(self.to_vec());
        }
        match self {
            Str::Raw(v) => v,
            _ => unreachable!(),
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Emb(_) => "embstr",
            Str::Raw(_) => "raw",
        }
    }
}

impl Value {
    /// The name `TYPE` reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
        }
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            Value::Str(s) => s.encoding_name(),
            Value::List(v) => v.encoding_name(),
            Value::Hash(v) => v.encoding_name(),
            Value::Set(v) => v.encoding_name(),
            Value::ZSet(v) => v.encoding_name(),
        }
    }
}
