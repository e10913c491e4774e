/* The IAM action catalog: "Service:Action<TAB>Access level" lines parsed into
 * one arena of lowercase names, sorted by byte order for binary search and
 * contiguous per-service index ranges. */
#include "actions/internal.h"
#include "cloudtracker/actions.h"
#include "cloudtracker/util.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 8 bytes rather than a pointer and an enum: the builtin catalog has 22k
 * entries, and touching fewer pages is most of what loading costs. */
struct entry {
    uint32_t off; /* of the NUL-terminated name in the arena */
    uint16_t level;
    uint16_t benign; /* ct_action_is_benign, decided at load */
};

struct ct_catalog {
    char *arena; /* the lowercase names, each NUL-terminated, in input order */
    char *published; /* the same names as the file spells them, at the same offsets */
    struct entry *entries;
    size_t count;
    ct_visibility *visibility; /* of each entry, looked up once at load */
    /* The actions checked inside calls of each action (the reverse of
     * visibility[].inside_of): hosted[hosted_at[h] .. hosted_at[h + 1]). */
    size_t *hosted_at;
    size_t *hosted;
    struct ct_resource_formats *resources; /* NULL until ct_catalog_load_resources */
};

#define NAME(c, e) ((c)->arena + (e).off)

/* Longest accepted action name; matches ct_event_actions' slot size so every
 * catalog name can travel through the event mapping unchanged. */
#define NAME_MAX_LEN 159

void ct_catalog_free(ct_catalog *c)
{
    if (!c)
        return;
    free(c->arena);
    free(c->published);
    free(c->entries);
    free(c->visibility);
    free(c->hosted_at);
    free(c->hosted);
    ct_resource_formats_free(c->resources);
    free(c);
}

/* One access-level word, as the AWS Service Authorization Reference spells it
 * (already lowercased). */
static ct_access_level level_word(const char *s, size_t n)
{
    static const struct {
        const char *word;
        ct_access_level level;
    } words[] = {
        {"list", CT_ACCESS_LIST},       {"read", CT_ACCESS_READ},
        {"write", CT_ACCESS_WRITE},     {"permissions management", CT_ACCESS_PERMISSIONS},
        {"tagging", CT_ACCESS_TAGGING},
    };
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].word) == n && memcmp(words[i].word, s, n) == 0)
            return words[i].level;
    return CT_ACCESS_UNKNOWN;
}

/* How much a level says about an action's risk: permissions management over
 * tagging over write over read over list. Decides between the levels of a
 * combination and of duplicate lines. */
static int level_rank(ct_access_level l)
{
    static const int rank[] = {0, 1, 2, 3, 5, 4}; /* indexed by ct_access_level */
    return rank[l];
}

/* Parses "Level" or a comma-separated combination ("permissions management,
 * write"). A combination means the action is both; the highest-ranked, most
 * specific class is kept. Returns UNKNOWN when a word is not a level. */
static ct_access_level parse_level(const char *s, size_t n)
{
    ct_access_level best = CT_ACCESS_UNKNOWN;
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != ',')
            j++;
        size_t a = i, b = j;
        while (a < b && s[a] == ' ')
            a++;
        while (b > a && s[b - 1] == ' ')
            b--;
        ct_access_level l = level_word(s + a, b - a);
        if (l == CT_ACCESS_UNKNOWN)
            return CT_ACCESS_UNKNOWN;
        if (level_rank(l) > level_rank(best))
            best = l;
        i = j + 1;
    }
    return best;
}

/* qsort has no context argument; the arena being sorted is set here. Only
 * reached for input that is out of order, never for the builtin data. */
static _Thread_local const char *sort_arena;

static int cmp_entry(const void *a, const void *b)
{
    const struct entry *x = a, *y = b;
    return strcmp(sort_arena + x->off, sort_arena + y->off);
}

/* name_map[ch] is the lowercase form of a byte allowed in an IAM action name
 * ("service:action": letters, digits, - _ . and the colon), 0 for any other. */
static unsigned char name_map[256];

