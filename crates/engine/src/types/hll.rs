//! HyperLogLog in Redis 7.0's exact byte representation (hyperloglog.c), so an HLL is an
//! ordinary string that GET, DUMP/RESTORE and RDB carry unchanged between ringkv and Redis.
//!
//! Layout: a 16-byte header — `HYLL`, the encoding (0 dense, 1 sparse), 3 unused bytes,
//! the cached cardinality as 8 little-endian bytes whose top bit marks it invalid — then
//! the registers: 16384 of 6 bits each. Dense packs them LSB-first into 12288 bytes. Sparse
//! run-length encodes them with three opcodes: `00xxxxxx` (1..64 zero registers),
//! `01xxxxxx yyyyyyyy` (1..16384 zero registers) and `1vvvvvxx` (1..4 registers of value
//! 1..32). A new HLL is sparse (one XZERO, 18 bytes); it turns dense when a value above 32
//! must be stored or the sparse form would outgrow `hll-sparse-max-bytes`.
//!
//! Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the
//! register, the run of zeros above them (plus one) is the candidate value. The estimate
//! is Ertl's improved estimator over the register histogram, as 7.0.
//!
//! Every function that walks a sparse representation validates it as it goes and reports
//! corruption (`Err(Corrupt)`) rather than reading out of bounds: the bytes may come from a
//! client (SET, RESTORE).

/// `HLL_P`: register index bits.
pub const P: u32 = 14;
/// `HLL_Q`: hash bits left for the run of zeros.
const Q: u32 = 64 - P;
/// Number of registers.
pub const REGISTERS: usize = 1 << P;
const P_MASK: u64 = REGISTERS as u64 - 1;
const BITS: usize = 6;
const REGISTER_MAX: u8 = (1 << BITS) - 1;
/// Header bytes.
pub const HDR: usize = 16;
/// Bytes of a dense HLL.
pub const DENSE_SIZE: usize = HDR + (REGISTERS * BITS).div_ceil(8);
const DENSE: u8 = 0;
const SPARSE: u8 = 1;
/// `HLL_ALPHA_INF`: 0.5 / ln 2.
const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;

/// The HLL's bytes are not a valid representation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Corrupt;

/// Redis's MurmurHash64A, little-endian reads.
pub fn murmur64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// `hllPatLen`: (register index, value) for an element.
pub fn pat_len(ele: &[u8]) -> (usize, u8) {
    let hash = murmur64a(ele, 0xadc8_3b19);
    let index = (hash & P_MASK) as usize;
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// `isHLLObjectOrReply`'s checks on a string's bytes: magic, a known encoding, and the
/// exact size for dense.
pub fn is_valid_header(s: &[u8]) -> bool {
    s.len() >= HDR
        && &s[..4] == b"HYLL"
        && s[4] <= SPARSE
        && (s[4] != DENSE || s.len() == DENSE_SIZE)
}

/// A new, empty HLL: sparse, one XZERO opcode, cached cardinality 0.
pub fn new_empty() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR + 2);
    v.extend_from_slice(b"HYLL");
    v.push(SPARSE);
    v.extend_from_slice(&[0; 11]);
    push_xzero(&mut v, REGISTERS);
    v
}

pub fn is_sparse(s: &[u8]) -> bool {
    s[4] == SPARSE
}

/// The cached cardinality, if valid.
pub fn cached(s: &[u8]) -> Option<u64> {
    if s[15] & 0x80 != 0 {
        return None;
    }
    Some(u64::from_le_bytes(s[8..16].try_into().expect("8 bytes")))
}

pub fn set_cached(s: &mut [u8], card: u64) {
    s[8..16].copy_from_slice(&card.to_le_bytes());
}

pub fn invalidate_cache(s: &mut [u8]) {
    s[15] |= 0x80;
}

// --- dense registers -----------------------------------------------------------------

#[inline]
fn dense_get(regs: &[u8], i: usize) -> u8 {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let b0 = u16::from(regs[byte]);
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 >> fb) | (b1 << (8 - fb))) & u16::from(REGISTER_MAX)) as u8
}

#[inline]
fn dense_set(regs: &mut [u8], i: usize, v: u8) {
    let byte = i * BITS / 8;
    let fb = (i * BITS) & 7;
    let v = u16::from(v);
    regs[byte] &= !((u16::from(REGISTER_MAX) << fb) as u8);
    regs[byte] |= (v << fb) as u8;
    if byte + 1 < regs.len() {
        regs[byte + 1] &= !((u16::from(REGISTER_MAX) >> (8 - fb)) as u8);
        regs[byte + 1] |= (v >> (8 - fb)) as u8;
    }
}

