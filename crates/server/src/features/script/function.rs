//! FUNCTION and FCALL (Redis 7.0's functions.c / function_lua.c).

use super::RunCtx;
use crate::server::Server;
use engine::{CmdError, CmdResult};
use mlua::{Lua, Table};
use std::rc::Rc;

/// What `redis.register_function` collects while a library loads.
pub struct Loading {}

pub struct Functions {}

impl Functions {
    pub fn new(_ctx: &Rc<RunCtx>) -> Functions {
        Functions {}
    }
}

pub fn register_api(_lua: &Lua, _raw: &Table, _ctx: &Rc<RunCtx>) -> mlua::Result<()> {
    Ok(())
}

pub fn fcall(_server: &mut Server, _key: usize, _args: &[&[u8]]) -> CmdResult {
    Err(CmdError::Static("ERR Function not found"))
}

pub fn fcall_ro(_server: &mut Server, _key: usize, _args: &[&[u8]]) -> CmdResult {
    Err(CmdError::Static("ERR Function not found"))
}

pub fn function(_server: &mut Server, _key: usize, _args: &[&[u8]]) -> CmdResult {
    Err(CmdError::Static("ERR not yet"))
}
