//! The AOF manifest (`<appendfilename>.manifest` in `appenddirname`): which files make up
//! the AOF and in which order, as Redis 7.0's `aof.c` reads and writes it.
//!
//! One line per file: `file <name> seq <n> type <b|h|i>`. The base (at most one) comes first,
//! then history files, then the incremental files in increasing `seq`. A name that needs
//! quoting (spaces, quotes, non-printable bytes) is written as `sdscatrepr` does and read
//! back with `sdssplitargs` rules. Lines starting with `#` are comments; extra key/value
//! pairs are ignored (Redis's forward compatibility).

use std::fmt;

/// Redis's MANIFEST_MAX_LINE.
pub const MAX_LINE: usize = 1024;

/// What a file is to the AOF.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `b`: the snapshot the incrementals apply to (RDB or commands).
    Base,
    /// `h`: replaced by a rewrite, to be deleted.
    History,
    /// `i`: commands since the base.
    Incr,
}

impl FileKind {
    fn letter(self) -> char {
        match self {
            FileKind::Base => 'b',
            FileKind::History => 'h',
            FileKind::Incr => 'i',
        }
    }
}

/// One line of the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AofFile {
    pub name: Vec<u8>,
    pub seq: i64,
    pub kind: FileKind,
}

/// The whole manifest (Redis's `aofManifest`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub base: Option<AofFile>,
    pub incrs: Vec<AofFile>,
    pub history: Vec<AofFile>,
    /// Highest base / incr sequence numbers used (the next file takes one more).
    pub base_seq: i64,
    pub incr_seq: i64,
}

/// Why a manifest was refused, with Redis's text; `line` is the offending line (trimmed)
/// and its 1-based number, when there is one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestError {
    pub msg: &'static str,
    pub line: Option<(usize, String)>,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some((n, l)) = &self.line {
            write!(f, "Reading the manifest file, at line {n}: >>> '{l}': ")?;
        }
        f.write_str(self.msg)
    }
}

impl Manifest {
    /// Parses a manifest as Redis's `aofLoadManifestFromFile`.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, ManifestError> {
        let mut m = Manifest::default();
        let mut maxseq = 0i64;
        let mut linenum = 0;
        let mut rest = bytes;
        if rest.is_empty() {
            return Err(ManifestError {
                msg: "Found an empty AOF manifest",
                line: None,
            });
        }
        while !rest.is_empty() {
            // fgets with a MAX_LINE+1 buffer: a longer line is read in pieces.
            let take = rest.len().min(MAX_LINE);
            let (piece, has_nl) = match memchr(b'\n', &rest[..take]) {
                Some(i) => (&rest[..=i], true),
                None => (&rest[..take], false),
            };
            rest = &rest[piece.len()..];
            linenum += 1;
            if piece[0] == b'#' {
                continue;
            }
            let trimmed = trim(piece);
            let err = |msg| ManifestError {
                msg,
                line: Some((linenum, String::from_utf8_lossy(trimmed).into_owned())),
            };
            if !has_nl {
                return Err(err("The AOF manifest file contains too long line"));
            }
            if trimmed.is_empty() {
                return Err(err("Invalid AOF manifest file format"));
            }
            let argv = match split_args(trimmed) {
                Some(a) if a.len() >= 6 && a.len() % 2 == 0 => a,
                _ => return Err(err("Invalid AOF manifest file format")),
            };
            let (mut name, mut seq, mut kind) = (None, 0i64, 0u8);
            for kv in argv.chunks(2) {
                let k = &kv[0];
                if k.eq_ignore_ascii_case(b"file") {
                    if kv[1].contains(&b'/') {
                        return Err(err("File can't be a path, just a filename"));
                    }
                    name = Some(kv[1].clone());
                } else if k.eq_ignore_ascii_case(b"seq") {
                    seq = atoll(&kv[1]);
                } else if k.eq_ignore_ascii_case(b"type") {
                    kind = kv[1].first().copied().unwrap_or(0);
                }
            }
            let (Some(name), true, true) = (name, seq != 0, kind != 0) else {
                return Err(err("Invalid AOF manifest file format"));
            };
            match kind {
                b'b' => {
                    if m.base.is_some() {
                        return Err(err("Found duplicate base file information"));
                    }
                    m.base = Some(AofFile {
                        name,
                        seq,
                        kind: FileKind::Base,
                    });
                    m.base_seq = seq;
                }
                b'h' => m.history.push(AofFile {
                    name,
                    seq,
                    kind: FileKind::History,
                }),
                b'i' => {
                    if seq <= maxseq {
                        return Err(err("Found a non-monotonic sequence number"));
                    }
                    m.incrs.push(AofFile {
                        name,
                        seq,
                        kind: FileKind::Incr,
                    });
                    m.incr_seq = seq;
                    maxseq = seq;
                }
                _ => return Err(err("Unknown AOF file type")),
            }
        }
        Ok(m)
    }

    /// The manifest's text (Redis's `getAofManifestAsString`): base, history, incrementals.
    pub fn format(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for f in self
            .base
            .iter()
            .chain(self.history.iter())
            .chain(self.incrs.iter())
        {
            out.extend_from_slice(b"file ");
            if needs_repr(&f.name) {
                repr(&f.name, &mut out);
            } else {
                out.extend_from_slice(&f.name);
            }
            out.extend_from_slice(format!(" seq {} type {}\n", f.seq, f.kind.letter()).as_bytes());
        }
        out
    }

    /// Marks the base as history and names a new one (Redis's
    /// `getNewBaseFileNameAndMarkPreAsHistory`); `rdb` picks the `.rdb` or `.aof` suffix.
    pub fn new_base(&mut self, appendfilename: &[u8], rdb: bool) -> Vec<u8> {
        if let Some(mut old) = self.base.take() {
            old.kind = FileKind::History;
            self.history.insert(0, old);
        }
        self.base_seq += 1;
        let name = base_name(appendfilename, self.base_seq, rdb);
        self.base = Some(AofFile {
            name: name.clone(),
            seq: self.base_seq,
            kind: FileKind::Base,
        });
        name
    }

    /// Adds a new incremental file (Redis's `getNewIncrAofName`) and returns its name.
    pub fn new_incr(&mut self, appendfilename: &[u8]) -> Vec<u8> {
        self.incr_seq += 1;
        let name = incr_name(appendfilename, self.incr_seq);
        self.incrs.push(AofFile {
            name: name.clone(),
            seq: self.incr_seq,
            kind: FileKind::Incr,
        });
        name
    }

    /// After a rewrite: every incremental but the last becomes history (Redis's
    /// `markRewrittenIncrAofAsHistory`; the last one was opened when the rewrite started).
    pub fn mark_rewritten_incrs_as_history(&mut self) {
        let keep = self.incrs.pop();
        for mut f in self.incrs.drain(..) {
            f.kind = FileKind::History;
            self.history.push(f);
        }
        self.incrs.extend(keep);
    }

    /// The last incremental file: the one being appended to.
    pub fn last_incr(&self) -> Option<&AofFile> {
        self.incrs.last()
    }
}

