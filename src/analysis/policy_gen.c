/* Least-privilege policies from a diff: an Allow statement per service of
 * the actions used and still granted, and one of the granted actions
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
static const char ST_TAIL[] = "],\"Resource\":\"*\"}";

typedef struct gen {
    const ct_catalog *catalog;
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
    size_t n = sizeof(ST_HEAD) - 1 + strlen(s->sid) + sizeof(ST_MID) - 1 + sizeof(ST_TAIL) - 1;
    for (size_t i = 0; i < s->action_count; i++)
        n += strlen(s->actions[i]) + 2 + (i > 0); /* quotes, and the comma before */
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
    *s = (ct_policy_statement){sid, calloc(room ? room : 1, sizeof(char *)), 0};
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

/* Adds the entries of one verdict as statements: one per service, or one
 * named `sid` for all of them. */
static int add_statements(gen *g, const ct_diff *d, ct_verdict verdict, const char *sid,
                          bool compacting)
{
    size_t first = g->p->statement_count;
    ct_policy_statement *s = NULL;
    const char *service = NULL;
    for (size_t i = 0; i < d->count; i++) {
        const ct_diff_entry *e = &d->entries[i];
        if (e->verdict != verdict)
            continue;
        const char *name = spelled(g, e);
        size_t svc = service_len(e->action);
        bool new_service =
            !service || service_len(service) != svc || strncmp(service, e->action, svc) != 0;
        if (!s || (!sid && new_service)) {
            if (!(s = add_statement(
                      g, sid ? ct_text_strdup(&g->p->text, sid) : service_sid(g, name), d->count)))
                return oom(g);
            service = e->action;
        }
        s->actions[s->action_count++] = name;
    }
    /* The diff is sorted by lowercase name; the spelling can sort otherwise. */
    for (size_t i = first; i < g->p->statement_count; i++) {
        ct_policy_statement *st = &g->p->statements[i];
        qsort(st->actions, st->action_count, sizeof(char *), compare_strings);
        if (compacting && !sid) {
            int rc = compact(g, st);
            if (rc)
                return rc;
        }
    }
    return 0;
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
        if (ct_policy_document_size(p, i, i + 1) <= p->size_limit || s->action_count < 2)
            continue;
        /* Keep the first half here and move the rest into a new statement
         * right after it; the loop then looks at both again. */
        size_t keep = s->action_count / 2;
        char sid[200];
        unsigned part = 2;
        const char *base = s->sid;
        const char *at = strstr(base, "Part");
        size_t base_len = at ? (size_t)(at - base) : strlen(base);
        if (at)
            part = (unsigned)strtoul(at + 4, NULL, 10) + 1;
        snprintf(sid, sizeof(sid), "%.*sPart%u", (int)base_len, base, part);
        const char *sid_copy = ct_text_strdup(&p->text, sid);
        ct_policy_statement *moved = add_statement(g, sid_copy, s->action_count - keep);
        if (!moved)
            return oom(g);
        s = &p->statements[i]; /* add_statement may have moved the array */
        memcpy(moved->actions, s->actions + keep, (s->action_count - keep) * sizeof(char *));
        moved->action_count = s->action_count - keep;
        s->action_count = keep;
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
    gen g = {catalog, out, err, 0};
    int rc = add_statements(&g, diff, CT_VERDICT_USED, NULL, opts->compact);
    if (rc == 0 && !opts->drop_unknown)
        rc = add_statements(&g, diff, CT_VERDICT_UNKNOWN, "NotVisibleInCloudTrail", false);
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
