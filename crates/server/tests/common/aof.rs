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