/// `hllDenseSet`: raises register `i` to `v`; whether it changed.
fn dense_raise(regs: &mut [u8], i: usize, v: u8) -> bool {
    if v > dense_get(regs, i) {
        dense_set(regs, i, v);
        true
    } else {
        false
    }
}

// --- sparse opcodes --------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Zero(usize),
    XZero(usize),
    Val(u8, usize),
}

impl Op {
    fn len(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
    fn bytes(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

/// The opcode at `p`, or None when it is cut short.
#[inline]
fn op_at(s: &[u8], p: usize) -> Option<Op> {
    let b = *s.get(p)?;
    Some(if b & 0xc0 == 0 {
        Op::Zero(usize::from(b & 0x3f) + 1)
    } else if b & 0x80 == 0 {
        let lo = *s.get(p + 1)?;
        Op::XZero(((usize::from(b & 0x3f) << 8) | usize::from(lo)) + 1)
    } else {
        Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 3) + 1)
    })
}

fn val_byte(v: u8, len: usize) -> u8 {
    (((v - 1) << 2) | (len as u8 - 1)) | 0x80
}

fn push_zero_run(out: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        push_xzero(out, len);
    } else {
        out.push(len as u8 - 1);
    }
}

fn push_xzero(out: &mut Vec<u8>, len: usize) {
    let l = len - 1;
    out.push((l >> 8) as u8 | 0x40);
    out.push((l & 0xff) as u8);
}

/// Walks a sparse representation's registers: `f(first_register, run, value)` for every
/// opcode. Err when the opcodes do not cover exactly 16384 registers.
fn sparse_walk(s: &[u8], mut f: impl FnMut(usize, usize, u8)) -> Result<(), Corrupt> {
    let mut p = HDR;
    let mut idx = 0usize;
    while p < s.len() {
        let op = op_at(s, p).ok_or(Corrupt)?;
        let (n, v) = match op {
            Op::Zero(n) | Op::XZero(n) => (n, 0),
            Op::Val(v, n) => {
                if idx + n > REGISTERS {
                    return Err(Corrupt);
                }
                (n, v)
            }
        };
        f(idx, n, v);
        idx += n;
        p += op.bytes();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// `hllSparseToDense`: the dense form of `s` (header copied, encoding changed). No-op when
/// already dense.
pub fn to_dense(s: &mut Vec<u8>) -> Result<(), Corrupt> {
    if !is_sparse(s) {
        return Ok(());
    }
    let mut d = vec![0u8; DENSE_SIZE];
    d[..HDR].copy_from_slice(&s[..HDR]);
    d[4] = DENSE;
    {
        let regs = &mut d[HDR..];
        sparse_walk(s, |first, n, v| {
            if v != 0 {
                for i in first..first + n {
                    dense_set(regs, i, v);
                }
            }
        })?;
    }
    *s = d;
    Ok(())
}

/// `hllSparseSet`: raises register `index` to `count` in a sparse HLL, splitting the
/// opcode that covers it and merging equal neighbours, exactly as Redis (so the bytes stay
/// identical). Turns the HLL dense when `count` exceeds 32 or the result would pass
/// `max_bytes`. Whether the register changed.
fn sparse_set(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(s, index, count);
    }
    // Step 1: the opcode covering `index`.
    let end = s.len();
    let mut p = HDR;
    let mut first = 0usize;
    let mut prev: Option<usize> = None;
    let mut found = None;
    while p < end {
        let op = op_at(s, p).ok_or(Corrupt)?;
        if index < first + op.len() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.bytes();
        first += op.len();
    }
    let op = found.ok_or(Corrupt)?;
    let span = op.len();
    // Step 2: trivial cases in place.
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            s[p] = val_byte(count, 1);
            merge_after_update(s, prev);
            invalidate_cache(s);
            return Ok(true);
        }
        _ => {}
    }
    // General case: split the opcode into up to three.
    let last = first + span - 1;
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    match op {
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zero_run(&mut seq, index - first);
            }
            seq.push(val_byte(count, 1));
            if index != last {
                push_zero_run(&mut seq, last - index);
            }
        }
        Op::Val(cur, _) => {
            if index != first {
                seq.push(val_byte(cur, index - first));
            }
            seq.push(val_byte(count, 1));
            if index != last {
                seq.push(val_byte(cur, last - index));
            }
        }
    }
    // Step 3: replace the old opcode with the sequence.
    let oldlen = op.bytes();
    if seq.len() > oldlen && s.len() + seq.len() - oldlen > max_bytes {
        return promote(s, index, count);
    }
    s.splice(p..p + oldlen, seq);
    merge_after_update(s, prev);
    invalidate_cache(s);
    Ok(true)
}

