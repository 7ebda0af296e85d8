//! List values. Redis 7.0 encodes every list as a quicklist (`OBJECT ENCODING` says
//! "quicklist" even for one element; the listpack encoding for small lists arrived in 7.2),
//! so there is one encoding here: [`Quicklist`], whose nodes follow `list-max-listpack-size`
//! and Redis's split/merge rules (same node layout, memory and RDB form as Redis).
//!
//! Invariant: a list stored in the keyspace is never empty (commands delete the key when
//! they remove its last element).

use crate::types::quicklist::Quicklist;

#[derive(Clone, Debug)]
pub enum ListValue {
    Quicklist(Quicklist),
}

impl ListValue {
    /// An empty list whose nodes are sized by `fill` (`list-max-listpack-size`).
    pub fn new(fill: i64) -> ListValue {
        ListValue::Quicklist(Quicklist::with_fill(fill))
    }

    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match self {
            ListValue::Quicklist(_) => "quicklist",
        }
    }

    #[inline]
    pub fn ql(&self) -> &Quicklist {
        match self {
            ListValue::Quicklist(q) => q,
        }
    }

    #[inline]
    pub fn ql_mut(&mut self) -> &mut Quicklist {
        match self {
            ListValue::Quicklist(q) => q,
        }
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.ql().len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.ql().is_empty()
    }

    /// Heap bytes held by the list (MEMORY USAGE, memory reports).
    pub fn heap_size(&self) -> usize {
        self.ql().heap_size()
    }
}
