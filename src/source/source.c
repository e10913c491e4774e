/* Helpers shared by every event-source backend: result lists, and the
 * rules for reading eventType and eventCategory that both backends apply. */
#include "cloudtracker/source.h"
#include "cloudtracker/util.h"

#include <stdint.h>
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
    ct_call *items = ct_array_grow(calls->items, &calls->cap, calls->count, sizeof(*items), 16);
    if (!items)
        return CT_ENOMEM;
    calls->items = items;
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
    ct_data_event *items = ct_array_grow(list->items, &list->cap, list->count, sizeof(*items), 16);
    if (!items)
        return CT_ENOMEM;
    list->items = items;
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

/* The capacity of an array of `count` items that only ct_array_grow (from
 * `initial` on) made: ct_account_coverage keeps no capacity of its own. */
static size_t implicit_cap(size_t count, size_t initial)
{
    size_t cap = count ? initial : 0;
    while (cap < count)
        cap *= 2;
    return cap;
}

int ct_account_coverage_add_day(ct_account_coverage *coverage, int64_t day, uint64_t events)
{
    /* Backends mostly give a day's pieces together: those are summed here,
     * the rest when finishing. */
    if (coverage->day_count && coverage->days[coverage->day_count - 1].day == day) {
        coverage->days[coverage->day_count - 1].events += events;
        return 0;
    }
    size_t cap = implicit_cap(coverage->day_count, 32);
    ct_account_day *days =
        ct_array_grow(coverage->days, &cap, coverage->day_count, sizeof(*days), 32);
    if (!days)
        return CT_ENOMEM;
    coverage->days = days;
    coverage->days[coverage->day_count++] = (ct_account_day){day, events};
    return 0;
}

int ct_account_coverage_add_region(ct_account_coverage *coverage, const char *region)
{
    region = region ? region : "";
    if (coverage->region_count &&
        strcmp(coverage->regions[coverage->region_count - 1], region) == 0)
        return 0;
    size_t cap = implicit_cap(coverage->region_count, 16);
    char **regions =
        ct_array_grow(coverage->regions, &cap, coverage->region_count, sizeof(*regions), 16);
    if (!regions)
        return CT_ENOMEM;
    coverage->regions = regions;
    if (!(coverage->regions[coverage->region_count] = ct_strdup(region)))
        return CT_ENOMEM;
    coverage->region_count++;
    return 0;
}

static int compare_days(const void *pa, const void *pb)
{
    const ct_account_day *a = pa, *b = pb;
    return a->day < b->day ? -1 : a->day > b->day;
}

static int compare_strings(const void *pa, const void *pb)
{
    return strcmp(*(char *const *)pa, *(char *const *)pb);
}

void ct_account_coverage_finish(ct_account_coverage *coverage)
{
    size_t n = 0;
    if (coverage->day_count > 1)
        qsort(coverage->days, coverage->day_count, sizeof(*coverage->days), compare_days);
    coverage->events = 0;
    for (size_t i = 0; i < coverage->day_count; i++) {
        coverage->events += coverage->days[i].events;
        if (n && coverage->days[n - 1].day == coverage->days[i].day)
            coverage->days[n - 1].events += coverage->days[i].events;
        else
            coverage->days[n++] = coverage->days[i];
    }
    coverage->day_count = n;
    if (coverage->region_count > 1)
        qsort(coverage->regions, coverage->region_count, sizeof(*coverage->regions),
              compare_strings);
    n = 0;
    for (size_t i = 0; i < coverage->region_count; i++) {
        if (n && strcmp(coverage->regions[n - 1], coverage->regions[i]) == 0)
            free(coverage->regions[i]);
        else
            coverage->regions[n++] = coverage->regions[i];
    }
    coverage->region_count = n;
}

