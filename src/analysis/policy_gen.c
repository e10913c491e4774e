/* Least-privilege policies from a diff: an Allow statement per service of
 * the actions used and still granted (with --resources, one more per list
 * of resources its actions are limited to), and one of the granted actions
 * CloudTrail cannot show. Nothing outside the diff's grants is ever
 * allowed: wildcards (--compact) are used only where every catalog action
 * they cover is in the statement already (docs/policy.md). */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <ctype.h>
#include <strings.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fixed parts of a document and a statement, as IAM counts them (JSON
 * without white space), around the Sid and the actions. */
static const char DOC_HEAD[] = "{\"Version\":\"2012-10-17\",\"Statement\":[";
static const char DOC_TAIL[] = "]}";
static const char ST_HEAD[] = "{\"Sid\":\"";
static const char ST_MID[] = "\",\"Effect\":\"Allow\",\"Action\":[";
static const char ST_RESOURCE[] = "],\"Resource\":";
static const char ST_TAIL[] = "}";

typedef struct gen {
    const ct_catalog *catalog;
    const ct_resource_scopes *scopes; /* NULL: every statement on "*" */
    ct_generated_policy *p;
    ct_error *err;
    size_t statement_cap;
} gen;

static int oom(gen *g)
{
    return ct_error_set(g->err, CT_ENOMEM, "out of memory");
}

static size_t statement_size(const ct_policy_statement *s)
{
    size_t n = sizeof(ST_HEAD) - 1 + strlen(s->sid) + sizeof(ST_MID) - 1 + sizeof(ST_RESOURCE) - 1 +
               sizeof(ST_TAIL) - 1;
    for (size_t i = 0; i < s->action_count; i++)
        n += strlen(s->actions[i]) + 2 + (i > 0); /* quotes, and the comma before */
    if (!s->resources)
        return n + 3; /* "*" */
    n += 2;           /* [] */
    for (size_t i = 0; i < s->resource_count; i++)
        n += strlen(s->resources[i]) + 2 + (i > 0);
    return n;
}

size_t ct_policy_document_size(const ct_generated_policy *p, size_t from, size_t to)
{
    size_t n = sizeof(DOC_HEAD) - 1 + sizeof(DOC_TAIL) - 1;
    for (size_t i = from; i < to; i++)
        n += statement_size(&p->statements[i]) + (i > from);
    return n;
}

/* "Used" + the service prefix in words: "s3" -> "UsedS3",
 * "aws-marketplace" -> "UsedAwsMarketplace" (Sids are alphanumeric). */
static char *service_sid(gen *g, const char *action)
{
    char sid[160] = "Used";
    size_t n = 4;
    bool up = true;
    for (const char *c = action; *c && *c != ':' && n + 1 < sizeof(sid); c++) {
        if (!isalnum((unsigned char)*c)) {
            up = true;
            continue;
        }
        sid[n++] = up ? (char)toupper((unsigned char)*c) : *c;
        up = false;
    }
    sid[n] = '\0';
    return ct_text_strdup(&g->p->text, sid);
}

static ct_policy_statement *add_statement(gen *g, const char *sid, size_t room)
{
    ct_generated_policy *p = g->p;
    ct_policy_statement *items =
        ct_array_grow(p->statements, &g->statement_cap, p->statement_count, sizeof(*items), 16);
    if (!items)
        return NULL;
    p->statements = items;
    ct_policy_statement *s = &items[p->statement_count];
    *s = (ct_policy_statement){sid, calloc(room ? room : 1, sizeof(char *)), 0, NULL, 0};
    if (!s->actions || !sid)
        return NULL;
    p->statement_count++;
    return s;
}

/* The name an entry's action is written with: the catalog's spelling. */
static const char *spelled(gen *g, const ct_diff_entry *e)
{
    return e->catalog_index != SIZE_MAX ? ct_catalog_published(g->catalog, e->catalog_index)
                                        : e->action;
}

static size_t service_len(const char *action)
{
    const char *colon = strchr(action, ':');
    return colon ? (size_t)(colon - action) : strlen(action);
}

/* The verb an action's name starts with, as the catalog spells it
 * ("s3:GetObject" -> "Get"): the letters up to the next capital. */
static size_t verb_len(const char *published)
{
    const char *name = strchr(published, ':');
    name = name ? name + 1 : published;
    size_t n = 1;
    while (name[n] && !isupper((unsigned char)name[n]))
        n++;
    return name[0] ? n : 0;
}

/* Whether every catalog action of the service whose lowercase name starts
 * with `prefix` (len bytes, "s3:get") is in `set` (sorted lowercase
 * names), and how many there are. */
