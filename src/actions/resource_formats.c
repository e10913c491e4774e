/* The ARN formats of the actions a statement may be scoped to a resource for
 * (data/iam-actions/iam_resources.tsv): each distinct format stored once,
 * each distinct list of formats once per service; and the match of an ARN
 * against a format. */
#include "actions/internal.h"
#include "cloudtracker/actions.h"
#include "cloudtracker/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ct_resource_formats {
    /* Per catalog action: the first of its formats in `slots` << 8 | their
     * count; 0 when it has none. */
    uint32_t *at;
    /* The lists of formats, one after another. 12.5k actions share about
     * 1.9k lists (every action on a DynamoDB table has the same one), so a
     * service's actions point to one copy of each of its lists. */
    const char **slots;
    size_t nslots, cap;
    ct_text_arena text; /* the distinct formats */
};

#define MAX_PER_LINE 255u
#define MAX_SLOTS (UINT32_MAX >> 8)

void ct_resource_formats_free(struct ct_resource_formats *r)
{
    if (!r)
        return;
    free(r->at);
    free(r->slots);
    ct_text_release(&r->text);
    free(r);
}

const char *const *ct_resource_formats_get(const struct ct_resource_formats *r, size_t i, size_t *n)
{
    uint32_t v = r ? r->at[i] : 0;
    *n = v & MAX_PER_LINE;
    return v ? r->slots + (v >> 8) : NULL;
}

/* The bytes of a variable's name: letters, digits, '_'. */
static bool name_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_';
}

/* Why the n bytes at f are no ARN format the matcher reads as documented
 * ("arn:", then literal text and ${Name} variables), with the offset of the
 * offending byte in *at; NULL when they are one. */
static const char *format_problem(const char *f, size_t n, size_t *at)
{
    *at = 0;
    if (n == 0)
        return "empty ARN format";
    if (n < 4 || memcmp(f, "arn:", 4) != 0)
        return "ARN format does not start with \"arn:\"";
    for (size_t k = 4; k < n; k++) {
        unsigned char ch = (unsigned char)f[k];
        *at = k;
        if (ch == '$') {
            size_t e = k + 2;
            while (e < n && name_char((unsigned char)f[e]))
                e++;
            if (k + 1 >= n || f[k + 1] != '{' || e == k + 2 || e >= n || f[e] != '}')
                return "malformed ${Name} variable";
            k = e;
        } else if (ch == '{' || ch == '}') {
            return "brace outside a ${Name} variable";
        } else if (ch == '*' || ch == '?') {
            return "wildcard in an ARN format";
        } else if (ch <= ' ' || ch >= 0x7f) {
            return "space, control character or non-ASCII byte in an ARN format";
        }
    }
    return NULL;
}

/* The interned copy of format f (n bytes), added to `formats` when new. */
static const char *intern_format(struct ct_resource_formats *r, ct_strmap *formats, ct_buf *key,
                                 const char *f, size_t n)
{
    ct_buf_reset(key);
    if (ct_buf_append(key, f, n) != 0)
        return NULL;
    void *v;
    if (ct_strmap_get(formats, key->data, &v))
        return v;
    char *copy = ct_text_strndup(&r->text, f, n);
    if (!copy || ct_strmap_put(formats, key->data, copy) != 0)
        return NULL;
    return copy;
}

/* The catalog index of the action a line names (n bytes at s, spelled as the
 * catalog file spells it, or in any case). The file is sorted like the
 * catalog, so the action is usually a step or two after the previous line's
 * (*guess, then updated): those are compared as spelled; any other input is
 * lowercased into buf (160 bytes) and looked up. */
