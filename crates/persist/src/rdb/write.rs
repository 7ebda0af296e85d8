//! The RDB writer: keys and values in the encodings Redis 7.0.15 writes (`rdbSaveObject`,
//! `rdbSaveKeyValuePair`, `rdbSaveRio`), into an in-memory buffer the caller drains to a file
//! or a DUMP reply.
//!
//! Values map one to one onto RDB v10 types because the engine keeps Redis's byte layouts:
//! a listpack hash or zset is its blob (`HASH_LISTPACK`, `ZSET_LISTPACK`), an intset set its
//! blob (`SET_INTSET`), a list its quicklist nodes (`LIST_QUICKLIST_2`); hashtables become
//! `SET` / `HASH` and skiplists `ZSET_2` with binary doubles, written from the greatest
//! element down as Redis does (so a loader inserts each at the skiplist's head).
//!
//! Large aggregates can be written in bounded steps ([`Encoder::value_step`]): the snapshot
//! calls it across loop turns so one big value never stalls the loop. Between steps the value
//! must not change (the snapshot finishes a half-written value before a write touches it).

use engine::db::Entry;
use engine::dict::Dict;
use engine::object::{HashValue, ListValue, SetValue, Str, Value, ZSetValue};
use engine::types::quicklist::NodeRef;
use engine::types::stream::{Stream, StreamId};

use super::codec::{self, Lzf, op, put_len, ty};

/// How a file is written: Redis's `rdbcompression` and `rdbchecksum` directives.
#[derive(Clone, Copy, Debug)]
pub struct SaveOptions {
    pub compression: bool,
    pub checksum: bool,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            compression: true,
            checksum: true,
        }
    }
}

/// Where a value written in steps stopped (see [`Encoder::value_step`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resume {
    /// Next quicklist node.
    List(usize),
    /// Next hashtable SCAN cursor (sets and hashes).
    Table(u64),
    /// Elements of a skiplist already written, counting from the greatest.
    ZSet(usize),
    /// Master ID of the next stream node to write.
    Stream(StreamId),
}

/// An RDB byte stream under construction. Owns the output buffer and the LZF state; the
/// CRC is computed by the caller over what it drains (see [`Checksum`]).
pub struct Encoder {
    pub out: Vec<u8>,
    opts: SaveOptions,
    lzf: Lzf,
}

impl Encoder {
    pub fn new(opts: SaveOptions) -> Encoder {
        Encoder {
            out: Vec::new(),
            opts,
            lzf: Lzf::new(),
        }
    }

    pub fn options(&self) -> SaveOptions {
        self.opts
    }

    /// `REDIS0010`.
    pub fn header(&mut self) {
        self.out.extend_from_slice(b"REDIS");
        self.out
            .extend_from_slice(format!("{:04}", codec::RDB_VERSION).as_bytes());
    }

    /// An AUX field (`rdbSaveAuxField`).
    pub fn aux(&mut self, key: &[u8], value: &[u8]) {
        self.out.push(op::AUX);
        self.string(key);
        self.string(value);
    }

    /// An AUX field with an integer value (`rdbSaveAuxFieldStrInt`: written as a string, which
    /// the string writer then stores in its integer encoding when it fits).
    pub fn aux_int(&mut self, key: &[u8], value: i64) {
        let mut buf = [0u8; 20];
        let s = resp::num::fmt_i64(value, &mut buf);
        let s = s.to_vec();
        self.aux(key, &s);
    }

    /// The AUX fields Redis 7.0 writes first (`rdbSaveInfoAuxFields`), without replication
    /// info (a master without a backlog writes none).
    /// Function libraries (`rdbSaveFunctions`): a `FUNCTION2` opcode and the code of each,
    /// after the aux fields, before the databases.
    pub fn functions(&mut self, libs: &[Vec<u8>]) {
        for code in libs {
            self.out.push(codec::op::FUNCTION2);
            self.string(code);
        }
    }

