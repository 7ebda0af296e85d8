//! Replays a parsed script against two servers — the reference (real Redis) and the server
//! under test — and collects every step where they answer differently.
//!
//! Invariants: both servers always see the same bytes in the same order on the same
//! numbered connection, so any state they build is comparable; a step is sent to both
//! before either is read, so the servers work concurrently and see nearly the same wall
//! clock; after a step that ends a connection on either side (close, timeout, garbage) that
//! connection is replaced on both sides, so one divergence does not cascade into every
//! later line.

use super::compare::{End, Outcome, same_outcome};
use super::script::{Action, Mode, RawKind, Step};
use crate::common::resp::{Client, ReadError, Reply, encode_command, escape_trunc};
use crate::common::server::Server;
use std::collections::VecDeque;
use std::fmt::Write as _;
use std::time::Duration;

/// After this many timeouts the server under test is presumed hung; waiting out the rest
/// would only delay the report.
const MAX_TIMEOUTS: usize = 3;
/// Lines of context shown before a mismatch.
const HISTORY: usize = 5;
/// Shown bytes of each reply in a report.
const SHOW: usize = 600;

/// The result of one script run.
pub struct Report {
    pub steps_run: usize,
    pub mismatches: Vec<String>,
    /// Why the run stopped early (a server died, setup failed), if it did.
    pub aborted: Option<String>,
    /// Script line of each mismatch, in order, then the line the run stopped at if it
    /// aborted: what the random test's shrinker keys on.
    pub failed_lines: Vec<usize>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty() && self.aborted.is_none()
    }
}

/// One server with its numbered connections.
struct Side<'a> {
    label: &'a str,
    server: &'a mut Server,
    clients: Vec<Option<Client>>,
}

impl Side<'_> {
    fn client(&mut self, slot: usize) -> Result<&mut Client, String> {
        if self.clients.len() <= slot {
            self.clients.resize_with(slot + 1, || None);
        }
        if self.clients[slot].is_none() {
            let c = self.server.try_connect().map_err(|e| {
                // Usually the process is gone; say so, with its log, rather than "refused".
                match self.server.wait_exit(Duration::from_secs(2)) {
                    Some(status) => format!(
                        "{} exited ({status}); its log:\n{}",
                        self.label,
                        self.server.log()
                    ),
                    None => format!("{}: cannot connect: {e}", self.label),
                }
            })?;
            self.clients[slot] = Some(c);
        }
        Ok(self.clients[slot].as_mut().expect("connected above"))
    }

    fn drop_client(&mut self, slot: usize) {
        if let Some(c) = self.clients.get_mut(slot) {
            *c = None;
        }
    }

    /// `Some(description)` if the process has exited.
    fn died(&mut self) -> Option<String> {
        let status = self.server.exit_status()?;
        Some(format!(
            "{} exited ({status}); its log:\n{}",
            self.label,
            self.server.log()
        ))
    }
}

/// Per-connection state as far as the script changed it, shown in reports.
#[derive(Clone, Copy)]
struct ConnState {
    db: i64,
    proto: i64,
}

impl Default for ConnState {
    fn default() -> Self {
        ConnState { db: 0, proto: 2 }
    }
}

struct Runner<'a> {
    script: &'a str,
    a: Side<'a>,
    b: Side<'a>,
    slot: usize,
    states: Vec<ConnState>,
    history: VecDeque<String>,
    mismatches: Vec<String>,
    failed_lines: Vec<usize>,
    timeouts: usize,
    marker_seq: u64,
}

/// Runs `steps` of the script named `script` against `reference` and `peer`.
pub fn run(
    script: &str,
    steps: &[Step],
    reference: (&str, &mut Server),
    peer: (&str, &mut Server),
) -> Report {
    let mut r = Runner {
        script,
        a: Side {
            label: reference.0,
            server: reference.1,
            clients: Vec::new(),
        },
        b: Side {
            label: peer.0,
            server: peer.1,
            clients: Vec::new(),
        },
        slot: 0,
        states: vec![ConnState::default()],
        history: VecDeque::new(),
        mismatches: Vec::new(),
        failed_lines: Vec::new(),
        timeouts: 0,
        marker_seq: 0,
    };
    let mut steps_run = 0;
    for step in steps {
        steps_run += 1;
        if let Err(why) = r.step(step) {
            r.failed_lines.push(step.line);
            return Report {
                failed_lines: r.failed_lines,
                steps_run,
                mismatches: r.mismatches,
                aborted: Some(format!("{}:{}: {}\n{why}", script, step.line, step.text)),
            };
        }
        if r.timeouts >= MAX_TIMEOUTS {
            r.failed_lines.push(step.line);
            return Report {
                failed_lines: r.failed_lines,
                steps_run,
                mismatches: r.mismatches,
                aborted: Some(format!(
                    "{}:{}: stopped after {} timeouts (a server is hung?)",
                    script, step.line, r.timeouts
                )),
            };
        }
    }
    Report {
        steps_run,
        mismatches: r.mismatches,
        aborted: None,
        failed_lines: r.failed_lines,
    }
}

