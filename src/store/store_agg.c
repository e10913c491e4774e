/* In-memory aggregation for the ingest: string pools and keyed rows.
 * Workers build a file's aggregate with them; the writer uses the same
 * pools as its string -> id caches and the same rows for pending roll-up
 * changes. Tuned for the ingest's hot loop: few mallocs, no rehashing. */
#include "store/store_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- string pools ---- */

/* Reads 8 bytes whatever their alignment. */
static uint64_t load64(const char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof(w));
    return w;
}

/* A multiply-xorshift hash over 8-byte words: several times faster than a
 * byte-at-a-time hash on ARNs and key ids, and mixes well enough for
 * linear probing. */
uint64_t ct_strpool_hash(const char *s, size_t len)
{
    uint64_t h = 0x9E3779B97F4A7C15u ^ (uint64_t)len;
    for (; len >= 8; s += 8, len -= 8) {
        h = (h ^ load64(s)) * 0xBF58476D1CE4E5B9u;
        h ^= h >> 29;
    }
    uint64_t tail = 0;
    memcpy(&tail, s, len);
    h = (h ^ tail) * 0x94D049BB133111EBu;
    return h ^ (h >> 32);
}

static size_t pool_slot(const ct_strpool *pool, const char *s, size_t len, uint64_t hash)
{
    size_t i = (size_t)hash & (pool->nslots - 1);
    for (;;) {
        uint32_t ix = pool->slots[i];
        if (ix == 0)
            return i;
        const ct_pool_item *it = &pool->items[ix - 1];
        if (it->hash == hash && it->len == len && memcmp(it->s, s, len) == 0)
            return i;
        i = (i + 1) & (pool->nslots - 1);
    }
}

static int pool_rehash(ct_strpool *pool, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return CT_ENOMEM;
    for (size_t r = 0; r < pool->count; r++) {
        size_t i = (size_t)pool->items[r].hash & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = (uint32_t)(r + 1);
    }
    free(pool->slots);
    pool->slots = slots;
    pool->nslots = nslots;
    return 0;
}

bool ct_strpool_find(const ct_strpool *pool, const char *s, size_t len, uint64_t hash,
                     uint32_t *index)
{
    if (!pool->slots)
        return false;
    uint32_t ix = pool->slots[pool_slot(pool, s, len, hash)];
    if (ix == 0)
        return false;
    *index = ix - 1;
    return true;
}

int ct_strpool_intern(ct_strpool *pool, const char *s, size_t len, uint64_t hash, uint32_t *index)
{
    if (len > UINT32_MAX || pool->count >= UINT32_MAX - 1)
        return CT_ENOMEM;
    /* Load at most 1/2: probes stay short. */
    if ((pool->count + 1) * 2 > pool->nslots) {
        size_t nslots = pool->nslots ? pool->nslots : 32;
        while (nslots < (pool->count + 1) * 2)
            nslots *= 2;
        if (pool_rehash(pool, nslots) != 0)
            return CT_ENOMEM;
    }
    size_t i = pool_slot(pool, s, len, hash);
    if (pool->slots[i]) {
        *index = pool->slots[i] - 1;
        return 0;
    }
    ct_pool_item *items = ct_array_grow(pool->items, &pool->cap, pool->count, sizeof(*items), 16);
    if (!items)
        return CT_ENOMEM;
    pool->items = items;
    char *copy = ct_text_strndup(&pool->arena, s, len);
    if (!copy)
        return CT_ENOMEM;
    pool->items[pool->count] = (ct_pool_item){copy, (uint32_t)len, hash};
    pool->slots[i] = (uint32_t)(pool->count + 1);
    *index = (uint32_t)pool->count++;
    return 0;
}

void ct_strpool_seal(ct_strpool *pool)
{
    free(pool->slots);
    pool->slots = NULL;
    pool->nslots = 0;
    if (pool->count < pool->cap && pool->count > 0) {
        ct_pool_item *items = realloc(pool->items, pool->count * sizeof(*items));
        if (items) {
            pool->items = items;
            pool->cap = pool->count;
        }
    }
}

void ct_strpool_release(ct_strpool *pool)
{
    free(pool->items);
    free(pool->slots);
    ct_text_release(&pool->arena);
    memset(pool, 0, sizeof(*pool));
}

/* ---- action keys ---- */

int ct_action_key(ct_buf *out, ct_event_kind kind, const char *source, const char *name)
{
    size_t n = strlen(source), i = 24;
    char len[24];
    len[--i] = ':';
    do {
        len[--i] = (char)('0' + n % 10);
        n /= 10;
    } while (n);
    len[--i] = (char)('0' + (int)kind);
    ct_buf_reset(out);
    if (ct_buf_append(out, len + i, sizeof(len) - i) != 0 || ct_buf_puts(out, source) != 0 ||
        ct_buf_puts(out, name) != 0)
        return CT_ENOMEM;
    return 0;
}

