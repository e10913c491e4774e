/* The diff between what a principal was granted and what its calls needed:
 * one entry per action, with a verdict (used, unused, unknown, not granted)
 * and whether CloudTrail could have shown the action's use at all. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <stdlib.h>
#include <string.h>

/* Appends an entry: a catalog action's name is the catalog's (borrowed),
 * another one a copy. */
static ct_diff_entry *add_entry(ct_diff *d, const char *action, size_t catalog_index)
{
    ct_diff_entry *entries = ct_array_grow(d->entries, &d->cap, d->count, sizeof(*entries), 256);
    if (!entries)
        return NULL;
    d->entries = entries;
    ct_diff_entry *e = &entries[d->count];
    *e = (ct_diff_entry){.action = catalog_index == SIZE_MAX ? ct_strdup(action) : action,
                         .catalog_index = catalog_index};
    if (!e->action)
        return NULL;
    d->count++;
    return e;
}

static void release_action(ct_diff_entry *e)
{
    if (e->catalog_index == SIZE_MAX)
        free((char *)e->action);
}

/* Calls aggregated per IAM action (several events can need one action). */
typedef struct usage {
    uint64_t count, error_count;
    int64_t first_day, last_day;
    /* Some call needed a grant: a call of a permission-free event alone
     * (sts:GetCallerIdentity) never makes an action "used but not granted". */
    bool needs_grant;
    /* An event that may have used the action, depending on its request
     * (request-dependent.tsv): "eventSource eventName", or NULL. */
    char *maybe_event;
} usage;

/* "eventSource eventName" of a call (malloc'd), or NULL when out of memory. */
static char *call_label(const char *event_source, const char *event_name)
{
    ct_buf b = CT_BUF_INIT;
    if (ct_buf_printf(&b, "%s %s", event_source, event_name) != 0) {
        ct_buf_release(&b);
        return NULL;
    }
    return ct_buf_detach(&b);
}

static int note_unmapped(ct_diff *d, const ct_call *c, ct_error *err)
{
    d->unmapped_calls += c->count + c->error_count;
    if (!d->unmapped_example && !(d->unmapped_example = call_label(c->event_source, c->event_name)))
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    return 0;
}

/* The usage of an action, made at zero when new. NULL when out of memory. */
static usage *usage_of(ct_strmap *by_action, const char *action, const ct_call *c)
{
    void *v = NULL;
    if (ct_strmap_get(by_action, action, &v))
        return v;
    usage *u = calloc(1, sizeof(*u));
    if (!u || ct_strmap_put(by_action, action, u) != 0) {
        free(u);
        return NULL;
    }
    u->first_day = c->first_day;
    u->last_day = c->last_day;
    return u;
}

/* Notes that a request-dependent call may have used each of its candidate
 * actions: it proves the use of none. */