static bool find_action(const ct_catalog *c, const char *s, size_t n, size_t *guess, char *buf,
                        size_t *i)
{
    size_t count = ct_catalog_count(c);
    if (strnlen(s, n) != n)
        return false; /* a NUL byte: no name */
    for (size_t j = *guess; j < count && j < *guess + 4; j++) {
        const char *pub = ct_catalog_published(c, j);
        if (strncmp(pub, s, n) == 0 && pub[n] == '\0') {
            *i = j;
            *guess = j + 1;
            return true;
        }
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    ct_str_lower(buf);
    if (!ct_catalog_find(c, buf, i))
        return false;
    *guess = *i + 1;
    return true;
}

/* A list of formats already stored: the formats field of its first line. */
struct seen_list {
    const char *fields;
    size_t len;
    uint32_t at;
};

/* Stores the formats of a line's fields (checked) as a new list; returns its
 * `at` value, or 0 when out of memory. */
static uint32_t add_list(struct ct_resource_formats *r, ct_strmap *formats, ct_buf *key,
                         const char *fields, const char *end)
{
    size_t start = r->nslots;
    for (const char *f = fields; f <= end;) {
        const char *t = memchr(f, '\t', (size_t)(end - f));
        size_t fn = t ? (size_t)(t - f) : (size_t)(end - f);
        const char **slots = ct_array_grow(r->slots, &r->cap, r->nslots, sizeof(*slots), 256);
        if (!slots)
            return 0;
        r->slots = slots;
        if (!(r->slots[r->nslots] = intern_format(r, formats, key, f, fn)))
            return 0;
        r->nslots++;
        f += fn + 1;
    }
    return (uint32_t)(start << 8 | (r->nslots - start));
}

int ct_resource_formats_parse(struct ct_resource_formats **out, const ct_catalog *c,
                              const char *text, size_t len, const char *name, ct_error *err)
{
    *out = NULL;
    if (!name)
        name = "(resources)";
    int rc = 0;
    struct ct_resource_formats *r = calloc(1, sizeof(*r));
    ct_strmap *formats = ct_strmap_new();
    ct_buf key = CT_BUF_INIT;
    /* The lists of the current service (a list is nearly always shared by
     * actions of one service only, and the file keeps a service's lines
     * together): fewer to compare than a hash of every line would cost. */
    struct seen_list *seen = NULL;
    size_t nseen = 0, seen_cap = 0, service_len = 0;
    const char *service = NULL;
    size_t count = ct_catalog_count(c);
    if (!r || !formats || !(r->at = calloc(count ? count : 1, sizeof(*r->at))))
        goto oom;
    size_t pos = 0, guess = 0;
    int lineno = 0;
    while (pos < len) {
        lineno++;
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        if (n == 0 || line[0] == '#')
            continue;
        const char *tab = memchr(line, '\t', n);
        size_t name_len = tab ? (size_t)(tab - line) : 0;
        if (!tab || name_len == 0) {
            rc = ct_error_set_at(err, CT_EINPUT, name, lineno, 0,
                                 "expected \"Service:Action<TAB>ARN format\"");
            goto done;
        }
        /* A NUL byte fails here in the name, or as a control character in a
         * new list of formats (a list equal to one seen before has none). */
        char action[160]; /* catalog names have at most 159 bytes */
        size_t i;
        if (name_len >= sizeof(action) || !find_action(c, line, name_len, &guess, action, &i)) {
            rc = ct_error_set_at(err, CT_EINPUT, name, lineno, 1,
                                 "\"%.*s\" is not in the action catalog", (int)name_len, line);
            goto done;
        }
        if (r->at[i]) {
            rc = ct_error_set_at(err, CT_EINPUT, name, lineno, 1, "\"%.*s\" listed twice",
                                 (int)name_len, line);
            goto done;
        }
        const char *colon = memchr(line, ':', name_len);
        size_t slen = colon ? (size_t)(colon - line) : name_len;
        if (!service || slen != service_len || memcmp(service, line, slen) != 0) {
            service = line;
            service_len = slen;
            nseen = 0;
        }
        const char *fields = tab + 1, *end = line + n;
        size_t flen = (size_t)(end - fields);
        /* The latest lists first: a list is most often the line before's. A
         * list seen before was checked then. */
        size_t k = nseen;
        while (k > 0 && (seen[k - 1].len != flen || memcmp(seen[k - 1].fields, fields, flen) != 0))
            k--;
        if (k > 0) {
            r->at[i] = seen[k - 1].at;
            continue;
        }
        size_t nformats = 0;
        for (const char *f = fields; f <= end; nformats++) {
            const char *t = memchr(f, '\t', (size_t)(end - f));
            size_t fn = t ? (size_t)(t - f) : (size_t)(end - f), at;
            const char *why = format_problem(f, fn, &at);
            if (why) {
                rc = ct_error_set_at(err, CT_EINPUT, name, lineno, (int)(f + at - line) + 1, "%s",
                                     why);
                goto done;
            }
            f += fn + 1;
        }
        if (nformats > MAX_PER_LINE || r->nslots + nformats > MAX_SLOTS) {
            rc = ct_error_set_at(err, CT_EINPUT, name, lineno, 0, "too many ARN formats");
            goto done;
        }
        uint32_t at = add_list(r, formats, &key, fields, end);
        struct seen_list *grown = ct_array_grow(seen, &seen_cap, nseen, sizeof(*seen), 64);
        if (!at || !grown)
            goto oom;
        seen = grown;
        seen[nseen++] = (struct seen_list){fields, flen, at};
        r->at[i] = at;
    }
    goto done;

oom:
    rc = ct_error_set(err, CT_ENOMEM, "out of memory loading the resource formats");
done:
    ct_strmap_free(formats);
    ct_buf_release(&key);
    free(seen);
    if (rc != 0) {
        ct_resource_formats_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

/* ---- matching ----
 *
 * An ARN is arn:partition:service:region:account-id:resource, and the
 * resource is a resource-id, resource-type/resource-id or
 * resource-type:resource-id (IAM User Guide, "IAM identifiers" and
 * "Identify AWS resources with ARNs"). The partition, service, region and
 * account never hold ':' or '/', and neither do the names and IDs the
 * resource part is built from, except the last one: a path there is part of
 * the name (IAM role and user names with their path, S3 object keys, SSM
 * parameter hierarchies) and a qualifier may follow it (a Lambda version or
 * alias). So a variable stops at ':' and '/', which keeps a region or account
 * variable from swallowing a separator, and only a variable ending the
 * pattern after the resource type's separator runs to the end. A variable
 * that is the whole resource part (an S3 bucket, an SNS topic, an SQS queue)
 * stops at separators too: "arn:aws:s3:::bucket/key" names an object, not
 * the bucket, and "...:topic:uuid" a subscription, not the topic. */

#define MAX_PATTERN 1024

enum tok_kind { LITERAL, VAR, TAIL_VAR };

struct tok {
    unsigned char kind, ch;
};

/* Whether the variable at pattern[var] (the last token) runs to the end of
 * the ARN: a ':' or '/' lies between the fifth ':' and it. */
static bool tail_runs_to_end(const char *pattern, size_t var)
{
    int colons = 0;
    size_t k = 0;
    while (k < var && colons < 5)
        colons += pattern[k++] == ':';
    if (colons < 5)
        return false;
    for (; k < var; k++)
        if (pattern[k] == ':' || pattern[k] == '/')
            return true;
    return false;
}

bool ct_arn_matches_pattern(const char *pattern, const char *arn)
{
    if (!pattern || !arn)
        return false;
    if (strnlen(pattern, MAX_PATTERN + 1) > MAX_PATTERN)
        return false;
    struct tok tok[MAX_PATTERN];
    size_t nt = 0, last_var = 0;
    for (size_t k = 0; pattern[k];) {
        const char *close =
            pattern[k] == '$' && pattern[k + 1] == '{' ? strchr(pattern + k + 2, '}') : NULL;
        if (close && close > pattern + k + 2) {
            last_var = k;
            tok[nt++] = (struct tok){VAR, 0};
            k = (size_t)(close - pattern) + 1;
        } else {
            tok[nt++] = (struct tok){LITERAL, (unsigned char)pattern[k++]};
        }
    }
    if (nt > 0 && tok[nt - 1].kind == VAR && tail_runs_to_end(pattern, last_var))
        tok[nt - 1].kind = TAIL_VAR;

    /* The pattern as a small automaton, run over the ARN once. A state is
     * 2j when tokens 0..j-1 have matched what was read so far, 2j + 1 when
     * moreover variable j has matched one or more characters and may take
     * more. Only the live states are visited (one or two for the reference's
     * formats), and none twice per character: no backtracking, so no
     * pattern makes it slow. */
    uint16_t live[2][2 * MAX_PATTERN + 2];
    uint32_t added[2 * MAX_PATTERN + 2]; /* the step a state was last added at */
    memset(added, 0, (2 * nt + 2) * sizeof(added[0]));
    size_t nlive = 1, cur = 0;
    live[0][0] = 0;
    uint32_t step = 0;
    for (const char *a = arn; *a; a++) {
        unsigned char ch = (unsigned char)*a;
        bool plain = ch != ':' && ch != '/';
        size_t nnext = 0;
        uint16_t *next = live[cur ^ 1];
        step++;
        for (size_t k = 0; k < nlive; k++) {
            size_t j = live[cur][k] >> 1;
            uint16_t add[2];
            size_t nadd = 0;
            if (j == nt)
                continue; /* the whole pattern matched, and the ARN goes on */
            if (tok[j].kind == LITERAL) {
                if (!(live[cur][k] & 1) && tok[j].ch == ch)
                    add[nadd++] = (uint16_t)(2 * (j + 1));
            } else if (plain || tok[j].kind == TAIL_VAR) {
                add[nadd++] = (uint16_t)(2 * j + 1);   /* takes more */
                add[nadd++] = (uint16_t)(2 * (j + 1)); /* this was its last */
            }
            for (size_t m = 0; m < nadd; m++)
                if (added[add[m]] != step) {
                    added[add[m]] = step;
                    next[nnext++] = add[m];
                }
        }
        if (nnext == 0)
            return false;
        nlive = nnext;
        cur ^= 1;
    }
    for (size_t k = 0; k < nlive; k++)
        if (live[cur][k] == 2 * nt)
            return true;
    return false;
}
