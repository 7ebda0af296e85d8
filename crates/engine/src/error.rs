//! Command errors: one enum of kinds, mapped once to Redis 7.0's exact texts.

use std::borrow::Cow;

pub type CmdResult = Result<(), CmdError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CmdError {
    WrongType,
    Syntax,
    NotInteger,
    NotFloat,
    Overflow,
    NoSuchKey,
    IndexOutOfRange,
    DbIndexOutOfRange,
    /// `invalid expire time in '<cmd>' command`
    InvalidExpire(&'static str),
    /// `wrong number of arguments for '<cmd>' command`
    WrongArity(String),
    StringTooLong,
    OffsetOutOfRange,
    NanOrInfinity,
    SameObject,
    /// SCAN-family cursor that is not an unsigned 64-bit number (`parseScanCursorOrReply`).
    InvalidCursor,
    /// An integer outside a command's range (`getRangeLongFromObjectOrReply`), e.g. the
    /// `int` range of SELECT, MOVE and COPY's DB index.
    ValueOutOfRange {
        min: i64,
        max: i64,
    },
    /// Any other fixed text, with its code (`ERR ...`).
    Static(&'static str),
    /// A formatted text, with its code. Build these with the constructors below.
    Owned(String),
}

impl CmdError {
    /// The error line without `-` and CRLF.
    pub fn text(&self) -> Cow<'static, str> {
        use CmdError::*;
        Cow::Borrowed(match self {
            WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value",
            Syntax => "ERR syntax error",
            NotInteger => "ERR value is not an integer or out of range",
            NotFloat => "ERR value is not a valid float",
            Overflow => "ERR increment or decrement would overflow",
            NoSuchKey => "ERR no such key",
            IndexOutOfRange => "ERR index out of range",
            DbIndexOutOfRange => "ERR DB index is out of range",
            StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)",
            OffsetOutOfRange => "ERR offset is out of range",
            NanOrInfinity => "ERR increment would produce NaN or Infinity",
            SameObject => "ERR source and destination objects are the same",
            InvalidCursor => "ERR invalid cursor",
            ValueOutOfRange { min, max } => {
                return Cow::Owned(format!(
                    "ERR value is out of range, value must between {min} and {max}"
                ));
            }
            InvalidExpire(cmd) => {
                return Cow::Owned(format!("ERR invalid expire time in '{cmd}' command"));
            }
            WrongArity(cmd) => {
                return Cow::Owned(format!("ERR wrong number of arguments for '{cmd}' command"));
            }
            Static(s) => s,
            Owned(s) => return Cow::Owned(s.clone()),
        })
    }

    /// `ERR unknown subcommand 'x'. Try CMD HELP.`
    pub fn unknown_subcommand(cmd: &str, sub: &[u8]) -> CmdError {
        CmdError::Owned(format!(
            "ERR unknown subcommand '{}'. Try {} HELP.",
            crate::util::lossy_trunc(sub, 128),
            cmd.to_ascii_uppercase()
        ))
    }
}