void ct_account_coverage_release(ct_account_coverage *coverage)
{
    free(coverage->days);
    for (size_t i = 0; i < coverage->region_count; i++)
        free(coverage->regions[i]);
    free(coverage->regions);
    ct_data_events_release(&coverage->data);
    memset(coverage, 0, sizeof(*coverage));
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
    ct_input_problem *items =
        ct_array_grow(list->items, &list->cap, list->count, sizeof(*items), 8);
    if (!items)
        return CT_ENOMEM;
    list->items = items;
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

/* ---- bulk answers ---- */

/* The key a group of calls is summed under: fields joined by tabs (no
 * CloudTrail ARN, key, eventSource or eventName holds one that reaches
 * here unescaped, and a clash would only sum two groups that are written
 * alike). Returns 0 or CT_ENOMEM. */
static int group_key(ct_buf *b, const char *owner, const char *event_source,
                     const char *event_name, ct_event_kind kind)
{
    /* Built by hand: this runs once per row of the bulk answers, where
     * printf's parsing of its format was a tenth of a review's time. */
    char tail[4] = {'\t', (char)('0' + (int)kind), '\0', '\0'};
    ct_buf_reset(b);
    if (ct_buf_puts(b, owner) || ct_buf_append(b, "\t", 1) || ct_buf_puts(b, event_source) ||
        ct_buf_append(b, "\t", 1) || ct_buf_puts(b, event_name) || ct_buf_puts(b, tail))
        return CT_ENOMEM;
    return 0;
}

/* Adds to the call of `calls` that `index` maps `key` to, or appends one. */
static int sum_call(ct_strmap *index, const char *key, ct_calls *calls, const char *event_source,
                    const char *event_name, ct_event_kind kind, uint64_t count,
                    uint64_t error_count, int64_t first_day, int64_t last_day)
{
    void *v = NULL;
    if (ct_strmap_get(index, key, &v)) {
        ct_call *c = &calls->items[(size_t)(uintptr_t)v - 1];
        c->count += count;
        c->error_count += error_count;
        c->first_day = first_day < c->first_day ? first_day : c->first_day;
        c->last_day = last_day > c->last_day ? last_day : c->last_day;
        return 0;
    }
    if (ct_calls_add(calls, event_source, event_name, kind, count, error_count, first_day,
                     last_day) != 0)
        return CT_ENOMEM;
    return ct_strmap_put(index, key, (void *)(uintptr_t)calls->count) != 0 ? CT_ENOMEM : 0;
}

int ct_account_calls_add(ct_account_calls *list, const char *principal_arn,
                         const char *event_source, const char *event_name, ct_event_kind kind,
                         uint64_t count, uint64_t error_count, int64_t first_day,
                         int64_t last_day)
{
    if (!list->index && !(list->index = ct_strmap_new()))
        return CT_ENOMEM;
    void *v = NULL;
    ct_principal_calls *p;
    if (ct_strmap_get(list->index, principal_arn, &v)) {
        p = &list->items[(size_t)(uintptr_t)v - 1];
    } else {
        ct_principal_calls *items =
            ct_array_grow(list->items, &list->cap, list->count, sizeof(*items), 16);
        if (!items)
            return CT_ENOMEM;
        list->items = items;
        p = &list->items[list->count];
        memset(p, 0, sizeof(*p));
        if (!(p->principal_arn = ct_strdup(principal_arn)))
            return CT_ENOMEM;
        list->count++;
        if (ct_strmap_put(list->index, principal_arn, (void *)(uintptr_t)list->count) != 0)
            return CT_ENOMEM;
    }
    ct_buf key = CT_BUF_INIT;
    int rc = group_key(&key, principal_arn, event_source, event_name, kind) != 0
                 ? CT_ENOMEM
                 : sum_call(list->index, key.data, &p->calls, event_source, event_name, kind,
                            count, error_count, first_day, last_day);
    ct_buf_release(&key);
    return rc;
}

static int compare_principal_calls(const void *pa, const void *pb)
{
    const ct_principal_calls *a = pa, *b = pb;
    return strcmp(a->principal_arn, b->principal_arn);
}

void ct_account_calls_finish(ct_account_calls *list)
{
    ct_strmap_free(list->index);
    list->index = NULL;
    for (size_t i = 0; i < list->count; i++)
        ct_calls_sort(&list->items[i].calls, 0);
    if (list->count > 1)
        qsort(list->items, list->count, sizeof(*list->items), compare_principal_calls);
}

const ct_calls *ct_account_calls_find(const ct_account_calls *list, const char *principal_arn)
{
    if (list->index) {
        void *v = NULL;
        return ct_strmap_get(list->index, principal_arn, &v)
                   ? &list->items[(size_t)(uintptr_t)v - 1].calls
                   : NULL;
    }
    ct_principal_calls probe = {(char *)principal_arn, {0}};
    const ct_principal_calls *p =
        list->count ? bsearch(&probe, list->items, list->count, sizeof(*list->items),
                              compare_principal_calls)
                    : NULL;
    return p ? &p->calls : NULL;
}

void ct_account_calls_release(ct_account_calls *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].principal_arn);
        ct_calls_release(&list->items[i].calls);
    }
    free(list->items);
    ct_strmap_free(list->index);
    memset(list, 0, sizeof(*list));
}

