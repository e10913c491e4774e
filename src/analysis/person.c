/* The diff of one person: for each role the person used in the window, the
 * role's grants against the calls of the person's own sessions of it. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const ct_account_view *ct_account_of_arn(const ct_account_view *accounts, size_t n,
                                         const char *arn)
{
    /* arn:PARTITION:iam::ACCOUNT:role/...: the fifth field. */
    const char *p = arn;
    for (int i = 0; i < 4 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (!p || strncmp(arn, "arn:", 4) != 0)
        return NULL;
    const char *end = strchr(p, ':');
    size_t len = end ? (size_t)(end - p) : 0;
    for (size_t i = 0; len && i < n; i++)
        if (strlen(accounts[i].id) == len && strncmp(accounts[i].id, p, len) == 0)
            return &accounts[i];
    return NULL;
}

/* The person the question names: the name itself (case-insensitively), or
 * the one name that contains it. */
static int find_person(const ct_people *people, const char *name, size_t *out, ct_error *err)
{
    *out = ct_people_find(people, name);
    if (*out != SIZE_MAX)
        return 0;
    char *needle = ct_strdup_lower(name);
    ct_buf candidates = CT_BUF_INIT;
    size_t found = 0;
    for (size_t k = 0; needle && k < people->count; k++) {
        char *hay = ct_strdup_lower(people->items[k].name);
        if (hay && strstr(hay, needle)) {
            *out = k;
            found++;
            ct_buf_printf(&candidates, "%s%s", found > 1 ? ", " : "", people->items[k].name);
        }
        free(hay);
    }
    free(needle);
    int rc = 0;
    if (found == 0) {
        ct_buf_reset(&candidates);
        for (size_t k = 0; k < people->count && k < 20; k++)
            ct_buf_printf(&candidates, "%s%s", k ? ", " : "", people->items[k].name);
        if (people->count > 20)
            ct_buf_printf(&candidates, ", and %zu more (see --list people)", people->count - 20);
        rc = ct_error_set(err, CT_ENOTFOUND, "no person named '%s' used a role in the window%s%s%s",
                          name, people->count ? " (people: " : "",
                          people->count ? candidates.data : "", people->count ? ")" : "");
    } else if (found > 1) {
        rc = ct_error_set(err, CT_ENOTFOUND, "'%s' names several people: %s", name,
                          candidates.data);
    }
    ct_buf_release(&candidates);
    if (rc)
        *out = SIZE_MAX;
    return rc;
}

/* The data events of each account a diff reads (ct_diff_data_fn), asked
 * of the source once per account however many of its roles the person
 * used. */
typedef struct data_cache {
    ct_analysis *a;
    const ct_account_view *account; /* the account of the diff being built */
    const ct_account_view **asked;  /* accounts asked already, and their answers */
    ct_data_events *answers;
    size_t count, cap;
} data_cache;

