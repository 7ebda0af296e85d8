//! Byte-level tests of the request parser. Expected results marked "redis" were observed on
//! redis-server 7.0.15 by sending the same bytes over a raw socket.

use super::*;

type Out = Result<(Parsed, Vec<Vec<u8>>), ProtoError>;

fn run_with(buf: &[u8], limits: &Limits) -> Out {
    let arena = Bump::new();
    let mut args = Vec::new();
    let p = parse_command(buf, limits, &arena, &mut args)?;
    Ok((p, args.iter().map(|a| a.to_vec()).collect()))
}

fn run(buf: &[u8]) -> Out {
    run_with(buf, &Limits::default())
}

fn cmd(buf: &[u8]) -> (usize, Vec<Vec<u8>>) {
    match run(buf) {
        Ok((Parsed::Command { consumed }, args)) => (consumed, args),
        other => panic!(
            "{:?}: expected a command, got {:?}",
            String::from_utf8_lossy(buf),
            other
        ),
    }
}

fn args_of(buf: &[u8]) -> Vec<Vec<u8>> {
    cmd(buf).1
}

fn v(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|a| a.to_vec()).collect()
}

fn err(buf: &[u8]) -> ProtoError {
    match run(buf) {
        Err(e) => e,
        other => panic!(
            "{:?}: expected an error, got {:?}",
            String::from_utf8_lossy(buf),
            other
        ),
    }
}

/// Parses `buf` afresh; returns the resume state and the result.
fn run_resume(buf: &[u8], limits: &Limits, resume: &mut Resume) -> Out {
    let arena = Bump::new();
    let mut args = Vec::new();
    let p = parse_command_resume(buf, limits, &arena, &mut args, resume)?;
    Ok((p, args.iter().map(|a| a.to_vec()).collect()))
}

/// How many more bytes `buf` needs at least, by the resume hint.
fn need(buf: &[u8]) -> usize {
    let mut resume = Resume::START;
    match run_resume(buf, &Limits::default(), &mut resume) {
        Ok((Parsed::Incomplete, args)) => {
            assert!(args.is_empty());
            assert!(resume.min_len() > buf.len());
            resume.min_len() - buf.len()
        }
        other => panic!("expected Incomplete, got {:?}", other),
    }
}

fn is_incomplete(buf: &[u8]) -> bool {
    matches!(run(buf), Ok((Parsed::Incomplete, _)))
}

fn msg(e: ProtoError) -> Vec<u8> {
    let mut v = Vec::new();
    e.write_message(&mut v);
    v
}

// --- multibulk ---------------------------------------------------------------------------

#[test]
fn multibulk_basic_and_zero_copy() {
    let buf = b"*2\r\n$3\r\nGET\r\n$1\r\na\r\n";
    let arena = Bump::new();
    let mut args = Vec::new();
    let p = parse_command(buf, &Limits::default(), &arena, &mut args).unwrap();
    assert_eq!(
        p,
        Parsed::Command {
            consumed: buf.len()
        }
    );
    assert_eq!(args, vec![&b"GET"[..], b"a"]);
    // Zero copy: the arguments point into the buffer.
    assert!(std::ptr::eq(args[0].as_ptr(), buf[8..].as_ptr()));
    assert_eq!(arena.allocated_bytes(), 0);
}

#[test]
fn multibulk_binary_and_empty_args() {
    assert_eq!(
        args_of(b"*3\r\n$0\r\n\r\n$4\r\n\r\n\0\xff\r\n$1\r\n*\r\n"),
        v(&[b"", b"\r\n\0\xff", b"*"])
    );
}

#[test]
fn empty_multibulk_counts_consume_their_line() {
    assert_eq!(run(b"*0\r\n").unwrap().0, Parsed::Empty { consumed: 4 });
    assert_eq!(run(b"*-1\r\n").unwrap().0, Parsed::Empty { consumed: 5 });
    // redis: `*-5\r\nPING\r\n` answers +PONG, the count line is dropped.
    assert_eq!(
        run(b"*-5\r\nPING\r\n").unwrap().0,
        Parsed::Empty { consumed: 5 }
    );
    let min = b"*-9223372036854775808\r\n";
    assert_eq!(
        run(min).unwrap().0,
        Parsed::Empty {
            consumed: min.len()
        }
    );
}

