//! Propagation: the stream of write effects an AOF or a replica consumes, in the
//! deterministic form and order Redis 7.0.15 writes to its AOF.
//!
//! Model (Redis 7.0's `alsoPropagate` / `propagatePendingCommands`):
//! - While a command runs, effects that are not the command itself are added as ops at
//!   once, in order: keys deleted by expiry become `DEL key` ([`Propagation::add`] via
//!   `Engine::flush_expired`), SPOP with a count adds one `SREM` per member.
//! - When the command ends ([`Propagation::end_command`]), if it wrote (`dirty` grew) and did
//!   not [`Propagation::prevent`] it, the command itself is added, as sent or as rewritten
//!   ([`Propagation::rewrite`]: SET EX → SET PXAT, INCRBYFLOAT → SET KEEPTTL, BLPOP → LPOP…),
//!   in the db selected *after* it ran.
//! - An execution unit (a top-level command, a whole EXEC, one served blocked client, one
//!   key deleted by the active expiry cycle) ends with [`Propagation::end_unit`]: its ops go
//!   to the [`Sink`], wrapped in `MULTI` … `EXEC` when there is more than one (MULTI in the
//!   first op's db, EXEC in the last's, so a consumer that tracks the selected db writes
//!   `SELECT` before `MULTI`, as 7.0 does). One op goes unwrapped; none, nothing.
//!
//! Invariant: nothing is copied unless a sink is attached (`listening`): without an AOF or
//! replica this costs a branch per command.

use std::any::Any;

/// One command to propagate, in db `db`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Op {
    pub db: usize,
    pub argv: Vec<Vec<u8>>,
}

/// A consumer of the propagated stream: later the AOF and the replication backlog.
/// `feed` gets each command with the db it applies to; inserting `SELECT` when the db
/// changes is the consumer's job (each tracks its own selected db), see [`SelectTracker`].
pub trait Sink: Any {
    fn feed(&mut self, db: usize, argv: &[Vec<u8>]);
    /// For tests that inspect a concrete sink behind the trait object.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// Tracks the db a consumer's stream has selected (Redis's `aof_selected_db` /
/// `slaveseldb`): says when a `SELECT` must precede the next command.
#[derive(Clone, Copy, Debug, Default)]
pub struct SelectTracker {
    selected: Option<usize>,
}

impl SelectTracker {
    /// Returns `Some(db)` when `SELECT db` must be written before a command in `db`.
    pub fn select(&mut self, db: usize) -> Option<usize> {
        if self.selected == Some(db) {
            None
        } else {
            self.selected = Some(db);
            Some(db)
        }
    }

    /// Forget the selected db (a new AOF file, a new replica stream).
    pub fn reset(&mut self) {
        self.selected = None;
    }

