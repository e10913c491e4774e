/* The access review: every IAM user and role of the reviewed accounts and
 * every person behind their roles' sessions, each with its activity, its
 * unused grants, whether it is an administrator, and who used it, built
 * from the bulk questions of the event source in a number of questions
 * that does not grow with the number of identities (docs/review.md). */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ct_review_kind_name(ct_review_kind kind)
{
    switch (kind) {
    case CT_REVIEW_USER:
        return "user";
    case CT_REVIEW_ROLE:
        return "role";
    case CT_REVIEW_PERSON:
        return "person";
    }
    return "?";
}

const char *ct_dormancy_name(ct_dormancy d)
{
    switch (d) {
    case CT_DORMANT_NO:
        return "no";
    case CT_DORMANT_YES:
        return "yes";
    case CT_DORMANT_UNKNOWN:
        return "unknown";
    }
    return "?";
}

static int out_of_memory(ct_error *err)
{
    return ct_error_set(err, CT_ENOMEM, "out of memory");
}

/* Everything one build needs besides the answer. */
typedef struct builder {
    ct_analysis *a;
    const ct_review_question *q;
    ct_review *r;
    ct_error *err;
    ct_strmap *identity_of_arn; /* user or role ARN -> index + 1 into r->identities */
    size_t identity_cap;
    bool *privileged;        /* per catalog action: on the privileged track */
    struct role_template *templates; /* per identity (roles only), made on first use */
    size_t template_count;
    uint64_t unmapped_calls; /* of the account being built */
    const char *unmapped_example;
} builder;

/* ---- the verdicts of a diff, summed up ---- */

/* A stable copy of an entry's action name: the catalog's own string when it
 * knows the action, else a copy in the review's arena. */
static const char *action_name(builder *b, const ct_diff_entry *e)
{
    if (e->catalog_index != SIZE_MAX)
        return ct_catalog_name(b->a->catalog, e->catalog_index);
    return ct_text_strdup(&b->r->text, e->action);
}

/* The privileged track: actions of access level "Permissions management"
 * or "Write" on iam, sts, organizations and kms. Decided once per catalog
 * action (b->privileged) rather than per diff entry. */
static int mark_privileged(builder *b)
{
    static const char *const services[] = {"iam", "sts", "organizations", "kms"};
    const ct_catalog *c = b->a->catalog;
    if (!(b->privileged = calloc(ct_catalog_count(c) + 1, sizeof(*b->privileged))))
        return out_of_memory(b->err);
    for (size_t s = 0; s < sizeof(services) / sizeof(services[0]); s++) {
        size_t begin, end;
        ct_catalog_service_range(c, services[s], strlen(services[s]), &begin, &end);
        for (size_t i = begin; i < end; i++) {
            ct_access_level level = ct_catalog_level(c, i);
            b->privileged[i] = level == CT_ACCESS_PERMISSIONS || level == CT_ACCESS_WRITE;
        }
    }
    return 0;
}

static bool on_privileged_track(const builder *b, const ct_diff_entry *e)
{
    return e->catalog_index != SIZE_MAX && b->privileged[e->catalog_index];
}

typedef struct name_list {
    const char **items;
    size_t count, cap;
} name_list;

/* An empty list with room for n names (NULL items when out of memory). */
#define LIST(n) {calloc((n) + 1, sizeof(char *)), 0, (n)}

static int list_add(builder *b, name_list *l, const ct_diff_entry *e)
{
    const char *name = action_name(b, e);
    if (!name)
        return out_of_memory(b->err);
    if (l->count >= l->cap)
        return ct_error_set(b->err, CT_EINTERNAL, "review: a list outgrew its count");
    l->items[l->count++] = name;
    return 0;
}

