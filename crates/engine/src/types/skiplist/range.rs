//! The intervals the skiplist answers range queries for: [`ScoreRange`] (Redis's
//! `zrangespec`) and [`LexRange`] (`zlexrangespec`), with the comparisons `t_zset.c` makes
//! against them. Reading them from command arguments (`(1.5`, `-inf`, `[a`, `-`, `+`) is
//! the commands' business: `commands::zrange_args`.

use std::cmp::Ordering;

/// An inclusive or exclusive score interval (Redis's `zrangespec`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRange {
    pub min: f64,
    pub max: f64,
    /// `(min`: exclude `min` itself.
    pub minex: bool,
    /// `(max`: exclude `max` itself.
    pub maxex: bool,
}

impl ScoreRange {
    /// `[min, max]`.
    pub fn inclusive(min: f64, max: f64) -> ScoreRange {
        ScoreRange {
            min,
            max,
            minex: false,
            maxex: false,
        }
    }

    /// Redis's `zslValueGteMin`.
    #[inline]
    pub fn gte_min(&self, v: f64) -> bool {
        if self.minex {
            v > self.min
        } else {
            v >= self.min
        }
    }

    /// Redis's `zslValueLteMax`.
    #[inline]
    pub fn lte_max(&self, v: f64) -> bool {
        if self.maxex {
            v < self.max
        } else {
            v <= self.max
        }
    }

    #[inline]
    pub fn contains(&self, v: f64) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// A range no score can satisfy (`min > max`, or `min == max` with an open end).
    pub fn is_empty(&self) -> bool {
        self.min > self.max || (self.min == self.max && (self.minex || self.maxex))
    }
}

/// One end of a lex range: `-`, `+`, `[member` or `(member`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LexBound<'a> {
    /// `-`: below every string.
    NegInf,
    /// `+`: above every string.
    PosInf,
    /// `[member`
    Incl(&'a [u8]),
    /// `(member`
    Excl(&'a [u8]),
}

impl LexBound<'_> {
    fn excl(&self) -> bool {
        !matches!(self, LexBound::Incl(_))
    }

    /// Redis's `sdscmplex` of two bounds (the infinities are `shared.minstring/maxstring`,
    /// compared by identity first).
    fn cmp_bound(&self, o: &LexBound<'_>) -> Ordering {
        use LexBound::*;
        match (self, o) {
            (NegInf, NegInf) | (PosInf, PosInf) => Ordering::Equal,
            (NegInf, _) | (_, PosInf) => Ordering::Less,
            (PosInf, _) | (_, NegInf) => Ordering::Greater,
            (Incl(a) | Excl(a), Incl(b) | Excl(b)) => a.cmp(b),
        }
    }
}

/// A lex interval (Redis's `zlexrangespec`), meaningful on a set whose scores are all equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LexRange<'a> {
    pub min: LexBound<'a>,
    pub max: LexBound<'a>,
}

impl LexRange<'_> {
    /// Redis's `zslLexValueGteMin`.
    #[inline]
    pub fn gte_min(&self, v: &[u8]) -> bool {
        match self.min {
            LexBound::NegInf => true,
            LexBound::PosInf => false,
            LexBound::Incl(m) => v >= m,
            LexBound::Excl(m) => v > m,
        }
    }

    /// Redis's `zslLexValueLteMax`.
    #[inline]
    pub fn lte_max(&self, v: &[u8]) -> bool {
        match self.max {
            LexBound::NegInf => false,
            LexBound::PosInf => true,
            LexBound::Incl(m) => v <= m,
            LexBound::Excl(m) => v < m,
        }
    }

    #[inline]
    pub fn contains(&self, v: &[u8]) -> bool {
        self.gte_min(v) && self.lte_max(v)
    }

    /// A range no string can satisfy (the first test of Redis's `zslIsInLexRange`).
    pub fn is_empty(&self) -> bool {
        match self.min.cmp_bound(&self.max) {
            Ordering::Greater => true,
            Ordering::Equal => self.min.excl() || self.max.excl(),
            Ordering::Less => false,
        }
    }
}