bool ct_action_key_split(const char *key, size_t len, ct_event_kind *kind, const char **source,
                         size_t *source_len, const char **name, size_t *name_len)
{
    if (len < 1 || key[0] < '0' || key[0] >= '0' + CT_EVENT_KINDS)
        return false;
    *kind = (ct_event_kind)(key[0] - '0');
    key++;
    len--;
    size_t n = 0, i = 0;
    for (; i < len && key[i] >= '0' && key[i] <= '9' && i < 12; i++)
        n = n * 10 + (size_t)(key[i] - '0');
    if (i == 0 || i >= len || key[i] != ':' || n > len - i - 1)
        return false;
    *source = key + i + 1;
    *source_len = n;
    *name = *source + n;
    *name_len = len - i - 1 - n;
    return true;
}

/* ---- session evidence values ---- */

int ct_evidence_join(ct_buf *out, const char *const values[CT_EVIDENCE_VALUES])
{
    /* Once per event of a role session: one reservation, then copies. */
    size_t lens[CT_EVIDENCE_VALUES], total = 0;
    for (int i = 0; i < CT_EVIDENCE_VALUES; i++)
        total += (lens[i] = values[i] ? strlen(values[i]) : 0) + 1;
    ct_buf_reset(out);
    if (ct_buf_reserve(out, total) != 0)
        return CT_ENOMEM;
    char *p = out->data;
    for (int i = 0; i < CT_EVIDENCE_VALUES; i++) {
        /* Values hold no NUL (the scanner rejects it), so it parts them. */
        if (lens[i])
            memcpy(p, values[i], lens[i]);
        p[lens[i]] = '\0';
        p += lens[i] + 1;
    }
    out->len = total;
    return 0;
}

bool ct_evidence_split(const char *joined, size_t len, const char *values[CT_EVIDENCE_VALUES],
                       size_t lens[CT_EVIDENCE_VALUES])
{
    const char *p = joined, *end = joined + len;
    for (int i = 0; i < CT_EVIDENCE_VALUES; i++) {
        const char *nul = p < end ? memchr(p, '\0', (size_t)(end - p)) : NULL;
        if (!nul)
            return false;
        values[i] = p;
        lens[i] = (size_t)(nul - p);
        p = nul + 1;
    }
    return p == end;
}

/* ---- keyed rows ---- */

static uint64_t hash_key(const int64_t k[CT_AGG_KEYS])
{
    uint64_t h = 0x9E3779B97F4A7C15u;
    for (int i = 0; i < CT_AGG_KEYS; i++) {
        h ^= (uint64_t)k[i];
        h *= 0xBF58476D1CE4E5B9u;
        h ^= h >> 31;
    }
    return h;
}

