/* IAM action wildcard matching. Greedy two-pointer scan: at worst
 * O(pattern x text), never exponential, so a hostile pattern such as
 * "*a*a*a*...b" cannot stall evaluation. */
#include "internal.h"

#include <string.h>

static unsigned char fold(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* The matcher. The text ends at te, or at its NUL when te is NULL (which
 * spares callers a strlen per catalog name). */
static bool match(const unsigned char *p, const unsigned char *pe, const unsigned char *t,
                  const unsigned char *te)
{
    const unsigned char *star = NULL;   /* pattern position just after the last `*` */
    const unsigned char *resume = NULL; /* text position that `*` is tried from next */

    while (te ? t < te : *t != '\0') {
        if (p < pe && *p == '*') {
            /* Collapse runs of stars; remember where to retry. */
            while (p < pe && *p == '*')
                p++;
            if (p == pe)
                return true;
            star = p;
            resume = t;
        } else if (p < pe && (*p == '?' || fold(*p) == fold(*t))) {
            p++;
            t++;
        } else if (star) {
            /* Mismatch after a star: let the star swallow one more byte.
             * Only the last star needs retrying: whatever an earlier star
             * could absorb, the later one can too, so no backtracking. */
            p = star;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (p < pe && *p == '*')
        p++;
    return p == pe;
}

bool ct_wildcard_match_n(const char *pattern, size_t plen, const char *text, size_t tlen)
{
    const unsigned char *p = (const unsigned char *)pattern;
    const unsigned char *t = (const unsigned char *)text;
    return match(p, p + plen, t, t + tlen);
}

bool ct_wildcard_match_pn(const char *pattern, size_t plen, const char *text)
{
    const unsigned char *p = (const unsigned char *)pattern;
    return match(p, p + plen, (const unsigned char *)text, NULL);
}

/* `?` matches one byte: action names are ASCII. */
bool ct_wildcard_match(const char *pattern, const char *text)
{
    return ct_wildcard_match_pn(pattern, strlen(pattern), text);
}
