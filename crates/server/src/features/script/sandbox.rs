//! The raw accessors of the sandbox (`rawset`, `rawget`, `next`, `pairs`, `setmetatable`,
//! `getmetatable`), wrapped as Redis 7.0's patched Lua behaves: its readonly tables refuse
//! raw writes too (`Attempt to modify a readonly table`, with no position: the check is in
//! C), and its `_G` holds the globals, which ours keeps in a backing table (see
//! prelude.lua), so raw reads and traversals of `_G` go there.
//!
//! The wrappers are Rust (C) functions, as the originals are: a script that tail-calls one
//! keeps its frame, and an argument error names the function and the script's line exactly
//! as Lua places `luaL_error`'s message.

use super::{ScriptRaise, raise_msg};
use mlua::{Function, Lua, MultiValue, Table, Value};

fn readonly() -> mlua::Error {
    mlua::Error::external(ScriptRaise::Msg(
        "Attempt to modify a readonly table".into(),
    ))
}

/// Calls the built-in `f` for the wrapper `name`. Called from here (C), its argument
/// errors name `?` and no position; they are raised again as the script's call would
/// have raised them. Errors the Lua core raises from C (`table index is nil`) carry no
/// position either way.
fn call(lua: &Lua, name: &str, f: &Function, args: MultiValue) -> mlua::Result<MultiValue> {
    f.call::<MultiValue>(args).map_err(|e| {
        let mlua::Error::RuntimeError(m) = e else {
            return e;
        };
        // mlua adds a traceback to a Lua error's text.
        let m = m.split("\nstack traceback:").next().unwrap_or_default();
        if m.starts_with("bad argument") || m.starts_with("wrong number of arguments") {
            raise_msg(lua, &m.replacen("to '?'", &format!("to '{name}'"), 1))
        } else {
            mlua::Error::external(ScriptRaise::Msg(m.to_string()))
        }
    })
}

fn same(v: Option<&Value>, t: &Table) -> bool {
    matches!(v, Some(Value::Table(x)) if x.to_pointer() == t.to_pointer())
}

fn is_protected(protected: &Table, v: Option<&Value>) -> mlua::Result<bool> {
    Ok(match v {
        Some(v @ Value::Table(_)) => {
            protected.raw_get::<Value>(v.clone())?.as_boolean() == Some(true)
        }
        _ => false,
    })
}

/// `raw.guards(G, backing, protected, string_mt, string_mt_proxy)`: a table of the
/// wrappers, by the names of the built-ins they replace (read from `G`).
pub fn register(lua: &Lua, raw: &Table) -> mlua::Result<()> {
    raw.set(
        "guards",
        lua.create_function(
            |lua, (g, backing, protected, smt, smt_proxy): (Table, Table, Table, Table, Table)| {
                let out = lua.create_table()?;
                let orig = |n: &str| g.raw_get::<Function>(n);

                // Writers: refused on a protected table.
                for name in ["rawset", "setmetatable"] {
                    let f = orig(name)?;
                    let p = protected.clone();
                    out.raw_set(
                        name,
                        lua.create_function(move |lua, args: MultiValue| {
                            if is_protected(&p, args.front())? {
                                return Err(readonly());
                            }
                            call(lua, name, &f, args)
                        })?,
                    )?;
                }

                // Readers of `_G`: the backing table instead.
                let (f, gg, b) = (orig("rawget")?, g.clone(), backing.clone());
                out.raw_set(
                    "rawget",
                    lua.create_function(move |lua, mut args: MultiValue| {
                        if same(args.front(), &gg) {
                            args[0] = Value::Table(b.clone());
                        }
                        call(lua, "rawget", &f, args)
                    })?,
                )?;
                let (f, gg, b) = (orig("next")?, g.clone(), backing.clone());
                let next = lua.create_function(move |lua, mut args: MultiValue| {
                    if same(args.front(), &gg) {
                        args[0] = Value::Table(b.clone());
                    }
                    call(lua, "next", &f, args)
                })?;
                out.raw_set("next", next.clone())?;
                let (f, gg) = (orig("pairs")?, g.clone());
                out.raw_set(
                    "pairs",
                    lua.create_function(move |lua, args: MultiValue| {
                        if same(args.front(), &gg) {
                            let r = vec![Value::Function(next.clone()), Value::Table(gg.clone())];
                            return Ok(MultiValue::from_vec(r));
                        }
                        call(lua, "pairs", &f, args)
                    })?,
                )?;

                // The strings' metatable is seen through its read-only proxy.
                let f = orig("getmetatable")?;
                out.raw_set(
                    "getmetatable",
                    lua.create_function(move |lua, args: MultiValue| {
                        let r = call(lua, "getmetatable", &f, args)?;
                        if same(r.front(), &smt) {
                            return Ok(MultiValue::from_vec(vec![Value::Table(smt_proxy.clone())]));
                        }
                        Ok(r)
                    })?,
                )?;
                Ok(out)
            },
        )?,
    )?;
    Ok(())
}
