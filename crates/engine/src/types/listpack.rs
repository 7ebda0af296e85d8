//! Listpack: Redis 7.0's compact serialization of a sequence of strings and integers
//! (`src/listpack.c`), byte for byte. It backs small hashes and sorted sets and every
//! quicklist node, and RDB v10 stores it as a raw blob: a future RDB writer emits
//! [`Listpack::bytes`] as is, and the loader adopts Redis's blobs with [`Listpack::from_bytes`].
//!
//! Layout (multi-byte integers little-endian):
//! ```text
//! <total-bytes: u32> <num-elements: u16> <entry>* <0xFF>
//! entry = <encoding byte(s)> <data> <backlen>
//!
//! 0xxxxxxx                          7-bit unsigned int, no data
//! 10LLLLLL + L bytes                string shorter than 64 bytes
//! 110xxxxx yyyyyyyy                 13-bit signed int
//! 1110LLLL LLLLLLLL + L bytes       string shorter than 4096 bytes
//! 11110000 L(u32) + L bytes         longer string
//! 0xF1 / 0xF2 / 0xF3 / 0xF4         16 / 24 / 32 / 64-bit signed int follows
//! ```
//! `backlen` is the size of `<encoding><data>` in 1..=5 bytes of 7 bits, most significant group
//! first; every byte but the first carries 0x80 ("more to the left"), so a reader walking
//! backwards from the next entry decodes it without knowing where the entry starts.
//!
//! Invariants of [`Listpack`]: the buffer is always one complete valid listpack (header total
//! equals the buffer length, last byte 0xFF, every backlen matches its entry); the header count
//! is exact, or 65535 meaning "unknown" (Redis's rule: reaching 65535 makes it unknown and a
//! delete leaves it so). A string that `string2ll` accepts is stored as an integer, as Redis
//! does, so reads give [`LpValue::Int`] for it. A [`Cursor`] is the byte offset of an entry;
//! any mutation invalidates cursors other than the one it returns.

use std::fmt;

use resp::num::{fmt_i64, parse_i64};

/// Header: 32-bit total bytes + 16-bit element count.
pub const HDR_SIZE: usize = 6;
/// Header count meaning "too many to count here: scan".
pub const NUMELE_UNKNOWN: u16 = u16::MAX;
/// Redis never lets a listpack grow past 1 GiB (`LISTPACK_MAX_SAFETY_SIZE`): callers check
/// [`Listpack::safe_to_add`] and convert to another encoding instead.
pub const MAX_SAFETY_SIZE: usize = 1 << 30;

const EOF: u8 = 0xFF;
const ENC_32BIT_STR: u8 = 0xF0;
const ENC_16BIT_INT: u8 = 0xF1;
const ENC_24BIT_INT: u8 = 0xF2;
const ENC_32BIT_INT: u8 = 0xF3;
const ENC_64BIT_INT: u8 = 0xF4;

/// One entry's value. Strings borrow from the listpack.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LpValue<'a> {
    Int(i64),
    Str(&'a [u8]),
}

impl<'a> LpValue<'a> {
    /// The value as bytes, integers printed into `buf` (as Redis's `lpGet` with an intbuf).
    #[inline]
    pub fn as_bytes<'b>(self, buf: &'b mut [u8; 20]) -> &'b [u8]
    where
        'a: 'b,
    {
        match self {
            LpValue::Str(s) => s,
            LpValue::Int(v) => fmt_i64(v, buf),
        }
    }

    /// An owned copy of the bytes.
    pub fn to_vec(self) -> Vec<u8> {
        let mut buf = [0u8; 20];
        self.as_bytes(&mut buf).to_vec()
    }

    /// Whether the value equals the byte string `s` (Redis's `lpCompare`). Integers compare by
    /// parsing `s` once instead of printing the entry: `string2ll` accepts exactly the
    /// canonical spelling, so this equals comparing the printed form.
    #[inline]
    pub fn eq_bytes(self, s: &[u8]) -> bool {
        match self {
            LpValue::Str(v) => v == s,
            LpValue::Int(v) => parse_i64(s) == Some(v),
        }
    }

    /// The value as an integer if it is one (a string entry is parsed with `string2ll`:
    /// listpacks written by other code may hold numeric strings).
    #[inline]
    pub fn as_int(self) -> Option<i64> {
        match self {
            LpValue::Int(v) => Some(v),
            LpValue::Str(s) => parse_i64(s),
        }
    }

    /// Length of the byte form (what `hash-max-listpack-value` and friends measure).
    pub fn str_len(self) -> usize {
        match self {
            LpValue::Str(s) => s.len(),
            LpValue::Int(v) => {
                let mut buf = [0u8; 20];
                fmt_i64(v, &mut buf).len()
            }
        }
    }
}