fn end_of(e: ReadError) -> End {
    match e {
        ReadError::Closed { partial, .. } => End::Closed { partial },
        ReadError::Timeout { partial } => End::Timeout { partial },
        other => End::Broken(other.to_string()),
    }
}

/// Reads `n` replies, then (if `close`) everything until the server closes.
fn read_n(c: &mut Client, n: usize, close: bool) -> Outcome {
    let mut replies = Vec::with_capacity(n);
    for _ in 0..n {
        match c.read_reply() {
            Ok(r) => replies.push(r),
            Err(e) => {
                return Outcome {
                    replies,
                    end: end_of(e),
                };
            }
        }
    }
    if close {
        let (more, e) = c.read_until_close();
        replies.extend(more);
        return Outcome {
            replies,
            end: end_of(e),
        };
    }
    Outcome {
        replies,
        end: End::Open,
    }
}

/// Reads replies until the marker's reply; the marker itself is not part of the outcome.
fn read_to_marker(c: &mut Client, marker: &[u8]) -> Outcome {
    let mut replies = Vec::new();
    loop {
        match c.read_reply() {
            Ok(r) if r.raw == marker => {
                return Outcome {
                    replies,
                    end: End::Open,
                };
            }
            Ok(r) => replies.push(r),
            Err(e) => {
                return Outcome {
                    replies,
                    end: end_of(e),
                };
            }
        }
    }
}

fn show_outcome(o: &Outcome) -> String {
    let mut s = String::new();
    match o.replies.len() {
        0 => s.push_str("(no reply)"),
        1 => {
            let _ = write!(s, "\"{}\"", escape_trunc(&o.replies[0].raw, SHOW));
        }
        n => {
            let _ = write!(s, "{n} replies:");
            for (i, r) in o.replies.iter().enumerate() {
                let _ = write!(s, "\n            [{i}] \"{}\"", escape_trunc(&r.raw, SHOW));
            }
        }
    }
    let _ = write!(s, "  ({})", o.end.describe());
    s
}