    /// `repl`: the replication fields (`repl-stream-db`, `repl-id`, `repl-offset`), written
    /// where Redis writes them, before `aof-base`.
    pub fn info_aux(
        &mut self,
        ctime_secs: i64,
        used_mem: u64,
        aof_base: bool,
        repl: &[(&[u8], Vec<u8>)],
    ) {
        self.aux(b"redis-ver", crate::REDIS_VERSION.as_bytes());
        self.aux_int(b"redis-bits", 64);
        self.aux_int(b"ctime", ctime_secs);
        self.aux_int(b"used-mem", used_mem as i64);
        for (k, v) in repl {
            self.aux(k, v);
        }
        self.aux_int(b"aof-base", i64::from(aof_base));
    }

    /// `SELECTDB` then `RESIZEDB` with the db's sizes, before its keys.
    pub fn select_db(&mut self, db: usize, size: u64, expires: u64) {
        self.out.push(op::SELECTDB);
        put_len(&mut self.out, db as u64);
        self.out.push(op::RESIZEDB);
        put_len(&mut self.out, size);
        put_len(&mut self.out, expires);
    }

    /// `EOF`; the caller appends the checksum ([`Checksum::finish`]).
    pub fn eof(&mut self) {
        self.out.push(op::EOF);
    }

    /// A key's expiry and type, then the key; the value follows with [`Encoder::value`] or
    /// [`Encoder::value_step`] (`rdbSaveKeyValuePair`, without IDLE/FREQ: those are written
    /// only under an LRU/LFU `maxmemory-policy`, which ringkv does not have yet).
    pub fn key_header(&mut self, key: &[u8], entry: &Entry) {
        if let Some(at) = entry.expire_at() {
            self.out.push(op::EXPIRETIME_MS);
            self.out.extend_from_slice(&at.to_le_bytes());
        }
        self.out.push(value_type(&entry.value));
        self.string(key);
    }

    /// A whole key-value pair.
    pub fn entry(&mut self, key: &[u8], entry: &Entry) {
        self.key_header(key, entry);
        self.value(&entry.value);
    }

