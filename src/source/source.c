/* Helpers shared by every event-source backend: result lists. */
#include "cloudtracker/source.h"
#include "cloudtracker/util.h"

#include <stdlib.h>
#include <string.h>

int ct_calls_add(ct_calls *calls, const char *event_source, const char *event_name, uint64_t count,
                 uint64_t error_count, int64_t first_day, int64_t last_day)
{
    if (calls->count == calls->cap) {
        size_t cap = calls->cap ? calls->cap * 2 : 16;
        ct_call *items = realloc(calls->items, cap * sizeof(*items));
        if (!items)
            return CT_ENOMEM;
        calls->items = items;
        calls->cap = cap;
    }
    ct_call *c = &calls->items[calls->count];
    c->event_source = ct_strdup(event_source);
    c->event_name = ct_strdup(event_name);
    if (!c->event_source || !c->event_name) {
        free(c->event_source);
        free(c->event_name);
        return CT_ENOMEM;
    }
    c->count = count;
    c->error_count = error_count;
    c->first_day = first_day;
    c->last_day = last_day;
    calls->count++;
    return 0;
}

static int compare_calls(const void *pa, const void *pb)
{
    const ct_call *a = pa, *b = pb;
    int c = strcmp(a->event_source, b->event_source);
    return c ? c : strcmp(a->event_name, b->event_name);
}

void ct_calls_sort(ct_calls *calls, size_t from)
{
    if (calls->count > from + 1)
        qsort(calls->items + from, calls->count - from, sizeof(*calls->items), compare_calls);
}

void ct_calls_truncate(ct_calls *calls, size_t keep)
{
    while (calls->count > keep) {
        calls->count--;
        free(calls->items[calls->count].event_source);
        free(calls->items[calls->count].event_name);
    }
}

void ct_calls_release(ct_calls *calls)
{
    for (size_t i = 0; i < calls->count; i++) {
        free(calls->items[i].event_source);
        free(calls->items[i].event_name);
    }
    free(calls->items);
    memset(calls, 0, sizeof(*calls));
}

int ct_input_problems_add(ct_input_problems *list, const char *path, const char *reason)
{
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 8;
        ct_input_problem *items = realloc(list->items, cap * sizeof(*items));
        if (!items)
            return CT_ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    ct_input_problem *p = &list->items[list->count];
    p->path = ct_strdup(path);
    p->reason = ct_strdup(reason);
    if (!p->path || !p->reason) {
        free(p->path);
        free(p->reason);
        return CT_ENOMEM;
    }
    list->count++;
    return 0;
}

void ct_input_problems_release(ct_input_problems *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].path);
        free(list->items[i].reason);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}

void ct_source_free(ct_source *src)
{
    if (src && src->free)
        src->free(src);
}
