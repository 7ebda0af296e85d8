//! In-process tests of the stream commands: node layout, IDs, groups, propagation.

use crate::commands::testkit::Harness;

#[test]
fn xadd_builds_redis_nodes_and_ranges_walk_them() {
    let mut h = Harness::new();
    assert_eq!(
        h.run(&["XADD", "s", "1-1", "a", "1", "b", "x"]),
        "$3\r\n1-1\r\n"
    );
    assert_eq!(
        h.run(&["XADD", "s", "1-2", "a", "2", "b", "y"]),
        "$3\r\n1-2\r\n"
    );
    assert_eq!(h.run(&["XADD", "s", "2-*", "c", "3"]), "$3\r\n2-0\r\n");
    assert_eq!(
        h.run(&["XADD", "s", "1-5", "c", "3"]),
        "-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n"
    );
    assert_eq!(h.run(&["XLEN", "s"]), ":3\r\n");
    assert_eq!(
        h.run(&["XRANGE", "s", "-", "+", "COUNT", "1"]),
        "*1\r\n*2\r\n$3\r\n1-1\r\n*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\nx\r\n"
    );
    assert_eq!(
        h.run(&["XREVRANGE", "s", "+", "(1-1"]),
        "*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nc\r\n$1\r\n3\r\n*2\r\n$3\r\n1-2\r\n*4\r\n$1\r\na\r\n$1\r\n2\r\n$1\r\nb\r\n$1\r\ny\r\n"
    );
    // The node: master entry (count 3, deleted 0, fields a b, 0), then the entries; the
    // second shares the master's fields (SAMEFIELDS), the third does not.
    let now = h.engine.now_ms();
    let e = h.engine.dbs[0].lookup_notouch(b"s", now).unwrap();
    let crate::object::Value::Stream(st) = &e.value else {
        panic!()
    };
    let lp = st.nodes.values().next().unwrap();
    let items: Vec<Vec<u8>> = lp.iter().map(|v| v.to_vec()).collect();
    let want: Vec<&[u8]> = vec![
        b"3",
        b"0",
        b"2",
        b"a",
        b"b",
        b"0", // master
        b"2",
        b"0",
        b"0",
        b"1",
        b"x",
        b"5", // 1-1 SAMEFIELDS
        b"2",
        b"0",
        b"1",
        b"2",
        b"y",
        b"5", // 1-2 SAMEFIELDS
        b"0",
        b"1",
        b"18446744073709551615",
        b"1",
        b"c",
        b"3",
        b"6", // 2-0: seq diff -1
    ];
    let want: Vec<Vec<u8>> = want.iter().map(|w| w.to_vec()).collect();
    assert_eq!(items.len(), want.len());
    assert_eq!(items[..18], want[..18]);
    // seq diff 0 - 1 wraps: stored as the int64 -1.
    assert_eq!(items[20], b"-1".to_vec());
}

#[test]
fn nodes_split_by_entries_and_trim_removes_whole_nodes_with_tilde() {
    let mut h = Harness::new();
    for i in 1..=250 {
        let id = format!("{i}-0");
        h.run(&["XADD", "s", &id, "f", "v"]);
    }
    let now = h.engine.now_ms();
    let nodes = |h: &mut Harness| {
        let e = h.engine.dbs[0].lookup_notouch(b"s", now).unwrap();
        let crate::object::Value::Stream(st) = &e.value else {
            panic!()
        };
        st.nodes.len()
    };
    assert_eq!(nodes(&mut h), 3);
    assert_eq!(h.run(&["XTRIM", "s", "MAXLEN", "~", "120"]), ":100\r\n");
    assert_eq!(h.run(&["XTRIM", "s", "MAXLEN", "~", "120"]), ":0\r\n");
    assert_eq!(h.run(&["XTRIM", "s", "MAXLEN", "120"]), ":30\r\n");
    assert_eq!(h.run(&["XLEN", "s"]), ":120\r\n");
    assert_eq!(nodes(&mut h), 2);
    assert_eq!(
        h.run(&["XRANGE", "s", "-", "+", "COUNT", "1"]),
        "*1\r\n*2\r\n$5\r\n131-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n"
    );
}

#[test]
fn xreadgroup_propagates_xclaim_and_setid() {
    let mut h = Harness::new();
    h.run(&["XADD", "s", "1-1", "a", "1"]);
    h.run(&["XADD", "s", "1-2", "a", "2"]);
    h.run(&["XGROUP", "CREATE", "s", "g", "0"]);
    h.take_propagated();
    let r = h.run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "COUNT",
        "1",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(
        r,
        "*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    );
    let p = h.propagated();
    // The XCLAIM creates the consumer on the replica: no CREATECONSUMER without NOACK.
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("XCLAIM s g c 0 1-1 TIME "), "{p:?}");
    assert!(
        p[0].ends_with("RETRYCOUNT 1 FORCE JUSTID LASTID 1-1"),
        "{p:?}"
    );
    h.run(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "NOACK",
        "STREAMS",
        "s",
        ">",
    ]);
    let p = h.propagated();
    assert_eq!(p, vec!["XGROUP SETID s g 1-2 ENTRIESREAD 2".to_string()]);
    assert_eq!(h.run(&["XACK", "s", "g", "1-1", "1-2"]), ":1\r\n");
}
