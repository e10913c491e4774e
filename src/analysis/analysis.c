/* The analyses the command line offers, as library calls: the diff of one
 * principal (--user/--role, with --destrole/--destaccount) and the activity
 * of every user or role (--list). Each asks the event source, decides, and
 * returns data with its notes; rendering and printing are the caller's.
 * The coming analyses (people behind roles, the access review, generated
 * policies) belong beside these, built on the bulk questions of source.h. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ct_notes_add(ct_notes *notes, const char *fmt, ...)
{
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    char **items = ct_array_grow(notes->items, &notes->cap, notes->count, sizeof(*items), 4);
    if (!items)
        return CT_ENOMEM;
    notes->items = items;
    if (!(notes->items[notes->count] = ct_strdup(text)))
        return CT_ENOMEM;
    notes->count++;
    return 0;
}

void ct_notes_release(ct_notes *notes)
{
    for (size_t i = 0; i < notes->count; i++)
        free(notes->items[i]);
    free(notes->items);
    memset(notes, 0, sizeof(*notes));
}

void ct_analysis_release(ct_analysis *a)
{
    ct_notes_release(&a->notes);
}

static int out_of_memory(ct_error *err)
{
    return ct_error_set(err, CT_ENOMEM, "out of memory");
}

int ct_analysis_prepare(ct_analysis *a, bool refresh, ct_error *err)
{
    ct_input_problems problems = {0};
    int rc = refresh ? a->source->refresh(a->source, &problems, err) : 0;
    if (rc == 0)
        rc = a->source->input_problems(a->source, &problems, err);
    /* A file named by several problems (skipped now and on an earlier
     * run) is noted once. */
    for (size_t i = 0; rc == 0 && i < problems.count; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(problems.items[j].path, problems.items[i].path) == 0;
        if (!seen && ct_notes_add(&a->notes, "%s: %s (the answer may miss its events)",
                                  problems.items[i].path, problems.items[i].reason) != 0)
            rc = out_of_memory(err);
    }
    if (problems.count)
        a->incomplete = true;
    ct_input_problems_release(&problems);
    return rc;
}

/* Notes when the logs hold no event at all for the account in the window:
 * every grant would then look unused, for want of logs rather than of use. */
static int note_if_no_events(ct_analysis *a, const ct_account_view *account, ct_error *err)
{
    uint64_t n = 0;
    int rc = a->source->account_event_count(a->source, account->id, &a->window, &n, err);
    if (rc || n)
        return rc;
    char from[11], to[11];
    ct_date_format_day(a->window.first_day, from);
    ct_date_format_day(a->window.last_day, to);
    char what[600];
    snprintf(what, sizeof(what), "%s (%s)", account->name, account->id);
    if (ct_notes_add(&a->notes,
                     "%s holds no events for account %s between %s and %s: every grant would "
                     "look unused",
                     strcmp(a->source->name, "store") == 0 ? "the store" : "Elasticsearch", what,
                     from, to) != 0)
        return out_of_memory(err);
    return 0;
}

static int find_principal(const ct_account_view *account, ct_principal_kind kind, const char *name,
                          const ct_principal **out, ct_error *err)
{
    *out = ct_iam_find(account->iam, kind, name);
    if (*out)
        return 0;
    return ct_error_set(err, CT_ENOTFOUND, "account %s has no %s named '%s'", account->name,
                        kind == CT_PRINCIPAL_USER ? "user" : "role", name);
}

/* The data events of the account whose logs a diff reads (ct_diff_data_fn). */
struct data_query {
    ct_analysis *a;
    const ct_account_view *account;
};

static int fetch_data_events(void *ud, ct_data_events *out, ct_error *err)
{
    struct data_query *d = ud;
    return d->a->source->data_events(d->a->source, d->account->id, &d->a->window, out, err);
}

/* Whether session s of the role was opened, through a chain of role
 * sessions, by `caller`: some AssumeRole on the way back from s's opener
 * (not s's own opening, which role_session_calls counts) was made by it. */