static void build_name_map(void)
{
    for (int ch = 0; ch < 256; ch++) {
        unsigned char m = 0;
        if (ch >= 'a' && ch <= 'z')
            m = (unsigned char)ch;
        else if (ch >= 'A' && ch <= 'Z')
            m = (unsigned char)(ch - 'A' + 'a');
        else if ((ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == ':')
            m = (unsigned char)ch;
        name_map[ch] = m;
    }
}

static pthread_once_t name_map_once = PTHREAD_ONCE_INIT;

/* Checks the "service:action" shape of a name already restricted to valid
 * bytes: one colon, both parts non-empty. Returns NULL when valid. */
static const char *name_problem(const char *s, size_t n)
{
    if (n == 0)
        return "empty action name";
    if (n > NAME_MAX_LEN)
        return "action name too long";
    const char *colon = memchr(s, ':', n);
    if (!colon)
        return "action name has no \"service:\" prefix";
    if (colon == s)
        return "empty service prefix";
    if (colon == s + n - 1)
        return "empty action after the service prefix";
    if (memchr(colon + 1, ':', (size_t)(s + n - colon - 1)))
        return "action name has more than one colon";
    return NULL;
}

/* The access level field. The single-word spellings that make up most of the
 * published data are matched directly, which keeps the builtin load fast;
 * anything else goes through the general, case-insensitive parser. */
static ct_access_level level_field(const char *s, size_t n)
{
    switch (n) {
    case 4:
        if (memcmp(s, "List", 4) == 0)
            return CT_ACCESS_LIST;
        if (memcmp(s, "Read", 4) == 0)
            return CT_ACCESS_READ;
        break;
    case 5:
        if (memcmp(s, "Write", 5) == 0)
            return CT_ACCESS_WRITE;
        break;
    default:
        break;
    }
    char buf[128];
    if (n >= sizeof(buf))
        return CT_ACCESS_UNKNOWN;
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] - 'A' + 'a' : s[i]);
    return parse_level(buf, n);
}

static bool find_index(const ct_catalog *c, const char *action_lower, size_t *index);

/* Builds the reverse of each entry's inside_of list (hosts outside the
 * catalog are left out: nothing can be granted by them). */
static int index_hosted(ct_catalog *c, ct_error *err)
{
    size_t total = 0;
    if (!(c->hosted_at = calloc(c->count + 2, sizeof(*c->hosted_at))))
        return ct_error_set(err, CT_ENOMEM, "out of memory loading the action catalog");
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < c->count; i++) {
            const ct_visibility *v = &c->visibility[i];
            for (size_t k = 0; k < v->inside_count; k++) {
                size_t h;
                if (!find_index(c, v->inside_of[k], &h))
                    continue;
                if (pass == 0)
                    c->hosted_at[h + 2]++; /* counted one slot ahead, then summed */
                else
                    c->hosted[c->hosted_at[h + 1]++] = i;
            }
        }
        if (pass == 0) {
            for (size_t h = 0; h < c->count; h++)
                c->hosted_at[h + 2] += c->hosted_at[h + 1];
            total = c->hosted_at[c->count + 1];
            if (!(c->hosted = calloc(total + 1, sizeof(*c->hosted))))
                return ct_error_set(err, CT_ENOMEM, "out of memory loading the action catalog");
        }
    }
    return 0;
}

/* The name part of "benign" (see ct_action_is_benign). */
static bool benign_name(const char *action_lower)
{
    const char *colon = strchr(action_lower, ':');
    const char *act = colon ? colon + 1 : action_lower;
    return ct_str_starts_with(act, "list") || ct_str_starts_with(act, "describe");
}