#[test]
fn multibulk_count_limits() {
    // redis 7.0.15: INT_MAX is the limit (the 6.x limit 1024*1024 no longer applies).
    assert!(is_incomplete(b"*1048577\r\n"));
    assert!(is_incomplete(b"*2147483647\r\n"));
    assert_eq!(err(b"*2147483648\r\n"), ProtoError::InvalidMultibulkLength);
    assert_eq!(
        err(b"*99999999999999999999\r\n"),
        ProtoError::InvalidMultibulkLength
    );
}

#[test]
fn multibulk_count_is_string2ll() {
    // redis: each of these is "invalid multibulk length".
    for bad in [
        &b"*3 \r\n"[..],
        b"* 3\r\n",
        b"*+3\r\n",
        b"*03\r\n",
        b"*\r\n",
        b"*-\r\n",
        b"*-0\r\n",
        b"*3x\r\n",
        b"*0x10\r\n",
        b"*1.0\r\n",
    ] {
        assert_eq!(err(bad), ProtoError::InvalidMultibulkLength, "{:?}", bad);
    }
}

#[test]
fn bulk_length_is_string2ll_and_bounded() {
    for bad in [
        &b"*1\r\n$-1\r\n"[..],
        b"*1\r\n$03\r\nfoo\r\n",
        b"*1\r\n$ 3\r\nfoo\r\n",
        b"*1\r\n$+3\r\nfoo\r\n",
        b"*1\r\n$3 \r\nfoo\r\n",
        b"*1\r\n$\r\n",
        b"*1\r\n$-0\r\n",
        b"*1\r\n$99999999999999999999\r\n",
    ] {
        assert_eq!(err(bad), ProtoError::InvalidBulkLength, "{:?}", bad);
    }
    // proto-max-bulk-len, default 512 MB: redis waits for the payload at the limit.
    assert!(is_incomplete(b"*1\r\n$536870912\r\n"));
    assert_eq!(err(b"*1\r\n$536870913\r\n"), ProtoError::InvalidBulkLength);
    let small = Limits {
        proto_max_bulk_len: 3,
        ..Limits::default()
    };
    assert_eq!(
        run_with(b"*1\r\n$3\r\nabc\r\n", &small).unwrap().1,
        v(&[b"abc"])
    );
    assert_eq!(
        run_with(b"*1\r\n$4\r\nabcd\r\n", &small),
        Err(ProtoError::InvalidBulkLength)
    );
}

#[test]
fn unauthenticated_limits() {
    let unauth = Limits {
        auth_required: true,
        ..Limits::default()
    };
    let st = |b: &[u8]| run_with(b, &unauth).map(|(p, _)| p);
    assert!(matches!(st(b"*10\r\n"), Ok(Parsed::Incomplete)));
    assert_eq!(
        st(b"*11\r\n"),
        Err(ProtoError::UnauthenticatedMultibulkLength)
    );
    assert!(matches!(st(b"*1\r\n$16384\r\n"), Ok(Parsed::Incomplete)));
    assert_eq!(
        st(b"*1\r\n$16385\r\n"),
        Err(ProtoError::UnauthenticatedBulkLength)
    );
    // redis: the general checks come first.
    assert_eq!(
        st(b"*1\r\n$600000000\r\n"),
        Err(ProtoError::InvalidBulkLength)
    );
    assert_eq!(
        st(b"*99999999999\r\n"),
        Err(ProtoError::InvalidMultibulkLength)
    );
    // Negative counts stay "no command".
    assert_eq!(st(b"*-20\r\n"), Ok(Parsed::Empty { consumed: 6 }));
    // Inline requests have no such limit (they are capped at 64 KiB anyway).
    let (p, args) = run_with(b"a b c d e f g h i j k l\r\n", &unauth).unwrap();
    assert!(matches!(p, Parsed::Command { .. }));
    assert_eq!(args.len(), 12);
}

