-- The Lua side of ringkv's scripting sandbox (chunk name "=redis_internal"), run once per
-- Lua state with the table of Rust functions. Builds what Redis 7.0's script_lua.c builds in
-- C: the redis.* API, the pcall that hands back an error table's text, math.random over
-- Redis's lrand48, cjson and bit over Rust, the error handler that adds the script's
-- source and line, and the read-only globals. Rust callbacks never raise: they return
-- (value, failed) and the wrappers here raise, so errors are Lua tables or strings exactly
-- as Redis raises them (tables for redis.call, positioned strings for library errors):
-- a Rust error reaches Lua as a userdata, which `unwrap` turns back into that value.
local raw, mode = ...
local error, type, tostring, select, setmetatable, rawget, rawset, pairs =
    error, type, tostring, select, setmetatable, rawget, rawset, pairs
local dbg = debug
local G = _G
local INTERNAL = '=redis_internal'
local unwrap = raw.unwrap

-- Redis's __redis__err__handler: the frame that raised (skipping C functions and these
-- wrappers), a string error becoming {err='ERR ' .. msg}.
local function handler(err)
  local lvl, i = 2, nil
  while true do
    i = dbg.getinfo(lvl, 'Sl')
    if not i then break end
    if i.what ~= 'C' and i.source ~= INTERNAL then break end
    lvl = lvl + 1
  end
  if type(err) == 'userdata' then err = unwrap(err) end
  if type(err) ~= 'table' then
    err = {err = 'ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end

local redis = {}
redis.call = raw.call
redis.pcall = raw.pcall

local function err_table(msg)
  return {err = msg}
end

redis.error_reply = function(...)
  local e = ...
  if select('#', ...) ~= 1 or type(e) ~= 'string' then
    return err_table('ERR wrong number or type of arguments')
  end
  return raw.error_table(e)
end
redis.status_reply = function(...)
  local s = ...
  if select('#', ...) ~= 1 or type(s) ~= 'string' then
    return err_table('ERR wrong number or type of arguments')
  end
  return {ok = s}
end
redis.sha1hex = raw.sha1hex
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.log = raw.log
redis.setresp = raw.setresp
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.set_repl = raw.set_repl
redis.replicate_commands = function() return true end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.acl_check_cmd = raw.acl_check_cmd
redis.REDIS_VERSION = '7.0.15'
redis.REDIS_VERSION_NUM = 458767


-- math.random / math.randomseed over Redis's redisLrand48 (one sequence for the process).
math.random = raw.random
math.randomseed = raw.randomseed

cjson = {
  encode = raw.cjson_encode,
  decode = raw.cjson_decode,
  null = raw.null,
  _NAME = 'cjson',
  _VERSION = '2.1.0',
  encode_keep_buffer = raw.cjson_encode_keep_buffer,
  encode_max_depth = raw.cjson_encode_max_depth,
  decode_max_depth = raw.cjson_decode_max_depth,
  encode_number_precision = raw.cjson_encode_number_precision,
  encode_invalid_numbers = raw.cjson_encode_invalid_numbers,
  decode_invalid_numbers = raw.cjson_decode_invalid_numbers,
  encode_sparse_array = raw.cjson_encode_sparse_array,
}

struct = {pack = raw.struct_pack, unpack = raw.struct_unpack, size = raw.struct_size}
cmsgpack = {
  pack = raw.cmsgpack_pack,
  unpack = raw.cmsgpack_unpack,
  unpack_one = raw.cmsgpack_unpack_one,
  unpack_limit = raw.cmsgpack_unpack_limit,
  _NAME = 'cmsgpack',
  _VERSION = 'lua-cmsgpack 0.4.0',
}

bit = {}
for _, name in pairs({'tobit', 'tohex', 'bnot', 'band', 'bor', 'bxor', 'lshift', 'rshift',
                      'arshift', 'rol', 'ror', 'bswap'}) do
  bit[name] = raw['bit_' .. name]
end

local rawpcall = pcall
-- Redis's pcall: an error table with an 'err' string comes back as that string.
local missing
local function fixpcall(ok, ...)
  if ok then return ok, ... end
  local e = ...
  if type(e) == 'userdata' then e = unwrap(e) end
  if type(e) == 'table' then
    local m = rawget(e, 'err')
    if type(m) == 'string' or type(m) == 'number' then e = m end
  end
  return false, e
end
pcall = function(...)
  return fixpcall(rawpcall(...))
end

-- No binary chunks (bytecode escapes the sandbox).
local rawload, rawloadstring = load, loadstring
loadstring = function(s, name)
  if type(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
  return rawloadstring(s, name)
end
load = function(f, name)
  local first = true
  return rawload(function()
    local piece = f()
    if first and type(piece) == 'string' and piece:byte(1) == 27 then error('binary chunks are not allowed') end
    first = false
    return piece
  end, name)
end

G.redis = redis
G.dofile, G.loadfile, G.print, G.module, G.require, G.debug = nil, nil, nil, nil, nil, nil
-- Not in Redis's allow list: setfenv/getfenv reach other functions' environments.
G.getfenv, G.setfenv, G.newproxy = nil, nil, nil
G.__redis__err__handler = handler

-- Read-only globals: every name moves to `backing`; the global table stays empty, reads
-- fall through to `backing` (a missing name is an error), writes are refused. Library
-- tables become read-only proxies.
local function ro_error()
  error('Attempt to modify a readonly table', 2)
end
-- Redis's Lua refuses raw writes to a readonly table too (rawset, setmetatable,
-- table.insert), without a position: those are C functions. Here the protected tables
-- are known by identity and the raw writers check them first (sandbox.rs for the raw
-- accessors; table.insert here, its argument errors placed as luaL_error places them).
local protected = setmetatable({}, {__mode = 'k'})
local function readonly(t)
  local p = setmetatable({}, {__index = t, __newindex = ro_error, __metatable = false})
  protected[p] = true
  return p
end
local backing = {}
do
  local smt = getmetatable('')
  local smt_proxy = readonly(smt)
  local guards = raw.guards(G, backing, protected, smt, smt_proxy)
  for _, name in pairs({'rawset', 'rawget', 'next', 'pairs', 'setmetatable', 'getmetatable'}) do
    G[name] = guards[name]
  end
  local insert = table.insert
  table.insert = function(...)
    if protected[(...)] then error('Attempt to modify a readonly table', 0) end
    local ok, e = rawpcall(insert, ...)
    if not ok then
      if type(e) == 'string' and (e:find('^bad argument') or e:find('^wrong number of arguments')) then
        error((e:gsub("to '%?'", "to 'insert'", 1)), 2)
      end
      error(e, 0)
    end
  end
  for k, v in pairs(G) do backing[k] = v end
  for k in pairs(backing) do rawset(G, k, nil) end
  for _, name in pairs({'string', 'math', 'table', 'coroutine', 'redis', 'cjson', 'bit', 'struct', 'cmsgpack'}) do
    backing[name] = readonly(backing[name])
  end
  -- Methods on strings read through the read-only `string`.
  smt.__index = backing.string
end
backing._G = G
protected[G], protected[backing] = true, true
missing = function(_, k)
  error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
end
setmetatable(backing, {__index = missing, __newindex = ro_error, __metatable = false})
local gmt = {__index = backing, __newindex = ro_error}
-- What getmetatable(_G) shows: Redis's metatable of _G, whose __index raises for a
-- missing name (the backing table stays out of reach).
gmt.__metatable = readonly({__index = missing})
setmetatable(G, gmt)

-- Functions: while a library loads, the globals are only `redis` with register_function,
-- log and the version (Redis's LIBRARY_API); the library's functions see the normal
-- globals when they run (the same table, its fallback switched back).
local load_backing
if mode == 'library' then
  local lredis = {
    register_function = raw.register_function,
    log = raw.log,
    LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
    REDIS_VERSION = redis.REDIS_VERSION,
    REDIS_VERSION_NUM = redis.REDIS_VERSION_NUM,
  }
  setmetatable(lredis, {__index = missing, __newindex = ro_error, __metatable = false})
  load_backing = setmetatable({redis = lredis}, {__index = missing, __newindex = ro_error, __metatable = false})
  protected[lredis], protected[load_backing] = true, true
end
local function set_loading(on)
  if on then gmt.__index = load_backing else gmt.__index = backing end
end
local function load_run(f)
  local ok, e = rawpcall(f)
  if not ok and type(e) == 'userdata' then e = unwrap(e) end
  return ok, e
end

-- Runs `f` with the error handler; `keys`/`args` are passed to functions (FCALL).
local xpcall = xpcall
local function run(f, keys, args)
  if keys then
    return xpcall(function() return f(keys, args) end, handler)
  end
  return xpcall(f, handler)
end
return run, backing, set_loading, load_run