    /// A string (`rdbSaveRawString`): as an integer encoding when it is the canonical form of
    /// a number of at most 32 bits, LZF-compressed when longer than 20 bytes and compression
    /// saves at least 4 bytes, else length and bytes.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11
            && let Some(v) = resp::num::parse_i64(s)
            && self.try_int(v)
        {
            return;
        }
        if self.opts.compression && s.len() > 20 {
            let start = self.out.len();
            // Room for the header written after compressing: opcode + two lengths.
            self.out.extend_from_slice(&[0u8; 19]);
            if let Some(n) = self.lzf.compress(s, &mut self.out, s.len() - 4) {
                let mut hdr = Vec::with_capacity(19);
                hdr.push((codec::LEN_ENCVAL << 6) | codec::ENC_LZF);
                put_len(&mut hdr, n as u64);
                put_len(&mut hdr, s.len() as u64);
                let data_at = start + 19;
                self.out.splice(start..data_at, hdr);
                return;
            }
            self.out.truncate(start);
        }
        put_len(&mut self.out, s.len() as u64);
        self.out.extend_from_slice(s);
    }

    /// An integer string value (`rdbSaveLongLongAsStringObject`).
    fn int_string(&mut self, v: i64) {
        if !self.try_int(v) {
            let mut buf = [0u8; 20];
            let s = resp::num::fmt_i64(v, &mut buf);
            put_len(&mut self.out, s.len() as u64);
            self.out.extend_from_slice(s);
        }
    }

    /// `rdbEncodeInteger`: INT8/16/32 forms.
    fn try_int(&mut self, v: i64) -> bool {
        let enc = |e: u8| (codec::LEN_ENCVAL << 6) | e;
        if (-(1 << 7)..1 << 7).contains(&v) {
            self.out.extend_from_slice(&[enc(codec::ENC_INT8), v as u8]);
        } else if (-(1 << 15)..1 << 15).contains(&v) {
            self.out.push(enc(codec::ENC_INT16));
            self.out.extend_from_slice(&(v as i16).to_le_bytes());
        } else if (-(1 << 31)..1 << 31).contains(&v) {
            self.out.push(enc(codec::ENC_INT32));
            self.out.extend_from_slice(&(v as i32).to_le_bytes());
        } else {
            return false;
        }
        true
    }

    /// A whole value (without its type byte: see [`value_type`]).
    pub fn value(&mut self, v: &Value) {
        let mut at = None;
        while !self.value_step(v, &mut at, usize::MAX) {}
    }

    /// Writes (more of) a value, stopping once about `budget` bytes were added; `at` is
    /// `None` for a value not started yet and keeps the position between calls. Returns true
    /// when the value is complete. Strings and blobs are written in one step.
    pub fn value_step(&mut self, v: &Value, at: &mut Option<Resume>, budget: usize) -> bool {
        let stop = self.out.len().saturating_add(budget);
        match v {
            Value::Str(Str::Int(i)) => self.int_string(*i),
            Value::Str(s) => {
                let mut scratch = [0u8; 20];
                let b = s.as_bytes(&mut scratch);
                self.string(b);
            }
            Value::List(l) => return self.list_step(l, at, stop),
            Value::Set(SetValue::IntSet(is)) => self.string(is.as_bytes()),
            Value::Set(SetValue::Hash(d)) => {
                return self.table_step(d, at, stop, &mut |e, k, _| e.string(k));
            }
            Value::Hash(HashValue::Listpack(lp)) => self.string(lp.bytes()),
            Value::Hash(HashValue::Table(d)) => {
                return self.table_step(d, at, stop, &mut |e, k, v| {
                    e.string(k);
                    e.string(v.as_bytes());
                });
            }
            Value::ZSet(ZSetValue::Listpack(lp)) => self.string(lp.bytes()),
            Value::ZSet(z @ ZSetValue::SkipList(_)) => return self.zset_step(z, at, stop),
            Value::Stream(st) => return self.stream_step(st, at, stop),
        }
        true
    }

    /// `RDB_TYPE_STREAM_LISTPACKS_2` as Redis 7.0 writes it: the nodes (16-byte big-endian
    /// master ID, then the listpack), length, last/first/max-deleted IDs, entries added,
    /// then the groups with their PELs and consumers. Stepped by node; the metadata and the
    /// groups follow the last node in one step.
    fn stream_step(&mut self, st: &Stream, at: &mut Option<Resume>, stop: usize) -> bool {
        use std::ops::Bound;
        let from = match *at {
            Some(Resume::Stream(id)) => Bound::Included(id),
            _ => {
                put_len(&mut self.out, st.nodes.len() as u64);
                Bound::Unbounded
            }
        };
        for (master, lp) in st.nodes.range((from, Bound::Unbounded)) {
            if self.out.len() >= stop {
                *at = Some(Resume::Stream(*master));
                return false;
            }
            self.string(&master.to_be_bytes());
            self.string(lp.bytes());
        }
        let out = &mut self.out;
        put_len(out, st.length);
        for id in [st.last_id, st.first_id, st.max_deleted_entry_id] {
            put_len(out, id.ms);
            put_len(out, id.seq);
        }
        put_len(out, st.entries_added);
        let Some(groups) = &st.groups else {
            put_len(out, 0);
            return true;
        };
        put_len(out, groups.len() as u64);
        for (name, g) in groups.iter() {
            self.string(name);
            let out = &mut self.out;
            put_len(out, g.last_id.ms);
            put_len(out, g.last_id.seq);
            // Redis writes the signed counter through rdbSaveLen: -1 becomes 2^64-1.
            put_len(out, g.entries_read as u64);
            put_len(out, g.pel.len() as u64);
            for (id, pe) in &g.pel {
                out.extend_from_slice(&id.to_be_bytes());
                out.extend_from_slice(&pe.delivery_time.to_le_bytes());
                put_len(out, pe.delivery_count);
            }
            put_len(out, g.consumers.len() as u64);
            for (cname, c) in &g.consumers {
                self.string(cname);
                let out = &mut self.out;
                out.extend_from_slice(&c.seen_time.to_le_bytes());
                put_len(out, c.pel.len() as u64);
                for id in &c.pel {
                    out.extend_from_slice(&id.to_be_bytes());
                }
            }
        }
        true
    }

    fn list_step(&mut self, l: &ListValue, at: &mut Option<Resume>, stop: usize) -> bool {
        let ql = l.ql();
        let first = match *at {
            Some(Resume::List(n)) => n,
            _ => {
                put_len(&mut self.out, ql.node_count() as u64);
                0
            }
        };
        for (next, node) in ql.nodes().enumerate().skip(first) {
            if self.out.len() >= stop {
                *at = Some(Resume::List(next));
                return false;
            }
            match node {
                NodeRef::Packed(lp) => {
                    put_len(&mut self.out, codec::QUICKLIST_PACKED);
                    self.string(lp.bytes());
                }
                NodeRef::Plain(b) => {
                    put_len(&mut self.out, codec::QUICKLIST_PLAIN);
                    self.string(b);
                }
            }
        }
        true
    }

    fn table_step<V>(
        &mut self,
        d: &Dict<V>,
        at: &mut Option<Resume>,
        stop: usize,
        put: &mut dyn FnMut(&mut Encoder, &[u8], &V),
    ) -> bool {
        let mut cursor = match *at {
            Some(Resume::Table(c)) => c,
            _ => {
                put_len(&mut self.out, d.len() as u64);
                0
            }
        };
        // The dict does not change between steps (see the module doc), so SCAN visits each
        // element exactly once.
        loop {
            cursor = d.scan(cursor, &mut |k, v| put(self, k, v));
            if cursor == 0 {
                return true;
            }
            if self.out.len() >= stop {
                *at = Some(Resume::Table(cursor));
                return false;
            }
        }
    }

    fn zset_step(&mut self, z: &ZSetValue, at: &mut Option<Resume>, stop: usize) -> bool {
        let len = z.len();
        let mut done = match *at {
            Some(Resume::ZSet(n)) => n,
            _ => {
                put_len(&mut self.out, len as u64);
                0
            }
        };
        if done < len {
            // From the greatest element down: rank len-1-done, walking down.
            z.for_ranks(len - 1 - done, len - done, true, &mut |m, s| {
                self.string(m);
                self.out.extend_from_slice(&s.to_le_bytes());
                done += 1;
                self.out.len() < stop
            });
        }
        if done < len {
            *at = Some(Resume::ZSet(done));
            return false;
        }
        true
    }
}

