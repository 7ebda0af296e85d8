//! A hash table keyed by byte strings with incremental rehashing, after Redis's dict: two
//! tables while rehashing, every operation moves a few buckets, so growth never stops the loop.
//! Hashing is keyed with a per-process random seed (no hash flooding). SCAN uses Redis's
//! reverse-binary cursor, which visits every key present for the whole scan at least once
//! even across resizes.

/// Keys are owned byte strings.
pub type Key = Box<[u8]>;

pub struct Dict<V> {
    _v: std::marker::PhantomData<V>,
}

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V> Dict<V> {
    pub fn new() -> Self {
        todo!()
    }
    pub fn len(&self) -> usize {
        todo!()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        let _ = key;
        todo!()
    }
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        let _ = key;
        todo!()
    }
    /// Inserts or replaces; returns the old value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        let _ = (key, value);
        todo!()
    }
    pub fn remove(&mut self, key: &[u8]) -> Option<(Key, V)> {
        let _ = key;
        todo!()
    }
    pub fn clear(&mut self) {
        todo!()
    }
    /// Visits the bucket(s) at `cursor`, returns the next cursor (0 = complete).
    pub fn scan(&self, cursor: u64, f: &mut dyn FnMut(&[u8], &V)) -> u64 {
        let _ = (cursor, f);
        todo!()
    }
    /// A random entry (Redis's `dictGetFairRandomKey`-like).
    pub fn random(&self) -> Option<(&[u8], &V)> {
        todo!()
    }
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &V)> {
        std::iter::empty()
    }
    /// Moves up to `n` buckets from the old table to the new one; false when not rehashing.
    pub fn rehash(&mut self, n: usize) -> bool {
        let _ = n;
        todo!()
    }
}