int ct_catalog_load_tsv(ct_catalog **out, const char *text, size_t len, const char *name,
                        ct_error *err)
{
    *out = NULL;
    if (!name)
        name = "(catalog)";
    pthread_once(&name_map_once, build_name_map);
    ct_catalog *c = calloc(1, sizeof(*c));
    if (!c)
        return ct_error_set(err, CT_ENOMEM, "out of memory loading the action catalog");
    int rc = 0;
    if (len >= UINT32_MAX) {
        rc = ct_error_set_at(err, CT_EINPUT, name, 0, 0, "catalog text too large");
        goto done;
    }
    /* The shortest entry line, "a:b<TAB>List\n", has 9 bytes, which bounds
     * the entry count without a counting pass; pages never written to cost
     * nothing. Names (with their NUL) never outgrow the text. */
    size_t cap = len / 9 + 1;
    c->arena = malloc(len + 1);
    c->published = malloc(len + 1);
    c->entries = malloc(cap * sizeof(*c->entries));
    if (!c->arena || !c->published || !c->entries) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory loading the action catalog");
        goto done;
    }

    const unsigned char *t = (const unsigned char *)text;
    const unsigned char *map = name_map;
    char *arena = c->arena, *published = c->published;
    size_t pos = 0, w = 0;
    int lineno = 0;
    bool sorted = true;
    while (pos < len) {
        lineno++;
        size_t line_start = pos;
        size_t name_start = w;
        unsigned char m;
        /* Copy the name lowercased until the first byte that cannot be in one
         * (locals, so the compiler need not reload c->arena after each store). */
        while (pos < len && (m = map[t[pos]]) != 0) {
            published[w] = (char)t[pos];
            arena[w++] = (char)m;
            pos++;
        }
        size_t name_len = w - name_start;
        const char *nl = pos < len ? memchr(text + pos, '\n', len - pos) : NULL;
        size_t line_end = nl ? (size_t)(nl - text) : len;
        size_t next = nl ? line_end + 1 : len;
        size_t content_end = line_end;
        if (content_end > line_start && text[content_end - 1] == '\r')
            content_end--;
        if (name_len == 0 && (pos == content_end || text[pos] == '#')) {
            pos = next; /* blank or comment line */
            continue;
        }
        if (pos >= content_end || text[pos] != '\t') {
            int col = (int)(pos - line_start) + 1;
            if (pos < content_end && text[pos] == '\0')
                rc = ct_error_set_at(err, CT_EINPUT, name, lineno, col, "NUL byte in line");
            else if (!memchr(text + pos, '\t', content_end - pos))
                rc = ct_error_set_at(err, CT_EINPUT, name, lineno, 0,
                                     "expected \"Service:Action<TAB>Access level\"");
            else
                rc = ct_error_set_at(err, CT_EINPUT, name, lineno, col,
                                     "invalid character in action name");
            goto done;
        }
        const char *why = name_problem(c->arena + name_start, name_len);
        if (why) {
            rc = ct_error_set_at(err, CT_EINPUT, name, lineno, 1, "%s", why);
            goto done;
        }
        const char *level_text = text + pos + 1;
        size_t level_len = content_end - pos - 1;
        if (memchr(level_text, '\t', level_len)) {
            rc = ct_error_set_at(err, CT_EINPUT, name, lineno, 0,
                                 "more than two tab-separated fields");
            goto done;
        }
        ct_access_level level = level_field(level_text, level_len);
        if (level == CT_ACCESS_UNKNOWN) {
            rc = ct_error_set_at(err, CT_EINPUT, name, lineno, (int)name_len + 2,
                                 "unknown access level \"%.*s\"", (int)level_len, level_text);
            goto done;
        }
        c->published[w] = '\0';
        c->arena[w++] = '\0';
        /* The published file is already in byte order once lowercased, so
         * noticing that spares the sort in the common case. */
        if (sorted && c->count > 0 &&
            strcmp(NAME(c, c->entries[c->count - 1]), c->arena + name_start) > 0)
            sorted = false;
        c->entries[c->count].off = (uint32_t)name_start;
        c->entries[c->count].level = (uint16_t)level;
        c->count++;
        pos = next;
    }

    if (!sorted) {
        sort_arena = c->arena;
        qsort(c->entries, c->count, sizeof(*c->entries), cmp_entry);
    }
    /* Merge duplicates (the same action listed twice, or differing only in
     * case): keep one entry, with the more sensitive level. */
    size_t kept = 0;
    for (size_t r = 0; r < c->count; r++) {
        if (kept > 0 && strcmp(NAME(c, c->entries[kept - 1]), NAME(c, c->entries[r])) == 0) {
            if (level_rank((ct_access_level)c->entries[r].level) >
                level_rank((ct_access_level)c->entries[kept - 1].level))
                c->entries[kept - 1].level = c->entries[r].level;
            continue;
        }
        c->entries[kept++] = c->entries[r];
    }
    c->count = kept;
    /* Every diff asks what CloudTrail shows of each granted action: the
     * answers are looked up here once, not per diff. */
    if (!(c->visibility = calloc(kept ? kept : 1, sizeof(*c->visibility)))) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory loading the action catalog");
        goto done;
    }
    for (size_t i = 0; rc == 0 && i < kept; i++) {
        struct entry *e = &c->entries[i];
        e->benign = e->level == CT_ACCESS_LIST || benign_name(NAME(c, *e));
        if ((rc = ct_action_visibility(NAME(c, *e), &c->visibility[i])) != 0)
            rc = ct_error_set(err, rc, "cannot load the CloudTrail tables");
    }
    if (rc == 0)
        rc = index_hosted(c, err);

done:
    if (rc != 0) {
        ct_catalog_free(c);
        return rc;
    }
    *out = c;
    return 0;
}

int ct_catalog_load_builtin(ct_catalog **out, ct_error *err)
{
    *out = NULL;
    int rc = ct_catalog_load_tsv(out, (const char *)ct_data_iam_actions, ct_data_iam_actions_len,
                                 "data/iam-actions/iam_actions.tsv", err);
    if (rc == CT_EINPUT) {
        /* The embedded table is checked by the tests, so a parse error here
         * is a build problem, not bad user input. */
        if (err)
            err->code = CT_EINTERNAL;
        return CT_EINTERNAL;
    }
    if (rc != 0)
        return rc;
    rc = ct_actions_tables_load(err);
    if (rc != 0) {
        ct_catalog_free(*out);
        *out = NULL;
    }
    return rc;
}

