/* The guarantees of a generated policy, proved on its rendered text: read
 * back by the IAM module and evaluated by the policy engine, it allows
 * every used action and nothing beyond what is used (or "?") and granted
 * today; each document is valid and within IAM's size limit. One check for
 * every caller: the command line before it prints, and the tests. */
#include "cloudtracker/analysis.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct checker {
    const ct_catalog *catalog;
    ct_policy_violations *out;
    ct_error *err;
} checker;

/* Counts a violation and keeps its message (printf-style) among the first
 * ones. Returns 0 or CT_ENOMEM. */
static int violation(checker *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int violation(checker *c, const char *fmt, ...)
{
    if (c->out->count++ >= CT_POLICY_CHECK_KEPT)
        return 0;
    char text[1400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    if (ct_notes_add(&c->out->first, "%s", text) != 0)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory checking a policy");
    return 0;
}

static const char *spelled(const checker *c, const ct_diff_entry *e)
{
    return e->catalog_index != SIZE_MAX ? ct_catalog_published(c->catalog, e->catalog_index)
                                        : e->action;
}

/* Why the policy must not allow an action of this verdict. */
static const char *why_not(ct_verdict v, bool drop_unknown)
{
    switch (v) {
    case CT_VERDICT_UNUSED:
        return "granted but not used";
    case CT_VERDICT_UNKNOWN:
        return drop_unknown ? "not visible in CloudTrail, and --drop-unknown leaves those out"
                            : "not visible in CloudTrail"; /* never a violation */
    case CT_VERDICT_NOT_GRANTED:
        return "used but not granted today";
    case CT_VERDICT_ATTEMPTED:
        return "only tried, not granted today";
    default:
        return "used";
    }
}

/* The documents: valid, within the limit. Sets *set when they parse. */
static int check_documents(checker *c, const ct_policy_options *opts, const ct_policy_texts *texts,
                           ct_policy_set **set)
{
    size_t limit = opts->size_limit ? opts->size_limit : CT_POLICY_MANAGED_MAX;
    int rc = texts->count ? 0 : violation(c, "no policy document");
    for (size_t d = 0; rc == 0 && d < texts->count; d++) {
        size_t size = ct_policy_text_size(texts->documents[d], texts->lengths[d]);
        if (size > limit)
            rc = violation(c, "document %zu has %zu characters, over the limit of %zu", d + 1, size,
                           limit);
    }
    if (rc)
        return rc;
    ct_error perr;
    rc = ct_policy_set_parse(set, (const char *const *)texts->documents, texts->lengths,
                             texts->count, "generated policy", &perr);
    if (rc == CT_EIAM) {
        char why[1200];
        ct_error_format(&perr, why, sizeof(why));
        return violation(c, "not a valid policy document: %s", why);
    }
    if (rc && c->err)
        *c->err = perr;
    return rc;
}

/* ---- --resources: each action on exactly the resources of its scope ---- */

/* IAM's match of a Resource pattern: case-sensitive, '*' any run, '?' any
 * one character. */
static bool resource_match(const char *pattern, const char *arn)
{
    const char *star = NULL, *resume = NULL;
    while (*arn) {
        if (*pattern == '*') {
            star = pattern++;
            resume = arn;
        } else if (*pattern == '?' || *pattern == *arn) {
            pattern++;
            arn++;
        } else if (star) {
            pattern = star + 1;
            arn = ++resume;
        } else {
            return false;
        }
    }
    while (*pattern == '*')
        pattern++;
    return *pattern == '\0';
}

/* Whether an Action or Resource element (a string or an array of them)
 * has a pattern that `match` says covers `text`. */
static bool element_covers(const cJSON *element, const char *text,
                           bool (*match)(const char *pattern, const char *text))
{
    if (cJSON_IsString(element))
        return match(element->valuestring, text);
    const cJSON *item;
    cJSON_ArrayForEach(item, element)
    {
        if (cJSON_IsString(item) && match(item->valuestring, text))
            return true;
    }
    return false;
}

/* Whether a statement's Action covers `action` (case-insensitive). */
static bool statement_has_action(const cJSON *st, const char *action)
{
    return element_covers(cJSON_GetObjectItemCaseSensitive(st, "Action"), action,
                          ct_wildcard_match);
}

/* Whether a statement's Resource covers `arn` ("*" covers everything). */
static bool statement_has_resource(const cJSON *st, const char *arn)
{
    return element_covers(cJSON_GetObjectItemCaseSensitive(st, "Resource"), arn, resource_match);
}

static bool in_scope(const ct_resource_scope *scope, const char *arn)
{
    for (size_t i = 0; scope && i < scope->arn_count; i++)
        if (strcmp(scope->arns[i], arn) == 0)
            return true;
    return false;
}

/* With scopes: every ARN of a used action's scope is allowed for it by
 * some statement (no narrower than the use), and a statement that lists
 * resources lists, for every used action it covers, only ARNs of that
 * action's scope (no wider). The engine decides actions; resources are
 * read from the documents here. */
static int check_resources(checker *c, const ct_diff *diff, const ct_resource_scopes *scopes,
                           const ct_policy_texts *texts)
{
    int rc = 0;
    cJSON **docs = calloc(texts->count + 1, sizeof(*docs));
    if (!docs)
        return ct_error_set(c->err, CT_ENOMEM, "out of memory checking a policy");
    for (size_t d = 0; d < texts->count; d++)
        docs[d] = cJSON_ParseWithLength(texts->documents[d], texts->lengths[d]);
    for (size_t i = 0; rc == 0 && i < diff->count; i++) {
        const ct_diff_entry *e = &diff->entries[i];
        if (e->verdict != CT_VERDICT_USED || e->catalog_index == SIZE_MAX ||
            e->catalog_index >= scopes->count)
            continue;
        const ct_resource_scope *scope = &scopes->by_action[e->catalog_index];
        for (size_t d = 0; rc == 0 && d < texts->count; d++) {
            const cJSON *st;
            cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(docs[d], "Statement"))
            {
                const cJSON *r = cJSON_GetObjectItemCaseSensitive(st, "Resource");
                if (rc || !cJSON_IsArray(r) || !statement_has_action(st, e->action))
                    continue;
                const cJSON *item;
                cJSON_ArrayForEach(item, r)
                {
                    if (rc == 0 && (!cJSON_IsString(item) || !in_scope(scope, item->valuestring)))
                        rc = violation(c, "allows %s on %s, which its calls did not name",
                                       spelled(c, e),
                                       cJSON_IsString(item) ? item->valuestring : "?");
                }
            }
        }
        for (size_t k = 0; rc == 0 && scope->arns && k < scope->arn_count; k++) {
            bool covered = false;
            for (size_t d = 0; !covered && d < texts->count; d++) {
                const cJSON *st;
                cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(docs[d], "Statement"))
                {
                    covered = covered || (statement_has_action(st, e->action) &&
                                          statement_has_resource(st, scope->arns[k]));
                }
            }
            if (!covered)
                rc = violation(c, "does not allow %s on %s, which its calls named", spelled(c, e),
                               scope->arns[k]);
        }
    }
    for (size_t d = 0; d < texts->count; d++)
        cJSON_Delete(docs[d]);
    free(docs);
    return rc;
}

