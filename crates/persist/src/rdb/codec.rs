//! The building blocks every RDB reader and writer shares: Redis 7.0.15's type and opcode
//! numbers (`rdb.h`), the length encoding, CRC-64 (Jones, as `crc64.c`) and LZF (liblzf 3.6
//! as Redis builds it: `HLOG 16`, `VERY_FAST`).

/// The RDB version Redis 7.0 writes (`RDB_VERSION`). Files and DUMP payloads of a higher
/// version are refused; lower ones are read.
pub const RDB_VERSION: u16 = 10;

/// Value types (`RDB_TYPE_*`).
pub mod ty {
    pub const STRING: u8 = 0;
    pub const LIST: u8 = 1;
    pub const SET: u8 = 2;
    pub const ZSET: u8 = 3;
    pub const HASH: u8 = 4;
    pub const ZSET_2: u8 = 5;
    pub const MODULE: u8 = 6;
    pub const MODULE_2: u8 = 7;
    pub const HASH_ZIPMAP: u8 = 9;
    pub const LIST_ZIPLIST: u8 = 10;
    pub const SET_INTSET: u8 = 11;
    pub const ZSET_ZIPLIST: u8 = 12;
    pub const HASH_ZIPLIST: u8 = 13;
    pub const LIST_QUICKLIST: u8 = 14;
    pub const STREAM_LISTPACKS: u8 = 15;
    pub const HASH_LISTPACK: u8 = 16;
    pub const ZSET_LISTPACK: u8 = 17;
    pub const LIST_QUICKLIST_2: u8 = 18;
    pub const STREAM_LISTPACKS_2: u8 = 19;
}

/// Special opcodes in the key stream (`RDB_OPCODE_*`).
pub mod op {
    pub const FUNCTION2: u8 = 245;
    /// Written only by 7.0 release candidates; 7.0 refuses it, and so do we.
    pub const FUNCTION_PRE_GA: u8 = 246;
    pub const MODULE_AUX: u8 = 247;
    pub const IDLE: u8 = 248;
    pub const FREQ: u8 = 249;
    pub const AUX: u8 = 250;
    pub const RESIZEDB: u8 = 251;
    pub const EXPIRETIME_MS: u8 = 252;
    pub const EXPIRETIME: u8 = 253;
    pub const SELECTDB: u8 = 254;
    pub const EOF: u8 = 255;
}

/// Length encodings: the two top bits of the first byte (`RDB_6BITLEN` …), and the
/// full-byte forms of the 32/64-bit lengths.
pub const LEN_6BIT: u8 = 0;
pub const LEN_14BIT: u8 = 1;
pub const LEN_ENCVAL: u8 = 3;
pub const LEN_32BIT: u8 = 0x80;
pub const LEN_64BIT: u8 = 0x81;

/// Special string encodings, after a `LEN_ENCVAL` prefix (`RDB_ENC_*`).
pub const ENC_INT8: u8 = 0;
pub const ENC_INT16: u8 = 1;
pub const ENC_INT32: u8 = 2;
pub const ENC_LZF: u8 = 3;

/// Quicklist 2 node containers (`QUICKLIST_NODE_CONTAINER_*`).
pub const QUICKLIST_PLAIN: u64 = 1;
pub const QUICKLIST_PACKED: u64 = 2;

/// Module value opcodes, needed to skip module data we cannot load.
pub const MODULE_OPCODE_EOF: u64 = 0;

/// Appends `len` in RDB's length encoding (`rdbSaveLen`).
pub fn put_len(out: &mut Vec<u8>, len: u64) {
    if len < 1 << 6 {
        out.push(len as u8);
    } else if len < 1 << 14 {
        out.push(((len >> 8) as u8) | (LEN_14BIT << 6));
        out.push(len as u8);
    } else if len <= u32::MAX as u64 {
        out.push(LEN_32BIT);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    } else {
        out.push(LEN_64BIT);
        out.extend_from_slice(&len.to_be_bytes());
    }
}

/// CRC-64/Jones with Redis's reflection, the checksum of RDB files and DUMP payloads.
const CRC: crc::Crc<u64, crc::Table<16>> = crc::Crc::<u64, crc::Table<16>>::new(&crc::CRC_64_REDIS);

/// Continues a CRC-64 over `data` (`crc64(crc, data, len)`); start from 0.
pub fn crc64(crc: u64, data: &[u8]) -> u64 {
    // No final xor and a zero init: a running value resumes by seeding a digest with it
    // (the crate reflects the seed of a reflected algorithm, so it is passed reflected).
    let mut d = CRC.digest_with_initial(crc.reverse_bits());
    d.update(data);
    d.finalize()
}

const HLOG: usize = 16;
const HSIZE: usize = 1 << HLOG;
const MAX_LIT: usize = 1 << 5;
const MAX_OFF: usize = 1 << 13;
const MAX_REF: usize = (1 << 8) + (1 << 3);

