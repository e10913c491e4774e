/* What changed since the previous review (--compare): the previous review
 * is read back from its own JSON document (docs/json-format.md, type
 * "review"), the one format this project promises to keep stable. */
#include "cloudtracker/analysis.h"
#include "cloudtracker/util.h"

#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ct_presence_name(ct_presence p)
{
    switch (p) {
    case CT_PRESENCE_KEPT:
        return "kept";
    case CT_PRESENCE_ADDED:
        return "added";
    case CT_PRESENCE_REMOVED:
        return "removed";
    }
    return "?";
}

/* A sorted list of names borrowed from the parsed document. */
typedef struct names {
    const char **items;
    size_t count;
} names;

typedef struct previous_identity {
    ct_review_kind kind;
    const char *account_id; /* "" for people */
    const char *account_name;
    const char *name;
    ct_dormancy dormant;
    names granted; /* used, unused and "?" */
    names unused;
    bool matched; /* found in the new review */
} previous_identity;

struct ct_review_previous {
    cJSON *root;
    const char *made_at;
    ct_window window;
    previous_identity *items;
    size_t count;
    ct_strmap *index; /* identity key -> index + 1 */
};

static int bad(ct_error *err, const char *name, const char *fmt, const char *what)
{
    char why[512];
    snprintf(why, sizeof(why), fmt, what);
    return ct_error_set_at(err, CT_ECOMPARE, name, 0, 0, "not a review to compare with: %s", why);
}

