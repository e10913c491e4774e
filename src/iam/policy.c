/* Policy evaluation: the decision for one action (ct_policy_decide) and the
 * same rules applied to the whole catalog at once as bitsets
 * (ct_policy_expand). The two must agree exactly; tests check that. */
#include "internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

bool ct_stmt_matches(const ct_stmt *s, const char *action_lower)
{
    bool any = false;
    for (size_t i = 0; i < s->npatterns && !any; i++)
        any = ct_wildcard_match(s->patterns[i], action_lower);
    return s->not_action ? !any : any;
}

void ct_policy_decide(const ct_policy_set *set, const char *action_lower, ct_decision *out)
{
    memset(out, 0, sizeof(*out));
    if (!set || !action_lower)
        return;
    for (size_t i = 0; i < set->nallows; i++) {
        if (ct_stmt_matches(set->allows[i].stmt, action_lower)) {
            out->allowed = true;
            out->allowed_by = set->allows[i].policy;
            break;
        }
    }
    for (size_t i = 0; i < set->ndenies; i++) {
        const ct_stmt *st = set->denies[i].stmt;
        if (!ct_stmt_matches(st, action_lower))
            continue;
        if (st->limit[0] == '\0') {
            if (!out->denied) {
                out->denied = true;
                out->denied_by = set->denies[i].policy;
            }
        } else if (out->note_count < CT_DECISION_MAX_NOTES) {
            ct_deny_note *n = &out->notes[out->note_count++];
            n->policy = set->denies[i].policy;
            n->sid = st->sid;
            n->limit = st->limit;
        }
    }
    if (set->has_boundary) {
        bool inside = false;
        for (size_t i = 0; i < set->nboundary_allows && !inside; i++)
            inside = ct_stmt_matches(set->boundary_allows[i].stmt, action_lower);
        out->outside_boundary = !inside;
    }
    out->granted = out->allowed && !out->denied && !out->outside_boundary;
}

/* ---- bitsets over catalog indices ---- */

struct ct_grants {
    size_t nbits;
    size_t nwords;
    size_t count;
    uint64_t words[];
};

typedef struct bits {
    uint64_t *w;
    size_t nwords;
    size_t nbits;
} bits;

static void bits_clear(bits *b)
{
    memset(b->w, 0, b->nwords * sizeof(uint64_t));
}

static void bits_set(bits *b, size_t i)
{
    b->w[i / 64] |= UINT64_C(1) << (i % 64);
}

/* Sets bits [begin, end) a word at a time. */
static void bits_set_range(bits *b, size_t begin, size_t end)
{
    if (begin >= end)
        return;
    size_t wb = begin / 64, we = (end - 1) / 64;
    uint64_t first = ~UINT64_C(0) << (begin % 64);
    uint64_t last = ~UINT64_C(0) >> (63 - (end - 1) % 64);
    if (wb == we) {
        b->w[wb] |= first & last;
        return;
    }
    b->w[wb] |= first;
    for (size_t i = wb + 1; i < we; i++)
        b->w[i] = ~UINT64_C(0);
    b->w[we] |= last;
}

/* Complements in place, keeping the bits past nbits zero. */
static void bits_not(bits *b)
{
    size_t used = (b->nbits + 63) / 64; /* nwords is at least 1, even for 0 bits */
    for (size_t i = 0; i < b->nwords; i++)
        b->w[i] = i < used ? ~b->w[i] : 0;
    if (b->nbits % 64)
        b->w[used - 1] &= ~UINT64_C(0) >> (64 - b->nbits % 64);
}

static void bits_or(bits *dst, const bits *src)
{
    for (size_t i = 0; i < dst->nwords; i++)
        dst->w[i] |= src->w[i];
}

static size_t literal_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] != '*' && s[i] != '?')
        i++;
    return i;
}

/* strncmp() for the few bytes of an action-name prefix, inlined: the
 * library call's overhead dominated the binary searches below. */