/// An LZF compressor that keeps its hash table between calls. The table is stamped with a
/// generation rather than zeroed, so compressing a 30-byte string costs 30 bytes of work, not
/// a 256 KiB memset (liblzf leaves it uninitialised; a stale slot can only cost a match).
/// Small inputs hash into a small corner of it (`HLOG` 10 for up to 1 KiB, growing with the
/// input to liblzf's 16), which stays in L1 for the short strings that dominate a snapshot;
/// the output is valid LZF either way (Redis's own differs run to run, from its
/// uninitialised table).
pub struct Lzf {
    /// (generation, position + 1) per hash slot.
    htab: Vec<(u32, u32)>,
    stamp: u32,
}

impl Default for Lzf {
    fn default() -> Self {
        Lzf::new()
    }
}

impl Lzf {
    pub fn new() -> Lzf {
        Lzf {
            htab: Vec::new(),
            stamp: 0,
        }
    }

    /// Compresses `input` into `out` (appended) as liblzf's `lzf_compress` with an output
    /// limit of `max_out` bytes; `None` (and `out` unchanged) when it does not fit, which is
    /// how Redis decides to store a string uncompressed. Inputs of 4 GiB or more are refused.
    pub fn compress(&mut self, input: &[u8], out: &mut Vec<u8>, max_out: usize) -> Option<usize> {
        let in_len = input.len();
        if in_len == 0 || max_out == 0 || in_len >= u32::MAX as usize {
            return None;
        }
        if self.htab.is_empty() {
            self.htab = vec![(0, 0); HSIZE];
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.htab.fill((0, 0));
            self.stamp = 1;
        }
        let stamp = self.stamp;
        let base = out.len();
        out.resize(base + max_out, 0);
        let o = &mut out[base..];
        let r = compress_into(input, o, &mut self.htab, stamp);
        match r {
            Some(n) => {
                out.truncate(base + n);
                Some(n)
            }
            None => {
                out.truncate(base);
                None
            }
        }
    }
}

fn compress_into(
    input: &[u8],
    out: &mut [u8],
    htab: &mut [(u32, u32)],
    stamp: u32,
) -> Option<usize> {
    let in_len = input.len();
    let hlog = (usize::BITS - in_len.leading_zeros()).clamp(10, HLOG as u32);
    let mask = (1usize << hlog) - 1;
    let idx = |h: u32| ((h >> (3 * 8 - hlog)).wrapping_sub(h.wrapping_mul(5)) as usize) & mask;
    let out_end = out.len();
    let mut ip = 0usize;
    let mut op = 1usize; // start run
    let mut lit = 0usize;
    let at = |i: usize| input[i] as u32;
    let mut hval = if in_len >= 2 { (at(0) << 8) | at(1) } else { 0 };
    while in_len >= 3 && ip < in_len - 2 {
        hval = (hval << 8) | at(ip + 2);
        let slot = &mut htab[idx(hval)];
        let reference = if slot.0 == stamp {
            Some(slot.1 as usize - 1)
        } else {
            None
        };
        *slot = (stamp, ip as u32 + 1);
        let matched = reference.and_then(|r| {
            let off = ip - r - 1;
            (r < ip
                && off < MAX_OFF
                && r > 0
                && input[r + 2] == input[ip + 2]
                && input[r] == input[ip]
                && input[r + 1] == input[ip + 1])
                .then_some((r, off))
        });
        if let Some((r, off)) = matched {
            let mut len = 2usize;
            let maxlen = (in_len - ip - len).min(MAX_REF);
            if op + 3 + 1 >= out_end && op - usize::from(lit == 0) + 3 + 1 >= out_end {
                return None;
            }
            out[op - lit - 1] = (lit as u8).wrapping_sub(1);
            op -= usize::from(lit == 0);
            loop {
                len += 1;
                if len >= maxlen || input[r + len] != input[ip + len] {
                    break;
                }
            }
            let len = len - 2;
            ip += 1;
            if len < 7 {
                out[op] = ((off >> 8) + (len << 5)) as u8;
                op += 1;
            } else {
                out[op] = ((off >> 8) + (7 << 5)) as u8;
                out[op + 1] = (len - 7) as u8;
                op += 2;
            }
            out[op] = off as u8;
            op += 1;
            lit = 0;
            op += 1; // start run
            ip += len + 1;
            if ip >= in_len - 2 {
                break;
            }
            // VERY_FAST: re-hash the two positions just before the new `ip`.
            ip -= 2;
            hval = (at(ip) << 8) | at(ip + 1);
            hval = (hval << 8) | at(ip + 2);
            htab[idx(hval)] = (stamp, ip as u32 + 1);
            ip += 1;
            hval = (hval << 8) | at(ip + 2);
            htab[idx(hval)] = (stamp, ip as u32 + 1);
            ip += 1;
        } else {
            if op >= out_end {
                return None;
            }
            lit += 1;
            out[op] = input[ip];
            op += 1;
            ip += 1;
            if lit == MAX_LIT {
                out[op - lit - 1] = (lit - 1) as u8;
                lit = 0;
                op += 1;
            }
        }
    }
    if op + 3 > out_end {
        return None;
    }
    while ip < in_len {
        lit += 1;
        out[op] = input[ip];
        op += 1;
        ip += 1;
        if lit == MAX_LIT {
            out[op - lit - 1] = (lit - 1) as u8;
            lit = 0;
            op += 1;
        }
    }
    out[op - lit - 1] = (lit as u8).wrapping_sub(1);
    op -= usize::from(lit == 0);
    Some(op)
}

