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
    /// Boxed: a quicklist header is 56 bytes, and every string key would pay for it.
    List(Box<ListValue>),
    Hash(HashValue),
    Set(SetValue),
    ZSet(ZSetValue),
    /// Boxed: a stream header is ~100 bytes.
    Stream(Box<crate::types::stream::Stream>),
}

/// Integers Redis keeps as shared objects (`OBJ_SHARED_INTEGERS`); their refcount reads as
/// `OBJ_SHARED_REFCOUNT` (INT_MAX).
pub const SHARED_INTEGERS: i64 = 10_000;

/// Longest `embstr` kept inline in the value itself, with no allocation of its own.
pub const SMALL_MAX: usize = 22;

/// A string value in one of Redis's three encodings (`int`, `embstr`, `raw`). `embstr`
/// has two layouts: up to 22 bytes inline (most keys' values: no allocation beyond the
/// keyspace entry), else one boxed slice. `Str` is 24 bytes.
#[derive(Clone, Debug, PartialEq)]
pub enum Str {
    /// `int`: a canonical decimal i64.
    Int(i64),
    /// `embstr` of at most [`SMALL_MAX`] bytes, inline.
    Small { len: u8, buf: [u8; SMALL_MAX] },
    /// `embstr` of up to 44 bytes: created by SET-like commands.
    Emb(Box<[u8]>),
    /// `raw`: longer strings, and any string modified in place (APPEND, SETRANGE). Boxed so
    /// the enum stays 24 bytes; raw strings are long or growing, so the indirection is
    /// small next to their size.
    Raw(Box<Vec<u8>>),
}

impl Str {
    /// The encoding Redis's `createStringObject` + `tryObjectEncoding` chooses for a new value.
    pub fn from_bytes(b: &[u8]) -> Str {
        if b.len() <= 20
            && let Some(i) = resp::num::parse_i64(b)
        {
            return Str::Int(i);
        }
        Str::plain(b)
    }

    /// A string as `createStringObject` makes it, never `int`: `embstr` up to 44 bytes, `raw`
    /// beyond.
    pub fn plain(b: &[u8]) -> Str {
        if b.len() <= SMALL_MAX {
            let mut buf = [0u8; SMALL_MAX];
            buf[..b.len()].copy_from_slice(b);
            Str::Small {
                len: b.len() as u8,
                buf,
            }
        } else if b.len() <= EMBSTR_MAX {
            Str::Emb(b.into())
        } else {
            Str::raw(b.to_vec())
        }
    }

    /// A `raw` string owning `v`.
    pub fn raw(v: Vec<u8>) -> Str {
        Str::Raw(Box::new(v))
    }

    /// The bytes of the value; integers are formatted into `scratch`.
    #[inline]
    pub fn as_bytes<'a>(&'a self, scratch: &'a mut [u8; 20]) -> &'a [u8] {
        match self {
            Str::Int(i) => resp::num::fmt_i64(*i, scratch),
            Str::Small { len, buf } => &buf[..*len as usize],
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
            Str::Small { len, .. } => *len as usize,
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
            *self = Str::raw(self.to_vec());
        }
        match self {
            Str::Raw(v) => v,
            _ => unreachable!(),
        }
    }

    pub fn encoding_name(&self) -> &'static str {
        match self {
            Str::Int(_) => "int",
            Str::Small { .. } | Str::Emb(_) => "embstr",
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
            Value::Stream(_) => "stream",
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
            Value::Stream(_) => "stream",
        }
    }
}

impl Value {
    /// MEMORY USAGE's figure for the value: the bytes it owns beyond the entry, in jemalloc's
    /// size classes; hashtable-encoded hashes and sets are measured on their first
    /// `samples` elements and scaled (Redis's `objectComputeSize`), the rest exactly (their
    /// sizes are O(1) or O(nodes)).
    pub fn memory_usage(&self, samples: usize) -> usize {
        use crate::util::malloc_size;
        match self {
            Value::Str(Str::Int(_) | Str::Small { .. }) => 0,
            Value::Str(Str::Emb(b)) => malloc_size(b.len()),
            Value::Str(Str::Raw(v)) => {
                malloc_size(std::mem::size_of::<Vec<u8>>()) + malloc_size(v.capacity().max(1))
            }
            Value::List(l) => malloc_size(std::mem::size_of::<ListValue>()) + l.heap_size(),
            Value::Hash(HashValue::Table(d)) => {
                malloc_size(std::mem::size_of_val(&**d))
                    + d.heap_bytes_sampled(samples, |v| {
                        let h = v.heap_size();
                        if h > 0 { malloc_size(h) } else { 0 }
                    })
            }
            Value::Hash(h) => h.heap_size(),
            Value::Set(SetValue::Hash(d)) => {
                malloc_size(std::mem::size_of_val(&**d)) + d.heap_bytes_sampled(samples, |_| 0)
            }
            Value::Set(s) => s.heap_size(),
            Value::ZSet(z) => z.heap_size(),
            Value::Stream(st) => malloc_size(std::mem::size_of_val(&**st)) + st.heap_size(),
        }
    }
}

#[cfg(test)]
mod size_tests {
    /// Every key pays for these: keep them small.
    #[test]
    fn value_sizes() {
        assert_eq!(size_of::<super::Str>(), 24);
        eprintln!(
            "Value={} Str={} List={} Hash={} Set={} ZSet={} Entry={}",
            size_of::<super::Value>(),
            size_of::<super::Str>(),
            size_of::<super::ListValue>(),
            size_of::<super::HashValue>(),
            size_of::<super::SetValue>(),
            size_of::<super::ZSetValue>(),
            size_of::<crate::db::Entry>()
        );
    }
}
