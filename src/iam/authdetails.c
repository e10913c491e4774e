/* Loader for `aws iam get-account-authorization-details` output: builds the
 * users and roles with, for each, the compiled policies that apply to it.
 * Strict on structure: a verdict computed from a misread file is worse than
 * no verdict. cJSON values never outlive ct_iam_load_buffer. */
#include "internal.h"

#include "cloudtracker/util.h"
#include "util/sha256.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The depth documented in iam.h is the one cJSON enforces. */
_Static_assert(CT_IAM_MAX_DEPTH == CJSON_NESTING_LIMIT, "CT_IAM_MAX_DEPTH is cJSON's limit");

typedef struct principal_rec {
    ct_principal pub; /* first member: a ct_principal* is a principal_rec* */
    ct_policy_set set;
} principal_rec;

struct ct_iam {
    ct_arena arena;
    char sha256[2 * CT_SHA256_LEN + 1]; /* of the document's bytes */
    const char *latest_date;            /* see ct_iam_latest_date */
    principal_rec *users;
    size_t nusers;
    principal_rec *roles;
    size_t nroles;
};

/* A managed policy from "Policies", compiled on first use. */
typedef struct managed {
    const char *arn;
    const char *name;
    const cJSON *document; /* the default version's Document */
    ct_policy *compiled;
    ct_policy *as_boundary; /* same statements, named "X (permissions boundary)" */
} managed;

/* A group from "GroupDetailList", resolved when a user first names it so
 * that groups without members cannot fail the load. */
typedef struct group {
    const char *name;
    const cJSON *obj;
    bool resolved;
    ct_policy **policies;
    size_t npolicies;
} group;

typedef struct polvec {
    ct_policy **v;
    size_t n, cap;
} polvec;

typedef struct loader {
    ct_iam *iam;
    const char *file;
    ct_error *err;
    ct_strmap *policies; /* Arn -> managed* */
    ct_strmap *groups;   /* lowercase GroupName -> group* */
    ct_strmap *names;    /* lowercase "u:name" / "r:name", duplicate check */
} loader;

static int fail(loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader *ld, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    ct_error_set_at(ld->err, CT_EIAM, ld->file, 0, 0, "%s", msg);
    return CT_EIAM; /* spelled out so static analysis sees a failure */
}

static int oom(loader *ld)
{
    ct_error_set(ld->err, CT_ENOMEM, "out of memory loading %s", ld->file);
    return CT_ENOMEM;
}

/* Reads an optional (required=false) or required string member into an
 * arena copy; *out is NULL when an optional member is absent. */
static int get_string(loader *ld, const cJSON *obj, const char *key, bool required,
                      const char **out, const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (!v) {
        if (required)
            return fail(ld, "%s: %s is missing", where, key);
        return 0;
    }
    if (!cJSON_IsString(v))
        return fail(ld, "%s: %s must be a string", where, key);
    *out = ct_arena_strdup(&ld->iam->arena, v->valuestring);
    return *out ? 0 : oom(ld);
}

/* An optional array member: *out is NULL when absent. */
static int get_array(loader *ld, const cJSON *obj, const char *key, const cJSON **out,
                     const char *where)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v && !cJSON_IsArray(v))
        return fail(ld, "%s: %s must be an array", where, key);
    *out = v;
    return 0;
}

static int polvec_add(loader *ld, polvec *pv, ct_policy *p)
{
    for (size_t i = 0; i < pv->n; i++)
        if (pv->v[i] == p)
            return 0; /* attached twice (directly and via a group): count once */
    ct_policy **v = ct_array_grow(pv->v, &pv->cap, pv->n, sizeof(*v), 8);
    if (!v)
        return oom(ld);
    pv->v = v;
    pv->v[pv->n++] = p;
    return 0;
}

/* ---- managed policies ---- */

/* Picks the default version: the one with IsDefaultVersion true, which must
 * agree with DefaultVersionId when both are present. */
