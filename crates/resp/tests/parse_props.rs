//! Property tests of the request parser through its public API: round trips of encoded
//! commands, no panics on arbitrary bytes, and the `Incomplete` contract (the `need` hint is a
//! lower bound; resuming equals parsing afresh) on RESP-like noise.

use bumpalo::Bump;
use proptest::prelude::*;
use resp::{Limits, Parsed, ProtoError, Resume, parse_command, parse_command_resume};

type Out = Result<(Parsed, Vec<Vec<u8>>), ProtoError>;

fn parse_with(buf: &[u8], limits: &Limits, resume: &mut Resume) -> Out {
    let arena = Bump::new();
    let mut args = Vec::new();
    let p = parse_command_resume(buf, limits, &arena, &mut args, resume)?;
    Ok((p, args.iter().map(|a| a.to_vec()).collect()))
}

fn encode(args: &[Vec<u8>]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Quotes `arg` for an inline request so that `sdssplitargs` gives it back: printable bytes
/// as they are, the rest as `\xHH`.
fn quote(arg: &[u8]) -> Vec<u8> {
    let mut out = vec![b'"'];
    for &b in arg {
        match b {
            b'"' | b'\\' => out.extend_from_slice(&[b'\\', b]),
            0x20..=0x7e => out.push(b),
            _ => out.extend_from_slice(format!("\\x{:02x}", b).as_bytes()),
        }
    }
    out.push(b'"');
    out
}

/// Bytes drawn mostly from the protocol's own alphabet, so that random inputs reach deep
/// into both parsers.
fn resp_noise() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop_oneof![
        Just(b"*".to_vec()),
        Just(b"$".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\0".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"'".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"\\x4".to_vec()),
        Just(b" ".to_vec()),
        Just(b"-".to_vec()),
        Just(b"ab".to_vec()),
        Just(b"*2\r\n".to_vec()),
        Just(b"$1\r\nx\r\n".to_vec()),
        Just(b"$0\r\n\r\n".to_vec()),
        (0u8..=9).prop_map(|d| vec![b'0' + d]),
        (0u32..20).prop_map(|n| n.to_string().into_bytes()),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(pieces, 0..24).prop_map(|v| v.concat())
}

fn limits_strategy() -> impl Strategy<Value = Limits> {
    (
        prop_oneof![Just(512 * 1024 * 1024u64), 0u64..8],
        any::<bool>(),
    )
        .prop_map(|(proto_max_bulk_len, auth_required)| Limits {
            proto_max_bulk_len,
            auth_required,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn multibulk_round_trip(
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 1..12),
        tail in prop::collection::vec(any::<u8>(), 0..16),
    ) {
        let mut buf = encode(&args);
        let len = buf.len();
        buf.extend_from_slice(&tail);
        let out = parse_with(&buf, &Limits::default(), &mut Resume::default()).unwrap();
        prop_assert_eq!(out, (Parsed::Command { consumed: len }, args));
    }

    #[test]
    fn inline_quoted_round_trip(
        args in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..20), 1..8),
        sep in prop::sample::select(vec![&b" "[..], b"\t", b"  \x0b", b"\x0c"]),
        crlf in any::<bool>(),
    ) {
        let mut buf = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i > 0 {
                buf.extend_from_slice(sep);
            }
            buf.extend_from_slice(&quote(a));
        }
        buf.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
        let out = parse_with(&buf, &Limits::default(), &mut Resume::default()).unwrap();
        prop_assert_eq!(out, (Parsed::Command { consumed: buf.len() }, args));
    }

    #[test]
    fn arbitrary_bytes_never_panic(buf in prop::collection::vec(any::<u8>(), 0..256)) {
        let arena = Bump::new();
        let mut args = Vec::new();
        match parse_command(&buf, &Limits::default(), &arena, &mut args) {
            Ok(Parsed::Command { consumed }) => {
                prop_assert!(consumed >= 1 && consumed <= buf.len());
                prop_assert!(!args.is_empty());
            }
            Ok(Parsed::Empty { consumed }) => {
                prop_assert!(consumed >= 1 && consumed <= buf.len());
                prop_assert!(args.is_empty());
            }
            Ok(Parsed::Incomplete) => prop_assert!(args.is_empty()),
            Err(_) => prop_assert!(args.is_empty()),
        }
    }

    /// At every split point of RESP-like noise: `min_len` never skips a change of outcome,
    /// and resuming from the state a prefix left gives exactly the fresh result.
    #[test]
    fn incomplete_contract(full in resp_noise(), limits in limits_strategy()) {
        let fresh: Vec<(Out, Resume)> = (0..=full.len())
            .map(|l| {
                let mut r = Resume::START;
                (parse_with(&full[..l], &limits, &mut r), r)
            })
            .collect();
        for l in 0..=full.len() {
            let (Ok((Parsed::Incomplete, _)), resume) = &fresh[l] else { continue };
            prop_assert!(resume.min_len() > l);
            for (l2, (expected, _)) in fresh.iter().enumerate().skip(l) {
                if l2 < resume.min_len() {
                    let still_incomplete = matches!(expected, Ok((Parsed::Incomplete, _)));
                    prop_assert!(
                        still_incomplete,
                        "at {} min_len {}, {} gives {:?}", l, resume.min_len(), l2, expected
                    );
                }
                let mut r = *resume;
                prop_assert_eq!(&parse_with(&full[..l2], &limits, &mut r), expected);
            }
        }
    }

    /// A pipeline of encoded commands parses back command by command.
    #[test]
    fn pipeline_round_trip(
        cmds in prop::collection::vec(
            prop::collection::vec(prop::collection::vec(any::<u8>(), 0..10), 1..5), 1..6),
    ) {
        let buf: Vec<u8> = cmds.iter().flat_map(|c| encode(c)).collect();
        let mut pos = 0;
        for c in &cmds {
            let (p, args) = parse_with(&buf[pos..], &Limits::default(), &mut Resume::default()).unwrap();
            let Parsed::Command { consumed } = p else {
                return Err(TestCaseError::fail(format!("{:?}", p)));
            };
            prop_assert_eq!(&args, c);
            pos += consumed;
        }
        prop_assert_eq!(pos, buf.len());
    }
}
