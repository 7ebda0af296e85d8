//! File writes and fsyncs on the ring, for any subsystem (the AOF, a snapshot writing its
//! RDB slices): the owner queues a request here, the loop submits it at the end of the turn
//! and hands the completion back to the owner. No handler touches the ring.
//!
//! API:
//! - [`FileIo::write`]`(owner, token, fd, offset, buf, sync)`: writes all of `buf` at
//!   `offset` (a short write is continued), then, if `sync` is not [`Sync::None`], an
//!   `fsync`/`fdatasync` linked after it (`IOSQE_IO_LINK`: the sync starts only when the
//!   write completed, and one sync covers all the file's earlier writes too).
//! - [`FileIo::sync`]`(owner, token, fd, kind)`: only the fsync (`appendfsync everysec`).
//! - Completions arrive as [`Done`] in the owner's arm of [`crate::server::Server::file_done`]
//!   (`Owner::Aof` → `features::aof::on_file_done`, `Owner::Snapshot` →
//!   `features::persistence::on_file_done`). Add an [`Owner`] variant and an arm
//!   there for a new subsystem; `token` is the owner's own tag (a sequence number...).
//!
//! Invariants: the buffer belongs to this module from `write` until its `Done` (the ring
//! reads it; it is kept in `inflight`, whose slots never move their heap data). The fd
//! must stay open until the `Done` (the owner keeps it). Requests of one owner on one fd
//! are independent: an owner that needs ordering (the AOF) keeps one write in flight.

use slab::Slab;
use std::os::fd::RawFd;

/// Who gets a completion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Aof,
    /// The background save's RDB file (`features::persistence`).
    Snapshot,
}

/// What to do after the write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    None,
    /// `fsync`
    Full,
    /// `fdatasync` (Redis's `redis_fsync` on Linux)
    Data,
}

/// A finished request.
#[derive(Debug)]
pub struct Done {
    pub owner: Owner,
    pub token: u64,
    /// Bytes written (all of them unless `result` is an error).
    pub written: usize,
    /// Ok, or the errno of the first failure (write or sync).
    pub result: Result<(), i32>,
    /// Whether the sync asked for ran (and succeeded).
    pub synced: bool,
    /// The request's buffer, back to its owner (to retry or reuse).
    pub buf: Vec<u8>,
}

/// A request on the ring (or waiting for the loop to submit it).
#[derive(Debug)]
pub struct InFlight {
    pub owner: Owner,
    pub token: u64,
    pub fd: RawFd,
    pub offset: u64,
    pub buf: Vec<u8>,
    pub written: usize,
    pub sync: Sync,
    pub synced: bool,
    /// SQEs on the ring for this request.
    pub sqes: u8,
    pub error: Option<i32>,
}

impl InFlight {
    /// Whether another write must go (a short write is continued).
    pub fn needs_write(&self) -> bool {
        self.error.is_none() && self.written < self.buf.len()
    }
    /// Whether the sync must still go.
    pub fn needs_sync(&self) -> bool {
        self.error.is_none() && self.sync != Sync::None && !self.synced
    }
}

#[derive(Debug, Default)]
pub struct FileIo {
    /// Requests by slab key (the ring's user_data key).
    pub inflight: Slab<InFlight>,
    /// Keys of requests the loop must submit (new ones and continued short writes).
    pub to_submit: Vec<usize>,
    /// Finished requests, for [`crate::server::Server::file_done`].
    pub done: Vec<Done>,
}

impl FileIo {
    /// Queues a write of `buf` at `offset` of `fd`, followed by `sync`.
    pub fn write(
        &mut self,
        owner: Owner,
        token: u64,
        fd: RawFd,
        offset: u64,
        buf: Vec<u8>,
        sync: Sync,
    ) {
        let key = self.inflight.insert(InFlight {
            owner,
            token,
            fd,
            offset,
            buf,
            written: 0,
            sync,
            synced: false,
            sqes: 0,
            error: None,
        });
        self.to_submit.push(key);
    }

    /// Queues an fsync (or fdatasync) of `fd`.
    pub fn sync(&mut self, owner: Owner, token: u64, fd: RawFd, sync: Sync) {
        self.write(owner, token, fd, 0, Vec::new(), sync);
    }

    /// Whether anything is queued or in flight.
    pub fn busy(&self) -> bool {
        !self.inflight.is_empty()
    }

    /// A write CQE for request `key`.
    pub fn on_write(&mut self, key: usize, res: i32) {
        let Some(r) = self.inflight.get_mut(key) else {
            return;
        };
        r.sqes -= 1;
        if res < 0 {
            r.error.get_or_insert(-res);
        } else if res == 0 && !r.buf.is_empty() {
            // No progress on a regular file: treat as out of space, as Redis does.
            r.error.get_or_insert(libc::ENOSPC);
        } else {
            r.written += res as usize;
        }
        self.settle(key);
    }

    /// A sync CQE for request `key`.
    pub fn on_sync(&mut self, key: usize, res: i32) {
        let Some(r) = self.inflight.get_mut(key) else {
            return;
        };
        r.sqes -= 1;
        if res == -libc::ECANCELED && r.needs_write() {
            // The linked write was short: the sync goes again after the rest.
        } else if res < 0 {
            r.error.get_or_insert(-res);
        } else {
            r.synced = true;
        }
        self.settle(key);
    }

    /// After a CQE: resubmit what is left, or finish.
    fn settle(&mut self, key: usize) {
        let r = &self.inflight[key];
        if r.sqes > 0 {
            return;
        }
        if r.needs_write() || r.needs_sync() {
            self.to_submit.push(key);
            return;
        }
        let r = self.inflight.remove(key);
        self.done.push(Done {
            owner: r.owner,
            token: r.token,
            written: r.written,
            result: r.error.map_or(Ok(()), Err),
            synced: r.synced,
            buf: r.buf,
        });
    }
}
