/* The inner loop of every JSON string scan (internal to src/): skipping
 * string bytes that need no attention, 16 (SSE2) or 8 (any 64-bit target)
 * at a time. Shared by the trail scanner and the Elasticsearch document
 * builder, which both spend most of their time inside strings. */
#ifndef CT_UTIL_JSON_PLAIN_H
#define CT_UTIL_JSON_PLAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* CT_JSON_NO_SIMD forces the portable loop (to test it on x86). */
#if defined(__SSE2__) && !defined(CT_JSON_NO_SIMD)
#include <emmintrin.h>
#define CT_JSON_SSE2 1
#endif

/* Bytes that may appear in a string unexamined: printable ASCII except the
 * quote and backslash. */
static inline bool ct_json_is_plain(unsigned c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/* Returns the first byte at or after p that is not plain (a quote, a
 * backslash, a control character or a non-ASCII byte), or end. */
static inline const unsigned char *ct_json_skip_plain(const unsigned char *p,
                                                      const unsigned char *end)
{
#ifdef CT_JSON_SSE2
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i space = _mm_set1_epi8(' ');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        /* Signed compare: bytes >= 0x80 are negative, so one test catches
         * both control characters and non-ASCII. */
        __m128i m = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                                 _mm_cmplt_epi8(v, space));
        unsigned mask = (unsigned)_mm_movemask_epi8(m);
        if (mask)
            return p + __builtin_ctz(mask);
        p += 16;
    }
#else
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
        /* Each term flags (in its byte's high bit) a quote, a backslash, a
         * byte below 0x20 or a byte >= 0x80; borrows can only add flags
         * above a real one, so "any flag" is exact. */
        uint64_t t = ((q - ones) & ~q) | ((b - ones) & ~b) | (v - ones * 0x20) | v;
        if (t & highs)
            break;
        p += 8;
    }
#endif
    while (p < end && ct_json_is_plain(*p))
        p++;
    return p;
}

#endif
