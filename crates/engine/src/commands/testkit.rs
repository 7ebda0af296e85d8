//! In-process harness for engine tests: `h.run(&["SET", "k", "v"])` returns the raw RESP
//! reply bytes, with a manual clock the test moves (`h.advance_ms(1500)`).

use super::{CmdFn, Ctx, Session};
use crate::clock::Clock;
use crate::engine::{Engine, EngineConfig};
use crate::propagate::RecordingSink;
use resp::Reply;
use std::cell::Cell;
use std::collections::HashMap;
use std::rc::Rc;

pub struct Harness {
    pub engine: Engine,
    pub session: Session,
    pub time: Rc<Cell<i64>>,
    handlers: HashMap<&'static str, CmdFn>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh engine with default config at a fixed time (2026-01-01T00:00:00Z).
    pub fn new() -> Harness {
        Self::with_config(EngineConfig::default())
    }

    pub fn with_config(config: EngineConfig) -> Harness {
        let (clock, time) = Clock::manual(1_767_225_600_000);
        let mut engine = Engine::new(config, clock);
        // Tests observe what commands propagate, as an AOF or a replica would.
        engine.set_sink(Some(Box::new(RecordingSink::default())));
        Harness {
            engine,
            session: Session::default(),
            time,
            handlers: super::engine_handlers().collect(),
        }
    }

    pub fn advance_ms(&self, ms: i64) {
        self.time.set(self.time.get() + ms);
    }

    /// Runs one command and returns the raw reply. Checks arity from the metadata when the
    /// command has it, as the server's gate does.
    pub fn run_bytes(&mut self, args: &[&[u8]]) -> Vec<u8> {
        let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
        let mut out = Vec::new();
        let Some(&handler) = self.handlers.get(name.as_str()) else {
            panic!("engine has no command {name:?}");
        };
        if let Some(meta) = super::table::meta(&name)
            && !meta.arity_ok(args.len())
        {
            let mut r = Reply::new(&mut out, self.session.proto);
            r.error(&crate::CmdError::WrongArity(name).text());
            return out;
        }
        let proto = self.session.proto;
        let dirty = self.engine.dirty;
        let mut ctx = Ctx {
            engine: &mut self.engine,
            session: &mut self.session,
            out: Reply::new(&mut out, proto),
        };
        let result = handler(&mut ctx, args);
        // As the server's runner: side effects of keys the command expired, propagation.
        self.engine.after_command(self.session.db, args, dirty);
        self.engine.end_unit();
        if let Err(e) = result {
            assert!(
                out.is_empty(),
                "handler wrote a reply and then failed: {name}"
            );
            Reply::new(&mut out, proto).error(&e.text());
        }
        out
    }

    /// Everything propagated since the last call, as an AOF would hold it (`SELECT`, `MULTI`
    /// and `EXEC` included), one command per element.
    pub fn take_propagated(&mut self) -> Vec<Vec<Vec<u8>>> {
        self.engine.propagation.take_recorded()
    }

    /// [`Harness::take_propagated`] as lines of space-separated arguments.
    pub fn propagated(&mut self) -> Vec<String> {
        crate::propagate::lines(self.take_propagated())
    }

    /// The last command propagated since the last take (`SELECT`s skipped), and clears.
    pub fn last_propagated(&mut self) -> Option<Vec<Vec<u8>>> {
        self.take_propagated()
            .into_iter()
            .rfind(|argv| argv[0] != b"SELECT")
    }

    /// Detaches the recording sink (propagation then records nothing).
    pub fn stop_propagation(&mut self) {
        self.engine.set_sink(None);
    }

    /// Runs one command given as strings; returns the raw reply as a (lossy) string.
    pub fn run(&mut self, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        String::from_utf8_lossy(&self.run_bytes(&a)).into_owned()
    }
}

/// Runs each command and checks its raw reply, naming the failing line.
#[track_caller]
pub fn script(h: &mut Harness, lines: &[(&[&str], &str)]) {
    for (args, want) in lines {
        assert_eq!(h.run(args), *want, "command {args:?}");
    }
}

/// Raw replies the tests compare against, as Redis 7.0.15 writes them.
pub mod reply {
    pub const OK: &str = "+OK\r\n";
    pub const NIL: &str = "$-1\r\n";
    pub const WRONGTYPE: &str =
        "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
    pub const SYNTAX: &str = "-ERR syntax error\r\n";
    pub const NOT_INT: &str = "-ERR value is not an integer or out of range\r\n";
    pub const NOT_FLOAT: &str = "-ERR value is not a valid float\r\n";
}
