/* Helpers shared by every event-source backend: result lists, and the
 * rules for reading eventType and eventCategory that both backends apply. */
#include "cloudtracker/source.h"
#include "cloudtracker/util.h"

#include <stdlib.h>
#include <string.h>

static const char *const KIND_NAMES[CT_EVENT_KINDS] = {"AwsApiCall", "AwsConsoleAction",
                                                       "AwsConsoleSignIn", "AwsServiceEvent"};

ct_event_kind ct_event_kind_of(const char *event_type)
{
    for (int k = 1; event_type && k < CT_EVENT_KINDS; k++)
        if (strcmp(event_type, KIND_NAMES[k]) == 0)
            return (ct_event_kind)k;
    return CT_EVENT_API;
}

const char *ct_event_kind_name(ct_event_kind kind)
{
    return (unsigned)kind < CT_EVENT_KINDS ? KIND_NAMES[kind] : KIND_NAMES[CT_EVENT_API];
}

bool ct_is_data_event(const char *event_category, int management_event)
{
    if (event_category)
        return strcmp(event_category, "Data") == 0;
    return management_event == 0;
}

int ct_calls_add(ct_calls *calls, const char *event_source, const char *event_name,
                 ct_event_kind kind, uint64_t count, uint64_t error_count, int64_t first_day,
                 int64_t last_day)
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
    c->kind = kind;
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
    if (c == 0)
        c = strcmp(a->event_name, b->event_name);
    return c ? c : (int)a->kind - (int)b->kind;
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

int ct_data_events_add(ct_data_events *list, const char *event_source, const char *event_name,
                       int read_only, uint64_t count, int64_t first_day, int64_t last_day)
{
    for (size_t i = 0; i < list->count; i++) {
        ct_data_event *e = &list->items[i];
        if (e->read_only == read_only && strcmp(e->event_source, event_source) == 0 &&
            strcmp(e->event_name, event_name) == 0) {
            e->count += count;
            e->first_day = first_day < e->first_day ? first_day : e->first_day;
            e->last_day = last_day > e->last_day ? last_day : e->last_day;
            return 0;
        }
    }
    if (list->count == list->cap) {
        size_t cap = list->cap ? list->cap * 2 : 16;
        ct_data_event *items = realloc(list->items, cap * sizeof(*items));
        if (!items)
            return CT_ENOMEM;
        list->items = items;
        list->cap = cap;
    }
    ct_data_event *e = &list->items[list->count];
    e->event_source = ct_strdup(event_source);
    e->event_name = ct_strdup(event_name);
    if (!e->event_source || !e->event_name) {
        free(e->event_source);
        free(e->event_name);
        return CT_ENOMEM;
    }
    e->read_only = read_only;
    e->count = count;
    e->first_day = first_day;
    e->last_day = last_day;
    list->count++;
    return 0;
}

void ct_data_events_release(ct_data_events *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].event_source);
        free(list->items[i].event_name);
    }
    free(list->items);
    memset(list, 0, sizeof(*list));
}

static int compare_data_events(const void *pa, const void *pb)
{
    const ct_data_event *a = pa, *b = pb;
    int c = strcmp(a->event_source, b->event_source);
    if (c == 0)
        c = strcmp(a->event_name, b->event_name);
    return c ? c : a->read_only - b->read_only;
}

void ct_data_events_sort(ct_data_events *list)
{
    if (list->count > 1)
        qsort(list->items, list->count, sizeof(*list->items), compare_data_events);
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
