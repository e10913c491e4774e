/* People behind roles: every role session of the window attributed to the
 * person the logs name, on the strongest evidence they hold (the rules are
 * in analysis.h; the CloudTrail fields and their sources in docs/people.md),
 * and the people grouped from those names. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const EVIDENCE_NAMES[] = {
    [CT_EVIDENCE_NONE] = "none",
    [CT_EVIDENCE_IDENTITY_CENTER] = "identity-center",
    [CT_EVIDENCE_SOURCE_IDENTITY] = "source-identity",
    [CT_EVIDENCE_IAM_USER] = "iam-user",
    [CT_EVIDENCE_SAML] = "saml",
    [CT_EVIDENCE_WEB_IDENTITY] = "web-identity",
    [CT_EVIDENCE_SESSION_NAME] = "session-name",
};

const char *ct_person_evidence_name(ct_person_evidence evidence)
{
    return (unsigned)evidence < sizeof(EVIDENCE_NAMES) / sizeof(*EVIDENCE_NAMES)
               ? EVIDENCE_NAMES[evidence]
               : "none";
}

bool ct_person_evidence_is_high(ct_person_evidence evidence)
{
    return evidence != CT_EVIDENCE_NONE && evidence != CT_EVIDENCE_SESSION_NAME;
}

/* A session's attribution while the people are not grouped yet: the name
 * is kept here, the person index set at the end. */
typedef struct pending {
    char *name; /* NULL: nobody */
    enum { TODO, BUSY, DONE } state;
} pending;

typedef struct attributor {
    const ct_role_sessions *sessions;
    const ct_identity_store *const *users;
    size_t user_lists;
    ct_session_person *out;
    pending *names;
    ct_error *err;
} attributor;

static int nomem(attributor *t)
{
    return ct_error_set(t->err, CT_ENOMEM, "out of memory");
}

/* Sets session i's person `name` (copied; NULL: nobody), evidence and a
 * detail made from fmt. */