static int default_version(loader *ld, const cJSON *pol, const char *where, const cJSON **doc)
{
    const char *default_id;
    int rc = get_string(ld, pol, "DefaultVersionId", false, &default_id, where);
    if (rc)
        return rc;
    const cJSON *versions;
    if ((rc = get_array(ld, pol, "PolicyVersionList", &versions, where)))
        return rc;
    const cJSON *by_flag = NULL, *by_id = NULL;
    size_t i = 0;
    for (const cJSON *v = versions ? versions->child : NULL; v; v = v->next, i++) {
        if (!cJSON_IsObject(v))
            return fail(ld, "%s: PolicyVersionList[%zu] is not an object", where, i);
        const cJSON *flag = cJSON_GetObjectItemCaseSensitive(v, "IsDefaultVersion");
        if (flag && !cJSON_IsBool(flag))
            return fail(ld, "%s: PolicyVersionList[%zu]: IsDefaultVersion must be true or false",
                        where, i);
        if (cJSON_IsTrue(flag)) {
            if (by_flag)
                return fail(ld, "%s: several versions have IsDefaultVersion true", where);
            by_flag = v;
        }
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "VersionId");
        if (id && !cJSON_IsString(id))
            return fail(ld, "%s: PolicyVersionList[%zu]: VersionId must be a string", where, i);
        if (id && default_id && strcmp(id->valuestring, default_id) == 0)
            by_id = v;
    }
    if (by_flag && by_id && by_flag != by_id)
        return fail(ld, "%s: IsDefaultVersion and DefaultVersionId (%s) name different versions",
                    where, default_id);
    const cJSON *chosen = by_flag ? by_flag : by_id;
    if (!chosen)
        return fail(ld, "%s: no version is marked default (IsDefaultVersion, DefaultVersionId)",
                    where);
    *doc = cJSON_GetObjectItemCaseSensitive(chosen, "Document");
    if (!*doc)
        return fail(ld, "%s: the default version has no Document", where);
    return 0;
}

static int load_policies(loader *ld, const cJSON *list)
{
    size_t i = 0;
    for (const cJSON *pol = list ? list->child : NULL; pol; pol = pol->next, i++) {
        char where[64];
        snprintf(where, sizeof(where), "Policies[%zu]", i);
        if (!cJSON_IsObject(pol))
            return fail(ld, "%s is not an object", where);
        managed *m = ct_arena_alloc(&ld->iam->arena, sizeof(*m));
        if (!m)
            return oom(ld);
        int rc = get_string(ld, pol, "Arn", true, &m->arn, where);
        if (rc)
            return rc;
        if ((rc = get_string(ld, pol, "PolicyName", true, &m->name, where)))
            return rc;
        char named[1024];
        snprintf(named, sizeof(named), "policy %s", m->arn);
        if ((rc = default_version(ld, pol, named, &m->document)))
            return rc;
        if (ct_strmap_get(ld->policies, m->arn, NULL))
            return fail(ld, "%s: listed twice in Policies", named);
        if (ct_strmap_put(ld->policies, m->arn, m))
            return oom(ld);
    }
    return 0;
}

/* The managed policy an AttachedManagedPolicies entry or a boundary names,
 * compiled; `owner` ("user alice") prefixes messages. */
static int resolve_managed(loader *ld, const char *arn, const char *owner, const char *role,
                           bool boundary, ct_policy **out)
{
    void *v;
    if (!ct_strmap_get(ld->policies, arn, &v))
        return fail(ld, "%s: %s %s is not in the file", owner, role, arn);
    managed *m = v;
    if (!m->compiled) {
        char context[1024];
        snprintf(context, sizeof(context), "%s: policy %s", owner, arn);
        int rc = ct_policy_compile(&m->compiled, &ld->iam->arena, m->document, m->name, context,
                                   ld->file, ld->err);
        if (rc)
            return rc;
    }
    if (!boundary) {
        *out = m->compiled;
        return 0;
    }
    if (!m->as_boundary) {
        /* Share the statements; only the reported name differs. */
        ct_policy *b = ct_arena_alloc(&ld->iam->arena, sizeof(*b));
        size_t n = strlen(m->name) + sizeof(" (permissions boundary)");
        char *name = ct_arena_alloc(&ld->iam->arena, n);
        if (!b || !name)
            return oom(ld);
        snprintf(name, n, "%s (permissions boundary)", m->name);
        *b = *m->compiled;
        b->name = name;
        m->as_boundary = b;
    }
    *out = m->as_boundary;
    return 0;
}