/// Why LZF data could not be decompressed.
#[derive(Debug, PartialEq, Eq)]
pub struct LzfError;

/// Decompresses LZF data that must expand to exactly `expected` bytes (Redis refuses a
/// string whose decompressed length differs from the length it stored).
pub fn lzf_decompress(input: &[u8], expected: usize) -> Result<Vec<u8>, LzfError> {
    // LZF expands at most 264 bytes per 3 input bytes: a claimed length no input of this
    // size could produce is refused before anything is allocated for it.
    if expected > input.len().saturating_mul(88).saturating_add(64) {
        return Err(LzfError);
    }
    let mut out = Vec::with_capacity(expected);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 1 << 5 {
            let n = ctrl + 1;
            if out.len() + n > expected || ip + n > input.len() {
                return Err(LzfError);
            }
            out.extend_from_slice(&input[ip..ip + n]);
            ip += n;
        } else {
            let mut len = ctrl >> 5;
            let mut back = (ctrl & 0x1f) << 8;
            if ip >= input.len() {
                return Err(LzfError);
            }
            if len == 7 {
                len += input[ip] as usize;
                ip += 1;
                if ip >= input.len() {
                    return Err(LzfError);
                }
            }
            back += input[ip] as usize;
            ip += 1;
            let n = len + 2;
            if out.len() + n > expected || back + 1 > out.len() {
                return Err(LzfError);
            }
            let start = out.len() - back - 1;
            for i in 0..n {
                let b = out[start + i];
                out.push(b);
            }
        }
    }
    if out.len() != expected {
        return Err(LzfError);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc64_matches_redis_test_vector() {
        // crc64.c's self-test: "123456789" → 0xe9c6d914c4b8d9ca.
        assert_eq!(crc64(0, b"123456789"), 0xe9c6d914c4b8d9ca);
        // Resumable: the running value continues across calls.
        assert_eq!(crc64(crc64(0, b"1234"), b"56789"), 0xe9c6d914c4b8d9ca);
    }

    #[test]
    fn lengths_use_the_shortest_form() {
        let enc = |n| {
            let mut v = Vec::new();
            put_len(&mut v, n);
            v
        };
        assert_eq!(enc(10), [10]);
        assert_eq!(enc(300), [0x41, 0x2c]);
        assert_eq!(enc(70000), [0x80, 0, 1, 0x11, 0x70]);
        assert_eq!(enc(1 << 33), [0x81, 0, 0, 0, 2, 0, 0, 0, 0]);
    }

    #[test]
    fn lzf_compresses_repetition_and_refuses_to_grow() {
        let mut z = Lzf::new();
        let input = b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let mut out = Vec::new();
        let n = z.compress(input, &mut out, input.len() - 4).unwrap();
        assert!(n < 10, "{n}");
        assert_eq!(lzf_decompress(&out, input.len()).unwrap(), input);
        // Random-looking data does not fit in len - 4: refused, nothing appended.
        let noise: Vec<u8> = (0..64u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        let mut out = vec![7];
        assert_eq!(z.compress(&noise, &mut out, noise.len() - 4), None);
        assert_eq!(out, [7]);
    }

    #[test]
    fn lzf_decompress_rejects_bad_input() {
        assert_eq!(lzf_decompress(&[5, b'a'], 6), Err(LzfError));
        assert_eq!(lzf_decompress(&[0, b'a', 0x20, 5], 4), Err(LzfError)); // back past start
        assert_eq!(lzf_decompress(&[0, b'a'], 2), Err(LzfError)); // wrong length
        // A claimed length no input could produce: refused, nothing allocated.
        assert_eq!(lzf_decompress(&[0, b'a'], usize::MAX), Err(LzfError));
        assert_eq!(lzf_decompress(&[0, b'a'], 1 << 40), Err(LzfError));
    }

    proptest! {
        #[test]
        fn lzf_round_trips_and_agrees_with_liblzf_port(
            data in proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..3000)
        ) {
            let mut z = Lzf::new();
            let mut out = Vec::new();
            if let Some(n) = z.compress(&data, &mut out, data.len() + data.len() / 16 + 64) {
                prop_assert_eq!(n, out.len());
                prop_assert_eq!(&lzf_decompress(&out, data.len()).unwrap(), &data);
                // The lzf crate (a port of liblzf's decoder) reads what we write.
                prop_assert_eq!(&lzf::decompress(&out, data.len()).unwrap(), &data);
            }
            // And we read what the crate writes.
            if let Ok(c) = lzf::compress(&data) {
                prop_assert_eq!(&lzf_decompress(&c, data.len()).unwrap(), &data);
            }
        }
    }
}