static bool prefix_inside(gen *g, const char *prefix, size_t len, const char *const *set, size_t n,
                          size_t *covered)
{
    size_t svc = service_len(prefix), begin, end;
    ct_catalog_service_range(g->catalog, prefix, svc, &begin, &end);
    *covered = 0;
    size_t j = 0;
    for (size_t i = begin; i < end; i++) {
        const char *name = ct_catalog_name(g->catalog, i);
        if (strncmp(name, prefix, len) != 0)
            continue;
        while (j < n && strcmp(set[j], name) < 0)
            j++;
        if (j == n || strcmp(set[j], name) != 0)
            return false;
        (*covered)++;
    }
    return *covered > 0;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* --compact: replaces the actions of statement `s` (one service) by the
 * service's wildcard when it covers only them, else each verb's ("Get*")
 * when it covers two or more of them and nothing else. */
static int compact(gen *g, ct_policy_statement *s)
{
    size_t n = s->action_count;
    const char **lower = calloc(n + 1, sizeof(*lower));
    const char **out = calloc(n + 1, sizeof(*out));
    int rc = lower && out ? 0 : oom(g);
    for (size_t i = 0; rc == 0 && i < n; i++)
        if (!(lower[i] = ct_text_strdup(&g->p->text, s->actions[i])))
            rc = oom(g);
    for (size_t i = 0; rc == 0 && i < n; i++)
        for (char *c = (char *)lower[i]; *c; c++)
            *c = (char)tolower((unsigned char)*c);
    if (rc == 0)
        qsort(lower, n, sizeof(*lower), compare_strings);
    size_t covered = 0, k = 0;
    if (rc == 0 && n > 1 &&
        prefix_inside(g, lower[0], service_len(lower[0]) + 1, lower, n, &covered) && covered == n) {
        char pattern[160];
        snprintf(pattern, sizeof(pattern), "%.*s:*", (int)service_len(s->actions[0]),
                 s->actions[0]);
        if (!(out[k++] = ct_text_strdup(&g->p->text, pattern)))
            rc = oom(g);
        n = 0; /* every action is covered */
    }
    for (size_t i = 0; rc == 0 && i < n;) {
        const char *a = s->actions[i];
        size_t svc = service_len(a), verb = verb_len(a);
        char prefix[160];
        snprintf(prefix, sizeof(prefix), "%.*s", (int)(svc + 1 + verb), a);
        for (char *c = prefix; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        size_t same = 1; /* the actions after a that share its verb */
        while (i + same < n && strncasecmp(s->actions[i + same], a, svc + 1 + verb) == 0)
            same++;
        if (verb && same >= 2 &&
            prefix_inside(g, prefix, strlen(prefix), lower, s->action_count, &covered) &&
            covered == same) {
            char pattern[160];
            snprintf(pattern, sizeof(pattern), "%.*s*", (int)(svc + 1 + verb), a);
            if (!(out[k++] = ct_text_strdup(&g->p->text, pattern)))
                rc = oom(g);
            i += same;
        } else {
            out[k++] = a;
            i++;
        }
    }
    if (rc == 0) {
        free(s->actions);
        s->actions = out;
        s->action_count = k;
        out = NULL;
    }
    free(lower);
    free(out);
    return rc;
}

/* The resources a used entry is limited to (NULL: "*"). */
static const ct_resource_scope *scope_of(const gen *g, const ct_diff_entry *e)
{
    if (!g->scopes || !g->scopes->by_action || e->catalog_index == SIZE_MAX ||
        e->catalog_index >= g->scopes->count)
        return NULL;
    const ct_resource_scope *s = &g->scopes->by_action[e->catalog_index];
    return s->arns ? s : NULL;
}

static int compare_scopes(const ct_resource_scope *a, const ct_resource_scope *b)
{
    if (!a || !b)
        return a ? 1 : b ? -1 : 0;
    for (size_t i = 0; i < a->arn_count && i < b->arn_count; i++) {
        int c = strcmp(a->arns[i], b->arns[i]);
        if (c)
            return c;
    }
    return (a->arn_count > b->arn_count) - (a->arn_count < b->arn_count);
}

/* The entries of one service, to order by scope ("*" first), then name. */
typedef struct scoped_entry {
    const ct_diff_entry *e;
    const ct_resource_scope *scope;
} scoped_entry;

static int compare_scoped(const void *pa, const void *pb)
{
    const scoped_entry *a = pa, *b = pb;
    int c = compare_scopes(a->scope, b->scope);
    return c ? c : strcmp(a->e->action, b->e->action);
}

/* Sorts a statement's actions by their spelling and, with --compact,
 * replaces them by wildcards where those cover nothing else. */
static int finish_statement(gen *g, ct_policy_statement *st, bool compacting)
{
    qsort(st->actions, st->action_count, sizeof(char *), compare_strings);
    return compacting ? compact(g, st) : 0;
}

/* The statements of one service's n entries in `list`: one on "*", then
 * one per list of resources ("Resources1", ...). */
static int add_service(gen *g, scoped_entry *list, size_t n, bool compacting)
{
    qsort(list, n, sizeof(*list), compare_scoped);
    unsigned numbered = 0;
    ct_policy_statement *s = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!s || compare_scopes(list[i].scope, list[i - 1].scope) != 0) {
            if (s) {
                int rc = finish_statement(g, s, compacting);
                if (rc)
                    return rc;
            }
            const char *name = spelled(g, list[i].e);
            char *sid = service_sid(g, name);
            if (sid && list[i].scope) {
                char numbered_sid[200];
                snprintf(numbered_sid, sizeof(numbered_sid), "%sResources%u", sid, ++numbered);
                sid = ct_text_strdup(&g->p->text, numbered_sid);
            }
            if (!(s = add_statement(g, sid, n)))
                return oom(g);
            if (list[i].scope) {
                s->resources = list[i].scope->arns;
                s->resource_count = list[i].scope->arn_count;
            }
        }
        s->actions[s->action_count++] = spelled(g, list[i].e);
    }
    return s ? finish_statement(g, s, compacting) : 0;
}