static inline int prefix_cmp(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x != y)
            return x < y ? -1 : 1;
        if (x == '\0')
            return 0;
    }
    return 0;
}

/* First index in [lo, hi) whose name, after `skip` bytes, compares >= (or,
 * with `after`, > ) the n-byte prefix; names there share their first `skip`
 * bytes, so they are sorted by the rest too. */
static size_t bound(const ct_catalog *cat, size_t lo, size_t hi, size_t skip, const char *prefix,
                    size_t n, bool after)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int d = prefix_cmp(ct_catalog_name(cat, mid) + skip, prefix, n);
        if (d < 0 || (after && d == 0))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The longest run of literal bytes in a pattern, NUL-terminated in buf, for
 * a strstr() pre-check that rejects most names before matching. Empty when
 * too short to pay off. */
static void literal_run(const char *p, size_t n, char *buf, size_t size)
{
    size_t best = 0, best_at = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && p[j] != '*' && p[j] != '?')
            j++;
        if (j - i > best) {
            best = j - i;
            best_at = i;
        }
        i = j + 1;
    }
    if (best < 2 || best >= size)
        best = 0;
    memcpy(buf, p + best_at, best);
    buf[best] = '\0';
}

/* ORs into b the names of [lo, hi) whose part after their first `skip`
 * bytes (common to the range) matches the plen-byte pattern p. Names are
 * sorted, so a literal prefix of p narrows the range by binary search, and
 * "prefix*" sets the narrowed range without matching. */
static void or_sorted(bits *b, const ct_catalog *cat, size_t lo, size_t hi, size_t skip,
                      const char *p, size_t plen)
{
    size_t lp = literal_prefix(p, plen);
    if (lp > 0) {
        lo = bound(cat, lo, hi, skip, p, lp, false);
        hi = bound(cat, lo, hi, skip, p, lp, true);
        if (lp == plen) {
            /* No wildcard at all: only an exact name matches. */
            for (size_t i = lo; i < hi; i++)
                if (ct_catalog_name(cat, i)[skip + lp] == '\0')
                    bits_set(b, i);
            return;
        }
    }
    if (plen - lp == 1 && p[lp] == '*') {
        bits_set_range(b, lo, hi);
        return;
    }
    char run[64];
    literal_run(p + lp, plen - lp, run, sizeof(run));
    for (size_t i = lo; i < hi; i++) {
        const char *t = ct_catalog_name(cat, i) + skip + lp;
        if (run[0] && !strstr(t, run))
            continue;
        if (ct_wildcard_match_pn(p + lp, plen - lp, t))
            bits_set(b, i);
    }
}

/* State of one expansion: the catalog, scratch bits, and lookups worth
 * remembering across patterns. */
typedef struct service {
    size_t begin, end, len;
} service;

typedef struct expander {
    const ct_catalog *cat;
    size_t n;
    bits tmp;
    /* The last literal service looked up: policies list many patterns per
     * service in a row ("s3:Get*", "s3:List*", ...). */
    const char *last_svc;
    size_t last_len, last_begin, last_end;
    /* Every service's range, built on the first pattern with a wildcard in
     * its service part. */
    service *services;
    size_t nservices;
} expander;

/* End of the service starting at index i (whose service is `len` bytes):
 * galloping search, cheaper than two full binary searches per service. */
static size_t service_end(const ct_catalog *cat, size_t i, size_t len)
{
    size_t n = ct_catalog_count(cat);
    const char *name = ct_catalog_name(cat, i);
    size_t lo = i + 1, step = 1, hi = lo;
    while (hi < n && prefix_cmp(ct_catalog_name(cat, hi), name, len + 1) == 0) {
        lo = hi + 1;
        hi += step;
        step *= 2;
    }
    if (hi > n)
        hi = n;
    return bound(cat, lo, hi, 0, name, len + 1, true);
}