static bool chained_from(const ct_role_sessions *sessions, const ct_role_session *s,
                         const char *caller)
{
    const ct_role_session *cur = s;
    for (unsigned depth = 0; depth < CT_CHAIN_MAX_DEPTH && cur->opened_known &&
                             strcmp(cur->opening.caller_type, "AssumedRole") == 0;
         depth++) {
        const ct_role_session *parent = ct_role_sessions_find(sessions, cur->opening.caller_key);
        if (!parent || parent == cur)
            return false;
        if (parent->opened_known && strcmp(parent->opening.caller, caller) == 0)
            return true;
        cur = parent;
    }
    return false;
}

/* The calls `caller` made in sessions of `role`: those it opened itself
 * (role_session_calls), and those opened from its sessions of other roles
 * (a role chain: one sessions question, then the calls of those sessions). */
static int role_calls_through_chains(ct_analysis *a, const char *caller, const char *role,
                                     ct_calls *out, ct_error *err)
{
    ct_calls direct = {0};
    ct_role_sessions sessions = {0}, chained = {0};
    ct_account_calls sum = {0};
    const char **keys = NULL;
    size_t n = 0;
    int rc = a->source->role_session_calls(a->source, caller, role, &a->window, &direct, err);
    if (rc == 0) {
        rc = a->source->sessions(a->source, &a->window, &sessions, err);
        /* A backend that cannot tell sessions apart (Elasticsearch indices
         * of an older mapping) still answers the direct question: the
         * verdicts print, marked as resting on partial data. */
        if (rc == CT_ECONFIG) {
            char why[1024];
            ct_error_format(err, why, sizeof(why));
            rc = ct_notes_add(&a->notes, "role chains are not followed: %s", why) != 0
                     ? out_of_memory(err)
                     : 0;
            a->incomplete = true;
            ct_error_clear(err);
        }
    }
    if (rc == 0 && !(keys = calloc(sessions.count ? sessions.count : 1, sizeof(*keys))))
        rc = out_of_memory(err);
    for (size_t i = 0; rc == 0 && i < sessions.count; i++) {
        const ct_role_session *s = &sessions.items[i];
        if (s->role_arn && strcmp(s->role_arn, role) == 0 && chained_from(&sessions, s, caller))
            keys[n++] = s->access_key;
    }
    if (rc == 0 && n)
        rc = a->source->session_calls(a->source, keys, n, &a->window, &chained, err);
    /* One list: the direct calls and the chained ones, summed. */
    for (size_t i = 0; rc == 0 && i < direct.count; i++) {
        const ct_call *c = &direct.items[i];
        if (ct_account_calls_add(&sum, role, c->event_source, c->event_name, c->kind, c->count,
                                 c->error_count, c->first_day, c->last_day) != 0)
            rc = out_of_memory(err);
    }
    for (size_t k = 0; rc == 0 && k < chained.count; k++) {
        for (size_t i = 0; rc == 0 && i < chained.items[k].calls.count; i++) {
            const ct_call *c = &chained.items[k].calls.items[i];
            if (ct_account_calls_add(&sum, role, c->event_source, c->event_name, c->kind,
                                     c->count, c->error_count, c->first_day, c->last_day) != 0)
                rc = out_of_memory(err);
        }
    }
    if (rc == 0 && sum.count) {
        ct_account_calls_finish(&sum);
        /* The summed list is the answer: moved, not copied. */
        *out = sum.items[0].calls;
        memset(&sum.items[0].calls, 0, sizeof(sum.items[0].calls));
    }
    ct_account_calls_release(&sum);
    ct_role_sessions_release(&chained);
    ct_role_sessions_release(&sessions);
    ct_calls_release(&direct);
    free(keys);
    return rc;
}

/* The resources a principal's calls named, as scopes of its used actions
 * (one more question). */
static int principal_scopes(ct_analysis *a, const char *arn, const ct_calls *calls,
                            ct_resource_scopes *out, ct_error *err)
{
    ct_resources resources = {0};
    int rc = a->source->principal_resources(a->source, arn, &a->window, &resources, err);
    if (rc == 0)
        rc = ct_resource_scopes_build(out, a->catalog, calls, &resources, err);
    ct_resources_release(&resources);
    return rc;
}