    /// The db the stream has selected (None: the next command writes a SELECT).
    pub fn selected(&self) -> Option<usize> {
        self.selected
    }
}

/// A sink that records the stream as an AOF would hold it (with `SELECT`s): for tests.
#[derive(Debug, Default)]
pub struct RecordingSink {
    select: SelectTracker,
    pub commands: Vec<Vec<Vec<u8>>>,
}

impl RecordingSink {
    /// The recorded commands as strings (lossy), each argument joined by a space, and clears.
    pub fn take_lines(&mut self) -> Vec<String> {
        lines(std::mem::take(&mut self.commands))
    }
}

/// Commands as strings (lossy), each argument joined by a space: how tests compare streams.
pub fn lines(commands: Vec<Vec<Vec<u8>>>) -> Vec<String> {
    commands
        .into_iter()
        .map(|argv| {
            argv.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

impl Sink for RecordingSink {
    fn feed(&mut self, db: usize, argv: &[Vec<u8>]) {
        if let Some(db) = self.select.select(db) {
            self.commands
                .push(vec![b"SELECT".to_vec(), db.to_string().into_bytes()]);
        }
        self.commands.push(argv.to_vec());
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// The propagation point the engine's commands write to (see the module doc).
#[derive(Default)]
pub struct Propagation {
    /// Whether a sink is attached: only then is anything recorded.
    pub listening: bool,
    /// The consumers (the AOF, the replication stream, a test's recorder), each fed every
    /// unit in order.
    sinks: Vec<Box<dyn Sink>>,
    /// The current execution unit's ops (Redis's `server.also_propagate`).
    ops: Vec<Op>,
    /// Replaces the current command, if set.
    rewritten: Option<Vec<Vec<u8>>>,
    /// The current command itself is not propagated, only what it added.
    suppressed: bool,
}

impl std::fmt::Debug for Propagation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Propagation")
            .field("listening", &self.listening)
            .field("ops", &self.ops)
            .field("rewritten", &self.rewritten)
            .field("suppressed", &self.suppressed)
            .finish()
    }
}

fn owned(argv: &[&[u8]]) -> Vec<Vec<u8>> {
    argv.iter().map(|a| a.to_vec()).collect()
}

impl Propagation {
    /// Attaches the only consumer of the stream (replacing any), or detaches all with
    /// `None` (tests). Call `Engine::refresh_expire_logging` afterwards (expired keys are
    /// logged for it).
    pub fn set_sink(&mut self, sink: Option<Box<dyn Sink>>) {
        self.restore_sinks(sink.into_iter().collect());
    }

    /// Adds a consumer beside those attached.
    pub fn attach(&mut self, sink: Box<dyn Sink>) {
        self.sinks.push(sink);
        self.listening = true;
    }

    /// Detaches the consumer of type `T`, if attached.
    pub fn detach<T: Sink>(&mut self) -> Option<Box<dyn Sink>> {
        let i = self
            .sinks
            .iter_mut()
            .position(|s| s.as_any_mut().is::<T>())?;
        let s = self.sinks.remove(i);
        if self.sinks.is_empty() {
            self.restore_sinks(Vec::new());
        }
        Some(s)
    }

    /// Detaches every consumer, returning them (to attach them again with
    /// [`Propagation::restore_sinks`]).
    pub fn take_sinks(&mut self) -> Vec<Box<dyn Sink>> {
        let sinks = std::mem::take(&mut self.sinks);
        self.restore_sinks(Vec::new());
        sinks
    }

    /// Replaces the consumers with `sinks`, dropping what the current unit had gathered.
    pub fn restore_sinks(&mut self, sinks: Vec<Box<dyn Sink>>) {
        self.listening = !sinks.is_empty();
        self.sinks = sinks;
        self.ops.clear();
        self.rewritten = None;
        self.suppressed = false;
    }

    /// The attached consumer of type `T`, if any.
    pub fn sink_mut<T: Sink>(&mut self) -> Option<&mut T> {
        self.sinks
            .iter_mut()
            .find_map(|s| s.as_any_mut().downcast_mut::<T>())
    }

    /// What a [`RecordingSink`] attached here recorded since the last take (tests); nothing
    /// when another sink or none is attached.
    pub fn take_recorded(&mut self) -> Vec<Vec<Vec<u8>>> {
        self.sink_mut::<RecordingSink>()
            .map(|s| std::mem::take(&mut s.commands))
            .unwrap_or_default()
    }

    /// Replaces what the current command propagates (Redis's `rewriteClientCommandVector`).
    pub fn rewrite(&mut self, argv: &[&[u8]]) {
        if self.listening {
            self.rewritten = Some(owned(argv));
        }
    }

    /// Propagates `argv` in db `db` now, before the current command's own (Redis's
    /// `alsoPropagate`).
    pub fn add(&mut self, db: usize, argv: &[&[u8]]) {
        if self.listening {
            self.ops.push(Op {
                db,
                argv: owned(argv),
            });
        }
    }

    /// The current command is not propagated itself, only what it added (Redis's
    /// `preventCommandPropagation`).
    pub fn prevent(&mut self) {
        self.suppressed = true;
    }

    /// The end of one command (Redis's `call()` after the handler): adds the command itself,
    /// as rewritten, if it wrote. `db` is the db selected after it ran.
    pub fn end_command(&mut self, db: usize, argv: &[&[u8]], wrote: bool) {
        let rewritten = self.rewritten.take();
        let suppressed = std::mem::replace(&mut self.suppressed, false);
        if !self.listening || !wrote || suppressed {
            return;
        }
        let argv = rewritten.unwrap_or_else(|| owned(argv));
        self.ops.push(Op { db, argv });
    }

    /// Drops the unit's ops after the first `n` (a script's `redis.set_repl(REPL_NONE)`).
    pub fn truncate(&mut self, n: usize) {
        self.ops.truncate(n);
    }

    /// Ops of the unit so far (tests).
    pub fn pending(&self) -> &[Op] {
        &self.ops
    }

    /// The end of an execution unit (Redis's `propagatePendingCommands`): sends its ops to
    /// the sink, wrapped in MULTI/EXEC when `transaction` and there are several; with
    /// `transaction` false each op goes alone (the active expiry cycle).
    pub fn end_unit(&mut self, transaction: bool) {
        if self.ops.is_empty() {
            return;
        }
        let wrap = transaction && self.ops.len() > 1;
        for sink in &mut self.sinks {
            if wrap {
                sink.feed(self.ops[0].db, &[b"MULTI".to_vec()]);
            }
            for op in &self.ops {
                sink.feed(op.db, &op.argv);
            }
            if wrap {
                let last = self.ops[self.ops.len() - 1].db;
                sink.feed(last, &[b"EXEC".to_vec()]);
            }
        }
        self.ops.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording() -> Propagation {
        let mut p = Propagation::default();
        p.set_sink(Some(Box::new(RecordingSink::default())));
        p
    }

    fn lines(p: &mut Propagation) -> Vec<String> {
        p.sink_mut::<RecordingSink>().unwrap().take_lines()
    }

    #[test]
    fn one_op_goes_unwrapped_with_a_select_first() {
        let mut p = recording();
        p.end_command(0, &[b"set", b"a", b"1"], true);
        p.end_unit(true);
        p.end_command(0, &[b"get", b"a"], false);
        p.end_unit(true);
        p.end_command(2, &[b"set", b"x", b"1"], true);
        p.end_unit(true);
        assert_eq!(
            lines(&mut p),
            ["SELECT 0", "set a 1", "SELECT 2", "set x 1"]
        );
    }

    #[test]
    fn several_ops_are_wrapped_with_select_before_multi() {
        let mut p = recording();
        p.end_command(5, &[b"SET", b"a", b"1"], true);
        p.end_command(3, &[b"SET", b"b", b"2"], true);
        p.end_unit(true);
        assert_eq!(
            lines(&mut p),
            [
                "SELECT 5", "MULTI", "SET a 1", "SELECT 3", "SET b 2", "EXEC"
            ]
        );
    }

    #[test]
    fn added_ops_precede_the_command_and_prevent_drops_it() {
        let mut p = recording();
        p.add(0, &[b"DEL", b"e"]);
        p.rewrite(&[b"SET", b"e", b"1"]);
        p.end_command(0, &[b"incr", b"e"], true);
        p.end_unit(true);
        p.add(0, &[b"SREM", b"s", b"a"]);
        p.prevent();
        p.end_command(0, &[b"spop", b"s", b"1"], true);
        p.end_unit(true);
        assert_eq!(
            lines(&mut p),
            ["SELECT 0", "MULTI", "DEL e", "SET e 1", "EXEC", "SREM s a"]
        );
    }

    #[test]
    fn active_expiry_units_are_not_wrapped() {
        let mut p = recording();
        p.add(0, &[b"DEL", b"a"]);
        p.add(1, &[b"DEL", b"b"]);
        p.end_unit(false);
        assert_eq!(lines(&mut p), ["SELECT 0", "DEL a", "SELECT 1", "DEL b"]);
    }

    /// A second consumer (a replication stream beside the AOF) sees the same units, with
    /// its own SELECT tracking; detaching one leaves the other.
    #[derive(Default)]
    struct Other(RecordingSink);
    impl Sink for Other {
        fn feed(&mut self, db: usize, argv: &[Vec<u8>]) {
            self.0.feed(db, argv);
        }
        fn as_any_mut(&mut self) -> &mut dyn Any {
            self
        }
    }

    #[test]
    fn every_attached_sink_gets_every_unit() {
        let mut p = recording();
        p.attach(Box::new(Other::default()));
        p.add(1, &[b"DEL", b"k"]);
        p.end_command(1, &[b"SET", b"k", b"v"], true);
        p.end_unit(true);
        let other = p.sink_mut::<Other>().unwrap().0.take_lines();
        assert_eq!(other, lines(&mut p));
        assert_eq!(other, ["SELECT 1", "MULTI", "DEL k", "SET k v", "EXEC"]);
        assert!(p.detach::<RecordingSink>().is_some());
        assert!(p.listening);
        p.end_command(1, &[b"SET", b"k", b"w"], true);
        p.end_unit(true);
        assert_eq!(p.sink_mut::<Other>().unwrap().0.take_lines(), ["SET k w"]);
        assert!(p.detach::<Other>().is_some());
        assert!(!p.listening);
    }

    #[test]
    fn nothing_is_recorded_without_a_sink() {
        let mut p = Propagation::default();
        p.add(0, &[b"DEL", b"a"]);
        p.rewrite(&[b"X"]);
        p.end_command(0, &[b"set", b"a", b"1"], true);
        assert!(p.pending().is_empty());
        p.end_unit(true);
    }
}