/* The used entries: statements per service (add_service). */
static int add_used(gen *g, const ct_diff *d, bool compacting)
{
    scoped_entry *list = calloc(d->count + 1, sizeof(*list));
    if (!list)
        return oom(g);
    int rc = 0;
    size_t n = 0;
    for (size_t i = 0; rc == 0 && i <= d->count; i++) {
        const ct_diff_entry *e = i < d->count ? &d->entries[i] : NULL;
        if (e && e->verdict != CT_VERDICT_USED)
            continue;
        /* The diff is sorted by action: a service's entries come together. */
        if (n > 0 && (!e || service_len(e->action) != service_len(list[0].e->action) ||
                      strncmp(e->action, list[0].e->action, service_len(e->action)) != 0)) {
            rc = add_service(g, list, n, compacting);
            n = 0;
        }
        if (e) {
            list[n] = (scoped_entry){e, scope_of(g, e)};
            if (list[n++].scope)
                g->p->scoped++;
            else if (g->scopes && g->scopes->by_action)
                g->p->unscoped++;
        }
    }
    free(list);
    return rc;
}

/* The granted entries CloudTrail cannot show, in one statement named
 * `sid` on "*": their use leaves no record, so no resource is known. */
static int add_unknown(gen *g, const ct_diff *d, const char *sid)
{
    ct_policy_statement *s = NULL;
    for (size_t i = 0; i < d->count; i++) {
        const ct_diff_entry *e = &d->entries[i];
        if (e->verdict != CT_VERDICT_UNKNOWN)
            continue;
        if (!s && !(s = add_statement(g, ct_text_strdup(&g->p->text, sid), d->count)))
            return oom(g);
        s->actions[s->action_count++] = spelled(g, e);
    }
    return s ? finish_statement(g, s, false) : 0;
}

static int note(gen *g, const char ***list, size_t *count, size_t *cap, const char *text)
{
    const char **items = ct_array_grow(*list, cap, *count, sizeof(*items), 8);
    if (!items)
        return oom(g);
    *list = items;
    if (!(items[*count] = ct_text_strdup(&g->p->text, text)))
        return oom(g);
    (*count)++;
    return 0;
}

/* Actions not granted (never added), and the denies that may still block
 * the ones added. */
static int collect_notes(gen *g, const ct_diff *d, bool with_unknown)
{
    ct_generated_policy *p = g->p;
    size_t cap_ng = 0, cap_lim = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d->count; i++) {
        const ct_diff_entry *e = &d->entries[i];
        if (e->verdict == CT_VERDICT_NOT_GRANTED || e->verdict == CT_VERDICT_ATTEMPTED) {
            rc = note(g, &p->not_granted, &p->not_granted_count, &cap_ng, spelled(g, e));
            continue;
        }
        if (e->verdict != CT_VERDICT_USED && !(with_unknown && e->verdict == CT_VERDICT_UNKNOWN))
            continue;
        ct_decision dec;
        ct_diff_decision(d, e, &dec);
        for (size_t k = 0; rc == 0 && k < dec.note_count; k++) {
            char text[600];
            snprintf(text, sizeof(text), "%s: %s%s%s (%s)", spelled(g, e), dec.notes[k].policy,
                     dec.notes[k].sid[0] ? ", statement " : "", dec.notes[k].sid,
                     dec.notes[k].limit);
            rc = note(g, &p->limited, &p->limited_count, &cap_lim, text);
        }
    }
    return rc;
}