#[test]
fn expected_dollar() {
    assert_eq!(err(b"*1\r\nx\r\n"), ProtoError::ExpectedDollar(b'x'));
    assert_eq!(
        err(b"*2\r\n$3\r\nfoo\r\n%\r\n"),
        ProtoError::ExpectedDollar(b'%')
    );
    // The check waits for the whole header line (redis: `*1\r\nx` and `*1\r\nx\r` wait).
    assert!(is_incomplete(b"*1\r\nx"));
    assert!(is_incomplete(b"*1\r\nx\r"));
    // An empty header line: the offending byte is the CR itself.
    assert_eq!(err(b"*1\r\n\r\n"), ProtoError::ExpectedDollar(b'\r'));
    assert_eq!(err(b"*1\r\n\n\r\n"), ProtoError::ExpectedDollar(b'\n'));
}

#[test]
fn bytes_after_cr_and_payload_are_not_checked() {
    // redis: both answer +PONG.
    let buf = b"*1\r\n$4\r\nPINGxy";
    assert_eq!(cmd(buf), (buf.len(), v(&[b"PING"])));
    let buf = b"*1\rx$4\rxPINGxy";
    assert_eq!(cmd(buf), (buf.len(), v(&[b"PING"])));
    // ... but the two bytes must be there.
    assert!(is_incomplete(b"*1\r\n$4\r\nPING"));
    assert!(is_incomplete(b"*1\r\n$4\r\nPING\r"));
}

#[test]
fn header_line_limits() {
    // Count line: waits while at most 64 KiB is buffered without '\r', then errors.
    let mut b = vec![b'*'];
    b.resize(INLINE_MAX, b'1');
    assert_eq!(need(&b), 1);
    b.push(b'1');
    assert_eq!(err(&b), ProtoError::TooBigMbulkCount);
    // Once the CR is there the line is judged on its value, whatever its length.
    b.extend_from_slice(b"\r\n");
    assert_eq!(err(&b), ProtoError::InvalidMultibulkLength);

    // Bulk length line: measured from the start of that line.
    let mut b = b"*1\r\n$".to_vec();
    b.resize(4 + INLINE_MAX, b'1');
    assert_eq!(need(&b), 1);
    b.push(b'1');
    assert_eq!(err(&b), ProtoError::TooBigBulkCount);
    // The cap applies before the '$' is checked.
    let mut b = b"*1\r\n".to_vec();
    b.resize(4 + 70_000, b'X');
    assert_eq!(err(&b), ProtoError::TooBigBulkCount);
    // Far from the limit the hint asks for the CR and the byte after it.
    assert_eq!(need(b"*1\r\n$12"), 2);
    assert_eq!(need(b"*12"), 2);
}

#[test]
fn nul_in_a_header_line_stalls_until_the_limit() {
    // redis finds line ends with strchr, which stops at NUL: `*1\0\r\n` never completes.
    assert_eq!(need(b"*1\0\r\n"), INLINE_MAX + 1 - 5);
    let mut b = b"*1\0\r\n".to_vec();
    b.resize(INLINE_MAX + 1, b'x');
    assert_eq!(err(&b), ProtoError::TooBigMbulkCount);

    assert_eq!(need(b"*1\r\n$3\0\r\nabc\r\n"), INLINE_MAX + 1 - 10);
    let mut b = b"*1\r\n$3\0\r\nabc\r\n".to_vec();
    b.resize(4 + INLINE_MAX + 1, b'x');
    assert_eq!(err(&b), ProtoError::TooBigBulkCount);
    // A NUL inside a payload is just data.
    assert_eq!(args_of(b"*1\r\n$1\r\n\0\r\n"), v(&[b"\0"]));
}

