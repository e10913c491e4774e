/* String helpers: copies, ASCII case folding, hashing, UTF-8 validation and
 * escaping of untrusted text before it reaches a terminal. */
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

char *ct_strndup(const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *p = malloc(n + 1);
    if (!p)
        return NULL;
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ct_strdup(const char *s)
{
    return s ? ct_strndup(s, strlen(s)) : NULL;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c + ('a' - 'A')) : c;
}

void ct_str_lower(char *s)
{
    for (; *s; s++)
        *s = lower(*s);
}

char *ct_strdup_lower(const char *s)
{
    char *p = ct_strdup(s);
    if (p)
        ct_str_lower(p);
    return p;
}

int ct_strcasecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)lower(*a), cb = (unsigned char)lower(*b);
        if (ca != cb || !ca)
            return (int)ca - (int)cb;
    }
}

bool ct_str_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool ct_str_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

uint64_t ct_hash_bytes(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

void ct_base64_encode(const void *data, size_t n, char *out)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        *out++ = alphabet[v >> 18 & 63];
        *out++ = alphabet[v >> 12 & 63];
        *out++ = i + 1 < n ? alphabet[v >> 6 & 63] : '=';
        *out++ = i + 2 < n ? alphabet[v & 63] : '=';
    }
    *out = '\0';
}

/* Length of the well-formed UTF-8 sequence at s (at most n bytes), 0 if the
 * bytes there are not one. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F; /* no UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len)
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

bool ct_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t k = utf8_seq(p + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

uint32_t ct_utf8_decode(const char *s, size_t k)
{
    const unsigned char *p = (const unsigned char *)s;
    if (k <= 1)
        return p[0];
    uint32_t cp = p[0] & (0x7Fu >> k);
    for (size_t i = 1; i < k; i++)
        cp = (cp << 6) | (p[i] & 0x3Fu);
    return cp;
}

bool ct_unicode_is_hidden(uint32_t cp)
{
    /* Unicode's format characters (general category Cf, Unicode 15) and
     * the line and paragraph separators (Zl, Zp), as ranges. */
    static const uint32_t ranges[][2] = {
        {0x00AD, 0x00AD},   {0x0600, 0x0605},   {0x061C, 0x061C},   {0x06DD, 0x06DD},
        {0x070F, 0x070F},   {0x0890, 0x0891},   {0x08E2, 0x08E2},   {0x180E, 0x180E},
        {0x200B, 0x200F},   {0x2028, 0x202E},   {0x2060, 0x2064},   {0x2066, 0x206F},
        {0xFEFF, 0xFEFF},   {0xFFF9, 0xFFFB},   {0x110BD, 0x110BD}, {0x110CD, 0x110CD},
        {0x13430, 0x1343F}, {0x1BCA0, 0x1BCA3}, {0x1D173, 0x1D17A}, {0xE0001, 0xE0001},
        {0xE0020, 0xE007F},
    };
    if (cp < 0xAD)
        return false;
    for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1])
            return true;
    return false;
}

int ct_buf_put_safe(ct_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    while (i < n) {
        /* Printable ASCII other than the backslash goes as it is, a run at
         * a time (names are mostly that). */
        size_t run = i;
        while (run < n && p[run] >= 0x20 && p[run] < 0x7F && p[run] != '\\')
            run++;
        if (run > i) {
            if (ct_buf_append(b, p + i, run - i) != 0)
                return CT_ENOMEM;
            i = run;
            continue;
        }
        unsigned char c = p[i];
        size_t k = utf8_seq(p + i, n - i);
        /* C1 controls (U+0080..U+009F) are encoded as C2 80..C2 9F. */
        bool c1 = k == 2 && c == 0xC2 && p[i + 1] < 0xA0;
        uint32_t cp = k > 1 ? ct_utf8_decode(s + i, k) : c;
        if (k == 0 || c < 0x20 || c == 0x7F || c1) {
            if (ct_buf_printf(b, "\\x%02x", c) != 0)
                return CT_ENOMEM;
            i++;
        } else if (k > 1 && ct_unicode_is_hidden(cp)) {
            /* Valid but unseen characters (a right-to-left override can make
             * "evil\u202egnp.exe" print as "evilexe.png") are named by their code point. */
            if (ct_buf_printf(b, cp > 0xFFFF ? "\\U%08" PRIx32 : "\\u%04" PRIx32, cp) != 0)
                return CT_ENOMEM;
            i += k;
        } else if (c == '\\') {
            if (ct_buf_append(b, "\\\\", 2) != 0)
                return CT_ENOMEM;
            i++;
        } else {
            if (ct_buf_append(b, p + i, k) != 0)
                return CT_ENOMEM;
            i += k;
        }
    }
    return ct_buf_reserve(b, 0);
}

char *ct_safe_dup(const char *s)
{
    ct_buf b = CT_BUF_INIT;
    if (ct_buf_put_safe(&b, s) != 0) {
        ct_buf_release(&b);
        return NULL;
    }
    return ct_buf_detach(&b);
}

int ct_hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