/* ---- inline and attached policies of a user, group or role ---- */

/* Compiles the inline policies in obj[list_key] into pv. `kind` is "user",
 * "group" or "role"; display names are "kind/NAME inline: POLICY". */
static int add_inline(loader *ld, polvec *pv, const cJSON *obj, const char *list_key,
                      const char *kind, const char *owner_name, const char *owner)
{
    const cJSON *list;
    int rc = get_array(ld, obj, list_key, &list, owner);
    if (rc)
        return rc;
    size_t i = 0;
    for (const cJSON *item = list ? list->child : NULL; item; item = item->next, i++) {
        char where[1024];
        snprintf(where, sizeof(where), "%s: %s[%zu]", owner, list_key, i);
        if (!cJSON_IsObject(item))
            return fail(ld, "%s is not an object", where);
        const char *pname;
        if ((rc = get_string(ld, item, "PolicyName", true, &pname, where)))
            return rc;
        const cJSON *doc = cJSON_GetObjectItemCaseSensitive(item, "PolicyDocument");
        char context[1024];
        snprintf(context, sizeof(context), "%s: inline policy %s", owner, pname);
        if (!doc)
            return fail(ld, "%s: PolicyDocument is missing", context);
        size_t n = strlen(kind) + strlen(owner_name) + strlen(pname) + sizeof("/ inline: ");
        char *display = malloc(n);
        if (!display)
            return oom(ld);
        snprintf(display, n, "%s/%s inline: %s", kind, owner_name, pname);
        ct_policy *p = NULL;
        rc = ct_policy_compile(&p, &ld->iam->arena, doc, display, context, ld->file, ld->err);
        free(display);
        if (rc)
            return rc;
        if ((rc = polvec_add(ld, pv, p)))
            return rc;
    }
    return 0;
}

static int add_attached(loader *ld, polvec *pv, const cJSON *obj, const char *owner)
{
    const cJSON *list;
    int rc = get_array(ld, obj, "AttachedManagedPolicies", &list, owner);
    if (rc)
        return rc;
    size_t i = 0;
    for (const cJSON *item = list ? list->child : NULL; item; item = item->next, i++) {
        char where[1024];
        snprintf(where, sizeof(where), "%s: AttachedManagedPolicies[%zu]", owner, i);
        if (!cJSON_IsObject(item))
            return fail(ld, "%s is not an object", where);
        const char *arn;
        if ((rc = get_string(ld, item, "PolicyArn", true, &arn, where)))
            return rc;
        ct_policy *p;
        if ((rc = resolve_managed(ld, arn, owner, "attached policy", false, &p)))
            return rc;
        if ((rc = polvec_add(ld, pv, p)))
            return rc;
    }
    return 0;
}

/* ---- groups ---- */

static int load_groups(loader *ld, const cJSON *list)
{
    size_t i = 0;
    for (const cJSON *obj = list ? list->child : NULL; obj; obj = obj->next, i++) {
        char where[64];
        snprintf(where, sizeof(where), "GroupDetailList[%zu]", i);
        if (!cJSON_IsObject(obj))
            return fail(ld, "%s is not an object", where);
        group *g = ct_arena_alloc(&ld->iam->arena, sizeof(*g));
        if (!g)
            return oom(ld);
        int rc = get_string(ld, obj, "GroupName", true, &g->name, where);
        if (rc)
            return rc;
        g->obj = obj;
        char *key = ct_strdup_lower(g->name);
        if (!key)
            return oom(ld);
        bool dup = ct_strmap_get(ld->groups, key, NULL);
        rc = dup ? 0 : ct_strmap_put(ld->groups, key, g);
        free(key);
        if (dup)
            return fail(ld, "group %s is listed twice", g->name);
        if (rc)
            return oom(ld);
    }
    return 0;
}