/* Splits a statement larger than the limit into parts ("Part2", ...) that
 * each fit a document of their own. */
static int split_large(gen *g)
{
    ct_generated_policy *p = g->p;
    for (size_t i = 0; i < p->statement_count; i++) {
        ct_policy_statement *s = &p->statements[i];
        if (ct_policy_document_size(p, i, i + 1) <= p->size_limit ||
            (s->action_count < 2 && s->resource_count < 2))
            continue;
        /* Keep the first half here and move the rest into a new statement
         * right after it; the loop then looks at both again. One action on
         * too many resources splits its resources instead (each part then
         * allows the action on some of them: together, on all). */
        bool by_resource = s->action_count < 2;
        size_t keep = by_resource ? s->resource_count / 2 : s->action_count / 2;
        char sid[200];
        unsigned part = 2;
        const char *base = s->sid;
        const char *at = strstr(base, "Part");
        size_t base_len = at ? (size_t)(at - base) : strlen(base);
        if (at)
            part = (unsigned)strtoul(at + 4, NULL, 10) + 1;
        snprintf(sid, sizeof(sid), "%.*sPart%u", (int)base_len, base, part);
        const char *sid_copy = ct_text_strdup(&p->text, sid);
        ct_policy_statement *moved =
            add_statement(g, sid_copy, by_resource ? s->action_count : s->action_count - keep);
        if (!moved)
            return oom(g);
        s = &p->statements[i]; /* add_statement may have moved the array */
        if (by_resource) {
            memcpy(moved->actions, s->actions, s->action_count * sizeof(char *));
            moved->action_count = s->action_count;
            moved->resources = s->resources + keep;
            moved->resource_count = s->resource_count - keep;
            s->resource_count = keep;
        } else {
            memcpy(moved->actions, s->actions + keep, (s->action_count - keep) * sizeof(char *));
            moved->action_count = s->action_count - keep;
            s->action_count = keep;
            moved->resources = s->resources;
            moved->resource_count = s->resource_count;
        }
        /* Into place after i. */
        ct_policy_statement tmp = *moved;
        memmove(&p->statements[i + 2], &p->statements[i + 1],
                (p->statement_count - 1 - (i + 1)) * sizeof(*p->statements));
        p->statements[i + 1] = tmp;
        i--; /* look at the first half again */
    }
    return 0;
}

/* Groups the statements into documents within the size limit, in order. */
static int make_documents(gen *g)
{
    ct_generated_policy *p = g->p;
    if (!(p->documents = calloc(p->statement_count + 2, sizeof(*p->documents))))
        return oom(g);
    p->document_count = 0;
    size_t start = 0;
    p->documents[0] = 0;
    for (size_t i = 0; i < p->statement_count; i++) {
        if (i > start && ct_policy_document_size(p, start, i + 1) > p->size_limit) {
            p->documents[++p->document_count] = i;
            start = i;
        }
    }
    p->documents[++p->document_count] = p->statement_count;
    for (size_t d = 0; d < p->document_count; d++) {
        size_t n = ct_policy_document_size(p, p->documents[d], p->documents[d + 1]);
        p->largest = n > p->largest ? n : p->largest;
    }
    return 0;
}

int ct_policy_generate(const ct_catalog *catalog, const ct_diff *diff,
                       const ct_policy_options *opts, ct_generated_policy *out, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    out->size_limit = opts->size_limit ? opts->size_limit : CT_POLICY_MANAGED_MAX;
    gen g = {catalog, opts->scopes, out, err, 0};
    int rc = add_used(&g, diff, opts->compact);
    if (rc == 0 && !opts->drop_unknown)
        rc = add_unknown(&g, diff, "NotVisibleInCloudTrail");
    if (rc == 0)
        rc = collect_notes(&g, diff, !opts->drop_unknown);
    if (rc == 0)
        rc = split_large(&g);
    if (rc == 0)
        rc = make_documents(&g);
    if (rc)
        ct_generated_policy_release(out);
    return rc;
}

void ct_generated_policy_release(ct_generated_policy *p)
{
    for (size_t i = 0; i < p->statement_count; i++)
        free(p->statements[i].actions);
    free(p->statements);
    free(p->documents);
    free(p->not_granted);
    free(p->limited);
    ct_text_release(&p->text);
    memset(p, 0, sizeof(*p));
}