int ct_policy_check(const ct_catalog *catalog, const ct_diff *diff, const ct_policy_options *opts,
                    const ct_policy_texts *texts, ct_policy_violations *out, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    checker c = {catalog, out, err};
    ct_policy_set *set = NULL;
    ct_grants *grants = NULL;
    size_t n = ct_catalog_count(catalog);
    /* The verdict of each catalog action in the diff, plus one; 0: absent
     * (not granted, not used). */
    unsigned char *verdict = calloc(n + 1, 1);
    int rc = verdict ? check_documents(&c, opts, texts, &set)
                     : ct_error_set(err, CT_ENOMEM, "out of memory checking a policy");
    if (rc == 0 && set)
        rc = ct_policy_expand(&grants, set, catalog, err);
    for (size_t i = 0; rc == 0 && grants && i < diff->count; i++) {
        const ct_diff_entry *e = &diff->entries[i];
        bool allowed;
        if (e->catalog_index != SIZE_MAX) {
            verdict[e->catalog_index] = (unsigned char)(e->verdict + 1);
            allowed = ct_grants_has(grants, e->catalog_index);
        } else {
            /* The expansion knows only catalog actions: decide the rest. */
            ct_decision dec;
            ct_policy_decide(set, e->action, &dec);
            allowed = dec.granted;
            if (allowed && e->verdict != CT_VERDICT_USED)
                rc = violation(&c, "allows %s, %s", spelled(&c, e), why_not(e->verdict, false));
        }
        if (rc == 0 && e->verdict == CT_VERDICT_USED && !allowed)
            rc = violation(&c, "does not allow %s, used and granted", spelled(&c, e));
    }
    /* Every catalog action allowed: used, or "?" when kept. */
    for (size_t i = grants ? ct_grants_next(grants, 0) : SIZE_MAX; rc == 0 && i != SIZE_MAX;
         i = ct_grants_next(grants, i + 1)) {
        if (verdict[i] == 0) {
            rc = violation(&c, "allows %s, not granted today", ct_catalog_published(catalog, i));
            continue;
        }
        ct_verdict v = (ct_verdict)(verdict[i] - 1);
        if (v != CT_VERDICT_USED && (v != CT_VERDICT_UNKNOWN || opts->drop_unknown))
            rc = violation(&c, "allows %s, %s", ct_catalog_published(catalog, i),
                           why_not(v, opts->drop_unknown));
    }
    if (rc == 0 && set && opts->scopes && opts->scopes->by_action)
        rc = check_resources(&c, diff, opts->scopes, texts);
    ct_grants_free(grants);
    ct_policy_set_free(set);
    free(verdict);
    if (rc)
        ct_policy_violations_release(out);
    return rc;
}

int ct_policy_violations_error(const ct_policy_violations *v, const char *what, ct_error *err)
{
    if (!v->count)
        return 0;
    char list[900] = "";
    size_t used = 0;
    for (size_t i = 0; i < v->first.count && used < sizeof(list); i++)
        used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? "; " : "",
                                 v->first.items[i]);
    if (v->count > v->first.count && used < sizeof(list))
        snprintf(list + used, sizeof(list) - used, "; and %zu more", v->count - v->first.count);
    return ct_error_set(err, CT_EINTERNAL,
                        "the policy generated for %.100s fails its own check (a bug: please "
                        "report it): %s",
                        what, list);
}

void ct_policy_violations_release(ct_policy_violations *v)
{
    ct_notes_release(&v->first);
    v->count = 0;
}

void ct_policy_texts_release(ct_policy_texts *t)
{
    for (size_t i = 0; i < t->count; i++)
        free(t->documents[i]);
    free(t->documents);
    free(t->lengths);
    memset(t, 0, sizeof(*t));
}
