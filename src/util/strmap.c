/* ct_strmap: open-addressing (linear probing) hash map from owned string
 * keys to borrowed pointers. No deletion: the maps here only grow. */
#include "cloudtracker/error.h"
#include "cloudtracker/util.h"

#include <stdlib.h>
#include <string.h>

struct slot {
    char *key; /* NULL = empty */
    uint64_t hash;
    void *value;
};

struct ct_strmap {
    struct slot *slots;
    size_t cap; /* power of two */
    size_t count;
};

ct_strmap *ct_strmap_new(void)
{
    ct_strmap *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cap = 16;
    m->slots = calloc(m->cap, sizeof(*m->slots));
    if (!m->slots) {
        free(m);
        return NULL;
    }
    return m;
}

void ct_strmap_free(ct_strmap *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++)
        free(m->slots[i].key);
    free(m->slots);
    free(m);
}

static struct slot *find_slot(struct slot *slots, size_t cap, const char *key, uint64_t h)
{
    size_t i = (size_t)h & (cap - 1);
    for (;;) {
        struct slot *s = &slots[i];
        if (!s->key || (s->hash == h && strcmp(s->key, key) == 0))
            return s;
        i = (i + 1) & (cap - 1);
    }
}

static int grow(ct_strmap *m)
{
    size_t cap = m->cap * 2;
    struct slot *slots = calloc(cap, sizeof(*slots));
    if (!slots)
        return CT_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        struct slot *old = &m->slots[i];
        if (old->key)
            *find_slot(slots, cap, old->key, old->hash) = *old;
    }
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return 0;
}

int ct_strmap_put(ct_strmap *m, const char *key, void *value)
{
    if ((m->count + 1) * 4 > m->cap * 3 && grow(m) != 0)
        return CT_ENOMEM;
    uint64_t h = ct_hash_bytes(key, strlen(key));
    struct slot *s = find_slot(m->slots, m->cap, key, h);
    if (!s->key) {
        s->key = ct_strdup(key);
        if (!s->key)
            return CT_ENOMEM;
        s->hash = h;
        m->count++;
    }
    s->value = value;
    return 0;
}

bool ct_strmap_get(const ct_strmap *m, const char *key, void **value)
{
    uint64_t h = ct_hash_bytes(key, strlen(key));
    struct slot *s = find_slot(m->slots, m->cap, key, h);
    if (!s->key)
        return false;
    if (value)
        *value = s->value;
    return true;
}

size_t ct_strmap_count(const ct_strmap *m)
{
    return m->count;
}

bool ct_strmap_next(const ct_strmap *m, size_t *pos, const char **key, void **value)
{
    while (*pos < m->cap) {
        struct slot *s = &m->slots[(*pos)++];
        if (s->key) {
            if (key)
                *key = s->key;
            if (value)
                *value = s->value;
            return true;
        }
    }
    return false;
}