static int build_services(expander *x)
{
    size_t cap = 0;
    x->nservices = 0;
    for (size_t i = 0; i < x->n;) {
        const char *name = ct_catalog_name(x->cat, i);
        const char *c = strchr(name, ':');
        size_t len = c ? (size_t)(c - name) : strlen(name);
        if (x->nservices == cap) {
            cap = cap ? cap * 2 : 512;
            service *v = realloc(x->services, cap * sizeof(*v));
            if (!v)
                return CT_ENOMEM;
            x->services = v;
        }
        service *sv = &x->services[x->nservices++];
        sv->begin = i;
        sv->end = service_end(x->cat, i, len);
        sv->len = len;
        i = sv->end;
    }
    return 0;
}

/* ORs into b every catalog action the lowercase pattern matches, agreeing
 * exactly with ct_wildcard_match on the full names.
 *
 * A pattern "S:A" is split at its first colon. The catalog guarantees
 * exactly one colon per name (and lowercase names), so that literal colon
 * can only match the name's colon: S must match the service and A the rest.
 * A literal S is one binary search for the service's contiguous range; a
 * wildcard S is tested once per service (a few hundred) instead of once per
 * action (22k), which keeps "*:get*" cheap. "*" sets everything. Patterns
 * without a colon (e.g. "s3*") are matched against whole names. */
static int or_pattern(expander *x, bits *b, const char *pat)
{
    const ct_catalog *cat = x->cat;
    size_t plen = strlen(pat);
    if (plen == 1 && pat[0] == '*') {
        bits_set_range(b, 0, x->n);
        return 0;
    }
    const char *colon = memchr(pat, ':', plen);
    if (!colon) {
        or_sorted(b, cat, 0, x->n, 0, pat, plen);
        return 0;
    }
    size_t svc_len = (size_t)(colon - pat);
    const char *act = colon + 1;
    size_t act_len = plen - svc_len - 1;
    if (literal_prefix(pat, svc_len) == svc_len) {
        if (!x->last_svc || x->last_len != svc_len || memcmp(x->last_svc, pat, svc_len) != 0) {
            ct_catalog_service_range(cat, pat, svc_len, &x->last_begin, &x->last_end);
            x->last_svc = pat;
            x->last_len = svc_len;
        }
        or_sorted(b, cat, x->last_begin, x->last_end, svc_len + 1, act, act_len);
        return 0;
    }
    size_t lp = literal_prefix(pat, svc_len);
    if (lp > 0) {
        /* "ec?:..." : only the services starting with "ec", walked directly. */
        size_t lo = bound(cat, 0, x->n, 0, pat, lp, false);
        size_t hi = bound(cat, lo, x->n, 0, pat, lp, true);
        for (size_t i = lo; i < hi;) {
            const char *name = ct_catalog_name(cat, i);
            const char *c = strchr(name, ':');
            size_t len = c ? (size_t)(c - name) : strlen(name);
            size_t end = service_end(cat, i, len);
            if (ct_wildcard_match_n(pat, svc_len, name, len))
                or_sorted(b, cat, i, end, len + 1, act, act_len);
            i = end;
        }
        return 0;
    }
    if (!x->services && build_services(x) != 0)
        return CT_ENOMEM;
    for (size_t i = 0; i < x->nservices; i++) {
        const service *sv = &x->services[i];
        const char *name = ct_catalog_name(cat, sv->begin);
        if (ct_wildcard_match_n(pat, svc_len, name, sv->len))
            or_sorted(b, cat, sv->begin, sv->end, sv->len + 1, act, act_len);
    }
    return 0;
}

/* ORs into dst the actions a statement's Action/NotAction covers. Sets
 * *all when the statement is known to cover every action ("Action": "*"),
 * so callers can skip the rest. */