impl Runner<'_> {
    fn state(&mut self) -> &mut ConnState {
        if self.states.len() <= self.slot {
            self.states.resize(self.slot + 1, ConnState::default());
        }
        &mut self.states[self.slot]
    }

    fn step(&mut self, step: &Step) -> Result<(), String> {
        let (oa, ob, expect_end) = match &step.action {
            Action::Sleep(ms) => {
                std::thread::sleep(Duration::from_millis(*ms));
                return Ok(());
            }
            Action::Client(n) => {
                self.slot = *n;
                return Ok(());
            }
            Action::WaitBlocked(n) => return self.wait_blocked(*n),
            Action::Reset => return self.reset(step),
            Action::Cmd(args) => {
                let req = encode_command(args);
                let (oa, ob) = self.exchange(&req, |c| read_n(c, step.replies, step.close))?;
                let end = if step.close {
                    End::Closed { partial: vec![] }
                } else {
                    End::Open
                };
                if oa.end == End::Open && oa.replies.first().is_some_and(|r| !r.is_error()) {
                    self.track_state(args);
                }
                (oa, ob, end)
            }
            Action::Raw(bytes, RawKind::Partial) => {
                for side in [&mut self.a, &mut self.b] {
                    let c = side.client(self.slot)?;
                    if let Err(e) = c.send_raw(bytes) {
                        return Err(format!("{}: send failed: {e}", side.label));
                    }
                }
                self.remember(step, "(sent, nothing read)".into());
                return Ok(());
            }
            Action::Raw(bytes, RawKind::Open) => {
                // A marker command after the bytes tells where their replies end without
                // waiting for silence; it must be a complete request after them.
                self.marker_seq += 1;
                let marker = format!("ringkv-harness-marker-{}", self.marker_seq);
                let mut req = bytes.clone();
                req.extend_from_slice(&encode_command(&["ECHO", marker.as_str()]));
                let marker_reply = format!("${}\r\n{marker}\r\n", marker.len()).into_bytes();
                let (oa, ob) = self.exchange(&req, |c| read_to_marker(c, &marker_reply))?;
                (oa, ob, End::Open)
            }
            Action::Raw(bytes, RawKind::Close) => {
                // No marker here: bytes arriving after the server decided to close could
                // make its kernel answer with a reset and drop the reply we want to compare.
                let (oa, ob) = self.exchange(bytes, |c| {
                    let (replies, e) = c.read_until_close();
                    Outcome {
                        replies,
                        end: end_of(e),
                    }
                })?;
                (oa, ob, End::Closed { partial: vec![] })
            }
        };
        let agree = same_outcome(step.mode, &oa, &ob);
        // Both servers agreeing on something the script did not expect is a script bug
        // (or a Redis surprise) worth reporting; partial bytes before a close still count.
        let expected = match (&expect_end, &oa.end) {
            (End::Closed { .. }, End::Closed { .. }) => true,
            (want, got) => want == got,
        };
        let summary = show_outcome(&oa);
        if !agree || !expected {
            let note = if agree {
                format!(
                    "both servers agree, but the script expects: {}",
                    expect_end.describe()
                )
            } else {
                String::new()
            };
            self.report(step, &oa, &ob, &note);
        }
        self.remember(step, summary);
        for o in [&oa, &ob] {
            if matches!(o.end, End::Timeout { .. }) {
                self.timeouts += 1;
            }
        }
        if oa.end != End::Open || ob.end != End::Open {
            // Resynchronise: both sides continue on fresh connections.
            self.a.drop_client(self.slot);
            self.b.drop_client(self.slot);
            *self.state() = ConnState::default();
            if let Some(d) = self.a.died().or_else(|| self.b.died()) {
                return Err(d);
            }
        }
        Ok(())
    }

    /// Sends `req` to both servers, then reads each with `read`.
    /// Polls `INFO clients` on the current connection of both servers until each reports
    /// `blocked_clients:n` (a condition awaited, not a sleep guessed).
    fn wait_blocked(&mut self, n: usize) -> Result<(), String> {
        for side in [&mut self.a, &mut self.b] {
            let label = side.label;
            side.client(self.slot)?
                .wait_blocked(n)
                .map_err(|e| format!("{label}: {e}"))?;
        }
        Ok(())
    }

    fn exchange(
        &mut self,
        req: &[u8],
        read: impl Fn(&mut Client) -> Outcome,
    ) -> Result<(Outcome, Outcome), String> {
        let mut sent = [Ok(()), Ok(())];
        for (i, side) in [&mut self.a, &mut self.b].into_iter().enumerate() {
            sent[i] = side.client(self.slot)?.send_raw(req);
        }
        let mut out = Vec::with_capacity(2);
        for (i, side) in [&mut self.a, &mut self.b].into_iter().enumerate() {
            let c = side.client(self.slot)?;
            out.push(match &sent[i] {
                Ok(()) => read(c),
                // A server that closed early may reject the write; what it sent before
                // closing is still worth comparing.
                Err(_) => {
                    let (replies, e) = c.read_until_close();
                    Outcome {
                        replies,
                        end: end_of(e),
                    }
                }
            });
        }
        let ob = out.pop().expect("two outcomes");
        let oa = out.pop().expect("two outcomes");
        Ok((oa, ob))
    }

    fn track_state(&mut self, args: &[Vec<u8>]) {
        let name = String::from_utf8_lossy(&args[0]).to_ascii_lowercase();
        let arg1 = args
            .get(1)
            .and_then(|a| std::str::from_utf8(a).ok())
            .and_then(|s| s.parse::<i64>().ok());
        let st = self.state();
        match (name.as_str(), arg1) {
            ("select", Some(db)) => st.db = db,
            ("hello", Some(p)) => st.proto = p,
            ("reset", _) => *st = ConnState::default(),
            _ => {}
        }
    }

    fn reset(&mut self, step: &Step) -> Result<(), String> {
        let mut outcomes = Vec::with_capacity(2);
        for side in [&mut self.a, &mut self.b] {
            // A side connection: the script's own may be in MULTI, subscribed, or closed.
            let mut c = side
                .server
                .try_connect()
                .map_err(|e| format!("{}: cannot connect for @reset: {e}", side.label))?;
            let _ = c.send(&["FLUSHALL"]);
            outcomes.push(read_n(&mut c, 1, false));
            side.clients.clear();
        }
        if !same_outcome(Mode::Exact, &outcomes[0], &outcomes[1]) {
            self.report(step, &outcomes[0], &outcomes[1], "FLUSHALL for @reset");
        }
        self.slot = 0;
        self.states = vec![ConnState::default()];
        self.remember(step, show_outcome(&outcomes[0]));
        Ok(())
    }

    fn remember(&mut self, step: &Step, summary: String) {
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        let summary = if summary.len() > 200 {
            let mut cut = 200;
            while !summary.is_char_boundary(cut) {
                cut -= 1;
            }
            format!("{}...", &summary[..cut])
        } else {
            summary
        };
        self.history
            .push_back(format!("{:>5}: {}  ->  {summary}", step.line, step.text));
    }

    fn report(&mut self, step: &Step, oa: &Outcome, ob: &Outcome, note: &str) {
        let st = *self.state();
        self.failed_lines.push(step.line);
        let mut s = String::new();
        let w = self.a.label.len().max(self.b.label.len());
        let _ = writeln!(s, "--- {}:{}: {}", self.script, step.line, step.text);
        if step.mode != Mode::Exact {
            let _ = writeln!(s, "    compared as {:?}", step.mode);
        }
        let _ = writeln!(s, "    {:w$} : {}", self.a.label, show_outcome(oa));
        let _ = writeln!(s, "    {:w$} : {}", self.b.label, show_outcome(ob));
        if let Some(d) = first_difference(oa, ob, self.a.label, self.b.label, w) {
            s.push_str(&d);
        }
        if !note.is_empty() {
            let _ = writeln!(s, "    note: {note}");
        }
        let _ = writeln!(
            s,
            "    state: connection #{}, db {}, RESP{}",
            self.slot, st.db, st.proto
        );
        for side in [&mut self.a, &mut self.b] {
            let _ = writeln!(
                s,
                "    keyspace {:w$} : {}",
                side.label,
                keyspace(side.server, st.db)
            );
        }
        if !self.history.is_empty() {
            let _ = writeln!(s, "    previous lines ({} replies):", self.a.label);
            for h in &self.history {
                let _ = writeln!(s, "      {h}");
            }
        }
        self.mismatches.push(s);
    }
}