static int compare_names(const void *pa, const void *pb)
{
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* Appends the strings of the JSON array `arr` to *out (unsorted). */
static int add_names(names *out, size_t cap, const cJSON *arr, const char *name, const char *field,
                     ct_error *err)
{
    if (!cJSON_IsArray(arr))
        return bad(err, name, "an identity's \"%s\" is not a list", field);
    const cJSON *v;
    cJSON_ArrayForEach(v, arr)
    {
        if (!cJSON_IsString(v))
            return bad(err, name, "an identity's \"%s\" holds a non-string", field);
        if (out->count < cap)
            out->items[out->count++] = v->valuestring;
    }
    return 0;
}

static const char *string_of(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* "kind\taccount id\tname" (people: the name in lowercase, as people are
 * one whatever the case). NULL when out of memory. */
static char *identity_key(ct_review_kind kind, const char *account_id, const char *name)
{
    ct_buf b = CT_BUF_INIT;
    char *lower = kind == CT_REVIEW_PERSON ? ct_strdup_lower(name) : NULL;
    if ((kind == CT_REVIEW_PERSON && !lower) ||
        ct_buf_printf(&b, "%d\t%s\t%s", (int)kind, account_id, lower ? lower : name) != 0) {
        free(lower);
        ct_buf_release(&b);
        return NULL;
    }
    free(lower);
    return ct_buf_detach(&b);
}

static int parse_identity(ct_review_previous *p, const cJSON *obj, const char *name, ct_error *err)
{
    /* Counted at once, so that the lists of one that fails are freed too. */
    previous_identity *id = &p->items[p->count++];
    const char *kind = string_of(obj, "kind");
    id->name = string_of(obj, "name");
    const char *dormant = string_of(obj, "dormant");
    if (!kind || !id->name || !dormant)
        return bad(err, name, "an identity lacks %s", "\"kind\", \"name\" or \"dormant\"");
    if (strcmp(kind, "user") == 0)
        id->kind = CT_REVIEW_USER;
    else if (strcmp(kind, "role") == 0)
        id->kind = CT_REVIEW_ROLE;
    else if (strcmp(kind, "person") == 0)
        id->kind = CT_REVIEW_PERSON;
    else
        return bad(err, name, "unknown identity kind \"%s\"", kind);
    id->dormant = strcmp(dormant, "yes") == 0       ? CT_DORMANT_YES
                  : strcmp(dormant, "unknown") == 0 ? CT_DORMANT_UNKNOWN
                                                    : CT_DORMANT_NO;
    id->account_id = id->account_name = "";
    if (id->kind != CT_REVIEW_PERSON) {
        const cJSON *account = cJSON_GetObjectItemCaseSensitive(obj, "account");
        id->account_id = string_of(account, "id");
        id->account_name = string_of(account, "name");
        const cJSON *actions = cJSON_GetObjectItemCaseSensitive(obj, "actions");
        if (!id->account_id || !id->account_name || !cJSON_IsObject(actions))
            return bad(err, name, "the %s \"account\" or \"actions\" is missing", kind);
        size_t cap = 0;
        static const char *const granted[] = {"used", "unused", "unknown"};
        for (size_t i = 0; i < 3; i++)
            cap +=
                (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(actions, granted[i]));
        id->granted.items = calloc(cap ? cap : 1, sizeof(char *));
        id->unused.items = calloc(cap ? cap : 1, sizeof(char *));
        if (!id->granted.items || !id->unused.items)
            return ct_error_set(err, CT_ENOMEM, "out of memory");
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < 3; i++)
            rc = add_names(&id->granted, cap, cJSON_GetObjectItemCaseSensitive(actions, granted[i]),
                           name, granted[i], err);
        if (rc == 0)
            rc = add_names(&id->unused, cap, cJSON_GetObjectItemCaseSensitive(actions, "unused"),
                           name, "unused", err);
        if (rc)
            return rc;
        qsort(id->granted.items, id->granted.count, sizeof(char *), compare_names);
        qsort(id->unused.items, id->unused.count, sizeof(char *), compare_names);
    }
    char *key = identity_key(id->kind, id->account_id, id->name);
    if (!key)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    void *seen;
    int rc = 0;
    if (ct_strmap_get(p->index, key, &seen))
        rc = bad(err, name, "an identity is listed twice (%s)", id->name);
    else if (ct_strmap_put(p->index, key, (void *)(uintptr_t)p->count) != 0)
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    free(key);
    return rc;
}

static int parse_day(const cJSON *window, const char *key, int64_t *day)
{
    const char *s = string_of(window, key);
    return s && ct_date_parse_day(s, day) == 0 ? 0 : -1;
}

int ct_review_previous_parse(ct_review_previous **out, const char *json, size_t len,
                             const char *name, ct_error *err)
{
    *out = NULL;
    ct_review_previous *p = calloc(1, sizeof(*p));
    if (!p || !(p->index = ct_strmap_new())) {
        free(p);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    int rc = 0;
    const char *end = NULL;
    p->root = cJSON_ParseWithLengthOpts(json, len, &end, false);
    const cJSON *version = cJSON_GetObjectItemCaseSensitive(p->root, "format_version");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(p->root, "type");
    const cJSON *window = cJSON_GetObjectItemCaseSensitive(p->root, "window");
    const cJSON *identities = cJSON_GetObjectItemCaseSensitive(p->root, "identities");
    if (!p->root)
        rc = bad(err, name, "%s", "not JSON (a review's --format json output is)");
    else if (!cJSON_IsString(type) || strcmp(type->valuestring, "review") != 0)
        rc = bad(err, name, "%s",
                 "a JSON document of another type (a review's --format json output is "
                 "\"type\": \"review\")");
    else if (!cJSON_IsNumber(version) || version->valuedouble != 1)
        rc = ct_error_set_at(err, CT_ECOMPARE, name, 0, 0,
                             "a review of format_version %g: this cloudtracker reads "
                             "format_version 1; compare with a review it made",
                             cJSON_IsNumber(version) ? version->valuedouble : 0.0);
    else if (!(p->made_at = string_of(p->root, "made_at")) ||
             parse_day(window, "start", &p->window.first_day) ||
             parse_day(window, "end", &p->window.last_day) || !cJSON_IsArray(identities))
        rc = bad(err, name, "%s", "\"made_at\", \"window\" or \"identities\" is missing");
    size_t n = rc ? 0 : (size_t)cJSON_GetArraySize(identities);
    if (rc == 0 && !(p->items = calloc(n ? n : 1, sizeof(*p->items))))
        rc = ct_error_set(err, CT_ENOMEM, "out of memory");
    const cJSON *obj;
    if (rc == 0) {
        cJSON_ArrayForEach(obj, identities)
        {
            if (rc == 0 && !cJSON_IsObject(obj))
                rc = bad(err, name, "%s", "an identity is not an object");
            if (rc == 0)
                rc = parse_identity(p, obj, name, err);
        }
    }
    if (rc) {
        ct_review_previous_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void ct_review_previous_free(ct_review_previous *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].granted.items);
        free(p->items[i].unused.items);
    }
    free(p->items);
    ct_strmap_free(p->index);
    cJSON_Delete(p->root);
    free(p);
}

/* ---- the comparison ---- */

/* The sorted union of a current identity's granted actions. */
static int granted_now(const ct_review_actions *x, names *out)
{
    size_t n = x->used_count + x->unused_count + x->unknown_count;
    out->items = calloc(n ? n : 1, sizeof(char *));
    if (!out->items)
        return CT_ENOMEM;
    memcpy(out->items, x->used, x->used_count * sizeof(char *));
    memcpy(out->items + x->used_count, x->unused, x->unused_count * sizeof(char *));
    memcpy(out->items + x->used_count + x->unused_count, x->unknown,
           x->unknown_count * sizeof(char *));
    out->count = n;
    qsort(out->items, n, sizeof(char *), compare_names);
    return 0;
}

/* a - b, or a & b (keep_common), both sorted. */
static int merge(const names *a, const names *b, bool keep_common, const char ***out, size_t *count)
{
    *out = calloc(a->count ? a->count : 1, sizeof(char *));
    *count = 0;
    if (!*out)
        return CT_ENOMEM;
    size_t j = 0;
    for (size_t i = 0; i < a->count; i++) {
        while (j < b->count && strcmp(b->items[j], a->items[i]) < 0)
            j++;
        bool in_b = j < b->count && strcmp(b->items[j], a->items[i]) == 0;
        if (in_b == keep_common)
            (*out)[(*count)++] = a->items[i];
    }
    return 0;
}

static void change_release(ct_review_change *c)
{
    free(c->grants_added);
    free(c->grants_removed);
    free(c->revoked);
    free(c->still_granted);
}

static bool changed(const ct_review_change *c)
{
    return c->presence != CT_PRESENCE_KEPT || c->grants_added_count || c->grants_removed_count ||
           c->revoked_count || c->still_granted_count || c->newly_dormant || c->active_again;
}

static int compare_identity(const ct_review_identity *id, previous_identity *was,
                            ct_review_change *c)
{
    if (!was) {
        c->presence = CT_PRESENCE_ADDED;
        return 0;
    }
    was->matched = true;
    c->newly_dormant = id->dormant == CT_DORMANT_YES && was->dormant != CT_DORMANT_YES;
    c->active_again = was->dormant == CT_DORMANT_YES && id->dormant == CT_DORMANT_NO;
    if (id->kind == CT_REVIEW_PERSON)
        return 0; /* a person's grants are those of the roles, compared there */
    names now = {0};
    int rc = granted_now(&id->actions, &now);
    if (rc == 0)
        rc = merge(&now, &was->granted, false, &c->grants_added, &c->grants_added_count);
    if (rc == 0)
        rc = merge(&was->granted, &now, false, &c->grants_removed, &c->grants_removed_count);
    if (rc == 0)
        rc = merge(&was->unused, &now, false, &c->revoked, &c->revoked_count);
    if (rc == 0)
        rc = merge(&was->unused, &now, true, &c->still_granted, &c->still_granted_count);
    free(now.items);
    return rc;
}

static int compare_removed(const void *pa, const void *pb)
{
    const ct_review_change *a = pa, *b = pb;
    if (a->kind != b->kind)
        return (int)a->kind - (int)b->kind;
    int c = strcmp(a->account_name, b->account_name);
    return c ? c : strcmp(a->name, b->name);
}

int ct_review_compare(const ct_review *review, const ct_review_previous *previous,
                      ct_review_changes *out, ct_error *err)
{
    memset(out, 0, sizeof(*out));
    out->previous_made_at = previous->made_at;
    out->previous_window = previous->window;
    for (size_t i = 0; i < previous->count; i++)
        previous->items[i].matched = false;
    size_t n = review->identity_count + previous->count;
    out->items = calloc(n ? n : 1, sizeof(*out->items));
    if (!out->items)
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < review->identity_count; i++) {
        const ct_review_identity *id = &review->identities[i];
        ct_review_change *c = &out->items[out->count];
        memset(c, 0, sizeof(*c));
        c->kind = id->kind;
        c->account_id = id->account ? id->account->id : "";
        c->account_name = id->account ? id->account->name : "";
        c->name = id->name;
        c->identity = i;
        char *key = identity_key(id->kind, c->account_id, id->name);
        void *v = NULL;
        if (!key) {
            rc = CT_ENOMEM;
            break;
        }
        previous_identity *was = ct_strmap_get(previous->index, key, &v)
                                     ? &previous->items[(size_t)(uintptr_t)v - 1]
                                     : NULL;
        free(key);
        rc = compare_identity(id, was, c);
        if (changed(c))
            out->count++;
        else
            change_release(c);
    }
    size_t first_removed = out->count;
    for (size_t i = 0; rc == 0 && i < previous->count; i++) {
        const previous_identity *was = &previous->items[i];
        if (was->matched)
            continue;
        ct_review_change *c = &out->items[out->count++];
        memset(c, 0, sizeof(*c));
        c->kind = was->kind;
        c->account_id = was->account_id;
        c->account_name = was->account_name;
        c->name = was->name;
        c->identity = SIZE_MAX;
        c->presence = CT_PRESENCE_REMOVED;
    }
    if (rc) {
        ct_review_changes_release(out);
        return ct_error_set(err, CT_ENOMEM, "out of memory");
    }
    qsort(out->items + first_removed, out->count - first_removed, sizeof(*out->items),
          compare_removed);
    for (size_t i = 0; i < out->count; i++) {
        const ct_review_change *c = &out->items[i];
        out->added += c->presence == CT_PRESENCE_ADDED;
        out->removed += c->presence == CT_PRESENCE_REMOVED;
        out->revoked += c->revoked_count;
        out->still_granted += c->still_granted_count;
        out->newly_dormant += c->newly_dormant;
        out->active_again += c->active_again;
    }
    return 0;
}

void ct_review_changes_release(ct_review_changes *changes)
{
    for (size_t i = 0; i < changes->count; i++)
        change_release(&changes->items[i]);
    free(changes->items);
    memset(changes, 0, sizeof(*changes));
}
