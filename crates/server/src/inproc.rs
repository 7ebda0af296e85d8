//! An in-process server: the real `Server`, gate and runner without sockets or a ring, on a
//! clock the caller moves. Clients are connections without a socket whose replies
//! accumulate in their output. For tests (the propagation tests in `dispatch`, the
//! differential propagation test against Redis's AOF), and the shape a later client-less
//! caller (AOF loading) can take.

use crate::client::Conn;
use crate::features::config::Config;
use crate::server::Server;
use engine::propagate::RecordingSink;
use engine::{Clock, Engine};
use std::cell::Cell;
use std::rc::Rc;

pub struct InProcess {
    pub server: Server,
    time: Rc<Cell<i64>>,
}

impl InProcess {
    /// A server with the default configuration at `now_ms`, propagating into a
    /// [`RecordingSink`].
    pub fn new(now_ms: i64) -> InProcess {
        let config = Config::new();
        let (clock, time) = Clock::manual(now_ms);
        let mut engine = Engine::new(config.engine_config(), clock);
        engine.set_sink(Some(Box::new(RecordingSink::default())));
        let server = Server::new(config, engine).expect("default config");
        InProcess { server, time }
    }

    /// A new client (no socket); returns its key.
    pub fn client(&mut self) -> usize {
        let id = self.server.next_client_id;
        self.server.next_client_id += 1;
        let now = self.server.now_ms();
        let key = self.server.clients.insert(Conn::new(-1, 1, id, now));
        crate::features::acl::set_default_auth(&mut self.server, key);
        key
    }

    /// Runs one request for client `key` through the gate; returns (and clears) what the
    /// client received since the last call, as raw RESP.
    pub fn run_bytes(&mut self, key: usize, args: &[&[u8]]) -> Vec<u8> {
        crate::dispatch::gate::execute(&mut self.server, key, args);
        self.take_output(key)
    }

    /// [`InProcess::run_bytes`] with string arguments and a lossy string reply.
    pub fn run(&mut self, key: usize, args: &[&str]) -> String {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        String::from_utf8_lossy(&self.run_bytes(key, &a)).into_owned()
    }

    /// What client `key` received and has not been taken yet (a served blocked client).
    pub fn take_output(&mut self, key: usize) -> Vec<u8> {
        std::mem::take(&mut self.server.clients[key].pending)
    }

    /// The propagated stream since the last call, as an AOF holds it.
    pub fn take_propagated(&mut self) -> Vec<Vec<Vec<u8>>> {
        self.server.engine.propagation.take_recorded()
    }

    /// [`InProcess::take_propagated`] as lines of space-separated arguments.
    pub fn propagated(&mut self) -> Vec<String> {
        engine::propagate::lines(self.take_propagated())
    }

    pub fn advance_ms(&self, ms: i64) {
        self.time.set(self.time.get() + ms);
    }

    /// Runs the periodic keyspace job once (active expiry included).
    pub fn cron(&mut self) {
        self.server.engine.cron();
    }
}
