//! Wall-clock time for the engine, movable by tests.

use std::cell::Cell;
use std::rc::Rc;

/// The engine's clock. `System` reads the OS clock; `Manual` is a shared cell that tests set
/// and advance, so TTL tests never sleep.
#[derive(Clone, Debug)]
pub enum Clock {
    System,
    Manual(Rc<Cell<i64>>),
}

impl Clock {
    /// A manual clock starting at `ms` (Unix milliseconds) and a handle to move it.
    pub fn manual(ms: i64) -> (Clock, Rc<Cell<i64>>) {
        let c = Rc::new(Cell::new(ms));
        (Clock::Manual(c.clone()), c)
    }

    /// Unix time in milliseconds.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        self.now_us() / 1000
    }

    /// Unix time in microseconds.
    #[inline]
    pub fn now_us(&self) -> i64 {
        match self {
            Clock::System => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_micros() as i64)
                .unwrap_or(0),
            Clock::Manual(c) => c.get() * 1000,
        }
    }
}
