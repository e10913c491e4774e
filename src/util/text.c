/* ct_text_arena: a bump allocator for strings (see util.h). */
#include "cloudtracker/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct ct_text_chunk {
    struct ct_text_chunk *next;
    size_t used;
    size_t cap;
    char data[];
};

/* Chunks double with the arena's use, up to CHUNK_MAX: a pool of one short
 * string wastes little, a big file's strings take few mallocs. */
#define CHUNK_MIN 256
#define CHUNK_MAX (256 * 1024)

/* n bytes from the arena, unaligned: it holds strings only. */
static char *arena_alloc(ct_text_arena *a, size_t n)
{
    struct ct_text_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        size_t cap = c ? (c->cap * 2 < CHUNK_MAX ? c->cap * 2 : CHUNK_MAX) : CHUNK_MIN;
        if (cap < n)
            cap = n;
        if (cap > SIZE_MAX - sizeof(*c))
            return NULL;
        struct ct_text_chunk *nc = malloc(sizeof(*nc) + cap);
        if (!nc)
            return NULL;
        nc->next = c;
        nc->used = 0;
        nc->cap = cap;
        a->head = c = nc;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

char *ct_text_strdup(ct_text_arena *a, const char *s)
{
    return ct_text_strndup(a, s ? s : "", s ? strlen(s) : 0);
}

char *ct_text_strndup(ct_text_arena *a, const char *s, size_t n)
{
    char *p = n < SIZE_MAX ? arena_alloc(a, n + 1) : NULL;
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

void ct_text_release(ct_text_arena *a)
{
    while (a->head) {
        struct ct_text_chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}