/// Step 4 of `hllSparseSet`: from the opcode before the change, up to five opcodes, merge
/// adjacent VALs of equal value whose runs fit one opcode.
fn merge_after_update(s: &mut Vec<u8>, prev: Option<usize>) {
    let mut p = prev.unwrap_or(HDR);
    let mut scan = 5;
    while p < s.len() && scan > 0 {
        scan -= 1;
        let b = s[p];
        if b & 0xc0 == 0x40 {
            p += 2;
            continue;
        } else if b & 0xc0 == 0 {
            p += 1;
            continue;
        }
        if p + 1 < s.len()
            && let (Some(Op::Val(v1, l1)), Some(Op::Val(v2, l2))) = (op_at(s, p), op_at(s, p + 1))
            && v1 == v2
            && l1 + l2 <= SPARSE_VAL_MAX_LEN
        {
            s[p + 1] = val_byte(v1, l1 + l2);
            s.remove(p);
            // Try the merged opcode again with its right neighbour.
            continue;
        }
        p += 1;
    }
}

/// The `promote:` path of `hllSparseSet`: dense, then the register raised (always a change).
fn promote(s: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    to_dense(s)?;
    let changed = dense_raise(&mut s[HDR..], index, count);
    debug_assert!(changed);
    invalidate_cache(s);
    Ok(true)
}

/// `hllAdd`: adds an element; whether a register changed (the cache is invalidated then).
pub fn add(s: &mut Vec<u8>, ele: &[u8], max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pat_len(ele);
    raise(s, index, count, max_bytes)
}

/// Raises register `index` to at least `count`, in either encoding.
pub fn raise(s: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if is_sparse(s) {
        sparse_set(s, index, count, max_bytes)
    } else {
        let changed = dense_raise(&mut s[HDR..], index, count);
        if changed {
            invalidate_cache(s);
        }
        Ok(changed)
    }
}

/// `hllMerge`: `max[i] = max(max[i], register i)` over a valid HLL's registers.
pub fn merge_into(max: &mut [u8; REGISTERS], s: &[u8]) -> Result<(), Corrupt> {
    if is_sparse(s) {
        sparse_walk(s, |first, n, v| {
            if v != 0 {
                for m in &mut max[first..first + n] {
                    *m = (*m).max(v);
                }
            }
        })
    } else {
        let regs = &s[HDR..];
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        Ok(())
    }
}

/// The registers' histogram (how many registers hold each value).
fn histogram(s: &[u8]) -> Result<[u32; 64], Corrupt> {
    let mut h = [0u32; 64];
    if is_sparse(s) {
        sparse_walk(s, |_, n, v| h[usize::from(v)] += n as u32)?;
    } else {
        let regs = &s[HDR..];
        for i in 0..REGISTERS {
            h[usize::from(dense_get(regs, i))] += 1;
        }
    }
    Ok(h)
}

/// The histogram of one-byte-per-register values (PFCOUNT's multi-key merge).
fn histogram_raw(max: &[u8; REGISTERS]) -> [u32; 64] {
    let mut h = [0u32; 64];
    for &v in max {
        h[usize::from(v & 63)] += 1;
    }
    h
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let prev = z;
        z += x * y;
        y += y;
        if prev == z {
            return z;
        }
    }
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let prev = z;
        y *= 0.5;
        z -= (1.0 - x).powi(2) * y;
        if prev == z {
            return z / 3.0;
        }
    }
}