static int settle(attributor *t, size_t i, const char *name, ct_person_evidence evidence,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int settle(attributor *t, size_t i, const char *name, ct_person_evidence evidence,
                  const char *fmt, ...)
{
    char detail[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    ct_session_person *p = &t->out[i];
    p->evidence = evidence;
    if (!(p->detail = ct_strdup(detail)) || (name && !(t->names[i].name = ct_strdup(name))))
        return nomem(t);
    return 0;
}

/* The last part of a path-like name ("user/path/alice" -> "alice"). */
static const char *last_part(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash ? slash + 1 : s;
}

static bool set(const char *s)
{
    return s && s[0];
}

static int attribute(attributor *t, size_t i);

/* Rule 3 for an AssumeRole made inside another role session: that
 * session's person, if it has one. *done tells whether it settled i. */
static int follow_chain(attributor *t, size_t i, bool *done)
{
    const ct_role_session *s = &t->sessions->items[i];
    *done = false;
    const ct_role_session *parent = ct_role_sessions_find(t->sessions, s->opening.caller_key);
    if (!parent || parent == s)
        return 0;
    size_t j = (size_t)(parent - t->sessions->items);
    /* A loop (logs cannot make one, damaged ones might) ends here. */
    if (t->names[j].state == BUSY)
        return 0;
    int rc = attribute(t, j);
    if (rc || !t->names[j].name || t->out[j].depth + 1 > CT_CHAIN_MAX_DEPTH)
        return rc;
    ct_session_person *p = &t->out[i];
    p->opened_from = parent;
    p->depth = t->out[j].depth + 1;
    *done = true;
    return settle(t, i, t->names[j].name, t->out[j].evidence,
                  "AssumeRole from session %s of %s, which %s", parent->access_key,
                  parent->role_arn ? parent->role_arn : "an unknown role", t->out[j].detail);
}

/* Rule 3: what the opening event says (*done: whether it settled i). */
static int from_opening(attributor *t, size_t i, bool *done)
{
    const ct_role_session *s = &t->sessions->items[i];
    const ct_session_opening *o = &s->opening;
    *done = true;
    if (strcmp(o->event_name, "AssumeRoleWithSAML") == 0) {
        const char *who = set(o->caller_name) ? o->caller_name : o->subject;
        if (set(who))
            return settle(t, i, who, CT_EVIDENCE_SAML, "AssumeRoleWithSAML: subject %s, issuer %s",
                          who, set(o->issuer) ? o->issuer : o->provider);
    } else if (strcmp(o->event_name, "AssumeRoleWithWebIdentity") == 0) {
        const char *who = set(o->caller_name) ? o->caller_name : o->subject;
        if (set(who))
            return settle(t, i, who, CT_EVIDENCE_WEB_IDENTITY,
                          "AssumeRoleWithWebIdentity: subject %s, provider %s", who,
                          set(o->issuer) ? o->issuer : o->provider);
    } else if (strcmp(o->caller_type, "IAMUser") == 0 ||
               (!set(o->caller_type) && strstr(o->caller, ":user/"))) {
        return settle(t, i, last_part(o->caller), CT_EVIDENCE_IAM_USER, "AssumeRole by %s",
                      o->caller);
    } else if (strcmp(o->caller_type, "Root") == 0) {
        return settle(t, i, o->caller, CT_EVIDENCE_IAM_USER, "AssumeRole by the root user %s",
                      o->caller);
    } else if (strcmp(o->caller_type, "AssumedRole") == 0 && set(o->caller_key)) {
        return follow_chain(t, i, done);
    } else if (strcmp(o->caller_type, "AWSService") == 0) {
        /* A service acting for itself (a function's execution role): its
         * session name is the service's choice, no person's. */
        return settle(t, i, NULL, CT_EVIDENCE_NONE, "opened by an AWS service");
    }
    *done = false;
    return 0;
}

/* Attributes session i (and, through chains, the sessions it was opened
 * from) by the first rule that names a person. */
static int attribute(attributor *t, size_t i)
{
    if (t->names[i].state != TODO)
        return 0;
    t->names[i].state = BUSY;
    const ct_role_session *s = &t->sessions->items[i];
    const ct_session_evidence *e = &s->evidence;
    const ct_session_opening *o = &s->opening;
    const char *session_name = set(e->session_name)                      ? e->session_name
                               : s->opened_known && set(o->session_name) ? o->session_name
                                                                         : NULL;
    bool named = session_name && !ct_session_name_is_generic(session_name);
    bool done = false;
    int rc = 0;
    if (s->evidence_known && set(e->on_behalf_of)) {
        /* Rule 1: the Identity Center user, by name when the user list or
         * (for Identity Center sessions) the session name gives one. */
        const ct_identity_user *u = NULL;
        for (size_t k = 0; !u && k < t->user_lists; k++)
            u = ct_identity_store_find_id(t->users[k], e->on_behalf_of);
        const char *name = u ? u->user_name : named ? session_name : e->on_behalf_of;
        rc = settle(t, i, name, CT_EVIDENCE_IDENTITY_CENTER, "onBehalfOf user %s of %s",
                    e->on_behalf_of,
                    set(e->identity_store) ? e->identity_store : "an unnamed identity store");
        done = true;
    } else if (set(e->source_identity) || (s->opened_known && set(o->source_identity))) {
        const char *who = set(e->source_identity) ? e->source_identity : o->source_identity;
        rc = settle(t, i, who, CT_EVIDENCE_SOURCE_IDENTITY, "sourceIdentity %s", who);
        done = true;
    } else if (s->opened_known) {
        rc = from_opening(t, i, &done);
    }
    if (rc == 0 && !done) {
        if (named)
            rc = settle(t, i, session_name, CT_EVIDENCE_SESSION_NAME,
                        "only the session name %s, which the client chose", session_name);
        else if (session_name)
            rc = settle(t, i, NULL, CT_EVIDENCE_NONE, "the session name %s is one an SDK makes up",
                        session_name);
        else
            rc = settle(t, i, NULL, CT_EVIDENCE_NONE, "nothing in the logs names who opened it");
    }
    t->names[i].state = DONE;
    return rc;
}

/* ---- grouping the names into people ---- */

static int compare_people(const void *pa, const void *pb)
{
    const ct_person *a = pa, *b = pb;
    int c = ct_strcasecmp(a->name, b->name);
    return c ? c : strcmp(a->name, b->name);
}

/* The person named `name` (case-insensitively), made when new: its index,
 * or SIZE_MAX when out of memory. `index` maps the folded name to index + 1. */
static size_t person_of(ct_people *p, size_t *cap, ct_strmap *index, const char *name)
{
    char *folded = ct_strdup_lower(name);
    if (!folded)
        return SIZE_MAX;
    void *v = NULL;
    size_t at = SIZE_MAX;
    if (ct_strmap_get(index, folded, &v)) {
        at = (size_t)(uintptr_t)v - 1;
        ct_person *q = &p->items[at];
        /* One spelling for all: the first, bytewise. */
        if (strcmp(name, q->name) < 0) {
            char *copy = ct_strdup(name);
            if (!copy)
                at = SIZE_MAX;
            else {
                free(q->name);
                q->name = copy;
            }
        }
    } else {
        ct_person *items = ct_array_grow(p->items, cap, p->count, sizeof(*items), 16);
        if (items) {
            p->items = items;
            ct_person *q = &items[p->count];
            memset(q, 0, sizeof(*q));
            if ((q->name = ct_strdup(name)) &&
                ct_strmap_put(index, folded, (void *)(uintptr_t)(p->count + 1)) == 0)
                at = p->count++;
            else
                free(q->name);
        }
    }
    free(folded);
    return at;
}

/* Counts an active session of `role_arn` for person q. */
static int add_role(ct_person *q, size_t *cap, const char *role_arn, bool high)
{
    for (size_t r = 0; r < q->role_count; r++) {
        if (strcmp(q->roles[r].role_arn, role_arn) == 0) {
            q->roles[r].sessions++;
            q->roles[r].high = q->roles[r].high || high;
            return 0;
        }
    }
    ct_person_role *roles = ct_array_grow(q->roles, cap, q->role_count, sizeof(*roles), 4);
    if (!roles)
        return CT_ENOMEM;
    q->roles = roles;
    roles[q->role_count++] = (ct_person_role){role_arn, 1, high};
    return 0;
}

static int compare_roles(const void *pa, const void *pb)
{
    return strcmp(((const ct_person_role *)pa)->role_arn, ((const ct_person_role *)pb)->role_arn);
}

/* Groups the attributed names into people: those of active sessions, and
 * every Identity Center user of `users`. */
static int group_people(ct_people *p, const pending *names,
                        const ct_identity_store *const *users, size_t user_lists, ct_error *err)
{
    ct_strmap *index = ct_strmap_new();
    size_t cap = 0;
    int rc = index ? 0 : CT_ENOMEM;
    for (size_t k = 0; k < user_lists; k++) {
        for (size_t i = 0; rc == 0 && i < ct_identity_store_count(users[k]); i++) {
            const ct_identity_user *u = ct_identity_store_get(users[k], i);
            size_t at = person_of(p, &cap, index, u->user_name);
            if (at == SIZE_MAX)
                rc = CT_ENOMEM;
            else if (!p->items[at].user)
                p->items[at].user = u;
        }
    }
    for (size_t i = 0; rc == 0 && i < p->sessions.count; i++) {
        const ct_role_session *s = &p->sessions.items[i];
        if (!names[i].name || !s->active)
            continue;
        size_t at = person_of(p, &cap, index, names[i].name);
        if (at == SIZE_MAX) {
            rc = CT_ENOMEM;
            break;
        }
        p->attributed[i].person = at;
    }
    /* Roles and flags, now that the indexes are final (the array may have
     * moved while growing). */
    size_t *role_caps = calloc(p->count ? p->count : 1, sizeof(*role_caps));
    if (rc == 0 && !role_caps)
        rc = CT_ENOMEM;
    for (size_t i = 0; rc == 0 && i < p->sessions.count; i++) {
        const ct_session_person *sp = &p->attributed[i];
        if (sp->person == SIZE_MAX)
            continue;
        ct_person *q = &p->items[sp->person];
        bool high = ct_person_evidence_is_high(sp->evidence);
        q->active = true;
        q->high = q->high || high;
        if (sp->session->role_arn)
            rc = add_role(q, &role_caps[sp->person], sp->session->role_arn, high);
    }
    free(role_caps);
    ct_strmap_free(index);
    if (rc)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    for (size_t k = 0; k < p->count; k++)
        if (p->items[k].role_count > 1)
            qsort(p->items[k].roles, p->items[k].role_count, sizeof(ct_person_role), compare_roles);
    /* Sorted by name; the sessions' indexes follow. */
    size_t *order = calloc(p->count ? p->count : 1, sizeof(*order));
    ct_person *sorted = calloc(p->count ? p->count : 1, sizeof(*sorted));
    if (!order || !sorted) {
        free(order);
        free(sorted);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    if (p->count) /* memcpy from NULL is undefined, even of 0 bytes */
        memcpy(sorted, p->items, p->count * sizeof(*sorted));
    qsort(sorted, p->count, sizeof(*sorted), compare_people);
    for (size_t k = 0; k < p->count; k++) {
        /* Names are unique once folded, so this finds the one. */
        size_t at =
            ct_people_find(&(ct_people){.items = sorted, .count = p->count}, p->items[k].name);
        order[k] = at;
    }
    for (size_t i = 0; i < p->sessions.count; i++)
        if (p->attributed[i].person != SIZE_MAX)
            p->attributed[i].person = order[p->attributed[i].person];
    free(p->items);
    p->items = sorted;
    free(order);
    return 0;
}

int ct_analyze_people(ct_analysis *a, const ct_identity_store *const *users, size_t user_lists,
                      ct_people *out, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    int rc = a->source->sessions(a->source, &a->window, &out->sessions, err);
    if (rc)
        return rc;
    size_t n = out->sessions.count;
    out->attributed = calloc(n ? n : 1, sizeof(*out->attributed));
    pending *names = calloc(n ? n : 1, sizeof(*names));
    if (!out->attributed || !names) {
        free(names);
        ct_people_release(out);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        out->attributed[i].session = &out->sessions.items[i];
        out->attributed[i].person = SIZE_MAX;
    }
    attributor t = {&out->sessions, users, user_lists, out->attributed, names, err};
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = attribute(&t, i);
    if (rc == 0)
        rc = group_people(out, names, users, user_lists, err);
    for (size_t i = 0; i < n; i++)
        free(names[i].name);
    free(names);
    if (rc)
        ct_people_release(out);
    return rc;
}

size_t ct_people_find(const ct_people *people, const char *name)
{
    size_t lo = 0, hi = people->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = ct_strcasecmp(people->items[mid].name, name);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

void ct_people_release(ct_people *people)
{
    for (size_t i = 0; people->attributed && i < people->sessions.count; i++)
        free(people->attributed[i].detail);
    free(people->attributed);
    for (size_t k = 0; k < people->count; k++) {
        free(people->items[k].name);
        free(people->items[k].roles);
    }
    free(people->items);
    ct_role_sessions_release(&people->sessions);
    memset(people, 0, sizeof(*people));
}