static int resolve_group(loader *ld, group *g)
{
    if (g->resolved)
        return 0;
    char owner[512];
    snprintf(owner, sizeof(owner), "group %s", g->name);
    polvec pv = {NULL, 0, 0};
    int rc = add_inline(ld, &pv, g->obj, "GroupPolicyList", "group", g->name, owner);
    if (!rc)
        rc = add_attached(ld, &pv, g->obj, owner);
    if (!rc && pv.n) {
        g->policies = ct_arena_alloc(&ld->iam->arena, pv.n * sizeof(*g->policies));
        if (!g->policies)
            rc = oom(ld);
        else
            memcpy(g->policies, pv.v, pv.n * sizeof(*g->policies));
    }
    if (!rc) {
        g->npolicies = pv.n;
        g->resolved = true;
    }
    free(pv.v);
    return rc;
}

/* ---- users and roles ---- */

static int load_boundary(loader *ld, const cJSON *obj, const char *owner, ct_policy **out)
{
    *out = NULL;
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(obj, "PermissionsBoundary");
    if (!pb || cJSON_IsNull(pb))
        return 0;
    char where[1024];
    snprintf(where, sizeof(where), "%s: PermissionsBoundary", owner);
    if (!cJSON_IsObject(pb))
        return fail(ld, "%s must be an object", where);
    const char *arn, *type;
    int rc = get_string(ld, pb, "PermissionsBoundaryArn", true, &arn, where);
    if (rc)
        return rc;
    if ((rc = get_string(ld, pb, "PermissionsBoundaryType", false, &type, where)))
        return rc;
    if (type && strcmp(type, "PermissionsBoundaryPolicy") != 0)
        return fail(ld, "%s: unknown PermissionsBoundaryType %s", where, type);
    return resolve_managed(ld, arn, owner, "permissions boundary", true, out);
}

static int load_principal(loader *ld, const cJSON *obj, ct_principal_kind kind, size_t index,
                          principal_rec *rec)
{
    bool user = kind == CT_PRINCIPAL_USER;
    const char *kind_name = user ? "user" : "role";
    char where[64];
    snprintf(where, sizeof(where), "%s[%zu]", user ? "UserDetailList" : "RoleDetailList", index);
    if (!cJSON_IsObject(obj))
        return fail(ld, "%s is not an object", where);
    rec->pub.kind = kind;
    int rc = get_string(ld, obj, user ? "UserName" : "RoleName", true, &rec->pub.name, where);
    if (rc)
        return rc;
    char owner[512];
    snprintf(owner, sizeof(owner), "%s %s", kind_name, rec->pub.name);
    if ((rc = get_string(ld, obj, "Arn", true, &rec->pub.arn, owner)))
        return rc;
    if ((rc = get_string(ld, obj, "CreateDate", false, &rec->pub.create_date, owner)))
        return rc;
    if (!rec->pub.create_date)
        rec->pub.create_date = "";

    /* IAM names are unique regardless of case, and ct_iam_find relies on it. */
    char *key = malloc(strlen(rec->pub.name) + 3);
    if (!key)
        return oom(ld);
    snprintf(key, strlen(rec->pub.name) + 3, "%c:%s", user ? 'u' : 'r', rec->pub.name);
    ct_str_lower(key);
    bool dup = ct_strmap_get(ld->names, key, NULL);
    rc = dup ? 0 : ct_strmap_put(ld->names, key, rec);
    free(key);
    if (dup)
        return fail(ld, "%s is listed twice", owner);
    if (rc)
        return oom(ld);

    polvec pv = {NULL, 0, 0};
    ct_policy *boundary = NULL;
    rc = add_inline(ld, &pv, obj, user ? "UserPolicyList" : "RolePolicyList", kind_name,
                    rec->pub.name, owner);
    if (!rc)
        rc = add_attached(ld, &pv, obj, owner);
    if (!rc && user) {
        const cJSON *groups;
        rc = get_array(ld, obj, "GroupList", &groups, owner);
        for (const cJSON *g = groups ? groups->child : NULL; !rc && g; g = g->next) {
            if (!cJSON_IsString(g)) {
                rc = fail(ld, "%s: GroupList must hold group names", owner);
                break;
            }
            char *gkey = ct_strdup_lower(g->valuestring);
            void *gv = NULL;
            bool found = gkey && ct_strmap_get(ld->groups, gkey, &gv);
            if (!gkey) {
                rc = oom(ld);
            } else if (!found) {
                rc = fail(ld, "%s: group %s is not in the file", owner, g->valuestring);
            } else {
                group *grp = gv;
                rc = resolve_group(ld, grp);
                for (size_t i = 0; !rc && i < grp->npolicies; i++)
                    rc = polvec_add(ld, &pv, grp->policies[i]);
            }
            free(gkey);
        }
    }
    if (!rc)
        rc = load_boundary(ld, obj, owner, &boundary);
    if (!rc && ct_policy_set_build(&rec->set, &ld->iam->arena, pv.v, pv.n, boundary) != 0)
        rc = oom(ld);
    free(pv.v);
    return rc;
}