/// Byte offset of an entry inside one listpack. Only the listpack that produced it gives it
/// meaning, and only until that listpack is next mutated (except the cursor a mutation returns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cursor(usize);

impl Cursor {
    /// The byte offset inside [`Listpack::bytes`].
    #[inline]
    pub fn offset(self) -> usize {
        self.0
    }
}

/// Where an insertion goes relative to a reference entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Where {
    Before,
    After,
}

/// A blob that is not a valid listpack (what `lpValidateIntegrity` rejects).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidListpack;

impl fmt::Display for InvalidListpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid listpack")
    }
}

impl std::error::Error for InvalidListpack {}

/// An owned listpack. See the module documentation for the format and invariants.
#[derive(Clone, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
}

impl Default for Listpack {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Listpack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

// ---------------------------------------------------------------------------------------------
// Encoding primitives (free functions over bytes; the decoders assume a validated buffer).

/// The encoded form of one value before it is written: the encoding bytes (for integers the
/// whole entry) and, for strings, the payload.
struct Encoded<'a> {
    head: [u8; 9],
    head_len: u8,
    data: &'a [u8],
}

impl Encoded<'_> {
    #[inline]
    fn len(&self) -> usize {
        self.head_len as usize + self.data.len()
    }
}

/// `lpEncodeIntegerGetType`: the smallest integer encoding holding `v`.
fn encode_int(v: i64) -> Encoded<'static> {
    let mut head = [0u8; 9];
    let le = v.to_le_bytes();
    let head_len = if (0..=127).contains(&v) {
        head[0] = v as u8;
        1
    } else if (-4096..=4095).contains(&v) {
        // 13-bit two's complement, high 5 bits in the encoding byte.
        let u = (v as u64) & 0x1FFF;
        head[0] = 0xC0 | (u >> 8) as u8;
        head[1] = u as u8;
        2
    } else if (-32768..=32767).contains(&v) {
        head[0] = ENC_16BIT_INT;
        head[1..3].copy_from_slice(&le[..2]);
        3
    } else if (-8_388_608..=8_388_607).contains(&v) {
        head[0] = ENC_24BIT_INT;
        head[1..4].copy_from_slice(&le[..3]);
        4
    } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
        head[0] = ENC_32BIT_INT;
        head[1..5].copy_from_slice(&le[..4]);
        5
    } else {
        head[0] = ENC_64BIT_INT;
        head[1..9].copy_from_slice(&le);
        9
    };
    Encoded {
        head,
        head_len,
        data: &[],
    }
}

/// `lpEncodeGetType` + `lpEncodeString`: integers when `string2ll` accepts the bytes.
fn encode_str(s: &[u8]) -> Encoded<'_> {
    if let Some(v) = parse_i64(s) {
        return encode_int(v);
    }
    let mut head = [0u8; 9];
    let n = s.len();
    let head_len = if n < 64 {
        head[0] = 0x80 | n as u8;
        1
    } else if n < 4096 {
        head[0] = 0xE0 | (n >> 8) as u8;
        head[1] = n as u8;
        2
    } else {
        head[0] = ENC_32BIT_STR;
        // Lengths past u32 cannot occur: the total-bytes check rejects them first.
        head[1..5].copy_from_slice(&(n as u32).to_le_bytes());
        5
    };
    Encoded {
        head,
        head_len,
        data: s,
    }
}