static int compare_names(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

static void actions_release(ct_review_actions *x)
{
    free(x->used);
    free(x->unused);
    free(x->unknown);
    free(x->not_granted);
    free(x->attempted);
    free(x->privileged_unused);
    memset(x, 0, sizeof(*x));
}

/* Sums up the diff into *out (empty on entry) and counts its calls. */
static int summarize(builder *b, const ct_diff *d, ct_review_actions *out)
{
    /* Each list sized to what it will hold (a first pass counts). */
    size_t want[CT_VERDICT_ATTEMPTED + 1] = {0}, privileged = 0;
    for (size_t i = 0; i < d->count; i++) {
        want[d->entries[i].verdict]++;
        privileged +=
            d->entries[i].verdict == CT_VERDICT_UNUSED && on_privileged_track(b, &d->entries[i]);
    }
    name_list used = LIST(want[CT_VERDICT_USED]), unused = LIST(want[CT_VERDICT_UNUSED]),
              unknown = LIST(want[CT_VERDICT_UNKNOWN]), plus = LIST(want[CT_VERDICT_NOT_GRANTED]),
              tried = LIST(want[CT_VERDICT_ATTEMPTED]), priv = LIST(privileged);
    int rc = 0;
    if (!used.items || !unused.items || !unknown.items || !plus.items || !tried.items ||
        !priv.items)
        rc = out_of_memory(b->err);
    for (size_t i = 0; rc == 0 && i < d->count; i++) {
        const ct_diff_entry *e = &d->entries[i];
        out->calls += e->count;
        out->failed_calls += e->error_count;
        switch (e->verdict) {
        case CT_VERDICT_USED:
            rc = list_add(b, &used, e);
            break;
        case CT_VERDICT_UNUSED:
            rc = list_add(b, &unused, e);
            if (rc == 0 && on_privileged_track(b, e))
                rc = list_add(b, &priv, e);
            break;
        case CT_VERDICT_UNKNOWN:
            rc = list_add(b, &unknown, e);
            break;
        case CT_VERDICT_NOT_GRANTED:
            rc = list_add(b, &plus, e);
            break;
        case CT_VERDICT_ATTEMPTED:
            rc = list_add(b, &tried, e);
            break;
        }
    }
    out->used = used.items, out->used_count = used.count;
    out->unused = unused.items, out->unused_count = unused.count;
    out->unknown = unknown.items, out->unknown_count = unknown.count;
    out->not_granted = plus.items, out->not_granted_count = plus.count;
    out->attempted = tried.items, out->attempted_count = tried.count;
    out->privileged_unused = priv.items, out->privileged_unused_count = priv.count;
    /* Calls the diff could not map still happened: they count as calls. */
    b->unmapped_calls += d->unmapped_calls;
    if (rc == 0 && d->unmapped_example && !b->unmapped_example &&
        !(b->unmapped_example = ct_text_strdup(&b->r->text, d->unmapped_example)))
        rc = out_of_memory(b->err);
    if (rc)
        actions_release(out);
    return rc;
}

/* The account's data events for a diff (ct_diff_data_fn): the coverage
 * question gave them already. */
static int coverage_data(void *ud, ct_data_events *out, ct_error *err)
{
    const ct_data_events *data = ud;
    for (size_t i = 0; i < data->count; i++) {
        const ct_data_event *e = &data->items[i];
        if (ct_data_events_add(out, e->event_source, e->event_name, e->read_only, e->count,
                               e->first_day, e->last_day) != 0) {
            ct_data_events_release(out);
            return out_of_memory(err);
        }
    }
    return 0;
}

/* ---- activity and dormancy ---- */

static int64_t last_day_of(const ct_calls *calls)
{
    int64_t last = -1;
    for (size_t i = 0; calls && i < calls->count; i++)
        if (calls->items[i].last_day > last)
            last = calls->items[i].last_day;
    return last;
}

/* Dormant: no event in the --dormant-days days that end with the window.
 * An identity created inside that period is new, not dormant; without any
 * event in a window shorter than the period, nobody can tell. */
static ct_dormancy dormancy(const ct_review *r, int64_t last_day, const char *created)
{
    int64_t period_start = r->window.last_day - (int64_t)r->dormant_days + 1;
    if (last_day >= period_start)
        return CT_DORMANT_NO;
    int64_t created_day;
    if (created && strlen(created) >= 10) {
        char day[11];
        memcpy(day, created, 10);
        day[10] = '\0';
        if (ct_date_parse_day(day, &created_day) == 0 && created_day >= period_start)
            return CT_DORMANT_NO;
    }
    if (r->window.first_day <= period_start)
        return CT_DORMANT_YES;
    return last_day >= 0 ? CT_DORMANT_NO : CT_DORMANT_UNKNOWN;
}

/* ---- administrators ---- */

/* An administrator: granted every catalog action (counted on the diff,
 * which lists each granted one), else an action of admin-equivalent.tsv. */
static void decide_admin(builder *b, ct_review_identity *id, const ct_diff *d,
                         const ct_policy_set *policies)
{
    size_t granted = 0;
    for (size_t i = 0; i < d->count; i++) {
        ct_verdict v = d->entries[i].verdict;
        granted += d->entries[i].catalog_index != SIZE_MAX &&
                   (v == CT_VERDICT_USED || v == CT_VERDICT_UNUSED || v == CT_VERDICT_UNKNOWN);
    }
    if (granted == ct_catalog_count(b->a->catalog)) {
        id->admin = CT_ADMIN_ALL_ACTIONS;
        return;
    }
    size_t n = 0;
    const ct_admin_equivalent *rows = ct_admin_equivalents(&n);
    for (size_t i = 0; i < n; i++) {
        ct_decision dec;
        ct_policy_decide(policies, rows[i].action, &dec);
        if (dec.granted) {
            id->admin = CT_ADMIN_ESCALATION;
            id->admin_via = rows[i].action;
            return;
        }
    }
}

/* ---- users and roles ---- */

static int note(builder *b, const char *fmt, const char *x, const char *y, const char *z)
{
    if (ct_notes_add(&b->a->notes, fmt, x, y, z) != 0)
        return out_of_memory(b->err);
    return 0;
}

static ct_review_identity *new_identity(builder *b)
{
    ct_review *r = b->r;
    ct_review_identity *items =
        ct_array_grow(r->identities, &b->identity_cap, r->identity_count, sizeof(*items), 64);
    if (!items)
        return NULL;
    r->identities = items;
    ct_review_identity *id = &items[r->identity_count++];
    memset(id, 0, sizeof(*id));
    id->last_day = -1;
    return id;
}

static bool has_prefix(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Proves the identity's policy on its text as the caller's report renders
 * it (ct_policy_check): a violation fails the review. */
static int check_policy(builder *b, const ct_review_identity *id, const ct_diff *diff,
                        const ct_policy_options *opts)
{
    ct_policy_texts texts;
    if (b->q->render_policy(b->q->render_ud, &id->policy, &texts) != 0)
        return out_of_memory(b->err);
    ct_policy_violations v;
    int rc = ct_policy_check(b->a->catalog, diff, opts, &texts, &v, b->err);
    if (rc == 0) {
        char what[400];
        snprintf(what, sizeof(what), "%s %s of account %s", ct_review_kind_name(id->kind), id->name,
                 id->account->name);
        rc = ct_policy_violations_error(&v, what, b->err);
    }
    ct_policy_violations_release(&v);
    ct_policy_texts_release(&texts);
    return rc;
}

static int review_principal(builder *b, ct_review_account *acct, const ct_principal *p,
                            const ct_account_calls *calls)
{
    const ct_account_view *view = acct->view;
    ct_review_identity *id = new_identity(b);
    if (!id)
        return out_of_memory(b->err);
    id->kind = p->kind == CT_PRINCIPAL_USER ? CT_REVIEW_USER : CT_REVIEW_ROLE;
    id->account = view;
    id->principal = p;
    id->name = p->name;
    id->arn = p->arn;
    id->created = p->create_date;
    if (p->kind == CT_PRINCIPAL_ROLE) {
        id->service_linked = strstr(p->arn, ":role/aws-service-role/") != NULL;
        id->identity_center = has_prefix(p->name, "AWSReservedSSO_");
    }
    if (ct_strmap_put(b->identity_of_arn, p->arn, (void *)(uintptr_t)b->r->identity_count) != 0)
        return out_of_memory(b->err);
    const ct_calls *mine = ct_account_calls_find(calls, p->arn);
    ct_calls none = {0};
    const ct_policy_set *policies = ct_iam_policies(view->iam, p);
    ct_diff diff;
    int rc = ct_diff_build(&diff, b->a->catalog, policies, mine ? mine : &none, coverage_data,
                           &acct->coverage.data, b->err);
    if (rc)
        return rc;
    rc = summarize(b, &diff, &id->actions);
    if (rc == 0)
        decide_admin(b, id, &diff, policies);
    ct_policy_options opts = {false, false, 0, NULL};
    if (rc == 0)
        rc = ct_policy_generate(b->a->catalog, &diff, &opts, &id->policy, b->err);
    if (rc == 0 && b->q->render_policy)
        rc = check_policy(b, id, &diff, &opts);
    ct_diff_release(&diff);
    if (rc)
        return rc;
    id->last_day = last_day_of(mine);
    id->dormant = dormancy(b->r, id->last_day, id->created);
    if (acct->credentials && p->kind == CT_PRINCIPAL_USER &&
        (id->credential = ct_credential_report_find_arn(acct->credentials, p->arn)))
        ct_credential_dormancy_check(&id->credential_check, id->credential, b->r->window.last_day,
                                     b->r->dormant_days);
    return 0;
}

/* The credential report against the IAM file: the root user's row, and
 * notes for the users only one of them lists (they were taken at other
 * times) and for a report older than the window's end. */
static int check_credentials(builder *b, ct_review_account *acct, size_t first_identity)
{
    const ct_credential_report *report = acct->credentials;
    const char *name = acct->view->name;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ct_credential_report_count(report); i++) {
        const ct_credential_user *u = ct_credential_report_get(report, i);
        if (u->is_root) {
            acct->root = u;
            ct_credential_dormancy_check(&acct->root_check, u, b->r->window.last_day,
                                         b->r->dormant_days);
        } else if (!ct_iam_find(acct->view->iam, CT_PRINCIPAL_USER, u->user)) {
            rc = note(b,
                      "account %s: the credential report lists user %s, which the IAM file "
                      "does not (%s)",
                      name, u->user, "deleted since, or the files were taken at other times");
        }
    }
    for (size_t i = first_identity; rc == 0 && i < b->r->identity_count; i++) {
        const ct_review_identity *id = &b->r->identities[i];
        if (id->kind == CT_REVIEW_USER && !id->credential)
            rc = note(b,
                      "account %s: the credential report has no row for user %s (%s): its "
                      "credentials are not reviewed",
                      name, id->name, "created after the report, or another account's report");
    }
    int64_t latest;
    if (rc == 0 && ct_credential_report_latest_day(report, &latest) &&
        latest < b->r->window.last_day) {
        char day[11], end[11];
        ct_date_format_day(latest, day);
        ct_date_format_day(b->r->window.last_day, end);
        char what[64];
        snprintf(what, sizeof(what), "%s, before the window's end, %s", day, end);
        rc = note(b,
                  "account %s: the credential report's latest date is %s: uses of credentials "
                  "after it are not in it (%s)",
                  name, what, "generate a report at the window's end");
    }
    return rc;
}

/* The days of the window the account's logs hold no event of, as runs. */
static int find_empty_days(builder *b, ct_review_account *acct)
{
    const ct_window *w = &b->r->window;
    const ct_account_coverage *c = &acct->coverage;
    size_t cap = c->day_count + 1; /* runs lie between the days with events */
    if (!(acct->empty_runs = calloc(cap, sizeof(*acct->empty_runs))))
        return out_of_memory(b->err);
    int64_t next = w->first_day; /* the first day not yet accounted for */
    for (size_t k = 0; k <= c->day_count; k++) {
        int64_t busy = k < c->day_count ? c->days[k].day : w->last_day + 1;
        if (busy < next || busy > w->last_day + 1)
            continue; /* a day outside the window: the backend's answer is its own */
        if (busy > next) {
            acct->empty_runs[acct->empty_run_count++] = (ct_window){next, busy - 1};
            acct->empty_day_count += (size_t)(busy - next);
        }
        next = busy + 1;
    }
    return 0;
}

static int review_account(builder *b, size_t index)
{
    const ct_review_question *q = b->q;
    ct_review_account *acct = &b->r->accounts[index];
    const ct_account_view *view = q->reviewed[index];
    ct_source *src = b->a->source;
    acct->view = view;
    acct->iam_path = q->iam_paths[index];
    acct->iam_sha256 = ct_iam_sha256(view->iam);
    acct->iam_latest_date = ct_iam_latest_date(view->iam);
    acct->users = ct_iam_count(view->iam, CT_PRINCIPAL_USER);
    acct->roles = ct_iam_count(view->iam, CT_PRINCIPAL_ROLE);
    acct->credentials = q->credentials ? q->credentials[index] : NULL;
    acct->credentials_path = q->credential_paths ? q->credential_paths[index] : NULL;
    size_t first_identity = b->r->identity_count;
    int rc = src->account_coverage(src, view->id, &b->r->window, &acct->coverage, b->err);
    if (rc == 0)
        rc = find_empty_days(b, acct);
    if (rc == 0 && acct->coverage.events == 0) {
        char from[11], to[11], what[600];
        ct_date_format_day(b->r->window.first_day, from);
        ct_date_format_day(b->r->window.last_day, to);
        snprintf(what, sizeof(what), "%s (%s)", view->name, view->id);
        if (ct_notes_add(&b->a->notes,
                         "%s holds no events for account %s between %s and %s: every grant "
                         "would look unused",
                         strcmp(src->name, "store") == 0 ? "the store" : "Elasticsearch", what,
                         from, to) != 0)
            rc = out_of_memory(b->err);
    }
    ct_account_calls calls = {0};
    if (rc == 0)
        rc = src->account_calls(src, view->id, &b->r->window, &calls, b->err);
    b->unmapped_calls = 0;
    b->unmapped_example = NULL;
    for (int kind = CT_PRINCIPAL_USER; rc == 0 && kind <= CT_PRINCIPAL_ROLE; kind++) {
        size_t n = ct_iam_count(view->iam, (ct_principal_kind)kind);
        for (size_t i = 0; rc == 0 && i < n; i++)
            rc = review_principal(b, acct, ct_iam_get(view->iam, (ct_principal_kind)kind, i),
                                  &calls);
    }
    if (rc == 0 && acct->credentials)
        rc = check_credentials(b, acct, first_identity);
    if (rc == 0 && b->unmapped_calls) {
        char count[32];
        snprintf(count, sizeof(count), "%llu", (unsigned long long)b->unmapped_calls);
        rc = note(b, "account %s: %s calls name no IAM action and were left out (e.g. %s)",
                  view->name, count, b->unmapped_example);
    }
    ct_account_calls_release(&calls);
    return rc;
}

/* ---- people ---- */

static bool reviewed(const ct_review_question *q, const ct_account_view *view)
{
    for (size_t i = 0; i < q->reviewed_count; i++)
        if (q->reviewed[i] == view)
            return true;
    return false;
}

/* The identity index of a role ARN reviewed, or SIZE_MAX. */
static size_t role_identity(const builder *b, const char *arn)
{
    void *v = NULL;
    if (!arn || !ct_strmap_get(b->identity_of_arn, arn, &v))
        return SIZE_MAX;
    size_t i = (size_t)(uintptr_t)v - 1;
    return b->r->identities[i].kind == CT_REVIEW_ROLE ? i : SIZE_MAX;
}

/* The calls of each person in each reviewed role they used. */
typedef struct person_role_calls {
    size_t person, role; /* indices into people.items and the review's identities */
    ct_calls calls;
} person_role_calls;

typedef struct people_calls_list {
    person_role_calls *items; /* sorted by person, then role */
    size_t count;
} people_calls_list;

static void people_calls_release(people_calls_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        ct_calls_release(&l->items[i].calls);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

/* A call of a session, with the person and role it is summed for. */
typedef struct session_call_ref {
    size_t person, role;
    const ct_call *call;
} session_call_ref;

static int compare_refs(const void *pa, const void *pb)
{
    const session_call_ref *a = pa, *b = pb;
    if (a->person != b->person)
        return a->person < b->person ? -1 : 1;
    if (a->role != b->role)
        return a->role < b->role ? -1 : 1;
    int c = strcmp(a->call->event_source, b->call->event_source);
    if (c == 0)
        c = strcmp(a->call->event_name, b->call->event_name);
    return c ? c : (int)a->call->kind - (int)b->call->kind;
}

static int compare_person_role(const void *pa, const void *pb)
{
    const person_role_calls *a = pa, *b = pb;
    if (a->person != b->person)
        return a->person < b->person ? -1 : 1;
    return (a->role > b->role) - (a->role < b->role);
}

/* The calls of every active session attributed to a person in a reviewed
 * role (one question), summed per person and role by sorting the calls
 * (tens of thousands of sessions: cheaper than hashing each call). */
static int people_calls(builder *b, people_calls_list *out)
{
    const ct_people *p = &b->r->people;
    const char **keys = calloc(p->sessions.count ? p->sessions.count : 1, sizeof(*keys));
    if (!keys)
        return out_of_memory(b->err);
    size_t n = 0;
    for (size_t i = 0; i < p->sessions.count; i++)
        if (p->attributed[i].person != SIZE_MAX && p->sessions.items[i].active &&
            role_identity(b, p->sessions.items[i].role_arn) != SIZE_MAX)
            keys[n++] = p->sessions.items[i].access_key;
    ct_role_sessions calls = {0};
    int rc = n ? b->a->source->session_calls(b->a->source, keys, n, &b->r->window, &calls, b->err)
               : 0;
    size_t total = 0;
    for (size_t i = 0; rc == 0 && i < calls.count; i++)
        total += calls.items[i].calls.count;
    session_call_ref *refs = rc == 0 ? calloc(total ? total : 1, sizeof(*refs)) : NULL;
    if (rc == 0 && !refs)
        rc = out_of_memory(b->err);
    size_t m = 0;
    for (size_t i = 0; rc == 0 && i < calls.count; i++) {
        const ct_role_session *s = ct_role_sessions_find(&p->sessions, calls.items[i].access_key);
        if (!s)
            continue; /* a key the question did not ask for */
        size_t person = p->attributed[s - p->sessions.items].person;
        size_t role = role_identity(b, s->role_arn);
        for (size_t c = 0; c < calls.items[i].calls.count; c++)
            refs[m++] = (session_call_ref){person, role, &calls.items[i].calls.items[c]};
    }
    if (m > 1)
        qsort(refs, m, sizeof(*refs), compare_refs);
    size_t cap = 0;
    for (size_t i = 0; rc == 0 && i < m; i++) {
        const session_call_ref *r = &refs[i];
        person_role_calls *last = out->count ? &out->items[out->count - 1] : NULL;
        if (!last || last->person != r->person || last->role != r->role) {
            person_role_calls *items =
                ct_array_grow(out->items, &cap, out->count, sizeof(*items), 64);
            if (!items) {
                rc = out_of_memory(b->err);
                break;
            }
            out->items = items;
            last = &items[out->count++];
            *last = (person_role_calls){r->person, r->role, {0}};
        }
        const ct_call *c = r->call;
        ct_call *prev = last->calls.count ? &last->calls.items[last->calls.count - 1] : NULL;
        if (prev && prev->kind == c->kind && strcmp(prev->event_source, c->event_source) == 0 &&
            strcmp(prev->event_name, c->event_name) == 0) {
            prev->count += c->count;
            prev->error_count += c->error_count;
            prev->first_day = c->first_day < prev->first_day ? c->first_day : prev->first_day;
            prev->last_day = c->last_day > prev->last_day ? c->last_day : prev->last_day;
        } else if (ct_calls_add(&last->calls, c->event_source, c->event_name, c->kind, c->count,
                                c->error_count, c->first_day, c->last_day) != 0) {
            rc = out_of_memory(b->err);
        }
    }
    free(refs);
    ct_role_sessions_release(&calls);
    free(keys);
    if (rc)
        people_calls_release(out);
    return rc;
}

static ct_review_use *add_use(ct_review_identity *id, size_t *cap)
{
    ct_review_use *uses = ct_array_grow(id->uses, cap, id->use_count, sizeof(*uses), 4);
    if (!uses)
        return NULL;
    id->uses = uses;
    ct_review_use *u = &uses[id->use_count++];
    memset(u, 0, sizeof(*u));
    u->last_day = -1;
    return u;
}

/* A role's verdicts without any call, which a person's calls change only
 * where they touch (ct_diff_build_touched): one diff per role, however many
 * people used it. */
#define NOT_GRANTED_HERE 0xFF

typedef struct role_template {
    bool ready;
    ct_grants *grants; /* the role's, expanded once */
    uint8_t *verdict;  /* per catalog action: its ct_verdict, or NOT_GRANTED_HERE */
    size_t unused, unknown;
    size_t *privileged; /* catalog indices of its unused privileged actions */
    size_t privileged_count;
} role_template;

static void templates_release(builder *b)
{
    for (size_t i = 0; i < b->template_count; i++) {
        free(b->templates[i].verdict);
        free(b->templates[i].privileged);
        ct_grants_free(b->templates[i].grants);
    }
    free(b->templates);
}

static int template_of(builder *b, size_t role, const ct_review_account *acct,
                       const role_template **out)
{
    role_template *t = &b->templates[role];
    *out = t;
    if (t->ready)
        return 0;
    const ct_review_identity *id = &b->r->identities[role];
    size_t n = ct_catalog_count(b->a->catalog);
    ct_calls none = {0};
    ct_diff d;
    const ct_policy_set *policies = ct_iam_policies(id->account->iam, id->principal);
    int rc = ct_policy_expand(&t->grants, policies, b->a->catalog, b->err);
    if (rc == 0)
        rc = ct_diff_build(&d, b->a->catalog, policies, &none, coverage_data,
                           (void *)&acct->coverage.data, b->err);
    if (rc)
        return rc;
    t->verdict = malloc(n ? n : 1);
    t->privileged = calloc(d.count ? d.count : 1, sizeof(*t->privileged));
    if (!t->verdict || !t->privileged) {
        ct_diff_release(&d);
        return out_of_memory(b->err);
    }
    memset(t->verdict, NOT_GRANTED_HERE, n);
    for (size_t i = 0; i < d.count; i++) {
        const ct_diff_entry *e = &d.entries[i];
        if (e->catalog_index == SIZE_MAX)
            continue; /* without calls, every entry is a granted catalog action */
        t->verdict[e->catalog_index] = (uint8_t)e->verdict;
        t->unused += e->verdict == CT_VERDICT_UNUSED;
        t->unknown += e->verdict == CT_VERDICT_UNKNOWN;
        if (e->verdict == CT_VERDICT_UNUSED && on_privileged_track(b, e))
            t->privileged[t->privileged_count++] = e->catalog_index;
    }
    ct_diff_release(&d);
    t->ready = true;
    return 0;
}

/* A person's use of a role: the role's verdicts without calls, changed
 * where the person's calls touch them (the diff `d` of
 * ct_diff_build_touched): the sums of the person's full diff, with the
 * unused and "?" actions counted, not listed (they are the role's grants
 * less what the person used; thousands of names for each of thousands of
 * people would make the review's memory grow with the logs). */
static int summarize_use(builder *b, const role_template *t, const ct_diff *d,
                         ct_review_actions *out)
{
    size_t want[CT_VERDICT_ATTEMPTED + 1] = {0};
    for (size_t i = 0; i < d->count; i++)
        want[d->entries[i].verdict]++;
    name_list used = LIST(want[CT_VERDICT_USED]), plus = LIST(want[CT_VERDICT_NOT_GRANTED]),
              tried = LIST(want[CT_VERDICT_ATTEMPTED]),
              priv = LIST(t->privileged_count + want[CT_VERDICT_UNUSED]);
    int rc = used.items && plus.items && tried.items && priv.items ? 0 : out_of_memory(b->err);
    size_t unused = t->unused, unknown = t->unknown;
    for (size_t i = 0; rc == 0 && i < d->count; i++) {
        const ct_diff_entry *e = &d->entries[i];
        out->calls += e->count;
        out->failed_calls += e->error_count;
        uint8_t was =
            e->catalog_index != SIZE_MAX ? t->verdict[e->catalog_index] : NOT_GRANTED_HERE;
        unused -= was == CT_VERDICT_UNUSED;
        unknown -= was == CT_VERDICT_UNKNOWN;
        switch (e->verdict) {
        case CT_VERDICT_USED:
            rc = list_add(b, &used, e);
            break;
        case CT_VERDICT_UNUSED:
            unused++;
            if (was != CT_VERDICT_UNUSED && on_privileged_track(b, e))
                rc = list_add(b, &priv, e);
            break;
        case CT_VERDICT_UNKNOWN:
            unknown++;
            break;
        case CT_VERDICT_NOT_GRANTED:
            rc = list_add(b, &plus, e);
            break;
        case CT_VERDICT_ATTEMPTED:
            rc = list_add(b, &tried, e);
            break;
        }
    }
    /* The role's unused privileged actions the person's calls left unused. */
    for (size_t k = 0; rc == 0 && k < t->privileged_count; k++) {
        size_t idx = t->privileged[k];
        bool changed = false;
        for (size_t i = 0; i < d->count && !changed; i++)
            changed =
                d->entries[i].catalog_index == idx && d->entries[i].verdict != CT_VERDICT_UNUSED;
        if (!changed && priv.count < priv.cap)
            priv.items[priv.count++] = ct_catalog_name(b->a->catalog, idx);
    }
    if (priv.count > 1)
        qsort(priv.items, priv.count, sizeof(char *), compare_names);
    out->used = used.items, out->used_count = used.count;
    out->unused_count = unused;
    out->unknown_count = unknown;
    out->not_granted = plus.items, out->not_granted_count = plus.count;
    out->attempted = tried.items, out->attempted_count = tried.count;
    out->privileged_unused = priv.items, out->privileged_unused_count = priv.count;
    /* Calls that name no IAM action were noted with the role's account. */
    if (rc)
        actions_release(out);
    return rc;
}

static ct_review_account *account_of(ct_review *r, const ct_account_view *view)
{
    for (size_t i = 0; i < r->account_count; i++)
        if (r->accounts[i].view == view)
            return &r->accounts[i];
    return NULL; /* not reached: roles are reviewed with their account */
}

/* How much an administrator kind gives: every action most. */
static int admin_rank(ct_admin_kind kind)
{
    return kind == CT_ADMIN_ALL_ACTIONS ? 2 : kind == CT_ADMIN_ESCALATION ? 1 : 0;
}

/* A person with the roles they used in the reviewed accounts. */
static int review_person(builder *b, size_t person, const people_calls_list *calls)
{
    ct_review *r = b->r;
    const ct_person *who = &r->people.items[person];
    size_t cap = 0;
    ct_review_identity staged = {0};
    staged.kind = CT_REVIEW_PERSON;
    staged.person = who;
    staged.name = who->name;
    staged.arn = "";
    staged.created = "";
    staged.last_day = -1;
    staged.identity_center_user = who->user != NULL;
    int rc = 0;
    for (size_t k = 0; rc == 0 && k < who->role_count; k++) {
        const ct_person_role *pr = &who->roles[k];
        size_t role = role_identity(b, pr->role_arn);
        if (role == SIZE_MAX) {
            const ct_account_view *in =
                ct_account_of_arn(b->q->accounts, b->q->account_count, pr->role_arn);
            if (in && reviewed(b->q, in))
                rc = note(b, "%s used %s, which the IAM file of account %s does not hold "
                          "(deleted since?): its grants are not reviewed",
                          who->name, pr->role_arn, in->name);
            continue;
        }
        ct_review_use *u = add_use(&staged, &cap);
        if (!u) {
            rc = out_of_memory(b->err);
            break;
        }
        u->identity = role;
        u->sessions = pr->sessions;
        u->high = pr->high;
        staged.sessions += pr->sessions;
        person_role_calls key = {person, role, {0}};
        const person_role_calls *found = calls->count
                                             ? bsearch(&key, calls->items, calls->count,
                                                       sizeof(*calls->items), compare_person_role)
                                             : NULL;
        const ct_calls *mine = found ? &found->calls : NULL;
        ct_calls none = {0};
        const ct_review_identity *role_id = &r->identities[role];
        const ct_review_account *acct = account_of(r, role_id->account);
        const role_template *t = NULL;
        ct_diff diff;
        rc = template_of(b, role, acct, &t);
        if (rc == 0)
            rc = ct_diff_build_touched(&diff, b->a->catalog,
                                       ct_iam_policies(role_id->account->iam, role_id->principal),
                                       t->grants, mine ? mine : &none, coverage_data,
                                       (void *)&acct->coverage.data, b->err);
        if (rc == 0) {
            rc = summarize_use(b, t, &diff, &u->actions);
            ct_diff_release(&diff);
        }
        u->last_day = last_day_of(mine);
        if (u->last_day > staged.last_day)
            staged.last_day = u->last_day;
        if (admin_rank(role_id->admin) > admin_rank(staged.admin)) {
            staged.admin = role_id->admin;
            staged.admin_via = role_id->arn;
        }
    }
    /* People who used no reviewed role are someone else's review, unless
     * an identity store of the reviewed accounts lists them. */
    if (rc == 0 && (staged.use_count || who->user)) {
        staged.dormant = dormancy(r, staged.last_day, NULL);
        ct_review_identity *id = new_identity(b);
        if (!id)
            rc = out_of_memory(b->err);
        else
            *id = staged;
        return rc;
    }
    for (size_t k = 0; k < staged.use_count; k++)
        actions_release(&staged.uses[k].actions);
    free(staged.uses);
    return rc;
}

/* Each role's people, from the people's uses (so in the people's order:
 * by name); and its active sessions, and those that name nobody. */
static int link_roles(builder *b, size_t first_person)
{
    ct_review *r = b->r;
    size_t *caps = calloc(r->identity_count ? r->identity_count : 1, sizeof(*caps));
    if (!caps)
        return out_of_memory(b->err);
    int rc = 0;
    for (size_t p = first_person; rc == 0 && p < r->identity_count; p++) {
        const ct_review_identity *person = &r->identities[p];
        for (size_t k = 0; rc == 0 && k < person->use_count; k++) {
            const ct_review_use *pu = &person->uses[k];
            ct_review_identity *role = &r->identities[pu->identity];
            ct_review_use *u = add_use(role, &caps[pu->identity]);
            if (!u) {
                rc = out_of_memory(b->err);
                break;
            }
            u->identity = p;
            u->sessions = pu->sessions;
            u->high = pu->high;
            u->last_day = pu->last_day;
        }
    }
    free(caps);
    const ct_people *people = &r->people;
    for (size_t i = 0; rc == 0 && i < people->sessions.count; i++) {
        const ct_role_session *s = &people->sessions.items[i];
        size_t role = s->active ? role_identity(b, s->role_arn) : SIZE_MAX;
        if (role == SIZE_MAX)
            continue;
        r->identities[role].sessions++;
        if (people->attributed[i].person == SIZE_MAX)
            r->identities[role].anonymous_sessions++;
    }
    return rc;
}

static int review_people(builder *b)
{
    ct_review *r = b->r;
    int rc = ct_analyze_people(b->a, b->q->users, b->q->user_lists, &r->people, b->err);
    people_calls_list calls = {0};
    if (rc == 0)
        rc = people_calls(b, &calls);
    size_t first_person = r->identity_count;
    if (rc == 0 && !(b->templates = calloc(first_person + 1, sizeof(*b->templates))))
        rc = out_of_memory(b->err);
    else if (rc == 0)
        b->template_count = first_person;
    for (size_t k = 0; rc == 0 && k < r->people.count; k++)
        rc = review_person(b, k, &calls);
    people_calls_release(&calls);
    return rc ? rc : link_roles(b, first_person);
}

int ct_review_build(ct_analysis *a, const ct_review_question *q, ct_review *out, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    out->window = a->window;
    out->dormant_days = q->dormant_days;
    builder b = {a, q, out, err, ct_strmap_new(), 0, NULL, NULL, 0, 0, NULL};
    int rc = b.identity_of_arn ? mark_privileged(&b) : 0;
    if (rc == 0 &&
        (!b.identity_of_arn || !(out->accounts = calloc(q->reviewed_count ? q->reviewed_count : 1,
                                                        sizeof(*out->accounts)))))
        rc = out_of_memory(err);
    for (size_t i = 0; rc == 0 && i < q->reviewed_count; i++) {
        out->account_count++;
        rc = review_account(&b, i);
    }
    if (rc == 0)
        rc = review_people(&b);
    templates_release(&b);
    ct_strmap_free(b.identity_of_arn);
    free(b.privileged);
    if (rc)
        ct_review_release(out);
    return rc;
}

void ct_review_release(ct_review *review)
{
    for (size_t i = 0; i < review->identity_count; i++) {
        ct_review_identity *id = &review->identities[i];
        actions_release(&id->actions);
        ct_generated_policy_release(&id->policy);
        for (size_t k = 0; k < id->use_count; k++)
            actions_release(&id->uses[k].actions);
        free(id->uses);
    }
    free(review->identities);
    for (size_t i = 0; i < review->account_count; i++) {
        ct_account_coverage_release(&review->accounts[i].coverage);
        free(review->accounts[i].empty_runs);
    }
    free(review->accounts);
    ct_people_release(&review->people);
    ct_text_release(&review->text);
    memset(review, 0, sizeof(*review));
}