static int load_principals(loader *ld, const cJSON *list, ct_principal_kind kind,
                           principal_rec **out, size_t *count)
{
    size_t n = list ? (size_t)cJSON_GetArraySize(list) : 0;
    *out = ct_arena_alloc(&ld->iam->arena, (n ? n : 1) * sizeof(principal_rec));
    if (!*out)
        return oom(ld);
    size_t i = 0;
    for (const cJSON *obj = list ? list->child : NULL; obj && i < n; obj = obj->next, i++) {
        int rc = load_principal(ld, obj, kind, i, &(*out)[i]);
        if (rc)
            return rc;
    }
    *count = i;
    return 0;
}

static int cmp_rec(const void *a, const void *b)
{
    return strcmp(((const principal_rec *)a)->pub.name, ((const principal_rec *)b)->pub.name);
}

static int load_root(loader *ld, const cJSON *root)
{
    if (!cJSON_IsObject(root))
        return fail(ld, "not an authorization-details document: the top level is not an object");
    const cJSON *truncated = cJSON_GetObjectItemCaseSensitive(root, "IsTruncated");
    if (truncated && !cJSON_IsBool(truncated))
        return fail(ld, "IsTruncated must be true or false");
    if (cJSON_IsTrue(truncated))
        return fail(ld, "file is a truncated page (IsTruncated: true): fetch all pages");

    const cJSON *users, *groups, *roles, *policies;
    int rc;
    if ((rc = get_array(ld, root, "UserDetailList", &users, "top level")) ||
        (rc = get_array(ld, root, "GroupDetailList", &groups, "top level")) ||
        (rc = get_array(ld, root, "RoleDetailList", &roles, "top level")) ||
        (rc = get_array(ld, root, "Policies", &policies, "top level")))
        return rc;
    if (!users && !groups && !roles && !policies)
        return fail(ld, "not an authorization-details document: no UserDetailList, "
                        "GroupDetailList, RoleDetailList or Policies");
    if ((rc = load_policies(ld, policies)) || (rc = load_groups(ld, groups)))
        return rc;
    if ((rc = load_principals(ld, users, CT_PRINCIPAL_USER, &ld->iam->users, &ld->iam->nusers)) ||
        (rc = load_principals(ld, roles, CT_PRINCIPAL_ROLE, &ld->iam->roles, &ld->iam->nroles)))
        return rc;
    qsort(ld->iam->users, ld->iam->nusers, sizeof(principal_rec), cmp_rec);
    qsort(ld->iam->roles, ld->iam->nroles, sizeof(principal_rec), cmp_rec);
    return 0;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parses a whole JSON input's text (NUL-terminated after len bytes) into
 * *root, or fails with CT_EIAM naming `name` (see ct_iam_read_json). */
static int parse_json(cJSON **root, const char *text, size_t len, const char *name,
                      const char *expected, ct_error *err)
{
    *root = NULL;
    size_t start = 0;
    while (start < len && is_space(text[start]))
        start++;
    if (start == len)
        return ct_error_set_at(err, CT_EIAM, name, 0, 0, "file is empty: expected %s", expected);
    /* A NUL would end the text early for cJSON. */
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line, col;
        ct_text_position(text, len, (size_t)(nul - text), &line, &col);
        return ct_error_set_at(err, CT_EIAM, name, line, col, "NUL byte in JSON text");
    }
    const char *end = NULL;
    cJSON *parsed = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    size_t offset = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
    if (parsed) {
        while (offset < len && is_space(text[offset]))
            offset++;
    }
    if (!parsed || offset < len) {
        int line, col;
        ct_text_position(text, len, offset, &line, &col);
        cJSON_Delete(parsed);
        if (!parsed && ct_json_too_deep(text, len, offset))
            return ct_error_set_at(err, CT_EIAM, name, line, col,
                                   "lists and objects nested deeper than %d levels (the limit "
                                   "for JSON input)",
                                   CT_IAM_MAX_DEPTH);
        return ct_error_set_at(err, CT_EIAM, name, line, col, "%s",
                               parsed ? "unexpected text after the JSON document"
                                      : "JSON syntax error");
    }
    *root = parsed;
    return 0;
}