/// `<appendfilename>.manifest`
pub fn manifest_name(appendfilename: &[u8]) -> Vec<u8> {
    [appendfilename, b".manifest"].concat()
}

/// `temp-<appendfilename>.manifest`: written, fsynced, then renamed over the manifest.
pub fn temp_manifest_name(appendfilename: &[u8]) -> Vec<u8> {
    [b"temp-", appendfilename, b".manifest"].concat()
}

/// `<appendfilename>.<seq>.base.rdb` or `.base.aof`.
pub fn base_name(appendfilename: &[u8], seq: i64, rdb: bool) -> Vec<u8> {
    let suffix = if rdb { "rdb" } else { "aof" };
    [appendfilename, format!(".{seq}.base.{suffix}").as_bytes()].concat()
}

/// `<appendfilename>.<seq>.incr.aof`
pub fn incr_name(appendfilename: &[u8], seq: i64) -> Vec<u8> {
    [appendfilename, format!(".{seq}.incr.aof").as_bytes()].concat()
}

/// `temp-rewriteaof-bg-<pid>.aof`-style name of a base being written (Redis's
/// `temp-rewriteaof-bg-%d.aof`; in `dir`, not in `appenddirname`).
/// The incremental file written while the AOF is being turned on and its first base is
/// not complete (Redis's `temp-<appendfilename>.incr`): not in the manifest until then.
pub fn temp_incr_name(appendfilename: &[u8]) -> Vec<u8> {
    let mut n = b"temp-".to_vec();
    n.extend_from_slice(appendfilename);
    n.extend_from_slice(b".incr");
    n
}

pub fn temp_rewrite_name(pid: u32) -> Vec<u8> {
    format!("temp-rewriteaof-bg-{pid}.aof").into_bytes()
}

fn memchr(c: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == c)
}

/// `sdstrim(s, " \t\r\n")`.
fn trim(s: &[u8]) -> &[u8] {
    let ws = |c: &u8| matches!(c, b' ' | b'\t' | b'\r' | b'\n');
    let start = s.iter().position(|c| !ws(c)).unwrap_or(s.len());
    let end = s.iter().rposition(|c| !ws(c)).map_or(start, |i| i + 1);
    &s[start..end]
}

/// C's `atoll`: leading spaces, a sign, digits; stops at the first other byte.
fn atoll(s: &[u8]) -> i64 {
    let mut i = s.iter().take_while(|c| c.is_ascii_whitespace()).count();
    let neg = match s.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let mut v: i64 = 0;
    while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
        v = v.wrapping_mul(10).wrapping_add((d - b'0') as i64);
        i += 1;
    }
    if neg { v.wrapping_neg() } else { v }
}