static int note_maybe(ct_strmap *by_action, const ct_call *c, const ct_event_actions *mapped,
                      ct_error *err)
{
    for (size_t k = 0; k < mapped->count; k++) {
        usage *u = usage_of(by_action, mapped->actions[k], c);
        if (!u)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        if (!u->maybe_event && !(u->maybe_event = call_label(c->event_source, c->event_name)))
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
}

static int collect_usage(ct_diff *d, ct_strmap *by_action, const ct_catalog *catalog,
                         const ct_calls *calls, ct_error *err)
{
    for (size_t i = 0; i < calls->count; i++) {
        const ct_call *c = &calls->items[i];
        /* Sign-in and service events are the account's activity: nobody
         * needed a permission for them. */
        if (c->kind == CT_EVENT_SIGNIN || c->kind == CT_EVENT_SERVICE) {
            d->non_action_events += c->count + c->error_count;
            continue;
        }
        ct_event_actions mapped;
        /* A pair that cannot be mapped names no action we could grant or
         * remove; count it so the caller can say so. */
        if (ct_event_map(c->event_source, c->event_name, &mapped) != 0) {
            int rc = note_unmapped(d, c, err);
            if (rc)
                return rc;
            continue;
        }
        if (mapped.count == 0)
            d->non_action_events += c->count + c->error_count;
        if (mapped.request_dependent) {
            if (c->count > 0) {
                int rc = note_maybe(by_action, c, &mapped, err);
                if (rc)
                    return rc;
            }
            continue;
        }
        for (size_t k = 0; k < mapped.count; k++) {
            /* A console action is the use of an action only when it is
             * one the catalog knows; the console has actions of its own. */
            if (c->kind == CT_EVENT_CONSOLE && !ct_catalog_find(catalog, mapped.actions[k], NULL)) {
                d->non_action_events += c->count + c->error_count;
                continue;
            }
            usage *u = usage_of(by_action, mapped.actions[k], c);
            if (!u)
                return ct_error_set(err, CT_ENOMEM, "out of memory");
            if (u->count + u->error_count > 0 || u->needs_grant) {
                if (c->first_day < u->first_day)
                    u->first_day = c->first_day;
                if (c->last_day > u->last_day)
                    u->last_day = c->last_day;
            } else {
                /* The first real call (the entry may come from a maybe). */
                u->first_day = c->first_day;
                u->last_day = c->last_day;
            }
            u->count += c->count;
            u->error_count += c->error_count;
            if (!mapped.permission_free)
                u->needs_grant = true;
        }
    }
    return 0;
}

/* ---- data events seen in the logs ---- */

const ct_data_seen *ct_diff_data_seen(const ct_diff *diff, const char *resource_type, int read_only)
{
    for (size_t i = 0; i < diff->seen_count; i++)
        if (diff->seen[i].read_only == read_only &&
            strcmp(diff->seen[i].resource_type, resource_type) == 0)
            return &diff->seen[i];
    return NULL;
}

static int add_seen(ct_diff *d, const char *type, const ct_data_event *e)
{
    for (size_t i = 0; i < d->seen_count; i++) {
        ct_data_seen *s = &d->seen[i];
        if (s->read_only == e->read_only && strcmp(s->resource_type, type) == 0) {
            s->events += e->count;
            s->first_day = e->first_day < s->first_day ? e->first_day : s->first_day;
            s->last_day = e->last_day > s->last_day ? e->last_day : s->last_day;
            return 0;
        }
    }
    ct_data_seen *grown = realloc(d->seen, (d->seen_count + 1) * sizeof(*grown));
    if (!grown)
        return CT_ENOMEM;
    d->seen = grown;
    ct_data_seen *s = &d->seen[d->seen_count];
    memset(s, 0, sizeof(*s));
    s->resource_type = ct_strdup(type);
    s->example = call_label(e->event_source, e->event_name);
    if (!s->resource_type || !s->example) {
        free(s->resource_type);
        free(s->example);
        return CT_ENOMEM;
    }
    s->read_only = e->read_only;
    s->events = e->count;
    s->first_day = e->first_day;
    s->last_day = e->last_day;
    d->seen_count++;
    return 0;
}

/* Sorts the data events into resource types: an event's actions (through
 * ct_event_map) name data-event rows, and the rows logged under the
 * event's eventSource give its type. An event whose readOnly is not
 * recorded says nothing about either kind. */
static int collect_seen(ct_diff *d, const ct_data_events *events, ct_error *err)
{
    for (size_t i = 0; events && i < events->count; i++) {
        const ct_data_event *e = &events->items[i];
        if (ct_data_events_add(&d->observed, e->event_source, e->event_name, e->read_only, e->count,
                               e->first_day, e->last_day) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        ct_event_actions mapped;
        if (e->read_only < 0 || ct_event_map(e->event_source, e->event_name, &mapped) != 0)
            continue;
        for (size_t k = 0; k < mapped.count; k++) {
            ct_visibility v;
            int rc = ct_action_visibility(mapped.actions[k], &v);
            if (rc)
                return ct_error_set(err, rc, "cannot load the CloudTrail tables");
            for (size_t r = 0; r < v.data_rule_count; r++) {
                const ct_data_event_rule *rule = v.data_rules[r];
                if (strcmp(rule->event_source, e->event_source) != 0)
                    continue;
                if (add_seen(d, rule->resource_type, e) != 0)
                    return ct_error_set(err, CT_ENOMEM, "out of memory");
            }
        }
    }
    return 0;
}

/* ---- verdicts ---- */

bool ct_data_rule_exact(const ct_data_event_rule *rule)
{
    char apis[2048];
    if (strlen(rule->apis) >= sizeof(apis))
        return false;
    memcpy(apis, rule->apis, strlen(rule->apis) + 1);
    char *save = NULL;
    for (char *api = strtok_r(apis, " ", &save); api; api = strtok_r(NULL, " ", &save)) {
        ct_event_actions a;
        bool found = false;
        if (strcmp(api, "*") != 0 && ct_event_map(rule->event_source, api, &a) == 0 &&
            !a.request_dependent)
            for (size_t i = 0; i < a.count && !found; i++)
                found = strcmp(a.actions[i], rule->action) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Whether the logs hold data events of this API with a recorded readOnly:
 * then its kind, whatever the table says of it, is logged. */
static bool api_observed(const ct_diff *diff, const char *event_source, const char *api)
{
    for (size_t i = 0; i < diff->observed.count; i++) {
        const ct_data_event *e = &diff->observed.items[i];
        if (e->read_only >= 0 && strcmp(e->event_name, api) == 0 &&
            strcmp(e->event_source, event_source) == 0)
            return true;
    }
    return false;
}

bool ct_data_rule_logged(const ct_diff *diff, const ct_data_event_rule *rule)
{
    bool read = ct_diff_data_seen(diff, rule->resource_type, 1) != NULL;
    bool write = ct_diff_data_seen(diff, rule->resource_type, 0) != NULL;
    bool kind = rule->read_only == 1 ? read : rule->read_only == 0 ? write : read && write;
    if (kind)
        return true;
    char apis[2048];
    if (strlen(rule->apis) >= sizeof(apis))
        return false;
    memcpy(apis, rule->apis, strlen(rule->apis) + 1);
    char *save = NULL;
    for (char *api = strtok_r(apis, " ", &save); api; api = strtok_r(NULL, " ", &save))
        if (strcmp(api, "*") == 0 || !api_observed(diff, rule->event_source, api))
            return false;
    return true;
}

/* What a build needs besides the diff: where the data events come from,
 * asked for at most once, when the first data-event action needs them. */
typedef struct build {
    ct_diff *d;
    ct_diff_data_fn data_events;
    void *data_ud;
    bool data_asked;
    ct_error *err;
} build;

static int ensure_data_events(build *b)
{
    if (b->data_asked || !b->data_events)
        return 0;
    b->data_asked = true;
    ct_data_events events = {0};
    int rc = b->data_events(b->data_ud, &events, b->err);
    if (rc == 0)
        rc = collect_seen(b->d, &events, b->err);
    ct_data_events_release(&events);
    return rc;
}

/* Whether the logs can show calls of an action whose tables say `v`, its
 * host actions left aside (*visible): management events always; data
 * events when the logs hold data events of each of its resource types and
 * of its kind (of both kinds when its calls are of either), and each call
 * needing it names it by its eventName (not only by its request). Returns
 * 0, or the error of fetching the data events. */
static int class_visible(build *b, const ct_visibility *v, bool *visible)
{
    *visible = v->cls == CT_VIS_MANAGEMENT;
    if (v->cls != CT_VIS_DATA_EVENT)
        return 0;
    int rc = ensure_data_events(b);
    if (rc)
        return rc;
    *visible = true;
    for (size_t i = 0; i < v->data_rule_count && *visible; i++)
        *visible =
            ct_data_rule_logged(b->d, v->data_rules[i]) && ct_data_rule_exact(v->data_rules[i]);
    return 0;
}

/* Fills an entry's catalog facts (e->catalog_index set, or SIZE_MAX),
 * visibility and usage (u may be NULL: never called). */
static int fill(build *b, ct_diff_entry *e, const ct_catalog *catalog, const usage *u)
{
    ct_error *err = b->err;
    size_t idx = e->catalog_index;
    e->level = idx != SIZE_MAX ? ct_catalog_level(catalog, idx) : CT_ACCESS_UNKNOWN;
    int rc = 0;
    if (idx != SIZE_MAX)
        e->visibility = *ct_catalog_visibility(catalog, idx);
    else if ((rc = ct_action_visibility(e->action, &e->visibility)))
        return ct_error_set(err, rc, "cannot load the CloudTrail tables");
    if ((rc = class_visible(b, &e->visibility, &e->visible)))
        return rc;
    e->benign = idx != SIZE_MAX ? ct_catalog_is_benign(catalog, idx)
                                : ct_action_is_benign(catalog, e->action);
    if (u) {
        e->count = u->count;
        e->error_count = u->error_count;
        e->first_day = u->first_day;
        e->last_day = u->last_day;
        /* Named even when the class hides the action anyway: the JSON
         * says so. */
        if (u->maybe_event) {
            if (!(e->hidden_by_event = ct_strdup(u->maybe_event)))
                return ct_error_set(err, CT_ENOMEM, "out of memory");
            e->visible = false;
        }
    }
    return 0;
}

/* An action also checked inside other calls cannot be judged unused when
 * one of those host actions was used, or is granted and CloudTrail cannot
 * show it: the check may have happened inside such a call. */
static int check_hosts(build *b, ct_diff_entry *e, const ct_catalog *catalog,
                       const ct_grants *grants, ct_strmap *by_action)
{
    for (size_t i = 0; e->visible && i < e->visibility.inside_count; i++) {
        const char *host = e->visibility.inside_of[i];
        void *v = NULL;
        if (ct_strmap_get(by_action, host, &v) && ((usage *)v)->count > 0) {
            e->visible = false;
            e->hidden_by_action = host;
            break;
        }
        size_t idx;
        if (!ct_catalog_find(catalog, host, &idx) || !ct_grants_has(grants, idx))
            continue;
        ct_visibility hv;
        bool visible;
        int rc = ct_action_visibility(host, &hv);
        if (rc)
            return ct_error_set(b->err, rc, "cannot load the CloudTrail tables");
        if ((rc = class_visible(b, &hv, &visible)))
            return rc;
        if (!visible) {
            e->visible = false;
            e->hidden_by_action = host;
        }
    }
    return 0;
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const ct_diff_entry *)a)->action, ((const ct_diff_entry *)b)->action);
}

/* A used action of the catalog, by index: the granted ones are met in
 * catalog order, so their usage is found by walking this list alongside
 * rather than by a lookup per granted action. */
typedef struct indexed_usage {
    size_t index;
    const usage *u;
} indexed_usage;

static int compare_indexed(const void *a, const void *b)
{
    size_t x = ((const indexed_usage *)a)->index, y = ((const indexed_usage *)b)->index;
    return (x > y) - (x < y);
}

/* Sorts the entries from `tail` on (actions outside the catalog's granted
 * run) and merges them into the run before it, which is in catalog (so
 * byte) order already: a diff of every action costs no sort of them all. */
static int merge_tail(ct_diff *d, size_t tail)
{
    size_t extra = d->count - tail;
    if (extra == 0)
        return 0;
    qsort(d->entries + tail, extra, sizeof(*d->entries), compare_entries);
    ct_diff_entry *merged = malloc(d->count * sizeof(*merged));
    if (!merged)
        return CT_ENOMEM;
    size_t i = 0, j = tail, k = 0;
    while (i < tail || j < d->count) {
        if (j == d->count || (i < tail && strcmp(d->entries[i].action, d->entries[j].action) < 0))
            merged[k++] = d->entries[i++];
        else
            merged[k++] = d->entries[j++];
    }
    free(d->entries);
    d->entries = merged;
    d->cap = d->count;
    return 0;
}

/* The verdict for a granted action: used when a call succeeded, else
 * unknown when CloudTrail could not have shown it, else unused. */
static ct_verdict granted_verdict(const ct_diff_entry *e)
{
    if (e->count > 0)
        return CT_VERDICT_USED;
    return e->visible ? CT_VERDICT_UNUSED : CT_VERDICT_UNKNOWN;
}

/* Whether a call of `by_action` used an action that catalog action i is
 * also checked inside of: the calls then change i's verdict (check_hosts). */
static bool hosted_in_used(const ct_catalog *catalog, size_t i, ct_strmap *by_action)
{
    const ct_visibility *vis = ct_catalog_visibility(catalog, i);
    for (size_t k = 0; vis && k < vis->inside_count; k++) {
        void *v = NULL;
        if (ct_strmap_get(by_action, vis->inside_of[k], &v) && ((usage *)v)->count > 0)
            return true;
    }
    return false;
}

static int compare_index(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* The next granted index of the sorted `visit` list (each once), or
 * SIZE_MAX. */
static size_t next_visit(const size_t *visit, size_t n, size_t *at, const ct_grants *grants)
{
    while (*at < n) {
        size_t i = visit[(*at)++];
        while (*at < n && visit[*at] == i)
            (*at)++;
        if (ct_grants_has(grants, i))
            return i;
    }
    return SIZE_MAX;
}

/* ct_diff_build, or with `touched_only` ct_diff_build_touched. */
static int build_diff(ct_diff *out, const ct_catalog *catalog, const ct_policy_set *policies,
                      const ct_grants *given, const ct_calls *calls, ct_diff_data_fn data_events,
                      void *data_ud, bool touched_only, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    out->policies = policies;
    build b = {out, data_events, data_ud, false, err};
    ct_grants *expanded = NULL;
    const ct_grants *grants = given;
    ct_strmap *by_action = ct_strmap_new();
    indexed_usage *used_at = NULL;
    size_t *visit = NULL, nvisit = 0, v_at = 0; /* touched: the indices to visit */
    size_t pos = 0;
    const char *action;
    void *v;
    int rc = 0;
    if (!by_action) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    if ((!given && (rc = ct_policy_expand(&expanded, policies, catalog, err))) ||
        (rc = collect_usage(out, by_action, catalog, calls, err)))
        goto done;
    if (!given)
        grants = expanded;

    /* Every entry in one allocation: the granted actions and those called
     * (touched: the called ones, and room for some they host). */
    size_t want = (touched_only ? 2 * ct_strmap_count(by_action) : ct_grants_count(grants)) +
                  ct_strmap_count(by_action);
    if (want && !(out->entries = malloc(want * sizeof(*out->entries)))) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    out->cap = want;
    /* The used actions of the catalog, in catalog order. */
    size_t used_count = 0, next_used = 0;
    if (!(used_at = calloc(ct_strmap_count(by_action) + 1, sizeof(*used_at)))) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    while (ct_strmap_next(by_action, &pos, &action, &v)) {
        size_t idx;
        if (ct_catalog_find(catalog, action, &idx))
            used_at[used_count++] = (indexed_usage){idx, v};
    }
    pos = 0;
    qsort(used_at, used_count, sizeof(*used_at), compare_indexed);
    /* Touched: only the used actions and those checked inside them can
     * differ from the diff without calls, so only those are visited. */
    if (touched_only) {
        size_t room = used_count;
        for (size_t k = 0; k < used_count; k++) {
            size_t n = 0;
            ct_catalog_hosted(catalog, used_at[k].index, &n);
            room += n;
        }
        if (!(visit = calloc(room + 1, sizeof(*visit)))) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t k = 0; k < used_count; k++) {
            size_t n = 0;
            const size_t *hosted = ct_catalog_hosted(catalog, used_at[k].index, &n);
            visit[nvisit++] = used_at[k].index;
            for (size_t j = 0; j < n; j++)
                visit[nvisit++] = hosted[j];
        }
        qsort(visit, nvisit, sizeof(*visit), compare_index);
    }
    for (size_t i = touched_only ? next_visit(visit, nvisit, &v_at, grants)
                                 : ct_grants_next(grants, 0);
         i != SIZE_MAX; i = touched_only ? next_visit(visit, nvisit, &v_at, grants)
                                         : ct_grants_next(grants, i + 1)) {
        while (next_used < used_count && used_at[next_used].index < i)
            next_used++;
        const usage *used =
            next_used < used_count && used_at[next_used].index == i ? used_at[next_used].u : NULL;
        if (touched_only && !used && !hosted_in_used(catalog, i, by_action))
            continue;
        ct_diff_entry *e = add_entry(out, ct_catalog_name(catalog, i), i);
        if (!e) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = fill(&b, e, catalog, used)) ||
            (rc = check_hosts(&b, e, catalog, grants, by_action)))
            goto done;
        e->verdict = granted_verdict(e);
    }

    /* Actions the calls needed that the catalog expansion did not grant:
     * unknown to the catalog (a new API is still granted when an Allow
     * matches it), or not granted. */
    size_t tail = out->count;
    while (ct_strmap_next(by_action, &pos, &action, &v)) {
        size_t idx;
        const usage *u = v;
        bool in_catalog = ct_catalog_find(catalog, action, &idx);
        if (in_catalog && ct_grants_has(grants, idx))
            continue; /* already listed */
        ct_diff_entry *e = in_catalog ? add_entry(out, ct_catalog_name(catalog, idx), idx)
                                      : add_entry(out, action, SIZE_MAX);
        if (!e) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = fill(&b, e, catalog, u)))
            goto done;
        ct_decision decision;
        ct_policy_decide(policies, e->action, &decision);
        if (decision.granted && in_catalog) {
            rc = ct_error_set(err, CT_EINTERNAL, "policy expansion and decision disagree on %s",
                              action);
            goto done;
        }
        if (decision.granted) {
            if ((rc = check_hosts(&b, e, catalog, grants, by_action)))
                goto done;
            e->verdict = granted_verdict(e);
        } else if (!u->needs_grant) {
            /* Only permission-free calls, or calls that may have needed
             * it: nothing is known to be missing. */
            release_action(e);
            free(e->hidden_by_event);
            out->count--;
            continue;
        } else {
            e->verdict = e->count > 0 ? CT_VERDICT_NOT_GRANTED : CT_VERDICT_ATTEMPTED;
        }
    }
    if (merge_tail(out, tail) != 0)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");

