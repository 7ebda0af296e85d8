//! Reading AOF command files in tests (the differential propagation test, the AOF tests):
//! each command as one line, absolute times (integers of 13 digits or more) as `<ms>`,
//! since two servers' clocks differ.

/// A command as one comparable line.
pub fn normalize(argv: &[Vec<u8>]) -> String {
    argv.iter()
        .map(|a| {
            let s = String::from_utf8_lossy(a);
            if s.len() >= 13 && s.bytes().all(|b| b.is_ascii_digit()) {
                "<ms>".to_string()
            } else {
                s.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The commands of an AOF command file (read with ringkv's own AOF reader), normalized.
pub fn commands(bytes: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut r = persist::aof::Reader::new(bytes, 0);
    loop {
        match r.next_command() {
            persist::aof::Next::Command { argv, .. } => {
                let v: Vec<Vec<u8>> = argv.iter().map(|a| a.to_vec()).collect();
                out.push(normalize(&v));
            }
            persist::aof::Next::End => return out,
            other => panic!("malformed AOF: {other:?}"),
        }
    }
}

/// The propagation scripts (`tests/propagation/*.txt`), sorted: the in-process propagation
/// test and the AOF test both replay them against Redis.
pub fn propagation_scripts() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/propagation");
    let mut v: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .collect();
    v.sort();
    v
}

/// `None` when the two command lists are equal, else a side-by-side report under `title`
/// (`!!` marks the lines that differ).
pub fn side_by_side(title: &str, theirs: &[String], mine: &[String]) -> Option<String> {
    if theirs == mine {
        return None;
    }
    let mut report = format!("{title}\n");
    for i in 0..theirs.len().max(mine.len()) {
        let a = theirs.get(i).map_or("", String::as_str);
        let b = mine.get(i).map_or("", String::as_str);
        let mark = if a == b { "  " } else { "!!" };
        report.push_str(&format!("{mark} {a:<40} | {b}\n"));
    }
    Some(report)
}

/// A Redis whose AOF is the reference stream: every command written before its reply, and
/// DEBUG allowed (the scripts switch its active expiry off).
pub const REDIS_AOF_ALWAYS: &[&str] = &[
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--enable-debug-command",
    "yes",
];