fn encode_value(v: LpValue<'_>) -> Encoded<'_> {
    match v {
        LpValue::Int(i) => encode_int(i),
        LpValue::Str(s) => encode_str(s),
    }
}

/// Bytes the backlen of an entry of `l` encoded bytes takes (`lpEncodeBacklen(NULL, l)`).
/// Note Redis's thresholds: 127 inclusive, then exclusive bounds (16383 takes 3 bytes).
#[inline]
fn backlen_size(l: usize) -> usize {
    if l <= 127 {
        1
    } else if l < 16383 {
        2
    } else if l < 2_097_151 {
        3
    } else if l < 268_435_455 {
        4
    } else {
        5
    }
}

/// Writes the backlen of `l` into `dst` (which has exactly `backlen_size(l)` bytes).
fn write_backlen(dst: &mut [u8], l: usize) {
    let n = dst.len();
    for (i, b) in dst.iter_mut().enumerate() {
        let shift = 7 * (n - 1 - i);
        let group = ((l >> shift) & 127) as u8;
        *b = if i == 0 { group } else { group | 128 };
    }
}

/// `lpDecodeBacklen`: decodes the backlen whose last byte is at `end`, reading leftwards.
/// `None` when it runs past 5 bytes or off the start of `buf`.
#[inline]
fn decode_backlen(buf: &[u8], end: usize) -> Option<usize> {
    let mut val = 0usize;
    let mut shift = 0;
    let mut i = end;
    loop {
        let b = *buf.get(i)?;
        val |= ((b & 127) as usize) << shift;
        if b & 128 == 0 {
            return Some(val);
        }
        shift += 7;
        if shift > 28 {
            return None;
        }
        i = i.checked_sub(1)?;
    }
}

/// Bytes of the encoding byte plus length bytes (`lpCurrentEncodedSizeBytes`); 0 for an
/// invalid encoding byte. EOF counts 1.
#[inline]
fn encoding_head_size(b: u8) -> usize {
    match b {
        0x00..=0xDF => 1,
        0xE0..=0xEF => 2,
        ENC_32BIT_STR => 5,
        ENC_16BIT_INT..=ENC_64BIT_INT => 1,
        EOF => 1,
        _ => 0,
    }
}

/// Size of `<encoding><data>` of the entry at `p` (`lpCurrentEncodedSizeUnsafe`): the caller
/// has checked that the length bytes are inside `buf`.
#[inline]
fn encoded_size(buf: &[u8], p: usize) -> usize {
    let b = buf[p];
    match b {
        0x00..=0x7F => 1,
        0x80..=0xBF => 1 + (b & 0x3F) as usize,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 2 + ((((b & 0x0F) as usize) << 8) | buf[p + 1] as usize),
        ENC_32BIT_STR => {
            5 + u32::from_le_bytes([buf[p + 1], buf[p + 2], buf[p + 3], buf[p + 4]]) as usize
        }
        ENC_16BIT_INT => 3,
        ENC_24BIT_INT => 4,
        ENC_32BIT_INT => 5,
        ENC_64BIT_INT => 9,
        _ => 1, // EOF; invalid bytes never reach here past validation
    }
}

/// Whole size of the entry at `p`, backlen included (`lpSkip`).
#[inline]
fn entry_size(buf: &[u8], p: usize) -> usize {
    let l = encoded_size(buf, p);
    l + backlen_size(l)
}

/// Start of the entry that ends just before `p` (`lpPrev`'s arithmetic).
#[inline]
fn prev_start(buf: &[u8], p: usize) -> usize {
    let l = decode_backlen(buf, p - 1).unwrap_or(0);
    p - (l + backlen_size(l))
}

/// The value of the entry at `p` (`lpGet`).
#[inline]
fn decode(buf: &[u8], p: usize) -> LpValue<'_> {
    let b = buf[p];
    match b {
        0x00..=0x7F => LpValue::Int(b as i64),
        0x80..=0xBF => LpValue::Str(&buf[p + 1..p + 1 + (b & 0x3F) as usize]),
        0xC0..=0xDF => {
            let u = (((b & 0x1F) as u16) << 8) | buf[p + 1] as u16;
            // Sign-extend 13 bits.
            LpValue::Int((((u << 3) as i16) >> 3) as i64)
        }
        0xE0..=0xEF => {
            let n = (((b & 0x0F) as usize) << 8) | buf[p + 1] as usize;
            LpValue::Str(&buf[p + 2..p + 2 + n])
        }
        ENC_32BIT_STR => {
            let n = u32::from_le_bytes([buf[p + 1], buf[p + 2], buf[p + 3], buf[p + 4]]) as usize;
            LpValue::Str(&buf[p + 5..p + 5 + n])
        }
        ENC_16BIT_INT => LpValue::Int(i16::from_le_bytes([buf[p + 1], buf[p + 2]]) as i64),
        ENC_24BIT_INT => {
            let u = i32::from_le_bytes([0, buf[p + 1], buf[p + 2], buf[p + 3]]);
            LpValue::Int((u >> 8) as i64)
        }
        ENC_32BIT_INT => {
            LpValue::Int(
                i32::from_le_bytes([buf[p + 1], buf[p + 2], buf[p + 3], buf[p + 4]]) as i64,
            )
        }
        ENC_64BIT_INT => {
            let mut le = [0u8; 8];
            le.copy_from_slice(&buf[p + 1..p + 9]);
            LpValue::Int(i64::from_le_bytes(le))
        }
        // Unreachable on a validated buffer; Redis answers this marker rather than crash.
        _ => LpValue::Int(12_345_678_900_000_000 + b as i64),
    }
}

