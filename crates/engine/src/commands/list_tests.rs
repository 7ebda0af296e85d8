//! In-process tests of the list commands; expected replies captured from Redis 7.0.15.

use crate::commands::testkit::Harness;

fn h() -> Harness {
    Harness::new()
}

#[test]
fn push_pop_len_and_encoding() {
    let mut h = h();
    assert_eq!(h.run(&["RPUSH", "l", "a", "b", "c"]), ":3\r\n");
    assert_eq!(h.run(&["LPUSH", "l", "z"]), ":4\r\n");
    assert_eq!(h.run(&["OBJECT", "ENCODING", "l"]), "$9\r\nquicklist\r\n");
    assert_eq!(h.run(&["LLEN", "l"]), ":4\r\n");
    assert_eq!(h.run(&["LPOP", "l"]), "$1\r\nz\r\n");
    assert_eq!(h.run(&["RPOP", "l", "2"]), "*2\r\n$1\r\nc\r\n$1\r\nb\r\n");
    assert_eq!(h.run(&["RPOP", "l", "0"]), "*0\r\n");
    assert_eq!(h.run(&["LPOP", "l", "5"]), "*1\r\n$1\r\na\r\n");
    assert_eq!(h.run(&["EXISTS", "l"]), ":0\r\n", "emptied list is deleted");
    assert_eq!(h.run(&["LPOP", "l"]), "$-1\r\n");
    assert_eq!(h.run(&["LPOP", "l", "1"]), "*-1\r\n");
    assert_eq!(
        h.run(&["LPOP", "l", "-1"]),
        "-ERR value is out of range, must be positive\r\n"
    );
    assert_eq!(h.run(&["LPUSHX", "l", "a"]), ":0\r\n");
    assert_eq!(h.run(&["SET", "s", "x"]), "+OK\r\n");
    assert!(h.run(&["LPUSH", "s", "a"]).starts_with("-WRONGTYPE"));
    assert!(h.run(&["LLEN", "s"]).starts_with("-WRONGTYPE"));
    assert_eq!(h.engine.dirty, 3 + 1 + 1 + 2 + 1 + 1);
}

#[test]
fn ranges_index_and_set() {
    let mut h = h();
    h.run(&["RPUSH", "l", "1", "2", "3", "4", "5"]);
    assert_eq!(
        h.run(&["LRANGE", "l", "-2", "100"]),
        "*2\r\n$1\r\n4\r\n$1\r\n5\r\n"
    );
    assert_eq!(h.run(&["LRANGE", "l", "3", "1"]), "*0\r\n");
    assert_eq!(
        h.run(&["LRANGE", "nokey", "a", "1"]),
        "-ERR value is not an integer or out of range\r\n"
    );
    assert_eq!(h.run(&["LINDEX", "l", "-1"]), "$1\r\n5\r\n");
    assert_eq!(h.run(&["LINDEX", "l", "9"]), "$-1\r\n");
    assert_eq!(h.run(&["LINDEX", "nokey", "x"]), "$-1\r\n");
    assert_eq!(h.run(&["LSET", "l", "0", "x"]), "+OK\r\n");
    assert_eq!(
        h.run(&["LSET", "l", "9", "x"]),
        "-ERR index out of range\r\n"
    );
    assert_eq!(h.run(&["LSET", "nokey", "0", "x"]), "-ERR no such key\r\n");
    assert_eq!(h.run(&["LTRIM", "l", "1", "-2"]), "+OK\r\n");
    assert_eq!(
        h.run(&["LRANGE", "l", "0", "-1"]),
        "*3\r\n$1\r\n2\r\n$1\r\n3\r\n$1\r\n4\r\n"
    );
    assert_eq!(h.run(&["LTRIM", "l", "5", "1"]), "+OK\r\n");
    assert_eq!(h.run(&["EXISTS", "l"]), ":0\r\n");
}