#[test]
fn incomplete_need_hints() {
    assert_eq!(need(b""), 1);
    assert_eq!(need(b"*"), 2);
    assert_eq!(need(b"*2\r"), 1);
    assert_eq!(need(b"*2\r\n"), 2);
    // Inside a payload: the rest of it, its two trailing bytes, and a minimal next header.
    assert_eq!(need(b"*2\r\n$10\r\nab"), 8 + 2 + 2);
    // The last argument: nothing follows it.
    assert_eq!(need(b"*1\r\n$10\r\nab"), 8 + 2);
    assert_eq!(need(b"*1\r\n$10\r\n0123456789\r"), 1);
    assert_eq!(need(b"PING"), 1);
    assert_eq!(need(b"PING\r"), 1);
}

// --- inline ------------------------------------------------------------------------------

#[test]
fn inline_lines() {
    assert_eq!(cmd(b"PING\r\n"), (6, v(&[b"PING"])));
    assert_eq!(cmd(b"PING\n"), (5, v(&[b"PING"])));
    // Only one CR before the LF is stripped; the other separates (redis: +PONG).
    assert_eq!(cmd(b"PING\r\r\n"), (7, v(&[b"PING"])));
    assert_eq!(cmd(b"  SET\tk   v \r\n").1, v(&[b"SET", b"k", b"v"]));
    assert_eq!(run(b"\r\n").unwrap().0, Parsed::Empty { consumed: 2 });
    assert_eq!(run(b"\n").unwrap().0, Parsed::Empty { consumed: 1 });
    assert_eq!(
        run(b"   \r\nPING\n").unwrap().0,
        Parsed::Empty { consumed: 5 }
    );
    assert_eq!(
        run(b" \x0b\x0c\t\r\n").unwrap().0,
        Parsed::Empty { consumed: 6 }
    );
    // Not '*' means inline, whatever the byte.
    assert_eq!(args_of(b"$3\r\n"), v(&[b"$3"]));
    assert_eq!(args_of(b"\xff\x80 x\n"), v(&[b"\xff\x80", b"x"]));
}

#[test]
fn inline_size_limit() {
    let mut b = vec![b'A'; INLINE_MAX];
    assert_eq!(need(&b), 1);
    b.push(b'A');
    assert_eq!(err(&b), ProtoError::TooBigInline);
    // With the LF already buffered, a longer line is parsed (see the module doc).
    let mut b = vec![b'A'; 70_000];
    b.push(b'\n');
    assert_eq!(cmd(&b).0, 70_001);
    // A NUL hides the line end from redis's strchr.
    assert_eq!(need(b"PING\0\r\n"), INLINE_MAX + 1 - 7);
    let mut b = b"PING\0\r\n".to_vec();
    b.resize(INLINE_MAX + 1, b'x');
    assert_eq!(err(&b), ProtoError::TooBigInline);
}