/// Allocation size for a listpack of `n` bytes: jemalloc's size classes (16-byte steps up to
/// 128, then four classes per power of two). Growing by class keeps pushes amortized O(1)
/// while wasting at most ~25%, the same slack Redis pays when `realloc` rounds up; doubling
/// would waste up to half of every quicklist node.
pub(crate) fn size_class(n: usize) -> usize {
    if n <= 8 {
        return 8;
    }
    if n <= 128 {
        return (n + 15) & !15;
    }
    let k = usize::BITS - 1 - (n - 1).leading_zeros();
    let step = 1usize << (k - 2);
    (n + step - 1) & !(step - 1)
}

/// `lpValidateNext`: checks the entry at `p` stays inside `buf` (whose last byte is EOF) and
/// that its backlen agrees; returns the next entry's offset.
fn validate_entry(buf: &[u8], p: usize) -> Option<usize> {
    let last = buf.len() - 1;
    let head = encoding_head_size(buf[p]);
    if head == 0 || p + head > last {
        return None;
    }
    let enc = encoded_size(buf, p);
    let entry = enc + backlen_size(enc);
    let next = p.checked_add(entry)?;
    if next > last {
        return None;
    }
    if decode_backlen(buf, next - 1)? != enc {
        return None;
    }
    Some(next)
}