static int rows_rehash(ct_agg_rows *t, size_t nslots)
{
    uint32_t *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return CT_ENOMEM;
    for (size_t r = 0; r < t->count; r++) {
        size_t i = (size_t)hash_key(t->rows[r].k) & (nslots - 1);
        while (slots[i])
            i = (i + 1) & (nslots - 1);
        slots[i] = (uint32_t)(r + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

static int rows_grow(ct_agg_rows *t)
{
    if (t->count < t->cap)
        return 0;
    size_t cap = t->cap ? t->cap * 2 : 32;
    if (cap >= UINT32_MAX)
        return CT_ENOMEM;
    ct_agg_row *rows = realloc(t->rows, cap * sizeof(*rows));
    if (!rows)
        return CT_ENOMEM;
    t->rows = rows;
    t->cap = cap;
    return 0;
}

int ct_agg_rows_add(ct_agg_rows *t, const int64_t k[CT_AGG_KEYS], uint64_t a, uint64_t b,
                    uint32_t *index)
{
    if ((t->count + 1) * 2 > t->nslots) {
        size_t nslots = t->nslots ? t->nslots : 64;
        while (nslots < (t->count + 1) * 2)
            nslots *= 2;
        if (rows_rehash(t, nslots) != 0)
            return CT_ENOMEM;
    }
    size_t i = (size_t)hash_key(k) & (t->nslots - 1);
    while (t->slots[i]) {
        ct_agg_row *row = &t->rows[t->slots[i] - 1];
        if (memcmp(row->k, k, sizeof(row->k)) == 0) {
            row->a += a;
            row->b += b;
            if (index)
                *index = t->slots[i] - 1;
            return 0;
        }
        i = (i + 1) & (t->nslots - 1);
    }
    if (rows_grow(t) != 0)
        return CT_ENOMEM;
    ct_agg_row *row = &t->rows[t->count];
    memcpy(row->k, k, sizeof(row->k));
    row->a = a;
    row->b = b;
    t->slots[i] = (uint32_t)(t->count + 1);
    if (index)
        *index = (uint32_t)t->count;
    t->count++;
    return 0;
}

int ct_agg_rows_append(ct_agg_rows *t, const int64_t k[CT_AGG_KEYS], uint64_t a, uint64_t b)
{
    if (rows_grow(t) != 0)
        return CT_ENOMEM;
    ct_agg_row *row = &t->rows[t->count++];
    memcpy(row->k, k, sizeof(row->k));
    row->a = a;
    row->b = b;
    return 0;
}

static int cmp_rows(const void *pa, const void *pb)
{
    const ct_agg_row *a = pa, *b = pb;
    for (int i = 0; i < CT_AGG_KEYS; i++)
        if (a->k[i] != b->k[i])
            return a->k[i] < b->k[i] ? -1 : 1;
    return 0;
}

void ct_agg_rows_sort(ct_agg_rows *t)
{
    free(t->slots);
    t->slots = NULL;
    t->nslots = 0;
    if (t->count < 2)
        return;
    qsort(t->rows, t->count, sizeof(*t->rows), cmp_rows);
    size_t out = 0;
    for (size_t i = 1; i < t->count; i++) {
        ct_agg_row *last = &t->rows[out];
        if (memcmp(last->k, t->rows[i].k, sizeof(last->k)) == 0) {
            last->a += t->rows[i].a;
            last->b += t->rows[i].b;
        } else {
            t->rows[++out] = t->rows[i];
        }
    }
    t->count = out + 1;
}

void ct_agg_rows_release(ct_agg_rows *t)
{
    free(t->rows);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}

/* Gives back the slack of the rows' array. */
static void rows_shrink(ct_agg_rows *t)
{
    if (t->count < t->cap && t->count > 0) {
        ct_agg_row *rows = realloc(t->rows, t->count * sizeof(*rows));
        if (rows) {
            t->rows = rows;
            t->cap = t->count;
        }
    }
}

int ct_file_agg_cap_resources(ct_file_agg *agg)
{
    ct_agg_rows *t = &agg->resources;
    ct_agg_rows_sort(t);
    /* Sorted by principal, action, day, set: a group's rows are together. */
    size_t out = 0;
    uint32_t more = UINT32_MAX;
    for (size_t i = 0; i < t->count;) {
        size_t j = i;
        uint64_t calls = 0;
        while (j < t->count && t->rows[j].k[0] == t->rows[i].k[0] &&
               t->rows[j].k[1] == t->rows[i].k[1] && t->rows[j].k[2] == t->rows[i].k[2])
            calls += t->rows[j++].a;
        if (j - i > CT_RESOURCE_SETS_MAX) {
            if (more == UINT32_MAX &&
                ct_strpool_intern(&agg->resource_sets, CT_RESOURCES_MORE, strlen(CT_RESOURCES_MORE),
                                  ct_strpool_hash(CT_RESOURCES_MORE, strlen(CT_RESOURCES_MORE)),
                                  &more) != 0)
                return CT_ENOMEM;
            t->rows[out] = t->rows[i];
            t->rows[out].k[3] = more;
            t->rows[out++].a = calls;
        } else {
            memmove(&t->rows[out], &t->rows[i], (j - i) * sizeof(t->rows[0]));
            out += j - i;
        }
        i = j;
    }
    /* A MORE row may now sort before its group's place: ct_file_agg_seal
     * sorts them again. */
    t->count = out;
    return 0;
}

void ct_file_agg_seal(ct_file_agg *agg)
{
    ct_agg_rows_sort(&agg->calls);
    ct_agg_rows_sort(&agg->account_days);
    ct_agg_rows_sort(&agg->evidence);
    ct_agg_rows_sort(&agg->resources);
    rows_shrink(&agg->calls);
    rows_shrink(&agg->account_days);
    rows_shrink(&agg->evidence);
    rows_shrink(&agg->resources);
    ct_strpool_seal(&agg->principals);
    ct_strpool_seal(&agg->keys);
    ct_strpool_seal(&agg->accounts);
    ct_strpool_seal(&agg->regions);
    ct_strpool_seal(&agg->actions);
    ct_strpool_seal(&agg->evidence_values);
    ct_strpool_seal(&agg->resource_sets);
}

void ct_file_agg_release(ct_file_agg *agg)
{
    ct_strpool_release(&agg->principals);
    ct_strpool_release(&agg->keys);
    ct_strpool_release(&agg->accounts);
    ct_strpool_release(&agg->regions);
    ct_strpool_release(&agg->actions);
    ct_agg_rows_release(&agg->calls);
    ct_agg_rows_release(&agg->account_days);
    ct_agg_rows_release(&agg->evidence);
    ct_strpool_release(&agg->evidence_values);
    ct_agg_rows_release(&agg->resources);
    ct_strpool_release(&agg->resource_sets);
    free(agg->assumes);
    ct_text_release(&agg->text);
    memset(agg, 0, sizeof(*agg));
}
