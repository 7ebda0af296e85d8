//! Hash values: `listpack` up to `hash-max-listpack-entries`/`-value`, then `hashtable`.
//!
//! Placeholder until the data-type issue fills it: an empty enum, so no value of this type
//! exists yet and every match on it is trivially exhaustive.

#[derive(Clone, Debug)]
pub enum HashValue {}

impl HashValue {
    /// The name `OBJECT ENCODING` reports.
    pub fn encoding_name(&self) -> &'static str {
        match *self {}
    }
}