int ct_catalog_load_builtin_resources(ct_catalog *c, ct_error *err)
{
    int rc =
        ct_catalog_load_resources(c, (const char *)ct_data_iam_resources, ct_data_iam_resources_len,
                                  "data/iam-actions/iam_resources.tsv", err);
    if (rc == CT_EINPUT) {
        /* The embedded table is checked by the tests, so a parse error
         * here is a build problem, not bad user input. */
        if (err)
            err->code = CT_EINTERNAL;
        rc = CT_EINTERNAL;
    }
    return rc;
}

bool ct_catalog_has_resources(const ct_catalog *c)
{
    return c->resources != NULL;
}

int ct_catalog_load_resources(ct_catalog *c, const char *text, size_t len, const char *name,
                              ct_error *err)
{
    ct_resource_formats_free(c->resources);
    c->resources = NULL;
    return ct_resource_formats_parse(&c->resources, c, text, len, name, err);
}

const char *const *ct_catalog_resource_patterns(const ct_catalog *c, size_t i, size_t *n)
{
    *n = 0;
    if (!c || i >= c->count)
        return NULL;
    return ct_resource_formats_get(c->resources, i, n);
}

size_t ct_catalog_count(const ct_catalog *c)
{
    return c ? c->count : 0;
}

const char *ct_catalog_published(const ct_catalog *c, size_t i)
{
    return (c && i < c->count) ? c->published + c->entries[i].off : NULL;
}

const char *ct_catalog_name(const ct_catalog *c, size_t i)
{
    return (c && i < c->count) ? NAME(c, c->entries[i]) : NULL;
}

const size_t *ct_catalog_hosted(const ct_catalog *c, size_t host, size_t *n)
{
    *n = 0;
    if (!c || host >= c->count)
        return NULL;
    *n = c->hosted_at[host + 1] - c->hosted_at[host];
    return c->hosted + c->hosted_at[host];
}

const ct_visibility *ct_catalog_visibility(const ct_catalog *c, size_t i)
{
    return (c && i < c->count) ? &c->visibility[i] : NULL;
}

ct_access_level ct_catalog_level(const ct_catalog *c, size_t i)
{
    return (c && i < c->count) ? (ct_access_level)c->entries[i].level : CT_ACCESS_UNKNOWN;
}

/* First index whose name is >= key (byte order), comparing at most the
 * first klen bytes of key. */
static size_t lower_bound(const ct_catalog *c, const char *key, size_t klen)
{
    size_t lo = 0, hi = c->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *nm = NAME(c, c->entries[mid]);
        int d = strncmp(nm, key, klen);
        /* A name equal to key's first klen bytes but longer sorts after key. */
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool ct_catalog_find(const ct_catalog *c, const char *action_lower, size_t *index)
{
    return find_index(c, action_lower, index);
}

static bool find_index(const ct_catalog *c, const char *action_lower, size_t *index)
{
    if (!c || !action_lower)
        return false;
    size_t klen = strlen(action_lower);
    size_t i = lower_bound(c, action_lower, klen);
    if (i < c->count && strcmp(NAME(c, c->entries[i]), action_lower) == 0) {
        if (index)
            *index = i;
        return true;
    }
    return false;
}

void ct_catalog_service_range(const ct_catalog *c, const char *service, size_t len, size_t *begin,
                              size_t *end)
{
    *begin = *end = 0;
    if (!c || !service || len == 0 || len > NAME_MAX_LEN || memchr(service, ':', len))
        return;
    /* All "svc:..." names lie in ["svc:", "svc;"), ';' being ':' + 1. */
    char key[NAME_MAX_LEN + 2];
    memcpy(key, service, len);
    key[len] = ':';
    size_t b = lower_bound(c, key, len + 1);
    key[len] = ';';
    size_t e = lower_bound(c, key, len + 1);
    *begin = b;
    *end = e;
}

bool ct_action_is_benign(const ct_catalog *c, const char *action_lower)
{
    if (!action_lower)
        return false;
    if (benign_name(action_lower))
        return true;
    size_t i;
    return ct_catalog_find(c, action_lower, &i) && c->entries[i].level == CT_ACCESS_LIST;
}

bool ct_catalog_is_benign(const ct_catalog *c, size_t i)
{
    return i < c->count && c->entries[i].benign;
}