/* The strings of a session's opening event and evidence, in arrays so
 * they are copied and compared alike. */
#define OPENING_STRINGS 14
static void opening_strings(ct_session_opening *o, char **fields[OPENING_STRINGS])
{
    char **all[OPENING_STRINGS] = {
        &o->event_name,   &o->role_arn, &o->caller,          &o->caller_type,  &o->caller_key,
        &o->caller_name,  &o->provider, &o->subject,         &o->issuer,       &o->source_identity,
        &o->session_name, &o->account,  &o->event_id,        &o->shared_event_id};
    memcpy(fields, all, sizeof(all));
}

#define EVIDENCE_STRINGS 4
static void evidence_strings(ct_session_evidence *e, char **fields[EVIDENCE_STRINGS])
{
    fields[0] = &e->session_name;
    fields[1] = &e->source_identity;
    fields[2] = &e->on_behalf_of;
    fields[3] = &e->identity_store;
}

/* Copies n strings (NULL as "") from the list's arena into *fields[i]
 * (what they held stays in the arena until the list goes), or changes
 * nothing and returns CT_ENOMEM. */
static int set_strings(ct_role_sessions *list, char **fields[], const char *const *given, int n)
{
    char *copies[OPENING_STRINGS];
    for (int i = 0; i < n; i++)
        if (!(copies[i] = ct_text_strdup(&list->text, given[i])))
            return CT_ENOMEM;
    for (int i = 0; i < n; i++)
        *fields[i] = copies[i];
    return 0;
}

/* The session with `access_key`, made empty when new; NULL when out of
 * memory. */
static ct_role_session *session_of(ct_role_sessions *list, const char *access_key)
{
    if (!list->index && !(list->index = ct_strmap_new()))
        return NULL;
    void *v = NULL;
    if (ct_strmap_get(list->index, access_key, &v))
        return &list->items[(size_t)(uintptr_t)v - 1];
    ct_role_session *items =
        ct_array_grow(list->items, &list->cap, list->count, sizeof(*items), 16);
    if (!items)
        return NULL;
    list->items = items;
    ct_role_session *s = &list->items[list->count];
    memset(s, 0, sizeof(*s));
    if (!(s->access_key = ct_text_strdup(&list->text, access_key)))
        return NULL;
    list->count++;
    if (ct_strmap_put(list->index, access_key, (void *)(uintptr_t)list->count) != 0)
        return NULL;
    return s;
}

int ct_role_sessions_add_call(ct_role_sessions *list, const char *access_key,
                              const char *event_source, const char *event_name,
                              ct_event_kind kind, uint64_t count, uint64_t error_count,
                              int64_t first_day, int64_t last_day)
{
    ct_role_session *s = session_of(list, access_key);
    if (!s)
        return CT_ENOMEM;
    ct_buf key = CT_BUF_INIT;
    int rc = group_key(&key, access_key, event_source, event_name, kind) != 0
                 ? CT_ENOMEM
                 : sum_call(list->index, key.data, &s->calls, event_source, event_name, kind,
                            count, error_count, first_day, last_day);
    ct_buf_release(&key);
    return rc;
}

int ct_role_sessions_add_evidence(ct_role_sessions *list, const char *access_key,
                                  const char *role_arn, int64_t last_day,
                                  const ct_session_evidence *evidence)
{
    ct_role_session *s = session_of(list, access_key);
    if (!s)
        return CT_ENOMEM;
    if (role_arn && role_arn[0] && !s->role_arn &&
        !(s->role_arn = ct_text_strdup(&list->text, role_arn)))
        return CT_ENOMEM;
    char **fields[EVIDENCE_STRINGS];
    evidence_strings(&s->evidence, fields);
    const char *given[EVIDENCE_STRINGS] = {evidence->session_name, evidence->source_identity,
                                           evidence->on_behalf_of, evidence->identity_store};
    for (int i = 0; i < EVIDENCE_STRINGS; i++) {
        const char *kept = *fields[i], *v = given[i] ? given[i] : "";
        /* The smallest non-empty value wins; a value is copied only when
         * it does (the backends give a session's evidence row by row). */
        if (kept && (!v[0] || (kept[0] && strcmp(v, kept) >= 0)))
            continue;
        if (set_strings(list, &fields[i], &v, 1) != 0)
            return CT_ENOMEM;
    }
    if (!s->evidence_known || last_day > s->last_evidence_day)
        s->last_evidence_day = last_day;
    s->evidence_known = true;
    return 0;
}