/// For long replies that differ past what the report shows in full: where the first
/// difference is, with a window of both replies around it.
fn first_difference(a: &Outcome, b: &Outcome, la: &str, lb: &str, w: usize) -> Option<String> {
    let (i, (x, y)) = a
        .replies
        .iter()
        .zip(&b.replies)
        .enumerate()
        .find(|(_, (x, y))| x.raw != y.raw)?;
    let at = x.raw.iter().zip(&y.raw).take_while(|(p, q)| p == q).count();
    if at < SHOW / 2 {
        return None; // visible in the replies shown above
    }
    let from = at.saturating_sub(40);
    let window = |r: &[u8]| escape_trunc(&r[from..r.len().min(at + 80)], 200);
    Some(format!(
        "    first difference: reply [{i}], byte {at}:\n    {la:w$} : ...\"{}\"\n    {lb:w$} : ...\"{}\"\n",
        window(&x.raw),
        window(&y.raw)
    ))
}

/// A one-line view of database `db` from a side connection: size and the first keys.
fn keyspace(server: &mut Server, db: i64) -> String {
    let Ok(mut c) = server.try_connect() else {
        return "<cannot connect>".into();
    };
    c.set_timeout(Duration::from_secs(1));
    let mut ask = |args: &[&str]| -> Result<Reply, String> {
        c.send(args).map_err(|e| e.to_string())?;
        c.read_reply().map_err(|e| e.to_string())
    };
    let db_s = db.to_string();
    let text = |r: &Reply| escape_trunc(&r.raw, 80);
    match ask(&["SELECT", &db_s]) {
        Ok(r) if r.is_error() => return format!("SELECT {db}: {}", text(&r)),
        Ok(_) => {}
        Err(e) => return format!("SELECT {db}: {e}"),
    }
    let size = match ask(&["DBSIZE"]) {
        Ok(r) => r
            .as_int()
            .map(|n| n.to_string())
            .unwrap_or_else(|| text(&r)),
        Err(e) => e,
    };
    let keys = match ask(&["KEYS", "*"]) {
        Ok(r) if r.kind == b'*' && !r.null => {
            let mut ks: Vec<Vec<u8>> = r.items.iter().map(|k| k.data.clone()).collect();
            ks.sort();
            let more = ks.len().saturating_sub(10);
            let mut s: Vec<String> = ks
                .iter()
                .take(10)
                .map(|k| format!("\"{}\"", escape_trunc(k, 40)))
                .collect();
            if more > 0 {
                s.push(format!("... {more} more"));
            }
            s.join(" ")
        }
        Ok(r) => text(&r),
        Err(e) => e,
    };
    format!("db {db}: dbsize {size}; keys {keys}")
}