int ct_analyze_principal(ct_analysis *a, const ct_principal_question *q, ct_principal_answer *out,
                         ct_error *err)
{
    memset(out, 0, sizeof(*out));
    if (q->resources && q->dest_role)
        return ct_error_set(err, CT_EUSAGE,
                            "resources are kept per principal, not per role session: "
                            "--resources goes with --user or --role alone");
    const ct_account_view *dest = q->dest_account ? q->dest_account : q->account;
    int rc = find_principal(q->account, q->kind, q->name, &out->principal, err);
    if (rc == 0 && q->dest_role)
        rc = find_principal(dest, CT_PRINCIPAL_ROLE, q->dest_role, &out->dest_role, err);
    if (rc)
        return rc;

    /* With a role to follow, the calls are those of its sessions, judged
     * against its grants, in the logs of its account. */
    const ct_account_view *logs = out->dest_role ? dest : q->account;
    const ct_policy_set *policies = out->dest_role
                                        ? ct_iam_policies(dest->iam, out->dest_role)
                                        : ct_iam_policies(q->account->iam, out->principal);
    ct_calls calls = {0};
    if (out->dest_role)
        rc = role_calls_through_chains(a, out->principal->arn, out->dest_role->arn, &calls, err);
    else
        rc = a->source->principal_calls(a->source, out->principal->arn, &a->window, &calls, err);
    /* An answer with calls proves the logs cover the account; only an empty
     * one needs the (one more request) check. */
    if (rc == 0 && calls.count == 0)
        rc = note_if_no_events(a, logs, err);
    /* Data-event actions are judged against the data events the account's
     * logs hold: asked for (one more query) only when the diff has some. */
    struct data_query dq = {a, logs};
    if (rc == 0)
        rc = ct_diff_build(&out->diff, a->catalog, policies, &calls, fetch_data_events, &dq, err);
    if (rc == 0 && out->diff.unmapped_calls) {
        uint64_t n = out->diff.unmapped_calls;
        if (ct_notes_add(&a->notes, "%llu %s left out (e.g. %s)", (unsigned long long)n,
                         n == 1 ? "call names no IAM action and was"
                                : "calls name no IAM action and were",
                         out->diff.unmapped_example) != 0)
            rc = out_of_memory(err);
    }
    if (rc == 0 && q->resources)
        rc = principal_scopes(a, out->principal->arn, &calls, &out->scopes, err);
    ct_calls_release(&calls);
    if (rc)
        ct_principal_answer_release(out);
    return rc;
}

void ct_principal_answer_release(ct_principal_answer *answer)
{
    ct_diff_release(&answer->diff);
    ct_resource_scopes_release(&answer->scopes);
    memset(answer, 0, sizeof(*answer));
}

int ct_analyze_activity(ct_analysis *a, const ct_account_view *account, ct_principal_kind kind,
                        ct_activity *out, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    size_t n = ct_iam_count(account->iam, kind);
    const char **arns = calloc(n ? n : 1, sizeof(*arns));
    out->principals = calloc(n ? n : 1, sizeof(*out->principals));
    out->active = calloc(n ? n : 1, sizeof(*out->active));
    int rc = 0;
    if (!arns || !out->principals || !out->active) {
        rc = out_of_memory(err);
        goto done;
    }
    out->count = n;
    for (size_t i = 0; i < n; i++) {
        out->principals[i] = ct_iam_get(account->iam, kind, i);
        arns[i] = out->principals[i]->arn;
    }
    if ((rc = a->source->active_principals(a->source, arns, n, &a->window, out->active, err)))
        goto done;
    bool any_active = false;
    for (size_t i = 0; i < n; i++)
        any_active = any_active || out->active[i];
    /* Only a list with nobody active can mean "no logs at all". */
    if (!any_active)
        rc = note_if_no_events(a, account, err);
done:
    free(arns);
    if (rc)
        ct_activity_release(out);
    return rc;
}

void ct_activity_release(ct_activity *activity)
{
    free(activity->principals);
    free(activity->active);
    memset(activity, 0, sizeof(*activity));
}