/// `hllCount`'s estimator (Ertl, arXiv:1702.01284) over a register histogram.
fn estimate(h: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(h[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(h[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(h[0]) / m);
    (ALPHA_INF * m * m / z).round() as u64
}

/// The estimated cardinality of one HLL (ignoring its cache).
pub fn count(s: &[u8]) -> Result<u64, Corrupt> {
    Ok(estimate(&histogram(s)?))
}

/// The estimated cardinality of merged registers.
pub fn count_raw(max: &[u8; REGISTERS]) -> u64 {
    estimate(&histogram_raw(max))
}

/// A dense HLL's register `i` (PFDEBUG GETREG).
pub fn dense_register(s: &[u8], i: usize) -> u8 {
    dense_get(&s[HDR..], i)
}

/// PFDEBUG DECODE's text of a sparse HLL: `z:N`, `Z:N`, `v:V,N` separated by spaces.
pub fn decode(s: &[u8]) -> Result<String, Corrupt> {
    use std::fmt::Write;
    let mut out = String::new();
    let mut p = HDR;
    while p < s.len() {
        let op = op_at(s, p).ok_or(Corrupt)?;
        let _ = match op {
            Op::Zero(n) => write!(out, "z:{n} "),
            Op::XZero(n) => write!(out, "Z:{n} "),
            Op::Val(v, n) => write!(out, "v:{v},{n} "),
        };
        p += op.bytes();
    }
    Ok(out.trim_end_matches(' ').to_string())
}

/// PFSELFTEST's checks of the register packing and of the estimator's error; the error
/// message when one fails.
pub fn self_test() -> Result<(), String> {
    // Dense registers: every register set and read back through the 6-bit packing.
    let mut regs = vec![0u8; DENSE_SIZE - HDR];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let want: Vec<u8> = (0..REGISTERS).map(|_| (next() & 63) as u8).collect();
    for (i, &v) in want.iter().enumerate() {
        dense_set(&mut regs, i, v);
    }
    for (i, &v) in want.iter().enumerate() {
        if dense_get(&regs, i) != v {
            return Err(format!("TESTFAILED Register error at register {i}"));
        }
    }
    // The estimate stays within 5 standard errors (1.04/sqrt(m)) while adding, and the
    // sparse form (promoted at Redis's default 3000 bytes) agrees with the dense one.
    let mut sparse = new_empty();
    let mut dense = new_empty();
    to_dense(&mut dense).map_err(|_| "TESTFAILED dense conversion".to_string())?;
    let rel = 5.0 * 1.04 / (REGISTERS as f64).sqrt();
    for j in 1..=100_000u64 {
        let ele = next().to_le_bytes();
        add(&mut sparse, &ele, 3000).map_err(|_| "TESTFAILED sparse add".to_string())?;
        add(&mut dense, &ele, 3000).map_err(|_| "TESTFAILED dense add".to_string())?;
        if j % 1000 == 0 || j < 100 {
            let (a, b) = (count(&sparse), count(&dense));
            if a != b {
                return Err(format!("TESTFAILED sparse and dense disagree at {j}"));
            }
            let est = a.unwrap_or(0) as f64;
            if (est - j as f64).abs() > rel * j as f64 + 2.0 {
                return Err(format!(
                    "TESTFAILED Too big error. card:{j} abserr:{}",
                    (est - j as f64).abs()
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_hll_is_redis_bytes() {
        // The hashing and every encoding are checked byte for byte against the real server
        // by tests/scripts/hll.txt; here the empty value and the pattern's range.
        assert_eq!(new_empty(), b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0\x7f\xff");
        let (i, c) = pat_len(b"a");
        assert!(i < REGISTERS && (1..=51).contains(&c));
    }

    #[test]
    fn dense_packing_round_trips() {
        assert_eq!(DENSE_SIZE, 12304);
        let mut regs = vec![0u8; DENSE_SIZE - HDR];
        for i in 0..REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8, "register {i}");
        }
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut s = new_empty();
        let mut d = new_empty();
        to_dense(&mut d).unwrap();
        for i in 0..3000u32 {
            let e = i.to_string();
            assert_eq!(
                add(&mut s, e.as_bytes(), usize::MAX).unwrap(),
                add(&mut d, e.as_bytes(), usize::MAX).unwrap()
            );
        }
        assert!(is_sparse(&s));
        assert_eq!(count(&s), count(&d));
        let mut s2 = s.clone();
        to_dense(&mut s2).unwrap();
        assert_eq!(s2[HDR..], d[HDR..]);
    }

    #[test]
    fn corrupt_sparse_is_reported() {
        let mut s = new_empty();
        s.truncate(HDR + 1); // an XZERO cut in half
        assert_eq!(count(&s), Err(Corrupt));
        assert_eq!(add(&mut s, b"x", 3000), Err(Corrupt));
        let mut short = new_empty();
        short[HDR] = 0x40; // XZERO of 1 register: 16383 missing
        short[HDR + 1] = 0;
        assert_eq!(count(&short), Err(Corrupt));
        assert_eq!(to_dense(&mut short), Err(Corrupt));
    }

    #[test]
    fn self_test_passes() {
        self_test().unwrap();
    }
}
