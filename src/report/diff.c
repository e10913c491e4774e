/* The diff between what a principal was granted and what its calls needed:
 * one entry per action, with a verdict (used, unused, unknown, not granted). */
#include "cloudtracker/report.h"
#include "cloudtracker/util.h"

#include <stdlib.h>
#include <string.h>

static ct_diff_entry *add_entry(ct_diff *d, const char *action)
{
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        ct_diff_entry *e = realloc(d->entries, cap * sizeof(*e));
        if (!e)
            return NULL;
        d->entries = e;
        d->cap = cap;
    }
    ct_diff_entry *e = &d->entries[d->count];
    memset(e, 0, sizeof(*e));
    e->action = ct_strdup(action);
    if (!e->action)
        return NULL;
    d->count++;
    return e;
}

/* Calls aggregated per IAM action (several events can need one action). */
typedef struct usage {
    uint64_t count, error_count;
    int64_t first_day, last_day;
} usage;

static int collect_usage(ct_diff *d, ct_strmap *by_action, const ct_calls *calls, ct_error *err)
{
    for (size_t i = 0; i < calls->count; i++) {
        const ct_call *c = &calls->items[i];
        ct_event_actions mapped;
        /* A pair that cannot be mapped names no action we could grant or
         * remove; count it so the caller can say so. */
        if (ct_event_map(c->event_source, c->event_name, &mapped) != 0) {
            d->unmapped_calls += c->count + c->error_count;
            if (!d->unmapped_example) {
                ct_buf b = CT_BUF_INIT;
                if (ct_buf_printf(&b, "%s %s", c->event_source, c->event_name) != 0) {
                    ct_buf_release(&b);
                    return ct_error_set(err, CT_ENOMEM, "out of memory");
                }
                d->unmapped_example = ct_buf_detach(&b);
            }
            continue;
        }
        for (size_t k = 0; k < mapped.count; k++) {
            void *v = NULL;
            usage *u;
            if (ct_strmap_get(by_action, mapped.actions[k], &v)) {
                u = v;
                if (c->first_day < u->first_day)
                    u->first_day = c->first_day;
                if (c->last_day > u->last_day)
                    u->last_day = c->last_day;
            } else {
                u = calloc(1, sizeof(*u));
                if (!u || ct_strmap_put(by_action, mapped.actions[k], u) != 0) {
                    free(u);
                    return ct_error_set(err, CT_ENOMEM, "out of memory");
                }
                u->first_day = c->first_day;
                u->last_day = c->last_day;
            }
            u->count += c->count;
            u->error_count += c->error_count;
        }
    }
    return 0;
}

static int compare_entries(const void *a, const void *b)
{
    return strcmp(((const ct_diff_entry *)a)->action, ((const ct_diff_entry *)b)->action);
}

/* Fills an entry's catalog facts, policy decision and usage (u may be NULL:
 * never called). */
static void fill(ct_diff_entry *e, const ct_catalog *catalog, const ct_policy_set *policies,
                 const usage *u)
{
    size_t idx;
    e->level = ct_catalog_find(catalog, e->action, &idx) ? ct_catalog_level(catalog, idx)
                                                         : CT_ACCESS_UNKNOWN;
    e->unlogged = ct_action_is_unlogged(catalog, e->action);
    e->benign = ct_action_is_benign(catalog, e->action);
    ct_policy_decide(policies, e->action, &e->decision);
    if (u) {
        e->count = u->count;
        e->error_count = u->error_count;
        e->first_day = u->first_day;
        e->last_day = u->last_day;
    }
}

/* The verdict for a granted action: used when a call succeeded, else
 * unknown when CloudTrail could not have shown it, else unused. */
static ct_verdict granted_verdict(const ct_diff_entry *e)
{
    if (e->count > 0)
        return CT_VERDICT_USED;
    return e->unlogged ? CT_VERDICT_UNKNOWN : CT_VERDICT_UNUSED;
}

int ct_diff_build(ct_diff *out, const ct_catalog *catalog, const ct_policy_set *policies,
                  const ct_calls *calls, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    ct_grants *grants = NULL;
    ct_strmap *by_action = ct_strmap_new();
    size_t pos = 0;
    const char *action;
    void *v;
    int rc = 0;
    if (!by_action) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = ct_policy_expand(&grants, policies, catalog, err)) ||
        (rc = collect_usage(out, by_action, calls, err)))
        goto done;

    size_t n = ct_catalog_count(catalog);
    for (size_t i = 0; i < n; i++) {
        if (!ct_grants_has(grants, i))
            continue;
        ct_diff_entry *e = add_entry(out, ct_catalog_name(catalog, i));
        if (!e) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        void *used = NULL;
        ct_strmap_get(by_action, e->action, &used);
        fill(e, catalog, policies, used);
        e->verdict = granted_verdict(e);
    }

    /* Actions the calls needed that the catalog expansion did not grant:
     * unknown to the catalog (a new API is still granted when an Allow
     * matches it), or not granted. */
    while (ct_strmap_next(by_action, &pos, &action, &v)) {
        size_t idx;
        bool in_catalog = ct_catalog_find(catalog, action, &idx);
        if (in_catalog && ct_grants_has(grants, idx))
            continue; /* already listed */
        ct_diff_entry *e = add_entry(out, action);
        if (!e) {
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
            goto done;
        }
        fill(e, catalog, policies, v);
        if (e->decision.granted && in_catalog) {
            rc = ct_error_set(err, CT_EINTERNAL, "policy expansion and decision disagree on %s",
                              action);
            goto done;
        }
        if (e->decision.granted)
            e->verdict = granted_verdict(e);
        else
            e->verdict = e->count > 0 ? CT_VERDICT_NOT_GRANTED : CT_VERDICT_ATTEMPTED;
    }
    qsort(out->entries, out->count, sizeof(*out->entries), compare_entries);

done:
    if (by_action) {
        pos = 0;
        while (ct_strmap_next(by_action, &pos, NULL, &v))
            free(v);
        ct_strmap_free(by_action);
    }
    ct_grants_free(grants);
    if (rc)
        ct_diff_release(out);
    return rc;
}

void ct_diff_release(ct_diff *diff)
{
    for (size_t i = 0; i < diff->count; i++)
        free(diff->entries[i].action);
    free(diff->entries);
    free(diff->unmapped_example);
    memset(diff, 0, sizeof(*diff));
}
