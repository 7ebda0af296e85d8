//! A typed cursor over a command's arguments, for the option loops every family has
//! (`[NX|XX] [GET] [EX seconds]…`, `LIMIT offset count`, `COUNT n`, `WITHSCORES`).
//!
//! Keywords compare as Redis's `strcasecmp` on a C string: case-insensitive, and the
//! argument ends at its first NUL byte (`"NX\0junk"` reads as `NX`). A keyword that takes
//! values matches only when that many arguments follow it ([`Args::eat_with`]), so a
//! missing value falls through to the caller's "syntax error", as in Redis's loops. Numbers
//! parse with Redis's rules and error texts ([`crate::util`]).

use crate::error::CmdError;
use crate::util::{parse_f64, parse_i64, parse_i64_in};

/// Whether `arg` is the keyword `kw` (see the module doc).
pub use crate::util::eq_ic as is_kw;

/// Arguments from a position on; [`Args::eat`] and friends consume them.
#[derive(Clone, Copy, Debug)]
pub struct Args<'a, 'b> {
    args: &'b [&'a [u8]],
    pos: usize,
}

impl<'a, 'b> Args<'a, 'b> {
    /// A cursor at `args[pos]` (`args[0]` is the command name).
    pub fn new(args: &'b [&'a [u8]], pos: usize) -> Self {
        Args { args, pos }
    }

    /// Arguments not consumed yet.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.args.len().saturating_sub(self.pos)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }

    /// The index of the next argument.
    #[inline]
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The next argument, without consuming it.
    #[inline]
    pub fn peek(&self) -> Option<&'a [u8]> {
        self.args.get(self.pos).copied()
    }

    /// Consumes and returns the next argument.
    #[inline]
    pub fn next_arg(&mut self) -> Option<&'a [u8]> {
        let a = self.peek()?;
        self.pos += 1;
        Some(a)
    }

    /// Consumes the next argument if it is the keyword `kw`.
    #[inline]
    pub fn eat(&mut self, kw: &str) -> bool {
        self.eat_with(kw, 0)
    }

    /// Consumes the keyword `kw` if it is next and at least `values` arguments follow it
    /// (which the caller then takes with [`Args::value`], [`Args::int`]…).
    #[inline]
    pub fn eat_with(&mut self, kw: &str, values: usize) -> bool {
        match self.peek() {
            Some(a) if self.remaining() > values && is_kw(a, kw) => {
                self.pos += 1;
                true
            }
            _ => false,
        }
    }

    /// The next argument as a value; a missing one is a syntax error.
    #[inline]
    pub fn value(&mut self) -> Result<&'a [u8], CmdError> {
        self.next_arg().ok_or(CmdError::Syntax)
    }

    /// The next argument as an integer (`value is not an integer or out of range`).
    #[inline]
    pub fn int(&mut self) -> Result<i64, CmdError> {
        parse_i64(self.value()?)
    }

    /// The next argument as an integer in `min..=max` (Redis's
    /// `getRangeLongFromObjectOrReply`): with `msg`, a non-integer and an out-of-range value
    /// both get `msg`; without, the generic texts. See [`parse_i64_in`].
    #[inline]
    pub fn int_in(
        &mut self,
        min: i64,
        max: i64,
        msg: Option<&'static str>,
    ) -> Result<i64, CmdError> {
        parse_i64_in(self.value()?, min, max, msg)
    }

    /// The next argument as a double (`value is not a valid float`).
    #[inline]
    pub fn float(&mut self) -> Result<f64, CmdError> {
        parse_f64(self.value()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_are_case_insensitive_c_strings_and_need_their_values() {
        let argv: Vec<&[u8]> = vec![b"SORT", b"k", b"limit", b"1", b"2", b"AsC\0x", b"store"];
        let mut a = Args::new(&argv, 2);
        assert!(!a.eat("asc"));
        assert!(a.eat_with("LIMIT", 2));
        assert_eq!(a.int(), Ok(1));
        assert_eq!(a.int(), Ok(2));
        assert!(a.eat("asc"));
        // STORE without its destination does not match: the caller's syntax error.
        assert!(!a.eat_with("store", 1));
        assert_eq!(a.remaining(), 1);
        assert!(a.eat("store"));
        assert!(a.is_empty());
        assert_eq!(a.value(), Err(CmdError::Syntax));
    }

    #[test]
    fn numbers_use_redis_texts() {
        let argv: Vec<&[u8]> = vec![b"x", b"1.5", b"abc"];
        let mut a = Args::new(&argv, 1);
        assert_eq!(a.float(), Ok(1.5));
        assert!(a.int().is_err());
    }

    #[test]
    fn bounded_ints_use_the_callers_text_for_both_failures() {
        let argv: Vec<&[u8]> = vec![b"x", b"5", b"-1", b"abc", b"-1", b"abc"];
        let mut a = Args::new(&argv, 1);
        assert_eq!(a.int_in(0, 5, None), Ok(5));
        assert_eq!(
            a.int_in(0, i64::MAX, Some("ERR m")),
            Err(CmdError::Static("ERR m"))
        );
        assert_eq!(
            a.int_in(0, i64::MAX, Some("ERR m")),
            Err(CmdError::Static("ERR m"))
        );
        assert_eq!(
            a.int_in(0, 9, None),
            Err(CmdError::ValueOutOfRange { min: 0, max: 9 })
        );
        assert_eq!(a.int_in(0, 9, None), Err(CmdError::NotInteger));
    }
}