/// `lpValidateIntegrity` (deep): header total equals the size, EOF at the end, every entry
/// inside the buffer with a matching backlen, the walk ending exactly on the EOF byte, and the
/// header count right unless "unknown". `entry` sees each value and may reject it (the RDB
/// loader's duplicate and pairing checks). Never panics.
pub fn validate(bytes: &[u8], mut entry: impl FnMut(LpValue<'_>) -> bool) -> bool {
    if bytes.len() < HDR_SIZE + 1 {
        return false;
    }
    let total = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    if total != bytes.len() || bytes[total - 1] != EOF {
        return false;
    }
    let mut count = 0usize;
    let mut p = HDR_SIZE;
    while bytes[p] != EOF {
        let Some(next) = validate_entry(bytes, p) else {
            return false;
        };
        if !entry(decode(bytes, p)) {
            return false;
        }
        count += 1;
        p = next;
    }
    if p != total - 1 {
        return false;
    }
    let numele = u16::from_le_bytes([bytes[4], bytes[5]]);
    numele == NUMELE_UNKNOWN || numele as usize == count
}

// ---------------------------------------------------------------------------------------------

impl Listpack {
    /// An empty listpack (7 bytes: header and EOF).
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty listpack with room for `bytes` total bytes before reallocating.
    pub fn with_capacity(bytes: usize) -> Self {
        let mut buf = Vec::with_capacity(size_class(bytes.max(HDR_SIZE + 1)));
        buf.extend_from_slice(&[7, 0, 0, 0, 0, 0, EOF]);
        Listpack { buf }
    }

    /// Adopts a blob after the full integrity check ([`validate`]).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, InvalidListpack> {
        Self::from_bytes_with(bytes, |_| true)
    }

    /// Like [`Listpack::from_bytes`] with a per-entry check (see [`validate`]).
    pub fn from_bytes_with(
        bytes: Vec<u8>,
        entry: impl FnMut(LpValue<'_>) -> bool,
    ) -> Result<Self, InvalidListpack> {
        if validate(&bytes, entry) {
            Ok(Listpack { buf: bytes })
        } else {
            Err(InvalidListpack)
        }
    }

    /// Builds a listpack from byte strings (each stored as Redis would store it).
    pub fn from_items<'a>(items: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut lp = Listpack::new();
        for it in items {
            lp.push_back(it);
        }
        lp
    }

    /// The serialized form, exactly Redis's bytes.
    #[inline]
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// The serialized form, consuming the listpack.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Total serialized bytes (`lpBytes`).
    #[inline]
    pub fn total_bytes(&self) -> usize {
        self.buf.len()
    }

    /// Heap bytes held (the buffer's capacity).
    #[inline]
    pub fn heap_size(&self) -> usize {
        self.buf.capacity()
    }

    /// `lpSafeToAdd`: whether `add` more bytes keep the listpack under [`MAX_SAFETY_SIZE`].
    #[inline]
    pub fn safe_to_add(&self, add: usize) -> bool {
        self.buf.len().saturating_add(add) <= MAX_SAFETY_SIZE
    }

    #[inline]
    fn header_count(&self) -> u16 {
        u16::from_le_bytes([self.buf[4], self.buf[5]])
    }

    #[inline]
    fn set_header_count(&mut self, n: usize) {
        let v = if n >= NUMELE_UNKNOWN as usize {
            NUMELE_UNKNOWN
        } else {
            n as u16
        };
        self.buf[4..6].copy_from_slice(&v.to_le_bytes());
    }

    #[inline]
    fn set_total(&mut self) {
        let n = self.buf.len() as u32;
        self.buf[..4].copy_from_slice(&n.to_le_bytes());
    }

    /// Number of entries (`lpLength`): O(1) unless the header says "unknown" (65535 or more
    /// entries at some point), then a scan, as Redis.
    pub fn len(&self) -> usize {
        let n = self.header_count();
        if n != NUMELE_UNKNOWN {
            return n as usize;
        }
        let mut count = 0;
        let mut p = HDR_SIZE;
        while self.buf[p] != EOF {
            count += 1;
            p += entry_size(&self.buf, p);
        }
        count
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.buf[HDR_SIZE] == EOF
    }

    /// Removes every entry, keeping the allocation.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&[7, 0, 0, 0, 0, 0, EOF]);
    }

    // --- navigation -----------------------------------------------------------------------

    /// The first entry (`lpFirst`).
    #[inline]
    pub fn first(&self) -> Option<Cursor> {
        (self.buf[HDR_SIZE] != EOF).then_some(Cursor(HDR_SIZE))
    }

    /// The last entry (`lpLast`).
    #[inline]
    pub fn last(&self) -> Option<Cursor> {
        let eof = self.buf.len() - 1;
        (eof != HDR_SIZE).then(|| Cursor(prev_start(&self.buf, eof)))
    }

    /// The entry after `c` (`lpNext`).
    #[inline]
    pub fn next(&self, c: Cursor) -> Option<Cursor> {
        let p = c.0 + entry_size(&self.buf, c.0);
        (self.buf[p] != EOF).then_some(Cursor(p))
    }

    /// The entry before `c` (`lpPrev`).
    #[inline]
    pub fn prev(&self, c: Cursor) -> Option<Cursor> {
        (c.0 != HDR_SIZE).then(|| Cursor(prev_start(&self.buf, c.0)))
    }

    /// The value at `c`.
    #[inline]
    pub fn value(&self, c: Cursor) -> LpValue<'_> {
        decode(&self.buf, c.0)
    }

    /// Total bytes of the entry at `c`, backlen included.
    #[inline]
    pub fn entry_size(&self, c: Cursor) -> usize {
        entry_size(&self.buf, c.0)
    }

    /// `lpSeek`: the entry at `index` (negative counts from the end, -1 the last), walking
    /// from the nearer end when the count is known.
    pub fn seek(&self, index: i64) -> Option<Cursor> {
        let numele = self.header_count();
        let mut index = index;
        let mut forward = true;
        if numele != NUMELE_UNKNOWN {
            let n = numele as i64;
            if index < 0 {
                index += n;
            }
            if index < 0 || index >= n {
                return None;
            }
            if index > n / 2 {
                forward = false;
                index -= n;
            }
        } else if index < 0 {
            forward = false;
        }
        if forward {
            let mut c = self.first();
            while index > 0 {
                c = self.next(c?);
                index -= 1;
            }
            c
        } else {
            let mut c = self.last();
            while index < -1 {
                c = self.prev(c?);
                index += 1;
            }
            c
        }
    }

    /// The value at `index` (negative counts from the end).
    #[inline]
    pub fn get(&self, index: i64) -> Option<LpValue<'_>> {
        self.seek(index).map(|c| self.value(c))
    }

    /// Iterates values front to back (and back to front with `.rev()`).
    #[inline]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            front: HDR_SIZE,
            back: self.buf.len() - 1,
        }
    }

    /// Iterates values from the entry at `c` to the end.
    #[inline]
    pub fn iter_from(&self, c: Cursor) -> Iter<'_> {
        Iter {
            buf: &self.buf,
            front: c.0,
            back: self.buf.len() - 1,
        }
    }

    /// `lpFind`: the first entry at or after `start` equal to `s`, comparing only every
    /// `skip + 1`-th entry (skip 1 visits the keys of a key/value listpack). Integer entries
    /// compare against `s` parsed once, strings by bytes.
    pub fn find(&self, start: Cursor, s: &[u8], skip: usize) -> Option<Cursor> {
        // Parsed lazily: a listpack of strings never pays for it.
        let mut as_int: Option<Option<i64>> = None;
        let buf = &self.buf[..];
        let mut p = start.0;
        let mut skipcnt = 0;
        while buf[p] != EOF {
            if skipcnt == 0 {
                let hit = match decode(buf, p) {
                    LpValue::Str(v) => v == s,
                    LpValue::Int(v) => *as_int.get_or_insert_with(|| parse_i64(s)) == Some(v),
                };
                if hit {
                    return Some(Cursor(p));
                }
                skipcnt = skip;
            } else {
                skipcnt -= 1;
            }
            p += entry_size(buf, p);
        }
        None
    }

    // --- mutation -------------------------------------------------------------------------

    /// Replaces the `remove` bytes at `off` with `enc` (plus its backlen), or just removes them
    /// (`lpInsert`'s memmove/realloc core). Returns nothing: callers know `off`.
    ///
    /// # Panics
    /// If the result would exceed 4 GiB, which the format cannot express. Callers stay below
    /// [`MAX_SAFETY_SIZE`] (the quicklist by construction, hashes and zsets via
    /// [`Listpack::safe_to_add`]), as Redis's callers do.
    fn splice(&mut self, off: usize, remove: usize, enc: Option<&Encoded<'_>>) {
        let (enc_len, add) = match enc {
            Some(e) => {
                let l = e.len();
                (l, l + backlen_size(l))
            }
            None => (0, 0),
        };
        let old = self.buf.len();
        let new = old - remove + add;
        assert!(new <= u32::MAX as usize, "listpack would exceed 4 GiB");
        if add > remove {
            if new > self.buf.capacity() {
                self.buf.reserve_exact(size_class(new) - old);
            }
            self.buf.resize(new, 0);
            self.buf.copy_within(off + remove..old, off + add);
        } else if add < remove {
            self.buf.copy_within(off + remove..old, off + add);
            self.buf.truncate(new);
            self.shrink();
        }
        if let Some(e) = enc {
            let head = e.head_len as usize;
            self.buf[off..off + head].copy_from_slice(&e.head[..head]);
            self.buf[off + head..off + enc_len].copy_from_slice(e.data);
            write_backlen(&mut self.buf[off + enc_len..off + add], enc_len);
        }
        self.set_total();
    }

    /// Gives memory back once the buffer is well past its size class (Redis reallocs on every
    /// shrink; the hysteresis keeps pops amortized O(1)).
    #[inline]
    /// Drops spare capacity (Redis's `lpShrinkToFit`).
    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
    }

    fn shrink(&mut self) {
        let target = size_class(self.buf.len());
        if self.buf.capacity() > target + target / 4 {
            self.buf.shrink_to(target);
        }
    }

    #[inline]
    fn count_added(&mut self) {
        let n = self.header_count();
        if n != NUMELE_UNKNOWN {
            // 65534 + 1 becomes 65535, "unknown", exactly as Redis.
            self.buf[4..6].copy_from_slice(&(n + 1).to_le_bytes());
        }
    }

    #[inline]
    fn count_removed(&mut self, k: usize) {
        let n = self.header_count();
        if n != NUMELE_UNKNOWN {
            self.set_header_count(n as usize - k);
        }
    }

    fn insert_encoded(&mut self, off: usize, enc: &Encoded<'_>) -> Cursor {
        self.splice(off, 0, Some(enc));
        self.count_added();
        Cursor(off)
    }

    /// Appends `ele` (`lpAppend`).
    #[inline]
    pub fn push_back(&mut self, ele: &[u8]) {
        let eof = self.buf.len() - 1;
        self.insert_encoded(eof, &encode_str(ele));
    }

    /// Prepends `ele` (`lpPrepend`).
    #[inline]
    pub fn push_front(&mut self, ele: &[u8]) {
        self.insert_encoded(HDR_SIZE, &encode_str(ele));
    }

    /// Appends an integer (`lpAppendInteger`).
    #[inline]
    pub fn push_back_int(&mut self, v: i64) {
        let eof = self.buf.len() - 1;
        self.insert_encoded(eof, &encode_int(v));
    }

    /// Appends a value read from another listpack (integers stay integers, no printing).
    #[inline]
    pub fn push_back_value(&mut self, v: LpValue<'_>) {
        let eof = self.buf.len() - 1;
        self.insert_encoded(eof, &encode_value(v));
    }

    /// Prepends a value read from another listpack.
    #[inline]
    pub fn push_front_value(&mut self, v: LpValue<'_>) {
        self.insert_encoded(HDR_SIZE, &encode_value(v));
    }

    /// Inserts `ele` before or after the entry at `c`; returns the new entry's cursor.
    pub fn insert(&mut self, c: Cursor, at: Where, ele: &[u8]) -> Cursor {
        self.insert_value(c, at, LpValue::Str(ele))
    }

    /// [`Listpack::insert`] for a value read from a listpack.
    pub fn insert_value(&mut self, c: Cursor, at: Where, v: LpValue<'_>) -> Cursor {
        let off = match at {
            Where::Before => c.0,
            Where::After => c.0 + entry_size(&self.buf, c.0),
        };
        self.insert_encoded(off, &encode_value(v))
    }

    /// Replaces the entry at `c` with `ele` (`lpReplace`); returns its cursor (unchanged).
    pub fn replace(&mut self, c: Cursor, ele: &[u8]) -> Cursor {
        self.replace_value(c, LpValue::Str(ele))
    }

    /// Replaces the entry at `c` with an integer (`lpReplaceInteger`).
    pub fn replace_int(&mut self, c: Cursor, v: i64) -> Cursor {
        self.replace_value(c, LpValue::Int(v))
    }

    /// [`Listpack::replace`] for a value read from a listpack.
    pub fn replace_value(&mut self, c: Cursor, v: LpValue<'_>) -> Cursor {
        let old = entry_size(&self.buf, c.0);
        self.splice(c.0, old, Some(&encode_value(v)));
        c
    }

    /// Deletes the entry at `c` (`lpDelete`); returns the entry that followed it.
    pub fn delete(&mut self, c: Cursor) -> Option<Cursor> {
        let old = entry_size(&self.buf, c.0);
        self.splice(c.0, old, None);
        self.count_removed(1);
        (self.buf[c.0] != EOF).then_some(c)
    }

    /// `lpDeleteRangeWithEntry`: deletes up to `num` entries starting at `c`; returns the entry
    /// that followed them.
    pub fn delete_range_at(&mut self, c: Cursor, num: usize) -> Option<Cursor> {
        let mut end = c.0;
        let mut deleted = 0;
        while deleted < num && self.buf[end] != EOF {
            end += entry_size(&self.buf, end);
            deleted += 1;
        }
        if deleted > 0 {
            self.buf.copy_within(end.., c.0);
            self.buf.truncate(self.buf.len() - (end - c.0));
            self.set_total();
            self.count_removed(deleted);
            self.shrink();
        }
        (self.buf[c.0] != EOF).then_some(c)
    }

    /// `lpDeleteRange`: deletes up to `num` entries starting at `index` (negative counts from
    /// the end). An out-of-range index deletes nothing.
    pub fn delete_range(&mut self, index: i64, num: usize) {
        if num == 0 {
            return;
        }
        let Some(c) = self.seek(index) else {
            return;
        };
        let numele = self.header_count();
        if numele != NUMELE_UNKNOWN {
            let n = numele as i64;
            let index = if index < 0 { index + n } else { index };
            if (n - index) as u64 <= num as u64 {
                // Everything from here on goes: move the terminator.
                self.buf.truncate(c.0);
                self.buf.push(EOF);
                self.set_total();
                self.set_header_count(index as usize);
                self.shrink();
                return;
            }
        }
        self.delete_range_at(c, num);
    }

    /// Splits at entry `at` (like `Vec::split_off`): `self` keeps `[0, at)`, the result holds
    /// `[at, len)`. Entries are self-delimiting, so this is two byte copies.
    pub fn split_off(&mut self, at: usize) -> Listpack {
        let Some(c) = self.seek(at as i64) else {
            return Listpack::new();
        };
        let len = self.len();
        let tail_bytes = &self.buf[c.0..];
        let mut out = Listpack::with_capacity(HDR_SIZE + tail_bytes.len());
        out.buf.truncate(HDR_SIZE);
        out.buf.extend_from_slice(tail_bytes);
        out.set_total();
        out.set_header_count(len - at);
        self.buf.truncate(c.0);
        self.buf.push(EOF);
        self.set_total();
        self.set_header_count(at);
        self.shrink();
        out
    }

    /// `lpMerge`: `first` followed by `second`, reusing the larger buffer.
    pub fn merge(mut first: Listpack, second: Listpack) -> Listpack {
        first.append(second);
        first
    }

    /// Appends every entry of `other` (`lpMerge` in place): the larger of the two buffers is
    /// kept and the other's entries copied into it, as Redis picks its realloc target.
    ///
    /// # Panics
    /// If the result would exceed 4 GiB (see [`MAX_SAFETY_SIZE`]).
    pub fn append(&mut self, mut other: Listpack) {
        let count = self.len() + other.len();
        let append = self.buf.len() >= other.buf.len();
        if !append {
            // Keep the larger buffer in `self`; `other` now holds what goes in front.
            std::mem::swap(&mut self.buf, &mut other.buf);
        }
        let body = &other.buf[HDR_SIZE..other.buf.len() - 1];
        let old = self.buf.len();
        let new = old + body.len();
        assert!(new <= u32::MAX as usize, "listpack would exceed 4 GiB");
        if new > self.buf.capacity() {
            self.buf.reserve_exact(size_class(new) - old);
        }
        if append {
            self.buf.truncate(old - 1);
            self.buf.extend_from_slice(body);
            self.buf.push(EOF);
        } else {
            self.buf.resize(new, 0);
            self.buf.copy_within(HDR_SIZE..old, HDR_SIZE + body.len());
            self.buf[HDR_SIZE..HDR_SIZE + body.len()].copy_from_slice(body);
        }
        self.set_total();
        self.set_header_count(count);
    }

    /// Moves the last entry to the front in place (a rotation of the entry bytes: entries are
    /// self-delimiting, so no re-encoding).
    pub fn rotate_last_to_front(&mut self) {
        if let Some(last) = self.last() {
            let eof = self.buf.len() - 1;
            let n = eof - last.0;
            self.buf[HDR_SIZE..eof].rotate_right(n);
        }
    }
}

/// Values of a listpack, double-ended: `front` is the next entry to yield, `back` the offset
/// just past the last one still to yield (initially the EOF byte); they meet when done.
#[derive(Clone)]
pub struct Iter<'a> {
    buf: &'a [u8],
    front: usize,
    back: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = LpValue<'a>;

    #[inline]
    fn next(&mut self) -> Option<LpValue<'a>> {
        if self.front >= self.back {
            return None;
        }
        let v = decode(self.buf, self.front);
        self.front += entry_size(self.buf, self.front);
        Some(v)
    }
}

impl<'a> DoubleEndedIterator for Iter<'a> {
    #[inline]
    fn next_back(&mut self) -> Option<LpValue<'a>> {
        if self.front >= self.back {
            return None;
        }
        self.back = prev_start(self.buf, self.back);
        Some(decode(self.buf, self.back))
    }
}

impl<'a> IntoIterator for &'a Listpack {
    type Item = LpValue<'a>;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

#[cfg(test)]
#[path = "listpack_tests.rs"]
mod tests;