int ct_iam_read_json(cJSON **root, const char *path, const char *json, size_t len, const char *name,
                     const char *what, const char *expected, char *sha256_hex, ct_error *err)
{
    *root = NULL;
    char *text;
    int rc = 0;
    if (path) {
        rc = ct_file_read_regular(&text, &len, path, CT_IAM_MAX_BYTES, CT_EIAM, what, err);
        name = path;
    } else if (!(text = ct_strndup(json, len))) {
        rc = ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name ? name : "a document");
    }
    if (rc)
        return rc;
    if (sha256_hex) {
        uint8_t digest[CT_SHA256_LEN];
        ct_sha256_digest(text, len, digest);
        ct_hex_lower(digest, sizeof(digest), sha256_hex);
    }
    /* cJSON reads C strings: the text is NUL-terminated after its len
     * bytes, so no parser path can read past them. */
    rc = parse_json(root, text, len, name, expected, err);
    free(text);
    return rc;
}

/* The latest date the document states: the greatest CreateDate or
 * UpdateDate value (and RoleLastUsed's LastUsedDate) anywhere in it, by
 * the date and time they write (ISO 8601, compared as text from the left,
 * which orders them while they share one form, as the AWS CLI writes
 * them). The file has no time of its own: this bounds it from below. */
static const char *latest_date(const cJSON *node, const char *best)
{
    for (const cJSON *c = node ? node->child : NULL; c; c = c->next) {
        if (cJSON_IsString(c) && c->string &&
            (strcmp(c->string, "CreateDate") == 0 || strcmp(c->string, "UpdateDate") == 0 ||
             strcmp(c->string, "LastUsedDate") == 0) &&
            (!best || strcmp(c->valuestring, best) > 0))
            best = c->valuestring;
        else if (cJSON_IsObject(c) || cJSON_IsArray(c))
            best = latest_date(c, best);
    }
    return best;
}

#define AUTH_DETAILS "the output of `aws iam get-account-authorization-details`"

