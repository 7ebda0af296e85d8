/* long double helpers for INCRBYFLOAT / HINCRBYFLOAT.
 *
 * Redis computes these commands in C `long double` (80-bit x87 extended precision on
 * x86_64) and prints the result with "%.17Lf" minus trailing zeros. Rust has no such type,
 * so the arithmetic and the formatting live here and Rust sees the value as an opaque,
 * 16-byte, 16-aligned blob (see src/ldouble.rs). Everything works on caller-provided buffers:
 * no allocation. Parsing mirrors Redis's string2ld, printing its ld2string(LD_STR_HUMAN). */

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Redis's MAX_LONG_DOUBLE_CHARS: the parse buffer and the longest accepted input. */
#define RKV_LD_MAX_CHARS (5 * 1024)

/* The Rust side reserves 16 bytes with 16-byte alignment for one value. */
_Static_assert(sizeof(long double) <= 16, "long double does not fit the Rust blob");
_Static_assert(_Alignof(long double) <= 16, "long double alignment exceeds the Rust blob");

/* Parses s[0..len) as Redis's string2ld: strtold over the whole input, no leading space,
 * overflow to +-inf, underflow to zero and NaN rejected. Returns 1 and stores the value on
 * success, 0 otherwise. */
int rkv_ld_parse(const char *s, size_t len, long double *out) {
    char buf[RKV_LD_MAX_CHARS];
    char *eptr;
    long double value;

    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != len ||
        (errno == ERANGE &&
         (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL || isnan(value))
        return 0;
    *out = value;
    return 1;
}

void rkv_ld_from_i64(long long v, long double *out) { *out = (long double)v; }

void rkv_ld_add(const long double *a, const long double *b, long double *out) {
    *out = *a + *b;
}

/* 1 unless NaN or infinite. */
int rkv_ld_is_finite(const long double *v) { return !(isnan(*v) || isinf(*v)); }

/* Formats as Redis's ld2string(LD_STR_HUMAN): "%.17Lf", trailing zeros (and a bare '.')
 * removed, "-0" printed as "0", infinities as "inf"/"-inf". Returns the length written to
 * buf (not NUL-terminated for the caller's purposes), or 0 when it does not fit. */
size_t rkv_ld_format_human(const long double *vp, char *buf, size_t len) {
    long double value = *vp;
    size_t l;
    int n;

    if (isinf(value)) {
        if (len < 5) return 0;
        if (value > 0) {
            memcpy(buf, "inf", 3);
            return 3;
        }
        memcpy(buf, "-inf", 4);
        return 4;
    }
    n = snprintf(buf, len, "%.17Lf", value);
    if (n < 0 || (size_t)n + 1 > len) return 0;
    l = (size_t)n;
    if (memchr(buf, '.', l) != NULL) {
        char *p = buf + l - 1;
        while (*p == '0') {
            p--;
            l--;
        }
        if (*p == '.') l--;
    }
    if (l == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        l = 1;
    }
    return l;
}

/* Seconds to milliseconds as Redis's getTimeoutFromObjectOrReply: the long double times
 * 1000.0, cast to long long. On x86_64 the cast of a value out of range (or infinite) yields
 * LLONG_MIN, which Redis then reports as "timeout is negative". */
long long rkv_ld_seconds_to_ms(const long double *v) { return (long long)(*v * 1000.0); }

/* C's strtod over a NUL-terminated buffer: the value, how many bytes it consumed and whether
 * it set ERANGE. Redis calls strtod directly in several places (string2d, SORT's weights,
 * zslParseRange) and what they accept depends on glibc's exact rules: hex floats,
 * inf/infinity/nan(...), and ERANGE for overflow and for an inexact result that is tiny after
 * rounding (an exact subnormal such as 0x1p-1074 does not set it). Delegating keeps those
 * rules exact instead of re-deriving them. */
double rkv_strtod(const char *buf, size_t *consumed, int *erange) {
    char *eptr;
    double v;

    errno = 0;
    v = strtod(buf, &eptr);
    *consumed = (size_t)(eptr - buf);
    *erange = errno == ERANGE;
    return v;
}