done:
    free(visit);
    free(used_at);
    if (by_action) {
        pos = 0;
        while (ct_strmap_next(by_action, &pos, NULL, &v)) {
            free(((usage *)v)->maybe_event);
            free(v);
        }
        ct_strmap_free(by_action);
    }
    ct_grants_free(expanded);
    if (rc)
        ct_diff_release(out);
    return rc;
}

int ct_diff_build(ct_diff *out, const ct_catalog *catalog, const ct_policy_set *policies,
                  const ct_calls *calls, ct_diff_data_fn data_events, void *data_ud, ct_error *err)
{
    return build_diff(out, catalog, policies, NULL, calls, data_events, data_ud, false, err);
}

int ct_diff_build_touched(ct_diff *out, const ct_catalog *catalog, const ct_policy_set *policies,
                          const ct_grants *grants, const ct_calls *calls,
                          ct_diff_data_fn data_events, void *data_ud, ct_error *err)
{
    return build_diff(out, catalog, policies, grants, calls, data_events, data_ud, true, err);
}

void ct_diff_decision(const ct_diff *diff, const ct_diff_entry *e, ct_decision *out)
{
    ct_policy_decide(diff->policies, e->action, out);
}

void ct_diff_release(ct_diff *diff)
{
    for (size_t i = 0; i < diff->count; i++) {
        release_action(&diff->entries[i]);
        free(diff->entries[i].hidden_by_event);
    }
    free(diff->entries);
    free(diff->unmapped_example);
    for (size_t i = 0; i < diff->seen_count; i++) {
        free(diff->seen[i].resource_type);
        free(diff->seen[i].example);
    }
    free(diff->seen);
    ct_data_events_release(&diff->observed);
    memset(diff, 0, sizeof(*diff));
}
