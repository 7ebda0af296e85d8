//! A client's MULTI state: whether it is in a transaction, whether queueing failed, and the
//! queued commands with their arguments (the commands are `dispatch::multi`'s).
//!
//! Invariant: queued arguments are owned copies in one arena per client (`args`, with
//! `ends`), so queueing costs no allocation per argument and the buffers are reused by the
//! next transaction.

/// One queued command: its row in the command table (resolved at queue time, subcommand
/// included; an index, so a client knows nothing of handlers) and its arguments
/// `ends[first..first + argc]` in the arena.
#[derive(Clone, Copy)]
pub struct Queued {
    pub row: usize,
    first: usize,
    argc: usize,
}

/// A client's MULTI state.
#[derive(Default)]
pub struct MultiState {
    /// In MULTI (Redis's `CLIENT_MULTI`).
    pub active: bool,
    /// A queueing error happened (`CLIENT_DIRTY_EXEC`).
    pub aborted: bool,
    pub cmds: Vec<Queued>,
    /// Every queued argument, back to back.
    args: Vec<u8>,
    /// End offset in `args` of each argument.
    ends: Vec<usize>,
}

impl MultiState {
    /// Queued commands (CLIENT LIST `multi=`): -1 outside MULTI.
    pub fn count(&self) -> i64 {
        if self.active {
            self.cmds.len() as i64
        } else {
            -1
        }
    }

    /// CLIENT LIST `multi-mem`, as Redis 7.0 counts it (`argv_len_sums`): the queued
    /// arguments' bytes plus a pointer per argument.
    pub fn memory(&self) -> usize {
        self.args.len() + std::mem::size_of::<usize>() * self.ends.len()
    }

    /// Ends the transaction, keeping the buffers for the next one.
    pub fn clear(&mut self) {
        self.active = false;
        self.aborted = false;
        self.cmds.clear();
        self.args.clear();
        self.ends.clear();
    }

    pub fn push(&mut self, row: usize, args: &[&[u8]]) {
        let first = self.ends.len();
        for a in args {
            self.args.extend_from_slice(a);
            self.ends.push(self.args.len());
        }
        self.cmds.push(Queued {
            row,
            first,
            argc: args.len(),
        });
    }

    /// The arguments of queued command `q`.
    pub fn argv<'s>(&'s self, q: &Queued, out: &mut Vec<&'s [u8]>) {
        out.clear();
        for i in q.first..q.first + q.argc {
            let start = if i == 0 { 0 } else { self.ends[i - 1] };
            out.push(&self.args[start..self.ends[i]]);
        }
    }
}