/* Whether an opening names who made the call (the role account's copy of
 * a cross-account AssumeRole does not). */
static bool names_caller(const ct_session_opening *o)
{
    return (o->caller && o->caller[0]) || (o->caller_name && o->caller_name[0]);
}

/* Whether opening `o` is preferred to the one kept (see ct_role_session). */
static bool opening_preferred(const ct_role_session *kept, const ct_session_opening *o)
{
    if (!kept->opened_known)
        return true;
    if (names_caller(o) != names_caller(&kept->opening))
        return names_caller(o);
    if (o->at != kept->opening.at)
        return o->at < kept->opening.at;
    return strcmp(o->event_id ? o->event_id : "", kept->opening.event_id) < 0;
}

int ct_role_sessions_add_opening(ct_role_sessions *list, const char *access_key,
                                 const ct_session_opening *opening)
{
    ct_role_session *s = session_of(list, access_key);
    if (!s)
        return CT_ENOMEM;
    if (!opening_preferred(s, opening))
        return 0;
    ct_session_opening given = *opening;
    char **from[OPENING_STRINGS], **to[OPENING_STRINGS];
    opening_strings(&given, from);
    opening_strings(&s->opening, to);
    const char *values[OPENING_STRINGS];
    for (int i = 0; i < OPENING_STRINGS; i++)
        values[i] = *from[i];
    if (set_strings(list, to, values, OPENING_STRINGS) != 0)
        return CT_ENOMEM;
    s->opening.at = opening->at;
    s->opened_known = true;
    return 0;
}

static int compare_sessions(const void *pa, const void *pb)
{
    const ct_role_session *a = pa, *b = pb;
    return strcmp(a->access_key, b->access_key);
}

int ct_role_sessions_finish(ct_role_sessions *list, const ct_window *window)
{
    ct_strmap_free(list->index);
    list->index = NULL;
    for (size_t i = 0; i < list->count; i++) {
        ct_role_session *s = &list->items[i];
        /* The role from the session's calls, else from its opening. */
        /* The opening's string lives as long as the list: share it. */
        if (!s->role_arn && s->opened_known && s->opening.role_arn[0])
            s->role_arn = s->opening.role_arn;
        bool called = s->evidence_known && s->last_evidence_day >= window->first_day;
        for (size_t c = 0; c < s->calls.count && !called; c++)
            called = s->calls.items[c].last_day >= window->first_day;
        s->active = called || (s->opened_known &&
                               ct_window_contains(window, ct_day_of_seconds(s->opening.at)));
        ct_calls_sort(&s->calls, 0);
    }
    if (list->count > 1)
        qsort(list->items, list->count, sizeof(*list->items), compare_sessions);
    return 0;
}

const ct_role_session *ct_role_sessions_find(const ct_role_sessions *list,
                                             const char *access_key)
{
    if (list->index) {
        void *v = NULL;
        return ct_strmap_get(list->index, access_key, &v)
                   ? &list->items[(size_t)(uintptr_t)v - 1]
                   : NULL;
    }
    ct_role_session probe;
    memset(&probe, 0, sizeof(probe));
    probe.access_key = (char *)access_key;
    return list->count ? bsearch(&probe, list->items, list->count, sizeof(*list->items),
                                 compare_sessions)
                       : NULL;
}

void ct_role_sessions_release(ct_role_sessions *list)
{
    for (size_t i = 0; i < list->count; i++)
        ct_calls_release(&list->items[i].calls);
    free(list->items);
    ct_strmap_free(list->index);
    ct_text_release(&list->text);
    memset(list, 0, sizeof(*list));
}

/* ---- the resources calls named ---- */