/* Builds the account from its parsed document (freed here). */
static int load_json(ct_iam **out, cJSON *root, const char *name, const char *sha256_hex,
                     ct_error *err)
{
    *out = NULL;
    int rc = 0;
    ct_iam *iam = calloc(1, sizeof(*iam));
    if (!iam) {
        cJSON_Delete(root);
        return ct_error_set(err, CT_ENOMEM, "out of memory loading %s", name);
    }
    loader ld = {iam, name, err, ct_strmap_new(), ct_strmap_new(), ct_strmap_new()};
    if (!ld.policies || !ld.groups || !ld.names) {
        rc = oom(&ld);
        goto done;
    }
    snprintf(iam->sha256, sizeof(iam->sha256), "%s", sha256_hex);
    rc = load_root(&ld, root);
    const char *latest = rc == 0 ? latest_date(root, NULL) : NULL;
    if (latest && !(iam->latest_date = ct_arena_strdup(&iam->arena, latest)))
        rc = oom(&ld);
done:
    cJSON_Delete(root);
    ct_strmap_free(ld.policies);
    ct_strmap_free(ld.groups);
    ct_strmap_free(ld.names);
    if (rc) {
        ct_iam_free(iam);
        return rc;
    }
    *out = iam;
    return 0;
}

int ct_iam_load_buffer(ct_iam **out, const char *json, size_t len, const char *name, ct_error *err)
{
    *out = NULL;
    if (!name)
        name = "<authorization details>";
    cJSON *root;
    char digest[2 * CT_SHA256_LEN + 1];
    int rc = ct_iam_read_json(&root, NULL, json, len, name, NULL, AUTH_DETAILS, digest, err);
    return rc ? rc : load_json(out, root, name, digest, err);
}

int ct_iam_load_file(ct_iam **out, const char *path, ct_error *err)
{
    *out = NULL;
    cJSON *root;
    char digest[2 * CT_SHA256_LEN + 1];
    int rc = ct_iam_read_json(&root, path, NULL, 0, NULL, "IAM authorization details", AUTH_DETAILS,
                              digest, err);
    return rc ? rc : load_json(out, root, path, digest, err);
}

void ct_iam_free(ct_iam *iam)
{
    if (!iam)
        return;
    ct_arena_release(&iam->arena);
    free(iam);
}

size_t ct_iam_count(const ct_iam *iam, ct_principal_kind kind)
{
    if (!iam)
        return 0;
    return kind == CT_PRINCIPAL_USER ? iam->nusers : kind == CT_PRINCIPAL_ROLE ? iam->nroles : 0;
}

static const principal_rec *list_of(const ct_iam *iam, ct_principal_kind kind, size_t *n)
{
    *n = ct_iam_count(iam, kind);
    if (!*n)
        return NULL;
    return kind == CT_PRINCIPAL_USER ? iam->users : iam->roles;
}

const ct_principal *ct_iam_get(const ct_iam *iam, ct_principal_kind kind, size_t i)
{
    size_t n;
    const principal_rec *list = list_of(iam, kind, &n);
    return i < n ? &list[i].pub : NULL;
}

const ct_principal *ct_iam_find(const ct_iam *iam, ct_principal_kind kind, const char *name)
{
    size_t n;
    const principal_rec *list = list_of(iam, kind, &n);
    if (!list || !name)
        return NULL;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, list[mid].pub.name);
        if (c == 0)
            return &list[mid].pub;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    for (size_t i = 0; i < n; i++)
        if (ct_strcasecmp(name, list[i].pub.name) == 0)
            return &list[i].pub;
    return NULL;
}

const ct_policy_set *ct_iam_policies(const ct_iam *iam, const ct_principal *p)
{
    (void)iam;
    if (!p)
        return NULL;
    return &((const principal_rec *)p)->set;
}

const char *ct_iam_sha256(const ct_iam *iam)
{
    return iam->sha256;
}

const char *ct_iam_latest_date(const ct_iam *iam)
{
    return iam->latest_date ? iam->latest_date : "";
}