static int or_statement(expander *x, bits *dst, const ct_stmt *st, bool *all)
{
    int rc = 0;
    if (!st->not_action) {
        for (size_t i = 0; i < st->npatterns && !rc; i++) {
            if (strcmp(st->patterns[i], "*") == 0)
                *all = true;
            rc = or_pattern(x, dst, st->patterns[i]);
        }
        return rc;
    }
    bits_clear(&x->tmp);
    for (size_t i = 0; i < st->npatterns && !rc; i++)
        rc = or_pattern(x, &x->tmp, st->patterns[i]);
    bits_not(&x->tmp);
    bits_or(dst, &x->tmp);
    return rc;
}

/* ORs the statements of a list into dst; `only_unlimited` skips limited
 * ones (Denies with a Condition, Resource or NotResource). */
static int or_list(expander *x, bits *dst, const ct_set_stmt *list, size_t n, bool only_unlimited)
{
    bool all = false;
    for (size_t i = 0; i < n && !all; i++) {
        if (only_unlimited && list[i].stmt->limit[0] != '\0')
            continue;
        int rc = or_statement(x, dst, list[i].stmt, &all);
        if (rc)
            return rc;
    }
    return 0;
}

int ct_policy_expand(ct_grants **out, const ct_policy_set *set, const ct_catalog *catalog,
                     ct_error *err)
{
    *out = NULL;
    size_t nbits = ct_catalog_count(catalog);
    size_t nwords = (nbits + 63) / 64;
    if (nwords == 0)
        nwords = 1;
    ct_grants *g = calloc(1, sizeof(*g) + nwords * sizeof(uint64_t));
    uint64_t *scratch = calloc(3 * nwords, sizeof(uint64_t));
    if (!g || !scratch) {
        free(g);
        free(scratch);
        return ct_error_set(err, CT_ENOMEM, "out of memory expanding policies");
    }
    g->nbits = nbits;
    g->nwords = nwords;
    bits allow = {g->words, nwords, nbits};
    bits deny = {scratch, nwords, nbits};
    bits inside = {scratch + nwords, nwords, nbits};
    expander x = {catalog, nbits, {scratch + 2 * nwords, nwords, nbits}, NULL, 0, 0, 0, NULL, 0};

    int rc = 0;
    if (set) {
        rc = or_list(&x, &allow, set->allows, set->nallows, false);
        /* Limited Denies leave the grant in place (they become notes). */
        if (!rc)
            rc = or_list(&x, &deny, set->denies, set->ndenies, true);
        if (!rc && set->has_boundary)
            rc = or_list(&x, &inside, set->boundary_allows, set->nboundary_allows, false);
    }
    if (!rc && set) {
        size_t count = 0;
        for (size_t i = 0; i < nwords; i++) {
            uint64_t w = allow.w[i] & ~deny.w[i];
            if (set->has_boundary)
                w &= inside.w[i];
            allow.w[i] = w;
            count += (size_t)__builtin_popcountll(w);
        }
        g->count = count;
    }
    free(x.services);
    free(scratch);
    if (rc) {
        free(g);
        return ct_error_set(err, rc, "out of memory expanding policies");
    }
    *out = g;
    return 0;
}

bool ct_grants_has(const ct_grants *g, size_t catalog_index)
{
    if (!g || catalog_index >= g->nbits)
        return false;
    return (g->words[catalog_index / 64] >> (catalog_index % 64)) & 1;
}

size_t ct_grants_next(const ct_grants *g, size_t from)
{
    if (!g)
        return SIZE_MAX;
    for (size_t w = from / 64; w < g->nwords && from < g->nbits; w++, from = w * 64) {
        uint64_t rest = g->words[w] >> (from % 64);
        if (rest) {
            size_t i = from + (size_t)__builtin_ctzll(rest);
            return i < g->nbits ? i : SIZE_MAX;
        }
    }
    return SIZE_MAX;
}

size_t ct_grants_count(const ct_grants *g)
{
    return g ? g->count : 0;
}

void ct_grants_free(ct_grants *g)
{
    free(g);
}