#[test]
fn insert_rem_and_pos() {
    let mut h = h();
    h.run(&["RPUSH", "l", "a", "b", "a", "c", "a"]);
    assert_eq!(h.run(&["LINSERT", "l", "BEFORE", "b", "x"]), ":6\r\n");
    assert_eq!(h.run(&["LINSERT", "l", "after", "nope", "x"]), ":-1\r\n");
    assert_eq!(
        h.run(&["LINSERT", "l", "middle", "b", "x"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(h.run(&["LINSERT", "nokey", "after", "b", "x"]), ":0\r\n");
    assert_eq!(h.run(&["LPOS", "l", "a"]), ":0\r\n");
    assert_eq!(h.run(&["LPOS", "l", "a", "RANK", "-1"]), ":5\r\n");
    assert_eq!(
        h.run(&["LPOS", "l", "a", "COUNT", "0"]),
        "*3\r\n:0\r\n:3\r\n:5\r\n"
    );
    assert_eq!(
        h.run(&["LPOS", "l", "a", "RANK", "2", "COUNT", "1"]),
        "*1\r\n:3\r\n"
    );
    assert_eq!(h.run(&["LPOS", "l", "a", "MAXLEN", "2"]), ":0\r\n");
    assert_eq!(h.run(&["LPOS", "l", "c", "MAXLEN", "2"]), "$-1\r\n");
    assert_eq!(
        h.run(&["LPOS", "l", "a", "COUNT", "x"]),
        "-ERR COUNT can't be negative\r\n"
    );
    assert!(
        h.run(&["LPOS", "l", "a", "RANK", "0"])
            .starts_with("-ERR RANK can't be zero")
    );
    assert_eq!(h.run(&["LPOS", "nokey", "a", "COUNT", "1"]), "*0\r\n");
    assert_eq!(h.run(&["LREM", "l", "-2", "a"]), ":2\r\n");
    assert_eq!(
        h.run(&["LRANGE", "l", "0", "-1"]),
        "*4\r\n$1\r\na\r\n$1\r\nx\r\n$1\r\nb\r\n$1\r\nc\r\n"
    );
    assert_eq!(h.run(&["LREM", "l", "0", "a"]), ":1\r\n");
}

#[test]
fn move_and_mpop() {
    let mut h = h();
    h.run(&["RPUSH", "a", "1", "2"]);
    assert_eq!(h.run(&["LMOVE", "a", "b", "LEFT", "RIGHT"]), "$1\r\n1\r\n");
    assert_eq!(h.run(&["RPOPLPUSH", "a", "a"]), "$1\r\n2\r\n");
    assert_eq!(h.run(&["LLEN", "a"]), ":1\r\n");
    assert_eq!(h.run(&["RPOPLPUSH", "a", "b"]), "$1\r\n2\r\n");
    assert_eq!(h.run(&["EXISTS", "a"]), ":0\r\n");
    assert_eq!(
        h.run(&["LRANGE", "b", "0", "-1"]),
        "*2\r\n$1\r\n2\r\n$1\r\n1\r\n"
    );
    h.run(&["SET", "s", "x"]);
    assert!(
        h.run(&["LMOVE", "b", "s", "LEFT", "LEFT"])
            .starts_with("-WRONGTYPE")
    );
    assert_eq!(
        h.run(&["LLEN", "b"]),
        ":2\r\n",
        "nothing popped on a WRONGTYPE destination"
    );
    assert_eq!(
        h.run(&["LMOVE", "b", "c", "UP", "LEFT"]),
        "-ERR syntax error\r\n"
    );
    assert_eq!(
        h.run(&["LMPOP", "2", "nokey", "b", "RIGHT", "COUNT", "5"]),
        "*2\r\n$1\r\nb\r\n*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    );
    assert_eq!(
        h.last_propagated(),
        Some(vec![b"RPOP".to_vec(), b"b".to_vec(), b"2".to_vec()])
    );
    assert_eq!(h.run(&["LMPOP", "1", "b", "LEFT"]), "*-1\r\n");
    assert_eq!(
        h.run(&["LMPOP", "0", "b", "LEFT"]),
        "-ERR numkeys should be greater than 0\r\n"
    );
    assert_eq!(h.run(&["LMPOP", "3", "b", "LEFT"]), "-ERR syntax error\r\n");
    assert_eq!(
        h.run(&["LMPOP", "1", "b", "LEFT", "COUNT", "0"]),
        "-ERR count should be greater than 0\r\n"
    );
}

#[test]
fn blocking_forms_serve_block_or_time_out() {
    let mut h = h();
    h.run(&["RPUSH", "b", "x", "y"]);
    assert_eq!(
        h.run(&["BLPOP", "a", "b", "0"]),
        "*2\r\n$1\r\nb\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        h.last_propagated(),
        Some(vec![b"LPOP".to_vec(), b"b".to_vec()])
    );
    assert_eq!(h.run(&["BLPOP", "a", "-1"]), "-ERR timeout is negative\r\n");
    assert_eq!(
        h.run(&["BLPOP", "a", "x"]),
        "-ERR timeout is not a float or out of range\r\n"
    );
    assert_eq!(
        h.run(&["BLMOVE", "b", "c", "RIGHT", "LEFT", "0"]),
        "$1\r\ny\r\n"
    );
    // Nothing to serve: a block request and no reply.
    assert_eq!(h.run(&["BRPOP", "a", "b", "0.5"]), "");
    let req = h.engine.block.take().expect("block request");
    assert_eq!(req.keys, vec![b"a".to_vec(), b"b".to_vec()]);
    assert_eq!(req.timeout_at_ms, h.engine.now_ms() + 500);
    assert_eq!(h.run(&["BLMPOP", "0", "1", "a", "LEFT"]), "");
    assert_eq!(h.engine.block.take().unwrap().timeout_at_ms, 0);
    // Inside MULTI: the timeout reply at once.
    h.session.no_block = true;
    assert_eq!(h.run(&["BLPOP", "a", "0"]), "*-1\r\n");
    assert_eq!(h.run(&["BRPOPLPUSH", "a", "c", "0"]), "$-1\r\n");
    assert!(h.engine.block.is_none());
}

#[test]
fn new_list_signals_waiters_only_when_someone_waits() {
    let mut h = h();
    h.run(&["RPUSH", "k", "1"]);
    assert!(h.engine.blocking.ready.is_empty());
    h.engine.blocking.add(0, b"w", 42);
    h.run(&["RPUSH", "w", "1"]);
    h.run(&["RPUSH", "w", "2"]);
    assert_eq!(h.engine.blocking.ready, vec![(0, b"w".to_vec())]);
}

#[test]
fn fill_config_shapes_nodes() {
    let mut h = h();
    h.engine.config.list_max_listpack_size = 2;
    h.run(&["RPUSH", "l", "1", "2", "3", "4", "5"]);
    let now = h.engine.now_ms();
    let e = h.engine.dbs[0].lookup_notouch(b"l", now).unwrap();
    let crate::object::Value::List(l) = &e.value else {
        panic!("not a list")
    };
    assert_eq!(l.ql().node_count(), 3);
}

#[test]
fn memory_per_element_matches_redis_quicklist() {
    // Redis 7.0.15 (used_memory delta, 1M elements): 5.0 B per small integer, 18.2 B per
    // 16-byte string. Our quicklist has the same nodes; allow a little allocator slack.
    let mut h = h();
    let mut ints = Vec::new();
    let mut strs = Vec::new();
    for i in 0..100_000u32 {
        ints.push(i.to_string());
        strs.push(format!("value-{i:010}"));
    }
    for chunk in ints.chunks(1000) {
        let mut args = vec!["RPUSH", "ints"];
        args.extend(chunk.iter().map(String::as_str));
        h.run(&args);
    }
    for chunk in strs.chunks(1000) {
        let mut args = vec!["RPUSH", "strs"];
        args.extend(chunk.iter().map(String::as_str));
        h.run(&args);
    }
    let now = h.engine.now_ms();
    let per = |h: &mut Harness, k: &[u8]| {
        let e = h.engine.dbs[0].lookup_notouch(k, now).unwrap();
        let crate::object::Value::List(l) = &e.value else {
            panic!("not a list")
        };
        l.heap_size() as f64 / l.len() as f64
    };
    let (i, s) = (per(&mut h, b"ints"), per(&mut h, b"strs"));
    assert!(i < 5.5, "{i} B per integer element");
    assert!(s < 18.5, "{s} B per 16-byte element");
}