int ct_resources_add(ct_resources *list, const char *event_source, const char *event_name,
                     ct_event_kind kind, const char *arns, uint64_t calls)
{
    if (!list->index && !(list->index = ct_strmap_new()))
        return CT_ENOMEM;
    ct_buf key = CT_BUF_INIT;
    int rc = group_key(&key, "", event_source, event_name, kind) != 0 ? CT_ENOMEM : 0;
    void *v = NULL;
    ct_call_resources *c = NULL;
    if (rc == 0 && ct_strmap_get(list->index, key.data, &v)) {
        c = &list->items[(size_t)(uintptr_t)v - 1];
    } else if (rc == 0) {
        ct_call_resources *items =
            ct_array_grow(list->items, &list->cap, list->count, sizeof(*items), 16);
        if (!items) {
            rc = CT_ENOMEM;
        } else {
            list->items = items;
            c = &items[list->count];
            memset(c, 0, sizeof(*c));
            c->kind = kind;
            if (!(c->event_source = ct_strdup(event_source)) ||
                !(c->event_name = ct_strdup(event_name))) {
                free(c->event_source);
                free(c->event_name);
                rc = CT_ENOMEM;
            } else {
                list->count++;
                if (ct_strmap_put(list->index, key.data, (void *)(uintptr_t)list->count) != 0)
                    rc = CT_ENOMEM;
            }
        }
    }
    /* The set's own entry: its index + 1 in c->sets. */
    if (rc == 0 && (ct_buf_append(&key, "\t", 1) != 0 || ct_buf_puts(&key, arns) != 0))
        rc = CT_ENOMEM;
    if (rc == 0) {
        c->named += calls;
        if (ct_strmap_get(list->index, key.data, &v)) {
            c->sets[(size_t)(uintptr_t)v - 1].calls += calls;
        } else {
            ct_resource_set *sets =
                ct_array_grow(c->sets, &c->set_cap, c->set_count, sizeof(*sets), 4);
            if (!sets || !(sets[c->set_count].arns = ct_strdup(arns))) {
                if (sets)
                    c->sets = sets;
                rc = CT_ENOMEM;
            } else {
                c->sets = sets;
                sets[c->set_count++].calls = calls;
                if (ct_strmap_put(list->index, key.data, (void *)(uintptr_t)c->set_count) != 0)
                    rc = CT_ENOMEM;
            }
        }
    }
    ct_buf_release(&key);
    return rc;
}

static int compare_sets(const void *pa, const void *pb)
{
    return strcmp(((const ct_resource_set *)pa)->arns, ((const ct_resource_set *)pb)->arns);
}

static int compare_call_resources(const void *pa, const void *pb)
{
    const ct_call_resources *a = pa, *b = pb;
    int c = strcmp(a->event_source, b->event_source);
    if (c == 0)
        c = strcmp(a->event_name, b->event_name);
    return c ? c : (int)a->kind - (int)b->kind;
}

static void release_sets(ct_call_resources *c)
{
    for (size_t i = 0; i < c->set_count; i++)
        free(c->sets[i].arns);
    free(c->sets);
    c->sets = NULL;
    c->set_count = c->set_cap = 0;
}

void ct_resources_finish(ct_resources *list)
{
    ct_strmap_free(list->index);
    list->index = NULL;
    for (size_t i = 0; i < list->count; i++) {
        ct_call_resources *c = &list->items[i];
        for (size_t j = 0; j < c->set_count && !c->more; j++)
            c->more = strcmp(c->sets[j].arns, CT_RESOURCES_MORE) == 0;
        if (c->set_count > CT_RESOURCE_SETS_MAX)
            c->more = true;
        if (c->more)
            release_sets(c);
        else if (c->set_count > 1)
            qsort(c->sets, c->set_count, sizeof(*c->sets), compare_sets);
    }
    if (list->count > 1)
        qsort(list->items, list->count, sizeof(*list->items), compare_call_resources);
}

const ct_call_resources *ct_resources_find(const ct_resources *list, const char *event_source,
                                           const char *event_name, ct_event_kind kind)
{
    ct_call_resources probe = {
        (char *)event_source, (char *)event_name, kind, 0, false, NULL, 0, 0};
    return list->count ? bsearch(&probe, list->items, list->count, sizeof(*list->items),
                                 compare_call_resources)
                       : NULL;
}

void ct_resources_release(ct_resources *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].event_source);
        free(list->items[i].event_name);
        release_sets(&list->items[i]);
    }
    free(list->items);
    ct_strmap_free(list->index);
    memset(list, 0, sizeof(*list));
}