/// The RDB type a value is written as.
pub fn value_type(v: &Value) -> u8 {
    match v {
        Value::Str(_) => ty::STRING,
        Value::List(_) => ty::LIST_QUICKLIST_2,
        Value::Set(SetValue::IntSet(_)) => ty::SET_INTSET,
        Value::Set(SetValue::Hash(_)) => ty::SET,
        Value::Hash(HashValue::Listpack(_)) => ty::HASH_LISTPACK,
        Value::Hash(HashValue::Table(_)) => ty::HASH,
        Value::ZSet(ZSetValue::Listpack(_)) => ty::ZSET_LISTPACK,
        Value::ZSet(ZSetValue::SkipList(_)) => ty::ZSET_2,
        Value::Stream(_) => ty::STREAM_LISTPACKS_2,
    }
}

/// The running CRC-64 of a file written in pieces. With `rdbchecksum no` Redis writes a zero
/// checksum (which loaders take as "not checked"), and so do we.
#[derive(Clone, Copy, Debug)]
pub struct Checksum {
    crc: u64,
    enabled: bool,
}

impl Checksum {
    pub fn new(enabled: bool) -> Checksum {
        Checksum { crc: 0, enabled }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        if self.enabled {
            self.crc = codec::crc64(self.crc, bytes);
        }
    }

    /// The 8-byte footer, after `bytes` (the rest of the file up to and including EOF).
    pub fn finish(mut self, bytes: &[u8]) -> [u8; 8] {
        self.update(bytes);
        self.crc.to_le_bytes()
    }
}