static int fetch_data_events(void *ud, ct_data_events *out, ct_error *err)
{
    data_cache *c = ud;
    size_t i = 0;
    while (i < c->count && c->asked[i] != c->account)
        i++;
    if (i == c->count) {
        const ct_account_view **asked =
            ct_array_grow(c->asked, &c->cap, c->count, sizeof(*asked), 4);
        if (!asked)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        c->asked = asked;
        ct_data_events *answers = realloc(c->answers, c->cap * sizeof(*answers));
        if (!answers)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        c->answers = answers;
        memset(&answers[i], 0, sizeof(*answers));
        int rc = c->a->source->data_events(c->a->source, c->account->id, &c->a->window, &answers[i],
                                           err);
        if (rc)
            return rc;
        asked[i] = c->account;
        c->count++;
    }
    const ct_data_events *d = &c->answers[i];
    for (size_t k = 0; k < d->count; k++) {
        const ct_data_event *e = &d->items[k];
        if (ct_data_events_add(out, e->event_source, e->event_name, e->read_only, e->count,
                               e->first_day, e->last_day) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return 0;
}

static void data_cache_release(data_cache *c)
{
    for (size_t i = 0; i < c->count; i++)
        ct_data_events_release(&c->answers[i]);
    free(c->answers);
    free(c->asked);
}

static const char *role_name_of(const char *arn)
{
    const char *slash = strrchr(arn, '/');
    return slash ? slash + 1 : arn;
}

/* Whether the question lets role `use` through (--account, --destrole,
 * --destaccount). */
static bool wanted(const ct_person_question *q, const ct_person_role *use,
                   const ct_account_view *account)
{
    if (q->only_account && account != q->only_account)
        return false;
    if (q->dest_account && account != q->dest_account)
        return false;
    return !q->dest_role || ct_strcasecmp(role_name_of(use->role_arn), q->dest_role) == 0;
}

static int compare_role_diffs(const void *pa, const void *pb)
{
    const ct_person_role_diff *a = pa, *b = pb;
    int c = strcmp(a->account->name, b->account->name);
    return c ? c : strcmp(a->role->name, b->role->name);
}

/* Asks for the calls of the person's active sessions (one question), and
 * sums them per role ARN into `by_role`. */
static int person_calls(ct_analysis *a, const ct_people *p, size_t person,
                        ct_account_calls *by_role, ct_error *err)
{
    size_t n = 0;
    const char **keys = calloc(p->sessions.count ? p->sessions.count : 1, sizeof(*keys));
    if (!keys)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t i = 0; i < p->sessions.count; i++)
        if (p->attributed[i].person == person && p->sessions.items[i].active &&
            p->sessions.items[i].role_arn)
            keys[n++] = p->sessions.items[i].access_key;
    ct_role_sessions calls = {0};
    int rc = n ? a->source->session_calls(a->source, keys, n, &a->window, &calls, err) : 0;
    for (size_t i = 0; rc == 0 && i < calls.count; i++) {
        const ct_role_session *s = ct_role_sessions_find(&p->sessions, calls.items[i].access_key);
        if (!s || !s->role_arn)
            continue; /* a key the question did not ask for */
        for (size_t c = 0; rc == 0 && c < calls.items[i].calls.count; c++) {
            const ct_call *call = &calls.items[i].calls.items[c];
            if (ct_account_calls_add(by_role, s->role_arn, call->event_source, call->event_name,
                                     call->kind, call->count, call->error_count, call->first_day,
                                     call->last_day) != 0)
                rc = ct_error_set(err, CT_ENOMEM, "out of memory");
        }
    }
    if (rc == 0)
        ct_account_calls_finish(by_role);
    ct_role_sessions_release(&calls);
    free(keys);
    return rc;
}

/* Builds the diff of one role the person used; `skip` when the config or
 * its IAM file cannot judge the role (noted). */
static int role_diff(ct_analysis *a, const ct_person_question *q, const ct_person_role *use,
                     const ct_account_calls *by_role, data_cache *data, ct_person_role_diff *out,
                     bool *skip, ct_error *err)
{
    *skip = true;
    const ct_account_view *account = ct_account_of_arn(q->accounts, q->account_count, use->role_arn);
    if (!account) {
        if (!q->only_account && !q->dest_account && !q->dest_role &&
            ct_notes_add(&a->notes,
                         "%s used %s, in an account the config does not list: its grants are "
                         "not judged",
                         q->name, use->role_arn) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        return 0;
    }
    if (!wanted(q, use, account))
        return 0;
    const ct_principal *role =
        account->iam ? ct_iam_find(account->iam, CT_PRINCIPAL_ROLE, role_name_of(use->role_arn))
                     : NULL;
    if (!role || strcmp(role->arn, use->role_arn) != 0) {
        if (ct_notes_add(&a->notes,
                         "%s used %s, which the IAM file of account %s does not hold (deleted "
                         "since?): its grants are not judged",
                         q->name, use->role_arn, account->name) != 0)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        return 0;
    }
    *skip = false;
    out->account = account;
    out->role = role;
    out->use = use;
    const ct_calls *calls = ct_account_calls_find(by_role, use->role_arn);
    ct_calls none = {0};
    data->account = account;
    int rc = ct_diff_build(&out->diff, a->catalog, ct_iam_policies(account->iam, role),
                           calls ? calls : &none, fetch_data_events, data, err);
    if (rc == 0 && out->diff.unmapped_calls) {
        uint64_t n = out->diff.unmapped_calls;
        if (ct_notes_add(&a->notes, "%llu %s left out (e.g. %s)", (unsigned long long)n,
                         n == 1 ? "call names no IAM action and was"
                                : "calls name no IAM action and were",
                         out->diff.unmapped_example) != 0)
            rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    return rc;
}

int ct_analyze_person(ct_analysis *a, const ct_person_question *q, ct_person_answer *out,
                      ct_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = ct_analyze_people(a, q->users, q->user_lists, &out->people, err);
    size_t person = SIZE_MAX;
    if (rc == 0)
        rc = find_person(&out->people, q->name, &person, err);
    ct_account_calls by_role = {0};
    data_cache data = {a, NULL, NULL, NULL, 0, 0};
    if (rc == 0) {
        out->person = &out->people.items[person];
        rc = person_calls(a, &out->people, person, &by_role, err);
    }
    const ct_person *who = out->person;
    if (rc == 0 && who->role_count &&
        !(out->roles = calloc(who->role_count, sizeof(*out->roles))))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t r = 0; rc == 0 && r < (who ? who->role_count : 0); r++) {
        bool skip = true;
        rc = role_diff(a, q, &who->roles[r], &by_role, &data, &out->roles[out->role_count], &skip,
                       err);
        if (rc == 0 && !skip)
            out->role_count++;
    }
    if (rc == 0 && out->role_count > 1)
        qsort(out->roles, out->role_count, sizeof(*out->roles), compare_role_diffs);
    ct_account_calls_release(&by_role);
    data_cache_release(&data);
    if (rc)
        ct_person_answer_release(out);
    return rc;
}

void ct_person_answer_release(ct_person_answer *answer)
{
    for (size_t r = 0; r < answer->role_count; r++)
        ct_diff_release(&answer->roles[r].diff);
    free(answer->roles);
    ct_people_release(&answer->people);
    memset(answer, 0, sizeof(*answer));
}
