//! Fuzz target for the request parser.
//!
//! The first input byte picks the limits and a read size; the rest is a client's byte stream.
//! The stream is parsed twice:
//! - whole: command after command over the full buffer, as a server with everything buffered;
//! - trickled: revealed `step` bytes at a time, as reads arrive, through
//!   `parse_command_resume`, waiting for `Resume::min_len` bytes, as a server should.
//!
//! Checked: no panic; `consumed` within the buffer and non-zero; `min_len` beyond the buffer
//! after `Incomplete`; both runs yield
//! the same commands. They may differ only where the trickled run hit a 64 KiB "too big"
//! limit that the whole run, seeing the line end, did not (Redis depends on read sizes there
//! too); anything else means a wrong `min_len` hint or a wrong resume.
#![no_main]

use bumpalo::Bump;
use libfuzzer_sys::fuzz_target;
use resp::{Limits, Parsed, ProtoError, Resume, parse_command, parse_command_resume};

#[derive(Debug, PartialEq)]
enum Event {
    Command(usize, Vec<Vec<u8>>),
    Empty(usize),
    Error(ProtoError),
}

fn is_too_big(e: &Event) -> bool {
    matches!(
        e,
        Event::Error(
            ProtoError::TooBigInline | ProtoError::TooBigMbulkCount | ProtoError::TooBigBulkCount
        )
    )
}

fn check(buf: &[u8], r: &Result<Parsed, ProtoError>, args: &[&[u8]]) {
    match r {
        Ok(Parsed::Command { consumed }) => {
            assert!(*consumed >= 1 && *consumed <= buf.len());
            assert!(!args.is_empty());
        }
        Ok(Parsed::Empty { consumed }) => {
            assert!(*consumed >= 1 && *consumed <= buf.len());
            assert!(args.is_empty());
        }
        Ok(Parsed::Incomplete) => assert!(args.is_empty()),
        Err(e) => {
            assert!(args.is_empty());
            assert!(e.message().starts_with("ERR Protocol error: "));
        }
    }
}

/// Appends the event for a final result; `Some(consumed)` when parsing continues after it.
fn record(events: &mut Vec<Event>, r: Result<Parsed, ProtoError>, args: &[&[u8]]) -> Option<usize> {
    match r {
        Ok(Parsed::Command { consumed }) => {
            events.push(Event::Command(
                consumed,
                args.iter().map(|a| a.to_vec()).collect(),
            ));
            Some(consumed)
        }
        Ok(Parsed::Empty { consumed }) => {
            events.push(Event::Empty(consumed));
            Some(consumed)
        }
        Ok(Parsed::Incomplete) => None,
        Err(e) => {
            events.push(Event::Error(e));
            None
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let Some((&cfg, data)) = input.split_first() else {
        return;
    };
    let limits = Limits {
        proto_max_bulk_len: if cfg & 1 != 0 { 16 } else { 512 * 1024 * 1024 },
        auth_required: cfg & 2 != 0,
    };
    let step = (cfg >> 2) as usize + 1;
    let arena = Bump::new();

    let mut whole = Vec::new();
    let mut pos = 0;
    loop {
        let buf = &data[pos..];
        let mut args = Vec::new();
        let r = parse_command(buf, &limits, &arena, &mut args);
        check(buf, &r, &args);
        match record(&mut whole, r, &args) {
            Some(consumed) => pos += consumed,
            None => break,
        }
    }

    let mut trickled = Vec::new();
    let (mut pos, mut visible) = (0, 0);
    let mut resume = Resume::START;
    'feed: while visible < data.len() {
        visible = (visible + step).min(data.len());
        // Parse every command the bytes so far complete.
        while visible - pos >= resume.min_len() {
            let buf = &data[pos..visible];
            let mut args = Vec::new();
            let r = parse_command_resume(buf, &limits, &arena, &mut args, &mut resume);
            check(buf, &r, &args);
            if let Ok(Parsed::Incomplete) = r {
                assert!(resume.min_len() > buf.len());
                break;
            }
            assert_eq!(resume, Resume::START);
            match record(&mut trickled, r, &args) {
                Some(consumed) => pos += consumed,
                None => break 'feed,
            }
        }
    }

    match trickled.iter().zip(&whole).position(|(t, w)| t != w) {
        Some(i) => {
            assert!(
                is_too_big(&trickled[i]),
                "{:?} vs {:?}",
                trickled[i],
                whole[i]
            );
            assert_eq!(i + 1, trickled.len());
        }
        None => assert_eq!(trickled, whole),
    }
});