/// An image without keys: the aux fields and the function libraries, then EOF and the
/// checksum (a full sync for `REPLCONF rdb-filter-only`, whose data Redis leaves out).
pub fn write_without_data(
    functions: &[Vec<u8>],
    opts: SaveOptions,
    info: ImageInfo<'_>,
) -> Vec<u8> {
    let mut e = Encoder::new(opts);
    e.header();
    e.info_aux(info.ctime_secs, info.used_mem, info.aof_base, info.repl);
    e.functions(functions);
    e.eof();
    let crc = Checksum::new(opts.checksum).finish(&e.out);
    e.out.extend_from_slice(&crc);
    e.out
}

/// DUMP's payload (`createDumpPayload`): type, value, RDB version (2 bytes LE), CRC-64 of all
/// of it (8 bytes LE). The checksum is always computed, whatever `rdbchecksum` says.
pub fn dump_payload(v: &Value, compression: bool) -> Vec<u8> {
    let mut e = Encoder::new(SaveOptions {
        compression,
        checksum: true,
    });
    e.out.push(value_type(v));
    e.value(v);
    e.out.extend_from_slice(&codec::RDB_VERSION.to_le_bytes());
    let crc = codec::crc64(0, &e.out);
    e.out.extend_from_slice(&crc.to_le_bytes());
    e.out
}

/// A whole RDB image of the engine's dbs, in memory (DEBUG-style uses, tests).
pub fn write_all(
    engine: &engine::Engine,
    functions: &[Vec<u8>],
    opts: SaveOptions,
    ctime_secs: i64,
    used_mem: u64,
    aof_base: bool,
) -> Vec<u8> {
    let mut out = Vec::new();
    let info = ImageInfo {
        ctime_secs,
        used_mem,
        aof_base,
        repl: &[],
    };
    write_to(engine, functions, opts, info, &mut out).expect("writing to a Vec cannot fail");
    out
}

/// What an image's AUX fields say beyond the version: its time, the memory in use, whether
/// it is an AOF's base, and the replication fields (Redis's `rdbSaveInfo`) if any.
#[derive(Clone, Copy, Debug)]
pub struct ImageInfo<'a> {
    pub ctime_secs: i64,
    pub used_mem: u64,
    pub aof_base: bool,
    pub repl: &'a [(&'a [u8], Vec<u8>)],
}

/// Streams a whole RDB image of the engine's dbs into `w` (SAVE, a synchronous AOF base),
/// in chunks of about [`CHUNK`] bytes: the image is never whole in memory. The background
/// snapshot writes the same bytes in steps.
pub fn write_to(
    engine: &engine::Engine,
    functions: &[Vec<u8>],
    opts: SaveOptions,
    info: ImageInfo<'_>,
    w: &mut impl std::io::Write,
) -> std::io::Result<()> {
    let mut e = Encoder::new(opts);
    e.out.reserve(CHUNK + CHUNK / 4);
    let mut crc = Checksum::new(opts.checksum);
    let mut drain = |e: &mut Encoder, w: &mut dyn std::io::Write| -> std::io::Result<()> {
        crc.update(&e.out);
        w.write_all(&e.out)?;
        e.out.clear();
        Ok(())
    };
    e.header();
    e.info_aux(info.ctime_secs, info.used_mem, info.aof_base, info.repl);
    e.functions(functions);
    for db in &engine.dbs {
        if db.is_empty() {
            continue;
        }
        e.select_db(db.id, db.len() as u64, db.expires_len() as u64);
        let mut err = None;
        db.for_each(&mut |k, entry| {
            if err.is_some() {
                return;
            }
            e.entry(k, entry);
            if e.out.len() >= CHUNK {
                err = drain(&mut e, w).err();
            }
        });
        if let Some(err) = err {
            return Err(err);
        }
    }
    e.eof();
    drain(&mut e, w)?;
    w.write_all(&crc.finish(&[]))
}

/// Bytes [`write_to`] buffers before writing them out.
pub const CHUNK: usize = 1 << 20;