#[test]
fn inline_quoting_matches_redis() {
    // Each case observed on redis-server 7.0.15 (mostly through ECHO).
    let ok: &[(&[u8], &[&[u8]])] = &[
        (b"SET \"a\\x41\" b", &[b"SET", b"aA", b"b"]),
        (b"SET a \"\" ", &[b"SET", b"a", b""]),
        (b"ECHO a\"b c\"", &[b"ECHO", b"ab c"]),
        (b"ECHO \"a\"\x0bb", &[b"ECHO", b"a", b"b"]),
        (b"ECHO a\x0bb", &[b"ECHO", b"a\x0bb"]),
        (b"ECHO 'a\\'b'", &[b"ECHO", b"a'b"]),
        (b"ECHO \"\\q\\n\\x4\"", &[b"ECHO", b"q\nx4"]),
        (b"ECHO \"\"", &[b"ECHO", b""]),
        (b"\"\"", &[b""]),
        (b"ECHO ''", &[b"ECHO", b""]),
        (b"ECHO \"\\x4g\"", &[b"ECHO", b"x4g"]),
        (b"ECHO \"\\xFf\\xZZ\"", &[b"ECHO", b"\xffxZZ"]),
        (b"ECHO \"a\\\"b\"", &[b"ECHO", b"a\"b"]),
        (b"ECHO 'a\\nb'", &[b"ECHO", b"a\\nb"]),
        (b"ECHO 'a'\tb", &[b"ECHO", b"a", b"b"]),
        (b"ECHO \xff", &[b"ECHO", b"\xff"]),
        (b"ECHO \x0c a", &[b"ECHO", b"a"]),
        (b"ECHO a\x0cb", &[b"ECHO", b"a\x0cb"]),
        (b"ECHO \"a\"\r", &[b"ECHO", b"a"]),
        (
            b"X \"\\n\\r\\t\\b\\a\\\\\\\"\\'\"",
            &[b"X", b"\n\r\t\x08\x07\\\"'"],
        ),
        (b"X \"\\x00\\x0a\"", &[b"X", b"\0\n"]),
        (b"X a\"\"", &[b"X", b"a"]),
        (b"X 'a\"b'", &[b"X", b"a\"b"]),
        (b"X \"a'b\"", &[b"X", b"a'b"]),
    ];
    for (line, want) in ok {
        let mut buf = line.to_vec();
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            args_of(&buf),
            v(want),
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
    let bad: &[&[u8]] = &[
        b"ECHO \"a\"b",
        b"ECHO \"abc",
        b"ECHO \"abc\\",
        b"ECHO 'a''b'",
        b"ECHO a'b c'd",
        b"ECHO \"a\"\"",
        b"ECHO 'abc\\'",
        b"ECHO \"\\\"",
        b"ECHO '\\\\'",
        b"\"",
        b"'",
        b"X a\"\"b",
    ];
    for line in bad {
        let mut buf = line.to_vec();
        buf.extend_from_slice(b"\r\n");
        assert_eq!(
            err(&buf),
            ProtoError::UnbalancedQuotes,
            "{:?}",
            String::from_utf8_lossy(line)
        );
    }
}

#[test]
fn inline_arguments_borrow_unless_rewritten() {
    let buf = b"SET \"plain\" \"a\\x41\" 'x'\r\n";
    let arena = Bump::new();
    let mut args = Vec::new();
    parse_command(buf, &Limits::default(), &arena, &mut args).unwrap();
    assert_eq!(args, vec![&b"SET"[..], b"plain", b"aA", b"x"]);
    let inside = |a: &[u8]| buf.as_ptr_range().contains(&a.as_ptr());
    assert!(inside(args[0]) && inside(args[1]) && inside(args[3]));
    assert!(!inside(args[2]));
    // The arena holds exactly the rewritten argument.
    assert!(arena.allocated_bytes() > 0);
}

#[test]
fn many_quoted_arguments_use_linear_arena_space() {
    let mut buf = Vec::new();
    for _ in 0..5000 {
        buf.extend_from_slice(b"\"\\x41\" ");
    }
    buf.push(b'\n');
    let arena = Bump::new();
    let mut args = Vec::new();
    parse_command(&buf, &Limits::default(), &arena, &mut args).unwrap();
    assert_eq!(args.len(), 5000);
    assert!(args.iter().all(|a| a == b"A"));
    assert!(
        arena.allocated_bytes() < 64 * 1024,
        "{}",
        arena.allocated_bytes()
    );
}

// --- errors, pipelines, incremental input ------------------------------------------------

#[test]
fn error_texts() {
    let cases: &[(ProtoError, &[u8])] = &[
        (
            ProtoError::InvalidMultibulkLength,
            b"ERR Protocol error: invalid multibulk length",
        ),
        (
            ProtoError::InvalidBulkLength,
            b"ERR Protocol error: invalid bulk length",
        ),
        (
            ProtoError::ExpectedDollar(b'x'),
            b"ERR Protocol error: expected '$', got 'x'",
        ),
        (
            ProtoError::ExpectedDollar(b'\r'),
            b"ERR Protocol error: expected '$', got ' '",
        ),
        (
            ProtoError::ExpectedDollar(b'\n'),
            b"ERR Protocol error: expected '$', got ' '",
        ),
        (
            ProtoError::ExpectedDollar(0xff),
            b"ERR Protocol error: expected '$', got '\xff'",
        ),
        (
            ProtoError::UnbalancedQuotes,
            b"ERR Protocol error: unbalanced quotes in request",
        ),
        (
            ProtoError::TooBigInline,
            b"ERR Protocol error: too big inline request",
        ),
        (
            ProtoError::TooBigMbulkCount,
            b"ERR Protocol error: too big mbulk count string",
        ),
        (
            ProtoError::TooBigBulkCount,
            b"ERR Protocol error: too big bulk count string",
        ),
        (
            ProtoError::UnauthenticatedMultibulkLength,
            b"ERR Protocol error: unauthenticated multibulk length",
        ),
        (
            ProtoError::UnauthenticatedBulkLength,
            b"ERR Protocol error: unauthenticated bulk length",
        ),
    ];
    for (e, text) in cases {
        assert_eq!(msg(*e), *text);
        if text.is_ascii() {
            assert_eq!(e.message().as_bytes(), *text);
        }
    }
    let mut out = Vec::new();
    crate::Reply::new(&mut out, crate::Proto::Resp2).proto_error(&ProtoError::ExpectedDollar(0xff));
    assert_eq!(out, b"-ERR Protocol error: expected '$', got '\xff'\r\n");
}

#[test]
fn pipeline_parses_one_command_after_another() {
    let buf: &[u8] = b"*1\r\n$4\r\nPING\r\nECHO \"x y\"\r\n\r\n*0\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nQUIT\n*1\r\n$3\r\nab";
    let arena = Bump::new();
    let mut pos = 0;
    let mut seen: Vec<(&str, Vec<Vec<u8>>)> = Vec::new();
    loop {
        let mut args = Vec::new();
        match parse_command(&buf[pos..], &Limits::default(), &arena, &mut args).unwrap() {
            Parsed::Command { consumed } => {
                seen.push(("cmd", args.iter().map(|a| a.to_vec()).collect()));
                pos += consumed;
            }
            Parsed::Empty { consumed } => {
                seen.push(("empty", vec![]));
                pos += consumed;
            }
            Parsed::Incomplete => break,
        }
    }
    assert_eq!(
        seen,
        vec![
            ("cmd", v(&[b"PING"])),
            ("cmd", v(&[b"ECHO", b"x y"])),
            ("empty", vec![]),
            ("empty", vec![]),
            ("cmd", v(&[b"GET", b"k"])),
            ("cmd", v(&[b"QUIT"])),
        ]
    );
    assert_eq!(&buf[pos..], b"*1\r\n$3\r\nab");
}

#[test]
fn args_are_left_alone_unless_a_command_is_parsed() {
    let arena = Bump::new();
    let keep: &[u8] = b"keep";
    for buf in [
        &b"*2\r\n$3\r\nGET\r\n"[..],
        b"*2\r\n$3\r\nGET\r\n$x\r\n",
        b"ECHO \"a",
        b"ECHO \"a\r\n",
        b"*0\r\n",
        b"\r\n",
    ] {
        let mut args = vec![keep];
        let _ = parse_command(buf, &Limits::default(), &arena, &mut args);
        assert_eq!(args, vec![keep], "{:?}", buf);
    }
}

/// Feeds `full` one prefix at a time and checks, at every split point, that:
/// - `min_len` is a true lower bound (no shorter prefix changes the outcome);
/// - resuming from the state left by that prefix gives exactly the fresh result, and leaves
///   the same state a fresh parse leaves;
/// - the final result equals parsing the whole buffer at once.
fn check_incremental(full: &[u8], limits: &Limits) {
    let fresh: Vec<(Out, Resume)> = (0..=full.len())
        .map(|l| {
            let mut r = Resume::START;
            (run_resume(&full[..l], limits, &mut r), r)
        })
        .collect();
    for l in 0..=full.len() {
        let (Ok((Parsed::Incomplete, _)), resume) = &fresh[l] else {
            assert_eq!(fresh[l].1, Resume::START);
            continue;
        };
        assert!(resume.min_len() > l);
        for (l2, (expected, expected_resume)) in fresh.iter().enumerate().skip(l) {
            if l2 < resume.min_len() {
                assert!(
                    matches!(expected, Ok((Parsed::Incomplete, _))),
                    "{:?}: at {} min_len {} but {} gives {:?}",
                    String::from_utf8_lossy(full),
                    l,
                    resume.min_len(),
                    l2,
                    expected
                );
            }
            let mut r = *resume;
            let resumed = run_resume(&full[..l2], limits, &mut r);
            assert_eq!(&resumed, expected, "resume from {} at {}", l, l2);
            assert_eq!(&r, expected_resume, "resume from {} at {}", l, l2);
        }
    }
}

#[test]
fn every_split_point() {
    let unauth = Limits {
        auth_required: true,
        ..Limits::default()
    };
    let inputs: &[&[u8]] = &[
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n",
        b"*2\r\n$0\r\n\r\n$12\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
        b"*1\rx$4\rxPINGxy",
        b"*0\r\n",
        b"*-1\r\n",
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\nX\r\n",
        b"*3\r\n$3\r\nSET\r\n$-1\r\n",
        b"*2\r\n$3\r\nGET\r\n$1\0\r\n",
        b"SET \"a\\x41\" 'b c'\r\n",
        b"ECHO \"abc\r\n",
        b"\r\n",
        b"PING\0\n",
        b"*12\r\n",
        b"*2\r\n$1\r\na\r\n\r\n",
        b"*3\r\n$1\r\na\r\nx\r\n",
        b"*1\r\n$20000\r\n",
    ];
    for input in inputs {
        check_incremental(input, &Limits::default());
        check_incremental(input, &unauth);
    }
    // A valid command: every proper prefix is incomplete, the whole is the command.
    let full = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
    for l in 0..full.len() {
        assert!(is_incomplete(&full[..l]), "prefix {}", l);
    }
    assert_eq!(cmd(full), (full.len(), v(&[b"SET", b"k", b"value"])));
}

#[test]
fn resume_makes_a_huge_multibulk_linear() {
    // 100k one-byte arguments arriving a few bytes at a time: each resumed call only looks at
    // the new arguments, so the whole feed finishes quickly even in a debug build.
    let n = 100_000;
    let mut full = format!("*{}\r\n", n).into_bytes();
    for _ in 0..n {
        full.extend_from_slice(b"$1\r\nx\r\n");
    }
    let arena = Bump::new();
    let mut resume = Resume::START;
    let mut calls = 0;
    let mut l = 0;
    while l < full.len() {
        l = (l + 16).min(full.len());
        if l < resume.min_len() {
            continue;
        }
        calls += 1;
        let mut args = Vec::new();
        match parse_command_resume(
            &full[..l],
            &Limits::default(),
            &arena,
            &mut args,
            &mut resume,
        )
        .unwrap()
        {
            Parsed::Incomplete => {}
            Parsed::Command { consumed } => {
                assert_eq!(consumed, full.len());
                assert_eq!(args.len(), n);
                break;
            }
            Parsed::Empty { .. } => unreachable!(),
        }
    }
    assert_eq!(l, full.len());
    assert!(calls <= full.len() / 16 + 1);
    // A large payload: the hint skips straight to the end of it.
    let mut big = b"*2\r\n$100000\r\n".to_vec();
    let need = need(&big);
    assert_eq!(need, 100_002 + 2);
    big.resize(big.len() + 100_002, b'z');
    big.extend_from_slice(b"$1\r\n");
    assert!(is_incomplete(&big));
}

#[test]
fn stale_resume_tokens_do_not_panic_or_fake_commands() {
    let arena = Bump::new();
    let states = [
        State::Multibulk { pos: 1000, left: 3 },
        State::Multibulk { pos: 2, left: 1 },
        State::Inline { scanned: 1000 },
        State::Inline { scanned: 3 },
    ];
    for buf in [&b"*1\r\n$1\r\na\r\n"[..], b"PING\r\n", b"*1\r\n$x", b""] {
        for state in states {
            let mut t = Resume { state, min_len: 0 };
            let mut args = Vec::new();
            let r = parse_command_resume(buf, &Limits::default(), &arena, &mut args, &mut t);
            if let Ok(Parsed::Command { .. }) = r {
                assert_eq!(r, run(buf).map(|p| p.0));
            }
        }
    }
}
