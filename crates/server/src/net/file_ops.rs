//! File writes and fsyncs for [`crate::fileio`]: the loop submits the queued requests once
//! per turn (a write and, when asked, a sync linked after it) and feeds their completions
//! back; the owners see only `Server::fileio` and their `Done`s.

use super::*;
use crate::fileio::Sync;

impl EventLoop {
    /// Submits every queued file request (new ones and the rest of short writes).
    pub(super) fn submit_file_ops(&mut self) {
        let fio = &mut self.server.fileio;
        while let Some(key) = fio.to_submit.pop() {
            let r = &mut fio.inflight[key];
            let fd = types::Fd(r.fd);
            if r.needs_write() {
                let rest = &r.buf[r.written..];
                let mut w = opcode::Write::new(fd, rest.as_ptr(), rest.len() as u32)
                    .offset(r.offset + r.written as u64)
                    .build()
                    .user_data(ud(Op::FileWrite, key, 0));
                if r.needs_sync() {
                    w = w.flags(squeue::Flags::IO_LINK);
                }
                r.sqes += 1;
                push(&mut self.ring, w);
            }
            if r.needs_sync() {
                let mut f = opcode::Fsync::new(fd);
                if r.sync == Sync::Data {
                    f = f.flags(types::FsyncFlags::DATASYNC);
                }
                r.sqes += 1;
                push(
                    &mut self.ring,
                    f.build().user_data(ud(Op::FileSync, key, 0)),
                );
            }
        }
    }

    /// A write or sync completion: recorded, then the owners handle what finished.
    pub(super) fn on_file_op(&mut self, op: Op, key: usize, res: i32) {
        if op == Op::FileWrite {
            self.server.fileio.on_write(key, res);
        } else {
            self.server.fileio.on_sync(key, res);
        }
        if !self.server.fileio.done.is_empty() {
            self.server.file_done();
        }
    }
}