/// `sdsneedsrepr`: whether a name must be quoted in the manifest.
fn needs_repr(s: &[u8]) -> bool {
    s.iter().any(|&c| {
        matches!(c, b'\\' | b'"' | b'\n' | b'\r' | b'\t' | 7 | 8)
            || !(0x20..0x7f).contains(&c)
            || c == b' '
    })
}

use resp::parse::repr;

/// `sdssplitargs`: words separated by spaces, `"..."` with C escapes and `'...'`; `None`
/// for unbalanced quotes or a closing quote not followed by a space.
/// (The config loader has the same rules for redis.conf lines.)
pub fn split_args(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    resp::parse::split_args_owned(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REDIS: &[u8] = b"file appendonly.aof.1.base.rdb seq 1 type b\n\
file appendonly.aof.1.incr.aof seq 1 type i\n";

    #[test]
    fn parses_and_formats_what_redis_writes() {
        let m = Manifest::parse(REDIS).unwrap();
        assert_eq!(m.base.as_ref().unwrap().name, b"appendonly.aof.1.base.rdb");
        assert_eq!(m.incrs.len(), 1);
        assert_eq!((m.base_seq, m.incr_seq), (1, 1));
        assert_eq!(m.format(), REDIS);
    }

    #[test]
    fn base_then_history_then_incrs_and_comments() {
        let text = b"# comment\nfile b.2.base.rdb seq 2 type b\nfile x.1.incr.aof seq 1 type h\n\
file x.2.incr.aof seq 2 type i\nfile x.3.incr.aof seq 3 type i extra 1\n";
        let m = Manifest::parse(text).unwrap();
        assert_eq!(m.history.len(), 1);
        assert_eq!(m.incrs.len(), 2);
        assert_eq!(m.incr_seq, 3);
        assert_eq!(
            m.format(),
            b"file b.2.base.rdb seq 2 type b\nfile x.1.incr.aof seq 1 type h\n\
file x.2.incr.aof seq 2 type i\nfile x.3.incr.aof seq 3 type i\n"
        );
    }

    #[test]
    fn names_with_spaces_are_quoted_and_read_back() {
        let mut m = Manifest::default();
        let name = m.new_base(b"my file", true);
        assert_eq!(name, b"my file.1.base.rdb");
        m.new_incr(b"my file");
        let text = m.format();
        assert_eq!(
            text,
            b"file \"my file.1.base.rdb\" seq 1 type b\nfile \"my file.1.incr.aof\" seq 1 type i\n"
        );
        assert_eq!(Manifest::parse(&text).unwrap(), m);
    }

    #[test]
    fn errors_carry_redis_texts() {
        let e = |t: &[u8]| Manifest::parse(t).unwrap_err().msg;
        assert_eq!(e(b""), "Found an empty AOF manifest");
        assert_eq!(e(b"\n"), "Invalid AOF manifest file format");
        assert_eq!(e(b"file a seq 1\n"), "Invalid AOF manifest file format");
        assert_eq!(
            e(b"file a seq 0 type i\n"),
            "Invalid AOF manifest file format"
        );
        assert_eq!(
            e(b"file a/b seq 1 type i\n"),
            "File can't be a path, just a filename"
        );
        assert_eq!(
            e(b"file a seq 1 type b\nfile b seq 2 type b\n"),
            "Found duplicate base file information"
        );
        assert_eq!(
            e(b"file a seq 2 type i\nfile b seq 2 type i\n"),
            "Found a non-monotonic sequence number"
        );
        assert_eq!(e(b"file a seq 1 type x\n"), "Unknown AOF file type");
        assert_eq!(
            e(b"file \"a seq 1 type i\n"),
            "Invalid AOF manifest file format"
        );
        let long = [b"file ".as_slice(), &[b'a'; 1100], b" seq 1 type i\n"].concat();
        assert_eq!(e(&long), "The AOF manifest file contains too long line");
        // No newline at the end of the last line: Redis's fgets check refuses it too.
        assert_eq!(
            e(b"file a seq 1 type i"),
            "The AOF manifest file contains too long line"
        );
    }

    #[test]
    fn rewrite_moves_base_and_old_incrs_to_history() {
        let mut m = Manifest::parse(REDIS).unwrap();
        m.new_incr(b"appendonly.aof");
        m.new_base(b"appendonly.aof", false);
        m.mark_rewritten_incrs_as_history();
        assert_eq!(
            String::from_utf8(m.format()).unwrap(),
            "file appendonly.aof.2.base.aof seq 2 type b\n\
file appendonly.aof.1.base.rdb seq 1 type h\n\
file appendonly.aof.1.incr.aof seq 1 type h\n\
file appendonly.aof.2.incr.aof seq 2 type i\n"
        );
    }
}
